/*
 * Champion and challenger: a run whose best candidate did not beat the
 * champion on dev leaves it as the job's challenger, written next to
 * the exported champion with the share of traffic the deployment should
 * give it; the ratings that come back for each from production decide,
 * at a later run's start, whether it is promoted, rejected or stays.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "jobrun.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static double
challenger_mean(const double *x, size_t n)
{
	double	sum = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		sum += x[i];
	return n > 0 ? sum / (double)n : NAN;
}

int
jobrun_challenger_judge(struct store *store, int64_t job, int64_t run,
    const struct challenger *c, int64_t champion, double alpha,
    double min_delta, long long min_ratings, struct challenger_evidence *e,
    char **cause)
{
	double	*x[2] = { NULL, NULL };
	int64_t	 cand[2] = { c->candidate, champion };
	int	 i, verdict = -1;

	memset(e, 0, sizeof *e);
	e->p = e->p_worse = 1.0;
	/*
	 * Both sides over the same period, by the time each answer was
	 * given, not when it was ingested: a log read late (or a backlog
	 * read at once) would otherwise bring the champion's answers from
	 * before the challenger existed, from other days and other users.
	 * Only what was ingested before this run started counts, so a
	 * resumed run sees the evidence it started with.
	 */
	for (i = 0; i < 2; i++)
		if (store_candidate_ratings(store, job, cand[i], c->started,
		    run, &x[i], &e->n[i], cause) != 0)
			goto out;
	e->mean[0] = challenger_mean(x[0], e->n[0]);
	e->mean[1] = challenger_mean(x[1], e->n[1]);
	e->delta = e->mean[0] - e->mean[1];
	if ((long long)e->n[0] < min_ratings ||
	    (long long)e->n[1] < min_ratings) {
		verdict = CHALLENGER_TOO_FEW;
		goto out;
	}
	e->p = stats_welch_p(x[0], e->n[0], x[1], e->n[1]);
	e->p_worse = stats_welch_p(x[1], e->n[1], x[0], e->n[0]);
	if (e->p < alpha && e->delta >= min_delta)
		verdict = CHALLENGER_PROMOTE;
	else if (e->p_worse < alpha)
		verdict = CHALLENGER_REJECT;
	else
		verdict = CHALLENGER_STAYS;
out:
	free(x[0]);
	free(x[1]);
	return verdict;
}

/*
 * The deployment is told a challenger ended by its files going: what is
 * at the path is then no candidate of the job's.
 */
static void
challenger_unlink(struct jobrun *jr)
{
	char	*side;

	if (jr->job->challenger_path == NULL)
		return;
	side = xasprintf("%s.json", jr->job->challenger_path);
	if (unlink(jr->job->challenger_path) != 0 && errno != ENOENT)
		jobrun_event(jr, "warn", "cannot remove '%s': %s",
		    jr->job->challenger_path, strerror(errno));
	if (unlink(side) != 0 && errno != ENOENT)
		jobrun_event(jr, "warn", "cannot remove '%s': %s", side,
		    strerror(errno));
	free(side);
}

/* Ends c with its outcome, saying why. */
static int
challenger_end(struct jobrun *jr, const struct challenger *c,
    const char *outcome, const char *why, char **cause)
{
	if (store_challenger_end(jr->store, c->id, outcome, cause) != 0)
		return -1;
	jobrun_event(jr, "info", "challenger (candidate %lld) %s: %s",
	    (long long)c->candidate, outcome, why);
	challenger_unlink(jr);
	return 0;
}

/* The champion and the end of the challenger, in one transaction. */
static int
challenger_promote(struct jobrun *jr, const struct challenger *c,
    const struct challenger_evidence *e, const char *why, char **cause)
{
	struct champion_record	 rec;
	struct candidate_row	 row;
	int			 rc;

	memset(&rec, 0, sizeof rec);
	rec.job = jr->job_id;
	rec.candidate = c->candidate;
	rec.run = jr->run_id;
	/* No dev score: the evidence is production's, in the reason. */
	rec.score = rec.lo = rec.hi = NAN;
	rec.p = e->p;
	rec.delta = e->delta;
	rec.paired = 0;
	rec.reason = why;
	if (store_begin(jr->store, cause) != 0)
		return -1;
	if (store_champion_add(jr->store, &rec, cause) != 0 ||
	    store_challenger_end(jr->store, c->id, "promoted", cause) != 0) {
		store_rollback(jr->store);
		return -1;
	}
	if (store_commit(jr->store, cause) != 0)
		return -1;
	jobrun_event(jr, "info", "promoted: challenger (candidate %lld): %s",
	    (long long)c->candidate, why);
	challenger_unlink(jr);
	if ((rc = store_candidate_get(jr->store, c->candidate, &row,
	    cause)) <= 0) {
		if (rc == 0)
			cause_set(cause, "no candidate %lld",
			    (long long)c->candidate);
		return -1;
	}
	rc = jobrun_export_text(jr, row.text, &row.demos, cause);
	store_candidate_row_release(&row);
	return rc;
}

int
jobrun_challenger_decide(struct jobrun *jr, char **cause)
{
	struct challenger		 c;
	struct champion			 ch;
	struct challenger_evidence	 e;
	const struct job		*job = jr->job;
	char				*why;
	int				 rc, verdict;

	if ((rc = store_challenger_current(jr->store, jr->job_id, &c,
	    cause)) <= 0)
		return rc;
	if ((rc = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (rc == 0 || ch.candidate == c.candidate)
		return challenger_end(jr, &c, "withdrawn", rc == 0 ?
		    "the job has no champion" : "it is the champion", cause);
	if ((verdict = jobrun_challenger_judge(jr->store, jr->job_id,
	    jr->run_id, &c, ch.candidate, job->alpha, job->min_delta,
	    job->challenger_min_ratings, &e, cause)) < 0)
		return -1;
	if (verdict == CHALLENGER_TOO_FEW) {
		jobrun_event(jr, "info", "challenger (candidate %lld) stays: "
		    "%zu ratings of it and %zu of champion %d since it "
		    "started (need %lld of each)", (long long)c.candidate,
		    e.n[0], e.n[1], ch.version, job->challenger_min_ratings);
		return 0;
	}
	why = xasprintf("production: mean rating %.2f over %zu against %.2f "
	    "over %zu for champion %d (Welch p = %.3g)", e.mean[0], e.n[0],
	    e.mean[1], e.n[1], ch.version, verdict == CHALLENGER_REJECT ?
	    e.p_worse : e.p);
	switch (verdict) {
	case CHALLENGER_PROMOTE:
		rc = challenger_promote(jr, &c, &e, why, cause);
		break;
	case CHALLENGER_REJECT:
		rc = challenger_end(jr, &c, "rejected", why, cause);
		break;
	default:
		jobrun_event(jr, "info", "challenger (candidate %lld) stays: "
		    "%s; delta %.3f (need p < %g and delta >= %g)",
		    (long long)c.candidate, why, e.delta, job->alpha,
		    job->min_delta);
		rc = 0;
		break;
	}
	free(why);
	return rc;
}

/* The challenger's file and its sidecar, as the champion's. */
static int
challenger_write(struct jobrun *jr, const struct cand *best,
    const struct challenger *c, int version, char **cause)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	if (jobrun_prompt_file(jr, jr->job->challenger_path, best->text,
	    &best->demos, o, cause) != 0) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_AddStringToObject(o, "job", jr->job->task.name);
	cJSON_AddNumberToObject(o, "candidate", (double)c->candidate);
	cJSON_AddNumberToObject(o, "share", c->share);
	cJSON_AddNumberToObject(o, "since", c->started);
	cJSON_AddNumberToObject(o, "champion_version", version);
	return jobrun_sidecar(jr->job->challenger_path, o, cause);
}

int
jobrun_challenger_leave(struct jobrun *jr, struct cand *best, char **cause)
{
	struct challenger	 c;
	struct champion		 ch;
	int			 open, rc;

	if (jr->job->challenger_path == NULL || best == NULL)
		return 0;
	if ((open = store_challenger_current(jr->store, jr->job_id, &c,
	    cause)) < 0 || (rc = store_champion_latest(jr->store, jr->job_id,
	    &ch, cause)) < 0)
		return -1;
	if (rc == 0)
		return 0;	/* nothing was promoted: no champion to beat */
	if (ch.candidate == best->id)
		return open == 0 ? 0 : challenger_end(jr, &c, "withdrawn",
		    "this run's best is the champion", cause);
	/* The same one keeps its evidence: its clock is not restarted. */
	if (open == 1 && c.candidate != best->id) {
		if (challenger_end(jr, &c, "replaced", "this run's best is "
		    "another candidate", cause) != 0)
			return -1;
		open = 0;
	}
	if (open == 0) {
		if (store_challenger_add(jr->store, jr->job_id, best->id,
		    jr->job->challenger_share, cause) < 0 ||
		    (rc = store_challenger_current(jr->store, jr->job_id, &c,
		    cause)) < 0)
			return -1;
		if (rc == 0)
			return cause_set(cause, "challenger of job '%s' gone "
			    "as it was added", jr->job->task.name);
		jobrun_event(jr, "info", "challenger: candidate %lld (%.3f on "
		    "dev) on %g of the traffic beside champion %d",
		    (long long)best->id, best->mean, c.share, ch.version);
	}
	return challenger_write(jr, best, &c, ch.version, cause);
}
