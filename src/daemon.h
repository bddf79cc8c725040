/*
 * The daemon proper: the table of jobs, the event loop that drives them,
 * their schedules and the control commands.
 *
 * One loop does everything.  Each turn moves every engine along (one
 * transport and one store connection shared by all jobs, so backend
 * limits hold across jobs), answers the control socket, resumes the fiber
 * of every job whose engine has answered, and fires the schedules that
 * are due.  Each running job is a jobrun stepped inside its own fiber;
 * a strategy waiting for answers yields back to the loop, so nothing
 * blocks and a control request is answered within a turn (at most about
 * 100 ms) while jobs run.
 *
 * Job states, kept in memory and mirrored in the store: queued (about to
 * start), running, paused, exhausted, done, failed and cancelled.  At
 * startup every job the store says is running or queued is reloaded from
 * its file and resumed from its checkpoint; a job with a schedule gets a
 * refresh run at each match of its cron expression, and one catch-up
 * refresh when a match passed while the daemon was down.
 */
#ifndef DAEMON_H
#define DAEMON_H

struct conf;
struct control;
struct daemon;
struct store;

/*
 * A daemon over an open store and control socket (both borrowed; free
 * the daemon first).  conf is taken over; conf_path is what SIGHUP
 * reloads (NULL: the default places).  In the foreground, reloads keep
 * logging to stderr; otherwise they reopen the configured log.
 */
struct daemon	*daemon_new(struct conf *conf, const char *conf_path,
		    struct store *, struct control *, int foreground);
/*
 * Runs until SIGTERM or SIGINT (or a client's "quit").  Jobs still running
 * then keep the state running in the store, to resume at the next
 * start.  Returns 0, or -1 with *cause when the store failed.
 */
int		 daemon_run(struct daemon *, char **cause);
void		 daemon_free(struct daemon *);

#endif
