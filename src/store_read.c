/*
 * The store's reads: for the engine and the runs (the cache, what a run
 * spent, its scores and failures, a run to resume, candidates and
 * champions) and for the read-only queries (query.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The rows the reads hand back: for each type, fill reads one from the
 * statement's current row and release frees what one owns.
 */

static void
fill_job(sqlite3_stmt *st, void *p)
{
	struct job_row	*j = p;

	j->id = sqlite3_column_int64(st, 0);
	j->name = store_col_text(st, 1);
	j->spec = store_col_text(st, 2);
	j->state = store_col_text(st, 3);
	j->reason = store_col_text(st, 4);
	j->created = sqlite3_column_double(st, 5);
	j->updated = sqlite3_column_double(st, 6);
	j->file = store_col_text(st, 7);
}

static void
release_job(void *p)
{
	store_job_row_release(p);
}

/* A promotion's risk bound from column i on; measure "" for none. */
static void
store_champion_risk_read(sqlite3_stmt *st, int i, struct champion_risk *r)
{
	const unsigned char	*m = sqlite3_column_text(st, i);

	memset(r, 0, sizeof *r);
	if (m != NULL)
		snprintf(r->measure, sizeof r->measure, "%s", (const char *)m);
	r->param = store_col_double(st, i + 1);
	r->bound = store_col_double(st, i + 2);
	r->max = store_col_double(st, i + 3);
	r->confidence = store_col_double(st, i + 4);
	r->n = sqlite3_column_int64(st, i + 5);
}

static void
fill_champion(sqlite3_stmt *st, void *p)
{
	struct champion_row	*h = p;

	h->c.version = sqlite3_column_int(st, 0);
	h->c.candidate = sqlite3_column_int64(st, 1);
	h->c.score = store_col_double(st, 2);
	h->c.lo = store_col_double(st, 3);
	h->c.hi = store_col_double(st, 4);
	h->text = store_col_text(st, 5);
	h->reason = store_col_text(st, 6);
	h->time = sqlite3_column_double(st, 7);
	h->run = sqlite3_column_int64(st, 8);	/* 0 for NULL */
	h->p = store_col_double(st, 9);
	h->delta = store_col_double(st, 10);
	h->paired = sqlite3_column_int64(st, 11);
	h->test_score = store_col_double(st, 12);
	h->test_lo = store_col_double(st, 13);
	h->test_hi = store_col_double(st, 14);
	h->test_n = sqlite3_column_int64(st, 15);
	store_champion_risk_read(st, 16, &h->risk);
}

static void
release_champion(void *p)
{
	struct champion_row	*h = p;

	free(h->text);
	free(h->reason);
}

static void
fill_lineage(sqlite3_stmt *st, void *p)
{
	struct lineage_row	*l = p;

	l->parent = sqlite3_column_int64(st, 0);
	l->text = store_col_text(st, 1);
	l->origin = store_col_text(st, 2);
	l->op = store_col_text(st, 3);
	l->note = store_col_text(st, 4);
	l->tokens = sqlite3_column_int64(st, 5);
}

static void
release_lineage(void *p)
{
	struct lineage_row	*l = p;

	free(l->text);
	free(l->origin);
	free(l->op);
	free(l->note);
}

static void
fill_demo(sqlite3_stmt *st, void *p)
{
	struct demo	*d = p;

	d->example = sqlite3_column_int64(st, 0);
	d->input = store_col_text(st, 1);
	d->output = store_col_text(st, 2);
}

static void
release_demo(void *p)
{
	struct demo	*d = p;

	free(d->input);
	free(d->output);
}

static void
fill_score(sqlite3_stmt *st, void *p)
{
	struct score_row	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->example = sqlite3_column_int64(st, 1);
	r->score = sqlite3_column_double(st, 2);
}

static void
fill_score_sum(sqlite3_stmt *st, void *p)
{
	struct score_sum	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->n = sqlite3_column_int64(st, 1);
	r->total = sqlite3_column_double(st, 2);
	r->squares = sqlite3_column_double(st, 3);
	r->fractional = sqlite3_column_int64(st, 4);
	r->tokens = sqlite3_column_int64(st, 5);
}

static void
fill_event(sqlite3_stmt *st, void *p)
{
	struct event_row	*e = p;

	e->id = sqlite3_column_int64(st, 0);
	e->run = sqlite3_column_int64(st, 1);	/* 0 for NULL */
	e->time = sqlite3_column_double(st, 2);
	e->level = store_col_text(st, 3);
	e->message = store_col_text(st, 4);
}

static void
release_event(void *p)
{
	struct event_row	*e = p;

	free(e->level);
	free(e->message);
}

void
store_fill_comparison(sqlite3_stmt *st, void *p)
{
	struct comparison_row	*r = p;

	r->id = sqlite3_column_int64(st, 0);
	r->job = sqlite3_column_int64(st, 1);
	r->a = sqlite3_column_int64(st, 2);
	r->b = sqlite3_column_int64(st, 3);
	r->example = sqlite3_column_int64(st, 4);	/* 0 for NULL */
	r->input = store_col_text(st, 5);
	r->output_a = store_col_text(st, 6);
	r->output_b = store_col_text(st, 7);
	r->winner = store_col_text(st, 8);
	r->source = store_col_text(st, 9);
	r->who = store_col_text(st, 10);
	r->order_shown = store_col_text(st, 11);
	r->created = store_col_double(st, 12);
	r->answered = store_col_double(st, 13);
}

void
store_release_comparison(void *p)
{
	store_comparison_row_release(p);
}

static void
fill_outcome(sqlite3_stmt *st, void *p)
{
	struct outcome_row	*o = p;

	o->role = store_col_text(st, 0);
	o->outcome = store_col_text(st, 1);
	o->n = sqlite3_column_int64(st, 2);
	o->problem = store_col_text(st, 3);
	o->excerpt = store_col_text(st, 4);
}

static void
release_outcome(void *p)
{
	struct outcome_row	*o = p;

	free(o->role);
	free(o->outcome);
	free(o->problem);
	free(o->excerpt);
}

static void
fill_run_score(sqlite3_stmt *st, void *p)
{
	struct run_score	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->example = sqlite3_column_int64(st, 1);
	r->score = store_col_double(st, 2);
	r->output = store_col_text(st, 3);
	r->error = store_col_text(st, 4);
}

static void
release_run_score(void *p)
{
	struct run_score	*r = p;

	free(r->output);
	free(r->error);
}

static void
fill_failure(sqlite3_stmt *st, void *p)
{
	struct failure_row	*f = p;

	f->backend = store_col_text(st, 0);
	f->http_status = sqlite3_column_int(st, 1);
	f->error = store_col_text(st, 2);
	f->n = sqlite3_column_int64(st, 3);
	f->last = sqlite3_column_int64(st, 4);
}

static void
release_failure(void *p)
{
	struct failure_row	*f = p;

	free(f->backend);
	free(f->error);
}

static void
fill_role_spend(sqlite3_stmt *st, void *p)
{
	struct role_spend	*r = p;

	r->role = store_col_text(st, 0);
	r->calls = sqlite3_column_int64(st, 1);
	r->hits = sqlite3_column_int64(st, 2);
	r->prompt_tokens = sqlite3_column_int64(st, 3);
	r->completion_tokens = sqlite3_column_int64(st, 4);
	r->dollars = sqlite3_column_double(st, 5);
}

static void
release_role_spend(void *p)
{
	free(((struct role_spend *)p)->role);
}

/* A row of store_candidates_top(), before it is split in two arrays. */
struct top_row {
	int64_t		 id;
	char		*text;
};

static void
fill_top(sqlite3_stmt *st, void *p)
{
	struct top_row	*t = p;

	t->id = sqlite3_column_int64(st, 0);
	t->text = store_col_text(st, 1);
}

static void
release_top(void *p)
{
	free(((struct top_row *)p)->text);
}

static void
fill_key(sqlite3_stmt *st, void *p)
{
	*(char **)p = store_col_text(st, 0);
}

static void
release_key(void *p)
{
	free(*(char **)p);
}

/*
 * The lists the reads give: the statement, the size of a row, and how to
 * fill one and free what one owns (NULL: nothing).
 */
enum list {
	LIST_JOBS,
	LIST_CHAMPIONS,
	LIST_LINEAGE,
	LIST_SCORE_SUMS,
	LIST_SCORES,
	LIST_EVENTS_AFTER,
	LIST_EVENTS_LAST,
	LIST_COMPARISONS,
	LIST_OUTCOMES,
	LIST_RUN_SCORES,
	LIST_FAILURES,
	LIST_ROLE_SPEND,
	LIST_TOP,
	LIST_BATCH_KEYS,
	LIST_DEMOS
};

static const struct store_list list_table[] = {
	[LIST_JOBS] = { STMT_JOB_LIST, sizeof (struct job_row),
	    fill_job, release_job },
	[LIST_CHAMPIONS] = { STMT_CHAMPION_HISTORY,
	    sizeof (struct champion_row), fill_champion, release_champion },
	[LIST_LINEAGE] = { STMT_LINEAGE_PARENTS, sizeof (struct lineage_row),
	    fill_lineage, release_lineage },
	[LIST_SCORE_SUMS] = { STMT_SCORE_SUMS, sizeof (struct score_sum),
	    fill_score_sum, NULL },
	[LIST_SCORES] = { STMT_SCORES, sizeof (struct score_row),
	    fill_score, NULL },
	[LIST_EVENTS_AFTER] = { STMT_EVENTS_AFTER, sizeof (struct event_row),
	    fill_event, release_event },
	[LIST_EVENTS_LAST] = { STMT_EVENTS_LAST, sizeof (struct event_row),
	    fill_event, release_event },
	[LIST_COMPARISONS] = { STMT_COMPARISON_PENDING,
	    sizeof (struct comparison_row), store_fill_comparison,
	    store_release_comparison },
	[LIST_OUTCOMES] = { STMT_OUTCOME_COUNTS, sizeof (struct outcome_row),
	    fill_outcome, release_outcome },
	[LIST_RUN_SCORES] = { STMT_RUN_SCORES, sizeof (struct run_score),
	    fill_run_score, release_run_score },
	[LIST_FAILURES] = { STMT_CALL_FAILURES, sizeof (struct failure_row),
	    fill_failure, release_failure },
	[LIST_ROLE_SPEND] = { STMT_ROLE_SPEND, sizeof (struct role_spend),
	    fill_role_spend, release_role_spend },
	[LIST_TOP] = { STMT_CANDIDATE_TOP, sizeof (struct top_row),
	    fill_top, release_top },
	[LIST_BATCH_KEYS] = { STMT_BATCH_KEYS, sizeof (char *),
	    fill_key, release_key },
	[LIST_DEMOS] = { STMT_DEMO_LIST, sizeof (struct demo), fill_demo,
	    release_demo },
};

/* Frees n rows of list l and the array. */
static void
list_free(enum list l, void *rows, size_t n)
{
	store_list_free(&list_table[l], rows, n);
}

/* Reads every row of list l (store_list_read()). */
static int
list_read(struct store *s, enum list l, void **rows, size_t *n,
    char **cause, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = store_list_vread(s, &list_table[l], rows, n, cause, fmt, ap);
	va_end(ap);
	return rc;
}

int64_t
store_job_find(struct store *s, const char *name, char **cause)
{
	int64_t	id = 0;

	if (store_stmt_int64(s, STMT_JOB_FIND, &id, cause, "t", name) < 0)
		return -1;
	return id;
}

int
store_cache_get(struct store *s, const char *key, char **response,
    char **cause)
{
	sqlite3_stmt	*st;
	const char	*v;
	int		 r;

	*response = NULL;
	if ((r = store_stmt_step(s, STMT_CACHE_GET, cause, "t", key)) != 1)
		return r;
	st = s->stmt[STMT_CACHE_GET];
	v = (const char *)sqlite3_column_text(st, 0);
	if (v == NULL) {
		store_fail(s, store_stmt_table[STMT_CACHE_GET].what, cause);
		store_stmt_reset(st);
		return -1;
	}
	*response = xstrndup(v, (size_t)sqlite3_column_bytes(st, 0));
	store_stmt_reset(st);
	return 1;
}

int
store_run_spent(struct store *s, int64_t run, struct run_totals *t,
    char **cause)
{
	sqlite3_stmt	*st;

	memset(t, 0, sizeof *t);
	if ((st = store_stmt_row(s, STMT_RUN_SPENT, cause, "i", run)) == NULL)
		return -1;
	t->calls = sqlite3_column_int64(st, 0);
	t->hits = sqlite3_column_int64(st, 1);
	t->tokens = sqlite3_column_int64(st, 2);
	t->dollars = sqlite3_column_double(st, 3);
	t->cached = sqlite3_column_int64(st, 4);
	store_stmt_reset(st);
	return 0;
}

int
store_comparison_count(struct store *s, int64_t job, const char *source,
    long long *n, char **cause)
{
	int64_t	v = 0;

	if (store_stmt_int64(s, STMT_COMPARISON_COUNT, &v, cause, "it", job,
	    source) < 0)
		return -1;
	*n = (long long)v;
	return 0;
}

int64_t
store_run_open(struct store *s, int64_t job, const char *kind, int *step,
    char **state, char **cause)
{
	sqlite3_stmt	*st;
	const char	*t;
	int64_t		 id;
	int		 rc;

	if ((rc = store_stmt_step(s, STMT_RUN_OPEN, cause, "it", job,
	    kind)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_OPEN];
	id = sqlite3_column_int64(st, 0);
	*step = sqlite3_column_int(st, 1);
	t = (const char *)sqlite3_column_text(st, 2);
	*state = t != NULL ? xstrdup(t) : NULL;
	store_stmt_reset(st);
	return id;
}

int
store_champion_latest(struct store *s, int64_t job, struct champion *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_stmt_step(s, STMT_CHAMPION_LATEST, cause, "i",
	    job)) <= 0)
		return rc;
	st = s->stmt[STMT_CHAMPION_LATEST];
	c->version = sqlite3_column_int(st, 0);
	c->candidate = sqlite3_column_int64(st, 1);
	/* NAN for a champion put forward unscored (no dev examples). */
	c->score = store_col_double(st, 2);
	c->lo = store_col_double(st, 3);
	c->hi = store_col_double(st, 4);
	store_stmt_reset(st);
	return 1;
}

int
store_candidates_top(struct store *s, int64_t job, int k, int min_evals,
    int64_t **ids, char ***texts, size_t *n, char **cause)
{
	struct top_row	*rows;
	void		*p;
	size_t		 i;

	*ids = NULL;
	*texts = NULL;
	if (list_read(s, LIST_TOP, &p, n, cause, "inn", job, k,
	    min_evals) != 0)
		return -1;
	rows = p;
	if (*n > 0) {
		*ids = xreallocarray(NULL, *n, sizeof **ids);
		*texts = xreallocarray(NULL, *n, sizeof **texts);
	}
	for (i = 0; i < *n; i++) {
		(*ids)[i] = rows[i].id;
		(*texts)[i] = rows[i].text;
	}
	free(rows);
	return 0;
}

char *
store_candidate_text(struct store *s, int64_t id, char **cause)
{
	sqlite3_stmt	*st;
	char		*text;
	int		 rc;

	if ((rc = store_stmt_step(s, STMT_CANDIDATE_GET, cause, "i",
	    id)) <= 0) {
		if (rc == 0)
			cause_set(cause, "no candidate %lld", (long long)id);
		return NULL;
	}
	st = s->stmt[STMT_CANDIDATE_GET];
	text = xstrdup((const char *)sqlite3_column_text(st, 0));
	store_stmt_reset(st);
	return text;
}

void
store_job_row_release(struct job_row *j)
{
	if (j == NULL)
		return;
	free(j->name);
	free(j->spec);
	free(j->state);
	free(j->reason);
	free(j->file);
	memset(j, 0, sizeof *j);
}

void
store_job_rows_free(struct job_row *rows, size_t n)
{
	list_free(LIST_JOBS, rows, n);
}

int
store_job_list(struct store *s, struct job_row **rows, size_t *n,
    char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_JOBS, &p, n, cause, "");
	*rows = p;
	return rc;
}

int
store_job_get(struct store *s, const char *name, struct job_row *j,
    char **cause)
{
	int	rc;

	memset(j, 0, sizeof *j);
	if ((rc = store_stmt_step(s, STMT_JOB_GET, cause, "t", name)) <= 0)
		return rc;
	fill_job(s->stmt[STMT_JOB_GET], j);
	store_stmt_reset(s->stmt[STMT_JOB_GET]);
	return 1;
}

int
store_job_runs(struct store *s, int64_t job, int *nruns,
    struct run_totals *sum, struct run_row *latest, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(latest, 0, sizeof *latest);
	if ((st = store_stmt_row(s, STMT_RUN_SUM, cause, "i", job)) == NULL)
		return -1;
	*nruns = sqlite3_column_int(st, 0);
	sum->calls = sqlite3_column_int64(st, 1);
	sum->hits = sqlite3_column_int64(st, 2);
	sum->tokens = sqlite3_column_int64(st, 3);
	sum->dollars = sqlite3_column_double(st, 4);
	sum->cached = sqlite3_column_int64(st, 5);
	store_stmt_reset(st);
	if ((rc = store_stmt_step(s, STMT_RUN_LATEST, cause, "i", job)) <= 0)
		return rc;
	store_fill_run(s->stmt[STMT_RUN_LATEST], latest);
	store_stmt_reset(s->stmt[STMT_RUN_LATEST]);
	return 1;
}

void
store_champion_rows_free(struct champion_row *rows, size_t n)
{
	list_free(LIST_CHAMPIONS, rows, n);
}

int
store_champion_history(struct store *s, int64_t job,
    struct champion_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_CHAMPIONS, &p, n, cause, "i", job);
	*rows = p;
	return rc;
}

int
store_candidate_get(struct store *s, int64_t id, struct candidate_row *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((rc = store_stmt_step(s, STMT_CANDIDATE_ROW, cause, "i", id)) <= 0)
		return rc;
	st = s->stmt[STMT_CANDIDATE_ROW];
	c->id = sqlite3_column_int64(st, 0);
	c->job = sqlite3_column_int64(st, 1);
	c->text = store_col_text(st, 2);
	c->origin = store_col_text(st, 3);
	c->tokens = sqlite3_column_int64(st, 4);
	store_stmt_reset(st);
	if (store_candidate_demos(s, id, &c->demos, cause) != 0) {
		store_candidate_row_release(c);
		return -1;
	}
	return 1;
}

int
store_candidate_demos(struct store *s, int64_t id, struct demos *d,
    char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_DEMOS, &p, &d->n, cause, "i", id);
	d->v = p;
	return rc;
}

void
store_candidate_row_release(struct candidate_row *c)
{
	if (c == NULL)
		return;
	free(c->text);
	free(c->origin);
	demos_release(&c->demos);
	memset(c, 0, sizeof *c);
}

void
store_lineage_rows_free(struct lineage_row *rows, size_t n)
{
	list_free(LIST_LINEAGE, rows, n);
}

int
store_lineage_parents(struct store *s, int64_t child,
    struct lineage_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_LINEAGE, &p, n, cause, "i", child);
	*rows = p;
	return rc;
}

int64_t
store_dataset_latest(struct store *s, int64_t job, char **cause)
{
	int64_t	id = 0;

	if (store_stmt_int64(s, STMT_DATASET_LATEST, &id, cause, "i", job) < 0)
		return -1;
	return id;
}

int
store_score_sums(struct store *s, int64_t job, int64_t dataset,
    const char *split, struct score_sum **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_SCORE_SUMS, &p, n, cause, "iit", job, dataset,
	    split);
	*rows = p;
	return rc;
}

int
store_candidate_scores(struct store *s, int64_t candidate, int64_t dataset,
    const char *split, struct score_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_SCORES, &p, n, cause, "iit", candidate,
	    dataset, split);
	*rows = p;
	return rc;
}

void
store_event_rows_free(struct event_row *rows, size_t n)
{
	list_free(LIST_EVENTS_AFTER, rows, n);
}

int
store_events(struct store *s, int64_t job, int64_t after, int limit,
    struct event_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	if (after >= 0)
		rc = list_read(s, LIST_EVENTS_AFTER, &p, n, cause, "iin", job,
		    after, limit);
	else
		rc = list_read(s, LIST_EVENTS_LAST, &p, n, cause, "in", job,
		    limit);
	*rows = p;
	return rc;
}

int
store_run_checkpoint_latest(struct store *s, int64_t job, const char *kind,
    const char *key, struct run_checkpoint *cp, char **cause)
{
	sqlite3_stmt	*st;
	char		*member;
	int		 rc;

	memset(cp, 0, sizeof *cp);
	member = key != NULL ? xasprintf("\"%s\":", key) : NULL;
	rc = store_stmt_step(s, STMT_RUN_CHECKPOINT_LATEST, cause, "itt", job,
	    kind, member);
	free(member);
	if (rc <= 0)
		return rc;
	st = s->stmt[STMT_RUN_CHECKPOINT_LATEST];
	cp->id = sqlite3_column_int64(st, 0);
	store_col_copy(st, 1, cp->status, sizeof cp->status);
	cp->step = sqlite3_column_int(st, 2);
	cp->saved = sqlite3_column_int(st, 3);
	cp->state = store_col_text(st, 4);
	store_stmt_reset(st);
	return 1;
}

int
store_run_last(struct store *s, int64_t job, const char *kind,
    double *started, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_stmt_step(s, STMT_RUN_LAST, cause, "it", job,
	    kind)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_LAST];
	rc = sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (rc)
		*started = sqlite3_column_double(st, 0);
	store_stmt_reset(st);
	return rc;
}

void
store_comparison_row_release(struct comparison_row *r)
{
	if (r == NULL)
		return;
	free(r->input);
	free(r->output_a);
	free(r->output_b);
	free(r->winner);
	free(r->source);
	free(r->who);
	free(r->order_shown);
	memset(r, 0, sizeof *r);
}

void
store_comparison_rows_free(struct comparison_row *rows, size_t n)
{
	list_free(LIST_COMPARISONS, rows, n);
}

int
store_comparison_pending(struct store *s, int64_t job, int limit,
    struct comparison_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_COMPARISONS, &p, n, cause, "in", job,
	    limit);
	*rows = p;
	return rc;
}

int
store_comparison_get(struct store *s, int64_t id, struct comparison_row *r,
    char **cause)
{
	int	rc;

	memset(r, 0, sizeof *r);
	if ((rc = store_stmt_step(s, STMT_COMPARISON_GET, cause, "i", id)) <= 0)
		return rc;
	store_fill_comparison(s->stmt[STMT_COMPARISON_GET], r);
	store_stmt_reset(s->stmt[STMT_COMPARISON_GET]);
	return 1;
}

void
store_outcome_rows_free(struct outcome_row *rows, size_t n)
{
	list_free(LIST_OUTCOMES, rows, n);
}

int
store_outcome_counts(struct store *s, int64_t run, struct outcome_row **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_OUTCOMES, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

void
store_run_scores_free(struct run_score *rows, size_t n)
{
	list_free(LIST_RUN_SCORES, rows, n);
}

int
store_run_scores(struct store *s, int64_t run, struct run_score **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_RUN_SCORES, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

void
store_failure_rows_free(struct failure_row *rows, size_t n)
{
	list_free(LIST_FAILURES, rows, n);
}

int
store_call_failures(struct store *s, int64_t run, int64_t after,
    struct failure_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_FAILURES, &p, n, cause, "ii", run,
	    after);
	*rows = p;
	return rc;
}

void
store_role_spend_free(struct role_spend *rows, size_t n)
{
	list_free(LIST_ROLE_SPEND, rows, n);
}

int
store_role_spend(struct store *s, int64_t run, struct role_spend **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = list_read(s, LIST_ROLE_SPEND, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

int
store_batch_find(struct store *s, const char *backend, const char *key,
    struct batch_row *b, char ***keys, size_t *nkeys, char **cause)
{
	sqlite3_stmt	*st;
	void		*p;
	int		 rc;

	memset(b, 0, sizeof *b);
	*keys = NULL;
	*nkeys = 0;
	if ((rc = store_stmt_step(s, STMT_BATCH_FIND, cause, "tt", key,
	    backend)) != 1)
		return rc;
	st = s->stmt[STMT_BATCH_FIND];
	b->id = sqlite3_column_int64(st, 0);
	b->token = store_col_text(st, 1);
	b->step = store_col_text(st, 2);
	b->input = store_col_text(st, 3);
	b->ninput = (size_t)sqlite3_column_int64(st, 4);
	b->file = store_col_text(st, 5);
	b->provider_id = store_col_text(st, 6);
	b->output = store_col_text(st, 7);
	b->errors = store_col_text(st, 8);
	store_stmt_reset(st);
	if (list_read(s, LIST_BATCH_KEYS, &p, nkeys, cause, "i",
	    b->id) != 0) {
		store_batch_row_release(b);
		return -1;
	}
	*keys = p;
	return 1;
}

void
store_batch_row_release(struct batch_row *b)
{
	free(b->token);
	free(b->step);
	free(b->input);
	free(b->file);
	free(b->provider_id);
	free(b->output);
	free(b->errors);
	free(b->cause);
	memset(b, 0, sizeof *b);
}
