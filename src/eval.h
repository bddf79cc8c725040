/*
 * Evaluation: prompts scored on a task's examples through the engine.
 * Above the engine (it submits target and judge requests), below the
 * strategies and the jobs that call it.
 */
#ifndef EVAL_H
#define EVAL_H

#include <stddef.h>
#include <stdint.h>

struct demos;
struct engine;
struct task;

/* One prompt on one example; score and output are filled by eval_run. */
struct eval_item {
	const char	*prompt;
	const struct demos *demos;	/* shown before the input, or NULL */
	int64_t		 candidate;
	size_t		 example;	/* index into the task's dataset */
	int		 done;		/* 1: scored */
	int		 failed;	/* 1: could not be (stored as such) */
	double		 score;
	char		*output;	/* allocated, free with eval_items_release */
	char		*error;		/* why it was not scored */
};

/*
 * Scores every item (target call, judge calls for judge metrics, metric),
 * storing one evaluations row per scored item.  Items that could not be
 * scored keep done == 0 with the reason; those that failed (a backend's
 * error, no verdict) have failed set and are stored with their cause,
 * those a budget stopped are not.
 */
int		 eval_run(struct engine *, const struct task *,
		    struct eval_item *, size_t n, char **cause);
/*
 * The same in two halves, for callers that wait in their own way: start
 * submits (items must stay put), end frees the batch once the engine has
 * answered everything (or has been freed).
 */
struct eval_batch;
struct eval_batch *eval_start(struct engine *, const struct task *,
		    struct eval_item *, size_t n);
void		 eval_end(struct eval_batch *);
/*
 * Whether every item of the batch is finished: scored, failed or stopped
 * by a budget.  The last one to finish wakes the engine (engine_wake()),
 * so that a caller waiting with engine_run_woken() looks at its batches.
 */
int		 eval_finished(const struct eval_batch *);
void		 eval_items_release(struct eval_item *, size_t n);

#endif
