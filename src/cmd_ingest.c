/*
 * promptctl ingest and forget: production feedback (promptd-feedback(5))
 * into a job's interactions, and a person's out of them.  Both write the
 * database themselves, the daemon's when one runs (SQLite lets two
 * processes write one file; a feedback log is no reply for the control
 * socket), for a job it knows: submitted or run, so that its "feedback"
 * setting says what to keep of user ids.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "feedback.h"
#include "ingest.h"
#include "job.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The job a command works on, in the database it opened. */
struct feedback_job {
	struct store		*store;
	struct job_row		 row;
	enum user_policy	 users;
};

/* Opens the database and finds the job.  Returns CMD_OK, or the status
 * after printing. */
static int
feedback_job_open(struct cmd_ctx *ctx, const char *name,
    struct feedback_job *fj)
{
	cJSON	*spec;
	char	*db, *cause = NULL;
	int	 rc;

	memset(fj, 0, sizeof *fj);
	if ((rc = cmd_database(ctx, &db)) != CMD_OK)
		return rc;
	fj->store = store_open(db, &cause);
	free(db);
	if (fj->store == NULL ||
	    (rc = store_job_get(fj->store, name, &fj->row, &cause)) < 0) {
		rc = cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
		free(cause);
		return rc;
	}
	if (rc == 0)
		return cmd_error(ctx, CMD_ERROR, "not_found", "no job '%s' "
		    "(submit or run it first)", name);
	spec = cJSON_Parse(fj->row.spec);
	fj->users = job_feedback_users(spec);
	cJSON_Delete(spec);
	return CMD_OK;
}

static void
feedback_job_close(struct feedback_job *fj)
{
	store_job_row_release(&fj->row);
	store_close(fj->store);
}

/* One file's bad lines: on stderr as FILE:LINE: message, or in JSON. */
struct ingest_out {
	const char	*file;
	cJSON		*errors;	/* NULL: print them */
};

static void
ingest_print_bad(void *arg, long long line, const char *message)
{
	struct ingest_out	*out = arg;
	cJSON			*e;

	if (out->errors == NULL) {
		fprintf(stderr, "%s:%lld: %s\n", out->file, line, message);
		return;
	}
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "line", (double)line);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToArray(out->errors, e);
}

/* Ingests one file and tells what it did.  Returns 0, or 1 when the
 * file had bad lines or could not be read. */
static int
ingest_file(struct ingest *ing, const char *file, cJSON *files)
{
	struct ingest_result	 r;
	struct ingest_out	 out;
	cJSON			*f = NULL;
	char			*cause = NULL;
	int			 failed;

	out.file = file;
	out.errors = NULL;
	if (files != NULL) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "file", file);
		cJSON_AddItemToArray(files, f);
		out.errors = cJSON_CreateArray();
	}
	ing->bad = ingest_print_bad;
	ing->arg = &out;
	failed = ingest_source(ing, file, &r, &cause) != 0;
	if (failed && f != NULL)
		cJSON_AddStringToObject(f, "error", cause);
	else if (failed)
		fprintf(stderr, "promptctl: %s\n", cause);
	else if (f != NULL) {
		cJSON_AddNumberToObject(f, "ingested", (double)r.ingested);
		cJSON_AddNumberToObject(f, "duplicate", (double)r.duplicate);
		cJSON_AddNumberToObject(f, "bad", (double)r.bad);
	} else
		printf("job '%s': %lld interaction%s ingested from %s (%lld "
		    "already there, %lld bad line%s)\n", ing->job, r.ingested,
		    r.ingested == 1 ? "" : "s", file, r.duplicate, r.bad,
		    r.bad == 1 ? "" : "s");
	if (f != NULL && !failed)
		cJSON_AddItemToObject(f, "errors", out.errors);
	else
		cJSON_Delete(out.errors);
	failed = failed || r.bad > 0;
	ingest_result_release(&r);
	free(cause);
	return failed;
}

static int
cmd_ingest(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts		 o;
	struct feedback_job	 fj;
	struct ingest		 ing;
	cJSON			*json = NULL, *files = NULL;
	int			 rc, i, failed = 0;

	if ((rc = cmd_parse(ctx, &cmd_ingest_entry, &argc, &argv, "", NULL,
	    2, INT_MAX, &o)) != 0)
		return rc;
	if ((rc = feedback_job_open(ctx, argv[0], &fj)) != CMD_OK) {
		feedback_job_close(&fj);
		return rc;
	}
	memset(&ing, 0, sizeof ing);
	ing.store = fj.store;
	ing.job_id = fj.row.id;
	ing.job = fj.row.name;
	ing.users = fj.users;
	if (o.json) {
		json = cJSON_CreateObject();
		cJSON_AddStringToObject(json, "job", fj.row.name);
		files = cJSON_AddArrayToObject(json, "files");
	}
	/* Every file is read, whatever an earlier one held. */
	for (i = 1; i < argc; i++)
		failed |= ingest_file(&ing, argv[i], files);
	if (json != NULL) {
		cmd_print_json(json);
		cJSON_Delete(json);
	}
	ingest_release(&ing);
	feedback_job_close(&fj);
	return failed ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_ingest_entry = {
	"ingest", "[--json] job file ...",
	"store the interactions of feedback logs in a job", cmd_ingest
};

static int
cmd_forget(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_opts		 o;
	struct feedback_job	 fj;
	const char		*user;
	char			*salt = NULL, *hashed, *cause = NULL;
	long long		 n = 0, m = 0, ex = 0, exm = 0;
	cJSON			*json;
	int			 rc;

	if ((rc = cmd_parse(ctx, &cmd_forget_entry, &argc, &argv, "",
	    longopts, 1, 1, &o)) != 0)
		return rc;
	if ((user = o.arg['u']) == NULL)
		return cmd_error(ctx, CMD_USAGE, "usage", "forget: --user is "
		    "required");
	if ((rc = feedback_job_open(ctx, argv[0], &fj)) != CMD_OK) {
		feedback_job_close(&fj);
		return rc;
	}
	/*
	 * Stored as kept when ingested, which may have been under another
	 * setting of the job: the id as given and hashed both go.
	 */
	if ((salt = store_job_salt(fj.store, fj.row.id, &cause)) == NULL ||
	    store_begin(fj.store, &cause) != 0)
		goto fail;
	hashed = feedback_user(USERS_HASH, salt, user);
	if ((n = store_interactions_forget(fj.store, fj.row.id, user, &ex,
	    &cause)) < 0 || (m = store_interactions_forget(fj.store,
	    fj.row.id, hashed, &exm, &cause)) < 0) {
		store_rollback(fj.store);
		free(hashed);
		goto fail;
	}
	free(hashed);
	if (store_commit(fj.store, &cause) != 0)
		goto fail;
	n += m;
	ex += exm;
	if (o.json) {
		json = cJSON_CreateObject();
		cJSON_AddStringToObject(json, "job", fj.row.name);
		cJSON_AddNumberToObject(json, "forgotten", (double)n);
		cJSON_AddNumberToObject(json, "examples", (double)ex);
		cJSON_AddStringToObject(json, "users",
		    job_users_name(fj.users));
		cmd_print_json(json);
		cJSON_Delete(json);
	} else if (n == 0 && fj.users == USERS_DROP)
		printf("job '%s': no interaction forgotten: the job drops "
		    "user ids (\"users\": \"drop\"), so none has one to "
		    "find\n", fj.row.name);
	else if (ex == 0)
		printf("job '%s': %lld interaction%s of that user forgotten\n",
		    fj.row.name, n, n == 1 ? "" : "s");
	else
		printf("job '%s': %lld interaction%s of that user forgotten, "
		    "and %lld example%s made from them alone\n", fj.row.name,
		    n, n == 1 ? "" : "s", ex, ex == 1 ? "" : "s");
	rc = CMD_OK;
	goto out;
fail:
	rc = cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
out:
	free(cause);
	free(salt);
	feedback_job_close(&fj);
	return rc;
}

const struct cmd_entry cmd_forget_entry = {
	"forget", "[--json] job --user id",
	"delete the interactions of one user of a job", cmd_forget
};
