/*
 * Random sampling, the "Library of Babel" baseline (Lu et al., "Strings
 * from the Library of Babel: Random Sampling as a Strong Baseline for
 * Prompt Optimisation"): no optimizer model, only target calls.  Each
 * step draws per_step prompts of length words at random from a
 * vocabulary and scores them as any candidate is scored, racing them
 * against the best so far.  The vocabulary is the task's own: the words
 * of the training examples' string fields and of the prompts the search
 * started from (the paper samples the target's vocabulary, which promptd
 * cannot see).  Mode "tokens" makes a whole prompt of the words; mode
 * "separators" appends them to the first prompt, as the paper's random
 * separator between instruction and input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

static const char *const random_modes[] = { "tokens", "separators", NULL };

static const struct strategy_param random_params[] = {
	{ "mode", PARAM_STRING, "\"tokens\"", 0, 0, random_modes,
	  "tokens: prompts of random words; separators: the first prompt "
	  "with random words appended" },
	{ "per_step", PARAM_INT, "8", 1, 1000, NULL,
	  "prompts drawn in each step" },
	{ "steps", PARAM_INT, "5", 1, 10000, NULL,
	  "steps of drawing" },
	{ "length", PARAM_INT, "8", 1, 256, NULL,
	  "words in a drawn prompt or separator" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

struct random_state {
	int		  separators;	/* the mode */
	struct cand	**base;		/* the candidates the search started
					   from: the seeds, or a refresh's
					   champion and pool */
	size_t		  nbase;
	char		**vocab;	/* sorted, distinct, lower-case */
	size_t		  nvocab;
};

/* Appends the words of text, in lower case, to *words. */
static void
random_words_of(const char *text, char ***words, size_t *n, size_t *cap)
{
	size_t	pos = 0, start, len, i;
	char	*w;

	while (textfeat_word_next(text, &pos, &start, &len)) {
		w = xmalloc(len + 1);
		for (i = 0; i < len; i++)
			w[i] = (char)tolower((unsigned char)text[start + i]);
		w[len] = '\0';
		if (*n == *cap) {
			*cap = *cap == 0 ? 256 : *cap * 2;
			*words = xreallocarray(*words, *cap, sizeof **words);
		}
		(*words)[(*n)++] = w;
	}
}

static int
random_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The vocabulary: the words of the training examples' string fields and
 * of the base prompts, sorted and made distinct, so that it depends on
 * nothing but the run's snapshot and its first candidates (a resumed run
 * makes the same one).
 */
static void
random_vocab(struct search *s, struct random_state *st)
{
	const struct dataset	*d = s->task->dataset;
	const cJSON		*f;
	char			**words = NULL;
	size_t			  n = 0, cap = 0, i, j;

	for (i = 0; d != NULL && i < s->ntrain; i++)
		cJSON_ArrayForEach(f, d->ex[s->train[i]].fields)
			if (cJSON_IsString(f))
				random_words_of(f->valuestring, &words, &n,
				    &cap);
	for (i = 0; i < st->nbase; i++)
		random_words_of(st->base[i]->text, &words, &n, &cap);
	if (n > 0)
		qsort(words, n, sizeof *words, random_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(words[j - 1], words[i]) == 0) {
			free(words[i]);
			continue;
		}
		words[j++] = words[i];
	}
	st->vocab = words;
	st->nvocab = j;
}

/* Sets up the state from the base candidates st->base holds. */
static int
random_setup(struct search *s, struct random_state *st, char **cause)
{
	random_vocab(s, st);
	if (st->nvocab == 0)
		return cause_set(cause, "random: no words to sample: the "
		    "training examples and the prompts have none");
	if (st->separators && st->nbase == 0)
		return cause_set(cause, "random: mode 'separators' needs a "
		    "prompt to append to");
	return 0;
}

static struct random_state *
random_new(struct search *s)
{
	struct random_state	*st;

	st = xcalloc(1, sizeof *st);
	st->separators = strcmp(search_string(s, "mode"), "separators") == 0;
	s->state = st;
	return st;
}

static int
random_init(struct search *s, char **cause)
{
	struct random_state	*st = random_new(s);
	size_t			 i;

	st->base = xcalloc(s->ncands + 1, sizeof *st->base);
	for (i = 0; i < s->ncands; i++)
		st->base[st->nbase++] = s->cands[i];
	return random_setup(s, st, cause);
}

/* One drawn prompt: n words from the step's stream, after prefix. */
static char *
random_draw(struct search *s, const char *prefix, size_t n)
{
	struct random_state	*st = s->state;
	struct strbuf		 sb;
	size_t			 i;

	strbuf_init(&sb);
	if (prefix != NULL)
		strbuf_adds(&sb, prefix);
	for (i = 0; i < n; i++) {
		if (sb.len > 0)
			strbuf_addc(&sb, ' ');
		strbuf_adds(&sb, st->vocab[rng_below(&s->rng,
		    (uint32_t)st->nvocab)]);
	}
	return strbuf_detach(&sb);
}

/* Adds c to pool unless it is there. */
static void
random_pool_add(struct cand ***pool, size_t *n, struct cand *c)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if ((*pool)[i] == c)
			return;
	(*pool)[(*n)++] = c;
}

static int
random_step(struct search *s, char **cause)
{
	struct random_state	*st = s->state;
	struct cand		**pool, *c, *best;
	char			**texts, note[64];
	size_t			  want, len, npool = 0, i;
	int			  rc = -1;

	if (s->step >= search_int(s, "steps"))
		return 0;
	want = (size_t)search_int(s, "per_step");
	len = (size_t)search_int(s, "length");
	/* Every draw of the step first, from its stream, then the adds. */
	texts = xcalloc(want, sizeof *texts);
	for (i = 0; i < want; i++)
		texts[i] = random_draw(s, st->separators ? st->base[0]->text :
		    NULL, len);
	/* The best so far races the draws, so weak ones stop early. */
	pool = xcalloc(want + 1, sizeof *pool);
	if ((best = search_best(s)) != NULL)
		pool[npool++] = best;
	if (st->separators)
		snprintf(note, sizeof note, "a separator of %zu words", len);
	else
		snprintf(note, sizeof note, "%zu words of %zu", len,
		    st->nvocab);
	for (i = 0; i < want; i++) {
		/* A tokens prompt comes of every base prompt's words. */
		if ((c = search_add(s, texts[i], "random", st->base,
		    st->separators ? 1 : st->nbase, st->separators ?
		    "separator" : "sample", note, cause)) == NULL)
			goto out;
		random_pool_add(&pool, &npool, c);
	}
	if (search_evaluate(s, pool, npool, cause) != 0)
		goto out;
	rc = s->step + 1 < search_int(s, "steps") ? 1 : 0;
out:
	for (i = 0; i < want; i++)
		free(texts[i]);
	free(texts);
	free(pool);
	return rc;
}

static cJSON *
random_save(struct search *s)
{
	struct random_state	*st = s->state;
	cJSON			*o, *arr;
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", st->separators ? "separators" :
	    "tokens");
	arr = cJSON_AddArrayToObject(o, "base");
	for (i = 0; i < st->nbase; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(
		    (double)st->base[i]->id));
	cJSON_AddNumberToObject(o, "vocabulary", (double)st->nvocab);
	return o;
}

static int
random_load(struct search *s, const cJSON *o, char **cause)
{
	struct random_state	*st = random_new(s);
	const cJSON		*v, *arr;
	const char		*mode;
	size_t			 i;
	int64_t			 id;

	v = cJSON_GetObjectItemCaseSensitive(o, "mode");
	mode = cJSON_IsString(v) ? v->valuestring : "";
	if (strcmp(mode, search_string(s, "mode")) != 0)
		return cause_set(cause, "checkpoint: the run was a '%s' "
		    "search, the job now asks for '%s'", mode,
		    search_string(s, "mode"));
	arr = cJSON_GetObjectItemCaseSensitive(o, "base");
	st->base = xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	    sizeof *st->base);
	cJSON_ArrayForEach(v, arr) {
		id = (int64_t)cJSON_GetNumberValue(v);
		for (i = 0; i < s->ncands && s->cands[i]->id != id; i++)
			;
		if (i == s->ncands)
			return cause_set(cause, "checkpoint: base candidate "
			    "%lld is not in the run", (long long)id);
		st->base[st->nbase++] = s->cands[i];
	}
	if (random_setup(s, st, cause) != 0)
		return -1;
	/* The same words, or the replayed steps would draw others. */
	v = cJSON_GetObjectItemCaseSensitive(o, "vocabulary");
	if (cJSON_GetNumberValue(v) != (double)st->nvocab)
		return cause_set(cause, "checkpoint: the vocabulary had %g "
		    "words, it has %zu now", cJSON_GetNumberValue(v),
		    st->nvocab);
	return 0;
}

static void
random_free(struct search *s)
{
	struct random_state	*st = s->state;
	size_t			 i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nvocab; i++)
		free(st->vocab[i]);
	free(st->vocab);
	free(st->base);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_random_ops = {
	.name = "random",
	.params = random_params,
	.init = random_init,
	.step = random_step,
	.save = random_save,
	.load = random_load,
	.free = random_free,
};
