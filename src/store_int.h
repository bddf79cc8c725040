/*
 * What the files of the store share, and no other file includes:
 * store_schema.c (the schema, its migrations, opening and closing),
 * store_stmt.c (the statements and the helpers that bind and step them),
 * store_write.c (the writes and transactions), store_read.c (the
 * reads), store_report.c (the reads of a job's report), store_feedback.c
 * (production feedback: interactions, the feedback files read, the
 * salt of user ids), store_challenger.c (a job's challengers and the
 * ratings that decide them), store_synthetic.c (synthetic examples and
 * their labels) and store_wal.c (checkpoints on a thread of their
 * own).  These are the only files in
 * promptd that contain SQL.
 * store.h is the interface for everyone else.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stdarg.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/*
 * Every statement the store runs after opening, prepared on first use and
 * kept until store_close().  Their text is store_stmt_table[] in store_stmt.c.
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
	STMT_EXAMPLE_FEEDBACK,
	STMT_EXAMPLE_LINK,
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
	STMT_CHAMPION_SET_TEST,
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
	STMT_SCORE_SUMS,
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
	/* What a run spent, by role (promptctl plan). */
	STMT_ROLE_SPEND,
	/* Provider batches. */
	STMT_BATCH_ADD,
	STMT_BATCH_KEY_ADD,
	STMT_BATCH_UPDATE,
	STMT_BATCH_FIND,
	STMT_BATCH_KEYS,
	/* The reads of a job's report (store_report.c). */
	STMT_RUN_LIST,
	STMT_RUN_PROGRESS,
	STMT_CANDIDATE_RESULTS,
	STMT_EXAMPLE_GET,
	STMT_EVALUATION_OUTPUT,
	STMT_RUN_CALLS,
	STMT_COMPARISON_LIST,
	STMT_CANDIDATE_SPENT,
	/* Production feedback (store_feedback.c). */
	STMT_INTERACTION_PUT,
	STMT_INTERACTION_COUNT,
	STMT_INTERACTION_TALLY,
	STMT_INTERACTION_LIST,
	STMT_INTERACTION_EXAMPLE,
	STMT_COMPARISON_HUMAN,
	STMT_FORGET_CACHE,
	STMT_FORGET_EVALUATIONS,
	STMT_FORGET_COMPARISONS,
	STMT_FORGET_EXAMPLES,
	STMT_FORGET_DUELS,
	STMT_FORGET_LINKS,
	STMT_INTERACTION_FORGET,
	/* Examples from feedback, and a resumed run's. */
	STMT_RUN_DATASET,
	STMT_DATASET_EXAMPLES,
	STMT_EXAMPLE_LINKS,
	STMT_SECURE_DELETE_ON,
	STMT_SECURE_DELETE_OFF,
	STMT_CHAMPION_CANDIDATE,
	STMT_FEEDBACK_SOURCE_GET,
	STMT_FEEDBACK_SOURCE_PUT,
	STMT_JOB_SALT_GET,
	STMT_JOB_SALT_SET,
	/* Challengers (store_challenger.c). */
	STMT_CHALLENGER_CURRENT,
	STMT_CHALLENGER_ADD,
	STMT_CHALLENGER_END,
	STMT_CANDIDATE_RATINGS,
	/* People's critiques, for the reflect strategy. */
	STMT_HUMAN_CRITIQUES,
	STMT_RUN_STARTED,
	STMT_HUMAN_PREFS,
	STMT_JUDGE_AGREEMENT,
	/* A candidate's demonstrations. */
	STMT_DEMO_ADD,
	STMT_DEMO_LIST,
	STMT_CANDIDATE_TOKENS,
	/* Synthetic examples (store_synthetic.c). */
	STMT_EXAMPLE_SYNTHETIC,
	STMT_SYNTHETIC_ADD,
	STMT_SYNTHETIC_FIND,
	STMT_SYNTHETIC_LIST,
	STMT_SYNTHETIC_GET,
	STMT_SYNTHETIC_ANSWER,
	STMT_RUN_SET_DATASET,
	STMT_COUNT
};

/* A statement: "what" names the operation in error messages. */
struct stmt_def {
	const char	*what;
	const char	*sql;
};
extern const struct stmt_def store_stmt_table[STMT_COUNT];

/* Milliseconds a statement waits for a lock held by another connection. */
#define STORE_BUSY_MS	5000

/*
 * A connection: its statements are prepared on first use.  wal is the
 * worker that runs its checkpoints (store_wal.c), NULL when SQLite runs
 * them itself.
 */
struct store {
	sqlite3			*db;
	char			*path;
	int			 version;
	int			 depth;		/* nesting of store_begin() */
	sqlite3_stmt		*stmt[STMT_COUNT];
	struct store_wal	*wal;
};

/*
 * Sets *cause to "store: WHAT: " and SQLite's latest message on the
 * connection; returns -1.
 */
int		 store_fail(struct store *, const char *what, char **cause);

/* Resets a statement and clears its bindings, ready for its next use. */
void		 store_stmt_reset(sqlite3_stmt *);

/*
 * Prepares (once) and binds statement id; the statement stays the
 * connection's.  Each character of fmt binds the next parameter: 'n' an
 * int, 'N' an int where 0 binds NULL, 'i' an int64_t, 'I' an int64_t row
 * id where 0 binds NULL, 'd' a double, 'f' a double where NAN binds NULL,
 * 't' a string (NULL binds NULL; it is borrowed until the statement is
 * reset).  Callers must pass exactly these types: the compiler cannot
 * check them.  Returns NULL with *cause on failure.
 */
sqlite3_stmt	*store_stmt_vbind(struct store *, enum stmt id,
		    char **cause, const char *fmt, va_list);

/*
 * Binds (as store_stmt_vbind()) and steps statement id once.  Returns 1 when it
 * produced a row (the caller reads it from s->stmt[id] and then calls
 * store_stmt_reset()), 0 when it is done (already reset) and -1 on error
 * (already reset, *cause set).
 */
int		 store_stmt_step(struct store *, enum stmt id, char **cause,
		    const char *fmt, ...);

/*
 * Binds and steps an aggregate, which always gives one row: returns the
 * statement on that row (the caller reads it, then store_stmt_reset()),
 * or NULL with *cause, "store: WHAT: no row" when it gave none.
 */
sqlite3_stmt	*store_stmt_row(struct store *, enum stmt id, char **cause,
		    const char *fmt, ...);

/*
 * Like store_stmt_step() for a statement that returns at most one integer:
 * 1 with *out set, 0 when there is no row, -1.  Resets on every path.
 */
int		 store_stmt_int64(struct store *, enum stmt id, int64_t *out,
		    char **cause, const char *fmt, ...);

/*
 * Columns of the current row: a copy of a text column (NULL for NULL), a
 * REAL that may be NULL (as NAN), a short text copied into a buffer.
 */
char		*store_col_text(sqlite3_stmt *, int);
double		 store_col_double(sqlite3_stmt *, int);
void		 store_col_copy(sqlite3_stmt *, int, char *, size_t);

/*
 * A list a read gives: its statement, the size of a row, how to fill one
 * from the statement's current row and how to free what one owns (NULL:
 * nothing).
 */
struct store_list {
	enum stmt	  stmt;
	size_t		  size;
	void		(*fill)(sqlite3_stmt *, void *);
	void		(*release)(void *);
};

/*
 * Binds the statement of list l (fmt as store_stmt_vbind()) and reads
 * every row it gives into *rows (the caller's, NULL when there is none).
 * The rows are collected before it returns, so that callers may run other
 * statements (or recurse) while they walk them.  On an error nothing half
 * read is handed back.  Resets the statement on every path.
 */
int		 store_list_vread(struct store *, const struct store_list *l,
		    void **rows, size_t *n, char **cause, const char *fmt,
		    va_list);
int		 store_list_read(struct store *, const struct store_list *l,
		    void **rows, size_t *n, char **cause, const char *fmt, ...);
/* Frees n rows of list l and the array. */
void		 store_list_free(const struct store_list *l, void *rows,
		    size_t n);

/*
 * The fill and release of rows two files read: a run (RUN_COLUMNS in
 * store_stmt.c; store_report.c), an example (EXAMPLE_COLUMNS;
 * store_report.c) and a comparison (COMPARISON_COLUMNS; store_read.c).
 */
void		 store_fill_run(sqlite3_stmt *, void *);
void		 store_fill_example(sqlite3_stmt *, void *);
void		 store_release_example(void *);
void		 store_fill_comparison(sqlite3_stmt *, void *);
void		 store_release_comparison(void *);

#endif
