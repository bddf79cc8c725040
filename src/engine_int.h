/*
 * What the three files of the engine share (private to them):
 *
 *	engine.c	the loop (one transport and one store connection
 *			for every engine, its turns, the commits they
 *			share), an engine's life (new, submit, run, cancel,
 *			free), budgets and totals, what the engine tells
 *			its callers, and evaluation
 *	engine_cache.c	what is asked or known already: the table of
 *			requests by key (coalescing, within an engine and
 *			across engines), blocks of samples (OpenAI's n),
 *			cache lookups and the admission of new requests,
 *			and the answers: a call's row, its cache entries
 *			and the callbacks of the request and of those that
 *			wait on it
 *	engine_send.c	a queue per backend and its dispatch, the backend's
 *			limits (in flight, buckets, what the provider says
 *			is left), its health (breaker, probes), sending,
 *			replies and retries, and the handoff to provider
 *			batches
 *
 * See engine.h for the picture.
 */
#ifndef ENGINE_INT_H
#define ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "engine.h"
#include "rng.h"
#include "util.h"

struct batchset;
struct http;
struct procset;

/*
 * A request of an engine, from engine_submit() until its callback has
 * run (or it is abandoned): owned by the list, queue or call it waits in
 * (incoming, a queue, delayed, flying, batched, or another request's
 * waiters).
 */
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
	unsigned		 window;	/* the provider's window it went in
					   (backend_limits.turns) */
	struct engine_req	*waiters;	/* coalesced duplicates */
	struct engine_req	*next;		/* in a list or queue */
	struct engine_req	*prev;		/* in the flying list */
	struct engine_req	*hnext;		/* in the key table */
	int			 hashed;	/* in the key table */
	struct engine_account	*account;	/* charged with it, or NULL */
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
	unsigned long		 wakes;		/* engine_wake() calls */
	struct run_totals	 totals;
	enum engine_stop	 stop;
	struct rng		 rng;		/* backoff jitter */
	int			 failed;	/* a callback failed */
	char			*cause;
	engine_progress_fn	*progress;
	void			*progress_arg;
	struct engine_account	*account;	/* for what is submitted */
	char			*judge_evidence;	/* before each comparison, or
						   NULL */
};

/* engine.c: the loop and the engine's life. */

/*
 * New requests wait in e's incoming list (which takes r over) until the
 * next dispatch; r counts as queued.
 */
void		 engine_incoming(struct engine *e, struct engine_req *r);
/* Whether the run's and the job's budgets allow one more paid call. */
enum engine_stop engine_budget_check(struct engine *);
/*
 * Opens the loop's transaction before e's first write of the turn;
 * -1 (e and the loop failed, the loop has the cause) if the store
 * could not.
 */
int		 engine_txn(struct engine *);

/* engine_cache.c: the table by key, sample blocks, cache and answers. */

/*
 * Frees r and takes it out of the key table.  The requests waiting on
 * it are freed with it, except other engines' not yet answered: those
 * go back to be admitted by their own engine.
 */
void		 engine_req_free(struct engine_req *r);
/* Frees a list of requests (linked by next). */
void		 engine_list_free(struct engine_req *);
/* Removes and frees e's requests that wait on other engines' calls. */
void		 engine_unborrow(struct engine *e);
/*
 * Hands the requests of other engines that wait on the calls of a list
 * (linked by next) back to their own engines.
 */
void		 engine_hand_back_list(struct engine_req *);
/*
 * Sets r's own sample and the key it may wait on: its own, or its
 * block's when its backend answers samples in blocks.
 */
void		 engine_batch(struct engine_req *r);
/*
 * Marks r sent and sets the call it makes (ckey, lo and the samples its
 * request asks for); requests waiting on r that the call does not answer
 * go back to e's incoming list.
 */
void		 engine_call(struct engine *e, struct engine_req *r);
/*
 * Writes a call row for r's attempt in the turn's transaction (resp and
 * error borrowed); returns its id, or -1 with e's cause.
 */
int64_t		 engine_record(struct engine *e, struct engine_req *r,
		    const char *status, const struct model_resp *resp,
		    double cost, double latency, long http_status,
		    const char *error);
/*
 * The final outcome of r and of the requests waiting on it: call rows,
 * cache entries and callbacks (resp and error borrowed).  The caller
 * frees r afterwards.
 */
void		 engine_complete(struct engine *e, struct engine_req *r,
		    const char *status, const struct model_resp *resp,
		    double cost, double latency, long http_status,
		    const char *error);
/*
 * Admits e's incoming requests (coalesced, answered from the cache or
 * queued) until the monotonic time until; returns whether it went
 * through.
 */
int		 engine_admit(struct engine *e, double until);

/* engine_send.c: queues, limits, health, sending and replies. */

/*
 * Moves e's requests along until the monotonic time until; returns the
 * seconds until a delayed request or a full backend may go on.
 */
double		 engine_dispatch(struct engine *e, double until);
/* e's queue for b, made when first needed (e owns it). */
struct engine_queue *engine_queue(struct engine *e, struct backend *b);
/* Adds r to q, at its head when first is set (q takes r over). */
void		 engine_enqueue(struct engine_queue *q, struct engine_req *r,
		    int first);
/* Tokens r is expected to use, for the tokens-per-minute bucket. */
long long	 engine_estimate(const struct engine_req *r);

#endif
