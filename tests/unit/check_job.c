/* Tests for job files and promptd.conf: the examples load, defaults,
 * requests, feedback, risk and synthetic settings, durations, configured
 * backends, and the man page documents every key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "check_common.h"
#include "conf.h"
#include "dataset.h"
#include "job.h"
#include "metric.h"
#include "util.h"
#include "xmalloc.h"

static char	*tmp;

static void
setup(void)
{
	FILE	*f;
	char	*p;

	tmp = check_tmpdir();
	p = xasprintf("%s/data.jsonl", tmp);
	f = fopen(p, "w");
	fputs("{\"text\": \"good\", \"label\": \"positive\"}\n"
	    "{\"text\": \"bad\", \"label\": \"negative\"}\n"
	    "{\"text\": \"fine\", \"label\": \"positive\"}\n"
	    "{\"text\": \"awful\", \"label\": \"negative\"}\n", f);
	fclose(f);
	free(p);
}

static void
teardown(void)
{
	check_rmtree(tmp);
	free(tmp);
}

static char *
write_file(const char *name, const char *text)
{
	char	*p = xasprintf("%s/%s", tmp, name);
	FILE	*f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	return p;
}

static struct job *
load(const char *text, const struct conf *conf, char **cause)
{
	char		*p = write_file("job.json", text);
	struct job	*job;

	*cause = NULL;
	job = job_load(p, conf, cause);
	free(p);
	return job;
}

START_TEST(test_examples_load)
{
	static const char *const names[] = { "sentiment", "arith", "rewrite" };
	struct job	*job;
	char		*p, *cause = NULL;
	size_t		 i;

	for (i = 0; i < nitems(names); i++) {
		p = xasprintf("%s/examples/%s/job.json", TEST_SRCDIR, names[i]);
		job = job_load(p, NULL, &cause);
		ck_assert_msg(job != NULL, "%s: %s", p, cause);
		ck_assert_str_eq(job->task.name, names[i]);
		ck_assert_int_gt((int)job->nseeds, 1);
		ck_assert_ptr_nonnull(job->task.roles[ROLE_TARGET]);
		ck_assert_int_gt((int)dataset_count(job->task.dataset,
		    SPLIT_DEV), 10);
		job_free(job);
		free(p);
	}
}
END_TEST

START_TEST(test_defaults_and_requests)
{
	struct job		*job;
	struct model_req	 req;
	char			*cause;

	job = load("{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"Review: {{text}}\", \"target\": \"label\","
	    " \"metric\": \"exact\" }, \"seed_prompts\": [\"Classify.\"],"
	    " \"backends\": { \"s\": { \"type\": \"sim\" } },"
	    " \"roles\": { \"target\": \"s\" } }", NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->task.placement, PLACE_SYSTEM);
	ck_assert(job->alpha == 0.05);
	ck_assert(job->min_delta == 0);
	ck_assert_int_eq(job->cache, CACHE_ON);
	ck_assert_int_eq((int)job->task.seed, 1);
	ck_assert(job->task.split[1] == 0.5);
	task_build_request(&job->task, "Classify.", 0, &req);
	ck_assert_uint_eq(req.nmsgs, 2);
	ck_assert_int_eq(req.msgs[0].role, MSG_SYSTEM);
	ck_assert_str_eq(req.msgs[0].content, "Classify.");
	ck_assert_int_eq(req.msgs[1].role, MSG_USER);
	ck_assert_str_eq(req.msgs[1].content, "Review: good");
	model_req_release(&req);
	job_free(job);

	job = load("{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"{{prompt}}\\n{{text}}\", \"target\": \"label\","
	    " \"metric\": \"exact\" }, \"seed_prompts\": [\"Classify.\"],"
	    " \"backends\": { \"s\": { \"type\": \"sim\" } },"
	    " \"roles\": { \"target\": \"s\" }, \"cache\": \"read\","
	    " \"budget\": { \"max_calls\": 5, \"deadline\": \"1h30m\" } }",
	    NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->task.placement, PLACE_INLINE);
	ck_assert_int_eq(job->cache, CACHE_READ);
	ck_assert_int_eq((int)job->budget.max_calls, 5);
	ck_assert(job->budget.deadline == 5400);
	task_build_request(&job->task, "Classify.", 1, &req);
	ck_assert_uint_eq(req.nmsgs, 1);
	ck_assert_str_eq(req.msgs[0].content, "Classify.\nbad");
	model_req_release(&req);
	job_free(job);
}
END_TEST

START_TEST(test_placement_conflict)
{
	struct job	*job;
	char		*cause;

	job = load("{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"{{text}}\", \"prompt\": \"inline\","
	    " \"target\": \"label\", \"metric\": \"exact\" },"
	    " \"seed_prompts\": [\"x\"], \"backends\": { \"s\": { \"type\":"
	    " \"sim\" } }, \"roles\": { \"target\": \"s\" } }", NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(strstr(cause, "task.input: the prompt is placed "
	    "inline but the template has no {{prompt}}"));
	free(cause);
}
END_TEST

/* A job on data.jsonl with more members (text ending in a comma). */
#define FEEDBACK_JOB(more)						\
	"{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","	\
	" \"input\": \"{{text}}\", \"target\": \"label\", \"metric\":"	\
	" \"exact\" }, \"seed_prompts\": [\"x\"], \"backends\": { \"s\":"	\
	" { \"type\": \"sim\" } }, " more " \"roles\": { \"target\":"	\
	" \"s\" } }"

START_TEST(test_feedback_key)
{
	static const struct {
		const char	*member;
		const char	*error;
	} bad[] = {
		{ "\"feedback\": 3,", "feedback: expected a string or an "
		    "object" },
		{ "\"feedback\": { \"users\": \"drop\" },",
		    "feedback.path: missing (required)" },
		{ "\"feedback\": { \"path\": \"f\", \"users\": \"hide\" },",
		    "feedback.users: " },
		{ "\"feedback\": { \"path\": \"f\", \"user\": \"drop\" },",
		    "feedback.user: unknown key (did you mean 'users'?)" },
		{ "\"feedbak\": \"f\",", "feedbak: unknown key (did you mean "
		    "'feedback'?)" },
	};
	struct job	*job;
	char		*cause, *want;
	size_t		 i;

	job = load(FEEDBACK_JOB(""), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_ptr_null(job->feedback_path);
	ck_assert_int_eq(job_feedback_users(job->spec), USERS_HASH);
	job_free(job);

	job = load(FEEDBACK_JOB("\"feedback\": \"logs/f.jsonl\","), NULL,
	    &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	want = xasprintf("%s/logs/f.jsonl", tmp);
	ck_assert_str_eq(job->feedback_path, want);
	free(want);
	ck_assert_int_eq(job->feedback_users, USERS_HASH);
	ck_assert_int_eq(job_feedback_users(job->spec), USERS_HASH);
	job_free(job);

	job = load(FEEDBACK_JOB("\"feedback\": { \"path\": \"/var/f\","
	    " \"users\": \"drop\" },"), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_str_eq(job->feedback_path, "/var/f");
	ck_assert_int_eq(job->feedback_users, USERS_DROP);
	ck_assert_int_eq(job_feedback_users(job->spec), USERS_DROP);
	ck_assert_str_eq(job_users_name(USERS_KEEP), "keep");
	job_free(job);

	for (i = 0; i < nitems(bad); i++) {
		want = xasprintf(FEEDBACK_JOB("%s"), bad[i].member);
		ck_assert_ptr_null(load(want, NULL, &cause));
		ck_assert_msg(strstr(cause, bad[i].error) != NULL, "%s: %s",
		    bad[i].member, cause);
		free(cause);
		free(want);
	}
}
END_TEST

START_TEST(test_risk)
{
	static const struct {
		const char	*member;
		const char	*error;
	} bad[] = {
		{ "\"risk\": { \"max\": 0.2 },", "risk.measure: missing" },
		{ "\"risk\": { \"measure\": \"tail\", \"max\": 0.2 },",
		    "risk.measure: " },
		{ "\"risk\": { \"measure\": \"share_below\", \"max\":"
		    " 0.2 },", "risk.threshold: missing" },
		{ "\"risk\": { \"measure\": \"share_below\","
		    " \"threshold\": 0.5 },", "risk.max: missing" },
		{ "\"risk\": { \"measure\": \"quantile\", \"quantile\":"
		    " 1, \"max\": 0.2 },", "risk.quantile: must be between" },
		{ "\"risk\": { \"measure\": \"quantile\", \"quantile\":"
		    " 0.9, \"threshold\": 0.5, \"max\": 0.2 },",
		    "risk.threshold: only for measure 'share_below'" },
		{ "\"risk\": { \"measure\": \"share_below\", \"threshold\":"
		    " 0.5, \"max\": 0.2, \"confidence\": 1 },",
		    "risk.confidence: must be less than 1" },
		{ "\"risk\": { \"measure\": \"share_below\", \"threshold\":"
		    " 0.5, \"max\": 0.2, \"confidance\": 0.9 },",
		    "risk.confidance: unknown key" },
	};
	struct job	*job;
	char		*cause, *want;
	size_t		 i;

	job = load(FEEDBACK_JOB(""), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->risk.measure, RISK_NONE);
	job_free(job);

	job = load(FEEDBACK_JOB("\"risk\": { \"measure\": \"share_below\","
	    " \"threshold\": 0.5, \"max\": 0.2 },"), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->risk.measure, RISK_SHARE_BELOW);
	ck_assert_double_eq(job->risk.threshold, 0.5);
	ck_assert_double_eq(job->risk.max, 0.2);
	ck_assert_double_eq(job->risk.confidence, 0.9);
	ck_assert_str_eq(job_risk_name(job->risk.measure), "share_below");
	job_free(job);

	job = load(FEEDBACK_JOB("\"risk\": { \"measure\": \"quantile\","
	    " \"quantile\": 0.9, \"max\": 0.6, \"confidence\": 0.95 },"),
	    NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->risk.measure, RISK_QUANTILE);
	ck_assert_double_eq(job->risk.quantile, 0.9);
	ck_assert_double_eq(job->risk.max, 0.6);
	ck_assert_double_eq(job->risk.confidence, 0.95);
	ck_assert_ptr_null(job_risk_name(RISK_NONE));
	job_free(job);

	for (i = 0; i < nitems(bad); i++) {
		want = xasprintf(FEEDBACK_JOB("%s"), bad[i].member);
		ck_assert_ptr_null(load(want, NULL, &cause));
		ck_assert_msg(strstr(cause, bad[i].error) != NULL, "%s: %s",
		    bad[i].member, cause);
		free(cause);
		free(want);
	}
}
END_TEST

/* The feedback job without its dataset. */
#define NO_DATASET_JOB(more)						\
	"{ \"name\": \"j\", \"task\": { \"input\": \"{{text}}\","	\
	" \"target\": \"label\", \"metric\": \"exact\" },"		\
	" \"seed_prompts\": [\"x\"], \"backends\": { \"s\":"		\
	" { \"type\": \"sim\" } }, " more " \"roles\": { \"target\":"	\
	" \"s\" } }"

START_TEST(test_feedback_examples)
{
	struct job	*job;
	char		*cause;

	/* The default, and each value. */
	job = load(FEEDBACK_JOB("\"feedback\": \"f\","), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->feedback_examples, EXAMPLES_EDITS);
	job_free(job);
	job = load(FEEDBACK_JOB("\"feedback\": { \"path\": \"f\","
	    " \"examples\": \"edits+rated\" },"), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->feedback_examples, EXAMPLES_RATED);
	ck_assert_str_eq(job_examples_name(job->feedback_examples),
	    "edits+rated");
	job_free(job);
	job = load(FEEDBACK_JOB("\"feedback\": { \"path\": \"f\","
	    " \"examples\": \"off\" },"), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->feedback_examples, EXAMPLES_OFF);
	job_free(job);
	ck_assert_ptr_null(load(FEEDBACK_JOB("\"feedback\": { \"path\":"
	    " \"f\", \"examples\": \"edit\" },"), NULL, &cause));
	ck_assert_msg(strstr(cause, "feedback.examples: unknown value 'edit' "
	    "(did you mean 'edits'?)") != NULL, "%s", cause);
	free(cause);

	/* With feedback, no dataset: an empty one, no fields to check. */
	job = load(NO_DATASET_JOB("\"feedback\": \"f\","), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_ptr_nonnull(job->task.dataset);
	ck_assert_ptr_null(job->task.dataset->path);
	ck_assert_uint_eq(job->task.dataset->n, 0);
	ck_assert_uint_eq(job->task.dataset->nfile, 0);
	ck_assert_str_eq(job->task.dataset->hash, "e3b0c44298fc1c149afbf4c8"
	    "996fb92427ae41e4649b934ca495991b7852b855");
	job_free(job);
	/* Without feedback, the same error as ever. */
	ck_assert_ptr_null(load(NO_DATASET_JOB(""), NULL, &cause));
	ck_assert_msg(strstr(cause, "task.dataset: missing (required)") !=
	    NULL, "%s", cause);
	free(cause);
	/* Feedback that makes no examples is no dataset either. */
	ck_assert_ptr_null(load(NO_DATASET_JOB("\"feedback\": { \"path\":"
	    " \"f\", \"examples\": \"off\" },"), NULL, &cause));
	ck_assert_msg(strstr(cause, "task.dataset: missing (required when "
	    "feedback.examples is 'off'") != NULL, "%s", cause);
	free(cause);
}
END_TEST

/* A job with synthetic examples: dataset (or none), roles and more. */
#define SYNTH_JOB(dataset, more, roles)					\
	"{ \"name\": \"j\", \"task\": { " dataset " \"input\":"	\
	" \"{{text}}\", \"target\": \"label\", \"metric\": \"exact\" },"	\
	" \"seed_prompts\": [\"x\"], \"backends\": { \"s\":"		\
	" { \"type\": \"sim\" } }, " more " \"roles\": { \"target\":"	\
	" \"s\"" roles " } }"
#define SYNTH_ROLES	", \"optimizer\": \"s\", \"judge\": \"s\""

START_TEST(test_synthetic)
{
	static const struct {
		const char	*member;
		const char	*error;
	} bad[] = {
		{ "\"synthetic\": true,", "synthetic: expected an object" },
		{ "\"synthetic\": { \"examples\": 0 },",
		    "synthetic.examples: 0 is out of range (expected 1 to 50)" },
		{ "\"synthetic\": { \"examples\": 2.5 },",
		    "synthetic.examples: " },
		{ "\"synthetic\": { \"labeler\": \"people \" },",
		    "synthetic.labeler: unknown value 'people ' (did you mean "
		    "'people'?)" },
		{ "\"synthetic\": { \"until\": 0 },",
		    "synthetic.until: 0 is out of range" },
		{ "\"synthetic\": { \"untill\": 5 },",
		    "synthetic.untill: unknown key (did you mean 'until'?)" },
	};
	struct job	*job;
	char		*cause, *want;
	size_t		 i;

	/* Off unless set; the defaults; each value. */
	job = load(SYNTH_JOB("\"dataset\": \"data.jsonl\",", "",
	    SYNTH_ROLES), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->synthetic.on, 0);
	job_free(job);
	job = load(SYNTH_JOB("\"dataset\": \"data.jsonl\",",
	    "\"synthetic\": {},", SYNTH_ROLES), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->synthetic.on, 1);
	ck_assert_int_eq(job->synthetic.examples, 10);
	ck_assert_int_eq(job->synthetic.labeler, LABELER_JUDGE);
	ck_assert_int_eq(job->synthetic.until, 50);
	ck_assert_str_eq(job_labeler_name(job->synthetic.labeler), "judge");
	job_free(job);
	/* People label without a judge; a job may have no dataset. */
	job = load(SYNTH_JOB("", "\"synthetic\": { \"examples\": 4,"
	    " \"labeler\": \"people\", \"until\": 12 },",
	    ", \"optimizer\": \"s\""), NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_int_eq(job->synthetic.examples, 4);
	ck_assert_int_eq(job->synthetic.labeler, LABELER_PEOPLE);
	ck_assert_int_eq(job->synthetic.until, 12);
	ck_assert_ptr_null(job->task.dataset->path);
	ck_assert_uint_eq(job->task.dataset->n, 0);
	job_free(job);

	/* What it needs: the optimizer, and the judge for its labels. */
	ck_assert_ptr_null(load(SYNTH_JOB("", "\"synthetic\": {},", ""),
	    NULL, &cause));
	ck_assert_msg(strstr(cause, "roles.optimizer: missing (required by "
	    "\"synthetic\"") != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "roles.judge: missing (required by "
	    "synthetic.labeler 'judge'") != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "task.dataset") == NULL, "%s", cause);
	free(cause);
	/* And the target, where the labels go. */
	ck_assert_ptr_null(load("{ \"name\": \"j\", \"task\": {"
	    " \"dataset\": \"data.jsonl\", \"input\": \"{{text}}\","
	    " \"metric\": \"contains\" }, \"seed_prompts\": [\"x\"],"
	    " \"backends\": { \"s\": { \"type\": \"sim\" } },"
	    " \"synthetic\": {}, \"roles\": { \"target\": \"s\""
	    SYNTH_ROLES " } }", NULL, &cause));
	ck_assert_msg(strstr(cause, "task.target: missing (required by "
	    "\"synthetic\": the labels are written there)") != NULL, "%s",
	    cause);
	free(cause);

	for (i = 0; i < nitems(bad); i++) {
		want = xasprintf(SYNTH_JOB("\"dataset\": \"data.jsonl\",",
		    "%s", SYNTH_ROLES), bad[i].member);
		ck_assert_ptr_null(load(want, NULL, &cause));
		ck_assert_msg(strstr(cause, bad[i].error) != NULL, "%s: %s",
		    bad[i].member, cause);
		free(cause);
		free(want);
	}
}
END_TEST

START_TEST(test_durations)
{
	double	d;

	ck_assert_int_eq(duration_parse("90", &d), 0);
	ck_assert(d == 90);
	ck_assert_int_eq(duration_parse("90s", &d), 0);
	ck_assert(d == 90);
	ck_assert_int_eq(duration_parse("2d3h", &d), 0);
	ck_assert(d == 2 * 86400 + 3 * 3600);
	ck_assert_int_eq(duration_parse("1.5h", &d), 0);
	ck_assert(d == 5400);
	ck_assert_int_eq(duration_parse("", &d), -1);
	ck_assert_int_eq(duration_parse("soon", &d), -1);
	ck_assert_int_eq(duration_parse("5x", &d), -1);
	ck_assert_int_eq(duration_parse("1h30", &d), -1);
	ck_assert_int_eq(duration_parse("-5", &d), -1);
}
END_TEST

START_TEST(test_conf_backends)
{
	struct conf	*conf;
	struct model_resp r;
	struct job	*job;
	char		*p, *cause = NULL;

	p = write_file("promptd.conf", "// shared backends\n{\n"
	    "  \"database\": \"state/x.db\",\n"
	    "  \"prices\": { \"m1\": { \"input\": 1.5, \"output\": 3 } },\n"
	    "  \"backends\": { \"shared\": { \"type\": \"sim\", \"model\": "
	    "\"m1\" },\n    \"priced\": { \"type\": \"sim\", \"model\": \"m1\","
	    " \"price\": { \"input\": 9, \"output\": 9 } } }\n}\n");
	conf = conf_load(p, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	free(p);
	ck_assert_uint_eq(conf->nbackends, 2);
	ck_assert(conf->backends[0]->price.input == 1.5);
	ck_assert(conf->backends[0]->price.output == 3);
	ck_assert(conf->backends[1]->price.input == 9);
	p = xasprintf("%s/state/x.db", tmp);
	ck_assert_str_eq(conf->database, p);
	free(p);
	memset(&r, 0, sizeof r);
	r.prompt_tokens = 1000000;
	r.completion_tokens = 500000;
	ck_assert(backend_cost(conf->backends[0], &r) == 3.0);

	job = load("{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"{{text}}\", \"target\": \"label\", \"metric\":"
	    " \"exact\" }, \"seed_prompts\": [\"x\"], \"roles\": { \"target\":"
	    " \"shared\", \"judge\": \"priced\" } }", conf, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	ck_assert_ptr_eq(job->task.roles[ROLE_TARGET], conf->backends[0]);
	ck_assert_ptr_eq(job->task.roles[ROLE_JUDGE], conf->backends[1]);
	job_free(job);

	/* Without the configuration, the same job names unknown backends. */
	job = load("{ \"name\": \"j\", \"task\": { \"dataset\": \"data.jsonl\","
	    " \"input\": \"{{text}}\", \"target\": \"label\", \"metric\":"
	    " \"exact\" }, \"seed_prompts\": [\"x\"], \"roles\": { \"target\":"
	    " \"shared\" } }", NULL, &cause);
	ck_assert_ptr_null(job);
	ck_assert_ptr_nonnull(strstr(cause, "no backend named 'shared' (none "
	    "are defined"));
	free(cause);
	cause = NULL;
	conf_free(conf);

	/* An explicit configuration file must exist. */
	p = xasprintf("%s/missing.conf", tmp);
	ck_assert_ptr_null(conf_load(p, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "missing.conf"));
	free(cause);
	free(p);
}
END_TEST

START_TEST(test_conf_default_missing)
{
	struct conf	*conf;
	char		*cause = NULL;

	setenv("XDG_CONFIG_HOME", tmp, 1);
	setenv("HOME", tmp, 1);
	unsetenv("PROMPTD_CONF");
	conf = conf_load(NULL, &cause);
	if (access("/etc/promptd.conf", F_OK) != 0) {
		ck_assert_ptr_nonnull(conf);
		ck_assert_ptr_null(conf->path);
		ck_assert_uint_eq(conf->nbackends, 0);
	}
	conf_free(conf);
	free(cause);
}
END_TEST

struct man_pages {
	char	*conf;
	char	*sim;
	int	 missing;
};

static int
man_lists(const char *page, const char *key)
{
	char	*needle;
	int	 found;

	needle = xasprintf("\n.It Ic %s ", key);
	found = strstr(page, needle) != NULL;
	free(needle);
	needle = xasprintf("\n.It Ic %s\n", key);
	found = found || strstr(page, needle) != NULL;
	free(needle);
	return found;
}

struct man_check {
	char	*page;
	int	 missing;
};

static void
man_has_key(const char *path, void *arg)
{
	struct man_check	*mc = arg;

	if (!man_lists(mc->page, path)) {
		fprintf(stderr, "promptd-job(5) does not document '%s'\n",
		    path);
		mc->missing++;
	}
}

START_TEST(test_man_documents_every_key)
{
	struct man_check	 mc;
	char			*p, *cause = NULL;

	p = xasprintf("%s/man/promptd-job.5", TEST_SRCDIR);
	ck_assert_int_eq(file_read(p, 1 << 20, &mc.page, NULL, &cause), 0);
	mc.missing = 0;
	job_foreach_key(man_has_key, &mc);
	ck_assert_int_eq(mc.missing, 0);
	free(mc.page);
	free(p);
}
END_TEST

static void
man_has_backend_key(const char *type, const char *key, void *arg)
{
	struct man_pages	*mp = arg;
	const char		*page;

	page = type != NULL && strcmp(type, "sim") == 0 ? mp->sim : mp->conf;
	if (!man_lists(page, key)) {
		fprintf(stderr, "no manual documents backend key '%s' (%s)\n",
		    key, type != NULL ? type : "common");
		mp->missing++;
	}
}

START_TEST(test_man_documents_every_backend_key)
{
	struct man_pages	 mp;
	char			*p, *cause = NULL;

	p = xasprintf("%s/man/promptd.conf.5", TEST_SRCDIR);
	ck_assert_int_eq(file_read(p, 1 << 20, &mp.conf, NULL, &cause), 0);
	free(p);
	p = xasprintf("%s/man/promptd-sim.7", TEST_SRCDIR);
	ck_assert_int_eq(file_read(p, 1 << 20, &mp.sim, NULL, &cause), 0);
	free(p);
	mp.missing = 0;
	backend_foreach_key(man_has_backend_key, &mp);
	ck_assert_int_eq(mp.missing, 0);
	free(mp.conf);
	free(mp.sim);
}
END_TEST

static Suite *
job_suite(void)
{
	Suite	*s = suite_create("job");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_examples_load);
	tcase_add_test(tc, test_defaults_and_requests);
	tcase_add_test(tc, test_placement_conflict);
	tcase_add_test(tc, test_feedback_key);
	tcase_add_test(tc, test_risk);
	tcase_add_test(tc, test_feedback_examples);
	tcase_add_test(tc, test_synthetic);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_conf_backends);
	tcase_add_test(tc, test_conf_default_missing);
	tcase_add_test(tc, test_man_documents_every_key);
	tcase_add_test(tc, test_man_documents_every_backend_key);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(job_suite)
