/*
 * A stub of the read-only queries: it knows which commands are queries
 * and answers each with "unavailable".  The real implementation replaces
 * this file.
 */
#include <stddef.h>
#include <string.h>

#include "query.h"
#include "util.h"

static const char *const query_cmds[] = {
	"list", "status", "leaderboard", "best", "lineage", "history",
	"export", "events", NULL
};

int
query_run(struct store *store, const char *cmd, const cJSON *args,
    cJSON **result, const char **code, char **cause)
{
	size_t	i;

	(void)store;
	(void)args;
	*result = NULL;
	for (i = 0; query_cmds[i] != NULL; i++) {
		if (strcmp(query_cmds[i], cmd) == 0) {
			*code = "unavailable";
			return cause_set(cause, "'%s' is not built yet", cmd);
		}
	}
	return 1;
}
