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
	printf(VALIDATE_LABEL "%s: %zu examples (train %zu, dev %zu, test "
	    "%zu)\n", "dataset", ds->path, ds->n,
	    dataset_count(ds, SPLIT_TRAIN), dataset_count(ds, SPLIT_DEV),
	    dataset_count(ds, SPLIT_TEST));
	printf(VALIDATE_LABEL, "fields");
	for (i = 0; i < ds->nfields; i++)
		printf("%s%s", i > 0 ? " " : "", ds->fields[i]);
	printf("\n" VALIDATE_LABEL "%s%s%s%s\n", "metric",
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
	cJSON_AddStringToObject(o, "dataset", ds->path);
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

static int
cmd_validate(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 opts;
	struct conf	*conf;
	struct job	*job;
	cJSON		*out = NULL, *o;
	char		*s;
	int		 json, i, rc;

	if ((rc = cmd_parse(&cmd_validate_entry, &argc, &argv, "", NULL, 1,
	    INT_MAX, &opts)) != 0)
		return rc;
	json = opts.json;
	if (json)
		out = cJSON_CreateArray();
	for (i = 0; i < argc; i++) {
		if ((job = cmd_load_job(ctx, argv[i], &conf)) == NULL) {
			rc = CMD_ERROR;
			if (json) {
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "file", argv[i]);
				cJSON_AddBoolToObject(o, "valid", 0);
				cJSON_AddItemToArray(out, o);
			}
			continue;
		}
		if (json)
			validate_json(out, job);
		else
			validate_print(job);
		job_free(job);
		conf_free(conf);
	}
	if (json) {
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
