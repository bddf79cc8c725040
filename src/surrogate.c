/* The surrogate filter's score predictor: ridge regression (surrogate.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "surrogate.h"
#include "xmalloc.h"

/* The lambdas tried, times the mean of K's diagonal. */
static const double surrogate_grid[] = { 1e-3, 1e-2, 1e-1, 1, 10 };

struct surrogate {
	size_t	 n;
	size_t	 dim;
	double	*xc;		/* the rows, centered: n x dim */
	double	*mx;		/* the rows' mean: dim */
	double	 my;		/* the scores' mean */
	double	*alpha;		/* n, or NULL: predict my */
	double	 lambda;
	double	 loo;		/* leave-one-out RMSE */
};

/* K + lambda I in a, factored; 0, or -1 when it is not positive definite. */
static int
surrogate_factor(const double *k, size_t n, double lambda, double *a)
{
	size_t	i;

	memcpy(a, k, n * n * sizeof *a);
	for (i = 0; i < n; i++)
		a[i * n + i] += lambda;
	return stats_cholesky(a, n);
}

/*
 * The leave-one-out sum of squared errors of the fit whose factor is l
 * and dual weights alpha: residual_i = alpha_i / (A^-1)_ii.
 */
static double
surrogate_loo_sse(const double *l, size_t n, const double *alpha,
    double *col)
{
	double	sse = 0, e;
	size_t	i;

	for (i = 0; i < n; i++) {
		memset(col, 0, n * sizeof *col);
		col[i] = 1;
		stats_cholesky_solve(l, n, col);
		e = alpha[i] / col[i];
		sse += e * e;
	}
	return sse;
}

/*
 * Chooses lambda by leave-one-out error and sets m->alpha for it.
 * Returns 0, or -1 when no lambda of the grid could be fitted.
 */
static int
surrogate_solve(struct surrogate *m, const double *k, const double *r,
    double scale)
{
	double	*a, *alpha, *col, sse, best = INFINITY;
	size_t	 n = m->n, g;

	a = xcalloc(n * n, sizeof *a);
	alpha = xcalloc(n, sizeof *alpha);
	col = xcalloc(n, sizeof *col);
	for (g = 0; g < sizeof surrogate_grid / sizeof *surrogate_grid; g++) {
		if (surrogate_factor(k, n, scale * surrogate_grid[g], a) != 0)
			continue;
		memcpy(alpha, r, n * sizeof *alpha);
		stats_cholesky_solve(a, n, alpha);
		sse = surrogate_loo_sse(a, n, alpha, col);
		if (!(sse < best))
			continue;
		best = sse;
		m->lambda = scale * surrogate_grid[g];
		if (m->alpha == NULL)
			m->alpha = xcalloc(n, sizeof *m->alpha);
		memcpy(m->alpha, alpha, n * sizeof *alpha);
	}
	free(a);
	free(alpha);
	free(col);
	if (m->alpha == NULL)
		return -1;
	m->loo = sqrt(best / (double)n);
	return 0;
}

struct surrogate *
surrogate_fit(const float *x, const double *y, size_t n, size_t dim)
{
	struct surrogate	*m;
	double			*k, *r, s, trace = 0;
	size_t			 i, j, d;

	if (n == 0 || dim == 0)
		return NULL;
	for (i = 0; i < n * dim; i++)
		if (!isfinite(x[i]))
			return NULL;
	for (i = 0; i < n; i++)
		if (!isfinite(y[i]))
			return NULL;
	m = xcalloc(1, sizeof *m);
	m->n = n;
	m->dim = dim;
	m->mx = xcalloc(dim, sizeof *m->mx);
	m->xc = xcalloc(n * dim, sizeof *m->xc);
	for (i = 0; i < n; i++) {
		m->my += y[i] / (double)n;
		for (d = 0; d < dim; d++)
			m->mx[d] += (double)x[i * dim + d] / (double)n;
	}
	for (i = 0; i < n * dim; i++)
		m->xc[i] = (double)x[i] - m->mx[i % dim];
	k = xcalloc(n * n, sizeof *k);
	r = xcalloc(n, sizeof *r);
	for (i = 0; i < n; i++) {
		r[i] = y[i] - m->my;
		for (j = 0; j <= i; j++) {
			for (d = 0, s = 0; d < dim; d++)
				s += m->xc[i * dim + d] * m->xc[j * dim + d];
			k[i * n + j] = k[j * n + i] = s;
		}
		trace += k[i * n + i];
	}
	/* All rows the same (or one): nothing to learn but the mean. */
	if (trace / (double)n > 1e-12 && surrogate_solve(m, k, r,
	    trace / (double)n) != 0) {
		free(k);
		free(r);
		surrogate_free(m);
		return NULL;
	}
	free(k);
	free(r);
	return m;
}

void
surrogate_free(struct surrogate *m)
{
	if (m == NULL)
		return;
	free(m->xc);
	free(m->mx);
	free(m->alpha);
	free(m);
}

double
surrogate_predict(const struct surrogate *m, const float *x)
{
	double	*q, f = m->my, s;
	size_t	 i, d;

	if (m->alpha == NULL)
		return f;
	q = xcalloc(m->dim, sizeof *q);
	for (d = 0; d < m->dim; d++)
		q[d] = (double)x[d] - m->mx[d];
	for (i = 0; i < m->n; i++) {
		for (d = 0, s = 0; d < m->dim; d++)
			s += m->xc[i * m->dim + d] * q[d];
		f += m->alpha[i] * s;
	}
	free(q);
	return f;
}

double
surrogate_lambda(const struct surrogate *m)
{
	return m->lambda;
}

double
surrogate_loo(const struct surrogate *m)
{
	return m->loo;
}

struct surrogate_rank_ent {
	double	 pred;
	int64_t	 id;
	size_t	 index;
};

/* Highest first, NAN last; equal ones by id. */
static int
surrogate_rank_cmp(const void *va, const void *vb)
{
	const struct surrogate_rank_ent	*a = va, *b = vb;

	if (isnan(a->pred) != isnan(b->pred))
		return isnan(a->pred) ? 1 : -1;
	if (!isnan(a->pred) && a->pred != b->pred)
		return a->pred > b->pred ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

void
surrogate_rank(const double *pred, const int64_t *ids, size_t n,
    size_t *order)
{
	struct surrogate_rank_ent	*e;
	size_t				 i;

	e = xcalloc(n + 1, sizeof *e);
	for (i = 0; i < n; i++) {
		e[i].pred = pred[i];
		e[i].id = ids[i];
		e[i].index = i;
	}
	qsort(e, n, sizeof *e, surrogate_rank_cmp);
	for (i = 0; i < n; i++)
		order[i] = e[i].index;
	free(e);
}
