/*
 * The judge: compares two responses (<response_a>, <response_b>) or
 * grades one (<response>) by their quality on the observed example, the
 * reference or the rubric's traits, with the world's noise and position
 * bias, and with people's taste for length when their choices come
 * before the question (<people_choices>).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

#define SIM_TIE			0.02
/* How far people's taste for length moves a comparison, at most. */
#define SIM_PEOPLE_WEIGHT	0.3

static const char *const sim_trait_names[4] = {
	"concise", "polite", "formal", "correctly spelled"
};

/* The trimmed body of the last <tag> block, or NULL. */
static char *
tag_last(const char *text, const char *tag)
{
	const char	*pos = text, *body, *last = NULL;
	size_t		 len, lastlen = 0;

	while (sim_tag_next(text, tag, &pos, &body, &len, NULL, NULL)) {
		last = body;
		lastlen = len;
	}
	return last != NULL ? trim_dup(last, lastlen) : NULL;
}

/* Whether a response states the expected answer of x; in [0, 1]. */
double
sim_correctness(const struct sim_world *w, const struct sim_example *x,
    const char *resp)
{
	const struct sim_task	*t = &w->tasks[x->task];
	char			*l, *e, *o;
	double			 v, f;
	size_t			 i, other = 0, pos = 0, st, len;
	size_t			 n = 0, hit = 0;
	int			 has;

	if (x->kind == SIM_NUMBER)
		return sim_last_number(resp, &v) &&
		    sim_numbers_equal(v, x->num) ? 1 : 0.1;
	l = sim_lower_dup(resp);
	e = sim_lower_dup(x->target);
	if (x->kind == SIM_LABEL) {
		has = sim_has_word(l, e);
		for (i = 0; i < t->nlabels; i++) {
			o = sim_lower_dup(t->labels[i]);
			if (strcmp(o, e) != 0 && sim_has_word(l, o))
				other++;
			free(o);
		}
		f = has ? (other > 0 ? 0.4 : 1) : 0.1;
	} else if (strstr(l, e) != NULL)
		f = 1;
	else {
		/* Partial credit for the expected words it has. */
		while (textfeat_word_next(e, &pos, &st, &len)) {
			o = xstrndup(e + st, len);
			hit += sim_has_word(l, o);
			free(o);
			n++;
		}
		f = 0.1 + 0.5 * (n > 0 ? (double)hit / (double)n : 0);
	}
	free(l);
	free(e);
	return f;
}

/* A small cost for rambling on. */
static double
ramble(const char *resp)
{
	size_t	n = sim_count_words(resp);

	return n > 30 ? fmin(0.3, 0.005 * (double)(n - 30)) : 0;
}

struct sim_judging {
	const struct sim_example	*x;
	const char			*input;
	const char			*reference;
	unsigned			 traits;
	int				 graded;	/* by correctness */
	int				 people;	/* 1: people prefer
							   shorter answers,
							   -1: longer, 0 */
};

static double
quality(const struct sim_world *w, const struct sim_judging *j,
    const char *resp, uint64_t h)
{
	double	 v, q;
	char	*l, *r;

	if (j->x != NULL && j->x->target != NULL)
		return fmax(0, sim_correctness(w, j->x, resp) - ramble(resp));
	if (j->x != NULL)
		return sim_rewrite_quality(j->x->vals[j->x->longest], resp,
		    j->traits);
	if (j->reference != NULL && *j->reference != '\0') {
		if (sim_parse_number(j->reference, &v)) {
			double	g;

			q = sim_last_number(resp, &g) &&
			    sim_numbers_equal(g, v) ? 1 : 0.1;
		} else {
			l = sim_lower_dup(resp);
			r = sim_lower_dup(j->reference);
			q = strstr(l, r) != NULL ? 1 : 0.1;
			free(l);
			free(r);
		}
		return fmax(0, q - ramble(resp));
	}
	if (j->input != NULL && j->traits != 0)
		return sim_rewrite_quality(j->input, resp, j->traits);
	if (strcmp(resp, SIM_UNSURE) == 0 || *resp == '\0')
		return 0.1;
	return fmax(0, 0.5 + 0.2 * (sim_u01(hash64_str(resp, h)) - 0.5) -
	    ramble(resp));
}

/* The trait where a beats b by most, or -1. */
static int
best_trait(const struct sim_judging *j, const char *a, const char *b)
{
	double	d, best = 0.05;
	int	t, bt = -1;

	for (t = 0; t < 4; t++) {
		if (j->traits != 0 && (j->traits & (1u << t)) == 0)
			continue;
		d = sim_rewrite_quality(j->x != NULL ?
		    j->x->vals[j->x->longest] : j->input, a, 1u << t) -
		    sim_rewrite_quality(j->x != NULL ?
		    j->x->vals[j->x->longest] : j->input, b, 1u << t);
		if (d > best) {
			best = d;
			bt = t;
		}
	}
	return bt;
}

/*
 * What the judge knows besides the responses: the observed example the
 * request is about (by its <input>, else by the text outside the
 * responses), the input, the reference and the traits the rubric asks
 * for.  j borrows input and ref.
 */
static void
judging_init(struct sim_judging *j, const struct sim_world *w,
    const char *text, const char *input, const char *ref,
    const char *rubric)
{
	static const char *const strip[] = { "response_a", "response_b",
	    "response", NULL };
	char	*ctx;

	memset(j, 0, sizeof *j);
	if (input != NULL)
		j->x = sim_world_match(w, input);
	else {
		ctx = sim_tags_strip(text, strip);
		j->x = sim_world_match(w, ctx);
		free(ctx);
	}
	j->input = input != NULL ? input : (j->x != NULL ?
	    j->x->vals[j->x->longest] : NULL);
	j->reference = ref;
	j->traits = rubric != NULL ? sim_prompt_traits(rubric) : 0;
	if ((j->x != NULL && j->x->target == NULL) || (j->x == NULL &&
	    (ref == NULL || *ref == '\0') && j->input != NULL))
		j->traits = j->traits == 0 ? SIM_TRAIT_ALL : j->traits;
	j->graded = (j->x != NULL && j->x->target != NULL) ||
	    (j->x == NULL && ref != NULL && *ref != '\0');
}

/*
 * What people's choices before a comparison (a <people_choices> block
 * of <choice>s, each with <answer_a>, <answer_b> and <preferred>) say of
 * their taste for length: 1 when, of at least two choices with a winner
 * between answers of different lengths, the shorter won at least twice
 * as often as the longer; -1 the other way; 0.
 */
static int
people_lean(const char *block)
{
	const char	*pos = block, *body;
	size_t		 len, wa, wb;
	char		*c, *a, *b, *p;
	int		 shorter = 0, longer = 0;

	while (sim_tag_next(block, "choice", &pos, &body, &len, NULL, NULL)) {
		c = xstrndup(body, len);
		a = tag_last(c, "answer_a");
		b = tag_last(c, "answer_b");
		p = tag_last(c, "preferred");
		if (a != NULL && b != NULL && p != NULL &&
		    (*p == 'a' || *p == 'b') && (wa = sim_count_words(a)) !=
		    (wb = sim_count_words(b))) {
			if ((*p == 'a') == (wa < wb))
				shorter++;
			else
				longer++;
		}
		free(c);
		free(a);
		free(b);
		free(p);
	}
	if (shorter >= 2 && shorter >= 2 * longer)
		return 1;
	if (longer >= 2 && longer >= 2 * shorter)
		return -1;
	return 0;
}

/*
 * The lean people's taste gives a's side of a comparison: up to
 * SIM_PEOPLE_WEIGHT to the shorter response (or the longer), by how
 * much shorter it is.
 */
static double
people_pull(const struct sim_judging *j, const char *ra, const char *rb)
{
	double	wa, wb;

	if (j->people == 0)
		return 0;
	wa = (double)sim_count_words(ra);
	wb = (double)sim_count_words(rb);
	return j->people * SIM_PEOPLE_WEIGHT * (wb - wa) /
	    fmax(1, fmax(wa, wb));
}

/* The verdict on two responses, with a reason, or a tie. */
static char *
judge_pair(const struct sim_world *w, const struct sim_judging *j,
    const char *ra, const char *rb, uint64_t h)
{
	char	 win, lose;
	double	 qa, qb, d;
	int	 t, oka, okb;

	qa = quality(w, j, ra, h);
	qb = quality(w, j, rb, h);
	d = qa + w->p.position_bias + w->p.noise * sim_normal(hash_mix(h,
	    0x61)) - qb - w->p.noise * sim_normal(hash_mix(h, 0x62)) +
	    people_pull(j, ra, rb);
	if (fabs(d) < SIM_TIE)
		return xstrdup("Both responses are of similar quality."
		    "\nWinner: tie");
	win = d > 0 ? 'A' : 'B';
	lose = d > 0 ? 'B' : 'A';
	oka = (d > 0 ? qa : qb) >= 0.9;
	okb = (d > 0 ? qb : qa) >= 0.9;
	if (j->graded) {
		if (oka && okb)
			return xasprintf("Both responses give the "
			    "expected answer; response %c is more "
			    "direct.\nWinner: %c", win, win);
		if (oka)
			return xasprintf("Response %c gives the "
			    "expected answer, while response %c does "
			    "not.\nWinner: %c", win, lose, win);
		if (okb)
			return xasprintf("Response %c is clearer, "
			    "although response %c states the expected "
			    "answer.\nWinner: %c", win, lose, win);
		return xasprintf("Neither response gives the "
		    "expected answer; response %c comes "
		    "closer.\nWinner: %c", win, win);
	}
	if (j->traits != 0 && j->input != NULL &&
	    (t = best_trait(j, d > 0 ? ra : rb, d > 0 ? rb : ra)) >= 0)
		return xasprintf("Response %c is the better rewrite: it "
		    "is more %s than response %c.\nWinner: %c", win,
		    sim_trait_names[t], lose, win);
	return xasprintf("Response %c reads slightly better "
	    "than response %c.\nWinner: %c", win, lose, win);
}

/* The grade of one response, from 1 to 10, with a reason. */
static char *
judge_grade(const struct sim_world *w, const struct sim_judging *j,
    const char *r, uint64_t h)
{
	double	q, d;
	int	n;

	q = quality(w, j, r, h);
	d = 1 + 9 * q + 2 * w->p.noise * sim_normal(hash_mix(h, 0x72));
	n = (int)lround(fmax(1, fmin(10, d)));
	if (j->graded)
		return xasprintf("The response %s the expected answer.\n"
		    "Score: %d", q >= 0.9 ? "gives" : "does not give", n);
	return xasprintf("The response is a %s answer.\nScore: %d",
	    q >= 0.75 ? "good" : q >= 0.45 ? "fair" : "poor", n);
}

char *
sim_answer_judge(const struct sim_world *w, const char *text, uint64_t h)
{
	struct sim_judging	 j;
	const char		*pos = text, *body;
	char			*ra, *rb, *r, *input, *ref, *rubric, *out;
	char			*block;
	size_t			 len;
	int			 people = 0;

	/* The answer to an input, for a synthetic example (synth.c). */
	if (sim_label_asked(text))
		return sim_answer_label(w, text);
	/*
	 * People's choices come before the question: read for their taste,
	 * then left out, so that the question is read as it would be alone.
	 */
	if (sim_tag_next(text, "people_choices", &pos, &body, &len, NULL,
	    NULL)) {
		block = xstrndup(body, len);
		people = people_lean(block);
		free(block);
		text = pos;
	}
	ra = tag_last(text, "response_a");
	rb = tag_last(text, "response_b");
	r = ra != NULL && rb != NULL ? NULL : tag_last(text, "response");
	input = tag_last(text, "input");
	ref = tag_last(text, "reference");
	rubric = tag_last(text, "rubric");
	judging_init(&j, w, text, input, ref, rubric);
	j.people = people;
	if (ra != NULL && rb != NULL)
		out = judge_pair(w, &j, ra, rb, h);
	else
		out = judge_grade(w, &j, r != NULL ? r : "", h);
	free(ra);
	free(rb);
	free(r);
	free(input);
	free(ref);
	free(rubric);
	return out;
}
