/*
 * reflect: strategies in which the optimizer reads how prompts did and
 * writes better ones.  One strategy, five modes, one file each:
 *
 *	protegi	textual gradients and a bandit over minibatches (protegi.c)
 *	gepa	reflective evolution on a Pareto front (gepa.c)
 *	opro	optimization by prompting over the scored history (opro.c)
 *	spo	self-supervised, judge-only optimization (spo.c)
 *	pe2	a prompt engineer's meta-prompt over a batch of errors,
 *		with the history and back-tracking (pe2.c)
 *
 * This file holds the strategy: its parameters, the table of modes (the
 * one place a mode is found by its name), the checkpoint and the helpers
 * the modes share (reflect_int.h).
 *
 * The mcts strategy (mcts.c) is a strategy of its own, written with the
 * helpers here: error batches, meta-prompt variables and requests asked
 * at once.
 *
 * Every mode gives directional feedback: a proposal is compared with its
 * parent on the same examples, and the meta-prompts show earlier
 * proposals that did better and ones that did worse, with their scores.
 *
 * protegi and gepa also show what people wrote of a prompt's answers in
 * production, beside its errors (reflect_human.c).
 *
 * Candidates a mode drops after a minibatch (a child that lost, a
 * challenger the judge rejected) are marked raced_out, so that neither
 * the champion pick nor a resumed run scores them on all of dev.
 *
 * opro and pe2 score their new proposals on dev in one place,
 * reflect_score_new(), which puts them through the surrogate filter
 * (search_screen(): with "surrogate" below 1, only those a model of the
 * scores so far predicts best are scored).  protegi's proposals are
 * raced by its bandit on minibatches within a fixed budget, gepa's come
 * one at a time and are tried on a minibatch first, and spo's are judged
 * against the champion: none of them is scored on dev as a new
 * proposal, so the filter has nothing to spare there.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "rng.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* The names in reflect_mode_table[] below, for the parameter's check. */
static const char *const reflect_modes[] = {
	"protegi", "gepa", "opro", "spo", "pe2", NULL
};
static const char *const reflect_bandits[] = { "ucb", "sr", NULL };

static const struct strategy_param reflect_params[] = {
	{ "mode", PARAM_STRING, "\"protegi\"", 0, 0, reflect_modes,
	  "protegi, gepa, opro, spo or pe2" },
	{ "steps", PARAM_INT, "0", 0, 100000, NULL,
	  "steps to run (0: 6 for protegi and pe2, 10 for the others)" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ "history", PARAM_INT, "3", 0, 50, NULL,
	  "earlier better and worse proposals shown in each meta-prompt "
	  "(pe2: previous prompts shown with their scores)" },
	{ "minibatch", PARAM_INT, "0", 0, 100000, NULL,
	  "examples per minibatch (0: 32 for protegi, 3 for gepa and spo, "
	  "16 for pe2)" },
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
	  "proposals per step (0: 4 for gepa, 8 for opro, 1 for pe2)" },
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
	{ "batch", PARAM_INT, "4", 1, 50, NULL,
	  "pe2: errors shown in each request" },
	{ "backtrack", PARAM_BOOL, "true", 0, 0, NULL,
	  "pe2: after an edit that does no better, start from the best "
	  "prompt so far (false: from the last edit)" },
	{ "human_critiques", PARAM_INT, "4", 0, 50, NULL,
	  "protegi and gepa: people's critiques of a prompt's answers shown "
	  "when it is critiqued or rewritten (0: none)" },
	SEARCH_SCREEN_PARAMS,
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

void
rvars_set(struct rvars *rv, const char *name, const char *value)
{
	if (rv->n >= nitems(rv->v))
		fatalx("reflect: too many meta-prompt variables");
	rv->v[rv->n].name = name;
	rv->v[rv->n].value = value;
	rv->n++;
}

static long long
reflect_steps(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "steps");

	if (n > 0)
		return n;
	return st->mode->steps;
}

size_t
reflect_minibatch(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "minibatch");

	if (n > 0)
		return (size_t)n;
	return st->mode->minibatch;
}

size_t
reflect_proposals(const struct search *s, const struct reflect *st)
{
	long long	n = search_int(s, "proposals");

	if (n > 0)
		return (size_t)n;
	return st->mode->proposals;
}

const char *
reflect_task(const struct search *s)
{
	return s->task->description != NULL ? s->task->description :
	    "(not described)";
}

/* "1 prompt", "4 prompts": the sim and people read the count. */
char *
reflect_count(size_t n, const char *noun)
{
	return xasprintf("%zu %s%s", n, noun, n == 1 ? "" : "s");
}

char *
reflect_num(double x)
{
	return xasprintf("%.3f", isnan(x) ? 0.0 : x);
}

struct cand *
reflect_cand(const struct search *s, int64_t id)
{
	return search_cand_by_id(s, id);
}

/* The examples minibatches are drawn from: train, or dev without it. */
const size_t *
reflect_pool(const struct search *s, size_t *n)
{
	if (s->ntrain > 0) {
		*n = s->ntrain;
		return s->train;
	}
	*n = s->ndev;
	return s->dev;
}

/* k distinct dataset examples from the minibatch pool. */
size_t
reflect_minibatch_draw(struct search *s, size_t k, size_t *out)
{
	const size_t	*pool;
	size_t		 npool, i;

	pool = reflect_pool(s, &npool);
	k = search_draw(s, npool, k, out);
	for (i = 0; i < k; i++)
		out[i] = pool[out[i]];
	return k;
}

/* k distinct dev examples. */
size_t
reflect_dev_draw(struct search *s, size_t k, size_t *out)
{
	size_t	i;

	k = search_draw(s, s->ndev, k, out);
	for (i = 0; i < k; i++)
		out[i] = s->dev[out[i]];
	return k;
}

double
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

void
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

struct rknown *
reflect_known(struct reflect *st, int64_t id)
{
	size_t	i;

	for (i = 0; i < st->nknown; i++)
		if (st->known[i].id == id)
			return &st->known[i];
	return NULL;
}

void
reflect_know(struct reflect *st, const struct cand *c)
{
	struct rknown	*k;

	if ((k = reflect_known(st, c->id)) == NULL) {
		st->known = xreallocarray(st->known, st->nknown + 1,
		    sizeof *st->known);
		k = &st->known[st->nknown++];
		k->id = c->id;
	}
	k->score = c->mean;
}

/* Means of a and b over the dev examples both are scored on. */
size_t
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

/*
 * The directional feedback block: recent proposals that beat their parent
 * and recent ones that did not, each with its score and its parent's on
 * the same examples.  With attrs the scores are attributes of the prompt
 * elements; otherwise (spo, where they are shares of judge votes) they
 * are said in words.
 */
char *
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
char *
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
		if (s->task->target != NULL) {
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

void
reflect_push(struct cand ***v, size_t *n, struct cand *c)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = c;
}

/* Adds each proposal as a candidate; out collects the new ones. */
int
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
			else if (out != NULL)
				reflect_push(out, nout, c);
		}
		free(found[i]);
	}
	free(found);
	return rc;
}

/* Asks n requests of template tmpl at once, rv[i] request i's variables. */
struct search_ask *
reflect_ask(struct search *s, const struct rvars *rv, size_t n,
    const char *tmpl, const char *tag, size_t max, char **cause)
{
	struct search_ask	*a;
	size_t			 i;

	a = xcalloc(n + 1, sizeof *a);
	for (i = 0; i < n; i++) {
		a[i].name = tmpl;
		a[i].vars = rv[i].v;
		a[i].nvars = rv[i].n;
		a[i].temperature = search_number(s, "temperature");
		a[i].tag = tag;
		a[i].max = max;
	}
	if (search_ask_many(s, a, n, cause) != 0) {
		free(a);
		return NULL;
	}
	return a;
}

void
reflect_asks_free(struct search_ask *a, size_t n)
{
	if (a != NULL)
		search_ask_release(a, n);
	free(a);
}

/*
 * The one place where opro and pe2 score their new proposals on dev,
 * through the surrogate filter (see the top comment).
 */
int
reflect_score_new(struct search *s, struct reflect *st, struct cand *parent,
    struct cand **news, size_t nnews, struct cand **best, char **cause)
{
	double	mc, mp;
	size_t	i, n, nkeep;

	if (best != NULL)
		*best = NULL;
	/* Only the new ones: a repeat keeps the score it had. */
	for (i = 0, n = 0; i < nnews; i++)
		if (news[i] != parent && reflect_known(st, news[i]->id) ==
		    NULL && !search_has(news, n, news[i]))
			news[n++] = news[i];
	if (search_screen(s, news, n, &nkeep, cause) != 0 ||
	    search_evaluate(s, news, nkeep, cause) != 0 ||
	    search_screen_done(s, cause) != 0)
		return -1;
	for (i = 0; i < nkeep; i++) {
		reflect_know(st, news[i]);
		if (parent != NULL && reflect_paired(s, news[i], parent, &mc,
		    &mp) > 0)
			reflect_history_add(st, news[i], parent, mc, mp);
		if (best != NULL && (*best == NULL || news[i]->mean >
		    (*best)->mean))
			*best = news[i];
	}
	return 0;
}

/* Drops a candidate that lost on a minibatch (see the top comment). */
void
reflect_drop(struct search *s, struct cand *c)
{
	if (!search_complete(s, c))
		c->raced_out = 1;
}

int
reflect_member(const struct reflect *st, int64_t id)
{
	size_t	i;

	for (i = 0; i < st->nset; i++)
		if (st->set[i].id == id)
			return 1;
	return 0;
}

void
reflect_member_add(struct reflect *st, int64_t id, int64_t p0, int64_t p1)
{
	st->set = xreallocarray(st->set, st->nset + 1, sizeof *st->set);
	st->set[st->nset].id = id;
	st->set[st->nset].parents[0] = p0;
	st->set[st->nset].parents[1] = p1;
	st->nset++;
}

/*
 * The modes, each found by its name here and nowhere else.  The "mode"
 * parameter's choices (reflect_modes[] above) list the same names.
 */
static const struct reflect_mode *const reflect_mode_table[] = {
	&protegi_mode,
	&gepa_mode,
	&opro_mode,
	&spo_mode,
	&pe2_mode,
	NULL
};

/* The job's mode (the parameter is validated: protegi if unknown). */
static const struct reflect_mode *
reflect_mode_of(const struct search *s)
{
	const char	*m = search_string(s, "mode");
	size_t		 i;

	for (i = 0; reflect_mode_table[i] != NULL; i++)
		if (strcmp(reflect_mode_table[i]->name, m) == 0)
			return reflect_mode_table[i];
	return reflect_mode_table[0];
}

/*
 * The strategy.
 */

static int
reflect_init(struct search *s, char **cause)
{
	struct reflect	*st;
	char		*msg;
	size_t		 i;
	int		 rc;

	if (s->task->roles[ROLE_OPTIMIZER] == NULL)
		return cause_set(cause, "strategy 'reflect' needs an optimizer "
		    "(roles.optimizer)");
	st = xcalloc(1, sizeof *st);
	st->mode = reflect_mode_of(s);
	s->state = st;
	if (search_number(s, "surrogate") < 1 && !st->mode->screens) {
		msg = xasprintf("reflect mode '%s' scores no new proposal on "
		    "dev as it comes (only opro and pe2 do): \"surrogate\" "
		    "has no effect", st->mode->name);
		rc = search_event(s, "warn", msg, cause);
		free(msg);
		if (rc != 0)
			return -1;
	}
	/* The seeds (or a refresh's starting pool) begin the beam or pool. */
	if (st->mode->seeded)
		for (i = 0; i < s->ncands; i++)
			reflect_member_add(st, s->cands[i]->id, 0, 0);
	return 0;
}

static int
reflect_step(struct search *s, char **cause)
{
	struct reflect	*st = s->state;
	long long	 steps = reflect_steps(s, st);

	if (s->step >= steps)
		return 0;
	if (st->mode->step(s, st, cause) != 0)
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
	cJSON_AddStringToObject(o, "mode", st->mode->name);
	if ((e = search_screen_save(s)) != NULL)
		cJSON_AddItemToObject(o, "surrogate", e);
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
	    st->mode->name) != 0)
		return cause_set(cause, "reflect checkpoint: the run was in "
		    "mode '%s' and the job now asks for '%s'",
		    cJSON_IsString(m) ? m->valuestring : "?",
		    st->mode->name);
	if (search_screen_load(s, cJSON_GetObjectItemCaseSensitive(o,
	    "surrogate"), cause) != 0)
		return -1;
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
