/* xoshiro256** random streams seeded by (seed, stream). */
#include <math.h>

#include "hash.h"
#include "rng.h"
#include "util.h"

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t	z = hash_mix(seed, stream);
	int		i;

	for (i = 0; i < 4; i++) {
		z += 0x9e3779b97f4a7c15ULL;
		r->s[i] = hash_mix(z, (uint64_t)i);
	}
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t	result = rotl(r->s[1] * 5, 7) * 9;
	uint64_t	t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

double
rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t
rng_below(struct rng *r, uint32_t n)
{
	/* Lemire's nearly divisionless method, with rejection. */
	uint64_t	m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
	uint32_t	l = (uint32_t)m, t;

	if (l < n) {
		t = -n % n;
		while (l < t) {
			m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
			l = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

double
rng_normal(struct rng *r)
{
	double	u, v;

	do
		u = rng_uniform(r);
	while (u <= 0.0);
	v = rng_uniform(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}
