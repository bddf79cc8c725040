/*
 * Prompt skill: how likely a prompt makes the target answer well.  The
 * cue table gives each phrase a prompt may carry an effect by task kind;
 * naming a task's labels, a few words' small effects and the prompt's
 * length add to that.  Also what a prompt asks for: a bare answer, and
 * which rewrite traits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

/* The base logit of a prompt's skill. */
#define SIM_B0			0.3

const struct sim_cue sim_cues[] = {
	{ "do not think|don't think|don\xe2\x80\x99t think|without thinking",
	  { -0.8, -0.8, -0.8, -0.8 },
	  "Don't think too hard about it.",
	  "The prompt tells the model not to think, which invites careless "
	  "answers.", "think|think|think|after thinking" },
	{ "you are an expert|you are an experienced",
	  { 0.3, 0.3, 0.3, 0.3 },
	  "You are an expert in this task.",
	  "The prompt does not tell the model that it is an expert.",
	  NULL },
	{ "read the whole|read the entire",
	  { 0.3, 0.3, 0.3, 0.3 },
	  "Read the whole input before answering.",
	  "The prompt does not ask the model to read the whole input.",
	  NULL },
	{ "pay attention|pay close attention",
	  { 0.3, 0.3, 0.3, 0.3 },
	  "Pay attention to every detail.",
	  "The prompt does not ask the model to pay attention to details.",
	  NULL },
	/* Index 4: SIM_CUE_STEPS. */
	{ "step by step",
	  { 0.3, 1.2, 0.3, 0.1 },
	  "Think step by step.",
	  "The prompt does not ask the model to work step by step.",
	  NULL },
	{ "double-check|double check|verify",
	  { 0.2, 0.5, 0.2, 0.2 },
	  "Double-check your answer before replying.",
	  "The prompt does not ask the model to verify its answer.",
	  NULL },
	{ "carefully",
	  { 0.4, 0.4, 0.4, 0.4 },
	  "Read the input carefully.",
	  "The prompt does not ask the model to work carefully.",
	  NULL },
	{ "think|thinking",
	  { 0.3, 0.3, 0.3, 0.3 },
	  "Think about the question before answering.",
	  "The prompt does not ask the model to think about the problem.",
	  NULL },
	{ "ignore|ignoring",
	  { -1.2, -1.2, -1.2, -1.2 },
	  "Ignore details that seem irrelevant.",
	  "The prompt tells the model to ignore parts of the input.",
	  "consider|considering" },
	{ "guess|guessing",
	  { -1.0, -1.0, -1.0, -1.0 },
	  "Guess if you are unsure.",
	  "The prompt tells the model to guess instead of reasoning.",
	  "determine|reasoning" },
	{ "random|randomly",
	  { -1.0, -1.0, -1.0, -1.0 },
	  "Pick a random answer when in doubt.",
	  "The prompt invites random answers.", "likely|sensibly" },
	{ "quickly|hurry",
	  { -0.6, -0.6, -0.6, -0.6 },
	  "Answer quickly.",
	  "The prompt asks for speed instead of accuracy.",
	  "accurately|take care" },
};

const size_t sim_ncues = nitems(sim_cues);

#define SIM_LABEL_EFFECT	0.8

/* Phrases that ask for a bare answer anywhere in the prompt. */
static const char *const sim_bare_phrases[] = {
	"nothing else", "no explanation", "just the", "without explanation",
	"without any explanation", "no other text", NULL
};

/* With "only" in the same sentence, these ask for a bare answer. */
static const char *const sim_bare_words[] = {
	"answer", "label", "number", "word", "category", "value", "letter",
	"digit", "result", "text", "message", "rewritten", "output", "class",
	"option", NULL
};

/* Words that ask for each rewrite trait. */
const char *const sim_trait_words[4][9] = {
	{ "concise", "brief", "briefly", "shorter", "shorten", "succinct",
	  "filler", NULL },
	{ "polite", "politely", "courteous", "respectful", NULL },
	{ "formal", "formally", "professional", "contractions", NULL },
	{ "spelling", "typo", "typos", "misspelling", "misspellings",
	  "misspelled", "grammar", "proofread", NULL },
};

/* Which cues a prompt carries, as a bit mask over sim_cues. */
uint32_t
sim_cues_found(const char *prompt)
{
	char		*l = sim_lower_dup(prompt), ph[64];
	const char	*p, *bar, *q;
	uint32_t	 mask = 0;
	size_t		 i, n;

	for (i = 0; i < nitems(sim_cues); i++) {
		for (p = sim_cues[i].phrases; *p != '\0'; p = bar) {
			bar = strchr(p, '|');
			if (bar == NULL)
				bar = p + strlen(p);
			n = (size_t)(bar - p);
			if (n >= sizeof ph)
				n = sizeof ph - 1;
			memcpy(ph, p, n);
			ph[n] = '\0';
			while ((q = sim_find_word(l, ph)) != NULL) {
				mask |= 1u << i;
				memset(l + (q - l), ' ', n);
			}
			if (*bar == '|')
				bar++;
		}
	}
	free(l);
	return mask;
}

/* Whether a (lower-case) prompt names every label of a task. */
int
sim_labels_all(const char *lprompt, const struct sim_task *t)
{
	char	*l;
	size_t	 i;
	int	 all = 1;

	if (t == NULL || t->kind != SIM_LABEL || t->nlabels == 0)
		return 0;
	for (i = 0; i < t->nlabels && all; i++) {
		l = sim_lower_dup(t->labels[i]);
		all = sim_has_word(lprompt, l);
		free(l);
	}
	return all;
}

struct sim_span {
	const char	*s;
	size_t		 n;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct sim_span	*x = a, *y = b;
	int			 c;

	c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
	if (c != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* The logit of a prompt's skill on a task of kind. */
double
sim_prompt_logit(const struct sim_world *w, const struct sim_task *t,
    enum sim_kind kind, const char *prompt)
{
	struct sim_span	*words = NULL;
	char		*l;
	uint32_t	 mask;
	size_t		 i, n = 0, cap = 0, pos = 0, st, len;
	double		 x = SIM_B0, we = 0;

	mask = sim_cues_found(prompt);
	for (i = 0; i < nitems(sim_cues); i++)
		if (mask & (1u << i))
			x += sim_cues[i].effect[kind];
	l = sim_lower_dup(prompt);
	if (kind == SIM_LABEL && sim_labels_all(l, t))
		x += SIM_LABEL_EFFECT;
	while (textfeat_word_next(l, &pos, &st, &len)) {
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			words = xreallocarray(words, cap, sizeof *words);
		}
		words[n].s = l + st;
		words[n].n = len;
		n++;
	}
	if (n > 0)
		qsort(words, n, sizeof *words, span_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && span_cmp(&words[i - 1], &words[i]) == 0)
			continue;
		we += 0.05 * sim_normal(hash64(words[i].s, words[i].n,
		    hash_mix(w->p.seed, SEED_WORD)));
	}
	x += fmax(-0.3, fmin(0.3, we));
	if (n == 0)
		x -= 0.5;
	if (n > SIM_LONG_WORDS)
		x -= 0.01 * (double)(n - SIM_LONG_WORDS);
	free(words);
	free(l);
	return x;
}

double
sim_world_skill(const struct sim_world *w, size_t task, const char *prompt)
{
	const struct sim_task	*t;

	t = task < w->ntasks ? &w->tasks[task] : NULL;
	return sim_sigmoid(sim_prompt_logit(w, t, t != NULL ? t->kind :
	    SIM_TEXT, prompt));
}

int
sim_prompt_bare(const char *prompt)
{
	struct sim_list	 ss = { 0 };
	char		*l = sim_lower_dup(prompt);
	size_t		 i, j;
	int		 bare = 0;

	for (i = 0; sim_bare_phrases[i] != NULL && !bare; i++)
		bare = sim_has_word(l, sim_bare_phrases[i]);
	sim_sentences_split(l, &ss);
	for (i = 0; i < ss.n && !bare; i++) {
		if (!sim_has_word(ss.v[i], "only"))
			continue;
		for (j = 0; sim_bare_words[j] != NULL && !bare; j++) {
			char	*pl = xasprintf("%ss", sim_bare_words[j]);

			bare = sim_has_word(ss.v[i], sim_bare_words[j]) ||
			    sim_has_word(ss.v[i], pl);
			free(pl);
		}
	}
	sim_list_free(&ss);
	free(l);
	return bare;
}

unsigned
sim_prompt_traits(const char *prompt)
{
	char		*l = sim_lower_dup(prompt);
	unsigned	 mask = 0;
	size_t		 t, i;

	for (t = 0; t < 4; t++)
		for (i = 0; sim_trait_words[t][i] != NULL; i++)
			if (sim_has_word(l, sim_trait_words[t][i]))
				mask |= 1u << t;
	free(l);
	return mask;
}
