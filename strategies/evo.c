/*
 * Evolutionary search (strategy "evo").
 *
 * variant "ga" is EvoPrompt's genetic algorithm (Guo et al., "Connecting
 * Large Language Models with Evolutionary Algorithms Yields Powerful
 * Prompt Optimizers"): parents are drawn by a roulette wheel weighted by
 * their dev scores, the optimizer crosses two parents over and mutates
 * the result in one meta-prompt, and the best members of parents and
 * children together survive.  variant "de" is its differential
 * evolution: for each member, the optimizer mutates the parts in which
 * two donors differ, combines them with the best member and crosses the
 * result with the member; the child replaces the member if it scores
 * better on the same dev examples.
 *
 * PromptBreeder's operators (Fernando et al., "Promptbreeder:
 * Self-Referential Self-Improvement via Prompt Evolution") can make a
 * share of the children instead: zero-order generation from the task
 * description, first-order mutation by a population of mutation prompts
 * that is itself evolved, and lineage-based mutation from the best
 * prompts of earlier generations.
 *
 * Step 0 fills the population with paraphrases of the seeds; each later
 * step is one generation.  Only candidates scored on the whole dev split
 * (not stopped by racing) are members of the population.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rng.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* Longer prompts from the optimizer are discarded. */

static const char *const evo_variants[] = { "ga", "de", NULL };

static const struct strategy_param evo_params[] = {
	{ "variant", PARAM_STRING, "\"ga\"", 0, 0, evo_variants,
	  "ga (roulette parents, crossover and mutation, top-k survivors) "
	  "or de (donors and the best; the child replaces a worse member)" },
	{ "population", PARAM_INT, "10", 2, 1000, NULL,
	  "members of the population" },
	{ "generations", PARAM_INT, "10", 1, 1000, NULL,
	  "generations after the initial population, one per step" },
	{ "temperature", PARAM_NUMBER, "0.5", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ "zero_order", PARAM_BOOL, "false", 0, 0, NULL,
	  "PromptBreeder zero-order generation from the task description" },
	{ "first_order", PARAM_BOOL, "false", 0, 0, NULL,
	  "PromptBreeder first-order mutation by evolved mutation prompts" },
	{ "lineage", PARAM_BOOL, "false", 0, 0, NULL,
	  "PromptBreeder lineage-based mutation from the best ancestors" },
	{ "operator_rate", PARAM_NUMBER, "0.5", 0, 1, NULL,
	  "share of children made by the enabled PromptBreeder operators" },
	{ "mutators", PARAM_INT, "4", 1, 8, NULL,
	  "mutation prompts kept for first-order mutation" },
	{ "history", PARAM_INT, "5", 1, 20, NULL,
	  "best ancestors shown to lineage-based mutation" },
	{ "demos", PARAM_INT, "3", 1, 50, NULL,
	  "input/output demos shown to zero-order generation" },
	SEARCH_SCREEN_PARAMS,
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

/* The mutation prompts first-order mutation starts from. */
static const char *const evo_mutators[] = {
	"Make a variant of the instruction that is clearer and more "
	"specific about what to do.",
	"Think about how the instruction could lead to wrong answers, and "
	"change it so that it avoids them.",
	"Rephrase the instruction in your own words without changing what "
	"it asks for.",
	"Add one short piece of advice that an expert would give for this "
	"task.",
	"Change the instruction so that it asks for the answer in exactly "
	"the form that is expected.",
	"Simplify the instruction: keep only what matters for getting the "
	"answer right.",
	"Imagine a careful expert doing this task. Rewrite the instruction "
	"the way that expert would explain it to a colleague.",
	"Change one part of the instruction that seems least helpful.",
};

enum evo_variant {
	EVO_GA,
	EVO_DE,
};

/* How a child is made. */
enum evo_op {
	OP_VARIANT,		/* ga-crossover or de */
	OP_ZERO,
	OP_FIRST,
	OP_LINEAGE,
};

struct evo_mutator {
	char	*text;
	int	 uses;		/* children it made */
	int	 wins;		/* children better than their parent */
};

struct evo_state {
	enum evo_variant	 variant;
	struct cand		**pop;
	size_t			  npop;
	struct evo_mutator	 *mut;
	size_t			  nmut;
	int			  generation;	/* generations done */
	/* After a resume: the candidates fully scored at the checkpoint. */
	int64_t			 *scored;
	size_t			  nscored;
};

/*
 * One child of a generation: the request that makes it (drawn first, so
 * that a generation's requests go to the optimizer together) and what
 * came of it.
 */
struct evo_child {
	struct cand	*c;		/* NULL when none came */
	struct cand	*parent;	/* compared with (first order, de) */
	int		 mutator;	/* -1 unless first order */
	const char	*op;		/* the lineage edges' operator */
	const char	*tmpl;		/* the meta-prompt */
	int		 last;		/* the reply's last prompt, or first */
	struct cand	**par;		/* its parents (allocated) */
	size_t		 npar;
	struct meta_var	 vars[5];
	size_t		 nvars;
	char		*own;		/* a variable's text (allocated) */
};

static int
evo_full(const struct search *s, const struct cand *c)
{
	return !c->raced_out && search_complete(s, c);
}

/* Better first; the older candidate breaks ties. */
static int
evo_cmp(const void *a, const void *b)
{
	const struct cand	*x = *(struct cand *const *)a;
	const struct cand	*y = *(struct cand *const *)b;

	if (x->mean > y->mean)
		return -1;
	if (x->mean < y->mean)
		return 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const char *
evo_task(const struct search *s)
{
	return s->task->description != NULL ? s->task->description :
	    "(not described)";
}

/*
 * Scores candidates on the whole dev split without racing.  Used for
 * those whose scores a resume's racing cut short: their calls were paid
 * before, so the cache answers them.
 */
static int
evo_score_fully(struct search *s, struct cand **v, size_t n, char **cause)
{
	size_t	i;
	int	racing = s->racing, rc;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		v[i]->raced_out = 0;
	s->racing = 0;
	rc = search_evaluate(s, v, n, cause);
	s->racing = racing;
	return rc;
}

/*
 * After a resume the runner races every known candidate again, which can
 * stop some that had been scored in full.  Restores those, so the run
 * continues exactly as it would have.
 */
static int
evo_restore(struct search *s, struct evo_state *st, char **cause)
{
	struct cand	**v, *c;
	size_t		  n = 0, i;
	int		  rc;

	if (st->scored == NULL)
		return 0;
	v = xcalloc(st->nscored + 1, sizeof *v);
	for (i = 0; i < st->nscored; i++)
		if ((c = search_cand_by_id(s, st->scored[i])) != NULL &&
		    !evo_full(s, c))
			v[n++] = c;
	rc = evo_score_fully(s, v, n, cause);
	free(v);
	free(st->scored);
	st->scored = NULL;
	st->nscored = 0;
	return rc;
}

/* A member drawn with odds proportional to its score (not skip). */
static size_t
evo_roulette(struct search *s, struct evo_state *st, size_t skip)
{
	double	total = 0, r, w;
	size_t	i, n = 0;

	for (i = 0; i < st->npop; i++) {
		if (i == skip)
			continue;
		n++;
		if (st->pop[i]->mean > 0)
			total += st->pop[i]->mean;
	}
	if (n == 0)
		return 0;
	if (total <= 0) {
		r = (double)rng_below(&s->rng, (uint32_t)n);
		for (i = 0; i < st->npop; i++) {
			if (i == skip)
				continue;
			if (r < 1)
				return i;
			r -= 1;
		}
	}
	r = rng_uniform(&s->rng) * total;
	for (i = 0; i < st->npop; i++) {
		if (i == skip)
			continue;
		w = st->pop[i]->mean > 0 ? st->pop[i]->mean : 0;
		if (r < w)
			return i;
		r -= w;
	}
	/* Rounding: the last member that could be drawn. */
	for (i = st->npop; i-- > 0; )
		if (i != skip)
			return i;
	return 0;
}

/* A prompt shown in a meta-prompt, with its score. */
static void
evo_tag(struct strbuf *sb, const struct cand *c)
{
	strbuf_addf(sb, "<prompt score=\"%.3f\">%s</prompt>\n", c->mean,
	    c->text);
}

/*
 * The one prompt evo takes from a reply, in *text (NULL when the reply
 * had none, or only one too long to use): the last of the reply when
 * last is set, else the first; the reply's rationale in *why.  The rest
 * of the reply is freed.
 */
static void
evo_take(struct search_ask *a, int last, char **text, char **why)
{
	int	k;

	*text = NULL;
	*why = a->rationale;
	a->rationale = NULL;
	if (a->n > 0) {
		/* Over-long prompts were already dropped by the reader. */
		k = last ? a->n - 1 : 0;
		*text = a->parts[k];
		a->parts[k] = NULL;
	}
	search_ask_release(a, 1);
}

/*
 * Adds the optimizer's prompt as a candidate (text NULL: none).  Its
 * origin is "evo", or the operator for one without parents.
 */
static int
evo_add(struct search *s, char *text, char *why, struct cand *const *parents,
    size_t nparents, const char *op, struct cand **out, char **cause)
{
	*out = NULL;
	if (text != NULL)
		*out = search_add(s, text, nparents > 0 ? "evo" : op, parents,
		    nparents, op, why, cause);
	free(why);
	if (text != NULL && *out == NULL) {
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* A variable of a child's request. */
static void
evo_var(struct evo_child *ch, const char *name, const char *value)
{
	ch->vars[ch->nvars].name = name;
	ch->vars[ch->nvars].value = value;
	ch->nvars++;
}

/*
 * The child's request: its template, the operator of its lineage edges,
 * its parents (copied) and its first variable, the task.
 */
static void
evo_request(struct search *s, struct evo_child *ch, const char *tmpl,
    const char *op, int last, struct cand *const *par, size_t npar)
{
	ch->tmpl = tmpl;
	ch->op = op;
	ch->last = last;
	ch->par = xcalloc(npar + 1, sizeof *ch->par);
	if (npar > 0)
		memcpy(ch->par, par, npar * sizeof *par);
	ch->npar = npar;
	evo_var(ch, "task", evo_task(s));
}

/*
 * Asks the optimizer for the requests of n children at once, for max
 * prompts each: (*out)[i] is child i's reply, the caller's to release
 * and free.
 */
static int
evo_ask(struct search *s, const struct evo_child *ch, size_t n, size_t max,
    struct search_ask **out, char **cause)
{
	struct search_ask	*a;
	size_t			 i;

	a = xcalloc(n + 1, sizeof *a);
	for (i = 0; i < n; i++) {
		a[i].name = ch[i].tmpl;
		a[i].vars = ch[i].vars;
		a[i].nvars = ch[i].nvars;
		a[i].temperature = search_number(s, "temperature");
		a[i].max = max;
	}
	if (search_ask_many(s, a, n, cause) != 0) {
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* Frees what the requests of n children hold. */
static void
evo_children_release(struct evo_child *ch, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(ch[i].par);
		free(ch[i].own);
	}
}

/* GA: roulette parents, crossover then mutation in one meta-prompt. */
static void
evo_ga_child(struct search *s, struct evo_state *st, struct evo_child *ch)
{
	struct cand	*par[2];
	size_t		 a, b;

	a = evo_roulette(s, st, (size_t)-1);
	b = st->npop > 1 ? evo_roulette(s, st, a) : a;
	par[0] = st->pop[a];
	par[1] = st->pop[b];
	evo_request(s, ch, "evo_ga", "ga-crossover", 1, par, 2);
	evo_var(ch, "prompt1", par[0]->text);
	evo_var(ch, "prompt2", par[1]->text);
}

/* DE: donors a and b, the best, crossed with member j. */
static void
evo_de_child(struct search *s, struct evo_state *st, size_t j,
    struct evo_child *ch)
{
	struct cand	*par[4], *best = st->pop[0];
	size_t		 i, a, b, n = st->npop;

	for (i = 1; i < n; i++)
		if (evo_cmp(&st->pop[i], &best) < 0)
			best = st->pop[i];
	/* Two distinct donors other than the member, when there are. */
	if (n >= 3) {
		a = rng_below(&s->rng, (uint32_t)(n - 1));
		if (a >= j)
			a++;
		do {
			b = rng_below(&s->rng, (uint32_t)(n - 1));
			if (b >= j)
				b++;
		} while (b == a);
	} else {
		a = rng_below(&s->rng, (uint32_t)n);
		b = rng_below(&s->rng, (uint32_t)n);
	}
	ch->parent = st->pop[j];
	par[0] = st->pop[j];
	par[1] = best;
	par[2] = st->pop[a];
	par[3] = st->pop[b];
	evo_request(s, ch, "evo_de", "de", 1, par, 4);
	evo_var(ch, "prompt", par[0]->text);
	evo_var(ch, "best", par[1]->text);
	evo_var(ch, "donor_a", par[2]->text);
	evo_var(ch, "donor_b", par[3]->text);
}

/* PromptBreeder zero-order: a new prompt from the task alone. */
static void
evo_zero_child(struct search *s, struct evo_child *ch)
{
	ch->own = search_demos(s, (size_t)search_int(s, "demos"));
	evo_request(s, ch, "pb_zero_order", "pb-zero-order", 0, NULL, 0);
	evo_var(ch, "demos", ch->own);
}

/* PromptBreeder first-order: a mutation prompt applied to the parent. */
static void
evo_first_child(struct search *s, struct evo_state *st, struct cand *parent,
    struct evo_child *ch)
{
	ch->parent = parent;
	ch->mutator = (int)rng_below(&s->rng, (uint32_t)st->nmut);
	evo_request(s, ch, "pb_first_order", "pb-first-order", 0, &parent, 1);
	evo_var(ch, "mutator", st->mut[ch->mutator].text);
	evo_var(ch, "prompt", parent->text);
}

/*
 * The elites: the best candidate of each generation that beat every
 * earlier one, oldest first, at most max (the latest).
 */
static size_t
evo_elites(struct search *s, struct cand ***out, size_t max)
{
	struct cand	**v = NULL, *g;
	size_t		  n = 0, i;
	int		  gen;

	for (gen = 0; gen <= s->step; gen++) {
		g = NULL;
		for (i = 0; i < s->ncands; i++) {
			if (s->cands[i]->generation != gen ||
			    !evo_full(s, s->cands[i]))
				continue;
			if (g == NULL || evo_cmp(&s->cands[i], &g) < 0)
				g = s->cands[i];
		}
		if (g == NULL || (n > 0 && g->mean <= v[n - 1]->mean))
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = g;
	}
	if (n > max) {
		memmove(v, v + (n - max), max * sizeof *v);
		n = max;
	}
	*out = v;
	return n;
}

/* PromptBreeder lineage-based: the elites in order, asked to go on. */
static void
evo_lineage_child(struct search *s, struct evo_state *st,
    struct evo_child *ch)
{
	struct strbuf	  sb;
	struct cand	**el;
	size_t		  n, i;

	n = evo_elites(s, &el, (size_t)search_int(s, "history"));
	if (n == 0) {
		el = xcalloc(1, sizeof *el);
		el[n++] = st->pop[0];
	}
	strbuf_init(&sb);
	for (i = 0; i < n; i++)
		evo_tag(&sb, el[i]);
	ch->own = strbuf_detach(&sb);
	evo_request(s, ch, "pb_lineage", "pb-lineage", 0, el, n);
	evo_var(ch, "history", ch->own);
	free(el);
}

/* The operator for the next child: the variant's or a PromptBreeder one. */
static enum evo_op
evo_pick(struct search *s)
{
	enum evo_op	ops[3];
	size_t		n = 0;

	if (search_bool(s, "zero_order"))
		ops[n++] = OP_ZERO;
	if (search_bool(s, "first_order"))
		ops[n++] = OP_FIRST;
	if (search_bool(s, "lineage"))
		ops[n++] = OP_LINEAGE;
	if (n == 0 || rng_uniform(&s->rng) >= search_number(s,
	    "operator_rate"))
		return OP_VARIANT;
	return ops[rng_below(&s->rng, (uint32_t)n)];
}

/* A mutation prompt's share of children that beat their parent. */
static double
evo_rate(const struct evo_mutator *m)
{
	return m->uses > 0 ? (double)m->wins / m->uses : 0;
}

/*
 * Evolves the mutation prompts: the one whose children fail most often
 * (tried twice at least, and winning less than half as often as the best)
 * is replaced by a mutated copy of the one with the best record.
 */
static int
evo_mutators_evolve(struct search *s, struct evo_state *st, char **cause)
{
	struct evo_child	 ch;
	struct search_ask	*a;
	struct evo_mutator	*lose = NULL, *win = NULL, *m;
	char			*text, *why;
	size_t			 i;
	int			 rc;

	for (i = 0; i < st->nmut; i++) {
		m = &st->mut[i];
		if (m->uses >= 2 && (lose == NULL || evo_rate(m) <
		    evo_rate(lose)))
			lose = m;
		if (m->wins > 0 && (win == NULL || evo_rate(m) >
		    evo_rate(win)))
			win = m;
	}
	if (lose == NULL || win == NULL || lose == win ||
	    evo_rate(lose) >= evo_rate(win) / 2)
		return 0;
	memset(&ch, 0, sizeof ch);
	evo_request(s, &ch, "pb_hyper", "pb-hyper", 0, NULL, 0);
	evo_var(&ch, "mutator", win->text);
	rc = evo_ask(s, &ch, 1, 16, &a, cause);
	evo_children_release(&ch, 1);
	if (rc != 0)
		return -1;
	evo_take(a, 0, &text, &why);
	free(a);
	free(why);
	free(lose->text);
	lose->text = text != NULL ? text : xstrdup(win->text);
	lose->uses = lose->wins = 0;
	log_debug("job '%s': mutation prompt replaced", s->task->name);
	return 0;
}

/*
 * One round of paraphrases of the seeds, asked for at once: what is
 * missing of the population is shared among the seeds as it would be if
 * each seed's paraphrases all came new.  (Seeds asked one after another
 * could share what the earlier ones left missing; now a seed that gives
 * less is made up for by the next round, and one that gives more does
 * not spare the later seeds' requests.)  New prompts join *pool.
 */
static int
evo_paraphrases(struct search *s, struct cand **seeds, size_t nseeds,
    size_t missing, struct cand ***pool, size_t *npool, char **cause)
{
	struct evo_child	*ch;
	struct search_ask	*a;
	struct cand		*c;
	size_t			 nch, count, i, k;
	int			 rc = 0;

	ch = xcalloc(nseeds + 1, sizeof *ch);
	for (nch = 0; nch < nseeds && missing > 0; nch++) {
		/* What is missing, shared by the seeds left. */
		count = (missing + nseeds - nch - 1) / (nseeds - nch);
		missing -= count;
		ch[nch].own = xasprintf("%zu", count);
		evo_request(s, &ch[nch], "evo_paraphrase", "paraphrase", 0,
		    &seeds[nch], 1);
		evo_var(&ch[nch], "prompt", seeds[nch]->text);
		evo_var(&ch[nch], "count", ch[nch].own);
	}
	if (evo_ask(s, ch, nch, 32, &a, cause) != 0) {
		evo_children_release(ch, nch);
		free(ch);
		return -1;
	}
	for (i = 0; i < nch; i++) {
		for (k = 0; rc == 0 && k < (size_t)a[i].n; k++) {
			if ((c = search_add(s, a[i].parts[k], "evo", ch[i].par,
			    1, "paraphrase", a[i].rationale, cause)) == NULL)
				rc = -1;
			else if (!search_has(seeds, nseeds, c) &&
			    !search_has(*pool, *npool, c)) {
				*pool = xreallocarray(*pool, *npool + 1,
				    sizeof **pool);
				(*pool)[(*npool)++] = c;
			}
		}
	}
	search_ask_release(a, nch);
	free(a);
	evo_children_release(ch, nch);
	free(ch);
	return rc;
}

/* Step 0: the seeds and paraphrases of them, up to the population. */
static int
evo_populate(struct search *s, struct evo_state *st, char **cause)
{
	struct cand	**pool = NULL, **seeds;
	size_t		  npool = 0, nseeds = s->ncands, want, i;
	size_t		  full = 0;
	int		  round;

	want = (size_t)search_int(s, "population");
	seeds = xcalloc(nseeds + 1, sizeof *seeds);
	for (i = 0; i < nseeds; i++) {
		seeds[i] = s->cands[i];
		if (evo_full(s, seeds[i]))
			full++;
	}
	for (round = 0; round < 2 && full + npool < want && nseeds > 0;
	    round++)
		if (evo_paraphrases(s, seeds, nseeds, want - full - npool,
		    &pool, &npool, cause) != 0)
			goto fail;
	if (search_evaluate(s, pool, npool, cause) != 0)
		goto fail;
	/* The members: the best of those scored in full. */
	st->pop = xcalloc(nseeds + npool + 1, sizeof *st->pop);
	for (i = 0; i < nseeds; i++)
		if (evo_full(s, seeds[i]))
			st->pop[st->npop++] = seeds[i];
	for (i = 0; i < npool; i++)
		if (evo_full(s, pool[i]))
			st->pop[st->npop++] = pool[i];
	qsort(st->pop, st->npop, sizeof *st->pop, evo_cmp);
	if (st->npop > want)
		st->npop = want;
	free(seeds);
	free(pool);
	return 0;
fail:
	free(seeds);
	free(pool);
	return -1;
}

/*
 * The children of a generation: how each is made is drawn with the
 * step's stream first, child by child, then the optimizer is asked for
 * all of them at once, and each is added in order; the new ones (not
 * members, each once) are appended to *eval.
 */
static int
evo_children(struct search *s, struct evo_state *st, struct evo_child *ch,
    size_t nch, struct cand ***eval, size_t *neval, char **cause)
{
	struct search_ask	*a;
	struct cand		*c;
	char			*text, *why;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < nch; i++) {
		ch[i].mutator = -1;
		switch (evo_pick(s)) {
		case OP_ZERO:
			evo_zero_child(s, &ch[i]);
			if (st->variant == EVO_DE)
				ch[i].parent = st->pop[i];
			break;
		case OP_FIRST:
			evo_first_child(s, st, st->variant == EVO_DE ?
			    st->pop[i] : st->pop[evo_roulette(s, st,
			    (size_t)-1)], &ch[i]);
			break;
		case OP_LINEAGE:
			evo_lineage_child(s, st, &ch[i]);
			if (st->variant == EVO_DE)
				ch[i].parent = st->pop[i];
			break;
		default:
			if (st->variant == EVO_GA)
				evo_ga_child(s, st, &ch[i]);
			else
				evo_de_child(s, st, i, &ch[i]);
			break;
		}
	}
	if (evo_ask(s, ch, nch, 16, &a, cause) != 0)
		return -1;
	for (i = 0; i < nch; i++) {
		evo_take(&a[i], ch[i].last, &text, &why);
		if (rc != 0) {
			free(text);
			free(why);
			continue;
		}
		if ((rc = evo_add(s, text, why, ch[i].par, ch[i].npar,
		    ch[i].op, &ch[i].c, cause)) != 0)
			continue;
		c = ch[i].c;
		if (c != NULL && !search_has(st->pop, st->npop, c) &&
		    !search_has(*eval, *neval, c)) {
			*eval = xreallocarray(*eval, *neval + 1, sizeof **eval);
			(*eval)[(*neval)++] = c;
		}
	}
	free(a);
	return rc;
}

/* One generation. */
static int
evo_generation(struct search *s, struct evo_state *st, char **cause)
{
	struct evo_child	 *ch;
	struct cand		**eval = NULL, **next, *c;
	size_t			  nch, neval = 0, nkeep, nnext = 0, i;
	int			  rc = -1;

	nch = st->variant == EVO_GA ? (size_t)search_int(s, "population") :
	    st->npop;
	ch = xcalloc(nch, sizeof *ch);
	if (evo_children(s, st, ch, nch, &eval, &neval, cause) != 0)
		goto out;
	/* The children the surrogate filter screens out are not members. */
	if (search_screen(s, eval, neval, &nkeep, cause) != 0 ||
	    search_evaluate(s, eval, nkeep, cause) != 0 ||
	    search_screen_done(s, cause) != 0)
		goto out;
	rc = 0;

	/* The mutation prompts' record. */
	for (i = 0; i < nch; i++) {
		if (ch[i].mutator < 0 || ch[i].c == NULL)
			continue;
		st->mut[ch[i].mutator].uses++;
		if (evo_full(s, ch[i].c) && ch[i].c->mean > ch[i].parent->mean)
			st->mut[ch[i].mutator].wins++;
	}

	next = xcalloc(st->npop + neval + 1, sizeof *next);
	if (st->variant == EVO_GA) {
		/* The best of parents and children survive. */
		for (i = 0; i < st->npop; i++)
			next[nnext++] = st->pop[i];
		for (i = 0; i < neval; i++)
			if (evo_full(s, eval[i]))
				next[nnext++] = eval[i];
		qsort(next, nnext, sizeof *next, evo_cmp);
		if (nnext > (size_t)search_int(s, "population"))
			nnext = (size_t)search_int(s, "population");
	} else {
		/* Each child replaces its member if it scores better. */
		for (i = 0; i < st->npop; i++) {
			c = ch[i].c;
			if (c != NULL && evo_full(s, c) &&
			    c->mean > st->pop[i]->mean &&
			    !search_has(st->pop, st->npop, c) &&
			    !search_has(next, nnext, c))
				next[nnext++] = c;
			else
				next[nnext++] = st->pop[i];
		}
	}
	free(st->pop);
	st->pop = next;
	st->npop = nnext;
	if (search_bool(s, "first_order"))
		rc = evo_mutators_evolve(s, st, cause);
out:
	evo_children_release(ch, nch);
	free(eval);
	free(ch);
	return rc;
}

static int
evo_init(struct search *s, char **cause)
{
	struct evo_state	*st;
	size_t			 i;

	st = xcalloc(1, sizeof *st);
	st->variant = strcmp(search_string(s, "variant"), "de") == 0 ?
	    EVO_DE : EVO_GA;
	st->nmut = (size_t)search_int(s, "mutators");
	st->mut = xcalloc(st->nmut, sizeof *st->mut);
	for (i = 0; i < st->nmut; i++)
		st->mut[i].text = xstrdup(evo_mutators[i %
		    nitems(evo_mutators)]);
	s->state = st;
	return 0;
}

static int
evo_step(struct search *s, char **cause)
{
	struct evo_state	*st = s->state;
	long long		 gens = search_int(s, "generations");

	if (evo_restore(s, st, cause) != 0)
		return -1;
	if (s->step > gens)
		return 0;
	if (s->step == 0) {
		if (evo_populate(s, st, cause) != 0)
			return -1;
		return 1;
	}
	if (st->npop == 0) {
		log_warnx("job '%s': the population is empty", s->task->name);
		return 0;
	}
	if (evo_generation(s, st, cause) != 0)
		return -1;
	st->generation = s->step;
	return s->step < gens ? 1 : 0;
}

static cJSON *
evo_save(struct search *s)
{
	struct evo_state	*st = s->state;
	cJSON			*o, *arr, *m;
	size_t			 i;

	o = cJSON_CreateObject();
	if ((m = search_screen_save(s)) != NULL)
		cJSON_AddItemToObject(o, "surrogate", m);
	cJSON_AddStringToObject(o, "variant", st->variant == EVO_DE ? "de" :
	    "ga");
	cJSON_AddNumberToObject(o, "generation", st->generation);
	arr = cJSON_AddArrayToObject(o, "population");
	for (i = 0; i < st->npop; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(
		    (double)st->pop[i]->id));
	arr = cJSON_AddArrayToObject(o, "mutators");
	for (i = 0; i < st->nmut; i++) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "text", st->mut[i].text);
		cJSON_AddNumberToObject(m, "uses", st->mut[i].uses);
		cJSON_AddNumberToObject(m, "wins", st->mut[i].wins);
		cJSON_AddItemToArray(arr, m);
	}
	arr = cJSON_AddArrayToObject(o, "scored");
	for (i = 0; i < s->ncands; i++)
		if (evo_full(s, s->cands[i]))
			cJSON_AddItemToArray(arr, cJSON_CreateNumber(
			    (double)s->cands[i]->id));
	return o;
}

static int
evo_load(struct search *s, const cJSON *o, char **cause)
{
	struct evo_state	*st;
	const cJSON		*v, *arr, *t;
	struct cand		*c;
	const char		*variant;
	size_t			 n;

	if (evo_init(s, cause) != 0)
		return -1;
	st = s->state;
	v = cJSON_GetObjectItemCaseSensitive(o, "variant");
	variant = cJSON_IsString(v) ? v->valuestring : "";
	if (strcmp(variant, search_string(s, "variant")) != 0)
		return cause_set(cause, "checkpoint: the run was a '%s' "
		    "search, the job now asks for '%s'", variant,
		    search_string(s, "variant"));
	if (search_screen_load(s, cJSON_GetObjectItemCaseSensitive(o,
	    "surrogate"), cause) != 0)
		return -1;
	st->generation = (int)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(o, "generation"));
	arr = cJSON_GetObjectItemCaseSensitive(o, "population");
	n = (size_t)cJSON_GetArraySize(arr);
	st->pop = xcalloc(n + 1, sizeof *st->pop);
	cJSON_ArrayForEach(v, arr) {
		if ((c = search_cand_by_id(s,
		    (int64_t)cJSON_GetNumberValue(v))) == NULL)
			return cause_set(cause, "checkpoint: population member "
			    "%.0f is not among the run's candidates",
			    cJSON_GetNumberValue(v));
		st->pop[st->npop++] = c;
	}
	arr = cJSON_GetObjectItemCaseSensitive(o, "mutators");
	if (cJSON_GetArraySize(arr) > 0) {
		n = 0;
		cJSON_ArrayForEach(v, arr) {
			t = cJSON_GetObjectItemCaseSensitive(v, "text");
			if (!cJSON_IsString(t) || n >= st->nmut)
				continue;
			free(st->mut[n].text);
			st->mut[n].text = xstrdup(t->valuestring);
			st->mut[n].uses = (int)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(v, "uses"));
			st->mut[n].wins = (int)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(v, "wins"));
			n++;
		}
	}
	arr = cJSON_GetObjectItemCaseSensitive(o, "scored");
	st->scored = xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	    sizeof *st->scored);
	cJSON_ArrayForEach(v, arr)
		st->scored[st->nscored++] = (int64_t)cJSON_GetNumberValue(v);
	return 0;
}

static void
evo_free(struct search *s)
{
	struct evo_state	*st = s->state;
	size_t			 i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nmut; i++)
		free(st->mut[i].text);
	free(st->mut);
	free(st->pop);
	free(st->scored);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_evo_ops = {
	.name = "evo",
	.params = evo_params,
	.init = evo_init,
	.step = evo_step,
	.save = evo_save,
	.load = evo_load,
	.free = evo_free,
};
