/*
 * promptd: the prompt-optimization daemon.  See promptd(8).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: promptd [-fnv] [-c config] [-d database] "
	    "[-S socket]\n       promptd [-v] [-c config] [-d database] "
	    "--once job\n");
	exit(2);
}

/* Runs one job to completion in the foreground, without a socket. */
static int
promptd_once(const char *conf_path, const char *db_path, const char *file)
{
	struct conf		*conf;
	struct job		*job = NULL;
	struct store		*store = NULL;
	struct engine_loop	*loop = NULL;
	struct jobrun		 jr;
	char			*cause = NULL, *db = NULL;
	int			 rc, ret = 1, started = 0;

	memset(&jr, 0, sizeof jr);
	if ((conf = conf_load(conf_path, &cause)) == NULL)
		goto fail;
	if ((job = job_load(file, conf, &cause)) == NULL)
		goto fail;
	if ((db = conf_database_path(conf, db_path, &cause)) == NULL)
		goto fail;
	if ((store = store_open(db, &cause)) == NULL)
		goto fail;
	loop = engine_loop_new(store);
	if (jobrun_start(&jr, job, loop, "optimize", &cause) != 0)
		goto fail;
	started = 1;
	while ((rc = jobrun_step(&jr, &cause)) == 1)
		;
	if (rc < 0 || jobrun_finish(&jr, &cause) != 0)
		goto fail;
	if (jr.champion != NULL) {
		printf("job '%s': %s after %d steps, %zu candidates\n",
		    job->name, jr.status, jr.search.step, jr.search.ncands);
		printf("champion: dev %.3f [%.3f, %.3f]", jr.champion->mean,
		    jr.champion->lo, jr.champion->hi);
		if (!isnan(jr.test_score))
			printf(", test %.3f", jr.test_score);
		if (jr.search.ncands > 0)
			printf("; the first seed prompt: dev %.3f",
			    jr.search.cands[0]->mean);
		printf("%s\n%s\n", jr.promoted ? " (promoted)" : "",
		    jr.champion->text);
	}
	printf("database: %s (run %lld)\n", db, (long long)jr.run_id);
	ret = strcmp(jr.status, "done") == 0 ? 0 : 1;
	if (ret != 0)
		fprintf(stderr, "promptd: job '%s': %s\n", job->name,
		    jr.reason != NULL ? jr.reason : jr.status);
	goto out;
fail:
	fprintf(stderr, "promptd: %s\n", cause != NULL ? cause :
	    "unknown error");
	if (started)
		jobrun_abort(&jr, "failed", cause);
out:
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
	conf_free(conf);
	free(db);
	free(cause);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*conf_path = NULL, *db_path = NULL, *once = NULL;
	struct conf	*conf;
	char		*cause = NULL;
	int		 ch, verbose = 0, check = 0, foreground = 0;

	log_init("promptd", 0, NULL);
	while ((ch = getopt_long(argc, argv, "c:d:fnS:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
			db_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			once = optarg;
			break;
		case 'S':
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_setverbose(verbose);
	if (once != NULL)
		return promptd_once(conf_path, db_path, once);
	if ((conf = conf_load(conf_path, &cause)) == NULL) {
		fprintf(stderr, "promptd: %s\n", cause);
		free(cause);
		return 1;
	}
	if (check) {
		fprintf(stderr, "configuration OK\n");
		conf_free(conf);
		return 0;
	}
	conf_free(conf);
	(void)foreground;
	fprintf(stderr, "promptd: the daemon is not built yet; use --once\n");
	return 1;
}
