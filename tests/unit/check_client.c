/*
 * Tests of the control protocol's client against scripted fake daemons
 * (a forked child on a temporary socket): the handshake, calls, errors,
 * streams, timeouts, a daemon that is not there and one that refuses a
 * client before it has read a word.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check_common.h"
#include "client.h"
#include "xmalloc.h"

static char	*tmp;
static char	*sock;
static pid_t	 child = -1;

static void
setup(void)
{
	tmp = check_tmpdir();
	sock = xasprintf("%s/s", tmp);
}

static void
teardown(void)
{
	int	status;

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		child = -1;
	}
	unlink(sock);
	rmdir(tmp);
	free(sock);
	free(tmp);
}

/* Reads one line from fd (blocking) into buf; 0 at end of file. */
static int
srv_line(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size && read(fd, &c, 1) == 1) {
		if (c == '\n') {
			buf[n] = '\0';
			return 1;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return n > 0;
}

static void
srv_write(int fd, const char *s)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;

	while (off < len && (n = write(fd, s + off, len - off)) > 0)
		off += (size_t)n;
}

/* Copies s to out with each "%d" replaced by id. */
static void
srv_subst(const char *s, int id, char *out, size_t size)
{
	size_t	n = 0;

	for (; *s != '\0' && n + 16 < size; s++) {
		if (s[0] == '%' && s[1] == 'd') {
			n += (size_t)snprintf(out + n, size - n, "%d", id);
			s++;
		} else
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* The id of a request line. */
static int
srv_id(const char *line)
{
	cJSON	*o = cJSON_Parse(line);
	int	 id;

	id = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id"));
	cJSON_Delete(o);
	return id;
}

/*
 * Starts a fake daemon that accepts one connection and plays script:
 * each step is "<" (read a line), "w" (wait a long time), "x" (close) or
 * a line to send, where "%d" stands for the id of the last request read.
 */
static void
serve(const char *const *script)
{
	struct sockaddr_un	 sun;
	char			 line[4096], out[8192];
	int			 lfd, fd, id = 0;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(lfd, -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	if ((child = fork()) != 0) {
		ck_assert_int_gt(child, 0);
		close(lfd);
		return;
	}
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	for (; *script != NULL; script++) {
		if (strcmp(*script, "<") == 0) {
			if (!srv_line(fd, line, sizeof line))
				_exit(2);
			id = srv_id(line);
		} else if (strcmp(*script, "w") == 0)
			sleep(30);
		else if (strcmp(*script, "x") == 0)
			break;
		else {
			srv_subst(*script, id, out, sizeof out);
			srv_write(fd, out);
		}
	}
	close(fd);
	_exit(0);
}

#define HELLO	"{\"hello\": \"promptd\", \"protocol\": 1, \"version\": " \
		"\"0.1.0\", \"pid\": 42}\n"

START_TEST(test_call)
{
	static const char *const script[] = { "<", HELLO,
	    "<", "{\"id\": %d, \"ok\": true, \"result\": {\"jobs\": []}}\n",
	    "<", "{\"id\": 99, \"event\": {}}\n",
	    "{\"id\": %d, \"ok\": true}\n", NULL };
	struct client	*c;
	cJSON		*args, *r;
	char		*code = NULL, *cause = NULL;

	serve(script);
	c = client_connect(sock, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_int_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
	    client_hello(c), "pid")), 42);
	ck_assert_int_eq(client_call(c, "list", NULL, &r, &code, &cause), 0);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(r, "jobs")));
	cJSON_Delete(r);
	/* A line for another id is skipped; a reply without result is {}. */
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", "j");
	ck_assert_int_eq(client_call(c, "pause", args, &r, &code, &cause), 0);
	ck_assert(cJSON_IsObject(r));
	ck_assert_ptr_null(code);
	cJSON_Delete(r);
	/* The arguments stay the caller's. */
	ck_assert_str_eq(cJSON_GetObjectItem(args, "job")->valuestring, "j");
	cJSON_Delete(args);
	client_close(c);
}
END_TEST

START_TEST(test_error_reply)
{
	static const char *const script[] = { "<", HELLO,
	    "<", "{\"id\": %d, \"ok\": false, \"error\": {\"code\": "
	    "\"not_found\", \"message\": \"no job 'x'\"}}\n",
	    "<", "{\"error\": {\"code\": \"protocol\", \"message\": "
	    "\"too long\"}}\n", NULL };
	struct client	*c;
	cJSON		*r;
	char		*code = NULL, *cause = NULL;

	serve(script);
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	ck_assert_int_eq(client_call(c, "best", NULL, &r, &code, &cause), -1);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(code, "not_found");
	ck_assert_str_eq(cause, "no job 'x'");
	free(code);
	/* An error line without an id answers the request too. */
	ck_assert_int_eq(client_call(c, "best", NULL, &r, &code, &cause), -1);
	ck_assert_str_eq(code, "protocol");
	ck_assert_str_eq(cause, "too long");
	free(code);
	free(cause);
	client_close(c);
}
END_TEST

static int
count_events(void *arg, const cJSON *ev)
{
	int	*n = arg;

	ck_assert_int_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(ev,
	    "step")), *n + 1);
	(*n)++;
	return 0;
}

static int
stop_events(void *arg, const cJSON *ev)
{
	return -1;
}

START_TEST(test_stream)
{
	static const char *const script[] = { "<", HELLO,
	    "<", "{\"id\": %d, \"ok\": true, \"result\": {\"stream\": true}}\n",
	    "{\"id\": %d, \"event\": {\"step\": 1}}\n",
	    "{\"id\": %d, \"event\": {\"step\": 2}}\n",
	    "{\"id\": %d, \"end\": true, \"result\": {\"state\": \"done\"}}\n",
	    "<", "{\"id\": %d, \"ok\": true, \"result\": {\"state\": "
	    "\"failed\"}}\n",
	    "<", "{\"id\": %d, \"ok\": true, \"result\": {\"stream\": true}}\n",
	    "{\"id\": %d, \"event\": {\"step\": 1}}\n", NULL };
	struct client	*c;
	cJSON		*final;
	char		*code = NULL, *cause = NULL;
	int		 n = 0;

	serve(script);
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	ck_assert_int_eq(client_stream(c, "watch", NULL, count_events, &n,
	    &final, &code, &cause), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(cJSON_GetObjectItem(final, "state")->valuestring,
	    "done");
	cJSON_Delete(final);
	/* A reply that is not a stream is the final result. */
	n = 0;
	ck_assert_int_eq(client_stream(c, "watch", NULL, count_events, &n,
	    &final, &code, &cause), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(final, "state")->valuestring,
	    "failed");
	cJSON_Delete(final);
	/* The callback stops the stream. */
	ck_assert_int_eq(client_stream(c, "watch", NULL, stop_events, NULL,
	    &final, &code, &cause), -1);
	ck_assert_ptr_null(final);
	ck_assert_str_eq(cause, "stopped");
	free(cause);
	client_close(c);
}
END_TEST

START_TEST(test_stream_closed)
{
	static const char *const script[] = { "<", HELLO,
	    "<", "{\"id\": %d, \"ok\": true, \"result\": {\"stream\": true}}\n",
	    "{\"id\": %d, \"event\": {\"step\": 1}}\n", "x", NULL };
	struct client	*c;
	cJSON		*final;
	char		*code = NULL, *cause = NULL;
	int		 n = 0;

	serve(script);
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	ck_assert_int_eq(client_stream(c, "watch", NULL, count_events, &n,
	    &final, &code, &cause), -1);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(code);
	ck_assert_ptr_nonnull(strstr(cause, "closed the connection"));
	free(cause);
	client_close(c);
}
END_TEST

START_TEST(test_no_daemon)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	char			*cause = NULL;
	int			 fd;

	/* No socket at all. */
	errno = 0;
	ck_assert_ptr_null(c = client_connect(sock, &cause));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "daemon not running (no socket "
	    "at "));
	/* A socket left behind by a daemon that died. */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	errno = 0;
	ck_assert_ptr_null(c = client_connect(sock, &cause));
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(cause, "daemon not running"));
	/* A path too long for a socket. */
	free(cause);
	cause = NULL;
	{
		char	long_path[200];

		memset(long_path, 'a', sizeof long_path - 1);
		long_path[sizeof long_path - 1] = '\0';
		ck_assert_ptr_null(client_connect(long_path, &cause));
		ck_assert_int_eq(errno, ENAMETOOLONG);
	}
	free(cause);
}
END_TEST

START_TEST(test_timeout)
{
	static const char *const script[] = { "<", "w", NULL };
	struct client	*c;
	char		*cause = NULL;

	serve(script);
	errno = 0;
	ck_assert_ptr_null(c = client_connect_timeout(sock, 200, &cause));
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(cause, "did not answer"));
	free(cause);
}
END_TEST

START_TEST(test_call_timeout)
{
	static const char *const script[] = { "<", HELLO, "<", "w", NULL };
	struct client	*c;
	cJSON		*r;
	char		*code = NULL, *cause = NULL;

	serve(script);
	/* The handshake is not what is timed: it may take its time. */
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	client_set_timeout(c, 200);
	ck_assert_int_eq(client_call(c, "list", NULL, &r, &code, &cause), -1);
	ck_assert_ptr_null(code);
	ck_assert_ptr_nonnull(strstr(cause, "did not answer within 1 s"));
	free(cause);
	client_close(c);
}
END_TEST

START_TEST(test_bad_handshake)
{
	static const char *const wrong_version[] = { "<",
	    "{\"hello\": \"promptd\", \"protocol\": 2}\n", NULL };
	static const char *const refused[] = { "<", "{\"error\": {\"code\": "
	    "\"protocol\", \"message\": \"uid 1001 is not served\"}}\n", NULL };
	static const char *const not_json[] = { "<", "hello\n", NULL };
	static const char *const other[] = { "<", "{\"hello\": \"sshd\"}\n",
	    NULL };
	static const char *const closed[] = { "<", "x", NULL };
	const char *const *scripts[] = { wrong_version, refused, not_json,
	    other, closed };
	const char	*want[] = { "another protocol version",
	    "refused the connection: uid 1001 is not served", "not a JSON",
	    "not a promptd control socket", "closed the connection" };
	char		*cause = NULL;
	size_t		 i;
	int		 status;

	for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		unlink(sock);
		serve(scripts[i]);
		errno = 0;
		ck_assert_ptr_null(client_connect(sock, &cause));
		ck_assert_int_ne(errno, ENOENT);
		ck_assert_int_ne(errno, ECONNREFUSED);
		ck_assert_msg(strstr(cause, want[i]) != NULL, "%zu: %s", i,
		    cause);
		waitpid(child, &status, 0);
		child = -1;
	}
	free(cause);
}
END_TEST

START_TEST(test_long_line)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	cJSON			*r;
	char			*code = NULL, *cause = NULL, *big, line[256];
	int			 lfd, fd;

	/* This one is served by hand: the line is too big for serve(). */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	if ((child = fork()) == 0) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(1);
		srv_line(fd, line, sizeof line);
		srv_write(fd, HELLO);
		srv_line(fd, line, sizeof line);
		big = xmalloc(CLIENT_MAX_LINE + 100);
		memset(big, 'a', CLIENT_MAX_LINE + 99);
		big[CLIENT_MAX_LINE + 99] = '\0';
		srv_write(fd, big);
		sleep(30);
		_exit(0);
	}
	close(lfd);
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	ck_assert_int_eq(client_call(c, "list", NULL, &r, &code, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "longer than"));
	free(cause);
	client_close(c);
}
END_TEST

/*
 * The test's own connect(), which the client's calls reach (the library
 * is linked into this program): when early_line is set, a fake daemon on
 * early_lfd accepts the connection, writes that line and closes it before
 * connect() returns, so that the client meets a closed connection when
 * it sends its handshake, as it does when promptd refuses a peer at once.
 */
static int		 early_lfd = -1;
static const char	*early_line;

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int	afd, rc;

	rc = (int)syscall(SYS_connect, fd, sa, len);
	if (rc == 0 && early_line != NULL) {
		if ((afd = accept(early_lfd, NULL, NULL)) == -1)
			return -1;
		srv_write(afd, early_line);
		close(afd);
	}
	return rc;
}

START_TEST(test_refused_early)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	char			*cause = NULL;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	early_lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(early_lfd, (struct sockaddr *)&sun, sizeof sun),
	    0);
	ck_assert_int_eq(listen(early_lfd, 4), 0);
	early_line = "{\"error\": {\"code\": \"denied\", \"message\": "
	    "\"uid 1001 may not control this promptd\"}}\n";
	errno = 0;
	c = client_connect(sock, &cause);
	early_line = NULL;
	close(early_lfd);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_msg(strstr(cause, "refused the connection: uid 1001 may "
	    "not control this promptd") != NULL, "%s", cause);
	free(cause);
}
END_TEST

/* A daemon that drops the client says why before it closes. */
START_TEST(test_dropped)
{
	static const char *const script[] = { "<", HELLO,
	    "{\"error\": {\"code\": \"unavailable\", \"message\": "
	    "\"too many connections (at most 64)\"}}\n", "x", NULL };
	struct client	*c;
	cJSON		*r;
	char		*code = NULL, *cause = NULL;
	int		 status;

	serve(script);
	ck_assert_ptr_nonnull(c = client_connect(sock, &cause));
	/* It is gone before the request: the write fails. */
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	child = -1;
	ck_assert_int_eq(client_call(c, "list", NULL, &r, &code, &cause), -1);
	ck_assert_ptr_null(r);
	ck_assert_msg(code != NULL && strcmp(code, "unavailable") == 0,
	    "%s: %s", code, cause);
	ck_assert_str_eq(cause, "too many connections (at most 64)");
	free(code);
	free(cause);
	client_close(c);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite	*s = suite_create("client");
	TCase	*tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_call);
	tcase_add_test(tc, test_error_reply);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_stream_closed);
	tcase_add_test(tc, test_no_daemon);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_call_timeout);
	tcase_add_test(tc, test_bad_handshake);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_refused_early);
	tcase_add_test(tc, test_dropped);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(client_suite)
