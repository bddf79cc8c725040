/*
 * promptctl report: the HTML report of a job's run (report.h), written
 * from the database, which it reads itself: the daemon's when one runs
 * (a report is too large for a reply on the control socket, and reading
 * takes no lock the daemon waits for).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "report.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Writes the whole buffer to stdout. */
static int
report_stdout(const struct strbuf *sb, char **cause)
{
	if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len ||
	    fflush(stdout) != 0)
		return cause_set(cause, "cannot write the report: %s",
		    strerror(errno));
	return 0;
}

/* Writes the report to file (or stdout) and says so. */
static int
report_out(struct cmd_ctx *ctx, struct store *store, const char *job,
    int64_t run, const char *file, int json)
{
	struct strbuf	 sb;
	const char	*code = "internal";
	char		*cause = NULL;
	cJSON		*o;
	int		 rc;

	strbuf_init(&sb);
	if (file != NULL)
		rc = report_save(store, job, run, file, &code, &cause);
	else if ((rc = report_write(store, job, run, &sb, &code,
	    &cause)) == 0)
		rc = report_stdout(&sb, &cause);
	strbuf_release(&sb);
	if (rc != 0) {
		cmd_error(ctx, CMD_ERROR, code, "%s", cause);
		free(cause);
		return CMD_ERROR;
	}
	if (file != NULL && json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "job", job);
		cJSON_AddStringToObject(o, "file", file);
		cmd_print_json(o);
		cJSON_Delete(o);
	} else if (file != NULL)
		printf("job '%s': report written to %s\n", job, file);
	return CMD_OK;
}

static int
cmd_report(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_opts	 o;
	struct store	*store;
	long long	 run = 0;
	char		*db, *cause = NULL, *end;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_report_entry, &argc, &argv, "o:r:",
	    longopts, 1, 1, &o)) != 0)
		return rc;
	if (o.arg['r'] != NULL) {
		errno = 0;
		run = strtoll(o.arg['r'], &end, 10);
		if (*o.arg['r'] == '\0' || *end != '\0' || errno != 0 ||
		    run < 1)
			return cmd_error(ctx, CMD_USAGE, "usage", "--run '%s': "
			    "expected a run number", o.arg['r']);
	}
	if (o.json && o.arg['o'] == NULL)
		return cmd_error(ctx, CMD_USAGE, "usage", "--json needs -o: "
		    "the report itself is HTML");
	if ((rc = cmd_database(ctx, &db)) != CMD_OK)
		return rc;
	if ((store = store_open(db, &cause)) == NULL) {
		rc = cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
		free(cause);
		free(db);
		return rc;
	}
	rc = report_out(ctx, store, argv[0], (int64_t)run, o.arg['o'],
	    o.json);
	store_close(store);
	free(db);
	return rc;
}

const struct cmd_entry cmd_report_entry = {
	"report", "[--json] [-o file] [-r run] job",
	"write a job's run as a self-contained HTML page", cmd_report
};
