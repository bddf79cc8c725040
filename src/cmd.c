/* The promptctl command table and what the commands share. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "job.h"
#include "util.h"
#include "xmalloc.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_best_entry,
	&cmd_cancel_entry,
	&cmd_eval_entry,
	&cmd_events_entry,
	&cmd_export_entry,
	&cmd_feedback_entry,
	&cmd_forget_entry,
	&cmd_history_entry,
	&cmd_ingest_entry,
	&cmd_leaderboard_entry,
	&cmd_lineage_entry,
	&cmd_list_entry,
	&cmd_pause_entry,
	&cmd_plan_entry,
	&cmd_refresh_entry,
	&cmd_report_entry,
	&cmd_resume_entry,
	&cmd_status_entry,
	&cmd_submit_entry,
	&cmd_validate_entry,
	&cmd_watch_entry,
	NULL
};

const struct cmd_entry *
cmd_lookup(const char *name)
{
	const struct cmd_entry *const *c;

	for (c = cmd_table; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

const char *
cmd_suggest(const char *name)
{
	const char	*names[nitems(cmd_table)];
	size_t		 n;

	for (n = 0; cmd_table[n] != NULL; n++)
		names[n] = cmd_table[n]->name;
	return suggest_n(name, names, n);
}

int
cmd_usage(const struct cmd_entry *c)
{
	fprintf(stderr, "usage: promptctl %s %s\n", c->name, c->usage);
	return CMD_USAGE;
}

int
cmd_help(const struct cmd_entry *c)
{
	printf("usage: promptctl %s %s\n%s\n", c->name, c->usage, c->summary);
	return CMD_HELP;
}

struct job *
cmd_load_job(struct cmd_ctx *ctx, const char *path, struct conf **confp,
    char **cause)
{
	struct conf	*conf;
	struct job	*job;

	*confp = NULL;
	if ((conf = conf_load(ctx->conf_path, cause)) == NULL)
		return NULL;
	if ((job = job_load(path, conf, cause)) == NULL) {
		conf_free(conf);
		return NULL;
	}
	*confp = conf;
	return job;
}

const char *
cmd_duration(double s, char *buf, size_t size)
{
	long	t;

	if (isnan(s) || s < 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	t = s > (double)LONG_MAX / 2 ? LONG_MAX / 2 : (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, size, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%lds", t);
	return buf;
}
