/*
 * The simulated target and few-shot demonstrations: requests without
 * demos answered exactly as before, the question found among demos with
 * long inputs in both renderings, the gain of correct and similar demos,
 * the loss of wrong ones, the answer format demos teach, and the
 * instruction still mattering.  The worlds are the example jobs' own
 * (examples/sentiment, arith and rewrite), their requests built here as
 * the demos' two renderings (turns and inline) lay them out.
 *
 * SIMDEMOS_PRINT=1 prints the pinned hash and the table of accuracies
 * (instruction alone, with k = 0..4 good demos, with wrong demos).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"

#include "backend.h"
#include "dataset.h"
#include "hash.h"
#include "job.h"
#include "jobrun.h"
#include "jsonc.h"
#include "metric.h"
#include "sim.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* An example job's world: the job, its task and its target backend. */
struct world {
	struct job	*job;
	struct task	*task;
	struct backend	*b;
};

static void
world_open(struct world *w, const char *name)
{
	char	*path, *cause = NULL;

	path = xasprintf("%s/examples/%s/job.json", TEST_SRCDIR, name);
	w->job = job_load(path, NULL, &cause);
	ck_assert_msg(w->job != NULL, "%s: %s", path, cause);
	free(path);
	w->task = &w->job->task;
	w->b = w->task->roles[ROLE_TARGET];
	ck_assert_ptr_nonnull(w->b);
	jobrun_observe(w->job);
}

static void
world_close(struct world *w)
{
	job_free(w->job);
}

/* Sends req to the world's target; returns the reply. */
static char *
send_req(struct world *w, struct model_req *req)
{
	struct model_resp	 resp;
	char			*cause = NULL, *out;

	ck_assert_msg(w->b->ops->call(w->b, req, &resp, &cause) == 0,
	    "call: %s", cause);
	ck_assert_ptr_nonnull(resp.text);
	out = resp.text;
	resp.text = NULL;
	model_resp_release(&resp);
	return out;
}

/* The reply to example i under prompt, built as a job builds it. */
static char *
ask_plain(struct world *w, const char *prompt, size_t i, double temp,
    unsigned sample)
{
	struct model_req	 req;
	char			*out;

	task_build_request(w->task, prompt, i, &req);
	req.temperature = temp;
	req.sample = sample;
	out = send_req(w, &req);
	model_req_release(&req);
	return out;
}

/* The reply to a repair turn on example i: request, reply, complaint. */
static char *
ask_repair(struct world *w, const char *prompt, size_t i)
{
	struct model_req	 req;
	char			*out;

	task_build_request(w->task, prompt, i, &req);
	model_req_add(&req, MSG_ASSISTANT, "I cannot tell.");
	model_req_add(&req, MSG_USER, "Your reply has no answer that can "
	    "be read.  Reply with the answer alone.");
	out = send_req(w, &req);
	model_req_release(&req);
	return out;
}

/*
 * A hash of the replies of the example jobs' worlds to requests without
 * demos: each seed prompt on every example at temperature 0, a few
 * samples at 0.8, and repair turns.
 */
static uint64_t
plain_hash(void)
{
	static const char *const names[] = { "sentiment", "arith", "rewrite" };
	struct world	 w;
	uint64_t	 h = 0;
	size_t		 t, s, i;
	char		*r;

	for (t = 0; t < nitems(names); t++) {
		world_open(&w, names[t]);
		for (s = 0; s < w.job->nseeds; s++) {
			for (i = 0; i < w.task->dataset->n; i++) {
				r = ask_plain(&w, w.job->seeds[s], i, 0, 0);
				h = hash64_str(r, h);
				free(r);
			}
			for (i = 0; i < 10; i++) {
				r = ask_plain(&w, w.job->seeds[s], i, 0.8,
				    (unsigned)(i % 3 + 1));
				h = hash64_str(r, h);
				free(r);
				r = ask_repair(&w, w.job->seeds[s], i);
				h = hash64_str(r, h);
				free(r);
			}
		}
		world_close(&w);
	}
	return h;
}

/* What the worlds answered before demos were simulated. */
#define PLAIN_HASH	0x435c25ee17358440ULL

START_TEST(test_plain_unchanged)
{
	uint64_t	h = plain_hash();

	if (getenv("SIMDEMOS_PRINT") != NULL)
		printf("plain hash 0x%016llxULL\n", (unsigned long long)h);
	ck_assert_msg(h == PLAIN_HASH, "requests without demos are answered "
	    "differently: 0x%016llx", (unsigned long long)h);
}
END_TEST

static Suite *
sim_demos_suite(void)
{
	Suite	*s = suite_create("sim_demos");
	TCase	*tc;

	tc = tcase_create("plain");
	tcase_add_test(tc, test_plain_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sim_demos_suite)
