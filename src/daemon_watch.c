/*
 * The daemon's streams.  A watch stream sends a job's events as the
 * store gets them, with its progress, and ends with the job's status once
 * it is over.  A feedback stream sends a job's duels that wait for a
 * person, one at a time, then its synthetic examples that wait for a
 * label (daemon_label.c); answer records a person's verdict, and quit
 * ends the streams.  daemon_watch_pump() moves every stream along once a turn.
 */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "control.h"
#include "daemon_int.h"
#include "engine.h"
#include "jobrun.h"
#include "log.h"
#include "search.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

/* Seconds between progress events on a watch stream. */
#define DAEMON_PROGRESS		1.0
/* Queued output above which a watch stream waits for its reader. */
#define DAEMON_WATCH_BACKLOG	(256 * 1024)
/* Events read from the store per watcher and pass. */
#define DAEMON_WATCH_BATCH	100
/* Events a watch stream starts with. */
#define DAEMON_WATCH_RECENT	20

static void
dcmd_watch(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct watch		*w;
	struct djob		*dj;
	struct event_row	*rows;
	cJSON			*r;
	size_t			 n;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
		return;
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stream", 1);
	control_reply(c, id, r);
	w = xcalloc(1, sizeof *w);
	w->client = c;
	w->id = id;
	w->dj = dj;
	w->step = -1;
	/* A job that is over ends at once; others start with their last
	 * few events. */
	w->cursor = INT64_MAX;
	if (djob_live(dj) && store_events(d->store, dj->id, -1,
	    DAEMON_WATCH_RECENT, &rows, &n, NULL) == 0) {
		w->cursor = n > 0 ? rows[0].id - 1 : 0;
		store_event_rows_free(rows, n);
	}
	w->next = d->watches;
	d->watches = w;
}

/*
 * A watch event: the message, and for a progress event the job's progress
 * now (a stored event, replayed or new, says only what it said when it
 * happened).
 */
static cJSON *
watch_event(struct watch *w, double time, const char *level,
    const char *message, int64_t run)
{
	struct djob		*dj = w->dj;
	struct run_totals	 t;
	struct cand		*best;
	cJSON			*e;
	double			 eta;

	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "time", time);
	cJSON_AddStringToObject(e, "level", level);
	cJSON_AddStringToObject(e, "message", message);
	if (run > 0)
		cJSON_AddNumberToObject(e, "run", (double)run);
	if (dj->fiber == NULL || strcmp(level, "progress") != 0)
		return e;
	engine_totals(dj->jr.engine, &t);
	best = search_best(&dj->jr.search);
	cJSON_AddNumberToObject(e, "step", dj->jr.search.step);
	cJSON_AddItemToObject(e, "best", best != NULL ?
	    cJSON_CreateNumber(best->mean) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "calls", (double)t.calls);
	cJSON_AddNumberToObject(e, "dollars", t.dollars);
	eta = djob_eta(dj);
	cJSON_AddItemToObject(e, "eta", eta >= 0 ? cJSON_CreateNumber(eta) :
	    cJSON_CreateNull());
	/* The run's replies usable so far, as of its last step. */
	cJSON_AddNumberToObject(e, "proposals",
	    (double)dj->jr.replies[TALLY_OPTIMIZER]);
	cJSON_AddNumberToObject(e, "proposals_usable",
	    (double)dj->jr.usable[TALLY_OPTIMIZER]);
	cJSON_AddNumberToObject(e, "verdicts",
	    (double)dj->jr.replies[TALLY_JUDGE]);
	cJSON_AddNumberToObject(e, "verdicts_usable",
	    (double)dj->jr.usable[TALLY_JUDGE]);
	return e;
}

/* Sends what is new to one watcher; returns 1 once its stream ended. */
static int
watch_pump(struct daemon *d, struct watch *w)
{
	struct djob		*dj = w->dj;
	struct event_row	*rows;
	const char		*code = NULL;
	cJSON			*e, *r;
	char			*cause = NULL, *msg, *why;
	double			 now = time_mono();
	size_t			 n, i;

	if (control_pending(w->client) > DAEMON_WATCH_BACKLOG)
		return 0;
	if (w->cursor != INT64_MAX) {
		if (store_events(d->store, dj->id, w->cursor,
		    DAEMON_WATCH_BATCH, &rows, &n, &cause) != 0) {
			log_warnx("watch: %s", cause);
			free(cause);
			cause = NULL;
			n = 0;
		}
		for (i = 0; i < n; i++) {
			control_event(w->client, w->id, watch_event(w,
			    rows[i].time, rows[i].level, rows[i].message,
			    rows[i].run));
			w->cursor = rows[i].id;
		}
		store_event_rows_free(rows, n);
		if (n == DAEMON_WATCH_BATCH)
			return 0;
	}
	if (djob_live(dj)) {
		if (dj->fiber != NULL && (dj->jr.search.step != w->step ||
		    now - w->progress_at >= DAEMON_PROGRESS)) {
			w->step = dj->jr.search.step;
			w->progress_at = now;
			why = djob_waiting(dj);
			msg = why != NULL ? xasprintf("waiting, step %d: %s",
			    w->step, why) : xasprintf("%s, step %d", dj->state,
			    w->step);
			e = watch_event(w, time_now(), "progress", msg, 0);
			if (why != NULL)
				cJSON_AddStringToObject(e, "waiting", why);
			free(msg);
			free(why);
			control_event(w->client, w->id, e);
		}
		return 0;
	}
	r = daemon_job_status(d, dj, dj->name, &code, &cause);
	if (r == NULL) {
		r = cJSON_CreateObject();
		djob_overlay(dj, r);
	}
	free(cause);
	control_end(w->client, w->id, r);
	return 1;
}

/*
 * Feedback streams.  A client asks for a job's pending duels with
 * feedback; each is sent as an event, and the next only once this
 * client has answered it (answer) or it was answered by someone else and
 * this client answered too (an error then), so the client never has two
 * duels on its screen.  quit, the job leaving the live states or the
 * connection closing ends the stream.
 */
static cJSON *
feedback_end_result(struct feedback *f)
{
	cJSON	*r;

	r = dcmd_state_result(f->dj);
	cJSON_AddNumberToObject(r, "answered", f->answered);
	return r;
}

static void
dcmd_feedback(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct feedback		*f;
	struct djob		*dj;
	const struct search	*s;
	cJSON			*r;

	if ((dj = dcmd_arg_djob(d, c, id, args)) == NULL)
		return;
	s = &dj->jr.search;
	if (dj->fiber != NULL && s->ops != NULL && s->params != NULL &&
	    (s->ops->wants_feedback == NULL || !s->ops->wants_feedback(s)) &&
	    !jobrun_synth_labels(dj->job)) {
		control_error(c, id, "state", "job '%s' asks for no feedback "
		    "(its strategy is %s%s)", dj->name, s->ops->name,
		    s->ops->wants_feedback != NULL ? " with feedback from "
		    "another source" : "");
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stream", 1);
	control_reply(c, id, r);
	f = xcalloc(1, sizeof *f);
	f->client = c;
	f->id = id;
	f->dj = dj;
	f->next = d->feedbacks;
	d->feedbacks = f;
}

char *
daemon_user(uid_t uid)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL && pw->pw_name != NULL)
		return xstrdup(pw->pw_name);
	return xasprintf("%ld", (long)uid);
}

static void
dcmd_answer(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	static const char *const choices[] = {
		"first", "second", "tie", "skip", NULL
	};
	struct comparison_row	 row;
	struct feedback		*f;
	const cJSON		*wv;
	const char		*winner;
	cJSON			*r;
	char			*cause = NULL, *who = NULL;
	int64_t			 duel;
	size_t			 i;
	int			 rc;

	if (dcmd_arg_id(c, id, args, "duel", "a duel id from a feedback "
	    "event", &duel) != 0)
		return;
	wv = cJSON_GetObjectItemCaseSensitive(args, "winner");
	for (i = 0; cJSON_IsString(wv) && choices[i] != NULL; i++)
		if (strcmp(wv->valuestring, choices[i]) == 0)
			break;
	if (!cJSON_IsString(wv) || choices[i] == NULL) {
		control_error(c, id, "usage", "argument \"winner\" must be "
		    "\"first\", \"second\", \"tie\" or \"skip\"");
		return;
	}
	/* This client has seen the duel, whatever becomes of the answer. */
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->shown == duel)
			f->shown = 0;
	if ((rc = store_comparison_get(d->store, duel, &row, &cause)) <= 0) {
		if (rc < 0)
			control_error(c, id, "internal", "%s", cause);
		else
			control_error(c, id, "not_found", "no duel %lld",
			    (long long)duel);
		free(cause);
		return;
	}
	if (strcmp(row.source, "human") != 0 || row.order_shown == NULL ||
	    strlen(row.order_shown) != 2) {
		control_error(c, id, "state", "duel %lld does not ask for "
		    "feedback (its source is %s)", (long long)duel,
		    row.source);
		goto out;
	}
	if (row.winner != NULL) {
		control_error(c, id, "state", "duel %lld was answered already "
		    "(%s, by %s)", (long long)duel, row.winner,
		    row.who != NULL ? row.who : "nobody");
		goto out;
	}
	if (i == 0)
		winner = row.order_shown[0] == 'a' ? "a" : "b";
	else if (i == 1)
		winner = row.order_shown[1] == 'a' ? "a" : "b";
	else
		winner = choices[i];
	who = daemon_user(control_uid(c));
	if ((rc = store_comparison_answer(d->store, duel, winner, who,
	    &cause)) < 0) {
		control_error(c, id, "internal", "%s", cause);
		free(cause);
		goto out;
	}
	if (rc == 0) {
		control_error(c, id, "state", "duel %lld was answered already",
		    (long long)duel);
		goto out;
	}
	for (f = d->feedbacks; f != NULL; f = f->next)
		if (f->client == c && f->dj->id == row.job)
			f->answered++;
	log_info("duel %lld: %s by %s", (long long)duel, strcmp(winner,
	    "skip") == 0 ? "skipped" : winner, who);
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "duel", (double)duel);
	cJSON_AddStringToObject(r, "winner", winner);
	cJSON_AddStringToObject(r, "who", who);
	control_reply(c, id, r);
out:
	free(who);
	store_comparison_row_release(&row);
}

/* Ends this client's feedback streams (or the one with id "stream"). */
static void
dcmd_quit(struct daemon *d, struct control_client *c, long long id,
    const cJSON *args)
{
	struct feedback	*f, **pp;
	const cJSON	*v;
	cJSON		*r;
	int		 n = 0;

	v = cJSON_GetObjectItemCaseSensitive(args, "stream");
	if (v != NULL && !cJSON_IsNumber(v)) {
		control_error(c, id, "usage", "argument \"stream\" must be the "
		    "id of a feedback request");
		return;
	}
	pp = &d->feedbacks;
	while ((f = *pp) != NULL) {
		if (f->client == c && (v == NULL ||
		    v->valuedouble == (double)f->id)) {
			*pp = f->next;
			control_end(c, f->id, feedback_end_result(f));
			free(f);
			n++;
		} else
			pp = &f->next;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "ended", n);
	control_reply(c, id, r);
}

/* Sends a feedback stream its next duel; returns 1 once it ended. */
static int
feedback_pump(struct daemon *d, struct feedback *f)
{
	struct comparison_row	*rows;
	cJSON			*e, *duel;
	char			*cause = NULL;
	size_t			 n;
	int			 ab;

	if (!djob_live(f->dj)) {
		control_end(f->client, f->id, feedback_end_result(f));
		return 1;
	}
	if (f->shown != 0 || f->shown_label != 0 ||
	    control_pending(f->client) > DAEMON_WATCH_BACKLOG)
		return 0;
	if (store_comparison_pending(d->store, f->dj->id, 1, &rows, &n,
	    &cause) != 0) {
		log_warnx("feedback: %s", cause);
		free(cause);
		return 0;
	}
	if (n > 0) {
		ab = rows[0].order_shown == NULL ||
		    strcmp(rows[0].order_shown, "ba") != 0;
		duel = cJSON_CreateObject();
		cJSON_AddNumberToObject(duel, "id", (double)rows[0].id);
		cJSON_AddStringToObject(duel, "job", f->dj->name);
		cJSON_AddStringToObject(duel, "input", rows[0].input != NULL ?
		    rows[0].input : "");
		cJSON_AddStringToObject(duel, "first", ab ? rows[0].output_a :
		    rows[0].output_b);
		cJSON_AddStringToObject(duel, "second", ab ?
		    rows[0].output_b : rows[0].output_a);
		cJSON_AddStringToObject(duel, "order", ab ? "ab" : "ba");
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "duel", duel);
		control_event(f->client, f->id, e);
		f->shown = rows[0].id;
	}
	store_comparison_rows_free(rows, n);
	/* No duel waits: an example waiting for its label, if any. */
	if (n == 0)
		(void)daemon_label_pump(d, f);
	return 0;
}

const struct dcmd_entry dcmd_watch_entry = { "watch", dcmd_watch };
const struct dcmd_entry dcmd_feedback_entry = { "feedback", dcmd_feedback };
const struct dcmd_entry dcmd_answer_entry = { "answer", dcmd_answer };
const struct dcmd_entry dcmd_quit_entry = { "quit", dcmd_quit };

void
daemon_watch_pump(struct daemon *d)
{
	struct watch	*w, **pp;
	struct feedback	*f, **fp;

	pp = &d->watches;
	while ((w = *pp) != NULL) {
		if (watch_pump(d, w)) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
	fp = &d->feedbacks;
	while ((f = *fp) != NULL) {
		if (feedback_pump(d, f)) {
			*fp = f->next;
			free(f);
		} else
			fp = &f->next;
	}
}

void
daemon_watch_drop(struct daemon *d, struct control_client *c)
{
	struct watch	*w, **pp;
	struct feedback	*f, **fp;

	pp = &d->watches;
	while ((w = *pp) != NULL) {
		if (c == NULL || w->client == c) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
	fp = &d->feedbacks;
	while ((f = *fp) != NULL) {
		if (c == NULL || f->client == c) {
			*fp = f->next;
			free(f);
		} else
			fp = &f->next;
	}
}
