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

struct backend;
struct conf;
struct dataset;
struct metric;
struct template;

enum job_role {
	ROLE_TARGET,
	ROLE_OPTIMIZER,
	ROLE_JUDGE,
	ROLE_EMBEDDER,
};
#define ROLE_COUNT	4
const char	*job_role_name(enum job_role);

enum prompt_placement {
	PLACE_SYSTEM,		/* the prompt is the system message */
	PLACE_INLINE,		/* the prompt is inlined at {{prompt}} */
};

enum cache_mode {
	CACHE_ON,		/* read and write the call cache */
	CACHE_READ,		/* read only */
	CACHE_OFF,
};

struct budget {
	long long	max_calls;	/* 0: no limit */
	long long	max_tokens;
	double		max_dollars;
	double		deadline;	/* seconds from the start; 0: none */
};

struct task {
	char			*dataset_path;	/* resolved against the job */
	char			*format;	/* "jsonl", "csv" or NULL */
	char			*input;		/* template source */
	char			*target;	/* expected-answer field or NULL */
	enum prompt_placement	 placement;
	double			 split[3];	/* train, dev, test */
	long long		 split_seed;
	struct dataset		*dataset;
	struct template		*tmpl;
	struct metric		*metric;
};

/* The longest prompt a strategy takes from the optimizer, by default. */
#define JOB_MAX_PROMPT_BYTES	8192

struct job {
	char		 *file;
	char		 *name;
	char		 *description;
	struct task	  task;
	char		**seeds;
	size_t		  nseeds;
	struct backend	**own;		/* backends the job defines itself */
	size_t		  nown;
	struct backend	 *roles[ROLE_COUNT];	/* borrowed, NULL if unset */
	char		 *strategy;		/* name or NULL */
	cJSON		 *strategy_params;	/* the strategy object */
	struct budget	  budget;		/* each optimize run */
	struct budget	  refresh_budget;	/* each refresh run */
	struct budget	  total_budget;		/* all runs of the job */
	char		 *schedule;
	struct cron	  cron;
	char		 *export_path;
	int		  export_sidecar;
	double		  alpha;
	double		  min_delta;
	enum cache_mode	  cache;
	long long	  seed;
	long long	  max_prompt_bytes;	/* longer proposals are dropped */
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

/* Parses a duration: a number of seconds or "1h30m", "90s", "2d". */
int		 duration_parse(const char *, double *out);

/* Builds the chat request for one example and prompt (the caller
 * releases it with model_req_release()). */
struct model_req;
void		 job_build_request(const struct job *, const char *prompt,
		    const struct dataset *, size_t example,
		    struct model_req *);

#endif
