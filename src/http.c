/* HTTP requests as backends build them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
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
	memset(req, 0, sizeof *req);
}
