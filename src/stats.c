/* Means, intervals, Student's t, paired tests and risk bounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "xmalloc.h"

/* Continued fraction for the regularized incomplete beta function. */
static double
betacf(double a, double b, double x)
{
	double	qab = a + b, qap = a + 1, qam = a - 1, c = 1, d, del, h, aa;
	int	m, m2;

	d = 1 - qab * x / qap;
	if (fabs(d) < 1e-300)
		d = 1e-300;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 300; m++) {
		m2 = 2 * m;
		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = 1 + aa / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = 1 + aa / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return h;
}

static double
betai(double a, double b, double x)
{
	double	bt;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
	    b * log(1 - x));
	if (x < (a + 1) / (a + b + 2))
		return bt * betacf(a, b, x) / a;
	return 1 - bt * betacf(b, a, 1 - x) / b;
}

double
stats_t_cdf(double t, double df)
{
	double	x = df / (df + t * t), tail;

	tail = 0.5 * betai(df / 2, 0.5, x);
	return t >= 0 ? 1 - tail : tail;
}

/*
 * A quantile is found by bisection, some hundred evaluations of the
 * distribution, and the racing of a search or a leaderboard asks for the
 * same few again and again: the latest answers are kept (per thread, as
 * each computes its own), by p and the degrees of freedom.
 */
#define QUANTILE_MEMO	64

struct quantile_memo {
	int	set;
	double	p;
	double	df;
	double	q;
};
static _Thread_local struct quantile_memo t_memo[QUANTILE_MEMO];
static _Thread_local struct quantile_memo normal_memo;

static double
t_quantile(double p, double df)
{
	double	lo = -1e3, hi = 1e3, mid;
	int	i;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	for (i = 0; i < 200; i++) {
		mid = (lo + hi) / 2;
		if (stats_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double
stats_t_quantile(double p, double df)
{
	struct quantile_memo	*m;

	if (!(df >= 0 && df < 1e9))
		return t_quantile(p, df);
	m = &t_memo[(size_t)df % QUANTILE_MEMO];
	if (!m->set || m->p != p || m->df != df) {
		m->q = t_quantile(p, df);
		m->p = p;
		m->df = df;
		m->set = 1;
	}
	return m->q;
}

double
stats_normal_quantile(double p)
{
	double	lo = -40, hi = 40, mid;
	int	i;

	if (normal_memo.set && normal_memo.p == p)
		return normal_memo.q;
	for (i = 0; i < 200; i++) {
		mid = (lo + hi) / 2;
		if (0.5 * erfc(-mid / sqrt(2)) < p)
			lo = mid;
		else
			hi = mid;
	}
	normal_memo.p = p;
	normal_memo.q = (lo + hi) / 2;
	normal_memo.set = 1;
	return normal_memo.q;
}

/*
 * The interval of s (its n, mean and sd set) at confidence level: Wilson's
 * for scores that are all 0 or 1 (binary), Student's t otherwise, clipped
 * to [0, 1].
 */
static void
summary_interval(struct summary *s, int binary, double level)
{
	double	z, t, half, p, denom, centre, n = (double)s->n;

	if (binary) {
		z = stats_normal_quantile(1 - (1 - level) / 2);
		p = s->mean;
		denom = 1 + z * z / n;
		centre = (p + z * z / (2 * n)) / denom;
		half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom;
		s->lo = centre - half;
		s->hi = centre + half;
	} else if (s->n == 1) {
		s->lo = 0;
		s->hi = 1;
	} else {
		t = stats_t_quantile(1 - (1 - level) / 2, n - 1);
		half = t * s->sd / sqrt(n);
		s->lo = s->mean - half;
		s->hi = s->mean + half;
	}
	if (s->lo < 0)
		s->lo = 0;
	if (s->hi > 1)
		s->hi = 1;
}

void
stats_summary(const double *x, size_t n, double level, struct summary *s)
{
	double	sum = 0, ss = 0;
	size_t	i;
	int	binary = 1;

	s->n = n;
	s->mean = s->sd = s->lo = s->hi = 0;
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		sum += x[i];
		if (x[i] != 0 && x[i] != 1)
			binary = 0;
	}
	s->mean = sum / (double)n;
	for (i = 0; i < n; i++)
		ss += (x[i] - s->mean) * (x[i] - s->mean);
	s->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	summary_interval(s, binary, level);
}

void
stats_summary_sums(size_t n, double total, double squares,
    size_t fractional, double level, struct summary *s)
{
	double	ss;

	s->n = n;
	s->mean = s->sd = s->lo = s->hi = 0;
	if (n == 0)
		return;
	s->mean = total / (double)n;
	/* Rounding may take a spread of nearly nothing below 0. */
	ss = squares - total * s->mean;
	if (ss < 0)
		ss = 0;
	s->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	summary_interval(s, fractional == 0, level);
}

double
stats_paired_p(const double *a, const double *b, size_t n)
{
	double	sum = 0, ss = 0, mean, sd, d, t;
	size_t	i;

	if (n < 2)
		return 1.0;
	for (i = 0; i < n; i++)
		sum += a[i] - b[i];
	mean = sum / (double)n;
	for (i = 0; i < n; i++) {
		d = a[i] - b[i] - mean;
		ss += d * d;
	}
	sd = sqrt(ss / (double)(n - 1));
	if (sd == 0)
		return mean > 0 ? 0.0 : 1.0;
	t = mean / (sd / sqrt((double)n));
	return 1 - stats_t_cdf(t, (double)(n - 1));
}

double
stats_paired_p_scored(const double *a, const double *b, size_t n,
    size_t *used)
{
	double	*x, *y, p;
	size_t	 i, m = 0;

	x = xcalloc(n, sizeof *x);
	y = xcalloc(n, sizeof *y);
	for (i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i]))
			continue;
		x[m] = a[i];
		y[m++] = b[i];
	}
	p = stats_paired_p(x, y, m);
	free(x);
	free(y);
	if (used != NULL)
		*used = m;
	return p;
}

/* The mean and sample variance of n > 1 values. */
static void
stats_moments(const double *x, size_t n, double *mean, double *var)
{
	double	sum = 0, ss = 0, d;
	size_t	i;

	for (i = 0; i < n; i++)
		sum += x[i];
	*mean = sum / (double)n;
	for (i = 0; i < n; i++) {
		d = x[i] - *mean;
		ss += d * d;
	}
	*var = ss / (double)(n - 1);
}

double
stats_welch_p(const double *a, size_t na, const double *b, size_t nb)
{
	double	ma, va, mb, vb, qa, qb, se2, df;

	if (na < 2 || nb < 2)
		return 1.0;
	stats_moments(a, na, &ma, &va);
	stats_moments(b, nb, &mb, &vb);
	qa = va / (double)na;
	qb = vb / (double)nb;
	se2 = qa + qb;
	if (se2 == 0)
		return ma > mb ? 0.0 : 1.0;
	/* Welch-Satterthwaite: one sample that does not vary adds nothing. */
	df = se2 * se2 / (qa * qa / (double)(na - 1) +
	    qb * qb / (double)(nb - 1));
	return 1 - stats_t_cdf((ma - mb) / sqrt(se2), df);
}

double
stats_binomial_cdf(size_t k, size_t n, double p)
{
	if (k >= n || p <= 0)
		return 1;
	if (p >= 1)
		return 0;
	/* P(X <= k) = I_{1-p}(n - k, k + 1). */
	return betai((double)(n - k), (double)k + 1, 1 - p);
}

double
stats_binomial_upper(size_t k, size_t n, double level)
{
	double	lo = 0, hi = 1, mid;
	int	i;

	if (k >= n)
		return 1;
	/* P(X <= k) falls as p grows: bisect for where it is 1 - level. */
	for (i = 0; i < 100; i++) {
		mid = (lo + hi) / 2;
		if (stats_binomial_cdf(k, n, mid) > 1 - level)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static int
stats_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Of the n values, the number below the quantile xi_q is at most
 * Binomial(n, q) (exactly so for a continuous distribution; ties only
 * make it fewer), so x_(k) >= xi_q unless k or more fell below it:
 * P(x_(k) >= xi_q) >= P(Binomial(n, q) <= k - 1).  The smallest k whose
 * tail reaches level gives the tightest bound.
 */
double
stats_quantile_upper(const double *x, size_t n, double q, double level,
    size_t *rank)
{
	double	*sorted, bound = INFINITY;
	size_t	 k;

	if (rank != NULL)
		*rank = 0;
	for (k = 1; k <= n; k++)
		if (stats_binomial_cdf(k - 1, n, q) >= level)
			break;
	if (k > n)
		return bound;
	sorted = xcalloc(n, sizeof *sorted);
	memcpy(sorted, x, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, stats_cmp_double);
	bound = sorted[k - 1];
	free(sorted);
	if (rank != NULL)
		*rank = k;
	return bound;
}

int
stats_cholesky(double *a, size_t n)
{
	size_t	i, j, k;
	double	s;

	for (j = 0; j < n; j++) {
		s = a[j * n + j];
		for (k = 0; k < j; k++)
			s -= a[j * n + k] * a[j * n + k];
		if (!(s > 0))
			return -1;
		a[j * n + j] = sqrt(s);
		for (i = j + 1; i < n; i++) {
			s = a[i * n + j];
			for (k = 0; k < j; k++)
				s -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = s / a[j * n + j];
		}
	}
	return 0;
}

void
stats_cholesky_solve(const double *l, size_t n, double *b)
{
	size_t	i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)
			b[i] -= l[i * n + k] * b[k];
		b[i] /= l[i * n + i];
	}
	for (i = n; i-- > 0;) {
		for (k = i + 1; k < n; k++)
			b[i] -= l[k * n + i] * b[k];
		b[i] /= l[i * n + i];
	}
}
