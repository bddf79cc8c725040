/*
 * The WAL checkpoints of a connection, on a thread of their own (see
 * store_wal_start() in store.h).  A checkpoint copies the pages that
 * commits appended to the write-ahead log back into the database file
 * and syncs both: SQLite runs one itself in the committing thread once
 * the log passes 1000 pages, and in the daemon that thread is the loop,
 * which then waited for two syncs every few seconds.  Here the loop's
 * connection only says, after each commit, how long the log is (a WAL
 * hook, which also turns SQLite's own checkpoints off), and a worker with
 * a connection of its own checkpoints when there is enough to copy.
 *
 * A passive checkpoint takes no lock that a writer waits for, so the
 * loop goes on committing while it runs.  But only a log that is wholly
 * copied when a transaction starts is started over from its beginning,
 * and the loop, which commits every few milliseconds, may always have
 * written a little more: the log would grow without end.  When it passes
 * WAL_RESTART times the wake-up length, the worker restarts it: it takes
 * the writer's lock in a gap between two of the loop's transactions (it
 * waits for the hook's word that a commit let go of it), copies the few
 * pages written since its passive checkpoint, syncs, and lets go; the
 * loop's next write waits for that much (wal_loop_busy, which counts it).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store_int.h"
#include "util.h"
#include "xmalloc.h"

/* Log pages that wake the worker, by default: SQLite's autocheckpoint. */
#define WAL_PAGES	1000
/* A log this many times the wake-up length is restarted. */
#define WAL_RESTART	4
/* Seconds a restart waits for a gap between the loop's transactions. */
#define WAL_GAP_WAIT	2.0
/* Seconds a write of the loop waits for the database before it fails. */
#define WAL_LOOP_WAIT	5.0

struct store_wal {
	char			*path;
	sqlite3			*db;		/* the worker's connection */
	int			 pages;		/* wake the worker at this many */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;		/* work, or stop */
	pthread_cond_t		 commit;	/* a commit let go of the lock */
	pthread_cond_t		 idle;		/* the work is done */

	/* Under lock. */
	int			 copied;	/* log pages checkpointed */
	int			 wanted;	/* the worker has work */
	int			 working;
	int			 stopping;
	int			 gap_waiting;	/* the worker waits for a commit */
	long long		 commits;
	int			 warned;
	struct store_wal_stats	 stats;

	/* The worker's thread only: when a restart began to wait. */
	double			 gap_since;

	/* The loop's thread only: its writes that waited. */
	double			 wait_start;
	long long		 loop_waits;
	double			 loop_waited;
	double			 loop_longest;
};

/*
 * After each commit of the loop's connection (on the loop's thread, the
 * writer's lock let go): wakes the worker when pages enough wait to be
 * copied, and one waiting for a gap between transactions.  It never
 * waits: the worker holds the mutex only to read or set these numbers.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_wal	*w = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&w->lock);
	/* A shorter log than was copied has started over. */
	if (frames < w->copied)
		w->copied = 0;
	w->commits++;
	if (frames - w->copied >= w->pages && !w->wanted) {
		w->wanted = 1;
		w->stats.wakes++;
		pthread_cond_signal(&w->wake);
	}
	if (w->gap_waiting)
		pthread_cond_signal(&w->commit);
	pthread_mutex_unlock(&w->lock);
	return SQLITE_OK;
}

/*
 * The worker's busy handler, called only while a restart waits for the
 * writer's lock or for readers of the old log: it waits for the next
 * commit of the loop (or a millisecond, for a reader), so that it tries
 * again in the gap after the commit.  It gives up after WAL_GAP_WAIT
 * seconds, or at once when the worker is stopping.
 */
static int
wal_busy(void *arg, int n)
{
	struct store_wal	*w = arg;
	struct timespec		 ts;
	long long		 commits;
	int			 go;

	if (n == 0)
		w->gap_since = time_mono();
	pthread_mutex_lock(&w->lock);
	go = !w->stopping && time_mono() - w->gap_since < WAL_GAP_WAIT;
	if (go) {
		commits = w->commits;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		w->gap_waiting = 1;
		while (w->commits == commits && !w->stopping &&
		    pthread_cond_timedwait(&w->commit, &w->lock, &ts) == 0)
			;
		w->gap_waiting = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return go;
}

/*
 * The loop connection's busy handler while the worker runs: a write
 * that finds the writer's lock taken (by a restart) tries again every
 * tenth of a millisecond for 10 ms, then every millisecond, for
 * WAL_LOOP_WAIT seconds in all (SQLite's own handler sleeps 1, 2, 5, 10
 * ms and more between tries, a long wait for a lock held a few
 * milliseconds).  It counts the waits and their length.
 */
static int
wal_loop_busy(void *arg, int n)
{
	struct store_wal	*w = arg;
	double			 waited, nap = n < 100 ? 0.0001 : 0.001;

	if (n == 0) {
		w->wait_start = time_mono();
		w->loop_waits++;
	}
	if (time_mono() - w->wait_start >= WAL_LOOP_WAIT)
		return 0;
	time_sleep(nap);
	w->loop_waited += nap;
	/* Up to this try: the last one may find the lock free. */
	if ((waited = time_mono() - w->wait_start) > w->loop_longest)
		w->loop_longest = waited;
	return 1;
}

/*
 * One checkpoint in mode; a passive one that leaves the log too long
 * is followed by a restart.  Counts what it did.
 */
static void
wal_checkpoint(struct store_wal *w, int mode)
{
	int	log = -1, ckpt = -1, rc, restarted = 0;

	rc = sqlite3_wal_checkpoint_v2(w->db, NULL, mode, &log, &ckpt);
	if (rc == SQLITE_OK && mode == SQLITE_CHECKPOINT_PASSIVE &&
	    log >= w->pages * WAL_RESTART) {
		rc = sqlite3_wal_checkpoint_v2(w->db, NULL,
		    SQLITE_CHECKPOINT_RESTART, &log, &ckpt);
		restarted = 1;
	}
	pthread_mutex_lock(&w->lock);
	if (mode == SQLITE_CHECKPOINT_PASSIVE)
		w->stats.checkpoints++;
	if (rc == SQLITE_OK && restarted)
		w->stats.restarts++;
	else if (rc == SQLITE_BUSY)
		w->stats.busy++;
	if (ckpt >= 0) {
		w->stats.frames += ckpt >= w->copied ? ckpt - w->copied : ckpt;
		w->copied = ckpt;
	}
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && !w->warned) {
		w->warned = 1;
		log_warnx("store: checkpoint '%s': %s", w->path,
		    sqlite3_errmsg(w->db));
	}
	pthread_mutex_unlock(&w->lock);
}

/* The worker: a checkpoint each time it is woken, a last one to stop. */
static void *
wal_main(void *arg)
{
	struct store_wal	*w = arg;
	int			 stop;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		w->working = 0;
		pthread_cond_broadcast(&w->idle);
		while (!w->wanted && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		stop = w->stopping;
		w->wanted = 0;
		w->working = 1;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		wal_checkpoint(w, SQLITE_CHECKPOINT_PASSIVE);
		pthread_mutex_lock(&w->lock);
	}
	/* What is left, and the log file emptied. */
	wal_checkpoint(w, SQLITE_CHECKPOINT_TRUNCATE);
	return NULL;
}

static void
wal_free(struct store_wal *w)
{
	sqlite3_close(w->db);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->commit);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}

int
store_wal_start(struct store *s, int pages, char **cause)
{
	struct store_wal	*w;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;
	int			 rc;

	if (s->wal != NULL)
		return 0;
	if (!sqlite3_threadsafe())
		return cause_set(cause, "store: checkpoints: this SQLite is "
		    "built without threads");
	w = xcalloc(1, sizeof *w);
	w->path = xstrdup(s->path);
	w->pages = pages > 0 ? pages : WAL_PAGES;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->commit, &ca);
	pthread_condattr_destroy(&ca);
	if (sqlite3_open_v2(s->path, &w->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(w->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		cause_set(cause, "store: checkpoints: cannot open '%s': %s",
		    s->path, w->db != NULL ? sqlite3_errmsg(w->db) :
		    "out of memory");
		wal_free(w);
		return -1;
	}
	sqlite3_busy_handler(w->db, wal_busy, w);
	/* A log left by an earlier life is copied at once. */
	w->wanted = 1;
	/* Signals are the loop's: the worker never takes one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, wal_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		cause_set(cause, "store: checkpoints: cannot start a thread: "
		    "%s", strerror(rc));
		wal_free(w);
		return -1;
	}
	/* The hook replaces SQLite's own checkpoints on s. */
	sqlite3_wal_hook(s->db, wal_hook, w);
	sqlite3_busy_handler(s->db, wal_loop_busy, w);
	s->wal = w;
	return 0;
}

void
store_wal_stop(struct store *s)
{
	struct store_wal	*w = s->wal;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->commit);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	log_debug("store: checkpoints of '%s': %lld passive, %lld restarts "
	    "(%lld found no gap), %lld pages copied; the loop's writes "
	    "waited %lld times, %.1f ms in all, %.1f ms at most", w->path,
	    w->stats.checkpoints, w->stats.restarts, w->stats.busy,
	    w->stats.frames, w->loop_waits, w->loop_waited * 1e3,
	    w->loop_longest * 1e3);
	/* SQLite's own checkpoints and busy wait again. */
	sqlite3_wal_autocheckpoint(s->db, WAL_PAGES);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	s->wal = NULL;
	wal_free(w);
}

void
store_wal_wait(struct store *s)
{
	struct store_wal	*w = s->wal;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	while (w->wanted || w->working)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
store_wal_stats(struct store *s, struct store_wal_stats *st)
{
	struct store_wal	*w = s->wal;

	memset(st, 0, sizeof *st);
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	*st = w->stats;
	pthread_mutex_unlock(&w->lock);
	st->loop_waits = w->loop_waits;
	st->loop_waited = w->loop_waited;
	st->loop_longest = w->loop_longest;
}
