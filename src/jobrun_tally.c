/*
 * What a run's replies and failed calls come to, from the store: the
 * reader's outcomes of optimizer and judge replies by role, and the
 * failed attempts by cause (jobrun.h).
 */
#include <stdlib.h>
#include <string.h>

#include "jobrun.h"
#include "log.h"
#include "reply.h"
#include "store.h"
#include "strbuf.h"
#include "xmalloc.h"

const char *const jobrun_tally_roles[TALLY_ROLES] = { "optimizer", "judge" };

int
jobrun_tally(struct store *store, int64_t run, struct reply_tally t[TALLY_ROLES],
    char **cause)
{
	struct outcome_row	*rows;
	size_t			 n, i;
	int			 r, o;

	memset(t, 0, TALLY_ROLES * sizeof *t);
	for (r = 0; r < TALLY_ROLES; r++)
		t[r].commonest = -1;
	if (store_outcome_counts(store, run, &rows, &n, cause) != 0)
		return -1;
	/* Rows come commonest first within a role. */
	for (i = 0; i < n; i++) {
		for (r = 0; r < TALLY_ROLES; r++)
			if (strcmp(rows[i].role, jobrun_tally_roles[r]) == 0)
				break;
		if (r == TALLY_ROLES || (o = reply_outcome_from(
		    rows[i].outcome)) < 0)
			continue;
		t[r].n[o] += rows[i].n;
		t[r].total += rows[i].n;
		if (reply_outcome_ok((enum reply_outcome)o))
			t[r].ok += rows[i].n;
		else if (t[r].commonest < 0) {
			t[r].commonest = o;
			t[r].problem = rows[i].problem;
			t[r].excerpt = rows[i].excerpt;
			rows[i].problem = rows[i].excerpt = NULL;
		}
	}
	store_outcome_rows_free(rows, n);
	return 0;
}

void
jobrun_tally_release(struct reply_tally t[TALLY_ROLES])
{
	int	r;

	for (r = 0; r < TALLY_ROLES; r++) {
		free(t[r].problem);
		free(t[r].excerpt);
	}
	memset(t, 0, TALLY_ROLES * sizeof *t);
}

char *
jobrun_tally_failures(const struct reply_tally *t)
{
	struct strbuf	sb;
	long long	best;
	int		o, pick, done[REPLY_NOUTCOMES] = { 0 };

	strbuf_init(&sb);
	for (;;) {
		for (pick = -1, best = 0, o = 0; o < REPLY_NOUTCOMES; o++)
			if (!reply_outcome_ok((enum reply_outcome)o) &&
			    !done[o] && t->n[o] > best) {
				best = t->n[o];
				pick = o;
			}
		if (pick < 0)
			break;
		done[pick] = 1;
		strbuf_addf(&sb, "%s%lld %s", sb.len > 0 ? ", " : "", best,
		    reply_outcome_name((enum reply_outcome)pick));
	}
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

char *
jobrun_tally_text(const struct reply_tally t[TALLY_ROLES])
{
	static const char *const what[TALLY_ROLES] = {
		"optimizer replies", "judge verdicts"
	};
	struct strbuf	sb;
	int		r;

	strbuf_init(&sb);
	for (r = 0; r < TALLY_ROLES; r++)
		if (t[r].total > 0)
			strbuf_addf(&sb, "; %s %lld/%lld usable", what[r],
			    t[r].ok, t[r].total);
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

char *
jobrun_failures(struct store *store, int64_t run, int64_t after, size_t max,
    long long *n, int64_t *last, char **cause)
{
	struct failure_row	*rows;
	struct strbuf		 sb;
	size_t			 nrows, i;
	char			*msg;

	*n = 0;
	if (store_call_failures(store, run, after, &rows, &nrows, cause) != 0)
		return NULL;
	strbuf_init(&sb);
	for (i = 0; i < nrows; i++) {
		*n += rows[i].n;
		if (rows[i].last > *last)
			*last = rows[i].last;
		if (i >= max)
			continue;
		msg = log_escape(rows[i].error != NULL ? rows[i].error :
		    "unknown error", 200);
		strbuf_addf(&sb, "%s%lld x %s: %s", i > 0 ? "; " : "",
		    rows[i].n, rows[i].backend != NULL ? rows[i].backend : "?",
		    msg);
		free(msg);
	}
	if (nrows > max)
		strbuf_addf(&sb, "; and %zu other causes", nrows - max);
	store_failure_rows_free(rows, nrows);
	return sb.len > 0 ? strbuf_detach(&sb) : xstrdup("");
}
