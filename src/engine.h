/*
 * The engine: every model call goes through it.  It answers from the call
 * cache when it can, enforces the run's budget before each paid call,
 * records every call in the store and hands the response to a callback
 * inside the same transaction that records it, so a score is never stored
 * without the call it came from (and a call is never paid twice).
 *
 * Requests are submitted with a completion callback and carried out by
 * engine_run().  Callbacks may submit more requests (a judge call after a
 * target call); engine_run() returns when none is left.
 *
 * eval_run() builds on this to score prompts on examples: target
 * calls, &then judge calls for judge metrics->task, then one evaluations row per
 * (prompt, example).
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "task.h"

struct backend;
struct engine;
struct model_req;
struct model_resp;

enum engine_stop {
	ENGINE_OK,
	ENGINE_MAX_CALLS,
	ENGINE_MAX_TOKENS,
	ENGINE_MAX_DOLLARS,
	ENGINE_DEADLINE,
};

struct engine_result {
	int			 ok;	/* 0: failed, see error */
	int			 cached;
	const struct model_resp	*resp;	/* borrowed, valid in the callback */
	int64_t			 call;	/* the calls row */
	int			 stopped; /* a budget stopped it: never sent */
	const char		*key;	/* the request's cache key (hex) */
	const char		*error;
};

/* Returns 0, or -1 with *cause to abort engine_run() (rolled back). */
typedef int engine_done_fn(void *arg, const struct engine_result *,
    char **cause);
typedef void engine_progress_fn(void *arg, const struct engine *);

/*
 * The loop that drives every engine of the process: one transport and one
 * store connection.  engine_loop_turn() moves all engines along, waiting
 * at most max_wait_ms for replies or for the caller's descriptors (fds
 * with POLLIN/POLLOUT in events; it does not wait when a request was
 * answered at once, from the cache or in-process), and commits what
 * completed.  Returns 1
 * while some engine has work, 0 when none has, -1 if the store failed.
 */
struct engine_loop;
struct engine_loop *engine_loop_new(struct store *);
void		 engine_loop_free(struct engine_loop *);
struct store	*engine_loop_store(const struct engine_loop *);
int		 engine_loop_turn(struct engine_loop *, int max_wait_ms,
		    const int *fds, const short *events, int nfds);
/*
 * With on, the answers of several turns may share one commit (within a
 * few milliseconds), as they always do inside engine_run(): for a caller
 * whose other writes may join that transaction and who calls
 * engine_loop_flush() before it tells anyone outside what was written.
 */
void		 engine_loop_group(struct engine_loop *, int on);
/* Commits what the loop has not committed yet; -1 if the store failed. */
int		 engine_loop_flush(struct engine_loop *);

/*
 * An engine carries the requests of one run.  The budget and cache mode
 * are borrowed for its life.  Freeing an engine abandons its requests
 * (free engines before their loop).
 */
struct engine	*engine_new(struct engine_loop *, int64_t run,
		    const struct budget *, enum cache_mode);
void		 engine_free(struct engine *);
/*
 * What the run had spent before (a resumed run's checkpoint): counted in
 * the totals and against the run's budget.
 */
void		 engine_resume_totals(struct engine *, const struct run_totals *);
/*
 * A second budget over the whole job: spent is what the job's other runs
 * spent; the deadline counts from job_created (wall-clock seconds).
 */
void		 engine_set_job_budget(struct engine *, const struct budget *,
		    const struct run_totals *spent, double job_created);
int		 engine_busy(const struct engine *);
/* Whether a callback or the store failed; *cause says why (borrowed). */
int		 engine_failed(const struct engine *, const char **cause);
/*
 * Stops the engine as a failed callback would, with reason (copied) as
 * the cause: nothing more is dispatched, answers still under way are
 * dropped (abandoned when the engine is freed), and engine_failed() is
 * true, so a strategy waiting in search_wait() unwinds.  Used by the
 * daemon to cancel a run or to stop for a shutdown.
 */
void		 engine_cancel(struct engine *, const char *reason);
/*
 * fn is called after each answer, and after each turn of engine_run()
 * (at least once a second while it waits), with arg.
 */
void		 engine_set_progress(struct engine *, engine_progress_fn *,
		    void *);
/*
 * What a share of a run spent, counted as the run's totals count it: paid
 * calls, hits, tokens, dollars; and when its latest answer came.
 */
struct engine_account {
	struct run_totals	 spent;
	double			 last;		/* time_mono(), 0 for none */
};
/*
 * Charges the requests submitted from now on to acct (borrowed; NULL for
 * none), and with them the requests their callbacks submit (the judge
 * calls that a target's answer asks for), so that a caller that submits
 * the work of several prompts at once can tell what each cost.
 */
void		 engine_account(struct engine *, struct engine_account *acct);

/* Takes over req's contents (the caller's struct may be reused). */
void		 engine_submit(struct engine *, struct backend *,
		    struct model_req *, engine_done_fn *, void *arg);
/* Turns the loop until this engine has no work left; -1 with *cause on a
 * store error or a callback's error. */
int		 engine_run(struct engine *, char **cause);
/*
 * For a caller that waits for part of what it submitted (one block of
 * evaluations) while the rest goes on: a callback that has finished such
 * a part calls engine_wake(), engine_wakes() counts those calls, and
 * engine_run_woken() is engine_run() that also returns after one (with
 * the engine perhaps still busy).  Inside the daemon, a run's fiber is
 * resumed when the count has moved since it yielded.
 */
void		 engine_wake(struct engine *);
unsigned long	 engine_wakes(const struct engine *);
int		 engine_run_woken(struct engine *, char **cause);

/* What has been spent so far, and why the engine stopped paying. */
void		 engine_totals(const struct engine *, struct run_totals *);
enum engine_stop engine_stopped(const struct engine *);
/*
 * Checks the budgets (the deadline above all) without a call: a run
 * whose answers all come from the cache must still stop.  Returns why
 * the engine stopped, or ENGINE_OK.
 */
enum engine_stop engine_check(struct engine *);
/*
 * The job whose events the engine writes (a backend going down and
 * coming back); 0, the default, for none.
 */
void		 engine_set_job(struct engine *, int64_t job);
/*
 * What the judge service (judge.h) puts before each question that
 * compares two responses: people's preferences of the job, as evidence
 * of their taste (a copy is kept); NULL, the default, for none, and the
 * questions are then as they were without it.
 */
void		 engine_set_judge_evidence(struct engine *, const char *);
const char	*engine_judge_evidence(const struct engine *);
/*
 * Whether requests for a backend that is down (its circuit breaker is
 * open) wait for it to answer again, spending nothing, as the daemon's
 * jobs do; off, the default, they fail at once with the cause, as a
 * command in the foreground should.
 */
void		 engine_wait_down(struct engine *, int on);
/*
 * For tests of crash recovery: the process ends at once, as kill -9
 * would end it, when n more answers have come (those not committed yet
 * are lost).
 */
void		 engine_kill_after(struct engine *, size_t n);
/*
 * The backend this engine's requests wait for because it is down (its
 * circuit breaker is open), or NULL.
 */
const struct backend *engine_waiting(const struct engine *);
/*
 * When all this engine waits for is provider batches (batch.h): what
 * they hold and how far they are, as a sentence (the caller's); NULL
 * otherwise.
 */
char		*engine_batch_waiting(const struct engine *);
/* The store and run the engine records its calls in (borrowed). */
struct store	*engine_store(const struct engine *);
int64_t		 engine_run_id(const struct engine *);
const char	*engine_stop_reason(enum engine_stop);
/* Requests finished. */
size_t		 engine_done_count(const struct engine *);

#endif
