/*
 * Tests of cron expressions: every form, every error with its column,
 * the day-of-month/day-of-week rule and the next match, in UTC and in
 * zones with daylight saving time (checked against a minute-by-minute
 * scan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_common.h"
#include "cron.h"
#include "util.h"
#include "xmalloc.h"

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
setup_utc(void)
{
	set_tz("UTC");
}

/* Whether the zone database has tz; tests in that zone skip without. */
static int
have_zone(const char *tz)
{
	char	*path = xasprintf("/usr/share/zoneinfo/%s", tz);
	int	 ok = access(path, R_OK) == 0;

	free(path);
	return ok;
}

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static struct cron
parse_ok(const char *expr)
{
	struct cron	c;
	char		*cause = NULL;

	if (cron_parse(&c, expr, &cause) != 0)
		ck_abort_msg("'%s': %s", expr, cause);
	return c;
}

static void
parse_err(const char *expr, const char *want)
{
	struct cron	c;
	char		*cause = NULL;

	ck_assert_msg(cron_parse(&c, expr, &cause) == -1, "'%s' parsed",
	    expr);
	ck_assert_msg(strcmp(cause, want) == 0, "'%s': got '%s', want '%s'",
	    expr, cause, want);
	free(cause);
}

static void
next_is(const char *expr, time_t from, time_t want)
{
	struct cron	c = parse_ok(expr);
	time_t		got = cron_next(&c, from);

	ck_assert_msg(got == want, "'%s' after %lld: got %lld, want %lld",
	    expr, (long long)from, (long long)got, (long long)want);
	if (want != (time_t)-1)
		ck_assert(cron_match(&c, got));
}

/* The definition, slowly: every local minute after t in turn. */
static time_t
scan_next(const struct cron *c, time_t t, long minutes)
{
	struct tm	tm;
	time_t		cur;
	long		i;

	localtime_r(&t, &tm);
	cur = t - tm.tm_sec + 60;
	for (i = 0; i < minutes; i++, cur += 60) {
		if (cron_match(c, cur))
			return cur;
	}
	return (time_t)-1;
}

/* Compares cron_next with the scan from starts spread over [a, b). */
static void
compare_scan(const char *expr, time_t a, time_t b)
{
	struct cron	c = parse_ok(expr);
	time_t		t, got, want;
	int		i;

	for (i = 0; i < 24; i++) {
		t = a + (time_t)((b - a) / 24) * i + (i * 37) % 60;
		got = cron_next(&c, t);
		want = scan_next(&c, t, 40 * 24 * 60);
		ck_assert_msg(want != (time_t)-1, "'%s': the scan is too short",
		    expr);
		ck_assert_msg(got == want, "'%s' after %lld: got %lld, scan "
		    "says %lld", expr, (long long)t, (long long)got,
		    (long long)want);
	}
}

START_TEST(test_parse_forms)
{
	struct cron	c;

	c = parse_ok("* * * * *");
	ck_assert(c.minute == ((uint64_t)1 << 60) - 1);
	ck_assert_uint_eq(c.hour, (1u << 24) - 1);
	ck_assert_uint_eq(c.mday, 0xfffffffeu);
	ck_assert_uint_eq(c.month, 0x1ffe);
	ck_assert_uint_eq(c.wday, 0x7f);
	ck_assert_int_eq(c.mday_star, 1);
	ck_assert_int_eq(c.wday_star, 1);

	c = parse_ok("5 4 3 2 1");
	ck_assert(c.minute == (uint64_t)1 << 5);
	ck_assert_uint_eq(c.hour, 1u << 4);
	ck_assert_uint_eq(c.mday, 1u << 3);
	ck_assert_uint_eq(c.month, 1u << 2);
	ck_assert_uint_eq(c.wday, 1u << 1);
	ck_assert_int_eq(c.mday_star, 0);
	ck_assert_int_eq(c.wday_star, 0);

	c = parse_ok("1,2,3 0-5 */10 1-12/3 1-5");
	ck_assert(c.minute == 0xe);
	ck_assert_uint_eq(c.hour, 0x3f);
	ck_assert_uint_eq(c.mday, (1u << 1) | (1u << 11) | (1u << 21) |
	    (1u << 31));
	ck_assert_uint_eq(c.month, (1u << 1) | (1u << 4) | (1u << 7) |
	    (1u << 10));
	ck_assert_uint_eq(c.wday, 0x3e);
	/* A field starting with '*' counts as unrestricted for the day rule. */
	ck_assert_int_eq(c.mday_star, 1);
	ck_assert_int_eq(c.wday_star, 0);

	c = parse_ok("10-40/15 */6 1,15-16 * *");
	ck_assert(c.minute == (((uint64_t)1 << 10) | ((uint64_t)1 << 25) |
	    ((uint64_t)1 << 40)));
	ck_assert_uint_eq(c.hour, (1u << 0) | (1u << 6) | (1u << 12) |
	    (1u << 18));
	ck_assert_uint_eq(c.mday, (1u << 1) | (1u << 15) | (1u << 16));

	/* "a/n" runs from a to the end of the field. */
	c = parse_ok("5/20 * * * 1/2");
	ck_assert(c.minute == (((uint64_t)1 << 5) | ((uint64_t)1 << 25) |
	    ((uint64_t)1 << 45)));
	ck_assert_uint_eq(c.wday, (1u << 1) | (1u << 3) | (1u << 5));

	/* Any blanks separate fields. */
	c = parse_ok("  0\t0   *  *  *  ");
	ck_assert(c.minute == 1);
	ck_assert_uint_eq(c.hour, 1);
}
END_TEST

START_TEST(test_parse_names)
{
	struct cron	c;

	c = parse_ok("0 0 * JAN,Dec sun");
	ck_assert_uint_eq(c.month, (1u << 1) | (1u << 12));
	ck_assert_uint_eq(c.wday, 1u);
	c = parse_ok("0 0 * mar-MAY mon-FRI");
	ck_assert_uint_eq(c.month, (1u << 3) | (1u << 4) | (1u << 5));
	ck_assert_uint_eq(c.wday, 0x3e);
	c = parse_ok("0 0 * */4 tue,thu,sat");
	ck_assert_uint_eq(c.month, (1u << 1) | (1u << 5) | (1u << 9));
	ck_assert_uint_eq(c.wday, (1u << 2) | (1u << 4) | (1u << 6));

	/* 7 is Sunday too, alone and at the end of a range. */
	c = parse_ok("0 0 * * 7");
	ck_assert_uint_eq(c.wday, 1u);
	c = parse_ok("0 0 * * 5-7");
	ck_assert_uint_eq(c.wday, (1u << 5) | (1u << 6) | 1u);
	c = parse_ok("0 0 * * sat-7");
	ck_assert_uint_eq(c.wday, (1u << 6) | 1u);
	c = parse_ok("0 0 * * 0-7");
	ck_assert_uint_eq(c.wday, 0x7f);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_err("0,15,30 25 * * *", "column 9: hour 25 is out of range "
	    "(0-23)");
	parse_err("0 0 * *", "expected 5 fields, found 4");
	parse_err("", "expected 5 fields, found 0");
	parse_err("   ", "expected 5 fields, found 0");
	parse_err("0 0 * * * *", "expected 5 fields, found 6");
	parse_err("*/0 * * * *", "column 3: step 0 is not allowed");
	parse_err("0 0 5-2 * *", "column 5: bad range 5-2");
	parse_err("x * * * *", "column 1: unexpected character 'x'");
	parse_err("60 * * * *", "column 1: minute 60 is out of range (0-59)");
	parse_err("99999999999 * * * *", "column 1: minute 99999999999 is "
	    "out of range (0-59)");
	parse_err("0 0 0 * *", "column 5: day of month 0 is out of range "
	    "(1-31)");
	parse_err("0 0 32 * *", "column 5: day of month 32 is out of range "
	    "(1-31)");
	parse_err("0 0 * 13 *", "column 7: month 13 is out of range (1-12)");
	parse_err("0 0 * 0 *", "column 7: month 0 is out of range (1-12)");
	parse_err("0 0 * * 8", "column 9: day of week 8 is out of range "
	    "(0-7)");
	parse_err("0 0 * foo *", "column 7: unknown month 'foo' (expected "
	    "jan-dec)");
	parse_err("0 0 * january *", "column 7: unknown month 'january' "
	    "(expected jan-dec)");
	parse_err("0 0 * * monday", "column 9: unknown day of week 'monday' "
	    "(expected sun-sat)");
	parse_err("0 0 jan * *", "column 5: unexpected character 'j'");
	parse_err("0 mon * * *", "column 3: unexpected character 'm'");
	parse_err("0 0 * * sat-sun", "column 9: bad range sat-sun");
	parse_err("0 0 * * 7-1", "column 9: bad range 7-1");
	parse_err("1- * * * *", "column 3: expected a value");
	parse_err("1-x * * * *", "column 3: unexpected character 'x'");
	parse_err("1,,2 * * * *", "column 3: unexpected character ','");
	parse_err("1, * * * *", "column 3: expected a value");
	parse_err("*/ * * * *", "column 3: expected a value");
	parse_err("*/x * * * *", "column 3: unexpected character 'x'");
	parse_err("*/61 * * * *", "column 3: step 61 is out of range (1-60)");
	parse_err("0 0 * * */8", "column 11: step 8 is out of range (1-7)");
	parse_err("1;2 * * * *", "column 2: unexpected character ';'");
	parse_err("** * * * *", "column 2: unexpected character '*'");
	parse_err("1-2-3 * * * *", "column 4: unexpected character '-'");
	parse_err("0 0 * * 1\001", "column 10: unexpected byte 0x01");
	parse_err("0 0 * * 1/0", "column 11: step 0 is not allowed");
	/* Schedules that never fire. */
	parse_err("0 3 31 2 *", "it never fires: no month it names has day "
	    "31");
	parse_err("0 0 30 2 *", "it never fires: no month it names has day "
	    "30");
	parse_err("0 0 31 4,6,9,11 *", "it never fires: no month it names "
	    "has day 31");
	parse_err("0 0 30,31 feb *", "it never fires: no month it names has "
	    "day 30");
	/* ... unless a day of the week stands in, or another month has it. */
	parse_ok("0 0 31 2 mon");
	parse_ok("0 0 31 2,3 *");
	parse_ok("0 0 29 2 *");
}
END_TEST

START_TEST(test_match)
{
	struct cron	c;

	c = parse_ok("30 12 * * *");
	/* Seconds are ignored. */
	ck_assert(cron_match(&c, utc(2024, 5, 1, 12, 30) + 45));
	ck_assert(!cron_match(&c, utc(2024, 5, 1, 12, 31)));
	ck_assert(!cron_match(&c, utc(2024, 5, 1, 13, 30)));

	c = parse_ok("0 0 * * 7");
	ck_assert(cron_match(&c, utc(2024, 9, 1, 0, 0)));	/* Sunday */
	ck_assert(!cron_match(&c, utc(2024, 9, 2, 0, 0)));

	/* Both day fields restricted: either one matching is enough. */
	c = parse_ok("0 0 13 * fri");
	ck_assert(cron_match(&c, utc(2024, 9, 13, 0, 0)));	/* Fri 13th */
	ck_assert(cron_match(&c, utc(2024, 9, 6, 0, 0)));	/* Friday */
	ck_assert(cron_match(&c, utc(2024, 10, 13, 0, 0)));	/* Sunday */
	ck_assert(!cron_match(&c, utc(2024, 10, 14, 0, 0)));	/* Monday */

	/* One of them starts with '*': both must match. */
	c = parse_ok("0 0 */2 * fri");
	ck_assert(cron_match(&c, utc(2024, 9, 13, 0, 0)));	/* odd Friday */
	ck_assert(!cron_match(&c, utc(2024, 9, 6, 0, 0)));	/* even Friday */
	ck_assert(!cron_match(&c, utc(2024, 9, 7, 0, 0)));	/* odd Saturday */
	c = parse_ok("0 0 13 * *");
	ck_assert(!cron_match(&c, utc(2024, 9, 6, 0, 0)));
	c = parse_ok("0 0 * * fri");
	ck_assert(!cron_match(&c, utc(2024, 10, 13, 0, 0)));
}
END_TEST

START_TEST(test_next_utc)
{
	next_is("* * * * *", utc(2024, 5, 1, 12, 0) + 30,
	    utc(2024, 5, 1, 12, 1));
	/* Strictly after. */
	next_is("* * * * *", utc(2024, 5, 1, 12, 0), utc(2024, 5, 1, 12, 1));
	next_is("*/15 * * * *", utc(2024, 5, 1, 10, 7),
	    utc(2024, 5, 1, 10, 15));
	next_is("*/15 * * * *", utc(2024, 5, 1, 10, 45),
	    utc(2024, 5, 1, 11, 0));
	next_is("10-40/15 */6 * * *", utc(2024, 5, 1, 6, 41),
	    utc(2024, 5, 1, 12, 10));
	next_is("0 9 * * mon-fri", utc(2024, 5, 3, 10, 0),
	    utc(2024, 5, 6, 9, 0));
	/* Month ends: April has 30 days. */
	next_is("0 12 31 * *", utc(2024, 4, 1, 0, 0), utc(2024, 5, 31, 12, 0));
	/* Year ends. */
	next_is("0 0 1 1 *", utc(2023, 12, 31, 23, 59),
	    utc(2024, 1, 1, 0, 0));
	next_is("59 23 31 12 *", utc(2024, 12, 31, 23, 59),
	    utc(2025, 12, 31, 23, 59));
	next_is("0 0 * jan *", utc(2024, 2, 1, 0, 0), utc(2025, 1, 1, 0, 0));
	/* Leap days. */
	next_is("0 0 29 2 *", utc(2023, 3, 1, 0, 0), utc(2024, 2, 29, 0, 0));
	next_is("0 0 29 2 *", utc(2024, 2, 29, 0, 0), utc(2028, 2, 29, 0, 0));
	/* 2100 is not a leap year: eight years is past the limit. */
	next_is("0 0 29 2 *", utc(2096, 3, 1, 0, 0), (time_t)-1);
	/* Impossible dates are refused by the parser (test_parse_errors). */
	/* The day rule: the 13th or a Friday, whichever comes first. */
	next_is("0 0 13 * fri", utc(2024, 9, 7, 0, 0), utc(2024, 9, 13, 0, 0));
	next_is("0 0 13 * fri", utc(2024, 10, 11, 0, 0),
	    utc(2024, 10, 13, 0, 0));
	next_is("0 0 13 * fri", utc(2024, 10, 13, 0, 0),
	    utc(2024, 10, 18, 0, 0));
	next_is("0 0 */2 * fri", utc(2024, 9, 1, 0, 0),
	    utc(2024, 9, 13, 0, 0));

	compare_scan("* * * * *", utc(2024, 1, 1, 0, 0), utc(2024, 1, 2, 0, 0));
	compare_scan("*/7 3-5 * * *", utc(2024, 2, 27, 0, 0),
	    utc(2024, 3, 2, 0, 0));
	compare_scan("0 0 13 * fri", utc(2024, 9, 1, 0, 0),
	    utc(2024, 10, 20, 0, 0));
	compare_scan("15 10 * * 1,3", utc(2024, 12, 25, 0, 0),
	    utc(2025, 1, 10, 0, 0));
	compare_scan("0 12 28-31 * *", utc(2024, 1, 25, 0, 0),
	    utc(2024, 3, 1, 0, 0));
}
END_TEST

START_TEST(test_next_dst)
{
	if (!have_zone("America/New_York"))
		return;
	set_tz("America/New_York");
	/* 2024-03-10 02:00 EST becomes 03:00 EDT: 02:30 does not exist. */
	next_is("30 2 * * *", utc(2024, 3, 9, 17, 0), utc(2024, 3, 11, 6, 30));
	next_is("*/30 * * * *", utc(2024, 3, 10, 6, 45),
	    utc(2024, 3, 10, 7, 0));
	next_is("0 0 * * *", utc(2024, 3, 9, 17, 0), utc(2024, 3, 10, 5, 0));
	next_is("0 0 * * *", utc(2024, 3, 10, 5, 0), utc(2024, 3, 11, 4, 0));
	next_is("0 3 * * *", utc(2024, 3, 10, 6, 59), utc(2024, 3, 10, 7, 0));
	/* 2024-11-03 02:00 EDT becomes 01:00 EST: 01:30 happens twice. */
	next_is("30 1 * * *", utc(2024, 11, 2, 16, 0),
	    utc(2024, 11, 3, 5, 30));
	next_is("30 1 * * *", utc(2024, 11, 3, 5, 40),
	    utc(2024, 11, 3, 6, 30));
	next_is("0 2 * * *", utc(2024, 11, 3, 5, 40), utc(2024, 11, 3, 7, 0));
	compare_scan("*/20 * * * *", utc(2024, 3, 9, 12, 0),
	    utc(2024, 3, 11, 12, 0));
	compare_scan("30 2 * * *", utc(2024, 3, 8, 12, 0),
	    utc(2024, 3, 11, 12, 0));
	compare_scan("0,30 1-2 * * *", utc(2024, 11, 2, 12, 0),
	    utc(2024, 11, 4, 12, 0));
	compare_scan("0 0 * * sun", utc(2024, 10, 30, 0, 0),
	    utc(2024, 11, 5, 0, 0));
}
END_TEST

START_TEST(test_next_dst_midnight)
{
	/* Brazil started DST at midnight: 2018-11-04 00:00 was 01:00. */
	if (!have_zone("America/Sao_Paulo"))
		return;
	set_tz("America/Sao_Paulo");
	next_is("0 12 4 11 *", utc(2018, 11, 3, 13, 0),
	    utc(2018, 11, 4, 14, 0));
	next_is("0 0 * * *", utc(2018, 11, 3, 13, 0), utc(2018, 11, 5, 2, 0));
	next_is("0 1 * * *", utc(2018, 11, 3, 13, 0), utc(2018, 11, 4, 3, 0));
	compare_scan("0 * 4 11 *", utc(2018, 11, 2, 12, 0),
	    utc(2018, 11, 4, 12, 0));
	compare_scan("15 0,1 * * *", utc(2018, 11, 2, 12, 0),
	    utc(2018, 11, 5, 12, 0));
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc = tcase_create("cron");

	tcase_add_checked_fixture(tc, setup_utc, NULL);
	tcase_add_test(tc, test_parse_forms);
	tcase_add_test(tc, test_parse_names);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_next_utc);
	tcase_add_test(tc, test_next_dst);
	tcase_add_test(tc, test_next_dst_midnight);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cron_suite)
