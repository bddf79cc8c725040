/* Tests for job runs: a search to completion, a resume from the
 * checkpoint, refreshes that promote and refuse to, and atomic export. */
#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_common.h"
#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* Writes the sentiment job with a strategy and extra keys. */
static struct job *
load_job(const char *strategy, const char *extra)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"s\", " CHECK_SENTIMENT_TASK ","
	    " \"seed_prompts\": [\"Classify the sentiment of the review.\","
	    " \"You are an expert film critic. Read the whole review carefully"
	    " and decide whether it is positive or negative. Answer with only"
	    " the label.\"], \"backends\": { \"sim\": { \"type\": \"sim\" } },"
	    " \"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },"
	    " \"strategy\": %s %s }", strategy, extra);
	job = check_job(check_dir, text);
	free(text);
	return job;
}

/* Runs kind to completion; returns the champion's version. */
static int
run(struct job *job, const char *kind, int max_steps, struct jobrun *out)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct champion		 ch;
	char			*cause = NULL;
	int			 rc, steps = 0, version = 0;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, kind, &cause) == 0, "%s",
	    cause);
	while ((rc = jobrun_step(&jr, &cause)) == 1 && ++steps < max_steps)
		;
	ck_assert_msg(rc >= 0, "%s", cause);
	if (rc == 0)
		ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	if (store_champion_latest(store, jr.job_id, &ch, &cause) == 1)
		version = ch.version;
	if (out != NULL) {
		out->promoted = jr.promoted;
		out->resumed = jr.resumed;
		out->run_id = jr.run_id;
		out->job_id = jr.job_id;
		out->status = rc == 0 ? jr.status : "interrupted";
	}
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	return version;
}

static long long
count(const char *sql)
{
	return check_count(check_db, sql);
}

/* Starts a run of kind and closes it at once: its examples are made. */
static void
start_only(struct job *job, const char *kind)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	char			*cause = NULL;

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, kind, &cause) == 0, "%s",
	    cause);
	jobrun_abort(&jr, "cancelled", "test");
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
}

/* Appends text to the job's feedback log, fb.jsonl. */
static void
log_append(const char *text)
{
	char	*p = xasprintf("%s/fb.jsonl", check_dir);
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(p, "a"));
	fputs(text, f);
	fclose(f);
	free(p);
}

/*
 * Appends to the log an edit of reviews [from, to) of the dataset: the
 * review's text as the inputs, a wrong response, its label as the edit.
 */
static void
log_reviews(size_t from, size_t to)
{
	struct dataset	*ds;
	cJSON		*o, *in;
	char		*p, *cause = NULL, *line, id[32];
	size_t		 i;

	p = xasprintf("%s/reviews.jsonl", check_dir);
	ds = dataset_load(p, NULL, &cause);
	ck_assert_msg(ds != NULL, "%s", cause);
	free(p);
	for (i = from; i < to && i < ds->n; i++) {
		o = cJSON_CreateObject();
		snprintf(id, sizeof id, "r%zu", i);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddNumberToObject(o, "time", 1700000000 + (double)i);
		in = cJSON_AddObjectToObject(o, "inputs");
		cJSON_AddItemToObject(in, "text", cJSON_Duplicate(
		    example_field(&ds->ex[i], "text"), 1));
		cJSON_AddStringToObject(o, "response", "unsure");
		cJSON_AddItemToObject(o, "edit", cJSON_Duplicate(
		    example_field(&ds->ex[i], "label"), 1));
		snprintf(id, sizeof id, "u%zu", i % 3);
		cJSON_AddStringToObject(o, "user", id);
		line = cJSON_PrintUnformatted(o);
		log_append(line);
		log_append("\n");
		cJSON_free(line);
		cJSON_Delete(o);
	}
	dataset_free(ds);
}

START_TEST(test_optimize_and_export)
{
	struct job	*job;
	struct jobrun	 jr;
	char		*p, *text = NULL, *cause = NULL;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 1 }",
	    ", \"export\": { \"path\": \"out/champion.txt\", \"sidecar\": "
	    "true }");
	p = xasprintf("%s/out", check_dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	ck_assert_str_eq(jr.status, "done");
	ck_assert_int_eq(jr.promoted, 1);
	p = xasprintf("%s/out/champion.txt", check_dir);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_int_gt((int)strlen(text), 10);
	free(text);
	free(p);
	p = xasprintf("%s/out/champion.txt.json", check_dir);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"version\":\t1"));
	free(text);
	free(p);
	/* No temporary files are left behind. */
	p = xasprintf("ls '%s'/out/*.check_dir.* >/dev/null 2>&1", check_dir);
	ck_assert_int_ne(system(p), 0);
	free(p);
	ck_assert_int_eq(count("SELECT count(*) FROM runs WHERE status = "
	    "'done'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions"), 1);
	job_free(job);
}
END_TEST

START_TEST(test_resume_from_checkpoint)
{
	struct job	*job;
	struct jobrun	 a, b;
	long long	 ok_before;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 3 }",
	    "");
	/* Two steps, then the process "dies" without finishing. */
	ck_assert_int_eq(run(job, "optimize", 2, &a), 0);
	ck_assert_str_eq(a.status, "interrupted");
	ok_before = count("SELECT count(*) FROM calls WHERE status = 'ok'");
	ck_assert_int_eq(count("SELECT step FROM runs"), 2);
	/* The next start resumes the same run at its step. */
	ck_assert_int_eq(run(job, "optimize", 100, &b), 1);
	ck_assert_int_eq(b.resumed, 0);	/* cleared after the first step */
	ck_assert_int_eq((int)b.run_id, (int)a.run_id);
	ck_assert_str_eq(b.status, "done");
	ck_assert_int_eq(count("SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(count("SELECT step FROM runs"), 4);
	/* The resumed run's scores are summed once each. */
	ck_assert_int_gt(count("SELECT count(*) FROM score_sums"), 0);
	ck_assert_int_eq(count(CHECK_SCORE_SUMS_WRONG), 0);
	/* Nothing was paid twice: each key has one paid call at most. */
	ck_assert_int_eq(count("SELECT count(*) FROM (SELECT cache_key FROM "
	    "calls WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > "
	    "1)"), 0);
	ck_assert_int_ge(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), ok_before);
	job_free(job);
}
END_TEST

START_TEST(test_refresh_promotes_and_refuses)
{
	struct job		*job;
	struct jobrun		 jr;
	struct store		*store;
	struct champion_record	 weak;
	sqlite3			*db;
	char			*cause = NULL, *sql;
	int64_t			 first;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"alpha\": 0.05, \"min_delta\": 0.05");
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	/* The first champion had no test to pass; it was scored on test. */
	first = jr.run_id;
	sql = xasprintf("SELECT count(*) FROM champions WHERE version = 1"
	    " AND run_id = %lld AND p IS NULL AND delta IS NULL AND paired IS"
	    " NULL AND test_n > 0 AND test_lo <= test_score AND test_score <="
	    " test_hi", (long long)first);
	ck_assert_int_eq(count(sql), 1);
	free(sql);
	/* Make the weak seed the champion, as if the model had changed. */
	store = store_open(check_db, &cause);
	memset(&weak, 0, sizeof weak);
	weak.job = jr.job_id;
	weak.candidate = store_candidate_put(store, jr.job_id, "Classify the "
	    "sentiment of the review.", "seed", &cause);
	weak.score = 0.1;
	weak.hi = 0.2;
	weak.p = weak.delta = NAN;
	weak.reason = "test: a weak champion";
	ck_assert_int_eq(store_champion_add(store, &weak, &cause), 0);
	store_close(store);
	/* A refresh re-scores the champion and the best candidates and
	 * promotes the strong one: the paired test says so, and its
	 * evidence is kept with the version, as is its test score. */
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 3);
	ck_assert_int_eq(jr.promoted, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE reason "
	    "LIKE 'beats champion 2%'"), 1);
	sql = xasprintf("SELECT count(*) FROM champions WHERE version = 3"
	    " AND run_id = %lld AND p < 0.05 AND delta >= 0.05 AND paired > 0"
	    " AND test_n > 0", (long long)jr.run_id);
	ck_assert_int_eq(count(sql), 1);
	free(sql);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE version"
	    " = 2 AND run_id IS NULL AND test_score IS NULL"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM runs WHERE kind = "
	    "'refresh' AND status = 'done'"), 1);
	/* Another refresh finds nothing significantly better: it refuses. */
	ck_assert_int_eq(sqlite3_open(check_db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE champions SET test_score ="
	    " NULL, test_lo = NULL, test_hi = NULL, test_n = NULL", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 3);
	ck_assert_int_eq(jr.promoted, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE "
	    "'no promotion%' OR message LIKE 'refresh: the dataset is "
	    "unchanged'"), 2);
	/* The champion that held its place was measured on test again. */
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE test_n"
	    " > 0"), 1);
	ck_assert_int_eq(count("SELECT version FROM champions WHERE test_n"
	    " > 0"), 3);
	/* The refreshes scored the same examples again: the latest count. */
	ck_assert_int_gt(count("SELECT sum(evals) - sum(n) FROM score_sums"),
	    0);
	ck_assert_int_eq(count(CHECK_SCORE_SUMS_WRONG), 0);
	job_free(job);
}
END_TEST

/* A candidate of the constructed search: n dev scores, the first bad of
 * them at bad and the rest at good. */
static void
risk_cand(struct cand *c, int64_t id, size_t n, size_t nbad, double bad,
    double good)
{
	size_t	i;

	memset(c, 0, sizeof *c);
	c->id = id;
	c->scores = xcalloc(n, sizeof *c->scores);
	for (i = 0; i < n; i++) {
		c->scores[i] = i < nbad ? bad : good;
		c->mean += c->scores[i] / (double)n;
	}
	c->nscored = n;
}

/* jobrun_risk_pick() on the constructed search with the job's risk. */
static struct cand *
risk_pick(struct jobrun *jr, const char *risk, struct cand *best)
{
	struct job	*job;
	struct cand	*pick;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }", risk);
	jr->job = job;
	pick = jobrun_risk_pick(jr, best);
	job_free(job);
	jr->job = NULL;
	return pick;
}

/*
 * Risk-controlled promotion.  A real run keeps its bound with the
 * promotion.  Then, on a constructed score distribution of 58 dev
 * examples: a candidate whose mean is the highest (0.79) but which
 * fails 12 of them (Clopper-Pearson at 90%: 0.291 > 0.20) is refused,
 * and one with a lower mean (0.70) that fails none (0.039) is put
 * forward instead; a quantile of the loss refuses the same tail.
 */
START_TEST(test_risk_promotion)
{
	struct job	*job;
	struct jobrun	 jr, fake;
	struct cand	 tail, safe, worse, *v[3];
	struct store	*store;
	char		*cause = NULL;
	size_t		 i;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"risk\": { \"measure\": \"share_below\", \"threshold\": 0.5,"
	    " \"max\": 1 }");
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	ck_assert_int_eq(jr.promoted, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE"
	    " risk_measure = 'share_below' AND risk_param = 0.5 AND risk_max"
	    " = 1 AND risk_confidence = 0.9 AND risk_n > 0 AND risk_bound >"
	    " 0 AND risk_bound <= 1"), 1);
	job_free(job);

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	memset(&fake, 0, sizeof fake);
	fake.store = store;
	fake.job_id = jr.job_id;
	fake.run_id = jr.run_id;
	risk_cand(&tail, 1, 58, 12, 0, 1);
	risk_cand(&safe, 2, 58, 0, 0, 0.7);
	risk_cand(&worse, 3, 58, 0, 0, 0.6);
	v[0] = &worse;
	v[1] = &tail;
	v[2] = &safe;
	fake.search.cands = v;
	fake.search.ncands = 3;
	fake.search.ndev = 58;
	ck_assert(tail.mean > safe.mean && safe.mean > worse.mean);

	ck_assert_ptr_eq(risk_pick(&fake, ", \"risk\": { \"measure\":"
	    " \"share_below\", \"threshold\": 0.5, \"max\": 0.2 }", &tail),
	    &safe);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message ="
	    " 'no promotion: risk bound 0.29 > 0.20 (share of dev examples"
	    " below 0.5, 90% confidence, 58 examples) for the best candidate"
	    " (mean 0.793)'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message"
	    " LIKE 'putting forward the best candidate within the risk bound"
	    " instead (mean 0.700, bound 0.04); 1 with a higher mean"
	    " refused'"), 1);
	/* The loss's 0.8-quantile: x_(51) of 58 is a failure's 1 for the
	 * tail, 0.3 for the safe one. */
	ck_assert_ptr_eq(risk_pick(&fake, ", \"risk\": { \"measure\":"
	    " \"quantile\", \"quantile\": 0.8, \"max\": 0.5 }", &tail), &safe);
	/* Within the bound, the best by mean stays; without risk, too. */
	ck_assert_ptr_eq(risk_pick(&fake, ", \"risk\": { \"measure\":"
	    " \"share_below\", \"threshold\": 0.5, \"max\": 0.3 }", &tail),
	    &tail);
	ck_assert_ptr_eq(risk_pick(&fake, "", &tail), &tail);
	/* Nothing within: nothing is promoted, and the event says so. */
	ck_assert_ptr_null(risk_pick(&fake, ", \"risk\": { \"measure\":"
	    " \"share_below\", \"threshold\": 0.75, \"max\": 0.2 }", &tail));
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message ="
	    " 'no promotion: none of the 3 candidates has a risk bound within"
	    " 0.20'"), 1);
	for (i = 0; i < 3; i++)
		free(v[i]->scores);
	store_close(store);
}
END_TEST

/* jobrun_shorter_pick() on the constructed search with the job's setting. */
static struct cand *
shorter_pick(struct jobrun *jr, const char *setting, struct cand *best)
{
	struct job	*job;
	struct cand	*pick;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }", setting);
	jr->job = job;
	free(jr->shorter);
	jr->shorter = NULL;
	pick = jobrun_shorter_pick(jr, best);
	job_free(job);
	jr->job = NULL;
	return pick;
}

/*
 * Cost-aware selection.  On 58 constructed dev examples: a long prompt
 * and a short one of the same mean (each better on half the examples),
 * and a shorter still that is clearly worse.  prefer_shorter puts the
 * short one forward, with its evidence, and not the worse one; without
 * the setting the best stays.  A real run with the setting still
 * promotes: a candidate racing dropped is never put forward.
 */
START_TEST(test_prefer_shorter)
{
	struct job	*job;
	struct jobrun	 jr, fake;
	struct cand	 lng, shrt, worse, *v[3];
	struct store	*store;
	char		*cause = NULL;
	size_t		 i;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"prefer_shorter\": 1");
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	ck_assert_int_eq(jr.promoted, 1);
	/* Racing left the best alone complete: it is the champion. */
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE reason"
	    " LIKE 'best of %'"), 1);
	job_free(job);

	store = store_open(check_db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	memset(&fake, 0, sizeof fake);
	fake.store = store;
	fake.job_id = jr.job_id;
	fake.run_id = jr.run_id;
	risk_cand(&lng, 1, 58, 29, 0.8, 1);
	risk_cand(&shrt, 2, 58, 29, 1, 0.8);
	risk_cand(&worse, 3, 58, 0, 0, 0.5);
	lng.text = xstrdup("Read the review carefully, weigh every sentence, "
	    "and answer with one word: positive or negative.");
	shrt.text = xstrdup("Sentiment: positive or negative?");
	worse.text = xstrdup("Sentiment?");
	lng.tokens = tokens_estimate(lng.text);
	shrt.tokens = tokens_estimate(shrt.text);
	worse.tokens = tokens_estimate(worse.text);
	v[0] = &lng;
	v[1] = &worse;
	v[2] = &shrt;
	fake.search.cands = v;
	fake.search.ncands = 3;
	fake.search.ndev = 58;
	ck_assert(fabs(lng.mean - shrt.mean) < 1e-9);

	ck_assert_ptr_eq(shorter_pick(&fake, ", \"prefer_shorter\": 0.02",
	    &lng), &shrt);
	ck_assert_ptr_eq(fake.shorter_of, &lng);
	ck_assert_str_eq(fake.shorter, "shorter: 8 tokens against 24, not "
	    "worse than the best by more than 0.02 (paired p = 0.77)");
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE"
	    " 'putting forward a shorter candidate (mean 0.900) than the best"
	    " (mean 0.900): shorter: 8 tokens against 24%'"), 1);
	/* Off by default: the best stays. */
	ck_assert_ptr_eq(shorter_pick(&fake, "", &lng), &lng);
	/* Only the worse one is shorter than the short one: none is picked. */
	ck_assert_ptr_eq(shorter_pick(&fake, ", \"prefer_shorter\": 0.02",
	    &shrt), &shrt);
	ck_assert_ptr_null(fake.shorter);
	/* A tolerance beyond the gap lets it through. */
	ck_assert_ptr_eq(shorter_pick(&fake, ", \"prefer_shorter\": 0.5",
	    &shrt), &worse);
	for (i = 0; i < 3; i++) {
		free(v[i]->scores);
		free(v[i]->text);
	}
	free(fake.shorter);
	store_close(store);
}
END_TEST

START_TEST(test_total_budget)
{
	struct job	*job;
	struct jobrun	 jr;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\": 3 }",
	    ", \"total_budget\": { \"max_calls\": 150 }");
	run(job, "optimize", 100, &jr);
	ck_assert_str_eq(jr.status, "exhausted");
	ck_assert_int_eq(count("SELECT sum(calls) FROM runs"), 150);
	/* The job's budget is spent: the next run pays for nothing. */
	run(job, "refresh", 100, &jr);
	ck_assert_str_eq(jr.status, "exhausted");
	ck_assert_int_eq(count("SELECT sum(calls) FROM runs"), 150);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE status = "
	    "'ok'"), 150);
	job_free(job);
}
END_TEST

/* The examples' fields of snapshot n (1 the first), as "text=label" by
 * text, and how many links each has. */
static long long
feedback_count(const char *where)
{
	char		*sql;
	long long	 n;

	sql = xasprintf("SELECT count(*) FROM examples x WHERE x.origin ="
	    " 'feedback' AND x.dataset_id = (SELECT max(id) FROM datasets)"
	    " AND %s", where);
	n = count(sql);
	free(sql);
	return n;
}

START_TEST(test_feedback_examples)
{
	struct job	*job;

	/*
	 * A: two edits, the later wins, linked to it alone; B: rated up;
	 * C: rated down; D: two people gave the same edit, both linked;
	 * E: inputs without the template's field, left out.
	 */
	log_append("{\"id\":\"1\",\"time\":100,\"inputs\":{\"text\":\"A\"},"
	    "\"response\":\"negative\",\"edit\":\"positive\",\"user\":\"u1\"}\n"
	    "{\"id\":\"2\",\"time\":50,\"inputs\":{\"text\":\"A\"},"
	    "\"response\":\"negative\",\"edit\":\"neutral\",\"user\":\"u2\"}\n"
	    "{\"id\":\"3\",\"inputs\":{\"text\":\"B\"},\"response\":"
	    "\"positive\",\"rating\":\"up\"}\n"
	    "{\"id\":\"4\",\"inputs\":{\"text\":\"C\"},\"response\":"
	    "\"positive\",\"rating\":2}\n"
	    "{\"id\":\"5\",\"time\":10,\"inputs\":{\"text\":\"D\"},"
	    "\"response\":\"x\",\"edit\":\"negative\",\"user\":\"u3\"}\n"
	    "{\"id\":\"6\",\"time\":20,\"inputs\":{\"text\":\"D\"},"
	    "\"response\":\"y\",\"edit\":\"negative\",\"user\":\"u4\"}\n"
	    "{\"id\":\"7\",\"inputs\":{\"review\":\"E\"},\"response\":"
	    "\"x\",\"edit\":\"positive\"}\n");
	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"feedback\": \"fb.jsonl\"");
	start_only(job, "optimize");
	ck_assert_int_eq(count("SELECT count(*) FROM interactions"), 7);
	ck_assert_int_eq(feedback_count("1"), 2);
	ck_assert_int_eq(feedback_count("x.fields = '{\"text\":\"A\","
	    "\"label\":\"positive\"}' AND x.line IS NULL AND (SELECT"
	    " group_concat(i.key) FROM feedback_examples f JOIN interactions i"
	    " ON i.id = f.interaction_id WHERE f.example_id = x.id) = '1'"), 1);
	ck_assert_int_eq(feedback_count("x.fields = '{\"text\":\"D\","
	    "\"label\":\"negative\"}' AND (SELECT count(*) FROM"
	    " feedback_examples f WHERE f.example_id = x.id) = 2"), 1);
	/* After the file's examples, in the file's snapshot but one. */
	ck_assert_int_eq(feedback_count("x.idx >= 120"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM examples WHERE origin ="
	    " 'dataset' AND dataset_id = (SELECT max(id) FROM datasets)"), 120);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE"
	    " 'feedback: 2 examples from 4 interactions (edits): %'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE level ="
	    " 'warn' AND message = 'feedback: 1 interaction left out: its"
	    " inputs lack a field of the task''s template'"), 1);
	/* The run's events include what was noted before it existed. */
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message LIKE"
	    " 'feedback: 7 interactions ingested%' AND run_id = (SELECT id FROM"
	    " runs)"), 1);
	job_free(job);

	/* Responses rated best too. */
	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"feedback\": { \"path\": \"fb.jsonl\", \"examples\":"
	    " \"edits+rated\" }");
	start_only(job, "optimize");
	ck_assert_int_eq(count("SELECT count(*) FROM datasets"), 2);
	ck_assert_int_eq(feedback_count("1"), 3);
	ck_assert_int_eq(feedback_count("x.fields = '{\"text\":\"B\","
	    "\"label\":\"positive\"}'"), 1);
	job_free(job);

	/* None: the file's own snapshot, as a job without feedback has. */
	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"feedback\": { \"path\": \"fb.jsonl\", \"examples\":"
	    " \"off\" }");
	start_only(job, "optimize");
	ck_assert_int_eq(count("SELECT count(*) FROM datasets"), 3);
	ck_assert_int_eq(count("SELECT count(*) FROM examples WHERE dataset_id"
	    " = 3 AND origin = 'feedback'"), 0);
	ck_assert_int_eq(count("SELECT n FROM datasets WHERE id = 3"), 120);
	/* The same again is the same snapshot. */
	start_only(job, "optimize");
	ck_assert_int_eq(count("SELECT count(*) FROM datasets"), 3);
	job_free(job);
}
END_TEST

/*
 * An example from feedback keeps its split as more come: the first ones
 * are in the same splits in the snapshot of them all, which has some of
 * each.  (The reviews repeat three texts: 39 distinct in the first 40,
 * 117 in all.)
 */
START_TEST(test_feedback_splits)
{
	struct job	*job;

	job = load_job("{ \"name\": \"ape\", \"pool\": 5 }",
	    ", \"feedback\": \"fb.jsonl\"");
	log_reviews(0, 40);
	start_only(job, "optimize");
	ck_assert_int_eq(feedback_count("1"), 39);
	log_reviews(40, 120);
	start_only(job, "optimize");
	ck_assert_int_eq(feedback_count("1"), 117);
	ck_assert_int_ge(count("SELECT count(*) FROM examples a JOIN examples b"
	    " ON a.hash = b.hash AND a.origin = 'feedback' AND b.origin ="
	    " 'feedback' AND a.dataset_id < b.dataset_id"), 38);
	ck_assert_int_eq(count("SELECT count(*) FROM examples a JOIN examples b"
	    " ON a.hash = b.hash AND a.origin = 'feedback' AND b.origin ="
	    " 'feedback' AND a.dataset_id < b.dataset_id AND a.split !="
	    " b.split"), 0);
	ck_assert_int_gt(feedback_count("x.split = 'train'"), 10);
	ck_assert_int_gt(feedback_count("x.split = 'dev'"), 40);
	ck_assert_int_gt(feedback_count("x.split = 'test'"), 20);
	/* The file's examples kept their splits too. */
	ck_assert_int_eq(count("SELECT count(*) FROM examples a JOIN examples b"
	    " ON a.idx = b.idx AND a.origin = 'dataset' AND a.dataset_id = 1"
	    " AND b.dataset_id = 2 AND a.split = b.split"), 120);
	job_free(job);
}
END_TEST

/* A resumed run keeps the examples it started with. */
START_TEST(test_feedback_resume)
{
	struct job	*job;
	struct jobrun	 a, b;

	job = load_job("{ \"name\": \"ape\", \"pool\": 10, \"resample\":"
	    " 3 }", ", \"feedback\": \"fb.jsonl\"");
	log_reviews(0, 40);
	ck_assert_int_eq(run(job, "optimize", 2, &a), 0);
	log_reviews(40, 80);
	ck_assert_int_eq(run(job, "optimize", 100, &b), 1);
	ck_assert_int_eq((int)b.run_id, (int)a.run_id);
	ck_assert_str_eq(b.status, "done");
	/* The log was read, but the run's snapshot is the one it began. */
	ck_assert_int_eq(count("SELECT count(*) FROM interactions"), 80);
	ck_assert_int_eq(count("SELECT count(*) FROM datasets"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM examples WHERE origin ="
	    " 'feedback'"), 39);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message ="
	    " 'feedback: the run goes on with the 39 examples from feedback"
	    " of its snapshot'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM evaluations e JOIN"
	    " examples x ON x.id = e.example_id JOIN runs r ON r.id ="
	    " e.run_id WHERE x.dataset_id != r.dataset_id"), 0);
	ck_assert_int_gt(count("SELECT count(*) FROM evaluations e JOIN"
	    " examples x ON x.id = e.example_id WHERE x.origin = 'feedback'"),
	    0);
	/* The next run takes them all. */
	ck_assert_int_ge(run(job, "refresh", 100, &b), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM datasets"), 2);
	ck_assert_int_eq(feedback_count("1"), 78);
	job_free(job);
}
END_TEST

/* The sentiment job with neither dataset nor labels: feedback alone. */
#define NO_DATASET_JOB							\
	"{ \"name\": \"fb\", \"task\": { \"input\": \"Review: {{text}}\\n"	\
	"Sentiment:\", \"target\": \"label\", \"metric\": { \"type\":"	\
	" \"exact\", \"normalize\": [\"case\", \"punctuation\"] } },"	\
	" \"seed_prompts\": [\"Classify the sentiment of the review.\","	\
	" \"You are an expert film critic. Read the whole review carefully"	\
	" and decide whether it is positive or negative. Answer with only"	\
	" the label.\"], \"backends\": { \"sim\": { \"type\": \"sim\" } },"	\
	" \"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },"	\
	" \"strategy\": { \"name\": \"ape\", \"pool\": 5 },"		\
	" \"export\": \"champion.txt\", \"feedback\": \"fb.jsonl\","	\
	" \"alpha\": 0.05 }"

START_TEST(test_no_dev_examples)
{
	struct job	*job;
	struct jobrun	 jr;
	char		*p, *text = NULL, *cause = NULL;

	job = check_job(check_dir, NO_DATASET_JOB);
	/* No feedback yet: the first seed, unscored, no call made. */
	ck_assert_int_eq(run(job, "optimize", 100, &jr), 1);
	ck_assert_str_eq(jr.status, "done");
	ck_assert_int_eq(jr.promoted, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM champions c JOIN"
	    " candidates d ON d.id = c.candidate_id WHERE c.version = 1 AND"
	    " c.score IS NULL AND c.reason = 'no dev examples yet: the first"
	    " seed prompt, until feedback brings some' AND d.text = 'Classify"
	    " the sentiment of the review.'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM jobs WHERE state ="
	    " 'done' AND reason = 'no dev examples yet: the first seed prompt,"
	    " until feedback brings some'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message ="
	    " 'no dev examples yet: nothing to search on until feedback brings"
	    " some'"), 1);
	p = xasprintf("%s/champion.txt", check_dir);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_str_eq(text, "Classify the sentiment of the review.\n");
	free(text);
	/* Still none: the champion holds its place. */
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 1);
	ck_assert_int_eq(jr.promoted, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE message ="
	    " 'no dev examples yet: champion 1 holds its place until feedback"
	    " brings some'"), 1);
	/* People's edits bring examples: the seeds compete with it. */
	log_reviews(0, 120);
	ck_assert_int_eq(run(job, "refresh", 100, &jr), 2);
	ck_assert_int_eq(jr.promoted, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM champions WHERE version ="
	    " 2 AND reason LIKE 'beats champion 1 on % dev examples%' AND p <"
	    " 0.05 AND paired > 0"), 1);
	ck_assert_int_eq(file_read(p, 1 << 20, &text, NULL, &cause), 0);
	ck_assert_str_ne(text, "Classify the sentiment of the review.\n");
	free(text);
	free(p);
	job_free(job);
}
END_TEST

static Suite *
jobrun_suite(void)
{
	Suite	*s = suite_create("jobrun");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, check_sentiment_setup,
	    check_sentiment_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_optimize_and_export);
	tcase_add_test(tc, test_resume_from_checkpoint);
	tcase_add_test(tc, test_refresh_promotes_and_refuses);
	tcase_add_test(tc, test_risk_promotion);
	tcase_add_test(tc, test_prefer_shorter);
	tcase_add_test(tc, test_total_budget);
	tcase_add_test(tc, test_feedback_examples);
	tcase_add_test(tc, test_feedback_splits);
	tcase_add_test(tc, test_feedback_resume);
	tcase_add_test(tc, test_no_dev_examples);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(jobrun_suite)
