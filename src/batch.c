/*
 * Batch mode: requests gathered into provider batches, the batches
 * carried through their steps and stored at each, their answers handed
 * back.  See batch.h; the providers' protocols are the backends' batch
 * operations (backend_openai.c, backend_anthropic.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "batch.h"
#include "hash.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* The longest wait between two polls, and between two tries of a step. */
#define BATCH_WAIT_MAX	600

static const char *const batch_steps[] = {
	"upload", "create", "find", "poll", "results", "errors", "done",
	"failed"
};

const char *
batch_step_name(enum batch_step s)
{
	return (unsigned)s < nitems(batch_steps) ? batch_steps[s] : "failed";
}

int
batch_step_from(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < nitems(batch_steps); i++)
		if (strcmp(batch_steps[i], name) == 0)
			return (int)i;
	return -1;
}

void
batch_job_result(struct batch_job *j, const char *id, long status,
    const char *body)
{
	j->ids = xreallocarray(j->ids, j->nresults + 1, sizeof *j->ids);
	j->status = xreallocarray(j->status, j->nresults + 1,
	    sizeof *j->status);
	j->bodies = xreallocarray(j->bodies, j->nresults + 1,
	    sizeof *j->bodies);
	j->ids[j->nresults] = xstrdup(id);
	j->status[j->nresults] = status;
	j->bodies[j->nresults] = xstrdup(body != NULL ? body : "");
	j->nresults++;
}

static void
batch_job_release(struct batch_job *j)
{
	size_t	i;

	for (i = 0; i < j->nresults; i++) {
		free(j->ids[i]);
		free(j->bodies[i]);
	}
	free(j->ids);
	free(j->status);
	free(j->bodies);
	free(j->token);
	free(j->input);
	free(j->file);
	free(j->provider_id);
	free(j->output);
	free(j->errors);
	free(j->cause);
	memset(j, 0, sizeof *j);
}

/* A request waiting for a batch's answer. */
struct batch_wait {
	char			 key[65];
	batch_done_fn		*done;
	void			*arg;
	struct batch_wait	*next;
};

struct batch {
	struct batchset		*set;
	struct backend		*backend;
	struct batch_job	 job;
	int64_t			 row;		/* stored; 0 while gathering */
	struct strbuf		 items;		/* gathering: the input */
	char			**keys;		/* the requests it holds */
	size_t			 nkeys;
	struct batch_wait	*waits;
	int			 added;		/* since the last pump */
	int			 busy;		/* a step is under way */
	double			 due;		/* monotonic: the next step */
	double			 wait;		/* the backoff before it */
	struct batch		*next;
};

struct batchset {
	struct store		*store;
	struct batch		*list;
	int			 failed;	/* the store failed */
	char			*cause;
};

struct batchset *
batchset_new(struct store *store)
{
	struct batchset	*set;

	set = xcalloc(1, sizeof *set);
	set->store = store;
	return set;
}

static void
batch_free(struct batch *bt)
{
	struct batch_wait	*w, *next;
	size_t			 i;

	for (w = bt->waits; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	for (i = 0; i < bt->nkeys; i++)
		free(bt->keys[i]);
	free(bt->keys);
	strbuf_release(&bt->items);
	batch_job_release(&bt->job);
	free(bt);
}

void
batchset_free(struct batchset *set)
{
	struct batch	*bt, *next;

	if (set == NULL)
		return;
	for (bt = set->list; bt != NULL; bt = next) {
		next = bt->next;
		batch_free(bt);
	}
	free(set->cause);
	free(set);
}

int
batch_want(const struct backend *b, const struct model_req *req)
{
	return b->batch_window != NULL && req->kind == REQ_CHAT &&
	    b->ops->batch_item != NULL;
}

static int
batch_holds(const struct batch *bt, const char *key)
{
	size_t	i;

	for (i = 0; i < bt->nkeys; i++)
		if (strcmp(bt->keys[i], key) == 0)
			return 1;
	return 0;
}

static void
batch_key_add(struct batch *bt, const char *key)
{
	bt->keys = xreallocarray(bt->keys, bt->nkeys + 1, sizeof *bt->keys);
	bt->keys[bt->nkeys++] = xstrdup(key);
}

static void
batch_wait_add(struct batch *bt, const char *key, batch_done_fn *done,
    void *arg)
{
	struct batch_wait	*w;

	w = xcalloc(1, sizeof *w);
	snprintf(w->key, sizeof w->key, "%s", key);
	w->done = done;
	w->arg = arg;
	w->next = bt->waits;
	bt->waits = w;
}

static struct batch *
batch_new(struct batchset *set, struct backend *b)
{
	struct batch	*bt;

	bt = xcalloc(1, sizeof *bt);
	bt->set = set;
	bt->backend = b;
	strbuf_init(&bt->items);
	bt->next = set->list;
	set->list = bt;
	return bt;
}

/* A stored batch still under way, brought back after a restart. */
static struct batch *
batch_load(struct batchset *set, struct backend *b, struct batch_row *row,
    char **keys, size_t nkeys)
{
	struct batch	*bt;
	int		 step;

	bt = batch_new(set, b);
	bt->row = row->id;
	step = batch_step_from(row->step);
	/* A crash while creating it: it may exist; look for it first. */
	bt->job.step = step == BATCH_CREATE ? BATCH_FIND :
	    step < 0 ? BATCH_UPLOAD : (enum batch_step)step;
	bt->job.token = row->token;
	bt->job.input = row->input;
	bt->job.ninput = row->ninput;
	bt->job.file = row->file;
	bt->job.provider_id = row->provider_id;
	bt->job.output = row->output;
	bt->job.errors = row->errors;
	free(row->step);
	free(row->cause);
	memset(row, 0, sizeof *row);
	bt->keys = keys;
	bt->nkeys = nkeys;
	bt->wait = b->batch_poll;
	log_info("backend '%s': batch %s of %zu requests picked up again "
	    "(%s)", b->name, bt->job.provider_id != NULL ?
	    bt->job.provider_id : "not yet created", bt->job.ninput,
	    batch_step_name(bt->job.step));
	return bt;
}

/* Seals a gathering batch: stored, its first step due now. */
static int
batch_seal(struct batch *bt, double now, char **cause)
{
	struct batchset	*set = bt->set;
	char		 token[33];
	uint64_t	 h;

	h = hash_mix(hash64_str(bt->keys[0], (uint64_t)now),
	    (uint64_t)time_now() ^ (uint64_t)(uintptr_t)bt);
	snprintf(token, sizeof token, "%016llx%016llx", (unsigned long long)h,
	    (unsigned long long)hash_mix(h, bt->nkeys));
	bt->job.token = xstrdup(token);
	bt->job.input = strbuf_detach(&bt->items);
	bt->job.ninput = bt->nkeys;
	bt->job.step = BATCH_UPLOAD;
	if ((bt->row = store_batch_add(set->store, bt->backend->identity,
	    token, batch_step_name(bt->job.step), bt->job.input, bt->nkeys,
	    bt->keys, bt->nkeys, cause)) < 0)
		return -1;
	bt->due = now;
	bt->wait = bt->backend->batch_poll;
	log_info("backend '%s': a batch of %zu requests", bt->backend->name,
	    bt->nkeys);
	return 0;
}

int
batch_add(struct batchset *set, struct backend *b, const char *key,
    const struct model_req *req, batch_done_fn *done, void *arg,
    char **cause)
{
	struct batch	*bt;
	struct batch_row row;
	char		**keys;
	size_t		 nkeys;
	int		 rc;

	for (bt = set->list; bt != NULL; bt = bt->next) {
		if (bt->backend != b || bt->row == 0 || !batch_holds(bt, key) ||
		    bt->job.step >= BATCH_DONE)
			continue;
		batch_wait_add(bt, key, done, arg);
		return 0;
	}
	/* A batch of an earlier life of the daemon. */
	if ((rc = store_batch_find(set->store, b->identity, key, &row, &keys,
	    &nkeys, cause)) < 0)
		return -1;
	if (rc == 1) {
		bt = batch_load(set, b, &row, keys, nkeys);
		batch_wait_add(bt, key, done, arg);
		return 0;
	}
	for (bt = set->list; bt != NULL; bt = bt->next)
		if (bt->backend == b && bt->row == 0 && bt->nkeys <
		    (size_t)b->batch_max)
			break;
	if (bt == NULL)
		bt = batch_new(set, b);
	if (batch_holds(bt, key)) {
		batch_wait_add(bt, key, done, arg);
		return 0;
	}
	if (b->ops->batch_item(b, req, key, &bt->items, cause) != 0)
		return -1;
	batch_key_add(bt, key);
	batch_wait_add(bt, key, done, arg);
	bt->added = 1;
	return 0;
}

void
batch_drop(struct batchset *set, void *arg)
{
	struct batch		*bt;
	struct batch_wait	**wp, *w;

	if (set == NULL)
		return;
	for (bt = set->list; bt != NULL; bt = bt->next) {
		for (wp = &bt->waits; (w = *wp) != NULL; ) {
			if (w->arg == arg) {
				*wp = w->next;
				free(w);
			} else
				wp = &w->next;
		}
	}
}

/* Stores a batch's step and what the provider called its parts. */
static int
batch_save(struct batch *bt, char **cause)
{
	struct batch_row	row;
	char			step[16];

	memset(&row, 0, sizeof row);
	row.id = bt->row;
	snprintf(step, sizeof step, "%s", batch_step_name(bt->job.step));
	row.step = step;
	row.file = bt->job.file;
	row.provider_id = bt->job.provider_id;
	row.output = bt->job.output;
	row.errors = bt->job.errors;
	row.cause = bt->job.cause;
	return store_batch_update(bt->set->store, &row, cause);
}

/* Answers every waiting request of a finished batch. */
static void
batch_answer(struct batch *bt)
{
	struct batch_job	*j = &bt->job;
	struct batch_wait	*w, *next;
	const char		*why;
	size_t			 i;

	for (w = bt->waits; w != NULL; w = next) {
		next = w->next;
		for (i = 0; i < j->nresults; i++)
			if (strcmp(j->ids[i], w->key) == 0)
				break;
		if (i < j->nresults && j->status[i] != 0)
			w->done(w->arg, j->status[i], j->bodies[i],
			    strlen(j->bodies[i]), NULL);
		else {
			why = i < j->nresults ? j->bodies[i] :
			    j->cause != NULL ? j->cause : "no answer in the batch";
			w->done(w->arg, 0, NULL, 0, why);
		}
		free(w);
	}
	bt->waits = NULL;
}

/*
 * A testing aid: PROMPTD_KILL_AT=batch:STEP ends the process, as kill -9
 * would, once the provider has answered a batch's step STEP and before
 * what it said is stored: the worst moment to crash.
 */
static void
batch_kill_hook(enum batch_step answered)
{
	const char	*v = getenv("PROMPTD_KILL_AT");

	if (v == NULL || strncmp(v, "batch:", 6) != 0 ||
	    strcmp(v + 6, batch_step_name(answered)) != 0)
		return;
	log_warnx("killed after the batch step %s, as PROMPTD_KILL_AT asks",
	    v + 6);
	_exit(137);
}

static void
batch_http_done(void *arg, const struct http_result *hr)
{
	struct batch	*bt = arg;
	struct backend	*b = bt->backend;
	char		*cause = NULL;
	double		 now = time_mono();
	enum batch_step	 was = bt->job.step;

	bt->busy = 0;
	/* A step that met no answer, a 429 or a 5xx is tried again. */
	if (hr->status == 0 || hr->status == 429 || hr->status >= 500) {
		log_info("backend '%s': batch %s, step %s: %s", b->name,
		    bt->job.provider_id != NULL ? bt->job.provider_id : "-",
		    batch_step_name(bt->job.step), hr->status == 0 ?
		    hr->error : "busy");
		bt->due = now + (hr->retry_after > 0 ? hr->retry_after :
		    bt->wait);
		bt->wait = bt->wait * 2 > BATCH_WAIT_MAX ? BATCH_WAIT_MAX :
		    bt->wait * 2;
		return;
	}
	batch_kill_hook(was);
	if (b->ops->batch_take(b, &bt->job, hr->status, hr->body, hr->len,
	    &cause) != 0) {
		bt->job.step = BATCH_FAILED;
		free(bt->job.cause);
		bt->job.cause = cause;
		log_warnx("backend '%s': batch %s failed: %s", b->name,
		    bt->job.provider_id != NULL ? bt->job.provider_id : "-",
		    bt->job.cause);
	}
	if (bt->job.step == BATCH_POLL && was == BATCH_POLL) {
		bt->due = now + bt->wait;
		bt->wait = bt->wait * 2 > BATCH_WAIT_MAX ? BATCH_WAIT_MAX :
		    bt->wait * 2;
	} else {
		bt->due = bt->job.step == BATCH_POLL ? now + b->batch_poll :
		    now;
		bt->wait = b->batch_poll;
	}
	if (bt->job.step != was && batch_save(bt, &cause) != 0) {
		bt->set->failed = 1;
		free(bt->set->cause);
		bt->set->cause = cause;
	}
}

/* Sends a batch's next step. */
static int
batch_step(struct batch *bt, struct http *http, char **cause)
{
	struct backend		*b = bt->backend;
	struct http_req		 hr;
	struct http_opts	 o;
	char			*err = NULL;

	memset(&hr, 0, sizeof hr);
	if (b->ops->batch_next(b, &bt->job, &hr, &err) != 0) {
		http_req_release(&hr);
		bt->job.step = BATCH_FAILED;
		free(bt->job.cause);
		bt->job.cause = err;
		return batch_save(bt, cause);
	}
	o.connect_timeout = b->connect_timeout;
	o.timeout = b->timeout;
	o.low_speed_time = b->timeout;
	/* Results can be large: as large as the replies of the batch. */
	o.max_response = (size_t)b->max_response * (bt->job.ninput + 1);
	bt->busy = 1;
	http_submit(http, hr.path != NULL && strncmp(hr.path, "http", 4) ==
	    0 ? "" : b->urls[0], &hr, &o, batch_http_done, bt);
	http_req_release(&hr);
	return 0;
}

double
batch_pump(struct batchset *set, struct http *http, double now,
    char **cause)
{
	struct batch	**bp, *bt;
	double		  next = 3600;

	if (set->failed) {
		cause_set(cause, "%s", set->cause);
		return -1;
	}
	for (bp = &set->list; (bt = *bp) != NULL; ) {
		if (bt->row == 0) {
			/* Gathering: sealed once a turn adds nothing. */
			if (bt->added && bt->nkeys <
			    (size_t)bt->backend->batch_max) {
				bt->added = 0;
				next = 0;
			} else if (batch_seal(bt, now, cause) != 0)
				return -1;
		}
		if (bt->job.step >= BATCH_DONE) {
			if (!bt->busy) {
				batch_answer(bt);
				*bp = bt->next;
				batch_free(bt);
				continue;
			}
		} else if (bt->row != 0 && !bt->busy && bt->due <= now) {
			if (batch_step(bt, http, cause) != 0)
				return -1;
		}
		if (bt->row != 0 && !bt->busy && bt->due - now < next)
			next = bt->due - now < 0 ? 0 : bt->due - now;
		bp = &bt->next;
	}
	return next;
}

size_t
batch_progress(const struct batchset *set,
    int (*mine)(void *, const void *), const void *ctx, long long *answered,
    const char **provider_id)
{
	const struct batch	*bt;
	const struct batch_wait	*w;
	size_t			 n = 0;

	*answered = 0;
	*provider_id = NULL;
	for (bt = set != NULL ? set->list : NULL; bt != NULL; bt = bt->next) {
		for (w = bt->waits; w != NULL && mine != NULL; w = w->next)
			if (mine(w->arg, ctx))
				break;
		if (bt->waits == NULL || (mine != NULL && w == NULL))
			continue;
		n += bt->nkeys;
		*answered += bt->job.answered;
		if (*provider_id == NULL)
			*provider_id = bt->job.provider_id;
	}
	return n;
}
