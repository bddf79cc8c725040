/*
 * Read-only commands of the control protocol (list, status of a job,
 * leaderboard, best, lineage, history, export, events), answered from the
 * store.  One function serves both the daemon and promptctl when no
 * daemon runs, so the two always answer alike.
 */
#ifndef QUERY_H
#define QUERY_H

#include <cjson/cJSON.h>

struct store;

/* Answers a read-only command from the store.  Returns 0 with *result (the caller's to free), -1 with
 * *code (a static string from the list above) and *cause, or 1 when cmd is not a query. */
int	query_run(struct store *, const char *cmd, const cJSON *args,
	    cJSON **result, const char **code, char **cause);

#endif
