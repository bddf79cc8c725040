/*
 * A metric that learns from the job's production feedback (the learned
 * metric) is fitted before anything is scored: by a run at its start, by
 * promptctl eval before it scores (jobrun.h).
 */
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "jobrun.h"
#include "metric.h"
#include "store.h"
#include "task.h"
#include "xmalloc.h"

int
jobrun_metric_prepare(struct store *store, int64_t job_id, struct job *job,
    double before, char **report, char **cause)
{
	struct interaction_row	*rows, *kept;
	size_t			 n, nkept = 0, i;
	int			 rc;

	*report = NULL;
	if (job->task.metric == NULL || !metric_needs_feedback(job->task.metric))
		return 0;
	if (store_interactions(store, job_id, &rows, &n, cause) != 0)
		return -1;
	/*
	 * Only what was there when the run started: a resumed run learns
	 * from the same interactions, so it scores as it did before.
	 */
	kept = xcalloc(n + 1, sizeof *kept);
	for (i = 0; i < n; i++)
		if (rows[i].ingested <= before)
			kept[nkept++] = rows[i];
	rc = metric_prepare(job->task.metric, kept, nkept,
	    (uint64_t)job->task.seed, report, cause);
	free(kept);
	store_interaction_rows_free(rows, n);
	return rc;
}
