/*
 * The optimizer: reads the prompts, critiques, errors and demos a request
 * shows and what it asks for (mutations, crossovers, paraphrases,
 * critiques or proposals from demos, and how many), and answers with new
 * prompts drawn from a vocabulary of sentences whose effects the skill
 * model knows.  With feedback, edits are informed: they remove what hurts
 * and add what helps more often.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

#define SIM_MAX_OUTPUTS		32
#define SIM_INFORMED_RATE	0.6
/* How often what people's comments name is acted on first. */
#define SIM_HUMAN_RATE		0.9

static const char *const sim_generic_critiques[] = {
	"The prompt could be more specific about the expected output.",
	"The prompt does not explain the task in enough detail.",
	"The prompt gives no examples of the expected answers.",
	"The prompt does not say how to handle unclear inputs.",
	"The prompt could state the goal of the task more directly.",
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
	sim_list_add(l, s);
	v = l->v[l->n - 1];
	memmove(l->v + at + 1, l->v + at, (l->n - 1 - at) * sizeof *l->v);
	l->v[at] = v;
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
		if (n > 0 && sim_is_alnum(l->v[i][n - 1]))
			strbuf_addc(&sb, '.');
	}
	return strbuf_detach(&sb);
}

/* Edits and the operations. */

/* What the optimizer was asked, and what it was shown. */
struct sim_opt {
	const struct sim_world	*w;
	struct sim_vocab	 vb;
	struct sim_list		 prompts;
	double			*scores;	/* NAN when not given */
	char			*critiques;	/* <critique> text, lower */
	char			*human;		/* people's <comment>s, lower */
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
	l = sim_lower_dup(*sentence);
	for (k = 0;; k++) {
		field_nth(c->phrases, k, ph, sizeof ph);
		if (*ph == '\0')
			break;
		if ((w = sim_find_word(l, ph)) == NULL)
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
		if (!sim_item_present(vb, it, ss->v[i]))
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
 * Whether people's comments name item it: they carry it as a prompt
 * would (its cue, the labels, "only the label", a trait's word), or they
 * complain of length, which names the bare answer format (the concise
 * trait in a rewrite task).  Neutral sentences are never named.
 */
static int
human_names(const struct sim_opt *o, const struct sim_item *it)
{
	static const char *const longer[] = { "too long", "verbose", "wordy",
	    "rambling", "long-winded", "shorter", NULL };
	size_t	i;
	int	len = 0;

	if (o->human == NULL || it->type == ITEM_NEUTRAL)
		return 0;
	if (sim_item_present(&o->vb, it, o->human))
		return 1;
	for (i = 0; longer[i] != NULL; i++)
		len = len || sim_has_word(o->human, longer[i]);
	if (o->vb.kind == SIM_REWRITE)
		return len && it->type == ITEM_TRAIT && it->arg == 0;
	return len && it->type == ITEM_FORMAT;
}

/*
 * The items people's comments name that would change prompt: harmful
 * ones it has, helpful ones it lacks (indices into the vocabulary, in
 * its order); returns how many.
 */
static size_t
human_items(const struct sim_opt *o, const char *prompt, size_t *out)
{
	const struct sim_item	*it;
	size_t			 i, n = 0;

	for (i = 0; o->human != NULL && i < o->vb.n; i++) {
		it = &o->vb.v[i];
		if (it->sign != 0 && human_names(o, it) &&
		    (it->sign < 0) == sim_item_present(&o->vb, it, prompt))
			out[n++] = i;
	}
	return n;
}

/*
 * An edit on what people said, most of the time when they named
 * something: takes out a harmful item they named or adds a helpful one.
 * Returns whether it edited.
 */
static int
edit_human(struct sim_opt *o, struct sim_list *ss, uint64_t h)
{
	const struct sim_item	*it;
	size_t			*named, n;
	char			*cur;
	int			 done = 0;

	if (o->human == NULL || sim_u01(hash_mix(h, 0x68756d)) >=
	    SIM_HUMAN_RATE)
		return 0;
	cur = sentences_join(ss);
	named = xcalloc(o->vb.n + 1, sizeof *named);
	if ((n = human_items(o, cur, named)) > 0) {
		it = &o->vb.v[named[hash_mix(h, 0x68756e) % n]];
		if (it->sign < 0)
			done = edit_remove(ss, &o->vb, it);
		else {
			list_insert(ss, hash_mix(h, 0x68756f) % (ss->n + 1),
			    it->sentence);
			done = 1;
		}
	}
	free(named);
	free(cur);
	return done && ss->n > 0;
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

	/* What people said comes first (their comments in <people>). */
	if (edit_human(o, ss, h))
		return;
	cur = sentences_join(ss);
	harm = xcalloc(vb->n + 1, sizeof *harm);
	help = xcalloc(vb->n + 1, sizeof *help);
	for (i = 0; i < vb->n; i++) {
		it = &vb->v[i];
		if (it->sign < 0 && sim_item_present(vb, it, cur))
			harm[nharm++] = i;
		else if (it->sign > 0 && !sim_item_present(vb, it, cur)) {
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
	if (o->feedback && sim_u01(hash_mix(h, 1)) < SIM_INFORMED_RATE &&
	    (nharm > 0 || nhelp > 0)) {
		if (nharm > 0 && !insert_only && (nhelp == 0 ||
		    sim_u01(hash_mix(h, 2)) < 0.7)) {
			it = &vb->v[harm[hash_mix(h, 3) % nharm]];
			edit_remove(ss, vb, it);
			if (ss->n > 0)
				goto done;
			if (nhelp == 0) {
				sim_list_add(ss, sim_neutral[h % 3]);
				goto done;
			}
		}
		if (nhelp > 0) {
			k = nfav > 0 && sim_u01(hash_mix(h, 4)) < 0.7 ?
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
		sim_list_add(ss, it->sentence);
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

	sim_sentences_split(parent, &ss);
	edit_once(o, &ss, h, 0);
	if (ss.n == 0)
		sim_list_add(&ss, o->vb.v[h % o->vb.n].sentence);
	s = sentences_join(&ss);
	sim_list_free(&ss);
	return s;
}

/* Splices or interleaves two parents' sentences, then mutates. */
static char *
op_crossover(struct sim_opt *o, const char *a, const char *b, uint64_t h)
{
	struct sim_list	 sa = { 0 }, sb = { 0 }, c = { 0 };
	size_t		 i, ca, cb;
	char		*s;

	sim_sentences_split(a, &sa);
	sim_sentences_split(b, &sb);
	if (sa.n == 0 || sb.n == 0 || (hash_mix(h, 1) & 1)) {
		/* Interleave. */
		for (i = 0; i < sa.n || i < sb.n; i++) {
			if (i < sa.n && !list_has(&c, sa.v[i]))
				sim_list_add(&c, sa.v[i]);
			if (i < sb.n && !list_has(&c, sb.v[i]))
				sim_list_add(&c, sb.v[i]);
		}
	} else {
		/* The head of a, the tail of b. */
		ca = 1 + hash_mix(h, 2) % sa.n;
		cb = hash_mix(h, 3) % sb.n;
		for (i = 0; i < ca; i++)
			sim_list_add(&c, sa.v[i]);
		for (i = cb; i < sb.n; i++)
			if (!list_has(&c, sb.v[i]))
				sim_list_add(&c, sb.v[i]);
	}
	edit_once(o, &c, hash_mix(h, 4), 1);
	if (c.n == 0)
		sim_list_add(&c, o->vb.v[h % o->vb.n].sentence);
	s = sentences_join(&c);
	sim_list_free(&sa);
	sim_list_free(&sb);
	sim_list_free(&c);
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
		if (to == NULL || sim_u01(hash_mix(h, k++)) < 0.5)
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
	sim_sentences_split(s, &ss);
	free(s);
	if (ss.n >= 2) {
		i = hash_mix(h, 99) % (ss.n - 1);
		w = ss.v[i];
		ss.v[i] = ss.v[i + 1];
		ss.v[i + 1] = w;
		s = sentences_join(&ss);
		sim_list_free(&ss);
		return s;
	}
	sim_list_free(&ss);
	return op_mutate(o, parent, hash_mix(h, 100));
}

/*
 * The critiques of what people's comments name, most of the time, put
 * first into out and taken from acc (whose first nharm name what hurts);
 * returns what is left of nharm.
 */
static size_t
human_first(struct sim_opt *o, const char *parent, struct sim_list *acc,
    size_t nharm, struct sim_list *out)
{
	const char	*c;
	size_t		*named, n, i, k;

	if (o->human == NULL)
		return nharm;
	named = xcalloc(o->vb.n + 1, sizeof *named);
	n = human_items(o, parent, named);
	for (i = 0; i < n && out->n < o->count; i++) {
		c = o->vb.v[named[i]].critique;
		if (sim_u01(hash_mix(o->h, 500 + i)) >= SIM_HUMAN_RATE)
			continue;
		for (k = 0; k < acc->n && strcmp(acc->v[k], c) != 0; k++)
			;
		if (k == acc->n)
			continue;
		sim_list_add(out, c);
		list_remove(acc, k);
		if (k < nharm)
			nharm--;
	}
	free(named);
	return nharm;
}

/* Critiques: what the prompt lacks, what hurts, or what people said
 * (first), or generic advice. */
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
		    sim_item_present(vb, it, parent))
			sim_list_add(&acc, it->critique);
	}
	nharm = acc.n;
	for (i = 0; i < vb->n; i++) {
		it = &vb->v[i];
		if (it->critique != NULL && it->sign > 0 &&
		    !sim_item_present(vb, it, parent))
			sim_list_add(&acc, it->critique);
	}
	if (sim_count_words(parent) > SIM_LONG_WORDS)
		sim_list_add(&acc, "The prompt is too long; shorter "
		    "instructions work better.");
	for (i = 0; i < nitems(sim_generic_critiques); i++)
		sim_list_add(&gen, sim_generic_critiques[i]);
	nharm = human_first(o, parent, &acc, nharm, out);
	for (i = out->n; i < o->count && (acc.n > 0 || gen.n > 0); i++) {
		if (acc.n > 0 && (gen.n == 0 || sim_u01(hash_mix(o->h,
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
			sim_list_add(out, acc.v[k]);
			list_remove(&acc, k);
		} else {
			k = hash_mix(o->h, 400 + i) % gen.n;
			sim_list_add(out, gen.v[k]);
			list_remove(&gen, k);
		}
	}
	sim_list_free(&acc);
	sim_list_free(&gen);
}

/* The outputs shown with demos: <output> blocks or "Output:" lines. */
static void
demo_outputs(const char *text, struct sim_list *out)
{
	const char	*pos = text, *body, *p, *nl;
	size_t		 len;
	char		*s;

	while (sim_tag_next(text, "output", &pos, &body, &len, NULL, NULL)) {
		s = trim_dup(body, len);
		if (*s != '\0' && !list_has(out, s) && out->n < 20)
			sim_list_add(out, s);
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
				sim_list_add(out, s);
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
		if (!sim_parse_number(outs->v[i], &v))
			numeric = 0;
		if (sim_count_words(outs->v[i]) <= 3)
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
		s = sim_fill(label[h % 4], sb.buf);
		strbuf_release(&sb);
		sim_list_add(&ss, s);
		free(s);
		break;
	case SIM_NUMBER:
		sim_list_add(&ss, number[h % 4]);
		break;
	case SIM_REWRITE:
		sim_list_add(&ss, rewrite[h % 4]);
		break;
	default:
		sim_list_add(&ss, text[h % 4]);
		break;
	}
	extra = hash_mix(h, 1) % 3;
	for (i = 0; i < extra; i++)
		edit_once(o, &ss, hash_mix(h, 2 + i), 1);
	s = sentences_join(&ss);
	sim_list_free(&ss);
	return s;
}

/* Reading the request and writing the reply. */

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
		if (sim_has_word(l, words[i]))
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
		s = xasprintf("%s %s", base,
		    o->vb.v[(h + k) % o->vb.n].sentence);
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

	while (sim_tag_next(text, "prompt", &pos, &body, &len, &attr, &alen)) {
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
		sim_list_add(&o->prompts, s);
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
	while (sim_tag_next(text, "critique", &pos, &body, &len, NULL, NULL)) {
		strbuf_add(&sb, body, len);
		strbuf_addc(&sb, '\n');
	}
	if (sb.len > 0)
		o->critiques = sim_lower_dup(sb.buf);
	strbuf_release(&sb);
}

/*
 * Reads the <comment>s of <people> blocks (what people said of the
 * prompt's answers) into o->human (lower-case), if any.
 */
static void
opt_read_human(struct sim_opt *o, const char *text)
{
	struct strbuf	 sb;
	const char	*pos = text, *body, *cpos, *cbody;
	size_t		 len, clen;
	char		*block;

	strbuf_init(&sb);
	while (sim_tag_next(text, "people", &pos, &body, &len, NULL, NULL)) {
		block = xstrndup(body, len);
		cpos = block;
		while (sim_tag_next(block, "comment", &cpos, &cbody, &clen,
		    NULL, NULL)) {
			strbuf_add(&sb, cbody, clen);
			strbuf_addc(&sb, '\n');
		}
		free(block);
	}
	if (sb.len > 0)
		o->human = sim_lower_dup(sb.buf);
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
			sim_list_add(&demos, t->labels[i]);
	}
	for (i = 0; i < o->count; i++) {
		s = opt_fresh(o, op, parent, &demos, outs, hash_mix(o->h, i));
		sim_list_add(outs, s);
		free(s);
	}
	if (outs->n == 0)
		sim_list_add(outs, parent != NULL ? parent :
		    "Answer the question carefully.");
	sim_list_free(&demos);
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

	tagless = sim_u01(hash_mix(o->h, 0x666d74)) < o->w->p.format_error_rate;
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

/*
 * A description of the data, when the request asks for observations or a
 * summary of it in a tag (mipro's grounding): what the world knows of the
 * task's answers, in that tag after a line of prose.  NULL for any other
 * request.
 */
static char *
opt_describe(const char *text, const struct sim_task *t)
{
	static const char *const tags[] = { "observation", "summary" };
	struct strbuf	 sb;
	const char	*tag = NULL;
	char		*want;
	size_t		 i;

	for (i = 0; tag == NULL && i < 2; i++) {
		want = xasprintf("element named \"%s\"", tags[i]);
		if (strstr(text, want) != NULL)
			tag = tags[i];
		free(want);
	}
	if (tag == NULL)
		return NULL;
	strbuf_init(&sb);
	strbuf_addf(&sb, "Here is what I see in the examples.\n\n<%s>", tag);
	switch (t != NULL ? t->kind : SIM_TEXT) {
	case SIM_LABEL:
		strbuf_adds(&sb, "Each output is one label, one of:");
		for (i = 0; i < t->nlabels && i < 10; i++)
			strbuf_addf(&sb, "%s %s", i == 0 ? "" : ",",
			    t->labels[i]);
		strbuf_adds(&sb, "; the answer is the label alone.");
		break;
	case SIM_NUMBER:
		strbuf_adds(&sb, "Each output is a single number worked out "
		    "from the input; the answer is the number alone.");
		break;
	case SIM_REWRITE:
		strbuf_adds(&sb, "Each output rewrites its input, keeping its "
		    "meaning.");
		break;
	case SIM_TEXT:
		strbuf_adds(&sb, "Each output is a short text answering its "
		    "input.");
		break;
	}
	strbuf_addf(&sb, "</%s>\n", tag);
	return strbuf_detach(&sb);
}

char *
sim_answer_optimizer(const struct sim_world *w, const char *text, uint64_t h)
{
	static const char *const strip[] = { "people", "prompt", "critique",
	    "errors", "feedback", "demo", "example", "examples", "input",
	    "output", NULL };
	static const char *const kw_wrong[] = { "wrong", "incorrect", NULL };
	struct sim_opt			 o;
	struct sim_list			 outs = { 0 };
	const struct sim_example	*x;
	const struct sim_task		*t = NULL;
	const char			*parent;
	char				*lstrip, *s;
	enum sim_op			 op;
	int				 crit;

	/* New inputs for a task (synth.c), not prompts. */
	if (sim_synth_asked(text))
		return sim_answer_synth(text, h);
	memset(&o, 0, sizeof o);
	o.w = w;
	o.h = h;
	opt_read_prompts(&o, text);
	opt_read_critiques(&o, text);
	opt_read_human(&o, text);

	/* The task: the example the request mentions, else the latest. */
	if ((x = sim_world_match(w, text)) != NULL)
		t = &w->tasks[x->task];
	else if (w->ntasks > 0)
		t = &w->tasks[w->ntasks - 1];
	if ((s = opt_describe(text, t)) != NULL) {
		free(o.critiques);
		free(o.human);
		free(o.scores);
		sim_list_free(&o.prompts);
		return s;
	}
	sim_vocab_build(&o.vb, t, t != NULL ? t->kind : SIM_TEXT);

	s = sim_tags_strip(text, strip);
	lstrip = sim_lower_dup(s);
	free(s);
	/*
	 * Informed: shown errors, feedback, critiques, or worked examples
	 * beside the prompt to edit (they show what the answers must be).
	 */
	o.feedback = sim_tag_has(text, "errors") ||
	    sim_tag_has(text, "feedback") || o.critiques != NULL ||
	    has_any(lstrip, kw_wrong) ||
	    (sim_tag_has(text, "demo") && o.prompts.n > 0);
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
	free(o.human);
	free(o.scores);
	sim_list_free(&o.prompts);
	sim_list_free(&outs);
	sim_vocab_free(&o.vb);
	return s;
}
