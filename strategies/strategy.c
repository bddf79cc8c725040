/*
 * Strategies: the table, and the parameter schemas every strategy's
 * parameters are checked against.  The search framework they run on is
 * in search.c and search_ask.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "strategy.h"
#include "xmalloc.h"

extern const struct strategy_ops strategy_ape_ops;
extern const struct strategy_ops strategy_duel_ops;
extern const struct strategy_ops strategy_evo_ops;
extern const struct strategy_ops strategy_mcts_ops;
extern const struct strategy_ops strategy_mipro_ops;
extern const struct strategy_ops strategy_prune_ops;
extern const struct strategy_ops strategy_random_ops;
extern const struct strategy_ops strategy_reflect_ops;

const struct strategy_ops *const strategy_table[] = {
	&strategy_ape_ops,
	&strategy_duel_ops,
	&strategy_evo_ops,
	&strategy_mcts_ops,
	&strategy_mipro_ops,
	&strategy_prune_ops,
	&strategy_random_ops,
	&strategy_reflect_ops,
	NULL
};

/* Parameters every strategy accepts. */
static const struct strategy_param strategy_common[] = {
	{ "racing", PARAM_BOOL, "true", 0, 0, NULL,
	  "race candidates on blocks of dev examples" },
	{ "block", PARAM_INT, "0", 0, 100000, NULL,
	  "examples per racing block (0: a fifth of dev, at least 5)" },
	{ "prompts", PARAM_STRING, "\"\"", 0, 0, NULL,
	  "a directory of meta-prompt templates overriding the shipped ones" },
	{ "attempts", PARAM_INT, "3", 1, 4, NULL,
	  "replies asked for one optimizer request: the first, then repair "
	  "turns" },
	{ "stall", PARAM_INT, "20", 0, 100000, NULL,
	  "steps in a row without a new candidate, score or comparison that "
	  "end the run (0: no limit)" },
	{ "max_steps", PARAM_INT, "0", 0, 10000000, NULL,
	  "steps in all (0: as many as the strategy takes)" },
	{ "max_failed", PARAM_NUMBER, "0.2", 0, 1, NULL,
	  "the share of evaluations that may fail for good before the run "
	  "fails" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

const struct strategy_ops *
strategy_lookup(const char *name)
{
	const struct strategy_ops *const *s;

	for (s = strategy_table; *s != NULL; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
}

static const char *const param_type_names[] = {
	"an integer", "a number", "true or false", "a string"
};

/* Checks one parameter (or fills its default). */
static void
strategy_param(struct jdoc *doc, const cJSON *obj,
    const struct strategy_param *p, cJSON *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, p->name);
	cJSON		*d;
	const char	*near;
	char		*path = jv_path("strategy", p->name);
	size_t		 i;
	int		 ok;

	if (v == NULL) {
		d = cJSON_Parse(p->dflt);
		cJSON_AddItemToObject(out, p->name, d);
		free(path);
		return;
	}
	switch (p->type) {
	case PARAM_INT:
		ok = cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
		break;
	case PARAM_NUMBER:
		ok = cJSON_IsNumber(v);
		break;
	case PARAM_BOOL:
		ok = cJSON_IsBool(v);
		break;
	default:
		ok = cJSON_IsString(v);
		break;
	}
	if (!ok) {
		jv_error(doc, v, path, "expected %s", param_type_names[p->type]);
		free(path);
		return;
	}
	if ((p->type == PARAM_INT || p->type == PARAM_NUMBER) &&
	    (v->valuedouble < p->min || v->valuedouble > p->max)) {
		jv_error(doc, v, path, "%g is out of range (expected %g to %g)",
		    v->valuedouble, p->min, p->max);
		free(path);
		return;
	}
	if (p->type == PARAM_STRING && p->choices != NULL) {
		for (i = 0; p->choices[i] != NULL; i++)
			if (strcmp(p->choices[i], v->valuestring) == 0)
				break;
		if (p->choices[i] == NULL) {
			near = suggest(v->valuestring, p->choices);
			jv_error(doc, v, path, "unknown value '%s'%s%s%s",
			    v->valuestring, near != NULL ? " (did you mean '" :
			    "", near != NULL ? near : "", near != NULL ? "'?)" :
			    "");
			free(path);
			return;
		}
	}
	cJSON_AddItemToObject(out, p->name, cJSON_Duplicate(v, 1));
	free(path);
}

int
strategy_check(struct jdoc *doc, const cJSON *obj, cJSON **outp)
{
	const struct strategy_ops	*ops;
	const struct strategy_param	*p;
	const char			**keys, *name = NULL, *near;
	const char			*names[32];
	size_t				 n = 0, i, nerr = doc->nerrors;
	cJSON				*out;

	*outp = NULL;
	if (jv_string(doc, obj, "strategy", "name", 1, &name) != 1)
		return -1;
	if ((ops = strategy_lookup(name)) == NULL) {
		for (i = 0; strategy_table[i] != NULL && i + 1 < nitems(names);
		    i++)
			names[i] = strategy_table[i]->name;
		names[i] = NULL;
		near = suggest(name, names);
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(obj, "name"),
		    "strategy.name", "unknown strategy '%s'%s%s%s", name,
		    near != NULL ? " (did you mean '" : "", near != NULL ?
		    near : "", near != NULL ? "'?)" : "");
		return -1;
	}
	for (p = ops->params; p != NULL && p->name != NULL; p++)
		n++;
	keys = xcalloc(n + nitems(strategy_common) + 2, sizeof *keys);
	n = 0;
	keys[n++] = "name";
	for (p = ops->params; p != NULL && p->name != NULL; p++)
		keys[n++] = p->name;
	for (p = strategy_common; p->name != NULL; p++)
		keys[n++] = p->name;
	jv_keys(doc, obj, "strategy", keys);
	free(keys);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "name", name);
	for (p = ops->params; p != NULL && p->name != NULL; p++)
		strategy_param(doc, obj, p, out);
	for (p = strategy_common; p->name != NULL; p++)
		strategy_param(doc, obj, p, out);
	if (doc->nerrors != nerr) {
		cJSON_Delete(out);
		return -1;
	}
	*outp = out;
	return 0;
}

void
strategy_foreach_param(void (*fn)(const char *, const char *, void *),
    void *arg)
{
	const struct strategy_ops *const	*s;
	const struct strategy_param		*p;

	for (p = strategy_common; p->name != NULL; p++)
		fn(NULL, p->name, arg);
	for (s = strategy_table; *s != NULL; s++)
		for (p = (*s)->params; p != NULL && p->name != NULL; p++)
			fn((*s)->name, p->name, arg);
}
