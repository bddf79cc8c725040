/*
 * The store's schema and connection: the migrations that take a database
 * from one schema version to the next, opening (creating, checking and
 * migrating) and closing a database, and the default path.  The
 * connection is opened with SQLITE_OPEN_NOMUTEX, so a struct store must
 * be used by one thread at a time (give each thread its own).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PROMPTD_LOCALSTATEDIR
#define PROMPTD_LOCALSTATEDIR "/var"
#endif

/*
 * Triggers on evaluations keep score_sums (version 10).  Each row of it
 * sums, over the examples of one split of a dataset snapshot that a
 * candidate has a score on, the latest score of each (the scored
 * evaluation with the highest id, as the leaderboard has always taken
 * it): how many (n), their total, their squares and how many are
 * fractional (neither 0 nor 1: the interval of 0/1 scores is Wilson's).
 * evals and evals_total count every scored evaluation, of every run.
 *
 * A scored row new adds itself (SCORE_SUMS_ADD) and takes out its pair's
 * previous latest score, if there is one (SCORE_SUMS_DROP); both only
 * add and subtract, so their order does not matter.  A new row is the
 * pair's latest; a failure scored again when its run resumes is not if
 * a later run scored the pair meanwhile (SCORE_LATER): it then counts
 * only in evals.  Nothing else changes a score or deletes an evaluation.
 * Each is one statement without a subquery in FROM, which SQLite would
 * build a temporary table for on every row.
 */
#define SCORE_PAIR							\
	" FROM evaluations e WHERE e.candidate_id = new.candidate_id"	\
	" AND e.example_id = new.example_id AND e.score IS NOT NULL"
#define SCORE_EARLIER	"EXISTS (SELECT 1" SCORE_PAIR " AND e.id < new.id)"
#define SCORE_LATER	"EXISTS (SELECT 1" SCORE_PAIR " AND e.id > new.id)"
#define SCORE_SUMS_KEY							\
	" WHERE (dataset_id, split, candidate_id) = (SELECT dataset_id,"	\
	" split, new.candidate_id FROM examples WHERE id = new.example_id)"
#define SCORE_SUMS_DROP							\
	"UPDATE score_sums SET (n, total, squares, fractional) ="	\
	" (SELECT n - 1, total - e.score, squares - e.score * e.score,"	\
	" fractional - (e.score != 0 AND e.score != 1)" SCORE_PAIR	\
	" AND e.id < new.id ORDER BY e.id DESC LIMIT 1)" SCORE_SUMS_KEY ";"
/* latest: an SQL expression, 1 when new is its pair's latest score. */
#define SCORE_SUMS_ADD(latest)						\
	"INSERT INTO score_sums (dataset_id, split, candidate_id, n, total,"	\
	" squares, fractional, evals, evals_total)"			\
	" SELECT x.dataset_id, x.split, new.candidate_id, " latest ","	\
	" new.score * " latest ", new.score * new.score * " latest ","	\
	" (new.score != 0 AND new.score != 1) * " latest ", 1, new.score" \
	" FROM examples x WHERE x.id = new.example_id"			\
	" ON CONFLICT (dataset_id, split, candidate_id) DO UPDATE"	\
	" SET n = n + excluded.n, total = total + excluded.total,"	\
	" squares = squares + excluded.squares,"			\
	" fractional = fractional + excluded.fractional,"		\
	" evals = evals + 1, evals_total = evals_total + excluded.evals_total;"
#define SCORE_RESCORED							\
	" AFTER UPDATE OF score ON evaluations"				\
	" WHEN old.score IS NULL AND new.score IS NOT NULL"

/* tokens_estimate() of a text in SQL: its bytes, not its characters. */
#define CANDIDATE_TOKENS(text)	"((length(CAST(" text " AS BLOB)) + 3) / 4)"

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

	/*
	 * Version 10: queries that stay fast as a job grows.  score_sums
	 * holds, per candidate, dataset snapshot and split, the running
	 * sums that a mean and its interval need, so that leaderboard reads
	 * a row per candidate instead of every evaluation (SCORE_SUMS_ADD
	 * and the triggers above).
	 * status gets indexes for what it reads of a long run: its failed
	 * calls (it read every call to find the few failed), its reply
	 * outcomes by role and outcome (counted every step too), and a
	 * job's runs.
	 */
	[10] =
	"CREATE TABLE score_sums ("
	" dataset_id INTEGER NOT NULL,"
	" split TEXT NOT NULL,"
	" candidate_id INTEGER NOT NULL,"
	" n INTEGER NOT NULL,"
	" total REAL NOT NULL,"
	" squares REAL NOT NULL,"
	" fractional INTEGER NOT NULL,"
	" evals INTEGER NOT NULL,"
	" evals_total REAL NOT NULL,"
	" PRIMARY KEY (dataset_id, split, candidate_id)) WITHOUT ROWID;"
	"INSERT INTO score_sums (dataset_id, split, candidate_id, n, total,"
	" squares, fractional, evals, evals_total)"
	" SELECT x.dataset_id, x.split, p.candidate_id, count(*),"
	" sum(p.score), sum(p.score * p.score),"
	" sum(p.score != 0 AND p.score != 1), sum(p.evals), sum(p.evals_total)"
	" FROM (SELECT candidate_id, example_id, score, max(id),"
	" count(*) AS evals, sum(score) AS evals_total FROM evaluations"
	" WHERE score IS NOT NULL GROUP BY candidate_id, example_id) p"
	" JOIN examples x ON x.id = p.example_id"
	" GROUP BY x.dataset_id, x.split, p.candidate_id;"
	"CREATE TRIGGER score_sums_add AFTER INSERT ON evaluations"
	" WHEN new.score IS NOT NULL BEGIN " SCORE_SUMS_ADD("1") " END;"
	"CREATE TRIGGER score_sums_drop AFTER INSERT ON evaluations"
	" WHEN new.score IS NOT NULL AND " SCORE_EARLIER
	" BEGIN " SCORE_SUMS_DROP " END;"
	"CREATE TRIGGER score_sums_rescore_add" SCORE_RESCORED
	" BEGIN " SCORE_SUMS_ADD("(NOT " SCORE_LATER ")") " END;"
	"CREATE TRIGGER score_sums_rescore_drop" SCORE_RESCORED
	" AND " SCORE_EARLIER " AND NOT " SCORE_LATER
	" BEGIN " SCORE_SUMS_DROP " END;"
	"CREATE INDEX calls_failed ON calls(run_id, id) WHERE status = 'error';"
	"CREATE INDEX outcomes_run ON outcomes(run_id, role, outcome);"
	"CREATE INDEX runs_job ON runs(job_id, kind);",

	/*
	 * Version 11: the evidence of a promotion, which only the event
	 * text held: the run that promoted the champion, the paired test's
	 * p, delta and number of dev examples (NULL for the first champion,
	 * which had none to beat), and its score on the test split with
	 * the interval and the number of examples (NULL until measured).
	 */
	[11] =
	"ALTER TABLE champions ADD COLUMN run_id INTEGER REFERENCES runs(id);"
	"ALTER TABLE champions ADD COLUMN p REAL;"
	"ALTER TABLE champions ADD COLUMN delta REAL;"
	"ALTER TABLE champions ADD COLUMN paired INTEGER;"
	"ALTER TABLE champions ADD COLUMN test_score REAL;"
	"ALTER TABLE champions ADD COLUMN test_lo REAL;"
	"ALTER TABLE champions ADD COLUMN test_hi REAL;"
	"ALTER TABLE champions ADD COLUMN test_n INTEGER;",

	/*
	 * Version 12: production feedback (feedback.h).  An interaction is
	 * one line of a job's feedback log, stored once per job by its key
	 * (the line's id, or the hash of its canonical JSON), with where it
	 * was read (file and line) and when; candidate_id is the candidate
	 * that answered, found from the champion version or the prompt text
	 * when the job knows it.  user holds the id as the job's "feedback"
	 * setting keeps it (hashed with the job's salt by default), so that
	 * forget finds a person's rows by an index (a job's rows are found
	 * by the one of UNIQUE (job_id, key)).  feedback_sources
	 * remembers how far the job's own feedback file was read (its
	 * device, inode and the hash of its first bytes tell a rotated or
	 * truncated file), so that each run reads only what was added.
	 */
	[12] =
	"ALTER TABLE jobs ADD COLUMN salt TEXT;"
	"CREATE TABLE interactions ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" key TEXT NOT NULL,"
	" source TEXT,"
	" line INTEGER,"
	" time REAL NOT NULL,"
	" ingested REAL NOT NULL,"
	" version INTEGER,"
	" candidate_id INTEGER REFERENCES candidates(id),"
	" prompt TEXT,"
	" inputs TEXT NOT NULL,"
	" response TEXT NOT NULL,"
	" user TEXT,"
	" session TEXT,"
	" rating_scale TEXT CHECK (rating_scale IS NULL OR"
	"  rating_scale = 'thumbs' OR rating_scale = 'stars'),"
	" rating INTEGER,"
	" preferred TEXT CHECK (preferred IS NULL OR preferred = 'this' OR"
	"  preferred = 'other' OR preferred = 'tie'),"
	" other TEXT,"
	" other_version INTEGER,"
	" other_prompt TEXT,"
	" critique TEXT,"
	" edit TEXT,"
	" regenerated INTEGER,"
	" abandoned INTEGER,"
	" copied INTEGER,"
	" follow_up TEXT,"
	" UNIQUE (job_id, key));"
	"CREATE INDEX interactions_user ON interactions(job_id, user)"
	" WHERE user IS NOT NULL;"
	"CREATE TABLE feedback_sources ("
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" path TEXT NOT NULL,"
	" device INTEGER NOT NULL,"
	" inode INTEGER NOT NULL,"
	" offset INTEGER NOT NULL,"
	" line INTEGER NOT NULL,"
	" head TEXT NOT NULL,"
	" updated REAL NOT NULL,"
	" PRIMARY KEY (job_id, path));",

	/*
	 * Version 13: examples made from feedback.  An example's origin says
	 * where it came from (the dataset file, or the job's interactions:
	 * an edited response, or one rated best); feedback_examples links
	 * each feedback example to the interactions it was made from, so
	 * that forgetting a user reaches what was derived from them alone.
	 * An example is looked up by its interactions when one is
	 * forgotten, by its own id when its links are read.
	 */
	[13] =
	"ALTER TABLE examples ADD COLUMN origin TEXT NOT NULL"
	" DEFAULT 'dataset' CHECK (origin = 'dataset' OR origin = 'feedback');"
	"CREATE TABLE feedback_examples ("
	" example_id INTEGER NOT NULL REFERENCES examples(id),"
	" interaction_id INTEGER NOT NULL REFERENCES interactions(id),"
	" PRIMARY KEY (example_id, interaction_id)) WITHOUT ROWID;"
	"CREATE INDEX feedback_examples_interaction"
	" ON feedback_examples(interaction_id);",

	/*
	 * Version 14: challengers.  A job's run may leave its best candidate,
	 * when it is not the champion, deployed beside it on a share of the
	 * traffic; production ratings of both then decide at a later run.
	 * A challenger is open until it ends with its outcome: promoted,
	 * rejected (the champion rated better), withdrawn (a run's best was
	 * the champion) or replaced (by another challenger).  At most one is
	 * open for a job.
	 */
	[14] =
	"CREATE TABLE challengers ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	" share REAL NOT NULL CHECK (share > 0 AND share <= 0.5),"
	" started REAL NOT NULL,"
	" ended REAL,"
	" outcome TEXT CHECK (outcome IS NULL OR outcome = 'promoted' OR"
	"  outcome = 'rejected' OR outcome = 'withdrawn' OR"
	"  outcome = 'replaced'),"
	" CHECK ((ended IS NULL) = (outcome IS NULL)));"
	"CREATE UNIQUE INDEX challengers_open ON challengers(job_id)"
	" WHERE ended IS NULL;",

	/*
	 * Version 15: people's pairwise preferences become comparisons.  An
	 * interaction keeps the candidate of its other side (found from
	 * other_version or other_prompt, as candidate_id is from its own),
	 * and a comparison the interaction it was made from, at most one
	 * each (the partial UNIQUE index), so that reading a log again adds
	 * none and forgetting a user deletes them.  What was ingested
	 * before gets its other candidate and its comparison here, on the
	 * example of the same inputs when a feedback example has them.
	 */
	[15] =
	"ALTER TABLE interactions ADD COLUMN other_candidate_id INTEGER"
	" REFERENCES candidates(id);"
	"ALTER TABLE comparisons ADD COLUMN interaction_id INTEGER"
	" REFERENCES interactions(id);"
	"CREATE UNIQUE INDEX comparisons_interaction"
	" ON comparisons(interaction_id) WHERE interaction_id IS NOT NULL;"
	"UPDATE interactions SET other_candidate_id = coalesce("
	" (SELECT h.candidate_id FROM champions h"
	"  WHERE h.job_id = interactions.job_id"
	"  AND h.version = interactions.other_version),"
	" (SELECT c.id FROM candidates c"
	"  WHERE c.job_id = interactions.job_id"
	"  AND c.text = interactions.other_prompt))"
	" WHERE preferred IS NOT NULL;"
	"INSERT INTO comparisons (job_id, a, b, example_id, output_a,"
	" output_b, winner, source, who, order_shown, rationale, created,"
	" interaction_id)"
	" SELECT i.job_id, i.candidate_id, i.other_candidate_id,"
	" (SELECT max(f.example_id) FROM feedback_examples f"
	"  JOIN interactions j ON j.id = f.interaction_id"
	"  WHERE j.job_id = i.job_id AND j.inputs = i.inputs),"
	" i.response, i.other, CASE i.preferred WHEN 'this' THEN 'a'"
	" WHEN 'other' THEN 'b' ELSE 'tie' END, 'human', i.user, 'ab',"
	" i.critique, i.ingested, i.id FROM interactions i"
	" WHERE i.preferred IS NOT NULL AND i.candidate_id IS NOT NULL"
	" AND i.other_candidate_id IS NOT NULL"
	" AND i.candidate_id != i.other_candidate_id ORDER BY i.id;",

	/*
	 * Version 16: risk-controlled promotion.  A promotion of a job that
	 * sets "risk" keeps its evidence on the tail: the measure, its
	 * threshold or quantile, the upper bound at the confidence over so
	 * many dev examples, and the most allowed.  NULL for promotions
	 * without one, those before included.
	 */
	[16] =
	"ALTER TABLE champions ADD COLUMN risk_measure TEXT"
	" CHECK (risk_measure IS NULL OR risk_measure = 'share_below'"
	" OR risk_measure = 'quantile');"
	"ALTER TABLE champions ADD COLUMN risk_param REAL;"
	"ALTER TABLE champions ADD COLUMN risk_bound REAL;"
	"ALTER TABLE champions ADD COLUMN risk_max REAL;"
	"ALTER TABLE champions ADD COLUMN risk_confidence REAL;"
	"ALTER TABLE champions ADD COLUMN risk_n INTEGER;",

	/*
	 * Version 17: what a prompt costs on every call.  A candidate keeps
	 * its prompt tokens, counted as tokens_estimate() counts them (a
	 * quarter of the bytes, rounded up): the estimate the sim backend
	 * and plan use, so that the figures agree with theirs whatever the
	 * model's tokenizer.  A trigger counts them as a candidate is added,
	 * so that the statement that adds one is the same at every schema
	 * version (tests open old ones); rows from before are counted here.
	 */
	[17] =
	"ALTER TABLE candidates ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;"
	"CREATE TRIGGER candidates_tokens AFTER INSERT ON candidates BEGIN"
	" UPDATE candidates SET tokens = " CANDIDATE_TOKENS("new.text")
	" WHERE id = new.id; END;"
	"UPDATE candidates SET tokens = " CANDIDATE_TOKENS("text") ";",

	/*
	 * Version 18: few-shot demonstrations.  A candidate is an
	 * instruction and the ordered demos it shows the target before the
	 * input: each the input as shown and the answer shown, with the
	 * example it came from (NULL when none: a seed's own text).  The
	 * texts are kept, not only the example, so that a candidate stays
	 * what it was when the dataset changes.
	 */
	[18] =
	"CREATE TABLE candidate_demos ("
	" candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	" pos INTEGER NOT NULL,"
	" example_id INTEGER REFERENCES examples(id),"
	" input TEXT NOT NULL,"
	" output TEXT NOT NULL,"
	" PRIMARY KEY (candidate_id, pos));",

	/*
	 * Version 19: synthetic examples (Intent-based Prompt Calibration).
	 * A job that sets "synthetic" has its optimizer write new inputs
	 * near the boundary of its task; each is a row of synthetic, pending
	 * until the judge or a person labels it (labeled) or it is left out
	 * (dropped, with the reason), and a labeled one joins the job's runs
	 * as an example of origin 'synthetic', in train or dev, never test.
	 * An input is the JSON object of the template's fields (inputs, keyed
	 * by its hash: the same inputs are one row for the job) and the text
	 * shown to whoever labels it (input).  The examples table is rebuilt
	 * for the new origin, as version 5 rebuilt it; the triggers of
	 * evaluations name it, which a rename checks unless legacy_alter_table
	 * is on.
	 */
	[19] =
	"PRAGMA legacy_alter_table = ON;"
	"CREATE TABLE examples_v19 ("
	" id INTEGER PRIMARY KEY,"
	" dataset_id INTEGER NOT NULL REFERENCES datasets(id),"
	" idx INTEGER NOT NULL,"
	" line INTEGER,"
	" split TEXT NOT NULL CHECK (split = 'train' OR split = 'dev' OR"
	"  split = 'test'),"
	" hash TEXT,"
	" fields TEXT NOT NULL,"
	" origin TEXT NOT NULL DEFAULT 'dataset' CHECK (origin = 'dataset' OR"
	"  origin = 'feedback' OR origin = 'synthetic'),"
	" UNIQUE (dataset_id, idx));"
	"INSERT INTO examples_v19 (id, dataset_id, idx, line, split, hash,"
	" fields, origin) SELECT id, dataset_id, idx, line, split, hash,"
	" fields, origin FROM examples;"
	"DROP TABLE examples;"
	"ALTER TABLE examples_v19 RENAME TO examples;"
	"PRAGMA legacy_alter_table = OFF;"
	"CREATE INDEX examples_dataset_split ON examples(dataset_id, split);"
	"CREATE TABLE synthetic ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id),"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" key TEXT NOT NULL,"
	" inputs TEXT NOT NULL,"
	" input TEXT NOT NULL,"
	" split TEXT NOT NULL CHECK (split = 'train' OR split = 'dev'),"
	" labeler TEXT NOT NULL CHECK (labeler = 'judge' OR"
	"  labeler = 'people'),"
	" choices TEXT,"
	" status TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending'"
	"  OR status = 'labeled' OR status = 'dropped'),"
	" label TEXT,"
	" reason TEXT,"
	" who TEXT,"
	" created REAL NOT NULL,"
	" answered REAL,"
	" CHECK ((status = 'labeled') = (label IS NOT NULL)),"
	" UNIQUE (job_id, key));"
	"CREATE INDEX synthetic_run ON synthetic(run_id);",
};
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
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);

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
	/* The worker's last checkpoint comes after every commit of s. */
	store_wal_stop(s);
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

char *
store_default_path(char **cause)
{
	const char	*xdg = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");
	char		*dir, *path;

	/* systemd's StateDirectory= first. */
	if ((dir = systemd_dir("STATE_DIRECTORY")) == NULL) {
		/* The XDG base directory spec ignores relative paths. */
		if (xdg != NULL && *xdg == '/')
			dir = xasprintf("%s/promptd", xdg);
		else if (getuid() == 0)
			dir = xstrdup(PROMPTD_LOCALSTATEDIR "/lib/promptd");
		else if (home != NULL && *home == '/')
			dir = xasprintf("%s/.local/state/promptd", home);
		else {
			cause_set(cause, "cannot choose a database path: "
			    "neither XDG_STATE_HOME nor HOME is set to an "
			    "absolute path");
			return NULL;
		}
	}
	if (mkdir_parents(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/promptd.db", dir);
	free(dir);
	return path;
}
