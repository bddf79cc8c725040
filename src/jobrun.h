/*
 * A run of a job: optimize (search from the seeds, or from where a
 * crashed run stopped) or refresh (later).  jobrun_start() reads the
 * job's feedback log, finds the run to resume or snapshots the dataset
 * with the examples feedback makes (ingest.h) and creates one, and sets
 * up the search (resuming from its checkpoint); jobrun_step() runs one
 * strategy step and checkpoints; jobrun_finish() picks the champion,
 * reports it on the test split, promotes and exports it, and closes the
 * run.  A run without dev examples searches nothing and puts the first
 * seed prompt forward.
 *
 * The same functions run a job to completion in the foreground (promptd
 * --once) and, inside a fiber, in the daemon.
 */
#ifndef JOBRUN_H
#define JOBRUN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "reply.h"
#include "search.h"

struct job;

struct jobrun {
	struct job		*job;		/* borrowed */
	struct store		*store;
	struct engine		*engine;
	struct search		 search;
	int64_t			 job_id;
	int64_t			 run_id;
	int64_t			 dataset_id;
	const char		*kind;		/* optimize or refresh */
	int			 resumed;	/* from a checkpoint */
	int			 dataset_changed;
	int			 no_dev;	/* no dev examples: no search */
	const char		*status;	/* how it ended */
	char			*reason;
	struct cand		*champion;	/* after finish */
	double			 test_score;	/* champion on test, or NAN */
	int			 promoted;
	int			 stalls;	/* steps in a row without
						   progress */
	char			*stop;		/* why the search stopped early
						   (stall, max_steps), or NULL */
	int			 warned[2];	/* about each role's replies */
	long long		 usable[2];	/* replies of each role usable */
	long long		 replies[2];	/* ... of so many, so far */
	int64_t			 failures_seen;	/* the last failed call told */
	struct cand		*shorter_of;	/* the best a shorter candidate
						   was put forward for */
	char			*shorter;	/* why, for the promotion */
	int			 synth_pending;	/* a synthetic round comes
						   before the search */
	long long		 synth_waiting;	/* its examples waiting for
						   people's labels */
};

/* A run's optimizer or judge replies as the reader found them. */
enum { TALLY_OPTIMIZER, TALLY_JUDGE, TALLY_ROLES };
struct reply_tally {
	long long	 total;
	long long	 ok;		/* usable or repaired */
	long long	 n[REPLY_NOUTCOMES];
	int		 commonest;	/* failure outcome, or -1 */
	char		*problem;	/* of its latest reply */
	char		*excerpt;
};

/* The roles' names, as the store has them ("optimizer", "judge"). */
extern const char *const jobrun_tally_roles[TALLY_ROLES];
/* Counts a run's replies from the store; release with the next. */
int	jobrun_tally(struct store *, int64_t run,
	    struct reply_tally t[TALLY_ROLES], char **cause);
void	jobrun_tally_release(struct reply_tally t[TALLY_ROLES]);
/* "3 unreadable, 1 echo": the failures of a tally, commonest first. */
char	*jobrun_tally_failures(const struct reply_tally *);
/* "; optimizer replies 9/12 usable; judge verdicts 30/30 usable". */
char	*jobrun_tally_text(const struct reply_tally t[TALLY_ROLES]);
/*
 * A run's failed attempts after call id after, by cause, commonest
 * first: "10 x m: openai: Failed to connect ...; 2 x m: HTTP 503 ..."
 * (at most max causes), or NULL when there are none; *last is the
 * latest failed call's id.
 */
char	*jobrun_failures(struct store *, int64_t run, int64_t after,
	    size_t max, long long *n, int64_t *last, char **cause);

/*
 * kind is "optimize" (search from the seeds, or resume the job's
 * unfinished optimize run) or "refresh" (re-check the champion on today's
 * data and model, search on from the best candidates within the job's
 * refresh_budget, promote only on a significant win).
 */
int	jobrun_start(struct jobrun *, struct job *, struct engine_loop *,
	    const char *kind, char **cause);
/*
 * Fits the job's metric when it learns from feedback (metric_prepare())
 * to the job's interactions ingested at or before before (a run's start),
 * with the job's seed.  *report is what it learned (allocated; NULL for a
 * metric that learns nothing).  Returns 0, or -1 with *cause, such as
 * too few rated interactions.
 */
int	jobrun_metric_prepare(struct store *, int64_t job, struct job *,
	    double before, char **report, char **cause);
/* 1: more steps to run; 0: the search is finished (or out of budget). */
int	jobrun_step(struct jobrun *, char **cause);
int	jobrun_finish(struct jobrun *, char **cause);
/*
 * Closes the run as failed (or cancelled) with a reason, to which what
 * its replies say is added when none was usable; jr->reason is the
 * whole of it.
 */
void	jobrun_abort(struct jobrun *, const char *status, const char *reason);
void	jobrun_release(struct jobrun *);

/*
 * Writes the JSON object o (taken over) beside path as PATH.json,
 * atomically: the sidecar of an exported prompt.
 */
int	jobrun_sidecar(const char *path, cJSON *o, char **cause);
/*
 * A prompt's file: the instruction and its demos as one text
 * (task_prompt_text(): inline demos are in it, turns are not), written
 * atomically to path.  With demos, the sidecar object o gets them and
 * their placement: a deployment shows turns itself.
 */
int	jobrun_prompt_file(struct jobrun *, const char *path,
	    const char *prompt, const struct demos *, cJSON *o, char **cause);
/*
 * For the files of the run (jobrun_*.c): an event of the run, logged
 * and stored; and prompt written to the job's export path (nothing
 * without one) with its sidecar of the job's latest champion version.
 */
void	jobrun_event(struct jobrun *, const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	jobrun_export_text(struct jobrun *, const char *prompt,
	    const struct demos *, char **cause);

/*
 * Champion and challenger (jobrun_challenger.c).  What production
 * ratings say of a job's open challenger against its champion
 * (candidate champion): the ratings of each given since the challenger
 * started and ingested before the run started, tested with Welch's t
 * both ways.  Returns the verdict with *e filled, or -1.
 */
enum challenger_verdict {
	CHALLENGER_TOO_FEW,	/* fewer than min_ratings on a side */
	CHALLENGER_STAYS,	/* no significant difference yet */
	CHALLENGER_PROMOTE,
	CHALLENGER_REJECT,	/* the champion is rated better */
};
struct challenger_evidence {
	size_t	n[2];		/* ratings: the challenger's, the champion's */
	double	mean[2];
	double	p;		/* that the challenger is better */
	double	p_worse;	/* that the champion is better */
	double	delta;		/* mean[0] - mean[1] */
};
struct challenger;
int	jobrun_challenger_judge(struct store *, int64_t job, int64_t run,
	    const struct challenger *, int64_t champion, double alpha,
	    double min_delta, long long min_ratings,
	    struct challenger_evidence *, char **cause);
/*
 * At a run's start, after its log is ingested: decides the job's open
 * challenger (promotes and exports it, ends it, or lets it stay), each
 * decision an event of the run.
 */
int	jobrun_challenger_decide(struct jobrun *, char **cause);
/*
 * At a run's finish: the run's best (NULL: none), when it is not the
 * champion, becomes the job's challenger (written to export.challenger
 * with its sidecar); when it is, an open challenger is withdrawn.
 */
int	jobrun_challenger_leave(struct jobrun *, struct cand *best,
	    char **cause);

/*
 * Risk-controlled promotion (jobrun_risk.c), for a job that sets "risk"
 * (promptd-job(5)).  jobrun_risk_bound(): c's upper bound on the job's
 * risk measure over its scored dev examples, into *r (measure "" when
 * the job sets none).  jobrun_risk_describe(): "share of dev examples
 * below 0.5, 90% confidence, 58 examples" (allocated).
 * jobrun_risk_pick(): the candidate to put forward in place of the
 * run's best: best itself when the job sets no risk or best's bound is
 * within max, else the complete candidate of highest mean within it, or
 * NULL when none is; a refusal is an event of the run.
 */
struct champion_risk;
void	 jobrun_risk_bound(const struct jobrun *, const struct cand *,
	    struct champion_risk *);
char	*jobrun_risk_describe(const struct champion_risk *);
struct cand *jobrun_risk_pick(struct jobrun *, struct cand *best);

/*
 * Cost-aware selection (jobrun_shorter.c), for a job that sets
 * "prefer_shorter" (promptd-job(5)).  jobrun_shorter_pick(): the
 * candidate to put forward in place of best (jobrun_risk_pick()'s): of
 * the complete candidates within the job's risk bound that a one-sided
 * paired test on dev at the job's alpha does not find worse than best
 * by more than the tolerance, the one of fewest prompt tokens
 * (tokens_estimate()), best itself when none is shorter; a shorter one
 * sets jr->shorter_of to best and jr->shorter to the evidence.
 * jobrun_shorter_reason(): reason with that evidence before it
 * (allocated; reason is freed), or reason when c is no shorter pick.
 */
struct cand *jobrun_shorter_pick(struct jobrun *, struct cand *best);
char	*jobrun_shorter_reason(const struct jobrun *, const struct cand *c,
	    char *reason);

/*
 * Synthetic boundary cases (jobrun_synth.c), for a job that sets
 * "synthetic" (promptd-job(5)).  jobrun_synth_due(): whether a run
 * starts with a round (a new run, or one resumed without a checkpoint).
 * jobrun_synth(): the round, in the first step before the search is set
 * up: while the run's train and dev examples are fewer than
 * synthetic.until, the optimizer writes inputs near the task's boundary
 * for the current prompt, the judge labels them (or people do, through
 * promptctl feedback, the run waiting in the daemon), and the labeled
 * ones join the run's dataset in a new snapshot; events tell how many
 * were written, kept, labeled and left out, and why.
 * jobrun_synth_waiting(): what the run waits for ("3 synthetic examples
 * wait for labels ..."), or NULL.  jobrun_synth_labels(): whether the
 * job asks people for labels.
 */
int	 jobrun_synth_due(const struct jobrun *, int checkpointed);
int	 jobrun_synth(struct jobrun *, char **cause);
char	*jobrun_synth_waiting(const struct jobrun *);
int	 jobrun_synth_labels(const struct job *);
/*
 * The inputs one <input> element of the generator's reply gives, as a
 * JSON object of the n fields (allocated): for one field, its text, or
 * its value in a JSON object that names it; for several, a JSON object
 * with a value
 * (a string, number or boolean) for each, other keys dropped.  A label
 * before the text ("Input 3:", "**Example:**") is dropped.  NULL with
 * *why (static) when it is empty or lacks a field.
 */
cJSON	*jobrun_synth_inputs(const char *const *fields, size_t n,
	    const char *part, const char **why);
/*
 * A label as it is stored: one of the known answers (choices, a JSON
 * array, may be NULL) when it is that answer but for case, emphasis,
 * quotes or closing punctuation, else label itself.  Allocated.
 */
char	*jobrun_synth_label(const char *choices, const char *label);

/* Tells simulated backends about the job's task (real ones ignore it). */
void	jobrun_observe(const struct job *);

/*
 * People's preferences as evidence for the judge (jobrun_judge.c).
 * jobrun_judge_block() is the block shown before the judge's comparisons
 * for n preferences (NULL for none); jobrun_judge_evidence() gives the
 * engine the block of the job's latest judge.human_examples made by the
 * time the run started.  jobrun_judge_agreement() tells, as an event,
 * how often the run's judge agreed with people on pairs they compared.
 */
struct human_pref;
struct task;
char	*jobrun_judge_block(const struct task *, const struct human_pref *,
	    size_t n);
int	jobrun_judge_evidence(struct jobrun *, char **cause);
int	jobrun_judge_agreement(struct jobrun *, char **cause);

#endif
