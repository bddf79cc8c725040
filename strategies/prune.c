/*
 * Pruning, after PromptQuine (Wang et al., "Evolving Prompts In-Context:
 * An Open-ended, Self-replicating Perspective"): no optimizer model, only
 * target calls.  The search starts from an in-context prompt, the first
 * seed with demos training examples rendered after it, and evolves
 * pruned versions of it: each generation makes population children, each
 * a parent chosen by tournament with a random span of 1 to span units
 * deleted, scores them as any candidate is scored (racing them against
 * the population), and keeps the best population of parents and
 * children together (elitist), however the survivors read.
 *
 * A unit is a word (a run of non-space bytes, its punctuation attached)
 * or, with unit "token", a token of a simple tokenizer: a run of letters,
 * digits and bytes of multibyte characters, or one other non-space byte
 * (so "review." is "review" and ".").  Deleting a span keeps the text
 * around it as it was, the space before the span included.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

static const char *const prune_units[] = { "word", "token", NULL };

static const struct strategy_param prune_params[] = {
	{ "population", PARAM_INT, "8", 2, 1000, NULL,
	  "prompts kept from one generation to the next" },
	{ "generations", PARAM_INT, "6", 1, 10000, NULL,
	  "generations of pruning" },
	{ "span", PARAM_INT, "3", 1, 100, NULL,
	  "units a child loses at most, in one contiguous span" },
	{ "unit", PARAM_STRING, "\"word\"", 0, 0, prune_units,
	  "word: runs of non-space characters; token: words and punctuation "
	  "apart" },
	{ "demos", PARAM_INT, "0", 0, 50, NULL,
	  "training examples rendered after the first seed as Input/Output "
	  "pairs" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

/* Tries to draw a child that is new to the generation. */
#define PRUNE_DRAWS	8

struct prune_state {
	int		  tokens;	/* the unit */
	struct cand	 *start;	/* the in-context prompt */
	struct cand	**pop;		/* best first */
	size_t		  npop;
};

/* A unit of a text: its bytes [start, end). */
struct prune_unit {
	size_t	start;
	size_t	end;
};

static int
prune_wordch(unsigned char ch)
{
	return isalnum(ch) || ch == '_' || ch >= 0x80;
}

/* The units of text (allocated, *n of them). */
static struct prune_unit *
prune_split(const char *text, int tokens, size_t *n)
{
	struct prune_unit	*u = NULL;
	size_t			 cap = 0, i = 0, st;

	*n = 0;
	while (text[i] != '\0') {
		if (isspace((unsigned char)text[i])) {
			i++;
			continue;
		}
		st = i;
		if (!tokens)
			while (text[i] != '\0' &&
			    !isspace((unsigned char)text[i]))
				i++;
		else if (prune_wordch((unsigned char)text[i]))
			while (prune_wordch((unsigned char)text[i]))
				i++;
		else
			i++;
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			u = xreallocarray(u, cap, sizeof *u);
		}
		u[*n].start = st;
		u[*n].end = i;
		(*n)++;
	}
	return u;
}

/*
 * text without units [i, j) of u (n units): what precedes unit i stays,
 * space included, and what follows goes on from unit j (or ends at unit
 * i - 1 when the span runs to the end).  *what is the deleted text.
 */
static char *
prune_delete(const char *text, const struct prune_unit *u, size_t n,
    size_t i, size_t j, char **what)
{
	struct strbuf	sb;
	char		*out;

	*what = xasprintf("%.*s", (int)(u[j - 1].end - u[i].start),
	    text + u[i].start);
	strbuf_init(&sb);
	if (i == 0)
		strbuf_adds(&sb, text + u[j].start);
	else if (j == n)
		strbuf_add(&sb, text, u[i - 1].end);
	else {
		strbuf_add(&sb, text, u[i].start);
		strbuf_adds(&sb, text + u[j].start);
	}
	out = trim_dup(sb.buf != NULL ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return out;
}

/* Better first: scored in full before cut short, then by mean, then id. */
static int
prune_cmp_full(const struct search *s, const struct cand *x,
    const struct cand *y)
{
	int	fx = !x->raced_out && search_complete(s, x);
	int	fy = !y->raced_out && search_complete(s, y);

	if (fx != fy)
		return fx ? -1 : 1;
	if (x->mean > y->mean)
		return -1;
	if (x->mean < y->mean)
		return 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The population sorted best first (insertion sort: it is small). */
static void
prune_sort(const struct search *s, struct cand **v, size_t n)
{
	struct cand	*c;
	size_t		 i, j;

	for (i = 1; i < n; i++) {
		c = v[i];
		for (j = i; j > 0 && prune_cmp_full(s, c, v[j - 1]) < 0; j--)
			v[j] = v[j - 1];
		v[j] = c;
	}
}

/* A parent by a tournament of two members (the better wins). */
static struct cand *
prune_tournament(struct search *s, struct prune_state *st)
{
	struct cand	*a, *b;

	a = st->pop[rng_below(&s->rng, (uint32_t)st->npop)];
	b = st->pop[rng_below(&s->rng, (uint32_t)st->npop)];
	return prune_cmp_full(s, a, b) <= 0 ? a : b;
}

/* Whether text is a member's, or one drawn before in the generation. */
static int
prune_seen(const struct prune_state *st, char *const *drawn, size_t n,
    const char *text)
{
	size_t	i;

	for (i = 0; i < st->npop; i++)
		if (strcmp(st->pop[i]->text, text) == 0)
			return 1;
	for (i = 0; i < n; i++)
		if (drawn[i] != NULL && strcmp(drawn[i], text) == 0)
			return 1;
	return 0;
}

/*
 * One child: a parent by tournament, a span of its units deleted.  The
 * draw is repeated (from the same stream) while it gives a text the
 * population or the generation's earlier draws have.  Returns the text, with
 * its parent and the deleted text, or NULL when no member has two units.
 */
static char *
prune_child(struct search *s, struct prune_state *st, char *const *drawn,
    size_t ndrawn, struct cand **parent, char **what)
{
	struct prune_unit	*u;
	size_t			 n, len, i, maxspan, tries;
	char			*text = NULL;

	maxspan = (size_t)search_int(s, "span");
	for (tries = 0; tries < PRUNE_DRAWS; tries++) {
		*parent = prune_tournament(s, st);
		u = prune_split((*parent)->text, st->tokens, &n);
		if (n < 2) {
			free(u);
			continue;
		}
		/* At least one unit is left. */
		len = 1 + rng_below(&s->rng, (uint32_t)(maxspan < n - 1 ?
		    maxspan : n - 1));
		i = rng_below(&s->rng, (uint32_t)(n - len + 1));
		free(text);
		free(*what);
		text = prune_delete((*parent)->text, u, n, i, i + len, what);
		free(u);
		if (!prune_seen(st, drawn, ndrawn, text))
			break;
	}
	return text;
}

/*
 * The in-context prompt: the first seed, then demos training examples
 * (the first of the split, which is seeded) as Input/Output pairs.
 */
static struct cand *
prune_start(struct search *s, char **cause)
{
	struct strbuf	 sb;
	struct cand	*c, *seed = s->cands[0];
	size_t		 n, i;
	char		*in, *out, *t, note[64];

	n = (size_t)search_int(s, "demos");
	if (n > s->ntrain)
		n = s->ntrain;
	if (n == 0)
		return seed;
	strbuf_init(&sb);
	strbuf_adds(&sb, seed->text);
	for (i = 0; i < n; i++) {
		in = search_input(s, s->train[i]);
		out = search_expected(s, s->train[i]);
		t = trim_dup(in, strlen(in));
		strbuf_addf(&sb, "\n\nInput: %s\nOutput: %s", t, out);
		free(t);
		free(in);
		free(out);
	}
	snprintf(note, sizeof note, "%zu demos rendered", n);
	c = search_add(s, sb.buf, "prune", &seed, 1, "demos", note, cause);
	strbuf_release(&sb);
	return c;
}

static struct prune_state *
prune_new(struct search *s)
{
	struct prune_state	*st;

	st = xcalloc(1, sizeof *st);
	st->tokens = strcmp(search_string(s, "unit"), "token") == 0;
	st->pop = xcalloc((size_t)search_int(s, "population") * 2 + 1,
	    sizeof *st->pop);
	s->state = st;
	return st;
}

static int
prune_init(struct search *s, char **cause)
{
	prune_new(s);
	if (s->ncands == 0)
		return cause_set(cause, "prune: no seed prompt to start from");
	return 0;
}

/*
 * A generation's children, drawn all first (from the step's stream),
 * then added; the new ones are appended to gen.
 */
static int
prune_children(struct search *s, struct prune_state *st, struct cand **gen,
    size_t *ngen, char **cause)
{
	struct cand	*parent, *c;
	size_t		 want, i;
	char		*what = NULL, *note;
	char		**texts, **whats;
	struct cand	**parents;
	int		 rc = 0;

	want = (size_t)search_int(s, "population");
	texts = xcalloc(want, sizeof *texts);
	whats = xcalloc(want, sizeof *whats);
	parents = xcalloc(want, sizeof *parents);
	for (i = 0; i < want; i++) {
		texts[i] = prune_child(s, st, texts, i, &parent, &what);
		whats[i] = what;
		parents[i] = parent;
		what = NULL;
	}
	for (i = 0; i < want && rc == 0; i++) {
		if (texts[i] == NULL)
			continue;
		note = xasprintf("deleted '%s'", whats[i]);
		c = search_add(s, texts[i], "prune", &parents[i], 1, "prune",
		    note, cause);
		free(note);
		if (c == NULL)
			rc = -1;
		else if (!search_has(st->pop, st->npop, c) &&
		    !search_has(gen, *ngen, c))
			gen[(*ngen)++] = c;
	}
	for (i = 0; i < want; i++) {
		free(texts[i]);
		free(whats[i]);
	}
	free(texts);
	free(whats);
	free(parents);
	return rc;
}

static int
prune_step(struct search *s, char **cause)
{
	struct prune_state	*st = s->state;
	struct cand		**pool, *best;
	size_t			  npool, ngen = 0, want, i;
	int			  rc = -1;

	if (s->step >= search_int(s, "generations"))
		return 0;
	want = (size_t)search_int(s, "population");
	if (st->npop == 0) {
		if ((st->start = prune_start(s, cause)) == NULL)
			return -1;
		st->pop[st->npop++] = st->start;
	}
	/* The population and the best so far race the children. */
	pool = xcalloc(st->npop + want + 2, sizeof *pool);
	if (prune_children(s, st, pool, &ngen, cause) != 0)
		goto out;
	if (ngen == 0) {
		rc = 0;		/* nothing is left to prune */
		goto out;
	}
	npool = ngen;
	for (i = 0; i < st->npop; i++)
		pool[npool++] = st->pop[i];
	if ((best = search_best(s)) != NULL && !search_has(pool, npool,
	    best))
		pool[npool++] = best;
	if (search_evaluate(s, pool, npool, cause) != 0)
		goto out;
	/* Elitist: the best of members and children go on. */
	for (i = 0; i < ngen; i++)
		st->pop[st->npop++] = pool[i];
	prune_sort(s, st->pop, st->npop);
	if (st->npop > want)
		st->npop = want;
	rc = s->step + 1 < search_int(s, "generations") ? 1 : 0;
out:
	free(pool);
	return rc;
}

static cJSON *
prune_save(struct search *s)
{
	struct prune_state	*st = s->state;
	cJSON			*o, *arr;
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "unit", st->tokens ? "token" : "word");
	if (st->start != NULL)
		cJSON_AddNumberToObject(o, "start", (double)st->start->id);
	arr = cJSON_AddArrayToObject(o, "population");
	for (i = 0; i < st->npop; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(
		    (double)st->pop[i]->id));
	return o;
}

static struct cand *
prune_find(const struct search *s, const cJSON *v, char **cause)
{
	int64_t		 id = (int64_t)cJSON_GetNumberValue(v);
	struct cand	*c;

	if ((c = search_cand_by_id(s, id)) == NULL)
		cause_set(cause, "checkpoint: candidate %lld is not in the "
		    "run", (long long)id);
	return c;
}

static int
prune_load(struct search *s, const cJSON *o, char **cause)
{
	struct prune_state	*st = prune_new(s);
	const cJSON		*v, *arr;
	size_t			 max;

	v = cJSON_GetObjectItemCaseSensitive(o, "unit");
	if (!cJSON_IsString(v) || strcmp(v->valuestring,
	    search_string(s, "unit")) != 0)
		return cause_set(cause, "checkpoint: the run pruned by '%s', "
		    "the job now asks for '%s'", cJSON_IsString(v) ?
		    v->valuestring : "", search_string(s, "unit"));
	v = cJSON_GetObjectItemCaseSensitive(o, "start");
	if (v != NULL && (st->start = prune_find(s, v, cause)) == NULL)
		return -1;
	arr = cJSON_GetObjectItemCaseSensitive(o, "population");
	max = (size_t)search_int(s, "population");
	if ((size_t)cJSON_GetArraySize(arr) > max)
		return cause_set(cause, "checkpoint: a population of %d, the "
		    "job now asks for %zu", cJSON_GetArraySize(arr), max);
	cJSON_ArrayForEach(v, arr) {
		if ((st->pop[st->npop] = prune_find(s, v, cause)) == NULL)
			return -1;
		st->npop++;
	}
	return 0;
}

static void
prune_free(struct search *s)
{
	struct prune_state	*st = s->state;

	if (st == NULL)
		return;
	free(st->pop);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_prune_ops = {
	.name = "prune",
	.params = prune_params,
	.init = prune_init,
	.step = prune_step,
	.save = prune_save,
	.load = prune_load,
	.free = prune_free,
};
