/*
 * Tests of champion and challenger (schema 14): a job's challengers
 * opened and ended, one open at a time; the ratings of a candidate since
 * a time and ingested before a run started; and the verdict of
 * jobrun_challenger_judge() on hand-built interactions: promote, reject,
 * too few ratings, stays.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check_common.h"
#include "feedback.h"
#include "jobrun.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* When the challenger started, in the tests' own clock. */
#define T0	1700000000.0

static char		*tmp, *path;
static struct store	*s;
static int64_t		 job, champ, chal;
static int		 serial;

static void
setup(void)
{
	char	*cause = NULL;

	s = check_store_new("chal.db", &tmp, &path);
	job = store_job_put(s, "chal", "{}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
	champ = store_candidate_put(s, job, "Answer.", "seed", &cause);
	chal = store_candidate_put(s, job, "Answer well.", "mutation", &cause);
	ck_assert_msg(champ > 0 && chal > 0, "%s", cause);
}

static void
teardown(void)
{
	check_store_free(s, tmp, path);
}

/* n interactions of cand at time t, each rated up (1) or down (0) in turn
 * from the pattern, thumbs. */
static void
rate(int64_t cand, double t, const char *pattern, size_t n)
{
	struct interaction	 it;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < n; i++) {
		memset(&it, 0, sizeof it);
		snprintf(it.key, sizeof it.key, "k%d", serial++);
		it.time = t + (double)i;
		it.inputs = cJSON_CreateObject();
		it.response = xstrdup("r");
		it.scale = RATING_THUMBS;
		it.rating = pattern[i % strlen(pattern)] == '1';
		it.regenerated = it.abandoned = it.copied = -1;
		ck_assert_msg(store_interaction_put(s, job, &it, cand, 0, NULL,
		    0, NULL, &cause) == 1, "%s", cause);
		feedback_release(&it);
	}
}

/* A run started now: what was put before it is its evidence. */
static int64_t
run_now(void)
{
	char	*cause = NULL;
	int64_t	 run;

	run = store_run_new(s, job, "refresh", 0, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	return run;
}

static int
judge(int64_t run, long long min, struct challenger_evidence *e)
{
	struct challenger	 c;
	char			*cause = NULL;
	int			 v;

	memset(&c, 0, sizeof c);
	c.candidate = chal;
	c.started = T0;
	c.share = 0.1;
	v = jobrun_challenger_judge(s, job, run, &c, champ, 0.05, 0.05, min,
	    e, &cause);
	ck_assert_msg(v >= 0, "%s", cause);
	return v;
}

START_TEST(test_open_end)
{
	struct challenger	 c;
	char			*cause = NULL;
	int64_t			 id;

	ck_assert_int_eq(store_challenger_current(s, job, &c, &cause), 0);
	id = store_challenger_add(s, job, chal, 0.2, &cause);
	ck_assert_msg(id > 0, "%s", cause);
	ck_assert_int_eq(store_challenger_current(s, job, &c, &cause), 1);
	ck_assert(c.id == id && c.candidate == chal);
	ck_assert_double_eq(c.share, 0.2);
	ck_assert(c.started > T0);
	/* One open at a time, and a share the schema refuses. */
	ck_assert(store_challenger_add(s, job, champ, 0.2, &cause) < 0);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_challenger_end(s, id, "promoted", &cause), 0);
	ck_assert_int_eq(store_challenger_current(s, job, &c, &cause), 0);
	ck_assert(store_challenger_end(s, id, "rejected", &cause) < 0);
	ck_assert_ptr_nonnull(strstr(cause, "not open"));
	free(cause);
	cause = NULL;
	ck_assert(store_challenger_add(s, job, champ, 0.6, &cause) < 0);
	free(cause);
}
END_TEST

START_TEST(test_ratings_window)
{
	double	*v = NULL;
	size_t	 n = 99;
	char	*cause = NULL;
	int64_t	 run;

	rate(chal, T0 - 100, "1", 5);		/* before it started */
	rate(chal, T0, "10", 4);
	run = run_now();
	usleep(2000);				/* a clock that moved */
	rate(chal, T0 + 50, "1", 3);		/* ingested after the run */
	ck_assert_int_eq(store_candidate_ratings(s, job, chal, T0, run, &v,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert(v[0] == 1 && v[1] == 0 && v[2] == 1 && v[3] == 0);
	free(v);
	ck_assert_int_eq(store_candidate_ratings(s, job, champ, T0, run, &v,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	/* A run that does not exist has seen nothing. */
	ck_assert_int_eq(store_candidate_ratings(s, job, chal, 0, 9999, &v,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_promote)
{
	struct challenger_evidence	e;

	rate(chal, T0, "1110", 40);		/* 0.75 */
	rate(champ, T0, "10", 120);		/* 0.5 */
	rate(champ, T0 - 1000, "0", 50);	/* before: not counted */
	ck_assert_int_eq(judge(run_now(), 30, &e), CHALLENGER_PROMOTE);
	ck_assert_uint_eq(e.n[0], 40);
	ck_assert_uint_eq(e.n[1], 120);
	ck_assert_double_eq_tol(e.mean[0], 0.75, 1e-12);
	ck_assert_double_eq_tol(e.mean[1], 0.5, 1e-12);
	ck_assert_double_eq_tol(e.delta, 0.25, 1e-12);
	ck_assert(e.p < 0.01 && e.p_worse > 0.99);
}
END_TEST

START_TEST(test_reject)
{
	struct challenger_evidence	e;

	rate(chal, T0, "1000", 40);		/* 0.25 */
	rate(champ, T0, "10", 120);
	ck_assert_int_eq(judge(run_now(), 30, &e), CHALLENGER_REJECT);
	ck_assert(e.p_worse < 0.01);
}
END_TEST

START_TEST(test_too_few)
{
	struct challenger_evidence	e;

	rate(chal, T0, "1", 29);
	rate(champ, T0, "0", 200);
	ck_assert_int_eq(judge(run_now(), 30, &e), CHALLENGER_TOO_FEW);
	ck_assert_uint_eq(e.n[0], 29);
	ck_assert(e.p == 1.0);
	/* The same with a lower minimum is a clear win. */
	ck_assert_int_eq(judge(run_now(), 29, &e), CHALLENGER_PROMOTE);
}
END_TEST

START_TEST(test_stays)
{
	struct challenger_evidence	e;

	/* 0.6 against 0.5: not significant on so few (p = 0.19). */
	rate(chal, T0, "11011001101100110110", 40);
	rate(champ, T0, "10", 40);
	ck_assert_int_eq(judge(run_now(), 30, &e), CHALLENGER_STAYS);
	ck_assert(e.p >= 0.05 && e.p_worse >= 0.05);
}
END_TEST

static Suite *
challenger_suite(void)
{
	Suite	*su = suite_create("challenger");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_end);
	tcase_add_test(tc, test_ratings_window);
	tcase_add_test(tc, test_promote);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_too_few);
	tcase_add_test(tc, test_stays);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(challenger_suite)
