/*
 * Production feedback: the reader of one line of a feedback log
 * (promptd-feedback(5)).  Every field is checked with a message that
 * names it, since the person who reads "FILE:LINE: rating: ..." has to
 * fix the program that wrote the log.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feedback.h"
#include "hash.h"
#include "jsonc.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* 10000-01-01T00:00:00Z: RFC 3339 writes no later time. */
#define FEEDBACK_END_TIME	253402300800.0

/*
 * One field of an object of the line, and what reads its value: null
 * goes to the reader only when the field is required, to be refused.
 */
struct fb_field {
	const char	*name;
	int		(*read)(const cJSON *, struct interaction *, char **);
	int		 required;
};

/* Refuses a string longer than FEEDBACK_MAX_TEXT at path (and name). */
static int
fb_length(const char *s, const char *path, const char *name, char **cause)
{
	size_t	len;

	if ((len = strlen(s)) <= FEEDBACK_MAX_TEXT)
		return 0;
	return cause_set(cause, "%s%s%s: %zu bytes, longer than the %zu "
	    "allowed", path, name != NULL ? "." : "", name != NULL ? name : "",
	    len, FEEDBACK_MAX_TEXT);
}

/*
 * Reads a string field into *out (allocated).  The line was checked for
 * UTF-8 as a whole, and cJSON refuses escapes of lone surrogates, so
 * only the length is left to check.
 */
static int
fb_string(const cJSON *v, const char *path, int nonempty, char **out,
    char **cause)
{
	if (!cJSON_IsString(v) || (nonempty && *v->valuestring == '\0')) {
		return cause_set(cause, "%s: expected a%s string", path,
		    nonempty ? " non-empty" : "");
	}
	if (fb_length(v->valuestring, path, NULL, cause) != 0)
		return -1;
	free(*out);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* An integer from min to max (a huge number is cJSON's infinity). */
static int
fb_int(const cJSON *v, const char *path, int min, int max, int *out,
    char **cause)
{
	double	d;

	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!(d >= min && d <= max) || d != floor(d)) {
		return cause_set(cause, "%s: expected an integer from %d to %d",
		    path, min, max);
	}
	*out = (int)d;
	return 0;
}

static int
fb_bool(const cJSON *v, const char *path, int *out, char **cause)
{
	if (!cJSON_IsBool(v))
		return cause_set(cause, "%s: expected true or false", path);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
fb_name_cmp(const void *a, const void *b)
{
	const cJSON	*x = *(const cJSON *const *)a;
	const cJSON	*y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/*
 * The members of an object sorted by name (byte order, which for UTF-8
 * is code point order), allocated; *n is how many.  Sorting is also how
 * a repeated name is found in a line of many thousands of them.
 */
static cJSON **
fb_sorted(const cJSON *obj, size_t *n)
{
	cJSON	**v, *m;
	size_t	  i = 0;

	*n = 0;
	for (m = obj->child; m != NULL; m = m->next)
		(*n)++;
	v = xcalloc(*n + 1, sizeof *v);
	for (m = obj->child; m != NULL; m = m->next)
		v[i++] = m;
	qsort(v, *n, sizeof *v, fb_name_cmp);
	return v;
}

/*
 * Sorts the members of every object in the tree by name, so that its
 * printed form is the same whatever order the line gave them in.
 * cJSON's lists keep the first item's prev pointing at the last.  Only
 * called on a line that was read, whose objects are at most three deep
 * and hold no name twice (so the order is total).
 */
static void
fb_canonical(cJSON *node)
{
	cJSON	**v, *m;
	size_t	  i, n;

	for (m = node->child; m != NULL; m = m->next)
		fb_canonical(m);
	if (!cJSON_IsObject(node) || node->child == NULL)
		return;
	v = fb_sorted(node, &n);
	for (i = 0; i < n; i++) {
		v[i]->prev = v[i == 0 ? n - 1 : i - 1];
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	}
	node->child = v[0];
	free(v);
}

/*
 * Reads the members of obj (at path, "" for the line itself) with the
 * readers of fields: an unknown name is an error, with the closest known
 * one when there is one (a misspelt field would silently lose what it
 * holds), and so is a name given twice.  null is as good as absent for
 * an optional field, as loggers that write every field write it.
 */
static int
fb_members(const cJSON *obj, const char *path, const struct fb_field *fields,
    size_t nfields, struct interaction *it, char **cause)
{
	const char	*names[16], *dot = *path != '\0' ? "." : "", *near;
	const cJSON	*v;
	uint32_t	 seen = 0;
	size_t		 i;

	if (nfields > nitems(names))
		fatalx("%s: too many fields", __func__);
	for (i = 0; i < nfields; i++)
		names[i] = fields[i].name;
	cJSON_ArrayForEach(v, obj) {
		for (i = 0; i < nfields; i++) {
			if (strcmp(v->string, names[i]) == 0)
				break;
		}
		if (i == nfields) {
			near = suggest_n(v->string, names, nfields);
			return cause_set(cause, "%s%s%s: unknown field%s%s%s",
			    path, dot, v->string, near != NULL ?
			    " (did you mean '" : "", near != NULL ? near : "",
			    near != NULL ? "'?)" : "");
		}
		if (seen & ((uint32_t)1 << i)) {
			return cause_set(cause, "%s%s%s: given twice", path,
			    dot, v->string);
		}
		seen |= (uint32_t)1 << i;
		if ((fields[i].required || !cJSON_IsNull(v)) &&
		    fields[i].read(v, it, cause) != 0)
			return -1;
	}
	return 0;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar. */
static int64_t
fb_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p into *out. */
static int
fb_digits(const char **p, int n, int *out)
{
	*out = 0;
	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		*out = *out * 10 + (*(*p)++ - '0');
	}
	return 0;
}

/* Moves past the character at *p when it is one of set. */
static int
fb_char(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

/*
 * Reads an RFC 3339 time (2024-02-29T13:05:00.25+05:30, "Z" for UTC, a
 * space or "t" for the "T" as the RFC allows) into seconds since the
 * epoch.  The calendar arithmetic is done here, not with timegm(3) or
 * mktime(3), which are not in C11, differ across systems and look at the
 * local time zone.  A leap second (:60) counts as the next minute's
 * first, as POSIX time does.  Returns NULL, "" when it is not the form,
 * or which part is out of range.
 */
static const char *
fb_rfc3339(const char *s, double *t)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int		 y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double		 frac = 0, scale = 0.1;
	const char	*p = s;

	if (fb_digits(&p, 4, &y) != 0 || fb_char(&p, "-") != 0 ||
	    fb_digits(&p, 2, &mo) != 0 || fb_char(&p, "-") != 0 ||
	    fb_digits(&p, 2, &d) != 0 || fb_char(&p, "Tt ") != 0 ||
	    fb_digits(&p, 2, &h) != 0 || fb_char(&p, ":") != 0 ||
	    fb_digits(&p, 2, &mi) != 0 || fb_char(&p, ":") != 0 ||
	    fb_digits(&p, 2, &sec) != 0)
		return "";
	if (fb_char(&p, ".") == 0) {
		if (*p < '0' || *p > '9')
			return "";
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (fb_digits(&p, 2, &oh) != 0 || fb_char(&p, ":") != 0 ||
		    fb_digits(&p, 2, &om) != 0)
			return "";
	} else if (fb_char(&p, "Zz") != 0)
		return "";
	if (*p != '\0')
		return "";

	if (mo < 1 || mo > 12)
		return "the month is out of range";
	if (d < 1 || d > days[mo - 1] || (mo == 2 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return "the day is out of range";
	if (h > 23 || mi > 59 || sec > 60)
		return "the time of day is out of range";
	if (oh > 23 || om > 59)
		return "the offset is out of range";
	*t = (double)(fb_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60)) + frac;
	return NULL;
}

/*
 * "time": seconds since the epoch or RFC 3339, from 1970 to 9999 (past
 * that a number is surely milliseconds given for seconds).
 */
static int
fb_time(const cJSON *v, struct interaction *it, char **cause)
{
	const char	*why = "";
	double		 t = NAN;

	if (cJSON_IsNumber(v)) {
		t = v->valuedouble;
		why = NULL;
	} else if (cJSON_IsString(v))
		why = fb_rfc3339(v->valuestring, &t);
	if (why == NULL && !(t >= 0))
		why = "before 1970";
	else if (why == NULL && !(t < FEEDBACK_END_TIME))
		why = "after 9999";
	if (why != NULL) {
		return cause_set(cause, "time: expected seconds since the epoch "
		    "or an RFC 3339 time%s%s%s", *why != '\0' ? " (" : "", why,
		    *why != '\0' ? ")" : "");
	}
	it->time = t;
	return 0;
}

static int
fb_id(const cJSON *v, struct interaction *it, char **cause)
{
	char	*id = NULL;
	size_t	 i, len;

	if (fb_string(v, "id", 1, &id, cause) != 0)
		return -1;
	/*
	 * The id is the key itself when it fits the key's 64 bytes and is
	 * printable ASCII (what a person can search the database for),
	 * else its SHA-256 in hex: an id longer than that or in another
	 * script still names one interaction, and it->key stays a short
	 * printable string.
	 */
	len = strlen(id);
	for (i = 0; i < len; i++) {
		if (id[i] < 0x20 || id[i] > 0x7e)
			break;
	}
	if (i == len && len < sizeof it->key)
		memcpy(it->key, id, len + 1);
	else
		sha256_hex(id, len, it->key);
	it->has_id = 1;
	free(id);
	return 0;
}

static int
fb_job(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "job", 1, &it->job, cause);
}

static int
fb_version(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_int(v, "version", 1, INT_MAX, &it->version, cause);
}

static int
fb_prompt(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "prompt", 1, &it->prompt, cause);
}

/*
 * "inputs": the task's fields, as a dataset's line gives them: strings,
 * numbers and booleans, each name once.
 */
static int
fb_inputs(const cJSON *v, struct interaction *it, char **cause)
{
	cJSON	**m;
	size_t	  i, n;
	int	  r = 0;

	if (!cJSON_IsObject(v))
		return cause_set(cause, "inputs: expected an object");
	m = fb_sorted(v, &n);
	for (i = 0; i < n && r == 0; i++) {
		if (i > 0 && strcmp(m[i - 1]->string, m[i]->string) == 0) {
			r = cause_set(cause, "inputs.%s: given twice",
			    m[i]->string);
		} else if (cJSON_IsString(m[i])) {
			r = fb_length(m[i]->valuestring, "inputs",
			    m[i]->string, cause);
		} else if (cJSON_IsNumber(m[i]) && !isfinite(m[i]->valuedouble)) {
			r = cause_set(cause, "inputs.%s: the number is out of "
			    "range", m[i]->string);
		} else if (!cJSON_IsNumber(m[i]) && !cJSON_IsBool(m[i])) {
			r = cause_set(cause, "inputs.%s: expected a string, "
			    "number or boolean", m[i]->string);
		}
	}
	free(m);
	if (r != 0)
		return -1;
	cJSON_Delete(it->inputs);
	if ((it->inputs = cJSON_Duplicate(v, 1)) == NULL)
		fatalx("%s: out of memory", __func__);
	return 0;
}

static int
fb_response(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "response", 0, &it->response, cause);
}

static int
fb_user(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "user", 1, &it->user, cause);
}

static int
fb_session(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "session", 1, &it->session, cause);
}

/* "rating": thumbs ("up"/"down" or true/false) or stars (1 to 5). */
static int
fb_rating(const cJSON *v, struct interaction *it, char **cause)
{
	double	d;

	if (cJSON_IsBool(v)) {
		it->scale = RATING_THUMBS;
		it->rating = cJSON_IsTrue(v);
		return 0;
	}
	if (cJSON_IsString(v) && (strcmp(v->valuestring, "up") == 0 ||
	    strcmp(v->valuestring, "down") == 0)) {
		it->scale = RATING_THUMBS;
		it->rating = strcmp(v->valuestring, "up") == 0;
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (d >= 1 && d <= 5 && d == floor(d)) {
		it->scale = RATING_STARS;
		it->rating = (int)d;
		return 0;
	}
	return cause_set(cause, "rating: expected \"up\", \"down\", true, false "
	    "or an integer from 1 to 5");
}

static int
fb_other(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "preference.other", 0, &it->other, cause);
}

static int
fb_preferred(const cJSON *v, struct interaction *it, char **cause)
{
	static const char *const names[] = { "this", "other", "tie" };
	static const enum preferred values[] = { PREFERRED_THIS,
	    PREFERRED_OTHER, PREFERRED_TIE };
	size_t	i;

	for (i = 0; cJSON_IsString(v) && i < nitems(names); i++) {
		if (strcmp(v->valuestring, names[i]) == 0) {
			it->preferred = values[i];
			return 0;
		}
	}
	return cause_set(cause, "preference.preferred: expected \"this\", "
	    "\"other\" or \"tie\"");
}

static int
fb_other_version(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_int(v, "preference.other_version", 1, INT_MAX,
	    &it->other_version, cause);
}

static int
fb_other_prompt(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "preference.other_prompt", 1, &it->other_prompt,
	    cause);
}

static const struct fb_field fb_preference_fields[] = {
	{ "other", fb_other, 1 },
	{ "preferred", fb_preferred, 1 },
	{ "other_version", fb_other_version, 0 },
	{ "other_prompt", fb_other_prompt, 0 },
};

/* "preference": this response against another, both required. */
static int
fb_preference(const cJSON *v, struct interaction *it, char **cause)
{
	if (!cJSON_IsObject(v))
		return cause_set(cause, "preference: expected an object");
	if (fb_members(v, "preference", fb_preference_fields,
	    nitems(fb_preference_fields), it, cause) != 0)
		return -1;
	if (it->other == NULL)
		return cause_set(cause, "preference.other: missing");
	if (it->preferred == PREFERRED_NONE)
		return cause_set(cause, "preference.preferred: missing");
	return 0;
}

static int
fb_critique(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "critique", 1, &it->critique, cause);
}

static int
fb_edit(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "edit", 0, &it->edit, cause);
}

static int
fb_regenerated(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_bool(v, "signals.regenerated", &it->regenerated, cause);
}

static int
fb_abandoned(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_bool(v, "signals.abandoned", &it->abandoned, cause);
}

static int
fb_copied(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_bool(v, "signals.copied", &it->copied, cause);
}

static int
fb_follow_up(const cJSON *v, struct interaction *it, char **cause)
{
	return fb_string(v, "signals.follow_up", 1, &it->follow_up, cause);
}

static const struct fb_field fb_signal_fields[] = {
	{ "regenerated", fb_regenerated, 0 },
	{ "abandoned", fb_abandoned, 0 },
	{ "copied", fb_copied, 0 },
	{ "follow_up", fb_follow_up, 0 },
};

/* "signals": what people did with the response, at least one of them. */
static int
fb_signals(const cJSON *v, struct interaction *it, char **cause)
{
	if (!cJSON_IsObject(v))
		return cause_set(cause, "signals: expected an object");
	if (fb_members(v, "signals", fb_signal_fields,
	    nitems(fb_signal_fields), it, cause) != 0)
		return -1;
	if (it->regenerated == -1 && it->abandoned == -1 && it->copied == -1 &&
	    it->follow_up == NULL) {
		return cause_set(cause, "signals: expected one of regenerated, "
		    "abandoned, copied or follow_up");
	}
	return 0;
}

static const struct fb_field fb_fields[] = {
	{ "id", fb_id, 0 },
	{ "time", fb_time, 0 },
	{ "job", fb_job, 0 },
	{ "version", fb_version, 0 },
	{ "prompt", fb_prompt, 0 },
	{ "inputs", fb_inputs, 0 },
	{ "response", fb_response, 1 },
	{ "user", fb_user, 0 },
	{ "session", fb_session, 0 },
	{ "rating", fb_rating, 0 },
	{ "preference", fb_preference, 0 },
	{ "critique", fb_critique, 0 },
	{ "edit", fb_edit, 0 },
	{ "signals", fb_signals, 0 },
};

/*
 * Checks the bytes of the line before cJSON sees them: cJSON takes a NUL
 * (a raw one, or the escape \u0000) as the end of a string and would
 * silently cut the text short, and it does not check UTF-8.
 */
static int
fb_bytes(const char *line, size_t len, char **cause)
{
	const char	*nul;
	size_t		 i, bad;
	int		 quoted = 0;

	if ((nul = memchr(line, '\0', len)) != NULL) {
		return cause_set(cause, "a NUL byte at column %zu",
		    utf8_chars(line, nul - line) + 1);
	}
	if (utf8_valid(line, len, &bad) != 0) {
		return cause_set(cause, "invalid UTF-8 at column %zu",
		    utf8_chars(line, bad) + 1);
	}
	for (i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (quoted && line[i] == '\\' && i + 1 < len) {
			if (len - i >= 6 && memcmp(line + i + 1, "u0000", 5) == 0)
				return cause_set(cause, "\\u0000 (a NUL "
				    "character) at column %zu",
				    utf8_chars(line, i) + 1);
			i++;
		}
	}
	return 0;
}

/*
 * Parses the line into an object.  The line is copied so that cJSON
 * reads a NUL-terminated string (fb_bytes() made sure it holds no other
 * NUL); what follows the object must be blank.
 */
static cJSON *
fb_parse(const char *line, size_t len, char **cause)
{
	const char	*end = NULL;
	char		*copy;
	cJSON		*obj;
	size_t		 at;

	copy = xmalloc(len + 1);
	memcpy(copy, line, len);
	copy[len] = '\0';
	obj = cJSON_ParseWithOpts(copy, &end, 0);
	if (obj != NULL)
		end += strspn(end, " \t\r\n");
	if (obj == NULL || *end != '\0') {
		at = end != NULL && end >= copy && end <= copy + len ?
		    (size_t)(end - copy) : 0;
		cause_set(cause, "invalid JSON at column %zu",
		    utf8_chars(copy, at) + 1);
		cJSON_Delete(obj);
		obj = NULL;
	} else if (!cJSON_IsObject(obj)) {
		cause_set(cause, "expected a JSON object, got %s",
		    json_kind(obj));
		cJSON_Delete(obj);
		obj = NULL;
	}
	free(copy);
	return obj;
}

/* The key of a line without an id: the SHA-256 of its canonical JSON. */
static void
fb_key(const cJSON *obj, char key[65])
{
	cJSON	*canon;
	char	*text;

	if ((canon = cJSON_Duplicate(obj, 1)) == NULL)
		fatalx("%s: out of memory", __func__);
	fb_canonical(canon);
	if ((text = cJSON_PrintUnformatted(canon)) == NULL)
		fatalx("%s: out of memory", __func__);
	sha256_hex(text, strlen(text), key);
	cJSON_free(text);
	cJSON_Delete(canon);
}

static void
fb_init(struct interaction *it)
{
	memset(it, 0, sizeof *it);
	it->regenerated = it->abandoned = it->copied = -1;
}

static int
fb_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	}
	return 1;
}

int
feedback_parse_line(const char *line, size_t len, double now,
    struct interaction *it, char **cause)
{
	cJSON	*obj;

	fb_init(it);
	if (len > FEEDBACK_MAX_LINE) {
		return cause_set(cause, "the line is longer than %zu bytes",
		    FEEDBACK_MAX_LINE);
	}
	/* A file's byte order mark is on its first line. */
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (fb_blank(line, len))
		return 1;
	if (fb_bytes(line, len, cause) != 0 ||
	    (obj = fb_parse(line, len, cause)) == NULL)
		return -1;

	it->time = now;
	if (fb_members(obj, "", fb_fields, nitems(fb_fields), it, cause) != 0)
		goto fail;
	if (it->response == NULL) {
		cause_set(cause, "response: missing");
		goto fail;
	}
	if (it->scale == RATING_NONE && it->preferred == PREFERRED_NONE &&
	    it->critique == NULL && it->edit == NULL && it->regenerated == -1 &&
	    it->abandoned == -1 && it->copied == -1 && it->follow_up == NULL) {
		cause_set(cause, "nothing to learn from: give one of rating, "
		    "preference, critique, edit or signals");
		goto fail;
	}
	if (it->inputs == NULL && (it->inputs = cJSON_CreateObject()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (!it->has_id)
		fb_key(obj, it->key);
	cJSON_Delete(obj);
	return 0;

fail:
	cJSON_Delete(obj);
	feedback_release(it);
	return -1;
}

void
feedback_release(struct interaction *it)
{
	free(it->job);
	free(it->prompt);
	cJSON_Delete(it->inputs);
	free(it->response);
	free(it->user);
	free(it->session);
	free(it->other);
	free(it->other_prompt);
	free(it->critique);
	free(it->edit);
	free(it->follow_up);
	fb_init(it);
}

char *
feedback_user(enum user_policy policy, const char *salt, const char *user)
{
	struct sha256	ctx;
	char		hex[65];

	if (user == NULL || policy == USERS_DROP)
		return NULL;
	if (policy == USERS_KEEP)
		return xstrdup(user);
	/*
	 * The NUL after the salt keeps salt and id apart: no other pair of
	 * them makes the same bytes.
	 */
	sha256_init(&ctx);
	if (salt != NULL)
		sha256_update(&ctx, salt, strlen(salt) + 1);
	else
		sha256_update(&ctx, "", 1);
	sha256_update(&ctx, user, strlen(user));
	sha256_final_hex(&ctx, hex);
	return xstrdup(hex);
}

double
feedback_rating_value(const struct interaction *it)
{
	switch (it->scale) {
	case RATING_THUMBS:
		return it->rating != 0 ? 1 : 0;
	case RATING_STARS:
		return (it->rating - 1) / 4.0;
	case RATING_NONE:
		break;
	}
	return NAN;
}
