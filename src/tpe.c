/* Tree-structured Parzen Estimator over categorical choices (tpe.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpe.h"
#include "util.h"
#include "xmalloc.h"

#define TPE_FLAT	25	/* default_weights: the latest weigh 1 */
#define TPE_TIE		1e-9	/* relative: values this close are equal */

/*
 * A density, l or g: a mixture of a kernel per trial (in trial order)
 * and the prior kernel, last.
 */
struct tpe_est {
	const size_t	**obs;		/* the trials' choices */
	size_t		  n;
	double		 *w;		/* n + 1 weights, summing to 1 */
	double		  p;		/* prior_weight / (n + 1) */
};

/* What a suggestion works from. */
struct tpe_ctx {
	const struct tpe_params	*par;
	const size_t		*ncats;
	size_t			 ndims;
	struct rng		*rng;
	const size_t		**scored;	/* in trial order */
	size_t			 nscored;
	struct tpe_est		 l, g;
};

struct tpe_rank {
	double	score;
	size_t	i;
};

void
tpe_params_default(struct tpe_params *p)
{
	memset(p, 0, sizeof *p);
	p->gamma = 0.1;
	p->gamma_max = 25;
	p->startup = 10;
	p->candidates = 24;
	p->prior_weight = 1.0;
	p->multivariate = 1;
}

static int
tpe_check(const struct tpe_params *p, const size_t *ncats, size_t ndims,
    const struct tpe_trial *t, size_t nt, char **cause)
{
	size_t	i, d;

	if (!(p->gamma > 0 && p->gamma <= 1))
		return cause_set(cause, "tpe: gamma %g is not in (0, 1]",
		    p->gamma);
	if (p->candidates == 0)
		return cause_set(cause, "tpe: candidates must be at least 1");
	if (!(p->prior_weight >= 0 && isfinite(p->prior_weight)))
		return cause_set(cause, "tpe: prior_weight %g is not a finite "
		    "number at least 0", p->prior_weight);
	for (d = 0; d < ndims; d++)
		if (ncats[d] == 0 || ncats[d] > UINT32_MAX)
			return cause_set(cause, "tpe: dimension %zu has %zu "
			    "categories (1 to %u)", d, ncats[d], UINT32_MAX);
	for (i = 0; i < nt; i++) {
		if (isnan(t[i].score))
			continue;
		if (t[i].choice == NULL && ndims > 0)
			return cause_set(cause, "tpe: trial %zu: scored but "
			    "without a choice", i);
		for (d = 0; d < ndims; d++)
			if (t[i].choice[d] >= ncats[d])
				return cause_set(cause, "tpe: trial %zu: "
				    "choice %zu in dimension %zu is out of "
				    "range (%zu categories)", i,
				    t[i].choice[d], d, ncats[d]);
	}
	return 0;
}

/* Optuna's default_weights(n)[i]: a ramp for the oldest, then 1. */
static double
tpe_weight(size_t n, size_t i)
{
	size_t	m;

	if (n <= TPE_FLAT || i >= n - TPE_FLAT)
		return 1;
	m = n - TPE_FLAT;
	if (m == 1)
		return 1.0 / n;
	return 1.0 / n + (double)i * (1 - 1.0 / n) / (double)(m - 1);
}

static void
tpe_est_init(struct tpe_est *e, const size_t **obs, size_t n, double prior)
{
	double	sum = 0;
	size_t	k;

	e->obs = obs;
	e->n = n;
	e->w = xcalloc(n + 1, sizeof *e->w);
	e->p = prior / (double)(n + 1);
	if (n == 0) {
		e->w[0] = 1;
		return;
	}
	for (k = 0; k < n; k++)
		sum += e->w[k] = tpe_weight(n, k);
	sum += e->w[n] = prior;
	for (k = 0; k <= n; k++)
		e->w[k] /= sum;
}

/* The mass that kernel k (n: the prior) puts on category c of d. */
static double
tpe_kernel(const struct tpe_est *e, size_t k, size_t d, size_t c,
    size_t ncat)
{
	double	norm = 1 + e->p * (double)ncat;

	if (k == e->n)
		return 1.0 / (double)ncat;
	return (e->p + (e->obs[k][d] == c)) / norm;
}

/* The marginal of dimension d: dens[c] for each of its ncat. */
static void
tpe_est_marginal(const struct tpe_est *e, size_t d, size_t ncat,
    double *dens)
{
	double	norm = 1 + e->p * (double)ncat, base;
	size_t	k, c;

	base = e->w[e->n] / (double)ncat;
	for (k = 0; k < e->n; k++)
		base += e->w[k] * e->p / norm;
	for (c = 0; c < ncat; c++)
		dens[c] = base;
	for (k = 0; k < e->n; k++)
		dens[e->obs[k][d]] += e->w[k] / norm;
}

/* An index drawn with probability w[i] / (the sum of w). */
static size_t
tpe_draw(const double *w, size_t n, struct rng *rng)
{
	double	sum = 0, u;
	size_t	i;

	for (i = 0; i < n; i++)
		sum += w[i];
	u = rng_uniform(rng) * sum;
	for (i = 0; i + 1 < n; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

/* A combination drawn from the joint mixture e. */
static void
tpe_est_sample(const struct tpe_est *e, const size_t *ncats, size_t ndims,
    struct rng *rng, size_t *x)
{
	size_t	k, d;
	double	norm;

	k = tpe_draw(e->w, e->n + 1, rng);
	for (d = 0; d < ndims; d++) {
		norm = 1 + e->p * (double)ncats[d];
		if (k < e->n && rng_uniform(rng) * norm < 1)
			x[d] = e->obs[k][d];
		else
			x[d] = rng_below(rng, (uint32_t)ncats[d]);
	}
}

/* log of the joint density of e at x, the kernels summed in log space. */
static double
tpe_est_logpdf(const struct tpe_est *e, const size_t *ncats, size_t ndims,
    const size_t *x)
{
	double	top = -INFINITY, sum = 0, s;
	size_t	k, d;

	for (k = 0; k <= e->n; k++) {
		s = log(e->w[k]);
		for (d = 0; d < ndims; d++)
			s += log(tpe_kernel(e, k, d, x[d], ncats[d]));
		if (s == -INFINITY)
			continue;
		if (s > top) {
			sum = sum * exp(top - s) + 1;
			top = s;
		} else
			sum += exp(s - top);
	}
	return top + log(sum);
}

/* log l - log g, NAN (both 0) as the worst. */
static double
tpe_acq(double logl, double logg)
{
	double	a = logl - logg;

	return isnan(a) ? -INFINITY : a;
}

/* 1 when a is better than best, 0 when equal (to TPE_TIE), else -1. */
static int
tpe_cmp(double a, double best)
{
	if (a == best)
		return 0;
	if (isfinite(a) && isfinite(best) &&
	    fabs(a - best) <= TPE_TIE * fmax(1, fabs(best)))
		return 0;
	return a > best ? 1 : -1;
}

/* Whether a scored trial has tried x. */
static int
tpe_tried(const struct tpe_ctx *cx, const size_t *x)
{
	size_t	i;

	for (i = 0; i < cx->nscored; i++)
		if (memcmp(cx->scored[i], x, cx->ndims * sizeof *x) == 0)
			return 1;
	return 0;
}

/*
 * Per dimension: candidates drawn from l's marginal, the categories with
 * the best value kept in tie[d * candidates ...], ntie[d] of them.
 */
static void
tpe_ties_independent(struct tpe_ctx *cx, size_t *tie, size_t *ntie)
{
	size_t	 d, j, c, m, k, ncand = cx->par->candidates;
	double	*dl, *dg, a, best;
	int	 cmp;

	for (d = 0; d < cx->ndims; d++) {
		m = cx->ncats[d];
		dl = xcalloc(m, sizeof *dl);
		dg = xcalloc(m, sizeof *dg);
		tpe_est_marginal(&cx->l, d, m, dl);
		tpe_est_marginal(&cx->g, d, m, dg);
		best = -INFINITY;
		ntie[d] = 0;
		for (j = 0; j < ncand; j++) {
			c = tpe_draw(dl, m, cx->rng);
			a = tpe_acq(log(dl[c]), log(dg[c]));
			cmp = ntie[d] == 0 ? 1 : tpe_cmp(a, best);
			if (cmp > 0) {
				best = a;
				tie[d * ncand] = c;
				ntie[d] = 1;
				continue;
			}
			if (cmp < 0)
				continue;
			for (k = 0; k < ntie[d]; k++)
				if (tie[d * ncand + k] == c)
					break;
			if (k == ntie[d])
				tie[d * ncand + ntie[d]++] = c;
		}
		free(dl);
		free(dg);
	}
}

/*
 * Independent mode: the first untried combination of the dimensions'
 * best categories (odometer order, at most TPE_TIES_MAX), or the first.
 */
static void
tpe_suggest_independent(struct tpe_ctx *cx, size_t *out)
{
	size_t	*tie, *ntie, *pos, ncand = cx->par->candidates, d, n;

	tie = xcalloc(cx->ndims * ncand, sizeof *tie);
	ntie = xcalloc(cx->ndims, sizeof *ntie);
	pos = xcalloc(cx->ndims, sizeof *pos);
	tpe_ties_independent(cx, tie, ntie);
	for (n = 0; n < TPE_TIES_MAX; n++) {
		for (d = 0; d < cx->ndims; d++)
			out[d] = tie[d * ncand + pos[d]];
		if (!tpe_tried(cx, out))
			goto done;
		for (d = 0; d < cx->ndims; d++) {
			if (++pos[d] < ntie[d])
				break;
			pos[d] = 0;
		}
		if (d == cx->ndims)
			break;
	}
	for (d = 0; d < cx->ndims; d++)
		out[d] = tie[d * ncand];
done:
	free(tie);
	free(ntie);
	free(pos);
}

/*
 * Multivariate mode: whole combinations drawn from l; of those with the
 * best value, the first untried, or the first.
 */
static void
tpe_suggest_multivariate(struct tpe_ctx *cx, size_t *out)
{
	size_t	 ncand = cx->par->candidates, nd = cx->ndims, j, pick = 0;
	size_t	*x;
	double	*a, best = -INFINITY;
	int	 untried = 0, cmp, t;

	x = xcalloc(ncand * nd, sizeof *x);
	a = xcalloc(ncand, sizeof *a);
	for (j = 0; j < ncand; j++) {
		tpe_est_sample(&cx->l, cx->ncats, nd, cx->rng, x + j * nd);
		a[j] = tpe_acq(tpe_est_logpdf(&cx->l, cx->ncats, nd,
		    x + j * nd), tpe_est_logpdf(&cx->g, cx->ncats, nd,
		    x + j * nd));
	}
	for (j = 0; j < ncand; j++) {
		cmp = j == 0 ? 1 : tpe_cmp(a[j], best);
		if (cmp < 0 || (cmp == 0 && untried))
			continue;
		t = !tpe_tried(cx, x + j * nd);
		if (cmp > 0 || t) {
			if (cmp > 0)
				best = a[j];
			pick = j;
			untried = t;
		}
	}
	memcpy(out, x + pick * nd, nd * sizeof *out);
	free(x);
	free(a);
}

static int
tpe_rank_cmp(const void *va, const void *vb)
{
	const struct tpe_rank	*a = va, *b = vb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The scored trials in trial order, and split into the good (l) and the
 * others (g), each in trial order.
 */
static void
tpe_split(struct tpe_ctx *cx, const struct tpe_trial *t, size_t nt,
    const size_t **good, const size_t **bad)
{
	struct tpe_rank	*r;
	char		*below;
	size_t		 i, n = 0, nbelow, ng = 0, nb = 0;

	r = xcalloc(nt, sizeof *r);
	for (i = 0; i < nt; i++)
		if (!isnan(t[i].score)) {
			cx->scored[n] = t[i].choice;
			r[n].score = t[i].score;
			r[n].i = n;
			n++;
		}
	cx->nscored = n;
	qsort(r, n, sizeof *r, tpe_rank_cmp);
	nbelow = (size_t)ceil(cx->par->gamma * (double)n);
	if (nbelow > cx->par->gamma_max)
		nbelow = cx->par->gamma_max;
	if (nbelow > n)
		nbelow = n;
	below = xcalloc(n, 1);
	for (i = 0; i < nbelow; i++)
		below[r[i].i] = 1;
	for (i = 0; i < n; i++)
		if (below[i])
			good[ng++] = cx->scored[i];
		else
			bad[nb++] = cx->scored[i];
	tpe_est_init(&cx->l, good, ng, cx->par->prior_weight);
	tpe_est_init(&cx->g, bad, nb, cx->par->prior_weight);
	free(below);
	free(r);
}

int
tpe_suggest(const struct tpe_params *par, const size_t *ncats, size_t ndims,
    const struct tpe_trial *trials, size_t ntrials, struct rng *rng,
    size_t *out, char **cause)
{
	struct tpe_ctx	  cx;
	const size_t	**good, **bad;
	size_t		  i, d;

	if (tpe_check(par, ncats, ndims, trials, ntrials, cause) == -1)
		return -1;
	if (ndims == 0)
		return 0;
	for (i = 0, d = 0; i < ntrials; i++)
		d += !isnan(trials[i].score);
	if (d < par->startup) {
		for (d = 0; d < ndims; d++)
			out[d] = rng_below(rng, (uint32_t)ncats[d]);
		return 0;
	}
	memset(&cx, 0, sizeof cx);
	cx.par = par;
	cx.ncats = ncats;
	cx.ndims = ndims;
	cx.rng = rng;
	cx.scored = xcalloc(ntrials, sizeof *cx.scored);
	good = xcalloc(ntrials, sizeof *good);
	bad = xcalloc(ntrials, sizeof *bad);
	tpe_split(&cx, trials, ntrials, good, bad);
	if (par->multivariate)
		tpe_suggest_multivariate(&cx, out);
	else
		tpe_suggest_independent(&cx, out);
	free(cx.l.w);
	free(cx.g.w);
	free(good);
	free(bad);
	free(cx.scored);
	return 0;
}
