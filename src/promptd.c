/*
 * promptd: the prompt-optimization daemon.  See promptd(8).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "report.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* The usage: on stdout and exit 0 when asked for, else stderr and 2. */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: promptd [-fhnv] "
	    "[--version] [-c config] [-d database] [-S socket]\n"
	    "       promptd [-v] [-c config] [-d database] --once job\n");
	exit(status);
}

/*
 * The loop's store checkpoints on a thread of its own, so that the loop
 * never waits for a sync; without one it checkpoints as before.
 */
static void
promptd_checkpoints(struct store *store)
{
	char	*cause = NULL;

	if (store_wal_start(store, 0, &cause) != 0) {
		log_warnx("%s: the loop checkpoints the database itself",
		    cause);
		free(cause);
	}
}

/* Runs one job to completion in the foreground, without a socket. */
/*
 * Where a foreground run stands after a step, on standard error: one line
 * a step, or on a terminal one line drawn over.
 */
static void
promptd_once_step(const struct jobrun *jr, int tty, double started)
{
	struct run_totals	 t;
	const struct cand	*best = search_best(&jr->search);
	char			*score;

	engine_totals(jr->engine, &t);
	score = best != NULL ? xasprintf("%.3f [%.3f, %.3f]", best->mean,
	    best->lo, best->hi) : xstrdup("none yet");
	fprintf(stderr, "%sstep %d: %zu candidates, best %s, %lld calls, "
	    "$%.4f, %.0f s%s", tty ? "\r\033[K" : "", jr->search.step,
	    jr->search.ncands, score, t.calls, t.dollars,
	    time_mono() - started, tty ? "" : "\n");
	fflush(stderr);
	free(score);
}

static int
promptd_once(const char *conf_path, const char *db_path, const char *file)
{
	struct conf		*conf;
	struct job		*job = NULL;
	struct store		*store = NULL;
	struct engine_loop	*loop = NULL;
	struct jobrun		 jr;
	char			*cause = NULL, *db = NULL;
	double			 t0 = time_mono();
	int			 rc, ret = 1, started = 0;
	int			 tty = isatty(STDERR_FILENO);

	memset(&jr, 0, sizeof jr);
	if ((conf = conf_load(conf_path, &cause)) == NULL)
		goto fail;
	if ((job = job_load(file, conf, &cause)) == NULL)
		goto fail;
	if ((db = conf_database_path(conf, db_path, &cause)) == NULL)
		goto fail;
	if ((store = store_open(db, &cause)) == NULL)
		goto fail;
	promptd_checkpoints(store);
	loop = engine_loop_new(store);
	if (jobrun_start(&jr, job, loop, "optimize", &cause) != 0)
		goto fail;
	started = 1;
	while ((rc = jobrun_step(&jr, &cause)) == 1)
		promptd_once_step(&jr, tty, t0);
	if (tty && jr.search.step > 0)
		fputc('\n', stderr);
	if (rc < 0 || jobrun_finish(&jr, &cause) != 0)
		goto fail;
	if (jr.promoted)
		report_on_promotion(store, job->task.name, jr.job_id,
		    jr.run_id, job->report_path);
	if (jr.champion != NULL) {
		printf("job '%s': %s after %d steps, %zu candidates\n",
		    job->task.name, jr.status, jr.search.step, jr.search.ncands);
		if (jr.no_dev)
			printf("champion: not scored: no dev examples yet");
		else
			printf("champion: dev %.3f [%.3f, %.3f]",
			    jr.champion->mean, jr.champion->lo,
			    jr.champion->hi);
		if (!isnan(jr.test_score))
			printf(", test %.3f", jr.test_score);
		if (jr.search.ncands > 0 && !jr.no_dev)
			printf("; the first seed prompt: dev %.3f",
			    jr.search.cands[0]->mean);
		printf("%s\n%s\n", jr.promoted ? " (promoted)" : "",
		    jr.champion->text);
	}
	printf("database: %s (run %lld)\n", db, (long long)jr.run_id);
	/* A run that found nothing to put forward did not do its work. */
	ret = strcmp(jr.status, "done") == 0 && jr.champion != NULL ? 0 : 1;
	if (ret != 0 || jr.reason != NULL)
		fprintf(stderr, "promptd: job '%s': %s%s%s\n", job->task.name,
		    jr.status, jr.reason != NULL ? ": " : "",
		    jr.reason != NULL ? jr.reason : "");
	goto out;
fail:
	if (started) {
		jobrun_abort(&jr, "failed", cause);
		fprintf(stderr, "promptd: job '%s': failed: %s\n", job->task.name,
		    jr.reason);
	} else
		fprintf(stderr, "promptd: %s\n", cause != NULL ? cause :
		    "unknown error");
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

/* path made absolute against the working directory (the daemon leaves it). */
static char *
promptd_absolute(const char *path)
{
	char	cwd[PATH_MAX];

	if (path == NULL || *path == '/')
		return path != NULL ? xstrdup(path) : NULL;
	if (getcwd(cwd, sizeof cwd) == NULL)
		fatal("getcwd");
	return xasprintf("%s/%s", cwd, path);
}

/*
 * Takes DATABASE.lock: one daemon per database.  The descriptor stays
 * open (and locked) for the daemon's life.
 */
static int
promptd_lock(const char *db, char **cause)
{
	char	*path;
	int	 fd;

	path = xasprintf("%s.lock", db);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		cause_set(cause, "cannot open lock file '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			cause_set(cause, "database '%s' is in use by another "
			    "promptd (lock '%s')", db, path);
		else
			cause_set(cause, "cannot lock '%s': %s", path,
			    strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	free(path);
	return fd;
}

/*
 * Detaches: forks, and the parent waits for the child to say that it is
 * ready.  In the parent, returns -1 with *status 0 (the daemon is up) or
 * 1 (it died trying); in the child, the descriptor to write its "ready"
 * byte to.
 */
static int
promptd_detach(int *status)
{
	pid_t	pid;
	ssize_t	n;
	char	c = 0;
	int	p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
			;
		close(p[0]);
		*status = n == 1 && c == 'r' ? 0 : 1;
		return -1;
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	return p[1];
}

/* Points stdio at /dev/null, once the daemon no longer needs stderr. */
static void
promptd_quiet(void)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("open /dev/null");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Writes the pid file, mode 0600 as every file promptd creates. */
static int
promptd_pidfile(const char *path, char **cause)
{
	char	*text;
	mode_t	 old;
	int	 rc;

	text = xasprintf("%ld\n", (long)getpid());
	old = umask(077);
	rc = file_write_atomic(path, text, cause);
	umask(old);
	free(text);
	return rc;
}

/* The long-running daemon. */
static int
promptd_daemon(struct conf *conf, const char *conf_path, const char *db_path,
    const char *sock_path, int foreground)
{
	struct control	*ctl = NULL;
	struct store	*store = NULL;
	struct daemon	*d = NULL;
	char		*db = NULL, *sock = NULL, *pidfile = NULL, *cause = NULL;
	char		*cpath = NULL, *p;
	int		 lock = -1, ready = -1, ret = 1;

	if ((p = conf_database_path(conf, db_path, &cause)) == NULL)
		goto fail;
	db = promptd_absolute(p);
	free(p);
	p = conf_socket_path(conf, sock_path);
	sock = promptd_absolute(p);
	free(p);
	cpath = promptd_absolute(conf_path);
	if ((lock = promptd_lock(db, &cause)) == -1)
		goto fail;
	/* The child inherits the lock; the parent only waits. */
	if (!foreground && (ready = promptd_detach(&ret)) == -1)
		goto out;
	/* The socket's directory (/run/promptd for root) may be new. */
	if ((p = strrchr(sock, '/')) != NULL && p != sock) {
		p = xstrndup(sock, (size_t)(p - sock));
		if (access(p, F_OK) != 0 && mkdir_parents(p, &cause) != 0) {
			free(p);
			goto fail;
		}
		free(p);
	}
	if ((ctl = control_open(sock, &cause)) == NULL)
		goto fail;
	/* SQLite connections must not cross a fork: open it here. */
	if ((store = store_open(db, &cause)) == NULL)
		goto fail;
	if (!foreground) {
		pidfile = xasprintf("%s.pid", sock);
		if (promptd_pidfile(pidfile, &cause) != 0) {
			free(pidfile);
			pidfile = NULL;
			goto fail;
		}
		log_init("promptd", conf->log_file == NULL, conf->log_file);
		promptd_quiet();
		if (write(ready, "r", 1) != 1)
			log_warn("cannot tell the parent that promptd is up");
		close(ready);
		ready = -1;
	}
	promptd_checkpoints(store);
	d = daemon_new(conf, cpath, store, ctl, foreground);
	conf = NULL;
	if (daemon_run(d, &cause) != 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	log_warnx("%s", cause != NULL ? cause : "unknown error");
out:
	daemon_free(d);
	control_free(ctl);
	store_close(store);
	conf_free(conf);
	if (pidfile != NULL)
		unlink(pidfile);
	if (lock != -1)
		close(lock);
	if (ready != -1)
		close(ready);
	free(pidfile);
	free(cpath);
	free(db);
	free(sock);
	free(cause);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "once", required_argument, NULL, 'o' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*conf_path = NULL, *db_path = NULL, *once = NULL;
	const char	*sock_path = NULL;
	struct conf	*conf;
	char		*cause = NULL;
	int		 ch, verbose = 0, check = 0, foreground = 0;

	log_init("promptd", 0, NULL);
	while ((ch = getopt_long(argc, argv, "c:d:fhnS:v", longopts,
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
		case 'h':
			usage(0);
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			once = optarg;
			break;
		case 'S':
			sock_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("promptd %s\n", PROMPTD_VERSION);
			return 0;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (once != NULL && (foreground || check || sock_path != NULL))
		usage(2);
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
	return promptd_daemon(conf, conf_path, db_path, sock_path, foreground);
}
