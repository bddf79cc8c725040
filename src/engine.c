/*
 * The engine: cache, budget, limits, retries, accounting and callbacks for
 * model calls, and prompt evaluation on top of them.
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "backend_http.h"
#include "batch.h"
#include "dataset.h"
#include "engine.h"
#include "http.h"
#include "jsonc.h"
#include "judge.h"
#include "log.h"
#include "metric.h"
#include "proc.h"
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

struct engine_req {
	struct engine		*engine;
	struct backend		*backend;
	struct model_req	 req;
	engine_done_fn		*done;
	void			*arg;
	char			 key[65];	/* its own, the cache's */
	char			 wkey[65];	/* what it may wait on: its key,
						 * or its block of samples' */
	char			 ckey[65];	/* the call's, once started */
	unsigned		 own;		/* its sample */
	unsigned		 lo;		/* the call's first sample */
	int			 batchable;
	int			 sent;		/* its call is made */
	int			 derived;	/* submitted while answers were
					 * not yet committed */
	int			 attempt;	/* attempts made so far */
	int			 probe;		/* sent to a backend that is down */
	int			 stopped;	/* by a budget, never sent */
	int			 answered;	/* its callback has run */
	int			 nobatch;	/* not through a batch: its
						   batch could not answer */
	double			 not_before;	/* monotonic seconds */
	double			 started;
	long long		 reserved;	/* tokens held in the bucket */
	struct engine_req	*waiters;	/* coalesced duplicates */
	struct engine_req	*next;		/* in a list or queue */
	struct engine_req	*prev;		/* in the flying list */
	struct engine_req	*hnext;		/* in the key table */
	int			 hashed;	/* in the key table */
};

/* The requests of one engine waiting for one backend, in order. */
struct engine_queue {
	struct backend		*backend;
	struct engine_req	*head;
	struct engine_req	*tail;
	struct engine_queue	*next;
};

/*
 * The loop: one transport (libcurl multi handle and child processes) and
 * one store connection for every engine of the process; each turn moves
 * all of them along and commits what they finished.
 */
struct engine_loop {
	struct store		*store;
	struct http		*http;		/* made when first needed */
	struct batchset		*batches;	/* made when first needed */
	struct procset		*procs;
	struct engine		*engines;
	int			 in_txn;	/* a transaction began */
	double			 txn_at;	/* when, monotonic */
	int			 group;		/* it may span turns */
	int			 failed;	/* the store failed */
	char			*cause;
};

struct engine {
	struct engine_loop	*loop;
	struct engine		*next_engine;	/* in the loop's list */
	struct store		*store;
	int64_t			 run;
	int64_t			 job;		/* for events; 0 for none */
	size_t			 kill_at;	/* a test's crash, or 0 */
	int			 wait_down;	/* wait for a backend that is
						   down, or fail at once */
	struct backend		*waiting;	/* down, with requests of ours */
	const struct budget	*budget;
	const struct budget	*job_budget;	/* over all the job's runs */
	struct run_totals	 job_spent;	/* by the job's other runs */
	double			 job_created;
	enum cache_mode		 cache;
	double			 started;
	struct engine_req	*incoming;	/* submitted, not yet queued */
	struct engine_req	*incoming_tail;
	struct engine_queue	*queues;	/* one per backend used */
	struct engine_req	*delayed;	/* retries, until not_before */
	struct engine_req	*flying;	/* sent, not answered */
	struct engine_req	**keys;		/* queued or flying, by key */
	size_t			 nkeys;		/* buckets, a power of 2 */
	size_t			 nkeyed;
	size_t			 queued;	/* submitted, not flying */
	size_t			 nflying;
	size_t			 borrowed;	/* waiting on another engine's
						   call */
	struct engine_req	*batched;	/* in a provider batch */
	size_t			 nbatched;
	size_t			 finished;
	struct run_totals	 totals;
	enum engine_stop	 stop;
	struct rng		 rng;		/* backoff jitter */
	int			 failed;	/* a callback failed */
	char			*cause;
	engine_progress_fn	*progress;
	void			*progress_arg;
};

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

/*
 * The key table: every request queued, delayed or flying, by the key of
 * the call that will answer it, so that an identical request (or another
 * sample of the same block) joins it instead of paying again.
 */
static struct engine_req **
engine_key_slot(struct engine *e, const char *key)
{
	uint64_t	h = 0;
	size_t		i;

	/* The key is a SHA-256 in hex: its first digits are well spread. */
	for (i = 0; i < 16; i++)
		h = h << 4 | (uint64_t)(key[i] <= '9' ? key[i] - '0' :
		    key[i] - 'a' + 10);
	return &e->keys[h & (e->nkeys - 1)];
}

static void
engine_key_add(struct engine *e, struct engine_req *r)
{
	struct engine_req	**old, *q, *next, **slot;
	size_t			  n, i;

	if (e->nkeyed >= e->nkeys) {
		old = e->keys;
		n = e->nkeys;
		e->nkeys = n == 0 ? 64 : n * 2;
		e->keys = xcalloc(e->nkeys, sizeof *e->keys);
		for (i = 0; i < n; i++) {
			for (q = old[i]; q != NULL; q = next) {
				next = q->hnext;
				slot = engine_key_slot(e, q->wkey);
				q->hnext = *slot;
				*slot = q;
			}
		}
		free(old);
	}
	slot = engine_key_slot(e, r->wkey);
	r->hnext = *slot;
	*slot = r;
	r->hashed = 1;
	e->nkeyed++;
}

/* Whether q's call, made, answers r (an identical request, or r's
 * sample among those the call asked for). */
static int
engine_covers(const struct engine_req *q, const struct engine_req *r)
{
	if (!q->batchable)
		return 1;
	return r->own >= q->lo && r->own - q->lo < (q->req.n > 1 ?
	    q->req.n : 1);
}

/*
 * The request r may wait on: first a call made that will answer it,
 * else one of its block still waiting to be sent (which will ask for r's
 * sample too).
 */
static struct engine_req *
engine_key_find(struct engine *e, const struct engine_req *r)
{
	struct engine_req	*q, *unsent = NULL;

	if (e->nkeyed == 0)
		return NULL;
	for (q = *engine_key_slot(e, r->wkey); q != NULL; q = q->hnext) {
		if (q->backend != r->backend || strcmp(q->wkey, r->wkey) != 0)
			continue;
		if (!q->sent) {
			if (unsent == NULL)
				unsent = q;
		} else if (engine_covers(q, r))
			return q;
	}
	return unsent;
}

static void
engine_key_remove(struct engine *e, struct engine_req *r)
{
	struct engine_req	**p;

	for (p = engine_key_slot(e, r->wkey); *p != NULL; p = &(*p)->hnext) {
		if (*p == r) {
			*p = r->hnext;
			r->hashed = 0;
			e->nkeyed--;
			return;
		}
	}
}

static void	engine_incoming(struct engine *, struct engine_req *);

/*
 * A request of another engine that waited on r, a call that will not
 * answer it now (freed, failed): back to be admitted by its own engine.
 */
static void
engine_hand_back(struct engine_req *w)
{
	struct engine	*we = w->engine;

	we->borrowed--;
	w->sent = 0;
	w->attempt = 0;
	w->waiters = NULL;
	engine_incoming(we, w);
}

static void
engine_req_free(struct engine_req *r)
{
	struct engine_req	*w, *next;

	if (r->hashed)
		engine_key_remove(r->engine, r);
	for (w = r->waiters; w != NULL; w = next) {
		next = w->next;
		if (w->engine != r->engine && !w->answered)
			engine_hand_back(w);
		else
			engine_req_free(w);
	}
	model_req_release(&r->req);
	free(r);
}

/*
 * Another engine's call that r may wait on instead of paying again: an
 * identical request, sent or queued (requests of one loop share their
 * answers, whichever job asked first).  A sample of a block never waits
 * on another engine: blocks are made within an engine.
 */
static struct engine_req *
engine_twin_elsewhere(struct engine *e, const struct engine_req *r)
{
	struct engine		*o;
	struct engine_req	*q;

	if (r->batchable)
		return NULL;
	for (o = e->loop->engines; o != NULL; o = o->next_engine) {
		if (o == e || o->failed || o->nkeyed == 0)
			continue;
		for (q = *engine_key_slot(o, r->wkey); q != NULL;
		    q = q->hnext)
			if (!q->batchable && q->backend == r->backend &&
			    strcmp(q->wkey, r->wkey) == 0)
				return q;
	}
	return NULL;
}

/* Removes and frees e's requests that wait on calls of other engines. */
static void
engine_unborrow_list(struct engine *e, struct engine_req *list)
{
	struct engine_req	*r, **wp, *w;

	for (r = list; r != NULL && e->borrowed > 0; r = r->next) {
		for (wp = &r->waiters; (w = *wp) != NULL; ) {
			if (w->engine != e) {
				wp = &w->next;
				continue;
			}
			*wp = w->next;
			w->next = NULL;
			e->borrowed--;
			engine_req_free(w);
		}
	}
}

static void
engine_unborrow(struct engine *e)
{
	struct engine		*o;
	struct engine_queue	*q;

	for (o = e->loop->engines; o != NULL && e->borrowed > 0;
	    o = o->next_engine) {
		if (o == e)
			continue;
		engine_unborrow_list(e, o->flying);
		engine_unborrow_list(e, o->delayed);
		for (q = o->queues; q != NULL; q = q->next)
			engine_unborrow_list(e, q->head);
	}
}

static void
engine_list_free(struct engine_req *r)
{
	struct engine_req	*next;

	for (; r != NULL; r = next) {
		next = r->next;
		engine_req_free(r);
	}
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
static void
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

/*
 * Samples in blocks: where a backend returns several samples per call
 * (OpenAI's n), the samples of one request at temperature > 0 in the same
 * block of n (sample / n) wait on one another while queued (the key table
 * holds them under the block's key), and the first to be sent asks for
 * all of them in one call: samples lo .. hi, choice i being sample lo + i.
 * Each choice is cached under its own sample's key, so whatever asks for
 * one later finds it; a request alone in its block is an ordinary call.
 */
static void
engine_batch(struct engine_req *r)
{
	struct backend		*b = r->backend;
	struct model_req	 block;

	r->own = r->req.sample;
	r->batchable = b->batch > 1 && r->req.kind == REQ_CHAT &&
	    r->req.n <= 1 && model_req_temperature(b, &r->req) > 0;
	if (!r->batchable) {
		memcpy(r->wkey, r->key, sizeof r->wkey);
		return;
	}
	block = r->req;
	block.sample -= block.sample % (unsigned)b->batch;
	block.n = (unsigned)b->batch;
	model_req_key(b, &block, r->wkey);
}

/* A request whose sample did not come in its call: alone again. */
static void
engine_unbatch(struct engine *e, struct engine_req *r)
{
	r->req.sample = r->own;
	r->req.n = 0;
	engine_batch(r);
	r->attempt = 0;
	r->sent = 0;
	engine_incoming(e, r);
}

static int
engine_own_cmp(const void *a, const void *b)
{
	unsigned	x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/*
 * The call that r (first of its block) makes: the run of consecutive
 * samples around its own that it and the requests waiting on it want
 * (no sample nobody asked for, which may be cached or under way).
 * Waiters outside the run go back to be admitted again.
 */
static void
engine_call(struct engine *e, struct engine_req *r)
{
	struct engine_req	**wp, *w;
	unsigned		 *own, lo = r->own, hi = r->own;
	size_t			  n = 1, i;

	r->sent = 1;
	if (r->batchable && r->waiters != NULL) {
		for (w = r->waiters; w != NULL; w = w->next)
			n++;
		own = xcalloc(n, sizeof *own);
		own[0] = r->own;
		for (i = 1, w = r->waiters; w != NULL; w = w->next)
			own[i++] = w->own;
		qsort(own, n, sizeof *own, engine_own_cmp);
		for (i = 0; own[i] != r->own; i++)
			;
		while (i > 0 && own[i - 1] + 1 >= lo)
			lo = own[--i];
		for (; i < n && own[i] <= hi + 1; i++)
			if (own[i] > hi)
				hi = own[i];
		free(own);
		for (wp = &r->waiters; (w = *wp) != NULL; ) {
			if (w->own >= lo && w->own <= hi) {
				wp = &w->next;
				continue;
			}
			*wp = w->next;
			engine_incoming(e, w);
		}
	}
	r->lo = lo;
	if (hi == lo) {
		/* An ordinary call: its key is the request's. */
		memcpy(r->ckey, r->key, sizeof r->ckey);
		return;
	}
	r->req.sample = lo;
	r->req.n = hi - lo + 1;
	model_req_key(r->backend, &r->req, r->ckey);
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
	model_req_key(b, &r->req, r->key);
	engine_batch(r);
	r->derived = e->loop->in_txn;
	engine_incoming(e, r);
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
static enum engine_stop
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

/* Refills a backend's token buckets for the time gone by. */
static void
engine_refill(struct backend *b, double now)
{
	double	dt;

	if (b->bucket_at == 0) {
		b->rpm_level = b->requests_per_minute;
		b->tpm_level = b->tokens_per_minute;
		b->bucket_at = now;
		return;
	}
	dt = now - b->bucket_at;
	b->bucket_at = now;
	b->rpm_level += dt * b->requests_per_minute / 60.0;
	if (b->rpm_level > b->requests_per_minute)
		b->rpm_level = b->requests_per_minute;
	b->tpm_level += dt * b->tokens_per_minute / 60.0;
	if (b->tpm_level > b->tokens_per_minute)
		b->tpm_level = b->tokens_per_minute;
}

/* Tokens a request is expected to use, for the tokens-per-minute bucket. */
static long long
engine_estimate(const struct engine_req *r)
{
	long long	n = 0;
	size_t		i;

	for (i = 0; i < r->req.nmsgs; i++)
		n += tokens_estimate(r->req.msgs[i].content);
	if (r->req.input != NULL)
		n += tokens_estimate(r->req.input);
	return n;
}

/*
 * Whether the backend has room for r now; if not, *wait is lowered to
 * when it might.
 */
/*
 * Whether what the provider says is left of its limits lets r go; if
 * not, *wait is lowered to when it is whole again.  What was left counts
 * as unknown (no limit) once that time has come.
 */
static int
engine_provider_room(struct backend *b, const struct engine_req *r,
    double now, double *wait)
{
	struct backend_limits	*l = &b->limits;

	if (l->window > 0 && b->in_flight >= (int)l->window)
		return 0;
	if (!l->known)
		return 1;
	if (l->req_left >= 0 && now >= l->req_reset)
		l->req_left = -1;
	if (l->tok_left >= 0 && now >= l->tok_reset)
		l->tok_left = -1;
	if (l->req_left >= 0 && l->req_left < 1) {
		if (l->req_reset - now < *wait)
			*wait = l->req_reset - now;
		return 0;
	}
	if (l->tok_left >= 0 && l->tok_left < (double)r->reserved &&
	    b->in_flight > 0) {
		if (l->tok_reset - now < *wait)
			*wait = l->tok_reset - now;
		return 0;
	}
	return 1;
}

/* A request goes: it takes its part of what the provider said is left. */
static void
engine_provider_take(struct backend *b, const struct engine_req *r)
{
	struct backend_limits	*l = &b->limits;

	if (l->req_left >= 0)
		l->req_left -= 1;
	if (l->tok_left >= 0)
		l->tok_left -= (double)r->reserved;
}

/*
 * What an answer says of the provider's limits: its headers (what is
 * left, less what is in flight beside it), or, for a 429 without them,
 * a halved window on requests in flight; answers grow it back, by one
 * a window's worth, until it is max_in_flight again.
 */
static void
engine_provider_answer(struct backend *b, long status, const char *lines,
    double now)
{
	struct backend_limits	*l = &b->limits;
	double			 rl, rr, tl, tr;

	if (lines != NULL && backend_http_limits(lines, time_now(), &rl, &rr,
	    &tl, &tr)) {
		l->known = 1;
		if (rl >= 0) {
			l->req_left = rl - b->in_flight;
			l->req_reset = now + (rr >= 0 ? rr : 60);
		}
		if (tl >= 0) {
			l->tok_left = tl;
			l->tok_reset = now + (tr >= 0 ? tr : 60);
		}
	} else if (status == 429) {
		if (l->window == 0)
			l->window = b->in_flight + 1;
		l->window = l->window / 2 < 1 ? 1 : l->window / 2;
		log_info("backend '%s': 429 without rate-limit headers: at "
		    "most %.0f requests in flight for now", b->name, l->window);
		return;
	}
	if (l->window > 0 && status >= 200 && status <= 299) {
		l->window += 1 / l->window;
		if (l->window >= b->max_in_flight)
			l->window = 0;
	}
}

static int
engine_room(struct backend *b, const struct engine_req *r, double now,
    double *wait)
{
	double	need;

	if (b->in_flight >= b->max_in_flight ||
	    !engine_provider_room(b, r, now, wait))
		return 0;
	engine_refill(b, now);
	if (b->requests_per_minute > 0 && b->rpm_level < 1) {
		need = (1 - b->rpm_level) * 60.0 / b->requests_per_minute;
		if (need < *wait)
			*wait = need;
		return 0;
	}
	if (b->tokens_per_minute > 0 && b->tpm_level < (double)r->reserved &&
	    b->tpm_level < b->tokens_per_minute) {
		need = ((double)r->reserved - b->tpm_level) * 60.0 /
		    b->tokens_per_minute;
		if (need < *wait)
			*wait = need;
		return 0;
	}
	return 1;
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
static int
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

/* Writes a call row; returns its id or -1. */
static int64_t
engine_record(struct engine *e, struct engine_req *r, const char *status,
    const struct model_resp *resp, double cost, double latency,
    long http_status, const char *error)
{
	struct call_record	rec;

	if (engine_txn(e) != 0)
		return -1;
	memset(&rec, 0, sizeof rec);
	rec.run = e->run;
	rec.backend = r->backend->name;
	rec.model = r->backend->model;
	rec.role = r->req.role;
	rec.cached = strcmp(status, "hit") == 0;
	/* A call row has the call's key; a hit, the request's own. */
	rec.key = rec.cached ? r->key : r->ckey;
	rec.attempt = r->attempt;
	rec.status = status;
	rec.http_status = (int)http_status;
	rec.error = error;
	rec.latency = latency;
	rec.cost = cost;
	if (resp != NULL) {
		rec.prompt_tokens = resp->prompt_tokens;
		rec.completion_tokens = resp->completion_tokens;
		rec.cached_tokens = resp->cached_tokens;
		rec.cache_write_tokens = resp->cache_write_tokens;
		rec.reasoning_tokens = resp->reasoning_tokens;
	}
	return store_call_add(e->store, &rec, &e->cause);
}

/* Hands a result to one request's callback; a failure stops the engine. */
static void
engine_callback(struct engine *e, struct engine_req *r,
    struct engine_result *res)
{
	res->key = r->key;
	if (!e->failed && r->done(r->arg, res, &e->cause) != 0)
		e->failed = 1;
	e->finished++;
	if (e->kill_at > 0 && e->finished >= e->kill_at) {
		/* As kill -9 would: nothing uncommitted is kept. */
		log_warnx("killed at answer %zu, as PROMPTD_KILL_AT asks",
		    e->finished);
		_exit(137);
	}
	if (e->progress != NULL && !e->failed)
		e->progress(e->progress_arg, e);
}

/* Choice i of a call for several samples, as an answer of its own (the
 * call's completion tokens shared). */
static void
engine_choice(const struct model_resp *resp, size_t i, struct model_resp *one)
{
	*one = *resp;
	one->text = resp->choices[i];
	one->choices = NULL;
	one->nchoices = 0;
	one->completion_tokens /= (long long)resp->nchoices;
}

/*
 * Caches an answer: under the request's key, or each choice of a call
 * for several samples under its own sample's key.
 */
static int
engine_cache_put(struct engine *e, const struct engine_req *r,
    const struct model_resp *resp)
{
	struct model_resp	 one;
	struct model_req	 sample;
	char			 key[65], *json;
	size_t			 i, n = resp->nchoices;
	int			 rc = 0;

	for (i = 0; i < (n > 0 ? n : 1) && rc == 0; i++) {
		one = *resp;
		if (n > 0) {
			sample = r->req;
			sample.sample = r->lo + (unsigned)i;
			sample.n = 0;
			model_req_key(r->backend, &sample, key);
			engine_choice(resp, i, &one);
		}
		json = model_resp_to_json(&one);
		rc = store_cache_put(e->store, n > 0 ? key : r->key, json,
		    &e->cause);
		free(json);
	}
	return rc;
}

/*
 * What request w gets of the answer to r's call: its own choice when the
 * call was for several samples.  Returns 0 when that choice did not come
 * (a server that ignores n).
 */
static int
engine_answer(const struct engine_req *r, const struct engine_req *w,
    const struct model_resp *resp, const struct model_resp **out,
    struct model_resp *one)
{
	unsigned	i = w->own - r->lo;

	*out = resp;
	if (resp == NULL || resp->nchoices == 0)
		return 1;
	if (i >= resp->nchoices)
		return 0;
	engine_choice(resp, i, one);
	*out = one;
	return 1;
}

/*
 * The final outcome of r (and of the duplicates waiting on it): its call
 * row, its cache entry and what its callbacks store go into the step's
 * transaction (see engine_step).
 * resp is NULL for a failure; status is the call row's status or NULL
 * when the row was already written (a failed last attempt).  A request
 * whose sample did not come in a call for several is sent again alone
 * (the server ignores n: the backend stops asking for blocks).
 */
static void
engine_complete(struct engine *e, struct engine_req *r, const char *status,
    const struct model_resp *resp, double cost, double latency,
    long http_status, const char *error)
{
	struct engine_result	  res;
	struct engine_req	**wp, *w, *again;
	struct engine		 *we;
	struct model_resp	  one;

	if (e->failed || engine_txn(e) != 0)
		return;
	memset(&res, 0, sizeof res);
	if (status != NULL && (res.call = engine_record(e, r, status, resp,
	    cost, latency, http_status, error)) < 0)
		goto fail;
	if (resp != NULL && status != NULL && strcmp(status, "ok") == 0 &&
	    e->cache == CACHE_ON && engine_cache_put(e, r, resp) != 0)
		goto fail;
	/* Only a call for several samples has choices (not a hit). */
	if (resp != NULL && resp->nchoices > 0 &&
	    resp->nchoices < r->req.n && r->backend->batch > 1) {
		log_warnx("backend '%s': %zu of %u samples came in one call: "
		    "asking for one at a time from now on", r->backend->name,
		    resp->nchoices, r->req.n);
		r->backend->batch = 1;
	}
	res.ok = resp != NULL;
	res.cached = status != NULL && strcmp(status, "hit") == 0;
	res.stopped = r->stopped;
	res.error = error;
	if (engine_answer(r, r, resp, &res.resp, &one))
		engine_callback(e, r, &res);
	else {
		/* r is freed by the caller: its request moves to a new one. */
		again = xmalloc(sizeof *again);
		*again = *r;
		memset(&r->req, 0, sizeof r->req);
		again->waiters = again->hnext = NULL;
		again->hashed = 0;
		engine_unbatch(e, again);
	}
	for (wp = &r->waiters; (w = *wp) != NULL && !e->failed; ) {
		if (!engine_answer(r, w, resp, &res.resp, &one)) {
			*wp = w->next;
			engine_unbatch(e, w);
			continue;
		}
		/*
		 * A coalesced duplicate paid nothing: it counts as a hit, in
		 * its own engine's run (it may be another job's).  Another
		 * engine's request takes only an answer: a failure (or this
		 * run's budget) is not its own, and it tries for itself.
		 */
		we = w->engine;
		if (we != e && resp == NULL) {
			*wp = w->next;
			engine_hand_back(w);
			continue;
		}
		res.call = 0;
		if (resp != NULL) {
			w->attempt = 1;
			if ((res.call = engine_record(we, w, "hit", res.resp,
			    0, 0, 0, NULL)) < 0)
				goto fail;
			we->totals.hits++;
		}
		res.cached = 1;
		w->answered = 1;
		if (we != e)
			we->borrowed--;
		engine_callback(we, w, &res);
		wp = &w->next;
	}
	return;
fail:
	e->failed = 1;
}

/* Takes r out of a list of requests (in flight, or in batches). */
static void
engine_unlink(struct engine_req **head, size_t *n, struct engine_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	(*n)--;
}

/* An event of the engine's job (and a log line), in the turn's commit. */
static void
engine_event(struct engine *e, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
engine_event(struct engine *e, const char *level, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (strcmp(level, "info") == 0)
		log_info("%s", msg);
	else
		log_warnx("%s", msg);
	if (e->job > 0 && engine_txn(e) == 0 && store_event(e->store, e->job,
	    e->run, level, msg, &e->cause) != 0)
		e->failed = 1;
	free(msg);
}

/* A failed attempt of b's, for its health. */
static void
engine_health_fail(struct backend *b, const char *cause)
{
	b->health.failures++;
	free(b->health.cause);
	b->health.cause = xstrdup(cause != NULL ? cause : "unknown error");
}

/* b answered (with any status): it is reachable. */
static void
engine_health_up(struct backend *b)
{
	struct backend_health	*h = &b->health;

	h->row = 0;
	if (h->down_since == 0)
		return;
	log_warnx("backend '%s' answers again after %.0f s down", b->name,
	    time_now() - h->down_since);
	h->down_since = 0;
	h->probing = 0;
}

/*
 * A connection failure of b's (r's attempt).  Returns 1 when b is down:
 * r then waits for it, without spending a retry.
 */
static int
engine_breaker(struct engine_req *r)
{
	struct backend		*b = r->backend;
	struct backend_health	*h = &b->health;

	h->row++;
	if (h->down_since == 0) {
		if (b->breaker == 0 || h->row < b->breaker)
			return 0;
		h->down_since = time_now();
		h->probe_wait = 1;
		h->probe_at = time_mono() + h->probe_wait;
		h->probing = 0;
		log_warnx("backend '%s' is down after %d connection failures "
		    "in a row (%s)", b->name, h->row, h->cause);
		return 1;
	}
	if (r->probe) {
		/* The probe failed: wait twice as long, up to a minute. */
		h->probing = 0;
		h->probe_wait = h->probe_wait * 2 > 60 ? 60 : h->probe_wait * 2;
		h->probe_at = time_mono() + h->probe_wait;
	}
	return 1;
}

/*
 * Whether r may go to its backend, which is down: as its probe, once the
 * wait is over and no other probe is under way.  Else *wait is lowered
 * to the next probe, and the engine's job hears (once) that it waits.
 */
static int
engine_may_probe(struct engine *e, struct engine_req *r, double now,
    double *wait)
{
	struct backend		*b = r->backend;
	struct backend_health	*h = &b->health;

	if (!h->probing && now >= h->probe_at)
		return 1;
	if (!h->probing && h->probe_at - now < *wait)
		*wait = h->probe_at - now;
	if (e->waiting != b) {
		e->waiting = b;
		engine_event(e, "warn", "backend '%s' is down (%d connection "
		    "failures in a row, the last: %s): waiting for it",
		    b->name, h->row, h->cause != NULL ? h->cause : "?");
	}
	return 0;
}

/* Fails r, never sent, because its backend is down. */
static void
engine_down(struct engine *e, struct engine_req *r)
{
	struct backend	*b = r->backend;
	char		*why;

	why = xasprintf("backend '%s' is down after %d connection failures "
	    "in a row: %s", b->name, b->health.row, b->health.cause != NULL ?
	    b->health.cause : "?");
	/* No attempt was made: there is no call to record. */
	engine_complete(e, r, NULL, NULL, 0, 0, 0, why);
	engine_req_free(r);
	free(why);
}

/* A retry waits in the delayed list, then goes first in its queue. */
static void
engine_requeue(struct engine *e, struct engine_req *r, double delay)
{
	r->not_before = time_mono() + delay;
	r->next = e->delayed;
	e->delayed = r;
	e->queued++;
}

/* How long to wait before retrying r: Retry-After, or full jitter. */
static double
engine_backoff(struct engine *e, const struct engine_req *r,
    double retry_after)
{
	const struct backend	*b = r->backend;
	double			 ceiling;

	if (retry_after >= 0)
		return retry_after;
	ceiling = b->retry_base * pow(2, r->attempt - 1);
	if (ceiling > b->retry_cap)
		ceiling = b->retry_cap;
	return rng_uniform(&e->rng) * ceiling;
}

static int
engine_retryable(long status)
{
	return status == 0 || status == 408 || status == 409 ||
	    status == 429 || status >= 500;
}

/*
 * A reply for a flying request: status 0 means none arrived (error says
 * why).  Parsed answers complete the request; retryable failures are
 * recorded and tried again later; others complete it with the error.
 */
static void
engine_reply(struct engine_req *r, long status, const char *body, size_t len,
    double retry_after, int connection, const char *limits, const char *error,
    double seconds)
{
	struct engine		*e = r->engine;
	struct backend		*b = r->backend;
	struct model_resp	 resp;
	char			*err = NULL;
	double			 cost;
	int			 ok;

	b->in_flight--;
	engine_unlink(&e->flying, &e->nflying, r);
	if (status != 0)
		engine_provider_answer(b, status, limits, time_mono());
	memset(&resp, 0, sizeof resp);
	if (status == 0)
		cause_set(&err, "%s: %s", b->ops->name, error);
	ok = status != 0 && b->ops->parse(b, &r->req, status, body, len,
	    &resp, &err) == 0;
	cost = backend_cost(b, &resp);
	e->totals.tokens += resp.prompt_tokens + resp.completion_tokens;
	e->totals.cached += resp.cached_tokens;
	e->totals.dollars += cost;
	b->tpm_level -= (double)resp.completion_tokens;
	/* Only an answer (2xx) is paid for: the others give back their call. */
	if (status < 200 || status > 299)
		e->totals.calls--;
	if (!ok)
		engine_health_fail(b, err);
	if (status != 0)
		engine_health_up(b);
	if (connection && engine_breaker(r) && e->wait_down) {
		/* Down: the attempt is recorded, and r waits for a probe. */
		if (!e->failed && engine_record(e, r, "error", &resp, cost,
		    seconds, status, err) < 0)
			e->failed = 1;
		r->attempt--;
		r->probe = 0;
		engine_requeue(e, r, 0);
		free(err);
		model_resp_release(&resp);
		return;
	}
	r->probe = 0;
	if (ok) {
		engine_complete(e, r, "ok", &resp, cost, seconds, status, NULL);
		engine_req_free(r);
	} else if ((status == 200 || engine_retryable(status)) &&
	    r->attempt <= b->max_retries) {
		/* This attempt is recorded now; the request goes back. */
		if (!e->failed && engine_record(e, r, "error", &resp, cost,
		    seconds, status, err) < 0)
			e->failed = 1;
		log_debug("%s: attempt %d failed, retrying: %s", b->name,
		    r->attempt, err);
		engine_requeue(e, r, engine_backoff(e, r, retry_after));
	} else {
		engine_complete(e, r, "error", NULL, cost, seconds, status,
		    err);
		engine_req_free(r);
	}
	free(err);
	model_resp_release(&resp);
}

static void
engine_http_done(void *arg, const struct http_result *hr)
{
	engine_reply(arg, hr->status, hr->body, hr->len, hr->retry_after,
	    hr->connection, hr->limits, hr->error, hr->seconds);
}

/* A process backend's command finished: its exit becomes a status. */
static void
engine_proc_done(void *arg, const struct proc_result *pr)
{
	struct engine_req	*r = arg;
	char			*why = NULL;

	if (pr->error != NULL)
		engine_reply(r, 0, "", 0, -1, 0, NULL, pr->error, pr->seconds);
	else if (pr->timed_out) {
		why = xasprintf("command timed out after %.1fs",
		    r->backend->timeout);
		engine_reply(r, 0, "", 0, -1, 0, NULL, why, pr->seconds);
	} else if (pr->too_big)
		engine_reply(r, 0, "", 0, -1, 0, NULL, "command output larger "
		    "than the limit", pr->seconds);
	else if (pr->exited && pr->status == 0)
		engine_reply(r, 200, pr->out, pr->len, -1, 0, NULL, NULL,
		    pr->seconds);
	else if (pr->exited)
		engine_reply(r, pr->status == 75 ? 503 : 422, pr->err,
		    strlen(pr->err), -1, 0, NULL, NULL, pr->seconds);
	else
		engine_reply(r, 500, pr->err, strlen(pr->err), -1, 0, NULL,
		    NULL, pr->seconds);
	free(why);
}

/* Sends r (its backend has room and the budget allows it). */
static void
engine_start(struct engine *e, struct engine_req *r)
{
	struct backend		*b = r->backend;
	struct model_resp	 resp;
	struct http_req		 hreq;
	struct http_opts	 opts;
	char			*err = NULL;
	double			 t0, cost;
	const char		*base;

	if (!r->sent)
		engine_call(e, r);
	r->attempt++;
	r->started = t0 = time_mono();
	e->totals.calls++;
	if (b->requests_per_minute > 0)
		b->rpm_level -= 1;
	if (b->tokens_per_minute > 0)
		b->tpm_level -= (double)r->reserved;
	engine_provider_take(b, r);
	if (b->ops->call != NULL) {
		memset(&resp, 0, sizeof resp);
		if (b->ops->call(b, &r->req, &resp, &err) == 0) {
			cost = backend_cost(b, &resp);
			e->totals.tokens += resp.prompt_tokens +
			    resp.completion_tokens;
			e->totals.dollars += cost;
			engine_complete(e, r, "ok", &resp, cost,
			    time_mono() - t0, 0, NULL);
		} else {
			e->totals.calls--;
			engine_health_fail(b, err);
			engine_complete(e, r, "error", NULL, 0,
			    time_mono() - t0, 0, err);
		}
		free(err);
		model_resp_release(&resp);
		engine_req_free(r);
		return;
	}
	memset(&hreq, 0, sizeof hreq);
	if (b->ops->build == NULL || (b->nurls == 0 && b->ops->command ==
	    NULL) || b->ops->build(b, &r->req, &hreq, &err) != 0) {
		if (err == NULL)
			cause_set(&err, "backend '%s' (%s) cannot be called",
			    b->name, b->ops->name);
		e->totals.calls--;
		engine_health_fail(b, err);
		engine_complete(e, r, "error", NULL, 0, 0, 0, err);
		free(err);
		http_req_release(&hreq);
		engine_req_free(r);
		return;
	}
	b->in_flight++;
	r->prev = NULL;
	r->next = e->flying;
	if (e->flying != NULL)
		e->flying->prev = r;
	e->flying = r;
	e->nflying++;
	if (b->ops->command != NULL) {
		if (e->loop->procs == NULL)
			e->loop->procs = procset_new();
		procset_spawn(e->loop->procs, b->ops->command(b), hreq.body,
		    hreq.len, b->timeout, (size_t)b->max_response,
		    engine_proc_done, r);
		http_req_release(&hreq);
		return;
	}
	opts.connect_timeout = b->connect_timeout;
	opts.timeout = b->timeout;
	opts.low_speed_time = b->timeout;
	opts.max_response = (size_t)b->max_response;
	base = b->urls[b->next_url++ % b->nurls];
	if (e->loop->http == NULL)
		e->loop->http = http_new();
	http_submit(e->loop->http, base, &hreq, &opts, engine_http_done, r);
	http_req_release(&hreq);
}

/* Answers r from the cache if it can; returns 1 when it did. */
static int
engine_try_cache(struct engine *e, struct engine_req *r)
{
	struct model_resp	 resp;
	char			*cached = NULL, *err = NULL;
	int			 hit;

	if (e->cache == CACHE_OFF)
		return 0;
	if ((hit = store_cache_get(e->store, r->key, &cached, &e->cause)) < 0) {
		e->failed = 1;
		return 1;
	}
	if (!hit)
		return 0;
	if (model_resp_from_json(cached, &resp, &err) != 0) {
		log_warnx("ignoring cache entry %.12s: %s", r->key, err);
		free(err);
		free(cached);
		return 0;
	}
	free(cached);
	r->attempt = 1;
	e->totals.hits++;
	engine_complete(e, r, "hit", &resp, 0, 0, 0, NULL);
	model_resp_release(&resp);
	return 1;
}

/* The queue of an engine for a backend, made when first needed. */
static struct engine_queue *
engine_queue(struct engine *e, struct backend *b)
{
	struct engine_queue	*q;

	for (q = e->queues; q != NULL; q = q->next)
		if (q->backend == b)
			return q;
	q = xcalloc(1, sizeof *q);
	q->backend = b;
	q->next = e->queues;
	e->queues = q;
	return q;
}

static void
engine_enqueue(struct engine_queue *q, struct engine_req *r, int first)
{
	if (first) {
		r->next = q->head;
		q->head = r;
		if (q->tail == NULL)
			q->tail = r;
		return;
	}
	r->next = NULL;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

static struct engine_req *
engine_dequeue(struct engine *e, struct engine_queue *q)
{
	struct engine_req	*r = q->head;

	if ((q->head = r->next) == NULL)
		q->tail = NULL;
	r->next = NULL;
	e->queued--;
	return r;
}

/*
 * New requests: a duplicate of one queued or flying waits for its answer,
 * a cache hit is answered at once, the rest join their backend's queue.
 * Stops at the monotonic time until; returns whether it went through.
 */
static int
engine_admit(struct engine *e, double until)
{
	struct engine_req	*r, *twin;
	size_t			 seen = 0;

	while ((r = e->incoming) != NULL && !e->failed) {
		/* The clock is read now and then, not for every request. */
		if ((++seen & 31) == 0 && time_mono() > until)
			return 0;
		if ((e->incoming = r->next) == NULL)
			e->incoming_tail = NULL;
		r->next = NULL;
		/*
		 * An identical request waits on its twin before the cache is
		 * read (it is not there yet); a sample of a block reads the
		 * cache first, or it could join a call that asks for it
		 * again.
		 */
		if (r->batchable && engine_try_cache(e, r)) {
			e->queued--;
			engine_req_free(r);
			continue;
		}
		if ((twin = engine_key_find(e, r)) != NULL ||
		    (twin = engine_twin_elsewhere(e, r)) != NULL) {
			e->queued--;
			if (twin->engine != e)
				e->borrowed++;
			r->next = twin->waiters;
			twin->waiters = r;
			continue;
		}
		r->reserved = engine_estimate(r);
		if (!r->batchable && engine_try_cache(e, r)) {
			e->queued--;
			engine_req_free(r);
			continue;
		}
		engine_key_add(e, r);
		engine_enqueue(engine_queue(e, r->backend), r, 0);
	}
	return 1;
}

/*
 * A provider batch's answer to r: read, recorded and cached as an
 * interactive one, at the batch price; or, when the batch could not
 * answer it, r goes the ordinary way.
 */
static void
engine_batch_done(void *arg, long status, const char *body, size_t len,
    const char *error)
{
	struct engine_req	*r = arg;
	struct engine		*e = r->engine;
	struct backend		*b = r->backend;
	struct model_resp	 resp;
	char			*err = NULL;
	double			 cost;
	int			 ok;

	engine_unlink(&e->batched, &e->nbatched, r);
	if (status == 0) {
		/* The call it reserved was not paid. */
		e->totals.calls--;
		log_info("backend '%s': %s: sending the request the ordinary "
		    "way", b->name, error != NULL ? error : "no answer");
		r->nobatch = 1;
		r->attempt = 0;
		engine_enqueue(engine_queue(e, b), r, 1);
		e->queued++;
		return;
	}
	memset(&resp, 0, sizeof resp);
	ok = b->ops->parse(b, &r->req, status, body, len, &resp, &err) == 0;
	cost = backend_cost(b, &resp) * b->price.batch;
	e->totals.tokens += resp.prompt_tokens + resp.completion_tokens;
	e->totals.cached += resp.cached_tokens;
	e->totals.dollars += cost;
	if (status < 200 || status > 299)
		e->totals.calls--;
	if (ok)
		engine_complete(e, r, "ok", &resp, cost, 0, status, NULL);
	else
		engine_complete(e, r, "error", NULL, cost, 0, status, err);
	free(err);
	model_resp_release(&resp);
	engine_req_free(r);
}

/* Puts r in its backend's provider batch (batch.h). */
static void
engine_to_batch(struct engine *e, struct engine_req *r)
{
	struct engine_loop	*l = e->loop;
	char			*cause = NULL;

	if (!r->sent)
		engine_call(e, r);
	if (l->batches == NULL)
		l->batches = batchset_new(l->store);
	if (batch_add(l->batches, r->backend, r->ckey, &r->req,
	    engine_batch_done, r, &cause) != 0) {
		log_warnx("backend '%s': %s: sending the request the ordinary "
		    "way", r->backend->name, cause);
		free(cause);
		r->nobatch = 1;
		engine_enqueue(engine_queue(e, r->backend), r, 1);
		e->queued++;
		return;
	}
	r->attempt = 1;
	e->totals.calls++;
	r->prev = NULL;
	r->next = e->batched;
	if (e->batched != NULL)
		e->batched->prev = r;
	e->batched = r;
	e->nbatched++;
}

/*
 * Sends from each backend's queue, in order, while the backend has room
 * and the budgets allow (once a budget is reached, every queued request
 * completes with the reason), until the monotonic time until (in-process
 * backends answer here).  Lowers *wait to when a full backend may have
 * room; returns whether it went through.
 */
static int
engine_send(struct engine *e, double now, double until, double *wait)
{
	struct engine_queue	*q;
	struct backend		*b;
	struct engine_req	*r;
	enum engine_stop	 stop;
	size_t			 seen = 0;

	for (q = e->queues; q != NULL; q = q->next) {
		b = q->backend;
		while ((r = q->head) != NULL && !e->failed) {
			if ((++seen & 31) == 0 && time_mono() > until)
				return 0;
			stop = e->stop;
			/*
			 * A request that cannot go (its backend is down, or
			 * full) still ends at the deadline.
			 */
			/* Batch mode: to the backend's batch, paid later. */
			if (stop == ENGINE_OK && !r->nobatch &&
			    batch_want(b, &r->req) &&
			    (stop = engine_budget_check(e)) == ENGINE_OK) {
				engine_to_batch(e, engine_dequeue(e, q));
				continue;
			}
			if (stop == ENGINE_OK && b->health.down_since > 0 &&
			    !e->wait_down) {
				/* In the foreground, a backend down is an end. */
				r = engine_dequeue(e, q);
				engine_down(e, r);
				continue;
			}
			if (stop == ENGINE_OK && ((b->health.down_since > 0 &&
			    !engine_may_probe(e, r, now, wait)) ||
			    !engine_room(b, r, now, wait)) &&
			    (stop = engine_budget_check(e)) == ENGINE_OK)
				break;
			if (stop == ENGINE_OK)
				stop = engine_budget_check(e);
			/*
			 * A call made from answers not yet committed (a judge
			 * call for a target's answer) waits for their commit:
			 * a crash must not lose an answer already built on.
			 */
			if (r->derived && e->loop->in_txn &&
			    r->backend->ops->call == NULL &&
			    engine_loop_flush(e->loop) != 0) {
				e->failed = 1;
				return 1;
			}
			r = engine_dequeue(e, q);
			if (stop != ENGINE_OK) {
				e->stop = stop;
				r->stopped = 1;
				engine_complete(e, r, NULL, NULL, 0, 0, 0,
				    engine_stop_reason(stop));
				engine_req_free(r);
				continue;
			}
			if (b->health.down_since > 0) {
				r->probe = 1;
				b->health.probing = 1;
			} else if (e->waiting == b) {
				e->waiting = NULL;
				engine_event(e, "info", "backend '%s' answers "
				    "again: going on", b->name);
			}
			engine_start(e, r);
		}
	}
	return 1;
}

/*
 * Moves requests along: retries whose time has come go first in their
 * queues, new requests are coalesced, answered from the cache or queued,
 * and each backend sends what its limits allow, until the monotonic time
 * until (answers from the cache and in-process backends cost time here;
 * what is left waits for the next turn).  Returns how long until a
 * delayed request may go or a full backend may have room (or a large
 * number).
 */
static double
engine_dispatch(struct engine *e, double until)
{
	struct engine_req	**p, *r;
	double			  now = time_mono(), wait = 3600;
	int			  admitted;

	for (p = &e->delayed; (r = *p) != NULL; ) {
		if (r->not_before > now) {
			if (r->not_before - now < wait)
				wait = r->not_before - now;
			p = &r->next;
			continue;
		}
		*p = r->next;
		engine_enqueue(engine_queue(e, r->backend), r, 1);
	}
	/* What was admitted is sent even when admitting took the slice. */
	admitted = engine_admit(e, until);
	if (!engine_send(e, now, until, &wait) || !admitted)
		return 0;
	return wait;
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

/* Hands back the requests of other engines waiting on a list's calls. */
static void
engine_hand_back_list(struct engine_req *list)
{
	struct engine_req	*r, **wp, *w;

	for (r = list; r != NULL; r = r->next) {
		for (wp = &r->waiters; (w = *wp) != NULL; ) {
			if (w->engine == r->engine) {
				wp = &w->next;
				continue;
			}
			*wp = w->next;
			engine_hand_back(w);
		}
	}
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
 * Runs the loop until e has nothing left.  The answers of several turns
 * may share one commit, within ENGINE_COMMIT_WINDOW (what a crash can
 * lose is what was in flight and those few milliseconds, each call still
 * with the scores that use it; a call built on an answer waits for its
 * commit); it is committed before this returns.
 */
int
engine_run(struct engine *e, char **cause)
{
	const char	*why;

	e->loop->group++;
	while (engine_busy(e) && !engine_failed(e, NULL))
		if (engine_loop_turn(e->loop, 1000, NULL, NULL, 0) < 0)
			break;
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

size_t
engine_queued(const struct engine *e)
{
	return e->queued + e->nflying;
}

/* Evaluation: one state per item, shared by its target and judge calls. */
struct eval_state {
	struct engine		*engine;
	const struct job	*job;
	struct eval_item	*item;
	int64_t			 call;		/* the target call */
	char			*feedback;
	struct judge_ask	 judge;
};

static int
eval_store(struct eval_state *st, double score, char **cause)
{
	const struct example	*ex;

	ex = &st->job->task.dataset->ex[st->item->example];
	if (store_evaluation_add(st->engine->store, st->engine->run,
	    st->item->candidate, ex->id, st->item->output, score, st->feedback,
	    st->call, cause) < 0)
		return -1;
	st->item->score = score;
	st->item->done = 1;
	return 0;
}

/*
 * An item that could not be scored: the cause is kept with it and in the
 * store, unless a budget stopped it (nothing failed then).
 */
static int
eval_fail(struct eval_state *st, const char *error, int stopped,
    char **cause)
{
	const struct example	*ex;

	free(st->item->error);
	st->item->error = xstrdup(error != NULL ? error : "unknown error");
	if (stopped)
		return 0;
	st->item->failed = 1;
	ex = &st->job->task.dataset->ex[st->item->example];
	return store_evaluation_fail(st->engine->store, st->engine->run,
	    st->item->candidate, ex->id, st->item->output, st->item->error,
	    st->call, cause) < 0 ? -1 : 0;
}

static int
eval_judged(void *arg, struct judge_ask *ask, char **cause)
{
	struct eval_state	*st = arg;

	if (ask->nread == 0)
		return eval_fail(st, ask->error, engine_stopped(st->engine) !=
		    ENGINE_OK, cause);
	st->feedback = ask->rationale;
	ask->rationale = NULL;
	return eval_store(st, ask->score, cause);
}

static int
eval_target_done(void *arg, const struct engine_result *res, char **cause)
{
	struct eval_state	*st = arg;
	const struct job	*job = st->job;
	const struct example	*ex;
	const cJSON		*expected = NULL;
	struct judge_ask	*ask = &st->judge;
	cJSON			*msgs;
	char			*input, *ref = NULL;
	int			 rev;
	double			 score;

	if (!res->ok) {
		st->call = res->call;
		return eval_fail(st, res->error, res->stopped, cause);
	}
	st->call = res->call;
	st->item->output = xstrdup(res->resp->text != NULL ?
	    res->resp->text : "");
	ex = &job->task.dataset->ex[st->item->example];
	if (job->task.target != NULL)
		expected = example_field(ex, job->task.target);
	if (!metric_needs_judge(job->task.metric)) {
		score = metric_score(job->task.metric, st->item->output,
		    expected, &st->feedback);
		return eval_store(st, score, cause);
	}
	if (job->roles[ROLE_JUDGE] == NULL)
		return eval_fail(st, "the judge metric needs a judge backend",
		    0, cause);
	/*
	 * The judge sees the task input without the prompt.  Pairwise
	 * judging is asked in both orders to cancel position bias.
	 */
	input = template_render(job->task.tmpl, ex, NULL);
	if (expected != NULL)
		ref = json_text(expected);
	memset(ask, 0, sizeof *ask);
	ask->grade = !metric_judge_pairwise(job->task.metric);
	ask->norders = !ask->grade && ref != NULL ? 2 : 1;
	ask->temperature = 0;
	ask->system = metric_judge_system();
	for (rev = 0; rev < ask->norders; rev++) {
		msgs = metric_judge_messages(job->task.metric, input,
		    st->item->output, ref, rev);
		ask->user[rev] = xstrdup(cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs,
		    1), "content")));
		ask->order[rev] = rev;
		cJSON_Delete(msgs);
	}
	judge_submit(st->engine, job->roles[ROLE_JUDGE], ask, eval_judged,
	    st);
	free(input);
	free(ref);
	return 0;
}

struct eval_batch {
	struct eval_state	*states;
	size_t			 n;
};

struct eval_batch *
engine_eval_start(struct engine *e, const struct job *job,
    struct eval_item *items, size_t n)
{
	struct eval_batch	*b;
	struct model_req	 req;
	size_t			 i;

	b = xcalloc(1, sizeof *b);
	b->states = xcalloc(n, sizeof *b->states);
	b->n = n;
	for (i = 0; i < n; i++) {
		b->states[i].engine = e;
		b->states[i].job = job;
		b->states[i].item = &items[i];
		job_build_request(job, items[i].prompt, job->task.dataset,
		    items[i].example, &req);
		engine_submit(e, job->roles[ROLE_TARGET], &req,
		    eval_target_done, &b->states[i]);
	}
	return b;
}

void
engine_eval_end(struct eval_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->states[i].feedback);
		judge_ask_release(&b->states[i].judge);
	}
	free(b->states);
	free(b);
}

int
engine_eval(struct engine *e, const struct job *job, struct eval_item *items,
    size_t n, char **cause)
{
	struct eval_batch	*b;
	int			 rc;

	b = engine_eval_start(e, job, items, n);
	rc = engine_run(e, cause);
	engine_eval_end(b);
	return rc;
}

void
eval_items_release(struct eval_item *items, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(items[i].output);
		free(items[i].error);
		items[i].output = items[i].error = NULL;
	}
}
