/*
 * What the engine asks or knows already, and its answers.  Every request
 * queued, delayed or in flight is in its engine's table by key, so that
 * an identical one (of this engine or another of the loop) waits for its
 * answer instead of paying again; on a backend that answers samples in
 * blocks (OpenAI's n), the samples of one block wait together and go as
 * one call.  A new request is answered from the cache when it can be.
 * The outcome of a call is recorded (its row and cache entries in the
 * turn's transaction) and handed to the request and to every request
 * waiting on it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "engine.h"
#include "engine_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

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

void
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

void
engine_list_free(struct engine_req *r)
{
	struct engine_req	*next;

	for (; r != NULL; r = next) {
		next = r->next;
		engine_req_free(r);
	}
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
void
engine_batch(struct engine_req *r)
{
	struct backend		*b = r->backend;
	struct model_req	 block;

	r->own = r->req.sample;
	r->batchable = b->batch > 1 && r->req.kind == REQ_CHAT &&
	    r->req.n <= 1 && backend_temperature(b, &r->req) > 0;
	if (!r->batchable) {
		memcpy(r->wkey, r->key, sizeof r->wkey);
		return;
	}
	block = r->req;
	block.sample -= block.sample % (unsigned)b->batch;
	block.n = (unsigned)b->batch;
	backend_req_key(b, &block, r->wkey);
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
	backend_req_key(r->backend, &r->req, r->ckey);
}

/*
 * Counts a call row in an account as the run's totals count it: a hit is
 * a hit; an answer (2xx, or from a backend in the process) is a paid
 * call; every reply's tokens and cost count, a failed attempt's too.
 */
static void
engine_charge(struct run_totals *t, const struct call_record *rec)
{
	if (rec->cached) {
		t->hits++;
		return;
	}
	if (strcmp(rec->status, "ok") == 0 ||
	    (rec->http_status >= 200 && rec->http_status <= 299))
		t->calls++;
	t->tokens += rec->prompt_tokens + rec->completion_tokens;
	t->cached += rec->cached_tokens;
	t->dollars += rec->cost;
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
	if (r->account != NULL)
		engine_charge(&r->account->spent, &rec);
	return store_call_add(e->store, &rec, &e->cause);
}

/*
 * Hands a result to one request's callback; a failure stops the engine.
 * What the callback submits is charged to r's account.
 */
static void
engine_callback(struct engine *e, struct engine_req *r,
    struct engine_result *res)
{
	struct engine_account	*outer = e->account;

	res->key = r->key;
	e->account = r->account;
	if (!e->failed && r->done(r->arg, res, &e->cause) != 0)
		e->failed = 1;
	e->account = outer;
	if (r->account != NULL)
		r->account->last = time_mono();
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
			backend_req_key(r->backend, &sample, key);
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

/* Hands back the requests of other engines waiting on a list's calls. */
void
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
