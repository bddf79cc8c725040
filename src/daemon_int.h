/*
 * What the three files of the daemon share (private to them):
 *
 *	daemon.c	the jobs' lifecycle (start, step in a fiber, reap,
 *			unwind), schedules, signals and the loop
 *	daemon_cmd.c	the control commands, one entry each in
 *			dcmd_table[], and their dispatch
 *	daemon_watch.c	the streams: watch (a job's events and progress)
 *			and feedback (its duels that wait for a person),
 *			with the commands that open, answer and end them
 *
 * See daemon.h for the picture.
 */
#ifndef DAEMON_INT_H
#define DAEMON_INT_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cron.h"
#include "jobrun.h"

struct conf;
struct control;
struct control_client;
struct engine_loop;
struct job;
struct store;

/*
 * Job states (daemon.c).  A djob's state is one of these or another
 * constant of djob_state(), never a copy, so that states compare as
 * pointers: dj->state == JOB_RUNNING.
 */
extern const char	JOB_QUEUED[];
extern const char	JOB_RUNNING[];
extern const char	JOB_PAUSED[];
extern const char	JOB_FAILED[];
extern const char	JOB_CANCELLED[];

/* A configuration shared by the runs that started under it. */
struct dconf {
	struct conf	*conf;
	int		 refs;
};

struct djob {
	struct daemon	*d;
	char		*name;
	int64_t		 id;		/* jobs row */
	char		*file;		/* absolute */
	const char	*state;
	char		*reason;

	char		*schedule;	/* cron expression, or NULL */
	struct cron	 cron;
	time_t		 next_fire;	/* (time_t)-1: never */

	/* The run under way: job, conf and fiber exist together. */
	struct dconf	*conf;
	struct job	*job;
	struct jobrun	 jr;
	const char	*kind;
	struct fiber	*fiber;
	int		 done;		/* the fiber has returned */
	unsigned long	 wakes;		/* the engine's when it last
					   resumed: a wake since resumes
					   it (engine_wake()) */
	int		 cancel;	/* unwind and close as cancelled */
	int		 stop;		/* unwind and leave it running */
	char		*cause;		/* why the run failed */
	double		 started;
};

struct watch {
	struct control_client	*client;
	long long		 id;
	struct djob		*dj;
	int64_t			 cursor;	/* last event sent */
	int			 step;
	double			 progress_at;
	struct watch		*next;
};

/*
 * A feedback stream: pending duels of a job, then its synthetic examples
 * waiting for labels, one at a time.
 */
struct feedback {
	struct control_client	*client;
	long long		 id;
	struct djob		*dj;
	int64_t			 shown;		/* duel awaiting an answer */
	int64_t			 shown_label;	/* example awaiting a label */
	int			 answered;	/* answers on this stream */
	struct feedback		*next;
};

struct daemon {
	struct dconf		*conf;
	char			*conf_path;
	int			 foreground;
	struct store		*store;
	struct control		*ctl;
	struct engine_loop	*loop;
	struct djob		**jobs;
	size_t			 njobs;
	struct watch		*watches;
	struct feedback		*feedbacks;
	double			 started;
	long long		 offset;	/* PROMPTD_TIME_OFFSET */
	int			 stopping;
	int			 sigfd[2];
};

/* daemon.c: jobs. */

/* Whether a job is queued, running or paused. */
int		 djob_live(const struct djob *);
/* Replaces the job's reason with a copy of reason (NULL: none). */
void		 djob_set_reason(struct djob *, const char *reason);
/* The job called name (borrowed from the daemon), or NULL. */
struct djob	*daemon_find(struct daemon *, const char *name);
/* A new queued job in the daemon's table (which owns it). */
struct djob	*daemon_add(struct daemon *, const char *name, int64_t id);
/* Ends a job that cannot run: failed or cancelled, in memory and store. */
void		 djob_end(struct djob *, const char *state, const char *reason);
/*
 * Starts a run of kind for dj: job is the loaded job file (taken over,
 * freed on failure), or NULL to load dj->file with the current
 * configuration.  Returns 0, or -1 with *cause.
 */
int		 djob_start(struct djob *, struct job *, const char *kind,
		    char **cause);
/* Runs a fiber that was told to unwind until it has returned, and reaps. */
void		 djob_unwind(struct djob *, const char *why);
/* The kind of run a job left open ("refresh" or "optimize"), to resume. */
const char	*djob_open_kind(struct djob *);
/* Starts a refresh run of a job that has none under way. */
int		 djob_refresh(struct djob *, const char *why, char **cause);
/* Estimated seconds left from the share of the budget used, or -1. */
double		 djob_eta(const struct djob *);
/* What a running job only waits for (allocated), or NULL. */
char		*djob_waiting(const struct djob *);
/* What the daemon knows live about a job, added to (or replacing in) o. */
void		 djob_overlay(const struct djob *, cJSON *o);
/*
 * One job's status (allocated): the store's answer with what is live
 * laid over it; dj may be NULL.  Returns NULL with *code (static) and
 * *cause on failure.
 */
cJSON		*daemon_job_status(struct daemon *, struct djob *,
		    const char *name, const char **code, char **cause);

/* daemon_cmd.c: the control commands. */

typedef void dcmd_handler(struct daemon *, struct control_client *,
		    long long id, const cJSON *args);

/* A control command: one entry in dcmd_table[]. */
struct dcmd_entry {
	const char	*name;
	dcmd_handler	*handler;
};

extern const struct dcmd_entry *const dcmd_table[];
const struct dcmd_entry	*dcmd_lookup(const char *name);
/*
 * Answers a request: a command of dcmd_table[], else a query of the
 * store (query.h), else an error reply.
 */
void		 dcmd_dispatch(struct daemon *, struct control_client *,
		    long long id, const char *cmd, const cJSON *args);
/* A job the daemon manages, or an error reply and NULL. */
struct djob	*dcmd_arg_djob(struct daemon *, struct control_client *,
		    long long id, const cJSON *args);
/* A reply naming the job and its state (allocated). */
cJSON		*dcmd_state_result(const struct djob *);
/*
 * The request's argument name, a positive integer id (of what: for the
 * error), into *out: 0, or an error reply and -1.
 */
int		 dcmd_arg_id(struct control_client *, long long id,
		    const cJSON *args, const char *name, const char *what,
		    int64_t *out);

/* daemon_watch.c: the streams, and their commands. */

extern const struct dcmd_entry dcmd_watch_entry;
extern const struct dcmd_entry dcmd_feedback_entry;
extern const struct dcmd_entry dcmd_answer_entry;
extern const struct dcmd_entry dcmd_quit_entry;
/* The user name of a uid (allocated), or the number. */
char		*daemon_user(uid_t);

/*
 * daemon_label.c: people's labels of synthetic examples.  The pump sends
 * a feedback stream the job's next example waiting for a label, if its
 * job asks people for them: 1 when it sent one, else 0.
 */
extern const struct dcmd_entry dcmd_label_entry;
int		 daemon_label_pump(struct daemon *, struct feedback *);

/* Sends every watch and feedback stream what is new; ends those over. */
void		 daemon_watch_pump(struct daemon *);
/* Forgets the streams of client c (NULL: every stream), sending nothing. */
void		 daemon_watch_drop(struct daemon *, struct control_client *c);

#endif
