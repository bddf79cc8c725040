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
#include "job.h"
#include "jobrun.h"
#include "log.h"
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
		if (job->roles[r] != NULL && job->roles[r]->ops->observe != NULL)
			job->roles[r]->ops->observe(job->roles[r],
			    job->task.dataset, inputs, n, job->task.target);
	free(inputs);
}

static void
jobrun_event(struct jobrun *jr, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
jobrun_event(struct jobrun *jr, const char *level, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_info("job '%s': %s", jr->job->name, msg);
	store_event(jr->store, jr->job_id, jr->run_id, level, msg, NULL);
	free(msg);
}

/* The dataset indices of a split, in the dataset's order. */
static size_t *
jobrun_split(const struct dataset *ds, enum split sp, size_t *n)
{
	size_t	*out, i;

	out = xcalloc(ds->n + 1, sizeof *out);
	*n = 0;
	for (i = 0; i < ds->n; i++)
		if (ds->ex[i].split == sp)
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
		t = cJSON_GetObjectItemCaseSensitive(v, "text");
		if (!cJSON_IsString(t))
			continue;
		if ((c = search_add(s, t->valuestring, "resume", NULL, 0, NULL,
		    NULL, cause)) == NULL)
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
 * A resumed run goes on counting from its checkpoint; the job's total
 * budget counts what its other runs spent.
 */
static int
jobrun_budgets(struct jobrun *jr, char **cause)
{
	struct run_totals	sum, other;
	struct run_row		latest;
	struct job_row		row;
	int			nruns, rc;

	if ((rc = store_job_runs(jr->store, jr->job_id, &nruns, &sum, &latest,
	    cause)) < 0)
		return -1;
	other = sum;
	if (rc == 1 && latest.id == jr->run_id) {
		engine_resume_totals(jr->engine, &latest.totals);
		other.calls -= latest.totals.calls;
		other.hits -= latest.totals.hits;
		other.tokens -= latest.totals.tokens;
		other.dollars -= latest.totals.dollars;
	}
	if (!jobrun_has_budget(&jr->job->total_budget))
		return 0;
	if (store_job_get(jr->store, jr->job->name, &row, cause) != 1)
		return -1;
	engine_set_job_budget(jr->engine, &jr->job->total_budget, &other,
	    row.created);
	store_job_row_release(&row);
	return 0;
}

/*
 * A refresh starts from the champion and the job's best candidates so
 * far, all scored again on today's data and model; the seeds are only
 * used when the job has no history.
 */
#define REFRESH_TOP	5

static int
jobrun_refresh_pool(struct jobrun *jr, char **cause)
{
	struct search	*s = &jr->search;
	struct champion	 ch;
	int64_t		*ids = NULL;
	char		**texts = NULL, *text;
	size_t		 n = 0, i;
	int		 rc, have;

	jobrun_event(jr, "info", "refresh: the dataset %s", jr->dataset_changed ?
	    "changed since the last run" : "is unchanged");
	if ((have = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return -1;
	if (have) {
		if ((text = store_candidate_text(jr->store, ch.candidate,
		    cause)) == NULL)
			return -1;
		if (search_add(s, text, "champion", NULL, 0, NULL, NULL,
		    cause) == NULL) {
			free(text);
			return -1;
		}
		free(text);
	}
	rc = store_candidates_top(jr->store, jr->job_id, REFRESH_TOP, 1, &ids,
	    &texts, &n, cause);
	for (i = 0; i < n; i++) {
		if (rc == 0 && search_add(s, texts[i], "refresh", NULL, 0, NULL,
		    NULL, cause) == NULL)
			rc = -1;
		free(texts[i]);
	}
	free(texts);
	free(ids);
	for (i = 0; rc == 0 && s->ncands == 0 && i < jr->job->nseeds; i++)
		if (search_add(s, jr->job->seeds[i], "seed", NULL, 0, NULL,
		    NULL, cause) == NULL)
			rc = -1;
	return rc;
}

int
jobrun_start(struct jobrun *jr, struct job *job, struct engine_loop *loop,
    const char *kind, char **cause)
{
	struct search	*s = &jr->search;
	char		*spec = NULL, *state = NULL;
	size_t		 i;
	int		 step = 0;
	int64_t		 open;

	memset(jr, 0, sizeof *jr);
	jr->job = job;
	jr->kind = kind;
	jr->store = engine_loop_store(loop);
	jr->test_score = NAN;
	if (job->strategy == NULL)
		return cause_set(cause, "job '%s' has no strategy", job->name);
	spec = cJSON_PrintUnformatted(job->spec);
	if ((jr->job_id = store_job_put(jr->store, job->name, spec,
	    cause)) < 0)
		goto fail;
	if ((jr->dataset_id = store_dataset_snapshot(jr->store, jr->job_id,
	    job->task.dataset, &jr->dataset_changed, cause)) < 0)
		goto fail;
	if ((open = store_run_open(jr->store, jr->job_id, kind, &step,
	    &state, cause)) < 0)
		goto fail;
	if (open > 0) {
		jr->run_id = open;
		jr->resumed = 1;
	} else if ((jr->run_id = store_run_new(jr->store, jr->job_id,
	    kind, jr->dataset_id, cause)) < 0)
		goto fail;
	if (store_job_set_state(jr->store, jr->job_id, "running", NULL,
	    cause) != 0)
		goto fail;
	jobrun_observe(job);
	jr->engine = engine_new(loop, jr->run_id, strcmp(kind, "refresh") ==
	    0 && jobrun_has_budget(&job->refresh_budget) ?
	    &job->refresh_budget : &job->budget, job->cache);
	if (jobrun_budgets(jr, cause) != 0)
		goto fail;

	s->ops = strategy_lookup(job->strategy);
	s->job = job;
	s->store = jr->store;
	s->engine = jr->engine;
	s->job_id = jr->job_id;
	s->run_id = jr->run_id;
	s->params = cJSON_Duplicate(job->strategy_params, 1);
	s->dev = jobrun_split(job->task.dataset, SPLIT_DEV, &s->ndev);
	s->train = jobrun_split(job->task.dataset, SPLIT_TRAIN, &s->ntrain);
	s->racing = search_bool(s, "racing");
	s->block = (size_t)search_int(s, "block");
	if (s->block == 0)
		s->block = s->ndev / 5 < 5 ? 5 : s->ndev / 5;
	if (*search_string(s, "prompts") != '\0')
		s->prompts_dir = path_relative_to(job->file,
		    search_string(s, "prompts"));
	if (strcmp(kind, "refresh") == 0) {
		if (jobrun_refresh_pool(jr, cause) != 0)
			goto fail;
	} else {
		for (i = 0; i < job->nseeds; i++)
			if (search_add(s, job->seeds[i], "seed", NULL, 0, NULL,
			    NULL, cause) == NULL)
				goto fail;
	}
	if (jr->resumed && state != NULL) {
		if (jobrun_load(jr, state, cause) != 0)
			goto fail;
		jobrun_event(jr, "info", "resuming run %lld at step %d with %zu "
		    "candidates", (long long)jr->run_id, s->step, s->ncands);
	} else {
		if (s->ops->init(s, cause) != 0)
			goto fail;
		jobrun_event(jr, "info", "run %lld: %s search on %zu dev "
		    "examples from %zu seed prompt%s", (long long)jr->run_id,
		    s->ops->name, s->ndev, job->nseeds, job->nseeds == 1 ?
		    "" : "s");
	}
	free(spec);
	free(state);
	return 0;
fail:
	free(spec);
	free(state);
	return -1;
}

static int
jobrun_rescore(struct search *s, char **cause)
{
	struct cand	**live;
	size_t		  n = 0, i;
	int		  racing = s->racing, rc;

	live = xcalloc(s->ncands + 1, sizeof *live);
	for (i = 0; i < s->ncands; i++)
		if (!s->cands[i]->raced_out)
			live[n++] = s->cands[i];
	s->racing = 0;
	rc = search_evaluate(s, live, n, cause);
	s->racing = racing;
	free(live);
	return rc;
}

int
jobrun_step(struct jobrun *jr, char **cause)
{
	struct search		*s = &jr->search;
	struct run_totals	 t;
	struct cand		*best;
	char			*state;
	int			 rc;

	if (engine_stopped(jr->engine) != ENGINE_OK)
		return 0;
	/* The step's random stream depends only on (job seed, step). */
	rng_seed(&s->rng, (uint64_t)jr->job->seed, (uint64_t)s->step);
	if (s->step == 0 && !jr->resumed) {
		if (search_evaluate(s, s->cands, s->ncands, cause) != 0)
			return -1;
	} else if (jr->resumed) {
		/*
		 * Scores are not in the checkpoint: everyone still in the race
		 * is scored again on all of dev, without racing (so nobody is
		 * cut short this time), and the cache answers.
		 */
		if (jobrun_rescore(s, cause) != 0)
			return -1;
		jr->resumed = 0;
	}
	if ((rc = s->ops->step(s, cause)) < 0)
		return -1;
	s->step++;
	engine_totals(jr->engine, &t);
	state = jobrun_save(jr);
	if (store_run_checkpoint(jr->store, jr->run_id, s->step, state, &t,
	    cause) != 0) {
		free(state);
		return -1;
	}
	free(state);
	best = search_best(s);
	jobrun_event(jr, "info", "step %d: %zu candidates, best %.3f [%.3f, "
	    "%.3f], %lld calls, $%.4f", s->step, s->ncands, best != NULL ?
	    best->mean : 0.0, best != NULL ? best->lo : 0.0, best != NULL ?
	    best->hi : 0.0, t.calls, t.dollars);
	if (engine_stopped(jr->engine) != ENGINE_OK)
		return 0;
	return rc;
}

/* Scores the champion on the test split, for the record. */
static int
jobrun_test(struct jobrun *jr, struct cand *c, char **cause)
{
	struct eval_item	*items;
	struct eval_batch	*b;
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
		items[i].candidate = c->id;
		items[i].example = test[i];
	}
	b = engine_eval_start(jr->engine, jr->job, items, ntest);
	rc = search_wait(&jr->search, cause);
	engine_eval_end(b);
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
	free(x);
	eval_items_release(items, ntest);
	free(items);
	free(test);
	return rc;
}

/*
 * Promotes c if there is no champion yet, or if a paired test on the dev
 * examples both have scores beats the champion at the job's alpha and by
 * at least min_delta.
 */
static int
jobrun_promote(struct jobrun *jr, struct cand *c, char **cause)
{
	struct search		*s = &jr->search;
	struct champion		 ch;
	struct cand		*old = NULL;
	double			*a, *b, p = 0, delta;
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
		a = xcalloc(s->ndev, sizeof *a);
		b = xcalloc(s->ndev, sizeof *b);
		for (i = 0; i < s->ndev; i++) {
			if (isnan(c->scores[i]) || isnan(old->scores[i]))
				continue;
			a[n] = c->scores[i];
			b[n++] = old->scores[i];
		}
		p = stats_paired_p(a, b, n);
		free(a);
		free(b);
		delta = c->mean - old->mean;
		if (p >= jr->job->alpha || delta < jr->job->min_delta) {
			jobrun_event(jr, "info", "no promotion: the best "
			    "(%.3f) against champion %d (%.3f): delta %.3f, "
			    "paired p = %.3g (need p < %g and delta >= %g)",
			    c->mean, ch.version, old->mean, delta, p,
			    jr->job->alpha, jr->job->min_delta);
			jr->champion = old;
			return 0;
		}
		reason = xasprintf("beats champion %d on %zu dev examples: "
		    "%.3f against %.3f, paired p = %.3g", ch.version, n,
		    c->mean, old->mean, p);
	} else
		reason = xasprintf("best of %zu candidates on %zu dev "
		    "examples", s->ncands, s->ndev);
	rc = store_champion_add(jr->store, jr->job_id, c->id, c->mean, c->lo,
	    c->hi, reason, cause);
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
export_atomic(const char *path, const char *text, char **cause)
{
	char	*tmp;
	int	 fd;
	size_t	 len = strlen(text), off = 0;
	ssize_t	 n;

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		cause_set(cause, "cannot create '%s': %s", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	cause_set(cause, "cannot write '%s': %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
jobrun_export(struct jobrun *jr, char **cause)
{
	struct champion	 ch;
	cJSON		*o;
	char		*text, *side, *json;
	int		 rc;

	if (jr->job->export_path == NULL || jr->champion == NULL)
		return 0;
	text = xasprintf("%s\n", jr->champion->text);
	rc = export_atomic(jr->job->export_path, text, cause);
	free(text);
	if (rc != 0 || !jr->job->export_sidecar)
		return rc;
	if (store_champion_latest(jr->store, jr->job_id, &ch, cause) < 0)
		return -1;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "job", jr->job->name);
	cJSON_AddNumberToObject(o, "version", ch.version);
	cJSON_AddNumberToObject(o, "candidate", (double)ch.candidate);
	cJSON_AddNumberToObject(o, "score", ch.score);
	cJSON_AddNumberToObject(o, "lo", ch.lo);
	cJSON_AddNumberToObject(o, "hi", ch.hi);
	if (!isnan(jr->test_score))
		cJSON_AddNumberToObject(o, "test_score", jr->test_score);
	cJSON_AddNumberToObject(o, "time", time_now());
	cJSON_AddStringToObject(o, "model",
	    jr->job->roles[ROLE_TARGET]->model);
	json = cJSON_Print(o);
	cJSON_Delete(o);
	side = xasprintf("%s.json", jr->job->export_path);
	text = xasprintf("%s\n", json);
	rc = export_atomic(side, text, cause);
	free(text);
	free(side);
	free(json);
	return rc;
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

int
jobrun_finish(struct jobrun *jr, char **cause)
{
	struct run_totals	 t;
	struct cand		*best;
	enum engine_stop	 stop = engine_stopped(jr->engine);

	best = search_best(&jr->search);
	if (best != NULL && stop == ENGINE_OK) {
		if (jobrun_baseline(jr, best, cause) != 0)
			return -1;
		if (jobrun_promote(jr, best, cause) != 0)
			return -1;
		if (jr->champion != NULL &&
		    jobrun_test(jr, jr->champion, cause) != 0)
			return -1;
		if (jobrun_export(jr, cause) != 0)
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
	jr->reason = stop == ENGINE_OK ? NULL :
	    xstrdup(engine_stop_reason(stop));
	engine_totals(jr->engine, &t);
	if (store_run_finish(jr->store, jr->run_id, jr->status, &t,
	    cause) != 0)
		return -1;
	if (store_job_set_state(jr->store, jr->job_id, jr->status, jr->reason,
	    cause) != 0)
		return -1;
	jobrun_event(jr, "info", "run %lld %s after %d steps: %lld calls, "
	    "%lld cache hits, %lld tokens, $%.4f", (long long)jr->run_id,
	    jr->status, jr->search.step, t.calls, t.hits, t.tokens,
	    t.dollars);
	return 0;
}

void
jobrun_abort(struct jobrun *jr, const char *status, const char *reason)
{
	struct run_totals	t;

	memset(&t, 0, sizeof t);
	if (jr->engine != NULL)
		engine_totals(jr->engine, &t);
	jr->status = status;
	if (jr->run_id > 0)
		store_run_finish(jr->store, jr->run_id, status, &t, NULL);
	if (jr->job_id > 0)
		store_job_set_state(jr->store, jr->job_id, status, reason,
		    NULL);
}

void
jobrun_release(struct jobrun *jr)
{
	search_release(&jr->search);
	engine_free(jr->engine);
	free(jr->reason);
	jr->engine = NULL;
	jr->reason = NULL;
}
