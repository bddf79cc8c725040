/*
 * promptctl plan: a dry run of a job.  The job's strategy runs to its end
 * against the built-in sim model in place of each role's backend (the
 * sim keeps that backend's name, model, prices and token limit), in a
 * throwaway database; what the sim run spent is the estimate of what the
 * real run will, and the backends' limits give the time it takes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "cmd.h"
#include "conf.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "jsonc.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* Seconds a model call takes, when -t does not say. */
#define PLAN_LATENCY	2.0

/* A backend of the job and the sim that stands in for it. */
struct plan_backend {
	struct backend	*real;
	struct backend	*sim;		/* NULL: the real one is a sim */
	long long	 calls;		/* paid, in the sim run */
	long long	 tokens;
	double		 seconds;	/* its calls at its limits */
};

struct plan {
	struct job		*job;
	struct conf		*conf;
	struct plan_backend	 be[ROLE_COUNT];
	size_t			 nbe;
	char			*dir;		/* the throwaway database's */
	char			*db;
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	int			 started;
	struct role_spend	*spend;
	size_t			 nspend;
	double			 latency;
	double			 seconds;	/* all the calls */
	int			 json;
};

/* A sim model named as real is, with its prices and token limit. */
static struct backend *
plan_sim(const struct backend *real, char **cause)
{
	struct backend	*b;
	struct jdoc	*doc;
	cJSON		*o;
	char		*text;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "sim");
	cJSON_AddStringToObject(o, "model", real->model != NULL ?
	    real->model : "sim");
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	doc = jsonc_parse("plan", text, strlen(text), cause);
	free(text);
	if (doc == NULL)
		return NULL;
	b = backend_new(doc, real->name, doc->root, "plan");
	if (b == NULL)
		jv_fail(doc, cause);
	jsonc_free(doc);
	if (b == NULL)
		return NULL;
	/* The limits time the calls afterwards (plan_time()); the sim run
	 * itself is not held to them. */
	b->price = real->price;
	b->temperature = real->temperature;
	b->max_tokens = real->max_tokens;
	return b;
}

/* Puts a sim in place of every role's backend that is not one. */
static int
plan_swap(struct plan *p, char **cause)
{
	struct backend	*b;
	size_t		 i;
	int		 r;

	for (r = 0; r < ROLE_COUNT; r++) {
		if ((b = p->job->task.roles[r]) == NULL)
			continue;
		for (i = 0; i < p->nbe && p->be[i].real != b; i++)
			;
		if (i == p->nbe) {
			p->be[i].real = b;
			if (strcmp(b->ops->name, "sim") != 0 &&
			    (p->be[i].sim = plan_sim(b, cause)) == NULL)
				return -1;
			p->nbe++;
		}
		if (p->be[i].sim != NULL)
			p->job->task.roles[r] = p->be[i].sim;
	}
	return 0;
}

/* Runs the search to its end in a database of its own. */
static int
plan_run(struct plan *p, char **cause)
{
	const char	*tmp = getenv("TMPDIR");
	int		 rc;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	p->dir = xasprintf("%s/promptctl-plan.XXXXXX", tmp);
	if (mkdtemp(p->dir) == NULL) {
		cause_set(cause, "cannot create a directory in %s: %s", tmp,
		    strerror(errno));
		free(p->dir);
		p->dir = NULL;
		return -1;
	}
	p->db = xasprintf("%s/plan.db", p->dir);
	if ((p->store = store_open(p->db, cause)) == NULL)
		return -1;
	p->loop = engine_loop_new(p->store);
	if (jobrun_start(&p->jr, p->job, p->loop, "optimize", cause) != 0)
		return -1;
	p->started = 1;
	while ((rc = jobrun_step(&p->jr, cause)) == 1)
		;
	if (rc < 0 || jobrun_finish(&p->jr, cause) != 0)
		return -1;
	return store_role_spend(p->store, p->jr.run_id, &p->spend, &p->nspend,
	    cause);
}

/* The backend that played a role in the sim run. */
static struct plan_backend *
plan_role_backend(struct plan *p, const char *role)
{
	const struct backend	*b;
	size_t			 i;
	int			 r;

	for (r = 0; r < ROLE_COUNT; r++)
		if (strcmp(task_role_name(r), role) == 0)
			break;
	if (r == ROLE_COUNT || (b = p->job->task.roles[r]) == NULL)
		return NULL;
	for (i = 0; i < p->nbe; i++)
		if (p->be[i].real == b || p->be[i].sim == b)
			return &p->be[i];
	return NULL;
}

/*
 * The time each backend's calls take at its limits: as many in flight
 * as it allows, each taking the latency, and no faster than its requests
 * and tokens per minute.  Steps ask one role and then another, so the
 * backends' times add up.
 */
static void
plan_time(struct plan *p)
{
	struct plan_backend	*pb;
	const struct backend	*b;
	double			 t;
	size_t			 i;

	for (i = 0; i < p->nspend; i++) {
		if ((pb = plan_role_backend(p, p->spend[i].role)) == NULL)
			continue;
		pb->calls += p->spend[i].calls;
		pb->tokens += p->spend[i].prompt_tokens +
		    p->spend[i].completion_tokens;
	}
	p->seconds = 0;
	for (i = 0; i < p->nbe; i++) {
		pb = &p->be[i];
		b = pb->real;
		t = (double)pb->calls * p->latency / (b->max_in_flight > 0 ?
		    b->max_in_flight : 1);
		if (b->requests_per_minute > 0)
			t = fmax(t, (double)pb->calls * 60 /
			    b->requests_per_minute);
		if (b->tokens_per_minute > 0)
			t = fmax(t, (double)pb->tokens * 60 /
			    b->tokens_per_minute);
		pb->seconds = t;
		p->seconds += t;
	}
}

/* What stops the run first: a budget, the deadline, or nothing. */
static char *
plan_stop(const struct plan *p)
{
	double	deadline = p->job->budget.deadline;

	if (deadline > 0 && p->seconds > deadline)
		return xasprintf("the deadline (%.0f s) comes first, after "
		    "about %.0f%% of these calls", deadline,
		    100 * deadline / p->seconds);
	if (strcmp(p->jr.status, "exhausted") == 0)
		return xasprintf("a budget: %s", p->jr.reason != NULL ?
		    p->jr.reason : "exhausted");
	if (strcmp(p->jr.status, "done") != 0)
		return xasprintf("the run %s%s%s", p->jr.status,
		    p->jr.reason != NULL ? ": " : "", p->jr.reason != NULL ?
		    p->jr.reason : "");
	return xasprintf("nothing: the search ends by itself (%s)",
	    p->jr.reason != NULL ? p->jr.reason : "done");
}

static void
plan_print(struct plan *p)
{
	const struct role_spend	*r;
	struct plan_backend	*pb;
	long long		 calls = 0, in = 0, out = 0;
	double			 dollars = 0;
	char			*stop;
	size_t			 i;

	printf("plan for job '%s': a dry run on the sim model, %d steps, "
	    "%zu candidates\n", p->job->task.name, p->jr.search.step,
	    p->jr.search.ncands);
	printf("  %-10s %-12s %8s %12s %12s %10s\n", "role", "backend",
	    "calls", "input tok", "output tok", "dollars");
	for (i = 0; i < p->nspend; i++) {
		r = &p->spend[i];
		pb = plan_role_backend(p, r->role);
		printf("  %-10s %-12s %8lld %12lld %12lld %10.4f\n", r->role,
		    pb != NULL ? pb->real->name : "?", r->calls,
		    r->prompt_tokens, r->completion_tokens, r->dollars);
		calls += r->calls;
		in += r->prompt_tokens;
		out += r->completion_tokens;
		dollars += r->dollars;
	}
	printf("  %-10s %-12s %8lld %12lld %12lld %10.4f\n", "total", "",
	    calls, in, out, dollars);
	printf("  time       about %.0f s at the backends' limits, %.1f s a "
	    "call\n", p->seconds, p->latency);
	stop = plan_stop(p);
	printf("  stops      %s\n", stop);
	free(stop);
}

static void
plan_print_json(struct plan *p)
{
	const struct role_spend	*r;
	struct plan_backend	*pb;
	cJSON			*o, *arr, *e;
	char			*stop;
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "job", p->job->task.name);
	cJSON_AddNumberToObject(o, "steps", p->jr.search.step);
	cJSON_AddNumberToObject(o, "candidates", (double)p->jr.search.ncands);
	arr = cJSON_AddArrayToObject(o, "roles");
	for (i = 0; i < p->nspend; i++) {
		r = &p->spend[i];
		pb = plan_role_backend(p, r->role);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "role", r->role);
		cJSON_AddStringToObject(e, "backend", pb != NULL ?
		    pb->real->name : "?");
		cJSON_AddNumberToObject(e, "calls", (double)r->calls);
		cJSON_AddNumberToObject(e, "prompt_tokens",
		    (double)r->prompt_tokens);
		cJSON_AddNumberToObject(e, "completion_tokens",
		    (double)r->completion_tokens);
		cJSON_AddNumberToObject(e, "dollars", r->dollars);
		cJSON_AddNumberToObject(e, "seconds", pb != NULL ?
		    pb->seconds : 0);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddNumberToObject(o, "seconds", p->seconds);
	cJSON_AddNumberToObject(o, "latency", p->latency);
	cJSON_AddStringToObject(o, "status", p->jr.status);
	stop = plan_stop(p);
	cJSON_AddStringToObject(o, "stops", stop);
	free(stop);
	cmd_print_json(o);
	cJSON_Delete(o);
}

static void
plan_release(struct plan *p)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char		*path;
	size_t		 i;

	if (p->started)
		jobrun_release(&p->jr);
	engine_loop_free(p->loop);
	store_close(p->store);
	store_role_spend_free(p->spend, p->nspend);
	if (p->db != NULL) {
		for (i = 0; i < nitems(suffix); i++) {
			path = xasprintf("%s%s", p->db, suffix[i]);
			unlink(path);
			free(path);
		}
		rmdir(p->dir);
	}
	free(p->db);
	free(p->dir);
	job_free(p->job);
	for (i = 0; i < p->nbe; i++)
		backend_free(p->be[i].sim);
	conf_free(p->conf);
}

static int
cmd_plan(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct plan	 p;
	struct cmd_opts	 o;
	char		*cause = NULL, *end;
	int		 rc;

	memset(&p, 0, sizeof p);
	if ((rc = cmd_parse(ctx, &cmd_plan_entry, &argc, &argv, "t:", NULL,
	    1, 1, &o)) != 0)
		return rc;
	p.json = o.json;
	p.latency = PLAN_LATENCY;
	if (o.arg['t'] != NULL) {
		p.latency = strtod(o.arg['t'], &end);
		if (*o.arg['t'] == '\0' || *end != '\0' || !(p.latency > 0) ||
		    p.latency > 3600) {
			fprintf(stderr, "promptctl: -t %s: expected seconds "
			    "a call takes (more than 0, at most 3600)\n",
			    o.arg['t']);
			return CMD_USAGE;
		}
	}
	if ((p.job = cmd_load_job(ctx, argv[0], &p.conf, &cause)) == NULL) {
		rc = cmd_error(ctx, CMD_ERROR, "invalid", "%s", cause);
		free(cause);
		plan_release(&p);
		return rc;
	}
	rc = CMD_OK;
	if (plan_swap(&p, &cause) != 0 || plan_run(&p, &cause) != 0) {
		if (p.started)
			jobrun_abort(&p.jr, "failed", cause);
		rc = cmd_error(ctx, CMD_ERROR, "error", "job '%s': plan: %s",
		    p.job->task.name, cause != NULL ? cause : "unknown error");
	} else {
		plan_time(&p);
		if (p.json)
			plan_print_json(&p);
		else
			plan_print(&p);
	}
	free(cause);
	plan_release(&p);
	return rc;
}

const struct cmd_entry cmd_plan_entry = {
	"plan", "[--json] [-t seconds] file",
	"estimate a job's calls, tokens, dollars and time with a dry run on "
	    "the sim model", cmd_plan
};
