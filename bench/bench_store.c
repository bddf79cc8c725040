/*
 * bench/store: the store's reads on a database as large as a long job
 * leaves.  Writes one through the store's own API (by default 3900
 * candidates with their lineage, 200,000 evaluations with their calls and
 * cached responses, reply outcomes, failed attempts, events, checkpoints
 * and champions, and an eval run that scores the last again), then
 * prints:
 *
 *	write		the time per evaluation written (wall and CPU), with
 *			its call and cache rows, committed every 1000 or so
 *	size		the database file
 *	open		store_open(), with the migration of an older file
 *	leaderboard, status, best, lineage
 *			each query as query_run() answers it (the daemon and
 *			promptctl offline), the median and the slowest of -r
 *			runs on one connection; lineage of the champion
 *	through promptd	with -p: a daemon (promptd -f) on the database;
 *			"status JOB" round trips alone, then while another
 *			client asks for the leaderboard without a pause (its
 *			own round trips are printed too)
 *
 * Run by hand from a built tree:
 *
 *	make bench && bench/bench_store [-c candidates] [-e evaluations]
 *	    [-f] [-k] [-p promptd] [-r runs] [-s schema]
 *	bench/bench_store -d database [-j job] [-p promptd] [-r runs]
 *
 * -f gives fractional scores (tenths) instead of 0 and 1; -s writes the
 * database at an older schema version (the write time without what a
 * newer one adds; the queries run after store_open() migrates it), 11 at
 * the least, the first whose champions hold the evidence it writes; -k
 * keeps the work directory; -d times the queries on an existing database
 * (a copy: it is migrated) for its job named by -j.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "dataset.h"
#include "hash.h"
#include "query.h"
#include "rng.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define NEXAMPLES	120	/* 60 dev, 40 train, 20 test */
#define TXN_EVALS	1000
#define MAX_RUNS	101

struct opts {
	const char	*db;		/* an existing database, or NULL */
	const char	*job;
	long		 cands;
	long		 evals;
	int		 fractional;
	int		 runs;
	int		 schema;
	const char	*promptd;
};

static const char *const words[] = {
	"classify", "the", "review", "answer", "with", "only", "label",
	"positive", "negative", "read", "carefully", "think", "step", "by",
	"consider", "tone", "of", "writer", "and", "decide", "whether", "it",
	"is", "an", "expert", "film", "critic", "be", "concise", "explain",
	"nothing", "else", "sentiment", "movie", "text", "input", "output",
};

/* Words drawn from r, about len bytes. */
static char *
text_make(struct rng *r, size_t len)
{
	char	*t = xmalloc(len + 32);
	size_t	 n = 0;

	while (n < len) {
		n += (size_t)snprintf(t + n, len + 32 - n, "%s%s", n > 0 ?
		    " " : "", words[rng_below(r, nitems(words))]);
	}
	return t;
}

/*
 * The dataset: NEXAMPLES reviews written to path and loaded and split as
 * a job's are (half dev), and ex[] their ids after the snapshot, dev
 * first, then train, then test.
 */
static struct dataset *
dataset_make(const char *path, char **cause)
{
	struct dataset	*ds;
	FILE		*f;
	int		 i;

	if ((f = fopen(path, "w")) == NULL) {
		cause_set(cause, "%s: cannot write it", path);
		return NULL;
	}
	for (i = 0; i < NEXAMPLES; i++)
		fprintf(f, "{\"text\": \"review %d: %s\", \"label\": \"%s\"}\n",
		    i, words[i % nitems(words)], i % 2 ? "positive" :
		    "negative");
	if (fclose(f) != 0 || (ds = dataset_load(path, NULL, cause)) == NULL)
		return NULL;
	dataset_split(ds, 1.0 / 3, 0.5, 1.0 / 6, 7);
	return ds;
}

/* The ids of ds's examples, dev first, then train, then test. */
static void
dataset_order(const struct dataset *ds, int64_t *ex)
{
	static const enum split	order[] = { SPLIT_DEV, SPLIT_TRAIN,
	    SPLIT_TEST };
	size_t			i, k, n = 0;

	for (k = 0; k < nitems(order); k++)
		for (i = 0; i < ds->n; i++)
			if (ds->ex[i].split == order[k])
				ex[n++] = ds->ex[i].id;
}

/* A call row (and its cache row when it was answered); its id. */
static int64_t
call_make(struct store *s, struct rng *r, int64_t run, const char *role,
    long i, int failed, char **cause)
{
	struct call_record	 c;
	char			 key[65], *resp, *body;
	int64_t			 id;

	sha256_hex(&i, sizeof i, key);
	memset(&c, 0, sizeof c);
	c.run = run;
	c.backend = "sim";
	c.model = "sim-1";
	c.role = role;
	c.key = key;
	c.attempt = 1;
	c.prompt_tokens = 150 + rng_below(r, 100);
	c.completion_tokens = 5 + rng_below(r, 20);
	c.cost = 0.00002;
	c.latency = 0.3;
	c.status = failed ? "error" : "ok";
	c.http_status = failed ? 500 : 200;
	c.error = failed ? "HTTP 500: the server had an error" : NULL;
	if ((id = store_call_add(s, &c, cause)) < 0 || failed)
		return id;
	body = text_make(r, 60);
	resp = xasprintf("{\"choices\": [{\"message\": {\"role\": "
	    "\"assistant\", \"content\": \"%s\"}}], \"usage\": {"
	    "\"prompt_tokens\": %lld, \"completion_tokens\": %lld}}", body,
	    c.prompt_tokens, c.completion_tokens);
	if (store_cache_put(s, key, resp, cause) != 0)
		id = -1;
	free(resp);
	free(body);
	return id;
}

/* The score of candidate quality q on an example. */
static double
score_make(struct rng *r, double q, int fractional)
{
	if (fractional)
		return floor(fmin(1, fmax(0, q + 0.3 * rng_normal(r))) * 10 +
		    0.5) / 10;
	return rng_uniform(r) < q ? 1.0 : 0.0;
}

/*
 * Scores candidate c (quality q) on its share of examples, dev first as
 * racing does, each evaluation with its call; *calls counts the calls.
 */
static int
evals_make(struct store *s, struct rng *r, const int64_t *ex, int64_t run,
    int64_t c, double q, long n, int fractional, long *calls, char **cause)
{
	struct outcome_record	 o;
	char			*out, key[65];
	int64_t			 call;
	long			 k;

	for (k = 0; k < n && k < NEXAMPLES; k++) {
		/* One attempt in a hundred fails before one succeeds. */
		if (rng_below(r, 100) == 0 && call_make(s, r, run, "target",
		    (*calls)++, 1, cause) < 0)
			return -1;
		if ((call = call_make(s, r, run, "target", (*calls)++, 0,
		    cause)) < 0)
			return -1;
		out = text_make(r, 24);
		if (store_evaluation_add(s, run, c, ex[k], out,
		    score_make(r, q, fractional), NULL, call, cause) < 0) {
			free(out);
			return -1;
		}
		free(out);
	}
	/* The optimizer's call that proposed it, and its outcome. */
	if ((call = call_make(s, r, run, "optimizer", (*calls)++, 0,
	    cause)) < 0)
		return -1;
	memset(&o, 0, sizeof o);
	sha256_hex(&call, sizeof call, key);
	o.run = run;
	o.call = call;
	o.key = key;
	o.role = "optimizer";
	o.outcome = rng_below(r, 10) == 0 ? "repaired" : "usable";
	o.kept = 1;
	return store_outcome_add(s, &o, cause);
}

/* A champion with a dev score of 0.9 and the evidence of a promotion. */
static int
champion_make(struct store *s, int64_t job, int64_t cand, const char *reason,
    char **cause)
{
	struct champion_record	c;

	memset(&c, 0, sizeof c);
	c.job = job;
	c.candidate = cand;
	c.score = 0.9;
	c.lo = 0.85;
	c.hi = 0.95;
	c.p = 0.01;
	c.delta = 0.05;
	c.paired = 60;
	c.reason = reason;
	return store_champion_add(s, &c, cause);
}

/* Lineage, events, the checkpoint and a champion after candidate i. */
static int
step_make(struct store *s, struct rng *r, int64_t job, int64_t run,
    const int64_t *ids, long i, char **cause)
{
	char	*note, *state, *msg;
	int64_t	 p;
	int	 rc = 0;

	if (i >= 2) {
		p = ids[i - 1 - (long)rng_below(r, i < 40 ? (uint32_t)i : 40)];
		note = text_make(r, 80);
		rc = store_lineage_add(s, ids[i], p, "crossover", note, cause);
		free(note);
		p = ids[rng_below(r, (uint32_t)i)];
		if (rc == 0 && p != ids[i - 1])
			rc = store_lineage_add(s, ids[i], p, "mutation", NULL,
			    cause);
	}
	if (rc != 0 || i % 25 != 24)
		return rc;
	state = xasprintf("{\"step\": %ld, \"strategy\": {\"population\": "
	    "[%lld, %lld, %lld]}}", i / 25, (long long)ids[i],
	    (long long)ids[i - 1], (long long)ids[i - 2]);
	msg = xasprintf("step %ld: 25 candidates, best dev 0.9", i / 25);
	if (store_run_checkpoint(s, run, (int)(i / 25), state, NULL,
	    cause) != 0 || store_event(s, job, run, "info", msg, cause) != 0 ||
	    (i % 500 == 499 && champion_make(s, job, ids[i - 5],
	    "promoted: p = 0.01", cause) != 0))
		rc = -1;
	free(state);
	free(msg);
	return rc;
}

/*
 * Scores the candidates of a run, each on its share of the examples (dev
 * first, as racing does, for the evaluations the rest leave), committing
 * every TXN_EVALS evaluations as the engine does.
 */
static int
candidates_make(struct store *s, struct rng *r, const int64_t *ex,
    int64_t job, int64_t run, const struct opts *o, int64_t *ids,
    char **cause)
{
	long	 i, per, mean, done = 0, since = 0, calls = 0;
	char	*text;

	for (i = 0; i < o->cands; i++) {
		if (since == 0 && store_begin(s, cause) != 0)
			return -1;
		text = text_make(r, 250 + rng_below(r, 200));
		ids[i] = store_candidate_put(s, job, text, i < 2 ? "seed" :
		    "evo", cause);
		free(text);
		mean = (o->evals - done) / (o->cands - i);
		per = mean / 2 + (long)rng_below(r, (uint32_t)mean + 1);
		if (per > NEXAMPLES)
			per = NEXAMPLES;
		if (ids[i] < 0 || evals_make(s, r, ex, run, ids[i],
		    0.3 + 0.6 * rng_uniform(r), per, o->fractional, &calls,
		    cause) != 0 || step_make(s, r, job, run, ids, i,
		    cause) != 0) {
			store_rollback(s);
			return -1;
		}
		done += per;
		since += per + 1;
		if ((since >= TXN_EVALS || i == o->cands - 1) &&
		    store_commit(s, cause) != 0)
			return -1;
		if (since >= TXN_EVALS)
			since = 0;
	}
	return 0;
}

/*
 * Writes the job, its optimize run and an eval run that scores its last
 * ten candidates again (later rows, for the same examples); seconds[0] and [1] are the wall and CPU
 * time the optimize run's writes took, *last its last candidate.
 */
static int
generate(struct store *s, const char *db, const struct opts *o,
    int64_t *last, double seconds[2], char **cause)
{
	struct dataset	*ds;
	struct rng	 r;
	int64_t		 job, run, *ids, ex[NEXAMPLES];
	long		 i, calls = 1L << 40;
	double		 t0, c0;
	char		*path;
	int		 rc = -1;

	path = xasprintf("%s.jsonl", db);
	ds = dataset_make(path, cause);
	free(path);
	if (ds == NULL)
		return -1;
	rng_seed(&r, 17, 5);
	ids = xcalloc((size_t)o->cands, sizeof *ids);
	if ((job = store_job_put(s, "bench", "{\"name\": \"bench\", "
	    "\"strategy\": {\"name\": \"evo\"}}", cause)) < 0 ||
	    store_dataset_snapshot(s, job, ds, NULL, cause) < 0 ||
	    (run = store_run_new(s, job, "optimize", 0, cause)) < 0)
		goto out;
	dataset_order(ds, ex);
	t0 = time_mono();
	c0 = time_cpu(0);
	if (candidates_make(s, &r, ex, job, run, o, ids, cause) != 0)
		goto out;
	seconds[0] = time_mono() - t0;
	seconds[1] = time_cpu(0) - c0;
	if (store_run_finish(s, run, "done", NULL, cause) != 0 ||
	    (run = store_run_new(s, job, "eval", 0, cause)) < 0 ||
	    store_begin(s, cause) != 0)
		goto out;
	for (i = o->cands > 10 ? o->cands - 10 : 0; i < o->cands; i++)
		if (evals_make(s, &r, ex, run, ids[i], 0.8, 60,
		    o->fractional, &calls, cause) != 0) {
			store_rollback(s);
			goto out;
		}
	if (store_commit(s, cause) != 0 ||
	    champion_make(s, job, ids[o->cands - 1], "refreshed",
	    cause) != 0 ||
	    store_run_finish(s, run, "done", NULL, cause) != 0 ||
	    store_job_set_state(s, job, "done", NULL, cause) != 0)
		goto out;
	*last = ids[o->cands - 1];
	rc = 0;
out:
	free(ids);
	dataset_free(ds);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Runs query cmd (args JSON) runs times on s; prints the median and the
 * slowest in milliseconds.  Returns the last result (the caller's), or
 * NULL.
 */
static cJSON *
query_time(struct store *s, const char *cmd, const char *args, int runs)
{
	cJSON		*a = cJSON_Parse(args), *res = NULL;
	const char	*code;
	char		*cause = NULL;
	double		 t[MAX_RUNS], t0;
	int		 i;

	for (i = 0; i < runs; i++) {
		cJSON_Delete(res);
		t0 = time_mono();
		if (query_run(s, cmd, a, &res, &code, &cause) != 0) {
			fprintf(stderr, "bench_store: %s: %s\n", cmd, cause);
			free(cause);
			cJSON_Delete(a);
			return NULL;
		}
		t[i] = (time_mono() - t0) * 1e3;
	}
	cJSON_Delete(a);
	qsort(t, (size_t)runs, sizeof *t, cmp_double);
	printf("%-16s%8.2f ms median %8.2f ms slowest (%d runs)\n", cmd,
	    t[runs / 2], t[runs - 1], runs);
	return res;
}

/*
 * Opens db afresh (migrating it if it is older) and times the queries
 * on job: leaderboard, status, best, and the lineage of the champion.
 */
static int
queries_time(const char *db, const char *job, int runs)
{
	struct store	*s;
	const cJSON	*v;
	cJSON		*r;
	char		*cause = NULL, *args;
	double		 t0 = time_mono();
	int		 rc = -1;

	if ((s = store_open(db, &cause)) == NULL) {
		fprintf(stderr, "bench_store: %s\n", cause);
		free(cause);
		return -1;
	}
	printf("open            %8.2f ms (with any migration)\n",
	    (time_mono() - t0) * 1e3);
	args = xasprintf("{\"job\": \"%s\"}", job);
	if ((r = query_time(s, "leaderboard", args, runs)) == NULL)
		goto out;
	cJSON_Delete(r);
	if ((r = query_time(s, "status", args, runs)) == NULL)
		goto out;
	cJSON_Delete(r);
	if ((r = query_time(s, "best", args, runs)) == NULL)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(r, "candidate");
	free(args);
	args = xasprintf("{\"candidate\": %lld}", cJSON_IsNumber(v) ?
	    (long long)v->valuedouble : 0LL);
	cJSON_Delete(r);
	if ((r = query_time(s, "lineage", args, runs)) == NULL)
		goto out;
	cJSON_Delete(r);
	rc = 0;
out:
	free(args);
	store_close(s);
	fflush(stdout);
	return rc;
}

/* The child's loop: leaderboards until SIGTERM; prints how they went. */
static volatile sig_atomic_t	stop_asking;

static void
stop_handler(int sig)
{
	(void)sig;
	stop_asking = 1;
}

static void
ask_leaderboards(const char *sock, const char *args)
{
	struct client	*c;
	cJSON		*a = cJSON_Parse(args), *res;
	char		*code = NULL, *cause = NULL;
	double		 t0, sum = 0, most = 0, t;
	long		 n = 0;

	signal(SIGTERM, stop_handler);
	if ((c = client_connect(sock, &cause)) == NULL) {
		fprintf(stderr, "bench_store: %s\n", cause);
		_exit(1);
	}
	while (!stop_asking) {
		t0 = time_mono();
		if (client_call(c, "leaderboard", a, &res, &code,
		    &cause) != 0) {
			fprintf(stderr, "bench_store: leaderboard: %s\n", cause);
			_exit(1);
		}
		t = (time_mono() - t0) * 1e3;
		sum += t;
		most = t > most ? t : most;
		n++;
		cJSON_Delete(res);
	}
	printf("%-16s%8.2f ms mean     %8.2f ms slowest (%ld asked "
	    "meanwhile by another client)\n", "  leaderboard", n > 0 ?
	    sum / (double)n : 0, most, n);
	fflush(stdout);
	_exit(0);
}

/* Times n "status JOB" round trips: the median and the slowest. */
static int
status_times(const char *sock, const char *job_args, int n,
    const char *label)
{
	struct client	*c;
	struct timespec	 gap = { 0, 10000000 };
	cJSON		*args, *res;
	char		*code = NULL, *cause = NULL;
	double		 t[MAX_RUNS], t0;
	int		 i;

	if ((c = client_connect(sock, &cause)) == NULL) {
		fprintf(stderr, "bench_store: %s\n", cause);
		return -1;
	}
	args = cJSON_Parse(job_args);
	for (i = 0; i < n; i++) {
		t0 = time_mono();
		if (client_call(c, "status", args, &res, &code, &cause) != 0) {
			fprintf(stderr, "bench_store: status: %s\n", cause);
			return -1;
		}
		t[i] = (time_mono() - t0) * 1e3;
		cJSON_Delete(res);
		nanosleep(&gap, NULL);
	}
	cJSON_Delete(args);
	client_close(c);
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	printf("%-16s%8.2f ms median %8.2f ms slowest (%d round trips)\n",
	    label, t[n / 2], t[n - 1], n);
	fflush(stdout);
	return 0;
}

/*
 * Starts promptd on the database and times "status JOB" round trips,
 * first alone, then while another client asks for the leaderboard
 * without a pause.
 */
static int
daemon_times(const char *promptd, const char *dir, const char *db,
    const char *job, int n)
{
	struct client	*c = NULL;
	char		*conf, *sock, *log, *args;
	pid_t		 daemon, asker;
	FILE		*f;
	int		 i, rc = -1;

	args = xasprintf("{\"job\": \"%s\"}", job);
	conf = xasprintf("%s/promptd.conf", dir);
	sock = xasprintf("%s/promptd.sock", dir);
	log = xasprintf("%s/promptd.log", dir);
	if ((f = fopen(conf, "w")) == NULL || fputs("{}\n", f) == EOF ||
	    fclose(f) != 0)
		goto out;
	if ((daemon = fork()) == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execl(promptd, promptd, "-f", "-c", conf, "-S", sock, "-d", db,
		    (char *)NULL);
		perror(promptd);
		_exit(127);
	}
	for (i = 0; i < 300 && c == NULL; i++) {
		if ((c = client_connect(sock, NULL)) == NULL)
			usleep(100000);
	}
	if (c == NULL) {
		fprintf(stderr, "bench_store: %s did not start (%s)\n", promptd,
		    log);
		goto stop;
	}
	client_close(c);
	printf("through promptd:\n");
	fflush(stdout);
	if (status_times(sock, args, n, "  status") != 0)
		goto stop;
	if ((asker = fork()) == 0)
		ask_leaderboards(sock, args);
	rc = status_times(sock, args, n, "  status, busy");
	kill(asker, SIGTERM);
	waitpid(asker, NULL, 0);
stop:
	kill(daemon, SIGTERM);
	waitpid(daemon, NULL, 0);
out:
	free(args);
	free(conf);
	free(sock);
	free(log);
	return rc;
}

/* Removes the work directory and what the bench put there. */
static void
dir_remove(const char *dir)
{
	static const char *const files[] = { "bench.db", "bench.db-wal",
	    "bench.db-shm", "bench.db.jsonl", "promptd.conf", "promptd.sock",
	    "promptd.log" };
	char	*p;
	size_t	 i;

	for (i = 0; i < nitems(files); i++) {
		p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_store [-c candidates] [-e evaluations] "
	    "[-f] [-k] [-p promptd] [-r runs] [-s schema]\n"
	    "       bench_store -d database [-j job] [-p promptd] [-r runs]\n");
	exit(2);
}

static void
opts_parse(int argc, char **argv, struct opts *o, int *keep)
{
	int	ch;

	o->cands = 3900;
	o->evals = 200000;
	o->runs = 9;
	o->schema = STORE_SCHEMA_VERSION;
	o->job = "bench";
	while ((ch = getopt(argc, argv, "c:d:e:fj:kp:r:s:")) != -1) {
		switch (ch) {
		case 'c': o->cands = atol(optarg); break;
		case 'd': o->db = optarg; break;
		case 'j': o->job = optarg; break;
		case 'e': o->evals = atol(optarg); break;
		case 'f': o->fractional = 1; break;
		case 'k': *keep = 1; break;
		case 'p': o->promptd = optarg; break;
		case 'r': o->runs = atoi(optarg); break;
		case 's': o->schema = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || o->cands < 1 || o->evals < o->cands ||
	    o->schema < 11 ||
	    o->runs < 1 || o->runs > MAX_RUNS)
		usage();
}

/* Writes the database of the bench at db (see the top). */
static int
db_write(const char *db, const struct opts *o)
{
	struct store	*s;
	struct stat	 st;
	char		*cause = NULL;
	double		 secs[2];
	int64_t		 last;

	if ((s = store_open_version(db, o->schema, &cause)) == NULL ||
	    generate(s, db, o, &last, secs, &cause) != 0) {
		fprintf(stderr, "bench_store: %s\n", cause);
		free(cause);
		store_close(s);
		return -1;
	}
	store_close(s);
	stat(db, &st);
	printf("write           %8.2f us per evaluation, %.2f us of CPU (%ld "
	    "candidates, %ld evaluations with their calls, schema %d)\n",
	    secs[0] / (double)o->evals * 1e6, secs[1] / (double)o->evals * 1e6,
	    o->cands, o->evals, o->schema);
	printf("size            %8.1f MB\n", (double)st.st_size / 1e6);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	char		 dir[] = "/tmp/bench-store.XXXXXX";
	char		*db;
	int		 keep = 0, rc = 1;

	memset(&o, 0, sizeof o);
	opts_parse(argc, argv, &o, &keep);
	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("XDG_STATE_HOME", dir, 1);
	db = o.db != NULL ? xstrdup(o.db) : xasprintf("%s/bench.db", dir);
	if ((o.db == NULL && db_write(db, &o) != 0) ||
	    queries_time(db, o.job, o.runs) != 0 ||
	    (o.promptd != NULL && daemon_times(o.promptd, dir, db, o.job,
	    o.runs * 5 < MAX_RUNS ? o.runs * 5 : MAX_RUNS) != 0))
		goto out;
	rc = 0;
out:
	if (keep)
		printf("kept %s\n", dir);
	else
		dir_remove(dir);
	free(db);
	return rc;
}
