/*
 * Tests for the duel strategy on the simulated world: a search with the
 * simulated user and one with the judge improve on the weak seed, store
 * every preference with its provenance, resume from a checkpoint, and
 * refuse the feedback sources they cannot serve; a run starts from
 * people's duels.  With arms "responses"
 * the duels pick a response to one prompt and input: better than the
 * pool's average, stored with provenance, never a prompt or champion.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_common.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "fiber.h"
#include "job.h"
#include "jobrun.h"
#include "metric.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The sentiment task with one weak seed, sim backends, roles as given. */
static struct job *
load_job(const char *strategy, const char *roles)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"d\", " CHECK_SENTIMENT_TASK ","
	    " \"seed_prompts\": [\"Say something about the text.\"],"
	    " \"backends\": { \"sim\": { \"type\": \"sim\", \"model\": "
	    "\"sim-1\" }, \"mute\": { \"type\": \"exec\", \"model\": "
	    "\"mute\", \"command\": \"cat >/dev/null; echo 'Both answers "
	    "have their merits.'\" }, \"tie\": { \"type\": \"exec\", "
	    "\"model\": \"tie\", \"command\": \"cat >/dev/null; echo "
	    "'Winner: tie'\" } }, \"roles\": { %s }, \"strategy\": %s }",
	    roles,
	    strategy);
	job = check_job(check_dir, text);
	free(text);
	return job;
}

static long long
count(const char *sql)
{
	return check_count(check_db, sql);
}

static double
value(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	double		 v = NAN;

	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The dataset index of the i-th dev example. */
static size_t
dev_index(const struct job *job, size_t i)
{
	const struct dataset	*ds = job->task.dataset;
	size_t			 k;

	for (k = 0; k < ds->n; k++)
		if (ds->ex[k].split == SPLIT_DEV && i-- == 0)
			return k;
	ck_abort_msg("no dev example %zu", i);
	return 0;
}

/* The strategy's state in the last checkpoint of the job's run. */
static cJSON *
checkpoint(void)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	cJSON		*o = NULL, *v;

	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT state FROM runs "
	    "ORDER BY id DESC LIMIT 1", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_ptr_nonnull(o);
	v = cJSON_DetachItemFromObjectCaseSensitive(o, "strategy");
	cJSON_Delete(o);
	ck_assert_ptr_nonnull(v);
	return v;
}

/*
 * The latent utility of the recommended response and the pool's mean:
 * the job's metric on each response to dev example ex, computed here.
 */
static void
response_utilities(const struct job *job, size_t ex, double *rec,
    double *mean)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	cJSON		*state;
	const cJSON	*expected;
	double		 u, sum = 0;
	int64_t		 id;
	size_t		 n = 0;

	state = checkpoint();
	id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	    state, "recommended"));
	cJSON_Delete(state);
	expected = example_field(&job->task.dataset->ex[dev_index(job, ex)],
	    "label");
	*rec = NAN;
	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT id, text FROM "
	    "candidates WHERE origin = 'duel-response'", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		u = metric_score(job->task.metric, (const char *)
		    sqlite3_column_text(st, 1), expected, NULL);
		if (sqlite3_column_int64(st, 0) == id)
			*rec = u;
		sum += u;
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_msg(!isnan(*rec), "the recommendation %lld is not a "
	    "response", (long long)id);
	*mean = sum / (double)n;
}

/*
 * Runs up to max_steps steps and finishes if the search ended; returns
 * 1 when it finished.  *error gets jobrun_start's or a step's error (if
 * asked for).
 */
static int
run(struct job *job, int max_steps, char **error)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	char			*cause = NULL;
	int			 rc, steps = 0;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	if (jobrun_start(&jr, job, loop, "optimize", &cause) != 0) {
		ck_assert_msg(error != NULL, "%s", cause);
		*error = cause;
		jobrun_release(&jr);
		engine_loop_free(loop);
		store_close(store);
		return -1;
	}
	while ((rc = jobrun_step(&jr, &cause)) == 1 && ++steps < max_steps)
		;
	if (rc < 0 && error != NULL) {
		/* A step's error (human feedback outside a fiber). */
		*error = cause;
		jobrun_release(&jr);
		engine_loop_free(loop);
		store_close(store);
		return -1;
	}
	ck_assert_msg(rc >= 0, "%s", cause);
	if (rc == 0)
		ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	return rc == 0;
}

/*
 * Responses mode, common checks: every response is a candidate of origin
 * duel-response with one lineage edge to the prompt (candidate prompt),
 * never scored or made champion, and every preference compares two of
 * them on the example with their texts as the outputs.
 */
static void
check_responses(const struct job *job, long long prompt, long long duels,
    const char *source)
{
	char	*sql;

	ck_assert_int_ge(count("SELECT count(*) FROM candidates WHERE origin"
	    " = 'duel-response'"), 2);
	sql = xasprintf("SELECT count(*) FROM candidates c WHERE origin = "
	    "'duel-response' AND (SELECT count(*) FROM lineage l WHERE "
	    "l.child = c.id) = 1 AND EXISTS (SELECT 1 FROM lineage l WHERE "
	    "l.child = c.id AND l.parent = %lld AND l.operator = "
	    "'duel-response')", prompt);
	ck_assert_int_eq(count(sql), count("SELECT count(*) FROM candidates "
	    "WHERE origin = 'duel-response'"));
	free(sql);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations e JOIN "
	    "candidates c ON c.id = e.candidate_id WHERE c.origin = "
	    "'duel-response'"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM champions h JOIN "
	    "candidates c ON c.id = h.candidate_id WHERE c.origin = "
	    "'duel-response'"), 0);
	sql = xasprintf("SELECT count(*) FROM comparisons m JOIN candidates a"
	    " ON a.id = m.a JOIN candidates b ON b.id = m.b WHERE m.source = "
	    "'%s' AND a.origin = 'duel-response' AND b.origin = "
	    "'duel-response' AND a.id != b.id AND m.output_a = a.text AND "
	    "m.output_b = b.text AND m.example_id = %lld AND m.winner IN "
	    "('a', 'b', 'tie')", source, (long long)job->task.dataset->ex[
	    dev_index(job, 0)].id);
	ck_assert_int_eq(count(sql), duels);
	free(sql);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), duels);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE "
	    "'duel: recommended response: candidate %'"), 1);
}

/* The champion's dev score against the seed's. */
static void
check_improves(void)
{
	double	seed, champ;

	seed = value("SELECT avg(e.score) FROM evaluations e JOIN candidates "
	    "c ON c.id = e.candidate_id WHERE c.origin = 'seed'");
	champ = value("SELECT score FROM champions ORDER BY version DESC "
	    "LIMIT 1");
	ck_assert_msg(champ > seed + 0.1, "champion %.3f, seed %.3f", champ,
	    seed);
}

START_TEST(test_sim_feedback)
{
	struct job	*job;
	struct store	*store;
	struct comparison_record rec;
	char		*cause = NULL;
	long long	 n = -1;

	job = load_job("{ \"name\": \"duel\", \"pool\": 20, \"rounds\": 25,"
	    " \"steps\": 200, \"feedback\": \"sim\", \"dim\": 64 }",
	    "\"target\": \"sim\", \"optimizer\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE source"
	    " = 'sim' AND order_shown = 'ab' AND rationale LIKE 'latent "
	    "utilities %' AND winner IN ('a', 'b') AND a != b"), 25);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 25);
	ck_assert_int_ge(count("SELECT count(*) FROM candidates"), 10);
	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	ck_assert_int_eq(store_comparison_count(store, store_job_find(store,
	    "d", NULL), "sim", &n, &cause), 0);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(store_comparison_count(store, 1, NULL, &n, &cause),
	    0);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(store_comparison_count(store, 1, "judge", &n,
	    &cause), 0);
	ck_assert_int_eq(n, 0);
	/* The table's checks hold: a winner must be a, b or tie. */
	memset(&rec, 0, sizeof rec);
	rec.job = 1;
	rec.a = 1;
	rec.b = 2;
	rec.winner = "both";
	rec.source = "judge";
	ck_assert_int_eq(store_comparison_add(store, &rec, &cause), -1);
	ck_assert_msg(strncmp(cause, "store: add comparison: ", 23) == 0,
	    "%s", cause);
	free(cause);
	store_close(store);
	check_improves();
	ck_assert_int_eq(count("SELECT count(*) FROM runs WHERE status = "
	    "'done' AND step = 26"), 1);
	job_free(job);
}
END_TEST

struct pool_prompt {
	int64_t	 id;
	char	*text;
};

/*
 * The mean dev score of every prompt of the pool (the simulated user's
 * latent utilities), scored in a run of its own: the best of them, and
 * that of candidate rec.
 */
static double
pool_best(struct job *job, int64_t rec, double *urec)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct engine		*e;
	struct eval_item	*items = NULL;
	struct pool_prompt	*c = NULL;
	sqlite3			*db;
	sqlite3_stmt		*st;
	char			*cause = NULL, *sql;
	size_t			 n = 0, ni = 0, i, k;
	int64_t			 run;
	double			 best;

	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT id, text FROM "
	    "candidates WHERE origin IN ('seed', 'duel-pool')", -1, &st,
	    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		c = xreallocarray(c, n + 1, sizeof *c);
		c[n].id = sqlite3_column_int64(st, 0);
		c[n++].text = xstrdup((const char *)sqlite3_column_text(st,
		    1));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_uint_ge(n, 20);

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	run = store_run_new(store, 1, "eval", 0, &cause);
	ck_assert_int_gt(run, 0);
	for (i = 0; i < n; i++) {
		for (k = 0; k < job->task.dataset->n; k++) {
			if (job->task.dataset->ex[k].split != SPLIT_DEV)
				continue;
			items = xreallocarray(items, ni + 1, sizeof *items);
			memset(&items[ni], 0, sizeof *items);
			items[ni].prompt = c[i].text;
			items[ni].candidate = c[i].id;
			items[ni++].example = k;
		}
	}
	loop = engine_loop_new(store);
	e = engine_new(loop, run, NULL, CACHE_ON);
	ck_assert_msg(eval_run(e, &job->task, items, ni, &cause) == 0, "%s",
	    cause);
	engine_free(e);
	engine_loop_free(loop);
	store_close(store);
	eval_items_release(items, ni);
	free(items);
	for (i = 0; i < n; i++)
		free(c[i].text);
	free(c);

	sql = xasprintf("SELECT max(u) FROM (SELECT avg(score) AS u FROM "
	    "evaluations WHERE run_id = %lld GROUP BY candidate_id)",
	    (long long)run);
	best = value(sql);
	free(sql);
	sql = xasprintf("SELECT avg(score) FROM evaluations WHERE run_id = "
	    "%lld AND candidate_id = %lld", (long long)run, (long long)rec);
	*urec = value(sql);
	free(sql);
	return best;
}

/* The candidate the duel run recommended, from its checkpoint. */
static int64_t
recommended(void)
{
	return (int64_t)value("SELECT json_extract(state, "
	    "'$.strategy.recommended') FROM runs WHERE kind = 'optimize' "
	    "ORDER BY id DESC LIMIT 1");
}

/*
 * On the simulated world, with the simulated user, 150 duels of apohf
 * recommend a prompt within 5% of the pool's best latent utility for
 * most seeds, and apohf beats random on average.
 */
START_TEST(test_finds_best)
{
	static const char *const methods[] = { "apohf", "random" };
	struct job	*job;
	char		*strategy, *side;
	double		 best, u, sum[2] = { 0, 0 };
	int		 seed, m, close = 0;

	for (seed = 1; seed <= 5; seed++) {
		for (m = 0; m < 2; m++) {
			side = xasprintf("rm -f '%s' '%s-wal' '%s-shm'",
			    check_db, check_db, check_db);
			ck_assert_int_eq(system(side), 0);
			free(side);
			strategy = xasprintf("{ \"name\": \"duel\", \"pool\":"
			    " 30, \"rounds\": 150, \"feedback\": \"sim\","
			    " \"dim\": 64, \"method\": \"%s\" }",
			    methods[m]);
			job = load_job(strategy, "\"target\": \"sim\", "
			    "\"optimizer\": \"sim\"");
			free(strategy);
			job->task.seed = seed;
			ck_assert_int_eq(run(job, 1000, NULL), 1);
			best = pool_best(job, recommended(), &u);
			sum[m] += u;
			if (m == 0 && u >= 0.95 * best)
				close++;
			job_free(job);
		}
	}
	ck_assert_msg(close >= 4, "apohf within 5%% of the pool's best for "
	    "%d of 5 seeds", close);
	ck_assert_msg(sum[0] > sum[1], "apohf %.3f, random %.3f on average",
	    sum[0] / 5, sum[1] / 5);
}
END_TEST

START_TEST(test_judge_feedback)
{
	struct job	*job;

	job = load_job("{ \"name\": \"duel\", \"pool\": 15, \"rounds\": 12,"
	    " \"init\": 3, \"steps\": 100, \"feedback\": \"judge\" }",
	    "\"target\": \"sim\", \"optimizer\": \"sim\", \"judge\": \"sim\","
	    " \"embedder\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE source"
	    " = 'judge' AND judge_model = 'sim-1' AND order_shown = 'ab+ba' "
	    "AND rationale LIKE 'a first: %' AND output_a IS NOT NULL AND "
	    "output_b IS NOT NULL AND example_id IS NOT NULL"), 12);
	/* Embeddings went through the engine: one call per pool prompt. */
	ck_assert_int_ge(count("SELECT count(*) FROM calls WHERE role = "
	    "'embedder'"), 10);
	/* Two judge calls per duel, in both orders. */
	ck_assert_int_ge(count("SELECT count(*) FROM calls WHERE role = "
	    "'judge'"), 24);
	ck_assert_int_eq(count("SELECT count(*) FROM champions"), 1);
	job_free(job);
}
END_TEST

START_TEST(test_resume)
{
	struct job	*job;

	job = load_job("{ \"name\": \"duel\", \"pool\": 15, \"rounds\": 10,"
	    " \"steps\": 100, \"feedback\": \"sim\", \"method\": \"linear\","
	    " \"dim\": 32 }", "\"target\": \"sim\", \"optimizer\": \"sim\"");
	ck_assert_int_eq(run(job, 4, NULL), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 4);
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 10);
	ck_assert_int_eq(count("SELECT count(*) FROM runs"), 1);
	/* Nothing was paid twice. */
	ck_assert_int_eq(count("SELECT count(*) FROM (SELECT cache_key FROM "
	    "calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > "
	    "1)"), 0);
	job_free(job);
}
END_TEST

/*
 * The simulated user on responses to several inputs, each run with its
 * own seed: the recommended response beats the pool's average latent
 * utility for most of them.
 */
START_TEST(test_responses_sim)
{
	struct job	*job;
	char		*spec;
	double		 rec, mean;
	size_t		 i, better = 0, runs = 7;

	for (i = 0; i < runs; i++) {
		free(check_db);
		check_db = xasprintf("%s/r%zu.db", check_dir, i);
		/* The job's seed rides after the strategy object. */
		spec = xasprintf("{ \"name\": \"duel\", \"arms\": \"responses\","
		    " \"example\": %zu, \"rounds\": 20, \"init\": 4, \"steps\":"
		    " 200, \"feedback\": \"sim\", \"dim\": 64 }, \"seed\": %zu",
		    i, i + 1);
		job = load_job(spec, "\"target\": \"sim\"");
		ck_assert_int_eq(run(job, 1000, NULL), 1);
		if (i == 0)
			check_responses(job, 1, 20, "sim");
		ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE "
		    "rationale LIKE 'latent utilities % (metric score on the "
		    "example), tau 0.05' AND order_shown = 'ab'"), 20);
		/* At most the default 30 samples, deduplicated. */
		ck_assert_int_le(count("SELECT count(*) FROM candidates WHERE "
		    "origin = 'duel-response'"), 30);
		response_utilities(job, i, &rec, &mean);
		if (rec > mean)
			better++;
		job_free(job);
		free(spec);
	}
	ck_assert_msg(better >= runs - 2, "better than the pool's mean in %zu "
	    "of %zu runs", better, runs);
}
END_TEST

START_TEST(test_responses_judge)
{
	struct job	*job;

	job = load_job("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 12, \"rounds\": 8, \"init\": 3, \"steps\": 100, "
	    "\"feedback\": \"judge\" }", "\"target\": \"sim\", \"judge\": "
	    "\"sim\", \"embedder\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	check_responses(job, 1, 8, "judge");
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE "
	    "judge_model = 'sim-1' AND order_shown = 'ab+ba' AND rationale "
	    "LIKE 'a first: %'"), 8);
	/* Two judge calls a duel and no target call after the pool. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE role = "
	    "'judge'"), 16);
	ck_assert_int_le(count("SELECT count(*) FROM candidates WHERE origin "
	    "= 'duel-response'"), 12);
	ck_assert_int_ge(count("SELECT count(*) FROM calls WHERE role = "
	    "'embedder'"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM champions"), 1);
	job_free(job);
}
END_TEST

/*
 * A judge that never names a winner: every duel over responses is
 * skipped, and at temperature 0 every later step is answered by the
 * cache, so no step costs anything.  The run must still end, with a
 * reason that says why, instead of looping (it once ran 300,000 steps in
 * 100 seconds and never stopped).
 */
START_TEST(test_responses_no_verdict)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 12, \"rounds\": 8, \"init\": 3, \"steps\": 100, "
	    "\"temperature\": 0.7, \"feedback\": \"judge\" }");
	job = load_job(text, "\"target\": \"sim\", \"judge\": \"mute\", "
	    "\"embedder\": \"sim\"");
	free(text);
	ck_assert_int_eq(run(job, 200, NULL), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 0);
	/* Each pair asked in both orders, each reply repaired once. */
	ck_assert_int_gt(count("SELECT count(*) FROM outcomes WHERE role = "
	    "'judge' AND outcome = 'unreadable'"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM outcomes WHERE role = "
	    "'judge' AND outcome != 'unreadable'"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM jobs WHERE state = 'done' "
	    "AND reason LIKE 'no usable verdicts (%judge replies: % "
	    "unreadable; %stalled: 20 steps in a row%'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE level = "
	    "'warn' AND message LIKE 'judge: only 0 of % replies usable%'"),
	    1);
	job_free(job);
}
END_TEST

/*
 * A responses run resumed from its checkpoint goes on with the same pool
 * and pays for nothing twice; a later run answers the job's champion.
 */
START_TEST(test_responses_resume)
{
	struct job	*job;
	long long	 n;

	job = load_job("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 16, \"rounds\": 10, \"init\": 3, \"steps\": 100, "
	    "\"feedback\": \"sim\", \"method\": \"linear\", \"dim\": 32 }",
	    "\"target\": \"sim\"");
	ck_assert_int_eq(run(job, 4, NULL), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 4);
	n = count("SELECT count(*) FROM candidates WHERE origin = "
	    "'duel-response'");
	/*
	 * The job file now names another example: the run resumes with the
	 * input its responses answer (the checkpoint's), not the new one.
	 */
	job_free(job);
	job = load_job("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 16, \"rounds\": 10, \"init\": 3, \"steps\": 100, "
	    "\"feedback\": \"sim\", \"method\": \"linear\", \"dim\": 32, "
	    "\"example\": 5 }", "\"target\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	ck_assert_int_eq(count("SELECT count(DISTINCT example_id) FROM "
	    "comparisons"), 1);
	ck_assert_int_eq(count("SELECT json_extract(state, "
	    "'$.strategy.example') FROM runs"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM candidates WHERE origin "
	    "= 'duel-response'"), n);
	ck_assert_int_eq(count("SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM (SELECT cache_key FROM "
	    "calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > "
	    "1)"), 0);
	check_responses(job, 1, 10, "sim");
	job_free(job);
}
END_TEST

/*
 * Responses answer the prompt with its demos: a target that says how
 * many assistant turns it was shown (and which sample it drew) sees the
 * seed's two demos in every response.
 */
START_TEST(test_responses_demos)
{
	struct job	*job;
	char		*text, *script;
	FILE		*f;

	script = xasprintf("%s/turns.sh", check_dir);
	ck_assert_ptr_nonnull(f = fopen(script, "w"));
	fputs("r=$(cat)\n"
	    "n=$(printf '%s' \"$r\" | grep -o '\"assistant\"' | wc -l)\n"
	    "s=$(printf '%s' \"$r\" | grep -o '\"sample\":[0-9]*' |"
	    " tr -dc 0-9)\n"
	    "echo \"turns $n sample $s\"\n", f);
	fclose(f);
	text = xasprintf("{ \"name\": \"d\", " CHECK_SENTIMENT_TASK ","
	    " \"seed_prompts\": [ { \"prompt\": \"Say something.\","
	    " \"demos\": [ { \"input\": \"Review: Fine.\", \"output\":"
	    " \"positive\" }, { \"input\": \"Review: Bad.\", \"output\":"
	    " \"negative\" } ] } ], \"backends\": { \"turns\": { \"type\":"
	    " \"exec\", \"model\": \"turns\", \"command\": [\"/bin/sh\","
	    " \"%s\"] }, \"tie\": { \"type\": \"exec\", \"model\":"
	    " \"tie\", \"command\": \"cat >/dev/null; echo 'Winner: tie'\""
	    " } }, \"roles\": { \"target\": \"turns\", \"judge\":"
	    " \"tie\" }, \"strategy\": { \"name\": \"duel\", \"arms\":"
	    " \"responses\", \"pool\": 4, \"rounds\": 2, \"init\": 2,"
	    " \"steps\": 20, \"feedback\": \"judge\" } }", script);
	job = check_job(check_dir, text);
	free(text);
	free(script);
	ck_assert_int_eq(run(job, 100, NULL), 1);
	ck_assert_int_ge(count("SELECT count(*) FROM candidates WHERE origin"
	    " = 'duel-response'"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM candidates WHERE origin"
	    " = 'duel-response' AND text NOT LIKE 'turns 2 sample %'"), 0);
	job_free(job);
}
END_TEST

/* With a champion (found by a prompts run), responses answer it. */
START_TEST(test_responses_champion)
{
	struct job	*job;
	char		*sql;
	long long	 champ;

	job = load_job("{ \"name\": \"duel\", \"pool\": 10, \"rounds\": 8, "
	    "\"steps\": 50, \"feedback\": \"sim\", \"dim\": 32 }",
	    "\"target\": \"sim\", \"optimizer\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	job_free(job);
	champ = count("SELECT candidate_id FROM champions ORDER BY version "
	    "DESC LIMIT 1");
	ck_assert_int_gt(champ, 1);
	job = load_job("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 10, \"rounds\": 5, \"steps\": 50, \"feedback\": "
	    "\"sim\", \"dim\": 32 }", "\"target\": \"sim\"");
	ck_assert_int_eq(run(job, 1000, NULL), 1);
	sql = xasprintf("SELECT count(*) FROM lineage l JOIN candidates c ON "
	    "c.id = l.child WHERE c.origin = 'duel-response' AND l.parent = "
	    "%lld", champ);
	ck_assert_int_ge(count(sql), 2);
	ck_assert_int_eq(count(sql), count("SELECT count(*) FROM candidates "
	    "WHERE origin = 'duel-response'"));
	free(sql);
	ck_assert_int_eq(count("SELECT count(*) FROM champions h JOIN "
	    "candidates c ON c.id = h.candidate_id WHERE c.origin = "
	    "'duel-response'"), 0);
	job_free(job);
}
END_TEST

struct fiber_run {
	struct jobrun	*jr;
	int		 rc;
	char		*cause;
	int		 yields;
};

static void
fiber_main(void *arg)
{
	struct fiber_run	*fr = arg;

	while ((fr->rc = jobrun_step(fr->jr, &fr->cause)) == 1)
		;
	if (fr->rc == 0)
		fr->rc = jobrun_finish(fr->jr, &fr->cause);
}

/*
 * Runs a job to its end in a fiber, as the daemon does, turning the loop
 * and calling each (if not NULL) with the store whenever the fiber
 * yields.  Returns the number of yields.
 */
static int
run_fiber(struct job *job, void (*each)(struct store *, void *), void *arg)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct fiber		*f;
	struct fiber_run	 fr;
	char			*cause = NULL;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	memset(&fr, 0, sizeof fr);
	fr.jr = &jr;
	f = fiber_new(fiber_main, &fr, 1 << 20);
	while (!fiber_resume(f)) {
		fr.yields++;
		engine_loop_turn(loop, 1, NULL, NULL, 0);
		if (each != NULL)
			each(store, arg);
	}
	fiber_free(f);
	ck_assert_msg(fr.rc == 0, "%s", fr.cause);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	return fr.yields;
}

/*
 * Inside a fiber (as in the daemon) the fit runs on a worker thread and
 * the step yields to the loop until it is done.
 */
START_TEST(test_fiber)
{
	struct job	*job;

	job = load_job("{ \"name\": \"duel\", \"pool\": 15, \"rounds\": 10,"
	    " \"steps\": 300, \"feedback\": \"sim\", \"dim\": 64 }",
	    "\"target\": \"sim\", \"optimizer\": \"sim\"");
	ck_assert_int_gt(run_fiber(job, NULL, NULL), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 10);
	ck_assert_int_eq(count("SELECT count(*) FROM champions"), 1);
	job_free(job);
}
END_TEST

/* A person at the queue: the next answer for each duel shown. */
static void
answer(struct store *store, void *arg)
{
	static const char *const answers[] = { "a", "tie", "b" };
	struct comparison_row	*rows;
	size_t			*k = arg, n;
	char			*cause = NULL;

	ck_assert_int_eq(store_comparison_pending(store, store_job_find(store,
	    "d", NULL), 1, &rows, &n, &cause), 0);
	if (n == 0)
		return;
	ck_assert_int_lt(*k, nitems(answers));
	ck_assert_ptr_nonnull(rows[0].input);
	ck_assert_msg(strncmp(rows[0].input, "Review: ", 8) == 0, "%s",
	    rows[0].input);
	ck_assert_int_eq(store_comparison_answer(store, rows[0].id,
	    answers[(*k)++], "tester", &cause), 1);
	store_comparison_rows_free(rows, n);
}

/*
 * Human feedback on responses, as the daemon runs it (in a fiber): each
 * duel is queued with the input and the two responses, and the answers
 * given to the store go back to the run.
 */
START_TEST(test_responses_human)
{
	struct job	*job;
	size_t		 k = 0;

	job = load_job("{ \"name\": \"duel\", \"arms\": \"responses\", "
	    "\"pool\": 8, \"rounds\": 3, \"init\": 2, \"steps\": 50, "
	    "\"feedback\": \"human\" }", "\"target\": \"sim\"");
	run_fiber(job, answer, &k);
	ck_assert_int_eq(k, 3);
	check_responses(job, 1, 3, "human");
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE who = "
	    "'tester' AND order_shown IN ('ab', 'ba') AND input LIKE "
	    "'Review: %'"), 3);
	job_free(job);
}
END_TEST

START_TEST(test_methods)
{
	static const char *const methods[] = { "doublets", "random" };
	struct job	*job;
	char		*spec;
	size_t		 i;

	for (i = 0; i < nitems(methods); i++) {
		spec = xasprintf("{ \"name\": \"duel\", \"pool\": 10, "
		    "\"rounds\": 8, \"steps\": 20, \"ensemble\": 3, "
		    "\"feedback\": \"sim\", \"method\": \"%s\", \"dim\": 32 }",
		    methods[i]);
		job = load_job(spec, "\"target\": \"sim\", \"optimizer\": "
		    "\"sim\"");
		ck_assert_int_eq(run(job, 1000, NULL), 1);
		job_free(job);
		free(spec);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM comparisons"), 16);
}
END_TEST

START_TEST(test_errors)
{
	static const struct {
		const char	*strategy;
		const char	*roles;
		const char	*error;
	} cases[] = {
		{ "{ \"name\": \"duel\", \"feedback\": \"human\" }",
		  "\"target\": \"sim\", \"optimizer\": \"sim\"",
		  "strategy 'duel': feedback 'human' needs the daemon (submit "
		  "the job with promptctl submit and answer with promptctl "
		  "feedback); use \"judge\" or \"sim\" to run it here" },
		{ "{ \"name\": \"duel\" }",
		  "\"target\": \"sim\", \"optimizer\": \"sim\"",
		  "strategy 'duel': feedback 'judge' needs a judge "
		  "(roles.judge)" },
		{ "{ \"name\": \"duel\", \"hidden\": 12, \"feedback\": \"sim\" }",
		  "\"target\": \"sim\", \"optimizer\": \"sim\"",
		  "strategy 'duel': hidden 12 is not a multiple of 8" },
		{ "{ \"name\": \"duel\", \"arms\": \"responses\", \"example\": "
		  "1000, \"feedback\": \"sim\" }", "\"target\": \"sim\"",
		  "strategy 'duel': example 1000 is out of range: the dev split "
		  "has 60 examples" },
		{ "{ \"name\": \"duel\", \"arms\": \"responses\", "
		  "\"temperature\": 0, \"feedback\": \"sim\" }",
		  "\"target\": \"sim\"",
		  "strategy 'duel': arms 'responses' needs a temperature above 0 "
		  "to sample distinct responses" },
	};
	struct job	*job;
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		job = load_job(cases[i].strategy, cases[i].roles);
		ck_assert_int_eq(run(job, 10, &cause), -1);
		ck_assert_str_eq(cause, cases[i].error);
		free(cause);
		job_free(job);
	}
}
END_TEST

/* Schema errors come from the job file check, with the field path. */
/*
 * A store with people's duels before the run: a prompt people preferred
 * three times each to the seed and to two other prompts (none of them
 * seeds: they join the pool, and fill it), then one made after the run
 * started and one of the judge, which do not count.  Returns the
 * preferred prompt's id.
 */
static int64_t
people_prefer(void)
{
	static const char *const others[] = { "Say something about the "
	    "text.", "Summarize the review.", "Translate the review." };
	struct store		*store;
	struct comparison_record rec;
	char			*cause = NULL;
	int64_t			 job, liked;
	int			 i;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	job = store_job_put(store, "d", "{}", &cause);
	liked = store_candidate_put(store, job, "Tell whether the review is "
	    "positive or negative.", "feedback", &cause);
	memset(&rec, 0, sizeof rec);
	rec.job = job;
	rec.a = liked;
	rec.winner = "a";
	rec.who = "carol";
	rec.order_shown = "ab";
	for (i = 0; i < 11; i++) {
		rec.b = store_candidate_put(store, job, others[i % 3],
		    i == 0 ? "seed" : "feedback", &cause);
		rec.source = i == 10 ? "judge" : "human";
		ck_assert_int_gt(store_comparison_add(store, &rec, &cause), 0);
	}
	store_close(store);
	check_exec_sql(check_db, "UPDATE comparisons SET winner = 'b',"
	    " created = created + 1e6 WHERE id = 10");
	return liked;
}

/*
 * A new run's history starts from people's duels, which the network is
 * fitted to first: with a judge that finds every pair a tie, the run
 * recommends the prompt people preferred; the duels are the
 * checkpoint's first, counted apart from rounds, and a resumed run goes
 * on from them.  Their prompts fill the pool: nothing is induced.  With
 * human_duels off the run starts from nothing, and induces its pool.
 */
START_TEST(test_human_duels)
{
	struct job	*job;
	cJSON		*state, *pool, *d;
	int64_t		 liked;
	char		*strategy, *rm;
	int		 i, off;

	for (off = 0; off < 2; off++) {
		rm = xasprintf("rm -f '%s' '%s-wal' '%s-shm'", check_db,
		    check_db, check_db);
		ck_assert_int_eq(system(rm), 0);
		free(rm);
		liked = people_prefer();
		strategy = xasprintf("{ \"name\": \"duel\", \"pool\": 3,"
		    " \"per_ask\": 2, \"rounds\": 4, \"init\": 0, \"steps\":"
		    " 200, \"feedback\": \"judge\", \"dim\": 64,"
		    " \"human_duels\": %s }", off ? "false" : "true");
		job = load_job(strategy, "\"target\": \"sim\", \"optimizer\":"
		    " \"sim\", \"judge\": \"tie\"");
		free(strategy);
		ck_assert_int_eq(run(job, 2, NULL), 0);
		ck_assert_int_eq(run(job, 1000, NULL), 1);
		ck_assert_int_eq(count("SELECT count(*) FROM runs"), 1);
		ck_assert_int_eq(count("SELECT count(*) FROM comparisons WHERE"
		    " source = 'judge' AND winner = 'tie'"), 4);
		state = checkpoint();
		pool = cJSON_GetObjectItem(state, "pool");
		ck_assert_int_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		    state, "human")), off ? 0 : 9);
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(state,
		    "duels")), off ? 4 : 13);
		ck_assert_int_eq(cJSON_GetArraySize(pool) == 4, !off);
		ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE role ="
		    " 'optimizer'"), off ? 2 : 0);
		for (i = 0; i < (off ? 0 : 9); i++) {
			d = cJSON_GetArrayItem(cJSON_GetObjectItem(state,
			    "duels"), i);
			ck_assert_int_eq(cJSON_GetNumberValue(
			    cJSON_GetArrayItem(pool, (int)cJSON_GetNumberValue(
			    cJSON_GetArrayItem(d, 0)))), liked);
			ck_assert(cJSON_GetNumberValue(cJSON_GetArrayItem(d,
			    2)) == 1);
		}
		if (!off)
			ck_assert_int_eq(recommended(), liked);
		for (i = 0; off && i < cJSON_GetArraySize(pool); i++)
			ck_assert_int_ne(cJSON_GetNumberValue(
			    cJSON_GetArrayItem(pool, i)), liked);
		cJSON_Delete(state);
		job_free(job);
	}
}
END_TEST

START_TEST(test_schema)
{
	struct job	*job;
	char		*p, *cause = NULL;
	FILE		*f;

	p = xasprintf("%s/bad.json", check_dir);
	f = fopen(p, "w");
	fputs("{ \"name\": \"d\", \"task\": { \"dataset\": \"reviews.jsonl\","
	    " \"input\": \"{{text}}\", \"target\": \"label\", \"metric\": "
	    "\"exact\" }, \"seed_prompts\": [\"x\"], \"backends\": { \"sim\":"
	    " { \"type\": \"sim\" } }, \"roles\": { \"target\": \"sim\" },"
	    " \"strategy\": { \"name\": \"duel\", \"method\": \"thompson\","
	    " \"feedback\": \"crowd\", \"arms\": \"reponses\", \"example\":"
	    " -1 } }", f);
	fclose(f);
	job = job_load(p, NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(strstr(cause, "strategy.method: unknown value "
	    "'thompson'"));
	ck_assert_ptr_nonnull(strstr(cause, "strategy.feedback: unknown "
	    "value 'crowd'"));
	ck_assert_ptr_nonnull(strstr(cause, "strategy.arms: unknown value "
	    "'reponses' (did you mean 'responses'?)"));
	ck_assert_ptr_nonnull(strstr(cause, "strategy.example: -1 is out of "
	    "range"));
	free(cause);
	free(p);
}
END_TEST

static Suite *
duel_suite(void)
{
	Suite	*s = suite_create("duel");
	TCase	*tc = tcase_create("duel");

	tcase_add_checked_fixture(tc, check_sentiment_setup,
	    check_sentiment_teardown);
	/*
	 * A safety net, not a measure: test_finds_best fits hundreds of
	 * networks, and a loaded machine (make -j8 check on 2 cores) must
	 * not fail it.
	 */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_sim_feedback);
	tcase_add_test(tc, test_finds_best);
	tcase_add_test(tc, test_judge_feedback);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_fiber);
	tcase_add_test(tc, test_responses_sim);
	tcase_add_test(tc, test_responses_judge);
	tcase_add_test(tc, test_responses_no_verdict);
	tcase_add_test(tc, test_responses_resume);
	tcase_add_test(tc, test_responses_champion);
	tcase_add_test(tc, test_responses_demos);
	tcase_add_test(tc, test_responses_human);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_human_duels);
	tcase_add_test(tc, test_schema);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(duel_suite)
