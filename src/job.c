/* Job files: parse, check everything, load what they name. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "dataset.h"
#include "demo.h"
#include "job.h"
#include "jsonc.h"
#include "metric.h"
#include "strategy.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

#define JOB_MAX_BYTES	((size_t)4 << 20)

static const char *const job_keys[] = {
	"name", "description", "task", "seed_prompts", "backends", "roles",
	"strategy", "budget", "refresh_budget", "total_budget", "schedule",
	"export", "report", "feedback", "judge", "alpha",
	"min_delta", "prefer_shorter", "risk", "cache", "seed",
	"max_prompt_bytes", "synthetic", NULL
};
static const char *const task_keys[] = {
	"dataset", "format", "input", "target", "prompt", "metric", "splits",
	"demos", NULL
};
static const char *const demos_keys[] = { "placement", "template", NULL };
static const char *const demo_placement_names[] = { "turns", "inline", NULL };
static const char *const seed_keys[] = { "prompt", "demos", NULL };
static const char *const seed_demo_keys[] = {
	"line", "input", "output", NULL
};
static const char *const split_keys[] = {
	"train", "dev", "test", "seed", NULL
};
static const char *const budget_keys[] = {
	"max_calls", "max_tokens", "max_dollars", "deadline", NULL
};
static const char *const export_keys[] = {
	"path", "sidecar", "challenger", NULL
};
static const char *const challenger_keys[] = {
	"path", "share", "min_ratings", NULL
};
static const char *const feedback_keys[] = {
	"path", "users", "examples", NULL
};
static const char *const judge_keys[] = { "human_examples", NULL };
static const char *const risk_keys[] = {
	"measure", "threshold", "quantile", "max", "confidence", NULL
};
static const char *const synthetic_keys[] = {
	"examples", "labeler", "until", NULL
};
/* In the order of enum synth_labeler. */
static const char *const labeler_names[] = { "judge", "people", NULL };
/* In the order of enum risk_measure, after RISK_NONE. */
static const char *const risk_names[] = {
	"share_below", "quantile", NULL
};
/* In the order of enum user_policy. */
static const char *const users_names[] = { "keep", "hash", "drop", NULL };
/* In the order of enum feedback_examples. */
static const char *const examples_names[] = {
	"edits", "edits+rated", "off", NULL
};
static const char *const format_names[] = { "jsonl", "csv", NULL };
static const char *const placement_names[] = { "system", "inline", NULL };
static const char *const cache_names[] = { "on", "read", "off", NULL };

int
duration_parse(const char *s, double *out)
{
	double	 total = 0, v, unit;
	char	*end;
	int	 any = 0;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s || v < 0 || !isfinite(v))
			return -1;
		s = end;
		switch (*s) {
		case 'd': unit = 86400; s++; break;
		case 'h': unit = 3600; s++; break;
		case 'm': unit = 60; s++; break;
		case 's': unit = 1; s++; break;
		case '\0':
			if (any)
				return -1;
			unit = 1;
			break;
		default:
			return -1;
		}
		total += v * unit;
		any = 1;
	}
	*out = total;
	return 0;
}

static int
job_name_valid(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return n > 0 && n <= 64;
}

static void
job_parse_budget(struct jdoc *doc, const cJSON *root, const char *key,
    struct budget *b)
{
	const cJSON	*obj, *v;
	char		*p;

	if ((obj = jv_get(doc, root, "", key, JV_OBJECT, 0)) == NULL)
		return;
	jv_keys(doc, obj, key, budget_keys);
	jv_int(doc, obj, key, "max_calls", 0, 1, 1000000000000LL,
	    &b->max_calls);
	jv_int(doc, obj, key, "max_tokens", 0, 1, 1000000000000000LL,
	    &b->max_tokens);
	jv_number(doc, obj, key, "max_dollars", 0, 0, 1e9, &b->max_dollars);
	v = jv_get(doc, obj, key, "deadline", JV_STRING | JV_NUMBER, 0);
	if (v == NULL)
		return;
	if (cJSON_IsNumber(v) && v->valuedouble > 0) {
		b->deadline = v->valuedouble;
		return;
	}
	if (cJSON_IsString(v) && duration_parse(v->valuestring,
	    &b->deadline) == 0 && b->deadline > 0)
		return;
	p = jv_path(key, "deadline");
	jv_error(doc, v, p, "expected a positive duration such as 3600, "
	    "\"90m\" or \"1h30m\"");
	free(p);
}

/*
 * One demo of a seed: {"line": N} takes the dataset file's example at
 * line N (its expected answer unless "output" says otherwise), or
 * {"input": text, "output": text} gives both texts.
 */
static void
job_parse_seed_demo(struct job *job, struct jdoc *doc, const cJSON *v,
    const char *path, struct demos *out)
{
	const struct dataset	*ds = job->task.dataset;
	const struct example	*ex = NULL;
	const char		*in = NULL, *outp = NULL;
	long long		 line = 0;
	char			*input, *target = NULL;
	size_t			 i;

	if (jv_keys(doc, v, path, seed_demo_keys) != 0)
		return;
	jv_string(doc, v, path, "output", 0, &outp);
	if (jv_int(doc, v, path, "line", 0, 1, 1LL << 40, &line) == 1) {
		for (i = 0; ds != NULL && i < ds->nfile; i++)
			if (ds->ex[i].line == (size_t)line)
				ex = &ds->ex[i];
		if (ex == NULL || job->task.tmpl == NULL) {
			jv_error(doc, v, path, "no example of the dataset "
			    "starts at line %lld", line);
			return;
		}
		if (outp == NULL && job->task.target != NULL)
			target = json_text(example_field(ex,
			    job->task.target));
		if (outp == NULL && target == NULL) {
			jv_error(doc, v, path, "expected \"output\" (the task "
			    "has no target to take it from)");
			return;
		}
		input = template_render(job->task.tmpl, ex, NULL);
		demos_add(out, ex->id, input, outp != NULL ? outp : target);
		free(input);
		free(target);
		return;
	}
	if (jv_string(doc, v, path, "input", 1, &in) == 1 && outp == NULL)
		jv_error(doc, v, path, "expected \"output\" with \"input\"");
	else if (in != NULL)
		demos_add(out, 0, in, outp);
}

/* A seed as an object: {"prompt": text, "demos": [...]}. */
static int
job_parse_seed_object(struct job *job, struct jdoc *doc, const cJSON *v,
    const char *path, const char **text, struct demos *demos)
{
	const cJSON	*arr, *d;
	char		*p, *dp;
	size_t		 i = 0;

	if (jv_keys(doc, v, path, seed_keys) != 0 ||
	    jv_string(doc, v, path, "prompt", 1, text) != 1)
		return -1;
	p = jv_path(path, "demos");
	if ((arr = jv_get(doc, v, path, "demos", JV_ARRAY, 0)) != NULL)
		cJSON_ArrayForEach(d, arr) {
			dp = jv_path_index(p, i++);
			if (!cJSON_IsObject(d))
				jv_error(doc, d, dp, "expected an object");
			else
				job_parse_seed_demo(job, doc, d, dp, demos);
			free(dp);
		}
	free(p);
	return 0;
}

static void
job_parse_seeds(struct job *job, struct jdoc *doc, const cJSON *root)
{
	const cJSON	*arr, *v;
	struct demos	 demos;
	const char	*text;
	size_t		 i = 0;
	char		*p;

	if ((arr = jv_get(doc, root, "", "seed_prompts", JV_ARRAY, 1)) == NULL)
		return;
	if (cJSON_GetArraySize(arr) == 0) {
		jv_error(doc, arr, "seed_prompts", "expected at least one "
		    "prompt");
		return;
	}
	cJSON_ArrayForEach(v, arr) {
		p = jv_path_index("seed_prompts", i++);
		memset(&demos, 0, sizeof demos);
		text = cJSON_IsString(v) ? v->valuestring : NULL;
		if (cJSON_IsObject(v))
			job_parse_seed_object(job, doc, v, p, &text, &demos);
		else if (text == NULL)
			jv_error(doc, v, p, "expected a string, or an object "
			    "with \"prompt\" and \"demos\"");
		if (text != NULL && text[0] == '\0' &&
		    job->task.placement == PLACE_INLINE)
			jv_error(doc, v, p, "expected a non-empty prompt");
		else if (text != NULL) {
			job->seeds = xreallocarray(job->seeds, job->nseeds + 1,
			    sizeof *job->seeds);
			job->seed_demos = xreallocarray(job->seed_demos,
			    job->nseeds + 1, sizeof *job->seed_demos);
			job->seed_demos[job->nseeds] = demos;
			memset(&demos, 0, sizeof demos);
			job->seeds[job->nseeds++] = xstrdup(text);
		}
		demos_release(&demos);
		free(p);
	}
}

/* How demos are rendered: task.demos {"placement", "template"}. */
static void
job_parse_demos(struct job *job, struct jdoc *doc, const cJSON *task)
{
	struct task	*t = &job->task;
	const cJSON	*o;
	const char	*src = NULL;
	char		*cause = NULL;
	int		 e;

	if ((o = jv_get(doc, task, "task", "demos", JV_OBJECT, 0)) == NULL)
		return;
	jv_keys(doc, o, "task.demos", demos_keys);
	if (jv_enum(doc, o, "task.demos", "placement", 0,
	    demo_placement_names, &e) == 1)
		t->demos = (enum demo_placement)e;
	if (jv_string(doc, o, "task.demos", "template", 0, &src) != 1) {
		/* Compiled once here, not for every demo of every request. */
		if (t->demos == DEMOS_INLINE)
			t->demo_tmpl = template_compile(TASK_DEMO_TEMPLATE,
			    NULL);
		return;
	}
	if ((t->demo_tmpl = template_compile(src, &cause)) == NULL)
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(o, "template"),
		    "task.demos.template", "%s", cause);
	else if (template_uses_prompt(t->demo_tmpl))
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(o, "template"),
		    "task.demos.template", "{{prompt}} has no meaning here: "
		    "use {{input}} and {{output}}");
	free(cause);
	if (t->demos != DEMOS_INLINE)
		jv_error(doc, o, "task.demos.template", "a template is only "
		    "used with \"placement\": \"inline\"");
}

/* Loads the dataset and compiles the template; errors point at the keys. */
static void
job_parse_task_data(struct job *job, struct jdoc *doc, const cJSON *task)
{
	struct task	*t = &job->task;
	const cJSON	*v;
	const char	*near;
	char		*cause = NULL, *list;
	struct strbuf	 sb;
	size_t		 i;

	if (t->dataset_path != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(task, "dataset");
		t->dataset = dataset_load(t->dataset_path, t->format, &cause);
		if (t->dataset == NULL)
			jv_error(doc, v, "task.dataset", "%s", cause);
		free(cause);
		cause = NULL;
	} else if (cJSON_GetObjectItemCaseSensitive(task, "dataset") == NULL)
		/* A job with feedback and no dataset: its examples come
		 * from feedback alone, and have no fields to check yet. */
		t->dataset = dataset_empty();
	if (t->input != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(task, "input");
		if ((t->tmpl = template_compile(t->input, &cause)) == NULL)
			jv_error(doc, v, "task.input", "%s", cause);
		else if (t->dataset != NULL && t->dataset->path != NULL &&
		    template_check(t->tmpl, t->dataset, &cause) != 0)
			jv_error(doc, v, "task.input", "%s", cause);
		free(cause);
		cause = NULL;
	}
	if (t->dataset == NULL || t->dataset->path == NULL)
		return;
	if (t->target != NULL && !dataset_has_field(t->dataset, t->target)) {
		v = cJSON_GetObjectItemCaseSensitive(task, "target");
		strbuf_init(&sb);
		for (i = 0; i < t->dataset->nfields; i++)
			strbuf_addf(&sb, "%s'%s'", i == 0 ? "" : ", ",
			    t->dataset->fields[i]);
		list = strbuf_detach(&sb);
		near = suggest_n(t->target, (const char *const *)
		    t->dataset->fields, t->dataset->nfields);
		if (near != NULL)
			jv_error(doc, v, "task.target", "no field '%s' in the "
			    "dataset (did you mean '%s'?)", t->target, near);
		else
			jv_error(doc, v, "task.target", "no field '%s' in the "
			    "dataset (fields: %s)", t->target, list);
		free(list);
	}
	dataset_split(t->dataset, t->split[0], t->split[1], t->split[2],
	    (uint64_t)t->split_seed);
}

static void
job_parse_task(struct job *job, struct jdoc *doc, const cJSON *root)
{
	struct task	*t = &job->task;
	const cJSON	*task, *splits, *v;
	const char	*s;
	int		 e, placed;
	double		 sum;

	if ((task = jv_get(doc, root, "", "task", JV_OBJECT, 1)) == NULL)
		return;
	jv_keys(doc, task, "task", task_keys);
	/*
	 * A job with feedback may have no dataset: people give examples;
	 * so may one with synthetic examples: the optimizer writes them.
	 */
	if (jv_string(doc, task, "task", "dataset",
	    cJSON_GetObjectItemCaseSensitive(root, "feedback") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "synthetic") == NULL,
	    &s) == 1)
		t->dataset_path = path_relative_to(job->file, s);
	if (jv_enum(doc, task, "task", "format", 0, format_names, &e) == 1)
		t->format = xstrdup(format_names[e]);
	if (jv_string(doc, task, "task", "input", 1, &s) == 1)
		t->input = xstrdup(s);
	if (jv_string(doc, task, "task", "target", 0, &s) == 1)
		t->target = xstrdup(s);
	placed = jv_enum(doc, task, "task", "prompt", 0, placement_names, &e);
	if (placed == 1)
		t->placement = (enum prompt_placement)e;
	t->split[0] = 0.2;
	t->split[1] = 0.5;
	t->split[2] = 0.3;
	t->split_seed = 0;
	if ((splits = jv_get(doc, task, "task", "splits", JV_OBJECT, 0)) !=
	    NULL) {
		jv_keys(doc, splits, "task.splits", split_keys);
		jv_number(doc, splits, "task.splits", "train", 0, 0, 1,
		    &t->split[0]);
		jv_number(doc, splits, "task.splits", "dev", 0, 0, 1,
		    &t->split[1]);
		jv_number(doc, splits, "task.splits", "test", 0, 0, 1,
		    &t->split[2]);
		jv_int(doc, splits, "task.splits", "seed", 0, 0,
		    9007199254740991LL, &t->split_seed);
		sum = t->split[0] + t->split[1] + t->split[2];
		if (t->split[1] <= 0)
			jv_error(doc, splits, "task.splits.dev", "must be "
			    "greater than 0 (candidates are selected on dev)");
		else if (fabs(sum - 1.0) > 1e-6)
			jv_error(doc, splits, "task.splits", "train, dev and "
			    "test must add up to 1 (they add up to %g)", sum);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(task, "metric")) == NULL)
		jv_error(doc, task, "task.metric", "missing (required)");
	else
		t->metric = metric_new(doc, v, "task.metric");
	job_parse_task_data(job, doc, task);
	job_parse_demos(job, doc, task);
	if (t->tmpl != NULL && placed != 1)
		t->placement = template_uses_prompt(t->tmpl) ? PLACE_INLINE :
		    PLACE_SYSTEM;
	if (t->tmpl != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(task, "input");
		if (t->placement == PLACE_INLINE &&
		    !template_uses_prompt(t->tmpl))
			jv_error(doc, v, "task.input", "the prompt is placed "
			    "inline but the template has no {{prompt}}");
		if (t->placement == PLACE_SYSTEM &&
		    template_uses_prompt(t->tmpl))
			jv_error(doc, v, "task.input", "the template uses "
			    "{{prompt}} but task.prompt is 'system'");
	}
	if (t->metric != NULL && t->target == NULL &&
	    metric_needs_target(t->metric))
		jv_error(doc, task, "task.target", "missing (required by "
		    "metric '%s')", t->metric->ops->name);
}

static void
job_parse_roles(struct job *job, struct jdoc *doc, const cJSON *root,
    const struct conf *conf)
{
	const cJSON	*roles, *v;
	const char	*name, *near, **names;
	size_t		 i, n = 0;
	char		*p;
	int		 r;

	if ((roles = jv_get(doc, root, "", "roles", JV_OBJECT, 1)) == NULL)
		return;
	jv_keys(doc, roles, "roles", task_role_names);
	names = xcalloc(job->nown + (conf != NULL ? conf->nbackends : 0) + 1,
	    sizeof *names);
	for (i = 0; i < job->nown; i++)
		names[n++] = job->own[i]->name;
	for (i = 0; conf != NULL && i < conf->nbackends; i++)
		names[n++] = conf->backends[i]->name;
	for (r = 0; r < ROLE_COUNT; r++) {
		if (jv_string(doc, roles, "roles", task_role_names[r],
		    r == ROLE_TARGET, &name) != 1)
			continue;
		job->task.roles[r] = conf_find_backend(job->own, job->nown, name);
		if (job->task.roles[r] == NULL && conf != NULL)
			job->task.roles[r] = conf_find_backend(conf->backends,
			    conf->nbackends, name);
		/* A backend defined with errors: those are what to fix. */
		if (job->task.roles[r] != NULL ||
		    cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(root, "backends"), name) !=
		    NULL)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(roles, task_role_names[r]);
		p = jv_path("roles", task_role_names[r]);
		if ((near = suggest_n(name, names, n)) != NULL)
			jv_error(doc, v, p, "no backend named '%s' (did you "
			    "mean '%s'?)", name, near);
		else if (n == 0)
			jv_error(doc, v, p, "no backend named '%s' (none are "
			    "defined: add \"backends\" to the job or to "
			    "promptd.conf)", name);
		else
			jv_error(doc, v, p, "no backend named '%s'", name);
		free(p);
	}
	free(names);
	if (job->task.metric != NULL && metric_needs_judge(job->task.metric) &&
	    job->task.roles[ROLE_JUDGE] == NULL &&
	    cJSON_GetObjectItemCaseSensitive(roles, "judge") == NULL)
		jv_error(doc, roles, "roles.judge", "missing (required by "
		    "metric 'judge')");
}

/* "feedback": a path, or an object with the path and what to keep of
 * user ids. */
static void
job_parse_feedback(struct job *job, struct jdoc *doc, const cJSON *root)
{
	const cJSON	*v;
	const char	*s;
	int		 e;

	job->feedback_users = USERS_HASH;
	job->feedback_examples = EXAMPLES_EDITS;
	v = jv_get(doc, root, "", "feedback", JV_STRING | JV_OBJECT, 0);
	if (cJSON_IsString(v))
		job->feedback_path = path_relative_to(job->file, v->valuestring);
	else if (cJSON_IsObject(v)) {
		jv_keys(doc, v, "feedback", feedback_keys);
		if (jv_string(doc, v, "feedback", "path", 1, &s) == 1)
			job->feedback_path = path_relative_to(job->file, s);
		if (jv_enum(doc, v, "feedback", "users", 0, users_names,
		    &e) == 1)
			job->feedback_users = (enum user_policy)e;
		if (jv_enum(doc, v, "feedback", "examples", 0, examples_names,
		    &e) == 1)
			job->feedback_examples = (enum feedback_examples)e;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "task");
	if (job->feedback_examples == EXAMPLES_OFF && cJSON_IsObject(v) &&
	    cJSON_GetObjectItemCaseSensitive(v, "dataset") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "synthetic") == NULL)
		jv_error(doc, v, "task.dataset", "missing (required when "
		    "feedback.examples is 'off': the job would have no "
		    "examples)");
}

/*
 * "judge": how many of people's preferences each comparison of the judge
 * shows it; by default a few when the job reads a feedback log.
 */
static void
job_parse_judge(struct job *job, struct jdoc *doc, const cJSON *root)
{
	const cJSON	*v;

	job->judge_human_examples = job->feedback_path != NULL ?
	    JOB_JUDGE_HUMAN_EXAMPLES : 0;
	if ((v = jv_get(doc, root, "", "judge", JV_OBJECT, 0)) == NULL)
		return;
	jv_keys(doc, v, "judge", judge_keys);
	jv_int(doc, v, "judge", "human_examples", 0, 0, 20,
	    &job->judge_human_examples);
}

enum user_policy
job_feedback_users(const cJSON *spec)
{
	const cJSON	*v;
	int		 e;

	v = cJSON_GetObjectItemCaseSensitive(spec, "feedback");
	v = cJSON_GetObjectItemCaseSensitive(v, "users");
	for (e = 0; cJSON_IsString(v) && users_names[e] != NULL; e++)
		if (strcmp(users_names[e], v->valuestring) == 0)
			return (enum user_policy)e;
	return USERS_HASH;
}

const char *
job_users_name(enum user_policy p)
{
	return users_names[p];
}

const char *
job_examples_name(enum feedback_examples e)
{
	return examples_names[e];
}

/* export: a path, or an object with the champion's and a challenger's. */
static void
job_parse_export(struct job *job, struct jdoc *doc, const cJSON *root)
{
	const cJSON	*v, *c;
	const char	*s;

	job->challenger_share = 0.1;
	job->challenger_min_ratings = 30;
	v = jv_get(doc, root, "", "export", JV_STRING | JV_OBJECT, 0);
	if (cJSON_IsString(v))
		job->export_path = path_relative_to(job->file, v->valuestring);
	if (!cJSON_IsObject(v))
		return;
	jv_keys(doc, v, "export", export_keys);
	if (jv_string(doc, v, "export", "path", 1, &s) == 1)
		job->export_path = path_relative_to(job->file, s);
	jv_bool(doc, v, "export", "sidecar", 0, &job->export_sidecar);
	if ((c = jv_get(doc, v, "export", "challenger", JV_OBJECT, 0)) == NULL)
		return;
	jv_keys(doc, c, "export.challenger", challenger_keys);
	if (jv_string(doc, c, "export.challenger", "path", 1, &s) == 1)
		job->challenger_path = path_relative_to(job->file, s);
	/* A challenger on half the traffic or more is a champion. */
	if (jv_number(doc, c, "export.challenger", "share", 0, 0, 0.5,
	    &job->challenger_share) == 1 && job->challenger_share <= 0)
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(c, "share"),
		    "export.challenger.share", "must be more than 0");
	jv_int(doc, c, "export.challenger", "min_ratings", 0, 2, 1000000000,
	    &job->challenger_min_ratings);
}

const char *
job_labeler_name(enum synth_labeler l)
{
	return labeler_names[l];
}

/*
 * "synthetic": how many inputs a round asks for, who labels them and up
 * to how many train and dev examples rounds go on.  The labels go to the
 * task's target; the optimizer writes the inputs and, for "judge", the
 * judge labels them, so those roles must be there.
 */
static void
job_parse_synthetic(struct job *job, struct jdoc *doc, const cJSON *root)
{
	struct job_synthetic	*sy = &job->synthetic;
	const cJSON		*v, *roles;
	int			 e;

	sy->examples = 10;
	sy->labeler = LABELER_JUDGE;
	sy->until = 50;
	if ((v = jv_get(doc, root, "", "synthetic", JV_OBJECT, 0)) == NULL)
		return;
	sy->on = 1;
	jv_keys(doc, v, "synthetic", synthetic_keys);
	jv_int(doc, v, "synthetic", "examples", 0, 1, 50, &sy->examples);
	if (jv_enum(doc, v, "synthetic", "labeler", 0, labeler_names,
	    &e) == 1)
		sy->labeler = (enum synth_labeler)e;
	jv_int(doc, v, "synthetic", "until", 0, 1, 1000000, &sy->until);
	if (job->task.input != NULL && job->task.target == NULL &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "task")))
		jv_error(doc, v, "task.target", "missing (required by "
		    "\"synthetic\": the labels are written there)");
	if ((roles = cJSON_GetObjectItemCaseSensitive(root, "roles")) == NULL)
		return;
	if (cJSON_GetObjectItemCaseSensitive(roles, "optimizer") == NULL)
		jv_error(doc, roles, "roles.optimizer", "missing (required by "
		    "\"synthetic\": the optimizer writes the new inputs)");
	if (sy->labeler == LABELER_JUDGE &&
	    cJSON_GetObjectItemCaseSensitive(roles, "judge") == NULL)
		jv_error(doc, roles, "roles.judge", "missing (required by "
		    "synthetic.labeler 'judge'; or set it to 'people')");
}

const char *
job_risk_name(enum risk_measure m)
{
	return m == RISK_NONE ? NULL : risk_names[m - 1];
}

/*
 * "risk": the measure, its parameter (a threshold for share_below, a
 * quantile for quantile, and not the other's), the bound allowed and the
 * confidence.
 */
static void
job_parse_risk(struct job *job, struct jdoc *doc, const cJSON *root)
{
	struct job_risk	*r = &job->risk;
	const cJSON	*v;
	const char	*other;
	int		 e;

	r->measure = RISK_NONE;
	r->confidence = 0.9;
	if ((v = jv_get(doc, root, "", "risk", JV_OBJECT, 0)) == NULL)
		return;
	jv_keys(doc, v, "risk", risk_keys);
	if (jv_enum(doc, v, "risk", "measure", 1, risk_names, &e) != 1)
		return;
	r->measure = (enum risk_measure)(e + 1);
	if (r->measure == RISK_SHARE_BELOW) {
		other = "quantile";
		jv_number(doc, v, "risk", "threshold", 1, 0, 1, &r->threshold);
	} else {
		other = "threshold";
		if (jv_number(doc, v, "risk", "quantile", 1, 0, 1,
		    &r->quantile) == 1 && (r->quantile <= 0 ||
		    r->quantile >= 1))
			jv_error(doc, cJSON_GetObjectItemCaseSensitive(v,
			    "quantile"), "risk.quantile", "must be between 0 "
			    "and 1, exclusive");
	}
	if (cJSON_GetObjectItemCaseSensitive(v, other) != NULL)
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(v, other),
		    r->measure == RISK_SHARE_BELOW ? "risk.quantile" :
		    "risk.threshold", "only for measure '%s'",
		    r->measure == RISK_SHARE_BELOW ? "quantile" :
		    "share_below");
	jv_number(doc, v, "risk", "max", 1, 0, 1, &r->max);
	/* A confidence of 1 would need infinitely many examples. */
	if (jv_number(doc, v, "risk", "confidence", 0, 0.5, 1,
	    &r->confidence) == 1 && r->confidence >= 1)
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(v,
		    "confidence"), "risk.confidence", "must be less than 1");
}

static void
job_parse_rest(struct job *job, struct jdoc *doc, const cJSON *root)
{
	const cJSON	*v;
	const char	*s;
	char		*cause = NULL;
	int		 e;

	if ((v = jv_get(doc, root, "", "strategy", JV_OBJECT, 0)) != NULL &&
	    strategy_check(doc, v, &job->strategy_params) == 0)
		job->strategy = xstrdup(cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(job->strategy_params,
		    "name")));
	job_parse_budget(doc, root, "budget", &job->budget);
	job_parse_budget(doc, root, "refresh_budget", &job->refresh_budget);
	job_parse_budget(doc, root, "total_budget", &job->total_budget);
	if (jv_string(doc, root, "", "schedule", 0, &s) == 1) {
		job->schedule = xstrdup(s);
		if (cron_parse(&job->cron, s, &cause) != 0)
			jv_error(doc, cJSON_GetObjectItemCaseSensitive(root,
			    "schedule"), "schedule", "%s", cause);
		free(cause);
	}
	job_parse_export(job, doc, root);
	if (jv_string(doc, root, "", "report", 0, &s) == 1)
		job->report_path = path_relative_to(job->file, s);
	job_parse_feedback(job, doc, root);
	job_parse_judge(job, doc, root);
	job->alpha = 0.05;
	jv_number(doc, root, "", "alpha", 0, 1e-6, 0.5, &job->alpha);
	jv_number(doc, root, "", "min_delta", 0, 0, 1, &job->min_delta);
	job->prefer_shorter = NAN;
	jv_number(doc, root, "", "prefer_shorter", 0, 0, 1,
	    &job->prefer_shorter);
	job_parse_risk(job, doc, root);
	job_parse_synthetic(job, doc, root);
	if (jv_enum(doc, root, "", "cache", 0, cache_names, &e) == 1)
		job->cache = (enum cache_mode)e;
	job->task.seed = 1;
	jv_int(doc, root, "", "seed", 0, 0, 9007199254740991LL, &job->task.seed);
	job->task.max_prompt_bytes = TASK_MAX_PROMPT_BYTES;
	jv_int(doc, root, "", "max_prompt_bytes", 0, 16, 1 << 20,
	    &job->task.max_prompt_bytes);
}

static void
job_keys_under(const char *prefix, const char *const *keys,
    void (*fn)(const char *, void *), void *arg)
{
	char	*p;

	for (; *keys != NULL; keys++) {
		p = jv_path(prefix, *keys);
		fn(p, arg);
		free(p);
	}
}

void
job_foreach_key(void (*fn)(const char *, void *), void *arg)
{
	static const char *const metric_common[] = { "type", "extract", NULL };
	const struct metric_ops *const *m;

	job_keys_under("", job_keys, fn, arg);
	job_keys_under("task", task_keys, fn, arg);
	job_keys_under("task.splits", split_keys, fn, arg);
	job_keys_under("task.demos", demos_keys, fn, arg);
	job_keys_under("budget", budget_keys, fn, arg);
	job_keys_under("refresh_budget", budget_keys, fn, arg);
	job_keys_under("total_budget", budget_keys, fn, arg);
	job_keys_under("roles", task_role_names, fn, arg);
	job_keys_under("export", export_keys, fn, arg);
	job_keys_under("export.challenger", challenger_keys, fn, arg);
	job_keys_under("feedback", feedback_keys, fn, arg);
	job_keys_under("judge", judge_keys, fn, arg);
	job_keys_under("risk", risk_keys, fn, arg);
	job_keys_under("synthetic", synthetic_keys, fn, arg);
	job_keys_under("task.metric", metric_common, fn, arg);
	for (m = metric_table; *m != NULL; m++)
		if ((*m)->keys != NULL)
			job_keys_under("task.metric", (*m)->keys, fn, arg);
}

struct job *
job_load(const char *path, const struct conf *conf, char **cause)
{
	struct jdoc	*doc;
	struct job	*job;
	const cJSON	*root, *v;
	const char	*s;

	if ((doc = jsonc_load(path, JOB_MAX_BYTES, cause)) == NULL)
		return NULL;
	job = xcalloc(1, sizeof *job);
	job->file = xstrdup(path);
	root = doc->root;
	if (!cJSON_IsObject(root)) {
		jv_error(doc, root, "", "expected a JSON object");
		goto fail;
	}
	jv_keys(doc, root, "", job_keys);
	if (jv_string(doc, root, "", "name", 1, &s) == 1) {
		job->task.name = xstrdup(s);
		if (!job_name_valid(s))
			jv_error(doc, cJSON_GetObjectItemCaseSensitive(root,
			    "name"), "name", "'%s' is not a valid job name "
			    "(1 to 64 letters, digits, '.', '-' or '_')", s);
	}
	if (jv_string(doc, root, "", "description", 0, &s) == 1)
		job->task.description = xstrdup(s);
	if ((v = jv_get(doc, root, "", "backends", JV_OBJECT, 0)) != NULL)
		conf_parse_backends(doc, v, "backends", &job->own, &job->nown);
	conf_apply_prices(conf, job->own, job->nown);
	job_parse_task(job, doc, root);
	job_parse_seeds(job, doc, root);
	job_parse_roles(job, doc, root, conf);
	job_parse_rest(job, doc, root);
	if (doc->nerrors != 0)
		goto fail;
	job->spec = cJSON_Duplicate(root, 1);
	jsonc_free(doc);
	return job;
fail:
	jv_fail(doc, cause);
	jsonc_free(doc);
	job_free(job);
	return NULL;
}

void
job_free(struct job *job)
{
	size_t	i;

	if (job == NULL)
		return;
	free(job->task.dataset_path);
	free(job->task.format);
	free(job->task.input);
	free(job->task.target);
	dataset_free(job->task.dataset);
	template_free(job->task.tmpl);
	template_free(job->task.demo_tmpl);
	metric_free(job->task.metric);
	for (i = 0; i < job->nseeds; i++) {
		free(job->seeds[i]);
		demos_release(&job->seed_demos[i]);
	}
	free(job->seeds);
	free(job->seed_demos);
	for (i = 0; i < job->nown; i++)
		backend_free(job->own[i]);
	free(job->own);
	free(job->file);
	free(job->task.name);
	free(job->task.description);
	free(job->strategy);
	cJSON_Delete(job->strategy_params);
	free(job->schedule);
	free(job->export_path);
	free(job->challenger_path);
	free(job->report_path);
	free(job->feedback_path);
	cJSON_Delete(job->spec);
	free(job);
}
