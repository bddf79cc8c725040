/*
 * Five-field cron expressions (minute hour day-of-month month
 * day-of-week) with lists, ranges, steps, '*', month and day names
 * (jan-dec, sun-sat, 7 = sun) and the usual rule that when both day
 * fields are restricted a day matching either matches.  Evaluated in
 * local time.
 */
#ifndef CRON_H
#define CRON_H

#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t	minute;		/* bits 0-59 */
	uint32_t	hour;		/* bits 0-23 */
	uint32_t	mday;		/* bits 1-31 */
	uint16_t	month;		/* bits 1-12 */
	uint8_t		wday;		/* bits 0-6, Sunday 0 */
	int		mday_star;
	int		wday_star;
};

/*
 * Parses expr.  Errors name the field and the column: "column 9: hour
 * 25 is out of range (0-23)".
 */
int	cron_parse(struct cron *, const char *expr, char **cause);
/* Whether the local time t (seconds are ignored) matches. */
int	cron_match(const struct cron *, time_t t);
/* The first matching minute strictly after t, or (time_t)-1 if none
 * within five years (e.g. "0 0 31 2 *").  Local times skipped by a DST
 * change never match; those repeated by one match each time. */
time_t	cron_next(const struct cron *, time_t t);

#endif
