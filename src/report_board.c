/*
 * The report's leaderboard (whole prompts, each with its word-level
 * difference against the champion) and lineage (the ancestry of the top
 * candidates as a layered SVG graph, each edge with its operator and the
 * critique or rationale behind it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_int.h"
#include "stats.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/* Past this many word pairs a difference is not worth its time. */
#define DIFF_MAX_CELLS	(4 * 1024 * 1024)
/* The lineage graph's limits: nodes, and generations above the top. */
#define LINEAGE_NODES	48
#define LINEAGE_DEPTH	12

/* A word with the blanks after it; words compare without them. */
struct word {
	const char	*s;
	size_t		 len;	/* the word */
	size_t		 span;	/* with its blanks */
};

static struct word *
words_split(const char *s, size_t *n)
{
	struct word	*w = NULL;
	size_t		 cap = 0, i = 0, start;

	*n = 0;
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	while (s[i] != '\0') {
		start = i;
		while (s[i] != '\0' && s[i] != ' ' && s[i] != '\t' &&
		    s[i] != '\n' && s[i] != '\r')
			i++;
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			w = xreallocarray(w, cap, sizeof *w);
		}
		w[*n].s = s + start;
		w[*n].len = i - start;
		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
		    s[i] == '\r')
			i++;
		w[(*n)++].span = i - start;
	}
	return w;
}

static int
word_eq(const struct word *a, const struct word *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/*
 * Appends a word inside tag (NULL: none) with its blanks; after a word
 * that had none (the last of its text) a space keeps the two apart.
 * *spaced says whether the last word ended in blanks.
 */
static void
diff_run(struct report *r, const char *tag, const struct word *w,
    int *spaced)
{
	if (!*spaced)
		strbuf_addc(r->out, ' ');
	if (tag != NULL)
		strbuf_addf(r->out, "<%s>", tag);
	html_escape_n(r->out, w->s, w->span);
	if (tag != NULL)
		strbuf_addf(r->out, "</%s>", tag);
	*spaced = w->span > w->len;
}

/*
 * text against base, word by word (a longest common subsequence): words
 * only in base struck out, words only in text marked as inserted.
 * Returns 0, or -1 when the texts are too long to compare.
 */
static int
word_diff(struct report *r, const char *base, const char *text)
{
	struct word	*a, *b;
	size_t		 na, nb, i, j;
	unsigned	*lcs;
	int		 spaced = 1;

	a = words_split(base, &na);
	b = words_split(text, &nb);
	if ((na + 1) * (nb + 1) > DIFF_MAX_CELLS) {
		free(a);
		free(b);
		return -1;
	}
	/* lcs[i][j]: the common words of a[i..] and b[j..]. */
	lcs = xcalloc((na + 1) * (nb + 1), sizeof *lcs);
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;) {
			unsigned	down = lcs[(i + 1) * (nb + 1) + j];
			unsigned	right = lcs[i * (nb + 1) + j + 1];

			lcs[i * (nb + 1) + j] = word_eq(&a[i], &b[j]) ?
			    lcs[(i + 1) * (nb + 1) + j + 1] + 1 :
			    down > right ? down : right;
		}
	for (i = j = 0; i < na || j < nb;) {
		if (i < na && j < nb && word_eq(&a[i], &b[j]))
			diff_run(r, NULL, &b[j++], &spaced), i++;
		else if (j < nb && (i == na || lcs[i * (nb + 1) + j + 1] >=
		    lcs[(i + 1) * (nb + 1) + j]))
			diff_run(r, "ins", &b[j++], &spaced);
		else
			diff_run(r, "del", &a[i++], &spaced);
	}
	free(lcs);
	free(a);
	free(b);
	return 0;
}

/* The operator of a candidate's first lineage edge into *op, or NULL. */
static int
first_op(struct report *r, int64_t id, char **op, char **cause)
{
	struct lineage_row	*rows;
	size_t			 n;

	*op = NULL;
	if (store_lineage_parents(r->store, id, &rows, &n, cause) != 0)
		return -1;
	if (n > 0 && rows[0].op != NULL)
		*op = xstrdup(rows[0].op);
	store_lineage_rows_free(rows, n);
	return 0;
}

/* A candidate's demos, folded under the prompt: input, then answer. */
static void
board_demos(struct report *r, const cJSON *demos)
{
	const cJSON	*d;
	int		 n = cJSON_GetArraySize(demos);

	if (n == 0)
		return;
	strbuf_addf(r->out, "<details class=\"demos\"><summary>%d demo%s "
	    "shown before the input</summary><ol>", n, n == 1 ? "" : "s");
	cJSON_ArrayForEach(d, demos) {
		strbuf_adds(r->out, "<li><div class=\"prompt\">");
		report_text(r, json_str(d, "input", ""));
		strbuf_adds(r->out, "</div>&rarr; <b>");
		report_text(r, json_str(d, "output", ""));
		strbuf_adds(r->out, "</b></li>");
	}
	strbuf_adds(r->out, "</ol></details>");
}

static void
board_row(struct report *r, const cJSON *c, int rank, const char *op,
    long long calls, const char *champion)
{
	const char	*text = json_str(c, "text", NULL);
	char		 buf[96];
	int		 is_champion = cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(c, "champion"));

	strbuf_addf(r->out, "<tr%s><td class=\"num\">%d</td>"
	    "<td class=\"num\">%.0f</td><td class=\"num\">", is_champion ?
	    " class=\"champion\"" : "", rank, json_num(c, "id"));
	report_text(r, report_score(json_num(c, "mean"),
	    json_num(c, "lo"), json_num(c, "hi"), buf, sizeof buf));
	strbuf_addf(r->out, "</td><td class=\"num\">%.0f</td>"
	    "<td class=\"num\">%lld</td><td class=\"num\">%.0f%s</td><td>",
	    json_num(c, "n"), calls, json_num(c, "tokens"),
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pareto")) ?
	    " +" : "");
	report_swatch(r, op != NULL ? op : json_str(c, "origin", NULL));
	report_text(r, json_str(c, "origin", NULL));
	if (op != NULL)
		report_textf(r, " / %s", op);
	if (is_champion)
		report_text(r, " (champion)");
	strbuf_adds(r->out, "</td><td><div class=\"prompt\">");
	if (is_champion || champion == NULL || text == NULL ||
	    word_diff(r, champion, text) != 0)
		report_text(r, text);
	strbuf_adds(r->out, "</div>");
	board_demos(r, cJSON_GetObjectItemCaseSensitive(c, "demos"));
	strbuf_adds(r->out, "</td></tr>\n");
}

int
report_leaderboard(struct report *r, char **cause)
{
	static const char *const head[] = {
		"#rank", "#id", "#dev score", "#n", "#target calls",
		"#prompt tokens", "origin / operator",
		"prompt (against the champion)"
	};
	const cJSON	*cands, *c;
	const char	*champion = NULL;
	char		*op;
	long long	 calls;
	double		 dollars;
	int		 n, i;

	cands = cJSON_GetObjectItemCaseSensitive(r->board, "candidates");
	if ((n = cJSON_GetArraySize(cands)) == 0) {
		report_none(r, "No candidate has a dev score yet.");
		return 0;
	}
	cJSON_ArrayForEach(c, cands)
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "champion")))
			champion = json_str(c, "text", NULL);
	if (champion == NULL)
		champion = json_str(r->status, "text", NULL);
	report_textf(r, "The %d best candidates by their mean dev score, "
	    "with 95%% intervals, the paid target calls that scored each, and "
	    "the prompt's tokens (+: on the front of score against tokens, "
	    "where no candidate is both better and shorter).", n);
	if (champion != NULL) {
		strbuf_adds(r->out, " Words the champion has and a candidate "
		    "lacks are <del>struck out</del>; words only the candidate "
		    "has are <ins>marked</ins>.");
	}
	report_table_open(r, "board", head, nitems(head));
	for (i = 0; i < n; i++) {
		c = cJSON_GetArrayItem(cands, i);
		if (first_op(r, (int64_t)json_num(c, "id"), &op, cause) != 0)
			return -1;
		if (store_candidate_spent(r->store, (int64_t)json_num(c,
		    "id"), &calls, &dollars, cause) != 0) {
			free(op);
			return -1;
		}
		board_row(r, c, i + 1, op, calls, champion);
		free(op);
	}
	report_table_close(r);
	return 0;
}

/* The lineage graph: nodes in layers, edges from parents to children. */
struct lnode {
	int64_t		 id;
	char		*text;
	char		*origin;
	double		 mean;		/* NAN: no dev score */
	int		 layer;
	double		 order;		/* place in its layer */
	double		 x, y;
};
struct ledge {
	size_t		 child, parent;	/* indices of nodes */
	char		*op;
	char		*note;
};
struct lgraph {
	struct lnode	*nodes;
	size_t		 nnodes;
	struct ledge	*edges;
	size_t		 nedges;
	int		 truncated;
};

static size_t
lgraph_find(const struct lgraph *g, int64_t id)
{
	size_t	i;

	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].id == id)
			return i;
	return SIZE_MAX;
}

static size_t
lgraph_add(struct lgraph *g, int64_t id, const char *text,
    const char *origin)
{
	struct lnode	*n;

	g->nodes = xreallocarray(g->nodes, g->nnodes + 1, sizeof *g->nodes);
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof *n);
	n->id = id;
	n->text = xstrdup(text != NULL ? text : "");
	n->origin = xstrdup(origin != NULL ? origin : "");
	n->mean = NAN;
	return g->nnodes++;
}

/*
 * Adds the parents of node i and, breadth first, theirs: up to
 * LINEAGE_NODES nodes in all and LINEAGE_DEPTH generations.
 */
static int
lgraph_grow(struct report *r, struct lgraph *g, size_t first, char **cause)
{
	struct lineage_row	*rows;
	struct ledge		*e;
	size_t			 i, k, n, p;

	for (i = first; i < g->nnodes; i++) {
		if (g->nodes[i].layer <= -LINEAGE_DEPTH)
			continue;
		if (store_lineage_parents(r->store, g->nodes[i].id, &rows, &n,
		    cause) != 0)
			return -1;
		for (k = 0; k < n; k++) {
			if ((p = lgraph_find(g, rows[k].parent)) == SIZE_MAX) {
				if (g->nnodes == LINEAGE_NODES) {
					g->truncated = 1;
					continue;
				}
				p = lgraph_add(g, rows[k].parent, rows[k].text,
				    rows[k].origin);
				g->nodes[p].layer = g->nodes[i].layer - 1;
			}
			g->edges = xreallocarray(g->edges, g->nedges + 1,
			    sizeof *g->edges);
			e = &g->edges[g->nedges++];
			e->child = i;
			e->parent = p;
			e->op = rows[k].op != NULL ? xstrdup(rows[k].op) : NULL;
			e->note = rows[k].note != NULL ? xstrdup(rows[k].note) :
			    NULL;
		}
		store_lineage_rows_free(rows, n);
	}
	return 0;
}

static void
lgraph_free(struct lgraph *g)
{
	size_t	i;

	for (i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].text);
		free(g->nodes[i].origin);
	}
	for (i = 0; i < g->nedges; i++) {
		free(g->edges[i].op);
		free(g->edges[i].note);
	}
	free(g->nodes);
	free(g->edges);
}

/*
 * Layers: a parent sits above each of its children (the longest path
 * from a root decides), roots at the top.  The relaxation ends: each pass
 * that changes something lowers a layer, and layers are bounded by the
 * number of nodes (a cycle, which lineage cannot have, stops there too).
 */
static int
lgraph_layers(struct lgraph *g)
{
	size_t	i, pass;
	int	changed = 1, min = 0;

	for (i = 0; i < g->nnodes; i++)
		g->nodes[i].layer = 0;
	for (pass = 0; changed && pass <= g->nnodes; pass++) {
		changed = 0;
		for (i = 0; i < g->nedges; i++) {
			struct lnode	*c = &g->nodes[g->edges[i].child];
			struct lnode	*p = &g->nodes[g->edges[i].parent];

			if (c->layer < p->layer + 1) {
				c->layer = p->layer + 1;
				changed = 1;
			}
		}
	}
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].layer > min)
			min = g->nodes[i].layer;
	return min + 1;
}

/* Orders each layer by the mean place of a node's parents, then places. */
static void
lgraph_place(struct lgraph *g, int layers, double *width)
{
	size_t	i, k, *count, most = 1;
	double	sum;
	int	l, np;

	count = xcalloc((size_t)layers, sizeof *count);
	for (l = 0; l < layers; l++)
		for (i = 0; i < g->nnodes; i++) {
			if (g->nodes[i].layer != l)
				continue;
			sum = 0;
			np = 0;
			for (k = 0; k < g->nedges; k++)
				if (g->edges[k].child == i) {
					sum += g->nodes[g->edges[k].parent].order;
					np++;
				}
			g->nodes[i].order = np > 0 ? sum / np + 1e-6 *
			    (double)count[l] : (double)count[l];
			count[l]++;
		}
	for (l = 0; l < layers; l++)
		if (count[l] > most)
			most = count[l];
	*width = fmax(720, 170 * (double)most + 20);
	for (l = 0; l < layers; l++) {
		size_t	j, rank;

		for (i = 0; i < g->nnodes; i++) {
			if (g->nodes[i].layer != l)
				continue;
			for (rank = 0, j = 0; j < g->nnodes; j++)
				rank += g->nodes[j].layer == l &&
				    (g->nodes[j].order < g->nodes[i].order ||
				    (g->nodes[j].order == g->nodes[i].order &&
				    j < i));
			g->nodes[i].x = (*width - 170 * (double)count[l]) / 2 +
			    170 * (double)rank + 10;
			g->nodes[i].y = 10 + 90 * (double)l;
			g->nodes[i].order = (double)rank;
		}
	}
	free(count);
}

static void
lgraph_draw(struct report *r, const struct lgraph *g, int layers,
    double width)
{
	const struct lnode	*n, *p;
	char			 label[64];
	size_t			 i;

	strbuf_addf(r->out, "<svg class=\"lineage\" viewBox=\"0 0 %.0f %d\" "
	    "width=\"%.0f\" height=\"%d\" role=\"img\" aria-label=\"lineage "
	    "of the best candidates\"><title>lineage of the best "
	    "candidates</title>\n", width, 90 * layers + 10, width,
	    90 * layers + 10);
	for (i = 0; i < g->nedges; i++) {
		n = &g->nodes[g->edges[i].child];
		p = &g->nodes[g->edges[i].parent];
		strbuf_addf(r->out, "<g class=\"edge-group\"><path class=\""
		    "edge %s\" d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f\">"
		    "<title>", report_op_class(g->edges[i].op), p->x + 75,
		    p->y + 44, p->x + 75, p->y + 70, n->x + 75, n->y - 26,
		    n->x + 75, n->y);
		report_textf(r, "%s: %s", g->edges[i].op != NULL ?
		    g->edges[i].op : "derived", g->edges[i].note != NULL ?
		    g->edges[i].note : "(no note)");
		strbuf_adds(r->out, "</title></path></g>\n");
	}
	for (i = 0; i < g->nnodes; i++) {
		n = &g->nodes[i];
		strbuf_addf(r->out, "<g class=\"node%s\">",
		    n->id == r->champion ? " champion" : "");
		svg_rect(r->out, n->x, n->y, 150, 44, NULL, n->text);
		snprintf(label, sizeof label, "#%lld %s", (long long)n->id,
		    n->origin);
		svg_text(r->out, n->x + 75, n->y + 17, "middle", NULL, label);
		if (isfinite(n->mean))
			snprintf(label, sizeof label, "%.3f", n->mean);
		else
			snprintf(label, sizeof label, "no dev score");
		svg_text(r->out, n->x + 75, n->y + 34, "middle", "tick",
		    label);
		strbuf_adds(r->out, "</g>\n");
	}
	strbuf_adds(r->out, "</svg>\n");
}

/* Each node's dev score, from the job's sums on the latest snapshot. */
static int
lgraph_scores(struct report *r, struct lgraph *g, char **cause)
{
	struct score_sum	*sums;
	struct summary		 sum;
	size_t			 n, i, k;

	if (r->dataset <= 0)
		return 0;
	if (store_score_sums(r->store, r->job.id, r->dataset, "dev", &sums,
	    &n, cause) != 0)
		return -1;
	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < n; k++)
			if (sums[k].candidate == g->nodes[i].id) {
				stats_summary_sums((size_t)sums[k].n,
				    sums[k].total, sums[k].squares,
				    (size_t)sums[k].fractional, 0.95, &sum);
				g->nodes[i].mean = sum.mean;
			}
	free(sums);
	return 0;
}

/* The edges as a list: what each operator did, and why. */
static void
lgraph_list(struct report *r, const struct lgraph *g)
{
	const struct ledge	*e;
	size_t			 i;

	strbuf_adds(r->out, "<h3>How each was made</h3>\n<ul class=\"edges\">\n");
	for (i = 0; i < g->nedges; i++) {
		e = &g->edges[i];
		strbuf_adds(r->out, "<li>");
		report_swatch(r, e->op);
		report_textf(r, "#%lld from #%lld by %s", (long long)
		    g->nodes[e->child].id, (long long)g->nodes[e->parent].id,
		    e->op != NULL ? e->op : "an unnamed operator");
		if (e->note != NULL)
			report_textf(r, ": %s", e->note);
		strbuf_adds(r->out, "</li>\n");
	}
	strbuf_adds(r->out, "</ul>\n");
}

int
report_lineage(struct report *r, char **cause)
{
	struct lgraph	 g;
	const cJSON	*cands, *c;
	double		 width;
	int		 layers, rc = -1, i = 0;

	memset(&g, 0, sizeof g);
	cands = cJSON_GetObjectItemCaseSensitive(r->board, "candidates");
	cJSON_ArrayForEach(c, cands) {
		if (i++ == 5)
			break;
		lgraph_add(&g, (int64_t)json_num(c, "id"),
		    json_str(c, "text", NULL), json_str(c, "origin", NULL));
	}
	if (lgraph_grow(r, &g, 0, cause) != 0 ||
	    lgraph_scores(r, &g, cause) != 0)
		goto out;
	rc = 0;
	if (g.nedges == 0) {
		report_none(r, "The best candidates have no recorded parents "
		    "(seeds, or a strategy that does not derive prompts "
		    "from others).");
		goto out;
	}
	layers = lgraph_layers(&g);
	lgraph_place(&g, layers, &width);
	report_textf(r, "The ancestry of the %d best candidates: %zu "
	    "prompts, older generations above; hover over a prompt for its "
	    "text, over an edge for the operator's note.%s", i > 5 ? 5 : i,
	    g.nnodes, g.truncated ? " (Cut at that many.)" : "");
	lgraph_draw(r, &g, layers, width);
	lgraph_list(r, &g);
out:
	lgraph_free(&g);
	return rc;
}
