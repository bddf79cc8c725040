/* HTTP requests as backends build them, and the transport that carries
 * them: one curl multi handle. */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

void
http_req_header(struct http_req *req, const char *fmt, ...)
{
	va_list	ap;

	req->headers = xreallocarray(req->headers, req->nheaders + 1,
	    sizeof *req->headers);
	va_start(ap, fmt);
	req->headers[req->nheaders++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void
http_req_release(struct http_req *req)
{
	size_t	i;

	for (i = 0; i < req->nheaders; i++) {
		/* Headers may carry keys: wipe them before freeing. */
		explicit_bzero(req->headers[i], strlen(req->headers[i]));
		free(req->headers[i]);
	}
	free(req->headers);
	free(req->path);
	free(req->body);
	free(req->file);
	free(req->file_name);
	for (i = 0; i < req->nform; i++)
		free(req->form[i]);
	free(req->form);
	memset(req, 0, sizeof *req);
}

void
http_req_field(struct http_req *req, const char *name, const char *value)
{
	req->form = xreallocarray(req->form, req->nform + 1,
	    sizeof *req->form);
	req->form[req->nform++] = xasprintf("%s=%s", name, value);
}

struct http_xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	curl_mime		*mime;		/* an upload's parts */
	char			*url;
	char			*body;		/* the request body, kept */
	char			*resp;
	size_t			 len;
	size_t			 cap;
	size_t			 max;
	int			 too_big;
	struct strbuf		 limits;	/* rate-limit header lines */
	char			 errbuf[CURL_ERROR_SIZE];
	http_done_fn		*done;
	void			*arg;
	double			 started;
	struct http_xfer	*prev;
	struct http_xfer	*next;
};

/*
 * The transport is driven by curl's socket interface: curl says which
 * sockets to watch and when its next timeout is; the sockets live in an
 * epoll set, so a wake-up costs what is ready, not what is open (with 64
 * connections, poll() spent more in the kernel than the transfers did).
 * The caller's own descriptors are polled together with the epoll
 * descriptor itself.
 *
 * A connection goes back to curl's cache between requests, and curl
 * stops watching it; removing it from the set and adding it again would
 * cost two system calls per request.  Sockets curl opens through
 * http_open (all of its connections) stay in the set until they are
 * closed through http_close, or until they report an event that nobody
 * wants; other descriptors curl watches (a resolver's) leave the set at
 * once, as their closing is not seen here.
 */
struct http_fd {
	uint32_t		 events;	/* in the epoll set, or 0 */
	int			 wanted;	/* by curl now */
	int			 owned;		/* opened and closed here */
};

struct http {
	CURLM			*multi;
	int			 epfd;
	struct http_fd		*fds;		/* by descriptor */
	size_t			 nfds;
	size_t			 running;
	struct http_xfer	*xfers;		/* running transfers */
	CURL			**idle;		/* easy handles for reuse */
	size_t			 nidle;
	double			 timer;		/* curl's deadline, or -1 */
};

static int	http_global_done;

static struct http_fd *
http_fd(struct http *h, curl_socket_t fd)
{
	size_t	n = h->nfds;

	if ((size_t)fd >= n) {
		while ((size_t)fd >= n)
			n = n == 0 ? 64 : n * 2;
		h->fds = xreallocarray(h->fds, n, sizeof *h->fds);
		memset(h->fds + h->nfds, 0, (n - h->nfds) * sizeof *h->fds);
		h->nfds = n;
	}
	return &h->fds[fd];
}

/* Takes fd out of the epoll set (it may be gone already). */
static void
http_unwatch(struct http *h, curl_socket_t fd)
{
	struct http_fd	*f = http_fd(h, fd);

	if (f->events != 0)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
	f->events = 0;
}

static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sp)
{
	struct http		*h = arg;
	struct http_fd		*f = http_fd(h, fd);
	struct epoll_event	 ev;
	int			 op;

	if (what == CURL_POLL_REMOVE) {
		f->wanted = 0;
		/* An idle socket is always writable: that would wake us. */
		if (!f->owned || (f->events & EPOLLOUT))
			http_unwatch(h, fd);
		return 0;
	}
	f->wanted = 1;
	memset(&ev, 0, sizeof ev);
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (ev.events == f->events)
		return 0;
	op = f->events != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(h->epfd, op, fd, &ev) != 0 &&
	    epoll_ctl(h->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_warn("epoll_ctl %d", (int)fd);
		f->events = 0;
		return -1;
	}
	f->events = ev.events;
	return 0;
}

/* curl's sockets are opened and closed here, so that their state is
 * known (see struct http). */
static curl_socket_t
http_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http	*h = arg;
	struct http_fd	*f;
	curl_socket_t	 fd;

	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == -1)
		return CURL_SOCKET_BAD;
	/* A number closed behind our back left the set with its file. */
	f = http_fd(h, fd);
	memset(f, 0, sizeof *f);
	f->owned = 1;
	return fd;
}

static int
http_close(void *arg, curl_socket_t fd)
{
	struct http	*h = arg;

	/* Closing takes it out of the epoll set. */
	memset(http_fd(h, fd), 0, sizeof(struct http_fd));
	return close(fd);
}

static int
http_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct http	*h = arg;

	h->timer = ms < 0 ? -1 : time_mono() + (double)ms / 1000.0;
	return 0;
}

struct http *
http_new(void)
{
	struct http	*h;

	if (!http_global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("curl_global_init failed");
		http_global_done = 1;
	}
	h = xcalloc(1, sizeof *h);
	h->timer = -1;
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if ((h->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 256L);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

/* Frees a transfer; its easy handle goes back to the pool. */
static void
http_xfer_free(struct http *h, struct http_xfer *x)
{
	if (h != NULL && x->easy != NULL) {
		curl_easy_reset(x->easy);
		h->idle = xreallocarray(h->idle, h->nidle + 1,
		    sizeof *h->idle);
		h->idle[h->nidle++] = x->easy;
	} else
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_mime_free(x->mime);
	free(x->url);
	if (x->body != NULL)
		explicit_bzero(x->body, strlen(x->body));
	free(x->body);
	free(x->resp);
	strbuf_release(&x->limits);
	free(x);
}

void
http_free(struct http *h)
{
	struct http_xfer	*x;
	size_t			 i;

	if (h == NULL)
		return;
	/* Abandon transfers still running: their callbacks are not called. */
	while ((x = h->xfers) != NULL) {
		h->xfers = x->next;
		curl_multi_remove_handle(h->multi, x->easy);
		http_xfer_free(NULL, x);
	}
	for (i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	free(h->idle);
	curl_multi_cleanup(h->multi);
	close(h->epfd);
	free(h->fds);
	free(h);
}

/*
 * Keeps the header lines that say what is left of the server's rate
 * limits (x-ratelimit-*, anthropic-ratelimit-*), without their line
 * ends; a new response (after a 100 Continue, say) starts again.
 */
static size_t
http_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		strbuf_reset(&x->limits);
	if ((len > 12 && strncasecmp(p, "x-ratelimit-", 12) == 0) ||
	    (len > 20 && strncasecmp(p, "anthropic-ratelimit-", 20) == 0)) {
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			len--;
		if (x->limits.len < 4096) {
			strbuf_add(&x->limits, p, len);
			strbuf_addc(&x->limits, '\n');
		}
	}
	return size * n;
}

static size_t
http_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 add = size * n;

	if (x->len + add > x->max) {
		x->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	if (x->len + add + 1 > x->cap) {
		x->cap = x->cap == 0 ? 4096 : x->cap;
		while (x->cap < x->len + add + 1)
			x->cap *= 2;
		x->resp = xreallocarray(x->resp, 1, x->cap);
	}
	memcpy(x->resp + x->len, p, add);
	x->len += add;
	x->resp[x->len] = '\0';
	return add;
}

/* The parts of a multipart/form-data upload (curl copies the data). */
static void
http_mime(struct http_xfer *x, const struct http_req *req)
{
	curl_mimepart	*part;
	const char	*eq;
	char		*name;
	size_t		 i;

	x->mime = curl_mime_init(x->easy);
	for (i = 0; i < req->nform; i++) {
		if ((eq = strchr(req->form[i], '=')) == NULL)
			continue;
		name = xstrndup(req->form[i], (size_t)(eq - req->form[i]));
		part = curl_mime_addpart(x->mime);
		curl_mime_name(part, name);
		curl_mime_data(part, eq + 1, CURL_ZERO_TERMINATED);
		free(name);
	}
	part = curl_mime_addpart(x->mime);
	curl_mime_name(part, "file");
	curl_mime_filename(part, req->file_name != NULL ? req->file_name :
	    "upload");
	curl_mime_type(part, "application/jsonl");
	curl_mime_data(part, req->file, req->file_len);
	curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime);
}

void
http_submit(struct http *h, const char *base, const struct http_req *req,
    const struct http_opts *o, http_done_fn *done, void *arg)
{
	struct http_xfer	*x;
	size_t			 i;

	x = xcalloc(1, sizeof *x);
	strbuf_init(&x->limits);
	if (h->nidle > 0)
		x->easy = h->idle[--h->nidle];
	else if ((x->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	x->url = xasprintf("%s%s", base, req->path != NULL ? req->path : "");
	x->body = xstrndup(req->body != NULL ? req->body : "", req->len);
	x->max = o->max_response;
	x->done = done;
	x->arg = arg;
	x->started = time_mono();
	for (i = 0; i < req->nheaders; i++)
		x->headers = curl_slist_append(x->headers, req->headers[i]);
	/* No "Expect: 100-continue" round trip for large bodies. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	if (req->get)
		curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	else if (req->file != NULL)
		http_mime(x, req);
	else {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->len);
	}
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, http_open);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, h);
	curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION, http_close);
	curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETDATA, h);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	/*
	 * Over TLS, wait for a connection that may turn out to carry
	 * HTTP/2 streams rather than open one per request.  Plain http is
	 * HTTP/1.1 here: waiting would hold every request behind the
	 * first one's answer.
	 */
	curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT,
	    strncasecmp(x->url, "https:", 6) == 0 ? 1L : 0L);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(o->connect_timeout * 1000));
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	if (o->low_speed_time > 0) {
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME,
		    (long)o->low_speed_time);
	}
	curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)o->max_response);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "promptd/" PROMPTD_VERSION);
	x->next = h->xfers;
	if (h->xfers != NULL)
		h->xfers->prev = x;
	h->xfers = x;
	h->running++;
	curl_multi_add_handle(h->multi, x->easy);
}

/*
 * Whether a transfer failed to reach the server at all, or lost it: a
 * refused or reset connection, a name that does not resolve, a TLS
 * handshake that fails, a timeout.  The circuit breaker counts these.
 */
static int
http_connection_failure(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return 1;
	default:
		return 0;
	}
}

/*
 * curl's messages say how long an attempt took ("... port 9 after 0 ms:
 * Couldn't connect to server"): without it, one cause reads the same
 * every time and failures can be counted by their message.
 */
static void
http_error_trim(char *msg)
{
	char	*p, *q;

	if ((p = strstr(msg, " after ")) == NULL)
		return;
	for (q = p + 7; isdigit((unsigned char)*q); q++)
		;
	if (q == p + 7 || strncmp(q, " ms", 3) != 0)
		return;
	memmove(p, q + 3, strlen(q + 3) + 1);
}

static void
http_finish(struct http *h, CURL *easy, CURLcode code)
{
	struct http_xfer	*x;
	struct http_result	 r;
	curl_off_t		 ra = -1;
	long			 status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(h->multi, easy);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	h->running--;
	memset(&r, 0, sizeof r);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK)
		ra = -1;
	r.retry_after = status == 429 || status == 503 ? (ra > 0 ?
	    (double)ra : ra == 0 ? 0 : -1) : -1;
	r.seconds = time_mono() - x->started;
	r.limits = x->limits.buf;
	r.body = x->resp != NULL ? x->resp : "";
	r.len = x->len;
	if (x->too_big || code == CURLE_FILESIZE_EXCEEDED) {
		r.transport = CURLE_FILESIZE_EXCEEDED;
		r.error = "response larger than the limit";
		status = 0;
	} else if (code != CURLE_OK) {
		r.transport = (int)code;
		if (x->errbuf[0] == '\0')
			snprintf(x->errbuf, sizeof x->errbuf, "%s",
			    curl_easy_strerror(code));
		http_error_trim(x->errbuf);
		r.error = x->errbuf;
		r.connection = http_connection_failure(code);
		status = 0;
	}
	r.status = status;
	x->done(x->arg, &r);
	http_xfer_free(h, x);
}

/* Tells curl what epoll found ready. */
static void
http_ready(struct http *h, int ms)
{
	struct epoll_event	 ev[64];
	int			 i, n, mask, still;

	do {
		n = epoll_wait(h->epfd, ev, (int)nitems(ev), ms);
		if (n == -1 && errno != EINTR)
			log_warn("epoll_wait");
		for (i = 0; i < n; i++) {
			if (!http_fd(h, ev[i].data.fd)->wanted) {
				/* An idle connection closed by its server. */
				http_unwatch(h, ev[i].data.fd);
				continue;
			}
			mask = 0;
			if (ev[i].events & (EPOLLIN | EPOLLHUP))
				mask |= CURL_CSELECT_IN;
			if (ev[i].events & EPOLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (ev[i].events & EPOLLERR)
				mask |= CURL_CSELECT_ERR;
			curl_multi_socket_action(h->multi, ev[i].data.fd, mask,
			    &still);
		}
		ms = 0;
	} while (n == (int)nitems(ev));
}

int
http_perform(struct http *h, int timeout_ms, const int *fds,
    const short *events, int nfds)
{
	struct pollfd	*pfd;
	CURLMsg		*msg;
	int		 i, still, left, ms;
	double		 now = time_mono();

	/* Wait no longer than curl's own next timeout. */
	ms = timeout_ms;
	if (h->timer >= 0) {
		if (h->timer <= now)
			ms = 0;
		else if ((h->timer - now) * 1000 < ms)
			ms = (int)((h->timer - now) * 1000) + 1;
	}
	if (nfds == 0)
		http_ready(h, ms);
	else {
		pfd = xcalloc((size_t)nfds + 1, sizeof *pfd);
		pfd[0].fd = h->epfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nfds; i++) {
			pfd[i + 1].fd = fds[i];
			pfd[i + 1].events = events[i];
		}
		if (poll(pfd, (nfds_t)nfds + 1, ms) == -1 && errno != EINTR)
			log_warn("poll");
		if (pfd[0].revents != 0)
			http_ready(h, 0);
		free(pfd);
	}
	if (h->timer >= 0 && h->timer <= time_mono()) {
		h->timer = -1;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
		    &still);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			http_finish(h, msg->easy_handle, msg->data.result);
	}
	return (int)h->running;
}

void
http_abandon(struct http *h, void *arg)
{
	struct http_xfer	*x;

	if (h == NULL)
		return;
	for (x = h->xfers; x != NULL; x = x->next)
		if (x->arg == arg)
			break;
	if (x == NULL)
		return;
	curl_multi_remove_handle(h->multi, x->easy);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	h->running--;
	http_xfer_free(h, x);
}

size_t
http_running(const struct http *h)
{
	return h->running;
}
