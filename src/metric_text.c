/*
 * Text metrics: exact, contains, regex, f1 (SQuAD token overlap) and set
 * (order-free lists).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "jsonc.h"
#include "metric.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Normalizations, applied in this order. */
#define NORM_CASE		0x1
#define NORM_PUNCTUATION	0x2
#define NORM_ARTICLES		0x4
#define NORM_WHITESPACE		0x8

/* How many alternatives or set items feedback names before "...". */
#define TEXT_LIST_MAX	5

/* The {{expected}} placeholder of the regex metric. */
#define TEXT_PLACEHOLDER	"{{expected}}"

static const char *const text_norm_names[] = {
	"case", "punctuation", "articles", "whitespace", NULL
};

struct text_match {
	int	 norm;		/* NORM_* */
};

struct text_regex {
	pcre2_code	*re;		/* NULL for a template */
	char		*pattern;
	int		 full;
};

enum set_score {
	SET_JACCARD,
	SET_EXACT,
	SET_F1
};

struct text_set {
	char		*sep;
	enum set_score	 how;
};

/* A list of allocated strings. */
struct text_list {
	char	**v;
	size_t	  n;
};

static void
text_list_add(struct text_list *l, char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = s;
}

static void
text_list_free(struct text_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends "'a', 'b', 'c'" to sb, naming at most TEXT_LIST_MAX items. */
static void
text_list_quote(struct strbuf *sb, const struct text_list *l)
{
	size_t	 i;
	char	*q;

	for (i = 0; i < l->n && i < TEXT_LIST_MAX; i++) {
		q = metric_quote(l->v[i]);
		strbuf_addf(sb, "%s'%s'", i == 0 ? "" : ", ", q);
		free(q);
	}
	if (l->n > TEXT_LIST_MAX)
		strbuf_addf(sb, " and %zu more", l->n - TEXT_LIST_MAX);
}

/*
 * The length in bytes of the white-space character at p, or 0: ASCII
 * white space, no-break space, the Unicode spaces U+2000 to U+200A,
 * U+202F, U+205F and the ideographic space U+3000.
 */
static size_t
text_space(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	switch (u[0]) {
	case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
		return 1;
	case 0xc2:
		return u[1] == 0xa0 ? 2 : 0;
	case 0xe2:
		if (u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8a) ||
		    u[2] == 0xaf))
			return 3;
		if (u[1] == 0x81 && u[2] == 0x9f)
			return 3;
		return 0;
	case 0xe3:
		return u[1] == 0x80 && u[2] == 0x80 ? 3 : 0;
	default:
		return 0;
	}
}

static int
text_is_article(const char *w, size_t n)
{
	return (n == 1 && strncasecmp(w, "a", 1) == 0) ||
	    (n == 2 && strncasecmp(w, "an", 2) == 0) ||
	    (n == 3 && strncasecmp(w, "the", 3) == 0);
}

/* Drops the words a, an and the, with the white space that follows. */
static char *
text_drop_articles(const char *s)
{
	struct strbuf	 sb;
	size_t		 n, w;

	strbuf_init(&sb);
	while (*s != '\0') {
		while ((n = text_space(s)) != 0) {
			strbuf_add(&sb, s, n);
			s += n;
		}
		for (w = 0; s[w] != '\0' && text_space(s + w) == 0; w++)
			/* nothing */;
		if (w == 0)
			break;
		if (!text_is_article(s, w)) {
			strbuf_add(&sb, s, w);
			s += w;
			continue;
		}
		s += w;
		if (*s == '\0') {
			/* A last article: drop the space before it instead. */
			while (sb.len > 0 && isspace((unsigned char)
			    sb.buf[sb.len - 1]))
				sb.buf[--sb.len] = '\0';
		}
		while ((n = text_space(s)) != 0)
			s += n;
	}
	return strbuf_detach(&sb);
}

/* Trims white space and turns each run of it into one space. */
static char *
text_squeeze(const char *s)
{
	struct strbuf	 sb;
	size_t		 n;
	int		 space = 0;

	strbuf_init(&sb);
	while (*s != '\0') {
		if ((n = text_space(s)) != 0) {
			space = 1;
			s += n;
			continue;
		}
		if (space && sb.len > 0)
			strbuf_addc(&sb, ' ');
		space = 0;
		strbuf_addc(&sb, *s++);
	}
	return strbuf_detach(&sb);
}

/*
 * Normalizes s (UTF-8) as flags say.  Case folding and punctuation are
 * ASCII only, so multibyte characters are never split or changed.
 */
static char *
text_normalize(const char *s, int flags)
{
	struct strbuf	 sb;
	char		*t, *u;
	unsigned char	 c;

	strbuf_init(&sb);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((flags & NORM_PUNCTUATION) && c < 0x80 && ispunct(c))
			continue;
		if ((flags & NORM_CASE) && c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		strbuf_addc(&sb, (char)c);
	}
	t = strbuf_detach(&sb);
	if (flags & NORM_ARTICLES) {
		u = text_drop_articles(t);
		free(t);
		t = u;
	}
	if (flags & NORM_WHITESPACE) {
		u = text_squeeze(t);
		free(t);
		t = u;
	}
	return t;
}

/*
 * Reads the "normalize" option: an array of names (or one name).  Returns
 * the flags, def when absent, or -1 after recording errors.
 */
static int
text_norm_option(struct jdoc *doc, const cJSON *conf, const char *path,
    int def)
{
	const cJSON	*v, *item;
	const char	*near;
	char		*p, *ip;
	size_t		 i, n;
	int		 flags = 0, bad = 0;

	n = doc->nerrors;
	v = jv_get(doc, conf, path, "normalize", JV_STRING | JV_ARRAY, 0);
	if (v == NULL)
		return doc->nerrors > n ? -1 : def;
	p = jv_path(path, "normalize");
	n = 0;
	for (item = cJSON_IsArray(v) ? v->child : v; item != NULL;
	    item = cJSON_IsArray(v) ? item->next : NULL, n++) {
		ip = cJSON_IsArray(v) ? jv_path_index(p, n) : xstrdup(p);
		if (!cJSON_IsString(item)) {
			jv_error(doc, item, ip, "expected a string");
			bad = 1;
			free(ip);
			continue;
		}
		for (i = 0; text_norm_names[i] != NULL; i++) {
			if (strcmp(text_norm_names[i], item->valuestring) == 0)
				break;
		}
		if (text_norm_names[i] != NULL)
			flags |= 1 << i;
		else {
			if ((near = suggest(item->valuestring,
			    text_norm_names)) != NULL)
				jv_error(doc, item, ip, "unknown normalization "
				    "'%s' (did you mean '%s'?)",
				    item->valuestring, near);
			else
				jv_error(doc, item, ip, "unknown normalization "
				    "'%s' (expected case, whitespace, "
				    "punctuation or articles)",
				    item->valuestring);
			bad = 1;
		}
		free(ip);
	}
	free(p);
	return bad ? -1 : flags;
}

/* The texts an expected value allows: an array is "any of these". */
static void
text_expected(const cJSON *expected, struct text_list *l)
{
	const cJSON	*item;

	l->v = NULL;
	l->n = 0;
	if (expected == NULL)
		return;
	if (cJSON_IsArray(expected)) {
		cJSON_ArrayForEach(item, expected)
			text_list_add(l, json_text(item));
		return;
	}
	text_list_add(l, json_text(expected));
}

/* "expected 'a', got 'b'" or "expected one of 'a', 'b', got 'c'". */
static char *
text_feedback(const char *verb, const struct text_list *l, const char *got)
{
	struct strbuf	 sb;
	char		*q;

	strbuf_init(&sb);
	if (l->n == 0)
		strbuf_adds(&sb, "the expected list is empty");
	else {
		strbuf_addf(&sb, "expected %s%s", verb, l->n > 1 ? "one of " :
		    "");
		text_list_quote(&sb, l);
	}
	q = metric_quote(got);
	strbuf_addf(&sb, ", got '%s'", q);
	free(q);
	return strbuf_detach(&sb);
}

static void
text_free(struct metric *m)
{
	free(m->data);
	m->data = NULL;
}

/* exact and contains. */

static const char *const text_match_keys[] = { "normalize", NULL };

static int
text_match_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path, int def)
{
	struct text_match	*tm;
	int			 flags;

	m->data = tm = xcalloc(1, sizeof *tm);
	if ((flags = text_norm_option(doc, conf, path, def)) == -1)
		return -1;
	tm->norm = flags;
	return 0;
}

static int
text_exact_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	return text_match_init(m, doc, conf, path, NORM_WHITESPACE);
}

static int
text_contains_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	return text_match_init(m, doc, conf, path, NORM_CASE | NORM_WHITESPACE);
}

static double
text_match_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback, int contains)
{
	const struct text_match	*tm = m->data;
	struct text_list	 l;
	char			*out, *exp;
	size_t			 i;
	int			 hit = 0;

	if (expected == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("the example has no expected "
			    "value");
		return 0;
	}
	text_expected(expected, &l);
	out = text_normalize(output, tm->norm);
	for (i = 0; i < l.n && !hit; i++) {
		exp = text_normalize(l.v[i], tm->norm);
		if (contains)
			hit = strstr(out, exp) != NULL;
		else
			hit = strcmp(out, exp) == 0;
		free(exp);
	}
	free(out);
	if (!hit && feedback != NULL)
		*feedback = text_feedback(contains ? "the output to contain " :
		    "", &l, output);
	text_list_free(&l);
	return hit ? 1 : 0;
}

static double
text_exact_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	return text_match_score(m, output, expected, feedback, 0);
}

static double
text_contains_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	return text_match_score(m, output, expected, feedback, 1);
}

const struct metric_ops metric_exact_ops = {
	.name = "exact",
	.keys = text_match_keys,
	.init = text_exact_init,
	.score = text_exact_score,
	.free = text_free
};

const struct metric_ops metric_contains_ops = {
	.name = "contains",
	.keys = text_match_keys,
	.init = text_contains_init,
	.score = text_contains_score,
	.free = text_free
};

/* regex. */

static const char *const text_regex_keys[] = { "pattern", "full", NULL };

/* PCRE2 source matching s literally: ASCII punctuation escaped. */
static void
text_regex_quote(struct strbuf *sb, const char *s)
{
	unsigned char	c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c < 0x80 && !isalnum(c))
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, (char)c);
	}
}

/*
 * Replaces each {{expected}} in pattern with with.  When map is not NULL
 * it receives the offsets (in the result) where replacements start.
 */
static char *
text_regex_expand(const char *pattern, const char *with, size_t **map,
    size_t *nmap)
{
	struct strbuf	 sb;
	const char	*p;
	size_t		 plen = strlen(TEXT_PLACEHOLDER);

	strbuf_init(&sb);
	if (map != NULL) {
		*map = NULL;
		*nmap = 0;
	}
	while ((p = strstr(pattern, TEXT_PLACEHOLDER)) != NULL) {
		strbuf_add(&sb, pattern, (size_t)(p - pattern));
		if (map != NULL) {
			*map = xreallocarray(*map, *nmap + 1, sizeof **map);
			(*map)[(*nmap)++] = sb.len;
		}
		strbuf_adds(&sb, with);
		pattern = p + plen;
	}
	strbuf_adds(&sb, pattern);
	return strbuf_detach(&sb);
}

static unsigned int
text_regex_flags(const struct text_regex *tr)
{
	return tr->full ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0;
}

static int
text_regex_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct text_regex	*tr;
	const char		*pattern;
	char			*src, *p, *msg = NULL;
	size_t			*map = NULL, nmap = 0, off, i, k;
	int			 rc = -1, bad;
	pcre2_code		*re;

	m->data = tr = xcalloc(1, sizeof *tr);
	bad = jv_bool(doc, conf, path, "full", 0, &tr->full) == -1;
	if (jv_string(doc, conf, path, "pattern", 1, &pattern) != 1)
		return -1;
	tr->pattern = xstrdup(pattern);

	/*
	 * A template is checked with a stand-in for the expected text (one
	 * letter, valid wherever a quoted text is), and the error offset is
	 * mapped back to the pattern as written.
	 */
	src = text_regex_expand(pattern, "x", &map, &nmap);
	re = metric_regex_new(src, strlen(src), text_regex_flags(tr), &off,
	    &msg);
	if (re == NULL) {
		for (i = 0, k = off; i < nmap && map[i] < off; i++)
			k += strlen(TEXT_PLACEHOLDER) - 1;
		p = jv_path(path, "pattern");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf, "pattern"),
		    p, "invalid regex at offset %zu: %s", k, msg);
		free(p);
		goto out;
	}
	if (nmap == 0)
		tr->re = re;
	else
		pcre2_code_free(re);
	rc = bad ? -1 : 0;
out:
	free(msg);
	free(map);
	free(src);
	return rc;
}

/* Does re match output?  Match errors (limits) count as no match. */
static int
text_regex_matches(const pcre2_code *re, const char *output)
{
	pcre2_match_data	*md;
	int			 rc;

	if ((md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL)
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)output, strlen(output), 0, 0, md,
	    NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static double
text_regex_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	const struct text_regex	*tr = m->data;
	pcre2_code		*re = tr->re;
	struct text_list	 l;
	struct strbuf		 sb;
	char			*src, *msg = NULL, *q, *qp;
	size_t			 off, i;
	int			 hit;

	if (re == NULL) {
		if (expected == NULL) {
			if (feedback != NULL)
				*feedback = xstrdup("the example has no "
				    "expected value for {{expected}}");
			return 0;
		}
		/* The expected text quoted; several are alternatives. */
		text_expected(expected, &l);
		strbuf_init(&sb);
		if (l.n != 1)
			strbuf_adds(&sb, "(?:");
		for (i = 0; i < l.n; i++) {
			if (i != 0)
				strbuf_addc(&sb, '|');
			text_regex_quote(&sb, l.v[i]);
		}
		if (l.n != 1)
			strbuf_addc(&sb, ')');
		text_list_free(&l);
		src = text_regex_expand(tr->pattern, sb.buf != NULL ? sb.buf :
		    "", NULL, NULL);
		strbuf_release(&sb);
		re = metric_regex_new(src, strlen(src), text_regex_flags(tr),
		    &off, &msg);
		free(src);
		if (re == NULL) {
			if (feedback != NULL)
				*feedback = xasprintf("invalid regex with the "
				    "expected value at offset %zu: %s", off,
				    msg);
			free(msg);
			return 0;
		}
	}
	hit = text_regex_matches(re, output);
	if (re != tr->re)
		pcre2_code_free(re);
	if (!hit && feedback != NULL) {
		q = metric_quote(output);
		qp = metric_quote(tr->pattern);
		*feedback = xasprintf("expected the output to %s /%s/, got "
		    "'%s'", tr->full ? "fully match" : "match", qp, q);
		free(qp);
		free(q);
	}
	return hit ? 1 : 0;
}

static void
text_regex_free(struct metric *m)
{
	struct text_regex	*tr = m->data;

	if (tr == NULL)
		return;
	pcre2_code_free(tr->re);
	free(tr->pattern);
	free(tr);
	m->data = NULL;
}

const struct metric_ops metric_regex_ops = {
	.name = "regex",
	.keys = text_regex_keys,
	.init = text_regex_init,
	.score = text_regex_score,
	.free = text_regex_free
};

/* f1. */

static int
text_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits s on sep (dropping empty items), each item normalized by norm. */
static void
text_split(const char *s, const char *sep, int norm, struct text_list *l)
{
	const char	*p;
	size_t		 seplen = strlen(sep);
	char		*item, *t;

	for (;;) {
		p = strstr(s, sep);
		item = p != NULL ? xstrndup(s, (size_t)(p - s)) : xstrdup(s);
		t = text_normalize(item, norm);
		free(item);
		if (*t != '\0')
			text_list_add(l, t);
		else
			free(t);
		if (p == NULL)
			break;
		s = p + seplen;
	}
}

/* SQuAD tokens: lower case, no punctuation or articles, sorted. */
static void
text_tokens(const char *s, struct text_list *l)
{
	char	*t;

	l->v = NULL;
	l->n = 0;
	t = text_normalize(s, NORM_CASE | NORM_PUNCTUATION | NORM_ARTICLES |
	    NORM_WHITESPACE);
	text_split(t, " ", 0, l);
	free(t);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, text_cmp);
}

/* The size of the intersection of two sorted lists (as multisets). */
static size_t
text_common(const struct text_list *a, const struct text_list *b)
{
	size_t	i = 0, j = 0, n = 0;
	int	c;

	while (i < a->n && j < b->n) {
		c = strcmp(a->v[i], b->v[j]);
		if (c == 0) {
			n++;
			i++;
			j++;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	return n;
}

static double
text_f1(const struct text_list *out, const struct text_list *ref)
{
	size_t	common;
	double	p, r;

	/* As in SQuAD: with no tokens on a side, only no tokens match. */
	if (out->n == 0 || ref->n == 0)
		return out->n == ref->n ? 1 : 0;
	if ((common = text_common(out, ref)) == 0)
		return 0;
	p = (double)common / (double)out->n;
	r = (double)common / (double)ref->n;
	return 2 * p * r / (p + r);
}

static double
text_f1_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	struct text_list	 l, out, ref;
	double			 best = 0, f;
	size_t			 i, besti = 0;
	char			*qe, *qo;

	if (expected == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("the example has no expected "
			    "value");
		return 0;
	}
	text_expected(expected, &l);
	text_tokens(output, &out);
	for (i = 0; i < l.n; i++) {
		text_tokens(l.v[i], &ref);
		f = text_f1(&out, &ref);
		text_list_free(&ref);
		if (f > best || i == 0) {
			best = f;
			besti = i;
		}
	}
	text_list_free(&out);
	if (best < 1 && feedback != NULL) {
		qe = metric_quote(l.n > 0 ? l.v[besti] : "");
		qo = metric_quote(output);
		*feedback = xasprintf("token F1 %.2f: expected '%s', got '%s'",
		    best, qe, qo);
		free(qo);
		free(qe);
	}
	text_list_free(&l);
	return best;
}

const struct metric_ops metric_f1_ops = {
	.name = "f1",
	.keys = NULL,
	.init = NULL,
	.score = text_f1_score,
	.free = NULL
};

/* set. */

static const char *const text_set_keys[] = { "separator", "score", NULL };
static const char *const text_set_scores[] = {
	"jaccard", "exact", "f1", NULL
};

static int
text_set_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct text_set	*ts;
	const char	*sep = ",";
	char		*p;
	int		 how = SET_JACCARD, rc = 0;

	m->data = ts = xcalloc(1, sizeof *ts);
	if (jv_string(doc, conf, path, "separator", 0, &sep) == -1)
		rc = -1;
	else if (*sep == '\0') {
		p = jv_path(path, "separator");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "separator"), p, "expected a non-empty string");
		free(p);
		rc = -1;
	}
	ts->sep = xstrdup(sep);
	if (jv_enum(doc, conf, path, "score", 0, text_set_scores, &how) == -1)
		rc = -1;
	ts->how = (enum set_score)how;
	return rc;
}

/* Sorts a list and drops repeated items. */
static void
text_uniq(struct text_list *l)
{
	size_t	i, n = 0;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof *l->v, text_cmp);
	for (i = 0; i < l->n; i++) {
		if (n > 0 && strcmp(l->v[n - 1], l->v[i]) == 0)
			free(l->v[i]);
		else
			l->v[n++] = l->v[i];
	}
	l->n = n;
}

/* Items of a that are not in b (both sorted and unique). */
static void
text_minus(const struct text_list *a, const struct text_list *b,
    struct text_list *out)
{
	size_t	i = 0, j = 0;
	int	c;

	while (i < a->n) {
		c = j < b->n ? strcmp(a->v[i], b->v[j]) : -1;
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0)
			text_list_add(out, xstrdup(a->v[i++]));
		else
			j++;
	}
}

static double
text_set_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	const struct text_set	*ts = m->data;
	const int		 norm = NORM_CASE | NORM_WHITESPACE;
	struct text_list	 out = { NULL, 0 }, exp = { NULL, 0 };
	struct text_list	 missing = { NULL, 0 }, extra = { NULL, 0 };
	const cJSON		*item;
	struct strbuf		 sb;
	size_t			 common, nunion;
	double			 score, p, r;
	char			*t, *n;

	if (expected == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("the example has no expected "
			    "value");
		return 0;
	}
	if (cJSON_IsArray(expected)) {
		cJSON_ArrayForEach(item, expected) {
			t = json_text(item);
			n = text_normalize(t, norm);
			free(t);
			if (*n != '\0')
				text_list_add(&exp, n);
			else
				free(n);
		}
	} else {
		t = json_text(expected);
		text_split(t, ts->sep, norm, &exp);
		free(t);
	}
	text_split(output, ts->sep, norm, &out);
	text_uniq(&exp);
	text_uniq(&out);

	common = text_common(&out, &exp);
	nunion = out.n + exp.n - common;
	switch (ts->how) {
	case SET_EXACT:
		score = common == nunion ? 1 : 0;
		break;
	case SET_F1:
		if (out.n == 0 || exp.n == 0)
			score = out.n == exp.n ? 1 : 0;
		else if (common == 0)
			score = 0;
		else {
			p = (double)common / (double)out.n;
			r = (double)common / (double)exp.n;
			score = 2 * p * r / (p + r);
		}
		break;
	case SET_JACCARD:
	default:
		score = nunion == 0 ? 1 : (double)common / (double)nunion;
		break;
	}
	if (score < 1 && feedback != NULL) {
		text_minus(&exp, &out, &missing);
		text_minus(&out, &exp, &extra);
		strbuf_init(&sb);
		if (missing.n > 0) {
			strbuf_adds(&sb, "missing ");
			text_list_quote(&sb, &missing);
		}
		if (extra.n > 0) {
			strbuf_adds(&sb, missing.n > 0 ? "; unexpected " :
			    "unexpected ");
			text_list_quote(&sb, &extra);
		}
		*feedback = strbuf_detach(&sb);
		text_list_free(&missing);
		text_list_free(&extra);
	}
	text_list_free(&out);
	text_list_free(&exp);
	return score;
}

static void
text_set_free(struct metric *m)
{
	struct text_set	*ts = m->data;

	if (ts == NULL)
		return;
	free(ts->sep);
	free(ts);
	m->data = NULL;
}

const struct metric_ops metric_set_ops = {
	.name = "set",
	.keys = text_set_keys,
	.init = text_set_init,
	.score = text_set_score,
	.free = text_set_free
};
