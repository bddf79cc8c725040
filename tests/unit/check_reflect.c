/*
 * Tests for the reflect strategy: each mode improves on the seeds of every
 * bundled example task (sim backend, the jobs' own seeds), spo runs on a
 * dataset without targets, critiques and rationales become lineage notes,
 * tagless optimizer replies are retried and counted, bad parameters are
 * reported with their position, the state survives a resume, and
 * people's critiques reach protegi's critique requests (and only those
 * of the prompt they wrote of).  Also the framework's minibatch scoring,
 * and the mcts strategy, which is written with reflect's helpers.
 */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check_common.h"
#include "engine.h"
#include "feedback.h"
#include "job.h"
#include "jobrun.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static char		*tmp;
static char		*dbpath;

static void
setup(void)
{
	tmp = check_tmpdir();
	dbpath = xasprintf("%s/t.db", tmp);
}

static void
teardown(void)
{
	check_rmtree(tmp);
	free(dbpath);
	free(tmp);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A bundled example job (examples/TASK) copied into the temporary
 * directory with a strategy added; returns the job file's path.
 */
static char *
example_job(const char *task, const char *strategy)
{
	char	*cmd, *src, *text = NULL, *out, *path, *cause = NULL, *end;
	char	*line, *eol;

	cmd = xasprintf("mkdir -p '%s/%s' && cp '%s/examples/%s/'* '%s/%s/'",
	    tmp, task, TEST_SRCDIR, task, tmp, task);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	src = xasprintf("%s/examples/%s/job.json", TEST_SRCDIR, task);
	ck_assert_msg(file_read(src, 1 << 20, &text, NULL, &cause) == 0, "%s",
	    cause);
	free(src);
	/* The example's own strategy (one line) makes way for this one. */
	if ((line = strstr(text, "\n  \"strategy\":")) != NULL &&
	    (eol = strchr(line + 1, '\n')) != NULL)
		memmove(line, eol, strlen(eol) + 1);
	end = strrchr(text, '}');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	out = xasprintf("%s,\n  \"strategy\": %s\n}\n", text, strategy);
	path = xasprintf("%s/%s/job.json", tmp, task);
	write_file(path, out);
	free(out);
	free(text);
	return path;
}

static struct job *
load(const char *path)
{
	struct job	*job;
	char		*cause = NULL;

	job = job_load(path, NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	return job;
}

struct result {
	const char	*status;
	int64_t		 job_id;
	int64_t		 run_id;
	unsigned	 asks;
	unsigned	 failed_asks;
	int		 steps;
};

/* Runs (or resumes) a job for at most max_steps steps, finishing it if
 * the search ends. */
static void
run(struct job *job, const char *db, int max_steps, struct result *out)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	char			*cause = NULL;
	int			 rc, steps = 0;

	store = store_open(db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	while ((rc = jobrun_step(&jr, &cause)) == 1 && ++steps < max_steps)
		;
	ck_assert_msg(rc >= 0, "%s", cause);
	if (rc == 0)
		ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	out->status = rc == 0 ? jr.status : "interrupted";
	out->job_id = jr.job_id;
	out->run_id = jr.run_id;
	out->asks = jr.search.asks;
	out->failed_asks = jr.search.failed_asks;
	out->steps = jr.search.step;
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
}

static double
query(const char *db, const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	double		 x = NAN;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		x = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return x;
}

static char *
query_text(const char *db, const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*t = NULL;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		t = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return t;
}

/* The best seed's mean on dev, and the champion's. */
#define SEED_BEST	"SELECT max(a) FROM (SELECT avg(e.score) a FROM "	\
	"evaluations e JOIN examples x ON x.id = e.example_id JOIN "	\
	"candidates c ON c.id = e.candidate_id WHERE x.split = 'dev' AND "	\
	"c.origin = 'seed' GROUP BY c.id)"
#define CHAMPION	"SELECT score FROM champions ORDER BY version DESC "	\
	"LIMIT 1"

static const char *const tasks[] = { "sentiment", "arith", "rewrite" };

/*
 * A mode on every bundled task: the champion beats the best seed, on
 * average over runs with the example's job seed and the next ones.
 */
static void
improves(const char *strategy, double margin, int runs)
{
	struct result	 r;
	struct job	*job;
	char		*path, *db;
	double		 gain;
	size_t		 i;
	int		 k;

	for (i = 0; i < nitems(tasks); i++) {
		path = example_job(tasks[i], strategy);
		for (k = 0, gain = 0; k < runs; k++) {
			db = xasprintf("%s/%s-%d.db", tmp, tasks[i], k);
			job = load(path);
			job->task.seed += k;
			run(job, db, 1000, &r);
			ck_assert_str_eq(r.status, "done");
			gain += query(db, CHAMPION) - query(db, SEED_BEST);
			/* Nothing was paid twice. */
			ck_assert_int_eq((int)query(db, "SELECT count(*) FROM "
			    "(SELECT cache_key FROM calls WHERE status = 'ok' "
			    "GROUP BY cache_key HAVING count(*) > 1)"), 0);
			job_free(job);
			free(db);
		}
		ck_assert_msg(gain / runs >= margin, "%s on %s: the champion "
		    "beats the best seed by %.3f on average over %d run%s",
		    strategy, tasks[i], gain / runs, runs, runs == 1 ? "" : "s");
		free(path);
	}
}

START_TEST(test_protegi_improves)
{
	/*
	 * Three steps fit the bundled jobs' budgets of 2000 calls.  Three
	 * runs, because one alone is a draw: over a hundred job seeds, one
	 * run in eight on sentiment gains less than 0.05 (0.078 on average),
	 * and since a step's requests are asked together the example's own
	 * seed is one of them.
	 */
	improves("{ \"name\": \"reflect\", \"mode\": \"protegi\", \"steps\": "
	    "3 }", 0.05, 3);
}
END_TEST

START_TEST(test_protegi_sr_improves)
{
	improves("{ \"name\": \"reflect\", \"mode\": \"protegi\", \"steps\": "
	    "2, \"bandit\": \"sr\", \"paraphrases\": 1 }", 0.03, 1);
}
END_TEST

START_TEST(test_gepa_improves)
{
	improves("{ \"name\": \"reflect\", \"mode\": \"gepa\" }", 0.05, 1);
}
END_TEST

START_TEST(test_opro_improves)
{
	improves("{ \"name\": \"reflect\", \"mode\": \"opro\", \"steps\": 4 "
	    "}", 0.05, 1);
}
END_TEST

START_TEST(test_pe2_improves)
{
	improves("{ \"name\": \"reflect\", \"mode\": \"pe2\" }", 0.05, 1);
}
END_TEST

START_TEST(test_spo_improves)
{
	improves("{ \"name\": \"reflect\", \"mode\": \"spo\" }", 0.03, 1);
}
END_TEST

/* SPO on messages without any expected answer, judged by a rubric. */
START_TEST(test_spo_without_targets)
{
	static const char *const msgs[] = {
		"hey, i basically need teh numbers by monday, don't be late.",
		"can't find the file, it's literally nowhere, send it again.",
		"the client is really angry, we're gonna fix it today.",
		"i definately told you about the meeting, dont forget it.",
		"honestly the draft is kind of bad, rewrite the begining.",
		"you're late again, we can't keep waiting for you.",
		"send me the adress of the venue, i actually lost it.",
		"the build is totally broken, somebody fix it untill noon.",
		"i'm not gonna review this, it's sort of a mess.",
		"tell thier team the deadline is tommorow, no excuses.",
		"we're out of coffee, just buy some, it's really urgent.",
		"the report doesn't make sense, seperate the two parts.",
		"i recieve too many emails, stop cc'ing me on everything.",
		"it's wierd that nobody answered, i'll ask again.",
		"basically the server died, we're on it, don't panic.",
		"that's not what i asked for, read the spec again.",
		"i've told you twice, the calender invite is wrong.",
		"the slides are literally unreadable, fix the font.",
		"we won't make it, the goverment form is still missing.",
		"you didn't answer, i really need a decision now.",
	};
	struct result	 r;
	struct job	*job;
	FILE		*f;
	char		*p, *job_text;
	double		 seed, champ;
	size_t		 i;

	p = xasprintf("%s/msgs.jsonl", tmp);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < nitems(msgs); i++)
		fprintf(f, "{\"text\": \"%s\"}\n", msgs[i]);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
	job_text = xasprintf("{ \"name\": \"nt\", \"description\": \"Rewrite "
	    "the message so that it is polite, concise and free of typos.\","
	    " \"task\": { \"dataset\": \"msgs.jsonl\", \"input\": \"Rewrite "
	    "this message:\\n{{text}}\", \"metric\": { \"type\": \"judge\", "
	    "\"mode\": \"rubric\", \"rubric\": \"Polite, concise, no typos, "
	    "same meaning.\" }, \"splits\": { \"train\": 0.3, \"dev\": 0.5, "
	    "\"test\": 0.2, \"seed\": 3 } }, \"seed_prompts\": [\"Rewrite "
	    "the message.\"], \"backends\": { \"sim\": { \"type\": \"sim\", "
	    "\"seed\": 5 }, \"judge\": { \"type\": \"sim\", \"model\": "
	    "\"sim-judge\", \"seed\": 6 } }, \"roles\": { \"target\": "
	    "\"sim\", \"optimizer\": \"sim\", \"judge\": \"judge\" }, "
	    "\"strategy\": { \"name\": \"reflect\", \"mode\": \"spo\", "
	    "\"steps\": 8 }, \"seed\": 4 }");
	p = xasprintf("%s/nt.json", tmp);
	write_file(p, job_text);
	free(job_text);
	job = load(p);
	free(p);
	ck_assert_ptr_null(job->task.target);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	seed = query(dbpath, SEED_BEST);
	champ = query(dbpath, CHAMPION);
	ck_assert_msg(champ > seed + 0.05, "champion %.3f, seed %.3f", champ,
	    seed);
	/* The champion came out of the judge's duels. */
	ck_assert_int_ge((int)query(dbpath, "SELECT count(*) FROM lineage "
	    "WHERE operator = 'spo'"), 2);
	ck_assert_int_ge((int)query(dbpath, "SELECT count(*) FROM champions "
	    "h JOIN candidates c ON c.id = h.candidate_id WHERE c.origin = "
	    "'spo'"), 1);
	/* Every verdict is stored with its provenance, both orders. */
	ck_assert_int_ge((int)query(dbpath, "SELECT count(*) FROM comparisons "
	    "WHERE source = 'judge' AND judge_model IS NOT NULL AND "
	    "order_shown = 'ba' AND example_id IS NOT NULL"), 1);
	ck_assert_int_ge((int)query(dbpath, "SELECT count(*) FROM comparisons "
	    "WHERE order_shown = 'ab'"), 1);
	job_free(job);
}
END_TEST

/* Critiques and rationales are lineage notes. */
START_TEST(test_lineage_notes)
{
	static const char *const modes[] = { "protegi", "gepa", "opro", "spo",
	    "pe2" };
	static const char *const ops[] = { "protegi-edit", "gepa-reflect",
	    "opro", "spo", "pe2" };
	struct result	 r;
	struct job	*job;
	char		*path, *strategy, *sql, *db;
	size_t		 i;

	for (i = 0; i < nitems(modes); i++) {
		strategy = xasprintf("{ \"name\": \"reflect\", \"mode\": \"%s\","
		    " \"steps\": 2 }", modes[i]);
		path = example_job("rewrite", strategy);
		db = xasprintf("%s/%s.db", tmp, modes[i]);
		job = load(path);
		run(job, db, 1000, &r);
		ck_assert_str_eq(r.status, "done");
		sql = xasprintf("SELECT count(*) FROM lineage WHERE operator = "
		    "'%s'", ops[i]);
		ck_assert_msg(query(db, sql) >= 1, "%s: no lineage", modes[i]);
		free(sql);
		sql = xasprintf("SELECT count(*) FROM lineage WHERE operator = "
		    "'%s' AND (note IS NULL OR note = '')", ops[i]);
		ck_assert_msg(query(db, sql) == 0, "%s: a lineage edge without "
		    "a note", modes[i]);
		free(sql);
		job_free(job);
		free(path);
		free(strategy);
		free(db);
	}
	/* protegi's notes are the critiques, which differ from one edit to
	 * the next; a paraphrase's note is the optimizer's rationale. */
	db = xasprintf("%s/protegi.db", tmp);
	ck_assert_int_ge((int)query(db, "SELECT count(DISTINCT note) FROM "
	    "lineage WHERE operator = 'protegi-edit'"), 2);
	ck_assert_int_eq((int)query(db, "SELECT count(*) FROM lineage a JOIN "
	    "lineage b ON a.note = b.note WHERE a.operator = 'protegi-edit' "
	    "AND b.operator = 'protegi-paraphrase'"), 0);
	free(db);
}
END_TEST

/* A backend whose optimizer replies lack tags some of the time. */
static struct job *
sentiment_job(const char *strategy, double format_error_rate)
{
	struct job	*job;
	char		*p, *text, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/'",
	    TEST_SRCDIR, tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	text = xasprintf("{ \"name\": \"s\", \"description\": \"Classify the "
	    "sentiment of a movie review.\", \"task\": { \"dataset\": "
	    "\"reviews.jsonl\", \"input\": \"Review: {{text}}\\nSentiment:\","
	    " \"target\": \"label\", \"metric\": { \"type\": \"exact\","
	    " \"normalize\": [\"case\", \"punctuation\"] }, \"splits\": {"
	    " \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3, \"seed\": 7 } },"
	    " \"seed_prompts\": [\"Classify the sentiment of the review.\"],"
	    " \"backends\": { \"sim\": { \"type\": \"sim\","
	    " \"format_error_rate\": %g } }, \"roles\": { \"target\": "
	    "\"sim\", \"optimizer\": \"sim\" }, \"strategy\": %s }",
	    format_error_rate, strategy);
	p = xasprintf("%s/job.json", tmp);
	write_file(p, text);
	free(text);
	job = load(p);
	free(p);
	return job;
}

/*
 * Every optimizer reply is tagless: each request is asked three times
 * (the first, then two repair turns), each reply is stored as
 * unreadable, and the run ends "done" with the reason, promoting
 * nothing.
 */
START_TEST(test_malformed_replies)
{
	static const char *const modes[] = { "protegi", "gepa", "opro", "spo",
	    "pe2" };
	struct result	 r;
	struct job	*job;
	char		*strategy;
	size_t		 i;

	for (i = 0; i < nitems(modes); i++) {
		strategy = xasprintf("{ \"name\": \"reflect\", \"mode\": \"%s\","
		    " \"steps\": 2 }", modes[i]);
		job = sentiment_job(strategy, 1);
		free(strategy);
		unlink(dbpath);
		run(job, dbpath, 1000, &r);
		ck_assert_str_eq(r.status, "done");
		ck_assert_int_gt(r.asks, 0);
		ck_assert_int_eq(r.failed_asks, 3 * r.asks);
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM "
		    "calls WHERE role = 'optimizer' AND status = 'ok'"),
		    (int)(3 * r.asks));
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM "
		    "candidates"), 1);
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM "
		    "champions"), 0);
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM "
		    "outcomes WHERE role = 'optimizer' AND outcome = "
		    "'unreadable' AND problem LIKE 'no <%> element found' AND "
		    "excerpt IS NOT NULL"), (int)(3 * r.asks));
		/* Repair turns carry the conversation. */
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM "
		    "outcomes o JOIN calls c ON c.id = o.call_id WHERE "
		    "o.role = 'optimizer'"), (int)(3 * r.asks));
		ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM jobs "
		    "WHERE state = 'done' AND reason LIKE 'no usable proposals "
		    "(% optimizer replies: % unreadable; the last said: no "
		    "<%> element found)%'"), 1);
		job_free(job);
	}
}
END_TEST

/* Half the replies tagless: the retries carry the search on. */
START_TEST(test_some_malformed_replies)
{
	struct result	 r;
	struct job	*job;

	job = sentiment_job("{ \"name\": \"reflect\", \"mode\": \"gepa\" }",
	    0.5);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_gt(r.failed_asks, 0);
	ck_assert_int_lt(r.failed_asks, 3 * r.asks);
	ck_assert_double_gt(query(dbpath, CHAMPION), query(dbpath, SEED_BEST) +
	    0.1);
	job_free(job);
}
END_TEST

START_TEST(test_parameter_errors)
{
	struct job	*job;
	char		*p, *cause = NULL, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/'",
	    TEST_SRCDIR, tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	p = xasprintf("%s/bad.json", tmp);
	write_file(p,
	    "{ \"name\": \"p\", \"task\": { \"dataset\": \"reviews.jsonl\",\n"
	    "  \"input\": \"Review: {{text}}\", \"target\": \"label\",\n"
	    "  \"metric\": \"exact\" }, \"seed_prompts\": [\"Classify.\"],\n"
	    "  \"backends\": { \"sim\": { \"type\": \"sim\" } },\n"
	    "  \"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },\n"
	    "  \"strategy\": { \"name\": \"reflect\",\n"
	    "    \"mode\": \"protgi\",\n"
	    "    \"beam\": 0,\n"
	    "    \"bandit\": 3,\n"
	    "    \"judge_temperature\": 2.5,\n"
	    "    \"merge\": \"yes\",\n"
	    "    \"beams\": 2 } }\n");
	job = job_load(p, NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(cause);
#define HAS(s)	ck_assert_msg(strstr(cause, s) != NULL, "no '%s' in: %s", s, \
	    cause)
	HAS("bad.json:7:13: strategy.mode: unknown value 'protgi' (did you "
	    "mean 'protegi'?)");
	HAS("bad.json:8:13: strategy.beam: 0 is out of range (expected 1 to "
	    "100)");
	HAS("bad.json:9:15: strategy.bandit: expected a string");
	HAS("bad.json:10:26: strategy.judge_temperature: 2.5 is out of range");
	HAS("bad.json:11:14: strategy.merge: expected true or false");
	HAS("bad.json:12:5: strategy.beams: unknown key (did you mean "
	    "'beam'?)");
#undef HAS
	free(cause);
	free(p);
}
END_TEST

/*
 * Two steps, then the process "dies"; the resumed run's state is the one
 * saved (load then save gives the same JSON), it finishes, nothing is
 * paid twice, and it ends where an uninterrupted run ends.
 */
START_TEST(test_resume)
{
	static const char *const modes[] = { "protegi", "gepa", "opro", "spo",
	    "pe2" };
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct result		 r;
	struct job		*job;
	cJSON			*saved, *again;
	char			*strategy, *path, *state, *cause = NULL;
	char			*db1, *db2, *a, *b;
	size_t			 i;

	for (i = 0; i < nitems(modes); i++) {
		strategy = xasprintf("{ \"name\": \"reflect\", \"mode\": \"%s\","
		    " \"steps\": 4, \"gradients\": 2, \"paraphrases\": 1, "
		    "\"proposals\": 4 }", modes[i]);
		path = example_job("arith", strategy);
		free(strategy);
		job = load(path);
		db1 = xasprintf("%s/%s-1.db", tmp, modes[i]);
		db2 = xasprintf("%s/%s-2.db", tmp, modes[i]);
		run(job, db1, 1000, &r);
		ck_assert_str_eq(r.status, "done");
		run(job, db2, 2, &r);
		ck_assert_str_eq(r.status, "interrupted");
		state = query_text(db2, "SELECT state FROM runs");
		ck_assert_ptr_nonnull(state);
		saved = cJSON_Parse(state);
		free(state);
		ck_assert_ptr_nonnull(saved);
		/* The state as loaded saves as it was saved. */
		store = store_open(db2, &cause);
		loop = engine_loop_new(store);
		ck_assert_msg(jobrun_start(&jr, job, loop, "optimize",
		    &cause) == 0, "%s", cause);
		ck_assert_int_eq(jr.resumed, 1);
		ck_assert_int_eq(jr.search.step, 2);
		again = jr.search.ops->save(&jr.search);
		ck_assert_msg(cJSON_Compare(again, cJSON_GetObjectItem(saved,
		    "strategy"), 1), "%s: state changed across a resume",
		    modes[i]);
		cJSON_Delete(again);
		cJSON_Delete(saved);
		jobrun_release(&jr);
		engine_loop_free(loop);
		store_close(store);
		/* It runs to the end. */
		run(job, db2, 1000, &r);
		ck_assert_str_eq(r.status, "done");
		ck_assert_int_eq(r.steps, 4);
		ck_assert_int_eq((int)query(db2, "SELECT count(*) FROM runs"),
		    1);
		ck_assert_int_eq((int)query(db2, "SELECT count(*) FROM (SELECT "
		    "cache_key FROM calls WHERE status = 'ok' GROUP BY "
		    "cache_key HAVING count(*) > 1)"), 0);
		a = query_text(db1, "SELECT c.text FROM champions h JOIN "
		    "candidates c ON c.id = h.candidate_id");
		b = query_text(db2, "SELECT c.text FROM champions h JOIN "
		    "candidates c ON c.id = h.candidate_id");
		ck_assert_msg(a != NULL && b != NULL && strcmp(a, b) == 0,
		    "%s: the resumed run ends elsewhere:\n%s\n%s", modes[i],
		    a, b);
		free(a);
		free(b);
		free(db1);
		free(db2);
		free(path);
		job_free(job);
	}
}
END_TEST

/*
 * People's critiques in protegi's critique requests, through an exec
 * optimizer that keeps every request it is sent (one file each) and
 * always answers with a critique and a prompt.
 */
static const char *const seed_a = "Classify the sentiment of the review.";
static const char *const seed_b = "Decide whether the review is positive "
    "or negative.";

static struct job *
people_job(const char *name, const char *optimizer, const char *params)
{
	struct job	*job;
	char		*p, *text, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/' && "
	    "mkdir -p '%s/%s' && printf '%%s\\n' 'f=$(mktemp \"$1/r.XXXXXX\")' "
	    "'cat >\"$f\"' 'echo \"<critique>The prompt is vague.</critique>"
	    "<prompt>Classify the review carefully.</prompt>\"' >'%s/opt.sh'",
	    TEST_SRCDIR, tmp, tmp, name, tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	text = xasprintf("{ \"name\": \"h\", \"description\": \"Classify the "
	    "sentiment of a movie review.\", \"task\": { \"dataset\": "
	    "\"reviews.jsonl\", \"input\": \"Review: {{text}}\\nSentiment:\","
	    " \"target\": \"label\", \"metric\": \"exact\", \"splits\": {"
	    " \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3, \"seed\": 7 } },"
	    " \"seed_prompts\": [\"%s\", \"%s\"], \"backends\": { \"sim\": {"
	    " \"type\": \"sim\" }, \"opt\": { \"type\": \"exec\", \"command\":"
	    " [\"/bin/sh\", \"%s/opt.sh\", \"%s/%s\"] } }, \"roles\": {"
	    " \"target\": \"sim\", \"optimizer\": \"%s\" }, \"strategy\": {"
	    " \"name\": \"reflect\", \"mode\": \"protegi\","
	    " \"paraphrases\": 0%s } }", seed_a, seed_b, tmp, tmp, name,
	    optimizer, params);
	p = xasprintf("%s/%s.json", tmp, name);
	write_file(p, text);
	free(text);
	job = load(p);
	free(p);
	return job;
}

/* A critique of seed a's answers, stored in db before the run starts. */
static void
people_put(const char *db, const char *key, const char *critique)
{
	struct interaction	 it;
	struct store		*store;
	char			*cause = NULL;
	int64_t			 job, a;

	store = store_open(db, &cause);
	ck_assert_msg(store != NULL, "%s", cause);
	job = store_job_put(store, "h", "{}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
	a = store_candidate_put(store, job, seed_a, "seed", &cause);
	ck_assert_msg(a > 0, "%s", cause);
	memset(&it, 0, sizeof it);
	snprintf(it.key, sizeof it.key, "%s", key);
	it.time = 1700000000;
	it.inputs = cJSON_Parse("{\"text\": \"A long film, but I loved "
	    "it.\"}");
	it.response = xstrdup("I would say it is positive, because that fits "
	    "the text best.");
	it.critique = xstrdup(critique);
	it.regenerated = it.abandoned = it.copied = -1;
	ck_assert_msg(store_interaction_put(store, job, &it, a, 0, NULL, 0,
	    NULL, &cause) == 1, "%s", cause);
	feedback_release(&it);
	store_close(store);
}

/* The critique requests the optimizer of run name was sent, as text. */
static size_t
people_requests(const char *name, char ***out)
{
	glob_t		 g;
	cJSON		*req, *msgs;
	char		*pat, *text = NULL, *cause = NULL;
	const char	*c;
	size_t		 i, n = 0;

	pat = xasprintf("%s/%s/r.*", tmp, name);
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	free(pat);
	*out = xcalloc(g.gl_pathc + 1, sizeof **out);
	for (i = 0; i < g.gl_pathc; i++) {
		ck_assert_msg(file_read(g.gl_pathv[i], 1 << 22, &text, NULL,
		    &cause) == 0, "%s", cause);
		req = cJSON_Parse(text);
		free(text);
		ck_assert_ptr_nonnull(req);
		msgs = cJSON_GetObjectItem(req, "messages");
		c = cJSON_GetStringValue(cJSON_GetObjectItem(
		    cJSON_GetArrayItem(msgs, 0), "content"));
		if (cJSON_GetArraySize(msgs) == 1 && c != NULL &&
		    strstr(c, "Give 1 critique") != NULL)
			(*out)[n++] = xstrdup(c);
		cJSON_Delete(req);
	}
	globfree(&g);
	return n;
}

static int
people_has(char **v, size_t n, const char *text)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], text) == 0)
			return 1;
	return 0;
}

static void
people_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A prompt people wrote of gets their critiques in its critique requests,
 * in a block of their own, and the edits made from them say so in their
 * lineage notes; a prompt nobody wrote of gets its old request byte for
 * byte, and so does every prompt with human_critiques 0.
 */
START_TEST(test_human_critiques)
{
	struct result	 r;
	struct job	*job;
	char		**old, **with, **off, *db, *p, *q, *strip;
	size_t		 nold, nwith, noff, i, na = 0, nb = 0;

	job = people_job("old", "opt", ", \"steps\": 1, \"gradients\": "
	    "2");
	db = xasprintf("%s/old.db", tmp);
	run(job, db, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	job_free(job);
	free(db);
	nold = people_requests("old", &old);
	ck_assert_uint_eq(nold, 4);	/* 2 gradients of 2 seeds */

	job = people_job("with", "opt", ", \"steps\": 1, \"gradients\": "
	    "2");
	db = xasprintf("%s/with.db", tmp);
	people_put(db, "k1", "Too long. I only want the label.");
	run(job, db, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	nwith = people_requests("with", &with);
	ck_assert_uint_eq(nwith, 4);
	for (i = 0; i < nwith; i++) {
		if (strstr(with[i], seed_b) != NULL) {
			/* Nobody wrote of b: its requests are as they were. */
			ck_assert_ptr_null(strstr(with[i], "<people>"));
			ck_assert_msg(people_has(old, nold, with[i]), "a "
			    "request changed:\n%s", with[i]);
			nb++;
			continue;
		}
		ck_assert_ptr_nonnull(strstr(with[i], seed_a));
		ck_assert_ptr_nonnull(strstr(with[i], "<people>\n<person>\n"
		    "<input>Review: A long film, but I loved it.\nSentiment:"
		    "</input>\n<output>I would say it is positive, because "
		    "that fits the text best.</output>\n<comment>Too long. I "
		    "only want the label.</comment>\n</person>\n</people>\n\n"
		    "Study each wrong answer"));
		/* Without the block, it is the old request. */
		p = strstr(with[i], "People who used this prompt");
		q = strstr(with[i], "</people>\n\n");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(q);
		strip = xasprintf("%.*s%s", (int)(p - with[i]), with[i],
		    q + strlen("</people>\n\n"));
		ck_assert_msg(people_has(old, nold, strip), "%s", strip);
		free(strip);
		na++;
	}
	ck_assert_uint_eq(na, 2);
	ck_assert_uint_eq(nb, 2);
	/* The edits of a's critiques say they were written with them. */
	ck_assert_int_ge((int)query(db, "SELECT count(*) FROM lineage l JOIN "
	    "candidates c ON c.id = l.parent WHERE l.operator = "
	    "'protegi-edit' AND c.text LIKE 'Classify the sentiment%' AND "
	    "l.note = 'The prompt is vague.' || char(10) || '(written with "
	    "people''s critiques: interaction 1)'"), 1);
	ck_assert_int_eq((int)query(db, "SELECT count(*) FROM lineage l JOIN "
	    "candidates c ON c.id = l.parent WHERE c.text LIKE 'Decide%' "
	    "AND l.note LIKE '%people%'"), 0);
	job_free(job);
	free(db);

	/* Turned off, nothing changes. */
	job = people_job("off", "opt", ", \"steps\": 1, \"gradients\": 2, "
	    "\"human_critiques\": 0");
	db = xasprintf("%s/off.db", tmp);
	people_put(db, "k1", "Too long. I only want the label.");
	run(job, db, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	noff = people_requests("off", &off);
	ck_assert_uint_eq(noff, 4);
	for (i = 0; i < noff; i++)
		ck_assert_msg(people_has(old, nold, off[i]), "%s", off[i]);
	job_free(job);
	free(db);
	people_free(old, nold);
	people_free(with, nwith);
	people_free(off, noff);
}
END_TEST

/*
 * With the simulated optimizer, people who find the answers of a prompt
 * too long get critiques of it that ask for only the label, where the
 * optimizer alone names that now and then, and edits that follow them.
 */
#define PEOPLE_EDGES	"FROM lineage l JOIN candidates c ON c.id = "	\
	"l.child JOIN candidates p ON p.id = l.parent WHERE "		\
	"l.operator = 'protegi-edit' AND p.text LIKE "			\
	"'Classify the sentiment%'"

START_TEST(test_human_critiques_change_proposals)
{
	struct result	 r;
	struct job	*job;
	char		*db;
	double		 named[2], bare[2];
	int		 k;

	for (k = 0; k < 2; k++) {
		job = people_job(k ? "simw" : "simo", "sim",
		    ", \"steps\": 1, \"gradients\": 8");
		db = xasprintf("%s/sim%d.db", tmp, k);
		if (k)
			people_put(db, "k1", "Too long. I only want the "
			    "label.");
		run(job, db, 1000, &r);
		ck_assert_str_eq(r.status, "done");
		named[k] = query(db, "SELECT avg(l.note LIKE '%answer with "
		    "only the label%') " PEOPLE_EDGES);
		bare[k] = query(db, "SELECT count(*) " PEOPLE_EDGES " AND "
		    "c.text LIKE '%only the label%'");
		if (k)
			ck_assert_int_eq((int)query(db, "SELECT count(*) "
			    PEOPLE_EDGES " AND l.note NOT LIKE '%(written "
			    "with people''s critiques: interaction 1)'"), 0);
		job_free(job);
		free(db);
	}
	ck_assert_msg(named[1] >= 0.8 && named[0] <= 0.2, "critiques asking "
	    "for only the label: %.2f with people's critiques, %.2f without",
	    named[1], named[0]);
	ck_assert_msg(bare[1] >= 1, "no edit asks for only the label");
}
END_TEST

/*
 * A resumed run reads the critiques its run started with: one ingested
 * after the start waits for the next run, and nothing is paid twice.
 */
START_TEST(test_human_critiques_resume)
{
	struct result	 r;
	struct job	*job;
	char		**req, *db;
	size_t		 n, i, shown = 0;

	job = people_job("resume", "opt", ", \"steps\": 2, \"gradients\": "
	    "2");
	db = xasprintf("%s/resume.db", tmp);
	people_put(db, "k1", "Too long. I only want the label.");
	run(job, db, 1, &r);
	ck_assert_str_eq(r.status, "interrupted");
	people_put(db, "k2", "Came in late.");
	run(job, db, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_eq((int)query(db, "SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq((int)query(db, "SELECT count(*) FROM (SELECT "
	    "cache_key FROM calls WHERE status = 'ok' GROUP BY cache_key "
	    "HAVING count(*) > 1)"), 0);
	n = people_requests("resume", &req);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_null(strstr(req[i], "Came in late."));
		shown += strstr(req[i], "Too long.") != NULL;
	}
	ck_assert_uint_gt(shown, 0);
	people_free(req, n);
	job_free(job);
	free(db);
}
END_TEST

/* A checkpoint that does not fit the job is refused with a reason. */
START_TEST(test_resume_refused)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct result		 r;
	struct job		*job;
	sqlite3			*h;
	char			*path, *cause = NULL;

	path = example_job("sentiment", "{ \"name\": \"reflect\", \"mode\": "
	    "\"gepa\", \"steps\": 3 }");
	job = load(path);
	run(job, dbpath, 1, &r);
	ck_assert_str_eq(r.status, "interrupted");
	job_free(job);
	free(path);

	/* The job file now asks for another mode. */
	path = example_job("sentiment", "{ \"name\": \"reflect\", \"mode\": "
	    "\"opro\", \"steps\": 3 }");
	job = load(path);
	store = store_open(dbpath, &cause);
	loop = engine_loop_new(store);
	ck_assert_int_eq(jobrun_start(&jr, job, loop, "optimize", &cause), -1);
	ck_assert_msg(strstr(cause, "the run was in mode 'gepa' and the job "
	    "now asks for 'opro'") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	jobrun_release(&jr);
	job_free(job);
	free(path);

	/* A checkpoint naming a candidate the run does not have. */
	ck_assert_int_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "UPDATE runs SET state = json_set("
	    "state, '$.strategy.set[0].id', 9999)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	path = example_job("sentiment", "{ \"name\": \"reflect\", \"mode\": "
	    "\"gepa\", \"steps\": 3 }");
	job = load(path);
	ck_assert_int_eq(jobrun_start(&jr, job, loop, "optimize", &cause), -1);
	ck_assert_msg(strstr(cause, "candidate 9999 is not among the run's "
	    "candidates") != NULL, "%s", cause);
	free(cause);
	jobrun_release(&jr);
	job_free(job);
	free(path);
	engine_loop_free(loop);
	store_close(store);
}
END_TEST

/* GEPA's merge combines two lineages into a child of both. */
START_TEST(test_gepa_merge)
{
	struct result	 r;
	struct job	*job;
	char		*path;

	path = example_job("rewrite", "{ \"name\": \"reflect\", \"mode\": "
	    "\"gepa\", \"merge\": true }");
	job = load(path);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_ge((int)query(dbpath, "SELECT count(*) FROM (SELECT "
	    "child FROM lineage WHERE operator = 'gepa-merge' GROUP BY child "
	    "HAVING count(*) = 2)"), 1);
	ck_assert_double_gt(query(dbpath, CHAMPION), query(dbpath, SEED_BEST) +
	    0.05);
	job_free(job);
	free(path);
}
END_TEST

/*
 * search_score_on(): a minibatch from train and dev, with the metric's
 * feedback; asked again, it costs nothing.
 */
START_TEST(test_score_on)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct run_totals	 t0, t1, t2;
	struct search_score	 res[2 * 6];
	struct search		*s;
	struct job		*job;
	size_t			 ex[6], i, wrong = 0;
	char			*cause = NULL;

	job = sentiment_job("{ \"name\": \"reflect\", \"mode\": \"gepa\" }",
	    0);
	store = store_open(dbpath, &cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	s = &jr.search;
	ck_assert_ptr_nonnull(search_add(s, "Answer with only the label: "
	    "positive or negative.", "test", NULL, 0, NULL, NULL, &cause));
	ck_assert_int_eq((int)s->ncands, 2);
	for (i = 0; i < 3; i++) {
		ex[i] = s->train[i];
		ex[3 + i] = s->dev[i];
	}
	engine_totals(jr.engine, &t0);
	ck_assert_int_eq(search_score_on(s, s->cands, 2, ex, 6, res, &cause),
	    0);
	engine_totals(jr.engine, &t1);
	ck_assert_int_eq((int)(t1.calls - t0.calls), 12);
	for (i = 0; i < 12; i++) {
		ck_assert(!isnan(res[i].score));
		ck_assert_ptr_nonnull(res[i].output);
		if (res[i].score < 1) {
			wrong++;
			ck_assert_ptr_nonnull(res[i].feedback);
		}
	}
	ck_assert_int_gt((int)wrong, 0);	/* the seed answers in prose */
	/* Dev results are the candidate's; its summary is left alone. */
	ck_assert_int_eq((int)s->cands[1]->nscored, 3);
	ck_assert(s->cands[1]->scores[0] == res[6 + 3].score);
	search_scores_release(res, 12);
	/* Again: nothing is paid, nothing is asked of the cache. */
	ck_assert_int_eq(search_score_on(s, s->cands, 2, ex, 6, res, &cause),
	    0);
	engine_totals(jr.engine, &t2);
	ck_assert_int_eq((int)(t2.calls - t1.calls), 0);
	ck_assert_int_eq((int)(t2.hits - t1.hits), 0);
	search_scores_release(res, 12);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
}
END_TEST

/*
 * pe2's requests, through an exec optimizer that keeps every request it
 * is sent (one file each, numbered) and answers each with a new prompt
 * that tells the target to answer nonsense, so that every edit does
 * worse than the seed.
 */
static const char *const pe2_seed = "You are an expert film critic. Read "
    "the whole review carefully and decide whether it is positive or "
    "negative. Answer with only the label.";

static struct job *
pe2_job(const char *name, const char *params)
{
	struct job	*job;
	char		*p, *text, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/' && "
	    "mkdir -p '%s/%s'", TEST_SRCDIR, tmp, tmp, name);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	p = xasprintf("%s/pe2.sh", tmp);
	write_file(p, "n=$(ls \"$1\" | wc -l)\n"
	    "n=$((n + 1))\n"
	    "cat >\"$1/r.$n\"\n"
	    "echo \"<reasoning>The <prompt>seed</prompt> is vague."
	    "</reasoning><prompt>Reply with the single word banana, "
	    "version $n.</prompt>\"\n");
	free(p);
	text = xasprintf("{ \"name\": \"e\", \"description\": \"Classify the "
	    "sentiment of a movie review.\", \"task\": { \"dataset\": "
	    "\"reviews.jsonl\", \"input\": \"Review: {{text}}\\nSentiment:\","
	    " \"target\": \"label\", \"metric\": { \"type\": \"exact\","
	    " \"normalize\": [\"case\", \"punctuation\"] }, \"splits\": {"
	    " \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3, \"seed\": 7 } },"
	    " \"seed_prompts\": [\"%s\", \"%s\"], \"backends\": { \"sim\": {"
	    " \"type\": \"sim\" }, \"opt\": { \"type\": \"exec\", \"command\":"
	    " [\"/bin/sh\", \"%s/pe2.sh\", \"%s/%s\"] } }, \"roles\": {"
	    " \"target\": \"sim\", \"optimizer\": \"opt\" }, \"strategy\": {"
	    " \"name\": \"reflect\", \"mode\": \"pe2\", \"steps\": 4%s } }",
	    seed_a, pe2_seed, tmp, tmp, name, params);
	p = xasprintf("%s/%s.json", tmp, name);
	write_file(p, text);
	free(text);
	job = load(p);
	free(p);
	return job;
}

/* The user message of request k (1, 2, ...) of run name. */
static char *
pe2_request(const char *name, int k)
{
	cJSON		*req;
	char		*path, *text = NULL, *cause = NULL, *c;

	path = xasprintf("%s/%s/r.%d", tmp, name, k);
	ck_assert_msg(file_read(path, 1 << 22, &text, NULL, &cause) == 0,
	    "%s", cause);
	free(path);
	req = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(req);
	c = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(req, "messages"), 0),
	    "content")));
	cJSON_Delete(req);
	return c;
}

/* The text of the current prompt of a request: its first <prompt>. */
static char *
pe2_current(const char *req)
{
	const char	*p, *e;

	p = strstr(req, "# The current prompt");
	ck_assert_ptr_nonnull(p);
	p = strchr(strstr(p, "<prompt"), '>') + 1;
	e = strstr(p, "</prompt>");
	ck_assert_ptr_nonnull(e);
	return xstrndup(p, (size_t)(e - p));
}

static int
count_of(const char *s, const char *what)
{
	int	n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/*
 * The request holds the paper's three parts, a batch of at most "batch"
 * errors and the history of earlier prompts with their scores; the
 * answer's <reasoning> is not read as a prompt.
 */
START_TEST(test_pe2_request)
{
	struct result	 r;
	struct job	*job;
	char		*q, *v;
	int		 k;

	job = pe2_job("req", ", \"batch\": 2, \"history\": 2");
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_eq(r.asks, 4);
	for (k = 1; k <= 4; k++) {
		q = pe2_request("req", k);
		/* The two-step task description. */
		ck_assert_ptr_nonnull(strstr(q, "in two steps. First, inspect "
		    "the current prompt and a batch of inputs"));
		ck_assert_ptr_nonnull(strstr(q, "Second, from what you found, "
		    "hypothesize what the prompt is missing"));
		/* The context specification: a system message here. */
		ck_assert_ptr_nonnull(strstr(q, "# Context specification\n"
		    "The prompt is the system message."));
		/* The reasoning template. */
		ck_assert_ptr_nonnull(strstr(q, "- Is the output correct?"));
		ck_assert_ptr_nonnull(strstr(q, "- If not, why not?"));
		ck_assert_ptr_nonnull(strstr(q, "- Which part of the prompt "
		    "led the model to it"));
		/* The errors: at most two, each with its expected answer. */
		ck_assert_ptr_nonnull(strstr(q, "<errors>"));
		ck_assert_int_ge(count_of(q, "<expected>"), 1);
		ck_assert_int_le(count_of(q, "<expected>"), 2);
		/*
		 * The history: the prompts tried before, at most two (the
		 * other seed is one), beside the current one.
		 */
		ck_assert_ptr_nonnull(strstr(q, "# Previous prompts and their "
		    "scores"));
		ck_assert_int_eq(count_of(q, "<prompt score=\""), 1 +
		    (k == 1 ? 1 : 2));
		if (k == 1)
			ck_assert_ptr_null(strstr(q, "banana"));
		else {
			v = xasprintf("banana, version %d.</prompt>", k - 1);
			ck_assert_msg(strstr(q, v) != NULL, "request %d: no "
			    "%s", k, v);
			free(v);
		}
		free(q);
	}
	/* Only the prompts: "seed" inside <reasoning> is not one. */
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM candidates "
	    "WHERE text = 'seed'"), 0);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM candidates "
	    "WHERE text LIKE 'Reply with the single word banana%'"), 4);
	job_free(job);
}
END_TEST

/*
 * Back-tracking: every edit does worse than the best seed, so every
 * request edits that seed again; without it each request edits the
 * previous answer.
 */
START_TEST(test_pe2_backtrack)
{
	struct result	 r;
	struct job	*job;
	char		*q, *cur, *best, *v;
	int		 k;

	job = pe2_job("bt", "");
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	best = query_text(dbpath, "SELECT c.text FROM candidates c JOIN "
	    "evaluations e ON e.candidate_id = c.id JOIN examples x ON "
	    "x.id = e.example_id WHERE x.split = 'dev' AND c.origin = 'seed' "
	    "GROUP BY c.id ORDER BY avg(e.score) DESC, c.id LIMIT 1");
	ck_assert_ptr_nonnull(best);
	ck_assert_double_lt(query(dbpath, "SELECT max(a) FROM (SELECT "
	    "avg(e.score) a FROM evaluations e JOIN candidates c ON c.id = "
	    "e.candidate_id JOIN examples x ON x.id = e.example_id WHERE "
	    "x.split = 'dev' AND c.text LIKE '%banana%' GROUP BY c.id)"),
	    query(dbpath, SEED_BEST));
	for (k = 1; k <= 4; k++) {
		q = pe2_request("bt", k);
		cur = pe2_current(q);
		ck_assert_str_eq(cur, best);
		free(cur);
		free(q);
	}
	free(best);
	job_free(job);

	unlink(dbpath);
	job = pe2_job("nobt", ", \"backtrack\": false");
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	for (k = 2; k <= 4; k++) {
		q = pe2_request("nobt", k);
		cur = pe2_current(q);
		v = xasprintf("Reply with the single word banana, version %d.",
		    k - 1);
		ck_assert_str_eq(cur, v);
		free(v);
		free(cur);
		free(q);
	}
	job_free(job);
}
END_TEST

/*
 * mcts, the PromptAgent strategy written with reflect's helpers: it beats
 * the seeds on every bundled task, its tree is the lineage, its requests
 * show what the paper's do, and its checkpoint resumes it.
 */
START_TEST(test_mcts_improves)
{
	improves("{ \"name\": \"mcts\" }", 0.05, 1);
}
END_TEST

/* A member of node k of the checkpoint's tree, as a number. */
static double
mcts_node(const cJSON *nodes, int k, const char *name)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    nodes, k), name));
}

/*
 * The checkpoint's tree: the root is the best seed, every other node is
 * a child of its parent in the lineage (operator mcts-expand, the
 * feedback as a note) one level deeper, each path traced starts at the
 * root and goes down from parent to child, and every iteration backed
 * up a reward to the root.
 */
START_TEST(test_mcts_tree)
{
	struct result	 r;
	struct job	*job;
	cJSON		*state, *st, *nodes, *paths, *p;
	char		*path, *text, *sql;
	int		 k, j, n, parent, prev;

	path = example_job("rewrite", "{ \"name\": \"mcts\", \"iterations\": "
	    "6 }");
	job = load(path);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_eq(r.steps, 6);
	text = query_text(dbpath, "SELECT state FROM runs");
	ck_assert_ptr_nonnull(state = cJSON_Parse(text));
	free(text);
	st = cJSON_GetObjectItem(state, "strategy");
	nodes = cJSON_GetObjectItem(st, "nodes");
	n = cJSON_GetArraySize(nodes);
	ck_assert_int_gt(n, 3);
	ck_assert_int_eq((int)mcts_node(nodes, 0, "parent"), -1);
	ck_assert_int_eq((int)mcts_node(nodes, 0, "q_n"), 6);
	sql = xasprintf("SELECT count(*) FROM candidates WHERE id = %d AND "
	    "origin = 'seed' AND id = (SELECT c.id FROM candidates c JOIN "
	    "evaluations e ON e.candidate_id = c.id JOIN examples x ON x.id = "
	    "e.example_id WHERE x.split = 'dev' AND c.origin = 'seed' GROUP "
	    "BY c.id ORDER BY avg(e.score) DESC, c.id LIMIT 1)",
	    (int)mcts_node(nodes, 0, "id"));
	ck_assert_int_eq((int)query(dbpath, sql), 1);
	free(sql);
	for (k = 1; k < n; k++) {
		parent = (int)mcts_node(nodes, k, "parent");
		ck_assert_int_ge(parent, 0);
		ck_assert_int_lt(parent, k);
		ck_assert_int_eq((int)mcts_node(nodes, k, "depth"),
		    (int)mcts_node(nodes, parent, "depth") + 1);
		ck_assert_int_le((int)mcts_node(nodes, k, "depth"), 8);
		sql = xasprintf("SELECT count(*) FROM lineage WHERE child = %d "
		    "AND parent = %d AND operator = 'mcts-expand' AND note <> "
		    "''", (int)mcts_node(nodes, k, "id"),
		    (int)mcts_node(nodes, parent, "id"));
		ck_assert_msg(query(dbpath, sql) == 1, "node %d: %s", k, sql);
		free(sql);
	}
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st,
	    "minibatch")), 16);
	paths = cJSON_GetObjectItem(st, "paths");
	ck_assert_int_eq(cJSON_GetArraySize(paths), 6);
	cJSON_ArrayForEach(p, paths) {
		prev = -1;
		for (j = 0; j < cJSON_GetArraySize(p); j++) {
			k = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(p, j));
			ck_assert_int_eq(j == 0 ? 0 : (int)mcts_node(nodes, k,
			    "parent"), j == 0 ? k : prev);
			prev = k;
		}
	}
	/* Different batches of errors gave different feedback. */
	ck_assert_int_ge((int)query(dbpath, "SELECT count(DISTINCT note) FROM "
	    "lineage WHERE operator = 'mcts-expand'"), 2);
	cJSON_Delete(state);
	job_free(job);
	free(path);
}
END_TEST

/*
 * mcts's requests, through an exec optimizer that keeps every request it
 * is sent (one file each, numbered) and answers a feedback request with
 * a critique and an edit request with a prompt that tells the target to
 * answer nonsense; one batch an expansion, so requests go one at a time.
 */
static struct job *
mcts_job(const char *name)
{
	struct job	*job;
	char		*p, *text, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/' && "
	    "mkdir -p '%s/%s'", TEST_SRCDIR, tmp, tmp, name);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	p = xasprintf("%s/mcts.sh", tmp);
	write_file(p, "n=$(ls \"$1\" | wc -l)\n"
	    "n=$((n + 1))\n"
	    "cat >\"$1/r.$n\"\n"
	    "if grep -q 'sum up every aspect' \"$1/r.$n\"; then\n"
	    "echo \"Here goes. <Critique>The prompt is vague, reply $n."
	    "</Critique>\"\n"
	    "else\n"
	    "echo \"<prompt>Reply with the single word banana, reply $n."
	    "</prompt>\"\n"
	    "fi\n");
	free(p);
	text = xasprintf("{ \"name\": \"m\", \"description\": \"Classify the "
	    "sentiment of a movie review.\", \"task\": { \"dataset\": "
	    "\"reviews.jsonl\", \"input\": \"Review: {{text}}\\nSentiment:\","
	    " \"target\": \"label\", \"metric\": { \"type\": \"exact\","
	    " \"normalize\": [\"case\", \"punctuation\"] }, \"splits\": {"
	    " \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3, \"seed\": 7 } },"
	    " \"seed_prompts\": [\"%s\"], \"backends\": { \"sim\": {"
	    " \"type\": \"sim\" }, \"opt\": { \"type\": \"exec\", \"command\":"
	    " [\"/bin/sh\", \"%s/mcts.sh\", \"%s/%s\"] } }, \"roles\": {"
	    " \"target\": \"sim\", \"optimizer\": \"opt\" }, \"strategy\": {"
	    " \"name\": \"mcts\", \"width\": 1, \"iterations\": 2, "
	    "\"errors\": 3 } }", seed_a, tmp, tmp, name);
	p = xasprintf("%s/%s.json", tmp, name);
	write_file(p, text);
	free(text);
	job = load(p);
	free(p);
	return job;
}

/*
 * The feedback request shows the prompt and its errors; the edit request
 * shows the same errors, the feedback written from them and the path of
 * prompts from the root to the one edited; the edit is a child of that
 * prompt with the feedback as its note.
 */
START_TEST(test_mcts_requests)
{
	struct result	 r;
	struct job	*job;
	const char	*e;
	char		*q[5], *v, *sql;
	int		 k;

	job = mcts_job("req");
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_ge(r.asks, 4);
	ck_assert_int_eq(r.asks % 2, 0);
	for (k = 1; k <= 4; k++)
		q[k] = pe2_request("req", k);
	/* A feedback request: the root, one to three errors. */
	v = xasprintf("My current prompt is:\n<prompt>%s</prompt>", seed_a);
	ck_assert_ptr_nonnull(strstr(q[1], v));
	free(v);
	ck_assert_ptr_nonnull(strstr(q[1], "<errors>"));
	ck_assert_int_ge(count_of(q[1], "<expected>"), 1);
	ck_assert_int_le(count_of(q[1], "<expected>"), 3);
	ck_assert_ptr_nonnull(strstr(q[1], "named \"critique\""));
	/* Its edit: the same errors, the feedback, the path (the root). */
	e = strstr(q[1], "<errors>");
	v = xstrndup(e, (size_t)(strstr(e, "</errors>") - e));
	ck_assert_ptr_nonnull(strstr(q[2], v));
	free(v);
	ck_assert_ptr_nonnull(strstr(q[2], "<critique>The prompt is vague, "
	    "reply 1.</critique>"));
	v = xasprintf("it:\n<prompt>%s</prompt>\n\nFrom all", seed_a);
	ck_assert_msg(strstr(q[2], v) != NULL, "%s", q[2]);
	free(v);
	/* The child's turn: its feedback, then its edit with the path. */
	ck_assert_ptr_nonnull(strstr(q[3], "<prompt>Reply with the single "
	    "word banana, reply 2.</prompt>"));
	ck_assert_ptr_nonnull(strstr(q[4], "<critique>The prompt is vague, "
	    "reply 3.</critique>"));
	v = xasprintf("it:\n<prompt>%s</prompt>\n<prompt>Reply with the "
	    "single word banana, reply 2.</prompt>\n\nFrom all", seed_a);
	ck_assert_msg(strstr(q[4], v) != NULL, "%s", q[4]);
	free(v);
	for (k = 1; k <= 4; k++)
		free(q[k]);
	/* The tree in the lineage, each edit from its feedback. */
	sql = xasprintf("SELECT count(*) FROM lineage l JOIN candidates c ON "
	    "c.id = l.child JOIN candidates p ON p.id = l.parent WHERE "
	    "l.operator = 'mcts-expand' AND c.text = 'Reply with the single "
	    "word banana, reply 2.' AND p.text = '%s' AND l.note = 'The prompt "
	    "is vague, reply 1.'", seed_a);
	ck_assert_int_eq((int)query(dbpath, sql), 1);
	free(sql);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM lineage l "
	    "JOIN candidates c ON c.id = l.child JOIN candidates p ON p.id = "
	    "l.parent WHERE c.text = 'Reply with the single word banana, "
	    "reply 4.' AND p.text = 'Reply with the single word banana, "
	    "reply 2.' AND l.note = 'The prompt is vague, reply 3.'"), 1);
	job_free(job);
}
END_TEST

/* Bad parameters are reported with their positions. */
START_TEST(test_mcts_parameters)
{
	struct job	*job;
	char		*p, *cause = NULL, *cmd;

	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/'",
	    TEST_SRCDIR, tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	p = xasprintf("%s/bad.json", tmp);
	write_file(p,
	    "{ \"name\": \"p\", \"task\": { \"dataset\": \"reviews.jsonl\",\n"
	    "  \"input\": \"Review: {{text}}\", \"target\": \"label\",\n"
	    "  \"metric\": \"exact\" }, \"seed_prompts\": [\"Classify.\"],\n"
	    "  \"backends\": { \"sim\": { \"type\": \"sim\" } },\n"
	    "  \"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },\n"
	    "  \"strategy\": { \"name\": \"mcts\",\n"
	    "    \"width\": 0,\n"
	    "    \"c\": -1,\n"
	    "    \"depth\": \"4\",\n"
	    "    \"minibatch\": 2.5,\n"
	    "    \"iteration\": 3 } }\n");
	job = job_load(p, NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(cause);
#define HAS(s)	ck_assert_msg(strstr(cause, s) != NULL, "no '%s' in: %s", s, \
	    cause)
	HAS("bad.json:7:14: strategy.width: 0 is out of range (expected 1 to "
	    "32)");
	HAS("bad.json:8:10: strategy.c: -1 is out of range (expected 0 to "
	    "100)");
	HAS("bad.json:9:14: strategy.depth: expected an integer");
	HAS("bad.json:10:18: strategy.minibatch: expected an integer");
	HAS("bad.json:11:5: strategy.iteration: unknown key (did you mean "
	    "'iterations'?)");
#undef HAS
	free(cause);
	free(p);
}
END_TEST

/*
 * Interrupted after two iterations, the tree as loaded saves as it was
 * saved, and the resumed run ends where an uninterrupted one does,
 * paying nothing twice; a checkpoint naming a candidate the run does not
 * have, or a parent after its child, is refused.
 */
START_TEST(test_mcts_resume)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct result		 r;
	struct job		*job;
	cJSON			*saved, *again;
	char			*path, *state, *cause = NULL, *db1, *a, *b;

	path = example_job("arith", "{ \"name\": \"mcts\", \"iterations\": "
	    "5 }");
	job = load(path);
	db1 = xasprintf("%s/whole.db", tmp);
	run(job, db1, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	run(job, dbpath, 2, &r);
	ck_assert_str_eq(r.status, "interrupted");
	state = query_text(dbpath, "SELECT state FROM runs");
	ck_assert_ptr_nonnull(saved = cJSON_Parse(state));
	free(state);
	store = store_open(dbpath, &cause);
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	ck_assert_int_eq(jr.search.step, 2);
	again = jr.search.ops->save(&jr.search);
	ck_assert(cJSON_Compare(again, cJSON_GetObjectItem(saved, "strategy"),
	    1));
	cJSON_Delete(again);
	cJSON_Delete(saved);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_eq(r.steps, 5);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM (SELECT "
	    "cache_key FROM calls WHERE status = 'ok' GROUP BY cache_key "
	    "HAVING count(*) > 1)"), 0);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM candidates"),
	    (int)query(db1, "SELECT count(*) FROM candidates"));
	a = query_text(db1, "SELECT c.text FROM champions h JOIN candidates c "
	    "ON c.id = h.candidate_id");
	b = query_text(dbpath, "SELECT c.text FROM champions h JOIN "
	    "candidates c ON c.id = h.candidate_id");
	ck_assert_msg(a != NULL && b != NULL && strcmp(a, b) == 0, "the "
	    "resumed run ends elsewhere:\n%s\n%s", a, b);
	free(a);
	free(b);
	free(db1);

	/* Broken checkpoints of an open run. */
	unlink(dbpath);
	run(job, dbpath, 2, &r);
	store = store_open(dbpath, &cause);
	loop = engine_loop_new(store);
	check_exec_sql(dbpath, "UPDATE runs SET state = json_set(state, "
	    "'$.strategy.nodes[1].id', 9999)");
	ck_assert_int_eq(jobrun_start(&jr, job, loop, "optimize", &cause), -1);
	ck_assert_msg(strstr(cause, "mcts checkpoint: candidate 9999 is not "
	    "among the run's candidates") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	jobrun_release(&jr);
	check_exec_sql(dbpath, "UPDATE runs SET state = json_set(state, "
	    "'$.strategy.nodes[1].id', json_extract(state, "
	    "'$.strategy.nodes[0].id'), '$.strategy.nodes[1].parent', 1)");
	ck_assert_int_eq(jobrun_start(&jr, job, loop, "optimize", &cause), -1);
	ck_assert_msg(strstr(cause, "mcts checkpoint: 'parent' is missing or "
	    "out of range") != NULL, "%s", cause);
	free(cause);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
	free(path);
}
END_TEST

/* Optimizer replies without tags: retried, counted, nothing promoted. */
START_TEST(test_mcts_malformed_replies)
{
	struct result	 r;
	struct job	*job;

	job = sentiment_job("{ \"name\": \"mcts\", \"iterations\": 2 }", 1);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_gt(r.asks, 0);
	ck_assert_int_eq(r.failed_asks, 3 * r.asks);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM candidates"),
	    1);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM champions"),
	    0);
	ck_assert_int_eq((int)query(dbpath, "SELECT count(*) FROM jobs WHERE "
	    "state = 'done' AND reason LIKE 'no usable proposals (%'"), 1);
	job_free(job);

	/* Half of them: the repair turns carry the search on. */
	unlink(dbpath);
	job = sentiment_job("{ \"name\": \"mcts\", \"iterations\": 3 }", 0.5);
	run(job, dbpath, 1000, &r);
	ck_assert_str_eq(r.status, "done");
	ck_assert_int_gt((int)query(dbpath, "SELECT count(*) FROM lineage "
	    "WHERE operator = 'mcts-expand'"), 2);
	job_free(job);
}
END_TEST

static Suite *
reflect_suite(void)
{
	Suite	*s = suite_create("reflect");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_protegi_improves);
	tcase_add_test(tc, test_protegi_sr_improves);
	tcase_add_test(tc, test_gepa_improves);
	tcase_add_test(tc, test_opro_improves);
	tcase_add_test(tc, test_spo_improves);
	tcase_add_test(tc, test_pe2_improves);
	tcase_add_test(tc, test_spo_without_targets);
	tcase_add_test(tc, test_lineage_notes);
	tcase_add_test(tc, test_malformed_replies);
	tcase_add_test(tc, test_some_malformed_replies);
	tcase_add_test(tc, test_parameter_errors);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_resume_refused);
	tcase_add_test(tc, test_gepa_merge);
	tcase_add_test(tc, test_score_on);
	suite_add_tcase(s, tc);
	/* People's critiques, on their own: CK_RUN_CASE=people. */
	tc = tcase_create("people");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_human_critiques);
	tcase_add_test(tc, test_human_critiques_resume);
	tcase_add_test(tc, test_human_critiques_change_proposals);
	suite_add_tcase(s, tc);
	/* pe2's requests and back-tracking: CK_RUN_CASE=pe2. */
	tc = tcase_create("pe2");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pe2_request);
	tcase_add_test(tc, test_pe2_backtrack);
	suite_add_tcase(s, tc);
	/* The mcts strategy, on reflect's helpers: CK_RUN_CASE=mcts. */
	tc = tcase_create("mcts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mcts_improves);
	tcase_add_test(tc, test_mcts_tree);
	tcase_add_test(tc, test_mcts_requests);
	tcase_add_test(tc, test_mcts_parameters);
	tcase_add_test(tc, test_mcts_resume);
	tcase_add_test(tc, test_mcts_malformed_replies);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(reflect_suite)
