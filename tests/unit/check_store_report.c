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

	tmp = check_tmpdir();
	path = xasprintf("%s/report.db", tmp);
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "r", "{}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
}

static void
teardown(void)
{
	store_close(s);
	check_rmtree(tmp);
	free(path);
	free(tmp);
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

static Suite *
store_report_suite(void)
{
	Suite	*su = suite_create("store_report");
	TCase	*tc = tcase_create("store_report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_champion_evidence);
	tcase_add_test(tc, test_migrate_v10);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(store_report_suite)
