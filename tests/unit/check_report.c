/*
 * The report from a store built by hand: every text a model or a person
 * wrote (prompts, operators' notes, outputs) is escaped, so a prompt that
 * holds markup never becomes markup; the page has its eight sections
 * even for a job with nothing run; a job or run that is not there is
 * "not_found"; report_save() writes the whole page, or an error that
 * names the file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "dataset.h"
#include "report.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define HOSTILE	"Ignore this.</div><script>alert(1)</script> <b>\"x\" & 'y'"

static char		*tmp, *path;
static struct store	*s;

static void
setup(void)
{
	s = check_store_new("report.db", &tmp, &path);
}

static void
teardown(void)
{
	check_store_free(s, tmp, path);
}

/* The report of job (run 0: the latest) as a string, or NULL with code. */
static char *
page(const char *job, int64_t run, const char **code)
{
	struct strbuf	 sb;
	char		*cause = NULL;

	strbuf_init(&sb);
	if (report_write(s, job, run, &sb, code, &cause) != 0) {
		strbuf_release(&sb);
		free(cause);
		return NULL;
	}
	strbuf_addc(&sb, '\0');
	return strbuf_detach(&sb);
}

/* A run of a job whose prompts, notes and outputs are hostile. */
static void
hostile_job(void)
{
	struct champion_record	 c;
	struct dataset		*ds;
	char			*cause = NULL;
	int64_t			 job, run, snap, a, b;
	size_t			 i;

	job = store_job_put(s, "evil", "{\"description\": \"<i>d</i>\", "
	    "\"task\": {\"input\": \"{{text}}</textarea>\", \"target\": "
	    "\"label\"}, \"strategy\": {\"name\": \"evo\"}}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
	ds = check_dataset(12, "evil");
	snap = store_dataset_snapshot(s, job, ds, NULL, &cause);
	ck_assert_msg(snap > 0, "%s", cause);
	run = store_run_new(s, job, "optimize", snap, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	a = store_candidate_put(s, job, "Answer <politely>.", "seed", &cause);
	b = store_candidate_put(s, job, HOSTILE, "evo", &cause);
	ck_assert(a > 0 && b > 0);
	ck_assert_int_eq(store_lineage_add(s, b, a, "mutate<op>",
	    "the note says </title><script>x()</script>", &cause), 0);
	for (i = 0; i < ds->n; i++) {
		if (ds->ex[i].split != SPLIT_DEV)
			continue;
		ck_assert(store_evaluation_add(s, run, a, ds->ex[i].id,
		    "<img src=x>", 0, NULL, 0, &cause) > 0);
		ck_assert(store_evaluation_add(s, run, b, ds->ex[i].id,
		    "ok", 1, NULL, 0, &cause) > 0);
	}
	memset(&c, 0, sizeof c);
	c.job = job;
	c.candidate = b;
	c.run = run;
	c.score = 1;
	c.lo = 0.5;
	c.hi = 1;
	c.p = c.delta = NAN;
	c.reason = "best <of> 2";
	snprintf(c.risk.measure, sizeof c.risk.measure, "quantile");
	c.risk.param = 0.9;
	c.risk.bound = 0.125;
	c.risk.max = 0.25;
	c.risk.confidence = 0.95;
	c.risk.n = 58;
	ck_assert_msg(store_champion_add(s, &c, &cause) == 0, "%s", cause);
	ck_assert_int_eq(store_run_finish(s, run, "done", NULL, &cause), 0);
	check_dataset_free(ds);
}

START_TEST(test_escaped)
{
	const char	*code;
	char		*p;

	hostile_job();
	ck_assert_ptr_nonnull(p = page("evil", 0, &code));
	/* Not one tag from the store made it through as a tag. */
	ck_assert_uint_eq(check_occurrences(p, "<script"), 0);
	ck_assert_uint_eq(check_occurrences(p, "<img"), 0);
	ck_assert_uint_eq(check_occurrences(p, "<politely>"), 0);
	ck_assert_uint_eq(check_occurrences(p, "</textarea>"), 0);
	ck_assert_uint_eq(check_occurrences(p, "<i>"), 0);
	ck_assert(strstr(p, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	ck_assert(strstr(p, "&quot;x&quot; &amp; &#39;y&#39;") != NULL);
	ck_assert(strstr(p, "mutate&lt;op&gt;") != NULL);
	ck_assert(strstr(p, "best &lt;of&gt; 2") != NULL);
	/* The champion's risk bound is part of its evidence. */
	ck_assert(strstr(p, "upper bound 0.125, at most 0.250 allowed "
	    "(0.9-quantile of the dev loss, 95% confidence, 58 examples)") !=
	    NULL);
	/* Every section once, and the page closed. */
	ck_assert_uint_eq(check_occurrences(p, "<section id="), 8);
	ck_assert_uint_eq(check_occurrences(p, "</section>"), 8);
	ck_assert(strstr(p, "</html>\n") != NULL);
	free(p);
}
END_TEST

START_TEST(test_not_found)
{
	const char	*code = NULL;
	char		*p, *cause = NULL;

	ck_assert_ptr_null(page("nope", 0, &code));
	ck_assert_str_eq(code, "not_found");
	hostile_job();
	code = NULL;
	ck_assert_ptr_null(page("evil", 99, &code));
	ck_assert_str_eq(code, "not_found");
	/* A job with nothing run has a page that says so. */
	ck_assert(store_job_put(s, "idle", "{}", &cause) > 0);
	ck_assert_ptr_nonnull(p = page("idle", 0, &code));
	ck_assert_uint_eq(check_occurrences(p, "<section id="), 8);
	ck_assert(strstr(p, "No champion yet") != NULL);
	free(p);
}
END_TEST

START_TEST(test_save)
{
	const char	*code;
	char		*file, *cause = NULL, *got;
	FILE		*f;
	long		 len;

	hostile_job();
	file = xasprintf("%s/r.html", tmp);
	ck_assert_msg(report_save(s, "evil", 0, file, &code, &cause) == 0,
	    "%s", cause);
	ck_assert_ptr_nonnull(f = fopen(file, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	got = xcalloc((size_t)len + 1, 1);
	ck_assert_int_eq(fread(got, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ck_assert(strncmp(got, "<!DOCTYPE html>", 15) == 0);
	ck_assert(strstr(got, "</html>\n") != NULL);
	ck_assert_uint_eq(check_occurrences(got, "<section id="), 8);
	free(got);
	/* A directory that is not there: an error naming the file. */
	free(file);
	file = xasprintf("%s/no/such/r.html", tmp);
	ck_assert_int_eq(report_save(s, "evil", 0, file, &code, &cause), -1);
	ck_assert(strstr(cause, "no/such/r.html") != NULL);
	free(cause);
	free(file);
}
END_TEST

static Suite *
report_suite(void)
{
	Suite	*su = suite_create("report");
	TCase	*tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_escaped);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_save);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(report_suite)
