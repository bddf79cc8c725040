/*
 * The store's synthetic examples (store.h): the inputs the optimizer
 * wrote for a job near the boundary of its task, pending until the judge
 * or a person labels them or they are dropped, and the snapshot a run
 * goes on with once they joined it.  Their statements are in
 * store_stmt.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

int64_t
store_synthetic_add(struct store *s, const struct synthetic_record *r,
    int64_t *run, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 id;
	int		 rc;

	if (store_stmt_step(s, STMT_SYNTHETIC_ADD, cause, "iittttttd", r->job,
	    r->run, r->key, r->inputs, r->input, r->split, r->labeler,
	    r->choices, time_now()) != 0)
		return -1;
	if ((rc = store_stmt_step(s, STMT_SYNTHETIC_FIND, cause, "it", r->job,
	    r->key)) < 0)
		return -1;
	if (rc == 0)
		return cause_set(cause, "store: add synthetic example: the "
		    "row is gone");
	st = s->stmt[STMT_SYNTHETIC_FIND];
	id = sqlite3_column_int64(st, 0);
	*run = sqlite3_column_int64(st, 1);
	store_stmt_reset(st);
	return id;
}

static void
fill_synthetic(sqlite3_stmt *st, void *p)
{
	struct synthetic_row	*r = p;

	r->id = sqlite3_column_int64(st, 0);
	r->job = sqlite3_column_int64(st, 1);
	r->run = sqlite3_column_int64(st, 2);
	r->key = store_col_text(st, 3);
	r->inputs = store_col_text(st, 4);
	r->input = store_col_text(st, 5);
	store_col_copy(st, 6, r->split, sizeof r->split);
	store_col_copy(st, 7, r->labeler, sizeof r->labeler);
	r->choices = store_col_text(st, 8);
	store_col_copy(st, 9, r->status, sizeof r->status);
	r->label = store_col_text(st, 10);
	r->reason = store_col_text(st, 11);
	r->who = store_col_text(st, 12);
	r->created = sqlite3_column_double(st, 13);
	r->answered = store_col_double(st, 14);
}

void
store_synthetic_row_release(struct synthetic_row *r)
{
	if (r == NULL)
		return;
	free(r->key);
	free(r->inputs);
	free(r->input);
	free(r->choices);
	free(r->label);
	free(r->reason);
	free(r->who);
	memset(r, 0, sizeof *r);
}

static void
release_synthetic(void *p)
{
	store_synthetic_row_release(p);
}

static const struct store_list list_synthetic = { STMT_SYNTHETIC_LIST,
	sizeof (struct synthetic_row), fill_synthetic, release_synthetic };
static const struct store_list list_synthetic_one = { STMT_SYNTHETIC_GET,
	sizeof (struct synthetic_row), fill_synthetic, release_synthetic };

int
store_synthetic_list(struct store *s, int64_t job, int64_t run,
    const char *status, int limit, struct synthetic_row **rows, size_t *n,
    char **cause)
{
	return store_list_read(s, &list_synthetic, (void **)rows, n, cause,
	    "iItn", job, run, status, limit < 0 ? -1 : limit);
}

int
store_synthetic_get(struct store *s, int64_t id, struct synthetic_row *row,
    char **cause)
{
	struct synthetic_row	*rows;
	size_t			 n;

	memset(row, 0, sizeof *row);
	if (store_list_read(s, &list_synthetic_one, (void **)&rows, &n, cause,
	    "i", id) != 0)
		return -1;
	if (n == 0)
		return 0;
	*row = rows[0];
	free(rows);
	return 1;
}

void
store_synthetic_rows_free(struct synthetic_row *rows, size_t n)
{
	store_list_free(&list_synthetic, rows, n);
}

int
store_synthetic_answer(struct store *s, int64_t id, const char *label,
    const char *reason, const char *who, char **cause)
{
	if (store_stmt_step(s, STMT_SYNTHETIC_ANSWER, cause, "itttd", id, label,
	    label != NULL ? NULL : reason, who, time_now()) != 0)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

int
store_run_set_dataset(struct store *s, int64_t run, int64_t dataset,
    char **cause)
{
	if (store_stmt_step(s, STMT_RUN_SET_DATASET, cause, "ii", run,
	    dataset) != 0)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return cause_set(cause, "store: set a run's dataset snapshot: "
		    "no run %lld", (long long)run);
	return 0;
}
