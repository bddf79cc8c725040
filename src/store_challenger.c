/*
 * The store's challengers (store.h): a candidate deployed beside a job's
 * champion, opened and ended with its outcome, and the production
 * ratings of a candidate that decide it.  Their statements are in
 * store_stmt.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "feedback.h"
#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

int
store_challenger_current(struct store *s, int64_t job, struct challenger *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((rc = store_stmt_step(s, STMT_CHALLENGER_CURRENT, cause, "i",
	    job)) <= 0)
		return rc;
	st = s->stmt[STMT_CHALLENGER_CURRENT];
	c->id = sqlite3_column_int64(st, 0);
	c->candidate = sqlite3_column_int64(st, 1);
	c->share = sqlite3_column_double(st, 2);
	c->started = sqlite3_column_double(st, 3);
	store_stmt_reset(st);
	return 1;
}

int64_t
store_challenger_add(struct store *s, int64_t job, int64_t candidate,
    double share, char **cause)
{
	if (store_stmt_step(s, STMT_CHALLENGER_ADD, cause, "iidd", job,
	    candidate, share, time_now()) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_challenger_end(struct store *s, int64_t id, const char *outcome,
    char **cause)
{
	if (store_stmt_step(s, STMT_CHALLENGER_END, cause, "idt", id,
	    time_now(), outcome) != 0)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return cause_set(cause, "store: end challenger: challenger "
		    "%lld is not open", (long long)id);
	return 0;
}

/* A rating as feedback_rating_value() reads it, from its two columns. */
static void
fill_rating(sqlite3_stmt *st, void *p)
{
	struct interaction	 it;
	const char		*scale;

	memset(&it, 0, sizeof it);
	scale = (const char *)sqlite3_column_text(st, 0);
	if (scale != NULL && strcmp(scale, "thumbs") == 0)
		it.scale = RATING_THUMBS;
	else if (scale != NULL && strcmp(scale, "stars") == 0)
		it.scale = RATING_STARS;
	it.rating = sqlite3_column_int(st, 1);
	*(double *)p = feedback_rating_value(&it);
}

static const struct store_list list_ratings = { STMT_CANDIDATE_RATINGS,
	sizeof (double), fill_rating, NULL };

int
store_candidate_ratings(struct store *s, int64_t job, int64_t candidate,
    double since, int64_t run, double **values, size_t *n, char **cause)
{
	double	*v;
	void	*p;
	size_t	 i, m = 0;
	int	 rc;

	rc = store_list_read(s, &list_ratings, &p, n, cause, "iidi", job,
	    candidate, since, run);
	/* A scale the store does not know reads as no rating. */
	v = p;
	for (i = 0; rc == 0 && i < *n; i++)
		if (!isnan(v[i]))
			v[m++] = v[i];
	if (rc == 0)
		*n = m;
	*values = v;
	return rc;
}
