/*
 * The read-only commands of the control protocol (list, status with a
 * job, leaderboard, best, lineage, history, export, events), answered
 * from the store.  The daemon answers them with query_run() and so does
 * promptctl when no daemon runs, so both give the same results in the
 * shapes of the protocol (see promptctl(1)).
 */
#ifndef QUERY_H
#define QUERY_H

#include <cjson/cJSON.h>

struct store;

/* Defaults and limits of the "limit" argument. */
#define QUERY_LEADERBOARD_LIMIT	10
#define QUERY_EVENTS_LIMIT	100
#define QUERY_MAX_LIMIT		10000
/* How many generations lineage follows. */
#define QUERY_LINEAGE_DEPTH	64

/*
 * Answers a read-only command from the store.  Returns 0 with *result
 * (the caller's to free), -1 with *code (a static string: "usage",
 * "not_found" or "internal") and *cause, or 1 when cmd is not a query
 * (status without a job is not: the daemon answers that one itself).
 * args (borrowed, may be NULL) is the request's "args" object.
 */
int	query_run(struct store *, const char *cmd, const cJSON *args,
	    cJSON **result, const char **code, char **cause);

/* Whether cmd with these args is a query (as query_run() decides). */
int	query_is_query(const char *cmd, const cJSON *args);

#endif
