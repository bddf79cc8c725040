/*
 * The simulated world behind the "sim" backend: a deterministic,
 * in-process stand-in for a language model, used for demos, dry-run cost
 * estimates and tests.
 *
 * The world answers from the text of a request alone, plus the examples
 * it was shown through sim_world_observe() (its "world knowledge").  It
 * tells the four model roles apart by what the text contains, never by
 * the caller's role name: embeddings (hashed n-grams), judge requests
 * (<response_a>/<response_b> or <response> blocks), optimizer requests
 * (<prompt> blocks or demos to propose instructions from) and target
 * requests (anything else).  Every random draw is a hash of the world
 * seed, the request's content and, at a temperature above zero, the
 * sample index, so the same request always gets the same reply.
 *
 * man/promptd-sim.7 describes the world model and its cue table.
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

struct dataset;
struct model_req;
struct sim_world;

/* What a request is, read from its text. */
enum sim_role {
	SIM_ROLE_EMBED,
	SIM_ROLE_JUDGE,
	SIM_ROLE_OPTIMIZER,
	SIM_ROLE_TARGET,
};

/* The kind of an observed task, from its targets. */
enum sim_kind {
	SIM_LABEL,	/* short strings from a small set */
	SIM_NUMBER,	/* numeric targets */
	SIM_TEXT,	/* any other target */
	SIM_REWRITE,	/* no target: rewrite the input */
};

/* Rewrite traits, as a bit mask. */
#define SIM_TRAIT_CONCISE	0x01
#define SIM_TRAIT_POLITE	0x02
#define SIM_TRAIT_FORMAL	0x04
#define SIM_TRAIT_SPELLING	0x08
#define SIM_TRAIT_ALL		0x0f

struct sim_params {
	uint64_t	seed;		/* the world seed (seed and model) */
	size_t		dim;		/* embedding dimension */
	double		noise;		/* judge noise sd */
	double		position_bias;	/* judge bias to the first response */
	double		format_error_rate; /* optimizer replies without tags */
};

/* The defaults: seed 1, dim 256, noise 0.1, bias 0.05, no format errors. */
void		 sim_params_default(struct sim_params *);

/* A new world with no knowledge; params are copied. */
struct sim_world *sim_world_new(const struct sim_params *);
void		 sim_world_free(struct sim_world *);

/*
 * Learns the examples of a dataset: the values of the fields named in
 * inputs (what the template shows) and of the target field (NULL for a
 * task without targets).  Everything needed is copied; the dataset may be
 * freed afterwards.  Each call adds one task; an example already known
 * (same values, same target) is not added twice.
 */
void		 sim_world_observe(struct sim_world *, const struct dataset *,
		    const char *const *inputs, size_t ninputs,
		    const char *target);
size_t		 sim_world_ntasks(const struct sim_world *);
enum sim_kind	 sim_world_task_kind(const struct sim_world *, size_t task);

/* Which role a request plays, from its kind and text. */
enum sim_role	 sim_role_detect(const struct model_req *);

/*
 * Answers a chat request: *out is the reply text (the caller's to free).
 * temperature is the effective one (request over backend default; below
 * zero counts as zero): the sample index changes the draws only above
 * zero.
 */
void		 sim_world_answer(struct sim_world *, const struct model_req *,
		    double temperature, char **out);

/*
 * The embedding of text: params.dim floats written to out, L2-normalized
 * (hashed word unigrams and bigrams and character trigrams).
 */
void		 sim_world_embed(const struct sim_world *, const char *text,
		    float *out);
size_t		 sim_world_dim(const struct sim_world *);

/*
 * The skill of a prompt on a task in (0, 1): the chance of a correct
 * answer on an example of middling difficulty (for a rewrite task, the
 * chance that each requested trait is applied).
 */
double		 sim_world_skill(const struct sim_world *, size_t task,
		    const char *prompt);
/* Whether a prompt asks for a bare answer (no prose around it). */
int		 sim_prompt_bare(const char *prompt);

/*
 * How good output is as a rewrite of input, in [0, 1], measured on the
 * traits in mask (each scored by the features the rewrite applies) and
 * on how much of the input's content it keeps.
 */
double		 sim_rewrite_quality(const char *input, const char *output,
		    unsigned mask);

#endif
