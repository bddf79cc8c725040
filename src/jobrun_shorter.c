/*
 * Cost-aware selection: a job that sets "prefer_shorter" pays for its
 * champion's prompt on every production call, so of the candidates that
 * are as good as the best, give or take the job's tolerance, the one of
 * fewest prompt tokens is put forward.  "As good" is what a paired test
 * on the dev examples says, one-sided at the job's alpha: a candidate is
 * worse when the best's mean minus its mean is found above the
 * tolerance, and only then; a difference the examples cannot tell from
 * the tolerance is not held against the cheaper prompt.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "job.h"
#include "jobrun.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The one-sided p of mean(best - c) > tol on the examples both scored:
 * the paired test of best against c's scores raised by tol.  *n is the
 * number of pairs.
 */
static double
jobrun_shorter_p(const struct search *s, const struct cand *best,
    const struct cand *c, double tol, size_t *n)
{
	double	*x, p;
	size_t	 i;

	x = xcalloc(s->ndev + 1, sizeof *x);
	for (i = 0; i < s->ndev; i++)
		x[i] = c->scores[i] + tol;	/* NAN stays NAN */
	p = stats_paired_p_scored(best->scores, x, s->ndev, n);
	free(x);
	return p;
}

/* Whether c may be put forward at all: complete, and within the risk. */
static int
jobrun_shorter_eligible(struct jobrun *jr, const struct cand *c)
{
	struct champion_risk	r;

	if (c->raced_out || !search_complete(&jr->search, c))
		return 0;
	if (jr->job->risk.measure == RISK_NONE)
		return 1;
	jobrun_risk_bound(jr, c, &r);
	return r.bound <= r.max;
}

struct cand *
jobrun_shorter_pick(struct jobrun *jr, struct cand *best)
{
	struct search	*s = &jr->search;
	struct cand	*c, *pick = best;
	double		 tol = jr->job->prefer_shorter, p, pick_p = NAN;
	long long	 tokens, fewest;
	size_t		 i, n;

	if (best == NULL || isnan(tol))
		return best;
	fewest = best->tokens;
	for (i = 0; i < s->ncands; i++) {
		c = s->cands[i];
		if (c == best || (tokens = c->tokens) > fewest)
			continue;
		/* Of two as short, the one of the higher mean. */
		if (tokens == fewest && (pick == best || c->mean <= pick->mean))
			continue;
		if (!jobrun_shorter_eligible(jr, c))
			continue;
		p = jobrun_shorter_p(s, best, c, tol, &n);
		/* Fewer than two pairs are no evidence either way. */
		if (n < 2 || p < jr->job->alpha)
			continue;
		pick = c;
		pick_p = p;
		fewest = tokens;
	}
	if (pick == best)
		return best;
	free(jr->shorter);
	jr->shorter = xasprintf("shorter: %lld tokens against %lld, not "
	    "worse than the best by more than %g (paired p = %.2g)", fewest,
	    best->tokens, tol, pick_p);
	jr->shorter_of = best;
	jobrun_event(jr, "info", "putting forward a shorter candidate "
	    "(mean %.3f) than the best (mean %.3f): %s", pick->mean,
	    best->mean, jr->shorter);
	return pick;
}

char *
jobrun_shorter_reason(const struct jobrun *jr, const struct cand *c,
    char *reason)
{
	char	*s;

	if (jr->shorter == NULL || c == jr->shorter_of)
		return reason;
	s = xasprintf("%s; %s", jr->shorter, reason);
	free(reason);
	return s;
}
