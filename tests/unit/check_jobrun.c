/* Tests for job runs: a search to completion, a resume from the
 * checkpoint, refreshes that promote and refuse to, and atomic export. */
#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_common.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* Writes the sentiment job with a strategy and extra keys. */
static struct job *
load_job(const char *strategy, const char *extra)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"s\", " CHECK_SENTIMENT_TASK ","
	    " \"seed_prompts\": [\"Classify the sentiment of the review.\","
	    " \"You are an expert film critic. Read the whole review carefully"
	    " and decide whether it is positive or negative. Answer with only"
	    " the label.\"], \"backends\": { \"sim\": { \"type\": \"sim\" } },"
	    " \"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },"
	    " \"strategy\": %s %s }", strategy, extra);
	job = check_job(check_dir, text);
	free(text);
	return job;
}

/* Runs kind to completion; returns the champion's version. */
static int
run(struct job *job, const char *kind, int max_steps, struct jobrun *out)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct champion		 ch;
	char			*cause = NULL;
	int			 rc, steps = 0, version = 0;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, kind, &cause) == 0, "%s",
	    cause);
	while ((rc = jobrun_step(&jr, &cause)) == 1 && ++steps < max_steps)
		;
	ck_assert_msg(rc >= 0, "%s", cause);
	if (rc == 0)
		ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	if (store_champion_latest(store, jr.job_id, &ch, &cause) == 1)
		version = ch.version;
	if (out != NULL) {
		out->promoted = jr.promoted;
		out->resumed = jr.resumed;
		out->run_id = jr.run_id;
		out->job_id = jr.job_id;
		out->status = rc == 0 ? jr.status : "interrupted";
	}
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	return version;
}

static long long
count(const char *sql)
{
	return check_count(check_db, sql);
}

START_TEST(test_optimize_and_export)
{
	struct job	*job;
	struct jobrun	 jr;
	char		*p, *text = NULL, *cause = NULL;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 1 }",
	    ", \"export\": { \"path\": \"out/champion.txt\", \"sidecar\": "
	    "true }");
	p = xasprintf("%s/out", check_dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	ck_assert_str_eq(jr.status, "done");
	ck_assert_int_eq(jr.promoted, 1);
	p = xasprintf("%s/out/champion.txt", check_dir);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_int_gt((int)strlen(text), 10);
	free(text);
	free(p);
	p = xasprintf("%s/out/champion.txt.json", check_dir);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"version\":\t1"));
	free(text);
	free(p);
	/* No temporary files are left behind. */
	p = xasprintf("ls '%s'/out/*.check_dir.* >/dev/null 2>&1", check_dir);
	ck_assert_int_ne(system(p), 0);
	free(p);
	ck_assert_int_eq(count("SELECT count(*) FROM runs WHERE status = "
	    "'done'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions"), 1);
	job_free(job);
}
END_TEST

START_TEST(test_resume_from_checkpoint)
{
	struct job	*job;
	struct jobrun	 a, b;
	long long	 ok_before;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 3 }",
	    "");
	/* Two steps, then the process "dies" without finishing. */
	ck_assert_int_eq(run(job, "optimize", 2, &a), 0);
	ck_assert_str_eq(a.status, "interrupted");
	ok_before = count("SELECT count(*) FROM calls WHERE status = 'ok'");
	ck_assert_int_eq(count("SELECT step FROM runs"), 2);
	/* The next start resumes the same run at its step. */
	ck_assert_int_eq(run(job, "optimize", 100, &b), 1);
	ck_assert_int_eq(b.resumed, 0);	/* cleared after the first step */
	ck_assert_int_eq((int)b.run_id, (int)a.run_id);
	ck_assert_str_eq(b.status, "done");
	ck_assert_int_eq(count("SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(count("SELECT step FROM runs"), 4);
	/* The resumed run's scores are summed once each. */
	ck_assert_int_gt(count("SELECT count(*) FROM score_sums"), 0);
	ck_assert_int_eq(count(CHECK_SCORE_SUMS_WRONG), 0);
	/* Nothing was paid twice: each key has one paid call at most. */
	ck_assert_int_eq(count("SELECT count(*) FROM (SELECT cache_key FROM "
	    "calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > "
	    "1)"), 0);
	ck_assert_int_ge(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), ok_before);
	job_free(job);
}
END_TEST

START_TEST(test_refresh_promotes_and_refuses)
{
	struct job		*job;
	struct jobrun		 jr;
	struct store		*store;
	struct champion_record	 weak;
	sqlite3			*db;
	char			*cause = NULL, *sql;
	int64_t			 first;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"alpha\": 0.05, \"min_delta\": 0.05");
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	/* The first champion had no test to pass; it was scored on test. */
	first = jr.run_id;
	sql = xasprintf("SELECT count(*) FROM champions WHERE version = 1"
	    " AND run_id = %lld AND p IS NULL AND delta IS NULL AND paired IS"
	    " NULL AND test_n > 0 AND test_lo <= test_score AND test_score <="
	    " test_hi", (long long)first);
	ck_assert_int_eq(count(sql), 1);
	free(sql);
	/* Make the weak seed the champion, as if the model had changed. */
	store = store_open(check_db, &cause);
	memset(&weak, 0, sizeof weak);
	weak.job = jr.job_id;
	weak.candidate = store_candidate_put(store, jr.job_id, "Classify the "
	    "sentiment of the review.", "seed", &cause);
	weak.score = 0.1;
	weak.hi = 0.2;
	weak.p = weak.delta = NAN;
	weak.reason = "test: a weak champion";
	ck_assert_int_eq(store_champion_add(store, &weak, &cause), 0);
	store_close(store);
	/* A refresh re-scores the champion and the best candidates and
	 * promotes the strong one: the paired test says so, and its
	 * evidence is kept with the version, as is its test score. */
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 3);
	ck_assert_int_eq(jr.promoted, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE reason "
	    "LIKE 'beats champion 2%'"), 1);
	sql = xasprintf("SELECT count(*) FROM champions WHERE version = 3"
	    " AND run_id = %lld AND p < 0.05 AND delta >= 0.05 AND paired > 0"
	    " AND test_n > 0", (long long)jr.run_id);
	ck_assert_int_eq(count(sql), 1);
	free(sql);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE version"
	    " = 2 AND run_id IS NULL AND test_score IS NULL"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM runs WHERE kind = "
	    "'refresh' AND status = 'done'"), 1);
	/* Another refresh finds nothing significantly better: it refuses. */
	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE champions SET test_score ="
	    " NULL, test_lo = NULL, test_hi = NULL, test_n = NULL", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 3);
	ck_assert_int_eq(jr.promoted, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE "
	    "'no promotion%' OR message LIKE 'refresh: the dataset is "
	    "unchanged'"), 2);
	/* The champion that held its place was measured on test again. */
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE test_n"
	    " > 0"), 1);
	ck_assert_int_eq(count("SELECT version FROM champions WHERE test_n"
	    " > 0"), 3);
	/* The refreshes scored the same examples again: the latest count. */
	ck_assert_int_gt(count("SELECT sum(evals) - sum(n) FROM score_sums"),
	    0);
	ck_assert_int_eq(count(CHECK_SCORE_SUMS_WRONG), 0);
	job_free(job);
}
END_TEST

START_TEST(test_total_budget)
{
	struct job	*job;
	struct jobrun	 jr;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 3 }",
	    ", \"total_budget\": { \"max_calls\": 150 }");
	run(job, "optimize", 100, &jr);
	ck_assert_str_eq(jr.status, "exhausted");
	ck_assert_int_eq(count("SELECT sum(calls) FROM runs"), 150);
	/* The job's budget is spent: the next run pays for nothing. */
	run(job, "refresh", 100, &jr);
	ck_assert_str_eq(jr.status, "exhausted");
	ck_assert_int_eq(count("SELECT sum(calls) FROM runs"), 150);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), 150);
	job_free(job);
}
END_TEST

static Suite *
jobrun_suite(void)
{
	Suite	*s = suite_create("jobrun");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, check_sentiment_setup,
	    check_sentiment_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_optimize_and_export);
	tcase_add_test(tc, test_resume_from_checkpoint);
	tcase_add_test(tc, test_refresh_promotes_and_refuses);
	tcase_add_test(tc, test_total_budget);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(jobrun_suite)
