/*
 * The surrogate filter (PROMST's score prediction, Chen et al., "PRompt
 * Optimization in Multi-Step Tasks", 2024): before new proposals are
 * scored on dev, a model fitted on the candidates scored so far predicts
 * their dev means from their embeddings (src/surrogate.c), and only the
 * predicted best share of them is scored.  The rest are screened out
 * (marked raced_out, so that nothing scores them on dev later), but for
 * a random share of them, the audit, which is scored anyway so that the
 * filter's misses are counted: an audited proposal that beats the median
 * of those the filter let through is one it would have lost.
 *
 * Replay after a crash: the model is fitted on the candidates that were
 * scored on all of dev at the last checkpoint (their ids are saved with
 * it), with their dev scores, which are stored; the ranking breaks ties
 * by candidate id and the audit's draws depend only on the job's seed,
 * the step and the candidate.  So an interrupted step that is replayed
 * screens the same proposals out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hash.h"
#include "jsonc.h"
#include "log.h"
#include "rng.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "surrogate.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* The dimension of the hashed text features without an embedder. */
#define SCREEN_DIM	256
/* The latest candidates of the snapshot the model is fitted on, at most. */
#define SCREEN_MAX_TRAIN	512

/* A candidate's embedding, kept for the life of the search. */
struct screen_emb {
	int64_t		 id;
	float		*vec;
};

/* An id list. */
struct screen_ids {
	int64_t		*v;
	size_t		 n;
};

struct search_screen {
	struct screen_ids	 train;	/* scored on all of dev at the
					   last checkpoint */
	struct screen_ids	 out;	/* screened out and not scored since */
	/* What the filter did in the run (saved with the checkpoint). */
	unsigned long		 screens;	/* screenings with a model */
	unsigned long		 proposals;	/* new proposals they saw */
	unsigned long		 kept;		/* let through */
	unsigned long		 screened;	/* screened out (not audited) */
	unsigned long		 audited;
	unsigned long		 compared;	/* audited and scored on all
						   of dev, with kept ones */
	unsigned long		 missed;	/* of those, above the median */
	unsigned long		 kept_examples;	/* dev examples the kept
						   were scored on */
	/* The last screening, until search_screen_done(). */
	int			 pending;
	struct cand		**pkept;
	size_t			*pbefore;	/* their examples before */
	size_t			  npkept;
	struct cand		**paudit;
	size_t			  npaudit;
	size_t			  pn;		/* the proposals screened */
	/* Embeddings, by candidate. */
	struct screen_emb	*emb;
	size_t			 nemb;
	size_t			 dim;
};

static int
ids_has(const struct screen_ids *l, int64_t id)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return 1;
	return 0;
}

static void
ids_add(struct screen_ids *l, int64_t id)
{
	if (ids_has(l, id))
		return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = id;
}

static void
ids_remove(struct screen_ids *l, int64_t id)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == id) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) *
			    sizeof *l->v);
			l->n--;
			return;
		}
}

static struct search_screen *
screen_get(struct search *s)
{
	if (s->screen == NULL)
		s->screen = xcalloc(1, sizeof *s->screen);
	return s->screen;
}

/* Forgets the last screening's pending outcome. */
static void
screen_pending_clear(struct search_screen *sc)
{
	free(sc->pkept);
	free(sc->pbefore);
	free(sc->paudit);
	sc->pkept = sc->paudit = NULL;
	sc->pbefore = NULL;
	sc->npkept = sc->npaudit = 0;
	sc->pending = 0;
}

void
search_screen_free(struct search_screen *sc)
{
	size_t	i;

	if (sc == NULL)
		return;
	screen_pending_clear(sc);
	for (i = 0; i < sc->nemb; i++)
		free(sc->emb[i].vec);
	free(sc->emb);
	free(sc->train.v);
	free(sc->out.v);
	free(sc);
}

/* The dev examples c is scored on or has given up. */
static size_t
screen_settled(const struct cand *c)
{
	return c->nscored + c->ngiven_up;
}

/* The mean of c's dev scores (NAN when it has none). */
static double
screen_mean(const struct search *s, const struct cand *c)
{
	double	sum = 0;
	size_t	i, n = 0;

	for (i = 0; i < s->ndev; i++)
		if (!isnan(c->scores[i])) {
			sum += c->scores[i];
			n++;
		}
	return n > 0 ? sum / (double)n : NAN;
}

/*
 * The embeddings of n candidates into *x (n x sc->dim, allocated): those
 * known from before, and the others asked for at once.
 */
static int
screen_embed(struct search *s, struct search_screen *sc, struct cand *const *v,
    size_t n, float **x, char **cause)
{
	struct cand	**miss;
	float		 *got;
	size_t		  nmiss = 0, dim, i, k;

	miss = xcalloc(n + 1, sizeof *miss);
	for (i = 0; i < n; i++) {
		for (k = 0; k < sc->nemb && sc->emb[k].id != v[i]->id; k++)
			;
		if (k == sc->nemb && !search_has(miss, nmiss, v[i]))
			miss[nmiss++] = v[i];
	}
	if (nmiss > 0) {
		if (search_embed(s, miss, nmiss, SCREEN_DIM, &got, &dim,
		    cause) != 0) {
			free(miss);
			return -1;
		}
		if (sc->nemb > 0 && dim != sc->dim) {
			free(got);
			free(miss);
			return cause_set(cause, "surrogate: the embedder gave "
			    "vectors of %zu and %zu dimensions", sc->dim, dim);
		}
		sc->dim = dim;
		sc->emb = xreallocarray(sc->emb, sc->nemb + nmiss,
		    sizeof *sc->emb);
		for (i = 0; i < nmiss; i++) {
			sc->emb[sc->nemb].id = miss[i]->id;
			sc->emb[sc->nemb].vec = xcalloc(dim, sizeof(float));
			memcpy(sc->emb[sc->nemb++].vec, got + i * dim,
			    dim * sizeof(float));
		}
		free(got);
	}
	free(miss);
	*x = xcalloc(n * sc->dim + 1, sizeof **x);
	for (i = 0; i < n; i++) {
		for (k = 0; sc->emb[k].id != v[i]->id; k++)
			;
		memcpy(*x + i * sc->dim, sc->emb[k].vec, sc->dim *
		    sizeof(float));
	}
	return 0;
}

/*
 * The predictions for the n proposals in elig from a model fitted on
 * the snapshot; *fit describes the fit for the log.  Returns 1 with
 * pred set, 0 when there is no model (too few rows, or none could be
 * fitted), or -1 on an embedder error.
 */
static int
screen_predict(struct search *s, struct search_screen *sc,
    struct cand *const *elig, size_t n, double *pred, char **fit,
    char **cause)
{
	struct surrogate	 *m;
	struct cand		**rows, *c;
	double			 *y;
	float			 *x = NULL;
	size_t			  nrows = 0, i, first;
	int			  rc = -1;

	first = sc->train.n > SCREEN_MAX_TRAIN ? sc->train.n -
	    SCREEN_MAX_TRAIN : 0;
	rows = xcalloc(sc->train.n + n + 1, sizeof *rows);
	y = xcalloc(sc->train.n + 1, sizeof *y);
	for (i = first; i < sc->train.n; i++) {
		if ((c = search_cand_by_id(s, sc->train.v[i])) == NULL ||
		    isnan(y[nrows] = screen_mean(s, c)))
			continue;
		rows[nrows++] = c;
	}
	memcpy(rows + nrows, elig, n * sizeof *rows);
	if (screen_embed(s, sc, rows, nrows + n, &x, cause) != 0)
		goto out;
	rc = 0;
	if ((m = surrogate_fit(x, y, nrows, sc->dim)) != NULL) {
		for (i = 0; i < n; i++)
			pred[i] = surrogate_predict(m, x + (nrows + i) *
			    sc->dim);
		*fit = xasprintf("fitted on %zu, leave-one-out error %.3f",
		    nrows, surrogate_loo(m));
		surrogate_free(m);
		rc = 1;
	}
	free(x);
out:
	free(rows);
	free(y);
	return rc;
}

/* Whether screened-out proposal c is audited: a coin of its own. */
static int
screen_audit_draw(struct search *s, const struct cand *c)
{
	struct rng	r;

	rng_seed(&r, (uint64_t)s->task->seed, hash_mix((uint64_t)s->step,
	    (uint64_t)c->id));
	return rng_uniform(&r) < search_number(s, "surrogate_audit");
}

/* "12, 14, 15": the ids of n candidates, for the log. */
static char *
screen_ids_text(struct cand *const *v, size_t n)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	strbuf_adds(&sb, n == 0 ? "none" : "");
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%lld", i > 0 ? ", " : "",
		    (long long)v[i]->id);
	return strbuf_detach(&sb);
}

/*
 * The decisions of a screening with predictions: the best nk of the n
 * proposals in elig are kept, of the others each audited one is kept
 * too and the rest go into *out.  Records them as pending.
 */
static void
screen_decide(struct search *s, struct search_screen *sc,
    struct cand *const *elig, size_t n, const double *pred, size_t nk,
    struct cand ***out, size_t *nout)
{
	struct cand	*c;
	int64_t		*ids;
	size_t		*order, i;

	ids = xcalloc(n + 1, sizeof *ids);
	order = xcalloc(n + 1, sizeof *order);
	for (i = 0; i < n; i++)
		ids[i] = elig[i]->id;
	surrogate_rank(pred, ids, n, order);
	sc->pkept = xcalloc(nk + 1, sizeof *sc->pkept);
	sc->pbefore = xcalloc(nk + 1, sizeof *sc->pbefore);
	sc->paudit = xcalloc(n - nk + 1, sizeof *sc->paudit);
	*out = xcalloc(n - nk + 1, sizeof **out);
	for (i = 0; i < n; i++) {
		c = elig[order[i]];
		if (i < nk) {
			sc->pbefore[sc->npkept] = screen_settled(c);
			sc->pkept[sc->npkept++] = c;
		} else if (screen_audit_draw(s, c))
			sc->paudit[sc->npaudit++] = c;
		else {
			(*out)[(*nout)++] = c;
			c->raced_out = 1;
			ids_add(&sc->out, c->id);
			continue;
		}
		/* Scored now, whatever an earlier screening said. */
		if (ids_has(&sc->out, c->id)) {
			c->raced_out = 0;
			ids_remove(&sc->out, c->id);
		}
	}
	sc->pending = 1;
	sc->pn = n;
	sc->screens++;
	sc->proposals += n;
	sc->kept += nk;
	sc->screened += n - nk - sc->npaudit;
	sc->audited += sc->npaudit;
	free(ids);
	free(order);
}

/*
 * The proposals of v that the filter screens: not scored on all of dev
 * and not stopped by racing (but for those it screened out itself),
 * each once.  Those it screened out before and now lets through are
 * scored again from where they were.
 */
static size_t
screen_eligible(struct search *s, struct search_screen *sc,
    struct cand *const *v, size_t n, struct cand **elig)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (!search_complete(s, v[i]) && (!v[i]->raced_out ||
		    ids_has(&sc->out, v[i]->id)) && !search_has(elig, k, v[i]))
			elig[k++] = v[i];
	return k;
}

/* Lets every proposal through: before the filter starts. */
static void
screen_pass(struct search_screen *sc, struct cand *const *elig, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (ids_has(&sc->out, elig[i]->id)) {
			elig[i]->raced_out = 0;
			ids_remove(&sc->out, elig[i]->id);
		}
}

int
search_screen(struct search *s, struct cand **v, size_t n, size_t *nkeep,
    char **cause)
{
	struct search_screen	*sc;
	struct cand		**elig, **out = NULL;
	double			 *pred, share = search_number(s, "surrogate");
	char			 *fit = NULL, *a, *b, *c;
	size_t			  ne, nk, nout = 0, i, k;
	int			  rc;

	*nkeep = n;
	if (share >= 1)
		return 0;
	sc = screen_get(s);
	screen_pending_clear(sc);
	elig = xcalloc(n + 1, sizeof *elig);
	pred = xcalloc(n + 1, sizeof *pred);
	ne = screen_eligible(s, sc, v, n, elig);
	nk = (size_t)ceil(share * (double)ne - 1e-9);
	rc = 0;
	if (nk < ne && sc->train.n >= (size_t)search_int(s, "surrogate_min"))
		rc = screen_predict(s, sc, elig, ne, pred, &fit, cause);
	/* Out of budget, the embedder's refusal is not its failure. */
	if (rc < 0 && engine_check(s->engine) != ENGINE_OK) {
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		rc = 0;
	}
	if (rc <= 0) {
		screen_pass(sc, elig, ne);
		free(elig);
		free(pred);
		return rc;
	}
	screen_decide(s, sc, elig, ne, pred, nk, &out, &nout);
	/* The screened out go last; the others keep their order. */
	for (i = k = 0; i < n; i++)
		if (!search_has(out, nout, v[i]))
			v[k++] = v[i];
	memcpy(v + k, out, nout * sizeof *v);
	*nkeep = k;
	a = screen_ids_text(sc->pkept, sc->npkept);
	b = screen_ids_text(sc->paudit, sc->npaudit);
	c = screen_ids_text(out, nout);
	log_info("job '%s': surrogate: step %d: of %zu new proposals, scoring "
	    "%s (the predicted best %.0f%%) and %s (audit), screening out %s; "
	    "%s", s->task->name, s->step + 1, ne, a, 100 * share, b, c,
	    fit);
	free(a);
	free(b);
	free(c);
	free(fit);
	free(out);
	free(elig);
	free(pred);
	return 0;
}

static int
screen_cmp_double(const void *va, const void *vb)
{
	double	a = *(const double *)va, b = *(const double *)vb;

	return a < b ? -1 : a > b;
}

/* The median dev mean of the kept proposals scored on all of dev. */
static double
screen_median(const struct search *s, const struct search_screen *sc)
{
	double	*m, med;
	size_t	 n = 0, i;

	m = xcalloc(sc->npkept + 1, sizeof *m);
	for (i = 0; i < sc->npkept; i++)
		if (search_complete(s, sc->pkept[i]))
			m[n++] = sc->pkept[i]->mean;
	qsort(m, n, sizeof *m, screen_cmp_double);
	med = n == 0 ? NAN : n % 2 ? m[n / 2] : (m[n / 2 - 1] + m[n / 2]) / 2;
	free(m);
	return med;
}

/*
 * The target calls the filter saved, estimated: each proposal it
 * screened out and that was not scored since, times the dev examples
 * the proposals it let through were scored on, on average (racing
 * included; all of dev before any was).
 */
static double
screen_saved(const struct search *s, const struct search_screen *sc)
{
	double	per = (double)s->ndev;

	if (sc->kept > 0)
		per = (double)sc->kept_examples / (double)sc->kept;
	return (double)sc->out.n * per;
}

int
search_screen_done(struct search *s, char **cause)
{
	struct search_screen	*sc = s->screen;
	struct strbuf		 sb;
	unsigned long		 missed = 0, compared = 0;
	double			 med;
	size_t			 i, now;
	int			 rc;

	if (sc == NULL || !sc->pending)
		return 0;
	for (i = 0; i < sc->npkept; i++) {
		now = screen_settled(sc->pkept[i]);
		if (now > sc->pbefore[i])
			sc->kept_examples += now - sc->pbefore[i];
	}
	med = screen_median(s, sc);
	for (i = 0; i < sc->npaudit && !isnan(med); i++) {
		if (!search_complete(s, sc->paudit[i]))
			continue;
		compared++;
		if (sc->paudit[i]->mean > med)
			missed++;
	}
	sc->compared += compared;
	sc->missed += missed;
	strbuf_init(&sb);
	strbuf_addf(&sb, "surrogate: step %d: of %zu new proposals, scored "
	    "the predicted best %zu", s->step + 1, sc->pn, sc->npkept);
	if (sc->npaudit > 0 && !isnan(med))
		strbuf_addf(&sb, " and %zu audited, of which %lu beat the "
		    "median %.3f of the others", sc->npaudit, missed, med);
	else if (sc->npaudit > 0)
		strbuf_addf(&sb, " and %zu audited (none of the others was "
		    "scored on all of dev to compare with)", sc->npaudit);
	strbuf_addf(&sb, "; in the run %lu of %lu proposals screened out, "
	    "about %.0f target calls saved, %lu of %lu audited beat the "
	    "median", sc->screened, sc->proposals, screen_saved(s, sc),
	    sc->missed, sc->compared);
	screen_pending_clear(sc);
	rc = search_event(s, "info", sb.buf, cause);
	strbuf_release(&sb);
	return rc;
}

/* The ids of list l as the JSON array name of o. */
static void
screen_ids_save(cJSON *o, const char *name, const struct screen_ids *l)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_AddArrayToObject(o, name);
	for (i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)l->v[i]));
}

cJSON *
search_screen_save(struct search *s)
{
	struct search_screen	*sc;
	cJSON			*o;
	size_t			 i;

	if (search_number(s, "surrogate") >= 1)
		return NULL;
	sc = screen_get(s);
	/* The snapshot the next step's model is fitted on. */
	sc->train.n = 0;
	for (i = 0; i < s->ncands; i++) {
		if (!search_complete(s, s->cands[i]))
			continue;
		sc->train.v = xreallocarray(sc->train.v, sc->train.n + 1,
		    sizeof *sc->train.v);
		sc->train.v[sc->train.n++] = s->cands[i]->id;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "screens", (double)sc->screens);
	cJSON_AddNumberToObject(o, "proposals", (double)sc->proposals);
	cJSON_AddNumberToObject(o, "kept", (double)sc->kept);
	cJSON_AddNumberToObject(o, "screened", (double)sc->screened);
	cJSON_AddNumberToObject(o, "audited", (double)sc->audited);
	cJSON_AddNumberToObject(o, "compared", (double)sc->compared);
	cJSON_AddNumberToObject(o, "missed", (double)sc->missed);
	cJSON_AddNumberToObject(o, "kept_examples", (double)sc->kept_examples);
	cJSON_AddNumberToObject(o, "saved", round(screen_saved(s, sc)));
	screen_ids_save(o, "train", &sc->train);
	screen_ids_save(o, "out", &sc->out);
	return o;
}

/* A checkpoint's id list, each one a candidate of the run. */
static int
screen_ids_load(const struct search *s, const cJSON *o, const char *name,
    struct screen_ids *l, char **cause)
{
	const cJSON	*a, *v;

	l->n = 0;
	a = cJSON_GetObjectItemCaseSensitive(o, name);
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsNumber(v) || search_cand_by_id(s,
		    (int64_t)v->valuedouble) == NULL)
			return cause_set(cause, "checkpoint: surrogate.%s: "
			    "%s is not among the run's candidates", name,
			    cJSON_IsNumber(v) ? "a candidate" : "an entry");
		ids_add(l, (int64_t)v->valuedouble);
	}
	return 0;
}

/* A counter of the checkpoint (0 when it has none). */
static unsigned long
screen_count(const cJSON *o, const char *name)
{
	double	v = json_num(o, name);

	return isnan(v) || v < 0 ? 0 : (unsigned long)v;
}

int
search_screen_load(struct search *s, const cJSON *o, char **cause)
{
	struct search_screen	*sc;

	if (o == NULL || search_number(s, "surrogate") >= 1)
		return 0;
	if (!cJSON_IsObject(o))
		return cause_set(cause, "checkpoint: surrogate: expected an "
		    "object");
	sc = screen_get(s);
	if (screen_ids_load(s, o, "train", &sc->train, cause) != 0 ||
	    screen_ids_load(s, o, "out", &sc->out, cause) != 0)
		return -1;
	sc->screens = screen_count(o, "screens");
	sc->proposals = screen_count(o, "proposals");
	sc->kept = screen_count(o, "kept");
	sc->screened = screen_count(o, "screened");
	sc->audited = screen_count(o, "audited");
	sc->compared = screen_count(o, "compared");
	sc->missed = screen_count(o, "missed");
	sc->kept_examples = screen_count(o, "kept_examples");
	return 0;
}

char *
search_screen_text(const struct search *s)
{
	const struct search_screen	*sc = s->screen;

	if (sc == NULL || sc->screens == 0)
		return NULL;
	return xasprintf("surrogate: %lu of %lu proposals screened out, about "
	    "%.0f target calls saved; %lu of %lu audited beat the median",
	    sc->screened, sc->proposals, screen_saved(s, sc), sc->missed,
	    sc->compared);
}
