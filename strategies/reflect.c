/*
 * reflect: strategies in which the optimizer reads how prompts did and
 * writes better ones.  One strategy, four modes:
 *
 *	protegi	textual gradients (Pryzant et al., "Automatic Prompt
 *		Optimization with 'Gradient Descent' and Beam Search"): the
 *		beam is scored on a minibatch, the optimizer writes critiques
 *		of each prompt from samples of its errors, each critique is
 *		applied as an edit, paraphrases add Monte Carlo neighbours,
 *		and a bandit over minibatches (UCB or successive rejects)
 *		picks the next beam.
 *	gepa	reflective evolution on a Pareto front (Agrawal et al.,
 *		"GEPA"): a parent is drawn in proportion to the dev examples
 *		on which it is among the best, the optimizer rewrites it from
 *		a minibatch of its answers with the metric's feedback, and
 *		the child is kept only if it beats the parent on that
 *		minibatch; then it is scored on all of dev.  Optionally two
 *		unrelated lineages are merged.
 *	opro	optimization by prompting (Yang et al., "Large Language
 *		Models as Optimizers"): the best earlier prompts with their
 *		scores in ascending order and a few exemplars, several
 *		proposals a step at a high temperature.
 *	spo	self-supervised prompt optimization (Xiang et al.): no
 *		labels; the champion and a challenger answer the same few
 *		inputs, the judge compares the answers in both orders over
 *		several rounds, and the winner is rewritten next.
 *
 * Every mode gives directional feedback: a proposal is compared with its
 * parent on the same examples, and the meta-prompts show earlier
 * proposals that did better and ones that did worse, with their scores.
 *
 * Candidates a mode drops after a minibatch (a child that lost, a
 * challenger the judge rejected) are marked raced_out, so that neither
 * the champion pick nor a resumed run scores them on all of dev.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "job.h"
#include "judge.h"
#include "log.h"
#include "store.h"
#include "strategy.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

enum reflect_mode {
	REFLECT_PROTEGI,
	REFLECT_GEPA,
	REFLECT_OPRO,
	REFLECT_SPO,
};

static const char *const reflect_modes[] = {
	"protegi", "gepa", "opro", "spo", NULL
};
static const char *const reflect_bandits[] = { "ucb", "sr", NULL };

static const struct strategy_param reflect_params[] = {
	{ "mode", PARAM_STRING, "\"protegi\"", 0, 0, reflect_modes,
	  "protegi, gepa, opro or spo" },
	{ "steps", PARAM_INT, "0", 0, 100000, NULL,
	  "steps to run (0: 6 for protegi, 10 for the others)" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ "history", PARAM_INT, "3", 0, 50, NULL,
	  "earlier better and worse proposals shown in each meta-prompt" },
	{ "minibatch", PARAM_INT, "0", 0, 100000, NULL,
	  "examples per minibatch (0: 32 for protegi, 3 for gepa and spo)" },
	{ "beam", PARAM_INT, "4", 1, 100, NULL,
	  "protegi: prompts kept from one step to the next" },
	{ "gradients", PARAM_INT, "4", 1, 32, NULL,
	  "protegi: critique requests per beam prompt" },
	{ "errors", PARAM_INT, "4", 1, 50, NULL,
	  "protegi: errors shown in each critique request" },
	{ "critiques", PARAM_INT, "1", 1, 16, NULL,
	  "protegi: critiques asked for in each request" },
	{ "edits", PARAM_INT, "1", 1, 16, NULL,
	  "protegi: new prompts written from each critique" },
	{ "paraphrases", PARAM_INT, "2", 0, 16, NULL,
	  "protegi: paraphrases of each edited prompt" },
	{ "expansion", PARAM_INT, "8", 1, 1000, NULL,
	  "protegi: at most this many new prompts per beam prompt" },
	{ "bandit", PARAM_STRING, "\"ucb\"", 0, 0, reflect_bandits,
	  "protegi: how the next beam is chosen: ucb or sr" },
	{ "bandit_rounds", PARAM_INT, "8", 1, 1000, NULL,
	  "protegi: bandit rounds (with arms and samples, the budget)" },
	{ "bandit_arms", PARAM_INT, "8", 1, 1000, NULL,
	  "protegi: prompts scored in each UCB round" },
	{ "bandit_samples", PARAM_INT, "8", 1, 100000, NULL,
	  "protegi: examples drawn in each UCB round" },
	{ "ucb_c", PARAM_NUMBER, "1.0", 0, 100, NULL,
	  "protegi: the UCB exploration weight" },
	{ "proposals", PARAM_INT, "0", 0, 1000, NULL,
	  "proposals per step (0: 4 for gepa, 8 for opro)" },
	{ "merge", PARAM_BOOL, "false", 0, 0, NULL,
	  "gepa: also try merging two unrelated lineages" },
	{ "shown", PARAM_INT, "20", 1, 1000, NULL,
	  "opro: best earlier prompts shown with their scores" },
	{ "exemplars", PARAM_INT, "3", 0, 50, NULL,
	  "opro: input and output exemplars shown" },
	{ "per_ask", PARAM_INT, "1", 1, 32, NULL,
	  "opro: proposals asked for in one request" },
	{ "judge_rounds", PARAM_INT, "4", 1, 32, NULL,
	  "spo: judging rounds, alternating the order shown" },
	{ "judge_temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "spo: the judge's sampling temperature" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

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

struct reflect {
	enum reflect_mode	 mode;
	struct rmember		*set;
	size_t			 nset;
	struct rhist		*hist;
	size_t			 nhist;
	struct rknown		*known;
	size_t			 nknown;
	int64_t			 champion;	/* spo */
	double			 share;		/* spo: its share of votes */
	char			*feedback;	/* spo: the judge's remarks */
};

/* A growing list of meta-prompt variables. */
struct rvars {
	struct meta_var	 v[16];
	size_t		 n;
};

static void
rvars_set(struct rvars *rv, const char *name, const char *value)
{
	if (rv->n >= nitems(rv->v))
		fatalx("reflect: too many meta-prompt variables");
	rv->v[rv->n].name = name;
	rv->v[rv->n].value = value;
	rv->n++;
}

static enum reflect_mode
reflect_mode_of(const struct search *s)
{
	const char	*m = search_string(s, "mode");
	int		 i;

	for (i = 0; reflect_modes[i] != NULL; i++)
		if (strcmp(reflect_modes[i], m) == 0)
			return (enum reflect_mode)i;
	return REFLECT_PROTEGI;
}

static long long
reflect_steps(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "steps");

	if (n > 0)
		return n;
	return st->mode == REFLECT_PROTEGI ? 6 : 10;
}

static size_t
reflect_minibatch(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "minibatch");

	if (n > 0)
		return (size_t)n;
	return st->mode == REFLECT_PROTEGI ? 32 : 3;
}

static size_t
reflect_proposals(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "proposals");

	if (n > 0)
		return (size_t)n;
	return st->mode == REFLECT_OPRO ? 8 : 4;
}

static const char *
reflect_task(const struct search *s)
{
	return s->job->description != NULL ? s->job->description :
	    "(not described)";
}

/* "1 prompt", "4 prompts": the sim and people read the count. */
static char *
reflect_count(size_t n, const char *noun)
{
	return xasprintf("%zu %s%s", n, noun, n == 1 ? "" : "s");
}

static char *
reflect_num(double x)
{
	return xasprintf("%.3f", isnan(x) ? 0.0 : x);
}

static struct cand *
reflect_cand(const struct search *s, int64_t id)
{
	size_t	i;

	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->id == id)
			return s->cands[i];
	return NULL;
}

/* The examples minibatches are drawn from: train, or dev without it. */
static const size_t *
reflect_pool(const struct search *s, size_t *n)
{
	if (s->ntrain > 0) {
		*n = s->ntrain;
		return s->train;
	}
	*n = s->ndev;
	return s->dev;
}

/* k distinct positions in [0, n), drawn from the step's stream. */
static size_t
reflect_draw(struct search *s, size_t n, size_t k, size_t *out)
{
	size_t	*perm, i, j, t;

	if (k > n)
		k = n;
	perm = xcalloc(n + 1, sizeof *perm);
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = 0; i < k; i++) {
		j = i + rng_below(&s->rng, (uint32_t)(n - i));
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		out[i] = perm[i];
	}
	free(perm);
	return k;
}

/* k distinct dataset examples from the minibatch pool. */
static size_t
reflect_minibatch_draw(struct search *s, size_t k, size_t *out)
{
	const size_t	*pool;
	size_t		 npool, i;

	pool = reflect_pool(s, &npool);
	k = reflect_draw(s, npool, k, out);
	for (i = 0; i < k; i++)
		out[i] = pool[out[i]];
	return k;
}

static double
reflect_mean(const struct search_score *r, size_t n)
{
	double	sum = 0;
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (isnan(r[i].score))
			continue;
		sum += r[i].score;
		k++;
	}
	return k > 0 ? sum / (double)k : NAN;
}

/* Means of a and b over the dev examples both are scored on. */
static size_t
reflect_paired(const struct search *s, const struct cand *a,
    const struct cand *b, double *ma, double *mb)
{
	double	sa = 0, sb = 0;
	size_t	i, n = 0;

	for (i = 0; i < s->ndev; i++) {
		if (isnan(a->scores[i]) || isnan(b->scores[i]))
			continue;
		sa += a->scores[i];
		sb += b->scores[i];
		n++;
	}
	*ma = n > 0 ? sa / (double)n : NAN;
	*mb = n > 0 ? sb / (double)n : NAN;
	return n;
}

static void
reflect_history_add(struct reflect *st, const struct cand *c,
    const struct cand *parent, double score, double parent_score)
{
	struct rhist	*h;
	size_t		 i;

	if (c == NULL || parent == NULL || c == parent || isnan(score) ||
	    isnan(parent_score))
		return;
	for (i = 0; i < st->nhist; i++)
		if (st->hist[i].id == c->id)
			return;
	st->hist = xreallocarray(st->hist, st->nhist + 1, sizeof *st->hist);
	h = &st->hist[st->nhist++];
	h->id = c->id;
	h->parent = parent->id;
	h->score = score;
	h->parent_score = parent_score;
	h->better = score > parent_score;
}

/*
 * The directional feedback block: recent proposals that beat their parent
 * and recent ones that did not, each with its score and its parent's on
 * the same examples.  With attrs the scores are attributes of the prompt
 * elements; otherwise (spo, where they are shares of judge votes) they
 * are said in words.
 */
static char *
reflect_history(struct search *s, struct reflect *st, int attrs)
{
	struct strbuf	 sb;
	struct cand	*c;
	size_t		 max = (size_t)search_int(s, "history"), n, i;
	int		 better;

	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	if (max == 0)
		return strbuf_detach(&sb);
	for (better = 1; better >= 0; better--) {
		n = 0;
		for (i = st->nhist; i > 0 && n < max; i--) {
			if (st->hist[i - 1].better != better ||
			    (c = reflect_cand(s, st->hist[i - 1].id)) == NULL)
				continue;
			if (n++ == 0)
				strbuf_adds(&sb, better ?
				    "Earlier changes that did better than the "
				    "prompt they were made from, on the same "
				    "examples" :
				    "Earlier changes that did no better than "
				    "the prompt they were made from, on the "
				    "same examples (avoid repeating them)");
			if (n == 1)
				strbuf_adds(&sb, attrs ? "; score is the "
				    "change's score and before the score of "
				    "the prompt it was made from:\n" : ":\n");
			if (attrs)
				strbuf_addf(&sb, "<prompt score=\"%.3f\" "
				    "before=\"%.3f\">%s</prompt>\n",
				    st->hist[i - 1].score,
				    st->hist[i - 1].parent_score, c->text);
			else
				strbuf_addf(&sb, "Won %.0f%% of the votes "
				    "against the prompt it was made from:\n"
				    "<prompt>%s</prompt>\n",
				    100 * st->hist[i - 1].score, c->text);
		}
		if (n > 0)
			strbuf_addc(&sb, '\n');
	}
	return strbuf_detach(&sb);
}

/*
 * Examples as tagged text for a meta-prompt: input, the answer given,
 * the expected answer (when the task has targets) and the metric's
 * feedback or the score.
 */
static char *
reflect_examples(struct search *s, const char *wrapper, const size_t *ex,
    const struct search_score *res, const size_t *which, size_t n,
    int feedback)
{
	struct strbuf	 sb;
	char		*input, *expected;
	size_t		 i, j;

	strbuf_init(&sb);
	strbuf_addf(&sb, "<%s>\n", wrapper);
	for (i = 0; i < n; i++) {
		j = which != NULL ? which[i] : i;
		input = search_input(s, ex[j]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n<output>%s"
		    "</output>\n", input, res[j].output != NULL ?
		    res[j].output : "");
		free(input);
		if (s->job->task.target != NULL) {
			expected = search_expected(s, ex[j]);
			strbuf_addf(&sb, "<expected>%s</expected>\n", expected);
			free(expected);
		}
		if (feedback && res[j].feedback != NULL)
			strbuf_addf(&sb, "<feedback>%s</feedback>\n",
			    res[j].feedback);
		else if (feedback)
			strbuf_addf(&sb, "<feedback>score %.2f out of 1"
			    "</feedback>\n", res[j].score);
		strbuf_adds(&sb, "</example>\n");
	}
	strbuf_addf(&sb, "</%s>", wrapper);
	return strbuf_detach(&sb);
}

/* Adds each proposal as a candidate; out collects the new ones. */
static int
reflect_add(struct search *s, char **found, int n, const char *op,
    struct cand **parents, size_t nparents, const char *note,
    struct cand ***out, size_t *nout, char **cause)
{
	struct cand	*c;
	int		 i, rc = 0;

	for (i = 0; i < n; i++) {
		if (rc == 0) {
			c = search_add(s, found[i], op, parents, nparents, op,
			    note, cause);
			if (c == NULL)
				rc = -1;
			else if (out != NULL) {
				*out = xreallocarray(*out, *nout + 1,
				    sizeof **out);
				(*out)[(*nout)++] = c;
			}
		}
		free(found[i]);
	}
	free(found);
	return rc;
}

/* Scores cands on every dev example (no racing: they all must be). */
static int
reflect_full(struct search *s, struct cand **cands, size_t n, char **cause)
{
	int	racing = s->racing, rc;
	size_t	i;

	for (i = 0; i < n; i++)
		cands[i]->raced_out = 0;
	s->racing = 0;
	rc = search_evaluate(s, cands, n, cause);
	s->racing = racing;
	return rc;
}

/* Drops a candidate that lost on a minibatch (see the top comment). */
static void
reflect_drop(struct search *s, struct cand *c)
{
	if (!search_complete(s, c))
		c->raced_out = 1;
}

static int
reflect_member(const struct reflect *st, int64_t id)
{
	size_t	i;

	for (i = 0; i < st->nset; i++)
		if (st->set[i].id == id)
			return 1;
	return 0;
}

static void
reflect_member_add(struct reflect *st, int64_t id, int64_t p0, int64_t p1)
{
	st->set = xreallocarray(st->set, st->nset + 1, sizeof *st->set);
	st->set[st->nset].id = id;
	st->set[st->nset].parents[0] = p0;
	st->set[st->nset].parents[1] = p1;
	st->nset++;
}

/*
 * protegi.
 */

/* A prompt in the bandit: its scores on the pool's examples. */
struct arm {
	struct cand	*c;
	struct cand	*parent;	/* NULL for beam prompts */
	double		*sc;		/* per pool position, NAN unknown */
	size_t		 n;
	double		 sum;
};

static double
arm_mean(const struct arm *a)
{
	return a->n > 0 ? a->sum / (double)a->n : -1;
}

/* Scores the chosen arms on the chosen pool positions. */
static int
arms_score(struct search *s, struct arm *arms, const size_t *which,
    size_t nwhich, const size_t *pos, size_t npos, char **cause)
{
	const size_t		*pool;
	struct search_score	*res;
	struct cand		**cands;
	size_t			*ex, npool, i, j;
	struct arm		*a;
	int			 rc;

	if (nwhich == 0 || npos == 0)
		return 0;
	pool = reflect_pool(s, &npool);
	cands = xcalloc(nwhich, sizeof *cands);
	ex = xcalloc(npos, sizeof *ex);
	for (i = 0; i < nwhich; i++)
		cands[i] = arms[which[i]].c;
	for (j = 0; j < npos; j++)
		ex[j] = pool[pos[j]];
	res = xcalloc(nwhich * npos, sizeof *res);
	rc = search_score_on(s, cands, nwhich, ex, npos, res, cause);
	for (i = 0; rc == 0 && i < nwhich; i++) {
		a = &arms[which[i]];
		for (j = 0; j < npos; j++) {
			if (isnan(res[i * npos + j].score) ||
			    !isnan(a->sc[pos[j]]))
				continue;
			a->sc[pos[j]] = res[i * npos + j].score;
			a->sum += a->sc[pos[j]];
			a->n++;
		}
	}
	search_scores_release(res, nwhich * npos);
	free(res);
	free(ex);
	free(cands);
	return rc;
}

static int
arm_cmp_desc(const void *va, const void *vb)
{
	const struct arm *const	*a = va, *const *b = vb;
	double			 ma = arm_mean(*a), mb = arm_mean(*b);

	if (ma != mb)
		return ma > mb ? -1 : 1;
	return *a < *b ? -1 : *a > *b;	/* pool order */
}

/* UCB over minibatches: rounds of the arms with the highest bounds. */
static int
bandit_ucb(struct search *s, struct arm *arms, size_t narms, char **cause)
{
	size_t	 rounds = (size_t)search_int(s, "bandit_rounds");
	size_t	 k = (size_t)search_int(s, "bandit_arms");
	size_t	 m = (size_t)search_int(s, "bandit_samples");
	double	 c = search_number(s, "ucb_c"), *ucb, best;
	size_t	*which, *pos, npool, npos, t, i, j, b;
	int	*taken;

	(void)reflect_pool(s, &npool);
	if (k > narms)
		k = narms;
	which = xcalloc(k + 1, sizeof *which);
	pos = xcalloc(m + 1, sizeof *pos);
	ucb = xcalloc(narms, sizeof *ucb);
	taken = xcalloc(narms, sizeof *taken);
	for (t = 0; t < rounds; t++) {
		for (i = 0; i < narms; i++) {
			ucb[i] = arm_mean(&arms[i]) + c * sqrt(log((double)t +
			    2) / ((double)arms[i].n + 1e-3));
			taken[i] = 0;
		}
		/* The k highest bounds; ties go to the earlier arm. */
		for (j = 0; j < k; j++) {
			b = narms;
			best = -INFINITY;
			for (i = 0; i < narms; i++)
				if (!taken[i] && ucb[i] > best) {
					best = ucb[i];
					b = i;
				}
			taken[b] = 1;
			which[j] = b;
		}
		npos = reflect_draw(s, npool, m, pos);
		if (arms_score(s, arms, which, k, pos, npos, cause) != 0)
			goto fail;
	}
	free(which);
	free(pos);
	free(ucb);
	free(taken);
	return 0;
fail:
	free(which);
	free(pos);
	free(ucb);
	free(taken);
	return -1;
}

/*
 * Successive rejects (Audibert and Bubeck) within the same budget as UCB:
 * in each phase every arm left is scored on fresh examples and the worst
 * is rejected, until the beam is left.
 */
static int
bandit_sr(struct search *s, struct arm *arms, size_t narms, size_t beam,
    char **cause)
{
	double	 budget, logbar, nk, prev = 0;
	size_t	*alive, *pos, nalive = narms, npool, npos, K, k, i, worst;

	if (narms <= beam)
		return 0;
	(void)reflect_pool(s, &npool);
	budget = (double)search_int(s, "bandit_rounds") *
	    (double)search_int(s, "bandit_arms") *
	    (double)search_int(s, "bandit_samples");
	K = narms - beam;
	logbar = 0.5;
	for (i = 2; i <= K; i++)
		logbar += 1.0 / (double)i;
	alive = xcalloc(narms, sizeof *alive);
	pos = xcalloc(npool + 1, sizeof *pos);
	for (i = 0; i < narms; i++)
		alive[i] = i;
	for (k = 1; nalive > beam; k++) {
		nk = ceil((budget - (double)K) / (logbar * (double)(K + 1 -
		    (k <= K ? k : K))));
		npos = nk - prev >= 1 ? (size_t)(nk - prev) : 1;
		prev = nk > prev ? nk : prev;
		npos = reflect_draw(s, npool, npos, pos);
		if (arms_score(s, arms, alive, nalive, pos, npos, cause) != 0) {
			free(alive);
			free(pos);
			return -1;
		}
		worst = 0;
		for (i = 1; i < nalive; i++)
			if (arm_mean(&arms[alive[i]]) <=
			    arm_mean(&arms[alive[worst]]))
				worst = i;
		arms[alive[worst]].n = 0;	/* rejected: ranks last */
		arms[alive[worst]].sum = 0;
		memmove(&alive[worst], &alive[worst + 1], (nalive - worst - 1) *
		    sizeof *alive);
		nalive--;
	}
	free(alive);
	free(pos);
	return 0;
}

/* Errors of one beam prompt on the minibatch, as positions in it. */
static size_t
protegi_errors(const struct search_score *res, size_t n, size_t *out)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(res[i].score) && res[i].score < 1.0)
			out[k++] = i;
	return k;
}

/* Critiques of one beam prompt, their edits and paraphrases. */
static int
protegi_expand(struct search *s, struct reflect *st, struct cand *b,
    const size_t *mb, size_t nmb, const struct search_score *res,
    struct cand ***kids, size_t *nkids, char **cause)
{
	struct rvars	 rv;
	struct search_score	*dres = NULL;
	struct cand	**news = NULL, *x;
	char		**crit = NULL, **found, *errtext = NULL, *count = NULL;
	char		*ecount = NULL, *pcount = NULL, *score = NULL;
	char		*hist = NULL, *why;
	size_t		*err, *pick, nerr, npick, nnews = 0, g, i, j, k, n0;
	size_t		 max = (size_t)search_int(s, "expansion");
	double		 temp = search_number(s, "temperature");
	int		 ncrit, n, rc = -1;

	score = reflect_num(reflect_mean(res, nmb));
	err = xcalloc(nmb + s->ndev + 1, sizeof *err);
	pick = xcalloc(nmb + s->ndev + 1, sizeof *pick);
	nerr = protegi_errors(res, nmb, err);
	if (nerr == 0 && s->ndev > 0) {
		/* None on the minibatch: the errors it is known to make on
		 * dev, at no cost. */
		dres = xcalloc(s->ndev, sizeof *dres);
		for (i = 0; i < s->ndev; i++) {
			dres[i].score = b->scores[i];
			dres[i].output = b->outputs[i];
		}
		nerr = protegi_errors(dres, s->ndev, err);
		mb = s->dev;
		nmb = s->ndev;
		res = dres;
	}
	hist = reflect_history(s, st, 1);
	count = reflect_count((size_t)search_int(s, "critiques"), "critique");
	ecount = reflect_count((size_t)search_int(s, "edits"),
	    "improved prompt");
	for (g = 0; nerr > 0 && g < (size_t)search_int(s, "gradients"); g++) {
		npick = reflect_draw(s, nerr, (size_t)search_int(s, "errors"),
		    pick);
		for (i = 0; i < npick; i++)
			pick[i] = err[pick[i]];
		free(errtext);
		errtext = reflect_examples(s, "errors", mb, res, pick, npick,
		    0);
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "prompt", b->text);
		rvars_set(&rv, "score", score);
		rvars_set(&rv, "errors", errtext);
		rvars_set(&rv, "count", count);
		ncrit = search_ask_tag(s, "reflect_critique", rv.v, rv.n, temp,
		    "critique", (size_t)search_int(s, "critiques"), &crit,
		    NULL, cause);
		if (ncrit < 0)
			goto out;
		for (k = 0; k < (size_t)ncrit; k++) {
			rv.n = 0;
			rvars_set(&rv, "task", reflect_task(s));
			rvars_set(&rv, "prompt", b->text);
			rvars_set(&rv, "score", score);
			rvars_set(&rv, "errors", errtext);
			rvars_set(&rv, "critique", crit[k]);
			rvars_set(&rv, "history", hist);
			rvars_set(&rv, "count", ecount);
			n = search_ask(s, "reflect_edit", rv.v, rv.n, temp,
			    (size_t)search_int(s, "edits"), &found, NULL,
			    cause);
			/* The critique is the note: why the edit was made. */
			if (n < 0 || reflect_add(s, found, n, "protegi-edit",
			    &b, 1, crit[k], &news, &nnews, cause) != 0) {
				for (; k < (size_t)ncrit; k++)
					free(crit[k]);
				free(crit);
				crit = NULL;
				goto out;
			}
			free(crit[k]);
		}
		free(crit);
		crit = NULL;
	}
	/* Monte Carlo neighbours of the edits and of the prompt itself. */
	if (search_int(s, "paraphrases") > 0) {
		pcount = reflect_count((size_t)search_int(s, "paraphrases"),
		    "paraphrase");
		n0 = nnews;
		for (i = 0; i <= n0; i++) {
			x = i < n0 ? news[i] : b;
			rv.n = 0;
			rvars_set(&rv, "task", reflect_task(s));
			rvars_set(&rv, "prompt", x->text);
			rvars_set(&rv, "count", pcount);
			n = search_ask(s, "reflect_paraphrase", rv.v, rv.n, temp,
			    (size_t)search_int(s, "paraphrases"), &found, &why,
			    cause);
			if (n < 0 || reflect_add(s, found, n,
			    "protegi-paraphrase", &x, 1, why, &news, &nnews,
			    cause) != 0) {
				free(why);
				goto out;
			}
			free(why);
		}
	}
	/* Distinct new prompts, at most max of them, drawn at random. */
	for (i = 0, k = 0; i < nnews; i++) {
		if (news[i] == b || reflect_member(st, news[i]->id))
			continue;
		for (j = 0; j < k; j++)
			if (news[j] == news[i])
				break;
		if (j == k)
			news[k++] = news[i];
	}
	nnews = k;
	if (nnews > max) {
		pick = xreallocarray(pick, nnews, sizeof *pick);
		npick = reflect_draw(s, nnews, max, pick);
		for (i = 0; i < npick; i++) {
			*kids = xreallocarray(*kids, *nkids + 1, sizeof **kids);
			(*kids)[(*nkids)++] = news[pick[i]];
		}
	} else {
		for (i = 0; i < nnews; i++) {
			*kids = xreallocarray(*kids, *nkids + 1, sizeof **kids);
			(*kids)[(*nkids)++] = news[i];
		}
	}
	rc = 0;
out:
	free(news);
	free(err);
	free(pick);
	free(errtext);
	free(count);
	free(ecount);
	free(pcount);
	free(score);
	free(hist);
	free(dres);
	return rc;
}

static int
protegi_step(struct search *s, struct reflect *st, char **cause)
{
	struct search_score	*res = NULL;
	struct cand		**beam = NULL, **kids = NULL, **kparent = NULL;
	struct cand		**next = NULL;
	struct arm		*arms = NULL, **order = NULL, *a, *p;
	struct cand		*c;
	const size_t		*pool;
	size_t			*mb = NULL, *mbpos = NULL, nbeam = 0, nkids = 0;
	size_t			 nmb = 0, npool, narms = 0, i, j, k, n0;
	size_t			 nnext = 0;
	size_t			 want = (size_t)search_int(s, "beam");
	double			 ms, mp;
	int			 rc = -1;

	for (i = 0; i < st->nset; i++) {
		beam = xreallocarray(beam, nbeam + 1, sizeof *beam);
		if ((beam[nbeam] = reflect_cand(s, st->set[i].id)) != NULL)
			nbeam++;
	}
	if (nbeam == 0) {
		rc = 0;
		goto out;
	}
	/* The beam on one minibatch: their errors feed the critiques. */
	pool = reflect_pool(s, &npool);
	mbpos = xcalloc(npool + 1, sizeof *mbpos);
	mb = xcalloc(npool + 1, sizeof *mb);
	nmb = reflect_draw(s, npool, reflect_minibatch(s, st), mbpos);
	for (j = 0; j < nmb; j++)
		mb[j] = pool[mbpos[j]];
	res = xcalloc(nbeam * nmb + 1, sizeof *res);
	if (search_score_on(s, beam, nbeam, mb, nmb, res, cause) != 0)
		goto out;
	for (i = 0; i < nbeam; i++) {
		n0 = nkids;
		if (protegi_expand(s, st, beam[i], mb, nmb, &res[i * nmb],
		    &kids, &nkids, cause) != 0)
			goto out;
		kparent = xreallocarray(kparent, nkids + 1, sizeof *kparent);
		for (k = n0; k < nkids; k++)
			kparent[k] = beam[i];
	}
	/* The arms: the beam and its distinct new neighbours. */
	arms = xcalloc(nbeam + nkids + 1, sizeof *arms);
	for (i = 0; i < nbeam + nkids; i++) {
		c = i < nbeam ? beam[i] : kids[i - nbeam];
		for (k = 0; k < narms; k++)
			if (arms[k].c == c)
				break;
		if (k < narms)
			continue;
		arms[narms].c = c;
		arms[narms].parent = i < nbeam ? NULL : kparent[i - nbeam];
		arms[narms].sc = xcalloc(npool + 1, sizeof *arms[narms].sc);
		for (j = 0; j < npool; j++)
			arms[narms].sc[j] = NAN;
		narms++;
	}
	/* What the minibatch said about the beam counts as its first pulls. */
	for (i = 0; i < nbeam; i++) {
		for (k = 0; k < narms && arms[k].c != beam[i]; k++)
			;
		for (j = 0; j < nmb; j++) {
			if (isnan(res[i * nmb + j].score) ||
			    !isnan(arms[k].sc[mbpos[j]]))
				continue;
			arms[k].sc[mbpos[j]] = res[i * nmb + j].score;
			arms[k].sum += res[i * nmb + j].score;
			arms[k].n++;
		}
	}
	if (strcmp(search_string(s, "bandit"), "sr") == 0)
		rc = bandit_sr(s, arms, narms, want, cause);
	else
		rc = bandit_ucb(s, arms, narms, cause);
	if (rc != 0)
		goto out;
	rc = -1;
	/* Directional feedback: each new prompt against its parent, on the
	 * examples both were scored on. */
	for (k = 0; k < narms; k++) {
		a = &arms[k];
		if (a->parent == NULL)
			continue;
		for (i = 0, p = NULL; i < narms; i++)
			if (arms[i].c == a->parent)
				p = &arms[i];
		if (p == NULL)
			continue;
		ms = mp = 0;
		for (j = 0, n0 = 0; j < npool; j++) {
			if (isnan(a->sc[j]) || isnan(p->sc[j]))
				continue;
			ms += a->sc[j];
			mp += p->sc[j];
			n0++;
		}
		if (n0 > 0)
			reflect_history_add(st, a->c, p->c, ms / (double)n0,
			    mp / (double)n0);
	}
	/* The next beam: the best estimates. */
	order = xcalloc(narms + 1, sizeof *order);
	for (k = 0; k < narms; k++)
		order[k] = &arms[k];
	qsort(order, narms, sizeof *order, arm_cmp_desc);
	next = xcalloc(want + 1, sizeof *next);
	for (k = 0; k < narms; k++) {
		if (nnext < want && order[k]->n > 0) {
			next[nnext++] = order[k]->c;
			if (!search_complete(s, order[k]->c))
				order[k]->c->raced_out = 0;
		} else if (order[k]->parent != NULL)
			reflect_drop(s, order[k]->c);
	}
	for (k = 0; k < narms; k++)
		log_debug("protegi: arm %lld %.3f over %zu%s",
		    (long long)arms[k].c->id, arm_mean(&arms[k]), arms[k].n,
		    arms[k].parent == NULL ? " (beam)" : "");
	st->nset = 0;
	for (k = 0; k < nnext; k++)
		reflect_member_add(st, next[k]->id, 0, 0);
	/* The beam on dev, so that the best so far is known. */
	if (search_evaluate(s, next, nnext, cause) != 0)
		goto out;
	rc = 0;
out:
	if (res != NULL)
		search_scores_release(res, nbeam * nmb);
	free(res);
	for (k = 0; k < narms; k++)
		free(arms[k].sc);
	free(arms);
	free(order);
	free(next);
	free(beam);
	free(kids);
	free(kparent);
	free(mb);
	free(mbpos);
	return rc;
}

/*
 * gepa.
 */

/* The pool's members as candidates. */
static size_t
gepa_pool(struct search *s, struct reflect *st, struct cand ***out)
{
	struct cand	*c;
	size_t		 i, n = 0;

	*out = xcalloc(st->nset + 1, sizeof **out);
	for (i = 0; i < st->nset; i++)
		if ((c = reflect_cand(s, st->set[i].id)) != NULL)
			(*out)[n++] = c;
	return n;
}

/*
 * The Pareto front: on each dev example the leaders are the pool members
 * with its best score.  Members whose every lead is shared with another
 * member left are dominated and removed, weakest first; freq[i] is then
 * the number of examples member i leads (0 when removed).
 */
static void
gepa_front(const struct search *s, struct cand **pool, size_t n, size_t *freq)
{
	unsigned char	*lead, *dead;
	size_t		*order, i, j, k, y, z;
	double		 best;
	int		 found, leads, dominated, other;

	lead = xcalloc(n * s->ndev + 1, 1);
	dead = xcalloc(n + 1, 1);
	order = xcalloc(n + 1, sizeof *order);
	for (j = 0; j < s->ndev; j++) {
		best = -INFINITY;
		for (i = 0; i < n; i++)
			if (!isnan(pool[i]->scores[j]) &&
			    pool[i]->scores[j] > best)
				best = pool[i]->scores[j];
		for (i = 0; i < n && best > -INFINITY; i++)
			if (!isnan(pool[i]->scores[j]) &&
			    pool[i]->scores[j] >= best - 1e-12)
				lead[i * s->ndev + j] = 1;
	}
	/* Weakest first (insertion sort by mean, stable). */
	for (i = 0; i < n; i++) {
		for (k = i; k > 0 && pool[order[k - 1]]->mean > pool[i]->mean;
		    k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	do {
		found = 0;
		for (k = 0; k < n && !found; k++) {
			y = order[k];
			if (dead[y])
				continue;
			leads = 0;
			dominated = 1;
			for (j = 0; j < s->ndev && dominated; j++) {
				if (!lead[y * s->ndev + j])
					continue;
				leads = 1;
				other = 0;
				for (z = 0; z < n && !other; z++)
					other = z != y && !dead[z] &&
					    lead[z * s->ndev + j];
				dominated = other;
			}
			if (leads && dominated) {
				dead[y] = 1;
				found = 1;
			}
		}
	} while (found);
	for (i = 0; i < n; i++) {
		freq[i] = 0;
		for (j = 0; j < s->ndev && !dead[i]; j++)
			freq[i] += lead[i * s->ndev + j];
	}
	free(lead);
	free(dead);
	free(order);
}

/* A member drawn in proportion to freq (uniformly if all are 0). */
static size_t
gepa_sample(struct search *s, const size_t *freq, size_t n)
{
	size_t	total = 0, i, r;

	for (i = 0; i < n; i++)
		total += freq[i];
	if (total == 0)
		return rng_below(&s->rng, (uint32_t)n);
	r = rng_below(&s->rng, (uint32_t)total);
	for (i = 0; i < n; i++) {
		if (r < freq[i])
			return i;
		r -= freq[i];
	}
	return n - 1;
}

/* Whether candidate a is an ancestor of b within the pool. */
static int
gepa_ancestor(const struct reflect *st, int64_t a, int64_t b, size_t depth)
{
	size_t	i, k;

	if (depth > st->nset)
		return 0;
	for (i = 0; i < st->nset; i++) {
		if (st->set[i].id != b)
			continue;
		for (k = 0; k < 2; k++) {
			if (st->set[i].parents[k] == 0)
				continue;
			if (st->set[i].parents[k] == a ||
			    gepa_ancestor(st, a, st->set[i].parents[k],
			    depth + 1))
				return 1;
		}
	}
	return 0;
}

static double
gepa_sum(const struct search_score *r, size_t n)
{
	double	sum = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		if (!isnan(r[i].score))
			sum += r[i].score;
	return sum;
}

/*
 * Merges two members of unrelated lineages; the result is kept if on dev
 * examples where they differ it does at least as well as the better.
 */
static int
gepa_merge(struct search *s, struct reflect *st, struct cand **pool,
    size_t npool, const size_t *freq, char **cause)
{
	struct rvars		 rv;
	struct search_score	*res = NULL;
	struct cand		*pa, *pb, *pair[2], **news = NULL, *c;
	char			**found, *why = NULL, *sa, *sb;
	size_t			*diff, *pick, ndiff = 0, npick, nnews = 0, i, j;
	size_t			 mbsize = reflect_minibatch(s, st);
	double			 suma = 0, sumb = 0, sumc;
	int			 n, tries, rc = -1;

	for (tries = 0; tries < 10; tries++) {
		pa = pool[gepa_sample(s, freq, npool)];
		pb = pool[gepa_sample(s, freq, npool)];
		if (pa != pb && !gepa_ancestor(st, pa->id, pb->id, 0) &&
		    !gepa_ancestor(st, pb->id, pa->id, 0))
			break;
	}
	if (tries == 10)
		return 0;
	sa = reflect_num(pa->mean);
	sb = reflect_num(pb->mean);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt_a", pa->text);
	rvars_set(&rv, "score_a", sa);
	rvars_set(&rv, "prompt_b", pb->text);
	rvars_set(&rv, "score_b", sb);
	n = search_ask(s, "reflect_merge", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	free(sa);
	free(sb);
	pair[0] = pa;
	pair[1] = pb;
	if (n < 0 || reflect_add(s, found, n, "gepa-merge", pair, 2, why,
	    &news, &nnews, cause) != 0) {
		free(why);
		return -1;
	}
	free(why);
	if (nnews == 0 || (c = news[0]) == pa || c == pb ||
	    reflect_member(st, c->id)) {
		free(news);
		return 0;
	}
	free(news);
	/* Dev examples on which the two differ, else any. */
	diff = xcalloc(s->ndev + 1, sizeof *diff);
	pick = xcalloc(s->ndev + 1, sizeof *pick);
	for (j = 0; j < s->ndev; j++)
		if (pa->scores[j] != pb->scores[j])
			diff[ndiff++] = s->dev[j];
	if (ndiff == 0)
		for (j = 0; j < s->ndev; j++)
			diff[ndiff++] = s->dev[j];
	npick = reflect_draw(s, ndiff, mbsize, pick);
	for (i = 0; i < npick; i++)
		pick[i] = diff[pick[i]];
	res = xcalloc(3 * npick + 1, sizeof *res);
	pair[0] = c;
	if (search_score_on(s, pair, 1, pick, npick, res, cause) != 0)
		goto out;
	sumc = gepa_sum(res, npick);
	for (i = 0; i < s->ndev; i++)
		for (j = 0; j < npick; j++)
			if (s->dev[i] == pick[j]) {
				suma += isnan(pa->scores[i]) ? 0 :
				    pa->scores[i];
				sumb += isnan(pb->scores[i]) ? 0 :
				    pb->scores[i];
			}
	reflect_history_add(st, c, suma >= sumb ? pa : pb,
	    sumc / (double)(npick > 0 ? npick : 1),
	    (suma >= sumb ? suma : sumb) / (double)(npick > 0 ? npick : 1));
	if (npick > 0 && sumc >= (suma >= sumb ? suma : sumb)) {
		if (reflect_full(s, &c, 1, cause) != 0)
			goto out;
		reflect_member_add(st, c->id, pa->id, pb->id);
		log_debug("gepa: merged %lld and %lld into %lld",
		    (long long)pa->id, (long long)pb->id, (long long)c->id);
	} else
		reflect_drop(s, c);
	rc = 0;
out:
	search_scores_release(res, npick);
	free(res);
	free(diff);
	free(pick);
	return rc;
}

static int
gepa_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars		 rv;
	struct search_score	*rp = NULL, *rc_ = NULL;
	struct cand		**pool = NULL, *parent, *child, **news = NULL;
	char			**found, *why = NULL, *examples, *hist, *score;
	size_t			*freq = NULL, *mb = NULL, npool, nmb = 0, nnews;
	size_t			 it, want = reflect_proposals(s, st);
	size_t			 size = reflect_minibatch(s, st), tries, i;
	double			 sp, sc;
	int			 n, accepted = 0, rc = -1;

	npool = gepa_pool(s, st, &pool);
	if (npool == 0) {
		free(pool);
		return 0;
	}
	/* Every member on every dev example: the front needs them all. */
	if (reflect_full(s, pool, npool, cause) != 0)
		goto out;
	mb = xcalloc(size + 1, sizeof *mb);
	rp = xcalloc(size + 1, sizeof *rp);
	rc_ = xcalloc(size + 1, sizeof *rc_);
	for (it = 0; it < want; it++) {
		freq = xreallocarray(freq, npool + 1, sizeof *freq);
		gepa_front(s, pool, npool, freq);
		parent = pool[gepa_sample(s, freq, npool)];
		/*
		 * A minibatch with something to learn from: from train, and
		 * from dev when the parent is perfect on three train draws.
		 */
		for (tries = 0; tries < 6; tries++) {
			search_scores_release(rp, nmb);
			if (tries < 3 || s->ntrain == 0)
				nmb = reflect_minibatch_draw(s, size, mb);
			else {
				nmb = reflect_draw(s, s->ndev, size, mb);
				for (i = 0; i < nmb; i++)
					mb[i] = s->dev[mb[i]];
			}
			if (search_score_on(s, &parent, 1, mb, nmb, rp,
			    cause) != 0)
				goto out;
			for (i = 0; i < nmb; i++)
				if (!isnan(rp[i].score) && rp[i].score < 1)
					break;
			if (i < nmb)
				break;
		}
		if (tries == 6)
			continue;
		examples = reflect_examples(s, "examples", mb, rp, NULL, nmb,
		    1);
		hist = reflect_history(s, st, 1);
		score = reflect_num(reflect_mean(rp, nmb));
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "prompt", parent->text);
		rvars_set(&rv, "score", score);
		rvars_set(&rv, "examples", examples);
		rvars_set(&rv, "history", hist);
		n = search_ask(s, "reflect_gepa", rv.v, rv.n,
		    search_number(s, "temperature"), 1, &found, &why, cause);
		free(examples);
		free(hist);
		free(score);
		nnews = 0;
		if (n < 0 || reflect_add(s, found, n, "gepa-reflect", &parent,
		    1, why, &news, &nnews, cause) != 0) {
			free(why);
			goto out;
		}
		free(why);
		why = NULL;
		child = nnews > 0 ? news[0] : NULL;
		free(news);
		news = NULL;
		if (child == NULL || child == parent ||
		    reflect_member(st, child->id))
			continue;
		/* Kept only if it does better on the same minibatch. */
		if (search_score_on(s, &child, 1, mb, nmb, rc_, cause) != 0)
			goto out;
		sp = gepa_sum(rp, nmb);
		sc = gepa_sum(rc_, nmb);
		search_scores_release(rc_, nmb);
		reflect_history_add(st, child, parent, sc / (double)nmb,
		    sp / (double)nmb);
		if (sc > sp) {
			if (reflect_full(s, &child, 1, cause) != 0)
				goto out;
			reflect_member_add(st, child->id, parent->id, 0);
			pool = xreallocarray(pool, npool + 1, sizeof *pool);
			pool[npool++] = child;
			accepted = 1;
			log_debug("gepa: %lld improves on %lld (%.2f > %.2f); "
			    "dev %.3f", (long long)child->id,
			    (long long)parent->id, sc, sp, child->mean);
		} else
			reflect_drop(s, child);
	}
	if (accepted && search_bool(s, "merge") && npool >= 3) {
		freq = xreallocarray(freq, npool + 1, sizeof *freq);
		gepa_front(s, pool, npool, freq);
		if (gepa_merge(s, st, pool, npool, freq, cause) != 0)
			goto out;
	}
	rc = 0;
out:
	search_scores_release(rp, nmb);
	search_scores_release(rc_, nmb);
	free(rp);
	free(rc_);
	free(mb);
	free(freq);
	free(pool);
	return rc;
}

/*
 * opro.
 */

static struct rknown *
opro_known(struct reflect *st, int64_t id)
{
	size_t	i;

	for (i = 0; i < st->nknown; i++)
		if (st->known[i].id == id)
			return &st->known[i];
	return NULL;
}

static void
opro_know(struct reflect *st, const struct cand *c)
{
	struct rknown	*k;

	if ((k = opro_known(st, c->id)) == NULL) {
		st->known = xreallocarray(st->known, st->nknown + 1,
		    sizeof *st->known);
		k = &st->known[st->nknown++];
		k->id = c->id;
	}
	k->score = c->mean;
}

static int
known_cmp_desc(const void *va, const void *vb)
{
	const struct rknown	*a = va, *b = vb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int
opro_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars	 rv;
	struct strbuf	 sb;
	struct rknown	*sorted;
	struct cand	*c, *parent = NULL, **news = NULL;
	char		**found, *why, *scored, *exemplars, *hist, *count;
	char		*in, *out;
	size_t		*ex, nex, nnews = 0, nshown, asks, i, n0;
	size_t		 per = (size_t)search_int(s, "per_ask");
	double		 mc, mp;
	int		 n, rc = -1;

	/* Everyone scored so far is known, with the score it had then. */
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->nscored > 0 &&
		    opro_known(st, s->cands[i]->id) == NULL)
			opro_know(st, s->cands[i]);
	if (st->nknown == 0)
		return 0;
	sorted = xcalloc(st->nknown, sizeof *sorted);
	memcpy(sorted, st->known, st->nknown * sizeof *sorted);
	qsort(sorted, st->nknown, sizeof *sorted, known_cmp_desc);
	nshown = st->nknown < (size_t)search_int(s, "shown") ? st->nknown :
	    (size_t)search_int(s, "shown");
	/* Ascending: the best come last, nearest the request. */
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = nshown; i > 0; i--) {
		if ((c = reflect_cand(s, sorted[i - 1].id)) == NULL)
			continue;
		strbuf_addf(&sb, "<prompt score=\"%.3f\">%s</prompt>\n",
		    sorted[i - 1].score, c->text);
		parent = c;	/* the last shown is the best */
	}
	scored = strbuf_detach(&sb);
	free(sorted);
	/* A few exemplars of the task. */
	ex = xcalloc((size_t)search_int(s, "exemplars") + 1, sizeof *ex);
	nex = reflect_minibatch_draw(s, (size_t)search_int(s, "exemplars"),
	    ex);
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	for (i = 0; i < nex; i++) {
		in = search_input(s, ex[i]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n", in);
		if (s->job->task.target != NULL) {
			out = search_expected(s, ex[i]);
			strbuf_addf(&sb, "<output>%s</output>\n", out);
			free(out);
		}
		strbuf_adds(&sb, "</example>\n");
		free(in);
	}
	exemplars = strbuf_detach(&sb);
	free(ex);
	hist = reflect_history(s, st, 1);
	count = reflect_count(per, "new instruction");
	asks = (reflect_proposals(s, st) + per - 1) / per;
	for (i = 0; i < asks; i++) {
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "scored", scored);
		rvars_set(&rv, "exemplars", exemplars);
		rvars_set(&rv, "history", hist);
		rvars_set(&rv, "count", count);
		n = search_ask(s, "reflect_opro", rv.v, rv.n,
		    search_number(s, "temperature"), per, &found, &why, cause);
		if (n < 0 || reflect_add(s, found, n, "opro", parent != NULL ?
		    &parent : NULL, parent != NULL ? 1 : 0, why, &news, &nnews,
		    cause) != 0) {
			free(why);
			goto out;
		}
		free(why);
	}
	/* Only the new ones: a repeat keeps the score it had. */
	for (i = 0, n0 = 0; i < nnews; i++)
		if (opro_known(st, news[i]->id) == NULL)
			news[n0++] = news[i];
	nnews = n0;
	if (search_evaluate(s, news, nnews, cause) != 0)
		goto out;
	for (i = 0; i < nnews; i++) {
		if (opro_known(st, news[i]->id) != NULL)
			continue;	/* proposed twice */
		opro_know(st, news[i]);
		if (parent != NULL && reflect_paired(s, news[i], parent, &mc,
		    &mp) > 0)
			reflect_history_add(st, news[i], parent, mc, mp);
	}
	rc = 0;
out:
	free(news);
	free(scored);
	free(exemplars);
	free(hist);
	free(count);
	return rc;
}

/*
 * spo.
 */

/* The answers of a prompt as tagged text. */
static char *
spo_answers(struct search *s, const size_t *ex, char **outs, size_t n)
{
	struct strbuf	 sb;
	char		*in;
	size_t		 i;

	strbuf_init(&sb);
	strbuf_adds(&sb, "<examples>\n");
	for (i = 0; i < n; i++) {
		in = search_input(s, ex[i]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n<output>%s"
		    "</output>\n</example>\n", in, outs[i] != NULL ? outs[i] :
		    "");
		free(in);
	}
	strbuf_adds(&sb, "</examples>");
	return strbuf_detach(&sb);
}

static int
spo_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars		 rv;
	struct strbuf		 sb;
	struct backend		*judge;
	struct judge_ask	*votes = NULL, *v;
	struct cand		*champ, *cand, **news = NULL;
	char			**found, *why = NULL, **och = NULL, **onew = NULL;
	char			*answers = NULL, *hist = NULL, *meta, *input;
	size_t			*mb = NULL, nmb, nnews = 0, rounds = 0, r, j, k;
	size_t			 size = reflect_minibatch(s, st);
	double			 pn, po, pts_new = 0, votes_n = 0, share;
	int			 n, rn = 0, ro = 0, rc = -1;

	judge = s->job->roles[ROLE_JUDGE] != NULL ?
	    s->job->roles[ROLE_JUDGE] : s->job->roles[ROLE_OPTIMIZER];
	if (judge == NULL)
		return cause_set(cause, "reflect mode 'spo' needs a judge "
		    "(roles.judge or roles.optimizer)");
	if ((champ = reflect_cand(s, st->champion)) == NULL) {
		if ((champ = search_best(s)) == NULL && s->ncands > 0)
			champ = s->cands[0];
		if (champ == NULL)
			return 0;
		st->champion = champ->id;
		st->share = 1;
	}
	mb = xcalloc(size + 1, sizeof *mb);
	nmb = reflect_minibatch_draw(s, size, mb);
	och = xcalloc(nmb + 1, sizeof *och);
	onew = xcalloc(nmb + 1, sizeof *onew);
	if (search_answers(s, champ->text, mb, nmb, och, cause) != 0)
		goto out;
	answers = spo_answers(s, mb, och, nmb);
	hist = reflect_history(s, st, 0);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt", champ->text);
	rvars_set(&rv, "answers", answers);
	rvars_set(&rv, "feedback", st->feedback != NULL ? st->feedback :
	    "(no comparison yet)");
	rvars_set(&rv, "history", hist);
	n = search_ask(s, "reflect_spo", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	if (n < 0 || reflect_add(s, found, n, "spo", &champ, 1, why, &news,
	    &nnews, cause) != 0)
		goto out;
	cand = nnews > 0 ? news[0] : NULL;
	if (cand == NULL || cand == champ) {
		rc = 0;
		goto out;
	}
	if (search_answers(s, cand->text, mb, nmb, onew, cause) != 0)
		goto out;
	/*
	 * Rounds alternate which answer is shown first: in odd rounds the
	 * new prompt's answer is A.  From the judge service's side, a is
	 * always the champion's answer.
	 */
	rounds = (size_t)search_int(s, "judge_rounds");
	votes = xcalloc(rounds * nmb + 1, sizeof *votes);
	for (r = 0; r < rounds; r++) {
		for (j = 0; j < nmb; j++) {
			input = search_input(s, mb[j]);
			rv.n = 0;
			rvars_set(&rv, "requirements", reflect_task(s));
			rvars_set(&rv, "input", input);
			rvars_set(&rv, "response_a", r % 2 == 0 ?
			    (och[j] != NULL ? och[j] : "") :
			    (onew[j] != NULL ? onew[j] : ""));
			rvars_set(&rv, "response_b", r % 2 == 0 ?
			    (onew[j] != NULL ? onew[j] : "") :
			    (och[j] != NULL ? och[j] : ""));
			meta = search_meta(s, "reflect_spo_judge", rv.v, rv.n,
			    cause);
			free(input);
			if (meta == NULL) {
				search_wait(s, NULL);
				goto out;
			}
			v = &votes[r * nmb + j];
			v->user[0] = meta;
			v->order[0] = (int)(r % 2);
			v->norders = 1;
			v->temperature = search_number(s, "judge_temperature");
			v->sample = (unsigned)r;
			/* Each verdict is kept with its provenance. */
			v->record = 1;
			v->rec.job = s->job_id;
			v->rec.a = champ->id;
			v->rec.b = cand->id;
			v->rec.example = s->job->task.dataset->ex[mb[j]].id;
			v->rec.output_a = och[j] != NULL ? och[j] : "";
			v->rec.output_b = onew[j] != NULL ? onew[j] : "";
			search_judge(s, judge, v);
		}
	}
	if (search_wait(s, cause) != 0)
		goto out;
	strbuf_init(&sb);
	for (r = 0; r < rounds; r++) {
		pn = po = 0;
		for (j = 0; j < nmb; j++) {
			v = &votes[r * nmb + j];
			if (v->verdict == VERDICT_NONE)
				continue;
			if (v->verdict == VERDICT_TIE) {
				pn += 0.5;
				po += 0.5;
			} else if (v->verdict == VERDICT_B)
				pn += 1;
			else
				po += 1;
			if (r == 0 && v->rationale != NULL &&
			    *v->rationale != '\0')
				strbuf_addf(&sb, "On input %zu: %s\n", j + 1,
				    v->rationale);
		}
		pts_new += pn;
		votes_n += pn + po;
		if (pn > po)
			rn++;
		else if (po > pn)
			ro++;
	}
	share = votes_n > 0 ? pts_new / votes_n : 0;
	free(st->feedback);
	st->feedback = sb.len > 0 ? strbuf_detach(&sb) : NULL;
	strbuf_release(&sb);
	reflect_history_add(st, cand, champ, share, 1 - share);
	log_debug("spo: %lld against champion %lld: rounds %d to %d, share "
	    "%.2f", (long long)cand->id, (long long)champ->id, rn, ro, share);
	if (rn > ro) {
		st->champion = cand->id;
		st->share = share;
		cand->raced_out = 0;
		/* Scored on dev so that it can be promoted. */
		if (search_evaluate(s, &cand, 1, cause) != 0)
			goto out;
	} else
		reflect_drop(s, cand);
	rc = 0;
out:
	for (k = 0; votes != NULL && k < rounds * nmb; k++)
		judge_ask_release(&votes[k]);
	free(votes);
	for (j = 0; j < nmb; j++) {
		free(och[j]);
		free(onew[j]);
	}
	free(och);
	free(onew);
	free(mb);
	free(news);
	free(why);
	free(answers);
	free(hist);
	return rc;
}

/*
 * The strategy.
 */

static int
reflect_init(struct search *s, char **cause)
{
	struct reflect	*st;
	size_t		 i;

	if (s->job->roles[ROLE_OPTIMIZER] == NULL)
		return cause_set(cause, "strategy 'reflect' needs an optimizer "
		    "(roles.optimizer)");
	st = xcalloc(1, sizeof *st);
	st->mode = reflect_mode_of(s);
	s->state = st;
	/* The seeds (or a refresh's starting pool) begin the beam or pool. */
	if (st->mode == REFLECT_PROTEGI || st->mode == REFLECT_GEPA)
		for (i = 0; i < s->ncands; i++)
			reflect_member_add(st, s->cands[i]->id, 0, 0);
	return 0;
}

static int
reflect_step(struct search *s, char **cause)
{
	struct reflect	*st = s->state;
	long long	 steps = reflect_steps(s, st);
	int		 rc;

	if (s->step >= steps)
		return 0;
	switch (st->mode) {
	case REFLECT_PROTEGI:
		rc = protegi_step(s, st, cause);
		break;
	case REFLECT_GEPA:
		rc = gepa_step(s, st, cause);
		break;
	case REFLECT_OPRO:
		rc = opro_step(s, st, cause);
		break;
	default:
		rc = spo_step(s, st, cause);
		break;
	}
	if (rc != 0)
		return -1;
	return s->step + 1 < steps ? 1 : 0;
}

static cJSON *
reflect_save(struct search *s)
{
	struct reflect	*st = s->state;
	cJSON		*o, *a, *e, *p;
	size_t		 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", reflect_modes[st->mode]);
	a = cJSON_AddArrayToObject(o, "set");
	for (i = 0; i < st->nset; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)st->set[i].id);
		p = cJSON_AddArrayToObject(e, "parents");
		if (st->set[i].parents[0] != 0)
			cJSON_AddItemToArray(p, cJSON_CreateNumber(
			    (double)st->set[i].parents[0]));
		if (st->set[i].parents[1] != 0)
			cJSON_AddItemToArray(p, cJSON_CreateNumber(
			    (double)st->set[i].parents[1]));
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "history");
	for (i = 0; i < st->nhist; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)st->hist[i].id);
		cJSON_AddNumberToObject(e, "parent",
		    (double)st->hist[i].parent);
		cJSON_AddNumberToObject(e, "score", st->hist[i].score);
		cJSON_AddNumberToObject(e, "parent_score",
		    st->hist[i].parent_score);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "known");
	for (i = 0; i < st->nknown; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)st->known[i].id);
		cJSON_AddNumberToObject(e, "score", isnan(st->known[i].score) ?
		    0 : st->known[i].score);
		cJSON_AddItemToArray(a, e);
	}
	if (st->champion != 0) {
		cJSON_AddNumberToObject(o, "champion", (double)st->champion);
		cJSON_AddNumberToObject(o, "share", st->share);
	}
	if (st->feedback != NULL)
		cJSON_AddStringToObject(o, "feedback", st->feedback);
	return o;
}

/* A candidate id from the checkpoint, which the run must know. */
static int
reflect_load_id(struct search *s, const cJSON *v, int64_t *id, char **cause)
{
	if (!cJSON_IsNumber(v))
		return cause_set(cause, "reflect checkpoint: expected a "
		    "candidate id");
	*id = (int64_t)v->valuedouble;
	if (reflect_cand(s, *id) == NULL)
		return cause_set(cause, "reflect checkpoint: candidate %lld "
		    "is not among the run's candidates", (long long)*id);
	return 0;
}

static double
reflect_load_num(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int
reflect_load(struct search *s, const cJSON *o, char **cause)
{
	struct reflect	*st;
	const cJSON	*a, *e, *p, *m;
	struct rhist	*h;
	int64_t		 id, par[2];
	size_t		 k;

	st = xcalloc(1, sizeof *st);
	st->mode = reflect_mode_of(s);
	s->state = st;
	if (!cJSON_IsObject(o))
		return cause_set(cause, "reflect checkpoint: expected an "
		    "object");
	m = cJSON_GetObjectItemCaseSensitive(o, "mode");
	if (!cJSON_IsString(m) || strcmp(m->valuestring,
	    reflect_modes[st->mode]) != 0)
		return cause_set(cause, "reflect checkpoint: the run was in "
		    "mode '%s' and the job now asks for '%s'",
		    cJSON_IsString(m) ? m->valuestring : "?",
		    reflect_modes[st->mode]);
	a = cJSON_GetObjectItemCaseSensitive(o, "set");
	cJSON_ArrayForEach(e, a) {
		if (reflect_load_id(s, cJSON_GetObjectItemCaseSensitive(e,
		    "id"), &id, cause) != 0)
			return -1;
		par[0] = par[1] = 0;
		k = 0;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(e,
		    "parents")) {
			if (k < 2 && cJSON_IsNumber(p))
				par[k++] = (int64_t)p->valuedouble;
		}
		reflect_member_add(st, id, par[0], par[1]);
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "history");
	cJSON_ArrayForEach(e, a) {
		st->hist = xreallocarray(st->hist, st->nhist + 1,
		    sizeof *st->hist);
		h = &st->hist[st->nhist];
		if (reflect_load_id(s, cJSON_GetObjectItemCaseSensitive(e,
		    "id"), &h->id, cause) != 0 || reflect_load_id(s,
		    cJSON_GetObjectItemCaseSensitive(e, "parent"), &h->parent,
		    cause) != 0)
			return -1;
		h->score = reflect_load_num(e, "score");
		h->parent_score = reflect_load_num(e, "parent_score");
		if (isnan(h->score) || isnan(h->parent_score))
			return cause_set(cause, "reflect checkpoint: history "
			    "entry %zu has no scores", st->nhist + 1);
		h->better = h->score > h->parent_score;
		st->nhist++;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "known");
	cJSON_ArrayForEach(e, a) {
		if (reflect_load_id(s, cJSON_GetObjectItemCaseSensitive(e,
		    "id"), &id, cause) != 0)
			return -1;
		st->known = xreallocarray(st->known, st->nknown + 1,
		    sizeof *st->known);
		st->known[st->nknown].id = id;
		st->known[st->nknown++].score = reflect_load_num(e, "score");
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(o, "champion")) != NULL) {
		if (reflect_load_id(s, m, &st->champion, cause) != 0)
			return -1;
		st->share = reflect_load_num(o, "share");
	}
	m = cJSON_GetObjectItemCaseSensitive(o, "feedback");
	if (cJSON_IsString(m))
		st->feedback = xstrdup(m->valuestring);
	return 0;
}

static void
reflect_free(struct search *s)
{
	struct reflect	*st = s->state;

	if (st == NULL)
		return;
	free(st->set);
	free(st->hist);
	free(st->known);
	free(st->feedback);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_reflect_ops = {
	.name = "reflect",
	.params = reflect_params,
	.init = reflect_init,
	.step = reflect_step,
	.save = reflect_save,
	.load = reflect_load,
	.free = reflect_free,
};
