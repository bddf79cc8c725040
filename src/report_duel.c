/*
 * The report's "duels" section: the job's pairwise preferences (the
 * comparisons table, from a judge, the simulated user or people).  A win
 * matrix and a preference graph of the most dueled arms (prompts, or
 * responses), Bradley-Terry strengths fitted here to every answered duel
 * (the duel strategy does not save its network's scores), the strategy's
 * recommendation, and who answered what when people did.
 *
 * The marks the browser test counts (tests/integration/report.sh): one
 * <g class="duel-node"> per arm shown, at most DUEL_ARMS (12), the most
 * dueled, when the job has an answered duel; then the arms and the win
 * matrix as two tables, and a table of people's answers when there are
 * any.  No .pt, no cell, no bar.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_grid.h"
#include "report_int.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/* The duels: arms shown at most, the fit's bound, people's answers listed. */
#define DUEL_ARMS	12
#define DUEL_BT_ITER	300
#define DUEL_ANSWERS	100
/* The bytes of an arm's text shown. */
#define DUEL_TEXT	1200
/* The preference graph's side and its nodes, in pixels. */
#define DUEL_SIZE	560
#define DUEL_NODE_W	76
#define DUEL_NODE_H	34

int
report_bt_fit(size_t n, const struct bt_duel *d, size_t nd, double *s,
    int maxiter)
{
	double	*won, *den, v, change, mean = 0;
	size_t	 i, k;
	int	 it = 0;

	if (n == 0)
		return 0;
	won = xcalloc(n, sizeof *won);
	den = xcalloc(n, sizeof *den);
	for (i = 0; i < n; i++) {
		s[i] = 1;
		won[i] = 0.5;	/* against the virtual arm */
	}
	for (k = 0; k < nd; k++) {
		won[d[k].i] += d[k].wi;
		won[d[k].j] += d[k].wj;
	}
	while (it < maxiter) {
		it++;
		for (i = 0; i < n; i++)
			den[i] = 1 / (s[i] + 1);
		for (k = 0; k < nd; k++) {
			v = (d[k].wi + d[k].wj) / (s[d[k].i] + s[d[k].j]);
			den[d[k].i] += v;
			den[d[k].j] += v;
		}
		change = 0;
		for (i = 0; i < n; i++) {
			v = won[i] / den[i];
			change = fmax(change, fabs(log(v / s[i])));
			s[i] = v;
		}
		if (change < 1e-7)
			break;
	}
	for (i = 0; i < n; i++)
		mean += log(s[i]);
	mean = exp(mean / (double)n);
	for (i = 0; i < n; i++)
		s[i] /= mean;
	free(won);
	free(den);
	return it;
}

/* An arm: a prompt or a response that was dueled. */
struct arm {
	int64_t		 id;
	int		 duels;		/* answered */
	double		 wins;		/* a tie is half of one */
	double		 strength;
	int		 place;		/* in the matrix, -1: not shown */
	char		*text;		/* shown arms only */
	char		*origin;
	double		 x, y;		/* its node's centre */
};

struct duels {
	struct comparison_row	 *rows;
	size_t			  nrows;
	size_t			  answered, pending, skipped;
	size_t			  by[3];	/* answered by judge, sim, human */
	struct arm		 *arms;		/* every arm answered, by id */
	size_t			  narms;
	struct arm		**top;		/* shown first, strongest first */
	size_t			  ntop;
	double			 *won;		/* ntop x ntop: row beat column */
	int			 *met;		/* ntop x ntop: their duels */
	/* The duel strategy's latest checkpoint that recommends. */
	int64_t			  run;		/* 0: none */
	char			  status[16];
	int64_t			  recommended;	/* 0: none yet */
	int			  pool, ndueled;
	int64_t			  prompt;	/* arms "responses": of it */
	double			  example;	/* on this dev example */
};

static const char *const duel_sources[] = { "judge", "sim", "human" };

static int
duel_answered(const struct comparison_row *c)
{
	return c->winner != NULL && (strcmp(c->winner, "a") == 0 ||
	    strcmp(c->winner, "b") == 0 || strcmp(c->winner, "tie") == 0);
}

/* What an answered duel gave its a: 1, 0, or half for a tie. */
static double
duel_score_a(const struct comparison_row *c)
{
	if (strcmp(c->winner, "a") == 0)
		return 1;
	return strcmp(c->winner, "b") == 0 ? 0 : 0.5;
}

static void
duel_count(struct duels *d)
{
	const struct comparison_row	*c;
	size_t				 i, k;

	for (i = 0; i < d->nrows; i++) {
		c = &d->rows[i];
		if (c->winner == NULL)
			d->pending++;
		else if (!duel_answered(c))
			d->skipped++;
		else {
			d->answered++;
			for (k = 0; k < nitems(duel_sources); k++)
				if (strcmp(c->source, duel_sources[k]) == 0)
					d->by[k]++;
		}
	}
}

static int
id_cmp(const void *va, const void *vb)
{
	int64_t	a = *(const int64_t *)va, b = *(const int64_t *)vb;

	return a < b ? -1 : a > b;
}

static int
arm_id_cmp(const void *va, const void *vb)
{
	return id_cmp(&((const struct arm *)va)->id,
	    &((const struct arm *)vb)->id);
}

static struct arm *
duel_arm(const struct duels *d, int64_t id)
{
	struct arm	key;

	key.id = id;
	return bsearch(&key, d->arms, d->narms, sizeof *d->arms, arm_id_cmp);
}

/* Every arm of an answered duel, what it won and its strength. */
static void
duel_arms(struct duels *d)
{
	const struct comparison_row	*c;
	struct bt_duel			*bt;
	struct arm			*a, *b;
	int64_t				*ids;
	double				*s;
	size_t				 i, n = 0, nbt = 0;

	ids = xcalloc(2 * d->answered + 1, sizeof *ids);
	for (i = 0; i < d->nrows; i++)
		if (duel_answered(&d->rows[i])) {
			ids[n++] = d->rows[i].a;
			ids[n++] = d->rows[i].b;
		}
	qsort(ids, n, sizeof *ids, id_cmp);
	d->arms = xcalloc(n + 1, sizeof *d->arms);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1]) {
			d->arms[d->narms].id = ids[i];
			d->arms[d->narms++].place = -1;
		}
	free(ids);
	bt = xcalloc(d->answered + 1, sizeof *bt);
	for (i = 0; i < d->nrows; i++) {
		if (!duel_answered(c = &d->rows[i]))
			continue;
		a = duel_arm(d, c->a);
		b = duel_arm(d, c->b);
		a->duels++;
		b->duels++;
		a->wins += duel_score_a(c);
		b->wins += 1 - duel_score_a(c);
		bt[nbt].i = (size_t)(a - d->arms);
		bt[nbt].j = (size_t)(b - d->arms);
		bt[nbt].wi = duel_score_a(c);
		bt[nbt++].wj = 1 - duel_score_a(c);
	}
	s = xcalloc(d->narms + 1, sizeof *s);
	report_bt_fit(d->narms, bt, nbt, s, DUEL_BT_ITER);
	for (i = 0; i < d->narms; i++)
		d->arms[i].strength = s[i];
	free(s);
	free(bt);
}

static int
arm_busiest_cmp(const void *va, const void *vb)
{
	const struct arm	*a = *(struct arm *const *)va;
	const struct arm	*b = *(struct arm *const *)vb;

	if (a->duels != b->duels)
		return a->duels > b->duels ? -1 : 1;
	return id_cmp(&a->id, &b->id);
}

static int
arm_strongest_cmp(const void *va, const void *vb)
{
	const struct arm	*a = *(struct arm *const *)va;
	const struct arm	*b = *(struct arm *const *)vb;

	if (a->strength != b->strength)
		return a->strength > b->strength ? -1 : 1;
	return id_cmp(&a->id, &b->id);
}

/*
 * The arms shown: the most dueled, strongest first, with their texts,
 * and who beat whom how often among them.
 */
static int
duel_top(struct report *r, struct duels *d, char **cause)
{
	const struct comparison_row	*c;
	struct candidate_row		 row;
	struct arm			*a, *b;
	size_t				 i, n;
	int				 rc;

	d->top = xcalloc(d->narms + 1, sizeof *d->top);
	for (i = 0; i < d->narms; i++)
		d->top[i] = &d->arms[i];
	qsort(d->top, d->narms, sizeof *d->top, arm_busiest_cmp);
	n = d->ntop = d->narms < DUEL_ARMS ? d->narms : DUEL_ARMS;
	qsort(d->top, n, sizeof *d->top, arm_strongest_cmp);
	for (i = 0; i < n; i++) {
		d->top[i]->place = (int)i;
		if ((rc = store_candidate_get(r->store, d->top[i]->id, &row,
		    cause)) < 0)
			return -1;
		d->top[i]->text = row.text;
		d->top[i]->origin = row.origin;
	}
	d->won = xcalloc(n * n + 1, sizeof *d->won);
	d->met = xcalloc(n * n + 1, sizeof *d->met);
	for (i = 0; i < d->nrows; i++) {
		if (!duel_answered(c = &d->rows[i]))
			continue;
		a = duel_arm(d, c->a);
		b = duel_arm(d, c->b);
		if (a->place < 0 || b->place < 0)
			continue;
		d->won[(size_t)a->place * n + (size_t)b->place] +=
		    duel_score_a(c);
		d->won[(size_t)b->place * n + (size_t)a->place] +=
		    1 - duel_score_a(c);
		d->met[(size_t)a->place * n + (size_t)b->place]++;
		d->met[(size_t)b->place * n + (size_t)a->place]++;
	}
	return 0;
}

/* The duel strategy's latest checkpoint that names a recommendation. */
static int
duel_checkpoint(struct report *r, struct duels *d, char **cause)
{
	struct run_checkpoint	 cp;
	cJSON			*o;
	const cJSON		*st;
	double			 v;
	int			 rc;

	if ((rc = store_run_checkpoint_latest(r->store, r->job.id, "optimize",
	    "recommended", &cp, cause)) <= 0)
		return rc;
	o = cp.state != NULL ? cJSON_Parse(cp.state) : NULL;
	free(cp.state);
	st = cJSON_GetObjectItemCaseSensitive(o, "strategy");
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(st, "pool"))) {
		d->run = cp.id;
		snprintf(d->status, sizeof d->status, "%s", cp.status);
		v = json_num(st, "recommended");
		d->recommended = isfinite(v) && v >= 1 ? (int64_t)v : 0;
		d->pool = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		    st, "pool"));
		d->ndueled = cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(st, "duels"));
		v = json_num(st, "prompt");
		d->prompt = isfinite(v) ? (int64_t)v : 0;
		d->example = json_num(st, "example");
	}
	cJSON_Delete(o);
	return 0;
}

static void
duel_free(struct duels *d)
{
	size_t	i;

	store_comparison_rows_free(d->rows, d->nrows);
	for (i = 0; i < d->narms; i++) {
		free(d->arms[i].text);
		free(d->arms[i].origin);
	}
	free(d->arms);
	free(d->top);
	free(d->won);
	free(d->met);
}

/* Where the line from a's centre along (ux, uy) leaves its box. */
static void
duel_border(const struct arm *a, double ux, double uy, double *x, double *y)
{
	double	tx = INFINITY, ty = INFINITY, t;

	if (fabs(ux) > 1e-9)
		tx = (DUEL_NODE_W / 2 + 3) / fabs(ux);
	if (fabs(uy) > 1e-9)
		ty = (DUEL_NODE_H / 2 + 3) / fabs(uy);
	t = fmin(tx, ty);
	*x = a->x + ux * t;
	*y = a->y + uy * t;
}

/*
 * The pair i, j as a line from the one that won more of their duels to
 * the other, with an arrowhead, as wide as the margin against the widest
 * of any pair; a pair that won as much each is a dashed line.  One line
 * per pair keeps a dozen arms that all met readable.
 */
static void
duel_arrow(struct report *r, const struct duels *d, size_t i, size_t j,
    double widest)
{
	const struct arm	*a, *b;
	double			 margin, len, ux, uy, nx, ny, x0, y0, x1, y1, w;
	size_t			 n = d->ntop;

	if (d->met[i * n + j] == 0)
		return;
	margin = d->won[i * n + j] - d->won[j * n + i];
	a = d->top[margin >= 0 ? i : j];
	b = d->top[margin >= 0 ? j : i];
	len = hypot(b->x - a->x, b->y - a->y);
	ux = (b->x - a->x) / len;
	uy = (b->y - a->y) / len;
	nx = -uy;
	ny = ux;
	duel_border(a, ux, uy, &x0, &y0);
	duel_border(b, -ux, -uy, &x1, &y1);
	strbuf_adds(r->out, "<g class=\"duel-arrow\"><title>");
	if (margin == 0) {
		report_textf(r, "#%lld and #%lld are even: %g of %d each",
		    (long long)a->id, (long long)b->id, d->won[i * n + j],
		    d->met[i * n + j]);
		strbuf_addf(r->out, "</title><path class=\"duel-edge\" "
		    "stroke-dasharray=\"4 3\" d=\"M%.1f %.1f L%.1f %.1f\">"
		    "</path></g>\n", x0, y0, x1, y1);
		return;
	}
	w = 1 + 4 * fabs(margin) / widest;
	report_textf(r, "#%lld beat #%lld %g of %d times", (long long)a->id,
	    (long long)b->id, d->won[(size_t)a->place * n + (size_t)b->place],
	    d->met[i * n + j]);
	strbuf_addf(r->out, "</title><path class=\"duel-edge\" "
	    "stroke-width=\"%.1f\" d=\"M%.1f %.1f L%.1f %.1f\"></path>"
	    "<path class=\"duel-head\" d=\"M%.1f %.1f L%.1f %.1f L%.1f %.1f "
	    "Z\"></path></g>\n", w, x0, y0, x1 - ux * 8, y1 - uy * 8, x1, y1,
	    x1 - ux * 11 + nx * (2 + w), y1 - uy * 11 + ny * (2 + w),
	    x1 - ux * 11 - nx * (2 + w), y1 - uy * 11 - ny * (2 + w));
}

/* The preference graph: the arms on a circle, a line for each pair. */
static void
duel_graph(struct report *r, struct duels *d)
{
	const struct arm	*a;
	double			 widest = 0, t, c = DUEL_SIZE / 2.0;
	char			 label[32];
	size_t			 i, j, n = d->ntop;

	for (i = 0; i < n; i++) {
		t = 2 * M_PI * (double)i / (double)n;
		d->top[i]->x = c + (c - 50) * sin(t);
		d->top[i]->y = c - (c - 30) * cos(t);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			widest = fmax(widest, d->won[i * n + j] -
			    d->won[j * n + i]);
	strbuf_addf(r->out, "<svg class=\"duels\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"who beat "
	    "whom in the duels\"><title>who beat whom in the duels</title>\n",
	    DUEL_SIZE, DUEL_SIZE, DUEL_SIZE, DUEL_SIZE);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			duel_arrow(r, d, i, j, widest);
	for (i = 0; i < n; i++) {
		a = d->top[i];
		strbuf_addf(r->out, "<g class=\"duel-node%s\">",
		    a->id == d->recommended ? " recommended" : "");
		svg_rect(r->out, a->x - DUEL_NODE_W / 2, a->y - DUEL_NODE_H / 2,
		    DUEL_NODE_W, DUEL_NODE_H, NULL, a->text != NULL ? a->text :
		    "(no text)");
		snprintf(label, sizeof label, "#%lld", (long long)a->id);
		svg_text(r->out, a->x, a->y - 3, "middle", NULL, label);
		snprintf(label, sizeof label, "%.2f", a->strength);
		svg_text(r->out, a->x, a->y + 12, "middle", "tick", label);
		strbuf_adds(r->out, "</g>\n");
	}
	strbuf_adds(r->out, "</svg>\n");
}

/* The arms shown, strongest first: their duels, wins and texts. */
static void
duel_arms_table(struct report *r, const struct duels *d)
{
	static const char *const head[] = {
		"#id", "#duels", "#won", "#strength", "origin",
		"prompt or response"
	};
	const struct arm	*a;
	size_t			 i;

	report_table_open(r, "arms", head, nitems(head));
	for (i = 0; i < d->ntop; i++) {
		a = d->top[i];
		strbuf_addf(r->out, "<tr%s><td class=\"num\">%lld</td>"
		    "<td class=\"num\">%d</td><td class=\"num\">%g</td>"
		    "<td class=\"num\">%.2f</td><td>", a->id == d->recommended ?
		    " class=\"champion\"" : "", (long long)a->id, a->duels,
		    a->wins, a->strength);
		report_text(r, a->origin != NULL ? a->origin : "-");
		if (a->id == d->recommended)
			report_text(r, " (recommended)");
		strbuf_adds(r->out, "</td><td>");
		if (a->text != NULL)
			report_prompt_cut(r, a->text, DUEL_TEXT);
		else
			report_text(r, "(not in the store)");
		strbuf_adds(r->out, "</td></tr>\n");
	}
	report_table_close(r);
}

/* Who beat whom: row beat column N times of the M they met. */
static void
duel_matrix(struct report *r, const struct duels *d)
{
	const char	**head;
	char		**names;
	size_t		  i, j, n = d->ntop;

	head = xcalloc(n + 1, sizeof *head);
	names = xcalloc(n, sizeof *names);
	head[0] = "row beat column";
	for (i = 0; i < n; i++) {
		names[i] = xasprintf("##%lld", (long long)d->top[i]->id);
		head[i + 1] = names[i];
	}
	report_table_open(r, "wins", head, n + 1);
	for (i = 0; i < n; i++) {
		strbuf_addf(r->out, "<tr><td>#%lld</td>",
		    (long long)d->top[i]->id);
		for (j = 0; j < n; j++) {
			strbuf_adds(r->out, "<td class=\"num\">");
			if (i == j)
				strbuf_adds(r->out, "&#8212;");
			else if (d->met[i * n + j] > 0)
				strbuf_addf(r->out, "%g of %d",
				    d->won[i * n + j], d->met[i * n + j]);
			strbuf_adds(r->out, "</td>");
		}
		strbuf_adds(r->out, "</tr>\n");
	}
	report_table_close(r);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(head);
}

/* How many duels, from where, and how many wait or were passed over. */
static void
duel_intro(struct report *r, const struct duels *d)
{
	size_t	k;
	int	first = 1;

	if (d->nrows == 0) {
		report_none(r, "No duel has been asked yet.");
		return;
	}
	strbuf_adds(r->out, "<p>");
	report_textf(r, "%zu duel%s answered", d->answered, d->answered == 1 ?
	    "" : "s");
	for (k = 0; k < nitems(duel_sources); k++) {
		if (d->by[k] == 0)
			continue;
		report_textf(r, "%s%s %zu", first ? " (" : ", ",
		    duel_sources[k], d->by[k]);
		first = 0;
	}
	if (!first)
		report_text(r, ")");
	report_textf(r, " between %zu arms; %zu waiting for an answer, %zu "
	    "skipped.", d->narms, d->pending, d->skipped);
	if (d->ntop == 0) {
		strbuf_adds(r->out, "</p>\n");
		return;
	}
	report_textf(r, " The graph shows the %s%zu arm%s: an arrow goes "
	    "from the one of a pair that won more of their duels to the "
	    "other, the wider the more it won by (a tie is half a win each), "
	    "a dashed line joins a pair that came out even, and the "
	    "recommended arm is outlined. Below each id is its strength: a Bradley-Terry fit to "
	    "every answered duel, made for this report (the duel strategy "
	    "does not save its network's scores). Arm i beats arm j with "
	    "chance s(i) / (s(i) + s(j)); 1 is the geometric mean of all "
	    "%zu, and a weak prior (half a win and half a loss against a "
	    "virtual arm of strength 1) keeps an arm that never lost or never "
	    "won finite.", d->ntop < d->narms ? "most dueled " : "",
	    d->ntop, d->ntop == 1 ? "" : "s", d->narms);
	strbuf_adds(r->out, "</p>\n");
}

/* The duel strategy's recommendation, with its text. */
static int
duel_recommendation(struct report *r, const struct duels *d, char **cause)
{
	struct candidate_row	 c;
	struct arm		*a;
	int			 rc;

	if (d->run == 0 && strcmp(r->strategy, "duel") != 0)
		return 0;
	strbuf_adds(r->out, "<h3>The recommendation</h3>\n");
	if (d->recommended == 0) {
		report_none(r, "The duel strategy has not recommended an arm "
		    "yet.");
		return 0;
	}
	if ((rc = store_candidate_get(r->store, d->recommended, &c,
	    cause)) < 0)
		return -1;
	strbuf_adds(r->out, "<p>");
	report_textf(r, "Run %lld recommends #%lld (%s), from a pool of %d "
	    "after %d duels; ", (long long)d->run, (long long)d->recommended,
	    c.origin != NULL ? c.origin : "unknown", d->pool, d->ndueled);
	if (d->prompt > 0)
		report_textf(r, "the arms are responses of #%lld to dev "
		    "example %.0f; ", (long long)d->prompt, d->example);
	if (strcmp(d->status, "done") == 0)
		report_text(r, "the run is done, so this is its choice.");
	else
		report_textf(r, "the run is %s, so this is its choice so far.",
		    d->status);
	if ((a = duel_arm(d, d->recommended)) != NULL)
		report_textf(r, " Its strength here is %.2f; it won %g of its "
		    "%d duel%s.", a->strength, a->wins, a->duels, a->duels ==
		    1 ? "" : "s");
	strbuf_adds(r->out, "</p>\n");
	if (c.text != NULL)
		report_prompt_cut(r, c.text, DUEL_TEXT);
	strbuf_adds(r->out, "\n");
	store_candidate_row_release(&c);
	return 0;
}

/* One of people's duels: when, who, the pair and the answer. */
static void
duel_person(struct report *r, const struct comparison_row *c)
{
	char	when[64];

	strbuf_adds(r->out, "<tr><td>");
	if (c->winner == NULL) {
		report_text(r, "asked ");
		report_text(r, report_time(c->created, when, sizeof when));
	} else
		/* A preference ingested from production was never asked. */
		report_text(r, report_time(isnan(c->answered) ? c->created :
		    c->answered, when, sizeof when));
	strbuf_adds(r->out, "</td><td>");
	report_text(r, c->who != NULL ? c->who : "-");
	strbuf_addf(r->out, "</td><td>#%lld vs #%lld</td><td>",
	    (long long)c->a, (long long)c->b);
	if (c->winner == NULL)
		report_text(r, "pending");
	else if (strcmp(c->winner, "a") == 0)
		report_textf(r, "#%lld", (long long)c->a);
	else if (strcmp(c->winner, "b") == 0)
		report_textf(r, "#%lld", (long long)c->b);
	else if (strcmp(c->winner, "tie") == 0)
		report_text(r, "tie");
	else
		report_text(r, "skipped");
	strbuf_adds(r->out, "</td></tr>\n");
}

/* People's duels, the latest DUEL_ANSWERS of them. */
static void
duel_people(struct report *r, const struct duels *d)
{
	static const char *const head[] = { "time", "who", "pair", "winner" };
	size_t	i, n = 0, pending = 0, skip;

	for (i = 0; i < d->nrows; i++)
		if (strcmp(d->rows[i].source, "human") == 0) {
			n++;
			pending += d->rows[i].winner == NULL;
		}
	if (n == 0)
		return;
	strbuf_adds(r->out, "<h3>People's answers</h3>\n<p>");
	report_textf(r, "%zu duel%s put to people, %zu waiting for an answer "
	    "(promptctl feedback %s).", n, n == 1 ? "" : "s", pending,
	    r->job.name);
	if (n > DUEL_ANSWERS)
		report_textf(r, " The latest %d are listed.", DUEL_ANSWERS);
	strbuf_adds(r->out, "</p>\n");
	report_table_open(r, "answers", head, nitems(head));
	skip = n > DUEL_ANSWERS ? n - DUEL_ANSWERS : 0;
	for (i = 0; i < d->nrows; i++) {
		if (strcmp(d->rows[i].source, "human") != 0)
			continue;
		if (skip > 0)
			skip--;
		else
			duel_person(r, &d->rows[i]);
	}
	report_table_close(r);
}

int
report_duels(struct report *r, char **cause)
{
	struct duels	d;
	int		rc = -1;

	memset(&d, 0, sizeof d);
	if (store_comparison_list(r->store, r->job.id, 0, &d.rows, &d.nrows,
	    cause) != 0)
		goto out;
	rc = 0;
	if (d.nrows == 0 && strcmp(r->strategy, "duel") != 0) {
		report_none(r, "This job has no duels: its strategy is not "
		    "duel and it has recorded no comparison.");
		goto out;
	}
	duel_count(&d);
	rc = -1;
	if (duel_checkpoint(r, &d, cause) != 0)
		goto out;
	duel_arms(&d);
	if (duel_top(r, &d, cause) != 0)
		goto out;
	duel_intro(r, &d);
	if (d.ntop > 0) {
		duel_graph(r, &d);
		duel_arms_table(r, &d);
		strbuf_adds(r->out, "<h3>Who beat whom</h3>\n");
		duel_matrix(r, &d);
	}
	if (duel_recommendation(r, &d, cause) != 0)
		goto out;
	duel_people(r, &d);
	rc = 0;
out:
	duel_free(&d);
	return rc;
}
