/*
 * promptctl commands that control the daemon (submit, watch, pause,
 * resume, cancel, refresh, feedback) and what every control command
 * shares: options, the connection, the fallback to the database, output.
 */
#include <sys/ioctl.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "cmd.h"
#include "jsonc.h"
#include "conf.h"
#include "query.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

int
cmd_parse(struct cmd_ctx *ctx, const struct cmd_entry *entry, int *argcp,
    char ***argvp, const char *optstring, const struct option *extra,
    int min, int max, struct cmd_opts *o)
{
	struct option	 longopts[16];
	char		*shortopts;
	size_t		 n = 0;
	int		 ch;

	memset(o, 0, sizeof *o);
	memset(longopts, 0, sizeof longopts);
	longopts[n].name = "help";
	longopts[n++].val = 'h';
	longopts[n].name = "json";
	longopts[n++].val = 'J';
	for (; extra != NULL && extra->name != NULL &&
	    n < nitems(longopts) - 1; extra++)
		longopts[n++] = *extra;
	shortopts = xasprintf("h%s", optstring);
	/*
	 * A new scan (optind 0), in GNU order: options may follow the
	 * operands, whatever the scan of the global options left behind.
	 */
	optind = 0;
	while ((ch = getopt_long(*argcp, *argvp, shortopts, longopts,
	    NULL)) != -1) {
		if (ch == 'J')
			o->json = ctx->json = 1;
		else if (ch > 0 && ch < 128 && ch != '?' && ch != ':' &&
		    ch != 'h') {
			o->set[ch]++;
			o->arg[ch] = optarg;
		} else {
			free(shortopts);
			return ch == 'h' ? cmd_help(entry) : cmd_usage(entry);
		}
	}
	free(shortopts);
	*argcp -= optind;
	*argvp += optind;
	if (*argcp < min || *argcp > max)
		return cmd_usage(entry);
	return 0;
}

/* The exit status for an error code of the protocol. */
static int
cmd_error_status(const char *code)
{
	if (code != NULL && strcmp(code, "usage") == 0)
		return CMD_USAGE;
	return CMD_ERROR;
}

void
cmd_print_json(const cJSON *o)
{
	char	*s;

	s = cJSON_Print(o);
	printf("%s\n", s);
	cJSON_free(s);
}

int
cmd_error(struct cmd_ctx *ctx, int status, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	cJSON	*o, *e;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (ctx->json) {
		o = cJSON_CreateObject();
		e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", msg);
		cmd_print_json(o);
		cJSON_Delete(o);
	} else if (strcmp(code, "invalid") == 0)
		fprintf(stderr, "%s\n", msg);
	else
		fprintf(stderr, "promptctl: %s\n", msg);
	free(msg);
	return status;
}

char *
cmd_clip(const char *s, size_t max)
{
	struct strbuf	sb;
	size_t		n = 0, chars = 0;
	const char	*t;

	for (t = s; *t != '\0'; t++)
		if ((*t & 0xc0) != 0x80)
			chars++;
	if (chars > max && max > 3)
		max -= 3;	/* room for the "..." */
	strbuf_init(&sb);
	for (; *s != '\0'; s++) {
		if ((*s & 0xc0) != 0x80 && n++ == max)
			break;
		strbuf_addc(&sb, *s == '\n' || *s == '\t' || *s == '\r' ?
		    ' ' : *s);
	}
	if (*s != '\0')
		strbuf_adds(&sb, "...");
	return strbuf_detach(&sb);
}

int
cmd_width(void)
{
	struct winsize	ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) ==
	    0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * Prints text wrapped to width columns (UTF-8 characters, breaking at
 * spaces where it can), each line indented by indent spaces; the text's
 * own line breaks are kept.
 */
void
cmd_wrap(const char *text, int width, int indent)
{
	const char	*p, *line, *brk;
	size_t		 cols, max;

	max = width > indent + 11 ? (size_t)(width - indent - 1) : 10;
	line = text;
	while (*line != '\0') {
		cols = 0;
		brk = NULL;
		for (p = line; *p != '\0' && *p != '\n'; p++) {
			if ((*p & 0xc0) == 0x80)
				continue;
			if (cols == max)
				break;
			if (*p == ' ')
				brk = p;
			cols++;
		}
		if (*p != '\0' && *p != '\n' && brk != NULL && brk > line)
			p = brk;
		printf("%*s%.*s\n", indent, "", (int)(p - line), line);
		line = p;
		if (*line == '\n' || *line == ' ')
			line++;
	}
}


const char *
cmd_time(double t, char *buf, size_t size)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (isnan(t) || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

/* The socket path (allocated), or NULL after printing. */
static char *
cmd_socket_path(struct cmd_ctx *ctx)
{
	struct conf	*conf;
	char		*path, *cause = NULL;

	if (ctx->socket_path != NULL)
		return xstrdup(ctx->socket_path);
	if ((conf = conf_load(ctx->conf_path, &cause)) == NULL) {
		cmd_error(ctx, CMD_ERROR, "invalid", "%s", cause);
		free(cause);
		return NULL;
	}
	path = conf_socket_path(conf, NULL);
	conf_free(conf);
	return path;
}

/*
 * Connects to the daemon.  Returns NULL with *rc CMD_ERROR after
 * printing, or with *rc CMD_NO_DAEMON and the message in *cause when no
 * daemon runs (the caller prints it or reads the database instead).
 */
static struct client *
cmd_connect(struct cmd_ctx *ctx, int *rc, char **cause)
{
	struct client	*c;
	char		*path;

	*rc = CMD_ERROR;
	if ((path = cmd_socket_path(ctx)) == NULL)
		return NULL;
	if ((c = client_connect(path, cause)) == NULL) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			*rc = CMD_NO_DAEMON;
	}
	free(path);
	return c;
}

/* cmd_connect() for commands only the daemon answers: NULL after printing. */
static struct client *
cmd_connect_daemon(struct cmd_ctx *ctx, int *rc)
{
	struct client	*c;
	char		*cause = NULL;

	if ((c = cmd_connect(ctx, rc, &cause)) == NULL && cause != NULL)
		cmd_error(ctx, *rc, *rc == CMD_NO_DAEMON ? "no_daemon" :
		    "connect", "%s", cause);
	free(cause);
	return c;
}

/* Reports an error from the daemon or a query. */
static int
cmd_report(struct cmd_ctx *ctx, const char *code, const char *cause)
{
	return cmd_error(ctx, cmd_error_status(code), code != NULL ? code :
	    "error", "%s", cause != NULL ? cause : "unknown error");
}

/* Asks the daemon on c, reporting its error; closes c. */
static int
cmd_call_on(struct cmd_ctx *ctx, struct client *c, const char *cmd,
    cJSON *args, cJSON **result)
{
	char	*code = NULL, *cause = NULL;
	int	 rc;

	if (client_call(c, cmd, args, result, &code, &cause) == 0)
		rc = CMD_OK;
	else
		rc = cmd_report(ctx, code, cause);
	client_close(c);
	free(code);
	free(cause);
	return rc;
}

int
cmd_call(struct cmd_ctx *ctx, const char *cmd, cJSON *args, cJSON **result)
{
	struct client	*c;
	int		 rc;

	*result = NULL;
	if ((c = cmd_connect_daemon(ctx, &rc)) == NULL)
		return rc;
	return cmd_call_on(ctx, c, cmd, args, result);
}

/*
 * The database promptctl reads without a daemon: -d's, else the
 * configuration's (allocated), or NULL with *cause.  It must exist.
 */
static char *
cmd_database_path(struct cmd_ctx *ctx, char **cause)
{
	struct conf	*conf = NULL;
	char		*db;

	if (ctx->db_path == NULL &&
	    (conf = conf_load(ctx->conf_path, cause)) == NULL)
		return NULL;
	db = conf_database_path(conf, ctx->db_path, cause);
	conf_free(conf);
	if (db != NULL && access(db, F_OK) != 0) {
		cause_set(cause, "no database at '%s' (nothing has run yet)",
		    db);
		free(db);
		return NULL;
	}
	return db;
}

/* Answers a query from the database. */
static int
cmd_query_store(struct cmd_ctx *ctx, const char *cmd, cJSON *args,
    cJSON **result)
{
	struct store	*store = NULL;
	const char	*code = NULL;
	char		*db = NULL, *cause = NULL;
	int		 rc = CMD_ERROR;

	if ((db = cmd_database_path(ctx, &cause)) == NULL)
		goto out;
	if ((store = store_open(db, &cause)) == NULL)
		goto out;
	switch (query_run(store, cmd, args, result, &code, &cause)) {
	case 0:
		rc = CMD_OK;
		break;
	case 1:
		cause_set(&cause, "%s: not a query", cmd);
		break;
	default:
		rc = cmd_report(ctx, code, cause);
		free(cause);
		cause = NULL;
		break;
	}
out:
	if (cause != NULL)
		cmd_error(ctx, rc, "error", "%s", cause);
	store_close(store);
	free(db);
	free(cause);
	return rc;
}

int
cmd_database(struct cmd_ctx *ctx, char **db)
{
	struct client	*c;
	cJSON		*res;
	const cJSON	*v;
	char		*cause = NULL;
	int		 rc;

	*db = NULL;
	if (ctx->db_path == NULL || ctx->socket_path != NULL) {
		if ((c = cmd_connect(ctx, &rc, &cause)) != NULL) {
			/* The daemon's own, which -c or the default may
			 * not name. */
			if ((rc = cmd_call_on(ctx, c, "status", NULL,
			    &res)) != CMD_OK)
				return rc;
			v = cJSON_GetObjectItemCaseSensitive(res, "database");
			if (cJSON_IsString(v))
				*db = xstrdup(v->valuestring);
			cJSON_Delete(res);
			if (*db != NULL)
				return CMD_OK;
			return cmd_error(ctx, CMD_ERROR, "internal", "the "
			    "daemon did not say which database it uses");
		}
		if (rc != CMD_NO_DAEMON || (ctx->socket_path != NULL &&
		    ctx->db_path == NULL)) {
			if (cause == NULL)
				return rc;	/* printed */
			cmd_error(ctx, rc, rc == CMD_NO_DAEMON ? "no_daemon" :
			    "connect", "%s", cause);
			free(cause);
			return rc;
		}
		free(cause);
		cause = NULL;
	}
	if ((*db = cmd_database_path(ctx, &cause)) == NULL) {
		cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
		free(cause);
		return CMD_ERROR;
	}
	return CMD_OK;
}

int
cmd_query(struct cmd_ctx *ctx, const char *cmd, cJSON *args, cJSON **result)
{
	struct client	*c;
	char		*cause = NULL;
	int		 rc;

	*result = NULL;
	/* With -d alone the database named is the one to read. */
	if (ctx->db_path != NULL && ctx->socket_path == NULL)
		return cmd_query_store(ctx, cmd, args, result);
	if ((c = cmd_connect(ctx, &rc, &cause)) == NULL) {
		if (rc != CMD_NO_DAEMON && cause == NULL)
			return rc;	/* printed */
		/*
		 * -S names the daemon to ask: reading the default database
		 * instead would answer for another daemon, or for none.
		 * Only a database named with -d is read in its place.
		 */
		if (ctx->socket_path != NULL && ctx->db_path == NULL) {
			cmd_error(ctx, rc, rc == CMD_NO_DAEMON ? "no_daemon" :
			    "connect", "%s", cause);
			free(cause);
			return rc;
		}
		if (rc != CMD_NO_DAEMON)
			fprintf(stderr, "promptctl: %s; reading the database "
			    "instead\n", cause);
		else if (ctx->verbose)
			fprintf(stderr, "promptctl: %s; reading the database "
			    "instead\n", cause);
		free(cause);
		return cmd_query_store(ctx, cmd, args, result);
	}
	return cmd_call_on(ctx, c, cmd, args, result);
}

/* The args object {"job": name}. */
static cJSON *
job_args(const char *job)
{
	cJSON	*args;

	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", job);
	return args;
}

static int
cmd_submit(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	cJSON		*args, *result;
	char		*abs;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_submit_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	/* The daemon reads the file itself, maybe from another directory. */
	if ((abs = realpath(argv[0], NULL)) == NULL) {
		return cmd_error(ctx, CMD_ERROR, "error", "cannot read '%s': %s",
		    argv[0], strerror(errno));
	}
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "file", abs);
	free(abs);
	rc = cmd_call(ctx, "submit", args, &result);
	cJSON_Delete(args);
	if (rc != CMD_OK)
		return rc;
	if (o.json)
		cmd_print_json(result);
	else
		printf("job '%s' submitted (id %.0f): %s\n",
		    json_str(result, "job", "?"), json_num(result, "id"),
		    json_str(result, "state", "?"));
	cJSON_Delete(result);
	return CMD_OK;
}

/* pause, resume and cancel: {"job"} → {"job","state"}. */
static int
cmd_job_state(const struct cmd_entry *entry, struct cmd_ctx *ctx, int argc,
    char **argv)
{
	struct cmd_opts	 o;
	cJSON		*args, *result;
	int		 rc;

	if ((rc = cmd_parse(ctx, entry, &argc, &argv, "", NULL, 1, 1,
	    &o)) != 0)
		return rc;
	args = job_args(argv[0]);
	rc = cmd_call(ctx, entry->name, args, &result);
	cJSON_Delete(args);
	if (rc != CMD_OK)
		return rc;
	if (o.json)
		cmd_print_json(result);
	else
		printf("job '%s': %s\n", json_str(result, "job", argv[0]),
		    json_str(result, "state", "?"));
	cJSON_Delete(result);
	return CMD_OK;
}

static int
cmd_pause(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_job_state(&cmd_pause_entry, ctx, argc, argv);
}

static int
cmd_resume(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_job_state(&cmd_resume_entry, ctx, argc, argv);
}

static int
cmd_cancel(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_job_state(&cmd_cancel_entry, ctx, argc, argv);
}

static int
cmd_refresh(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	cJSON		*args, *result;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_refresh_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	args = job_args(argv[0]);
	rc = cmd_call(ctx, "refresh", args, &result);
	cJSON_Delete(args);
	if (rc != CMD_OK)
		return rc;
	if (o.json)
		cmd_print_json(result);
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result,
	    "started")))
		printf("job '%s': refresh run %.0f %s\n",
		    json_str(result, "job", argv[0]), json_num(result, "run"),
		    json_str(result, "state", "?"));
	else {
		/* Not an error: cron asks on a clock, the run goes on. */
		printf("job '%s' is %s", json_str(result, "job", argv[0]),
		    json_str(result, "state", "?"));
		if (!isnan(json_num(result, "run")))
			printf(" (%s run %.0f)", json_str(result, "kind", "a"),
			    json_num(result, "run"));
		printf(": no refresh started\n");
	}
	cJSON_Delete(result);
	return CMD_OK;
}

struct feedback {
	struct client	*client;
	const char	*job;
	int		 json;
	int		 tty;		/* stdout is a terminal */
	int		 width;		/* of the terminal */
	int		 answered;
	int		 quit;
	char		*code;		/* why the stream was stopped */
	char		*cause;
};

static void
feedback_show(struct feedback *f, const cJSON *duel)
{
	if (f->tty)
		printf("\033[H\033[2J");
	printf("job '%s', duel %.0f\n\nInput:\n", json_str(duel, "job",
	    f->job), json_num(duel, "id"));
	cmd_wrap(json_str(duel, "input", ""), f->width, 2);
	printf("\nResponse A:\n");
	cmd_wrap(json_str(duel, "first", ""), f->width, 2);
	printf("\nResponse B:\n");
	cmd_wrap(json_str(duel, "second", ""), f->width, 2);
	printf("\n");
}

/*
 * Reads one line of the standard input (allocated, without its newline)
 * while watching the daemon's connection: returns 1 with *line, 0 at the
 * end of the input, or -1 when the daemon sent something first (the
 * stream's end: the caller goes back to the stream to read it).  The
 * input is read a byte at a time, so nothing is buffered past the line.
 */
static int
feedback_readline(struct feedback *f, char **line)
{
	struct strbuf	 sb;
	struct pollfd	 pfd[2];
	char		 ch;
	ssize_t		 n;

	*line = NULL;
	strbuf_init(&sb);
	for (;;) {
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = client_fd(f->client);
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (client_buffered(f->client) || (poll(pfd, 2, -1) > 0 &&
		    pfd[1].revents != 0 && pfd[0].revents == 0)) {
			strbuf_release(&sb);
			return -1;
		}
		if (pfd[0].revents == 0)
			continue;
		if ((n = read(STDIN_FILENO, &ch, 1)) == -1 && (errno == EINTR ||
		    errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (ch == '\n') {
			*line = strbuf_detach(&sb);
			return 1;
		}
		strbuf_addc(&sb, ch);
	}
	if (sb.len > 0) {
		*line = strbuf_detach(&sb);
		return 1;
	}
	strbuf_release(&sb);
	return 0;
}

/*
 * Reads an answer from stdin: "first", "second", "tie", "skip", NULL to
 * quit (q, or the end of the input), or "" when the daemon ended the
 * stream meanwhile.
 */
static const char *
feedback_ask(struct feedback *f)
{
	char		*line = NULL, *p;
	const char	*answer = NULL;
	int		 rc;

	for (;;) {
		if (!f->json) {
			printf("[a]/[b]/[t]ie/[s]kip/[q]uit: ");
			fflush(stdout);
		}
		free(line);
		if ((rc = feedback_readline(f, &line)) <= 0) {
			if (!f->json)
				printf("\n");
			if (rc < 0)
				answer = "";
			break;
		}
		for (p = line; isspace((unsigned char)*p); p++)
			continue;
		p[strcspn(p, " \t\r\n")] = '\0';
		if (strcasecmp(p, "a") == 0 || strcasecmp(p, "first") == 0)
			answer = "first";
		else if (strcasecmp(p, "b") == 0 ||
		    strcasecmp(p, "second") == 0)
			answer = "second";
		else if (strcasecmp(p, "t") == 0 || strcasecmp(p, "tie") == 0)
			answer = "tie";
		else if (strcasecmp(p, "s") == 0 || strcasecmp(p, "skip") == 0)
			answer = "skip";
		else if (strcasecmp(p, "q") == 0 || strcasecmp(p, "quit") == 0)
			break;
		else {
			fprintf(stderr, "promptctl: feedback: '%s': answer a, "
			    "b, t, s or q\n", p);
			continue;
		}
		break;
	}
	free(line);
	return answer;
}

/*
 * Sends a person's answer (cmd "answer" or "label") or "quit", taking
 * args: 0 to go on with the stream, 1 to stop (f->code and f->cause say
 * why).  A question answered by someone else meanwhile is told, and the
 * stream goes on.
 */
static int
feedback_send(struct feedback *f, const char *cmd, cJSON *args)
{
	cJSON	*res = NULL;
	char	*code = NULL, *cause = NULL;
	int	 rc;

	if (strcmp(cmd, "quit") == 0)
		/* The daemon ends the stream; its end line comes next. */
		f->quit = 1;
	rc = client_call(f->client, cmd, args, &res, &code, &cause);
	if (rc == 0 && !f->quit)
		f->answered++;
	else if (rc != 0 && code != NULL && (strcmp(code, "state") == 0 ||
	    strcmp(code, "not_found") == 0)) {
		fprintf(stderr, "promptctl: feedback: %s\n", cause);
		rc = 0;
	}
	cJSON_Delete(args);
	cJSON_Delete(res);
	if (rc != 0) {
		f->code = code;
		f->cause = cause;
		return 1;
	}
	free(code);
	free(cause);
	return 0;
}

static void
feedback_show_label(struct feedback *f, const cJSON *q)
{
	const cJSON	*answers, *a;

	if (f->tty)
		printf("\033[H\033[2J");
	printf("job '%s', synthetic example %.0f to label\n\nInput:\n",
	    json_str(q, "job", f->job), json_num(q, "id"));
	cmd_wrap(json_str(q, "input", ""), f->width, 2);
	answers = cJSON_GetObjectItemCaseSensitive(q, "answers");
	if (cJSON_IsArray(answers) && cJSON_GetArraySize(answers) > 0) {
		printf("\nThe task's answers:");
		cJSON_ArrayForEach(a, answers)
			if (cJSON_IsString(a))
				printf("%s %s", a == answers->child ? "" : ",",
				    a->valuestring);
		printf("\n");
	}
	printf("\n");
}

/*
 * Reads a label from stdin: 1 with *label (allocated; NULL for :skip),
 * 0 to quit (:quit, or the end of the input), or -1 when the daemon ended
 * the stream meanwhile.  An empty line is asked again.
 */
static int
feedback_ask_label(struct feedback *f, char **label)
{
	char	*line = NULL, *p;
	int	 rc;

	*label = NULL;
	for (;;) {
		if (!f->json) {
			printf("label (or :skip, :quit): ");
			fflush(stdout);
		}
		free(line);
		if ((rc = feedback_readline(f, &line)) <= 0) {
			if (!f->json)
				printf("\n");
			return rc;
		}
		p = trim_dup(line, strlen(line));
		if (strcasecmp(p, ":skip") == 0 || strcasecmp(p, ":s") == 0) {
			free(p);
			break;
		}
		if (strcasecmp(p, ":quit") == 0 || strcasecmp(p, ":q") == 0) {
			free(p);
			free(line);
			return 0;
		}
		if (*p != '\0') {
			*label = p;
			break;
		}
		free(p);
	}
	free(line);
	return 1;
}

/* A synthetic example to label: shown, its label read and sent. */
static int
feedback_label(struct feedback *f, const cJSON *q)
{
	cJSON	*args;
	char	*label;
	int	 rc;

	if (!f->json)
		feedback_show_label(f, q);
	if ((rc = feedback_ask_label(f, &label)) < 0)
		return 0;	/* the stream's end line is next */
	args = cJSON_CreateObject();
	if (rc == 0)
		return feedback_send(f, "quit", args);
	cJSON_AddNumberToObject(args, "example", json_num(q, "id"));
	if (label != NULL)
		cJSON_AddStringToObject(args, "answer", label);
	else
		cJSON_AddBoolToObject(args, "skip", 1);
	free(label);
	return feedback_send(f, "label", args);
}

static int
feedback_event(void *arg, const cJSON *ev)
{
	struct feedback	*f = arg;
	const cJSON	*duel, *label;
	const char	*answer;
	cJSON		*args;
	char		*s;

	duel = cJSON_GetObjectItemCaseSensitive(ev, "duel");
	label = cJSON_GetObjectItemCaseSensitive(ev, "label");
	if (f->json) {
		s = cJSON_PrintUnformatted(ev);
		printf("%s\n", s);
		cJSON_free(s);
		fflush(stdout);
	}
	if (f->quit)
		return 0;
	if (cJSON_IsObject(label))
		return feedback_label(f, label);
	if (!cJSON_IsObject(duel))
		return 0;
	if (!f->json)
		feedback_show(f, duel);
	if ((answer = feedback_ask(f)) != NULL && *answer == '\0')
		return 0;	/* the stream's end line is next */
	args = cJSON_CreateObject();
	if (answer == NULL)
		return feedback_send(f, "quit", args);
	cJSON_AddNumberToObject(args, "duel", json_num(duel, "id"));
	cJSON_AddStringToObject(args, "winner", answer);
	return feedback_send(f, "answer", args);
}

static int
cmd_feedback(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	struct feedback	 f;
	cJSON		*args, *final = NULL;
	char		*code = NULL, *cause = NULL, *s;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_feedback_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	memset(&f, 0, sizeof f);
	if ((f.client = cmd_connect_daemon(ctx, &rc)) == NULL)
		return rc;
	f.job = argv[0];
	f.json = o.json;
	f.tty = !o.json && isatty(STDOUT_FILENO);
	f.width = cmd_width();
	args = job_args(argv[0]);
	rc = client_stream(f.client, "feedback", args, feedback_event, &f,
	    &final, &code, &cause);
	cJSON_Delete(args);
	client_close(f.client);
	if (rc != 0) {
		fflush(stdout);
		if (f.cause != NULL)
			rc = cmd_report(ctx, f.code, f.cause);
		else
			rc = cmd_report(ctx, code, cause);
		goto out;
	}
	if (o.json) {
		s = cJSON_PrintUnformatted(final);
		printf("%s\n", s);
		cJSON_free(s);
	} else
		printf("job '%s': %s; %d answer%s given\n", json_str(final,
		    "job", argv[0]), json_str(final, "state", "?"), f.answered,
		    f.answered == 1 ? "" : "s");
	rc = CMD_OK;
out:
	cJSON_Delete(final);
	free(f.code);
	free(f.cause);
	free(code);
	free(cause);
	return rc;
}

/* Seconds between progress lines when the output is not a terminal. */
#define WATCH_PLAIN_EVERY	10

struct watch {
	const char	*job;
	int		 json;
	int		 tty;
	struct strbuf	 bar;		/* the progress line drawn, or empty */
	double		 step;		/* of the last progress line printed */
	double		 at;		/* and its time */
};

/* The progress an event carries, as one line. */
static void
watch_progress(struct watch *w, const cJSON *ev, struct strbuf *sb)
{
	char	eta[32];
	double	best = json_num(ev, "best");

	cmd_duration(json_num(ev, "eta"), eta, sizeof eta);
	strbuf_addf(sb, "%s: step %.0f", w->job, json_num(ev, "step"));
	if (!isnan(best))
		strbuf_addf(sb, "  best %.3f", best);
	strbuf_addf(sb, "  %.0f calls  $%.4f  ETA %s", json_num(ev, "calls"),
	    json_num(ev, "dollars"), eta);
	if (json_num(ev, "proposals") > 0)
		strbuf_addf(sb, "  proposals %.0f/%.0f",
		    json_num(ev, "proposals_usable"),
		    json_num(ev, "proposals"));
	if (json_num(ev, "verdicts") > 0)
		strbuf_addf(sb, "  verdicts %.0f/%.0f",
		    json_num(ev, "verdicts_usable"), json_num(ev, "verdicts"));
	if (json_str(ev, "waiting", NULL) != NULL)
		strbuf_addf(sb, "  waiting: %s", json_str(ev, "waiting", NULL));
}

/*
 * On a terminal, events are lines above a progress line drawn over in
 * place; otherwise each event is a line, and progress a line when the
 * step changes or every WATCH_PLAIN_EVERY seconds.
 */
static int
watch_event(void *arg, const cJSON *ev)
{
	struct watch	*w = arg;
	struct strbuf	 line;
	const char	*level = json_str(ev, "level", "info");
	double		 time = json_num(ev, "time");
	char		*s, when[32];
	int		 progress = strcmp(level, "progress") == 0;

	if (w->json) {
		s = cJSON_PrintUnformatted(ev);
		printf("%s\n", s);
		cJSON_free(s);
		fflush(stdout);
		return 0;
	}
	strbuf_init(&line);
	if (!progress)
		strbuf_addf(&line, "%s %-5s %s", cmd_time(time, when,
		    sizeof when), level, json_str(ev, "message", ""));
	else if (w->tty) {
		strbuf_reset(&w->bar);
		watch_progress(w, ev, &w->bar);
	} else if (json_num(ev, "step") != w->step ||
	    !(time - w->at < WATCH_PLAIN_EVERY)) {
		w->step = json_num(ev, "step");
		w->at = time;
		strbuf_addf(&line, "%s %-5s ", cmd_time(time, when,
		    sizeof when), level);
		watch_progress(w, ev, &line);
	}
	if (line.len > 0)
		printf("%s%s\n", w->tty ? "\r\033[K" : "", line.buf);
	if (w->tty && w->bar.len > 0)
		printf("\r\033[K%s", w->bar.buf);
	fflush(stdout);
	strbuf_release(&line);
	return 0;
}

static int
cmd_watch(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	struct watch	 w;
	struct client	*c;
	cJSON		*args, *final = NULL;
	const char	*state, *why;
	char		*code = NULL, *cause = NULL, *s;
	double		 best;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_watch_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	if ((c = cmd_connect_daemon(ctx, &rc)) == NULL)
		return rc;
	memset(&w, 0, sizeof w);
	w.job = argv[0];
	w.json = o.json;
	w.tty = !o.json && isatty(STDOUT_FILENO);
	w.step = -1;
	strbuf_init(&w.bar);
	args = job_args(argv[0]);
	rc = client_stream(c, "watch", args, watch_event, &w, &final, &code,
	    &cause);
	cJSON_Delete(args);
	client_close(c);
	if (w.bar.len > 0)
		printf("\r\033[K");
	strbuf_release(&w.bar);
	if (rc != 0) {
		fflush(stdout);
		rc = cmd_report(ctx, code, cause);
		goto out;
	}
	state = json_str(final, "state", "?");
	if (o.json) {
		s = cJSON_PrintUnformatted(final);
		printf("%s\n", s);
		cJSON_free(s);
	} else {
		printf("job '%s': %s", json_str(final, "name", argv[0]), state);
		if ((why = json_str(final, "reason", NULL)) != NULL)
			printf(" (%s)", why);
		if (!isnan(best = json_num(final, "best")))
			printf(", best %.3f", best);
		printf("\n");
	}
	rc = strcmp(state, "failed") == 0 ? CMD_ERROR : CMD_OK;
out:
	cJSON_Delete(final);
	free(code);
	free(cause);
	return rc;
}

const struct cmd_entry cmd_submit_entry = {
	"submit", "[--json] file",
	"give a job file to the daemon", cmd_submit
};
const struct cmd_entry cmd_watch_entry = {
	"watch", "[--json] job",
	"follow a job's progress until it stops", cmd_watch
};
const struct cmd_entry cmd_pause_entry = {
	"pause", "[--json] job",
	"pause a running job", cmd_pause
};
const struct cmd_entry cmd_resume_entry = {
	"resume", "[--json] job",
	"resume a paused job", cmd_resume
};
const struct cmd_entry cmd_cancel_entry = {
	"cancel", "[--json] job",
	"stop a job for good", cmd_cancel
};
const struct cmd_entry cmd_refresh_entry = {
	"refresh", "[--json] job",
	"start a refresh run of a job now", cmd_refresh
};
const struct cmd_entry cmd_feedback_entry = {
	"feedback", "[--json] job",
	"answer a job's duels (which response is better) and label its "
	"synthetic examples", cmd_feedback
};
