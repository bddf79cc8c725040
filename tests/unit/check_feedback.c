/*
 * Tests for the feedback log's reader: every field in every form it may
 * take, every bad line with its message, the key that makes ingestion
 * idempotent, RFC 3339 times, user policies and rating values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../src/feedback.h"
#include "check_common.h"
#include "hash.h"

/* What a line needs besides the field under test. */
#define RESPONSE	"\"response\": \"Positive\""
#define LEARN		RESPONSE ", \"rating\": \"up\""

/* Parses len bytes of line, which must be good. */
static void
parse_ok_n(const char *line, size_t len, struct interaction *it)
{
	char	*cause = NULL;
	int	 r;

	r = feedback_parse_line(line, len, 1000, it, &cause);
	ck_assert_msg(r == 0, "%.100s: %s", line,
	    cause != NULL ? cause : "blank");
	ck_assert_ptr_null(cause);
	ck_assert_ptr_nonnull(it->inputs);
	ck_assert_ptr_nonnull(it->response);
	ck_assert_uint_gt(strlen(it->key), 0);
}

static void
parse_ok(const char *line, struct interaction *it)
{
	parse_ok_n(line, strlen(line), it);
}

/*
 * Parses len bytes of line, which must be refused with the message want;
 * the interaction is left empty.
 */
static void
parse_bad_n(const char *line, size_t len, const char *want)
{
	struct interaction	 it;
	char			*cause = NULL;
	int			 r;

	r = feedback_parse_line(line, len, 1000, &it, &cause);
	ck_assert_msg(r == -1, "%.100s: accepted (%d)", line, r);
	ck_assert_msg(cause != NULL && strcmp(cause, want) == 0,
	    "%.100s: got \"%s\", want \"%s\"", line, cause, want);
	ck_assert_ptr_null(it.response);
	ck_assert_ptr_null(it.inputs);
	free(cause);
}

static void
parse_bad(const char *line, const char *want)
{
	parse_bad_n(line, strlen(line), want);
}

/* The key of a line that must be good. */
static void
key_of(const char *line, char key[65])
{
	struct interaction	it;

	parse_ok(line, &it);
	memcpy(key, it.key, sizeof it.key);
	feedback_release(&it);
}

START_TEST(test_every_field)
{
	struct interaction	it;
	const char		*line = "{\"id\": \"a-1\", \"time\": 1700000000.5,"
	    " \"job\": \"sentiment\", \"version\": 3, \"prompt\": \"Say.\","
	    " \"inputs\": {\"text\": \"Great\", \"n\": 2, \"ok\": true},"
	    " \"response\": \"Positive\", \"user\": \"u7\", \"session\": \"s1\","
	    " \"rating\": 4, \"preference\": {\"other\": \"Negative\","
	    " \"preferred\": \"this\", \"other_version\": 2,"
	    " \"other_prompt\": \"Tell.\"}, \"critique\": \"Too short\","
	    " \"edit\": \"Positive.\", \"signals\": {\"regenerated\": false,"
	    " \"abandoned\": false, \"copied\": true, \"follow_up\": \"Why?\"}}";

	parse_ok(line, &it);
	ck_assert_str_eq(it.key, "a-1");
	ck_assert_int_eq(it.has_id, 1);
	ck_assert_double_eq(it.time, 1700000000.5);
	ck_assert_str_eq(it.job, "sentiment");
	ck_assert_int_eq(it.version, 3);
	ck_assert_str_eq(it.prompt, "Say.");
	ck_assert_str_eq(cJSON_GetObjectItem(it.inputs, "text")->valuestring,
	    "Great");
	ck_assert_double_eq(cJSON_GetObjectItem(it.inputs, "n")->valuedouble,
	    2);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(it.inputs, "ok")));
	ck_assert_str_eq(it.response, "Positive");
	ck_assert_str_eq(it.user, "u7");
	ck_assert_str_eq(it.session, "s1");
	ck_assert_int_eq(it.scale, RATING_STARS);
	ck_assert_int_eq(it.rating, 4);
	ck_assert_int_eq(it.preferred, PREFERRED_THIS);
	ck_assert_str_eq(it.other, "Negative");
	ck_assert_int_eq(it.other_version, 2);
	ck_assert_str_eq(it.other_prompt, "Tell.");
	ck_assert_str_eq(it.critique, "Too short");
	ck_assert_str_eq(it.edit, "Positive.");
	ck_assert_int_eq(it.regenerated, 0);
	ck_assert_int_eq(it.abandoned, 0);
	ck_assert_int_eq(it.copied, 1);
	ck_assert_str_eq(it.follow_up, "Why?");
	feedback_release(&it);
	ck_assert_ptr_null(it.response);
	ck_assert_ptr_null(it.inputs);
	/* Released twice is harmless: release leaves it empty. */
	feedback_release(&it);
}
END_TEST

/* The least a line may be, with what is not given at its defaults. */
START_TEST(test_defaults)
{
	struct interaction	it;

	parse_ok("{" LEARN "}", &it);
	ck_assert_int_eq(it.has_id, 0);
	ck_assert_double_eq(it.time, 1000);
	ck_assert_ptr_null(it.job);
	ck_assert_int_eq(it.version, 0);
	ck_assert_ptr_null(it.prompt);
	ck_assert(cJSON_IsObject(it.inputs));
	ck_assert_ptr_null(it.inputs->child);
	ck_assert_ptr_null(it.user);
	ck_assert_ptr_null(it.session);
	ck_assert_int_eq(it.preferred, PREFERRED_NONE);
	ck_assert_ptr_null(it.other);
	ck_assert_ptr_null(it.critique);
	ck_assert_ptr_null(it.edit);
	ck_assert_int_eq(it.regenerated, -1);
	ck_assert_int_eq(it.abandoned, -1);
	ck_assert_int_eq(it.copied, -1);
	ck_assert_ptr_null(it.follow_up);
	feedback_release(&it);

	/* null is as good as absent, for every optional field. */
	parse_ok("{\"id\": null, \"time\": null, \"job\": null, \"version\":"
	    " null, \"prompt\": null, \"inputs\": null, \"user\": null,"
	    " \"session\": null, \"critique\": null, \"edit\": \"x\","
	    " \"preference\": null, \"signals\": null, \"rating\": null, "
	    RESPONSE "}", &it);
	ck_assert_int_eq(it.has_id, 0);
	ck_assert_double_eq(it.time, 1000);
	ck_assert_ptr_null(it.user);
	ck_assert_int_eq(it.scale, RATING_NONE);
	ck_assert_str_eq(it.edit, "x");
	feedback_release(&it);

	/* An empty response or edit is what was answered or kept. */
	parse_ok("{\"response\": \"\", \"edit\": \"\"}", &it);
	ck_assert_str_eq(it.response, "");
	ck_assert_str_eq(it.edit, "");
	feedback_release(&it);
}
END_TEST

/* Numbers at the ends of their ranges, and integers written as reals. */
START_TEST(test_number_forms)
{
	static const struct {
		const char	*field;
		double		 want;
	} t[] = {
		{ "\"version\": 1", 1 },
		{ "\"version\": 2147483647", 2147483647 },
		{ "\"version\": 3.0", 3 },
		{ "\"version\": 4e0", 4 },
		{ "\"time\": 0", 0 },
		{ "\"time\": 1.5", 1.5 },
		{ "\"time\": 253402300799.5", 253402300799.5 },
		{ "\"preference\": {\"other\": \"o\", \"preferred\": \"tie\","
		    " \"other_version\": 2147483647}", 2147483647 },
	};
	struct interaction	 it;
	char			*line;
	double			 got;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		line = xasprintf("{" LEARN ", %s}", t[i].field);
		parse_ok(line, &it);
		got = strstr(t[i].field, "time") != NULL ? it.time :
		    strstr(t[i].field, "other_version") != NULL ?
		    it.other_version : it.version;
		ck_assert_msg(got == t[i].want, "%s: %g", line, got);
		feedback_release(&it);
		free(line);
	}
}
END_TEST

START_TEST(test_rating_forms)
{
	static const struct {
		const char		*value;
		enum rating_scale	 scale;
		int			 rating;
		double			 v;
	} t[] = {
		{ "\"up\"", RATING_THUMBS, 1, 1 },
		{ "\"down\"", RATING_THUMBS, 0, 0 },
		{ "true", RATING_THUMBS, 1, 1 },
		{ "false", RATING_THUMBS, 0, 0 },
		{ "1", RATING_STARS, 1, 0 },
		{ "2", RATING_STARS, 2, 0.25 },
		{ "3", RATING_STARS, 3, 0.5 },
		{ "4.0", RATING_STARS, 4, 0.75 },
		{ "5", RATING_STARS, 5, 1 },
	};
	struct interaction	 it;
	char			*line;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		line = xasprintf("{" RESPONSE ", \"rating\": %s}", t[i].value);
		parse_ok(line, &it);
		ck_assert_int_eq(it.scale, t[i].scale);
		ck_assert_int_eq(it.rating, t[i].rating);
		ck_assert_double_eq(feedback_rating_value(&it), t[i].v);
		feedback_release(&it);
		free(line);
	}
	parse_ok("{" RESPONSE ", \"critique\": \"meh\"}", &it);
	ck_assert(isnan(feedback_rating_value(&it)));
	feedback_release(&it);
}
END_TEST

START_TEST(test_preference_forms)
{
	static const struct {
		const char	*value;
		enum preferred	 preferred;
	} t[] = {
		{ "this", PREFERRED_THIS },
		{ "other", PREFERRED_OTHER },
		{ "tie", PREFERRED_TIE },
	};
	struct interaction	 it;
	char			*line;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		line = xasprintf("{" RESPONSE ", \"preference\": {\"preferred\":"
		    " \"%s\", \"other\": \"\"}}", t[i].value);
		parse_ok(line, &it);
		ck_assert_int_eq(it.preferred, t[i].preferred);
		ck_assert_str_eq(it.other, "");
		ck_assert_int_eq(it.other_version, 0);
		ck_assert_ptr_null(it.other_prompt);
		feedback_release(&it);
		free(line);
	}
	parse_ok("{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
	    " \"other\": \"x\", \"other_version\": null, \"other_prompt\":"
	    " null}}", &it);
	ck_assert_int_eq(it.preferred, PREFERRED_TIE);
	feedback_release(&it);
}
END_TEST

/* Each signal alone is enough to learn from. */
START_TEST(test_signal_forms)
{
	struct interaction	it;

	parse_ok("{" RESPONSE ", \"signals\": {\"regenerated\": true}}", &it);
	ck_assert_int_eq(it.regenerated, 1);
	ck_assert_int_eq(it.abandoned, -1);
	feedback_release(&it);
	parse_ok("{" RESPONSE ", \"signals\": {\"abandoned\": true}}", &it);
	ck_assert_int_eq(it.abandoned, 1);
	ck_assert_int_eq(it.copied, -1);
	feedback_release(&it);
	parse_ok("{" RESPONSE ", \"signals\": {\"copied\": false}}", &it);
	ck_assert_int_eq(it.copied, 0);
	ck_assert_int_eq(it.regenerated, -1);
	feedback_release(&it);
	parse_ok("{" RESPONSE ", \"signals\": {\"follow_up\": \"and?\"}}", &it);
	ck_assert_str_eq(it.follow_up, "and?");
	feedback_release(&it);
	parse_ok("{" RESPONSE ", \"critique\": \"Wrong\"}", &it);
	ck_assert_str_eq(it.critique, "Wrong");
	feedback_release(&it);
	parse_ok("{" RESPONSE ", \"edit\": \"Negative\"}", &it);
	ck_assert_str_eq(it.edit, "Negative");
	feedback_release(&it);
}
END_TEST

START_TEST(test_bad_lines)
{
	static const struct {
		const char	*line;
		const char	*want;
	} t[] = {
		{ "[1, 2]", "expected a JSON object, got an array" },
		{ "\"x\"", "expected a JSON object, got a string" },
		{ "null", "expected a JSON object, got null" },
		{ "{", "invalid JSON at column 2" },
		{ "{\"response\": \"x\",}", "invalid JSON at column 19" },
		{ "{" LEARN "} {}", "invalid JSON at column 42" },
		{ "{" LEARN "}x", "invalid JSON at column 41" },
		{ "{\"response\": \"a\\qb\"}", "invalid JSON at column 16" },
		{ "{}", "response: missing" },
		{ "{\"rating\": 5}", "response: missing" },
		{ "{" RESPONSE "}", "nothing to learn from: give one of "
		    "rating, preference, critique, edit or signals" },
		{ "{" RESPONSE ", \"user\": \"u\"}", "nothing to learn from: "
		    "give one of rating, preference, critique, edit or signals" },
		{ "{" LEARN ", \"ratng\": 5}",
		    "ratng: unknown field (did you mean 'rating'?)" },
		{ "{" LEARN ", \"colour\": 5}", "colour: unknown field" },
		{ "{" LEARN ", \"rating\": 5}", "rating: given twice" },
		{ "{\"response\": 7, \"rating\": 5}",
		    "response: expected a string" },
		{ "{\"response\": null, \"rating\": 5}",
		    "response: expected a string" },
		{ "{" LEARN ", \"id\": \"\"}", "id: expected a non-empty string" },
		{ "{" LEARN ", \"id\": 12}", "id: expected a non-empty string" },
		{ "{" LEARN ", \"job\": [\"a\"]}",
		    "job: expected a non-empty string" },
		{ "{" LEARN ", \"prompt\": \"\"}",
		    "prompt: expected a non-empty string" },
		{ "{" LEARN ", \"user\": 7}", "user: expected a non-empty string" },
		{ "{" LEARN ", \"session\": \"\"}",
		    "session: expected a non-empty string" },
		{ "{" LEARN ", \"version\": 0}",
		    "version: expected an integer from 1 to 2147483647" },
		{ "{" LEARN ", \"version\": 1.5}",
		    "version: expected an integer from 1 to 2147483647" },
		{ "{" LEARN ", \"version\": \"3\"}",
		    "version: expected an integer from 1 to 2147483647" },
		{ "{" LEARN ", \"version\": 2147483648}",
		    "version: expected an integer from 1 to 2147483647" },
		{ "{" LEARN ", \"version\": 1e999}",
		    "version: expected an integer from 1 to 2147483647" },
		{ "{" RESPONSE ", \"rating\": 0}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" RESPONSE ", \"rating\": 6}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" RESPONSE ", \"rating\": 4.5}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" RESPONSE ", \"rating\": \"Up\"}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" RESPONSE ", \"rating\": \"5\"}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" RESPONSE ", \"rating\": {}}", "rating: expected \"up\", "
		    "\"down\", true, false or an integer from 1 to 5" },
		{ "{" LEARN ", \"inputs\": []}", "inputs: expected an object" },
		{ "{" LEARN ", \"inputs\": {\"text\": null}}",
		    "inputs.text: expected a string, number or boolean" },
		{ "{" LEARN ", \"inputs\": {\"text\": [\"a\"]}}",
		    "inputs.text: expected a string, number or boolean" },
		{ "{" LEARN ", \"inputs\": {\"text\": {\"a\": 1}}}",
		    "inputs.text: expected a string, number or boolean" },
		{ "{" LEARN ", \"inputs\": {\"n\": 1e400}}",
		    "inputs.n: the number is out of range" },
		{ "{" LEARN ", \"inputs\": {\"b\": 1, \"a\": 2, \"b\": 3}}",
		    "inputs.b: given twice" },
		{ "{" RESPONSE ", \"preference\": \"this\"}",
		    "preference: expected an object" },
		{ "{" RESPONSE ", \"preference\": {\"other\": \"x\"}}",
		    "preference.preferred: missing" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"this\"}}",
		    "preference.other: missing" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"that\","
		    " \"other\": \"x\"}}", "preference.preferred: expected "
		    "\"this\", \"other\" or \"tie\"" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": 1,"
		    " \"other\": \"x\"}}", "preference.preferred: expected "
		    "\"this\", \"other\" or \"tie\"" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
		    " \"other\": 5}}", "preference.other: expected a string" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
		    " \"other\": null}}", "preference.other: expected a string" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": null,"
		    " \"other\": \"x\"}}", "preference.preferred: expected "
		    "\"this\", \"other\" or \"tie\"" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
		    " \"other\": \"x\", \"other_version\": -1}}",
		    "preference.other_version: expected an integer from 1 to "
		    "2147483647" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
		    " \"other\": \"x\", \"other_prompt\": 1}}",
		    "preference.other_prompt: expected a non-empty string" },
		{ "{" RESPONSE ", \"preference\": {\"preferd\": \"tie\","
		    " \"other\": \"x\"}}", "preference.preferd: unknown field "
		    "(did you mean 'preferred'?)" },
		{ "{" RESPONSE ", \"preference\": {\"preferred\": \"tie\","
		    " \"other\": \"x\", \"other\": \"y\"}}",
		    "preference.other: given twice" },
		{ "{" RESPONSE ", \"critique\": \"\"}",
		    "critique: expected a non-empty string" },
		{ "{" RESPONSE ", \"critique\": false}",
		    "critique: expected a non-empty string" },
		{ "{" RESPONSE ", \"edit\": 1}", "edit: expected a string" },
		{ "{" RESPONSE ", \"signals\": true}",
		    "signals: expected an object" },
		{ "{" RESPONSE ", \"signals\": {}}", "signals: expected one of "
		    "regenerated, abandoned, copied or follow_up" },
		{ "{" RESPONSE ", \"signals\": {\"copied\": null}}",
		    "signals: expected one of regenerated, abandoned, copied "
		    "or follow_up" },
		{ "{" RESPONSE ", \"signals\": {\"regenerated\": 1}}",
		    "signals.regenerated: expected true or false" },
		{ "{" RESPONSE ", \"signals\": {\"abandoned\": \"yes\"}}",
		    "signals.abandoned: expected true or false" },
		{ "{" RESPONSE ", \"signals\": {\"copied\": 0}}",
		    "signals.copied: expected true or false" },
		{ "{" RESPONSE ", \"signals\": {\"follow_up\": \"\"}}",
		    "signals.follow_up: expected a non-empty string" },
		{ "{" RESPONSE ", \"signals\": {\"copid\": true}}",
		    "signals.copid: unknown field (did you mean 'copied'?)" },
		{ "{" LEARN ", \"time\": \"yesterday\"}",
		    "time: expected seconds since the epoch or an RFC 3339 "
		    "time" },
		{ "{" LEARN ", \"time\": true}", "time: expected seconds since "
		    "the epoch or an RFC 3339 time" },
		{ "{" LEARN ", \"time\": -1}", "time: expected seconds since the "
		    "epoch or an RFC 3339 time (before 1970)" },
		{ "{" LEARN ", \"time\": 1700000000000}", "time: expected seconds "
		    "since the epoch or an RFC 3339 time (after 9999)" },
		{ "{" LEARN ", \"time\": 1e999}", "time: expected seconds since "
		    "the epoch or an RFC 3339 time (after 9999)" },
		/* The first problem in the line's order is the one told. */
		{ "{\"ratng\": 5, \"response\": 1}",
		    "ratng: unknown field (did you mean 'rating'?)" },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		parse_bad(t[i].line, t[i].want);
}
END_TEST

START_TEST(test_rfc3339)
{
	static const struct {
		const char	*time;
		double		 t;		/* NAN: refused */
		const char	*why;
	} t[] = {
		{ "1970-01-01T00:00:00Z", 0, NULL },
		{ "2024-02-29T12:00:00Z", 1709208000, NULL },
		{ "2024-02-29t12:00:00z", 1709208000, NULL },
		{ "2024-02-29 12:00:00Z", 1709208000, NULL },
		{ "2024-02-29T17:30:00+05:30", 1709208000, NULL },
		{ "2024-02-29T06:15:00-05:45", 1709208000, NULL },
		{ "2024-02-29T12:00:00-00:00", 1709208000, NULL },
		{ "2024-02-29T12:00:00+00:00", 1709208000, NULL },
		{ "2024-02-29T12:00:00.25Z", 1709208000.25, NULL },
		{ "2024-02-29T12:00:00.000000001Z", 1709208000.000000001, NULL },
		{ "2024-03-01T02:00:00+14:00", 1709208000, NULL },
		{ "2000-02-29T00:00:00Z", 951782400, NULL },
		{ "2023-12-31T23:59:60Z", 1704067200, NULL },
		{ "1969-12-31T23:00:00-02:00", 3600, NULL },
		{ "9999-12-31T23:59:59Z", 253402300799.0, NULL },
		{ "2023-02-29T00:00:00Z", NAN, " (the day is out of range)" },
		{ "1900-02-29T00:00:00Z", NAN, " (the day is out of range)" },
		{ "2024-04-31T00:00:00Z", NAN, " (the day is out of range)" },
		{ "2024-01-00T00:00:00Z", NAN, " (the day is out of range)" },
		{ "2024-13-01T00:00:00Z", NAN, " (the month is out of range)" },
		{ "2024-00-01T00:00:00Z", NAN, " (the month is out of range)" },
		{ "2024-01-01T24:00:00Z", NAN,
		    " (the time of day is out of range)" },
		{ "2024-01-01T00:60:00Z", NAN,
		    " (the time of day is out of range)" },
		{ "2024-01-01T00:00:61Z", NAN,
		    " (the time of day is out of range)" },
		{ "2024-01-01T00:00:00+24:00", NAN,
		    " (the offset is out of range)" },
		{ "2024-01-01T00:00:00+01:60", NAN,
		    " (the offset is out of range)" },
		{ "1969-12-31T23:59:59Z", NAN, " (before 1970)" },
		{ "1970-01-01T00:00:00+00:01", NAN, " (before 1970)" },
		{ "2024-01-01T00:00:00", NAN, "" },
		{ "2024-01-01", NAN, "" },
		{ "2024-01-01T00:00Z", NAN, "" },
		{ "2024-01-01T00:00:00.Z", NAN, "" },
		{ "2024-01-01T00:00:00Z ", NAN, "" },
		{ "2024-01-01T00:00:00+0100", NAN, "" },
		{ "2024-1-01T00:00:00Z", NAN, "" },
		{ "+2024-01-01T00:00:00Z", NAN, "" },
		{ "2024-01-01X00:00:00Z", NAN, "" },
		{ "", NAN, "" },
	};
	struct interaction	 it;
	char			*line, *want;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		line = xasprintf("{" LEARN ", \"time\": \"%s\"}", t[i].time);
		if (isnan(t[i].t)) {
			want = xasprintf("time: expected seconds since the "
			    "epoch or an RFC 3339 time%s", t[i].why);
			parse_bad(line, want);
			free(want);
		} else {
			parse_ok(line, &it);
			ck_assert_msg(fabs(it.time - t[i].t) < 1e-6,
			    "%s: %.9f, want %.9f", t[i].time, it.time, t[i].t);
			feedback_release(&it);
		}
		free(line);
	}
}
END_TEST

/* Key order, spacing and number spelling do not change the key. */
START_TEST(test_key_stable)
{
	char	a[65], b[65], c[65];

	key_of("{\"response\": \"R\", \"rating\": 5, \"inputs\": {\"x\": \"1\","
	    " \"y\": 2}, \"time\": 17}", a);
	key_of("{\"time\":17,\"inputs\":{\"y\":2.0,\"x\":\"1\"},\"rating\":5,"
	    "\"response\":\"R\"}", b);
	key_of("  {\"inputs\" : { \"y\" : 2 , \"x\" : \"1\" } ,\t\"rating\":"
	    "5,\"time\":1.7e1 ,\"response\" :\"R\"}\r", c);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	ck_assert_uint_eq(strlen(a), 64);

	/* Any change of content is another interaction. */
	key_of("{\"response\": \"R\", \"rating\": 4, \"inputs\": {\"x\": \"1\","
	    " \"y\": 2}, \"time\": 17}", b);
	ck_assert_str_ne(a, b);
	key_of("{\"response\": \"R\", \"rating\": 5, \"inputs\": {\"x\": \"1\","
	    " \"y\": 3}, \"time\": 17}", b);
	ck_assert_str_ne(a, b);
	key_of("{\"response\": \"R\", \"rating\": 5, \"inputs\": {\"x\": 1,"
	    " \"y\": 2}, \"time\": 17}", b);
	ck_assert_str_ne(a, b);
	key_of("{\"response\": \"R\", \"rating\": 5, \"inputs\": {\"x\": \"1\","
	    " \"y\": 2}}", b);
	ck_assert_str_ne(a, b);
	/* A value moved from one key to another is a change too. */
	key_of("{\"response\": \"R\", \"rating\": 5, \"inputs\": {\"x\": 2,"
	    " \"y\": \"1\"}, \"time\": 17}", b);
	ck_assert_str_ne(a, b);
}
END_TEST

/*
 * With an id the key is the id, whatever else the line says; an id that
 * is too long or not printable ASCII is hashed.
 */
START_TEST(test_key_id)
{
	char	 a[65], b[65], want[65], *line, *id;

	key_of("{\"id\": \"req 42\", " LEARN "}", a);
	ck_assert_str_eq(a, "req 42");
	key_of("{" RESPONSE ", \"rating\": 1, \"id\": \"req 42\"}", b);
	ck_assert_str_eq(a, b);

	id = xmalloc(66);
	memset(id, 'a', 65);
	id[64] = '\0';
	line = xasprintf("{\"id\": \"%s\", " LEARN "}", id);
	key_of(line, a);
	ck_assert_str_eq(a, id);
	free(line);
	id[64] = 'a';
	id[65] = '\0';
	line = xasprintf("{\"id\": \"%s\", " LEARN "}", id);
	key_of(line, a);
	sha256_hex(id, 65, want);
	ck_assert_str_eq(a, want);
	free(line);
	free(id);

	key_of("{\"id\": \"caf\xc3\xa9\", " LEARN "}", a);
	sha256_hex("caf\xc3\xa9", 5, want);
	ck_assert_str_eq(a, want);
	key_of("{\"id\": \"a\\tb\", " LEARN "}", a);
	sha256_hex("a\tb", 3, want);
	ck_assert_str_eq(a, want);
}
END_TEST

START_TEST(test_blank)
{
	static const char *const blank[] = { "", " ", "\t \r", "\r",
	    "\xef\xbb\xbf", "\xef\xbb\xbf  " };
	struct interaction	 it;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(blank); i++) {
		ck_assert_int_eq(feedback_parse_line(blank[i], strlen(blank[i]),
		    0, &it, &cause), 1);
		ck_assert_ptr_null(cause);
		ck_assert_ptr_null(it.response);
		feedback_release(&it);
	}
	/* A byte order mark before the first line's object is skipped. */
	parse_ok("\xef\xbb\xbf{" LEARN "}", &it);
	feedback_release(&it);
	/* The length is what counts, not a NUL after it. */
	parse_ok_n("{" LEARN "}garbage", strlen("{" LEARN "}"), &it);
	feedback_release(&it);
}
END_TEST

/* A line of FEEDBACK_MAX_LINE bytes is read, one byte more is refused. */
START_TEST(test_long_line)
{
	const char		*pre = "{" RESPONSE ", \"critique\": \"";
	struct interaction	 it;
	char			*line, *want;
	size_t			 n = FEEDBACK_MAX_LINE + 1, head, p;

	line = xmalloc(n + 1);
	head = strlen("{" LEARN "}");
	memcpy(line, "{" LEARN "}", head);
	memset(line + head, ' ', n - head);
	line[n] = '\0';
	want = xasprintf("the line is longer than %zu bytes",
	    FEEDBACK_MAX_LINE);
	parse_bad_n(line, n, want);
	free(want);
	parse_ok_n(line, n - 1, &it);
	feedback_release(&it);

	/* A string over FEEDBACK_MAX_TEXT is refused in a line that fits. */
	p = strlen(pre);
	memcpy(line, pre, p);
	memset(line + p, 'x', FEEDBACK_MAX_TEXT + 1);
	memcpy(line + p + FEEDBACK_MAX_TEXT + 1, "\"}", 3);
	want = xasprintf("critique: %zu bytes, longer than the %zu allowed",
	    FEEDBACK_MAX_TEXT + 1, FEEDBACK_MAX_TEXT);
	parse_bad(line, want);
	free(want);
	/* At the limit it is read. */
	memcpy(line + p + FEEDBACK_MAX_TEXT, "\"}", 3);
	parse_ok(line, &it);
	ck_assert_uint_eq(strlen(it.critique), FEEDBACK_MAX_TEXT);
	feedback_release(&it);

	/* So is an input's. */
	pre = "{" LEARN ", \"inputs\": {\"text\": \"";
	p = strlen(pre);
	memcpy(line, pre, p);
	memset(line + p, 'x', FEEDBACK_MAX_TEXT + 1);
	memcpy(line + p + FEEDBACK_MAX_TEXT + 1, "\"}}", 4);
	want = xasprintf("inputs.text: %zu bytes, longer than the %zu allowed",
	    FEEDBACK_MAX_TEXT + 1, FEEDBACK_MAX_TEXT);
	parse_bad(line, want);
	free(want);
	free(line);
}
END_TEST

START_TEST(test_bytes)
{
	static const char	 nul[] = "{\"response\": \"a\0b\", \"rating\": 1}";
	struct interaction	 it;

	parse_bad("{" LEARN ", \"critique\": \"caf\xc3\"}",
	    "invalid UTF-8 at column 58");
	parse_bad("{" LEARN ", \"critique\": \"\xed\xa0\x80\"}",
	    "invalid UTF-8 at column 55");
	parse_bad("{" LEARN ", \"critique\": \"\xc0\xaf\"}",
	    "invalid UTF-8 at column 55");
	/* Columns count characters, not bytes. */
	parse_bad("{\"critique\": \"\xc3\xa9\xc3\xa9\xff\"}",
	    "invalid UTF-8 at column 17");
	parse_bad_n(nul, sizeof nul - 1, "a NUL byte at column 16");
	parse_bad("{\"response\": \"a\\u0000b\", \"rating\": 1}",
	    "\\u0000 (a NUL character) at column 16");
	parse_bad("{" LEARN ", \"inputs\": {\"a\\u0000\": 1}}",
	    "\\u0000 (a NUL character) at column 55");
	/* An escaped backslash before "u0000" is no NUL. */
	parse_ok("{\"response\": \"a\\\\u0000b\", \"rating\": 1}", &it);
	ck_assert_str_eq(it.response, "a\\u0000b");
	feedback_release(&it);
	/* Escapes of characters outside the BMP come whole. */
	parse_ok("{\"response\": \"\\ud83d\\ude00\", \"rating\": 1}", &it);
	ck_assert_str_eq(it.response, "\xf0\x9f\x98\x80");
	feedback_release(&it);
	parse_bad("{\"response\": \"\\ud83d\", \"rating\": 1}",
	    "invalid JSON at column 15");
}
END_TEST

/* Deep nesting and huge numbers end in a message, never a crash. */
START_TEST(test_hostile)
{
	char	*line;
	size_t	 n = 200000, i;

	line = xmalloc(n + 1);
	memset(line, '[', n);
	line[n] = '\0';
	parse_bad(line, "invalid JSON at column 1001");
	for (i = 0; i + 5 < n; i += 5)
		memcpy(line + i, "{\"a\":", 5);
	line[i] = '\0';
	parse_bad(line, "invalid JSON at column 5001");
	free(line);
	parse_bad("{" LEARN ", \"inputs\": {\"a\": {\"b\": {\"c\": 1}}}}",
	    "inputs.a: expected a string, number or boolean");
	parse_bad("{" LEARN ", \"inputs\": {\"n\": -1e999}}",
	    "inputs.n: the number is out of range");
}
END_TEST

START_TEST(test_users)
{
	char	*a, *b, *c, *d, want[65];

	ck_assert_str_eq(a = feedback_user(USERS_KEEP, "salt", "ann"), "ann");
	free(a);
	ck_assert_ptr_null(feedback_user(USERS_DROP, "salt", "ann"));
	ck_assert_ptr_null(feedback_user(USERS_KEEP, "salt", NULL));
	ck_assert_ptr_null(feedback_user(USERS_HASH, "salt", NULL));

	a = feedback_user(USERS_HASH, "salt", "ann");
	b = feedback_user(USERS_HASH, "salt", "ann");
	c = feedback_user(USERS_HASH, "pepper", "ann");
	d = feedback_user(USERS_HASH, "salt", "bob");
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	ck_assert_ptr_null(strstr(a, "ann"));
	/* The salt, a NUL, then the id. */
	sha256_hex("salt\0ann", 8, want);
	ck_assert_str_eq(a, want);
	free(a);
	free(b);
	free(c);
	free(d);
	/* Salt and id do not run into each other. */
	a = feedback_user(USERS_HASH, "sa", "ltann");
	b = feedback_user(USERS_HASH, "salt", "ann");
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

static Suite *
feedback_suite(void)
{
	Suite	*s = suite_create("feedback");
	TCase	*tc;

	tc = tcase_create("fields");
	tcase_add_test(tc, test_every_field);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_number_forms);
	tcase_add_test(tc, test_rating_forms);
	tcase_add_test(tc, test_preference_forms);
	tcase_add_test(tc, test_signal_forms);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_rfc3339);
	suite_add_tcase(s, tc);

	tc = tcase_create("key");
	tcase_add_test(tc, test_key_stable);
	tcase_add_test(tc, test_key_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("bytes");
	tcase_add_test(tc, test_blank);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("users");
	tcase_add_test(tc, test_users);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(feedback_suite)
