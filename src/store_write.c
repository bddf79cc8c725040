/*
 * The store's writes: transactions, jobs, runs and their checkpoints,
 * dataset snapshots, candidates and lineage, the call cache and call
 * records, evaluations, comparisons, reply outcomes, champions, events
 * and provider batches.
 */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "dataset.h"
#include "hash.h"
#include "store_int.h"
#include "strbuf.h"
#include "util.h"

int
store_begin(struct store *s, char **cause)
{
	if (store_stmt_step(s, s->depth == 0 ? STMT_BEGIN : STMT_SAVEPOINT,
	    cause, "") != 0)
		return -1;
	s->depth++;
	return 0;
}

int
store_commit(struct store *s, char **cause)
{
	if (s->depth == 0)
		return cause_set(cause, "store: commit: no transaction is open");
	if (--s->depth > 0) {
		if (store_stmt_step(s, STMT_RELEASE, cause, "") == 0)
			return 0;
		/* The level is undone, as a rollback would. */
		if (store_stmt_step(s, STMT_ROLLBACK_TO, NULL, "") == 0)
			store_stmt_step(s, STMT_RELEASE, NULL, "");
		return -1;
	}
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled it back itself (disk full, I/O error). */
		return cause_set(cause, "store: commit: the transaction was "
		    "rolled back by an earlier error");
	}
	if (store_stmt_step(s, STMT_COMMIT, cause, "") != 0) {
		store_stmt_step(s, STMT_ROLLBACK, NULL, "");
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *s)
{
	int	rc = 0;

	if (s->depth == 0)
		return 0;
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled it all back itself. */
		s->depth = 0;
		return 0;
	}
	if (--s->depth > 0) {
		/* Undone, then released: the level is gone. */
		if ((rc = store_stmt_step(s, STMT_ROLLBACK_TO, NULL, "")) == 0)
			rc = store_stmt_step(s, STMT_RELEASE, NULL, "");
		return rc;
	}
	return store_stmt_step(s, STMT_ROLLBACK, NULL, "");
}

int64_t
store_job_put(struct store *s, const char *name, const char *spec_json,
    char **cause)
{
	int64_t	id = 0;

	if (store_begin(s, cause) != 0)
		return -1;
	if (store_stmt_step(s, STMT_JOB_PUT, cause, "ttd", name, spec_json,
	    time_now()) != 0)
		goto fail;
	switch (store_stmt_int64(s, STMT_JOB_FIND, &id, cause, "t", name)) {
	case 1:
		break;
	case 0:
		cause_set(cause, "store: put job: job '%s' was neither added "
		    "nor found", name);
		goto fail;
	default:
		goto fail;
	}
	if (store_commit(s, cause) != 0)
		return -1;
	return id;

fail:
	store_rollback(s);
	return -1;
}

int
store_job_set_state(struct store *s, int64_t job, const char *state,
    const char *reason, char **cause)
{
	if (store_stmt_step(s, STMT_JOB_SET_STATE, cause, "ittd", job, state,
	    reason, time_now()) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: set job state: no job %lld",
		    (long long)job);
	return 0;
}

int64_t
store_run_new(struct store *s, int64_t job, const char *kind,
    int64_t dataset, char **cause)
{
	if (store_stmt_step(s, STMT_RUN_NEW, cause, "itId", job, kind, dataset,
	    time_now()) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_run_finish(struct store *s, int64_t run, const char *status,
    const struct run_totals *t, char **cause)
{
	struct run_totals	zero = { 0, 0, 0, 0.0, 0 };

	if (t == NULL)
		t = &zero;
	if (store_stmt_step(s, STMT_RUN_FINISH, cause, "itdiiidi", run, status,
	    time_now(), (int64_t)t->calls, (int64_t)t->hits,
	    (int64_t)t->tokens, t->dollars, (int64_t)t->cached) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: finish run: no run %lld",
		    (long long)run);
	return 0;
}

static const char *
split_text(enum split sp)
{
	switch (sp) {
	case SPLIT_TRAIN:
		return "train";
	case SPLIT_DEV:
		return "dev";
	case SPLIT_TEST:
		return "test";
	}
	return "?";
}

/*
 * Links a feedback example to the interactions it was made from (again:
 * a link there already stays one).
 */
static int
snapshot_link(struct store *s, const struct example *ex, char **cause)
{
	size_t	i;

	for (i = 0; i < ex->nfrom; i++)
		if (store_stmt_step(s, STMT_EXAMPLE_LINK, cause, "ii", ex->id,
		    ex->from[i]) != 0)
			return -1;
	return 0;
}

/*
 * Fills the example ids of ds from snapshot id.  Returns 1 when every
 * example is there with the same split and content, 0 when the snapshot
 * does not fit (the splits were assigned differently, or promptctl
 * forget blanked an example since) and -1 on error.
 */
static int
snapshot_fill(struct store *s, int64_t id, struct dataset *ds, char **cause)
{
	sqlite3_stmt	*st;
	struct example	*ex;
	const char	*split, *hash;
	size_t		 i;
	int		 r, fits;

	for (i = 0; i < ds->n; i++) {
		ex = &ds->ex[i];
		r = store_stmt_step(s, STMT_EXAMPLE_FIND, cause, "ii", id,
		    (int64_t)ex->idx);
		if (r <= 0)
			return r;
		st = s->stmt[STMT_EXAMPLE_FIND];
		ex->id = sqlite3_column_int64(st, 0);
		split = (const char *)sqlite3_column_text(st, 1);
		hash = (const char *)sqlite3_column_text(st, 2);
		fits = split != NULL && strcmp(split, split_text(ex->split)) ==
		    0 && strcmp(hash != NULL ? hash : "", ex->hash) == 0;
		store_stmt_reset(st);
		if (!fits)
			return 0;
		/* The same example may come from more interactions now. */
		if (ex->nfrom > 0 && snapshot_link(s, ex, cause) != 0)
			return -1;
	}
	return 1;
}

static int64_t
snapshot_insert(struct store *s, int64_t job, struct dataset *ds,
    char **cause)
{
	struct example	*ex;
	int64_t		 id;
	size_t		 i;
	char		*fields;
	int		 r;

	if (store_stmt_step(s, STMT_DATASET_INSERT, cause, "ittid", job,
	    ds->path, ds->hash, (int64_t)ds->n, time_now()) != 0)
		return -1;
	id = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < ds->n; i++) {
		ex = &ds->ex[i];
		if ((fields = cJSON_PrintUnformatted(ex->fields)) == NULL) {
			cause_set(cause, "store: add example: cannot encode "
			    "the fields of example %zu", ex->idx);
			return -1;
		}
		r = store_stmt_step(s, STMT_EXAMPLE_INSERT, cause, "iiIttt", id,
		    (int64_t)ex->idx, (int64_t)ex->line, split_text(ex->split),
		    ex->hash[0] != '\0' ? ex->hash : NULL, fields);
		cJSON_free(fields);
		if (r != 0)
			return -1;
		ex->id = sqlite3_last_insert_rowid(s->db);
		/* A file's examples are written as before schema 13. */
		if (ex->origin == ORIGIN_FEEDBACK && (store_stmt_step(s,
		    STMT_EXAMPLE_FEEDBACK, cause, "i", ex->id) != 0 ||
		    snapshot_link(s, ex, cause) != 0))
			return -1;
		if (ex->origin == ORIGIN_SYNTHETIC && store_stmt_step(s,
		    STMT_EXAMPLE_SYNTHETIC, cause, "i", ex->id) != 0)
			return -1;
	}
	return id;
}

int64_t
store_dataset_snapshot(struct store *s, int64_t job, struct dataset *ds,
    int *changed, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 latest = 0, id = 0, n = 0;
	size_t		 i;
	int		 r;

	if (store_begin(s, cause) != 0)
		return -1;
	if (store_stmt_int64(s, STMT_DATASET_LATEST, &latest, cause, "i",
	    job) < 0)
		goto fail;
	r = store_stmt_step(s, STMT_DATASET_FIND, cause, "it", job, ds->hash);
	if (r < 0)
		goto fail;
	if (r == 1) {
		st = s->stmt[STMT_DATASET_FIND];
		id = sqlite3_column_int64(st, 0);
		n = sqlite3_column_int64(st, 1);
		store_stmt_reset(st);
		if (n != (int64_t)ds->n)
			id = 0;
	}
	if (id != 0 && (r = snapshot_fill(s, id, ds, cause)) != 1) {
		if (r < 0)
			goto fail;
		id = 0;
	}
	if (id == 0) {
		if ((id = snapshot_insert(s, job, ds, cause)) == -1)
			goto fail;
	} else if (store_stmt_step(s, STMT_DATASET_USE, cause, "id", id,
	    time_now()) != 0)
		goto fail;
	/* A failed commit has undone its level itself. */
	if (store_commit(s, cause) != 0)
		goto undone;
	if (changed != NULL)
		*changed = latest != id;
	return id;

fail:
	store_rollback(s);
undone:
	for (i = 0; i < ds->n; i++)
		ds->ex[i].id = 0;
	return -1;
}

/*
 * Adds the candidate of hash, or finds it: its id, with *added 1 when
 * this call added it; -1 on an error.
 */
static int64_t
candidate_insert(struct store *s, int64_t job, const char *text,
    const char *hash, const char *origin, int *added, char **cause)
{
	int64_t	id = 0;

	*added = 0;
	if (store_stmt_step(s, STMT_CANDIDATE_INSERT, cause, "itttd", job, text,
	    hash, origin, time_now()) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1) {
		*added = 1;
		return sqlite3_last_insert_rowid(s->db);
	}
	switch (store_stmt_int64(s, STMT_CANDIDATE_FIND, &id, cause, "it", job,
	    hash)) {
	case 1:
		return id;
	case 0:
		cause_set(cause, "store: add candidate: the candidate was "
		    "neither added nor found");
		break;
	}
	return -1;
}

int64_t
store_candidate_put(struct store *s, int64_t job, const char *text,
    const char *origin, char **cause)
{
	char	hash[65];
	int	added;

	sha256_hex(text, strlen(text), hash);
	return candidate_insert(s, job, text, hash, origin, &added, cause);
}

int64_t
store_candidate_put_demos(struct store *s, int64_t job, const char *text,
    const struct demos *demos, long long tokens, const char *origin,
    char **cause)
{
	struct strbuf	 sb;
	char		 hash[65];
	int64_t		 id = -1;
	size_t		 i;
	int		 added;

	if (demos == NULL || demos->n == 0) {
		if ((id = store_candidate_put(s, job, text, origin,
		    cause)) > 0 && tokens >= 0 && store_stmt_step(s,
		    STMT_CANDIDATE_TOKENS, cause, "ii", id,
		    (int64_t)tokens) != 0)
			return -1;
		return id;
	}
	strbuf_init(&sb);
	strbuf_adds(&sb, text);
	demos_key(demos, &sb);
	sha256_hex(sb.buf, sb.len, hash);
	strbuf_release(&sb);
	if (store_begin(s, cause) != 0)
		return -1;
	if ((id = candidate_insert(s, job, text, hash, origin, &added,
	    cause)) < 0)
		goto fail;
	for (i = 0; added && i < demos->n; i++)
		if (store_stmt_step(s, STMT_DEMO_ADD, cause, "inItt", id,
		    (int)i, demos->v[i].example, demos->v[i].input,
		    demos->v[i].output) != 0)
			goto fail;
	if (added && tokens >= 0 && store_stmt_step(s, STMT_CANDIDATE_TOKENS,
	    cause, "ii", id, (int64_t)tokens) != 0)
		goto fail;
	if (store_commit(s, cause) != 0)
		return -1;
	return id;
fail:
	store_rollback(s);
	return -1;
}

int
store_lineage_add(struct store *s, int64_t child, int64_t parent,
    const char *op, const char *note, char **cause)
{
	return store_stmt_step(s, STMT_LINEAGE_ADD, cause, "iitt", child,
	    parent, op, note) == 0 ? 0 : -1;
}

int
store_cache_put(struct store *s, const char *key, const char *response,
    char **cause)
{
	return store_stmt_step(s, STMT_CACHE_PUT, cause, "ttd", key, response,
	    time_now()) == 0 ? 0 : -1;
}

int64_t
store_call_add(struct store *s, const struct call_record *c, char **cause)
{
	if (store_stmt_step(s, STMT_CALL_ADD, cause, "Itttt" "nniidd" "tNt" "d"
	    "iii", c->run, c->backend, c->model, c->role, c->key,
	    c->attempt, c->cached, (int64_t)c->prompt_tokens,
	    (int64_t)c->completion_tokens, c->cost, c->latency,
	    c->status, c->http_status, c->error, time_now(),
	    (int64_t)c->cached_tokens, (int64_t)c->cache_write_tokens,
	    (int64_t)c->reasoning_tokens) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

/* Adds or replaces an evaluation (see STMT_EVALUATION_ADD). */
static int64_t
store_evaluation(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, double score, const char *feedback,
    int64_t call, const char *error, char **cause)
{
	int64_t	id = 0;
	int	rc;

	rc = store_stmt_step(s, STMT_EVALUATION_ADD, cause, "iiitftItd", run,
	    candidate, example, output, score, feedback, call, error,
	    time_now());
	if (rc < 0)
		return -1;
	if (rc == 1) {
		id = sqlite3_column_int64(s->stmt[STMT_EVALUATION_ADD], 0);
		/* RETURNING gives its row before the statement is done. */
		if (sqlite3_step(s->stmt[STMT_EVALUATION_ADD]) != SQLITE_DONE) {
			store_fail(s,
			    store_stmt_table[STMT_EVALUATION_ADD].what, cause);
			id = -1;
		}
		store_stmt_reset(s->stmt[STMT_EVALUATION_ADD]);
	}
	return id;
}

int64_t
store_evaluation_add(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, double score, const char *feedback,
    int64_t call, char **cause)
{
	return store_evaluation(s, run, candidate, example, output, score,
	    feedback, call, NULL, cause);
}

int64_t
store_evaluation_fail(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, const char *error, int64_t call,
    char **cause)
{
	return store_evaluation(s, run, candidate, example, output, NAN, NULL,
	    call, error, cause);
}

int64_t
store_comparison_add(struct store *s, const struct comparison_record *c,
    char **cause)
{
	if (store_stmt_step(s, STMT_COMPARISON_ADD, cause, "iiiIttttttttdI",
	    c->job, c->a, c->b, c->example, c->output_a, c->output_b, c->winner,
	    c->source, c->who, c->judge_model, c->order_shown, c->rationale,
	    time_now(), c->interaction) != 0)
		return -1;
	/* An interaction's comparison made already is not made again. */
	if (sqlite3_changes(s->db) == 0)
		return 0;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_outcome_add(struct store *s, const struct outcome_record *o,
    char **cause)
{
	return store_stmt_step(s, STMT_OUTCOME_ADD, cause, "iItttnnttd", o->run,
	    o->call, o->key, o->role, o->outcome, o->kept, o->dropped,
	    o->problem, o->excerpt, time_now()) == 0 ? 0 : -1;
}

int
store_event(struct store *s, int64_t job, int64_t run, const char *level,
    const char *message, char **cause)
{
	return store_stmt_step(s, STMT_EVENT, cause, "IIdtt", job, run,
	    time_now(), level, message) == 0 ? 0 : -1;
}

int
store_run_checkpoint(struct store *s, int64_t run, int step,
    const char *state, const struct run_totals *t, char **cause)
{
	struct run_totals	zero = { 0, 0, 0, 0.0, 0 };

	if (t == NULL)
		t = &zero;
	if (store_stmt_step(s, STMT_RUN_CHECKPOINT, cause, "intiiidi", run,
	    step, state, (int64_t)t->calls, (int64_t)t->hits,
	    (int64_t)t->tokens, t->dollars, (int64_t)t->cached) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: checkpoint run: no run %lld",
		    (long long)run);
	return 0;
}

int
store_champion_add(struct store *s, const struct champion_record *c,
    char **cause)
{
	const struct champion_risk	*r = &c->risk;
	int				 any = r->measure[0] != '\0';

	/* Without a measure the risk columns are all NULL. */
	return store_stmt_step(s, STMT_CHAMPION_ADD, cause,
	    "iidddtdIffitffffI", c->job, c->candidate, c->score, c->lo, c->hi,
	    c->reason, time_now(), c->run, c->p, c->delta, (int64_t)c->paired,
	    any ? r->measure : NULL, any ? r->param : NAN,
	    any ? r->bound : NAN, any ? r->max : NAN,
	    any ? r->confidence : NAN, any ? (int64_t)r->n : 0);
}

int
store_champion_set_test(struct store *s, int64_t job, int version,
    double mean, double lo, double hi, long long n, char **cause)
{
	if (store_stmt_step(s, STMT_CHAMPION_SET_TEST, cause, "infffi", job,
	    version, mean, lo, hi, (int64_t)n) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: set champion test score: job "
		    "%lld has no champion version %d", (long long)job,
		    version);
	return 0;
}

int
store_job_set_file(struct store *s, int64_t job, const char *file,
    char **cause)
{
	if (store_stmt_step(s, STMT_JOB_SET_FILE, cause, "it", job, file) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: set job file: no job %lld",
		    (long long)job);
	return 0;
}

/* The human feedback queue. */

int64_t
store_comparison_queue(struct store *s, const struct comparison_record *c,
    const char *input, char **cause)
{
	int64_t	id = 0;
	int	rc;

	if (store_begin(s, cause) != 0)
		return -1;
	rc = store_stmt_int64(s, STMT_COMPARISON_PENDING_FIND, &id, cause,
	    "iiiI", c->job, c->a, c->b, c->example);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		if (store_stmt_step(s, STMT_COMPARISON_QUEUE, cause,
		    "iiiIttttd", c->job, c->a, c->b, c->example, c->output_a,
		    c->output_b, c->order_shown, input, time_now()) != 0)
			goto fail;
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (store_stmt_step(s, STMT_COMPARISON_PENDING_DROP, cause, "iid",
	    c->job, id, time_now()) != 0)
		goto fail;
	if (store_commit(s, cause) != 0)
		return -1;
	return id;
fail:
	store_rollback(s);
	return -1;
}

int
store_comparison_answer(struct store *s, int64_t id, const char *winner,
    const char *who, char **cause)
{
	if (store_stmt_step(s, STMT_COMPARISON_ANSWER, cause, "ittd", id,
	    winner, who, time_now()) != 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int64_t
store_batch_add(struct store *s, const char *backend, const char *token,
    const char *step, const char *input, size_t ninput,
    char *const *keys, size_t nkeys, char **cause)
{
	int64_t	id;
	size_t	i;

	if (store_begin(s, cause) != 0)
		return -1;
	if (store_stmt_step(s, STMT_BATCH_ADD, cause, "ttttid", backend, token,
	    step, input, (int64_t)ninput, time_now()) != 0)
		goto fail;
	id = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < nkeys; i++)
		if (store_stmt_step(s, STMT_BATCH_KEY_ADD, cause, "ti", keys[i],
		    id) != 0)
			goto fail;
	if (store_commit(s, cause) != 0)
		return -1;
	return id;
fail:
	store_rollback(s);
	return -1;
}

int
store_batch_update(struct store *s, const struct batch_row *b, char **cause)
{
	return store_stmt_step(s, STMT_BATCH_UPDATE, cause, "ittttttd", b->id,
	    b->step, b->file, b->provider_id, b->output, b->errors, b->cause,
	    time_now()) == 0 ? 0 : -1;
}
