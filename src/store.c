/*
 * The store: one SQLite connection per struct store.  The connection is
 * opened with SQLITE_OPEN_NOMUTEX, so a struct store must be used by one
 * thread at a time (give each thread its own).  This is the only file in
 * promptd that contains SQL.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "dataset.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The schema, one forward migration per version.  Migration n takes a
 * database at version n - 1 to version n; each runs in its own
 * transaction that also sets PRAGMA user_version.  Never edit a released
 * migration: add a new one and bump STORE_SCHEMA_VERSION.
 */
static const char *const store_migrations[STORE_SCHEMA_VERSION + 1] = {
	[1] =
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" spec TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',"
	"  'running', 'paused', 'exhausted', 'done', 'failed', 'cancelled')),"
	" reason TEXT,"
	" created REAL NOT NULL,"
	" updated REAL NOT NULL);"
	"CREATE TABLE datasets ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" path TEXT,"
	" hash TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE examples ("
	" id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" idx INTEGER NOT NULL,"
	" line INTEGER,"
	" split TEXT NOT NULL CHECK (split IN ('train', 'dev', 'test')),"
	" hash TEXT,"
	" fields TEXT NOT NULL,"
	" UNIQUE (dataset_id, idx));"
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('optimize', 'refresh', 'eval')),"
	" dataset_id INTEGER REFERENCES datasets(id),"
	" status TEXT NOT NULL DEFAULT 'running',"
	" step INTEGER NOT NULL DEFAULT 0,"
	" state TEXT,"
	" calls INTEGER NOT NULL DEFAULT 0,"
	" hits INTEGER NOT NULL DEFAULT 0,"
	" tokens INTEGER NOT NULL DEFAULT 0,"
	" dollars REAL NOT NULL DEFAULT 0,"
	" started REAL NOT NULL,"
	" ended REAL);"
	"CREATE TABLE candidates ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" text TEXT NOT NULL,"
	" hash TEXT NOT NULL,"
	" origin TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" UNIQUE (job_id, hash));"
	"CREATE TABLE lineage ("
	" child INTEGER NOT NULL REFERENCES candidates(id),"
	" parent INTEGER NOT NULL REFERENCES candidates(id),"
	" operator TEXT,"
	" note TEXT,"
	" PRIMARY KEY (child, parent));"
	"CREATE TABLE calls ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id),"
	" backend TEXT,"
	" model TEXT,"
	" role TEXT,"
	" cache_key TEXT,"
	" attempt INTEGER NOT NULL DEFAULT 1,"
	" cached INTEGER NOT NULL DEFAULT 0,"
	" prompt_tokens INTEGER NOT NULL DEFAULT 0,"
	" completion_tokens INTEGER NOT NULL DEFAULT 0,"
	" cost REAL NOT NULL DEFAULT 0,"
	" latency REAL,"
	" status TEXT NOT NULL CHECK (status IN ('ok', 'hit', 'error')),"
	" http_status INTEGER,"
	" error TEXT,"
	" created REAL NOT NULL);"
	"CREATE TABLE cache ("
	" key TEXT PRIMARY KEY,"
	" response TEXT NOT NULL,"
	" created REAL NOT NULL);"
	"CREATE TABLE evaluations ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	" example_id INTEGER NOT NULL REFERENCES examples(id),"
	" output TEXT,"
	" score REAL,"
	" call_id INTEGER REFERENCES calls(id),"
	" created REAL NOT NULL);"
	"CREATE TABLE comparisons ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" a INTEGER NOT NULL REFERENCES candidates(id),"
	" b INTEGER NOT NULL REFERENCES candidates(id),"
	" example_id INTEGER REFERENCES examples(id),"
	" output_a TEXT,"
	" output_b TEXT,"
	" winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),"
	" source TEXT NOT NULL CHECK (source IN ('human', 'judge', 'sim')),"
	" who TEXT,"
	" judge_model TEXT,"
	" order_shown TEXT,"
	" rationale TEXT,"
	" created REAL NOT NULL);"
	"CREATE TABLE champions ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" version INTEGER NOT NULL,"
	" candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	" score REAL,"
	" lo REAL,"
	" hi REAL,"
	" reason TEXT,"
	" created REAL NOT NULL,"
	" UNIQUE (job_id, version));"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER REFERENCES jobs(id),"
	" run_id INTEGER REFERENCES runs(id),"
	" time REAL NOT NULL,"
	" level TEXT NOT NULL,"
	" message TEXT NOT NULL);",

	/*
	 * Version 2: per-example feedback (textual critiques) on evaluations,
	 * the time a dataset snapshot was last used (so that a job going back
	 * to earlier data sees the change), and the indexes that the engine's
	 * lookups need.  candidates(job_id) needs no index of its own: the
	 * UNIQUE (job_id, hash) index serves it.
	 */
	[2] =
	"ALTER TABLE evaluations ADD COLUMN feedback TEXT;"
	"ALTER TABLE datasets ADD COLUMN used REAL;"
	"UPDATE datasets SET used = created;"
	"CREATE INDEX evaluations_candidate_example"
	" ON evaluations(candidate_id, example_id);"
	"CREATE INDEX calls_run ON calls(run_id);"
	"CREATE INDEX calls_cache_key ON calls(cache_key);"
	"CREATE INDEX events_job ON events(job_id, id);"
	"CREATE INDEX examples_dataset_split ON examples(dataset_id, split);"
	"CREATE INDEX datasets_job_hash ON datasets(job_id, hash);",

	/*
	 * Version 3: the absolute path of the file a job was submitted from,
	 * so that the daemon can reload it after a restart or for a refresh
	 * (NULL for jobs run without the daemon).
	 */
	[3] =
	"ALTER TABLE jobs ADD COLUMN file TEXT;",

	/*
	 * Version 4: the human feedback queue.  A duel waiting for a person
	 * is a comparison without a winner (so winner may be NULL, and a
	 * duel a person passed over is "skip"); the input shown is kept
	 * with it, and the time it was answered.  SQLite cannot change a
	 * column's constraint, so the table is rebuilt (nothing refers to
	 * it).
	 */
	[4] =
	"CREATE TABLE comparisons_v4 ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" a INTEGER NOT NULL REFERENCES candidates(id),"
	" b INTEGER NOT NULL REFERENCES candidates(id),"
	" example_id INTEGER REFERENCES examples(id),"
	" output_a TEXT,"
	" output_b TEXT,"
	" winner TEXT CHECK (winner IS NULL OR"
	"  winner IN ('a', 'b', 'tie', 'skip')),"
	" source TEXT NOT NULL CHECK (source IN ('human', 'judge', 'sim')),"
	" who TEXT,"
	" judge_model TEXT,"
	" order_shown TEXT,"
	" rationale TEXT,"
	" created REAL NOT NULL,"
	" input TEXT,"
	" answered REAL);"
	"INSERT INTO comparisons_v4 (id, job_id, a, b, example_id, output_a,"
	" output_b, winner, source, who, judge_model, order_shown, rationale,"
	" created, answered)"
	" SELECT id, job_id, a, b, example_id, output_a, output_b, winner,"
	" source, who, judge_model, order_shown, rationale, created, created"
	" FROM comparisons;"
	"DROP TABLE comparisons;"
	"ALTER TABLE comparisons_v4 RENAME TO comparisons;"
	"CREATE INDEX comparisons_pending ON comparisons(job_id, id)"
	" WHERE winner IS NULL;",

	/*
	 * Version 5: the same tables, cheaper to insert into.  SQLite checks
	 * "x IN (three or more constants)" by building a temporary b-tree
	 * on every row, which made the engine's insert of a call row cost
	 * several times the insert itself; the checks of the two tables
	 * written per request or per example are spelled with OR instead.
	 * Both are referred to by other tables, so they are rebuilt with
	 * foreign keys off (store_open_version turns them on afterwards).
	 * The index of calls by cache key is not made again: nothing looks
	 * calls up by key (the cache table is the lookup), and it cost a
	 * b-tree insert and a page write per call.
	 */
	[5] =
	"CREATE TABLE calls_v5 ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER REFERENCES runs(id),"
	" backend TEXT,"
	" model TEXT,"
	" role TEXT,"
	" cache_key TEXT,"
	" attempt INTEGER NOT NULL DEFAULT 1,"
	" cached INTEGER NOT NULL DEFAULT 0,"
	" prompt_tokens INTEGER NOT NULL DEFAULT 0,"
	" completion_tokens INTEGER NOT NULL DEFAULT 0,"
	" cost REAL NOT NULL DEFAULT 0,"
	" latency REAL,"
	" status TEXT NOT NULL CHECK (status = 'ok' OR status = 'hit' OR"
	"  status = 'error'),"
	" http_status INTEGER,"
	" error TEXT,"
	" created REAL NOT NULL);"
	"INSERT INTO calls_v5 SELECT * FROM calls;"
	"DROP TABLE calls;"
	"ALTER TABLE calls_v5 RENAME TO calls;"
	"CREATE INDEX calls_run ON calls(run_id);"
	"CREATE TABLE examples_v5 ("
	" id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" idx INTEGER NOT NULL,"
	" line INTEGER,"
	" split TEXT NOT NULL CHECK (split = 'train' OR split = 'dev' OR"
	"  split = 'test'),"
	" hash TEXT,"
	" fields TEXT NOT NULL,"
	" UNIQUE (dataset_id, idx));"
	"INSERT INTO examples_v5 SELECT * FROM examples;"
	"DROP TABLE examples;"
	"ALTER TABLE examples_v5 RENAME TO examples;"
	"CREATE INDEX examples_dataset_split ON examples(dataset_id, split);",

	/*
	 * Version 6: what the reader made of each optimizer and judge reply
	 * (reply.h), with the call that produced it.  A request counts once
	 * per run: a replayed step reads the same reply again.
	 */
	[6] =
	"CREATE TABLE outcomes ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" call_id INTEGER REFERENCES calls(id),"
	" cache_key TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" kept INTEGER NOT NULL DEFAULT 0,"
	" dropped INTEGER NOT NULL DEFAULT 0,"
	" problem TEXT,"
	" excerpt TEXT,"
	" created REAL NOT NULL,"
	" UNIQUE (run_id, cache_key));",

	/*
	 * Version 7: an evaluation that could not be had is stored too, with
	 * its cause (score NULL); a run scores a candidate on an example
	 * once, so a resumed run that reads a score again adds no row (the
	 * duplicates earlier versions made are dropped, the latest kept).
	 */
	[7] =
	"ALTER TABLE evaluations ADD COLUMN error TEXT;"
	"DELETE FROM evaluations WHERE id NOT IN (SELECT max(id)"
	" FROM evaluations GROUP BY run_id, candidate_id, example_id);"
	"CREATE UNIQUE INDEX evaluations_run"
	" ON evaluations(run_id, candidate_id, example_id);",

	/*
	 * Version 8: what providers report beyond input and output: input
	 * read from and written to their prompt caches (priced apart) and
	 * output spent reasoning; a run's cached input.
	 */
	[8] =
	"ALTER TABLE calls ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE calls ADD COLUMN cache_write_tokens INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE calls ADD COLUMN reasoning_tokens INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE runs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;",

	/*
	 * Version 9: provider batches (batch.h), each step of each stored,
	 * and the requests (by key) each holds, so that a restart polls a
	 * batch again instead of submitting its requests twice.
	 */
	[9] =
	"CREATE TABLE batches ("
	" id INTEGER PRIMARY KEY,"
	" backend TEXT NOT NULL,"
	" token TEXT NOT NULL,"
	" step TEXT NOT NULL,"
	" input TEXT NOT NULL,"
	" ninput INTEGER NOT NULL,"
	" file TEXT,"
	" provider_id TEXT,"
	" output TEXT,"
	" errors TEXT,"
	" cause TEXT,"
	" created REAL NOT NULL,"
	" updated REAL NOT NULL);"
	"CREATE TABLE batch_keys ("
	" key TEXT NOT NULL,"
	" batch_id INTEGER NOT NULL REFERENCES batches(id),"
	" PRIMARY KEY (key, batch_id)) WITHOUT ROWID;",
};

/*
 * Every statement the store runs after opening, prepared on first use and
 * kept until store_close().  "what" names the operation in error messages.
 */
enum stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_JOB_PUT,
	STMT_JOB_FIND,
	STMT_JOB_SET_STATE,
	STMT_RUN_NEW,
	STMT_RUN_FINISH,
	STMT_DATASET_LATEST,
	STMT_DATASET_FIND,
	STMT_DATASET_INSERT,
	STMT_DATASET_USE,
	STMT_EXAMPLE_FIND,
	STMT_EXAMPLE_INSERT,
	STMT_CANDIDATE_INSERT,
	STMT_CANDIDATE_FIND,
	STMT_LINEAGE_ADD,
	STMT_CACHE_GET,
	STMT_CACHE_PUT,
	STMT_CALL_ADD,
	STMT_EVALUATION_ADD,
	STMT_EVENT,
	STMT_RUN_CHECKPOINT,
	STMT_RUN_OPEN,
	STMT_CHAMPION_LATEST,
	STMT_CHAMPION_ADD,
	STMT_CANDIDATE_TOP,
	STMT_CANDIDATE_GET,
	/* Reads for the queries (query.c). */
	STMT_JOB_LIST,
	STMT_JOB_GET,
	STMT_RUN_SUM,
	STMT_RUN_LATEST,
	STMT_CHAMPION_HISTORY,
	STMT_CANDIDATE_ROW,
	STMT_LINEAGE_PARENTS,
	STMT_SCORES,
	STMT_EVENTS_AFTER,
	STMT_EVENTS_LAST,
	/* For the daemon. */
	STMT_JOB_SET_FILE,
	STMT_RUN_LAST,
	STMT_COMPARISON_ADD,
	STMT_COMPARISON_COUNT,
	/* The human feedback queue. */
	STMT_COMPARISON_QUEUE,
	STMT_COMPARISON_PENDING_FIND,
	STMT_COMPARISON_PENDING_DROP,
	STMT_COMPARISON_PENDING,
	STMT_COMPARISON_GET,
	STMT_COMPARISON_ANSWER,
	/* For the queries: a run's checkpoint. */
	STMT_RUN_CHECKPOINT_LATEST,
	/* Reply outcomes. */
	STMT_OUTCOME_ADD,
	STMT_OUTCOME_COUNTS,
	/* Resuming a run as it was. */
	STMT_RUN_SPENT,
	STMT_RUN_SCORES,
	STMT_CALL_FAILURES,
	/* Provider batches. */
	STMT_BATCH_ADD,
	STMT_BATCH_KEY_ADD,
	STMT_BATCH_UPDATE,
	STMT_BATCH_FIND,
	STMT_BATCH_KEYS,
	STMT_COUNT
};

/* The columns store_comparison_row() reads, in its order. */
#define COMPARISON_COLUMNS						\
	"id, job_id, a, b, example_id, input, output_a, output_b, winner," \
	" source, who, order_shown, created, answered"

static const struct {
	const char	*what;
	const char	*sql;
} stmt_table[STMT_COUNT] = {
	[STMT_BEGIN] = { "begin transaction", "BEGIN IMMEDIATE" },
	[STMT_COMMIT] = { "commit", "COMMIT" },
	[STMT_ROLLBACK] = { "rollback", "ROLLBACK" },
	/* Savepoints of one name nest: each statement takes the latest. */
	[STMT_SAVEPOINT] = { "begin nested transaction", "SAVEPOINT nested" },
	[STMT_RELEASE] = { "commit nested transaction", "RELEASE nested" },
	[STMT_ROLLBACK_TO] = { "roll back nested transaction",
	    "ROLLBACK TO nested" },
	[STMT_JOB_PUT] = { "put job",
	    "INSERT INTO jobs (name, spec, created, updated)"
	    " VALUES (?1, ?2, ?3, ?3)"
	    " ON CONFLICT (name) DO UPDATE"
	    " SET spec = excluded.spec, updated = excluded.updated" },
	[STMT_JOB_FIND] = { "find job",
	    "SELECT id FROM jobs WHERE name = ?1" },
	[STMT_JOB_SET_STATE] = { "set job state",
	    "UPDATE jobs SET state = ?2, reason = ?3, updated = ?4"
	    " WHERE id = ?1" },
	[STMT_RUN_NEW] = { "new run",
	    "INSERT INTO runs (job_id, kind, dataset_id, started)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	[STMT_RUN_FINISH] = { "finish run",
	    "UPDATE runs SET status = ?2, ended = ?3, calls = ?4, hits = ?5,"
	    " tokens = ?6, dollars = ?7, cached = ?8 WHERE id = ?1" },
	[STMT_DATASET_LATEST] = { "find latest dataset snapshot",
	    "SELECT id FROM datasets WHERE job_id = ?1"
	    " ORDER BY used DESC, id DESC LIMIT 1" },
	[STMT_DATASET_FIND] = { "find dataset snapshot",
	    "SELECT id, n FROM datasets WHERE job_id = ?1 AND hash = ?2"
	    " ORDER BY used DESC, id DESC LIMIT 1" },
	[STMT_DATASET_INSERT] = { "add dataset snapshot",
	    "INSERT INTO datasets (job_id, path, hash, n, created, used)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)" },
	[STMT_DATASET_USE] = { "use dataset snapshot",
	    "UPDATE datasets SET used = ?2 WHERE id = ?1" },
	[STMT_EXAMPLE_FIND] = { "find example",
	    "SELECT id, split FROM examples WHERE dataset_id = ?1 AND idx = ?2" },
	[STMT_EXAMPLE_INSERT] = { "add example",
	    "INSERT INTO examples (dataset_id, idx, line, split, hash, fields)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[STMT_CANDIDATE_INSERT] = { "add candidate",
	    "INSERT INTO candidates (job_id, text, hash, origin, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (job_id, hash) DO NOTHING" },
	[STMT_CANDIDATE_FIND] = { "find candidate",
	    "SELECT id FROM candidates WHERE job_id = ?1 AND hash = ?2" },
	[STMT_LINEAGE_ADD] = { "add lineage",
	    "INSERT INTO lineage (child, parent, operator, note)"
	    " VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (child, parent) DO NOTHING" },
	[STMT_CACHE_GET] = { "read cache",
	    "SELECT response FROM cache WHERE key = ?1" },
	[STMT_CACHE_PUT] = { "write cache",
	    "INSERT INTO cache (key, response, created) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (key) DO NOTHING" },
	[STMT_CALL_ADD] = { "add call",
	    "INSERT INTO calls (run_id, backend, model, role, cache_key,"
	    " attempt, cached, prompt_tokens, completion_tokens, cost, latency,"
	    " status, http_status, error, created, cached_tokens,"
	    " cache_write_tokens, reasoning_tokens)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18)" },
	/* A score replaces a failure, never another score. */
	[STMT_EVALUATION_ADD] = { "add evaluation",
	    "INSERT INTO evaluations (run_id, candidate_id, example_id, output,"
	    " score, feedback, call_id, error, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT (run_id, candidate_id, example_id) DO UPDATE"
	    " SET output = excluded.output, score = excluded.score,"
	    " feedback = excluded.feedback, call_id = excluded.call_id,"
	    " error = excluded.error, created = excluded.created"
	    " WHERE evaluations.score IS NULL RETURNING id" },
	[STMT_EVENT] = { "add event",
	    "INSERT INTO events (job_id, run_id, time, level, message)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)" },
	[STMT_RUN_CHECKPOINT] = { "checkpoint run",
	    "UPDATE runs SET step = ?2, state = ?3, calls = ?4, hits = ?5,"
	    " tokens = ?6, dollars = ?7, cached = ?8 WHERE id = ?1" },
	[STMT_RUN_OPEN] = { "find unfinished run",
	    "SELECT id, step, state FROM runs WHERE job_id = ?1 AND kind = ?2"
	    " AND status = 'running' ORDER BY id DESC LIMIT 1" },
	[STMT_CHAMPION_LATEST] = { "find champion",
	    "SELECT version, candidate_id, score, lo, hi FROM champions"
	    " WHERE job_id = ?1 ORDER BY version DESC LIMIT 1" },
	[STMT_CANDIDATE_TOP] = { "find top candidates",
	    "SELECT c.id, c.text FROM candidates c JOIN evaluations e"
	    " ON e.candidate_id = c.id WHERE c.job_id = ?1"
	    " GROUP BY c.id HAVING count(e.score) >= ?3"
	    " ORDER BY avg(e.score) DESC, c.id LIMIT ?2" },
	[STMT_CANDIDATE_GET] = { "read candidate",
	    "SELECT text FROM candidates WHERE id = ?1" },
	[STMT_COMPARISON_ADD] = { "add comparison",
	    "INSERT INTO comparisons (job_id, a, b, example_id, output_a,"
	    " output_b, winner, source, who, judge_model, order_shown,"
	    " rationale, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)" },
	[STMT_COMPARISON_COUNT] = { "count comparisons",
	    "SELECT count(*) FROM comparisons WHERE job_id = ?1"
	    " AND (?2 IS NULL OR source = ?2)"
	    " AND winner IN ('a', 'b', 'tie')" },
	[STMT_COMPARISON_QUEUE] = { "queue comparison",
	    "INSERT INTO comparisons (job_id, a, b, example_id, output_a,"
	    " output_b, source, order_shown, input, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'human', ?7, ?8, ?9)" },
	[STMT_COMPARISON_PENDING_FIND] = { "find pending comparison",
	    "SELECT id FROM comparisons WHERE job_id = ?1 AND a = ?2"
	    " AND b = ?3 AND example_id IS ?4 AND winner IS NULL"
	    " ORDER BY id LIMIT 1" },
	[STMT_COMPARISON_PENDING_DROP] = { "drop pending comparisons",
	    "UPDATE comparisons SET winner = 'skip', answered = ?3,"
	    " rationale = 'no longer asked: the run moved on'"
	    " WHERE job_id = ?1 AND id != ?2 AND winner IS NULL" },
	[STMT_COMPARISON_PENDING] = { "list pending comparisons",
	    "SELECT " COMPARISON_COLUMNS " FROM comparisons"
	    " WHERE job_id = ?1 AND winner IS NULL ORDER BY id LIMIT ?2" },
	[STMT_COMPARISON_GET] = { "read comparison",
	    "SELECT " COMPARISON_COLUMNS " FROM comparisons WHERE id = ?1" },
	[STMT_COMPARISON_ANSWER] = { "answer comparison",
	    "UPDATE comparisons SET winner = ?2, who = ?3, answered = ?4"
	    " WHERE id = ?1 AND winner IS NULL" },
	[STMT_CHAMPION_ADD] = { "add champion",
	    "INSERT INTO champions (job_id, version, candidate_id, score, lo,"
	    " hi, reason, created)"
	    " VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM champions"
	    " WHERE job_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)" },
	[STMT_JOB_LIST] = { "list jobs",
	    "SELECT id, name, spec, state, reason, created, updated, file"
	    " FROM jobs ORDER BY name" },
	[STMT_JOB_GET] = { "read job",
	    "SELECT id, name, spec, state, reason, created, updated, file"
	    " FROM jobs WHERE name = ?1" },
	[STMT_RUN_SUM] = { "sum runs",
	    "SELECT count(*), coalesce(sum(calls), 0), coalesce(sum(hits), 0),"
	    " coalesce(sum(tokens), 0), coalesce(sum(dollars), 0),"
	    " coalesce(sum(cached), 0) FROM runs WHERE job_id = ?1" },
	[STMT_RUN_LATEST] = { "read latest run",
	    "SELECT id, kind, status, step, started, ended, calls, hits,"
	    " tokens, dollars, cached FROM runs WHERE job_id = ?1"
	    " AND kind IN ('optimize', 'refresh') ORDER BY id DESC LIMIT 1" },
	[STMT_CHAMPION_HISTORY] = { "read champions",
	    "SELECT h.version, h.candidate_id, h.score, h.lo, h.hi, c.text,"
	    " h.reason, h.created FROM champions h"
	    " JOIN candidates c ON c.id = h.candidate_id"
	    " WHERE h.job_id = ?1 ORDER BY h.version" },
	[STMT_CANDIDATE_ROW] = { "read candidate row",
	    "SELECT id, job_id, text, origin FROM candidates WHERE id = ?1" },
	[STMT_LINEAGE_PARENTS] = { "read lineage",
	    "SELECT l.parent, c.text, c.origin, l.operator, l.note"
	    " FROM lineage l JOIN candidates c ON c.id = l.parent"
	    " WHERE l.child = ?1 ORDER BY l.parent" },
	/*
	 * The latest evaluation of each (candidate, example): SQLite takes
	 * the bare columns from the row that max() picked.
	 */
	[STMT_SCORES] = { "read scores",
	    "SELECT e.candidate_id, e.example_id, e.score, max(e.id)"
	    " FROM evaluations e"
	    " JOIN examples x ON x.id = e.example_id"
	    " JOIN candidates c ON c.id = e.candidate_id"
	    " WHERE c.job_id = ?1 AND x.dataset_id = ?2 AND x.split = ?3"
	    " AND e.score IS NOT NULL"
	    " GROUP BY e.candidate_id, e.example_id"
	    " ORDER BY e.candidate_id, e.example_id" },
	[STMT_EVENTS_AFTER] = { "read events",
	    "SELECT id, run_id, time, level, message FROM events"
	    " WHERE job_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3" },
	[STMT_EVENTS_LAST] = { "read events",
	    "SELECT id, run_id, time, level, message FROM"
	    " (SELECT * FROM events WHERE job_id = ?1 ORDER BY id DESC"
	    " LIMIT ?2) ORDER BY id" },
	[STMT_JOB_SET_FILE] = { "set job file",
	    "UPDATE jobs SET file = ?2 WHERE id = ?1" },
	[STMT_RUN_LAST] = { "find last run",
	    "SELECT max(started) FROM runs"
	    " WHERE job_id = ?1 AND (?2 IS NULL OR kind = ?2)" },
	[STMT_RUN_CHECKPOINT_LATEST] = { "read latest checkpoint",
	    "SELECT id, status, step, state FROM runs"
	    " WHERE job_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1" },
	[STMT_OUTCOME_ADD] = { "add reply outcome",
	    "INSERT INTO outcomes (run_id, call_id, cache_key, role, outcome,"
	    " kept, dropped, problem, excerpt, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	    " ON CONFLICT (run_id, cache_key) DO NOTHING" },
	/* The bare columns come from the row max() picked: the latest. */
	/*
	 * What a run spent, from its calls: a call counts when the provider
	 * answered it (2xx), as the engine counts it.
	 */
	[STMT_RUN_SPENT] = { "sum a run's calls",
	    "SELECT coalesce(sum(status = 'ok' OR (status = 'error' AND"
	    " http_status BETWEEN 200 AND 299)), 0),"
	    " coalesce(sum(status = 'hit'), 0),"
	    " coalesce(sum(CASE WHEN status = 'hit' THEN 0"
	    " ELSE prompt_tokens + completion_tokens END), 0),"
	    " coalesce(sum(cost), 0),"
	    " coalesce(sum(CASE WHEN status = 'hit' THEN 0"
	    " ELSE cached_tokens END), 0) FROM calls WHERE run_id = ?1" },
	[STMT_RUN_SCORES] = { "read a run's evaluations",
	    "SELECT candidate_id, example_id, score, output, error"
	    " FROM evaluations WHERE run_id = ?1 ORDER BY id" },
	/* The bare columns come from the row max() picked: the latest. */
	[STMT_CALL_FAILURES] = { "count failed calls",
	    "SELECT backend, coalesce(http_status, 0), error, count(*),"
	    " max(id) FROM calls WHERE run_id = ?1 AND id > ?2"
	    " AND status = 'error' GROUP BY backend, http_status, error"
	    " ORDER BY count(*) DESC, max(id) DESC" },
	[STMT_BATCH_ADD] = { "add batch",
	    "INSERT INTO batches (backend, token, step, input, ninput,"
	    " created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)" },
	[STMT_BATCH_KEY_ADD] = { "add batch key",
	    "INSERT INTO batch_keys (key, batch_id) VALUES (?1, ?2)"
	    " ON CONFLICT DO NOTHING" },
	[STMT_BATCH_UPDATE] = { "update batch",
	    "UPDATE batches SET step = ?2, file = ?3, provider_id = ?4,"
	    " output = ?5, errors = ?6, cause = ?7, updated = ?8"
	    " WHERE id = ?1" },
	/* The latest batch of a backend still under way that holds key. */
	[STMT_BATCH_FIND] = { "find batch",
	    "SELECT b.id, b.token, b.step, b.input, b.ninput, b.file,"
	    " b.provider_id, b.output, b.errors FROM batch_keys k"
	    " JOIN batches b ON b.id = k.batch_id WHERE k.key = ?1"
	    " AND b.backend = ?2 AND b.step != 'done' AND b.step != 'failed'"
	    " ORDER BY b.id DESC LIMIT 1" },
	[STMT_BATCH_KEYS] = { "read batch keys",
	    "SELECT key FROM batch_keys WHERE batch_id = ?1 ORDER BY key" },
	[STMT_OUTCOME_COUNTS] = { "count reply outcomes",
	    "SELECT role, outcome, count(*), problem, excerpt, max(id)"
	    " FROM outcomes WHERE run_id = ?1 GROUP BY role, outcome"
	    " ORDER BY role, count(*) DESC, outcome" },
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 version;
	int		 depth;		/* nesting of store_begin() */
	sqlite3_stmt	*stmt[STMT_COUNT];
};

static int
store_fail(struct store *s, const char *what, char **cause)
{
	return cause_set(cause, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static void
stmt_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static sqlite3_stmt *
stmt_get(struct store *s, enum stmt id, char **cause)
{
	if (s->stmt[id] == NULL && sqlite3_prepare_v3(s->db, stmt_table[id].sql,
	    -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL) != SQLITE_OK) {
		store_fail(s, stmt_table[id].what, cause);
		s->stmt[id] = NULL;
		return NULL;
	}
	return s->stmt[id];
}

/*
 * Prepares (once) and binds statement id.  Each character of fmt binds
 * the next parameter: 'n' an int, 'N' an int where 0 binds NULL, 'i' an
 * int64_t, 'I' an int64_t row id where 0 binds NULL, 'd' a double, 'f' a
 * double where NAN binds NULL, 't' a string (NULL binds NULL; it is
 * borrowed until the statement is reset).
 * Callers must pass exactly these types: the compiler cannot check them.
 */
static sqlite3_stmt *
stmt_vbind(struct store *s, enum stmt id, char **cause, const char *fmt,
    va_list ap)
{
	sqlite3_stmt	*st;
	const char	*t;
	int64_t		 v;
	double		 d;
	int		 i, n, rc = SQLITE_OK;

	if ((st = stmt_get(s, id, cause)) == NULL)
		return NULL;
	for (i = 1; rc == SQLITE_OK && fmt[i - 1] != '\0'; i++) {
		switch (fmt[i - 1]) {
		case 'n':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'N':
			if ((n = va_arg(ap, int)) == 0)
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_int(st, i, n);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'I':
			v = va_arg(ap, int64_t);
			if (v == 0)
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_int64(st, i, v);
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'f':
			d = va_arg(ap, double);
			if (isnan(d))
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_double(st, i, d);
			break;
		case 't':
			t = va_arg(ap, const char *);
			if (t == NULL)
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
			break;
		default:
			abort();
		}
	}
	if (rc != SQLITE_OK) {
		store_fail(s, stmt_table[id].what, cause);
		stmt_reset(st);
		return NULL;
	}
	return st;
}

/*
 * Binds and steps statement id once.  Returns 1 when it produced a row
 * (the caller reads it and then calls stmt_reset()), 0 when it is done
 * (already reset) and -1 on error (already reset, *cause set).
 */
static int
stmt_step(struct store *s, enum stmt id, char **cause, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	st = stmt_vbind(s, id, cause, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		store_fail(s, stmt_table[id].what, cause);
	stmt_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Like stmt_step() for a statement that returns at most one integer. */
static int
stmt_int64(struct store *s, enum stmt id, int64_t *out, char **cause,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	st = stmt_vbind(s, id, cause, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		store_fail(s, stmt_table[id].what, cause);
	stmt_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs one statement of the opening sequence that returns one integer. */
static int
open_int(struct store *s, const char *sql, int *out, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
		else
			rc = sqlite3_errcode(s->db);
	}
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_NOTADB)
			cause_set(cause, "'%s' is not a promptd database: %s",
			    s->path, sqlite3_errmsg(s->db));
		else
			cause_set(cause, "cannot open database '%s': %s",
			    s->path, sqlite3_errmsg(s->db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * A row of PRAGMA foreign_key_check (table, rowid, parent, fkid): the
 * migration must not commit; arg gets what the first one says.
 */
static int
store_fk_broken(void *arg, int n, char **values, char **names)
{
	char	**why = arg;

	if (n >= 3)
		*why = sqlite3_mprintf("a foreign key would be broken: %s row "
		    "%s refers to a missing %s row", values[0],
		    values[1] != NULL ? values[1] : "?", values[2]);
	return 1;
}

static int
store_migrate(struct store *s, int to, char **cause)
{
	char	*sql, *err = NULL, *why = NULL;
	int	 v = 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
		goto fail;
	/* Another process may have migrated while this one waited. */
	if (open_int(s, "PRAGMA user_version", &v, cause) != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (v >= to) {
		s->version = v;
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (sqlite3_exec(s->db, store_migrations[to], NULL, NULL, &err) !=
	    SQLITE_OK)
		goto rollback;
	/* Foreign keys are off here: a rebuilt table must keep them. */
	if (sqlite3_exec(s->db, "PRAGMA foreign_key_check", store_fk_broken,
	    &why, &err) != SQLITE_OK) {
		sqlite3_free(err);
		err = why != NULL ? why :
		    sqlite3_mprintf("a foreign key would be broken");
		goto rollback;
	}
	sql = xasprintf("PRAGMA user_version = %d; COMMIT", to);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		free(sql);
		goto rollback;
	}
	free(sql);
	s->version = to;
	return 0;

rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);

fail:
	cause_set(cause, "store: migrate '%s' to schema version %d: %s",
	    s->path, to, err != NULL ? err : sqlite3_errmsg(s->db));
	sqlite3_free(err);
	return -1;
}

/*
 * The database holds every prompt, dataset and model output: a new one is
 * created for its owner alone (mode 0600, whatever the umask), before
 * SQLite opens it, and SQLite gives its -wal and -shm files the mode of
 * the database.  An existing file keeps its mode; a file that cannot be
 * created here is left for SQLite to report.
 */
static void
store_create(const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return;
	(void)fchmod(fd, 0600);
	close(fd);
}

struct store *
store_open_version(const char *path, int version, char **cause)
{
	struct store	*s;
	int		 rc, tables = 0, unused = 0;

	if (version < 1 || version > STORE_SCHEMA_VERSION) {
		cause_set(cause, "store: schema version %d is not between 1 "
		    "and %d", version, STORE_SCHEMA_VERSION);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	store_create(path);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		cause_set(cause, "cannot open database '%s': %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);

	/* The first statement reads the file: garbage is found here. */
	if (open_int(s, "PRAGMA user_version", &s->version, cause) != 0)
		goto fail;
	if (s->version > STORE_SCHEMA_VERSION) {
		cause_set(cause, "database '%s' has schema version %d, newer "
		    "than this promptd (%d)", path, s->version,
		    STORE_SCHEMA_VERSION);
		goto fail;
	}
	/* The journal mode comes back as a string, which reads as 0. */
	if (open_int(s, "PRAGMA journal_mode = WAL", &unused, cause) != 0 ||
	    open_int(s, "PRAGMA synchronous = NORMAL", &unused, cause) != 0)
		goto fail;
	if (s->version == 0) {
		if (open_int(s, "SELECT count(*) FROM sqlite_master"
		    " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", &tables,
		    cause) != 0)
			goto fail;
		if (tables != 0) {
			cause_set(cause, "'%s' is not a promptd database: it "
			    "has tables but no promptd schema version", path);
			goto fail;
		}
	}
	/*
	 * Migrations run with foreign keys off, as SQLite's procedure for
	 * rebuilding a table asks (store_migrate checks them before it
	 * commits); every later statement runs with them on.
	 */
	if (s->version < version &&
	    open_int(s, "PRAGMA foreign_keys = OFF", &unused, cause) != 0)
		goto fail;
	while (s->version < version) {
		if (store_migrate(s, s->version + 1, cause) != 0)
			goto fail;
	}
	if (open_int(s, "PRAGMA foreign_keys = ON", &unused, cause) != 0)
		goto fail;
	return s;

fail:
	store_close(s);
	return NULL;
}

struct store *
store_open(const char *path, char **cause)
{
	return store_open_version(path, STORE_SCHEMA_VERSION, cause);
}

void
store_close(struct store *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < nitems(s->stmt); i++)
		sqlite3_finalize(s->stmt[i]);
	/* An open transaction is rolled back by the close. */
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int
store_version(struct store *s)
{
	return s->version;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

/* Creates dir and its missing parents with mode 0700. */
static int
mkdir_parents(const char *dir, char **cause)
{
	struct stat	 st;
	char		*p, *q, c;

	p = xstrdup(dir);
	for (q = p + 1; ; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		c = *q;
		*q = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			cause_set(cause, "cannot create directory '%s': %s", p,
			    strerror(errno));
			goto fail;
		}
		if ((*q = c) == '\0')
			break;
	}
	if (stat(dir, &st) != 0) {
		cause_set(cause, "cannot create directory '%s': %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		cause_set(cause, "cannot create directory '%s': %s", dir,
		    strerror(ENOTDIR));
		goto fail;
	}
	free(p);
	return 0;

fail:
	free(p);
	return -1;
}

char *
store_default_path(char **cause)
{
	const char	*xdg = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");
	char		*dir, *path;

	/* The XDG base directory spec says to ignore relative paths. */
	if (xdg != NULL && *xdg == '/')
		dir = xasprintf("%s/promptd", xdg);
	else if (home != NULL && *home == '/')
		dir = xasprintf("%s/.local/state/promptd", home);
	else if (getuid() == 0)
		dir = xstrdup("/var/lib/promptd");
	else {
		cause_set(cause, "cannot choose a database path: neither "
		    "XDG_STATE_HOME nor HOME is set to an absolute path");
		return NULL;
	}
	if (mkdir_parents(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/promptd.db", dir);
	free(dir);
	return path;
}

int
store_begin(struct store *s, char **cause)
{
	if (stmt_step(s, s->depth == 0 ? STMT_BEGIN : STMT_SAVEPOINT, cause,
	    "") != 0)
		return -1;
	s->depth++;
	return 0;
}

int
store_commit(struct store *s, char **cause)
{
	if (s->depth == 0)
		return cause_set(cause, "store: commit: no transaction is open");
	if (--s->depth > 0) {
		if (stmt_step(s, STMT_RELEASE, cause, "") == 0)
			return 0;
		/* The level is undone, as a rollback would. */
		if (stmt_step(s, STMT_ROLLBACK_TO, NULL, "") == 0)
			stmt_step(s, STMT_RELEASE, NULL, "");
		return -1;
	}
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled it back itself (disk full, I/O error). */
		return cause_set(cause, "store: commit: the transaction was "
		    "rolled back by an earlier error");
	}
	if (stmt_step(s, STMT_COMMIT, cause, "") != 0) {
		stmt_step(s, STMT_ROLLBACK, NULL, "");
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *s)
{
	int	rc = 0;

	if (s->depth == 0)
		return 0;
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite rolled it all back itself. */
		s->depth = 0;
		return 0;
	}
	if (--s->depth > 0) {
		/* Undone, then released: the level is gone. */
		if ((rc = stmt_step(s, STMT_ROLLBACK_TO, NULL, "")) == 0)
			rc = stmt_step(s, STMT_RELEASE, NULL, "");
		return rc;
	}
	return stmt_step(s, STMT_ROLLBACK, NULL, "");
}

int64_t
store_job_put(struct store *s, const char *name, const char *spec_json,
    char **cause)
{
	int64_t	id = 0;

	if (store_begin(s, cause) != 0)
		return -1;
	if (stmt_step(s, STMT_JOB_PUT, cause, "ttd", name, spec_json,
	    time_now()) != 0)
		goto fail;
	switch (stmt_int64(s, STMT_JOB_FIND, &id, cause, "t", name)) {
	case 1:
		break;
	case 0:
		cause_set(cause, "store: put job: job '%s' was neither added "
		    "nor found", name);
		goto fail;
	default:
		goto fail;
	}
	if (store_commit(s, cause) != 0)
		return -1;
	return id;

fail:
	store_rollback(s);
	return -1;
}

int64_t
store_job_find(struct store *s, const char *name, char **cause)
{
	int64_t	id = 0;

	if (stmt_int64(s, STMT_JOB_FIND, &id, cause, "t", name) < 0)
		return -1;
	return id;
}

int
store_job_set_state(struct store *s, int64_t job, const char *state,
    const char *reason, char **cause)
{
	if (stmt_step(s, STMT_JOB_SET_STATE, cause, "ittd", job, state, reason,
	    time_now()) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: set job state: no job %lld",
		    (long long)job);
	return 0;
}

int64_t
store_run_new(struct store *s, int64_t job, const char *kind,
    int64_t dataset, char **cause)
{
	if (stmt_step(s, STMT_RUN_NEW, cause, "itId", job, kind, dataset,
	    time_now()) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_run_finish(struct store *s, int64_t run, const char *status,
    const struct run_totals *t, char **cause)
{
	struct run_totals	zero = { 0, 0, 0, 0.0, 0 };

	if (t == NULL)
		t = &zero;
	if (stmt_step(s, STMT_RUN_FINISH, cause, "itdiiidi", run, status,
	    time_now(), (int64_t)t->calls, (int64_t)t->hits,
	    (int64_t)t->tokens, t->dollars, (int64_t)t->cached) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: finish run: no run %lld",
		    (long long)run);
	return 0;
}

static const char *
split_text(enum split sp)
{
	switch (sp) {
	case SPLIT_TRAIN:
		return "train";
	case SPLIT_DEV:
		return "dev";
	case SPLIT_TEST:
		return "test";
	}
	return "?";
}

/*
 * Fills the example ids of ds from snapshot id.  Returns 1 when every
 * example is there with the same split, 0 when the snapshot does not fit
 * (the splits were assigned differently) and -1 on error.
 */
static int
snapshot_fill(struct store *s, int64_t id, struct dataset *ds, char **cause)
{
	sqlite3_stmt	*st;
	struct example	*ex;
	const char	*split;
	size_t		 i;
	int		 r, fits;

	for (i = 0; i < ds->n; i++) {
		ex = &ds->ex[i];
		r = stmt_step(s, STMT_EXAMPLE_FIND, cause, "ii", id,
		    (int64_t)ex->idx);
		if (r <= 0)
			return r;
		st = s->stmt[STMT_EXAMPLE_FIND];
		ex->id = sqlite3_column_int64(st, 0);
		split = (const char *)sqlite3_column_text(st, 1);
		fits = split != NULL && strcmp(split, split_text(ex->split)) == 0;
		stmt_reset(st);
		if (!fits)
			return 0;
	}
	return 1;
}

static int64_t
snapshot_insert(struct store *s, int64_t job, struct dataset *ds,
    char **cause)
{
	struct example	*ex;
	int64_t		 id;
	size_t		 i;
	char		*fields;
	int		 r;

	if (stmt_step(s, STMT_DATASET_INSERT, cause, "ittid", job, ds->path,
	    ds->hash, (int64_t)ds->n, time_now()) != 0)
		return -1;
	id = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < ds->n; i++) {
		ex = &ds->ex[i];
		if ((fields = cJSON_PrintUnformatted(ex->fields)) == NULL) {
			cause_set(cause, "store: add example: cannot encode "
			    "the fields of example %zu", ex->idx);
			return -1;
		}
		r = stmt_step(s, STMT_EXAMPLE_INSERT, cause, "iiittt", id,
		    (int64_t)ex->idx, (int64_t)ex->line, split_text(ex->split),
		    ex->hash[0] != '\0' ? ex->hash : NULL, fields);
		cJSON_free(fields);
		if (r != 0)
			return -1;
		ex->id = sqlite3_last_insert_rowid(s->db);
	}
	return id;
}

int64_t
store_dataset_snapshot(struct store *s, int64_t job, struct dataset *ds,
    int *changed, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 latest = 0, id = 0, n = 0;
	size_t		 i;
	int		 r;

	if (store_begin(s, cause) != 0)
		return -1;
	if (stmt_int64(s, STMT_DATASET_LATEST, &latest, cause, "i", job) < 0)
		goto fail;
	r = stmt_step(s, STMT_DATASET_FIND, cause, "it", job, ds->hash);
	if (r < 0)
		goto fail;
	if (r == 1) {
		st = s->stmt[STMT_DATASET_FIND];
		id = sqlite3_column_int64(st, 0);
		n = sqlite3_column_int64(st, 1);
		stmt_reset(st);
		if (n != (int64_t)ds->n)
			id = 0;
	}
	if (id != 0 && (r = snapshot_fill(s, id, ds, cause)) != 1) {
		if (r < 0)
			goto fail;
		id = 0;
	}
	if (id == 0) {
		if ((id = snapshot_insert(s, job, ds, cause)) == -1)
			goto fail;
	} else if (stmt_step(s, STMT_DATASET_USE, cause, "id", id,
	    time_now()) != 0)
		goto fail;
	/* A failed commit has undone its level itself. */
	if (store_commit(s, cause) != 0)
		goto undone;
	if (changed != NULL)
		*changed = latest != id;
	return id;

fail:
	store_rollback(s);
undone:
	for (i = 0; i < ds->n; i++)
		ds->ex[i].id = 0;
	return -1;
}

int64_t
store_candidate_put(struct store *s, int64_t job, const char *text,
    const char *origin, char **cause)
{
	char	hash[65];
	int64_t	id = 0;

	sha256_hex(text, strlen(text), hash);
	if (stmt_step(s, STMT_CANDIDATE_INSERT, cause, "itttd", job, text,
	    hash, origin, time_now()) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return sqlite3_last_insert_rowid(s->db);
	switch (stmt_int64(s, STMT_CANDIDATE_FIND, &id, cause, "it", job,
	    hash)) {
	case 1:
		return id;
	case 0:
		cause_set(cause, "store: add candidate: the candidate was "
		    "neither added nor found");
		break;
	}
	return -1;
}

int
store_lineage_add(struct store *s, int64_t child, int64_t parent,
    const char *op, const char *note, char **cause)
{
	return stmt_step(s, STMT_LINEAGE_ADD, cause, "iitt", child, parent, op,
	    note) == 0 ? 0 : -1;
}

int
store_cache_get(struct store *s, const char *key, char **response,
    char **cause)
{
	sqlite3_stmt	*st;
	const char	*v;
	int		 r;

	*response = NULL;
	if ((r = stmt_step(s, STMT_CACHE_GET, cause, "t", key)) != 1)
		return r;
	st = s->stmt[STMT_CACHE_GET];
	v = (const char *)sqlite3_column_text(st, 0);
	if (v == NULL) {
		store_fail(s, stmt_table[STMT_CACHE_GET].what, cause);
		stmt_reset(st);
		return -1;
	}
	*response = xstrndup(v, (size_t)sqlite3_column_bytes(st, 0));
	stmt_reset(st);
	return 1;
}

int
store_cache_put(struct store *s, const char *key, const char *response,
    char **cause)
{
	return stmt_step(s, STMT_CACHE_PUT, cause, "ttd", key, response,
	    time_now()) == 0 ? 0 : -1;
}

int64_t
store_call_add(struct store *s, const struct call_record *c, char **cause)
{
	if (stmt_step(s, STMT_CALL_ADD, cause, "Itttt" "nniidd" "tNt" "d"
	    "iii", c->run, c->backend, c->model, c->role, c->key,
	    c->attempt, c->cached, (int64_t)c->prompt_tokens,
	    (int64_t)c->completion_tokens, c->cost, c->latency,
	    c->status, c->http_status, c->error, time_now(),
	    (int64_t)c->cached_tokens, (int64_t)c->cache_write_tokens,
	    (int64_t)c->reasoning_tokens) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

/* Adds or replaces an evaluation (see STMT_EVALUATION_ADD). */
static int64_t
store_evaluation(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, double score, const char *feedback,
    int64_t call, const char *error, char **cause)
{
	int64_t	id = 0;
	int	rc;

	rc = stmt_step(s, STMT_EVALUATION_ADD, cause, "iiitftItd", run,
	    candidate, example, output, score, feedback, call, error,
	    time_now());
	if (rc < 0)
		return -1;
	if (rc == 1) {
		id = sqlite3_column_int64(s->stmt[STMT_EVALUATION_ADD], 0);
		/* RETURNING gives its row before the statement is done. */
		if (sqlite3_step(s->stmt[STMT_EVALUATION_ADD]) != SQLITE_DONE) {
			store_fail(s, stmt_table[STMT_EVALUATION_ADD].what,
			    cause);
			id = -1;
		}
		stmt_reset(s->stmt[STMT_EVALUATION_ADD]);
	}
	return id;
}

int64_t
store_evaluation_add(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, double score, const char *feedback,
    int64_t call, char **cause)
{
	return store_evaluation(s, run, candidate, example, output, score,
	    feedback, call, NULL, cause);
}

int64_t
store_evaluation_fail(struct store *s, int64_t run, int64_t candidate,
    int64_t example, const char *output, const char *error, int64_t call,
    char **cause)
{
	return store_evaluation(s, run, candidate, example, output, NAN, NULL,
	    call, error, cause);
}

int
store_run_spent(struct store *s, int64_t run, struct run_totals *t,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(t, 0, sizeof *t);
	if ((rc = stmt_step(s, STMT_RUN_SPENT, cause, "i", run)) != 1) {
		if (rc == 0)
			cause_set(cause, "store: sum a run's calls: no row");
		return -1;
	}
	st = s->stmt[STMT_RUN_SPENT];
	t->calls = sqlite3_column_int64(st, 0);
	t->hits = sqlite3_column_int64(st, 1);
	t->tokens = sqlite3_column_int64(st, 2);
	t->dollars = sqlite3_column_double(st, 3);
	t->cached = sqlite3_column_int64(st, 4);
	stmt_reset(st);
	return 0;
}

int64_t
store_comparison_add(struct store *s, const struct comparison_record *c,
    char **cause)
{
	if (stmt_step(s, STMT_COMPARISON_ADD, cause, "iiiIttttttttd", c->job,
	    c->a, c->b, c->example, c->output_a, c->output_b, c->winner,
	    c->source, c->who, c->judge_model, c->order_shown, c->rationale,
	    time_now()) != 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_comparison_count(struct store *s, int64_t job, const char *source,
    long long *n, char **cause)
{
	int64_t	v = 0;

	if (stmt_int64(s, STMT_COMPARISON_COUNT, &v, cause, "it", job,
	    source) < 0)
		return -1;
	*n = (long long)v;
	return 0;
}

int
store_outcome_add(struct store *s, const struct outcome_record *o,
    char **cause)
{
	return stmt_step(s, STMT_OUTCOME_ADD, cause, "iItttnnttd", o->run,
	    o->call, o->key, o->role, o->outcome, o->kept, o->dropped,
	    o->problem, o->excerpt, time_now()) == 0 ? 0 : -1;
}

int
store_event(struct store *s, int64_t job, int64_t run, const char *level,
    const char *message, char **cause)
{
	return stmt_step(s, STMT_EVENT, cause, "IIdtt", job, run, time_now(),
	    level, message) == 0 ? 0 : -1;
}

int
store_run_checkpoint(struct store *s, int64_t run, int step,
    const char *state, const struct run_totals *t, char **cause)
{
	struct run_totals	zero = { 0, 0, 0, 0.0, 0 };

	if (t == NULL)
		t = &zero;
	if (stmt_step(s, STMT_RUN_CHECKPOINT, cause, "intiiidi", run, step,
	    state, (int64_t)t->calls, (int64_t)t->hits, (int64_t)t->tokens,
	    t->dollars, (int64_t)t->cached) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: checkpoint run: no run %lld",
		    (long long)run);
	return 0;
}

int64_t
store_run_open(struct store *s, int64_t job, const char *kind, int *step,
    char **state, char **cause)
{
	sqlite3_stmt	*st;
	const char	*t;
	int64_t		 id;
	int		 rc;

	if ((rc = stmt_step(s, STMT_RUN_OPEN, cause, "it", job, kind)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_OPEN];
	id = sqlite3_column_int64(st, 0);
	*step = sqlite3_column_int(st, 1);
	t = (const char *)sqlite3_column_text(st, 2);
	*state = t != NULL ? xstrdup(t) : NULL;
	stmt_reset(st);
	return id;
}

int
store_champion_latest(struct store *s, int64_t job, struct champion *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = stmt_step(s, STMT_CHAMPION_LATEST, cause, "i", job)) <= 0)
		return rc;
	st = s->stmt[STMT_CHAMPION_LATEST];
	c->version = sqlite3_column_int(st, 0);
	c->candidate = sqlite3_column_int64(st, 1);
	c->score = sqlite3_column_double(st, 2);
	c->lo = sqlite3_column_double(st, 3);
	c->hi = sqlite3_column_double(st, 4);
	stmt_reset(st);
	return 1;
}

int
store_champion_add(struct store *s, int64_t job, int64_t candidate,
    double score, double lo, double hi, const char *reason, char **cause)
{
	return stmt_step(s, STMT_CHAMPION_ADD, cause, "iidddtd", job,
	    candidate, score, lo, hi, reason, time_now());
}

int
store_candidates_top(struct store *s, int64_t job, int k, int min_evals,
    int64_t **ids, char ***texts, size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*ids = NULL;
	*texts = NULL;
	*n = 0;
	rc = stmt_step(s, STMT_CANDIDATE_TOP, cause, "inn", job, k,
	    min_evals);
	st = s->stmt[STMT_CANDIDATE_TOP];
	while (rc == 1) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		*texts = xreallocarray(*texts, *n + 1, sizeof **texts);
		(*ids)[*n] = sqlite3_column_int64(st, 0);
		(*texts)[(*n)++] = xstrdup((const char *)
		    sqlite3_column_text(st, 1));
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			rc = 1;
		else {
			if (rc != SQLITE_DONE)
				store_fail(s, stmt_table[STMT_CANDIDATE_TOP].what,
				    cause);
			stmt_reset(st);
			rc = rc == SQLITE_DONE ? 0 : -1;
		}
	}
	return rc;
}

char *
store_candidate_text(struct store *s, int64_t id, char **cause)
{
	sqlite3_stmt	*st;
	char		*text;
	int		 rc;

	if ((rc = stmt_step(s, STMT_CANDIDATE_GET, cause, "i", id)) <= 0) {
		if (rc == 0)
			cause_set(cause, "no candidate %lld", (long long)id);
		return NULL;
	}
	st = s->stmt[STMT_CANDIDATE_GET];
	text = xstrdup((const char *)sqlite3_column_text(st, 0));
	stmt_reset(st);
	return text;
}

/*
 * Reads for the queries.  Each collects the rows of one statement into an
 * array before returning, so that callers may run other statements (or
 * recurse) while they walk the rows.
 */

/* A copy of a text column, or NULL for NULL. */
static char *
col_text(sqlite3_stmt *st, int i)
{
	const char	*t;

	if ((t = (const char *)sqlite3_column_text(st, i)) == NULL)
		return NULL;
	return xstrndup(t, (size_t)sqlite3_column_bytes(st, i));
}

/* A REAL column that may be NULL, as NAN. */
static double
col_double(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(st, i);
}

/* Copies a short text column into a fixed buffer. */
static void
col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const char	*t = (const char *)sqlite3_column_text(st, i);

	snprintf(buf, size, "%s", t != NULL ? t : "");
}

/* Typed release functions for stmt_rows(). */
static void
release_plain(void *rows, size_t n)
{
	free(rows);
}

static void
release_champions(void *rows, size_t n)
{
	store_champion_rows_free(rows, n);
}

static void
release_events(void *rows, size_t n)
{
	store_event_rows_free(rows, n);
}

static void
release_jobs(void *rows, size_t n)
{
	store_job_rows_free(rows, n);
}

static void
release_lineage(void *rows, size_t n)
{
	store_lineage_rows_free(rows, n);
}

static void
release_outcomes(void *rows, size_t n)
{
	store_outcome_rows_free(rows, n);
}

/*
 * Steps statement st (already bound) to its end, growing *rows (of size
 * bytes each) and calling fill for each row.  On an error what was read
 * is released and *rows is NULL.  Resets st on every path.
 */
static int
stmt_rows(struct store *s, enum stmt id, sqlite3_stmt *st, void **rows,
    size_t size, size_t *n, void (*fill)(sqlite3_stmt *, void *),
    void (*release)(void *, size_t), char **cause)
{
	size_t	cap = 0;
	char	*p = NULL;
	int	 rc;

	*rows = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			p = xreallocarray(p, cap, size);
		}
		memset(p + *n * size, 0, size);
		fill(st, p + *n * size);
		(*n)++;
	}
	*rows = p;
	if (rc != SQLITE_DONE) {
		store_fail(s, stmt_table[id].what, cause);
		stmt_reset(st);
		/* Nothing half-read is handed back. */
		release(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	stmt_reset(st);
	return 0;
}

/* Binds statement id (see stmt_vbind()) without stepping it. */
static sqlite3_stmt *
stmt_bind(struct store *s, enum stmt id, char **cause, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = stmt_vbind(s, id, cause, fmt, ap);
	va_end(ap);
	return st;
}

/*
 * Binds statement id (see stmt_vbind()) and reads every row it gives
 * into *rows with stmt_rows(): the body of each list reader.
 */
static int
stmt_list(struct store *s, enum stmt id, size_t size,
    void (*fill)(sqlite3_stmt *, void *), void (*release)(void *, size_t),
    void **rows, size_t *n, char **cause, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	*rows = NULL;
	*n = 0;
	va_start(ap, fmt);
	st = stmt_vbind(s, id, cause, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	return stmt_rows(s, id, st, rows, size, n, fill, release, cause);
}

static void
fill_job(sqlite3_stmt *st, void *p)
{
	struct job_row	*j = p;

	j->id = sqlite3_column_int64(st, 0);
	j->name = col_text(st, 1);
	j->spec = col_text(st, 2);
	j->state = col_text(st, 3);
	j->reason = col_text(st, 4);
	j->created = sqlite3_column_double(st, 5);
	j->updated = sqlite3_column_double(st, 6);
	j->file = col_text(st, 7);
}

void
store_job_row_release(struct job_row *j)
{
	if (j == NULL)
		return;
	free(j->name);
	free(j->spec);
	free(j->state);
	free(j->reason);
	free(j->file);
	memset(j, 0, sizeof *j);
}

void
store_job_rows_free(struct job_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_job_row_release(&rows[i]);
	free(rows);
}

int
store_job_list(struct store *s, struct job_row **rows, size_t *n,
    char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_JOB_LIST, sizeof **rows, fill_job,
	    release_jobs, &p, n, cause, "");
	*rows = p;
	return rc;
}

int
store_job_get(struct store *s, const char *name, struct job_row *j,
    char **cause)
{
	int	rc;

	memset(j, 0, sizeof *j);
	if ((rc = stmt_step(s, STMT_JOB_GET, cause, "t", name)) <= 0)
		return rc;
	fill_job(s->stmt[STMT_JOB_GET], j);
	stmt_reset(s->stmt[STMT_JOB_GET]);
	return 1;
}

int
store_job_runs(struct store *s, int64_t job, int *nruns,
    struct run_totals *sum, struct run_row *latest, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(latest, 0, sizeof *latest);
	if ((rc = stmt_step(s, STMT_RUN_SUM, cause, "i", job)) != 1) {
		/* An aggregate always gives a row. */
		if (rc == 0)
			cause_set(cause, "store: sum runs: no row");
		return -1;
	}
	st = s->stmt[STMT_RUN_SUM];
	*nruns = sqlite3_column_int(st, 0);
	sum->calls = sqlite3_column_int64(st, 1);
	sum->hits = sqlite3_column_int64(st, 2);
	sum->tokens = sqlite3_column_int64(st, 3);
	sum->dollars = sqlite3_column_double(st, 4);
	sum->cached = sqlite3_column_int64(st, 5);
	stmt_reset(st);
	if ((rc = stmt_step(s, STMT_RUN_LATEST, cause, "i", job)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_LATEST];
	latest->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, latest->kind, sizeof latest->kind);
	col_copy(st, 2, latest->status, sizeof latest->status);
	latest->step = sqlite3_column_int(st, 3);
	latest->started = sqlite3_column_double(st, 4);
	latest->ended = col_double(st, 5);
	latest->totals.calls = sqlite3_column_int64(st, 6);
	latest->totals.hits = sqlite3_column_int64(st, 7);
	latest->totals.tokens = sqlite3_column_int64(st, 8);
	latest->totals.dollars = sqlite3_column_double(st, 9);
	latest->totals.cached = sqlite3_column_int64(st, 10);
	stmt_reset(st);
	return 1;
}

static void
fill_champion(sqlite3_stmt *st, void *p)
{
	struct champion_row	*h = p;

	h->c.version = sqlite3_column_int(st, 0);
	h->c.candidate = sqlite3_column_int64(st, 1);
	h->c.score = col_double(st, 2);
	h->c.lo = col_double(st, 3);
	h->c.hi = col_double(st, 4);
	h->text = col_text(st, 5);
	h->reason = col_text(st, 6);
	h->time = sqlite3_column_double(st, 7);
}

void
store_champion_rows_free(struct champion_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].text);
		free(rows[i].reason);
	}
	free(rows);
}

int
store_champion_history(struct store *s, int64_t job,
    struct champion_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_CHAMPION_HISTORY, sizeof **rows, fill_champion,
	    release_champions, &p, n, cause, "i", job);
	*rows = p;
	return rc;
}

int
store_candidate_get(struct store *s, int64_t id, struct candidate_row *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((rc = stmt_step(s, STMT_CANDIDATE_ROW, cause, "i", id)) <= 0)
		return rc;
	st = s->stmt[STMT_CANDIDATE_ROW];
	c->id = sqlite3_column_int64(st, 0);
	c->job = sqlite3_column_int64(st, 1);
	c->text = col_text(st, 2);
	c->origin = col_text(st, 3);
	stmt_reset(st);
	return 1;
}

void
store_candidate_row_release(struct candidate_row *c)
{
	if (c == NULL)
		return;
	free(c->text);
	free(c->origin);
	memset(c, 0, sizeof *c);
}

static void
fill_lineage(sqlite3_stmt *st, void *p)
{
	struct lineage_row	*l = p;

	l->parent = sqlite3_column_int64(st, 0);
	l->text = col_text(st, 1);
	l->origin = col_text(st, 2);
	l->op = col_text(st, 3);
	l->note = col_text(st, 4);
}

void
store_lineage_rows_free(struct lineage_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].text);
		free(rows[i].origin);
		free(rows[i].op);
		free(rows[i].note);
	}
	free(rows);
}

int
store_lineage_parents(struct store *s, int64_t child,
    struct lineage_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_LINEAGE_PARENTS, sizeof **rows, fill_lineage,
	    release_lineage, &p, n, cause, "i", child);
	*rows = p;
	return rc;
}

int64_t
store_dataset_latest(struct store *s, int64_t job, char **cause)
{
	int64_t	id = 0;

	if (stmt_int64(s, STMT_DATASET_LATEST, &id, cause, "i", job) < 0)
		return -1;
	return id;
}

static void
fill_score(sqlite3_stmt *st, void *p)
{
	struct score_row	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->example = sqlite3_column_int64(st, 1);
	r->score = sqlite3_column_double(st, 2);
}

int
store_scores(struct store *s, int64_t job, int64_t dataset,
    const char *split, struct score_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_SCORES, sizeof **rows, fill_score,
	    release_plain, &p, n, cause, "iit", job, dataset, split);
	*rows = p;
	return rc;
}

static void
fill_event(sqlite3_stmt *st, void *p)
{
	struct event_row	*e = p;

	e->id = sqlite3_column_int64(st, 0);
	e->run = sqlite3_column_int64(st, 1);	/* 0 for NULL */
	e->time = sqlite3_column_double(st, 2);
	e->level = col_text(st, 3);
	e->message = col_text(st, 4);
}

void
store_event_rows_free(struct event_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].level);
		free(rows[i].message);
	}
	free(rows);
}

int
store_events(struct store *s, int64_t job, int64_t after, int limit,
    struct event_row **rows, size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	enum stmt	 id;
	void		*p;
	int		 rc;

	*rows = NULL;
	*n = 0;
	if (after >= 0) {
		id = STMT_EVENTS_AFTER;
		st = stmt_bind(s, id, cause, "iin", job, after, limit);
	} else {
		id = STMT_EVENTS_LAST;
		st = stmt_bind(s, id, cause, "in", job, limit);
	}
	if (st == NULL)
		return -1;
	rc = stmt_rows(s, id, st, &p, sizeof **rows, n,
	    fill_event, release_events, cause);
	*rows = p;
	return rc;
}

int
store_run_checkpoint_latest(struct store *s, int64_t job, const char *kind,
    struct run_checkpoint *cp, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(cp, 0, sizeof *cp);
	if ((rc = stmt_step(s, STMT_RUN_CHECKPOINT_LATEST, cause, "it", job,
	    kind)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_CHECKPOINT_LATEST];
	cp->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, cp->status, sizeof cp->status);
	cp->step = sqlite3_column_int(st, 2);
	cp->state = col_text(st, 3);
	stmt_reset(st);
	return 1;
}

int
store_job_set_file(struct store *s, int64_t job, const char *file,
    char **cause)
{
	if (stmt_step(s, STMT_JOB_SET_FILE, cause, "it", job, file) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return cause_set(cause, "store: set job file: no job %lld",
		    (long long)job);
	return 0;
}

int
store_run_last(struct store *s, int64_t job, const char *kind,
    double *started, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = stmt_step(s, STMT_RUN_LAST, cause, "it", job, kind)) <= 0)
		return rc;
	st = s->stmt[STMT_RUN_LAST];
	rc = sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (rc)
		*started = sqlite3_column_double(st, 0);
	stmt_reset(st);
	return rc;
}

/* The human feedback queue. */

int64_t
store_comparison_queue(struct store *s, const struct comparison_record *c,
    const char *input, char **cause)
{
	int64_t	id = 0;
	int	rc;

	if (store_begin(s, cause) != 0)
		return -1;
	rc = stmt_int64(s, STMT_COMPARISON_PENDING_FIND, &id, cause, "iiiI",
	    c->job, c->a, c->b, c->example);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		if (stmt_step(s, STMT_COMPARISON_QUEUE, cause, "iiiIttttd",
		    c->job, c->a, c->b, c->example, c->output_a, c->output_b,
		    c->order_shown, input, time_now()) != 0)
			goto fail;
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (stmt_step(s, STMT_COMPARISON_PENDING_DROP, cause, "iid", c->job,
	    id, time_now()) != 0)
		goto fail;
	if (store_commit(s, cause) != 0)
		return -1;
	return id;
fail:
	store_rollback(s);
	return -1;
}

static void
fill_comparison(sqlite3_stmt *st, void *p)
{
	struct comparison_row	*r = p;

	r->id = sqlite3_column_int64(st, 0);
	r->job = sqlite3_column_int64(st, 1);
	r->a = sqlite3_column_int64(st, 2);
	r->b = sqlite3_column_int64(st, 3);
	r->example = sqlite3_column_int64(st, 4);	/* 0 for NULL */
	r->input = col_text(st, 5);
	r->output_a = col_text(st, 6);
	r->output_b = col_text(st, 7);
	r->winner = col_text(st, 8);
	r->source = col_text(st, 9);
	r->who = col_text(st, 10);
	r->order_shown = col_text(st, 11);
	r->created = col_double(st, 12);
	r->answered = col_double(st, 13);
}

void
store_comparison_row_release(struct comparison_row *r)
{
	if (r == NULL)
		return;
	free(r->input);
	free(r->output_a);
	free(r->output_b);
	free(r->winner);
	free(r->source);
	free(r->who);
	free(r->order_shown);
	memset(r, 0, sizeof *r);
}

void
store_comparison_rows_free(struct comparison_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_comparison_row_release(&rows[i]);
	free(rows);
}

static void
release_comparisons(void *rows, size_t n)
{
	store_comparison_rows_free(rows, n);
}

int
store_comparison_pending(struct store *s, int64_t job, int limit,
    struct comparison_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_COMPARISON_PENDING, sizeof **rows,
	    fill_comparison, release_comparisons, &p, n, cause, "in", job,
	    limit);
	*rows = p;
	return rc;
}

int
store_comparison_get(struct store *s, int64_t id, struct comparison_row *r,
    char **cause)
{
	int	rc;

	memset(r, 0, sizeof *r);
	if ((rc = stmt_step(s, STMT_COMPARISON_GET, cause, "i", id)) <= 0)
		return rc;
	fill_comparison(s->stmt[STMT_COMPARISON_GET], r);
	stmt_reset(s->stmt[STMT_COMPARISON_GET]);
	return 1;
}

int
store_comparison_answer(struct store *s, int64_t id, const char *winner,
    const char *who, char **cause)
{
	if (stmt_step(s, STMT_COMPARISON_ANSWER, cause, "ittd", id, winner,
	    who, time_now()) != 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

static void
fill_outcome(sqlite3_stmt *st, void *p)
{
	struct outcome_row	*o = p;

	o->role = col_text(st, 0);
	o->outcome = col_text(st, 1);
	o->n = sqlite3_column_int64(st, 2);
	o->problem = col_text(st, 3);
	o->excerpt = col_text(st, 4);
}

void
store_outcome_rows_free(struct outcome_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].role);
		free(rows[i].outcome);
		free(rows[i].problem);
		free(rows[i].excerpt);
	}
	free(rows);
}

int
store_outcome_counts(struct store *s, int64_t run, struct outcome_row **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_OUTCOME_COUNTS, sizeof **rows, fill_outcome,
	    release_outcomes, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

static void
fill_run_score(sqlite3_stmt *st, void *p)
{
	struct run_score	*r = p;

	r->candidate = sqlite3_column_int64(st, 0);
	r->example = sqlite3_column_int64(st, 1);
	r->score = col_double(st, 2);
	r->output = col_text(st, 3);
	r->error = col_text(st, 4);
}

void
store_run_scores_free(struct run_score *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].output);
		free(rows[i].error);
	}
	free(rows);
}

static void
release_run_scores(void *rows, size_t n)
{
	store_run_scores_free(rows, n);
}

int
store_run_scores(struct store *s, int64_t run, struct run_score **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_RUN_SCORES, sizeof **rows, fill_run_score,
	    release_run_scores, &p, n, cause, "i", run);
	*rows = p;
	return rc;
}

static void
fill_failure(sqlite3_stmt *st, void *p)
{
	struct failure_row	*f = p;

	f->backend = col_text(st, 0);
	f->http_status = sqlite3_column_int(st, 1);
	f->error = col_text(st, 2);
	f->n = sqlite3_column_int64(st, 3);
	f->last = sqlite3_column_int64(st, 4);
}

void
store_failure_rows_free(struct failure_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(rows[i].backend);
		free(rows[i].error);
	}
	free(rows);
}

static void
release_failures(void *rows, size_t n)
{
	store_failure_rows_free(rows, n);
}

int
store_call_failures(struct store *s, int64_t run, int64_t after,
    struct failure_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = stmt_list(s, STMT_CALL_FAILURES, sizeof **rows, fill_failure,
	    release_failures, &p, n, cause, "ii", run, after);
	*rows = p;
	return rc;
}

int64_t
store_batch_add(struct store *s, const char *backend, const char *token,
    const char *step, const char *input, size_t ninput,
    char *const *keys, size_t nkeys, char **cause)
{
	int64_t	id;
	size_t	i;

	if (store_begin(s, cause) != 0)
		return -1;
	if (stmt_step(s, STMT_BATCH_ADD, cause, "ttttid", backend, token, step,
	    input, (int64_t)ninput, time_now()) != 0)
		goto fail;
	id = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < nkeys; i++)
		if (stmt_step(s, STMT_BATCH_KEY_ADD, cause, "ti", keys[i],
		    id) != 0)
			goto fail;
	if (store_commit(s, cause) != 0)
		return -1;
	return id;
fail:
	store_rollback(s);
	return -1;
}

int
store_batch_update(struct store *s, const struct batch_row *b, char **cause)
{
	return stmt_step(s, STMT_BATCH_UPDATE, cause, "ittttttd", b->id,
	    b->step, b->file, b->provider_id, b->output, b->errors, b->cause,
	    time_now()) == 0 ? 0 : -1;
}

static void
fill_key(sqlite3_stmt *st, void *p)
{
	*(char **)p = col_text(st, 0);
}

static void
release_keys(void *rows, size_t n)
{
	char	**k = rows;
	size_t	  i;

	for (i = 0; i < n; i++)
		free(k[i]);
	free(k);
}

int
store_batch_find(struct store *s, const char *backend, const char *key,
    struct batch_row *b, char ***keys, size_t *nkeys, char **cause)
{
	sqlite3_stmt	*st;
	void		*p;
	int		 rc;

	memset(b, 0, sizeof *b);
	*keys = NULL;
	*nkeys = 0;
	if ((rc = stmt_step(s, STMT_BATCH_FIND, cause, "tt", key,
	    backend)) != 1)
		return rc;
	st = s->stmt[STMT_BATCH_FIND];
	b->id = sqlite3_column_int64(st, 0);
	b->token = col_text(st, 1);
	b->step = col_text(st, 2);
	b->input = col_text(st, 3);
	b->ninput = (size_t)sqlite3_column_int64(st, 4);
	b->file = col_text(st, 5);
	b->provider_id = col_text(st, 6);
	b->output = col_text(st, 7);
	b->errors = col_text(st, 8);
	stmt_reset(st);
	if (stmt_list(s, STMT_BATCH_KEYS, sizeof **keys, fill_key,
	    release_keys, &p, nkeys, cause, "i", b->id) != 0) {
		store_batch_row_release(b);
		return -1;
	}
	*keys = p;
	return 1;
}

void
store_batch_row_release(struct batch_row *b)
{
	free(b->token);
	free(b->step);
	free(b->input);
	free(b->file);
	free(b->provider_id);
	free(b->output);
	free(b->errors);
	free(b->cause);
	memset(b, 0, sizeof *b);
}
