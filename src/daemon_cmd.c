/*
 * The daemon's control commands: one entry each in dcmd_table[], found
 * by name; a name that is no command is a query of the store (query.h).
 * The stream commands (watch, feedback, answer, quit) are in
 * daemon_watch.c, and label in daemon_label.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "control.h"
#include "daemon_int.h"
#include "job.h"
#include "log.h"
#include "query.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The request's "job" argument, or an error reply and NULL. */
static const char *
dcmd_arg_job(struct control_client *c, long long id, const cJSON *args)
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

int
dcmd_arg_id(struct control_client *c, long long id, const cJSON *args,
    const char *name, const char *what, int64_t *out)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(args, name);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 &&
	    v->valuedouble <= 9007199254740991.0) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		control_error(c, id, "usage", "missing argument \"%s\" (%s)",
		    name, what);
		return -1;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* A job the daemon manages, or an error reply and NULL. */
struct djob *
dcmd_arg_djob(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	 *dj;
	const char	 *name, *near, **names;
	size_t		  i;

	if ((name = dcmd_arg_job(c, id, args)) == NULL)
		return NULL;
	if ((dj = daemon_find(d, name)) != NULL)
		return dj;
	/* A typo of a job's name is told as such. */
	names = xcalloc(d->njobs + 1, sizeof *names);
	for (i = 0; i < d->njobs; i++)
		names[i] = d->jobs[i]->name;
	if ((near = suggest_n(name, names, d->njobs)) != NULL)
		control_error(c, id, "not_found", "no job '%s' in this daemon "
		    "(did you mean '%s'?)", name, near);
	else
		control_error(c, id, "not_found", "no job '%s' in this daemon "
		    "(submit it first)", name);
	free(names);
	return NULL;
}

cJSON *
dcmd_state_result(const struct djob *dj)
{
	cJSON	*r;

	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "job", dj->name);
	cJSON_AddStringToObject(r, "state", dj->state);
	return r;
}

static void
dcmd_submit(struct daemon *d, struct control_client *c, long long id,
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
		    "strategy", v->valuestring, job->task.name);
		job_free(job);
		return;
	}
	if ((dj = daemon_find(d, job->task.name)) != NULL && djob_live(dj)) {
		control_error(c, id, "state", "job '%s' is %s already",
		    dj->name, dj->state);
		job_free(job);
		return;
	}
	if (dj == NULL)
		dj = daemon_add(d, job->task.name, 0);
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
dcmd_list(struct daemon *d, struct control_client *c, long long id,
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
dcmd_status(struct daemon *d, struct control_client *c, long long id,
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
dcmd_pause(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	char		*cause = NULL;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
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
	control_reply(c, id, dcmd_state_result(dj));
}

static void
dcmd_resume(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	char		*cause = NULL;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
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
	control_reply(c, id, dcmd_state_result(dj));
}

static void
dcmd_cancel(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
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
	control_reply(c, id, dcmd_state_result(dj));
}

static void
dcmd_refresh(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct djob	*dj;
	cJSON		*r;
	char		*cause = NULL;
	int		 started = 0;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
		return;
	if (dj->state == JOB_CANCELLED) {
		control_error(c, id, "state", "job '%s' was cancelled, for "
		    "good: submit its file again to start it anew", dj->name);
		return;
	}
	/*
	 * A run under way is what a refresh would start: cron, which asks
	 * on a clock, is told so and not given an error to mail.
	 */
	if (!djob_live(dj)) {
		if (djob_refresh(dj, "requested", &cause) != 0) {
			control_error(c, id, "internal", "job '%s': %s",
			    dj->name, cause);
			free(cause);
			return;
		}
		started = 1;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "job", dj->name);
	if (dj->fiber != NULL)
		cJSON_AddNumberToObject(r, "run", (double)dj->jr.run_id);
	else
		cJSON_AddNullToObject(r, "run");
	cJSON_AddStringToObject(r, "state", dj->state);
	cJSON_AddBoolToObject(r, "started", started);
	if (dj->kind != NULL && dj->fiber != NULL)
		cJSON_AddStringToObject(r, "kind", dj->kind);
	control_reply(c, id, r);
}

static const struct dcmd_entry dcmd_submit_entry = { "submit", dcmd_submit };
static const struct dcmd_entry dcmd_list_entry = { "list", dcmd_list };
static const struct dcmd_entry dcmd_status_entry = { "status", dcmd_status };
static const struct dcmd_entry dcmd_pause_entry = { "pause", dcmd_pause };
static const struct dcmd_entry dcmd_resume_entry = { "resume", dcmd_resume };
static const struct dcmd_entry dcmd_cancel_entry = { "cancel", dcmd_cancel };
static const struct dcmd_entry dcmd_refresh_entry = {
	"refresh", dcmd_refresh
};

const struct dcmd_entry *const dcmd_table[] = {
	&dcmd_answer_entry,
	&dcmd_cancel_entry,
	&dcmd_feedback_entry,
	&dcmd_label_entry,
	&dcmd_list_entry,
	&dcmd_pause_entry,
	&dcmd_quit_entry,
	&dcmd_refresh_entry,
	&dcmd_resume_entry,
	&dcmd_status_entry,
	&dcmd_submit_entry,
	&dcmd_watch_entry,
	NULL
};

const struct dcmd_entry *
dcmd_lookup(const char *name)
{
	const struct dcmd_entry *const *e;

	for (e = dcmd_table; *e != NULL; e++)
		if (strcmp((*e)->name, name) == 0)
			return *e;
	return NULL;
}

void
dcmd_dispatch(struct daemon *d, struct control_client *c, long long id,
    const char *cmd, const cJSON *args)
{
	const struct dcmd_entry	*e;
	const char		*code = NULL;
	cJSON			*res = NULL;
	char			*cause = NULL;
	int			 rc;

	if ((e = dcmd_lookup(cmd)) != NULL)
		e->handler(d, c, id, args);
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
