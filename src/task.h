/*
 * Tasks: what a search optimizes a prompt for (the data, the template,
 * the metric, the models by role, the limits a run keeps to) and how one
 * example becomes a model request.  Below the engine and the strategies;
 * a job file (job.h) is read into one.
 */
#ifndef TASK_H
#define TASK_H

#include <stddef.h>

struct backend;
struct dataset;
struct demos;
struct metric;
struct model_req;
struct template;

enum task_role {
	ROLE_TARGET,
	ROLE_OPTIMIZER,
	ROLE_JUDGE,
	ROLE_EMBEDDER,
};
#define ROLE_COUNT	4
/* "target", "optimizer", ...; NULL-terminated. */
extern const char *const task_role_names[];
const char	*task_role_name(enum task_role);

enum prompt_placement {
	PLACE_SYSTEM,		/* the prompt is the system message */
	PLACE_INLINE,		/* the prompt is inlined at {{prompt}} */
};

/* Where a candidate's demos (demo.h) go in a request. */
enum demo_placement {
	DEMOS_TURNS,		/* user/assistant turns before the input */
	DEMOS_INLINE,		/* after the instruction, by demo_tmpl */
};

/* The inline template of demos by default; {{input}}, {{output}}. */
#define TASK_DEMO_TEMPLATE	"Input: {{input}}\nOutput: {{output}}"

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

/*
 * What a search works on, below the engine and the strategies: the
 * dataset, the template and the metric, and the models that play each
 * role.  A job (job.h) has one.
 */
struct task {
	char			*name;		/* the job's */
	char			*description;
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
	struct backend		*roles[ROLE_COUNT];	/* borrowed, NULL if
							   unset */
	long long		 seed;
	long long		 max_prompt_bytes;	/* longer proposals are
							   dropped */
	enum demo_placement	 demos;
	struct template		*demo_tmpl;	/* inline demos' (the job's,
						   or TASK_DEMO_TEMPLATE):
						   set when demos is
						   DEMOS_INLINE */
};

/* The longest prompt a strategy takes from the optimizer, by default. */
#define TASK_MAX_PROMPT_BYTES	8192

/*
 * Builds the chat request for one example of the task's dataset and a
 * prompt (the caller releases it with model_req_release()).
 */
void		 task_build_request(const struct task *, const char *prompt,
		    size_t example, struct model_req *);
/*
 * The same for a prompt with demos (NULL or none: as above).  With
 * DEMOS_TURNS each demo is a user message (its input) and an assistant
 * message (its output) between the system message and the input; with
 * DEMOS_INLINE the demos follow the instruction (task_prompt_text()).
 */
void		 task_build_request_demos(const struct task *,
		    const char *prompt, const struct demos *, size_t example,
		    struct model_req *);
/*
 * A prompt as one text: the instruction, and with DEMOS_INLINE its demos
 * after a blank line, each rendered by the demo template, a blank line
 * between them.  Allocated.
 */
char		*task_prompt_text(const struct task *, const char *prompt,
		    const struct demos *);
/*
 * What a prompt costs on every call, by tokens_estimate(): the prompt
 * text and, with DEMOS_TURNS, each demo's two turns.
 */
long long	 task_prompt_tokens(const struct task *, const char *prompt,
		    const struct demos *);

#endif
