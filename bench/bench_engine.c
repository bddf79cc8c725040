/*
 * bench/engine: N chat requests through the engine to the mock model
 * server, which answers each after L milliseconds, with at most C in
 * flight.  Prints the wall time against the ideal N*L/C, the CPU time per
 * call (making the requests included) and the peak RSS.  The engine runs
 * as promptctl eval and promptd --once run it (engine_run), or with -d as
 * the daemon drives it (turn by turn, engine_loop_group on); in both,
 * answers of several turns may share a commit.  Run by hand:
 *
 *	make bench && bench/bench_engine [-d] [-n N] [-l L] [-c C]
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "engine.h"
#include "jsonc.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static int	done_ok;

static int
bench_done(void *arg, const struct engine_result *res, char **cause)
{
	if (res->ok)
		done_ok++;
	return 0;
}

/* This process's CPU time so far, user and system. */
static void
cpu_seconds(double *user, double *sys)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct backend		*b;
	struct store		*store;
	struct engine_loop	*loop;
	struct engine		*e;
	struct model_req	 req;
	struct jdoc		*doc;
	struct rusage		 ru;
	char			 dir[] = "/tmp/bench-engine.XXXXXX";
	char			*path, *cause = NULL, *conf, *port = NULL;
	const char		*why = NULL;
	const char		*mock = "tests/mock/mockllm";
	double			 t0, u0, s0, u1, s1, wall, cpu, ideal;
	long			 n = 5000, lat = 50, conc = 64;
	int			 ch, i, tries, daemon = 0;
	pid_t			 pid;
	FILE			*f;

	while ((ch = getopt(argc, argv, "c:dl:m:n:")) != -1) {
		switch (ch) {
		case 'c': conc = atol(optarg); break;
		case 'd': daemon = 1; break;
		case 'l': lat = atol(optarg); break;
		case 'm': mock = optarg; break;
		case 'n': n = atol(optarg); break;
		default:
			fprintf(stderr, "usage: bench_engine [-d] [-n requests] "
			    "[-l latency_ms] [-c concurrency] [-m mockllm]\n");
			return 2;
		}
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	path = xasprintf("%s/script.json", dir);
	f = fopen(path, "w");
	fprintf(f, "{ \"rules\": [ { \"path\": \"/v1/chat/completions\", "
	    "\"delay_ms\": %ld } ] }\n", lat);
	fclose(f);
	if ((pid = fork()) == 0) {
		char	*pf = xasprintf("%s/port", dir);

		execl(mock, mock, "-P", pf, "-s", path, "-i", "60", "-t",
		    "3600", (char *)NULL);
		perror(mock);
		_exit(127);
	}
	free(path);
	path = xasprintf("%s/port", dir);
	for (tries = 0; tries < 100; tries++) {
		if (file_read(path, 64, &port, NULL, NULL) == 0 && *port != '\0')
			break;
		free(port);
		port = NULL;
		usleep(50000);
	}
	free(path);
	if (port == NULL) {
		fprintf(stderr, "bench_engine: %s did not start\n", mock);
		return 1;
	}
	port[strcspn(port, "\n")] = '\0';

	conf = xasprintf("{ \"type\": \"openai\", \"model\": \"bench\", "
	    "\"base_url\": \"http://127.0.0.1:%s/v1\", \"max_in_flight\": %ld,"
	    " \"api_key_env\": \"BENCH_NO_KEY\" }", port, conc);
	doc = jsonc_parse("bench", conf, strlen(conf), &cause);
	if (doc == NULL || (b = backend_new(doc, "bench", doc->root, "")) ==
	    NULL) {
		fprintf(stderr, "bench_engine: %s\n", doc != NULL ?
		    jv_errors(doc) : cause);
		return 1;
	}
	path = xasprintf("%s/bench.db", dir);
	if ((store = store_open(path, &cause)) == NULL) {
		fprintf(stderr, "bench_engine: %s\n", cause);
		return 1;
	}
	loop = engine_loop_new(store);
	e = engine_new(loop, 0, NULL, CACHE_OFF);
	/* The clocks include making the requests and their keys. */
	t0 = time_mono();
	cpu_seconds(&u0, &s0);
	for (i = 0; i < n; i++) {
		char	*msg = xasprintf("request number %d", i);

		model_req_init(&req, REQ_CHAT, "target");
		model_req_add(&req, MSG_USER, msg);
		engine_submit(e, b, &req, bench_done, NULL);
		free(msg);
	}
	if (daemon) {
		engine_loop_group(loop, 1);
		while (engine_busy(e))
			if (engine_loop_turn(loop, 1000, NULL, NULL, 0) < 0)
				break;
		engine_loop_flush(loop);
		if (engine_failed(e, &why))
			cause = xstrdup(why != NULL ? why : "engine failed");
	} else if (engine_run(e, &cause) != 0)
		cause = cause != NULL ? cause : xstrdup("engine stopped");
	if (cause != NULL) {
		fprintf(stderr, "bench_engine: %s\n", cause);
		return 1;
	}
	wall = time_mono() - t0;
	cpu_seconds(&u1, &s1);
	cpu = (u1 - u0) + (s1 - s0);
	ideal = (double)n * (double)lat / 1000.0 / (double)conc;
	getrusage(RUSAGE_SELF, &ru);
	printf("requests        %ld (%d answered)\n", n, done_ok);
	printf("latency         %ld ms, concurrency %ld, %s\n", lat, conc,
	    daemon ? "turn by turn (as the daemon)" : "engine_run");
	printf("wall            %.3f s\n", wall);
	printf("ideal N*L/C     %.3f s\n", ideal);
	printf("wall / ideal    %.3f\n", wall / ideal);
	printf("cpu per call    %.1f us (user %.1f + system %.1f, "
	    "including SQLite)\n", cpu / (double)n * 1e6,
	    (u1 - u0) / (double)n * 1e6, (s1 - s0) / (double)n * 1e6);
	printf("peak rss        %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
	engine_free(e);
	engine_loop_free(loop);
	store_close(store);
	backend_free(b);
	jsonc_free(doc);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(conf);
	free(port);
	unlink(path);
	free(path);
	return done_ok == n ? 0 : 1;
}
