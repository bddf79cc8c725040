/*
 * browsercheck: opens an HTML file in headless Chromium and checks it,
 * for the tests of promptctl's self-contained HTML report (issue 14).  It
 * starts chromedriver itself and speaks the W3C WebDriver protocol to it
 * over HTTP: the page must log no error to the console, make no network
 * request, hold the elements each -e expects and, with -s, not look
 * blank.
 *
 * Exits 0 when every check passes, 1 when one fails, 2 when the browser
 * could not be started, 64 on a usage error.  Each check prints one line,
 * "ok" or "FAIL", and a last line sums them up.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define BC_EXIT_FAIL	1
#define BC_EXIT_BROWSER	2
#define BC_EXIT_USAGE	64

#define BC_TIMEOUT	60	/* default -t, seconds */
#define BC_TIMEOUT_MAX	3600
#define BC_PORT_TRIES	4	/* ports tried for chromedriver */
#define BC_READY_TRIES	200	/* GET /status polls, BC_POLL apart */
#define BC_STOP_TRIES	60	/* polls until chromedriver exits */
#define BC_POLL		0.05	/* seconds */
#define BC_QUIT		10.0	/* most seconds for DELETE /session */
#define BC_QUIT_MIN	1.0	/* least, even when the time is over */
#define BC_REPLY_MAX	(64 * 1024 * 1024)
#define BC_TAIL		2048	/* bytes shown of chromedriver's log */
#define BC_URL_SHOWN	200	/* bytes of a request's URL shown */
#define BC_BLANK	0.01	/* least share of pixels unlike a corner */

static const char bc_usage[] = "usage: browsercheck [-t seconds] "
    "[-s shot.png] [-e 'selector=N' | -e 'selector>=N'] ... file.html\n";

/* What the browser is started with; the profile directory is added. */
static const char *const bc_chromium_args[] = {
	"--headless=new", "--no-sandbox", "--disable-gpu",
	"--disable-dev-shm-usage", "--window-size=1280,2000"
};

/*
 * Draws the screenshot (arguments[0], a base64 PNG) on a canvas and
 * counts the pixels unlike the top-left one, with the browser's own PNG
 * decoder so that this program needs none.  Answers [differing, all], or
 * a string saying what went wrong.
 */
static const char bc_pixels_js[] =
    "var done = arguments[arguments.length - 1];"
    "var img = new Image();"
    "img.onerror = function () { done('the screenshot is no image'); };"
    "img.onload = function () {"
    "  var c = document.createElement('canvas');"
    "  c.width = img.naturalWidth;"
    "  c.height = img.naturalHeight;"
    "  var g = c.getContext('2d');"
    "  g.drawImage(img, 0, 0);"
    "  var d = g.getImageData(0, 0, c.width, c.height).data, n = 0;"
    "  for (var i = 0; i < d.length; i += 4)"
    "    if (d[i] != d[0] || d[i + 1] != d[1] || d[i + 2] != d[2] ||"
    "        d[i + 3] != d[3])"
    "      n++;"
    "  done([n, d.length / 4]);"
    "};"
    "img.src = 'data:image/png;base64,' + arguments[0];";

/* One -e: exactly n elements match selector, or at least n. */
struct expect {
	const char	*arg;
	char		*selector;
	long		 n;
	int		 at_least;
};

struct bc {
	/* What to check. */
	const char	*path;
	const char	*shot;
	struct expect	*ex;
	size_t		 nex;
	double		 seconds;
	const char	*driver_path;
	const char	*chromium;

	double		 start;
	double		 deadline;	/* time_mono() */
	char		*dir;		/* the profile and the log */
	char		*log;		/* chromedriver's output */
	pid_t		 pid;		/* chromedriver: its group */
	int		 exited;
	int		 status;
	CURL		*curl;
	struct curl_slist *headers;
	struct strbuf	 reply;
	char		 base[64];	/* http://127.0.0.1:port */
	char		*session;
	char		*file;		/* the page's file:// URL */
	char		*url;		/* as the browser spells it */

	int		 checks;
	int		 failed;
};

static volatile sig_atomic_t bc_stop;

static void
bc_signal(int sig)
{
	bc_stop = sig;
}

/* Seconds left of -t. */
static double
bc_left(const struct bc *bc)
{
	return bc->deadline - time_mono();
}

/* Prints a check's line and counts it; returns ok. */
static int
check(struct bc *bc, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
check(struct bc *bc, int ok, const char *fmt, ...)
{
	va_list	ap;

	bc->checks++;
	if (!ok)
		bc->failed++;
	fputs(ok ? "ok   " : "FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return ok;
}

/* Stops a transfer when a signal asks the whole run to stop. */
static int
bc_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	return bc_stop != 0;
}

static size_t
bc_write(char *p, size_t size, size_t n, void *arg)
{
	struct strbuf	*sb = arg;

	if (sb->len + size * n > BC_REPLY_MAX)
		return 0;
	strbuf_add(sb, p, size * n);
	return size * n;
}

/*
 * The error of a WebDriver reply: "error: message", on one line and
 * without the browser's version that chromedriver appends.
 */
static int
wd_error(const cJSON *value, long code, char **cause)
{
	const cJSON	*e, *m;
	char		*s, *p;

	e = cJSON_GetObjectItemCaseSensitive(value, "error");
	m = cJSON_GetObjectItemCaseSensitive(value, "message");
	if (!cJSON_IsString(e))
		return cause_set(cause, "HTTP %ld without a WebDriver error",
		    code);
	s = xstrdup(cJSON_IsString(m) ? m->valuestring : "");
	if ((p = strstr(s, "\n  (Session info:")) != NULL)
		*p = '\0';
	for (p = s; (p = strchr(p, '\n')) != NULL; p++)
		*p = ' ';
	if (strncmp(s, e->valuestring, strlen(e->valuestring)) == 0)
		cause_set(cause, "%s", s);
	else
		cause_set(cause, "%s: %s", e->valuestring, s);
	free(s);
	return -1;
}

/* The "value" of a reply (the caller's to delete), or NULL. */
static cJSON *
wd_value(const struct bc *bc, long code, char **cause)
{
	cJSON	*reply, *value;

	reply = cJSON_ParseWithLength(bc->reply.buf, bc->reply.len);
	value = cJSON_DetachItemFromObjectCaseSensitive(reply, "value");
	cJSON_Delete(reply);
	if (value == NULL)
		cause_set(cause, "HTTP %ld, no WebDriver reply", code);
	else if (code != 200) {
		wd_error(value, code, cause);
		cJSON_Delete(value);
		value = NULL;
	}
	return value;
}

/* A command's path as errors name it: without /session/ID. */
static const char *
wd_shown(const struct bc *bc, const char *path)
{
	size_t	n;

	if (bc->session == NULL || strncmp(path, "/session/", 9) != 0)
		return path;
	n = strlen(bc->session);
	if (strncmp(path + 9, bc->session, n) != 0 || path[9 + n] == '\0')
		return path;
	return path + 9 + n;
}

/*
 * One WebDriver command: method on path, with body (a POST without one
 * sends "{}"), in at most timeout seconds.  Returns the reply's "value"
 * (the caller's to delete), or NULL with *cause set.
 */
static cJSON *
wd_call(struct bc *bc, const char *method, const char *path,
    const cJSON *body, double timeout, char **cause)
{
	CURL		*c = bc->curl;
	cJSON		*value;
	char		*url, *json = NULL;
	char		 err[CURL_ERROR_SIZE] = "";
	long		 code = 0;
	CURLcode	 rc;

	if (timeout <= 0) {
		cause_set(cause, "the time limit of %g s is over",
		    bc->seconds);
		return NULL;
	}
	url = xasprintf("%s%s", bc->base, path);
	strbuf_reset(&bc->reply);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000) + 1);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bc_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bc->reply);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, bc_progress);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, bc->headers);
	if (strcmp(method, "POST") == 0) {
		json = body != NULL ? cJSON_PrintUnformatted(body) :
		    xstrdup("{}");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	} else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	free(json);
	free(url);

	if (rc == CURLE_OPERATION_TIMEDOUT && bc_left(bc) < BC_POLL)
		cause_set(cause, "no answer within the time limit (-t %g)",
		    bc->seconds);
	else if (rc == CURLE_ABORTED_BY_CALLBACK)
		cause_set(cause, "stopped by signal %d", (int)bc_stop);
	else if (rc != CURLE_OK)
		cause_set(cause, "%s", *err != '\0' ? err :
		    curl_easy_strerror(rc));
	else if ((value = wd_value(bc, code, cause)) != NULL)
		return value;
	cause_prefix(cause, "%s %s: ", method, wd_shown(bc, path));
	return NULL;
}

/* A command of the session, its path after /session/ID. */
static cJSON *
wd_session(struct bc *bc, const char *method, const char *path,
    const cJSON *body, char **cause)
{
	cJSON	*value;
	char	*p;

	p = xasprintf("/session/%s%s", bc->session, path);
	value = wd_call(bc, method, p, body, bc_left(bc), cause);
	free(p);
	return value;
}

/* A free port on the loopback: bound as port 0, named, closed again. */
static int
port_pick(char **cause)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		cause_set(cause, "no free port: %s", strerror(errno));
		close(fd);
		return -1;
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/*
 * Starts chromedriver on port, its output in bc->log, in a process group
 * of its own: the browser it starts joins it, so one kill stops both.
 * The browser's own log goes to the same file.
 */
static int
driver_spawn(struct bc *bc, int port, char **cause)
{
	char	arg[32];
	int	fd, null;
	pid_t	pid;

	snprintf(arg, sizeof arg, "--port=%d", port);
	if ((fd = open(bc->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return cause_set(cause, "%s: %s", bc->log, strerror(errno));
	if ((pid = fork()) == -1) {
		close(fd);
		return cause_set(cause, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		setpgid(0, 0);
		if ((null = open("/dev/null", O_RDONLY)) != -1)
			dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execlp(bc->driver_path, bc->driver_path, arg,
		    "--enable-chrome-logs", (char *)NULL);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", bc->driver_path,
		    strerror(errno));
		_exit(127);
	}
	/* As the child does: whichever of the two runs first. */
	setpgid(pid, pid);
	close(fd);
	bc->pid = pid;
	bc->exited = 0;
	snprintf(bc->base, sizeof bc->base, "http://127.0.0.1:%d", port);
	return 0;
}

/* Whether chromedriver has exited (waiting for it with wait set). */
static int
driver_reap(struct bc *bc, int wait)
{
	if (bc->pid > 0 && !bc->exited &&
	    waitpid(bc->pid, &bc->status, wait ? 0 : WNOHANG) == bc->pid)
		bc->exited = 1;
	return bc->exited;
}

/* Asks chromedriver to stop, then kills what is left of its group. */
static void
driver_stop(struct bc *bc)
{
	int	i;

	if (bc->pid <= 0)
		return;
	kill(-bc->pid, SIGTERM);
	for (i = 0; i < BC_STOP_TRIES && !driver_reap(bc, 0); i++)
		time_sleep(BC_POLL);
	kill(-bc->pid, SIGKILL);
	driver_reap(bc, 1);
	bc->pid = 0;
}

/* Prints the end of chromedriver's output, which says why it failed. */
static void
driver_tail(const struct bc *bc)
{
	char	*text = NULL, *p, *nl;
	size_t	 len = 0;

	if (file_read(bc->log, BC_REPLY_MAX, &text, &len, NULL) != 0)
		return;
	p = text;
	if (len > BC_TAIL && (nl = strchr(text + len - BC_TAIL, '\n')) != NULL)
		p = nl + 1;
	for (; *p != '\0'; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "  chromedriver| %.*s\n", (int)(nl - p), p);
	}
	free(text);
}

/* Waits, a bounded number of times, for GET /status to say ready. */
static int
driver_ready(struct bc *bc, char **cause)
{
	cJSON	*v;
	int	 i, ready;

	for (i = 0; i < BC_READY_TRIES && !bc_stop; i++) {
		if (driver_reap(bc, 0)) {
			if (WIFEXITED(bc->status))
				return cause_set(cause, "chromedriver exited "
				    "with status %d", WEXITSTATUS(bc->status));
			return cause_set(cause, "chromedriver was killed by "
			    "signal %d", WTERMSIG(bc->status));
		}
		if (bc_left(bc) <= 0)
			break;
		v = wd_call(bc, "GET", "/status", NULL, 1.0, NULL);
		ready = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v,
		    "ready"));
		cJSON_Delete(v);
		if (ready)
			return 0;
		time_sleep(BC_POLL);
	}
	return cause_set(cause, "chromedriver did not get ready on %s",
	    bc->base);
}

/*
 * Starts chromedriver on a free port.  The port is free when picked but
 * may be taken before chromedriver binds it: when it exits early, another
 * port is tried, unless it could not run at all.
 */
static int
driver_start(struct bc *bc, char **cause)
{
	int	i, port, died;

	for (i = 0; i < BC_PORT_TRIES; i++) {
		if ((port = port_pick(cause)) == -1 ||
		    driver_spawn(bc, port, cause) != 0)
			return -1;
		if (driver_ready(bc, cause) == 0)
			return 0;
		died = bc->exited && !(WIFEXITED(bc->status) &&
		    WEXITSTATUS(bc->status) == 127);
		driver_stop(bc);
		if (!died || bc_stop)
			return -1;
	}
	return cause_prefix(cause, "%d ports tried: ", BC_PORT_TRIES);
}

/* The capabilities of the session: headless Chromium, every log. */
static cJSON *
session_caps(const struct bc *bc)
{
	cJSON	*caps, *always, *opts, *args, *prefs, *to;
	char	*profile;
	size_t	 i;
	double	 ms;

	caps = cJSON_CreateObject();
	always = cJSON_AddObjectToObject(cJSON_AddObjectToObject(caps,
	    "capabilities"), "alwaysMatch");
	opts = cJSON_AddObjectToObject(always, "goog:chromeOptions");
	cJSON_AddStringToObject(opts, "binary", bc->chromium);
	args = cJSON_AddArrayToObject(opts, "args");
	for (i = 0; i < nitems(bc_chromium_args); i++)
		cJSON_AddItemToArray(args,
		    cJSON_CreateString(bc_chromium_args[i]));
	profile = xasprintf("--user-data-dir=%s/profile", bc->dir);
	cJSON_AddItemToArray(args, cJSON_CreateString(profile));
	free(profile);
	prefs = cJSON_AddObjectToObject(always, "goog:loggingPrefs");
	cJSON_AddStringToObject(prefs, "browser", "ALL");
	cJSON_AddStringToObject(prefs, "performance", "ALL");
	/* The browser gives up on a page or a script with -t. */
	ms = bc->seconds * 1000;
	to = cJSON_AddObjectToObject(always, "timeouts");
	cJSON_AddNumberToObject(to, "pageLoad", ms);
	cJSON_AddNumberToObject(to, "script", ms);
	return caps;
}

static int
session_new(struct bc *bc, char **cause)
{
	cJSON		*caps, *v;
	const cJSON	*id;

	caps = session_caps(bc);
	v = wd_call(bc, "POST", "/session", caps, bc_left(bc), cause);
	cJSON_Delete(caps);
	if (v == NULL)
		return -1;
	id = cJSON_GetObjectItemCaseSensitive(v, "sessionId");
	if (cJSON_IsString(id))
		bc->session = xstrdup(id->valuestring);
	cJSON_Delete(v);
	if (bc->session == NULL)
		return cause_set(cause, "POST /session: no sessionId");
	return 0;
}

/*
 * Ends the session, which quits the browser: given a second even when
 * the time is over, as the browser is killed anyway when it takes long.
 * After a signal it is killed at once (the transfer would be stopped).
 */
static void
session_delete(struct bc *bc)
{
	char	*p;
	double	 left = bc_left(bc);

	if (bc->session == NULL || bc_stop)
		return;
	p = xasprintf("/session/%s", bc->session);
	cJSON_Delete(wd_call(bc, "DELETE", p, NULL, left < BC_QUIT_MIN ?
	    BC_QUIT_MIN : left > BC_QUIT ? BC_QUIT : left, NULL));
	free(p);
	free(bc->session);
	bc->session = NULL;
}

/* A log's entries since it was last read (the caller's to delete). */
static cJSON *
log_read(struct bc *bc, const char *type, char **cause)
{
	cJSON	*body, *v;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "type", type);
	v = wd_session(bc, "POST", "/se/log", body, cause);
	cJSON_Delete(body);
	if (v != NULL && !cJSON_IsArray(v)) {
		cJSON_Delete(v);
		cause_set(cause, "the %s log is not a list", type);
		return NULL;
	}
	return v;
}

/* Goes to url and waits for it to load. */
static int
page_go(struct bc *bc, const char *url, char **cause)
{
	cJSON	*body, *v;
	int	 rc;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "url", url);
	v = wd_session(bc, "POST", "/url", body, cause);
	rc = v != NULL ? 0 : -1;
	cJSON_Delete(body);
	cJSON_Delete(v);
	return rc;
}

/* The file's URL: its absolute path, with what a URL cannot hold escaped. */
static char *
file_url(const char *abs)
{
	struct strbuf	 sb;
	const char	*p;

	strbuf_init(&sb);
	strbuf_adds(&sb, "file://");
	for (p = abs; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL)
			strbuf_addc(&sb, *p);
		else
			strbuf_addf(&sb, "%%%02X", (unsigned char)*p);
	}
	return strbuf_detach(&sb);
}

/*
 * Opens the file.  The logs are read and dropped first: the browser's
 * own start page fills them.  bc->url is then what the browser says it
 * shows, in its own spelling of the URL, which the network check needs.
 */
static int
page_open(struct bc *bc, char **cause)
{
	cJSON	*v;

	cJSON_Delete(log_read(bc, "browser", NULL));
	cJSON_Delete(log_read(bc, "performance", NULL));
	if (page_go(bc, bc->file, cause) != 0 ||
	    (v = wd_session(bc, "GET", "/url", NULL, cause)) == NULL)
		return -1;
	if (cJSON_IsString(v) && strncmp(v->valuestring, "file:", 5) == 0)
		bc->url = xstrdup(v->valuestring);
	else
		cause_set(cause, "the browser shows %s, not the file",
		    cJSON_IsString(v) ? v->valuestring : "nothing");
	cJSON_Delete(v);
	return bc->url != NULL ? 0 : -1;
}

/* The console must hold no error: a script's, or a failed load's. */
static void
check_console(struct bc *bc)
{
	const cJSON	*e, *level, *msg;
	cJSON		*log;
	struct strbuf	 bad;
	char		*cause = NULL;
	int		 n = 0;

	if ((log = log_read(bc, "browser", &cause)) == NULL) {
		check(bc, 0, "console: %s", cause);
		free(cause);
		return;
	}
	strbuf_init(&bad);
	cJSON_ArrayForEach(e, log) {
		level = cJSON_GetObjectItemCaseSensitive(e, "level");
		msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		if (cJSON_IsString(level) &&
		    strcmp(level->valuestring, "SEVERE") == 0) {
			n++;
			strbuf_addf(&bad, "  SEVERE %s\n", cJSON_IsString(msg) ?
			    msg->valuestring : "(no message)");
		}
	}
	cJSON_Delete(log);
	check(bc, n == 0, "console: %d error(s)", n);
	if (bad.len > 0)
		fputs(bad.buf, stdout);
	strbuf_release(&bad);
}

/* Whether url is the page's own (which may carry a #fragment). */
static int
url_is_page(const struct bc *bc, const char *url)
{
	size_t	len = strcspn(bc->url, "#");

	return strncmp(url, bc->url, len) == 0 &&
	    (url[len] == '\0' || url[len] == '#');
}

/*
 * The URL of a performance log entry if it is a request the page sent,
 * else NULL.  Each entry's message is a DevTools event, as a JSON string.
 */
static char *
perf_request(const cJSON *entry)
{
	const cJSON	*m, *method, *url;
	cJSON		*ev;
	char		*s = NULL;

	m = cJSON_GetObjectItemCaseSensitive(entry, "message");
	if (!cJSON_IsString(m) || (ev = cJSON_Parse(m->valuestring)) == NULL)
		return NULL;
	m = cJSON_GetObjectItemCaseSensitive(ev, "message");
	method = cJSON_GetObjectItemCaseSensitive(m, "method");
	if (cJSON_IsString(method) && strcmp(method->valuestring,
	    "Network.requestWillBeSent") == 0) {
		url = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(m, "params"), "request"),
		    "url");
		if (cJSON_IsString(url))
			s = xstrdup(url->valuestring);
	}
	cJSON_Delete(ev);
	return s;
}

/*
 * The page must send no request but for itself and data: URLs.  Requests
 * before the page's own are the start page's, late in the log.
 */
static void
check_network(struct bc *bc)
{
	const cJSON	*e;
	cJSON		*log;
	struct strbuf	 bad;
	char		*cause = NULL, *url;
	int		 n = 0, seen = 0;

	if ((log = log_read(bc, "performance", &cause)) == NULL) {
		check(bc, 0, "network: %s", cause);
		free(cause);
		return;
	}
	strbuf_init(&bad);
	cJSON_ArrayForEach(e, log) {
		if ((url = perf_request(e)) == NULL)
			continue;
		if (!seen)
			seen = url_is_page(bc, url);
		else if (!url_is_page(bc, url) &&
		    strncmp(url, "data:", 5) != 0) {
			n++;
			strbuf_addf(&bad, "  request %.*s%s\n", BC_URL_SHOWN,
			    url, strlen(url) > BC_URL_SHOWN ? "..." : "");
		}
		free(url);
	}
	cJSON_Delete(log);
	if (!seen)
		check(bc, 0, "network: the load of %s is not in the log",
		    bc->url);
	else
		check(bc, n == 0, "network: %d request(s)", n);
	if (bad.len > 0)
		fputs(bad.buf, stdout);
	strbuf_release(&bad);
}

/* -e: counts the elements that match a CSS selector. */
static void
check_expect(struct bc *bc, const struct expect *ex)
{
	cJSON	*body, *args, *v;
	char	*cause = NULL;
	int	 ok;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "script",
	    "return document.querySelectorAll(arguments[0]).length");
	args = cJSON_AddArrayToObject(body, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(ex->selector));
	v = wd_session(bc, "POST", "/execute/sync", body, &cause);
	cJSON_Delete(body);
	if (v == NULL || !cJSON_IsNumber(v))
		check(bc, 0, "%s: %s", ex->arg, v == NULL ? cause :
		    "no count");
	else {
		ok = ex->at_least ? v->valuedouble >= ex->n :
		    v->valuedouble == ex->n;
		check(bc, ok, "%s: %d found", ex->arg, v->valueint);
	}
	cJSON_Delete(v);
	free(cause);
}

/* Decodes base64 (no white space in it) in place; returns the length. */
static int
b64_decode(char *s, size_t *lenp)
{
	static const char	 digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*d;
	unsigned long		 acc = 0;
	size_t			 i, n = 0;
	int			 bits = 0;

	for (i = 0; s[i] != '\0' && s[i] != '='; i++) {
		if ((d = strchr(digits, s[i])) == NULL)
			return -1;
		acc = (acc << 6 | (unsigned long)(d - digits)) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			s[n++] = (char)(acc >> bits & 0xff);
		}
	}
	*lenp = n;
	return 0;
}

/* Writes the screenshot (base64) to a file. */
static int
shot_write(const char *path, const char *b64, char **cause)
{
	FILE	*f;
	char	*png;
	size_t	 len, n;
	int	 rc = 0;

	png = xstrdup(b64);
	if (b64_decode(png, &len) != 0)
		rc = cause_set(cause, "the screenshot is not base64");
	else if ((f = fopen(path, "wb")) == NULL)
		rc = cause_set(cause, "%s: %s", path, strerror(errno));
	else {
		n = fwrite(png, 1, len, f);
		if (fclose(f) != 0 || n != len)
			rc = cause_set(cause, "%s: %s", path, strerror(errno));
	}
	free(png);
	return rc;
}

/*
 * Counts, in the browser, the screenshot's pixels unlike its top-left
 * one.  On a blank page of its own: the page checked may forbid data:
 * images (Content-Security-Policy) or run scripts of its own.
 */
static int
shot_count(struct bc *bc, const char *b64, double *share, char **cause)
{
	cJSON		*body, *args, *v;
	const cJSON	*n, *all;

	if (page_go(bc, "about:blank", cause) != 0)
		return -1;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "script", bc_pixels_js);
	args = cJSON_AddArrayToObject(body, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(b64));
	v = wd_session(bc, "POST", "/execute/async", body, cause);
	cJSON_Delete(body);
	if (v == NULL)
		return -1;
	n = cJSON_GetArrayItem(v, 0);
	all = cJSON_GetArrayItem(v, 1);
	if (cJSON_IsNumber(n) && cJSON_IsNumber(all) && all->valuedouble > 0)
		*share = n->valuedouble / all->valuedouble;
	else
		cause_set(cause, "%s", cJSON_IsString(v) ? v->valuestring :
		    "the screenshot has no pixels");
	cJSON_Delete(v);
	return *share >= 0 ? 0 : -1;
}

/* -s: takes a screenshot, writes it and checks it is not blank. */
static void
check_shot(struct bc *bc)
{
	cJSON	*v;
	char	*cause = NULL;
	double	 share = -1;

	if ((v = wd_session(bc, "GET", "/screenshot", NULL, &cause)) == NULL ||
	    !cJSON_IsString(v)) {
		check(bc, 0, "screenshot: %s", v == NULL ? cause :
		    "not a string");
	} else if (shot_write(bc->shot, v->valuestring, &cause) != 0 ||
	    shot_count(bc, v->valuestring, &share, &cause) != 0)
		check(bc, 0, "screenshot %s: %s", bc->shot, cause);
	else
		check(bc, share >= BC_BLANK, "screenshot %s: %.2f%% of pixels "
		    "unlike the top-left one%s", bc->shot, share * 100,
		    share >= BC_BLANK ? "" : ": blank");
	cJSON_Delete(v);
	free(cause);
}

/* Removes the temporary directory: what nftw finds, deepest first. */
static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* A program it needs: absolute, or looked up in PATH when it runs. */
static int
bc_needs(const char *path, const char *package, char **cause)
{
	if (strchr(path, '/') == NULL || access(path, X_OK) == 0)
		return 0;
	return cause_set(cause, "%s: %s: apt-get install %s", path,
	    strerror(errno), package);
}

/* Starts chromedriver and the browser; returns an exit status. */
static int
bc_start(struct bc *bc)
{
	const char	*tmp = getenv("TMPDIR");
	char		*cause = NULL;

	if (bc_needs(bc->driver_path, "chromium-driver", &cause) != 0 ||
	    bc_needs(bc->chromium, "chromium", &cause) != 0) {
		fprintf(stderr, "browsercheck: %s\n", cause);
		free(cause);
		return BC_EXIT_BROWSER;
	}
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	bc->dir = xasprintf("%s/browsercheck.XXXXXX", tmp);
	if (mkdtemp(bc->dir) == NULL) {
		fprintf(stderr, "browsercheck: cannot create a directory in "
		    "%s: %s\n", tmp, strerror(errno));
		free(bc->dir);
		bc->dir = NULL;
		return BC_EXIT_BROWSER;
	}
	bc->log = xasprintf("%s/chromedriver.log", bc->dir);
	/*
	 * chromedriver and the browser inherit it: the scratch directories
	 * the browser may leave there when it is killed go with the rest.
	 */
	setenv("TMPDIR", bc->dir, 1);
	if (driver_start(bc, &cause) != 0 || session_new(bc, &cause) != 0) {
		fprintf(stderr, "browsercheck: the browser did not start: "
		    "%s\n", cause);
		driver_tail(bc);
		free(cause);
		return BC_EXIT_BROWSER;
	}
	return 0;
}

/* Opens the page and checks it; returns an exit status. */
static int
bc_run(struct bc *bc)
{
	char	 abs[PATH_MAX], *cause = NULL;
	size_t	 i;
	int	 rc;

	if (realpath(bc->path, abs) == NULL) {
		check(bc, 0, "load %s: %s", bc->path, strerror(errno));
		return BC_EXIT_FAIL;
	}
	bc->file = file_url(abs);
	if ((rc = bc_start(bc)) != 0)
		return rc;
	if (page_open(bc, &cause) != 0) {
		check(bc, 0, "load %s: %s", bc->path, cause);
		free(cause);
		return BC_EXIT_FAIL;
	}
	check_console(bc);
	check_network(bc);
	for (i = 0; i < bc->nex; i++)
		check_expect(bc, &bc->ex[i]);
	if (bc->shot != NULL)
		check_shot(bc);
	return bc->failed > 0 ? BC_EXIT_FAIL : 0;
}

/* Quits the browser, stops chromedriver and removes what they left. */
static void
bc_finish(struct bc *bc)
{
	size_t	i;

	if (bc->curl != NULL)
		session_delete(bc);
	driver_stop(bc);
	if (bc->dir != NULL)
		nftw(bc->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (bc->curl != NULL)
		curl_easy_cleanup(bc->curl);
	curl_slist_free_all(bc->headers);
	strbuf_release(&bc->reply);
	for (i = 0; i < bc->nex; i++)
		free(bc->ex[i].selector);
	free(bc->ex);
	free(bc->dir);
	free(bc->log);
	free(bc->file);
	free(bc->url);
}

/* "selector=N" or "selector>=N": a selector cannot end in '>'. */
static int
expect_parse(const char *arg, struct expect *ex)
{
	const char	*eq = strrchr(arg, '=');
	char		*end;

	if (eq == NULL || eq == arg || eq[1] < '0' || eq[1] > '9')
		return -1;
	errno = 0;
	ex->n = strtol(eq + 1, &end, 10);
	if (*end != '\0' || errno != 0 || ex->n > INT_MAX)
		return -1;
	ex->arg = arg;
	ex->at_least = eq[-1] == '>';
	if (eq - ex->at_least == arg)
		return -1;
	ex->selector = xstrndup(arg, (size_t)(eq - ex->at_least - arg));
	return 0;
}

static int
bc_options(struct bc *bc, int argc, char **argv)
{
	char	*end;
	int	 ch;

	while ((ch = getopt(argc, argv, "e:s:t:")) != -1) {
		switch (ch) {
		case 'e':
			bc->ex = xreallocarray(bc->ex, bc->nex + 1,
			    sizeof *bc->ex);
			if (expect_parse(optarg, &bc->ex[bc->nex]) != 0) {
				fprintf(stderr, "browsercheck: -e: '%s' is "
				    "not SELECTOR=N or SELECTOR>=N\n", optarg);
				return -1;
			}
			bc->nex++;
			break;
		case 's':
			bc->shot = optarg;
			break;
		case 't':
			bc->seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' ||
			    !(bc->seconds > 0 &&
			    bc->seconds <= BC_TIMEOUT_MAX)) {
				fprintf(stderr, "browsercheck: -t: '%s' is not "
				    "a number of seconds up to %d\n", optarg,
				    BC_TIMEOUT_MAX);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 1)
		return -1;
	bc->path = argv[optind];
	return 0;
}

int
main(int argc, char **argv)
{
	struct bc		 bc;
	struct sigaction	 sa;
	const char		*s;
	int			 rc;

	memset(&bc, 0, sizeof bc);
	bc.seconds = BC_TIMEOUT;
	strbuf_init(&bc.reply);
	if (bc_options(&bc, argc, argv) != 0) {
		fputs(bc_usage, stderr);
		bc_finish(&bc);
		return BC_EXIT_USAGE;
	}
	bc.driver_path = (s = getenv("CHROMEDRIVER")) != NULL && *s != '\0' ?
	    s : "/usr/bin/chromedriver";
	bc.chromium = (s = getenv("CHROMIUM")) != NULL && *s != '\0' ?
	    s : "/usr/bin/chromium";
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* A signal stops the run, which still cleans up after itself. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = bc_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	bc.start = time_mono();
	bc.deadline = bc.start + bc.seconds;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (bc.curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "browsercheck: cannot set up libcurl\n");
		return BC_EXIT_BROWSER;
	}
	bc.headers = curl_slist_append(NULL,
	    "Content-Type: application/json; charset=utf-8");
	rc = bc_run(&bc);
	bc_finish(&bc);
	if (rc != BC_EXIT_BROWSER && bc.failed == 0)
		printf("browsercheck: %s: %d checks passed, %.1f s\n", bc.path,
		    bc.checks, time_mono() - bc.start);
	else if (rc != BC_EXIT_BROWSER)
		printf("browsercheck: %s: %d of %d checks failed, %.1f s\n",
		    bc.path, bc.failed, bc.checks, time_mono() - bc.start);
	if (bc_stop) {
		signal(bc_stop, SIG_DFL);
		raise(bc_stop);
	}
	curl_global_cleanup();
	return rc;
}
