/*
 * The pure helpers of the report's progress and calls sections
 * (report_plot.c, report_calls.c), written in report_plot.c: the rule
 * that decides which candidates may lead the best so far, the
 * best-so-far steps, log-spaced latency bins and short labels.  They are
 * apart so that their unit tests can pin them.
 */
#ifndef REPORT_PLOT_H
#define REPORT_PLOT_H

#include <stddef.h>

struct progress_row;

/*
 * Orders a run's progress rows as they came in: by the paid calls (and
 * so the dollars, which are summed in the same order) the run had made
 * at each candidate's last score, then by its time, then by candidate.
 */
void		 report_progress_sort(struct progress_row *, size_t);

/*
 * The fewest examples a candidate must have been scored on to lead the
 * best so far: the lower median of the rows' n, so at least as many as
 * half of the run's candidates have.  0 for no rows.
 */
long long	 report_progress_min_n(const struct progress_row *, size_t);

/*
 * The rows (sorted) that set a new best so far: each scored on at least
 * min_n examples with a mean above every earlier such row's.  Their
 * indices go into best (room for n); returns how many.
 */
size_t		 report_progress_best(const struct progress_row *, size_t,
		    long long min_n, size_t *best);

/*
 * Log-spaced bins for latencies: edges at multiples of 1/k of a decade
 * (k as large as 20 and a whole number of decades beyond that) covering
 * min..max (> 0) with at most most bins, so decades are always edges.
 */
struct report_bins {
	double		 lo;		/* log10 of the first lower edge */
	double		 width;		/* of a bin, in decades */
	size_t		 n;
};
void		 report_bins_init(struct report_bins *, double min, double max,
		    size_t most);
/* The bin of v (> 0), clamped to the first and the last. */
size_t		 report_bins_find(const struct report_bins *, double v);
/* Bin i's lower edge in seconds (i == n: the last upper edge). */
double		 report_bins_edge(const struct report_bins *, size_t i);

/* A duration as "250 ms", "12.5 s", "80 µs" into buf. */
const char	*report_seconds(double, char *buf, size_t size);

/*
 * The start of a text for a label: blanks squeezed to one space, cut at
 * a character's boundary to at most max bytes with "…" after a cut
 * (allocated).
 */
char		*report_excerpt(const char *, size_t max);

#endif
