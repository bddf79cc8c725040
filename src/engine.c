/*
 * The engine: cache, budget, accounting and callbacks for model calls,
 * and prompt evaluation on top of them.
 *
 * Requests are carried out in submission order.  In-process backends
 * answer at once; HTTP backends will be driven by one libcurl multi
 * handle behind the same queue.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "jsonc.h"
#include "log.h"
#include "metric.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

struct engine_req {
	struct backend		*backend;
	struct model_req	 req;
	engine_done_fn		*done;
	void			*arg;
	struct engine_req	*next;
};

struct engine {
	struct store		*store;
	int64_t			 run;
	const struct budget	*budget;
	enum cache_mode		 cache;
	double			 started;
	struct engine_req	*head;
	struct engine_req	*tail;
	size_t			 queued;
	size_t			 finished;
	struct run_totals	 totals;
	enum engine_stop	 stop;
	engine_progress_fn	*progress;
	void			*progress_arg;
};

struct engine *
engine_new(struct store *store, int64_t run, const struct budget *budget,
    enum cache_mode cache)
{
	struct engine	*e;

	e = xcalloc(1, sizeof *e);
	e->store = store;
	e->run = run;
	e->budget = budget;
	e->cache = cache;
	e->started = time_mono();
	return e;
}

static void
engine_req_free(struct engine_req *r)
{
	model_req_release(&r->req);
	free(r);
}

void
engine_free(struct engine *e)
{
	struct engine_req	*r, *next;

	if (e == NULL)
		return;
	for (r = e->head; r != NULL; r = next) {
		next = r->next;
		engine_req_free(r);
	}
	free(e);
}

void
engine_set_progress(struct engine *e, engine_progress_fn *fn, void *arg)
{
	e->progress = fn;
	e->progress_arg = arg;
}

void
engine_submit(struct engine *e, struct backend *b, struct model_req *req,
    engine_done_fn *done, void *arg)
{
	struct engine_req	*r;

	r = xcalloc(1, sizeof *r);
	r->backend = b;
	r->req = *req;
	memset(req, 0, sizeof *req);
	r->done = done;
	r->arg = arg;
	if (e->tail != NULL)
		e->tail->next = r;
	else
		e->head = r;
	e->tail = r;
	e->queued++;
}

/* Whether the budget allows one more paid call. */
static enum engine_stop
engine_budget_check(struct engine *e)
{
	const struct budget	*b = e->budget;

	if (b == NULL)
		return ENGINE_OK;
	if (b->max_calls > 0 && e->totals.calls >= b->max_calls)
		return ENGINE_MAX_CALLS;
	if (b->max_tokens > 0 && e->totals.tokens >= b->max_tokens)
		return ENGINE_MAX_TOKENS;
	if (b->max_dollars > 0 && e->totals.dollars >= b->max_dollars)
		return ENGINE_MAX_DOLLARS;
	if (b->deadline > 0 && time_mono() - e->started >= b->deadline)
		return ENGINE_DEADLINE;
	return ENGINE_OK;
}

const char *
engine_stop_reason(enum engine_stop s)
{
	switch (s) {
	case ENGINE_OK:
		return "ok";
	case ENGINE_MAX_CALLS:
		return "budget exhausted: max_calls reached";
	case ENGINE_MAX_TOKENS:
		return "budget exhausted: max_tokens reached";
	case ENGINE_MAX_DOLLARS:
		return "budget exhausted: max_dollars reached";
	case ENGINE_DEADLINE:
		return "budget exhausted: deadline passed";
	}
	return "unknown";
}

/*
 * Carries out one request: from the cache, or paid; records the call and
 * runs the callback in one transaction.
 */
static int
engine_one(struct engine *e, struct engine_req *r, char **cause)
{
	struct model_resp	 resp;
	struct engine_result	 res;
	struct call_record	 rec;
	char			 key[65], *cached = NULL, *json, *err = NULL;
	double			 t0;
	int			 hit = 0, rc;

	memset(&resp, 0, sizeof resp);
	memset(&res, 0, sizeof res);
	memset(&rec, 0, sizeof rec);
	model_req_key(r->backend, &r->req, key);
	rec.run = e->run;
	rec.backend = r->backend->name;
	rec.model = r->backend->model;
	rec.role = r->req.role;
	rec.key = key;
	rec.attempt = 1;

	if (e->cache != CACHE_OFF) {
		if ((hit = store_cache_get(e->store, key, &cached, cause)) < 0)
			return -1;
		if (hit && model_resp_from_json(cached, &resp, &err) != 0) {
			log_warnx("ignoring cache entry %.12s: %s", key, err);
			free(err);
			err = NULL;
			hit = 0;
		}
		free(cached);
	}
	t0 = time_mono();
	if (hit) {
		rec.cached = 1;
		rec.status = "hit";
		rec.prompt_tokens = resp.prompt_tokens;
		rec.completion_tokens = resp.completion_tokens;
		e->totals.hits++;
	} else if ((e->stop = engine_budget_check(e)) != ENGINE_OK) {
		res.error = engine_stop_reason(e->stop);
		rc = r->done(r->arg, &res, cause);
		e->finished++;
		return rc;
	} else {
		if (r->backend->ops->call == NULL)
			rc = cause_set(&err, "backend '%s' (%s) cannot be "
			    "called in this build", r->backend->name,
			    r->backend->ops->name);
		else
			rc = r->backend->ops->call(r->backend, &r->req, &resp,
			    &err);
		rec.latency = time_mono() - t0;
		rec.prompt_tokens = resp.prompt_tokens;
		rec.completion_tokens = resp.completion_tokens;
		rec.cost = backend_cost(r->backend, resp.prompt_tokens,
		    resp.completion_tokens);
		rec.status = rc == 0 ? "ok" : "error";
		rec.error = err;
		e->totals.calls++;
		e->totals.tokens += resp.prompt_tokens + resp.completion_tokens;
		e->totals.dollars += rec.cost;
	}

	if (store_begin(e->store, cause) != 0)
		goto fail;
	if ((res.call = store_call_add(e->store, &rec, cause)) < 0)
		goto rollback;
	if (!hit && err == NULL && e->cache == CACHE_ON) {
		json = model_resp_to_json(&resp);
		rc = store_cache_put(e->store, key, json, cause);
		free(json);
		if (rc != 0)
			goto rollback;
	}
	res.ok = err == NULL;
	res.cached = hit;
	res.resp = &resp;
	res.error = err;
	if (r->done(r->arg, &res, cause) != 0)
		goto rollback;
	if (store_commit(e->store, cause) != 0)
		goto rollback;
	e->finished++;
	free(err);
	model_resp_release(&resp);
	return 0;
rollback:
	store_rollback(e->store);
fail:
	free(err);
	model_resp_release(&resp);
	return -1;
}

int
engine_run(struct engine *e, char **cause)
{
	struct engine_req	*r;
	int			 rc;

	while ((r = e->head) != NULL) {
		e->head = r->next;
		if (e->head == NULL)
			e->tail = NULL;
		e->queued--;
		rc = engine_one(e, r, cause);
		engine_req_free(r);
		if (rc != 0)
			return -1;
		if (e->progress != NULL)
			e->progress(e->progress_arg, e);
	}
	return 0;
}

void
engine_totals(const struct engine *e, struct run_totals *t)
{
	*t = e->totals;
}

enum engine_stop
engine_stopped(const struct engine *e)
{
	return e->stop;
}

size_t
engine_done_count(const struct engine *e)
{
	return e->finished;
}

size_t
engine_queued(const struct engine *e)
{
	return e->queued;
}

/* Evaluation: one state per item, shared by its target and judge calls. */
struct eval_state;
struct judge_slot {
	struct eval_state	*st;
	int			 reversed;	/* reference shown first */
};

struct eval_state {
	struct engine		*engine;
	const struct job	*job;
	struct eval_item	*item;
	int64_t			 call;		/* the target call */
	int			 pending;	/* judge replies awaited */
	int			 judged;	/* judge replies received */
	double			 sum;
	char			*feedback;
	struct judge_slot	 slots[2];
};

static int
eval_store(struct eval_state *st, double score, char **cause)
{
	const struct example	*ex;

	ex = &st->job->task.dataset->ex[st->item->example];
	if (store_evaluation_add(st->engine->store, st->engine->run,
	    st->item->candidate, ex->id, st->item->output, score, st->feedback,
	    st->call, cause) < 0)
		return -1;
	st->item->score = score;
	st->item->done = 1;
	return 0;
}

static int
eval_judge_done(void *arg, const struct engine_result *res, char **cause)
{
	struct judge_slot	*slot = arg;
	struct eval_state	*st = slot->st;
	double			 score;
	char			*rationale = NULL, *err = NULL;

	st->pending--;
	if (!res->ok) {
		free(st->item->error);
		st->item->error = xasprintf("judge: %s", res->error);
		return 0;
	}
	st->judged++;
	if (metric_judge_parse(st->job->task.metric, res->resp->text,
	    slot->reversed, &score, &rationale, &err) != 0) {
		free(st->item->error);
		st->item->error = xasprintf("judge: %s", err);
		free(err);
		return 0;
	}
	st->sum += score;
	if (st->feedback == NULL)
		st->feedback = rationale;
	else
		free(rationale);
	if (st->pending > 0 || st->item->error != NULL)
		return 0;
	return eval_store(st, st->sum / st->judged, cause);
}

static int
eval_target_done(void *arg, const struct engine_result *res, char **cause)
{
	struct eval_state	*st = arg;
	const struct job	*job = st->job;
	const struct example	*ex;
	const cJSON		*expected = NULL;
	struct model_req	 req;
	cJSON			*msgs, *m;
	char			*input, *ref = NULL;
	int			 rev, nrev, role;
	double			 score;

	if (!res->ok) {
		st->item->error = xstrdup(res->error);
		return 0;
	}
	st->call = res->call;
	st->item->output = xstrdup(res->resp->text != NULL ?
	    res->resp->text : "");
	ex = &job->task.dataset->ex[st->item->example];
	if (job->task.target != NULL)
		expected = example_field(ex, job->task.target);
	if (!metric_needs_judge(job->task.metric)) {
		score = metric_score(job->task.metric, st->item->output,
		    expected, &st->feedback);
		return eval_store(st, score, cause);
	}
	if (job->roles[ROLE_JUDGE] == NULL) {
		st->item->error = xstrdup("the judge metric needs a judge "
		    "backend");
		return 0;
	}
	/*
	 * The judge sees the task input without the prompt.  Pairwise
	 * judging is asked in both orders to cancel position bias.
	 */
	input = template_render(job->task.tmpl, ex, NULL);
	if (expected != NULL)
		ref = json_text(expected);
	nrev = ref != NULL ? 2 : 1;
	for (rev = 0; rev < nrev; rev++) {
		msgs = metric_judge_messages(job->task.metric, input,
		    st->item->output, ref, rev);
		model_req_init(&req, REQ_CHAT, job_role_name(ROLE_JUDGE));
		req.temperature = 0;
		cJSON_ArrayForEach(m, msgs) {
			role = strcmp(cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(m, "role")),
			    "system") == 0 ? MSG_SYSTEM : MSG_USER;
			model_req_add(&req, (enum msg_role)role,
			    cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(m, "content")));
		}
		cJSON_Delete(msgs);
		st->pending++;
		st->slots[rev].st = st;
		st->slots[rev].reversed = rev;
		engine_submit(st->engine, job->roles[ROLE_JUDGE], &req,
		    eval_judge_done, &st->slots[rev]);
	}
	free(input);
	free(ref);
	return 0;
}

int
engine_eval(struct engine *e, const struct job *job, struct eval_item *items,
    size_t n, char **cause)
{
	struct eval_state	*states;
	struct model_req	 req;
	size_t			 i;
	int			 rc;

	states = xcalloc(n, sizeof *states);
	for (i = 0; i < n; i++) {
		states[i].engine = e;
		states[i].job = job;
		states[i].item = &items[i];
		job_build_request(job, items[i].prompt, job->task.dataset,
		    items[i].example, &req);
		engine_submit(e, job->roles[ROLE_TARGET], &req,
		    eval_target_done, &states[i]);
	}
	rc = engine_run(e, cause);
	for (i = 0; i < n; i++)
		free(states[i].feedback);
	free(states);
	return rc;
}

void
eval_items_release(struct eval_item *items, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(items[i].output);
		free(items[i].error);
		items[i].output = items[i].error = NULL;
	}
}
