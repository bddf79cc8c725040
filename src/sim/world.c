/*
 * The simulated world: a deterministic stand-in for a language model.
 *
 * Everything in src/sim/ is a pure function of the world (its seed and
 * the examples it observed) and of the request's text.  Random draws are
 * hashes, never a global generator, so the same request gets the same
 * reply in any order and after a restart.  man/promptd-sim.7 documents
 * the model; keep the two in step.
 *
 * This file holds the world itself: its draws, its lifecycle, what it
 * learns from the examples it observes and how a text is matched to one
 * of them, and the entry points that tell the roles apart and hand a
 * request to target.c, judge.c or optimizer.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dataset.h"
#include "hash.h"
#include "jsonc.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

/* Bytes of a value hashed for the index. */
#define SIM_KEYLEN		16
#define SIM_MAX_LABELS		20
#define SIM_LABEL_BYTES		40
#define SIM_LABEL_WORDS		4

/* Draws: uniform in [0, 1) and standard normal, from a hash. */
double
sim_u01(uint64_t h)
{
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

double
sim_normal(uint64_t h)
{
	double	u1, u2;

	u1 = sim_u01(hash_mix(h, 1));
	u2 = sim_u01(hash_mix(h, 2));
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

double
sim_sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

/* Parameters and the world's lifecycle. */

void
sim_params_default(struct sim_params *p)
{
	p->seed = 1;
	p->dim = 256;
	p->noise = 0.1;
	p->position_bias = 0.05;
	p->format_error_rate = 0;
}

struct sim_world *
sim_world_new(const struct sim_params *p)
{
	struct sim_world	*w;

	w = xcalloc(1, sizeof *w);
	w->p = *p;
	if (w->p.dim == 0)
		w->p.dim = 256;
	return w;
}

void
sim_world_free(struct sim_world *w)
{
	size_t	i, j;

	if (w == NULL)
		return;
	for (i = 0; i < w->ntasks; i++) {
		for (j = 0; j < w->tasks[i].nlabels; j++)
			free(w->tasks[i].labels[j]);
		free(w->tasks[i].labels);
	}
	free(w->tasks);
	for (i = 0; i < w->nex; i++) {
		for (j = 0; j < w->ex[i].nvals; j++)
			free(w->ex[i].vals[j]);
		free(w->ex[i].vals);
		free(w->ex[i].lens);
		free(w->ex[i].target);
	}
	free(w->ex);
	free(w->index);
	free(w->ids);
	free(w);
}

size_t
sim_world_ntasks(const struct sim_world *w)
{
	return w->ntasks;
}

enum sim_kind
sim_world_task_kind(const struct sim_world *w, size_t task)
{
	return task < w->ntasks ? w->tasks[task].kind : SIM_TEXT;
}

size_t
sim_world_dim(const struct sim_world *w)
{
	return w->p.dim;
}

/* Knowledge: the examples observed, and matching a text to one. */

struct sim_key {
	uint64_t	 key;
	size_t		 ex;
};

/* Adds id to the set; returns 0 when it was there already. */
static int
ids_add(struct sim_world *w, uint64_t id)
{
	uint64_t	*old;
	size_t		 oldcap, i, j;

	id |= 1;
	if ((w->nids + 1) * 2 > w->capids) {
		old = w->ids;
		oldcap = w->capids;
		w->capids = oldcap == 0 ? 64 : oldcap * 2;
		w->ids = xcalloc(w->capids, sizeof *w->ids);
		for (i = 0; i < oldcap; i++) {
			if (old[i] == 0)
				continue;
			j = old[i] & (w->capids - 1);
			while (w->ids[j] != 0)
				j = (j + 1) & (w->capids - 1);
			w->ids[j] = old[i];
		}
		free(old);
	}
	j = id & (w->capids - 1);
	while (w->ids[j] != 0) {
		if (w->ids[j] == id)
			return 0;
		j = (j + 1) & (w->capids - 1);
	}
	w->ids[j] = id;
	w->nids++;
	return 1;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct sim_key	*x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ex < y->ex ? -1 : x->ex > y->ex;
}

/* The target text of an example, or NULL when it has none. */
static char *
example_target(const struct example *e, const char *target)
{
	const cJSON	*v;

	if (target == NULL || e->fields == NULL)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(e->fields, target);
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	return json_text(v);
}

/* Decides a task's kind from its targets (and collects its labels). */
static void
task_classify(struct sim_task *t, char **targets, size_t n)
{
	size_t	i, j, have = 0;
	double	v;
	int	numeric = 1, label = 1;

	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			continue;
		have++;
		if (numeric && !sim_parse_number(targets[i], &v))
			numeric = 0;
		if (!label)
			continue;
		if (strlen(targets[i]) > SIM_LABEL_BYTES ||
		    sim_count_words(targets[i]) > SIM_LABEL_WORDS ||
		    *targets[i] == '\0') {
			label = 0;
			continue;
		}
		for (j = 0; j < t->nlabels; j++)
			if (strcmp(t->labels[j], targets[i]) == 0)
				break;
		if (j < t->nlabels)
			continue;
		if (t->nlabels == SIM_MAX_LABELS) {
			label = 0;
			continue;
		}
		t->labels = xreallocarray(t->labels, t->nlabels + 1,
		    sizeof *t->labels);
		t->labels[t->nlabels++] = xstrdup(targets[i]);
	}
	if (have == 0)
		t->kind = SIM_REWRITE;
	else if (numeric)
		t->kind = SIM_NUMBER;
	else if (label)
		t->kind = SIM_LABEL;
	else
		t->kind = SIM_TEXT;
	if (t->kind != SIM_LABEL) {
		for (j = 0; j < t->nlabels; j++)
			free(t->labels[j]);
		free(t->labels);
		t->labels = NULL;
		t->nlabels = 0;
	}
}

void
sim_world_observe(struct sim_world *w, const struct dataset *ds,
    const char *const *inputs, size_t ninputs, const char *target)
{
	struct sim_task		*t;
	struct sim_example	*x;
	const struct example	*e;
	const cJSON		*v;
	char			**targets;
	size_t			  i, j, L;
	uint64_t		  id;

	targets = xcalloc(ds->n + 1, sizeof *targets);
	for (i = 0; i < ds->n; i++)
		targets[i] = example_target(&ds->ex[i], target);
	w->tasks = xreallocarray(w->tasks, w->ntasks + 1, sizeof *w->tasks);
	t = &w->tasks[w->ntasks];
	memset(t, 0, sizeof *t);
	task_classify(t, targets, ds->n);

	for (i = 0; i < ds->n; i++) {
		e = &ds->ex[i];
		if (w->nex == w->capex) {
			w->capex = w->capex == 0 ? 64 : w->capex * 2;
			w->ex = xreallocarray(w->ex, w->capex, sizeof *w->ex);
		}
		x = &w->ex[w->nex];
		memset(x, 0, sizeof *x);
		x->task = w->ntasks;
		x->nvals = ninputs;
		x->vals = xcalloc(ninputs + 1, sizeof *x->vals);
		x->lens = xcalloc(ninputs + 1, sizeof *x->lens);
		id = hash_mix(w->ntasks == 0 ? 0 : 1, ninputs);
		for (j = 0; j < ninputs; j++) {
			v = e->fields != NULL ?
			    cJSON_GetObjectItemCaseSensitive(e->fields,
			    inputs[j]) : NULL;
			x->vals[j] = v != NULL ? json_text(v) : xstrdup("");
			x->lens[j] = strlen(x->vals[j]);
			x->total += x->lens[j];
			if (x->lens[j] > x->lens[x->longest])
				x->longest = j;
			id = hash64(x->vals[j], x->lens[j] + 1, id);
		}
		x->target = targets[i];
		targets[i] = NULL;
		if (x->target != NULL)
			id = hash64(x->target, strlen(x->target) + 1, id);
		x->id = id;
		x->difficulty = sim_u01(hash_mix(hash_mix(w->p.seed, SEED_DIFF),
		    id));
		x->kind = x->target == NULL ? SIM_REWRITE : t->kind;
		if (x->kind == SIM_NUMBER)
			sim_parse_number(x->target, &x->num);
		if (!ids_add(w, id) || x->total == 0) {
			for (j = 0; j < x->nvals; j++)
				free(x->vals[j]);
			free(x->vals);
			free(x->lens);
			free(x->target);
			continue;
		}
		L = x->lens[x->longest];
		if (L > SIM_KEYLEN)
			L = SIM_KEYLEN;
		if (w->nindex == w->capindex) {
			w->capindex = w->capindex == 0 ? 64 : w->capindex * 2;
			w->index = xreallocarray(w->index, w->capindex,
			    sizeof *w->index);
		}
		w->index[w->nindex].key = hash64(x->vals[x->longest], L,
		    SEED_INDEX);
		w->index[w->nindex].ex = w->nex;
		w->nindex++;
		w->keylens |= 1u << L;
		w->nex++;
	}
	for (i = 0; i < ds->n; i++)
		free(targets[i]);
	free(targets);
	w->ntasks++;
	/* An empty dataset (a job whose examples come from feedback) adds
	 * none, and qsort() must not be given a NULL array. */
	if (w->nindex > 0)
		qsort(w->index, w->nindex, sizeof *w->index, key_cmp);
}

/* Whether every value of x occurs in text, its longest at offset at. */
static int
example_in(const struct sim_example *x, const char *text, size_t n,
    size_t at)
{
	size_t	j, L = x->lens[x->longest];

	if (at + L > n || memcmp(text + at, x->vals[x->longest], L) != 0)
		return 0;
	for (j = 0; j < x->nvals; j++)
		if (j != x->longest && x->lens[j] > 0 &&
		    strstr(text, x->vals[j]) == NULL)
			return 0;
	return 1;
}

/* What index_scan() calls for an example whose key occurs at at. */
typedef void	scan_fn(const struct sim_example *, size_t at, void *);

/*
 * Calls fn for each position of text where the key of an example's
 * longest value occurs (the value itself may not: example_in() says).
 */
static void
index_scan(const struct sim_world *w, const char *text, size_t n,
    scan_fn *fn, void *arg)
{
	size_t		 L, i, lo, hi, mid;
	uint64_t	 k;

	for (L = 1; L <= SIM_KEYLEN; L++) {
		if ((w->keylens & (1u << L)) == 0)
			continue;
		for (i = 0; i + L <= n; i++) {
			k = hash64(text + i, L, SEED_INDEX);
			lo = 0;
			hi = w->nindex;
			while (lo < hi) {
				mid = lo + (hi - lo) / 2;
				if (w->index[mid].key < k)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < w->nindex && w->index[lo].key == k; lo++)
				fn(&w->ex[w->index[lo].ex], i, arg);
		}
	}
}

struct match_scan {
	const struct sim_example	*best;
	const char			*text;
	size_t				 n;
};

static void
match_one(const struct sim_example *x, size_t at, void *arg)
{
	struct match_scan	*m = arg;

	if (m->best != NULL && (x->total < m->best->total ||
	    (x->total == m->best->total && x >= m->best)))
		return;
	if (example_in(x, m->text, m->n, at))
		m->best = x;
}

/*
 * The observed example a text is about: every input value occurs in it;
 * the longest total matched length wins, then the earliest observed.
 */
const struct sim_example *
sim_world_match(const struct sim_world *w, const char *text)
{
	struct match_scan	m;

	m.best = NULL;
	m.text = text;
	m.n = strlen(text);
	index_scan(w, text, m.n, match_one, &m);
	return m.best;
}

struct occ_scan {
	struct sim_occ	*v;
	size_t		 n;
	size_t		 cap;
	const char	*text;
	size_t		 len;
};

static void
occ_one(const struct sim_example *x, size_t at, void *arg)
{
	struct occ_scan	*o = arg;

	if (!example_in(x, o->text, o->len, at))
		return;
	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 8 : o->cap * 2;
		o->v = xreallocarray(o->v, o->cap, sizeof *o->v);
	}
	o->v[o->n].x = x;
	o->v[o->n].start = at;
	o->v[o->n].end = at + x->lens[x->longest];
	o->n++;
}

/* The longest total first, then the earliest observed. */
static int
occ_rank_cmp(const void *a, const void *b)
{
	const struct sim_occ	*p = a, *q = b;

	if (p->x->total != q->x->total)
		return p->x->total > q->x->total ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->start < q->start ? -1 : p->start > q->start;
}

static int
occ_pos_cmp(const void *a, const void *b)
{
	const struct sim_occ	*p = a, *q = b;

	return p->start < q->start ? -1 : p->start > q->start;
}

/* Widens o to the other values of its example found in [lo, hi). */
static void
occ_widen(struct sim_occ *o, const char *text, size_t lo, size_t hi)
{
	const struct sim_example	*x = o->x;
	const char			*f;
	size_t				 j;

	for (j = 0; j < x->nvals; j++) {
		if (j == x->longest || x->lens[j] == 0 || hi <= lo)
			continue;
		f = memmem(text + lo, hi - lo, x->vals[j], x->lens[j]);
		if (f == NULL)
			continue;
		if ((size_t)(f - text) < o->start)
			o->start = (size_t)(f - text);
		if ((size_t)(f - text) + x->lens[j] > o->end)
			o->end = (size_t)(f - text) + x->lens[j];
	}
}

size_t
sim_world_occurrences(const struct sim_world *w, const char *text,
    struct sim_occ **out)
{
	struct occ_scan	 o = { 0 };
	size_t		 i, j, kept = 0, lo;

	o.text = text;
	o.len = strlen(text);
	index_scan(w, text, o.len, occ_one, &o);
	if (o.n > 1)
		qsort(o.v, o.n, sizeof *o.v, occ_rank_cmp);
	for (i = 0; i < o.n; i++) {
		for (j = 0; j < kept; j++)
			if (o.v[i].start < o.v[j].end &&
			    o.v[j].start < o.v[i].end)
				break;
		if (j == kept)
			o.v[kept++] = o.v[i];
	}
	if (kept > 1)
		qsort(o.v, kept, sizeof *o.v, occ_pos_cmp);
	for (i = 0; i < kept; i++) {
		lo = i > 0 ? o.v[i - 1].end : 0;
		occ_widen(&o.v[i], text, lo, i + 1 < kept ?
		    o.v[i + 1].start : o.len);
	}
	*out = o.v;
	return kept;
}

/* Roles and the entry points. */

/* All messages joined, the text the roles are read from. */
static char *
req_text(const struct model_req *req)
{
	struct strbuf	sb;
	size_t		i;

	strbuf_init(&sb);
	for (i = 0; i < req->nmsgs; i++) {
		if (i > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, req->msgs[i].content != NULL ?
		    req->msgs[i].content : "");
	}
	return strbuf_detach(&sb);
}

static uint64_t
req_hash(const struct model_req *req, uint64_t seed)
{
	uint64_t	h = hash_mix(seed, req->nmsgs);
	size_t		i;
	char		r;

	for (i = 0; i < req->nmsgs; i++) {
		r = (char)req->msgs[i].role;
		h = hash64(&r, 1, h);
		if (req->msgs[i].content != NULL)
			h = hash64(req->msgs[i].content,
			    strlen(req->msgs[i].content), h);
	}
	return h;
}

enum sim_role
sim_role_detect(const struct model_req *req)
{
	enum sim_role	 r;
	char		*text;

	if (req->kind == REQ_EMBED)
		return SIM_ROLE_EMBED;
	text = req_text(req);
	if (sim_tag_has(text, "response_a") && sim_tag_has(text, "response_b"))
		r = SIM_ROLE_JUDGE;
	else if (sim_tag_has(text, "prompt") || sim_tag_has(text, "demo") ||
	    strstr(text, "The instruction was") != NULL ||
	    strstr(text, "XML element named") != NULL)
		r = SIM_ROLE_OPTIMIZER;
	else if (sim_tag_has(text, "response") || sim_label_asked(text))
		r = SIM_ROLE_JUDGE;
	else
		r = SIM_ROLE_TARGET;
	free(text);
	return r;
}

/*
 * A conversation that goes on after an answer (a repair turn: the
 * request, the model's reply, what was wrong with it) is answered as its
 * first request, with the draws of the whole conversation: the model
 * tries again, and may get the format right this time.  A target request
 * whose turns are demos (each user turn holding an observed example and
 * answered, the last asking about one) is read whole by target.c.
 */
void
sim_world_answer(struct sim_world *w, const struct model_req *req,
    double temperature, char **out)
{
	struct model_req	 first = *req;
	char			*text;
	uint64_t		 h, sample;
	size_t			 i;

	for (i = 0; i < req->nmsgs; i++)
		if (req->msgs[i].role == MSG_ASSISTANT)
			break;
	first.nmsgs = i;
	sample = temperature > 0 ? hash_mix(SEED_SAMPLE, req->sample) : 0;
	text = req_text(&first);
	h = hash_mix(req_hash(req, w->p.seed), sample);
	switch (sim_role_detect(&first)) {
	case SIM_ROLE_JUDGE:
		*out = sim_answer_judge(w, text, h);
		break;
	case SIM_ROLE_OPTIMIZER:
		*out = sim_answer_optimizer(w, text, h);
		break;
	default:
		*out = sim_answer_target(w, req, &first, text, sample);
		break;
	}
	free(text);
}

/* Embeddings. */

void
sim_world_embed(const struct sim_world *w, const char *text, float *out)
{
	textfeat_embed(text, w->p.seed, w->p.dim, out);
}
