/*
 * Statistics for scores: means with confidence intervals and paired
 * tests, so that candidates are compared on the same examples and a
 * challenger wins only when the evidence says so.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

struct summary {
	size_t	n;
	double	mean;
	double	sd;		/* sample standard deviation */
	double	lo;		/* interval at the requested confidence */
	double	hi;
};

/*
 * Mean and a two-sided interval at confidence level (e.g. 0.95) of scores
 * in [0, 1].  When every score is 0 or 1 the Wilson score interval is
 * used, otherwise Student's t; the interval is clipped to [0, 1].  With
 * n == 0 everything is 0; with n == 1 the interval is [0, 1].
 */
void	stats_summary(const double *, size_t, double level, struct summary *);

/*
 * stats_summary() from sums instead of the scores: n scores whose total
 * is total and the total of whose squares is squares, fractional of them
 * neither 0 nor 1.  For scores that are all 0 or 1 (their sums are whole
 * numbers, exact in a double) the mean and the interval are exactly
 * stats_summary()'s; otherwise they agree to rounding (the sums were
 * added in another order, and the spread comes from the squares).
 */
void	stats_summary_sums(size_t n, double total, double squares,
	    size_t fractional, double level, struct summary *);

/* Student's t distribution: CDF and quantile (df > 0). */
double	stats_t_cdf(double t, double df);
double	stats_t_quantile(double p, double df);
double	stats_normal_quantile(double p);

/*
 * Paired one-sided test that a is better than b on the same examples:
 * the p-value of mean(a - b) > 0 under a paired t-test.  Returns 1.0
 * when n < 2 or the differences are all equal and not positive.
 */
double	stats_paired_p(const double *a, const double *b, size_t n);

/*
 * stats_paired_p() on the examples that both a and b scored: a pair in
 * which either score is NAN (not scored) is skipped.  *used (when not
 * NULL) is the number of pairs tested.  Borrows a and b.
 */
double	stats_paired_p_scored(const double *a, const double *b, size_t n,
	    size_t *used);

/*
 * Welch's two-sample one-sided test that a is better than b, with
 * samples of their own (sizes na and nb, variances not assumed equal):
 * the p-value of mean(a) > mean(b) under Welch's t with the
 * Welch-Satterthwaite degrees of freedom (R's t.test(a, b, var.equal =
 * FALSE, alternative = "greater")).  Returns 1.0 when either sample has
 * fewer than 2 values; when neither varies, 0.0 if mean(a) > mean(b) and
 * 1.0 otherwise.
 */
double	stats_welch_p(const double *a, size_t na, const double *b,
	    size_t nb);

/*
 * Distribution-free upper bounds for risk-controlled promotion (Prompt
 * Risk Control, Zollo et al.): they hold whatever the scores'
 * distribution, with probability at least level over the draw of the
 * examples.
 *
 * stats_binomial_cdf(): P(X <= k) for X ~ Binomial(n, p).
 * stats_binomial_upper(): the exact (Clopper-Pearson) one-sided upper
 * bound on a proportion seen k times in n: the p at which P(X <= k) is
 * 1 - level; 1 when k >= n or n == 0.
 * stats_quantile_upper(): an upper bound on the q-quantile (0 < q < 1)
 * of the distribution x[0..n) was drawn from: the order statistic
 * x_(k), k the smallest with P(Binomial(n, q) <= k - 1) >= level;
 * INFINITY when even x_(n) is not enough (too few values for q and
 * level).  *rank (when not NULL) is k, or 0 then.  Borrows x.
 */
double	stats_binomial_cdf(size_t k, size_t n, double p);
double	stats_binomial_upper(size_t k, size_t n, double level);
double	stats_quantile_upper(const double *x, size_t n, double q,
	    double level, size_t *rank);

/*
 * The Cholesky factor of the symmetric n x n matrix a (row-major; its
 * lower triangle is read), in place of that lower triangle: a = L L'.
 * Returns 0, or -1 when a is not positive definite (a pivot that is not
 * greater than 0, NAN included); a is then partly overwritten.
 */
int	stats_cholesky(double *a, size_t n);
/*
 * Solves L L' x = b in place of b, with L the factor stats_cholesky()
 * left in the lower triangle of l (n x n, row-major; borrowed).
 */
void	stats_cholesky_solve(const double *l, size_t n, double *b);

#endif
