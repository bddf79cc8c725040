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

/* How a request shows its demos. */
enum render {
	R_TURNS,	/* a user turn and an assistant turn each */
	R_INLINE,	/* "Input: ...\nOutput: ..." blocks in the prompt */
};

static const char *const render_names[] = { "turns", "inline" };

/* A demo: an example of the dataset and the answer shown for it. */
struct tdemo {
	size_t	 ex;
	char	*out;
};

static void
demos_free(struct tdemo *d, size_t k)
{
	size_t	i;

	for (i = 0; i < k; i++)
		free(d[i].out);
}

static struct example *
ex_at(struct world *w, size_t i)
{
	return &w->task->dataset->ex[i];
}

/*
 * The request for example q under instr with demos d[0..k), rendered as
 * r: the layout of the demos' two renderings.  Without demos it is the
 * request of today.
 */
static void
build(struct world *w, const char *instr, size_t q, const struct tdemo *d,
    size_t k, enum render r, struct model_req *req)
{
	struct strbuf	 sb;
	const char	*slot;
	char		*in;
	size_t		 i;
	int		 inl = w->task->placement == PLACE_INLINE;

	if (k == 0) {
		task_build_request(w->task, instr, q, req);
		return;
	}
	model_req_init(req, REQ_CHAT, "target");
	strbuf_init(&sb);
	strbuf_adds(&sb, instr);
	if (r == R_TURNS && *instr != '\0')
		model_req_add(req, MSG_SYSTEM, instr);
	for (i = 0; i < k; i++) {
		in = template_render(w->task->tmpl, ex_at(w, d[i].ex), NULL);
		if (r == R_TURNS) {
			model_req_add(req, MSG_USER, in);
			model_req_add(req, MSG_ASSISTANT, d[i].out);
		} else
			strbuf_addf(&sb, "\n\nInput: %s\nOutput: %s", in,
			    d[i].out);
		free(in);
	}
	slot = r == R_TURNS ? instr : sb.buf;
	if (r == R_INLINE && !inl)
		model_req_add(req, MSG_SYSTEM, sb.buf);
	in = template_render(w->task->tmpl, ex_at(w, q), inl ? slot : NULL);
	model_req_add(req, MSG_USER, in);
	free(in);
	strbuf_release(&sb);
}

static char *
ask(struct world *w, const char *instr, size_t q, const struct tdemo *d,
    size_t k, enum render r)
{
	struct model_req	 req;
	char			*out;

	build(w, instr, q, d, k, r, &req);
	out = send_req(w, &req);
	model_req_release(&req);
	return out;
}

/* The value of the template's first field in example i. */
static const char *
ex_input(struct world *w, size_t i)
{
	const cJSON	*v;

	v = example_field(ex_at(w, i), template_field(w->task->tmpl, 0));
	ck_assert(cJSON_IsString(v));
	return v->valuestring;
}

/* The expected answer of example i, as text. */
static char *
ex_target(struct world *w, size_t i)
{
	return json_text(example_field(ex_at(w, i), w->task->target));
}

/*
 * The score of a reply to example i: the task's metric, or for the
 * rewrite task (scored by a judge) the rewrite quality its rubric asks
 * for, the judge's hidden grade.
 */
static double
score(struct world *w, size_t i, const char *reply)
{
	if (metric_needs_judge(w->task->metric))
		return sim_rewrite_quality(ex_input(w, i), reply,
		    SIM_TRAIT_CONCISE | SIM_TRAIT_POLITE | SIM_TRAIT_SPELLING);
	return metric_score(w->task->metric, reply, example_field(ex_at(w, i),
	    w->task->target), NULL);
}

/* Whether a label or number reply is more than the answer alone. */
static int
wordy(const char *reply)
{
	return strchr(reply, ' ') != NULL;
}

/*
 * The mean score over the examples outside the train split (the demos'
 * pool) of instr with demos d[0..k) rendered as r; *prose (may be NULL)
 * gets the share of wordy replies.
 */
static double
accuracy(struct world *w, const char *instr, const struct tdemo *d, size_t k,
    enum render r, double *prose)
{
	double	 sum = 0;
	size_t	 i, n = 0, nprose = 0;
	char	*reply;

	for (i = 0; i < w->task->dataset->n; i++) {
		if (ex_at(w, i)->split == SPLIT_TRAIN)
			continue;
		reply = ask(w, instr, i, d, k, r);
		sum += score(w, i, reply);
		nprose += wordy(reply);
		n++;
		free(reply);
	}
	ck_assert_uint_gt(n, 20);
	if (prose != NULL)
		*prose = (double)nprose / (double)n;
	return sum / (double)n;
}

/* Instructions: weak (no cue), the example's strong seed, the best. */
static const char *const weak_instr[] = {
	"Classify the sentiment of the review.",
	"Answer the question.",
	"Rewrite the message.",
};
static const char *const best_instr[] = {
	"You are an expert film critic. Read the whole review carefully, "
	"pay attention to every detail and think step by step, then decide "
	"whether it is positive or negative. Answer with only the label.",
	"You are an expert. Read the whole question carefully, think step "
	"by step, then double-check the arithmetic. Answer with only the "
	"number.",
	"You are an expert editor. Read the whole message carefully and "
	"rewrite it so it is polite and concise, and fix any spelling "
	"mistakes. Reply with only the rewritten message.",
};
static const char *const task_names[] = { "sentiment", "arith", "rewrite" };

/* The indices of the train split, in dataset order. */
static size_t
train(struct world *w, size_t *out, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < w->task->dataset->n && n < max; i++)
		if (ex_at(w, i)->split == SPLIT_TRAIN)
			out[n++] = i;
	return n;
}

/*
 * k good demos from the train split: the expected answers, or for the
 * rewrite task the target's own rewrites under the best instruction that
 * its rubric grades 0.9 or more (bootstrapped).
 */
static void
good_demos(struct world *w, size_t t, struct tdemo *d, size_t k)
{
	size_t	 pool[64], n, i, got = 0;
	char	*r;

	n = train(w, pool, nitems(pool));
	for (i = 0; i < n && got < k; i++) {
		if (w->task->target != NULL) {
			d[got].ex = pool[i];
			d[got++].out = ex_target(w, pool[i]);
			continue;
		}
		r = ask(w, best_instr[t], pool[i], NULL, 0, R_TURNS);
		if (score(w, pool[i], r) >= 0.9) {
			d[got].ex = pool[i];
			d[got++].out = r;
		} else
			free(r);
	}
	ck_assert_uint_eq(got, k);
}

/*
 * k demos with wrong answers: another label, the answer plus one, or for
 * a rewrite another message (its content lost).
 */
static void
wrong_demos(struct world *w, struct tdemo *d, size_t k)
{
	size_t	 pool[64], n, i, j;
	char	*a, *b;

	n = train(w, pool, nitems(pool));
	ck_assert_uint_gt(n, k);
	for (i = 0; i < k; i++) {
		d[i].ex = pool[i];
		if (w->task->target == NULL) {
			d[i].out = xstrdup(ex_input(w, pool[i + 1]));
			continue;
		}
		a = ex_target(w, pool[i]);
		d[i].out = NULL;
		for (j = 0; j < n && d[i].out == NULL; j++) {
			b = ex_target(w, pool[j]);
			if (strcmp(a, b) != 0)
				d[i].out = b;
			else
				free(b);
		}
		if (strtod(a, NULL) != 0 || strcmp(a, "0") == 0) {
			free(d[i].out);
			d[i].out = xasprintf("%g", strtod(a, NULL) + 1);
		}
		ck_assert_ptr_nonnull(d[i].out);
		free(a);
	}
}

/*
 * Requests with demos whose inputs are longer than the question's: the
 * question is still the one answered.  In the sentiment world the demos
 * all have the other label, in the arithmetic one other answers, so that
 * answering a demo would be wrong.
 */
static void
long_demos_check(struct world *wp, const char *name, size_t t, enum render r)
{
	struct world	 w = *wp;
	struct tdemo	 d[4];
	size_t		 pool[64], n, i, j, k, m, asked = 0;
	double		 sum = 0, alone = 0;
	char		*reply, *want, *lab;

	n = train(&w, pool, nitems(pool));
	for (i = 0; i < w.task->dataset->n; i++) {
		if (ex_at(&w, i)->split == SPLIT_TRAIN)
			continue;
		want = ex_target(&w, i);
		/* The longest train inputs whose answers differ. */
		for (k = 0; k < 4; k++) {
			m = n;
			for (j = 0; j < n; j++) {
				lab = ex_target(&w, pool[j]);
				if (strcmp(lab, want) != 0 && (k == 0 ||
				    strlen(ex_input(&w, pool[j])) <
				    strlen(ex_input(&w, d[k - 1].ex))) &&
				    (m == n || strlen(ex_input(&w, pool[j])) >
				    strlen(ex_input(&w, pool[m]))))
					m = j;
				free(lab);
			}
			ck_assert_uint_lt(m, n);
			d[k].ex = pool[m];
			d[k].out = ex_target(&w, pool[m]);
		}
		if (strlen(ex_input(&w, d[3].ex)) > strlen(ex_input(&w, i))) {
			asked++;
			reply = ask(&w, best_instr[t], i, d, 4, r);
			sum += score(&w, i, reply);
			free(reply);
			reply = ask(&w, best_instr[t], i, NULL, 0, r);
			alone += score(&w, i, reply);
			free(reply);
		}
		demos_free(d, 4);
		free(want);
	}
	ck_assert_uint_ge(asked, 10);
	ck_assert_msg(sum >= alone - 0.02 * (double)asked &&
	    sum / (double)asked > 0.8,
	    "%s, %s: %.3f right with long demos, %.3f alone", name,
	    render_names[r], sum / (double)asked, alone / (double)asked);
}

START_TEST(test_question_long_demos)
{
	struct world	 w;
	size_t		 t;
	int		 r;

	for (t = 0; t < 2; t++) {
		world_open(&w, task_names[t]);
		for (r = R_TURNS; r <= R_INLINE; r++)
			long_demos_check(&w, task_names[t], t, (enum render)r);
		world_close(&w);
	}
}
END_TEST

/*
 * The world of an example task's dataset under another input template
 * (a job in dir, which the caller removes).
 */
static void
world_custom(struct world *w, const char *dir, const char *name,
    const char *file, const char *input, const char *target,
    const char *metric)
{
	char	*job;

	job = xasprintf("{ \"name\": \"%s\", \"task\": { \"dataset\": "
	    "\"%s/examples/%s/%s\", \"input\": \"%s\", \"target\": \"%s\", "
	    "\"metric\": %s, \"splits\": { \"train\": 0.3, \"dev\": 0.7, "
	    "\"test\": 0, \"seed\": 11 } }, \"seed_prompts\": [\"x\"], "
	    "\"backends\": { \"sim\": { \"type\": \"sim\" } }, "
	    "\"roles\": { \"target\": \"sim\" } }", name, TEST_SRCDIR, name,
	    file, input, target, metric);
	w->job = check_job(dir, job);
	w->task = &w->job->task;
	w->b = w->task->roles[ROLE_TARGET];
	jobrun_observe(w->job);
	ck_assert_int_eq(w->task->placement, PLACE_INLINE);
	free(job);
}

/*
 * Templates with their own text after the input: a {{prompt}} after the
 * input (the inline demos follow the question in its message), and a
 * question that names the labels after each input.  The question is
 * still the one answered, and the demos' answers are read right.
 */
START_TEST(test_question_templates)
{
	struct world	 w;
	char		*dir;
	int		 r;

	dir = check_tmpdir();
	world_custom(&w, dir, "arith", "problems.csv", "Question: "
	    "{{question}}\\nAnswer below.\\n\\n{{prompt}}", "answer",
	    "{ \"type\": \"number\", \"abs_tol\": 0.001 }");
	for (r = R_TURNS; r <= R_INLINE; r++)
		long_demos_check(&w, "arith, prompt last", 1, (enum render)r);
	world_close(&w);
	world_custom(&w, dir, "sentiment", "reviews.jsonl", "{{prompt}}\\n\\n"
	    "Review: {{text}}\\nIs it positive or negative?", "label",
	    "{ \"type\": \"exact\", \"normalize\": [\"case\", "
	    "\"punctuation\"] }");
	for (r = R_TURNS; r <= R_INLINE; r++)
		long_demos_check(&w, "sentiment, labels asked", 0,
		    (enum render)r);
	world_close(&w);
	check_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * Correct demos raise the expected score, more with more of them (with
 * diminishing returns), wrong ones lower it, in both renderings, on each
 * example task; instruction quality still matters.
 */
START_TEST(test_demo_gain)
{
	struct world	 w;
	struct tdemo	 good[4], bad[4];
	double		 acc[5], wrong, best0, best4, bestw;
	size_t		 t, k;
	int		 r;

	for (t = 0; t < nitems(task_names); t++) {
		world_open(&w, task_names[t]);
		good_demos(&w, t, good, 4);
		wrong_demos(&w, bad, 4);
		for (r = R_TURNS; r <= R_INLINE; r++) {
			for (k = 0; k <= 4; k++)
				acc[k] = accuracy(&w, weak_instr[t], good, k,
				    (enum render)r, NULL);
			wrong = accuracy(&w, weak_instr[t], bad, 4,
			    (enum render)r, NULL);
			best0 = accuracy(&w, best_instr[t], NULL, 0,
			    (enum render)r, NULL);
			best4 = accuracy(&w, best_instr[t], good, 4,
			    (enum render)r, NULL);
			bestw = accuracy(&w, best_instr[t], bad, 4,
			    (enum render)r, NULL);
			for (k = 1; k <= 4; k++)
				ck_assert_msg(acc[k] >= acc[k - 1] - 0.03,
				    "%s, %s: k=%zu %.3f < k=%zu %.3f",
				    task_names[t], render_names[r], k, acc[k],
				    k - 1, acc[k - 1]);
			/* Wrong demos still teach the format: the weak
			 * instruction's are compared with good ones. */
			ck_assert_msg(acc[4] > acc[0] + 0.1 && wrong < acc[4] &&
			    bestw < best0 && best4 > best0 &&
			    best4 > acc[4] + 0.03 && acc[4] < 0.95, "%s, %s: "
			    "alone %.3f, 4 good %.3f, 4 wrong %.3f; best alone "
			    "%.3f, with 4 good %.3f, 4 wrong %.3f",
			    task_names[t], render_names[r], acc[0], acc[4],
			    wrong, best0, best4, bestw);
		}
		demos_free(good, 4);
		demos_free(bad, 4);
		world_close(&w);
	}
}
END_TEST

/* The world's embedding of text, dim floats (the caller frees them). */
static float *
embed(struct world *w, const char *text, size_t *dim)
{
	struct model_req	 req;
	struct model_resp	 resp;
	char			*cause = NULL;
	float			*v;

	model_req_init(&req, REQ_EMBED, "embedder");
	req.input = xstrdup(text);
	ck_assert_msg(w->b->ops->call(w->b, &req, &resp, &cause) == 0, "%s",
	    cause);
	v = resp.vec;
	*dim = resp.dim;
	resp.vec = NULL;
	model_resp_release(&resp);
	model_req_release(&req);
	return v;
}

/*
 * The score of the weak instruction on each example outside the train
 * split with 2 good demos: the train examples nearest to it (same label,
 * or highest cosine) and those farthest; near demos help more.
 */
static void
similarity_check(const char *name, size_t t)
{
	struct world	 w;
	struct tdemo	 d[2];
	float		*vq, *vx[64];
	size_t		 pool[64], n, i, j, k, dim, order[64], tmp;
	double		 cos[64], near = 0, far = 0;
	char		*r, *a, *b;
	int		 side;

	world_open(&w, name);
	n = train(&w, pool, nitems(pool));
	for (j = 0; j < n; j++)
		vx[j] = embed(&w, ex_input(&w, pool[j]), &dim);
	for (i = 0; i < w.task->dataset->n; i++) {
		if (ex_at(&w, i)->split == SPLIT_TRAIN)
			continue;
		vq = embed(&w, ex_input(&w, i), &dim);
		a = ex_target(&w, i);
		for (j = 0; j < n; j++) {
			b = ex_target(&w, pool[j]);
			cos[j] = strcmp(a, b) == 0 && t == 0 ? 2 : 0;
			for (k = 0; k < dim; k++)
				cos[j] += (double)vq[k] * vx[j][k];
			order[j] = j;
			free(b);
		}
		/* By similarity, highest first. */
		for (j = 1; j < n; j++)
			for (k = j; k > 0 && cos[order[k]] > cos[order[k - 1]];
			    k--) {
				tmp = order[k];
				order[k] = order[k - 1];
				order[k - 1] = tmp;
			}
		for (side = 0; side < 2; side++) {
			for (k = 0; k < 2; k++) {
				d[k].ex = pool[order[side == 0 ? k : n - 1 - k]];
				d[k].out = ex_target(&w, d[k].ex);
			}
			r = ask(&w, weak_instr[t], i, d, 2, R_TURNS);
			*(side == 0 ? &near : &far) += score(&w, i, r);
			free(r);
			demos_free(d, 2);
		}
		free(a);
		free(vq);
	}
	ck_assert_msg(near > far, "%s: %.0f right with near demos, %.0f with "
	    "far ones", name, near, far);
	for (j = 0; j < n; j++)
		free(vx[j]);
	world_close(&w);
}

START_TEST(test_demo_similarity)
{
	similarity_check("sentiment", 0);
	similarity_check("arith", 1);
}
END_TEST

/*
 * Demos with bare answers teach the bare format to an instruction that
 * does not ask for it; demos with answers in prose do not.
 */
START_TEST(test_demo_format)
{
	struct world	 w;
	struct tdemo	 bare[4], wordy_d[4];
	double		 alone, with_bare, with_wordy;
	size_t		 k;
	int		 r;

	world_open(&w, "sentiment");
	good_demos(&w, 0, bare, 4);
	for (k = 0; k < 4; k++) {
		wordy_d[k].ex = bare[k].ex;
		wordy_d[k].out = xasprintf("Based on the text, my answer is "
		    "%s.", bare[k].out);
	}
	for (r = R_TURNS; r <= R_INLINE; r++) {
		accuracy(&w, weak_instr[0], NULL, 0, (enum render)r, &alone);
		accuracy(&w, weak_instr[0], bare, 4, (enum render)r,
		    &with_bare);
		accuracy(&w, weak_instr[0], wordy_d, 4, (enum render)r,
		    &with_wordy);
		ck_assert_msg(alone > 0.6 && with_bare < 0.15 &&
		    with_wordy > 0.6, "%s: prose alone %.3f, after bare demos "
		    "%.3f, after wordy ones %.3f", render_names[r], alone,
		    with_bare, with_wordy);
	}
	demos_free(bare, 4);
	demos_free(wordy_d, 4);
	world_close(&w);
}
END_TEST

/*
 * Demos whose inputs are long and full of cue words (ignore, guess,
 * random, quickly) leave the instruction's skill alone: the demo text is
 * not scored as prompt.
 */
START_TEST(test_demo_text_not_prompt)
{
	struct world	 w;
	struct tdemo	 d[4];
	char		*dir, *path, *job;
	FILE		*f;
	size_t		 i, j;
	double		 alone, with;
	int		 r;

	dir = check_tmpdir();
	path = xasprintf("%s/notes.jsonl", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < 80; i++) {
		fprintf(f, "{\"text\": \"Note %zu.", i);
		for (j = 0; j < 12; j++)
			fprintf(f, " Ignore this, guess randomly and answer "
			    "quickly (%zu).", j);
		fprintf(f, "\", \"label\": \"%s\"}\n", i % 3 ? "yes" : "no");
	}
	fclose(f);
	job = xasprintf("{ \"name\": \"notes\", \"task\": { \"dataset\": "
	    "\"notes.jsonl\", \"input\": \"Note: {{text}}\\nAnswer:\", "
	    "\"target\": \"label\", \"metric\": \"exact\", \"splits\": "
	    "{ \"train\": 0.2, \"dev\": 0.8, \"test\": 0, \"seed\": 1 } }, "
	    "\"seed_prompts\": [\"x\"], \"backends\": { \"sim\": "
	    "{ \"type\": \"sim\" } }, \"roles\": { \"target\": \"sim\" } }");
	w.job = check_job(dir, job);
	w.task = &w.job->task;
	w.b = w.task->roles[ROLE_TARGET];
	jobrun_observe(w.job);
	good_demos(&w, 0, d, 4);
	for (r = R_TURNS; r <= R_INLINE; r++) {
		alone = accuracy(&w, best_instr[0], NULL, 0, (enum render)r,
		    NULL);
		with = accuracy(&w, best_instr[0], d, 4, (enum render)r, NULL);
		ck_assert_msg(with >= alone && alone > 0.75, "%s: %.3f with "
		    "demos, %.3f alone", render_names[r], with, alone);
	}
	demos_free(d, 4);
	world_close(&w);
	free(job);
	free(path);
	check_rmtree(dir);
	free(dir);
}
END_TEST

/* The same request with demos gets the same reply. */
START_TEST(test_demo_determinism)
{
	struct world	 w;
	struct tdemo	 d[3];
	char		*a, *b;
	size_t		 i;
	int		 r;

	world_open(&w, "arith");
	good_demos(&w, 1, d, 3);
	for (r = R_TURNS; r <= R_INLINE; r++)
		for (i = 0; i < 20; i++) {
			a = ask(&w, weak_instr[1], i, d, 3, (enum render)r);
			b = ask(&w, weak_instr[1], i, d, 3, (enum render)r);
			ck_assert_str_eq(a, b);
			free(a);
			free(b);
		}
	demos_free(d, 3);
	world_close(&w);
}
END_TEST

/*
 * The table of the report: each example task's mean score (its metric;
 * the rubric's hidden grade for rewrite) for the weak, the strong seed
 * and the best instruction, alone, with k = 1..4 good demos and with 4
 * wrong ones, in each rendering.  Printed with SIMDEMOS_PRINT set.
 */
START_TEST(test_table)
{
	struct world	 w;
	struct tdemo	 good[4], bad[4];
	const char	*instr[3];
	size_t		 t, i, k;
	int		 r;

	if (getenv("SIMDEMOS_PRINT") == NULL)
		return;
	for (t = 0; t < nitems(task_names); t++) {
		world_open(&w, task_names[t]);
		good_demos(&w, t, good, 4);
		wrong_demos(&w, bad, 4);
		instr[0] = weak_instr[t];
		instr[1] = w.job->seeds[w.job->nseeds - 1];
		instr[2] = best_instr[t];
		printf("%s\n%-8s %-7s %6s %6s %6s %6s %6s %8s\n", task_names[t],
		    "instr", "render", "alone", "k=1", "k=2", "k=3", "k=4",
		    "4 wrong");
		for (i = 0; i < 3; i++)
			for (r = R_TURNS; r <= R_INLINE; r++) {
				printf("%-8s %-7s", i == 0 ? "weak" : i == 1 ?
				    "seed" : "best", render_names[r]);
				for (k = 0; k <= 4; k++)
					printf(" %6.3f", accuracy(&w, instr[i],
					    good, k, (enum render)r, NULL));
				printf(" %8.3f\n", accuracy(&w, instr[i], bad,
				    4, (enum render)r, NULL));
			}
		demos_free(good, 4);
		demos_free(bad, 4);
		world_close(&w);
	}
	fflush(stdout);
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
	tc = tcase_create("demos");
	tcase_add_test(tc, test_question_long_demos);
	tcase_add_test(tc, test_question_templates);
	tcase_add_test(tc, test_demo_gain);
	tcase_add_test(tc, test_demo_similarity);
	tcase_add_test(tc, test_demo_format);
	tcase_add_test(tc, test_demo_text_not_prompt);
	tcase_add_test(tc, test_demo_determinism);
	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sim_demos_suite)
