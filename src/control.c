/*
 * The control socket's server side: accepting, checking peers, framing
 * lines, the handshake and queued replies.  Nothing here blocks: sockets
 * are non-blocking, input is buffered per client until a whole line is
 * in, and replies are queued whole and written as the client reads them.
 * A client that sends a line longer than CONTROL_LINE_MAX gets an error
 * and is closed; one that stops reading is dropped once its queue passes
 * CONTROL_OUT_MAX.  A connection that has not sent its handshake within
 * the handshake timeout is closed, and at most CONTROL_HELLO_MAX wait for
 * theirs at once (a new one drops the oldest), so that connections that
 * never speak cannot keep a client that does from being served.  Every
 * refusal is an error line written before the connection is closed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Queued output beyond which a client that does not read is dropped. */
#define CONTROL_OUT_MAX		(64 * 1024 * 1024)
/* Connections served at once (each is a descriptor in the loop's poll). */
#define CONTROL_CLIENTS_MAX	64
/* Of those, connections still waiting for their handshake. */
#define CONTROL_HELLO_MAX	16
/* Bytes read from one client per pass, so that none starves the others. */
#define CONTROL_READ_MAX	(CONTROL_LINE_MAX + 65536)
/* How long a client being closed may take to read its last lines. */
#define CONTROL_LINGER		5.0

enum client_state {
	CLIENT_HELLO,		/* waiting for the handshake */
	CLIENT_READY,
	CLIENT_CLOSING,		/* flushing its last lines, then closed */
	CLIENT_DEAD,		/* closed at the end of this pass */
};

struct control_client {
	struct control		*ctl;
	int			 fd;
	uid_t			 uid;
	pid_t			 pid;
	enum client_state	 state;
	double			 since;		/* accepted */
	double			 closing_since;
	struct strbuf		 in;
	size_t			 in_off;	/* consumed from in */
	struct strbuf		 out;
	size_t			 out_off;	/* written from out */
	struct control_client	*next;
};

struct control {
	char			*path;
	int			 fd;
	uid_t			 uid;		/* served with root */
	double			 hello_timeout;	/* seconds */
	struct control_client	*clients;	/* newest first */
	control_request_fn	*request;
	control_close_fn	*close;
	control_sync_fn		*sync;
	void			*arg;
};

static int
control_nonblock(int fd)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/*
 * Whether a daemon answers at path: 1 yes, 0 no (the file is stale or
 * absent), -1 when path exists and is not a socket.
 */
static int
control_probe(const char *path, const struct sockaddr_un *sun,
    char **cause)
{
	struct stat	st;
	int		fd, rc;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return cause_set(cause, "socket '%s': %s", path,
		    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return cause_set(cause, "socket '%s' exists and is not a "
		    "socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	close(fd);
	if (rc == 0)
		return 1;
	return 0;
}

struct control *
control_open(const char *path, char **cause)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd = -1, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		cause_set(cause, "socket '%s': path too long (at most %zu "
		    "bytes)", path, sizeof sun.sun_path - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((rc = control_probe(path, &sun, cause)) < 0)
		return NULL;
	if (rc == 1) {
		cause_set(cause, "another promptd is running on socket '%s'",
		    path);
		return NULL;
	}
	/* Nobody answers: a file left by a daemon that died. */
	if (unlink(path) == -1 && errno != ENOENT) {
		cause_set(cause, "cannot remove stale socket '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    control_nonblock(fd) == -1) {
		cause_set(cause, "socket: %s", strerror(errno));
		goto fail;
	}
	/* The socket is created with mode 0600 from the start. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc == -1) {
		cause_set(cause, "cannot bind socket '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	if (chmod(path, 0600) == -1 || listen(fd, SOMAXCONN) == -1) {
		cause_set(cause, "cannot listen on socket '%s': %s", path,
		    strerror(errno));
		unlink(path);
		goto fail;
	}
	ctl = xcalloc(1, sizeof *ctl);
	ctl->path = xstrdup(path);
	ctl->fd = fd;
	ctl->uid = geteuid();
	ctl->hello_timeout = CONTROL_HELLO_TIMEOUT;
	return ctl;
fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

void
control_set_handler(struct control *ctl, control_request_fn *request,
    control_close_fn *closefn, void *arg)
{
	ctl->request = request;
	ctl->close = closefn;
	ctl->arg = arg;
}

void
control_set_sync(struct control *ctl, control_sync_fn *sync)
{
	ctl->sync = sync;
}

void
control_set_hello_timeout(struct control *ctl, double seconds)
{
	ctl->hello_timeout = seconds > 0 ? seconds : CONTROL_HELLO_TIMEOUT;
}

const char *
control_path(const struct control *ctl)
{
	return ctl->path;
}

static void
control_client_free(struct control_client *c)
{
	struct control	*ctl = c->ctl;

	if (ctl->close != NULL)
		ctl->close(ctl->arg, c);
	close(c->fd);
	strbuf_release(&c->in);
	strbuf_release(&c->out);
	free(c);
}

void
control_free(struct control *ctl)
{
	struct control_client	*c, *next;

	if (ctl == NULL)
		return;
	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;
		control_client_free(c);
	}
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* Writes what the client's queue holds, as far as the socket takes it. */
static void
control_flush(struct control_client *c)
{
	ssize_t	n;

	while (c->state != CLIENT_DEAD && c->out_off < c->out.len) {
		n = send(c->fd, c->out.buf + c->out_off, c->out.len -
		    c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("control: client %ld: %s",
				    (long)c->pid, strerror(errno));
				c->state = CLIENT_DEAD;
			}
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		strbuf_reset(&c->out);
		c->out_off = 0;
		if (c->state == CLIENT_CLOSING)
			c->state = CLIENT_DEAD;
	}
}

/* Queues one line (o is taken over) and writes what can be written. */
static void
control_send(struct control_client *c, cJSON *o)
{
	char	*text;

	if (c->state == CLIENT_DEAD) {
		cJSON_Delete(o);
		return;
	}
	if (c->ctl->sync != NULL && c->ctl->sync(c->ctl->arg) != 0) {
		cJSON_Delete(o);
		c->state = CLIENT_DEAD;
		return;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		fatalx("control: cannot print a reply");
	if (c->out.len - c->out_off + strlen(text) > CONTROL_OUT_MAX) {
		log_warnx("control: client %ld does not read its replies; "
		    "dropping it", (long)c->pid);
		c->state = CLIENT_DEAD;
		free(text);
		return;
	}
	/* Reclaim what was written before growing the queue. */
	if (c->out_off > 0 && c->out_off >= c->out.len / 2) {
		memmove(c->out.buf, c->out.buf + c->out_off, c->out.len -
		    c->out_off);
		c->out.len -= c->out_off;
		c->out.buf[c->out.len] = '\0';
		c->out_off = 0;
	}
	strbuf_adds(&c->out, text);
	strbuf_addc(&c->out, '\n');
	free(text);
	control_flush(c);
}

static cJSON *
control_error_object(const char *code, const char *message)
{
	cJSON	*e;

	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	return e;
}

/*
 * An error line outside any request ({"error": {"code", "message"}}, no
 * id), then closing: the line is written first, and the connection is
 * closed once the client has it (or after CONTROL_LINGER).
 */
static void
control_refuse(struct control_client *c, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
control_refuse(struct control_client *c, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;
	cJSON	*o;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_debug("control: client %ld: %s", (long)c->pid, msg);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "error", control_error_object(code, msg));
	free(msg);
	control_send(c, o);
	if (c->state != CLIENT_DEAD) {
		c->state = CLIENT_CLOSING;
		c->closing_since = time_mono();
		control_flush(c);
	}
}

static cJSON *
control_id(long long id)
{
	return id < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)id);
}

void
control_reply(struct control_client *c, long long id, cJSON *result)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "id", control_id(id));
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddItemToObject(o, "result", result != NULL ? result :
	    cJSON_CreateObject());
	control_send(c, o);
}

void
control_error(struct control_client *c, long long id, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	cJSON	*o;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "id", control_id(id));
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddItemToObject(o, "error", control_error_object(code, msg));
	free(msg);
	control_send(c, o);
}

void
control_event(struct control_client *c, long long id, cJSON *event)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "id", control_id(id));
	cJSON_AddItemToObject(o, "event", event);
	control_send(c, o);
}

void
control_end(struct control_client *c, long long id, cJSON *result)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "id", control_id(id));
	cJSON_AddBoolToObject(o, "end", 1);
	cJSON_AddItemToObject(o, "result", result != NULL ? result :
	    cJSON_CreateObject());
	control_send(c, o);
}

size_t
control_pending(const struct control_client *c)
{
	return c->out.len - c->out_off;
}

uid_t
control_uid(const struct control_client *c)
{
	return c->uid;
}

static void
control_hello(struct control_client *c, const cJSON *o)
{
	const cJSON	*hello, *proto;
	cJSON		*r;

	hello = cJSON_GetObjectItemCaseSensitive(o, "hello");
	proto = cJSON_GetObjectItemCaseSensitive(o, "protocol");
	if (!cJSON_IsString(hello) || !cJSON_IsNumber(proto)) {
		control_refuse(c, "protocol", "expected a handshake: "
		    "{\"hello\": \"promptctl\", \"protocol\": %d}",
		    CONTROL_PROTOCOL);
		return;
	}
	if (proto->valuedouble != CONTROL_PROTOCOL) {
		control_refuse(c, "protocol", "protocol version %g is not "
		    "supported (this promptd speaks version %d)",
		    proto->valuedouble, CONTROL_PROTOCOL);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "hello", "promptd");
	cJSON_AddNumberToObject(r, "protocol", CONTROL_PROTOCOL);
	cJSON_AddStringToObject(r, "version", PROMPTD_VERSION);
	cJSON_AddNumberToObject(r, "pid", (double)getpid());
	control_send(c, r);
	if (c->state == CLIENT_HELLO)
		c->state = CLIENT_READY;
}

/* One complete line from a client (without its newline). */
static void
control_line(struct control_client *c, char *line, size_t len)
{
	struct control	*ctl = c->ctl;
	const cJSON	*idv, *cmd, *args;
	cJSON		*o, *empty = NULL;
	long long	 id = -1;
	size_t		 bad;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0)
		return;
	if (utf8_valid(line, len, &bad) != 0) {
		if (c->state == CLIENT_HELLO)
			control_refuse(c, "protocol", "invalid UTF-8 at byte "
			    "%zu", bad);
		else
			control_error(c, -1, "protocol", "invalid UTF-8 at "
			    "byte %zu", bad);
		return;
	}
	o = cJSON_ParseWithLength(line, len);
	if (c->state == CLIENT_HELLO) {
		if (!cJSON_IsObject(o))
			control_refuse(c, "protocol", "expected a handshake: "
			    "{\"hello\": \"promptctl\", \"protocol\": %d}",
			    CONTROL_PROTOCOL);
		else
			control_hello(c, o);
		cJSON_Delete(o);
		return;
	}
	if (o == NULL) {
		control_error(c, -1, "protocol", "request is not JSON");
		return;
	}
	if (!cJSON_IsObject(o)) {
		control_error(c, -1, "protocol", "request is not an object");
		goto out;
	}
	idv = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsNumber(idv) && idv->valuedouble >= 0 &&
	    idv->valuedouble <= 9007199254740991.0 &&
	    idv->valuedouble == (double)(long long)idv->valuedouble)
		id = (long long)idv->valuedouble;
	else {
		control_error(c, -1, "protocol", "request has no \"id\" (a "
		    "non-negative integer)");
		goto out;
	}
	cmd = cJSON_GetObjectItemCaseSensitive(o, "cmd");
	if (!cJSON_IsString(cmd) || *cmd->valuestring == '\0') {
		control_error(c, id, "protocol", "request has no \"cmd\" "
		    "string");
		goto out;
	}
	args = cJSON_GetObjectItemCaseSensitive(o, "args");
	if (args == NULL || cJSON_IsNull(args))
		args = empty = cJSON_CreateObject();
	else if (!cJSON_IsObject(args)) {
		control_error(c, id, "usage", "\"args\" must be an object");
		goto out;
	}
	if (ctl->request != NULL)
		ctl->request(ctl->arg, c, id, cmd->valuestring, args);
	else
		control_error(c, id, "internal", "not ready");
out:
	cJSON_Delete(empty);
	cJSON_Delete(o);
}

/* Reads what the client sent and handles each complete line. */
static void
control_read(struct control_client *c)
{
	char	*nl, *line;
	size_t	 total = 0, len;
	ssize_t	 n;
	int	 eof = 0, oversize = 0;

	while (!eof && total < CONTROL_READ_MAX &&
	    (c->state == CLIENT_HELLO || c->state == CLIENT_READY)) {
		strbuf_grow(&c->in, 65536);
		n = recv(c->fd, c->in.buf + c->in.len, 65536, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->state = CLIENT_DEAD;
			break;
		}
		/* At the end, what was sent last is still answered if it
		 * ends with a newline. */
		eof = n == 0;
		c->in.len += (size_t)n;
		c->in.buf[c->in.len] = '\0';
		total += (size_t)n;
		while ((c->state == CLIENT_HELLO || c->state == CLIENT_READY) &&
		    (nl = memchr(c->in.buf + c->in_off, '\n', c->in.len -
		    c->in_off)) != NULL) {
			line = c->in.buf + c->in_off;
			len = (size_t)(nl - line);
			if (len > CONTROL_LINE_MAX) {
				oversize = 1;
				break;
			}
			c->in_off += len + 1;
			*nl = '\0';
			control_line(c, line, len);
		}
		if (oversize || c->in.len - c->in_off > CONTROL_LINE_MAX) {
			control_refuse(c, "protocol", "line longer than %d "
			    "bytes", CONTROL_LINE_MAX);
			/* What it still sends is never read: close now. */
			c->state = CLIENT_DEAD;
			break;
		}
		if (c->in_off > 0) {
			memmove(c->in.buf, c->in.buf + c->in_off, c->in.len -
			    c->in_off);
			c->in.len -= c->in_off;
			c->in.buf[c->in.len] = '\0';
			c->in_off = 0;
		}
	}
	if (eof && (c->state == CLIENT_HELLO || c->state == CLIENT_READY)) {
		c->state = CLIENT_CLOSING;
		c->closing_since = time_mono();
		control_flush(c);
	}
}

/* How many clients are in state (CLIENT_HELLO or CLIENT_READY). */
static size_t
control_count(const struct control *ctl, enum client_state state)
{
	const struct control_client	*c;
	size_t				 n = 0;

	for (c = ctl->clients; c != NULL; c = c->next)
		if (c->state == state)
			n++;
	return n;
}

/* Live clients: those waiting for their handshake and those served. */
static size_t
control_live(const struct control *ctl)
{
	return control_count(ctl, CLIENT_HELLO) + control_count(ctl,
	    CLIENT_READY);
}

/*
 * Reads what the clients in state have sent, so that those that have
 * closed their end or sent their handshake since the last pass are known
 * before they are counted.
 */
static void
control_read_state(struct control *ctl, enum client_state state)
{
	struct control_client	*c;

	for (c = ctl->clients; c != NULL; c = c->next)
		if (c->state == state)
			control_read(c);
}

/*
 * Makes room for one more connection waiting for its handshake: when
 * CONTROL_HELLO_MAX wait already (and still wait once what they sent is
 * read), the oldest of them is told why and closed.
 */
static void
control_hello_room(struct control *ctl)
{
	struct control_client	*c, *oldest = NULL;

	if (control_count(ctl, CLIENT_HELLO) < CONTROL_HELLO_MAX)
		return;
	control_read_state(ctl, CLIENT_HELLO);
	if (control_count(ctl, CLIENT_HELLO) < CONTROL_HELLO_MAX)
		return;
	for (c = ctl->clients; c != NULL; c = c->next)
		if (c->state == CLIENT_HELLO)
			oldest = c;	/* the list is newest first */
	log_warnx("control: %d connections wait for a handshake; dropping "
	    "the oldest (pid %ld)", CONTROL_HELLO_MAX, (long)oldest->pid);
	control_refuse(oldest, "unavailable", "no handshake yet, and %d "
	    "newer connections wait for theirs (at most %d may wait)",
	    CONTROL_HELLO_MAX, CONTROL_HELLO_MAX);
}

static void
control_accept(struct control *ctl)
{
	struct control_client	*c;
	struct ucred		 cred;
	socklen_t		 len;
	int			 fd;

	for (;;) {
		if ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("control: accept");
			return;
		}
		c = xcalloc(1, sizeof *c);
		c->ctl = ctl;
		c->fd = fd;
		c->state = CLIENT_HELLO;
		c->since = time_mono();
		strbuf_init(&c->in);
		strbuf_init(&c->out);
		len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &len) == -1) {
			c->next = ctl->clients;
			ctl->clients = c;
			control_refuse(c, "protocol", "cannot check the peer: %s",
			    strerror(errno));
			continue;
		}
		c->uid = cred.uid;
		c->pid = cred.pid;
		if (cred.uid != ctl->uid && cred.uid != 0) {
			c->next = ctl->clients;
			ctl->clients = c;
			log_warnx("control: refused uid %ld (pid %ld)",
			    (long)cred.uid, (long)cred.pid);
			control_refuse(c, "denied", "uid %ld may not control "
			    "this promptd (it serves uid %ld and root)",
			    (long)cred.uid, (long)ctl->uid);
			continue;
		}
		/* Those that never speak give way to this one. */
		control_hello_room(ctl);
		/* Those that have gone do not count. */
		if (control_live(ctl) >= CONTROL_CLIENTS_MAX) {
			control_read_state(ctl, CLIENT_HELLO);
			control_read_state(ctl, CLIENT_READY);
		}
		c->next = ctl->clients;
		ctl->clients = c;
		if (control_live(ctl) > CONTROL_CLIENTS_MAX) {
			log_warnx("control: refused pid %ld: too many "
			    "connections", (long)cred.pid);
			control_refuse(c, "unavailable", "too many connections "
			    "(at most %d)", CONTROL_CLIENTS_MAX);
			continue;
		}
		log_debug("control: client pid %ld uid %ld", (long)cred.pid,
		    (long)cred.uid);
		/*
		 * A handshake sent before the accept is read now, before
		 * the next connections can push this one out.
		 */
		control_read(c);
	}
}

int
control_pollfds(struct control *ctl, int *fds, short *events, int max)
{
	struct control_client	*c;
	int			 n = 0;

	if (max < 1)
		return 0;
	fds[n] = ctl->fd;
	events[n++] = POLLIN;
	for (c = ctl->clients; c != NULL && n < max; c = c->next) {
		if (c->state == CLIENT_DEAD)
			continue;
		fds[n] = c->fd;
		events[n] = 0;
		if (c->state == CLIENT_HELLO || c->state == CLIENT_READY)
			events[n] |= POLLIN;
		if (control_pending(c) > 0)
			events[n] |= POLLOUT;
		n++;
	}
	return n;
}

void
control_process(struct control *ctl)
{
	struct control_client	*c, **pp;
	double			 now = time_mono();

	control_accept(ctl);
	for (c = ctl->clients; c != NULL; c = c->next) {
		control_read(c);
		control_flush(c);
		if (c->state == CLIENT_HELLO && now - c->since >
		    ctl->hello_timeout)
			control_refuse(c, "protocol", "no handshake within "
			    "%g s", ctl->hello_timeout);
		if (c->state == CLIENT_CLOSING && now - c->closing_since >
		    CONTROL_LINGER)
			c->state = CLIENT_DEAD;
	}
	pp = &ctl->clients;
	while ((c = *pp) != NULL) {
		if (c->state == CLIENT_DEAD) {
			*pp = c->next;
			control_client_free(c);
		} else
			pp = &c->next;
	}
}
