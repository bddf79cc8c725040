/*
 * Job files (promptd-job(5)): what to optimize, on which data, scored how,
 * with which models and within which budget.  job_load() reads the file,
 * checks every field (reporting all problems as FILE:LINE:COL: field:
 * message), loads the dataset, compiles the template and metric and
 * resolves the backends named by the roles, so a struct job that exists
 * is ready to run.
 */
#ifndef JOB_H
#define JOB_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cron.h"
#include "feedback.h"
#include "task.h"

struct conf;

/* What of a job's interactions becomes an example (feedback.examples). */
enum feedback_examples {
	EXAMPLES_EDITS,		/* edited responses */
	EXAMPLES_RATED,		/* those, and responses rated best */
	EXAMPLES_OFF,
};

/* judge.human_examples when the job reads a feedback log. */
#define JOB_JUDGE_HUMAN_EXAMPLES	3
/*
 * A job's risk control (its "risk" setting): before a champion is
 * promoted, a distribution-free upper bound at confidence on a risk
 * measure over its dev scores must be at most max (jobrun_risk.c).
 */
enum risk_measure {
	RISK_NONE,		/* no risk setting: the mean decides alone */
	RISK_SHARE_BELOW,	/* the share of examples scored below
				   threshold */
	RISK_QUANTILE,		/* the quantile of the loss 1 - score */
};
struct job_risk {
	enum risk_measure measure;
	double		  threshold;	/* for share_below */
	double		  quantile;	/* for quantile, (0, 1) */
	double		  max;		/* the bound allowed */
	double		  confidence;	/* 1 - delta; default 0.9 */
};

/*
 * Synthetic boundary cases (the job's "synthetic" setting): at the start
 * of a run, while the job has fewer than until train and dev examples,
 * the optimizer writes examples new inputs near the boundary of the task
 * for the current prompt, and the judge or people label them
 * (jobrun_synth.c).
 */
enum synth_labeler {
	LABELER_JUDGE,
	LABELER_PEOPLE,
};
struct job_synthetic {
	int			 on;
	long long		 examples;	/* inputs asked for a round */
	enum synth_labeler	 labeler;
	long long		 until;		/* train and dev examples */
};

struct job {
	char		 *file;
	struct task	  task;		/* name, description, roles... */
	char		**seeds;
	struct demos	 *seed_demos;	/* nseeds, each maybe empty */
	size_t		  nseeds;
	struct backend	**own;		/* backends the job defines itself */
	size_t		  nown;
	char		 *strategy;		/* name or NULL */
	cJSON		 *strategy_params;	/* the strategy object */
	struct budget	  budget;		/* each optimize run */
	struct budget	  refresh_budget;	/* each refresh run */
	struct budget	  total_budget;		/* all runs of the job */
	char		 *schedule;
	struct cron	  cron;
	char		 *export_path;
	int		  export_sidecar;
	char		 *challenger_path;	/* export.challenger, or NULL */
	double		  challenger_share;	/* of the traffic, (0, 0.5] */
	long long	  challenger_min_ratings;	/* on each side */
	char		 *report_path;	/* written on each promotion */
	char		 *feedback_path;	/* read at each run, or NULL */
	enum user_policy  feedback_users;
	enum feedback_examples feedback_examples;
	long long	  judge_human_examples;	/* of people's preferences
						   shown to the judge */
	double		  alpha;
	double		  min_delta;
	double		  prefer_shorter;	/* tolerance in the metric's
						   units, NAN: off */
	struct job_risk	  risk;
	struct job_synthetic synthetic;
	enum cache_mode	  cache;
	cJSON		 *spec;		/* the file's JSON, comments gone */
};

/*
 * Loads and checks a job file against a configuration (which may be
 * NULL: then only the job's own backends exist).  On failure *cause
 * holds every problem found, one per line.
 */
struct job	*job_load(const char *path, const struct conf *, char **cause);
void		 job_free(struct job *);

/*
 * Calls fn with the dotted path of every key a job file may contain
 * ("name", "task.dataset", "task.metric.normalize", ...), so that tests
 * can check that each is documented.
 */
void		 job_foreach_key(void (*fn)(const char *path, void *arg),
		    void *arg);

/*
 * What a job keeps of user ids, from its spec as stored (checked when it
 * was loaded): its "feedback" setting's "users", hash by default.  And
 * the name of a policy as the job file spells it.
 */
enum user_policy job_feedback_users(const cJSON *spec);
const char	*job_users_name(enum user_policy);
/* The name of a risk measure as the job file spells it (NULL: none). */
const char	*job_risk_name(enum risk_measure);
/* The name of feedback.examples as the job file spells it. */
const char	*job_examples_name(enum feedback_examples);
/* The name of synthetic.labeler as the job file spells it. */
const char	*job_labeler_name(enum synth_labeler);

/* Parses a duration: a number of seconds or "1h30m", "90s", "2d". */
int		 duration_parse(const char *, double *out);


#endif
