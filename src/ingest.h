/*
 * Ingesting a feedback log (promptd-feedback(5)) into a job's stored
 * interactions, one line at a time: promptctl ingest reads the files it
 * is given whole, and every run of a job that sets "feedback" reads the
 * job's log from where the last read stopped.  Both go through
 * ingest_source(), so a line means the same to both.
 */
#ifndef INGEST_H
#define INGEST_H

#include <stdint.h>

#include "feedback.h"

struct store;

/* The bytes at a feedback file's start whose hash tell it from another. */
#define INGEST_HEAD	4096

/*
 * What to ingest into: the job (by id and name), what it keeps of user
 * ids, and whether to follow a log (read from where the last read of
 * this path stopped, remembered in the store, and leave a last line
 * without its newline for the next read: a writer may be half-way
 * through it) rather than read the file whole.  bad, when not NULL, is
 * called for each bad line with its number and "field: message".
 */
struct ingest {
	struct store	 *store;
	int64_t		  job_id;
	const char	 *job;
	enum user_policy  users;
	int		  follow;
	void		(*bad)(void *arg, long long line, const char *message);
	void		 *arg;
	char		 *salt;		/* the job's, fetched at first need */
};

/* What one reading of a file did. */
struct ingest_result {
	long long	 ingested;	/* interactions stored */
	long long	 duplicate;	/* already there: not stored again */
	long long	 bad;		/* lines in error, not stored */
	int		 missing;	/* follow: no such file (yet) */
	int		 restarted;	/* follow: read from the start, the
					   file having been rotated or
					   truncated since the last read */
	long long	 first_line;	/* the first bad line, or 0 */
	char		*first_error;	/* and its message, or NULL */
};

/*
 * Reads path into the job's interactions: every good line of it is
 * stored in one transaction (with, when following, how far it was read),
 * and a line already stored (by its key) is not stored again.  Returns 0
 * with *r filled (released with ingest_result_release()), or -1 with
 * *cause when the file could not be read or the store failed: then
 * nothing of the file is stored.
 */
int	 ingest_source(struct ingest *, const char *path,
	    struct ingest_result *r, char **cause);
void	 ingest_result_release(struct ingest_result *);
/* Frees what the ingest fetched (not the struct itself). */
void	 ingest_release(struct ingest *);

#endif
