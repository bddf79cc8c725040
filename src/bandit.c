/*
 * Dueling-bandit selection rules on a finite pool of vectors: APOHF, the
 * linear dueling bandit, double Thompson sampling and random pairs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "hash.h"
#include "nn.h"
#include "rng.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

/* The reference code's floor on U for the linear model. */
#define BANDIT_LINEAR_FLOOR	1e-10
/* Double Thompson sampling: repeated draws before a random second arm. */
#define BANDIT_TS_TRIES		5
/*
 * The synthetic arms: a common direction (weight 5, so that two arms have
 * a cosine of about 0.75, as sentence embeddings of instructions for one
 * task do), a random subspace of rank 8 and a little isotropic noise.
 */
#ifndef BANDIT_SYNTH_MEAN
#define BANDIT_SYNTH_MEAN		5.0
#endif
#define BANDIT_SYNTH_RANK		8
#define BANDIT_SYNTH_HIDDEN	32

static const char *const bandit_method_names[] = {
	"apohf", "linear", "doublets", "random", NULL
};

struct bandit_model {
	struct bandit_opts	 o;
	size_t			 dim;
	struct nn		*init;	/* the initial weights, kept */
	struct nn		*net;	/* apohf and linear */
	struct nn		**members;	/* doublets */
	size_t			 k;
	int			 fitted;
};

const char *
bandit_method_name(enum bandit_method m)
{
	return bandit_method_names[m];
}

int
bandit_method_lookup(const char *name)
{
	int	i;

	for (i = 0; bandit_method_names[i] != NULL; i++)
		if (strcmp(bandit_method_names[i], name) == 0)
			return i;
	return -1;
}

void
bandit_opts_default(struct bandit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->method = BANDIT_APOHF;
	o->hidden = 32;
	o->lambda = 0.1;
	o->nu = 1;
	/*
	 * The whole matrix, as the paper's algorithm has it and as the
	 * reference code's scripts ask for (diagonalize=False), though its
	 * NeuralDBDiag ignores that and always takes the diagonal.  With
	 * the diagonal every coordinate that one duel touches shrinks the
	 * bonus of every arm alike, so after a few duels the bound is
	 * greedy and the same two arms are dueled again and again.
	 */
	o->full = 1;
	o->ensemble = 10;
	nn_opts_default(&o->train);
	o->seed = 0;
}

void
bandit_hist_add(struct bandit_hist *h, uint32_t a, uint32_t b, float y)
{
	h->a = xreallocarray(h->a, h->n + 1, sizeof *h->a);
	h->b = xreallocarray(h->b, h->n + 1, sizeof *h->b);
	h->y = xreallocarray(h->y, h->n + 1, sizeof *h->y);
	h->a[h->n] = a;
	h->b[h->n] = b;
	h->y[h->n] = y;
	h->n++;
}

void
bandit_hist_release(struct bandit_hist *h)
{
	free(h->a);
	free(h->b);
	free(h->y);
	memset(h, 0, sizeof *h);
}

struct bandit_model *
bandit_model_new(const struct bandit_opts *o, size_t dim, char **cause)
{
	struct bandit_model	*m;
	size_t			 hidden, i;

	if (o->method == BANDIT_DOUBLETS && o->ensemble == 0) {
		cause_set(cause, "dueling bandit: an ensemble of 0 networks");
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	m->o = *o;
	m->dim = dim;
	if (o->method == BANDIT_RANDOM)
		return m;
	hidden = o->method == BANDIT_LINEAR ? 0 : o->hidden;
	if ((m->init = nn_new(dim, hidden, o->seed, cause)) == NULL) {
		free(m);
		return NULL;
	}
	if (o->method == BANDIT_DOUBLETS) {
		m->k = o->ensemble;
		m->members = xcalloc(m->k, sizeof *m->members);
		for (i = 0; i < m->k; i++)
			m->members[i] = nn_copy(m->init);
	} else
		m->net = nn_copy(m->init);
	return m;
}

void
bandit_model_free(struct bandit_model *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->k; i++)
		nn_free(m->members[i]);
	free(m->members);
	nn_free(m->net);
	nn_free(m->init);
	free(m);
}

const struct nn *
bandit_model_net(const struct bandit_model *m)
{
	return m->net;
}

/* Resets the networks to the initial weights and fills the fit's input. */
static void
bandit_fit_prepare(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, struct nn_data *d, struct nn_opts *o)
{
	size_t	i, P = m->init->nparams;

	d->dim = pool->dim;
	d->nitems = pool->n;
	d->x = pool->x;
	d->nduels = h->n;
	d->a = h->a;
	d->b = h->b;
	d->y = h->y;
	*o = m->o.train;
	o->weight_decay = 0;
	o->prior_l2 = 0;
	if (m->o.method == BANDIT_APOHF)
		o->weight_decay = m->o.lambda / ((double)h->n + 50);
	if (m->o.method == BANDIT_DOUBLETS) {
		o->prior_l2 = m->o.lambda;
		o->seed = hash_mix(m->o.seed, h->n);
		for (i = 0; i < m->k; i++)
			memcpy(m->members[i]->p, m->init->p, P * sizeof(float));
	} else
		memcpy(m->net->p, m->init->p, P * sizeof(float));
}

void
bandit_fit(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h)
{
	struct nn_data	d;
	struct nn_opts	o;

	if (m->o.method == BANDIT_RANDOM || h->n == 0)
		return;
	bandit_fit_prepare(m, pool, h, &d, &o);
	if (m->o.method == BANDIT_DOUBLETS)
		nn_fit_ensemble(m->members, m->k, m->init, &d, &o);
	else
		nn_fit(m->net, &d, &o);
	m->fitted = 1;
}

struct nn_fit *
bandit_fit_start(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, char **cause)
{
	struct nn_data	d;
	struct nn_opts	o;

	if (m->o.method == BANDIT_RANDOM || h->n == 0)
		return NULL;
	bandit_fit_prepare(m, pool, h, &d, &o);
	if (m->o.method == BANDIT_DOUBLETS)
		return nn_fit_start(m->members, m->k, m->init, &d, &o, cause);
	return nn_fit_start(&m->net, 1, NULL, &d, &o, cause);
}

void
bandit_fit_finish(struct bandit_model *m, struct nn_fit *fit)
{
	if (fit == NULL)
		return;
	if (m->o.method == BANDIT_DOUBLETS)
		nn_fit_join(fit, m->members, m->k);
	else
		nn_fit_join(fit, &m->net, 1);
	m->fitted = 1;
}

static uint32_t
bandit_argmax(const double *v, size_t n, uint32_t skip)
{
	uint32_t	best = UINT32_MAX, i;

	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		if (best == UINT32_MAX || v[i] > v[best])
			best = i;
	}
	return best;
}

/* Two distinct arms at random. */
static void
bandit_random_pair(size_t n, struct rng *rng, uint32_t *a, uint32_t *b)
{
	*a = rng_below(rng, (uint32_t)n);
	*b = rng_below(rng, (uint32_t)n - 1);
	if (*b >= *a)
		(*b)++;
}

/* w' K^-1 w with L the Cholesky factor of K; tmp is n long. */
static double
bandit_quad(const double *L, size_t n, const double *w, double *tmp)
{
	size_t	i, k;
	double	s, q = 0;

	for (i = 0; i < n; i++) {
		s = w[i];
		for (k = 0; k < i; k++)
			s -= L[i * n + k] * tmp[k];
		tmp[i] = s / L[i * n + i];
		q += tmp[i] * tmp[i];
	}
	return q;
}

/*
 * The product of the per-sample gradients of two arms, x and x' (rows of
 * the pool) with tails r and r'.  The first layer's part of a gradient is
 * the outer product of the input and dL/dz1, and dL/dz1 is also the
 * gradient of b1, the first H entries after W1 (see nn.h for the order);
 * so g(x) . g(x') = (x . x')(d1 . d1') + r . r', r being the gradient of
 * every parameter after W1.  That costs in + P - in H instead of P.
 */
static double
bandit_kernel(const float *x, const float *xp, size_t in, const float *r,
    const float *rp, size_t H, size_t R)
{
	return nn_dotd(x, xp, in) * nn_dotd(r, rp, H) +
	    nn_dotd(r, rp, R);
}

/*
 * Distinct pairs dueled beyond which the whole matrix costs too much
 * for the loop (a Cholesky factorization of that order each step): the
 * bound falls back to the diagonal.
 */
#define BANDIT_FULL_MAX	500

struct bandit_pair {
	uint32_t	lo;
	uint32_t	hi;
	size_t		count;
};

static int
bandit_pair_cmp(const void *a, const void *b)
{
	const struct bandit_pair	*x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/*
 * What bandit_ucb_full() works with: the distinct pairs dueled, the anchors
 * (x1 and the arms of those pairs) with their gradients, the kernel
 * between anchors (GA), the matrix K and the scratch of one arm.
 */
struct bandit_full {
	const struct nn		*net;
	const struct bandit_pool	*pool;
	size_t			 in, H, off, R;
	struct bandit_pair	*pr;
	size_t			 np;
	uint32_t		*anchor;	/* an arm's anchor, or none */
	uint32_t		*arm;		/* an anchor's arm */
	size_t			 na;
	float			*g;		/* one gradient */
	float			*ra;		/* the anchors' gradients */
	const float		**xa;		/* the anchors' inputs */
	const float		**rr;		/* and their rows of ra */
	double			*kx, *kh, *kr;	/* bandit_full_row's */
	double			*GA;
	double			*K;
	double			*Gi;		/* an arm against the anchors */
	double			*w;
	double			*tmp;
};

/* The kernel between the anchors of arms p and q. */
static double
bandit_full_ga(const struct bandit_full *f, uint32_t p, uint32_t q)
{
	return f->GA[(size_t)f->anchor[p] * f->na + f->anchor[q]];
}

/* The distinct pairs dueled, each with how often (its weight). */
static size_t
bandit_full_pairs(struct bandit_full *f, const struct bandit_hist *h)
{
	struct bandit_pair	*pr;
	size_t			 nd = h->n, np, t;

	pr = f->pr = xcalloc(nd + 1, sizeof *pr);
	for (t = 0; t < nd; t++) {
		pr[t].lo = h->a[t] < h->b[t] ? h->a[t] : h->b[t];
		pr[t].hi = h->a[t] < h->b[t] ? h->b[t] : h->a[t];
		pr[t].count = 1;
	}
	qsort(pr, nd, sizeof *pr, bandit_pair_cmp);
	for (np = 0, t = 0; t < nd; t++) {
		if (np > 0 && pr[np - 1].lo == pr[t].lo &&
		    pr[np - 1].hi == pr[t].hi)
			pr[np - 1].count++;
		else
			pr[np++] = pr[t];
	}
	return f->np = np;
}

/*
 * The kernel of one arm (input x, gradient past the first layer r)
 * against each of the first n anchors, into out: bandit_kernel() for
 * each, with the products of several anchors taken together.
 */
static void
bandit_full_row(struct bandit_full *f, const float *x, const float *r,
    size_t n, double *out)
{
	size_t	k;

	nn_dotd_rows(x, f->xa, n, f->in, f->kx);
	nn_dotd_rows(r, f->rr, n, f->H, f->kh);
	nn_dotd_rows(r, f->rr, n, f->R, f->kr);
	for (k = 0; k < n; k++)
		out[k] = f->kx[k] * f->kh[k] + f->kr[k];
}

/*
 * The anchors, x1 first, with their gradients past the first layer and
 * the kernel between every two of them.
 */
static void
bandit_full_anchors(struct bandit_full *f, uint32_t x1)
{
	const struct bandit_pool	*pool = f->pool;
	size_t			 in = f->in, R = f->R, na = 0, i, k, t;

	f->anchor = xcalloc(pool->n, sizeof *f->anchor);
	f->arm = xcalloc(2 * f->np + 1, sizeof *f->arm);
	for (i = 0; i < pool->n; i++)
		f->anchor[i] = UINT32_MAX;
	f->anchor[x1] = (uint32_t)na;
	f->arm[na++] = x1;
	for (t = 0; t < f->np; t++) {
		if (f->anchor[f->pr[t].lo] == UINT32_MAX) {
			f->anchor[f->pr[t].lo] = (uint32_t)na;
			f->arm[na++] = f->pr[t].lo;
		}
		if (f->anchor[f->pr[t].hi] == UINT32_MAX) {
			f->anchor[f->pr[t].hi] = (uint32_t)na;
			f->arm[na++] = f->pr[t].hi;
		}
	}
	f->na = na;
	f->g = xcalloc(f->net->nparams, sizeof *f->g);
	f->ra = xcalloc(na * R, sizeof *f->ra);
	f->xa = xcalloc(na, sizeof *f->xa);
	f->rr = xcalloc(na, sizeof *f->rr);
	f->kx = xcalloc(na, sizeof *f->kx);
	f->kh = xcalloc(na, sizeof *f->kh);
	f->kr = xcalloc(na, sizeof *f->kr);
	for (k = 0; k < na; k++) {
		f->xa[k] = pool->x + (size_t)f->arm[k] * in;
		f->rr[k] = f->ra + k * R;
		nn_grad(f->net, f->xa[k], f->g);
		memcpy(f->ra + k * R, f->g + f->off, R * sizeof *f->ra);
	}
	f->GA = xcalloc(na * na, sizeof *f->GA);
	for (i = 0; i < na; i++) {
		bandit_full_row(f, f->xa[i], f->rr[i], i + 1, f->GA + i * na);
		for (k = 0; k < i; k++)
			f->GA[k * na + i] = f->GA[i * na + k];
	}
}

/* K = lambda I + Phi Phi': a pair dueled c times is one row by sqrt(c). */
static void
bandit_full_k(struct bandit_full *f, double lambda)
{
	const struct bandit_pair	*pr = f->pr;
	size_t			 np = f->np, i, t;

	f->K = xcalloc(np * np + 1, sizeof *f->K);
	for (i = 0; i < np; i++)
		for (t = 0; t <= i; t++) {
			f->K[i * np + t] = sqrt((double)pr[i].count *
			    pr[t].count) * (bandit_full_ga(f, pr[i].lo,
			    pr[t].lo) - bandit_full_ga(f, pr[i].lo, pr[t].hi) -
			    bandit_full_ga(f, pr[i].hi, pr[t].lo) +
			    bandit_full_ga(f, pr[i].hi, pr[t].hi)) +
			    (i == t ? lambda : 0);
			f->K[t * np + i] = f->K[i * np + t];
		}
}

/* e' U^-1 e for arm i against x1, with K already factored. */
static double
bandit_full_var(struct bandit_full *f, size_t i, uint32_t x1, double lambda)
{
	const struct bandit_pool	*pool = f->pool;
	const struct bandit_pair	*pr = f->pr;
	size_t			 in = f->in, off = f->off, k, t;
	double			 s, q;

	nn_grad(f->net, pool->x + i * in, f->g);
	bandit_full_row(f, pool->x + i * in, f->g + off, f->na, f->Gi);
	if ((k = f->anchor[i]) != UINT32_MAX)
		f->Gi[k] = f->GA[k * f->na + k];
	s = bandit_kernel(pool->x + i * in, pool->x + i * in, in,
	    f->g + off, f->g + off, f->H, f->R) - 2 * f->Gi[0] + f->GA[0];
	for (t = 0; t < f->np; t++)
		f->w[t] = sqrt((double)pr[t].count) *
		    (f->Gi[f->anchor[pr[t].lo]] -
		    bandit_full_ga(f, pr[t].lo, x1) -
		    f->Gi[f->anchor[pr[t].hi]] +
		    bandit_full_ga(f, pr[t].hi, x1));
	q = f->np > 0 ? bandit_quad(f->K, f->np, f->w, f->tmp) : 0;
	return (s - q) / lambda;
}

/*
 * The bound with the whole matrix U = lambda I + Phi' Phi (Phi: one row
 * per distinct pair dueled, phi = g(lo) - g(hi) scaled by the square root
 * of how often it was dueled: the same sum as one row per duel) of the
 * MLP, through the kernel above and Woodbury: with K = lambda I + Phi
 * Phi', e = g(x) - g(x1) and w = Phi e, e' U^-1 e = (e' e - w' K^-1 w) /
 * lambda.  Every product needed is one of two arms' gradients: those of
 * the arms in the duels and x1 (the anchors) with each other and with
 * every arm.  A step costs the cube of the distinct pairs (at most the
 * duels), so past BANDIT_FULL_MAX of them it returns -1, leaving out alone,
 * and the caller takes the diagonal; also if K is not positive definite
 * (it cannot be with lambda > 0).
 */
static int
bandit_ucb_full(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, uint32_t x1, const double *mu, double *out)
{
	struct bandit_full	 f;
	size_t			 i;
	double			 s;
	int			 rc = -1;

	memset(&f, 0, sizeof f);
	f.net = m->net;
	f.pool = pool;
	f.in = pool->dim;
	f.H = m->net->hidden;
	f.off = f.in * f.H;
	f.R = m->net->nparams - f.off;
	if (bandit_full_pairs(&f, h) > BANDIT_FULL_MAX) {
		free(f.pr);
		return -1;
	}
	bandit_full_anchors(&f, x1);
	bandit_full_k(&f, m->o.lambda);
	f.Gi = xcalloc(f.na, sizeof *f.Gi);
	f.w = xcalloc(f.np + 1, sizeof *f.w);
	f.tmp = xcalloc(f.np + 1, sizeof *f.tmp);
	if (stats_cholesky(f.K, f.np) != 0)
		goto out;
	for (i = 0; i < pool->n; i++) {
		if (i == x1) {
			out[i] = mu[i];
			continue;
		}
		s = bandit_full_var(&f, i, x1, m->o.lambda);
		out[i] = mu[i] + sqrt(m->o.nu * (s > 0 ? s : 0));
	}
	rc = 0;
out:
	free(f.pr);
	free(f.anchor);
	free(f.arm);
	free(f.g);
	free(f.ra);
	free(f.xa);
	free(f.rr);
	free(f.kx);
	free(f.kh);
	free(f.kr);
	free(f.GA);
	free(f.Gi);
	free(f.K);
	free(f.w);
	free(f.tmp);
	return rc;
}

void
bandit_ucb(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, uint32_t x1, double *out)
{
	const struct nn	*net = m->net;
	size_t		 P = net->nparams, i, j, t, nd = h->n;
	float		*g1, *ga, *gb, *U;
	double		*mu, s, e;

	mu = xcalloc(pool->n, sizeof *mu);
	nn_forward_many(net, pool->x, pool->n, mu);
	if (m->o.full && m->o.method == BANDIT_APOHF && net->hidden > 0 &&
	    bandit_ucb_full(m, pool, h, x1, mu, out) == 0) {
		free(mu);
		return;
	}
	/*
	 * The diagonal of U, as the reference code's NeuralDBDiag and
	 * LinearDBDiag compute it (whatever their diagonalize argument).
	 */
	g1 = xcalloc(P, sizeof *g1);
	ga = xcalloc(P, sizeof *ga);
	gb = xcalloc(P, sizeof *gb);
	nn_grad(net, pool->x + (size_t)x1 * pool->dim, g1);
	U = xcalloc(P, sizeof *U);
	for (j = 0; j < P; j++)
		U[j] = m->o.method == BANDIT_LINEAR ? 0 : (float)m->o.lambda;
	/* The features of the past duels at the current weights. */
	for (t = 0; t < nd; t++) {
		nn_grad(net, pool->x + (size_t)h->a[t] * pool->dim, ga);
		nn_grad(net, pool->x + (size_t)h->b[t] * pool->dim, gb);
		for (j = 0; j < P; j++) {
			ga[j] -= gb[j];
			U[j] += ga[j] * ga[j];
		}
	}
	if (m->o.method == BANDIT_LINEAR)
		for (j = 0; j < P; j++)
			U[j] += (float)BANDIT_LINEAR_FLOOR;
	/* From here on U holds 1 / U: a product per arm and parameter. */
	for (j = 0; j < P; j++)
		U[j] = 1 / U[j];
	for (i = 0; i < pool->n; i++) {
		nn_grad(net, pool->x + i * pool->dim, ga);
		s = 0;
		for (j = 0; j < P; j++) {
			e = (double)ga[j] - g1[j];
			s += e * e * U[j];
		}
		out[i] = mu[i] + sqrt(m->o.nu * (s > 0 ? s : 0));
	}
	free(mu);
	free(g1);
	free(ga);
	free(gb);
	free(U);
}

/* The argmax of one ensemble member over the arms (or those in only). */
static uint32_t
bandit_member_best(const struct nn *net, const struct bandit_pool *pool,
    const uint8_t *only)
{
	double		*mu;
	uint32_t	 best = UINT32_MAX, i;

	mu = xcalloc(pool->n, sizeof *mu);
	nn_forward_many(net, pool->x, pool->n, mu);
	for (i = 0; i < pool->n; i++) {
		if (only != NULL && !only[i])
			continue;
		if (best == UINT32_MAX || mu[i] > mu[best])
			best = i;
	}
	free(mu);
	return best;
}

void
bandit_select(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, struct rng *rng, uint32_t *a, uint32_t *b)
{
	double		*mu, *ucb;
	uint32_t	 arm, got[2] = { 0, 0 };
	size_t		 n = 0;
	int		 tries = 0;

	if (m->o.method == BANDIT_RANDOM || !m->fitted) {
		bandit_random_pair(pool->n, rng, a, b);
		return;
	}
	if (m->o.method == BANDIT_DOUBLETS) {
		/* Draw members until two different arms come up. */
		while (n < 2) {
			arm = bandit_member_best(m->members[rng_below(rng,
			    (uint32_t)m->k)], pool, NULL);
			if (n == 0 || arm != got[0])
				got[n++] = arm;
			else if (++tries > BANDIT_TS_TRIES) {
				arm = rng_below(rng, (uint32_t)pool->n - 1);
				got[n++] = arm >= got[0] ? arm + 1 : arm;
			}
		}
		*a = got[0];
		*b = got[1];
		return;
	}
	mu = xcalloc(pool->n, sizeof *mu);
	ucb = xcalloc(pool->n, sizeof *ucb);
	nn_forward_many(m->net, pool->x, pool->n, mu);
	*a = bandit_argmax(mu, pool->n, UINT32_MAX);
	bandit_ucb(m, pool, h, *a, ucb);
	*b = bandit_argmax(ucb, pool->n, UINT32_MAX);
	if (*b == *a)
		*b = bandit_argmax(ucb, pool->n, *a);
	free(mu);
	free(ucb);
}

uint32_t
bandit_recommend(struct bandit_model *m, const struct bandit_pool *pool,
    const struct bandit_hist *h, struct rng *rng)
{
	const struct nn	*net;
	uint8_t		*seen = NULL;
	uint32_t	 best;
	size_t		 t;

	if (h->n == 0)
		return 0;
	if (m->o.method == BANDIT_RANDOM || !m->fitted) {
		t = h->n - 1;
		return h->y[t] >= 0.5f ? h->a[t] : h->b[t];
	}
	seen = xcalloc(pool->n, sizeof *seen);
	for (t = 0; t < h->n; t++)
		seen[h->a[t]] = seen[h->b[t]] = 1;
	net = m->o.method == BANDIT_DOUBLETS ?
	    m->members[rng_below(rng, (uint32_t)m->k)] : m->net;
	best = bandit_member_best(net, pool, seen);
	free(seen);
	return best;
}

float
bandit_sim_prefer(double u1, double u2, double tau, struct rng *rng)
{
	double	p = 1 / (1 + exp(-(u1 - u2) / tau));

	return rng_uniform(rng) < p ? 1.0f : 0.0f;
}

void
bandit_normalize(float *v, size_t dim)
{
	double	s = 0;
	size_t	i;

	for (i = 0; i < dim; i++)
		s += (double)v[i] * v[i];
	if (s == 0)
		return;
	s = sqrt(s);
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] / s);
}

void
bandit_synth(size_t n, size_t dim, uint64_t seed, float **xp, double **up)
{
	struct rng	 rng;
	struct nn	*teacher;
	float		*basis, *x;
	double		*u, z, mean = 0, var = 0, sd;
	size_t		 i, r, j;

	rng_seed(&rng, seed, 0x5e);
	basis = xcalloc((BANDIT_SYNTH_RANK + 1) * dim, sizeof *basis);
	for (r = 0; r <= BANDIT_SYNTH_RANK; r++) {
		for (j = 0; j < dim; j++)
			basis[r * dim + j] = (float)rng_normal(&rng);
		bandit_normalize(basis + r * dim, dim);
	}
	x = xcalloc(n * dim, sizeof *x);
	for (i = 0; i < n; i++) {
		for (j = 0; j < dim; j++)
			x[i * dim + j] = (float)(rng_normal(&rng) /
			    sqrt((double)dim) + BANDIT_SYNTH_MEAN *
			    basis[BANDIT_SYNTH_RANK * dim + j]);
		for (r = 0; r < BANDIT_SYNTH_RANK; r++) {
			z = rng_normal(&rng);
			for (j = 0; j < dim; j++)
				x[i * dim + j] += (float)(z *
				    basis[r * dim + j]);
		}
		bandit_normalize(x + i * dim, dim);
	}
	teacher = nn_new(dim, BANDIT_SYNTH_HIDDEN, hash_mix(seed, 0x7e),
	    NULL);
	u = xcalloc(n, sizeof *u);
	nn_forward_many(teacher, x, n, u);
	nn_free(teacher);
	for (i = 0; i < n; i++)
		mean += u[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		var += (u[i] - mean) * (u[i] - mean);
	sd = n > 1 ? sqrt(var / (double)(n - 1)) : 1;
	for (i = 0; i < n; i++)
		u[i] = sd > 0 ? (u[i] - mean) / sd : 0;
	free(basis);
	*xp = x;
	*up = u;
}
