/*
 * Search strategies.  A strategy is one file in strategies/ implementing
 * a const struct strategy_ops, listed once in strategy_table[]
 * (strategy.c).  It is written as sequential code against a struct
 * search (search.h), which gives it the task, a random stream, the
 * candidates found so far and the operations every strategy needs:
 *
 *	search_ask()		ask the optimizer role, with a meta-prompt
 *				from strategies/prompts/, for new prompts
 *	search_add()		add a candidate with its parents and the
 *				operator and note that made it (lineage)
 *	search_evaluate()	score candidates on the dev split, racing
 *				them on blocks of examples
 *
 * Those that need model answers submit requests and wait: inside the
 * daemon the wait yields the strategy's fiber to the event loop; in a
 * command-line run it turns the loop itself.
 *
 * After each step the run is checkpointed (the strategy's save() plus the
 * step number).  Each step's random stream is seeded from (job seed,
 * step), so a step interrupted by a crash is replayed with the same
 * requests and the call cache answers those already paid for.
 */
#ifndef STRATEGY_H
#define STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util.h"

struct backend;
struct engine;
struct task;
struct jdoc;
struct search;
struct search_memo;
struct store;

/* A parameter in a strategy's schema. */
enum param_type {
	PARAM_INT,
	PARAM_NUMBER,
	PARAM_BOOL,
	PARAM_STRING,		/* one of choices when choices != NULL */
};

struct strategy_param {
	const char		 *name;
	enum param_type		  type;
	const char		 *dflt;		/* as JSON text */
	double			  min;
	double			  max;
	const char *const	 *choices;
	const char		 *help;
};

struct strategy_ops {
	const char			*name;
	const struct strategy_param	*params;	/* ends with name NULL */
	/* Sets up the state from the parameters and the seed prompts. */
	int	(*init)(struct search *, char **cause);
	/*
	 * One step: propose, evaluate, select.  Returns 1 to go on, 0 when
	 * the search is finished, -1 with *cause on failure.
	 */
	int	(*step)(struct search *, char **cause);
	/* The state as JSON for the checkpoint, and back. */
	cJSON	*(*save)(struct search *);
	int	(*load)(struct search *, const cJSON *, char **cause);
	void	(*free)(struct search *);
	/*
	 * Optional: whether the search (set up by init) asks people for
	 * feedback on duels (promptctl feedback): 1 when it does, 0 when it
	 * takes such feedback from another source (a judge, say).  NULL for
	 * a strategy that never asks.
	 */
	int	(*wants_feedback)(const struct search *);
};

extern const struct strategy_ops *const strategy_table[];
const struct strategy_ops	*strategy_lookup(const char *);

/*
 * Checks a job's "strategy" object (name and parameters) against the
 * schemas, recording problems in doc with their positions.  On success
 * *out is the complete parameter object with defaults filled in.
 */
int		 strategy_check(struct jdoc *, const cJSON *obj, cJSON **out);

/* Calls fn for every parameter: strategy NULL for the common ones. */
void		 strategy_foreach_param(void (*fn)(const char *strategy,
		    const char *name, void *arg), void *arg);

#endif
