/*
 * What a run makes of its job's feedback before it starts: the job's log
 * read into its interactions (ingest_source()), and the examples people's
 * edits make and the labeled synthetic examples of earlier rounds
 * (jobrun_synth.c), appended to the job's dataset for a new run or taken
 * back from its snapshot for a resumed one.  The run does not exist yet when
 * this happens: what there is to tell is noted for it to record.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dataset.h"
#include "feedback.h"
#include "hash.h"
#include "ingest.h"
#include "job.h"
#include "log.h"
#include "store.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/*
 * A rating that makes a response an example with "edits+rated": thumbs
 * up, or 4 or 5 stars (feedback_rating_value() 0.75 and 1).
 */
#define EXAMPLES_RATED_MIN	0.75

/* An interaction that makes an example, and what of it does. */
struct qualified {
	char		 key[65];	/* of its inputs (inputs_key()) */
	double		 time;
	int64_t		 id;		/* its row in the store */
	const cJSON	*inputs;
	const char	*answer;	/* the edit, or the response */
};

static void
note(struct ingest_notes *notes, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(struct ingest_notes *notes, const char *level, const char *fmt, ...)
{
	va_list	ap;

	notes->v = xreallocarray(notes->v, notes->n + 1, sizeof *notes->v);
	notes->v[notes->n].level = level;
	va_start(ap, fmt);
	notes->v[notes->n].message = xvasprintf(fmt, ap);
	va_end(ap);
	notes->n++;
}

void
ingest_notes_release(struct ingest_notes *notes)
{
	size_t	i;

	for (i = 0; i < notes->n; i++)
		free(notes->v[i].message);
	free(notes->v);
	notes->v = NULL;
	notes->n = 0;
}

void
ingest_job_log(struct store *store, int64_t job_id, const struct job *job,
    struct ingest_notes *notes)
{
	struct ingest		 ing;
	struct ingest_result	 r;
	const char		*path = job->feedback_path;
	char			*cause = NULL, *first = NULL;

	if (path == NULL)
		return;
	memset(&ing, 0, sizeof ing);
	ing.store = store;
	ing.job_id = job_id;
	ing.job = job->task.name;
	ing.users = job->feedback_users;
	ing.follow = 1;
	if (ingest_source(&ing, path, &r, &cause) != 0) {
		note(notes, "warn", "feedback: %s", cause);
		free(cause);
	} else if (r.missing)
		note(notes, "info", "feedback: %s does not exist yet", path);
	else {
		if (r.restarted)
			note(notes, "info", "feedback: %s was rotated or "
			    "truncated since the last run: read from its start",
			    path);
		if (r.first_error != NULL)
			first = xasprintf(": first %s:%lld: %s", path,
			    r.first_line, r.first_error);
		note(notes, r.bad > 0 ? "warn" : "info", "feedback: %lld "
		    "interaction%s ingested from %s (%lld already there, %lld "
		    "bad line%s%s)", r.ingested, r.ingested == 1 ? "" : "s",
		    path, r.duplicate, r.bad, r.bad == 1 ? "" : "s",
		    first != NULL ? first : "");
		free(first);
		if (r.duels > 0)
			note(notes, "info", "feedback: %lld preference%s "
			    "between candidates became comparisons", r.duels,
			    r.duels == 1 ? "" : "s");
		ingest_result_release(&r);
	}
	ingest_release(&ing);
}

/* What of an interaction an example's answer is, or NULL for none. */
static const char *
example_answer(const struct interaction *it, enum feedback_examples what)
{
	if (it->edit != NULL)
		return it->edit;
	if (what == EXAMPLES_RATED &&
	    feedback_rating_value(it) >= EXAMPLES_RATED_MIN)
		return it->response;
	return NULL;
}

int
ingest_inputs_key(const struct template *tmpl, const cJSON *inputs,
    char key[65])
{
	const cJSON	*v;
	cJSON		*arr;
	char		*text;
	size_t		 i;

	arr = cJSON_CreateArray();
	for (i = 0; i < template_nfields(tmpl); i++) {
		v = cJSON_GetObjectItemCaseSensitive(inputs,
		    template_field(tmpl, i));
		if (v == NULL) {
			cJSON_Delete(arr);
			return 0;
		}
		cJSON_AddItemToArray(arr, cJSON_Duplicate(v, 1));
	}
	if ((text = cJSON_PrintUnformatted(arr)) == NULL)
		fatalx("%s: out of memory", __func__);
	sha256_hex(text, strlen(text), key);
	cJSON_free(text);
	cJSON_Delete(arr);
	return 1;
}

/* By inputs, then oldest first (by time, then as ingested). */
static int
qualified_cmp(const void *a, const void *b)
{
	const struct qualified	*qa = a, *qb = b;
	int			 c;

	if ((c = strcmp(qa->key, qb->key)) != 0)
		return c;
	if (qa->time != qb->time)
		return qa->time < qb->time ? -1 : 1;
	if (qa->id != qb->id)
		return qa->id < qb->id ? -1 : 1;
	return 0;
}

/*
 * The example of one group of interactions with the same inputs, oldest
 * first: the latest's inputs and answer, linked to every interaction of
 * the group that gave that answer (it is derived from each of them).
 */
static struct example *
example_make(struct dataset *ds, const struct task *t,
    const struct qualified *group, size_t n)
{
	const struct qualified	*latest = &group[n - 1];
	struct example		*ex;
	cJSON			*fields;
	size_t			 i;

	fields = cJSON_Duplicate(latest->inputs, 1);
	if (t->target != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(fields, t->target);
		cJSON_AddStringToObject(fields, t->target, latest->answer);
	}
	ex = dataset_add(ds, fields, ORIGIN_FEEDBACK);
	ex->split = split_by_key(latest->key, t->split[0], t->split[1],
	    t->split[2], (uint64_t)t->split_seed);
	ex->from = xcalloc(n, sizeof *ex->from);
	for (i = 0; i < n; i++)
		if (strcmp(group[i].answer, latest->answer) == 0)
			ex->from[ex->nfrom++] = group[i].id;
	return ex;
}

/* Notes what ingest_examples() made of the job's interactions. */
static void
examples_note(struct ingest_notes *notes, const struct job *job,
    size_t ninteractions, size_t used, size_t left_out, const size_t *count)
{
	const char	*what = job_examples_name(job->feedback_examples);
	size_t		 added = count[SPLIT_TRAIN] + count[SPLIT_DEV] +
			    count[SPLIT_TEST];

	if (added > 0)
		note(notes, "info", "feedback: %zu example%s from %zu "
		    "interaction%s (%s): %zu train, %zu dev, %zu test", added,
		    added == 1 ? "" : "s", used, used == 1 ? "" : "s", what,
		    count[SPLIT_TRAIN], count[SPLIT_DEV], count[SPLIT_TEST]);
	else if (ninteractions == 0)
		note(notes, "info", "feedback: no examples yet: the job has no "
		    "interactions");
	else
		note(notes, "info", "feedback: no examples yet: none of the "
		    "job's %zu interaction%s has an edit%s", ninteractions,
		    ninteractions == 1 ? "" : "s", job->feedback_examples ==
		    EXAMPLES_RATED ? " or a response rated best" : "");
	if (left_out > 0)
		note(notes, "warn", "feedback: %zu interaction%s left out: "
		    "%s inputs lack a field of the task's template", left_out,
		    left_out == 1 ? "" : "s", left_out == 1 ? "its" : "their");
}

/* Appends the examples of the job's interactions (a feedback log). */
static int
examples_feedback(struct store *store, int64_t job_id, struct job *job,
    struct ingest_notes *notes, char **cause)
{
	struct dataset		*ds = job->task.dataset;
	struct interaction_row	*rows;
	struct qualified	*q;
	struct example		*ex;
	const char		*answer;
	size_t			 n, nq = 0, left_out = 0, i, j;
	size_t			 count[SPLIT_COUNT] = { 0 };

	if (store_interactions(store, job_id, &rows, &n, cause) != 0)
		return -1;
	q = xcalloc(n + 1, sizeof *q);
	for (i = 0; i < n; i++) {
		if ((answer = example_answer(rows[i].it,
		    job->feedback_examples)) == NULL)
			continue;
		if (!ingest_inputs_key(job->task.tmpl, rows[i].it->inputs,
		    q[nq].key)) {
			left_out++;
			continue;
		}
		q[nq].time = rows[i].it->time;
		q[nq].id = rows[i].id;
		q[nq].inputs = rows[i].it->inputs;
		q[nq].answer = answer;
		nq++;
	}
	qsort(q, nq, sizeof *q, qualified_cmp);
	for (i = 0; i < nq; i = j) {
		for (j = i + 1; j < nq && strcmp(q[j].key, q[i].key) == 0; j++)
			;
		ex = example_make(ds, &job->task, &q[i], j - i);
		count[ex->split]++;
	}
	examples_note(notes, job, n, nq, left_out, count);
	free(q);
	store_interaction_rows_free(rows, n);
	return 0;
}

struct example *
ingest_synthetic_example(struct dataset *ds, const struct task *t,
    const struct synthetic_row *row)
{
	struct example	*ex;
	cJSON		*fields;
	enum split	 sp;

	if (row->label == NULL || (fields = cJSON_Parse(row->inputs)) ==
	    NULL)
		return NULL;
	if (!cJSON_IsObject(fields) || t->target == NULL) {
		cJSON_Delete(fields);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(fields, t->target);
	cJSON_AddStringToObject(fields, t->target, row->label);
	ex = dataset_add(ds, fields, ORIGIN_SYNTHETIC);
	/* Never test: what was written for the search is not held out. */
	ex->split = split_from_name(row->split, &sp) == 0 &&
	    sp != SPLIT_TEST ? sp : SPLIT_DEV;
	return ex;
}

/*
 * Appends the job's labeled synthetic examples (of every earlier round),
 * in the order they were written.
 */
static int
examples_synthetic(struct store *store, int64_t job_id, struct job *job,
    struct ingest_notes *notes, char **cause)
{
	struct synthetic_row	*rows;
	struct example		*ex;
	size_t			 n, i, count[SPLIT_COUNT] = { 0 }, added;

	if (store_synthetic_list(store, job_id, 0, "labeled", -1, &rows, &n,
	    cause) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((ex = ingest_synthetic_example(job->task.dataset,
		    &job->task, &rows[i])) != NULL)
			count[ex->split]++;
	store_synthetic_rows_free(rows, n);
	added = count[SPLIT_TRAIN] + count[SPLIT_DEV];
	if (added > 0)
		note(notes, "info", "synthetic: %zu labeled example%s of "
		    "earlier rounds: %zu train, %zu dev", added, added == 1 ?
		    "" : "s", count[SPLIT_TRAIN], count[SPLIT_DEV]);
	return 0;
}

long long
ingest_examples(struct store *store, int64_t job_id, struct job *job,
    struct ingest_notes *notes, char **cause)
{
	struct dataset	*ds = job->task.dataset;

	/* What an earlier run of this job added is not the file's. */
	dataset_truncate(ds, ds->nfile);
	if (job->feedback_path != NULL &&
	    job->feedback_examples != EXAMPLES_OFF &&
	    examples_feedback(store, job_id, job, notes, cause) != 0)
		return -1;
	if (job->synthetic.on && examples_synthetic(store, job_id, job, notes,
	    cause) != 0)
		return -1;
	dataset_rehash(ds);
	return (long long)(ds->n - ds->nfile);
}

long long
ingest_examples_resume(struct store *store, int64_t dataset_id,
    struct job *job, struct ingest_notes *notes, char **cause)
{
	struct dataset		*ds = job->task.dataset;
	struct example_row	*rows;
	struct example		*ex;
	enum split		 sp;
	cJSON			*fields;
	enum origin		 origin;
	size_t			 n, i, nfile = 0;
	long long		 feedback = 0, synthetic = 0;

	if (store_dataset_examples(store, dataset_id, &rows, &n, cause) != 0)
		return -1;
	dataset_truncate(ds, 0);
	for (i = 0; i < n; i++) {
		fields = cJSON_Parse(rows[i].fields);
		if (!cJSON_IsObject(fields)) {
			cJSON_Delete(fields);
			fields = cJSON_CreateObject();
		}
		origin = strcmp(rows[i].origin, "feedback") == 0 ?
		    ORIGIN_FEEDBACK : strcmp(rows[i].origin, "synthetic") == 0 ?
		    ORIGIN_SYNTHETIC : ORIGIN_DATASET;
		ex = dataset_add(ds, fields, origin);
		ex->line = (size_t)rows[i].line;
		ex->id = rows[i].id;
		if (split_from_name(rows[i].split, &sp) == 0)
			ex->split = sp;
		/* As stored: the hash of what the snapshot held. */
		if (rows[i].hash[0] != '\0')
			memcpy(ex->hash, rows[i].hash, sizeof ex->hash);
		if (origin == ORIGIN_FEEDBACK)
			feedback++;
		else if (origin == ORIGIN_SYNTHETIC)
			synthetic++;
		else if (nfile == i)
			nfile++;
	}
	ds->nfile = nfile;
	dataset_rehash(ds);
	store_example_rows_free(rows, n);
	if (feedback > 0)
		note(notes, "info", "feedback: the run goes on with the %lld "
		    "example%s from feedback of its snapshot", feedback,
		    feedback == 1 ? "" : "s");
	if (synthetic > 0)
		note(notes, "info", "synthetic: the run goes on with the %lld "
		    "synthetic example%s of its snapshot", synthetic,
		    synthetic == 1 ? "" : "s");
	return feedback + synthetic;
}
