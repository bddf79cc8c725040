/*
 * The duel strategy's start from what people decided (duel_int.h): the
 * job's human comparisons between prompts become the first duels of a
 * new run's history, so that APOHF's network is fitted to them before
 * the run asks for any.  Only comparisons made by the time the run
 * started count (store_comparison_human()), and the history is kept in
 * the checkpoint, so a resumed run sees the same evidence and reads
 * nothing again.
 */
#include <stdlib.h>
#include <string.h>

#include "duel_int.h"
#include "log.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* The place of a candidate (by id) in the pool, or npool. */
static size_t
pool_find(struct cand *const *pool, size_t npool, int64_t id)
{
	size_t	i;

	for (i = 0; i < npool && pool[i]->id != id; i++)
		;
	return i;
}

/*
 * The place of candidate id in the pool, adding it while there is room:
 * 1 with *at, 0 when it stays out (no room, or not a prompt of the job:
 * a response of arms "responses" is a candidate too), -1.
 */
static int
pool_join(struct search *s, struct cand ***pool, size_t *npool, size_t cap,
    int64_t id, size_t *at, char **cause)
{
	struct candidate_row	 row;
	struct cand		*c;
	int			 rc;

	if ((*at = pool_find(*pool, *npool, id)) < *npool)
		return 1;
	if (*npool >= cap)
		return 0;
	if ((rc = store_candidate_get(s->store, id, &row, cause)) <= 0)
		return rc;
	if (row.job != s->job_id || strcmp(row.origin, "duel-response") == 0) {
		store_candidate_row_release(&row);
		return 0;
	}
	c = search_add(s, row.text, row.origin, NULL, 0, NULL, NULL, cause);
	store_candidate_row_release(&row);
	if (c == NULL)
		return -1;
	/*
	 * The text as the search normalizes it may be another candidate,
	 * one the pool has already.
	 */
	if ((*at = pool_find(*pool, *npool, c->id)) < *npool)
		return 1;
	/* Like the induced prompts: scored on dev only if recommended. */
	if (!search_complete(s, c))
		c->raced_out = 1;
	*pool = xreallocarray(*pool, *npool + 1, sizeof **pool);
	(*pool)[(*npool)++] = c;
	return 1;
}

long long
duel_human_start(struct search *s, struct cand ***pool, size_t *npool,
    size_t cap, struct bandit_hist *hist, char **cause)
{
	struct comparison_row	*rows;
	size_t			 n, i, a, b;
	long long		 added = 0;
	int			 ra, rb;

	if (store_comparison_human(s->store, s->job_id, s->run_id, &rows, &n,
	    cause) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rows[i].a == rows[i].b)
			continue;
		if ((ra = pool_join(s, pool, npool, cap, rows[i].a, &a,
		    cause)) < 0 || (rb = pool_join(s, pool, npool, cap,
		    rows[i].b, &b, cause)) < 0) {
			added = -1;
			break;
		}
		if (ra == 0 || rb == 0 || a == b)
			continue;
		bandit_hist_add(hist, (uint32_t)a, (uint32_t)b,
		    strcmp(rows[i].winner, "a") == 0 ? 1.0f :
		    strcmp(rows[i].winner, "b") == 0 ? 0.0f : 0.5f);
		added++;
	}
	store_comparison_rows_free(rows, n);
	if (added > 0)
		log_info("job '%s': duel: starting from %lld of people's "
		    "duels; the pool has %zu prompts", s->task->name, added,
		    *npool);
	return added;
}

/* A person decides the duels with feedback "human". */
int
duel_wants_feedback(const struct search *s)
{
	return strcmp(search_string(s, "feedback"), "human") == 0;
}
