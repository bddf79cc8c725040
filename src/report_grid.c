/*
 * The report's "where prompts fail" section: a heat map of the
 * leaderboard's candidates (rows, in its order: best mean dev score
 * first) by the dev examples they were evaluated on (columns, most missed
 * first), the same as a table, and the hardest examples with their
 * input, the expected answer and the champion's answer.  The duels
 * section is in report_duel.c.
 *
 * The marks the browser test counts (tests/integration/report.sh): one
 * <rect class="cell right|partial|wrong|failed"> per result of a row on a
 * shown column, so at most REPORT_TOP (10) rows by GRID_COLS (200)
 * columns, and none where a row was not evaluated on the example;
 * besides, four <rect class="key ..."> in the legend.  No .pt, no node,
 * no bar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_grid.h"
#include "report_int.h"
#include "svg.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* The heat map: columns at most, and its geometry in pixels. */
#define GRID_COLS	200
#define GRID_WIDTH	1060
#define GRID_LEFT	170
#define GRID_TOP	24
#define GRID_ROW	18
/* The hardest examples listed, and the bytes of a text shown of each. */
#define GRID_HARDEST	8
#define GRID_TEXT	600

/* A score within this of 1 is full marks (a judge's 9/9 may round). */
#define GRID_FULL	(1 - 1e-9)

const char *
report_cell_class(double score, int failed)
{
	if (failed || isnan(score))
		return "failed";
	if (score >= GRID_FULL)
		return "right";
	if (score >= 0.5)
		return "partial";
	return "wrong";
}

static int
grid_col_cmp(const void *va, const void *vb)
{
	const struct grid_col	*a = va, *b = vb;

	if (a->misses != b->misses)
		return a->misses > b->misses ? -1 : 1;
	if (a->neval != b->neval)
		return a->neval > b->neval ? -1 : 1;
	return a->example < b->example ? -1 : a->example > b->example;
}

void
report_grid_sort(struct grid_col *cols, size_t n)
{
	if (n > 0)
		qsort(cols, n, sizeof *cols, grid_col_cmp);
}

/* One result of a row on an example. */
struct grid_hit {
	int64_t		 example;
	size_t		 row;
	double		 score;
	int		 failed;
};

struct grid {
	const cJSON	**rows;		/* the leaderboard's candidates */
	size_t		  nrows;
	struct grid_hit	 *hits;		/* by example, then row */
	size_t		  nhits;
	struct grid_col	 *cols;		/* most missed first */
	size_t		  ncols;	/* every example with a result */
	size_t		  shown;	/* the first ones, in the heat map */
};

static int
grid_hit_cmp(const void *va, const void *vb)
{
	const struct grid_hit	*a = va, *b = vb;

	if (a->example != b->example)
		return a->example < b->example ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/* The columns: the results grouped by example, most missed first. */
static void
grid_columns(struct grid *g)
{
	struct grid_col	*c = NULL;
	struct grid_hit	*h;
	size_t		 i;

	if (g->nhits > 0)
		qsort(g->hits, g->nhits, sizeof *g->hits, grid_hit_cmp);
	g->cols = xcalloc(g->nhits + 1, sizeof *g->cols);
	for (i = 0; i < g->nhits; i++) {
		h = &g->hits[i];
		if (c == NULL || c->example != h->example) {
			c = &g->cols[g->ncols++];
			c->example = h->example;
			c->idx = -1;
			c->first = i;
		}
		c->neval++;
		if (h->failed)
			c->misses += 1;
		else {
			c->misses += 1 - fmin(fmax(h->score, 0), 1);
			c->nright += h->score >= GRID_FULL;
		}
	}
	report_grid_sort(g->cols, g->ncols);
	g->shown = g->ncols < GRID_COLS ? g->ncols : GRID_COLS;
}

/*
 * The results of the leaderboard's candidates on the dev split of the
 * job's latest snapshot, and the dataset index of each shown column.
 */
static int
grid_load(struct report *r, struct grid *g, char **cause)
{
	const cJSON		*cands, *c;
	struct result_row	*res;
	struct example_row	 x;
	size_t			 n, k;
	int			 rc;

	cands = cJSON_GetObjectItemCaseSensitive(r->board, "candidates");
	g->rows = xcalloc(REPORT_TOP, sizeof *g->rows);
	cJSON_ArrayForEach(c, cands) {
		if (g->nrows == REPORT_TOP || r->dataset <= 0)
			break;
		if (store_candidate_results(r->store, (int64_t)json_num(c,
		    "id"), r->dataset, "dev", &res, &n, cause) != 0)
			return -1;
		g->hits = xreallocarray(g->hits, g->nhits + n + 1,
		    sizeof *g->hits);
		for (k = 0; k < n; k++) {
			g->hits[g->nhits].example = res[k].example;
			g->hits[g->nhits].row = g->nrows;
			g->hits[g->nhits].score = res[k].score;
			g->hits[g->nhits++].failed = res[k].failed;
		}
		free(res);
		g->rows[g->nrows++] = c;
	}
	grid_columns(g);
	for (k = 0; k < g->shown; k++) {
		if ((rc = store_example_get(r->store, g->cols[k].example, &x,
		    cause)) < 0)
			return -1;
		if (rc == 1)
			g->cols[k].idx = x.idx;
		store_example_row_release(&x);
	}
	return 0;
}

static void
grid_free(struct grid *g)
{
	free(g->rows);
	free(g->hits);
	free(g->cols);
}

/* A score as the page writes it: "1", "0.5", "0.667". */
static const char *
grid_score(double score, int failed, char *buf, size_t size)
{
	if (failed || isnan(score))
		snprintf(buf, size, "failed");
	else
		snprintf(buf, size, "%.3g", score);
	return buf;
}

/* A column's dataset index, or its example id when it has none. */
static const char *
grid_col_name(const struct grid_col *c, char *buf, size_t size)
{
	if (c->idx >= 0)
		snprintf(buf, size, "%d", c->idx);
	else
		snprintf(buf, size, "id %lld", (long long)c->example);
	return buf;
}

/* How many columns lead that every row evaluated on them missed. */
static size_t
grid_all_missed(const struct grid *g)
{
	size_t	i;

	for (i = 0; i < g->shown; i++)
		if (g->cols[i].misses < (double)g->cols[i].neval)
			break;
	return i;
}

static void
grid_row_labels(struct report *r, const struct grid *g)
{
	char	label[96];
	size_t	i;

	for (i = 0; i < g->nrows; i++) {
		snprintf(label, sizeof label, "#%.0f  %.3f%s",
		    json_num(g->rows[i], "id"), json_num(g->rows[i],
		    "mean"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    g->rows[i], "champion")) ? "  champion" : "");
		svg_text(r->out, GRID_LEFT - 8, GRID_TOP + GRID_ROW *
		    (double)i + 13, "end", NULL, label);
	}
}

static void
grid_cells(struct report *r, const struct grid *g, double cw)
{
	const struct grid_hit	*h;
	const struct grid_col	*c;
	char			 title[160], name[32], score[32], cls[32];
	size_t			 i, k;

	for (i = 0; i < g->shown; i++) {
		c = &g->cols[i];
		grid_col_name(c, name, sizeof name);
		for (k = c->first; k < g->nhits &&
		    g->hits[k].example == c->example; k++) {
			h = &g->hits[k];
			snprintf(title, sizeof title, "candidate #%.0f, "
			    "example %s: %s", json_num(g->rows[h->row], "id"),
			    name, grid_score(h->score, h->failed, score,
			    sizeof score));
			snprintf(cls, sizeof cls, "cell %s",
			    report_cell_class(h->score, h->failed));
			svg_rect(r->out, GRID_LEFT + cw * (double)i, GRID_TOP +
			    GRID_ROW * (double)h->row, cw >= 4 ? cw - 1 : cw,
			    GRID_ROW - 2, cls, title);
		}
		strbuf_addc(r->out, '\n');
	}
}

/* Column labels, the line after the columns all missed, the legend. */
static void
grid_marks(struct report *r, const struct grid *g, double cw, double bottom)
{
	static const char *const keys[][2] = {
		{ "key right", "right: full marks" },
		{ "key partial", "partial: half marks or more" },
		{ "key wrong", "wrong: under half marks" },
		{ "key failed", "failed: the call failed" },
	};
	char	name[32], label[96];
	size_t	i, step, all, longest = 1;
	double	x;

	/* A label every few columns, as far apart as the longest is wide. */
	for (i = 0; i < g->shown; i++)
		if (strlen(grid_col_name(&g->cols[i], name, sizeof name)) >
		    longest)
			longest = strlen(name);
	step = (size_t)ceil((7 * (double)longest + 10) / cw);
	for (i = 0; i < g->shown; i += step)
		svg_text(r->out, GRID_LEFT + cw * ((double)i + 0.5), bottom +
		    14, "middle", "tick", grid_col_name(&g->cols[i], name,
		    sizeof name));
	svg_text(r->out, GRID_LEFT, bottom + 32, "start", "axis-title",
	    "dev examples by their index in the dataset, most missed first");
	if ((all = grid_all_missed(g)) > 0 && all < g->shown) {
		x = GRID_LEFT + cw * (double)all - 0.5;
		snprintf(label, sizeof label, "left of it: the %zu example%s "
		    "every candidate evaluated on missed", all, all == 1 ?
		    "" : "s");
		strbuf_addf(r->out, "<path class=\"rule\" d=\"M%.1f %d V%.1f\">"
		    "<title>", x, GRID_TOP - 6, bottom);
		report_text(r, label);
		strbuf_adds(r->out, "</title></path>");
		snprintf(label, sizeof label, "missed by all: %zu", all);
		svg_text(r->out, x, GRID_TOP - 10, "end", "rule-label", label);
	}
	for (i = 0; i < nitems(keys); i++) {
		svg_rect(r->out, 10 + 170 * (double)i, bottom + 44, 12, 12,
		    keys[i][0], keys[i][1]);
		svg_text(r->out, 28 + 170 * (double)i, bottom + 54, "start",
		    NULL, keys[i][1]);
	}
	strbuf_addc(r->out, '\n');
}

static void
grid_draw(struct report *r, const struct grid *g)
{
	double	cw, width, bottom;

	cw = fmin(24, (GRID_WIDTH - GRID_LEFT - 10) / (double)g->shown);
	width = fmax(700, GRID_LEFT + cw * (double)g->shown + 10);
	bottom = GRID_TOP + GRID_ROW * (double)g->nrows;
	strbuf_addf(r->out, "<svg class=\"heatmap\" viewBox=\"0 0 %.0f %.0f\" "
	    "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"results "
	    "of the best candidates by dev example\"><title>results of the "
	    "best candidates by dev example</title>\n", width, bottom + 64,
	    width, bottom + 64);
	grid_row_labels(r, g);
	grid_cells(r, g, cw);
	grid_marks(r, g, cw, bottom);
	strbuf_adds(r->out, "</svg>\n");
}

/* The heat map as a table: a row per column, a column per candidate. */
static void
grid_table(struct report *r, const struct grid *g)
{
	const char		**head;
	const struct grid_hit	 *h;
	const struct grid_col	 *c;
	char			**names, buf[32];
	size_t			  i, k, row, nhead = g->nrows + 4;

	head = xcalloc(nhead, sizeof *head);
	names = xcalloc(g->nrows, sizeof *names);
	head[0] = "#example";
	head[1] = "#missed by";
	head[2] = "#evaluated";
	head[3] = "#full marks";
	for (i = 0; i < g->nrows; i++) {
		names[i] = xasprintf("##%.0f", json_num(g->rows[i], "id"));
		head[i + 4] = names[i];
	}
	strbuf_adds(r->out, "<details><summary>The heat map as a table "
	    "(a row per example, a column per candidate)</summary>\n");
	report_table_open(r, "grid", head, nhead);
	for (i = 0; i < g->shown; i++) {
		c = &g->cols[i];
		strbuf_addf(r->out, "<tr><td class=\"num\">%s</td><td class="
		    "\"num\">%.3g</td><td class=\"num\">%d</td><td class="
		    "\"num\">%d</td>", grid_col_name(c, buf, sizeof buf),
		    c->misses, c->neval, c->nright);
		k = c->first;
		for (row = 0; row < g->nrows; row++) {
			strbuf_adds(r->out, "<td class=\"num\">");
			h = k < g->nhits ? &g->hits[k] : NULL;
			if (h != NULL && h->example == c->example &&
			    h->row == row) {
				report_text(r, grid_score(h->score, h->failed,
				    buf, sizeof buf));
				k++;
			}
			strbuf_adds(r->out, "</td>");
		}
		strbuf_adds(r->out, "</tr>\n");
	}
	report_table_close(r);
	strbuf_adds(r->out, "</details>\n");
	for (i = 0; i < g->nrows; i++)
		free(names[i]);
	free(names);
	free(head);
}

void
report_prompt_cut(struct report *r, const char *s, size_t max)
{
	size_t	n = strlen(s), cut = n;

	if (n > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	strbuf_adds(r->out, "<div class=\"prompt\">");
	html_escape_n(r->out, s, cut);
	if (cut < n)
		report_textf(r, " \xe2\x80\xa6 (%zu more bytes)", n - cut);
	strbuf_adds(r->out, "</div>");
}

/* A short text of one line inline as code, a longer one as a block. */
static void
grid_value(struct report *r, const char *s)
{
	if (strlen(s) > 40 || strchr(s, '\n') != NULL) {
		report_prompt_cut(r, s, GRID_TEXT);
		return;
	}
	strbuf_adds(r->out, "<code>");
	report_text(r, s);
	strbuf_adds(r->out, "</code>");
}

/* A field of an example, after its name if label is set. */
static void
grid_field(struct report *r, const cJSON *fields, const char *name,
    int label)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(fields, name);
	char		*s;

	if (label) {
		strbuf_adds(r->out, "<p class=\"sub\">");
		report_text(r, name);
		strbuf_adds(r->out, "</p>");
	}
	if (v == NULL) {
		report_text(r, "(missing)");
		return;
	}
	if (cJSON_IsString(v)) {
		grid_value(r, v->valuestring);
		return;
	}
	s = cJSON_PrintUnformatted(v);
	grid_value(r, s != NULL ? s : "");
	free(s);
}

/*
 * The input of an example: the fields the task's input template uses,
 * or without one every field but the target.
 */
static void
grid_input(struct report *r, const cJSON *fields, const struct template *t,
    const char *target)
{
	const cJSON	*v;
	size_t		 i, n = t != NULL ? template_nfields(t) : 0;

	if (t != NULL) {
		for (i = 0; i < n; i++)
			grid_field(r, fields, template_field(t, i), n > 1);
		return;
	}
	cJSON_ArrayForEach(v, fields)
		if (v->string != NULL && (target == NULL ||
		    strcmp(v->string, target) != 0))
			grid_field(r, fields, v->string, 1);
}

/* The champion's latest answer on an example, with its score. */
static int
grid_champion(struct report *r, int64_t example, char **cause)
{
	char	*out, buf[32];
	double	 score;
	int	 rc;

	if ((rc = store_evaluation_output(r->store, r->champion, example,
	    &out, &score, cause)) < 0)
		return -1;
	if (rc == 0)
		report_text(r, "not evaluated on it");
	else {
		if (out != NULL) {
			grid_value(r, out);
			strbuf_adds(r->out, " ");
		}
		report_textf(r, "(score %s)", grid_score(score, isnan(score),
		    buf, sizeof buf));
	}
	free(out);
	return 0;
}

static int
grid_hardest_row(struct report *r, const struct grid_col *c,
    const struct template *t, const char *target, char **cause)
{
	struct example_row	 x;
	cJSON			*fields;
	char			 name[32];
	int			 rc;

	if ((rc = store_example_get(r->store, c->example, &x, cause)) < 0)
		return -1;
	fields = rc == 1 ? cJSON_Parse(x.fields) : NULL;
	strbuf_addf(r->out, "<tr><td class=\"num\">%s</td><td class=\"num\">"
	    "%.3g of %d</td><td>", grid_col_name(c, name, sizeof name),
	    c->misses, c->neval);
	grid_input(r, fields, t, target);
	strbuf_adds(r->out, "</td>");
	if (target != NULL) {
		strbuf_adds(r->out, "<td>");
		grid_field(r, fields, target, 0);
		strbuf_adds(r->out, "</td>");
	}
	rc = 0;
	if (r->champion > 0) {
		strbuf_adds(r->out, "<td>");
		rc = grid_champion(r, c->example, cause);
		strbuf_adds(r->out, "</td>");
	}
	strbuf_adds(r->out, "</tr>\n");
	cJSON_Delete(fields);
	store_example_row_release(&x);
	return rc;
}

/* The examples most of the candidates miss, with what they should say. */
static int
grid_hardest(struct report *r, const struct grid *g, char **cause)
{
	const char		*head[5], *input, *target;
	const cJSON		*task;
	struct template		*t = NULL;
	char			*why = NULL;
	size_t			 i, n = 0;
	int			 rc = 0;

	strbuf_adds(r->out, "<h3>The hardest examples</h3>\n");
	if (g->ncols == 0 || g->cols[0].misses <= 0) {
		report_none(r, "Every candidate got every dev example it was "
		    "evaluated on right.");
		return 0;
	}
	task = cJSON_GetObjectItemCaseSensitive(r->spec, "task");
	target = json_str(task, "target", NULL);
	if ((input = json_str(task, "input", NULL)) != NULL &&
	    (t = template_compile(input, &why)) == NULL)
		free(why);
	strbuf_adds(r->out, "<p>");
	report_textf(r, "The dev examples the candidates above missed most "
	    "(at most %d), with the input as the task shows it%s%s.",
	    GRID_HARDEST, target != NULL ? ", the expected answer" : "",
	    r->champion > 0 ? " and the champion's latest answer" : "");
	strbuf_adds(r->out, "</p>\n");
	head[n++] = "#example";
	head[n++] = "#missed by";
	head[n++] = "input";
	if (target != NULL)
		head[n++] = "expected";
	if (r->champion > 0)
		head[n++] = "the champion's answer";
	report_table_open(r, "hardest", head, n);
	for (i = 0; i < g->ncols && i < GRID_HARDEST && rc == 0; i++)
		if (g->cols[i].misses > 0)
			rc = grid_hardest_row(r, &g->cols[i], t, target, cause);
	report_table_close(r);
	template_free(t);
	return rc;
}

int
report_failures(struct report *r, char **cause)
{
	struct grid	g;
	size_t		all;
	int		rc = -1;

	memset(&g, 0, sizeof g);
	if (grid_load(r, &g, cause) != 0)
		goto out;
	rc = 0;
	if (g.nhits == 0) {
		report_none(r, "No candidate has a result on the dev split "
		    "yet.");
		goto out;
	}
	strbuf_adds(r->out, "<p>");
	report_textf(r, "How the %zu best candidates (rows, in the "
	    "leaderboard's order) did on each dev example they were evaluated "
	    "on (columns, the most missed first: a partial score counts as "
	    "part of a miss, a failed call as a whole one). A cell is right "
	    "with full marks, partial with half marks or more, wrong under "
	    "that, and failed when the call failed; no cell: not evaluated "
	    "(a race stops scoring a weak prompt early). Hover over a cell "
	    "for its score, or open the table below.", g.nrows);
	if (g.shown < g.ncols)
		report_textf(r, " Only the %zu most missed of the %zu examples "
		    "are shown.", g.shown, g.ncols);
	if ((all = grid_all_missed(&g)) > 0)
		report_textf(r, " %zu example%s missed by every candidate "
		    "evaluated on %s.", all, all == 1 ? " is" : "s are",
		    all == 1 ? "it" : "them");
	strbuf_adds(r->out, "</p>\n");
	grid_draw(r, &g);
	grid_table(r, &g);
	rc = grid_hardest(r, &g, cause);
out:
	grid_free(&g);
	return rc;
}
