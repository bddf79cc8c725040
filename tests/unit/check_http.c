/* Tests for the HTTP transport against the mock model server: replies and
 * statuses, Retry-After in both forms, timeouts, size limits, refused
 * connections, abandoned transfers and connection reuse. */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "http.h"
#include "util.h"
#include "xmalloc.h"

static char	*tmp;
static pid_t	 mock;
static char	*base;

/* Starts a mock server that exits after idle seconds without a request;
 * returns its base URL. */
static char *
start_mock(const char *name, const char *idle, pid_t *pid)
{
	const char	*args[] = { "-i", idle, NULL };

	return check_mock_start(tmp, name, args, pid);
}

static void
setup(void)
{
	tmp = check_tmpdir();
	base = start_mock("port", "60", &mock);
}

static void
teardown(void)
{
	kill(mock, SIGTERM);
	waitpid(mock, NULL, 0);
	check_rmtree(tmp);
	free(tmp);
	free(base);
}

struct got {
	int	 done;
	long	 status;
	double	 retry_after;
	char	*body;
	char	*error;
};

static void
got(void *arg, const struct http_result *r)
{
	struct got	*g = arg;

	g->done = 1;
	g->status = r->status;
	g->retry_after = r->retry_after;
	g->body = xstrndup(r->body, r->len);
	g->error = r->error != NULL ? xstrdup(r->error) : NULL;
}

static void
got_release(struct got *g)
{
	free(g->body);
	free(g->error);
	memset(g, 0, sizeof *g);
}

/* Posts a chat request with an optional fault header and waits. */
static void
post(struct http *h, const char *url, const char *path, const char *fault,
    double timeout, size_t max, struct got *g)
{
	struct http_req		req;
	struct http_opts	o = { 2, timeout, 0, max };
	int			i;

	memset(&req, 0, sizeof req);
	memset(g, 0, sizeof *g);
	req.path = xstrdup(path);
	req.body = xstrdup("{\"model\": \"m\", \"messages\": [{\"role\": "
	    "\"user\", \"content\": \"hi\"}]}");
	req.len = strlen(req.body);
	http_req_header(&req, "Content-Type: application/json");
	if (fault != NULL)
		http_req_header(&req, "X-Mock-Fault: %s", fault);
	http_submit(h, url, &req, &o, got, g);
	http_req_release(&req);
	for (i = 0; i < 2000 && !g->done; i++)
		http_perform(h, 50, NULL, NULL, 0);
	ck_assert_int_eq(g->done, 1);
}

START_TEST(test_replies)
{
	struct http	*h = http_new();
	struct got	 g;
	int		 i;

	post(h, base, "/v1/chat/completions", NULL, 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 200);
	ck_assert_ptr_nonnull(strstr(g.body, "chat.completion"));
	ck_assert_ptr_null(g.error);
	got_release(&g);

	post(h, base, "/v1/nowhere", NULL, 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 404);
	got_release(&g);

	post(h, base, "/v1/chat/completions", "status=503", 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 503);
	ck_assert_ptr_nonnull(strstr(g.body, "error"));
	got_release(&g);

	/* Requests in a row on the kept-alive connection. */
	for (i = 0; i < 5; i++) {
		post(h, base, "/v1/chat/completions", NULL, 10, 1 << 20, &g);
		got_release(&g);
	}
	ck_assert_uint_eq(http_running(h), 0);
	http_free(h);
}
END_TEST

/* A GET: the mock's statistics. */
START_TEST(test_get)
{
	struct http		*h = http_new();
	struct http_req		 req;
	struct http_opts	 o = { 2, 10, 0, 1 << 20 };
	struct got		 g;

	memset(&req, 0, sizeof req);
	memset(&g, 0, sizeof g);
	req.path = xstrdup("/mock/stats");
	req.get = 1;
	http_submit(h, base, &req, &o, got, &g);
	http_req_release(&req);
	while (!g.done)
		http_perform(h, 50, NULL, NULL, 0);
	ck_assert_int_eq((int)g.status, 200);
	ck_assert_ptr_nonnull(strstr(g.body, "\"requests\""));
	got_release(&g);
	http_free(h);
}
END_TEST

/*
 * Requests to one host go out together: none waits behind the first for
 * its connection to show whether it could carry several (HTTP/1.1 over
 * plain http never can).  The server sees all eight at once.
 */
START_TEST(test_together)
{
	struct http		*h = http_new();
	struct http_req		 req;
	struct http_opts	 o = { 2, 30, 0, 1 << 20 };
	struct got		 g[8];
	int			 i, n;

	for (i = 0; i < 8; i++) {
		memset(&req, 0, sizeof req);
		memset(&g[i], 0, sizeof g[i]);
		req.path = xstrdup("/v1/chat/completions");
		req.body = xasprintf("{\"model\": \"m\", \"messages\": "
		    "[{\"role\": \"user\", \"content\": \"%d\"}]}", i);
		req.len = strlen(req.body);
		http_req_header(&req, "Content-Type: application/json");
		/* Long enough for all of them to be in flight at once. */
		http_req_header(&req, "X-Mock-Fault: latency=1500");
		http_submit(h, base, &req, &o, got, &g[i]);
		http_req_release(&req);
	}
	for (n = 0; n < 8; ) {
		http_perform(h, 50, NULL, NULL, 0);
		for (n = 0, i = 0; i < 8; i++)
			n += g[i].done;
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq((int)g[i].status, 200);
		got_release(&g[i]);
	}
	ck_assert_double_eq(check_mock_stat(base, "max_in_flight"), 8);
	http_free(h);
}
END_TEST

/*
 * A kept-alive connection its server closes while it is idle: the
 * transport neither spins on it (a wait lasts as long as asked) nor
 * fails the next request.
 */
START_TEST(test_idle_close)
{
	struct http	*h = http_new();
	struct got	 g;
	pid_t		 pid;
	char		*url = start_mock("port2", "1", &pid);
	double		 t0;
	int		 status;

	post(h, url, "/v1/chat/completions", NULL, 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 200);
	got_release(&g);
	/* The mock exits after a second without a request. */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	http_perform(h, 100, NULL, NULL, 0);
	t0 = time_mono();
	http_perform(h, 200, NULL, NULL, 0);
	ck_assert_msg(time_mono() - t0 > 0.15, "the wait lasted %.3f s",
	    time_mono() - t0);

	post(h, url, "/v1/chat/completions", NULL, 2, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 0);
	got_release(&g);
	post(h, base, "/v1/chat/completions", NULL, 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 200);
	got_release(&g);
	http_free(h);
	free(url);
}
END_TEST

START_TEST(test_retry_after)
{
	struct http	*h = http_new();
	struct got	 g;

	post(h, base, "/v1/chat/completions", "retry_after=3", 10, 1 << 20,
	    &g);
	ck_assert_int_eq((int)g.status, 429);
	ck_assert(g.retry_after == 3);
	got_release(&g);

	post(h, base, "/v1/chat/completions", "retry_after_date=5", 10,
	    1 << 20, &g);
	ck_assert_int_eq((int)g.status, 429);
	ck_assert_msg(g.retry_after >= 3 && g.retry_after <= 6,
	    "retry_after %g", g.retry_after);
	got_release(&g);

	/* No Retry-After on other statuses. */
	post(h, base, "/v1/chat/completions", NULL, 10, 1 << 20, &g);
	ck_assert(g.retry_after < 0);
	got_release(&g);
	http_free(h);
}
END_TEST

START_TEST(test_failures)
{
	struct http	*h = http_new();
	struct got	 g, never;
	struct http_req	 req;
	struct http_opts o = { 2, 10, 0, 1 << 20 };
	double		 t0;

	t0 = time_mono();
	post(h, base, "/v1/chat/completions", "timeout", 0.5, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 0);
	ck_assert_ptr_nonnull(g.error);
	ck_assert(time_mono() - t0 < 5);
	got_release(&g);

	post(h, base, "/v1/chat/completions", "oversize=1", 10, 4096, &g);
	ck_assert_int_eq((int)g.status, 0);
	ck_assert_str_eq(g.error, "response larger than the limit");
	got_release(&g);

	post(h, base, "/v1/chat/completions", "truncate", 10, 1 << 20, &g);
	ck_assert_int_eq((int)g.status, 0);
	got_release(&g);

	post(h, "http://127.0.0.1:9", "/v1/chat/completions", NULL, 10,
	    1 << 20, &g);
	ck_assert_int_eq((int)g.status, 0);
	ck_assert_ptr_nonnull(g.error);
	got_release(&g);

	/* An abandoned transfer never calls back. */
	memset(&req, 0, sizeof req);
	memset(&never, 0, sizeof never);
	req.path = xstrdup("/v1/chat/completions");
	req.body = xstrdup("{}");
	req.len = 2;
	http_req_header(&req, "X-Mock-Fault: latency=200");
	http_submit(h, base, &req, &o, got, &never);
	http_req_release(&req);
	http_perform(h, 10, NULL, NULL, 0);
	http_abandon(h, &never);
	ck_assert_uint_eq(http_running(h), 0);
	http_perform(h, 300, NULL, NULL, 0);
	ck_assert_int_eq(never.done, 0);
	http_free(h);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_together);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_idle_close);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_failures);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(http_suite)
