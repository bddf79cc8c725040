/* Tests for the engine: cache hits, budgets that stop exactly, error
 * recording, judge scoring, and rollback when a callback fails. */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "backend.h"
#include "check_common.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "job.h"
#include "store.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

static char		*tmp;
static char		*dbpath;
static struct store	*store;
static struct engine_loop *loop;
static int		 fail_calls;

static int
fail_call(struct backend *b, const struct model_req *req,
    struct model_resp *resp, char **cause)
{
	fail_calls++;
	return cause_set(cause, "server said no");
}

static const struct backend_ops fail_ops = {
	.name = "failing",
	.call = fail_call,
};

static void
setup(void)
{
	FILE	*f;
	char	*p, *cause = NULL;
	int	 i;

	tmp = check_tmpdir();
	p = xasprintf("%s/data.jsonl", tmp);
	f = fopen(p, "w");
	for (i = 0; i < 40; i++)
		fprintf(f, "{\"text\": \"review number %d was %s\", "
		    "\"label\": \"%s\"}\n", i, i % 2 ? "awful" : "lovely",
		    i % 2 ? "negative" : "positive");
	fclose(f);
	free(p);
	dbpath = xasprintf("%s/t.db", tmp);
	store = store_open(dbpath, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	fail_calls = 0;
}

static void
teardown(void)
{
	engine_loop_free(loop);
	store_close(store);
	check_rmtree(tmp);
	free(dbpath);
	free(tmp);
}

static struct job *
load_job(const char *extra, const char *metric)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"t\", \"task\": { \"dataset\": "
	    "\"data.jsonl\", \"input\": \"Review: {{text}}\", %s \"metric\": "
	    "%s, \"splits\": { \"train\": 0, \"dev\": 1, \"test\": 0 } },"
	    " \"seed_prompts\": [\"Classify the review.\"], \"backends\": {"
	    " \"s\": { \"type\": \"sim\", \"price\": { \"input\": 1, \"output\":"
	    " 2 } } }, \"roles\": { \"target\": \"s\", \"judge\": \"s\" } %s }",
	    strcmp(metric, "\"judge\"") == 0 ? "" : "\"target\": \"label\",",
	    metric, extra);
	job = check_job(tmp, text);
	free(text);
	return job;
}

static void
observe(struct job *job)
{
	const char	*inputs[] = { "text" };
	struct backend	*b = job->task.roles[ROLE_TARGET];

	if (b->ops->observe != NULL)
		b->ops->observe(b, job->task.dataset, inputs, 1,
		    job->task.target);
}

/*
 * An engine for an evaluation run of the job, and its first seed's
 * candidate row.
 */
static struct engine *
eval_engine(struct job *job, int64_t *cand)
{
	char		*cause = NULL;
	int64_t		 job_id, ds, run;
	int		 changed;

	job_id = store_job_put(store, job->task.name, "{}", &cause);
	ck_assert_msg(job_id > 0, "%s", cause);
	ds = store_dataset_snapshot(store, job_id, job->task.dataset, &changed,
	    &cause);
	ck_assert_msg(ds > 0, "%s", cause);
	run = store_run_new(store, job_id, "eval", ds, &cause);
	*cand = store_candidate_put(store, job_id, job->seeds[0], "seed",
	    &cause);
	ck_assert(run > 0 && *cand > 0);
	return engine_new(loop, run, &job->budget, job->cache);
}

/* Runs the job's first seed on every example; returns items scored. */
static size_t
run_eval(struct job *job, struct engine **ep, size_t *failed, char **err)
{
	struct eval_item	*items;
	struct engine		*e;
	char			*cause = NULL;
	size_t			 i, n = job->task.dataset->n, done = 0;
	int64_t			 cand;

	e = eval_engine(job, &cand);
	items = xcalloc(n, sizeof *items);
	for (i = 0; i < n; i++) {
		items[i].prompt = job->seeds[0];
		items[i].candidate = cand;
		items[i].example = i;
	}
	ck_assert_int_eq(eval_run(e, &job->task, items, n, &cause), 0);
	*failed = 0;
	for (i = 0; i < n; i++) {
		if (items[i].done) {
			ck_assert(items[i].score >= 0 && items[i].score <= 1);
			done++;
		} else {
			(*failed)++;
			if (err != NULL && *err == NULL)
				*err = xstrdup(items[i].error);
		}
	}
	eval_items_release(items, n);
	free(items);
	*ep = e;
	return done;
}

static long long
count(const char *sql)
{
	return check_count(dbpath, sql);
}

START_TEST(test_cache_second_run_is_free)
{
	struct job		*job = load_job("", "\"exact\"");
	struct engine		*e;
	struct run_totals	 t;
	size_t			 failed;

	observe(job);
	ck_assert_uint_eq(run_eval(job, &e, &failed, NULL), 40);
	engine_totals(e, &t);
	ck_assert_int_eq((int)t.calls, 40);
	ck_assert_int_eq((int)t.hits, 0);
	ck_assert(t.tokens > 0 && t.dollars > 0);
	engine_free(e);
	ck_assert_uint_eq(run_eval(job, &e, &failed, NULL), 40);
	engine_totals(e, &t);
	ck_assert_int_eq((int)t.calls, 0);
	ck_assert_int_eq((int)t.hits, 40);
	ck_assert(t.dollars == 0);
	engine_free(e);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), 40);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'hit'"), 40);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations"), 80);
	ck_assert_int_eq(count("SELECT count(*) FROM cache"), 40);
	/* Every evaluation points at the call it came from. */
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations e JOIN calls "
	    "c ON c.id = e.call_id"), 80);
	job_free(job);
}
END_TEST

START_TEST(test_cache_modes)
{
	struct job		*job = load_job(", \"cache\": \"read\"",
				    "\"exact\"");
	struct engine		*e;
	struct run_totals	 t;
	size_t			 failed;

	observe(job);
	run_eval(job, &e, &failed, NULL);
	engine_free(e);
	run_eval(job, &e, &failed, NULL);
	engine_totals(e, &t);
	ck_assert_int_eq((int)t.calls, 40);	/* nothing was written */
	engine_free(e);
	ck_assert_int_eq(count("SELECT count(*) FROM cache"), 0);
	job->cache = CACHE_ON;
	run_eval(job, &e, &failed, NULL);
	engine_free(e);
	job->cache = CACHE_OFF;
	run_eval(job, &e, &failed, NULL);
	engine_totals(e, &t);
	ck_assert_int_eq((int)t.calls, 40);	/* the cache was not read */
	engine_free(e);
	job_free(job);
}
END_TEST

START_TEST(test_budget_stops_exactly)
{
	struct job		*job = load_job(", \"budget\": { \"max_calls\": "
				    "7 }", "\"exact\"");
	struct engine		*e;
	struct run_totals	 t;
	size_t			 failed;
	char			*err = NULL;

	observe(job);
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 7);
	ck_assert_uint_eq(failed, 33);
	ck_assert_str_eq(err, "budget exhausted: max_calls reached");
	engine_totals(e, &t);
	ck_assert_int_eq((int)t.calls, 7);
	ck_assert_int_eq(engine_stopped(e), ENGINE_MAX_CALLS);
	engine_free(e);
	free(err);
	ck_assert_int_eq(count("SELECT count(*) FROM calls"), 7);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations"), 7);
	job_free(job);
}
END_TEST

START_TEST(test_backend_errors_are_recorded)
{
	struct job		*job = load_job("", "\"exact\"");
	struct backend		 fb;
	struct engine		*e;
	size_t			 failed;
	char			*err = NULL;
	char			 name[] = "bad", identity[] = "failing";
	char			 model[] = "m";

	memset(&fb, 0, sizeof fb);
	fb.ops = &fail_ops;
	fb.name = name;
	fb.identity = identity;
	fb.model = model;
	fb.max_in_flight = 4;
	job->task.roles[ROLE_TARGET] = &fb;
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 0);
	ck_assert_uint_eq(failed, 40);
	ck_assert_str_eq(err, "server said no");
	ck_assert_int_eq(fail_calls, 40);
	engine_free(e);
	free(err);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'error' AND error = 'server said no'"), 40);
	ck_assert_int_eq(count("SELECT count(*) FROM cache"), 0);
	/* Each failed evaluation is stored, with its cause and call. */
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations WHERE score "
	    "IS NULL AND error = 'server said no' AND call_id IS NOT NULL"),
	    40);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations WHERE score "
	    "IS NOT NULL"), 0);
	/* The backend kept the latest cause, for status and its breaker. */
	ck_assert_int_eq(fb.health.failures, 40);
	ck_assert_str_eq(fb.health.cause, "server said no");
	free(fb.health.cause);
	job_free(job);
}
END_TEST

START_TEST(test_judge_metric)
{
	struct job		*job = load_job("", "\"judge\"");
	struct engine		*e;
	struct run_totals	 t;
	size_t			 failed;
	char			*err = NULL;

	observe(job);
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 40);
	engine_totals(e, &t);
	/* One target call and one rubric call per example. */
	ck_assert_int_eq((int)t.calls, 80);
	engine_free(e);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE role = "
	    "'judge'"), 40);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations WHERE "
	    "feedback IS NOT NULL"), 40);
	free(err);
	job_free(job);
}
END_TEST

static int
refuse(void *arg, const struct engine_result *res, char **cause)
{
	return cause_set(cause, "callback refused");
}

START_TEST(test_callback_error_stops_engine)
{
	struct job		*job = load_job("", "\"exact\"");
	struct engine		*e;
	struct model_req	 req;
	char			*cause = NULL;

	observe(job);
	e = engine_new(loop, 0, NULL, CACHE_ON);
	task_build_request(&job->task, "x", 0, &req);
	engine_submit(e, job->task.roles[ROLE_TARGET], &req, refuse, NULL);
	ck_assert_int_eq(engine_run(e, &cause), -1);
	ck_assert_str_eq(cause, "callback refused");
	free(cause);
	engine_free(e);
	/* The engine stopped, but what was paid for is kept. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM cache"), 1);
	job_free(job);
}
END_TEST

START_TEST(test_request_keys)
{
	struct job		*job = load_job("", "\"exact\"");
	struct model_req	 a, b;
	char			 ka[65], kb[65];

	task_build_request(&job->task, "x", 0, &a);
	task_build_request(&job->task, "x", 0, &b);
	backend_req_key(job->task.roles[ROLE_TARGET], &a, ka);
	backend_req_key(job->task.roles[ROLE_TARGET], &b, kb);
	ck_assert_str_eq(ka, kb);
	/* The sample index only matters when sampling is random. */
	b.sample = 3;
	backend_req_key(job->task.roles[ROLE_TARGET], &b, kb);
	ck_assert_str_eq(ka, kb);
	a.temperature = b.temperature = 0.7;
	backend_req_key(job->task.roles[ROLE_TARGET], &a, ka);
	backend_req_key(job->task.roles[ROLE_TARGET], &b, kb);
	ck_assert_str_ne(ka, kb);
	model_req_release(&a);
	model_req_release(&b);
	task_build_request(&job->task, "y", 0, &a);
	task_build_request(&job->task, "x", 0, &b);
	backend_req_key(job->task.roles[ROLE_TARGET], &a, ka);
	backend_req_key(job->task.roles[ROLE_TARGET], &b, kb);
	ck_assert_str_ne(ka, kb);
	model_req_release(&a);
	model_req_release(&b);
	job_free(job);
}
END_TEST

/* A job whose target is the exec backend running a shell command. */
static struct job *
backend_job(const char *backend)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"x\", \"task\": { \"dataset\": "
	    "\"data.jsonl\", \"input\": \"Review: {{text}}\", \"target\": "
	    "\"label\", \"metric\": \"exact\", \"splits\": { \"train\": 0,"
	    " \"dev\": 1, \"test\": 0 } }, \"seed_prompts\": [\"Classify.\"],"
	    " \"backends\": { \"x\": %s }, \"roles\": { \"target\": \"x\" } }",
	    backend);
	job = check_job(tmp, text);
	free(text);
	return job;
}

/* A job whose target runs command (a JSON array) with extra keys. */
static struct job *
exec_job(const char *command, const char *extra)
{
	struct job	*job;
	char		*b;

	b = xasprintf("{ \"type\": \"exec\", \"command\": %s%s }", command,
	    extra);
	job = backend_job(b);
	free(b);
	return job;
}

START_TEST(test_exec_backend)
{
	struct job	*job;
	struct engine	*e;
	size_t		 failed;

	/* Plain text on stdout; the request arrives as JSON on stdin. */
	job = exec_job("[\"/bin/sh\", \"-c\", \"grep -q '\\\"kind\\\":"
	    "\\\"chat\\\"' && echo positive || echo nokind\"]",
	    "");
	ck_assert_uint_eq(run_eval(job, &e, &failed, NULL), 40);
	engine_free(e);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations WHERE "
	    "output = 'positive'"), 40);
	ck_assert_int_eq(count("SELECT sum(score) FROM evaluations"), 20);
	job_free(job);

	/* A JSON reply with usage. */
	job = exec_job("\"cat >/dev/null; echo '{\\\"text\\\": \\\"negative"
	    "\\\", \\\"usage\\\": {\\\"prompt_tokens\\\": 7, "
	    "\\\"completion_tokens\\\": 1}}'\"", ", \"model\": \"m2\"");
	ck_assert_uint_eq(run_eval(job, &e, &failed, NULL), 40);
	engine_free(e);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE model = 'm2' "
	    "AND prompt_tokens = 7 AND completion_tokens = 1"), 40);
	job_free(job);
}
END_TEST

START_TEST(test_exec_failures)
{
	struct job	*job;
	struct engine	*e;
	size_t		 failed;
	char		*err = NULL;

	/* A failing command is not retried and its stderr is the reason. */
	job = exec_job("\"echo 'no model loaded' >&2; exit 3\"",
	    ", \"max_retries\": 3, \"retry_base\": 0");
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 0);
	engine_free(e);
	ck_assert_ptr_nonnull(strstr(err, "no model loaded"));
	free(err);
	err = NULL;
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'error'"), 40);
	job_free(job);

	/* Exit 75 asks for a retry: 1 + 2 attempts each. */
	job = exec_job("\"cat >/dev/null; exit 75\"", ", \"max_retries\": 2,"
	    " \"retry_base\": 0, \"model\": \"m75\"");
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 0);
	engine_free(e);
	ck_assert_ptr_nonnull(strstr(err, "retried"));
	free(err);
	err = NULL;
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE model = "
	    "'m75'"), 120);
	ck_assert_int_eq(count("SELECT max(attempt) FROM calls WHERE model = "
	    "'m75'"), 3);
	job_free(job);

	/* A command that hangs is killed at the timeout. */
	job = exec_job("\"sleep 10\"", ", \"timeout\": 0.2, \"max_retries\":"
	    " 0, \"max_in_flight\": 40, \"model\": \"slow\"");
	ck_assert_uint_eq(run_eval(job, &e, &failed, &err), 0);
	engine_free(e);
	ck_assert_ptr_nonnull(strstr(err, "timed out"));
	free(err);
	job_free(job);
}
END_TEST

struct seen {
	int	ok;
	int	cached;
};

static int
remember(void *arg, const struct engine_result *res, char **cause)
{
	struct seen	*s = arg;

	s->ok += res->ok && strcmp(res->resp->text, "positive") == 0;
	s->cached += res->cached;
	return 0;
}

/*
 * Submits prompts[0 .. n-1] at once to a command that counts its runs in
 * a file and is slow to answer (backend keys extra), runs them, and
 * returns what the command wrote: one line per run.
 */
static char *
slow_runs(const char *const *prompts, size_t n, const char *extra,
    enum cache_mode cache, struct seen *seen, struct run_totals *t)
{
	struct job		*job;
	struct engine		*e;
	struct model_req	 req;
	char			*cmd, *cause = NULL, *count_path, *text = NULL;
	size_t			 i;

	count_path = xasprintf("%s/runs", tmp);
	cmd = xasprintf("\"cat >/dev/null; echo run >>%s; sleep 0.2; "
	    "echo positive\"", count_path);
	job = exec_job(cmd, extra);
	e = engine_new(loop, 0, NULL, cache);
	for (i = 0; i < n; i++) {
		task_build_request(&job->task, prompts[i], 0, &req);
		engine_submit(e, job->task.roles[ROLE_TARGET], &req, remember, seen);
	}
	ck_assert_int_eq(engine_run(e, &cause), 0);
	engine_totals(e, t);
	engine_free(e);
	ck_assert_int_eq(file_read(count_path, 1000, &text, NULL, &cause), 0);
	free(cmd);
	free(count_path);
	job_free(job);
	return text;
}

START_TEST(test_coalescing)
{
	const char		*prompts[] = { "Same.", "Same.", "Same." };
	struct seen		 seen = { 0, 0 };
	struct run_totals	 t;
	char			*text;

	text = slow_runs(prompts, 3, ", \"max_in_flight\": 8", CACHE_ON, &seen,
	    &t);
	ck_assert_int_eq(seen.ok, 3);
	ck_assert_int_eq(seen.cached, 2);
	ck_assert_int_eq((int)t.calls, 1);
	ck_assert_int_eq((int)t.hits, 2);
	ck_assert_str_eq(text, "run\n");
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'hit'"), 2);
	free(text);
}
END_TEST

/*
 * A duplicate of a request still waiting for room (not yet in flight)
 * waits for its answer too: with one request in flight at a time, the
 * second copy of the queued prompt is never sent.
 */
START_TEST(test_coalescing_queued)
{
	const char		*prompts[] = { "First.", "Second.", "Second." };
	struct seen		 seen = { 0, 0 };
	struct run_totals	 t;
	char			*text;

	text = slow_runs(prompts, 3, ", \"max_in_flight\": 1", CACHE_OFF,
	    &seen, &t);
	ck_assert_int_eq(seen.ok, 3);
	ck_assert_int_eq(seen.cached, 1);
	ck_assert_int_eq((int)t.calls, 2);
	ck_assert_str_eq(text, "run\nrun\n");
	free(text);
}
END_TEST

/* Turns the loop until neither engine has work left. */
static void
run_both(struct engine *a, struct engine *b)
{
	while ((a != NULL && engine_busy(a)) || engine_busy(b))
		ck_assert_int_ge(engine_loop_turn(loop, 100, NULL, NULL, 0), 0);
	ck_assert_int_eq(engine_loop_flush(loop), 0);
}

/*
 * Two jobs (two engines of one loop) asking the same at once pay once:
 * the second waits on the first's call and gets its answer as a hit in
 * its own run.  When the first job is cancelled before the answer, the
 * second's request goes on by itself.
 */
START_TEST(test_coalescing_jobs)
{
	struct job		*job;
	struct engine		*a, *b;
	struct model_req	 req;
	struct seen		 sa = { 0, 0 }, sb = { 0, 0 };
	char			*cmd, *cause = NULL, *count_path, *text = NULL;
	int64_t			 j, ra, rb;

	count_path = xasprintf("%s/runs", tmp);
	cmd = xasprintf("\"cat >/dev/null; echo run >>%s; sleep 0.2; "
	    "echo positive\"", count_path);
	job = exec_job(cmd, ", \"max_in_flight\": 8");
	ck_assert_int_gt(j = store_job_put(store, "two", "{}", &cause), 0);
	ck_assert_int_gt(ra = store_run_new(store, j, "eval", 0, &cause), 0);
	ck_assert_int_gt(rb = store_run_new(store, j, "eval", 0, &cause), 0);
	a = engine_new(loop, ra, NULL, CACHE_OFF);
	b = engine_new(loop, rb, NULL, CACHE_OFF);
	/* The first asks; a turn later, the second asks the same. */
	task_build_request(&job->task, "Same.", 0, &req);
	engine_submit(a, job->task.roles[ROLE_TARGET], &req, remember, &sa);
	ck_assert_int_ge(engine_loop_turn(loop, 0, NULL, NULL, 0), 0);
	task_build_request(&job->task, "Same.", 0, &req);
	engine_submit(b, job->task.roles[ROLE_TARGET], &req, remember, &sb);
	run_both(a, b);
	ck_assert_int_eq(sa.ok, 1);
	ck_assert_int_eq(sa.cached, 0);
	ck_assert_int_eq(sb.ok, 1);
	ck_assert_int_eq(sb.cached, 1);
	ck_assert_int_eq(file_read(count_path, 1000, &text, NULL, &cause), 0);
	ck_assert_str_eq(text, "run\n");
	free(text);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok' AND run_id = 1"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'hit' AND run_id = 2"), 1);

	/* The first job goes away while the second waits on its call. */
	task_build_request(&job->task, "Other.", 0, &req);
	engine_submit(a, job->task.roles[ROLE_TARGET], &req, remember, &sa);
	ck_assert_int_ge(engine_loop_turn(loop, 0, NULL, NULL, 0), 0);
	task_build_request(&job->task, "Other.", 0, &req);
	engine_submit(b, job->task.roles[ROLE_TARGET], &req, remember, &sb);
	ck_assert_int_ge(engine_loop_turn(loop, 0, NULL, NULL, 0), 0);
	ck_assert(engine_busy(b));
	engine_cancel(a, "cancelled");
	engine_free(a);
	run_both(NULL, b);
	ck_assert_int_eq(sb.ok, 2);
	ck_assert_int_eq(sb.cached, 1);
	engine_free(b);
	free(cmd);
	free(count_path);
	job_free(job);
}
END_TEST

struct chain {
	struct job	*job;
	struct engine	*e;
	struct chain	*next;
	char		*text;
};

static int
keep_text(void *arg, const struct engine_result *res, char **cause)
{
	char	**text = arg;

	*text = xstrdup(res->ok ? res->resp->text : res->error);
	return 0;
}

/* Starts the mock with a script of one rule; returns its base URL. */
static char *
mock_rule(const char *name, const char *rule, pid_t *pid)
{
	const char	*args[] = { "-i", "30", "-s", NULL, NULL };
	char		*script, *url;
	FILE		*f;

	script = xasprintf("%s/%s.json", tmp, name);
	f = fopen(script, "w");
	fprintf(f, "{ \"rules\": [ %s ] }", rule);
	fclose(f);
	args[3] = script;
	url = check_mock_start(tmp, name, args, pid);
	free(script);
	return url;
}

/*
 * Submits sample numbers samples[0 .. n-1] of one request to an openai
 * target at the mock (base URL url, n 4) and runs them; texts[i] gets
 * sample i's answer.  The first nfirst are sent before the others are
 * submitted.  Returns the calls paid.
 */
static long long
run_samples(const char *url, const unsigned *samples, size_t n,
    size_t nfirst, char **texts)
{
	struct job		*job;
	struct engine		*e;
	struct model_req	 req;
	struct run_totals	 t;
	char			*b, *cause = NULL;
	size_t			 i;

	b = xasprintf("{ \"type\": \"openai\", \"model\": \"m\", "
	    "\"base_url\": \"%s/v1\", \"api_key_env\": \"PROMPTD_NO_KEY\", "
	    "\"temperature\": 0.7, \"n\": 4 }", url);
	job = backend_job(b);
	free(b);
	e = engine_new(loop, 0, NULL, CACHE_ON);
	for (i = 0; i < n; i++) {
		if (i == nfirst)
			engine_loop_turn(loop, 0, NULL, NULL, 0);
		task_build_request(&job->task, "Same.", 0, &req);
		req.sample = samples[i];
		engine_submit(e, job->task.roles[ROLE_TARGET], &req, keep_text,
		    &texts[i]);
	}
	ck_assert_msg(engine_run(e, &cause) == 0, "%s", cause);
	engine_totals(e, &t);
	engine_free(e);
	job_free(job);
	return t.calls;
}

/*
 * OpenAI's n: samples of one request in the same block of 4 that wait
 * together are one call (0-3 with n 4, then 4-5 with n 2; 9 alone is an
 * ordinary call), each gets its own choice (the mock's echo says which),
 * and each choice is cached as its sample.  A server that sends fewer
 * choices than asked gets the rest asked for one at a time.
 */
START_TEST(test_samples_in_one_call)
{
	const unsigned	 samples[] = { 0, 1, 2, 3, 5, 4, 9 };
	const char	*want[] = { "mock: ", "mock #1: ", "mock #2: ",
			    "mock #3: ", "mock #1: ", "mock: ", "mock: " };
	const char	*idle[] = { "-i", "30", NULL };
	char		*texts[7], *url;
	size_t		 i;
	pid_t		 pid, pid2;

	url = check_mock_start(tmp, "port", idle, &pid);
	ck_assert_int_eq(run_samples(url, samples, 7, 7, texts), 3);
	for (i = 0; i < 7; i++) {
		ck_assert_msg(strncmp(texts[i], want[i], strlen(want[i])) == 0,
		    "sample %u: %s", samples[i], texts[i]);
		free(texts[i]);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), 3);
	/* Every choice was cached as its sample: nothing is paid again. */
	ck_assert_int_eq(run_samples(url, samples, 7, 7, texts), 0);
	for (i = 0; i < 7; i++) {
		ck_assert_msg(strncmp(texts[i], want[i], strlen(want[i])) == 0,
		    "cached sample %u: %s", samples[i], texts[i]);
		free(texts[i]);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(url);

	/* One choice whatever n says (as the llama.cpp server). */
	url = mock_rule("port2", "{ \"path\": \"/v1/chat/completions\", "
	    "\"max_choices\": 1 }", &pid2);
	engine_loop_free(loop);
	store_close(store);
	unlink(dbpath);
	ck_assert_ptr_nonnull(store = store_open(dbpath, NULL));
	loop = engine_loop_new(store);
	ck_assert_int_eq(run_samples(url, samples, 3, 3, texts), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_msg(strncmp(texts[i], "mock: ", 6) == 0, "%s",
		    texts[i]);
		free(texts[i]);
	}
	kill(pid2, SIGTERM);
	waitpid(pid2, NULL, 0);
	free(url);
}
END_TEST

/* Runs samples (the first nfirst sent first) and checks each text. */
static void
samples_are(const char *url, const unsigned *samples, size_t n,
    size_t nfirst, long long calls, const char *const *want)
{
	char	*texts[8];
	size_t	 i;

	ck_assert_int_eq(run_samples(url, samples, n, nfirst, texts), calls);
	for (i = 0; i < n; i++) {
		ck_assert_msg(strncmp(texts[i], want[i], strlen(want[i])) == 0,
		    "sample %u: %s", samples[i], texts[i]);
		free(texts[i]);
	}
}

/*
 * A sample never costs twice: one cached is not asked for again by a
 * call for its block, a call under way answers a sample it asked for
 * (rather than a later call for the block), and a call asks for no
 * sample between those wanted (8 and 10 are two ordinary calls, 9 is
 * not fetched).
 */
START_TEST(test_samples_not_twice)
{
	const unsigned	 s0[] = { 0 }, s10[] = { 1, 0 };
	const unsigned	 s01[] = { 4, 5, 6, 5 }, s23[] = { 2, 3 };
	const unsigned	 s14[] = { 1, 4 }, s810[] = { 8, 10 };
	const char	*w0[] = { "mock: " }, *w10[] = { "mock: ", "mock: " };
	const char	*w01[] = { "mock: ", "mock #1: ", "mock: ",
			    "mock #1: " };
	const char	*w23[] = { "mock: ", "mock #1: " };
	char		*url;
	pid_t		 pid;

	url = mock_rule("port", "{ \"path\": \"/v1/chat/completions\", "
	    "\"delay_ms\": 300 }", &pid);
	samples_are(url, s0, 1, 1, 1, w0);
	/* 0 is cached: 1 is an ordinary call, not choice 1 of a block. */
	samples_are(url, s10, 2, 2, 1, w10);
	/* 4 and 5 go out as one call; 6 and a second 5 come while it is
	 * under way: the 5 waits for it, the 6 is a call of its own. */
	samples_are(url, s01, 4, 2, 2, w01);
	samples_are(url, s23, 2, 2, 1, w23);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), 5);
	samples_are(url, s14, 2, 2, 0, w10);
	samples_are(url, s810, 2, 2, 2, w10);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(url);
}
END_TEST

/*
 * Inside engine_run a transaction may span turns, but a call made from
 * an answer (here: the callback of the first request submits a second)
 * is only sent once that answer is committed: the second command counts
 * the committed call rows and must see the first.
 */
static int
submit_next(void *arg, const struct engine_result *res, char **cause)
{
	struct chain	*c = arg;
	struct model_req req;

	if (c->next != NULL) {
		task_build_request(&c->job->task, "Second.", 0,
		    &req);
		engine_submit(c->e, c->job->task.roles[ROLE_TARGET], &req,
		    submit_next, c->next);
	}
	c->text = xstrdup(res->ok ? res->resp->text : res->error);
	return 0;
}

START_TEST(test_derived_after_commit)
{
	struct job		*job;
	struct model_req	 req;
	struct chain		 second = { NULL, NULL, NULL, NULL };
	struct chain		 first = { NULL, NULL, &second, NULL };
	char			*cmd, *cause = NULL;

	if (system("command -v sqlite3 >/dev/null 2>&1") != 0)
		return;		/* the README's install has it */
	cmd = xasprintf("[\"/bin/sh\", \"-c\", \"cat >/dev/null; sqlite3 "
	    "'%s' 'SELECT count(*) FROM calls'\"]", dbpath);
	job = exec_job(cmd, "");
	first.job = second.job = job;
	first.e = second.e = engine_new(loop, 0, NULL, CACHE_ON);
	task_build_request(&job->task, "First.", 0, &req);
	engine_submit(first.e, job->task.roles[ROLE_TARGET], &req, submit_next,
	    &first);
	ck_assert_msg(engine_run(first.e, &cause) == 0, "%s", cause);
	ck_assert_str_eq(first.text, "0");
	ck_assert_str_eq(second.text, "1");
	engine_free(first.e);
	free(first.text);
	free(second.text);
	free(cmd);
	job_free(job);
}
END_TEST

/*
 * engine_run_woken() returns once a callback wakes the engine, though
 * what that callback submitted is still to do; without a wake it runs
 * until nothing is left, as engine_run() does.
 */
struct woken {
	struct engine	*e;
	struct job	*job;
	int		 first;
	int		 second;
};

static int
woken_second(void *arg, const struct engine_result *res, char **cause)
{
	((struct woken *)arg)->second++;
	return 0;
}

static int
woken_first(void *arg, const struct engine_result *res, char **cause)
{
	struct woken		*w = arg;
	struct model_req	 req;

	w->first++;
	task_build_request(&w->job->task, "Second.", 1, &req);
	engine_submit(w->e, w->job->task.roles[ROLE_TARGET], &req,
	    woken_second, w);
	engine_wake(w->e);
	return 0;
}

START_TEST(test_run_woken)
{
	struct woken		 w;
	struct model_req	 req;
	char			*cause = NULL;

	memset(&w, 0, sizeof w);
	w.job = load_job("", "\"exact\"");
	observe(w.job);
	w.e = engine_new(loop, 0, NULL, CACHE_ON);
	task_build_request(&w.job->task, "First.", 0, &req);
	engine_submit(w.e, w.job->task.roles[ROLE_TARGET], &req, woken_first,
	    &w);
	ck_assert_msg(engine_run_woken(w.e, &cause) == 0, "%s", cause);
	ck_assert_int_eq(w.first, 1);
	ck_assert_int_eq(w.second, 0);
	ck_assert(engine_busy(w.e));
	ck_assert_uint_eq(engine_wakes(w.e), 1);
	ck_assert_msg(engine_run_woken(w.e, &cause) == 0, "%s", cause);
	ck_assert_int_eq(w.second, 1);
	ck_assert(!engine_busy(w.e));
	ck_assert_uint_eq(engine_wakes(w.e), 1);
	engine_free(w.e);
	job_free(w.job);
}
END_TEST

/* An evaluation batch wakes the engine once, when its last item is in. */
START_TEST(test_eval_wakes)
{
	struct job		*job;
	struct engine		*e;
	struct eval_item	 items[2][3];
	struct eval_batch	*b[2];
	char			*cause = NULL;
	size_t			 i, k;
	int64_t			 cand;

	job = load_job("", "\"exact\"");
	observe(job);
	e = eval_engine(job, &cand);
	memset(items, 0, sizeof items);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 3; i++) {
			items[k][i].prompt = job->seeds[0];
			items[k][i].candidate = cand;
			items[k][i].example = 3 * k + i;
		}
		b[k] = eval_start(e, &job->task, items[k], 3);
		ck_assert(!eval_finished(b[k]));
	}
	while (!eval_finished(b[0]) || !eval_finished(b[1]))
		ck_assert_msg(engine_run_woken(e, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(engine_wakes(e), 2);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 3; i++)
			ck_assert(items[k][i].done);
		eval_end(b[k]);
		eval_items_release(items[k], 3);
	}
	engine_free(e);
	job_free(job);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite	*s = suite_create("engine");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cache_second_run_is_free);
	tcase_add_test(tc, test_cache_modes);
	tcase_add_test(tc, test_budget_stops_exactly);
	tcase_add_test(tc, test_backend_errors_are_recorded);
	tcase_add_test(tc, test_judge_metric);
	tcase_add_test(tc, test_callback_error_stops_engine);
	tcase_add_test(tc, test_request_keys);
	tcase_add_test(tc, test_exec_backend);
	tcase_add_test(tc, test_exec_failures);
	tcase_add_test(tc, test_coalescing);
	tcase_add_test(tc, test_coalescing_queued);
	tcase_add_test(tc, test_coalescing_jobs);
	tcase_add_test(tc, test_samples_in_one_call);
	tcase_add_test(tc, test_samples_not_twice);
	tcase_add_test(tc, test_derived_after_commit);
	tcase_add_test(tc, test_run_woken);
	tcase_add_test(tc, test_eval_wakes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(engine_suite)
