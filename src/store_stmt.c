/*
 * The statements of the store, each prepared once per connection, the
 * helpers that bind and step them, and those that read their columns and
 * rows (store_int.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

/* The columns store_fill_comparison() (store_read.c) reads, in order. */
#define COMPARISON_COLUMNS						\
	"id, job_id, a, b, example_id, input, output_a, output_b, winner," \
	" source, who, order_shown, created, answered"
/* The columns store_fill_example() (store_report.c) reads, in order. */
#define EXAMPLE_COLUMNS							\
	"id, idx, line, split, fields, origin, hash"
/* The columns of a synthetic example (store_synthetic.c), in order. */
#define SYNTHETIC_COLUMNS						\
	"id, job_id, run_id, key, inputs, input, split, labeler, choices,"	\
	" status, label, reason, who, created, answered"
/* The columns store_fill_run() (store_report.c) reads, in its order. */
#define RUN_COLUMNS							\
	"id, kind, status, step, started, ended, calls, hits, tokens,"	\
	" dollars, cached, dataset_id"
/*
 * What forgetting a user of a job (?1, ?2) reaches: their interactions,
 * and the feedback examples linked to those alone (an example that
 * another person's interaction gave as well stays as it is).
 */
#define FORGET_MINE							\
	"SELECT id FROM interactions WHERE job_id = ?1 AND user = ?2"
#define FORGET_GONE							\
	"SELECT f.example_id FROM feedback_examples f"			\
	" WHERE f.interaction_id IN (" FORGET_MINE ") AND NOT EXISTS"	\
	" (SELECT 1 FROM feedback_examples o"				\
	" WHERE o.example_id = f.example_id"				\
	" AND o.interaction_id NOT IN (" FORGET_MINE "))"
/*
 * The evaluations of those examples, found by the index of
 * (candidate_id, example_id) through the job's candidates.
 */
#define FORGET_EVALUATIONS						\
	" candidate_id IN (SELECT id FROM candidates WHERE job_id = ?1)" \
	" AND example_id IN (" FORGET_GONE ")"

const struct stmt_def store_stmt_table[STMT_COUNT] = {
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
	    "SELECT id, split, hash FROM examples"
	    " WHERE dataset_id = ?1 AND idx = ?2" },
	/* Its origin is the dataset's unless STMT_EXAMPLE_FEEDBACK says. */
	[STMT_EXAMPLE_INSERT] = { "add example",
	    "INSERT INTO examples (dataset_id, idx, line, split, hash, fields)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[STMT_EXAMPLE_FEEDBACK] = { "mark example from feedback",
	    "UPDATE examples SET origin = 'feedback' WHERE id = ?1" },
	[STMT_EXAMPLE_LINK] = { "link example to interaction",
	    "INSERT INTO feedback_examples (example_id, interaction_id)"
	    " VALUES (?1, ?2) ON CONFLICT DO NOTHING" },
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
	/* Every scored evaluation counts, of every run and snapshot. */
	[STMT_CANDIDATE_TOP] = { "find top candidates",
	    "SELECT c.id, c.text FROM candidates c JOIN score_sums a"
	    " ON a.candidate_id = c.id WHERE c.job_id = ?1"
	    " GROUP BY c.id HAVING sum(a.evals) >= ?3"
	    " ORDER BY sum(a.evals_total) / sum(a.evals) DESC, c.id LIMIT ?2" },
	[STMT_CANDIDATE_GET] = { "read candidate",
	    "SELECT text FROM candidates WHERE id = ?1" },
	[STMT_COMPARISON_ADD] = { "add comparison",
	    "INSERT INTO comparisons (job_id, a, b, example_id, output_a,"
	    " output_b, winner, source, who, judge_model, order_shown,"
	    " rationale, created, interaction_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14) ON CONFLICT DO NOTHING" },
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
	    " hi, reason, created, run_id, p, delta, paired, risk_measure,"
	    " risk_param, risk_bound, risk_max, risk_confidence, risk_n)"
	    " VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM champions"
	    " WHERE job_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	    " nullif(?11, 0), ?12, ?13, ?14, ?15, ?16, ?17)" },
	[STMT_CHAMPION_SET_TEST] = { "set champion test score",
	    "UPDATE champions SET test_score = ?3, test_lo = ?4, test_hi = ?5,"
	    " test_n = ?6 WHERE job_id = ?1 AND version = ?2" },
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
	    "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = ?1"
	    " AND kind IN ('optimize', 'refresh') ORDER BY id DESC LIMIT 1" },
	[STMT_CHAMPION_HISTORY] = { "read champions",
	    "SELECT h.version, h.candidate_id, h.score, h.lo, h.hi, c.text,"
	    " h.reason, h.created, h.run_id, h.p, h.delta, h.paired,"
	    " h.test_score, h.test_lo, h.test_hi, h.test_n, h.risk_measure,"
	    " h.risk_param, h.risk_bound, h.risk_max, h.risk_confidence,"
	    " h.risk_n FROM champions h"
	    " JOIN candidates c ON c.id = h.candidate_id"
	    " WHERE h.job_id = ?1 ORDER BY h.version" },
	[STMT_CANDIDATE_ROW] = { "read candidate row",
	    "SELECT id, job_id, text, origin, tokens FROM candidates"
	    " WHERE id = ?1" },
	[STMT_LINEAGE_PARENTS] = { "read lineage",
	    "SELECT l.parent, c.text, c.origin, l.operator, l.note, c.tokens"
	    " FROM lineage l JOIN candidates c ON c.id = l.parent"
	    " WHERE l.child = ?1 ORDER BY l.parent" },
	[STMT_SCORE_SUMS] = { "read score sums",
	    "SELECT a.candidate_id, a.n, a.total, a.squares, a.fractional,"
	    " c.tokens FROM score_sums a JOIN candidates c ON c.id = a.candidate_id"
	    " WHERE a.dataset_id = ?2 AND a.split = ?3 AND c.job_id = ?1"
	    " ORDER BY a.candidate_id" },
	/*
	 * The latest evaluation of each example that has a score: SQLite
	 * takes the bare columns from the row that max() picked.
	 */
	[STMT_SCORES] = { "read scores",
	    "SELECT e.candidate_id, e.example_id, e.score, max(e.id)"
	    " FROM evaluations e JOIN examples x ON x.id = e.example_id"
	    " WHERE e.candidate_id = ?1 AND x.dataset_id = ?2"
	    " AND x.split = ?3 AND e.score IS NOT NULL"
	    " GROUP BY e.example_id ORDER BY e.example_id" },
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
	/*
	 * ?3 is '"KEY":', which only a member named KEY has: a quote in a
	 * JSON string is escaped.
	 */
	[STMT_RUN_CHECKPOINT_LATEST] = { "read latest checkpoint",
	    "SELECT id, status, step, state IS NOT NULL,"
	    " CASE WHEN ?3 IS NULL OR instr(state, ?3) > 0 THEN state END"
	    " FROM runs WHERE job_id = ?1 AND kind = ?2"
	    " ORDER BY id DESC LIMIT 1" },
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
	[STMT_ROLE_SPEND] = { "sum a run's calls by role",
	    "SELECT coalesce(role, ''), coalesce(sum(status = 'ok'), 0),"
	    " coalesce(sum(status = 'hit'), 0),"
	    " coalesce(sum(CASE WHEN status = 'ok' THEN prompt_tokens END),"
	    " 0), coalesce(sum(CASE WHEN status = 'ok' THEN"
	    " completion_tokens END), 0), coalesce(sum(cost), 0)"
	    " FROM calls WHERE run_id = ?1 GROUP BY role ORDER BY role" },
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
	[STMT_RUN_LIST] = { "list runs",
	    "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = ?1 ORDER BY id" },
	/*
	 * Each candidate's scores in run ?1 on one split (p takes the bare
	 * call_id and created of its last score from the row max() picked),
	 * then the run's calls and those last scores in one ordered pass,
	 * which sums the paid calls and the dollars up to each last score:
	 * by call id, or by time for the scores that have no call (a pass
	 * skipped when every one has).  The calls come first at a tie: "up
	 * to and including".  The last scores carry their columns through
	 * the pass, and only they are kept from it: no join has to find
	 * them again among the calls.
	 */
	[STMT_RUN_PROGRESS] = { "read a run's progress",
	    "WITH p AS (SELECT e.candidate_id AS c, count(*) AS n,"
	    " avg(e.score) AS mean, max(e.created) AS t, e.call_id AS call"
	    " FROM evaluations e JOIN examples x ON x.id = e.example_id"
	    " WHERE e.run_id = ?1 AND x.dataset_id = ?2 AND x.split = ?3"
	    " AND e.score IS NOT NULL GROUP BY e.candidate_id),"
	    " by_id AS (SELECT id AS k1, 0 AS k2, status = 'ok' AS paid, cost,"
	    " NULL AS c, NULL AS n, NULL AS mean, NULL AS t FROM calls"
	    " WHERE run_id = ?1 UNION ALL SELECT call, 1, 0, 0, c, n, mean, t"
	    " FROM p WHERE call IS NOT NULL),"
	    " by_time AS (SELECT created AS k1, 0 AS k2, status = 'ok' AS paid,"
	    " cost, NULL AS c, NULL AS n, NULL AS mean, NULL AS t FROM calls"
	    " WHERE run_id = ?1 AND EXISTS (SELECT 1 FROM p WHERE call IS NULL)"
	    " UNION ALL SELECT t, 1, 0, 0, c, n, mean, t FROM p"
	    " WHERE call IS NULL),"
	    " spent AS (SELECT * FROM (SELECT k2, c, n, mean, t,"
	    " sum(paid) OVER w AS calls, sum(cost) OVER w AS dollars FROM by_id"
	    " WINDOW w AS (ORDER BY k1, k2 ROWS UNBOUNDED PRECEDING))"
	    " WHERE k2 = 1 UNION ALL SELECT * FROM (SELECT k2, c, n, mean, t,"
	    " sum(paid) OVER w, sum(cost) OVER w FROM by_time"
	    " WINDOW w AS (ORDER BY k1, k2 ROWS UNBOUNDED PRECEDING))"
	    " WHERE k2 = 1)"
	    " SELECT s.c, d.origin, (SELECT l.operator FROM lineage l"
	    " WHERE l.child = s.c ORDER BY l.rowid LIMIT 1), s.n, s.mean,"
	    " s.calls, s.dollars, s.t FROM spent s"
	    " JOIN candidates d ON d.id = s.c ORDER BY s.t, s.c" },
	/* The bare columns come from the row max() picked: the latest. */
	[STMT_CANDIDATE_RESULTS] = { "read a candidate's results",
	    "SELECT e.example_id, e.score, max(e.id)"
	    " FROM evaluations e JOIN examples x ON x.id = e.example_id"
	    " WHERE e.candidate_id = ?1 AND x.dataset_id = ?2"
	    " AND x.split = ?3 GROUP BY e.example_id ORDER BY e.example_id" },
	[STMT_CANDIDATE_SPENT] = { "sum the calls that scored a candidate",
	    "SELECT count(*), coalesce(sum(cost), 0) FROM calls"
	    " WHERE id IN (SELECT call_id FROM evaluations"
	    " WHERE candidate_id = ?1) AND status = 'ok'" },
	[STMT_EXAMPLE_GET] = { "read example",
	    "SELECT " EXAMPLE_COLUMNS " FROM examples WHERE id = ?1" },
	[STMT_EVALUATION_OUTPUT] = { "read an evaluation's output",
	    "SELECT output, score FROM evaluations"
	    " WHERE candidate_id = ?1 AND example_id = ?2"
	    " ORDER BY id DESC LIMIT 1" },
	[STMT_RUN_CALLS] = { "read a run's calls",
	    "SELECT id, backend, model, role, status, http_status, attempt,"
	    " prompt_tokens, completion_tokens, cost, latency, created, error"
	    " FROM calls WHERE run_id = ?1 ORDER BY id" },
	[STMT_COMPARISON_LIST] = { "list comparisons",
	    "SELECT " COMPARISON_COLUMNS " FROM comparisons WHERE job_id = ?1"
	    " AND (?2 = 0 OR winner = 'a' OR winner = 'b' OR winner = 'tie')"
	    " ORDER BY id" },
	[STMT_OUTCOME_COUNTS] = { "count reply outcomes",
	    "SELECT role, outcome, count(*), problem, excerpt, max(id)"
	    " FROM outcomes WHERE run_id = ?1 GROUP BY role, outcome"
	    " ORDER BY role, count(*) DESC, outcome" },
	[STMT_INTERACTION_PUT] = { "add interaction",
	    "INSERT INTO interactions (job_id, key, source, line, time,"
	    " ingested, version, candidate_id, prompt, inputs, response, user,"
	    " session, rating_scale, rating, preferred, other, other_version,"
	    " other_prompt, critique, edit, regenerated, abandoned, copied,"
	    " follow_up, other_candidate_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
	    " ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
	    " ON CONFLICT (job_id, key) DO NOTHING" },
	[STMT_INTERACTION_COUNT] = { "count interactions",
	    "SELECT count(*) FROM interactions WHERE job_id = ?1"
	    " AND (?2 IS NULL OR user = ?2)" },
	[STMT_INTERACTION_TALLY] = { "tally interactions",
	    "SELECT count(*), coalesce(sum(rating IS NOT NULL), 0),"
	    " coalesce(sum((rating_scale = 'thumbs' AND rating = 1) OR"
	    " (rating_scale = 'stars' AND rating >= 4)), 0),"
	    " coalesce(sum(edit IS NOT NULL), 0),"
	    " coalesce(sum(critique IS NOT NULL), 0),"
	    " coalesce(sum(preferred IS NOT NULL), 0),"
	    " (SELECT count(*) FROM examples WHERE dataset_id = ?2"
	    " AND origin = 'feedback')"
	    " FROM interactions WHERE job_id = ?1" },
	[STMT_INTERACTION_LIST] = { "list interactions",
	    "SELECT id, candidate_id, source, line, ingested, key, time,"
	    " version, prompt, inputs, response, user, session, rating_scale,"
	    " rating, preferred, other, other_version, other_prompt, critique,"
	    " edit, regenerated, abandoned, copied, follow_up,"
	    " other_candidate_id FROM interactions WHERE job_id = ?1"
	    " ORDER BY id" },
	/* The latest feedback example of the same inputs (NULL: none). */
	[STMT_INTERACTION_EXAMPLE] = { "find example of interaction",
	    "SELECT max(f.example_id) FROM feedback_examples f"
	    " JOIN interactions j ON j.id = f.interaction_id"
	    " JOIN interactions i ON i.id = ?1"
	    " WHERE j.job_id = i.job_id AND j.inputs = i.inputs" },
	/*
	 * Forgetting: the cached answers of the evaluations on the examples
	 * derived from the user alone (the engine's cache would give their
	 * text back), then those evaluations' outputs and critiques, the
	 * comparisons' inputs and outputs, the examples' fields, the links
	 * and the interactions.  The rows stay: runs, scores and promotions
	 * refer to them.
	 */
	[STMT_FORGET_CACHE] = { "forget cached answers",
	    "DELETE FROM cache WHERE key IN (SELECT cache_key FROM calls"
	    " WHERE id IN (SELECT call_id FROM evaluations WHERE"
	    FORGET_EVALUATIONS "))" },
	[STMT_FORGET_EVALUATIONS] = { "forget evaluation outputs",
	    "UPDATE evaluations SET output = NULL, feedback = NULL,"
	    " error = CASE WHEN error IS NULL THEN NULL ELSE 'forgotten' END"
	    " WHERE" FORGET_EVALUATIONS },
	[STMT_FORGET_COMPARISONS] = { "forget comparison outputs",
	    "UPDATE comparisons SET input = NULL, output_a = NULL,"
	    " output_b = NULL, rationale = NULL WHERE job_id = ?1"
	    " AND example_id IN (" FORGET_GONE ")" },
	[STMT_FORGET_EXAMPLES] = { "forget examples",
	    "UPDATE examples SET fields = '{}', hash = NULL"
	    " WHERE id IN (" FORGET_GONE ")" },
	/*
	 * What people decided before a run started: their comparisons
	 * answered (at promptctl feedback) or made from production
	 * preferences (at ingestion, answered NULL) by then.
	 */
	[STMT_COMPARISON_HUMAN] = { "list people's comparisons",
	    "SELECT " COMPARISON_COLUMNS " FROM comparisons WHERE job_id = ?1"
	    " AND source = 'human'"
	    " AND (winner = 'a' OR winner = 'b' OR winner = 'tie')"
	    " AND coalesce(answered, created) <="
	    " (SELECT started FROM runs WHERE id = ?2) ORDER BY id" },
	/* The comparisons made from their preferences go with them. */
	[STMT_FORGET_DUELS] = { "forget comparisons of interactions",
	    "DELETE FROM comparisons WHERE job_id = ?1"
	    " AND interaction_id IN (" FORGET_MINE ")" },
	[STMT_FORGET_LINKS] = { "forget example links",
	    "DELETE FROM feedback_examples"
	    " WHERE interaction_id IN (" FORGET_MINE ")" },
	[STMT_INTERACTION_FORGET] = { "forget interactions",
	    "DELETE FROM interactions WHERE job_id = ?1 AND user = ?2" },
	[STMT_RUN_DATASET] = { "read a run's dataset snapshot",
	    "SELECT dataset_id FROM runs WHERE id = ?1" },
	[STMT_DATASET_EXAMPLES] = { "read a snapshot's examples",
	    "SELECT " EXAMPLE_COLUMNS " FROM examples WHERE dataset_id = ?1"
	    " ORDER BY idx" },
	[STMT_EXAMPLE_LINKS] = { "read example links",
	    "SELECT interaction_id FROM feedback_examples"
	    " WHERE example_id = ?1 ORDER BY interaction_id" },
	/* Deleted text is overwritten, not left in free pages. */
	[STMT_SECURE_DELETE_ON] = { "overwrite deleted rows",
	    "PRAGMA secure_delete = 1" },
	[STMT_SECURE_DELETE_OFF] = { "stop overwriting deleted rows",
	    "PRAGMA secure_delete = 0" },
	[STMT_CHAMPION_CANDIDATE] = { "find champion version",
	    "SELECT candidate_id FROM champions WHERE job_id = ?1"
	    " AND version = ?2" },
	[STMT_FEEDBACK_SOURCE_GET] = { "read feedback source",
	    "SELECT device, inode, offset, line, head, updated"
	    " FROM feedback_sources WHERE job_id = ?1 AND path = ?2" },
	[STMT_FEEDBACK_SOURCE_PUT] = { "write feedback source",
	    "INSERT INTO feedback_sources (job_id, path, device, inode, offset,"
	    " line, head, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT (job_id, path) DO UPDATE SET device = excluded.device,"
	    " inode = excluded.inode, offset = excluded.offset,"
	    " line = excluded.line, head = excluded.head,"
	    " updated = excluded.updated" },
	[STMT_JOB_SALT_GET] = { "read job salt",
	    "SELECT salt FROM jobs WHERE id = ?1" },
	/* The first salt stays: another process may have made one. */
	[STMT_JOB_SALT_SET] = { "set job salt",
	    "UPDATE jobs SET salt = ?2 WHERE id = ?1 AND salt IS NULL" },
	[STMT_CHALLENGER_CURRENT] = { "read challenger",
	    "SELECT id, candidate_id, share, started FROM challengers"
	    " WHERE job_id = ?1 AND ended IS NULL" },
	[STMT_CHALLENGER_ADD] = { "add challenger",
	    "INSERT INTO challengers (job_id, candidate_id, share, started)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	[STMT_CHALLENGER_END] = { "end challenger",
	    "UPDATE challengers SET ended = ?2, outcome = ?3"
	    " WHERE id = ?1 AND ended IS NULL" },
	/* A run that does not exist has seen nothing. */
	[STMT_CANDIDATE_RATINGS] = { "read candidate ratings",
	    "SELECT rating_scale, rating FROM interactions WHERE job_id = ?1"
	    " AND candidate_id = ?2 AND rating IS NOT NULL AND time >= ?3"
	    " AND ingested <= coalesce((SELECT started FROM runs"
	    " WHERE id = ?4), -1) ORDER BY id" },
	/*
	 * What people wrote of one candidate's answers: only what was in
	 * the store before a time (a run's start), so that a resumed run
	 * sees what it started with.
	 */
	[STMT_HUMAN_CRITIQUES] = { "read people's critiques",
	    "SELECT id, time, inputs, response, critique, edit"
	    " FROM interactions WHERE job_id = ?1 AND candidate_id = ?2"
	    " AND ingested < ?3 AND (coalesce(critique, '') <> ''"
	    " OR coalesce(edit, '') <> '')"
	    " ORDER BY time DESC, id DESC LIMIT ?4" },
	[STMT_RUN_STARTED] = { "read when a run started",
	    "SELECT started FROM runs WHERE id = ?1" },
	/*
	 * People's answered comparisons with both outputs and an input (the
	 * one shown, else the interaction's), made by the time the run
	 * started: the latest first, the id breaking ties, so that a resumed
	 * run reads the same ones.
	 */
	[STMT_HUMAN_PREFS] = { "read people's preferences",
	    "SELECT c.id, c.a, c.b, c.input, i.inputs, c.output_a, c.output_b,"
	    " c.winner, c.rationale FROM comparisons c"
	    " LEFT JOIN interactions i ON i.id = c.interaction_id"
	    " WHERE c.job_id = ?1 AND c.source = 'human'"
	    " AND c.winner IN ('a', 'b', 'tie')"
	    " AND c.output_a IS NOT NULL AND c.output_b IS NOT NULL"
	    " AND (c.input IS NOT NULL OR i.inputs IS NOT NULL)"
	    " AND coalesce(c.answered, c.created) <="
	    " (SELECT started FROM runs WHERE id = ?2)"
	    " ORDER BY coalesce(c.answered, c.created) DESC, c.id DESC"
	    " LIMIT ?3" },
	/*
	 * The run's judge comparisons of a pair people compared before it
	 * started, and those whose winner is the side people preferred on
	 * balance (p: people's wins of the judge's a less those of its b);
	 * a pair people are even on is not counted.
	 */
	[STMT_JUDGE_AGREEMENT] = { "count the judge's agreement with people",
	    "SELECT count(*), coalesce(sum((p > 0 AND winner = 'a')"
	    " OR (p < 0 AND winner = 'b')), 0) FROM"
	    " (SELECT j.winner AS winner, (SELECT sum(CASE"
	    "  WHEN h.winner = 'tie' THEN 0"
	    "  WHEN (h.winner = 'a') = (h.a = j.a) THEN 1 ELSE -1 END)"
	    "  FROM comparisons h WHERE h.job_id = ?1 AND h.source = 'human'"
	    "  AND h.winner IN ('a', 'b', 'tie')"
	    "  AND ((h.a = j.a AND h.b = j.b) OR (h.a = j.b AND h.b = j.a))"
	    "  AND coalesce(h.answered, h.created) <= r.started) AS p"
	    "  FROM comparisons j JOIN runs r ON r.id = ?2"
	    "  WHERE j.job_id = ?1 AND j.source = 'judge'"
	    "  AND j.created >= r.started)"
	    " WHERE p <> 0" },
	[STMT_DEMO_ADD] = { "add demo",
	    "INSERT INTO candidate_demos (candidate_id, pos, example_id, input,"
	    " output) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (candidate_id, pos) DO NOTHING" },
	[STMT_DEMO_LIST] = { "read demos",
	    "SELECT example_id, input, output FROM candidate_demos"
	    " WHERE candidate_id = ?1 ORDER BY pos" },
	[STMT_CANDIDATE_TOKENS] = { "count candidate tokens",
	    "UPDATE candidates SET tokens = ?2 WHERE id = ?1" },
	[STMT_EXAMPLE_SYNTHETIC] = { "mark example synthetic",
	    "UPDATE examples SET origin = 'synthetic' WHERE id = ?1" },
	[STMT_SYNTHETIC_ADD] = { "add synthetic example",
	    "INSERT INTO synthetic (job_id, run_id, key, inputs, input, split,"
	    " labeler, choices, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	    " ?8, ?9) ON CONFLICT (job_id, key) DO NOTHING" },
	[STMT_SYNTHETIC_FIND] = { "find synthetic example",
	    "SELECT id, run_id FROM synthetic WHERE job_id = ?1 AND key = ?2" },
	[STMT_SYNTHETIC_LIST] = { "list synthetic examples",
	    "SELECT " SYNTHETIC_COLUMNS " FROM synthetic WHERE job_id = ?1"
	    " AND (?2 IS NULL OR run_id = ?2) AND (?3 IS NULL OR status = ?3)"
	    " ORDER BY id LIMIT ?4" },
	[STMT_SYNTHETIC_GET] = { "read synthetic example",
	    "SELECT " SYNTHETIC_COLUMNS " FROM synthetic WHERE id = ?1" },
	[STMT_SYNTHETIC_ANSWER] = { "label synthetic example",
	    "UPDATE synthetic SET status = CASE WHEN ?2 IS NULL THEN 'dropped'"
	    " ELSE 'labeled' END, label = ?2, reason = ?3, who = ?4,"
	    " answered = ?5 WHERE id = ?1 AND status = 'pending'" },
	[STMT_RUN_SET_DATASET] = { "set a run's dataset snapshot",
	    "UPDATE runs SET dataset_id = ?2 WHERE id = ?1" },
};

int
store_fail(struct store *s, const char *what, char **cause)
{
	return cause_set(cause, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

void
store_stmt_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static sqlite3_stmt *
store_stmt_get(struct store *s, enum stmt id, char **cause)
{
	if (s->stmt[id] == NULL && sqlite3_prepare_v3(s->db,
	    store_stmt_table[id].sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->stmt[id], NULL) != SQLITE_OK) {
		store_fail(s, store_stmt_table[id].what, cause);
		s->stmt[id] = NULL;
		return NULL;
	}
	return s->stmt[id];
}

/* Prepares (once) and binds statement id: fmt is in store_int.h. */
sqlite3_stmt *
store_stmt_vbind(struct store *s, enum stmt id, char **cause, const char *fmt,
    va_list ap)
{
	sqlite3_stmt	*st;
	const char	*t;
	int64_t		 v;
	double		 d;
	int		 i, n, rc = SQLITE_OK;

	if ((st = store_stmt_get(s, id, cause)) == NULL)
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
		store_fail(s, store_stmt_table[id].what, cause);
		store_stmt_reset(st);
		return NULL;
	}
	return st;
}

/*
 * Binds (as store_stmt_vbind()) and steps statement id once, as
 * store_stmt_step().
 */
static int
store_stmt_vstep(struct store *s, enum stmt id, char **cause, const char *fmt,
    va_list ap)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt_vbind(s, id, cause, fmt, ap)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		store_fail(s, store_stmt_table[id].what, cause);
	store_stmt_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Binds and steps statement id once (store_int.h). */
int
store_stmt_step(struct store *s, enum stmt id, char **cause, const char *fmt,
    ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = store_stmt_vstep(s, id, cause, fmt, ap);
	va_end(ap);
	return rc;
}

/* Steps an aggregate, whose one row is read by the caller (store_int.h). */
sqlite3_stmt *
store_stmt_row(struct store *s, enum stmt id, char **cause, const char *fmt,
    ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = store_stmt_vstep(s, id, cause, fmt, ap);
	va_end(ap);
	if (rc == 1)
		return s->stmt[id];
	if (rc == 0)
		cause_set(cause, "store: %s: no row", store_stmt_table[id].what);
	return NULL;
}

/* Like store_stmt_step() for a statement that returns at most one integer. */
int
store_stmt_int64(struct store *s, enum stmt id, int64_t *out, char **cause,
    const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = store_stmt_vstep(s, id, cause, fmt, ap);
	va_end(ap);
	if (rc == 1) {
		*out = sqlite3_column_int64(s->stmt[id], 0);
		store_stmt_reset(s->stmt[id]);
	}
	return rc;
}

char *
store_col_text(sqlite3_stmt *st, int i)
{
	const char	*t;

	if ((t = (const char *)sqlite3_column_text(st, i)) == NULL)
		return NULL;
	return xstrndup(t, (size_t)sqlite3_column_bytes(st, i));
}

double
store_col_double(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(st, i);
}

void
store_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const char	*t = (const char *)sqlite3_column_text(st, i);

	snprintf(buf, size, "%s", t != NULL ? t : "");
}

void
store_list_free(const struct store_list *l, void *rows, size_t n)
{
	char	*p = rows;
	size_t	 i;

	if (l->release != NULL) {
		for (i = 0; i < n; i++)
			l->release(p + i * l->size);
	}
	free(rows);
}

/* Reads every row of list l (store_int.h). */
int
store_list_vread(struct store *s, const struct store_list *l, void **rows,
    size_t *n, char **cause, const char *fmt, va_list ap)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	char		*p = NULL;
	int		 rc;

	*rows = NULL;
	*n = 0;
	if ((st = store_stmt_vbind(s, l->stmt, cause, fmt, ap)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			p = xreallocarray(p, cap, l->size);
		}
		memset(p + *n * l->size, 0, l->size);
		l->fill(st, p + *n * l->size);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		store_fail(s, store_stmt_table[l->stmt].what, cause);
		store_stmt_reset(st);
		store_list_free(l, p, *n);
		*n = 0;
		return -1;
	}
	store_stmt_reset(st);
	*rows = p;
	return 0;
}

int
store_list_read(struct store *s, const struct store_list *l, void **rows,
    size_t *n, char **cause, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = store_list_vread(s, l, rows, n, cause, fmt, ap);
	va_end(ap);
	return rc;
}
