/*
 * What the duel strategy's files share: duel.c holds the strategy (its
 * parameters, steps and checkpoint), duel_human.c the history a run of
 * arms "prompts" starts from, people's preferences.  Private to
 * strategies/: nothing else includes it.
 */
#ifndef DUEL_INT_H
#define DUEL_INT_H

#include <stddef.h>

#include "bandit.h"
#include "search.h"

/*
 * People's duels (promptd-feedback(5): preferences ingested from
 * production, and duels answered at promptctl feedback) that the job had
 * when the run started, appended to hist as duels of the pool's arms.
 * A comparison of a candidate not in the pool adds it to the pool (and
 * to the search's candidates, out of the dev race) while the pool holds
 * fewer than cap; a comparison whose candidate does not join it, or
 * that is not of two prompts, is left out.  Returns the duels appended,
 * or -1 with *cause.
 */
long long	 duel_human_start(struct search *, struct cand ***pool,
		    size_t *npool, size_t cap, struct bandit_hist *hist,
		    char **cause);
/* Whether people decide the duels (feedback "human"). */
int		 duel_wants_feedback(const struct search *);

#endif
