/*
 * Reading model replies: the outcomes, the elements of a tag, cleaned
 * and filtered, and the tests they go through (echoes, restatements,
 * refusals).  The verdicts and grades of judges are in reply_verdict.c.
 * See reply.h for what real models write and what the reader makes of
 * it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "reply.h"
#include "reply_int.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* An opening tag is at most this long, attributes included. */
#define REPLY_TAG_MAX	256

static const char *const reply_outcome_names[REPLY_NOUTCOMES] = {
	"usable", "repaired", "unreadable", "echo", "too long", "refused"
};

const char *
reply_outcome_name(enum reply_outcome o)
{
	if ((unsigned)o >= REPLY_NOUTCOMES)
		return "unknown";
	return reply_outcome_names[o];
}

int
reply_outcome_from(const char *name)
{
	int	i;

	for (i = 0; i < REPLY_NOUTCOMES; i++)
		if (strcmp(reply_outcome_names[i], name) == 0)
			return i;
	return -1;
}

int
reply_outcome_ok(enum reply_outcome o)
{
	return o == REPLY_USABLE || o == REPLY_REPAIRED;
}

/* The length of word if s starts with it (ASCII case ignored), or 0. */
size_t
reply_prefix(const char *s, const char *word)
{
	size_t	n = strlen(word);

	return strncasecmp(s, word, n) == 0 ? n : 0;
}

/* Whether c is part of a word: ASCII letters and digits, and UTF-8. */
static int
word_char(int c)
{
	return isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

static int
has_alnum(const char *s, const char *e)
{
	for (; s < e; s++)
		if (word_char(*s))
			return 1;
	return 0;
}

/*
 * Tags.
 */

/*
 * If p is an opening tag <tag ...> (any case, attributes and line breaks
 * allowed), returns what follows its '>'; else NULL.  A self-closing
 * <tag/> is not an opening tag.
 */
static const char *
tag_open(const char *p, const char *tag)
{
	size_t		 n = strlen(tag), i;
	const char	*q;

	if (*p != '<' || strncasecmp(p + 1, tag, n) != 0)
		return NULL;
	q = p + 1 + n;
	if (*q != '>' && !isspace((unsigned char)*q))
		return NULL;
	for (i = 0; q[i] != '\0' && q[i] != '>' && i < REPLY_TAG_MAX; i++)
		if (q[i] == '<')
			return NULL;
	if (q[i] != '>' || (i > 0 && q[i - 1] == '/'))
		return NULL;
	return q + i + 1;
}

/* If p is a closing tag </tag> (any case, spaces allowed), its end. */
static const char *
tag_close(const char *p, const char *tag)
{
	size_t	n = strlen(tag);

	if (p[0] != '<' || p[1] != '/')
		return NULL;
	p += 2;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, tag, n) != 0)
		return NULL;
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '>' ? p + 1 : NULL;
}

/*
 * Whether p is inside inline code: an odd number of runs of one or two
 * backticks before it on its line (fences, three or more, do not count).
 */
static int
in_inline_code(const char *text, const char *p)
{
	const char	*q = p, *r;
	int		 in = 0;

	while (q > text && q[-1] != '\n')
		q--;
	while (q < p) {
		if (*q != '`') {
			q++;
			continue;
		}
		for (r = q; r < p && *r == '`'; r++)
			;
		if (r - q < 3)
			in = !in;
		q = r;
	}
	return in;
}

/* Whether the words "tag(s)" or "element(s)" follow p: a mention. */
static int
names_tag(const char *p)
{
	size_t	n;

	while (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' ||
	    *p == '`' || *p == '*')
		p++;
	if ((n = reply_prefix(p, "tag")) == 0 &&
	    (n = reply_prefix(p, "element")) == 0)
		return 0;
	if (p[n] == 's' || p[n] == 'S')
		n++;
	return !word_char(p[n]);
}

/* The next opening tag of tag at or after p that is not a mention. */
static const char *
next_open(const char *text, const char *p, const char *tag,
    const char **body)
{
	const char	*q;

	for (; (p = strchr(p, '<')) != NULL; p++) {
		if ((q = tag_open(p, tag)) == NULL || in_inline_code(text, p) ||
		    names_tag(q))
			continue;
		*body = q;
		return p;
	}
	return NULL;
}

/* The next closing tag of tag at or after p, not in inline code. */
static const char *
next_close(const char *text, const char *p, const char *tag,
    const char **end)
{
	const char	*q;

	for (; (p = strchr(p, '<')) != NULL; p++) {
		if ((q = tag_close(p, tag)) == NULL || in_inline_code(text, p))
			continue;
		*end = q;
		return p;
	}
	return NULL;
}

/*
 * Whether what an element holds is a placeholder, not content: no
 * letter or digit, or one short word ("<prompt> and </prompt>").
 */
static int
placeholder(const char *s, const char *e)
{
	const char	*p;
	size_t		 words = 0, len = 0, longest = 0;

	if (!has_alnum(s, e))
		return 1;
	for (p = s; p < e; p++) {
		if (word_char(*p)) {
			if (len++ == 0)
				words++;
			if (len > longest)
				longest = len;
		} else if (isspace((unsigned char)*p))
			len = 0;
		else
			return 0;
	}
	return words == 1 && longest <= 3;
}

/* Where an element is in the text. */
struct span {
	size_t	open;		/* its opening tag */
	size_t	body;		/* what it holds ... */
	size_t	bodyend;	/* ... up to here */
	size_t	end;		/* past its closing tag */
};

/*
 * The elements of tag in text; one whose content empty() says is no
 * content (placeholder(), for most) is skipped.
 */
static size_t
reply_spans_if(const char *text, const char *tag, struct span **out,
    int (*empty)(const char *, const char *))
{
	const char	*p = text, *o, *o2, *c, *body, *body2, *cend, *end;
	size_t		 n = 0;

	*out = NULL;
	end = text + strlen(text);
	while ((o = next_open(text, p, tag, &body)) != NULL) {
		for (;;) {
			c = next_close(text, body, tag, &cend);
			o2 = next_open(text, body, tag, &body2);
			if (o2 == NULL || (c != NULL && c < o2))
				break;
			/* Opened again before it was closed. */
			o = o2;
			body = body2;
		}
		if (c == NULL)
			c = cend = end;
		p = cend;
		if ((cend != end && names_tag(cend)) || empty(body, c))
			continue;
		*out = xreallocarray(*out, n + 1, sizeof **out);
		(*out)[n].open = (size_t)(o - text);
		(*out)[n].body = (size_t)(body - text);
		(*out)[n].bodyend = (size_t)(c - text);
		(*out)[n].end = (size_t)(cend - text);
		n++;
		if (cend == end)
			break;
	}
	return n;
}

static size_t
reply_spans(const char *text, const char *tag, struct span **out)
{
	return reply_spans_if(text, tag, out, placeholder);
}

/*
 * Whether what an answer element holds is no answer: no letter or
 * digit, or "and" or "or" between two tags ("<answer> or </answer>").
 * A short answer ("B", "42", "no") is an answer.
 */
static int
no_content(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (!has_alnum(s, e))
		return 1;
	return (e - s == 3 && strncasecmp(s, "and", 3) == 0) ||
	    (e - s == 2 && strncasecmp(s, "or", 2) == 0);
}

size_t
reply_answers(const char *text, const char *tag, char ***out)
{
	struct span	*sp;
	size_t		 n, i, k = 0;
	char		*s;

	n = reply_spans_if(text, tag, &sp, no_content);
	*out = xcalloc(n + 1, sizeof **out);
	for (i = 0; i < n; i++) {
		s = reply_clean(text + sp[i].body, sp[i].bodyend - sp[i].body);
		if (*s == '\0') {
			free(s);
			continue;
		}
		(*out)[k++] = s;
	}
	free(sp);
	return k;
}

/*
 * Cleaning what an element holds.  Each step works on [*b, *e) and says
 * whether it changed it; they are repeated until none does.
 */

static void
trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* The end of the line that starts at p (its '\n', or e). */
static const char *
line_end(const char *p, const char *e)
{
	const char	*q = memchr(p, '\n', (size_t)(e - p));

	return q != NULL ? q : e;
}

static int
is_fence(const char *p)
{
	return strncmp(p, "```", 3) == 0 || strncmp(p, "~~~", 3) == 0;
}

/* Code fences around the text, or alone at its start or its end. */
static int
strip_fences(const char **b, const char **e)
{
	const char	*le, *q, *ls;
	int		 changed = 0;

	if (*e - *b >= 3 && is_fence(*b)) {
		le = line_end(*b, *e);
		/* "```xml" opens; "```text```" on one line is all of it. */
		for (q = *b + 3; q < le && (isalnum((unsigned char)*q) ||
		    *q == '-' || *q == '+' || *q == '_'); q++)
			;
		if (q == le || (le == *e && le - *b >= 6 && is_fence(le - 3))) {
			*b = q == le ? le : *b + 3;
			if (q != le)
				*e = le - 3;
			changed = 1;
		}
	}
	if (*e - *b >= 3 && is_fence(*e - 3)) {
		for (ls = *e - 3; ls > *b && ls[-1] == '`'; ls--)
			;
		q = ls;
		while (q > *b && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (q == *b || q[-1] == '\n') {
			*e = q;
			changed = 1;
		}
	}
	return changed;
}

/* Lead-in words of a chatty first line. */
static const char *const lead_words[] = {
	"sure", "certainly", "okay", "ok,", "ok!", "ok.", "of course",
	"absolutely", "great", "got it", "here is", "here's", "here’s",
	"below is", "alright", "all right", NULL
};

/* Words that make a short "...:" line a label of what follows. */
static const char *const label_words[] = {
	"prompt", "instruction", "version", "critique", NULL
};

/* Words of a label that may precede the text on the same line. */
static const char *const inline_label_words[] = {
	"prompt", "instruction", "critique", NULL
};

static int
contains_word(const char *s, size_t n, const char *const *words)
{
	size_t	i, j, len;

	for (i = 0; words[i] != NULL; i++) {
		len = strlen(words[i]);
		for (j = 0; j + len <= n; j++)
			if (strncasecmp(s + j, words[i], len) == 0)
				return 1;
	}
	return 0;
}

static int
starts_with_any(const char *s, const char *const *words)
{
	size_t	i;

	for (i = 0; words[i] != NULL; i++)
		if (reply_prefix(s, words[i]) != 0)
			return 1;
	return 0;
}

/* Markdown around a line's words: '#', '*', '_', '>' and spaces. */
int
reply_md_char(int c)
{
	return c == '#' || c == '*' || c == '_' || c == '>' || c == ' ' ||
	    c == '\t';
}

/*
 * A label or lead-in on the first line: a heading naming the prompt
 * ("### Improved Prompt"), a short line ending in ':' that names it or
 * leads in ("Here is the new prompt:", "**Revised prompt:**"), a chatty
 * line ("Sure! Here's a better one."), or a label before the text on the
 * same line ("**Improved prompt:** Classify ...").
 */
static int
strip_lead(const char **b, const char **e)
{
	const char	*le, *cs, *ce, *rest, *colon, *q;
	size_t		 len;
	int		 heading;

	le = line_end(*b, *e);
	len = (size_t)(le - *b);
	heading = **b == '#';
	for (cs = *b; cs < le && reply_md_char(*cs); cs++)
		;
	for (ce = le; ce > cs && (reply_md_char(ce[-1]) || ce[-1] == '\r');
	    ce--)
		;
	rest = le;
	while (rest < *e && isspace((unsigned char)*rest))
		rest++;
	if (rest < *e && len <= 120 && cs < ce) {
		if ((heading && (contains_word(cs, (size_t)(ce - cs),
		    inline_label_words))) ||
		    (ce[-1] == ':' && (contains_word(cs, (size_t)(ce - cs),
		    label_words) || starts_with_any(cs, lead_words))) ||
		    (starts_with_any(cs, lead_words) && (ce[-1] == ':' ||
		    ce[-1] == '!' || ce[-1] == '.'))) {
			*b = rest;
			return 1;
		}
	}
	/* "Label: text" on one line. */
	if ((colon = memchr(cs, ':', (size_t)(le - cs))) == NULL ||
	    colon - cs > 48 || colon == cs)
		return 0;
	for (q = cs; q < colon; q++)
		if (!isalnum((unsigned char)*q) && *q != ' ' && *q != '-' &&
		    *q != '(' && *q != ')' && *q != '*' && *q != '_')
			return 0;
	if (!contains_word(cs, (size_t)(colon - cs), inline_label_words))
		return 0;
	for (q = colon + 1; q < le && reply_md_char(*q); q++)
		;
	if (q == le)
		return 0;
	*b = q;
	return 1;
}

/* Whether the quote at p is an apostrophe: a letter on both sides. */
static int
apostrophe(const char *s, const char *p, size_t qlen, const char *e)
{
	return p > s && p + qlen < e && isalpha((unsigned char)p[-1]) &&
	    isalpha((unsigned char)p[qlen]);
}

/* Quotes or emphasis around the whole text. */
static int
strip_quotes(const char **b, const char **e)
{
	static const char *const pairs[][2] = {
		{ "\"", "\"" }, { "'", "'" }, { "\xe2\x80\x9c", "\xe2\x80\x9d" },
		{ "\xe2\x80\x98", "\xe2\x80\x99" }, { "\xc2\xab", "\xc2\xbb" },
		{ "`", "`" }, { "**", "**" }, { "__", "__" },
	};
	const char	*s, *t, *p;
	size_t		 i, lo, lc;

	for (i = 0; i < nitems(pairs); i++) {
		lo = strlen(pairs[i][0]);
		lc = strlen(pairs[i][1]);
		if ((size_t)(*e - *b) < lo + lc + 1 ||
		    strncmp(*b, pairs[i][0], lo) != 0 ||
		    strncmp(*e - lc, pairs[i][1], lc) != 0)
			continue;
		s = *b + lo;
		t = *e - lc;
		/* Not when the same quotes are inside ("a" or "b"). */
		for (p = s; p < t; p++) {
			if ((strncmp(p, pairs[i][0], lo) == 0 ||
			    strncmp(p, pairs[i][1], lc) == 0) &&
			    !apostrophe(s, p, lc, t))
				break;
		}
		if (p < t)
			continue;
		*b = s;
		*e = t;
		return 1;
	}
	return 0;
}

/* Openers of a closing remark after the prompt. */
static const char *const remark_words[] = {
	"let me know", "i hope", "hope this", "feel free", "this prompt",
	"this version", "this revised", "this new", "this improved",
	"this rewrite", "this updated", "this should", "the prompt above",
	"the above prompt", "the revised prompt", "the new prompt",
	"the improved prompt", "explanation", "why this", "changes made",
	"key changes", "changes:", "improvements", "i've ", "i have ",
	"i made", "i added", "i removed", "i kept", "i changed",
	"i focused", "i’ve ", NULL
};

/* A closing remark: the last paragraph, when it talks about the rest. */
static int
strip_remark(const char **b, const char **e)
{
	const char	*p, *q, *par = NULL;

	/* The last blank line. */
	for (p = *e - 1; p > *b; p--) {
		if (*p != '\n')
			continue;
		for (q = p - 1; q > *b && (*q == ' ' || *q == '\t' ||
		    *q == '\r'); q--)
			;
		if (*q == '\n') {
			par = p + 1;
			break;
		}
	}
	if (par == NULL)
		return 0;
	while (par < *e && (reply_md_char(*par) || *par == '-' ||
	    isspace((unsigned char)*par)))
		par++;
	if (!starts_with_any(par, remark_words))
		return 0;
	*e = p;
	return 1;
}

char *
reply_clean(const char *text, size_t len)
{
	const char	*b = text, *e = text + len;
	int		 changed;

	do {
		trim(&b, &e);
		changed = strip_fences(&b, &e);
		trim(&b, &e);
		changed |= strip_lead(&b, &e);
		trim(&b, &e);
		changed |= strip_quotes(&b, &e);
		trim(&b, &e);
		changed |= strip_remark(&b, &e);
	} while (changed && b < e);
	trim(&b, &e);
	return xstrndup(b, (size_t)(e - b));
}

char *
reply_unthink(const char *text)
{
	static const char *const tags[] = { "think", "thinking", "reasoning" };
	char		*s = xstrdup(text);
	const char	*o, *c, *body, *cend;
	size_t		 i;

	for (i = 0; i < nitems(tags); i++) {
		/* A closing tag with no opening one: all before it goes. */
		c = next_close(s, s, tags[i], &cend);
		o = next_open(s, s, tags[i], &body);
		if (c != NULL && (o == NULL || c < o))
			memmove(s, cend, strlen(cend) + 1);
		while ((o = next_open(s, s, tags[i], &body)) != NULL) {
			if (next_close(s, body, tags[i], &cend) == NULL)
				cend = s + strlen(s);
			memmove(s + (o - s), cend, strlen(cend) + 1);
		}
	}
	return s;
}

size_t
reply_elements(const char *text, const char *tag, char ***out)
{
	struct span	*sp;
	size_t		 n, i, k = 0;
	char		*s;

	n = reply_spans(text, tag, &sp);
	*out = xcalloc(n + 1, sizeof **out);
	for (i = 0; i < n; i++) {
		s = reply_clean(text + sp[i].body, sp[i].bodyend - sp[i].body);
		if (*s == '\0' || placeholder(s, s + strlen(s))) {
			free(s);
			continue;
		}
		(*out)[k++] = s;
	}
	free(sp);
	if (k == 0) {
		free(*out);
		*out = NULL;
	}
	return k;
}

char *
reply_norm(const char *text)
{
	struct strbuf	 sb;
	const char	*p;
	int		 space = 0;

	strbuf_init(&sb);
	for (p = text; *p != '\0'; p++) {
		if (*p == '*' || *p == '_' || *p == '"' || *p == '`' ||
		    *p == '\'')
			continue;
		/* Curly quotes: e2 80 98, 99, 9c, 9d. */
		if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
		    ((unsigned char)p[2] == 0x98 || (unsigned char)p[2] == 0x99 ||
		    (unsigned char)p[2] == 0x9c || (unsigned char)p[2] == 0x9d)) {
			p += 2;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			strbuf_addc(&sb, ' ');
		space = 0;
		strbuf_addc(&sb, (char)tolower((unsigned char)*p));
	}
	while (sb.len > 0 && strchr(".!?;:, ", sb.buf[sb.len - 1]) != NULL)
		sb.buf[--sb.len] = '\0';
	if (sb.buf == NULL)
		return xstrdup("");
	return strbuf_detach(&sb);
}

/* The hashes of the runs of six words of text, sorted. */
#define SHINGLE	6

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t
shingles(const char *text, uint64_t **out)
{
	uint64_t	 words[SHINGLE], h, *v = NULL;
	size_t		 nw = 0, n = 0, cap = 0, i;
	const char	*p = text;
	char		 buf[64];
	size_t		 len;

	for (;;) {
		while (*p != '\0' && !word_char(*p))
			p++;
		if (*p == '\0')
			break;
		for (len = 0; word_char(*p); p++)
			if (len < sizeof buf)
				buf[len++] = (char)tolower((unsigned char)*p);
		words[nw % SHINGLE] = hash64(buf, len, 0);
		if (++nw < SHINGLE)
			continue;
		h = 0;
		for (i = 0; i < SHINGLE; i++)
			h = hash_mix(h, words[(nw + i) % SHINGLE]);
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n++] = h;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, u64_cmp);
	*out = v;
	return n;
}

int
reply_restates(const char *text, const char *instructions, const char *tag)
{
	struct strbuf	 sb;
	struct span	*sp;
	uint64_t	*mine, *theirs;
	size_t		 nm, nt, ns, i, at = 0, hits = 0;

	if (instructions == NULL)
		return 0;
	/* The instructions without the elements they show. */
	ns = reply_spans(instructions, tag, &sp);
	strbuf_init(&sb);
	for (i = 0; i < ns; i++) {
		strbuf_add(&sb, instructions + at, sp[i].open - at);
		strbuf_addc(&sb, '\n');
		at = sp[i].end;
	}
	strbuf_adds(&sb, instructions + at);
	free(sp);
	nm = shingles(text, &mine);
	nt = shingles(sb.buf != NULL ? sb.buf : "", &theirs);
	strbuf_release(&sb);
	for (i = 0; i < nm; i++)
		if (nt > 0 && bsearch(&mine[i], theirs, nt, sizeof *theirs,
		    u64_cmp) != NULL)
			hits++;
	free(mine);
	free(theirs);
	return nm > 0 && hits * 2 >= nm;
}

char *
reply_excerpt(const char *text, size_t max)
{
	size_t	n;

	if (text == NULL)
		return xstrdup("");
	if ((n = strlen(text)) <= max)
		return xstrdup(text);
	/* Back off to the first byte of a character. */
	for (n = max; n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80; n--)
		;
	return xasprintf("%.*s...", (int)n, text);
}

static const char *const refusal_words[] = {
	"i'm sorry", "i am sorry", "sorry, ", "sorry but", "i apologize",
	"i can't", "i cannot", "i can not", "i won't", "i will not",
	"i'm unable", "i am unable", "i'm not able", "i am not able",
	"as an ai", "unfortunately, i can", "unfortunately, i am",
	"unfortunately, i'm", "i must decline", "i'm afraid i can",
	"i am afraid i can", "i do not feel comfortable",
	"i don't feel comfortable", NULL
};

int
reply_refusal(const char *text)
{
	char	buf[64];
	size_t	i = 0, len = strlen(text);

	while (*text != '\0' && (reply_md_char(*text) || isspace((unsigned char)
	    *text)))
		text++;
	/* A refusal is short: a long reply that starts so is an answer. */
	if (len > 600)
		return 0;
	for (; *text != '\0' && i + 1 < sizeof buf; text++) {
		/* The typographic apostrophe as the plain one. */
		if ((unsigned char)text[0] == 0xe2 &&
		    (unsigned char)text[1] == 0x80 &&
		    (unsigned char)text[2] == 0x99) {
			buf[i++] = '\'';
			text += 2;
		} else
			buf[i++] = *text;
	}
	buf[i] = '\0';
	return starts_with_any(buf, refusal_words);
}

/* The elements shown in a request, normalized. */
static size_t
reply_shown(const char *meta, const char *tag, char ***out)
{
	size_t	n, i;

	*out = NULL;
	if (meta == NULL)
		return 0;
	n = reply_elements(meta, tag, out);
	for (i = 0; i < n; i++) {
		char	*norm = reply_norm((*out)[i]);

		free((*out)[i]);
		(*out)[i] = norm;
	}
	return n;
}

static int
in_list(char *const *list, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* The reply without its elements: what the model said around them. */
static char *
reply_outside(const char *text, const struct span *sp, size_t n)
{
	struct strbuf	 sb;
	size_t		 i, at = 0;
	char		*out;

	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		strbuf_add(&sb, text + at, sp[i].open - at);
		at = sp[i].end;
	}
	strbuf_adds(&sb, text + at);
	out = trim_dup(sb.buf != NULL ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return out;
}

void
reply_read(const char *reply, const char *tag, const char *meta,
    const char *instructions, size_t max_bytes, size_t max,
    struct reply_read *r)
{
	struct span	*sp;
	char		*text, **shown, **kept, *s, *norm;
	size_t		 nsp, nshown, i, len, refusals = 0;
	int		 thinking;

	memset(r, 0, sizeof *r);
	text = reply_unthink(reply != NULL ? reply : "");
	thinking = *text == '\0' && reply != NULL && *reply != '\0';
	nsp = reply_spans(text, tag, &sp);
	nshown = reply_shown(meta, tag, &shown);
	kept = xcalloc(nsp + 1, sizeof *kept);
	for (i = 0; i < nsp; i++) {
		s = reply_clean(text + sp[i].body, sp[i].bodyend - sp[i].body);
		if (*s == '\0' || placeholder(s, s + strlen(s))) {
			free(s);
			continue;
		}
		r->found++;
		len = strlen(s);
		if (len > r->longest)
			r->longest = len;
		norm = reply_norm(s);
		if (reply_refusal(s))
			refusals++;
		else if (in_list(shown, nshown, norm) ||
		    reply_restates(s, instructions, tag))
			r->echoes++;
		else if (max_bytes > 0 && len > max_bytes)
			r->too_long++;
		else if (!in_list(kept, r->n, norm) && r->n < max) {
			kept[r->n] = norm;
			norm = NULL;
			r->items = xreallocarray(r->items, r->n + 1,
			    sizeof *r->items);
			r->items[r->n++] = s;
			s = NULL;
		}
		free(norm);
		free(s);
	}
	r->rationale = reply_outside(text, sp, nsp);
	if (r->n > 0)
		r->outcome = REPLY_USABLE;
	else if (r->too_long > 0) {
		r->outcome = REPLY_TOO_LONG;
		r->problem = xasprintf("the <%s> element is %zu bytes long, "
		    "over the limit of %zu", tag, r->longest, max_bytes);
	} else if (r->echoes > 0) {
		r->outcome = REPLY_ECHO;
		r->problem = xasprintf("the <%s> element repeats what you "
		    "were given instead of a new one", tag);
	} else if (refusals > 0 || (r->found == 0 && reply_refusal(text))) {
		r->outcome = REPLY_REFUSED;
		r->problem = xstrdup("the reply declines the task");
	} else {
		r->outcome = REPLY_UNREADABLE;
		if (thinking)
			r->problem = xasprintf("the reply ended inside a "
			    "<think> block, with no <%s> element", tag);
		else if (*text == '\0')
			r->problem = xstrdup("the reply is empty");
		else
			r->problem = xasprintf("no <%s> element found", tag);
	}
	for (i = 0; i < nshown; i++)
		free(shown[i]);
	free(shown);
	for (i = 0; i < r->n; i++)
		free(kept[i]);
	free(kept);
	free(sp);
	free(text);
}

void
reply_read_release(struct reply_read *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->items[i]);
	free(r->items);
	free(r->rationale);
	free(r->problem);
	memset(r, 0, sizeof *r);
}
