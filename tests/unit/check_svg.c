/*
 * HTML escaping and the SVG primitives of the report: scales, round
 * ticks and their labels, the paths of lines, steps and bands (a NAN
 * breaks them), points with tooltips, and text that never becomes markup.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"

#include "strbuf.h"
#include "svg.h"

/* s escaped, as a string the caller frees. */
static char *
escaped(const char *s, size_t n)
{
	struct strbuf	sb;

	strbuf_init(&sb);
	html_escape_n(&sb, s, n);
	strbuf_addc(&sb, '\0');
	return strbuf_detach(&sb);
}

static void
expect_escaped(const char *in, size_t n, const char *want)
{
	char	*got = escaped(in, n);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_escape)
{
	const char	bad[] = "a\xff" "b\xc3";	/* stray and cut short */
	const char	nul[] = "x\0y";

	expect_escaped("<b>\"Tom\" & 'Jerry'</b>", 23,
	    "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
	expect_escaped("caf\xc3\xa9 \xe2\x82\xac", 9, "caf\xc3\xa9 \xe2\x82\xac");
	expect_escaped(bad, 4, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	/* Controls other than tab, newline and CR go, NUL included. */
	expect_escaped("a\tb\nc\x01" "d\x7f" "e", 9, "a\tb\nc" "de");
	expect_escaped(nul, 3, "xy");
	/* An overlong '<' and a surrogate are not characters. */
	expect_escaped("\xc0\xbc", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	expect_escaped("\xed\xa0\x80", 3,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* C1 controls and noncharacters are parse errors in HTML. */
	expect_escaped("\xc2\x85z\xef\xbf\xbe", 6, "z");
}
END_TEST

START_TEST(test_scale)
{
	struct scale	sc;
	double		ticks[PLOT_MAX_TICKS];
	size_t		n;

	scale_init(&sc, 0, 10, 100, 200);
	ck_assert_double_eq_tol(scale_map(&sc, 5), 150, 1e-9);
	scale_init(&sc, 0, 1, 300, 20);		/* a y axis */
	ck_assert_double_eq_tol(scale_map(&sc, 1), 20, 1e-9);
	ck_assert_double_eq_tol(scale_map(&sc, 0.25), 230, 1e-9);
	/* An empty domain is widened, not divided by zero. */
	scale_init(&sc, 3, 3, 0, 100);
	ck_assert(sc.d0 < 3 && sc.d1 > 3);
	ck_assert(isfinite(scale_map(&sc, 3)));
	scale_init(&sc, NAN, NAN, 0, 100);
	ck_assert(isfinite(scale_map(&sc, 0)));

	scale_init(&sc, 0.13, 0.87, 0, 100);
	n = scale_nice(&sc, 5, ticks, PLOT_MAX_TICKS);
	ck_assert_uint_eq(n, 9);
	ck_assert_double_eq_tol(sc.d0, 0.1, 1e-12);
	ck_assert_double_eq_tol(sc.d1, 0.9, 1e-12);
	ck_assert_double_eq_tol(ticks[1], 0.2, 1e-12);
	scale_init(&sc, 3, 1234, 0, 100);
	n = scale_nice(&sc, 6, ticks, PLOT_MAX_TICKS);
	ck_assert_double_eq_tol(sc.d0, 0, 1e-9);
	ck_assert_double_eq_tol(sc.d1, 1400, 1e-9);
	ck_assert_uint_eq(n, 8);
	/* Never more ticks than asked room for. */
	scale_init(&sc, 0, 1000, 0, 100);
	n = scale_nice(&sc, 500, ticks, 4);
	ck_assert(n >= 2 && n <= 4);
	ck_assert_double_eq_tol(ticks[n - 1], sc.d1, 1e-9);
}
END_TEST

START_TEST(test_labels)
{
	char	buf[32];

	scale_label(0.25, 0.05, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.25");
	scale_label(0.5, 0.1, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.5");
	scale_label(3, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "3");
	scale_label(1500, 500, buf, sizeof buf);
	ck_assert_str_eq(buf, "1500");
	scale_label(2500, 2500, buf, sizeof buf);
	ck_assert_str_eq(buf, "2.5k");
	scale_label(12e6, 2e6, buf, sizeof buf);
	ck_assert_str_eq(buf, "12M");
	scale_label(-1e-17, 0.2, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.0");
}
END_TEST

START_TEST(test_plot)
{
	struct strbuf	 sb;
	struct plot	 p;
	double		 x[] = { 0, 1, 2, NAN, 4, 5 };
	double		 y[] = { 0.1, 0.5, 0.4, 0.3, 0.8, 0.9 };
	double		 lo[] = { 0, 0.4, 0.3, 0.2, 0.7, 0.8 };
	double		 hi[] = { 0.2, 0.6, 0.5, 0.4, 0.9, 1 };
	const char	*labels[] = { "mutate <evo>" };
	const char	*classes[] = { "c0" };
	size_t		 i;
	char		*s;

	strbuf_init(&sb);
	plot_begin(&p, &sb, 640, 240, "score & calls", 0, 5, 0, 1);
	ck_assert_double_eq_tol(scale_map(&p.x, 0), p.left, 1e-9);
	ck_assert_double_eq_tol(scale_map(&p.y, 1), p.top, 1e-9);
	plot_axes(&p, "paid calls", "dev score");
	plot_line(&p, x, y, 6, "best");
	plot_step(&p, x, y, 6, "champion");
	plot_band(&p, x, lo, hi, 6, "ci");
	for (i = 0; i < 6; i++)
		plot_point(&p, x[i], y[i], 3, "c1", "a \"quoted\" <prompt>");
	plot_bar(&p, 1, 2, 0.5, "bar", NULL);
	plot_rule(&p, 4, "promotion", "v2");
	plot_legend(&p, labels, classes, 1);
	plot_end(&p);
	strbuf_addc(&sb, '\0');
	s = strbuf_detach(&sb);

	ck_assert(strncmp(s, "<svg class=\"plot\" viewBox=\"0 0 640 240\"",
	    39) == 0);
	ck_assert(strstr(s, "aria-label=\"score &amp; calls\"") != NULL);
	ck_assert(strstr(s, "<title>score &amp; calls</title>") != NULL);
	/* The NAN breaks the line and the band in two pieces each. */
	ck_assert_uint_eq(check_occurrences(s, "<path class=\"line best\""), 1);
	ck_assert_uint_eq(check_occurrences(s, " M"), 2 + 2 + 2);
	ck_assert_uint_eq(check_occurrences(s, " Z"), 2);
	/* A point for each finite pair, each with its escaped tooltip. */
	ck_assert_uint_eq(check_occurrences(s, "<circle class=\"pt c1\""), 5);
	ck_assert_uint_eq(check_occurrences(s,
	    "<title>a &quot;quoted&quot; &lt;prompt&gt;</title></circle>"), 5);
	ck_assert(strstr(s, "mutate &lt;evo&gt;") != NULL);
	ck_assert(strstr(s, "<prompt>") == NULL);
	ck_assert(strstr(s, "-0.0") == NULL);
	ck_assert(strstr(s, "nan") == NULL);
	ck_assert(strstr(s, "</svg>\n") != NULL);
	free(s);
}
END_TEST

/* A bar's rectangle stands on the x axis: its bottom is the baseline. */
START_TEST(test_bar)
{
	struct strbuf	 sb;
	struct plot	 p;
	double		 y, h;
	char		*s, *r;

	strbuf_init(&sb);
	plot_begin(&p, &sb, 400, 200, "h", 0, 10, 0, 4);
	plot_bar(&p, 2, 3, 4, "bar", "4 calls");
	strbuf_addc(&sb, '\0');
	s = strbuf_detach(&sb);
	ck_assert_ptr_nonnull(r = strstr(s, "<rect "));
	ck_assert_int_eq(sscanf(strstr(r, "y=\""), "y=\"%lf\"", &y), 1);
	ck_assert_int_eq(sscanf(strstr(r, "height=\""), "height=\"%lf\"",
	    &h), 1);
	ck_assert_double_eq_tol(y, p.top, 0.05);
	ck_assert_double_eq_tol(y + h, p.height - p.bottom, 0.1);
	ck_assert(strstr(r, "<title>4 calls</title></rect>") != NULL);
	free(s);
}
END_TEST

static Suite *
svg_suite(void)
{
	Suite	*s = suite_create("svg");
	TCase	*tc = tcase_create("svg");

	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_scale);
	tcase_add_test(tc, test_labels);
	tcase_add_test(tc, test_plot);
	tcase_add_test(tc, test_bar);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(svg_suite)
