/*
 * Tests of the report's failures and duels sections' computations
 * (report_grid.h): how a result is classed, the heat map's column order
 * and the Bradley-Terry fit of the duels.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "report_grid.h"
#include "util.h"

START_TEST(test_cell_class)
{
	ck_assert_str_eq(report_cell_class(1, 0), "right");
	ck_assert_str_eq(report_cell_class(1 - 1e-12, 0), "right");
	ck_assert_str_eq(report_cell_class(0.999, 0), "partial");
	ck_assert_str_eq(report_cell_class(0.5, 0), "partial");
	ck_assert_str_eq(report_cell_class(0.49, 0), "wrong");
	ck_assert_str_eq(report_cell_class(0, 0), "wrong");
	ck_assert_str_eq(report_cell_class(1, 1), "failed");
	ck_assert_str_eq(report_cell_class(NAN, 0), "failed");
}
END_TEST

/*
 * The most missed first; a miss shared by more rows before one of fewer;
 * then the example id, so the order does not depend on qsort's.
 */
START_TEST(test_grid_sort)
{
	struct grid_col	c[6];
	static const struct {
		int64_t	example;
		int	neval;
		double	misses;
	} in[] = {
		{ 10, 3, 0 }, { 11, 1, 1 }, { 12, 3, 1 }, { 13, 3, 2.5 },
		{ 9, 3, 1 }, { 14, 2, 0 }
	};
	static const int64_t	want[] = { 13, 9, 12, 11, 10, 14 };
	size_t			i;

	memset(c, 0, sizeof c);
	for (i = 0; i < nitems(in); i++) {
		c[i].example = in[i].example;
		c[i].neval = in[i].neval;
		c[i].misses = in[i].misses;
	}
	report_grid_sort(c, nitems(c));
	for (i = 0; i < nitems(want); i++)
		ck_assert_int_eq(c[i].example, want[i]);
	report_grid_sort(c, 0);
}
END_TEST

/* Without duels every arm is even; the same wins both ways too. */
START_TEST(test_bt_even)
{
	struct bt_duel	d[2] = { { 0, 1, 1, 0 }, { 1, 0, 1, 0 } };
	double		s[3];

	ck_assert_int_ge(report_bt_fit(3, NULL, 0, s, 100), 1);
	ck_assert(fabs(s[0] - 1) < 1e-9 && fabs(s[2] - 1) < 1e-9);
	report_bt_fit(3, d, 2, s, 100);
	ck_assert(fabs(s[0] - s[1]) < 1e-9);
	ck_assert(fabs(s[0] * s[1] * s[2] - 1) < 1e-9);
	ck_assert_int_eq(report_bt_fit(0, NULL, 0, s, 100), 0);
}
END_TEST

/*
 * Whether x = sA / sB is where the two score equations of the penalized
 * likelihood meet for A winning 3.5 (3 and the prior's half) of its 4
 * duels with B and 1 virtual one, and B 1.5: on the prior's scale,
 * 3.5 = pA (4 / (pA + pB) + 1 / (pA + 1)), and likewise 1.5 for B.  pA is
 * found from the first by bisection, then the second must hold.
 */
static int
bt_stationary(double x)
{
	double	lo = 0.01, hi = 100, pa = 1, pb;
	int	i;

	for (i = 0; i < 200; i++) {
		pa = sqrt(lo * hi);
		if (pa * (4 / (pa + pa / x) + 1 / (pa + 1)) < 3.5)
			lo = pa;
		else
			hi = pa;
	}
	pb = pa / x;
	return fabs(pb * (4 / (pa + pb) + 1 / (pb + 1)) - 1.5) < 1e-6;
}

/*
 * A beat B three times of four: the fit is the maximum of the penalized
 * likelihood, shrunk from 3 towards 1 by the prior; an arm that won every
 * duel stays finite; ties are half a win each; the bound holds.
 */
START_TEST(test_bt_fit)
{
	struct bt_duel	d[5] = {
		{ 0, 1, 1, 0 }, { 0, 1, 1, 0 }, { 1, 0, 0, 1 }, { 1, 0, 1, 0 },
		{ 1, 2, 0.5, 0.5 }
	};
	double		s[3];

	ck_assert_int_lt(report_bt_fit(2, d, 4, s, 1000), 1000);
	ck_assert(fabs(s[0] * s[1] - 1) < 1e-9);
	ck_assert(s[0] / s[1] > 2 && s[0] / s[1] < 3);
	ck_assert(bt_stationary(s[0] / s[1]));
	ck_assert(!bt_stationary(3));

	/* A beat C twice, C never won: all finite, in order. */
	d[0].j = 2;
	d[1].j = 2;
	report_bt_fit(3, d, 5, s, 1000);
	ck_assert(isfinite(s[0]) && isfinite(s[2]) && s[2] > 0);
	ck_assert(s[0] > s[1] && s[1] > s[2]);
	ck_assert_int_eq(report_bt_fit(3, d, 5, s, 2), 2);
}
END_TEST

static Suite *
report_grid_suite(void)
{
	Suite	*su = suite_create("report_grid");
	TCase	*tc = tcase_create("report_grid");

	tcase_add_test(tc, test_cell_class);
	tcase_add_test(tc, test_grid_sort);
	tcase_add_test(tc, test_bt_even);
	tcase_add_test(tc, test_bt_fit);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(report_grid_suite)
