/*
 * reflect mode protegi: textual gradients (Pryzant et al., "Automatic
 * Prompt Optimization with 'Gradient Descent' and Beam Search").  The
 * beam is scored on a minibatch, the optimizer writes critiques of each
 * prompt from samples of its errors, each critique is applied as an
 * edit, paraphrases add Monte Carlo neighbours, and a bandit over
 * minibatches (UCB or successive rejects) picks the next beam.  The
 * critique requests also show what people wrote of the prompt's answers
 * (reflect_human.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "search.h"
#include "xmalloc.h"

/* A prompt in the bandit: its scores on the pool's examples. */
struct arm {
	struct cand	*c;
	struct cand	*parent;	/* NULL for beam prompts */
	double		*sc;		/* per pool position, NAN unknown */
	size_t		 n;
	double		 sum;
};

static double
arm_mean(const struct arm *a)
{
	return a->n > 0 ? a->sum / (double)a->n : -1;
}

/* Scores the chosen arms on the chosen pool positions. */
static int
arms_score(struct search *s, struct arm *arms, const size_t *which,
    size_t nwhich, const size_t *pos, size_t npos, char **cause)
{
	const size_t		*pool;
	struct search_score	*res;
	struct cand		**cands;
	size_t			*ex, npool, i, j;
	struct arm		*a;
	int			 rc;

	if (nwhich == 0 || npos == 0)
		return 0;
	pool = reflect_pool(s, &npool);
	cands = xcalloc(nwhich, sizeof *cands);
	ex = xcalloc(npos, sizeof *ex);
	for (i = 0; i < nwhich; i++)
		cands[i] = arms[which[i]].c;
	for (j = 0; j < npos; j++)
		ex[j] = pool[pos[j]];
	res = xcalloc(nwhich * npos, sizeof *res);
	rc = search_score_on(s, cands, nwhich, ex, npos, res, cause);
	for (i = 0; rc == 0 && i < nwhich; i++) {
		a = &arms[which[i]];
		for (j = 0; j < npos; j++) {
			if (isnan(res[i * npos + j].score) ||
			    !isnan(a->sc[pos[j]]))
				continue;
			a->sc[pos[j]] = res[i * npos + j].score;
			a->sum += a->sc[pos[j]];
			a->n++;
		}
	}
	search_scores_release(res, nwhich * npos);
	free(res);
	free(ex);
	free(cands);
	return rc;
}

static int
arm_cmp_desc(const void *va, const void *vb)
{
	const struct arm *const	*a = va, *const *b = vb;
	double			 ma = arm_mean(*a), mb = arm_mean(*b);

	if (ma != mb)
		return ma > mb ? -1 : 1;
	return *a < *b ? -1 : *a > *b;	/* pool order */
}

/* UCB over minibatches: rounds of the arms with the highest bounds. */
static int
bandit_ucb(struct search *s, struct arm *arms, size_t narms, char **cause)
{
	size_t	 rounds = (size_t)search_int(s, "bandit_rounds");
	size_t	 k = (size_t)search_int(s, "bandit_arms");
	size_t	 m = (size_t)search_int(s, "bandit_samples");
	double	 c = search_number(s, "ucb_c"), *ucb, best;
	size_t	*which, *pos, npool, npos, t, i, j, b;
	int	*taken;

	(void)reflect_pool(s, &npool);
	if (k > narms)
		k = narms;
	which = xcalloc(k + 1, sizeof *which);
	pos = xcalloc(m + 1, sizeof *pos);
	ucb = xcalloc(narms, sizeof *ucb);
	taken = xcalloc(narms, sizeof *taken);
	for (t = 0; t < rounds; t++) {
		for (i = 0; i < narms; i++) {
			ucb[i] = arm_mean(&arms[i]) + c * sqrt(log((double)t +
			    2) / ((double)arms[i].n + 1e-3));
			taken[i] = 0;
		}
		/* The k highest bounds; ties go to the earlier arm. */
		for (j = 0; j < k; j++) {
			b = narms;
			best = -INFINITY;
			for (i = 0; i < narms; i++)
				if (!taken[i] && ucb[i] > best) {
					best = ucb[i];
					b = i;
				}
			taken[b] = 1;
			which[j] = b;
		}
		npos = search_draw(s, npool, m, pos);
		if (arms_score(s, arms, which, k, pos, npos, cause) != 0)
			goto fail;
	}
	free(which);
	free(pos);
	free(ucb);
	free(taken);
	return 0;
fail:
	free(which);
	free(pos);
	free(ucb);
	free(taken);
	return -1;
}

/*
 * Successive rejects (Audibert and Bubeck) within the same budget as UCB:
 * in each phase every arm left is scored on fresh examples and the worst
 * is rejected, until the beam is left.
 */
static int
bandit_sr(struct search *s, struct arm *arms, size_t narms, size_t beam,
    char **cause)
{
	double	 budget, logbar, nk, prev = 0;
	size_t	*alive, *pos, nalive = narms, npool, npos, K, k, i, worst;

	if (narms <= beam)
		return 0;
	(void)reflect_pool(s, &npool);
	budget = (double)search_int(s, "bandit_rounds") *
	    (double)search_int(s, "bandit_arms") *
	    (double)search_int(s, "bandit_samples");
	K = narms - beam;
	logbar = 0.5;
	for (i = 2; i <= K; i++)
		logbar += 1.0 / (double)i;
	alive = xcalloc(narms, sizeof *alive);
	pos = xcalloc(npool + 1, sizeof *pos);
	for (i = 0; i < narms; i++)
		alive[i] = i;
	for (k = 1; nalive > beam; k++) {
		nk = ceil((budget - (double)K) / (logbar * (double)(K + 1 -
		    (k <= K ? k : K))));
		npos = nk - prev >= 1 ? (size_t)(nk - prev) : 1;
		prev = nk > prev ? nk : prev;
		npos = search_draw(s, npool, npos, pos);
		if (arms_score(s, arms, alive, nalive, pos, npos, cause) != 0) {
			free(alive);
			free(pos);
			return -1;
		}
		worst = 0;
		for (i = 1; i < nalive; i++)
			if (arm_mean(&arms[alive[i]]) <=
			    arm_mean(&arms[alive[worst]]))
				worst = i;
		arms[alive[worst]].n = 0;	/* rejected: ranks last */
		arms[alive[worst]].sum = 0;
		memmove(&alive[worst], &alive[worst + 1], (nalive - worst - 1) *
		    sizeof *alive);
		nalive--;
	}
	free(alive);
	free(pos);
	return 0;
}

/* Errors of one beam prompt on the minibatch, as positions in it. */
static size_t
protegi_errors(const struct search_score *res, size_t n, size_t *out)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(res[i].score) && res[i].score < 1.0)
			out[k++] = i;
	return k;
}


/*
 * The distinct new prompts in news (reordered), at most "expansion" of
 * them drawn at random, appended to *kids.
 */
static void
protegi_select(struct search *s, struct reflect *st, struct cand *b,
    struct cand **news, size_t nnews, struct cand ***kids, size_t *nkids)
{
	size_t	 max = (size_t)search_int(s, "expansion");
	size_t	*pick, npick, i, j, k;

	for (i = 0, k = 0; i < nnews; i++) {
		if (news[i] == b || reflect_member(st, news[i]->id))
			continue;
		for (j = 0; j < k; j++)
			if (news[j] == news[i])
				break;
		if (j == k)
			news[k++] = news[i];
	}
	nnews = k;
	if (nnews <= max) {
		for (i = 0; i < nnews; i++)
			reflect_push(kids, nkids, news[i]);
		return;
	}
	pick = xcalloc(nnews, sizeof *pick);
	npick = search_draw(s, nnews, max, pick);
	for (i = 0; i < npick; i++)
		reflect_push(kids, nkids, news[pick[i]]);
	free(pick);
}

/* One protegi step, phase by phase. */
struct protegi {
	struct cand		**beam;
	size_t			  nbeam;
	const size_t		 *pool;	/* borrowed: reflect_pool */
	size_t			  npool;
	size_t			 *mbpos;	/* the minibatch, in the pool */
	size_t			 *mb;		/* the minibatch, examples */
	size_t			  nmb;
	struct search_score	 *res;	/* the beam on the minibatch */
	struct cand		**kids;	/* new prompts of the beam */
	struct cand		**kparent;	/* the beam prompt of each */
	size_t			  nkids;
	struct arm		 *arms;
	size_t			  narms;
};

/* The beam's members that the run knows; returns how many. */
static size_t
protegi_beam(struct search *s, struct reflect *st, struct protegi *p)
{
	size_t	i;

	for (i = 0; i < st->nset; i++) {
		p->beam = xreallocarray(p->beam, p->nbeam + 1,
		    sizeof *p->beam);
		if ((p->beam[p->nbeam] = reflect_cand(s, st->set[i].id)) !=
		    NULL)
			p->nbeam++;
	}
	return p->nbeam;
}

/* The beam on one minibatch: their errors feed the critiques. */
static int
protegi_minibatch(struct search *s, struct reflect *st, struct protegi *p,
    char **cause)
{
	size_t	j;

	p->pool = reflect_pool(s, &p->npool);
	p->mbpos = xcalloc(p->npool + 1, sizeof *p->mbpos);
	p->mb = xcalloc(p->npool + 1, sizeof *p->mb);
	p->nmb = search_draw(s, p->npool, reflect_minibatch(s, st),
	    p->mbpos);
	for (j = 0; j < p->nmb; j++)
		p->mb[j] = p->pool[p->mbpos[j]];
	p->res = xcalloc(p->nbeam * p->nmb + 1, sizeof *p->res);
	return search_score_on(s, p->beam, p->nbeam, p->mb, p->nmb, p->res,
	    cause);
}

/*
 * What one beam prompt's critiques are written from (its errors on the
 * minibatch, or on dev when it made none there), and its new prompts.
 */
struct protegi_exp {
	const size_t			*ex;	/* the minibatch, or dev */
	const struct search_score	*res;	/* the prompt's on ex */
	size_t				*err;	/* errors, as positions in ex */
	size_t				 nerr;
	char				*score;	/* its mean on ex, in words */
	struct search_score		*dres;	/* its dev scores, if used */
	struct rhuman			 human;	/* people's critiques */
	struct cand			**news;
	size_t				 nnews;
};

/* One gradient: a critique request from a sample of a prompt's errors. */
struct protegi_grad {
	size_t		 beam;		/* the prompt, in p->beam */
	char		*errtext;
};

/*
 * The errors of beam prompt b on the minibatch; with none there, the
 * errors it is known to make on dev, at no cost.
 */
static void
protegi_errs_find(struct search *s, struct cand *b, const size_t *mb,
    size_t nmb, const struct search_score *res, struct protegi_exp *pe)
{
	size_t	i;

	pe->score = reflect_num(reflect_mean(res, nmb));
	pe->err = xcalloc(nmb + s->ndev + 1, sizeof *pe->err);
	pe->ex = mb;
	pe->res = res;
	pe->nerr = protegi_errors(res, nmb, pe->err);
	if (pe->nerr == 0 && s->ndev > 0) {
		pe->dres = xcalloc(s->ndev, sizeof *pe->dres);
		for (i = 0; i < s->ndev; i++) {
			pe->dres[i].score = b->scores[i];
			pe->dres[i].output = b->outputs[i];
		}
		pe->nerr = protegi_errors(pe->dres, s->ndev, pe->err);
		pe->ex = s->dev;
		pe->res = pe->dres;
	}
}

/*
 * Adds the prompts of reply a (taken over) as new prompts of ex, made by
 * op from *parent with note; once rc says a reply failed, the rest are
 * only freed.  Returns rc, or -1 when this one failed.
 */
static int
protegi_take(struct search *s, struct search_ask *a, int rc, const char *op,
    struct cand **parent, const char *note, struct protegi_exp *ex,
    char **cause)
{
	if (rc == 0 && reflect_add(s, a->parts, a->n, op, parent, 1, note,
	    &ex->news, &ex->nnews, cause) != 0)
		rc = -1;
	else if (rc != 0)
		search_ask_release(a, 1);
	a->parts = NULL;
	a->n = 0;
	return rc;
}

/*
 * The gradients of every beam prompt, each from its own sample of the
 * prompt's errors (drawn beam by beam) and with what people wrote of
 * its answers, and the critiques of all of them, asked for at once:
 * (*crit)[g] answers gradient g.
 */
static int
protegi_critiques(struct search *s, struct reflect *st, struct protegi *p,
    struct protegi_exp *ex, struct protegi_grad **gr, size_t *ng,
    struct search_ask **crit, char **cause)
{
	struct rvars	*rv;
	char		*count;
	size_t		*pick, npick, want, i, j, g;

	want = (size_t)search_int(s, "gradients");
	*gr = xcalloc(p->nbeam * want + 1, sizeof **gr);
	for (i = 0; i < p->nbeam; i++) {
		protegi_errs_find(s, p->beam[i], p->mb, p->nmb,
		    &p->res[i * p->nmb], &ex[i]);
		if (ex[i].nerr > 0 && reflect_human(s, st, p->beam[i],
		    &ex[i].human, cause) != 0)
			return -1;
		pick = xcalloc(ex[i].nerr + 1, sizeof *pick);
		for (g = 0; ex[i].nerr > 0 && g < want; g++) {
			npick = search_draw(s, ex[i].nerr,
			    (size_t)search_int(s, "errors"), pick);
			for (j = 0; j < npick; j++)
				pick[j] = ex[i].err[pick[j]];
			(*gr)[*ng].beam = i;
			(*gr)[(*ng)++].errtext = reflect_examples(s, "errors",
			    ex[i].ex, ex[i].res, pick, npick, 0);
		}
		free(pick);
	}
	count = reflect_count((size_t)search_int(s, "critiques"), "critique");
	rv = xcalloc(*ng + 1, sizeof *rv);
	for (g = 0; g < *ng; g++) {
		i = (*gr)[g].beam;
		rvars_set(&rv[g], "task", reflect_task(s));
		rvars_set(&rv[g], "prompt", p->beam[i]->text);
		rvars_set(&rv[g], "score", ex[i].score);
		rvars_set(&rv[g], "errors", (*gr)[g].errtext);
		rvars_set(&rv[g], "human", ex[i].human.block);
		rvars_set(&rv[g], "count", count);
	}
	*crit = reflect_ask(s, rv, *ng, "reflect_critique", "critique",
	    (size_t)search_int(s, "critiques"), cause);
	free(rv);
	free(count);
	return *crit != NULL ? 0 : -1;
}

/*
 * The edits every critique asks for, asked for at once; each new prompt
 * is one of its beam prompt's, with the critique as its note.
 */
static int
protegi_edits(struct search *s, struct protegi *p, struct protegi_exp *ex,
    const struct protegi_grad *gr, size_t ng, const struct search_ask *crit,
    const char *hist, char **cause)
{
	struct search_ask	*a;
	struct rvars		*rv;
	char			*count, *note;
	size_t			*from, n = 0, g, i;
	int			 k, rc = 0;

	for (g = 0; g < ng; g++)
		n += (size_t)crit[g].n;
	rv = xcalloc(n + 1, sizeof *rv);
	from = xcalloc(2 * n + 1, sizeof *from);
	count = reflect_count((size_t)search_int(s, "edits"),
	    "improved prompt");
	for (g = 0, n = 0; g < ng; g++) {
		for (k = 0; k < crit[g].n; k++, n++) {
			i = gr[g].beam;
			rvars_set(&rv[n], "task", reflect_task(s));
			rvars_set(&rv[n], "prompt", p->beam[i]->text);
			rvars_set(&rv[n], "score", ex[i].score);
			rvars_set(&rv[n], "errors", gr[g].errtext);
			rvars_set(&rv[n], "critique", crit[g].parts[k]);
			rvars_set(&rv[n], "history", hist);
			rvars_set(&rv[n], "count", count);
			from[2 * n] = g;
			from[2 * n + 1] = (size_t)k;
		}
	}
	if ((a = reflect_ask(s, rv, n, "reflect_edit", NULL,
	    (size_t)search_int(s, "edits"), cause)) == NULL)
		rc = -1;
	for (i = 0; a != NULL && i < n; i++) {
		g = from[2 * i];
		/*
		 * The critique is the note: why the edit was made, and
		 * whether people's critiques were read when it was written.
		 */
		note = reflect_human_note(&ex[gr[g].beam].human,
		    crit[g].parts[from[2 * i + 1]]);
		rc = protegi_take(s, &a[i], rc, "protegi-edit",
		    &p->beam[gr[g].beam], note, &ex[gr[g].beam], cause);
		free(note);
	}
	reflect_asks_free(a, n);
	free(rv);
	free(from);
	free(count);
	return rc;
}

/*
 * Monte Carlo neighbours of every beam prompt's edits and of the prompt
 * itself, asked for at once.
 */
static int
protegi_paraphrases(struct search *s, struct protegi *p,
    struct protegi_exp *ex, char **cause)
{
	struct search_ask	*a;
	struct rvars		*rv;
	struct cand		**x;
	char			*count;
	size_t			 want = (size_t)search_int(s, "paraphrases");
	size_t			*from, n = 0, i, j;
	int			 rc = 0;

	if (search_int(s, "paraphrases") <= 0)
		return 0;
	for (i = 0; i < p->nbeam; i++)
		n += ex[i].nnews + 1;
	rv = xcalloc(n + 1, sizeof *rv);
	x = xcalloc(n + 1, sizeof *x);
	from = xcalloc(n + 1, sizeof *from);
	count = reflect_count(want, "paraphrase");
	for (i = 0, n = 0; i < p->nbeam; i++) {
		for (j = 0; j <= ex[i].nnews; j++, n++) {
			x[n] = j < ex[i].nnews ? ex[i].news[j] : p->beam[i];
			from[n] = i;
			rvars_set(&rv[n], "task", reflect_task(s));
			rvars_set(&rv[n], "prompt", x[n]->text);
			rvars_set(&rv[n], "count", count);
		}
	}
	if ((a = reflect_ask(s, rv, n, "reflect_paraphrase", NULL, want,
	    cause)) == NULL)
		rc = -1;
	for (j = 0; a != NULL && j < n; j++)
		rc = protegi_take(s, &a[j], rc, "protegi-paraphrase", &x[j],
		    a[j].rationale, &ex[from[j]], cause);
	reflect_asks_free(a, n);
	free(rv);
	free(x);
	free(from);
	free(count);
	return rc;
}

/*
 * The new prompts of each beam prompt, with the prompt they came from.
 * Each phase asks for what every beam prompt needs at once: the
 * critiques, then the edits of every critique, then the paraphrases.
 * (A prompt at a time, the step's stream drew the next prompt's errors
 * after this one's choice of new prompts; now all errors are drawn
 * first.)
 */
static int
protegi_kids(struct search *s, struct reflect *st, struct protegi *p,
    char **cause)
{
	struct protegi_exp	*ex;
	struct protegi_grad	*gr = NULL;
	struct search_ask	*crit = NULL;
	char			*hist;
	size_t			 ng = 0, i, k, n0;
	int			 rc = -1;

	ex = xcalloc(p->nbeam + 1, sizeof *ex);
	hist = reflect_history(s, st, 1);
	if (protegi_critiques(s, st, p, ex, &gr, &ng, &crit, cause) == 0 &&
	    protegi_edits(s, p, ex, gr, ng, crit, hist, cause) == 0 &&
	    protegi_paraphrases(s, p, ex, cause) == 0) {
		for (i = 0; i < p->nbeam; i++) {
			n0 = p->nkids;
			protegi_select(s, st, p->beam[i], ex[i].news,
			    ex[i].nnews, &p->kids, &p->nkids);
			p->kparent = xreallocarray(p->kparent, p->nkids + 1,
			    sizeof *p->kparent);
			for (k = n0; k < p->nkids; k++)
				p->kparent[k] = p->beam[i];
		}
		rc = 0;
	}
	reflect_asks_free(crit, ng);
	for (k = 0; k < ng; k++)
		free(gr[k].errtext);
	free(gr);
	for (i = 0; i < p->nbeam; i++) {
		free(ex[i].err);
		free(ex[i].score);
		free(ex[i].dres);
		reflect_human_release(&ex[i].human);
		free(ex[i].news);
	}
	free(ex);
	free(hist);
	return rc;
}

/*
 * The arms: the beam and its distinct new neighbours.  What the
 * minibatch said about the beam counts as its first pulls.
 */
static void
protegi_arms(struct protegi *p)
{
	struct arm	*a;
	struct cand	*c;
	size_t		 i, j, k;

	p->arms = xcalloc(p->nbeam + p->nkids + 1, sizeof *p->arms);
	for (i = 0; i < p->nbeam + p->nkids; i++) {
		c = i < p->nbeam ? p->beam[i] : p->kids[i - p->nbeam];
		for (k = 0; k < p->narms; k++)
			if (p->arms[k].c == c)
				break;
		if (k < p->narms)
			continue;
		a = &p->arms[p->narms++];
		a->c = c;
		a->parent = i < p->nbeam ? NULL : p->kparent[i - p->nbeam];
		a->sc = xcalloc(p->npool + 1, sizeof *a->sc);
		for (j = 0; j < p->npool; j++)
			a->sc[j] = NAN;
	}
	for (i = 0; i < p->nbeam; i++) {
		for (k = 0; k < p->narms && p->arms[k].c != p->beam[i]; k++)
			;
		a = &p->arms[k];
		for (j = 0; j < p->nmb; j++) {
			if (isnan(p->res[i * p->nmb + j].score) ||
			    !isnan(a->sc[p->mbpos[j]]))
				continue;
			a->sc[p->mbpos[j]] = p->res[i * p->nmb + j].score;
			a->sum += p->res[i * p->nmb + j].score;
			a->n++;
		}
	}
}

/*
 * Directional feedback: each new prompt against its parent, on the
 * examples both were scored on.
 */
static void
protegi_feedback(struct reflect *st, struct protegi *p)
{
	struct arm	*a, *q;
	double		 ms, mp;
	size_t		 i, j, k, n;

	for (k = 0; k < p->narms; k++) {
		a = &p->arms[k];
		if (a->parent == NULL)
			continue;
		for (i = 0, q = NULL; i < p->narms; i++)
			if (p->arms[i].c == a->parent)
				q = &p->arms[i];
		if (q == NULL)
			continue;
		ms = mp = 0;
		for (j = 0, n = 0; j < p->npool; j++) {
			if (isnan(a->sc[j]) || isnan(q->sc[j]))
				continue;
			ms += a->sc[j];
			mp += q->sc[j];
			n++;
		}
		if (n > 0)
			reflect_history_add(st, a->c, q->c, ms / (double)n,
			    mp / (double)n);
	}
}

/*
 * The next beam: the best estimates, scored on dev so that the best so
 * far is known.  New prompts left out are dropped.
 */
static int
protegi_next(struct search *s, struct reflect *st, struct protegi *p,
    char **cause)
{
	struct arm	**order;
	struct cand	**next;
	size_t		  want = (size_t)search_int(s, "beam"), nnext = 0, k;
	int		  rc;

	order = xcalloc(p->narms + 1, sizeof *order);
	for (k = 0; k < p->narms; k++)
		order[k] = &p->arms[k];
	qsort(order, p->narms, sizeof *order, arm_cmp_desc);
	next = xcalloc(want + 1, sizeof *next);
	for (k = 0; k < p->narms; k++) {
		if (nnext < want && order[k]->n > 0) {
			next[nnext++] = order[k]->c;
			if (!search_complete(s, order[k]->c))
				order[k]->c->raced_out = 0;
		} else if (order[k]->parent != NULL)
			reflect_drop(s, order[k]->c);
	}
	for (k = 0; k < p->narms; k++)
		log_debug("protegi: arm %lld %.3f over %zu%s",
		    (long long)p->arms[k].c->id, arm_mean(&p->arms[k]),
		    p->arms[k].n, p->arms[k].parent == NULL ? " (beam)" : "");
	st->nset = 0;
	for (k = 0; k < nnext; k++)
		reflect_member_add(st, next[k]->id, 0, 0);
	rc = search_evaluate(s, next, nnext, cause) != 0 ? -1 : 0;
	free(order);
	free(next);
	return rc;
}

static void
protegi_release(struct protegi *p)
{
	size_t	k;

	if (p->res != NULL)
		search_scores_release(p->res, p->nbeam * p->nmb);
	free(p->res);
	for (k = 0; k < p->narms; k++)
		free(p->arms[k].sc);
	free(p->arms);
	free(p->beam);
	free(p->kids);
	free(p->kparent);
	free(p->mb);
	free(p->mbpos);
}

static int
protegi_step(struct search *s, struct reflect *st, char **cause)
{
	struct protegi	p;
	int		rc = -1;

	memset(&p, 0, sizeof p);
	if (protegi_beam(s, st, &p) == 0) {
		rc = 0;
		goto out;
	}
	if (protegi_minibatch(s, st, &p, cause) != 0 ||
	    protegi_kids(s, st, &p, cause) != 0)
		goto out;
	protegi_arms(&p);
	if (strcmp(search_string(s, "bandit"), "sr") == 0)
		rc = bandit_sr(s, p.arms, p.narms,
		    (size_t)search_int(s, "beam"), cause);
	else
		rc = bandit_ucb(s, p.arms, p.narms, cause);
	if (rc != 0)
		goto out;
	protegi_feedback(st, &p);
	rc = protegi_next(s, st, &p, cause);
out:
	protegi_release(&p);
	return rc;
}

const struct reflect_mode protegi_mode = {
	.name = "protegi",
	.steps = 6,
	.minibatch = 32,
	.proposals = 4,
	.seeded = 1,
	.step = protegi_step,
};
