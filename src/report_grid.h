/*
 * What the report's "where prompts fail" section (report_grid.c) may
 * share, and its plain computations, apart so that tests can pin them:
 * how a result is classed and the order of the heat map's columns.
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
void		 report_excerpt(struct report *, const char *s, size_t max);

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

#endif
