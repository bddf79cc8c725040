/*
 * The daemon: jobs, the loop, schedules and the control commands.  See
 * daemon.h for the picture and promptd(8) for what users see.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "conf.h"
#include "control.h"
#include "cron.h"
#include "daemon.h"
#include "engine.h"
#include "fiber.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "query.h"
#include "store.h"
#include "strategy.h"
#include "util.h"
#include "xmalloc.h"

/* Longest wait for the loop, so that schedules and watchers move on. */
#define DAEMON_TURN_MS		100
/* Each job's fiber stack (mapped lazily, with a guard page). */
#define DAEMON_STACK		(1024 * 1024)
/* Seconds between progress events on a watch stream. */
#define DAEMON_PROGRESS		1.0
/* Queued output above which a watch stream waits for its reader. */
#define DAEMON_WATCH_BACKLOG	(256 * 1024)
/* Events read from the store per watcher and pass. */
#define DAEMON_WATCH_BATCH	100
/* Events a watch stream starts with. */
#define DAEMON_WATCH_RECENT	20

static const char	JOB_QUEUED[] = "queued";
static const char	JOB_RUNNING[] = "running";
static const char	JOB_PAUSED[] = "paused";
static const char	JOB_FAILED[] = "failed";
static const char	JOB_CANCELLED[] = "cancelled";

/* A configuration shared by the runs that started under it. */
struct dconf {
	struct conf	*conf;
	int		 refs;
};

struct djob {
	struct daemon	*d;
	char		*name;
	int64_t		 id;		/* jobs row */
	char		*file;		/* absolute */
	const char	*state;
	char		*reason;

	char		*schedule;	/* cron expression, or NULL */
	struct cron	 cron;
	time_t		 next_fire;	/* (time_t)-1: never */

	/* The run under way: job, conf and fiber exist together. */
	struct dconf	*conf;
	struct job	*job;
	struct jobrun	 jr;
	const char	*kind;
	struct fiber	*fiber;
	int		 done;		/* the fiber has returned */
	int		 cancel;	/* unwind and close as cancelled */
	int		 stop;		/* unwind and leave it running */
	char		*cause;		/* why the run failed */
	double		 started;
};

struct watch {
	struct control_client	*client;
	long long		 id;
	struct djob		*dj;
	int64_t			 cursor;	/* last event sent */
	int			 step;
	double			 progress_at;
	struct watch		*next;
};

/* A feedback stream: pending duels of a job, one at a time. */
struct feedback {
	struct control_client	*client;
	long long		 id;
	struct djob		*dj;
	int64_t			 shown;		/* duel awaiting an answer */
	int			 answered;	/* answers on this stream */
	struct feedback		*next;
};

struct daemon {
	struct dconf		*conf;
	char			*conf_path;
	int			 foreground;
	struct store		*store;
	struct control		*ctl;
	struct engine_loop	*loop;
	struct djob		**jobs;
	size_t			 njobs;
	struct watch		*watches;
	struct feedback		*feedbacks;
	double			 started;
	long long		 offset;	/* PROMPTD_TIME_OFFSET */
	int			 stopping;
	int			 sigfd[2];
};

/* The self-pipe: signal handlers only write the signal's number. */
static int	daemon_sigwrite = -1;

static void
daemon_sighandler(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	if (daemon_sigwrite != -1)
		(void)write(daemon_sigwrite, &c, 1);
	errno = saved;
}

static struct dconf *
dconf_new(struct conf *conf)
{
	struct dconf	*dc;

	dc = xcalloc(1, sizeof *dc);
	dc->conf = conf;
	dc->refs = 1;
	return dc;
}

static struct dconf *
dconf_ref(struct dconf *dc)
{
	dc->refs++;
	return dc;
}

static void
dconf_unref(struct dconf *dc)
{
	if (dc == NULL || --dc->refs > 0)
		return;
	conf_free(dc->conf);
	free(dc);
}

/* The scheduler's clock: PROMPTD_TIME_OFFSET moves it, for tests. */
static time_t
daemon_now(const struct daemon *d)
{
	return time(NULL) + (time_t)d->offset;
}

static int
djob_live(const struct djob *dj)
{
	return dj->state == JOB_QUEUED || dj->state == JOB_RUNNING ||
	    dj->state == JOB_PAUSED;
}

/* Maps a state string from the store or a jobrun to our constant. */
static const char *
djob_state(const char *s)
{
	static const char *const states[] = {
		JOB_QUEUED, JOB_RUNNING, JOB_PAUSED, "exhausted", "done",
		JOB_FAILED, JOB_CANCELLED, NULL
	};
	size_t	i;

	for (i = 0; s != NULL && states[i] != NULL; i++)
		if (strcmp(states[i], s) == 0)
			return states[i];
	return JOB_FAILED;
}

static void
djob_set_reason(struct djob *dj, const char *reason)
{
	free(dj->reason);
	dj->reason = reason != NULL ? xstrdup(reason) : NULL;
}

static struct djob *
daemon_find(struct daemon *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->njobs; i++)
		if (strcmp(d->jobs[i]->name, name) == 0)
			return d->jobs[i];
	return NULL;
}

static struct djob *
daemon_add(struct daemon *d, const char *name, int64_t id)
{
	struct djob	*dj;

	dj = xcalloc(1, sizeof *dj);
	dj->d = d;
	dj->name = xstrdup(name);
	dj->id = id;
	dj->state = JOB_QUEUED;
	dj->next_fire = (time_t)-1;
	d->jobs = xreallocarray(d->jobs, d->njobs + 1, sizeof *d->jobs);
	d->jobs[d->njobs++] = dj;
	return dj;
}

/* Takes the job's schedule (NULL for none) and plans its next firing. */
static void
djob_set_schedule(struct djob *dj, const char *expr, const struct cron *cron)
{
	if (expr != NULL && dj->schedule != NULL &&
	    strcmp(expr, dj->schedule) == 0)
		return;
	free(dj->schedule);
	dj->schedule = NULL;
	dj->next_fire = (time_t)-1;
	if (expr == NULL)
		return;
	dj->schedule = xstrdup(expr);
	dj->cron = *cron;
	dj->next_fire = cron_next(&dj->cron, daemon_now(dj->d));
}

/* Closes the runs a job left open (it will not resume them). */
static void
djob_close_runs(struct djob *dj, const char *status)
{
	static const char *const kinds[] = { "optimize", "refresh" };
	struct store	*store = dj->d->store;
	char		*state;
	size_t		 i;
	int64_t		 run;
	int		 step;

	for (i = 0; i < nitems(kinds); i++) {
		state = NULL;
		while ((run = store_run_open(store, dj->id, kinds[i], &step,
		    &state, NULL)) > 0) {
			free(state);
			state = NULL;
			if (store_run_finish(store, run, status, NULL,
			    NULL) != 0)
				break;
		}
	}
}

/* Ends a job that cannot run: failed or cancelled, in memory and store. */
static void
djob_end(struct djob *dj, const char *state, const char *reason)
{
	char	*cause = NULL;

	dj->state = state;
	djob_set_reason(dj, reason);
	djob_close_runs(dj, state);
	if (store_job_set_state(dj->d->store, dj->id, state, reason,
	    &cause) != 0) {
		log_warnx("job '%s': %s", dj->name, cause);
		free(cause);
	}
	if (reason != NULL)
		log_info("job '%s': %s: %s", dj->name, state, reason);
	else
		log_info("job '%s': %s", dj->name, state);
}

/*
 * The fiber of a run: steps until the search is over, then finishes
 * (promotion, export).  A cancelled run is closed as such; a run stopped
 * for a shutdown is left as it is, to be resumed from its checkpoint.
 * The function always returns, so that the fiber can be freed.
 */
static void
djob_main(void *arg)
{
	struct djob	*dj = arg;
	char		*cause = NULL;
	int		 rc;

	while ((rc = jobrun_step(&dj->jr, &cause)) == 1 && !dj->cancel &&
	    !dj->stop) {
		/* Let the loop answer requests between steps. */
		fiber_yield();
		if (dj->cancel || dj->stop)
			break;
	}
	if (rc == 0 && !dj->cancel && !dj->stop)
		rc = jobrun_finish(&dj->jr, &cause);
	/* A run stopped for a shutdown is left open, as it is. */
	if (dj->cancel && !dj->stop)
		jobrun_abort(&dj->jr, JOB_CANCELLED, "cancelled by request");
	else if (rc < 0 && !dj->stop) {
		jobrun_abort(&dj->jr, JOB_FAILED, cause != NULL ? cause :
		    "unknown error");
		dj->cause = xstrdup(dj->jr.reason);
	}
	free(cause);
}

/*
 * Starts a run of kind for dj: job is the loaded job file (taken over),
 * or NULL to load dj->file with the current configuration.
 */
static int
djob_start(struct djob *dj, struct job *job, const char *kind, char **cause)
{
	struct daemon	*d = dj->d;

	if (job == NULL && (job = job_load(dj->file, d->conf->conf,
	    cause)) == NULL)
		return -1;
	if (strcmp(job->name, dj->name) != 0) {
		cause_set(cause, "job file '%s' now names job '%s'", dj->file,
		    job->name);
		goto fail;
	}
	if (job->strategy == NULL) {
		cause_set(cause, "job '%s' has no strategy", job->name);
		goto fail;
	}
	if (jobrun_start(&dj->jr, job, d->loop, kind, cause) != 0) {
		if (dj->jr.run_id > 0)
			jobrun_abort(&dj->jr, JOB_FAILED, *cause);
		jobrun_release(&dj->jr);
		goto fail;
	}
	dj->id = dj->jr.job_id;
	/* A job waits for a backend that is down, and goes on after. */
	engine_wait_down(dj->jr.engine, 1);
	if (store_job_set_file(d->store, dj->id, dj->file, cause) != 0) {
		jobrun_abort(&dj->jr, JOB_FAILED, *cause);
		jobrun_release(&dj->jr);
		goto fail;
	}
	djob_set_schedule(dj, job->schedule, &job->cron);
	dj->job = job;
	dj->conf = dconf_ref(d->conf);
	dj->kind = kind;
	dj->done = dj->cancel = dj->stop = 0;
	dj->started = time_now();
	dj->state = JOB_RUNNING;
	djob_set_reason(dj, NULL);
	dj->fiber = fiber_new(djob_main, dj, DAEMON_STACK);
	log_info("job '%s': %s run %lld %s", dj->name, kind,
	    (long long)dj->jr.run_id, dj->jr.resumed ? "resumed" : "started");
	return 0;
fail:
	job_free(job);
	return -1;
}

/* After the fiber has returned: the run's outcome, and the cleanup. */
static void
djob_reap(struct djob *dj)
{
	fiber_free(dj->fiber);
	dj->fiber = NULL;
	if (!dj->stop) {
		dj->state = djob_state(dj->jr.status);
		if (dj->cause != NULL)
			djob_set_reason(dj, dj->cause);
		else if (dj->cancel)
			djob_set_reason(dj, "cancelled by request");
		else
			djob_set_reason(dj, dj->jr.reason);
		log_info("job '%s': %s run %lld %s%s%s", dj->name, dj->kind,
		    (long long)dj->jr.run_id, dj->state, dj->reason != NULL ?
		    ": " : "", dj->reason != NULL ? dj->reason : "");
	}
	free(dj->cause);
	dj->cause = NULL;
	jobrun_release(&dj->jr);
	memset(&dj->jr, 0, sizeof dj->jr);
	job_free(dj->job);
	dj->job = NULL;
	dconf_unref(dj->conf);
	dj->conf = NULL;
	dj->kind = NULL;
}

/* Whether the loop should resume dj's fiber now. */
static int
djob_runnable(const struct djob *dj)
{
	if (dj->fiber == NULL || dj->done)
		return 0;
	if (dj->cancel || dj->stop)
		return 1;
	if (dj->state == JOB_PAUSED)
		return 0;
	return !engine_busy(dj->jr.engine) ||
	    engine_failed(dj->jr.engine, NULL);
}

static void
djob_resume(struct djob *dj)
{
	if (fiber_resume(dj->fiber))
		dj->done = 1;
}

/* Runs a fiber that was told to unwind until it has returned. */
static void
djob_unwind(struct djob *dj, const char *why)
{
	int	i;

	engine_cancel(dj->jr.engine, why);
	for (i = 0; i < 1000 && !dj->done; i++)
		djob_resume(dj);
	if (!dj->done)
		fatalx("job '%s': the run does not unwind", dj->name);
	djob_reap(dj);
}

/* Sets o's key to v, replacing what was there. */
static void
json_set(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
}

/* Estimated seconds left from the share of the budget used, or -1. */
static double
djob_eta(const struct djob *dj)
{
	const struct budget	*b = &dj->job->budget;
	struct run_totals	 t;
	double			 f = 0, elapsed;

	engine_totals(dj->jr.engine, &t);
	elapsed = time_now() - dj->started;
	if (b->max_calls > 0)
		f = fmax(f, (double)t.calls / (double)b->max_calls);
	if (b->max_tokens > 0)
		f = fmax(f, (double)t.tokens / (double)b->max_tokens);
	if (b->max_dollars > 0)
		f = fmax(f, t.dollars / b->max_dollars);
	if (b->deadline > 0)
		f = fmax(f, elapsed / b->deadline);
	if (f < 0.001 || f >= 1)
		return -1;
	return elapsed * (1 - f) / f;
}

/*
 * What a running job waits for, if it only waits (the caller's): its
 * backend, down, spending nothing; or the provider's batches, for hours
 * perhaps.  NULL otherwise.
 */
static char *
djob_waiting(const struct djob *dj)
{
	const struct backend	*down;

	if (dj->fiber == NULL || dj->state != JOB_RUNNING)
		return NULL;
	if ((down = engine_waiting(dj->jr.engine)) != NULL)
		return xasprintf("backend '%s' down for %.0f s: %s", down->name,
		    time_now() - down->health.down_since, down->health.cause !=
		    NULL ? down->health.cause : "?");
	return engine_batch_waiting(dj->jr.engine);
}

/* What the daemon knows live about a job, added to (or replacing in) o. */
static void
djob_overlay(const struct djob *dj, cJSON *o)
{
	struct run_totals	 t;
	struct cand		*best;
	char			*why;
	double			 eta;

	if (cJSON_GetObjectItemCaseSensitive(o, "name") == NULL)
		cJSON_AddStringToObject(o, "name", dj->name);
	json_set(o, "state", cJSON_CreateString(dj->state));
	json_set(o, "reason", dj->reason != NULL ?
	    cJSON_CreateString(dj->reason) : cJSON_CreateNull());
	if ((why = djob_waiting(dj)) != NULL) {
		json_set(o, "state", cJSON_CreateString("waiting"));
		json_set(o, "reason", cJSON_CreateString(why));
		free(why);
	}
	if (dj->file != NULL)
		json_set(o, "file", cJSON_CreateString(dj->file));
	if (dj->schedule != NULL) {
		json_set(o, "schedule", cJSON_CreateString(dj->schedule));
		if (dj->next_fire != (time_t)-1)
			json_set(o, "next_refresh",
			    cJSON_CreateNumber((double)dj->next_fire));
	}
	if (dj->fiber == NULL)
		return;
	engine_totals(dj->jr.engine, &t);
	best = search_best(&dj->jr.search);
	json_set(o, "run", cJSON_CreateNumber((double)dj->jr.run_id));
	json_set(o, "kind", cJSON_CreateString(dj->kind));
	json_set(o, "started", cJSON_CreateNumber(dj->started));
	json_set(o, "step", cJSON_CreateNumber(dj->jr.search.step));
	json_set(o, "best", best != NULL ? cJSON_CreateNumber(best->mean) :
	    cJSON_CreateNull());
	json_set(o, "calls", cJSON_CreateNumber((double)t.calls));
	json_set(o, "hits", cJSON_CreateNumber((double)t.hits));
	json_set(o, "tokens", cJSON_CreateNumber((double)t.tokens));
	json_set(o, "cached_tokens", cJSON_CreateNumber((double)t.cached));
	json_set(o, "dollars", cJSON_CreateNumber(t.dollars));
	json_set(o, "candidates", cJSON_CreateNumber(
	    (double)dj->jr.search.ncands));
	if (dj->jr.search.ops != NULL)
		json_set(o, "strategy", cJSON_CreateString(
		    dj->jr.search.ops->name));
	eta = djob_eta(dj);
	json_set(o, "eta", eta >= 0 ? cJSON_CreateNumber(eta) :
	    cJSON_CreateNull());
}

/*
 * One job's status: the store's answer (query_run) with what is live laid
 * over it.  Returns NULL with *code and *cause on failure.
 */
static cJSON *
daemon_job_status(struct daemon *d, struct djob *dj, const char *name,
    const char **code, char **cause)
{
	cJSON		*args, *res = NULL;
	int		 rc;

	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", name);
	rc = query_run(d->store, "status", args, &res, code, cause);
	cJSON_Delete(args);
	if (rc != 0) {
		cJSON_Delete(res);
		res = NULL;
		if (dj == NULL) {
			if (rc == 1 || strcmp(*code, "unavailable") == 0) {
				*code = "not_found";
				cause_set(cause, "no job '%s'", name);
			}
			return NULL;
		}
		/* The daemon knows the job: what it knows will do. */
		free(*cause);
		*cause = NULL;
		res = cJSON_CreateObject();
	}
	if (dj != NULL)
		djob_overlay(dj, res);
	return res;
}

/* The request's "job" argument, or an error reply and NULL. */
static const char *
daemon_arg_job(struct control_client *c, long long id, const cJSON *args)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(args, "job");
	if (!cJSON_IsString(v) || *v->valuestring == '\0') {
		control_error(c, id, "usage", "missing argument \"job\" (a job "
		    "name)");
		return NULL;
	}
	return v->valuestring;
}

/* A job the daemon manages, or an error reply and NULL. */
static struct djob *
daemon_arg_djob(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	const char	*name;

	if ((name = daemon_arg_job(c, id, args)) == NULL)
		return NULL;
	if ((dj = daemon_find(d, name)) == NULL)
		control_error(c, id, "not_found", "no job '%s' in this daemon "
		    "(submit it first)", name);
	return dj;
}

static cJSON *
djob_state_result(const struct djob *dj)
{
	cJSON	*r;

	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "job", dj->name);
	cJSON_AddStringToObject(r, "state", dj->state);
	return r;
}

static void
cmd_submit(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	struct job	*job;
	const cJSON	*v;
	cJSON		*r;
	char		*cause = NULL;

	v = cJSON_GetObjectItemCaseSensitive(args, "file");
	if (!cJSON_IsString(v) || *v->valuestring != '/') {
		control_error(c, id, "usage", "missing argument \"file\" (the "
		    "job file's absolute path)");
		return;
	}
	if ((job = job_load(v->valuestring, d->conf->conf, &cause)) == NULL) {
		control_error(c, id, "invalid", "%s", cause);
		free(cause);
		return;
	}
	if (job->strategy == NULL) {
		control_error(c, id, "invalid", "%s: job '%s' has no "
		    "strategy", v->valuestring, job->name);
		job_free(job);
		return;
	}
	if ((dj = daemon_find(d, job->name)) != NULL && djob_live(dj)) {
		control_error(c, id, "state", "job '%s' is %s already",
		    dj->name, dj->state);
		job_free(job);
		return;
	}
	if (dj == NULL)
		dj = daemon_add(d, job->name, 0);
	free(dj->file);
	dj->file = xstrdup(v->valuestring);
	if (djob_start(dj, job, "optimize", &cause) != 0) {
		dj->state = JOB_FAILED;
		djob_set_reason(dj, cause);
		control_error(c, id, "internal", "%s", cause);
		free(cause);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "job", dj->name);
	cJSON_AddNumberToObject(r, "id", (double)dj->id);
	cJSON_AddNumberToObject(r, "run", (double)dj->jr.run_id);
	cJSON_AddStringToObject(r, "state", dj->state);
	control_reply(c, id, r);
}

static void
cmd_list(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	const char	*code = NULL;
	const cJSON	*name;
	cJSON		*res = NULL, *jobs, *e, *entry;
	char		*cause = NULL;
	size_t		 i;
	int		 rc, *seen;

	rc = query_run(d->store, "list", args, &res, &code, &cause);
	if (rc < 0 && strcmp(code, "unavailable") != 0) {
		control_error(c, id, code, "%s", cause);
		free(cause);
		return;
	}
	free(cause);
	if (rc != 0) {
		cJSON_Delete(res);
		res = cJSON_CreateObject();
	}
	if (!cJSON_IsArray(jobs = cJSON_GetObjectItemCaseSensitive(res,
	    "jobs")))
		jobs = cJSON_AddArrayToObject(res, "jobs");
	seen = xcalloc(d->njobs + 1, sizeof *seen);
	cJSON_ArrayForEach(e, jobs) {
		name = cJSON_GetObjectItemCaseSensitive(e, "name");
		if (!cJSON_IsString(name))
			continue;
		for (i = 0; i < d->njobs; i++) {
			if (strcmp(d->jobs[i]->name, name->valuestring) == 0) {
				djob_overlay(d->jobs[i], e);
				seen[i] = 1;
				break;
			}
		}
	}
	for (i = 0; i < d->njobs; i++) {
		if (seen[i])
			continue;
		entry = cJSON_CreateObject();
		djob_overlay(d->jobs[i], entry);
		cJSON_AddItemToArray(jobs, entry);
	}
	free(seen);
	control_reply(c, id, res);
}

static void
cmd_status(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	const cJSON	*v;
	const char	*code = NULL;
	cJSON		*r, *counts, *n;
	char		*cause = NULL;
	size_t		 i;

	v = cJSON_GetObjectItemCaseSensitive(args, "job");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v)) {
			control_error(c, id, "usage", "\"job\" must be a job "
			    "name");
			return;
		}
		r = daemon_job_status(d, daemon_find(d, v->valuestring),
		    v->valuestring, &code, &cause);
		if (r == NULL) {
			control_error(c, id, code, "%s", cause);
			free(cause);
		} else
			control_reply(c, id, r);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "pid", (double)getpid());
	cJSON_AddStringToObject(r, "version", PROMPTD_VERSION);
	cJSON_AddNumberToObject(r, "uptime", time_mono() - d->started);
	cJSON_AddStringToObject(r, "socket", control_path(d->ctl));
	cJSON_AddStringToObject(r, "database", store_path(d->store));
	if (d->conf->conf->path != NULL)
		cJSON_AddStringToObject(r, "config", d->conf->conf->path);
	counts = cJSON_AddObjectToObject(r, "jobs");
	for (i = 0; i < d->njobs; i++) {
		n = cJSON_GetObjectItemCaseSensitive(counts,
		    d->jobs[i]->state);
		if (n != NULL)
			cJSON_SetNumberValue(n, n->valuedouble + 1);
		else
			cJSON_AddNumberToObject(counts, d->jobs[i]->state, 1);
	}
	control_reply(c, id, r);
}

static void
cmd_pause(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	char		*cause = NULL;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	if (dj->state != JOB_RUNNING) {
		control_error(c, id, "state", "job '%s' is %s, not running",
		    dj->name, dj->state);
		return;
	}
	/* Its fiber is no longer resumed; calls under way still finish. */
	dj->state = JOB_PAUSED;
	if (store_job_set_state(d->store, dj->id, JOB_PAUSED, NULL,
	    &cause) != 0) {
		log_warnx("job '%s': %s", dj->name, cause);
		free(cause);
	}
	log_info("job '%s': paused", dj->name);
	control_reply(c, id, djob_state_result(dj));
}

/* The kind of run a job left open, to resume it. */
static const char *
djob_open_kind(struct djob *dj)
{
	char	*state = NULL;
	int	 step;

	if (store_run_open(dj->d->store, dj->id, "refresh", &step, &state,
	    NULL) > 0) {
		free(state);
		return "refresh";
	}
	free(state);
	return "optimize";
}

static void
cmd_resume(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	char		*cause = NULL;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	if (dj->state != JOB_PAUSED) {
		control_error(c, id, "state", "job '%s' is %s, not paused",
		    dj->name, dj->state);
		return;
	}
	if (dj->fiber == NULL) {
		/* Paused before a restart: start it from its checkpoint. */
		if (djob_start(dj, NULL, djob_open_kind(dj), &cause) != 0) {
			djob_end(dj, JOB_FAILED, cause);
			control_error(c, id, "internal", "job '%s': %s",
			    dj->name, cause);
			free(cause);
			return;
		}
	} else {
		dj->state = JOB_RUNNING;
		if (store_job_set_state(d->store, dj->id, JOB_RUNNING, NULL,
		    &cause) != 0) {
			log_warnx("job '%s': %s", dj->name, cause);
			free(cause);
		}
	}
	log_info("job '%s': resumed", dj->name);
	control_reply(c, id, djob_state_result(dj));
}

static void
cmd_cancel(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	if (!djob_live(dj)) {
		control_error(c, id, "state", "job '%s' is %s already",
		    dj->name, dj->state);
		return;
	}
	if (dj->fiber != NULL) {
		/* The strategy's wait returns, the run is closed as
		 * cancelled, the fiber ends. */
		dj->cancel = 1;
		djob_unwind(dj, "cancelled by request");
	} else
		djob_end(dj, JOB_CANCELLED, "cancelled by request");
	control_reply(c, id, djob_state_result(dj));
}

/* Starts a refresh run of a job that has none under way. */
static int
djob_refresh(struct djob *dj, const char *why, char **cause)
{
	if (dj->file == NULL)
		return cause_set(cause, "job '%s' has no job file on record",
		    dj->name);
	if (djob_start(dj, NULL, "refresh", cause) != 0)
		return -1;
	log_info("job '%s': refresh (%s)", dj->name, why);
	return 0;
}

static void
cmd_refresh(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	cJSON		*r;
	char		*cause = NULL;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	if (djob_live(dj)) {
		control_error(c, id, "state", "job '%s' is %s: a run is under "
		    "way", dj->name, dj->state);
		return;
	}
	if (djob_refresh(dj, "requested", &cause) != 0) {
		control_error(c, id, "internal", "job '%s': %s", dj->name,
		    cause);
		free(cause);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "job", dj->name);
	cJSON_AddNumberToObject(r, "run", (double)dj->jr.run_id);
	cJSON_AddStringToObject(r, "state", dj->state);
	control_reply(c, id, r);
}

static void
cmd_watch(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct watch		*w;
	struct djob		*dj;
	struct event_row	*rows;
	cJSON			*r;
	size_t			 n;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stream", 1);
	control_reply(c, id, r);
	w = xcalloc(1, sizeof *w);
	w->client = c;
	w->id = id;
	w->dj = dj;
	w->step = -1;
	/* A job that is over ends at once; others start with their last
	 * few events. */
	w->cursor = INT64_MAX;
	if (djob_live(dj) && store_events(d->store, dj->id, -1,
	    DAEMON_WATCH_RECENT, &rows, &n, NULL) == 0) {
		w->cursor = n > 0 ? rows[0].id - 1 : 0;
		store_event_rows_free(rows, n);
	}
	w->next = d->watches;
	d->watches = w;
}

/*
 * Feedback streams.  A client asks for a job's pending duels with
 * feedback; each is sent as an event, and the next only once this
 * client has answered it (answer) or it was answered by someone else and
 * this client answered too (an error then), so the client never has two
 * duels on its screen.  quit, the job leaving the live states or the
 * connection closing ends the stream.
 */
static cJSON *
feedback_end_result(struct feedback *f)
{
	cJSON	*r;

	r = djob_state_result(f->dj);
	cJSON_AddNumberToObject(r, "answered", f->answered);
	return r;
}

static void
cmd_feedback(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct feedback		*f;
	struct djob		*dj;
	const struct search	*s;
	cJSON			*r;

	if ((dj = daemon_arg_djob(d, c, id, args)) == NULL)
		return;
	s = &dj->jr.search;
	if (dj->fiber != NULL && s->ops != NULL && s->params != NULL &&
	    (strcmp(s->ops->name, "duel") != 0 ||
	    strcmp(search_string(s, "feedback"), "human") != 0)) {
		control_error(c, id, "state", "job '%s' asks for no feedback "
		    "(its strategy is %s%s)", dj->name, s->ops->name,
		    strcmp(s->ops->name, "duel") == 0 ? " with feedback "
		    "from another source" : "");
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stream", 1);
	control_reply(c, id, r);
	f = xcalloc(1, sizeof *f);
	f->client = c;
	f->id = id;
	f->dj = dj;
	f->next = d->feedbacks;
	d->feedbacks = f;
}

/* The user name of a uid (allocated), or the number. */
static char *
daemon_user(uid_t uid)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL && pw->pw_name != NULL)
		return xstrdup(pw->pw_name);
	return xasprintf("%ld", (long)uid);
}

static void
cmd_answer(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	static const char *const choices[] = {
		"first", "second", "tie", "skip", NULL
	};
	struct comparison_row	 row;
	struct feedback		*f;
	const cJSON		*dv, *wv;
	const char		*winner;
	cJSON			*r;
	char			*cause = NULL, *who = NULL;
	int64_t			 duel;
	size_t			 i;
	int			 rc;

	dv = cJSON_GetObjectItemCaseSensitive(args, "duel");
	wv = cJSON_GetObjectItemCaseSensitive(args, "winner");
	if (!cJSON_IsNumber(dv) || !(dv->valuedouble >= 1 &&
	    dv->valuedouble <= 9007199254740991.0) ||
	    dv->valuedouble != (double)(int64_t)dv->valuedouble) {
		control_error(c, id, "usage", "missing argument \"duel\" (a "
		    "duel id from a feedback event)");
		return;
	}
	duel = (int64_t)dv->valuedouble;
	for (i = 0; cJSON_IsString(wv) && choices[i] != NULL; i++)
		if (strcmp(wv->valuestring, choices[i]) == 0)
			break;
	if (!cJSON_IsString(wv) || choices[i] == NULL) {
		control_error(c, id, "usage", "argument \"winner\" must be "
		    "\"first\", \"second\", \"tie\" or \"skip\"");
		return;
	}
	/* This client has seen the duel, whatever becomes of the answer. */
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->shown == duel)
			f->shown = 0;
	if ((rc = store_comparison_get(d->store, duel, &row, &cause)) <= 0) {
		if (rc < 0)
			control_error(c, id, "internal", "%s", cause);
		else
			control_error(c, id, "not_found", "no duel %lld",
			    (long long)duel);
		free(cause);
		return;
	}
	if (strcmp(row.source, "human") != 0 || row.order_shown == NULL ||
	    strlen(row.order_shown) != 2) {
		control_error(c, id, "state", "duel %lld does not ask for "
		    "feedback (its source is %s)", (long long)duel,
		    row.source);
		goto out;
	}
	if (row.winner != NULL) {
		control_error(c, id, "state", "duel %lld was answered already "
		    "(%s, by %s)", (long long)duel, row.winner,
		    row.who != NULL ? row.who : "nobody");
		goto out;
	}
	if (i == 0)
		winner = row.order_shown[0] == 'a' ? "a" : "b";
	else if (i == 1)
		winner = row.order_shown[1] == 'a' ? "a" : "b";
	else
		winner = choices[i];
	who = daemon_user(control_uid(c));
	if ((rc = store_comparison_answer(d->store, duel, winner, who,
	    &cause)) < 0) {
		control_error(c, id, "internal", "%s", cause);
		free(cause);
		goto out;
	}
	if (rc == 0) {
		control_error(c, id, "state", "duel %lld was answered already",
		    (long long)duel);
		goto out;
	}
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->dj->id == row.job)
			f->answered++;
	log_info("duel %lld: %s by %s", (long long)duel, strcmp(winner,
	    "skip") == 0 ? "skipped" : winner, who);
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "duel", (double)duel);
	cJSON_AddStringToObject(r, "winner", winner);
	cJSON_AddStringToObject(r, "who", who);
	control_reply(c, id, r);
out:
	free(who);
	store_comparison_row_release(&row);
}

/* Ends this client's feedback streams (or the one with id "stream"). */
static void
cmd_quit(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct feedback	*f, **pp;
	const cJSON	*v;
	cJSON		*r;
	int		 n = 0;

	v = cJSON_GetObjectItemCaseSensitive(args, "stream");
	if (v != NULL && !cJSON_IsNumber(v)) {
		control_error(c, id, "usage", "argument \"stream\" must be the "
		    "id of a feedback request");
		return;
	}
	pp = &d->feedbacks;
	while ((f = *pp) != NULL) {
		if (f->client == c && (v == NULL ||
		    v->valuedouble == (double)f->id)) {
			*pp = f->next;
			control_end(c, f->id, feedback_end_result(f));
			free(f);
			n++;
		} else
			pp = &f->next;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "ended", n);
	control_reply(c, id, r);
}

/* Sends a feedback stream its next duel; returns 1 once it ended. */
static int
feedback_pump(struct daemon *d, struct feedback *f)
{
	struct comparison_row	*rows;
	cJSON			*e, *duel;
	char			*cause = NULL;
	size_t			 n;
	int			 ab;

	if (!djob_live(f->dj)) {
		control_end(f->client, f->id, feedback_end_result(f));
		return 1;
	}
	if (f->shown != 0 || control_pending(f->client) >
	    DAEMON_WATCH_BACKLOG)
		return 0;
	if (store_comparison_pending(d->store, f->dj->id, 1, &rows, &n,
	    &cause) != 0) {
		log_warnx("feedback: %s", cause);
		free(cause);
		return 0;
	}
	if (n > 0) {
		ab = rows[0].order_shown == NULL ||
		    strcmp(rows[0].order_shown, "ba") != 0;
		duel = cJSON_CreateObject();
		cJSON_AddNumberToObject(duel, "id", (double)rows[0].id);
		cJSON_AddStringToObject(duel, "job", f->dj->name);
		cJSON_AddStringToObject(duel, "input", rows[0].input != NULL ?
		    rows[0].input : "");
		cJSON_AddStringToObject(duel, "first", ab ? rows[0].output_a :
		    rows[0].output_b);
		cJSON_AddStringToObject(duel, "second", ab ?
		    rows[0].output_b : rows[0].output_a);
		cJSON_AddStringToObject(duel, "order", ab ? "ab" : "ba");
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "duel", duel);
		control_event(f->client, f->id, e);
		f->shown = rows[0].id;
	}
	store_comparison_rows_free(rows, n);
	return 0;
}

static void
daemon_feedback(struct daemon *d)
{
	struct feedback	*f, **pp;

	pp = &d->feedbacks;
	while ((f = *pp) != NULL) {
		if (feedback_pump(d, f)) {
			*pp = f->next;
			free(f);
		} else
			pp = &f->next;
	}
}

static void
daemon_request(void *arg, struct control_client *c, long long id,
    const char *cmd, const cJSON *args)
{
	struct daemon	*d = arg;
	const char	*code = NULL;
	cJSON		*res = NULL;
	char		*cause = NULL;
	int		 rc;

	if (d->stopping) {
		control_error(c, id, "unavailable", "promptd is stopping");
		return;
	}
	if (strcmp(cmd, "submit") == 0)
		cmd_submit(d, c, id, args);
	else if (strcmp(cmd, "list") == 0)
		cmd_list(d, c, id, args);
	else if (strcmp(cmd, "status") == 0)
		cmd_status(d, c, id, args);
	else if (strcmp(cmd, "watch") == 0)
		cmd_watch(d, c, id, args);
	else if (strcmp(cmd, "pause") == 0)
		cmd_pause(d, c, id, args);
	else if (strcmp(cmd, "resume") == 0)
		cmd_resume(d, c, id, args);
	else if (strcmp(cmd, "cancel") == 0)
		cmd_cancel(d, c, id, args);
	else if (strcmp(cmd, "refresh") == 0)
		cmd_refresh(d, c, id, args);
	else if (strcmp(cmd, "feedback") == 0)
		cmd_feedback(d, c, id, args);
	else if (strcmp(cmd, "answer") == 0)
		cmd_answer(d, c, id, args);
	else if (strcmp(cmd, "quit") == 0)
		cmd_quit(d, c, id, args);
	else if ((rc = query_run(d->store, cmd, args, &res, &code,
	    &cause)) == 0)
		control_reply(c, id, res);
	else if (rc < 0) {
		control_error(c, id, code, "%s", cause);
		cJSON_Delete(res);
	} else
		control_error(c, id, "protocol", "unknown command '%s'", cmd);
	free(cause);
}

static void
daemon_client_gone(void *arg, struct control_client *c)
{
	struct daemon	*d = arg;
	struct watch	*w, **pp;
	struct feedback	*f, **fp;

	pp = &d->watches;
	while ((w = *pp) != NULL) {
		if (w->client == c) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
	fp = &d->feedbacks;
	while ((f = *fp) != NULL) {
		if (f->client == c) {
			*fp = f->next;
			free(f);
		} else
			fp = &f->next;
	}
}

/* A watch event: the message with the job's progress. */
static cJSON *
watch_event(struct watch *w, double time, const char *level,
    const char *message, int64_t run)
{
	struct djob		*dj = w->dj;
	struct run_totals	 t;
	struct cand		*best;
	cJSON			*e;
	double			 eta;

	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "time", time);
	cJSON_AddStringToObject(e, "level", level);
	cJSON_AddStringToObject(e, "message", message);
	if (run > 0)
		cJSON_AddNumberToObject(e, "run", (double)run);
	if (dj->fiber == NULL)
		return e;
	engine_totals(dj->jr.engine, &t);
	best = search_best(&dj->jr.search);
	cJSON_AddNumberToObject(e, "step", dj->jr.search.step);
	cJSON_AddItemToObject(e, "best", best != NULL ?
	    cJSON_CreateNumber(best->mean) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "calls", (double)t.calls);
	cJSON_AddNumberToObject(e, "dollars", t.dollars);
	eta = djob_eta(dj);
	cJSON_AddItemToObject(e, "eta", eta >= 0 ? cJSON_CreateNumber(eta) :
	    cJSON_CreateNull());
	/* The run's replies usable so far, as of its last step. */
	cJSON_AddNumberToObject(e, "proposals",
	    (double)dj->jr.replies[TALLY_OPTIMIZER]);
	cJSON_AddNumberToObject(e, "proposals_usable",
	    (double)dj->jr.usable[TALLY_OPTIMIZER]);
	cJSON_AddNumberToObject(e, "verdicts",
	    (double)dj->jr.replies[TALLY_JUDGE]);
	cJSON_AddNumberToObject(e, "verdicts_usable",
	    (double)dj->jr.usable[TALLY_JUDGE]);
	return e;
}

/* Sends what is new to one watcher; returns 1 once its stream ended. */
static int
watch_pump(struct daemon *d, struct watch *w)
{
	struct djob		*dj = w->dj;
	struct event_row	*rows;
	const char		*code = NULL;
	cJSON			*e, *r;
	char			*cause = NULL, *msg, *why;
	double			 now = time_mono();
	size_t			 n, i;

	if (control_pending(w->client) > DAEMON_WATCH_BACKLOG)
		return 0;
	if (w->cursor != INT64_MAX) {
		if (store_events(d->store, dj->id, w->cursor,
		    DAEMON_WATCH_BATCH, &rows, &n, &cause) != 0) {
			log_warnx("watch: %s", cause);
			free(cause);
			cause = NULL;
			n = 0;
		}
		for (i = 0; i < n; i++) {
			control_event(w->client, w->id, watch_event(w,
			    rows[i].time, rows[i].level, rows[i].message,
			    rows[i].run));
			w->cursor = rows[i].id;
		}
		store_event_rows_free(rows, n);
		if (n == DAEMON_WATCH_BATCH)
			return 0;
	}
	if (djob_live(dj)) {
		if (dj->fiber != NULL && (dj->jr.search.step != w->step ||
		    now - w->progress_at >= DAEMON_PROGRESS)) {
			w->step = dj->jr.search.step;
			w->progress_at = now;
			why = djob_waiting(dj);
			msg = why != NULL ? xasprintf("waiting, step %d: %s",
			    w->step, why) : xasprintf("%s, step %d", dj->state,
			    w->step);
			e = watch_event(w, time_now(), "progress", msg, 0);
			if (why != NULL)
				cJSON_AddStringToObject(e, "waiting", why);
			free(msg);
			free(why);
			control_event(w->client, w->id, e);
		}
		return 0;
	}
	r = daemon_job_status(d, dj, dj->name, &code, &cause);
	if (r == NULL) {
		r = cJSON_CreateObject();
		djob_overlay(dj, r);
	}
	free(cause);
	control_end(w->client, w->id, r);
	return 1;
}

static void
daemon_watch(struct daemon *d)
{
	struct watch	*w, **pp;

	pp = &d->watches;
	while ((w = *pp) != NULL) {
		if (watch_pump(d, w)) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
}

static void
daemon_reload(struct daemon *d)
{
	struct conf	*conf;
	char		*cause = NULL;

	if ((conf = conf_load(d->conf_path, &cause)) == NULL) {
		log_warnx("reload: %s", cause);
		log_warnx("reload: keeping the previous configuration");
		free(cause);
		return;
	}
	if (!d->foreground)
		log_init("promptd", conf->log_file == NULL, conf->log_file);
	/* Runs under way keep the backends they started with. */
	dconf_unref(d->conf);
	d->conf = dconf_new(conf);
	log_info("configuration reloaded%s%s", conf->path != NULL ?
	    " from " : "", conf->path != NULL ? conf->path : "");
}

static void
daemon_signals(struct daemon *d)
{
	unsigned char	buf[64];
	ssize_t		n, i;

	while ((n = read(d->sigfd[0], buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			switch (buf[i]) {
			case SIGHUP:
				daemon_reload(d);
				break;
			case SIGTERM:
			case SIGINT:
				if (!d->stopping)
					log_info("signal %d: stopping", buf[i]);
				d->stopping = 1;
				break;
			}
		}
	}
}

/* Starts the runs of queued jobs (those found running at startup). */
static void
daemon_start_queued(struct daemon *d)
{
	struct djob	*dj;
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < d->njobs; i++) {
		dj = d->jobs[i];
		if (dj->state != JOB_QUEUED || dj->fiber != NULL)
			continue;
		if (djob_start(dj, NULL, djob_open_kind(dj), &cause) != 0) {
			djob_end(dj, JOB_FAILED, cause);
			free(cause);
			cause = NULL;
		}
	}
}

static void
daemon_schedule(struct daemon *d)
{
	struct djob	*dj;
	char		*cause = NULL;
	time_t		 now = daemon_now(d);
	size_t		 i;

	for (i = 0; i < d->njobs; i++) {
		dj = d->jobs[i];
		if (dj->schedule == NULL || dj->next_fire == (time_t)-1 ||
		    now < dj->next_fire)
			continue;
		if (djob_live(dj))
			log_info("job '%s': scheduled refresh skipped: the job "
			    "is %s", dj->name, dj->state);
		else if (djob_refresh(dj, "schedule", &cause) != 0) {
			log_warnx("job '%s': scheduled refresh: %s", dj->name,
			    cause);
			free(cause);
			cause = NULL;
		}
		dj->next_fire = cron_next(&dj->cron, now);
	}
}

/* A refresh for each schedule that passed while the daemon was down. */
static void
daemon_catch_up(struct daemon *d)
{
	struct djob	*dj;
	char		*cause = NULL;
	double		 last;
	time_t		 due;
	size_t		 i;
	int		 rc;

	for (i = 0; i < d->njobs; i++) {
		dj = d->jobs[i];
		if (dj->schedule == NULL || djob_live(dj))
			continue;
		if ((rc = store_run_last(d->store, dj->id, "refresh", &last,
		    &cause)) == 0)
			rc = store_run_last(d->store, dj->id, NULL, &last,
			    &cause);
		if (rc <= 0) {
			if (rc < 0)
				log_warnx("job '%s': %s", dj->name, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		due = cron_next(&dj->cron, (time_t)last);
		if (due == (time_t)-1 || due > daemon_now(d))
			continue;
		if (djob_refresh(dj, "catching up", &cause) != 0) {
			log_warnx("job '%s': catch-up refresh: %s", dj->name,
			    cause);
			free(cause);
			cause = NULL;
		}
	}
}

/* The schedule of a stored spec, if it has a valid one. */
static void
djob_spec_schedule(struct djob *dj, const char *spec)
{
	struct cron	 cron;
	const cJSON	*v;
	cJSON		*o;
	char		*cause = NULL;

	if ((o = cJSON_Parse(spec)) == NULL)
		return;
	v = cJSON_GetObjectItemCaseSensitive(o, "schedule");
	if (cJSON_IsString(v)) {
		if (cron_parse(&cron, v->valuestring, &cause) == 0)
			djob_set_schedule(dj, v->valuestring, &cron);
		else {
			log_warnx("job '%s': schedule: %s", dj->name, cause);
			free(cause);
		}
	}
	cJSON_Delete(o);
}

/* The jobs of the store that came through the daemon (have a file). */
static int
daemon_load(struct daemon *d, char **cause)
{
	struct job_row	*rows;
	struct djob	*dj;
	size_t		 n, i;

	if (store_job_list(d->store, &rows, &n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rows[i].file == NULL)
			continue;
		dj = daemon_add(d, rows[i].name, rows[i].id);
		dj->file = rows[i].file;
		rows[i].file = NULL;
		dj->state = djob_state(rows[i].state);
		dj->reason = rows[i].reason;
		rows[i].reason = NULL;
		djob_spec_schedule(dj, rows[i].spec);
		/* A job that was running (or about to) resumes. */
		if (dj->state == JOB_RUNNING)
			dj->state = JOB_QUEUED;
		if (dj->state == JOB_QUEUED)
			log_info("job '%s': resuming", dj->name);
	}
	store_job_rows_free(rows, n);
	return 0;
}

/* Before a line goes to a client: what it tells is committed. */
static int
daemon_sync(void *arg)
{
	struct daemon	*d = arg;

	if (engine_loop_flush(d->loop) != 0) {
		log_warnx("the store failed: the next turn stops the daemon");
		return -1;
	}
	return 0;
}

struct daemon *
daemon_new(struct conf *conf, const char *conf_path, struct store *store,
    struct control *ctl, int foreground)
{
	struct daemon	*d;
	const char	*e;

	d = xcalloc(1, sizeof *d);
	d->conf = dconf_new(conf);
	d->conf_path = conf_path != NULL ? xstrdup(conf_path) : NULL;
	d->foreground = foreground;
	d->store = store;
	d->ctl = ctl;
	d->loop = engine_loop_new(store);
	/*
	 * Answers of several turns share a commit, and the loop's other
	 * writes (steps, checkpoints, control requests) join it; a line to a
	 * client is only sent once it is committed (daemon_sync).
	 */
	engine_loop_group(d->loop, 1);
	d->started = time_mono();
	d->sigfd[0] = d->sigfd[1] = -1;
	if ((e = getenv("PROMPTD_TIME_OFFSET")) != NULL && *e != '\0') {
		d->offset = strtoll(e, NULL, 10);
		log_info("scheduler clock offset by %lld seconds", d->offset);
	}
	/* A testing aid, as the offset: a handshake timeout in seconds. */
	if ((e = getenv("PROMPTD_HANDSHAKE_TIMEOUT")) != NULL && *e != '\0') {
		control_set_hello_timeout(ctl, strtod(e, NULL));
		log_info("handshake timeout %s seconds", e);
	}
	control_set_handler(ctl, daemon_request, daemon_client_gone, d);
	control_set_sync(ctl, daemon_sync);
	return d;
}

void
daemon_stop(struct daemon *d)
{
	d->stopping = 1;
}

static int
daemon_signals_init(struct daemon *d, char **cause)
{
	struct sigaction	sa;

	if (pipe2(d->sigfd, O_CLOEXEC | O_NONBLOCK) == -1)
		return cause_set(cause, "pipe: %s", strerror(errno));
	daemon_sigwrite = d->sigfd[1];
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = daemon_sighandler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static void
daemon_signals_release(struct daemon *d)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	daemon_sigwrite = -1;
	if (d->sigfd[0] != -1) {
		close(d->sigfd[0]);
		close(d->sigfd[1]);
	}
	d->sigfd[0] = d->sigfd[1] = -1;
}

int
daemon_run(struct daemon *d, char **cause)
{
	struct djob	*dj;
	int		 fds[1 + 128], n, wait, rc = 0;
	short		 events[1 + 128];
	size_t		 i;
	const char	*why;

	if (daemon_signals_init(d, cause) != 0)
		return -1;
	if (daemon_load(d, cause) != 0) {
		daemon_signals_release(d);
		return -1;
	}
	daemon_start_queued(d);
	daemon_catch_up(d);
	log_info("listening on %s, database %s", control_path(d->ctl),
	    store_path(d->store));
	while (!d->stopping) {
		wait = DAEMON_TURN_MS;
		/* A run waiting for a person is resumed each turn too, but
		 * the turn need not be cut short for it. */
		for (i = 0; i < d->njobs; i++)
			if (djob_runnable(d->jobs[i]) &&
			    !d->jobs[i]->jr.search.waiting)
				wait = 0;
		fds[0] = d->sigfd[0];
		events[0] = POLLIN;
		n = 1 + control_pollfds(d->ctl, fds + 1, events + 1,
		    (int)nitems(fds) - 1);
		if (engine_loop_turn(d->loop, wait, fds, events, n) < 0) {
			/* The store failed: every engine has stopped. */
			why = NULL;
			for (i = 0; i < d->njobs && why == NULL; i++)
				if (d->jobs[i]->fiber != NULL)
					engine_failed(d->jobs[i]->jr.engine,
					    &why);
			cause_set(cause, "the store failed: %s", why != NULL ?
			    why : "unknown error");
			rc = -1;
			break;
		}
		daemon_signals(d);
		control_process(d->ctl);
		daemon_start_queued(d);
		for (i = 0; i < d->njobs; i++) {
			dj = d->jobs[i];
			if (djob_runnable(dj)) {
				/* A step may compute a while: other jobs'
				 * answers are not kept waiting for it. */
				engine_loop_flush(d->loop);
				djob_resume(dj);
				/* Requests wait for one step's work at most. */
				control_process(d->ctl);
			}
			if (dj->fiber != NULL && dj->done)
				djob_reap(dj);
		}
		daemon_schedule(d);
		daemon_watch(d);
		daemon_feedback(d);
	}
	/* Runs under way stop where they are and resume at the next start:
	 * calls in flight are abandoned and replayed (the cache answers
	 * those already paid for). */
	for (i = 0; i < d->njobs; i++) {
		dj = d->jobs[i];
		if (dj->fiber == NULL)
			continue;
		dj->stop = 1;
		djob_unwind(dj, "promptd is stopping");
	}
	daemon_signals_release(d);
	log_info("stopped");
	return rc;
}

void
daemon_free(struct daemon *d)
{
	struct watch	*w, *next;
	struct feedback	*f, *fnext;
	struct djob	*dj;
	size_t		 i;

	if (d == NULL)
		return;
	control_set_handler(d->ctl, NULL, NULL, NULL);
	control_set_sync(d->ctl, NULL);
	for (w = d->watches; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	for (f = d->feedbacks; f != NULL; f = fnext) {
		fnext = f->next;
		free(f);
	}
	for (i = 0; i < d->njobs; i++) {
		dj = d->jobs[i];
		if (dj->fiber != NULL) {
			dj->stop = 1;
			djob_unwind(dj, "promptd is stopping");
		}
		free(dj->name);
		free(dj->file);
		free(dj->reason);
		free(dj->schedule);
		free(dj);
	}
	free(d->jobs);
	engine_loop_free(d->loop);
	dconf_unref(d->conf);
	free(d->conf_path);
	free(d);
}
