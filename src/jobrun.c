/* Runs of a job: set up, step, checkpoint, resume, finish, promote,
 * export. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "eval.h"
#include "ingest.h"
#include "job.h"
#include "jobrun.h"
#include "log.h"
#include "reply.h"
#include "rng.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

void
jobrun_observe(const struct job *job)
{
	const char	**inputs;
	size_t		  n, i;
	int		  r;

	n = template_nfields(job->task.tmpl);
	inputs = xcalloc(n + 1, sizeof *inputs);
	for (i = 0; i < n; i++)
		inputs[i] = template_field(job->task.tmpl, i);
	for (r = 0; r < ROLE_COUNT; r++)
		if (job->task.roles[r] != NULL && job->task.roles[r]->ops->observe != NULL)
			job->task.roles[r]->ops->observe(job->task.roles[r],
			    job->task.dataset, inputs, n, job->task.target);
	free(inputs);
}

void
jobrun_event(struct jobrun *jr, const char *level, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (strcmp(level, "info") == 0)
		log_info("job '%s': %s", jr->job->task.name, msg);
	else
		log_warnx("job '%s': %s", jr->job->task.name, msg);
	store_event(jr->store, jr->job_id, jr->run_id, level, msg, NULL);
	free(msg);
}

/* Records what was noted before the run existed, as its events. */
static void
jobrun_notes(struct jobrun *jr, struct ingest_notes *notes)
{
	size_t	i;

	for (i = 0; i < notes->n; i++)
		jobrun_event(jr, notes->v[i].level, "%s", notes->v[i].message);
	ingest_notes_release(notes);
}

/* The dataset indices of a split, in the dataset's order. */
static size_t *
jobrun_split(const struct dataset *ds, enum split sp, size_t *n)
{
	size_t	*out, i;

	out = xcalloc(ds->n + 1, sizeof *out);
	*n = 0;
	for (i = 0; i < ds->n; i++)
		/* A feedback example forgotten since (promptctl forget
		 * blanked its fields) has nothing left to score. */
		if (ds->ex[i].split == sp && (ds->ex[i].origin !=
		    ORIGIN_FEEDBACK || ds->ex[i].fields->child != NULL))
			out[(*n)++] = i;
	return out;
}

/* The checkpoint: the step, the candidates and the strategy's state. */
static char *
jobrun_save(struct jobrun *jr)
{
	struct search	*s = &jr->search;
	cJSON		*o, *arr, *c;
	char		*text;
	size_t		 i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "step", s->step);
	arr = cJSON_AddArrayToObject(o, "candidates");
	for (i = 0; i < s->ncands; i++) {
		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", (double)s->cands[i]->id);
		cJSON_AddStringToObject(c, "text", s->cands[i]->text);
		cJSON_AddNumberToObject(c, "generation",
		    s->cands[i]->generation);
		cJSON_AddBoolToObject(c, "raced_out", s->cands[i]->raced_out);
		cJSON_AddItemToArray(arr, c);
	}
	cJSON_AddItemToObject(o, "strategy", s->ops->save(s));
	cJSON_AddNumberToObject(o, "asks", s->asks);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int
jobrun_load(struct jobrun *jr, const char *text, char **cause)
{
	struct search	*s = &jr->search;
	struct cand	*c;
	cJSON		*o;
	const cJSON	*arr, *v, *t;
	int		 rc = -1;

	if ((o = cJSON_Parse(text)) == NULL)
		return cause_set(cause, "run %lld: checkpoint is not JSON",
		    (long long)jr->run_id);
	arr = cJSON_GetObjectItemCaseSensitive(o, "candidates");
	cJSON_ArrayForEach(v, arr) {
		t = cJSON_GetObjectItemCaseSensitive(v, "id");
		if (!cJSON_IsNumber(t))
			continue;
		if ((c = search_add_stored(s, (int64_t)t->valuedouble,
		    "resume", cause)) == NULL)
			goto out;
		c->generation = (int)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(v, "generation"));
		c->raced_out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v,
		    "raced_out"));
	}
	s->step = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o,
	    "step"));
	s->asks = (unsigned)cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(o, "asks"));
	if (s->ops->load(s, cJSON_GetObjectItemCaseSensitive(o, "strategy"),
	    cause) != 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

static int
jobrun_has_budget(const struct budget *b)
{
	return b->max_calls > 0 || b->max_tokens > 0 || b->max_dollars > 0 ||
	    b->deadline > 0;
}

/*
 * A resumed run goes on counting from what its calls spent; the job's
 * total budget counts what its other runs spent.
 */
static int
jobrun_budgets(struct jobrun *jr, char **cause)
{
	struct run_totals	sum, other, spent;
	struct run_row		latest;
	struct job_row		row;
	int			nruns, rc;

	if ((rc = store_job_runs(jr->store, jr->job_id, &nruns, &sum, &latest,
	    cause)) < 0)
		return -1;
	other = sum;
	if (rc == 1 && latest.id == jr->run_id) {
		/*
		 * What the run spent comes from its calls, not from the
		 * checkpoint: the calls paid after it count too.
		 */
		if (store_run_spent(jr->store, jr->run_id, &spent, cause) != 0)
			return -1;
		engine_resume_totals(jr->engine, &spent);
		other.calls -= latest.totals.calls;
		other.hits -= latest.totals.hits;
		other.tokens -= latest.totals.tokens;
		other.dollars -= latest.totals.dollars;
		other.cached -= latest.totals.cached;
	}
	if (!jobrun_has_budget(&jr->job->total_budget))
		return 0;
	if (store_job_get(jr->store, jr->job->task.name, &row, cause) != 1)
		return -1;
	engine_set_job_budget(jr->engine, &jr->job->total_budget, &other,
	    row.created);
	store_job_row_release(&row);
	return 0;
}

/*
 * A seed's demos, each linked to the run's example whose input it shows
 * (the job file names examples by line, before the store has them).
 */
static void
jobrun_link_demos(struct jobrun *jr, struct demos *d)
{
	const struct task	*t = &jr->job->task;
	size_t			 i, k;
	char			*in;

	for (i = 0; i < d->n; i++)
		for (k = 0; d->v[i].example == 0 && k < t->dataset->n; k++) {
			in = template_render(t->tmpl, &t->dataset->ex[k], NULL);
			if (strcmp(in, d->v[i].input) == 0)
				d->v[i].example = t->dataset->ex[k].id;
			free(in);
		}
}

/* The job's seed prompts, with their demos, as the first candidates. */
static int
jobrun_seeds(struct jobrun *jr, char **cause)
{
	struct demos	d;
	size_t		i;
	int		rc = 0;

	for (i = 0; rc == 0 && i < jr->job->nseeds; i++) {
		demos_copy(&d, &jr->job->seed_demos[i]);
		jobrun_link_demos(jr, &d);
		if (search_add_demos(&jr->search, jr->job->seeds[i], &d,
		    "seed", NULL, 0, NULL, NULL, cause) == NULL)
			rc = -1;
		demos_release(&d);
	}
	return rc;
}

/*
 * A refresh starts from the champion and the job's best candidates so
 * far, all scored again on today's data and model; the seeds are only
 * used when none of the job's candidates was ever scored.
 */
#define REFRESH_TOP	5

static int
jobrun_refresh_pool(struct jobrun *jr, char **cause)
{
	struct search	*s = &jr->search;
	struct champion	 ch;
	int64_t		*ids = NULL;
	char		**texts = NULL;
	size_t		 n = 0, i;
	int		 rc, have;

	jobrun_event(jr, "info", "refresh: the dataset %s", jr->dataset_changed ?
	    "changed since the last run" : "is unchanged");
	if ((have = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (have && search_add_stored(s, ch.candidate, "champion",
	    cause) == NULL)
		return -1;
	rc = store_candidates_top(jr->store, jr->job_id, REFRESH_TOP, 1, &ids,
	    &texts, &n, cause);
	for (i = 0; i < n; i++) {
		if (rc == 0 && search_add_stored(s, ids[i], "refresh",
		    cause) == NULL)
			rc = -1;
		free(texts[i]);
	}
	free(texts);
	free(ids);
	/*
	 * Nothing scored yet (a champion put forward without dev examples,
	 * see jobrun_no_dev()): the seeds compete with it.
	 */
	if (rc == 0 && n == 0)
		rc = jobrun_seeds(jr, cause);
	return rc;
}

/*
 * The run's examples and its snapshot.  A resumed run takes back the
 * snapshot it started on, exactly: what it scored stays what it scores.
 * A new one adds to the dataset file's examples those its job's
 * feedback makes now, and snapshots them (a new snapshot when they
 * changed).
 */
static int
jobrun_examples(struct jobrun *jr, struct ingest_notes *notes, char **cause)
{
	int	rc = 0;

	if (jr->resumed && (rc = store_run_dataset(jr->store, jr->run_id,
	    &jr->dataset_id, cause)) < 0)
		return -1;
	if (rc == 1)
		return ingest_examples_resume(jr->store, jr->dataset_id,
		    jr->job, notes, cause) < 0 ? -1 : 0;
	if (ingest_examples(jr->store, jr->job_id, jr->job, notes,
	    cause) < 0)
		return -1;
	if ((jr->dataset_id = store_dataset_snapshot(jr->store, jr->job_id,
	    jr->job->task.dataset, &jr->dataset_changed, cause)) < 0)
		return -1;
	return 0;
}

/*
 * Fits a metric that learns from feedback to what was ingested before the
 * run started: by now for a new run (created next), by its start for a
 * resumed one, which so gets the model it started with.
 */
static int
jobrun_learn(struct jobrun *jr, char **report, char **cause)
{
	double	before = time_now();

	*report = NULL;
	if (jr->resumed && store_run_last(jr->store, jr->job_id, jr->kind,
	    &before, cause) < 0)
		return -1;
	if (jobrun_metric_prepare(jr->store, jr->job_id, jr->job, before,
	    report, cause) != 0)
		return cause_prefix(cause, "job '%s': ", jr->job->task.name);
	return 0;
}

/* The search's settings. */
static void
jobrun_search(struct jobrun *jr)
{
	struct search	*s = &jr->search;
	struct job	*job = jr->job;

	s->ops = strategy_lookup(job->strategy);
	s->task = &job->task;
	s->given = cJSON_GetObjectItemCaseSensitive(job->spec, "strategy");
	s->store = jr->store;
	s->engine = jr->engine;
	s->job_id = jr->job_id;
	s->run_id = jr->run_id;
	s->params = cJSON_Duplicate(job->strategy_params, 1);
	s->racing = search_bool(s, "racing");
	if (*search_string(s, "prompts") != '\0')
		s->prompts_dir = path_relative_to(job->file,
		    search_string(s, "prompts"));
}

/*
 * The search's examples, from the dataset as it is now (a synthetic
 * round may have added to it), and its first candidates.
 */
static int
jobrun_pool(struct jobrun *jr, char **cause)
{
	struct search	*s = &jr->search;
	struct job	*job = jr->job;

	s->dev = jobrun_split(job->task.dataset, SPLIT_DEV, &s->ndev);
	s->train = jobrun_split(job->task.dataset, SPLIT_TRAIN, &s->ntrain);
	s->block = (size_t)search_int(s, "block");
	if (s->block == 0)
		s->block = s->ndev / 5 < 5 ? 5 : s->ndev / 5;
	if (strcmp(jr->kind, "refresh") == 0)
		return jobrun_refresh_pool(jr, cause);
	return jobrun_seeds(jr, cause);
}

/*
 * The search's start: its examples and first candidates, then the
 * strategy's state from the checkpoint (state) or its init.  A run
 * without dev examples searches nothing.
 */
static int
jobrun_begin(struct jobrun *jr, const char *state, char **cause)
{
	struct search	*s = &jr->search;
	struct job	*job = jr->job;

	if (jobrun_pool(jr, cause) != 0)
		return -1;
	if (s->ndev == 0) {
		/* jobrun_finish() puts the first seed forward. */
		jr->no_dev = 1;
		jobrun_event(jr, "warn", "no dev examples yet: nothing to "
		    "search on until feedback brings some");
	} else if (jr->resumed && state != NULL) {
		if (jobrun_load(jr, state, cause) != 0)
			return -1;
		jobrun_event(jr, "info", "resuming run %lld at step %d with %zu "
		    "candidates", (long long)jr->run_id, s->step, s->ncands);
	} else {
		if (s->ops->init(s, cause) != 0)
			return -1;
		if (jr->resumed)
			jobrun_event(jr, "info", "resuming run %lld at step 0 "
			    "(no checkpoint yet)", (long long)jr->run_id);
		/* Events are shown with their run: it is not said twice. */
		jobrun_event(jr, "info", "%s search on %zu dev examples from "
		    "%zu seed prompt%s", s->ops->name, s->ndev, job->nseeds,
		    job->nseeds == 1 ? "" : "s");
	}
	/* What the run stored before it was cut short. */
	if (jr->resumed && search_load_scores(s, cause) != 0)
		return -1;
	return 0;
}

int
jobrun_start(struct jobrun *jr, struct job *job, struct engine_loop *loop,
    const char *kind, char **cause)
{
	struct ingest_notes	 notes;
	char			*spec = NULL, *state = NULL, *learned = NULL;
	int			 step = 0;
	int64_t			 open;

	memset(jr, 0, sizeof *jr);
	memset(&notes, 0, sizeof notes);
	jr->job = job;
	jr->kind = kind;
	jr->store = engine_loop_store(loop);
	jr->test_score = NAN;
	if (job->strategy == NULL)
		return cause_set(cause, "job '%s' has no strategy", job->task.name);
	spec = cJSON_PrintUnformatted(job->spec);
	if ((jr->job_id = store_job_put(jr->store, job->task.name, spec,
	    cause)) < 0)
		goto fail;
	/* The log first: a new run's examples come from what it holds. */
	ingest_job_log(jr->store, jr->job_id, job, &notes);
	if ((open = store_run_open(jr->store, jr->job_id, kind, &step,
	    &state, cause)) < 0)
		goto fail;
	if (open > 0) {
		jr->run_id = open;
		jr->resumed = 1;
	}
	if (jobrun_examples(jr, &notes, cause) != 0)
		goto fail;
	/* Before a new run exists: one that cannot score is not started. */
	if (jobrun_learn(jr, &learned, cause) != 0)
		goto fail;
	if (!jr->resumed && (jr->run_id = store_run_new(jr->store, jr->job_id,
	    kind, jr->dataset_id, cause)) < 0) {
		jr->run_id = 0;
		goto fail;
	}
	jobrun_notes(jr, &notes);
	if (learned != NULL)
		jobrun_event(jr, "info", "%s", learned);
	/*
	 * Production evidence first: a challenger promoted now is the
	 * champion the search starts from.
	 */
	if (jobrun_challenger_decide(jr, cause) != 0)
		goto fail;
	if (store_job_set_state(jr->store, jr->job_id, "running", NULL,
	    cause) != 0)
		goto fail;
	jobrun_observe(job);
	jr->engine = engine_new(loop, jr->run_id, strcmp(kind, "refresh") ==
	    0 && jobrun_has_budget(&job->refresh_budget) ?
	    &job->refresh_budget : &job->budget, job->cache);
	engine_set_job(jr->engine, jr->job_id);
	if (jobrun_budgets(jr, cause) != 0 ||
	    jobrun_judge_evidence(jr, cause) != 0)
		goto fail;
	jobrun_search(jr);
	/* A synthetic round first, in the first step: the search waits. */
	if (jobrun_synth_due(jr, state != NULL))
		jr->synth_pending = 1;
	else if (jobrun_begin(jr, state, cause) != 0)
		goto fail;
	free(spec);
	free(state);
	free(learned);
	return 0;
fail:
	/* Told, if not with a run. */
	jobrun_notes(jr, &notes);
	free(spec);
	free(state);
	free(learned);
	return -1;
}

/*
 * Once a run has 10 replies of a role, warns (once) when fewer than half
 * were usable, naming the commonest failure with an example reply.
 */
static void
jobrun_warn_replies(struct jobrun *jr, const struct reply_tally t[TALLY_ROLES])
{
	char	*ex, *fails;
	int	 r;

	for (r = 0; r < TALLY_ROLES; r++) {
		if (jr->warned[r] || t[r].total < 10 || t[r].ok * 2 >=
		    t[r].total || t[r].commonest < 0)
			continue;
		jr->warned[r] = 1;
		ex = log_escape(t[r].excerpt != NULL ? t[r].excerpt : "", 160);
		fails = jobrun_tally_failures(&t[r]);
		jobrun_event(jr, "warn", "%s: only %lld of %lld replies "
		    "usable (%s); the commonest failure: %s (%s), e.g. \"%s\"",
		    jobrun_tally_roles[r], t[r].ok, t[r].total, fails,
		    reply_outcome_name((enum reply_outcome)t[r].commonest),
		    t[r].problem != NULL ? t[r].problem : "", ex);
		free(fails);
		free(ex);
	}
}

/* Tells the job about attempts that failed since it last heard. */
static int
jobrun_tell_failures(struct jobrun *jr, char **cause)
{
	char		*what;
	long long	 n;

	if ((what = jobrun_failures(jr->store, jr->run_id, jr->failures_seen,
	    3, &n, &jr->failures_seen, cause)) == NULL)
		return -1;
	if (n > 0)
		jobrun_event(jr, "warn", "%lld failed attempt%s: %s", n,
		    n == 1 ? "" : "s", what);
	free(what);
	return 0;
}

/*
 * Evaluations that failed for good (each tried twice): how many, out of
 * how many had, and the latest cause.  NULL when none failed.
 */
static char *
jobrun_given_up(const struct jobrun *jr, double *share)
{
	const struct search	*s = &jr->search;
	size_t			 failed = 0, had = 0, i;

	for (i = 0; i < s->ncands; i++) {
		failed += s->cands[i]->ngiven_up;
		had += s->cands[i]->nscored + s->cands[i]->ngiven_up;
	}
	*share = had > 0 ? (double)failed / (double)had : 0;
	if (failed == 0)
		return NULL;
	return xasprintf("%zu of %zu evaluations failed (each tried %d "
	    "times): %s", failed, had, SEARCH_TRIES, s->fail_cause != NULL ?
	    s->fail_cause : "unknown error");
}

/* A run most of whose evaluations fail cannot choose: it fails. */
static int
jobrun_failing(struct jobrun *jr, char **cause)
{
	double	 share, max = search_number(&jr->search, "max_failed");
	char	*failed;

	if ((failed = jobrun_given_up(jr, &share)) == NULL || share <= max) {
		free(failed);
		return 0;
	}
	/* The attempts behind it are told before the run ends. */
	(void)jobrun_tell_failures(jr, NULL);
	cause_set(cause, "%s; more than %.0f%% failed", failed, 100 * max);
	free(failed);
	return -1;
}

/*
 * A testing aid: PROMPTD_KILL_AT=STEP:N ends the process, as kill -9
 * would, after N answers of step STEP (0 is the first), so that a test
 * can crash a run at a chosen place without racing the clock.
 */
static void
jobrun_kill_hook(struct jobrun *jr)
{
	const char		*v = getenv("PROMPTD_KILL_AT");
	unsigned long long	 step, n;
	char			 colon;

	if (v == NULL || sscanf(v, "%llu%c%llu", &step, &colon, &n) != 3 ||
	    colon != ':' || step != (unsigned long long)jr->search.step ||
	    jr->resumed)
		return;
	engine_kill_after(jr->engine, (size_t)n);
}

/*
 * Whether the search may take another step: the budgets (the deadline
 * above all) are checked whether or not the last step paid for a call,
 * and so is the strategy's limit of steps.
 */
static int
jobrun_may_step(struct jobrun *jr)
{
	struct search	*s = &jr->search;
	long long	 max = search_int(s, "max_steps");

	if (engine_check(jr->engine) != ENGINE_OK)
		return 0;
	if (max > 0 && s->step >= max) {
		if (jr->stop == NULL)
			jr->stop = xasprintf("max_steps reached (%lld steps)",
			    max);
		return 0;
	}
	return 1;
}

int
jobrun_step(struct jobrun *jr, char **cause)
{
	struct search		*s = &jr->search;
	struct run_totals	 t;
	struct reply_tally	 tally[TALLY_ROLES];
	struct cand		*best;
	unsigned long		 before = s->progress;
	long long		 stall = search_int(s, "stall");
	char			*state, *replies;
	int			 rc, i, hooked = 0;

	if (jr->synth_pending) {
		jobrun_kill_hook(jr);
		hooked = 1;
		if (jobrun_synth(jr, cause) != 0 ||
		    jobrun_begin(jr, NULL, cause) != 0)
			return -1;
		jr->synth_pending = 0;
	}
	if (jr->no_dev || !jobrun_may_step(jr))
		return 0;
	if (!hooked)
		jobrun_kill_hook(jr);
	/* The step's random stream depends only on (job seed, step). */
	rng_seed(&s->rng, (uint64_t)jr->job->task.seed, (uint64_t)s->step);
	/*
	 * The seeds are scored before the first step, whether or not a crash
	 * interrupted it: a resumed run takes the path a fresh one takes
	 * (its stored scores were given back to its candidates).
	 */
	if (s->step == 0 && (search_evaluate(s, s->cands, s->ncands,
	    cause) != 0 || jobrun_failing(jr, cause) != 0))
		return -1;
	if ((rc = s->ops->step(s, cause)) < 0)
		return -1;
	s->step++;
	jr->resumed = 0;
	/* A step that added nothing (all answers cached, none usable). */
	jr->stalls = s->progress != before ? 0 : jr->stalls + 1;
	engine_totals(jr->engine, &t);
	state = jobrun_save(jr);
	if (store_run_checkpoint(jr->store, jr->run_id, s->step, state, &t,
	    cause) != 0) {
		free(state);
		return -1;
	}
	free(state);
	best = search_best(s);
	if (jobrun_tally(jr->store, jr->run_id, tally, cause) != 0)
		return -1;
	for (i = 0; i < TALLY_ROLES; i++) {
		jr->usable[i] = tally[i].ok;
		jr->replies[i] = tally[i].total;
	}
	replies = jobrun_tally_text(tally);
	jobrun_event(jr, "info", "step %d: %zu candidates, best %.3f [%.3f, "
	    "%.3f], %lld calls, $%.4f%s", s->step, s->ncands, best != NULL ?
	    best->mean : 0.0, best != NULL ? best->lo : 0.0, best != NULL ?
	    best->hi : 0.0, t.calls, t.dollars, replies);
	free(replies);
	jobrun_warn_replies(jr, tally);
	jobrun_tally_release(tally);
	if (jobrun_tell_failures(jr, cause) != 0 || jobrun_failing(jr,
	    cause) != 0)
		return -1;
	if (rc == 1 && stall > 0 && jr->stalls >= stall) {
		jr->stop = xasprintf("stalled: %d steps in a row added no "
		    "candidate, score or comparison", jr->stalls);
		jobrun_event(jr, "warn", "%s", jr->stop);
		return 0;
	}
	if (rc == 1 && !jobrun_may_step(jr))
		return 0;
	return rc;
}

/*
 * Scores the champion on the test split, for the record, and stores the
 * score with the job's latest champion version.  jobrun_promote() makes
 * c that version's candidate in every case that sets jr->champion: c
 * was just promoted, or the run's best is the champion already, or the
 * champion held its place against it.  In the last two the version gets
 * this run's measure in place of an earlier one: the test split is the
 * held-out check of the prompt in use, and a refresh may have brought
 * new data (on the same data the cached calls give the same score).
 */
static int
jobrun_test(struct jobrun *jr, struct cand *c, char **cause)
{
	struct eval_item	*items;
	struct eval_batch	*b;
	struct champion		 ch;
	double			*x;
	size_t			*test, ntest, i, n = 0;
	struct summary		 sum;
	int			 rc;

	test = jobrun_split(jr->job->task.dataset, SPLIT_TEST, &ntest);
	if (ntest == 0) {
		free(test);
		return 0;
	}
	items = xcalloc(ntest, sizeof *items);
	for (i = 0; i < ntest; i++) {
		items[i].prompt = c->text;
		items[i].demos = &c->demos;
		items[i].candidate = c->id;
		items[i].example = test[i];
	}
	b = eval_start(jr->engine, &jr->job->task, items, ntest);
	rc = search_wait(&jr->search, cause);
	eval_end(b);
	x = xcalloc(ntest, sizeof *x);
	for (i = 0; i < ntest; i++)
		if (items[i].done)
			x[n++] = items[i].score;
	stats_summary(x, n, 0.95, &sum);
	if (n > 0) {
		jr->test_score = sum.mean;
		jobrun_event(jr, "info", "champion on test: %.3f [%.3f, %.3f] "
		    "over %zu examples", sum.mean, sum.lo, sum.hi, n);
	}
	if (rc == 0 && n > 0 && (rc = store_champion_latest(jr->store,
	    jr->job_id, &ch, cause)) == 1)
		rc = ch.candidate != c->id ? 0 : store_champion_set_test(
		    jr->store, jr->job_id, ch.version, sum.mean, sum.lo,
		    sum.hi, (long long)n, cause);
	free(x);
	eval_items_release(items, ntest);
	free(items);
	free(test);
	return rc;
}

/*
 * Promotes c if there is no champion yet, or if a paired test on the dev
 * examples both have scores beats the champion at the job's alpha and by
 * at least min_delta.  With the job's risk bound, which c is within
 * (jobrun_risk_pick() chose it), as evidence.
 */
static int
jobrun_promote(struct jobrun *jr, struct cand *c, char **cause)
{
	struct search		*s = &jr->search;
	struct champion		 ch;
	struct champion_record	 rec;
	struct cand		*old = NULL;
	double			 p = NAN, delta = NAN;
	size_t			 i, n = 0;
	char			*reason;
	int			 rc;

	if ((rc = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (rc == 1 && ch.candidate == c->id) {
		jr->champion = c;	/* the champion holds its place */
		return 0;
	}
	if (rc == 1) {
		for (i = 0; i < s->ncands; i++)
			if (s->cands[i]->id == ch.candidate)
				old = s->cands[i];
		if (old == NULL) {
			jobrun_event(jr, "info", "champion %d is not among this "
			    "run's candidates; keeping it", ch.version);
			return 0;
		}
		if (search_evaluate(s, &old, 1, cause) != 0)
			return -1;
		p = stats_paired_p_scored(c->scores, old->scores, s->ndev,
		    &n);
		delta = c->mean - old->mean;
		/* A shorter one as good as the champion replaces it. */
		if (old != jr->shorter_of && (p >= jr->job->alpha ||
		    delta < jr->job->min_delta)) {
			jobrun_event(jr, "info", "no promotion: the best "
			    "(%.3f) against champion %d (%.3f): delta %.3f, "
			    "paired p = %.3g (need p < %g and delta >= %g)",
			    c->mean, ch.version, old->mean, delta, p,
			    jr->job->alpha, jr->job->min_delta);
			jr->champion = old;
			return 0;
		}
		reason = xasprintf("%s champion %d on %zu dev examples: "
		    "%.3f against %.3f, paired p = %.3g", old == jr->shorter_of ?
		    "in place of" : "beats", ch.version, n, c->mean, old->mean,
		    p);
	} else
		reason = xasprintf("best of %zu candidates on %zu dev "
		    "examples", s->ncands, s->ndev);
	reason = jobrun_shorter_reason(jr, c, reason);
	memset(&rec, 0, sizeof rec);
	rec.job = jr->job_id;
	rec.candidate = c->id;
	rec.run = jr->run_id;
	rec.score = c->mean;
	rec.lo = c->lo;
	rec.hi = c->hi;
	rec.p = p;
	rec.delta = delta;
	rec.paired = (long long)n;
	rec.reason = reason;
	jobrun_risk_bound(jr, c, &rec.risk);
	rc = store_champion_add(jr->store, &rec, cause);
	if (rc == 0) {
		jr->promoted = 1;
		jr->champion = c;
		jobrun_event(jr, "info", "promoted: %.3f [%.3f, %.3f]: %s",
		    c->mean, c->lo, c->hi, reason);
	}
	free(reason);
	return rc;
}

int
jobrun_sidecar(const char *path, cJSON *o, char **cause)
{
	char	*json, *side, *text;
	int	 rc;

	json = cJSON_Print(o);
	cJSON_Delete(o);
	side = xasprintf("%s.json", path);
	text = xasprintf("%s\n", json);
	rc = file_write_atomic(side, text, cause);
	free(text);
	free(side);
	free(json);
	return rc;
}

int
jobrun_prompt_file(struct jobrun *jr, const char *path, const char *prompt,
    const struct demos *demos, cJSON *o, char **cause)
{
	char	*full, *text;
	int	 rc;

	full = task_prompt_text(&jr->job->task, prompt, demos);
	text = xasprintf("%s\n", full);
	rc = file_write_atomic(path, text, cause);
	free(text);
	free(full);
	if (o != NULL && demos != NULL && demos->n > 0) {
		cJSON_AddStringToObject(o, "instruction", prompt);
		cJSON_AddStringToObject(o, "demo_placement",
		    jr->job->task.demos == DEMOS_INLINE ? "inline" : "turns");
		cJSON_AddItemToObject(o, "demos", demos_to_json(demos));
	}
	return rc;
}

int
jobrun_export_text(struct jobrun *jr, const char *prompt,
    const struct demos *demos, char **cause)
{
	struct champion	 ch;
	cJSON		*o;

	if (jr->job->export_path == NULL)
		return 0;
	if (!jr->job->export_sidecar)
		return jobrun_prompt_file(jr, jr->job->export_path, prompt,
		    demos, NULL, cause);
	if (store_champion_latest(jr->store, jr->job_id, &ch, cause) < 0)
		return -1;
	o = cJSON_CreateObject();
	if (jobrun_prompt_file(jr, jr->job->export_path, prompt, demos, o,
	    cause) != 0) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_AddStringToObject(o, "job", jr->job->task.name);
	cJSON_AddNumberToObject(o, "version", ch.version);
	cJSON_AddNumberToObject(o, "candidate", (double)ch.candidate);
	cJSON_AddNumberToObject(o, "score", ch.score);
	cJSON_AddNumberToObject(o, "lo", ch.lo);
	cJSON_AddNumberToObject(o, "hi", ch.hi);
	if (!isnan(jr->test_score))
		cJSON_AddNumberToObject(o, "test_score", jr->test_score);
	cJSON_AddNumberToObject(o, "time", time_now());
	cJSON_AddStringToObject(o, "model",
	    jr->job->task.roles[ROLE_TARGET]->model);
	return jobrun_sidecar(jr->job->export_path, o, cause);
}

static int
jobrun_export(struct jobrun *jr, char **cause)
{
	if (jr->champion == NULL)
		return 0;
	return jobrun_export_text(jr, jr->champion->text,
	    &jr->champion->demos, cause);
}

/*
 * The run's starting point (the first seed, or the champion for a
 * refresh) scored on all of dev even if racing dropped it, so the best
 * can be reported against it on the same examples.
 */
static int
jobrun_baseline(struct jobrun *jr, struct cand *best, char **cause)
{
	struct search	*s = &jr->search;
	struct cand	*first;
	int		 racing = s->racing;

	if (s->ncands == 0 || (first = s->cands[0]) == best)
		return 0;
	s->racing = 0;
	first->raced_out = 0;
	if (search_evaluate(s, &first, 1, cause) != 0) {
		s->racing = racing;
		return -1;
	}
	s->racing = racing;
	jobrun_event(jr, "info", "the best %.3f [%.3f, %.3f] against %.3f "
	    "[%.3f, %.3f] for the %s, on %zu dev examples", best->mean,
	    best->lo, best->hi, first->mean, first->lo, first->hi,
	    strcmp(jr->kind, "refresh") == 0 ? "champion" : "first seed",
	    s->ndev);
	return 0;
}

/* Why a run without dev examples promotes the first seed prompt. */
#define JOBRUN_NO_DEV	"no dev examples yet: the first seed prompt, until " \
	"feedback brings some"

/*
 * A run without dev examples (a job whose examples come from feedback,
 * before any came) has nothing to choose with: the first seed prompt
 * becomes the champion unscored, so that it is exported, used and given
 * feedback on.  A champion there already holds its place.  A refresh
 * with dev examples then tests its candidates against it as usual.
 */
static int
jobrun_no_dev(struct jobrun *jr, char **cause)
{
	struct search		*s = &jr->search;
	struct champion		 ch;
	struct champion_record	 rec;
	int			 rc;

	if ((rc = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (rc == 1) {
		if ((jr->champion = search_add_stored(s, ch.candidate,
		    "champion", cause)) == NULL)
			return -1;
		jr->stop = xasprintf("no dev examples yet: champion %d holds "
		    "its place until feedback brings some", ch.version);
		jobrun_event(jr, "info", "%s", jr->stop);
		return 0;
	}
	if (s->ncands == 0)
		return cause_set(cause, "job '%s' has no seed prompt",
		    jr->job->task.name);
	memset(&rec, 0, sizeof rec);
	rec.job = jr->job_id;
	rec.candidate = s->cands[0]->id;
	rec.run = jr->run_id;
	rec.score = rec.lo = rec.hi = rec.p = rec.delta = NAN;
	rec.reason = JOBRUN_NO_DEV;
	if (store_champion_add(jr->store, &rec, cause) != 0)
		return -1;
	jr->promoted = 1;
	jr->champion = s->cands[0];
	jr->stop = xstrdup(JOBRUN_NO_DEV);
	jobrun_event(jr, "info", "promoted: %s", JOBRUN_NO_DEV);
	return 0;
}

/*
 * Why a budget stopped the run, and what its failed attempts say when
 * it had any (a backend that is down spends a deadline waiting).
 */
static char *
jobrun_stopped(struct jobrun *jr, enum engine_stop stop)
{
	const struct backend	*down;
	char			*what, *why;
	long long		 n;
	int64_t			 last = 0;

	what = jobrun_failures(jr->store, jr->run_id, 0, 1, &n, &last, NULL);
	down = engine_waiting(jr->engine);
	if (down != NULL)
		why = xasprintf("%s; backend '%s' is down (%s)",
		    engine_stop_reason(stop), down->name,
		    down->health.cause != NULL ? down->health.cause : "?");
	else if (what != NULL && n > 0)
		why = xasprintf("%s; %lld failed attempt%s: %s",
		    engine_stop_reason(stop), n, n == 1 ? "" : "s", what);
	else
		why = xstrdup(engine_stop_reason(stop));
	free(what);
	return why;
}

/* The reasons that are there, joined by "; ". */
static char *
jobrun_join(const char *a, const char *b, const char *c, const char *d)
{
	const char	*v[4] = { a, b, c, d };
	struct strbuf	 sb;
	size_t		 i;

	strbuf_init(&sb);
	for (i = 0; i < nitems(v); i++)
		if (v[i] != NULL)
			strbuf_addf(&sb, "%s%s", sb.len > 0 ? "; " : "", v[i]);
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
}

/*
 * Why a run that could not do its work ends as it does: no optimizer
 * reply was usable (nothing is promoted then: the search found nothing
 * to put forward), or no judge verdict was.  NULL when it did its work.
 */
static char *
jobrun_futile(struct jobrun *jr, int *promote, char **cause)
{
	static const char *const what[TALLY_ROLES] = {
		"proposals", "verdicts"
	};
	struct reply_tally	 t[TALLY_ROLES];
	char			*fails, *why = NULL;
	int			 r;

	*promote = 1;
	if (jobrun_tally(jr->store, jr->run_id, t, cause) != 0)
		return NULL;
	for (r = 0; r < TALLY_ROLES && why == NULL; r++) {
		if (t[r].total == 0 || t[r].ok > 0)
			continue;
		fails = jobrun_tally_failures(&t[r]);
		why = xasprintf("no usable %s (%lld %s repl%s: %s; the last "
		    "said: %s)", what[r], t[r].total, jobrun_tally_roles[r],
		    t[r].total == 1 ? "y" : "ies", fails,
		    t[r].problem != NULL ? t[r].problem : "?");
		free(fails);
		if (r == TALLY_OPTIMIZER)
			*promote = 0;
	}
	jobrun_tally_release(t);
	return why;
}

int
jobrun_finish(struct jobrun *jr, char **cause)
{
	struct run_totals	 t;
	struct cand		*best;
	enum engine_stop	 stop = engine_stopped(jr->engine);
	char			*futile, *failed, *err = NULL, *screen;
	double			 share;
	int			 promote;

	futile = jobrun_futile(jr, &promote, &err);
	if (err != NULL) {
		free(*cause);
		*cause = err;
		return -1;
	}
	best = promote && !jr->no_dev ? search_best(&jr->search) : NULL;
	best = jobrun_shorter_pick(jr, jobrun_risk_pick(jr, best));
	if (!promote)
		jobrun_event(jr, "warn", "%s; nothing is promoted", futile);
	if (jr->no_dev) {
		if (jobrun_no_dev(jr, cause) != 0 ||
		    jobrun_export(jr, cause) != 0)
			return -1;
	} else if (best != NULL && stop == ENGINE_OK) {
		if (jobrun_baseline(jr, best, cause) != 0)
			return -1;
		if (jobrun_promote(jr, best, cause) != 0)
			return -1;
		if (jr->champion != NULL &&
		    jobrun_test(jr, jr->champion, cause) != 0)
			return -1;
		if (jobrun_export(jr, cause) != 0 ||
		    jobrun_challenger_leave(jr, best, cause) != 0)
			return -1;
	} else if (best != NULL) {
		/* Out of budget: the best so far still becomes champion if
		 * it is the first. */
		if (jobrun_promote(jr, best, cause) != 0)
			return -1;
		if (jobrun_export(jr, cause) != 0)
			return -1;
	}
	jr->status = stop == ENGINE_OK ? "done" : "exhausted";
	free(jr->reason);
	jr->reason = stop != ENGINE_OK ? jobrun_stopped(jr, stop) : NULL;
	/* Each reason the run gives, most telling first. */
	failed = jobrun_given_up(jr, &share);
	if (futile != NULL || jr->stop != NULL || failed != NULL) {
		err = jr->reason;
		jr->reason = jobrun_join(futile, jr->stop, failed, err);
		free(err);
	}
	free(failed);
	free(futile);
	engine_totals(jr->engine, &t);
	if (store_run_finish(jr->store, jr->run_id, jr->status, &t,
	    cause) != 0)
		return -1;
	if (store_job_set_state(jr->store, jr->job_id, jr->status, jr->reason,
	    cause) != 0)
		return -1;
	if (jobrun_judge_agreement(jr, cause) != 0)
		return -1;
	screen = search_screen_text(&jr->search);
	jobrun_event(jr, "info", "run %lld %s after %d steps: %lld calls, "
	    "%lld cache hits, %lld tokens, $%.4f%s%s", (long long)jr->run_id,
	    jr->status, jr->search.step, t.calls, t.hits, t.tokens,
	    t.dollars, screen != NULL ? "; " : "", screen != NULL ? screen :
	    "");
	free(screen);
	return 0;
}

void
jobrun_abort(struct jobrun *jr, const char *status, const char *reason)
{
	struct run_totals	 t;
	char			*futile = NULL;
	int			 promote;

	memset(&t, 0, sizeof t);
	if (jr->engine != NULL)
		engine_totals(jr->engine, &t);
	jr->status = status;
	/* What the replies say may be why the run could not go on. */
	if (jr->run_id > 0)
		futile = jobrun_futile(jr, &promote, NULL);
	free(jr->reason);
	jr->reason = jobrun_join(reason != NULL ? reason : status, futile, NULL,
	    NULL);
	free(futile);
	if (jr->run_id > 0)
		store_run_finish(jr->store, jr->run_id, status, &t, NULL);
	if (jr->job_id > 0)
		store_job_set_state(jr->store, jr->job_id, status, jr->reason,
		    NULL);
}

void
jobrun_release(struct jobrun *jr)
{
	search_release(&jr->search);
	engine_free(jr->engine);
	free(jr->reason);
	free(jr->stop);
	free(jr->shorter);
	jr->shorter = NULL;
	jr->shorter_of = NULL;
	jr->engine = NULL;
	jr->reason = NULL;
	jr->stop = NULL;
}
