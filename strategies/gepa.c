/*
 * reflect mode gepa: reflective evolution on a Pareto front (Agrawal et
 * al., "GEPA").  A parent is drawn in proportion to the dev examples on
 * which it is among the best, the optimizer rewrites it from a minibatch
 * of its answers with the metric's feedback, and the child is kept only
 * if it beats the parent on that minibatch; then it is scored on all of
 * dev.  Optionally two unrelated lineages are merged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "strategy.h"
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

/*
 * Merges two members of unrelated lineages; the result is kept if on dev
 * examples where they differ it does at least as well as the better.
 */
static int
gepa_merge(struct search *s, struct reflect *st, struct cand **pool,
    size_t npool, const size_t *freq, char **cause)
{
	struct rvars		 rv;
	struct search_score	*res = NULL;
	struct cand		*pa, *pb, *pair[2], **news = NULL, *c;
	char			**found, *why = NULL, *sa, *sb;
	size_t			*diff, *pick, ndiff = 0, npick, nnews = 0, i, j;
	size_t			 mbsize = reflect_minibatch(s, st);
	double			 suma = 0, sumb = 0, sumc;
	int			 n, tries, rc = -1;

	for (tries = 0; tries < 10; tries++) {
		pa = pool[gepa_sample(s, freq, npool)];
		pb = pool[gepa_sample(s, freq, npool)];
		if (pa != pb && !gepa_ancestor(st, pa->id, pb->id, 0) &&
		    !gepa_ancestor(st, pb->id, pa->id, 0))
			break;
	}
	if (tries == 10)
		return 0;
	sa = reflect_num(pa->mean);
	sb = reflect_num(pb->mean);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt_a", pa->text);
	rvars_set(&rv, "score_a", sa);
	rvars_set(&rv, "prompt_b", pb->text);
	rvars_set(&rv, "score_b", sb);
	n = search_ask(s, "reflect_merge", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	free(sa);
	free(sb);
	pair[0] = pa;
	pair[1] = pb;
	if (n < 0 || reflect_add(s, found, n, "gepa-merge", pair, 2, why,
	    &news, &nnews, cause) != 0) {
		free(why);
		return -1;
	}
	free(why);
	if (nnews == 0 || (c = news[0]) == pa || c == pb ||
	    reflect_member(st, c->id)) {
		free(news);
		return 0;
	}
	free(news);
	/* Dev examples on which the two differ, else any. */
	diff = xcalloc(s->ndev + 1, sizeof *diff);
	pick = xcalloc(s->ndev + 1, sizeof *pick);
	for (j = 0; j < s->ndev; j++)
		if (pa->scores[j] != pb->scores[j])
			diff[ndiff++] = s->dev[j];
	if (ndiff == 0)
		for (j = 0; j < s->ndev; j++)
			diff[ndiff++] = s->dev[j];
	npick = reflect_draw(s, ndiff, mbsize, pick);
	for (i = 0; i < npick; i++)
		pick[i] = diff[pick[i]];
	res = xcalloc(3 * npick + 1, sizeof *res);
	pair[0] = c;
	if (search_score_on(s, pair, 1, pick, npick, res, cause) != 0)
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
	reflect_history_add(st, c, suma >= sumb ? pa : pb,
	    sumc / (double)(npick > 0 ? npick : 1),
	    (suma >= sumb ? suma : sumb) / (double)(npick > 0 ? npick : 1));
	if (npick > 0 && sumc >= (suma >= sumb ? suma : sumb)) {
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
	free(diff);
	free(pick);
	return rc;
}

static int
gepa_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars		 rv;
	struct search_score	*rp = NULL, *rc_ = NULL;
	struct cand		**pool = NULL, *parent, *child, **news = NULL;
	char			**found, *why = NULL, *examples, *hist, *score;
	size_t			*freq = NULL, *mb = NULL, npool, nmb = 0, nnews;
	size_t			 it, want = reflect_proposals(s, st);
	size_t			 size = reflect_minibatch(s, st), tries, i;
	double			 sp, sc;
	int			 n, accepted = 0, rc = -1;

	npool = gepa_pool(s, st, &pool);
	if (npool == 0) {
		free(pool);
		return 0;
	}
	/* Every member on every dev example: the front needs them all. */
	if (gepa_full(s, pool, npool, cause) != 0)
		goto out;
	mb = xcalloc(size + 1, sizeof *mb);
	rp = xcalloc(size + 1, sizeof *rp);
	rc_ = xcalloc(size + 1, sizeof *rc_);
	for (it = 0; it < want; it++) {
		freq = xreallocarray(freq, npool + 1, sizeof *freq);
		gepa_front(s, pool, npool, freq);
		parent = pool[gepa_sample(s, freq, npool)];
		/*
		 * A minibatch with something to learn from: from train, and
		 * from dev when the parent is perfect on three train draws.
		 */
		for (tries = 0; tries < 6; tries++) {
			search_scores_release(rp, nmb);
			if (tries < 3 || s->ntrain == 0)
				nmb = reflect_minibatch_draw(s, size, mb);
			else {
				nmb = reflect_draw(s, s->ndev, size, mb);
				for (i = 0; i < nmb; i++)
					mb[i] = s->dev[mb[i]];
			}
			if (search_score_on(s, &parent, 1, mb, nmb, rp,
			    cause) != 0)
				goto out;
			for (i = 0; i < nmb; i++)
				if (!isnan(rp[i].score) && rp[i].score < 1)
					break;
			if (i < nmb)
				break;
		}
		if (tries == 6)
			continue;
		examples = reflect_examples(s, "examples", mb, rp, NULL, nmb,
		    1);
		hist = reflect_history(s, st, 1);
		score = reflect_num(reflect_mean(rp, nmb));
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "prompt", parent->text);
		rvars_set(&rv, "score", score);
		rvars_set(&rv, "examples", examples);
		rvars_set(&rv, "history", hist);
		n = search_ask(s, "reflect_gepa", rv.v, rv.n,
		    search_number(s, "temperature"), 1, &found, &why, cause);
		free(examples);
		free(hist);
		free(score);
		nnews = 0;
		if (n < 0 || reflect_add(s, found, n, "gepa-reflect", &parent,
		    1, why, &news, &nnews, cause) != 0) {
			free(why);
			goto out;
		}
		free(why);
		why = NULL;
		child = nnews > 0 ? news[0] : NULL;
		free(news);
		news = NULL;
		if (child == NULL || child == parent ||
		    reflect_member(st, child->id))
			continue;
		/* Kept only if it does better on the same minibatch. */
		if (search_score_on(s, &child, 1, mb, nmb, rc_, cause) != 0)
			goto out;
		sp = gepa_sum(rp, nmb);
		sc = gepa_sum(rc_, nmb);
		search_scores_release(rc_, nmb);
		reflect_history_add(st, child, parent, sc / (double)nmb,
		    sp / (double)nmb);
		if (sc > sp) {
			if (gepa_full(s, &child, 1, cause) != 0)
				goto out;
			reflect_member_add(st, child->id, parent->id, 0);
			pool = xreallocarray(pool, npool + 1, sizeof *pool);
			pool[npool++] = child;
			accepted = 1;
			log_debug("gepa: %lld improves on %lld (%.2f > %.2f); "
			    "dev %.3f", (long long)child->id,
			    (long long)parent->id, sc, sp, child->mean);
		} else
			reflect_drop(s, child);
	}
	if (accepted && search_bool(s, "merge") && npool >= 3) {
		freq = xreallocarray(freq, npool + 1, sizeof *freq);
		gepa_front(s, pool, npool, freq);
		if (gepa_merge(s, st, pool, npool, freq, cause) != 0)
			goto out;
	}
	rc = 0;
out:
	search_scores_release(rp, nmb);
	search_scores_release(rc_, nmb);
	free(rp);
	free(rc_);
	free(mb);
	free(freq);
	free(pool);
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
