/*
 * Tests of what the store keeps and reads for a job's report: the
 * evidence of each promotion (schema 11), and the reads of runs,
 * progress, results, examples, calls and comparisons.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check_common.h"
#include "dataset.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static char		*tmp, *path;
static struct store	*s;
static int64_t		 job;

static void
setup(void)
{
	char	*cause = NULL;

	s = check_store_new("report.db", &tmp, &path);
	job = store_job_put(s, "r", "{}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
}

static void
teardown(void)
{
	check_store_free(s, tmp, path);
}

/* Runs sql on a connection of its own; the test fails on an error. */
static void
raw_exec(const char *sql)
{
	sqlite3	*db;
	char	*err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("raw '%s': %s", sql, err);
	sqlite3_close(db);
}

static int64_t
candidate(const char *text)
{
	char	*cause = NULL;
	int64_t	 id;

	id = store_candidate_put(s, job, text, "seed", &cause);
	ck_assert_msg(id > 0, "%s", cause);
	return id;
}

/* A champion with score, no interval and no test to pass. */
static void
champion(int64_t cand, int64_t run, double score, const char *reason)
{
	struct champion_record	c;
	char			*cause = NULL;

	memset(&c, 0, sizeof c);
	c.job = job;
	c.candidate = cand;
	c.run = run;
	c.score = score;
	c.lo = c.hi = score;
	c.p = c.delta = NAN;
	c.reason = reason;
	ck_assert_msg(store_champion_add(s, &c, &cause) == 0, "%s", cause);
}

/*
 * The evidence of a promotion goes in and comes back: the first
 * champion has none, the second its paired test, and a test score is
 * set on a version and replaced by a later one.
 */
START_TEST(test_champion_evidence)
{
	struct champion_record	 c;
	struct champion_row	*h;
	char			*cause = NULL, *want;
	size_t			 n;
	int64_t			 a = candidate("A."), b = candidate("B."), run;

	run = store_run_new(s, job, "optimize", 0, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	champion(a, 0, 0.5, "best of 2");
	memset(&c, 0, sizeof c);
	c.job = job;
	c.candidate = b;
	c.run = run;
	c.score = 0.75;
	c.lo = 0.625;
	c.hi = 0.875;
	c.p = 0.015625;
	c.delta = 0.25;
	c.paired = 40;
	c.reason = "beats champion 1";
	ck_assert_msg(store_champion_add(s, &c, &cause) == 0, "%s", cause);
	ck_assert_int_eq(store_champion_set_test(s, job, 2, 0.5, 0.25, 0.75,
	    10, &cause), 0);
	ck_assert_int_eq(store_champion_set_test(s, job, 2, 0.625, 0.5, 0.75,
	    16, &cause), 0);
	/* No such version: an error, and nothing changes. */
	ck_assert_int_eq(store_champion_set_test(s, job, 3, 1, 1, 1, 1,
	    &cause), -1);
	want = xasprintf("store: set champion test score: job %lld has no "
	    "champion version 3", (long long)job);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	cause = NULL;

	ck_assert_int_eq(store_champion_history(s, job, &h, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(h[0].c.version, 1);
	ck_assert_int_eq(h[0].run, 0);
	ck_assert(isnan(h[0].p) && isnan(h[0].delta));
	ck_assert_int_eq(h[0].paired, 0);
	ck_assert(isnan(h[0].test_score) && isnan(h[0].test_lo) &&
	    isnan(h[0].test_hi));
	ck_assert_int_eq(h[0].test_n, 0);
	ck_assert_int_eq(h[1].c.version, 2);
	ck_assert_int_eq(h[1].c.candidate, b);
	ck_assert_int_eq(h[1].run, run);
	ck_assert(h[1].c.score == 0.75 && h[1].c.lo == 0.625 &&
	    h[1].c.hi == 0.875);
	ck_assert(h[1].p == 0.015625 && h[1].delta == 0.25);
	ck_assert_int_eq(h[1].paired, 40);
	ck_assert(h[1].test_score == 0.625 && h[1].test_lo == 0.5 &&
	    h[1].test_hi == 0.75);
	ck_assert_int_eq(h[1].test_n, 16);
	ck_assert_str_eq(h[1].reason, "beats champion 1");
	store_champion_rows_free(h, n);

	/* A run that does not exist is refused (a foreign key). */
	c.run = run + 100;
	ck_assert_int_eq(store_champion_add(s, &c, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "FOREIGN KEY"));
	free(cause);
}
END_TEST

/*
 * A version 10 file: its champions have no evidence columns, so adding
 * one with evidence fails there; opened with store_open() it migrates,
 * its champion reads back without evidence and may be given a test
 * score, and new champions keep theirs.
 */
START_TEST(test_migrate_v10)
{
	struct champion_row	*h;
	char			*cause = NULL, *sql;
	size_t			 n;
	int64_t			 a;

	store_close(s);
	free(path);
	path = xasprintf("%s/v10.db", tmp);
	s = store_open_version(path, 10, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(store_version(s), 10);
	job = store_job_put(s, "r", "{}", &cause);
	a = candidate("A.");
	ck_assert_int_eq(store_champion_add(s, &(struct champion_record){
	    .job = job, .candidate = a, .score = 0.5, .p = NAN,
	    .delta = NAN }, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "run_id"));
	free(cause);
	cause = NULL;
	store_close(s);
	sql = xasprintf("INSERT INTO champions (job_id, version, candidate_id,"
	    " score, lo, hi, reason, created) VALUES (%lld, 1, %lld, 0.5, 0.25,"
	    " 0.75, 'best of 1', 100)", (long long)job, (long long)a);
	raw_exec(sql);
	free(sql);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"), 10);

	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_champion_set_test(s, job, 1, 0.5, 0.25, 0.75,
	    8, &cause), 0);
	champion(candidate("B."), store_run_new(s, job, "refresh", 0, &cause),
	    0.75, "beats champion 1");
	ck_assert_int_eq(store_champion_history(s, job, &h, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(h[0].c.candidate, a);
	ck_assert(h[0].c.score == 0.5 && h[0].c.lo == 0.25);
	ck_assert_str_eq(h[0].reason, "best of 1");
	ck_assert(h[0].time == 100);
	ck_assert_int_eq(h[0].run, 0);
	ck_assert(isnan(h[0].p));
	ck_assert(h[0].test_score == 0.5);
	ck_assert_int_eq(h[0].test_n, 8);
	ck_assert_int_eq(h[1].c.version, 2);
	ck_assert_int_gt(h[1].run, 0);
	store_champion_rows_free(h, n);
}
END_TEST

/*
 * A run's data: a snapshot of 9 examples (dev: 1, 4, 7; test: 2, 5, 8),
 * candidates a and b (b made by crossover from c, then by mutation from
 * a), and run 1's calls with a call of run 2 among them.  Times are set
 * by hand: call id i was made at 100 + 10 i.
 */
struct fixture {
	struct dataset	*ds;
	int64_t		 dataset;
	int64_t		 run, other;
	int64_t		 a, b, c;
	int64_t		 call[8];	/* 1..7: the ids above, [0] unused */
};

static int64_t
call(int64_t run, const char *status, int http_status, double cost,
    double latency, const char *error)
{
	return check_call_add(s, run, status, http_status, cost, latency,
	    error, 1);
}

/* Sets a row's created time by hand. */
static void
created(const char *table, int64_t id, double t)
{
	char	*sql;

	sql = xasprintf("UPDATE %s SET created = %.17g WHERE id = %lld", table,
	    t, (long long)id);
	raw_exec(sql);
	free(sql);
}

/* Scores cand on example i of the snapshot in run (a failure: NAN). */
static int64_t
score(struct fixture *f, int64_t run, int64_t cand, size_t i, double v,
    int64_t callid)
{
	char	*cause = NULL;
	int64_t	 id;

	if (isnan(v))
		id = store_evaluation_fail(s, run, cand, f->ds->ex[i].id, "?",
		    "unreadable", callid, &cause);
	else
		id = store_evaluation_add(s, run, cand, f->ds->ex[i].id, "out",
		    v, NULL, callid, &cause);
	ck_assert_msg(id >= 0, "%s", cause);
	return id;
}

static void
fixture_make(struct fixture *f)
{
	static const struct {
		const char	*status;
		int		 http;
		double		 cost;
	} calls[] = { { "ok", 200, 0.01 }, { "error", 500, 0.002 },
	    { "ok", 200, 0.01 }, { NULL, 0, 0 }, { "hit", 0, 0 },
	    { "ok", 200, 0.01 }, { "ok", 200, 0.01 } };
	char	*cause = NULL;
	size_t	 i;

	memset(f, 0, sizeof *f);
	f->ds = check_dataset(9, "d");
	f->dataset = store_dataset_snapshot(s, job, f->ds, NULL, &cause);
	ck_assert_msg(f->dataset > 0, "%s", cause);
	f->run = store_run_new(s, job, "optimize", f->dataset, &cause);
	f->other = store_run_new(s, job, "eval", f->dataset, &cause);
	ck_assert_msg(f->run > 0 && f->other > 0, "%s", cause);
	f->a = candidate("A.");
	f->b = store_candidate_put(s, job, "B.", "crossover", &cause);
	f->c = candidate("C.");
	ck_assert_int_eq(store_lineage_add(s, f->b, f->c, "crossover", NULL,
	    &cause), 0);
	ck_assert_int_eq(store_lineage_add(s, f->b, f->a, "mutation", "n",
	    &cause), 0);
	for (i = 0; i < nitems(calls); i++) {
		f->call[i + 1] = calls[i].status == NULL ?
		    call(f->other, "ok", 200, 1, 0.5, NULL) :
		    call(f->run, calls[i].status, calls[i].http, calls[i].cost,
		    i == 1 ? NAN : 0.25, i == 1 ? "HTTP 500" : NULL);
		created("calls", f->call[i + 1], 100 + 10 * (double)(i + 1));
	}
	/* dev: a 1 and 0 (its last by call 5); b 0, a failure, 0.5 with no
	 * call at 165; test: a 1 by call 7. */
	created("evaluations", score(f, f->run, f->a, 1, 1, f->call[1]), 111);
	created("evaluations", score(f, f->run, f->b, 1, 0, f->call[3]), 131);
	created("evaluations", score(f, f->run, f->a, 4, 0, f->call[5]), 151);
	created("evaluations", score(f, f->run, f->b, 4, NAN, f->call[6]),
	    161);
	created("evaluations", score(f, f->run, f->b, 7, 0.5, 0), 165);
	created("evaluations", score(f, f->run, f->a, 2, 1, f->call[7]), 175);
}

static void
fixture_free(struct fixture *f)
{
	check_dataset_free(f->ds);
}

START_TEST(test_run_progress)
{
	struct fixture		 f;
	struct progress_row	*r;
	char			*cause = NULL;
	size_t			 n;
	int64_t			 c8;

	fixture_make(&f);
	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	/* a: its last score by call 5: paid calls 1 and 3, every cost. */
	ck_assert_int_eq(r[0].candidate, f.a);
	ck_assert_str_eq(r[0].origin, "seed");
	ck_assert_ptr_null(r[0].op);
	ck_assert_int_eq(r[0].n, 2);
	ck_assert(r[0].mean == 0.5);
	ck_assert_int_eq(r[0].calls, 2);
	ck_assert(fabs(r[0].dollars - 0.022) < 1e-12);
	ck_assert(r[0].time == 151);
	/* b: the failure does not count; its last score, without a call,
	 * counts the calls made by its time (1, 2, 3, 5, 6). */
	ck_assert_int_eq(r[1].candidate, f.b);
	ck_assert_str_eq(r[1].origin, "crossover");
	ck_assert_str_eq(r[1].op, "crossover");
	ck_assert_int_eq(r[1].n, 2);
	ck_assert(r[1].mean == 0.25);
	ck_assert_int_eq(r[1].calls, 3);
	ck_assert(fabs(r[1].dollars - 0.032) < 1e-12);
	ck_assert(r[1].time == 165);
	store_progress_rows_free(r, n);

	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset, "test", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(r[0].candidate, f.a);
	ck_assert_int_eq(r[0].calls, 4);
	ck_assert(fabs(r[0].dollars - 0.042) < 1e-12);
	store_progress_rows_free(r, n);

	/* The run resumes: b's failure is scored with a new call, now;
	 * a score the run has already stays as it was. */
	c8 = call(f.run, "ok", 200, 0.01, 0.25, NULL);
	ck_assert_int_gt(score(&f, f.run, f.b, 4, 1, c8), 0);
	ck_assert_int_eq(score(&f, f.run, f.a, 1, 0, c8), 0);
	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r[0].candidate, f.a);
	ck_assert(r[0].mean == 0.5);
	ck_assert_int_eq(r[1].candidate, f.b);
	ck_assert_int_eq(r[1].n, 3);
	ck_assert(r[1].mean == 0.5);
	ck_assert_int_eq(r[1].calls, 5);
	ck_assert(fabs(r[1].dollars - 0.052) < 1e-12);
	ck_assert(r[1].time > 1000);
	store_progress_rows_free(r, n);

	/* Another run, another snapshot, a split without scores: none. */
	ck_assert_int_eq(store_run_progress(s, f.other, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset + 1, "dev",
	    &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset, "train", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	fixture_free(&f);
}
END_TEST

/*
 * The paid calls that scored a candidate: a cache hit is not paid; a
 * failed evaluation's call was; a candidate never scored has none.
 */
START_TEST(test_candidate_spent)
{
	struct fixture	 f;
	char		*cause = NULL;
	long long	 calls;
	double		 dollars;

	fixture_make(&f);
	ck_assert_int_eq(store_candidate_spent(s, f.a, &calls, &dollars,
	    &cause), 0);
	ck_assert_int_eq(calls, 2);
	ck_assert(fabs(dollars - 0.02) < 1e-12);
	ck_assert_int_eq(store_candidate_spent(s, f.b, &calls, &dollars,
	    &cause), 0);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(store_candidate_spent(s, f.c, &calls, &dollars,
	    &cause), 0);
	ck_assert_int_eq(calls, 0);
	ck_assert(dollars == 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_candidate_results)
{
	struct fixture		 f;
	struct result_row	*r;
	char			*cause = NULL;
	size_t			 n;

	fixture_make(&f);
	ck_assert_int_eq(store_candidate_results(s, f.b, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[0].example, f.ds->ex[1].id);
	ck_assert(r[0].score == 0 && !r[0].failed);
	ck_assert_int_eq(r[1].example, f.ds->ex[4].id);
	ck_assert(isnan(r[1].score) && r[1].failed);
	ck_assert_int_eq(r[2].example, f.ds->ex[7].id);
	ck_assert(r[2].score == 0.5 && !r[2].failed);
	free(r);

	/* Another run's later evaluations are the latest: a score over a
	 * score, a failure over a score. */
	score(&f, f.other, f.b, 1, 1, 0);
	score(&f, f.other, f.b, 7, NAN, 0);
	ck_assert_int_eq(store_candidate_results(s, f.b, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(r[0].score == 1 && !r[0].failed);
	ck_assert(isnan(r[1].score) && r[1].failed);
	ck_assert(isnan(r[2].score) && r[2].failed);
	free(r);

	ck_assert_int_eq(store_candidate_results(s, f.c, f.dataset, "dev", &r,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	fixture_free(&f);
}
END_TEST

START_TEST(test_example_get)
{
	struct fixture		 f;
	struct example_row	 x;
	char			*cause = NULL, *sql;

	fixture_make(&f);
	ck_assert_int_eq(store_example_get(s, f.ds->ex[4].id, &x, &cause), 1);
	ck_assert_int_eq(x.id, f.ds->ex[4].id);
	ck_assert_int_eq(x.idx, 4);
	ck_assert_int_eq(x.line, 5);
	ck_assert_str_eq(x.split, "dev");
	ck_assert_str_eq(x.fields, "{\"q\":\"d-4\",\"a\":4}");
	store_example_row_release(&x);
	ck_assert_ptr_null(x.fields);

	sql = xasprintf("UPDATE examples SET line = NULL WHERE id = %lld",
	    (long long)f.ds->ex[8].id);
	raw_exec(sql);
	free(sql);
	ck_assert_int_eq(store_example_get(s, f.ds->ex[8].id, &x, &cause), 1);
	ck_assert_int_eq(x.line, 0);
	ck_assert_str_eq(x.split, "test");
	store_example_row_release(&x);

	ck_assert_int_eq(store_example_get(s, f.ds->ex[8].id + 100, &x,
	    &cause), 0);
	ck_assert_ptr_null(x.fields);
	store_example_row_release(NULL);
	fixture_free(&f);
}
END_TEST

/*
 * The latest evaluation's output: a later run's over an earlier one's,
 * a failure's score NAN, and none for an example never evaluated.
 */
START_TEST(test_evaluation_output)
{
	struct fixture	 f;
	char		*cause = NULL, *out;
	double		 v;

	fixture_make(&f);
	ck_assert_int_eq(store_evaluation_output(s, f.a, f.ds->ex[1].id, &out,
	    &v, &cause), 1);
	ck_assert_str_eq(out, "out");
	ck_assert(v == 1);
	free(out);
	ck_assert_int_eq(store_evaluation_output(s, f.b, f.ds->ex[4].id, &out,
	    &v, &cause), 1);
	ck_assert_str_eq(out, "?");
	ck_assert(isnan(v));
	free(out);
	ck_assert_int_eq(store_evaluation_add(s, f.other, f.a, f.ds->ex[1].id,
	    "later", 0, NULL, 0, &cause) > 0, 1);
	ck_assert_int_eq(store_evaluation_output(s, f.a, f.ds->ex[1].id, &out,
	    &v, &cause), 1);
	ck_assert_str_eq(out, "later");
	ck_assert(v == 0);
	free(out);
	ck_assert_int_eq(store_evaluation_output(s, f.c, f.ds->ex[1].id, &out,
	    &v, &cause), 0);
	ck_assert_ptr_null(out);
	ck_assert(isnan(v));
	fixture_free(&f);
}
END_TEST

START_TEST(test_run_calls)
{
	struct fixture	 f;
	struct call_row	*r;
	char		*cause = NULL;
	size_t		 n;

	fixture_make(&f);
	ck_assert_int_eq(store_run_calls(s, f.run, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(r[0].id, f.call[1]);
	ck_assert_str_eq(r[0].backend, "sim");
	ck_assert_str_eq(r[0].model, "m");
	ck_assert_str_eq(r[0].role, "target");
	ck_assert_str_eq(r[0].status, "ok");
	ck_assert_int_eq(r[0].http_status, 200);
	ck_assert_int_eq(r[0].attempt, 1);
	ck_assert_int_eq(r[0].prompt_tokens, 10);
	ck_assert_int_eq(r[0].completion_tokens, 2);
	ck_assert(r[0].cost == 0.01 && r[0].latency == 0.25);
	ck_assert(r[0].created == 110);
	ck_assert_ptr_null(r[0].error);
	/* The failure: its status, message and no latency. */
	ck_assert_str_eq(r[1].status, "error");
	ck_assert_int_eq(r[1].http_status, 500);
	ck_assert_str_eq(r[1].error, "HTTP 500");
	ck_assert(isnan(r[1].latency));
	/* The other run's call is not among them: the hit comes next. */
	ck_assert_int_eq(r[3].id, f.call[5]);
	ck_assert_str_eq(r[3].status, "hit");
	ck_assert_int_eq(r[3].http_status, 0);
	store_call_rows_free(r, n);

	ck_assert_int_eq(store_run_calls(s, f.run + 100, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	store_call_rows_free(r, n);
	fixture_free(&f);
}
END_TEST

START_TEST(test_run_list)
{
	struct fixture		 f;
	struct run_row		*r;
	struct run_totals	 t = { 5, 1, 60, 0.05, 0 };
	char			*cause = NULL;
	size_t			 n;

	ck_assert_int_eq(store_run_list(s, job, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	fixture_make(&f);
	ck_assert_int_eq(store_run_finish(s, f.run, "done", &t, &cause), 0);
	ck_assert_int_eq(store_run_list(s, job, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r[0].id, f.run);
	ck_assert_str_eq(r[0].kind, "optimize");
	ck_assert_str_eq(r[0].status, "done");
	ck_assert(!isnan(r[0].ended) && r[0].ended >= r[0].started);
	ck_assert_int_eq(r[0].totals.calls, 5);
	ck_assert(r[0].totals.dollars == 0.05);
	ck_assert_int_eq(r[0].dataset, f.dataset);
	ck_assert_int_eq(r[1].id, f.other);
	ck_assert_str_eq(r[1].kind, "eval");
	ck_assert_str_eq(r[1].status, "running");
	ck_assert(isnan(r[1].ended));
	free(r);
	ck_assert_int_eq(store_run_list(s, job + 1, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_comparison_list)
{
	struct fixture			 f;
	struct comparison_record	 c;
	struct comparison_row		*r;
	char				*cause = NULL;
	size_t				 n;
	int64_t				 first, pending;

	fixture_make(&f);
	memset(&c, 0, sizeof c);
	c.job = job;
	c.a = f.a;
	c.b = f.b;
	c.output_a = "x";
	c.output_b = "y";
	c.winner = "b";
	c.source = "judge";
	c.order_shown = "ab+ba";
	first = store_comparison_add(s, &c, &cause);
	ck_assert_msg(first > 0, "%s", cause);
	c.example = f.ds->ex[1].id;
	c.order_shown = "ba";
	pending = store_comparison_queue(s, &c, "the input", &cause);
	ck_assert_msg(pending > first, "%s", cause);
	/* A duel passed over is not an answer. */
	c.example = f.ds->ex[4].id;
	ck_assert_int_gt(store_comparison_queue(s, &c, "skipped", &cause), 0);
	c.winner = "tie";
	c.source = "human";
	ck_assert_int_gt(store_comparison_add(s, &c, &cause), 0);

	ck_assert_int_eq(store_comparison_list(s, job, 0, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(r[0].id, first);
	ck_assert_str_eq(r[0].winner, "b");
	ck_assert_int_eq(r[0].example, 0);
	ck_assert_ptr_null(r[0].input);
	/* Queuing the third skipped the second. */
	ck_assert_str_eq(r[1].winner, "skip");
	ck_assert_str_eq(r[1].input, "the input");
	ck_assert_ptr_null(r[2].winner);
	ck_assert(isnan(r[2].answered));
	ck_assert_str_eq(r[3].winner, "tie");
	store_comparison_rows_free(r, n);

	ck_assert_int_eq(store_comparison_list(s, job, 1, &r, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r[0].id, first);
	ck_assert_str_eq(r[1].winner, "tie");
	ck_assert_str_eq(r[1].source, "human");
	store_comparison_rows_free(r, n);
	ck_assert_int_eq(store_comparison_list(s, job + 1, 0, &r, &n, &cause),
	    0);
	ck_assert_uint_eq(n, 0);
	fixture_free(&f);
}
END_TEST

/*
 * A read that fails hands back nothing, with the statement's name in
 * the cause: the runs of a file older than their columns, and the reads
 * of tables gone.
 */
START_TEST(test_read_failures)
{
	struct fixture		 f;
	struct run_row		*runs = (void *)1;
	struct progress_row	*progress = (void *)1;
	struct result_row	*results = (void *)1;
	struct call_row		*calls = (void *)1;
	struct comparison_row	*cmp = (void *)1;
	struct example_row	 x;
	char			*cause = NULL;
	size_t			 n = 1;
	long long		 paid = 1;
	double			 dollars = 1;

	fixture_make(&f);
	store_close(s);
	raw_exec("ALTER TABLE calls RENAME TO calls_gone;"
	    "ALTER TABLE examples RENAME TO examples_gone;"
	    "ALTER TABLE comparisons RENAME TO comparisons_gone;"
	    "ALTER TABLE runs RENAME COLUMN cached TO cached_gone;");
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);

	ck_assert_int_eq(store_run_list(s, job, &runs, &n, &cause), -1);
	ck_assert_ptr_null(runs);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(cause, "store: list runs: no such column: cached");
	n = 1;
	ck_assert_int_eq(store_run_progress(s, f.run, f.dataset, "dev",
	    &progress, &n, &cause), -1);
	ck_assert_ptr_null(progress);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(cause, "store: read a run's progress: "));
	ck_assert_int_eq(store_candidate_spent(s, f.a, &paid, &dollars,
	    &cause), -1);
	ck_assert_int_eq(paid, 0);
	ck_assert(dollars == 0);
	ck_assert_str_eq(cause, "store: sum the calls that scored a "
	    "candidate: no such table: calls");
	n = 1;
	ck_assert_int_eq(store_candidate_results(s, f.a, f.dataset, "dev",
	    &results, &n, &cause), -1);
	ck_assert_ptr_null(results);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_example_get(s, 1, &x, &cause), -1);
	ck_assert_ptr_null(x.fields);
	ck_assert_str_eq(cause, "store: read example: no such table: "
	    "examples");
	n = 1;
	ck_assert_int_eq(store_run_calls(s, f.run, &calls, &n, &cause), -1);
	ck_assert_ptr_null(calls);
	ck_assert_uint_eq(n, 0);
	n = 1;
	ck_assert_int_eq(store_comparison_list(s, job, 1, &cmp, &n, &cause),
	    -1);
	ck_assert_ptr_null(cmp);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(cause, "store: list comparisons: no such table: "
	    "comparisons");
	free(cause);
	fixture_free(&f);
}
END_TEST

static Suite *
store_report_suite(void)
{
	Suite	*su = suite_create("store_report");
	TCase	*tc = tcase_create("store_report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_champion_evidence);
	tcase_add_test(tc, test_migrate_v10);
	tcase_add_test(tc, test_run_progress);
	tcase_add_test(tc, test_candidate_spent);
	tcase_add_test(tc, test_candidate_results);
	tcase_add_test(tc, test_example_get);
	tcase_add_test(tc, test_evaluation_output);
	tcase_add_test(tc, test_run_calls);
	tcase_add_test(tc, test_run_list);
	tcase_add_test(tc, test_comparison_list);
	tcase_add_test(tc, test_read_failures);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(store_report_suite)
