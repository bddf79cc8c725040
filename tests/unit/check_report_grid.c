/*
 * Tests of the report's failures section's computations
 * (report_grid.h): how a result is classed and the heat map's column
 * order.
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

static Suite *
report_grid_suite(void)
{
	Suite	*su = suite_create("report_grid");
	TCase	*tc = tcase_create("report_grid");

	tcase_add_test(tc, test_cell_class);
	tcase_add_test(tc, test_grid_sort);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(report_grid_suite)
