/*
 * bench/apohf: the synthetic setting of the dueling-bandit strategy.
 * Each seed draws a pool of P unit vectors in D dimensions (near a random
 * subspace of rank 8) with a latent utility from a fixed random teacher
 * network, standardized; a simulated user prefers the first of two arms
 * with probability sigmoid((u1 - u2) / tau).  Each method gets 5 random
 * duels to start (as in the reference code) and then chooses its own,
 * up to R duels, refitting after every duel.  Prints, for each method,
 * the mean and standard deviation over the seeds of the best latent
 * utility recommended so far after 25, 50, 100 and R duels (in standard
 * deviations of the pool; the pool's best is shown for reference), the
 * utility of the final recommendation, the share of seeds whose best so
 * far is within 5% of the pool's best (on the pool's range), and the time
 * per run: wall-clock and the CPU time of its thread (which a busy
 * machine does not stretch).  Runs go in parallel on J threads.  By hand:
 *
 *	make bench && bench/bench_apohf [-s SEEDS] [-r ROUNDS] [-p POOL]
 *	    [-d DIM] [-j THREADS] [-m METHOD] [-t TAU] [-f | -D]
 *
 * APOHF's bound uses the whole matrix U by default (-f, kept for old
 * command lines); -D takes its diagonal instead, as the reference code's
 * NeuralDBDiag does.
 */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bandit.h"
#include "rng.h"
#include "util.h"
#include "xmalloc.h"

#define NINIT		5
#define NCHECK		4

static size_t	seeds = 20, rounds = 150, pool_n = 200, dim = 768;
static double	tau = 0.1;
static int	full = -1;

struct result {
	double	best[NCHECK];	/* best utility recommended so far */
	double	now;		/* the final recommendation's */
	double	top;		/* the pool's best */
	double	gap;		/* of the best so far, on the pool range */
	double	seconds;
	double	cpu;		/* of the run's thread */
};

struct work {
	enum bandit_method method;
	size_t		 seed;
	struct result	 res;
};

static size_t	checks[NCHECK] = { 25, 50, 100, 150 };

static void
run_one(struct work *w)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	struct rng		 rng;
	float			*x;
	double			*u, best = -INFINITY, lo = INFINITY, t0, c0;
	uint32_t		 a, b, r;
	size_t			 i, c = 0;
	float			 y;

	bandit_synth(pool_n, dim, w->seed, &x, &u);
	pool.n = pool_n;
	pool.dim = dim;
	pool.x = x;
	memset(&h, 0, sizeof h);
	bandit_opts_default(&o);
	o.method = w->method;
	if (full >= 0)
		o.full = full;
	o.seed = w->seed;
	m = bandit_model_new(&o, dim, NULL);
	rng_seed(&rng, w->seed, 0xbe);
	w->res.top = -INFINITY;
	for (i = 0; i < pool_n; i++) {
		w->res.top = fmax(w->res.top, u[i]);
		lo = fmin(lo, u[i]);
	}
	t0 = time_mono();
	c0 = time_cpu(1);
	for (i = 0; i < NINIT; i++) {
		bandit_select(m, &pool, &h, &rng, &a, &b);
		bandit_hist_add(&h, a, b, bandit_sim_prefer(u[a], u[b], tau,
		    &rng));
	}
	bandit_fit(m, &pool, &h);
	while (h.n < rounds) {
		bandit_select(m, &pool, &h, &rng, &a, &b);
		y = bandit_sim_prefer(u[a], u[b], tau, &rng);
		bandit_hist_add(&h, a, b, y);
		r = bandit_recommend(m, &pool, &h, &rng);
		best = fmax(best, u[r]);
		w->res.now = u[r];
		while (c < NCHECK && checks[c] <= h.n)
			if (checks[c++] == h.n)
				w->res.best[c - 1] = best;
		if (h.n < rounds)
			bandit_fit(m, &pool, &h);
	}
	for (; c < NCHECK; c++)
		w->res.best[c] = best;
	w->res.seconds = time_mono() - t0;
	w->res.cpu = time_cpu(1) - c0;
	w->res.gap = (w->res.top - best) / (w->res.top - lo);
	bandit_model_free(m);
	bandit_hist_release(&h);
	free(x);
	free(u);
}

static struct work	*works;
static size_t		 nworks, next_work;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;

static void *
worker(void *arg)
{
	size_t	i;

	for (;;) {
		pthread_mutex_lock(&lock);
		i = next_work++;
		pthread_mutex_unlock(&lock);
		if (i >= nworks)
			return NULL;
		run_one(&works[i]);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_apohf [-Df] [-d dim] [-j threads] "
	    "[-m method] [-p pool] [-r rounds] [-s seeds] [-t tau]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	pthread_t	*th;
	const char	*only = NULL;
	double		 mean, sd, v, top, sec, cpu, wall;
	size_t		 nthreads = 2, i, s, c, within;
	int		 ch, mth, nm = 0, methods[4];

	while ((ch = getopt(argc, argv, "Dd:fj:m:p:r:s:t:")) != -1) {
		switch (ch) {
		case 'D':
			full = 0;
			break;
		case 'd':
			dim = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			full = 1;
			break;
		case 'j':
			nthreads = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			only = optarg;
			break;
		case 'p':
			pool_n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seeds = strtoul(optarg, NULL, 10);
			break;
		case 't':
			tau = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (dim == 0 || pool_n < 2 || rounds <= NINIT || seeds == 0 ||
	    nthreads == 0 || !(tau > 0))
		usage();
	checks[NCHECK - 1] = rounds;
	for (c = 0; c + 1 < NCHECK; c++)
		if (checks[c] > rounds)
			checks[c] = rounds;
	if (only != NULL) {
		if ((mth = bandit_method_lookup(only)) < 0)
			usage();
		methods[nm++] = mth;
	} else {
		methods[nm++] = BANDIT_APOHF;
		methods[nm++] = BANDIT_LINEAR;
		methods[nm++] = BANDIT_DOUBLETS;
		methods[nm++] = BANDIT_RANDOM;
	}
	nworks = (size_t)nm * seeds;
	works = xcalloc(nworks, sizeof *works);
	for (i = 0; i < nworks; i++) {
		works[i].method = (enum bandit_method)methods[i / seeds];
		works[i].seed = i % seeds + 1;
	}
	printf("pool %zu x %zu, %zu duels (%d random first), %zu seeds, "
	    "tau %g%s, %zu threads\n", pool_n, dim, rounds, NINIT, seeds, tau,
	    full == 0 ? ", diagonal U" : "", nthreads);
	wall = time_mono();
	th = xcalloc(nthreads, sizeof *th);
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	wall = time_mono() - wall;

	top = 0;
	for (s = 0; s < seeds; s++)
		top += works[s].res.top;
	printf("best latent utility recommended so far (mean +- sd over "
	    "seeds; pool best %.3f on average)\n", top / (double)seeds);
	printf("%-9s", "method");
	for (c = 0; c < NCHECK; c++)
		printf("   after %3zu    ", checks[c]);
	printf("    final      within5%%  s/run  cpu/run\n");
	for (mth = 0; mth < nm; mth++) {
		struct work	*w = works + (size_t)mth * seeds;

		printf("%-9s", bandit_method_name(w->method));
		for (c = 0; c < NCHECK; c++) {
			mean = sd = 0;
			for (s = 0; s < seeds; s++)
				mean += w[s].res.best[c];
			mean /= (double)seeds;
			for (s = 0; s < seeds; s++) {
				v = w[s].res.best[c] - mean;
				sd += v * v;
			}
			sd = seeds > 1 ? sqrt(sd / (double)(seeds - 1)) : 0;
			printf("  %6.3f +- %5.3f", mean, sd);
		}
		mean = sd = 0;
		for (s = 0; s < seeds; s++)
			mean += w[s].res.now;
		mean /= (double)seeds;
		for (s = 0; s < seeds; s++) {
			v = w[s].res.now - mean;
			sd += v * v;
		}
		sd = seeds > 1 ? sqrt(sd / (double)(seeds - 1)) : 0;
		printf("  %6.3f +- %5.3f", mean, sd);
		within = 0;
		sec = cpu = 0;
		for (s = 0; s < seeds; s++) {
			within += w[s].res.gap <= 0.05;
			sec += w[s].res.seconds;
			cpu += w[s].res.cpu;
		}
		printf("  %3zu/%-3zu %6.2f %8.2f\n", within, seeds,
		    sec / (double)seeds, cpu / (double)seeds);
	}
	printf("wall %.1f s\n", wall);
	free(th);
	free(works);
	return 0;
}
