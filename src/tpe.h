/*
 * Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for
 * Hyper-Parameter Optimization", 2011) over categorical choices, as
 * Optuna's TPESampler does it for categorical parameters: which
 * combination (one category per dimension: an instruction, a set of
 * demos ...) to try next, from the scores of those tried so far.
 *
 * It is stateless: a suggestion is a function of the parameters, the
 * trials and the random stream alone, so a checkpoint need store only the
 * trials, and the same trials and stream give the same suggestion.
 *
 * Until startup trials are scored a suggestion is uniform at random.
 * Then the scored trials are split into the good (the n_below best,
 * n_below = min(ceil(gamma n), gamma_max), Optuna's default_gamma; ties
 * go to the earlier trial) and the others.  Each set gives a density, l
 * from the good and g from the others: a mixture of one kernel per trial
 * and a prior kernel (uniform), the trials weighted by Optuna's
 * default_weights (in the order of the trials: 1 for the latest 25, a
 * ramp from 1/n up to 1 for the older ones) and the prior by
 * prior_weight.  A trial's kernel puts 1 + prior_weight / (n + 1) on its
 * own category and prior_weight / (n + 1) on each of the others
 * (normalized; n the trials of its set).  candidates samples are drawn
 * from l and the one with the largest log l(x) - log g(x) is suggested.
 *
 *	multivariate (1, the default here; Optuna's multivariate=True,
 *		as DSPy's MIPROv2 runs it): a kernel is the product of its
 *		dimensions, so l and g are joint and see which categories
 *		go well together; candidates are whole combinations.
 *	independent (0, Optuna's own default): l and g are taken per
 *		dimension (the kernels' marginals) and each dimension
 *		draws its own candidates and takes its own best, as Optuna
 *		samples each parameter on its own.  It cannot see that two
 *		categories go well together, and it tends to suggest the
 *		best trial's categories again and again while they lead
 *		(bench/bench_tpe: fewer trials than random search to the
 *		optimum of a separable function, but more than the
 *		multivariate mode, and more than random on a needle).
 *
 * When several candidates have the best value (equal to 1e-9, relative)
 * one that no scored trial has tried is taken if there is one (the first
 * in the order drawn; in the independent mode the first of the best
 * categories' combinations, at most TPE_TIES_MAX of them looked at), so a
 * tie does not repeat a combination for nothing.  A combination that is
 * strictly the best is suggested even if it was tried: scores measured
 * on a minibatch are noisy, and a second measure is worth its price.
 *
 * No model calls, no store, no globals; the caller owns every array.
 */
#ifndef TPE_H
#define TPE_H

#include <stddef.h>

#include "rng.h"

#define TPE_TIES_MAX	256

/* One trial: its choice (choice[ndims]) and its score, higher better. */
struct tpe_trial {
	const size_t	*choice;	/* may be NULL when score is NAN */
	double		 score;		/* NAN: failed, ignored */
};

struct tpe_params {
	double	gamma;		/* share of the trials that are good: 0.1 */
	size_t	gamma_max;	/* at most this many good: 25 */
	size_t	startup;	/* random until this many scored: 10 */
	size_t	candidates;	/* samples drawn from l: 24 */
	double	prior_weight;	/* the prior kernel's weight: 1.0 */
	int	multivariate;	/* joint kernels (1) or per dimension (0): 1 */
};

/* Optuna's defaults (above), but multivariate. */
void	tpe_params_default(struct tpe_params *);

/*
 * Suggests the next choice, out[ndims] (out[d] < ncats[d]), from the
 * ntrials trials so far, with random numbers from rng; ncats[d] is the
 * number of categories of dimension d.  Returns 0, or -1 with *cause set
 * when the parameters are out of range (gamma in (0, 1], candidates at
 * least 1, prior_weight finite and not negative), a dimension has no
 * categories (or more than 2^32 - 1), or a scored trial's choice is out
 * of its dimension's range; out is then left as it was.  Borrows
 * everything.
 */
int	tpe_suggest(const struct tpe_params *, const size_t *ncats,
	    size_t ndims, const struct tpe_trial *trials, size_t ntrials,
	    struct rng *, size_t *out, char **cause);

#endif
