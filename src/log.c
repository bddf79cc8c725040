/* OpenBSD-style logging to stderr, syslog or a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

static const char	*log_progname = "promptd";
static int		 log_syslog;
static FILE		*log_file;
static int		 log_verbose;

void
log_init(const char *progname, int to_syslog, const char *file)
{
	int	fd;

	if (progname != NULL)
		log_progname = progname;
	log_syslog = to_syslog;
	if (log_file != NULL && log_file != stderr)
		fclose(log_file);
	log_file = NULL;
	if (file != NULL) {
		/* Log lines quote prompts: the file is its owner's alone. */
		if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600)) == -1 || (log_file = fdopen(fd, "a")) == NULL) {
			fprintf(stderr, "%s: cannot open log file '%s': %s\n",
			    log_progname, file, strerror(errno));
			if (fd != -1)
				close(fd);
		} else
			setvbuf(log_file, NULL, _IOLBF, 0);
	}
	if (to_syslog)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
{
	struct strbuf	 sb;
	char		 stamp[32];
	time_t		 t;
	struct tm	 tm;

	strbuf_init(&sb);
	strbuf_vaddf(&sb, fmt, ap);
	if (suffix != NULL)
		strbuf_addf(&sb, ": %s", suffix);
	if (log_syslog)
		syslog(pri, "%s", sb.buf);
	else if (log_file != NULL) {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(log_file, "%s %s: %s\n", stamp, log_progname, sb.buf);
	} else
		fprintf(stderr, "%s: %s\n", log_progname, sb.buf);
	strbuf_release(&sb);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_NOTICE, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

char *
log_escape(const char *s, size_t max)
{
	struct strbuf		 sb;
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, len;

	strbuf_init(&sb);
	if (s == NULL)
		return xstrdup("(null)");
	len = strlen(s);
	n = len < max ? len : max;
	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '\n': strbuf_adds(&sb, "\\n"); break;
		case '\r': strbuf_adds(&sb, "\\r"); break;
		case '\t': strbuf_adds(&sb, "\\t"); break;
		case '\\': strbuf_adds(&sb, "\\\\"); break;
		case '"': strbuf_adds(&sb, "\\\""); break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				strbuf_addf(&sb, "\\x%02x", p[i]);
			else
				strbuf_addc(&sb, (char)p[i]);
		}
	}
	if (n < len)
		strbuf_adds(&sb, "...");
	return strbuf_detach(&sb);
}
