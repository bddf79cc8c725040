/*
 * Shared by the Check unit tests: each file defines a suite function and
 * ends with CHECK_MAIN(that_function).
 */
#ifndef CHECK_COMMON_H
#define CHECK_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "job.h"
#include "util.h"
#include "xmalloc.h"

#define CHECK_MAIN(fn)							\
int									\
main(void)								\
{									\
	SRunner	*sr = srunner_create(fn());				\
	int	 failed;						\
									\
	srunner_run_all(sr, CK_ENV);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

/* A fresh temporary directory for one test (the caller frees the path). */
char	*check_tmpdir(void);

/* Removes a test's temporary directory and everything in it. */
void	 check_rmtree(const char *dir);

/*
 * A store in a fresh temporary directory: *tmp (the directory) and *path
 * (the database, named name) are the caller's to free; the test fails
 * when it cannot be opened.  check_store_free() closes it and removes
 * the directory.
 */
struct store;
struct store	*check_store_new(const char *name, char **tmp, char **path);
void		 check_store_free(struct store *, char *tmp, char *path);

/*
 * A call row of run: backend "sim", model "m", role "target", key "k",
 * 10 prompt and 2 completion tokens, with the rest as given (status ok,
 * hit or error).  Returns its id; the test fails on an error.
 */
int64_t		 check_call_add(struct store *, int64_t run, const char *status,
		    int http_status, double cost, double latency,
		    const char *error, int attempt);

/* How many times needle occurs in hay, not overlapping. */
size_t	 check_occurrences(const char *hay, const char *needle);

#ifdef SQLITE_VERSION
/* The first column of the first row of a query on a database file. */
long long	 check_count(const char *path, const char *sql);
/* Runs sql (statements) on its own connection; an error fails the test. */
void		 check_exec_sql(const char *path, const char *sql);
#endif

/*
 * For check_count(): how many rows of score_sums differ from what the
 * evaluations give when summed again (the latest score of each candidate
 * and example, every scored row), plus how many are missing or extra.
 * 0 when the store kept them right.
 */
#define CHECK_SCORE_SUMS_WRONG						\
	"WITH latest AS (SELECT candidate_id, example_id, score, max(id)" \
	" FROM evaluations WHERE score IS NOT NULL"			\
	" GROUP BY candidate_id, example_id),"				\
	" r AS (SELECT x.dataset_id, x.split, l.candidate_id, count(*) AS n,"	\
	" sum(l.score) AS t, sum(l.score * l.score) AS q,"		\
	" sum(l.score != 0 AND l.score != 1) AS f FROM latest l"	\
	" JOIN examples x ON x.id = l.example_id GROUP BY 1, 2, 3),"	\
	" a AS (SELECT x.dataset_id, x.split, e.candidate_id,"		\
	" count(*) AS evals, sum(e.score) AS et FROM evaluations e"	\
	" JOIN examples x ON x.id = e.example_id WHERE e.score IS NOT NULL" \
	" GROUP BY 1, 2, 3),"						\
	" want AS (SELECT * FROM r JOIN a USING (dataset_id, split,"	\
	" candidate_id))"						\
	" SELECT (SELECT count(*) FROM score_sums)"			\
	" + (SELECT count(*) FROM want) - 2 * (SELECT count(*) FROM want w" \
	" JOIN score_sums s USING (dataset_id, split, candidate_id)"	\
	" WHERE s.n = w.n AND abs(s.total - w.t) < 1e-9"		\
	" AND abs(s.squares - w.q) < 1e-9 AND s.fractional = w.f"	\
	" AND s.evals = w.evals AND abs(s.evals_total - w.et) < 1e-9)"

/*
 * A dataset of n examples whose content (and hash) depends on tag, in
 * the splits train, dev, test, train, ... by index; freed with
 * check_dataset_free().
 */
struct dataset	*check_dataset(size_t n, const char *tag);
void		 check_dataset_free(struct dataset *);

/*
 * Writes text as dir/job.json and loads it; the job must load (the caller
 * frees it).
 */
struct job	*check_job(const char *dir, const char *text);

/*
 * A temporary directory holding the sentiment example's reviews.jsonl
 * (the caller removes it with check_rmtree and frees it).
 */
char	*check_sentiment_dir(void);

/*
 * A Check fixture: check_dir is a fresh copy of check_sentiment_dir(),
 * check_db a database path in it; teardown removes both.
 */
extern char	*check_dir;
extern char	*check_db;
void	 check_sentiment_setup(void);
void	 check_sentiment_teardown(void);

/* The sentiment example's description and task, as job file members. */
#define CHECK_SENTIMENT_TASK \
	"\"description\": \"Classify the sentiment of a movie review.\"," \
	" \"task\": { \"dataset\": \"reviews.jsonl\", \"input\":" \
	" \"Review: {{text}}\\nSentiment:\", \"target\": \"label\"," \
	" \"metric\": { \"type\": \"exact\", \"normalize\": [\"case\"," \
	" \"punctuation\"] }, \"splits\": { \"train\": 0.2, \"dev\": 0.5," \
	" \"test\": 0.3, \"seed\": 7 } }"

/*
 * execv(2) with a NULL-ended list of constant strings (up to 31): in a
 * child about to exec, so the copies are never freed.
 */
void	 check_execv(const char *path, const char *const *argv);

/*
 * Starts the mock model server (tests/mock/mockllm) with the extra
 * arguments args (NULL-ended), its port written to dir/name; returns its
 * base URL (the caller frees it) and its pid.
 */
char	*check_mock_start(const char *dir, const char *name,
	    const char *const *args, pid_t *pid);

/*
 * One number from the mock server's GET /mock/stats (url as
 * check_mock_start() gives it), or -1.
 */
double	 check_mock_stat(const char *url, const char *key);

#endif
