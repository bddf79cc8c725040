/*
 * HTTP transport: one libcurl multi handle drives every request of the
 * process.  Backends describe a request as a struct http_req (built by
 * their build() op) and never see curl.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

/* A request as a backend builds it.  All strings are owned. */
struct http_req {
	char	 *path;		/* appended to the backend's base URL */
	char	**headers;	/* "Name: value" lines */
	size_t	  nheaders;
	char	 *body;		/* JSON */
	size_t	  len;
};

void	http_req_header(struct http_req *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	http_req_release(struct http_req *);

#endif
