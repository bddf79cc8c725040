/* Deterministic random streams. */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

/*
 * Deterministic random streams (xoshiro256**).  A stream is named by a
 * seed and a stream number, so (job seed, step) gives the same numbers
 * after a restart.
 */
struct rng {
	uint64_t	s[4];
};
void	 rng_seed(struct rng *, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *);
double	 rng_uniform(struct rng *);		/* [0, 1) */
uint32_t rng_below(struct rng *, uint32_t);	/* [0, n), n > 0 */
double	 rng_normal(struct rng *);		/* mean 0, sd 1 */

#endif
