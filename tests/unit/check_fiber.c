/* Tests for fibers: resume, yield, return, deep stacks, many fibers. */
#include <string.h>

#include "check_common.h"
#include "fiber.h"

static int	trace[16];
static int	ntrace;

static void
stepper(void *arg)
{
	int	id = *(int *)arg, i;

	for (i = 0; i < 3; i++) {
		trace[ntrace++] = id * 10 + i;
		fiber_yield();
	}
}

START_TEST(test_interleave)
{
	struct fiber	*a, *b;
	int		 ida = 1, idb = 2, done_a = 0, done_b = 0;
	static const int want[] = { 10, 20, 11, 21, 12, 22 };

	ntrace = 0;
	a = fiber_new(stepper, &ida, 64 * 1024);
	b = fiber_new(stepper, &idb, 64 * 1024);
	ck_assert_ptr_null(fiber_self());
	while (!done_a || !done_b) {
		if (!done_a)
			done_a = fiber_resume(a);
		if (!done_b)
			done_b = fiber_resume(b);
	}
	ck_assert_int_eq(ntrace, 6);
	ck_assert_int_eq(memcmp(trace, want, sizeof want), 0);
	/* Resuming a finished fiber is harmless. */
	ck_assert_int_eq(fiber_resume(a), 1);
	fiber_free(a);
	fiber_free(b);
	fiber_free(NULL);
}
END_TEST

static int
recurse(int n)
{
	volatile char	buf[256];

	buf[0] = 1;
	if (n == 0)
		return 0;
	if (n % 100 == 0)
		fiber_yield();
	return recurse(n - 1) + (buf[0] != 0);
}

static void
deep(void *arg)
{
	*(int *)arg = recurse(1000);
}

START_TEST(test_deep_stack)
{
	struct fiber	*f;
	int		 out = -1, yields = 0;

	f = fiber_new(deep, &out, 1024 * 1024);
	while (!fiber_resume(f))
		yields++;
	ck_assert_int_eq(yields, 10);
	ck_assert_int_eq(out, 1000);
	fiber_free(f);
}
END_TEST

static void
self_check(void *arg)
{
	*(struct fiber **)arg = fiber_self();
}

START_TEST(test_many)
{
	struct fiber	*f[100], *seen;
	int		 i;

	for (i = 0; i < 100; i++)
		f[i] = fiber_new(self_check, &seen, 32 * 1024);
	for (i = 0; i < 100; i++) {
		seen = NULL;
		ck_assert_int_eq(fiber_resume(f[i]), 1);
		ck_assert_ptr_eq(seen, f[i]);
	}
	for (i = 0; i < 100; i++)
		fiber_free(f[i]);
}
END_TEST

static Suite *
fiber_suite(void)
{
	Suite	*s = suite_create("fiber");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_interleave);
	tcase_add_test(tc, test_deep_stack);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fiber_suite)
