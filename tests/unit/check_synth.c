/*
 * Tests for synthetic examples (jobrun_synth.c): the labeler's answer
 * read from messy replies (reply_read_answer(), reply_no_answer()), the
 * generator's inputs read from messy replies (reply_read() for <input>,
 * jobrun_synth_inputs()), labels spelled as the task spells them, and a
 * whole round against an in-process optimizer and judge that answer as
 * untidily as real models do: what is kept, labeled and dropped, and
 * why, the examples the run goes on with (never in test) and the next
 * run's round; and the store's side (schema 18 from 17, the rows).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "backend.h"
#include "check_common.h"
#include "dataset.h"
#include "engine.h"
#include "ingest.h"
#include "job.h"
#include "jobrun.h"
#include "reply.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

START_TEST(test_label_replies)
{
	static const struct {
		const char		*reply;
		enum reply_outcome	 outcome;
		const char		*answer;	/* NULL: none */
	} cases[] = {
		{ "<answer>positive</answer>", REPLY_USABLE, "positive" },
		{ "Let me think.\n\n<Answer>\n  Negative.\n</ANSWER>",
		    REPLY_USABLE, "Negative" },
		{ "<think>hmm, <answer>x</answer>?</think>The review is "
		    "mixed but leans warm.\n<answer>positive", REPLY_USABLE,
		    "positive" },
		{ "```\n<answer>42</answer>\n```", REPLY_USABLE, "42" },
		{ "<answer>\"positive\"</answer>", REPLY_USABLE, "positive" },
		{ "The review praises the cast.\n\n**Answer:** positive",
		    REPLY_USABLE, "positive" },
		{ "Working through it: 3 + 4 = 7.\nThe correct answer is 7.",
		    REPLY_USABLE, "7" },
		{ "Final answer - B", REPLY_USABLE, "B" },
		{ "<answer>B</answer>", REPLY_USABLE, "B" },
		{ "<answer>no</answer>", REPLY_USABLE, "no" },
		{ "Put it in <answer> or </answer>, so: <answer>yes</answer>",
		    REPLY_USABLE, "yes" },
		{ "<answer>negative</answer> No wait, the ending wins.\n"
		    "<answer>positive</answer>", REPLY_USABLE, "positive" },
		{ "### Label: negative\nBecause it complains.", REPLY_USABLE,
		    "negative" },
		{ "negative", REPLY_USABLE, "negative" },
		{ "Positive.", REPLY_USABLE, "Positive" },
		{ "<answer>The capital of France is Paris.</answer>",
		    REPLY_USABLE, "The capital of France is Paris." },
		{ "I'm sorry, but I can't determine the sentiment of this "
		    "review.", REPLY_REFUSED, NULL },
		{ "<answer>I cannot tell from this input.</answer>",
		    REPLY_REFUSED, NULL },
		{ "Answer: I'm unable to say.", REPLY_REFUSED, NULL },
		{ "The review talks about the actors, the music and the "
		    "long middle part, and many readers would weigh these "
		    "things in different ways.\nIt is a hard one.",
		    REPLY_UNREADABLE, NULL },
		{ "", REPLY_UNREADABLE, NULL },
		{ "<answer></answer>", REPLY_UNREADABLE, NULL },
		{ "<think>The answer is positive, surely", REPLY_UNREADABLE,
		    NULL },
	};
	struct reply_read	r;
	size_t			i;

	for (i = 0; i < nitems(cases); i++) {
		reply_read_answer(cases[i].reply, NULL, &r);
		ck_assert_msg(r.outcome == cases[i].outcome, "%zu: %s for %s",
		    i, reply_outcome_name(r.outcome), cases[i].reply);
		if (cases[i].answer == NULL)
			ck_assert_msg(r.n == 0, "%zu: read '%s'", i,
			    r.n > 0 ? r.items[0] : "");
		else {
			ck_assert_msg(r.n == 1, "%zu: nothing read", i);
			ck_assert_str_eq(r.items[0], cases[i].answer);
		}
		if (!reply_outcome_ok(r.outcome))
			ck_assert_ptr_nonnull(r.problem);
		reply_read_release(&r);
	}
	/* An answer the request showed is an echo, not a label. */
	reply_read_answer("<answer>positive</answer>", "Say it like "
	    "<answer>positive</answer>.", &r);
	ck_assert_int_eq(r.outcome, REPLY_ECHO);
	reply_read_release(&r);
}
END_TEST

START_TEST(test_no_answer)
{
	static const char *const none[] = { "unclear", "Unclear.",
	    "**Ambiguous**", "can't tell", "Cannot determine", "N/A", "?",
	    "unknown!", "not sure" };
	static const char *const some[] = { "positive", "no", "0",
	    "unclear wording", "Paris" };
	size_t	i;

	for (i = 0; i < nitems(none); i++)
		ck_assert_msg(reply_no_answer(none[i]), "%s", none[i]);
	for (i = 0; i < nitems(some); i++)
		ck_assert_msg(!reply_no_answer(some[i]), "%s", some[i]);
}
END_TEST

/* The inputs of a generator's reply for fields, one line each. */
static char *
read_inputs(const char *reply, const char *meta, const char *const *fields,
    size_t nfields, size_t *bad)
{
	struct reply_read	 r;
	const char		*why;
	cJSON			*o;
	char			*all = xstrdup(""), *s, *next;
	size_t			 i;

	*bad = 0;
	reply_read(reply, "input", meta, NULL, 0, 10, &r);
	for (i = 0; i < r.n; i++) {
		if ((o = jobrun_synth_inputs(fields, nfields, r.items[i],
		    &why)) == NULL) {
			(*bad)++;
			continue;
		}
		s = cJSON_PrintUnformatted(o);
		next = xasprintf("%s%s\n", all, s);
		free(s);
		free(all);
		all = next;
		cJSON_Delete(o);
	}
	reply_read_release(&r);
	return all;
}

START_TEST(test_generation_replies)
{
	static const char *const one[] = { "text" };
	static const char *const two[] = { "question", "context" };
	const char	*meta = "Examples:\n<example>\n<input>It was fine."
	    "</input>\n<answer>positive</answer>\n</example>\n"
	    "Put each input inside <input></input>.";
	char		*got;
	size_t		 bad;

	/*
	 * A preamble, odd case, labels, fences, quotes, an echo of an
	 * example, a repeat, an empty one and a last one left open.  An
	 * input given again under a label reads as the same inputs: the
	 * round stores it once (by the key of its inputs).
	 */
	got = read_inputs("Sure! Here are some tricky ones:\n\n"
	    "<INPUT>**Input 1:** The plot drags, yet I smiled.</INPUT>\n"
	    "<input>\n```\nInput 2: Loved the score, hated the ending.\n"
	    "```\n</input>\n"
	    "<Input id=\"3\">\"Not bad at all.\"</Input>\n"
	    "<input>It was fine.</input>\n"
	    "<input>The plot drags, yet I smiled.</input>\n"
	    "<input> </input>\n"
	    "<input>Example: {\"text\": \"A mess, but a fun one.\"}</input>\n"
	    "<input>{\"stars\": 2}</input>\n"
	    "<input>Two hours I will never get back, mostly", meta, one, 1,
	    &bad);
	ck_assert_str_eq(got,
	    "{\"text\":\"The plot drags, yet I smiled.\"}\n"
	    "{\"text\":\"Loved the score, hated the ending.\"}\n"
	    "{\"text\":\"Not bad at all.\"}\n"
	    "{\"text\":\"The plot drags, yet I smiled.\"}\n"
	    "{\"text\":\"A mess, but a fun one.\"}\n"
	    "{\"text\":\"{\\\"stars\\\": 2}\"}\n"
	    "{\"text\":\"Two hours I will never get back, mostly\"}\n");
	ck_assert_uint_eq(bad, 0);
	free(got);

	/* Several fields: a JSON object each, fenced or not; one without a
	 * field, and one that is no object, are left out. */
	got = read_inputs("<input>```json\n{\"question\": \"Who won?\", "
	    "\"context\": \"Both teams scored twice.\", \"answer\": \"x\"}\n"
	    "```</input>\n<input>{\"question\": \"Why?\"}</input>\n"
	    "<input>Who is taller? Ann or Bo.</input>\n"
	    "<input>Here: {\"context\": \"Ten apples.\", \"question\": 3}"
	    " as asked</input>", NULL, two, 2, &bad);
	ck_assert_str_eq(got,
	    "{\"question\":\"Who won?\",\"context\":\"Both teams scored "
	    "twice.\"}\n"
	    "{\"question\":3,\"context\":\"Ten apples.\"}\n");
	ck_assert_uint_eq(bad, 2);
	free(got);

	/* No element at all. */
	got = read_inputs("I would rather not write reviews.", NULL, one, 1,
	    &bad);
	ck_assert_str_eq(got, "");
	free(got);
}
END_TEST

START_TEST(test_label_spelling)
{
	const char	*choices = "[\"positive\",\"negative\",\"Mixed Bag\"]";
	char		*s;

	s = jobrun_synth_label(choices, "Positive");
	ck_assert_str_eq(s, "positive");
	free(s);
	s = jobrun_synth_label(choices, "**NEGATIVE**.");
	ck_assert_str_eq(s, "negative");
	free(s);
	s = jobrun_synth_label(choices, "mixed  bag");
	ck_assert_str_eq(s, "Mixed Bag");
	free(s);
	s = jobrun_synth_label(choices, "neutral");
	ck_assert_str_eq(s, "neutral");
	free(s);
	s = jobrun_synth_label(NULL, "Positive");
	ck_assert_str_eq(s, "Positive");
	free(s);
}
END_TEST

/*
 * An optimizer and judge in one, untidy: the generator's reply has a
 * preamble, odd tags and labels, an echo of a shown example and an
 * unreadable input; the judge answers each input in another form, or
 * declines, or cannot tell, or rambles.
 */
static int	messy_calls;

static int
messy_call(struct backend *b, const struct model_req *req,
    struct model_resp *resp, char **cause)
{
	const char	*text = req->msgs[0].content, *in;

	messy_calls++;
	if (strstr(text, "new inputs") != NULL)
		resp->text = xstrdup("Of course! Here you go.\n\n"
		    "<INPUT>**Input 1:** A great cast wasted on a thin plot"
		    "</INPUT>\n<input>An awful start, then it soars</input>\n"
		    "<input>Maybe the best film of the year, maybe not"
		    "</input>\n<Input>An unclear-case of a film</Input>\n"
		    "<input>Gibberish from start to end</input>\n"
		    "<input>Amazing acting, dull story.</input>\n"
		    "<input>A great cast wasted on a thin plot</input>");
	else if ((in = strstr(text, "<input>")) == NULL)
		resp->text = xstrdup("?");
	else if (strstr(in, "great cast") != NULL)
		resp->text = xstrdup("Thinking it over...\n<Answer>Positive"
		    "</Answer>");
	else if (strstr(in, "awful start") != NULL)
		resp->text = xstrdup("The ending wins.\n**Answer:** negative");
	else if (strstr(in, "Maybe") != NULL)
		resp->text = xstrdup("I'm sorry, but I can't label this "
		    "one.");
	else if (strstr(in, "unclear-case") != NULL)
		resp->text = xstrdup("<answer>Unclear.</answer>");
	else
		resp->text = xstrdup("This input has many aspects, and "
		    "readers would weigh them differently; it depends.");
	resp->prompt_tokens = 10;
	resp->completion_tokens = 10;
	return 0;
}

static const struct backend_ops messy_ops = {
	.name = "messy",
	.call = messy_call,
};

/* The synthetic rows of the database, "status:label-or-reason" each. */
static char *
rows_text(const char *db)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*all = xstrdup(""), *next;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT status,"
	    " coalesce(label, reason), who FROM synthetic ORDER BY id", -1,
	    &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		next = xasprintf("%s%s:%s:%s\n", all,
		    (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
		free(all);
		all = next;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return all;
}

/* The tiny dataset's job, the messy backend in the roles it plays. */
static struct job *
synth_job(struct backend *fb)
{
	struct job	*job;
	char		*path;
	FILE		*f;

	path = xasprintf("%s/tiny.jsonl", check_dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("{\"text\": \"Amazing acting, dull story.\", \"label\": "
	    "\"positive\"}\n{\"text\": \"A waste of a fine cast.\", "
	    "\"label\": \"negative\"}\n{\"text\": \"I smiled all the way "
	    "through.\", \"label\": \"positive\"}\n{\"text\": \"It never "
	    "finds its footing.\", \"label\": \"negative\"}\n", f);
	fclose(f);
	free(path);
	job = check_job(check_dir, "{ \"name\": \"syn\", \"description\":"
	    " \"Classify a review.\", \"task\": { \"dataset\": \"tiny.jsonl\","
	    " \"input\": \"Review: {{text}}\\nSentiment:\", \"target\":"
	    " \"label\", \"metric\": \"exact\", \"splits\": { \"train\":"
	    " 0.25, \"dev\": 0.5, \"test\": 0.25, \"seed\": 7 } },"
	    " \"seed_prompts\": [\"Classify the review.\"], \"backends\":"
	    " { \"sim\": { \"type\": \"sim\" } }, \"roles\": { \"target\":"
	    " \"sim\", \"optimizer\": \"sim\", \"judge\": \"sim\" },"
	    " \"strategy\": { \"name\": \"random\", \"attempts\": 2,"
	    " \"max_steps\": 1 },"
	    " \"synthetic\": { \"examples\": 8, \"until\": 20 } }");
	memset(fb, 0, sizeof *fb);
	fb->ops = &messy_ops;
	fb->name = xstrdup("messy");
	fb->identity = xstrdup("messy");
	fb->model = xstrdup("m");
	fb->temperature = -1;
	fb->batch = 1;
	fb->max_in_flight = 8;
	job->task.roles[ROLE_OPTIMIZER] = fb;
	job->task.roles[ROLE_JUDGE] = fb;
	return job;
}

static void
synth_job_free(struct job *job, struct backend *fb)
{
	job_free(job);
	free(fb->name);
	free(fb->identity);
	free(fb->model);
}

/* A run of job on check_db, to its end. */
static void
run_job(struct job *job)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	char			*cause = NULL;
	int			 rc;

	ck_assert_ptr_nonnull(store = store_open(check_db, &cause));
	loop = engine_loop_new(store);
	ck_assert_msg(jobrun_start(&jr, job, loop, "optimize", &cause) == 0,
	    "%s", cause);
	while ((rc = jobrun_step(&jr, &cause)) == 1)
		;
	ck_assert_msg(rc == 0, "%s", cause);
	ck_assert_msg(jobrun_finish(&jr, &cause) == 0, "%s", cause);
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
}

START_TEST(test_round_messy)
{
	struct backend	 fb;
	struct job	*job;
	char		*got;
	int		 calls;

	job = synth_job(&fb);
	messy_calls = 0;
	run_job(job);
	/*
	 * The copy of an example (an echo, when it was shown) and the
	 * repeat are left out; two inputs are labeled, in the task's
	 * spelling; the others are dropped with their reasons.
	 */
	got = rows_text(check_db);
	ck_assert_str_eq(got,
	    "labeled:positive:messy\n"
	    "labeled:negative:messy\n"
	    "dropped:refused by the judge:messy\n"
	    "dropped:the judge could not tell:messy\n"
	    "dropped:no answer read from the judge:messy\n");
	free(got);
	/* The generation, five labels and two repair turns. */
	ck_assert_int_eq(messy_calls, 1 + 5 + 2);
	/* Their outcomes are the round's, apart from the search's. */
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM outcomes"
	    " WHERE role = 'labeler'"), 7);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM outcomes"
	    " WHERE role = 'generator' AND outcome = 'usable'"), 1);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM outcomes"
	    " WHERE role IN ('judge', 'optimizer')"), 0);
	/* The labeled ones are in the run's snapshot, never in test. */
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM runs r"
	    " JOIN examples x ON x.dataset_id = r.dataset_id"
	    " WHERE x.origin = 'synthetic' AND x.fields LIKE"
	    " '%\"label\":\"%'"), 2);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM examples"
	    " WHERE origin = 'synthetic' AND split = 'test'"), 0);
	/* Events say it. */
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM events"
	    " WHERE message LIKE 'synthetic: round 1 against the first seed"
	    " prompt: 8 inputs asked for, _ written, 5 kept; left out: %1"
	    " written before'"), 1);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM events"
	    " WHERE message LIKE 'synthetic: 2 labeled by the judge, 3 not: 1"
	    " refused by the judge, 1 the judge could not tell, 1 no answer"
	    " read from the judge; % added, the run has %'"), 1);

	/*
	 * Another run: the labeled ones come back; the round against the
	 * champion gets the same reply, all of it written before.
	 */
	calls = messy_calls;
	run_job(job);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM events"
	    " WHERE run_id = 2 AND message LIKE 'synthetic: 2 labeled"
	    " examples of earlier rounds: % train, % dev'"), 1);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM events"
	    " WHERE run_id = 2 AND level = 'warn' AND message LIKE"
	    " 'synthetic: round 2 against champion version 1: 8 inputs asked"
	    " for, % 0 kept; left out: %'"), 1);
	ck_assert_int_eq(messy_calls, calls + 1);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM"
	    " synthetic"), 5);
	ck_assert_int_eq(check_count(check_db, "SELECT count(*) FROM runs r"
	    " JOIN examples x ON x.dataset_id = r.dataset_id WHERE r.id = 2"
	    " AND x.origin = 'synthetic'"), 2);
	synth_job_free(job, &fb);
}
END_TEST

/*
 * A database of schema 17 keeps its examples and their scores through
 * the rebuild of examples (the triggers of evaluations still keep
 * score_sums); then synthetic examples are stored once per inputs,
 * answered once, and join a snapshot with their origin.
 */
START_TEST(test_store)
{
	struct synthetic_record	 rec;
	struct synthetic_row	*rows, row;
	struct dataset		*ds;
	struct example		*ex;
	struct store		*s;
	struct task		 task;
	char			*tmp, *path, *cause = NULL, target[] = "label";
	int64_t			 job, run, run2, id, id2, owner, snap;
	size_t			 n;

	tmp = check_tmpdir();
	path = xasprintf("%s/v17.db", tmp);
	ck_assert_ptr_nonnull(s = store_open_version(path, 17, &cause));
	job = store_job_put(s, "old", "{}", &cause);
	ds = check_dataset(3, "old");
	ck_assert_int_gt(snap = store_dataset_snapshot(s, job, ds, NULL,
	    &cause), 0);
	ck_assert_int_gt(run = store_run_new(s, job, "optimize", snap,
	    &cause), 0);
	store_close(s);
	check_exec_sql(path, "INSERT INTO candidates (id, job_id, text, hash,"
	    " origin, created) VALUES (7, 1, 'p', 'h', 'seed', 0);"
	    "INSERT INTO evaluations (run_id, candidate_id, example_id, score,"
	    " created) SELECT 1, 7, id, 1, 0 FROM examples;");
	ck_assert_ptr_nonnull(s = store_open(path, &cause));
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"
	    " WHERE origin = 'dataset'"), 3);
	check_exec_sql(path, "INSERT INTO candidates (id, job_id, text, hash,"
	    " origin, created) VALUES (8, 1, 'q', 'i', 'seed', 0);"
	    "INSERT INTO evaluations (run_id, candidate_id, example_id, score,"
	    " created) SELECT 1, 8, id, 0.5, 1 FROM examples WHERE idx = 0;");
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM score_sums"
	    " WHERE candidate_id = 8"), 1);
	ck_assert_int_eq(check_count(path, CHECK_SCORE_SUMS_WRONG), 0);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " pragma_foreign_key_check"), 0);

	/* A row, found again by its inputs, from this run or another. */
	memset(&rec, 0, sizeof rec);
	rec.job = job;
	rec.run = run;
	rec.key = "k1";
	rec.inputs = "{\"q\":\"new\"}";
	rec.input = "Q: new";
	rec.split = "dev";
	rec.labeler = "people";
	rec.choices = "[\"a\",\"b\"]";
	ck_assert_int_gt(id = store_synthetic_add(s, &rec, &owner, &cause), 0);
	ck_assert_int_eq(owner, run);
	ck_assert_int_gt(run2 = store_run_new(s, job, "refresh", snap, &cause),
	    0);
	rec.run = run2;
	ck_assert_int_eq(store_synthetic_add(s, &rec, &owner, &cause), id);
	ck_assert_int_eq(owner, run);
	rec.key = "k2";
	rec.split = "train";
	ck_assert_int_gt(id2 = store_synthetic_add(s, &rec, &owner, &cause),
	    id);
	ck_assert_int_eq(owner, run2);
	ck_assert_int_eq(store_synthetic_list(s, job, 0, "pending", -1, &rows,
	    &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	store_synthetic_rows_free(rows, n);
	ck_assert_int_eq(store_synthetic_list(s, job, run2, NULL, 1, &rows, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].id, id2);
	ck_assert_str_eq(rows[0].split, "train");
	ck_assert_str_eq(rows[0].status, "pending");
	ck_assert(isnan(rows[0].answered));
	store_synthetic_rows_free(rows, n);

	/* Answered once: a label, or a drop with its reason. */
	ck_assert_int_eq(store_synthetic_answer(s, id, "b", NULL, "alice",
	    &cause), 1);
	ck_assert_int_eq(store_synthetic_answer(s, id, NULL, "skipped", "bob",
	    &cause), 0);
	ck_assert_int_eq(store_synthetic_answer(s, id2, NULL, "skipped", "bob",
	    &cause), 1);
	ck_assert_int_eq(store_synthetic_answer(s, 99, "a", NULL, "x",
	    &cause), 0);
	ck_assert_int_eq(store_synthetic_get(s, id, &row, &cause), 1);
	ck_assert_str_eq(row.status, "labeled");
	ck_assert_str_eq(row.label, "b");
	ck_assert_str_eq(row.who, "alice");
	ck_assert_ptr_null(row.reason);
	ck_assert_str_eq(row.choices, "[\"a\",\"b\"]");
	store_synthetic_row_release(&row);
	ck_assert_int_eq(store_synthetic_get(s, id2, &row, &cause), 1);
	ck_assert_str_eq(row.status, "dropped");
	ck_assert_str_eq(row.reason, "skipped");
	ck_assert_ptr_null(row.label);
	store_synthetic_row_release(&row);
	ck_assert_int_eq(store_synthetic_get(s, 99, &row, &cause), 0);

	/* The labeled one joins a snapshot as synthetic, the run with it. */
	ck_assert_int_eq(store_synthetic_get(s, id, &row, &cause), 1);
	memset(&task, 0, sizeof task);
	task.target = target;
	ck_assert_ptr_nonnull(ex = ingest_synthetic_example(ds, &task, &row));
	ck_assert_int_eq(ex->split, SPLIT_DEV);
	ck_assert_int_eq(ex->origin, ORIGIN_SYNTHETIC);
	store_synthetic_row_release(&row);
	dataset_rehash(ds);
	ck_assert_int_gt(snap = store_dataset_snapshot(s, job, ds, NULL,
	    &cause), 0);
	ck_assert_int_eq(store_run_set_dataset(s, run2, snap, &cause), 0);
	ck_assert_int_eq(store_run_set_dataset(s, 99, snap, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples x"
	    " JOIN runs r ON r.dataset_id = x.dataset_id WHERE r.id = 2 AND"
	    " x.origin = 'synthetic' AND x.split = 'dev' AND x.fields ="
	    " '{\"q\":\"new\",\"label\":\"b\"}'"), 1);
	check_dataset_free(ds);
	store_close(s);
	check_rmtree(tmp);
	free(tmp);
	free(path);
}
END_TEST

static Suite *
synth_suite(void)
{
	Suite	*s = suite_create("synth");
	TCase	*tc = tcase_create("core");
	TCase	*tr = tcase_create("round");

	tcase_add_test(tc, test_label_replies);
	tcase_add_test(tc, test_no_answer);
	tcase_add_test(tc, test_generation_replies);
	tcase_add_test(tc, test_label_spelling);
	tcase_add_test(tc, test_store);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tr, check_sentiment_setup,
	    check_sentiment_teardown);
	tcase_add_test(tr, test_round_messy);
	suite_add_tcase(s, tr);
	return s;
}

CHECK_MAIN(synth_suite)
