/*
 * The small neural networks of the dueling bandits (strategies/duel.c):
 * f(x) = w3 . relu(W2 relu(W1 x + b1) + b2) + b3, an MLP with two hidden
 * layers of the same width, or with hidden width 0 the linear model
 * f(x) = w . x (no bias).  Forward and backward passes and Adam are
 * written by hand, in single precision like the reference code.
 *
 * The parameters are one flat array in this order: W1 as in x hidden
 * (input-major: the hidden weights of input d are contiguous), b1, W2 as
 * hidden x hidden (input-major), b2, w3, b3.  Per-sample gradients use
 * the same order.
 *
 * Fitting: the Bradley-Terry loss, the mean binary cross-entropy of
 * sigmoid(f(a) - f(b)) against y (1: a was preferred, 0: b, 0.5: a tie),
 * full-batch Adam from the network given (the caller keeps its initial
 * weights and fits a copy after every duel).  nn_fit_start() runs a fit
 * on a thread of its own with a private copy of everything it needs, so
 * that the event loop can go on; nn_fit_done(), nn_fit_fd() and
 * nn_fit_join() report back.  Nothing here is global: any number of fits
 * may run at once.
 */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>

struct nn {
	size_t	 in;		/* input dimension */
	size_t	 hidden;	/* 0 (linear) or a multiple of 8 */
	size_t	 nparams;
	float	*p;		/* nparams, in the order above */
};

#define NN_MAX_HIDDEN	256

/*
 * A network with weights drawn from seed: for the MLP every weight and
 * bias is normal(0, 1) (as the reference code initializes it); for the
 * linear model uniform(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default).
 * Returns NULL with *cause for a bad shape.
 */
struct nn	*nn_new(size_t in, size_t hidden, uint64_t seed, char **cause);
struct nn	*nn_copy(const struct nn *);
void		 nn_free(struct nn *);
/* The number of parameters of a shape. */
size_t		 nn_nparams(size_t in, size_t hidden);

/* f(x) of one input, and of n inputs (rows of x) into out. */
double		 nn_forward(const struct nn *, const float *x);
void		 nn_forward_many(const struct nn *, const float *x, size_t n,
		    double *out);
/*
 * The gradient of f(x) with respect to every parameter, flattened, into
 * g (nparams floats).  Returns f(x).
 */
double		 nn_grad(const struct nn *, const float *x, float *g);

/*
 * Training data: items are vectors (rows of x, dim wide); a duel is a
 * pair of item indices and the preference y for the first.  All borrowed.
 */
struct nn_data {
	size_t		 dim;
	size_t		 nitems;
	const float	*x;
	size_t		 nduels;
	const uint32_t	*a;
	const uint32_t	*b;
	const float	*y;
};

struct nn_opts {
	unsigned	 steps;		/* Adam steps (per batch) */
	double		 lr;
	double		 beta1;
	double		 beta2;
	double		 eps;
	/* L2 added to the gradient (PyTorch Adam's weight_decay). */
	double		 weight_decay;
	/*
	 * Ensembles only: lambda of the penalty lambda |theta - theta0|^2
	 * towards the prior network, and the minibatch size.  The penalty
	 * is used as given while there are fewer duels than a batch, and
	 * scaled by batch / nduels after.
	 */
	double		 prior_l2;
	unsigned	 batch;
	uint64_t	 seed;		/* ensembles: which member trains */
};

/* lr 1e-3, betas 0.9 and 0.999, eps 1e-8, 1000 steps, batch 32. */
void		 nn_opts_default(struct nn_opts *);

/*
 * Fits net in place on data with full-batch Adam (fresh Adam state).
 * Returns the loss at the last step (before its update), or NAN without
 * duels (then net is left as it is).
 */
double		 nn_fit(struct nn *, const struct nn_data *,
		    const struct nn_opts *);

/*
 * The ensemble fit of double Thompson sampling: k members, each with its
 * own Adam state.  Each step takes one minibatch (all duels while there
 * are fewer than opts->batch; else nduels / batch consecutive blocks, the
 * last taking the rest) and trains one member drawn at random on it, with
 * the penalty towards prior.  Returns the last loss, or NAN.
 */
double		 nn_fit_ensemble(struct nn *const *, size_t k,
		    const struct nn *prior, const struct nn_data *,
		    const struct nn_opts *);

/*
 * The same on a worker thread.  nn_fit_start() copies the networks, the
 * prior (may be NULL: then k must be 1 and the full-batch fit is used)
 * and the data, so the caller may change or free its own at once.
 * Returns NULL with *cause if the thread cannot be started.
 */
struct nn_fit;
struct nn_fit	*nn_fit_start(struct nn *const *, size_t k,
		    const struct nn *prior, const struct nn_data *,
		    const struct nn_opts *, char **cause);
/* Whether the fit has finished (never blocks). */
int		 nn_fit_done(struct nn_fit *);
/* A descriptor that becomes readable when the fit has finished. */
int		 nn_fit_fd(const struct nn_fit *);
/*
 * Waits for the fit, copies the fitted parameters into the k networks
 * given (same shapes as those started with) and frees the fit.  Returns
 * the last loss (NAN without duels).
 */
double		 nn_fit_join(struct nn_fit *, struct nn *const *, size_t k);

/* The dot product of two float vectors (summed in double at the end). */
double		 nn_dotf(const float *, const float *, size_t n);
/* The same with every product and sum in double. */
double		 nn_dotd(const float *, const float *, size_t n);
/*
 * nn_dotd(a, rows[k], n) for each of nrows rows into out, the same
 * doubles, several rows at a time.
 */
void		 nn_dotd_rows(const float *a, const float *const *rows,
		    size_t nrows, size_t n, double *out);

/*
 * One Adam step on params from grad (both n long), with moment buffers
 * m and v and t the step number starting at 1, PyTorch's formulation
 * (weight decay added to the gradient).  Exposed for the tests.
 */
void		 nn_adam(float *params, const float *grad, float *m, float *v,
		    size_t n, unsigned t, const struct nn_opts *);

#endif
