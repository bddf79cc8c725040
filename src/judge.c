/*
 * The judge service: questions to the judge role in one or both orders,
 * replies read by the reply reader, one repair turn, outcomes and
 * comparisons stored.  See judge.h.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "engine.h"
#include "judge.h"
#include "log.h"
#include "reply.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define JUDGE_REPAIR_VERDICT						\
	"Your reply has no verdict that can be read.  End your reply "	\
	"with a final line that is exactly one of \"Winner: A\", "	\
	"\"Winner: B\" or \"Winner: tie\"."
#define JUDGE_REPAIR_GRADE						\
	"Your reply has no score that can be read.  End your reply with " \
	"a final line of the form \"Score: N\", where N is an integer "	\
	"from 1 to 10."

static int	judge_answer(void *, const struct engine_result *, char **);

/* Sends order i: the question, or the repair of a reply to it. */
static void
judge_send(struct judge_ask *ask, int i, const char *reply)
{
	struct model_req	 req;
	const char		*evidence;
	char			*user = NULL;

	model_req_init(&req, REQ_CHAT, "judge");
	if (ask->system != NULL)
		model_req_add(&req, MSG_SYSTEM, ask->system);
	/*
	 * People's preferences go before a comparison's question, the same
	 * block in every one of the run (the cache key follows the text);
	 * with none the question is sent as it is.
	 */
	evidence = engine_judge_evidence(ask->engine);
	if (!ask->grade && evidence != NULL && *evidence != '\0')
		user = xasprintf("%s%s", evidence, ask->user[i]);
	model_req_add(&req, MSG_USER, user != NULL ? user : ask->user[i]);
	free(user);
	if (reply != NULL) {
		model_req_add(&req, MSG_ASSISTANT, reply);
		model_req_add(&req, MSG_USER, ask->grade ?
		    JUDGE_REPAIR_GRADE : JUDGE_REPAIR_VERDICT);
	}
	req.temperature = ask->temperature;
	req.sample = ask->sample;
	ask->pending++;
	engine_submit(ask->engine, ask->backend, &req, judge_answer,
	    &ask->slots[i]);
}

void
judge_submit(struct engine *e, struct backend *b, struct judge_ask *ask,
    judge_done_fn *done, void *arg)
{
	int	i;

	ask->engine = e;
	ask->backend = b;
	ask->done = done;
	ask->arg = arg;
	ask->verdict = VERDICT_NONE;
	if (ask->norders < 1 || ask->norders > 2)
		ask->norders = 1;
	for (i = 0; i < ask->norders; i++) {
		ask->slots[i].ask = ask;
		ask->slots[i].i = i;
		ask->outcome[i] = REPLY_UNREADABLE;
		judge_send(ask, i, NULL);
	}
}

/* Stores what the reader made of a reply. */
static int
judge_outcome(struct judge_ask *ask, const struct engine_result *res,
    enum reply_outcome o, char **cause)
{
	struct outcome_record	 rec;
	char			*excerpt = NULL;
	int			 rc;

	memset(&rec, 0, sizeof rec);
	rec.run = engine_run_id(ask->engine);
	rec.call = res->call;
	rec.key = res->key;
	rec.role = "judge";
	rec.outcome = reply_outcome_name(o);
	rec.kept = reply_outcome_ok(o);
	if (!reply_outcome_ok(o)) {
		rec.problem = ask->grade ? "no score found (Score: N)" :
		    "no verdict found (Winner: A, Winner: B or Winner: tie)";
		excerpt = reply_excerpt(res->resp->text, REPLY_EXCERPT);
		rec.excerpt = excerpt;
	}
	rc = store_outcome_add(engine_store(ask->engine), &rec, cause);
	free(excerpt);
	return rc;
}

/* What the orders said, together; then the caller is told. */
static int
judge_finish(struct judge_ask *ask, char **cause)
{
	enum verdict	 v[2];
	double		 sum = 0;
	int		 i, n = 0;

	for (i = 0; i < ask->norders; i++) {
		v[i] = ask->seen[i];
		if (ask->grade) {
			if (reply_outcome_ok(ask->outcome[i])) {
				sum += (ask->grades[i] - 1) / 9;
				n++;
			}
			continue;
		}
		/* Back to a's side: shown second, a is the judge's B. */
		if (ask->order[i] == 1 && v[i] != VERDICT_TIE)
			v[i] = v[i] == VERDICT_A ? VERDICT_B : v[i] ==
			    VERDICT_B ? VERDICT_A : VERDICT_NONE;
		if (v[i] == VERDICT_NONE)
			continue;
		sum += v[i] == VERDICT_A ? 1 : v[i] == VERDICT_TIE ? 0.5 : 0;
		ask->verdict = n == 0 || ask->verdict == v[i] ? v[i] :
		    VERDICT_TIE;
		n++;
	}
	ask->nread = n;
	if (n > 0) {
		ask->score = sum / n;
		if (ask->grade)
			ask->verdict = VERDICT_TIE;	/* read, no winner */
	} else if (ask->error == NULL)
		ask->error = xstrdup(ask->grade ? "the judge's reply has no "
		    "score (Score: N)" : "the judge's reply has no verdict "
		    "(Winner: A, Winner: B or Winner: tie)");
	if (ask->record && !ask->grade && ask->verdict != VERDICT_NONE) {
		ask->rec.winner = ask->verdict == VERDICT_A ? "a" :
		    ask->verdict == VERDICT_B ? "b" : "tie";
		ask->rec.judge_model = ask->backend->model;
		ask->rec.order_shown = ask->norders == 2 ? "ab+ba" :
		    ask->order[0] == 0 ? "ab" : "ba";
		ask->rec.rationale = ask->rationale;
		if (ask->rec.source == NULL)
			ask->rec.source = "judge";
		if (store_comparison_add(engine_store(ask->engine), &ask->rec,
		    cause) < 0)
			return -1;
	}
	return ask->done(ask->arg, ask, cause);
}

/*
 * Adds order i's reasons (its reply before the verdict's line) to the
 * ask's rationale.
 */
static void
judge_rationale(struct judge_ask *ask, int i, const char *reply, size_t at)
{
	char	*why = trim_dup(reply, at), *all;

	if (ask->norders == 1) {
		free(ask->rationale);
		ask->rationale = why;
		return;
	}
	all = xasprintf("%s%s%s first: %s", ask->rationale != NULL ?
	    ask->rationale : "", ask->rationale != NULL ? "\n\n" : "",
	    ask->order[i] == 0 ? "a" : "b", why);
	free(ask->rationale);
	free(why);
	ask->rationale = all;
}

static int
judge_answer(void *arg, const struct engine_result *res, char **cause)
{
	struct judge_slot	*slot = arg;
	struct judge_ask	*ask = slot->ask;
	const char		*text;
	enum reply_outcome	 o;
	enum verdict		 v = VERDICT_NONE;
	size_t			 at = 0;
	int			 i = slot->i, ok;
	double			 g = 0;

	ask->pending--;
	if (!res->ok || res->resp->text == NULL) {
		free(ask->error);
		ask->error = xasprintf("judge: %s", res->error != NULL ?
		    res->error : "no reply");
		return ask->pending == 0 ? judge_finish(ask, cause) : 0;
	}
	text = res->resp->text;
	if (ask->grade)
		ok = reply_grade(text, &g, &at);
	else
		ok = (v = reply_verdict(text, &at)) != VERDICT_NONE;
	o = ok ? (slot->repaired ? REPLY_REPAIRED : REPLY_USABLE) :
	    reply_refusal(text) ? REPLY_REFUSED : REPLY_UNREADABLE;
	if (judge_outcome(ask, res, o, cause) != 0)
		return -1;
	free(ask->reply[i]);
	ask->reply[i] = xstrdup(text);
	ask->call[i] = res->call;
	ask->outcome[i] = o;
	if (!ok && !slot->repaired) {
		slot->repaired = 1;
		judge_send(ask, i, text);
		return 0;
	}
	if (ok) {
		ask->seen[i] = v;
		ask->grades[i] = g;
		judge_rationale(ask, i, text, at);
	}
	return ask->pending == 0 ? judge_finish(ask, cause) : 0;
}

void
judge_ask_release(struct judge_ask *ask)
{
	int	i;

	for (i = 0; i < 2; i++) {
		free(ask->user[i]);
		free(ask->reply[i]);
	}
	free(ask->rationale);
	free(ask->error);
	memset(ask, 0, sizeof *ask);
}
