/*
 * Child processes run without blocking: each gets its input on stdin and
 * its stdout (and the tail of its stderr) collected through non-blocking
 * pipes, with a deadline after which its process group is killed.  The
 * caller polls the file descriptors proc_fds() lists (the engine hands
 * them to curl_multi_poll) and calls proc_perform().
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>

struct proc_result {
	int		 exited;	/* 1: exited, status is its code */
	int		 status;
	int		 signal;	/* the signal that killed it, or 0 */
	int		 timed_out;
	int		 too_big;	/* stdout went over the limit */
	const char	*out;		/* NUL-terminated */
	size_t		 len;
	const char	*err;		/* the last bytes of stderr */
	const char	*error;		/* could not run it at all */
	double		 seconds;
};

typedef void proc_done_fn(void *arg, const struct proc_result *);

struct procset;
/* The first one sets SIGPIPE to be ignored if it was at its default. */
struct procset	*procset_new(void);
/* Kills and reaps every child still running; callbacks are not called. */
void		 procset_free(struct procset *);
/* Starts argv[0] (looked up in PATH) with input on its stdin. */
void		 procset_spawn(struct procset *, char *const *argv,
		    const char *input, size_t len, double timeout,
		    size_t max_out, proc_done_fn *, void *arg);
/*
 * Fills fds/events (POLLIN or POLLOUT) with what to wait for, at most max;
 * returns how many.  *timeout_ms is lowered to the nearest deadline.
 */
int		 procset_fds(struct procset *, int *fds, short *events, int max,
		    int *timeout_ms);
/* Moves every child along without blocking; calls done for finished ones. */
void		 procset_perform(struct procset *);
size_t		 procset_running(const struct procset *);
/* Kills the child started with this callback argument, if any; its
 * callback is not called. */
void		 procset_abandon(struct procset *, void *arg);

#endif
