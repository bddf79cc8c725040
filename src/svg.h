/*
 * Writing HTML and inline SVG into a strbuf: escaping, linear scales with
 * round ticks, and the marks a plot is made of (axes, lines, steps,
 * bands, points, bars, rules, text).  Nothing here knows promptd: the
 * report (report.c) draws with it.
 *
 * Every text is escaped on the way out, so a prompt or a model's answer
 * never becomes markup.  Colours are not written here: marks carry CSS
 * classes and the page's style sheet colours them, so that a plot reads
 * the same on screen and printed.  Coordinates are written with one
 * decimal, which keeps a plot of thousands of points small.
 */
#ifndef SVG_H
#define SVG_H

#include <stddef.h>

struct strbuf;

/*
 * Appends s escaped for HTML and XML text and attribute values (& < >
 * " ' as entities).  Bytes that are not UTF-8 become U+FFFD, and control
 * characters other than tab, newline and carriage return are dropped
 * (XML has no way to write them).  NULL appends nothing.
 */
void	html_escape(struct strbuf *, const char *s);
/* The same for the first n bytes of s. */
void	html_escape_n(struct strbuf *, const char *s, size_t n);

/*
 * A linear map from a domain (d0..d1) to a range of pixels (r0..r1; r0 >
 * r1 for a y axis, which grows downwards).
 */
struct scale {
	double	d0, d1;
	double	r0, r1;
};
/* An empty domain (d0 == d1, or not finite) is widened around d0 (0). */
void	scale_init(struct scale *, double d0, double d1, double r0, double r1);
double	scale_map(const struct scale *, double v);
/*
 * Widens the domain to round ends (a multiple of 1, 2 or 5 times a power
 * of ten) with about want intervals, and writes the ticks, at most max,
 * into ticks.  Returns how many.
 */
size_t	scale_nice(struct scale *, size_t want, double *ticks, size_t max);
/*
 * A tick's label: v written with as many decimals as step needs, and
 * thousands and millions as k and M ("0.25", "1.5k", "12M").
 */
void	scale_label(double v, double step, char *buf, size_t len);

#define PLOT_MAX_TICKS	16

/*
 * One plot: an <svg class="plot"> of width by height pixels whose inner
 * area (inside the margins) maps the scales.
 */
struct plot {
	struct strbuf	*sb;
	double		 width, height;
	double		 left, right, top, bottom;	/* margins */
	struct scale	 x, y;
	double		 xticks[PLOT_MAX_TICKS];
	size_t		 nxticks;
	double		 yticks[PLOT_MAX_TICKS];
	size_t		 nyticks;
};
/*
 * Opens a plot of the data domain x0..x1 by y0..y1 (widened to round
 * ticks), labelled (for screen readers and as its tooltip) by label.
 */
void	plot_begin(struct plot *, struct strbuf *, double width, double height,
	    const char *label, double x0, double x1, double y0, double y1);
/* Grid lines, ticks and their labels, and the axes' titles (or NULL). */
void	plot_axes(struct plot *, const char *xlabel, const char *ylabel);
/* A line through (x[i], y[i]); a NAN ends a piece, the next starts anew. */
void	plot_line(struct plot *, const double *x, const double *y, size_t n,
	    const char *cls);
/* A step line: each y holds until the next x (for a best-so-far). */
void	plot_step(struct plot *, const double *x, const double *y, size_t n,
	    const char *cls);
/* A band between lo and hi, as steps like plot_step(). */
void	plot_band(struct plot *, const double *x, const double *lo,
	    const double *hi, size_t n, const char *cls);
/* A point of radius r with a tooltip (NULL for none). */
void	plot_point(struct plot *, double x, double y, double r,
	    const char *cls, const char *title);
/* A bar from x0 to x1, from the x axis up to y, with a tooltip. */
void	plot_bar(struct plot *, double x0, double x1, double y,
	    const char *cls, const char *title);
/* A vertical rule at x across the plot, with a label at its top. */
void	plot_rule(struct plot *, double x, const char *cls,
	    const char *label);
/*
 * A legend in the top right corner of the inner area: a swatch of class
 * classes[i] and the text labels[i] for each of n.
 */
void	plot_legend(struct plot *, const char *const *labels,
	    const char *const *classes, size_t n);
void	plot_end(struct plot *);

/* Free marks, in pixels. */
void	svg_text(struct strbuf *, double x, double y, const char *anchor,
	    const char *cls, const char *text);
void	svg_rect(struct strbuf *, double x, double y, double w, double h,
	    const char *cls, const char *title);

#endif
