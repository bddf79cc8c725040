/*
 * The control protocol's client: one non-blocking Unix socket, lines read
 * through a buffer, every wait bounded by poll() with the client's
 * timeout.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

struct client {
	int		 fd;
	char		*path;
	int		 timeout;	/* milliseconds */
	int64_t		 next_id;
	struct strbuf	 in;		/* bytes read, not yet a line */
	cJSON		*hello;
	cJSON		*held;		/* stream lines read while waiting
					   for a reply, oldest first */
	int		 streaming;	/* streams under way */
};

/* Milliseconds left until deadline (time_mono() seconds), at least 0. */
static int
ms_left(double deadline)
{
	double	left = (deadline - time_mono()) * 1000.0;

	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left + 1;
}

/*
 * Reads one line (without its newline, allocated) into *line.  timeout in
 * milliseconds, -1 to wait for ever.  Sets errno to ETIMEDOUT on a
 * timeout and to EPIPE when the daemon closed the connection.
 */
static int
client_read_line(struct client *c, int timeout, char **line, char **cause)
{
	struct pollfd	 pfd;
	double		 deadline = time_mono() + timeout / 1000.0;
	char		 buf[65536], *nl;
	ssize_t		 n;
	size_t		 len;
	int		 r;

	*line = NULL;
	for (;;) {
		if (c->in.len > 0 &&
		    (nl = memchr(c->in.buf, '\n', c->in.len)) != NULL) {
			len = (size_t)(nl - c->in.buf);
			*line = xstrndup(c->in.buf, len);
			memmove(c->in.buf, nl + 1, c->in.len - len - 1);
			c->in.len -= len + 1;
			c->in.buf[c->in.len] = '\0';
			return 0;
		}
		if (c->in.len > CLIENT_MAX_LINE) {
			errno = EPROTO;
			return cause_set(cause, "daemon at '%s' sent a line "
			    "longer than %d bytes", c->path, CLIENT_MAX_LINE);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, timeout < 0 ? -1 : ms_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return cause_set(cause, "poll: %s", strerror(errno));
		if (r == 0) {
			errno = ETIMEDOUT;
			return cause_set(cause, "daemon at '%s' did not answer "
			    "within %d s", c->path, (timeout + 999) / 1000);
		}
		n = read(c->fd, buf, sizeof buf);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			return cause_set(cause, "read from '%s': %s", c->path,
			    strerror(errno));
		if (n == 0) {
			errno = EPIPE;
			return cause_set(cause, "daemon at '%s' closed the "
			    "connection", c->path);
		}
		strbuf_add(&c->in, buf, (size_t)n);
	}
}

/* Writes the object as one line. */
static int
client_write(struct client *c, const cJSON *o, char **cause)
{
	struct pollfd	 pfd;
	double		 deadline = time_mono() + c->timeout / 1000.0;
	char		*text;
	size_t		 len, off = 0;
	ssize_t		 n;
	int		 r, rc = -1;

	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		return cause_set(cause, "cannot encode the request");
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: the length is known */
	while (off < len) {
		n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			cause_set(cause, "write to '%s': %s", c->path,
			    strerror(errno));
			goto out;
		}
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms_left(deadline));
		if (r == 0) {
			errno = ETIMEDOUT;
			cause_set(cause, "daemon at '%s' did not read the "
			    "request within %d s", c->path,
			    (c->timeout + 999) / 1000);
			goto out;
		}
		if (r == -1 && errno != EINTR) {
			cause_set(cause, "poll: %s", strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_free(text);
	return rc;
}

/* Reads one line as a JSON object (the caller's). */
static cJSON *
client_read(struct client *c, int timeout, char **cause)
{
	cJSON	*o;
	char	*line;

	if (client_read_line(c, timeout, &line, cause) != 0)
		return NULL;
	o = cJSON_Parse(line);
	free(line);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		errno = EPROTO;
		cause_set(cause, "daemon at '%s' sent a line that is not a "
		    "JSON object", c->path);
		return NULL;
	}
	return o;
}

/* Takes an error object's code (allocated) and message (to *cause). */
static int
client_error(struct client *c, const cJSON *err, char **code, char **cause)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(err, "code");
	*code = xstrdup(cJSON_IsString(v) ? v->valuestring : "internal");
	v = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (cJSON_IsString(v))
		return cause_set(cause, "%s", v->valuestring);
	return cause_set(cause, "daemon at '%s' answered with error '%s'",
	    c->path, *code);
}

/*
 * After a write that failed because the daemon closed the connection:
 * the daemon says why it closes in an error line without an id before it
 * does, and that line is in what is left to read.  Returns the line's
 * "error" object (the caller's), or NULL when there is none.
 */
static cJSON *
client_farewell(struct client *c)
{
	cJSON	*o, *err = NULL;
	char	*cause = NULL;

	while (err == NULL && (o = client_read(c, c->timeout, &cause)) !=
	    NULL) {
		if (cJSON_GetObjectItemCaseSensitive(o, "id") == NULL)
			err = cJSON_DetachItemFromObjectCaseSensitive(o,
			    "error");
		cJSON_Delete(o);
	}
	free(cause);
	return err;
}

/*
 * Writes a line; when the daemon has closed the connection, its reason
 * (an error line read with client_farewell()) is the cause instead of
 * the failed write, and *err (the caller's) is that line's error object.
 */
static int
client_write_or_farewell(struct client *c, const cJSON *o, cJSON **err,
    char **cause)
{
	const cJSON	*v;
	int		 saved;

	*err = NULL;
	if (client_write(c, o, cause) == 0)
		return 0;
	saved = errno;
	if (saved != EPIPE && saved != ECONNRESET)
		return -1;
	if ((*err = client_farewell(c)) == NULL) {
		errno = saved;
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(*err, "message");
	cause_set(cause, "%s", cJSON_IsString(v) ? v->valuestring :
	    "no reason");
	errno = EPROTO;
	return -1;
}

struct client *
client_connect_timeout(const char *path, int ms, char **cause)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	cJSON			*hello = NULL, *err = NULL;
	const cJSON		*v;
	int			 fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		cause_set(cause, "socket path '%s' is too long", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		saved = errno;
		cause_set(cause, "socket: %s", strerror(errno));
		errno = saved;
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		if (saved == ENOENT)
			cause_set(cause, "daemon not running (no socket at %s)",
			    path);
		else if (saved == ECONNREFUSED)
			cause_set(cause, "daemon not running (nothing listens "
			    "on %s)", path);
		else if (saved == EAGAIN)
			cause_set(cause, "daemon at '%s' accepts no more "
			    "connections", path);
		else
			cause_set(cause, "connect to '%s': %s", path,
			    strerror(saved));
		close(fd);
		errno = saved;
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->path = xstrdup(path);
	c->timeout = ms;
	strbuf_init(&c->in);

	hello = cJSON_CreateObject();
	cJSON_AddStringToObject(hello, "hello", "promptctl");
	cJSON_AddNumberToObject(hello, "protocol", CLIENT_PROTOCOL);
	/*
	 * A daemon that refuses the connection may do so before it reads
	 * the handshake: the write fails, and its error line is read.
	 */
	if (client_write_or_farewell(c, hello, &err, cause) != 0 &&
	    err == NULL)
		goto fail;
	cJSON_Delete(hello);
	hello = NULL;
	if (err == NULL &&
	    (hello = client_read(c, c->timeout, cause)) == NULL)
		goto fail;
	if (err != NULL ||
	    (v = cJSON_GetObjectItemCaseSensitive(hello, "error")) != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(err != NULL ? err : v,
		    "message");
		cause_set(cause, "daemon at '%s' refused the connection: %s",
		    path, cJSON_IsString(v) ? v->valuestring : "no reason");
		errno = EPROTO;
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(hello, "hello");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "promptd") != 0) {
		cause_set(cause, "'%s' is not a promptd control socket", path);
		errno = EPROTO;
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(hello, "protocol");
	if (!cJSON_IsNumber(v) || v->valuedouble != CLIENT_PROTOCOL) {
		cause_set(cause, "daemon at '%s' speaks another protocol "
		    "version than promptctl (%d)", path, CLIENT_PROTOCOL);
		errno = EPROTO;
		goto fail;
	}
	c->hello = hello;
	return c;

fail:
	saved = errno;
	cJSON_Delete(hello);
	cJSON_Delete(err);
	client_close(c);
	errno = saved;
	return NULL;
}

struct client *
client_connect(const char *path, char **cause)
{
	return client_connect_timeout(path, CLIENT_TIMEOUT_MS, cause);
}

void
client_set_timeout(struct client *c, int ms)
{
	c->timeout = ms;
}

int
client_fd(const struct client *c)
{
	return c->fd;
}

int
client_buffered(const struct client *c)
{
	return c->in.len > 0 || (c->held != NULL &&
	    cJSON_GetArraySize(c->held) > 0);
}

const cJSON *
client_hello(const struct client *c)
{
	return c->hello;
}

void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	strbuf_release(&c->in);
	cJSON_Delete(c->hello);
	cJSON_Delete(c->held);
	free(c->path);
	free(c);
}

/*
 * Sends a request and returns its id, or -1 (with *code when the daemon
 * had closed the connection with an error line).
 */
static int64_t
client_send(struct client *c, const char *cmd, cJSON *args, char **code,
    char **cause)
{
	cJSON	*req, *err;
	int64_t	 id = ++c->next_id;
	int	 rc;

	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", (double)id);
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (args != NULL)
		cJSON_AddItemReferenceToObject(req, "args", args);
	rc = client_write_or_farewell(c, req, &err, cause);
	cJSON_Delete(req);
	if (err != NULL) {
		client_error(c, err, code, cause);
		cJSON_Delete(err);
	}
	return rc == 0 ? id : -1;
}

/* Whether line o carries request id. */
static int
client_is_for(const cJSON *o, int64_t id)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, "id");

	return cJSON_IsNumber(v) && v->valuedouble == (double)id;
}

/*
 * Whether line o belongs to a stream (an event or an end line): those
 * read while waiting for another reply are held for the stream.
 */
static int
client_hold(struct client *c, cJSON *o)
{
	if (cJSON_GetObjectItemCaseSensitive(o, "event") == NULL &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "end")))
		return 0;
	if (c->held == NULL)
		c->held = cJSON_CreateArray();
	cJSON_AddItemToArray(c->held, o);
	return 1;
}

/* The next line for a stream: one held, or one read. */
static cJSON *
client_next(struct client *c, char **cause)
{
	if (c->held != NULL && cJSON_GetArraySize(c->held) > 0)
		return cJSON_DetachItemFromArray(c->held, 0);
	return client_read(c, -1, cause);
}

/*
 * Waits for the reply to request id: 0 with *result, -1 with an error.
 * Lines for other requests are skipped; an error line without an id (the
 * daemon gives up on the connection) is this request's error.
 */
static int
client_reply(struct client *c, int64_t id, cJSON **result, char **code,
    char **cause)
{
	cJSON		*o, *r;
	const cJSON	*ok, *err;
	int		 rc;

	for (;;) {
		if ((o = client_read(c, c->timeout, cause)) == NULL)
			return -1;
		err = cJSON_GetObjectItemCaseSensitive(o, "error");
		if (!client_is_for(o, id)) {
			if (cJSON_GetObjectItemCaseSensitive(o, "id") == NULL &&
			    err != NULL) {
				rc = client_error(c, err, code, cause);
				cJSON_Delete(o);
				return rc;
			}
			if (c->streaming && client_hold(c, o))
				continue;
			cJSON_Delete(o);
			continue;
		}
		ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
		if (cJSON_IsTrue(ok)) {
			r = cJSON_DetachItemFromObjectCaseSensitive(o,
			    "result");
			*result = r != NULL ? r : cJSON_CreateObject();
			cJSON_Delete(o);
			return 0;
		}
		if (cJSON_IsFalse(ok) || err != NULL) {
			rc = client_error(c, err, code, cause);
			cJSON_Delete(o);
			return rc;
		}
		/* An event or end line of an earlier stream: skip it. */
		cJSON_Delete(o);
	}
}


int
client_call(struct client *c, const char *cmd, cJSON *args, cJSON **result,
    char **code, char **cause)
{
	int64_t	id;

	*result = NULL;
	*code = NULL;
	if ((id = client_send(c, cmd, args, code, cause)) < 0)
		return -1;
	return client_reply(c, id, result, code, cause);
}

/* The event lines of stream id, up to its end line. */
static int
client_stream_lines(struct client *c, int64_t id,
    int (*on_event)(void *, const cJSON *), void *arg, cJSON **final,
    char **code, char **cause)
{
	cJSON		*o, *r;
	const cJSON	*v;

	for (;;) {
		if ((o = client_next(c, cause)) == NULL)
			return -1;
		if (!client_is_for(o, id)) {
			v = cJSON_GetObjectItemCaseSensitive(o, "error");
			if (v != NULL &&
			    cJSON_GetObjectItemCaseSensitive(o, "id") == NULL) {
				client_error(c, v, code, cause);
				cJSON_Delete(o);
				return -1;
			}
			cJSON_Delete(o);
			continue;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "event")) != NULL) {
			if (on_event(arg, v) != 0) {
				cJSON_Delete(o);
				return cause_set(cause, "stopped");
			}
			cJSON_Delete(o);
			continue;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "end"))) {
			r = cJSON_DetachItemFromObjectCaseSensitive(o,
			    "result");
			*final = r != NULL ? r : cJSON_CreateObject();
			cJSON_Delete(o);
			return 0;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "error")) != NULL) {
			client_error(c, v, code, cause);
			cJSON_Delete(o);
			return -1;
		}
		cJSON_Delete(o);
	}
}

int
client_stream(struct client *c, const char *cmd, cJSON *args,
    int (*on_event)(void *, const cJSON *), void *arg, cJSON **final,
    char **code, char **cause)
{
	cJSON		*reply = NULL;
	int64_t		 id;
	int		 rc;

	*final = NULL;
	*code = NULL;
	if ((id = client_send(c, cmd, args, code, cause)) < 0)
		return -1;
	if (client_reply(c, id, &reply, code, cause) != 0)
		return -1;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "stream"))) {
		*final = reply;
		return 0;
	}
	cJSON_Delete(reply);
	c->streaming++;
	rc = client_stream_lines(c, id, on_event, arg, final, code, cause);
	c->streaming--;
	/* Lines held for a stream that is over are dropped. */
	if (c->streaming == 0) {
		cJSON_Delete(c->held);
		c->held = NULL;
	}
	return rc;
}

