/*
 * The strategy framework's side that talks to models for a strategy:
 * meta-prompt templates and their variables (demos, errors), asking the
 * optimizer with repair turns (search_ask, and search_ask_many for the
 * requests of a step at once), and the judge (search_judge).
 * See search.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "jsonc.h"
#include "judge.h"
#include "log.h"
#include "reply.h"
#include "rng.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PROMPTD_DATADIR
#define PROMPTD_DATADIR "/usr/local/share/promptd"
#endif

/* Finds and reads a meta-prompt template. */
static char *
search_template(struct search *s, const char *name, char **cause)
{
	const char	*dirs[4], *env;
	char		*path, *text, *beside;
	size_t		 i, n = 0;

	if (s->prompts_dir != NULL && *s->prompts_dir != '\0')
		dirs[n++] = s->prompts_dir;
	if ((env = getenv("PROMPTD_PROMPTS")) != NULL && *env != '\0')
		dirs[n++] = env;
	dirs[n++] = PROMPTD_DATADIR "/prompts";
	/* A program run from its build tree, not installed. */
	if ((beside = exe_dir()) != NULL) {
		path = xasprintf("%s/strategies/prompts", beside);
		free(beside);
		beside = path;
		dirs[n++] = beside;
	}
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s.txt", dirs[i], name);
		if (access(path, R_OK) == 0) {
			if (file_read(path, 1 << 20, &text, NULL, cause) != 0)
				text = NULL;
			free(path);
			free(beside);
			return text;
		}
		free(path);
	}
	cause_set(cause, "no meta-prompt '%s.txt' in %s%s", name, dirs[0],
	    n > 1 ? " or the shipped templates" : "");
	free(beside);
	return NULL;
}

/* Replaces each {{name}} of text by its value; unknown names stay. */
static char *
search_render(const char *text, const struct meta_var *vars, size_t n)
{
	struct strbuf	 sb;
	const char	*p = text, *open, *close;
	size_t		 i, len;

	strbuf_init(&sb);
	while ((open = strstr(p, "{{")) != NULL &&
	    (close = strstr(open + 2, "}}")) != NULL) {
		strbuf_add(&sb, p, (size_t)(open - p));
		len = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(vars[i].name) == len &&
			    strncmp(vars[i].name, open + 2, len) == 0)
				break;
		if (i < n)
			strbuf_adds(&sb, vars[i].value != NULL ?
			    vars[i].value : "");
		else
			strbuf_add(&sb, open, (size_t)(close + 2 - open));
		p = close + 2;
	}
	strbuf_adds(&sb, p);
	return strbuf_detach(&sb);
}

/*
 * One request of search_ask_many() while it goes on: what is asked, the
 * conversation so far, and the reply of its latest attempt.
 */
struct ask_state {
	struct search_ask	*ask;
	const char		*tag;
	char			*meta;
	char			*instr;		/* the template's words */
	size_t			 limit;		/* bytes of a part, or 0 */
	unsigned		 index;		/* the run's asks before it */
	int			 done;		/* read, refused or failed */
	char			*prev;		/* the reply that could not be
						   used, and ... */
	char			*fix;		/* ... what was wrong with it */
	struct reply_read	 r;		/* the usable reading */
	char			*text;		/* the latest attempt's reply */
	char			*error;		/* or why none came */
	int			 stopped;	/* a budget refused it */
	int			 last;		/* the last reply's outcome,
						   or -1 */
	int64_t			 call;
	char			 key[65];
};

static int
search_ask_done(void *arg, const struct engine_result *res, char **cause)
{
	struct ask_state	*a = arg;

	if (res->ok && res->resp->text != NULL)
		a->text = xstrdup(res->resp->text);
	else
		a->error = xstrdup(res->error != NULL ? res->error :
		    "no reply");
	a->stopped = res->stopped;
	a->call = res->call;
	snprintf(a->key, sizeof a->key, "%s", res->key != NULL ? res->key :
	    "");
	return 0;
}

int
search_ask(struct search *s, const char *name, const struct meta_var *vars,
    size_t nvars, double temperature, size_t max, char ***prompts,
    char **rationale, char **cause)
{
	return search_ask_tag(s, name, vars, nvars, temperature, "prompt", max,
	    prompts, rationale, cause);
}

char *
search_meta(struct search *s, const char *name, const struct meta_var *vars,
    size_t nvars, char **cause)
{
	char	*tmpl, *meta;

	if ((tmpl = search_template(s, name, cause)) == NULL)
		return NULL;
	meta = search_render(tmpl, vars, nvars);
	free(tmpl);
	return meta;
}

/* The words of a template without its variables: its instructions. */
static char *
search_instructions(struct search *s, const char *name)
{
	struct strbuf	 sb;
	const char	*p, *open, *close;
	char		*tmpl;

	if ((tmpl = search_template(s, name, NULL)) == NULL)
		return NULL;
	strbuf_init(&sb);
	for (p = tmpl; (open = strstr(p, "{{")) != NULL &&
	    (close = strstr(open + 2, "}}")) != NULL; p = close + 2) {
		strbuf_add(&sb, p, (size_t)(open - p));
		strbuf_addc(&sb, '\n');
	}
	strbuf_adds(&sb, p);
	free(tmpl);
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

/* Records what the reader made of an optimizer reply. */
static int
search_outcome(struct search *s, const struct ask_state *a,
    enum reply_outcome o, const struct reply_read *r, char **cause)
{
	struct outcome_record	 rec;
	char			*excerpt = NULL;
	int			 rc;

	if (reply_outcome_ok(o))
		s->usable_asks++;
	else
		s->failed_asks++;
	memset(&rec, 0, sizeof rec);
	rec.run = s->run_id;
	rec.call = a->call;
	rec.key = a->key;
	rec.role = a->ask->role != NULL ? a->ask->role : a->ask->judge ?
	    "judge" : "optimizer";
	rec.outcome = reply_outcome_name(o);
	rec.kept = (int)r->n;
	rec.dropped = (int)(r->found - r->n);
	rec.problem = r->problem;
	if (!reply_outcome_ok(o)) {
		excerpt = reply_excerpt(a->text, REPLY_EXCERPT);
		rec.excerpt = excerpt;
	}
	rc = store_outcome_add(s->store, &rec, cause);
	free(excerpt);
	return rc;
}

/*
 * Submits one attempt of a request to the optimizer: the meta-prompt, or
 * after a reply that could not be used, the conversation so far and what
 * was wrong with it.
 */
static void
search_ask_submit(struct search *s, struct ask_state *a, int attempt)
{
	struct model_req	req;
	enum task_role		role;

	role = a->ask->judge ? ROLE_JUDGE : ROLE_OPTIMIZER;
	model_req_init(&req, REQ_CHAT, task_role_name(role));
	model_req_add(&req, MSG_USER, a->meta);
	if (a->prev != NULL) {
		model_req_add(&req, MSG_ASSISTANT, a->prev);
		model_req_add(&req, MSG_USER, a->fix);
	}
	req.temperature = a->ask->temperature;
	/*
	 * Deterministic per (step, ask): a replay asks the same, and a
	 * request of a batch is the one it would be if asked alone.
	 */
	req.sample = (unsigned)(s->step * 100000 + a->index * 4 +
	    (unsigned)attempt);
	engine_submit(s->engine, s->task->roles[role], &req, search_ask_done,
	    a);
}

/*
 * Reads the reply of a request's attempt and stores its outcome: a
 * usable one (or a refusal by the budget, or a failure) ends the
 * request; otherwise the next attempt is told what was wrong.
 */
static int
search_ask_read(struct search *s, struct ask_state *a, int attempt,
    int attempts, char **cause)
{
	enum reply_outcome	o;
	const char		*role = a->ask->judge ? "judge" : "optimizer";

	if (a->text == NULL) {
		/* A budget that ran out says so once, at the end. */
		if (!a->stopped)
			log_warnx("job '%s': %s: %s", s->task->name, role,
			    a->error);
		free(a->error);
		a->error = NULL;
		a->done = 1;
		return 0;
	}
	if (a->ask->answer)
		reply_read_answer(a->text, a->meta, &a->r);
	else
		reply_read(a->text, a->tag, a->meta, a->instr, a->limit,
		    a->ask->max, &a->r);
	o = a->r.outcome == REPLY_USABLE && attempt > 0 ? REPLY_REPAIRED :
	    a->r.outcome;
	if (search_outcome(s, a, o, &a->r, cause) != 0)
		return -1;
	a->last = (int)o;
	if (reply_outcome_ok(o)) {
		free(a->text);
		a->text = NULL;
		a->done = 1;
		return 0;
	}
	log_info("job '%s': %s reply %s (attempt %d of %d): %s",
	    s->task->name, role, reply_outcome_name(o), attempt + 1, attempts,
	    a->r.problem);
	/* The next attempt says what was wrong with this one. */
	free(a->prev);
	free(a->fix);
	a->prev = a->text;
	a->text = NULL;
	a->fix = xasprintf("That reply could not be used: %s.  Answer the "
	    "request again, with each %s inside its own <%s></%s> element "
	    "and nothing but the %s inside it.", a->r.problem, a->tag, a->tag,
	    a->tag, a->tag);
	reply_read_release(&a->r);
	return 0;
}

static void
search_ask_state_release(struct ask_state *a)
{
	reply_read_release(&a->r);
	free(a->meta);
	free(a->instr);
	free(a->prev);
	free(a->fix);
	free(a->text);
	free(a->error);
}

int
search_ask_many(struct search *s, struct search_ask *asks, size_t n,
    char **cause)
{
	struct ask_state	*st;
	size_t			 i, left;
	int			 attempt, attempts, rc = -1;

	for (i = 0; i < n; i++) {
		asks[i].parts = NULL;
		asks[i].n = 0;
		asks[i].rationale = NULL;
		asks[i].outcome = -1;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (asks[i].judge && s->task->roles[ROLE_JUDGE] == NULL)
			return cause_set(cause, "strategy '%s' needs a judge "
			    "(roles.judge)", s->ops->name);
		if (!asks[i].judge && s->task->roles[ROLE_OPTIMIZER] == NULL)
			return cause_set(cause, "strategy '%s' needs an "
			    "optimizer (roles.optimizer)", s->ops->name);
	}
	st = xcalloc(n, sizeof *st);
	for (i = 0; i < n; i++) {
		st[i].ask = &asks[i];
		st[i].last = -1;
		st[i].tag = asks[i].answer ? "answer" : asks[i].tag != NULL ?
		    asks[i].tag : "prompt";
		st[i].index = s->asks + (unsigned)i;
		if ((st[i].meta = search_meta(s, asks[i].name, asks[i].vars,
		    asks[i].nvars, cause)) == NULL)
			goto out;
		st[i].instr = search_instructions(s, asks[i].name);
		st[i].limit = strcmp(st[i].tag, "prompt") == 0 ?
		    (size_t)s->task->max_prompt_bytes : 0;
	}
	attempts = (int)search_int(s, "attempts");
	for (attempt = 0; attempt < attempts; attempt++) {
		/* Every request that needs this attempt goes at once. */
		for (i = 0, left = 0; i < n; i++)
			if (!st[i].done) {
				search_ask_submit(s, &st[i], attempt);
				left++;
			}
		if (left == 0)
			break;
		/* Stopped (a shutdown): what came is freed below. */
		if (search_wait(s, cause) != 0)
			goto out;
		/* In the order asked, whatever the order of the answers. */
		for (i = 0; i < n; i++)
			if (!st[i].done && search_ask_read(s, &st[i], attempt,
			    attempts, cause) != 0)
				goto out;
	}
	s->asks += (unsigned)n;
	for (i = 0; i < n; i++) {
		asks[i].outcome = st[i].last;
		if (st[i].r.n == 0)
			continue;
		asks[i].parts = st[i].r.items;
		asks[i].n = (int)st[i].r.n;
		asks[i].rationale = st[i].r.rationale;
		st[i].r.items = NULL;
		st[i].r.n = 0;
		st[i].r.rationale = NULL;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		search_ask_state_release(&st[i]);
	free(st);
	return rc;
}

void
search_ask_release(struct search_ask *asks, size_t n)
{
	size_t	i;
	int	k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < asks[i].n; k++)
			free(asks[i].parts[k]);
		free(asks[i].parts);
		free(asks[i].rationale);
		asks[i].parts = NULL;
		asks[i].n = 0;
		asks[i].rationale = NULL;
	}
}

int
search_ask_tag(struct search *s, const char *name, const struct meta_var *vars,
    size_t nvars, double temperature, const char *tag, size_t max,
    char ***parts, char **rationale, char **cause)
{
	struct search_ask	a;

	memset(&a, 0, sizeof a);
	a.name = name;
	a.vars = vars;
	a.nvars = nvars;
	a.temperature = temperature;
	a.tag = tag;
	a.max = max;
	*parts = NULL;
	if (rationale != NULL)
		*rationale = NULL;
	if (search_ask_many(s, &a, 1, cause) != 0)
		return -1;
	*parts = a.parts;
	if (rationale != NULL)
		*rationale = a.rationale;
	else
		free(a.rationale);
	return a.n;
}

int
search_propose(struct search *s, const char *name, const struct meta_var *vars,
    size_t nvars, size_t ndemos, size_t n, double temperature, size_t max,
    const char *op, struct cand *parent, struct cand ***out, size_t *nout,
    char **cause)
{
	struct search_ask	*a;
	struct meta_var		*v;
	struct cand		*c;
	char			**demos;
	size_t			 nv = nvars + 1, i;
	int			 k, rc = -1;

	a = xcalloc(n + 1, sizeof *a);
	v = xcalloc(nv * n + 1, sizeof *v);
	demos = xcalloc(n + 1, sizeof *demos);
	for (i = 0; i < n; i++) {
		memcpy(&v[nv * i], vars, nvars * sizeof *vars);
		a[i].name = name;
		a[i].vars = &v[nv * i];
		a[i].nvars = nvars;
		a[i].temperature = temperature;
		a[i].max = max;
		if (ndemos == 0)
			continue;
		/* Drawn in order, as requests made one by one drew them. */
		demos[i] = search_demos(s, ndemos);
		v[nv * i + nvars].name = "demos";
		v[nv * i + nvars].value = demos[i];
		a[i].nvars++;
	}
	if (search_ask_many(s, a, n, cause) != 0)
		goto out;
	rc = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; rc == 0 && k < a[i].n; k++) {
			c = search_add(s, a[i].parts[k], op, parent != NULL ?
			    &parent : NULL, parent != NULL ? 1 : 0, op,
			    a[i].rationale, cause);
			if (c == NULL)
				rc = -1;
			else {
				*out = xreallocarray(*out, *nout + 1,
				    sizeof **out);
				(*out)[(*nout)++] = c;
			}
		}
	}
	search_ask_release(a, n);
out:
	for (i = 0; i < n; i++)
		free(demos[i]);
	free(demos);
	free(v);
	free(a);
	return rc;
}

/* A verdict read counts as the step's progress. */
static int
search_judged(void *arg, struct judge_ask *ask, char **cause)
{
	struct search	*s = arg;

	if (ask->verdict != VERDICT_NONE)
		s->progress++;
	return 0;
}

void
search_judge(struct search *s, struct backend *judge, struct judge_ask *ask)
{
	judge_submit(s->engine, judge, ask, search_judged, s);
}

char *
search_demos_text(const struct demos *d)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; d != NULL && i < d->n; i++)
		strbuf_addf(&sb, "<demo>\n<input>%s</input>\n<output>%s"
		    "</output>\n</demo>\n", d->v[i].input, d->v[i].output);
	return strbuf_detach(&sb);
}

char *
search_demos(struct search *s, size_t n)
{
	const size_t	*pick = s->ntrain > 0 ? s->train : s->dev;
	size_t		 npick = s->ntrain > 0 ? s->ntrain : s->ndev;
	struct demos	 d = { NULL, 0 };
	char		*in, *out, *text;
	size_t		 i, k;

	for (i = 0; i < n && npick > 0; i++) {
		k = pick[rng_below(&s->rng, (uint32_t)npick)];
		in = search_input(s, k);
		out = search_expected(s, k);
		demos_add(&d, s->task->dataset->ex[k].id, in, out);
		free(in);
		free(out);
	}
	text = search_demos_text(&d);
	demos_release(&d);
	return text;
}
