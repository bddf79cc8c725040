/*
 * The json metric: parses the output as JSON (from a fenced block or
 * surrounded by prose if need be) and scores the fraction of the expected
 * object's fields it gets right.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "metric.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Numbers this close are equal. */
#define JSON_NUMBER_TOL		1e-9
/* How many { or [ in prose are tried as the start of the JSON. */
#define JSON_MAX_TRIES		32
/* How many wrong fields feedback names. */
#define JSON_FEEDBACK_MAX	5

struct json_opts {
	char	**fields;	/* NULL: all of the expected object's */
	size_t	  nfields;
};

static const char *const json_keys[] = { "fields", NULL };

static int
json_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct json_opts	*jo;
	const cJSON		*v, *item;
	size_t			 n = doc->nerrors, i = 0;
	char			*p, *ip;
	int			 bad = 0;

	m->data = jo = xcalloc(1, sizeof *jo);
	if ((v = jv_get(doc, conf, path, "fields", JV_ARRAY, 0)) == NULL)
		return doc->nerrors > n ? -1 : 0;
	p = jv_path(path, "fields");
	jo->fields = xcalloc((size_t)cJSON_GetArraySize(v) + 1,
	    sizeof *jo->fields);
	cJSON_ArrayForEach(item, v) {
		if (!cJSON_IsString(item) || *item->valuestring == '\0') {
			ip = jv_path_index(p, i);
			jv_error(doc, item, ip, "expected a field name");
			free(ip);
			bad = 1;
		} else
			jo->fields[jo->nfields++] = xstrdup(item->valuestring);
		i++;
	}
	free(p);
	return bad ? -1 : 0;
}

static void
json_free(struct metric *m)
{
	struct json_opts	*jo = m->data;
	size_t			 i;

	if (jo == NULL)
		return;
	for (i = 0; i < jo->nfields; i++)
		free(jo->fields[i]);
	free(jo->fields);
	free(jo);
	m->data = NULL;
}

/* Parses exactly len bytes of s (surrounding white space allowed). */
static cJSON *
json_parse_n(const char *s, size_t len)
{
	char	*t = xstrndup(s, len);
	cJSON	*v;

	v = cJSON_ParseWithOpts(t, NULL, 1);
	free(t);
	return v;
}

/*
 * The end (one past) of the balanced {...} or [...] starting at s, or
 * NULL.  Brackets inside strings do not count.
 */
static const char *
json_balanced(const char *s)
{
	size_t	depth = 0;
	int	instr = 0;

	for (; *s != '\0'; s++) {
		if (instr) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				instr = 0;
			continue;
		}
		switch (*s) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0 || --depth == 0)
				return s + 1;
			break;
		}
	}
	return NULL;
}

/*
 * Finds the JSON in a model's output: the whole output, else a ``` fenced
 * block, else the first balanced {...} or [...] that parses.
 */
static cJSON *
json_find(const char *s)
{
	const char	*p, *q, *end;
	cJSON		*v;
	int		 tries = 0;

	if ((v = cJSON_ParseWithOpts(s, NULL, 1)) != NULL)
		return v;
	if ((p = strstr(s, "```")) != NULL) {
		/* Skip the info string ("json") to the end of the line. */
		p += 3;
		while (*p != '\0' && *p != '\n')
			p++;
		if ((q = strstr(p, "```")) != NULL &&
		    (v = json_parse_n(p, (size_t)(q - p))) != NULL)
			return v;
	}
	for (p = s; *p != '\0' && tries < JSON_MAX_TRIES; p++) {
		if (*p != '{' && *p != '[')
			continue;
		tries++;
		if ((end = json_balanced(p)) == NULL)
			continue;
		if ((v = json_parse_n(p, (size_t)(end - p))) != NULL)
			return v;
	}
	return NULL;
}

/* Deep equality, with numbers equal within JSON_NUMBER_TOL. */
static int
json_equal(const cJSON *a, const cJSON *b)
{
	const cJSON	*x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return fabs(a->valuedouble - b->valuedouble) <= JSON_NUMBER_TOL;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x != NULL && y != NULL;
		    x = x->next, y = y->next) {
			if (!json_equal(x, y))
				return 0;
		}
		return x == NULL && y == NULL;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (y == NULL || !json_equal(x, y))
				return 0;
		}
		return 1;
	}
	return 1;	/* true, false, null */
}

/* A short printed form of a value for feedback. */
static char *
json_show(const cJSON *v)
{
	char	*s, *q;

	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return xstrdup("?");
	q = metric_quote(s);
	cJSON_free(s);
	return q;
}

/* Scores the fields of an expected object. */
static double
json_score_fields(const struct json_opts *jo, const cJSON *want,
    const cJSON *got, char **feedback)
{
	const cJSON	*f, *w, *g;
	struct strbuf	 sb;
	const char	*name;
	size_t		 n = 0, right = 0, wrong = 0, i = 0;
	char		*ws, *gs;

	strbuf_init(&sb);
	f = want->child;
	for (;;) {
		if (jo->fields != NULL) {
			if (i >= jo->nfields)
				break;
			name = jo->fields[i++];
		} else {
			if (f == NULL)
				break;
			name = f->string;
			f = f->next;
		}
		n++;
		w = cJSON_GetObjectItemCaseSensitive(want, name);
		g = cJSON_GetObjectItemCaseSensitive(got, name);
		if (json_equal(w, g)) {
			right++;
			continue;
		}
		if (wrong++ >= JSON_FEEDBACK_MAX)
			continue;
		if (sb.len > 0)
			strbuf_adds(&sb, "; ");
		ws = w != NULL ? json_show(w) : NULL;
		gs = g != NULL ? json_show(g) : NULL;
		if (g == NULL)
			strbuf_addf(&sb, "field '%s' is missing", name);
		else if (w == NULL)
			strbuf_addf(&sb, "field '%s' should be absent, got %s",
			    name, gs);
		else
			strbuf_addf(&sb, "field '%s': expected %s, got %s",
			    name, ws, gs);
		free(ws);
		free(gs);
	}
	if (wrong > JSON_FEEDBACK_MAX)
		strbuf_addf(&sb, "; and %zu more wrong fields",
		    wrong - JSON_FEEDBACK_MAX);
	if (wrong > 0 && feedback != NULL)
		*feedback = strbuf_detach(&sb);
	strbuf_release(&sb);
	return n == 0 ? 1 : (double)right / (double)n;
}

static double
json_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	const struct json_opts	*jo = m->data;
	const cJSON		*want = expected;
	cJSON			*parsed = NULL, *got;
	double			 score;
	char			*ws, *gs;

	if (expected == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("the example has no expected "
			    "value");
		return 0;
	}
	/* A CSV cell holds the expected object as JSON text. */
	if (cJSON_IsString(expected) &&
	    (parsed = cJSON_Parse(expected->valuestring)) != NULL)
		want = parsed;
	if ((got = json_find(output)) == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("output is not valid JSON");
		cJSON_Delete(parsed);
		return 0;
	}
	if (cJSON_IsObject(want) && !cJSON_IsObject(got)) {
		if (feedback != NULL)
			*feedback = xasprintf("expected a JSON object, got %s",
			    json_kind(got));
		score = 0;
	} else if (cJSON_IsObject(want))
		score = json_score_fields(jo, want, got, feedback);
	else if (json_equal(want, got))
		score = 1;
	else {
		if (feedback != NULL) {
			ws = json_show(want);
			gs = json_show(got);
			*feedback = xasprintf("expected %s, got %s", ws, gs);
			free(gs);
			free(ws);
		}
		score = 0;
	}
	cJSON_Delete(got);
	cJSON_Delete(parsed);
	return score;
}

const struct metric_ops metric_json_ops = {
	.name = "json",
	.keys = json_keys,
	.init = json_init,
	.score = json_score,
	.free = json_free
};
