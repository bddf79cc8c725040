/*
 * The search framework (search.c, search_ask.c): what a strategy works
 * on and with.  See strategy.h for how a strategy is written.
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "demo.h"
#include "rng.h"
#include "strategy.h"

struct backend;
struct engine;
struct search_memo;
struct search_screen;
struct store;
struct task;

/* A candidate prompt known to a search. */
struct cand {
	int64_t		 id;		/* candidates row */
	char		*text;		/* the instruction */
	struct demos	 demos;		/* shown before the input */
	long long	 tokens;	/* task_prompt_tokens() */
	char		 hash[65];	/* of the normalized text and
					   demos_key() */
	double		*scores;	/* per dev example, NAN until scored */
	char		**outputs;	/* per dev example, NULL until scored */
	unsigned char	*tries;		/* per dev example, failed evaluations */
	size_t		 nscored;
	size_t		 ngiven_up;	/* examples failed SEARCH_TRIES times */
	double		 mean;		/* over the scored examples */
	double		 lo;		/* 95% interval */
	double		 hi;
	int		 raced_out;	/* stopped by racing */
	int		 generation;
};

struct search {
	const struct strategy_ops *ops;
	const struct task	*task;
	const cJSON		*given;		/* the strategy as the job
						   file gives it */
	struct store		*store;
	struct engine		*engine;
	int64_t			 job_id;
	int64_t			 run_id;
	cJSON			*params;	/* with defaults */
	int			 step;		/* steps completed */
	struct rng		 rng;		/* this step's stream */
	void			*state;		/* the strategy's */
	struct cand		**cands;
	size_t			 ncands;
	size_t			*dev;		/* dataset indices of dev */
	size_t			 ndev;
	size_t			*train;
	size_t			 ntrain;
	int			 racing;	/* race evaluations */
	size_t			 block;		/* examples per racing block */
	unsigned		 asks;		/* optimizer requests so far */
	unsigned		 usable_asks;	/* replies read (repaired too) */
	unsigned		 failed_asks;	/* replies that could not be */
	unsigned long		 progress;	/* candidates, scores and
						   comparisons added */
	size_t			 given_up;	/* evaluations failed for good */
	char			*fail_cause;	/* the latest failure's */
	char			*prompts_dir;	/* meta-prompt templates */
	struct search_memo	*memo;		/* scores off dev, for
						   search_score_on() */
	int			 waiting;	/* yields for something
						   outside the engine (a
						   person): the daemon's
						   loop need not hurry */
	struct search_screen	*screen;	/* the surrogate filter's,
						   or NULL */
};

/* Frees everything a search holds (the strategy's state included). */
void		 search_release(struct search *);

/* Parameters (validated already, so these cannot fail). */
long long	 search_int(const struct search *, const char *name);
double		 search_number(const struct search *, const char *name);
int		 search_bool(const struct search *, const char *name);
const char	*search_string(const struct search *, const char *name);

/*
 * Adds a candidate (or finds it: the same normalized text is the same
 * candidate and is never evaluated twice), recording one lineage edge
 * per parent with the operator and note.  Returns NULL on a store error.
 */
struct cand	*search_add(struct search *, const char *text,
		    const char *origin, struct cand *const *parents,
		    size_t nparents, const char *op, const char *note,
		    char **cause);

/*
 * The same with the candidate's demos given (NULL: none); search_add()
 * gives the new candidate its first parent's demos, so that an operator
 * rewriting an instruction keeps what it shows.  The same instruction
 * with other demos is another candidate.
 */
struct cand	*search_add_demos(struct search *, const char *text,
		    const struct demos *, const char *origin,
		    struct cand *const *parents, size_t nparents,
		    const char *op, const char *note, char **cause);
/* A candidate the store holds (a champion, say), demos and all. */
struct cand	*search_add_stored(struct search *, int64_t id,
		    const char *origin, char **cause);

/*
 * Scores candidates on the dev split.  With racing, examples are taken in
 * blocks, and a candidate whose upper bound falls below the leader's
 * lower bound stops being evaluated (raced_out); the others are scored on
 * every dev example.  Each candidate goes through its blocks on its own,
 * with the decisions of racing them all block by block in step (see
 * search.c).  Scores already known are reused.
 */
int		 search_evaluate(struct search *, struct cand *const *, size_t,
		    char **cause);

/*
 * An evaluation whose attempts are spent is stored as failed with its
 * cause and tried once more in the run; after SEARCH_TRIES failures the
 * example is given up for that candidate, which is then compared on the
 * examples it has (paired tests use the examples both sides have).
 */
#define SEARCH_TRIES	2

/*
 * Whether c is scored, or given up, on every dev example (with at least
 * one score): it can be compared and chosen.
 */
int		 search_complete(const struct search *, const struct cand *);

/*
 * For a resumed run: every score (and failure) the run stored, given
 * back to its candidates, so that the interrupted step is replayed from
 * the state it started from without a call.
 */
int		 search_load_scores(struct search *, char **cause);

/* The search's candidate with that id (borrowed), or NULL. */
struct cand	*search_cand_by_id(const struct search *, int64_t id);
/* The best candidate evaluated on the whole dev split (not raced out). */
struct cand	*search_best(const struct search *);
/* Whether c is one of the n candidates of v. */
int		 search_has(struct cand *const *v, size_t n,
		    const struct cand *c);

/*
 * Embeddings of n candidates (search_embed.c): the embedder role's
 * vectors, L2-normalized, all asked for before one wait (a text embedded
 * before is answered by the cache), or without an embedder the built-in
 * hashed text features of dim dimensions (textfeat_embed()).  *x is n x
 * *xdim floats, allocated for the caller.  Returns 0, or -1 with *cause
 * naming the strategy and the embedder (no answer, no vector, vectors of
 * different dimensions), *x NULL.
 */
int		 search_embed(struct search *, struct cand *const *, size_t n,
		    size_t dim, float **x, size_t *xdim, char **cause);

/*
 * The surrogate filter (search_screen.c; PROMST's score prediction): the
 * parameters of a strategy that offers it, for its parameter table.
 */
#define SEARCH_SCREEN_PARAMS						\
	{ "surrogate", PARAM_NUMBER, "1", 0.05, 1, NULL,		\
	  "share of new proposals scored on dev, those a model of the "	\
	  "scores so far predicts best (1: all, no filter)" },		\
	{ "surrogate_min", PARAM_INT, "8", 2, 100000, NULL,		\
	  "candidates scored on all of dev before the filter starts" },	\
	{ "surrogate_audit", PARAM_NUMBER, "0.1", 0, 1, NULL,		\
	  "share of the proposals screened out that are scored anyway, " \
	  "to count the filter's misses" }

/*
 * Screens the n new proposals of v before they are scored on dev: with
 * the "surrogate" parameter below 1 and "surrogate_min" candidates
 * scored on all of dev at the last checkpoint, a model fitted on those
 * (their embeddings, search_embed(), against their dev means) predicts
 * the proposals' scores, and only the best share of them, and an audit
 * of the others drawn at random ("surrogate_audit"), is to be scored.
 * v is reordered: its first *nkeep are to be scored (in their order),
 * the others are screened out and marked raced_out.  Proposals scored
 * on all of dev already, or stopped by racing, are kept as they are.
 * Logs the decisions.  Returns 0, or -1 with *cause (an embedder error).
 */
int		 search_screen(struct search *, struct cand **v, size_t n,
		    size_t *nkeep, char **cause);
/*
 * After the kept proposals were scored: counts the screening's outcome
 * (the calls spent on those let through, the audited ones that beat
 * their median) and tells it in an event.  Does nothing when the last
 * search_screen() screened nothing.  Returns 0, or -1 on a store error.
 */
int		 search_screen_done(struct search *, char **cause);
/*
 * The filter's part of a strategy's checkpoint (NULL with the filter
 * off): its counters, the estimate of target calls saved, the proposals
 * screened out, and the candidates scored on all of dev now, which the
 * model of the next step is fitted on (so a replayed step fits the same
 * model).  And back: o may be NULL (nothing saved).
 */
cJSON		*search_screen_save(struct search *);
int		 search_screen_load(struct search *, const cJSON *o,
		    char **cause);
/* What the filter did in the run, for a summary; NULL if nothing. */
char		*search_screen_text(const struct search *);
void		 search_screen_free(struct search_screen *);

/* A variable of a meta-prompt: {{name}} is replaced by value. */
struct meta_var {
	const char	*name;
	const char	*value;
};

/*
 * Renders the meta-prompt template name (strategies/prompts/NAME.txt, or
 * the job's override) with vars, sends it to the optimizer role at the
 * given temperature and returns the prompts found in its reply (up to
 * max, deduplicated, each the caller's to free with the array), and the
 * reply's text outside them as *rationale (may be NULL).  The reply is
 * read by reply_read() (reply.h): a prompt that gives back one shown in
 * the meta-prompt, restates its instructions, or is longer than the job's
 * max_prompt_bytes is dropped.  A reply with nothing usable is followed
 * by a repair turn (the conversation goes on with what was wrong), up to
 * the strategy's "attempts" replies in all.  Every reply's outcome is
 * stored with its call.  Returns the number of prompts (0 when no reply
 * was usable), or -1 on a store or engine error.
 */
int		 search_ask(struct search *, const char *name,
		    const struct meta_var *, size_t nvars, double temperature,
		    size_t max, char ***prompts, char **rationale,
		    char **cause);

/*
 * An event of the run ("info" or "warn"), logged and stored, so that
 * status, watch and the log say what the strategy did or could not do.
 * Returns 0, or -1 with *cause on a store error.
 */
int		 search_event(struct search *, const char *level,
		    const char *text, char **cause);

/*
 * k distinct positions in [0, n) into out (room for min(k, n)), drawn
 * from the step's stream; returns how many.
 */
size_t		 search_draw(struct search *, size_t n, size_t k, size_t *out);

/* Waits until the search's engine has answered everything submitted. */
int		 search_wait(struct search *, char **cause);

/*
 * Whether the search can wait for what is outside its engine (a worker
 * thread, a person): it runs inside the daemon, whose loop goes on while
 * it waits.  In a command-line run nothing else moves while a step runs.
 */
int		 search_can_wait(const struct search *);

/* Lets the daemon's loop turn once; does nothing in a command-line run. */
void		 search_yield(struct search *);

/*
 * Waits, inside the daemon, until done(arg, cause) returns 1 (then 0 is
 * returned) or -1 (its *cause is kept), or the engine stops.  done is
 * called once a turn of the loop, and s->waiting is set meanwhile: what
 * is waited for takes a person's time, so the loop need not hurry.
 * Returns -1 with *cause when the search cannot wait (search_can_wait()).
 */
int		 search_wait_until(struct search *,
		    int (*done)(void *arg, char **cause), void *arg,
		    char **cause);

/*
 * Puts a question to a judge backend through the judge service
 * (judge.h); ask holds the answer after search_wait().  A verdict read
 * counts as the step's progress.
 */
struct judge_ask;
void		 search_judge(struct search *, struct backend *,
		    struct judge_ask *);

/*
 * n input/output demos, drawn with the step's random stream from the
 * training split (dev when it has none), each as <demo> with its <input>
 * and <output>.  Allocated; "" when there are no examples.
 */
char		*search_demos(struct search *, size_t n);
/* Demos in that form, for a meta-prompt ("" for none; allocated). */
char		*search_demos_text(const struct demos *);

/*
 * search_ask() for replies whose parts are in other tags: the contents of
 * every <tag>...</tag> of the reply (a <critique>, say), with the same
 * reading, repair turns and outcomes (no length limit but for prompts).
 * search_ask() is this with tag "prompt", and both are search_ask_many()
 * with one request.
 */
int		 search_ask_tag(struct search *, const char *name,
		    const struct meta_var *, size_t nvars, double temperature,
		    const char *tag, size_t max, char ***parts,
		    char **rationale, char **cause);

/*
 * One optimizer request of search_ask_many(): what is asked (borrowed
 * until the call returns) and what came of it (allocated: release it
 * with search_ask_release(), or take parts and rationale over).
 */
struct search_ask {
	const char		*name;		/* the meta-prompt template */
	const struct meta_var	*vars;
	size_t			 nvars;
	double			 temperature;
	const char		*tag;		/* NULL: "prompt" */
	size_t			 max;		/* parts kept at most */
	int			 judge;		/* asks the judge role, not
						   the optimizer */
	int			 answer;	/* reads the reply for one
						   answer (reply_read_answer():
						   tag "answer", max 1) */
	const char		*role;		/* what its outcomes are
						   stored as (NULL: "optimizer"
						   or "judge") */
	char			**parts;	/* the n read, or NULL */
	int			 n;
	char			*rationale;	/* the reply outside them */
	int			 outcome;	/* of the last reply (enum
						   reply_outcome), or -1
						   when none came */
};

/*
 * search_ask_tag() for the n independent requests of a step, at once:
 * every first attempt is submitted before one wait, the replies are read
 * in array order, those that need a repair turn go again together, and
 * so on up to the strategy's "attempts".  Request i is sent exactly as
 * it would be if the n were asked one after another (its sample number
 * included, so a replay is answered from the cache), and outcomes and
 * counters are stored in array order, whatever order the answers come
 * in.  A request the budget refused gets no parts, as with search_ask().
 * Returns 0 (each asks[i].n says how many parts came), or -1 on a store
 * or engine error (nothing is left to release then).  A request with
 * judge set goes to the judge role (its outcome is stored as the
 * judge's), and one with answer set is read for an answer, with or
 * without its tag.  A request with role set has its outcomes stored
 * under that role, apart from the search's (the tallies of a run count
 * "optimizer" and "judge").
 */
int		 search_ask_many(struct search *, struct search_ask *, size_t n,
		    char **cause);
void		 search_ask_release(struct search_ask *, size_t n);

/*
 * Proposals from demos: n requests of template name at once, each with
 * vars and its own ndemos input/output demos as "demos" (search_demos(),
 * drawn in order; "" when ndemos is 0), for max prompts each at the
 * temperature.  Every prompt of the replies is added, in order, as a
 * candidate with origin and operator op, made from parent (NULL: none),
 * and appended to *out (grown; the candidates are borrowed from s).
 * Returns 0, or -1 on a store or engine error.
 */
int		 search_propose(struct search *, const char *name,
		    const struct meta_var *, size_t nvars, size_t ndemos,
		    size_t n, double temperature, size_t max, const char *op,
		    struct cand *parent, struct cand ***out, size_t *nout,
		    char **cause);

/*
 * Renders the meta-prompt template name with vars, for requests a
 * strategy sends itself (to the judge, say).  Returns an allocated text,
 * or NULL with *cause when there is no such template.
 */
char		*search_meta(struct search *, const char *name,
		    const struct meta_var *, size_t nvars, char **cause);

/*
 * The text the target is shown for a dataset example (the task template
 * without a prompt), and the example's expected answer as text ("" when
 * the task has no target).  Both allocated.
 */
char		*search_input(const struct search *, size_t example);
char		*search_expected(const struct search *, size_t example);

/* One candidate's result on one example, from search_score_on(). */
struct search_score {
	double		 score;		/* NAN when it could not be scored */
	char		*output;	/* the target's answer, or NULL */
	char		*feedback;	/* the metric's remark, or NULL */
};

/*
 * Scores n candidates on chosen dataset examples (indices into the
 * dataset, from any split; a minibatch): out[i * nex + j] is candidate
 * i's result on examples[j], allocated for the caller to release with
 * search_scores_release().  The feedback is the metric's explanation of
 * a score (NULL for the judge metric, whose rationale stays in the
 * store).  Results on dev examples are kept in the candidate as
 * search_evaluate() keeps them (its mean and interval are left alone);
 * results on other examples are remembered by the search.  Either way a
 * (candidate, example) already scored is never scored again.
 */
int		 search_score_on(struct search *, struct cand *const *,
		    size_t n, const size_t *examples, size_t nex,
		    struct search_score *out, char **cause);
void		 search_scores_release(struct search_score *, size_t);

/*
 * The target's answers to examples with a candidate's prompt and demos,
 * without scoring them:
 * outputs[j] (allocated, NULL where the call failed) answers examples[j].
 */
int		 search_answers(struct search *, const struct cand *,
		    const size_t *examples, size_t nex, char **outputs,
		    char **cause);

/*
 * Bootstrapped demos (DSPy's BootstrapFewShot): candidate c's answers to
 * examples (dataset indices), scored by the task's metric as
 * search_score_on() scores them; each answer scoring at least threshold
 * is appended to out, in order, as a demo of its example's input with the
 * target's own answer.  Returns how many of the n were scored (a failed
 * call is not), or -1 with *cause.
 */
int		 search_bootstrap(struct search *, struct cand *,
		    const size_t *examples, size_t n, double threshold,
		    struct demos *out, char **cause);

#endif
