/*
 * users: a seeded population of people using a deployed prompt, for the
 * tests of learning from production feedback (promptd-feedback(5)).
 *
 * It loads a job file as promptctl does, shows the job's simulated world
 * its task (with the backend's knowledge: the truth the job itself may
 * not have), then COUNT times draws one line of the inputs file, renders
 * it through the task's template with the prompt exactly as a search
 * does for a target call, asks the target backend, and scores the answer
 * against the line's hidden truth with the task's metric.  Each
 * interaction becomes one line of a feedback log: a right answer is
 * rated up, a wrong one down and, with probability R, edited into the
 * truth.  Every draw of interaction i comes from the stream (seed, i),
 * so two prompts are used by the same people on the same inputs, and a
 * seed gives the same log byte for byte.  Each line names the champion
 * version that answered (-V), or with -P the prompt itself, as a
 * deployment logs a challenger's answers; -t moves the first
 * interaction's time (2026-01-01 by default) to after a challenger
 * started.  See tests/mock/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "conf.h"
#include "dataset.h"
#include "job.h"
#include "jobrun.h"
#include "jsonc.h"
#include "metric.h"
#include "model.h"
#include "rng.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

#define USERS_TIME0	1767225600.0	/* 2026-01-01T00:00:00Z */
#define USERS_STEP	60.0		/* seconds between interactions */
#define USERS_MAX_PROMPT ((size_t)1 << 20)

static const char users_usage[] = "usage: users -j job.json -p prompt.txt "
    "[-V version | -P] -i inputs.jsonl -n count -s seed\n"
    "             [-u users] [-t start] [--edit-rate rate] [--rated] "
    "-o log.jsonl\n";

struct users {
	struct conf	*conf;
	struct job	*job;
	struct dataset	*inputs;
	struct task	 task;		/* the job's, on the inputs file */
	struct backend	*target;
	char		*prompt;
	long long	 version;	/* 0: not given */
	int		 name_prompt;	/* -P: lines name the prompt */
	double		 time0;		/* of the first interaction */
	long long	 count;
	long long	 seed;
	long long	 nusers;
	double		 edit_rate;
	int		 stars;		/* --rated: 1-5 stars, not thumbs */
	FILE		*log;
	size_t		 correct, wrong, edited;
};

/* A whole number from min to max. */
static int
users_num(const char *s, long long min, long long max, long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *out < min ||
	    *out > max ? -1 : 0;
}

/* The prompt as exported: the file without its trailing newline. */
static int
users_prompt(struct users *u, const char *path, char **cause)
{
	size_t	len;

	if (file_read(path, USERS_MAX_PROMPT, &u->prompt, &len, cause) != 0)
		return -1;
	if (len > 0 && u->prompt[len - 1] == '\n')
		u->prompt[--len] = '\0';
	if (len > 0 && u->prompt[len - 1] == '\r')
		u->prompt[--len] = '\0';
	return 0;
}

static int
users_load(struct users *u, const char *jobfile, const char *inputs,
    char **cause)
{
	struct task	*t;

	if ((u->conf = conf_load(NULL, cause)) == NULL ||
	    (u->job = job_load(jobfile, u->conf, cause)) == NULL)
		return -1;
	t = &u->job->task;
	if (t->target == NULL)
		return cause_set(cause, "job '%s': the task has no target "
		    "field to hold the truth", t->name);
	if (metric_needs_judge(t->metric))
		return cause_set(cause, "job '%s': the metric needs a judge; "
		    "users score answers against the truth", t->name);
	u->target = t->roles[ROLE_TARGET];
	if (u->target->ops->call == NULL)
		return cause_set(cause, "job '%s': the target backend '%s' "
		    "(type %s) does not answer in-process", t->name,
		    u->target->name, u->target->ops->name);
	if ((u->inputs = dataset_load(inputs, NULL, cause)) == NULL)
		return -1;
	if (template_check(t->tmpl, u->inputs, cause) != 0)
		return cause_prefix(cause, "%s: ", inputs);
	if (!dataset_has_field(u->inputs, t->target))
		return cause_set(cause, "%s: no field '%s' (the truth)",
		    inputs, t->target);
	/* Shown the task as a run shows it, knowledge first. */
	jobrun_observe(u->job);
	u->task = *t;
	u->task.dataset = u->inputs;
	return 0;
}

/* The target's answer to an example of the inputs file. */
static int
users_ask(struct users *u, size_t ex, char **answer, char **cause)
{
	struct model_req	req;
	struct model_resp	resp;
	int			rc;

	task_build_request(&u->task, u->prompt, ex, &req);
	rc = u->target->ops->call(u->target, &req, &resp, cause);
	model_req_release(&req);
	if (rc == 0) {
		*answer = resp.text != NULL ? resp.text : xstrdup("");
		resp.text = NULL;
	}
	model_resp_release(&resp);
	return rc;
}

/* The inputs of an interaction: the fields the template shows. */
static cJSON *
users_inputs(const struct users *u, const struct example *e)
{
	cJSON		*o = cJSON_CreateObject();
	const cJSON	*v;
	const char	*f;
	size_t		 i;

	for (i = 0; i < template_nfields(u->task.tmpl); i++) {
		f = template_field(u->task.tmpl, i);
		if ((v = example_field(e, f)) != NULL)
			cJSON_AddItemToObject(o, f, cJSON_Duplicate(v, 1));
	}
	return o;
}

/*
 * One interaction.  The draws are made whatever the answer, so the
 * inputs and the user of interaction i do not depend on the prompt.
 */
static int
users_one(struct users *u, long long i, char **cause)
{
	struct rng		 r;
	const struct example	*e;
	const cJSON		*truth;
	cJSON			*o;
	char			*answer, *line, *user, *text;
	uint32_t		 k, star;
	double			 edit;
	int			 right;

	rng_seed(&r, (uint64_t)u->seed, (uint64_t)i);
	k = rng_below(&r, (uint32_t)u->inputs->n);
	e = &u->inputs->ex[k];
	user = xasprintf("u%u", 1 + (unsigned)rng_below(&r,
	    (uint32_t)u->nusers));
	edit = rng_uniform(&r);
	star = rng_below(&r, 2);
	if (users_ask(u, k, &answer, cause) != 0) {
		free(user);
		return -1;
	}
	truth = example_field(e, u->task.target);
	right = metric_score(u->task.metric, answer, truth, NULL) >= 1;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "time", u->time0 + USERS_STEP * (double)i);
	if (u->name_prompt)
		cJSON_AddStringToObject(o, "prompt", u->prompt);
	else if (u->version > 0)
		cJSON_AddNumberToObject(o, "version", (double)u->version);
	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddItemToObject(o, "inputs", users_inputs(u, e));
	cJSON_AddStringToObject(o, "response", answer);
	if (u->stars)
		cJSON_AddNumberToObject(o, "rating", right ? 4 + star :
		    1 + star);
	else
		cJSON_AddStringToObject(o, "rating", right ? "up" : "down");
	if (right)
		u->correct++;
	else {
		u->wrong++;
		if (edit < u->edit_rate) {
			text = json_text(truth);
			cJSON_AddStringToObject(o, "edit", text);
			free(text);
			u->edited++;
		}
	}
	line = cJSON_PrintUnformatted(o);
	fprintf(u->log, "%s\n", line);
	free(line);
	cJSON_Delete(o);
	free(answer);
	free(user);
	return 0;
}

static void
users_free(struct users *u)
{
	dataset_free(u->inputs);
	job_free(u->job);
	conf_free(u->conf);
	free(u->prompt);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "edit-rate", required_argument, NULL, 'e' },
		{ "rated", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct users	 u;
	const char	*jobfile = NULL, *promptfile = NULL, *inputs = NULL;
	const char	*logfile = NULL;
	char		*cause = NULL, *end;
	long long	 i;
	int		 ch, rc = 1;

	memset(&u, 0, sizeof u);
	u.count = u.seed = -1;
	u.nusers = 20;
	u.edit_rate = 0.8;
	u.time0 = USERS_TIME0;
	while ((ch = getopt_long(argc, argv, "i:j:n:o:p:Ps:t:u:V:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'e':
			errno = 0;
			u.edit_rate = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(u.edit_rate >= 0 && u.edit_rate <= 1))
				goto usage;
			break;
		case 'i':
			inputs = optarg;
			break;
		case 'j':
			jobfile = optarg;
			break;
		case 'n':
			if (users_num(optarg, 0, 10000000, &u.count) != 0)
				goto usage;
			break;
		case 'o':
			logfile = optarg;
			break;
		case 'p':
			promptfile = optarg;
			break;
		case 'P':
			u.name_prompt = 1;
			break;
		case 'r':
			u.stars = 1;
			break;
		case 's':
			if (users_num(optarg, 0, INT64_MAX, &u.seed) != 0)
				goto usage;
			break;
		case 't':
			errno = 0;
			u.time0 = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(u.time0 >= 0 && u.time0 < 1e11))
				goto usage;
			break;
		case 'u':
			if (users_num(optarg, 1, 1000000, &u.nusers) != 0)
				goto usage;
			break;
		case 'V':
			if (users_num(optarg, 1, 2147483647, &u.version) != 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || jobfile == NULL || promptfile == NULL ||
	    inputs == NULL || logfile == NULL || u.count < 0 || u.seed < 0 ||
	    (u.name_prompt && u.version > 0))
		goto usage;

	if (users_prompt(&u, promptfile, &cause) != 0 ||
	    users_load(&u, jobfile, inputs, &cause) != 0)
		goto out;
	if ((u.log = fopen(logfile, "a")) == NULL) {
		cause_set(&cause, "%s: %s", logfile, strerror(errno));
		goto out;
	}
	for (i = 0; i < u.count; i++)
		if (users_one(&u, i, &cause) != 0)
			break;
	if (fclose(u.log) != 0 && cause == NULL)
		cause_set(&cause, "%s: %s", logfile, strerror(errno));
	if (cause == NULL) {
		printf("%lld interactions: %zu correct, %zu wrong, %zu edited\n",
		    u.count, u.correct, u.wrong, u.edited);
		rc = 0;
	}
out:
	if (cause != NULL)
		fprintf(stderr, "users: %s\n", cause);
	free(cause);
	users_free(&u);
	return rc;
usage:
	fputs(users_usage, stderr);
	return 2;
}
