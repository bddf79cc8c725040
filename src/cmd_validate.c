/* promptctl validate: check job files without calling any model. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cmd.h"
#include "conf.h"
#include "dataset.h"
#include "job.h"
#include "jsonc.h"
#include "metric.h"
#include "template.h"
#include "xmalloc.h"

/* One line of the summary: its label in a column wide enough for all. */
#define VALIDATE_LABEL	"  %-10s"

static void
validate_print(const struct job *job)
{
	const struct dataset	*ds = job->task.dataset;
	size_t			 i;
	int			 r;

	printf("%s: job '%s' is valid\n", job->file, job->task.name);
	if (ds->path == NULL && job->feedback_path == NULL)
		printf(VALIDATE_LABEL "none: examples come from the "
		    "synthetic rounds\n", "dataset");
	else if (ds->path == NULL)
		printf(VALIDATE_LABEL "none: examples come from feedback "
		    "(%s)\n", "dataset",
		    job_examples_name(job->feedback_examples));
	else
		printf(VALIDATE_LABEL "%s: %zu examples (train %zu, dev %zu, "
		    "test %zu)\n", "dataset", ds->path, ds->n,
		    dataset_count(ds, SPLIT_TRAIN), dataset_count(ds,
		    SPLIT_DEV), dataset_count(ds, SPLIT_TEST));
	if (ds->nfields > 0) {
		printf(VALIDATE_LABEL, "fields");
		for (i = 0; i < ds->nfields; i++)
			printf("%s%s", i > 0 ? " " : "", ds->fields[i]);
		printf("\n");
	}
	printf(VALIDATE_LABEL "%s%s%s%s\n", "metric",
	    job->task.metric->ops->name,
	    job->task.metric->extract_src != NULL ? " after extracting " : "",
	    job->task.metric->extract_src != NULL ?
	    job->task.metric->extract_src : "",
	    job->task.target != NULL ? "" : " (no target field)");
	if (job->task.target != NULL)
		printf(VALIDATE_LABEL "field '%s'\n", "expected",
		    job->task.target);
	printf(VALIDATE_LABEL "%s\n", "prompt",
	    job->task.placement == PLACE_SYSTEM ? "as the system message" :
	    "inline at {{prompt}}");
	for (r = 0; r < ROLE_COUNT; r++)
		if (job->task.roles[r] != NULL)
			printf(VALIDATE_LABEL "%s (%s, model %s)\n",
			    task_role_name(r), job->task.roles[r]->name,
			    job->task.roles[r]->ops->name,
			    job->task.roles[r]->model);
	printf(VALIDATE_LABEL "%zu prompt%s\n", "seeds", job->nseeds,
	    job->nseeds == 1 ? "" : "s");
	if (job->schedule != NULL)
		printf(VALIDATE_LABEL "%s\n", "schedule", job->schedule);
	if (job->synthetic.on)
		printf(VALIDATE_LABEL "%lld inputs a round, labeled by %s, "
		    "until %lld train and dev examples\n", "synthetic",
		    job->synthetic.examples, job->synthetic.labeler ==
		    LABELER_JUDGE ? "the judge" : "people",
		    job->synthetic.until);
}

static void
validate_json(cJSON *out, const struct job *job)
{
	const struct dataset	*ds = job->task.dataset;
	cJSON			*o, *roles;
	int			 r;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", job->file);
	cJSON_AddBoolToObject(o, "valid", 1);
	cJSON_AddStringToObject(o, "name", job->task.name);
	if (ds->path != NULL)
		cJSON_AddStringToObject(o, "dataset", ds->path);
	else
		cJSON_AddNullToObject(o, "dataset");
	cJSON_AddStringToObject(o, "dataset_hash", ds->hash);
	cJSON_AddNumberToObject(o, "examples", (double)ds->n);
	cJSON_AddNumberToObject(o, "train", (double)dataset_count(ds,
	    SPLIT_TRAIN));
	cJSON_AddNumberToObject(o, "dev", (double)dataset_count(ds, SPLIT_DEV));
	cJSON_AddNumberToObject(o, "test", (double)dataset_count(ds,
	    SPLIT_TEST));
	cJSON_AddStringToObject(o, "metric", job->task.metric->ops->name);
	roles = cJSON_AddObjectToObject(o, "roles");
	for (r = 0; r < ROLE_COUNT; r++)
		if (job->task.roles[r] != NULL)
			cJSON_AddStringToObject(roles, task_role_name(r),
			    job->task.roles[r]->name);
	cJSON_AddItemToArray(out, o);
}

/*
 * A file that is not valid: its errors one per line on stderr, or in
 * JSON an object with one object per error.
 */
static void
validate_fail(cJSON *out, const char *file, const char *cause)
{
	cJSON		*o, *errors;
	const char	*p, *nl;
	char		*line;

	if (out == NULL) {
		fprintf(stderr, "%s\n", cause);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddBoolToObject(o, "valid", 0);
	errors = cJSON_AddArrayToObject(o, "errors");
	for (p = cause; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		line = xstrndup(p, (size_t)(nl - p));
		cJSON_AddItemToArray(errors, jv_error_json(line));
		free(line);
	}
	cJSON_AddItemToArray(out, o);
}

static int
cmd_validate(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 opts;
	struct conf	*conf;
	struct job	*job;
	cJSON		*out = NULL;
	char		*s, *cause = NULL;
	int		 i, rc;

	if ((rc = cmd_parse(ctx, &cmd_validate_entry, &argc, &argv, "", NULL,
	    1, INT_MAX, &opts)) != 0)
		return rc;
	if (opts.json)
		out = cJSON_CreateArray();
	for (i = 0; i < argc; i++) {
		if ((job = cmd_load_job(ctx, argv[i], &conf, &cause)) == NULL) {
			rc = CMD_ERROR;
			validate_fail(out, argv[i], cause);
			free(cause);
			cause = NULL;
			continue;
		}
		if (out != NULL)
			validate_json(out, job);
		else
			validate_print(job);
		job_free(job);
		conf_free(conf);
	}
	if (out != NULL) {
		s = cJSON_Print(out);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(out);
	}
	return rc;
}

const struct cmd_entry cmd_validate_entry = {
	"validate", "[--json] file ...",
	"check job files and the data they name without calling any model",
	cmd_validate
};
