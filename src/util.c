/* Error causes, UTF-8, clocks, files and suggestions. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "xmalloc.h"

int
cause_set(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return -1;
	free(*cause);
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

int
cause_prefix(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*pfx, *s;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	pfx = xvasprintf(fmt, ap);
	va_end(ap);
	s = xasprintf("%s%s", pfx, *cause != NULL ? *cause : "unknown error");
	free(pfx);
	free(*cause);
	*cause = s;
	return -1;
}

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, k;
	uint32_t		 c, min;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2; c = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3; c = p[0] & 0x0f; min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4; c = p[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
utf8_valid(const char *buf, size_t len, size_t *bad)
{
	size_t		i = 0, n;
	uint32_t	cp;

	while (i < len) {
		if ((n = utf8_decode(buf + i, len - i, &cp)) == 0) {
			if (bad != NULL)
				*bad = i;
			return -1;
		}
		i += n;
	}
	return 0;
}

size_t
utf8_chars(const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

double
time_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
time_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
time_cpu(int thread)
{
	struct timespec	ts;

	clock_gettime(thread ? CLOCK_THREAD_CPUTIME_ID :
	    CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
poll_fds(const int *fds, const short *events, int n, int ms)
{
	struct pollfd	*p;
	int		 i;

	p = xcalloc((size_t)n, sizeof *p);
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = events[i];
	}
	poll(p, (nfds_t)n, ms);
	free(p);
}

void
time_sleep(double seconds)
{
	struct timespec	ts, rem;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

int
file_read(const char *path, size_t max, char **out, size_t *lenp, char **cause)
{
	FILE		*f;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return cause_set(cause, "cannot open '%s': %s", path,
		    strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return cause_set(cause, "'%s' is a directory", path);
	}
	for (;;) {
		/* Grown only when full: most files fit the first 64 KiB. */
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xreallocarray(buf, 1, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > max) {
			fclose(f);
			free(buf);
			return cause_set(cause, "'%s' is larger than %zu bytes",
			    path, max);
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return cause_set(cause, "cannot read '%s': %s", path,
		    strerror(errno));
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

char *
exe_dir(void)
{
	char	buf[4096], *slash;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) <= 0)
		return NULL;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return NULL;
	return xstrndup(buf, (size_t)(slash - buf));
}

char *
path_relative_to(const char *base, const char *path)
{
	const char	*slash;

	if (path[0] == '/' || base == NULL ||
	    (slash = strrchr(base, '/')) == NULL)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - base), base, path);
}

char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

size_t
edit_distance(const char *a, const char *b, size_t limit)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, best, cost, v;
	size_t	*d;

	if (la > lb ? la - lb > limit : lb - la > limit)
		return limit + 1;
	d = xcalloc((la + 1) * (lb + 1), sizeof *d);
#define D(x, y) d[(x) * (lb + 1) + (y)]
	for (i = 0; i <= la; i++)
		D(i, 0) = i;
	for (j = 0; j <= lb; j++)
		D(0, j) = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			best = D(i - 1, j) + 1;
			if ((v = D(i, j - 1) + 1) < best)
				best = v;
			if ((v = D(i - 1, j - 1) + cost) < best)
				best = v;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && (v = D(i - 2, j - 2) + 1) < best)
				best = v;
			D(i, j) = best;
		}
	}
	v = D(la, lb);
#undef D
	free(d);
	return v > limit ? limit + 1 : v;
}

const char *
suggest_n(const char *word, const char *const *choices, size_t n)
{
	const char	*best = NULL;
	size_t		 bestd = 3, dist, i;

	for (i = 0; i < n; i++) {
		dist = edit_distance(word, choices[i], 2);
		if (dist < bestd) {
			bestd = dist;
			best = choices[i];
		}
	}
	return best;
}

const char *
suggest(const char *word, const char *const *choices)
{
	size_t	n = 0;

	while (choices[n] != NULL)
		n++;
	return suggest_n(word, choices, n);
}

char *
systemd_dir(const char *var)
{
	const char	*e = getenv(var);

	if (e == NULL || *e != '/')
		return NULL;
	return xstrndup(e, strcspn(e, ":"));
}

/* Creates dir and its missing parents with mode 0700. */
int
mkdir_parents(const char *dir, char **cause)
{
	struct stat	 st;
	char		*p, *q, c;

	p = xstrdup(dir);
	for (q = p + 1; ; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		c = *q;
		*q = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			cause_set(cause, "cannot create directory '%s': %s", p,
			    strerror(errno));
			goto fail;
		}
		if ((*q = c) == '\0')
			break;
	}
	if (stat(dir, &st) != 0) {
		cause_set(cause, "cannot create directory '%s': %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		cause_set(cause, "cannot create directory '%s': %s", dir,
		    strerror(ENOTDIR));
		goto fail;
	}
	free(p);
	return 0;

fail:
	free(p);
	return -1;
}

/* Writes all of text to fd; -1 with errno on failure. */
static int
write_all(int fd, const char *text, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Writes text into what path names, as it is (a device, a FIFO). */
static int
write_in_place(const char *path, const char *text, char **cause)
{
	int	fd, rc;

	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return cause_set(cause, "cannot open '%s': %s", path,
		    strerror(errno));
	rc = write_all(fd, text, strlen(text));
	if (close(fd) == -1)
		rc = -1;
	if (rc != 0)
		return cause_set(cause, "cannot write '%s': %s", path,
		    strerror(errno));
	return 0;
}

int
file_write_atomic(const char *path, const char *text, char **cause)
{
	struct stat	 st;
	char		*real = NULL, *tmp;
	int		 fd;

	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return write_in_place(path, text, cause);
		/* Through a symbolic link to the file itself. */
		if ((real = realpath(path, NULL)) != NULL)
			path = real;
	}
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		cause_set(cause, "cannot create '%s': %s", tmp,
		    strerror(errno));
		free(tmp);
		free(real);
		return -1;
	}
	if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) == -1) {
		int	saved = errno;

		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	free(real);
	return 0;
fail:
	cause_set(cause, "cannot write '%s': %s", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	free(real);
	return -1;
}
