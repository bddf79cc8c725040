/* Tests for intervals and paired tests against known values. */
#include <math.h>

#include "check_common.h"
#include "stats.h"

START_TEST(test_t_distribution)
{
	ck_assert(fabs(stats_t_quantile(0.975, 9) - 2.262157) < 1e-4);
	ck_assert(fabs(stats_t_quantile(0.975, 1) - 12.7062) < 1e-3);
	ck_assert(fabs(stats_t_quantile(0.95, 30) - 1.697261) < 1e-4);
	ck_assert(fabs(stats_t_quantile(0.025, 9) + 2.262157) < 1e-4);
	ck_assert(fabs(stats_t_cdf(0, 5) - 0.5) < 1e-12);
	ck_assert(fabs(stats_t_cdf(2.015048, 5) - 0.95) < 1e-5);
	ck_assert(fabs(stats_normal_quantile(0.975) - 1.959964) < 1e-5);
}
END_TEST

START_TEST(test_summary_t)
{
	double		x[] = { 0.2, 0.4, 0.6, 0.8, 0.5 };
	struct summary	s;

	stats_summary(x, 5, 0.95, &s);
	ck_assert_uint_eq(s.n, 5);
	ck_assert(fabs(s.mean - 0.5) < 1e-12);
	ck_assert(fabs(s.sd - 0.2236068) < 1e-6);
	/* 0.5 +- 2.776445 * 0.2236068 / sqrt(5) */
	ck_assert(fabs(s.lo - 0.2223555) < 1e-5);
	ck_assert(fabs(s.hi - 0.7776445) < 1e-5);
}
END_TEST

START_TEST(test_summary_wilson)
{
	double		x[20];
	struct summary	s;
	int		i;

	for (i = 0; i < 20; i++)
		x[i] = i < 15 ? 1 : 0;
	stats_summary(x, 20, 0.95, &s);
	ck_assert(fabs(s.mean - 0.75) < 1e-12);
	/* Wilson interval for 15/20 at 95%: [0.5313, 0.8881]. */
	ck_assert(fabs(s.lo - 0.5313) < 1e-3);
	ck_assert(fabs(s.hi - 0.8881) < 1e-3);
	for (i = 0; i < 20; i++)
		x[i] = 1;
	stats_summary(x, 20, 0.95, &s);
	ck_assert(s.hi <= 1 && s.lo > 0.8);
}
END_TEST

START_TEST(test_summary_edges)
{
	double		x[] = { 0.7 };
	struct summary	s;

	stats_summary(x, 0, 0.95, &s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert(s.mean == 0);
	stats_summary(x, 1, 0.95, &s);
	ck_assert(s.mean == 0.7 && s.lo == 0 && s.hi == 1);
}
END_TEST

START_TEST(test_paired)
{
	double	a[] = { 0.9, 0.8, 0.95, 0.85, 0.9, 0.88, 0.92, 0.87 };
	double	b[] = { 0.5, 0.6, 0.55, 0.45, 0.6, 0.5, 0.52, 0.58 };
	double	same[] = { 0.5, 0.5, 0.5 };

	ck_assert(stats_paired_p(a, b, 8) < 0.001);
	ck_assert(stats_paired_p(b, a, 8) > 0.999);
	ck_assert(stats_paired_p(same, same, 3) == 1.0);
	ck_assert(stats_paired_p(a, b, 1) == 1.0);
}
END_TEST

START_TEST(test_paired_scored)
{
	double	a[] = { 0.9, NAN, 0.8, 0.95, 0.85, 0.9, 0.88, 0.92, 0.87 };
	double	b[] = { 0.5, 0.7, 0.6, 0.55, 0.45, 0.6, 0.5, 0.52, NAN };
	double	x[] = { 0.9, 0.8, 0.95, 0.85, 0.9, 0.88, 0.92 };
	double	y[] = { 0.5, 0.6, 0.55, 0.45, 0.6, 0.5, 0.52 };
	double	none[] = { NAN, NAN };
	size_t	used = 99;

	/* The pairs with a missing score are left out of the test. */
	ck_assert(stats_paired_p_scored(a, b, 9, &used) ==
	    stats_paired_p(x, y, 7));
	ck_assert_uint_eq(used, 7);
	ck_assert(stats_paired_p_scored(a, none, 2, &used) == 1.0);
	ck_assert_uint_eq(used, 0);
	ck_assert(stats_paired_p_scored(a, b, 0, NULL) == 1.0);
}
END_TEST

/*
 * Against Welch's t (t, df) computed by hand and its tail integrated
 * numerically (Simpson's rule on the t density): a second method, not
 * stats_t_cdf().  The first: t = 4.353, df = 12.65; the second (thumbs)
 * t = 1.674, df = 18.12; the third t = 1.463, df = 7.242.
 */
START_TEST(test_welch)
{
	double	a[] = { 0.9, 0.7, 0.8, 1.0, 0.6, 0.75, 0.85 };
	double	b[] = { 0.5, 0.7, 0.4, 0.65, 0.55, 0.3, 0.6, 0.45, 0.5 };
	double	c[] = { 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0 };
	double	d[] = { 1, 0, 0, 1, 0, 1, 0, 0, 1, 0 };
	double	e[] = { 3.1, 2.9, 3.4, 3.0 };
	double	f[] = { 2.8, 3.0, 2.7, 3.3, 2.9, 2.6 };
	double	same[] = { 0.5, 0.5, 0.5 }, more[] = { 0.7, 0.7 };

	ck_assert_double_eq_tol(stats_welch_p(a, 7, b, 9), 0.000416141, 1e-6);
	ck_assert_double_eq_tol(stats_welch_p(b, 9, a, 7), 1 - 0.000416141,
	    1e-6);
	ck_assert_double_eq_tol(stats_welch_p(c, 12, d, 10), 0.0556458, 1e-5);
	ck_assert_double_eq_tol(stats_welch_p(e, 4, f, 6), 0.0927864, 1e-5);
	/* Too few, and samples that do not vary. */
	ck_assert(stats_welch_p(a, 1, b, 9) == 1.0);
	ck_assert(stats_welch_p(a, 7, b, 0) == 1.0);
	ck_assert(stats_welch_p(more, 2, same, 3) == 0.0);
	ck_assert(stats_welch_p(same, 3, more, 2) == 1.0);
	ck_assert(stats_welch_p(same, 3, same, 3) == 1.0);
}
END_TEST

/*
 * Against the binomial tail summed term by term in exact fractions and
 * bisected (a second method, not the incomplete beta function), and
 * 1 - (1 - level)^(1/n) for no failures: the Clopper-Pearson bounds.
 */
/*
 * Cholesky: [[4, 2], [2, 10]] = L L' with L = [[2, 0], [1, 3]], and the
 * system [[4, 2], [2, 10]] x = [8, 22] solved with it (x = [1, 2]);
 * a matrix that is not positive definite (or holds a NAN) is refused.
 */
START_TEST(test_cholesky)
{
	double	a[4] = { 4, 2, 2, 10 };
	double	b[4] = { 1, 2, 2, 1 };
	double	c[4] = { NAN, 0, 0, 1 };
	double	x[2] = { 8, 22 };

	ck_assert_int_eq(stats_cholesky(a, 2), 0);
	ck_assert_double_eq_tol(a[0], 2, 1e-12);
	ck_assert_double_eq_tol(a[2], 1, 1e-12);
	ck_assert_double_eq_tol(a[3], 3, 1e-12);
	stats_cholesky_solve(a, 2, x);
	ck_assert_double_eq_tol(x[0], 1, 1e-12);
	ck_assert_double_eq_tol(x[1], 2, 1e-12);
	ck_assert_int_eq(stats_cholesky(b, 2), -1);
	ck_assert_int_eq(stats_cholesky(c, 2), -1);
}
END_TEST

START_TEST(test_binomial_upper)
{
	ck_assert_double_eq_tol(stats_binomial_upper(0, 10, 0.9),
	    1 - pow(0.1, 0.1), 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(0, 10, 0.9),
	    0.2056717653, 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(1, 10, 0.95),
	    0.3941633024, 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(5, 10, 0.975),
	    0.8129139716, 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(12, 58, 0.9),
	    0.2910593764, 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(5, 100, 0.9),
	    0.0907714696, 1e-9);
	ck_assert_double_eq_tol(stats_binomial_upper(3, 20, 0.9),
	    0.3041868114, 1e-9);
	/* All failures, or nothing seen: nothing is ruled out. */
	ck_assert(stats_binomial_upper(10, 10, 0.9) == 1);
	ck_assert(stats_binomial_upper(0, 0, 0.9) == 1);
	/* 1 - 0.5^10 - 10 * 0.5^10 */
	ck_assert_double_eq_tol(stats_binomial_cdf(8, 10, 0.5),
	    1 - 11.0 / 1024, 1e-12);
	ck_assert(stats_binomial_cdf(10, 10, 0.3) == 1);
}
END_TEST

/*
 * The order-statistic bound: the smallest k with P(Binomial(n, q) <= k
 * - 1) >= level, found by hand from the binomial's table (n = 10, q =
 * 0.5: P(<= 6) = 0.828, P(<= 7) = 0.945, so k = 8) and by the exact sum
 * (n = 58, q = 0.8, level 0.9: k = 51; n = 100, q = 0.9, level 0.95:
 * k = 96).
 */
START_TEST(test_quantile_upper)
{
	double	x[100];
	size_t	i, k;

	/* Shuffled: the bound sorts a copy. */
	for (i = 0; i < 100; i++)
		x[i] = (double)((i * 37) % 100) / 100;
	ck_assert_double_eq_tol(stats_quantile_upper(x, 10, 0.5, 0.9, &k),
	    0.74, 1e-12);
	for (i = 0; i < 10; i++)
		x[i] = (double)(10 - i) / 10;
	ck_assert_double_eq_tol(stats_quantile_upper(x, 10, 0.5, 0.9, &k),
	    0.8, 1e-12);
	ck_assert_uint_eq(k, 8);
	for (i = 0; i < 100; i++)
		x[i] = (double)((i * 37) % 100) / 100;
	ck_assert_double_eq_tol(stats_quantile_upper(x, 100, 0.9, 0.95, &k),
	    0.95, 1e-12);
	ck_assert_uint_eq(k, 96);
	for (i = 0; i < 58; i++)
		x[i] = (double)(57 - i);
	ck_assert_double_eq(stats_quantile_upper(x, 58, 0.8, 0.9, &k), 50);
	ck_assert_uint_eq(k, 51);
	/* 20 values cannot bound the 0.9-quantile at 90%: 1 - 0.9^20 is
	 * 0.88. */
	ck_assert(isinf(stats_quantile_upper(x, 20, 0.9, 0.9, &k)));
	ck_assert_uint_eq(k, 0);
	ck_assert(isinf(stats_quantile_upper(x, 0, 0.5, 0.9, NULL)));
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_t_distribution);
	tcase_add_test(tc, test_summary_t);
	tcase_add_test(tc, test_summary_wilson);
	tcase_add_test(tc, test_summary_edges);
	tcase_add_test(tc, test_paired);
	tcase_add_test(tc, test_paired_scored);
	tcase_add_test(tc, test_welch);
	tcase_add_test(tc, test_cholesky);
	tcase_add_test(tc, test_binomial_upper);
	tcase_add_test(tc, test_quantile_upper);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(stats_suite)
