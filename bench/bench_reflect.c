/*
 * bench/reflect: the reflect strategy's modes and mcts, which is
 * written with reflect's helpers (and APE and random for reference), on
 * the bundled example tasks with the simulated model, over several job
 * seeds.  For each run it follows the best dev score after
 * every step and reports the calls (target, optimizer, judge), tokens and
 * dollars spent when the run first reached 95% of the best score any run
 * found on that task, then the best dev score at the end and the target
 * calls of the whole run (what racing saves); the table gives medians over
 * the seeds.  Run by hand:
 *
 *	make bench && bench/bench_reflect [-n seeds] [-t task]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PROMPTD_SRCDIR
#define PROMPTD_SRCDIR "."
#endif

#define MAX_STEPS	64

static const char *const tasks[] = { "sentiment", "arith", "rewrite" };

static const struct {
	const char	*label;
	const char	*strategy;
} configs[] = {
	{ "ape", "{ \"name\": \"ape\", \"resample\": 5 }" },
	{ "protegi", "{ \"name\": \"reflect\", \"mode\": \"protegi\" }" },
	{ "protegi-sr", "{ \"name\": \"reflect\", \"mode\": \"protegi\", "
	    "\"bandit\": \"sr\" }" },
	{ "gepa", "{ \"name\": \"reflect\", \"mode\": \"gepa\" }" },
	{ "gepa-merge", "{ \"name\": \"reflect\", \"mode\": \"gepa\", "
	    "\"merge\": true }" },
	{ "opro", "{ \"name\": \"reflect\", \"mode\": \"opro\" }" },
	{ "spo", "{ \"name\": \"reflect\", \"mode\": \"spo\" }" },
	{ "pe2", "{ \"name\": \"reflect\", \"mode\": \"pe2\" }" },
	/* PromptAgent's tree search, written with reflect's helpers. */
	{ "mcts", "{ \"name\": \"mcts\" }" },
	/* The baseline that needs no optimizer: each mode's gain over it. */
	{ "random", "{ \"name\": \"random\" }" },
};
#define NCONFIGS	(sizeof configs / sizeof configs[0])

/* What a run had spent after each step, and its best dev score then. */
struct point {
	double		best;
	long long	target;
	long long	optimizer;
	long long	judge;
	long long	tokens;
	double		dollars;
};

struct trace {
	struct point	p[MAX_STEPS + 1];
	int		n;
	double		final;
};

static long long
role_calls(sqlite3 *db, int64_t run, const char *role)
{
	sqlite3_stmt	*st;
	long long	 n = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM calls WHERE run_id "
	    "= ? AND role = ? AND status = 'ok'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Removes the line of text that holds "key": (text is edited in place). */
static void
drop_line(char *text, const char *key)
{
	char	*pat, *at, *end;

	pat = xasprintf("\"%s\":", key);
	if ((at = strstr(text, pat)) != NULL) {
		while (at > text && at[-1] != '\n')
			at--;
		end = strchr(at, '\n');
		end = end != NULL ? end + 1 : at + strlen(at);
		memmove(at, end, strlen(end) + 1);
	}
	free(pat);
}

static int
run_one(const char *dir, const char *task, const char *strategy, int seed,
    struct trace *tr)
{
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct run_totals	 t;
	struct cand		*best;
	struct job		*job;
	sqlite3			*db;
	FILE			*f;
	char			*src, *text = NULL, *path, *dbpath, *cause = NULL;
	char			*tail, *cmd;
	int			 rc;

	cmd = xasprintf("cp '%s/examples/%s/'* '%s/'", PROMPTD_SRCDIR, task,
	    dir);
	if (system(cmd) != 0) {
		free(cmd);
		return -1;
	}
	free(cmd);
	src = xasprintf("%s/examples/%s/job.json", PROMPTD_SRCDIR, task);
	if (file_read(src, 1 << 20, &text, NULL, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	free(src);
	/* No budget but the strategy's own steps; the seed and strategy
	 * replace the job's. */
	drop_line(text, "budget");
	drop_line(text, "strategy");
	tail = strrchr(text, '"');
	while (tail > text && strncmp(tail, "\"seed\"", 6) != 0)
		tail--;
	*tail = '\0';
	path = xasprintf("%s/job.json", dir);
	cmd = xasprintf("%s\"seed\": %d, \"strategy\": %s,\n"
	    "\"budget\": { \"max_calls\": 1000000 } }\n", text, seed, strategy);
	free(text);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(cmd, f);
	fclose(f);
	free(cmd);
	if ((job = job_load(path, NULL, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	free(path);
	dbpath = xasprintf("%s/bench.db", dir);
	unlink(dbpath);
	if ((store = store_open(dbpath, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	sqlite3_open(dbpath, &db);
	loop = engine_loop_new(store);
	if (jobrun_start(&jr, job, loop, "optimize", &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	tr->n = 0;
	do {
		rc = jobrun_step(&jr, &cause);
		engine_totals(jr.engine, &t);
		best = search_best(&jr.search);
		if (tr->n <= MAX_STEPS) {
			tr->p[tr->n].best = best != NULL ? best->mean : 0;
			tr->p[tr->n].target = role_calls(db, jr.run_id,
			    "target");
			tr->p[tr->n].optimizer = role_calls(db, jr.run_id,
			    "optimizer");
			tr->p[tr->n].judge = role_calls(db, jr.run_id, "judge");
			tr->p[tr->n].tokens = t.tokens;
			tr->p[tr->n].dollars = t.dollars;
			tr->n++;
		}
	} while (rc == 1);
	if (rc < 0) {
		fprintf(stderr, "%s\n", cause);
		return -1;
	}
	best = search_best(&jr.search);
	tr->final = best != NULL ? best->mean : 0;
	jobrun_release(&jr);
	engine_loop_free(loop);
	sqlite3_close(db);
	store_close(store);
	job_free(job);
	unlink(dbpath);
	free(dbpath);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *x, int n)
{
	int	i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(x[i]))
			x[k++] = x[i];
	/* Runs that never got there count as infinitely costly. */
	for (; k < n; k++)
		x[k] = INFINITY;
	qsort(x, (size_t)n, sizeof *x, cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	struct trace	*tr, *t;
	char		 dir[] = "/tmp/bench-reflect.XXXXXX", *cmd;
	const char	*only = NULL;
	double		 top, *v[7];
	int		 nseeds = 10, ch, c, k, i, j, reached;
	size_t		 ti;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		switch (ch) {
		case 'n':
			nseeds = atoi(optarg);
			break;
		case 't':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_reflect [-n seeds] "
			    "[-t task]\n");
			return 2;
		}
	}
	if (nseeds < 1 || mkdtemp(dir) == NULL)
		return 1;
	tr = xcalloc(NCONFIGS * (size_t)nseeds, sizeof *tr);
	for (k = 0; k < 7; k++)
		v[k] = xcalloc((size_t)nseeds, sizeof *v[k]);
	printf("# median over %d seeds of what was spent when the best dev "
	    "score first reached 95%% of the best any run found on the "
	    "task,\n# the final dev score and the target calls of the whole run"
	    "\n", nseeds);
	printf("%-10s %-11s %6s %7s %7s %7s %9s %8s %7s %7s\n", "task",
	    "strategy", "reach", "target", "optim", "judge", "tokens",
	    "dollars", "final", "total");
	for (ti = 0; ti < sizeof tasks / sizeof tasks[0]; ti++) {
		if (only != NULL && strcmp(only, tasks[ti]) != 0)
			continue;
		top = 0;
		for (c = 0; c < (int)NCONFIGS; c++)
			for (i = 0; i < nseeds; i++) {
				if (run_one(dir, tasks[ti], configs[c].strategy,
				    i + 1, &tr[c * nseeds + i]) != 0)
					return 1;
				if (tr[c * nseeds + i].final > top)
					top = tr[c * nseeds + i].final;
			}
		for (c = 0; c < (int)NCONFIGS; c++) {
			reached = 0;
			for (i = 0; i < nseeds; i++) {
				t = &tr[c * nseeds + i];
				for (k = 0; k < 7; k++)
					v[k][i] = NAN;
				for (j = 0; j < t->n; j++)
					if (t->p[j].best >= 0.95 * top)
						break;
				v[5][i] = t->final;
				v[6][i] = t->n > 0 ? (double)t->p[t->n - 1].target :
				    0;
				if (j == t->n)
					continue;
				reached++;
				v[0][i] = (double)t->p[j].target;
				v[1][i] = (double)t->p[j].optimizer;
				v[2][i] = (double)t->p[j].judge;
				v[3][i] = (double)t->p[j].tokens;
				v[4][i] = t->p[j].dollars;
			}
			printf("%-10s %-11s %3d/%-2d %7.0f %7.0f %7.0f %9.0f "
			    "%8.4f %7.3f %7.0f\n", tasks[ti], configs[c].label,
			    reached, nseeds, median(v[0], nseeds),
			    median(v[1], nseeds), median(v[2], nseeds),
			    median(v[3], nseeds), median(v[4], nseeds),
			    median(v[5], nseeds), median(v[6], nseeds));
		}
		printf("%-10s best found: %.3f (95%%: %.3f)\n", tasks[ti], top,
		    0.95 * top);
		fflush(stdout);
	}
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
	for (k = 0; k < 7; k++)
		free(v[k]);
	free(tr);
	return 0;
}
