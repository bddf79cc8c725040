/*
 * Tests for the optimizer requests of a step asked together
 * (search_ask_many): they are in the engine together, each is sent as it
 * would be alone (its sample number), the repair turns go together, the
 * replies are read and stored in array order whatever order they come
 * in, and a budget that runs out partway refuses the rest without a
 * warning.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "backend.h"
#include "check_common.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* What the in-process optimizer saw, call by call. */
struct seen {
	struct engine	*engine;
	unsigned	 sample[64];
	size_t		 nmsgs[64];	/* 3 for a repair turn */
	int		 busy[64];	/* others waited in the engine */
	size_t		 n;
};
static struct seen	seen;

/*
 * Answers at once with a prompt naming the request's sample, except the
 * first turn of a request whose meta-prompt says "unreadable": that gets
 * a reply without a <prompt> element, so a repair turn follows.
 */
static int
seen_call(struct backend *b, const struct model_req *req,
    struct model_resp *resp, char **cause)
{
	if (seen.n < nitems(seen.sample)) {
		seen.sample[seen.n] = req->sample;
		seen.nmsgs[seen.n] = req->nmsgs;
		seen.busy[seen.n] = engine_busy(seen.engine);
		seen.n++;
	}
	if (req->nmsgs == 1 && strstr(req->msgs[0].content, "unreadable") !=
	    NULL)
		resp->text = xstrdup("Nothing to see here.");
	else
		resp->text = xasprintf("<prompt>Tell the review's mood in one "
		    "word, take %u.</prompt>", req->sample);
	resp->prompt_tokens = 10;
	resp->completion_tokens = 10;
	return 0;
}

static const struct backend_ops seen_ops = {
	.name = "seen",
	.call = seen_call,
};

/* The sentiment job with optimizer opt (a backend object) and extra keys. */
static struct job *
ask_job(const char *opt, const char *extra)
{
	struct job	*job;
	char		*text;

	text = xasprintf("{ \"name\": \"asks\", " CHECK_SENTIMENT_TASK ","
	    " \"seed_prompts\": [\"Classify the sentiment of the review.\"],"
	    " \"backends\": { \"sim\": { \"type\": \"sim\" }, \"opt\": %s },"
	    " \"roles\": { \"target\": \"sim\", \"optimizer\": \"opt\" },"
	    " \"strategy\": { \"name\": \"ape\", \"pool\": 20, \"per_ask\":"
	    " 5 } %s }", opt, extra);
	job = check_job(check_dir, text);
	free(text);
	return job;
}

/* A run of job on db, started: its search is the one asked. */
struct run {
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
};

static void
run_start(struct run *r, struct job *job, const char *db)
{
	char	*cause = NULL;

	r->store = store_open(db, &cause);
	ck_assert_msg(r->store != NULL, "%s", cause);
	r->loop = engine_loop_new(r->store);
	ck_assert_msg(jobrun_start(&r->jr, job, r->loop, "optimize",
	    &cause) == 0, "%s", cause);
}

static void
run_end(struct run *r)
{
	jobrun_release(&r->jr);
	engine_loop_free(r->loop);
	store_close(r->store);
}

/* n requests of evo_paraphrase, request i about prompts[i]. */
static void
asks_set(struct search_ask *a, struct meta_var *v, const char *const *prompts,
    size_t n)
{
	size_t	i;

	memset(a, 0, n * sizeof *a);
	for (i = 0; i < n; i++) {
		v[2 * i].name = "prompt";
		v[2 * i].value = prompts[i];
		v[2 * i + 1].name = "count";
		v[2 * i + 1].value = "1";
		a[i].name = "evo_paraphrase";
		a[i].vars = &v[2 * i];
		a[i].nvars = 2;
		a[i].temperature = 1;
		a[i].max = 4;
	}
}

/* The optimizer's outcomes (and prompts kept) in the order stored. */
static char *
outcomes(const char *db)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*all = xstrdup(""), *next;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT outcome, kept FROM"
	    " outcomes WHERE role = 'optimizer' ORDER BY id", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		next = xasprintf("%s%s%s:%d", all, *all != '\0' ? " " : "",
		    (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1));
		free(all);
		all = next;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return all;
}

/*
 * Five requests go to the engine before the first is answered; each
 * has the sample it would have had alone; the two whose replies could
 * not be used are repaired together; the outcomes are stored in order.
 */
START_TEST(test_together)
{
	static const char *const prompts[] = { "Say the mood.",
	    "unreadable one", "Name the feeling.", "unreadable two",
	    "Judge the tone." };
	struct search_ask	 a[5];
	struct meta_var		 v[10];
	struct backend		 fb;
	struct job		*job;
	struct run		 r;
	struct search		*s;
	char			 name[] = "seen", identity[] = "seen";
	char			 model[] = "m", **one, *cause = NULL, *got;
	char			 want[64];
	unsigned		 base;
	size_t			 i;
	int			 n;

	job = ask_job("{ \"type\": \"sim\" }", "");
	memset(&fb, 0, sizeof fb);
	fb.ops = &seen_ops;
	fb.name = name;
	fb.identity = identity;
	fb.model = model;
	fb.temperature = -1;
	fb.batch = 1;
	fb.max_in_flight = 8;
	job->task.roles[ROLE_OPTIMIZER] = &fb;
	run_start(&r, job, check_db);
	s = &r.jr.search;
	memset(&seen, 0, sizeof seen);
	seen.engine = s->engine;

	/* One request alone: nothing else waits while it is answered. */
	n = search_ask(s, "evo_paraphrase", NULL, 0, 1, 4, &one, NULL, &cause);
	ck_assert_msg(n == 1, "%s", cause);
	free(one[0]);
	free(one);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_int_eq(seen.busy[0], 0);

	base = s->asks;
	asks_set(a, v, prompts, 5);
	ck_assert_msg(search_ask_many(s, a, 5, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(s->asks, base + 5);
	/* Five first turns, then two repair turns, each round together. */
	ck_assert_uint_eq(seen.n, 1 + 5 + 2);
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(seen.sample[1 + i], s->step * 100000 +
		    (base + i) * 4);
		ck_assert_uint_eq(seen.nmsgs[1 + i], 1);
	}
	ck_assert_int_eq(seen.busy[1], 1);
	ck_assert_uint_eq(seen.sample[6], (base + 1) * 4 + 1);
	ck_assert_uint_eq(seen.sample[7], (base + 3) * 4 + 1);
	ck_assert_uint_eq(seen.nmsgs[6], 3);
	ck_assert_int_eq(seen.busy[6], 1);
	/* Request i's reply in a[i]: its own sample's answer. */
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(a[i].n, 1);
		snprintf(want, sizeof want, "take %u.", (base + (unsigned)i) *
		    4 + (i == 1 || i == 3));
		ck_assert_msg(strstr(a[i].parts[0], want) != NULL, "%zu: %s",
		    i, a[i].parts[0]);
	}
	search_ask_release(a, 5);
	ck_assert_uint_eq(s->failed_asks, 2);
	ck_assert_uint_eq(s->usable_asks, 1 + 5);
	got = outcomes(check_db);
	ck_assert_str_eq(got, "usable:1 usable:1 unreadable:0 usable:1 "
	    "unreadable:0 usable:1 repaired:1 repaired:1");
	free(got);

	/* None at all: nothing is asked. */
	ck_assert_int_eq(search_ask_many(s, a, 0, &cause), 0);
	ck_assert_uint_eq(seen.n, 8);
	run_end(&r);
	job->task.roles[ROLE_OPTIMIZER] = NULL;
	job_free(job);
}
END_TEST

/*
 * A program that answers request k (its meta-prompt says "ask-k") of n,
 * with k + 1 prompts, only once all n are running and every later one
 * has answered: the replies come last first.  A request still alone
 * after a long while answers "alone" instead, so that the test fails
 * rather than hangs.
 */
static char *
reverse_script(size_t n)
{
	FILE	*f;
	char	*path;

	path = xasprintf("%s/reverse.sh", check_dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "d='%s/reverse'; n=%zu\n"
	    "req=$(cat)\n"
	    "k=$(printf '%%s' \"$req\" | sed -n 's/.*ask-\\([0-9]*\\).*/\\1/p'"
	    " | head -n 1)\n"
	    "s=$(printf '%%s' \"$req\" | sed -n 's/.*\"sample\": *\\([0-9]*\\)"
	    ".*/\\1/p' | head -n 1)\n"
	    ": >\"$d/in-$k\"\n"
	    "t=0\n"
	    "while [ \"$(ls \"$d\" | grep -c '^in-')\" -lt $n ]; do\n"
	    "	t=$((t + 1))\n"
	    "	if [ $t -gt 3000 ]; then echo \"<prompt>alone $k</prompt>\";"
	    " exit 0; fi\n"
	    "	sleep 0.01\n"
	    "done\n"
	    "j=$((k + 1))\n"
	    "while [ $j -lt $n ] && [ $t -le 6000 ]; do\n"
	    "	if [ -e \"$d/out-$j\" ]; then j=$((j + 1)); continue; fi\n"
	    "	t=$((t + 1))\n"
	    "	sleep 0.01\n"
	    "done\n"
	    "i=0\n"
	    "while [ $i -le $k ]; do\n"
	    "	echo \"<prompt>Answer $i for ask $k, sample $s.</prompt>\"\n"
	    "	i=$((i + 1))\n"
	    "done\n"
	    ": >\"$d/out-$k\"\n", check_dir, n);
	fclose(f);
	return path;
}

/*
 * Four requests to a program that answers them only when all four are
 * running, last first: each reply is read into its own request and the
 * outcomes are stored in the order asked (request k kept k + 1 prompts).
 */
START_TEST(test_reverse)
{
	static const char *const prompts[] = { "ask-0 mood", "ask-1 mood",
	    "ask-2 mood", "ask-3 mood" };
	struct search_ask	 a[4];
	struct meta_var		 v[8];
	struct job		*job;
	struct run		 r;
	struct search		*s;
	char			*script, *opt, *dir, *cause = NULL, *got;
	char			 want[64];
	unsigned		 base;
	size_t			 i;

	script = reverse_script(4);
	dir = xasprintf("%s/reverse", check_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	opt = xasprintf("{ \"type\": \"exec\", \"command\": [\"/bin/sh\","
	    " \"%s\"], \"max_in_flight\": 8 }", script);
	job = ask_job(opt, "");
	run_start(&r, job, check_db);
	s = &r.jr.search;
	base = s->asks;
	asks_set(a, v, prompts, 4);
	ck_assert_msg(search_ask_many(s, a, 4, &cause) == 0, "%s", cause);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(a[i].n, (int)i + 1);
		snprintf(want, sizeof want, "for ask %zu, sample %u.", i,
		    (base + (unsigned)i) * 4);
		ck_assert_msg(strstr(a[i].parts[0], want) != NULL, "%zu: %s",
		    i, a[i].parts[0]);
	}
	search_ask_release(a, 4);
	got = outcomes(check_db);
	ck_assert_str_eq(got, "usable:1 usable:2 usable:3 usable:4");
	free(got);
	run_end(&r);
	job_free(job);
	free(opt);
	free(dir);
	free(script);
}
END_TEST

/* The log file's text (the caller frees it). */
static char *
log_text(const char *path)
{
	char	*text, *cause = NULL;

	ck_assert_msg(file_read(path, 1 << 20, &text, NULL, &cause) == 0,
	    "%s", cause);
	return text;
}

/*
 * A budget that runs out within a batch: the engine refuses the rest,
 * which get nothing, store no outcome and warn of nothing.
 */
START_TEST(test_budget)
{
	static const char *const prompts[] = { "Say the mood.",
	    "Name the feeling.", "Judge the tone.", "Tell the verdict.",
	    "Read the review." };
	struct search_ask	 a[5];
	struct meta_var		 v[10];
	struct run_totals	 t;
	struct job		*job;
	struct run		 r;
	struct search		*s;
	char			*path, *text, *cause = NULL;
	size_t			 i;

	path = xasprintf("%s/log", check_dir);
	log_init("check_ask", 0, path);
	log_setverbose(1);
	job = ask_job("{ \"type\": \"sim\" }", "");
	run_start(&r, job, check_db);
	s = &r.jr.search;
	engine_totals(s->engine, &t);
	job->budget.max_calls = t.calls + 3;
	asks_set(a, v, prompts, 5);
	ck_assert_msg(search_ask_many(s, a, 5, &cause) == 0, "%s", cause);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(a[i].n > 0, i < 3);
	search_ask_release(a, 5);
	ck_assert_int_eq(engine_stopped(s->engine), ENGINE_MAX_CALLS);
	ck_assert_uint_eq(s->failed_asks, 0);
	text = outcomes(check_db);
	ck_assert_str_eq(text, "usable:1 usable:1 usable:1");
	free(text);
	run_end(&r);
	job_free(job);
	text = log_text(path);
	ck_assert_msg(strstr(text, "optimizer: ") == NULL, "%s", text);
	free(text);
	free(path);
}
END_TEST

/*
 * A whole run whose budget runs out within ape's first batch of four
 * requests: it ends exhausted, saying why, without a warning about the
 * requests refused.
 */
START_TEST(test_budget_run)
{
	struct job	*job;
	struct run	 r;
	char		*db, *path, *text, *cause = NULL;
	long long	 before;
	int		 rc;

	/* How many calls the seeds take before the first request. */
	job = ask_job("{ \"type\": \"sim\" }", "");
	run_start(&r, job, check_db);
	ck_assert_msg(jobrun_step(&r.jr, &cause) >= 0, "%s", cause);
	run_end(&r);
	job_free(job);
	before = check_count(check_db, "SELECT count(*) FROM calls WHERE "
	    "status = 'ok' AND id < (SELECT min(id) FROM calls WHERE role ="
	    " 'optimizer')");
	ck_assert_int_gt(before, 0);

	path = xasprintf("%s/log", check_dir);
	log_init("check_ask", 0, path);
	text = xasprintf(", \"budget\": { \"max_calls\": %lld }", before + 2);
	job = ask_job("{ \"type\": \"sim\" }", text);
	free(text);
	db = xasprintf("%s/budget.db", check_dir);
	run_start(&r, job, db);
	while ((rc = jobrun_step(&r.jr, &cause)) == 1)
		;
	ck_assert_msg(rc == 0, "%s", cause);
	ck_assert_msg(jobrun_finish(&r.jr, &cause) == 0, "%s", cause);
	ck_assert_str_eq(r.jr.status, "exhausted");
	ck_assert_msg(strstr(r.jr.reason, "max_calls reached") != NULL, "%s",
	    r.jr.reason);
	run_end(&r);
	job_free(job);
	ck_assert_int_eq(check_count(db, "SELECT count(*) FROM calls WHERE "
	    "role = 'optimizer' AND status = 'ok'"), 2);
	ck_assert_int_eq(check_count(db, "SELECT count(*) FROM outcomes"), 2);
	text = log_text(path);
	ck_assert_msg(strstr(text, "optimizer: ") == NULL, "%s", text);
	free(text);
	free(path);
	free(db);
}
END_TEST

static Suite *
ask_suite(void)
{
	Suite	*s = suite_create("ask");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, check_sentiment_setup,
	    check_sentiment_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_together);
	tcase_add_test(tc, test_reverse);
	tcase_add_test(tc, test_budget);
	tcase_add_test(tc, test_budget_run);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ask_suite)
