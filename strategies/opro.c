/*
 * reflect mode opro: optimization by prompting (Yang et al., "Large
 * Language Models as Optimizers").  The best earlier prompts with their
 * scores in ascending order and a few exemplars; several proposals a
 * step at a high temperature.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "reflect_int.h"
#include "strategy.h"
#include "strbuf.h"
#include "xmalloc.h"

/* Means of a and b over the dev examples both are scored on. */
static size_t
opro_paired(const struct search *s, const struct cand *a,
    const struct cand *b, double *ma, double *mb)
{
	double	sa = 0, sb = 0;
	size_t	i, n = 0;

	for (i = 0; i < s->ndev; i++) {
		if (isnan(a->scores[i]) || isnan(b->scores[i]))
			continue;
		sa += a->scores[i];
		sb += b->scores[i];
		n++;
	}
	*ma = n > 0 ? sa / (double)n : NAN;
	*mb = n > 0 ? sb / (double)n : NAN;
	return n;
}


static struct rknown *
opro_known(struct reflect *st, int64_t id)
{
	size_t	i;

	for (i = 0; i < st->nknown; i++)
		if (st->known[i].id == id)
			return &st->known[i];
	return NULL;
}

static void
opro_know(struct reflect *st, const struct cand *c)
{
	struct rknown	*k;

	if ((k = opro_known(st, c->id)) == NULL) {
		st->known = xreallocarray(st->known, st->nknown + 1,
		    sizeof *st->known);
		k = &st->known[st->nknown++];
		k->id = c->id;
	}
	k->score = c->mean;
}

static int
known_cmp_desc(const void *va, const void *vb)
{
	const struct rknown	*a = va, *b = vb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int
opro_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars	 rv;
	struct strbuf	 sb;
	struct rknown	*sorted;
	struct cand	*c, *parent = NULL, **news = NULL;
	char		**found, *why, *scored, *exemplars, *hist, *count;
	char		*in, *out;
	size_t		*ex, nex, nnews = 0, nshown, asks, i, n0;
	size_t		 per = (size_t)search_int(s, "per_ask");
	double		 mc, mp;
	int		 n, rc = -1;

	/* Everyone scored so far is known, with the score it had then. */
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->nscored > 0 &&
		    opro_known(st, s->cands[i]->id) == NULL)
			opro_know(st, s->cands[i]);
	if (st->nknown == 0)
		return 0;
	sorted = xcalloc(st->nknown, sizeof *sorted);
	memcpy(sorted, st->known, st->nknown * sizeof *sorted);
	qsort(sorted, st->nknown, sizeof *sorted, known_cmp_desc);
	nshown = st->nknown < (size_t)search_int(s, "shown") ? st->nknown :
	    (size_t)search_int(s, "shown");
	/* Ascending: the best come last, nearest the request. */
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = nshown; i > 0; i--) {
		if ((c = reflect_cand(s, sorted[i - 1].id)) == NULL)
			continue;
		strbuf_addf(&sb, "<prompt score=\"%.3f\">%s</prompt>\n",
		    sorted[i - 1].score, c->text);
		parent = c;	/* the last shown is the best */
	}
	scored = strbuf_detach(&sb);
	free(sorted);
	/* A few exemplars of the task. */
	ex = xcalloc((size_t)search_int(s, "exemplars") + 1, sizeof *ex);
	nex = reflect_minibatch_draw(s, (size_t)search_int(s, "exemplars"),
	    ex);
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = 0; i < nex; i++) {
		in = search_input(s, ex[i]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n", in);
		if (s->job->task.target != NULL) {
			out = search_expected(s, ex[i]);
			strbuf_addf(&sb, "<output>%s</output>\n", out);
			free(out);
		}
		strbuf_adds(&sb, "</example>\n");
		free(in);
	}
	exemplars = strbuf_detach(&sb);
	free(ex);
	hist = reflect_history(s, st, 1);
	count = reflect_count(per, "new instruction");
	asks = (reflect_proposals(s, st) + per - 1) / per;
	for (i = 0; i < asks; i++) {
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "scored", scored);
		rvars_set(&rv, "exemplars", exemplars);
		rvars_set(&rv, "history", hist);
		rvars_set(&rv, "count", count);
		n = search_ask(s, "reflect_opro", rv.v, rv.n,
		    search_number(s, "temperature"), per, &found, &why, cause);
		if (n < 0 || reflect_add(s, found, n, "opro", parent != NULL ?
		    &parent : NULL, parent != NULL ? 1 : 0, why, &news, &nnews,
		    cause) != 0) {
			free(why);
			goto out;
		}
		free(why);
	}
	/* Only the new ones: a repeat keeps the score it had. */
	for (i = 0, n0 = 0; i < nnews; i++)
		if (opro_known(st, news[i]->id) == NULL)
			news[n0++] = news[i];
	nnews = n0;
	if (search_evaluate(s, news, nnews, cause) != 0)
		goto out;
	for (i = 0; i < nnews; i++) {
		if (opro_known(st, news[i]->id) != NULL)
			continue;	/* proposed twice */
		opro_know(st, news[i]);
		if (parent != NULL && opro_paired(s, news[i], parent, &mc,
		    &mp) > 0)
			reflect_history_add(st, news[i], parent, mc, mp);
	}
	rc = 0;
out:
	free(news);
	free(scored);
	free(exemplars);
	free(hist);
	free(count);
	return rc;
}

const struct reflect_mode opro_mode = {
	.name = "opro",
	.steps = 10,
	.minibatch = 3,
	.proposals = 8,
	.seeded = 0,
	.step = opro_step,
};
