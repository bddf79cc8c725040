/*
 * Tests of the read-only queries: a small simulated job is run to the end
 * with the APE strategy (as promptd --once does), then every query is
 * checked for its shape and its values, and for its errors.
 */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "check_common.h"
#include "cmd.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "query.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static char			*tmp;
static struct job		*job;
static struct store		*store;
static struct engine_loop	*loop;

static const char *const good[] = { "a delight", "wonderful", "moving",
    "sharp and funny", "a joy to watch" };
static const char *const bad[] = { "a chore", "dull", "lifeless",
    "a waste of time", "badly acted" };

static void
write_file(const char *name, const char *text)
{
	char	*p;
	FILE	*f;

	p = xasprintf("%s/%s", tmp, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/*
 * Writes job name's file (the task on data.jsonl, simulated backends)
 * with this strategy and loads it.
 */
static struct job *
job_write(const char *name, const char *strategy)
{
	struct job	*j;
	char		*file, *text, *p, *cause = NULL;

	file = xasprintf("%s.json", name);
	text = xasprintf("{ \"name\": \"%s\", \"description\": \"d\","
	    " \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"Review: {{text}}\\nSentiment:\","
	    " \"target\": \"label\","
	    " \"metric\": { \"type\": \"exact\", \"normalize\": [\"case\","
	    " \"whitespace\", \"punctuation\"] },"
	    " \"splits\": { \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3,"
	    " \"seed\": 7 } },"
	    " \"seed_prompts\": [\"Classify the review.\", \"Read the review "
	    "and answer with only the label: positive or negative.\"],"
	    " \"backends\": { \"s\": { \"type\": \"sim\", \"seed\": 1,"
	    " \"price\": { \"input\": 0.15, \"output\": 0.6 } } },"
	    " \"roles\": { \"target\": \"s\", \"optimizer\": \"s\" },"
	    " \"budget\": { \"max_calls\": 2000 },"
	    " \"strategy\": %s, \"seed\": 1 }", name, strategy);
	write_file(file, text);
	p = xasprintf("%s/%s", tmp, file);
	j = job_load(p, NULL, &cause);
	ck_assert_msg(j != NULL, "%s", cause);
	free(p);
	free(text);
	free(file);
	return j;
}

/* Steps a started run at most n times; returns jobrun_step()'s last. */
static int
steps(struct jobrun *jr, int n)
{
	char	*cause = NULL;
	int	 rc = 1;

	while (n-- > 0 && (rc = jobrun_step(jr, &cause)) == 1)
		;
	ck_assert_msg(rc >= 0, "%s", cause);
	return rc;
}

/* Writes the dataset and the job, runs the job to the end. */
static void
setup(void)
{
	struct jobrun	 jr;
	FILE		*f;
	char		*p, *db, *cause = NULL;
	int		 i, rc;

	tmp = check_tmpdir();
	p = xasprintf("%s/data.jsonl", tmp);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < 60; i++)
		fprintf(f, "{\"text\": \"The film number %d was %s.\", "
		    "\"label\": \"%s\"}\n", i, i % 2 ? good[i % 5] : bad[i % 5],
		    i % 2 ? "positive" : "negative");
	fclose(f);
	free(p);
	job = job_write("q", "{ \"name\": \"ape\", \"resample\": 1 }");
	db = xasprintf("%s/db", tmp);
	store = store_open(db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	free(db);
	loop = engine_loop_new(store);
	rc = jobrun_start(&jr, job, loop, "optimize", &cause);
	ck_assert_msg(rc == 0, "%s", cause);
	ck_assert_int_eq(steps(&jr, INT_MAX), 0);
	rc = jobrun_finish(&jr, &cause);
	ck_assert_msg(rc == 0, "%s", cause);
	ck_assert_ptr_nonnull(jr.champion);
	jobrun_release(&jr);
}

static void
teardown(void)
{
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
	check_rmtree(tmp);
	free(tmp);
}

/* Runs a query that must succeed; args is JSON text or NULL. */
static cJSON *
run_ok(const char *cmd, const char *args)
{
	cJSON		*a = NULL, *r = NULL;
	const char	*code = NULL;
	char		*cause = NULL;
	int		 rc;

	if (args != NULL)
		ck_assert_ptr_nonnull(a = cJSON_Parse(args));
	rc = query_run(store, cmd, a, &r, &code, &cause);
	ck_assert_msg(rc == 0, "%s %s: %s: %s", cmd, args, code, cause);
	ck_assert_ptr_nonnull(r);
	cJSON_Delete(a);
	return r;
}

/* Runs a query that must fail with code; returns the message. */
static char *
run_fail(const char *cmd, const char *args, const char *want)
{
	cJSON		*a = NULL, *r = NULL;
	const char	*code = NULL;
	char		*cause = NULL;
	int		 rc;

	if (args != NULL)
		ck_assert_ptr_nonnull(a = cJSON_Parse(args));
	rc = query_run(store, cmd, a, &r, &code, &cause);
	ck_assert_msg(rc == -1, "%s %s: returned %d", cmd, args, rc);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(code, want);
	ck_assert_ptr_nonnull(cause);
	cJSON_Delete(a);
	return cause;
}

static const cJSON *
get(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(v != NULL, "no key '%s'", key);
	return v;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON	*v = get(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
	return v->valuedouble;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON	*v = get(o, key);

	ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
	return v->valuestring;
}

/* Checks that o has exactly these keys. */
static void
keys(const cJSON *o, const char *const *want, size_t n)
{
	const cJSON	*v;
	size_t		 i, count = 0;

	for (i = 0; i < n; i++)
		(void)get(o, want[i]);
	cJSON_ArrayForEach(v, o)
		count++;
	ck_assert_uint_eq(count, n);
}

START_TEST(test_list)
{
	static const char *const k[] = { "name", "state", "reason", "runs",
	    "step", "best", "calls", "dollars", "champion" };
	cJSON		*r;
	const cJSON	*jobs, *e;

	r = run_ok("list", NULL);
	jobs = get(r, "jobs");
	ck_assert(cJSON_IsArray(jobs));
	ck_assert_int_eq(cJSON_GetArraySize(jobs), 1);
	e = cJSON_GetArrayItem(jobs, 0);
	keys(e, k, nitems(k));
	ck_assert_str_eq(str(e, "name"), "q");
	ck_assert_str_eq(str(e, "state"), "done");
	ck_assert(cJSON_IsNull(get(e, "reason")));
	ck_assert(num(e, "runs") == 1);
	ck_assert(num(e, "step") >= 1);
	ck_assert(num(e, "best") >= 0 && num(e, "best") <= 1);
	ck_assert(num(e, "calls") > 0);
	ck_assert(num(e, "dollars") > 0);
	ck_assert(num(e, "champion") == 1);
	cJSON_Delete(r);

	/* Arguments are ignored by list but must be an object. */
	cJSON_Delete(run_ok("list", "{}"));
	free(run_fail("list", "[1]", "usage"));
}
END_TEST

START_TEST(test_status)
{
	cJSON		*r, *l;
	const cJSON	*e;
	const char	*code = NULL;
	char		*cause = NULL;

	r = run_ok("status", "{\"job\": \"q\"}");
	/* The list entry, and more. */
	l = run_ok("list", NULL);
	cJSON_ArrayForEach(e, cJSON_GetArrayItem(get(l, "jobs"), 0))
		ck_assert_msg(cJSON_Compare(e, get(r, e->string), 1),
		    "status and list differ on '%s'", e->string);
	cJSON_Delete(l);
	ck_assert_str_eq(str(r, "strategy"), "ape");
	ck_assert_str_eq(str(r, "description"), "d");
	ck_assert(num(r, "run") >= 1);
	ck_assert_str_eq(str(r, "kind"), "optimize");
	ck_assert_str_eq(str(r, "run_state"), "done");
	ck_assert(num(r, "started") > 0);
	ck_assert(num(r, "ended") >= num(r, "started"));
	ck_assert(num(get(r, "budget"), "max_calls") == 2000);
	ck_assert(cJSON_IsNull(get(r, "schedule")));
	ck_assert(num(r, "candidate") > 0);
	ck_assert(num(r, "lo") <= num(r, "best"));
	ck_assert(num(r, "hi") >= num(r, "best"));
	ck_assert(num(r, "tokens") > 0);
	ck_assert(strlen(str(r, "text")) > 0);
	/* APE asked the optimizer; sim's replies are all usable. */
	e = get(get(r, "replies"), "optimizer");
	ck_assert(num(e, "total") > 0);
	ck_assert(num(e, "usable") == num(e, "total"));
	ck_assert(num(get(e, "outcomes"), "usable") == num(e, "total"));
	ck_assert(cJSON_IsNull(get(e, "commonest")));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(get(r, "replies"),
	    "judge"));
	ck_assert(cJSON_IsNull(get(r, "failures")));
	cJSON_Delete(r);

	/* Without a job, status is the daemon's, not a query. */
	ck_assert_int_eq(query_run(store, "status", NULL, &r, &code, &cause),
	    1);
	ck_assert_ptr_null(r);
	ck_assert(!query_is_query("status", NULL));
	ck_assert(query_is_query("list", NULL));
	ck_assert_int_eq(query_run(store, "submit", NULL, &r, &code, &cause),
	    1);
	ck_assert_int_eq(query_run(store, "nonsense", NULL, &r, &code,
	    &cause), 1);
	ck_assert_ptr_null(cause);
}
END_TEST

/*
 * Sorted by tokens, fewest first; on the Pareto front exactly those of a
 * mean above every candidate of fewer tokens (the first of equals).
 */
static void
pareto_check(void)
{
	cJSON		*r;
	const cJSON	*arr, *c, *d;
	double		 prev = -1, top = -1;
	int		 front, on = 0;

	r = run_ok("leaderboard", "{\"job\": \"q\", \"limit\": 10000,"
	    " \"sort\": \"tokens\"}");
	arr = get(r, "candidates");
	cJSON_ArrayForEach(c, arr) {
		ck_assert(num(c, "tokens") >= prev);
		/* Of the same tokens, the one of highest mean comes first. */
		front = num(c, "mean") > top;
		ck_assert_int_eq(cJSON_IsTrue(get(c, "pareto")), front);
		on += cJSON_IsTrue(get(c, "pareto"));
		/* None on the front is beaten by one as cheap. */
		if (cJSON_IsTrue(get(c, "pareto")))
			cJSON_ArrayForEach(d, arr)
				ck_assert(num(d, "tokens") > num(c, "tokens") ||
				    num(d, "mean") <= num(c, "mean"));
		if (num(c, "mean") > top)
			top = num(c, "mean");
		prev = num(c, "tokens");
	}
	ck_assert_int_gt(on, 0);
	cJSON_Delete(r);
	r = run_ok("leaderboard", "{\"job\": \"q\", \"sort\": \"score\"}");
	cJSON_Delete(r);
}

START_TEST(test_leaderboard)
{
	static const char *const k[] = { "id", "text", "mean", "lo", "hi",
	    "n", "tokens", "pareto", "origin", "champion" };
	cJSON		*r, *b;
	const cJSON	*arr, *c;
	double		 prev = 2;
	int		 found = 0;

	r = run_ok("leaderboard", "{\"job\": \"q\", \"limit\": 10000}");
	arr = get(r, "candidates");
	ck_assert(cJSON_GetArraySize(arr) > 10);
	cJSON_ArrayForEach(c, arr) {
		keys(c, k, nitems(k));
		ck_assert(num(c, "mean") <= prev);
		prev = num(c, "mean");
		ck_assert(num(c, "lo") >= 0 && num(c, "lo") <= num(c, "mean"));
		ck_assert(num(c, "hi") <= 1 && num(c, "hi") >= num(c, "mean"));
		ck_assert(num(c, "n") >= 1);
		ck_assert(strlen(str(c, "text")) > 0);
		ck_assert_int_eq((long long)num(c, "tokens"),
		    tokens_estimate(str(c, "text")));
		(void)str(c, "origin");
	}
	/* The best by mean is on the Pareto front. */
	ck_assert(cJSON_IsTrue(get(cJSON_GetArrayItem(arr, 0), "pareto")));
	/* The champion is there with the score it was promoted with. */
	b = run_ok("best", "{\"job\": \"q\"}");
	cJSON_ArrayForEach(c, arr)
		if (num(c, "id") == num(b, "candidate")) {
			found = 1;
			ck_assert_double_eq_tol(num(c, "mean"), num(b, "score"),
			    1e-9);
			ck_assert_str_eq(str(c, "text"), str(b, "text"));
		}
	ck_assert(found);
	ck_assert_double_eq_tol(num(cJSON_GetArrayItem(arr, 0), "mean"),
	    num(b, "score"), 1e-9);
	cJSON_Delete(b);
	cJSON_Delete(r);

	r = run_ok("leaderboard", "{\"job\": \"q\"}");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "candidates")),
	    QUERY_LEADERBOARD_LIMIT);
	cJSON_Delete(r);
	r = run_ok("leaderboard", "{\"job\": \"q\", \"limit\": 3}");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "candidates")), 3);
	cJSON_Delete(r);
	r = run_ok("leaderboard", "{\"job\": \"q\", \"limit\": null}");
	cJSON_Delete(r);

	free(run_fail("leaderboard", "{\"job\": \"q\", \"limit\": 0}",
	    "usage"));
	free(run_fail("leaderboard", "{\"job\": \"q\", \"limit\": 2.5}",
	    "usage"));
	free(run_fail("leaderboard", "{\"job\": \"q\", \"limit\": \"3\"}",
	    "usage"));
	free(run_fail("leaderboard", "{\"job\": \"q\", \"limit\": 10001}",
	    "usage"));
	free(run_fail("leaderboard", "{\"job\": \"q\", \"sort\": \"cost\"}",
	    "usage"));
	pareto_check();
}
END_TEST

START_TEST(test_best_export_history)
{
	static const char *const kb[] = { "candidate", "text", "tokens",
	    "version", "score", "lo", "hi" };
	static const char *const ke[] = { "text", "version", "score", "lo",
	    "hi", "time" };
	static const char *const kh[] = { "version", "candidate", "text",
	    "score", "lo", "hi", "reason", "time", "run", "risk", "test" };
	static const char *const kh2[] = { "version", "candidate", "text",
	    "score", "lo", "hi", "reason", "time", "p", "delta", "paired",
	    "risk" };
	static const char *const kt[] = { "score", "lo", "hi", "n" };
	static const char *const kr[] = { "measure", "threshold", "bound",
	    "max", "confidence", "n", "text" };
	struct champion_record	 rec;
	cJSON			*b, *e, *h;
	const cJSON		*arr, *v, *t;
	char			*cause = NULL;

	b = run_ok("best", "{\"job\": \"q\"}");
	keys(b, kb, nitems(kb));
	ck_assert(num(b, "version") == 1);
	ck_assert(num(b, "lo") <= num(b, "score"));
	ck_assert(num(b, "score") <= num(b, "hi"));
	ck_assert(num(b, "lo") >= 0 && num(b, "hi") <= 1);

	e = run_ok("export", "{\"job\": \"q\"}");
	keys(e, ke, nitems(ke));
	ck_assert_str_eq(str(e, "text"), str(b, "text"));
	ck_assert(num(e, "version") == 1);
	ck_assert(num(e, "score") == num(b, "score"));
	ck_assert(num(e, "time") > 0);

	h = run_ok("history", "{\"job\": \"q\"}");
	arr = get(h, "champions");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	v = cJSON_GetArrayItem(arr, 0);
	keys(v, kh, nitems(kh));
	ck_assert(num(v, "version") == 1);
	ck_assert(num(v, "candidate") == num(b, "candidate"));
	ck_assert_str_eq(str(v, "text"), str(b, "text"));
	ck_assert(strlen(str(v, "reason")) > 0);
	ck_assert(num(v, "time") == num(e, "time"));
	/* The first champion: its run and test score, no paired test. */
	ck_assert(num(v, "run") >= 1);
	t = get(v, "test");
	keys(t, kt, nitems(kt));
	ck_assert(num(t, "n") > 0);
	ck_assert(num(t, "lo") <= num(t, "score"));
	ck_assert(num(t, "score") <= num(t, "hi"));
	cJSON_Delete(h);

	/* One promoted by a paired test, by no run, not measured on test. */
	memset(&rec, 0, sizeof rec);
	rec.job = store_job_find(store, "q", &cause);
	rec.candidate = (int64_t)num(b, "candidate");
	rec.score = 0.9;
	rec.lo = 0.8;
	rec.hi = 1;
	rec.p = 0.01;
	rec.delta = 0.125;
	rec.paired = 30;
	rec.reason = "by hand";
	/* With a risk bound (the job's "risk"). */
	snprintf(rec.risk.measure, sizeof rec.risk.measure, "share_below");
	rec.risk.param = 0.5;
	rec.risk.bound = 0.125;
	rec.risk.max = 0.25;
	rec.risk.confidence = 0.9;
	rec.risk.n = 58;
	ck_assert_msg(store_champion_add(store, &rec, &cause) == 0, "%s",
	    cause);
	h = run_ok("history", "{\"job\": \"q\"}");
	ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(get(h, "champions"), 0),
	    "risk")));
	v = cJSON_GetArrayItem(get(h, "champions"), 1);
	keys(v, kh2, nitems(kh2));
	ck_assert(num(v, "p") == 0.01);
	ck_assert(num(v, "delta") == 0.125);
	ck_assert(num(v, "paired") == 30);
	t = get(v, "risk");
	keys(t, kr, nitems(kr));
	ck_assert_str_eq(str(t, "measure"), "share_below");
	ck_assert(num(t, "threshold") == 0.5);
	ck_assert(num(t, "bound") == 0.125);
	ck_assert(num(t, "max") == 0.25);
	ck_assert(num(t, "confidence") == 0.9);
	ck_assert(num(t, "n") == 58);
	ck_assert_str_eq(str(t, "text"), "share of dev examples below 0.5, "
	    "90% confidence, 58 examples");
	cJSON_Delete(b);
	b = run_ok("status", "{\"job\": \"q\"}");
	ck_assert(cJSON_Compare(get(b, "risk"), t, 1));
	cJSON_Delete(b);
	cJSON_Delete(e);
	cJSON_Delete(h);
}
END_TEST

START_TEST(test_events)
{
	static const char *const k[] = { "id", "time", "level", "message",
	    "run" };
	cJSON		*r, *t, *a;
	const cJSON	*arr, *e;
	char		*s;
	double		 prev = 0, first, last = 0;
	int		 n;

	r = run_ok("events", "{\"job\": \"q\"}");
	arr = get(r, "events");
	n = cJSON_GetArraySize(arr);
	ck_assert(n >= 3);
	cJSON_ArrayForEach(e, arr) {
		keys(e, k, nitems(k));
		ck_assert(num(e, "id") > prev);
		prev = last = num(e, "id");
		ck_assert(num(e, "run") >= 1);
		ck_assert(strlen(str(e, "message")) > 0);
		ck_assert_str_eq(str(e, "level"), "info");
	}
	first = num(cJSON_GetArrayItem(arr, 0), "id");

	/* Without "after": the last limit events, in order. */
	t = run_ok("events", "{\"job\": \"q\", \"limit\": 2}");
	ck_assert_int_eq(cJSON_GetArraySize(get(t, "events")), 2);
	ck_assert(num(cJSON_GetArrayItem(get(t, "events"), 1), "id") == last);
	ck_assert(num(cJSON_GetArrayItem(get(t, "events"), 0), "id") < last);
	cJSON_Delete(t);

	/* With "after": the first limit events after it. */
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "job", "q");
	cJSON_AddNumberToObject(a, "after", first);
	cJSON_AddNumberToObject(a, "limit", 1);
	s = cJSON_PrintUnformatted(a);
	t = run_ok("events", s);
	free(s);
	ck_assert_int_eq(cJSON_GetArraySize(get(t, "events")), 1);
	ck_assert(num(cJSON_GetArrayItem(get(t, "events"), 0), "id") ==
	    num(cJSON_GetArrayItem(arr, 1), "id"));
	cJSON_Delete(t);
	cJSON_Delete(a);
	t = run_ok("events", "{\"job\": \"q\", \"after\": 1000000}");
	ck_assert_int_eq(cJSON_GetArraySize(get(t, "events")), 0);
	cJSON_Delete(t);
	cJSON_Delete(r);

	free(run_fail("events", "{\"job\": \"q\", \"after\": -1}", "usage"));
	free(run_fail("events", "{\"job\": \"q\", \"limit\": 0}", "usage"));
}
END_TEST

/* Collects the ids of a lineage tree, checking each node's shape. */
static void
walk(const cJSON *node, int depth, int *nodes, int *seeds, int *seen,
    int *truncated, int *maxdepth)
{
	struct candidate_row	 c;
	const cJSON		*p, *parents;
	char			*cause = NULL;

	(*nodes)++;
	if (depth > *maxdepth)
		*maxdepth = depth;
	(void)num(node, "id");
	(void)str(node, "text");
	parents = get(node, "parents");
	ck_assert(cJSON_IsArray(parents));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(node, "seen")))
		(*seen)++;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(node, "truncated")))
		(*truncated)++;
	if (depth > 0) {
		(void)get(node, "operator");
		(void)get(node, "note");
	}
	/* A node scored on dev carries its interval, around its mean. */
	if (cJSON_GetObjectItemCaseSensitive(node, "mean") != NULL)
		ck_assert(num(node, "lo") <= num(node, "mean") &&
		    num(node, "mean") <= num(node, "hi") && num(node, "n") > 0);
	if (cJSON_GetArraySize(parents) == 0) {
		ck_assert_int_eq(store_candidate_get(store,
		    (int64_t)num(node, "id"), &c, &cause), 1);
		if (strcmp(c.origin, "seed") == 0)
			(*seeds)++;
		store_candidate_row_release(&c);
	}
	cJSON_ArrayForEach(p, parents)
		walk(p, depth + 1, nodes, seeds, seen, truncated, maxdepth);
}

START_TEST(test_lineage)
{
	cJSON		*r, *lb;
	const cJSON	*c, *child = NULL;
	char		*args;
	int		 nodes = 0, seeds = 0, seen = 0, truncated = 0, depth = 0;

	/* A candidate made from a parent: its tree reaches the seeds. */
	lb = run_ok("leaderboard", "{\"job\": \"q\", \"limit\": 10000}");
	cJSON_ArrayForEach(c, get(lb, "candidates"))
		if (strcmp(str(c, "origin"), "ape-resample") == 0)
			child = c;
	ck_assert_ptr_nonnull(child);
	args = xasprintf("{\"candidate\": %.0f}", num(child, "id"));
	r = run_ok("lineage", args);
	free(args);
	ck_assert(num(r, "id") == num(child, "id"));
	ck_assert_str_eq(str(r, "origin"), "ape-resample");
	ck_assert_str_eq(str(r, "text"), str(child, "text"));
	ck_assert(cJSON_GetArraySize(get(r, "parents")) >= 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(get(r, "parents"), 0),
	    "operator"), "ape-resample");
	walk(r, 0, &nodes, &seeds, &seen, &truncated, &depth);
	ck_assert(nodes >= 2);
	ck_assert(seeds >= 1);
	ck_assert_int_eq(seen, 0);
	ck_assert_int_eq(truncated, 0);
	cJSON_Delete(r);
	cJSON_Delete(lb);

	/* A seed has no parents. */
	r = run_ok("lineage", "{\"candidate\": 1}");
	ck_assert_str_eq(str(r, "origin"), "seed");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "parents")), 0);
	cJSON_Delete(r);
}
END_TEST

/* Adds a candidate to job q; returns its id. */
static int64_t
cand(const char *text)
{
	char	*cause = NULL;
	int64_t	 id;

	id = store_candidate_put(store, store_job_find(store, "q", &cause),
	    text, "test", &cause);
	ck_assert_msg(id > 0, "%s", cause);
	return id;
}

START_TEST(test_lineage_guards)
{
	cJSON	*r;
	char	*args, *cause = NULL, text[32];
	int64_t	 a, b, d, chain[QUERY_LINEAGE_DEPTH + 6];
	int	 nodes = 0, seeds = 0, seen = 0, truncated = 0, depth = 0;
	size_t	 i;

	/* A cycle (which the strategies never make) and a diamond. */
	a = cand("cycle a");
	b = cand("cycle b");
	d = cand("diamond top");
	ck_assert_int_eq(store_lineage_add(store, a, b, "op", "n1", &cause), 0);
	ck_assert_int_eq(store_lineage_add(store, b, a, "op", "n2", &cause), 0);
	ck_assert_int_eq(store_lineage_add(store, a, d, "x", NULL, &cause), 0);
	ck_assert_int_eq(store_lineage_add(store, b, d, "y", NULL, &cause), 0);
	args = xasprintf("{\"candidate\": %lld}", (long long)a);
	r = run_ok("lineage", args);
	free(args);
	walk(r, 0, &nodes, &seeds, &seen, &truncated, &depth);
	/* a; b and d under a; a (seen) and d (seen) under b. */
	ck_assert_int_eq(nodes, 5);
	ck_assert_int_eq(seen, 2);
	ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(get(r, "parents"), 0),
	    "note")) || cJSON_IsString(get(cJSON_GetArrayItem(get(r,
	    "parents"), 0), "note")));
	cJSON_Delete(r);

	/* A long chain stops at the depth limit. */
	for (i = 0; i < nitems(chain); i++) {
		snprintf(text, sizeof text, "chain %zu", i);
		chain[i] = cand(text);
		if (i > 0)
			ck_assert_int_eq(store_lineage_add(store, chain[i - 1],
			    chain[i], "mutate", "longer", &cause), 0);
	}
	nodes = seen = truncated = depth = 0;
	args = xasprintf("{\"candidate\": %lld}", (long long)chain[0]);
	r = run_ok("lineage", args);
	free(args);
	walk(r, 0, &nodes, &seeds, &seen, &truncated, &depth);
	ck_assert_int_eq(depth, QUERY_LINEAGE_DEPTH);
	ck_assert_int_eq(nodes, QUERY_LINEAGE_DEPTH + 1);
	ck_assert_int_eq(truncated, 1);
	cJSON_Delete(r);
}
END_TEST

START_TEST(test_not_found)
{
	static const char *const cmds[] = { "status", "leaderboard", "best",
	    "history", "export", "events" };
	char	*m;
	size_t	 i;

	for (i = 0; i < nitems(cmds); i++) {
		m = run_fail(cmds[i], "{\"job\": \"nope\"}", "not_found");
		ck_assert_str_eq(m, "no job 'nope'");
		free(m);
	}
	m = run_fail("lineage", "{\"candidate\": 999999}", "not_found");
	ck_assert_str_eq(m, "no candidate 999999");
	free(m);
}
END_TEST

START_TEST(test_usage)
{
	static const char *const cmds[] = { "leaderboard", "best", "history",
	    "export", "events" };
	char	*m;
	size_t	 i;

	for (i = 0; i < nitems(cmds); i++) {
		m = run_fail(cmds[i], NULL, "usage");
		ck_assert_msg(strstr(m, "missing argument 'job'") != NULL, "%s",
		    m);
		free(m);
		free(run_fail(cmds[i], "{}", "usage"));
		free(run_fail(cmds[i], "{\"job\": 3}", "usage"));
		free(run_fail(cmds[i], "{\"job\": \"\"}", "usage"));
		free(run_fail(cmds[i], "\"q\"", "usage"));
	}
	free(run_fail("status", "{\"job\": 3}", "usage"));
	m = run_fail("lineage", NULL, "usage");
	ck_assert_msg(strstr(m, "missing argument 'candidate'") != NULL, "%s",
	    m);
	free(m);
	free(run_fail("lineage", "{\"candidate\": null}", "usage"));
	free(run_fail("lineage", "{\"candidate\": \"1\"}", "usage"));
	free(run_fail("lineage", "{\"candidate\": 0}", "usage"));
	free(run_fail("lineage", "{\"candidate\": 1.5}", "usage"));
}
END_TEST

/* A job that has never run: empty results, no champion. */
START_TEST(test_empty_job)
{
	cJSON		*r;
	const cJSON	*e;
	char		*cause = NULL, *m;

	ck_assert(store_job_put(store, "idle", "{\"name\": \"idle\"}",
	    &cause) > 0);
	r = run_ok("list", NULL);
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "jobs")), 2);
	e = cJSON_GetArrayItem(get(r, "jobs"), 0);
	ck_assert_str_eq(str(e, "name"), "idle");
	ck_assert_str_eq(str(e, "state"), "queued");
	ck_assert(num(e, "runs") == 0);
	ck_assert(num(e, "step") == 0);
	ck_assert(cJSON_IsNull(get(e, "best")));
	ck_assert(cJSON_IsNull(get(e, "champion")));
	cJSON_Delete(r);

	r = run_ok("status", "{\"job\": \"idle\"}");
	ck_assert(cJSON_IsNull(get(r, "run")));
	ck_assert(cJSON_IsNull(get(r, "replies")));
	ck_assert(cJSON_IsNull(get(r, "strategy")));
	ck_assert(cJSON_IsNull(get(r, "budget")));
	ck_assert(cJSON_IsNull(get(r, "text")));
	cJSON_Delete(r);
	r = run_ok("leaderboard", "{\"job\": \"idle\"}");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "candidates")), 0);
	cJSON_Delete(r);
	r = run_ok("history", "{\"job\": \"idle\"}");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "champions")), 0);
	cJSON_Delete(r);
	r = run_ok("events", "{\"job\": \"idle\"}");
	ck_assert_int_eq(cJSON_GetArraySize(get(r, "events")), 0);
	cJSON_Delete(r);
	m = run_fail("best", "{\"job\": \"idle\"}", "not_found");
	ck_assert_str_eq(m, "job 'idle' has no champion yet");
	free(m);
	free(run_fail("export", "{\"job\": \"idle\"}", "not_found"));
}
END_TEST

/* Job r: the duel strategy over responses to its first seed. */
#define DUEL_RESPONSES							\
	"{ \"name\": \"duel\", \"arms\": \"responses\","		\
	" \"example\": 1, \"pool\": 8, \"rounds\": 4, \"init\": 2,"	\
	" \"dim\": 32, \"feedback\": \"sim\" }"

/* Runs job r (loaded into *rj) to the end. */
static void
run_responses(struct job **rj)
{
	struct jobrun	 jr;
	char		*cause = NULL;

	*rj = job_write("r", DUEL_RESPONSES);
	ck_assert_msg(jobrun_start(&jr, *rj, loop, "optimize", &cause) == 0,
	    "%s", cause);
	ck_assert_int_eq(steps(&jr, INT_MAX), 0);
	ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	jobrun_release(&jr);
}

/* The message of best with "response" on job name, which must fail. */
static void
no_response(const char *name, const char *why)
{
	char	*args, *m, *want;

	args = xasprintf("{\"job\": \"%s\", \"response\": true}", name);
	m = run_fail("best", args, "not_found");
	want = xasprintf("job '%s' has no recommended response: %s", name,
	    why);
	ck_assert_str_eq(m, want);
	free(want);
	free(m);
	free(args);
}

/* The candidate id the job's events name as the recommended response. */
static double
response_event(const char *name)
{
	const cJSON	*e;
	const char	*p;
	cJSON		*r;
	char		*args;
	double		 id = NAN;

	args = xasprintf("{\"job\": \"%s\"}", name);
	r = run_ok("events", args);
	free(args);
	cJSON_ArrayForEach(e, get(r, "events"))
		if ((p = strstr(str(e, "message"), "duel: recommended "
		    "response: candidate ")) != NULL)
			id = strtod(p + strlen("duel: recommended response: "
			    "candidate "), NULL);
	cJSON_Delete(r);
	ck_assert(!isnan(id));
	return id;
}

/* Adds an optimize run to job r whose checkpoint holds this strategy state. */
static void
run_with_state(const char *kind, const char *strategy)
{
	char	*state, *cause = NULL;
	int64_t	 job_id, run;

	job_id = store_job_find(store, "r", &cause);
	ck_assert_msg(job_id > 0, "%s", cause);
	run = store_run_new(store, job_id, kind, 0, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	state = xasprintf("{\"step\": 1, \"candidates\": [], \"strategy\": "
	    "%s}", strategy);
	ck_assert_msg(store_run_checkpoint(store, run, 1, state, NULL,
	    &cause) == 0, "%s", cause);
	free(state);
}

/*
 * A responses run: status and best with "response" show the response it
 * recommends (so far while it runs), the one its events name; best alone
 * stays the champion prompt; other runs and strategies show none.
 */
START_TEST(test_response)
{
	static const char *const k[] = { "candidate", "prompt", "example",
	    "text", "run", "final" };
	struct candidate_row	 c;
	struct lineage_row	*l;
	struct jobrun		 jr;
	struct job		*rj;
	cJSON			*r, *b, *st;
	const cJSON		*resp;
	char			*cause = NULL, *state;
	size_t			 n;

	r = run_ok("status", "{\"job\": \"q\"}");
	ck_assert(cJSON_IsNull(get(r, "response")));
	cJSON_Delete(r);
	no_response("q", "its latest optimize run did not duel responses");
	ck_assert(store_job_put(store, "idle", "{\"name\": \"idle\"}",
	    &cause) > 0);
	no_response("idle", "it has no optimize run");

	/* Before the first duels there is none; then one so far. */
	rj = job_write("r", DUEL_RESPONSES);
	ck_assert_msg(jobrun_start(&jr, rj, loop, "optimize", &cause) == 0,
	    "%s", cause);
	no_response("r", "its latest optimize run has saved no checkpoint "
	    "yet");
	ck_assert_int_eq(steps(&jr, 1), 1);
	no_response("r", "its latest optimize run has not recommended one "
	    "yet");
	r = run_ok("status", "{\"job\": \"r\"}");
	ck_assert(cJSON_IsNull(get(r, "response")));
	cJSON_Delete(r);
	ck_assert_int_eq(steps(&jr, 1), 1);
	b = run_ok("best", "{\"job\": \"r\", \"response\": true}");
	keys(b, k, nitems(k));
	ck_assert(cJSON_IsFalse(get(b, "final")));
	ck_assert(num(b, "run") == jr.run_id);
	cJSON_Delete(b);
	ck_assert_int_eq(steps(&jr, INT_MAX), 0);
	ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	jobrun_release(&jr);
	job_free(rj);

	/* The end: the response the events report, answering a seed. */
	b = run_ok("best", "{\"job\": \"r\", \"response\": true}");
	keys(b, k, nitems(k));
	ck_assert(cJSON_IsTrue(get(b, "final")));
	ck_assert(num(b, "candidate") == response_event("r"));
	ck_assert(num(b, "example") == 1);
	ck_assert_int_eq(store_candidate_get(store, (int64_t)num(b,
	    "candidate"), &c, &cause), 1);
	ck_assert_str_eq(c.origin, "duel-response");
	ck_assert_str_eq(c.text, str(b, "text"));
	store_candidate_row_release(&c);
	ck_assert_int_eq(store_lineage_parents(store, (int64_t)num(b,
	    "candidate"), &l, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(l[0].parent == num(b, "prompt"));
	ck_assert_str_eq(l[0].origin, "seed");
	store_lineage_rows_free(l, n);
	r = run_ok("status", "{\"job\": \"r\"}");
	resp = get(r, "response");
	ck_assert(cJSON_Compare(resp, b, 1));
	cJSON_Delete(r);

	/* best alone is the champion prompt, never the response. */
	r = run_ok("best", "{\"job\": \"r\"}");
	ck_assert(num(r, "candidate") != num(b, "candidate"));
	ck_assert_str_ne(str(r, "text"), str(b, "text"));
	cJSON_Delete(r);
	r = run_ok("best", "{\"job\": \"r\", \"response\": false}");
	ck_assert(num(r, "candidate") != num(b, "candidate"));
	cJSON_Delete(r);
	free(run_fail("best", "{\"job\": \"r\", \"response\": 1}", "usage"));

	/* A refresh run leaves it; the strategy's own example wins. */
	run_with_state("refresh", "{}");
	r = run_ok("best", "{\"job\": \"r\", \"response\": true}");
	ck_assert(cJSON_Compare(r, b, 1));
	cJSON_Delete(r);
	state = xasprintf("{\"recommended\": %.0f, \"prompt\": %.0f, "
	    "\"example\": 5}", num(b, "candidate"), num(b, "prompt"));
	run_with_state("optimize", state);
	free(state);
	r = run_ok("best", "{\"job\": \"r\", \"response\": true}");
	ck_assert(num(r, "example") == 5);
	cJSON_Delete(r);

	/* A prompt is never taken for a response. */
	state = xasprintf("{\"recommended\": %.0f, \"prompt\": %.0f}",
	    num(b, "prompt"), num(b, "prompt"));
	run_with_state("optimize", state);
	free(state);
	no_response("r", "the candidate its latest optimize run recommends "
	    "is not a response");
	r = run_ok("status", "{\"job\": \"r\"}");
	ck_assert(cJSON_IsNull(get(r, "response")));
	cJSON_Delete(r);

	/* A later run over prompts has none. */
	st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "recommended", num(b, "prompt"));
	state = cJSON_PrintUnformatted(st);
	run_with_state("optimize", state);
	free(state);
	cJSON_Delete(st);
	no_response("r", "its latest optimize run did not duel responses");
	cJSON_Delete(b);
}
END_TEST

/*
 * Runs promptctl's command argv (NULL-terminated) on the test's database
 * in this process: the exit status, with the standard output in *out
 * and the error output in *err.
 */
static int
ctl(const char *const *argv, char **out, char **err)
{
	const struct cmd_entry	*e;
	struct cmd_ctx		 ctx;
	char			*args[8], *copies[8], *path[2], *cause = NULL;
	char			**text[2] = { out, err };
	size_t			 len;
	int			 argc, saved[2], fd, i, rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.db_path = store_path(store);
	for (argc = 0; argv[argc] != NULL; argc++)
		args[argc] = copies[argc] = xstrdup(argv[argc]);
	args[argc] = NULL;
	ck_assert_ptr_nonnull(e = cmd_lookup(args[0]));
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		path[i] = xasprintf("%s/ctl.%d", tmp, i + 1);
		saved[i] = dup(i + 1);
		fd = open(path[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(fd, 0);
		dup2(fd, i + 1);
		close(fd);
	}
	rc = e->exec(&ctx, argc, args);
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		dup2(saved[i], i + 1);
		close(saved[i]);
		ck_assert_msg(file_read(path[i], 1 << 20, text[i], &len,
		    &cause) == 0, "%s", cause);
		free(path[i]);
	}
	for (i = 0; i < argc; i++)
		free(copies[i]);
	return rc;
}

/* promptctl status and best --response, as text and as JSON. */
START_TEST(test_response_text)
{
	static const char *const status_r[] = { "status", "r", NULL };
	static const char *const status_q[] = { "status", "q", NULL };
	static const char *const best_r[] = { "best", "r", NULL };
	static const char *const resp_r[] = { "best", "--response", "r", NULL };
	static const char *const resp_json[] = { "best", "--response",
	    "--json", "r", NULL };
	static const char *const resp_q[] = { "best", "--response", "q",
	    NULL };
	static const char *const resp_late[] = { "best", "r", "--response",
	    NULL };
	static const char *const resp_typo[] = { "best", "r", "--responses",
	    NULL };
	struct job	*rj;
	cJSON		*b, *champ, *j;
	char		*out, *err, *want, *clip;

	run_responses(&rj);
	b = run_ok("best", "{\"job\": \"r\", \"response\": true}");
	champ = run_ok("best", "{\"job\": \"r\"}");

	ck_assert_int_eq(ctl(status_r, &out, &err), CMD_OK);
	clip = cmd_clip(str(b, "text"), 66);
	want = xasprintf("\n  response    candidate %.0f, to candidate %.0f on "
	    "dev example 1 (run %.0f)\n              %s\n", num(b, "candidate"),
	    num(b, "prompt"), num(b, "run"), clip);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(want);
	free(clip);
	free(out);
	free(err);
	ck_assert_int_eq(ctl(status_q, &out, &err), CMD_OK);
	ck_assert_ptr_null(strstr(out, "response"));
	free(out);
	free(err);

	/* The text alone, in full, the flag before or after the job; best
	 * alone is still the prompt. */
	ck_assert_int_eq(ctl(resp_r, &out, &err), CMD_OK);
	want = xasprintf("%s\n", str(b, "text"));
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
	ck_assert_int_eq(ctl(resp_late, &out, &err), CMD_OK);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "");
	free(want);
	free(out);
	free(err);
	ck_assert_int_eq(ctl(best_r, &out, &err), CMD_OK);
	want = xasprintf("%s\n", str(champ, "text"));
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);
	ck_assert_int_eq(ctl(resp_json, &out, &err), CMD_OK);
	ck_assert_ptr_nonnull(j = cJSON_Parse(out));
	ck_assert(cJSON_Compare(j, b, 1));
	cJSON_Delete(j);
	free(out);
	free(err);

	/* Errors: a job without one, and a flag best does not have. */
	ck_assert_int_eq(ctl(resp_q, &out, &err), CMD_ERROR);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "promptctl: job 'q' has no recommended response: "
	    "its latest optimize run did not duel responses\n");
	free(out);
	free(err);
	ck_assert_int_eq(ctl(resp_typo, &out, &err), CMD_USAGE);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(err, "usage: promptctl best [--json] "
	    "[--response] job"));
	free(out);
	free(err);
	cJSON_Delete(champ);
	cJSON_Delete(b);
	job_free(rj);
}
END_TEST

static Suite *
query_suite(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc = tcase_create("query");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_leaderboard);
	tcase_add_test(tc, test_best_export_history);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_lineage);
	tcase_add_test(tc, test_lineage_guards);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_empty_job);
	tcase_add_test(tc, test_response);
	tcase_add_test(tc, test_response_text);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(query_suite)
