/*
 * The simulated model: determinism, embeddings, the target's response to
 * prompts, the judge, the optimizer, token usage and configuration.
 * These tests assert behaviour (rates and margins), not exact strings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_common.h"

#include "backend.h"
#include "dataset.h"
#include "jsonc.h"
#include "sim.h"
#include "util.h"
#include "xmalloc.h"

static const char *const labels[] = { "positive", "negative", "neutral" };

static const char *const review_bits[] = {
	"the food arrived late but tasted fine",
	"our waiter remembered every detail of the order",
	"the room was cold and the bed creaked all night",
	"parking was easy and the staff were around",
	"the soup needed salt and the bread was stale",
	"a lovely view over the harbour at sunset",
	"prices went up again since last spring",
	"the music was loud enough to drown out talk",
};

static const char *const text_inputs[] = { "text" };
static const char *const question_inputs[] = { "question" };

/* A dataset built by hand (dataset_load is not ours to call). */
static struct dataset *
ds_new(size_t n)
{
	struct dataset	*ds;

	ds = xcalloc(1, sizeof *ds);
	ds->path = xstrdup("test.jsonl");
	ds->ex = xcalloc(n, sizeof *ds->ex);
	ds->n = n;
	return ds;
}

static void
ds_free(struct dataset *ds)
{
	size_t	i;

	for (i = 0; i < ds->n; i++)
		cJSON_Delete(ds->ex[i].fields);
	free(ds->ex);
	free(ds->path);
	free(ds);
}

static char *
review_text(size_t i)
{
	return xasprintf("Review %zu: %s, and %s.", i,
	    review_bits[i % nitems(review_bits)],
	    review_bits[(i * 7 + 3) % nitems(review_bits)]);
}

/* 200 reviews labelled positive, negative or neutral. */
static struct dataset *
label_dataset(void)
{
	struct dataset	*ds = ds_new(200);
	size_t		 i;
	char		*t;

	for (i = 0; i < ds->n; i++) {
		ds->ex[i].idx = i;
		ds->ex[i].line = i + 1;
		ds->ex[i].fields = cJSON_CreateObject();
		t = review_text(i);
		cJSON_AddStringToObject(ds->ex[i].fields, "text", t);
		free(t);
		cJSON_AddStringToObject(ds->ex[i].fields, "label",
		    labels[(i * 5 + i / 7) % 3]);
	}
	return ds;
}

static const char *
review_label(size_t i)
{
	return labels[(i * 5 + i / 7) % 3];
}

/* 150 sums with numeric targets. */
static struct dataset *
number_dataset(void)
{
	struct dataset	*ds = ds_new(150);
	size_t		 i;
	char		*q;

	for (i = 0; i < ds->n; i++) {
		ds->ex[i].fields = cJSON_CreateObject();
		q = xasprintf("What is %zu plus %zu?", 100 + i * 13, 7 + i);
		cJSON_AddStringToObject(ds->ex[i].fields, "question", q);
		free(q);
		cJSON_AddNumberToObject(ds->ex[i].fields, "answer",
		    (double)(100 + i * 13 + 7 + i));
	}
	return ds;
}

static const char *const rewrite_bits[] = {
	"I basically need the report by Friday, honestly it is really urgent.",
	"We actually just want to know if the meeting is very late.",
	"Send me the totally final numbers, they are kind of important.",
	"The client literally called three times and sort of complained.",
	"Honestly the new layout is really confusing for everyone.",
};

/* 60 messages to rewrite (no target field). */
static struct dataset *
rewrite_dataset(void)
{
	struct dataset	*ds = ds_new(60);
	size_t		 i;
	char		*t;

	for (i = 0; i < ds->n; i++) {
		ds->ex[i].fields = cJSON_CreateObject();
		t = xasprintf("Note %zu. %s", i,
		    rewrite_bits[i % nitems(rewrite_bits)]);
		cJSON_AddStringToObject(ds->ex[i].fields, "text", t);
		free(t);
	}
	return ds;
}

/* A sim backend configured by conf, as if in the file named file. */
static struct backend *
sim_backend_in(const char *file, const char *conf)
{
	struct jdoc	*doc;
	struct backend	*b;
	char		*cause = NULL, *errs;

	doc = jsonc_parse(file, conf, strlen(conf), &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	b = backend_new(doc, "sim", doc->root, "backends.sim");
	errs = jv_errors(doc);
	ck_assert_msg(b != NULL, "backend_new: %s", errs);
	free(errs);
	jsonc_free(doc);
	return b;
}

static struct backend *
sim_backend(const char *conf)
{
	return sim_backend_in("test.json", conf);
}

/* The configuration errors of conf, joined (NULL when it is valid). */
static char *
sim_conf_errors(const char *conf)
{
	struct jdoc	*doc;
	struct backend	*b;
	char		*cause = NULL, *errs;

	doc = jsonc_parse("test.json", conf, strlen(conf), &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	b = backend_new(doc, "sim", doc->root, "backends.sim");
	errs = jv_errors(doc);
	ck_assert((b == NULL) == (errs != NULL));
	backend_free(b);
	jsonc_free(doc);
	return errs;
}

/* Sends a chat request; returns the reply (the caller's to free). */
static char *
ask(struct backend *b, const char *system, const char *user, double temp,
    unsigned sample)
{
	struct model_req	req;
	struct model_resp	resp;
	char			*cause = NULL, *out;

	model_req_init(&req, REQ_CHAT, "target");
	if (system != NULL)
		model_req_add(&req, MSG_SYSTEM, system);
	model_req_add(&req, MSG_USER, user);
	req.temperature = temp;
	req.sample = sample;
	ck_assert_msg(b->ops->call(b, &req, &resp, &cause) == 0, "call: %s",
	    cause);
	ck_assert_ptr_nonnull(resp.text);
	ck_assert_str_eq(resp.finish, "stop");
	out = resp.text;
	resp.text = NULL;
	model_resp_release(&resp);
	model_req_release(&req);
	return out;
}

static int
contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* Whether reply names the expected label and no other. */
static int
label_right(const char *reply, const char *want)
{
	size_t	i;

	for (i = 0; i < nitems(labels); i++)
		if (contains_ci(reply, labels[i]) !=
		    (strcmp(labels[i], want) == 0))
			return 0;
	return 1;
}

/* Accuracy of a system prompt over the label dataset. */
static double
label_accuracy(struct backend *b, const char *prompt, double *bare)
{
	size_t	 i, right = 0, nbare = 0;
	char	*t, *u, *r;

	for (i = 0; i < 200; i++) {
		t = review_text(i);
		u = xasprintf("Review: %s\nSentiment:", t);
		r = ask(b, prompt, u, 0, 0);
		right += label_right(r, review_label(i));
		nbare += strcmp(r, review_label(i)) == 0 ||
		    (strchr(r, ' ') == NULL && strchr(r, '.') == NULL);
		free(r);
		free(u);
		free(t);
	}
	if (bare != NULL)
		*bare = (double)nbare / 200;
	return (double)right / 200;
}

static struct backend *
label_backend(const char *conf)
{
	struct backend	*b = sim_backend(conf);
	struct dataset	*ds = label_dataset();

	b->ops->observe(b, ds, text_inputs, 1, "label");
	ds_free(ds);
	return b;
}

START_TEST(test_determinism)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	char		*r1, *r2, *t, *u;
	size_t		 s, i, differ = 0;
	const char	*p = "Decide the sentiment of the review.";

	for (i = 0; i < 20; i++) {
		t = review_text(i);
		u = xasprintf("Review: %s", t);
		r1 = ask(b, p, u, 0, 0);
		r2 = ask(b, p, u, 0, 0);
		ck_assert_str_eq(r1, r2);
		free(r2);
		/* At temperature 0 the sample does not matter. */
		r2 = ask(b, p, u, 0, 7);
		ck_assert_str_eq(r1, r2);
		free(r2);
		/* Above it, samples can differ, and repeat exactly. */
		for (s = 1; s < 8; s++) {
			r2 = ask(b, p, u, 0.8, (unsigned)s);
			differ += strcmp(r1, r2) != 0;
			free(r2);
			r2 = ask(b, p, u, 0.8, (unsigned)s);
			free(r1);
			r1 = ask(b, p, u, 0.8, (unsigned)s);
			ck_assert_str_eq(r1, r2);
			free(r2);
		}
		free(r1);
		free(u);
		free(t);
	}
	ck_assert_uint_gt(differ, 20);
	backend_free(b);
}
END_TEST

static double
cosine(const float *a, const float *b, size_t n)
{
	double	d = 0, na = 0, nb = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		d += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	return d / sqrt(na * nb);
}

static void
embed(struct backend *b, const char *text, struct model_resp *resp)
{
	struct model_req	 req;
	char			*cause = NULL;

	model_req_init(&req, REQ_EMBED, "embedder");
	req.input = xstrdup(text);
	ck_assert_msg(b->ops->call(b, &req, resp, &cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(resp->vec);
	ck_assert_int_eq(resp->prompt_tokens, tokens_estimate(text));
	model_req_release(&req);
}

START_TEST(test_embed)
{
	struct backend		*b = sim_backend("{\"type\": \"sim\", "
	    "\"dim\": 128}");
	struct model_resp	 a, a2, s, u, e;
	double			 norm = 0;
	size_t			 i;

	embed(b, "Classify the sentiment of the review carefully.", &a);
	embed(b, "Classify the sentiment of the review carefully.", &a2);
	embed(b, "Classify the sentiment of this review, carefully.", &s);
	embed(b, "Compute the quarterly revenue growth in percent.", &u);
	embed(b, "", &e);
	ck_assert_uint_eq(a.dim, 128);
	for (i = 0; i < a.dim; i++)
		norm += (double)a.vec[i] * a.vec[i];
	ck_assert_double_eq_tol(norm, 1, 1e-5);
	ck_assert_mem_eq(a.vec, a2.vec, a.dim * sizeof *a.vec);
	ck_assert_double_gt(cosine(a.vec, s.vec, a.dim), 0.7);
	ck_assert_double_gt(cosine(a.vec, s.vec, a.dim),
	    cosine(a.vec, u.vec, a.dim) + 0.3);
	ck_assert_double_eq_tol(cosine(e.vec, e.vec, e.dim), 1, 1e-5);
	model_resp_release(&a);
	model_resp_release(&a2);
	model_resp_release(&s);
	model_resp_release(&u);
	model_resp_release(&e);
	backend_free(b);
}
END_TEST

START_TEST(test_label_accuracy)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	double		 plain, good, bad, bare_plain, bare_good;

	plain = label_accuracy(b, "Classify the sentiment of the review.",
	    &bare_plain);
	good = label_accuracy(b, "You are an expert. Read the whole review "
	    "carefully and think step by step. The labels are positive, "
	    "negative and neutral. Answer with only the label.", &bare_good);
	bad = label_accuracy(b, "Classify the sentiment of the review. "
	    "Guess quickly.", NULL);
	ck_assert_msg(plain > 0.4 && plain < 0.72, "plain %.2f", plain);
	ck_assert_msg(good > 0.85, "good %.2f", good);
	ck_assert_msg(good > plain + 0.2, "good %.2f plain %.2f", good, plain);
	ck_assert_msg(bad < plain - 0.15, "bad %.2f plain %.2f", bad, plain);
	/* The format instruction decides bare against prose. */
	ck_assert_msg(bare_good == 1, "bare %.2f", bare_good);
	ck_assert_msg(bare_plain < 0.35, "bare %.2f", bare_plain);
	backend_free(b);
}
END_TEST

START_TEST(test_label_skill)
{
	struct sim_params	 p;
	struct sim_world	*w;
	struct dataset		*ds = label_dataset();
	double			 base, named, longp;
	char			*many;
	size_t			 i;

	sim_params_default(&p);
	w = sim_world_new(&p);
	sim_world_observe(w, ds, text_inputs, 1, "label");
	ck_assert_uint_eq(sim_world_ntasks(w), 1);
	ck_assert_int_eq(sim_world_task_kind(w, 0), SIM_LABEL);
	base = sim_world_skill(w, 0, "Classify the review.");
	named = sim_world_skill(w, 0, "Classify the review as positive, "
	    "negative or neutral.");
	ck_assert_double_gt(named, base + 0.1);
	/* "don't think" is a harmful cue, not a helpful "think". */
	ck_assert_double_lt(sim_world_skill(w, 0, "Classify the review. "
	    "Don't think."), base - 0.1);
	ck_assert_double_lt(sim_world_skill(w, 0, ""), base);
	/* Length costs. */
	many = xstrdup("Classify the review.");
	for (i = 0; i < 150; i++) {
		char	*n = xasprintf("%s word%zu", many, i);

		free(many);
		many = n;
	}
	longp = sim_world_skill(w, 0, many);
	ck_assert_double_lt(longp, base - 0.1);
	free(many);
	ck_assert(sim_prompt_bare("Reply with the label only."));
	ck_assert(sim_prompt_bare("Give just the number, nothing else."));
	ck_assert(!sim_prompt_bare("Classify the review. Only the facts "
	    "matter here, so read them."));
	sim_world_free(w);
	ds_free(ds);
}
END_TEST

START_TEST(test_number_task)
{
	struct backend	*b = sim_backend("{\"type\": \"sim\", \"seed\": 7}");
	struct dataset	*ds = number_dataset();
	const char	*plain = "Solve the problem.";
	const char	*steps = "Solve the problem step by step.";
	size_t		 i, rp = 0, rs = 0, exact = 0;
	double		 want, got;
	char		*u, *r, *s, *end;

	b->ops->observe(b, ds, question_inputs, 1, "answer");
	for (i = 0; i < ds->n; i++) {
		want = cJSON_GetObjectItem(ds->ex[i].fields,
		    "answer")->valuedouble;
		u = xasprintf("Question: %s\nAnswer:", cJSON_GetObjectItem(
		    ds->ex[i].fields, "question")->valuestring);
		r = ask(b, plain, u, 0, 0);
		for (s = r, got = NAN; *s != '\0'; s++)
			if (s[0] >= '0' && s[0] <= '9' && (s == r ||
			    s[-1] < '0' || s[-1] > '9'))
				got = strtod(s, &end);
		rp += got == want;
		free(r);
		r = ask(b, steps, u, 0, 0);
		for (s = r, got = NAN; *s != '\0'; s++)
			if (s[0] >= '0' && s[0] <= '9' && (s == r ||
			    s[-1] < '0' || s[-1] > '9'))
				got = strtod(s, &end);
		rs += got == want;
		free(r);
		r = ask(b, "Solve the problem. Reply with only the number.", u,
		    0, 0);
		exact += strtod(r, &end) == want && *end == '\0';
		free(r);
		free(u);
	}
	ck_assert_msg(rs > rp + ds->n / 8, "steps %zu plain %zu", rs, rp);
	ck_assert_msg(exact > ds->n / 3, "exact %zu", exact);
	ds_free(ds);
	backend_free(b);
}
END_TEST

static size_t
fillers(const char *s)
{
	static const char *const f[] = { "basically", "actually", "really",
	    "very", "just", "kind of", "sort of", "totally", "literally",
	    "honestly" };
	size_t	i, n = 0;

	for (i = 0; i < nitems(f); i++)
		n += contains_ci(s, f[i]);
	return n;
}

START_TEST(test_rewrite_task)
{
	struct backend	*b = sim_backend("{\"type\": \"sim\"}");
	struct dataset	*ds = rewrite_dataset();
	const char	*in;
	size_t		 i, fewer = 0, plain_fewer = 0, polite = 0;
	char		*r, *u;
	double		 q_in = 0, q_out = 0;

	b->ops->observe(b, ds, text_inputs, 1, NULL);
	for (i = 0; i < ds->n; i++) {
		in = cJSON_GetObjectItem(ds->ex[i].fields, "text")->valuestring;
		u = xasprintf("Message: %s", in);
		r = ask(b, "You are an expert editor. Pay attention to the "
		    "tone. Rewrite the message carefully to be concise and "
		    "polite. Reply with only the rewritten text.", u, 0, 0);
		fewer += fillers(r) < fillers(in);
		polite += contains_ci(r, "please") && contains_ci(r, "thank");
		q_in += sim_rewrite_quality(in, in, SIM_TRAIT_CONCISE |
		    SIM_TRAIT_POLITE);
		q_out += sim_rewrite_quality(in, r, SIM_TRAIT_CONCISE |
		    SIM_TRAIT_POLITE);
		/* The words of the input stay. */
		ck_assert_msg(contains_ci(r, "Note"), "%s", r);
		free(r);
		r = ask(b, "Rewrite the message.", u, 0, 0);
		plain_fewer += fillers(r) < fillers(in);
		free(r);
		free(u);
	}
	ck_assert_msg(fewer > ds->n * 55 / 100, "fewer %zu", fewer);
	ck_assert_msg(polite > ds->n * 55 / 100, "polite %zu", polite);
	ck_assert_uint_eq(plain_fewer, 0);
	ck_assert_double_gt(q_out, q_in + 0.2 * (double)ds->n);
	r = ask(b, NULL, "Something the world never saw.", 0, 0);
	ck_assert_str_eq(r, "I'm not sure what you are asking.");
	free(r);
	ds_free(ds);
	backend_free(b);
}
END_TEST

static const char *
last_line(const char *s)
{
	const char	*nl = strrchr(s, '\n');

	return nl != NULL ? nl + 1 : s;
}

/*
 * A pairwise judgement: 'A', 'B' or 't'; before the question, what
 * people chose (judge.c's evidence), when people is not NULL.
 */
static char
judge_pair_people(struct backend *b, const char *people, const char *input,
    const char *ra, const char *rb, const char *extra)
{
	char	*u, *r;
	char	 v;

	u = xasprintf("%sCompare the two responses to the input.%s\n"
	    "<input>%s</input>\n<response_a>%s</response_a>\n"
	    "<response_b>%s</response_b>\nEnd with a line \"Winner: A\", "
	    "\"Winner: B\" or \"Winner: tie\".", people != NULL ? people :
	    "", extra != NULL ? extra : "", input, ra, rb);
	r = ask(b, "You are a fair judge.", u, 0, 0);
	ck_assert_msg(strcmp(last_line(r), "Winner: A") == 0 ||
	    strcmp(last_line(r), "Winner: B") == 0 ||
	    strcmp(last_line(r), "Winner: tie") == 0, "verdict: %s", r);
	ck_assert_msg(strchr(r, '\n') != NULL && r[0] != '\n', "%s", r);
	v = last_line(r)[8];
	free(r);
	free(u);
	return v;
}

static char
judge_pair(struct backend *b, const char *input, const char *ra,
    const char *rb, const char *extra)
{
	return judge_pair_people(b, NULL, input, ra, rb, extra);
}

static int
judge_score(struct backend *b, const char *input, const char *resp)
{
	char	*u, *r, *end;
	long	 n;

	u = xasprintf("Grade the response from 1 to 10.\n<input>%s</input>\n"
	    "<response>%s</response>\nEnd with \"Score: N\".", input, resp);
	r = ask(b, NULL, u, 0, 0);
	ck_assert_msg(strncmp(last_line(r), "Score: ", 7) == 0, "%s", r);
	n = strtol(last_line(r) + 7, &end, 10);
	ck_assert_msg(*end == '\0' && n >= 1 && n <= 10, "%s", r);
	free(r);
	free(u);
	return (int)n;
}

START_TEST(test_judge)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	size_t		 i, right = 0, n = 0;
	const char	*want, *wrong;
	char		*t, *ok, *bad;
	char		 v;
	long		 sgood = 0, sbad = 0;

	for (i = 0; i < 200; i++) {
		t = review_text(i);
		want = review_label(i);
		wrong = labels[(i + 1) % 3] == want ? labels[(i + 2) % 3] :
		    labels[(i + 1) % 3];
		ok = xasprintf("The answer is %s.", want);
		bad = xasprintf("The answer is %s.", wrong);
		if (i % 2 == 0)
			v = judge_pair(b, t, ok, bad, NULL), right += v == 'A';
		else
			v = judge_pair(b, t, bad, ok, NULL), right += v == 'B';
		n++;
		sgood += judge_score(b, t, ok);
		sbad += judge_score(b, t, bad);
		free(ok);
		free(bad);
		free(t);
	}
	ck_assert_msg(right > n * 8 / 10, "right %zu of %zu", right, n);
	ck_assert_msg(sgood > sbad + 4 * (long)n, "good %ld bad %ld", sgood,
	    sbad);
	backend_free(b);
}
END_TEST

START_TEST(test_judge_position_bias)
{
	struct backend	*b = label_backend("{\"type\": \"sim\", \"noise\": 1, "
	    "\"position_bias\": 0.25}");
	struct backend	*fair = label_backend("{\"type\": \"sim\", "
	    "\"noise\": 1, \"position_bias\": -0.25}");
	size_t		 i, a = 0, bb = 0, fa = 0;
	char		*t, *r1, *r2;
	char		 v;

	for (i = 0; i < 1000; i++) {
		t = review_text(i % 200);
		r1 = xasprintf("It is %s (%zu).", review_label(i % 200), i);
		r2 = xasprintf("My answer: %s.", review_label(i % 200));
		v = judge_pair(b, t, r1, r2, NULL);
		a += v == 'A';
		bb += v == 'B';
		fa += judge_pair(fair, t, r1, r2, NULL) == 'A';
		free(r1);
		free(r2);
		free(t);
	}
	ck_assert_msg(a > bb + 40, "A %zu B %zu", a, bb);
	ck_assert_msg(a > fa + 40, "A %zu reversed %zu", a, fa);
	backend_free(b);
	backend_free(fair);
}
END_TEST

START_TEST(test_judge_rewrite)
{
	struct backend	*b = sim_backend("{\"type\": \"sim\"}");
	struct dataset	*ds = rewrite_dataset();
	const char	*in;
	size_t		 i, right = 0;
	char		*good;

	b->ops->observe(b, ds, text_inputs, 1, NULL);
	for (i = 0; i < 40; i++) {
		in = cJSON_GetObjectItem(ds->ex[i].fields, "text")->valuestring;
		good = xasprintf("Please note: %s Thank you.", in);
		/* Rubric: politeness. */
		if (i % 2 == 0)
			right += judge_pair(b, in, good, in,
			    "\n<rubric>Which reply is more polite?</rubric>") ==
			    'A';
		else
			right += judge_pair(b, in, in, good,
			    "\n<rubric>Which reply is more courteous?</rubric>")
			    == 'B';
		free(good);
	}
	ck_assert_msg(right > 32, "right %zu", right);
	ds_free(ds);
	backend_free(b);
}
END_TEST

/*
 * People's choices before a comparison (as jobrun_judge_block() writes
 * them): when they preferred the bare answers, the judge leans to the
 * shorter of two right ones; when they preferred the fuller ones, to the
 * longer.  Their answers, with <input>-like tags of their own, are not
 * taken for the question.
 */
START_TEST(test_judge_people)
{
	static const char *const block[2] = {
	    "People who use this prompt compared answers.\n"
	    "<people_choices>\n"
	    "<choice>\n<choice_input>a</choice_input>\n"
	    "<answer_a>positive</answer_a>\n<answer_b>It is positive, as "
	    "the review says it loved the film.</answer_b>\n"
	    "<preferred>a</preferred>\n<why>too long</why>\n</choice>\n"
	    "<choice>\n<choice_input>b</choice_input>\n"
	    "<answer_a>The review is negative: it hated every minute."
	    "</answer_a>\n<answer_b>negative</answer_b>\n"
	    "<preferred>b</preferred>\n</choice>\n"
	    "<choice>\n<choice_input>c</choice_input>\n"
	    "<answer_a>neutral</answer_a>\n<answer_b>It reads neutral to "
	    "me overall.</answer_b>\n<preferred>a</preferred>\n</choice>\n"
	    "</people_choices>\n\n",
	    "<people_choices>\n"
	    "<choice><answer_a>yes</answer_a><answer_b>Yes, it is, for "
	    "three reasons.</answer_b><preferred>b</preferred></choice>\n"
	    "<choice><answer_a>It is not, as shown.</answer_a>"
	    "<answer_b>no</answer_b><preferred>a</preferred></choice>\n"
	    "</people_choices>\n\n"
	};
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	size_t		 i, shortw[3] = { 0, 0, 0 };
	const char	*want, *people[3] = { NULL, block[0], block[1] };
	char		*t, *bare, *full;
	int		 k, first;

	for (i = 0; i < 200; i++) {
		t = review_text(i);
		want = review_label(i);
		bare = xasprintf("%s", want);
		full = xasprintf("The answer is %s, as the review makes "
		    "plain from its first line to its last.", want);
		first = i % 2 == 0;
		for (k = 0; k < 3; k++)
			shortw[k] += judge_pair_people(b, people[k], t,
			    first ? bare : full, first ? full : bare, NULL) ==
			    (first ? 'A' : 'B');
		free(bare);
		free(full);
		free(t);
	}
	ck_assert_msg(shortw[1] > shortw[0] + 40 && shortw[1] > 160,
	    "bare answers won %zu alone, %zu with people's", shortw[0],
	    shortw[1]);
	ck_assert_msg(shortw[2] + 40 < shortw[0], "bare answers won %zu "
	    "alone, %zu when people liked full ones", shortw[0], shortw[2]);
	backend_free(b);
}
END_TEST

static size_t
count_tags(const char *s, const char *open)
{
	size_t	n = 0;

	while ((s = strstr(s, open)) != NULL) {
		n++;
		s++;
	}
	return n;
}

/* The bodies of <prompt> blocks in a reply. */
static size_t
prompts_of(const char *r, char **out, size_t max)
{
	const char	*p = r, *e;
	size_t		 n = 0;

	while (n < max && (p = strstr(p, "<prompt>")) != NULL) {
		p += 8;
		e = strstr(p, "</prompt>");
		ck_assert_ptr_nonnull(e);
		out[n++] = xstrndup(p, (size_t)(e - p));
		p = e;
	}
	return n;
}

START_TEST(test_optimizer_count)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	char		*r, *ps[40];
	size_t		 n, i, j;

	r = ask(b, "You improve prompts.", "Here is a prompt:\n"
	    "<prompt id=\"3\" score=\"0.6\">Classify the sentiment of the "
	    "review.</prompt>\n"
	    "Write 7 new prompts that might work better.", 0, 0);
	n = prompts_of(r, ps, 40);
	ck_assert_msg(n == 7, "%zu prompts in %s", n, r);
	for (i = 0; i < n; i++) {
		ck_assert_uint_gt(strlen(ps[i]), 5);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(ps[i], ps[j]);
	}
	for (i = 0; i < n; i++)
		free(ps[i]);
	free(r);
	/* The cap, and the default of one. */
	r = ask(b, NULL, "<prompt>Classify the review.</prompt>\nGive 100 "
	    "different variations.", 0, 0);
	ck_assert_uint_eq(count_tags(r, "<prompt>"), 32);
	free(r);
	r = ask(b, NULL, "<prompt>Classify the review.</prompt>\nImprove it.",
	    0, 0);
	ck_assert_uint_eq(count_tags(r, "<prompt>"), 1);
	free(r);
	/* Paraphrases keep the gist. */
	r = ask(b, NULL, "<prompt>Classify the given text. Choose the correct "
	    "label.</prompt>\nParaphrase it: write 4 paraphrases.", 0, 0);
	n = prompts_of(r, ps, 40);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		ck_assert_str_ne(ps[i], "Classify the given text. Choose the "
		    "correct label.");
		ck_assert_msg(contains_ci(ps[i], "label"), "%s", ps[i]);
		free(ps[i]);
	}
	free(r);
	/* Proposals from demos name the labels seen. */
	r = ask(b, NULL, "I gave a friend an instruction and some inputs.\n"
	    "<demo><input>great food</input><output>positive</output></demo>\n"
	    "<demo><input>cold soup</input><output>negative</output></demo>\n"
	    "Propose 3 instructions.", 0, 0);
	n = prompts_of(r, ps, 40);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_msg(contains_ci(ps[i], "positive") &&
		    contains_ci(ps[i], "negative"), "%s", ps[i]);
		free(ps[i]);
	}
	free(r);
	backend_free(b);
}
END_TEST

START_TEST(test_optimizer_crossover)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	char		*r, *ps[8], *u;
	size_t		 n, i, s, both = 0, total = 0;

	for (s = 0; s < 20; s++) {
		u = xasprintf("Cross over the following prompts to make 3 new "
		    "prompts (round %zu).\n<prompt>Determine the mood of the "
		    "writer. Mention the harbour.</prompt>\n<prompt>Label the "
		    "review by its tone. Consider the weather.</prompt>", s);
		r = ask(b, NULL, u, 0, 0);
		n = prompts_of(r, ps, 8);
		ck_assert_uint_eq(n, 3);
		for (i = 0; i < n; i++) {
			both += (contains_ci(ps[i], "mood") ||
			    contains_ci(ps[i], "harbour")) &&
			    (contains_ci(ps[i], "tone") ||
			    contains_ci(ps[i], "weather"));
			total++;
			free(ps[i]);
		}
		free(r);
		free(u);
	}
	ck_assert_uint_eq(both, total);
	backend_free(b);
}
END_TEST

START_TEST(test_optimizer_feedback)
{
	struct sim_params	 p;
	struct sim_world	*w;
	struct dataset		*ds = label_dataset();
	struct model_req	 req;
	char			*r, *ps[8], *u, *t;
	double			 with = 0, without = 0, parent;
	size_t			 n, i, s, nw = 0, nwo = 0;
	int			 fb;
	const char		*pars[] = { "Classify the review. Guess if "
	    "unsure.", "Classify the review.", "Guess the sentiment of the "
	    "review quickly." };
	const char		*par;

	sim_params_default(&p);
	for (s = 0; s < 90; s++) {
		par = pars[s % nitems(pars)];
		p.seed = 1000 + s;
		w = sim_world_new(&p);
		sim_world_observe(w, ds, text_inputs, 1, "label");
		parent = sim_world_skill(w, 0, par);
		for (fb = 0; fb < 2; fb++) {
			t = review_text(s);
			u = xasprintf("Improve the prompt; write 4 new prompts."
			    "\n<prompt>%s</prompt>\n%s", par, fb ?
			    "<errors>\nInput: " : "");
			model_req_init(&req, REQ_CHAT, "optimizer");
			if (fb) {
				free(u);
				u = xasprintf("Improve the prompt; write 4 new "
				    "prompts.\n<prompt>%s</prompt>\n<errors>\n"
				    "Input: %s\nExpected: %s\nGot: %s\n"
				    "</errors>", par, t, review_label(s),
				    "neutral");
			}
			model_req_add(&req, MSG_USER, u);
			sim_world_answer(w, &req, 0, &r);
			n = prompts_of(r, ps, 8);
			ck_assert_uint_eq(n, 4);
			for (i = 0; i < n; i++) {
				if (fb) {
					with += sim_world_skill(w, 0, ps[i]) -
					    parent;
					nw++;
				} else {
					without += sim_world_skill(w, 0,
					    ps[i]) - parent;
					nwo++;
				}
				free(ps[i]);
			}
			free(r);
			free(u);
			free(t);
			model_req_release(&req);
		}
		sim_world_free(w);
	}
	with /= (double)nw;
	without /= (double)nwo;
	ck_assert_msg(with > without + 0.025, "with %.3f without %.3f", with,
	    without);
	ck_assert_msg(with > 0.05, "with %.3f", with);
	ds_free(ds);
}
END_TEST

START_TEST(test_optimizer_critique)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	struct backend	*bad = label_backend("{\"type\": \"sim\", "
	    "\"format_error_rate\": 1}");
	char		*r;
	const char	*q = "<prompt>Classify the review. Guess "
	    "quickly.</prompt>\nThe prompt got these wrong: "
	    "<errors>...</errors>"
	    "\nGive 3 reasons why the prompt could have gotten them wrong.";

	r = ask(b, NULL, q, 0, 0);
	ck_assert_uint_eq(count_tags(r, "<critique>"), 3);
	ck_assert_uint_eq(count_tags(r, "</critique>"), 3);
	ck_assert_uint_eq(count_tags(r, "<prompt>"), 0);
	free(r);
	/* The edit step after a critique writes prompts, not critiques. */
	r = ask(b, NULL, "<prompt>Classify the review.</prompt>\n<critique>The "
	    "prompt does not ask the model to work step by step.</critique>\n"
	    "Based on the critique, write 2 improved prompts.", 0, 0);
	ck_assert_uint_eq(count_tags(r, "<prompt>"), 2);
	ck_assert_uint_eq(count_tags(r, "<critique>"), 0);
	free(r);
	r = ask(b, NULL, "<prompt>Classify the review.</prompt>\n<critique>The "
	    "prompt is vague.</critique>\nFix the prompt using the critique.",
	    0, 0);
	ck_assert_uint_eq(count_tags(r, "<prompt>"), 1);
	free(r);
	r = ask(b, NULL, "<prompt>Classify the review.</prompt>\nWhat is wrong "
	    "with this prompt?", 0, 0);
	ck_assert_uint_eq(count_tags(r, "<critique>"), 1);
	free(r);
	/* Format errors: no tags at all, but still text. */
	r = ask(bad, NULL, q, 0, 0);
	ck_assert_ptr_null(strchr(r, '<'));
	ck_assert_uint_gt(strlen(r), 10);
	free(r);
	r = ask(bad, NULL, "<prompt>Classify the review.</prompt>\nWrite 3 new "
	    "prompts.", 0, 0);
	ck_assert_ptr_null(strchr(r, '<'));
	free(r);
	backend_free(b);
	backend_free(bad);
}
END_TEST

/*
 * People's comments (<comment>s in a <people> block) are acted on: a
 * critique request names what they complain of, and an edit adds the
 * bare answer format they ask for or takes out the cue they blame, far
 * more often than without them.
 */
START_TEST(test_optimizer_people)
{
	struct backend	*b = label_backend("{\"type\": \"sim\"}");
	static const char *const people = "People who used this prompt said "
	    "what they thought of some of its answers:\n<people>\n<person>\n"
	    "<input>Review: great food</input>\n<output>I would say it is "
	    "positive, because that fits the text best.</output>\n<comment>"
	    "%s</comment>\n</person>\n</people>\n\n";
	char		*r, *ps[4], *u, *block;
	size_t		 round, n, with[3] = { 0 }, without[3] = { 0 };
	int		 hum;

	for (round = 0; round < 30; round++) {
		for (hum = 0; hum < 2; hum++) {
			/* protegi: the critique names the format. */
			block = hum ? xasprintf(people, "Too long. I only "
			    "want the label.") : xstrdup("");
			u = xasprintf("<prompt>Classify the review.</prompt>\n"
			    "The prompt got these wrong (round %zu): <errors>"
			    "...</errors>\n%sGive 1 critique.", round, block);
			r = ask(b, NULL, u, 0, 0);
			ck_assert_uint_eq(count_tags(r, "<critique>"), 1);
			(hum ? with : without)[0] += contains_ci(r,
			    "answer with only the label");
			free(r);
			free(u);
			/* gepa: the rewrite asks for the bare label. */
			u = xasprintf("Write a new instruction (round %zu).\n"
			    "<prompt score=\"0.5\">Classify the review."
			    "</prompt>\n<examples>...</examples>\n%s", round,
			    block);
			r = ask(b, NULL, u, 0, 0);
			n = prompts_of(r, ps, 4);
			ck_assert_uint_eq(n, 1);
			(hum ? with : without)[1] += sim_prompt_bare(ps[0]);
			free(ps[0]);
			free(r);
			free(u);
			free(block);
			/* A cue they blame goes. */
			block = hum ? xasprintf(people, "It just seems to "
			    "guess.") : xstrdup("");
			u = xasprintf("Write a new instruction (round %zu).\n"
			    "<prompt score=\"0.5\">Classify the review. Guess "
			    "if unsure.</prompt>\n<examples>...</examples>\n"
			    "%s",
			    round, block);
			r = ask(b, NULL, u, 0, 0);
			n = prompts_of(r, ps, 4);
			ck_assert_uint_eq(n, 1);
			(hum ? with : without)[2] += !contains_ci(ps[0],
			    "guess");
			free(ps[0]);
			free(r);
			free(u);
			free(block);
		}
	}
	for (n = 0; n < 3; n++)
		ck_assert_msg(with[n] >= 24 && with[n] > without[n] + 5,
		    "case %zu: %zu of 30 with people's comments, %zu without",
		    n, with[n], without[n]);
	backend_free(b);
}
END_TEST

START_TEST(test_roles)
{
	struct model_req	req;

	model_req_init(&req, REQ_EMBED, "target");
	ck_assert_int_eq(sim_role_detect(&req), SIM_ROLE_EMBED);
	model_req_release(&req);
	model_req_init(&req, REQ_CHAT, "judge");
	model_req_add(&req, MSG_USER, "Classify: <text>hello</text>");
	ck_assert_int_eq(sim_role_detect(&req), SIM_ROLE_TARGET);
	model_req_release(&req);
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_USER, "<response>x</response>");
	ck_assert_int_eq(sim_role_detect(&req), SIM_ROLE_JUDGE);
	model_req_release(&req);
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_SYSTEM, "Put answers in <response_a> tags.");
	model_req_add(&req, MSG_USER, "<prompt score=0.5>x</prompt>");
	ck_assert_int_eq(sim_role_detect(&req), SIM_ROLE_OPTIMIZER);
	model_req_release(&req);
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_USER, "Input: a\nOutput: b\nThe instruction "
	    "was");
	ck_assert_int_eq(sim_role_detect(&req), SIM_ROLE_OPTIMIZER);
	model_req_release(&req);
}
END_TEST

START_TEST(test_usage)
{
	struct backend		*b = label_backend("{\"type\": \"sim\"}");
	struct model_req	 req;
	struct model_resp	 resp;
	char			*cause = NULL, *t;

	t = review_text(3);
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_SYSTEM, "Classify the review.");
	model_req_add(&req, MSG_USER, t);
	ck_assert_int_eq(b->ops->call(b, &req, &resp, &cause), 0);
	ck_assert_int_eq(resp.prompt_tokens,
	    tokens_estimate("Classify the review.") + tokens_estimate(t));
	ck_assert_int_eq(resp.completion_tokens, tokens_estimate(resp.text));
	ck_assert_int_gt(resp.completion_tokens, 0);
	ck_assert_str_eq(resp.finish, "stop");
	model_resp_release(&resp);
	model_req_release(&req);
	free(t);
	backend_free(b);
}
END_TEST

START_TEST(test_models_differ)
{
	struct backend	*a = label_backend("{\"type\": \"sim\", \"model\": "
	    "\"sim-a\"}");
	struct backend	*b = label_backend("{\"type\": \"sim\", \"model\": "
	    "\"sim-b\"}");
	size_t		 i, differ = 0;
	char		*t, *ra, *rb;

	for (i = 0; i < 40; i++) {
		t = review_text(i);
		ra = ask(a, "Classify the review.", t, 0, 0);
		rb = ask(b, "Classify the review.", t, 0, 0);
		differ += strcmp(ra, rb) != 0;
		free(ra);
		free(rb);
		free(t);
	}
	ck_assert_uint_gt(differ, 5);
	backend_free(a);
	backend_free(b);
}
END_TEST

/* Writes a dataset's examples as JSON lines, renaming field from to to. */
static void
ds_write(const struct dataset *ds, const char *path, const char *from,
    const char *to)
{
	FILE	*f;
	cJSON	*o;
	char	*line;
	size_t	 i;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < ds->n; i++) {
		o = cJSON_Duplicate(ds->ex[i].fields, 1);
		if (from != NULL)
			cJSON_AddItemToObject(o, to,
			    cJSON_DetachItemFromObject(o, from));
		line = cJSON_PrintUnformatted(o);
		fprintf(f, "%s\n", line);
		free(line);
		cJSON_Delete(o);
	}
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A world that knows a labelled file (its "knowledge") answers a target
 * request as a world whose job's own dataset carries those labels, word
 * for word, whether the job's dataset has no labels or there is none;
 * a world with neither cannot answer at all.
 */
START_TEST(test_knowledge)
{
	static const char *const prompts[] = {
		"Classify the sentiment of the review.",
		"You are an expert. Read the whole review carefully. Answer "
		    "with only the label.",
	};
	struct dataset	*unlabelled = label_dataset();
	struct backend	*told, *knows, *nodata, *renamed, *blind;
	char		*tmp, *conf, *p, *t, *u, *want, *r;
	size_t		 i, k, right = 0, blind_right = 0;

	tmp = check_tmpdir();
	p = xasprintf("%s/truth.jsonl", tmp);
	ds_write(unlabelled, p, NULL, NULL);
	free(p);
	p = xasprintf("%s/truth2.jsonl", tmp);
	ds_write(unlabelled, p, "label", "sentiment");
	free(p);
	for (i = 0; i < unlabelled->n; i++)
		cJSON_ReplaceItemInObject(unlabelled->ex[i].fields, "label",
		    cJSON_CreateNull());

	told = label_backend("{\"type\": \"sim\"}");
	conf = xasprintf("%s/promptd.conf", tmp);
	knows = sim_backend_in(conf, "{\"type\": \"sim\", "
	    "\"knowledge\": \"truth.jsonl\"}");
	knows->ops->observe(knows, unlabelled, text_inputs, 1, "label");
	nodata = sim_backend_in(conf, "{\"type\": \"sim\", "
	    "\"knowledge\": \"truth.jsonl\"}");
	nodata->ops->observe(nodata, NULL, text_inputs, 1, "label");
	renamed = sim_backend_in(conf, "{\"type\": \"sim\", \"knowledge\": "
	    "\"truth2.jsonl\", \"knowledge_target\": \"sentiment\"}");
	renamed->ops->observe(renamed, unlabelled, text_inputs, 1, "label");
	blind = sim_backend("{\"type\": \"sim\"}");
	blind->ops->observe(blind, unlabelled, text_inputs, 1, "label");
	/* What the world knows is part of the cache key. */
	ck_assert_str_ne(told->identity, knows->identity);

	for (k = 0; k < nitems(prompts); k++) {
		for (i = 0; i < 200; i++) {
			t = review_text(i);
			u = xasprintf("Review: %s\nSentiment:", t);
			want = ask(told, prompts[k], u, 0, 0);
			right += label_right(want, review_label(i));
			r = ask(knows, prompts[k], u, 0, 0);
			ck_assert_str_eq(r, want);
			free(r);
			r = ask(nodata, prompts[k], u, 0, 0);
			ck_assert_str_eq(r, want);
			free(r);
			r = ask(renamed, prompts[k], u, 0, 0);
			ck_assert_str_eq(r, want);
			free(r);
			r = ask(blind, prompts[k], u, 0, 0);
			blind_right += label_right(r, review_label(i));
			free(r);
			free(want);
			free(u);
			free(t);
		}
	}
	ck_assert_msg(right > 200 && blind_right < right / 4,
	    "told %zu blind %zu", right, blind_right);
	backend_free(told);
	backend_free(knows);
	backend_free(nodata);
	backend_free(renamed);
	backend_free(blind);
	ds_free(unlabelled);
	free(conf);
	check_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_config)
{
	struct backend	*b;
	char		*e;

	b = sim_backend("{\"type\": \"sim\", \"seed\": 42, \"dim\": 8, "
	    "\"noise\": 0, \"position_bias\": 0, \"format_error_rate\": 0.5}");
	backend_free(b);
	ck_assert_ptr_null(sim_conf_errors("{\"type\": \"sim\"}"));
	e = sim_conf_errors("{\"type\": \"sim\", \"dim\": 4}");
	ck_assert_msg(e != NULL && strstr(e, "backends.sim.dim") != NULL &&
	    strstr(e, "out of range") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"dim\": 5000}");
	ck_assert_msg(e != NULL && strstr(e, "dim") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"sed\": 3}");
	ck_assert_msg(e != NULL && strstr(e, "sed") != NULL &&
	    strstr(e, "seed") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"seed\": 1.5}");
	ck_assert_msg(e != NULL && strstr(e, "seed") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"noise\": -1}");
	ck_assert_msg(e != NULL && strstr(e, "noise") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"position_bias\": \"x\"}");
	ck_assert_msg(e != NULL && strstr(e, "position_bias") != NULL, "%s",
	    e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"format_error_rate\": 2}");
	ck_assert_msg(e != NULL && strstr(e, "format_error_rate") != NULL,
	    "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"knowledge\": "
	    "\"no-such-truth.jsonl\"}");
	ck_assert_msg(e != NULL && strstr(e, "backends.sim.knowledge: ") !=
	    NULL && strstr(e, "no-such-truth.jsonl") != NULL, "%s", e);
	free(e);
	e = sim_conf_errors("{\"type\": \"sim\", \"knowledge_target\": "
	    "\"label\"}");
	ck_assert_msg(e != NULL && strstr(e, "backends.sim.knowledge_target: "
	    "needs a knowledge file") != NULL, "%s", e);
	free(e);
}
END_TEST

/* A knowledge_target the knowledge file does not have. */
START_TEST(test_knowledge_config)
{
	struct dataset	*ds = label_dataset();
	char		*tmp, *p, *conf, *e;

	tmp = check_tmpdir();
	p = xasprintf("%s/truth.jsonl", tmp);
	ds_write(ds, p, NULL, NULL);
	conf = xasprintf("{\"type\": \"sim\", \"knowledge\": \"%s\", "
	    "\"knowledge_target\": \"labl\"}", p);
	e = sim_conf_errors(conf);
	ck_assert_msg(e != NULL && strstr(e, "backends.sim.knowledge_target: "
	    "no field 'labl' in ") != NULL, "%s", e);
	free(e);
	free(conf);
	free(p);
	ds_free(ds);
	check_rmtree(tmp);
	free(tmp);
}
END_TEST

static Suite *
sim_suite(void)
{
	Suite	*s = suite_create("sim");
	TCase	*tc;

	tc = tcase_create("target");
	tcase_add_test(tc, test_determinism);
	tcase_add_test(tc, test_label_accuracy);
	tcase_add_test(tc, test_label_skill);
	tcase_add_test(tc, test_number_task);
	tcase_add_test(tc, test_rewrite_task);
	tcase_add_test(tc, test_models_differ);
	suite_add_tcase(s, tc);
	tc = tcase_create("embed");
	tcase_add_test(tc, test_embed);
	suite_add_tcase(s, tc);
	tc = tcase_create("judge");
	tcase_add_test(tc, test_judge);
	tcase_add_test(tc, test_judge_position_bias);
	tcase_add_test(tc, test_judge_rewrite);
	tcase_add_test(tc, test_judge_people);
	suite_add_tcase(s, tc);
	tc = tcase_create("optimizer");
	tcase_add_test(tc, test_optimizer_count);
	tcase_add_test(tc, test_optimizer_crossover);
	tcase_add_test(tc, test_optimizer_feedback);
	tcase_add_test(tc, test_optimizer_critique);
	tcase_add_test(tc, test_optimizer_people);
	suite_add_tcase(s, tc);
	tc = tcase_create("backend");
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_knowledge);
	tcase_add_test(tc, test_knowledge_config);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sim_suite)
