/*
 * Evaluation: a task's prompts scored on its examples through the engine
 * (target calls, then the metric or the judge), each score stored.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "jsonc.h"
#include "judge.h"
#include "metric.h"
#include "store.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* Evaluation: one state per item, shared by its target and judge calls. */
struct eval_state {
	struct engine		*engine;
	struct eval_batch	*batch;
	const struct task	*task;
	struct eval_item	*item;
	int64_t			 call;		/* the target call */
	char			*feedback;
	struct judge_ask	 judge;
};

struct eval_batch {
	struct eval_state	*states;
	size_t			 n;
	size_t			 pending;	/* items not finished */
};

/*
 * An item is finished (scored, failed or stopped): the batch's last one
 * wakes whoever waits for it (engine_wake()).
 */
static void
eval_over(struct eval_state *st)
{
	if (--st->batch->pending == 0)
		engine_wake(st->engine);
}

static int
eval_store(struct eval_state *st, double score, char **cause)
{
	const struct example	*ex;

	eval_over(st);
	ex = &st->task->dataset->ex[st->item->example];
	if (store_evaluation_add(engine_store(st->engine), engine_run_id(st->engine),
	    st->item->candidate, ex->id, st->item->output, score, st->feedback,
	    st->call, cause) < 0)
		return -1;
	st->item->score = score;
	st->item->done = 1;
	return 0;
}

/*
 * An item that could not be scored: the cause is kept with it and in the
 * store, unless a budget stopped it (nothing failed then).
 */
static int
eval_fail(struct eval_state *st, const char *error, int stopped,
    char **cause)
{
	const struct example	*ex;

	eval_over(st);
	free(st->item->error);
	st->item->error = xstrdup(error != NULL ? error : "unknown error");
	if (stopped)
		return 0;
	st->item->failed = 1;
	ex = &st->task->dataset->ex[st->item->example];
	return store_evaluation_fail(engine_store(st->engine), engine_run_id(st->engine),
	    st->item->candidate, ex->id, st->item->output, st->item->error,
	    st->call, cause) < 0 ? -1 : 0;
}

static int
eval_judged(void *arg, struct judge_ask *ask, char **cause)
{
	struct eval_state	*st = arg;

	if (ask->nread == 0)
		return eval_fail(st, ask->error, engine_stopped(st->engine) !=
		    ENGINE_OK, cause);
	st->feedback = ask->rationale;
	ask->rationale = NULL;
	return eval_store(st, ask->score, cause);
}

static int
eval_target_done(void *arg, const struct engine_result *res, char **cause)
{
	struct eval_state	*st = arg;
	const struct task	*task = st->task;
	const struct example	*ex;
	const cJSON		*expected = NULL;
	struct judge_ask	*ask = &st->judge;
	cJSON			*msgs;
	char			*input, *ref = NULL;
	int			 rev;
	double			 score;

	if (!res->ok) {
		st->call = res->call;
		return eval_fail(st, res->error, res->stopped, cause);
	}
	st->call = res->call;
	st->item->output = xstrdup(res->resp->text != NULL ?
	    res->resp->text : "");
	ex = &task->dataset->ex[st->item->example];
	if (task->target != NULL)
		expected = example_field(ex, task->target);
	if (!metric_needs_judge(task->metric)) {
		score = metric_score(task->metric, st->item->output,
		    expected, &st->feedback);
		return eval_store(st, score, cause);
	}
	if (task->roles[ROLE_JUDGE] == NULL)
		return eval_fail(st, "the judge metric needs a judge backend",
		    0, cause);
	/*
	 * The judge sees the task input without the prompt.  Pairwise
	 * judging is asked in both orders to cancel position bias.
	 */
	input = template_render(task->tmpl, ex, NULL);
	if (expected != NULL)
		ref = json_text(expected);
	memset(ask, 0, sizeof *ask);
	ask->grade = !metric_judge_pairwise(task->metric);
	ask->norders = !ask->grade && ref != NULL ? 2 : 1;
	ask->temperature = 0;
	ask->system = metric_judge_system();
	for (rev = 0; rev < ask->norders; rev++) {
		msgs = metric_judge_messages(task->metric, input,
		    st->item->output, ref, rev);
		ask->user[rev] = xstrdup(cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs,
		    1), "content")));
		ask->order[rev] = rev;
		cJSON_Delete(msgs);
	}
	judge_submit(st->engine, task->roles[ROLE_JUDGE], ask, eval_judged,
	    st);
	free(input);
	free(ref);
	return 0;
}

struct eval_batch *
eval_start(struct engine *e, const struct task *task,
    struct eval_item *items, size_t n)
{
	struct eval_batch	*b;
	struct model_req	 req;
	size_t			 i;

	b = xcalloc(1, sizeof *b);
	b->states = xcalloc(n, sizeof *b->states);
	b->n = b->pending = n;
	for (i = 0; i < n; i++) {
		b->states[i].engine = e;
		b->states[i].batch = b;
		b->states[i].task = task;
		b->states[i].item = &items[i];
		task_build_request_demos(task, items[i].prompt, items[i].demos,
		    items[i].example, &req);
		engine_submit(e, task->roles[ROLE_TARGET], &req,
		    eval_target_done, &b->states[i]);
	}
	return b;
}

int
eval_finished(const struct eval_batch *b)
{
	return b->pending == 0;
}

void
eval_end(struct eval_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->states[i].feedback);
		judge_ask_release(&b->states[i].judge);
	}
	free(b->states);
	free(b);
}

int
eval_run(struct engine *e, const struct task *task, struct eval_item *items,
    size_t n, char **cause)
{
	struct eval_batch	*b;
	int			 rc;

	b = eval_start(e, task, items, n);
	rc = engine_run(e, cause);
	eval_end(b);
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
