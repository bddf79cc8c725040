/*
 * Tests of production feedback in the store (schemas 12 to 14):
 * interactions put once by key and read back field by field, the
 * candidate that answered, counting and forgetting a user (nothing of the
 * rows left in the file, nor of the examples made from them alone), how
 * far a feedback file was read, the job's salt, people's critiques of a
 * candidate read before a run's start; and
 * ingest_source() on top of them: bad lines with their numbers, lines
 * too long, a follow that leaves a half-written line, a rotated or
 * truncated file read again from its start, users kept, hashed or
 * dropped, people's preferences made comparisons once.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "check_common.h"
#include "dataset.h"
#include "feedback.h"
#include "ingest.h"
#include "jobrun.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

static char		*tmp, *path;
static struct store	*s;
static int64_t		 job;

static void
setup(void)
{
	char	*cause = NULL;

	tmp = check_tmpdir();
	path = xasprintf("%s/feedback.db", tmp);
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "fb", "{}", &cause);
	ck_assert_msg(job > 0, "%s", cause);
}

static void
teardown(void)
{
	store_close(s);
	check_rmtree(tmp);
	free(path);
	free(tmp);
}

/* An interaction with a key, a response and a thumbs-up. */
static void
interaction(struct interaction *it, const char *key, const char *response)
{
	memset(it, 0, sizeof *it);
	snprintf(it->key, sizeof it->key, "%s", key);
	it->time = 1700000000.5;
	it->inputs = cJSON_Parse("{\"text\":\"hello\"}");
	it->response = xstrdup(response);
	it->scale = RATING_THUMBS;
	it->rating = 1;
	it->regenerated = it->abandoned = it->copied = -1;
}

static int
put(const struct interaction *it, int64_t cand)
{
	char	*cause = NULL;
	int	 rc;

	rc = store_interaction_put(s, job, it, cand, 0, "/logs/a.jsonl", 7,
	    NULL, &cause);
	ck_assert_msg(rc >= 0, "%s", cause);
	return rc;
}

static int
contains(const char *file, const char *text)
{
	char	*buf = NULL, *cause = NULL;
	size_t	 len = 0;
	int	 found;

	ck_assert_msg(file_read(file, 1 << 26, &buf, &len, &cause) == 0, "%s",
	    cause);
	found = memmem(buf, len, text, strlen(text)) != NULL;
	free(buf);
	return found;
}

START_TEST(test_put_read)
{
	struct interaction	 a, b;
	struct interaction_row	*rows;
	const struct interaction *r;
	char			*cause = NULL;
	size_t			 n;
	int64_t			 cand;

	cand = store_candidate_put(s, job, "Be brief.", "seed", &cause);
	interaction(&a, "id-1", "Positive.");
	a.version = 0;
	a.prompt = xstrdup("Be brief.");
	a.user = xstrdup("u1");
	a.session = xstrdup("s1");
	a.scale = RATING_STARS;
	a.rating = 4;
	a.preferred = PREFERRED_OTHER;
	a.other = xstrdup("Negative.");
	a.other_version = 2;
	a.other_prompt = xstrdup("Be long.");
	a.critique = xstrdup("too curt");
	a.edit = xstrdup("Positive!");
	a.regenerated = 1;
	a.abandoned = 0;
	a.follow_up = xstrdup("why?");
	ck_assert_int_eq(put(&a, cand), 1);
	/* A thumbs-down is a rating of 0, not none. */
	interaction(&b, "id-2", "Meh.");
	b.rating = 0;
	b.copied = 0;
	ck_assert_int_eq(put(&b, 0), 1);

	ck_assert_int_eq(store_interactions(s, job, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	r = rows[0].it;
	ck_assert_int_eq(rows[0].candidate, cand);
	ck_assert_str_eq(rows[0].file, "/logs/a.jsonl");
	ck_assert_int_eq(rows[0].line, 7);
	ck_assert(rows[0].ingested > 1700000000);
	ck_assert_str_eq(r->key, "id-1");
	ck_assert(r->time == 1700000000.5);
	ck_assert_ptr_null(r->job);
	ck_assert_int_eq(r->version, 0);
	ck_assert_str_eq(r->prompt, "Be brief.");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r->inputs,
	    "text")), "hello");
	ck_assert_str_eq(r->response, "Positive.");
	ck_assert_str_eq(r->user, "u1");
	ck_assert_str_eq(r->session, "s1");
	ck_assert_int_eq(r->scale, RATING_STARS);
	ck_assert_int_eq(r->rating, 4);
	ck_assert_int_eq(r->preferred, PREFERRED_OTHER);
	ck_assert_str_eq(r->other, "Negative.");
	ck_assert_int_eq(r->other_version, 2);
	ck_assert_str_eq(r->other_prompt, "Be long.");
	ck_assert_str_eq(r->critique, "too curt");
	ck_assert_str_eq(r->edit, "Positive!");
	ck_assert_int_eq(r->regenerated, 1);
	ck_assert_int_eq(r->abandoned, 0);
	ck_assert_int_eq(r->copied, -1);
	ck_assert_str_eq(r->follow_up, "why?");

	r = rows[1].it;
	ck_assert_int_eq(rows[1].candidate, 0);
	ck_assert_int_eq(r->scale, RATING_THUMBS);
	ck_assert_int_eq(r->rating, 0);
	ck_assert_int_eq(r->preferred, PREFERRED_NONE);
	ck_assert_ptr_null(r->user);
	ck_assert_ptr_null(r->prompt);
	ck_assert_ptr_null(r->other);
	ck_assert_int_eq(r->regenerated, -1);
	ck_assert_int_eq(r->copied, 0);
	store_interaction_rows_free(rows, n);
	feedback_release(&a);
	feedback_release(&b);
	/* No rows: NULL. */
	ck_assert_int_eq(store_interactions(s, job + 1, &rows, &n, &cause), 0);
	ck_assert_ptr_null(rows);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_put_once)
{
	struct interaction	 a;
	struct interaction_row	*rows;
	char			*cause = NULL;
	size_t			 n;
	long long		 count;
	int64_t			 other;

	interaction(&a, "k", "first");
	ck_assert_int_eq(put(&a, 0), 1);
	free(a.response);
	a.response = xstrdup("second");
	/* The same key again: kept as it was. */
	ck_assert_int_eq(put(&a, 0), 0);
	ck_assert_int_eq(store_interactions(s, job, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rows[0].it->response, "first");
	store_interaction_rows_free(rows, n);
	/* Keys are a job's own. */
	other = store_job_put(s, "other", "{}", &cause);
	ck_assert_int_eq(store_interaction_put(s, other, &a, 0, 0, NULL, 0,
	    NULL, &cause), 1);
	ck_assert_int_eq(store_interaction_count(s, job, NULL, &count,
	    &cause), 0);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(store_interaction_count(s, other, NULL, &count,
	    &cause), 0);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM interactions"
	    " WHERE source IS NULL AND line IS NULL"), 1);
	feedback_release(&a);
}
END_TEST

/* The tally counts each kind of signal once per interaction. */
START_TEST(test_tally)
{
	struct interaction		a, b, c;
	struct interaction_tally	t;
	char				*cause = NULL;

	ck_assert_int_eq(store_interaction_tally(s, job, 0, &t, &cause), 0);
	ck_assert_int_eq(t.n, 0);
	interaction(&a, "a", "yes");		/* thumbs up */
	interaction(&b, "b", "no");		/* 2 stars, edited, critiqued */
	b.scale = RATING_STARS;
	b.rating = 2;
	b.edit = xstrdup("yes");
	b.critique = xstrdup("wrong");
	interaction(&c, "c", "maybe");		/* 5 stars, a preference */
	c.scale = RATING_STARS;
	c.rating = 5;
	c.preferred = PREFERRED_OTHER;
	c.other = xstrdup("yes");
	ck_assert_int_eq(put(&a, 0) + put(&b, 0) + put(&c, 0), 3);
	ck_assert_int_eq(store_interaction_tally(s, job, 0, &t, &cause), 0);
	ck_assert_int_eq(t.n, 3);
	ck_assert_int_eq(t.rated, 3);
	ck_assert_int_eq(t.rated_best, 2);
	ck_assert_int_eq(t.edited, 1);
	ck_assert_int_eq(t.critiqued, 1);
	ck_assert_int_eq(t.preferences, 1);
	ck_assert_int_eq(t.examples, 0);
	feedback_release(&a);
	feedback_release(&b);
	feedback_release(&c);
}
END_TEST

START_TEST(test_candidate)
{
	struct champion_record	 c;
	char			*cause = NULL;
	int64_t			 a, b, got;

	a = store_candidate_put(s, job, "A.", "seed", &cause);
	b = store_candidate_put(s, job, "B.", "seed", &cause);
	memset(&c, 0, sizeof c);
	c.job = job;
	c.candidate = b;
	c.p = c.delta = NAN;
	c.reason = "first";
	ck_assert_int_eq(store_champion_add(s, &c, &cause), 0);
	ck_assert_int_eq(store_champion_candidate(s, job, 1, &got, &cause), 1);
	ck_assert_int_eq(got, b);
	ck_assert_int_eq(store_champion_candidate(s, job, 2, &got, &cause), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(store_candidate_find(s, job, "A.", &got, &cause), 1);
	ck_assert_int_eq(got, a);
	ck_assert_int_eq(store_candidate_find(s, job, "C.", &got, &cause), 0);
	ck_assert_int_eq(got, 0);
}
END_TEST

/* An interaction of candidate cand at time t with a critique, an edit. */
static void
put_critique(const char *key, int64_t cand, double t, const char *critique,
    const char *edit)
{
	struct interaction	 it;

	interaction(&it, key, key);
	it.time = t;
	it.critique = critique != NULL ? xstrdup(critique) : NULL;
	it.edit = edit != NULL ? xstrdup(edit) : NULL;
	ck_assert_int_eq(put(&it, cand), 1);
	feedback_release(&it);
}

/*
 * People's critiques of one candidate: only those with a critique or an
 * edit, of that candidate, ingested before the time given, latest first
 * (by their time), at most the limit; an edit reads as a correction.
 */
START_TEST(test_human_critiques)
{
	struct human_critique	*h;
	char			*cause = NULL;
	int64_t			 a, b, run;
	double			 mid, started;
	size_t			 n;

	a = store_candidate_put(s, job, "A.", "seed", &cause);
	b = store_candidate_put(s, job, "B.", "seed", &cause);
	put_critique("old", a, 100, "Too long.", NULL);
	put_critique("edit", a, 300, NULL, "positive");
	put_critique("both", a, 200, "Wrong label.", "negative");
	put_critique("none", a, 400, NULL, NULL);
	put_critique("other", b, 500, "Rude.", NULL);
	usleep(2000);
	mid = time_now();
	usleep(2000);
	put_critique("late", a, 600, "Ingested after the run started.",
	    NULL);

	ck_assert_msg(store_human_critiques(s, job, a, mid, 10, &h, &n,
	    &cause) == 0, "%s", cause);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(h[0].response, "edit");
	ck_assert_str_eq(h[0].text, "A person corrected the answer to: "
	    "positive");
	ck_assert_str_eq(h[1].text, "Wrong label.\nA person corrected the "
	    "answer to: negative");
	ck_assert_str_eq(h[2].text, "Too long.");
	ck_assert_double_eq(h[2].time, 100);
	ck_assert_str_eq(cJSON_GetObjectItem(h[2].inputs, "text")->valuestring,
	    "hello");
	ck_assert_int_gt(h[0].id, h[2].id);
	store_human_critiques_free(h, n);

	/* The limit keeps the latest; 0 reads nothing. */
	ck_assert_int_eq(store_human_critiques(s, job, a, mid, 1, &h, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].response, "edit");
	store_human_critiques_free(h, n);
	ck_assert_int_eq(store_human_critiques(s, job, a, mid, 0, &h, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(h);

	/* Later, the late one is there; another candidate has its own. */
	ck_assert_int_eq(store_human_critiques(s, job, a, time_now() + 1, 10,
	    &h, &n, &cause), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[0].text, "Ingested after the run started.");
	store_human_critiques_free(h, n);
	ck_assert_int_eq(store_human_critiques(s, job, b, mid, 10, &h, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].text, "Rude.");
	store_human_critiques_free(h, n);

	/* A run's start, which the strategy reads them before. */
	ck_assert_int_eq(store_run_started(s, 12345, &started, &cause), 0);
	run = store_run_new(s, job, "optimize", 0, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	ck_assert_int_eq(store_run_started(s, run, &started, &cause), 1);
	ck_assert_double_gt(started, mid);
}
END_TEST

START_TEST(test_forget)
{
	struct interaction	 it;
	char			*cause = NULL, key[8];
	long long		 n;
	int			 i;

	for (i = 0; i < 6; i++) {
		snprintf(key, sizeof key, "k%d", i);
		interaction(&it, key, i % 2 == 0 ? "SECRET-of-alice" : "bob's");
		it.user = xstrdup(i % 2 == 0 ? "alice" : "bob");
		ck_assert_int_eq(put(&it, 0), 1);
		feedback_release(&it);
	}
	ck_assert_int_eq(store_interaction_count(s, job, "alice", &n, &cause),
	    0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(store_interactions_forget(s, job + 1, "alice", NULL,
	    &cause), 0);
	ck_assert_int_eq(store_interactions_forget(s, job, "alice", NULL,
	    &cause), 3);
	ck_assert_int_eq(store_interactions_forget(s, job, "alice", NULL,
	    &cause), 0);
	ck_assert_int_eq(store_interaction_count(s, job, "alice", &n, &cause),
	    0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(store_interaction_count(s, job, NULL, &n, &cause), 0);
	ck_assert_int_eq(n, 3);
	/* Overwritten, not left in a free page: not in the file at all. */
	store_close(s);
	ck_assert(!contains(path, "SECRET-of-alice"));
	ck_assert(contains(path, "bob's"));
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
}
END_TEST

/*
 * Puts an interaction of user with inputs {"text": text} and an edit;
 * returns its id.
 */
static int64_t
put_edit(const char *key, const char *user, const char *text,
    const char *edit)
{
	struct interaction	 it;

	interaction(&it, key, "wrong");
	cJSON_Delete(it.inputs);
	it.inputs = cJSON_CreateObject();
	cJSON_AddStringToObject(it.inputs, "text", text);
	it.user = xstrdup(user);
	it.edit = xstrdup(edit);
	ck_assert_int_eq(put(&it, 0), 1);
	feedback_release(&it);
	return check_count(path, "SELECT max(id) FROM interactions");
}

/* Adds an example from feedback, made from n interactions. */
static struct example *
add_example(struct dataset *ds, const char *text, const char *label,
    const int64_t *from, size_t n)
{
	struct example	*ex;
	cJSON		*fields;

	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "text", text);
	cJSON_AddStringToObject(fields, "label", label);
	ex = dataset_add(ds, fields, ORIGIN_FEEDBACK);
	ex->split = SPLIT_DEV;
	ex->from = xcalloc(n, sizeof *ex->from);
	memcpy(ex->from, from, n * sizeof *ex->from);
	ex->nfrom = n;
	return ex;
}

/*
 * Forgetting a user blanks what was made from their interactions alone:
 * the example's fields, the outputs and critiques of its evaluations,
 * its comparisons' text and the cached answers; what another person
 * gave too stays, and nothing of the user's is left in the file.
 */
START_TEST(test_forget_derived)
{
	struct dataset			*ds;
	struct example			*mine, *bobs, *shared;
	struct call_record		 c;
	struct comparison_record	 cmp;
	int64_t				 a1, a2, b1, b2, both[2], cand, other;
	int64_t				 run, call, dsid;
	char				*cause = NULL, *sql;
	long long			 n, examples;

	a1 = put_edit("a1", "alice", "SECRET-input-of-alice",
	    "SECRET-edit-of-alice");
	b1 = put_edit("b1", "bob", "bob's input", "bob's edit");
	a2 = put_edit("a2", "alice", "both saw it", "both said it");
	b2 = put_edit("b2", "bob", "both saw it", "both said it");
	ds = dataset_empty();
	mine = add_example(ds, "SECRET-input-of-alice",
	    "SECRET-edit-of-alice", &a1, 1);
	bobs = add_example(ds, "bob's input", "bob's edit", &b1, 1);
	both[0] = a2;
	both[1] = b2;
	shared = add_example(ds, "both saw it", "both said it", both, 2);
	dataset_rehash(ds);
	ck_assert_int_gt(dsid = store_dataset_snapshot(s, job, ds, NULL,
	    &cause), 0);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " feedback_examples"), 4);
	run = store_run_new(s, job, "optimize", dsid, &cause);
	cand = store_candidate_put(s, job, "Be brief.", "seed", &cause);
	other = store_candidate_put(s, job, "Be long.", "seed", &cause);
	memset(&c, 0, sizeof c);
	c.run = run;
	c.role = "target";
	c.key = "key-of-alice";
	c.status = "ok";
	ck_assert_int_gt(call = store_call_add(s, &c, &cause), 0);
	ck_assert_int_eq(store_cache_put(s, "key-of-alice",
	    "SECRET-cached-answer", &cause), 0);
	ck_assert_int_eq(store_cache_put(s, "key-of-another", "another's",
	    &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, cand, mine->id,
	    "SECRET-output-for-alice", 0, "SECRET-critique", call, &cause), 0);
	ck_assert_int_gt(store_evaluation_fail(s, run, other, mine->id,
	    "SECRET-failed-output", "cannot read 'SECRET-failed-output'", 0,
	    &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, cand, bobs->id,
	    "bob's output", 1, NULL, 0, &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, cand, shared->id,
	    "shared output", 1, NULL, 0, &cause), 0);
	memset(&cmp, 0, sizeof cmp);
	cmp.job = job;
	cmp.a = cand;
	cmp.b = other;
	cmp.example = mine->id;
	cmp.output_a = "SECRET-output-a";
	cmp.output_b = "SECRET-output-b";
	cmp.order_shown = "ab";
	ck_assert_int_gt(store_comparison_queue(s, &cmp, "SECRET-shown",
	    &cause), 0);

	n = store_interactions_forget(s, job, "alice", &examples, &cause);
	ck_assert_msg(n == 2, "%lld: %s", n, cause);
	ck_assert_int_eq(examples, 1);
	sql = xasprintf("SELECT count(*) FROM examples WHERE id = %lld AND"
	    " fields = '{}' AND hash IS NULL AND origin = 'feedback'",
	    (long long)mine->id);
	ck_assert_int_eq(check_count(path, sql), 1);
	free(sql);
	/* The rows stay, with their scores; their text goes. */
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"
	    " WHERE fields != '{}'"), 2);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM evaluations"
	    " WHERE output IS NULL AND feedback IS NULL"), 2);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM evaluations"
	    " WHERE score = 0 OR error = 'forgotten'"), 2);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"
	    " WHERE input IS NULL AND output_a IS NULL AND output_b IS NULL"),
	    1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM cache"), 1);
	/* The shared example is bob's now. */
	sql = xasprintf("SELECT interaction_id FROM feedback_examples WHERE"
	    " example_id = %lld", (long long)shared->id);
	ck_assert_int_eq(check_count(path, sql), b2);
	free(sql);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " feedback_examples"), 2);
	/* Forgetting bob too blanks the rest. */
	ck_assert_int_eq(store_interactions_forget(s, job, "bob", &examples,
	    &cause), 2);
	ck_assert_int_eq(examples, 2);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"
	    " WHERE fields != '{}'"), 0);
	store_close(s);
	ck_assert(!contains(path, "SECRET"));
	ck_assert(!contains(path, "bob's"));
	ck_assert(!contains(path, "both s"));
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	dataset_free(ds);
}
END_TEST

START_TEST(test_source)
{
	struct feedback_source	 src, got;
	char			*cause = NULL;

	ck_assert_int_eq(store_feedback_source_get(s, job, "/f", &got,
	    &cause), 0);
	memset(&src, 0, sizeof src);
	src.device = 64769;
	src.inode = (int64_t)1 << 40;
	src.offset = 12345;
	src.line = 99;
	memset(src.head, 'a', 64);
	ck_assert_int_eq(store_feedback_source_put(s, job, "/f", &src,
	    &cause), 0);
	ck_assert_int_eq(store_feedback_source_get(s, job, "/f", &got,
	    &cause), 1);
	ck_assert_int_eq(got.device, 64769);
	ck_assert_int_eq(got.inode, (int64_t)1 << 40);
	ck_assert_int_eq(got.offset, 12345);
	ck_assert_int_eq(got.line, 99);
	ck_assert_str_eq(got.head, src.head);
	ck_assert(got.updated > 0);
	src.offset = 20000;
	ck_assert_int_eq(store_feedback_source_put(s, job, "/f", &src,
	    &cause), 0);
	ck_assert_int_eq(store_feedback_source_get(s, job, "/f", &got,
	    &cause), 1);
	ck_assert_int_eq(got.offset, 20000);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " feedback_sources"), 1);
	ck_assert_int_eq(store_feedback_source_get(s, job, "/g", &got,
	    &cause), 0);
}
END_TEST

START_TEST(test_salt)
{
	char	*a, *b, *c, *cause = NULL;
	int64_t	 other;
	size_t	 i;

	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM jobs"
	    " WHERE salt IS NULL"), 1);
	a = store_job_salt(s, job, &cause);
	ck_assert_msg(a != NULL, "%s", cause);
	ck_assert_uint_eq(strlen(a), 64);
	for (i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", a[i]) != NULL);
	b = store_job_salt(s, job, &cause);
	ck_assert_str_eq(a, b);
	other = store_job_put(s, "other", "{}", &cause);
	c = store_job_salt(s, other, &cause);
	ck_assert_str_ne(a, c);
	/* Putting the job again keeps its salt. */
	ck_assert_int_eq(store_job_put(s, "fb", "{\"x\":1}", &cause), job);
	free(b);
	b = store_job_salt(s, job, &cause);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_null(store_job_salt(s, 999, &cause));
	ck_assert_str_eq(cause, "store: read job salt: no job 999");
	free(cause);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_migrate_v11)
{
	struct interaction	 it;
	char			*cause = NULL;

	store_close(s);
	check_rmtree(tmp);
	free(tmp);
	tmp = check_tmpdir();
	free(path);
	path = xasprintf("%s/v11.db", tmp);
	s = store_open_version(path, 11, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "old", "{}", &cause);
	interaction(&it, "k", "r");
	ck_assert_int_eq(store_interaction_put(s, job, &it, 0, 0, NULL, 0,
	    NULL, &cause), -1);
	ck_assert_str_eq(cause, "store: add interaction: no such table: "
	    "interactions");
	free(cause);
	cause = NULL;
	store_close(s);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"), 11);
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_interaction_put(s, job, &it, 0, 0, NULL, 0,
	    NULL, &cause), 1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM jobs"
	    " WHERE name = 'old' AND salt IS NULL"), 1);
	feedback_release(&it);
}
END_TEST

/* A database of schema 12 takes the origin of its examples, all the
 * dataset's, and can link examples to interactions after. */
START_TEST(test_migrate_v12)
{
	struct dataset	*ds;
	struct example	*ex;
	cJSON		*fields;
	char		*cause = NULL;
	int64_t		 id;

	store_close(s);
	check_rmtree(tmp);
	free(tmp);
	tmp = check_tmpdir();
	free(path);
	path = xasprintf("%s/v12.db", tmp);
	s = store_open_version(path, 12, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "old", "{}", &cause);
	ds = check_dataset(3, "old");
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	store_close(s);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"), 12);
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"
	    " WHERE origin = 'dataset'"), 3);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " feedback_examples"), 0);
	/* The same snapshot is found again, with its ids. */
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM datasets"), 1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"), 3);
	/* One from feedback makes another, linked. */
	id = put_edit("k", "carol", "hello", "hi");
	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "q", "hello");
	ex = dataset_add(ds, fields, ORIGIN_FEEDBACK);
	ex->from = xcalloc(1, sizeof *ex->from);
	ex->from[ex->nfrom++] = id;
	dataset_rehash(ds);
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM datasets"), 2);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM examples"
	    " x JOIN feedback_examples f ON f.example_id = x.id WHERE"
	    " x.origin = 'feedback' AND x.idx = 3"), 1);
	dataset_truncate(ds, 3);
	check_dataset_free(ds);
}
END_TEST

/*
 * ingest_source() on a file of the test's directory: what it did, the
 * bad lines told as "LINE: message" lines in bad.
 */
static struct strbuf	bad;

static void
tell_bad(void *arg, long long line, const char *message)
{
	(void)arg;
	strbuf_addf(&bad, "%lld: %s\n", line, message);
}

static void
write_file(const char *name, const char *mode, const char *text, size_t len)
{
	char	*p = xasprintf("%s/%s", tmp, name);
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(p, mode));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	free(p);
}

static int
ingest(const char *name, enum user_policy users, int follow,
    struct ingest_result *r)
{
	struct ingest	 ing;
	char		*p = xasprintf("%s/%s", tmp, name), *cause = NULL;
	int		 rc;

	memset(&ing, 0, sizeof ing);
	ing.store = s;
	ing.job_id = job;
	ing.job = "fb";
	ing.users = users;
	ing.follow = follow;
	ing.bad = tell_bad;
	strbuf_reset(&bad);
	rc = ingest_source(&ing, p, r, &cause);
	if (rc != 0) {
		strbuf_adds(&bad, cause);
		free(cause);
	}
	ingest_release(&ing);
	free(p);
	return rc;
}

#define LINE(n)								\
	"{\"id\":\"i" #n "\",\"response\":\"r" #n "\",\"rating\":\"up\"," \
	"\"user\":\"carol\"}\n"

START_TEST(test_ingest_whole)
{
	struct ingest_result	 r;
	struct strbuf		 text;
	long long		 n;
	char			*cause = NULL;

	strbuf_init(&bad);
	strbuf_init(&text);
	strbuf_adds(&text, LINE(1) "\n" "not json\n");
	strbuf_adds(&text, "{\"job\":\"other\",\"response\":\"x\","
	    "\"rating\":1}\n");
	strbuf_adds(&text, "{\"version\":3,\"response\":\"x\",\"rating\":1}\n");
	/* Over the limit by one byte, then a good line without a newline. */
	strbuf_addc(&text, '"');
	while (text.len < 4 * 70 + FEEDBACK_MAX_LINE)
		strbuf_addc(&text, 'x');
	strbuf_adds(&text, "\"\n" LINE(2));
	text.len--;
	write_file("log", "w", text.buf, text.len);
	ck_assert_int_eq(ingest("log", USERS_KEEP, 0, &r), 0);
	ck_assert_int_eq(r.ingested, 2);
	ck_assert_int_eq(r.duplicate, 0);
	ck_assert_int_eq(r.bad, 4);
	ck_assert_int_eq(r.first_line, 3);
	ck_assert_ptr_nonnull(strstr(bad.buf, "3: "));
	ck_assert_ptr_nonnull(strstr(bad.buf, "\n4: job: the line is for job "
	    "'other', not 'fb'\n"));
	ck_assert_ptr_nonnull(strstr(bad.buf, "\n5: version: job 'fb' has no "
	    "champion version 3\n"));
	ck_assert_ptr_nonnull(strstr(bad.buf, "\n6: the line is longer than "
	    "1048576 bytes\n"));
	ingest_result_release(&r);
	ck_assert_int_eq(check_count(path, "SELECT line FROM interactions"
	    " WHERE key = 'i2'"), 7);
	ck_assert_int_eq(store_interaction_count(s, job, "carol", &n, &cause),
	    0);
	ck_assert_int_eq(n, 2);
	/* Again: all there already. */
	ck_assert_int_eq(ingest("log", USERS_KEEP, 0, &r), 0);
	ck_assert_int_eq(r.ingested, 0);
	ck_assert_int_eq(r.duplicate, 2);
	ingest_result_release(&r);
	/* No such file: an error when not following. */
	ck_assert_int_eq(ingest("none", USERS_KEEP, 0, &r), -1);
	ck_assert_ptr_nonnull(strstr(bad.buf, "cannot open '"));
	strbuf_release(&text);
	strbuf_release(&bad);
}
END_TEST

START_TEST(test_ingest_follow)
{
	struct ingest_result	 r;
	const char		*half = "{\"id\":\"i4\",\"resp";
	const char		*rest = "onse\":\"r4\",\"rating\":true}\nbad\n";
	char			*from, *to;

	strbuf_init(&bad);
	/* Not there yet: not an error. */
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.missing, 1);
	write_file("log", "w", LINE(1) LINE(2), strlen(LINE(1) LINE(2)));
	write_file("log", "a", half, strlen(half));
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.ingested, 2);
	ck_assert_int_eq(r.bad, 0);
	ck_assert_int_eq(r.restarted, 0);
	/* The writer finishes its line and adds a bad one. */
	write_file("log", "a", rest, strlen(rest));
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.ingested, 1);
	ck_assert_int_eq(r.duplicate, 0);
	ck_assert_int_eq(r.bad, 1);
	ck_assert_int_eq(r.first_line, 4);
	ingest_result_release(&r);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM interactions"
	    " WHERE key = 'i4' AND line = 3"), 1);
	/* Nothing new. */
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.ingested + r.duplicate + r.bad, 0);
	/* Truncated and written again: read from the start. */
	write_file("log", "w", LINE(5), strlen(LINE(5)));
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.restarted, 1);
	ck_assert_int_eq(r.ingested, 1);
	/* Rewritten as long as before, its start changed: from the start. */
	write_file("log", "w", LINE(6), strlen(LINE(6)));
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.restarted, 1);
	ck_assert_int_eq(r.ingested, 1);
	/* Rotated: another file by that name. */
	write_file("log.new", "w", LINE(6) LINE(7), strlen(LINE(6) LINE(7)));
	from = xasprintf("%s/log.new", tmp);
	to = xasprintf("%s/log", tmp);
	ck_assert(rename(from, to) == 0);
	free(from);
	free(to);
	ck_assert_int_eq(ingest("log", USERS_KEEP, 1, &r), 0);
	ck_assert_int_eq(r.restarted, 1);
	ck_assert_int_eq(r.ingested, 1);
	ck_assert_int_eq(r.duplicate, 1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM"
	    " interactions"), 6);
	strbuf_release(&bad);
}
END_TEST

START_TEST(test_ingest_users)
{
	struct ingest_result	 r;
	char			*salt, *cause = NULL, *want;

	strbuf_init(&bad);
	write_file("log", "w", LINE(1), strlen(LINE(1)));
	ck_assert_int_eq(ingest("log", USERS_HASH, 0, &r), 0);
	ck_assert_int_eq(r.ingested, 1);
	salt = store_job_salt(s, job, &cause);
	want = feedback_user(USERS_HASH, salt, "carol");
	ck_assert_str_ne(want, "carol");
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM interactions"
	    " WHERE user = 'carol'"), 0);
	free(cause);
	cause = xasprintf("SELECT count(*) FROM interactions WHERE user ="
	    " '%s'", want);
	ck_assert_int_eq(check_count(path, cause), 1);
	write_file("log", "w", LINE(2), strlen(LINE(2)));
	ck_assert_int_eq(ingest("log", USERS_DROP, 0, &r), 0);
	ck_assert_int_eq(r.ingested, 1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM interactions"
	    " WHERE user IS NULL"), 1);
	free(want);
	free(salt);
	free(cause);
	strbuf_release(&bad);
}
END_TEST

/*
 * People's preferences between candidates become comparisons as they are
 * ingested: the other side by its champion version or its prompt, a tie
 * as a tie, an unknown side or one candidate twice as none; once, when
 * the log is read again; on the feedback example of the same inputs; and
 * forgetting the user deletes them with the interactions.
 */
#define PREF(id, user, pref, other)					\
	"{\"id\":\"" id "\",\"prompt\":\"Be brief.\",\"user\":\"" user	\
	"\",\"inputs\":{\"text\":\"hello\"},\"response\":\"short\","	\
	"\"critique\":\"why " id "\",\"preference\":{\"other\":\"long\"," \
	"\"preferred\":\"" pref "\"," other "}}\n"

START_TEST(test_ingest_duels)
{
	struct champion_record	 ch;
	struct ingest_result	 r;
	struct interaction_row	*rows;
	struct comparison_row	*cmp;
	struct strbuf		 text;
	int64_t			 brief, longer, ex;
	size_t			 n;
	char			*cause = NULL, *sql;

	strbuf_init(&bad);
	strbuf_init(&text);
	brief = store_candidate_put(s, job, "Be brief.", "seed", &cause);
	longer = store_candidate_put(s, job, "Be long.", "seed", &cause);
	memset(&ch, 0, sizeof ch);
	ch.job = job;
	ch.candidate = longer;
	ch.p = ch.delta = NAN;
	ch.reason = "first";
	ck_assert_int_eq(store_champion_add(s, &ch, &cause), 0);
	ex = put_edit("e1", "dave", "hello", "hi");
	sql = xasprintf("INSERT INTO datasets (job_id, hash, n, created)"
	    " VALUES (%lld, 'h', 1, 0); INSERT INTO examples (dataset_id,"
	    " idx, line, split, fields, origin) VALUES (last_insert_rowid(),"
	    " 0, 0, 'dev', '{}', 'feedback'); INSERT INTO feedback_examples"
	    " VALUES (last_insert_rowid(), %lld)", (long long)job,
	    (long long)ex);
	check_exec_sql(path, sql);
	free(sql);
	ex = check_count(path, "SELECT max(id) FROM examples");

	strbuf_adds(&text, PREF("p1", "carol", "this", "\"other_version\":1"));
	strbuf_adds(&text, PREF("p2", "carol", "other",
	    "\"other_prompt\":\"Be long.\""));
	strbuf_adds(&text, PREF("p3", "erin", "tie", "\"other_version\":1"));
	/* Unknown, and the same candidate: interactions, no comparison. */
	strbuf_adds(&text, PREF("p4", "carol", "this",
	    "\"other_prompt\":\"Unknown.\""));
	strbuf_adds(&text, PREF("p5", "carol", "this",
	    "\"other_prompt\":\"Be brief.\""));
	write_file("prefs", "w", text.buf, text.len);
	ck_assert_int_eq(ingest("prefs", USERS_KEEP, 0, &r), 0);
	ck_assert_msg(r.bad == 0, "%s", bad.buf);
	ck_assert_int_eq(r.ingested, 5);
	ck_assert_int_eq(r.duels, 3);
	ingest_result_release(&r);

	ck_assert_int_eq(store_interactions(s, job, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(rows[1].candidate, brief);
	ck_assert_int_eq(rows[1].other, longer);
	ck_assert_int_eq(rows[2].other, longer);
	ck_assert_int_eq(rows[4].other, 0);
	ck_assert_int_eq(rows[5].other, brief);
	store_interaction_rows_free(rows, n);

	ck_assert_int_eq(store_comparison_list(s, job, 1, &cmp, &n, &cause),
	    0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(cmp[0].a, brief);
	ck_assert_int_eq(cmp[0].b, longer);
	ck_assert_int_eq(cmp[0].example, ex);
	ck_assert_str_eq(cmp[0].winner, "a");
	ck_assert_str_eq(cmp[1].winner, "b");
	ck_assert_str_eq(cmp[2].winner, "tie");
	ck_assert_str_eq(cmp[0].source, "human");
	ck_assert_str_eq(cmp[0].who, "carol");
	ck_assert_str_eq(cmp[2].who, "erin");
	ck_assert_str_eq(cmp[0].order_shown, "ab");
	ck_assert_str_eq(cmp[0].output_a, "short");
	ck_assert_str_eq(cmp[0].output_b, "long");
	store_comparison_rows_free(cmp, n);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"
	    " WHERE rationale = 'why p2' AND interaction_id ="
	    " (SELECT id FROM interactions WHERE key = 'p2')"), 1);

	/* Read again: nothing new. */
	ck_assert_int_eq(ingest("prefs", USERS_KEEP, 0, &r), 0);
	ck_assert_int_eq(r.duplicate, 5);
	ck_assert_int_eq(r.duels, 0);
	ingest_result_release(&r);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"),
	    3);

	/* Forgetting carol takes her two; erin's stays. */
	ck_assert_int_eq(store_interactions_forget(s, job, "carol", NULL,
	    &cause), 4);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"),
	    1);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"
	    " WHERE who = 'erin'"), 1);
	strbuf_release(&text);
	strbuf_release(&bad);
}
END_TEST

/* A judge's comparison of a and b, made now. */
static void
judge_said(int64_t a, int64_t b, const char *winner)
{
	struct comparison_record	 c;
	char				*cause = NULL;

	memset(&c, 0, sizeof c);
	c.job = job;
	c.a = a;
	c.b = b;
	c.winner = winner;
	c.source = "judge";
	ck_assert_msg(store_comparison_add(s, &c, &cause) > 0, "%s", cause);
}

/*
 * People's preferences as the judge's evidence: the latest first, made
 * by the time the run started (one made later is left for the next
 * run), with the input shown or the interaction's inputs; the block
 * shows them with tags of its own; and the judge's agreement with
 * people counts its comparisons of pairs people were not even on.
 */
START_TEST(test_human_prefs)
{
	struct comparison_record	 c;
	struct ingest_result		 r;
	struct human_pref		*h;
	struct task			 task;
	struct strbuf			 text;
	int64_t				 brief, longer, bold, duel, run;
	long long			 n_agree, agreed;
	size_t				 n;
	char				*cause = NULL, *block, *sql;

	strbuf_init(&bad);
	strbuf_init(&text);
	brief = store_candidate_put(s, job, "Be brief.", "seed", &cause);
	longer = store_candidate_put(s, job, "Be long.", "seed", &cause);
	bold = store_candidate_put(s, job, "Be bold.", "seed", &cause);
	strbuf_adds(&text, PREF("p1", "carol", "this",
	    "\"other_prompt\":\"Be long.\""));
	strbuf_adds(&text, PREF("p2", "dave", "other",
	    "\"other_prompt\":\"Be long.\""));
	strbuf_adds(&text, PREF("p3", "erin", "tie",
	    "\"other_prompt\":\"Be long.\""));
	strbuf_adds(&text, PREF("p4", "frank", "this",
	    "\"other_prompt\":\"Be long.\""));
	write_file("prefs", "w", text.buf, text.len);
	ck_assert_int_eq(ingest("prefs", USERS_KEEP, 0, &r), 0);
	ck_assert_int_eq(r.duels, 4);
	ingest_result_release(&r);
	/* A duel answered at promptctl feedback: the input shown. */
	memset(&c, 0, sizeof c);
	c.job = job;
	c.a = brief;
	c.b = bold;
	c.example = 0;
	c.output_a = "x";
	c.output_b = "y";
	c.order_shown = "ab";
	duel = store_comparison_queue(s, &c, "the shown input", &cause);
	ck_assert_msg(duel > 0, "%s", cause);
	ck_assert_int_eq(store_comparison_answer(s, duel, "b", "gina",
	    &cause), 1);
	run = store_run_new(s, job, "optimize", 0, &cause);
	ck_assert_msg(run > 0, "%s", cause);
	/* Started after all of them; then one more comes in. */
	sql = xasprintf("UPDATE runs SET started = (SELECT"
	    " max(coalesce(answered, created)) FROM comparisons) WHERE id ="
	    " %lld", (long long)run);
	check_exec_sql(path, sql);
	free(sql);
	strbuf_reset(&text);
	strbuf_adds(&text, PREF("p5", "hal", "other",
	    "\"other_prompt\":\"Be long.\""));
	write_file("prefs", "a", text.buf, text.len);
	ck_assert_int_eq(ingest("prefs", USERS_KEEP, 0, &r), 0);
	ck_assert_int_eq(r.duels, 1);
	ingest_result_release(&r);
	sql = xasprintf("UPDATE comparisons SET created = created + 10"
	    " WHERE who = 'hal'");
	check_exec_sql(path, sql);
	free(sql);

	ck_assert_int_eq(store_human_prefs(s, job, run, 0, &h, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_human_prefs(s, job, run, 10, &h, &n, &cause),
	    0);
	ck_assert_uint_eq(n, 5);
	store_human_prefs_free(h, n);
	ck_assert_int_eq(store_human_prefs(s, job, run, 2, &h, &n, &cause),
	    0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(h[0].id, duel);
	ck_assert_str_eq(h[0].input, "the shown input");
	ck_assert_ptr_null(h[0].inputs);
	ck_assert_str_eq(h[0].winner, "b");
	ck_assert_ptr_null(h[0].why);
	ck_assert_ptr_null(h[1].input);
	ck_assert_str_eq(cJSON_GetObjectItem(h[1].inputs, "text")->valuestring,
	    "hello");
	ck_assert_int_eq(h[1].a, brief);
	ck_assert_int_eq(h[1].b, longer);
	ck_assert_str_eq(h[1].output_a, "short");
	ck_assert_str_eq(h[1].output_b, "long");
	ck_assert_str_eq(h[1].winner, "a");
	ck_assert_str_eq(h[1].why, "why p4");

	memset(&task, 0, sizeof task);
	task.tmpl = template_compile("Say: {{text}}", &cause);
	ck_assert_msg(task.tmpl != NULL, "%s", cause);
	block = jobrun_judge_block(&task, h, n);
	ck_assert_ptr_null(jobrun_judge_block(&task, h, 0));
	ck_assert_msg(strstr(block, "<people_choices>\n<choice>\n"
	    "<choice_input>the shown input</choice_input>\n<answer_a>x"
	    "</answer_a>\n<answer_b>y</answer_b>\n<preferred>b</preferred>\n"
	    "</choice>\n<choice>\n<choice_input>Say: hello</choice_input>\n"
	    "<answer_a>short</answer_a>\n<answer_b>long</answer_b>\n"
	    "<preferred>a</preferred>\n<why>why p4</why>\n</choice>\n"
	    "</people_choices>\n\n") != NULL, "%s", block);
	/* The question's own tags are not in it. */
	ck_assert_ptr_null(strstr(block, "<input>"));
	ck_assert_ptr_null(strstr(block, "<response_a>"));
	free(block);
	template_free(task.tmpl);
	store_human_prefs_free(h, n);

	/*
	 * People: brief over longer (2 to 1, a tie), bold over brief; the
	 * run's judge: two of four agree, a pair people never compared is
	 * not counted.
	 */
	judge_said(brief, longer, "a");
	judge_said(longer, brief, "a");
	judge_said(longer, brief, "b");
	judge_said(brief, bold, "a");
	judge_said(longer, bold, "tie");
	ck_assert_int_eq(store_judge_agreement(s, job, run, &n_agree, &agreed,
	    &cause), 0);
	ck_assert_int_eq(n_agree, 4);
	ck_assert_int_eq(agreed, 2);
	strbuf_release(&text);
	strbuf_release(&bad);
}
END_TEST

/*
 * A database of schema 13 gets, for what it ingested, the other side's
 * candidate and the comparisons a log read now would make.
 */
START_TEST(test_migrate_v13)
{
	struct interaction	 it;
	int64_t			 brief, longer;
	char			*cause = NULL, *sql;

	store_close(s);
	check_rmtree(tmp);
	free(tmp);
	tmp = check_tmpdir();
	free(path);
	path = xasprintf("%s/v13.db", tmp);
	s = store_open_version(path, 13, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "old", "{}", &cause);
	brief = store_candidate_put(s, job, "Be brief.", "seed", &cause);
	longer = store_candidate_put(s, job, "Be long.", "seed", &cause);
	store_close(s);
	/* By hand: store_champion_add() writes today's columns. */
	sql = xasprintf("INSERT INTO champions (job_id, version, candidate_id,"
	    " reason, created) VALUES (%lld, 1, %lld, 'first', 0)",
	    (long long)job, (long long)longer);
	check_exec_sql(path, sql);
	free(sql);
	sql = xasprintf("INSERT INTO interactions (job_id, key, time,"
	    " ingested, candidate_id, inputs, response, user, preferred,"
	    " other, other_version, other_prompt) VALUES"
	    " (%1$lld, 'a', 0, 5, %2$lld, '{}', 'r', 'u', 'other', 'o', 1,"
	    " NULL), (%1$lld, 'b', 0, 6, %2$lld, '{}', 'r', 'u', 'tie', 'o',"
	    " NULL, 'Be long.'), (%1$lld, 'c', 0, 7, %2$lld, '{}', 'r', 'u',"
	    " 'this', 'o', NULL, 'Unknown.'), (%1$lld, 'd', 0, 8, NULL, '{}',"
	    " 'r', 'u', 'this', 'o', 1, NULL)", (long long)job,
	    (long long)brief);
	check_exec_sql(path, sql);
	free(sql);
	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(check_count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	sql = xasprintf("SELECT count(*) FROM interactions WHERE"
	    " other_candidate_id = %lld", (long long)longer);
	ck_assert_int_eq(check_count(path, sql), 3);
	free(sql);
	sql = xasprintf("SELECT count(*) FROM comparisons WHERE a = %lld AND"
	    " b = %lld AND source = 'human' AND order_shown = 'ab' AND"
	    " who = 'u' AND ((winner = 'b' AND created = 5) OR"
	    " (winner = 'tie' AND created = 6))", (long long)brief,
	    (long long)longer);
	ck_assert_int_eq(check_count(path, sql), 2);
	free(sql);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"),
	    2);
	/* And a comparison of the same interaction is not made twice. */
	interaction(&it, "a", "r");
	ck_assert_int_eq(store_interaction_put(s, job, &it, brief, longer,
	    NULL, 0, NULL, &cause), 0);
	feedback_release(&it);
	ck_assert_int_eq(store_interactions_forget(s, job, "u", NULL, &cause),
	    4);
	ck_assert_int_eq(check_count(path, "SELECT count(*) FROM comparisons"),
	    0);
}
END_TEST

static Suite *
store_feedback_suite(void)
{
	Suite	*su = suite_create("store_feedback");
	TCase	*tc = tcase_create("store_feedback");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_read);
	tcase_add_test(tc, test_put_once);
	tcase_add_test(tc, test_tally);
	tcase_add_test(tc, test_candidate);
	tcase_add_test(tc, test_human_critiques);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_forget_derived);
	tcase_add_test(tc, test_source);
	tcase_add_test(tc, test_salt);
	tcase_add_test(tc, test_migrate_v11);
	tcase_add_test(tc, test_migrate_v12);
	tcase_add_test(tc, test_ingest_whole);
	tcase_add_test(tc, test_ingest_follow);
	tcase_add_test(tc, test_ingest_users);
	tcase_add_test(tc, test_ingest_duels);
	tcase_add_test(tc, test_human_prefs);
	tcase_add_test(tc, test_migrate_v13);
	suite_add_tcase(su, tc);
	return su;
}

CHECK_MAIN(store_feedback_suite)
