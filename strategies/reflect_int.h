/*
 * What the reflect strategy's files share: its state, the table entry of
 * each mode and the helpers the modes have in common.  reflect.c holds
 * the strategy (parameters, checkpoint, the mode table) and the helpers;
 * protegi.c, gepa.c, opro.c, spo.c and pe2.c hold one mode each.  The
 * mcts strategy (mcts.c) uses the helpers too.  Private to strategies/:
 * nothing else includes it.
 */
#ifndef REFLECT_INT_H
#define REFLECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "search.h"

struct reflect;

/*
 * A mode of the strategy, found by its name (the "mode" parameter) in
 * reflect.c's table.  The defaults stand in for the parameters whose 0
 * means "the mode's default".
 */
struct reflect_mode {
	const char	*name;
	long long	 steps;		/* "steps" */
	size_t		 minibatch;	/* "minibatch" */
	size_t		 proposals;	/* "proposals" */
	int		 seeded;	/* the seeds begin the beam or pool */
	int		 screens;	/* scores its proposals on dev through
					   reflect_score_new(), so the
					   surrogate filter applies */
	/* One step; 0 or -1 with *cause set. */
	int		(*step)(struct search *, struct reflect *, char **);
};

extern const struct reflect_mode protegi_mode;
extern const struct reflect_mode gepa_mode;
extern const struct reflect_mode opro_mode;
extern const struct reflect_mode spo_mode;
extern const struct reflect_mode pe2_mode;

/* A proposal and how it did against its parent on the same examples. */
struct rhist {
	int64_t		 id;
	int64_t		 parent;
	double		 score;
	double		 parent_score;
	int		 better;
};

/* A member of the protegi beam or the gepa pool. */
struct rmember {
	int64_t		 id;
	int64_t		 parents[2];	/* 0: none */
};

/* The last known dev score of a candidate (opro). */
struct rknown {
	int64_t		 id;
	double		 score;
};

/* The strategy's state: what the checkpoint saves (see reflect_save). */
struct reflect {
	const struct reflect_mode *mode;
	struct rmember		*set;
	size_t			 nset;
	struct rhist		*hist;
	size_t			 nhist;
	struct rknown		*known;
	size_t			 nknown;
	int64_t			 champion;	/* spo; pe2: the prompt edited */
	double			 share;		/* spo: its share of votes */
	char			*feedback;	/* spo: the judge's remarks */
	double			 started;	/* the run's start, which
						   people's critiques were
						   ingested before: 0 until
						   read, -1 for no run */
};

/* A growing list of meta-prompt variables; names and values borrowed. */
struct rvars {
	struct meta_var	 v[16];
	size_t		 n;
};

/* Appends a variable; both strings are borrowed until the ask. */
void		 rvars_set(struct rvars *, const char *name, const char *value);

/* The "minibatch" and "proposals" parameters, or the mode's defaults. */
size_t		 reflect_minibatch(const struct search *,
		    const struct reflect *);
size_t		 reflect_proposals(const struct search *,
		    const struct reflect *);

/* The job's description, borrowed, or a placeholder. */
const char	*reflect_task(const struct search *);
/* "1 prompt", "4 prompts": a new string, the caller's to free. */
char		*reflect_count(size_t n, const char *noun);
/* A score as "%.3f" (NAN as 0): a new string, the caller's to free. */
char		*reflect_num(double);
/* The run's candidate with that id (borrowed), or NULL. */
struct cand	*reflect_cand(const struct search *, int64_t id);

/*
 * The examples minibatches are drawn from (train, or dev without it):
 * borrowed from s, *n set to their number.
 */
const size_t	*reflect_pool(const struct search *, size_t *n);
/*
 * k distinct dataset examples from the minibatch pool, as search_draw()
 * draws positions.
 */
size_t		 reflect_minibatch_draw(struct search *, size_t k,
		    size_t *out);
/* k distinct dev examples, as above. */
size_t		 reflect_dev_draw(struct search *, size_t k, size_t *out);
/* The mean of the scores that are not NAN, or NAN. */
double		 reflect_mean(const struct search_score *, size_t n);

/* The known score of candidate id (opro, pe2), or NULL. */
struct rknown	*reflect_known(struct reflect *, int64_t id);
/* Knows c with its present dev mean (added, or updated). */
void		 reflect_know(struct reflect *, const struct cand *c);
/*
 * The means of a and b over the dev examples both are scored on, into
 * *ma and *mb (NAN when none); returns how many there are.
 */
size_t		 reflect_paired(const struct search *, const struct cand *a,
		    const struct cand *b, double *ma, double *mb);

/*
 * Records how c did against parent (both borrowed, only their ids are
 * kept), once per c; ignored without both or a score.
 */
void		 reflect_history_add(struct reflect *, const struct cand *c,
		    const struct cand *parent, double score,
		    double parent_score);
/*
 * The directional feedback block of a meta-prompt from the history: a
 * new string, the caller's to free.  attrs: scores as attributes of the
 * prompt elements; otherwise (shares of judge votes) in words.
 */
char		*reflect_history(struct search *, struct reflect *, int attrs);
/*
 * Examples ex[which[i]] (ex[i] when which is NULL) with the answers and
 * scores in res (borrowed) as tagged text inside <wrapper>, with the
 * metric's feedback when feedback is set: a new string, the caller's.
 */
char		*reflect_examples(struct search *, const char *wrapper,
		    const size_t *ex, const struct search_score *res,
		    const size_t *which, size_t n, int feedback);

/*
 * People's critiques of prompt c (reflect_human.c): the "human" block of
 * a critique or reflection meta-prompt, with at most "human_critiques"
 * of what people wrote of c's answers, ingested before the run started,
 * the latest first; "" (and n 0) when there are none or the parameter is
 * 0.  ids lists the interactions shown ("12, 9"), for the lineage note.
 * Returns 0, or -1 with *cause on a store error.
 */
struct rhuman {
	char		*block;
	char		*ids;		/* NULL when n is 0 */
	size_t		 n;
};
int		 reflect_human(struct search *, struct reflect *,
		    const struct cand *c, struct rhuman *, char **cause);
/*
 * The note, marked as written with people's critiques when some were
 * shown: a new string, the caller's to free (NULL for a NULL note when
 * none were).
 */
char		*reflect_human_note(const struct rhuman *, const char *note);
void		 reflect_human_release(struct rhuman *);

/* Appends c to the array *v of *n (grown; the cands are borrowed). */
void		 reflect_push(struct cand ***v, size_t *n, struct cand *c);
/*
 * Adds each of the n proposals in found as a candidate made by op from
 * parents, with note; frees found and its strings.  The new candidates
 * (borrowed from s) are appended to *out when out is not NULL.  Returns
 * 0, or -1 with *cause set when one could not be added.
 */
int		 reflect_add(struct search *, char **found, int n,
		    const char *op, struct cand **parents, size_t nparents,
		    const char *note, struct cand ***out, size_t *nout,
		    char **cause);
/*
 * Asks the optimizer n requests of template tmpl at once (search_ask_many
 * at the "temperature" parameter, each kept to max parts in tag, NULL:
 * "prompt"), rv[i] the variables of request i; returns the replies, for
 * the caller to free with reflect_asks_free(), or NULL on an error.
 */
struct search_ask	*reflect_ask(struct search *, const struct rvars *,
			    size_t n, const char *tmpl, const char *tag,
			    size_t max, char **cause);
/* Releases and frees n replies of reflect_ask() (NULL: none). */
void		 reflect_asks_free(struct search_ask *, size_t n);
/*
 * Scores the new proposals of a step on dev (opro, pe2): those of news
 * (reordered) that are not known yet and not parent, each once, and of
 * them those the surrogate filter lets through (search_screen()).  Each
 * one scored is known from then on and compared with parent (NULL:
 * none) on the dev examples both have; *best (when best is not NULL) is
 * the best of them, NULL when none was scored.  Returns 0, or -1.
 */
int		 reflect_score_new(struct search *, struct reflect *,
		    struct cand *parent, struct cand **news, size_t nnews,
		    struct cand **best, char **cause);
/* Marks c raced_out unless it is scored on all of dev (see reflect.c). */
void		 reflect_drop(struct search *, struct cand *c);

/* Whether id is in the beam or pool; adds it with its parents (0: none). */
int		 reflect_member(const struct reflect *, int64_t id);
void		 reflect_member_add(struct reflect *, int64_t id, int64_t p0,
		    int64_t p1);

#endif /* REFLECT_INT_H */
