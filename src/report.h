/*
 * The report: one self-contained HTML page (inline CSS and SVG, no
 * script or font from anywhere) that tells the story of a job's run from
 * the store: summary, progress, leaderboard, lineage, where prompts
 * fail, duels, calls and champion history.  promptctl report writes it,
 * and promptd on every promotion of a job that sets "report".  It reads
 * the store only, so it works for a running job (a snapshot) as for a
 * finished one.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

struct store;
struct strbuf;

/*
 * Appends the report of job's run (0: its latest optimize or refresh
 * run) to out.  Returns 0, or -1 with *cause (and *code "not_found" for
 * a job or run that is not there, else "internal").
 */
int	report_write(struct store *, const char *job, int64_t run,
	    struct strbuf *out, const char **code, char **cause);

/* The same written to path atomically (a temporary file renamed). */
int	report_save(struct store *, const char *job, int64_t run,
	    const char *path, const char **code, char **cause);

/*
 * After a run that promoted a champion, for a job that sets "report":
 * writes the report of run to path.  A report that cannot be written is
 * logged and recorded as a warning event of the run; the run stands.
 */
void	report_on_promotion(struct store *, const char *job, int64_t job_id,
	    int64_t run, const char *path);

#endif
