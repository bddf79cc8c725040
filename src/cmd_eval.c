/* promptctl eval: score prompts on a split, store everything, print a
 * table. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cmd.h"
#include "conf.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

struct eval_row {
	const char		*prompt;
	int64_t			 candidate;
	struct summary		 sum;
	double			*scores;	/* per example, NAN if unscored */
	size_t			 failed;
	char			*first_error;
	struct engine_account	 acct;		/* what its calls cost */
	double			 seconds;	/* to its last answer */
};

/*
 * The progress line counts the items answered (scored, or failed), never
 * the requests submitted or sent: all are submitted at once, and a
 * backend's limits say when they go.
 */
struct eval_progress {
	const struct eval_item	*items;
	size_t			 total;		/* prompts x examples */
	int			 lines;		/* not a terminal: a line for
						   each change, not redrawn */
	double			 started;
	double			 last;		/* when it was drawn */
	size_t			 done;		/* what it showed */
	long long		 calls;
};

static void
eval_progress_draw(struct eval_progress *p, const struct engine *e,
    int force)
{
	struct run_totals	 t;
	double			 elapsed, rate;
	size_t			 done = 0, failed = 0, i;
	char			 eta[32];

	for (i = 0; i < p->total; i++) {
		if (p->items[i].done)
			done++;
		else if (p->items[i].error != NULL)
			failed++;
	}
	done += failed;
	engine_totals(e, &t);
	/* A log gets a line when something moved, not every second. */
	if (p->lines && !force && done == p->done && t.calls == p->calls)
		return;
	p->done = done;
	p->calls = t.calls;
	elapsed = time_mono() - p->started;
	rate = elapsed > 0 ? (double)done / elapsed : 0;
	/* The time left at the rate seen so far: none before an answer. */
	cmd_duration(done == p->total ? 0 : done == 0 ? NAN :
	    (double)(p->total - done) / rate, eta, sizeof eta);
	fprintf(stderr, "%s  %zu/%zu answered", p->lines ? "" : "\r\033[K",
	    done, p->total);
	if (failed > 0)
		fprintf(stderr, " (%zu failed)", failed);
	fprintf(stderr, "  %lld calls  $%.4f  %.1f/s  ETA %s%s", t.calls,
	    t.dollars, rate, eta, p->lines ? "\n" : "");
	p->last = time_mono();
}

static void
eval_progress(void *arg, const struct engine *e)
{
	struct eval_progress	*p = arg;

	if (time_mono() - p->last >= (p->lines ? 1.0 : 0.1))
		eval_progress_draw(p, e, 0);
}

/*
 * A row's results from its items: the scores, their summary, what was
 * not scored and why.
 */
static void
eval_row_fill(struct eval_row *row, const struct eval_item *items,
    size_t nex, double started)
{
	double	*ok;
	size_t	 i, n = 0;

	row->seconds = row->acct.last > 0 ? row->acct.last - started : 0;
	row->scores = xcalloc(nex, sizeof *row->scores);
	ok = xcalloc(nex, sizeof *ok);
	for (i = 0; i < nex; i++) {
		row->scores[i] = items[i].done ? items[i].score : NAN;
		if (items[i].done)
			ok[n++] = items[i].score;
		else {
			row->failed++;
			if (row->first_error == NULL && items[i].error != NULL)
				row->first_error = xstrdup(items[i].error);
		}
	}
	stats_summary(ok, n, 0.95, &row->sum);
	free(ok);
}

static void
eval_print_table(const struct job *job, const char *split, size_t nex,
    struct eval_row *rows, size_t nrows, size_t best, const char *db,
    int64_t run, int changed)
{
	const struct run_totals	*sp;
	size_t			 i;
	char			*clip;
	double			 p;

	printf("job '%s': %zu prompt%s on %zu %s examples%s\n", job->task.name,
	    nrows, nrows == 1 ? "" : "s", nex, split,
	    changed ? " (new dataset snapshot)" : "");
	printf("  %-3s %-44s %6s  %-15s %5s %6s %5s %8s %9s %7s\n", "#",
	    "prompt", "score", "95% interval", "n", "calls", "hits",
	    "tokens", "cost", "time");
	for (i = 0; i < nrows; i++) {
		sp = &rows[i].acct.spent;
		clip = cmd_clip(rows[i].prompt, 44);
		printf("  %-3zu %-44s %6.3f  [%5.3f, %5.3f] %5zu %6lld %5lld "
		    "%8lld %9.4f %6.2fs\n", i + 1, clip, rows[i].sum.mean,
		    rows[i].sum.lo, rows[i].sum.hi, rows[i].sum.n,
		    sp->calls, sp->hits, sp->tokens, sp->dollars,
		    rows[i].seconds);
		free(clip);
		if (sp->cached > 0)
			printf("      %lld of the input tokens read from the "
			    "provider's prompt cache\n", sp->cached);
		if (rows[i].failed != 0)
			printf("      %zu example%s not scored: %s\n",
			    rows[i].failed, rows[i].failed == 1 ? "" : "s",
			    rows[i].first_error != NULL ?
			    rows[i].first_error : "unknown error");
	}
	if (nrows > 1) {
		printf("best: #%zu, %.3f against %.3f for the first prompt",
		    best + 1, rows[best].sum.mean, rows[0].sum.mean);
		if (best != 0 && (p = stats_paired_p_scored(
		    rows[best].scores, rows[0].scores, nex, NULL)) < 0.001)
			printf(" (paired one-sided p < 0.001)");
		else if (best != 0)
			printf(" (paired one-sided p = %.3f)", p);
		printf("\n");
	}
	printf("winning prompt:\n%s\n", rows[best].prompt);
	printf("database: %s (run %lld)\n", db, (long long)run);
}

static void
eval_print_json(const struct job *job, const char *split, size_t nex,
    struct eval_row *rows, size_t nrows, size_t best, const char *db,
    int64_t run, int changed, const char *stopped)
{
	const struct run_totals	*sp;
	cJSON			*o, *arr, *r;
	char			*s;
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "job", job->task.name);
	cJSON_AddStringToObject(o, "split", split);
	cJSON_AddNumberToObject(o, "examples", (double)nex);
	cJSON_AddBoolToObject(o, "dataset_changed", changed);
	cJSON_AddStringToObject(o, "database", db);
	cJSON_AddNumberToObject(o, "run", (double)run);
	arr = cJSON_AddArrayToObject(o, "prompts");
	for (i = 0; i < nrows; i++) {
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "prompt", rows[i].prompt);
		cJSON_AddNumberToObject(r, "candidate",
		    (double)rows[i].candidate);
		/* No score has no mean: null, not 0. */
		if (rows[i].sum.n > 0) {
			cJSON_AddNumberToObject(r, "mean", rows[i].sum.mean);
			cJSON_AddNumberToObject(r, "lo", rows[i].sum.lo);
			cJSON_AddNumberToObject(r, "hi", rows[i].sum.hi);
		} else {
			cJSON_AddNullToObject(r, "mean");
			cJSON_AddNullToObject(r, "lo");
			cJSON_AddNullToObject(r, "hi");
		}
		cJSON_AddNumberToObject(r, "n", (double)rows[i].sum.n);
		cJSON_AddNumberToObject(r, "failed", (double)rows[i].failed);
		if (rows[i].first_error != NULL)
			cJSON_AddStringToObject(r, "error",
			    rows[i].first_error);
		sp = &rows[i].acct.spent;
		cJSON_AddNumberToObject(r, "calls", (double)sp->calls);
		cJSON_AddNumberToObject(r, "hits", (double)sp->hits);
		cJSON_AddNumberToObject(r, "tokens", (double)sp->tokens);
		cJSON_AddNumberToObject(r, "cached_tokens", (double)sp->cached);
		cJSON_AddNumberToObject(r, "cost", sp->dollars);
		cJSON_AddNumberToObject(r, "seconds", rows[i].seconds);
		cJSON_AddItemToArray(arr, r);
	}
	cJSON_AddNumberToObject(o, "best", (double)best);
	if (nrows > 1 && best != 0)
		cJSON_AddNumberToObject(o, "p_value", stats_paired_p_scored(
		    rows[best].scores, rows[0].scores, nex, NULL));
	if (stopped != NULL)
		cJSON_AddStringToObject(o, "stopped", stopped);
	else
		cJSON_AddNullToObject(o, "stopped");
	s = cJSON_Print(o);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
}

/* One promptctl eval: what it was asked for and what it holds. */
struct eval {
	const char		**prompts;	/* from argv or the job */
	size_t			 nprompts;
	enum split		 split;
	int			 json;
	struct conf		*conf;
	struct job		*job;
	size_t			*ex;		/* the split's examples */
	size_t			 nex;
	char			*spec;
	char			*db;
	struct store		*store;
	int64_t			 job_id;
	int64_t			 run;
	int			 changed;	/* a new dataset snapshot */
	int			 set_state;	/* the job is this eval's */
	struct engine_loop	*loop;
	struct engine		*engine;
	struct eval_progress	 prog;
	int			 progress;	/* --progress */
	struct eval_row		*rows;
	size_t			 nrows;		/* rows filled */
	struct eval_item	*items;		/* nrows x nex, row-major */
	size_t			 best;
};

/*
 * Reads the options into ev.  Returns the job file, or NULL with *rc the
 * command's exit status after a usage error.
 */
static const char *
eval_args(struct eval *ev, int argc, char **argv, int *rc)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'P' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "split", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	/* As cmd_parse(): a new scan, options after the operand too. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "hp:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			*rc = cmd_help(&cmd_eval_entry);
			return NULL;
		case 'j':
			ev->json = 1;
			break;
		case 'P':
			ev->progress = 1;
			break;
		case 'p':
			ev->prompts = xreallocarray(ev->prompts,
			    ev->nprompts + 1, sizeof *ev->prompts);
			ev->prompts[ev->nprompts++] = optarg;
			break;
		case 's':
			if (split_from_name(optarg, &ev->split) != 0 ||
			    ev->split == SPLIT_TRAIN) {
				fprintf(stderr, "promptctl: unknown split "
				    "'%s' (expected dev or test)\n", optarg);
				*rc = CMD_USAGE;
				return NULL;
			}
			break;
		default:
			*rc = cmd_usage(&cmd_eval_entry);
			return NULL;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		*rc = cmd_usage(&cmd_eval_entry);
		return NULL;
	}
	return argv[0];
}

/*
 * The prompts (the job's seeds when none was given) and the examples of
 * the split.  Returns -1 with *cause when the split is empty.
 */
static int
eval_examples(struct eval *ev, char **cause)
{
	const struct job	*job = ev->job;
	size_t			 i;

	if (ev->nprompts == 0) {
		ev->prompts = xcalloc(job->nseeds, sizeof *ev->prompts);
		for (i = 0; i < job->nseeds; i++)
			ev->prompts[ev->nprompts++] = job->seeds[i];
	}
	for (i = 0; i < job->task.dataset->n; i++) {
		if (job->task.dataset->ex[i].split != ev->split)
			continue;
		ev->ex = xreallocarray(ev->ex, ev->nex + 1, sizeof *ev->ex);
		ev->ex[ev->nex++] = i;
	}
	if (ev->nex == 0)
		return cause_set(cause, "job '%s': the %s split is empty",
		    job->task.name, split_name(ev->split));
	return 0;
}

/*
 * A metric that learns from the job's feedback is fitted to the
 * interactions the store has (from promptctl ingest or the job's runs);
 * what it learned goes to stderr, out of the way of --json.
 */
static int
eval_learn(struct eval *ev, char **cause)
{
	char	*report;

	if (jobrun_metric_prepare(ev->store, ev->job_id, ev->job, time_now(),
	    &report, cause) != 0)
		return cause_prefix(cause, "job '%s': ",
		    ev->job->task.name);
	if (report != NULL)
		fprintf(stderr, "promptctl: job '%s': %s\n",
		    ev->job->task.name, report);
	free(report);
	return 0;
}

/* Opens the store and records the job, its dataset and a new run. */
static int
eval_open(struct eval *ev, struct cmd_ctx *ctx, char **cause)
{
	const struct job	*job = ev->job;
	struct job_row		 row;
	int64_t			 ds_id;
	int			 rc;

	ev->spec = cJSON_PrintUnformatted(job->spec);
	if ((ev->db = conf_database_path(ev->conf, ctx->db_path,
	    cause)) == NULL ||
	    (ev->store = store_open(ev->db, cause)) == NULL ||
	    (ev->job_id = store_job_put(ev->store, job->task.name, ev->spec,
	    cause)) < 0)
		return -1;
	/*
	 * A job that only evals have seen (no job file on record, never
	 * run) takes its eval's outcome as its state: left "queued", it
	 * would wait for a run that no daemon starts.  A daemon's job keeps
	 * the state the daemon gives it.
	 */
	if ((rc = store_job_get(ev->store, job->task.name, &row, cause)) < 0)
		return -1;
	ev->set_state = rc == 1 && row.file == NULL &&
	    strcmp(row.state, "queued") == 0;
	store_job_row_release(&row);
	if (eval_learn(ev, cause) != 0)
		return -1;
	if ((ds_id = store_dataset_snapshot(ev->store, ev->job_id,
	    job->task.dataset, &ev->changed, cause)) < 0 ||
	    (ev->run = store_run_new(ev->store, ev->job_id, "eval", ds_id,
	    cause)) < 0)
		return -1;
	return 0;
}

/* The rows and their items, each prompt stored as a candidate. */
static int
eval_rows(struct eval *ev, char **cause)
{
	const struct job	*job = ev->job;
	const struct demos	*demos;
	struct eval_item	*item;
	size_t			 i, j;
	int			 seed;

	ev->rows = xcalloc(ev->nprompts, sizeof *ev->rows);
	ev->items = xcalloc(ev->nprompts * ev->nex, sizeof *ev->items);
	for (i = 0; i < ev->nprompts; i++) {
		ev->rows[i].prompt = ev->prompts[i];
		/* A seed is scored with its demos. */
		seed = i < job->nseeds && ev->prompts[i] == job->seeds[i];
		demos = seed ? &job->seed_demos[i] : NULL;
		if ((ev->rows[i].candidate = store_candidate_put_demos(
		    ev->store, ev->job_id, ev->prompts[i], demos,
		    task_prompt_tokens(&job->task, ev->prompts[i], demos),
		    seed ? "seed" : "user", cause)) < 0)
			return -1;
		ev->nrows++;
		for (j = 0; j < ev->nex; j++) {
			item = &ev->items[i * ev->nex + j];
			item->prompt = ev->prompts[i];
			item->demos = demos;
			item->candidate = ev->rows[i].candidate;
			item->example = ev->ex[j];
		}
	}
	return 0;
}

/*
 * Scores every prompt on the split's examples, all submitted at once
 * (the backends' limits, not the order of the prompts, say how many are
 * in flight), each prompt's calls charged to its row, with a progress
 * line on a terminal; then finds the best.
 */
static int
eval_prompts(struct eval *ev, char **cause)
{
	const struct job	*job = ev->job;
	struct eval_batch	**batches;
	struct eval_row		*row;
	size_t			 i;
	int			 draw, rc;

	jobrun_observe(ev->job);
	ev->loop = engine_loop_new(ev->store);
	ev->engine = engine_new(ev->loop, ev->run, &job->budget, job->cache);
	if (eval_rows(ev, cause) != 0)
		return -1;
	ev->prog.items = ev->items;
	ev->prog.total = ev->nrows * ev->nex;
	ev->prog.started = time_mono();
	ev->prog.lines = !isatty(STDERR_FILENO);
	draw = ev->progress || (!ev->json && !ev->prog.lines);
	batches = xcalloc(ev->nrows, sizeof *batches);
	for (i = 0; i < ev->nrows; i++) {
		engine_account(ev->engine, &ev->rows[i].acct);
		batches[i] = eval_start(ev->engine, &job->task,
		    &ev->items[i * ev->nex], ev->nex);
	}
	engine_account(ev->engine, NULL);
	if (draw) {
		eval_progress_draw(&ev->prog, ev->engine, 1);
		engine_set_progress(ev->engine, eval_progress, &ev->prog);
	}
	rc = engine_run(ev->engine, cause);
	for (i = 0; i < ev->nrows; i++)
		eval_end(batches[i]);
	free(batches);
	/* The last line stays in a log; on a terminal the table follows. */
	if (draw && ev->prog.lines)
		eval_progress_draw(&ev->prog, ev->engine, 0);
	else if (draw)
		fprintf(stderr, "\r\033[K");
	if (rc != 0)
		return -1;
	for (i = 0; i < ev->nrows; i++) {
		row = &ev->rows[i];
		eval_row_fill(row, &ev->items[i * ev->nex], ev->nex,
		    ev->prog.started);
		if (row->sum.n > 0 && (ev->rows[ev->best].sum.n == 0 ||
		    row->sum.mean > ev->rows[ev->best].sum.mean))
			ev->best = i;
	}
	return 0;
}

/*
 * Ends the run and prints the results.  Returns the command's exit
 * status (an error when an example was not scored or a budget stopped
 * the run), or -1 with *cause.
 */
static int
eval_finish(struct eval *ev, char **cause)
{
	struct run_totals	 totals;
	const char		*split = split_name(ev->split);
	const char		*stopped = NULL;
	size_t			 i;
	int			 rc = CMD_OK;

	if (engine_stopped(ev->engine) != ENGINE_OK)
		stopped = engine_stop_reason(engine_stopped(ev->engine));
	engine_totals(ev->engine, &totals);
	if (store_run_finish(ev->store, ev->run, stopped != NULL ?
	    "exhausted" : "done", &totals, cause) != 0 ||
	    (ev->set_state && store_job_set_state(ev->store, ev->job_id,
	    stopped != NULL ? "exhausted" : "done", stopped, cause) != 0))
		return -1;
	if (ev->json)
		eval_print_json(ev->job, split, ev->nex, ev->rows, ev->nrows,
		    ev->best, store_path(ev->store), ev->run, ev->changed,
		    stopped);
	else
		eval_print_table(ev->job, split, ev->nex, ev->rows, ev->nrows,
		    ev->best, store_path(ev->store), ev->run, ev->changed);
	/* In JSON the result says why it stopped. */
	if (stopped != NULL && !ev->json)
		fprintf(stderr, "promptctl: job '%s': %s\n", ev->job->task.name,
		    stopped);
	for (i = 0; i < ev->nrows; i++)
		if (ev->rows[i].failed != 0)
			rc = CMD_ERROR;	/* not everything was scored */
	if (stopped != NULL)
		rc = CMD_ERROR;
	return rc;
}

static void
eval_release(struct eval *ev)
{
	size_t	i;

	for (i = 0; i < ev->nrows; i++) {
		free(ev->rows[i].scores);
		free(ev->rows[i].first_error);
	}
	free(ev->rows);
	eval_items_release(ev->items, ev->nrows * ev->nex);
	free(ev->items);
	free(ev->spec);
	free(ev->ex);
	free(ev->db);
	free(ev->prompts);
	engine_free(ev->engine);
	engine_loop_free(ev->loop);
	store_close(ev->store);
	job_free(ev->job);
	conf_free(ev->conf);
}

static int
cmd_eval(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct eval		 ev;
	struct run_totals	 totals;
	const char		*file;
	char			*cause = NULL;
	int			 rc = CMD_ERROR;

	memset(&ev, 0, sizeof ev);
	ev.split = SPLIT_DEV;
	if ((file = eval_args(&ev, argc, argv, &rc)) == NULL)
		goto out;
	ctx->json = ev.json;
	if ((ev.job = cmd_load_job(ctx, file, &ev.conf, &cause)) == NULL) {
		rc = cmd_error(ctx, CMD_ERROR, "invalid", "%s", cause);
		goto out;
	}
	if (eval_examples(&ev, &cause) != 0 ||
	    eval_open(&ev, ctx, &cause) != 0 ||
	    eval_prompts(&ev, &cause) != 0 ||
	    (rc = eval_finish(&ev, &cause)) == -1)
		goto fail;
	goto out;
fail:
	rc = cmd_error(ctx, CMD_ERROR, "error", "%s", cause != NULL ? cause :
	    "unknown error");
	if (ev.store != NULL && ev.run > 0) {
		memset(&totals, 0, sizeof totals);
		if (ev.engine != NULL)
			engine_totals(ev.engine, &totals);
		store_run_finish(ev.store, ev.run, "failed", &totals, NULL);
		if (ev.set_state)
			store_job_set_state(ev.store, ev.job_id, "failed",
			    cause, NULL);
	}
out:
	free(cause);
	eval_release(&ev);
	return rc;
}

const struct cmd_entry cmd_eval_entry = {
	"eval",
	"[--json] [--progress] [-p prompt] ... [--split dev | test] file",
	"score prompts on a split of a job's dataset and store every call",
	cmd_eval
};
