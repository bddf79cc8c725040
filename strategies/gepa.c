/*
 * reflect mode gepa: reflective evolution on a Pareto front (Agrawal et
 * al., "GEPA").  A parent is drawn in proportion to the dev examples on
 * which it is among the best, the optimizer rewrites it from a minibatch
 * of its answers with the metric's feedback, and the child is kept only
 * if it beats the parent on that minibatch; then it is scored on all of
 * dev.  Optionally two unrelated lineages are merged.  The reflection
 * request also shows what people wrote of the parent's answers
 * (reflect_human.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "rng.h"
#include "search.h"
#include "xmalloc.h"

/* Scores cands on every dev example (no racing: they all must be). */
static int
gepa_full(struct search *s, struct cand **cands, size_t n, char **cause)
{
	int	racing = s->racing, rc;
	size_t	i;

	for (i = 0; i < n; i++)
		cands[i]->raced_out = 0;
	s->racing = 0;
	rc = search_evaluate(s, cands, n, cause);
	s->racing = racing;
	return rc;
}

/* The pool's members as candidates. */
static size_t
gepa_pool(struct search *s, struct reflect *st, struct cand ***out)
{
	struct cand	*c;
	size_t		 i, n = 0;

	*out = xcalloc(st->nset + 1, sizeof **out);
	for (i = 0; i < st->nset; i++)
		if ((c = reflect_cand(s, st->set[i].id)) != NULL)
			(*out)[n++] = c;
	return n;
}

/*
 * The Pareto front: on each dev example the leaders are the pool members
 * with its best score.  Members whose every lead is shared with another
 * member left are dominated and removed, weakest first; freq[i] is then
 * the number of examples member i leads (0 when removed).
 */
static void
gepa_front(const struct search *s, struct cand **pool, size_t n, size_t *freq)
{
	unsigned char	*lead, *dead;
	size_t		*order, i, j, k, y, z;
	double		 best;
	int		 found, leads, dominated, other;

	lead = xcalloc(n * s->ndev + 1, 1);
	dead = xcalloc(n + 1, 1);
	order = xcalloc(n + 1, sizeof *order);
	for (j = 0; j < s->ndev; j++) {
		best = -INFINITY;
		for (i = 0; i < n; i++)
			if (!isnan(pool[i]->scores[j]) &&
			    pool[i]->scores[j] > best)
				best = pool[i]->scores[j];
		for (i = 0; i < n && best > -INFINITY; i++)
			if (!isnan(pool[i]->scores[j]) &&
			    pool[i]->scores[j] >= best - 1e-12)
				lead[i * s->ndev + j] = 1;
	}
	/* Weakest first (insertion sort by mean, stable). */
	for (i = 0; i < n; i++) {
		for (k = i; k > 0 && pool[order[k - 1]]->mean > pool[i]->mean;
		    k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	do {
		found = 0;
		for (k = 0; k < n && !found; k++) {
			y = order[k];
			if (dead[y])
				continue;
			leads = 0;
			dominated = 1;
			for (j = 0; j < s->ndev && dominated; j++) {
				if (!lead[y * s->ndev + j])
					continue;
				leads = 1;
				other = 0;
				for (z = 0; z < n && !other; z++)
					other = z != y && !dead[z] &&
					    lead[z * s->ndev + j];
				dominated = other;
			}
			if (leads && dominated) {
				dead[y] = 1;
				found = 1;
			}
		}
	} while (found);
	for (i = 0; i < n; i++) {
		freq[i] = 0;
		for (j = 0; j < s->ndev && !dead[i]; j++)
			freq[i] += lead[i * s->ndev + j];
	}
	free(lead);
	free(dead);
	free(order);
}

/* A member drawn in proportion to freq (uniformly if all are 0). */
static size_t
gepa_sample(struct search *s, const size_t *freq, size_t n)
{
	size_t	total = 0, i, r;

	for (i = 0; i < n; i++)
		total += freq[i];
	if (total == 0)
		return rng_below(&s->rng, (uint32_t)n);
	r = rng_below(&s->rng, (uint32_t)total);
	for (i = 0; i < n; i++) {
		if (r < freq[i])
			return i;
		r -= freq[i];
	}
	return n - 1;
}

/* Whether candidate a is an ancestor of b within the pool. */
static int
gepa_ancestor(const struct reflect *st, int64_t a, int64_t b, size_t depth)
{
	size_t	i, k;

	if (depth > st->nset)
		return 0;
	for (i = 0; i < st->nset; i++) {
		if (st->set[i].id != b)
			continue;
		for (k = 0; k < 2; k++) {
			if (st->set[i].parents[k] == 0)
				continue;
			if (st->set[i].parents[k] == a ||
			    gepa_ancestor(st, a, st->set[i].parents[k],
			    depth + 1))
				return 1;
		}
	}
	return 0;
}

static double
gepa_sum(const struct search_score *r, size_t n)
{
	double	sum = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		if (!isnan(r[i].score))
			sum += r[i].score;
	return sum;
}

/* Two members of unrelated lineages, in ten draws at most; -1 if none. */
static int
gepa_pair(struct search *s, struct reflect *st, struct cand **pool,
    size_t npool, const size_t *freq, struct cand *pair[2])
{
	int	tries;

	for (tries = 0; tries < 10; tries++) {
		pair[0] = pool[gepa_sample(s, freq, npool)];
		pair[1] = pool[gepa_sample(s, freq, npool)];
		if (pair[0] != pair[1] && !gepa_ancestor(st, pair[0]->id,
		    pair[1]->id, 0) && !gepa_ancestor(st, pair[1]->id,
		    pair[0]->id, 0))
			return 0;
	}
	return -1;
}

/* The merge of the pair, in *c: NULL when it is nothing new. */
static int
gepa_merge_ask(struct search *s, struct reflect *st, struct cand *pair[2],
    struct cand **c, char **cause)
{
	struct rvars	 rv;
	struct cand	**news = NULL;
	char		**found, *why = NULL, *sa, *sb;
	size_t		 nnews = 0;
	int		 n, rc;

	sa = reflect_num(pair[0]->mean);
	sb = reflect_num(pair[1]->mean);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt_a", pair[0]->text);
	rvars_set(&rv, "score_a", sa);
	rvars_set(&rv, "prompt_b", pair[1]->text);
	rvars_set(&rv, "score_b", sb);
	n = search_ask(s, "reflect_merge", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	free(sa);
	free(sb);
	rc = n < 0 || reflect_add(s, found, n, "gepa-merge", pair, 2, why,
	    &news, &nnews, cause) != 0 ? -1 : 0;
	free(why);
	*c = rc == 0 && nnews > 0 ? news[0] : NULL;
	if (*c == pair[0] || *c == pair[1] ||
	    (*c != NULL && reflect_member(st, (*c)->id)))
		*c = NULL;
	free(news);
	return rc;
}

/*
 * k dev examples on which a and b differ (any when they never do) into
 * pick, which has room for all of dev; returns how many.
 */
static size_t
gepa_differ(struct search *s, size_t k, const struct cand *a,
    const struct cand *b, size_t *pick)
{
	size_t	*diff, ndiff = 0, npick, i, j;

	diff = xcalloc(s->ndev + 1, sizeof *diff);
	for (j = 0; j < s->ndev; j++)
		if (a->scores[j] != b->scores[j])
			diff[ndiff++] = s->dev[j];
	if (ndiff == 0)
		for (j = 0; j < s->ndev; j++)
			diff[ndiff++] = s->dev[j];
	npick = search_draw(s, ndiff, k, pick);
	for (i = 0; i < npick; i++)
		pick[i] = diff[pick[i]];
	free(diff);
	return npick;
}

/*
 * Keeps merge c of pa and pb if on dev examples where they differ it
 * does at least as well as the better of them.
 */
static int
gepa_merge_keep(struct search *s, struct reflect *st, struct cand *pa,
    struct cand *pb, struct cand *c, char **cause)
{
	struct search_score	*res;
	size_t			*pick, npick, i, j;
	double			 suma = 0, sumb = 0, sumc, best;
	int			 rc = -1;

	pick = xcalloc(s->ndev + 1, sizeof *pick);
	npick = gepa_differ(s, reflect_minibatch(s, st), pa, pb, pick);
	res = xcalloc(3 * npick + 1, sizeof *res);
	if (search_score_on(s, &c, 1, pick, npick, res, cause) != 0)
		goto out;
	sumc = gepa_sum(res, npick);
	for (i = 0; i < s->ndev; i++)
		for (j = 0; j < npick; j++)
			if (s->dev[i] == pick[j]) {
				suma += isnan(pa->scores[i]) ? 0 :
				    pa->scores[i];
				sumb += isnan(pb->scores[i]) ? 0 :
				    pb->scores[i];
			}
	best = suma >= sumb ? suma : sumb;
	reflect_history_add(st, c, suma >= sumb ? pa : pb,
	    sumc / (double)(npick > 0 ? npick : 1),
	    best / (double)(npick > 0 ? npick : 1));
	if (npick > 0 && sumc >= best) {
		if (gepa_full(s, &c, 1, cause) != 0)
			goto out;
		reflect_member_add(st, c->id, pa->id, pb->id);
		log_debug("gepa: merged %lld and %lld into %lld",
		    (long long)pa->id, (long long)pb->id, (long long)c->id);
	} else
		reflect_drop(s, c);
	rc = 0;
out:
	search_scores_release(res, npick);
	free(res);
	free(pick);
	return rc;
}

/* Merges two members of unrelated lineages (see gepa_merge_keep). */
static int
gepa_merge(struct search *s, struct reflect *st, struct cand **pool,
    size_t npool, const size_t *freq, char **cause)
{
	struct cand	*pair[2], *c;

	if (gepa_pair(s, st, pool, npool, freq, pair) != 0)
		return 0;
	if (gepa_merge_ask(s, st, pair, &c, cause) != 0)
		return -1;
	if (c == NULL)
		return 0;
	return gepa_merge_keep(s, st, pair[0], pair[1], c, cause);
}

/* One gepa step, phase by phase. */
struct gepa {
	struct cand		**pool;
	size_t			  npool;
	size_t			 *freq;	/* gepa_front's, per member */
	size_t			  size;	/* the minibatch size wanted */
	size_t			 *mb;
	size_t			  nmb;
	struct search_score	 *rp;	/* the parent on mb */
	struct search_score	 *rc;	/* the child on mb */
	int			  accepted;
};

/*
 * A minibatch with something to learn from: from train, and from dev
 * when the parent is perfect on three train draws.  Returns 1 with the
 * parent's scores in g->rp, 0 when six draws found nothing, or -1.
 */
static int
gepa_minibatch(struct search *s, struct gepa *g, struct cand *parent,
    char **cause)
{
	size_t	tries, i;

	for (tries = 0; tries < 6; tries++) {
		search_scores_release(g->rp, g->nmb);
		if (tries < 3 || s->ntrain == 0)
			g->nmb = reflect_minibatch_draw(s, g->size, g->mb);
		else
			g->nmb = reflect_dev_draw(s, g->size, g->mb);
		if (search_score_on(s, &parent, 1, g->mb, g->nmb, g->rp,
		    cause) != 0)
			return -1;
		for (i = 0; i < g->nmb; i++)
			if (!isnan(g->rp[i].score) && g->rp[i].score < 1)
				return 1;
	}
	return 0;
}

/*
 * The parent rewritten from its answers on the minibatch, in *child:
 * NULL when that is nothing new.
 */
static int
gepa_reflect(struct search *s, struct reflect *st, struct gepa *g,
    struct cand *parent, struct cand **child, char **cause)
{
	struct rvars	 rv;
	struct rhuman	 hu;
	struct cand	**news = NULL;
	char		**found, *why = NULL, *examples, *hist, *score, *note;
	size_t		 nnews = 0;
	int		 n, rc;

	*child = NULL;
	if (reflect_human(s, st, parent, &hu, cause) != 0)
		return -1;
	examples = reflect_examples(s, "examples", g->mb, g->rp, NULL, g->nmb,
	    1);
	hist = reflect_history(s, st, 1);
	score = reflect_num(reflect_mean(g->rp, g->nmb));
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt", parent->text);
	rvars_set(&rv, "score", score);
	rvars_set(&rv, "examples", examples);
	rvars_set(&rv, "human", hu.block);
	rvars_set(&rv, "history", hist);
	n = search_ask(s, "reflect_gepa", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	free(examples);
	free(hist);
	free(score);
	/* The rationale is the note, marked when people's were read. */
	note = reflect_human_note(&hu, why);
	rc = n < 0 || reflect_add(s, found, n, "gepa-reflect", &parent, 1,
	    note, &news, &nnews, cause) != 0 ? -1 : 0;
	free(note);
	reflect_human_release(&hu);
	free(why);
	*child = rc == 0 && nnews > 0 ? news[0] : NULL;
	if (*child == parent ||
	    (*child != NULL && reflect_member(st, (*child)->id)))
		*child = NULL;
	free(news);
	return rc;
}

/* The child joins the pool only if it does better on the same minibatch. */
static int
gepa_try(struct search *s, struct reflect *st, struct gepa *g,
    struct cand *parent, struct cand *child, char **cause)
{
	double	sp, sc;

	if (search_score_on(s, &child, 1, g->mb, g->nmb, g->rc, cause) != 0)
		return -1;
	sp = gepa_sum(g->rp, g->nmb);
	sc = gepa_sum(g->rc, g->nmb);
	search_scores_release(g->rc, g->nmb);
	reflect_history_add(st, child, parent, sc / (double)g->nmb,
	    sp / (double)g->nmb);
	if (sc <= sp) {
		reflect_drop(s, child);
		return 0;
	}
	if (gepa_full(s, &child, 1, cause) != 0)
		return -1;
	reflect_member_add(st, child->id, parent->id, 0);
	reflect_push(&g->pool, &g->npool, child);
	g->accepted = 1;
	log_debug("gepa: %lld improves on %lld (%.2f > %.2f); dev %.3f",
	    (long long)child->id, (long long)parent->id, sc, sp, child->mean);
	return 0;
}

static int
gepa_step(struct search *s, struct reflect *st, char **cause)
{
	struct gepa	 g;
	struct cand	*parent, *child;
	size_t		 it, want = reflect_proposals(s, st);
	int		 found, rc = -1;

	memset(&g, 0, sizeof g);
	g.npool = gepa_pool(s, st, &g.pool);
	if (g.npool == 0) {
		free(g.pool);
		return 0;
	}
	/* Every member on every dev example: the front needs them all. */
	if (gepa_full(s, g.pool, g.npool, cause) != 0)
		goto out;
	g.size = reflect_minibatch(s, st);
	g.mb = xcalloc(g.size + 1, sizeof *g.mb);
	g.rp = xcalloc(g.size + 1, sizeof *g.rp);
	g.rc = xcalloc(g.size + 1, sizeof *g.rc);
	/*
	 * One proposal after another, not asked for together with
	 * search_ask_many(): a child accepted here can be the next one's
	 * parent, and the next request shows how it did.  Asked together
	 * from the step's first front, the parents stay weaker for longer:
	 * on the arith example that cost 40% more optimizer calls and 24%
	 * more target calls (a perfect parent costs no request).
	 */
	for (it = 0; it < want; it++) {
		g.freq = xreallocarray(g.freq, g.npool + 1, sizeof *g.freq);
		gepa_front(s, g.pool, g.npool, g.freq);
		parent = g.pool[gepa_sample(s, g.freq, g.npool)];
		if ((found = gepa_minibatch(s, &g, parent, cause)) < 0)
			goto out;
		if (found == 0)
			continue;
		if (gepa_reflect(s, st, &g, parent, &child, cause) != 0 ||
		    (child != NULL && gepa_try(s, st, &g, parent, child,
		    cause) != 0))
			goto out;
	}
	if (g.accepted && search_bool(s, "merge") && g.npool >= 3) {
		g.freq = xreallocarray(g.freq, g.npool + 1, sizeof *g.freq);
		gepa_front(s, g.pool, g.npool, g.freq);
		if (gepa_merge(s, st, g.pool, g.npool, g.freq, cause) != 0)
			goto out;
	}
	rc = 0;
out:
	search_scores_release(g.rp, g.nmb);
	search_scores_release(g.rc, g.nmb);
	free(g.rp);
	free(g.rc);
	free(g.mb);
	free(g.freq);
	free(g.pool);
	return rc;
}

const struct reflect_mode gepa_mode = {
	.name = "gepa",
	.steps = 10,
	.minibatch = 3,
	.proposals = 4,
	.seeded = 1,
	.step = gepa_step,
};
