/*
 * What the report's "where prompts fail" (report_grid.c) and "duels"
 * (report_duel.c) sections share, and their plain computations, apart so
 * that tests can pin them: how a result is classed, the order of the
 * heat map's columns and Bradley-Terry strengths fitted to pairwise
 * preferences.
 */
#ifndef REPORT_GRID_H
#define REPORT_GRID_H

#include <stddef.h>
#include <stdint.h>

struct report;

/*
 * At most max bytes of s (cut between characters, saying how much more
 * there was), escaped, in a <div class="prompt">.
 */
void		 report_prompt_cut(struct report *, const char *s, size_t max);

/*
 * A heat-map cell's class for a result: "failed" (the call failed),
 * "right" (full marks, score 1), "partial" (half marks or more) or
 * "wrong" (less than half).  Binary metrics give only right and wrong.
 */
const char	*report_cell_class(double score, int failed);

/* A column of the heat map: one dev example and how the rows did on it. */
struct grid_col {
	int64_t		 example;
	int		 idx;		/* its index in the dataset, -1 */
	int		 neval;		/* rows evaluated on it */
	int		 nright;	/* of them, with full marks */
	double		 misses;	/* the sum of 1 - score, a failure 1 */
	size_t		 first;		/* its first result (the caller's) */
};
/*
 * Most missed first: by misses, then by how many rows were evaluated on
 * it (a miss shared by more rows first), then by example id.
 */
void		 report_grid_sort(struct grid_col *, size_t);

/*
 * One duel between arms i and j: how much i won and how much j did (a
 * tie is half each).  Pairs may repeat.
 */
struct bt_duel {
	size_t		 i, j;
	double		 wi, wj;
};
/*
 * Bradley-Terry strengths of n arms from their duels, by minorization-
 * maximization (Hunter, 2004), at most maxiter iterations: strength[i] /
 * (strength[i] + strength[j]) is the chance that i beats j.  Each arm
 * also has half a win and half a loss against a virtual arm of strength
 * 1, a weak prior that keeps an arm that never lost (or never won)
 * finite.  The strengths are scaled to a geometric mean of 1.  Returns
 * the iterations run.
 */
int		 report_bt_fit(size_t n, const struct bt_duel *, size_t nduels,
		    double *strength, int maxiter);

#endif
