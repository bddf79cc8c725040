/*
 * Model backends.  A backend is one file (backend_*.c) implementing a
 * const struct backend_ops, listed once in backend_table[] in backend.c;
 * nothing else switches on its name.
 *
 * A request is a chat (messages in, text out) or an embedding (text in,
 * vector out).  Its cache key is a hash of its canonical form: backend
 * identity, model, every parameter, the messages and the sample index,
 * so that the same request is never paid for twice.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"

struct batch_job;
struct dataset;
struct strbuf;
struct http_req;
struct jdoc;

struct backend;

struct backend_ops {
	const char		 *name;
	/* Keys this type accepts besides the common ones (NULL-ended). */
	const char *const	 *keys;
	/* Reads the type's own options; problems go to doc. */
	int	(*init)(struct backend *, struct jdoc *, const cJSON *conf,
		    const char *path);
	void	(*free)(struct backend *);
	/* In-process backends answer at once. Returns 0 or -1 with *cause. */
	int	(*call)(struct backend *, const struct model_req *,
		    struct model_resp *, char **cause);
	/*
	 * HTTP backends: build the request (URL relative to the base URL,
	 * headers, JSON body) and parse the reply.  parse() is given every
	 * reply, including error statuses: for those it returns -1 with the
	 * provider's error message turned into one clear *cause.
	 */
	int	(*build)(struct backend *, const struct model_req *,
		    struct http_req *, char **cause);
	int	(*parse)(struct backend *, const struct model_req *, long status,
		    const char *body, size_t len, struct model_resp *,
		    char **cause);
	/*
	 * Process backends: the command run for each request (argv, NULL-
	 * terminated).  build() gives its standard input and parse() reads
	 * its standard output: status 200 when it exited 0, 503 when it
	 * exited 75 (EX_TEMPFAIL: try again), 422 for any other exit status
	 * and 500 when a signal killed it; for those the body is the end of
	 * its standard error.
	 */
	char *const *(*command)(struct backend *);
	/*
	 * Simulators only (NULL elsewhere): learn the task's examples so the
	 * simulated world can answer them.  inputs are the fields the
	 * template shows; target is the expected-answer field or NULL.
	 */
	void	(*observe)(struct backend *, const struct dataset *,
		    const char *const *inputs, size_t ninputs,
		    const char *target);
	/*
	 * Batch APIs (batch.h; NULL where the type has none).  batch_item
	 * appends req under id to a batch's input, in the form the API
	 * takes.  batch_next builds the HTTP request of the batch's step (a
	 * path starting with "http" is a whole URL).  batch_take reads the
	 * answer to it (a 2xx or 4xx: the batch module retries the others),
	 * filling the job and moving its step on; -1 with *cause fails the
	 * batch.
	 */
	int	(*batch_item)(struct backend *, const struct model_req *,
		    const char *id, struct strbuf *, char **cause);
	int	(*batch_next)(struct backend *, const struct batch_job *,
		    struct http_req *, char **cause);
	int	(*batch_take)(struct backend *, struct batch_job *,
		    long status, const char *body, size_t len, char **cause);
};

/*
 * Prices in dollars per million tokens: uncached input and output, input
 * read from and written to the provider's prompt cache (< 0: as input),
 * and the share of these paid in batch mode.
 */
struct backend_price {
	double		 input;
	double		 output;
	double		 cached_input;
	double		 cache_write;
	double		 batch;
};

/*
 * A backend's failures and its circuit breaker.  After breaker
 * connection failures in a row it is down: nothing is sent to it but one
 * probe now and then (the wait doubles, up to a minute), and requests
 * wait without spending their retries; the first answer of any kind
 * brings it back up.
 */
struct backend_health {
	long long	 failures;	/* failed attempts in all */
	int		 row;		/* connection failures in a row */
	char		*cause;		/* the latest failure's */
	double		 down_since;	/* wall clock; 0 while up */
	double		 probe_at;	/* monotonic: the next probe */
	double		 probe_wait;	/* seconds before it */
	int		 probing;	/* a probe is under way */
};

/*
 * What a provider's answers say is left of its rate limits (OpenAI's
 * x-ratelimit-*, Anthropic's anthropic-ratelimit-* headers), counted
 * down as requests go; and, for a server that answers 429 without them,
 * a window on requests in flight that halves after each 429 and grows
 * by one a window's worth of answers after.
 */
struct backend_limits {
	int		 known;		/* a header said so */
	double		 req_left;	/* requests that may go ... */
	double		 req_reset;	/* ... until then (monotonic) */
	double		 tok_left;	/* tokens, likewise; < 0: unknown */
	double		 tok_reset;
	double		 req_most;	/* the most a header said was left: */
	double		 tok_most;	/* about what a new window holds */
	unsigned	 turns;		/* windows turned: an answer to a
					   request sent before is stale */
	int		 fresh;		/* the next answer starts a window */
	double		 window;	/* requests in flight at once */
};

struct backend {
	const struct backend_ops *ops;
	char		*name;		/* as named in the configuration */
	char		*identity;	/* what else makes answers differ: the
					 * type and base URL or seed; part of
					 * every cache key, never a secret */
	char		*model;
	char		**urls;		/* HTTP: base URLs, used in turn */
	size_t		 nurls;
	struct backend_price price;
	char		*batch_window;	/* batch mode's completion window, or
					 * NULL: one call a request */
	double		 batch_poll;	/* seconds before the first poll */
	int		 batch_max;	/* requests in one batch at most */
	double		 temperature;	/* default, or -1 for the server's */
	int		 max_tokens;	/* default, or 0 for the server's */
	int		 batch;		/* samples one call may return (OpenAI's
					 * "n"); 1 where the API has no such
					 * thing or the server ignores it */
	int		 max_in_flight;
	int		 requests_per_minute;
	int		 tokens_per_minute;
	int		 max_retries;	/* after the first attempt */
	double		 retry_base;	/* seconds, first backoff ceiling */
	double		 retry_cap;	/* seconds, largest backoff */
	double		 timeout;	/* seconds for a whole request */
	double		 connect_timeout;
	long long	 max_response;	/* bytes */
	int		 breaker;	/* connection failures in a row that
					 * mark it down; 0: never */
	void		*data;		/* the type's own state */

	/*
	 * Run-time state, shared by every engine that uses this backend so
	 * that its limits hold across jobs.
	 */
	int		 in_flight;
	double		 rpm_level;	/* token buckets, refilled by time */
	double		 tpm_level;
	double		 bucket_at;
	size_t		 next_url;	/* replicas are used in turn */
	struct backend_health health;
	struct backend_limits limits;
};

extern const struct backend_ops *const backend_table[];
const struct backend_ops	*backend_lookup(const char *);

/*
 * Builds a backend called name from its configuration object at path.
 * Common keys: type, model, price {input, output}, temperature,
 * max_tokens, max_in_flight, requests_per_minute, tokens_per_minute.
 */
struct backend	*backend_new(struct jdoc *, const char *name, const cJSON *conf,
		    const char *path);
void		 backend_free(struct backend *);
/*
 * Reads a price object at path: input and output required, cached_input,
 * cache_write and batch optional (left as they are when absent).
 */
void		 backend_price(struct jdoc *, const cJSON *obj,
		    const char *path, struct backend_price *);
/* The prices nothing was said of: cached input at the input price, half
 * in batch mode. */
void		 backend_price_init(struct backend_price *);

/*
 * Calls fn with every configuration key a backend may have: type is NULL
 * for the keys common to all types.  For tests that check the manuals.
 */
void		 backend_foreach_key(void (*fn)(const char *type,
		    const char *key, void *arg), void *arg);

/*
 * What a reply cost at b's prices: uncached input, cached input (read and
 * written, each at its price, or else the input price) and output; the
 * batch share of it for an answer that came in a batch.
 */
double		 backend_cost(const struct backend *,
		    const struct model_resp *);

/* The canonical cache key of a request to a backend (hex SHA-256). */
void		 backend_req_key(const struct backend *,
		    const struct model_req *, char out[65]);
/* The temperature a request runs at: its own, else the backend's (-1:
 * the server's default). */
double		 backend_temperature(const struct backend *,
		    const struct model_req *);

/* A token estimate for text (about four bytes a token). */
long long	 tokens_estimate(const char *);
/*
 * A token count as a reply or a cache row gives it: a number from 0 to
 * 2^53 (what a JSON number holds exactly), or -1 for anything else, so
 * that no count out of range is ever converted.
 */
long long	 tokens_from_json(const cJSON *);

#endif
