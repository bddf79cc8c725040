/*
 * Dueling bandits on a finite pool of vectors (the arms): which two arms
 * to compare next and which arm to recommend, from the preferences seen
 * so far.  The rules are those of APOHF (Lin et al., "Prompt Optimization
 * with Human Feedback", 2024, and its public code) and of its baselines:
 *
 *	apohf	an MLP fitted to the duels with the Bradley-Terry loss; the
 *		first arm greedy (argmax f), the second by the upper bound
 *		f(x) + sqrt(nu sum_j (g_j(x) - g_j(x1))^2 / U_j) with g the
 *		per-sample gradient and U_j = lambda + sum over the duels
 *		(a, b) of (g_j(a) - g_j(b))^2; the runner-up when the best
 *		bound is the first arm.  With full set (the default, as in
 *		the paper), the bound uses the whole matrix U = lambda I +
 *		sum phi phi' through the Woodbury identity and the gradients'
 *		kernel (a step costs the cube of the distinct pairs dueled;
 *		past 500 of them the diagonal is used); without, its
 *		diagonal, as the reference code's NeuralDBDiag computes.
 *	linear	the same with the linear model f(x) = w . x, whose gradient
 *		is x (U as in the reference code: no lambda, 1e-10 added).
 *	doublets double Thompson sampling: an ensemble of networks fitted
 *		with a penalty towards their common initial weights, one
 *		drawn at random per arm.
 *	random	two distinct arms uniformly at random.
 *
 * The recommendation is the arm the model rates best among those dueled
 * so far (for apohf that is the next first arm); random recommends the
 * winner of the last duel.
 *
 * This module has no model calls, no store and no globals; fitting can
 * run on a worker thread (bandit_fit_start/bandit_fit_finish).
 */
#ifndef BANDIT_H
#define BANDIT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "rng.h"
#include "util.h"

enum bandit_method {
	BANDIT_APOHF,
	BANDIT_LINEAR,
	BANDIT_DOUBLETS,
	BANDIT_RANDOM,
};

/* Names as in job files ("apohf", ...), and back (-1 if unknown). */
const char	*bandit_method_name(enum bandit_method);
int		 bandit_method_lookup(const char *);

struct bandit_opts {
	enum bandit_method method;
	size_t		 hidden;	/* 32 */
	double		 lambda;	/* 0.1 */
	double		 nu;		/* 1 */
	int		 full;		/* the whole matrix U (apohf): 1 */
	size_t		 ensemble;	/* 10 (doublets) */
	struct nn_opts	 train;		/* nn_opts_default() */
	uint64_t	 seed;		/* initial weights and draws */
};

void		 bandit_opts_default(struct bandit_opts *);

/* The arms: n vectors of dim floats (rows of x), borrowed. */
struct bandit_pool {
	size_t		 n;
	size_t		 dim;
	const float	*x;
};

/* The duels so far: arm indices and the preference for a. */
struct bandit_hist {
	size_t		 n;
	uint32_t	*a;
	uint32_t	*b;
	float		*y;	/* 1: a won, 0: b won, 0.5: a tie */
};

void		 bandit_hist_add(struct bandit_hist *, uint32_t a,
		    uint32_t b, float y);
void		 bandit_hist_release(struct bandit_hist *);

struct bandit_model;

/* A model for arms of dim dimensions; NULL with *cause on bad options. */
struct bandit_model *bandit_model_new(const struct bandit_opts *, size_t dim,
		    char **cause);
void		 bandit_model_free(struct bandit_model *);
/* The fitted network of apohf and linear (NULL for the others). */
const struct nn	*bandit_model_net(const struct bandit_model *);

/*
 * Fits the model to the duels from its initial weights (every time from
 * the same ones).  Synchronously, or on a worker thread: start copies
 * what it needs (the pool and history may change at once), finish waits
 * for it and takes the result.  start returns NULL without a fit to do
 * (random, or no duels yet) and sets *cause only when a thread could not
 * be started.
 */
void		 bandit_fit(struct bandit_model *,
		    const struct bandit_pool *, const struct bandit_hist *);
struct nn_fit	*bandit_fit_start(struct bandit_model *,
		    const struct bandit_pool *, const struct bandit_hist *,
		    char **cause);
void		 bandit_fit_finish(struct bandit_model *, struct nn_fit *);

/*
 * The next pair to compare (a != b; the pool must have two arms), drawing
 * from rng where the method is random.  Without a fitted model (before
 * any duel) the pair is random.
 */
void		 bandit_select(struct bandit_model *,
		    const struct bandit_pool *, const struct bandit_hist *,
		    struct rng *, uint32_t *a, uint32_t *b);
/* The arm recommended now. */
uint32_t	 bandit_recommend(struct bandit_model *,
		    const struct bandit_pool *, const struct bandit_hist *,
		    struct rng *);

/*
 * The upper-bound scores f(x) + sigma(x) of every arm against first arm
 * x1 (apohf and linear), into out.  Exposed for the tests.
 */
void		 bandit_ucb(struct bandit_model *,
		    const struct bandit_pool *, const struct bandit_hist *,
		    uint32_t x1, double *out);

/*
 * The simulated user of the paper: 1 (the first preferred) with
 * probability sigmoid((u1 - u2) / tau), else 0.
 */
float		 bandit_sim_prefer(double u1, double u2, double tau,
		    struct rng *);

/*
 * The synthetic world of the benchmark: n unit vectors of dim dimensions
 * around a common direction and near a random subspace of rank 8, and the latent utility of each from
 * a fixed random teacher MLP (hidden 32), standardized to mean 0 and sd
 * 1.  x (n * dim) and u (n) are allocated for the caller.
 */
void		 bandit_synth(size_t n, size_t dim, uint64_t seed,
		    float **x, double **u);

/* L2-normalizes v in place (a zero vector is left as it is). */
void		 bandit_normalize(float *v, size_t dim);

#endif
