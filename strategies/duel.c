/*
 * duel: prompt optimization from pairwise preferences only (APOHF, Lin et
 * al., "Prompt Optimization with Human Feedback", 2024).  The first step
 * builds a finite pool: the seeds plus instructions the optimizer induces
 * from input/output demos (APE's "the instruction was to" meta-prompt),
 * each embedded by the embedder role (or, without one, by built-in hashed
 * n-gram features) and L2-normalized.  Every later step is one duel: a
 * pair of prompts chosen by the dueling bandit of src/duel.c (after a few
 * random pairs), compared by the feedback source, the preference stored
 * in the comparisons table with its provenance, and the model refitted
 * from its initial weights.  The last step evaluates the recommended
 * prompt (the model's best among those dueled) on the dev split, so the
 * run's champion is chosen from it and the seeds as for any strategy.
 *
 * With arms "responses" (the paper's response optimization) the arms are
 * instead responses of the target to one prompt (the job's champion, or
 * the run's first seed) on one dev example: pool samples with distinct
 * sample indices, deduplicated, stored as candidates of origin
 * "duel-response" with a lineage edge to the prompt but never put among
 * the search's candidates, so they are never scored on dev, raced, made
 * champion or exported.  The duels compare the responses themselves (no
 * further target call), and the last step reports the recommended one in
 * the log and the job's events.
 *
 * Feedback sources:
 *	judge	the judge role sees one input and the target's responses to
 *		both prompts, in both orders; it names a winner or a tie,
 *		and a winner that changes with the order counts as a tie.
 *	sim	the simulated user of the paper: the latent utility of a
 *		prompt is its mean metric score on the dev split, and the
 *		first is preferred with probability sigmoid((u1 - u2) / tau).
 *	human	a person at promptctl feedback: the target's responses to
 *		both prompts on one input are queued in the store (in an
 *		order drawn at random) and the step waits, yielding its
 *		fiber and making no model call, until someone answers a,
 *		b, tie (half a win each) or skip (the duel is dropped and
 *		the next step draws another).  Only inside the daemon.
 *
 * The fit runs on a worker thread when the step runs in a fiber (the
 * daemon), so the event loop goes on; in a foreground run it runs in
 * place.  Each step's draws come from the step's random stream and the
 * state (pool, duels) is checkpointed, so a replayed step asks the same.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bandit.h"
#include "dataset.h"
#include "duel_int.h"
#include "engine.h"
#include "jsonc.h"
#include "judge.h"
#include "log.h"
#include "metric.h"
#include "nn.h"
#include "rng.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

static const char *const duel_methods[] = {
	"apohf", "linear", "doublets", "random", NULL
};
static const char *const duel_feedbacks[] = { "judge", "sim", "human", NULL };
static const char *const duel_arms[] = { "prompts", "responses", NULL };

/* The pool's size with arms "responses" when the job sets none. */
#define DUEL_RESPONSE_POOL	30

static const struct strategy_param duel_params[] = {
	{ "arms", PARAM_STRING, "\"prompts\"", 0, 0, duel_arms,
	  "what is dueled: prompts, or responses to one prompt and input" },
	{ "example", PARAM_INT, "0", 0, 1000000, NULL,
	  "the dev example whose responses are dueled (arms \"responses\")" },
	{ "pool", PARAM_INT, "200", 2, 5000, NULL,
	  "instructions induced from demos for the pool (responses sampled: "
	  "30 by default)" },
	{ "per_ask", PARAM_INT, "5", 1, 32, NULL,
	  "instructions asked for in one optimizer request" },
	{ "demos", PARAM_INT, "5", 1, 50, NULL,
	  "input/output demos shown in each request" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the sampling temperature of the optimizer (of the target for "
	  "responses)" },
	{ "rounds", PARAM_INT, "150", 1, 100000, NULL,
	  "duels the run asks for (people's duels it starts from aside)" },
	{ "init", PARAM_INT, "5", 0, 100000, NULL,
	  "random duels before the model chooses" },
	{ "method", PARAM_STRING, "\"apohf\"", 0, 0, duel_methods,
	  "how pairs are chosen" },
	{ "feedback", PARAM_STRING, "\"judge\"", 0, 0, duel_feedbacks,
	  "where preferences come from" },
	{ "rubric", PARAM_STRING, "\"\"", 0, 0, NULL,
	  "what the judge compares on (empty: a general rubric)" },
	{ "tau", PARAM_NUMBER, "0.05", 1e-6, 1e6, NULL,
	  "the simulated user's noise, in metric units" },
	{ "hidden", PARAM_INT, "32", 8, 256, NULL,
	  "width of the network's two hidden layers (a multiple of 8)" },
	{ "lambda", PARAM_NUMBER, "0.1", 1e-9, 1e6, NULL,
	  "regularization of the fit and of the confidence bound" },
	{ "nu", PARAM_NUMBER, "1", 0, 1e6, NULL,
	  "weight of the exploration bonus" },
	{ "steps", PARAM_INT, "1000", 1, 100000, NULL,
	  "Adam steps per fit" },
	{ "lr", PARAM_NUMBER, "0.001", 1e-9, 1, NULL,
	  "Adam's learning rate" },
	{ "ensemble", PARAM_INT, "10", 1, 100, NULL,
	  "networks of the doublets ensemble" },
	{ "full", PARAM_BOOL, "true", 0, 0, NULL,
	  "the whole gradient matrix in the bound (apohf), as in the paper; "
	  "false takes its diagonal, as the reference code does" },
	{ "dim", PARAM_INT, "256", 8, 65536, NULL,
	  "dimension of the built-in hashed features (no embedder)" },
	{ "human_duels", PARAM_BOOL, "true", 0, 0, NULL,
	  "start from people's duels between prompts (arms \"prompts\"), "
	  "their prompts joining the pool before those induced" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

#define DUEL_RUBRIC							\
	"- Correct: the response answers the input accurately.\n"	\
	"- Complete: it addresses every part of the input.\n"		\
	"- Clear and concise: it is easy to follow, with no padding."

#define DUEL_JUDGE_SYSTEM						\
	"You are a careful, impartial evaluator of responses written by " \
	"an AI assistant.  Follow the requested output format exactly."

struct duel_state {
	struct cand		**pool;		/* the arms */
	size_t			  npool;
	int64_t			 *ids;		/* from a checkpoint */
	size_t			  nids;
	float			 *x;		/* npool x dim, or NULL */
	size_t			  dim;
	struct bandit_hist	  hist;
	size_t			  human;	/* hist's first: people's */
	struct bandit_model	 *model;
	int64_t			  recommended;	/* candidate id, or 0 */
	/*
	 * Arms "responses": the arms are responses of the target to one
	 * prompt on one input, held here (never in the search's candidates:
	 * they are not prompts) with their metric score as mean.
	 */
	int			  responses;
	size_t			  example;	/* dataset index of the input */
	int64_t			  prompt_id;	/* the prompt answered */
	char			 *prompt;
	struct demos		  demos;	/* the prompt's */
};

static struct duel_state *
duel_state(const struct search *s)
{
	return s->state;
}

/* The place of dataset example k in the dev split. */
static size_t
duel_dev_index(const struct search *s, size_t k)
{
	size_t	i;

	for (i = 0; i < s->ndev && s->dev[i] != k; i++)
		;
	return i;
}

/*
 * Reads the arms parameter and checks what it needs: an example within
 * the dev split, a temperature that gives distinct samples, and for the
 * simulated user a metric that needs no judge.
 */
static int
duel_arms_setup(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	const struct metric	*m = s->task->metric;
	long long		 ex = search_int(s, "example");

	st->responses = strcmp(search_string(s, "arms"), "responses") == 0;
	if (!st->responses)
		return 0;
	if (ex >= (long long)s->ndev)
		return cause_set(cause, "strategy 'duel': example %lld is out "
		    "of range: the dev split has %zu example%s", ex, s->ndev,
		    s->ndev == 1 ? "" : "s");
	st->example = s->dev[ex];
	if (search_number(s, "temperature") <= 0)
		return cause_set(cause, "strategy 'duel': arms 'responses' "
		    "needs a temperature above 0 to sample distinct responses");
	if (strcmp(search_string(s, "feedback"), "sim") == 0 &&
	    (m == NULL || metric_needs_judge(m)))
		return cause_set(cause, "strategy 'duel': feedback 'sim' with "
		    "arms 'responses' needs a metric that scores a response "
		    "without a judge");
	return 0;
}

/*
 * The prompt whose responses are dueled: the job's champion if it has
 * one, else the run's starting prompt (its first seed).
 */
/* The prompt (and demos) the responses answer: candidate id's. */
static int
duel_prompt_load(struct search *s, int64_t id, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct candidate_row	 row;
	int			 rc;

	if ((rc = store_candidate_get(s->store, id, &row, cause)) <= 0)
		return rc == 0 ? cause_set(cause, "no candidate %lld",
		    (long long)id) : -1;
	st->prompt_id = id;
	st->prompt = row.text;
	st->demos = row.demos;
	row.text = NULL;
	memset(&row.demos, 0, sizeof row.demos);
	store_candidate_row_release(&row);
	return 0;
}

static int
duel_prompt_choose(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct champion		 ch;
	int			 rc;

	if ((rc = store_champion_latest(s->store, s->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (rc == 1)
		return duel_prompt_load(s, ch.candidate, cause);
	if (s->ncands == 0)
		return cause_set(cause, "strategy 'duel': arms 'responses' "
		    "needs a seed prompt");
	st->prompt_id = s->cands[0]->id;
	st->prompt = xstrdup(s->cands[0]->text);
	demos_copy(&st->demos, &s->cands[0]->demos);
	return 0;
}

static int
duel_init(struct search *s, char **cause)
{
	if (search_int(s, "hidden") % 8 != 0)
		return cause_set(cause, "strategy 'duel': hidden %lld is not "
		    "a multiple of 8", search_int(s, "hidden"));
	if (strcmp(search_string(s, "feedback"), "judge") == 0 &&
	    s->task->roles[ROLE_JUDGE] == NULL)
		return cause_set(cause, "strategy 'duel': feedback 'judge' "
		    "needs a judge (roles.judge)");
	if (s->state == NULL)
		s->state = xcalloc(1, sizeof(struct duel_state));
	if (duel_arms_setup(s, cause) != 0)
		return -1;
	if (duel_state(s)->responses && duel_prompt_choose(s, cause) != 0)
		return -1;
	return 0;
}

static void
duel_pool_add(struct duel_state *st, struct cand *c)
{
	size_t	i;

	for (i = 0; i < st->npool; i++)
		if (st->pool[i] == c)
			return;
	st->pool = xreallocarray(st->pool, st->npool + 1, sizeof *st->pool);
	st->pool[st->npool++] = c;
}

/*
 * The seeds, the prompts of people's duels (human_duels: up to "pool" of
 * them, their duels the history's first) and the induced instructions
 * to make up "pool", asked for at once.
 */
static int
duel_build_pool(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct meta_var		 vars[2];
	struct cand		**found = NULL;
	char			 count[32];
	size_t			 i, nfound = 0, seeds;
	long long		 per = search_int(s, "per_ask");
	long long		 want = search_int(s, "pool"), human;

	for (i = 0; i < s->ncands; i++)
		duel_pool_add(st, s->cands[i]);
	seeds = st->npool;
	if (search_bool(s, "human_duels")) {
		if ((human = duel_human_start(s, &st->pool, &st->npool,
		    seeds + (size_t)want, &st->hist, cause)) < 0)
			return -1;
		st->human = (size_t)human;
		want -= (long long)(st->npool - seeds);
	}
	if (want <= 0)
		goto out;
	snprintf(count, sizeof count, "%lld", per);
	vars[0].name = "task";
	vars[0].value = s->task->description != NULL ? s->task->description :
	    "(not described)";
	vars[1].name = "count";
	vars[1].value = count;
	if (search_propose(s, "ape_propose", vars, 2,
	    (size_t)search_int(s, "demos"), (size_t)((want + per - 1) / per),
	    search_number(s, "temperature"), (size_t)per,
	    "duel-pool", NULL, &found, &nfound, cause) != 0) {
		free(found);
		return -1;
	}
	for (i = 0; i < nfound; i++) {
		/*
		 * Pool prompts are not in the dev race: only the
		 * recommendation is scored on dev for the champion (and a
		 * resumed run does not score the whole pool).
		 */
		if (!search_complete(s, found[i]))
			found[i]->raced_out = 1;
		duel_pool_add(st, found[i]);
	}
	free(found);
out:
	if (st->npool < 2)
		return cause_set(cause, "strategy 'duel': the pool has %zu "
		    "prompt%s; a duel needs two", st->npool, st->npool == 1 ?
		    "" : "s");
	return 0;
}

/* Embeds the pool: the embedder role, or hashed n-gram features. */
static int
duel_embed_pool(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);

	return search_embed(s, st->pool, st->npool,
	    (size_t)search_int(s, "dim"), &st->x, &st->dim, cause);
}

static int
duel_model_setup(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct bandit_opts	 o;

	bandit_opts_default(&o);
	o.method = (enum bandit_method)bandit_method_lookup(search_string(s,
	    "method"));
	o.hidden = (size_t)search_int(s, "hidden");
	o.lambda = search_number(s, "lambda");
	o.nu = search_number(s, "nu");
	o.full = search_bool(s, "full");
	o.ensemble = (size_t)search_int(s, "ensemble");
	o.train.steps = (unsigned)search_int(s, "steps");
	o.train.lr = search_number(s, "lr");
	o.seed = (uint64_t)s->task->seed;
	if ((st->model = bandit_model_new(&o, st->dim, cause)) == NULL)
		return cause_prefix(cause, "strategy 'duel': ");
	return 0;
}

/* Fits the model: on a worker thread when the search can wait, else here. */
static int
duel_refit(struct search *s, const struct bandit_pool *pool, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct nn_fit		*fit;
	char			*why = NULL;

	if (!search_can_wait(s)) {
		bandit_fit(st->model, pool, &st->hist);
		return 0;
	}
	fit = bandit_fit_start(st->model, pool, &st->hist, &why);
	if (fit == NULL && why != NULL) {
		log_warnx("job '%s': %s; fitting in place", s->task->name, why);
		free(why);
		bandit_fit(st->model, pool, &st->hist);
		return 0;
	}
	while (fit != NULL && !nn_fit_done(fit))
		search_yield(s);
	bandit_fit_finish(st->model, fit);
	return 0;
}

struct duel_reply {
	char	*text;
	char	*error;
};

static int
duel_reply_done(void *arg, const struct engine_result *res, char **cause)
{
	struct duel_reply	*r = arg;

	if (res->ok && res->resp->text != NULL)
		r->text = xstrdup(res->resp->text);
	else
		r->error = xstrdup(res->error != NULL ? res->error :
		    "no reply");
	return 0;
}

/* The metric's score of a response on its example, or NAN without one. */
static double
duel_response_utility(const struct search *s, const char *text)
{
	const struct task	*task = s->task;
	const cJSON		*expected = NULL;

	if (task->metric == NULL || metric_needs_judge(task->metric))
		return NAN;
	if (task->target != NULL)
		expected = example_field(&task->dataset->ex[
		    duel_state(s)->example], task->target);
	return metric_score(task->metric, text, expected, NULL);
}

/* Makes a response an arm (its candidate row exists already). */
static void
duel_response_arm(struct search *s, int64_t id, const char *text)
{
	struct duel_state	*st = duel_state(s);
	struct cand		*c;

	c = xcalloc(1, sizeof *c);
	c->id = id;
	c->text = xstrdup(text);
	c->mean = duel_response_utility(s, text);
	c->lo = c->hi = c->mean;
	c->generation = s->step;
	duel_pool_add(st, c);
}

/*
 * Stores a response as a candidate of origin "duel-response" with a
 * lineage edge to the prompt, and adds it to the pool unless the pool
 * has it already or the text is one of the job's prompts.
 */
static int
duel_response_add(struct search *s, const char *text, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct candidate_row	 row;
	char			*note;
	int64_t			 id;
	size_t			 i;
	int			 rc, response;

	if (text[strspn(text, " \t\r\n")] == '\0')
		return 0;
	if ((id = store_candidate_put(s->store, s->job_id, text,
	    "duel-response", cause)) < 0)
		return -1;
	for (i = 0; i < st->npool; i++)
		if (st->pool[i]->id == id)
			return 0;
	if ((rc = store_candidate_get(s->store, id, &row, cause)) < 0)
		return -1;
	response = rc == 1 && strcmp(row.origin, "duel-response") == 0;
	store_candidate_row_release(&row);
	if (!response) {
		log_info("job '%s': duel: a response is the text of candidate "
		    "%lld, a prompt: left out", s->task->name, (long long)id);
		return 0;
	}
	note = xasprintf("a response of the target on dev example %zu",
	    duel_dev_index(s, duel_state(s)->example));
	rc = store_lineage_add(s->store, id, st->prompt_id, "duel-response",
	    note, cause);
	free(note);
	if (rc != 0)
		return -1;
	duel_response_arm(s, id, text);
	return 0;
}

/*
 * The responses pool: pool samples of the target's response to the
 * prompt on the example, each with its own sample index (so each has its
 * own cache key and a replay is answered by the cache), deduplicated.
 */
static int
duel_build_responses(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	const struct task	*task = s->task;
	const cJSON		*spec;
	struct duel_reply	*out;
	struct model_req	 req;
	const char		*error = NULL;
	size_t			 n, i, failed = 0;
	int			 rc = -1;

	/* A response costs a target call: a smaller pool unless set. */
	spec = s->given;
	n = cJSON_GetObjectItemCaseSensitive(spec, "pool") == NULL ?
	    DUEL_RESPONSE_POOL : (size_t)search_int(s, "pool");
	out = xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++) {
		task_build_request_demos(task, st->prompt, &st->demos,
		    st->example, &req);
		req.temperature = search_number(s, "temperature");
		req.sample = (unsigned)i;
		engine_submit(s->engine, task->roles[ROLE_TARGET], &req,
		    duel_reply_done, &out[i]);
	}
	if (search_wait(s, cause) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (out[i].text == NULL) {
			failed++;
			if (error == NULL)
				error = out[i].error;
		} else if (duel_response_add(s, out[i].text, cause) != 0)
			goto out;
	}
	if (failed > 0)
		log_info("job '%s': duel: %zu of %zu responses failed: %s",
		    task->name, failed, n, error);
	log_info("job '%s': duel: %zu distinct responses of %zu to candidate "
	    "%lld on dev example %lld", task->name, st->npool, n,
	    (long long)st->prompt_id,
	    (long long)duel_dev_index(s, st->example));
	if (st->npool < 2) {
		cause_set(cause, "strategy 'duel': the pool has %zu distinct "
		    "response%s; a duel needs two", st->npool, st->npool == 1 ?
		    "" : "s");
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(out[i].text);
		free(out[i].error);
	}
	free(out);
	return rc;
}

/*
 * The two responses a duel compares: for prompts, the target's responses
 * to both on one input drawn from train (dev if it has none); for
 * responses, the arms themselves on their example.  1 with out[] filled
 * and *k the example, 0 when a call failed (the duel is skipped), -1 with
 * *cause.
 */
static int
duel_responses(struct search *s, struct cand *ca, struct cand *cb,
    struct duel_reply out[2], size_t *k, char **cause)
{
	const struct task	*task = s->task;
	const size_t		*pick = s->ntrain > 0 ? s->train : s->dev;
	size_t			 npick = s->ntrain > 0 ? s->ntrain : s->ndev;
	struct model_req	 req;
	struct cand		*arm[2] = { ca, cb };
	size_t			 i;

	if (duel_state(s)->responses) {
		out[0].text = xstrdup(ca->text);
		out[1].text = xstrdup(cb->text);
		*k = duel_state(s)->example;
		return 1;
	}
	if (npick == 0)
		return cause_set(cause, "strategy 'duel': no examples to "
		    "compare the prompts on");
	*k = pick[rng_below(&s->rng, (uint32_t)npick)];
	for (i = 0; i < 2; i++) {
		task_build_request_demos(task, arm[i]->text, &arm[i]->demos,
		    *k, &req);
		engine_submit(s->engine, task->roles[ROLE_TARGET], &req,
		    duel_reply_done, &out[i]);
	}
	if (search_wait(s, cause) != 0)
		return -1;
	if (out[0].text == NULL || out[1].text == NULL) {
		log_info("job '%s': duel skipped: %s", task->name,
		    out[0].error != NULL ? out[0].error : out[1].error);
		return 0;
	}
	return 1;
}

/*
 * A duel judged by the judge role on one input, asked in both orders
 * through the judge service (which stores the comparison): *y is 1, 0
 * or 0.5, or -1 when it could not be had (budget, errors, no verdict).
 */
static int
duel_judge(struct search *s, struct cand *ca, struct cand *cb, float *y,
    char **cause)
{
	const struct task	*task = s->task;
	const struct dataset	*ds = task->dataset;
	struct duel_reply	 out[2];
	struct judge_ask	 ask;
	const char		*rubric = search_string(s, "rubric");
	char			*input = NULL, *ref = NULL;
	size_t			 k, i;
	int			 rc = -1, r;

	memset(out, 0, sizeof out);
	memset(&ask, 0, sizeof ask);
	*y = -1;
	if ((r = duel_responses(s, ca, cb, out, &k, cause)) <= 0) {
		rc = r;
		goto out;
	}
	input = template_render(task->tmpl, &ds->ex[k], NULL);
	if (task->target != NULL)
		ref = json_text(example_field(&ds->ex[k], task->target));
	ask.system = DUEL_JUDGE_SYSTEM;
	ask.norders = 2;
	for (i = 0; i < 2; i++) {
		ask.user[i] = metric_judge_pair_prompt(*rubric != '\0' ?
		    rubric : DUEL_RUBRIC, input, out[i].text, out[1 - i].text,
		    ref);
		ask.order[i] = (int)i;
	}
	ask.record = 1;
	ask.rec.job = s->job_id;
	ask.rec.a = ca->id;
	ask.rec.b = cb->id;
	ask.rec.example = ds->ex[k].id;
	ask.rec.output_a = out[0].text;
	ask.rec.output_b = out[1].text;
	search_judge(s, task->roles[ROLE_JUDGE], &ask);
	if (search_wait(s, cause) != 0)
		goto out;
	if (ask.verdict == VERDICT_NONE) {
		log_info("job '%s': duel skipped: %s", task->name, ask.error);
		rc = 0;
		goto out;
	}
	*y = ask.verdict == VERDICT_A ? 1.0f : ask.verdict == VERDICT_B ?
	    0.0f : 0.5f;
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		free(out[i].text);
		free(out[i].error);
	}
	judge_ask_release(&ask);
	free(input);
	free(ref);
	return rc;
}

/* Scores candidates on all of dev, without racing. */
static int
duel_evaluate(struct search *s, struct cand *const *cands, size_t n,
    char **cause)
{
	int	racing = s->racing, rc;

	s->racing = 0;
	rc = search_evaluate(s, cands, n, cause);
	s->racing = racing;
	return rc;
}

/*
 * The latent utilities of two prompts for the simulated user: their mean
 * dev scores.  1, 0 when they could not be scored, -1 with *cause.
 */
static int
duel_sim_score(struct search *s, struct cand *ca, struct cand *cb,
    char **cause)
{
	struct cand	*pair[2] = { ca, cb };

	if (duel_evaluate(s, pair, 2, cause) != 0)
		return -1;
	/* Arms scored on all of dev may become champion like any other. */
	if (search_complete(s, ca))
		ca->raced_out = 0;
	if (search_complete(s, cb))
		cb->raced_out = 0;
	if (ca->nscored == 0 || cb->nscored == 0) {
		log_info("job '%s': duel skipped: the prompts could not be "
		    "scored", s->task->name);
		return 0;
	}
	return 1;
}

/*
 * A duel decided by the simulated user: the latent utility of a prompt is
 * its mean dev score, that of a response its metric score on its example
 * (kept as its mean).
 */
static int
duel_sim(struct search *s, struct cand *ca, struct cand *cb, float *y,
    char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct comparison_record rec;
	double			 tau = search_number(s, "tau");
	char			*why;
	int			 r;

	*y = -1;
	memset(&rec, 0, sizeof rec);
	if (st->responses) {
		rec.example = s->task->dataset->ex[st->example].id;
		rec.output_a = ca->text;
		rec.output_b = cb->text;
	} else if ((r = duel_sim_score(s, ca, cb, cause)) <= 0)
		return r;
	*y = bandit_sim_prefer(ca->mean, cb->mean, tau, &s->rng);
	why = xasprintf("latent utilities %.4f and %.4f (%s), tau %g",
	    ca->mean, cb->mean, st->responses ? "metric score on the example" :
	    "mean dev score", tau);
	rec.job = s->job_id;
	rec.a = ca->id;
	rec.b = cb->id;
	rec.winner = *y == 1.0f ? "a" : "b";
	rec.source = "sim";
	rec.order_shown = "ab";
	rec.rationale = why;
	if (store_comparison_add(s->store, &rec, cause) < 0) {
		free(why);
		return -1;
	}
	free(why);
	return 0;
}

/* A duel queued for a person, and its row once answered. */
struct duel_wait {
	struct search		*s;
	int64_t			 id;
	struct comparison_row	*row;
};

/* Whether the duel was answered: 1 with its row, 0, or -1 with *cause. */
static int
duel_answered(void *arg, char **cause)
{
	struct duel_wait	*w = arg;
	int			 r;

	if ((r = store_comparison_get(w->s->store, w->id, w->row,
	    cause)) < 0)
		return -1;
	if (r == 0)
		return cause_set(cause, "strategy 'duel': duel %lld is gone "
		    "from the store", (long long)w->id);
	if (w->row->winner != NULL)
		return 1;
	store_comparison_row_release(w->row);
	return 0;
}

/*
 * A duel decided by a person: the two responses on one input are queued
 * in the store in a random order, then the step waits in its fiber, one
 * store read per resume and no model call, until promptctl feedback
 * answers it.  *y is 1, 0 or 0.5, or -1 for a skip or a failed call.
 */
static int
duel_human(struct search *s, struct cand *ca, struct cand *cb, float *y,
    char **cause)
{
	const struct task	*task = s->task;
	const struct dataset	*ds = task->dataset;
	struct comparison_record rec;
	struct comparison_row	 row;
	struct duel_reply	 out[2];
	struct duel_wait	 wait;
	char			*input = NULL;
	int64_t			 id;
	size_t			 k, i;
	int			 rc = -1, r;

	memset(out, 0, sizeof out);
	memset(&row, 0, sizeof row);
	*y = -1;
	if ((r = duel_responses(s, ca, cb, out, &k, cause)) <= 0) {
		rc = r;
		goto out;
	}
	input = search_input(s, k);
	memset(&rec, 0, sizeof rec);
	rec.job = s->job_id;
	rec.a = ca->id;
	rec.b = cb->id;
	rec.example = ds->ex[k].id;
	rec.output_a = out[0].text;
	rec.output_b = out[1].text;
	rec.order_shown = rng_below(&s->rng, 2) == 0 ? "ab" : "ba";
	if ((id = store_comparison_queue(s->store, &rec, input, cause)) < 0)
		goto out;
	log_info("job '%s': duel %lld waits for feedback (promptctl feedback "
	    "%s)", task->name, (long long)id, task->name);
	wait.s = s;
	wait.id = id;
	wait.row = &row;
	if (search_wait_until(s, duel_answered, &wait, cause) != 0)
		goto out;
	if (strcmp(row.winner, "a") == 0)
		*y = 1.0f;
	else if (strcmp(row.winner, "b") == 0)
		*y = 0.0f;
	else if (strcmp(row.winner, "tie") == 0)
		*y = 0.5f;
	else
		log_info("job '%s': duel %lld skipped by %s", task->name,
		    (long long)id, row.who != NULL ? row.who : "someone");
	rc = 0;
out:
	store_comparison_row_release(&row);
	for (i = 0; i < 2; i++) {
		free(out[i].text);
		free(out[i].error);
	}
	free(input);
	return rc;
}

/* A response of the job by its candidate id, from the store. */
static int
duel_response_load(struct search *s, int64_t id, char **cause)
{
	struct candidate_row	row;
	int			rc;

	if ((rc = store_candidate_get(s->store, id, &row, cause)) < 0)
		return -1;
	if (rc == 0 || row.job != s->job_id || strcmp(row.origin,
	    "duel-response") != 0) {
		store_candidate_row_release(&row);
		return cause_set(cause, "strategy 'duel': checkpoint names "
		    "candidate %lld, which is not a response of the job",
		    (long long)id);
	}
	duel_response_arm(s, id, row.text);
	store_candidate_row_release(&row);
	return 0;
}

/* Restores the pool from the checkpoint's candidate ids. */
static int
duel_resolve_pool(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	size_t			 i, j;

	for (i = 0; i < st->nids; i++) {
		if (st->responses) {
			if (duel_response_load(s, st->ids[i], cause) != 0)
				return -1;
			continue;
		}
		for (j = 0; j < s->ncands; j++)
			if (s->cands[j]->id == st->ids[i])
				break;
		if (j == s->ncands)
			return cause_set(cause, "strategy 'duel': checkpoint "
			    "names candidate %lld, which the run does not "
			    "have", (long long)st->ids[i]);
		duel_pool_add(st, s->cands[j]);
	}
	free(st->ids);
	st->ids = NULL;
	st->nids = 0;
	return 0;
}

/*
 * The end of a responses run: the recommended response, in the log and in
 * the job's events (promptctl events; promptctl lineage shows it whole).
 * With a metric, its score on the example against the pool's mean.
 */
static int
duel_report_response(struct search *s, const struct cand *rec,
    char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct strbuf		 sb;
	char			*text;
	double			 sum = 0;
	size_t			 i;
	int			 rc;

	strbuf_init(&sb);
	strbuf_addf(&sb, "duel: recommended response: candidate %lld, of %zu "
	    "responses of candidate %lld on dev example %lld, after %zu "
	    "duels", (long long)rec->id, st->npool, (long long)st->prompt_id,
	    (long long)duel_dev_index(s, st->example), st->hist.n);
	if (!isnan(rec->mean)) {
		for (i = 0; i < st->npool; i++)
			sum += st->pool[i]->mean;
		strbuf_addf(&sb, "; metric %.3f, pool mean %.3f", rec->mean,
		    sum / (double)st->npool);
	}
	text = log_escape(rec->text, 200);
	strbuf_addf(&sb, ": \"%s\"", text);
	free(text);
	rc = search_event(s, "info", sb.buf, cause);
	strbuf_release(&sb);
	return rc;
}

static int
duel_step(struct search *s, char **cause)
{
	struct duel_state	*st = duel_state(s);
	struct bandit_pool	 pool;
	struct cand		*rec;
	uint32_t		 a, b, r;
	float			 y;
	long long		 rounds = search_int(s, "rounds");
	int			 rc;

	if (strcmp(search_string(s, "feedback"), "human") == 0 &&
	    !search_can_wait(s))
		return cause_set(cause, "strategy 'duel': feedback 'human' "
		    "needs the daemon (submit the job with promptctl submit "
		    "and answer with promptctl feedback); use \"judge\" or "
		    "\"sim\" to run it here");
	if (st->nids > 0 && duel_resolve_pool(s, cause) != 0)
		return -1;
	if (st->npool == 0 && (st->responses ? duel_build_responses(s,
	    cause) : duel_build_pool(s, cause)) != 0)
		return -1;
	if (st->x == NULL) {
		if (duel_embed_pool(s, cause) != 0)
			return -1;
		if (duel_model_setup(s, cause) != 0)
			return -1;
	}
	pool.n = st->npool;
	pool.dim = st->dim;
	pool.x = st->x;
	if (st->hist.n > 0 && (long long)st->hist.n >= search_int(s, "init") &&
	    duel_refit(s, &pool, cause) != 0)
		return -1;
	if ((long long)(st->hist.n - st->human) >= rounds) {
		/* Done: evaluate the recommendation for the champion. */
		r = bandit_recommend(st->model, &pool, &st->hist, &s->rng);
		rec = st->pool[r];
		st->recommended = rec->id;
		if (st->responses)
			return duel_report_response(s, rec, cause);
		rec->raced_out = 0;
		if (duel_evaluate(s, &rec, 1, cause) != 0)
			return -1;
		log_info("job '%s': duel: recommended candidate %lld after "
		    "%zu duels: %.3f on dev", s->task->name, (long long)rec->id,
		    st->hist.n, rec->mean);
		return 0;
	}
	if ((long long)st->hist.n < search_int(s, "init")) {
		a = rng_below(&s->rng, (uint32_t)pool.n);
		b = rng_below(&s->rng, (uint32_t)pool.n - 1);
		if (b >= a)
			b++;
	} else
		bandit_select(st->model, &pool, &st->hist, &s->rng, &a, &b);
	if (strcmp(search_string(s, "feedback"), "sim") == 0)
		rc = duel_sim(s, st->pool[a], st->pool[b], &y, cause);
	else if (strcmp(search_string(s, "feedback"), "human") == 0)
		rc = duel_human(s, st->pool[a], st->pool[b], &y, cause);
	else
		rc = duel_judge(s, st->pool[a], st->pool[b], &y, cause);
	if (rc != 0)
		return -1;
	if (y >= 0) {
		s->progress++;
		bandit_hist_add(&st->hist, a, b, y);
		if (st->hist.n >= 2 && (long long)st->hist.n >=
		    search_int(s, "init")) {
			r = bandit_recommend(st->model, &pool, &st->hist,
			    &s->rng);
			st->recommended = st->pool[r]->id;
		}
	}
	return 1;
}

static cJSON *
duel_save(struct search *s)
{
	struct duel_state	*st = duel_state(s);
	cJSON			*o, *pool, *duels, *d;
	size_t			 i;

	o = cJSON_CreateObject();
	pool = cJSON_AddArrayToObject(o, "pool");
	duels = cJSON_AddArrayToObject(o, "duels");
	if (st == NULL)
		return o;
	for (i = 0; i < st->npool; i++)
		cJSON_AddItemToArray(pool,
		    cJSON_CreateNumber((double)st->pool[i]->id));
	for (i = 0; i < st->hist.n; i++) {
		d = cJSON_CreateArray();
		cJSON_AddItemToArray(d, cJSON_CreateNumber(st->hist.a[i]));
		cJSON_AddItemToArray(d, cJSON_CreateNumber(st->hist.b[i]));
		cJSON_AddItemToArray(d, cJSON_CreateNumber(st->hist.y[i]));
		cJSON_AddItemToArray(duels, d);
	}
	cJSON_AddNumberToObject(o, "recommended", (double)st->recommended);
	cJSON_AddNumberToObject(o, "human", (double)st->human);
	if (st->responses) {
		cJSON_AddNumberToObject(o, "prompt", (double)st->prompt_id);
		/* The input the responses answer, by content (the source of
		 * truth on resume), and its place in dev for promptctl. */
		cJSON_AddStringToObject(o, "example_hash",
		    s->task->dataset->ex[st->example].hash);
		cJSON_AddNumberToObject(o, "example",
		    (double)duel_dev_index(s, st->example));
	}
	return o;
}

static int
duel_load(struct search *s, const cJSON *state, char **cause)
{
	struct duel_state	*st;
	const cJSON		*pool, *duels, *v, *d;
	double			 a, b, y;
	size_t			 n = 0, i;

	if (s->state == NULL)
		s->state = xcalloc(1, sizeof(struct duel_state));
	st = duel_state(s);
	pool = cJSON_GetObjectItemCaseSensitive(state, "pool");
	duels = cJSON_GetObjectItemCaseSensitive(state, "duels");
	if (!cJSON_IsArray(pool) || !cJSON_IsArray(duels))
		return cause_set(cause, "strategy 'duel': checkpoint has no "
		    "pool or duels");
	cJSON_ArrayForEach(v, pool) {
		if (!cJSON_IsNumber(v))
			return cause_set(cause, "strategy 'duel': checkpoint "
			    "pool: expected candidate ids");
		st->ids = xreallocarray(st->ids, st->nids + 1,
		    sizeof *st->ids);
		st->ids[st->nids++] = (int64_t)v->valuedouble;
	}
	n = st->nids;
	cJSON_ArrayForEach(d, duels) {
		if (cJSON_GetArraySize(d) != 3)
			return cause_set(cause, "strategy 'duel': checkpoint "
			    "duel: expected [a, b, y]");
		a = cJSON_GetNumberValue(cJSON_GetArrayItem(d, 0));
		b = cJSON_GetNumberValue(cJSON_GetArrayItem(d, 1));
		y = cJSON_GetNumberValue(cJSON_GetArrayItem(d, 2));
		if (!(a >= 0 && a < (double)n && b >= 0 && b < (double)n &&
		    a != b && y >= 0 && y <= 1))
			return cause_set(cause, "strategy 'duel': checkpoint "
			    "duel [%g, %g, %g] is out of range", a, b, y);
		bandit_hist_add(&st->hist, (uint32_t)a, (uint32_t)b, (float)y);
	}
	st->recommended = (int64_t)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(state, "recommended"));
	/* People's duels among them; none in a checkpoint from before. */
	v = cJSON_GetObjectItemCaseSensitive(state, "human");
	if (v != NULL && !(cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble <= (double)st->hist.n))
		return cause_set(cause, "strategy 'duel': checkpoint: human "
		    "is not a count of its duels");
	st->human = v != NULL ? (size_t)v->valuedouble : 0;
	if (duel_arms_setup(s, cause) != 0)
		return -1;
	if (!st->responses)
		return 0;
	v = cJSON_GetObjectItemCaseSensitive(state, "prompt");
	if (!cJSON_IsNumber(v))
		return cause_set(cause, "strategy 'duel': checkpoint has no "
		    "prompt for arms 'responses'");
	st->prompt_id = (int64_t)v->valuedouble;
	/*
	 * The pool answers the input the checkpoint names, wherever it is
	 * in the dev split now; if the data no longer has it there, the
	 * run cannot go on with these responses.
	 */
	v = cJSON_GetObjectItemCaseSensitive(state, "example_hash");
	if (cJSON_IsString(v)) {
		for (i = 0; i < s->ndev; i++)
			if (strcmp(s->task->dataset->ex[s->dev[i]].hash,
			    v->valuestring) == 0)
				break;
		if (i == s->ndev)
			return cause_set(cause, "strategy 'duel': the dev "
			    "example the checkpoint's responses answer is no "
			    "longer in the dev split");
		st->example = s->dev[i];
	}
	return duel_prompt_load(s, st->prompt_id, cause);
}

static void
duel_free(struct search *s)
{
	struct duel_state	*st = duel_state(s);
	size_t			 i;

	if (st == NULL)
		return;
	for (i = 0; st->responses && i < st->npool; i++) {
		free(st->pool[i]->text);
		free(st->pool[i]);
	}
	free(st->prompt);
	demos_release(&st->demos);
	free(st->pool);
	free(st->ids);
	free(st->x);
	bandit_hist_release(&st->hist);
	bandit_model_free(st->model);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_duel_ops = {
	.name = "duel",
	.params = duel_params,
	.init = duel_init,
	.step = duel_step,
	.save = duel_save,
	.load = duel_load,
	.free = duel_free,
	.wants_feedback = duel_wants_feedback,
};
