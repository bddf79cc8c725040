/*
 * reflect mode pe2: "Prompt Engineering a Prompt Engineer" (Ye et al.).
 * One prompt is edited at a time.  Each step scores it on a minibatch,
 * shows the optimizer a batch of its errors in a meta-prompt with the
 * paper's three parts (a detailed two-step task description, a context
 * specification saying where the prompt sits relative to the input, and
 * a step-by-step reasoning template) and the optimizer history (earlier
 * prompts and their dev scores), and scores the edit on dev.
 *
 * Back-tracking, as in the paper: when an edit does no better, the next
 * step starts from the best prompt so far, not from the edit.  With
 * "backtrack" false the last edit is always the next step's prompt.
 *
 * The state is reflect's: the prompt being edited is st->champion, and
 * every prompt tried is in st->known with its dev score, in the order
 * tried (the history shown).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "xmalloc.h"

/*
 * How many minibatches are drawn from train to find errors, and then as
 * many from dev, before a step gives up: a prompt can be right on all of
 * a small train split.
 */
#define PE2_DRAWS	3

/* The best known prompt that is still among the run's candidates. */
static struct cand *
pe2_best(struct search *s, struct reflect *st)
{
	struct cand	*c, *best = NULL;
	double		 score = -INFINITY;
	size_t		 i;

	for (i = 0; i < st->nknown; i++) {
		if (isnan(st->known[i].score) || st->known[i].score <= score ||
		    (c = reflect_cand(s, st->known[i].id)) == NULL)
			continue;
		best = c;
		score = st->known[i].score;
	}
	return best;
}

/*
 * The prompt to edit: the champion, or at the first step the best of the
 * candidates the run starts with (the seeds), each scored on dev.
 */
static int
pe2_current(struct search *s, struct reflect *st, struct cand **cur,
    char **cause)
{
	size_t	i;

	*cur = st->champion != 0 ? reflect_cand(s, st->champion) : NULL;
	if (*cur != NULL)
		return 0;
	if (search_evaluate(s, s->cands, s->ncands, cause) != 0)
		return -1;
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->nscored > 0)
			reflect_know(st, s->cands[i]);
	if ((*cur = pe2_best(s, st)) != NULL)
		st->champion = (*cur)->id;
	return 0;
}

/*
 * Where the prompt sits relative to the input, from the task: the
 * context specification.  A new string, the caller's to free.
 */
static char *
pe2_context(const struct search *s)
{
	if (s->task->placement == PLACE_SYSTEM)
		return xstrdup("The prompt is the system message. Each input "
		    "below is sent after it as the user message, as it is "
		    "shown, so the prompt must say whatever the model needs "
		    "to know about the task that the input does not.");
	return xasprintf("The prompt is not a separate message: it is "
	    "placed inside each input, where {{prompt}} stands in this "
	    "template, which each example fills in:\n\n<template>%s"
	    "</template>\n\nThe inputs below are shown without the prompt.",
	    s->task->input != NULL ? s->task->input : "{{prompt}}");
}

/*
 * Previous prompts and their scores: the last "history" prompts tried
 * before cur, oldest first.  A new string, the caller's to free.
 */
static char *
pe2_history(struct search *s, struct reflect *st, const struct cand *cur)
{
	struct strbuf	 sb;
	struct cand	*c;
	size_t		 max = (size_t)search_int(s, "history"), i, first, n;

	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = st->nknown, n = 0; i > 0 && n < max; i--)
		if (st->known[i - 1].id != cur->id)
			n++;
	first = i;
	if (n == 0) {
		strbuf_adds(&sb, "None yet: this is the first edit.\n");
		return strbuf_detach(&sb);
	}
	strbuf_adds(&sb, "The prompts tried before, oldest first, each with "
	    "its score on the development examples:\n\n");
	for (i = first; i < st->nknown; i++) {
		if (st->known[i].id == cur->id ||
		    (c = reflect_cand(s, st->known[i].id)) == NULL)
			continue;
		strbuf_addf(&sb, "<prompt score=\"%.3f\">%s</prompt>\n",
		    isnan(st->known[i].score) ? 0.0 : st->known[i].score,
		    c->text);
	}
	return strbuf_detach(&sb);
}

/* What one step found of the current prompt on a minibatch. */
struct pe2_batch {
	size_t			*mb;
	size_t			 nmb;
	struct search_score	*res;
	size_t			*errors;	/* positions in mb */
	size_t			 nerrors;
};

/*
 * Up to "batch" errors of cur on a minibatch from train (dev without
 * it, or when train showed none): 1 with some found, 0 when none was
 * found, or -1.
 */
static int
pe2_errors(struct search *s, struct reflect *st, struct cand *cur,
    struct pe2_batch *b, char **cause)
{
	size_t	size = reflect_minibatch(s, st), want, tries, i;

	want = (size_t)search_int(s, "batch");
	b->mb = xcalloc(size + 1, sizeof *b->mb);
	b->res = xcalloc(size + 1, sizeof *b->res);
	b->errors = xcalloc(size + 1, sizeof *b->errors);
	for (tries = 0; tries < 2 * PE2_DRAWS; tries++) {
		search_scores_release(b->res, b->nmb);
		if (tries < PE2_DRAWS || s->ntrain == 0)
			b->nmb = reflect_minibatch_draw(s, size, b->mb);
		else
			b->nmb = reflect_dev_draw(s, size, b->mb);
		if (search_score_on(s, &cur, 1, b->mb, b->nmb, b->res,
		    cause) != 0)
			return -1;
		b->nerrors = 0;
		for (i = 0; i < b->nmb && b->nerrors < want; i++)
			if (!isnan(b->res[i].score) && b->res[i].score < 1)
				b->errors[b->nerrors++] = i;
		if (b->nerrors > 0)
			return 1;
	}
	return 0;
}

static void
pe2_batch_release(struct pe2_batch *b)
{
	search_scores_release(b->res, b->nmb);
	free(b->res);
	free(b->mb);
	free(b->errors);
}

/* The edits of cur from its errors, appended to *news. */
static int
pe2_ask(struct search *s, struct reflect *st, struct cand *cur,
    const struct pe2_batch *b, struct cand ***news, size_t *nnews,
    char **cause)
{
	struct rvars	 rv;
	char		*context, *score, *nerrors, *errors, *hist;
	int		 rc;

	context = pe2_context(s);
	score = reflect_num(reflect_known(st, cur->id) != NULL ?
	    reflect_known(st, cur->id)->score : cur->mean);
	nerrors = reflect_count(b->nerrors, "input");
	errors = reflect_examples(s, "errors", b->mb, b->res, b->errors,
	    b->nerrors, 1);
	hist = pe2_history(s, st, cur);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "context", context);
	rvars_set(&rv, "prompt", cur->text);
	rvars_set(&rv, "score", score);
	rvars_set(&rv, "nerrors", nerrors);
	rvars_set(&rv, "errors", errors);
	rvars_set(&rv, "history", hist);
	rc = search_propose(s, "reflect_pe2", rv.v, rv.n, 0,
	    reflect_proposals(s, st), search_number(s, "temperature"), 1,
	    "pe2", cur, news, nnews, cause);
	free(context);
	free(score);
	free(nerrors);
	free(errors);
	free(hist);
	return rc;
}

static int
pe2_step(struct search *s, struct reflect *st, char **cause)
{
	struct pe2_batch	 b;
	struct cand		*cur, *last, *next, **news = NULL;
	size_t			 nnews = 0;
	int			 found, rc = -1;

	if (pe2_current(s, st, &cur, cause) != 0)
		return -1;
	if (cur == NULL)
		return 0;
	memset(&b, 0, sizeof b);
	if ((found = pe2_errors(s, st, cur, &b, cause)) < 0)
		goto out;
	if (found == 0) {
		log_debug("pe2: no errors of %lld to learn from",
		    (long long)cur->id);
		rc = 0;
		goto out;
	}
	if (pe2_ask(s, st, cur, &b, &news, &nnews, cause) != 0 ||
	    reflect_score_new(s, st, cur, news, nnews, &last, cause) != 0)
		goto out;
	/* Back-tracking: the best so far, which an improving edit is. */
	if (search_bool(s, "backtrack"))
		next = pe2_best(s, st);
	else
		next = last;
	if (next != NULL)
		st->champion = next->id;
	log_debug("pe2: edited %lld into %lld; next from %lld",
	    (long long)cur->id, last != NULL ? (long long)last->id : 0LL,
	    (long long)st->champion);
	rc = 0;
out:
	pe2_batch_release(&b);
	free(news);
	return rc;
}

const struct reflect_mode pe2_mode = {
	.name = "pe2",
	.steps = 6,
	.minibatch = 16,
	.proposals = 1,
	.seeded = 0,
	.screens = 1,
	.step = pe2_step,
};
