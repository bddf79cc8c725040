/*
 * Risk-controlled promotion (Prompt Risk Control, Zollo et al.): a job
 * that sets "risk" promotes a candidate only when a distribution-free
 * upper confidence bound on a measure of its bad cases over its dev
 * scores is within the job's max, whatever its mean.  The mean says how
 * good a prompt is on average; the bound says how often, at worst, it
 * is bad, which a higher mean can hide.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "jobrun.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

void
jobrun_risk_bound(const struct jobrun *jr, const struct cand *c,
    struct champion_risk *r)
{
	const struct job_risk	*spec = &jr->job->risk;
	const char		*name = job_risk_name(spec->measure);
	double			*loss;
	size_t			 i, n = 0, below = 0;

	memset(r, 0, sizeof *r);
	if (name == NULL)
		return;
	snprintf(r->measure, sizeof r->measure, "%s", name);
	r->param = spec->measure == RISK_SHARE_BELOW ? spec->threshold :
	    spec->quantile;
	r->max = spec->max;
	r->confidence = spec->confidence;
	loss = xcalloc(jr->search.ndev + 1, sizeof *loss);
	for (i = 0; i < jr->search.ndev; i++) {
		if (isnan(c->scores[i]))
			continue;	/* not scored: no evidence either way */
		if (c->scores[i] < spec->threshold)
			below++;
		loss[n++] = 1 - c->scores[i];
	}
	r->n = (long long)n;
	if (spec->measure == RISK_SHARE_BELOW)
		r->bound = stats_binomial_upper(below, n, spec->confidence);
	else {
		/*
		 * Too few examples for any order statistic to bound the
		 * quantile: the loss is at most 1, so that is the bound.
		 */
		r->bound = stats_quantile_upper(loss, n, spec->quantile,
		    spec->confidence, NULL);
		if (r->bound > 1)
			r->bound = 1;
	}
	free(loss);
}

char *
jobrun_risk_describe(const struct champion_risk *r)
{
	char	*what, *s;

	if (strcmp(r->measure, "share_below") == 0)
		what = xasprintf("share of dev examples below %g", r->param);
	else
		what = xasprintf("%g-quantile of the dev loss", r->param);
	s = xasprintf("%s, %g%% confidence, %lld examples", what,
	    r->confidence * 100, r->n);
	free(what);
	return s;
}

/* Candidates by mean, best first. */
static int
jobrun_risk_cmp(const void *a, const void *b)
{
	const struct cand	*x = *(struct cand *const *)a;
	const struct cand	*y = *(struct cand *const *)b;

	return (x->mean < y->mean) - (x->mean > y->mean);
}

struct cand *
jobrun_risk_pick(struct jobrun *jr, struct cand *best)
{
	struct search		*s = &jr->search;
	struct champion_risk	 r, first;
	struct cand		**v, *pick = NULL;
	size_t			 i, n = 0;
	char			*why;

	if (best == NULL || jr->job->risk.measure == RISK_NONE)
		return best;
	jobrun_risk_bound(jr, best, &first);
	if (first.bound <= first.max)
		return best;
	/* Only the best's refusal is told: a search has many. */
	why = jobrun_risk_describe(&first);
	jobrun_event(jr, "info", "no promotion: risk bound %.2f > %.2f (%s) "
	    "for the best candidate (mean %.3f)", first.bound, first.max,
	    why, best->mean);
	free(why);
	/* The others search_best() chose among, by mean. */
	v = xcalloc(s->ncands + 1, sizeof *v);
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i] != best && !s->cands[i]->raced_out &&
		    search_complete(s, s->cands[i]))
			v[n++] = s->cands[i];
	qsort(v, n, sizeof *v, jobrun_risk_cmp);
	for (i = 0; i < n && pick == NULL; i++) {
		jobrun_risk_bound(jr, v[i], &r);
		if (r.bound <= r.max)
			pick = v[i];
	}
	free(v);
	if (pick != NULL)
		jobrun_event(jr, "info", "putting forward the best candidate "
		    "within the risk bound instead (mean %.3f, bound %.2f); "
		    "%zu with a higher mean refused", pick->mean, r.bound, i);
	else
		jobrun_event(jr, "warn", "no promotion: none of the %zu "
		    "candidates has a risk bound within %.2f", n + 1,
		    first.max);
	return pick;
}
