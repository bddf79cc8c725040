/*
 * The engine: cache, budget, limits, retries, accounting and callbacks for
 * model calls, and prompt evaluation on top of them.  engine_send.c holds
 * the sending (engine_int.h).
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
#include <unistd.h>

#include "backend.h"
#include "batch.h"
#include "dataset.h"
#include "engine.h"
#include "engine_int.h"
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

void
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
void
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

/* Writes a call row; returns its id or -1. */
int64_t
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
void
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

/*
 * New requests: a duplicate of one queued or flying waits for its answer,
 * a cache hit is answered at once, the rest join their backend's queue.
 * Stops at the monotonic time until; returns whether it went through.
 */
int
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
