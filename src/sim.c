/*
 * The simulated world: a deterministic stand-in for a language model.
 *
 * Everything here is a pure function of the world (its seed and the
 * examples it observed) and of the request's text.  Random draws are
 * hashes, never a global generator, so the same request gets the same
 * reply in any order and after a restart.  man/promptd-sim.7 documents
 * the model; keep the two in step.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "dataset.h"
#include "textfeat.h"
#include "jsonc.h"
#include "sim.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* The base logit of a prompt's skill. */
#define SIM_B0			0.3
/* Bytes of a value hashed for the index. */
#define SIM_KEYLEN		16
#define SIM_MAX_LABELS		20
#define SIM_MAX_OUTPUTS		32
#define SIM_LABEL_BYTES		40
#define SIM_LABEL_WORDS		4
/* Prompt words before length costs. */
#define SIM_LONG_WORDS		60
#define SIM_PROSE_RATE		0.8
#define SIM_INFORMED_RATE	0.6
#define SIM_TIE			0.02
#define SIM_UNSURE		"I'm not sure what you are asking."

/* Seeds that keep the hash streams apart. */
#define SEED_INDEX	0x696e646578ULL
#define SEED_WORD	0x776f7264ULL
#define SEED_DIFF	0x64696666ULL
#define SEED_SAMPLE	0x73616d706c65ULL

struct sim_task {
	enum sim_kind	  kind;
	char		**labels;
	size_t		  nlabels;
};

struct sim_example {
	size_t		  task;
	enum sim_kind	  kind;
	char		**vals;
	size_t		 *lens;
	size_t		  nvals;
	size_t		  longest;	/* index of the longest value */
	size_t		  total;	/* sum of the values' lengths */
	char		 *target;	/* NULL when there is none */
	double		  num;		/* the target as a number */
	uint64_t	  id;
	double		  difficulty;	/* in [0, 1) */
};

struct sim_key {
	uint64_t	 key;
	size_t		 ex;
};

struct sim_world {
	struct sim_params	 p;
	struct sim_task		*tasks;
	size_t			 ntasks;
	struct sim_example	*ex;
	size_t			 nex;
	size_t			 capex;
	struct sim_key		*index;		/* sorted by key */
	size_t			 nindex;
	size_t			 capindex;
	unsigned		 keylens;	/* bit L: a key of L bytes */
	uint64_t		*ids;		/* open-addressed, 0 empty */
	size_t			 nids;
	size_t			 capids;
};

/* A growable list of strings. */
struct sim_list {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/*
 * The cue table.  Phrases are matched case-insensitively at word
 * boundaries, longer entries first: a match is blanked out before the
 * next entries are tried, so "don't think" does not also count as
 * "think".  Effects are logits by task kind (label, number, text,
 * rewrite).
 */
struct sim_cue {
	const char	*phrases;	/* '|'-separated spellings */
	double		 effect[4];
	const char	*sentence;	/* a sentence carrying the cue */
	const char	*critique;	/* when lacking (helps) or there */
	const char	*fixes;		/* harmful: a repair per spelling */
};

static const struct sim_cue sim_cues[] = {
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
#define SIM_LABEL_EFFECT	0.8
/* The bit of "step by step" in a mask from cues_found(). */
#define SIM_CUE_STEPS		(1u << 4)

/* Sentences that change nothing but the small per-word effects. */
static const char *const sim_neutral[] = {
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

static const char *const sim_generic_critiques[] = {
	"The prompt could be more specific about the expected output.",
	"The prompt does not explain the task in enough detail.",
	"The prompt gives no examples of the expected answers.",
	"The prompt does not say how to handle unclear inputs.",
	"The prompt could state the goal of the task more directly.",
};

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
static const char *const sim_trait_words[4][9] = {
	{ "concise", "brief", "briefly", "shorter", "shorten", "succinct",
	  "filler", NULL },
	{ "polite", "politely", "courteous", "respectful", NULL },
	{ "formal", "formally", "professional", "contractions", NULL },
	{ "spelling", "typo", "typos", "misspelling", "misspellings",
	  "misspelled", "grammar", "proofread", NULL },
};
static const char *const sim_trait_names[4] = {
	"concise", "polite", "formal", "correctly spelled"
};
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

static const char *const sim_fillers[] = {
	"basically", "actually", "really", "very", "just", "kind of",
	"sort of", "totally", "literally", "honestly",
};

static const char *const sim_contractions[][2] = {
	{ "don't", "do not" }, { "can't", "cannot" }, { "won't", "will not" },
	{ "it's", "it is" }, { "i'm", "I am" }, { "you're", "you are" },
	{ "isn't", "is not" }, { "doesn't", "does not" },
	{ "didn't", "did not" }, { "we're", "we are" },
	{ "they're", "they are" }, { "that's", "that is" },
	{ "i'll", "I will" }, { "i've", "I have" },
	{ "wouldn't", "would not" }, { "couldn't", "could not" },
	{ "shouldn't", "should not" }, { "aren't", "are not" },
	{ "wasn't", "was not" }, { "let's", "let us" },
	{ "we'll", "we will" }, { "you'll", "you will" },
	{ "there's", "there is" }, { "haven't", "have not" },
	{ "gonna", "going to" }, { "wanna", "want to" },
};

static const char *const sim_misspellings[][2] = {
	{ "teh", "the" }, { "recieve", "receive" },
	{ "definately", "definitely" }, { "seperate", "separate" },
	{ "occured", "occurred" }, { "untill", "until" }, { "wich", "which" },
	{ "thier", "their" }, { "beleive", "believe" }, { "adress", "address" },
	{ "tommorow", "tomorrow" }, { "accomodate", "accommodate" },
	{ "goverment", "government" }, { "begining", "beginning" },
	{ "occassion", "occasion" }, { "neccessary", "necessary" },
	{ "wierd", "weird" }, { "alot", "a lot" }, { "truely", "truly" },
	{ "freind", "friend" }, { "calender", "calendar" },
	{ "embarass", "embarrass" },
};

/* Word pairs a paraphrase may swap (either way). */
static const char *const sim_synonyms[][2] = {
	{ "classify", "categorize" }, { "determine", "decide" },
	{ "identify", "find" }, { "given", "provided" },
	{ "text", "passage" }, { "sentence", "statement" },
	{ "question", "problem" }, { "calculate", "compute" },
	{ "choose", "select" }, { "write", "produce" },
	{ "give", "provide" }, { "correct", "right" },
	{ "reply", "respond" }, { "each", "every" },
	{ "output", "result" }, { "input", "content" },
	{ "use", "employ" }, { "task", "job" }, { "message", "note" },
	{ "detail", "particular" }, { "before", "prior to" },
};

/* Draws: uniform in [0, 1) and standard normal, from a hash. */
static double
u01(uint64_t h)
{
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static double
hnormal(uint64_t h)
{
	double	u1, u2;

	u1 = u01(hash_mix(h, 1));
	u2 = u01(hash_mix(h, 2));
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double
sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

static int
is_alnum(int c)
{
	return isalnum((unsigned char)c);
}

static char *
lower_dup(const char *s)
{
	char	*l = xstrdup(s), *p;

	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* Where lower-case needle occurs in lower-case hay at word boundaries. */
static const char *
find_word(const char *hay, const char *needle)
{
	const char	*q = hay;
	size_t		 n = strlen(needle);

	if (n == 0)
		return NULL;
	while ((q = strstr(q, needle)) != NULL) {
		if ((q == hay || !is_alnum(q[-1]) || !is_alnum(needle[0])) &&
		    (!is_alnum(q[n]) || !is_alnum(needle[n - 1])))
			return q;
		q++;
	}
	return NULL;
}

static int
has_word(const char *hay, const char *needle)
{
	return find_word(hay, needle) != NULL;
}

/* Whether s (any case) contains lower-case needle at word boundaries. */
static int
has_word_ci(const char *s, const char *needle)
{
	char	*l = lower_dup(s);
	int	 r;

	r = has_word(l, needle);
	free(l);
	return r;
}

static size_t
count_word(const char *hay, const char *needle)
{
	const char	*q = hay;
	size_t		 n = 0;

	while ((q = find_word(q, needle)) != NULL) {
		n++;
		q += strlen(needle);
	}
	return n;
}

static size_t
count_words(const char *s)
{
	size_t	pos = 0, st, len, n = 0;

	while (textfeat_word_next(s, &pos, &st, &len))
		n++;
	return n;
}

static void
list_add(struct sim_list *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(s);
}

static int
list_has(const struct sim_list *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void
list_remove(struct sim_list *l, size_t i)
{
	free(l->v[i]);
	memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof *l->v);
	l->n--;
}

static void
list_insert(struct sim_list *l, size_t at, const char *s)
{
	char	*v;

	if (at > l->n)
		at = l->n;
	list_add(l, s);
	v = l->v[l->n - 1];
	memmove(l->v + at + 1, l->v + at, (l->n - 1 - at) * sizeof *l->v);
	l->v[at] = v;
}

static void
list_free(struct sim_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/*
 * Splits text into sentences: after '.', '!' or '?' followed by a space,
 * and at line breaks.  Empty pieces are dropped.
 */
static void
sentences_split(const char *text, struct sim_list *out)
{
	const char	*p = text, *start = text;
	char		*s;

	for (;; p++) {
		if (*p == '\0' || *p == '\n' || ((*p == '.' || *p == '!' ||
		    *p == '?') && (p[1] == '\0' ||
		    isspace((unsigned char)p[1])))) {
			s = trim_dup(start, (size_t)(p - start) + (*p == '\n' ||
			    *p == '\0' ? 0 : 1));
			if (*s != '\0')
				list_add(out, s);
			free(s);
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
}

/* Joins sentences with spaces, ending each with punctuation. */
static char *
sentences_join(const struct sim_list *l)
{
	struct strbuf	sb;
	size_t		i, n;

	strbuf_init(&sb);
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			strbuf_addc(&sb, ' ');
		strbuf_adds(&sb, l->v[i]);
		n = strlen(l->v[i]);
		if (n > 0 && is_alnum(l->v[i][n - 1]))
			strbuf_addc(&sb, '.');
	}
	return strbuf_detach(&sb);
}

/*
 * Finds the next block <tag ...>body</tag> at or after *pos (the last
 * opening tag before the first closing one, so a mention of "<tag>" in
 * prose does not swallow the real block).  Sets the body and the text
 * between the tag's name and its '>' (attributes), and moves *pos past
 * the block.  Returns 0 when there is none.
 */
static int
tag_next(const char *text, const char *tag, const char **pos,
    const char **body, size_t *bodylen, const char **attr, size_t *attrlen)
{
	char		 open[64], close[64];
	const char	*p = *pos, *c, *o, *q, *gt;
	size_t		 tl = strlen(tag);

	snprintf(open, sizeof open, "<%s", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	while ((c = strstr(p, close)) != NULL) {
		o = NULL;
		for (q = p; (q = strstr(q, open)) != NULL && q < c; q++)
			if (q[1 + tl] == '>' ||
			    isspace((unsigned char)q[1 + tl]))
				o = q;
		if (o != NULL && (gt = memchr(o, '>', (size_t)(c - o))) !=
		    NULL) {
			if (attr != NULL) {
				*attr = o + 1 + tl;
				*attrlen = (size_t)(gt - *attr);
			}
			*body = gt + 1;
			*bodylen = (size_t)(c - *body);
			*pos = c + strlen(close);
			return 1;
		}
		p = c + strlen(close);
	}
	return 0;
}

/* The trimmed body of the last <tag> block, or NULL. */
static char *
tag_last(const char *text, const char *tag)
{
	const char	*pos = text, *body, *last = NULL;
	size_t		 len, lastlen = 0;

	while (tag_next(text, tag, &pos, &body, &len, NULL, NULL)) {
		last = body;
		lastlen = len;
	}
	return last != NULL ? trim_dup(last, lastlen) : NULL;
}

static int
tag_has(const char *text, const char *tag)
{
	const char	*pos = text, *body;
	size_t		 len;

	return tag_next(text, tag, &pos, &body, &len, NULL, NULL);
}

/* Copies text with the bodies of the named blocks cut out. */
static char *
tags_strip(const char *text, const char *const *tags)
{
	struct strbuf	 sb;
	char		*cur, *next;
	const char	*pos, *body, *from;
	size_t		 len, i;

	cur = xstrdup(text);
	for (i = 0; tags[i] != NULL; i++) {
		strbuf_init(&sb);
		pos = cur;
		for (;;) {
			from = pos;
			if (!tag_next(cur, tags[i], &pos, &body, &len, NULL,
			    NULL)) {
				strbuf_adds(&sb, from);
				break;
			}
			strbuf_add(&sb, from, (size_t)(body - from));
			strbuf_adds(&sb, " ");
			strbuf_add(&sb, body + len, (size_t)(pos - body - len));
		}
		next = strbuf_detach(&sb);
		free(cur);
		cur = next;
	}
	return cur;
}

/* Whether s (trimmed) is a number; commas between digits are allowed. */
static int
parse_number(const char *s, double *out)
{
	char	 buf[64], *end;
	size_t	 n = 0;

	while (isspace((unsigned char)*s))
		s++;
	for (; *s != '\0' && n + 1 < sizeof buf; s++)
		if (*s != ',')
			buf[n++] = *s;
	if (*s != '\0')
		return 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n == 0)
		return 0;
	*out = strtod(buf, &end);
	return *end == '\0' && isfinite(*out);
}

/* The last number in s (an optional minus, digits, commas, a fraction). */
static int
last_number(const char *s, double *out)
{
	const char	*p = s, *start;
	char		 buf[64];
	size_t		 n;
	int		 found = 0;

	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		start = p;
		if (start > s && start[-1] == '-')
			start--;
		n = 0;
		if (*start == '-')
			buf[n++] = '-';
		while (isdigit((unsigned char)*p) || (*p == ',' &&
		    isdigit((unsigned char)p[1])) || (*p == '.' &&
		    isdigit((unsigned char)p[1]))) {
			if (*p != ',' && n + 1 < sizeof buf)
				buf[n++] = *p;
			p++;
		}
		buf[n] = '\0';
		*out = strtod(buf, NULL);
		found = 1;
	}
	return found;
}

static char *
number_text(double v)
{
	if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
		return xasprintf("%.0f", round(v));
	return xasprintf("%.6g", v);
}

static int
numbers_equal(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

/* A template with one "%s" filled in (templates are not formats). */
static char *
fill(const char *tmpl, const char *arg)
{
	const char	*p = strstr(tmpl, "%s");

	if (p == NULL)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(p - tmpl), tmpl, arg, p + 2);
}

/* Parameters and the world's lifecycle. */

void
sim_params_default(struct sim_params *p)
{
	p->seed = 1;
	p->dim = 256;
	p->noise = 0.1;
	p->position_bias = 0.05;
	p->format_error_rate = 0;
}

struct sim_world *
sim_world_new(const struct sim_params *p)
{
	struct sim_world	*w;

	w = xcalloc(1, sizeof *w);
	w->p = *p;
	if (w->p.dim == 0)
		w->p.dim = 256;
	return w;
}

void
sim_world_free(struct sim_world *w)
{
	size_t	i, j;

	if (w == NULL)
		return;
	for (i = 0; i < w->ntasks; i++) {
		for (j = 0; j < w->tasks[i].nlabels; j++)
			free(w->tasks[i].labels[j]);
		free(w->tasks[i].labels);
	}
	free(w->tasks);
	for (i = 0; i < w->nex; i++) {
		for (j = 0; j < w->ex[i].nvals; j++)
			free(w->ex[i].vals[j]);
		free(w->ex[i].vals);
		free(w->ex[i].lens);
		free(w->ex[i].target);
	}
	free(w->ex);
	free(w->index);
	free(w->ids);
	free(w);
}

size_t
sim_world_ntasks(const struct sim_world *w)
{
	return w->ntasks;
}

enum sim_kind
sim_world_task_kind(const struct sim_world *w, size_t task)
{
	return task < w->ntasks ? w->tasks[task].kind : SIM_TEXT;
}

size_t
sim_world_dim(const struct sim_world *w)
{
	return w->p.dim;
}

/* Adds id to the set; returns 0 when it was there already. */
static int
ids_add(struct sim_world *w, uint64_t id)
{
	uint64_t	*old;
	size_t		 oldcap, i, j;

	id |= 1;
	if ((w->nids + 1) * 2 > w->capids) {
		old = w->ids;
		oldcap = w->capids;
		w->capids = oldcap == 0 ? 64 : oldcap * 2;
		w->ids = xcalloc(w->capids, sizeof *w->ids);
		for (i = 0; i < oldcap; i++) {
			if (old[i] == 0)
				continue;
			j = old[i] & (w->capids - 1);
			while (w->ids[j] != 0)
				j = (j + 1) & (w->capids - 1);
			w->ids[j] = old[i];
		}
		free(old);
	}
	j = id & (w->capids - 1);
	while (w->ids[j] != 0) {
		if (w->ids[j] == id)
			return 0;
		j = (j + 1) & (w->capids - 1);
	}
	w->ids[j] = id;
	w->nids++;
	return 1;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct sim_key	*x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ex < y->ex ? -1 : x->ex > y->ex;
}

/* The target text of an example, or NULL when it has none. */
static char *
example_target(const struct example *e, const char *target)
{
	const cJSON	*v;

	if (target == NULL || e->fields == NULL)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(e->fields, target);
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	return json_text(v);
}

/* Decides a task's kind from its targets (and collects its labels). */
static void
task_classify(struct sim_task *t, char **targets, size_t n)
{
	size_t	i, j, have = 0;
	double	v;
	int	numeric = 1, label = 1;

	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			continue;
		have++;
		if (numeric && !parse_number(targets[i], &v))
			numeric = 0;
		if (!label)
			continue;
		if (strlen(targets[i]) > SIM_LABEL_BYTES ||
		    count_words(targets[i]) > SIM_LABEL_WORDS ||
		    *targets[i] == '\0') {
			label = 0;
			continue;
		}
		for (j = 0; j < t->nlabels; j++)
			if (strcmp(t->labels[j], targets[i]) == 0)
				break;
		if (j < t->nlabels)
			continue;
		if (t->nlabels == SIM_MAX_LABELS) {
			label = 0;
			continue;
		}
		t->labels = xreallocarray(t->labels, t->nlabels + 1,
		    sizeof *t->labels);
		t->labels[t->nlabels++] = xstrdup(targets[i]);
	}
	if (have == 0)
		t->kind = SIM_REWRITE;
	else if (numeric)
		t->kind = SIM_NUMBER;
	else if (label)
		t->kind = SIM_LABEL;
	else
		t->kind = SIM_TEXT;
	if (t->kind != SIM_LABEL) {
		for (j = 0; j < t->nlabels; j++)
			free(t->labels[j]);
		free(t->labels);
		t->labels = NULL;
		t->nlabels = 0;
	}
}

void
sim_world_observe(struct sim_world *w, const struct dataset *ds,
    const char *const *inputs, size_t ninputs, const char *target)
{
	struct sim_task		*t;
	struct sim_example	*x;
	const struct example	*e;
	const cJSON		*v;
	char			**targets;
	size_t			  i, j, L;
	uint64_t		  id;

	targets = xcalloc(ds->n + 1, sizeof *targets);
	for (i = 0; i < ds->n; i++)
		targets[i] = example_target(&ds->ex[i], target);
	w->tasks = xreallocarray(w->tasks, w->ntasks + 1, sizeof *w->tasks);
	t = &w->tasks[w->ntasks];
	memset(t, 0, sizeof *t);
	task_classify(t, targets, ds->n);

	for (i = 0; i < ds->n; i++) {
		e = &ds->ex[i];
		if (w->nex == w->capex) {
			w->capex = w->capex == 0 ? 64 : w->capex * 2;
			w->ex = xreallocarray(w->ex, w->capex, sizeof *w->ex);
		}
		x = &w->ex[w->nex];
		memset(x, 0, sizeof *x);
		x->task = w->ntasks;
		x->nvals = ninputs;
		x->vals = xcalloc(ninputs + 1, sizeof *x->vals);
		x->lens = xcalloc(ninputs + 1, sizeof *x->lens);
		id = hash_mix(w->ntasks == 0 ? 0 : 1, ninputs);
		for (j = 0; j < ninputs; j++) {
			v = e->fields != NULL ?
			    cJSON_GetObjectItemCaseSensitive(e->fields,
			    inputs[j]) : NULL;
			x->vals[j] = v != NULL ? json_text(v) : xstrdup("");
			x->lens[j] = strlen(x->vals[j]);
			x->total += x->lens[j];
			if (x->lens[j] > x->lens[x->longest])
				x->longest = j;
			id = hash64(x->vals[j], x->lens[j] + 1, id);
		}
		x->target = targets[i];
		targets[i] = NULL;
		if (x->target != NULL)
			id = hash64(x->target, strlen(x->target) + 1, id);
		x->id = id;
		x->difficulty = u01(hash_mix(hash_mix(w->p.seed, SEED_DIFF),
		    id));
		x->kind = x->target == NULL ? SIM_REWRITE : t->kind;
		if (x->kind == SIM_NUMBER)
			parse_number(x->target, &x->num);
		if (!ids_add(w, id) || x->total == 0) {
			for (j = 0; j < x->nvals; j++)
				free(x->vals[j]);
			free(x->vals);
			free(x->lens);
			free(x->target);
			continue;
		}
		L = x->lens[x->longest];
		if (L > SIM_KEYLEN)
			L = SIM_KEYLEN;
		if (w->nindex == w->capindex) {
			w->capindex = w->capindex == 0 ? 64 : w->capindex * 2;
			w->index = xreallocarray(w->index, w->capindex,
			    sizeof *w->index);
		}
		w->index[w->nindex].key = hash64(x->vals[x->longest], L,
		    SEED_INDEX);
		w->index[w->nindex].ex = w->nex;
		w->nindex++;
		w->keylens |= 1u << L;
		w->nex++;
	}
	for (i = 0; i < ds->n; i++)
		free(targets[i]);
	free(targets);
	w->ntasks++;
	qsort(w->index, w->nindex, sizeof *w->index, key_cmp);
}

/* Whether every value of x occurs in text, its longest at offset at. */
static int
example_in(const struct sim_example *x, const char *text, size_t n,
    size_t at)
{
	size_t	j, L = x->lens[x->longest];

	if (at + L > n || memcmp(text + at, x->vals[x->longest], L) != 0)
		return 0;
	for (j = 0; j < x->nvals; j++)
		if (j != x->longest && x->lens[j] > 0 &&
		    strstr(text, x->vals[j]) == NULL)
			return 0;
	return 1;
}

/*
 * The observed example a text is about: every input value occurs in it;
 * the longest total matched length wins, then the earliest observed.
 */
static const struct sim_example *
world_match(const struct sim_world *w, const char *text)
{
	const struct sim_example	*best = NULL, *x;
	size_t				 n = strlen(text), L, i;
	size_t				 lo, hi, mid;
	uint64_t			 k;

	for (L = 1; L <= SIM_KEYLEN; L++) {
		if ((w->keylens & (1u << L)) == 0)
			continue;
		for (i = 0; i + L <= n; i++) {
			k = hash64(text + i, L, SEED_INDEX);
			lo = 0;
			hi = w->nindex;
			while (lo < hi) {
				mid = lo + (hi - lo) / 2;
				if (w->index[mid].key < k)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < w->nindex && w->index[lo].key == k; lo++) {
				x = &w->ex[w->index[lo].ex];
				if (best != NULL && (x->total < best->total ||
				    (x->total == best->total && x >= best)))
					continue;
				if (example_in(x, text, n, i))
					best = x;
			}
		}
	}
	return best;
}

/* Prompt skill. */

/* Which cues a prompt carries, as a bit mask over sim_cues. */
static uint32_t
cues_found(const char *prompt)
{
	char		*l = lower_dup(prompt), ph[64];
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
			while ((q = find_word(l, ph)) != NULL) {
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
static int
labels_all(const char *lprompt, const struct sim_task *t)
{
	char	*l;
	size_t	 i;
	int	 all = 1;

	if (t == NULL || t->kind != SIM_LABEL || t->nlabels == 0)
		return 0;
	for (i = 0; i < t->nlabels && all; i++) {
		l = lower_dup(t->labels[i]);
		all = has_word(lprompt, l);
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
static double
prompt_logit(const struct sim_world *w, const struct sim_task *t,
    enum sim_kind kind, const char *prompt)
{
	struct sim_span	*words = NULL;
	char		*l;
	uint32_t	 mask;
	size_t		 i, n = 0, cap = 0, pos = 0, st, len;
	double		 x = SIM_B0, we = 0;

	mask = cues_found(prompt);
	for (i = 0; i < nitems(sim_cues); i++)
		if (mask & (1u << i))
			x += sim_cues[i].effect[kind];
	l = lower_dup(prompt);
	if (kind == SIM_LABEL && labels_all(l, t))
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
		we += 0.05 * hnormal(hash64(words[i].s, words[i].n,
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
	return sigmoid(prompt_logit(w, t, t != NULL ? t->kind : SIM_TEXT,
	    prompt));
}

int
sim_prompt_bare(const char *prompt)
{
	struct sim_list	 ss = { 0 };
	char		*l = lower_dup(prompt);
	size_t		 i, j;
	int		 bare = 0;

	for (i = 0; sim_bare_phrases[i] != NULL && !bare; i++)
		bare = has_word(l, sim_bare_phrases[i]);
	sentences_split(l, &ss);
	for (i = 0; i < ss.n && !bare; i++) {
		if (!has_word(ss.v[i], "only"))
			continue;
		for (j = 0; sim_bare_words[j] != NULL && !bare; j++) {
			char	*pl = xasprintf("%ss", sim_bare_words[j]);

			bare = has_word(ss.v[i], sim_bare_words[j]) ||
			    has_word(ss.v[i], pl);
			free(pl);
		}
	}
	list_free(&ss);
	free(l);
	return bare;
}

unsigned
sim_prompt_traits(const char *prompt)
{
	char		*l = lower_dup(prompt);
	unsigned	 mask = 0;
	size_t		 t, i;

	for (t = 0; t < 4; t++)
		for (i = 0; sim_trait_words[t][i] != NULL; i++)
			if (has_word(l, sim_trait_words[t][i]))
				mask |= 1u << t;
	free(l);
	return mask;
}

/* Rewrites. */

/*
 * Replaces whole words found in table (lower-case keys), keeping an
 * upper-case first letter.
 */
static char *
replace_words(const char *text, const char *const (*table)[2], size_t n)
{
	struct strbuf	 sb;
	size_t		 pos = 0, last = 0, st, len, i;
	char		*w;

	strbuf_init(&sb);
	while (textfeat_word_next(text, &pos, &st, &len)) {
		w = xstrndup(text + st, len);
		for (i = 0; i < len; i++)
			w[i] = (char)tolower((unsigned char)w[i]);
		for (i = 0; i < n; i++)
			if (strcmp(w, table[i][0]) == 0)
				break;
		free(w);
		if (i == n)
			continue;
		strbuf_add(&sb, text + last, st - last);
		if (isupper((unsigned char)text[st])) {
			strbuf_addc(&sb, (char)toupper((unsigned char)
			    table[i][1][0]));
			strbuf_adds(&sb, table[i][1] + 1);
		} else
			strbuf_adds(&sb, table[i][1]);
		last = st + len;
	}
	strbuf_adds(&sb, text + last);
	return strbuf_detach(&sb);
}

/* Drops filler words, with a comma after them and the spaces around. */
static char *
drop_fillers(const char *text)
{
	struct strbuf	 sb;
	const char	*p = text;
	size_t		 i, n;
	int		 cap = 0;

	strbuf_init(&sb);
	while (*p != '\0') {
		if (is_alnum(*p) && (p == text || !is_alnum(p[-1]))) {
			for (i = 0; i < nitems(sim_fillers); i++) {
				n = strlen(sim_fillers[i]);
				if (strncasecmp(p, sim_fillers[i], n) == 0 &&
				    !is_alnum(p[n]) && p[n] != '\'')
					break;
			}
			if (i < nitems(sim_fillers)) {
				if (isupper((unsigned char)*p))
					cap = 1;
				p += n;
				if (*p == ',')
					p++;
				while (*p == ' ')
					p++;
				if (sb.len > 0 && sb.buf[sb.len - 1] == ' ' &&
				    strchr(",.!?;:", *p) != NULL && *p != '\0')
					sb.buf[--sb.len] = '\0';
				if (sb.len > 0 && sb.buf[sb.len - 1] != ' ' &&
				    is_alnum(*p))
					strbuf_addc(&sb, ' ');
				continue;
			}
		}
		if (cap && isalpha((unsigned char)*p)) {
			strbuf_addc(&sb, (char)toupper((unsigned char)*p));
			cap = 0;
		} else {
			if (is_alnum(*p))
				cap = 0;
			strbuf_addc(&sb, *p);
		}
		p++;
	}
	return strbuf_detach(&sb);
}

/* Adds "Please" and "Thank you." where they are missing. */
static char *
make_polite(const char *text)
{
	struct strbuf	 sb;
	size_t		 n, pos = 0, st, len;
	int		 keep;

	strbuf_init(&sb);
	while (isspace((unsigned char)*text))
		text++;
	if (!has_word_ci(text, "please")) {
		keep = textfeat_word_next(text, &pos, &st, &len) && st == 0 &&
		    text[0] == 'I' && (len == 1 || text[1] == '\'');
		strbuf_adds(&sb, "Please ");
		if (!keep && isupper((unsigned char)text[0]) &&
		    !isupper((unsigned char)text[1])) {
			strbuf_addc(&sb, (char)tolower((unsigned char)text[0]));
			text++;
		}
	}
	strbuf_adds(&sb, text);
	while (sb.len > 0 && isspace((unsigned char)sb.buf[sb.len - 1]))
		sb.buf[--sb.len] = '\0';
	if (strcasestr(sb.buf, "thank") == NULL) {
		n = sb.len;
		if (n > 0 && strchr(".!?", sb.buf[n - 1]) == NULL)
			strbuf_addc(&sb, '.');
		strbuf_adds(&sb, " Thank you.");
	}
	return strbuf_detach(&sb);
}

static size_t
count_table(const char *l, const char *const (*table)[2], size_t n)
{
	size_t	i, c = 0;

	for (i = 0; i < n; i++)
		c += count_word(l, table[i][0]);
	return c;
}

static size_t
count_fillers(const char *l)
{
	size_t	i, c = 0;

	for (i = 0; i < nitems(sim_fillers); i++)
		c += count_word(l, sim_fillers[i]);
	return c;
}

/* How far a count of flaws fell from the input's to the output's. */
static double
flaw_score(size_t in, size_t out)
{
	if (in == 0)
		return out == 0 ? 1 : 0.5;
	return 1 - fmin(1, (double)out / (double)in);
}

static int
is_table_key(const char *w, const char *const (*table)[2], size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(w, table[i][0]) == 0)
			return 1;
	return 0;
}

/* The share of the input's content words the output keeps. */
static double
preservation(const char *lin, const char *lout)
{
	size_t	 pos = 0, st, len, total = 0, kept = 0, i;
	char	*w;
	int	 skip;

	while (textfeat_word_next(lin, &pos, &st, &len)) {
		if (len < 3)
			continue;
		w = xstrndup(lin + st, len);
		skip = is_table_key(w, sim_contractions,
		    nitems(sim_contractions)) || is_table_key(w,
		    sim_misspellings, nitems(sim_misspellings));
		for (i = 0; i < nitems(sim_fillers) && !skip; i++)
			if (strcmp(w, sim_fillers[i]) == 0)
				skip = 1;
		if (!skip) {
			total++;
			if (has_word(lout, w))
				kept++;
		}
		free(w);
	}
	return total == 0 ? 1 : (double)kept / (double)total;
}

double
sim_rewrite_quality(const char *input, const char *output, unsigned mask)
{
	char	*li = lower_dup(input), *lo = lower_dup(output);
	double	 sum = 0, s, q;
	size_t	 wi, wo, n = 0;

	if ((mask & SIM_TRAIT_ALL) == 0)
		mask = SIM_TRAIT_ALL;
	if (mask & SIM_TRAIT_CONCISE) {
		s = flaw_score(count_fillers(li), count_fillers(lo));
		wi = count_words(li);
		wo = count_words(lo);
		if (wo > wi + 8)
			s -= fmin(0.5, 0.02 * (double)(wo - wi - 8));
		sum += fmax(0, s);
		n++;
	}
	if (mask & SIM_TRAIT_POLITE) {
		sum += 0.5 * has_word(lo, "please") +
		    0.5 * (strstr(lo, "thank") != NULL);
		n++;
	}
	if (mask & SIM_TRAIT_FORMAL) {
		sum += flaw_score(count_table(li, sim_contractions,
		    nitems(sim_contractions)), count_table(lo,
		    sim_contractions, nitems(sim_contractions)));
		n++;
	}
	if (mask & SIM_TRAIT_SPELLING) {
		sum += flaw_score(count_table(li, sim_misspellings,
		    nitems(sim_misspellings)), count_table(lo,
		    sim_misspellings, nitems(sim_misspellings)));
		n++;
	}
	q = sum / (double)n * (0.3 + 0.7 * preservation(li, lo));
	free(li);
	free(lo);
	return q;
}

/* Applies the traits in mask to text. */
static char *
rewrite_apply(const char *text, unsigned mask)
{
	char	*cur = xstrdup(text), *next;

	if (mask & SIM_TRAIT_SPELLING) {
		next = replace_words(cur, sim_misspellings,
		    nitems(sim_misspellings));
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_FORMAL) {
		next = replace_words(cur, sim_contractions,
		    nitems(sim_contractions));
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_CONCISE) {
		next = drop_fillers(cur);
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_POLITE) {
		next = make_polite(cur);
		free(cur);
		cur = next;
	}
	return cur;
}

/* Target answers. */

/* All messages joined, the text the roles are read from. */
static char *
req_text(const struct model_req *req)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; i < req->nmsgs; i++) {
		if (i > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, req->msgs[i].content != NULL ?
		    req->msgs[i].content : "");
	}
	return strbuf_detach(&sb);
}

static uint64_t
req_hash(const struct model_req *req, uint64_t seed)
{
	uint64_t	h = hash_mix(seed, req->nmsgs);
	size_t		i;
	char		r;

	for (i = 0; i < req->nmsgs; i++) {
		r = (char)req->msgs[i].role;
		h = hash64(&r, 1, h);
		if (req->msgs[i].content != NULL)
			h = hash64(req->msgs[i].content,
			    strlen(req->msgs[i].content), h);
	}
	return h;
}

/* Removes every occurrence of the example's values from text. */
static char *
remove_values(const char *text, const struct sim_example *x)
{
	char		*cur = xstrdup(text), *next;
	const char	*p, *q;
	struct strbuf	 sb;
	size_t		 j;

	for (j = 0; j < x->nvals; j++) {
		if (x->lens[j] == 0)
			continue;
		strbuf_init(&sb);
		for (p = cur; (q = strstr(p, x->vals[j])) != NULL;
		    p = q + x->lens[j])
			strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_adds(&sb, p);
		next = strbuf_detach(&sb);
		free(cur);
		cur = next;
	}
	return cur;
}

/*
 * The prompt of a target request: the system message when there is one,
 * else the other messages without the example's input values.
 */
static char *
target_prompt(const struct model_req *req, const struct sim_example *x)
{
	struct strbuf	 sb;
	char		*all, *s;
	size_t		 i;

	strbuf_init(&sb);
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role != MSG_SYSTEM ||
		    req->msgs[i].content == NULL)
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, '\n');
		strbuf_adds(&sb, req->msgs[i].content);
	}
	s = trim_dup(sb.buf != NULL ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	if (*s != '\0')
		return s;
	free(s);
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role == MSG_SYSTEM ||
		    req->msgs[i].content == NULL)
			continue;
		if (sb.len > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, req->msgs[i].content);
	}
	all = strbuf_detach(&sb);
	s = remove_values(all, x);
	free(all);
	all = trim_dup(s, strlen(s));
	free(s);
	return all;
}

/* A wrong number close to the right one. */
static char *
wrong_number(const struct sim_example *x, uint64_t h)
{
	char	*s, *p;
	double	 v = x->num, r;
	int	 op, tries;

	for (tries = 0; tries < 8; tries++) {
		op = (int)(hash_mix(h, (uint64_t)tries) % 6);
		switch (op) {
		case 0:
			r = v + 1;
			break;
		case 1:
			r = v - 1;
			break;
		case 2:
			r = v * 1.1;
			break;
		case 3:
			r = v * 0.9;
			break;
		case 4:
			s = xstrdup(x->target);
			for (p = s; p[0] != '\0' && p[1] != '\0'; p++) {
				if (isdigit((unsigned char)p[0]) &&
				    isdigit((unsigned char)p[1]) &&
				    p[0] != p[1]) {
					char	c = p[0];

					p[0] = p[1];
					p[1] = c;
					break;
				}
			}
			if (strcmp(s, x->target) != 0)
				return s;
			free(s);
			continue;
		default:
			r = -v;
			break;
		}
		if (fabs(v - round(v)) < 1e-9)
			r = round(r);
		if (!numbers_equal(r, v))
			return number_text(r);
	}
	return number_text(v + 1);
}

/* A wrong free-text answer: the expected text with words dropped. */
static char *
wrong_text(const char *target, uint64_t h)
{
	static const char *const others[] = {
		"unknown", "none", "something else", "I don't know"
	};
	struct strbuf	 sb;
	size_t		 pos = 0, st, len, n, i = 0, drop, change;
	char		*s;

	n = count_words(target);
	if (n < 2) {
		s = xstrdup(others[h % nitems(others)]);
		if (strcasecmp(s, target) == 0) {
			free(s);
			s = xstrdup(others[(h + 1) % nitems(others)]);
		}
		return s;
	}
	drop = hash_mix(h, 1) % n;
	change = hash_mix(h, 2) % n;
	strbuf_init(&sb);
	while (textfeat_word_next(target, &pos, &st, &len)) {
		if (i != drop) {
			if (sb.len > 0)
				strbuf_addc(&sb, ' ');
			if (i == change && (h & 1))
				strbuf_adds(&sb, "something");
			else
				strbuf_add(&sb, target + st, len);
		}
		i++;
	}
	return strbuf_detach(&sb);
}

static char *
wrong_answer(const struct sim_world *w, const struct sim_example *x,
    uint64_t h)
{
	const struct sim_task	*t = &w->tasks[x->task];
	size_t			 k;

	switch (x->kind) {
	case SIM_LABEL:
		if (t->nlabels < 2)
			return xstrdup("unsure");
		k = hash_mix(h, 3) % (t->nlabels - 1);
		if (strcmp(t->labels[k], x->target) == 0)
			k = t->nlabels - 1;
		return xstrdup(t->labels[k]);
	case SIM_NUMBER:
		return wrong_number(x, h);
	default:
		return wrong_text(x->target, h);
	}
}

/* Wraps an answer in prose. */
static char *
prose(enum sim_kind kind, int steps, const char *ans, uint64_t h)
{
	static const char *const label[] = {
		"The answer is %s.",
		"I would say it is %s, because that fits the text best.",
		"Based on the text, my answer is %s.",
		"After reading it, I think the answer is: %s.",
	};
	static const char *const number[] = {
		"The answer is %s.",
		"After working it out, the result is %s.",
		"So the final answer is %s.",
		"Working through it, I get %s.",
	};
	static const char *const text[] = {
		"The answer is: %s",
		"Sure! %s",
		"Here is my answer: %s",
		"%s (that is my best answer)",
	};
	static const char *const rewrite[] = {
		"Here is the rewritten text:\n\n%s",
		"Sure! Here is a better version:\n\n%s",
		"Rewritten:\n%s",
		"Here is the revised message:\n\n%s",
	};
	const char *const	*t;
	size_t			 i = h % 4;

	if (steps && kind != SIM_REWRITE)
		return xasprintf("Let me work through this step by step.\n"
		    "First, I look at what is given.\nThen I work out what is "
		    "asked.\nThe answer is %s.", ans);
	switch (kind) {
	case SIM_LABEL:
		t = label;
		break;
	case SIM_NUMBER:
		t = number;
		break;
	case SIM_TEXT:
		t = text;
		break;
	default:
		t = rewrite;
		break;
	}
	return fill(t[i], ans);
}

static char *
answer_target(const struct sim_world *w, const struct model_req *req,
    const char *text, uint64_t sample)
{
	const struct sim_example	*x;
	const struct sim_task		*t;
	char				*prompt, *ans, *out;
	uint64_t			 h;
	unsigned			 want, apply = 0, b;
	double				 logit, p;
	int				 bare;

	if ((x = world_match(w, text)) == NULL)
		return xstrdup(SIM_UNSURE);
	t = &w->tasks[x->task];
	prompt = target_prompt(req, x);
	h = hash_mix(hash_mix(hash64_str(prompt, w->p.seed), x->id), sample);
	logit = prompt_logit(w, t, x->kind, prompt);
	bare = sim_prompt_bare(prompt);
	if (x->kind == SIM_REWRITE) {
		p = sigmoid(logit);
		want = sim_prompt_traits(prompt);
		for (b = 0; b < 4; b++)
			if ((want & (1u << b)) &&
			    u01(hash_mix(h, 10 + b)) < p)
				apply |= 1u << b;
		ans = rewrite_apply(x->vals[x->longest], apply);
	} else {
		p = sigmoid(logit + 1.5 * (0.5 - x->difficulty));
		if (u01(hash_mix(h, 1)) < p)
			ans = xstrdup(x->target);
		else
			ans = wrong_answer(w, x, h);
	}
	if (!bare && u01(hash_mix(h, 2)) < SIM_PROSE_RATE) {
		out = prose(x->kind, (cues_found(prompt) & SIM_CUE_STEPS) != 0,
		    ans, hash_mix(h, 4));
		free(ans);
		ans = out;
	}
	free(prompt);
	return ans;
}

/* Judging. */

/* Whether a response states the expected answer of x; in [0, 1]. */
static double
correctness(const struct sim_world *w, const struct sim_example *x,
    const char *resp)
{
	const struct sim_task	*t = &w->tasks[x->task];
	char			*l, *e, *o;
	double			 v, f;
	size_t			 i, other = 0, pos = 0, st, len;
	size_t			 n = 0, hit = 0;
	int			 has;

	if (x->kind == SIM_NUMBER)
		return last_number(resp, &v) && numbers_equal(v, x->num) ?
		    1 : 0.1;
	l = lower_dup(resp);
	e = lower_dup(x->target);
	if (x->kind == SIM_LABEL) {
		has = has_word(l, e);
		for (i = 0; i < t->nlabels; i++) {
			o = lower_dup(t->labels[i]);
			if (strcmp(o, e) != 0 && has_word(l, o))
				other++;
			free(o);
		}
		f = has ? (other > 0 ? 0.4 : 1) : 0.1;
	} else if (strstr(l, e) != NULL)
		f = 1;
	else {
		/* Partial credit for the expected words it has. */
		while (textfeat_word_next(e, &pos, &st, &len)) {
			o = xstrndup(e + st, len);
			hit += has_word(l, o);
			free(o);
			n++;
		}
		f = 0.1 + 0.5 * (n > 0 ? (double)hit / (double)n : 0);
	}
	free(l);
	free(e);
	return f;
}

/* A small cost for rambling on. */
static double
ramble(const char *resp)
{
	size_t	n = count_words(resp);

	return n > 30 ? fmin(0.3, 0.005 * (double)(n - 30)) : 0;
}

struct sim_judging {
	const struct sim_example	*x;
	const char			*input;
	const char			*reference;
	unsigned			 traits;
	int				 graded;	/* by correctness */
};

static double
quality(const struct sim_world *w, const struct sim_judging *j,
    const char *resp, uint64_t h)
{
	double	 v, q;
	char	*l, *r;

	if (j->x != NULL && j->x->target != NULL)
		return fmax(0, correctness(w, j->x, resp) - ramble(resp));
	if (j->x != NULL)
		return sim_rewrite_quality(j->x->vals[j->x->longest], resp,
		    j->traits);
	if (j->reference != NULL && *j->reference != '\0') {
		if (parse_number(j->reference, &v)) {
			double	g;

			q = last_number(resp, &g) && numbers_equal(g, v) ?
			    1 : 0.1;
		} else {
			l = lower_dup(resp);
			r = lower_dup(j->reference);
			q = strstr(l, r) != NULL ? 1 : 0.1;
			free(l);
			free(r);
		}
		return fmax(0, q - ramble(resp));
	}
	if (j->input != NULL && j->traits != 0)
		return sim_rewrite_quality(j->input, resp, j->traits);
	if (strcmp(resp, SIM_UNSURE) == 0 || *resp == '\0')
		return 0.1;
	return fmax(0, 0.5 + 0.2 * (u01(hash64_str(resp, h)) - 0.5) -
	    ramble(resp));
}

/* The trait where a beats b by most, or -1. */
static int
best_trait(const struct sim_judging *j, const char *a, const char *b)
{
	double	d, best = 0.05;
	int	t, bt = -1;

	for (t = 0; t < 4; t++) {
		if (j->traits != 0 && (j->traits & (1u << t)) == 0)
			continue;
		d = sim_rewrite_quality(j->x != NULL ?
		    j->x->vals[j->x->longest] : j->input, a, 1u << t) -
		    sim_rewrite_quality(j->x != NULL ?
		    j->x->vals[j->x->longest] : j->input, b, 1u << t);
		if (d > best) {
			best = d;
			bt = t;
		}
	}
	return bt;
}

/*
 * What the judge knows besides the responses: the observed example the
 * request is about (by its <input>, else by the text outside the
 * responses), the input, the reference and the traits the rubric asks
 * for.  j borrows input and ref.
 */
static void
judging_init(struct sim_judging *j, const struct sim_world *w,
    const char *text, const char *input, const char *ref,
    const char *rubric)
{
	static const char *const strip[] = { "response_a", "response_b",
	    "response", NULL };
	char	*ctx;

	memset(j, 0, sizeof *j);
	if (input != NULL)
		j->x = world_match(w, input);
	else {
		ctx = tags_strip(text, strip);
		j->x = world_match(w, ctx);
		free(ctx);
	}
	j->input = input != NULL ? input : (j->x != NULL ?
	    j->x->vals[j->x->longest] : NULL);
	j->reference = ref;
	j->traits = rubric != NULL ? sim_prompt_traits(rubric) : 0;
	if ((j->x != NULL && j->x->target == NULL) || (j->x == NULL &&
	    (ref == NULL || *ref == '\0') && j->input != NULL))
		j->traits = j->traits == 0 ? SIM_TRAIT_ALL : j->traits;
	j->graded = (j->x != NULL && j->x->target != NULL) ||
	    (j->x == NULL && ref != NULL && *ref != '\0');
}

/* The verdict on two responses, with a reason, or a tie. */
static char *
judge_pair(const struct sim_world *w, const struct sim_judging *j,
    const char *ra, const char *rb, uint64_t h)
{
	char	 win, lose;
	double	 qa, qb, d;
	int	 t, oka, okb;

	qa = quality(w, j, ra, h);
	qb = quality(w, j, rb, h);
	d = qa + w->p.position_bias + w->p.noise * hnormal(hash_mix(h,
	    0x61)) - qb - w->p.noise * hnormal(hash_mix(h, 0x62));
	if (fabs(d) < SIM_TIE)
		return xstrdup("Both responses are of similar quality."
		    "\nWinner: tie");
	win = d > 0 ? 'A' : 'B';
	lose = d > 0 ? 'B' : 'A';
	oka = (d > 0 ? qa : qb) >= 0.9;
	okb = (d > 0 ? qb : qa) >= 0.9;
	if (j->graded) {
		if (oka && okb)
			return xasprintf("Both responses give the "
			    "expected answer; response %c is more "
			    "direct.\nWinner: %c", win, win);
		if (oka)
			return xasprintf("Response %c gives the "
			    "expected answer, while response %c does "
			    "not.\nWinner: %c", win, lose, win);
		if (okb)
			return xasprintf("Response %c is clearer, "
			    "although response %c states the expected "
			    "answer.\nWinner: %c", win, lose, win);
		return xasprintf("Neither response gives the "
		    "expected answer; response %c comes "
		    "closer.\nWinner: %c", win, win);
	}
	if (j->traits != 0 && j->input != NULL &&
	    (t = best_trait(j, d > 0 ? ra : rb, d > 0 ? rb : ra)) >= 0)
		return xasprintf("Response %c is the better rewrite: it "
		    "is more %s than response %c.\nWinner: %c", win,
		    sim_trait_names[t], lose, win);
	return xasprintf("Response %c reads slightly better "
	    "than response %c.\nWinner: %c", win, lose, win);
}

/* The grade of one response, from 1 to 10, with a reason. */
static char *
judge_grade(const struct sim_world *w, const struct sim_judging *j,
    const char *r, uint64_t h)
{
	double	q, d;
	int	n;

	q = quality(w, j, r, h);
	d = 1 + 9 * q + 2 * w->p.noise * hnormal(hash_mix(h, 0x72));
	n = (int)lround(fmax(1, fmin(10, d)));
	if (j->graded)
		return xasprintf("The response %s the expected answer.\n"
		    "Score: %d", q >= 0.9 ? "gives" : "does not give", n);
	return xasprintf("The response is a %s answer.\nScore: %d",
	    q >= 0.75 ? "good" : q >= 0.45 ? "fair" : "poor", n);
}

static char *
answer_judge(const struct sim_world *w, const char *text, uint64_t h)
{
	struct sim_judging	 j;
	char			*ra, *rb, *r, *input, *ref, *rubric, *out;

	ra = tag_last(text, "response_a");
	rb = tag_last(text, "response_b");
	r = ra != NULL && rb != NULL ? NULL : tag_last(text, "response");
	input = tag_last(text, "input");
	ref = tag_last(text, "reference");
	rubric = tag_last(text, "rubric");
	judging_init(&j, w, text, input, ref, rubric);
	if (ra != NULL && rb != NULL)
		out = judge_pair(w, &j, ra, rb, h);
	else
		out = judge_grade(w, &j, r != NULL ? r : "", h);
	free(ra);
	free(rb);
	free(r);
	free(input);
	free(ref);
	free(rubric);
	return out;
}

/* The optimizer. */

enum sim_item_type {
	ITEM_CUE,
	ITEM_LABELS,
	ITEM_FORMAT,
	ITEM_TRAIT,
	ITEM_NEUTRAL,
};

/* A sentence the optimizer may insert, and what it does. */
struct sim_item {
	enum sim_item_type	 type;
	size_t			 arg;	/* cue index or trait */
	int			 sign;	/* +1 helps, -1 hurts */
	char			*sentence;
	char			*critique;	/* NULL when neutral */
	char			*key;	/* words a critique names it by */
};

struct sim_vocab {
	struct sim_item		*v;
	size_t			 n;
	const struct sim_task	*task;
	enum sim_kind		 kind;
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
static void
vocab_build(struct sim_vocab *vb, const struct sim_task *t,
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
	for (i = 0; i < nitems(sim_cues); i++) {
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

static void
vocab_free(struct sim_vocab *vb)
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
static int
item_present(const struct sim_vocab *vb, const struct sim_item *it,
    const char *prompt)
{
	char	*l, *s;
	int	 r;

	switch (it->type) {
	case ITEM_CUE:
		return (cues_found(prompt) & (1u << it->arg)) != 0;
	case ITEM_LABELS:
		l = lower_dup(prompt);
		r = labels_all(l, vb->task);
		free(l);
		return r;
	case ITEM_FORMAT:
		return sim_prompt_bare(prompt);
	case ITEM_TRAIT:
		return (sim_prompt_traits(prompt) & (1u << it->arg)) != 0;
	default:
		l = lower_dup(prompt);
		s = lower_dup(it->sentence);
		r = strstr(l, s) != NULL;
		free(l);
		free(s);
		return r;
	}
}

/* What the optimizer was asked, and what it was shown. */
struct sim_opt {
	const struct sim_world	*w;
	struct sim_vocab	 vb;
	struct sim_list		 prompts;
	double			*scores;	/* NAN when not given */
	char			*critiques;	/* <critique> text, lower */
	int			 feedback;
	size_t			 count;
	uint64_t		 h;
};

/* The n-th '|'-separated field of list into buf. */
static void
field_nth(const char *list, size_t n, char *buf, size_t size)
{
	size_t	len;

	while (n-- > 0 && list != NULL)
		if ((list = strchr(list, '|')) != NULL)
			list++;
	if (list == NULL) {
		*buf = '\0';
		return;
	}
	len = strcspn(list, "|");
	if (len >= size)
		len = size - 1;
	memcpy(buf, list, len);
	buf[len] = '\0';
}

/*
 * Repairs a harmful cue in a sentence by swapping its phrase for a
 * harmless one ("guess" -> "determine").  Returns 0 if it is not there.
 */
static int
cue_repair(char **sentence, size_t cue)
{
	const struct sim_cue	*c = &sim_cues[cue];
	char			 ph[64], fix[64], *l, *q;
	const char		*w;
	size_t			 k, at;

	if (c->fixes == NULL)
		return 0;
	l = lower_dup(*sentence);
	for (k = 0;; k++) {
		field_nth(c->phrases, k, ph, sizeof ph);
		if (*ph == '\0')
			break;
		if ((w = find_word(l, ph)) == NULL)
			continue;
		field_nth(c->fixes, k, fix, sizeof fix);
		at = (size_t)(w - l);
		if (isupper((unsigned char)(*sentence)[at]))
			fix[0] = (char)toupper((unsigned char)fix[0]);
		q = xasprintf("%.*s%s%s", (int)at, *sentence, fix,
		    *sentence + at + strlen(ph));
		free(*sentence);
		*sentence = q;
		free(l);
		return 1;
	}
	free(l);
	return 0;
}

/*
 * Takes out a harmful item: the sentence carrying it goes, except the
 * first (it states the task), where the cue's phrase is repaired.
 */
static int
edit_remove(struct sim_list *ss, const struct sim_vocab *vb,
    const struct sim_item *it)
{
	size_t	i;

	for (i = 0; i < ss->n; i++) {
		if (!item_present(vb, it, ss->v[i]))
			continue;
		if (i == 0 && it->type == ITEM_CUE &&
		    cue_repair(&ss->v[i], it->arg))
			return 1;
		list_remove(ss, i);
		return 1;
	}
	return 0;
}

/*
 * One edit of a prompt's sentences.  Informed edits (after feedback)
 * remove a harmful cue the prompt has or add a helpful one it lacks;
 * others insert, replace or delete a sentence drawn from the whole
 * vocabulary.  insert_only keeps every sentence (after a crossover).
 */
static void
edit_once(struct sim_opt *o, struct sim_list *ss, uint64_t h, int insert_only)
{
	const struct sim_vocab	*vb = &o->vb;
	size_t			*harm, *help, nharm = 0, nhelp = 0;
	size_t			 nfav = 0;
	size_t			 i, k, op;
	char			*cur;
	const struct sim_item	*it;

	cur = sentences_join(ss);
	harm = xcalloc(vb->n + 1, sizeof *harm);
	help = xcalloc(vb->n + 1, sizeof *help);
	for (i = 0; i < vb->n; i++) {
		it = &vb->v[i];
		if (it->sign < 0 && item_present(vb, it, cur))
			harm[nharm++] = i;
		else if (it->sign > 0 && !item_present(vb, it, cur)) {
			/* Items a critique names come first. */
			if (o->critiques != NULL && it->key != NULL &&
			    strstr(o->critiques, it->key) != NULL) {
				memmove(help + 1, help, nhelp * sizeof *help);
				help[0] = i;
				nfav++;
			} else
				help[nhelp] = i;
			nhelp++;
		}
	}
	if (o->feedback && u01(hash_mix(h, 1)) < SIM_INFORMED_RATE &&
	    (nharm > 0 || nhelp > 0)) {
		if (nharm > 0 && !insert_only && (nhelp == 0 ||
		    u01(hash_mix(h, 2)) < 0.7)) {
			it = &vb->v[harm[hash_mix(h, 3) % nharm]];
			edit_remove(ss, vb, it);
			if (ss->n > 0)
				goto done;
			if (nhelp == 0) {
				list_add(ss, sim_neutral[h % 3]);
				goto done;
			}
		}
		if (nhelp > 0) {
			k = nfav > 0 && u01(hash_mix(h, 4)) < 0.7 ?
			    hash_mix(h, 5) % nfav : hash_mix(h, 5) % nhelp;
			list_insert(ss, hash_mix(h, 6) % (ss->n + 1),
			    vb->v[help[k]].sentence);
			goto done;
		}
	}
	op = hash_mix(h, 7) % 20;
	if (insert_only || ss->n == 0)
		op = 0;
	for (k = 0; k < 4; k++) {
		it = &vb->v[hash_mix(h, 8 + k) % vb->n];
		if (!list_has(ss, it->sentence))
			break;
	}
	/* The first sentence states the task: replace and delete spare it. */
	if (op < 9 || ss->n < 2) {
		if (list_has(ss, it->sentence))
			goto done;
		list_insert(ss, hash_mix(h, 12) % (ss->n + 1), it->sentence);
	} else if (op < 15) {
		i = 1 + hash_mix(h, 13) % (ss->n - 1);
		free(ss->v[i]);
		ss->v[i] = xstrdup(it->sentence);
	} else
		list_remove(ss, 1 + hash_mix(h, 14) % (ss->n - 1));
	if (ss->n == 0)
		list_add(ss, it->sentence);
done:
	free(harm);
	free(help);
	free(cur);
}

static char *
op_mutate(struct sim_opt *o, const char *parent, uint64_t h)
{
	struct sim_list	 ss = { 0 };
	char		*s;

	sentences_split(parent, &ss);
	edit_once(o, &ss, h, 0);
	if (ss.n == 0)
		list_add(&ss, o->vb.v[h % o->vb.n].sentence);
	s = sentences_join(&ss);
	list_free(&ss);
	return s;
}

/* Splices or interleaves two parents' sentences, then mutates. */
static char *
op_crossover(struct sim_opt *o, const char *a, const char *b, uint64_t h)
{
	struct sim_list	 sa = { 0 }, sb = { 0 }, c = { 0 };
	size_t		 i, ca, cb;
	char		*s;

	sentences_split(a, &sa);
	sentences_split(b, &sb);
	if (sa.n == 0 || sb.n == 0 || (hash_mix(h, 1) & 1)) {
		/* Interleave. */
		for (i = 0; i < sa.n || i < sb.n; i++) {
			if (i < sa.n && !list_has(&c, sa.v[i]))
				list_add(&c, sa.v[i]);
			if (i < sb.n && !list_has(&c, sb.v[i]))
				list_add(&c, sb.v[i]);
		}
	} else {
		/* The head of a, the tail of b. */
		ca = 1 + hash_mix(h, 2) % sa.n;
		cb = hash_mix(h, 3) % sb.n;
		for (i = 0; i < ca; i++)
			list_add(&c, sa.v[i]);
		for (i = cb; i < sb.n; i++)
			if (!list_has(&c, sb.v[i]))
				list_add(&c, sb.v[i]);
	}
	edit_once(o, &c, hash_mix(h, 4), 1);
	if (c.n == 0)
		list_add(&c, o->vb.v[h % o->vb.n].sentence);
	s = sentences_join(&c);
	list_free(&sa);
	list_free(&sb);
	list_free(&c);
	return s;
}

/* Swaps synonyms (each with even odds), keeping the meaning. */
static char *
op_paraphrase(struct sim_opt *o, const char *parent, uint64_t h)
{
	struct strbuf	 sb;
	struct sim_list	 ss = { 0 };
	size_t		 pos = 0, last = 0, st, len, i, k = 0;
	const char	*to;
	char		*w, *s;
	int		 changed = 0, side;

	strbuf_init(&sb);
	while (textfeat_word_next(parent, &pos, &st, &len)) {
		w = xstrndup(parent + st, len);
		for (i = 0; i < len; i++)
			w[i] = (char)tolower((unsigned char)w[i]);
		to = NULL;
		for (i = 0; i < nitems(sim_synonyms) && to == NULL; i++)
			for (side = 0; side < 2; side++)
				if (strcmp(w, sim_synonyms[i][side]) == 0)
					to = sim_synonyms[i][1 - side];
		free(w);
		if (to == NULL || u01(hash_mix(h, k++)) < 0.5)
			continue;
		strbuf_add(&sb, parent + last, st - last);
		if (isupper((unsigned char)parent[st])) {
			strbuf_addc(&sb, (char)toupper((unsigned char)to[0]));
			strbuf_adds(&sb, to + 1);
		} else
			strbuf_adds(&sb, to);
		last = st + len;
		changed = 1;
	}
	strbuf_adds(&sb, parent + last);
	s = strbuf_detach(&sb);
	if (changed)
		return s;
	/* Nothing to swap: reorder the sentences, or edit. */
	sentences_split(s, &ss);
	free(s);
	if (ss.n >= 2) {
		i = hash_mix(h, 99) % (ss.n - 1);
		w = ss.v[i];
		ss.v[i] = ss.v[i + 1];
		ss.v[i + 1] = w;
		s = sentences_join(&ss);
		list_free(&ss);
		return s;
	}
	list_free(&ss);
	return op_mutate(o, parent, hash_mix(h, 100));
}

/* Critiques: what the prompt lacks, what hurts, or generic advice. */
static void
op_critique(struct sim_opt *o, const char *parent, struct sim_list *out)
{
	const struct sim_vocab	*vb = &o->vb;
	struct sim_list		 acc = { 0 }, gen = { 0 };
	const struct sim_item	*it;
	size_t			 i, k, nharm;
	double			 rate = o->feedback ? 0.75 : 0.4;

	for (i = 0; i < vb->n; i++) {
		it = &vb->v[i];
		if (it->critique != NULL && it->sign < 0 &&
		    item_present(vb, it, parent))
			list_add(&acc, it->critique);
	}
	nharm = acc.n;
	for (i = 0; i < vb->n; i++) {
		it = &vb->v[i];
		if (it->critique != NULL && it->sign > 0 &&
		    !item_present(vb, it, parent))
			list_add(&acc, it->critique);
	}
	if (count_words(parent) > SIM_LONG_WORDS)
		list_add(&acc, "The prompt is too long; shorter instructions "
		    "work better.");
	for (i = 0; i < nitems(sim_generic_critiques); i++)
		list_add(&gen, sim_generic_critiques[i]);
	for (i = 0; i < o->count && (acc.n > 0 || gen.n > 0); i++) {
		if (acc.n > 0 && (gen.n == 0 || u01(hash_mix(o->h,
		    200 + i)) < rate)) {
			/* With feedback, what hurts is named first. */
			if (o->feedback && nharm > 0) {
				k = 0;
				nharm--;
			} else {
				k = nharm + hash_mix(o->h, 300 + i) %
				    (acc.n - nharm);
				if (k >= acc.n)
					k = hash_mix(o->h, 300 + i) % acc.n;
			}
			list_add(out, acc.v[k]);
			list_remove(&acc, k);
		} else {
			k = hash_mix(o->h, 400 + i) % gen.n;
			list_add(out, gen.v[k]);
			list_remove(&gen, k);
		}
	}
	list_free(&acc);
	list_free(&gen);
}

/* The outputs shown with demos: <output> blocks or "Output:" lines. */
static void
demo_outputs(const char *text, struct sim_list *out)
{
	const char	*pos = text, *body, *p, *nl;
	size_t		 len;
	char		*s;

	while (tag_next(text, "output", &pos, &body, &len, NULL, NULL)) {
		s = trim_dup(body, len);
		if (*s != '\0' && !list_has(out, s) && out->n < 20)
			list_add(out, s);
		free(s);
	}
	for (p = text; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		while (p < nl && isspace((unsigned char)*p))
			p++;
		if ((size_t)(nl - p) > 7 && strncasecmp(p, "output:", 7) == 0) {
			s = trim_dup(p + 7, (size_t)(nl - p - 7));
			if (*s != '\0' && !list_has(out, s) && out->n < 20)
				list_add(out, s);
			free(s);
		}
	}
}

/* Proposes an instruction from demos (APE). */
static char *
op_propose(struct sim_opt *o, const struct sim_list *outs, uint64_t h)
{
	static const char *const label[] = {
		"Classify the input as %s.",
		"Decide whether the input is %s.",
		"Read the input and label it as %s.",
		"Determine which of these fits the input: %s.",
	};
	static const char *const number[] = {
		"Solve the problem and give the final number.",
		"Compute the answer to the question.",
		"Work out the result of the problem.",
		"Calculate the number that answers the question.",
	};
	static const char *const text[] = {
		"Write the output that corresponds to the input.",
		"Transform the input into the expected answer.",
		"Answer the question in the input.",
		"Produce a short answer for the input.",
	};
	static const char *const rewrite[] = {
		"Rewrite the message.",
		"Improve the wording of the text.",
		"Rewrite the text so that it reads better.",
		"Edit the message.",
	};
	struct sim_list	 ss = { 0 };
	struct strbuf	 sb;
	enum sim_kind	 kind;
	size_t		 i, extra, short_ = 0;
	double		 v;
	int		 numeric = outs->n > 0;
	char		*s;

	for (i = 0; i < outs->n; i++) {
		if (!parse_number(outs->v[i], &v))
			numeric = 0;
		if (count_words(outs->v[i]) <= 3)
			short_++;
	}
	if (o->vb.kind == SIM_REWRITE)
		kind = SIM_REWRITE;
	else if (numeric)
		kind = SIM_NUMBER;
	else if (outs->n > 0 && short_ == outs->n && outs->n <= 10)
		kind = SIM_LABEL;
	else
		kind = o->vb.kind == SIM_LABEL ? SIM_TEXT : o->vb.kind;
	switch (kind) {
	case SIM_LABEL:
		strbuf_init(&sb);
		for (i = 0; i < outs->n; i++) {
			if (i > 0)
				strbuf_adds(&sb, i + 1 == outs->n ? " or " :
				    ", ");
			strbuf_adds(&sb, outs->v[i]);
		}
		s = fill(label[h % 4], sb.buf);
		strbuf_release(&sb);
		list_add(&ss, s);
		free(s);
		break;
	case SIM_NUMBER:
		list_add(&ss, number[h % 4]);
		break;
	case SIM_REWRITE:
		list_add(&ss, rewrite[h % 4]);
		break;
	default:
		list_add(&ss, text[h % 4]);
		break;
	}
	extra = hash_mix(h, 1) % 3;
	for (i = 0; i < extra; i++)
		edit_once(o, &ss, hash_mix(h, 2 + i), 1);
	s = sentences_join(&ss);
	list_free(&ss);
	return s;
}

/*
 * The number of outputs asked for: the first "N [new|different|improved|
 * alternative ]*(prompts|instructions|...)" in lower-case text.
 */
static size_t
asked_count(const char *l, int *critiques)
{
	static const char *const adj[] = { "new ", "different ", "improved ",
	    "alternative ", NULL };
	static const char *const nouns[] = { "prompts", "instructions",
	    "variations", "paraphrases", "critiques", "reasons",
	    "candidates", NULL };
	const char	*p, *q;
	size_t		 i, n;
	int		 again;

	*critiques = 0;
	for (p = l; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || (p > l &&
		    isdigit((unsigned char)p[-1])))
			continue;
		n = 0;
		for (q = p; isdigit((unsigned char)*q); q++)
			n = n > 1000 ? n : n * 10 + (size_t)(*q - '0');
		if (!isspace((unsigned char)*q))
			continue;
		while (isspace((unsigned char)*q))
			q++;
		do {
			again = 0;
			for (i = 0; adj[i] != NULL; i++)
				if (strncmp(q, adj[i], strlen(adj[i])) == 0) {
					q += strlen(adj[i]);
					again = 1;
				}
		} while (again);
		for (i = 0; nouns[i] != NULL; i++)
			if (strncmp(q, nouns[i], strlen(nouns[i])) == 0)
				break;
		if (nouns[i] == NULL)
			continue;
		*critiques = strcmp(nouns[i], "critiques") == 0 ||
		    strcmp(nouns[i], "reasons") == 0 ? 1 : -1;
		if (n < 1)
			n = 1;
		return n > SIM_MAX_OUTPUTS ? SIM_MAX_OUTPUTS : n;
	}
	return 1;
}

static int
has_any(const char *l, const char *const *words)
{
	size_t	i;

	for (i = 0; words[i] != NULL; i++)
		if (has_word(l, words[i]))
			return 1;
	return 0;
}

enum sim_op {
	OP_MUTATE,
	OP_CROSSOVER,
	OP_PARAPHRASE,
	OP_CRITIQUE,
	OP_PROPOSE,
};

/* One output of an operation (allocated). */
static char *
opt_one(struct sim_opt *o, enum sim_op op, const char *parent,
    const struct sim_list *demos, uint64_t h)
{
	switch (op) {
	case OP_CROSSOVER:
		return op_crossover(o, o->prompts.v[0], o->prompts.v[1], h);
	case OP_PARAPHRASE:
		return op_paraphrase(o, parent, h);
	case OP_PROPOSE:
		return op_propose(o, demos, h);
	default:
		return op_mutate(o, parent, h);
	}
}

/* Whether s is a new output: not empty, not out yet, not a given prompt. */
static int
opt_new(const struct sim_opt *o, const struct sim_list *outs, const char *s)
{
	return *s != '\0' && !list_has(outs, s) && !list_has(&o->prompts, s);
}

/*
 * An output unlike those in outs: a dozen tries, then a dozen with a
 * second edit stacked on, then the parent with a vocabulary sentence
 * added, so a reply always holds as many outputs as were asked for.
 */
static char *
opt_fresh(struct sim_opt *o, enum sim_op op, const char *parent,
    const struct sim_list *demos, const struct sim_list *outs, uint64_t h)
{
	const char	*base = parent != NULL ? parent :
			    "Answer the question carefully.";
	char		*s, *first;
	size_t		 t, k;

	for (t = 0; t < 24; t++) {
		s = opt_one(o, op, parent, demos, hash_mix(h, t));
		if (t >= 12) {
			first = s;
			s = op_mutate(o, first, hash_mix(h, 100 + t));
			free(first);
		}
		if (opt_new(o, outs, s))
			return s;
		free(s);
	}
	for (k = 0; k < o->vb.n; k++) {
		s = xasprintf("%s %s", base, o->vb.v[(h + k) % o->vb.n].sentence);
		if (opt_new(o, outs, s))
			return s;
		free(s);
	}
	return xasprintf("%s (Version %zu.)", base, outs->n + 1);
}

/* Reads the <prompt> blocks, with their score attributes, into o. */
static void
opt_read_prompts(struct sim_opt *o, const char *text)
{
	const char	*pos = text, *body, *attr, *sc;
	size_t		 len, alen;
	char		*s;

	while (tag_next(text, "prompt", &pos, &body, &len, &attr, &alen)) {
		s = trim_dup(body, len);
		o->scores = xreallocarray(o->scores, o->prompts.n + 1,
		    sizeof *o->scores);
		o->scores[o->prompts.n] = NAN;
		for (sc = attr; sc < attr + alen; sc++)
			if (strncmp(sc, "score=", 6) == 0) {
				sc += 6;
				if (*sc == '"' || *sc == '\'')
					sc++;
				o->scores[o->prompts.n] = strtod(sc, NULL);
				break;
			}
		list_add(&o->prompts, s);
		free(s);
	}
}

/* Reads the <critique> blocks into o->critiques (lower-case), if any. */
static void
opt_read_critiques(struct sim_opt *o, const char *text)
{
	struct strbuf	 sb;
	const char	*pos = text, *body;
	size_t		 len;

	strbuf_init(&sb);
	while (tag_next(text, "critique", &pos, &body, &len, NULL, NULL)) {
		strbuf_add(&sb, body, len);
		strbuf_addc(&sb, '\n');
	}
	if (sb.len > 0)
		o->critiques = lower_dup(sb.buf);
	strbuf_release(&sb);
}

/*
 * The operation asked for, from the request's text outside its blocks
 * (lower-case) and what asked_count() found.
 */
static enum sim_op
opt_choose(const struct sim_opt *o, const char *lstrip, int crit)
{
	static const char *const kw_cross[] = { "crossover", "cross over",
	    "combine", NULL };
	static const char *const kw_para[] = { "paraphrase", "rephrase",
	    NULL };
	static const char *const kw_crit[] = { "critique", "critiques",
	    "reasons why", "what is wrong", "gradient", "gradients", NULL };

	if (o->prompts.n == 0)
		return OP_PROPOSE;
	if (crit > 0)
		return OP_CRITIQUE;
	if (has_any(lstrip, kw_cross) && o->prompts.n >= 2)
		return OP_CROSSOVER;
	if (has_any(lstrip, kw_para))
		return OP_PARAPHRASE;
	if (crit == 0 && o->critiques == NULL && has_any(lstrip, kw_crit))
		return OP_CRITIQUE;
	return OP_MUTATE;
}

/* The parent: the best scored prompt, else the first (NULL: none). */
static const char *
opt_parent(const struct sim_opt *o)
{
	size_t	i, best = 0;

	for (i = 1; i < o->prompts.n; i++)
		if (!isnan(o->scores[i]) && (isnan(o->scores[best]) ||
		    o->scores[i] > o->scores[best]))
			best = i;
	return o->prompts.n > 0 ? o->prompts.v[best] : NULL;
}

/* The outputs of an operation other than a critique, into outs. */
static void
opt_outputs(struct sim_opt *o, enum sim_op op, const char *parent,
    const char *text, const struct sim_task *t, struct sim_list *outs)
{
	struct sim_list	 demos = { 0 };
	size_t		 i;
	char		*s;

	if (op == OP_PROPOSE) {
		demo_outputs(text, &demos);
		/* No demos: the task's labels, from world knowledge. */
		for (i = 0; demos.n == 0 && t != NULL && i < t->nlabels &&
		    i < 10; i++)
			list_add(&demos, t->labels[i]);
	}
	for (i = 0; i < o->count; i++) {
		s = opt_fresh(o, op, parent, &demos, outs, hash_mix(o->h, i));
		list_add(outs, s);
		free(s);
	}
	if (outs->n == 0)
		list_add(outs, parent != NULL ? parent :
		    "Answer the question carefully.");
	list_free(&demos);
}

/*
 * The reply: what was done, then the outputs in their tags, or numbered
 * without tags at the world's format error rate.
 */
static char *
opt_reply(const struct sim_opt *o, enum sim_op op,
    const struct sim_list *outs)
{
	static const char *const why[] = {
		"I kept what works and changed one instruction.",
		"I combined parts of both prompts and adjusted the result.",
		"These versions say the same thing in different words.",
		"Here is what I see in the prompt.",
		"From the input-output pairs, the instruction was probably "
		"this.",
	};
	struct strbuf	sb;
	size_t		i;
	int		tagless;

	tagless = u01(hash_mix(o->h, 0x666d74)) < o->w->p.format_error_rate;
	strbuf_init(&sb);
	if (op == OP_MUTATE && o->feedback)
		strbuf_adds(&sb, "These versions address the errors shown.");
	else
		strbuf_adds(&sb, why[op]);
	strbuf_adds(&sb, "\n\n");
	for (i = 0; i < outs->n; i++) {
		if (tagless)
			strbuf_addf(&sb, "%zu. %s\n", i + 1, outs->v[i]);
		else if (op == OP_CRITIQUE)
			strbuf_addf(&sb, "<critique>%s</critique>\n",
			    outs->v[i]);
		else
			strbuf_addf(&sb, "<prompt>%s</prompt>\n", outs->v[i]);
	}
	return strbuf_detach(&sb);
}

static char *
answer_optimizer(const struct sim_world *w, const char *text, uint64_t h)
{
	static const char *const strip[] = { "prompt", "critique", "errors",
	    "feedback", "demo", "example", "examples", "input", "output",
	    NULL };
	static const char *const kw_wrong[] = { "wrong", "incorrect", NULL };
	struct sim_opt			 o;
	struct sim_list			 outs = { 0 };
	const struct sim_example	*x;
	const struct sim_task		*t = NULL;
	const char			*parent;
	char				*lstrip, *s;
	enum sim_op			 op;
	int				 crit;

	memset(&o, 0, sizeof o);
	o.w = w;
	o.h = h;
	opt_read_prompts(&o, text);
	opt_read_critiques(&o, text);

	/* The task: the example the request mentions, else the latest. */
	if ((x = world_match(w, text)) != NULL)
		t = &w->tasks[x->task];
	else if (w->ntasks > 0)
		t = &w->tasks[w->ntasks - 1];
	vocab_build(&o.vb, t, t != NULL ? t->kind : SIM_TEXT);

	s = tags_strip(text, strip);
	lstrip = lower_dup(s);
	free(s);
	o.feedback = tag_has(text, "errors") || tag_has(text, "feedback") ||
	    o.critiques != NULL || has_any(lstrip, kw_wrong);
	o.count = asked_count(lstrip, &crit);
	op = opt_choose(&o, lstrip, crit);
	parent = opt_parent(&o);
	if (op == OP_CRITIQUE)
		op_critique(&o, parent, &outs);
	else
		opt_outputs(&o, op, parent, text, t, &outs);
	s = opt_reply(&o, op, &outs);

	free(lstrip);
	free(o.critiques);
	free(o.scores);
	list_free(&o.prompts);
	list_free(&outs);
	vocab_free(&o.vb);
	return s;
}

/* Roles and the entry points. */

enum sim_role
sim_role_detect(const struct model_req *req)
{
	enum sim_role	 r;
	char		*text;

	if (req->kind == REQ_EMBED)
		return SIM_ROLE_EMBED;
	text = req_text(req);
	if (tag_has(text, "response_a") && tag_has(text, "response_b"))
		r = SIM_ROLE_JUDGE;
	else if (tag_has(text, "prompt") || tag_has(text, "demo") ||
	    strstr(text, "The instruction was") != NULL)
		r = SIM_ROLE_OPTIMIZER;
	else if (tag_has(text, "response"))
		r = SIM_ROLE_JUDGE;
	else
		r = SIM_ROLE_TARGET;
	free(text);
	return r;
}

/*
 * A conversation that goes on after an answer (a repair turn: the
 * request, the model's reply, what was wrong with it) is answered as its
 * first request, with the draws of the whole conversation: the model
 * tries again, and may get the format right this time.
 */
void
sim_world_answer(struct sim_world *w, const struct model_req *req,
    double temperature, char **out)
{
	struct model_req	 first = *req;
	char			*text;
	uint64_t		 h, sample;
	size_t			 i;

	for (i = 0; i < req->nmsgs; i++)
		if (req->msgs[i].role == MSG_ASSISTANT)
			break;
	first.nmsgs = i;
	sample = temperature > 0 ? hash_mix(SEED_SAMPLE, req->sample) : 0;
	text = req_text(&first);
	h = hash_mix(req_hash(req, w->p.seed), sample);
	switch (sim_role_detect(&first)) {
	case SIM_ROLE_JUDGE:
		*out = answer_judge(w, text, h);
		break;
	case SIM_ROLE_OPTIMIZER:
		*out = answer_optimizer(w, text, h);
		break;
	default:
		*out = answer_target(w, &first, text, sample);
		break;
	}
	free(text);
}

/* Embeddings. */

void
sim_world_embed(const struct sim_world *w, const char *text, float *out)
{
	textfeat_embed(text, w->p.seed, w->p.dim, out);
}
