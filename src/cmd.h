/*
 * promptctl commands.  Each command is one entry in cmd_table[] (cmd.c)
 * with its name, its usage line (which must match the SYNOPSIS in
 * promptctl(1); a test checks) and the function that carries it out.
 */
#ifndef CMD_H
#define CMD_H

#include <cjson/cJSON.h>

/* Exit statuses. */
#define CMD_OK		0
#define CMD_ERROR	1
#define CMD_USAGE	2
#define CMD_NO_DAEMON	3
/* Not a status: a command printed its help, and promptctl exits 0. */
#define CMD_HELP	(-1)

/* Global options, given before the command. */
struct cmd_ctx {
	const char	*conf_path;	/* -c */
	const char	*db_path;	/* -d */
	const char	*socket_path;	/* -S */
	int		 verbose;	/* -v */
	int		 json;		/* the command's --json: errors
					   too go to stdout as JSON */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	const char	*summary;
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];
const struct cmd_entry	*cmd_lookup(const char *);
/* The name of the command nearest to a mistyped one, or NULL. */
const char		*cmd_suggest(const char *);
/* Prints "usage: promptctl NAME USAGE" to stderr; returns CMD_USAGE. */
int			 cmd_usage(const struct cmd_entry *);
/* Prints the usage and what the command does to stdout; returns CMD_HELP. */
int			 cmd_help(const struct cmd_entry *);

extern const struct cmd_entry cmd_eval_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_plan_entry;
extern const struct cmd_entry cmd_report_entry;
/* Production feedback into the database and out of it (cmd_ingest.c). */
extern const struct cmd_entry cmd_ingest_entry;
extern const struct cmd_entry cmd_forget_entry;
/* Commands that need the daemon (cmd_ctl.c). */
extern const struct cmd_entry cmd_submit_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_pause_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_refresh_entry;
extern const struct cmd_entry cmd_feedback_entry;
/* Read-only commands, answered without a daemon too (cmd_query.c). */
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_leaderboard_entry;
extern const struct cmd_entry cmd_best_entry;
extern const struct cmd_entry cmd_lineage_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_events_entry;

/*
 * Loads the configuration and then a job file.  Returns NULL with *cause
 * (FILE:LINE:COL lines where the files say where).
 */
struct conf;
struct job;
struct job	*cmd_load_job(struct cmd_ctx *, const char *path,
		    struct conf **confp, char **cause);

/*
 * A command's options, before or after its operands ("--" ends them):
 * -h and --help, --json, the short options of optstring (getopt's: a
 * letter, with ':' when it takes an argument) and the long options of
 * extra (NULL, or ended by a zeroed entry; each val a letter).  An
 * option's letter counts in opts->set[letter], its argument (the last
 * given) is in opts->arg[letter].  On return *argcp and *argvp are the
 * operands, which must number from min to max.  Returns 0, CMD_USAGE
 * after printing the usage, or CMD_HELP after printing the help.
 */
struct option;
struct cmd_opts {
	int		 json;		/* and ctx->json */
	int		 set[128];
	const char	*arg[128];
};
int		 cmd_parse(struct cmd_ctx *, const struct cmd_entry *,
		    int *argcp, char ***argvp, const char *optstring,
		    const struct option *extra, int min, int max,
		    struct cmd_opts *);

/*
 * Reports an error and returns status: with --json, as {"error": {"code":
 * code, "message": ...}} on stdout (nothing on stderr), so that a script
 * reads every outcome in one place; otherwise "promptctl: MESSAGE" on
 * stderr, or the message alone for code "invalid" (FILE:LINE:COL lines).
 */
int		 cmd_error(struct cmd_ctx *, int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Sends one request to the daemon.  Returns CMD_OK with *result (the
 * caller's), or prints the error and returns the exit status:
 * CMD_NO_DAEMON when no daemon runs, CMD_USAGE for a usage error,
 * CMD_ERROR otherwise.  args is borrowed.
 */
int		 cmd_call(struct cmd_ctx *, const char *cmd, cJSON *args,
		    cJSON **result);
/*
 * A read-only request (see query.h): answered by the daemon, or, when -d
 * is given without -S, or none runs and -S is not given without -d, by
 * query_run() on the database.  With -S alone, a daemon that is not
 * there is an error, as for cmd_call().  Returns as cmd_call().
 */
int		 cmd_query(struct cmd_ctx *, const char *cmd, cJSON *args,
		    cJSON **result);
/*
 * The database a command that reads it itself should open (allocated in
 * *db): the daemon's when one runs, chosen as cmd_query() chooses.
 * Returns CMD_OK, or the exit status after printing.
 */
int		 cmd_database(struct cmd_ctx *, char **db);
/* Prints an object as indented JSON on stdout. */
void		 cmd_print_json(const cJSON *);
/* A prompt on one line, cut to max characters with "..." (allocated). */
char		*cmd_clip(const char *, size_t max);
/* The terminal's columns when stdout is one, else 80. */
int		 cmd_width(void);
/*
 * Prints text wrapped to width columns (UTF-8 characters, breaking at
 * spaces where it can), each line indented by indent spaces; the text's
 * own line breaks are kept.
 */
void		 cmd_wrap(const char *text, int width, int indent);
/* Local time as "YYYY-MM-DD HH:MM:SS" in buf. */
const char	*cmd_time(double, char *buf, size_t size);
/* A duration as "1h02m", "3m05s" or "42s" in buf ("-" for none). */
const char	*cmd_duration(double, char *buf, size_t size);

#endif
