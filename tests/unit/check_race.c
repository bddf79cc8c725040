/*
 * Tests for racing (search_evaluate() with racing on): each candidate
 * goes through its blocks of dev examples on its own, and its decisions
 * do not depend on the order the answers come in.
 *
 * The target is a backend whose answers are held until the test lets
 * them go, one at a time, whenever nothing else can move: oldest first
 * or newest first.  search_evaluate() runs in a fiber, and the test turns
 * the loop and resumes the fiber as the daemon does.  Each request runs
 * a child that waits for its own pipe to be closed, then answers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "check_common.h"
#include "engine.h"
#include "fiber.h"
#include "http.h"
#include "jobrun.h"
#include "log.h"
#include "model.h"
#include "search.h"
#include "store.h"

#define MAX_HELD	512
#define NSEEDS		4		/* of quality 2, 10, 9 and 5 */

/* A request sent to the holding backend. */
struct held {
	int	q;		/* its candidate's quality, from the prompt */
	int	item;		/* its example */
	int	wfd;		/* closed to let it answer, then -1 */
	int	rfd;		/* the child's end, closed once spawned */
	int	answered;
};

static struct {
	struct held	h[MAX_HELD];
	size_t		n;
	size_t		released;
	size_t		answered;
	int		lifo;		/* newest first */
	size_t		ahead;		/* sends past a first block while
					   another candidate's first block
					   is not all in */
	char		cmd[64];	/* the request being sent's */
	char		*argv[4];
} hold;

static char		 sh[] = "/bin/sh", dash_c[] = "-c";
static char		*tmp;

/*
 * A prompt "... q=Q" answers example "item I" right when I % 10 < Q: its
 * score is Q / 10 on every block of 10.
 */
static void
hold_parse_req(const struct model_req *req, int *q, int *item)
{
	const char	*text = req->msgs[req->nmsgs - 1].content, *p;

	ck_assert_ptr_nonnull(p = strstr(text, "q="));
	*q = atoi(p + 2);
	ck_assert_ptr_nonnull(p = strstr(text, "item "));
	*item = atoi(p + 5);
}

static int
hold_build(struct backend *b, const struct model_req *req,
    struct http_req *hr, char **cause)
{
	struct held	*h;
	size_t		 i;
	int		 fd[2], label;

	ck_assert_uint_lt(hold.n, MAX_HELD);
	h = &hold.h[hold.n];
	memset(h, 0, sizeof *h);
	hold_parse_req(req, &h->q, &h->item);
	for (i = 0; h->item >= 10 && i < hold.n; i++)
		if (hold.h[i].q != h->q && hold.h[i].item < 10 &&
		    !hold.h[i].answered)
			hold.ahead++;
	hold.n++;
	ck_assert_int_eq(pipe2(fd, O_CLOEXEC), 0);
	/* The child inherits the read end; only the test has the other. */
	ck_assert_int_eq(fcntl(fd[0], F_SETFD, 0), 0);
	h->rfd = fd[0];
	h->wfd = fd[1];
	label = h->item % 2;
	if (h->item % 10 >= h->q)
		label = !label;
	snprintf(hold.cmd, sizeof hold.cmd, "read x </dev/fd/%d; printf %s",
	    fd[0], label ? "yes" : "no");
	hr->body = xstrdup("");
	return 0;
}

static char *const *
hold_command(struct backend *b)
{
	hold.argv[0] = sh;
	hold.argv[1] = dash_c;
	hold.argv[2] = hold.cmd;
	hold.argv[3] = NULL;
	return hold.argv;
}

static int
hold_parse(struct backend *b, const struct model_req *req, long status,
    const char *body, size_t len, struct model_resp *resp, char **cause)
{
	size_t	i;
	int	q, item;

	hold_parse_req(req, &q, &item);
	for (i = 0; i < hold.n; i++)
		if (hold.h[i].q == q && hold.h[i].item == item)
			hold.h[i].answered = 1;
	hold.answered++;
	if (status != 200)
		return cause_set(cause, "status %ld: %.*s", status, (int)len,
		    body);
	resp->text = xstrndup(body, len);
	return 0;
}

static const struct backend_ops hold_ops = {
	.name = "hold",
	.build = hold_build,
	.parse = hold_parse,
	.command = hold_command,
};

/* Lets the oldest (or newest) request still held answer. */
static void
hold_release(void)
{
	size_t	i, pick = MAX_HELD;

	for (i = 0; i < hold.n; i++)
		if (hold.h[i].wfd != -1 && (pick == MAX_HELD || hold.lifo))
			pick = i;
	ck_assert_uint_lt(pick, MAX_HELD);
	close(hold.h[pick].wfd);
	hold.h[pick].wfd = -1;
	hold.released++;
}

/* A search on the test's task, its target the holding backend. */
struct fixture {
	struct job		*job;
	const struct backend_ops *ops;	/* the target's own */
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct cand		*seed[NSEEDS];
};

static void
fixture_open(struct fixture *fx, int lifo)
{
	FILE		*f;
	struct backend	*b;
	char		*p, *db, *cause = NULL;
	int		 i;

	memset(&hold, 0, sizeof hold);
	hold.lifo = lifo;
	memset(fx, 0, sizeof *fx);
	tmp = check_tmpdir();
	p = xasprintf("%s/data.jsonl", tmp);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	for (i = 0; i < 40; i++)
		fprintf(f, "{\"text\": \"item %d\", \"label\": \"%s\"}\n", i,
		    i % 2 ? "yes" : "no");
	fclose(f);
	free(p);
	fx->job = check_job(tmp, "{ \"name\": \"race\", \"task\": {"
	    " \"dataset\": \"data.jsonl\", \"input\": \"{{prompt}} | "
	    "{{text}}\", \"target\": \"label\", \"metric\": { \"type\": "
	    "\"exact\" }, \"splits\": { \"train\": 0, \"dev\": 1, \"test\": "
	    "0 } }, \"seed_prompts\": [\"Answer. q=2\", \"Answer. q=10\","
	    " \"Answer. q=9\", \"Answer. q=5\"], \"backends\": { \"h\": {"
	    " \"type\": \"exec\", \"command\": \"true\", \"max_in_flight\":"
	    " 1000, \"timeout\": 86400 } }, \"roles\": { \"target\": \"h\","
	    " \"optimizer\": \"h\" }, \"strategy\": { \"name\": \"ape\","
	    " \"block\": 10 } }");
	b = fx->job->task.roles[ROLE_TARGET];
	fx->ops = b->ops;
	b->ops = &hold_ops;
	db = xasprintf("%s/race.db", tmp);
	ck_assert_ptr_nonnull(fx->store = store_open(db, &cause));
	free(db);
	fx->loop = engine_loop_new(fx->store);
	ck_assert_msg(jobrun_start(&fx->jr, fx->job, fx->loop, "optimize",
	    &cause) == 0, "%s", cause);
	ck_assert_uint_eq(fx->jr.search.ndev, 40);
	ck_assert_uint_eq(fx->jr.search.ncands, NSEEDS);
	for (i = 0; i < NSEEDS; i++)
		fx->seed[i] = fx->jr.search.cands[i];
}

static void
fixture_close(struct fixture *fx)
{
	size_t	i;

	for (i = 0; i < hold.n; i++) {
		if (hold.h[i].wfd != -1)
			close(hold.h[i].wfd);
		if (hold.h[i].rfd != -1)
			close(hold.h[i].rfd);
	}
	jobrun_abort(&fx->jr, "cancelled", "test");
	jobrun_release(&fx->jr);
	engine_loop_free(fx->loop);
	store_close(fx->store);
	fx->job->task.roles[ROLE_TARGET]->ops = fx->ops;
	job_free(fx->job);
	check_rmtree(tmp);
	free(tmp);
}

struct evaluation {
	struct search	*s;
	struct cand	**cands;
	size_t		  n;
	int		  rc;
	char		 *cause;
};

static void
evaluation_main(void *arg)
{
	struct evaluation	*ev = arg;

	ev->rc = search_evaluate(ev->s, ev->cands, ev->n, &ev->cause);
}

/*
 * Runs search_evaluate() on cands in a fiber, resumed as the daemon
 * resumes a run's (its engine has nothing left, or was woken since), and
 * lets one held answer go whenever nothing else can move: the fiber
 * waits, nothing was sent in the last turn and the answer let go before
 * has come.
 */
static void
evaluate(struct fixture *fx, struct cand **cands, size_t n)
{
	struct evaluation	 ev = { &fx->jr.search, cands, n, -1, NULL };
	struct engine		*e = fx->jr.engine;
	struct fiber		*f;
	unsigned long		 wakes;
	size_t			 sent, i;
	int			 done;

	f = fiber_new(evaluation_main, &ev, 1 << 20);
	wakes = engine_wakes(e);
	done = fiber_resume(f);
	while (!done) {
		sent = hold.n;
		ck_assert_int_ge(engine_loop_turn(fx->loop, hold.released >
		    hold.answered ? 1000 : 0, NULL, NULL, 0), 0);
		for (i = 0; i < hold.n; i++) {
			if (hold.h[i].rfd != -1)
				close(hold.h[i].rfd);
			hold.h[i].rfd = -1;
		}
		if (!engine_busy(e) || engine_failed(e, NULL) ||
		    engine_wakes(e) != wakes) {
			wakes = engine_wakes(e);
			done = fiber_resume(f);
		} else if (hold.n == sent && hold.released == hold.answered)
			hold_release();
	}
	fiber_free(f);
	ck_assert_msg(ev.rc == 0, "%s", ev.cause);
	ck_assert_uint_eq(hold.answered, hold.n);
}

/* What an evaluation of the seeds gave, to compare. */
struct result {
	int	raced_out[NSEEDS];
	size_t	nscored[NSEEDS];
	int	sent[11][40];		/* requests by quality and item */
};

static void
result_take(const struct fixture *fx, struct result *r)
{
	size_t	i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < NSEEDS; i++) {
		r->raced_out[i] = fx->seed[i]->raced_out;
		r->nscored[i] = fx->seed[i]->nscored;
	}
	for (i = 0; i < hold.n; i++)
		r->sent[hold.h[i].q][hold.h[i].item]++;
}

/*
 * A candidate that nothing can drop (all right so far) sends its second
 * block while the others' first blocks are still held.
 */
START_TEST(test_pipelined)
{
	struct fixture	fx;

	fixture_open(&fx, 0);
	evaluate(&fx, fx.seed, NSEEDS);
	ck_assert_uint_gt(hold.ahead, 0);
	/*
	 * q=2, the first, is out after its first block all the same: the
	 * leader that drops it (q=10) comes after it.
	 */
	ck_assert(fx.seed[0]->raced_out);
	ck_assert_uint_eq(fx.seed[0]->nscored, 10);
	ck_assert(!fx.seed[1]->raced_out);
	ck_assert_uint_eq(fx.seed[1]->nscored, 40);
	fixture_close(&fx);
}
END_TEST

/*
 * The answers in the order they were sent and in the reverse order: the
 * same requests, the same candidates raced out after the same examples.
 */
START_TEST(test_order)
{
	struct fixture	fx;
	struct result	r[2];
	int		lifo;

	for (lifo = 0; lifo < 2; lifo++) {
		fixture_open(&fx, lifo);
		evaluate(&fx, fx.seed, NSEEDS);
		result_take(&fx, &r[lifo]);
		fixture_close(&fx);
	}
	ck_assert_mem_eq(r[0].raced_out, r[1].raced_out,
	    sizeof r[0].raced_out);
	ck_assert_mem_eq(r[0].nscored, r[1].nscored, sizeof r[0].nscored);
	ck_assert_mem_eq(r[0].sent, r[1].sent, sizeof r[0].sent);
	/* As racing in lockstep decides: q=2 out after 10, q=5 after 20. */
	ck_assert(r[0].raced_out[0] && r[0].raced_out[3]);
	ck_assert(!r[0].raced_out[1] && !r[0].raced_out[2]);
	ck_assert_uint_eq(r[0].nscored[0], 10);
	ck_assert_uint_eq(r[0].nscored[3], 20);
}
END_TEST

/*
 * A candidate below one scored on all of dev before (an incumbent) is
 * raced out after its first block, though it is the first of its call.
 */
START_TEST(test_incumbent)
{
	struct fixture	fx;
	size_t		sent;

	fixture_open(&fx, 0);
	evaluate(&fx, &fx.seed[2], 1);
	ck_assert_uint_eq(fx.seed[2]->nscored, 40);
	sent = hold.n;
	evaluate(&fx, &fx.seed[0], 1);
	ck_assert(fx.seed[0]->raced_out);
	ck_assert_uint_eq(fx.seed[0]->nscored, 10);
	ck_assert_uint_eq(hold.n - sent, 10);
	fixture_close(&fx);
}
END_TEST

static Suite *
race_suite(void)
{
	Suite	*s = suite_create("race");
	TCase	*tc = tcase_create("core");

	log_init("check_race", 0, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_incumbent);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(race_suite)
