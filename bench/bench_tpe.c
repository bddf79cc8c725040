/*
 * bench/tpe: trials to the optimum of small categorical functions, for
 * the TPE of src/tpe.c (tpe-ind: independent; tpe-mv: multivariate,
 * the default) and for random search (uniform, with repeats).  Each seed draws a function's table;
 * a method suggests a combination per trial and sees its score, until it
 * has tried the table's best cell (at most -m trials; a run that never
 * gets there counts as that many, and the share that did is shown).
 * The functions (a cell's value; a[], b[] ... are a permutation of
 * 0..n-1 per dimension, divided by n - 1):
 *
 *	sep	10x10, a[i] + b[j]: separable
 *	inter	10x10, a[i] + b[j] + 0.5 u[i][j], u uniform in [0, 1):
 *		structure with interactions
 *	sep3	5x8x12, a[i] + b[j] + c[k]
 *	noisy	sep, each score seen with Gaussian noise of sd 0.25 (as
 *		a minibatch measures it); the optimum is the table's
 *	needle	10x10, 1 in one cell and 0 elsewhere: no structure to
 *		learn, so TPE cannot beat random here
 *
 * Prints, per function and method, the mean trials to the optimum with
 * its standard error, the median, and the share found.  By hand:
 *
 *	make bench && bench/bench_tpe [-s SEEDS] [-m MAXTRIALS]
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "tpe.h"
#include "util.h"
#include "xmalloc.h"

#define MAXDIMS		3

enum kind { SEP, INTER, NEEDLE };

struct func {
	const char	*name;
	enum kind	 kind;
	size_t		 ndims;
	size_t		 ncats[MAXDIMS];
	double		 noise;
};

static const struct func funcs[] = {
	{ "sep", SEP, 2, { 10, 10 }, 0 },
	{ "inter", INTER, 2, { 10, 10 }, 0 },
	{ "sep3", SEP, 3, { 5, 8, 12 }, 0 },
	{ "noisy", SEP, 2, { 10, 10 }, 0.25 },
	{ "needle", NEEDLE, 2, { 10, 10 }, 0 },
};

static const char *methods[] = { "random", "tpe-ind", "tpe-mv" };

static size_t	seeds = 200, maxtrials = 300;

/* The cell's index in the table of f. */
static size_t
cell(const struct func *f, const size_t *x)
{
	size_t	d, i = 0;

	for (d = 0; d < f->ndims; d++)
		i = i * f->ncats[d] + x[d];
	return i;
}

/* f's table for a seed, and its best cell; returns the number of cells. */
static size_t
table(const struct func *f, uint64_t seed, double **val, size_t *best)
{
	struct rng	 rng;
	double		*perm[MAXDIMS], *v, t;
	size_t		 d, i, j, n = 1, x[MAXDIMS], r;

	rng_seed(&rng, seed, 1);
	for (d = 0; d < f->ndims; d++) {
		n *= f->ncats[d];
		perm[d] = xcalloc(f->ncats[d], sizeof *perm[d]);
		for (i = 0; i < f->ncats[d]; i++)
			perm[d][i] = (double)i / (double)(f->ncats[d] - 1);
		for (i = f->ncats[d] - 1; i > 0; i--) {
			j = rng_below(&rng, (uint32_t)(i + 1));
			t = perm[d][i];
			perm[d][i] = perm[d][j];
			perm[d][j] = t;
		}
	}
	v = xcalloc(n, sizeof *v);
	r = rng_below(&rng, (uint32_t)n);
	for (i = 0; i < n; i++) {
		for (j = i, d = f->ndims; d-- > 0; j /= f->ncats[d])
			x[d] = j % f->ncats[d];
		for (d = 0; f->kind != NEEDLE && d < f->ndims; d++)
			v[i] += perm[d][x[d]];
		if (f->kind == INTER)
			v[i] += 0.5 * rng_uniform(&rng);
		if (f->kind == NEEDLE)
			v[i] = i == r;
	}
	for (*best = 0, i = 1; i < n; i++)
		if (v[i] > v[*best])
			*best = i;
	for (d = 0; d < f->ndims; d++)
		free(perm[d]);
	*val = v;
	return n;
}

/* Trials until method m tries f's best cell (*hit), or maxtrials. */
static size_t
run(const struct func *f, int m, uint64_t seed, int *hit)
{
	struct tpe_params	 par;
	struct tpe_trial	*tr;
	struct rng		 rng, noise;
	size_t			*xs, best, n;
	double			*val;
	char			*cause = NULL;

	table(f, seed, &val, &best);
	tpe_params_default(&par);
	par.multivariate = m == 2;
	if (m == 0)
		par.startup = SIZE_MAX;
	rng_seed(&rng, seed, 2);
	rng_seed(&noise, seed, 3);
	tr = xcalloc(maxtrials, sizeof *tr);
	xs = xcalloc(maxtrials * f->ndims, sizeof *xs);
	for (n = 0; n < maxtrials; n++) {
		if (tpe_suggest(&par, f->ncats, f->ndims, tr, n, &rng,
		    xs + n * f->ndims, &cause) == -1) {
			fprintf(stderr, "bench_tpe: %s\n", cause);
			exit(1);
		}
		tr[n].choice = xs + n * f->ndims;
		tr[n].score = val[cell(f, tr[n].choice)] +
		    f->noise * rng_normal(&noise);
		if (cell(f, tr[n].choice) == best)
			break;
	}
	free(tr);
	free(xs);
	free(val);
	*hit = n < maxtrials;
	return n < maxtrials ? n + 1 : maxtrials;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t	x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_tpe [-m maxtrials] [-s seeds]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	size_t	*t, fi, s, found;
	double	 sum, sq, mean, se;
	int	 ch, m, hit;

	while ((ch = getopt(argc, argv, "m:s:")) != -1) {
		switch (ch) {
		case 'm':
			maxtrials = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seeds = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (seeds < 2 || maxtrials == 0 || argc != optind)
		usage();
	t = xcalloc(seeds, sizeof *t);
	printf("%-8s %-8s %10s %6s %8s %7s\n", "function", "method",
	    "mean", "se", "median", "found");
	for (fi = 0; fi < nitems(funcs); fi++) {
		for (m = 0; m < (int)nitems(methods); m++) {
			sum = sq = 0;
			found = 0;
			for (s = 0; s < seeds; s++) {
				t[s] = run(&funcs[fi], m, s + 1, &hit);
				sum += (double)t[s];
				sq += (double)t[s] * (double)t[s];
				found += hit;
			}
			mean = sum / (double)seeds;
			se = sqrt((sq - sum * mean) / (double)(seeds - 1) /
			    (double)seeds);
			qsort(t, seeds, sizeof *t, cmp_size);
			printf("%-8s %-8s %10.1f %6.1f %8zu %6.0f%%\n",
			    funcs[fi].name, methods[m], mean, se,
			    t[seeds / 2], 100.0 * (double)found /
			    (double)seeds);
		}
	}
	free(t);
	return 0;
}
