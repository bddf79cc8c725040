/*
 * Small shared helpers: error causes, UTF-8, clocks, files and "did you
 * mean" suggestions.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/*
 * Sets *cause (when cause is not NULL) to a newly allocated message; an
 * earlier message there is freed first.  Always returns -1 so that error
 * paths can read "return cause_set(cause, ...)".
 */
int	 cause_set(char **cause, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prefixes an existing *cause with a formatted context ("job 'x': "). */
int	 cause_prefix(char **cause, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Checks that buf holds valid UTF-8 (no overlongs, no surrogates, nothing
 * past U+10FFFF).  On failure stores the offset of the first bad byte.
 */
int	 utf8_valid(const char *, size_t, size_t *bad);
/*
 * The UTF-8 sequence at s (at most len bytes): its length with its code
 * point in *cp, or 0 when it is not a valid one (overlong, a surrogate,
 * past U+10FFFF, cut short, a stray byte) or len is 0.
 */
size_t	 utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Characters (bytes that are not UTF-8 continuation bytes) in len bytes,
 * for columns in messages. */
size_t	 utf8_chars(const char *, size_t);

/* Wall-clock seconds since the epoch, and monotonic seconds. */
double	 time_now(void);
double	 time_mono(void);
/* CPU seconds used so far, user and system: this thread's, or (0) the
 * process's. */
double	 time_cpu(int thread);
/* Waits up to ms for one of the descriptors (events as for poll). */
void	 poll_fds(const int *fds, const short *events, int n, int ms);
/* Sleeps for seconds (interrupted sleeps are resumed). */
void	 time_sleep(double);

/*
 * Reads a whole file into a NUL-terminated buffer (the caller's to free).
 * Files larger than max bytes are refused.  Errors name the path.
 */
int	 file_read(const char *path, size_t max, char **out, size_t *len,
	    char **cause);
/*
 * Writes text to path atomically: a temporary file beside it, fsync,
 * rename; a symbolic link is followed, so the file it names is replaced.
 * A path that is there and is not a regular file (/dev/stdout, a FIFO)
 * is written in place: renaming over it would put a file where the
 * device was.  Errors name the path.
 */
int	 file_write_atomic(const char *path, const char *text, char **cause);
/*
 * The directory systemd names in var (STATE_DIRECTORY, RUNTIME_DIRECTORY:
 * absolute paths separated by ':'), its first one, allocated; NULL when
 * the variable is not set to one.
 */
char	*systemd_dir(const char *var);
/* Creates dir and its missing parents, mode 0700; errors name the path. */
int	 mkdir_parents(const char *dir, char **cause);
/*
 * Resolves path relative to the directory of base (a file) unless it is
 * absolute.  Returns an allocated string.
 */
char	*path_relative_to(const char *base, const char *path);

/* The directory of the running program (allocated), or NULL. */
char	*exe_dir(void);

/* A copy of n bytes of s without the white space around them. */
char	*trim_dup(const char *s, size_t n);

/* Edit distance with transpositions, capped at limit + 1. */
size_t	 edit_distance(const char *, const char *, size_t limit);
/* The closest of a NULL-terminated list within distance 2, or NULL. */
const char *suggest(const char *word, const char *const *choices);
/* The same over an array of n choices. */
const char *suggest_n(const char *word, const char *const *choices, size_t n);

#endif
