/*
 * Logging in the style of OpenBSD daemons.  In the foreground (or in a
 * command-line tool) messages go to stderr; a daemon logs to syslog or to
 * a file.  Text that came from a user or a model must go through
 * log_escape() before it is logged.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Set where messages go: dest is LOG_TO_STDERR, LOG_TO_SYSLOG or a FILE path. */
#define LOG_TO_STDERR	NULL
void	 log_init(const char *progname, int to_syslog, const char *file);
void	 log_setverbose(int);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* What a person starting the daemon wants to see: shown without -v. */
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Returns a copy of s (the caller's to free) with control characters,
 * quotes and backslashes escaped C-style and non-UTF-8 bytes as \xNN,
 * cut to at most max bytes of input with "..." appended when cut.
 */
char	*log_escape(const char *s, size_t max);

#endif
