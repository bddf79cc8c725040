/* Child processes driven by poll(): stdin written, stdout read, killed on
 * a deadline. */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define PROC_ERR_TAIL	2048

extern char **environ;

struct proc {
	pid_t		 pid;
	int		 in;		/* our end of its stdin, or -1 */
	int		 out;
	int		 errfd;
	char		*input;
	size_t		 inlen;
	size_t		 inoff;
	struct strbuf	 outbuf;
	char		 errtail[PROC_ERR_TAIL + 1];
	size_t		 errlen;
	size_t		 max_out;
	int		 too_big;
	double		 started;
	double		 deadline;
	int		 killed;
	proc_done_fn	*done;
	void		*arg;
	struct proc	*next;
};

struct procset {
	struct proc	*list;
	size_t		 n;
};

struct procset *
procset_new(void)
{
	struct sigaction	sa;

	/*
	 * A child that exits without reading its input must not kill us
	 * with SIGPIPE: the write fails with EPIPE instead.
	 */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	return xcalloc(1, sizeof(struct procset));
}

static void
proc_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static void
proc_free(struct proc *p)
{
	proc_close(&p->in);
	proc_close(&p->out);
	proc_close(&p->errfd);
	free(p->input);
	strbuf_release(&p->outbuf);
	free(p);
}

void
procset_free(struct procset *ps)
{
	struct proc	*p, *next;

	if (ps == NULL)
		return;
	for (p = ps->list; p != NULL; p = next) {
		next = p->next;
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		proc_free(p);
	}
	free(ps);
}

static void
proc_fail(proc_done_fn *done, void *arg, const char *what)
{
	struct proc_result	r;

	memset(&r, 0, sizeof r);
	r.out = r.err = "";
	r.error = what;
	done(arg, &r);
}

void
procset_spawn(struct procset *ps, char *const *argv, const char *input,
    size_t len, double timeout, size_t max_out, proc_done_fn *done,
    void *arg)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	struct proc			*p;
	int				 pin[2], pout[2], perr[2], rc;
	char				*msg;

	if (pipe2(pin, O_CLOEXEC) == -1) {
		proc_fail(done, arg, strerror(errno));
		return;
	}
	if (pipe2(pout, O_CLOEXEC) == -1) {
		close(pin[0]);
		close(pin[1]);
		proc_fail(done, arg, strerror(errno));
		return;
	}
	if (pipe2(perr, O_CLOEXEC) == -1) {
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		proc_fail(done, arg, strerror(errno));
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	posix_spawnattr_init(&attr);
	/* Its own process group, so a timeout kills its children too. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	{
		sigset_t	none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	p = xcalloc(1, sizeof *p);
	rc = posix_spawnp(&p->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (rc != 0) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		free(p);
		msg = xasprintf("cannot run '%s': %s", argv[0], strerror(rc));
		proc_fail(done, arg, msg);
		free(msg);
		return;
	}
	p->in = pin[1];
	p->out = pout[0];
	p->errfd = perr[0];
	fcntl(p->in, F_SETFL, O_NONBLOCK);
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	fcntl(p->errfd, F_SETFL, O_NONBLOCK);
	p->input = xmalloc(len + 1);
	memcpy(p->input, input, len);
	p->inlen = len;
	strbuf_init(&p->outbuf);
	p->max_out = max_out;
	p->started = time_mono();
	p->deadline = p->started + timeout;
	p->done = done;
	p->arg = arg;
	p->next = ps->list;
	ps->list = p;
	ps->n++;
	if (len == 0)
		proc_close(&p->in);
}

int
procset_fds(struct procset *ps, int *fds, short *events, int max,
    int *timeout_ms)
{
	struct proc	*p;
	double		 now = time_mono(), left;
	int		 n = 0, ms;

	for (p = ps->list; p != NULL; p = p->next) {
		if (p->in != -1 && n < max) {
			fds[n] = p->in;
			events[n++] = POLLOUT;
		}
		if (p->out != -1 && n < max) {
			fds[n] = p->out;
			events[n++] = POLLIN;
		}
		if (p->errfd != -1 && n < max) {
			fds[n] = p->errfd;
			events[n++] = POLLIN;
		}
		left = p->deadline - now;
		ms = left <= 0 ? 0 : (int)ceil(left * 1000);
		if (p->out == -1 && p->errfd == -1 && ms > 10)
			ms = 10;	/* waiting to reap it */
		if (ms < *timeout_ms)
			*timeout_ms = ms;
	}
	return n;
}

/* Moves one child's pipes along; returns 1 when both outputs closed. */
static int
proc_io(struct proc *p)
{
	char	buf[65536];
	ssize_t	n;
	size_t	keep;

	while (p->in != -1 && p->inoff < p->inlen) {
		n = write(p->in, p->input + p->inoff, p->inlen - p->inoff);
		if (n > 0)
			p->inoff += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && errno == EAGAIN)
			break;
		else {
			proc_close(&p->in);	/* it stopped reading */
			break;
		}
	}
	if (p->in != -1 && p->inoff == p->inlen)
		proc_close(&p->in);
	while (p->out != -1) {
		n = read(p->out, buf, sizeof buf);
		if (n > 0) {
			if (p->outbuf.len + (size_t)n > p->max_out) {
				p->too_big = 1;
				proc_close(&p->out);
				break;
			}
			strbuf_add(&p->outbuf, buf, (size_t)n);
		} else if (n == 0)
			proc_close(&p->out);
		else if (errno == EINTR)
			continue;
		else
			break;
	}
	while (p->errfd != -1) {
		n = read(p->errfd, buf, sizeof buf);
		if (n > 0) {
			/* Keep only the last PROC_ERR_TAIL bytes. */
			if ((size_t)n >= PROC_ERR_TAIL) {
				memcpy(p->errtail, buf + n - PROC_ERR_TAIL,
				    PROC_ERR_TAIL);
				p->errlen = PROC_ERR_TAIL;
			} else {
				keep = p->errlen + (size_t)n > PROC_ERR_TAIL ?
				    PROC_ERR_TAIL - (size_t)n : p->errlen;
				memmove(p->errtail, p->errtail + p->errlen -
				    keep, keep);
				memcpy(p->errtail + keep, buf, (size_t)n);
				p->errlen = keep + (size_t)n;
			}
		} else if (n == 0)
			proc_close(&p->errfd);
		else if (errno == EINTR)
			continue;
		else
			break;
	}
	return p->out == -1 && p->errfd == -1;
}

void
procset_perform(struct procset *ps)
{
	struct proc		**pp, *p;
	struct proc_result	  r;
	double			  now;
	int			  st;
	pid_t			  w;

	pp = &ps->list;
	while ((p = *pp) != NULL) {
		now = time_mono();
		proc_io(p);
		if ((now >= p->deadline || p->too_big) && !p->killed) {
			kill(-p->pid, SIGKILL);
			p->killed = 1;
		}
		w = waitpid(p->pid, &st, WNOHANG);
		if (w != p->pid) {
			pp = &p->next;
			continue;
		}
		/* It is gone: drain what is left in the pipes, then report. */
		proc_io(p);
		*pp = p->next;
		ps->n--;
		memset(&r, 0, sizeof r);
		p->errtail[p->errlen] = '\0';
		r.exited = WIFEXITED(st);
		r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
		r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		r.timed_out = p->killed && !p->too_big;
		r.too_big = p->too_big;
		r.out = p->outbuf.buf != NULL ? p->outbuf.buf : "";
		r.len = p->outbuf.len;
		r.err = p->errtail;
		r.seconds = now - p->started;
		p->done(p->arg, &r);
		proc_free(p);
	}
}

void
procset_abandon(struct procset *ps, void *arg)
{
	struct proc	**pp, *p;

	if (ps == NULL)
		return;
	for (pp = &ps->list; (p = *pp) != NULL; pp = &p->next) {
		if (p->arg != arg)
			continue;
		*pp = p->next;
		ps->n--;
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		proc_free(p);
		return;
	}
}

size_t
procset_running(const struct procset *ps)
{
	return ps->n;
}
