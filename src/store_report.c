/*
 * The store's reads for a job's report (promptctl report): its runs,
 * each run's progress on a split and its calls, a candidate's results
 * example by example and its output on one, one example, and the job's
 * comparisons.  Their statements are in store_stmt.c; the lists are read
 * as store_read.c reads its own (store_list_read()).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util.h"

/* A run's row (RUN_COLUMNS); store_job_runs() reads one too. */
void
store_fill_run(sqlite3_stmt *st, void *p)
{
	struct run_row	*r = p;

	r->id = sqlite3_column_int64(st, 0);
	store_col_copy(st, 1, r->kind, sizeof r->kind);
	store_col_copy(st, 2, r->status, sizeof r->status);
	r->step = sqlite3_column_int(st, 3);
	r->started = sqlite3_column_double(st, 4);
	r->ended = store_col_double(st, 5);
	r->totals.calls = sqlite3_column_int64(st, 6);
	r->totals.hits = sqlite3_column_int64(st, 7);
	r->totals.tokens = sqlite3_column_int64(st, 8);
	r->totals.dollars = sqlite3_column_double(st, 9);
	r->totals.cached = sqlite3_column_int64(st, 10);
	r->dataset = sqlite3_column_int64(st, 11);
}

static void
fill_progress(sqlite3_stmt *st, void *p)
{
	struct progress_row	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->origin = store_col_text(st, 1);
	r->op = store_col_text(st, 2);
	r->n = sqlite3_column_int64(st, 3);
	r->mean = sqlite3_column_double(st, 4);
	r->calls = sqlite3_column_int64(st, 5);
	r->dollars = sqlite3_column_double(st, 6);
	r->time = sqlite3_column_double(st, 7);
}

static void
release_progress(void *p)
{
	struct progress_row	*r = p;

	free(r->origin);
	free(r->op);
}

static void
fill_result(sqlite3_stmt *st, void *p)
{
	struct result_row	*r = p;

	r->example = sqlite3_column_int64(st, 0);
	r->score = store_col_double(st, 1);
	r->failed = isnan(r->score);
}

static void
fill_call(sqlite3_stmt *st, void *p)
{
	struct call_row	*c = p;

	c->id = sqlite3_column_int64(st, 0);
	c->backend = store_col_text(st, 1);
	c->model = store_col_text(st, 2);
	c->role = store_col_text(st, 3);
	store_col_copy(st, 4, c->status, sizeof c->status);
	c->http_status = sqlite3_column_int(st, 5);	/* 0 for NULL */
	c->attempt = sqlite3_column_int(st, 6);
	c->prompt_tokens = sqlite3_column_int64(st, 7);
	c->completion_tokens = sqlite3_column_int64(st, 8);
	c->cost = sqlite3_column_double(st, 9);
	c->latency = store_col_double(st, 10);
	c->created = sqlite3_column_double(st, 11);
	c->error = store_col_text(st, 12);
}

static void
release_call(void *p)
{
	struct call_row	*c = p;

	free(c->backend);
	free(c->model);
	free(c->role);
	free(c->error);
}

static const struct store_list list_runs = { STMT_RUN_LIST,
	sizeof (struct run_row), store_fill_run, NULL };
static const struct store_list list_progress = { STMT_RUN_PROGRESS,
	sizeof (struct progress_row), fill_progress, release_progress };
static const struct store_list list_results = { STMT_CANDIDATE_RESULTS,
	sizeof (struct result_row), fill_result, NULL };
static const struct store_list list_calls = { STMT_RUN_CALLS,
	sizeof (struct call_row), fill_call, release_call };
static const struct store_list list_comparisons = { STMT_COMPARISON_LIST,
	sizeof (struct comparison_row), store_fill_comparison,
	store_release_comparison };

int
store_run_list(struct store *s, int64_t job, struct run_row **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_runs, &p, n, cause, "i", job);
	*rows = p;
	return rc;
}

int
store_run_progress(struct store *s, int64_t run, int64_t dataset,
    const char *split, struct progress_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_progress, &p, n, cause, "iit", run,
	    dataset, split);
	*rows = p;
	return rc;
}

void
store_progress_rows_free(struct progress_row *rows, size_t n)
{
	store_list_free(&list_progress, rows, n);
}

int
store_candidate_spent(struct store *s, int64_t candidate, long long *calls,
    double *dollars, char **cause)
{
	sqlite3_stmt	*st;

	*calls = 0;
	*dollars = 0;
	if ((st = store_stmt_row(s, STMT_CANDIDATE_SPENT, cause, "i",
	    candidate)) == NULL)
		return -1;
	*calls = sqlite3_column_int64(st, 0);
	*dollars = sqlite3_column_double(st, 1);
	store_stmt_reset(st);
	return 0;
}

int
store_candidate_results(struct store *s, int64_t candidate, int64_t dataset,
    const char *split, struct result_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_results, &p, n, cause, "iit", candidate,
	    dataset, split);
	*rows = p;
	return rc;
}

/* The columns of EXAMPLE_COLUMNS, in order. */
void
store_fill_example(sqlite3_stmt *st, void *p)
{
	struct example_row	*x = p;

	x->id = sqlite3_column_int64(st, 0);
	x->idx = sqlite3_column_int(st, 1);
	x->line = sqlite3_column_int(st, 2);	/* 0 for NULL */
	store_col_copy(st, 3, x->split, sizeof x->split);
	x->fields = store_col_text(st, 4);
	store_col_copy(st, 5, x->origin, sizeof x->origin);
	store_col_copy(st, 6, x->hash, sizeof x->hash);
}

void
store_release_example(void *p)
{
	struct example_row	*x = p;

	free(x->fields);
}

int
store_example_get(struct store *s, int64_t id, struct example_row *x,
    char **cause)
{
	int	rc;

	memset(x, 0, sizeof *x);
	if ((rc = store_stmt_step(s, STMT_EXAMPLE_GET, cause, "i", id)) <= 0)
		return rc;
	store_fill_example(s->stmt[STMT_EXAMPLE_GET], x);
	store_stmt_reset(s->stmt[STMT_EXAMPLE_GET]);
	return 1;
}

void
store_example_row_release(struct example_row *x)
{
	if (x == NULL)
		return;
	store_release_example(x);
	memset(x, 0, sizeof *x);
}

int
store_evaluation_output(struct store *s, int64_t candidate, int64_t example,
    char **output, double *score, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*output = NULL;
	*score = NAN;
	if ((rc = store_stmt_step(s, STMT_EVALUATION_OUTPUT, cause, "ii",
	    candidate, example)) <= 0)
		return rc;
	st = s->stmt[STMT_EVALUATION_OUTPUT];
	*output = store_col_text(st, 0);
	*score = store_col_double(st, 1);
	store_stmt_reset(st);
	return 1;
}

int
store_run_calls(struct store *s, int64_t run, struct call_row **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_calls, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

void
store_call_rows_free(struct call_row *rows, size_t n)
{
	store_list_free(&list_calls, rows, n);
}

int
store_comparison_list(struct store *s, int64_t job, int answered,
    struct comparison_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_comparisons, &p, n, cause, "in", job,
	    answered != 0);
	*rows = p;
	return rc;
}
