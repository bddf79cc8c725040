/*
 * HTTP transport: one libcurl multi handle drives every request of the
 * process.  Backends describe a request as a struct http_req (built by
 * their build() op) and never see curl.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

/*
 * A request as a backend builds it.  All strings are owned.  It is a
 * POST of body, a GET when get is set, or, when file is set, a POST of a
 * multipart/form-data upload: the form's "name=value" fields and the
 * file (file_len bytes, named file_name) as its "file" part.
 */
struct http_req {
	char	 *path;		/* appended to the backend's base URL */
	char	**headers;	/* "Name: value" lines */
	size_t	  nheaders;
	char	 *body;		/* JSON */
	size_t	  len;
	int	  get;
	char	 *file;
	size_t	  file_len;
	char	 *file_name;
	char	**form;
	size_t	  nform;
};

/* Adds a "name=value" field to a multipart upload. */
void	http_req_field(struct http_req *, const char *name, const char *value);

void	http_req_header(struct http_req *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	http_req_release(struct http_req *);

#endif

/* Transport limits for one request. */
struct http_opts {
	double	connect_timeout;	/* seconds */
	double	timeout;		/* whole transfer, seconds */
	double	low_speed_time;		/* abort below 1 byte/s this long */
	size_t	max_response;		/* bytes */
};

/* What came back.  body is NUL-terminated and owned by the transport. */
struct http_result {
	long		 status;	/* 0 when no HTTP reply arrived */
	const char	*body;
	size_t		 len;
	double		 retry_after;	/* seconds from Retry-After, or -1 */
	int		 transport;	/* 0, or a failure below HTTP */
	int		 connection;	/* it could not reach the server, or
					   lost it (refused, reset, DNS, TLS,
					   timeout) */
	const char	*error;		/* what failed below HTTP */
	const char	*limits;	/* the x-ratelimit-* and anthropic-
					   ratelimit-* header lines, each
					   ending in '\n'; NULL for none */
	double		 seconds;
};

struct http;
typedef void http_done_fn(void *arg, const struct http_result *);

/* One libcurl multi handle; connections are kept alive and reused. */
struct http	*http_new(void);
void		 http_free(struct http *);
/* Starts a request to base + req->path; done is called from http_perform. */
void		 http_submit(struct http *, const char *base,
		    const struct http_req *, const struct http_opts *,
		    http_done_fn *, void *arg);
/*
 * Waits up to timeout_ms for network activity or for one of the nfds
 * extra file descriptors (fds, with POLLIN/POLLOUT in events), moves
 * every transfer along and calls the completion callbacks of the
 * finished ones.  Returns the number of transfers still running.
 */
int		 http_perform(struct http *, int timeout_ms, const int *fds,
		    const short *events, int nfds);
size_t		 http_running(const struct http *);
/* Stops the transfer started with this callback argument, if any; its
 * callback is not called. */
void		 http_abandon(struct http *, void *arg);
