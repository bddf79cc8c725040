/*
 * The report's calls section, from the run's calls (r->calls) and the
 * store's counts by role: a latency histogram per backend, attempts and
 * failures by cause, and spend and reply outcomes by role.
 *
 * What a reader of the markup can count: for each of the first
 * CALLS_BACKENDS backends of the run's calls that has a timed attempt,
 * one plot of at most CALLS_BINS bins, with one <rect class="bar"> per
 * bin holding an answered attempt and one <rect class="bar error"> per
 * bin holding a failed one (stacked on it); no circle and no other rect
 * with class bar.  A bar's tooltip (its range and counts) is in the page
 * too: the count as a label over the bar, the range on the axis.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "report_plot.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/* Histograms drawn, their most bins, and failure causes listed. */
#define CALLS_BACKENDS		8
#define CALLS_BINS		24
#define CALLS_FAILURES		40
/* How much of an error message or a reply a table shows. */
#define CALLS_MESSAGE		240

/* One backend's calls in the run. */
struct backend_calls {
	const char	*name;
	double		*lat;		/* the timed attempts' latencies */
	unsigned char	*failed;	/* for each: the attempt failed */
	size_t		 nlat, cap;
	long long	 attempts, ok, errors, retries, hits;
};

static struct backend_calls *
backend_slot(struct backend_calls **b, size_t *n, const char *name)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp((*b)[i].name, name) == 0)
			return &(*b)[i];
	*b = xreallocarray(*b, *n + 1, sizeof **b);
	memset(&(*b)[*n], 0, sizeof **b);
	(*b)[*n].name = name;
	return &(*b)[(*n)++];
}

/*
 * The run's calls by backend, in the order each first appears.  A cache
 * hit is no attempt (nothing was sent), and its latency is none.
 */
static struct backend_calls *
calls_by_backend(const struct report *r, size_t *nb)
{
	struct backend_calls	*all = NULL, *b;
	const struct call_row	*c;
	size_t			 i;

	*nb = 0;
	for (i = 0; i < r->ncalls; i++) {
		c = &r->calls[i];
		b = backend_slot(&all, nb, c->backend);
		if (strcmp(c->status, "hit") == 0) {
			b->hits++;
			continue;
		}
		b->attempts++;
		if (strcmp(c->status, "ok") == 0)
			b->ok++;
		else
			b->errors++;
		if (c->attempt > 1)
			b->retries++;
		if (!isfinite(c->latency) || !(c->latency > 0))
			continue;
		if (b->nlat == b->cap) {
			b->cap = b->cap == 0 ? 256 : b->cap * 2;
			b->lat = xreallocarray(b->lat, b->cap, sizeof *b->lat);
			b->failed = xreallocarray(b->failed, b->cap, 1);
		}
		b->lat[b->nlat] = c->latency;
		b->failed[b->nlat++] = strcmp(c->status, "ok") != 0;
	}
	return all;
}

/*
 * Labels under a histogram's axis at bin edges: the whole decades when
 * the bins span two or more (at most about eight of them), else every
 * few edges.
 */
static void
latency_ticks(struct plot *p, const struct report_bins *b)
{
	double	span = b->width * (double)b->n, v;
	long	every, stride = (long)(b->n + 7) / 8;
	char	label[32];
	size_t	i;

	every = (long)ceil(span / 8);
	for (i = 0; i <= b->n; i++) {
		v = b->lo + b->width * (double)i;
		if (span >= 2) {
			if (fabs(v - round(v)) > 1e-6 || lround(v) % every != 0)
				continue;
		} else if ((long)i % stride != 0)
			continue;
		report_seconds(pow(10, v), label, sizeof label);
		/* The last edge's label ends there, not past the plot. */
		svg_text(p->sb, scale_map(&p->x, v), p->height - p->bottom + 16,
		    i == b->n ? "end" : "middle", "tick", label);
	}
}

/* A bin's bars: answered attempts, failed ones stacked on them. */
static void
latency_bin(struct plot *p, const struct report_bins *b, size_t k,
    long long ok, long long err)
{
	double	x0, x1, top, base;
	char	lo[32], hi[32], count[48], *title;

	x0 = b->lo + b->width * ((double)k + 0.06);
	x1 = b->lo + b->width * ((double)k + 0.94);
	title = xasprintf("%s to %s: %lld answered, %lld failed",
	    report_seconds(report_bins_edge(b, k), lo, sizeof lo),
	    report_seconds(report_bins_edge(b, k + 1), hi, sizeof hi), ok,
	    err);
	if (ok > 0)
		plot_bar(p, x0, x1, (double)ok, "bar", title);
	if (err > 0) {
		top = scale_map(&p->y, (double)(ok + err));
		base = scale_map(&p->y, (double)ok);
		svg_rect(p->sb, scale_map(&p->x, x0), top, scale_map(&p->x, x1) -
		    scale_map(&p->x, x0), base - top, "bar error", title);
		strbuf_addc(p->sb, '\n');
	}
	if (err > 0)
		snprintf(count, sizeof count, "%lld+%lld", ok, err);
	else
		snprintf(count, sizeof count, "%lld", ok);
	svg_text(p->sb, scale_map(&p->x, (x0 + x1) / 2), scale_map(&p->y,
	    (double)(ok + err)) - 3, "middle", "tick", count);
	strbuf_addc(p->sb, '\n');
	free(title);
}

static void
latency_histogram(struct report *r, const struct backend_calls *b)
{
	struct report_bins	 bins;
	struct plot		 p;
	long long		*ok, *err, most = 1;
	double			 min = INFINITY, max = 0, x1;
	char			*label;
	size_t			 i, k;

	for (i = 0; i < b->nlat; i++) {
		min = fmin(min, b->lat[i]);
		max = fmax(max, b->lat[i]);
	}
	report_bins_init(&bins, min, max, CALLS_BINS);
	ok = xcalloc(bins.n, sizeof *ok);
	err = xcalloc(bins.n, sizeof *err);
	for (i = 0; i < b->nlat; i++) {
		k = report_bins_find(&bins, b->lat[i]);
		if (b->failed[i])
			err[k]++;
		else
			ok[k]++;
	}
	for (k = 0; k < bins.n; k++)
		if (ok[k] + err[k] > most)
			most = ok[k] + err[k];
	label = xasprintf("latency of backend %s's attempts", b->name);
	x1 = bins.lo + bins.width * (double)bins.n;
	plot_begin(&p, r->out, 720, 220, label, bins.lo, x1, 0, (double)most);
	/* The x axis is log10 of seconds: its bins are its ends, and its
	 * labels are written as durations below, not as logarithms. */
	scale_init(&p.x, bins.lo, x1, p.left, p.width - p.right);
	p.nxticks = 0;
	plot_axes(&p, "latency (log scale)", "attempts");
	latency_ticks(&p, &bins);
	for (k = 0; k < bins.n; k++)
		if (ok[k] + err[k] > 0)
			latency_bin(&p, &bins, k, ok[k], err[k]);
	plot_end(&p);
	free(label);
	free(ok);
	free(err);
}

static int
double_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile q of n sorted values. */
static double
percentile(const double *v, size_t n, double q)
{
	size_t	i = (size_t)ceil(q * (double)n);

	return v[i > 0 ? i - 1 : 0];
}

static void
calls_latency(struct report *r, struct backend_calls *b, size_t nb)
{
	static const char *const head[] = { "backend", "#timed attempts",
	    "#median", "#90th percentile", "#99th percentile", "#slowest" };
	char	buf[4][32];
	size_t	i, j, drawn = 0;

	strbuf_adds(r->out, "<h3>Latency</h3>\n<p>How long each attempt took "
	    "to be answered or to fail, by backend. The bins are spaced on a "
	    "log scale (each a fixed fraction of a decade), since a model's "
	    "latency spans from milliseconds to minutes and a relative "
	    "difference is what matters; failed attempts are stacked on the "
	    "answered ones, and each bar is labelled with its count (answered"
	    "+failed). Cache hits are not attempts and are left out.</p>\n");
	for (i = 0; i < nb; i++) {
		if (b[i].nlat == 0)
			continue;
		if (drawn++ == CALLS_BACKENDS) {
			report_none(r, "Only the first %d backends are drawn.",
			    CALLS_BACKENDS);
			break;
		}
		strbuf_adds(r->out, "<p>");
		report_textf(r, "Backend %s, %zu timed attempt%s:", b[i].name,
		    b[i].nlat, b[i].nlat == 1 ? "" : "s");
		strbuf_adds(r->out, "</p>\n");
		latency_histogram(r, &b[i]);
	}
	report_table_open(r, "latency", head, nitems(head));
	for (i = 0; i < nb; i++) {
		strbuf_adds(r->out, "<tr><td>");
		report_text(r, b[i].name);
		strbuf_addf(r->out, "</td><td class=\"num\">%zu</td>",
		    b[i].nlat);
		if (b[i].nlat > 0) {
			qsort(b[i].lat, b[i].nlat, sizeof *b[i].lat,
			    double_cmp);
			report_seconds(percentile(b[i].lat, b[i].nlat, 0.5),
			    buf[0], sizeof buf[0]);
			report_seconds(percentile(b[i].lat, b[i].nlat, 0.9),
			    buf[1], sizeof buf[1]);
			report_seconds(percentile(b[i].lat, b[i].nlat, 0.99),
			    buf[2], sizeof buf[2]);
			report_seconds(b[i].lat[b[i].nlat - 1], buf[3],
			    sizeof buf[3]);
		} else
			for (j = 0; j < nitems(buf); j++)
				snprintf(buf[j], sizeof buf[j], "-");
		strbuf_addf(r->out, "<td class=\"num\">%s</td><td class=\"num\">"
		    "%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
		    "</tr>\n", buf[0], buf[1], buf[2], buf[3]);
	}
	report_table_close(r);
}

static void
calls_attempts(struct report *r, const struct backend_calls *b, size_t nb)
{
	static const char *const head[] = { "backend", "#attempts",
	    "#answered", "#failed", "#retries", "#cache hits" };
	size_t	i;

	strbuf_adds(r->out, "<h3>Attempts</h3>\n<p>A retry is an attempt "
	    "after the first of its request; a cache hit was answered from "
	    "the store without an attempt.</p>\n");
	report_table_open(r, "attempts", head, nitems(head));
	for (i = 0; i < nb; i++) {
		strbuf_adds(r->out, "<tr><td>");
		report_text(r, b[i].name);
		strbuf_addf(r->out, "</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
		    "</tr>\n", b[i].attempts, b[i].ok, b[i].errors,
		    b[i].retries, b[i].hits);
	}
	report_table_close(r);
}

static int
calls_failures(struct report *r, char **cause)
{
	static const char *const head[] = { "backend", "#HTTP status",
	    "message", "#attempts", "#last call" };
	struct failure_row	*f;
	size_t			 n, i;
	char			*msg;

	if (store_call_failures(r->store, r->run.id, 0, &f, &n, cause) != 0)
		return -1;
	strbuf_adds(r->out, "<h3>Failures by cause</h3>\n");
	if (n == 0) {
		report_none(r, "No attempt failed.");
		return 0;
	}
	report_table_open(r, "failures", head, nitems(head));
	for (i = 0; i < n && i < CALLS_FAILURES; i++) {
		strbuf_adds(r->out, "<tr><td>");
		report_text(r, f[i].backend);
		if (f[i].http_status != 0)
			strbuf_addf(r->out, "</td><td class=\"num\">%d</td><td>",
			    f[i].http_status);
		else
			strbuf_adds(r->out, "</td><td class=\"num\">-</td><td>");
		msg = report_excerpt(f[i].error, CALLS_MESSAGE);
		report_text(r, msg);
		free(msg);
		strbuf_addf(r->out, "</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td></tr>\n", f[i].n,
		    (long long)f[i].last);
	}
	report_table_close(r);
	if (n > CALLS_FAILURES)
		report_none(r, "The %d commonest of %zu causes.",
		    CALLS_FAILURES, n);
	store_failure_rows_free(f, n);
	return 0;
}

static void
roles_spend(struct report *r, const struct role_spend *s, size_t n)
{
	static const char *const head[] = { "role", "#paid calls",
	    "#cache hits", "#prompt tokens", "#completion tokens",
	    "#dollars" };
	size_t	i;

	strbuf_adds(r->out, "<h3>Spend by role</h3>\n");
	if (n == 0) {
		report_none(r, "No call was paid for.");
		return;
	}
	report_table_open(r, "spend", head, nitems(head));
	for (i = 0; i < n; i++) {
		strbuf_adds(r->out, "<tr><td>");
		report_text(r, s[i].role);
		strbuf_addf(r->out, "</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%.4f</td>"
		    "</tr>\n", s[i].calls, s[i].hits, s[i].prompt_tokens,
		    s[i].completion_tokens, s[i].dollars);
	}
	report_table_close(r);
}

static void
roles_outcomes(struct report *r, const struct outcome_row *o, size_t n)
{
	static const char *const head[] = { "role", "outcome", "#replies",
	    "latest problem" };
	char	*ex;
	size_t	 i;

	strbuf_adds(r->out, "<h3>Reply outcomes by role</h3>\n");
	if (n == 0) {
		report_none(r, "No optimizer or judge reply was read in this "
		    "run.");
		return;
	}
	report_table_open(r, "outcomes", head, nitems(head));
	for (i = 0; i < n; i++) {
		strbuf_adds(r->out, "<tr><td>");
		report_text(r, o[i].role);
		strbuf_adds(r->out, "</td><td>");
		report_text(r, o[i].outcome);
		strbuf_addf(r->out, "</td><td class=\"num\">%lld</td><td>",
		    o[i].n);
		if (o[i].problem != NULL)
			report_text(r, o[i].problem);
		if (o[i].excerpt != NULL) {
			ex = report_excerpt(o[i].excerpt, CALLS_MESSAGE);
			strbuf_adds(r->out, " <code>");
			report_text(r, ex);
			strbuf_adds(r->out, "</code>");
			free(ex);
		}
		strbuf_adds(r->out, "</td></tr>\n");
	}
	report_table_close(r);
}

static int
calls_roles(struct report *r, char **cause)
{
	struct role_spend	*s;
	struct outcome_row	*o;
	size_t			 ns, no;

	if (store_role_spend(r->store, r->run.id, &s, &ns, cause) != 0)
		return -1;
	if (store_outcome_counts(r->store, r->run.id, &o, &no, cause) != 0) {
		store_role_spend_free(s, ns);
		return -1;
	}
	roles_spend(r, s, ns);
	roles_outcomes(r, o, no);
	store_role_spend_free(s, ns);
	store_outcome_rows_free(o, no);
	return 0;
}

int
report_calls(struct report *r, char **cause)
{
	struct backend_calls	*b;
	size_t			 nb, i;
	int			 rc;

	if (r->run.id == 0) {
		report_none(r, "The job has no run yet, so no calls.");
		return 0;
	}
	if (r->ncalls == 0) {
		report_none(r, "Run %lld made no calls.", (long long)r->run.id);
		return 0;
	}
	b = calls_by_backend(r, &nb);
	calls_latency(r, b, nb);
	calls_attempts(r, b, nb);
	rc = calls_failures(r, cause) == 0 && calls_roles(r, cause) == 0 ?
	    0 : -1;
	for (i = 0; i < nb; i++) {
		free(b[i].lat);
		free(b[i].failed);
	}
	free(b);
	return rc;
}
