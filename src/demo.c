/* Demonstrations: lists of worked examples, their identity and JSON. */
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

void
demos_add(struct demos *d, int64_t example, const char *input,
    const char *output)
{
	struct demo	*x;

	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	x = &d->v[d->n++];
	x->example = example;
	x->input = xstrdup(input);
	x->output = xstrdup(output);
}

void
demos_copy(struct demos *dst, const struct demos *src)
{
	size_t	i;

	dst->v = NULL;
	dst->n = 0;
	for (i = 0; src != NULL && i < src->n; i++)
		demos_add(dst, src->v[i].example, src->v[i].input,
		    src->v[i].output);
}

void
demos_release(struct demos *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].input);
		free(d->v[i].output);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

int
demos_equal(const struct demos *a, const struct demos *b)
{
	size_t	na = a != NULL ? a->n : 0, nb = b != NULL ? b->n : 0, i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a->v[i].input, b->v[i].input) != 0 ||
		    strcmp(a->v[i].output, b->v[i].output) != 0)
			return 0;
	return 1;
}

/*
 * Each demo as its two texts with their lengths, so that no text can
 * pass for another's boundary; the row a demo came from is provenance,
 * not identity.
 */
void
demos_key(const struct demos *d, struct strbuf *sb)
{
	size_t	i;

	for (i = 0; d != NULL && i < d->n; i++)
		strbuf_addf(sb, "\n\x1e" "demo %zu:%zu:%s:%zu:%s", i,
		    strlen(d->v[i].input), d->v[i].input,
		    strlen(d->v[i].output), d->v[i].output);
}

cJSON *
demos_to_json(const struct demos *d)
{
	cJSON	*arr = cJSON_CreateArray(), *o;
	size_t	 i;

	for (i = 0; d != NULL && i < d->n; i++) {
		o = cJSON_CreateObject();
		if (d->v[i].example != 0)
			cJSON_AddNumberToObject(o, "example",
			    (double)d->v[i].example);
		cJSON_AddStringToObject(o, "input", d->v[i].input);
		cJSON_AddStringToObject(o, "output", d->v[i].output);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

int
demos_from_json(const cJSON *arr, const char *what, struct demos *out,
    char **cause)
{
	const cJSON	*o, *in, *op, *ex;
	size_t		 i = 0;

	out->v = NULL;
	out->n = 0;
	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return cause_set(cause, "%s: expected an array", what);
	cJSON_ArrayForEach(o, arr) {
		in = cJSON_GetObjectItemCaseSensitive(o, "input");
		op = cJSON_GetObjectItemCaseSensitive(o, "output");
		ex = cJSON_GetObjectItemCaseSensitive(o, "example");
		if (!cJSON_IsString(in) || !cJSON_IsString(op) ||
		    (ex != NULL && !cJSON_IsNumber(ex))) {
			demos_release(out);
			return cause_set(cause, "%s[%zu]: expected an object "
			    "with \"input\" and \"output\" strings", what, i);
		}
		demos_add(out, ex != NULL ? (int64_t)ex->valuedouble : 0,
		    in->valuestring, op->valuestring);
		i++;
	}
	return 0;
}
