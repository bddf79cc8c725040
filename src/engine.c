/*
 * The engine: cache, budget, limits, retries, accounting and callbacks for
 * model calls, and prompt evaluation on top of them.  This file holds the
 * loop, an engine's life, its budgets and totals, and evaluation;
 * engine_cache.c and engine_send.c hold the rest (engine_int.h).
 *
 * A request waits in its backend's queue until the backend has room (in
 * flight, requests per minute, tokens per minute), and a retry first
 * waits in the delayed list until its time has come.  Identical requests
 * (same cache key) are coalesced: the first one is queued and sent, and
 * the others wait for its answer.  In-process backends
 * answer at once; HTTP backends go through one libcurl multi handle.
 * Every attempt is a row in calls; a final answer's row, its cache entry
 * and whatever the callback stores are one transaction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "batch.h"
#include "dataset.h"
#include "engine.h"
#include "engine_int.h"
#include "http.h"
#include "jsonc.h"
#include "judge.h"
#include "metric.h"
#include "proc.h"
#include "rng.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Seconds one loop turn may spend answering requests at once (cache hits,
 * in-process backends); the rest waits for the next turn.
 */
#define ENGINE_TURN_SLICE	0.01

/*
 * Seconds a transaction may stay open across turns, in engine_run() or
 * with engine_loop_group() on (the daemon): the answers of those turns
 * share one commit.
 */
#define ENGINE_COMMIT_WINDOW	0.01

struct engine_loop *
engine_loop_new(struct store *store)
{
	struct engine_loop	*l;

	l = xcalloc(1, sizeof *l);
	l->store = store;
	return l;
}

void
engine_loop_free(struct engine_loop *l)
{
	if (l == NULL)
		return;
	/* What was answered is kept (calls abandoned are not). */
	engine_loop_flush(l);
	/* Transfers and children still under way are abandoned. */
	http_free(l->http);
	procset_free(l->procs);
	batchset_free(l->batches);
	free(l->cause);
	free(l);
}

struct store *
engine_loop_store(const struct engine_loop *l)
{
	return l->store;
}

struct engine *
engine_new(struct engine_loop *loop, int64_t run, const struct budget *budget,
    enum cache_mode cache)
{
	struct engine	*e;

	e = xcalloc(1, sizeof *e);
	e->loop = loop;
	e->store = loop->store;
	e->next_engine = loop->engines;
	loop->engines = e;
	e->run = run;
	e->budget = budget;
	e->cache = cache;
	e->started = time_mono();
	rng_seed(&e->rng, (uint64_t)run, 0x656e67696e65ULL);
	return e;
}

void
engine_free(struct engine *e)
{
	struct engine		**pp;
	struct engine_req	 *r;
	struct engine_queue	 *q;

	if (e == NULL)
		return;
	engine_unborrow(e);
	for (pp = &e->loop->engines; *pp != NULL; pp = &(*pp)->next_engine) {
		if (*pp == e) {
			*pp = e->next_engine;
			break;
		}
	}
	/* Requests under way are abandoned: nothing will call them back. */
	for (r = e->flying; r != NULL; r = r->next) {
		r->backend->in_flight--;
		http_abandon(e->loop->http, r);
		procset_abandon(e->loop->procs, r);
	}
	while ((q = e->queues) != NULL) {
		e->queues = q->next;
		engine_list_free(q->head);
		free(q);
	}
	for (r = e->batched; r != NULL; r = r->next)
		batch_drop(e->loop->batches, r);
	engine_list_free(e->batched);
	engine_list_free(e->delayed);
	engine_list_free(e->incoming);
	engine_list_free(e->flying);
	free(e->keys);
	free(e->cause);
	free(e->judge_evidence);
	free(e);
}

void
engine_set_progress(struct engine *e, engine_progress_fn *fn, void *arg)
{
	e->progress = fn;
	e->progress_arg = arg;
}

/*
 * New requests wait in their own list until the next dispatch, so that a
 * callback may submit while dispatch is walking the queues.
 */
void
engine_incoming(struct engine *e, struct engine_req *r)
{
	r->next = NULL;
	if (e->incoming_tail != NULL)
		e->incoming_tail->next = r;
	else
		e->incoming = r;
	e->incoming_tail = r;
	e->queued++;
}

void
engine_submit(struct engine *e, struct backend *b, struct model_req *req,
    engine_done_fn *done, void *arg)
{
	struct engine_req	*r;

	r = xcalloc(1, sizeof *r);
	r->engine = e;
	r->backend = b;
	r->req = *req;
	memset(req, 0, sizeof *req);
	r->done = done;
	r->arg = arg;
	r->account = e->account;
	backend_req_key(b, &r->req, r->key);
	engine_batch(r);
	r->derived = e->loop->in_txn;
	engine_incoming(e, r);
}

void
engine_account(struct engine *e, struct engine_account *acct)
{
	e->account = acct;
}

void
engine_resume_totals(struct engine *e, const struct run_totals *t)
{
	e->totals = *t;
}

void
engine_set_job_budget(struct engine *e, const struct budget *b,
    const struct run_totals *spent, double job_created)
{
	e->job_budget = b;
	e->job_spent = *spent;
	e->job_created = job_created;
}

/* Whether a budget allows one more paid call, given what was spent and
 * how long ago the clock started. */
static enum engine_stop
engine_budget_allows(const struct budget *b, const struct run_totals *t,
    double elapsed)
{
	if (b == NULL)
		return ENGINE_OK;
	if (b->max_calls > 0 && t->calls >= b->max_calls)
		return ENGINE_MAX_CALLS;
	if (b->max_tokens > 0 && t->tokens >= b->max_tokens)
		return ENGINE_MAX_TOKENS;
	if (b->max_dollars > 0 && t->dollars >= b->max_dollars)
		return ENGINE_MAX_DOLLARS;
	if (b->deadline > 0 && elapsed >= b->deadline)
		return ENGINE_DEADLINE;
	return ENGINE_OK;
}

/* Whether the run's and the job's budgets allow one more paid call. */
enum engine_stop
engine_budget_check(struct engine *e)
{
	struct run_totals	all;
	enum engine_stop	stop;

	if ((stop = engine_budget_allows(e->budget, &e->totals,
	    time_mono() - e->started)) != ENGINE_OK)
		return stop;
	all.calls = e->totals.calls + e->job_spent.calls;
	all.hits = e->totals.hits + e->job_spent.hits;
	all.tokens = e->totals.tokens + e->job_spent.tokens;
	all.dollars = e->totals.dollars + e->job_spent.dollars;
	all.cached = e->totals.cached + e->job_spent.cached;
	return engine_budget_allows(e->job_budget, &all, time_now() -
	    e->job_created);
}

const char *
engine_stop_reason(enum engine_stop s)
{
	switch (s) {
	case ENGINE_OK:
		return "ok";
	case ENGINE_MAX_CALLS:
		return "budget exhausted: max_calls reached";
	case ENGINE_MAX_TOKENS:
		return "budget exhausted: max_tokens reached";
	case ENGINE_MAX_DOLLARS:
		return "budget exhausted: max_dollars reached";
	case ENGINE_DEADLINE:
		return "budget exhausted: deadline passed";
	}
	return "unknown";
}

/* Commits the open transaction, if any. */
int
engine_loop_flush(struct engine_loop *l)
{
	if (l->failed)
		return -1;
	if (!l->in_txn)
		return 0;
	l->in_txn = 0;
	if (store_commit(l->store, &l->cause) != 0) {
		l->failed = 1;
		store_rollback(l->store);
		return -1;
	}
	return 0;
}

/*
 * Opens the turn's transaction before its first write: a turn that
 * completes nothing costs no transaction.
 */
int
engine_txn(struct engine *e)
{
	struct engine_loop	*l = e->loop;

	if (l->in_txn)
		return 0;
	if (store_begin(l->store, &l->cause) != 0) {
		l->failed = 1;
		e->failed = 1;
		return -1;
	}
	l->in_txn = 1;
	l->txn_at = time_mono();
	return 0;
}

/* Whether an engine still has requests waiting or under way. */
int
engine_busy(const struct engine *e)
{
	return e->queued > 0 || e->nflying > 0 || e->borrowed > 0 ||
	    e->nbatched > 0;
}

int
engine_failed(const struct engine *e, const char **cause)
{
	if (cause != NULL)
		*cause = e->cause != NULL ? e->cause : e->loop->cause;
	return e->failed || e->loop->failed;
}

void
engine_cancel(struct engine *e, const char *reason)
{
	struct engine_queue	*q;

	if (e->failed)
		return;
	e->failed = 1;
	free(e->cause);
	e->cause = xstrdup(reason);
	/* Other jobs' requests waiting on ours go on by themselves. */
	engine_hand_back_list(e->flying);
	engine_hand_back_list(e->delayed);
	for (q = e->queues; q != NULL; q = q->next)
		engine_hand_back_list(q->head);
}

void
engine_loop_group(struct engine_loop *l, int on)
{
	l->group += on ? 1 : -1;
}

/*
 * One turn of the loop.  Every engine dispatches what it can (cache hits
 * and in-process answers complete at once), then the loop waits for
 * replies, children or the caller's descriptors, and everything that
 * completed is committed in one transaction: a call's row, its cache
 * entry and the scores that use it are never apart, and the cost of a
 * commit is shared by every answer of the turn (inside engine_run, by
 * those of the next turns too, see there).  A callback that fails stops
 * its own engine; what was paid for is still kept.
 */
int
engine_loop_turn(struct engine_loop *l, int max_wait_ms, const int *xfds,
    const short *xevents, int nx)
{
	struct engine	*e;
	double		 wait = 3600, w;
	double		 slice;
	int		 ms, fds[256], nfds = 0, i, busy = 0, answered = 0;
	int		 nengines = 0;
	short		 events[256];
	size_t		 finished;

	if (l->failed)
		return -1;
	for (e = l->engines; e != NULL; e = e->next_engine)
		if (!e->failed)
			nengines++;
	/* Each engine gets its share of the turn, so that the loop's other
	 * work (a daemon's control requests) waits for none of them. */
	slice = ENGINE_TURN_SLICE / (nengines > 0 ? nengines : 1);
	if (slice < 0.001)
		slice = 0.001;
	for (e = l->engines; e != NULL; e = e->next_engine) {
		if (e->failed)
			continue;
		finished = e->finished;
		if ((w = engine_dispatch(e, time_mono() + slice)) < wait)
			wait = w;
		if (e->incoming != NULL)
			wait = 0;	/* submitted by callbacks: go on */
		if (e->finished != finished)
			answered = 1;
		if (engine_busy(e))
			busy = 1;
	}
	if (l->batches != NULL) {
		if (l->http == NULL)
			l->http = http_new();
		if ((w = batch_pump(l->batches, l->http, time_mono(),
		    &l->cause)) < 0) {
			l->failed = 1;
			return -1;
		}
		if (w < wait)
			wait = w;
	}
	ms = (int)ceil(wait * 1000);
	if (ms > max_wait_ms)
		ms = max_wait_ms;
	/* Answers already in (cache hits, in-process backends): the caller
	 * has work to do with them, so only look at what is ready. */
	if (ms < 0 || answered)
		ms = 0;
	for (i = 0; i < nx && nfds < (int)nitems(fds); i++) {
		fds[nfds] = xfds[i];
		events[nfds++] = xevents[i];
	}
	if (l->procs != NULL && procset_running(l->procs) > 0)
		nfds += procset_fds(l->procs, fds + nfds, events + nfds,
		    (int)nitems(fds) - nfds, &ms);
	if (!busy && nx == 0)
		ms = 0;
	/* An open transaction is not kept waiting past its window. */
	if (l->in_txn && l->group && ms > 0) {
		w = (l->txn_at + ENGINE_COMMIT_WINDOW - time_mono()) * 1000;
		ms = w <= 0 ? 0 : ms < (int)w + 1 ? ms : (int)w + 1;
	}
	if (l->http != NULL)
		http_perform(l->http, ms, fds, events, nfds);
	else if (nfds > 0)
		poll_fds(fds, events, nfds, ms);
	else if (ms > 0)
		time_sleep((double)ms / 1000);
	if (l->procs != NULL)
		procset_perform(l->procs);
	busy = 0;
	for (e = l->engines; e != NULL; e = e->next_engine)
		if (!e->failed && engine_busy(e))
			busy = 1;
	if (!l->group || !busy ||
	    time_mono() - l->txn_at >= ENGINE_COMMIT_WINDOW) {
		if (engine_loop_flush(l) != 0)
			return -1;
	}
	return busy;
}

/*
 * Runs the loop until e has nothing left (or, until_woken, until a
 * callback wakes it: engine_wake()).  The answers of several turns
 * may share one commit, within ENGINE_COMMIT_WINDOW (what a crash can
 * lose is what was in flight and those few milliseconds, each call still
 * with the scores that use it; a call built on an answer waits for its
 * commit); it is committed before this returns.
 */
static int
engine_drive(struct engine *e, int until_woken, char **cause)
{
	const char	*why;
	unsigned long	 wakes = e->wakes;

	e->loop->group++;
	while (engine_busy(e) && !engine_failed(e, NULL) &&
	    (!until_woken || e->wakes == wakes)) {
		if (engine_loop_turn(e->loop, 1000, NULL, NULL, 0) < 0)
			break;
		/* A progress line moves on while nothing is answered. */
		if (e->progress != NULL)
			e->progress(e->progress_arg, e);
	}
	e->loop->group--;
	engine_loop_flush(e->loop);
	if (engine_failed(e, &why)) {
		if (cause != NULL) {
			free(*cause);
			*cause = xstrdup(why != NULL ? why : "engine stopped");
		}
		return -1;
	}
	return 0;
}

int
engine_run(struct engine *e, char **cause)
{
	return engine_drive(e, 0, cause);
}

int
engine_run_woken(struct engine *e, char **cause)
{
	return engine_drive(e, 1, cause);
}

void
engine_wake(struct engine *e)
{
	e->wakes++;
}

unsigned long
engine_wakes(const struct engine *e)
{
	return e->wakes;
}

void
engine_totals(const struct engine *e, struct run_totals *t)
{
	*t = e->totals;
}

enum engine_stop
engine_stopped(const struct engine *e)
{
	return e->stop;
}

enum engine_stop
engine_check(struct engine *e)
{
	if (e->stop == ENGINE_OK)
		e->stop = engine_budget_check(e);
	return e->stop;
}

struct store *
engine_store(const struct engine *e)
{
	return e->store;
}

void
engine_set_job(struct engine *e, int64_t job)
{
	e->job = job;
}

void
engine_set_judge_evidence(struct engine *e, const char *text)
{
	free(e->judge_evidence);
	e->judge_evidence = text != NULL ? xstrdup(text) : NULL;
}

const char *
engine_judge_evidence(const struct engine *e)
{
	return e->judge_evidence;
}

void
engine_wait_down(struct engine *e, int on)
{
	e->wait_down = on;
}

void
engine_kill_after(struct engine *e, size_t n)
{
	e->kill_at = e->finished + n;
}

const struct backend *
engine_waiting(const struct engine *e)
{
	if (e->waiting == NULL || e->waiting->health.down_since == 0)
		return NULL;
	return e->waiting;
}

static int
engine_req_of(void *arg, const void *ctx)
{
	return ((struct engine_req *)arg)->engine == ctx;
}

char *
engine_batch_waiting(const struct engine *e)
{
	const char	*id;
	long long	 answered;
	size_t		 n;

	if (e->nbatched == 0 || e->nflying > 0 || e->queued > 0)
		return NULL;
	n = batch_progress(e->loop->batches, engine_req_of, e,
	    &answered, &id);
	if (n == 0)
		return NULL;
	return xasprintf("%zu request%s in provider batches (%s): %lld of "
	    "%zu answered", e->nbatched, e->nbatched == 1 ? "" : "s",
	    id != NULL ? id : "being created", answered, n);
}

int64_t
engine_run_id(const struct engine *e)
{
	return e->run;
}

size_t
engine_done_count(const struct engine *e)
{
	return e->finished;
}
