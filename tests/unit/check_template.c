/* Tests for template compiling, checking against a dataset and rendering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check_common.h"
#include "../../src/dataset.h"
#include "../../src/template.h"

/* An example whose fields are parsed from json. */
static void
example_init(struct example *ex, const char *json)
{
	memset(ex, 0, sizeof *ex);
	ex->fields = cJSON_Parse(json);
	ck_assert_ptr_nonnull(ex->fields);
}

static struct template *
compile_ok(const char *text)
{
	struct template	*t;
	char		*cause = NULL;

	t = template_compile(text, &cause);
	ck_assert_msg(t != NULL, "compile failed: %s", cause);
	ck_assert_ptr_null(cause);
	return t;
}

static void
compile_fails(const char *text, const char *want)
{
	struct template	*t;
	char		*cause = NULL;

	t = template_compile(text, &cause);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
}

static void
render_is(const struct template *t, const struct example *ex,
    const char *prompt, const char *want)
{
	char	*s;

	s = template_render(t, ex, prompt);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(test_render_values)
{
	struct template	*t;
	struct example	 ex;

	example_init(&ex, "{\"text\": \"hi \\\"there\\\"\", \"n\": 3, "
	    "\"x\": 2.5, \"tags\": [1, \"a\", null], \"obj\": {\"k\": true}, "
	    "\"none\": null, \"yes\": false}");
	t = compile_ok("T={{text}} N={{n}} X={{x}} A={{tags}} O={{obj}} "
	    "Z={{none}} B={{yes}} M=[{{missing}}]");
	render_is(t, &ex, NULL, "T=hi \"there\" N=3 X=2.5 A=[1,\"a\",null] "
	    "O={\"k\":true} Z=null B=false M=[]");
	cJSON_Delete(ex.fields);

	/* Without an example every field is empty. */
	render_is(t, NULL, NULL, "T= N= X= A= O= Z= B= M=[]");
	template_free(t);
	template_free(NULL);
}
END_TEST

START_TEST(test_render_prompt)
{
	struct template	*t;
	struct example	 ex;

	example_init(&ex, "{\"question\": \"2+2?\"}");
	t = compile_ok("{{prompt}}\n\nQ: {{ question }}\nA:");
	ck_assert(template_uses_prompt(t));
	ck_assert_uint_eq(template_nfields(t), 1);
	ck_assert_str_eq(template_field(t, 0), "question");
	render_is(t, &ex, "Answer briefly.", "Answer briefly.\n\nQ: 2+2?\nA:");
	render_is(t, &ex, NULL, "\n\nQ: 2+2?\nA:");
	/* Substituted text is not expanded again. */
	render_is(t, &ex, "{{question}}", "{{question}}\n\nQ: 2+2?\nA:");
	template_free(t);
	cJSON_Delete(ex.fields);
}
END_TEST

START_TEST(test_render_spaces_and_literals)
{
	struct template	*t;
	struct example	 ex;

	example_init(&ex, "{\"a\": \"1\", \"b.c\": \"2\", \"d-e_f9\": \"3\"}");
	t = compile_ok("{{a}}{{  a\t}}|{{b.c}}|{{ d-e_f9 }}|} }} {");
	render_is(t, &ex, "p", "11|2|3|} }} {");
	ck_assert(!template_uses_prompt(t));
	ck_assert_uint_eq(template_nfields(t), 3);
	ck_assert_str_eq(template_field(t, 0), "a");
	ck_assert_str_eq(template_field(t, 1), "b.c");
	ck_assert_str_eq(template_field(t, 2), "d-e_f9");
	ck_assert_ptr_null(template_field(t, 3));
	template_free(t);

	/* Plain text, and the empty template. */
	t = compile_ok("no placeholders here");
	render_is(t, &ex, "p", "no placeholders here");
	ck_assert_uint_eq(template_nfields(t), 0);
	template_free(t);
	t = compile_ok("");
	render_is(t, &ex, "p", "");
	template_free(t);
	cJSON_Delete(ex.fields);
}
END_TEST

START_TEST(test_escape)
{
	struct template	*t;
	struct example	 ex;

	example_init(&ex, "{\"a\": \"A\"}");
	t = compile_ok("\\{{a}} is {{a}}; \\{{{{a}}; \\x \\{ \\");
	render_is(t, &ex, NULL, "{{a}} is A; {{A; \\x \\{ \\");
	ck_assert_uint_eq(template_nfields(t), 1);
	template_free(t);

	/* An escaped "{{" needs no closing braces. */
	t = compile_ok("\\{{ open");
	render_is(t, &ex, NULL, "{{ open");
	ck_assert_uint_eq(template_nfields(t), 0);
	template_free(t);
	cJSON_Delete(ex.fields);
}
END_TEST

START_TEST(test_compile_errors)
{
	compile_fails("abc {{text", "line 1, column 5: unterminated '{{'");
	compile_fails("one\ntwo {{x}\n", "line 2, column 5: unterminated '{{'");
	compile_fails("{{a\n}}", "line 1, column 1: unterminated '{{'");
	compile_fails("{{a {{b}}", "line 1, column 1: unterminated '{{'");
	compile_fails("x\ny\n  {{", "line 3, column 3: unterminated '{{'");
	compile_fails("a\n\xc3\xa9\xc3\xa9{{}}", "line 2, column 3: empty "
	    "placeholder");
	compile_fails("{{   }}", "line 1, column 1: empty placeholder");
	compile_fails("{{a}}\nQ: {{a b}}", "line 2, column 4: invalid field "
	    "name 'a b'");
	compile_fails("{{ x/y }}", "line 1, column 1: invalid field name "
	    "'x/y'");
	compile_fails("{{{a}}}", "line 1, column 1: invalid field name '{a'");
	/* Columns keep counting after placeholders and escapes. */
	compile_fails("{{a}} \\{{ {{b}} {{!}}", "line 1, column 17: invalid "
	    "field name '!'");
	/* A NULL cause is allowed. */
	ck_assert_ptr_null(template_compile("{{", NULL));
}
END_TEST

/* Loads a dataset from JSONL text written to a temporary file. */
static struct dataset *
dataset_from(const char *text)
{
	char		*dir, *path, *cause = NULL;
	FILE		*f;
	struct dataset	*ds;

	dir = check_tmpdir();
	if (asprintf(&path, "%s/d.jsonl", dir) == -1)
		abort();
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ds = dataset_load(path, NULL, &cause);
	ck_assert_msg(ds != NULL, "%s", cause);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	return ds;
}

static void
check_fails(const struct template *t, const struct dataset *ds,
    const char *want)
{
	char	*cause = NULL;

	ck_assert_int_eq(template_check(t, ds, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
}

START_TEST(test_check)
{
	struct dataset	*ds;
	struct template	*t;
	char		*cause = NULL;

	ds = dataset_from("{\"text\": \"a\", \"label\": 1}\n"
	    "{\"text\": \"b\", \"answer\": \"c\"}\n");

	t = compile_ok("{{prompt}} {{text}} {{answer}}");
	ck_assert_int_eq(template_check(t, ds, &cause), 0);
	ck_assert_ptr_null(cause);
	template_free(t);

	t = compile_ok("{{text}}\n  {{ txt }} {{zzz}}");
	check_fails(t, ds, "line 2, column 3: unknown field 'txt' (did you "
	    "mean 'text'?)");
	ck_assert_int_eq(template_check(t, ds, NULL), -1);
	template_free(t);

	t = compile_ok("{{text}} {{question}}");
	check_fails(t, ds, "line 1, column 10: unknown field 'question' (the "
	    "dataset's fields are 'text', 'label', 'answer')");
	template_free(t);
	dataset_free(ds);

	ds = dataset_from("{}\n");
	t = compile_ok("{{prompt}}");
	ck_assert_int_eq(template_check(t, ds, &cause), 0);
	template_free(t);
	t = compile_ok("{{q}}");
	check_fails(t, ds, "line 1, column 1: unknown field 'q' (the dataset "
	    "has no fields)");
	template_free(t);
	dataset_free(ds);
}
END_TEST

START_TEST(test_check_many_fields)
{
	struct dataset	*ds;
	struct template	*t;
	char		 json[1024], *p = json;
	int		 i;

	p += sprintf(p, "{");
	for (i = 0; i < 25; i++)
		p += sprintf(p, "%s\"field%02d\": %d", i == 0 ? "" : ", ",
		    i, i);
	sprintf(p, "}\n");
	ds = dataset_from(json);
	ck_assert_uint_eq(ds->nfields, 25);
	t = compile_ok("{{unrelated}}");
	check_fails(t, ds, "line 1, column 1: unknown field 'unrelated' (the "
	    "dataset's fields are 'field00', 'field01', 'field02', 'field03', "
	    "'field04', 'field05', 'field06', 'field07', 'field08', "
	    "'field09', 'field10', 'field11', 'field12', 'field13', "
	    "'field14', 'field15', 'field16', 'field17', 'field18', "
	    "'field19' and 5 more)");
	template_free(t);
	dataset_free(ds);
}
END_TEST

START_TEST(test_fields_order)
{
	struct template	*t;

	t = compile_ok("{{b}} {{prompt}} {{a}} {{b}} {{ c }} {{a}} {{prompt}}");
	ck_assert(template_uses_prompt(t));
	ck_assert_uint_eq(template_nfields(t), 3);
	ck_assert_str_eq(template_field(t, 0), "b");
	ck_assert_str_eq(template_field(t, 1), "a");
	ck_assert_str_eq(template_field(t, 2), "c");
	render_is(t, NULL, "P", " P     P");
	template_free(t);
}
END_TEST

static Suite *
template_suite(void)
{
	Suite	*s = suite_create("template");
	TCase	*tc;

	tc = tcase_create("render");
	tcase_add_test(tc, test_render_values);
	tcase_add_test(tc, test_render_prompt);
	tcase_add_test(tc, test_render_spaces_and_literals);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_fields_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_compile_errors);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_check_many_fields);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(template_suite)
