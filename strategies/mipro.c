/*
 * MIPRO (Opsahl-Ong et al., "Optimizing Instructions and Demonstrations
 * for Multi-Stage Language Model Programs", 2024; DSPy's MIPROv2): the
 * instruction and the few-shot demos are searched together.
 *
 *	step 0	bootstrap: the first seed answers up to "bootstrap" training
 *		examples; those it gets right (score >= "threshold") are
 *		kept with its own answers as demos (BootstrapFewShot).  From
 *		them and from labeled training examples, "demo_sets" sets of
 *		up to "demos" demos: the first with none, the second labeled
 *		only, the others a random number of bootstrapped demos
 *		filled up with labeled ones; a seed's own demos are a set
 *		too.
 *	step 1	grounding: the optimizer writes observations about batches
 *		of training examples, then a summary of them (MIPROv2's
 *		dataset summary).
 *	step 2	proposals: "instructions" - seeds requests, each shown the
 *		job's description, the summary, one demo set and a tip drawn
 *		at random (be concise, describe a persona, mind edge cases,
 *		...); each proposal is stored with those inputs in its
 *		lineage note.
 *	steps 3...	one trial each: a Tree-structured Parzen Estimator
 *		(tpe.h) over (instruction, demo set) suggests a combination,
 *		scored on a minibatch of "minibatch" dev examples; every
 *		"full_every" trials, and after the last, the "full_top"
 *		combinations of best mean minibatch score are evaluated on
 *		all of dev (with racing).
 *
 * The state (demo sets, summary, instructions, trials) is checkpointed
 * after every step; a trial's suggestion depends only on the trials before
 * it and the step's random stream, so a resumed run suggests the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "jsonc.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "tpe.h"
#include "util.h"
#include "xmalloc.h"

static const struct strategy_param mipro_params[] = {
	{ "instructions", PARAM_INT, "10", 1, 200, NULL,
	  "instructions in the search, the seeds among them" },
	{ "demo_sets", PARAM_INT, "10", 1, 200, NULL,
	  "demo sets in the search, the empty set among them" },
	{ "demos", PARAM_INT, "4", 0, 32, NULL,
	  "demos in a set at most" },
	{ "trials", PARAM_INT, "30", 1, 10000, NULL,
	  "combinations of an instruction and a demo set tried" },
	{ "minibatch", PARAM_INT, "35", 1, 100000, NULL,
	  "dev examples a trial is scored on" },
	{ "full_every", PARAM_INT, "10", 1, 10000, NULL,
	  "trials between evaluations of the best on all of dev" },
	{ "full_top", PARAM_INT, "3", 1, 100, NULL,
	  "combinations evaluated on all of dev each time" },
	{ "bootstrap", PARAM_INT, "50", 0, 100000, NULL,
	  "training examples the first seed answers for bootstrapped demos" },
	{ "threshold", PARAM_NUMBER, "1", 0, 1, NULL,
	  "the score an answer needs to become a demo" },
	{ "rounds", PARAM_INT, "1", 1, 100, NULL,
	  "rounds of proposals and trials; a later round proposes from the "
	  "best instruction so far" },
	{ "tips", PARAM_BOOL, "true", 0, 0, NULL,
	  "show each proposal request a tip drawn at random" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

/* MIPROv2's proposal tips, in our words. */
static const char *const mipro_tips[] = {
	"Be creative: the instruction may take an unusual angle on the task.",
	"Keep the instruction simple, clear and concise.",
	"Make the instruction informative and descriptive.",
	"Describe a persona relevant to the task that the model should take "
	"(\"You are a ...\").",
	"Mind the edge cases: say how to handle inputs that are unclear or "
	"unusual.",
	"Say exactly what form the answer must take.",
};
#define MIPRO_NTIPS	(sizeof mipro_tips / sizeof mipro_tips[0])

/* Batches of training examples the optimizer observes, and their size. */
#define MIPRO_OBSERVE_BATCHES	3
#define MIPRO_OBSERVE_SIZE	10

enum mipro_phase {
	PHASE_BOOTSTRAP,
	PHASE_GROUND,
	PHASE_PROPOSE,
	PHASE_TRIALS,
};

struct mipro_trial {
	size_t	 choice[2];	/* instruction, demo set */
	double	 score;		/* mean on its minibatch, NAN: failed */
	int64_t	 cand;
};

struct mipro_state {
	enum mipro_phase	 phase;
	struct demos		*sets;
	size_t			 nsets;
	size_t			 booted;	/* bootstrapped demos found */
	size_t			 boot_tried;	/* answers scored for them */
	char			*summary;
	struct cand		**instr;
	size_t			 ninstr;
	struct mipro_trial	*trials;
	size_t			 ntrials;
	int			 round;		/* 1, 2, ... */
};

static struct mipro_state *
mipro_state(struct search *s)
{
	return s->state;
}

static int
mipro_init(struct search *s, char **cause)
{
	struct mipro_state	*st;
	size_t			 i;

	if (s->ncands == 0)
		return cause_set(cause, "strategy 'mipro': no seed prompt");
	st = xcalloc(1, sizeof *st);
	s->state = st;
	st->round = 1;
	/* The seeds are the first instructions, without their demos. */
	for (i = 0; i < s->ncands; i++) {
		st->instr = xreallocarray(st->instr, st->ninstr + 1,
		    sizeof *st->instr);
		st->instr[st->ninstr++] = s->cands[i];
	}
	return 0;
}

static void
mipro_set_add(struct mipro_state *st, const struct demos *d)
{
	st->sets = xreallocarray(st->sets, st->nsets + 1, sizeof *st->sets);
	demos_copy(&st->sets[st->nsets++], d);
}

/* A labeled demo of the dataset example k: its input and expected answer. */
static void
mipro_labeled(struct search *s, size_t k, struct demos *d)
{
	char	*in = search_input(s, k), *out = search_expected(s, k);

	demos_add(d, s->task->dataset->ex[k].id, in, out);
	free(in);
	free(out);
}

/*
 * The demo sets after the empty one (and the seeds'): the first labeled
 * only, the others a random number of bootstrapped demos filled up with
 * labeled ones.  A task without expected answers has bootstrapped demos
 * alone; with neither there is no set to make.
 */
static void
mipro_sets(struct search *s, const struct demos *boot)
{
	struct mipro_state	*st = mipro_state(s);
	size_t			 k = (size_t)search_int(s, "demos"), nb, n, i;
	size_t			 want = (size_t)search_int(s, "demo_sets");
	size_t			*order, made = 0;
	int			 labeled = s->task->target != NULL;
	struct demos		 d;

	while (st->nsets < want && k > 0 && s->ntrain > 0) {
		memset(&d, 0, sizeof d);
		nb = 0;
		if (boot->n > 0 && (made > 0 || !labeled)) {
			/* A random number of bootstrapped demos, 1..k. */
			order = xcalloc(k + 1, sizeof *order);
			nb = search_draw(s, boot->n,
			    1 + rng_below(&s->rng, (uint32_t)k), order);
			for (i = 0; i < nb; i++)
				demos_add(&d, boot->v[order[i]].example,
				    boot->v[order[i]].input,
				    boot->v[order[i]].output);
			free(order);
		}
		order = xcalloc(k + 1, sizeof *order);
		n = search_draw(s, s->ntrain, labeled ? k - nb : 0, order);
		for (i = 0; i < n; i++)
			mipro_labeled(s, s->train[order[i]], &d);
		free(order);
		if (d.n == 0)
			break;
		mipro_set_add(st, &d);
		demos_release(&d);
		made++;
	}
}

static int
mipro_bootstrap(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	const size_t		*pool = s->train;
	size_t			 npool = s->ntrain;
	struct demos		 boot = { NULL, 0 }, none = { NULL, 0 };
	size_t			*ex, n, i;
	char			*msg;
	int			 scored, rc;

	ex = xcalloc(npool + 1, sizeof *ex);
	n = search_draw(s, npool, (size_t)search_int(s, "bootstrap"), ex);
	for (i = 0; i < n; i++)
		ex[i] = pool[ex[i]];
	scored = search_bootstrap(s, s->cands[0], ex, n,
	    search_number(s, "threshold"), &boot, cause);
	free(ex);
	if (scored < 0)
		return -1;
	if (npool == 0 && search_event(s, "warn", "mipro: no training "
	    "examples, so no demos (demos drawn from dev would be scored on "
	    "themselves)", cause) != 0) {
		demos_release(&boot);
		return -1;
	}
	st->booted = boot.n;
	st->boot_tried = (size_t)scored;
	mipro_set_add(st, &none);
	for (i = 0; i < s->ncands; i++)
		if (s->cands[i]->demos.n > 0)
			mipro_set_add(st, &s->cands[i]->demos);
	mipro_sets(s, &boot);
	demos_release(&boot);
	msg = xasprintf("mipro: %zu of %d answers of the first seed right, "
	    "kept as demos; %zu demo sets", st->booted, scored, st->nsets);
	rc = search_event(s, "info", msg, cause);
	free(msg);
	return rc;
}

/* The observations of batches of training examples, as a list. */
static int
mipro_observe(struct search *s, const char *task, struct strbuf *out,
    char **cause)
{
	struct search_ask	 asks[MIPRO_OBSERVE_BATCHES];
	struct meta_var		 vars[MIPRO_OBSERVE_BATCHES][2];
	char			*demos[MIPRO_OBSERVE_BATCHES];
	size_t			 i;
	int			 j, rc;

	memset(asks, 0, sizeof asks);
	for (i = 0; i < MIPRO_OBSERVE_BATCHES; i++) {
		demos[i] = search_demos(s, MIPRO_OBSERVE_SIZE);
		vars[i][0].name = "task";
		vars[i][0].value = task;
		vars[i][1].name = "demos";
		vars[i][1].value = demos[i];
		asks[i].name = "mipro_observe";
		asks[i].vars = vars[i];
		asks[i].nvars = 2;
		asks[i].temperature = search_number(s, "temperature");
		asks[i].tag = "observation";
		asks[i].max = 8;
	}
	rc = search_ask_many(s, asks, MIPRO_OBSERVE_BATCHES, cause);
	for (i = 0; rc == 0 && i < MIPRO_OBSERVE_BATCHES; i++)
		for (j = 0; j < asks[i].n; j++)
			strbuf_addf(out, "- %s\n", asks[i].parts[j]);
	search_ask_release(asks, MIPRO_OBSERVE_BATCHES);
	for (i = 0; i < MIPRO_OBSERVE_BATCHES; i++)
		free(demos[i]);
	return rc;
}

/*
 * The dataset summary: observations about batches of training examples,
 * then their summary.  Without any, the proposals go on without one and
 * the log says why.
 */
static int
mipro_ground(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	struct meta_var		 vars[2];
	struct strbuf		 sb;
	char			**parts = NULL;
	int			 j, n = 0;

	vars[0].name = "task";
	vars[0].value = s->task->description != NULL ?
	    s->task->description : "(not described)";
	strbuf_init(&sb);
	if (mipro_observe(s, vars[0].value, &sb, cause) != 0) {
		strbuf_release(&sb);
		return -1;
	}
	if (sb.len > 0) {
		vars[1].name = "observations";
		vars[1].value = sb.buf;
		n = search_ask_tag(s, "mipro_summarize", vars, 2,
		    search_number(s, "temperature"), "summary", 1, &parts,
		    NULL, cause);
	}
	strbuf_release(&sb);
	if (n < 0)
		return -1;
	st->summary = xstrdup(n > 0 ? parts[0] : "");
	for (j = 0; j < n; j++)
		free(parts[j]);
	free(parts);
	if (n == 0)
		return search_event(s, "warn", "mipro: no dataset summary (the "
		    "optimizer's replies held no usable observation or "
		    "summary); the proposals go on without one", cause);
	return 0;
}

/* Whether c is one of the instructions already. */
static int
mipro_has_instr(const struct mipro_state *st, const struct cand *c)
{
	return search_has(st->instr, st->ninstr, c);
}

/*
 * What a round's proposals start from: the first seed, then the
 * instruction of the best candidate so far (evaluated on all of dev).
 */
static struct cand *
mipro_base(struct search *s)
{
	struct mipro_state	*st = mipro_state(s);
	struct cand		*best = st->round > 1 ? search_best(s) : NULL;
	size_t			 i;

	for (i = 0; best != NULL && i < st->ninstr; i++)
		if (strcmp(st->instr[i]->text, best->text) == 0)
			return st->instr[i];
	return s->cands[0];
}

/* One proposal request's inputs: a demo set (not the empty one), a tip. */
struct mipro_ask {
	struct meta_var	 vars[5];
	char		*demos;
	size_t		 set;
	const char	*tip;
};

static void
mipro_ask_setup(struct search *s, const struct cand *base,
    struct mipro_ask *a, size_t i, struct search_ask *ask)
{
	struct mipro_state	*st = mipro_state(s);

	a->set = st->nsets > 1 ? 1 + i % (st->nsets - 1) : 0;
	a->demos = st->sets[a->set].n > 0 ?
	    search_demos_text(&st->sets[a->set]) : search_demos(s, 4);
	a->tip = search_bool(s, "tips") ?
	    mipro_tips[rng_below(&s->rng, MIPRO_NTIPS)] : "";
	a->vars[0].name = "task";
	a->vars[0].value = s->task->description != NULL ?
	    s->task->description : "(not described)";
	a->vars[1].name = "summary";
	a->vars[1].value = *st->summary != '\0' ? st->summary :
	    "(no summary)";
	a->vars[2].name = "demos";
	a->vars[2].value = a->demos;
	a->vars[3].name = "tip";
	a->vars[3].value = a->tip;
	a->vars[4].name = "prompt";
	a->vars[4].value = base->text;
	ask->name = "mipro_propose";
	ask->vars = a->vars;
	ask->nvars = 5;
	ask->temperature = search_number(s, "temperature");
	ask->max = 1;
}

/* Instructions proposed from the summary, a demo set and a tip each. */
static int
mipro_propose(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	struct search_ask	*asks;
	struct mipro_ask	*a;
	struct cand		*c, *seed = mipro_base(s);
	size_t			 n, i, want;
	char			*note;
	int			 j, rc = 0;

	/* Each later round adds as many, less the one it starts from. */
	want = (size_t)search_int(s, "instructions") * (size_t)st->round -
	    (size_t)(st->round - 1);
	if (st->ninstr >= want)
		return 0;
	n = want - st->ninstr;
	asks = xcalloc(n, sizeof *asks);
	a = xcalloc(n, sizeof *a);
	for (i = 0; i < n; i++)
		mipro_ask_setup(s, seed, &a[i], i, &asks[i]);
	if (search_ask_many(s, asks, n, cause) != 0)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		for (j = 0; rc == 0 && j < asks[i].n; j++) {
			note = xasprintf("tip: %s; demo set %zu (%zu demos); "
			    "dataset summary: %s", *a[i].tip != '\0' ?
			    a[i].tip : "none", a[i].set, st->sets[a[i].set].n,
			    *st->summary != '\0' ? st->summary : "none");
			c = search_add_demos(s, asks[i].parts[j], NULL,
			    "mipro", &seed, 1, "mipro-propose", note, cause);
			free(note);
			if (c == NULL)
				rc = -1;
			else if (!mipro_has_instr(st, c)) {
				st->instr = xreallocarray(st->instr,
				    st->ninstr + 1, sizeof *st->instr);
				st->instr[st->ninstr++] = c;
			}
		}
	}
	search_ask_release(asks, n);
	for (i = 0; i < n; i++)
		free(a[i].demos);
	free(a);
	free(asks);
	return rc;
}

/* A combination's mean minibatch score over its trials. */
struct mipro_combo {
	struct cand	*c;
	double		 sum;
	size_t		 n;
};

static int
mipro_combo_cmp(const void *va, const void *vb)
{
	const struct mipro_combo	*a = va, *b = vb;
	double				 x = a->sum / a->n, y = b->sum / b->n;

	if (x != y)
		return x > y ? -1 : 1;
	return a->c->id < b->c->id ? -1 : a->c->id > b->c->id;
}

/*
 * The combinations of best mean minibatch score (averaged over their
 * trials, as MIPROv2 averages them), evaluated on all of dev.
 */
static int
mipro_full(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	struct mipro_combo	*v;
	struct cand		**top;
	size_t			 n = 0, i, j, ntop;
	int			 rc;

	v = xcalloc(st->ntrials + 1, sizeof *v);
	for (i = 0; i < st->ntrials; i++) {
		if (isnan(st->trials[i].score))
			continue;
		for (j = 0; j < n; j++)
			if (v[j].c->id == st->trials[i].cand)
				break;
		if (j == n) {
			if ((v[n].c = search_cand_by_id(s,
			    st->trials[i].cand)) == NULL)
				continue;
			n++;
		}
		v[j].sum += st->trials[i].score;
		v[j].n++;
	}
	qsort(v, n, sizeof *v, mipro_combo_cmp);
	ntop = n < (size_t)search_int(s, "full_top") ? n :
	    (size_t)search_int(s, "full_top");
	top = xcalloc(ntop + 1, sizeof *top);
	for (i = 0; i < ntop; i++)
		top[i] = v[i].c;
	rc = ntop > 0 ? search_evaluate(s, top, ntop, cause) : 0;
	free(top);
	free(v);
	return rc;
}

/* The TPE's suggestion from the trials so far. */
static int
mipro_suggest(struct search *s, size_t choice[2], char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	struct tpe_params	 p;
	struct tpe_trial	*tt;
	size_t			 ncats[2], i;
	int			 rc;

	tpe_params_default(&p);
	ncats[0] = st->ninstr;
	ncats[1] = st->nsets;
	tt = xcalloc(st->ntrials + 1, sizeof *tt);
	for (i = 0; i < st->ntrials; i++) {
		tt[i].choice = st->trials[i].choice;
		tt[i].score = st->trials[i].score;
	}
	rc = tpe_suggest(&p, ncats, 2, tt, st->ntrials, &s->rng, choice,
	    cause);
	free(tt);
	return rc;
}

/* One trial: a combination scored on a minibatch of dev. */
static int
mipro_trial(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	struct mipro_trial	*t;
	struct search_score	*res;
	struct cand		*c, *instr;
	size_t			*ex, n, i, k = 0;
	double			 sum = 0;
	char			*note;

	st->trials = xreallocarray(st->trials, st->ntrials + 1,
	    sizeof *st->trials);
	t = &st->trials[st->ntrials];
	if (mipro_suggest(s, t->choice, cause) != 0)
		return -1;
	instr = st->instr[t->choice[0]];
	note = xasprintf("trial %zu: instruction %lld, demo set %zu (%zu "
	    "demos)", st->ntrials + 1, (long long)instr->id, t->choice[1],
	    st->sets[t->choice[1]].n);
	c = search_add_demos(s, instr->text, &st->sets[t->choice[1]], "mipro",
	    &instr, 1, "mipro-combine", note, cause);
	free(note);
	if (c == NULL)
		return -1;
	ex = xcalloc(s->ndev + 1, sizeof *ex);
	n = search_draw(s, s->ndev, (size_t)search_int(s, "minibatch"), ex);
	for (i = 0; i < n; i++)
		ex[i] = s->dev[ex[i]];
	res = xcalloc(n + 1, sizeof *res);
	if (search_score_on(s, &c, 1, ex, n, res, cause) != 0) {
		free(res);
		free(ex);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!isnan(res[i].score)) {
			sum += res[i].score;
			k++;
		}
	search_scores_release(res, n);
	free(res);
	free(ex);
	t->score = k > 0 ? sum / k : NAN;
	t->cand = c->id;
	st->ntrials++;
	return 0;
}

static int
mipro_step(struct search *s, char **cause)
{
	struct mipro_state	*st = mipro_state(s);
	size_t			 trials = (size_t)search_int(s, "trials") *
				    (size_t)st->round;
	int			 last = st->round >= search_int(s, "rounds");

	switch (st->phase) {
	case PHASE_BOOTSTRAP:
		if (mipro_bootstrap(s, cause) != 0)
			return -1;
		st->phase = PHASE_GROUND;
		return 1;
	case PHASE_GROUND:
		if (mipro_ground(s, cause) != 0)
			return -1;
		st->phase = PHASE_PROPOSE;
		return 1;
	case PHASE_PROPOSE:
		if (mipro_propose(s, cause) != 0)
			return -1;
		st->phase = PHASE_TRIALS;
		return 1;
	case PHASE_TRIALS:
		break;
	}
	if (st->ntrials >= trials) {
		if (last)
			return 0;
		/* The next round: proposals from the best, then trials. */
		st->round++;
		st->phase = PHASE_PROPOSE;
		return mipro_step(s, cause);
	}
	if (mipro_trial(s, cause) != 0)
		return -1;
	if ((st->ntrials % (size_t)search_int(s, "full_every") == 0 ||
	    st->ntrials == trials) && mipro_full(s, cause) != 0)
		return -1;
	return st->ntrials < trials || !last ? 1 : 0;
}

static cJSON *
mipro_save(struct search *s)
{
	struct mipro_state	*st = mipro_state(s);
	cJSON			*o = cJSON_CreateObject(), *arr, *t;
	size_t			 i;

	cJSON_AddNumberToObject(o, "phase", st->phase);
	cJSON_AddNumberToObject(o, "round", st->round);
	arr = cJSON_AddArrayToObject(o, "demo_sets");
	for (i = 0; i < st->nsets; i++)
		cJSON_AddItemToArray(arr, demos_to_json(&st->sets[i]));
	cJSON_AddNumberToObject(o, "bootstrapped", (double)st->booted);
	cJSON_AddNumberToObject(o, "bootstrap_scored",
	    (double)st->boot_tried);
	if (st->summary != NULL)
		cJSON_AddStringToObject(o, "summary", st->summary);
	arr = cJSON_AddArrayToObject(o, "instructions");
	for (i = 0; i < st->ninstr; i++)
		cJSON_AddItemToArray(arr,
		    cJSON_CreateNumber((double)st->instr[i]->id));
	arr = cJSON_AddArrayToObject(o, "trials");
	for (i = 0; i < st->ntrials; i++) {
		t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "instruction",
		    (double)st->trials[i].choice[0]);
		cJSON_AddNumberToObject(t, "demo_set",
		    (double)st->trials[i].choice[1]);
		if (isnan(st->trials[i].score))
			cJSON_AddNullToObject(t, "score");
		else
			cJSON_AddNumberToObject(t, "score",
			    st->trials[i].score);
		cJSON_AddNumberToObject(t, "candidate",
		    (double)st->trials[i].cand);
		cJSON_AddItemToArray(arr, t);
	}
	return o;
}

/* A trial of the checkpoint, checked against the instructions and sets. */
static int
mipro_load_trial(struct mipro_state *st, const cJSON *t, char **cause)
{
	struct mipro_trial	*x;
	const cJSON		*sc = cJSON_GetObjectItemCaseSensitive(t,
				    "score");
	double			 i = json_num(t, "instruction");
	double			 j = json_num(t, "demo_set");

	if (!(i >= 0 && i < st->ninstr && j >= 0 && j < st->nsets))
		return cause_set(cause, "checkpoint: mipro trial %zu names "
		    "no instruction or demo set", st->ntrials + 1);
	st->trials = xreallocarray(st->trials, st->ntrials + 1,
	    sizeof *st->trials);
	x = &st->trials[st->ntrials++];
	x->choice[0] = (size_t)i;
	x->choice[1] = (size_t)j;
	x->score = cJSON_IsNumber(sc) ? sc->valuedouble : NAN;
	x->cand = (int64_t)json_num(t, "candidate");
	return 0;
}

static int
mipro_load(struct search *s, const cJSON *o, char **cause)
{
	struct mipro_state	*st;
	const cJSON		*v;
	struct cand		*c;
	struct demos		 d;

	st = xcalloc(1, sizeof *st);
	s->state = st;
	st->phase = (enum mipro_phase)json_num(o, "phase");
	st->round = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o,
	    "round")) ? (int)json_num(o, "round") : 1;
	if (!(st->phase >= PHASE_BOOTSTRAP && st->phase <= PHASE_TRIALS))
		return cause_set(cause, "checkpoint: mipro phase unknown");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o,
	    "demo_sets")) {
		if (demos_from_json(v, "checkpoint: mipro demo set", &d,
		    cause) != 0)
			return -1;
		mipro_set_add(st, &d);
		demos_release(&d);
	}
	st->booted = (size_t)json_num(o, "bootstrapped");
	st->boot_tried = (size_t)json_num(o, "bootstrap_scored");
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "summary")) != NULL &&
	    cJSON_IsString(v))
		st->summary = xstrdup(v->valuestring);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o,
	    "instructions")) {
		if ((c = search_cand_by_id(s,
		    (int64_t)cJSON_GetNumberValue(v))) == NULL)
			return cause_set(cause, "checkpoint: mipro instruction "
			    "%.0f is not among the run's candidates",
			    cJSON_GetNumberValue(v));
		st->instr = xreallocarray(st->instr, st->ninstr + 1,
		    sizeof *st->instr);
		st->instr[st->ninstr++] = c;
	}
	if (st->ninstr == 0)
		return cause_set(cause, "checkpoint: mipro has no instruction");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o, "trials"))
		if (mipro_load_trial(st, v, cause) != 0)
			return -1;
	return 0;
}

static void
mipro_free(struct search *s)
{
	struct mipro_state	*st = mipro_state(s);
	size_t			 i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nsets; i++)
		demos_release(&st->sets[i]);
	free(st->sets);
	free(st->summary);
	free(st->instr);
	free(st->trials);
	free(st);
	s->state = NULL;
}

const struct strategy_ops strategy_mipro_ops = {
	.name = "mipro",
	.params = mipro_params,
	.init = mipro_init,
	.step = mipro_step,
	.save = mipro_save,
	.load = mipro_load,
	.free = mipro_free,
};
