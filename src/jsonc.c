/* JSON with comments: a position-keeping parser and validation helpers. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "jsonc.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define JSONC_MAX_DEPTH	128

struct jparser {
	struct jdoc	*doc;
	const char	*p;
	const char	*end;
	unsigned	 line;
	unsigned	 col;
	char		*error;
	unsigned	 eline;
	unsigned	 ecol;
	int		 depth;
};

static size_t
jpos_slot(const struct jdoc *doc, const cJSON *node)
{
	uintptr_t	v = (uintptr_t)node;

	return (size_t)hash_mix((uint64_t)v, 0) & (doc->cappos - 1);
}

static struct jpos *
jpos_find(const struct jdoc *doc, const cJSON *node)
{
	size_t	s;

	if (doc == NULL || node == NULL || doc->cappos == 0)
		return NULL;
	s = jpos_slot(doc, node);
	while (doc->pos[s].node != NULL) {
		if (doc->pos[s].node == node)
			return &doc->pos[s];
		s = (s + 1) & (doc->cappos - 1);
	}
	return NULL;
}

static void
jpos_add(struct jdoc *doc, const cJSON *node, unsigned line, unsigned col)
{
	struct jpos	*old = doc->pos;
	size_t		 oldcap = doc->cappos, i, s;

	if ((doc->npos + 1) * 2 > doc->cappos) {
		doc->cappos = oldcap == 0 ? 64 : oldcap * 2;
		doc->pos = xcalloc(doc->cappos, sizeof *doc->pos);
		for (i = 0; i < oldcap; i++) {
			if (old[i].node == NULL)
				continue;
			s = jpos_slot(doc, old[i].node);
			while (doc->pos[s].node != NULL)
				s = (s + 1) & (doc->cappos - 1);
			doc->pos[s] = old[i];
		}
		free(old);
	}
	s = jpos_slot(doc, node);
	while (doc->pos[s].node != NULL && doc->pos[s].node != node)
		s = (s + 1) & (doc->cappos - 1);
	if (doc->pos[s].node == NULL)
		doc->npos++;
	doc->pos[s].node = node;
	doc->pos[s].line = line;
	doc->pos[s].col = col;
}

void
jsonc_where(const struct jdoc *doc, const cJSON *node, unsigned *line,
    unsigned *col)
{
	const struct jpos	*p = jpos_find(doc, node);

	*line = p != NULL ? p->line : 0;
	*col = p != NULL ? p->col : 0;
}

void
jsonc_where_key(const struct jdoc *doc, const cJSON *node, unsigned *line,
    unsigned *col)
{
	const struct jpos	*p = jpos_find(doc, node);

	*line = p != NULL ? p->kline : 0;
	*col = p != NULL ? p->kcol : 0;
	if (*line == 0)
		jsonc_where(doc, node, line, col);
}

static int
jp_fail(struct jparser *jp, const char *fmt, ...)
{
	va_list	ap;

	if (jp->error == NULL) {
		va_start(ap, fmt);
		jp->error = xvasprintf(fmt, ap);
		va_end(ap);
		jp->eline = jp->line;
		jp->ecol = jp->col;
	}
	return -1;
}

/* Moves over one byte, keeping line and column (columns count characters). */
static void
jp_advance(struct jparser *jp)
{
	if (*jp->p == '\n') {
		jp->line++;
		jp->col = 1;
	} else if (((unsigned char)*jp->p & 0xc0) != 0x80)
		jp->col++;
	jp->p++;
}

static int
jp_skip(struct jparser *jp)
{
	unsigned	line, col;

	while (jp->p < jp->end) {
		if (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
		    *jp->p == '\r') {
			jp_advance(jp);
			continue;
		}
		if (*jp->p != '/')
			break;
		if (jp->p + 1 < jp->end && jp->p[1] == '/') {
			while (jp->p < jp->end && *jp->p != '\n')
				jp_advance(jp);
			continue;
		}
		if (jp->p + 1 < jp->end && jp->p[1] == '*') {
			line = jp->line;
			col = jp->col;
			jp_advance(jp);
			jp_advance(jp);
			while (jp->p + 1 < jp->end &&
			    !(jp->p[0] == '*' && jp->p[1] == '/'))
				jp_advance(jp);
			if (jp->p + 1 >= jp->end) {
				jp->line = line;
				jp->col = col;
				return jp_fail(jp, "unterminated comment");
			}
			jp_advance(jp);
			jp_advance(jp);
			continue;
		}
		return jp_fail(jp, "unexpected '/' (comments start with // "
		    "or /*)");
	}
	return 0;
}

static const char *
jp_describe(struct jparser *jp)
{
	static char	buf[32];
	unsigned char	c;

	if (jp->p >= jp->end)
		return "end of file";
	c = (unsigned char)*jp->p;
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, sizeof buf, "'%c'", c);
	else
		snprintf(buf, sizeof buf, "byte 0x%02x", c);
	return buf;
}

static int
jp_hex4(struct jparser *jp, unsigned *out)
{
	unsigned	v = 0;
	int		i;
	char		c;

	for (i = 0; i < 4; i++) {
		if (jp->p >= jp->end)
			return jp_fail(jp, "unterminated \\u escape");
		c = *jp->p;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return jp_fail(jp, "expected a hex digit in \\u escape, "
			    "found %s", jp_describe(jp));
		jp_advance(jp);
	}
	*out = v;
	return 0;
}

static void
utf8_put(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80)
		strbuf_addc(sb, (char)cp);
	else if (cp < 0x800) {
		strbuf_addc(sb, (char)(0xc0 | (cp >> 6)));
		strbuf_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addc(sb, (char)(0xe0 | (cp >> 12)));
		strbuf_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addc(sb, (char)(0xf0 | (cp >> 18)));
		strbuf_addc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Parses a string at jp->p (which is '"') into an allocated C string. */
static int
jp_string(struct jparser *jp, char **out)
{
	struct strbuf	sb;
	unsigned	cp, lo;
	size_t		bad, n;
	const char	*run;

	strbuf_init(&sb);
	jp_advance(jp);
	for (;;) {
		if (jp->p >= jp->end) {
			jp_fail(jp, "unterminated string");
			goto fail;
		}
		if (*jp->p == '"')
			break;
		if ((unsigned char)*jp->p < 0x20) {
			jp_fail(jp, "control character in string (write \\n, "
			    "\\t or \\u00XX)");
			goto fail;
		}
		if (*jp->p != '\\') {
			run = jp->p;
			while (jp->p < jp->end && *jp->p != '"' &&
			    *jp->p != '\\' && (unsigned char)*jp->p >= 0x20)
				jp->p++;
			n = (size_t)(jp->p - run);
			jp->p = run;
			if (utf8_valid(run, n, &bad) != 0) {
				while (jp->p < run + bad)
					jp_advance(jp);
				jp_fail(jp, "invalid UTF-8 in string");
				goto fail;
			}
			strbuf_add(&sb, run, n);
			while (jp->p < run + n)
				jp_advance(jp);
			continue;
		}
		jp_advance(jp);
		if (jp->p >= jp->end) {
			jp_fail(jp, "unterminated string");
			goto fail;
		}
		switch (*jp->p) {
		case '"': strbuf_addc(&sb, '"'); break;
		case '\\': strbuf_addc(&sb, '\\'); break;
		case '/': strbuf_addc(&sb, '/'); break;
		case 'b': strbuf_addc(&sb, '\b'); break;
		case 'f': strbuf_addc(&sb, '\f'); break;
		case 'n': strbuf_addc(&sb, '\n'); break;
		case 'r': strbuf_addc(&sb, '\r'); break;
		case 't': strbuf_addc(&sb, '\t'); break;
		case 'u':
			jp_advance(jp);
			if (jp_hex4(jp, &cp) != 0)
				goto fail;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				jp_fail(jp, "lone low surrogate in \\u escape");
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (jp->end - jp->p < 2 || jp->p[0] != '\\' ||
				    jp->p[1] != 'u') {
					jp_fail(jp, "high surrogate not followed "
					    "by a low surrogate");
					goto fail;
				}
				jp_advance(jp);
				jp_advance(jp);
				if (jp_hex4(jp, &lo) != 0)
					goto fail;
				if (lo < 0xdc00 || lo > 0xdfff) {
					jp_fail(jp, "invalid low surrogate");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (cp == 0) {
				jp_fail(jp, "\\u0000 is not allowed in strings");
				goto fail;
			}
			utf8_put(&sb, cp);
			continue;
		default:
			jp_fail(jp, "unknown escape '\\%c'", *jp->p);
			goto fail;
		}
		jp_advance(jp);
	}
	jp_advance(jp);
	*out = strbuf_detach(&sb);
	return 0;
fail:
	strbuf_release(&sb);
	return -1;
}

static int
jp_number(struct jparser *jp, double *out)
{
	const char	*s = jp->p;
	char		 buf[128], *endp;
	size_t		 n;

	if (s < jp->end && *s == '-')
		s++;
	if (s >= jp->end || *s < '0' || *s > '9')
		return jp_fail(jp, "expected a value, found %s", jp_describe(jp));
	if (*s == '0' && s + 1 < jp->end && s[1] >= '0' && s[1] <= '9')
		return jp_fail(jp, "numbers may not have leading zeros");
	while (s < jp->end && ((*s >= '0' && *s <= '9') || *s == '.' ||
	    *s == 'e' || *s == 'E' || *s == '+' || *s == '-'))
		s++;
	n = (size_t)(s - jp->p);
	if (n >= sizeof buf)
		return jp_fail(jp, "number too long");
	memcpy(buf, jp->p, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &endp);
	if (*endp != '\0' || endp == buf)
		return jp_fail(jp, "malformed number '%s'", buf);
	if (errno == ERANGE && isinf(*out))
		return jp_fail(jp, "number '%s' is out of range", buf);
	while (jp->p < s)
		jp_advance(jp);
	return 0;
}

static int
jp_word(struct jparser *jp, const char *w)
{
	size_t	n = strlen(w);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, w, n) != 0)
		return -1;
	while (n-- > 0)
		jp_advance(jp);
	return 0;
}

static cJSON	*jp_value(struct jparser *);

static cJSON *
jp_object(struct jparser *jp)
{
	cJSON		*obj = cJSON_CreateObject(), *v;
	struct jpos	*pos;
	char		*key = NULL;
	unsigned	 kline, kcol;

	jp_advance(jp);
	if (jp_skip(jp) != 0)
		goto fail;
	if (jp->p < jp->end && *jp->p == '}') {
		jp_advance(jp);
		return obj;
	}
	for (;;) {
		if (jp->p >= jp->end || *jp->p != '"') {
			jp_fail(jp, "expected a key in double quotes, found %s",
			    jp_describe(jp));
			goto fail;
		}
		kline = jp->line;
		kcol = jp->col;
		if (jp_string(jp, &key) != 0)
			goto fail;
		if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
			jp->line = kline;
			jp->col = kcol;
			jp_fail(jp, "duplicate key '%s'", key);
			goto fail;
		}
		if (jp_skip(jp) != 0)
			goto fail;
		if (jp->p >= jp->end || *jp->p != ':') {
			jp_fail(jp, "expected ':' after key '%s', found %s", key,
			    jp_describe(jp));
			goto fail;
		}
		jp_advance(jp);
		if (jp_skip(jp) != 0 || (v = jp_value(jp)) == NULL)
			goto fail;
		cJSON_AddItemToObject(obj, key, v);
		if ((pos = jpos_find(jp->doc, v)) != NULL) {
			pos->kline = kline;
			pos->kcol = kcol;
		}
		free(key);
		key = NULL;
		if (jp_skip(jp) != 0)
			goto fail;
		if (jp->p < jp->end && *jp->p == ',') {
			jp_advance(jp);
			if (jp_skip(jp) != 0)
				goto fail;
			if (jp->p < jp->end && *jp->p == '}') {
				jp_fail(jp, "trailing comma before '}'");
				goto fail;
			}
			continue;
		}
		if (jp->p < jp->end && *jp->p == '}') {
			jp_advance(jp);
			return obj;
		}
		jp_fail(jp, "expected ',' or '}' after a member, found %s",
		    jp_describe(jp));
		goto fail;
	}
fail:
	free(key);
	cJSON_Delete(obj);
	return NULL;
}

static cJSON *
jp_array(struct jparser *jp)
{
	cJSON	*arr = cJSON_CreateArray(), *v;

	jp_advance(jp);
	if (jp_skip(jp) != 0)
		goto fail;
	if (jp->p < jp->end && *jp->p == ']') {
		jp_advance(jp);
		return arr;
	}
	for (;;) {
		if ((v = jp_value(jp)) == NULL)
			goto fail;
		cJSON_AddItemToArray(arr, v);
		if (jp_skip(jp) != 0)
			goto fail;
		if (jp->p < jp->end && *jp->p == ',') {
			jp_advance(jp);
			if (jp_skip(jp) != 0)
				goto fail;
			if (jp->p < jp->end && *jp->p == ']') {
				jp_fail(jp, "trailing comma before ']'");
				goto fail;
			}
			continue;
		}
		if (jp->p < jp->end && *jp->p == ']') {
			jp_advance(jp);
			return arr;
		}
		jp_fail(jp, "expected ',' or ']' after an element, found %s",
		    jp_describe(jp));
		goto fail;
	}
fail:
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *
jp_value(struct jparser *jp)
{
	cJSON		*v = NULL;
	char		*s;
	double		 d = 0;
	unsigned	 line = jp->line, col = jp->col;

	if (jp->p >= jp->end) {
		jp_fail(jp, "expected a value, found end of file");
		return NULL;
	}
	if (++jp->depth > JSONC_MAX_DEPTH) {
		jp_fail(jp, "nesting deeper than %d levels", JSONC_MAX_DEPTH);
		return NULL;
	}
	switch (*jp->p) {
	case '{':
		v = jp_object(jp);
		break;
	case '[':
		v = jp_array(jp);
		break;
	case '"':
		if (jp_string(jp, &s) == 0) {
			v = cJSON_CreateString(s);
			free(s);
		}
		break;
	case 't':
		if (jp_word(jp, "true") == 0)
			v = cJSON_CreateTrue();
		break;
	case 'f':
		if (jp_word(jp, "false") == 0)
			v = cJSON_CreateFalse();
		break;
	case 'n':
		if (jp_word(jp, "null") == 0)
			v = cJSON_CreateNull();
		break;
	default:
		if (jp_number(jp, &d) == 0)
			v = cJSON_CreateNumber(d);
		break;
	}
	jp->depth--;
	if (v == NULL) {
		jp_fail(jp, "expected a value, found %s", jp_describe(jp));
		return NULL;
	}
	jpos_add(jp->doc, v, line, col);
	return v;
}

struct jdoc *
jsonc_parse(const char *file, const char *text, size_t len, char **cause)
{
	struct jdoc	*doc;
	struct jparser	 jp;

	doc = xcalloc(1, sizeof *doc);
	doc->file = xstrdup(file);
	memset(&jp, 0, sizeof jp);
	jp.doc = doc;
	jp.p = text;
	jp.end = text + len;
	jp.line = jp.col = 1;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		jp.p += 3;
	if (jp_skip(&jp) == 0) {
		if (jp.p >= jp.end)
			jp_fail(&jp, "empty document (expected a JSON object)");
		else if ((doc->root = jp_value(&jp)) != NULL &&
		    jp_skip(&jp) == 0 && jp.p < jp.end)
			jp_fail(&jp, "unexpected %s after the end of the "
			    "document", jp_describe(&jp));
	}
	if (jp.error != NULL) {
		cause_set(cause, "%s:%u:%u: %s", file, jp.eline, jp.ecol,
		    jp.error);
		free(jp.error);
		jsonc_free(doc);
		return NULL;
	}
	return doc;
}

struct jdoc *
jsonc_load(const char *path, size_t max, char **cause)
{
	struct jdoc	*doc;
	char		*text;
	size_t		 len;

	if (file_read(path, max, &text, &len, cause) != 0)
		return NULL;
	doc = jsonc_parse(path, text, len, cause);
	free(text);
	return doc;
}

void
jsonc_free(struct jdoc *doc)
{
	size_t	i;

	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	free(doc->pos);
	for (i = 0; i < doc->nerrors; i++)
		free(doc->errors[i]);
	free(doc->errors);
	free(doc->file);
	free(doc);
}

static void
jv_verror(struct jdoc *doc, const cJSON *node, int at_key, const char *path,
    const char *fmt, va_list ap)
{
	char		*msg;
	unsigned	 line, col;

	msg = xvasprintf(fmt, ap);
	if (at_key)
		jsonc_where_key(doc, node, &line, &col);
	else
		jsonc_where(doc, node, &line, &col);
	doc->errors = xreallocarray(doc->errors, doc->nerrors + 1,
	    sizeof *doc->errors);
	if (line != 0)
		doc->errors[doc->nerrors++] = xasprintf("%s:%u:%u: %s%s%s",
		    doc->file, line, col, path != NULL && *path ? path : "",
		    path != NULL && *path ? ": " : "", msg);
	else
		doc->errors[doc->nerrors++] = xasprintf("%s: %s%s%s", doc->file,
		    path != NULL && *path ? path : "",
		    path != NULL && *path ? ": " : "", msg);
	free(msg);
}

void
jv_error(struct jdoc *doc, const cJSON *node, const char *path,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jv_verror(doc, node, 0, path, fmt, ap);
	va_end(ap);
}

/* An error about a member's key rather than its value. */
static void
jv_error_key(struct jdoc *doc, const cJSON *node, const char *path,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jv_verror(doc, node, 1, path, fmt, ap);
	va_end(ap);
}

char *
jv_errors(const struct jdoc *doc)
{
	struct strbuf	sb;
	size_t		i;

	if (doc->nerrors == 0)
		return NULL;
	strbuf_init(&sb);
	for (i = 0; i < doc->nerrors; i++) {
		if (i != 0)
			strbuf_addc(&sb, '\n');
		strbuf_adds(&sb, doc->errors[i]);
	}
	return strbuf_detach(&sb);
}

/* Adds key: the n bytes at s as a string, or null when there are none. */
static void
jv_error_part(cJSON *o, const char *key, const char *s, size_t n)
{
	char	*v;

	if (s == NULL) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	v = xstrndup(s, n);
	cJSON_AddStringToObject(o, key, v);
	free(v);
}

cJSON *
jv_error_json(const char *line)
{
	const char	*p, *q, *msg = line, *path = NULL;
	unsigned long	 ln = 0, col = 0;
	size_t		 npath = 0;
	cJSON		*o;
	char		*end = NULL;

	/* The first ":LINE:COL: " ends the file's name. */
	for (p = strchr(line, ':'); p != NULL; p = strchr(p + 1, ':')) {
		if (!isdigit((unsigned char)p[1]))
			continue;
		ln = strtoul(p + 1, &end, 10);
		if (*end != ':' || !isdigit((unsigned char)end[1]))
			continue;
		col = strtoul(end + 1, &end, 10);
		if (end[0] == ':' && end[1] == ' ')
			break;
	}
	if (p != NULL) {
		msg = end + 2;
		/* A field path ("task.metric.type", "seeds[2]") and ": ". */
		for (q = msg; isalnum((unsigned char)*q) || *q == '_' ||
		    *q == '.' || *q == '[' || *q == ']' || *q == '-'; q++)
			;
		if (q != msg && q[0] == ':' && q[1] == ' ') {
			path = msg;
			npath = (size_t)(q - msg);
			msg = q + 2;
		}
	}
	o = cJSON_CreateObject();
	jv_error_part(o, "file", p != NULL ? line : NULL,
	    p != NULL ? (size_t)(p - line) : 0);
	if (p != NULL) {
		cJSON_AddNumberToObject(o, "line", (double)ln);
		cJSON_AddNumberToObject(o, "column", (double)col);
	} else {
		cJSON_AddNullToObject(o, "line");
		cJSON_AddNullToObject(o, "column");
	}
	jv_error_part(o, "path", path, npath);
	cJSON_AddStringToObject(o, "message", msg);
	return o;
}

int
jv_fail(const struct jdoc *doc, char **cause)
{
	if (cause != NULL) {
		free(*cause);
		*cause = jv_errors(doc);
	}
	return -1;
}

char *
jv_path(const char *path, const char *key)
{
	if (path == NULL || *path == '\0')
		return xstrdup(key);
	return xasprintf("%s.%s", path, key);
}

char *
jv_path_index(const char *path, size_t index)
{
	return xasprintf("%s[%zu]", path != NULL ? path : "", index);
}

static const char *
jv_typename(int mask)
{
	switch (mask) {
	case JV_STRING: return "a string";
	case JV_NUMBER: return "a number";
	case JV_BOOL: return "true or false";
	case JV_OBJECT: return "an object";
	case JV_ARRAY: return "an array";
	case JV_NULL: return "null";
	case JV_STRING | JV_ARRAY: return "a string or an array";
	case JV_STRING | JV_OBJECT: return "a string or an object";
	case JV_STRING | JV_NUMBER: return "a string or a number";
	case JV_NUMBER | JV_STRING | JV_BOOL: return "a string, number or boolean";
	default: return "a value of another type";
	}
}

static int
jv_typeof(const cJSON *v)
{
	if (cJSON_IsString(v))
		return JV_STRING;
	if (cJSON_IsNumber(v))
		return JV_NUMBER;
	if (cJSON_IsBool(v))
		return JV_BOOL;
	if (cJSON_IsObject(v))
		return JV_OBJECT;
	if (cJSON_IsArray(v))
		return JV_ARRAY;
	return JV_NULL;
}

int
jv_keys(struct jdoc *doc, const cJSON *obj, const char *path,
    const char *const *allowed)
{
	const cJSON		*v;
	const char *const	*a;
	const char		*near;
	int			 bad = 0;
	char			*p;

	if (!cJSON_IsObject(obj))
		return 0;
	cJSON_ArrayForEach(v, obj) {
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, v->string) == 0)
				break;
		if (*a != NULL)
			continue;
		p = jv_path(path, v->string);
		if ((near = suggest(v->string, allowed)) != NULL)
			jv_error_key(doc, v, p, "unknown key (did you mean "
			    "'%s'?)", near);
		else
			jv_error_key(doc, v, p, "unknown key");
		free(p);
		bad = 1;
	}
	return bad ? -1 : 0;
}

const cJSON *
jv_get(struct jdoc *doc, const cJSON *obj, const char *path, const char *key,
    int mask, int required)
{
	const cJSON	*v;
	char		*p;

	v = cJSON_IsObject(obj) ?
	    cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	p = jv_path(path, key);
	if (v == NULL) {
		if (required)
			jv_error(doc, obj, p, "missing (required)");
		free(p);
		return NULL;
	}
	if ((jv_typeof(v) & mask) == 0) {
		jv_error(doc, v, p, "expected %s", jv_typename(mask));
		free(p);
		return NULL;
	}
	free(p);
	return v;
}

int
jv_string(struct jdoc *doc, const cJSON *obj, const char *path,
    const char *key, int required, const char **out)
{
	const cJSON	*v;
	size_t		 n = doc->nerrors;

	if ((v = jv_get(doc, obj, path, key, JV_STRING, required)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	*out = v->valuestring;
	return 1;
}

int
jv_number(struct jdoc *doc, const cJSON *obj, const char *path,
    const char *key, int required, double min, double max, double *out)
{
	const cJSON	*v;
	size_t		 n = doc->nerrors;
	char		*p;

	if ((v = jv_get(doc, obj, path, key, JV_NUMBER, required)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	if (v->valuedouble < min || v->valuedouble > max) {
		p = jv_path(path, key);
		jv_error(doc, v, p, "%g is out of range (expected %g to %g)",
		    v->valuedouble, min, max);
		free(p);
		return -1;
	}
	*out = v->valuedouble;
	return 1;
}

int
jv_int(struct jdoc *doc, const cJSON *obj, const char *path, const char *key,
    int required, long long min, long long max, long long *out)
{
	const cJSON	*v;
	size_t		 n = doc->nerrors;
	char		*p;
	double		 d;

	if ((v = jv_get(doc, obj, path, key, JV_NUMBER, required)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	d = v->valuedouble;
	p = jv_path(path, key);
	if (d != floor(d)) {
		jv_error(doc, v, p, "expected an integer, found %g", d);
		free(p);
		return -1;
	}
	if (d < (double)min || d > (double)max) {
		jv_error(doc, v, p, "%.0f is out of range (expected %lld to "
		    "%lld)", d, min, max);
		free(p);
		return -1;
	}
	free(p);
	*out = (long long)d;
	return 1;
}

int
jv_bool(struct jdoc *doc, const cJSON *obj, const char *path, const char *key,
    int required, int *out)
{
	const cJSON	*v;
	size_t		 n = doc->nerrors;

	if ((v = jv_get(doc, obj, path, key, JV_BOOL, required)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	*out = cJSON_IsTrue(v);
	return 1;
}

int
jv_enum(struct jdoc *doc, const cJSON *obj, const char *path, const char *key,
    int required, const char *const *choices, int *out)
{
	const cJSON	*v;
	size_t		 n = doc->nerrors, i;
	struct strbuf	 sb;
	const char	*near;
	char		*p;

	if ((v = jv_get(doc, obj, path, key, JV_STRING, required)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], v->valuestring) == 0) {
			*out = (int)i;
			return 1;
		}
	}
	strbuf_init(&sb);
	for (i = 0; choices[i] != NULL; i++)
		strbuf_addf(&sb, "%s'%s'", i == 0 ? "" : ", ", choices[i]);
	p = jv_path(path, key);
	if ((near = suggest(v->valuestring, choices)) != NULL)
		jv_error(doc, v, p, "unknown value '%s' (did you mean '%s'?)",
		    v->valuestring, near);
	else
		jv_error(doc, v, p, "unknown value '%s' (expected one of %s)",
		    v->valuestring, sb.buf);
	free(p);
	strbuf_release(&sb);
	return -1;
}

const char *
json_str(const cJSON *o, const char *key, const char *def)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : def;
}

double
json_num(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *
json_kind(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

char *
json_text(const cJSON *v)
{
	char	*s;

	if (v == NULL)
		return xstrdup("");
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return xstrdup("");
	return s;
}
