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

/* One child of a generation. */
struct evo_child {
	struct cand	*c;		/* NULL when none came */
	struct cand	*parent;	/* compared with (first order, de) */
	int		 mutator;	/* -1 unless first order */
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

static struct cand *
evo_find(const struct search *s, int64_t id)
{
	size_t	i;

	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->id == id)
			return s->cands[i];
	return NULL;
}

static int
evo_has(struct cand *const *v, size_t n, const struct cand *c)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i] == c)
			return 1;
	return 0;
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
		if ((c = evo_find(s, st->scored[i])) != NULL &&
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
 * Asks the optimizer with a template and returns one prompt in *text
 * (NULL when the reply had none, or only one too long to use): the last
 * of the reply when last is set, else the first.
 */
static int
evo_ask(struct search *s, const char *tmpl, const struct meta_var *vars,
    size_t nvars, int last, char **text, char **why, char **cause)
{
	char	**found;
	int	  n, i, k;

	*text = NULL;
	*why = NULL;
	n = search_ask(s, tmpl, vars, nvars, search_number(s, "temperature"),
	    16, &found, why, cause);
	if (n < 0)
		return -1;
	if (n > 0) {
		/* Over-long prompts were already dropped by search_ask(). */
		k = last ? n - 1 : 0;
		*text = found[k];
		found[k] = NULL;
	}
	for (i = 0; i < n; i++)
		free(found[i]);
	free(found);
	return 0;
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

/* GA: roulette parents, crossover then mutation in one meta-prompt. */
static int
evo_ga_child(struct search *s, struct evo_state *st, struct evo_child *ch,
    char **cause)
{
	struct meta_var	 vars[3];
	struct cand	*par[2];
	char		*text, *why;
	size_t		 a, b;

	a = evo_roulette(s, st, (size_t)-1);
	b = st->npop > 1 ? evo_roulette(s, st, a) : a;
	par[0] = st->pop[a];
	par[1] = st->pop[b];
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "prompt1";
	vars[1].value = par[0]->text;
	vars[2].name = "prompt2";
	vars[2].value = par[1]->text;
	if (evo_ask(s, "evo_ga", vars, 3, 1, &text, &why, cause) != 0)
		return -1;
	return evo_add(s, text, why, par, 2, "ga-crossover", &ch->c, cause);
}

/* DE: donors a and b, the best, crossed with member j. */
static int
evo_de_child(struct search *s, struct evo_state *st, size_t j,
    struct evo_child *ch, char **cause)
{
	struct meta_var	 vars[5];
	struct cand	*par[4], *best = st->pop[0];
	char		*text, *why;
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
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "prompt";
	vars[1].value = par[0]->text;
	vars[2].name = "best";
	vars[2].value = par[1]->text;
	vars[3].name = "donor_a";
	vars[3].value = par[2]->text;
	vars[4].name = "donor_b";
	vars[4].value = par[3]->text;
	if (evo_ask(s, "evo_de", vars, 5, 1, &text, &why, cause) != 0)
		return -1;
	return evo_add(s, text, why, par, 4, "de", &ch->c, cause);
}

/* PromptBreeder zero-order: a new prompt from the task alone. */
static int
evo_zero_child(struct search *s, struct evo_child *ch, char **cause)
{
	struct meta_var	 vars[2];
	char		*demos, *text, *why;
	int		 rc;

	demos = search_demos(s, (size_t)search_int(s, "demos"));
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "demos";
	vars[1].value = demos;
	rc = evo_ask(s, "pb_zero_order", vars, 2, 0, &text, &why, cause);
	free(demos);
	if (rc != 0)
		return -1;
	return evo_add(s, text, why, NULL, 0, "pb-zero-order", &ch->c, cause);
}

/* PromptBreeder first-order: a mutation prompt applied to the parent. */
static int
evo_first_child(struct search *s, struct evo_state *st, struct cand *parent,
    struct evo_child *ch, char **cause)
{
	struct meta_var	 vars[3];
	char		*text, *why;

	ch->parent = parent;
	ch->mutator = (int)rng_below(&s->rng, (uint32_t)st->nmut);
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "mutator";
	vars[1].value = st->mut[ch->mutator].text;
	vars[2].name = "prompt";
	vars[2].value = parent->text;
	if (evo_ask(s, "pb_first_order", vars, 3, 0, &text, &why, cause) != 0)
		return -1;
	return evo_add(s, text, why, &parent, 1, "pb-first-order", &ch->c,
	    cause);
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
static int
evo_lineage_child(struct search *s, struct evo_state *st,
    struct evo_child *ch, char **cause)
{
	struct meta_var	  vars[2];
	struct strbuf	  sb;
	struct cand	**el;
	char		 *text, *why, *hist;
	size_t		  n, i;
	int		  rc;

	n = evo_elites(s, &el, (size_t)search_int(s, "history"));
	if (n == 0) {
		el = xcalloc(1, sizeof *el);
		el[n++] = st->pop[0];
	}
	strbuf_init(&sb);
	for (i = 0; i < n; i++)
		evo_tag(&sb, el[i]);
	hist = strbuf_detach(&sb);
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "history";
	vars[1].value = hist;
	rc = evo_ask(s, "pb_lineage", vars, 2, 0, &text, &why, cause);
	free(hist);
	if (rc == 0)
		rc = evo_add(s, text, why, el, n, "pb-lineage", &ch->c, cause);
	free(el);
	return rc;
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
	struct meta_var	 vars[2];
	struct evo_mutator *lose = NULL, *win = NULL, *m;
	char		*text, *why;
	size_t		 i;

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
	vars[0].name = "task";
	vars[0].value = evo_task(s);
	vars[1].name = "mutator";
	vars[1].value = win->text;
	if (evo_ask(s, "pb_hyper", vars, 2, 0, &text, &why, cause) != 0)
		return -1;
	free(why);
	free(lose->text);
	lose->text = text != NULL ? text : xstrdup(win->text);
	lose->uses = lose->wins = 0;
	log_debug("job '%s': mutation prompt replaced", s->task->name);
	return 0;
}

/* Step 0: the seeds and paraphrases of them, up to the population. */
static int
evo_populate(struct search *s, struct evo_state *st, char **cause)
{
	struct meta_var	  vars[3];
	struct cand	**pool = NULL, **seeds, *c;
	char		**found, *why, count[32];
	size_t		  npool = 0, nseeds = s->ncands, want, i, k;
	size_t		  full = 0;
	int		  n, round;

	want = (size_t)search_int(s, "population");
	seeds = xcalloc(nseeds + 1, sizeof *seeds);
	for (i = 0; i < nseeds; i++) {
		seeds[i] = s->cands[i];
		if (evo_full(s, seeds[i]))
			full++;
	}
	for (round = 0; round < 2 && full + npool < want && nseeds > 0;
	    round++) {
		for (i = 0; i < nseeds && full + npool < want; i++) {
			/* What is missing, shared by the seeds left. */
			snprintf(count, sizeof count, "%zu", (want - full -
			    npool + nseeds - i - 1) / (nseeds - i));
			vars[0].name = "task";
			vars[0].value = evo_task(s);
			vars[1].name = "prompt";
			vars[1].value = seeds[i]->text;
			vars[2].name = "count";
			vars[2].value = count;
			n = search_ask(s, "evo_paraphrase", vars, 3,
			    search_number(s, "temperature"), 32, &found, &why,
			    cause);
			if (n < 0)
				goto fail;
			for (k = 0; k < (size_t)n; k++) {
				c = NULL;
				if ((c = search_add(s, found[k], "evo",
				    &seeds[i], 1, "paraphrase", why,
				    cause)) == NULL) {
					while (k < (size_t)n)
						free(found[k++]);
					free(found);
					free(why);
					goto fail;
				}
				if (c != NULL && !evo_has(seeds, nseeds, c) &&
				    !evo_has(pool, npool, c)) {
					pool = xreallocarray(pool, npool + 1,
					    sizeof *pool);
					pool[npool++] = c;
				}
				free(found[k]);
			}
			free(found);
			free(why);
		}
	}
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

/* One generation. */
static int
evo_generation(struct search *s, struct evo_state *st, char **cause)
{
	struct evo_child	 *ch;
	struct cand		**eval = NULL, **next, *c;
	size_t			  nch, neval = 0, nnext = 0, i;
	int			  rc = -1;

	nch = st->variant == EVO_GA ? (size_t)search_int(s, "population") :
	    st->npop;
	ch = xcalloc(nch, sizeof *ch);
	for (i = 0; i < nch; i++) {
		ch[i].mutator = -1;
		switch (evo_pick(s)) {
		case OP_ZERO:
			rc = evo_zero_child(s, &ch[i], cause);
			if (st->variant == EVO_DE)
				ch[i].parent = st->pop[i];
			break;
		case OP_FIRST:
			rc = evo_first_child(s, st, st->variant == EVO_DE ?
			    st->pop[i] : st->pop[evo_roulette(s, st,
			    (size_t)-1)], &ch[i], cause);
			break;
		case OP_LINEAGE:
			rc = evo_lineage_child(s, st, &ch[i], cause);
			if (st->variant == EVO_DE)
				ch[i].parent = st->pop[i];
			break;
		default:
			rc = st->variant == EVO_GA ? evo_ga_child(s, st,
			    &ch[i], cause) : evo_de_child(s, st, i, &ch[i],
			    cause);
			break;
		}
		if (rc != 0)
			goto out;
		c = ch[i].c;
		if (c != NULL && !evo_has(st->pop, st->npop, c) &&
		    !evo_has(eval, neval, c)) {
			eval = xreallocarray(eval, neval + 1, sizeof *eval);
			eval[neval++] = c;
		}
	}
	if ((rc = search_evaluate(s, eval, neval, cause)) != 0)
		goto out;

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
			    !evo_has(st->pop, st->npop, c) &&
			    !evo_has(next, nnext, c))
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
	st->generation = (int)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(o, "generation"));
	arr = cJSON_GetObjectItemCaseSensitive(o, "population");
	n = (size_t)cJSON_GetArraySize(arr);
	st->pop = xcalloc(n + 1, sizeof *st->pop);
	cJSON_ArrayForEach(v, arr) {
		if ((c = evo_find(s, (int64_t)cJSON_GetNumberValue(v))) ==
		    NULL)
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
