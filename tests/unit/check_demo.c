/*
 * Demonstrations: a candidate's demos in a job's seeds, rendered as turns
 * or inline, in the cache key, and in the store.
 */
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "backend.h"
#include "check_common.h"
#include "dataset.h"
#include "demo.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "model.h"
#include "search.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* A sentiment job with one seed carrying two demos, and extra members. */
static struct job *
demo_job(const char *task_extra, const char *extra)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"d\", \"description\": \"Sentiment.\","
	    " \"task\": { \"dataset\": \"reviews.jsonl\", \"input\":"
	    " \"Review: {{text}}\", \"target\": \"label\", \"metric\":"
	    " { \"type\": \"exact\" } %s }, \"seed_prompts\": [ { \"prompt\":"
	    " \"Say positive or negative.\", \"demos\": [ { \"line\": 2 },"
	    " { \"input\": \"Review: Fine.\", \"output\": \"positive\" } ] },"
	    " \"Plain.\" ], \"backends\": { \"sim\": { \"type\": \"sim\" } },"
	    " \"roles\": { \"target\": \"sim\" } %s }", task_extra, extra);
	job = check_job(check_dir, text);
	free(text);
	return job;
}

static void
msg_is(const struct model_req *r, size_t i, enum msg_role role,
    const char *content)
{
	ck_assert_uint_gt(r->nmsgs, i);
	ck_assert_int_eq(r->msgs[i].role, role);
	ck_assert_str_eq(r->msgs[i].content, content);
}

START_TEST(test_seed_demos)
{
	struct job	*job = demo_job("", "");

	ck_assert_uint_eq(job->nseeds, 2);
	ck_assert_uint_eq(job->seed_demos[0].n, 2);
	ck_assert_uint_eq(job->seed_demos[1].n, 0);
	/* Line 2 of the file: its input as the target sees it, its label. */
	ck_assert_str_eq(job->seed_demos[0].v[0].input,
	    "Review: The sequel wasted a talented cast.");
	ck_assert_str_eq(job->seed_demos[0].v[0].output, "negative");
	ck_assert_str_eq(job->seed_demos[0].v[1].output, "positive");
	job_free(job);
}
END_TEST

START_TEST(test_render_turns)
{
	struct job		*job = demo_job("", "");
	struct model_req	 r;
	char			*text;

	task_build_request_demos(&job->task, job->seeds[0],
	    &job->seed_demos[0], 0, &r);
	ck_assert_uint_eq(r.nmsgs, 6);
	msg_is(&r, 0, MSG_SYSTEM, "Say positive or negative.");
	msg_is(&r, 1, MSG_USER, "Review: The sequel wasted a talented cast.");
	msg_is(&r, 2, MSG_ASSISTANT, "negative");
	msg_is(&r, 3, MSG_USER, "Review: Fine.");
	msg_is(&r, 4, MSG_ASSISTANT, "positive");
	msg_is(&r, 5, MSG_USER,
	    "Review: The remake rewards every minute you give it.");
	model_req_release(&r);
	/* Turns are not in the prompt's text, but they cost tokens. */
	text = task_prompt_text(&job->task, job->seeds[0],
	    &job->seed_demos[0]);
	ck_assert_str_eq(text, "Say positive or negative.");
	free(text);
	ck_assert_int_eq(task_prompt_tokens(&job->task, job->seeds[0],
	    &job->seed_demos[0]), tokens_estimate("Say positive or negative.") +
	    tokens_estimate("Review: The sequel wasted a talented cast.") +
	    tokens_estimate("negative") + tokens_estimate("Review: Fine.") +
	    tokens_estimate("positive"));
	/* No demos: the request it always was. */
	task_build_request_demos(&job->task, job->seeds[1],
	    &job->seed_demos[1], 0, &r);
	ck_assert_uint_eq(r.nmsgs, 2);
	msg_is(&r, 0, MSG_SYSTEM, "Plain.");
	model_req_release(&r);
	job_free(job);
}
END_TEST

START_TEST(test_render_inline)
{
	struct job		*job;
	struct model_req	 r;
	const char		*want = "Say positive or negative.\n\n"
	    "Input: Review: The sequel wasted a talented cast.\n"
	    "Output: negative\n\nInput: Review: Fine.\nOutput: positive";

	job = demo_job(", \"demos\": { \"placement\": \"inline\" }", "");
	task_build_request_demos(&job->task, job->seeds[0],
	    &job->seed_demos[0], 0, &r);
	ck_assert_uint_eq(r.nmsgs, 2);
	msg_is(&r, 0, MSG_SYSTEM, want);
	model_req_release(&r);
	ck_assert_int_eq(task_prompt_tokens(&job->task, job->seeds[0],
	    &job->seed_demos[0]), tokens_estimate(want));
	job_free(job);

	job = demo_job(", \"demos\": { \"placement\": \"inline\", \"template\":"
	    " \"<ex>{{ input }} => {{output}}</ex>\" }", "");
	task_build_request_demos(&job->task, job->seeds[0],
	    &job->seed_demos[0], 0, &r);
	msg_is(&r, 0, MSG_SYSTEM, "Say positive or negative.\n\n"
	    "<ex>Review: The sequel wasted a talented cast. => negative</ex>"
	    "\n\n<ex>Review: Fine. => positive</ex>");
	model_req_release(&r);
	job_free(job);
}
END_TEST

/* The cache key follows the rendered messages: demos and their order. */
START_TEST(test_cache_key)
{
	struct job		*job = demo_job("", "");
	struct backend		*b;
	struct model_req	 r;
	struct demos		 swapped;
	char			 k0[65], k1[65], k2[65], k3[65];

	b = job->task.roles[ROLE_TARGET];
	task_build_request_demos(&job->task, "P.", NULL, 0, &r);
	backend_req_key(b, &r, k0);
	model_req_release(&r);
	task_build_request_demos(&job->task, "P.", &job->seed_demos[0], 0, &r);
	backend_req_key(b, &r, k1);
	model_req_release(&r);
	task_build_request_demos(&job->task, "P.", &job->seed_demos[0], 0, &r);
	backend_req_key(b, &r, k2);
	model_req_release(&r);
	memset(&swapped, 0, sizeof swapped);
	demos_add(&swapped, 0, job->seed_demos[0].v[1].input,
	    job->seed_demos[0].v[1].output);
	demos_add(&swapped, 0, job->seed_demos[0].v[0].input,
	    job->seed_demos[0].v[0].output);
	task_build_request_demos(&job->task, "P.", &swapped, 0, &r);
	backend_req_key(b, &r, k3);
	model_req_release(&r);
	ck_assert_str_ne(k0, k1);
	ck_assert_str_eq(k1, k2);
	ck_assert_str_ne(k1, k3);
	ck_assert(!demos_equal(&swapped, &job->seed_demos[0]));
	demos_release(&swapped);
	job_free(job);
}
END_TEST

START_TEST(test_store_demos)
{
	struct store		*s;
	struct candidate_row	 row;
	struct demos		 d, back, other;
	char			*tmp, *path, *cause = NULL;
	int64_t			 job, a, b, c, e;

	s = check_store_new("demos.db", &tmp, &path);
	job = store_job_put(s, "t", "{}", &cause);
	memset(&d, 0, sizeof d);
	demos_add(&d, 0, "in one", "out one");
	demos_add(&d, 0, "in two", "out two");
	a = store_candidate_put_demos(s, job, "Do it.", &d, 42, "seed",
	    &cause);
	ck_assert_msg(a > 0, "%s", cause);
	/* The same instruction and demos is the same candidate ... */
	ck_assert_int_eq(store_candidate_put_demos(s, job, "Do it.", &d, 42,
	    "mutate", &cause), a);
	/* ... the instruction alone, or other demos, another. */
	b = store_candidate_put(s, job, "Do it.", "seed", &cause);
	ck_assert_int_gt(b, 0);
	ck_assert_int_ne(a, b);
	demos_copy(&other, &d);
	free(other.v[1].output);
	other.v[1].output = xstrdup("out 2");
	c = store_candidate_put_demos(s, job, "Do it.", &other, -1, "seed",
	    &cause);
	ck_assert_int_gt(c, 0);
	ck_assert_int_ne(c, a);
	ck_assert_int_ne(c, b);
	ck_assert_int_eq(store_candidate_get(s, a, &row, &cause), 1);
	ck_assert_str_eq(row.text, "Do it.");
	ck_assert_int_eq(row.tokens, 42);
	ck_assert(demos_equal(&row.demos, &d));
	store_candidate_row_release(&row);
	ck_assert_int_eq(store_candidate_demos(s, b, &back, &cause), 0);
	ck_assert_uint_eq(back.n, 0);
	demos_release(&back);
	/* Empty demos: the candidate the text alone makes. */
	memset(&back, 0, sizeof back);
	e = store_candidate_put_demos(s, job, "Do it.", &back, -1, "seed",
	    &cause);
	ck_assert_int_eq(e, b);
	demos_release(&other);
	demos_release(&d);
	check_store_free(s, tmp, path);
}
END_TEST

/* Bad demos in a job name the member. */
START_TEST(test_job_errors)
{
	static const struct {
		const char	*task;
		const char	*seed;
		const char	*want;
	} cases[] = {
		{ "", "{ \"prompt\": \"P.\", \"demos\": [ { \"line\": 999 } ] }",
		  "seed_prompts[0].demos[0]: no example of the dataset starts "
		  "at line 999" },
		{ "", "{ \"prompt\": \"P.\", \"demos\": [ { \"input\": \"x\" } ] }",
		  "seed_prompts[0].demos[0]: expected \"output\"" },
		{ "", "{ \"prompt\": \"P.\", \"demos\": [ { \"lines\": 2 } ] }",
		  "seed_prompts[0].demos[0].lines: unknown key" },
		{ "", "{ \"demos\": [] }", "seed_prompts[0].prompt: missing" },
		{ "", "3", "seed_prompts[0]: expected a string, or an object" },
		{ ", \"demos\": { \"placement\": \"inline\", \"template\":"
		  " \"{{prompt}} {{input}}\" }", "\"P.\"",
		  "task.demos.template: {{prompt}} has no meaning here" },
		{ ", \"demos\": { \"template\": \"{{input}}\" }", "\"P.\"",
		  "task.demos.template: a template is only used with" },
		{ ", \"demos\": { \"placement\": \"side\" }", "\"P.\"",
		  "task.demos.placement" },
	};
	struct job	*job;
	char		*text, *p, *cause;
	size_t		 i;
	FILE		*f;

	p = xasprintf("%s/job.json", check_dir);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		text = xasprintf("{ \"name\": \"d\", \"task\": { \"dataset\":"
		    " \"reviews.jsonl\", \"input\": \"Review: {{text}}\","
		    " \"target\": \"label\", \"metric\": { \"type\": \"exact\" }"
		    " %s }, \"seed_prompts\": [ %s ], \"backends\": { \"sim\":"
		    " { \"type\": \"sim\" } }, \"roles\": { \"target\": \"sim\" }"
		    " }", cases[i].task, cases[i].seed);
		ck_assert_ptr_nonnull(f = fopen(p, "w"));
		fputs(text, f);
		fclose(f);
		cause = NULL;
		job = job_load(p, NULL, &cause);
		ck_assert_msg(job == NULL, "case %zu loaded", i);
		ck_assert_msg(cause != NULL && strstr(cause, cases[i].want) !=
		    NULL, "case %zu: '%s' lacks '%s'", i, cause, cases[i].want);
		ck_assert_msg(strstr(cause, "job.json:") != NULL,
		    "case %zu: no position: %s", i, cause);
		free(cause);
		free(text);
	}
	free(p);
}
END_TEST

/*
 * Bootstrap keeps exactly the answers the metric scores at least the
 * threshold, each with the target's own words, in order; the others are
 * dropped.
 */
START_TEST(test_bootstrap)
{
	struct job		*job = demo_job("",
	    ", \"strategy\": { \"name\": \"ape\" }");
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct search		*s;
	struct search_score	*res;
	struct demos		 d = { NULL, 0 }, all = { NULL, 0 };
	char			*cause = NULL, *in;
	size_t			 i, k = 0, right = 0;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	s = &jr.search;
	ck_assert_uint_gt(s->ntrain, 5);
	ck_assert_int_eq(search_bootstrap(s, s->cands[1], s->train,
	    s->ntrain, 1, &d, &cause), (int)s->ntrain);
	/* The same answers again, from the search's memory: no call. */
	res = xcalloc(s->ntrain, sizeof *res);
	ck_assert_int_eq(search_score_on(s, &s->cands[1], 1, s->train,
	    s->ntrain, res, &cause), 0);
	for (i = 0; i < s->ntrain; i++) {
		if (!(res[i].score >= 1))
			continue;
		right++;
		ck_assert_uint_lt(k, d.n);
		in = search_input(s, s->train[i]);
		ck_assert_str_eq(d.v[k].input, in);
		ck_assert_str_eq(d.v[k].output, res[i].output);
		ck_assert_int_eq(d.v[k].example,
		    job->task.dataset->ex[s->train[i]].id);
		free(in);
		k++;
	}
	ck_assert_uint_eq(k, d.n);
	/* Not a vacuous filter: some were wrong, some right. */
	ck_assert_uint_gt(right, 0);
	ck_assert_uint_lt(right, s->ntrain);
	/* With threshold 0 every answer scored is kept. */
	ck_assert_int_eq(search_bootstrap(s, s->cands[1], s->train,
	    s->ntrain, 0, &all, &cause), (int)s->ntrain);
	ck_assert_uint_eq(all.n, s->ntrain);
	search_scores_release(res, s->ntrain);
	free(res);
	demos_release(&d);
	demos_release(&all);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
}
END_TEST

static Suite *
demo_suite(void)
{
	Suite	*s = suite_create("demo");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, check_sentiment_setup,
	    check_sentiment_teardown);
	tcase_add_test(tc, test_seed_demos);
	tcase_add_test(tc, test_render_turns);
	tcase_add_test(tc, test_render_inline);
	tcase_add_test(tc, test_cache_key);
	tcase_add_test(tc, test_store_demos);
	tcase_add_test(tc, test_job_errors);
	tcase_add_test(tc, test_bootstrap);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(demo_suite)
