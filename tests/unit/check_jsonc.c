/* Tests for the JSON-with-comments parser and the validation helpers. */
#include <string.h>

#include "check_common.h"
#include "jsonc.h"
#include "util.h"

static struct jdoc *
parse(const char *text, char **cause)
{
	*cause = NULL;
	return jsonc_parse("t.json", text, strlen(text), cause);
}

/* Parses text that must fail and checks the message. */
static void
parse_fails(const char *text, const char *expect)
{
	char		*cause;
	struct jdoc	*doc = parse(text, &cause);

	ck_assert_msg(doc == NULL, "parsed: %s", text);
	ck_assert_msg(strstr(cause, expect) != NULL, "'%s' not in '%s'",
	    expect, cause);
	free(cause);
}

START_TEST(test_parse_ok)
{
	char		*cause;
	struct jdoc	*doc;
	const cJSON	*v;
	unsigned	 line, col;

	doc = parse("// leading comment\n{\n  \"a\": 1, /* inline */\n"
	    "  \"b\": [true, false, null, \"x\\u00e9\\ud83d\\ude00\"],\n"
	    "  \"c\": {\"d\": -1.5e3}\n}\n", &cause);
	ck_assert_ptr_nonnull(doc);
	v = cJSON_GetObjectItem(doc->root, "a");
	ck_assert(v->valuedouble == 1);
	jsonc_where(doc, v, &line, &col);
	ck_assert_uint_eq(line, 3);
	ck_assert_uint_eq(col, 8);
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(doc->root, "b"), 3);
	ck_assert_str_eq(v->valuestring, "x\xc3\xa9\xf0\x9f\x98\x80");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(doc->root, "c"), "d");
	ck_assert(v->valuedouble == -1500);
	jsonc_where(doc, v, &line, &col);
	ck_assert_uint_eq(line, 5);
	ck_assert_uint_eq(col, 14);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_fails("", "t.json:1:1: empty document");
	parse_fails("{\"a\": 1,}", "t.json:1:9: trailing comma");
	parse_fails("{\"a\" 1}", "t.json:1:6: expected ':' after key 'a'");
	parse_fails("{\n  \"a\": tru\n}", "t.json:2:8: expected a value");
	parse_fails("{\"a\": 1} x", "unexpected 'x' after the end");
	parse_fails("{\"a\": \"abc", "unterminated string");
	parse_fails("{\"a\": 1, \"a\": 2}", "t.json:1:10: duplicate key 'a'");
	parse_fails("/* never closed", "t.json:1:1: unterminated comment");
	parse_fails("{\"a\": 01}", "leading zeros");
	parse_fails("{\"a\": \"\\q\"}", "unknown escape");
	parse_fails("{\"a\": \"\\ud800\"}", "surrogate");
	parse_fails("{\"a\": \"x\xff\"}", "t.json:1:9: invalid UTF-8");
	parse_fails("{\"a\": \"tab\there\"}", "control character");
	parse_fails("{a: 1}", "expected a key in double quotes");
	parse_fails("[1 2]", "expected ',' or ']'");
	parse_fails("{\"a\": 1e999}", "out of range");
	parse_fails("{\"a\": / }", "unexpected '/'");
}
END_TEST

START_TEST(test_depth_limit)
{
	char	buf[1000];
	int	i;

	for (i = 0; i < 500; i++)
		buf[i] = '[';
	buf[500] = '\0';
	parse_fails(buf, "nesting deeper");
}
END_TEST

START_TEST(test_validation)
{
	static const char *const keys[] = { "dataset", "input", "metric",
	    "n", "flag", "mode", NULL };
	static const char *const modes[] = { "fast", "slow", NULL };
	char		*cause, *errs;
	struct jdoc	*doc;
	const char	*s = NULL;
	double		 d = 0;
	long long	 ll = 0;
	int		 b = 0, e = -1;

	doc = parse("{\n  \"datset\": \"x\",\n  \"input\": 3,\n"
	    "  \"n\": 2.5,\n  \"flag\": true,\n  \"mode\": \"fsat\"\n}",
	    &cause);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(jv_keys(doc, doc->root, "task", keys), -1);
	ck_assert_int_eq(jv_string(doc, doc->root, "task", "input", 1, &s), -1);
	ck_assert_int_eq(jv_string(doc, doc->root, "task", "dataset", 1, &s),
	    -1);
	ck_assert_int_eq(jv_int(doc, doc->root, "task", "n", 0, 0, 10, &ll),
	    -1);
	ck_assert_int_eq(jv_number(doc, doc->root, "task", "n", 0, 0, 2, &d),
	    -1);
	ck_assert_int_eq(jv_bool(doc, doc->root, "task", "flag", 0, &b), 1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(jv_bool(doc, doc->root, "task", "absent", 0, &b), 0);
	ck_assert_int_eq(jv_enum(doc, doc->root, "task", "mode", 0, modes, &e),
	    -1);
	errs = jv_errors(doc);
	ck_assert_ptr_nonnull(strstr(errs, "t.json:2:3: task.datset: unknown "
	    "key (did you mean 'dataset'?)"));
	ck_assert_ptr_nonnull(strstr(errs, "t.json:3:12: task.input: expected "
	    "a string"));
	ck_assert_ptr_nonnull(strstr(errs, "t.json:1:1: task.dataset: missing "
	    "(required)"));
	ck_assert_ptr_nonnull(strstr(errs, "t.json:4:8: task.n: expected an "
	    "integer, found 2.5"));
	ck_assert_ptr_nonnull(strstr(errs, "task.n: 2.5 is out of range"));
	ck_assert_ptr_nonnull(strstr(errs, "t.json:6:11: task.mode: unknown "
	    "value 'fsat' (did you mean 'fast'?)"));
	free(errs);
	jsonc_free(doc);
}
END_TEST

START_TEST(test_json_text)
{
	cJSON	*v = cJSON_Parse("[1,\"a\"]");
	char	*s;

	s = json_text(cJSON_GetArrayItem(v, 1));
	ck_assert_str_eq(s, "a");
	free(s);
	s = json_text(v);
	ck_assert_str_eq(s, "[1,\"a\"]");
	free(s);
	s = json_text(NULL);
	ck_assert_str_eq(s, "");
	free(s);
	cJSON_Delete(v);
}
END_TEST

/* An error line as JSON: "a:b.json:3:7: x.y[2]: m: n" and its kin. */
START_TEST(test_error_json)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ "a:b.json:3:7: task.seeds[2]: expected a string: got 1",
		  "{\"file\":\"a:b.json\",\"line\":3,\"column\":7,"
		  "\"path\":\"task.seeds[2]\",\"message\":"
		  "\"expected a string: got 1\"}" },
		{ "j.json:5:3: expected ',' or '}' after a member",
		  "{\"file\":\"j.json\",\"line\":5,\"column\":3,"
		  "\"path\":null,\"message\":\"expected ',' or '}' after a "
		  "member\"}" },
		{ "cannot open 'x:1:2.json': No such file or directory",
		  "{\"file\":null,\"line\":null,\"column\":null,"
		  "\"path\":null,\"message\":\"cannot open 'x:1:2.json': No "
		  "such file or directory\"}" },
		{ "", "{\"file\":null,\"line\":null,\"column\":null,"
		  "\"path\":null,\"message\":\"\"}" },
	};
	cJSON	*o;
	char	*s;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		o = jv_error_json(cases[i].line);
		s = cJSON_PrintUnformatted(o);
		ck_assert_str_eq(s, cases[i].want);
		free(s);
		cJSON_Delete(o);
	}
}
END_TEST

static Suite *
jsonc_suite(void)
{
	Suite	*s = suite_create("jsonc");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_json_text);
	tcase_add_test(tc, test_error_json);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(jsonc_suite)
