/* HTML escaping, scales and the marks of inline SVG plots (see svg.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"
#include "svg.h"
#include "util.h"

/*
 * Whether HTML reads code point c as a parse error: the control
 * characters other than tab, newline and carriage return, and the
 * noncharacters.
 */
static int
html_forbidden(uint32_t c)
{
	if (c < 0x20)
		return c != '\t' && c != '\n' && c != '\r';
	if (c >= 0x7f && c <= 0x9f)
		return 1;
	if (c >= 0xfdd0 && c <= 0xfdef)
		return 1;
	return (c & 0xfffe) == 0xfffe;
}

void
html_escape_n(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, len;
	uint32_t		 c;

	if (s == NULL)
		return;
	while (i < n) {
		switch (p[i]) {
		case '&':
			strbuf_adds(sb, "&amp;");
			i++;
			continue;
		case '<':
			strbuf_adds(sb, "&lt;");
			i++;
			continue;
		case '>':
			strbuf_adds(sb, "&gt;");
			i++;
			continue;
		case '"':
			strbuf_adds(sb, "&quot;");
			i++;
			continue;
		case '\'':
			strbuf_adds(sb, "&#39;");
			i++;
			continue;
		}
		if ((len = utf8_decode(s + i, n - i, &c)) == 0) {
			strbuf_adds(sb, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
			continue;
		}
		if (!html_forbidden(c))
			strbuf_add(sb, p + i, len);
		i += len;
	}
}

void
html_escape(struct strbuf *sb, const char *s)
{
	if (s != NULL)
		html_escape_n(sb, s, strlen(s));
}

void
scale_init(struct scale *sc, double d0, double d1, double r0, double r1)
{
	double	pad;

	if (!isfinite(d0))
		d0 = isfinite(d1) ? d1 : 0;
	if (!isfinite(d1))
		d1 = d0;
	if (d0 > d1) {
		pad = d0;
		d0 = d1;
		d1 = pad;
	}
	if (d0 == d1) {
		pad = fabs(d0) > 0 ? fabs(d0) * 0.05 : 0.5;
		d0 -= pad;
		d1 += pad;
	}
	sc->d0 = d0;
	sc->d1 = d1;
	sc->r0 = r0;
	sc->r1 = r1;
}

double
scale_map(const struct scale *sc, double v)
{
	return sc->r0 + (v - sc->d0) / (sc->d1 - sc->d0) * (sc->r1 - sc->r0);
}

/* The round step (1, 2 or 5 times a power of ten) nearest raw. */
static double
nice_step(double raw)
{
	double	mag = pow(10, floor(log10(raw))), norm = raw / mag;

	if (norm < 1.5)
		return mag;
	if (norm < 3)
		return 2 * mag;
	if (norm < 7)
		return 5 * mag;
	return 10 * mag;
}

size_t
scale_nice(struct scale *sc, size_t want, double *ticks, size_t max)
{
	double	step, lo, hi;
	size_t	n, i, tries;

	if (want < 1)
		want = 1;
	if (max < 2)
		return 0;
	step = nice_step((sc->d1 - sc->d0) / (double)want);
	/* A step too small for the ticks to fit grows, a bounded number of
	 * times (each at least doubles it). */
	for (tries = 0; tries < 64; tries++) {
		lo = floor(sc->d0 / step + 1e-9) * step;
		hi = ceil(sc->d1 / step - 1e-9) * step;
		n = (size_t)llround((hi - lo) / step) + 1;
		if (n <= max)
			break;
		step = nice_step(step * 1.5);
	}
	if (tries == 64)
		return 0;
	sc->d0 = lo;
	sc->d1 = hi;
	for (i = 0; i < n; i++) {
		ticks[i] = lo + (double)i * step;
		if (fabs(ticks[i]) < step * 1e-9)
			ticks[i] = 0;
	}
	return n;
}

/* How many decimals a multiple of step needs (2.5 needs one). */
static int
step_decimals(double step)
{
	double	v;
	int	d;

	if (!(step > 0))
		return 0;
	for (d = 0; d < 9; d++) {
		v = step * pow(10, d);
		if (fabs(v - round(v)) < 1e-6 * (v > 1 ? v : 1))
			break;
	}
	return d;
}

void
scale_label(double v, double step, char *buf, size_t len)
{
	const char	*unit = "";
	double		 div = 1;

	step = fabs(step);
	if (step >= 1e6) {
		div = 1e6;
		unit = "M";
	} else if (step >= 1e3) {
		div = 1e3;
		unit = "k";
	}
	if (fabs(v) < step * 1e-9)
		v = 0;
	snprintf(buf, len, "%.*f%s", step_decimals(step / div), v / div,
	    unit);
}

/* A coordinate, with one decimal and never "-0.0". */
static void
add_num(struct strbuf *sb, double v)
{
	if (!isfinite(v))
		v = 0;
	if (v > -0.05 && v < 0.05)
		v = 0;
	strbuf_addf(sb, "%.1f", v);
}

static void
add_xy(struct strbuf *sb, double x, double y)
{
	add_num(sb, x);
	strbuf_addc(sb, ' ');
	add_num(sb, y);
}

/* Appends ' NAME="VALUE"' with the value escaped; nothing for NULL. */
static void
add_attr(struct strbuf *sb, const char *name, const char *value)
{
	if (value == NULL)
		return;
	strbuf_addf(sb, " %s=\"", name);
	html_escape(sb, value);
	strbuf_addc(sb, '"');
}

/* Ends a mark: with its tooltip as a <title>, or as an empty element. */
static void
end_mark(struct strbuf *sb, const char *tag, const char *title)
{
	if (title == NULL) {
		strbuf_adds(sb, "/>");
		return;
	}
	strbuf_adds(sb, "><title>");
	html_escape(sb, title);
	strbuf_addf(sb, "</title></%s>", tag);
}

void
svg_text(struct strbuf *sb, double x, double y, const char *anchor,
    const char *cls, const char *text)
{
	strbuf_adds(sb, "<text x=\"");
	add_num(sb, x);
	strbuf_adds(sb, "\" y=\"");
	add_num(sb, y);
	strbuf_addc(sb, '"');
	add_attr(sb, "text-anchor", anchor);
	add_attr(sb, "class", cls);
	strbuf_addc(sb, '>');
	html_escape(sb, text);
	strbuf_adds(sb, "</text>");
}

void
svg_rect(struct strbuf *sb, double x, double y, double w, double h,
    const char *cls, const char *title)
{
	strbuf_adds(sb, "<rect x=\"");
	add_num(sb, x);
	strbuf_adds(sb, "\" y=\"");
	add_num(sb, y);
	strbuf_adds(sb, "\" width=\"");
	add_num(sb, w < 0 ? 0 : w);
	strbuf_adds(sb, "\" height=\"");
	add_num(sb, h < 0 ? 0 : h);
	strbuf_addc(sb, '"');
	add_attr(sb, "class", cls);
	end_mark(sb, "rect", title);
}

void
plot_begin(struct plot *p, struct strbuf *sb, double width, double height,
    const char *label, double x0, double x1, double y0, double y1)
{
	memset(p, 0, sizeof *p);
	p->sb = sb;
	p->width = width;
	p->height = height;
	p->left = 56;
	p->right = 16;
	p->top = 16;
	p->bottom = 40;
	scale_init(&p->x, x0, x1, p->left, width - p->right);
	scale_init(&p->y, y0, y1, height - p->bottom, p->top);
	p->nxticks = scale_nice(&p->x, width > 480 ? 8 : 4, p->xticks,
	    PLOT_MAX_TICKS);
	p->nyticks = scale_nice(&p->y, 5, p->yticks, PLOT_MAX_TICKS);
	strbuf_addf(sb, "<svg class=\"plot\" viewBox=\"0 0 %.0f %.0f\" "
	    "width=\"%.0f\" height=\"%.0f\" role=\"img\"", width, height,
	    width, height);
	add_attr(sb, "aria-label", label);
	strbuf_adds(sb, "><title>");
	html_escape(sb, label);
	strbuf_adds(sb, "</title>\n");
}

/* The labels of a scale's ticks along one axis. */
static void
axis_ticks(struct plot *p, int vertical)
{
	const double	*t = vertical ? p->yticks : p->xticks;
	size_t		 n = vertical ? p->nyticks : p->nxticks, i;
	double		 step, v;
	char		 label[32];

	step = n > 1 ? t[1] - t[0] : 1;
	for (i = 0; i < n; i++) {
		scale_label(t[i], step, label, sizeof label);
		strbuf_adds(p->sb, "<path class=\"grid\" d=\"M");
		if (vertical) {
			v = scale_map(&p->y, t[i]);
			add_xy(p->sb, p->left, v);
			strbuf_adds(p->sb, " H");
			add_num(p->sb, p->width - p->right);
			strbuf_adds(p->sb, "\"/>");
			svg_text(p->sb, p->left - 6, v + 4, "end", "tick",
			    label);
		} else {
			v = scale_map(&p->x, t[i]);
			add_xy(p->sb, v, p->top);
			strbuf_adds(p->sb, " V");
			add_num(p->sb, p->height - p->bottom);
			strbuf_adds(p->sb, "\"/>");
			svg_text(p->sb, v, p->height - p->bottom + 16,
			    "middle", "tick", label);
		}
		strbuf_addc(p->sb, '\n');
	}
}

void
plot_axes(struct plot *p, const char *xlabel, const char *ylabel)
{
	double	mid;

	strbuf_adds(p->sb, "<g class=\"axes\">\n");
	axis_ticks(p, 0);
	axis_ticks(p, 1);
	strbuf_adds(p->sb, "<path class=\"axis\" d=\"M");
	add_xy(p->sb, p->left, p->top);
	strbuf_adds(p->sb, " V");
	add_num(p->sb, p->height - p->bottom);
	strbuf_adds(p->sb, " H");
	add_num(p->sb, p->width - p->right);
	strbuf_adds(p->sb, "\"/>\n");
	if (xlabel != NULL)
		svg_text(p->sb, (p->left + p->width - p->right) / 2,
		    p->height - 6, "middle", "axis-title", xlabel);
	if (ylabel != NULL) {
		mid = (p->top + p->height - p->bottom) / 2;
		strbuf_adds(p->sb, "<g transform=\"rotate(-90)\">");
		svg_text(p->sb, -mid, 14, "middle", "axis-title", ylabel);
		strbuf_adds(p->sb, "</g>");
	}
	strbuf_adds(p->sb, "</g>\n");
}

/* Opens a <path> of class cls (with "line" before it). */
static void
path_open(struct plot *p, const char *kind, const char *cls)
{
	strbuf_addf(p->sb, "<path class=\"%s", kind);
	if (cls != NULL) {
		strbuf_addc(p->sb, ' ');
		html_escape(p->sb, cls);
	}
	strbuf_adds(p->sb, "\" d=\"");
}

static int
both_finite(double a, double b)
{
	return isfinite(a) && isfinite(b);
}

/*
 * The path through (x[i], y[i]) as lines or, with steps, as steps (each
 * y holding until the next x); a NAN ends a piece.
 */
static void
plot_path(struct plot *p, const double *x, const double *y, size_t n,
    const char *cls, int steps)
{
	size_t	i;
	int	pen = 0;

	path_open(p, "line", cls);
	for (i = 0; i < n; i++) {
		if (!both_finite(x[i], y[i])) {
			pen = 0;
			continue;
		}
		if (pen && steps) {
			strbuf_adds(p->sb, " H");
			add_num(p->sb, scale_map(&p->x, x[i]));
			strbuf_adds(p->sb, " V");
			add_num(p->sb, scale_map(&p->y, y[i]));
		} else {
			strbuf_adds(p->sb, pen ? " L" : " M");
			add_xy(p->sb, scale_map(&p->x, x[i]),
			    scale_map(&p->y, y[i]));
		}
		pen = 1;
	}
	strbuf_adds(p->sb, "\"/>\n");
}

void
plot_line(struct plot *p, const double *x, const double *y, size_t n,
    const char *cls)
{
	plot_path(p, x, y, n, cls, 0);
}

void
plot_step(struct plot *p, const double *x, const double *y, size_t n,
    const char *cls)
{
	plot_path(p, x, y, n, cls, 1);
}

/* One piece of a band: indices from to to (inclusive), all finite. */
static void
band_piece(struct plot *p, const double *x, const double *lo,
    const double *hi, size_t from, size_t to)
{
	size_t	i;

	strbuf_adds(p->sb, " M");
	add_xy(p->sb, scale_map(&p->x, x[from]), scale_map(&p->y, hi[from]));
	for (i = from + 1; i <= to; i++) {
		strbuf_adds(p->sb, " H");
		add_num(p->sb, scale_map(&p->x, x[i]));
		strbuf_adds(p->sb, " V");
		add_num(p->sb, scale_map(&p->y, hi[i]));
	}
	strbuf_adds(p->sb, " V");
	add_num(p->sb, scale_map(&p->y, lo[to]));
	for (i = to; i > from; i--) {
		strbuf_adds(p->sb, " H");
		add_num(p->sb, scale_map(&p->x, x[i]));
		strbuf_adds(p->sb, " V");
		add_num(p->sb, scale_map(&p->y, lo[i - 1]));
	}
	strbuf_adds(p->sb, " H");
	add_num(p->sb, scale_map(&p->x, x[from]));
	strbuf_adds(p->sb, " Z");
}

void
plot_band(struct plot *p, const double *x, const double *lo,
    const double *hi, size_t n, const char *cls)
{
	size_t	i, from = 0;
	int	open = 0;

	path_open(p, "band", cls);
	for (i = 0; i <= n; i++) {
		if (i < n && both_finite(x[i], lo[i]) && isfinite(hi[i])) {
			if (!open)
				from = i;
			open = 1;
			continue;
		}
		if (open)
			band_piece(p, x, lo, hi, from, i - 1);
		open = 0;
	}
	strbuf_adds(p->sb, "\"/>\n");
}

void
plot_point(struct plot *p, double x, double y, double r, const char *cls,
    const char *title)
{
	if (!both_finite(x, y))
		return;
	strbuf_adds(p->sb, "<circle class=\"pt");
	if (cls != NULL) {
		strbuf_addc(p->sb, ' ');
		html_escape(p->sb, cls);
	}
	strbuf_adds(p->sb, "\" cx=\"");
	add_num(p->sb, scale_map(&p->x, x));
	strbuf_adds(p->sb, "\" cy=\"");
	add_num(p->sb, scale_map(&p->y, y));
	strbuf_adds(p->sb, "\" r=\"");
	add_num(p->sb, r);
	strbuf_addc(p->sb, '"');
	end_mark(p->sb, "circle", title);
	strbuf_addc(p->sb, '\n');
}

void
plot_bar(struct plot *p, double x0, double x1, double y, const char *cls,
    const char *title)
{
	double	base, top, left, right;

	if (!both_finite(x0, x1) || !isfinite(y))
		return;
	base = p->y.d0 > 0 ? p->y.d0 : p->y.d1 < 0 ? p->y.d1 : 0;
	base = scale_map(&p->y, base);
	top = scale_map(&p->y, y);
	left = scale_map(&p->x, x0);
	right = scale_map(&p->x, x1);
	svg_rect(p->sb, left, top < base ? top : base, right - left,
	    fabs(base - top), cls, title);
	strbuf_addc(p->sb, '\n');
}

void
plot_rule(struct plot *p, double x, const char *cls, const char *label)
{
	double	px;

	if (!isfinite(x))
		return;
	px = scale_map(&p->x, x);
	path_open(p, "rule", cls);
	strbuf_adds(p->sb, "M");
	add_xy(p->sb, px, p->top);
	strbuf_adds(p->sb, " V");
	add_num(p->sb, p->height - p->bottom);
	strbuf_adds(p->sb, "\"/>");
	if (label != NULL)
		svg_text(p->sb, px + 3, p->top + 10, NULL, "rule-label",
		    label);
	strbuf_addc(p->sb, '\n');
}

void
plot_legend(struct plot *p, const char *const *labels,
    const char *const *classes, size_t n)
{
	double	x = p->width - p->right - 6, y;
	size_t	i;

	strbuf_adds(p->sb, "<g class=\"legend\">");
	for (i = 0; i < n; i++) {
		y = p->top + 6 + 16 * (double)i;
		svg_rect(p->sb, x - 10, y, 10, 10, classes[i], NULL);
		svg_text(p->sb, x - 14, y + 9, "end", "legend-text",
		    labels[i]);
	}
	strbuf_adds(p->sb, "</g>\n");
}

void
plot_end(struct plot *p)
{
	strbuf_adds(p->sb, "</svg>\n");
}
