/*
 * The read-only queries: the store's rows turned into the protocol's
 * result objects.  Statistics (means and intervals) are computed here
 * with stats_summary(), from the scores or from the sums the store keeps
 * of them, never in SQL.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cron.h"
#include "jobrun.h"
#include "jsonc.h"
#include "query.h"
#include "reply.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

struct query {
	const char	*name;
	int		 need_job;	/* 0 when the query is by candidate */
	int		(*fn)(struct store *, const struct job_row *,
			    const cJSON *, cJSON **, const char **, char **);
};

/* Adds a number, or null when it is NAN. */
static void
add_num(cJSON *o, const char *key, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, v);
}

/* Adds a string, or null when it is NULL. */
static void
add_str(cJSON *o, const char *key, const char *s)
{
	if (s == NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

/* A candidate's demos, when it has some (demo.h). */
static void
add_demos(cJSON *o, const struct demos *d)
{
	if (d->n > 0)
		cJSON_AddItemToObject(o, "demos", demos_to_json(d));
}

/*
 * When a schedule fires next (Unix time, from now), as the daemon would
 * say it: none for a cancelled job, whose schedule is over.
 */
static void
add_next_refresh(cJSON *o, const cJSON *schedule, const char *state)
{
	struct cron	c;
	time_t		next;

	if (!cJSON_IsString(schedule) || strcmp(state, "cancelled") == 0 ||
	    cron_parse(&c, schedule->valuestring, NULL) != 0 ||
	    (next = cron_next(&c, time(NULL))) == (time_t)-1)
		return;
	cJSON_AddNumberToObject(o, "next_refresh", (double)next);
}

static int
query_fail(const char **code, const char *what, char **cause,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets *code to what and *cause to the message; returns -1. */
static int
query_fail(const char **code, const char *what, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	*code = what;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	cause_set(cause, "%s", msg);
	free(msg);
	return -1;
}

/*
 * Reads an optional integer argument in [min, max]: 0 with *out (def when
 * it is absent or null), -1 with a usage error.
 */
static int
arg_int(const cJSON *args, const char *key, long long def, long long min,
    long long max, long long *out, const char **code, char **cause)
{
	const cJSON	*v;
	double		 d;

	*out = def;
	v = cJSON_GetObjectItemCaseSensitive(args, key);
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (isnan(d) || d != floor(d) || d < (double)min || d > (double)max) {
		*code = "usage";
		return cause_set(cause, "argument '%s' must be an integer from "
		    "%lld to %lld", key, min, max);
	}
	*out = (long long)d;
	return 0;
}

/* The value of a job row's spec at key, or NULL. */
static const cJSON *
spec_get(const cJSON *spec, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(spec, key);
}

/* The list entry of a job: its state, progress and champion. */
static int
job_entry(struct store *s, const struct job_row *j, cJSON **out,
    char **cause)
{
	struct run_totals	 sum;
	struct run_row		 run;
	struct champion		 ch;
	cJSON			*o;
	int			 nruns, has_run, has_ch;

	if ((has_run = store_job_runs(s, j->id, &nruns, &sum, &run,
	    cause)) < 0)
		return -1;
	if ((has_ch = store_champion_latest(s, j->id, &ch, cause)) < 0)
		return -1;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "state", j->state);
	add_str(o, "reason", j->reason);
	cJSON_AddNumberToObject(o, "runs", nruns);
	cJSON_AddNumberToObject(o, "step", has_run ? run.step : 0);
	if (has_ch)
		add_num(o, "best", ch.score);
	else
		cJSON_AddNullToObject(o, "best");
	cJSON_AddNumberToObject(o, "calls", (double)sum.calls);
	cJSON_AddNumberToObject(o, "dollars", sum.dollars);
	if (has_ch)
		cJSON_AddNumberToObject(o, "champion", ch.version);
	else
		cJSON_AddNullToObject(o, "champion");
	*out = o;
	return 0;
}

static int
query_list(struct store *s, const struct job_row *unused, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct job_row	*jobs;
	cJSON		*o, *arr, *e;
	size_t		 n, i;

	(void)unused;
	(void)args;
	if (store_job_list(s, &jobs, &n, cause) != 0) {
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "jobs");
	for (i = 0; i < n; i++) {
		if (job_entry(s, &jobs[i], &e, cause) != 0) {
			*code = "internal";
			cJSON_Delete(o);
			store_job_rows_free(jobs, n);
			return -1;
		}
		cJSON_AddItemToArray(arr, e);
	}
	store_job_rows_free(jobs, n);
	*result = o;
	return 0;
}

/*
 * The response the duel strategy recommends with arms "responses": a
 * candidate of origin "duel-response" answering the prompt on one dev
 * example.  It is never a champion, so it is read from the checkpoint of
 * the job's latest optimize run, where the strategy keeps it.
 */
struct response {
	int64_t			 run;
	int			 final;		/* the run has ended */
	int64_t			 prompt;	/* the candidate answered */
	long long		 example;	/* the dev example's index */
	struct candidate_row	 c;
};

/*
 * The dev example the responses answer: the strategy's state names it if
 * it saves it, else the job's "example" parameter (0 by default, as in
 * strategies/duel.c).
 */
static long long
response_example(const cJSON *state, const char *specjson)
{
	const cJSON	*v;
	cJSON		*spec;
	long long	 ex;

	v = cJSON_GetObjectItemCaseSensitive(state, "example");
	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	spec = cJSON_Parse(specjson);
	v = cJSON_GetObjectItemCaseSensitive(spec_get(spec, "strategy"),
	    "example");
	ex = cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
	cJSON_Delete(spec);
	return ex;
}

/*
 * The job's recommended response: 1 with *r filled (release r->c), 0 when
 * there is none with *why saying why, -1.  Only a state with the prompt
 * answered ("prompt", saved with arms "responses") names a response, and
 * only a candidate of the job of origin "duel-response" is taken for one,
 * so that a prompt is never shown as a response.
 */
static int
response_latest(struct store *s, const struct job_row *j,
    struct response *r, const char **why, char **cause)
{
	struct run_checkpoint	 cp;
	cJSON			*o = NULL;
	const cJSON		*st, *rec, *prompt;
	int			 rc;

	memset(r, 0, sizeof *r);
	*why = "its latest optimize run did not duel responses";
	/* Only a state with the prompt answered can name a response. */
	if ((rc = store_run_checkpoint_latest(s, j->id, "optimize", "prompt",
	    &cp, cause)) <= 0) {
		if (rc == 0)
			*why = "it has no optimize run";
		return rc;
	}
	if (!cp.saved)
		*why = "its latest optimize run has saved no checkpoint yet";
	else if (cp.state != NULL)
		o = cJSON_Parse(cp.state);
	free(cp.state);
	st = cJSON_GetObjectItemCaseSensitive(o, "strategy");
	rec = cJSON_GetObjectItemCaseSensitive(st, "recommended");
	prompt = cJSON_GetObjectItemCaseSensitive(st, "prompt");
	rc = 0;
	if (!cJSON_IsNumber(prompt))
		goto out;
	*why = "its latest optimize run has not recommended one yet";
	if (!cJSON_IsNumber(rec) || rec->valuedouble < 1)
		goto out;
	*why = "the candidate its latest optimize run recommends is not a "
	    "response";
	if ((rc = store_candidate_get(s, (int64_t)rec->valuedouble, &r->c,
	    cause)) <= 0)
		goto out;
	if (r->c.job != j->id || strcmp(r->c.origin, "duel-response") != 0) {
		store_candidate_row_release(&r->c);
		rc = 0;
		goto out;
	}
	r->run = cp.id;
	/* Only a run that finished made its choice final. */
	r->final = strcmp(cp.status, "done") == 0;
	r->prompt = (int64_t)prompt->valuedouble;
	r->example = response_example(st, j->spec);
out:
	cJSON_Delete(o);
	return rc;
}

/* A recommended response as the protocol shows it. */
static cJSON *
response_json(const struct response *r)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "candidate", (double)r->c.id);
	cJSON_AddNumberToObject(o, "prompt", (double)r->prompt);
	cJSON_AddNumberToObject(o, "example", (double)r->example);
	add_str(o, "text", r->c.text);
	cJSON_AddNumberToObject(o, "run", (double)r->run);
	cJSON_AddBoolToObject(o, "final", r->final);
	return o;
}

/*
 * What the reader made of a run's optimizer replies and judge verdicts:
 * per role, the total, the usable ones, each outcome's count, and the
 * commonest failure with what was wrong and an example reply.
 */
static cJSON *
replies_json(struct store *s, int64_t run, char **cause)
{
	static const char *const roles[TALLY_ROLES] = { "optimizer", "judge" };
	struct reply_tally	 t[TALLY_ROLES];
	cJSON			*o, *r, *n;
	int			 i, k;

	if (jobrun_tally(s, run, t, cause) != 0)
		return NULL;
	o = cJSON_CreateObject();
	for (i = 0; i < TALLY_ROLES; i++) {
		if (t[i].total == 0)
			continue;
		r = cJSON_AddObjectToObject(o, roles[i]);
		cJSON_AddNumberToObject(r, "total", (double)t[i].total);
		cJSON_AddNumberToObject(r, "usable", (double)t[i].ok);
		n = cJSON_AddObjectToObject(r, "outcomes");
		for (k = 0; k < REPLY_NOUTCOMES; k++)
			if (t[i].n[k] > 0)
				cJSON_AddNumberToObject(n, reply_outcome_name(
				    (enum reply_outcome)k), (double)t[i].n[k]);
		add_str(r, "commonest", t[i].commonest < 0 ? NULL :
		    reply_outcome_name((enum reply_outcome)t[i].commonest));
		add_str(r, "problem", t[i].problem);
		add_str(r, "example", t[i].excerpt);
	}
	jobrun_tally_release(t);
	return o;
}

/*
 * A run's failed attempts: how many, and the commonest causes; *out is
 * NULL when it had none.
 */
static int
failures_json(struct store *s, int64_t run, cJSON **out, char **cause)
{
	char		*causes;
	long long	 n;
	int64_t		 last = 0;

	*out = NULL;
	if ((causes = jobrun_failures(s, run, 0, 3, &n, &last, cause)) == NULL)
		return -1;
	if (n > 0) {
		*out = cJSON_CreateObject();
		cJSON_AddNumberToObject(*out, "attempts", (double)n);
		cJSON_AddStringToObject(*out, "causes", causes);
	}
	free(causes);
	return 0;
}

/*
 * What the surrogate filter of the job's latest run of that kind did, as
 * its strategy saved it with its last checkpoint (status's "surrogate"):
 * *out is the object (the counters, "saved", the ids), or NULL when the
 * run had the filter off or saved no checkpoint yet.
 */
static int
surrogate_json(struct store *s, int64_t job, const char *kind, cJSON **out,
    char **cause)
{
	struct run_checkpoint	 cp;
	cJSON			*o;
	const cJSON		*v;
	int			 rc;

	*out = NULL;
	if ((rc = store_run_checkpoint_latest(s, job, kind, "surrogate", &cp,
	    cause)) <= 0)
		return rc;
	o = cp.state != NULL ? cJSON_Parse(cp.state) : NULL;
	free(cp.state);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    o, "strategy"), "surrogate");
	if (cJSON_IsObject(v))
		*out = cJSON_Duplicate(v, 1);
	cJSON_Delete(o);
	return 0;
}

/*
 * A champion version's risk bound (its job's "risk"), or null when it
 * has none: the measure and its threshold or quantile, the bound, the
 * most allowed, the confidence, the dev examples, and all of it as text.
 */
static void
add_risk(cJSON *o, const struct champion_risk *r)
{
	cJSON	*e;
	char	*text;

	if (r == NULL || r->measure[0] == '\0') {
		cJSON_AddNullToObject(o, "risk");
		return;
	}
	e = cJSON_AddObjectToObject(o, "risk");
	cJSON_AddStringToObject(e, "measure", r->measure);
	add_num(e, strcmp(r->measure, "share_below") == 0 ? "threshold" :
	    "quantile", r->param);
	add_num(e, "bound", r->bound);
	add_num(e, "max", r->max);
	add_num(e, "confidence", r->confidence);
	cJSON_AddNumberToObject(e, "n", (double)r->n);
	text = jobrun_risk_describe(r);
	cJSON_AddStringToObject(e, "text", text);
	free(text);
}

static int
query_status(struct store *s, const struct job_row *j, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct run_totals	 sum;
	struct run_row		 run;
	struct champion_row	*h = NULL;
	struct response		 resp;
	cJSON			*o = NULL, *spec, *replies = NULL;
	cJSON			*failures = NULL, *surrogate = NULL;
	const cJSON		*v, *name;
	const char		*why;
	size_t			 nh = 0;
	int			 nruns, has_run = 0, has_resp = 0;

	(void)args;
	if (job_entry(s, j, &o, cause) != 0 ||
	    (has_run = store_job_runs(s, j->id, &nruns, &sum, &run,
	    cause)) < 0 ||
	    store_champion_history(s, j->id, &h, &nh, cause) != 0 ||
	    (has_resp = response_latest(s, j, &resp, &why, cause)) < 0 ||
	    (has_run && (replies = replies_json(s, run.id, cause)) == NULL) ||
	    (has_run && failures_json(s, run.id, &failures, cause) != 0) ||
	    (has_run && surrogate_json(s, j->id, run.kind, &surrogate,
	    cause) != 0)) {
		cJSON_Delete(replies);
		cJSON_Delete(failures);
		if (has_resp > 0)
			store_candidate_row_release(&resp.c);
		cJSON_Delete(o);
		store_champion_rows_free(h, nh);
		*code = "internal";
		return -1;
	}
	spec = cJSON_Parse(j->spec);
	cJSON_AddNumberToObject(o, "id", (double)j->id);
	v = spec_get(spec, "description");
	add_str(o, "description", cJSON_IsString(v) ? v->valuestring : NULL);
	v = spec_get(spec, "strategy");
	name = cJSON_GetObjectItemCaseSensitive(v, "name");
	add_str(o, "strategy", cJSON_IsString(name) ? name->valuestring :
	    cJSON_IsString(v) ? v->valuestring : NULL);
	v = spec_get(spec, "schedule");
	add_str(o, "schedule", cJSON_IsString(v) ? v->valuestring : NULL);
	add_next_refresh(o, v, j->state);
	v = spec_get(spec, "budget");
	if (cJSON_IsObject(v))
		cJSON_AddItemToObject(o, "budget", cJSON_Duplicate(v, 1));
	else
		cJSON_AddNullToObject(o, "budget");
	if (replies != NULL)
		cJSON_AddItemToObject(o, "replies", replies);
	else
		cJSON_AddNullToObject(o, "replies");
	cJSON_AddItemToObject(o, "failures", failures != NULL ? failures :
	    cJSON_CreateNull());
	cJSON_AddItemToObject(o, "surrogate", surrogate != NULL ? surrogate :
	    cJSON_CreateNull());
	if (has_run) {
		cJSON_AddNumberToObject(o, "run", (double)run.id);
		cJSON_AddStringToObject(o, "kind", run.kind);
		cJSON_AddStringToObject(o, "run_state", run.status);
		cJSON_AddNumberToObject(o, "started", run.started);
		add_num(o, "ended", run.ended);
	} else {
		cJSON_AddNullToObject(o, "run");
		cJSON_AddNullToObject(o, "kind");
		cJSON_AddNullToObject(o, "run_state");
		cJSON_AddNullToObject(o, "started");
		cJSON_AddNullToObject(o, "ended");
	}
	cJSON_AddNumberToObject(o, "hits", (double)sum.hits);
	cJSON_AddNumberToObject(o, "tokens", (double)sum.tokens);
	cJSON_AddNumberToObject(o, "cached_tokens", (double)sum.cached);
	add_risk(o, nh > 0 ? &h[nh - 1].risk : NULL);
	if (nh > 0) {
		cJSON_AddNumberToObject(o, "candidate",
		    (double)h[nh - 1].c.candidate);
		add_num(o, "lo", h[nh - 1].c.lo);
		add_num(o, "hi", h[nh - 1].c.hi);
		add_str(o, "text", h[nh - 1].text);
	} else {
		cJSON_AddNullToObject(o, "candidate");
		cJSON_AddNullToObject(o, "lo");
		cJSON_AddNullToObject(o, "hi");
		cJSON_AddNullToObject(o, "text");
	}
	if (has_resp) {
		cJSON_AddItemToObject(o, "response", response_json(&resp));
		store_candidate_row_release(&resp.c);
	} else
		cJSON_AddNullToObject(o, "response");
	cJSON_AddNumberToObject(o, "created", j->created);
	cJSON_AddNumberToObject(o, "updated", j->updated);
	cJSON_Delete(spec);
	store_champion_rows_free(h, nh);
	*result = o;
	return 0;
}

struct board {
	int64_t		id;
	int		fractional;	/* some of its scores are neither 0 nor 1 */
	long long	tokens;		/* of the prompt */
	int		pareto;		/* no other is as good and cheaper */
	struct summary	sum;
};

static int
board_cmp(const void *va, const void *vb)
{
	const struct board	*a = va, *b = vb;

	if (a->sum.mean != b->sum.mean)
		return a->sum.mean > b->sum.mean ? -1 : 1;
	if (a->sum.lo != b->sum.lo)
		return a->sum.lo > b->sum.lo ? -1 : 1;
	if (a->sum.n != b->sum.n)
		return a->sum.n > b->sum.n ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* By prompt tokens, fewest first, then as board_cmp(). */
static int
board_cmp_tokens(const void *va, const void *vb)
{
	const struct board	*a = va, *b = vb;

	if (a->tokens != b->tokens)
		return a->tokens < b->tokens ? -1 : 1;
	return board_cmp(va, vb);
}

/*
 * Marks the score/tokens Pareto front: a candidate is on it when every
 * other of as few tokens has a lower mean.  Visited by tokens, fewest
 * first, it is on it when its mean is above all seen before; of equal
 * ones, the first.  Leaves board sorted by tokens.
 */
static void
board_pareto(struct board *board, size_t n)
{
	double	top = -INFINITY;
	size_t	i;

	qsort(board, n, sizeof *board, board_cmp_tokens);
	for (i = 0; i < n; i++)
		if ((board[i].pareto = board[i].sum.mean > top))
			top = board[i].sum.mean;
}

/*
 * How far the mean that the store's sums give may be from the mean of the
 * scores themselves: the rounding of a million additions is far less.
 */
#define BOARD_ROUNDING	1e-9

/*
 * The leaderboard is ranked from the store's running sums (n sorted
 * entries of the dev split of snapshot ds), which give the numbers of a
 * candidate whose scores are all 0 or 1 exactly.  A candidate with
 * fractional scores whose mean is within rounding of the first limit is
 * summarized again from its scores, as stats_summary() always did, so
 * that what is shown and its order are what the scores say.
 */
static int
board_exact(struct store *s, struct board *board, size_t n, size_t limit,
    int64_t ds, char **cause)
{
	struct score_row	*rows;
	double			*x, cut;
	size_t			 i, k, nrows;
	int			 again = 0;

	if (n == 0)
		return 0;
	cut = board[(limit < n ? limit : n) - 1].sum.mean - 2 * BOARD_ROUNDING;
	for (i = 0; i < n; i++) {
		if (!board[i].fractional || board[i].sum.mean < cut)
			continue;
		if (store_candidate_scores(s, board[i].id, ds, "dev", &rows,
		    &nrows, cause) != 0)
			return -1;
		x = xcalloc(nrows + 1, sizeof *x);
		for (k = 0; k < nrows; k++)
			x[k] = rows[k].score;
		stats_summary(x, nrows, 0.95, &board[i].sum);
		free(x);
		free(rows);
		again = 1;
	}
	if (again)
		qsort(board, n, sizeof *board, board_cmp);
	return 0;
}

static int
query_leaderboard(struct store *s, const struct job_row *j,
    const cJSON *args, cJSON **result, const char **code, char **cause)
{
	struct score_sum	*sums = NULL;
	struct board		*board = NULL;
	struct candidate_row	 c;
	struct champion		 champ;
	cJSON			*o = NULL, *arr, *e;
	size_t			 n = 0, i;
	const cJSON		*v;
	long long		 limit;
	int64_t			 ds;
	int			 has_champ, by_tokens;

	if (arg_int(args, "limit", QUERY_LEADERBOARD_LIMIT, 1, QUERY_MAX_LIMIT,
	    &limit, code, cause) != 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(args, "sort");
	by_tokens = cJSON_IsString(v) && strcmp(v->valuestring, "tokens") == 0;
	if (v != NULL && !cJSON_IsNull(v) && !by_tokens &&
	    !(cJSON_IsString(v) && strcmp(v->valuestring, "score") == 0))
		return query_fail(code, "usage", cause, "argument 'sort' must "
		    "be \"score\" or \"tokens\"");
	*code = "internal";
	if ((ds = store_dataset_latest(s, j->id, cause)) < 0)
		return -1;
	if (ds > 0 && store_score_sums(s, j->id, ds, "dev", &sums, &n,
	    cause) != 0)
		return -1;
	board = xcalloc(n + 1, sizeof *board);
	for (i = 0; i < n; i++) {
		board[i].id = sums[i].candidate;
		board[i].fractional = sums[i].fractional > 0;
		board[i].tokens = sums[i].tokens;
		stats_summary_sums((size_t)sums[i].n, sums[i].total,
		    sums[i].squares, (size_t)sums[i].fractional, 0.95,
		    &board[i].sum);
	}
	free(sums);
	qsort(board, n, sizeof *board, board_cmp);
	if (board_exact(s, board, n, (size_t)limit, ds, cause) != 0 ||
	    (has_champ = store_champion_latest(s, j->id, &champ, cause)) < 0)
		goto fail;
	board_pareto(board, n);
	if (!by_tokens)
		qsort(board, n, sizeof *board, board_cmp);
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "candidates");
	for (i = 0; i < n && i < (size_t)limit; i++) {
		if (store_candidate_get(s, board[i].id, &c, cause) < 0)
			goto fail;
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)board[i].id);
		add_str(e, "text", c.text);
		cJSON_AddNumberToObject(e, "mean", board[i].sum.mean);
		cJSON_AddNumberToObject(e, "lo", board[i].sum.lo);
		cJSON_AddNumberToObject(e, "hi", board[i].sum.hi);
		cJSON_AddNumberToObject(e, "n", (double)board[i].sum.n);
		cJSON_AddNumberToObject(e, "tokens", (double)board[i].tokens);
		cJSON_AddBoolToObject(e, "pareto", board[i].pareto);
		add_str(e, "origin", c.origin);
		add_demos(e, &c.demos);
		cJSON_AddBoolToObject(e, "champion", has_champ > 0 &&
		    champ.candidate == board[i].id);
		cJSON_AddItemToArray(arr, e);
		store_candidate_row_release(&c);
	}
	free(board);
	*result = o;
	return 0;
fail:
	cJSON_Delete(o);
	free(board);
	return -1;
}

/* The latest champion, or a not_found error. */
static int
champion_last(struct store *s, const struct job_row *j,
    struct champion_row **h, size_t *nh, const char **code, char **cause)
{
	if (store_champion_history(s, j->id, h, nh, cause) != 0) {
		*code = "internal";
		return -1;
	}
	if (*nh == 0)
		return query_fail(code, "not_found", cause,
		    "job '%s' has no champion yet", j->name);
	return 0;
}

/* best with "response": true: the recommended response, or not_found. */
static int
best_response(struct store *s, const struct job_row *j, cJSON **result,
    const char **code, char **cause)
{
	struct response	 resp;
	const char	*why;
	int		 rc;

	if ((rc = response_latest(s, j, &resp, &why, cause)) < 0) {
		*code = "internal";
		return -1;
	}
	if (rc == 0)
		return query_fail(code, "not_found", cause, "job '%s' has no "
		    "recommended response: %s", j->name, why);
	*result = response_json(&resp);
	store_candidate_row_release(&resp.c);
	return 0;
}

static int
query_best(struct store *s, const struct job_row *j, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct champion_row	*h, *last;
	struct candidate_row	 c;
	const cJSON		*v;
	cJSON			*o;
	size_t			 nh;
	int			 found;

	v = cJSON_GetObjectItemCaseSensitive(args, "response");
	if (v != NULL && !cJSON_IsBool(v)) {
		*code = "usage";
		return cause_set(cause, "best: argument 'response' must be "
		    "true or false");
	}
	if (cJSON_IsTrue(v))
		return best_response(s, j, result, code, cause);
	if (champion_last(s, j, &h, &nh, code, cause) != 0)
		return -1;
	last = &h[nh - 1];
	memset(&c, 0, sizeof c);
	if ((found = store_candidate_get(s, last->c.candidate, &c,
	    cause)) < 0) {
		store_champion_rows_free(h, nh);
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "candidate", (double)last->c.candidate);
	add_str(o, "text", last->text);
	cJSON_AddNumberToObject(o, "tokens", (double)c.tokens);
	add_demos(o, &c.demos);
	cJSON_AddNumberToObject(o, "version", last->c.version);
	add_num(o, "score", last->c.score);
	add_num(o, "lo", last->c.lo);
	add_num(o, "hi", last->c.hi);
	if (found > 0)
		store_candidate_row_release(&c);
	store_champion_rows_free(h, nh);
	*result = o;
	return 0;
}

/*
 * A champion's demos for its export, with how the job renders them (its
 * task.demos as the job file on record says: placement, template).
 */
static void
export_demos(cJSON *o, const struct demos *d, const char *spec)
{
	cJSON		*job = spec != NULL ? cJSON_Parse(spec) : NULL, *t;
	const char	*place, *tmpl;

	add_demos(o, d);
	t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    job, "task"), "demos");
	place = json_str(t, "placement", "turns");
	tmpl = json_str(t, "template", NULL);
	cJSON_AddStringToObject(o, "demo_placement", place);
	if (tmpl != NULL)
		cJSON_AddStringToObject(o, "demo_template", tmpl);
	cJSON_Delete(job);
}

static int
query_export(struct store *s, const struct job_row *j, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct champion_row	*h, *last;
	struct demos		 d;
	cJSON			*o;
	size_t			 nh;

	(void)args;
	if (champion_last(s, j, &h, &nh, code, cause) != 0)
		return -1;
	last = &h[nh - 1];
	if (store_candidate_demos(s, last->c.candidate, &d, cause) != 0) {
		store_champion_rows_free(h, nh);
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	add_str(o, "text", last->text);
	if (d.n > 0)
		export_demos(o, &d, j->spec);
	demos_release(&d);
	cJSON_AddNumberToObject(o, "version", last->c.version);
	add_num(o, "score", last->c.score);
	add_num(o, "lo", last->c.lo);
	add_num(o, "hi", last->c.hi);
	cJSON_AddNumberToObject(o, "time", last->time);
	store_champion_rows_free(h, nh);
	*result = o;
	return 0;
}

/*
 * The evidence of a champion version, each member only where the store
 * has it (a version promoted before schema 11 has none): the run that
 * promoted it, the paired test against the champion it beat, its risk
 * bound (null without one), and its score on the test split.
 */
static void
history_evidence(cJSON *e, const struct champion_row *h)
{
	cJSON	*t;

	if (h->run != 0)
		cJSON_AddNumberToObject(e, "run", (double)h->run);
	if (!isnan(h->p))
		cJSON_AddNumberToObject(e, "p", h->p);
	if (!isnan(h->delta))
		cJSON_AddNumberToObject(e, "delta", h->delta);
	if (h->paired != 0)
		cJSON_AddNumberToObject(e, "paired", (double)h->paired);
	add_risk(e, &h->risk);
	if (isnan(h->test_score))
		return;
	t = cJSON_AddObjectToObject(e, "test");
	cJSON_AddNumberToObject(t, "score", h->test_score);
	add_num(t, "lo", h->test_lo);
	add_num(t, "hi", h->test_hi);
	cJSON_AddNumberToObject(t, "n", (double)h->test_n);
}

static int
query_history(struct store *s, const struct job_row *j, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct champion_row	*h;
	cJSON			*o, *arr, *e;
	size_t			 nh, i;

	(void)args;
	if (store_champion_history(s, j->id, &h, &nh, cause) != 0) {
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "champions");
	for (i = 0; i < nh; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "version", h[i].c.version);
		cJSON_AddNumberToObject(e, "candidate",
		    (double)h[i].c.candidate);
		add_str(e, "text", h[i].text);
		add_num(e, "score", h[i].c.score);
		add_num(e, "lo", h[i].c.lo);
		add_num(e, "hi", h[i].c.hi);
		add_str(e, "reason", h[i].reason);
		cJSON_AddNumberToObject(e, "time", h[i].time);
		history_evidence(e, &h[i]);
		cJSON_AddItemToArray(arr, e);
	}
	store_champion_rows_free(h, nh);
	*result = o;
	return 0;
}

static int
query_events(struct store *s, const struct job_row *j, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	struct event_row	*ev;
	cJSON			*o, *arr, *e;
	size_t			 n, i;
	long long		 after, limit;

	if (arg_int(args, "after", -1, 0, INT64_MAX / 2, &after, code,
	    cause) != 0 || arg_int(args, "limit", QUERY_EVENTS_LIMIT, 1,
	    QUERY_MAX_LIMIT, &limit, code, cause) != 0)
		return -1;
	if (store_events(s, j->id, after, (int)limit, &ev, &n, cause) != 0) {
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "events");
	for (i = 0; i < n; i++) {
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)ev[i].id);
		cJSON_AddNumberToObject(e, "time", ev[i].time);
		add_str(e, "level", ev[i].level);
		add_str(e, "message", ev[i].message);
		if (ev[i].run != 0)
			cJSON_AddNumberToObject(e, "run", (double)ev[i].run);
		else
			cJSON_AddNullToObject(e, "run");
		cJSON_AddItemToArray(arr, e);
	}
	store_event_rows_free(ev, n);
	*result = o;
	return 0;
}

/* The candidates already in the tree, kept sorted. */
struct seen {
	int64_t			*ids;
	size_t			 n;
	struct score_sum	*sums;	/* the job's dev scores, by candidate */
	size_t			 nsums;
};

/* A lineage node's dev score and interval, when it has one. */
static void
lineage_score(cJSON *node, int64_t id, const struct seen *seen)
{
	const struct score_sum	*ss;
	struct summary		 sum;
	size_t			 i;

	for (i = 0; i < seen->nsums && seen->sums[i].candidate != id; i++)
		;
	if (i == seen->nsums)
		return;
	ss = &seen->sums[i];
	stats_summary_sums((size_t)ss->n, ss->total, ss->squares,
	    (size_t)ss->fractional, 0.95, &sum);
	cJSON_AddNumberToObject(node, "mean", sum.mean);
	cJSON_AddNumberToObject(node, "lo", sum.lo);
	cJSON_AddNumberToObject(node, "hi", sum.hi);
	cJSON_AddNumberToObject(node, "n", (double)sum.n);
}

/* Adds id; returns 1 if it was there already. */
static int
seen_add(struct seen *seen, int64_t id)
{
	size_t	lo = 0, hi = seen->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (seen->ids[mid] == id)
			return 1;
		if (seen->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	seen->ids = xreallocarray(seen->ids, seen->n + 1, sizeof *seen->ids);
	memmove(&seen->ids[lo + 1], &seen->ids[lo],
	    (seen->n - lo) * sizeof *seen->ids);
	seen->ids[lo] = id;
	seen->n++;
	return 0;
}

/*
 * Fills the "parents" of node (candidate id at depth) and recurses.  A
 * candidate already in the tree is shown again with "seen": true and no
 * parents; past QUERY_LINEAGE_DEPTH generations a node has "truncated":
 * true.
 */
static int
lineage_parents(struct store *s, int64_t id, cJSON *node, int depth,
    struct seen *seen, char **cause)
{
	struct lineage_row	*rows;
	cJSON			*arr, *p;
	size_t			 n, i;
	int			 rc = 0;

	arr = cJSON_AddArrayToObject(node, "parents");
	if (store_lineage_parents(s, id, &rows, &n, cause) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		p = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, p);
		cJSON_AddNumberToObject(p, "id", (double)rows[i].parent);
		add_str(p, "text", rows[i].text);
		cJSON_AddNumberToObject(p, "tokens", (double)rows[i].tokens);
		add_str(p, "operator", rows[i].op);
		add_str(p, "note", rows[i].note);
		lineage_score(p, rows[i].parent, seen);
		if (seen_add(seen, rows[i].parent)) {
			cJSON_AddBoolToObject(p, "seen", 1);
			cJSON_AddArrayToObject(p, "parents");
		} else if (depth + 1 >= QUERY_LINEAGE_DEPTH) {
			cJSON_AddBoolToObject(p, "truncated", 1);
			cJSON_AddArrayToObject(p, "parents");
		} else
			rc = lineage_parents(s, rows[i].parent, p, depth + 1,
			    seen, cause);
	}
	store_lineage_rows_free(rows, n);
	return rc;
}

static int
query_lineage(struct store *s, const struct job_row *unused,
    const cJSON *args, cJSON **result, const char **code, char **cause)
{
	struct candidate_row	 c;
	struct seen		 seen = { NULL, 0, NULL, 0 };
	const cJSON		*v;
	cJSON			*o;
	long long		 cand;
	int64_t			 ds;
	int			 rc;

	(void)unused;
	v = cJSON_GetObjectItemCaseSensitive(args, "candidate");
	if (v == NULL || cJSON_IsNull(v)) {
		*code = "usage";
		return cause_set(cause, "lineage: missing argument "
		    "'candidate'");
	}
	if (arg_int(args, "candidate", 0, 1, INT64_MAX / 2, &cand, code,
	    cause) != 0)
		return -1;
	if ((rc = store_candidate_get(s, cand, &c, cause)) <= 0) {
		if (rc < 0) {
			*code = "internal";
			return -1;
		}
		return query_fail(code, "not_found", cause, "no candidate %lld",
		    cand);
	}
	/* Scores on the job's latest dev split, as the leaderboard's. */
	if ((ds = store_dataset_latest(s, c.job, cause)) < 0 ||
	    (ds > 0 && store_score_sums(s, c.job, ds, "dev", &seen.sums,
	    &seen.nsums, cause) != 0)) {
		store_candidate_row_release(&c);
		*code = "internal";
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)c.id);
	add_str(o, "text", c.text);
	cJSON_AddNumberToObject(o, "tokens", (double)c.tokens);
	add_str(o, "origin", c.origin);
	add_demos(o, &c.demos);
	lineage_score(o, c.id, &seen);
	seen_add(&seen, c.id);
	rc = lineage_parents(s, c.id, o, 0, &seen, cause);
	free(seen.ids);
	free(seen.sums);
	store_candidate_row_release(&c);
	if (rc != 0) {
		cJSON_Delete(o);
		*code = "internal";
		return -1;
	}
	*result = o;
	return 0;
}

static const struct query queries[] = {
	{ "list", 0, query_list },
	{ "status", 1, query_status },
	{ "leaderboard", 1, query_leaderboard },
	{ "best", 1, query_best },
	{ "lineage", 0, query_lineage },
	{ "history", 1, query_history },
	{ "export", 1, query_export },
	{ "events", 1, query_events },
};

static const struct query *
query_find(const char *cmd, const cJSON *args)
{
	size_t	i;

	for (i = 0; i < nitems(queries); i++) {
		if (strcmp(queries[i].name, cmd) != 0)
			continue;
		/* The daemon's own status is not in the store. */
		if (strcmp(cmd, "status") == 0 &&
		    cJSON_GetObjectItemCaseSensitive(args, "job") == NULL)
			return NULL;
		return &queries[i];
	}
	return NULL;
}

int
query_is_query(const char *cmd, const cJSON *args)
{
	return query_find(cmd, args) != NULL;
}

/*
 * The error for a job the store does not have, with the nearest name it
 * has when one is close enough to be a typo of it.
 */
static int
query_no_job(struct store *s, const char *name, const char **code,
    char **cause)
{
	struct job_row	 *jobs;
	const char	**names, *near;
	char		 *err = NULL;
	size_t		  n, i;
	int		  rc;

	if (store_job_list(s, &jobs, &n, &err) != 0)
		free(err);	/* only the suggestion is lost */
	names = xcalloc(n + 1, sizeof *names);
	for (i = 0; i < n; i++)
		names[i] = jobs[i].name;
	if ((near = suggest_n(name, names, n)) != NULL)
		rc = query_fail(code, "not_found", cause, "no job '%s' (did "
		    "you mean '%s'?)", name, near);
	else
		rc = query_fail(code, "not_found", cause, "no job '%s'", name);
	free(names);
	store_job_rows_free(jobs, n);
	return rc;
}

int
query_run(struct store *s, const char *cmd, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	const struct query	*q;
	struct job_row		 job;
	const cJSON		*v;
	int			 rc;

	*result = NULL;
	*code = NULL;
	if ((q = query_find(cmd, args)) == NULL)
		return 1;
	if (args != NULL && !cJSON_IsObject(args)) {
		*code = "usage";
		return cause_set(cause, "%s: the arguments must be an object",
		    cmd);
	}
	if (!q->need_job)
		return q->fn(s, NULL, args, result, code, cause);
	v = cJSON_GetObjectItemCaseSensitive(args, "job");
	if (v == NULL) {
		*code = "usage";
		return cause_set(cause, "%s: missing argument 'job'", cmd);
	}
	if (!cJSON_IsString(v) || *v->valuestring == '\0') {
		*code = "usage";
		return cause_set(cause, "%s: argument 'job' must be a job name",
		    cmd);
	}
	if ((rc = store_job_get(s, v->valuestring, &job, cause)) <= 0) {
		if (rc < 0) {
			*code = "internal";
			return -1;
		}
		return query_no_job(s, v->valuestring, code, cause);
	}
	rc = q->fn(s, &job, args, result, code, cause);
	store_job_row_release(&job);
	if (rc != 0) {
		cJSON_Delete(*result);
		*result = NULL;
	}
	return rc;
}
