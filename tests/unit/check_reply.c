/*
 * Tests for the reply reader (src/reply.c): every case of the corpus in
 * tests/replies/ (real-looking replies of chat models, each with what the
 * reader must make of it), then the reader's parts one by one.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "reply.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define CORPUS	TEST_SRCDIR "/tests/replies"

/* One corpus case, as read from its file. */
struct rcase {
	char	*name;
	char	*kind;		/* elements, verdict or grade */
	char	*tag;
	size_t	 max;
	size_t	 limit;
	char	*outcome;
	char	*expect[32];	/* elements; or one verdict or grade */
	size_t	 nexpect;
	char	*meta;
	char	*reply;
};

/* White space collapsed and trimmed, for comparing element texts. */
static char *
squeeze(const char *s)
{
	struct strbuf	sb;
	int		space = 0;

	strbuf_init(&sb);
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			strbuf_addc(&sb, ' ');
		space = 0;
		strbuf_addc(&sb, *s);
	}
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

static int
directive(const char *line, const char *word, const char **arg)
{
	size_t	n = strlen(word);

	if (line[0] != '@' || strncmp(line + 1, word, n) != 0 ||
	    (line[1 + n] != '\0' && line[1 + n] != ' ' && line[1 + n] != '\n'))
		return 0;
	for (*arg = line + 1 + n; **arg == ' '; (*arg)++)
		;
	return 1;
}

static const char *const block_words[] = {
	"kind", "tag", "max", "limit", "outcome", "expect", "meta", "reply",
	NULL
};

static int
is_directive(const char *line)
{
	const char	*arg;
	size_t		 i;

	for (i = 0; block_words[i] != NULL; i++)
		if (directive(line, block_words[i], &arg))
			return 1;
	return 0;
}

static char *
chomp(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Reads a case; a malformed file fails the test with its name. */
static void
rcase_read(const char *path, const char *name, struct rcase *c)
{
	char		*text, *line, *next, **block = NULL;
	const char	*arg;
	struct strbuf	 sb;
	char		*cause = NULL;

	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->tag = xstrdup("prompt");
	c->max = SIZE_MAX;
	c->limit = 8192;
	if (file_read(path, 1 << 20, &text, NULL, &cause) != 0)
		ck_abort_msg("%s", cause);
	strbuf_init(&sb);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (block == &c->reply) {
			strbuf_adds(&sb, line);
			if (next != NULL)
				strbuf_addc(&sb, '\n');
			continue;
		}
		if (!is_directive(line)) {
			if (block != NULL) {
				strbuf_adds(&sb, line);
				strbuf_addc(&sb, '\n');
			} else if (*line != '#' && *line != '\0')
				ck_abort_msg("%s: stray line '%s'", name, line);
			continue;
		}
		if (block != NULL) {
			*block = chomp(strbuf_detach(&sb));
			block = NULL;
		}
		if (directive(line, "kind", &arg))
			c->kind = xstrdup(arg);
		else if (directive(line, "tag", &arg)) {
			free(c->tag);
			c->tag = xstrdup(arg);
		} else if (directive(line, "max", &arg))
			c->max = strtoul(arg, NULL, 10);
		else if (directive(line, "limit", &arg))
			c->limit = strtoul(arg, NULL, 10);
		else if (directive(line, "outcome", &arg))
			c->outcome = xstrdup(arg);
		else if (directive(line, "meta", &arg))
			block = &c->meta;
		else if (directive(line, "reply", &arg))
			block = &c->reply;
		else if (directive(line, "expect", &arg)) {
			ck_assert_msg(c->nexpect < nitems(c->expect),
			    "%s: too many @expect", name);
			if (*arg != '\0')
				c->expect[c->nexpect++] = chomp(
				    xstrdup(arg));
			else
				block = &c->expect[c->nexpect++];
		}
	}
	if (block != NULL)
		*block = chomp(strbuf_detach(&sb));
	strbuf_release(&sb);
	free(text);
	ck_assert_msg(c->kind != NULL, "%s: no @kind", name);
	ck_assert_msg(c->reply != NULL, "%s: no @reply", name);
}

static void
rcase_free(struct rcase *c)
{
	size_t	i;

	free(c->name);
	free(c->kind);
	free(c->tag);
	free(c->outcome);
	for (i = 0; i < c->nexpect; i++)
		free(c->expect[i]);
	free(c->meta);
	free(c->reply);
}

/* Runs one case; returns a description of what differs, or NULL. */
static char *
rcase_run(const struct rcase *c)
{
	struct reply_read	 r;
	struct strbuf		 sb;
	enum verdict		 v;
	double			 g;
	char			*want, *got;
	size_t			 i;

	strbuf_init(&sb);
	if (strcmp(c->kind, "verdict") == 0) {
		v = reply_verdict(c->reply, NULL);
		if (c->nexpect != 1 || strcmp(verdict_name(v),
		    c->expect[0]) != 0)
			strbuf_addf(&sb, "verdict %s, expected %s",
			    verdict_name(v), c->nexpect > 0 ? c->expect[0] :
			    "(nothing)");
	} else if (strcmp(c->kind, "grade") == 0) {
		if (!reply_grade(c->reply, &g, NULL))
			got = xstrdup("none");
		else
			got = xasprintf("%g", g);
		if (c->nexpect != 1 || strcmp(got, c->expect[0]) != 0)
			strbuf_addf(&sb, "grade %s, expected %s", got,
			    c->nexpect > 0 ? c->expect[0] : "(nothing)");
		free(got);
	} else {
		reply_read(c->reply, c->tag, c->meta, c->meta, c->limit,
		    c->max, &r);
		if (c->outcome != NULL && strcmp(reply_outcome_name(r.outcome),
		    c->outcome) != 0)
			strbuf_addf(&sb, "outcome %s (%s), expected %s; ",
			    reply_outcome_name(r.outcome), r.problem != NULL ?
			    r.problem : "", c->outcome);
		if (r.n != c->nexpect)
			strbuf_addf(&sb, "%zu elements, expected %zu; ", r.n,
			    c->nexpect);
		for (i = 0; i < r.n && i < c->nexpect; i++) {
			got = squeeze(r.items[i]);
			want = squeeze(c->expect[i]);
			if (strcmp(got, want) != 0)
				strbuf_addf(&sb, "element %zu:\n  got  [%s]\n"
				    "  want [%s]\n", i + 1, got, want);
			free(got);
			free(want);
		}
		reply_read_release(&r);
	}
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_corpus)
{
	DIR		*d;
	struct dirent	*de;
	struct rcase	 c;
	char		**names = NULL, *path, *diff;
	size_t		 n = 0, i, failed = 0, kinds[3] = { 0, 0, 0 };

	ck_assert_ptr_nonnull(d = opendir(CORPUS));
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) < 5 || strcmp(de->d_name +
		    strlen(de->d_name) - 4, ".txt") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", CORPUS, names[i]);
		rcase_read(path, names[i], &c);
		kinds[strcmp(c.kind, "verdict") == 0 ? 1 :
		    strcmp(c.kind, "grade") == 0 ? 2 : 0]++;
		if ((diff = rcase_run(&c)) != NULL) {
			fprintf(stderr, "%s: %s\n", c.name, diff);
			failed++;
			free(diff);
		}
		rcase_free(&c);
		free(path);
		free(names[i]);
	}
	free(names);
	ck_assert_msg(kinds[0] >= 40 && kinds[1] >= 25 && kinds[2] >= 8,
	    "the corpus is too small: %zu element, %zu verdict, %zu grade "
	    "cases", kinds[0], kinds[1], kinds[2]);
	ck_assert_msg(failed == 0, "%zu of %zu corpus cases failed (see "
	    "above)", failed, n);
}
END_TEST

START_TEST(test_tags)
{
	char	**out;
	size_t	  n;

	/* Any case, attributes, line breaks in the opening tag. */
	n = reply_elements("<Prompt id=\"1\">One.</PROMPT> <prompt\n"
	    "  score=\"0.5\"\n>Two.</ prompt >", "prompt", &out);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0], "One.");
	ck_assert_str_eq(out[1], "Two.");
	free(out[0]);
	free(out[1]);
	free(out);
	/* Mentions: inline code, "tags", placeholders. */
	n = reply_elements("I use `<prompt>...</prompt>` and put it in "
	    "<prompt> tags, between <prompt> and </prompt>:\n<prompt>Real "
	    "one.</prompt>", "prompt", &out);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0], "Real one.");
	free(out[0]);
	free(out);
	/* Reopened before closed; the last one unclosed. */
	n = reply_elements("<prompt>draft <prompt>Final.</prompt>\n"
	    "<prompt>Open to the end.\n```", "prompt", &out);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0], "Final.");
	ck_assert_str_eq(out[1], "Open to the end.");
	free(out[0]);
	free(out[1]);
	free(out);
	ck_assert_uint_eq(reply_elements("no tags at all", "prompt", &out), 0);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(reply_elements("<prompt/> <prompt></prompt>",
	    "prompt", &out), 0);
}
END_TEST

START_TEST(test_clean)
{
	static const char *const cases[][2] = {
		{ "```\nSay it.\n```", "Say it." },
		{ "```text\nSay it.\n```", "Say it." },
		{ "\"Say it.\"", "Say it." },
		{ "\xe2\x80\x9cSay it.\xe2\x80\x9d", "Say it." },
		{ "'Don't say it.'", "Don't say it." },
		{ "**Improved prompt:** Say it.", "Say it." },
		{ "Prompt: Say it.", "Say it." },
		{ "### New Prompt\nSay it.", "Say it." },
		{ "Sure! Here is the improved prompt:\n\n```\n\"Say it.\"\n```",
		  "Say it." },
		{ "Say it.\n\nLet me know if you want changes.", "Say it." },
		{ "Say \"yes\" or \"no\".", "Say \"yes\" or \"no\"." },
		{ "**Rules**\n- one\n- two", "**Rules**\n- one\n- two" },
		{ "# Task\nClassify the review.", "# Task\nClassify the review." },
		{ "Answer with a number:\n{{question}}",
		  "Answer with a number:\n{{question}}" },
	};
	size_t	i;
	char	*s;

	for (i = 0; i < nitems(cases); i++) {
		s = reply_clean(cases[i][0], strlen(cases[i][0]));
		ck_assert_msg(strcmp(s, cases[i][1]) == 0, "case %zu: [%s]", i,
		    s);
		free(s);
	}
}
END_TEST

START_TEST(test_unthink)
{
	char	*s;

	s = reply_unthink("<think>maybe <prompt>draft</prompt></think>\n"
	    "<prompt>Final.</prompt>");
	ck_assert_str_eq(s, "\n<prompt>Final.</prompt>");
	free(s);
	s = reply_unthink("reasoning without its opening tag</think>Answer");
	ck_assert_str_eq(s, "Answer");
	free(s);
	s = reply_unthink("<think>cut off by max_tokens");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_read)
{
	struct reply_read	 r;
	const char		*meta = "Improve this prompt.  Think about the "
	    "errors it makes on the examples and write a better prompt for "
	    "the task.\n<prompt>Classify the review.</prompt>";

	/* The parent given back is an echo; a new one is kept. */
	reply_read("<prompt>classify the review</prompt>", "prompt", meta,
	    meta, 8192, 4, &r);
	ck_assert_int_eq(r.outcome, REPLY_ECHO);
	ck_assert_uint_eq(r.echoes, 1);
	ck_assert_ptr_nonnull(r.problem);
	reply_read_release(&r);
	reply_read("Restating: <prompt>Classify the review.</prompt> My "
	    "answer: <prompt>Say positive or negative.</prompt>", "prompt",
	    meta, meta, 8192, 1, &r);
	ck_assert_int_eq(r.outcome, REPLY_USABLE);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.items[0], "Say positive or negative.");
	reply_read_release(&r);
	/* The instructions restated as the prompt. */
	reply_read("<prompt>Think about the errors it makes on the examples "
	    "and write a better prompt for the task.</prompt>", "prompt",
	    meta, meta, 8192, 4, &r);
	ck_assert_int_eq(r.outcome, REPLY_ECHO);
	reply_read_release(&r);
	/* Too long, refused, unreadable, empty. */
	reply_read("<prompt>A prompt that is long.</prompt>", "prompt", NULL,
	    NULL, 10, 4, &r);
	ck_assert_int_eq(r.outcome, REPLY_TOO_LONG);
	ck_assert_uint_eq(r.longest, 22);
	reply_read_release(&r);
	reply_read("I'm sorry, but I can't help with that.", "prompt", NULL,
	    NULL, 0, 4, &r);
	ck_assert_int_eq(r.outcome, REPLY_REFUSED);
	reply_read_release(&r);
	reply_read("### Improved Prompt\n\nSay it.", "prompt", NULL, NULL, 0,
	    4, &r);
	ck_assert_int_eq(r.outcome, REPLY_UNREADABLE);
	ck_assert_str_eq(r.problem, "no <prompt> element found");
	reply_read_release(&r);
	reply_read("", "prompt", NULL, NULL, 0, 4, &r);
	ck_assert_int_eq(r.outcome, REPLY_UNREADABLE);
	ck_assert_str_eq(r.problem, "the reply is empty");
	reply_read_release(&r);
	/* Duplicates within a reply count once; the rationale is kept. */
	reply_read("Why: shorter.\n<prompt>Be brief.</prompt><prompt>be "
	    "brief</prompt>", "prompt", NULL, NULL, 0, 4, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.found, 2);
	ck_assert_str_eq(r.rationale, "Why: shorter.");
	reply_read_release(&r);
}
END_TEST

START_TEST(test_norm)
{
	char	*a, *b;

	a = reply_norm("  **Classify**   the \"review\".  ");
	b = reply_norm("classify the review");
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	ck_assert_int_eq(reply_restates("short text", "short text", "prompt"),
	    0);
}
END_TEST

START_TEST(test_verdicts)
{
	static const struct {
		const char	*reply;
		enum verdict	 v;
	} cases[] = {
		{ "Winner: A", VERDICT_A },
		{ "**Winner:** B", VERDICT_B },
		{ "winner: tie", VERDICT_TIE },
		{ "Winner: Tiebreaker", VERDICT_NONE },
		{ "[[C]]", VERDICT_TIE },
		{ "Final verdict: [[B]]", VERDICT_B },
		{ "Response A is better.", VERDICT_A },
		{ "Response A is not better than B.", VERDICT_NONE },
		{ "Response B is clearly worse.", VERDICT_A },
		{ "The winner is B.", VERDICT_B },
		{ "I prefer a shorter answer, so I prefer Response B.",
		  VERDICT_B },
		{ "Both responses are equally good.", VERDICT_TIE },
		{ "Good points on both sides.\n\n**B**", VERDICT_B },
		{ "I must end with \"Winner: A\", \"Winner: B\" or \"Winner: "
		  "tie\".\nA is clearer.\nWinner: A", VERDICT_A },
		{ "I must end with \"Winner: A\", \"Winner: B\" or \"Winner: "
		  "tie\".", VERDICT_NONE },
		{ "Response A is better.\nWinner: B", VERDICT_B },
		{ "<think>Winner: A</think>Winner: B", VERDICT_B },
		{ "", VERDICT_NONE },
		{ "Both fine.\n**Winner: tie**.", VERDICT_TIE },
		{ "**Winner:** b.", VERDICT_B },
		{ "Winner: Response B", VERDICT_B },
		{ "Winner: B\nWait, no.\nWinner: A", VERDICT_A },
		{ "They are the same.", VERDICT_NONE },
		{ "Winner: Alpha", VERDICT_NONE },
		{ "Score: 9", VERDICT_NONE },
		{ "Correctness: A is wrong.", VERDICT_NONE },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		ck_assert_msg(reply_verdict(cases[i].reply, NULL) ==
		    cases[i].v, "case %zu: %s", i, verdict_name(
		    reply_verdict(cases[i].reply, NULL)));
}
END_TEST

START_TEST(test_grades)
{
	double	g;
	size_t	at;

	ck_assert_int_eq(reply_grade("Good.\nScore: 7", &g, &at), 1);
	ck_assert_double_eq(g, 7);
	ck_assert_uint_eq(at, 6);
	ck_assert_int_eq(reply_grade("**Score:** 4/5", &g, NULL), 1);
	ck_assert_double_eq(g, 8);
	ck_assert_int_eq(reply_grade("Rating: [[6]]", &g, NULL), 1);
	ck_assert_double_eq(g, 6);
	ck_assert_int_eq(reply_grade("Fine.\n7/10", &g, NULL), 1);
	ck_assert_double_eq(g, 7);
	ck_assert_int_eq(reply_grade("Score: 0", &g, NULL), 1);
	ck_assert_double_eq(g, 1);
	ck_assert_int_eq(reply_grade("End with \"Score: N\".", &g, NULL), 0);
	ck_assert_int_eq(reply_grade("Fine.\nSCORE : 7 / 10", &g, NULL), 1);
	ck_assert_double_eq(g, 7);
	ck_assert_int_eq(reply_grade("Fine.\nScore: **9**.", &g, NULL), 1);
	ck_assert_double_eq(g, 9);
	ck_assert_int_eq(reply_grade("Score: 12", &g, NULL), 1);
	ck_assert_double_eq(g, 10);
	ck_assert_int_eq(reply_grade("I will end with Score: N.\nFirst "
	    "guess: Score: 3\nOn reflection it is better.\n  Score: 9  \n",
	    &g, &at), 1);
	ck_assert_double_eq(g, 9);
	ck_assert_uint_eq(at, 76);
	ck_assert_int_eq(reply_grade("Underscore: 5", &g, NULL), 0);
	ck_assert_int_eq(reply_grade("Scores: 5", &g, NULL), 0);
	ck_assert_int_eq(reply_grade(NULL, &g, NULL), 0);
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc = tcase_create("reply");

	tcase_add_test(tc, test_corpus);
	tcase_add_test(tc, test_tags);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_unthink);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_norm);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_grades);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(reply_suite)
