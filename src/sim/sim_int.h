/*
 * What the files of the simulated world in src/sim/ share; src/sim.h
 * is its public interface.  Nothing outside src/sim/ includes this file.
 *
 *	world.c		the world: draws, lifecycle, observed examples,
 *			matching a text to one, roles and entry points
 *	text.c		words, lists of strings, sentences, tags, numbers
 *	skill.c		the cue table and a prompt's skill on a task
 *	rewrite.c	rewrite traits: applying and measuring them
 *	target.c	the target's answers
 *	demos.c		demonstrations in a target request and what they
 *			teach
 *	judge.c		the judge's verdicts and grades
 *	vocab.c		the sentences the optimizer may insert
 *	optimizer.c	the optimizer's prompts and critiques
 *	synth.c		synthetic inputs (boundary variants of examples)
 *			and their labels
 *
 * Strings returned as char * are the caller's to free; const char * and
 * the world's examples and tasks are borrowed.
 */
#ifndef SIM_INT_H
#define SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct model_req;
struct sim_key;

/* Prompt words before length costs. */
#define SIM_LONG_WORDS		60
/* What the target says about a request on no observed example. */
#define SIM_UNSURE		"I'm not sure what you are asking."
/* The bit of "step by step" in a mask from sim_cues_found(). */
#define SIM_CUE_STEPS		(1u << 4)

/* Seeds that keep the hash streams apart. */
#define SEED_INDEX	0x696e646578ULL
#define SEED_WORD	0x776f7264ULL
#define SEED_DIFF	0x64696666ULL
#define SEED_SAMPLE	0x73616d706c65ULL

struct sim_task {
	enum sim_kind	  kind;
	char		**labels;
	size_t		  nlabels;
};

struct sim_example {
	size_t		  task;
	enum sim_kind	  kind;
	char		**vals;
	size_t		 *lens;
	size_t		  nvals;
	size_t		  longest;	/* index of the longest value */
	size_t		  total;	/* sum of the values' lengths */
	char		 *target;	/* NULL when there is none */
	double		  num;		/* the target as a number */
	uint64_t	  id;
	double		  difficulty;	/* in [0, 1) */
	unsigned	  twists;	/* a synthetic variant's boundary
					   twists (synth.c), 0 for none */
};

struct sim_world {
	struct sim_params	 p;
	struct sim_task		*tasks;
	size_t			 ntasks;
	struct sim_example	*ex;
	size_t			 nex;
	size_t			 capex;
	struct sim_key		*index;		/* sorted by key */
	size_t			 nindex;
	size_t			 capindex;
	unsigned		 keylens;	/* bit L: a key of L bytes */
	uint64_t		*ids;		/* open-addressed, 0 empty */
	size_t			 nids;
	size_t			 capids;
};

/* A growable list of strings. */
struct sim_list {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/*
 * The cue table.  Phrases are matched case-insensitively at word
 * boundaries, longer entries first: a match is blanked out before the
 * next entries are tried, so "don't think" does not also count as
 * "think".  Effects are logits by task kind (label, number, text,
 * rewrite).
 */
struct sim_cue {
	const char	*phrases;	/* '|'-separated spellings */
	double		 effect[4];
	const char	*sentence;	/* a sentence carrying the cue */
	const char	*critique;	/* when lacking (helps) or there */
	const char	*fixes;		/* harmful: a repair per spelling */
};

/* The cue table (skill.c), sim_ncues entries. */
extern const struct sim_cue	 sim_cues[];
extern const size_t		 sim_ncues;
/* Words that ask for each rewrite trait (skill.c), NULL-terminated. */
extern const char *const	 sim_trait_words[4][9];

/* world.c */

/* Draws from a hash: uniform in [0, 1) and standard normal. */
double		 sim_u01(uint64_t);
double		 sim_normal(uint64_t);
double		 sim_sigmoid(double);
/*
 * The observed example a text is about (every input value occurs in it;
 * the longest total matched length wins, then the earliest observed), or
 * NULL.  The example is the world's.
 */
const struct sim_example *sim_world_match(const struct sim_world *,
		    const char *text);

/* Where an observed example occurs in a text, in bytes. */
struct sim_occ {
	const struct sim_example	*x;
	size_t				 start;	/* its first value */
	size_t				 end;	/* past its last value */
};

/*
 * Every observed example text holds, by position, none overlapping
 * another: of two that would, the one with the longest total matched
 * length wins, then the one observed first (as in sim_world_match()).
 * Each spans its values found between its neighbours.  Returns how many;
 * *out is the caller's to free.
 */
size_t		 sim_world_occurrences(const struct sim_world *,
		    const char *text, struct sim_occ **out);

/* text.c */

int		 sim_is_alnum(int);
/* A lower-case copy of s. */
char		*sim_lower_dup(const char *s);
/* A request's system messages, joined by newlines ("" for none). */
char		*sim_req_system(const struct model_req *);
/*
 * Where lower-case needle occurs in lower-case hay at word boundaries
 * (a pointer into hay), or NULL; sim_has_word() says whether it does.
 */
const char	*sim_find_word(const char *hay, const char *needle);
int		 sim_has_word(const char *hay, const char *needle);
size_t		 sim_count_words(const char *);
/* Adds a copy of s to l; sim_list_free() frees l's strings and array. */
void		 sim_list_add(struct sim_list *l, const char *s);
void		 sim_list_free(struct sim_list *l);
/*
 * Adds the sentences of text to out: split after '.', '!' or '?'
 * followed by a space, and at line breaks; empty pieces are dropped.
 */
void		 sim_sentences_split(const char *text, struct sim_list *out);
/*
 * Finds the next block <tag ...>body</tag> of text at or after *pos (the
 * last opening tag before the first closing one, so a mention of "<tag>"
 * in prose does not swallow the real block).  Points body and attr (the
 * text between the tag's name and its '>'; attr may be NULL) into text
 * and moves *pos past the block.  Returns 0 when there is none.
 */
int		 sim_tag_next(const char *text, const char *tag,
		    const char **pos, const char **body, size_t *bodylen,
		    const char **attr, size_t *attrlen);
int		 sim_tag_has(const char *text, const char *tag);
/* A copy of text with the bodies of the blocks of the NULL-ended tags cut. */
char		*sim_tags_strip(const char *text, const char *const *tags);
/*
 * The last number in s (an optional minus, digits, commas, a fraction):
 * returns 0 when there is none.
 */
int		 sim_last_number(const char *s, double *out);
/* Whether s (trimmed) is a number; commas between digits are allowed. */
int		 sim_parse_number(const char *s, double *out);
int		 sim_numbers_equal(double, double);
/* A copy of tmpl with its one "%s" replaced by arg (not a format). */
char		*sim_fill(const char *tmpl, const char *arg);

/* skill.c */

/* Which cues a prompt carries, as a bit mask over sim_cues. */
uint32_t	 sim_cues_found(const char *prompt);
/* Whether a lower-case prompt names every label of a task (t may be NULL). */
int		 sim_labels_all(const char *lprompt, const struct sim_task *t);
/* The logit of a prompt's skill on task t (may be NULL) of kind. */
double		 sim_prompt_logit(const struct sim_world *,
		    const struct sim_task *t, enum sim_kind kind,
		    const char *prompt);

/* rewrite.c */

/* A copy of text with the traits in mask applied. */
char		*sim_rewrite_apply(const char *text, unsigned mask);
/* The share of input's content words that output keeps, in [0, 1]. */
double		 sim_rewrite_kept(const char *input, const char *output);
/*
 * The traits output shows as a rewrite of input: fewer fillers,
 * contractions or misspellings, or "please" and "thank" it lacked.
 */
unsigned	 sim_rewrite_shown(const char *input, const char *output);

/* vocab.c: the sentences the optimizer may insert. */

enum sim_item_type {
	ITEM_CUE,
	ITEM_LABELS,
	ITEM_FORMAT,
	ITEM_TRAIT,
	ITEM_NEUTRAL,
};

/* A sentence the optimizer may insert, and what it does. */
struct sim_item {
	enum sim_item_type	 type;
	size_t			 arg;	/* cue index or trait */
	int			 sign;	/* +1 helps, -1 hurts */
	char			*sentence;
	char			*critique;	/* NULL when neutral */
	char			*key;	/* words a critique names it by */
};

struct sim_vocab {
	struct sim_item		*v;
	size_t			 n;
	const struct sim_task	*task;
	enum sim_kind		 kind;
};

/* Sentences that change nothing but the small per-word effects. */
extern const char *const	 sim_neutral[];
extern const size_t		 sim_nneutral;

/* The vocabulary for a task (NULL: none) of kind; freed with
 * sim_vocab_free(). */
void		 sim_vocab_build(struct sim_vocab *, const struct sim_task *,
		    enum sim_kind);
void		 sim_vocab_free(struct sim_vocab *);
/* Whether a prompt already has what an item brings. */
int		 sim_item_present(const struct sim_vocab *,
		    const struct sim_item *, const char *prompt);

/* demos.c */

/* A demonstration: an observed example and the answer shown for it. */
struct sim_demo {
	const struct sim_example	*x;
	char				*output;	/* trimmed */
};

/* A target request read for its demos. */
struct sim_shown {
	const struct sim_example	*question;
	struct sim_demo			*demos;
	size_t				 ndemos;
	char				*system;	/* the system
							   messages joined,
							   demos cut */
	char				*user;		/* the last message,
							   demos cut */
};

/*
 * Reads the demos of a target request whose last message is the user's:
 * user turns holding an observed example, each followed by an assistant
 * turn, and examples followed by an output inside the system messages or
 * the last message.  Returns 0 (and holds nothing) when there are none;
 * else 1, and sh is released with sim_shown_release().
 */
int		 sim_demos_read(const struct sim_world *,
		    const struct model_req *, struct sim_shown *sh);
void		 sim_shown_release(struct sim_shown *);

/* What demos teach the target about a question. */
struct sim_lesson {
	double	 logit;		/* added to the prompt's skill */
	double	 prose;		/* a factor on the prose rate */
	double	 taught[4];	/* the chance of each rewrite trait that
				   the demos show and the prompt does not
				   ask for, as a share of the skill */
};

/* What the demos of sh teach about question q; sim_lesson_none(): none. */
void		 sim_demos_lesson(const struct sim_world *,
		    const struct sim_example *q, const struct sim_shown *sh,
		    struct sim_lesson *);
void		 sim_lesson_none(struct sim_lesson *);

/* target.c, judge.c, optimizer.c: the answers of each role. */

/*
 * The target's answer to req; first is req up to its first assistant
 * turn, whose messages joined are text; sample is the sample's draw (0
 * at temperature 0).
 */
char		*sim_answer_target(const struct sim_world *,
		    const struct model_req *req, const struct model_req *first,
		    const char *text, uint64_t sample);
/*
 * How well a response states the expected answer of x, in [0, 1]: 1 when
 * right (a label named alone, the last number equal, the expected text
 * contained).
 */
double		 sim_correctness(const struct sim_world *,
		    const struct sim_example *x, const char *resp);
/* The judge's and the optimizer's answers to text, with draws from h. */
char		*sim_answer_judge(const struct sim_world *, const char *text,
		    uint64_t h);
char		*sim_answer_optimizer(const struct sim_world *,
		    const char *text, uint64_t h);

/*
 * synth.c.  sim_world_match_synth(): sim_world_match() of text without
 * its boundary twists; when it had any, the example is a copy in buf
 * (its values borrowed) with the twists, its own id and a difficulty of
 * 0.5 plus half the example's.  sim_twists_cut(): text without its
 * twists (allocated).  sim_synth_asked(), sim_label_asked(): whether a
 * request asks the optimizer for new inputs, or the judge for the
 * answer to an <input>; sim_answer_synth() and sim_answer_label() answer
 * them.
 */
const struct sim_example *sim_world_match_synth(const struct sim_world *,
		    const char *text, struct sim_example *buf);
char		*sim_twists_cut(const char *text);
int		 sim_synth_asked(const char *text);
int		 sim_label_asked(const char *text);
char		*sim_answer_synth(const char *text, uint64_t h);
char		*sim_answer_label(const struct sim_world *, const char *text);

/* The rewrite traits a prompt (or a judge's rubric) asks for. */
unsigned	 sim_prompt_traits(const char *prompt);

#endif
