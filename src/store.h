/*
 * The store: every job, run, candidate, example, model call, score,
 * comparison, champion and event, in one SQLite file (WAL mode, foreign
 * keys on, schema versioned by PRAGMA user_version with forward
 * migrations).  This is the only module that contains SQL.  Statements
 * are prepared once per connection and finalized in store_close().
 *
 * All functions return 0 (or a row id > 0) on success and -1 with *cause
 * on failure.  Strings passed in are borrowed; strings returned are the
 * caller's to free.  A struct store is one SQLite connection opened
 * without a mutex: use it from one thread at a time, and give each
 * thread that needs the database its own.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "demo.h"

struct dataset;
struct store;

#define STORE_SCHEMA_VERSION	19

/*
 * Opens (creating if needed) the database at path and migrates it to the
 * current schema.  A database from a newer promptd is refused.
 */
struct store	*store_open(const char *path, char **cause);
/*
 * For tests: open and migrate only up to version (1..current); a newer
 * file is opened as it is.  Functions that need a later schema fail with
 * an SQLite error on an older one.
 */
struct store	*store_open_version(const char *path, int version,
		    char **cause);
void		 store_close(struct store *);
int		 store_version(struct store *);
const char	*store_path(const struct store *);

/*
 * Moves the WAL checkpoints of s off the thread that uses it (the
 * daemon's loop, which must not wait for a disk): from now on s never
 * checkpoints, and a thread with a connection of its own to the same
 * file does, woken after a commit of s that leaves pages (0: 1000) of
 * the log uncopied.  Its checkpoints are passive: s goes on writing
 * meanwhile.  When the log grows past four times pages because s kept
 * writing, the thread restarts it in a gap between two transactions of
 * s, and the next write of s waits for that (the pages written since
 * the passive checkpoint, and a sync).  store_wal_stop(), which
 * store_close() calls, runs a last checkpoint that empties the log file
 * and joins the thread; s checkpoints itself again.  Returns 0 (also
 * when it runs already), or -1 with *cause: s then checkpoints itself.
 * Command-line programs leave SQLite to checkpoint as it does.
 */
int		 store_wal_start(struct store *, int pages, char **cause);
void		 store_wal_stop(struct store *);
/* What the worker did (all zero when none runs). */
struct store_wal_stats {
	long long	wakes;		/* times a commit woke it */
	long long	checkpoints;	/* passive checkpoints */
	long long	restarts;	/* restarts of a log grown too long */
	long long	busy;		/* restarts that found no gap */
	long long	frames;		/* log pages copied into the database */
	long long	loop_waits;	/* writes of s that found the database
					   locked (by a restart) and waited */
	double		loop_waited;	/* seconds they slept, in all */
	double		loop_longest;	/* seconds the longest one waited */
};
void		 store_wal_stats(struct store *, struct store_wal_stats *);
/* Waits until the worker has done what it was woken for (for tests). */
void		 store_wal_wait(struct store *);

/*
 * The default database path: promptd.db in systemd's $STATE_DIRECTORY
 * (the service), else $XDG_STATE_HOME/promptd/promptd.db, else
 * LOCALSTATEDIR/lib/promptd/promptd.db for root (configure's
 * localstatedir, /var in a distribution's build), else
 * ~/.local/state/promptd/promptd.db.  Creates the directory.  Returns an
 * allocated string.
 */
char		*store_default_path(char **cause);

/*
 * Transactions, which nest: the outermost begin and commit are real, an
 * inner level is a savepoint.  A rollback undoes its own level only (an
 * inner failure keeps what the outer levels wrote: the engine's answers
 * of the turn, say); at the outermost level it rolls everything back.
 * A commit that fails has undone its level (do not roll it back again).
 * Functions that write several rows (store_job_put,
 * store_dataset_snapshot) open a level themselves and roll it back on
 * failure.
 */
int		 store_begin(struct store *, char **cause);
int		 store_commit(struct store *, char **cause);
int		 store_rollback(struct store *);

/* Jobs: inserted or updated by name. */
int64_t		 store_job_put(struct store *, const char *name,
		    const char *spec_json, char **cause);
int64_t		 store_job_find(struct store *, const char *name, char **cause);
int		 store_job_set_state(struct store *, int64_t job,
		    const char *state, const char *reason, char **cause);
/* The absolute path of the job's file, for the daemon to reload it. */
int		 store_job_set_file(struct store *, int64_t job,
		    const char *file, char **cause);

/* Runs: kind is optimize, refresh or eval; dataset 0 for none.
 * store_run_finish() records the end time and the totals (NULL: zeros). */
int64_t		 store_run_new(struct store *, int64_t job, const char *kind,
		    int64_t dataset, char **cause);
struct run_totals {
	long long	calls;		/* paid calls */
	long long	hits;		/* cache hits */
	long long	tokens;
	double		dollars;
	long long	cached;		/* input tokens read from the
					   providers' prompt caches */
};
int		 store_run_finish(struct store *, int64_t run,
		    const char *status, const struct run_totals *,
		    char **cause);

/* Saves a run's progress: the step reached and the strategy's state. */
int		 store_run_checkpoint(struct store *, int64_t run, int step,
		    const char *state, const struct run_totals *, char **cause);
/*
 * The unfinished run (status running) of a job of this kind, to resume:
 * returns its id with its step and state (allocated, may be NULL), 0 if
 * there is none, -1 on error.
 */
int64_t		 store_run_open(struct store *, int64_t job, const char *kind,
		    int *step, char **state, char **cause);
/*
 * When the job's latest run of this kind (NULL: of any kind) started:
 * 1 with *started set, 0 if it has none, -1 on error.
 */
int		 store_run_last(struct store *, int64_t job, const char *kind,
		    double *started, char **cause);

/*
 * Champions: each promotion is a new version.  A champion put forward
 * without dev examples has no score: score, lo and hi are NAN.
 */
struct champion {
	int		version;
	int64_t		candidate;
	double		score;
	double		lo;
	double		hi;
};
/* The latest champion: 1 with *c filled, 0 if there is none, -1. */
int		 store_champion_latest(struct store *, int64_t job,
		    struct champion *, char **cause);
/*
 * A promotion's risk bound, when its job sets "risk" (promptd-job(5)):
 * the measure ("share_below" or "quantile"; "" for none), its threshold
 * or quantile, the upper bound at confidence over n dev examples, and
 * the most the job allowed.
 */
struct champion_risk {
	char		 measure[16];
	double		 param;
	double		 bound;
	double		 max;
	double		 confidence;
	long long	 n;
};

/*
 * A promotion and its evidence: the candidate's dev score with its
 * interval, and the paired test against the champion it beat (the
 * first champion had none: p and delta NAN, paired 0), and its risk
 * bound.
 */
struct champion_record {
	int64_t		 job;
	int64_t		 candidate;
	int64_t		 run;		/* 0 for none */
	double		 score, lo, hi;
	double		 p;		/* NAN: no test (the first champion) */
	double		 delta;		/* NAN likewise */
	long long	 paired;	/* examples in the paired test, 0 */
	const char	*reason;
	struct champion_risk risk;
};
int		 store_champion_add(struct store *,
		    const struct champion_record *, char **cause);
/*
 * The test-split score of the job's champion version (after promotion):
 * the mean of n examples with its interval.  A later measure replaces an
 * earlier one.  A version the job does not have is an error.
 */
int		 store_champion_set_test(struct store *, int64_t job,
		    int version, double mean, double lo, double hi,
		    long long n, char **cause);

/*
 * The job's k best candidates by their mean score over all their
 * evaluations (at least min_evals of them), best first.  The arrays are
 * the caller's to free (each text too).
 */
int		 store_candidates_top(struct store *, int64_t job, int k,
		    int min_evals, int64_t **ids, char ***texts, size_t *n,
		    char **cause);
/* A candidate's text (allocated), or NULL with *cause. */
char		*store_candidate_text(struct store *, int64_t id, char **cause);

/*
 * Stores the dataset's examples for a job, once per distinct content
 * hash (and split assignment), and fills each example's id.  A snapshot
 * seen before is reused with its example ids.  Each example is stored
 * with its origin, and an example from feedback with its links to the
 * interactions it was made from (added to a reused snapshot's too).  *changed (if not NULL) is
 * set to 1 when the snapshot the job used last was another one (or there
 * was none), so going back to earlier data counts as a change once.  On
 * failure every example id is 0.  Returns the snapshot id.
 */
int64_t		 store_dataset_snapshot(struct store *, int64_t job,
		    struct dataset *, int *changed, char **cause);

/* Candidates, deduplicated per job by the SHA-256 of the text: putting
 * an existing text returns its id (the first origin stays).  Adding an
 * existing lineage edge does nothing. */
int64_t		 store_candidate_put(struct store *, int64_t job,
		    const char *text, const char *origin, char **cause);
/*
 * The same for an instruction with demos (demo.h; NULL or none: as
 * above), which are part of its identity: the hash is of the text and
 * demos_key().  tokens is what the prompt costs on every call
 * (task_prompt_tokens()); < 0 keeps the text's estimate.  The demos are
 * written with a new candidate, in the same transaction.
 */
int64_t		 store_candidate_put_demos(struct store *, int64_t job,
		    const char *text, const struct demos *, long long tokens,
		    const char *origin, char **cause);
/* A candidate's demos, in order (none for most). */
int		 store_candidate_demos(struct store *, int64_t id,
		    struct demos *, char **cause);
int		 store_lineage_add(struct store *, int64_t child, int64_t parent,
		    const char *op, const char *note, char **cause);

/* The call cache.  Returns 1 on a hit (with *response allocated), 0 on a
 * miss (*response NULL), -1 on error.  Putting an existing key keeps the
 * first response. */
int		 store_cache_get(struct store *, const char *key,
		    char **response, char **cause);
int		 store_cache_put(struct store *, const char *key,
		    const char *response, char **cause);

struct call_record {
	int64_t		 run;		/* 0 for none */
	const char	*backend;
	const char	*model;
	const char	*role;
	const char	*key;		/* cache key */
	int		 attempt;
	int		 cached;	/* 1 for a cache hit */
	long long	 prompt_tokens;		/* all input */
	long long	 completion_tokens;	/* all output */
	long long	 cached_tokens;		/* input from a prompt cache */
	long long	 cache_write_tokens;	/* input written to one */
	long long	 reasoning_tokens;	/* output spent reasoning */
	double		 cost;
	double		 latency;	/* seconds */
	const char	*status;	/* ok, hit, error */
	int		 http_status;	/* 0 for none */
	const char	*error;
};
int64_t		 store_call_add(struct store *, const struct call_record *,
		    char **cause);

/*
 * Evaluations: a run scores a candidate on an example once.  Adding a
 * score where the run has one already does nothing and returns 0 (a
 * resumed run reading it again); a score replaces a failure.
 * store_evaluation_fail() records one that could not be had, with its
 * cause (score NULL).  Both return the row id, 0, or -1.
 */
int64_t		 store_evaluation_add(struct store *, int64_t run,
		    int64_t candidate, int64_t example, const char *output,
		    double score, const char *feedback, int64_t call,
		    char **cause);
int64_t		 store_evaluation_fail(struct store *, int64_t run,
		    int64_t candidate, int64_t example, const char *output,
		    const char *error, int64_t call, char **cause);
/* A run's evaluations, in order (score NAN for a failure). */
struct run_score {
	int64_t		 candidate;
	int64_t		 example;
	double		 score;
	char		*output;
	char		*error;
};
int		 store_run_scores(struct store *, int64_t run,
		    struct run_score **, size_t *, char **cause);
void		 store_run_scores_free(struct run_score *, size_t);
/*
 * What a run spent, from its call rows: the calls its providers answered
 * (2xx; attempts without an answer, with 429, 5xx or another error do not
 * count), the cache hits, tokens and dollars.
 */
int		 store_run_spent(struct store *, int64_t run,
		    struct run_totals *, char **cause);
/*
 * A run's failed attempts after call id after, by backend, HTTP status
 * (0 for none) and message, commonest first, with the latest call id.
 */
struct failure_row {
	char		*backend;
	int		 http_status;
	char		*error;
	long long	 n;
	int64_t		 last;
};
int		 store_call_failures(struct store *, int64_t run, int64_t after,
		    struct failure_row **, size_t *, char **cause);
void		 store_failure_rows_free(struct failure_row *, size_t);

/* What a run's calls spent, for each role (paid calls' tokens). */
struct role_spend {
	char		*role;
	long long	 calls;		/* paid */
	long long	 hits;		/* answered by the cache */
	long long	 prompt_tokens;
	long long	 completion_tokens;
	double		 dollars;
};
int		 store_role_spend(struct store *, int64_t run,
		    struct role_spend **, size_t *, char **cause);
void		 store_role_spend_free(struct role_spend *, size_t);

/*
 * Comparisons: one preference between two candidates, with where it came
 * from (source human, judge or sim), who gave it, the judge's model, the
 * order the two were shown in ("ab", "ba", or "ab+ba" for a judge asked
 * both ways) and the rationale.  winner is "a", "b" or "tie"; example is
 * 0 for a comparison of prompts rather than of two outputs.  interaction
 * is the production interaction whose preference it is (0 for none): a
 * job has at most one comparison of each, and add returns 0 for a second
 * (the id of the one it adds, else; -1).
 */
struct comparison_record {
	int64_t		 job;
	int64_t		 a;
	int64_t		 b;
	int64_t		 example;	/* 0 for none */
	const char	*output_a;
	const char	*output_b;
	const char	*winner;
	const char	*source;
	const char	*who;
	const char	*judge_model;
	const char	*order_shown;
	const char	*rationale;
	int64_t		 interaction;	/* 0 for none */
};
int64_t		 store_comparison_add(struct store *,
		    const struct comparison_record *, char **cause);
/* The number of a job's comparisons from source (NULL: any). */
int		 store_comparison_count(struct store *, int64_t job,
		    const char *source, long long *n, char **cause);

/*
 * The human feedback queue.  A duel waiting for a person is a comparison
 * of source human without a winner, holding the input shown, both
 * outputs and the order they are shown in ("ab" or "ba").  Only
 * answered comparisons (winner a, b or tie) are counted above; a duel a
 * person passed over has winner "skip".
 *
 * store_comparison_queue() adds one from c (winner, source, who,
 * judge_model and rationale are ignored), or returns the id of the
 * pending duel of the same job, pair and example if there is one (a
 * replayed step asks again); every other pending duel of the job is then
 * closed as skipped, since a run asks one duel at a time.
 */
int64_t		 store_comparison_queue(struct store *,
		    const struct comparison_record *c, const char *input,
		    char **cause);
struct comparison_row {
	int64_t		 id;
	int64_t		 job;
	int64_t		 a;
	int64_t		 b;
	int64_t		 example;	/* 0 for none */
	char		*input;		/* NULL for none */
	char		*output_a;
	char		*output_b;
	char		*winner;	/* NULL while pending */
	char		*source;
	char		*who;
	char		*order_shown;
	double		 created;
	double		 answered;	/* NAN while pending */
};
/* The first limit pending duels of a job, oldest first. */
int		 store_comparison_pending(struct store *, int64_t job,
		    int limit, struct comparison_row **, size_t *,
		    char **cause);
/* One comparison: 1 with *row filled, 0 if there is none, -1. */
int		 store_comparison_get(struct store *, int64_t id,
		    struct comparison_row *, char **cause);
void		 store_comparison_row_release(struct comparison_row *);
void		 store_comparison_rows_free(struct comparison_row *, size_t);
/*
 * Answers a pending duel: winner "a", "b", "tie" or "skip", who gave it
 * (a user name) and now as the time.  Returns 1, or 0 when the duel is
 * not pending (answered already, or no such duel), or -1.
 */
int		 store_comparison_answer(struct store *, int64_t id,
		    const char *winner, const char *who, char **cause);

/*
 * What the reader made of an optimizer's or a judge's reply (reply.h):
 * its outcome ("usable", "repaired", "unreadable", "echo", "too long",
 * "refused"), the proposals kept and dropped, what was wrong and the
 * start of an unusable reply.  A request (by its cache key) counts once
 * per run: adding it again does nothing.
 */
struct outcome_record {
	int64_t		 run;
	int64_t		 call;		/* 0 for none */
	const char	*key;		/* the request's cache key */
	const char	*role;		/* optimizer or judge */
	const char	*outcome;
	int		 kept;
	int		 dropped;
	const char	*problem;	/* NULL for none */
	const char	*excerpt;	/* NULL for none */
};
int		 store_outcome_add(struct store *,
		    const struct outcome_record *, char **cause);
/*
 * A run's outcomes counted by role and outcome (commonest first within a
 * role), each with the problem and excerpt of its latest reply.
 */
struct outcome_row {
	char		*role;
	char		*outcome;
	long long	 n;
	char		*problem;
	char		*excerpt;
};
int		 store_outcome_counts(struct store *, int64_t run,
		    struct outcome_row **, size_t *, char **cause);
void		 store_outcome_rows_free(struct outcome_row *, size_t);

/*
 * Provider batches (batch.h): a row per batch with its step and what
 * the provider called its parts, and the keys of the requests it holds.
 * store_batch_find() gives the latest batch of a backend (by identity)
 * still under way that holds key: 1 with *b and its keys (the caller's,
 * freed with store_batch_row_release and free), 0 when there is none.
 */
struct batch_row {
	int64_t		 id;
	char		*token;
	char		*step;
	char		*input;
	size_t		 ninput;
	char		*file;
	char		*provider_id;
	char		*output;
	char		*errors;
	char		*cause;
};
int64_t		 store_batch_add(struct store *, const char *backend,
		    const char *token, const char *step, const char *input,
		    size_t ninput, char *const *keys, size_t nkeys,
		    char **cause);
int		 store_batch_update(struct store *, const struct batch_row *,
		    char **cause);
int		 store_batch_find(struct store *, const char *backend,
		    const char *key, struct batch_row *, char ***keys,
		    size_t *nkeys, char **cause);
void		 store_batch_row_release(struct batch_row *);

int		 store_event(struct store *, int64_t job, int64_t run,
		    const char *level, const char *message, char **cause);

/*
 * Reads for the read-only queries (query.c).  Functions that return one
 * row give 1 when it was found, 0 when there is none and -1 on error;
 * functions that return many fill an array (the caller's, freed with the
 * matching _free function, NULL when empty).  Strings in rows are owned
 * by the rows.  Times are seconds since the epoch; a NULL REAL reads as
 * NAN.
 */
struct job_row {
	int64_t		 id;
	char		*name;
	char		*spec;		/* the job file as JSON */
	char		*state;
	char		*reason;	/* NULL for none */
	double		 created;
	double		 updated;
	char		*file;		/* the job file, NULL for none */
};
/* Every job, by name. */
int		 store_job_list(struct store *, struct job_row **, size_t *,
		    char **cause);
int		 store_job_get(struct store *, const char *name,
		    struct job_row *, char **cause);
void		 store_job_row_release(struct job_row *);
void		 store_job_rows_free(struct job_row *, size_t);

struct run_row {
	int64_t			id;
	char			kind[16];
	char			status[16];
	int			step;
	double			started;
	double			ended;		/* NAN while it runs */
	struct run_totals	totals;
	int64_t			dataset;	/* its snapshot, 0 for none */
};
/*
 * The number of runs of a job (of every kind) with the sum of their
 * totals, and its latest optimize or refresh run: 1 with *latest filled,
 * 0 when it has none (*latest zeroed, the sums still set), -1.
 */
int		 store_job_runs(struct store *, int64_t job, int *nruns,
		    struct run_totals *sum, struct run_row *latest,
		    char **cause);

/*
 * Every champion version of a job, oldest first, with its text and the
 * evidence of its promotion (store_champion_add) and its test score
 * (store_champion_set_test): NAN or 0 where there is none.
 */
struct champion_row {
	struct champion	 c;
	char		*text;
	char		*reason;
	double		 time;
	int64_t		 run;		/* 0 for none */
	double		 p;
	double		 delta;
	long long	 paired;
	double		 test_score;
	double		 test_lo;
	double		 test_hi;
	long long	 test_n;
	struct champion_risk risk;
};
int		 store_champion_history(struct store *, int64_t job,
		    struct champion_row **, size_t *, char **cause);
void		 store_champion_rows_free(struct champion_row *, size_t);

struct candidate_row {
	int64_t		 id;
	int64_t		 job;
	char		*text;
	char		*origin;
	long long	 tokens;	/* of the prompt, tokens_estimate() */
	struct demos	 demos;		/* shown before the input */
};
int		 store_candidate_get(struct store *, int64_t id,
		    struct candidate_row *, char **cause);
void		 store_candidate_row_release(struct candidate_row *);

/* The parents of a candidate, by id, with the edge's operator and note. */
struct lineage_row {
	int64_t		 parent;
	char		*text;
	char		*origin;
	char		*op;		/* NULL for none */
	char		*note;		/* NULL for none */
	long long	 tokens;	/* of the parent's prompt */
};
int		 store_lineage_parents(struct store *, int64_t child,
		    struct lineage_row **, size_t *, char **cause);
void		 store_lineage_rows_free(struct lineage_row *, size_t);

/* The job's most recently used dataset snapshot: its id, 0, or -1. */
int64_t		 store_dataset_latest(struct store *, int64_t job,
		    char **cause);
/*
 * What the mean and interval of each of a job's candidates on one split
 * (train, dev or test) of a dataset snapshot need, kept up to date as
 * scores are written: over the latest score of each example (as
 * store_candidate_scores() gives them), how many (n), their total, the
 * total of their squares, and how many are fractional (neither 0 nor 1).
 * One row per candidate with a score there, by candidate id.  The sums
 * of scores that are all 0 or 1 are exact; fractional ones are summed in
 * the order they were written.  With the candidate's prompt tokens, so
 * that a board can weigh cost beside score.  The array is freed with
 * free().
 */
struct score_sum {
	int64_t		 candidate;
	long long	 n;
	double		 total;
	double		 squares;
	long long	 fractional;
	long long	 tokens;
};
int		 store_score_sums(struct store *, int64_t job, int64_t dataset,
		    const char *split, struct score_sum **, size_t *,
		    char **cause);
/*
 * A candidate's scores on the examples of one split of a dataset
 * snapshot: the latest evaluation of each example that has a score,
 * ordered by example.  The array is freed with free().
 */
struct score_row {
	int64_t		 candidate;
	int64_t		 example;
	double		 score;
};
int		 store_candidate_scores(struct store *, int64_t candidate,
		    int64_t dataset, const char *split, struct score_row **,
		    size_t *, char **cause);

/*
 * A job's events in order: the first limit after event id after, or,
 * with after < 0, the last limit.
 */
struct event_row {
	int64_t		 id;
	int64_t		 run;		/* 0 for none */
	double		 time;
	char		*level;
	char		*message;
};
int		 store_events(struct store *, int64_t job, int64_t after,
		    int limit, struct event_row **, size_t *, char **cause);
void		 store_event_rows_free(struct event_row *, size_t);

/*
 * The job's latest run of this kind (optimize, refresh or eval) with its
 * last checkpoint: saved is 1 when the run has saved one, and state is
 * its JSON as jobrun.c saved it, with the strategy's state under
 * "strategy" (the caller's to free), or NULL when it has none or has no
 * member named key anywhere (key NULL: any).  A long run's checkpoint
 * holds every candidate: a reader that looks for a member few
 * strategies save neither copies nor parses it when it is not there.
 */
struct run_checkpoint {
	int64_t		 id;
	char		 status[16];
	int		 step;
	int		 saved;
	char		*state;
};
int		 store_run_checkpoint_latest(struct store *, int64_t job,
		    const char *kind, const char *key, struct run_checkpoint *,
		    char **cause);

/*
 * Reads for a job's report (store_report.c), with the conventions of
 * the reads above.
 */

/* Every run of a job, oldest first. */
int		 store_run_list(struct store *, int64_t job, struct run_row **,
		    size_t *, char **cause);

/*
 * A run's progress on one split of a dataset snapshot: a row per
 * candidate that has a score there in this run, in the order their last
 * score was written: the candidate, its origin, the operator of its
 * first lineage edge (NULL for none), how many examples the run scored
 * it on, their mean (the latest score of each example in this run;
 * failures excluded), the run's paid calls (status ok) and dollars (of
 * every call, as the run's totals count them) up to and including the
 * call of its last score (by call id; where the evaluation has no call,
 * by time), and when its last score was written.
 */
struct progress_row {
	int64_t		 candidate;
	char		*origin;
	char		*op;
	long long	 n;
	double		 mean;
	long long	 calls;
	double		 dollars;
	double		 time;
};
int		 store_run_progress(struct store *, int64_t run,
		    int64_t dataset, const char *split, struct progress_row **,
		    size_t *, char **cause);
void		 store_progress_rows_free(struct progress_row *, size_t);

/*
 * The paid calls (status ok) that scored a candidate (the target calls
 * of its evaluations, in every run), and their dollars.
 */
int		 store_candidate_spent(struct store *, int64_t candidate,
		    long long *calls, double *dollars, char **cause);

/*
 * A candidate's results on one split of a dataset snapshot: every
 * example it was evaluated on (any run), its latest evaluation (the
 * highest id, as the leaderboard takes it): score, or NAN with failed =
 * 1 when that evaluation failed.  Ordered by example; freed with free().
 */
struct result_row {
	int64_t		 example;
	double		 score;
	int		 failed;
};
int		 store_candidate_results(struct store *, int64_t candidate,
		    int64_t dataset, const char *split, struct result_row **,
		    size_t *, char **cause);

/* One example of a snapshot: 1 with *row, 0 none, -1. */
struct example_row {
	int64_t		 id;
	int		 idx;		/* its index in the snapshot (in the
					   dataset file, for the file's) */
	int		 line;		/* its line, 0 for none */
	char		 split[8];
	char		*fields;	/* the example as JSON text ("{}" for
					   one forgotten) */
	char		 origin[16];	/* dataset, feedback or synthetic */
	char		 hash[65];	/* "" for none */
};
int		 store_example_get(struct store *, int64_t id,
		    struct example_row *, char **cause);
void		 store_example_row_release(struct example_row *);
/*
 * A candidate's latest output on one example (the evaluation
 * store_candidate_results() takes): 1 with *output (the caller's, NULL
 * when the evaluation kept none) and *score (NAN for a failure), 0 when
 * it was never evaluated there, -1.
 */
int		 store_evaluation_output(struct store *, int64_t candidate,
		    int64_t example, char **output, double *score,
		    char **cause);

/* Every call of a run, in order, for histograms of latency and failures. */
struct call_row {
	int64_t		 id;
	char		*backend;
	char		*model;
	char		*role;
	char		 status[8];	/* ok, hit, error */
	int		 http_status;	/* 0 for none */
	int		 attempt;
	long long	 prompt_tokens;
	long long	 completion_tokens;
	double		 cost;
	double		 latency;	/* NAN for none */
	double		 created;
	char		*error;		/* NULL for none */
};
int		 store_run_calls(struct store *, int64_t run,
		    struct call_row **, size_t *, char **cause);
void		 store_call_rows_free(struct call_row *, size_t);

/*
 * A job's comparisons, oldest first; only the answered ones (winner a, b
 * or tie) when answered is 1.  Freed with store_comparison_rows_free().
 */
int		 store_comparison_list(struct store *, int64_t job,
		    int answered, struct comparison_row **, size_t *,
		    char **cause);

/*
 * Production feedback (feedback.h; store_feedback.c): the interactions
 * ingested from a job's feedback logs, how far the job's own log was
 * read, and the salt its user ids are hashed with.
 */
struct interaction;

/*
 * Stores an interaction of a job once by its key, as it is: its user is
 * what the job keeps (the caller applies the job's policy with
 * feedback_user()), its job is not stored (the row's job is job).
 * candidate is the one that answered and other the one that answered
 * the other side of its preference (0 for none); file and line say where
 * it was read (NULL and 0 for nowhere).  Returns 1 when stored, with *id
 * (when not NULL) its row, 0 when the job has an interaction with that
 * key already (kept as it was), -1.
 */
int		 store_interaction_put(struct store *, int64_t job,
		    const struct interaction *, int64_t candidate,
		    int64_t other, const char *file, long long line,
		    int64_t *id, char **cause);
/*
 * The latest feedback example made from interactions of the same inputs
 * as interaction (stored the same) of its job: 1 with *example, 0 when
 * there is none, -1.
 */
int		 store_interaction_example(struct store *,
		    int64_t interaction, int64_t *example, char **cause);
/*
 * The candidate of a job's champion version, and the job's candidate
 * with a text: 1 with *candidate, 0 when there is none, -1.
 */
int		 store_champion_candidate(struct store *, int64_t job,
		    int version, int64_t *candidate, char **cause);
int		 store_candidate_find(struct store *, int64_t job,
		    const char *text, int64_t *candidate, char **cause);
/* The number of a job's interactions, of one user (NULL: of all). */
int		 store_interaction_count(struct store *, int64_t job,
		    const char *user, long long *n, char **cause);
/*
 * What a job's interactions hold, counted: all of them, those rated,
 * rated best (thumbs up, 4 or 5 stars), edited, critiqued and with a
 * preference; and how many examples of the snapshot dataset came from
 * them.
 */
struct interaction_tally {
	long long	 n;
	long long	 rated;
	long long	 rated_best;
	long long	 edited;
	long long	 critiqued;
	long long	 preferences;
	long long	 examples;
};
int		 store_interaction_tally(struct store *, int64_t job,
		    int64_t dataset, struct interaction_tally *, char **cause);
/*
 * A job's interactions, in the order they were stored.  Each row's
 * interaction is as it was put, but for has_id (0: the key is kept, not
 * where it came from) and job (NULL).  Freed with
 * store_interaction_rows_free().
 */
struct interaction_row {
	int64_t			 id;
	int64_t			 candidate;	/* 0 for none */
	int64_t			 other;		/* of the other side, or 0 */
	char			*file;		/* NULL for none */
	long long		 line;		/* 0 for none */
	double			 ingested;
	struct interaction	*it;
};
int		 store_interactions(struct store *, int64_t job,
		    struct interaction_row **, size_t *, char **cause);
void		 store_interaction_rows_free(struct interaction_row *, size_t);
/*
 * Deletes every interaction of a job whose user is user (as stored:
 * hashed when the job hashes them), and blanks what was derived only
 * from them: the fields of the feedback examples linked to their
 * interactions alone become "{}" (and their hash NULL), the outputs and
 * critiques of the evaluations on those examples, and the input,
 * outputs and rationale of comparisons on them, NULL (an error,
 * "forgotten"), and the cached answers of those evaluations go; the
 * comparisons made from the interactions' preferences are deleted.  The
 * rows stay, since runs, scores and champions refer to them; what it
 * deletes or blanks is overwritten in the file.  Returns how many
 * interactions it deleted, with *examples (when not NULL) the examples
 * it blanked, or -1.
 */
long long	 store_interactions_forget(struct store *, int64_t job,
		    const char *user, long long *examples, char **cause);

/*
 * What people wrote of the answers a job's candidate gave, for the
 * optimizer to read (the reflect strategy): the interactions with a
 * critique or an edit whose candidate is candidate, ingested before
 * before (a run's start: a resumed run reads what it started with),
 * latest first (by their time, then the latest stored), at most limit.
 * text is the critique, "A person corrected the answer to: EDIT" for
 * an edit, or both on two lines.  Freed with store_human_critiques_free().
 */
struct cJSON;
struct human_critique {
	int64_t		 id;		/* the interaction */
	double		 time;
	struct cJSON	*inputs;	/* an object: the task's fields */
	char		*response;	/* NULL for none */
	char		*text;
};
int		 store_human_critiques(struct store *, int64_t job,
		    int64_t candidate, double before, size_t limit,
		    struct human_critique **, size_t *, char **cause);
void		 store_human_critiques_free(struct human_critique *, size_t);
/* When a run started: 1 with *started, 0 when there is no such run, -1. */
int		 store_run_started(struct store *, int64_t run, double *started,
		    char **cause);

/*
 * People's comparisons of a job (source human, answered a, b or tie)
 * that were answered or made by the time run started, oldest first: the
 * evidence a run starts from, the same when it is resumed.  Freed with
 * store_comparison_rows_free().
 */
int		 store_comparison_human(struct store *, int64_t job,
		    int64_t run, struct comparison_row **, size_t *,
		    char **cause);

/*
 * What people of a job preferred, as evidence for its judge: the latest
 * limit of its answered human comparisons with both outputs and an
 * input, made by the time run started (a resumed run reads the same),
 * latest first.  input is the text shown (a duel answered at promptctl
 * feedback), else inputs is the task's fields of the interaction the
 * preference came with.  why is what the person wrote, or NULL.  Freed
 * with store_human_prefs_free().
 */
struct human_pref {
	int64_t		 id;		/* the comparison */
	int64_t		 a;
	int64_t		 b;
	char		*input;		/* NULL: see inputs */
	struct cJSON	*inputs;	/* an object, or NULL */
	char		*output_a;
	char		*output_b;
	char		*winner;	/* "a", "b" or "tie" */
	char		*why;		/* NULL for none */
};
int		 store_human_prefs(struct store *, int64_t job, int64_t run,
		    size_t limit, struct human_pref **, size_t *,
		    char **cause);
void		 store_human_prefs_free(struct human_pref *, size_t);
/*
 * How far a run's judge agreed with people: *n of its comparisons are of
 * a pair of candidates people compared before the run started (and did
 * not call even), and in *agreed of them the judge's winner is the one
 * people preferred (a tie agrees with neither).
 */
int		 store_judge_agreement(struct store *, int64_t job,
		    int64_t run, long long *n, long long *agreed,
		    char **cause);

/*
 * The dataset snapshot a run was started on: 1 with *dataset, 0 when
 * the run has none (or there is no such run), -1.
 */
int		 store_run_dataset(struct store *, int64_t run,
		    int64_t *dataset, char **cause);
/*
 * A snapshot's examples in their order (by idx), with their origin;
 * freed with store_example_rows_free().  And the interactions a feedback
 * example was made from, by id (the array freed with free()).
 */
int		 store_dataset_examples(struct store *, int64_t dataset,
		    struct example_row **, size_t *, char **cause);
void		 store_example_rows_free(struct example_row *, size_t);
int		 store_example_links(struct store *, int64_t example,
		    int64_t **interactions, size_t *, char **cause);

/*
 * How far a job read a feedback file (by its path as the job names it):
 * the file's device and inode, the offset up to which every line was
 * read (a line cut short at the end is not), the lines before it, and
 * the hex SHA-256 of the file's first min(offset, 4096) bytes, which
 * tell a rotated or rewritten file from the same one grown.  get: 1 with
 * *src, 0 when the job never read that path, -1.
 */
struct feedback_source {
	int64_t		 device;
	int64_t		 inode;
	int64_t		 offset;
	long long	 line;
	char		 head[65];
	double		 updated;	/* set by put */
};
int		 store_feedback_source_get(struct store *, int64_t job,
		    const char *path, struct feedback_source *, char **cause);
int		 store_feedback_source_put(struct store *, int64_t job,
		    const char *path, const struct feedback_source *,
		    char **cause);

/*
 * The job's salt for hashing user ids (hex, allocated), made from
 * /dev/urandom the first time it is asked for and kept with the job.
 * NULL with *cause on error.
 */
char		*store_job_salt(struct store *, int64_t job, char **cause);

/*
 * Challengers (store_challenger.c): a candidate deployed beside a job's
 * champion on a share of the traffic, open from started until it ends
 * with an outcome ("promoted", "rejected", "withdrawn" or "replaced").
 * A job has at most one open.  current: 1 with *c, 0 when none is open,
 * -1.  add: opens one now, returning its id (-1; an open one must be
 * ended first).  end: ends it now with its outcome.
 */
struct challenger {
	int64_t		id;
	int64_t		candidate;
	double		share;
	double		started;
};
int		 store_challenger_current(struct store *, int64_t job,
		    struct challenger *, char **cause);
int64_t		 store_challenger_add(struct store *, int64_t job,
		    int64_t candidate, double share, char **cause);
int		 store_challenger_end(struct store *, int64_t id,
		    const char *outcome, char **cause);
/*
 * The ratings (feedback_rating_value(), 0 to 1) of a job's interactions
 * answered by candidate, timed at or after since and ingested before
 * run started, in the order they were stored; *values is the caller's
 * to free (NULL when there is none).
 */
int		 store_candidate_ratings(struct store *, int64_t job,
		    int64_t candidate, double since, int64_t run,
		    double **values, size_t *n, char **cause);

/*
 * Synthetic examples (store_synthetic.c): inputs the optimizer wrote for
 * a job near the boundary of its task, each waiting for a label from the
 * judge or a person.  A row is pending until answered: labeled (with its
 * label, who gave it and when) or dropped (with the reason: the judge
 * refused, a person skipped it...).  The same inputs (by key, the hash
 * of the template's fields) are one row for a job.
 *
 * add: a new pending row from r, returning its id, or the id of the
 * job's row with the same key, whose run is then *run (r->run for a row
 * just added); -1 on error.
 */
struct synthetic_record {
	int64_t		 job;
	int64_t		 run;
	const char	*key;
	const char	*inputs;	/* JSON object of the fields */
	const char	*input;		/* the text shown to labelers */
	const char	*split;		/* "train" or "dev" */
	const char	*labeler;	/* "judge" or "people" */
	const char	*choices;	/* JSON array of known answers, or
					   NULL */
};
int64_t		 store_synthetic_add(struct store *,
		    const struct synthetic_record *, int64_t *run,
		    char **cause);
struct synthetic_row {
	int64_t		 id;
	int64_t		 job;
	int64_t		 run;
	char		*key;
	char		*inputs;
	char		*input;
	char		 split[8];
	char		 labeler[8];
	char		*choices;	/* NULL for none */
	char		 status[8];	/* pending, labeled or dropped */
	char		*label;		/* NULL unless labeled */
	char		*reason;	/* why dropped, or NULL */
	char		*who;		/* the person or the judge, or NULL */
	double		 created;
	double		 answered;	/* NAN while pending */
};
/*
 * The job's rows, oldest first: of one run (0: of every run), with one
 * status (NULL: any), at most limit (negative: all).  get: one by id,
 * 1 with *row, 0 when there is none, -1.
 */
int		 store_synthetic_list(struct store *, int64_t job, int64_t run,
		    const char *status, int limit, struct synthetic_row **,
		    size_t *, char **cause);
int		 store_synthetic_get(struct store *, int64_t id,
		    struct synthetic_row *, char **cause);
void		 store_synthetic_row_release(struct synthetic_row *);
void		 store_synthetic_rows_free(struct synthetic_row *, size_t);
/*
 * Answers a pending row now: a label (labeled) or, with label NULL, a
 * reason (dropped), and who gave it.  Returns 1, 0 when the row is not
 * pending (answered already, or no such row), or -1.
 */
int		 store_synthetic_answer(struct store *, int64_t id,
		    const char *label, const char *reason, const char *who,
		    char **cause);
/*
 * Makes dataset the snapshot a run scores on: a run that added
 * synthetic examples at its start goes on with the snapshot that holds
 * them.
 */
int		 store_run_set_dataset(struct store *, int64_t run,
		    int64_t dataset, char **cause);

#endif
