/*
 * A learned score predictor: the model of the surrogate filter (PROMST,
 * Chen et al., "PRompt Optimization in Multi-Step Tasks", 2024), which
 * predicts a prompt's dev score from its embedding so that only the
 * proposals predicted best need be scored.
 *
 * The model is ridge regression with an intercept, y = b + w . x, fitted
 * in closed form in its dual (kernel) form: with the rows of X centered,
 * K = X X' and alpha = (K + lambda I)^-1 (y - mean(y)) by Cholesky, and
 * f(x) = mean(y) + sum_i alpha_i (x_i - mean(x)) . (x - mean(x)), which
 * is the primal ridge solution without forming a dim x dim matrix (the
 * embeddings have hundreds of dimensions, the fits tens of rows).
 * lambda is chosen from a fixed grid, scaled by the mean of K's
 * diagonal, by the exact leave-one-out error of each (residual_i /
 * ((K + lambda I)^-1)_ii); the smallest error wins, the smaller lambda
 * among equals.
 *
 * Nothing here is random and nothing depends on the order of the rows
 * beyond the rounding of sums, so the same rows give the same model.
 * The module has no model calls, no store and no globals.
 */
#ifndef SURROGATE_H
#define SURROGATE_H

#include <stddef.h>
#include <stdint.h>

struct surrogate;

/*
 * Fits the model to n rows: x (n x dim floats, row-major) and their
 * scores y (borrowed; copied as needed).  Returns NULL when n is 0, dim
 * is 0 or a value is not finite.  One row, or rows that are all the
 * same vector, give a model that predicts their mean score.
 */
struct surrogate	*surrogate_fit(const float *x, const double *y,
			    size_t n, size_t dim);
void			 surrogate_free(struct surrogate *);

/* The predicted score of embedding x (dim floats, as fitted). */
double			 surrogate_predict(const struct surrogate *,
			    const float *x);

/* The lambda chosen, and its leave-one-out root mean squared error. */
double			 surrogate_lambda(const struct surrogate *);
double			 surrogate_loo(const struct surrogate *);

/*
 * The ranking of n predictions: order[k] is the index of the k-th best,
 * highest prediction first (NAN last), equal ones by ids[] ascending.
 */
void			 surrogate_rank(const double *pred, const int64_t *ids,
			    size_t n, size_t *order);

#endif
