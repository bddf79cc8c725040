/*
 * Text helpers of the simulated world: words (case and boundaries),
 * growable lists of strings, sentences, <tag> blocks and numbers.  Words
 * themselves are textfeat's: the world and its embeddings read text the
 * same way.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

int
sim_is_alnum(int c)
{
	return isalnum((unsigned char)c);
}

char *
sim_req_system(const struct model_req *req)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role != MSG_SYSTEM ||
		    req->msgs[i].content == NULL)
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, '\n');
		strbuf_adds(&sb, req->msgs[i].content);
	}
	return strbuf_detach(&sb);
}

char *
sim_lower_dup(const char *s)
{
	char	*l = xstrdup(s), *p;

	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* Where lower-case needle occurs in lower-case hay at word boundaries. */
const char *
sim_find_word(const char *hay, const char *needle)
{
	const char	*q = hay;
	size_t		 n = strlen(needle);

	if (n == 0)
		return NULL;
	while ((q = strstr(q, needle)) != NULL) {
		if ((q == hay || !sim_is_alnum(q[-1]) ||
		    !sim_is_alnum(needle[0])) && (!sim_is_alnum(q[n]) ||
		    !sim_is_alnum(needle[n - 1])))
			return q;
		q++;
	}
	return NULL;
}

int
sim_has_word(const char *hay, const char *needle)
{
	return sim_find_word(hay, needle) != NULL;
}

size_t
sim_count_words(const char *s)
{
	size_t	pos = 0, st, len, n = 0;

	while (textfeat_word_next(s, &pos, &st, &len))
		n++;
	return n;
}

void
sim_list_add(struct sim_list *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(s);
}

void
sim_list_free(struct sim_list *l)
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
void
sim_sentences_split(const char *text, struct sim_list *out)
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
				sim_list_add(out, s);
			free(s);
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
}

/*
 * Finds the next block <tag ...>body</tag> at or after *pos (the last
 * opening tag before the first closing one, so a mention of "<tag>" in
 * prose does not swallow the real block).  Sets the body and the text
 * between the tag's name and its '>' (attributes), and moves *pos past
 * the block.  Returns 0 when there is none.
 */
int
sim_tag_next(const char *text, const char *tag, const char **pos,
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

int
sim_tag_has(const char *text, const char *tag)
{
	const char	*pos = text, *body;
	size_t		 len;

	return sim_tag_next(text, tag, &pos, &body, &len, NULL, NULL);
}

/* Copies text with the bodies of the named blocks cut out. */
char *
sim_tags_strip(const char *text, const char *const *tags)
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
			if (!sim_tag_next(cur, tags[i], &pos, &body, &len, NULL,
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

/* The last number in s (an optional minus, digits, commas, a fraction). */
int
sim_last_number(const char *s, double *out)
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

/* Whether s (trimmed) is a number; commas between digits are allowed. */
int
sim_parse_number(const char *s, double *out)
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

int
sim_numbers_equal(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

/* A template with one "%s" filled in (templates are not formats). */
char *
sim_fill(const char *tmpl, const char *arg)
{
	const char	*p = strstr(tmpl, "%s");

	if (p == NULL)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(p - tmpl), tmpl, arg, p + 2);
}
