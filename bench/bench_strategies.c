/*
 * bench_strategies: evo (GA, DE), APE, reflect's pe2 and opro, mcts
 * (PromptAgent), mipro (with demos and without), pruning (PromptQuine)
 * and random sampling (the baseline that needs no optimizer: each
 * strategy's gain over it is its worth) on the simulated example tasks;
 * GA, DE and opro also with the surrogate filter at 0.5, in as many
 * steps ("-s": the saving is the difference in target calls) and in half
 * as many more ("-s16", "-s17": about the target calls of the runs
 * without it, for the calls to 95% on an equal footing).
 *
 *	bench/bench_strategies [-n seeds] [srcdir]
 *
 * For each bundled example task (with its weak first seed only), runs
 * each strategy with job seeds 1..n (10 by default), with racing and
 * without, and prints three tables:
 *
 *  - the target calls each strategy needed (median over the seeds, with
 *    racing) to reach 95% of the best dev score any run found on the task;
 *  - the target calls racing saved, next to the champions' dev and test
 *    scores with and without it (the selection accuracy);
 *  - the best dev score each strategy had found within 300, 600 and 1000
 *    target calls (the same spending compared).
 *
 * srcdir is where examples/ is (default: the source tree it was built
 * from).  Each run uses a fresh database in a temporary directory.
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
#include "log.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PROMPTD_SRCDIR
#define PROMPTD_SRCDIR "."
#endif

#define MAX_SEEDS	64
#define MAX_STEPS	64

struct task_spec {
	const char	*name;
	const char	*body;		/* the job but name and strategy */
};

static const struct task_spec tasks[] = {
	{ "arith",
	  "\"description\": \"Solve short arithmetic word problems.\",\n"
	  "\"task\": { \"dataset\": \"@/examples/arith/problems.csv\",\n"
	  " \"input\": \"{{prompt}}\\n\\nQuestion: {{question}}\\nAnswer:\",\n"
	  " \"target\": \"answer\",\n"
	  " \"metric\": { \"type\": \"number\", \"abs_tol\": 0.001,\n"
	  "  \"extract\": \"(?s)(?<answer>-?\\\\$?[0-9][0-9,]*"
	  "(?:\\\\.[0-9]+)?)(?!.*[0-9])\" },\n"
	  " \"splits\": { \"train\": 0.3, \"dev\": 0.4, \"test\": 0.3,"
	  " \"seed\": 11 } },\n"
	  "\"seed_prompts\": [\"Answer the question.\"],\n"
	  "\"backends\": { \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\","
	  " \"seed\": 2 } },\n"
	  "\"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },\n" },
	{ "sentiment",
	  "\"description\": \"Classify the sentiment of a movie review as "
	  "positive or negative.\",\n"
	  "\"task\": { \"dataset\": \"@/examples/sentiment/reviews.jsonl\",\n"
	  " \"input\": \"Review: {{text}}\\nSentiment:\",\n"
	  " \"target\": \"label\",\n"
	  " \"metric\": { \"type\": \"exact\", \"normalize\": [\"case\","
	  " \"whitespace\", \"punctuation\"] },\n"
	  " \"splits\": { \"train\": 0.2, \"dev\": 0.5, \"test\": 0.3,"
	  " \"seed\": 7 } },\n"
	  "\"seed_prompts\": [\"Classify the sentiment of the review.\"],\n"
	  "\"backends\": { \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\","
	  " \"seed\": 1 } },\n"
	  "\"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\" },\n" },
	{ "rewrite",
	  "\"description\": \"Rewrite a blunt workplace message so that it is "
	  "polite, concise and free of typos.\",\n"
	  "\"task\": { \"dataset\": \"@/examples/rewrite/messages.jsonl\",\n"
	  " \"input\": \"Rewrite this message:\\n{{text}}\",\n"
	  " \"metric\": { \"type\": \"judge\", \"mode\": \"rubric\",\n"
	  "  \"rubric\": \"The rewrite keeps the meaning, is polite, is concise"
	  " (no filler words such as 'basically' or 'literally'), and has no"
	  " spelling mistakes.\" },\n"
	  " \"splits\": { \"train\": 0.3, \"dev\": 0.4, \"test\": 0.3,"
	  " \"seed\": 5 } },\n"
	  "\"seed_prompts\": [\"Rewrite the message.\"],\n"
	  "\"backends\": { \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\","
	  " \"seed\": 3 },\n"
	  " \"sim-judge\": { \"type\": \"sim\", \"model\": \"sim-judge-1\","
	  " \"seed\": 4 } },\n"
	  "\"roles\": { \"target\": \"sim\", \"optimizer\": \"sim\","
	  " \"judge\": \"sim-judge\" },\n" },
};

struct strat {
	const char	*label;
	const char	*object;	/* the strategy object's members */
};

/* Comparable budgets: ten rounds of proposals after the first. */
static const struct strat strats[] = {
	{ "ga", "\"name\": \"evo\", \"variant\": \"ga\"" },
	{ "de", "\"name\": \"evo\", \"variant\": \"de\"" },
	{ "ape", "\"name\": \"ape\", \"resample\": 10" },
	{ "random", "\"name\": \"random\", \"steps\": 11" },
	{ "prune", "\"name\": \"prune\", \"generations\": 11" },
	/* One edit a step, from the best seed on. */
	{ "pe2", "\"name\": \"reflect\", \"mode\": \"pe2\", \"steps\": "
	  "10" },
	/*
	 * Instructions and demos together, and the same without demos: five
	 * rounds of ten trials, each round proposing from the best so far.
	 */
	{ "mipro", "\"name\": \"mipro\", \"threshold\": 0.5, "
	  "\"rounds\": 5, \"trials\": 10" },
	{ "mipro-0", "\"name\": \"mipro\", \"demos\": 0, "
	  "\"rounds\": 5, \"trials\": 10" },
	/* MIPROv2 as it is: one round of proposals, 30 trials. */
	{ "mipro-1", "\"name\": \"mipro\", \"threshold\": 0.5" },
	/* PromptAgent with the paper's settings (12 iterations, depth 8). */
	{ "mcts", "\"name\": \"mcts\"" },
	/*
	 * The surrogate filter (PROMST): half of each step's new proposals,
	 * those predicted best, scored on dev; against the same without.
	 */
	{ "ga-s", "\"name\": \"evo\", \"variant\": \"ga\", "
	  "\"surrogate\": 0.5" },
	{ "de-s", "\"name\": \"evo\", \"variant\": \"de\", "
	  "\"surrogate\": 0.5" },
	{ "opro", "\"name\": \"reflect\", \"mode\": \"opro\", "
	  "\"steps\": 11" },
	{ "opro-s", "\"name\": \"reflect\", \"mode\": \"opro\", "
	  "\"steps\": 11, \"surrogate\": 0.5" },
	/*
	 * And with about the target calls of the runs without it: the
	 * filter's calls to 95% on an equal footing, not cut short.
	 */
	{ "ga-s16", "\"name\": \"evo\", \"variant\": \"ga\", "
	  "\"generations\": 16, \"surrogate\": 0.5" },
	{ "de-s16", "\"name\": \"evo\", \"variant\": \"de\", "
	  "\"generations\": 16, \"surrogate\": 0.5" },
	{ "opro-s17", "\"name\": \"reflect\", \"mode\": \"opro\", "
	  "\"steps\": 17, \"surrogate\": 0.5" },
};

/* One run: the best dev score and the target calls after each step. */
struct trace {
	size_t	 n;
	double	 best[MAX_STEPS];
	long long calls[MAX_STEPS];
	double	 dev;		/* the champion's */
	double	 test;
};

static char	*tmp;
static const char *srcdir = PROMPTD_SRCDIR;

static long long
target_calls(const char *db)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	long long	 v = 0;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fatalx("cannot open %s", db);
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM calls WHERE role = "
	    "'target' AND status = 'ok'", -1, &st, NULL) != SQLITE_OK)
		fatalx("%s: %s", db, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* The job text: the task with @ replaced by srcdir, and the strategy. */
static char *
job_text(const struct task_spec *t, const struct strat *s, int racing,
    int seed)
{
	const char	*at = strchr(t->body, '@');
	char		*obj, *text;

	obj = xasprintf("{ %s%s }", s->object, racing ? "" :
	    ", \"racing\": false");
	text = xasprintf("{\n\"name\": \"%s\",\n%.*s%s%s\"strategy\": %s,\n"
	    "\"budget\": { \"max_calls\": 1000000 },\n\"seed\": %d\n}\n",
	    t->name, (int)(at - t->body), t->body, srcdir, at + 1, obj, seed);
	free(obj);
	return text;
}

static void
run(const struct task_spec *t, const struct strat *s, int racing, int seed,
    struct trace *tr)
{
	struct job		*job;
	struct store		*store;
	struct engine_loop	*loop;
	struct jobrun		 jr;
	struct cand		*best;
	char			*path, *db, *text, *cause = NULL;
	FILE			*f;
	int			 rc;

	memset(tr, 0, sizeof *tr);
	path = xasprintf("%s/job.json", tmp);
	db = xasprintf("%s/%s-%s-%d-%d.db", tmp, t->name, s->label, racing,
	    seed);
	text = job_text(t, s, racing, seed);
	if ((f = fopen(path, "w")) == NULL)
		fatal("%s", path);
	fputs(text, f);
	fclose(f);
	free(text);
	if ((job = job_load(path, NULL, &cause)) == NULL)
		fatalx("%s", cause);
	if ((store = store_open(db, &cause)) == NULL)
		fatalx("%s", cause);
	loop = engine_loop_new(store);
	if (jobrun_start(&jr, job, loop, "optimize", &cause) != 0)
		fatalx("%s", cause);
	do {
		if ((rc = jobrun_step(&jr, &cause)) < 0)
			fatalx("%s", cause);
		best = search_best(&jr.search);
		if (tr->n < MAX_STEPS) {
			tr->best[tr->n] = best != NULL ? best->mean : 0;
			tr->calls[tr->n] = target_calls(db);
			tr->n++;
		}
	} while (rc == 1);
	if (jobrun_finish(&jr, &cause) != 0)
		fatalx("%s", cause);
	tr->dev = jr.champion != NULL ? jr.champion->mean : NAN;
	tr->test = jr.test_score;
	jobrun_release(&jr);
	engine_loop_free(loop);
	store_close(store);
	job_free(job);
	free(path);
	free(db);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median (INFINITY counts as larger than everything). */
static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	if (n == 0)
		return NAN;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Target-call budgets of the third table. */
static const long long budgets[] = { 300, 600, 1000 };

/* The best dev score a run had found when it had paid budget calls. */
static double
best_within(const struct trace *tr, long long budget)
{
	double	best = NAN;
	size_t	j;

	for (j = 0; j < tr->n && tr->calls[j] <= budget; j++)
		best = tr->best[j];
	return best;
}

/* Medians over the seeds of best_within(), per budget, into out. */
static void
budget_row(struct trace *tr, int nseeds, double *out)
{
	double	v[MAX_SEEDS];
	size_t	b, i;

	for (b = 0; b < nitems(budgets); b++) {
		for (i = 0; i < (size_t)nseeds; i++) {
			v[i] = best_within(&tr[i], budgets[b]);
			if (isnan(v[i]))
				v[i] = 0;
		}
		out[b] = median(v, (size_t)nseeds);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_strategies [-n seeds] [srcdir]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct trace	 tr[nitems(strats)][2][MAX_SEEDS];
	/* Per task and strategy, without and with racing: calls, dev, test. */
	static double		 tab[nitems(tasks)][nitems(strats)][2][3];
	/* The best dev score within each budget (racing on). */
	static double		 bud[nitems(tasks)][nitems(strats)][
				    nitems(budgets)];
	double			 top, v[MAX_SEEDS], w[MAX_SEEDS], c;
	char			*cmd, num[32];
	size_t			 t, k, i, j, reached;
	int			 ch, nseeds = 10, racing;

	log_init("bench_strategies", 0, NULL);
	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			nseeds = atoi(optarg);
			if (nseeds < 1 || nseeds > MAX_SEEDS)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind + 1 == argc)
		srcdir = argv[optind];
	else if (optind != argc)
		usage();
	tmp = xstrdup("/tmp/bench_strategies.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		fatal("mkdtemp");

	printf("Target calls to reach 95%% of the best dev score found by any "
	    "run (racing on),\nmedian over %d seeds; 'reached' counts the "
	    "runs that got there.\n\n", nseeds);
	printf("%-10s %-8s %6s %9s %12s %12s %10s\n", "task", "strat",
	    "best", "reached", "calls to 95%", "total calls", "final dev");
	for (t = 0; t < nitems(tasks); t++) {
		top = 0;
		for (k = 0; k < nitems(strats); k++)
			for (racing = 0; racing < 2; racing++)
				for (i = 0; i < (size_t)nseeds; i++) {
					run(&tasks[t], &strats[k], racing,
					    (int)i + 1, &tr[k][racing][i]);
					for (j = 0; j < tr[k][racing][i].n; j++)
						if (tr[k][racing][i].best[j] >
						    top)
							top = tr[k][racing][i].
							    best[j];
				}
		for (k = 0; k < nitems(strats); k++) {
			reached = 0;
			for (i = 0; i < (size_t)nseeds; i++) {
				c = INFINITY;
				for (j = 0; j < tr[k][1][i].n; j++)
					if (tr[k][1][i].best[j] >= 0.95 * top) {
						c = (double)tr[k][1][i].calls[j];
						reached++;
						break;
					}
				v[i] = c;
				w[i] = (double)tr[k][1][i].calls[
				    tr[k][1][i].n - 1];
			}
			c = median(v, (size_t)nseeds);
			if (isinf(c))
				snprintf(num, sizeof num, "never");
			else
				snprintf(num, sizeof num, "%.0f", c);
			for (i = 0; i < (size_t)nseeds; i++)
				v[i] = tr[k][1][i].dev;
			printf("%-10s %-8s %6.3f %6zu/%-2d %12s %12.0f %10.3f\n",
			    tasks[t].name, strats[k].label, top, reached,
			    nseeds, num, median(w, (size_t)nseeds),
			    median(v, (size_t)nseeds));
		}
		for (k = 0; k < nitems(strats); k++)
			budget_row(tr[k][1], nseeds, bud[t][k]);
		/* Racing against full evaluation, for the second table. */
		for (k = 0; k < nitems(strats); k++) {
			for (racing = 0; racing < 2; racing++) {
				for (i = 0; i < (size_t)nseeds; i++)
					v[i] = (double)tr[k][racing][i].calls[
					    tr[k][racing][i].n - 1];
				tab[t][k][racing][0] = median(v,
				    (size_t)nseeds);
				for (i = 0; i < (size_t)nseeds; i++)
					v[i] = tr[k][racing][i].dev;
				tab[t][k][racing][1] = median(v,
				    (size_t)nseeds);
				for (i = 0; i < (size_t)nseeds; i++)
					v[i] = tr[k][racing][i].test;
				tab[t][k][racing][2] = median(v,
				    (size_t)nseeds);
			}
		}
	}

	printf("\nRacing against full evaluation: total target calls, and "
	    "the champion's dev\nand test scores (medians over %d seeds).\n\n",
	    nseeds);
	printf("%-10s %-8s %9s %9s %6s %9s %9s %9s %9s\n", "task", "strat",
	    "calls", "calls", "saved", "dev", "dev", "test", "test");
	printf("%-10s %-8s %9s %9s %6s %9s %9s %9s %9s\n", "", "", "racing",
	    "full", "", "racing", "full", "racing", "full");
	for (t = 0; t < nitems(tasks); t++)
		for (k = 0; k < nitems(strats); k++)
			printf("%-10s %-8s %9.0f %9.0f %5.0f%% %9.3f %9.3f "
			    "%9.3f %9.3f\n", tasks[t].name, strats[k].label,
			    tab[t][k][1][0], tab[t][k][0][0], 100 * (1 -
			    tab[t][k][1][0] / tab[t][k][0][0]),
			    tab[t][k][1][1], tab[t][k][0][1], tab[t][k][1][2],
			    tab[t][k][0][2]);
	printf("\nThe best dev score found within a budget of target calls "
	    "(racing on; median\nover %d seeds, 0 for a run that had not "
	    "finished a step by then).\n\n", nseeds);
	printf("%-10s %-8s", "task", "strat");
	for (j = 0; j < nitems(budgets); j++)
		printf(" %8lld", budgets[j]);
	printf("\n");
	for (t = 0; t < nitems(tasks); t++)
		for (k = 0; k < nitems(strats); k++) {
			printf("%-10s %-8s", tasks[t].name, strats[k].label);
			for (j = 0; j < nitems(budgets); j++)
				printf(" %8.3f", bud[t][k][j]);
			printf("\n");
		}
	cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	free(cmd);
	free(tmp);
	return 0;
}
