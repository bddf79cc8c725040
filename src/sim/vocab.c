/*
 * The optimizer's vocabulary: the sentences it may insert into a prompt
 * (the cue table's, the labels, the answer format, the rewrite traits
 * and neutral ones), what each does, the critique that names it, and
 * whether a prompt already has what it brings.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Sentences that change nothing but the small per-word effects. */
const char *const sim_neutral[] = {
	"Be helpful.",
	"This is important.",
	"Use the information given.",
	"Respond in English.",
	"Consider the context.",
	"Write clearly.",
	"Here is the task.",
	"Do your best.",
	"Follow the instructions.",
	"Keep a friendly tone.",
};
const size_t sim_nneutral = nitems(sim_neutral);

static const char *const sim_trait_sentences[4] = {
	"Make it concise.",
	"Keep it polite.",
	"Use a formal, professional tone.",
	"Fix any spelling mistakes.",
};

static const char *const sim_trait_critiques[4] = {
	"The prompt does not ask for a concise rewrite.",
	"The prompt does not ask for a polite tone.",
	"The prompt does not ask for a formal tone.",
	"The prompt does not ask to fix spelling mistakes.",
};

static void
vocab_add(struct sim_vocab *vb, enum sim_item_type type, size_t arg,
    int sign, char *sentence, char *critique, char *key)
{
	struct sim_item	*it;

	vb->v = xreallocarray(vb->v, vb->n + 1, sizeof *vb->v);
	it = &vb->v[vb->n++];
	it->type = type;
	it->arg = arg;
	it->sign = sign;
	it->sentence = sentence;
	it->critique = critique;
	it->key = key;
}

static char *
labels_list(const struct sim_task *t, const char *last)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; i < t->nlabels; i++) {
		if (i > 0)
			strbuf_adds(&sb, i + 1 == t->nlabels ? last : ", ");
		strbuf_adds(&sb, t->labels[i]);
	}
	return strbuf_detach(&sb);
}

/* The sentences the optimizer draws from, for a task (or none). */
void
sim_vocab_build(struct sim_vocab *vb, const struct sim_task *t,
    enum sim_kind kind)
{
	static const char *const format[] = {
		"Answer with only the label.",
		"Reply with only the number, nothing else.",
		"Give only the answer, nothing else.",
		"Reply with only the rewritten text.",
	};
	static const char *const fcrit[] = {
		"The prompt does not tell the model to answer with only the "
		"label.",
		"The prompt does not tell the model to answer with only the "
		"number.",
		"The prompt does not tell the model to give only the answer.",
		"The prompt does not tell the model to reply with only the "
		"rewritten text.",
	};
	const char	*key;
	char		*l;
	size_t		 i;
	double		 e;

	memset(vb, 0, sizeof *vb);
	vb->task = t;
	vb->kind = kind;
	for (i = 0; i < sim_ncues; i++) {
		e = sim_cues[i].effect[kind];
		key = sim_cues[i].phrases;
		vocab_add(vb, ITEM_CUE, i, e > 0 ? 1 : -1,
		    xstrdup(sim_cues[i].sentence),
		    xstrdup(sim_cues[i].critique),
		    xstrndup(key, strcspn(key, "|")));
	}
	if (kind == SIM_LABEL && t != NULL && t->nlabels > 0 &&
	    t->nlabels <= 10) {
		l = labels_list(t, ", ");
		vocab_add(vb, ITEM_LABELS, 0, 1,
		    xasprintf("Answer with one of: %s.", l),
		    xasprintf("The prompt does not list the possible labels "
		    "(%s).", l), xstrdup("labels"));
		free(l);
	}
	vocab_add(vb, ITEM_FORMAT, 0, 1, xstrdup(format[kind]),
	    xstrdup(fcrit[kind]), xstrdup("only"));
	if (kind == SIM_REWRITE)
		for (i = 0; i < 4; i++)
			vocab_add(vb, ITEM_TRAIT, i, 1,
			    xstrdup(sim_trait_sentences[i]),
			    xstrdup(sim_trait_critiques[i]),
			    xstrdup(sim_trait_words[i][0]));
	for (i = 0; i < nitems(sim_neutral); i++)
		vocab_add(vb, ITEM_NEUTRAL, i, 0, xstrdup(sim_neutral[i]),
		    NULL, NULL);
}

void
sim_vocab_free(struct sim_vocab *vb)
{
	size_t	i;

	for (i = 0; i < vb->n; i++) {
		free(vb->v[i].sentence);
		free(vb->v[i].critique);
		free(vb->v[i].key);
	}
	free(vb->v);
}

/* Whether a prompt already has what an item brings. */
int
sim_item_present(const struct sim_vocab *vb, const struct sim_item *it,
    const char *prompt)
{
	char	*l, *s;
	int	 r;

	switch (it->type) {
	case ITEM_CUE:
		return (sim_cues_found(prompt) & (1u << it->arg)) != 0;
	case ITEM_LABELS:
		l = sim_lower_dup(prompt);
		r = sim_labels_all(l, vb->task);
		free(l);
		return r;
	case ITEM_FORMAT:
		return sim_prompt_bare(prompt);
	case ITEM_TRAIT:
		return (sim_prompt_traits(prompt) & (1u << it->arg)) != 0;
	default:
		l = sim_lower_dup(prompt);
		s = sim_lower_dup(it->sentence);
		r = strstr(l, s) != NULL;
		free(l);
		free(s);
		return r;
	}
}
