/*
 * People's labels for synthetic examples (jobrun_synth.c) on feedback
 * streams: a job whose synthetic.labeler is "people" has its pending
 * examples sent, one at a time, as "label" events (after its duels, if
 * it has any waiting), and the label command records a person's answer,
 * or a skip.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "control.h"
#include "daemon_int.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The longest label a person may give. */
#define LABEL_MAX_BYTES	(64 * 1024)

int
daemon_label_pump(struct daemon *d, struct feedback *f)
{
	struct synthetic_row	*rows;
	cJSON			*e, *q, *answers;
	char			*cause = NULL;
	size_t			 n;

	if (f->dj->job == NULL || !jobrun_synth_labels(f->dj->job))
		return 0;
	if (store_synthetic_list(d->store, f->dj->id, 0, "pending", 1, &rows,
	    &n, &cause) != 0) {
		log_warnx("feedback: %s", cause);
		free(cause);
		return 0;
	}
	if (n > 0) {
		q = cJSON_CreateObject();
		cJSON_AddNumberToObject(q, "id", (double)rows[0].id);
		cJSON_AddStringToObject(q, "job", f->dj->name);
		cJSON_AddStringToObject(q, "input", rows[0].input);
		if (rows[0].choices != NULL && (answers =
		    cJSON_Parse(rows[0].choices)) != NULL)
			cJSON_AddItemToObject(q, "answers", answers);
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "label", q);
		control_event(f->client, f->id, e);
		f->shown_label = rows[0].id;
	}
	store_synthetic_rows_free(rows, n);
	return n > 0;
}

/* The answer of a label request, trimmed, or an error reply and NULL. */
static char *
label_arg_answer(struct control_client *c, long long id, const cJSON *args,
    int *skip)
{
	const cJSON	*av, *sv;
	char		*answer;

	av = cJSON_GetObjectItemCaseSensitive(args, "answer");
	sv = cJSON_GetObjectItemCaseSensitive(args, "skip");
	*skip = cJSON_IsTrue(sv);
	if (sv != NULL && !cJSON_IsBool(sv)) {
		control_error(c, id, "usage", "argument \"skip\" must be true "
		    "or false");
		return NULL;
	}
	if (*skip && av == NULL)
		return xstrdup("");
	if (*skip || !cJSON_IsString(av)) {
		control_error(c, id, "usage", "give either \"answer\" (the "
		    "example's label, a string) or \"skip\": true");
		return NULL;
	}
	answer = trim_dup(av->valuestring, strlen(av->valuestring));
	if (*answer == '\0' || strlen(answer) > LABEL_MAX_BYTES) {
		control_error(c, id, "usage", "argument \"answer\" must be a "
		    "label of 1 to %d bytes", LABEL_MAX_BYTES);
		free(answer);
		return NULL;
	}
	return answer;
}

/* Records a person's label (or skip) of a pending synthetic example. */
static void
dcmd_label(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct synthetic_row	 row;
	struct feedback		*f;
	cJSON			*r;
	char			*answer, *label = NULL, *who = NULL;
	char			*cause = NULL;
	int64_t			 example;
	int			 skip, rc;

	if (dcmd_arg_id(c, id, args, "example", "a synthetic example id from "
	    "a feedback event", &example) != 0 || (answer =
	    label_arg_answer(c, id, args, &skip)) == NULL)
		return;
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->shown_label == example)
			f->shown_label = 0;
	if ((rc = store_synthetic_get(d->store, example, &row, &cause)) <= 0) {
		if (rc < 0)
			control_error(c, id, "internal", "%s", cause);
		else
			control_error(c, id, "not_found", "no synthetic "
			    "example %lld", (long long)example);
		free(cause);
		free(answer);
		return;
	}
	if (strcmp(row.labeler, "people") != 0 ||
	    strcmp(row.status, "pending") != 0) {
		control_error(c, id, "state", "synthetic example %lld %s",
		    (long long)example, strcmp(row.status, "pending") != 0 ?
		    "was answered already" : "is labeled by the judge");
		goto out;
	}
	who = daemon_user(control_uid(c));
	if (!skip)
		label = jobrun_synth_label(row.choices, answer);
	if ((rc = store_synthetic_answer(d->store, example, label, "skipped",
	    who, &cause)) <= 0) {
		if (rc < 0)
			control_error(c, id, "internal", "%s", cause);
		else
			control_error(c, id, "state", "synthetic example %lld "
			    "was answered already", (long long)example);
		free(cause);
		goto out;
	}
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->dj->id == row.job)
			f->answered++;
	log_info("synthetic example %lld: %s by %s", (long long)example,
	    skip ? "skipped" : "labeled", who);
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "example", (double)example);
	if (skip)
		cJSON_AddBoolToObject(r, "skipped", 1);
	else
		cJSON_AddStringToObject(r, "label", label);
	cJSON_AddStringToObject(r, "who", who);
	control_reply(c, id, r);
out:
	free(answer);
	free(label);
	free(who);
	store_synthetic_row_release(&row);
}

const struct dcmd_entry dcmd_label_entry = { "label", dcmd_label };
