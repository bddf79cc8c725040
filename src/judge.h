/*
 * The judge: every question promptd puts to a judge model goes through
 * here (the judge metric's grades and comparisons, duel's and SPO's
 * comparisons).  A comparison is asked in one order or in both (to
 * cancel position bias); each reply is read by reply_verdict(), or by
 * reply_grade() for a grade.  A reply that cannot be read gets one
 * repair turn: the conversation goes on with the reply and a short
 * message that says what was missing.  Each reply's outcome is stored
 * with its call (store_outcome_add), and a comparison of two candidates
 * is recorded when the caller gives one.
 */
#ifndef JUDGE_H
#define JUDGE_H

#include <stdint.h>

#include "reply.h"
#include "store.h"

struct backend;
struct engine;
struct judge_ask;

/*
 * Called once every order has its answer, inside the engine's callback
 * (so the comparison and the calls share a transaction).  Returns 0, or
 * -1 with *cause to stop the engine.
 */
typedef int judge_done_fn(void *arg, struct judge_ask *, char **cause);

struct judge_slot {
	struct judge_ask	*ask;
	int			 i;		/* which order */
	int			 repaired;	/* a repair turn was asked */
};

struct judge_ask {
	/* Set by the caller before judge_submit(). */
	const char		*system;	/* NULL for none */
	char			*user[2];	/* the question in each order
						   (taken over) */
	int			 order[2];	/* 0: a shown first, 1: b */
	int			 norders;	/* 1 or 2 */
	int			 grade;		/* a grade, not a winner */
	double			 temperature;
	unsigned		 sample;
	int			 record;	/* store rec as a comparison */
	struct comparison_record rec;		/* job, a, b, example, outputs,
						   source (the rest is filled
						   in) */

	/* Filled in. */
	enum verdict		 verdict;	/* from a's side; NONE: none */
	double			 score;		/* a's: win 1, tie 0.5, loss 0
						   averaged over the orders;
						   a grade as (g - 1) / 9 */
	int			 nread;		/* orders with a verdict */
	enum verdict		 seen[2];	/* as the judge saw each order */
	double			 grades[2];
	enum reply_outcome	 outcome[2];
	char			*reply[2];	/* the last reply of each order */
	int64_t			 call[2];
	char			*rationale;	/* the reasons the judge gave */
	char			*error;		/* why there is no verdict */

	/* The service's own. */
	struct engine		*engine;
	struct backend		*backend;
	struct judge_slot	 slots[2];
	int			 pending;
	judge_done_fn		*done;
	void			*arg;
};

/*
 * Asks the judge backend.  ask must stay put until done has been called
 * (or the engine freed); release it with judge_ask_release().
 */
void	judge_submit(struct engine *, struct backend *, struct judge_ask *,
	    judge_done_fn *, void *arg);
void	judge_ask_release(struct judge_ask *);

#endif
