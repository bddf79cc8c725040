/*
 * The report's progress and calls sections (report_plot.c,
 * report_calls.c): their helpers (the rule of who may lead the best so
 * far, log-spaced latency bins, labels and excerpts), and the markup the
 * sections write for a small run, counted as their comments promise.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "dataset.h"
#include "report.h"
#include "report_plot.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

static void
expect_excerpt(const char *in, size_t max, const char *want)
{
	char	*got = report_excerpt(in, max);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_excerpt)
{
	expect_excerpt(NULL, 10, "");
	expect_excerpt("  a \n\n b\tc  ", 10, "a b c");
	expect_excerpt("abcdef", 6, "abcdef");
	expect_excerpt("abcdefg", 6, "abcdef\xe2\x80\xa6");
	/* No space before the ellipsis, no character cut in two. */
	expect_excerpt("abc   def", 4, "abc\xe2\x80\xa6");
	expect_excerpt("ab\xc3\xa9z", 3, "ab\xe2\x80\xa6");
	expect_excerpt("\xe2\x82\xac\xe2\x82\xac", 5, "\xe2\x82\xac"
	    "\xe2\x80\xa6");
}
END_TEST

START_TEST(test_bins)
{
	struct report_bins	b;
	size_t			i;

	/* 6.5 us to 1.8 ms: the finest split within 24 bins is ninths of
	 * a decade (tenths need 25), from 10^(-47/9) to 10^(-24/9). */
	report_bins_init(&b, 6.5e-6, 1.8e-3, 24);
	ck_assert(fabs(b.width - 1.0 / 9) < 1e-12);
	ck_assert(fabs(b.lo + 47.0 / 9) < 1e-9);
	ck_assert_uint_eq(b.n, 23);
	ck_assert(report_bins_edge(&b, 0) <= 6.5e-6);
	ck_assert(report_bins_edge(&b, b.n) >= 1.8e-3);
	/* Every value falls in the bin whose edges hold it. */
	for (i = 0; i < 50; i++) {
		double	v = 6.5e-6 * pow(1.13, (double)i);
		size_t	k = report_bins_find(&b, v);

		if (v > 1.8e-3)
			break;
		ck_assert(report_bins_edge(&b, k) <= v * (1 + 1e-9));
		ck_assert(report_bins_edge(&b, k + 1) >= v * (1 - 1e-9));
	}
	/* A decade is an edge; the last edge falls in the last bin. */
	report_bins_init(&b, 0.1, 10, 4);
	ck_assert(fabs(b.lo + 1) < 1e-9 && fabs(b.width - 0.5) < 1e-12);
	ck_assert_uint_eq(b.n, 4);
	ck_assert_uint_eq(report_bins_find(&b, 1), 2);
	ck_assert_uint_eq(report_bins_find(&b, 10), 3);
	ck_assert_uint_eq(report_bins_find(&b, 1e-9), 0);
	ck_assert_uint_eq(report_bins_find(&b, 0), 0);
	/* One value: one bin, a twentieth of a decade. */
	report_bins_init(&b, 0.25, 0.25, 24);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(report_bins_find(&b, 0.25), 0);
	/* Wider than the bins allow in tenths: whole decades, then more. */
	report_bins_init(&b, 1e-6, 1e3, 12);
	ck_assert(b.width == 1 && b.n == 9);
	report_bins_init(&b, 1e-12, 1e12, 6);
	ck_assert(b.width == 4 && b.n == 6);
	ck_assert(fabs(b.lo + 12) < 1e-9);
	ck_assert_uint_eq(report_bins_find(&b, 1e12), 5);
}
END_TEST

START_TEST(test_seconds)
{
	char	buf[32];

	ck_assert_str_eq(report_seconds(2.5e-5, buf, sizeof buf),
	    "25 \xc2\xb5s");
	ck_assert_str_eq(report_seconds(0.25, buf, sizeof buf), "250 ms");
	ck_assert_str_eq(report_seconds(12.5, buf, sizeof buf), "12.5 s");
	ck_assert_str_eq(report_seconds(NAN, buf, sizeof buf), "-");
}
END_TEST

static void
row(struct progress_row *r, int64_t id, long long n, double mean,
    long long calls, double t)
{
	memset(r, 0, sizeof *r);
	r->candidate = id;
	r->n = n;
	r->mean = mean;
	r->calls = calls;
	r->dollars = (double)calls / 100;
	r->time = t;
}

/*
 * Candidates raced out after a few examples do not lead, however well
 * they scored; ties keep the first.
 */
START_TEST(test_best)
{
	struct progress_row	r[7];
	size_t			best[7], n;

	row(&r[0], 7, 12, 0.9, 50, 5);
	row(&r[1], 3, 60, 0.5, 10, 1);
	row(&r[2], 4, 12, 1.0, 20, 2);
	row(&r[3], 5, 60, 0.5, 30, 3);
	row(&r[4], 9, 60, 0.7, 30, 2);
	row(&r[5], 6, 48, 0.8, 40, 4);
	row(&r[6], 8, 60, 0.8, 60, 6);
	report_progress_sort(r, 7);
	/* By calls, then time: 3, 4, 9, 5, 6, 7, 8. */
	ck_assert_int_eq(r[0].candidate, 3);
	ck_assert_int_eq(r[2].candidate, 9);
	ck_assert_int_eq(r[3].candidate, 5);
	ck_assert_int_eq(r[6].candidate, 8);
	/* n: 60 12 60 60 48 12 60, sorted 12 12 48 60 ...: 60. */
	ck_assert_int_eq(report_progress_min_n(r, 7), 60);
	n = report_progress_best(r, 7, 60, best);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[best[0]].candidate, 3);
	ck_assert_int_eq(r[best[1]].candidate, 9);
	ck_assert_int_eq(r[best[2]].candidate, 8);
	/* A lower bar lets 6 lead, and then 8 only ties it. */
	n = report_progress_best(r, 7, 48, best);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[best[2]].candidate, 6);
	ck_assert_int_eq(report_progress_min_n(r, 0), 0);
	ck_assert_int_eq(report_progress_min_n(r, 2), 12);
}
END_TEST

/* A store with one job and its run, made by hand. */
static char		*tmp, *path;
static struct store	*s;
static int64_t		 job;

static void
setup(void)
{
	char	*cause = NULL;

	s = check_store_new("plot.db", &tmp, &path);
	job = store_job_put(s, "plot", "{ \"name\": \"plot\" }", &cause);
	ck_assert_msg(job > 0, "%s", cause);
}

static void
teardown(void)
{
	check_store_free(s, tmp, path);
}

static int64_t
call(int64_t run, const char *status, int http, double cost,
    double latency, const char *error)
{
	return check_call_add(s, run, status, http, cost, latency, error,
	    error != NULL ? 2 : 1);
}

/* Scores cand with the scores given on the dev examples (1, 4, 7, 10). */
static void
scores(int64_t run, struct dataset *ds, int64_t cand, const double *v,
    size_t n, double cost)
{
	char	*cause = NULL;
	size_t	 i;
	int64_t	 c;

	for (i = 0; i < n; i++) {
		/* Answers of 50 ms and 0.5 s: two bins of answered ones. */
		c = call(run, "ok", 200, cost, i % 2 ? 0.5 : 0.05, NULL);
		ck_assert_int_gt(store_evaluation_add(s, run, cand,
		    ds->ex[1 + 3 * i].id, "out", v[i], NULL, c, &cause), 0);
	}
}

static int64_t
put(const char *text, const char *origin, int64_t parent, const char *op)
{
	char	*cause = NULL;
	int64_t	 id;

	id = store_candidate_put(s, job, text, origin, &cause);
	ck_assert_msg(id > 0, "%s", cause);
	if (parent > 0)
		ck_assert_int_eq(store_lineage_add(s, id, parent, op, NULL,
		    &cause), 0);
	return id;
}

/*
 * A run of four candidates (one raced out after an example), two failed
 * attempts and a cache hit, and its champion: returns its id.
 */
static int64_t
run_make(struct dataset *ds, double cost)
{
	static const double	a[] = { 1, 0, 1, 1 }, b[] = { 1, 1, 1, 1 },
				c[] = { 0 }, d[] = { 0, 1, 0, 1 };
	struct champion_record	ch;
	struct run_totals	t;
	char			*cause = NULL;
	int64_t			 run, dataset, ca, cb;

	dataset = store_dataset_snapshot(s, job, ds, NULL, &cause);
	ck_assert_msg(dataset > 0, "%s", cause);
	run = store_run_new(s, job, "optimize", dataset, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	ca = put("Seed <script>alert(1)</script>", "seed", 0, NULL);
	cb = put("Child of the seed.", "mutation", ca, "mutate");
	scores(run, ds, ca, a, nitems(a), cost);
	scores(run, ds, cb, b, nitems(b), cost);
	scores(run, ds, put("Raced out.", "seed", 0, NULL), c, nitems(c),
	    cost);
	scores(run, ds, put("Another child.", "mutation", cb, "mutate"), d,
	    nitems(d), cost);
	/* Failed attempts of 5 s: one bin; a failure without a latency and
	 * a hit are in no bin. */
	call(run, "error", 500, 0, 5, "HTTP 500: <oops>");
	call(run, "error", 500, 0, 5, "HTTP 500: <oops>");
	call(run, "error", 0, 0, NAN, "connection refused");
	call(run, "hit", 0, 0, 0, NULL);
	memset(&ch, 0, sizeof ch);
	ch.job = job;
	ch.candidate = cb;
	ch.run = run;
	ch.score = 1;
	ch.lo = 0.5;
	ch.hi = 1;
	ch.p = ch.delta = NAN;
	ch.reason = "best of 4";
	ck_assert_int_eq(store_champion_add(s, &ch, &cause), 0);
	ck_assert_int_eq(store_run_spent(s, run, &t, &cause), 0);
	ck_assert_int_eq(store_run_finish(s, run, "done", &t, &cause), 0);
	return run;
}

/* The report's section id, as a string the caller frees. */
static char *
section(const char *page, const char *id)
{
	char		*open;
	const char	*p, *e;

	open = xasprintf("<section id=\"%s\">", id);
	p = strstr(page, open);
	free(open);
	ck_assert_ptr_nonnull(p);
	e = strstr(p, "</section>");
	ck_assert_ptr_nonnull(e);
	return xstrndup(p, (size_t)(e - p));
}

static char *
page(void)
{
	struct strbuf	 sb;
	const char	*code;
	char		*cause = NULL;

	strbuf_init(&sb);
	ck_assert_msg(report_write(s, "plot", 0, &sb, &code, &cause) == 0,
	    "%s", cause);
	return strbuf_detach(&sb);
}

/*
 * Progress: a point per candidate in each plot, the raced-out one kept
 * out of the best so far, the prompt escaped; calls: a bar per bin of
 * answers and of failures, the failures by cause, and the spend.
 */
START_TEST(test_sections)
{
	struct dataset	*ds = check_dataset(12, "p");
	char		*all, *p, *c;

	run_make(ds, 0.001);
	all = page();
	p = section(all, "progress");
	ck_assert_uint_eq(check_occurrences(p, "<circle class=\"pt"), 8);
	ck_assert_uint_eq(check_occurrences(p, "<circle class=\"pt c"), 8);
	ck_assert_uint_eq(check_occurrences(p, "<path class=\"line best\""), 2);
	ck_assert_uint_eq(check_occurrences(p, "<path class=\"band best\""), 2);
	ck_assert_uint_eq(check_occurrences(p,
	    "<path class=\"line champion\""), 2);
	ck_assert_uint_eq(check_occurrences(p, ">v1</text>"), 2);
	ck_assert_ptr_nonnull(strstr(p, "at least 4 examples"));
	ck_assert_ptr_nonnull(strstr(p, "Seed &lt;script&gt;"));
	ck_assert_ptr_null(strstr(p, "<script"));
	ck_assert_ptr_nonnull(strstr(p, "mutate"));
	ck_assert_uint_eq(check_occurrences(p, " (a new best)"), 2);
	c = section(all, "calls");
	ck_assert_uint_eq(check_occurrences(c, "<rect"),
	    check_occurrences(c, "class=\"bar"));
	ck_assert_uint_eq(check_occurrences(c, "class=\"bar\""), 2);
	ck_assert_uint_eq(check_occurrences(c, "class=\"bar error\""), 1);
	ck_assert_uint_eq(check_occurrences(c, "<circle"), 0);
	ck_assert_ptr_nonnull(strstr(c, "HTTP 500: &lt;oops&gt;"));
	ck_assert_ptr_nonnull(strstr(c, "connection refused"));
	ck_assert_ptr_nonnull(strstr(c, ">target</td>"));
	free(p);
	free(c);
	free(all);
	check_dataset_free(ds);
}
END_TEST

/* A run that cost nothing has no plot against dollars. */
START_TEST(test_free_run)
{
	struct dataset	*ds = check_dataset(12, "q");
	char		*all, *p;

	run_make(ds, 0);
	all = page();
	p = section(all, "progress");
	ck_assert_uint_eq(check_occurrences(p, "<circle class=\"pt"), 4);
	ck_assert_ptr_nonnull(strstr(p, "The run cost $0"));
	free(p);
	free(all);
	check_dataset_free(ds);
}
END_TEST

/* A job without a run says so in both sections. */
START_TEST(test_no_run)
{
	char	*all, *p, *c;

	all = page();
	p = section(all, "progress");
	c = section(all, "calls");
	ck_assert_ptr_nonnull(strstr(p, "class=\"note\""));
	ck_assert_ptr_nonnull(strstr(c, "no run yet"));
	ck_assert_ptr_null(strstr(all, "<circle class=\"pt"));
	free(p);
	free(c);
	free(all);
}
END_TEST

static Suite *
report_plot_suite(void)
{
	Suite	*su = suite_create("report_plot");
	TCase	*tc = tcase_create("helpers"), *ts;

	tcase_add_test(tc, test_excerpt);
	tcase_add_test(tc, test_bins);
	tcase_add_test(tc, test_seconds);
	tcase_add_test(tc, test_best);
	suite_add_tcase(su, tc);
	ts = tcase_create("sections");
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, test_sections);
	tcase_add_test(ts, test_free_run);
	tcase_add_test(ts, test_no_run);
	suite_add_tcase(su, ts);
	return su;
}

CHECK_MAIN(report_plot_suite)
