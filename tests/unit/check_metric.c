/* Tests for the metrics: configuration errors, every type, the judge. */
#include <math.h>
#include <string.h>

#include "check_common.h"

#include "jsonc.h"
#include "metric.h"
#include "util.h"

/*
 * Builds a metric from conf, the text of task.metric in a one-line job
 * file named job.json.  *docp receives the document (errors and all).
 */
static struct metric *
metric_from(const char *conf, struct jdoc **docp)
{
	struct jdoc	*doc;
	const cJSON	*node;
	char		*text, *cause = NULL;

	if (asprintf(&text, "{\"task\": {\"metric\": %s}}", conf) == -1)
		abort();
	doc = jsonc_parse("job.json", text, strlen(text), &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	free(text);
	node = cJSON_GetObjectItem(cJSON_GetObjectItem(doc->root, "task"),
	    "metric");
	*docp = doc;
	return metric_new(doc, node, "task.metric");
}

/* A metric that must build without errors. */
static struct metric *
metric_ok(const char *conf)
{
	struct jdoc	*doc;
	struct metric	*m;
	char		*errs;

	m = metric_from(conf, &doc);
	errs = jv_errors(doc);
	ck_assert_msg(m != NULL && errs == NULL, "%s: %s", conf,
	    errs != NULL ? errs : "(no error text)");
	jsonc_free(doc);
	return m;
}

/* The errors of a configuration that must fail (the caller frees). */
static char *
metric_errors(const char *conf)
{
	struct jdoc	*doc;
	struct metric	*m;
	char		*errs;

	m = metric_from(conf, &doc);
	ck_assert_msg(m == NULL, "%s: built a metric", conf);
	ck_assert_msg(doc->nerrors > 0, "%s: no errors", conf);
	errs = jv_errors(doc);
	jsonc_free(doc);
	return errs;
}

static void
assert_error(const char *conf, const char *want)
{
	char	*errs = metric_errors(conf);

	ck_assert_msg(strstr(errs, want) != NULL, "%s: want '%s' in '%s'",
	    conf, want, errs);
	free(errs);
}

/* Scores output against expected (JSON text, or NULL) with conf. */
static double
score_fb(const char *conf, const char *output, const char *expected,
    char **feedback)
{
	struct metric	*m = metric_ok(conf);
	cJSON		*exp = NULL;
	double		 s;

	if (expected != NULL) {
		exp = cJSON_Parse(expected);
		ck_assert_msg(exp != NULL, "bad expected %s", expected);
	}
	s = metric_score(m, output, exp, feedback);
	ck_assert(s >= 0 && s <= 1);
	cJSON_Delete(exp);
	metric_free(m);
	return s;
}

static double
score(const char *conf, const char *output, const char *expected)
{
	char	*fb = NULL;
	double	 s;

	s = score_fb(conf, output, expected, &fb);
	free(fb);
	return s;
}

/* Scores and checks that the feedback holds want. */
static void
assert_feedback(const char *conf, const char *output, const char *expected,
    double want_score, const char *want)
{
	char	*fb = NULL;
	double	 s;

	s = score_fb(conf, output, expected, &fb);
	ck_assert_msg(fabs(s - want_score) < 1e-9, "%s on '%s': score %g, "
	    "want %g", conf, output, s, want_score);
	ck_assert_msg(fb != NULL && strstr(fb, want) != NULL,
	    "%s on '%s': feedback '%s', want '%s'", conf, output,
	    fb != NULL ? fb : "(null)", want);
	free(fb);
}

#define ASSERT_SCORE(conf, out, exp, want) do {				\
	double	s_ = score((conf), (out), (exp));			\
	ck_assert_msg(fabs(s_ - (want)) < 1e-9,				\
	    "%s on '%s' vs %s: score %g, want %g", (conf), (out),	\
	    (exp) != NULL ? (exp) : "null", s_, (double)(want));	\
} while (0)

/* Table and configuration. */

START_TEST(test_table)
{
	size_t	i;

	for (i = 0; metric_table[i] != NULL; i++)
		ck_assert_ptr_eq(metric_lookup(metric_table[i]->name),
		    metric_table[i]);
	ck_assert_uint_eq(i, 9);
	ck_assert_ptr_null(metric_lookup("nope"));
	ck_assert_ptr_null(metric_lookup(NULL));
	metric_free(NULL);
}
END_TEST

START_TEST(test_bare_string)
{
	struct metric	*m = metric_ok("\"exact\"");

	ck_assert_str_eq(m->ops->name, "exact");
	ck_assert_ptr_null(m->extract);
	metric_free(m);
	m = metric_ok("\"judge\"");
	ck_assert(metric_needs_judge(m));
	metric_free(m);
	/* A type with a required option cannot be a bare string. */
	assert_error("\"regex\"", "task.metric.pattern: missing (required)");
}
END_TEST

START_TEST(test_unknown_type)
{
	char	*errs;

	errs = metric_errors("{\"type\": \"exatc\"}");
	ck_assert_msg(strstr(errs, "job.json:1:30: task.metric.type: unknown "
	    "metric type 'exatc' (did you mean 'exact'?)") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "exact, contains, regex, f1, set, number, "
	    "json, judge") != NULL, "%s", errs);
	free(errs);

	errs = metric_errors("\"bleu-score\"");
	ck_assert_msg(strstr(errs, "task.metric: unknown metric type "
	    "'bleu-score'; the types are exact,") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "did you mean") == NULL, "%s", errs);
	free(errs);

	assert_error("{\"extract\": \"x\"}",
	    "task.metric.type: missing (required)");
	assert_error("{\"type\": 3}", "task.metric.type: expected a string");
	assert_error("42", "job.json:1:21: task.metric: expected a string or "
	    "an object");
	assert_error("[\"exact\"]", "expected a string or an object");
}
END_TEST

START_TEST(test_unknown_key)
{
	assert_error("{\"type\": \"exact\", \"normalise\": [\"case\"]}",
	    "task.metric.normalise: unknown key (did you mean 'normalize'?)");
	assert_error("{\"type\": \"number\", \"abs_tl\": 1}",
	    "task.metric.abs_tl: unknown key (did you mean 'abs_tol'?)");
	assert_error("{\"type\": \"exact\", \"extrakt\": \"x\"}",
	    "unknown key (did you mean 'extract'?)");
	/* Another type's option is unknown here. */
	assert_error("{\"type\": \"f1\", \"pattern\": \"x\"}",
	    "task.metric.pattern: unknown key");
}
END_TEST

START_TEST(test_wrong_option_type)
{
	char	*errs;

	assert_error("{\"type\": \"number\", \"abs_tol\": \"x\"}",
	    "job.json:1:51: task.metric.abs_tol: expected a number");
	assert_error("{\"type\": \"number\", \"tolerance\": true}",
	    "task.metric.tolerance: expected a number");
	assert_error("{\"type\": \"number\", \"rel_tol\": -1}",
	    "task.metric.rel_tol: -1 is out of range");
	assert_error("{\"type\": \"number\", \"tolerance\": 1, \"abs_tol\": 1}",
	    "task.metric.tolerance: give either abs_tol or tolerance");
	assert_error("{\"type\": \"regex\", \"pattern\": \"a\", \"full\": 1}",
	    "task.metric.full: expected true or false");
	assert_error("{\"type\": \"regex\", \"pattern\": 1}",
	    "task.metric.pattern: expected a string");
	assert_error("{\"type\": \"exact\", \"extract\": 5}",
	    "task.metric.extract: expected a string");
	assert_error("{\"type\": \"exact\", \"normalize\": 5}",
	    "task.metric.normalize: expected a string or an array");
	assert_error("{\"type\": \"exact\", \"normalize\": [\"case\", 1]}",
	    "task.metric.normalize[1]: expected a string");
	assert_error("{\"type\": \"exact\", \"normalize\": [\"case\", "
	    "\"whitespaces\"]}", "task.metric.normalize[1]: unknown "
	    "normalization 'whitespaces' (did you mean 'whitespace'?)");
	assert_error("{\"type\": \"contains\", \"normalize\": \"unicode\"}",
	    "unknown normalization 'unicode' (expected case, whitespace, "
	    "punctuation or articles)");
	assert_error("{\"type\": \"set\", \"separator\": \"\"}",
	    "task.metric.separator: expected a non-empty string");
	assert_error("{\"type\": \"set\", \"score\": \"jacard\"}",
	    "task.metric.score: unknown value 'jacard' (did you mean "
	    "'jaccard'?)");
	assert_error("{\"type\": \"json\", \"fields\": [\"a\", 2]}",
	    "task.metric.fields[1]: expected a field name");
	assert_error("{\"type\": \"json\", \"fields\": \"a\"}",
	    "task.metric.fields: expected an array");
	assert_error("{\"type\": \"judge\", \"mode\": \"pairwse\"}",
	    "task.metric.mode: unknown value 'pairwse' (did you mean "
	    "'pairwise'?)");
	assert_error("{\"type\": \"judge\", \"rubric\": \"\"}",
	    "task.metric.rubric: expected a non-empty string");

	/* Every problem is reported, not just the first. */
	errs = metric_errors("{\"type\": \"number\", \"abs_tol\": -1, "
	    "\"rel_tol\": \"x\", \"bogus\": 1}");
	ck_assert_msg(strstr(errs, "abs_tol") && strstr(errs, "rel_tol") &&
	    strstr(errs, "bogus"), "%s", errs);
	free(errs);
}
END_TEST

START_TEST(test_regex_errors)
{
	const char	*text = "{\"task\": {\n"
	    "  \"metric\": {\n"
	    "    \"type\": \"exact\",\n"
	    "    \"extract\": \"ab)c\"\n"
	    "  }\n"
	    "}}\n";
	struct jdoc	*doc;
	struct metric	*m;
	char		*cause = NULL, *errs;

	doc = jsonc_parse("job.json", text, strlen(text), &cause);
	ck_assert_ptr_nonnull(doc);
	m = metric_new(doc, cJSON_GetObjectItem(cJSON_GetObjectItem(doc->root,
	    "task"), "metric"), "task.metric");
	ck_assert_ptr_null(m);
	ck_assert_uint_eq(doc->nerrors, 1);
	errs = jv_errors(doc);
	ck_assert_str_eq(errs, "job.json:4:16: task.metric.extract: invalid "
	    "regex at offset 2: unmatched closing parenthesis");
	free(errs);
	jsonc_free(doc);

	assert_error("{\"type\": \"exact\", \"extract\": \"(abc\"}",
	    "task.metric.extract: invalid regex at offset 4: missing closing "
	    "parenthesis");
	assert_error("{\"type\": \"regex\", \"pattern\": \"a[b\"}",
	    "task.metric.pattern: invalid regex at offset 3: missing "
	    "terminating ] for character class");
	/* Offsets count the {{expected}} placeholder as written. */
	assert_error("{\"type\": \"regex\", \"pattern\": \"{{expected}}(x\"}",
	    "task.metric.pattern: invalid regex at offset 14:");
	assert_error("{\"type\": \"regex\", \"pattern\": \"{{expected}}"
	    "{{expected}}a)\"}", "invalid regex at offset 25:");
	/* An error in extract and in pattern: both are reported. */
	assert_error("{\"type\": \"regex\", \"pattern\": \"(\", \"extract\": "
	    "\"(\"}", "task.metric.pattern: invalid regex");
	assert_error("{\"type\": \"regex\", \"pattern\": \"(\", \"extract\": "
	    "\"(\"}", "task.metric.extract: invalid regex");
}
END_TEST

/* Extraction. */

START_TEST(test_extract)
{
	struct metric	*m;
	char		*a;

	m = metric_ok("{\"type\": \"exact\", \"extract\": "
	    "\"Answer:\\\\s*(?<answer>\\\\w+)\"}");
	ck_assert_ptr_nonnull(m->extract);
	ck_assert_str_eq(m->extract_src, "Answer:\\s*(?<answer>\\w+)");
	a = metric_extract(m, "I think... Answer: positive. Answer: negative");
	ck_assert_str_eq(a, "positive");
	free(a);
	ck_assert_ptr_null(metric_extract(m, "no label here"));
	ck_assert_ptr_null(metric_extract(m, ""));
	metric_free(m);

	/* Without a named group the whole match is the answer. */
	m = metric_ok("{\"type\": \"exact\", \"extract\": \"-?\\\\d+\"}");
	a = metric_extract(m, "between 12 and -7");
	ck_assert_str_eq(a, "12");
	free(a);
	metric_free(m);

	/* A named group that did not take part: no answer. */
	m = metric_ok("{\"type\": \"exact\", \"extract\": "
	    "\"(?<answer>\\\\d+)|none\"}");
	ck_assert_ptr_null(metric_extract(m, "none at all"));
	a = metric_extract(m, "none 5");
	ck_assert_ptr_null(a);
	metric_free(m);

	/* No pattern: a copy of the output. */
	m = metric_ok("\"exact\"");
	a = metric_extract(m, "as is ");
	ck_assert_str_eq(a, "as is ");
	free(a);
	metric_free(m);

	/* UTF-8: "." takes whole characters. */
	m = metric_ok("{\"type\": \"exact\", \"extract\": "
	    "\"«(?<answer>..)»\"}");
	a = metric_extract(m, "résumé: «çé»");
	ck_assert_str_eq(a, "çé");
	free(a);
	/* Invalid UTF-8 in the output does not break matching. */
	a = metric_extract(m, "\xff\xfe «ab»");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a, "ab");
	free(a);
	metric_free(m);
}
END_TEST

START_TEST(test_extract_score)
{
	const char	*conf = "{\"type\": \"exact\", \"extract\": "
	    "\"(?i)answer:\\\\s*(?<answer>\\\\w+)\"}";

	ASSERT_SCORE(conf, "Reasoning... ANSWER: positive", "\"positive\"", 1);
	assert_feedback(conf, "Reasoning... answer: negative", "\"positive\"",
	    0, "expected 'positive', got 'negative'");
	assert_feedback(conf, "I refuse", "\"positive\"", 0,
	    "no answer found: the output did not match the extraction "
	    "pattern");
	assert_feedback(conf, "", "\"positive\"", 0, "no answer found");
}
END_TEST

/* exact. */

START_TEST(test_exact)
{
	char	*fb = (char *)1;
	double	 s;

	/* Default: white space only. */
	ASSERT_SCORE("\"exact\"", "  positive \n", "\"positive\"", 1);
	ASSERT_SCORE("\"exact\"", "very\t\n good", "\"very good\"", 1);
	ASSERT_SCORE("\"exact\"", "Positive", "\"positive\"", 0);
	ASSERT_SCORE("\"exact\"", "", "\"\"", 1);
	ASSERT_SCORE("\"exact\"", "   ", "\"\"", 1);
	ASSERT_SCORE("\"exact\"", "", "\"x\"", 0);
	assert_feedback("\"exact\"", "negative", "\"positive\"", 0,
	    "expected 'positive', got 'negative'");

	/* A score of 1 leaves feedback NULL. */
	s = score_fb("\"exact\"", "ok", "\"ok\"", &fb);
	ck_assert(s == 1);
	ck_assert_ptr_null(fb);

	/* Numbers and booleans are compared as their JSON text. */
	ASSERT_SCORE("\"exact\"", "42", "42", 1);
	ASSERT_SCORE("\"exact\"", "4.5", "4.5", 1);
	ASSERT_SCORE("\"exact\"", "true", "true", 1);
	ASSERT_SCORE("\"exact\"", "42.0", "42", 0);

	/* An array is "any of these". */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"case\"]}", "Y",
	    "[\"yes\", \"y\"]", 1);
	assert_feedback("\"exact\"", "no", "[\"yes\", \"y\"]", 0,
	    "expected one of 'yes', 'y', got 'no'");
	ASSERT_SCORE("\"exact\"", "x", "[]", 0);

	/* No expected value. */
	assert_feedback("\"exact\"", "x", NULL, 0, "no expected value");
}
END_TEST

START_TEST(test_normalize_each)
{
	/* case */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"case\"]}",
	    "PoSiTiVe", "\"positive\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"case\"]}",
	    " positive", "\"positive\"", 0);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": \"case\"}",
	    "Café", "\"café\"", 1);
	/* ASCII-only folding leaves other letters alone. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"case\"]}",
	    "CAFÉ", "\"café\"", 0);

	/* whitespace: trimmed and collapsed, Unicode spaces too. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"whitespace\"]}",
	    "\ta  \r\n b\xc2\xa0" "c\xe3\x80\x80", "\"a b c\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"whitespace\"]}",
	    "ab", "\"a b\"", 0);

	/* punctuation: ASCII only, multibyte characters kept whole. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"punctuation\"]}",
	    "\"naïve!\"", "\"naïve\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"punctuation\"]}",
	    "don't.", "\"dont\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"punctuation\"]}",
	    "«naïve»", "\"naïve\"", 0);

	/* articles: whole words, any case, with their space. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"articles\"]}",
	    "The cat", "\"cat\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"articles\"]}",
	    "a cat sat on an", "\"cat sat on\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"articles\"]}",
	    "theme", "\"theme\"", 1);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"articles\"]}",
	    "theme", "\"me\"", 0);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"articles\"]}",
	    "the", "\"\"", 1);

	/* None at all. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": []}", "a ",
	    "\"a\"", 0);
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": []}", "a", "\"a\"",
	    1);

	/* All together. */
	ASSERT_SCORE("{\"type\": \"exact\", \"normalize\": [\"case\", "
	    "\"whitespace\", \"punctuation\", \"articles\"]}",
	    "  The Answer:  Paris! ", "\"answer paris\"", 1);
}
END_TEST

START_TEST(test_feedback_quote)
{
	char	*out, *fb = NULL, *q;
	size_t	 i, bad;

	/* Long outputs are cut near 80 bytes, never inside a character. */
	out = malloc(1 + 2 * 100 + 1);
	out[0] = 'a';
	for (i = 0; i < 100; i++)
		memcpy(out + 1 + 2 * i, "é", 2);
	out[201] = '\0';
	score_fb("\"exact\"", out, "\"x\"", &fb);
	ck_assert_ptr_nonnull(fb);
	ck_assert_msg(strlen(fb) < 120, "%s", fb);
	ck_assert(utf8_valid(fb, strlen(fb), &bad) == 0);
	ck_assert(strstr(fb, "é...'") != NULL);
	free(fb);
	free(out);

	q = metric_quote("line one\nline\ttwo");
	ck_assert_str_eq(q, "line one line two");
	free(q);
	q = metric_quote(NULL);
	ck_assert_str_eq(q, "");
	free(q);
}
END_TEST

/* contains. */

START_TEST(test_contains)
{
	ASSERT_SCORE("\"contains\"", "The answer is POSITIVE.",
	    "\"positive\"", 1);
	ASSERT_SCORE("\"contains\"", "The  answer\nis   Paris",
	    "\"answer is paris\"", 1);
	ASSERT_SCORE("\"contains\"", "", "\"positive\"", 0);
	ASSERT_SCORE("\"contains\"", "no", "[\"yes\", \"no\"]", 1);
	ASSERT_SCORE("{\"type\": \"contains\", \"normalize\": []}",
	    "The answer is POSITIVE.", "\"positive\"", 0);
	ASSERT_SCORE("\"contains\"", "crème brûlée", "\"BRÛLÉE\"", 0);
	ASSERT_SCORE("\"contains\"", "Crème brûlée", "\"crème\"", 1);
	assert_feedback("\"contains\"", "it is negative", "\"positive\"", 0,
	    "expected the output to contain 'positive', got 'it is "
	    "negative'");
}
END_TEST

/* regex. */

START_TEST(test_regex)
{
	const char	*tmpl = "{\"type\": \"regex\", \"pattern\": "
	    "\"\\\\b{{expected}}\\\\b\"}";
	struct metric	*m;
	cJSON		*exp;

	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"^\\\\d+$\"}", "123",
	    "null", 1);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"^\\\\d+$\"}", "12a",
	    "null", 0);
	/* No {{expected}}: an example without a target still scores. */
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"\\\\d\"}", "a1",
	    NULL, 1);
	assert_feedback("{\"type\": \"regex\", \"pattern\": \"^\\\\d+$\"}",
	    "", "null", 0, "expected the output to match /^\\d+$/, got ''");

	/* full: the whole output must match. */
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"\\\\d+\", "
	    "\"full\": true}", "123", NULL, 1);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"\\\\d+\", "
	    "\"full\": true}", "123a", NULL, 0);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"\\\\d+\", "
	    "\"full\": true}", "a123", NULL, 0);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"\\\\d+\", "
	    "\"full\": false}", "123a", NULL, 1);
	assert_feedback("{\"type\": \"regex\", \"pattern\": \"\\\\d+\", "
	    "\"full\": true}", "12 apples", NULL, 0, "fully match");

	/* Unicode in the pattern and the output. */
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"^ça.$\"}", "çaé",
	    NULL, 1);

	/* {{expected}} is quoted before compiling. */
	ASSERT_SCORE(tmpl, "it is 3.5 kg", "\"3.5\"", 1);
	ASSERT_SCORE(tmpl, "it is 3x5 kg", "\"3.5\"", 0);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": "
	    "\"^cost {{expected}}$\"}", "cost (a+b)*", "\"(a+b)*\"", 1);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": "
	    "\"^cost {{expected}}$\"}", "cost aab", "\"(a+b)*\"", 0);
	ASSERT_SCORE(tmpl, "value 42", "42", 1);
	ASSERT_SCORE(tmpl, "I say no", "[\"yes\", \"no\"]", 1);
	ASSERT_SCORE(tmpl, "I say maybe", "[\"yes\", \"no\"]", 0);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": \"^{{expected}}$\", "
	    "\"full\": true}", "a\\Eb", "\"a\\\\Eb\"", 1);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": "
	    "\"(?i)^answer: {{expected}}$\"}", "ANSWER: CAFÉ",
	    "\"café\"", 1);
	ASSERT_SCORE("{\"type\": \"regex\", \"pattern\": "
	    "\"(?i)^answer: {{expected}}$\"}", "ANSWER: CAFE",
	    "\"café\"", 0);
	assert_feedback(tmpl, "x", NULL, 0, "no expected value");

	/* The same metric scores against different expected values. */
	m = metric_ok(tmpl);
	exp = cJSON_CreateString("a.b");
	ck_assert(metric_score(m, "is a.b", exp, NULL) == 1);
	cJSON_Delete(exp);
	exp = cJSON_CreateString("c");
	ck_assert(metric_score(m, "is a.b", exp, NULL) == 0);
	cJSON_Delete(exp);
	metric_free(m);
}
END_TEST

/* f1. */

START_TEST(test_f1)
{
	char	*fb = NULL;
	double	 s;

	ASSERT_SCORE("\"f1\"", "The Cat sat on the mat.", "\"a cat on a mat\"",
	    6.0 / 7.0);
	ASSERT_SCORE("\"f1\"", "Barack Obama", "\"Obama\"", 2.0 / 3.0);
	ASSERT_SCORE("\"f1\"", "Obama!", "\"obama\"", 1);
	ASSERT_SCORE("\"f1\"", "x x y", "\"x y y\"", 2.0 / 3.0);
	ASSERT_SCORE("\"f1\"", "nothing shared", "\"other words\"", 0);
	/* No tokens on either side: only "no tokens" matches. */
	ASSERT_SCORE("\"f1\"", "", "\"the\"", 1);
	ASSERT_SCORE("\"f1\"", "", "\"x\"", 0);
	ASSERT_SCORE("\"f1\"", "x", "\"\"", 0);
	/* Several references: the best one counts. */
	ASSERT_SCORE("\"f1\"", "Barack Obama", "[\"Bush\", \"Obama\", "
	    "\"Barack Hussein Obama\"]", 0.8);
	ASSERT_SCORE("\"f1\"", "naïve café", "\"café\"", 2.0 / 3.0);

	s = score_fb("\"f1\"", "Barack Obama", "\"Obama\"", &fb);
	ck_assert(fabs(s - 2.0 / 3.0) < 1e-9);
	ck_assert_str_eq(fb, "token F1 0.67: expected 'Obama', got 'Barack "
	    "Obama'");
	free(fb);
}
END_TEST

/* set. */

START_TEST(test_set)
{
	ASSERT_SCORE("\"set\"", "b, a ,C", "[\"a\", \"b\", \"c\"]", 1);
	ASSERT_SCORE("\"set\"", "a,,b,", "\"a,b\"", 1);
	ASSERT_SCORE("\"set\"", "a, a, b", "\"b, a\"", 1);
	ASSERT_SCORE("\"set\"", "", "[]", 1);
	ASSERT_SCORE("\"set\"", "", "[\"a\"]", 0);
	ASSERT_SCORE("\"set\"", "New  York, paris", "[\"new york\", "
	    "\"Paris\"]", 1);
	ASSERT_SCORE("\"set\"", "1, 2", "[1, 2]", 1);

	/* Separators. */
	ASSERT_SCORE("{\"type\": \"set\", \"separator\": \";\"}", "a; b; d",
	    "\"a;b\"", 2.0 / 3.0);
	ASSERT_SCORE("{\"type\": \"set\", \"separator\": \" and \"}",
	    "red and green and blue", "[\"blue\", \"red\", \"green\"]", 1);
	ASSERT_SCORE("{\"type\": \"set\", \"separator\": \"\\n\"}",
	    "a, b\nc\n", "[\"a, b\", \"c\"]", 1);
	/* The default separator does not split on ";". */
	ASSERT_SCORE("\"set\"", "a; b", "[\"a\", \"b\"]", 0);

	/* Scores. */
	ASSERT_SCORE("{\"type\": \"set\", \"separator\": \";\", \"score\": "
	    "\"exact\"}", "a; b; d", "\"a;b\"", 0);
	ASSERT_SCORE("{\"type\": \"set\", \"score\": \"exact\"}", "b,a",
	    "\"a,b\"", 1);
	ASSERT_SCORE("{\"type\": \"set\", \"score\": \"f1\"}", "a, b, d",
	    "[\"a\", \"b\"]", 0.8);
	ASSERT_SCORE("{\"type\": \"set\", \"score\": \"f1\"}", "x",
	    "[\"a\", \"b\"]", 0);
	ASSERT_SCORE("{\"type\": \"set\", \"score\": \"jaccard\"}", "a, d",
	    "[\"a\", \"b\"]", 1.0 / 3.0);

	assert_feedback("\"set\"", "a, d", "[\"a\", \"b\", \"c\"]", 0.25,
	    "missing 'b', 'c'; unexpected 'd'");
	assert_feedback("\"set\"", "a, b, e", "[\"a\", \"b\"]", 2.0 / 3.0,
	    "unexpected 'e'");
	assert_feedback("\"set\"", "x", NULL, 0, "no expected value");
}
END_TEST

/* number. */

START_TEST(test_number_formats)
{
	ASSERT_SCORE("\"number\"", "The total is 1,234.5", "1234.5", 1);
	ASSERT_SCORE("\"number\"", "1,234,567 people", "1234567", 1);
	ASSERT_SCORE("\"number\"", "-3", "-3", 1);
	ASSERT_SCORE("\"number\"", "x=-3", "-3", 1);
	ASSERT_SCORE("\"number\"", "+3", "3", 1);
	ASSERT_SCORE("\"number\"", "\xe2\x88\x92" "4", "-4", 1);
	/* A hyphen after a digit is not a sign. */
	ASSERT_SCORE("\"number\"", "5-3", "-3", 0);
	ASSERT_SCORE("\"number\"", "It costs $12", "12", 1);
	ASSERT_SCORE("\"number\"", "a loss of -$12", "-12", 1);
	ASSERT_SCORE("\"number\"", "a loss of $-12.50", "-12.5", 1);
	ASSERT_SCORE("\"number\"", "up 50%", "50", 1);
	ASSERT_SCORE("\"number\"", "first 3, then 4", "4", 1);
	ASSERT_SCORE("\"number\"", "The answer is 7.", "7", 1);
	ASSERT_SCORE("\"number\"", "1.5e3", "1500", 1);
	ASSERT_SCORE("\"number\"", "about 2E-2 of it", "0.02", 1);
	ASSERT_SCORE("\"number\"", "3 eggs", "3", 1);
	ASSERT_SCORE("\"number\"", "only .5 left", "0.5", 1);
	/* "1,2" is a list, not a thousands separator. */
	ASSERT_SCORE("\"number\"", "1,2", "2", 1);
	ASSERT_SCORE("\"number\"", "1,2345", "2345", 1);
	ASSERT_SCORE("\"number\"", "12345,678", "678", 1);

	/* The expected value may be a numeric string (CSV). */
	ASSERT_SCORE("\"number\"", "1234", "\"1,234\"", 1);
	ASSERT_SCORE("\"number\"", "$5", "\"#### 5\"", 1);
	assert_feedback("\"number\"", "5", "\"five\"", 0,
	    "the expected value 'five' is not a number");
	assert_feedback("\"number\"", "5", "true", 0, "is not a number");
	assert_feedback("\"number\"", "5", NULL, 0, "no expected value");
}
END_TEST

START_TEST(test_number_tolerance)
{
	assert_feedback("\"number\"", "first 3, then 41", "42", 0,
	    "expected 42, got 41");
	assert_feedback("\"number\"", "none", "42", 0,
	    "expected 42, but the output has no number: 'none'");
	assert_feedback("\"number\"", "", "42", 0, "has no number");
	assert_feedback("\"number\"", "3.14", "3.14159", 0,
	    "expected 3.14159, got 3.14");

	ASSERT_SCORE("\"number\"", "0.30000000000000004", "0.3", 1);
	ASSERT_SCORE("{\"type\": \"number\", \"abs_tol\": 0.01}", "3.14",
	    "3.14159", 1);
	ASSERT_SCORE("{\"type\": \"number\", \"tolerance\": 0.01}", "3.14",
	    "3.14159", 1);
	ASSERT_SCORE("{\"type\": \"number\", \"abs_tol\": 0.001}", "3.14",
	    "3.14159", 0);
	ASSERT_SCORE("{\"type\": \"number\", \"rel_tol\": 0.1}", "95", "100",
	    1);
	ASSERT_SCORE("{\"type\": \"number\", \"rel_tol\": 0.1}", "89", "100",
	    0);
	ASSERT_SCORE("{\"type\": \"number\", \"rel_tol\": 0.1}", "-95", "-100",
	    1);
	/* The larger of the two tolerances applies. */
	ASSERT_SCORE("{\"type\": \"number\", \"rel_tol\": 0.01, "
	    "\"abs_tol\": 0.5}", "0.4", "0", 1);
}
END_TEST

/* json. */

START_TEST(test_json)
{
	const char	*exp = "{\"a\": 1, \"b\": \"x\"}";

	ASSERT_SCORE("\"json\"", "{\"b\": \"x\", \"a\": 1}", exp, 1);
	ASSERT_SCORE("\"json\"", "  {\"a\": 1.0000000001, \"b\": \"x\"}\n",
	    exp, 1);
	ASSERT_SCORE("\"json\"", "{\"a\": 1.001, \"b\": \"x\"}", exp, 0.5);
	/* A fenced block. */
	assert_feedback("\"json\"", "Here you go:\n```json\n{\"a\": 1, "
	    "\"b\": \"y\"}\n```\nDone.", exp, 0.5,
	    "field 'b': expected \"x\", got \"y\"");
	/* Prose around it, and braces that are not JSON before it. */
	ASSERT_SCORE("\"json\"", "Sure! {\"a\": 1, \"b\": \"x\"} Hope it "
	    "helps {", exp, 1);
	ASSERT_SCORE("\"json\"", "Use {braces} like {\"a\": 1, \"b\": \"x\"}.",
	    exp, 1);
	ASSERT_SCORE("\"json\"", "The result: {\"a\": 1, \"b\": \"}{\"}", exp,
	    0.5);
	/* Not JSON at all. */
	assert_feedback("\"json\"", "not json", exp, 0,
	    "output is not valid JSON");
	assert_feedback("\"json\"", "", exp, 0, "output is not valid JSON");
	assert_feedback("\"json\"", "{\"a\": 1, \"b\": ", exp, 0,
	    "output is not valid JSON");
	/* Missing, extra and wrong-typed fields. */
	assert_feedback("\"json\"", "{\"a\": 1}", exp, 0.5,
	    "field 'b' is missing");
	ASSERT_SCORE("\"json\"", "{\"a\": 1, \"b\": \"x\", \"c\": 3}", exp, 1);
	ASSERT_SCORE("\"json\"", "{\"a\": \"1\", \"b\": \"x\"}", exp, 0.5);
	assert_feedback("\"json\"", "[1, 2]", exp, 0,
	    "expected a JSON object, got an array");
	/* "fields" picks what counts. */
	ASSERT_SCORE("{\"type\": \"json\", \"fields\": [\"a\"]}",
	    "{\"a\": 1, \"b\": \"nope\"}", exp, 1);
	ASSERT_SCORE("{\"type\": \"json\", \"fields\": [\"a\", \"c\"]}",
	    "{\"a\": 1}", exp, 1);
	assert_feedback("{\"type\": \"json\", \"fields\": [\"a\", \"c\"]}",
	    "{\"a\": 1, \"c\": 2}", exp, 0.5, "field 'c' should be absent");
	/* The expected object as a JSON string (a CSV cell). */
	ASSERT_SCORE("\"json\"", "{\"a\": 1, \"b\": \"x\"}",
	    "\"{\\\"a\\\": 1, \\\"b\\\": \\\"x\\\"}\"", 1);
	/* Nested values compare deeply, objects in any order. */
	ASSERT_SCORE("\"json\"", "{\"n\": {\"y\": [1, {\"z\": null}], "
	    "\"x\": true}}", "{\"n\": {\"x\": true, \"y\": [1, {\"z\": "
	    "null}]}}", 1);
	ASSERT_SCORE("\"json\"", "{\"n\": {\"x\": true, \"y\": [1]}}",
	    "{\"n\": {\"x\": true, \"y\": [1, 2]}}", 0);
	ASSERT_SCORE("\"json\"", "{\"n\": {\"x\": false}}",
	    "{\"n\": {\"x\": true}}", 0);
	/* A non-object expected value is compared whole. */
	ASSERT_SCORE("\"json\"", "```\n[1, 2, 3]\n```", "[1, 2, 3]", 1);
	assert_feedback("\"json\"", "[1, 2]", "[1, 2, 3]", 0,
	    "expected [1,2,3], got [1,2]");
	ASSERT_SCORE("\"json\"", "{}", "{}", 1);
	ASSERT_SCORE("\"json\"", "{\"s\": \"héllo ✓\"}",
	    "{\"s\": \"héllo ✓\"}", 1);
	assert_feedback("\"json\"", "{}", NULL, 0, "no expected value");
}
END_TEST

/* judge. */

/* The content of message i of a judge request. */
static const char *
msg_content(const cJSON *msgs, int i, const char *role)
{
	const cJSON	*msg = cJSON_GetArrayItem(msgs, i);

	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(cJSON_GetObjectItem(msg, "role")->valuestring, role);
	return cJSON_GetObjectItem(msg, "content")->valuestring;
}

/* Checks that the needles appear in s in this order. */
static void
assert_in_order(const char *s, const char *const *needles)
{
	const char	*p = s, *q;

	for (; *needles != NULL; needles++) {
		q = strstr(p, *needles);
		ck_assert_msg(q != NULL, "'%s' not found (in order) in '%s'",
		    *needles, s);
		p = q + strlen(*needles);
	}
}

START_TEST(test_judge_rubric_messages)
{
	static const char *const with_ref[] = {
		"<input>\nWhat is 2+2?\n</input>",
		"<response>\nIt is 4.\n</response>",
		"<reference>\n4\n</reference>",
		"<rubric>\nBe right.\n</rubric>",
		"Score: N", NULL
	};
	static const char *const defaults[] = {
		"<input>\nQ\n</input>", "<response>\nA\n</response>",
		"<rubric>\n", "Correct", "Complete", "Clear", "Concise",
		"\n</rubric>", "Score: N", NULL
	};
	struct metric	*m;
	cJSON		*msgs;
	const char	*user;

	m = metric_ok("{\"type\": \"judge\", \"rubric\": \"Be right.\"}");
	ck_assert(metric_needs_judge(m));
	msgs = metric_judge_messages(m, "What is 2+2?", "It is 4.", "4", 0);
	ck_assert(cJSON_IsArray(msgs));
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
	ck_assert(strlen(msg_content(msgs, 0, "system")) > 0);
	user = msg_content(msgs, 1, "user");
	assert_in_order(user, with_ref);
	ck_assert(strstr(user, "1 (poor) to 10") != NULL);
	cJSON_Delete(msgs);

	/* No reference: no reference tag. */
	msgs = metric_judge_messages(m, "What is 2+2?", "It is 4.", NULL, 0);
	user = msg_content(msgs, 1, "user");
	ck_assert(strstr(user, "<reference>") == NULL);
	ck_assert(strstr(user, "<rubric>\nBe right.\n</rubric>") != NULL);
	cJSON_Delete(msgs);
	metric_free(m);

	/* The default rubric. */
	m = metric_ok("\"judge\"");
	msgs = metric_judge_messages(m, "Q", "A", NULL, 0);
	assert_in_order(msg_content(msgs, 1, "user"), defaults);
	cJSON_Delete(msgs);
	metric_free(m);

	m = metric_ok("\"exact\"");
	ck_assert(!metric_needs_judge(m));
	metric_free(m);
}
END_TEST

START_TEST(test_judge_pairwise_messages)
{
	static const char *const fwd[] = {
		"<input>\nQ\n</input>",
		"<response_a>\nmine\n</response_a>",
		"<response_b>\ntheirs\n</response_b>",
		"<rubric>\n", "</rubric>",
		"Winner: A", "Winner: B", "Winner: tie", NULL
	};
	static const char *const rev[] = {
		"<input>\nQ\n</input>",
		"<response_a>\ntheirs\n</response_a>",
		"<response_b>\nmine\n</response_b>", "<rubric>\n", NULL
	};
	struct metric	*m;
	cJSON		*msgs;
	const char	*user;

	m = metric_ok("{\"type\": \"judge\", \"mode\": \"pairwise\"}");
	msgs = metric_judge_messages(m, "Q", "mine", "theirs", 0);
	user = msg_content(msgs, 1, "user");
	assert_in_order(user, fwd);
	ck_assert(strstr(user, "<response>") == NULL);
	ck_assert(strstr(user, "Score:") == NULL);
	cJSON_Delete(msgs);

	msgs = metric_judge_messages(m, "Q", "mine", "theirs", 1);
	assert_in_order(msg_content(msgs, 1, "user"), rev);
	cJSON_Delete(msgs);
	metric_free(m);
}
END_TEST


START_TEST(test_judge_score)
{
	char	*fb = NULL;
	double	 s;

	s = score_fb("\"judge\"", "anything", "\"x\"", &fb);
	ck_assert(s == 0);
	ck_assert_msg(fb != NULL && strstr(fb, "judge") != NULL, "%s", fb);
	free(fb);
}
END_TEST

static Suite *
metric_suite(void)
{
	Suite	*s = suite_create("metric");
	TCase	*tc;

	tc = tcase_create("config");
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_bare_string);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_wrong_option_type);
	tcase_add_test(tc, test_regex_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("extract");
	tcase_add_test(tc, test_extract);
	tcase_add_test(tc, test_extract_score);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_normalize_each);
	tcase_add_test(tc, test_feedback_quote);
	tcase_add_test(tc, test_contains);
	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_f1);
	tcase_add_test(tc, test_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("number");
	tcase_add_test(tc, test_number_formats);
	tcase_add_test(tc, test_number_tolerance);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("judge");
	tcase_add_test(tc, test_judge_rubric_messages);
	tcase_add_test(tc, test_judge_pairwise_messages);
	tcase_add_test(tc, test_judge_score);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(metric_suite)
