/*
 * Tests for the search strategies on the simulated model: evo (GA, DE,
 * PromptBreeder operators) and ape improve on the seed of every bundled
 * example task, lineage forms trees back to the seeds, racing saves
 * target calls and keeps the winner, bad optimizer replies are survived,
 * an interrupted step replays from the cache, random (which needs no
 * optimizer) beats the weak seed and draws by the job's seed alone,
 * parameters are checked, and promptd-strategies(7) documents every
 * parameter.
 *
 * With STRATEGY_AUDIT_DB set, only the audit case runs, on that database
 * (tests/integration/strategy_resume.sh uses it after a kill -9).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_common.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static char	*tmp;

static void
setup(void)
{
	tmp = check_tmpdir();
}

static void
teardown(void)
{
	check_rmtree(tmp);
	free(tmp);
}

/* The bundled example tasks, with their first (weak) seed only. */
struct task_spec {
	const char	*name;
	const char	*task;		/* "description" and "task" */
	const char	*seed_prompt;
	const char	*backends;	/* the target's and the judge's */
	const char	*roles;		/* others than target, optimizer */
	int		 seed;
};

static const struct task_spec tasks[] = {
	{ "arith",
	  "\"description\": \"Solve short arithmetic word problems.\",\n"
	  "\"task\": { \"dataset\": \"@SRCDIR@/examples/arith/problems.csv\",\n"
	  " \"input\": \"{{prompt}}\\n\\nQuestion: {{question}}\\nAnswer:\",\n"
	  " \"target\": \"answer\",\n"
	  " \"metric\": { \"type\": \"number\", \"abs_tol\": 0.001,\n"
	  "  \"extract\": \"(?s)(?<answer>-?\\\\$?[0-9][0-9,]*"
	  "(?:\\\\.[0-9]+)?)(?!.*[0-9])\" },\n"
	  " \"splits\": { \"train\": 0.3, \"dev\": 0.4, \"test\": 0.3,"
	  " \"seed\": 11 } },\n",
	  "Answer the question.",
	  "\"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 2 }",
	  "", 2 },
	{ "sentiment",
	  "\"description\": \"Classify the sentiment of a movie review as "
	  "positive or negative.\",\n"
	  "\"task\": { \"dataset\": \"@SRCDIR@/examples/sentiment/reviews.jsonl\",\n"
	  " \"input\": \"Review: {{text}}\\nSentiment:\",\n"
	  " \"target\": \"label\",\n"
	  " \"metric\": { \"type\": \"exact\", \"normalize\": [\"case\","
	  " \"whitespace\", \"punctuation\"] },\n"
	  " \"splits\": { \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3,"
	  " \"seed\": 7 } },\n",
	  "Classify the sentiment of the review.",
	  "\"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 1 }",
	  "", 1 },
	{ "rewrite",
	  "\"description\": \"Rewrite a blunt workplace message so that it is "
	  "polite, concise and free of typos.\",\n"
	  "\"task\": { \"dataset\": \"@SRCDIR@/examples/rewrite/messages.jsonl\",\n"
	  " \"input\": \"Rewrite this message:\\n{{text}}\",\n"
	  " \"metric\": { \"type\": \"judge\", \"mode\": \"rubric\",\n"
	  "  \"rubric\": \"The rewrite keeps the meaning, is polite, is concise"
	  " (no filler words such as 'basically' or 'literally'), and has no"
	  " spelling mistakes.\" },\n"
	  " \"splits\": { \"train\": 0.3, \"dev\": 0.4, \"test\": 0.3,"
	  " \"seed\": 5 } },\n",
	  "Rewrite the message.",
	  "\"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 3 },\n"
	  " \"sim-judge\": { \"type\": \"sim\", \"model\": \"sim-judge-1\","
	  " \"seed\": 4 }",
	  ", \"judge\": \"sim-judge\"", 3 },
};

/* The task text with @SRCDIR@ replaced by the source directory. */
static char *
srcdir_subst(const char *text)
{
	const char	*at = strstr(text, "@SRCDIR@");

	ck_assert_ptr_nonnull(at);
	return xasprintf("%.*s%s%s", (int)(at - text), text, TEST_SRCDIR,
	    at + strlen("@SRCDIR@"));
}

/*
 * Writes a job file for a task: strategy is the strategy object, seeds
 * (NULL: the task's weak seed) the seed_prompts array's contents, and opt
 * the optimizer's backend (NULL: the target's simulated model).
 */
static char *
job_write(const struct task_spec *t, const char *file, const char *strategy,
    const char *seeds, const char *opt)
{
	char	*path, *task, *seedv, *text;
	FILE	*f;

	path = xasprintf("%s/%s", tmp, file);
	task = srcdir_subst(t->task);
	seedv = seeds != NULL ? xstrdup(seeds) : xasprintf("\"%s\"",
	    t->seed_prompt);
	text = xasprintf("{\n\"name\": \"%s\",\n%s"
	    "\"seed_prompts\": [%s],\n"
	    "\"backends\": { %s%s%s },\n"
	    "\"roles\": { \"target\": \"sim\", \"optimizer\": \"%s\"%s },\n"
	    "\"strategy\": %s,\n"
	    "\"budget\": { \"max_calls\": 200000 },\n"
	    "\"seed\": %d\n}\n", t->name, task, seedv, t->backends,
	    opt != NULL ? ",\n \"opt\": " : "", opt != NULL ? opt : "",
	    opt != NULL ? "opt" : "sim", t->roles, strategy, t->seed);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(task);
	free(seedv);
	free(text);
	return path;
}

/* What a run gave. */
struct outcome {
	double		 seed_mean;	/* the first seed's */
	double		 best_mean;
	char		*best_text;
	size_t		 ncands;
	unsigned	 failed_asks;
	int		 steps;
	char		 status[16];
};

static void
outcome_release(struct outcome *o)
{
	free(o->best_text);
	memset(o, 0, sizeof *o);
}

/*
 * Runs a job in-process as promptd --once does.  With stop_after >= 0,
 * stops (as if killed) after that many steps, leaving the run open.
 */
static void
run_job(const char *jobpath, const char *db, int stop_after,
    struct outcome *o)
{
	struct job		*job;
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct cand		*best;
	char			*cause = NULL;
	int			 rc;

	memset(o, 0, sizeof *o);
	job = job_load(jobpath, NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	store = store_open(db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	while ((rc = jobrun_step(&jr, &cause)) == 1)
		if (stop_after >= 0 && jr.search.step >= stop_after)
			break;
	ck_assert_msg(rc >= 0, "%s: %s", jobpath, cause);
	o->seed_mean = jr.search.cands[0]->mean;
	o->ncands = jr.search.ncands;
	o->failed_asks = jr.search.failed_asks;
	o->steps = jr.search.step;
	if (rc == 0) {
		ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
		snprintf(o->status, sizeof o->status, "%s", jr.status);
	} else
		snprintf(o->status, sizeof o->status, "stopped");
	if ((best = search_best(&jr.search)) != NULL) {
		o->best_mean = best->mean;
		o->best_text = xstrdup(best->text);
	}
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
}

static long long
sql_int(const char *db, const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	long long	 v = -1;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* The first column of the first row as text (allocated; "" for none). */
static char *
sql_text(const char *db, const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*v = NULL;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v != NULL ? v : xstrdup("");
}

static long long
target_calls(const char *db)
{
	return sql_int(db, "SELECT count(*) FROM calls WHERE role = 'target'"
	    " AND status = 'ok'");
}

/*
 * Every candidate that is not a seed (nor a root by design: ape's
 * proposals, zero-order prompts) reaches a seed through lineage edges.
 */
static void
check_tree(const char *db)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	int64_t		*ids, *edges;
	int		*ok, *root;
	size_t		 n = 0, ne = 0, i, j;
	int		 changed;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ids = xcalloc(100000, sizeof *ids);
	ok = xcalloc(100000, sizeof *ok);
	root = xcalloc(100000, sizeof *root);
	edges = xcalloc(2 * 100000, sizeof *edges);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT id, origin = 'seed', "
	    "origin IN ('ape-propose', 'pb-zero-order') FROM candidates", -1,
	    &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < 100000) {
		ids[n] = sqlite3_column_int64(st, 0);
		ok[n] = sqlite3_column_int(st, 1);
		root[n] = sqlite3_column_int(st, 2) > 0;
		n++;
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT child, parent, "
	    "operator IS NOT NULL AND note IS NOT NULL FROM lineage", -1, &st,
	    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && ne < 100000) {
		edges[2 * ne] = sqlite3_column_int64(st, 0);
		edges[2 * ne + 1] = sqlite3_column_int64(st, 1);
		ck_assert_msg(sqlite3_column_int(st, 2), "lineage row without "
		    "operator or note");
		ne++;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	ck_assert_uint_gt(n, 1);
	ck_assert_uint_gt(ne, 0);
	/* Reachability from the seeds, to a fixed point. */
	do {
		changed = 0;
		for (j = 0; j < ne; j++) {
			for (i = 0; i < n && ids[i] != edges[2 * j + 1]; i++)
				;
			if (i == n || !ok[i])
				continue;
			for (i = 0; i < n && ids[i] != edges[2 * j]; i++)
				;
			if (i < n && !ok[i]) {
				ok[i] = 1;
				changed = 1;
			}
		}
	} while (changed);
	for (i = 0; i < n; i++)
		ck_assert_msg(ok[i] || root[i], "%s: candidate %lld has no "
		    "lineage path to a seed", db, (long long)ids[i]);
	/* Roots by design have no parents. */
	for (i = 0; i < n; i++)
		for (j = 0; root[i] && j < ne; j++)
			ck_assert_msg(edges[2 * j] != ids[i], "%s: root %lld "
			    "has a parent", db, (long long)ids[i]);
	free(ids);
	free(ok);
	free(root);
	free(edges);
}

/* The strategies measured, as strategy objects. */
static const char *const improvers[] = {
	"{ \"name\": \"evo\", \"variant\": \"ga\" }",
	"{ \"name\": \"evo\", \"variant\": \"de\" }",
	"{ \"name\": \"ape\", \"resample\": 3 }",
	"{ \"name\": \"evo\", \"variant\": \"ga\", \"first_order\": true,"
	" \"operator_rate\": 1 }",
};

START_TEST(test_improves)
{
	struct outcome	 o;
	char		*job, *db;
	size_t		 t, k;

	for (t = 0; t < nitems(tasks); t++) {
		for (k = 0; k < nitems(improvers); k++) {
			job = job_write(&tasks[t], "job.json", improvers[k],
			    NULL, NULL);
			db = xasprintf("%s/%s-%zu.db", tmp, tasks[t].name, k);
			run_job(job, db, -1, &o);
			ck_assert_str_eq(o.status, "done");
			ck_assert_msg(o.best_mean >= o.seed_mean + 0.15,
			    "%s, %s: best %.3f, seed %.3f", tasks[t].name,
			    improvers[k], o.best_mean, o.seed_mean);
			if (k != 2)
				check_tree(db);
			outcome_release(&o);
			free(job);
			free(db);
		}
	}
}
END_TEST

START_TEST(test_operators_tree)
{
	static const char *const strategies[] = {
		"{ \"name\": \"evo\", \"variant\": \"de\", \"first_order\": "
		"true, \"lineage\": true, \"zero_order\": true, "
		"\"generations\": 4 }",
		"{ \"name\": \"evo\", \"variant\": \"ga\", \"lineage\": true, "
		"\"operator_rate\": 1, \"generations\": 4 }",
		"{ \"name\": \"evo\", \"variant\": \"ga\", \"zero_order\": true,"
		" \"operator_rate\": 1, \"generations\": 3 }",
	};
	struct outcome	 o;
	char		*job, *db;
	size_t		 k;

	for (k = 0; k < nitems(strategies); k++) {
		job = job_write(&tasks[1], "job.json", strategies[k], NULL,
		    NULL);
		db = xasprintf("%s/ops-%zu.db", tmp, k);
		run_job(job, db, -1, &o);
		ck_assert_str_eq(o.status, "done");
		ck_assert_msg(o.best_mean > o.seed_mean, "%s: best %.3f, "
		    "seed %.3f", strategies[k], o.best_mean, o.seed_mean);
		check_tree(db);
		outcome_release(&o);
		free(job);
		free(db);
	}
	/* Each operator left its mark. */
	db = xasprintf("%s/ops-0.db", tmp);
	ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM lineage WHERE "
	    "operator = 'pb-first-order'"), 0);
	ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM lineage WHERE "
	    "operator = 'pb-lineage'"), 0);
	ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM lineage WHERE "
	    "operator = 'de'"), 0);
	free(db);
	db = xasprintf("%s/ops-2.db", tmp);
	ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM candidates WHERE "
	    "origin = 'pb-zero-order'"), 0);
	free(db);
}
END_TEST

/*
 * Racing on a pool whose winner is known: one seed has every helpful cue,
 * the others are plain or harmful.
 */
START_TEST(test_racing)
{
	static const char *const pool =
	    "\"Classify the sentiment of the review.\", "
	    "\"Guess randomly and answer quickly without thinking.\", "
	    "\"Ignore the review and guess.\", "
	    "\"Answer quickly.\", "
	    "\"You are an expert film critic. Read the whole review carefully"
	    " and think step by step. Decide whether it is positive or "
	    "negative. Answer with only the label.\", "
	    "\"Hurry: guess the label at random.\"";
	struct job		*job;
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct run_totals	 t;
	struct cand		*best;
	char			*path, *db, *cause = NULL, *text[2];
	long long		 calls[2];
	int			 racing;

	path = job_write(&tasks[1], "race.json", "{ \"name\": \"ape\" }", pool,
	    NULL);
	for (racing = 0; racing < 2; racing++) {
		db = xasprintf("%s/race-%d.db", tmp, racing);
		job = job_load(path, NULL, &cause);
		ck_assert_msg(job != NULL, "%s", cause);
		store = store_open(db, &cause);
		ck_assert_msg(store != NULL, "%s", cause);
		loop = engine_loop_new(store);
		ck_assert_msg(jobrun_start(&jr, job, loop, "optimize",
		    &cause) == 0, "%s", cause);
		jr.search.racing = racing;
		ck_assert_int_eq(search_evaluate(&jr.search, jr.search.cands,
		    jr.search.ncands, &cause), 0);
		engine_totals(jr.engine, &t);
		calls[racing] = t.calls;
		best = search_best(&jr.search);
		ck_assert_ptr_nonnull(best);
		text[racing] = xstrdup(best->text);
		jobrun_abort(&jr, "cancelled", "test");
		jobrun_release(&jr);
		engine_loop_free(loop);
		store_close(store);
		job_free(job);
		free(db);
	}
	ck_assert_str_eq(text[0], text[1]);
	ck_assert_msg(strstr(text[1], "expert film critic") != NULL, "%s",
	    text[1]);
	ck_assert_msg(calls[1] < calls[0] * 3 / 4, "racing %lld calls, full "
	    "%lld", calls[1], calls[0]);
	free(text[0]);
	free(text[1]);
	free(path);
}
END_TEST

/* A whole search spends fewer target calls with racing. */
START_TEST(test_racing_search)
{
	struct outcome	 o[2];
	char		*job, *db[2];
	int		 racing;

	for (racing = 0; racing < 2; racing++) {
		job = job_write(&tasks[0], "job.json", racing ?
		    "{ \"name\": \"evo\", \"generations\": 4 }" :
		    "{ \"name\": \"evo\", \"generations\": 4, \"racing\": "
		    "false }", NULL, NULL);
		db[racing] = xasprintf("%s/rs-%d.db", tmp, racing);
		run_job(job, db[racing], -1, &o[racing]);
		ck_assert_str_eq(o[racing].status, "done");
		free(job);
	}
	ck_assert_int_lt(target_calls(db[1]), target_calls(db[0]));
	ck_assert(o[1].best_mean > o[1].seed_mean);
	for (racing = 0; racing < 2; racing++) {
		outcome_release(&o[racing]);
		free(db[racing]);
	}
}
END_TEST

/* Optimizer replies without tags, empty and huge: survived. */
START_TEST(test_bad_replies)
{
	static const char *const strategies[] = {
		"{ \"name\": \"evo\", \"population\": 4, \"generations\": 2 }",
		"{ \"name\": \"evo\", \"variant\": \"de\", \"population\": 4, "
		"\"generations\": 2, \"first_order\": true, \"lineage\": true,"
		" \"zero_order\": true, \"operator_rate\": 0.7 }",
		"{ \"name\": \"ape\", \"resample\": 1 }",
	};
	static const char *const opts[] = {
		"{ \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 1, "
		"\"format_error_rate\": 1 }",
		"{ \"type\": \"exec\", \"command\": \"cat >/dev/null\" }",
		"{ \"type\": \"exec\", \"command\": \"cat >/dev/null; "
		"printf '<prompt>'; head -c 20000 /dev/zero | tr '\\\\0' x; "
		"printf '</prompt>'; i=0; while [ $i -lt 2000 ]; do echo "
		"\\\"<prompt>Think step by step, variant $i.</prompt>\\\"; "
		"i=$((i+1)); done\" }",
	};
	struct outcome	 o;
	char		*job, *db;
	size_t		 k, b;

	for (b = 0; b < nitems(opts); b++) {
		for (k = 0; k < nitems(strategies); k++) {
			job = job_write(&tasks[1], "job.json", strategies[k],
			    NULL, opts[b]);
			db = xasprintf("%s/bad-%zu-%zu.db", tmp, b, k);
			run_job(job, db, -1, &o);
			ck_assert_str_eq(o.status, "done");
			if (b < 2)
				ck_assert_uint_gt(o.failed_asks, 0);
			ck_assert_ptr_nonnull(o.best_text);
			/* Nothing over evo's length limit became one. */
			if (k < 2)
				ck_assert_int_eq(sql_int(db, "SELECT count(*) "
				    "FROM candidates WHERE length(text) > "
				    "8192"), 0);
			if (b == 2 && k == 0)
				ck_assert_int_gt(sql_int(db, "SELECT count(*) "
				    "FROM candidates WHERE text LIKE "
				    "'Think step by step, variant%'"), 0);
			outcome_release(&o);
			free(job);
			free(db);
		}
	}
}
END_TEST

/*
 * A step interrupted after its calls were paid but before its checkpoint
 * (as kill -9 leaves it) is replayed from the cache: the run ends as an
 * uninterrupted one does, and no paid call is made twice.
 */
START_TEST(test_replay)
{
	static const char *const strategies[] = {
		"{ \"name\": \"evo\", \"generations\": 5 }",
		"{ \"name\": \"evo\", \"variant\": \"de\", \"generations\": 5,"
		" \"first_order\": true, \"lineage\": true }",
		"{ \"name\": \"random\" }",
		"{ \"name\": \"random\", \"mode\": \"separators\" }",
	};
	const struct task_spec	*t = &tasks[2];
	struct outcome		 a, b;
	struct store		*store;
	char			*job, *db, *state = NULL, *cause = NULL;
	int64_t			 jobid, run;
	int			 step;
	size_t			 k;

	for (k = 0; k < nitems(strategies); k++) {
		job = job_write(t, "job.json", strategies[k], NULL, NULL);
		db = xasprintf("%s/whole-%zu.db", tmp, k);
		run_job(job, db, -1, &a);
		free(db);

		db = xasprintf("%s/replay-%zu.db", tmp, k);
		run_job(job, db, 3, &b);
		ck_assert_str_eq(b.status, "stopped");
		outcome_release(&b);
		/* The checkpoint of step 3, then step 4 paid and lost. */
		store = store_open(db, &cause);
		ck_assert_ptr_nonnull(store);
		jobid = store_job_find(store, t->name, &cause);
		ck_assert_int_gt(jobid, 0);
		run = store_run_open(store, jobid, "optimize", &step, &state,
		    &cause);
		ck_assert_int_gt(run, 0);
		ck_assert_int_eq(step, 3);
		store_close(store);
		run_job(job, db, 4, &b);
		outcome_release(&b);
		store = store_open(db, &cause);
		ck_assert_int_eq(store_run_checkpoint(store, run, 3, state,
		    NULL, &cause), 0);
		store_close(store);
		free(state);
		state = NULL;

		run_job(job, db, -1, &b);
		ck_assert_str_eq(b.status, "done");
		ck_assert_str_eq(a.best_text, b.best_text);
		ck_assert_uint_eq(a.ncands, b.ncands);
		ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM runs"), 1);
		ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM (SELECT "
		    "cache_key FROM calls WHERE status = 'ok' GROUP BY cache_key"
		    " HAVING count(*) > 1)"), 0);
		ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM calls WHERE"
		    " status = 'hit'"), 0);
		outcome_release(&a);
		outcome_release(&b);
		free(job);
		free(db);
	}
}
END_TEST

/*
 * random on every example task, in both modes: it finishes without an
 * optimizer call, its draws reach the seed through lineage, and it beats
 * the weak seed where a few of the task's words help (arith, sentiment;
 * on rewrite the judge wants cues that eight random words seldom hold).
 */
START_TEST(test_random)
{
	static const char *const modes[] = { "tokens", "separators" };
	static const char *const ops[] = { "sample", "separator" };
	struct outcome	 o;
	char		*job, *db, *obj, *sql;
	size_t		 t, k;

	for (t = 0; t < nitems(tasks); t++) {
		for (k = 0; k < nitems(modes); k++) {
			obj = xasprintf("{ \"name\": \"random\", \"mode\": "
			    "\"%s\" }", modes[k]);
			job = job_write(&tasks[t], "job.json", obj, NULL, NULL);
			db = xasprintf("%s/random-%s-%zu.db", tmp,
			    tasks[t].name, k);
			run_job(job, db, -1, &o);
			ck_assert_str_eq(o.status, "done");
			ck_assert_int_eq(o.steps, 5);
			/* The seed and 5 steps of 8 draws (repeats are rare). */
			ck_assert_uint_ge(o.ncands, 35);
			ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM calls "
			    "WHERE role = 'optimizer'"), 0);
			sql = xasprintf("SELECT count(*) FROM lineage WHERE "
			    "operator = '%s'", ops[k]);
			ck_assert_int_ge(sql_int(db, sql), 35);
			free(sql);
			ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM "
			    "candidates WHERE origin NOT IN ('seed', "
			    "'random')"), 0);
			check_tree(db);
			ck_assert_msg(o.best_mean >= o.seed_mean, "%s, %s: "
			    "best %.3f, seed %.3f", tasks[t].name, modes[k],
			    o.best_mean, o.seed_mean);
			if (t < 2)
				ck_assert_msg(o.best_mean >= o.seed_mean + 0.1,
				    "%s, %s: best %.3f, seed %.3f",
				    tasks[t].name, modes[k], o.best_mean,
				    o.seed_mean);
			outcome_release(&o);
			free(obj);
			free(job);
			free(db);
		}
	}
}
END_TEST

/*
 * A strategy's draws depend on the job's seed alone: the same job draws
 * the same prompts, another seed others.
 */
static void
check_seeded(const char *strategy)
{
	static const char *const sql = "SELECT group_concat(text, '|') FROM "
	    "(SELECT text FROM candidates ORDER BY id)";
	struct task_spec	 other = tasks[1];
	struct outcome		 o;
	char			*job, *db, *texts[3];
	int			 i;

	other.seed = 2;
	for (i = 0; i < 3; i++) {
		job = job_write(i < 2 ? &tasks[1] : &other, "job.json",
		    strategy, NULL, NULL);
		db = xasprintf("%s/seeded-%d.db", tmp, i);
		run_job(job, db, -1, &o);
		ck_assert_str_eq(o.status, "done");
		texts[i] = sql_text(db, sql);
		outcome_release(&o);
		free(job);
		free(db);
	}
	ck_assert_str_eq(texts[0], texts[1]);
	ck_assert_str_ne(texts[0], texts[2]);
	for (i = 0; i < 3; i++)
		free(texts[i]);
}

START_TEST(test_random_seeded)
{
	check_seeded("{ \"name\": \"random\", \"steps\": 2 }");
}
END_TEST

START_TEST(test_prune_seeded)
{
	check_seeded("{ \"name\": \"prune\", \"generations\": 2 }");
	check_seeded("{ \"name\": \"prune\", \"generations\": 2, "
	    "\"unit\": \"token\", \"demos\": 3 }");
}
END_TEST

/*
 * prune on every example task, by words and by tokens, from the seed
 * alone and with two demos rendered: no optimizer call, every child has
 * its parent and a note of what it lost, and the best is never worse
 * than the seed; on arith and sentiment it is better by 0.1 at least, as
 * deleting words whose small effects are against the task pays (see
 * promptd-sim(7)).  On rewrite a prompt helps only with the traits it
 * asks for, and deleting words cannot add one: the seed asks for none.
 */
START_TEST(test_prune)
{
	static const char *const objs[] = {
		"{ \"name\": \"prune\" }",
		"{ \"name\": \"prune\", \"unit\": \"token\" }",
		"{ \"name\": \"prune\", \"demos\": 2 }",
		"{ \"name\": \"prune\", \"unit\": \"token\", \"demos\": 2 }",
	};
	struct outcome	 o;
	char		*job, *db;
	size_t		 t, k;
	int		 start;

	for (t = 0; t < nitems(tasks); t++) {
		for (k = 0; k < nitems(objs); k++) {
			job = job_write(&tasks[t], "job.json", objs[k], NULL,
			    NULL);
			db = xasprintf("%s/prune-%s-%zu.db", tmp,
			    tasks[t].name, k);
			run_job(job, db, -1, &o);
			ck_assert_str_eq(o.status, "done");
			ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM calls "
			    "WHERE role = 'optimizer'"), 0);
			ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM "
			    "lineage WHERE operator = 'prune' AND note LIKE "
			    "'deleted ''%'''"), 0);
			ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM "
			    "candidates WHERE origin NOT IN ('seed', "
			    "'prune')"), 0);
			check_tree(db);
			start = sql_int(db, "SELECT CAST(1000 * avg(score) AS "
			    "INTEGER) FROM evaluations WHERE candidate_id = "
			    "(SELECT child FROM lineage WHERE operator = "
			    "'demos')");
			/* Rendered, the demos are the prompt it starts from. */
			if (k >= 2)
				ck_assert_int_gt(start, 0);
			ck_assert_msg(o.best_mean >= o.seed_mean, "%s, %zu: "
			    "best %.3f, seed %.3f", tasks[t].name, k,
			    o.best_mean, o.seed_mean);
			if (t < 2)
				ck_assert_msg(o.best_mean >= o.seed_mean + 0.1,
				    "%s, %zu: best %.3f, seed %.3f",
				    tasks[t].name, k, o.best_mean, o.seed_mean);
			outcome_release(&o);
			free(job);
			free(db);
		}
	}
}
END_TEST

/* Loads a job whose strategy object is text; returns the error. */
static char *
bad_strategy(const char *strategy)
{
	struct job	*job;
	char		*path, *cause = NULL;

	path = job_write(&tasks[1], "bad.json", strategy, NULL, NULL);
	job = job_load(path, NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(cause);
	free(path);
	return cause;
}

START_TEST(test_params)
{
	char	*cause, *want;
	int	 line;

	/* The strategy object is on line 12 of the file job_write makes. */
	line = 12;
	cause = bad_strategy("{ \"name\": \"evo\", \"populaton\": 5 }");
	want = xasprintf("bad.json:%d:30: strategy.populaton: unknown key "
	    "(did you mean 'population'?)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"evo\", \"population\": 1 }");
	want = xasprintf("bad.json:%d:44: strategy.population: 1 is out of "
	    "range (expected 2 to 1000)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"evo\", \"first_order\": \"yes\","
	    " \"operator_rate\": 2.5, \"generations\": 1.5 }");
	want = xasprintf("bad.json:%d:45: strategy.first_order: expected "
	    "true or false", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	want = xasprintf("bad.json:%d:69: strategy.operator_rate: 2.5 is out "
	    "of range (expected 0 to 1)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	want = xasprintf("bad.json:%d:89: strategy.generations: expected an "
	    "integer", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"evo\", \"variant\": \"gaa\" }");
	want = xasprintf("bad.json:%d:41: strategy.variant: unknown value "
	    "'gaa' (did you mean 'ga'?)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"random\", \"mode\": \"token\","
	    " \"length\": 0 }");
	want = xasprintf("bad.json:%d:41: strategy.mode: unknown value "
	    "'token' (did you mean 'tokens'?)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	want = xasprintf("bad.json:%d:60: strategy.length: 0 is out of range "
	    "(expected 1 to 256)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"prune\", \"unit\": \"words\","
	    " \"population\": 1 }");
	want = xasprintf("bad.json:%d:40: strategy.unit: unknown value "
	    "'words' (did you mean 'word'?)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	want = xasprintf("bad.json:%d:63: strategy.population: 1 is out of "
	    "range (expected 2 to 1000)", line);
	ck_assert_msg(strstr(cause, want) != NULL, "%s", cause);
	free(want);
	free(cause);

	cause = bad_strategy("{ \"name\": \"evoo\" }");
	ck_assert_msg(strstr(cause, "unknown strategy 'evoo' (did you mean "
	    "'evo'?)") != NULL, "%s", cause);
	free(cause);
}
END_TEST

/* The man page, split into the sections each parameter belongs in. */
struct man_check {
	char	*text;
	int	 missing;
};

static void
man_param(const char *strategy, const char *name, void *arg)
{
	struct man_check	*m = arg;
	const char		*from, *to;
	char			*sect, *item;
	const char		*sh;

	if (strategy == NULL) {
		sect = xstrdup(".Sh COMMON PARAMETERS\n");
		from = strstr(m->text, sect);
		to = from != NULL ? strstr(from + 1, "\n.Sh ") : NULL;
	} else {
		sect = xasprintf(".Ss %s\n", strategy);
		from = strstr(m->text, sect);
		/* The section ends at the next .Ss or .Sh (not at .Sm). */
		to = from != NULL ? strstr(from + 1, "\n.Ss ") : NULL;
		sh = from != NULL ? strstr(from + 1, "\n.Sh ") : NULL;
		if (to == NULL || (sh != NULL && sh < to))
			to = sh;
	}
	item = xasprintf("\n.It Ic %s Ar ", name);
	if (from == NULL || (from = strstr(from, item)) == NULL ||
	    (to != NULL && from > to)) {
		fprintf(stderr, "promptd-strategies(7) does not document "
		    "%s parameter '%s' (.It Ic %s)\n", strategy != NULL ?
		    strategy : "the common", name, name);
		m->missing++;
	}
	free(sect);
	free(item);
}

START_TEST(test_man)
{
	struct man_check	 m;
	char			*path, *cause = NULL;

	path = xasprintf("%s/man/promptd-strategies.7", TEST_SRCDIR);
	ck_assert_msg(file_read(path, 1 << 20, &m.text, NULL, &cause) == 0,
	    "%s", cause);
	m.missing = 0;
	strategy_foreach_param(man_param, &m);
	ck_assert_int_eq(m.missing, 0);
	ck_assert_ptr_nonnull(strstr(m.text, ".Ss evo\n"));
	ck_assert_ptr_nonnull(strstr(m.text, ".Ss ape\n"));
	ck_assert_ptr_nonnull(strstr(m.text, ".Ss random\n"));
	ck_assert_ptr_nonnull(strstr(m.text, ".Ss prune\n"));
	ck_assert_ptr_nonnull(strstr(m.text, ".Ss mcts\n"));
	free(m.text);
	free(path);
}
END_TEST

/* After tests/integration/strategy_resume.sh: its database. */
START_TEST(test_audit)
{
	const char	*db = getenv("STRATEGY_AUDIT_DB");

	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM runs WHERE status"
	    " = 'done'"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM (SELECT cache_key "
	    "FROM calls WHERE status = 'ok' GROUP BY cache_key HAVING "
	    "count(*) > 1)"), 0);
	/* Unless the strategy needs no optimizer (random). */
	if (getenv("STRATEGY_AUDIT_NO_OPTIMIZER") != NULL)
		ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM calls "
		    "WHERE role = 'optimizer'"), 0);
	else
		ck_assert_int_gt(sql_int(db, "SELECT count(*) FROM calls "
		    "WHERE status = 'ok' AND role = 'optimizer'"), 0);
	check_tree(db);
}
END_TEST

static Suite *
strategy_suite(void)
{
	Suite	*s = suite_create("strategy");
	TCase	*tc = tcase_create("core");

	log_init("check_strategy", 0, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	if (getenv("STRATEGY_AUDIT_DB") != NULL) {
		tcase_add_test(tc, test_audit);
		suite_add_tcase(s, tc);
		return s;
	}
	tcase_add_test(tc, test_improves);
	tcase_add_test(tc, test_operators_tree);
	tcase_add_test(tc, test_racing);
	tcase_add_test(tc, test_racing_search);
	tcase_add_test(tc, test_bad_replies);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_random_seeded);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_man);
	suite_add_tcase(s, tc);
	/* Apart, so that CK_RUN_CASE=prune runs it alone. */
	tc = tcase_create("prune");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_prune_seeded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(strategy_suite)
