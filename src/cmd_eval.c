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
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
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
	struct run_totals	 spent;
	double			 seconds;
};

struct eval_progress {
	size_t	total;		/* items of all prompts */
	size_t	base;		/* items finished by earlier prompts */
	double	started;
	double	last;
};

static void
eval_progress(void *arg, const struct engine *e)
{
	struct eval_progress	*p = arg;
	struct run_totals	 t;
	double			 now = time_mono(), rate;
	size_t			 done;

	if (now - p->last < 0.1)
		return;
	p->last = now;
	engine_totals(e, &t);
	done = p->base + engine_done_count(e);
	if (done > p->total)
		done = p->total;
	rate = (double)done / (now - p->started + 1e-9);
	fprintf(stderr, "\r  %zu/%zu  %.1f/s  $%.4f  ETA %.0fs   ", done,
	    p->total, rate, t.dollars, rate > 0 ?
	    (double)(p->total - done) / rate : 0.0);
}

static int
eval_prompt(struct engine *e, const struct job *job, const size_t *ex,
    size_t nex, struct eval_row *row, char **cause)
{
	struct eval_item	*items;
	struct run_totals	 before, after;
	double			*ok, t0 = time_mono();
	size_t			 i, n = 0;
	int			 rc;

	items = xcalloc(nex, sizeof *items);
	for (i = 0; i < nex; i++) {
		items[i].prompt = row->prompt;
		items[i].candidate = row->candidate;
		items[i].example = ex[i];
	}
	engine_totals(e, &before);
	rc = engine_eval(e, job, items, nex, cause);
	engine_totals(e, &after);
	row->seconds = time_mono() - t0;
	row->spent.calls = after.calls - before.calls;
	row->spent.hits = after.hits - before.hits;
	row->spent.tokens = after.tokens - before.tokens;
	row->spent.dollars = after.dollars - before.dollars;
	row->spent.cached = after.cached - before.cached;
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
	eval_items_release(items, nex);
	free(items);
	return rc;
}

static char *
eval_clip(const char *s, size_t max)
{
	struct strbuf	sb;
	size_t		n = 0;

	strbuf_init(&sb);
	if (strlen(s) > max)
		max -= 3;	/* room for the "..." */
	for (; *s != '\0' && n < max; s++) {
		if ((*s & 0xc0) != 0x80)
			n++;
		strbuf_addc(&sb, *s == '\n' || *s == '\t' ? ' ' : *s);
	}
	while (*s != '\0' && (*s & 0xc0) == 0x80)
		strbuf_addc(&sb, *s++);
	if (*s != '\0')
		strbuf_adds(&sb, "...");
	return strbuf_detach(&sb);
}

static void
eval_print_table(const struct job *job, const char *split, size_t nex,
    struct eval_row *rows, size_t nrows, size_t best, const char *db,
    int64_t run, int changed)
{
	size_t	 i;
	char	*clip;
	double	 p;

	printf("job '%s': %zu prompt%s on %zu %s examples%s\n", job->name,
	    nrows, nrows == 1 ? "" : "s", nex, split,
	    changed ? " (new dataset snapshot)" : "");
	printf("  %-3s %-44s %6s  %-15s %5s %6s %5s %8s %9s %7s\n", "#",
	    "prompt", "score", "95% interval", "n", "calls", "hits",
	    "tokens", "cost", "time");
	for (i = 0; i < nrows; i++) {
		clip = eval_clip(rows[i].prompt, 44);
		printf("  %-3zu %-44s %6.3f  [%5.3f, %5.3f] %5zu %6lld %5lld "
		    "%8lld %9.4f %6.2fs\n", i + 1, clip, rows[i].sum.mean,
		    rows[i].sum.lo, rows[i].sum.hi, rows[i].sum.n,
		    rows[i].spent.calls, rows[i].spent.hits,
		    rows[i].spent.tokens, rows[i].spent.dollars,
		    rows[i].seconds);
		free(clip);
		if (rows[i].spent.cached > 0)
			printf("      %lld of the input tokens read from the "
			    "provider's prompt cache\n", rows[i].spent.cached);
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
	cJSON	*o, *arr, *r;
	char	*s;
	size_t	 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "job", job->name);
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
		cJSON_AddNumberToObject(r, "mean", rows[i].sum.mean);
		cJSON_AddNumberToObject(r, "lo", rows[i].sum.lo);
		cJSON_AddNumberToObject(r, "hi", rows[i].sum.hi);
		cJSON_AddNumberToObject(r, "n", (double)rows[i].sum.n);
		cJSON_AddNumberToObject(r, "failed", (double)rows[i].failed);
		if (rows[i].first_error != NULL)
			cJSON_AddStringToObject(r, "error",
			    rows[i].first_error);
		cJSON_AddNumberToObject(r, "calls",
		    (double)rows[i].spent.calls);
		cJSON_AddNumberToObject(r, "hits", (double)rows[i].spent.hits);
		cJSON_AddNumberToObject(r, "tokens",
		    (double)rows[i].spent.tokens);
		cJSON_AddNumberToObject(r, "cached_tokens",
		    (double)rows[i].spent.cached);
		cJSON_AddNumberToObject(r, "cost", rows[i].spent.dollars);
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

static int
cmd_eval(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "split", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf		*conf = NULL;
	struct job		*job = NULL;
	struct store		*store = NULL;
	struct engine_loop	*loop = NULL;
	struct engine		*engine = NULL;
	struct eval_row		*rows = NULL;
	struct eval_progress	 prog;
	struct run_totals	 totals;
	enum split		 split = SPLIT_DEV;
	const char		**prompts = NULL, *stopped = NULL;
	char			*db = NULL, *cause = NULL, *spec = NULL;
	size_t			 nprompts = 0, nrows = 0, *ex = NULL, nex = 0;
	size_t			 i, best = 0;
	int64_t			 job_id, ds_id, run = 0;
	int			 ch, json = 0, changed = 0, rc = CMD_ERROR;
	int			 tty;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+p:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			prompts = xreallocarray(prompts, nprompts + 1,
			    sizeof *prompts);
			prompts[nprompts++] = optarg;
			break;
		case 's':
			if (split_from_name(optarg, &split) != 0 ||
			    split == SPLIT_TRAIN) {
				fprintf(stderr, "promptctl: unknown split "
				    "'%s' (expected dev or test)\n", optarg);
				free(prompts);
				return CMD_USAGE;
			}
			break;
		default:
			free(prompts);
			return cmd_usage(&cmd_eval_entry);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		free(prompts);
		return cmd_usage(&cmd_eval_entry);
	}
	if ((job = cmd_load_job(ctx, argv[0], &conf)) == NULL)
		goto out;
	if (nprompts == 0) {
		prompts = xcalloc(job->nseeds, sizeof *prompts);
		for (i = 0; i < job->nseeds; i++)
			prompts[nprompts++] = job->seeds[i];
	}
	for (i = 0; i < job->task.dataset->n; i++) {
		if (job->task.dataset->ex[i].split != split)
			continue;
		ex = xreallocarray(ex, nex + 1, sizeof *ex);
		ex[nex++] = i;
	}
	if (nex == 0) {
		fprintf(stderr, "promptctl: job '%s': the %s split is empty\n",
		    job->name, split_name(split));
		goto out;
	}
	spec = cJSON_PrintUnformatted(job->spec);
	if ((db = conf_database_path(conf, ctx->db_path, &cause)) == NULL ||
	    (store = store_open(db, &cause)) == NULL ||
	    (job_id = store_job_put(store, job->name, spec, &cause)) < 0)
		goto fail;
	if ((ds_id = store_dataset_snapshot(store, job_id, job->task.dataset,
	    &changed, &cause)) < 0 ||
	    (run = store_run_new(store, job_id, "eval", ds_id, &cause)) < 0)
		goto fail;
	jobrun_observe(job);
	loop = engine_loop_new(store);
	engine = engine_new(loop, run, &job->budget, job->cache);
	tty = !json && isatty(STDERR_FILENO);
	memset(&prog, 0, sizeof prog);
	prog.total = nprompts * nex;
	prog.started = time_mono();
	if (tty)
		engine_set_progress(engine, eval_progress, &prog);
	rows = xcalloc(nprompts, sizeof *rows);
	for (i = 0; i < nprompts; i++) {
		rows[i].prompt = prompts[i];
		if ((rows[i].candidate = store_candidate_put(store, job_id,
		    prompts[i], i < job->nseeds && prompts[i] == job->seeds[i] ?
		    "seed" : "user", &cause)) < 0)
			goto fail;
		nrows++;
		prog.base = i * nex;
		if (eval_prompt(engine, job, ex, nex, &rows[i], &cause) != 0)
			goto fail;
		if (rows[i].sum.n > 0 && (rows[best].sum.n == 0 ||
		    rows[i].sum.mean > rows[best].sum.mean))
			best = i;
	}
	if (tty)
		fprintf(stderr, "\r%*s\r", 60, "");
	if (engine_stopped(engine) != ENGINE_OK)
		stopped = engine_stop_reason(engine_stopped(engine));
	engine_totals(engine, &totals);
	if (store_run_finish(store, run, stopped != NULL ? "exhausted" : "done",
	    &totals, &cause) != 0)
		goto fail;
	if (json)
		eval_print_json(job, split_name(split), nex, rows, nrows, best,
		    store_path(store), run, changed, stopped);
	else
		eval_print_table(job, split_name(split), nex, rows, nrows, best,
		    store_path(store), run, changed);
	if (stopped != NULL)
		fprintf(stderr, "promptctl: job '%s': %s\n", job->name,
		    stopped);
	rc = CMD_OK;
	for (i = 0; i < nrows; i++)
		if (rows[i].failed != 0)
			rc = CMD_ERROR;	/* not everything was scored */
	if (stopped != NULL)
		rc = CMD_ERROR;
	goto out;
fail:
	fprintf(stderr, "promptctl: %s\n", cause != NULL ? cause :
	    "unknown error");
	if (store != NULL && run > 0) {
		memset(&totals, 0, sizeof totals);
		if (engine != NULL)
			engine_totals(engine, &totals);
		store_run_finish(store, run, "failed", &totals, NULL);
	}
out:
	for (i = 0; i < nrows; i++) {
		free(rows[i].scores);
		free(rows[i].first_error);
	}
	free(rows);
	free(cause);
	free(spec);
	free(ex);
	free(db);
	free(prompts);
	engine_free(engine);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
	conf_free(conf);
	return rc;
}

const struct cmd_entry cmd_eval_entry = {
	"eval", "[--json] [-p prompt] ... [--split dev | test] file",
	"score prompts on a split of a job's dataset and store every call",
	cmd_eval
};
