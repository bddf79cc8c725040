/*
 * Ingesting a feedback log (promptd-feedback(5)) into a job's stored
 * interactions, one line at a time: promptctl ingest reads the files it
 * is given whole, and every run of a job that sets "feedback" reads the
 * job's log from where the last read stopped.  Both go through
 * ingest_source(), so a line means the same to both.  And what a run
 * makes of the interactions: examples from people's edits.
 */
#ifndef INGEST_H
#define INGEST_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "feedback.h"

struct job;
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
	long long	 duels;		/* comparisons made from people's
					   preferences between candidates */
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

/*
 * The feedback part of a run's start (ingest_examples.c), which happens
 * before the run exists: what it has to tell is collected as notes, for
 * the run to record as its events once it does.
 */
struct ingest_note {
	const char	*level;		/* "info" or "warn" */
	char		*message;
};
struct ingest_notes {
	struct ingest_note	*v;
	size_t			 n;
};
void	 ingest_notes_release(struct ingest_notes *);

/*
 * Reads the job's feedback log (job->feedback_path; nothing when it has
 * none) from where the last read stopped into its interactions, noting
 * what it did.  Nothing here fails: a log that cannot be read is noted,
 * and read again from the same place next time.
 */
void	 ingest_job_log(struct store *, int64_t job_id, const struct job *,
	    struct ingest_notes *);
/*
 * A new run's examples from feedback (promptd-feedback(5) USES): drops
 * the examples an earlier run added to the job's dataset, then, when the
 * job sets "feedback" and its feedback.examples is not "off", appends one
 * example per distinct inputs (the values of the template's fields) of
 * the job's interactions that qualify (an edit; or, with "edits+rated",
 * a response rated up or 4 or 5 stars), the latest by time winning:
 * its inputs with the task's target field set to the edit or the
 * response.  Interactions whose inputs lack a field of the template are
 * left out.  Each is linked to the interactions that gave that same
 * answer for those inputs, and gets its split from its inputs' hash
 * with the job's split proportions and seed (split_by_key()), so that
 * it keeps it from run to run.  The dataset is rehashed: the snapshot
 * changes as feedback grows.  A job that sets "synthetic" then gets
 * its labeled synthetic examples, each with its stored split (train or
 * dev).  Returns the examples added, or -1.
 */
long long ingest_examples(struct store *, int64_t job_id, struct job *,
	    struct ingest_notes *, char **cause);
/*
 * A resumed run's examples: the job's dataset becomes the examples of
 * the snapshot the run started on, exactly as stored (with their ids,
 * splits and origins), whatever the file or the interactions say now.
 * Returns the examples from feedback or synthetic among them, or -1.
 */
long long ingest_examples_resume(struct store *, int64_t dataset_id,
	    struct job *, struct ingest_notes *, char **cause);

/*
 * The key of some inputs (an interaction's, an example's fields): the
 * SHA-256 of the JSON array of the values of the template's fields, in
 * its order, so that inputs that render the same are one example
 * whatever else they hold.  0 when one of the fields is missing: the
 * task could not render them.
 */
struct template;
int	 ingest_inputs_key(const struct template *, const cJSON *inputs,
	    char key[65]);
/*
 * Appends a labeled synthetic example to ds: its inputs with the task's
 * target set to its label, origin synthetic, in its split (train or
 * dev; never test).  NULL (nothing added) when it has no label or its
 * inputs are not a JSON object.
 */
struct dataset;
struct synthetic_row;
struct task;
struct example *ingest_synthetic_example(struct dataset *,
	    const struct task *, const struct synthetic_row *);

#endif
