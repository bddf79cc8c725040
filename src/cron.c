/* Five-field cron expressions: parsing, matching and the next match. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cron.h"
#include "util.h"

enum cron_field {
	CRON_MINUTE,
	CRON_HOUR,
	CRON_MDAY,
	CRON_MONTH,
	CRON_WDAY,
	CRON_NFIELDS
};

static const char *const cron_months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const cron_wdays[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/*
 * Each field's name, the values it accepts (lo-hi), the last value that
 * '*' and open-ended steps reach (7 is only another name for Sunday), and
 * its names, the first of which stands for lo.
 */
static const struct {
	const char		*name;
	int			 lo;
	int			 hi;
	int			 last;
	const char *const	*names;
	const char		*names_hint;
} cron_fields[CRON_NFIELDS] = {
	{ "minute", 0, 59, 59, NULL, NULL },
	{ "hour", 0, 23, 23, NULL, NULL },
	{ "day of month", 1, 31, 31, NULL, NULL },
	{ "month", 1, 12, 12, cron_months, "jan-dec" },
	{ "day of week", 0, 7, 6, cron_wdays, "sun-sat" },
};

struct cron_parser {
	const char	*expr;
	const char	*p;
	char	       **cause;
};

static int
cron_column(const struct cron_parser *cp, const char *at)
{
	return (int)(at - cp->expr) + 1;
}

static int
cron_unexpected(struct cron_parser *cp)
{
	unsigned char	c = (unsigned char)*cp->p;

	if (c == '\0' || isspace(c))
		return cause_set(cp->cause, "column %d: expected a value",
		    cron_column(cp, cp->p));
	if (isprint(c))
		return cause_set(cp->cause, "column %d: unexpected character "
		    "'%c'", cron_column(cp, cp->p), c);
	return cause_set(cp->cause, "column %d: unexpected byte 0x%02x",
	    cron_column(cp, cp->p), c);
}

/* Reads a number (capped well above any field's range) at cp->p. */
static int
cron_number(struct cron_parser *cp)
{
	int	v = 0;

	while (isdigit((unsigned char)*cp->p)) {
		if (v < 100000)
			v = v * 10 + (*cp->p - '0');
		cp->p++;
	}
	return v;
}

/* Reads one value of field f: a number or, where the field has them, a name. */
static int
cron_value(struct cron_parser *cp, enum cron_field f, int *out)
{
	const char	*at = cp->p;
	size_t		 len, i;

	if (isdigit((unsigned char)*cp->p)) {
		*out = cron_number(cp);
		if (*out < cron_fields[f].lo || *out > cron_fields[f].hi)
			return cause_set(cp->cause, "column %d: %s %.*s is out "
			    "of range (%d-%d)", cron_column(cp, at),
			    cron_fields[f].name, (int)(cp->p - at), at,
			    cron_fields[f].lo, cron_fields[f].hi);
		return 0;
	}
	if (!isalpha((unsigned char)*cp->p) || cron_fields[f].names == NULL)
		return cron_unexpected(cp);
	while (isalpha((unsigned char)*cp->p))
		cp->p++;
	len = (size_t)(cp->p - at);
	for (i = 0; cron_fields[f].names[i] != NULL; i++) {
		if (len == 3 && strncasecmp(at, cron_fields[f].names[i], 3) == 0) {
			*out = cron_fields[f].lo + (int)i;
			return 0;
		}
	}
	return cause_set(cp->cause, "column %d: unknown %s '%.*s' (expected "
	    "%s)", cron_column(cp, at), cron_fields[f].name, (int)len, at,
	    cron_fields[f].names_hint);
}

/* Reads one list item: '*', a value or a range, with an optional step. */
static int
cron_item(struct cron_parser *cp, enum cron_field f, uint64_t *bits)
{
	const char	*at = cp->p, *step_at;
	int		 lo, hi, step = 1, span, v;

	if (*cp->p == '*') {
		cp->p++;
		lo = cron_fields[f].lo;
		hi = cron_fields[f].last;
	} else {
		if (cron_value(cp, f, &lo) != 0)
			return -1;
		hi = lo;
		if (*cp->p == '-') {
			cp->p++;
			if (cron_value(cp, f, &hi) != 0)
				return -1;
			if (hi < lo)
				return cause_set(cp->cause, "column %d: bad "
				    "range %.*s", cron_column(cp, at),
				    (int)(cp->p - at), at);
		} else if (*cp->p == '/')
			hi = cron_fields[f].last;	/* "a/n" is "a-last/n" */
	}
	if (*cp->p == '/') {
		step_at = ++cp->p;
		if (!isdigit((unsigned char)*cp->p))
			return cron_unexpected(cp);
		step = cron_number(cp);
		span = cron_fields[f].last - cron_fields[f].lo + 1;
		if (step == 0)
			return cause_set(cp->cause, "column %d: step 0 is not "
			    "allowed", cron_column(cp, step_at));
		if (step > span)
			return cause_set(cp->cause, "column %d: step %.*s is "
			    "out of range (1-%d)", cron_column(cp, step_at),
			    (int)(cp->p - step_at), step_at, span);
	}
	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (f == CRON_WDAY && v == 7 ? 0 : v);
	return 0;
}

static int
cron_field(struct cron_parser *cp, enum cron_field f, uint64_t *bits,
    int *star)
{
	*bits = 0;
	*star = *cp->p == '*';
	for (;;) {
		if (cron_item(cp, f, bits) != 0)
			return -1;
		if (*cp->p == '\0' || isspace((unsigned char)*cp->p))
			return 0;
		if (*cp->p != ',')
			return cron_unexpected(cp);
		cp->p++;
	}
}

/*
 * Whether a schedule can never fire: its days of the month are in none
 * of its months (the 31st of February, the 30th of April and June), and
 * no day of the week stands in for them (with both restricted, either
 * matching is enough).  February counts its 29th: it comes.
 */
static int
cron_never(const uint64_t *bits, const int *star, char **cause)
{
	static const int	 days[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			 m, d;

	if (!star[CRON_WDAY] && (bits[CRON_WDAY] & 0x7f) != 0 &&
	    !star[CRON_MDAY])
		return 0;
	for (m = 1; m <= 12; m++) {
		if (!((bits[CRON_MONTH] >> m) & 1))
			continue;
		for (d = 1; d <= days[m - 1]; d++)
			if ((bits[CRON_MDAY] >> d) & 1)
				return 0;
	}
	for (d = 1; d <= 31 && !((bits[CRON_MDAY] >> d) & 1); d++)
		;
	cause_set(cause, "it never fires: no month it names has day %d", d);
	return 1;
}

int
cron_parse(struct cron *c, const char *expr, char **cause)
{
	struct cron_parser	 cp;
	const char		*p;
	uint64_t		 bits[CRON_NFIELDS];
	int			 star[CRON_NFIELDS], n = 0, f;

	for (p = expr; *p != '\0'; ) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n++;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
	}
	if (n != CRON_NFIELDS)
		return cause_set(cause, "expected %d fields, found %d",
		    CRON_NFIELDS, n);

	cp.expr = expr;
	cp.p = expr;
	cp.cause = cause;
	for (f = 0; f < CRON_NFIELDS; f++) {
		while (isspace((unsigned char)*cp.p))
			cp.p++;
		if (cron_field(&cp, (enum cron_field)f, &bits[f], &star[f]) != 0)
			return -1;
	}
	if (cron_never(bits, star, cause))
		return -1;
	memset(c, 0, sizeof *c);
	c->minute = bits[CRON_MINUTE];
	c->hour = (uint32_t)bits[CRON_HOUR];
	c->mday = (uint32_t)bits[CRON_MDAY];
	c->month = (uint16_t)bits[CRON_MONTH];
	c->wday = (uint8_t)bits[CRON_WDAY];
	c->mday_star = star[CRON_MDAY];
	c->wday_star = star[CRON_WDAY];
	return 0;
}

/*
 * The day rule: when either day field starts with '*' a day must match
 * both; when both are restricted it matches if either does.
 */
static int
cron_day_match(const struct cron *c, const struct tm *tm)
{
	int	md = (c->mday >> tm->tm_mday) & 1;
	int	wd = (c->wday >> tm->tm_wday) & 1;

	if (c->mday_star || c->wday_star)
		return md && wd;
	return md || wd;
}

int
cron_match(const struct cron *c, time_t t)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return ((c->minute >> tm.tm_min) & 1) &&
	    ((c->hour >> tm.tm_hour) & 1) &&
	    ((c->month >> (tm.tm_mon + 1)) & 1) &&
	    cron_day_match(c, &tm);
}

/*
 * Local midnight starting the given day (mday may run past the month's
 * end: mktime normalizes it), or cur + 60 if that is not after cur.
 * Midnight itself may not exist (a DST change at 00:00), and mktime may
 * then answer the hour before it, on the day before: a time in the
 * afternoon means that, so step forward by whole hours into the day.
 */
static time_t
cron_midnight(int year, int mon, int mday, time_t cur)
{
	struct tm	tm;
	time_t		n;
	int		i;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = year;
	tm.tm_mon = mon;
	tm.tm_mday = mday;
	tm.tm_isdst = -1;
	if ((n = mktime(&tm)) == (time_t)-1)
		return (time_t)-1;
	for (i = 0; i < 48 && tm.tm_hour >= 12; i++) {
		n += 3600 - tm.tm_min * 60 - tm.tm_sec;
		if (localtime_r(&n, &tm) == NULL)
			return (time_t)-1;
	}
	return n > cur ? n : cur + 60;
}

time_t
cron_next(const struct cron *c, time_t t)
{
	struct tm	tm;
	time_t		cur, limit;
	int		m;

	if (localtime_r(&t, &tm) == NULL)
		return (time_t)-1;
	cur = t - tm.tm_sec + 60;
	tm.tm_year += 5;
	tm.tm_isdst = -1;
	if ((limit = mktime(&tm)) == (time_t)-1)
		return (time_t)-1;

	while (cur <= limit) {
		if (localtime_r(&cur, &tm) == NULL)
			return (time_t)-1;
		if (tm.tm_sec != 0) {
			/* An offset with seconds, or a leap second. */
			cur += tm.tm_sec < 60 ? 60 - tm.tm_sec : 1;
			continue;
		}
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			cur = cron_midnight(tm.tm_year, tm.tm_mon + 1, 1, cur);
			if (cur == (time_t)-1)
				return (time_t)-1;
			continue;
		}
		if (!cron_day_match(c, &tm)) {
			cur = cron_midnight(tm.tm_year, tm.tm_mon,
			    tm.tm_mday + 1, cur);
			if (cur == (time_t)-1)
				return (time_t)-1;
			continue;
		}
		if (!((c->hour >> tm.tm_hour) & 1)) {
			cur += (60 - tm.tm_min) * 60;
			continue;
		}
		if (!((c->minute >> tm.tm_min) & 1)) {
			for (m = tm.tm_min + 1; m < 60; m++) {
				if ((c->minute >> m) & 1)
					break;
			}
			cur += (m - tm.tm_min) * 60;
			continue;
		}
		/*
		 * Every field was checked on the converted time, so a local
		 * time that does not exist (a DST gap) is never returned.
		 */
		return cur;
	}
	return (time_t)-1;
}
