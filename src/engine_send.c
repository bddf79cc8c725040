/*
 * Sending: a queue per engine and backend, dispatched in order while the
 * backend has room (in flight, requests and tokens per minute, what the
 * provider says is left) and the budgets allow.  Each backend keeps its
 * health: after its breaker's connection failures in a row it is down,
 * and only a probe now and then goes to it.  Replies are parsed and
 * answered, or recorded and retried after a backoff; in batch mode a
 * request goes to its backend's provider batch (batch.h) instead.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backend_http.h"
#include "batch.h"
#include "engine.h"
#include "engine_int.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "rng.h"
#include "util.h"
#include "xmalloc.h"

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
long long
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
 * What is left once the provider's window has turned: about as much as
 * the most it ever said was left, less what is in flight, until an
 * answer says how much (an answer of the old window that comes late
 * cannot open the new one wider).  Unknown (no limit) when no header
 * ever said.  Answers to requests sent before the turn are stale.
 */
static void
engine_provider_refill(struct backend *b, double *left, double *reset,
    double most)
{
	b->limits.turns++;
	b->limits.fresh = 1;
	if (most >= 1) {
		*left = fmax(most - b->in_flight, 0);
		*reset = INFINITY;
	} else
		*left = -1;
}

/*
 * Whether what the provider says is left of its limits lets r go; if
 * not, *wait is lowered to when it is whole again.
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
		engine_provider_refill(b, &l->req_left, &l->req_reset,
		    l->req_most);
	if (l->tok_left >= 0 && now >= l->tok_reset)
		engine_provider_refill(b, &l->tok_left, &l->tok_reset,
		    l->tok_most);
	/*
	 * Nothing in flight will say more (the answers that came were of
	 * the old window, or said nothing): the window is whole.
	 */
	if (l->req_left >= 0 && l->req_left < 1 && isinf(l->req_reset) &&
	    b->in_flight == 0)
		engine_provider_refill(b, &l->req_left, &l->req_reset,
		    l->req_most);
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
engine_provider_take(struct backend *b, struct engine_req *r)
{
	struct backend_limits	*l = &b->limits;

	/* Never below 0: a negative count means "unknown", no limit. */
	r->window = l->turns;
	if (l->req_left >= 0)
		l->req_left = fmax(l->req_left - 1, 0);
	if (l->tok_left >= 0)
		l->tok_left = fmax(l->tok_left - (double)r->reserved, 0);
}

/*
 * What is left, and until when, from one answer's headers.  The first
 * answer of a window says it; then answers can only lower what is left
 * and put the reset later: answers come out of order, and one whose
 * headers were written before others were counted would say too much.
 */
static void
engine_provider_set(double *left, double *reset, int fresh, double said,
    double until)
{
	if (fresh || *left < 0 || said < *left)
		*left = said;
	if (fresh || until > *reset || isinf(*reset))
		*reset = until;
}

/*
 * What an answer says of the provider's limits: its headers (what is
 * left, less what is in flight beside it), or, for a 429 without them,
 * a halved window on requests in flight; answers grow it back, by one
 * a window's worth, until it is max_in_flight again.
 */
static void
engine_provider_answer(struct backend *b, const struct engine_req *r,
    long status, const char *lines, double now)
{
	struct backend_limits	*l = &b->limits;
	double			 rl, rr, tl, tr;

	if (lines != NULL && backend_http_limits(lines, time_now(), &rl, &rr,
	    &tl, &tr)) {
		/* Sent in a window that has turned since: stale news. */
		if (r->window != l->turns)
			return;
		if (rl >= 0) {
			engine_provider_set(&l->req_left, &l->req_reset,
			    !l->known || l->fresh, fmax(rl - b->in_flight, 0),
			    now + (rr >= 0 ? rr : 60));
			l->req_most = fmax(l->req_most, rl);
		}
		if (tl >= 0) {
			engine_provider_set(&l->tok_left, &l->tok_reset,
			    !l->known || l->fresh, tl,
			    now + (tr >= 0 ? tr : 60));
			l->tok_most = fmax(l->tok_most, tl);
		}
		l->known = 1;
		l->fresh = 0;
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

/*
 * Whether the backend has room for r now; if not, *wait is lowered to
 * when it might.
 */
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
		engine_provider_answer(b, r, status, limits, time_mono());
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

/* The queue of an engine for a backend, made when first needed. */
struct engine_queue *
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

void
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
double
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
