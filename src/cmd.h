/*
 * promptctl commands.  Each command is one entry in cmd_table[] (cmd.c)
 * with its name, its usage line (which must match the SYNOPSIS in
 * promptctl(1); a test checks) and the function that carries it out.
 */
#ifndef CMD_H
#define CMD_H

/* Exit statuses. */
#define CMD_OK		0
#define CMD_ERROR	1
#define CMD_USAGE	2
#define CMD_NO_DAEMON	3

/* Global options, given before the command. */
struct cmd_ctx {
	const char	*conf_path;	/* -c */
	const char	*db_path;	/* -d */
	const char	*socket_path;	/* -S */
	int		 verbose;	/* -v */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	const char	*summary;
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
};

extern const struct cmd_entry *const cmd_table[];
const struct cmd_entry	*cmd_lookup(const char *);
/* Prints "usage: promptctl NAME USAGE" to stderr; returns CMD_USAGE. */
int			 cmd_usage(const struct cmd_entry *);

extern const struct cmd_entry cmd_eval_entry;
extern const struct cmd_entry cmd_validate_entry;

/*
 * Loads the configuration and then a job file, printing errors to stderr.
 * Returns NULL after printing.
 */
struct conf;
struct job;
struct job	*cmd_load_job(struct cmd_ctx *, const char *path,
		    struct conf **confp);

#endif
