/*
 * The daemon: jobs, their runs in fibers, the loop, schedules and
 * signals.  The control commands are in daemon_cmd.c, the watch and
 * feedback streams in daemon_watch.c.  See daemon.h for the picture and
 * promptd(8) for what users see.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
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
#include "daemon_int.h"
#include "engine.h"
#include "fiber.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "query.h"
#include "report.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* Longest wait for the loop, so that schedules and watchers move on. */
#define DAEMON_TURN_MS		100
/* Each job's fiber stack (mapped lazily, with a guard page). */
#define DAEMON_STACK		(1024 * 1024)

const char	JOB_QUEUED[] = "queued";
const char	JOB_RUNNING[] = "running";
const char	JOB_PAUSED[] = "paused";
const char	JOB_FAILED[] = "failed";
const char	JOB_CANCELLED[] = "cancelled";

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

int
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

void
djob_set_reason(struct djob *dj, const char *reason)
{
	free(dj->reason);
	dj->reason = reason != NULL ? xstrdup(reason) : NULL;
}

struct djob *
daemon_find(struct daemon *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->njobs; i++)
		if (strcmp(d->jobs[i]->name, name) == 0)
			return d->jobs[i];
	return NULL;
}

struct djob *
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

/* Whether the job has a schedule that fires: a cancelled job's is over. */
static int
djob_scheduled(const struct djob *dj)
{
	return dj->schedule != NULL && dj->state != JOB_CANCELLED;
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
void
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
	if (rc == 0 && !dj->cancel && !dj->stop &&
	    (rc = jobrun_finish(&dj->jr, &cause)) == 0 && dj->jr.promoted)
		report_on_promotion(dj->jr.store, dj->name, dj->jr.job_id,
		    dj->jr.run_id, dj->jr.job->report_path);
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
int
djob_start(struct djob *dj, struct job *job, const char *kind, char **cause)
{
	struct daemon	*d = dj->d;

	if (job == NULL && (job = job_load(dj->file, d->conf->conf,
	    cause)) == NULL)
		return -1;
	if (strcmp(job->task.name, dj->name) != 0) {
		cause_set(cause, "job file '%s' now names job '%s'", dj->file,
		    job->task.name);
		goto fail;
	}
	if (job->strategy == NULL) {
		cause_set(cause, "job '%s' has no strategy", job->task.name);
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
	dj->wakes = 0;
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

/*
 * Whether the loop should resume dj's fiber now: what it waits for is
 * answered, its engine failed, or a callback woke it since it yielded
 * (one block of its evaluations is finished while others are out).
 */
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
	    engine_failed(dj->jr.engine, NULL) ||
	    engine_wakes(dj->jr.engine) != dj->wakes;
}

static void
djob_resume(struct djob *dj)
{
	dj->wakes = engine_wakes(dj->jr.engine);
	if (fiber_resume(dj->fiber))
		dj->done = 1;
}

/* Runs a fiber that was told to unwind until it has returned. */
void
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
double
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
char *
djob_waiting(const struct djob *dj)
{
	const struct backend	*down;
	char			*labels;

	if (dj->fiber == NULL || dj->state != JOB_RUNNING)
		return NULL;
	if ((labels = jobrun_synth_waiting(&dj->jr)) != NULL)
		return labels;
	if ((down = engine_waiting(dj->jr.engine)) != NULL)
		return xasprintf("backend '%s' down for %.0f s: %s", down->name,
		    time_now() - down->health.down_since, down->health.cause !=
		    NULL ? down->health.cause : "?");
	return engine_batch_waiting(dj->jr.engine);
}

/* What the daemon knows live about a job, added to (or replacing in) o. */
void
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
		if (djob_scheduled(dj) && dj->next_fire != (time_t)-1)
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
cJSON *
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

/* The kind of run a job left open, to resume it. */
const char *
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

/* Starts a refresh run of a job that has none under way. */
int
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
daemon_request(void *arg, struct control_client *c, long long id,
    const char *cmd, const cJSON *args)
{
	struct daemon	*d = arg;

	if (d->stopping) {
		control_error(c, id, "unavailable", "promptd is stopping");
		return;
	}
	dcmd_dispatch(d, c, id, cmd, args);
}

static void
daemon_client_gone(void *arg, struct control_client *c)
{
	daemon_watch_drop(arg, c);
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
		if (!djob_scheduled(dj) || dj->next_fire == (time_t)-1 ||
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
		if (!djob_scheduled(dj) || djob_live(dj))
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

/*
 * Tells systemd (a Type=notify service) how the daemon is doing: one
 * datagram to $NOTIFY_SOCKET, as sd_notify(3) sends it.  The variable is
 * taken out of the environment, so that commands the daemon runs (exec
 * backends) do not speak for it.
 */
static void
daemon_notify(const char *state)
{
	static char		 path[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct sockaddr_un	 sun;
	const char		*e;
	size_t			 len;
	int			 fd;

	if (*path == '\0' && (e = getenv("NOTIFY_SOCKET")) != NULL) {
		if ((*e == '/' || *e == '@') && strlen(e) < sizeof path)
			memcpy(path, e, strlen(e) + 1);
		unsetenv("NOTIFY_SOCKET");
	}
	if (*path == '\0')
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = strlen(path);
	memcpy(sun.sun_path, path, len);
	/* '@': Linux's abstract namespace. */
	if (*path == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, (socklen_t)(offsetof(struct sockaddr_un,
	    sun_path) + len)) == -1)
		log_warn("cannot notify systemd (%s) of %s", path, state);
	if (fd != -1)
		close(fd);
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
	log_notice("version %s, listening on %s, database %s",
	    PROMPTD_VERSION, control_path(d->ctl), store_path(d->store));
	daemon_notify("READY=1");
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
		daemon_watch_pump(d);
	}
	daemon_notify("STOPPING=1");
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
	log_notice("stopped");
	return rc;
}

void
daemon_free(struct daemon *d)
{
	struct djob	*dj;
	size_t		 i;

	if (d == NULL)
		return;
	control_set_handler(d->ctl, NULL, NULL, NULL);
	control_set_sync(d->ctl, NULL);
	daemon_watch_drop(d, NULL);
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
