/*
 * promptd as a daemon: the built program is started in the foreground on
 * a private socket and database with a configuration whose backends are
 * simulated, and spoken to over a raw socket.  Every wait polls for its
 * condition with a deadline.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "check_common.h"
#include "client.h"
#include "cron.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define DATASET	TEST_SRCDIR "/examples/sentiment/reviews.jsonl"

/* A quick job: the sentiment example with APE and two resampling steps. */
#define STRATEGY_QUICK	"{\"name\": \"ape\", \"resample\": 2}"
/* A job that runs for many seconds. */
#define STRATEGY_LONG	"{\"name\": \"ape\", \"pool\": 100, " \
			"\"resample\": 1000, \"resample_pool\": 20}"

static const char conf_fast[] =
    "{ \"backends\": {\n"
    "  \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 1 },\n"
    "  \"cmd\": { \"type\": \"exec\", \"max_in_flight\": 4, \"command\":"
    " [\"/bin/sh\", \"-c\", \"cat >/dev/null; sleep 0.05; echo positive\"] }\n"
    "} }\n";
/* The same model, one call a second after a burst of 60. */
static const char conf_slow[] =
    "{ \"backends\": {\n"
    "  \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 1,\n"
    "    \"requests_per_minute\": 60 }\n"
    "} }\n";

struct tdaemon {
	char	*dir;
	char	*sock;
	char	*db;
	char	*conf;
	char	*log;
	pid_t	 pid;
	/* PROMPTD_HANDSHAKE_TIMEOUT for the daemons started, or NULL. */
	const char *hello_timeout;
};

static struct tdaemon	T;

static double
now_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap(int ms)
{
	poll(NULL, 0, ms);
}

/*
 * A safety net of seconds, stretched as Check's own limits are for a
 * slow (instrumented) build.  Every wait below goes through it: a wait
 * is for a condition, and its deadline only ends a test that would hang.
 */
static double
slack(double seconds)
{
	const char	*m = getenv("CK_TIMEOUT_MULTIPLIER");
	double		 k = m != NULL ? strtod(m, NULL) : 1;

	return seconds * (k > 1 ? k : 1);
}

static const char *
promptd_path(void)
{
	static char	*path;
	const char	*b = getenv("top_builddir");

	if (path == NULL)
		path = xasprintf("%s/promptd", b != NULL ? b : ".");
	return path;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
read_file(const char *path)
{
	char	*text = NULL;
	size_t	 len;

	if (file_read(path, 64 * 1024 * 1024, &text, &len, NULL) != 0)
		return xstrdup("");
	return text;
}

/* A job file named name using backend, with a strategy and extra keys. */
static char *
job_write(const char *name, const char *backend, const char *strategy,
    const char *extra)
{
	char	*path, *text;

	path = xasprintf("%s/%s.json", T.dir, name);
	text = xasprintf(
	    "// %s\n"
	    "{\n"
	    "  \"name\": \"%s\",\n"
	    "  \"task\": {\n"
	    "    \"dataset\": \"%s\",\n"
	    "    \"input\": \"Review: {{text}}\\nSentiment:\",\n"
	    "    \"target\": \"label\",\n"
	    "    \"metric\": { \"type\": \"exact\",\n"
	    "      \"normalize\": [\"case\", \"whitespace\", \"punctuation\"] },\n"
	    "    \"splits\": { \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3,"
	    " \"seed\": 7 }\n"
	    "  },\n"
	    "  \"seed_prompts\": [\n"
	    "    \"Classify the sentiment of the review.\",\n"
	    "    \"You are an expert film critic. Read the whole review "
	    "carefully and decide whether it is positive or negative. Answer "
	    "with only the label.\"\n"
	    "  ],\n"
	    "  \"roles\": { \"target\": \"%s\", \"optimizer\": \"%s\","
	    " \"judge\": \"%s\" },\n"
	    "  \"budget\": { \"max_calls\": 10000000, \"max_dollars\": 1000,"
	    " \"deadline\": \"10m\" },\n"
	    "  \"strategy\": %s,\n"
	    "  \"alpha\": 0.05,\n"
	    "  \"min_delta\": 0.02,\n"
	    "  %s\"seed\": 1\n"
	    "}\n", name, name, DATASET, backend, backend, backend, strategy,
	    extra != NULL ? extra : "");
	write_file(path, text);
	free(text);
	return path;
}

static void
setup(void)
{
	memset(&T, 0, sizeof T);
	T.dir = check_tmpdir();
	T.sock = xasprintf("%s/promptd.sock", T.dir);
	T.db = xasprintf("%s/promptd.db", T.dir);
	T.conf = xasprintf("%s/promptd.conf", T.dir);
	T.log = xasprintf("%s/promptd.log", T.dir);
	write_file(T.conf, conf_fast);
	signal(SIGPIPE, SIG_IGN);
}

static void
teardown(void)
{
	if (T.pid > 0) {
		kill(T.pid, SIGKILL);
		waitpid(T.pid, NULL, 0);
	}
	free(T.dir);
	free(T.sock);
	free(T.db);
	free(T.conf);
	free(T.log);
}

/*
 * Runs promptd with argv (NULL-terminated, without the program), its
 * output appended to the log; offset (or NULL) is PROMPTD_TIME_OFFSET.
 */
static pid_t
spawn(const char *offset, const char *const *argv)
{
	const char	*args[16];
	pid_t		 pid;
	size_t		 i;
	int		 fd;

	args[0] = "promptd";
	for (i = 0; argv[i] != NULL && i < nitems(args) - 2; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		/* Never outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (offset != NULL)
			setenv("PROMPTD_TIME_OFFSET", offset, 1);
		else
			unsetenv("PROMPTD_TIME_OFFSET");
		if (T.hello_timeout != NULL)
			setenv("PROMPTD_HANDSHAKE_TIMEOUT", T.hello_timeout, 1);
		else
			unsetenv("PROMPTD_HANDSHAKE_TIMEOUT");
		fd = open(T.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		check_execv(promptd_path(), args);
		_exit(127);
	}
	return pid;
}

/* Waits for pid to exit; returns its wait status, or -1 at the deadline. */
static int
wait_exit(pid_t pid, double seconds)
{
	double	end = now_mono() + slack(seconds);
	int	st;

	while (now_mono() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		nap(10);
	}
	return -1;
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Starts the daemon in the foreground and waits until it answers. */
static void
start_with(const char *conf, const char *offset)
{
	const char	*argv[] = { "-f", "-v", "-c", conf, "-S", T.sock, "-d",
			    T.db, NULL };
	double		 end = now_mono() + slack(10);
	int		 fd, st;

	T.pid = spawn(offset, argv);
	while (now_mono() < end) {
		if ((fd = sock_connect(T.sock)) != -1) {
			close(fd);
			return;
		}
		if (waitpid(T.pid, &st, WNOHANG) == T.pid) {
			T.pid = 0;
			ck_abort_msg("promptd exited with status %d: %s",
			    WEXITSTATUS(st), read_file(T.log));
		}
		nap(10);
	}
	ck_abort_msg("promptd did not start: %s", read_file(T.log));
}

static void
start(void)
{
	start_with(T.conf, NULL);
}

/* Stops the daemon with SIGTERM; it must exit 0. */
static void
stop(void)
{
	int	st;

	ck_assert_int_eq(kill(T.pid, SIGTERM), 0);
	st = wait_exit(T.pid, 10);
	ck_assert_msg(st != -1, "promptd did not stop");
	T.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "promptd stopped with status %d: %s", st, read_file(T.log));
}

static void
crash(void)
{
	ck_assert_int_eq(kill(T.pid, SIGKILL), 0);
	ck_assert_int_ne(wait_exit(T.pid, 10), -1);
	T.pid = 0;
}

/* A client connection with its read buffer. */
struct conn {
	int		fd;
	struct strbuf	in;
};

static void
conn_send(struct conn *c, const char *text)
{
	size_t	len = strlen(text), off = 0;
	ssize_t	n;

	while (off < len) {
		n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		off += (size_t)n;
	}
}

/* The next line as JSON, or NULL at the end of the connection.  Fails
 * the test after seconds. */
static cJSON *
conn_line(struct conn *c, double seconds)
{
	struct pollfd	 pfd;
	double		 end = now_mono() + slack(seconds);
	char		*nl, buf[65536];
	cJSON		*o;
	ssize_t		 n;
	size_t		 len;

	for (;;) {
		if (c->in.len > 0 && (nl = memchr(c->in.buf, '\n',
		    c->in.len)) != NULL) {
			len = (size_t)(nl - c->in.buf);
			o = cJSON_ParseWithLength(c->in.buf, len);
			ck_assert_msg(o != NULL, "reply is not JSON: %.*s",
			    (int)len, c->in.buf);
			memmove(c->in.buf, nl + 1, c->in.len - len - 1);
			c->in.len -= len + 1;
			return o;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		ck_assert_msg(now_mono() < end, "no reply within %.1fs",
		    seconds);
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recv(c->fd, buf, sizeof buf, 0);
		if (n <= 0)
			return NULL;
		strbuf_add(&c->in, buf, (size_t)n);
	}
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	strbuf_release(&c->in);
}

/* Connects and does the handshake. */
static void
conn_open(struct conn *c)
{
	cJSON	*o;

	strbuf_init(&c->in);
	ck_assert_msg((c->fd = sock_connect(T.sock)) != -1, "connect: %s",
	    strerror(errno));
	conn_send(c, "{\"hello\": \"promptctl\", \"protocol\": 1}\n");
	o = conn_line(c, 5);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o,
	    "hello")), "promptd");
	cJSON_Delete(o);
}

static int	next_id = 1;

/* Sends a request and returns its reply (skipping other ids' lines). */
static cJSON *
call(struct conn *c, const char *cmd, const char *args)
{
	cJSON	*o;
	char	*line;
	int	 id = next_id++;

	line = xasprintf("{\"id\": %d, \"cmd\": \"%s\", \"args\": %s}\n", id,
	    cmd, args != NULL ? args : "{}");
	conn_send(c, line);
	free(line);
	for (;;) {
		o = conn_line(c, 10);
		ck_assert_msg(o != NULL, "connection closed during '%s'", cmd);
		if (cJSON_GetNumberValue(cJSON_GetObjectItem(o, "id")) == id &&
		    cJSON_GetObjectItem(o, "event") == NULL)
			return o;
		cJSON_Delete(o);
	}
}

static const char *
jstr(const cJSON *o, const char *path)
{
	char		*p = xstrdup(path), *k, *save = NULL;
	const cJSON	*v = o;

	for (k = strtok_r(p, ".", &save); k != NULL && v != NULL;
	    k = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, k);
	free(p);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
jnum(const cJSON *o, const char *path)
{
	char		*p = xstrdup(path), *k, *save = NULL;
	const cJSON	*v = o;

	for (k = strtok_r(p, ".", &save); k != NULL && v != NULL;
	    k = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, k);
	free(p);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A request that must succeed; returns its result's copy. */
static cJSON *
call_ok(struct conn *c, const char *cmd, const char *args)
{
	cJSON	*o, *r;
	char	*text;

	o = call(c, cmd, args);
	text = cJSON_PrintUnformatted(o);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")), "%s %s: %s",
	    cmd, args != NULL ? args : "", text);
	free(text);
	r = cJSON_DetachItemFromObject(o, "result");
	cJSON_Delete(o);
	return r;
}

/* A request that must fail with code; the message must contain want. */
static void
call_err(struct conn *c, const char *cmd, const char *args, const char *code,
    const char *want)
{
	cJSON	*o;
	char	*text;

	o = call(c, cmd, args);
	text = cJSON_PrintUnformatted(o);
	ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(o, "ok")), "%s", text);
	ck_assert_msg(jstr(o, "error.code") != NULL &&
	    strcmp(jstr(o, "error.code"), code) == 0, "want %s: %s", code,
	    text);
	ck_assert_msg(want == NULL || strstr(jstr(o, "error.message"),
	    want) != NULL, "want '%s': %s", want, text);
	free(text);
	cJSON_Delete(o);
}

static char *
args_job(const char *name)
{
	return xasprintf("{\"job\": \"%s\"}", name);
}

static const char *
job_state(struct conn *c, const char *name, cJSON **keep)
{
	char	*a = args_job(name);
	cJSON	*r;

	r = call_ok(c, "status", a);
	free(a);
	cJSON_Delete(*keep);
	*keep = r;
	return jstr(r, "state");
}

/* Polls the job's status until its state is want. */
static void
wait_state(struct conn *c, const char *name, const char *want,
    double seconds)
{
	double		 end = now_mono() + slack(seconds);
	cJSON		*r = NULL;
	const char	*s;

	while ((s = job_state(c, name, &r)) == NULL || strcmp(s, want) != 0) {
		ck_assert_msg(now_mono() < end, "job '%s' is %s, not %s: %s",
		    name, s, want, read_file(T.log));
		nap(20);
	}
	cJSON_Delete(r);
}

static cJSON *
submit(struct conn *c, const char *file)
{
	char	*a = xasprintf("{\"file\": \"%s\"}", file);
	cJSON	*r;

	r = call_ok(c, "submit", a);
	free(a);
	return r;
}

/* One value from the database, read with a connection of our own. */
static long long
raw_int(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	ck_assert_int_eq(sqlite3_open_v2(T.db, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *
raw_text(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		*v = NULL;

	ck_assert_int_eq(sqlite3_open_v2(T.db, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v != NULL ? v : xstrdup("(null)");
}

static void
raw_is(const char *sql, const char *want)
{
	char	*v = raw_text(sql);

	ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', want '%s'", sql, v,
	    want);
	free(v);
}

/* Waits until the query's integer reaches at least min. */
static void
raw_wait(const char *sql, long long min, double seconds)
{
	double	end = now_mono() + slack(seconds);

	while (raw_int(sql) < min) {
		ck_assert_msg(now_mono() < end, "%s: %lld, want >= %lld", sql,
		    raw_int(sql), min);
		nap(20);
	}
}

/* Runs promptd to completion with argv; returns its exit status. */
static int
run_status(const char *const *argv)
{
	int	st;

	st = wait_exit(spawn(NULL, argv), 10);
	ck_assert_int_ne(st, -1);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_options)
{
	const char	*check[] = { "-n", "-c", T.conf, NULL };
	const char	*bad[] = { "-x", NULL };
	const char	*extra[] = { "-f", "job.json", NULL };
	char		*log, *badconf;

	ck_assert_int_eq(run_status(check), 0);
	log = read_file(T.log);
	ck_assert_msg(strstr(log, "configuration OK") != NULL, "%s", log);
	free(log);

	badconf = xasprintf("%s/bad.conf", T.dir);
	write_file(badconf, "{ \"backends\": { \"x\": { \"type\": \"nope\" } } }");
	check[2] = badconf;
	ck_assert_int_eq(run_status(check), 1);
	log = read_file(T.log);
	ck_assert_msg(strstr(log, "bad.conf:1:") != NULL, "%s", log);
	free(log);
	free(badconf);

	ck_assert_int_eq(run_status(bad), 2);
	ck_assert_int_eq(run_status(extra), 2);
	log = read_file(T.log);
	ck_assert_msg(strstr(log, "usage: promptd [-fhnv] [--version] "
	    "[-c config] [-d database] [-S socket]\n"
	    "       promptd [-v] [-c config] "
	    "[-d database] --once job\n") != NULL, "%s", log);
	free(log);
}
END_TEST

START_TEST(test_handshake)
{
	struct stat	 st;
	struct conn	 c;
	cJSON		*o;

	start();
	ck_assert_int_eq(stat(T.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	strbuf_init(&c.in);
	c.fd = sock_connect(T.sock);
	conn_send(&c, "{\"hello\": \"promptctl\", \"protocol\": 1}\n");
	o = conn_line(&c, 5);
	ck_assert_str_eq(jstr(o, "hello"), "promptd");
	ck_assert_int_eq(jnum(o, "protocol"), 1);
	ck_assert_int_eq(jnum(o, "pid"), T.pid);
	ck_assert_ptr_nonnull(jstr(o, "version"));
	cJSON_Delete(o);
	o = call_ok(&c, "status", NULL);
	ck_assert_int_eq(jnum(o, "pid"), T.pid);
	ck_assert_str_eq(jstr(o, "socket"), T.sock);
	ck_assert_str_eq(jstr(o, "database"), T.db);
	ck_assert(jnum(o, "uptime") >= 0);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(o, "jobs"));
	cJSON_Delete(o);
	conn_close(&c);

	/* Another version: an error, then the end of the connection. */
	strbuf_init(&c.in);
	c.fd = sock_connect(T.sock);
	conn_send(&c, "{\"hello\": \"promptctl\", \"protocol\": 2}\n");
	o = conn_line(&c, 5);
	ck_assert_str_eq(jstr(o, "error.code"), "protocol");
	ck_assert_ptr_nonnull(strstr(jstr(o, "error.message"), "version 2"));
	cJSON_Delete(o);
	ck_assert_ptr_null(conn_line(&c, 5));
	conn_close(&c);

	/* A request before the handshake. */
	strbuf_init(&c.in);
	c.fd = sock_connect(T.sock);
	conn_send(&c, "{\"id\": 1, \"cmd\": \"list\"}\n");
	o = conn_line(&c, 5);
	ck_assert_str_eq(jstr(o, "error.code"), "protocol");
	cJSON_Delete(o);
	ck_assert_ptr_null(conn_line(&c, 5));
	conn_close(&c);
	stop();
	/* The socket file goes with the daemon. */
	ck_assert_int_eq(stat(T.sock, &st), -1);
}
END_TEST

/* A connection that sends nothing. */
static void
conn_mute(struct conn *c)
{
	strbuf_init(&c->in);
	ck_assert_msg((c->fd = sock_connect(T.sock)) != -1, "connect: %s",
	    strerror(errno));
}

/*
 * The next line must be an error line with code and a message that
 * contains want, and then the connection must end.
 */
static void
conn_refused(struct conn *c, const char *code, const char *want)
{
	cJSON	*o;
	char	*text;

	o = conn_line(c, 30);
	ck_assert_msg(o != NULL, "closed without an error line");
	text = cJSON_PrintUnformatted(o);
	ck_assert_msg(jstr(o, "error.code") != NULL &&
	    strcmp(jstr(o, "error.code"), code) == 0 &&
	    strstr(jstr(o, "error.message"), want) != NULL &&
	    cJSON_GetObjectItem(o, "id") == NULL, "want %s '%s': %s", code,
	    want, text);
	free(text);
	cJSON_Delete(o);
	ck_assert_ptr_null(conn_line(c, 30));
}

/*
 * A connection that does not send its handshake in time is told so and
 * closed.  The timeout is cut to 0.2 s for the test; the waits below are
 * only a safety net.
 */
START_TEST(test_handshake_timeout)
{
	struct conn	 mute[8];
	size_t		 i;

	T.hello_timeout = "0.2";
	start();
	for (i = 0; i < nitems(mute); i++)
		conn_mute(&mute[i]);
	for (i = 0; i < nitems(mute); i++) {
		conn_refused(&mute[i], "protocol", "no handshake within 0.2 s");
		conn_close(&mute[i]);
	}
	stop();
}
END_TEST

/*
 * Connections that never speak cannot lock out one that does: at most 16
 * wait for their handshake, and a new one drops the oldest (the timeout
 * is an hour here, so that only the bound is at work).  Past 64 served
 * connections a client is refused with an error line, which the client
 * reads even when the daemon closed before it read the handshake.
 */
START_TEST(test_handshake_crowd)
{
	struct conn	 mute[64], ready[64], late;
	struct client	*cl;
	char		*cause = NULL;
	size_t		 i;

	T.hello_timeout = "3600";
	start();
	for (i = 0; i < nitems(mute); i++)
		conn_mute(&mute[i]);
	/* The one that speaks is served, and pushes out one more. */
	conn_open(&late);
	cJSON_Delete(call_ok(&late, "status", NULL));
	for (i = 0; i < nitems(mute) - 16 + 1; i++) {
		conn_refused(&mute[i], "unavailable", "wait for theirs");
		conn_close(&mute[i]);
	}
	/* One still waiting may still speak. */
	conn_send(&mute[nitems(mute) - 1],
	    "{\"hello\": \"promptctl\", \"protocol\": 1}\n");
	cJSON_Delete(conn_line(&mute[nitems(mute) - 1], 30));
	cJSON_Delete(call_ok(&mute[nitems(mute) - 1], "status", NULL));
	for (i = nitems(mute) - 16 + 1; i < nitems(mute); i++)
		conn_close(&mute[i]);
	conn_close(&late);

	/* 64 served: the next one is refused, and promptctl says why. */
	for (i = 0; i < nitems(ready); i++)
		conn_open(&ready[i]);
	conn_mute(&late);
	conn_refused(&late, "unavailable", "too many connections (at most "
	    "64)");
	conn_close(&late);
	errno = 0;
	ck_assert_ptr_null(cl = client_connect(T.sock, &cause));
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_msg(strstr(cause, "refused the connection: too many "
	    "connections") != NULL, "%s", cause);
	free(cause);
	/* One goes, and the next one is served at once. */
	conn_close(&ready[0]);
	cause = NULL;
	cl = client_connect(T.sock, &cause);
	ck_assert_msg(cl != NULL, "%s", cause);
	client_close(cl);
	for (i = 1; i < nitems(ready); i++)
		conn_close(&ready[i]);
	stop();
}
END_TEST

/* Reads the reply to a raw line: an error with code protocol. */
static void
raw_protocol_error(struct conn *c, const char *line, const char *want)
{
	cJSON	*o;
	char	*text;

	conn_send(c, line);
	o = conn_line(c, 5);
	ck_assert_ptr_nonnull(o);
	text = cJSON_PrintUnformatted(o);
	ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(o, "ok")), "%s", text);
	ck_assert_msg(strcmp(jstr(o, "error.code"), "protocol") == 0 &&
	    strstr(jstr(o, "error.message"), want) != NULL, "%s", text);
	free(text);
	cJSON_Delete(o);
}

START_TEST(test_protocol_errors)
{
	struct conn	 c;
	cJSON		*o;
	char		*big;
	size_t		 len = 2 * 1024 * 1024, off = 0;
	ssize_t		 n;

	start();
	conn_open(&c);
	raw_protocol_error(&c, "{\"id\": 1, \"cmd\": \n", "not JSON");
	raw_protocol_error(&c, "[1, 2]\n", "not an object");
	raw_protocol_error(&c, "{\"cmd\": \"list\"}\n", "\"id\"");
	raw_protocol_error(&c, "{\"id\": -3, \"cmd\": \"list\"}\n", "\"id\"");
	raw_protocol_error(&c, "{\"id\": 1.5, \"cmd\": \"list\"}\n", "\"id\"");
	raw_protocol_error(&c, "{\"id\": 4}\n", "\"cmd\"");
	raw_protocol_error(&c, "{\"id\": 5, \"cmd\": \"x\xff\"}\n", "UTF-8");
	call_err(&c, "frobnicate", NULL, "protocol", "unknown command "
	    "'frobnicate'");
	call_err(&c, "feedback", "{\"job\": \"x\"}", "not_found", "'x'");
	call_err(&c, "feedback", NULL, "usage", "\"job\"");
	call_err(&c, "answer", NULL, "usage", "\"duel\"");
	call_err(&c, "answer", "{\"duel\": 1.5}", "usage", "\"duel\"");
	call_err(&c, "answer", "{\"duel\": 1, \"winner\": \"c\"}", "usage",
	    "\"first\", \"second\", \"tie\" or \"skip\"");
	call_err(&c, "answer", "{\"duel\": 99, \"winner\": \"tie\"}",
	    "not_found", "no duel 99");
	call_err(&c, "quit", "{\"stream\": \"x\"}", "usage", "\"stream\"");
	call_err(&c, "pause", NULL, "usage", "\"job\"");
	call_err(&c, "pause", "{\"job\": \"nope\"}", "not_found", "'nope'");
	call_err(&c, "status", "{\"job\": \"nope\"}", "not_found", "'nope'");
	call_err(&c, "submit", "{\"file\": \"relative.json\"}", "usage",
	    "absolute");
	conn_send(&c, "{\"id\": 9, \"cmd\": \"list\", \"args\": [1]}\n");
	o = conn_line(&c, 5);
	ck_assert_str_eq(jstr(o, "error.code"), "usage");
	ck_assert_int_eq(jnum(o, "id"), 9);
	cJSON_Delete(o);
	/* Still served after all that. */
	cJSON_Delete(call_ok(&c, "status", NULL));

	/* A 2 MiB line: an error, then the connection is closed. */
	big = xmalloc(len + 1);
	memset(big, 'x', len);
	big[len] = '\n';
	while (off < len + 1) {
		n = send(c.fd, big + off, len + 1 - off, MSG_NOSIGNAL);
		if (n == -1)
			break;		/* closed on us, as it should */
		off += (size_t)n;
	}
	free(big);
	o = conn_line(&c, 5);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jstr(o, "error.code"), "protocol");
	ck_assert_ptr_nonnull(strstr(jstr(o, "error.message"), "longer"));
	cJSON_Delete(o);
	ck_assert_ptr_null(conn_line(&c, 5));
	conn_close(&c);

	/* The daemon survives and serves new clients. */
	conn_open(&c);
	cJSON_Delete(call_ok(&c, "status", NULL));
	conn_close(&c);
	stop();
}
END_TEST

START_TEST(test_submit_control)
{
	struct conn	 c;
	cJSON		*r = NULL, *o;
	char		*job, *bad, *a, *text;
	double		 step, end;

	start();
	conn_open(&c);

	/* A job file that does not validate: FILE:LINE:COL lines. */
	bad = job_write("bad", "nosuch", STRATEGY_QUICK, NULL);
	a = xasprintf("{\"file\": \"%s\"}", bad);
	o = call(&c, "submit", a);
	text = cJSON_PrintUnformatted(o);
	ck_assert_msg(strcmp(jstr(o, "error.code"), "invalid") == 0 &&
	    strstr(jstr(o, "error.message"), "bad.json:") != NULL &&
	    strstr(jstr(o, "error.message"), "nosuch") != NULL, "%s", text);
	free(text);
	cJSON_Delete(o);
	free(a);
	free(bad);

	job = job_write("long", "sim", STRATEGY_LONG, NULL);
	r = submit(&c, job);
	ck_assert_str_eq(jstr(r, "job"), "long");
	ck_assert_str_eq(jstr(r, "state"), "running");
	ck_assert_int_gt(jnum(r, "id"), 0);
	cJSON_Delete(r);
	a = xasprintf("{\"file\": \"%s\"}", job);
	call_err(&c, "submit", a, "state", "running");
	free(a);
	call_err(&c, "resume", "{\"job\": \"long\"}", "state", "not paused");
	/* A refresh while a run is under way starts nothing, and says so. */
	r = call_ok(&c, "refresh", "{\"job\": \"long\"}");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "started")));
	ck_assert_str_eq(jstr(r, "kind"), "optimize");
	cJSON_Delete(r);

	/* list and status show the live state. */
	r = call_ok(&c, "list", NULL);
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "jobs"), 0);
	ck_assert_str_eq(jstr(o, "name"), "long");
	ck_assert_str_eq(jstr(o, "state"), "running");
	cJSON_Delete(r);
	r = call_ok(&c, "status", NULL);
	ck_assert_int_eq(jnum(r, "jobs.running"), 1);
	cJSON_Delete(r);
	raw_is("SELECT file FROM jobs WHERE name = 'long'", job);

	/* Let it take a step, then pause: the step stays put. */
	end = now_mono() + 20;
	r = NULL;
	while (job_state(&c, "long", &r) != NULL && jnum(r, "step") < 1) {
		ck_assert(now_mono() < end);
		nap(20);
	}
	cJSON_Delete(r);
	r = call_ok(&c, "pause", "{\"job\": \"long\"}");
	ck_assert_str_eq(jstr(r, "state"), "paused");
	cJSON_Delete(r);
	raw_is("SELECT state FROM jobs WHERE name = 'long'", "paused");
	call_err(&c, "pause", "{\"job\": \"long\"}", "state", "not running");
	r = NULL;
	ck_assert_str_eq(job_state(&c, "long", &r), "paused");
	step = jnum(r, "step");
	nap(300);
	ck_assert_str_eq(job_state(&c, "long", &r), "paused");
	ck_assert_int_eq(jnum(r, "step"), step);

	/* Resumed, it moves on. */
	cJSON_Delete(call_ok(&c, "resume", "{\"job\": \"long\"}"));
	raw_is("SELECT state FROM jobs WHERE name = 'long'", "running");
	end = now_mono() + 20;
	while (job_state(&c, "long", &r) != NULL && jnum(r, "step") <= step) {
		ck_assert(now_mono() < end);
		nap(20);
	}

	/* Cancelled: closed at once, in memory and in the store. */
	cJSON_Delete(r);
	r = call_ok(&c, "cancel", "{\"job\": \"long\"}");
	ck_assert_str_eq(jstr(r, "state"), "cancelled");
	cJSON_Delete(r);
	r = NULL;
	ck_assert_str_eq(job_state(&c, "long", &r), "cancelled");
	ck_assert_str_eq(jstr(r, "reason"), "cancelled by request");
	cJSON_Delete(r);
	raw_is("SELECT state FROM jobs WHERE name = 'long'", "cancelled");
	raw_is("SELECT group_concat(status) FROM runs", "cancelled");
	call_err(&c, "cancel", "{\"job\": \"long\"}", "state", "cancelled");

	/* Submitted again, it starts a new run. */
	r = submit(&c, job);
	ck_assert_str_eq(jstr(r, "state"), "running");
	cJSON_Delete(r);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs"), 2);
	conn_close(&c);
	stop();
	/* Stopped while running: it stays running, to resume. */
	raw_is("SELECT state FROM jobs WHERE name = 'long'", "running");
	raw_is("SELECT status FROM runs WHERE id = 2", "running");
	free(job);
}
END_TEST

/*
 * Nanoseconds that thread tid of process pid (0: this thread) has spent
 * ready to run but waiting for a CPU, from the kernel's schedstat; -1
 * when the kernel does not say.
 */
static long long
run_delay(pid_t pid, pid_t tid)
{
	char		 path[64];
	FILE		*f;
	long long	 cpu, wait;
	int		 n;

	if (pid == 0)
		snprintf(path, sizeof path, "/proc/thread-self/schedstat");
	else
		snprintf(path, sizeof path, "/proc/%ld/task/%ld/schedstat",
		    (long)pid, (long)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fscanf(f, "%lld %lld", &cpu, &wait);
	fclose(f);
	return n == 2 ? wait : -1;
}

/*
 * Seconds that the daemon's main thread and this thread have waited for
 * a CPU since the marks, which run_delay() filled (0 when the kernel
 * does not say).
 */
static double
cpu_waited(const long long mark[2])
{
	long long	d = run_delay(T.pid, T.pid), s = run_delay(0, 0);

	if (mark[0] < 0 || mark[1] < 0 || d < 0 || s < 0)
		return 0;
	return (double)((d - mark[0]) + (s - mark[1])) / 1e9;
}

/*
 * Control requests are answered within 100 ms while jobs run, and what
 * a reply tells is committed.  The time counted is the daemon's: what
 * the daemon's main thread or this one spent waiting for a CPU (a loaded
 * machine runs other programs) is taken off each request's time.  A
 * daemon that computes or blocks on its jobs before it answers is slow
 * whatever the load.
 */
START_TEST(test_latency)
{
	struct conn	 c;
	cJSON		*r;
	char		*job, name[16];
	double		 t, waited, worst = 0, worst_wall = 0;
	long long	 mark[2];
	int		 i, round, running = 0;

	start();
	conn_open(&c);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "busy%d", i);
		job = job_write(name, "sim", STRATEGY_LONG, NULL);
		cJSON_Delete(submit(&c, job));
		free(job);
	}
	/* Wait until they are well under way. */
	raw_wait("SELECT count(*) FROM calls", 2000, 20);
	/*
	 * Rounds of 40 requests: one round without a slow answer passes (a
	 * stall that the kernel does not count as waiting for a CPU, such as
	 * a slow disk, may come now and then; a daemon that blocks on its
	 * jobs is slow in every round).
	 */
	for (round = 0; round < 3; round++) {
		worst = worst_wall = 0;
		for (i = 0; i < 40; i++) {
			mark[0] = run_delay(T.pid, T.pid);
			mark[1] = run_delay(0, 0);
			t = now_mono();
			cJSON_Delete(call_ok(&c, i % 2 ? "list" : "status",
			    i % 4 == 0 ? "{\"job\": \"busy1\"}" : NULL));
			t = now_mono() - t;
			waited = cpu_waited(mark);
			if (t > worst_wall)
				worst_wall = t;
			if (t - waited > worst)
				worst = t - waited;
			nap(10);
		}
		r = call_ok(&c, "status", NULL);
		running = (int)jnum(r, "jobs.running");
		cJSON_Delete(r);
		ck_assert_msg(running >= 1, "the jobs ended before the "
		    "measurement");
		if (worst < 0.1)
			break;
	}
	ck_assert_msg(worst < 0.1, "a request took %.0f ms of the daemon's "
	    "time with %d jobs running (the slowest %.0f ms in all)",
	    worst * 1000, running, worst_wall * 1000);
	/*
	 * The daemon's answers of several turns share a commit, and a
	 * request's writes join it; but a reply is only sent once what it
	 * tells is committed: another connection sees it at once.  A job
	 * on a command that answers every 50 ms keeps a transaction open
	 * most of the time.
	 */
	job = job_write("exec1", "cmd", STRATEGY_QUICK, NULL);
	cJSON_Delete(submit(&c, job));
	free(job);
	raw_wait("SELECT count(*) FROM calls WHERE backend = 'cmd'", 4, 20);
	for (i = 0; i < 10; i++) {
		cJSON_Delete(call_ok(&c, "pause", "{\"job\": \"busy2\"}"));
		raw_is("SELECT state FROM jobs WHERE name = 'busy2'", "paused");
		cJSON_Delete(call_ok(&c, "resume", "{\"job\": \"busy2\"}"));
		raw_is("SELECT state FROM jobs WHERE name = 'busy2'",
		    "running");
	}
	conn_close(&c);
	stop();
}
END_TEST

/* Reads a watch stream to its end line; returns that line's result. */
static cJSON *
watch_to_end(struct conn *c, int id, int *nevents, int *nprogress)
{
	cJSON		*o, *r;
	const char	*level;

	*nevents = *nprogress = 0;
	for (;;) {
		o = conn_line(c, 30);
		ck_assert_ptr_nonnull(o);
		if (jnum(o, "id") != id) {
			cJSON_Delete(o);
			continue;
		}
		if (cJSON_GetObjectItem(o, "event") != NULL) {
			level = jstr(o, "event.level");
			ck_assert_ptr_nonnull(level);
			ck_assert(jnum(o, "event.time") > 0);
			if (strcmp(level, "progress") == 0) {
				(*nprogress)++;
				ck_assert(jnum(o, "event.step") >= 0);
				ck_assert(jnum(o, "event.calls") >= 0);
			} else
				(*nevents)++;
			cJSON_Delete(o);
			continue;
		}
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "end")));
		r = cJSON_DetachItemFromObject(o, "result");
		cJSON_Delete(o);
		return r;
	}
}

START_TEST(test_watch)
{
	struct conn	 c, c2;
	cJSON		*r, *o;
	char		*job;
	int		 nevents, nprogress, got_status = 0;

	start();
	conn_open(&c);
	conn_open(&c2);
	job = job_write("quick", "sim", STRATEGY_QUICK, NULL);
	cJSON_Delete(submit(&c, job));
	free(job);
	conn_send(&c, "{\"id\": 500, \"cmd\": \"watch\", \"args\": "
	    "{\"job\": \"quick\"}}\n");
	o = conn_line(&c, 5);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItem(o, "result"), "stream")));
	cJSON_Delete(o);
	r = watch_to_end(&c, 500, &nevents, &nprogress);
	ck_assert_str_eq(jstr(r, "state"), "done");
	ck_assert_int_ge(nevents, 2);
	cJSON_Delete(r);

	/* Watching a job that is over ends at once. */
	conn_send(&c, "{\"id\": 501, \"cmd\": \"watch\", \"args\": "
	    "{\"job\": \"quick\"}}\n");
	cJSON_Delete(conn_line(&c, 5));
	r = watch_to_end(&c, 501, &nevents, &nprogress);
	ck_assert_str_eq(jstr(r, "state"), "done");
	ck_assert_int_eq(nevents, 0);
	cJSON_Delete(r);

	/* A long job, with requests in between, cancelled from elsewhere. */
	job = job_write("long", "sim", STRATEGY_LONG, NULL);
	cJSON_Delete(submit(&c, job));
	free(job);
	conn_send(&c, "{\"id\": 502, \"cmd\": \"watch\", \"args\": "
	    "{\"job\": \"long\"}}\n");
	cJSON_Delete(conn_line(&c, 5));
	conn_send(&c, "{\"id\": 503, \"cmd\": \"status\"}\n");
	while (!got_status) {
		o = conn_line(&c, 5);
		ck_assert_ptr_nonnull(o);
		if (jnum(o, "id") == 503) {
			ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
			got_status = 1;
		} else
			ck_assert_int_eq(jnum(o, "id"), 502);
		cJSON_Delete(o);
	}
	raw_wait("SELECT count(*) FROM events WHERE message LIKE 'step 2:%'"
	    " AND job_id = (SELECT id FROM jobs WHERE name = 'long')", 1, 20);
	cJSON_Delete(call_ok(&c2, "cancel", "{\"job\": \"long\"}"));
	r = watch_to_end(&c, 502, &nevents, &nprogress);
	ck_assert_str_eq(jstr(r, "state"), "cancelled");
	ck_assert_int_ge(nevents, 2);
	ck_assert_int_ge(nprogress, 1);
	cJSON_Delete(r);
	conn_close(&c);
	conn_close(&c2);
	stop();
}
END_TEST

START_TEST(test_second_daemon)
{
	const char	*same_sock[] = { "-f", "-c", T.conf, "-S", T.sock, "-d",
			    NULL, NULL };
	const char	*same_db[] = { "-f", "-c", T.conf, "-S", NULL, "-d",
			    T.db, NULL };
	char		*db2, *sock2, *log;
	struct conn	 c;

	start();
	db2 = xasprintf("%s/other.db", T.dir);
	sock2 = xasprintf("%s/other.sock", T.dir);
	same_sock[6] = db2;
	ck_assert_int_eq(run_status(same_sock), 1);
	same_db[4] = sock2;
	ck_assert_int_eq(run_status(same_db), 1);
	log = read_file(T.log);
	ck_assert_msg(strstr(log, "another promptd is running on socket") !=
	    NULL, "%s", log);
	ck_assert_msg(strstr(log, "is in use by another promptd") != NULL,
	    "%s", log);
	free(log);
	/* The first one still serves. */
	conn_open(&c);
	cJSON_Delete(call_ok(&c, "status", NULL));
	conn_close(&c);

	/* After a crash, the stale socket is replaced. */
	crash();
	start();
	conn_open(&c);
	cJSON_Delete(call_ok(&c, "status", NULL));
	conn_close(&c);
	stop();
	free(db2);
	free(sock2);
}
END_TEST

START_TEST(test_reload)
{
	struct conn	 c;
	char		*job, *job2, *a, *conf2, *log;
	cJSON		*o;
	double		 end;
	int		 ok = 0;

	start();
	conn_open(&c);
	job = job_write("other", "sim2", STRATEGY_QUICK, NULL);
	a = xasprintf("{\"file\": \"%s\"}", job);
	call_err(&c, "submit", a, "invalid", "sim2");

	conf2 = xasprintf("{ \"backends\": {\n"
	    "  \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\" },\n"
	    "  \"sim2\": { \"type\": \"sim\", \"model\": \"sim-2\" }\n} }\n");
	write_file(T.conf, conf2);
	free(conf2);
	ck_assert_int_eq(kill(T.pid, SIGHUP), 0);
	end = now_mono() + 10;
	while (!ok) {
		ck_assert_msg(now_mono() < end, "reload did not happen");
		o = call(&c, "submit", a);
		ok = cJSON_IsTrue(cJSON_GetObjectItem(o, "ok"));
		cJSON_Delete(o);
		if (!ok)
			nap(20);
	}
	free(a);
	wait_state(&c, "other", "done", 20);

	/* A broken file is reported and the working one kept. */
	write_file(T.conf, "{ \"backends\": { \"sim\": 3 ");
	ck_assert_int_eq(kill(T.pid, SIGHUP), 0);
	end = now_mono() + 10;
	for (;;) {
		log = read_file(T.log);
		if (strstr(log, "keeping the previous configuration") != NULL)
			break;
		free(log);
		ck_assert_msg(now_mono() < end, "no reload error logged");
		nap(20);
	}
	ck_assert_msg(strstr(log, "reload: ") != NULL, "%s", log);
	free(log);
	job2 = job_write("other2", "sim2", STRATEGY_QUICK, NULL);
	cJSON_Delete(submit(&c, job2));
	wait_state(&c, "other2", "done", 20);
	conn_close(&c);
	stop();
	free(job);
	free(job2);
}
END_TEST

/*
 * Stops (or crashes) the daemon in the middle of a slow run; after a
 * restart without the rate limit the job finishes in the same run, and no
 * call was paid twice.
 */
static void
resume_case(int hard)
{
	struct conn	 c;
	char		*job, *fast, *log;

	fast = xasprintf("%s/fast.conf", T.dir);
	write_file(fast, conf_fast);
	write_file(T.conf, conf_slow);
	start();
	conn_open(&c);
	job = job_write("slow", "sim", STRATEGY_QUICK, NULL);
	cJSON_Delete(submit(&c, job));
	free(job);
	raw_wait("SELECT count(*) FROM calls WHERE status = 'ok'", 62, 20);
	conn_close(&c);
	if (hard)
		crash();
	else
		stop();
	raw_is("SELECT state FROM jobs", "running");
	raw_is("SELECT group_concat(status) FROM runs", "running");

	start_with(fast, NULL);
	conn_open(&c);
	wait_state(&c, "slow", "done", 30);
	conn_close(&c);
	stop();
	raw_is("SELECT group_concat(status) FROM runs", "done");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM (SELECT cache_key FROM"
	    " calls WHERE status = 'ok' GROUP BY cache_key"
	    " HAVING count(*) > 1)"), 0);
	ck_assert_int_gt(raw_int("SELECT count(*) FROM calls"
	    " WHERE status = 'hit'"), 0);
	log = read_file(T.log);
	ck_assert_msg(strstr(log, "job 'slow': optimize run 1 resumed") !=
	    NULL, "%s", log);
	free(log);
	free(fast);
}

START_TEST(test_resume_after_term)
{
	resume_case(0);
}
END_TEST

START_TEST(test_resume_after_kill)
{
	resume_case(1);
}
END_TEST

/* A job paused when the daemon stops stays paused, and resumes later. */
START_TEST(test_paused_restart)
{
	struct conn	 c;
	char		*job;
	cJSON		*r = NULL;

	start();
	conn_open(&c);
	job = job_write("long", "sim", STRATEGY_LONG, NULL);
	cJSON_Delete(submit(&c, job));
	free(job);
	cJSON_Delete(call_ok(&c, "pause", "{\"job\": \"long\"}"));
	conn_close(&c);
	stop();
	raw_is("SELECT state FROM jobs", "paused");
	raw_is("SELECT status FROM runs", "running");

	start();
	conn_open(&c);
	ck_assert_str_eq(job_state(&c, "long", &r), "paused");
	cJSON_Delete(r);
	r = call_ok(&c, "resume", "{\"job\": \"long\"}");
	ck_assert_str_eq(jstr(r, "state"), "running");
	cJSON_Delete(r);
	raw_wait("SELECT count(*) FROM events WHERE message LIKE 'step 1:%'",
	    1, 20);
	cJSON_Delete(call_ok(&c, "cancel", "{\"job\": \"long\"}"));
	conn_close(&c);
	stop();
	/* One run, resumed, then closed. */
	raw_is("SELECT group_concat(status) FROM runs", "cancelled");
	raw_is("SELECT state FROM jobs", "cancelled");
}
END_TEST

START_TEST(test_schedule)
{
	struct conn	 c;
	struct cron	 cron;
	char		*job, *off, *cause = NULL;
	cJSON		*r;
	time_t		 now, at;

	start();
	conn_open(&c);
	job = job_write("nightly", "sim", STRATEGY_QUICK,
	    "\"schedule\": \"30 4 * * *\",\n  ");
	cJSON_Delete(submit(&c, job));
	free(job);
	wait_state(&c, "nightly", "done", 20);
	r = NULL;
	job_state(&c, "nightly", &r);
	ck_assert_str_eq(jstr(r, "schedule"), "30 4 * * *");
	cJSON_Delete(r);
	conn_close(&c);
	stop();

	/* The daemon's clock two seconds before a match: it fires. */
	ck_assert_int_eq(cron_parse(&cron, "30 4 * * *", &cause), 0);
	now = time(NULL);
	at = cron_next(&cron, now + 120);
	off = xasprintf("%lld", (long long)(at - now - 2));
	start_with(T.conf, off);
	free(off);
	raw_wait("SELECT count(*) FROM runs WHERE kind = 'refresh'", 1, 20);
	conn_open(&c);
	wait_state(&c, "nightly", "done", 20);

	/* A refresh by request; none while one runs. */
	r = call_ok(&c, "refresh", "{\"job\": \"nightly\"}");
	ck_assert_str_eq(jstr(r, "state"), "running");
	ck_assert_int_gt(jnum(r, "run"), 0);
	cJSON_Delete(r);
	wait_state(&c, "nightly", "done", 20);
	conn_close(&c);
	stop();
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs WHERE kind ="
	    " 'refresh'"), 2);

	/* Down while a match passed: one catch-up refresh at startup. */
	now = time(NULL);
	off = xasprintf("%lld", (long long)(at - now + 3600));
	start_with(T.conf, off);
	free(off);
	raw_wait("SELECT count(*) FROM runs WHERE kind = 'refresh'", 3, 20);
	conn_open(&c);
	wait_state(&c, "nightly", "done", 20);
	conn_close(&c);
	stop();
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs WHERE kind ="
	    " 'refresh'"), 3);
}
END_TEST

/* The file's permission bits, or -1 when it is not there. */
static int
file_mode(const char *path)
{
	struct stat	st;

	if (stat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

START_TEST(test_detach)
{
	const char	*argv[] = { "-c", NULL, "-S", T.sock, "-d", T.db,
			    NULL };
	const char	*suffix[] = { "", "-wal", "-shm", ".lock" };
	struct conn	 c;
	struct stat	 st;
	char		*pidfile, *text, *conf, *logfile, *path;
	double		 end;
	pid_t		 pid;
	size_t		 i;

	/*
	 * Under the usual umask, what the daemon creates is still its
	 * owner's alone: the database and its -wal and -shm (prompts,
	 * datasets, outputs), the lock, the pid file and the log.
	 */
	umask(022);
	conf = xasprintf("%s/logging.conf", T.dir);
	logfile = xasprintf("%s/daemon.log", T.dir);
	text = xasprintf("{ \"log_file\": \"%s\",\n%s", logfile,
	    strchr(conf_fast, '{') + 1);
	write_file(conf, text);
	free(text);
	argv[1] = conf;

	/* The parent exits 0 once the daemon is ready. */
	ck_assert_int_eq(run_status(argv), 0);
	pidfile = xasprintf("%s.pid", T.sock);
	text = read_file(pidfile);
	pid = (pid_t)strtol(text, NULL, 10);
	free(text);
	ck_assert_int_gt(pid, 1);
	conn_open(&c);
	cJSON_Delete(call_ok(&c, "status", NULL));
	conn_close(&c);
	for (i = 0; i < nitems(suffix); i++) {
		path = xasprintf("%s%s", T.db, suffix[i]);
		ck_assert_msg(file_mode(path) == 0600, "%s: mode %o", path,
		    file_mode(path));
		free(path);
	}
	ck_assert_msg(file_mode(pidfile) == 0600, "%s: mode %o", pidfile,
	    file_mode(pidfile));
	ck_assert_msg(file_mode(logfile) == 0600, "%s: mode %o", logfile,
	    file_mode(logfile));
	free(logfile);
	free(conf);
	/* A second one fails to start: its parent says so. */
	ck_assert_int_eq(run_status(argv), 1);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	end = now_mono() + 10;
	while (stat(pidfile, &st) == 0 || stat(T.sock, &st) == 0) {
		if (now_mono() > end) {
			kill(pid, SIGKILL);
			ck_abort_msg("the detached promptd did not stop");
		}
		nap(10);
	}
	free(pidfile);
}
END_TEST

/* The next datagram on fd as text, or fails the test after seconds. */
static char *
dgram_read(int fd, double seconds)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	char		buf[256];
	ssize_t		n;

	ck_assert_msg(poll(&pfd, 1, (int)(slack(seconds) * 1000)) == 1,
	    "no notification: %s", read_file(T.log));
	ck_assert_int_gt(n = recv(fd, buf, sizeof buf - 1, 0), 0);
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * As systemd runs it (promptd.service): the database in
 * $STATE_DIRECTORY, the socket in $RUNTIME_DIRECTORY (created), READY=1
 * once it answers and STOPPING=1 when it stops, sent to $NOTIFY_SOCKET.
 */
START_TEST(test_systemd)
{
	const char		*argv[] = { "-f", "-c", NULL, NULL };
	struct sockaddr_un	 sun;
	char			*state, *run, *path, *msg;
	int			 fd, st;

	state = xasprintf("%s/state", T.dir);
	run = xasprintf("%s/run/promptd", T.dir);
	ck_assert_int_eq(mkdir(state, 0700), 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/notify", T.dir);
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	setenv("STATE_DIRECTORY", state, 1);
	setenv("RUNTIME_DIRECTORY", run, 1);
	argv[2] = T.conf;
	T.pid = spawn(NULL, argv);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");

	msg = dgram_read(fd, 10);
	ck_assert_str_eq(msg, "READY=1");
	free(msg);
	path = xasprintf("%s/promptd.sock", run);
	ck_assert_int_ne(st = sock_connect(path), -1);
	close(st);
	free(path);
	path = xasprintf("%s/promptd.db", state);
	ck_assert_int_eq(access(path, F_OK), 0);
	free(path);
	msg = read_file(T.log);
	ck_assert_msg(strstr(msg, "listening on") != NULL, "%s", msg);
	free(msg);
	stop();
	msg = dgram_read(fd, 1);
	ck_assert_str_eq(msg, "STOPPING=1");
	free(msg);
	close(fd);
	free(state);
	free(run);
}
END_TEST

/* Only the daemon's own user and root are served (needs root to test). */
START_TEST(test_peer_uid)
{
	struct conn	 c;
	cJSON		*o;
	pid_t		 pid;
	int		 st, ok;
	const char	*hello;
	char		*cause;

	if (geteuid() != 0)
		return;
	start();
	ck_assert_int_eq(chmod(T.dir, 0755), 0);
	ck_assert_int_eq(chmod(T.sock, 0666), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		strbuf_init(&c.in);
		if ((c.fd = sock_connect(T.sock)) == -1)
			_exit(4);
		/*
		 * The daemon may refuse (and close) before the hello is
		 * sent: a failed send is not a failure of the test.
		 */
		hello = "{\"hello\": \"promptctl\", \"protocol\": 1}\n";
		if (send(c.fd, hello, strlen(hello), MSG_NOSIGNAL) == -1 &&
		    errno != EPIPE && errno != ECONNRESET)
			_exit(6);
		o = conn_line(&c, 5);
		ok = o != NULL && jstr(o, "error.code") != NULL &&
		    strcmp(jstr(o, "error.code"), "denied") == 0 &&
		    strstr(jstr(o, "error.message"), "uid 65534") != NULL &&
		    conn_line(&c, 5) == NULL;
		if (!ok)
			_exit(5);
		/* promptctl's client says why. */
		cause = NULL;
		if (client_connect(T.sock, &cause) != NULL || cause == NULL ||
		    strstr(cause, "refused the connection: uid 65534 may not "
		    "control this promptd") == NULL)
			_exit(7);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "another uid was not refused (status %d)", st);
	/* The owner still is served. */
	conn_open(&c);
	cJSON_Delete(call_ok(&c, "status", NULL));
	conn_close(&c);
	stop();
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite	*s = suite_create("daemon");
	TCase	*tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_handshake);
	tcase_add_test(tc, test_handshake_timeout);
	tcase_add_test(tc, test_handshake_crowd);
	tcase_add_test(tc, test_protocol_errors);
	tcase_add_test(tc, test_submit_control);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_watch);
	tcase_add_test(tc, test_second_daemon);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_resume_after_term);
	tcase_add_test(tc, test_resume_after_kill);
	tcase_add_test(tc, test_paused_restart);
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_systemd);
	tcase_add_test(tc, test_peer_uid);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(daemon_suite)
