/*
 * Inside the report (report.h): what every section reads, loaded once by
 * report_write(), and the helpers they write with.  A section is a
 * function that appends the body of its <section> to r->out (report.c
 * opens and closes it, with its heading); it returns 0, or -1 with
 * *cause when the store fails (a section with nothing to show says so
 * in the page and returns 0).
 */
#ifndef REPORT_INT_H
#define REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jsonc.h"
#include "store.h"
#include "strbuf.h"

/* How many candidates the leaderboard, lineage and heat map show. */
#define REPORT_TOP	10

struct report {
	struct store		*store;
	struct strbuf		*out;
	double			 now;		/* when it was written */

	struct job_row		 job;
	cJSON			*spec;		/* the job file as JSON */
	cJSON			*status;	/* the "status" query's answer */
	cJSON			*board;		/* "leaderboard": candidates[] */
	cJSON			*history;	/* "history": champions[] */

	struct run_row		*runs;		/* every run of the job, in order */
	size_t			 nruns;
	struct run_row		 run;		/* the run reported (id 0: none) */
	int64_t			 dataset;	/* its snapshot, 0 for none */
	int64_t			 champion;	/* the champion's candidate, 0 */
	struct call_row		*calls;		/* the run's calls, in order */
	size_t			 ncalls;
	const char		*strategy;	/* the strategy's name, or "" */
};

/* Sections, in the order of the page. */
int	report_summary(struct report *, char **cause);
int	report_progress(struct report *, char **cause);
int	report_leaderboard(struct report *, char **cause);
int	report_lineage(struct report *, char **cause);
int	report_failures(struct report *, char **cause);
int	report_duels(struct report *, char **cause);
int	report_calls(struct report *, char **cause);
int	report_history(struct report *, char **cause);

/* Text escaped; the same from a format. */
void	report_text(struct report *, const char *s);
void	report_textf(struct report *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* <p class="note">text</p>: a section saying what it has nothing of. */
void	report_none(struct report *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A table's opening with its header cells (n of them; a header that
 * starts with '#' is a number column, right aligned, the '#' not shown).
 */
void	report_table_open(struct report *, const char *cls,
	    const char *const *headers, size_t n);
void	report_table_close(struct report *);
/* A time, UTC, as "2026-12-06 20:39:27" into buf. */
const char *report_time(double, char *buf, size_t size);
/* A score with its interval, "0.917 [0.885, 0.941]"; NAN as "-". */
const char *report_score(double mean, double lo, double hi, char *buf,
	    size_t size);
/*
 * The CSS class of an operator's (or origin's) colour: the same name
 * always gets the same one of the palette's classes c0..c7.
 */
const char *report_op_class(const char *op);
/* A square of that colour before a name, in HTML text. */
void	 report_swatch(struct report *, const char *op);
/*
 * What the reported run had spent by time, from its calls: the paid
 * calls (status ok) and the dollars of every call.
 */
void	 report_spent_at(const struct report *, double time, long long *calls,
	    double *dollars);
/* The kind of run id ("optimize", "refresh", "eval"), or "". */
const char *report_run_kind(const struct report *, int64_t id);

#endif
