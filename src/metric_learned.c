/*
 * The learned metric: the probability that a person rates an output well,
 * from a logistic model over the output's text features (textfeat.h)
 * fitted to the job's production feedback (feedback.h) at the start of
 * each run.  It needs no target, so a job without labels can still be
 * optimized on what its users said.
 *
 * One loss takes every kind of evidence.  A rating is a pointwise label
 * (thumbs up 1, down 0, stars (v-1)/4); a preference is a pairwise one
 * (Bradley-Terry: the model of the difference of the two responses'
 * features, without the bias, says which won; a tie is 0.5); an implicit
 * signal of an interaction without a rating is a pointwise label
 * (regenerated and abandoned say "not good", copied "good") weighted by
 * the signal's reliability.  Implicit signals are noisy and biased (a
 * person copies a bad answer to fix it elsewhere), so the reliability is
 * measured on the interactions that have both the signal and a rating:
 * with agreement rate a (the mean of 1 - |what the signal says - the
 * rating|), the weight is max(0, 2a - 1), 0 with fewer than
 * LEARNED_MIN_BOTH such interactions.  A signal no better than a coin
 * weighs nothing.
 *
 * The loss is L2-regularized and minimized by Newton's method, which
 * needs no learning rate and gives the same weights for the same rows.
 * A share of the explicitly rated interactions (drawn with the job's
 * seed) is held out first to measure agreement: on the held-out
 * preferences and pairs of held-out ratings that differ, how often the
 * model orders the two responses as the person did.  Then the model is
 * fitted again on everything, and that is the one that scores.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "jsonc.h"
#include "metric.h"
#include "rng.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

#define LEARNED_DIM		256
#define LEARNED_NW		(LEARNED_DIM + 1)	/* weights, then bias */
/* The L2 penalty on the weights (the loss is a mean, so it is relative). */
#define LEARNED_L2		1e-3
/* The bias is barely held back: enough for a solvable system. */
#define LEARNED_L2_BIAS		1e-6
#define LEARNED_NEWTON		30
/* Interactions with both a signal and a rating to trust the signal at all. */
#define LEARNED_MIN_BOTH	10
/* The random stream of the held-out draw, apart from the search's. */
#define LEARNED_STREAM		0x6c6561726e6564ULL	/* "learned" */

enum learned_signal {
	SIG_REGENERATED,
	SIG_ABANDONED,
	SIG_COPIED,
	SIG_COUNT
};
static const char *const learned_signal_names[SIG_COUNT] = {
	"regenerated", "abandoned", "copied"
};
/* What each signal says of the response when it is there. */
static const double learned_signal_label[SIG_COUNT] = { 0, 0, 1 };

struct learned_opts {
	double		 holdout;
	long long	 min_interactions;
	int		 signals;
	int		 trained;
	double		 w[LEARNED_NW];
};

static const char *const learned_keys[] = {
	"holdout", "min_interactions", "signals", NULL
};

/*
 * A term of the loss: features x (a response's, or the difference of a
 * preference's two), the label y in [0, 1] and the weight c.  A pair has
 * no bias: the bias cancels between two responses.
 */
struct learned_term {
	double	 y;
	double	 c;
	int	 pair;
};
struct learned_set {
	struct learned_term	*t;
	float			*x;		/* n x LEARNED_DIM */
	size_t			 n;
	size_t			 cap;
	double			 weight;	/* the sum of the c */
};

/* What a fit was made of, for the report. */
struct learned_counts {
	long long	 ratings;
	long long	 preferences;
	long long	 signals;
	double		 rel[SIG_COUNT];
};

static int
learned_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct learned_opts	*lo;
	int			 bad = 0;

	m->data = lo = xcalloc(1, sizeof *lo);
	lo->holdout = 0.2;
	lo->min_interactions = 20;
	lo->signals = 1;
	if (jv_number(doc, conf, path, "holdout", 0, 0, 0.9,
	    &lo->holdout) == -1)
		bad = 1;
	if (jv_int(doc, conf, path, "min_interactions", 0, 1, 1000000000,
	    &lo->min_interactions) == -1)
		bad = 1;
	if (jv_bool(doc, conf, path, "signals", 0, &lo->signals) == -1)
		bad = 1;
	return bad ? -1 : 0;
}

static void
learned_free(struct metric *m)
{
	free(m->data);
	m->data = NULL;
}

static double
learned_sigmoid(double z)
{
	if (z >= 0)
		return 1 / (1 + exp(-z));
	return exp(z) / (1 + exp(z));
}

/* log(1 + e^z) without overflow. */
static double
learned_softplus(double z)
{
	if (z > 0)
		return z + log1p(exp(-z));
	return log1p(exp(z));
}

/* The model's log-odds for features x (a pair's, without the bias). */
static double
learned_z(const double *w, const float *x, int pair)
{
	double	z = pair ? 0 : w[LEARNED_DIM];
	size_t	j;

	for (j = 0; j < LEARNED_DIM; j++)
		z += w[j] * x[j];
	return z;
}

static double
learned_output(const double *w, const char *text)
{
	float	x[LEARNED_DIM];

	textfeat_embed(text != NULL ? text : "", TEXTFEAT_SEED, LEARNED_DIM, x);
	return learned_sigmoid(learned_z(w, x, 0));
}

/* Adds a term: text's features, less other's when other is not NULL. */
static void
learned_add(struct learned_set *set, const char *text, const char *other,
    double y, double c)
{
	float	*x, o[LEARNED_DIM];
	size_t	 j;

	if (set->n == set->cap) {
		set->cap = set->cap == 0 ? 64 : set->cap * 2;
		set->t = xreallocarray(set->t, set->cap, sizeof *set->t);
		set->x = xreallocarray(set->x, set->cap,
		    LEARNED_DIM * sizeof *set->x);
	}
	x = set->x + set->n * LEARNED_DIM;
	textfeat_embed(text != NULL ? text : "", TEXTFEAT_SEED, LEARNED_DIM, x);
	if (other != NULL) {
		textfeat_embed(other, TEXTFEAT_SEED, LEARNED_DIM, o);
		for (j = 0; j < LEARNED_DIM; j++)
			x[j] -= o[j];
	}
	set->t[set->n].y = y;
	set->t[set->n].c = c;
	set->t[set->n].pair = other != NULL;
	set->n++;
	set->weight += c;
}

static void
learned_set_release(struct learned_set *set)
{
	free(set->t);
	free(set->x);
	memset(set, 0, sizeof *set);
}

/* An implicit signal of it: -1 (not given), 0 or 1. */
static int
learned_signal(const struct interaction *it, enum learned_signal s)
{
	switch (s) {
	case SIG_REGENERATED:
		return it->regenerated;
	case SIG_ABANDONED:
		return it->abandoned;
	case SIG_COPIED:
		return it->copied;
	case SIG_COUNT:
		break;
	}
	return -1;
}

/* Whether it has a preference the model can learn from. */
static int
learned_has_preference(const struct interaction *it)
{
	return it->preferred != PREFERRED_NONE && it->other != NULL;
}

/* Rated, or with a preference: what people said outright. */
static int
learned_explicit(const struct interaction *it)
{
	return !isnan(feedback_rating_value(it)) || learned_has_preference(it);
}

/*
 * Each signal's reliability, from the rows (but those skipped) that have
 * both the signal and a rating: max(0, 2a - 1) with a the agreement
 * rate, 0 with fewer than LEARNED_MIN_BOTH of them.
 */
static void
learned_reliability(const struct interaction_row *rows, size_t n,
    const char *skip, double rel[SIG_COUNT])
{
	double	agree[SIG_COUNT] = { 0 }, v;
	size_t	both[SIG_COUNT] = { 0 }, i;
	int	s;

	for (i = 0; i < n; i++) {
		if (skip != NULL && skip[i])
			continue;
		if (isnan(v = feedback_rating_value(rows[i].it)))
			continue;
		for (s = 0; s < SIG_COUNT; s++) {
			if (learned_signal(rows[i].it, s) != 1)
				continue;
			agree[s] += 1 - fabs(learned_signal_label[s] - v);
			both[s]++;
		}
	}
	for (s = 0; s < SIG_COUNT; s++)
		rel[s] = both[s] < LEARNED_MIN_BOTH ? 0 :
		    fmax(0, 2 * agree[s] / (double)both[s] - 1);
}

/* The terms of the rows but those skipped, counted in *cnt. */
static void
learned_terms(const struct learned_opts *lo, const struct interaction_row *rows,
    size_t n, const char *skip, struct learned_set *set,
    struct learned_counts *cnt)
{
	const struct interaction	*it;
	double				 v, y;
	size_t				 i;
	int				 s;

	memset(cnt, 0, sizeof *cnt);
	if (lo->signals)
		learned_reliability(rows, n, skip, cnt->rel);
	for (i = 0; i < n; i++) {
		if (skip != NULL && skip[i])
			continue;
		it = rows[i].it;
		if (!isnan(v = feedback_rating_value(it))) {
			learned_add(set, it->response, NULL, v, 1);
			cnt->ratings++;
		}
		if (learned_has_preference(it)) {
			y = it->preferred == PREFERRED_THIS ? 1 :
			    it->preferred == PREFERRED_OTHER ? 0 : 0.5;
			learned_add(set, it->response, it->other, y, 1);
			cnt->preferences++;
		}
		/* A rating says it better than any signal. */
		if (!lo->signals || !isnan(v))
			continue;
		for (s = 0; s < SIG_COUNT; s++) {
			if (learned_signal(it, s) != 1)
				continue;
			cnt->signals++;
			if (cnt->rel[s] > 0)
				learned_add(set, it->response, NULL,
				    learned_signal_label[s], cnt->rel[s]);
		}
	}
}

/* The regularized mean loss at w. */
static double
learned_loss(const struct learned_set *set, const double *w)
{
	const struct learned_term	*t;
	double				 loss = 0, z;
	size_t				 i;

	for (i = 0; i < set->n; i++) {
		t = &set->t[i];
		z = learned_z(w, set->x + i * LEARNED_DIM, t->pair);
		loss += t->c * (learned_softplus(z) - t->y * z);
	}
	loss /= set->weight;
	for (i = 0; i < LEARNED_DIM; i++)
		loss += LEARNED_L2 / 2 * w[i] * w[i];
	return loss + LEARNED_L2_BIAS / 2 * w[LEARNED_DIM] * w[LEARNED_DIM];
}

/* The gradient g and Hessian h (LEARNED_NW squared) of the loss at w. */
static void
learned_derivatives(const struct learned_set *set, const double *w,
    double *g, double *h)
{
	const struct learned_term	*t;
	const float			*x;
	double				 xe[LEARNED_NW], p, r, q;
	size_t				 i, j, k;

	memset(g, 0, LEARNED_NW * sizeof *g);
	memset(h, 0, LEARNED_NW * LEARNED_NW * sizeof *h);
	for (i = 0; i < set->n; i++) {
		t = &set->t[i];
		x = set->x + i * LEARNED_DIM;
		for (j = 0; j < LEARNED_DIM; j++)
			xe[j] = x[j];
		xe[LEARNED_DIM] = t->pair ? 0 : 1;
		p = learned_sigmoid(learned_z(w, x, t->pair));
		r = t->c * (p - t->y) / set->weight;
		q = t->c * p * (1 - p) / set->weight;
		for (j = 0; j < LEARNED_NW; j++) {
			g[j] += r * xe[j];
			/* The lower triangle: Cholesky reads only that. */
			for (k = 0; k <= j; k++)
				h[j * LEARNED_NW + k] += q * xe[j] * xe[k];
		}
	}
	for (j = 0; j < LEARNED_NW; j++) {
		q = j < LEARNED_DIM ? LEARNED_L2 : LEARNED_L2_BIAS;
		g[j] += q * w[j];
		h[j * LEARNED_NW + j] += q;
	}
}

/*
 * Solves h d = g in place of g by Cholesky (h, lower triangle, is
 * overwritten).  Returns 0 when h is not positive definite.
 */
static int
learned_solve(double *h, double *g)
{
	if (stats_cholesky(h, LEARNED_NW) != 0)
		return 0;
	stats_cholesky_solve(h, LEARNED_NW, g);
	return 1;
}

/*
 * Fits w (zero first) to the set: Newton steps, each halved until the
 * loss does not grow, at most LEARNED_NEWTON of them.
 */
static void
learned_fit(const struct learned_set *set, double *w)
{
	double	*h, g[LEARNED_NW], next[LEARNED_NW], loss, step, moved;
	int	 iter, k;
	size_t	 j;

	memset(w, 0, LEARNED_NW * sizeof *w);
	if (set->n == 0 || !(set->weight > 0))
		return;
	h = xcalloc(LEARNED_NW * LEARNED_NW, sizeof *h);
	for (iter = 0; iter < LEARNED_NEWTON; iter++) {
		loss = learned_loss(set, w);
		learned_derivatives(set, w, g, h);
		if (!learned_solve(h, g))
			break;
		for (step = 1, k = 0; k < 30; k++, step /= 2) {
			for (j = 0; j < LEARNED_NW; j++)
				next[j] = w[j] - step * g[j];
			if (learned_loss(set, next) <= loss)
				break;
		}
		if (k == 30)
			break;
		moved = 0;
		for (j = 0; j < LEARNED_NW; j++) {
			moved = fmax(moved, fabs(next[j] - w[j]));
			w[j] = next[j];
		}
		if (moved < 1e-9)
			break;
	}
	free(h);
}

/* 1, 0.5 or 0: whether the model orders a over b as better does. */
static double
learned_agrees(double a, double b, int a_better)
{
	if (a == b)
		return 0.5;
	return (a > b) == a_better;
}

/*
 * The agreement of w with the held-out rows: on their preferences (not
 * ties) and on the pairs of their ratings that differ.  Sets *npairs.
 */
static double
learned_agreement(const double *w, const struct interaction_row *rows,
    size_t n, const char *held, size_t *npairs)
{
	const struct interaction	*it;
	double				*score, *value, agree = 0;
	size_t				 nr = 0, i, j;

	*npairs = 0;
	score = xcalloc(n + 1, sizeof *score);
	value = xcalloc(n + 1, sizeof *value);
	for (i = 0; i < n; i++) {
		if (!held[i])
			continue;
		it = rows[i].it;
		if (!isnan(value[nr] = feedback_rating_value(it)))
			score[nr++] = learned_output(w, it->response);
		if (learned_has_preference(it) &&
		    it->preferred != PREFERRED_TIE) {
			agree += learned_agrees(learned_output(w, it->response),
			    learned_output(w, it->other),
			    it->preferred == PREFERRED_THIS);
			(*npairs)++;
		}
	}
	for (i = 0; i < nr; i++)
		for (j = i + 1; j < nr; j++) {
			if (value[i] == value[j])
				continue;
			agree += learned_agrees(score[i], score[j],
			    value[i] > value[j]);
			(*npairs)++;
		}
	free(score);
	free(value);
	return *npairs > 0 ? agree / (double)*npairs : NAN;
}

/*
 * Marks the held-out rows: a share of the explicit ones, drawn with
 * seed.  Returns how many.
 */
static size_t
learned_holdout(const struct learned_opts *lo,
    const struct interaction_row *rows, size_t n, size_t nexplicit,
    uint64_t seed, char *held)
{
	struct rng	 rng;
	size_t		*idx, k = 0, nheld, i, j, tmp;

	idx = xcalloc(nexplicit + 1, sizeof *idx);
	for (i = 0; i < n; i++)
		if (learned_explicit(rows[i].it))
			idx[k++] = i;
	rng_seed(&rng, seed, LEARNED_STREAM);
	for (i = k; i > 1; i--) {
		j = rng_below(&rng, (uint32_t)i);
		tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
	nheld = (size_t)floor(lo->holdout * (double)k + 0.5);
	for (i = 0; i < nheld; i++)
		held[idx[i]] = 1;
	free(idx);
	return nheld;
}

/* "learned metric: 240 ratings, ...; agreement on 48 held-out pairs: 0.79" */
static char *
learned_report(const struct learned_opts *lo, const struct learned_counts *c,
    double agreement, size_t npairs)
{
	struct strbuf	sb;
	int		s;

	strbuf_init(&sb);
	strbuf_addf(&sb, "learned metric: %lld rating%s, %lld preference%s, ",
	    c->ratings, c->ratings == 1 ? "" : "s", c->preferences,
	    c->preferences == 1 ? "" : "s");
	if (!lo->signals)
		strbuf_adds(&sb, "implicit signals not used");
	else {
		strbuf_addf(&sb, "%lld implicit signal%s (", c->signals,
		    c->signals == 1 ? "" : "s");
		for (s = 0; s < SIG_COUNT; s++)
			strbuf_addf(&sb, "%s%s weight %.2f", s == 0 ? "" :
			    ", ", learned_signal_names[s], c->rel[s]);
		strbuf_addc(&sb, ')');
	}
	if (npairs > 0)
		strbuf_addf(&sb, "; agreement on %zu held-out pair%s: %.2f",
		    npairs, npairs == 1 ? "" : "s", agreement);
	else if (lo->holdout > 0)
		strbuf_adds(&sb, "; no held-out pairs to measure agreement on");
	return strbuf_detach(&sb);
}

static int
learned_prepare(struct metric *m, const struct interaction_row *rows,
    size_t n, uint64_t seed, char **report, char **cause)
{
	struct learned_opts	*lo = m->data;
	struct learned_set	 set;
	struct learned_counts	 cnt;
	double			 w[LEARNED_NW], agreement = NAN;
	size_t			 nexplicit = 0, npairs = 0, i;
	char			*held;

	lo->trained = 0;
	for (i = 0; i < n; i++)
		nexplicit += learned_explicit(rows[i].it);
	if (nexplicit < (size_t)lo->min_interactions)
		return cause_set(cause, "learned metric: %zu rated "
		    "interaction%s, need %lld (ingest people's ratings or "
		    "preferences, see promptd-feedback(5), or lower "
		    "task.metric.min_interactions)", nexplicit,
		    nexplicit == 1 ? "" : "s", lo->min_interactions);

	held = xcalloc(n + 1, 1);
	memset(&set, 0, sizeof set);
	if (learned_holdout(lo, rows, n, nexplicit, seed, held) > 0) {
		learned_terms(lo, rows, n, held, &set, &cnt);
		learned_fit(&set, w);
		learned_set_release(&set);
		agreement = learned_agreement(w, rows, n, held, &npairs);
	}
	free(held);

	/* What scores is fitted on everything. */
	learned_terms(lo, rows, n, NULL, &set, &cnt);
	learned_fit(&set, lo->w);
	learned_set_release(&set);
	lo->trained = 1;
	*report = learned_report(lo, &cnt, agreement, npairs);
	return 0;
}

static double
learned_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	const struct learned_opts	*lo = m->data;
	double				 p;

	(void)expected;
	if (!lo->trained) {
		if (feedback != NULL)
			*feedback = xstrdup("the learned metric has not been "
			    "trained on the job's feedback");
		return 0;
	}
	p = learned_output(lo->w, output);
	if (feedback != NULL)
		*feedback = xasprintf("people would rate this response well "
		    "with probability %.2f (learned from their feedback)", p);
	return p;
}

const struct metric_ops metric_learned_ops = {
	.name = "learned",
	.keys = learned_keys,
	.init = learned_init,
	.score = learned_score,
	.free = learned_free,
	.prepare = learned_prepare,
	.no_target = 1
};
