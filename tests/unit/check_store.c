/*
 * Tests of the store: opening, migrations, refusals, and every write the
 * API offers.  Raw SQLite connections check what reached the file.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "backend.h"
#include "check_common.h"
#include "dataset.h"
#include "hash.h"
#include "query.h"
#include "rng.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static char	*tmp;

static void
setup(void)
{
	tmp = check_tmpdir();
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp);
}

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

/* Runs sql on its own connection and fails the test on an error. */
static void
raw_exec(const char *path, const char *sql)
{
	check_exec_sql(path, sql);
}

/* The first column of the first row of sql, as allocated text. */
static char *
raw_text(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	const char	*v;
	char		*out = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		ck_abort_msg("raw '%s': %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (v = (const char *)sqlite3_column_text(st, 0)) != NULL)
		out = xstrdup(v);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static long long
raw_int(const char *path, const char *sql)
{
	char		*v = raw_text(path, sql);
	long long	 n;

	ck_assert_msg(v != NULL, "raw '%s': no value", sql);
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static void
raw_is(const char *path, const char *sql, const char *want)
{
	char	*v = raw_text(path, sql);

	if (want == NULL)
		ck_assert_msg(v == NULL, "raw '%s': '%s', wanted NULL", sql, v);
	else {
		ck_assert_msg(v != NULL, "raw '%s': NULL, wanted '%s'", sql,
		    want);
		ck_assert_str_eq(v, want);
	}
	free(v);
}

static struct store *
open_ok(const char *path)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "store_open: %s", cause);
	return s;
}

START_TEST(test_open_fresh)
{
	struct store	*s;
	char		*path = tmp_path("fresh.db");

	s = open_ok(path);
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	ck_assert_str_eq(store_path(s), path);
	store_close(s);
	raw_is(path, "PRAGMA journal_mode", "wal");
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table'"), 22);
	store_close(NULL);
	free(path);
}
END_TEST

START_TEST(test_reopen)
{
	struct store	*s;
	char		*path = tmp_path("reopen.db"), *cause = NULL;
	int64_t		 job;

	s = open_ok(path);
	job = store_job_put(s, "nightly", "{\"a\":1}", &cause);
	ck_assert_int_gt(job, 0);
	ck_assert_int_eq(store_job_find(s, "absent", &cause), 0);
	store_close(s);

	s = open_ok(path);
	ck_assert_int_eq(store_job_find(s, "nightly", &cause), job);
	/* Putting the same name again updates the spec, keeps the id. */
	ck_assert_int_eq(store_job_put(s, "nightly", "{\"a\":2}", &cause), job);
	store_close(s);
	raw_is(path, "SELECT spec FROM jobs", "{\"a\":2}");
	raw_is(path, "SELECT state FROM jobs", "queued");
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM jobs"), 1);
	free(path);
}
END_TEST

START_TEST(test_migrate_v1)
{
	struct store	*s;
	char		*path = tmp_path("v1.db"), *cause = NULL, *want;
	int64_t		 job, cand, run, other;

	s = store_open_version(path, 1, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	ck_assert_int_eq(store_version(s), 1);
	job = store_job_put(s, "old", "{}", &cause);
	ck_assert_int_gt(job, 0);
	cand = store_candidate_put(s, job, "Answer briefly.", "seed", &cause);
	ck_assert_int_gt(cand, 0);
	run = store_run_new(s, job, "optimize", 0, &cause);
	ck_assert_int_gt(run, 0);
	/* Version 1 has no feedback column: the v2 insert is refused. */
	ck_assert_int_eq(store_evaluation_add(s, run, cand, 1, "x", 1.0, NULL,
	    0, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "store: add evaluation: "));
	ck_assert_ptr_nonnull(strstr(cause, "feedback"));
	store_close(s);

	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 1);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM"
	    " pragma_table_info('evaluations') WHERE name = 'feedback'"), 0);
	raw_exec(path,
	    "INSERT INTO datasets (job_id, path, hash, n, created)"
	    " VALUES (1, 'd.jsonl', 'abc', 1, 100);"
	    "INSERT INTO examples (dataset_id, idx, line, split, hash, fields)"
	    " VALUES (1, 0, 1, 'train', 'h', '{\"q\":1}');"
	    "INSERT INTO calls (run_id, backend, model, role, cache_key,"
	    " status, created) VALUES (1, 'b', 'm', 'target', 'k', 'ok', 100);"
	    "INSERT INTO evaluations (run_id, candidate_id, example_id, output,"
	    " score, call_id, created) VALUES (1, 1, 1, 'out', 0.5, 1, 100);");

	/* Opening with an older target does not touch a newer file. */
	s = store_open_version(path, 1, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	store_close(s);

	s = open_ok(path);
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_job_find(s, "old", &cause), job);
	ck_assert_int_eq(store_candidate_put(s, job, "Answer briefly.", "seed",
	    &cause), cand);
	/* The run has a score on that example already: it holds. */
	ck_assert_int_eq(store_evaluation_add(s, run, cand, 1, "z", 1.0,
	    NULL, 0, &cause), 0);
	other = store_candidate_put(s, job, "Answer at length.", "seed",
	    &cause);
	ck_assert_int_gt(store_evaluation_add(s, run, other, 1, "y", 0.0,
	    "too short", 0, &cause), 0);
	store_close(s);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM evaluations"
	    " WHERE score = 0.5 AND output = 'out'"), 1);

	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	raw_is(path, "SELECT output FROM evaluations WHERE id = 1", "out");
	raw_is(path, "SELECT feedback FROM evaluations WHERE id = 1", NULL);
	raw_is(path, "SELECT feedback FROM evaluations WHERE id = 2",
	    "too short");
	raw_is(path, "SELECT used FROM datasets WHERE id = 1", "100.0");
	/* Version 5 rebuilt calls and examples: rows, ids and links kept;
	 * calls by cache key (version 2) is an index no more. */
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name = 'calls_cache_key'"), 0);
	raw_is(path, "SELECT e.output || c.cache_key || x.split"
	    " FROM evaluations e JOIN calls c ON c.id = e.call_id"
	    " JOIN examples x ON x.id = e.example_id WHERE e.id = 1",
	    "outktrain");
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE name IN ('calls', 'examples') AND sql LIKE '% IN (%'"), 0);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name IN ('calls_run',"
	    " 'examples_dataset_split')"), 2);

	ck_assert_ptr_null(store_open_version(path, 0, &cause));
	want = xasprintf("store: schema version 0 is not between 1 and %d",
	    STORE_SCHEMA_VERSION);
	ck_assert_str_eq(cause, want);
	free(want);
	ck_assert_ptr_null(store_open_version(path, STORE_SCHEMA_VERSION + 1,
	    &cause));
	free(cause);
	free(path);
}
END_TEST

/*
 * A migration that would leave a broken link (a row written by another
 * program with foreign keys off) is refused, and the file stays as it
 * was; the calls table of version 5 still refuses a bad status.
 */
START_TEST(test_migrate_fk_broken)
{
	struct store		*s;
	struct call_record	 rec;
	char			*path = tmp_path("fk.db"), *cause = NULL;
	char			*want;

	s = store_open_version(path, 4, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	store_close(s);
	raw_exec(path, "INSERT INTO calls (run_id, status, created)"
	    " VALUES (42, 'ok', 100);");
	ck_assert_ptr_null(store_open(path, &cause));
	want = xasprintf("store: migrate '%s' to schema version 5: a foreign "
	    "key would be broken: calls row 1 refers to a missing runs row",
	    path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 4);
	ck_assert_int_eq(raw_int(path, "SELECT run_id FROM calls"), 42);

	raw_exec(path, "DELETE FROM calls;");
	s = open_ok(path);
	memset(&rec, 0, sizeof rec);
	rec.status = "paid";
	ck_assert_int_eq(store_call_add(s, &rec, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "CHECK constraint failed"));
	free(cause);
	store_close(s);
	ck_assert_int_eq(raw_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM calls"), 0);
	free(path);
}
END_TEST

START_TEST(test_newer_refused)
{
	char	*path = tmp_path("new.db"), *cause = NULL, *want;

	store_close(open_ok(path));
	raw_exec(path, "PRAGMA user_version = 99");
	ck_assert_ptr_null(store_open(path, &cause));
	want = xasprintf("database '%s' has schema version 99, newer than "
	    "this promptd (%d)", path, STORE_SCHEMA_VERSION);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_not_a_database)
{
	char	*path = tmp_path("garbage.db"), *cause = NULL, *want;
	FILE	*f;
	int	 i;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < 200; i++)
		fputs("this is not an SQLite file at all\n", f);
	fclose(f);
	ck_assert_ptr_null(store_open(path, &cause));
	want = xasprintf("'%s' is not a promptd database: file is not a "
	    "database", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(path);

	/* Another program's SQLite database is refused, not altered. */
	path = tmp_path("other.db");
	raw_exec(path, "CREATE TABLE jobs (x)");
	ck_assert_ptr_null(store_open(path, &cause));
	want = xasprintf("'%s' is not a promptd database: it has tables but "
	    "no promptd schema version", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(path);

	path = tmp_path("missing/dir/x.db");
	ck_assert_ptr_null(store_open(path, &cause));
	want = xasprintf("cannot open database '%s': ", path);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	free(want);
	free(path);
	free(cause);
}
END_TEST

START_TEST(test_candidates)
{
	struct store	*s;
	char		*path = tmp_path("cand.db"), *cause = NULL, *text;
	int64_t		 job, job2, a, b, id, first = 0;
	int		 i;

	s = open_ok(path);
	job = store_job_put(s, "j", "{}", &cause);
	job2 = store_job_put(s, "k", "{}", &cause);
	a = store_candidate_put(s, job, "Say hi.", "seed", &cause);
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(store_candidate_put(s, job, "Say hi.", "mutate",
	    &cause), a);
	b = store_candidate_put(s, job, "Say hello.", "mutate", &cause);
	ck_assert_int_gt(b, a);
	/* The same text in another job is another candidate. */
	id = store_candidate_put(s, job2, "Say hi.", "seed", &cause);
	ck_assert_int_gt(id, b);
	/* The statement is reused many times. */
	for (i = 0; i < 200; i++) {
		text = xasprintf("prompt %d", i % 50);
		id = store_candidate_put(s, job, text, "seed", &cause);
		ck_assert_int_gt(id, 0);
		if (i == 0)
			first = id;
		if (i == 50)
			ck_assert_int_eq(id, first);
		free(text);
	}
	ck_assert_int_eq(store_lineage_add(s, b, a, "mutate", "shorter",
	    &cause), 0);
	/* Replaying a step adds the same edge again: nothing changes. */
	ck_assert_int_eq(store_lineage_add(s, b, a, "mutate", "shorter",
	    &cause), 0);
	ck_assert_int_eq(store_lineage_add(s, b, 9999, "mutate", NULL, &cause),
	    -1);
	ck_assert_str_eq(cause, "store: add lineage: FOREIGN KEY constraint "
	    "failed");
	store_close(s);

	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM candidates"
	    " WHERE job_id = 1"), 52);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM lineage"), 1);
	raw_is(path, "SELECT origin FROM candidates WHERE text = 'Say hi.'"
	    " AND job_id = 1", "seed");
	raw_is(path, "SELECT hash FROM candidates WHERE text = 'Say hi.'"
	    " AND job_id = 1",
	    "e276e57b8ac9f3857095d37ab86c3acc1d51b9a4bc666b238bc67f442a47092b");
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_snapshot)
{
	struct store	*s;
	struct dataset	*a, *a2, *b;
	char		*path = tmp_path("ds.db"), *cause = NULL;
	int64_t		 job, job2, ida, idb, id, ex0;
	int		 changed = -1;
	size_t		 i;

	s = open_ok(path);
	job = store_job_put(s, "j", "{}", &cause);
	job2 = store_job_put(s, "k", "{}", &cause);

	a = check_dataset(5, "alpha");
	ida = store_dataset_snapshot(s, job, a, &changed, &cause);
	ck_assert_msg(ida > 0, "%s", cause);
	ck_assert_int_eq(changed, 1);
	for (i = 0; i < a->n; i++) {
		ck_assert_int_gt(a->ex[i].id, 0);
		if (i > 0)
			ck_assert_int_gt(a->ex[i].id, a->ex[i - 1].id);
	}
	ex0 = a->ex[0].id;

	/* The same content again: the same snapshot and example ids. */
	a2 = check_dataset(5, "alpha");
	ck_assert_int_eq(store_dataset_snapshot(s, job, a2, &changed, &cause),
	    ida);
	ck_assert_int_eq(changed, 0);
	for (i = 0; i < a->n; i++)
		ck_assert_int_eq(a2->ex[i].id, a->ex[i].id);

	b = check_dataset(3, "beta");
	idb = store_dataset_snapshot(s, job, b, &changed, &cause);
	ck_assert_int_gt(idb, ida);
	ck_assert_int_eq(changed, 1);

	/* Going back to the first data reuses it and is a change once. */
	a2->ex[0].id = 0;
	ck_assert_int_eq(store_dataset_snapshot(s, job, a2, &changed, &cause),
	    ida);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(a2->ex[0].id, ex0);
	ck_assert_int_eq(store_dataset_snapshot(s, job, a2, &changed, &cause),
	    ida);
	ck_assert_int_eq(changed, 0);

	/* The same file split differently is a new snapshot. */
	a2->ex[0].split = SPLIT_TEST;
	id = store_dataset_snapshot(s, job, a2, &changed, &cause);
	ck_assert_int_gt(id, idb);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_ne(a2->ex[0].id, ex0);

	/* Snapshots belong to a job. */
	id = store_dataset_snapshot(s, job2, a, &changed, NULL);
	ck_assert_int_gt(id, ida);
	ck_assert_int_eq(changed, 1);

	/* A missing job is an error; no example keeps a stale id. */
	ck_assert_int_eq(store_dataset_snapshot(s, 9999, b, &changed, &cause),
	    -1);
	ck_assert_str_eq(cause, "store: add dataset snapshot: FOREIGN KEY "
	    "constraint failed");
	for (i = 0; i < b->n; i++)
		ck_assert_int_eq(b->ex[i].id, 0);

	/* Fields that cannot be encoded are an error, and nothing stays. */
	cJSON_Delete(b->ex[2].fields);
	b->ex[2].fields = NULL;
	b->hash[0] = 'X';
	ck_assert_int_eq(store_dataset_snapshot(s, job, b, &changed, &cause),
	    -1);
	ck_assert_str_eq(cause, "store: add example: cannot encode the fields "
	    "of example 2");
	store_close(s);

	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM datasets"), 4);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM examples"),
	    5 + 3 + 5 + 5);
	raw_is(path, "SELECT fields FROM examples WHERE dataset_id = 1"
	    " AND idx = 1", "{\"q\":\"alpha-1\",\"a\":1}");
	raw_is(path, "SELECT split || ' ' || line FROM examples"
	    " WHERE dataset_id = 1 AND idx = 2", "test 3");
	raw_is(path, "SELECT path || ' ' || n FROM datasets WHERE id = 2",
	    "beta.jsonl 3");
	check_dataset_free(a);
	check_dataset_free(a2);
	check_dataset_free(b);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_cache)
{
	struct store	*s;
	char		*path = tmp_path("cache.db"), *cause = NULL, *resp;

	s = open_ok(path);
	resp = (char *)1;
	ck_assert_int_eq(store_cache_get(s, "k1", &resp, &cause), 0);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(store_cache_put(s, "k1", "{\"text\":\"hi\"}", &cause),
	    0);
	ck_assert_int_eq(store_cache_get(s, "k1", &resp, &cause), 1);
	ck_assert_str_eq(resp, "{\"text\":\"hi\"}");
	free(resp);
	/* The first answer stays. */
	ck_assert_int_eq(store_cache_put(s, "k1", "other", &cause), 0);
	ck_assert_int_eq(store_cache_get(s, "k1", &resp, &cause), 1);
	ck_assert_str_eq(resp, "{\"text\":\"hi\"}");
	free(resp);
	ck_assert_int_eq(store_cache_get(s, "k2", &resp, &cause), 0);
	ck_assert_int_eq(store_cache_put(s, "k2", NULL, &cause), -1);
	ck_assert_str_eq(cause, "store: write cache: NOT NULL constraint "
	    "failed: cache.response");
	store_close(s);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_calls_and_evaluations)
{
	struct store		*s;
	struct dataset		*ds;
	struct call_record	 c;
	struct run_totals	 t = { 3, 1, 420, 0.25, 40 };
	char			*path = tmp_path("calls.db"), *cause = NULL;
	int64_t			 job, dsid, run, cand, call, ev;

	s = open_ok(path);
	job = store_job_put(s, "j", "{}", &cause);
	ds = check_dataset(2, "d");
	dsid = store_dataset_snapshot(s, job, ds, NULL, &cause);
	ck_assert_int_gt(dsid, 0);
	run = store_run_new(s, job, "refresh", dsid, &cause);
	ck_assert_int_gt(run, 0);
	cand = store_candidate_put(s, job, "p", "seed", &cause);

	memset(&c, 0, sizeof c);
	c.run = run;
	c.backend = "sim";
	c.model = "sim-1";
	c.role = "target";
	c.key = "abc";
	c.attempt = 1;
	c.prompt_tokens = 10;
	c.completion_tokens = 5;
	c.cost = 0.001;
	c.latency = 0.5;
	c.status = "ok";
	call = store_call_add(s, &c, &cause);
	ck_assert_int_gt(call, 0);
	c.run = 0;
	c.status = "error";
	c.http_status = 429;
	c.error = "rate limited";
	ck_assert_int_gt(store_call_add(s, &c, &cause), call);
	c.status = "maybe";
	ck_assert_int_eq(store_call_add(s, &c, &cause), -1);
	ck_assert_msg(strncmp(cause, "store: add call: CHECK constraint "
	    "failed", 38) == 0, "%s", cause);

	ev = store_evaluation_add(s, run, cand, ds->ex[0].id, "positive", 1.0,
	    "right label", call, &cause);
	ck_assert_int_gt(ev, 0);
	ck_assert_int_gt(store_evaluation_add(s, run, cand, ds->ex[1].id, NULL,
	    0.0, NULL, 0, &cause), ev);

	ck_assert_int_eq(store_run_finish(s, run, "done", &t, &cause), 0);
	ck_assert_int_eq(store_run_finish(s, 999, "done", NULL, &cause), -1);
	ck_assert_str_eq(cause, "store: finish run: no run 999");
	ck_assert_int_eq(store_run_new(s, job, "sleep", 0, &cause), -1);
	ck_assert_msg(strncmp(cause, "store: new run: CHECK constraint failed",
	    39) == 0, "%s", cause);

	ck_assert_int_eq(store_job_set_state(s, job, "running", NULL, &cause),
	    0);
	ck_assert_int_eq(store_job_set_state(s, job, "exhausted",
	    "max_calls reached", &cause), 0);
	ck_assert_int_eq(store_job_set_state(s, job, "asleep", NULL, &cause),
	    -1);
	ck_assert_msg(strncmp(cause, "store: set job state: CHECK constraint "
	    "failed", 44) == 0, "%s", cause);
	ck_assert_int_eq(store_job_set_state(s, 77, "done", NULL, &cause), -1);
	ck_assert_str_eq(cause, "store: set job state: no job 77");

	ck_assert_int_eq(store_event(s, job, run, "info", "started", &cause),
	    0);
	ck_assert_int_eq(store_event(s, 0, 0, "warn", "global", &cause), 0);
	store_close(s);

	raw_is(path, "SELECT backend || model || role || cache_key || attempt"
	    " || cached || prompt_tokens || completion_tokens || status"
	    " FROM calls WHERE id = 1", "simsim-1targetabc10105ok");
	raw_is(path, "SELECT http_status FROM calls WHERE id = 1", NULL);
	raw_is(path, "SELECT run_id FROM calls WHERE id = 2", NULL);
	raw_is(path, "SELECT http_status || ' ' || error FROM calls"
	    " WHERE id = 2", "429 rate limited");
	raw_is(path, "SELECT output || ' ' || score || ' ' || feedback || ' '"
	    " || call_id FROM evaluations WHERE id = 1",
	    "positive 1.0 right label 1");
	raw_is(path, "SELECT call_id FROM evaluations WHERE id = 2", NULL);
	raw_is(path, "SELECT status || ' ' || calls || ' ' || hits || ' ' ||"
	    " tokens || ' ' || dollars || ' ' || (ended >= started) || ' ' ||"
	    " kind || ' ' || dataset_id FROM runs", "done 3 1 420 0.25 1 "
	    "refresh 1");
	raw_is(path, "SELECT state || ' ' || reason FROM jobs",
	    "exhausted max_calls reached");
	raw_is(path, "SELECT group_concat(coalesce(job_id, '-') || level ||"
	    " message, ',') FROM events", "1infostarted,-warnglobal");
	check_dataset_free(ds);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_transactions)
{
	struct store	*s;
	char		*path = tmp_path("tx.db"), *cause = NULL;

	s = open_ok(path);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "a", "{}", &cause), 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	/* Only the outermost commit is real. */
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM jobs"), 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM jobs"), 1);

	/* An inner rollback undoes its own level only; the outer one
	 * commits what it wrote, and an outermost rollback undoes all. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "b", "{}", &cause), 0);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "c", "{}", &cause), 0);
	ck_assert_int_eq(store_rollback(s), 0);
	ck_assert_int_eq(store_job_find(s, "c", &cause), 0);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_gt(store_job_find(s, "b", &cause), 0);
	ck_assert_int_eq(store_commit(s, &cause), -1);
	ck_assert_str_eq(cause, "store: commit: no transaction is open");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "b2", "{}", &cause), 0);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_eq(store_rollback(s), 0);
	ck_assert_int_eq(store_rollback(s), 0);
	ck_assert_int_eq(store_rollback(s), 0);
	ck_assert_int_eq(store_job_find(s, "b2", &cause), 0);

	/* A failed statement inside a transaction leaves the rest. */
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "d", "{}", &cause), 0);
	ck_assert_int_eq(store_candidate_put(s, 4242, "x", "seed", &cause), -1);
	ck_assert_int_eq(store_commit(s, &cause), 0);
	ck_assert_int_gt(store_job_find(s, "d", &cause), 0);
	store_close(s);

	/* Closing with an open transaction discards it. */
	s = open_ok(path);
	ck_assert_int_eq(store_begin(s, &cause), 0);
	ck_assert_int_gt(store_job_put(s, "e", "{}", &cause), 0);
	store_close(s);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM jobs"), 3);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_foreign_keys)
{
	struct store	*s;
	char		*path = tmp_path("fk.db"), *cause = NULL;
	int64_t		 job;

	s = open_ok(path);
	ck_assert_int_eq(store_candidate_put(s, 12, "x", "seed", &cause), -1);
	ck_assert_str_eq(cause, "store: add candidate: FOREIGN KEY constraint "
	    "failed");
	ck_assert_int_eq(store_run_new(s, 12, "eval", 0, &cause), -1);
	ck_assert_str_eq(cause, "store: new run: FOREIGN KEY constraint "
	    "failed");
	ck_assert_int_eq(store_evaluation_add(s, 1, 2, 3, "o", 0.5, NULL, 0,
	    &cause), -1);
	ck_assert_str_eq(cause, "store: add evaluation: FOREIGN KEY constraint "
	    "failed");
	ck_assert_int_eq(store_event(s, 5, 0, "info", "x", &cause), -1);
	ck_assert_str_eq(cause, "store: add event: FOREIGN KEY constraint "
	    "failed");
	/* The statements were reset: the store still works. */
	job = store_job_put(s, "j", "{}", &cause);
	ck_assert_int_gt(job, 0);
	ck_assert_int_gt(store_candidate_put(s, job, "x", "seed", &cause), 0);
	store_close(s);
	free(cause);
	free(path);
}
END_TEST

START_TEST(test_default_path)
{
	struct stat	 st;
	char		*xdg, *want, *path, *cause = NULL, *file, *dir;
	FILE		*f;

	xdg = tmp_path("state/deeper");
	setenv("XDG_STATE_HOME", xdg, 1);
	path = store_default_path(&cause);
	ck_assert_msg(path != NULL, "%s", cause);
	want = xasprintf("%s/promptd/promptd.db", xdg);
	ck_assert_str_eq(path, want);
	dir = xasprintf("%s/promptd", xdg);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	free(dir);
	free(want);
	free(path);
	/* An existing directory is fine. */
	path = store_default_path(&cause);
	ck_assert_ptr_nonnull(path);
	free(path);

	/* systemd's STATE_DIRECTORY comes first (its first directory). */
	dir = tmp_path("service");
	want = xasprintf("%s:%s/other", dir, dir);
	setenv("STATE_DIRECTORY", want, 1);
	free(want);
	path = store_default_path(&cause);
	ck_assert_ptr_nonnull(path);
	want = xasprintf("%s/promptd.db", dir);
	ck_assert_str_eq(path, want);
	unsetenv("STATE_DIRECTORY");
	free(want);
	free(path);
	free(dir);

	/*
	 * A relative XDG_STATE_HOME is ignored for HOME (for root, the
	 * system's directory is taken, which a test must not create).
	 */
	setenv("XDG_STATE_HOME", "relative", 1);
	want = tmp_path("home");
	setenv("HOME", want, 1);
	free(want);
	if (getuid() != 0) {
		path = store_default_path(&cause);
		ck_assert_ptr_nonnull(path);
		want = tmp_path("home/.local/state/promptd/promptd.db");
		ck_assert_str_eq(path, want);
		free(want);
		free(path);
	}

	/* A file in the way is named. */
	file = tmp_path("file");
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fclose(f);
	want = xasprintf("cannot create directory '%s/sub': Not a directory",
	    file);
	dir = xasprintf("%s/sub", file);
	setenv("XDG_STATE_HOME", dir, 1);
	ck_assert_ptr_null(store_default_path(&cause));
	ck_assert_str_eq(cause, want);
	free(want);
	free(dir);
	setenv("XDG_STATE_HOME", file, 1);
	ck_assert_ptr_null(store_default_path(&cause));
	want = xasprintf("cannot create directory '%s/promptd': Not a "
	    "directory", file);
	ck_assert_str_eq(cause, want);
	free(want);
	free(file);

	if (getuid() != 0) {
		unsetenv("XDG_STATE_HOME");
		unsetenv("HOME");
		ck_assert_ptr_null(store_default_path(&cause));
		ck_assert_str_eq(cause, "cannot choose a database path: "
		    "neither XDG_STATE_HOME nor HOME is set to an absolute "
		    "path");
	}
	free(cause);
	free(xdg);
}
END_TEST

/* Version 3: a job's file, and the time of its last run of a kind. */
START_TEST(test_daemon_rows)
{
	struct store	*s;
	struct job_row	*rows = NULL, row;
	size_t		 n = 0;
	char		*path = tmp_path("v2.db"), *cause = NULL;
	double		 t = 0;
	int64_t		 a, b;

	s = store_open_version(path, 2, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	a = store_job_put(s, "a", "{\"x\":1}", &cause);
	ck_assert_int_gt(a, 0);
	store_close(s);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM"
	    " pragma_table_info('jobs') WHERE name = 'file'"), 0);

	s = open_ok(path);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM"
	    " pragma_table_info('jobs') WHERE name = 'file'"), 1);
	b = store_job_put(s, "b", "{}", &cause);
	ck_assert_int_eq(store_job_set_file(s, b, "/x/b.json", &cause), 0);
	ck_assert_int_eq(store_job_set_file(s, 99, "/x", &cause), -1);
	ck_assert_str_eq(cause, "store: set job file: no job 99");
	ck_assert_int_eq(store_job_list(s, &rows, &n, &cause), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(rows[0].name, "a");
	ck_assert_ptr_null(rows[0].file);
	ck_assert_str_eq(rows[1].file, "/x/b.json");
	store_job_rows_free(rows, n);
	ck_assert_int_eq(store_job_get(s, "b", &row, &cause), 1);
	ck_assert_str_eq(row.file, "/x/b.json");
	store_job_row_release(&row);

	ck_assert_int_eq(store_run_last(s, a, NULL, &t, &cause), 0);
	ck_assert_int_gt(store_run_new(s, a, "optimize", 0, &cause), 0);
	ck_assert_int_gt(store_run_new(s, a, "refresh", 0, &cause), 0);
	ck_assert_int_eq(store_run_last(s, a, "refresh", &t, &cause), 1);
	ck_assert(t > 0);
	ck_assert_int_eq(store_run_last(s, a, "eval", &t, &cause), 0);
	ck_assert_int_eq(store_run_last(s, a, NULL, &t, &cause), 1);
	ck_assert_int_eq(store_run_last(s, b, NULL, &t, &cause), 0);
	store_close(s);
	free(cause);
	free(path);
}
END_TEST

/*
 * What a resumed run reads back, on a database migrated from version 6:
 * its evaluations (a failure, then the score that replaced it; a score
 * that a later failure does not touch), what it spent (only answered
 * calls count) and its failed attempts by cause.
 */
START_TEST(test_run_rows)
{
	struct store		*s;
	struct call_record	 c;
	struct run_totals	 t;
	struct run_score	*rows;
	struct failure_row	*f;
	size_t			 n;
	char			*path = tmp_path("v6.db"), *cause = NULL;
	int64_t			 job, run, cand, call;

	s = store_open_version(path, 6, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "a", "{}", &cause);
	run = store_run_new(s, job, "optimize", 0, &cause);
	cand = store_candidate_put(s, job, "Say it.", "seed", &cause);
	raw_exec(path, "INSERT INTO datasets (job_id, path, hash, n, created)"
	    " VALUES (1, 'd.jsonl', 'abc', 2, 100);"
	    "INSERT INTO examples (dataset_id, idx, line, split, hash, fields)"
	    " VALUES (1, 0, 1, 'dev', 'h', '{}'), (1, 1, 2, 'dev', 'i', '{}');"
	    "INSERT INTO evaluations (run_id, candidate_id, example_id, output,"
	    " score, created) VALUES (1, 1, 1, 'a', 1, 100),"
	    " (1, 1, 1, 'b', 0, 101);");
	store_close(s);
	s = open_ok(path);
	/* The migration kept the latest of the two. */
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM evaluations"), 1);
	ck_assert_int_eq(store_evaluation_fail(s, run, cand, 2, "x",
	    "HTTP 400: bad", 0, &cause), 3);
	ck_assert_int_eq(store_evaluation_add(s, run, cand, 2, "y", 0.5, NULL,
	    0, &cause), 3);
	ck_assert_int_eq(store_evaluation_fail(s, run, cand, 1, NULL, "late",
	    0, &cause), 0);
	ck_assert_int_eq(store_run_scores(s, run, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_double_eq(rows[0].score, 0);
	ck_assert_str_eq(rows[0].output, "b");
	ck_assert_double_eq(rows[1].score, 0.5);
	ck_assert_ptr_null(rows[1].error);
	store_run_scores_free(rows, n);

	memset(&c, 0, sizeof c);
	c.run = run;
	c.backend = "m";
	c.role = "target";
	c.key = "k";
	c.status = "ok";
	c.prompt_tokens = 10;
	c.cost = 0.5;
	ck_assert_int_gt(store_call_add(s, &c, &cause), 0);
	c.status = "hit";
	ck_assert_int_gt(store_call_add(s, &c, &cause), 0);
	c.status = "error";
	c.http_status = 200;
	c.error = "malformed";
	ck_assert_int_gt(store_call_add(s, &c, &cause), 0);
	c.http_status = 503;
	c.error = "m: HTTP 503: busy";
	c.cost = 0;
	c.prompt_tokens = 0;
	ck_assert_int_gt(store_call_add(s, &c, &cause), 0);
	ck_assert_int_gt(call = store_call_add(s, &c, &cause), 0);
	c.http_status = 0;
	c.error = "m: Failed to connect";
	ck_assert_int_gt(store_call_add(s, &c, &cause), 0);
	ck_assert_int_eq(store_run_spent(s, run, &t, &cause), 0);
	ck_assert_int_eq(t.calls, 2);
	ck_assert_int_eq(t.hits, 1);
	/* A hit's tokens were paid for by another call. */
	ck_assert_int_eq(t.tokens, 20);
	ck_assert_double_eq_tol(t.dollars, 1.5, 1e-9);
	ck_assert_int_eq(store_call_failures(s, run, 0, &f, &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(f[0].error, "m: HTTP 503: busy");
	ck_assert_int_eq(f[0].n, 2);
	ck_assert_int_eq(f[0].http_status, 503);
	ck_assert_int_eq(f[0].last, call);
	store_failure_rows_free(f, n);
	/* Only those after a call. */
	ck_assert_int_eq(store_call_failures(s, run, call, &f, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(f[0].error, "m: Failed to connect");
	store_failure_rows_free(f, n);
	store_close(s);
	free(cause);
	free(path);
}
END_TEST

/*
 * Reply outcomes, on a database migrated from version 5: one row per
 * request and run (a replayed step adds nothing), counted by role and
 * outcome with the latest problem and excerpt of each.
 */
/*
 * Provider batches: found by any key they hold while under way, with
 * every step's facts as last stored; not once done or failed, nor for
 * another backend.
 */
START_TEST(test_batches)
{
	struct store		*s;
	struct batch_row	 b;
	char			*path = tmp_path("batch.db"), *cause = NULL;
	char			 k1[] = "k1", k2[] = "k2";
	char			*keys[] = { k2, k1, k2 }, **got;
	size_t			 n;
	int64_t			 id, other;

	s = open_ok(path);
	id = store_batch_add(s, "openai|http://x/v1|m", "tok1", "upload",
	    "{\"custom_id\":\"k1\"}\n", 2, keys, 3, &cause);
	ck_assert_msg(id > 0, "%s", cause);
	other = store_batch_add(s, "anthropic|http://y/v1|m", "tok2",
	    "create", "{}", 1, keys + 1, 1, &cause);
	ck_assert_msg(other > id, "%s", cause);
	ck_assert_int_eq(store_batch_find(s, "openai|http://x/v1|m", "k3", &b,
	    &got, &n, &cause), 0);
	ck_assert_int_eq(store_batch_find(s, "openai|http://x/v1|m", "k1", &b,
	    &got, &n, &cause), 1);
	ck_assert_int_eq(b.id, id);
	ck_assert_str_eq(b.token, "tok1");
	ck_assert_str_eq(b.step, "upload");
	ck_assert_int_eq(b.ninput, 2);
	ck_assert_ptr_null(b.provider_id);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(got[0], "k1");
	ck_assert_str_eq(got[1], "k2");
	free(got[0]);
	free(got[1]);
	free(got);
	/* The provider's names for it, step by step. */
	free(b.step);
	b.step = xstrdup("poll");
	b.file = xstrdup("file-1");
	b.provider_id = xstrdup("batch_1");
	ck_assert_int_eq(store_batch_update(s, &b, &cause), 0);
	store_batch_row_release(&b);
	store_close(s);
	s = open_ok(path);
	ck_assert_int_eq(store_batch_find(s, "openai|http://x/v1|m", "k2", &b,
	    &got, &n, &cause), 1);
	ck_assert_str_eq(b.step, "poll");
	ck_assert_str_eq(b.file, "file-1");
	ck_assert_str_eq(b.provider_id, "batch_1");
	ck_assert_int_eq(n, 2);
	free(got[0]);
	free(got[1]);
	free(got);
	free(b.step);
	b.step = xstrdup("failed");
	b.cause = xstrdup("batch expired");
	ck_assert_int_eq(store_batch_update(s, &b, &cause), 0);
	store_batch_row_release(&b);
	ck_assert_int_eq(store_batch_find(s, "openai|http://x/v1|m", "k1", &b,
	    &got, &n, &cause), 0);
	ck_assert_ptr_null(got);
	raw_is(path, "SELECT step || ': ' || cause FROM batches WHERE"
	    " token = 'tok1'", "failed: batch expired");
	/* The other backend's batch holds k1 too, and is under way. */
	ck_assert_int_eq(store_batch_find(s, "anthropic|http://y/v1|m", "k1",
	    &b, &got, &n, &cause), 1);
	ck_assert_int_eq(b.id, other);
	ck_assert_int_eq(n, 1);
	free(got[0]);
	free(got);
	store_batch_row_release(&b);
	store_close(s);
	free(path);
}
END_TEST

START_TEST(test_outcomes)
{
	struct store		*s;
	struct outcome_record	 o;
	struct outcome_row	*rows;
	size_t			 n;
	char			*path = tmp_path("v5.db"), *cause = NULL;
	int64_t			 job, run, other;

	s = store_open_version(path, 5, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "a", "{}", &cause);
	run = store_run_new(s, job, "optimize", 0, &cause);
	other = store_run_new(s, job, "optimize", 0, &cause);
	store_close(s);
	s = open_ok(path);
	memset(&o, 0, sizeof o);
	o.run = run;
	o.role = "optimizer";
	o.key = "k1";
	o.outcome = "unreadable";
	o.problem = "no <prompt> element found";
	o.excerpt = "Sure! Here it is";
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	/* The same request again: ignored. */
	o.outcome = "usable";
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	o.key = "k2";
	o.outcome = "unreadable";
	o.excerpt = "### Improved Prompt";
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	o.key = "k3";
	o.outcome = "repaired";
	o.kept = 1;
	o.problem = o.excerpt = NULL;
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	o.key = "k4";
	o.role = "judge";
	o.outcome = "usable";
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	/* Another run may ask the same. */
	o.run = other;
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), 0);
	/* A run that does not exist. */
	o.run = 99;
	o.key = "k5";
	ck_assert_int_eq(store_outcome_add(s, &o, &cause), -1);
	ck_assert_msg(strstr(cause, "FOREIGN KEY") != NULL, "%s", cause);

	ck_assert_int_eq(store_outcome_counts(s, run, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].role, "judge");
	ck_assert_int_eq(rows[0].n, 1);
	ck_assert_str_eq(rows[1].role, "optimizer");
	ck_assert_str_eq(rows[1].outcome, "unreadable");
	ck_assert_int_eq(rows[1].n, 2);
	ck_assert_str_eq(rows[1].excerpt, "### Improved Prompt");
	ck_assert_str_eq(rows[1].problem, "no <prompt> element found");
	ck_assert_str_eq(rows[2].outcome, "repaired");
	ck_assert_ptr_null(rows[2].excerpt);
	store_outcome_rows_free(rows, n);
	ck_assert_int_eq(store_outcome_counts(s, 77, &rows, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(rows);
	store_close(s);
	free(cause);
	free(path);
}
END_TEST

/*
 * The human feedback queue, on a database migrated from version 3 with a
 * judged comparison in it: queue (and find again), list, answer once,
 * skip, the counts, and the stale pending duels closed.
 */
START_TEST(test_feedback_queue)
{
	struct store		 *s;
	struct comparison_record  rec;
	struct comparison_row	 *rows = NULL, row;
	size_t			  n = 0;
	char			 *path = tmp_path("v3.db"), *cause = NULL;
	int64_t			  job, a, b, d1, d2, d3;
	long long		  cnt;

	s = store_open_version(path, 3, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "j", "{}", &cause);
	a = store_candidate_put(s, job, "A.", "seed", &cause);
	b = store_candidate_put(s, job, "B.", "seed", &cause);
	memset(&rec, 0, sizeof rec);
	rec.job = job;
	rec.a = a;
	rec.b = b;
	store_close(s);
	/* Written as version 3 wrote it (the store writes the latest). */
	raw_exec(path, "INSERT INTO comparisons (job_id, a, b, winner,"
	    " source, created) VALUES (1, 1, 2, 'a', 'judge', 0)");
	/* Version 3 refuses a comparison without a winner. */
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sqlite_master"
	    " WHERE name = 'comparisons' AND sql LIKE"
	    " '%winner TEXT NOT NULL%'"), 1);

	s = open_ok(path);
	raw_is(path, "SELECT winner || source || (answered = created)"
	    " FROM comparisons WHERE id = 1", "ajudge1");
	rec.output_a = "out a";
	rec.output_b = "out b";
	rec.order_shown = "ba";
	d1 = store_comparison_queue(s, &rec, "the input", &cause);
	ck_assert_int_eq(d1, 2);
	/* The same duel asked again (a replayed step) is the same row. */
	ck_assert_int_eq(store_comparison_queue(s, &rec, "the input", &cause),
	    d1);
	ck_assert_int_eq(store_comparison_pending(s, job, 10, &rows, &n,
	    &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(rows[0].id, d1);
	ck_assert_str_eq(rows[0].input, "the input");
	ck_assert_str_eq(rows[0].output_b, "out b");
	ck_assert_str_eq(rows[0].order_shown, "ba");
	ck_assert_str_eq(rows[0].source, "human");
	ck_assert_ptr_null(rows[0].winner);
	ck_assert(isnan(rows[0].answered));
	store_comparison_rows_free(rows, n);

	ck_assert_int_eq(store_comparison_answer(s, d1, "tie", "alice",
	    &cause), 1);
	/* Answered once: a second answer changes nothing. */
	ck_assert_int_eq(store_comparison_answer(s, d1, "a", "bob", &cause),
	    0);
	ck_assert_int_eq(store_comparison_answer(s, 99, "a", "bob", &cause),
	    0);
	ck_assert_int_eq(store_comparison_get(s, d1, &row, &cause), 1);
	ck_assert_str_eq(row.winner, "tie");
	ck_assert_str_eq(row.who, "alice");
	ck_assert(row.answered >= row.created);
	store_comparison_row_release(&row);
	ck_assert_int_eq(store_comparison_get(s, 99, &row, &cause), 0);
	ck_assert_int_eq(store_comparison_answer(s, d1, "maybe", "x", &cause),
	    0);

	d2 = store_comparison_queue(s, &rec, "again", &cause);
	ck_assert_int_eq(d2, 3);
	ck_assert_int_eq(store_comparison_answer(s, d2, "skip", "bob",
	    &cause), 1);
	/* A new duel closes those left pending by an earlier run. */
	d2 = store_comparison_queue(s, &rec, "left", &cause);
	rec.example = 0;
	rec.a = b;
	rec.b = a;
	d3 = store_comparison_queue(s, &rec, "new", &cause);
	ck_assert_int_gt(d3, d2);
	ck_assert_int_eq(store_comparison_pending(s, job, 10, &rows, &n,
	    &cause), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(rows[0].id, d3);
	store_comparison_rows_free(rows, n);
	ck_assert_int_eq(store_comparison_get(s, d2, &row, &cause), 1);
	ck_assert_str_eq(row.winner, "skip");
	ck_assert_ptr_null(row.who);
	store_comparison_row_release(&row);
	/* Only preferences count. */
	ck_assert_int_eq(store_comparison_count(s, job, NULL, &cnt, &cause),
	    0);
	ck_assert_int_eq(cnt, 2);
	ck_assert_int_eq(store_comparison_count(s, job, "human", &cnt,
	    &cause), 0);
	ck_assert_int_eq(cnt, 1);
	/* The CHECK holds: no other winner. */
	ck_assert_int_eq(store_comparison_answer(s, d3, "c", "x", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "store: answer comparison: "));
	free(cause);
	store_close(s);
	free(path);
}
END_TEST


/* A leaderboard entry as query.c ranked them before score_sums. */
struct expect {
	int64_t		id;
	struct summary	sum;
};

/* The order promptctl(1) gives: mean, then lower bound, n, id. */
static int
expect_cmp(const void *va, const void *vb)
{
	const struct expect	*a = va, *b = vb;
	const struct summary	*x = &a->sum, *y = &b->sum;
	int			 first;

	first = x->mean > y->mean || (x->mean == y->mean && (x->lo > y->lo ||
	    (x->lo == y->lo && (x->n > y->n || (x->n == y->n &&
	    a->id < b->id)))));
	return a->id == b->id ? 0 : first ? -1 : 1;
}

/*
 * The leaderboard of job as it was computed before version 10: every
 * latest dev score of the latest snapshot read, in order, and summarized
 * by stats_summary(); *n entries, best first (the caller frees them).
 */
static struct expect *
board_before(const char *path, int64_t job, size_t *n)
{
	struct expect	*e = NULL;
	sqlite3		*db;
	sqlite3_stmt	*st;
	double		*x = NULL;
	size_t		 nx = 0;
	int64_t		 id, cur = 0;

	*n = 0;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT e.candidate_id,"
	    " e.score, max(e.id) FROM evaluations e"
	    " JOIN examples x ON x.id = e.example_id"
	    " JOIN candidates c ON c.id = e.candidate_id"
	    " WHERE c.job_id = ?1 AND x.dataset_id = (SELECT id FROM datasets"
	    " WHERE job_id = ?1 ORDER BY used DESC, id DESC LIMIT 1)"
	    " AND x.split = 'dev' AND e.score IS NOT NULL"
	    " GROUP BY e.candidate_id, e.example_id"
	    " ORDER BY e.candidate_id, e.example_id", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, job);
	for (;;) {
		int	row = sqlite3_step(st) == SQLITE_ROW;

		id = row ? sqlite3_column_int64(st, 0) : 0;
		if (id != cur && nx > 0) {
			e = xreallocarray(e, *n + 1, sizeof *e);
			e[*n].id = cur;
			stats_summary(x, nx, 0.95, &e[*n].sum);
			(*n)++;
			nx = 0;
		}
		if (!row)
			break;
		cur = id;
		x = xreallocarray(x, nx + 1, sizeof *x);
		x[nx++] = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(x);
	qsort(e, *n, sizeof *e, expect_cmp);
	return e;
}

/*
 * The leaderboard query_run() gives (all of it) is exactly board_before():
 * the same candidates in the same order with the same numbers.
 */
static void
board_same(struct store *s, const char *path, int64_t job)
{
	struct expect	*e;
	const cJSON	*arr, *c;
	cJSON		*args, *r = NULL;
	const char	*code = NULL;
	char		*cause = NULL;
	size_t		 n, i;

	e = board_before(path, job, &n);
	ck_assert_uint_gt(n, 0);
	args = cJSON_Parse("{\"job\": \"lb\", \"limit\": 10000}");
	ck_assert_msg(query_run(s, "leaderboard", args, &r, &code, &cause) ==
	    0, "%s", cause);
	arr = cJSON_GetObjectItemCaseSensitive(r, "candidates");
	ck_assert_int_eq(cJSON_GetArraySize(arr), (int)n);
	for (i = 0; i < n; i++) {
		c = cJSON_GetArrayItem(arr, (int)i);
		ck_assert_int_eq(cJSON_GetObjectItem(c, "id")->valuedouble,
		    e[i].id);
		ck_assert(cJSON_GetObjectItem(c, "mean")->valuedouble ==
		    e[i].sum.mean);
		ck_assert(cJSON_GetObjectItem(c, "lo")->valuedouble ==
		    e[i].sum.lo);
		ck_assert(cJSON_GetObjectItem(c, "hi")->valuedouble ==
		    e[i].sum.hi);
		ck_assert(cJSON_GetObjectItem(c, "n")->valuedouble ==
		    (double)e[i].sum.n);
	}
	/* Only the first few: those are summarized from their scores. */
	cJSON_Delete(r);
	cJSON_ReplaceItemInObject(args, "limit", cJSON_CreateNumber(3));
	ck_assert(query_run(s, "leaderboard", args, &r, &code, &cause) == 0);
	arr = cJSON_GetObjectItemCaseSensitive(r, "candidates");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 3);
	for (i = 0; i < 3; i++) {
		c = cJSON_GetArrayItem(arr, (int)i);
		ck_assert_int_eq(cJSON_GetObjectItem(c, "id")->valuedouble,
		    e[i].id);
		ck_assert(cJSON_GetObjectItem(c, "lo")->valuedouble ==
		    e[i].sum.lo);
	}
	cJSON_Delete(r);
	cJSON_Delete(args);
	free(e);
}

/*
 * Scores candidates ids[0..n) on the first dev examples of ds in run:
 * candidate k gets dev examples up to its share, 0/1 scores for the
 * first half and fractional ones for the rest, a failure now and then.
 * Candidates 2k and 2k+1 of the second half get the same scores in
 * opposite orders, for ties.
 */
static void
scores_write(struct store *s, const struct dataset *ds, int64_t run,
    const int64_t *ids, size_t n, uint64_t seed)
{
	struct rng	 r;
	double		 v[60];
	char		*cause = NULL;
	size_t		 k, i, m = 0, nd;
	int64_t		 ex[60];
	int		 twin;

	for (i = nd = 0; i < ds->n; i++)
		if (ds->ex[i].split == SPLIT_DEV)
			ex[nd++] = ds->ex[i].id;
	rng_seed(&r, seed, 1);
	for (k = 0; k < n; k++) {
		twin = k >= n / 2 && (k - n / 2) % 2 == 1;
		if (!twin) {
			m = 3 + rng_below(&r, (uint32_t)(nd - 2));
			for (i = 0; i < m; i++)
				v[i] = k < n / 2 ? rng_below(&r, 3) > 0 :
				    rng_uniform(&r);
		}
		for (i = 0; i < m; i++) {
			if (rng_below(&r, 8) == 0)
				ck_assert_int_gt(store_evaluation_fail(s, run,
				    ids[k], ex[i], NULL, "HTTP 500", 0,
				    &cause), 0);
			ck_assert_int_ge(store_evaluation_add(s, run, ids[k],
			    ex[i], "out", v[twin ? m - 1 - i : i], NULL, 0,
			    &cause), 0);
		}
	}
}

/*
 * A database of version 9 with scores of every kind (0/1 and fractional,
 * failures scored again, pairs scored again by a later run, ties) gives
 * after the migration the leaderboard it gave before, to the last bit,
 * and score_sums is what the evaluations say; so after more writes.
 */
START_TEST(test_score_sums_migrate)
{
	struct store	*s;
	struct dataset	*ds;
	char		*path = tmp_path("lb.db"), *cause = NULL, *text;
	int64_t		 job, run, ids[12];
	size_t		 k;

	s = store_open_version(path, 9, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "lb", "{}", &cause);
	ds = check_dataset(60, "lb");
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	for (k = 0; k < nitems(ids); k++) {
		text = xasprintf("prompt %zu", k);
		ids[k] = store_candidate_put(s, job, text, "seed", &cause);
		free(text);
	}
	run = store_run_new(s, job, "optimize", 0, &cause);
	scores_write(s, ds, run, ids, nitems(ids), 1);
	run = store_run_new(s, job, "refresh", 0, &cause);
	scores_write(s, ds, run, ids, 4, 2);
	store_close(s);

	s = open_ok(path);
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	ck_assert_int_gt(raw_int(path, "SELECT count(*) FROM score_sums"), 0);
	ck_assert_int_eq(raw_int(path, CHECK_SCORE_SUMS_WRONG), 0);
	board_same(s, path, job);
	/* Written after it: the triggers keep them. */
	run = store_run_new(s, job, "refresh", 0, &cause);
	scores_write(s, ds, run, ids + 4, 8, 3);
	ck_assert_int_eq(raw_int(path, CHECK_SCORE_SUMS_WRONG), 0);
	board_same(s, path, job);
	store_close(s);
	check_dataset_free(ds);
	free(path);
}
END_TEST

/* score_sums of candidate a on split, as "n total squares fractional
 * evals evals_total". */
#define SUMS(a, split)							\
	xasprintf("SELECT printf('%%d %%g %%g %%d %%d %%g', n, total,"	\
	" squares, fractional, evals, evals_total) FROM score_sums"	\
	" WHERE candidate_id = %lld AND split = '%s'", (long long)(a), split)

static void
sums_are(const char *path, int64_t a, const char *split, const char *want)
{
	char	*sql = SUMS(a, split);

	raw_is(path, sql, want);
	free(sql);
	ck_assert_int_eq(raw_int(path, CHECK_SCORE_SUMS_WRONG), 0);
}

/*
 * What each write does to score_sums: a failure nothing, a failure
 * scored again (a resumed run) counts, a score read again nothing, a
 * later run's score replaces the pair's, an earlier run's failure scored
 * after a later run's score counts only among every scored row, and one
 * scored after an earlier run's score replaces it.
 */
START_TEST(test_score_sums_writes)
{
	struct store	*s;
	struct dataset	*ds;
	char		*path = tmp_path("sums.db"), *cause = NULL;
	int64_t		 job, r1, r2, r3, a, dev[3], test;

	s = open_ok(path);
	job = store_job_put(s, "w", "{}", &cause);
	ds = check_dataset(9, "w");
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	dev[0] = ds->ex[1].id;
	dev[1] = ds->ex[4].id;
	dev[2] = ds->ex[7].id;
	test = ds->ex[2].id;
	a = store_candidate_put(s, job, "A", "seed", &cause);
	r1 = store_run_new(s, job, "optimize", 0, &cause);
	r2 = store_run_new(s, job, "refresh", 0, &cause);
	r3 = store_run_new(s, job, "refresh", 0, &cause);

	ck_assert_int_gt(store_evaluation_fail(s, r1, a, dev[0], NULL, "x", 0,
	    &cause), 0);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM score_sums"), 0);
	ck_assert_int_gt(store_evaluation_add(s, r1, a, dev[0], "o", 0.5, NULL,
	    0, &cause), 0);
	sums_are(path, a, "dev", "1 0.5 0.25 1 1 0.5");
	ck_assert_int_eq(store_evaluation_add(s, r1, a, dev[0], "o", 0.7,
	    NULL, 0, &cause), 0);
	sums_are(path, a, "dev", "1 0.5 0.25 1 1 0.5");
	ck_assert_int_gt(store_evaluation_add(s, r2, a, dev[0], "o", 1, NULL,
	    0, &cause), 0);
	sums_are(path, a, "dev", "1 1 1 0 2 1.5");
	ck_assert_int_gt(store_evaluation_add(s, r1, a, test, "o", 0, NULL, 0,
	    &cause), 0);
	sums_are(path, a, "test", "1 0 0 0 1 0");

	/* r1 fails dev[1], r2 scores it 0, then r1 resumes and scores 1. */
	ck_assert_int_gt(store_evaluation_fail(s, r1, a, dev[1], NULL, "x", 0,
	    &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, r2, a, dev[1], "o", 0, NULL,
	    0, &cause), 0);
	sums_are(path, a, "dev", "2 1 1 0 3 1.5");
	ck_assert_int_gt(store_evaluation_add(s, r1, a, dev[1], "o", 1, NULL,
	    0, &cause), 0);
	sums_are(path, a, "dev", "2 1 1 0 4 2.5");

	/* r2 scores dev[2] 1, r3 fails it, then scores it 0.25. */
	ck_assert_int_gt(store_evaluation_add(s, r2, a, dev[2], "o", 1, NULL,
	    0, &cause), 0);
	ck_assert_int_gt(store_evaluation_fail(s, r3, a, dev[2], NULL, "x", 0,
	    &cause), 0);
	sums_are(path, a, "dev", "3 2 2 0 5 3.5");
	ck_assert_int_gt(store_evaluation_add(s, r3, a, dev[2], "o", 0.25,
	    NULL, 0, &cause), 0);
	sums_are(path, a, "dev", "3 1.25 1.0625 1 6 3.75");
	store_close(s);
	check_dataset_free(ds);
	free(cause);
	free(path);
}
END_TEST

/* Writes n cache rows of about a page each in one transaction. */
static void
pages_write(struct store *s, int n, int *next)
{
	char	*key, *cause = NULL, big[4000];
	int	 i;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(store_begin(s, &cause), 0);
	for (i = 0; i < n; i++) {
		key = xasprintf("k%d", (*next)++);
		ck_assert_int_eq(store_cache_put(s, key, big, &cause), 0);
		free(key);
	}
	ck_assert_int_eq(store_commit(s, &cause), 0);
}

static long long
file_size(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * The checkpoint worker: while it runs the connection never checkpoints
 * (its log grows past SQLite's 1000 pages when the worker is not woken),
 * a commit past the mark wakes it, it copies the log's pages and
 * restarts a log grown past four times the mark, and stopping it
 * empties the log file; the connection checkpoints itself again after.
 */
START_TEST(test_wal_worker)
{
	struct store		*s;
	struct store_wal_stats	 st;
	char			*path = tmp_path("wal.db"), *cause = NULL;
	char			*wal = tmp_path("wal.db-wal");
	int			 i, next = 0;

	s = open_ok(path);
	store_wal_stats(s, &st);
	ck_assert_int_eq(st.checkpoints, 0);
	ck_assert_int_eq(store_wal_start(s, 1 << 20, &cause), 0);
	/* Started already: nothing changes. */
	ck_assert_int_eq(store_wal_start(s, 16, &cause), 0);
	for (i = 0; i < 25; i++)
		pages_write(s, 100, &next);
	store_wal_wait(s);
	store_wal_stats(s, &st);
	ck_assert_int_eq(st.wakes, 0);
	ck_assert_int_eq(st.checkpoints, 1);	/* the first, at start */
	ck_assert_int_gt(file_size(wal), 2000 * 4096);
	store_wal_stop(s);
	ck_assert_int_eq(file_size(wal), 0);
	store_wal_stop(s);

	ck_assert_int_eq(store_wal_start(s, 16, &cause), 0);
	store_wal_wait(s);
	pages_write(s, 100, &next);
	store_wal_wait(s);
	store_wal_stats(s, &st);
	ck_assert_int_eq(st.wakes, 1);
	ck_assert_int_eq(st.checkpoints, 2);
	ck_assert_int_ge(st.frames, 100);
	ck_assert_int_eq(st.restarts, 1);
	ck_assert_int_eq(st.busy, 0);
	/* The log starts over: a small commit, and the file stays. */
	pages_write(s, 2, &next);
	ck_assert_int_le(file_size(wal), 110 * 4096);
	store_wal_wait(s);
	store_close(s);
	ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM cache"), next);
	free(wal);
	free(path);
}
END_TEST

/*
 * Schema 17 counts a candidate's prompt tokens as tokens_estimate() does
 * (bytes, not characters): rows from before by the migration, new ones
 * by its trigger.
 */
START_TEST(test_candidate_tokens)
{
	struct store		*s;
	struct candidate_row	 c;
	const char		*old = "r\xc3\xa9sum\xc3\xa9 r\xc3\xa9sum\xc3\xa9";
	const char		*text = "classify the sentiment: positive or "
	    "negative";
	char			*path = tmp_path("tokens.db"), *cause = NULL;
	int64_t			 job, a, b, e;

	s = store_open_version(path, 16, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	job = store_job_put(s, "t", "{}", &cause);
	a = store_candidate_put(s, job, old, "seed", &cause);
	e = store_candidate_put(s, job, "", "seed", &cause);
	ck_assert_int_gt(a, 0);
	store_close(s);
	s = open_ok(path);
	b = store_candidate_put(s, job, text, "seed", &cause);
	ck_assert_int_gt(b, 0);
	ck_assert_int_eq(store_candidate_get(s, a, &c, &cause), 1);
	ck_assert_int_eq(c.tokens, tokens_estimate(old));
	ck_assert_int_eq(c.tokens, 5);	/* 17 bytes; 13 characters: 4 */
	store_candidate_row_release(&c);
	ck_assert_int_eq(store_candidate_get(s, b, &c, &cause), 1);
	ck_assert_int_eq(c.tokens, tokens_estimate(text));
	store_candidate_row_release(&c);
	ck_assert_int_eq(store_candidate_get(s, e, &c, &cause), 1);
	ck_assert_int_eq(c.tokens, 0);
	store_candidate_row_release(&c);
	store_close(s);
	free(path);
}
END_TEST

START_TEST(test_candidates_top)
{
	struct store	*s;
	struct dataset	*ds;
	char		*path = tmp_path("top.db"), *cause = NULL, **texts;
	int64_t		 job, run, a, b, c, *ids;
	size_t		 n;

	s = open_ok(path);
	job = store_job_put(s, "j", "{}", &cause);
	ds = check_dataset(2, "d");
	ck_assert_int_gt(store_dataset_snapshot(s, job, ds, NULL, &cause), 0);
	run = store_run_new(s, job, "optimize", 0, &cause);
	/* None scored yet: empty arrays. */
	ck_assert_int_eq(store_candidates_top(s, job, 5, 1, &ids, &texts, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ids);
	ck_assert_ptr_null(texts);
	a = store_candidate_put(s, job, "A", "seed", &cause);
	b = store_candidate_put(s, job, "B", "seed", &cause);
	c = store_candidate_put(s, job, "C", "seed", &cause);
	/* a: 1 and 1; b: 0 and 1; c: 1 on one example only. */
	ck_assert_int_gt(store_evaluation_add(s, run, a, ds->ex[0].id, "x",
	    1.0, NULL, 0, &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, a, ds->ex[1].id, "x",
	    1.0, NULL, 0, &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, b, ds->ex[0].id, "x",
	    0.0, NULL, 0, &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, b, ds->ex[1].id, "x",
	    1.0, NULL, 0, &cause), 0);
	ck_assert_int_gt(store_evaluation_add(s, run, c, ds->ex[0].id, "x",
	    1.0, NULL, 0, &cause), 0);
	/* Best mean first, ties by id; k and min_evals cut the list. */
	ck_assert_int_eq(store_candidates_top(s, job, 5, 1, &ids, &texts, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ids[0], a);
	ck_assert_int_eq(ids[1], c);
	ck_assert_int_eq(ids[2], b);
	ck_assert_str_eq(texts[0], "A");
	ck_assert_str_eq(texts[1], "C");
	ck_assert_str_eq(texts[2], "B");
	while (n > 0)
		free(texts[--n]);
	free(texts);
	free(ids);
	ck_assert_int_eq(store_candidates_top(s, job, 1, 2, &ids, &texts, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ids[0], a);
	ck_assert_str_eq(texts[0], "A");
	free(texts[0]);
	free(texts);
	free(ids);
	store_close(s);
	check_dataset_free(ds);
	free(cause);
	free(path);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_fresh);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_migrate_v1);
	tcase_add_test(tc, test_migrate_fk_broken);
	tcase_add_test(tc, test_newer_refused);
	tcase_add_test(tc, test_not_a_database);
	tcase_add_test(tc, test_candidates);
	tcase_add_test(tc, test_candidates_top);
	tcase_add_test(tc, test_candidate_tokens);
	tcase_add_test(tc, test_score_sums_migrate);
	tcase_add_test(tc, test_score_sums_writes);
	tcase_add_test(tc, test_wal_worker);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_calls_and_evaluations);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_foreign_keys);
	tcase_add_test(tc, test_default_path);
	tcase_add_test(tc, test_daemon_rows);
	tcase_add_test(tc, test_feedback_queue);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_batches);
	tcase_add_test(tc, test_run_rows);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(store_suite)
