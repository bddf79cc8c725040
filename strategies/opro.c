/*
 * reflect mode opro: optimization by prompting (Yang et al., "Large
 * Language Models as Optimizers").  The best earlier prompts with their
 * scores in ascending order and a few exemplars; several proposals a
 * step at a high temperature.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reflect_int.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "xmalloc.h"

static int
known_cmp_desc(const void *va, const void *vb)
{
	const struct rknown	*a = va, *b = vb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * The best "shown" known prompts with their scores, ascending: the best
 * come last, nearest the request.  *parent is the best of them (NULL if
 * none is among the run's candidates).  A new string, the caller's.
 */
static char *
opro_scored(struct search *s, struct reflect *st, struct cand **parent)
{
	struct strbuf	 sb;
	struct rknown	*sorted;
	struct cand	*c;
	size_t		 nshown, i;

	sorted = xcalloc(st->nknown, sizeof *sorted);
	memcpy(sorted, st->known, st->nknown * sizeof *sorted);
	qsort(sorted, st->nknown, sizeof *sorted, known_cmp_desc);
	nshown = st->nknown < (size_t)search_int(s, "shown") ? st->nknown :
	    (size_t)search_int(s, "shown");
	*parent = NULL;
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = nshown; i > 0; i--) {
		if ((c = reflect_cand(s, sorted[i - 1].id)) == NULL)
			continue;
		strbuf_addf(&sb, "<prompt score=\"%.3f\">%s</prompt>\n",
		    sorted[i - 1].score, c->text);
		*parent = c;	/* the last shown is the best */
	}
	free(sorted);
	return strbuf_detach(&sb);
}

/* A few exemplars of the task: a new string, the caller's. */
static char *
opro_exemplars(struct search *s)
{
	struct strbuf	 sb;
	char		*in, *out;
	size_t		*ex, nex, i;

	ex = xcalloc((size_t)search_int(s, "exemplars") + 1, sizeof *ex);
	nex = reflect_minibatch_draw(s, (size_t)search_int(s, "exemplars"),
	    ex);
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = 0; i < nex; i++) {
		in = search_input(s, ex[i]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n", in);
		if (s->task->target != NULL) {
			out = search_expected(s, ex[i]);
			strbuf_addf(&sb, "<output>%s</output>\n", out);
			free(out);
		}
		strbuf_adds(&sb, "</example>\n");
		free(in);
	}
	free(ex);
	return strbuf_detach(&sb);
}

/* The proposals of this step, made from parent (may be NULL), at once. */
static int
opro_propose(struct search *s, struct reflect *st, struct cand *parent,
    const char *scored, const char *exemplars, struct cand ***news,
    size_t *nnews, char **cause)
{
	struct rvars	 rv;
	char		*hist, *count;
	size_t		 per = (size_t)search_int(s, "per_ask");
	int		 rc;

	hist = reflect_history(s, st, 1);
	count = reflect_count(per, "new instruction");
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "scored", scored);
	rvars_set(&rv, "exemplars", exemplars);
	rvars_set(&rv, "history", hist);
	rvars_set(&rv, "count", count);
	rc = search_propose(s, "reflect_opro", rv.v, rv.n, 0,
	    (reflect_proposals(s, st) + per - 1) / per,
	    search_number(s, "temperature"), per, "opro", parent, news, nnews,
	    cause);
	free(hist);
	free(count);
	return rc;
}

static int
opro_step(struct search *s, struct reflect *st, char **cause)
{
	struct cand	*parent, **news = NULL;
	char		*scored, *exemplars;
	size_t		 nnews = 0, i;
	int		 rc = -1;

	/* Everyone scored so far is known, with the score it had then. */
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->nscored > 0 &&
		    reflect_known(st, s->cands[i]->id) == NULL)
			reflect_know(st, s->cands[i]);
	if (st->nknown == 0)
		return 0;
	scored = opro_scored(s, st, &parent);
	exemplars = opro_exemplars(s);
	if (opro_propose(s, st, parent, scored, exemplars, &news, &nnews,
	    cause) == 0 && reflect_score_new(s, st, parent, news, nnews,
	    NULL, cause) == 0)
		rc = 0;
	free(news);
	free(scored);
	free(exemplars);
	return rc;
}

const struct reflect_mode opro_mode = {
	.name = "opro",
	.steps = 10,
	.minibatch = 3,
	.proposals = 8,
	.seeded = 0,
	.screens = 1,
	.step = opro_step,
};
