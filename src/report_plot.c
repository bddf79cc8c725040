/*
 * The report's progress section, and the small helpers it shares with
 * the calls section (report_calls.c), declared in report_plot.h.
 *
 * Progress: the reported run's candidates on the dev split of r->dataset
 * (store_run_progress), against the run's paid calls and again against
 * its dollars, with the best so far and the champion; then a table by
 * operator and the list of the candidates drawn.
 *
 * What a reader of the markup can count: one <circle class="pt cN"> per
 * candidate drawn in the plot against paid calls, and the same circles
 * again in the plot against dollars when the run cost more than $0 (else
 * that plot is a note).  Every candidate of the run's progress rows is
 * drawn when there are at most PROGRESS_POINTS; past that, each one that
 * set a new best so far and an even sample of the rest, PROGRESS_POINTS
 * in all, and the page says so.  No other circle, no rect.bar.  A
 * point's tooltip is in the page too, in the list of candidates drawn.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_int.h"
#include "report_plot.h"
#include "stats.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/* The most candidates a progress plot draws (and the list holds). */
#define PROGRESS_POINTS		2000
/* The most operators in a plot's legend (the table has them all). */
#define PROGRESS_LEGEND		10
/* The most promotions of one run drawn as rules. */
#define PROGRESS_PROMOTIONS	32
/* How much of a prompt a point's tooltip and the list show. */
#define PROGRESS_EXCERPT	90
/* The list of candidates starts open when it is this short. */
#define PROGRESS_LIST_OPEN	60

#define ELLIPSIS		"\xe2\x80\xa6"

static int
progress_cmp(const void *a, const void *b)
{
	const struct progress_row	*x = a, *y = b;

	if (x->calls != y->calls)
		return x->calls < y->calls ? -1 : 1;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->candidate < y->candidate ? -1 : x->candidate > y->candidate;
}

void
report_progress_sort(struct progress_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof *rows, progress_cmp);
}

static int
ll_cmp(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

long long
report_progress_min_n(const struct progress_row *rows, size_t n)
{
	long long	*v, m;
	size_t		 i;

	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = rows[i].n;
	qsort(v, n, sizeof *v, ll_cmp);
	m = v[(n - 1) / 2];
	free(v);
	return m;
}

size_t
report_progress_best(const struct progress_row *rows, size_t n,
    long long min_n, size_t *best)
{
	size_t	i, nb = 0;

	for (i = 0; i < n; i++) {
		if (rows[i].n < min_n || !isfinite(rows[i].mean))
			continue;
		if (nb == 0 || rows[i].mean > rows[best[nb - 1]].mean)
			best[nb++] = i;
	}
	return nb;
}

void
report_bins_init(struct report_bins *b, double min, double max, size_t most)
{
	double	lmin, lmax, lo, hi, w;
	int	k;

	if (most < 1)
		most = 1;
	if (!(min > 0))
		min = max > 0 ? max : 1;
	if (!(max >= min))
		max = min;
	lmin = log10(min);
	lmax = log10(max);
	/* The finest split of a decade that keeps to most bins. */
	for (k = 20; k >= 1; k--) {
		lo = floor(lmin * k + 1e-9) / k;
		hi = ceil(lmax * k - 1e-9) / k;
		if (hi <= lo)
			hi = lo + 1.0 / k;
		if ((size_t)llround((hi - lo) * k) <= most) {
			b->lo = lo;
			b->width = 1.0 / k;
			b->n = (size_t)llround((hi - lo) * k);
			return;
		}
	}
	/* Wider than most decades: bins of whole decades. */
	lo = floor(lmin + 1e-9);
	hi = ceil(lmax - 1e-9);
	w = ceil((hi - lo) / (double)most);
	b->lo = lo;
	b->width = w;
	b->n = (size_t)ceil((hi - lo) / w - 1e-9);
	if (b->n < 1)
		b->n = 1;
}

size_t
report_bins_find(const struct report_bins *b, double v)
{
	double	i;

	if (!(v > 0))
		return 0;
	i = floor((log10(v) - b->lo) / b->width + 1e-9);
	if (i < 0)
		return 0;
	if (i >= (double)b->n)
		return b->n - 1;
	return (size_t)i;
}

double
report_bins_edge(const struct report_bins *b, size_t i)
{
	return pow(10, b->lo + b->width * (double)i);
}

const char *
report_seconds(double s, char *buf, size_t size)
{
	if (!isfinite(s))
		snprintf(buf, size, "-");
	else if (s < 1e-3)
		snprintf(buf, size, "%.3g \xc2\xb5s", s * 1e6);
	else if (s < 1)
		snprintf(buf, size, "%.3g ms", s * 1e3);
	else
		snprintf(buf, size, "%.3g s", s);
	return buf;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *
report_excerpt(const char *s, size_t max)
{
	char	*out;
	size_t	 len = 0;

	if (s == NULL)
		s = "";
	out = xmalloc(strlen(s) + sizeof ELLIPSIS);
	for (; *s != '\0'; s++) {
		if (is_blank(*s)) {
			if (len > 0 && out[len - 1] != ' ')
				out[len++] = ' ';
			continue;
		}
		out[len++] = *s;
	}
	if (len > max) {
		/* Back to the first byte of a character (not 10xxxxxx). */
		len = max;
		while (len > 0 && ((unsigned char)out[len] & 0xc0) == 0x80)
			len--;
		while (len > 0 && out[len - 1] == ' ')
			len--;
		memcpy(out + len, ELLIPSIS, sizeof ELLIPSIS - 1);
		len += sizeof ELLIPSIS - 1;
	} else if (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	return out;
}

/* A promotion of the reported run: where the champion's line steps. */
struct promotion {
	int		 version;
	double		 score;
	long long	 calls;
	double		 dollars;
};

/* What the progress section draws, loaded once for both of its plots. */
struct progress {
	struct progress_row	*rows;		/* sorted */
	size_t			 n;
	long long		 min_n;
	size_t			*best;		/* rows setting a new best */
	size_t			 nbest;
	double			*lo, *hi;	/* each best's interval */
	unsigned char		*shown;		/* per row */
	size_t			 nshown;
	char			**texts;	/* shown rows' prompts, cut */
	double			 prev;		/* the champion at the run's
						   start, NAN for none */
	int			 prev_version;
	struct promotion	 promos[PROGRESS_PROMOTIONS];
	size_t			 npromos;
	int			 promos_cut;
	long long		 end_calls;
	double			 end_dollars;
};

static const char *
row_op(const struct progress_row *row)
{
	if (row->op != NULL)
		return row->op;
	return row->origin != NULL ? row->origin : "unknown";
}

static double
row_x(const struct progress_row *row, int dollars)
{
	return dollars ? row->dollars : (double)row->calls;
}

static const struct score_sum *
sums_find(const struct score_sum *sums, size_t n, int64_t candidate)
{
	size_t	lo = 0, hi = n, mid;

	/* The store gives them by candidate id. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sums[mid].candidate == candidate)
			return &sums[mid];
		if (sums[mid].candidate < candidate)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The 95% interval of a row's mean over the n examples this run scored
 * it on.  The store keeps sums per candidate over the job's latest score
 * of each example (any run), as the leaderboard reads them: where those
 * are this run's scores (the same n and mean) they give the interval
 * itself; where the scores are all 0 or 1 the run's n and mean are
 * enough (Wilson's interval); otherwise the job's spread stands in for
 * the run's.
 */
static void
row_interval(const struct progress_row *row, const struct score_sum *s,
    double *lo, double *hi)
{
	struct summary	sum;
	double		total = row->mean * (double)row->n, var;

	*lo = *hi = NAN;
	if (s == NULL || row->n < 1)
		return;
	if (s->n == row->n && fabs(s->total / (double)s->n - row->mean) <
	    1e-9)
		stats_summary_sums((size_t)s->n, s->total, s->squares,
		    (size_t)s->fractional, 0.95, &sum);
	else if (s->fractional == 0) {
		total = round(total);
		stats_summary_sums((size_t)row->n, total, total, 0, 0.95,
		    &sum);
	} else {
		var = s->n > 1 ? (s->squares - s->total * s->total /
		    (double)s->n) / (double)(s->n - 1) : 0;
		stats_summary_sums((size_t)row->n, total, (double)(row->n - 1) *
		    fmax(var, 0) + total * row->mean, (size_t)row->n, 0.95,
		    &sum);
	}
	*lo = sum.lo;
	*hi = sum.hi;
}

static int
progress_intervals(struct report *r, struct progress *pg, char **cause)
{
	struct score_sum	*sums;
	size_t			 n, i;

	pg->lo = xcalloc(pg->nbest + 1, sizeof *pg->lo);
	pg->hi = xcalloc(pg->nbest + 1, sizeof *pg->hi);
	if (store_score_sums(r->store, r->job.id, r->dataset, "dev", &sums, &n,
	    cause) != 0)
		return -1;
	for (i = 0; i < pg->nbest; i++) {
		const struct progress_row	*row = &pg->rows[pg->best[i]];

		row_interval(row, sums_find(sums, n, row->candidate),
		    &pg->lo[i], &pg->hi[i]);
	}
	free(sums);
	return 0;
}

/*
 * Which rows the plots draw: all of them up to PROGRESS_POINTS; past
 * that every row that set a new best (the line is drawn through them)
 * and an even sample of the others to fill the rest.
 */
static void
progress_sample(struct progress *pg)
{
	size_t	i, j = 0, k, others, room;

	pg->shown = xcalloc(pg->n + 1, 1);
	if (pg->n <= PROGRESS_POINTS) {
		memset(pg->shown, 1, pg->n);
		pg->nshown = pg->n;
		return;
	}
	for (k = 0; k < pg->nbest; k++)
		pg->shown[pg->best[k]] = 1;
	others = pg->n - pg->nbest;
	room = PROGRESS_POINTS > pg->nbest ? PROGRESS_POINTS - pg->nbest : 0;
	for (i = 0; i < pg->n; i++) {
		if (pg->shown[i])
			continue;
		/* Row j of the others is taken when j * room / others steps. */
		if ((j * room) / others != ((j + 1) * room) / others)
			pg->shown[i] = 1;
		j++;
	}
	for (i = 0; i < pg->n; i++)
		pg->nshown += pg->shown[i];
}

static int
progress_texts(struct report *r, struct progress *pg, char **cause)
{
	struct candidate_row	c;
	size_t			i;
	int			rc;

	pg->texts = xcalloc(pg->n + 1, sizeof *pg->texts);
	for (i = 0; i < pg->n; i++) {
		if (!pg->shown[i])
			continue;
		if ((rc = store_candidate_get(r->store, pg->rows[i].candidate,
		    &c, cause)) < 0)
			return -1;
		pg->texts[i] = report_excerpt(rc > 0 ? c.text : "",
		    PROGRESS_EXCERPT);
		store_candidate_row_release(&c);
	}
	return 0;
}

/* Whether a champion version (of the history query) is this run's. */
static int
champion_of_run(const struct report *r, const cJSON *ch)
{
	double	run = json_num(ch, "run"), t = json_num(ch, "time");

	if (isfinite(run))
		return (int64_t)run == r->run.id;
	/* Promoted before the store kept the run: by its time. */
	return t >= r->run.started && (!isfinite(r->run.ended) ||
	    t <= r->run.ended);
}

/*
 * The champion over the run: the version that held at its start, and
 * where in its spending each of its promotions came.
 */
static void
progress_champion(struct report *r, struct progress *pg)
{
	const cJSON		*h, *ch;
	struct promotion	*p;

	pg->prev = NAN;
	h = cJSON_GetObjectItemCaseSensitive(r->history, "champions");
	cJSON_ArrayForEach(ch, h) {
		if (!champion_of_run(r, ch)) {
			if (json_num(ch, "time") < r->run.started) {
				pg->prev = json_num(ch, "score");
				pg->prev_version = (int)json_num(ch,
				    "version");
			}
			continue;
		}
		if (pg->npromos == PROGRESS_PROMOTIONS) {
			pg->promos_cut = 1;
			continue;
		}
		p = &pg->promos[pg->npromos++];
		p->version = (int)json_num(ch, "version");
		p->score = json_num(ch, "score");
		report_spent_at(r, json_num(ch, "time"), &p->calls,
		    &p->dollars);
	}
}

static void
progress_free(struct progress *pg)
{
	size_t	i;

	if (pg->texts != NULL)
		for (i = 0; i < pg->n; i++)
			free(pg->texts[i]);
	free(pg->texts);
	free(pg->shown);
	free(pg->best);
	free(pg->lo);
	free(pg->hi);
	store_progress_rows_free(pg->rows, pg->n);
}

static int
progress_load(struct report *r, struct progress *pg, char **cause)
{
	size_t	i;

	if (store_run_progress(r->store, r->run.id, r->dataset, "dev",
	    &pg->rows, &pg->n, cause) != 0)
		return -1;
	report_progress_sort(pg->rows, pg->n);
	pg->min_n = report_progress_min_n(pg->rows, pg->n);
	pg->best = xcalloc(pg->n + 1, sizeof *pg->best);
	pg->nbest = report_progress_best(pg->rows, pg->n, pg->min_n,
	    pg->best);
	pg->end_calls = r->run.totals.calls;
	pg->end_dollars = r->run.totals.dollars;
	for (i = 0; i < pg->n; i++) {
		if (pg->rows[i].calls > pg->end_calls)
			pg->end_calls = pg->rows[i].calls;
		pg->end_dollars = fmax(pg->end_dollars, pg->rows[i].dollars);
	}
	progress_sample(pg);
	if (progress_intervals(r, pg, cause) != 0 ||
	    progress_texts(r, pg, cause) != 0)
		return -1;
	progress_champion(r, pg);
	return 0;
}

/* The best so far as steps, with its interval as a band. */
static void
progress_best_line(struct plot *p, const struct progress *pg, int dollars)
{
	double	*x, *y, *lo, *hi;
	size_t	 i, k;

	if (pg->nbest == 0)
		return;
	x = xcalloc(pg->nbest + 1, sizeof *x);
	y = xcalloc(pg->nbest + 1, sizeof *y);
	lo = xcalloc(pg->nbest + 1, sizeof *lo);
	hi = xcalloc(pg->nbest + 1, sizeof *hi);
	for (i = 0; i <= pg->nbest; i++) {
		/* The last best holds to the run's end. */
		k = i < pg->nbest ? i : pg->nbest - 1;
		x[i] = i < pg->nbest ? row_x(&pg->rows[pg->best[i]], dollars) :
		    dollars ? pg->end_dollars : (double)pg->end_calls;
		y[i] = pg->rows[pg->best[k]].mean;
		lo[i] = pg->lo[k];
		hi[i] = pg->hi[k];
	}
	plot_band(p, x, lo, hi, pg->nbest + 1, "best");
	plot_step(p, x, y, pg->nbest + 1, "best");
	free(x);
	free(y);
	free(lo);
	free(hi);
}

/* The champion as steps: from the run's start, then at each promotion. */
static void
progress_champion_line(struct plot *p, const struct progress *pg,
    int dollars)
{
	double	x[PROGRESS_PROMOTIONS + 2], y[PROGRESS_PROMOTIONS + 2];
	char	label[32];
	size_t	i, n = 0;

	if (isfinite(pg->prev)) {
		x[n] = 0;
		y[n++] = pg->prev;
	}
	for (i = 0; i < pg->npromos; i++) {
		x[n] = dollars ? pg->promos[i].dollars :
		    (double)pg->promos[i].calls;
		y[n++] = pg->promos[i].score;
	}
	if (n == 0)
		return;
	x[n] = dollars ? pg->end_dollars : (double)pg->end_calls;
	y[n] = y[n - 1];
	plot_step(p, x, y, n + 1, "champion");
	for (i = 0; i < pg->npromos; i++) {
		snprintf(label, sizeof label, "v%d", pg->promos[i].version);
		plot_rule(p, dollars ? pg->promos[i].dollars :
		    (double)pg->promos[i].calls, NULL, label);
	}
}

/*
 * The operators' legend, in the bottom right corner: the best so far
 * ends in the top right, where plot_legend() would put it over the line.
 */
static void
progress_legend(struct plot *p, const struct progress *pg)
{
	const char	*labels[PROGRESS_LEGEND], *classes[PROGRESS_LEGEND];
	struct plot	 at = *p;
	size_t		 i, k, n = 0;

	for (i = 0; i < pg->n && n < PROGRESS_LEGEND; i++) {
		if (!pg->shown[i])
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(labels[k], row_op(&pg->rows[i])) == 0)
				break;
		if (k < n)
			continue;
		labels[n] = row_op(&pg->rows[i]);
		classes[n] = report_op_class(labels[n]);
		n++;
	}
	at.top = p->height - p->bottom - 16 * (double)n - 8;
	plot_legend(&at, labels, classes, n);
}

/* The tooltip of a row's point, and its line in the list. */
static char *
row_title(const struct progress *pg, size_t i)
{
	const struct progress_row	*row = &pg->rows[i];

	return xasprintf("#%lld %s: %.3f on %lld example%s: %s",
	    (long long)row->candidate, row_op(row), row->mean, row->n,
	    row->n == 1 ? "" : "s", pg->texts[i] != NULL ? pg->texts[i] : "");
}

static void
progress_points(struct plot *p, const struct progress *pg, int dollars)
{
	char	cls[32], *title;
	size_t	i;

	for (i = 0; i < pg->n; i++) {
		if (!pg->shown[i])
			continue;
		snprintf(cls, sizeof cls, "%s",
		    report_op_class(row_op(&pg->rows[i])));
		title = row_title(pg, i);
		plot_point(p, row_x(&pg->rows[i], dollars), pg->rows[i].mean,
		    3.5, cls, title);
		free(title);
	}
}

/* The scores a plot must hold: points, the best's band, the champion. */
static void
progress_range(const struct progress *pg, double *y0, double *y1)
{
	size_t	i;

	*y0 = INFINITY;
	*y1 = -INFINITY;
	for (i = 0; i < pg->n; i++)
		if (pg->shown[i] && isfinite(pg->rows[i].mean)) {
			*y0 = fmin(*y0, pg->rows[i].mean);
			*y1 = fmax(*y1, pg->rows[i].mean);
		}
	for (i = 0; i < pg->nbest; i++) {
		if (isfinite(pg->lo[i]))
			*y0 = fmin(*y0, pg->lo[i]);
		if (isfinite(pg->hi[i]))
			*y1 = fmax(*y1, pg->hi[i]);
	}
	if (isfinite(pg->prev)) {
		*y0 = fmin(*y0, pg->prev);
		*y1 = fmax(*y1, pg->prev);
	}
	for (i = 0; i < pg->npromos; i++)
		if (isfinite(pg->promos[i].score)) {
			*y0 = fmin(*y0, pg->promos[i].score);
			*y1 = fmax(*y1, pg->promos[i].score);
		}
}

static void
progress_plot(struct report *r, const struct progress *pg, int dollars)
{
	struct plot	p;
	double		y0, y1;

	progress_range(pg, &y0, &y1);
	plot_begin(&p, r->out, 760, 320, dollars ? "dev score of each "
	    "candidate against the run's dollars" : "dev score of each "
	    "candidate against the run's paid calls", 0, dollars ?
	    pg->end_dollars : (double)pg->end_calls, y0, y1);
	plot_axes(&p, dollars ? "dollars spent by the run" :
	    "paid calls made by the run", "dev score");
	progress_legend(&p, pg);
	progress_best_line(&p, pg, dollars);
	progress_champion_line(&p, pg, dollars);
	progress_points(&p, pg, dollars);
	plot_end(&p);
}

/* What the lines are, in words: the page reads without hovering. */
static void
progress_intro(struct report *r, const struct progress *pg)
{
	size_t	i;

	strbuf_adds(r->out, "<p>");
	report_textf(r, "Each point is a candidate of run %lld, at the paid "
	    "calls the run had made when its last dev score came in and at "
	    "its mean over the dev examples the run scored it on. The "
	    "solid step line is the best so far, shaded with its 95%% "
	    "interval. It counts only candidates scored on at least %lld "
	    "examples (the median over the run's candidates): racing stops "
	    "scoring a losing candidate after a few examples, and the mean "
	    "of a few is too noisy to lead. ", (long long)r->run.id,
	    pg->min_n);
	if (isfinite(pg->prev))
		report_textf(r, "The dashed line is the champion: v%d (%.3f) "
		    "from the run's start", pg->prev_version, pg->prev);
	else if (pg->npromos > 0)
		report_text(r, "The dashed line is the champion");
	else
		report_text(r, "The job had no champion during this run");
	for (i = 0; i < pg->npromos; i++)
		report_textf(r, "%sv%d (%.3f) promoted at %lld paid calls",
		    i == 0 ? (isfinite(pg->prev) ? ", then " : ": ") : ", ",
		    pg->promos[i].version, pg->promos[i].score,
		    pg->promos[i].calls);
	report_textf(r, ".%s", pg->promos_cut ? " (Only the first "
	    "promotions are drawn.)" : "");
	if (pg->nshown < pg->n)
		report_textf(r, " %zu of the run's %zu candidates are drawn: "
		    "every one that set a new best and an even sample of the "
		    "others.", pg->nshown, pg->n);
	strbuf_adds(r->out, "</p>\n");
}

/* One operator's (or origin's) candidates in the run. */
struct op_stat {
	const char	*op;
	size_t		 made;
	size_t		 counted;	/* scored on min_n examples or more */
	double		 best;
	double		 total;
};

static void
progress_ops(struct report *r, const struct progress *pg)
{
	const char	*head[] = { "operator / origin", "#candidates", NULL,
	    "#best", "#mean" };
	struct op_stat	*ops;
	char		 enough[64];
	size_t		 nops = 0, i, k;

	ops = xcalloc(pg->n + 1, sizeof *ops);
	for (i = 0; i < pg->n; i++) {
		const struct progress_row	*row = &pg->rows[i];

		for (k = 0; k < nops; k++)
			if (strcmp(ops[k].op, row_op(row)) == 0)
				break;
		if (k == nops) {
			ops[nops].op = row_op(row);
			ops[nops++].best = NAN;
		}
		ops[k].made++;
		if (row->n < pg->min_n || !isfinite(row->mean))
			continue;
		ops[k].counted++;
		ops[k].best = isfinite(ops[k].best) ? fmax(ops[k].best,
		    row->mean) : row->mean;
		ops[k].total += row->mean;
	}
	snprintf(enough, sizeof enough, "#on %lld+ examples", pg->min_n);
	head[2] = enough;
	strbuf_adds(r->out, "<h3>By operator</h3>\n<p>");
	report_textf(r, "What each operator (or origin, for a candidate no "
	    "operator made) gave in this run. Best and mean count the "
	    "candidates scored on at least %lld examples.", pg->min_n);
	strbuf_adds(r->out, "</p>\n");
	report_table_open(r, "ops", head, nitems(head));
	for (k = 0; k < nops; k++) {
		strbuf_adds(r->out, "<tr><td>");
		report_swatch(r, ops[k].op);
		report_text(r, ops[k].op);
		strbuf_addf(r->out, "</td><td class=\"num\">%zu</td>"
		    "<td class=\"num\">%zu</td>", ops[k].made, ops[k].counted);
		if (ops[k].counted > 0)
			strbuf_addf(r->out, "<td class=\"num\">%.3f</td>"
			    "<td class=\"num\">%.3f</td></tr>\n", ops[k].best,
			    ops[k].total / (double)ops[k].counted);
		else
			strbuf_adds(r->out, "<td class=\"num\">-</td>"
			    "<td class=\"num\">-</td></tr>\n");
	}
	report_table_close(r);
	free(ops);
}

/* The candidates drawn, with what their points' tooltips say. */
static void
progress_list(struct report *r, const struct progress *pg)
{
	static const char *const head[] = { "#id", "operator / origin",
	    "#dev score", "#n", "#paid calls", "#dollars", "prompt" };
	const struct progress_row	*row;
	size_t				 i, k = 0;

	strbuf_addf(r->out, "<details%s><summary>",
	    pg->nshown <= PROGRESS_LIST_OPEN ? " open" : "");
	report_textf(r, "The %zu candidate%s drawn, in the order they came in",
	    pg->nshown, pg->nshown == 1 ? "" : "s");
	strbuf_adds(r->out, "</summary>\n");
	report_table_open(r, "progress", head, nitems(head));
	for (i = 0; i < pg->n; i++) {
		row = &pg->rows[i];
		while (k < pg->nbest && pg->best[k] < i)
			k++;
		if (!pg->shown[i])
			continue;
		strbuf_addf(r->out, "<tr><td class=\"num\">%lld</td><td>",
		    (long long)row->candidate);
		report_swatch(r, row_op(row));
		report_text(r, row_op(row));
		if (k < pg->nbest && pg->best[k] == i)
			report_text(r, " (a new best)");
		strbuf_addf(r->out, "</td><td class=\"num\">%.3f</td>"
		    "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%.4f</td><td>", row->mean, row->n,
		    row->calls, row->dollars);
		report_text(r, pg->texts[i]);
		strbuf_adds(r->out, "</td></tr>\n");
	}
	report_table_close(r);
	strbuf_adds(r->out, "</details>\n");
}

int
report_progress(struct report *r, char **cause)
{
	struct progress	pg;
	int		rc = -1;

	if (r->run.id == 0) {
		report_none(r, "The job has no run yet.");
		return 0;
	}
	if (r->dataset <= 0) {
		report_none(r, "The job has no dataset snapshot: nothing was "
		    "scored.");
		return 0;
	}
	memset(&pg, 0, sizeof pg);
	if (progress_load(r, &pg, cause) != 0)
		goto out;
	rc = 0;
	if (pg.n == 0) {
		report_none(r, "Run %lld scored no candidate on the dev split "
		    "of the job's dataset.", (long long)r->run.id);
		goto out;
	}
	progress_intro(r, &pg);
	strbuf_adds(r->out, "<h3>Against paid calls</h3>\n");
	progress_plot(r, &pg, 0);
	strbuf_adds(r->out, "<h3>Against dollars</h3>\n");
	if (pg.end_dollars > 0)
		progress_plot(r, &pg, 1);
	else
		report_none(r, "The run cost $0 (its backends have no price), "
		    "so there is no plot against dollars.");
	progress_ops(r, &pg);
	progress_list(r, &pg);
out:
	progress_free(&pg);
	return rc;
}

