/*
 * Monte Carlo tree search over prompts, after PromptAgent (Wang et al.,
 * "PromptAgent: Strategic Planning with Language Models Enables
 * Expert-level Prompt Optimization", ICLR 2024).  Prompts are the
 * states of a tree whose root is the best starting prompt on dev; an
 * action is the optimizer's error feedback.  To expand a node, "width"
 * batches of training examples that its prompt answers wrongly are
 * drawn; for each, the optimizer writes what is wrong with the prompt
 * (the feedback, a textual gradient), then a new prompt from it and the
 * path of prompts so far, which becomes a child.  A node's reward is its
 * mean on one minibatch of dev examples, drawn when the search starts,
 * so that every node is scored on the same examples.
 *
 * Each step is one iteration of the paper's search: selection down the
 * tree by the UCT rule (Q + c sqrt(ln(N_parent + 1) / max(1, N))), the
 * expansion of the leaf, a simulation that goes on to the child of the
 * highest reward, expanding it, until the depth limit, a node worse than
 * the floor or a new best reward below the minimum depth, and the
 * back-propagation of the cumulative rewards (a node's reward plus those
 * of the nodes below it on the path) up the path.  The pick is the
 * paper's: of the paths traced so far, the one of the highest mean
 * reward, and on it the node of the highest reward.  It is scored on all
 * of dev after every step, so that a run stopped by its budget has it.
 *
 * The tree is the run's lineage (operator "mcts-expand", the feedback as
 * the note) and the checkpoint: each node's candidate, parent, depth,
 * reward, visits and backed-up rewards, the reward minibatch, the
 * thresholds and the paths traced.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

static const struct strategy_param mcts_params[] = {
	{ "iterations", PARAM_INT, "12", 1, 10000, NULL,
	  "iterations of the search, one a step" },
	{ "depth", PARAM_INT, "8", 1, 100, NULL,
	  "the depth limit of a path (its root is at depth 0)" },
	{ "width", PARAM_INT, "3", 1, 32, NULL,
	  "children of an expansion, each from its own batch of errors" },
	{ "minibatch", PARAM_INT, "16", 1, 100000, NULL,
	  "dev examples a node's reward is its mean on" },
	{ "errors", PARAM_INT, "5", 1, 50, NULL,
	  "examples in an expansion's batch: those answered wrongly are "
	  "shown" },
	{ "c", PARAM_NUMBER, "2.5", 0, 100, NULL,
	  "the exploration constant of the UCT rule" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

/* No node: the root's parent. */
#define MCTS_NONE	SIZE_MAX
/* The paper's minimum depth: no early stop and no floor above it. */
#define MCTS_MIN_DEPTH	2
/*
 * Batches drawn from train, then as many from dev, to find a batch with
 * errors, before an expansion goes without it.
 */
#define MCTS_DRAWS	3
/* Parts of one feedback reply kept. */
#define MCTS_ASPECTS	8

/* A node of the tree: a prompt. */
struct mnode {
	struct cand	*c;
	size_t		 parent;	/* MCTS_NONE for the root */
	int		 depth;
	double		 reward;	/* its mean on the reward minibatch */
	double		 qsum;		/* the cumulative rewards backed up */
	unsigned	 qn;		/* and how many */
	unsigned	 visits;	/* selections and simulations */
	unsigned	 expansions;
	int		 terminal;	/* not to be expanded */
};

/* A path of the tree, as node indices from the root. */
struct mpath {
	size_t		*v;
	size_t		 n;
};

struct mcts {
	struct mnode	*nodes;		/* in the order made; 0 is the root */
	size_t		 nnodes;
	size_t		*mb;		/* the reward minibatch: dev examples
					   (dataset indices) */
	size_t		 nmb;
	double		 threshold;	/* the best reward met simulating */
	double		 floor;		/* the root's reward */
	struct mpath	*traces;	/* each iteration's path */
	size_t		 ntraces;
};

static void
mpath_push(struct mpath *p, size_t i)
{
	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	p->v[p->n++] = i;
}

/* Q: the mean of the cumulative rewards, or the reward before any. */
static double
mcts_q(const struct mnode *n)
{
	return n->qn > 0 ? n->qsum / (double)n->qn : n->reward;
}

static double
mcts_uct(const struct mcts *t, size_t i, double c)
{
	const struct mnode	*n = &t->nodes[i];
	double			 np = 0;

	if (n->parent != MCTS_NONE)
		np = (double)t->nodes[n->parent].qn;
	return mcts_q(n) + c * sqrt(log(np + 1) / (double)(n->qn > 0 ?
	    n->qn : 1));
}

/*
 * Whether node i is a leaf for good: at the depth limit, marked, or
 * deeper than the minimum depth with a reward under its floor (the
 * mean of the root's reward and its parent's).
 */
static int
mcts_terminal(const struct search *s, const struct mcts *t, size_t i)
{
	const struct mnode	*n = &t->nodes[i];
	double			 floor = t->floor;

	if (n->terminal || n->depth >= search_int(s, "depth"))
		return 1;
	if (n->parent != MCTS_NONE)
		floor = (t->floor + t->nodes[n->parent].reward) / 2;
	return n->reward < floor && n->depth > MCTS_MIN_DEPTH;
}

/* The child of i that maximizes the UCT, or the reward; MCTS_NONE. */
static size_t
mcts_best_child(const struct mcts *t, size_t i, int uct, double c)
{
	size_t	j, best = MCTS_NONE;
	double	v, bv = 0;

	for (j = i + 1; j < t->nnodes; j++) {
		if (t->nodes[j].parent != i)
			continue;
		v = uct ? mcts_uct(t, j, c) : t->nodes[j].reward;
		if (best == MCTS_NONE || v > bv) {
			best = j;
			bv = v;
		}
	}
	return best;
}

/* Whether a node holds c. */
static int
mcts_holds(const struct mcts *t, const struct cand *c)
{
	size_t	i;

	for (i = 0; i < t->nnodes; i++)
		if (t->nodes[i].c == c)
			return 1;
	return 0;
}

/* Selection: from the root down by the UCT rule, to a leaf. */
static void
mcts_select(struct search *s, struct mcts *t, struct mpath *path)
{
	size_t	i = 0, next;

	for (;;) {
		mpath_push(path, i);
		t->nodes[i].visits++;
		if (mcts_terminal(s, t, i) || (next = mcts_best_child(t, i, 1,
		    search_number(s, "c"))) == MCTS_NONE)
			return;
		i = next;
	}
}

/* The rewards of n nodes: their means on the reward minibatch. */
static int
mcts_rewards(struct search *s, struct mcts *t, const size_t *idx, size_t n,
    char **cause)
{
	struct search_score	*res;
	struct cand		**c;
	double			 m;
	size_t			 i;
	int			 rc;

	if (n == 0)
		return 0;
	c = xcalloc(n, sizeof *c);
	for (i = 0; i < n; i++)
		c[i] = t->nodes[idx[i]].c;
	res = xcalloc(n * t->nmb + 1, sizeof *res);
	rc = search_score_on(s, c, n, t->mb, t->nmb, res, cause);
	for (i = 0; rc == 0 && i < n; i++) {
		m = reflect_mean(&res[i * t->nmb], t->nmb);
		t->nodes[idx[i]].reward = isnan(m) ? 0 : m;
	}
	search_scores_release(res, n * t->nmb);
	free(res);
	free(c);
	return rc;
}

/* One batch of an expansion: its examples and the prompt's errors. */
struct mbatch {
	size_t			*ex;
	size_t			 nex;
	struct search_score	*res;	/* the prompt's answers to ex */
	size_t			*err;	/* positions in ex */
	size_t			 nerr;
	char			*errors;	/* the errors as text */
	char			*feedback;	/* the optimizer's */
};

static void
mbatch_release(struct mbatch *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		search_scores_release(b[i].res, b[i].nex);
		free(b[i].res);
		free(b[i].ex);
		free(b[i].err);
		free(b[i].errors);
		free(b[i].feedback);
	}
	free(b);
}

/*
 * Draws a batch for every one of the n that has no errors yet (from
 * train in the first rounds, then from dev), scores the prompt on them
 * all at once and finds their errors.  Returns how many were drawn, or
 * -1.
 */
static int
mcts_draw_round(struct search *s, struct cand *c, struct mbatch *b,
    size_t n, int from_dev, char **cause)
{
	struct search_score	*res;
	size_t			*all, want, nall = 0, drawn = 0, i, j, k;
	int			 rc;

	want = (size_t)search_int(s, "errors");
	all = xcalloc(n * want + 1, sizeof *all);
	for (i = 0; i < n; i++) {
		if (b[i].nerr > 0)
			continue;
		search_scores_release(b[i].res, b[i].nex);
		free(b[i].res);
		b[i].res = NULL;
		if (b[i].ex == NULL)
			b[i].ex = xcalloc(want + 1, sizeof *b[i].ex);
		b[i].nex = from_dev ? reflect_dev_draw(s, want, b[i].ex) :
		    reflect_minibatch_draw(s, want, b[i].ex);
		memcpy(all + nall, b[i].ex, b[i].nex * sizeof *all);
		nall += b[i].nex;
		drawn++;
	}
	res = xcalloc(nall + 1, sizeof *res);
	rc = nall > 0 ? search_score_on(s, &c, 1, all, nall, res, cause) : 0;
	/* Each batch takes its answers over. */
	for (i = 0, k = 0; i < n; i++) {
		if (b[i].nerr > 0 || b[i].res != NULL)
			continue;
		b[i].res = xcalloc(b[i].nex + 1, sizeof *b[i].res);
		memcpy(b[i].res, res + k, b[i].nex * sizeof *res);
		k += b[i].nex;
		if (b[i].err == NULL)
			b[i].err = xcalloc(want + 1, sizeof *b[i].err);
		for (j = 0; rc == 0 && j < b[i].nex; j++)
			if (!isnan(b[i].res[j].score) && b[i].res[j].score < 1)
				b[i].err[b[i].nerr++] = j;
	}
	free(res);
	free(all);
	return rc == 0 ? (int)drawn : -1;
}

/*
 * The "width" batches of an expansion of c, each with errors (a batch
 * without is drawn again, up to MCTS_DRAWS times from train and then as
 * many from dev); those that found none are left without.
 */
static struct mbatch *
mcts_batches(struct search *s, struct cand *c, size_t width, char **cause)
{
	struct mbatch	*b;
	int		 round, n;

	b = xcalloc(width + 1, sizeof *b);
	for (round = 0; round < 2 * MCTS_DRAWS; round++) {
		if (round >= MCTS_DRAWS && s->ntrain == 0)
			break;
		if ((n = mcts_draw_round(s, c, b, width, round >= MCTS_DRAWS,
		    cause)) < 0) {
			mbatch_release(b, width);
			return NULL;
		}
		if (n == 0)
			break;
	}
	return b;
}

/* The path's prompts from the root down to node i, for a meta-prompt. */
static char *
mcts_trajectory(const struct mcts *t, size_t i)
{
	struct strbuf	 sb;
	size_t		*up, n = 0, j;

	up = xcalloc((size_t)t->nodes[i].depth + 2, sizeof *up);
	for (j = i; j != MCTS_NONE; j = t->nodes[j].parent)
		up[n++] = j;
	strbuf_init(&sb);
	strbuf_adds(&sb, "");
	while (n-- > 0)
		strbuf_addf(&sb, "<prompt>%s</prompt>\n", t->nodes[up[n]].c->text);
	free(up);
	return strbuf_detach(&sb);
}

/* The feedback of each batch with errors: the optimizer's critiques. */
static int
mcts_feedback(struct search *s, struct cand *c, struct mbatch *b,
    size_t width, char **cause)
{
	struct search_ask	*a;
	struct rvars		*rv;
	struct strbuf		 sb;
	size_t			*from, n = 0, i;
	char			**nerr;
	int			 k, rc;

	rv = xcalloc(width + 1, sizeof *rv);
	from = xcalloc(width + 1, sizeof *from);
	nerr = xcalloc(width + 1, sizeof *nerr);
	for (i = 0; i < width; i++) {
		if (b[i].nerr == 0)
			continue;
		b[i].errors = reflect_examples(s, "errors", b[i].ex, b[i].res,
		    b[i].err, b[i].nerr, 1);
		nerr[n] = reflect_count(b[i].nerr, "example");
		rvars_set(&rv[n], "task", reflect_task(s));
		rvars_set(&rv[n], "prompt", c->text);
		rvars_set(&rv[n], "nerrors", nerr[n]);
		rvars_set(&rv[n], "errors", b[i].errors);
		from[n++] = i;
	}
	a = reflect_ask(s, rv, n, "mcts_gradient", "critique", MCTS_ASPECTS,
	    cause);
	rc = a != NULL ? 0 : -1;
	for (i = 0; a != NULL && i < n; i++) {
		if (a[i].n == 0)
			continue;
		strbuf_init(&sb);
		for (k = 0; k < a[i].n; k++)
			strbuf_addf(&sb, "%s%s", k > 0 ? "\n" : "",
			    a[i].parts[k]);
		b[from[i]].feedback = strbuf_detach(&sb);
	}
	reflect_asks_free(a, n);
	for (i = 0; i < n; i++)
		free(nerr[i]);
	free(nerr);
	free(from);
	free(rv);
	return rc;
}

/*
 * The new prompts, one from each feedback, added as children of node i
 * (a prompt the tree holds already is not added again); their indices
 * are appended to *kids.
 */
static int
mcts_children(struct search *s, struct mcts *t, size_t i, struct mbatch *b,
    size_t width, struct mpath *kids, char **cause)
{
	struct search_ask	*a;
	struct rvars		*rv;
	struct cand		*c = t->nodes[i].c, **news;
	struct mnode		*m;
	char			*traj, *count;
	size_t			*from, n = 0, nnews, j, k;
	int			 rc = 0;

	rv = xcalloc(width + 1, sizeof *rv);
	from = xcalloc(width + 1, sizeof *from);
	traj = mcts_trajectory(t, i);
	count = reflect_count(1, "new prompt");
	for (j = 0; j < width; j++) {
		if (b[j].feedback == NULL)
			continue;
		rvars_set(&rv[n], "task", reflect_task(s));
		rvars_set(&rv[n], "prompt", c->text);
		rvars_set(&rv[n], "errors", b[j].errors);
		rvars_set(&rv[n], "feedback", b[j].feedback);
		rvars_set(&rv[n], "trajectory", traj);
		rvars_set(&rv[n], "count", count);
		from[n++] = j;
	}
	if ((a = reflect_ask(s, rv, n, "mcts_optimize", NULL, 1, cause)) ==
	    NULL)
		rc = -1;
	for (j = 0; a != NULL && j < n; j++) {
		news = NULL;
		nnews = 0;
		if (rc == 0 && reflect_add(s, a[j].parts, a[j].n, "mcts-expand",
		    &c, 1, b[from[j]].feedback, &news, &nnews, cause) != 0)
			rc = -1;
		else if (rc != 0)
			search_ask_release(&a[j], 1);
		a[j].parts = NULL;
		a[j].n = 0;
		for (k = 0; k < nnews; k++) {
			if (mcts_holds(t, news[k]))
				continue;
			t->nodes = xreallocarray(t->nodes, t->nnodes + 1,
			    sizeof *t->nodes);
			m = &t->nodes[t->nnodes];
			memset(m, 0, sizeof *m);
			m->c = news[k];
			m->parent = i;
			m->depth = t->nodes[i].depth + 1;
			mpath_push(kids, t->nnodes++);
		}
		free(news);
	}
	reflect_asks_free(a, n);
	free(rv);
	free(from);
	free(traj);
	free(count);
	return rc;
}

/*
 * Expansion of node i: "width" batches of its errors, the optimizer's
 * feedback on each, a new prompt from each feedback, and the new
 * children's rewards.  A node that is terminal, or that made no error
 * on any batch drawn, is marked terminal; one whose replies gave no new
 * prompt stays open, to be tried again with other batches.
 */
static int
mcts_expand(struct search *s, struct mcts *t, size_t i, char **cause)
{
	struct mbatch	*b;
	struct mpath	 kids = { NULL, 0 };
	size_t		 width = (size_t)search_int(s, "width"), k;
	int		 rc = -1, errors = 0;

	if (mcts_terminal(s, t, i)) {
		t->nodes[i].terminal = 1;
		return 0;
	}
	t->nodes[i].expansions++;
	if ((b = mcts_batches(s, t->nodes[i].c, width, cause)) == NULL)
		return -1;
	for (k = 0; k < width; k++)
		errors += b[k].nerr > 0;
	if (errors == 0)
		t->nodes[i].terminal = 1;
	if (mcts_feedback(s, t->nodes[i].c, b, width, cause) == 0 &&
	    mcts_children(s, t, i, b, width, &kids, cause) == 0 &&
	    mcts_rewards(s, t, kids.v, kids.n, cause) == 0)
		rc = 0;
	log_debug("mcts: expanded node %zu (candidate %lld, depth %d): %d "
	    "batches with errors, %zu children", i,
	    (long long)t->nodes[i].c->id, t->nodes[i].depth, errors, kids.n);
	mbatch_release(b, width);
	free(kids.v);
	return rc;
}

/*
 * Simulation from the path's leaf, just expanded: on to the child of the
 * highest reward, expanding a node without children, until a terminal
 * node, a node whose expansion gave none, or a reward above the best so
 * far deeper than the minimum depth (an early stop).
 */
static int
mcts_simulate(struct search *s, struct mcts *t, struct mpath *path,
    char **cause)
{
	struct mnode	*n;
	size_t		 i = path->v[path->n - 1];
	int		 expanded = 1;

	for (;;) {
		n = &t->nodes[i];
		if (n->reward > t->threshold && n->depth > MCTS_MIN_DEPTH) {
			t->threshold = n->reward;
			n->terminal = mcts_terminal(s, t, i);
			return 0;
		}
		if (n->reward > t->threshold)
			t->threshold = n->reward;
		if (mcts_terminal(s, t, i))
			return 0;
		if (!expanded && mcts_best_child(t, i, 0, 0) == MCTS_NONE &&
		    mcts_expand(s, t, i, cause) != 0)
			return -1;
		if ((i = mcts_best_child(t, i, 0, 0)) == MCTS_NONE)
			return 0;
		expanded = 0;
		t->nodes[i].visits++;
		mpath_push(path, i);
	}
}

/*
 * Back-propagation: each node of the path gets the sum of the rewards
 * from it to the path's end as a cumulative reward.
 */
static void
mcts_backprop(struct mcts *t, const struct mpath *path)
{
	double	cum = 0;
	size_t	k;

	for (k = path->n; k > 0; k--) {
		cum += t->nodes[path->v[k - 1]].reward;
		t->nodes[path->v[k - 1]].qsum += cum;
		t->nodes[path->v[k - 1]].qn++;
	}
}

/*
 * The pick: on the traced path of the highest mean reward, the node of
 * the highest reward (the first of equals); the root before any path.
 */
static size_t
mcts_pick(const struct mcts *t)
{
	const struct mpath	*p, *bp = NULL;
	double			 m, bm = 0;
	size_t			 i, k, best;

	for (i = 0; i < t->ntraces; i++) {
		p = &t->traces[i];
		for (k = 0, m = 0; k < p->n; k++)
			m += t->nodes[p->v[k]].reward;
		m /= (double)(p->n > 0 ? p->n : 1);
		if (bp == NULL || m > bm) {
			bp = p;
			bm = m;
		}
	}
	if (bp == NULL || bp->n == 0)
		return 0;
	for (k = 1, best = bp->v[0]; k < bp->n; k++)
		if (t->nodes[bp->v[k]].reward > t->nodes[best].reward)
			best = bp->v[k];
	return best;
}

/*
 * The root: the best starting prompt on dev (the seeds, or a refresh's
 * champion and pool, all scored before the first step), and the reward
 * minibatch, drawn from dev.
 */
static int
mcts_root(struct search *s, struct mcts *t, char **cause)
{
	struct cand	*root;
	size_t		 want = (size_t)search_int(s, "minibatch"), i;

	if ((root = search_best(s)) == NULL)
		for (i = 0; root == NULL && i < s->ncands; i++)
			if (s->cands[i]->nscored > 0)
				root = s->cands[i];
	if (root == NULL)
		return cause_set(cause, "mcts: no starting prompt was scored "
		    "on dev to be the root");
	t->mb = xcalloc((want < s->ndev ? want : s->ndev) + 1, sizeof *t->mb);
	t->nmb = reflect_dev_draw(s, want, t->mb);
	t->nodes = xcalloc(1, sizeof *t->nodes);
	t->nodes[0].c = root;
	t->nodes[0].parent = MCTS_NONE;
	t->nnodes = 1;
	i = 0;
	if (mcts_rewards(s, t, &i, 1, cause) != 0)
		return -1;
	t->floor = t->threshold = t->nodes[0].reward;
	return 0;
}

static int
mcts_init(struct search *s, char **cause)
{
	if (s->task->roles[ROLE_OPTIMIZER] == NULL)
		return cause_set(cause, "strategy 'mcts' needs an optimizer "
		    "(roles.optimizer)");
	s->state = xcalloc(1, sizeof(struct mcts));
	return 0;
}

static int
mcts_step(struct search *s, char **cause)
{
	struct mcts	*t = s->state;
	struct mpath	 path = { NULL, 0 };
	struct cand	*pick;
	long long	 iterations = search_int(s, "iterations");
	size_t		 leaf;

	if (s->step >= iterations)
		return 0;
	if (t->nnodes == 0 && mcts_root(s, t, cause) != 0)
		return -1;
	mcts_select(s, t, &path);
	leaf = path.v[path.n - 1];
	if (t->nodes[leaf].depth < search_int(s, "depth") &&
	    (mcts_expand(s, t, leaf, cause) != 0 ||
	    mcts_simulate(s, t, &path, cause) != 0)) {
		free(path.v);
		return -1;
	}
	mcts_backprop(t, &path);
	t->traces = xreallocarray(t->traces, t->ntraces + 1,
	    sizeof *t->traces);
	t->traces[t->ntraces++] = path;
	/* The pick so far, on all of dev. */
	pick = t->nodes[mcts_pick(t)].c;
	log_debug("mcts: iteration %d went %zu deep; the pick is %lld",
	    s->step + 1, path.n, (long long)pick->id);
	if (search_evaluate(s, &pick, 1, cause) != 0)
		return -1;
	return s->step + 1 < iterations ? 1 : 0;
}

static cJSON *
mcts_save(struct search *s)
{
	struct mcts	*t = s->state;
	struct mnode	*n;
	cJSON		*o, *a, *e, *p;
	size_t		 i, k;

	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "nodes");
	for (i = 0; i < t->nnodes; i++) {
		n = &t->nodes[i];
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)n->c->id);
		cJSON_AddNumberToObject(e, "parent", n->parent == MCTS_NONE ?
		    -1 : (double)n->parent);
		cJSON_AddNumberToObject(e, "depth", n->depth);
		cJSON_AddNumberToObject(e, "reward", n->reward);
		cJSON_AddNumberToObject(e, "visits", n->visits);
		cJSON_AddNumberToObject(e, "q_sum", n->qsum);
		cJSON_AddNumberToObject(e, "q_n", n->qn);
		cJSON_AddNumberToObject(e, "expansions", n->expansions);
		cJSON_AddBoolToObject(e, "terminal", n->terminal);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "minibatch");
	for (i = 0; i < t->nmb; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->mb[i]));
	cJSON_AddNumberToObject(o, "threshold", t->threshold);
	cJSON_AddNumberToObject(o, "floor", t->floor);
	a = cJSON_AddArrayToObject(o, "paths");
	for (i = 0; i < t->ntraces; i++) {
		p = cJSON_CreateArray();
		for (k = 0; k < t->traces[i].n; k++)
			cJSON_AddItemToArray(p, cJSON_CreateNumber(
			    (double)t->traces[i].v[k]));
		cJSON_AddItemToArray(a, p);
	}
	return o;
}

/* The number o's member name holds, in [min, max]; -1 with *cause. */
static int
mcts_load_num(const cJSON *o, const char *name, double min, double max,
    double *v, char **cause)
{
	const cJSON	*m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(m) || m->valuedouble < min ||
	    m->valuedouble > max)
		return cause_set(cause, "mcts checkpoint: '%s' is missing or "
		    "out of range", name);
	*v = m->valuedouble;
	return 0;
}

/* One node of the checkpoint, the i-th. */
static int
mcts_load_node(struct search *s, struct mcts *t, const cJSON *e, size_t i,
    char **cause)
{
	struct mnode	*n = &t->nodes[i];
	double		 v = 0;

	if (mcts_load_num(e, "id", 1, 9e15, &v, cause) != 0)
		return -1;
	if ((n->c = reflect_cand(s, (int64_t)v)) == NULL)
		return cause_set(cause, "mcts checkpoint: candidate %lld is "
		    "not among the run's candidates", (long long)v);
	if (mcts_load_num(e, "parent", -1, (double)i - 1, &v, cause) != 0)
		return -1;
	if ((v < 0) != (i == 0))
		return cause_set(cause, "mcts checkpoint: node %zu has %s "
		    "parent", i, i == 0 ? "a" : "no");
	n->parent = v < 0 ? MCTS_NONE : (size_t)v;
	n->depth = i == 0 ? 0 : t->nodes[n->parent].depth + 1;
	if (mcts_load_num(e, "reward", -1e9, 1e9, &n->reward, cause) != 0 ||
	    mcts_load_num(e, "q_sum", -1e15, 1e15, &n->qsum, cause) != 0 ||
	    mcts_load_num(e, "q_n", 0, 1e9, &v, cause) != 0)
		return -1;
	n->qn = (unsigned)v;
	if (mcts_load_num(e, "visits", 0, 1e9, &v, cause) != 0)
		return -1;
	n->visits = (unsigned)v;
	if (mcts_load_num(e, "expansions", 0, 1e9, &v, cause) != 0)
		return -1;
	n->expansions = (unsigned)v;
	n->terminal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
	    "terminal"));
	return 0;
}

/* The reward minibatch and the paths of the checkpoint. */
static int
mcts_load_lists(struct search *s, struct mcts *t, const cJSON *o,
    char **cause)
{
	const cJSON	*a, *e, *p;
	size_t		 i, ex;

	a = cJSON_GetObjectItemCaseSensitive(o, "minibatch");
	t->mb = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *t->mb);
	cJSON_ArrayForEach(e, a) {
		ex = cJSON_IsNumber(e) && e->valuedouble >= 0 ?
		    (size_t)e->valuedouble : SIZE_MAX;
		for (i = 0; i < s->ndev && s->dev[i] != ex; i++)
			;
		if (i == s->ndev)
			return cause_set(cause, "mcts checkpoint: minibatch "
			    "example %zu is not a dev example", t->nmb + 1);
		t->mb[t->nmb++] = ex;
	}
	if (t->nnodes > 0 && t->nmb == 0)
		return cause_set(cause, "mcts checkpoint: no reward minibatch");
	a = cJSON_GetObjectItemCaseSensitive(o, "paths");
	t->traces = xcalloc((size_t)cJSON_GetArraySize(a) + 1,
	    sizeof *t->traces);
	cJSON_ArrayForEach(p, a) {
		t->ntraces++;
		cJSON_ArrayForEach(e, p) {
			if (!cJSON_IsNumber(e) || e->valuedouble < 0 ||
			    e->valuedouble >= (double)t->nnodes)
				return cause_set(cause, "mcts checkpoint: path "
				    "%zu names no node", t->ntraces);
			mpath_push(&t->traces[t->ntraces - 1],
			    (size_t)e->valuedouble);
		}
	}
	return 0;
}

static int
mcts_load(struct search *s, const cJSON *o, char **cause)
{
	struct mcts	*t;
	const cJSON	*a, *e;
	size_t		 i = 0;

	if (mcts_init(s, cause) != 0)
		return -1;
	t = s->state;
	if (!cJSON_IsObject(o))
		return cause_set(cause, "mcts checkpoint: expected an object");
	a = cJSON_GetObjectItemCaseSensitive(o, "nodes");
	t->nodes = xcalloc((size_t)cJSON_GetArraySize(a) + 1,
	    sizeof *t->nodes);
	cJSON_ArrayForEach(e, a) {
		if (mcts_load_node(s, t, e, i, cause) != 0)
			return -1;
		t->nnodes = ++i;
	}
	if (t->nnodes > 0 && (mcts_load_num(o, "threshold", -1e9, 1e9,
	    &t->threshold, cause) != 0 || mcts_load_num(o, "floor", -1e9,
	    1e9, &t->floor, cause) != 0))
		return -1;
	return mcts_load_lists(s, t, o, cause);
}

static void
mcts_free(struct search *s)
{
	struct mcts	*t = s->state;
	size_t		 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ntraces; i++)
		free(t->traces[i].v);
	free(t->traces);
	free(t->nodes);
	free(t->mb);
	free(t);
	s->state = NULL;
}

const struct strategy_ops strategy_mcts_ops = {
	.name = "mcts",
	.params = mcts_params,
	.init = mcts_init,
	.step = mcts_step,
	.save = mcts_save,
	.load = mcts_load,
	.free = mcts_free,
};
