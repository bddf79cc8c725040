/*
 * Batch mode.  A backend with "batch" set sends its chat requests through
 * the provider's batch API instead of one call each (OpenAI's Files and
 * Batches APIs, Anthropic's Message Batches), at the batch price (half
 * the interactive one) and within the provider's completion window.
 *
 * The engine hands each such request to batch_add() instead of sending
 * it.  The requests of a backend gather in one batch until a turn of the
 * loop adds none (a strategy submits a step's requests together, then
 * waits), or until batch_max of them; then the batch is sealed, stored,
 * and carried through its steps: upload, create, poll with a backoff,
 * read the results.  Each request is then answered through its callback
 * with the provider's status and body for it, which the engine reads,
 * records and caches as it would an interactive answer (same keys, same
 * call rows).  A request the batch could not answer (the batch failed or
 * expired, or this request errored) is answered with status 0 and the
 * cause: the engine sends it the ordinary way.
 *
 * Every step of a batch is stored (the batches and batch_keys tables),
 * so a daemon restarted after kill -9 finds the batch of a replayed
 * request (batch_add looks it up by the request's key) and polls it
 * again instead of submitting the request twice.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>
#include <stdint.h>

struct backend;
struct http;
struct model_req;
struct store;

/* The steps of a provider batch. */
enum batch_step {
	BATCH_UPLOAD,		/* OpenAI: upload the input file */
	BATCH_CREATE,		/* create the batch */
	BATCH_FIND,		/* OpenAI: after a crash in CREATE, look for
				   the batch by its token first */
	BATCH_POLL,		/* wait for it to end */
	BATCH_RESULTS,		/* read the answers */
	BATCH_ERRORS,		/* OpenAI: read the failed requests */
	BATCH_DONE,
	BATCH_FAILED
};

/* "upload", "create", ...; and back (-1 for none). */
const char	*batch_step_name(enum batch_step);
int		 batch_step_from(const char *);

/*
 * A provider batch as a backend's batch operations see it (backend.h):
 * they build the HTTP request of its step and read the answer into the
 * fields below, moving step on.
 */
struct batch_job {
	enum batch_step	 step;
	char		*token;		/* ours, to find it again (metadata) */
	char		*input;		/* the requests, as batch_item wrote
					   them */
	size_t		 ninput;	/* requests in it */
	char		*file;		/* OpenAI: the uploaded input's id */
	char		*provider_id;	/* the batch's id */
	char		*output;	/* where its results are */
	char		*errors;	/* where its failed requests are */
	long long	 answered;	/* so far, as the provider counts */
	char		*cause;		/* why it failed */
	/* Results: for each request's id (its key), status and body. */
	char		**ids;
	long		*status;	/* HTTP status; 0: no answer */
	char		**bodies;	/* the answer's body, or the error */
	size_t		 nresults;
};

/* Adds a result read from the provider (ops use it). */
void	 batch_job_result(struct batch_job *, const char *id, long status,
	    const char *body);

/*
 * Answers one request: status and body of the provider's answer, or
 * status 0 and error (the request goes the ordinary way).  Called from
 * batch_pump(), in the loop's transaction.
 */
typedef void batch_done_fn(void *arg, long status, const char *body,
    size_t len, const char *error);

struct batchset;
struct batchset	*batchset_new(struct store *);
void		 batchset_free(struct batchset *);

/* Whether req to b goes through b's batch API. */
int		 batch_want(const struct backend *, const struct model_req *);

/*
 * Hands a request (key, its cache key) to the batches: to a stored batch
 * that already holds it, or else to b's gathering one.  Returns 0, or -1
 * with *cause (the request could not be put in a batch: send it).
 */
int		 batch_add(struct batchset *, struct backend *,
		    const char *key, const struct model_req *,
		    batch_done_fn *, void *arg, char **cause);
/* Forgets the requests whose callback argument is arg. */
void		 batch_drop(struct batchset *, void *arg);

/*
 * Moves the batches along: seals those that gathered nothing new since
 * the last call, sends the steps that are due through http, answers the
 * requests of finished batches.  Returns the seconds until a step is due
 * (a large number when none is), or -1 if the store failed (*cause).
 */
double		 batch_pump(struct batchset *, struct http *, double now,
		    char **cause);

/*
 * The progress of the batches holding a request whose callback argument
 * mine() accepts (every batch when mine is NULL): how many requests they
 * hold, how many the providers have answered, and the first one's
 * provider id (NULL while not yet created); 0 when there are none.
 */
size_t		 batch_progress(const struct batchset *,
		    int (*mine)(void *arg, const void *ctx), const void *ctx,
		    long long *answered, const char **provider_id);

#endif
