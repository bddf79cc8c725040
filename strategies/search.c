/*
 * The search framework every strategy uses: parameters, adding
 * candidates with lineage, evaluating with racing, waiting.  Asking the
 * optimizer and the judge is in search_ask.c.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "fiber.h"
#include "hash.h"
#include "jsonc.h"
#include "log.h"
#include "metric.h"
#include "search.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

static const cJSON *
search_param(const struct search *s, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(s->params, name);

	if (v == NULL)
		fatalx("strategy '%s' has no parameter '%s'", s->ops->name,
		    name);
	return v;
}

long long
search_int(const struct search *s, const char *name)
{
	return (long long)search_param(s, name)->valuedouble;
}

double
search_number(const struct search *s, const char *name)
{
	return search_param(s, name)->valuedouble;
}

int
search_bool(const struct search *s, const char *name)
{
	return cJSON_IsTrue(search_param(s, name));
}

const char *
search_string(const struct search *s, const char *name)
{
	return search_param(s, name)->valuestring;
}

/*
 * Scores of candidates on examples outside dev, so that a minibatch drawn
 * again costs nothing: an open-addressing table keyed by (candidate,
 * example), for the life of the search.
 */
struct memo_ent {
	int64_t		 cand;
	size_t		 example;
	double		 score;		/* NAN after a failure */
	unsigned	 tries;		/* failures */
	char		*output;
};

struct search_memo {
	struct memo_ent	*ents;
	size_t		 n;
	size_t		 cap;		/* a power of two, or 0 */
};

static size_t
memo_slot(const struct search_memo *m, int64_t cand, size_t example)
{
	uint64_t	h;
	size_t		i;

	h = hash_mix((uint64_t)cand, (uint64_t)example);
	for (i = (size_t)h & (m->cap - 1); m->ents[i].cand != 0;
	    i = (i + 1) & (m->cap - 1))
		if (m->ents[i].cand == cand && m->ents[i].example == example)
			break;
	return i;
}

static const struct memo_ent *
memo_get(const struct search_memo *m, int64_t cand, size_t example)
{
	size_t	i;

	if (m == NULL || m->cap == 0)
		return NULL;
	i = memo_slot(m, cand, example);
	return m->ents[i].cand != 0 ? &m->ents[i] : NULL;
}

static void
memo_put(struct search *s, int64_t cand, size_t example, double score,
    const char *output)
{
	struct search_memo	*m;
	struct memo_ent		*old;
	size_t			 oldcap, i, j;

	if (s->memo == NULL)
		s->memo = xcalloc(1, sizeof *s->memo);
	m = s->memo;
	if ((m->n + 1) * 2 > m->cap) {
		old = m->ents;
		oldcap = m->cap;
		m->cap = oldcap == 0 ? 256 : oldcap * 2;
		m->ents = xcalloc(m->cap, sizeof *m->ents);
		for (i = 0; i < oldcap; i++) {
			if (old[i].cand == 0)
				continue;
			j = memo_slot(m, old[i].cand, old[i].example);
			m->ents[j] = old[i];
		}
		free(old);
	}
	i = memo_slot(m, cand, example);
	if (m->ents[i].cand != 0) {
		/* A score after a failure; a failure again. */
		if (isnan(m->ents[i].score)) {
			m->ents[i].score = score;
			free(m->ents[i].output);
			m->ents[i].output = output != NULL ? xstrdup(output) :
			    NULL;
			if (isnan(score))
				m->ents[i].tries++;
		}
		return;
	}
	m->ents[i].cand = cand;
	m->ents[i].example = example;
	m->ents[i].score = score;
	m->ents[i].tries = isnan(score);
	m->ents[i].output = output != NULL ? xstrdup(output) : NULL;
	m->n++;
}

static void
memo_free(struct search_memo *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		free(m->ents[i].output);
	free(m->ents);
	free(m);
}

static void
cand_free(struct cand *c, size_t ndev)
{
	size_t	i;

	for (i = 0; i < ndev; i++)
		free(c->outputs[i]);
	free(c->outputs);
	free(c->scores);
	free(c->tries);
	free(c->text);
	demos_release(&c->demos);
	free(c);
}

void
search_release(struct search *s)
{
	size_t	i;

	if (s->ops != NULL && s->ops->free != NULL)
		s->ops->free(s);
	for (i = 0; i < s->ncands; i++)
		cand_free(s->cands[i], s->ndev);
	free(s->cands);
	free(s->dev);
	free(s->train);
	free(s->prompts_dir);
	free(s->fail_cause);
	memo_free(s->memo);
	search_screen_free(s->screen);
	cJSON_Delete(s->params);
	memset(s, 0, sizeof *s);
}

/*
 * Waits until the engine has answered everything submitted or, with
 * woken, until a callback has woken it (engine_wake(): a batch of
 * evaluations is finished while others are out).
 */
static int
search_wait_for(struct search *s, int woken, char **cause)
{
	const char	*why;
	unsigned long	 wakes = engine_wakes(s->engine);

	if (fiber_self() != NULL) {
		while (engine_busy(s->engine) && !engine_failed(s->engine,
		    NULL) && (!woken || engine_wakes(s->engine) == wakes))
			fiber_yield();
	} else if (woken)
		engine_run_woken(s->engine, NULL);
	else
		engine_run(s->engine, NULL);
	if (engine_failed(s->engine, &why))
		return cause_set(cause, "%s", why != NULL ? why :
		    "engine stopped");
	return 0;
}

/* k distinct positions in [0, n), drawn from the step's stream. */
size_t
search_draw(struct search *s, size_t n, size_t k, size_t *out)
{
	size_t	*perm, i, j, t;

	if (k > n)
		k = n;
	perm = xcalloc(n + 1, sizeof *perm);
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = 0; i < k; i++) {
		j = i + rng_below(&s->rng, (uint32_t)(n - i));
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		out[i] = perm[i];
	}
	free(perm);
	return k;
}

int
search_event(struct search *s, const char *level, const char *text,
    char **cause)
{
	if (strcmp(level, "info") == 0)
		log_info("job '%s': %s", s->task->name, text);
	else
		log_warnx("job '%s': %s", s->task->name, text);
	return store_event(s->store, s->job_id, s->run_id, level, text,
	    cause);
}

int
search_wait(struct search *s, char **cause)
{
	return search_wait_for(s, 0, cause);
}

int
search_can_wait(const struct search *s)
{
	return fiber_self() != NULL;
}

void
search_yield(struct search *s)
{
	if (fiber_self() != NULL)
		fiber_yield();
}

int
search_wait_until(struct search *s, int (*done)(void *, char **), void *arg,
    char **cause)
{
	const char	*why;
	int		 rc;

	if (fiber_self() == NULL)
		return cause_set(cause, "strategy '%s': only the daemon can "
		    "wait for this", s->ops->name);
	s->waiting = 1;
	while ((rc = done(arg, cause)) == 0) {
		if (engine_failed(s->engine, &why)) {
			rc = cause_set(cause, "%s", why != NULL ? why :
			    "engine stopped");
			break;
		}
		fiber_yield();
	}
	s->waiting = 0;
	return rc < 0 ? -1 : 0;
}

/* Whether c's score on dev example j is had: scored, or given up. */
static int
cand_settled(const struct cand *c, size_t j)
{
	return !isnan(c->scores[j]) || c->tries[j] >= SEARCH_TRIES;
}

/*
 * Whether a candidate is settled on every dev example in [0, upto): one
 * scored on a scattered minibatch may have as many scores without them.
 */
static int
cand_scored_upto(const struct cand *c, size_t upto)
{
	size_t	i;

	if (c->nscored + c->ngiven_up < upto)
		return 0;
	for (i = 0; i < upto; i++)
		if (!cand_settled(c, i))
			return 0;
	return 1;
}

int
search_complete(const struct search *s, const struct cand *c)
{
	return c->nscored > 0 && cand_scored_upto(c, s->ndev);
}

/* Counts c's scores and given-up examples again. */
static void
cand_count(struct cand *c, size_t ndev)
{
	size_t	j;

	c->nscored = c->ngiven_up = 0;
	for (j = 0; j < ndev; j++) {
		if (!isnan(c->scores[j]))
			c->nscored++;
		else if (c->tries[j] >= SEARCH_TRIES)
			c->ngiven_up++;
	}
}

/*
 * An evaluation that failed (its attempts spent): tried once more in the
 * run, then given up, and the candidate is compared on the examples it
 * has.  The cause is kept for the run's reason.
 */
static void
search_failed(struct search *s, unsigned char *tries, const char *error)
{
	if (*tries < UCHAR_MAX)
		(*tries)++;
	if (*tries == SEARCH_TRIES)
		s->given_up++;
	free(s->fail_cause);
	s->fail_cause = xstrdup(error != NULL ? error : "unknown error");
}

/* A candidate's mean and interval over examples [0, upto). */
static void
cand_partial(const struct cand *c, size_t upto, struct summary *sum)
{
	double	*x;
	size_t	 i, n = 0;

	x = xcalloc(upto + 1, sizeof *x);
	for (i = 0; i < upto; i++)
		if (!isnan(c->scores[i]))
			x[n++] = c->scores[i];
	stats_summary(x, n, 0.95, sum);
	free(x);
}

/* Recomputes a candidate's mean and interval over examples [0, upto). */
static void
cand_summary(struct cand *c, size_t upto)
{
	struct summary	 sum;

	cand_partial(c, upto, &sum);
	c->mean = sum.mean;
	c->lo = sum.lo;
	c->hi = sum.hi;
}

/* Evaluations of candidates on dev examples, submitted together. */
struct dev_batch {
	struct cand *const	*cands;		/* borrowed */
	size_t			 ncands;
	struct eval_item	*items;
	size_t			*pos;		/* i * ndev + j of each item */
	size_t			 n;
	struct eval_batch	*batch;		/* NULL when n is 0 */
};

/* Submits the evaluations of candidates on dev examples [from, to) that
 * they lack; cands must stay put until search_dev_end(). */
static void
search_dev_start(struct search *s, struct cand *const *cands, size_t n,
    size_t from, size_t to, struct dev_batch *db)
{
	size_t	i, j;

	memset(db, 0, sizeof *db);
	db->cands = cands;
	db->ncands = n;
	db->items = xcalloc(n * (to - from) + 1, sizeof *db->items);
	db->pos = xcalloc(n * (to - from) + 1, sizeof *db->pos);
	for (i = 0; i < n; i++) {
		for (j = from; j < to; j++) {
			if (cand_settled(cands[i], j))
				continue;
			db->items[db->n].prompt = cands[i]->text;
			db->items[db->n].demos = &cands[i]->demos;
			db->items[db->n].candidate = cands[i]->id;
			db->items[db->n].example = s->dev[j];
			db->pos[db->n++] = i * s->ndev + j;
		}
	}
	if (db->n > 0)
		db->batch = eval_start(s->engine, s->task, db->items, db->n);
}

/*
 * Gives what a batch scored to its candidates (failures counted, see
 * search_failed()) and frees the batch: once it is finished, or once the
 * engine has stopped.
 */
static void
search_dev_end(struct search *s, struct dev_batch *db)
{
	struct eval_item	*it;
	struct cand		*c;
	size_t			 k;

	eval_end(db->batch);
	for (k = 0; k < db->n; k++) {
		it = &db->items[k];
		c = db->cands[db->pos[k] / s->ndev];
		if (it->failed)
			search_failed(s, &c->tries[db->pos[k] % s->ndev],
			    it->error);
		if (!it->done)
			continue;
		s->progress++;
		c->scores[db->pos[k] % s->ndev] = it->score;
		free(c->outputs[db->pos[k] % s->ndev]);
		c->outputs[db->pos[k] % s->ndev] = it->output;
		it->output = NULL;
	}
	for (k = 0; k < db->ncands; k++)
		cand_count(db->cands[k], s->ndev);
	eval_items_release(db->items, db->n);
	free(db->items);
	free(db->pos);
	memset(db, 0, sizeof *db);
}

/* Scores candidates on dev examples [from, to) that they lack. */
static int
search_score(struct search *s, struct cand *const *cands, size_t n,
    size_t from, size_t to, char **cause)
{
	struct dev_batch	db;
	int			rc;

	search_dev_start(s, cands, n, from, to, &db);
	rc = search_wait(s, cause);
	search_dev_end(s, &db);
	return rc;
}

/*
 * Racing, pipelined: each candidate of a search_evaluate() call goes
 * through its blocks of dev examples on its own, in a lane.  When a
 * lane's block is finished, its decision is taken and, if it stays, its
 * next block is submitted at once, without waiting for the slowest
 * answer of every other candidate.
 *
 * The decisions are the ones racing in lockstep takes (every candidate
 * scored on a block before any goes on), so they do not depend on the
 * order the answers come in, and racing makes the calls it always made.
 * A candidate is dropped after its first u examples when its upper
 * bound over [0, u) is below the lower bound of the leader: the best
 * mean over [0, u) among the search's candidates (first in the search's
 * order among equals) that are scored on all of [0, u) and were not
 * raced out before u; the summaries are partial ones, over [0, u), and
 * leave the candidates' own (over all they were scored on) as they are.
 *
 * What is pipelined is when the decision is taken: as soon as the lanes
 * still short of u cannot change it, not once they are all at u.  A
 * lane short of u has at best a 1 on each example of [0, u) it lacks
 * (scores are in [0, 1]: metric_score() and the judge keep them there),
 * and a lower bound at most its mean.  So it cannot become the leader
 * when that best mean is below the leader's among those known, and it
 * cannot drop the candidate when that best mean is not above the
 * candidate's upper bound.  A candidate the known leader keeps and no
 * lane short of u could drop goes on at once; a clearly worse lane holds
 * nobody up; only lanes close to the leader wait for each other.
 *
 * A simpler rule, racing a candidate only against those scored before
 * the call and those before it in the call, waits less but keeps
 * candidates that lockstep racing drops: it made up to a third more
 * target calls on bench/bench_strategies.
 */
#define RACE_EPSILON	1e-9		/* rounding in a mean */

struct race_lane {
	struct cand		*c;
	size_t			 pos;		/* in the search's candidates,
						   SIZE_MAX if not there */
	size_t			 reached;	/* its blocks are in up to here */
	int			 out;		/* raced out, or through dev */
	int			 busy;		/* a block is out */
	unsigned char		*full;		/* per block: scored on all of
						   [0, end) when it got there */
	struct summary		*sum;		/* per block: over [0, end) */
	struct dev_batch	 db;
};

/* A leader for one decision: a summary and its place in the search. */
struct race_lead {
	const struct summary	*sum;		/* NULL: none yet */
	const struct cand	*c;
	size_t			 pos;
};

struct race {
	struct search		*s;
	struct race_lane	*lanes;
	size_t			 n;
	unsigned char		*full;		/* the lanes' flags */
	struct summary		*sums;		/* the lanes' summaries */
	struct summary		*osum;		/* per candidate outside the
						   call and block */
	struct race_lead	*olead;		/* per block: the leader of
						   those outside the call */
};

/* Where the block after u ends. */
static size_t
race_next(const struct search *s, size_t u)
{
	return u + s->block > s->ndev ? s->ndev : u + s->block;
}

/* The best mean c can have over [0, u) once what it lacks there is in. */
static double
race_best_mean(const struct cand *c, size_t u)
{
	double	sum = 0;
	size_t	n = 0, j;

	for (j = 0; j < u; j++) {
		if (!isnan(c->scores[j]))
			sum += c->scores[j];
		else if (c->tries[j] < SEARCH_TRIES)
			sum += 1;
		else
			continue;
		n++;
	}
	return n > 0 ? sum / (double)n : 0;
}

/* Makes c (summary sum, place pos) the leader if it comes before. */
static void
race_lead_offer(struct race_lead *lead, const struct cand *c, size_t pos,
    const struct summary *sum)
{
	if (pos == SIZE_MAX)
		return;
	if (lead->sum == NULL || sum->mean > lead->sum->mean ||
	    (sum->mean == lead->sum->mean && pos < lead->pos)) {
		lead->sum = sum;
		lead->c = c;
		lead->pos = pos;
	}
}

/* Submits the lane's next block (its examples it lacks up to the end). */
static void
race_submit(struct race *r, struct race_lane *l)
{
	search_dev_start(r->s, &l->c, 1, 0, race_next(r->s, l->reached),
	    &l->db);
	l->busy = 1;
}

/* Takes the lane's block in if it is finished; returns whether it was. */
static int
race_take(struct race *r, struct race_lane *l)
{
	struct search	*s = r->s;
	size_t		 k;

	if (l->db.batch != NULL && !eval_finished(l->db.batch))
		return 0;
	search_dev_end(s, &l->db);
	l->busy = 0;
	l->reached = race_next(s, l->reached);
	k = (l->reached - 1) / s->block;
	l->full[k] = cand_scored_upto(l->c, l->reached);
	cand_partial(l->c, l->reached, &l->sum[k]);
	if (l->reached == s->ndev)
		l->out = 1;
	return 1;
}

/*
 * Lane i's decision at the end of its block (see above): 1 if it stays,
 * 0 if it is out, -1 while lanes short of u could change it.
 */
static int
race_decide(struct race *r, size_t i)
{
	struct race_lane	*l = &r->lanes[i], *o;
	struct race_lead	 lead;
	size_t			 u = l->reached, k = (u - 1) / r->s->block, j;
	double			 hi = l->sum[k].hi, best;
	int			 could_lead = 0, could_drop = 0, drops;

	lead = r->olead[k];
	for (j = 0; j < r->n; j++) {
		o = &r->lanes[j];
		if (o->reached >= u && o->full[k])
			race_lead_offer(&lead, o->c, o->pos, &o->sum[k]);
	}
	for (j = 0; j < r->n; j++) {
		o = &r->lanes[j];
		if (o->reached >= u || o->out || o->pos == SIZE_MAX)
			continue;
		best = race_best_mean(o->c, u);
		if (lead.sum != NULL && best + RACE_EPSILON < lead.sum->mean)
			continue;
		could_lead = 1;
		/* Nothing drops a candidate whose upper bound is 1. */
		if (best + RACE_EPSILON > hi && hi < 1)
			could_drop = 1;
	}
	drops = lead.sum != NULL && lead.c != l->c && hi < lead.sum->lo;
	if (could_drop || (drops && could_lead))
		return -1;
	if (!drops)
		return 1;
	l->c->raced_out = l->out = 1;
	log_debug("race: candidate %lld out after %zu examples (%.3f < %.3f)",
	    (long long)l->c->id, u, hi, lead.sum->lo);
	return 0;
}

/*
 * Moves lane i along as far as it can go without waiting for an answer:
 * its finished block taken in, its decision, its next block submitted.
 * Returns whether it moved.
 */
static int
race_advance(struct race *r, size_t i)
{
	struct race_lane	*l = &r->lanes[i];
	int			 moved = 0, rc;

	while (!l->out) {
		if (l->busy) {
			if (!race_take(r, l))
				break;
		} else if ((rc = race_decide(r, i)) < 0)
			break;
		else if (rc == 1)
			race_submit(r, l);
		moved = 1;
	}
	return moved;
}

/*
 * The call's candidates in lanes (each once, those raced out before
 * left out), and the leader of those outside the call at each block's
 * end: nothing in the call changes them.
 */
static void
race_init(struct race *r, struct search *s, struct cand *const *cands,
    size_t n)
{
	struct cand	*c;
	size_t		 nblocks, i, j, k, u;

	memset(r, 0, sizeof *r);
	r->s = s;
	nblocks = (s->ndev + s->block - 1) / s->block;
	r->lanes = xcalloc(n + 1, sizeof *r->lanes);
	r->full = xcalloc(n * nblocks + 1, 1);
	r->sums = xcalloc(n * nblocks + 1, sizeof *r->sums);
	for (i = 0; i < n; i++) {
		for (j = 0; j < r->n && r->lanes[j].c != cands[i]; j++)
			;
		if (j < r->n || cands[i]->raced_out)
			continue;
		r->lanes[r->n].c = cands[i];
		for (j = 0; j < s->ncands && s->cands[j] != cands[i]; j++)
			;
		r->lanes[r->n].pos = j < s->ncands ? j : SIZE_MAX;
		r->lanes[r->n].full = r->full + r->n * nblocks;
		r->lanes[r->n].sum = r->sums + r->n * nblocks;
		r->n++;
	}
	r->osum = xcalloc(s->ncands * nblocks + 1, sizeof *r->osum);
	r->olead = xcalloc(nblocks, sizeof *r->olead);
	for (j = 0; j < s->ncands; j++) {
		c = s->cands[j];
		for (i = 0; i < n && cands[i] != c; i++)
			;
		if (i < n || c->raced_out)
			continue;
		for (k = 0, u = 0; k < nblocks; k++) {
			u = race_next(s, u);
			if (!cand_scored_upto(c, u))
				break;
			cand_partial(c, u, &r->osum[j * nblocks + k]);
			race_lead_offer(&r->olead[k], c, j,
			    &r->osum[j * nblocks + k]);
		}
	}
}

static void
race_release(struct race *r)
{
	size_t	i;

	/* What came in before the engine stopped is kept. */
	for (i = 0; i < r->n; i++)
		if (r->lanes[i].busy)
			search_dev_end(r->s, &r->lanes[i].db);
	free(r->lanes);
	free(r->full);
	free(r->sums);
	free(r->osum);
	free(r->olead);
}

/* Races the call's candidates (see struct race_lane). */
static int
search_race(struct search *s, struct cand *const *cands, size_t n,
    char **cause)
{
	struct race	r;
	size_t		i, left;
	int		rc = 0, moved;

	race_init(&r, s, cands, n);
	/* In the call's order, so that the engine's queue stays fair. */
	for (i = 0; i < r.n; i++)
		race_submit(&r, &r.lanes[i]);
	for (;;) {
		/* A lane may wait for one after it: again until none moves. */
		do {
			for (i = moved = 0; i < r.n; i++)
				moved |= race_advance(&r, i);
		} while (moved);
		for (i = left = 0; i < r.n; i++)
			left += !r.lanes[i].out;
		if (left == 0)
			break;
		if (!engine_busy(s->engine) && !engine_failed(s->engine,
		    NULL)) {
			rc = cause_set(cause, "racing: evaluations left "
			    "without an answer");
			break;
		}
		if ((rc = search_wait_for(s, 1, cause)) != 0)
			break;
	}
	race_release(&r);
	return rc;
}

int
search_evaluate(struct search *s, struct cand *const *cands, size_t n,
    char **cause)
{
	size_t	i;

	if (n == 0)
		return 0;
	if (!s->racing || s->block == 0 || s->block >= s->ndev) {
		if (search_score(s, cands, n, 0, s->ndev, cause) != 0)
			return -1;
		for (i = 0; i < n; i++)
			cand_summary(cands[i], s->ndev);
		return 0;
	}
	if (search_race(s, cands, n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++)
		cand_summary(cands[i], cands[i]->raced_out ? cands[i]->nscored :
		    s->ndev);
	return 0;
}

int
search_has(struct cand *const *v, size_t n, const struct cand *c)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i] == c)
			return 1;
	return 0;
}

struct cand *
search_best(const struct search *s)
{
	struct cand	*best = NULL;
	size_t		 i;

	for (i = 0; i < s->ncands; i++) {
		if (s->cands[i]->raced_out || !search_complete(s, s->cands[i]))
			continue;
		if (best == NULL || s->cands[i]->mean > best->mean)
			best = s->cands[i];
	}
	return best;
}

/* The position of a dataset example in dev, or SIZE_MAX. */
static size_t
search_dev_pos(const struct search *s, size_t example)
{
	size_t	lo = 0, hi = s->ndev, mid, i;

	/* Dev is in dataset order; check, in case a caller built it. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->dev[mid] < example)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->ndev && s->dev[lo] == example)
		return lo;
	for (i = 0; i < s->ndev; i++)
		if (s->dev[i] == example)
			return i;
	return SIZE_MAX;
}

/*
 * Takes an evaluation's result into o and keeps it with its candidate c
 * (a dev example) or in the memo (another); a failure is counted.
 */
static void
search_score_take(struct search *s, struct cand *c, struct eval_item *it,
    struct search_score *o)
{
	const struct memo_ent	*me;
	size_t			 d;

	d = search_dev_pos(s, it->example);
	if (it->failed) {
		if (d != SIZE_MAX)
			search_failed(s, &c->tries[d], it->error);
		else {
			memo_put(s, c->id, it->example, NAN, NULL);
			me = memo_get(s->memo, c->id, it->example);
			if (me->tries == SEARCH_TRIES)
				s->given_up++;
		}
	}
	if (!it->done)
		return;
	s->progress++;
	o->score = it->score;
	o->output = it->output;
	it->output = NULL;
	if (d != SIZE_MAX) {
		c->scores[d] = o->score;
		free(c->outputs[d]);
		c->outputs[d] = o->output != NULL ? xstrdup(o->output) : NULL;
	} else
		memo_put(s, c->id, it->example, o->score, o->output);
}

int
search_score_on(struct search *s, struct cand *const *cands, size_t n,
    const size_t *examples, size_t nex, struct search_score *out,
    char **cause)
{
	const struct metric	*metric = s->task->metric;
	struct eval_item	*items;
	struct eval_batch	*batch;
	struct search_score	*o;
	const struct memo_ent	*me;
	struct cand		*c;
	const cJSON		*expected;
	size_t			*pos, *dup, nitems = 0, i, j, k, d;
	int			 rc;

	items = xcalloc(n * nex + 1, sizeof *items);
	pos = xcalloc(n * nex + 1, sizeof *pos);
	/* dup[j]: the first position of examples[j] in the list. */
	dup = xcalloc(nex + 1, sizeof *dup);
	for (j = 0; j < nex; j++) {
		for (k = 0; k < j && examples[k] != examples[j]; k++)
			;
		dup[j] = k;
	}
	for (i = 0; i < n; i++) {
		c = cands[i];
		for (j = 0; j < nex; j++) {
			o = &out[i * nex + j];
			o->score = NAN;
			o->output = o->feedback = NULL;
			if (dup[j] != j)
				continue;
			d = search_dev_pos(s, examples[j]);
			if (d != SIZE_MAX && cand_settled(c, d)) {
				o->score = c->scores[d];
				if (c->outputs[d] != NULL)
					o->output = xstrdup(c->outputs[d]);
				continue;
			}
			if (d == SIZE_MAX && (me = memo_get(s->memo, c->id,
			    examples[j])) != NULL && (!isnan(me->score) ||
			    me->tries >= SEARCH_TRIES)) {
				o->score = me->score;
				if (me->output != NULL)
					o->output = xstrdup(me->output);
				continue;
			}
			items[nitems].prompt = c->text;
			items[nitems].demos = &c->demos;
			items[nitems].candidate = c->id;
			items[nitems].example = examples[j];
			pos[nitems++] = i * nex + j;
		}
	}
	rc = 0;
	if (nitems > 0) {
		batch = eval_start(s->engine, s->task, items, nitems);
		rc = search_wait(s, cause);
		eval_end(batch);
	}
	for (k = 0; k < nitems; k++)
		search_score_take(s, cands[pos[k] / nex], &items[k],
		    &out[pos[k]]);
	for (i = 0; i < n; i++) {
		cand_count(cands[i], s->ndev);
		for (j = 0; j < nex; j++) {
			o = &out[i * nex + j];
			if (dup[j] != j) {
				o->score = out[i * nex + dup[j]].score;
				if (out[i * nex + dup[j]].output != NULL)
					o->output = xstrdup(
					    out[i * nex + dup[j]].output);
			}
			/* The metric's remark; the judge's stays stored. */
			if (o->output == NULL || isnan(o->score) ||
			    metric_needs_judge(metric))
				continue;
			expected = s->task->target != NULL ?
			    example_field(&s->task->dataset->ex[
			    examples[j]], s->task->target) : NULL;
			(void)metric_score(metric, o->output, expected,
			    &o->feedback);
		}
	}
	eval_items_release(items, nitems);
	free(items);
	free(pos);
	free(dup);
	return rc;
}

void
search_scores_release(struct search_score *out, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(out[i].output);
		free(out[i].feedback);
		out[i].output = out[i].feedback = NULL;
	}
}

/* An example's row id and its index in the dataset, to look it up. */
struct example_ref {
	int64_t	id;
	size_t	index;
};

static int
example_ref_cmp(const void *a, const void *b)
{
	const struct example_ref	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct cand *
search_cand_by_id(const struct search *s, int64_t id)
{
	size_t	i;

	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->id == id)
			return s->cands[i];
	return NULL;
}

int
search_load_scores(struct search *s, char **cause)
{
	const struct dataset	*ds = s->task->dataset;
	struct example_ref	*refs, key, *ref;
	struct run_score	*rows;
	struct cand		*c;
	size_t			 n, i, d;

	if (store_run_scores(s->store, s->run_id, &rows, &n, cause) != 0)
		return -1;
	refs = xcalloc(ds->n + 1, sizeof *refs);
	for (i = 0; i < ds->n; i++) {
		refs[i].id = ds->ex[i].id;
		refs[i].index = i;
	}
	qsort(refs, ds->n, sizeof *refs, example_ref_cmp);
	for (i = 0; i < n; i++) {
		key.id = rows[i].example;
		if ((c = search_cand_by_id(s, rows[i].candidate)) == NULL ||
		    (ref = bsearch(&key, refs, ds->n, sizeof *refs,
		    example_ref_cmp)) == NULL)
			continue;
		if ((d = search_dev_pos(s, ref->index)) == SIZE_MAX) {
			memo_put(s, c->id, ref->index, rows[i].score,
			    rows[i].output);
			continue;
		}
		if (isnan(rows[i].score)) {
			/* Failed once at least: one more try in the run. */
			if (c->tries[d] == 0)
				c->tries[d] = 1;
			continue;
		}
		c->scores[d] = rows[i].score;
		free(c->outputs[d]);
		c->outputs[d] = rows[i].output;
		rows[i].output = NULL;
	}
	for (i = 0; i < s->ncands; i++) {
		cand_count(s->cands[i], s->ndev);
		cand_summary(s->cands[i], s->cands[i]->raced_out ?
		    s->cands[i]->nscored : s->ndev);
	}
	free(refs);
	store_run_scores_free(rows, n);
	return 0;
}
