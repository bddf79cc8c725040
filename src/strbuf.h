/*
 * A growable byte buffer that is always NUL-terminated.  Embedded in its
 * owner: strbuf_init() before use, strbuf_release() after.
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

void	 strbuf_init(struct strbuf *);
void	 strbuf_release(struct strbuf *);
void	 strbuf_reset(struct strbuf *);
void	 strbuf_grow(struct strbuf *, size_t);
void	 strbuf_add(struct strbuf *, const void *, size_t);
void	 strbuf_adds(struct strbuf *, const char *);
void	 strbuf_addc(struct strbuf *, char);
void	 strbuf_addf(struct strbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 strbuf_vaddf(struct strbuf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Returns the contents (the caller's to free) and leaves the buffer empty. */
char	*strbuf_detach(struct strbuf *);

#endif
