/*
 * promptctl's read-only commands: list, status, leaderboard, best,
 * lineage, history, export and events.  The daemon answers them when it
 * runs; otherwise they read the database (see cmd_query()).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "demo.h"
#include "jobrun.h"
#include "jsonc.h"
#include "query.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Reads a count operand of an option: a decimal integer from min to max.
 * Returns 0, or prints and returns -1.
 */
static int
parse_count(const char *opt, const char *s, long long min, long long max,
    long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "promptctl: %s '%s': expected an integer from "
		    "%lld to %lld\n", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Runs a query for one job with extra args; prints --json output. */
static int
job_query(struct cmd_ctx *ctx, const char *cmd, const char *job,
    cJSON *args, int json, cJSON **result)
{
	int	rc;

	if (args == NULL)
		args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "job", job);
	rc = cmd_query(ctx, cmd, args, result);
	cJSON_Delete(args);
	if (rc == CMD_OK && json) {
		cmd_print_json(*result);
		cJSON_Delete(*result);
		*result = NULL;
	}
	return rc;
}

static int
cmd_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	const cJSON	*jobs, *j;
	cJSON		*result;
	size_t		 w = 4, len;
	double		 best, ch;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_list_entry, &argc, &argv, "", NULL,
	    0, 0, &o)) != 0)
		return rc;
	if ((rc = cmd_query(ctx, "list", NULL, &result)) != CMD_OK)
		return rc;
	if (o.json) {
		cmd_print_json(result);
		cJSON_Delete(result);
		return CMD_OK;
	}
	jobs = cJSON_GetObjectItemCaseSensitive(result, "jobs");
	if (cJSON_GetArraySize(jobs) == 0)
		printf("no jobs\n");
	cJSON_ArrayForEach(j, jobs)
		if ((len = strlen(json_str(j, "name", ""))) > w)
			w = len;
	if (cJSON_GetArraySize(jobs) > 0)
		printf("%-*s %-9s %5s %5s %6s %8s %9s %s\n", (int)w, "NAME",
		    "STATE", "RUNS", "STEP", "BEST", "CALLS", "COST",
		    "CHAMPION");
	cJSON_ArrayForEach(j, jobs) {
		printf("%-*s %-9s %5.0f %5.0f ", (int)w, json_str(j, "name", "?"),
		    json_str(j, "state", "?"), json_num(j, "runs"),
		    json_num(j, "step"));
		if (isnan(best = json_num(j, "best")))
			printf("%6s", "-");
		else
			printf("%6.3f", best);
		printf(" %8.0f %9.4f ", json_num(j, "calls"),
		    json_num(j, "dollars"));
		if (isnan(ch = json_num(j, "champion")))
			printf("-");
		else
			printf("v%.0f", ch);
		if (json_str(j, "reason", NULL) != NULL)
			printf("  (%s)", json_str(j, "reason", NULL));
		printf("\n");
	}
	cJSON_Delete(result);
	return CMD_OK;
}

/* The daemon's own status. */
static int
status_daemon(struct cmd_ctx *ctx, int json)
{
	const cJSON	*v;
	cJSON		*result;
	const char	*sep = "";
	int		 rc;

	if ((rc = cmd_call(ctx, "status", NULL, &result)) != CMD_OK)
		return rc;
	if (json)
		cmd_print_json(result);
	else {
		printf("promptd running, pid %.0f, up %.0f s\n  jobs:",
		    json_num(result, "pid"), json_num(result, "uptime"));
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(result,
		    "jobs")) {
			printf("%s %s %.0f", sep, v->string,
			    cJSON_IsNumber(v) ? v->valuedouble : 0.0);
			sep = ",";
		}
		printf("%s\n", *sep == '\0' ? " none" : "");
	}
	cJSON_Delete(result);
	return CMD_OK;
}

/*
 * The response a duel over responses recommends (status's "response"),
 * if there is one: which it is, then its text on one clipped line.
 */
static void
status_response(const cJSON *resp)
{
	char	*clip;

	if (!cJSON_IsObject(resp))
		return;
	printf("  %-12scandidate %.0f, to candidate %.0f on dev example %.0f "
	    "(run %.0f%s)\n", "response", json_num(resp, "candidate"),
	    json_num(resp, "prompt"), json_num(resp, "example"),
	    json_num(resp, "run"), cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(resp, "final")) ? "" :
	    ", so far");
	clip = cmd_clip(json_str(resp, "text", ""), 66);
	printf("  %-12s%s\n", "", clip);
	free(clip);
}

/* The schedule, and when it fires next in local time. */
static void
status_schedule(const cJSON *r)
{
	double	next = json_num(r, "next_refresh");
	char	when[32];

	printf("  %-12s%s", "schedule", json_str(r, "schedule", ""));
	if (!isnan(next))
		printf(", next refresh %s", cmd_time(next, when,
		    sizeof when));
	printf("\n");
}

/*
 * The share of usable optimizer replies and judge verdicts of the latest
 * run (status's "replies"), with the commonest failure.
 */
static void
status_replies(const cJSON *replies)
{
	static const char *const roles[][2] = {
		{ "optimizer", "proposals" }, { "judge", "verdicts" }
	};
	const cJSON	*r, *n, *v;
	const char	*sep;
	double		 total;
	size_t		 i;
	for (i = 0; i < nitems(roles); i++) {
		r = cJSON_GetObjectItemCaseSensitive(replies, roles[i][0]);
		if (!cJSON_IsObject(r) || (total = json_num(r, "total")) <= 0)
			continue;
		printf("  %-12s%.0f of %.0f %s replies usable (%.0f%%)",
		    roles[i][1], json_num(r, "usable"), total, roles[i][0],
		    100 * json_num(r, "usable") / total);
		sep = ": ";
		n = cJSON_GetObjectItemCaseSensitive(r, "outcomes");
		cJSON_ArrayForEach(v, n) {
			if (strcmp(v->string, "usable") == 0 ||
			    strcmp(v->string, "repaired") == 0)
				continue;
			printf("%s%.0f %s", sep, v->valuedouble, v->string);
			sep = ", ";
		}
		printf("\n");
		if (json_str(r, "problem", NULL) != NULL)
			printf("  %-12s%s: %s\n", "", json_str(r, "commonest",
			    "?"), json_str(r, "problem", NULL));
	}
}

/*
 * A champion's dev score (member key) and interval, "0.812 [0.700,
 * 0.900]", or "not scored" for one put forward without dev examples.
 */
static char *
score_text(const cJSON *o, const char *key)
{
	if (isnan(json_num(o, key)))
		return xstrdup("not scored");
	return xasprintf("%.3f [%.3f, %.3f]", json_num(o, key), json_num(o,
	    "lo"), json_num(o, "hi"));
}

/*
 * A champion's risk bound, "risk bound 0.04 <= 0.20 (share of dev
 * examples below 0.5, 90% confidence, 58 examples)", or NULL when its
 * job set no risk.
 */
static char *
risk_text(const cJSON *o)
{
	const cJSON	*r = cJSON_GetObjectItemCaseSensitive(o, "risk");

	if (!cJSON_IsObject(r))
		return NULL;
	return xasprintf("risk bound %.2f <= %.2f (%s)", json_num(r, "bound"),
	    json_num(r, "max"), json_str(r, "text", "?"));
}

static int
cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	const cJSON	*b, *v, *f;
	cJSON		*r;
	const char	*sep = "";
	char		*score, when[32];
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_status_entry, &argc, &argv, "", NULL,
	    0, 1, &o)) != 0)
		return rc;
	if (argc == 0)
		return status_daemon(ctx, o.json);
	if ((rc = job_query(ctx, "status", argv[0], NULL, o.json,
	    &r)) != CMD_OK || o.json)
		return rc;
	printf("job '%s': %s", json_str(r, "name", argv[0]),
	    json_str(r, "state", "?"));
	if (json_str(r, "reason", NULL) != NULL)
		printf(" (%s)", json_str(r, "reason", NULL));
	printf("\n");
	if (json_str(r, "description", NULL) != NULL)
		printf("  %-12s%s\n", "description",
		    json_str(r, "description", NULL));
	printf("  %-12s%s\n", "strategy", json_str(r, "strategy", "none"));
	if (!isnan(json_num(r, "run"))) {
		printf("  %-12s%.0f (%s, %s) at step %.0f\n", "run",
		    json_num(r, "run"), json_str(r, "kind", "?"),
		    json_str(r, "run_state", "?"), json_num(r, "step"));
		printf("  %-12s%s\n", "started", cmd_time(json_num(r, "started"),
		    when, sizeof when));
		if (!isnan(json_num(r, "ended")))
			printf("  %-12s%s\n", "ended",
			    cmd_time(json_num(r, "ended"), when, sizeof when));
	}
	printf("  %-12s%.0f run%s: %.0f calls, %.0f cache hits, %.0f tokens",
	    "spent", json_num(r, "runs"), json_num(r, "runs") == 1 ? "" : "s",
	    json_num(r, "calls"), json_num(r, "hits"), json_num(r, "tokens"));
	if (json_num(r, "cached_tokens") > 0)
		printf(" (%.0f input from the prompt cache)",
		    json_num(r, "cached_tokens"));
	printf(", $%.4f\n", json_num(r, "dollars"));
	if (cJSON_IsObject(b = cJSON_GetObjectItemCaseSensitive(r, "budget"))) {
		printf("  %-12s", "budget");
		cJSON_ArrayForEach(v, b) {
			if (cJSON_IsString(v))
				printf("%s%s %s", sep, v->string,
				    v->valuestring);
			else if (cJSON_IsNumber(v))
				printf("%s%s %g", sep, v->string,
				    v->valuedouble);
			sep = ", ";
		}
		printf("\n");
	}
	if (json_str(r, "schedule", NULL) != NULL)
		status_schedule(r);
	if (!isnan(json_num(r, "champion"))) {
		score = score_text(r, "best");
		printf("  %-12sv%.0f, candidate %.0f: %s\n", "champion",
		    json_num(r, "champion"), json_num(r, "candidate"), score);
		free(score);
		if ((score = risk_text(r)) != NULL)
			printf("  %-12s%s\n", "", score);
		free(score);
	} else
		printf("  %-12snone yet\n", "champion");
	status_replies(cJSON_GetObjectItemCaseSensitive(r, "replies"));
	f = cJSON_GetObjectItemCaseSensitive(r, "failures");
	if (cJSON_IsObject(f))
		printf("  %-12s%.0f failed attempts: %s\n", "failures",
		    json_num(f, "attempts"), json_str(f, "causes", ""));
	f = cJSON_GetObjectItemCaseSensitive(r, "surrogate");
	if (cJSON_IsObject(f) && json_num(f, "screens") > 0)
		printf("  %-12s%.0f of %.0f proposals screened out, about %.0f "
		    "target calls saved; %.0f of %.0f audited beat the "
		    "median\n", "surrogate", json_num(f, "screened"),
		    json_num(f, "proposals"), json_num(f, "saved"),
		    json_num(f, "missed"), json_num(f, "compared"));
	status_response(cJSON_GetObjectItemCaseSensitive(r, "response"));
	cJSON_Delete(r);
	return CMD_OK;
}

/*
 * A candidate's prompt as a line shows it: its instruction, after the
 * number of demos it shows when it has some ("[4 demos] Classify...").
 */
static char *
prompt_line(const cJSON *c)
{
	int	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c,
	    "demos"));

	if (n == 0)
		return xstrdup(json_str(c, "text", ""));
	return xasprintf("[%d demo%s] %s", n, n == 1 ? "" : "s",
	    json_str(c, "text", ""));
}

/* Each demo of a candidate, wrapped, after its prompt (-l). */
static void
demos_print(const cJSON *c, int width)
{
	const cJSON	*d;
	char		*line;
	int		 i = 0;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "demos")) {
		line = xasprintf("demo %d: %s => %s", ++i,
		    json_str(d, "input", ""), json_str(d, "output", ""));
		cmd_wrap(line, width, 8);
		free(line);
	}
}

static int
cmd_leaderboard(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_opts	 o;
	const cJSON	*arr, *c;
	cJSON		*args, *r;
	char		*clip, *line;
	const char	*sort;
	long long	 n;
	int		 rc, i = 0, width, champ;

	if ((rc = cmd_parse(ctx, &cmd_leaderboard_entry, &argc, &argv, "n:l",
	    longopts, 1, 1, &o)) != 0)
		return rc;
	sort = o.arg['s'];
	if (sort != NULL && strcmp(sort, "score") != 0 &&
	    strcmp(sort, "tokens") != 0)
		return cmd_error(ctx, CMD_USAGE, "usage", "leaderboard: --sort "
		    "is score or tokens, not '%s'", sort);
	args = cJSON_CreateObject();
	if (o.arg['n'] != NULL) {
		if (parse_count("-n", o.arg['n'], 1, QUERY_MAX_LIMIT, &n) != 0) {
			cJSON_Delete(args);
			return CMD_USAGE;
		}
		cJSON_AddNumberToObject(args, "limit", (double)n);
	}
	if (sort != NULL)
		cJSON_AddStringToObject(args, "sort", sort);
	if ((rc = job_query(ctx, "leaderboard", argv[0], args, o.json,
	    &r)) != CMD_OK || o.json)
		return rc;
	arr = cJSON_GetObjectItemCaseSensitive(r, "candidates");
	if (cJSON_GetArraySize(arr) == 0)
		printf("job '%s': no candidate has dev scores yet\n", argv[0]);
	else
		printf("%4s %6s %6s  %-15s %5s %7s  %-14s %s\n", "#", "ID",
		    "MEAN", "95% INTERVAL", "N", "TOKENS", "ORIGIN", "PROMPT");
	/* The prompt takes what the terminal leaves, whole with -l. */
	width = cmd_width();
	cJSON_ArrayForEach(c, arr) {
		champ = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "champion"));
		line = prompt_line(c);
		clip = cmd_clip(line, o.set['l'] ? 0 :
		    (size_t)(width > 128 ? width - 70 : 58));
		free(line);
		printf("%c%3d %6.0f %6.3f  [%5.3f, %5.3f] %5.0f %6.0f%c  "
		    "%-*s%s%s\n", champ ? '*' : ' ', ++i, json_num(c, "id"),
		    json_num(c, "mean"), json_num(c, "lo"), json_num(c, "hi"),
		    json_num(c, "n"), json_num(c, "tokens"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c,
		    "pareto")) ? '+' : ' ', o.set['l'] ? 0 : 14,
		    json_str(c, "origin", "?"), o.set['l'] ? "" : " ",
		    o.set['l'] ? "" : clip);
		free(clip);
		if (o.set['l']) {
			cmd_wrap(json_str(c, "text", ""), width, 6);
			demos_print(c, width);
		}
	}
	if (cJSON_GetArraySize(arr) > 0)
		printf("(* the champion; + on the score/tokens Pareto front)\n");
	cJSON_Delete(r);
	return CMD_OK;
}

static int
cmd_best(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "response", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_opts	 o;
	cJSON		*args, *r;
	int		 rc, response, n;

	if ((rc = cmd_parse(ctx, &cmd_best_entry, &argc, &argv, "", longopts,
	    1, 1, &o)) != 0)
		return rc;
	response = o.set['r'] > 0;
	args = cJSON_CreateObject();
	if (response)
		cJSON_AddTrueToObject(args, "response");
	if ((rc = job_query(ctx, "best", argv[0], args, 0, &r)) != CMD_OK)
		return rc;
	/* A daemon older than the argument answers with the champion. */
	if (response && isnan(json_num(r, "prompt"))) {
		cJSON_Delete(r);
		return cmd_error(ctx, CMD_ERROR, "usage", "best: the daemon "
		    "does not know --response; restart it");
	}
	if (o.json)
		cmd_print_json(r);
	else {	/* The prompt (or response) alone, for scripts. */
		printf("%s\n", json_str(r, "text", ""));
		if ((n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r,
		    "demos"))) > 0)
			fprintf(stderr, "promptctl: and %d demo%s before the "
			    "input: best --json lists them\n", n,
			    n == 1 ? "" : "s");
	}
	cJSON_Delete(r);
	return CMD_OK;
}

/*
 * A lineage node's dev score and interval (when it has one) and its
 * prompt's tokens (when the answer gives them).
 */
static char *
lineage_score(const cJSON *node)
{
	double	tokens = json_num(node, "tokens");
	char	tok[48] = "";

	if (!isnan(tokens))
		snprintf(tok, sizeof tok, "%.0f tokens", tokens);
	if (isnan(json_num(node, "mean")))
		return *tok == '\0' ? xstrdup("") : xasprintf(" (%s)", tok);
	return xasprintf(" %.3f [%.3f, %.3f]%s%s", json_num(node, "mean"),
	    json_num(node, "lo"), json_num(node, "hi"), *tok != '\0' ?
	    ", " : "", tok);
}

/* Prints the parents of a lineage node, indented by depth. */
static void
lineage_print(const cJSON *node, int depth)
{
	const cJSON	*p;
	const char	*op, *note;
	char		*clip, *score;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(node,
	    "parents")) {
		op = json_str(p, "operator", NULL);
		note = json_str(p, "note", NULL);
		clip = cmd_clip(json_str(p, "text", ""), 60);
		score = lineage_score(p);
		printf("%*s<- #%.0f%s%s%s: %s%s\n", depth * 4, "",
		    json_num(p, "id"), score, op != NULL ? " by " : "",
		    op != NULL ? op : "", clip,
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "seen")) ?
		    " (shown above)" : cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(p, "truncated")) ?
		    " (older ancestors not shown)" : "");
		free(clip);
		free(score);
		if (note != NULL) {
			clip = cmd_clip(note, 70);
			printf("%*s   note: %s\n", depth * 4, "", clip);
			free(clip);
		}
		lineage_print(p, depth + 1);
	}
}

static int
cmd_lineage(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	cJSON		*args, *r;
	char		*clip, *score, *line;
	long long	 id;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_lineage_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	if (parse_count("candidate", argv[0], 1, LLONG_MAX / 2, &id) != 0)
		return CMD_USAGE;
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "candidate", (double)id);
	rc = cmd_query(ctx, "lineage", args, &r);
	cJSON_Delete(args);
	if (rc != CMD_OK)
		return rc;
	if (o.json)
		cmd_print_json(r);
	else {
		line = prompt_line(r);
		clip = cmd_clip(line, 60);
		free(line);
		score = lineage_score(r);
		printf("#%.0f%s (%s): %s\n", json_num(r, "id"), score,
		    json_str(r, "origin", "?"), clip);
		free(clip);
		free(score);
		lineage_print(r, 1);
	}
	cJSON_Delete(r);
	return CMD_OK;
}

/* A champion version's test score and interval, or "" when it has none. */
static char *
history_test(const cJSON *test)
{
	if (test == NULL)
		return xstrdup("");
	return xasprintf("  test %.3f [%.3f, %.3f] on %.0f", json_num(test,
	    "score"), json_num(test, "lo"), json_num(test, "hi"),
	    json_num(test, "n"));
}

static int
cmd_history(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	const cJSON	*arr, *h;
	cJSON		*r;
	char		*clip, *test, *score, when[32];
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_history_entry, &argc, &argv, "", NULL,
	    1, 1, &o)) != 0)
		return rc;
	if ((rc = job_query(ctx, "history", argv[0], NULL, o.json,
	    &r)) != CMD_OK || o.json)
		return rc;
	arr = cJSON_GetObjectItemCaseSensitive(r, "champions");
	if (cJSON_GetArraySize(arr) == 0)
		printf("job '%s': no champion yet\n", argv[0]);
	cJSON_ArrayForEach(h, arr) {
		clip = cmd_clip(json_str(h, "text", ""), 70);
		test = history_test(cJSON_GetObjectItemCaseSensitive(h,
		    "test"));
		score = score_text(h, "score");
		printf("v%.0f  %s  candidate %.0f  %s%s\n    %s\n    %s\n",
		    json_num(h, "version"), cmd_time(json_num(h, "time"), when,
		    sizeof when), json_num(h, "candidate"), score, test,
		    json_str(h, "reason", "no reason recorded"), clip);
		free(score);
		if ((score = risk_text(h)) != NULL)
			printf("    %s\n", score);
		free(score);
		free(test);
		free(clip);
	}
	cJSON_Delete(r);
	return CMD_OK;
}

/*
 * The champion as the daemon exports it: its text, and its demos after it
 * when the job places them inline (task_prompt_text()).
 */
static char *
export_text(const cJSON *r, char **cause)
{
	struct task	 t;
	struct demos	 d;
	char		*text;

	memset(&t, 0, sizeof t);
	if (strcmp(json_str(r, "demo_placement", "turns"), "inline") != 0)
		return xstrdup(json_str(r, "text", ""));
	t.demos = DEMOS_INLINE;
	if ((t.demo_tmpl = template_compile(json_str(r, "demo_template",
	    TASK_DEMO_TEMPLATE), cause)) == NULL)
		return NULL;
	if (demos_from_json(cJSON_GetObjectItemCaseSensitive(r, "demos"),
	    "export: demos", &d, cause) != 0) {
		template_free(t.demo_tmpl);
		return NULL;
	}
	text = task_prompt_text(&t, json_str(r, "text", ""), &d);
	demos_release(&d);
	template_free(t.demo_tmpl);
	return text;
}

static int
cmd_export(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	cJSON		*r;
	char		*text, *full, *cause = NULL;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_export_entry, &argc, &argv, "o:", NULL,
	    1, 1, &o)) != 0)
		return rc;
	if ((rc = job_query(ctx, "export", argv[0], NULL, 0, &r)) != CMD_OK)
		return rc;
	if ((full = export_text(r, &cause)) == NULL) {
		cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
		free(cause);
		cJSON_Delete(r);
		return CMD_ERROR;
	}
	if (!o.json && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r,
	    "demos")) > 0 && strcmp(json_str(r, "demo_placement", ""),
	    "turns") == 0)
		fprintf(stderr, "promptctl: and demos shown as turns before "
		    "the input: export --json lists them\n");
	if (o.arg['o'] == NULL) {
		if (o.json)
			cmd_print_json(r);
		else
			printf("%s\n", full);
		free(full);
		cJSON_Delete(r);
		return CMD_OK;
	}
	/* The same file as the daemon's export: the text and a newline. */
	text = xasprintf("%s\n", full);
	free(full);
	rc = file_write_atomic(o.arg['o'], text, &cause);
	free(text);
	if (rc != 0) {
		cmd_error(ctx, CMD_ERROR, "error", "%s", cause);
		free(cause);
		cJSON_Delete(r);
		return CMD_ERROR;
	}
	if (o.json) {
		cJSON_AddStringToObject(r, "file", o.arg['o']);
		cmd_print_json(r);
	} else
		printf("job '%s': champion v%.0f written to %s\n", argv[0],
		    json_num(r, "version"), o.arg['o']);
	cJSON_Delete(r);
	return CMD_OK;
}

static int
cmd_events(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_opts	 o;
	const cJSON	*e;
	cJSON		*args, *r;
	char		 when[32];
	long long	 v;
	int		 rc;

	if ((rc = cmd_parse(ctx, &cmd_events_entry, &argc, &argv, "a:n:",
	    NULL, 1, 1, &o)) != 0)
		return rc;
	args = cJSON_CreateObject();
	if (o.arg['a'] != NULL) {
		if (parse_count("-a", o.arg['a'], 0, LLONG_MAX / 2, &v) != 0)
			goto usage;
		cJSON_AddNumberToObject(args, "after", (double)v);
	}
	if (o.arg['n'] != NULL) {
		if (parse_count("-n", o.arg['n'], 1, QUERY_MAX_LIMIT, &v) != 0)
			goto usage;
		cJSON_AddNumberToObject(args, "limit", (double)v);
	}
	if ((rc = job_query(ctx, "events", argv[0], args, o.json,
	    &r)) != CMD_OK || o.json)
		return rc;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "events")) {
		printf("%6.0f  %s  %-5s ", json_num(e, "id"),
		    cmd_time(json_num(e, "time"), when, sizeof when),
		    json_str(e, "level", "?"));
		if (!isnan(json_num(e, "run")))
			printf("run %.0f: ", json_num(e, "run"));
		printf("%s\n", json_str(e, "message", ""));
	}
	cJSON_Delete(r);
	return CMD_OK;
usage:
	cJSON_Delete(args);
	return CMD_USAGE;
}

const struct cmd_entry cmd_list_entry = {
	"list", "[--json]",
	"list the jobs with their state and champion", cmd_list
};
const struct cmd_entry cmd_status_entry = {
	"status", "[--json] [job]",
	"show a job in detail, or the daemon", cmd_status
};
const struct cmd_entry cmd_leaderboard_entry = {
	"leaderboard", "[--json] [-l] [-n count] [--sort score | tokens] job",
	"show a job's best candidates with their intervals", cmd_leaderboard
};
const struct cmd_entry cmd_best_entry = {
	"best", "[--json] [--response] job",
	"print a job's champion prompt, or recommended response, alone",
	cmd_best
};
const struct cmd_entry cmd_lineage_entry = {
	"lineage", "[--json] candidate",
	"show the ancestry of a candidate", cmd_lineage
};
const struct cmd_entry cmd_history_entry = {
	"history", "[--json] job",
	"show a job's champion versions", cmd_history
};
const struct cmd_entry cmd_export_entry = {
	"export", "[--json] [-o file] job",
	"print or write a job's champion prompt", cmd_export
};
const struct cmd_entry cmd_events_entry = {
	"events", "[--json] [-a after] [-n count] job",
	"show a job's event log", cmd_events
};
