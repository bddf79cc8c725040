/*
 * reflect mode protegi: textual gradients (Pryzant et al., "Automatic
 * Prompt Optimization with 'Gradient Descent' and Beam Search").  The
 * beam is scored on a minibatch, the optimizer writes critiques of each
 * prompt from samples of its errors, each critique is applied as an
 * edit, paraphrases add Monte Carlo neighbours, and a bandit over
 * minibatches (UCB or successive rejects) picks the next beam.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reflect_int.h"
#include "strategy.h"
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
		npos = reflect_draw(s, npool, m, pos);
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
		npos = reflect_draw(s, npool, npos, pos);
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

/* Critiques of one beam prompt, their edits and paraphrases. */
static int
protegi_expand(struct search *s, struct reflect *st, struct cand *b,
    const size_t *mb, size_t nmb, const struct search_score *res,
    struct cand ***kids, size_t *nkids, char **cause)
{
	struct rvars	 rv;
	struct search_score	*dres = NULL;
	struct cand	**news = NULL, *x;
	char		**crit = NULL, **found, *errtext = NULL, *count = NULL;
	char		*ecount = NULL, *pcount = NULL, *score = NULL;
	char		*hist = NULL, *why;
	size_t		*err, *pick, nerr, npick, nnews = 0, g, i, j, k, n0;
	size_t		 max = (size_t)search_int(s, "expansion");
	double		 temp = search_number(s, "temperature");
	int		 ncrit, n, rc = -1;

	score = reflect_num(reflect_mean(res, nmb));
	err = xcalloc(nmb + s->ndev + 1, sizeof *err);
	pick = xcalloc(nmb + s->ndev + 1, sizeof *pick);
	nerr = protegi_errors(res, nmb, err);
	if (nerr == 0 && s->ndev > 0) {
		/* None on the minibatch: the errors it is known to make on
		 * dev, at no cost. */
		dres = xcalloc(s->ndev, sizeof *dres);
		for (i = 0; i < s->ndev; i++) {
			dres[i].score = b->scores[i];
			dres[i].output = b->outputs[i];
		}
		nerr = protegi_errors(dres, s->ndev, err);
		mb = s->dev;
		nmb = s->ndev;
		res = dres;
	}
	hist = reflect_history(s, st, 1);
	count = reflect_count((size_t)search_int(s, "critiques"), "critique");
	ecount = reflect_count((size_t)search_int(s, "edits"),
	    "improved prompt");
	for (g = 0; nerr > 0 && g < (size_t)search_int(s, "gradients"); g++) {
		npick = reflect_draw(s, nerr, (size_t)search_int(s, "errors"),
		    pick);
		for (i = 0; i < npick; i++)
			pick[i] = err[pick[i]];
		free(errtext);
		errtext = reflect_examples(s, "errors", mb, res, pick, npick,
		    0);
		rv.n = 0;
		rvars_set(&rv, "task", reflect_task(s));
		rvars_set(&rv, "prompt", b->text);
		rvars_set(&rv, "score", score);
		rvars_set(&rv, "errors", errtext);
		rvars_set(&rv, "count", count);
		ncrit = search_ask_tag(s, "reflect_critique", rv.v, rv.n, temp,
		    "critique", (size_t)search_int(s, "critiques"), &crit,
		    NULL, cause);
		if (ncrit < 0)
			goto out;
		for (k = 0; k < (size_t)ncrit; k++) {
			rv.n = 0;
			rvars_set(&rv, "task", reflect_task(s));
			rvars_set(&rv, "prompt", b->text);
			rvars_set(&rv, "score", score);
			rvars_set(&rv, "errors", errtext);
			rvars_set(&rv, "critique", crit[k]);
			rvars_set(&rv, "history", hist);
			rvars_set(&rv, "count", ecount);
			n = search_ask(s, "reflect_edit", rv.v, rv.n, temp,
			    (size_t)search_int(s, "edits"), &found, NULL,
			    cause);
			/* The critique is the note: why the edit was made. */
			if (n < 0 || reflect_add(s, found, n, "protegi-edit",
			    &b, 1, crit[k], &news, &nnews, cause) != 0) {
				for (; k < (size_t)ncrit; k++)
					free(crit[k]);
				free(crit);
				crit = NULL;
				goto out;
			}
			free(crit[k]);
		}
		free(crit);
		crit = NULL;
	}
	/* Monte Carlo neighbours of the edits and of the prompt itself. */
	if (search_int(s, "paraphrases") > 0) {
		pcount = reflect_count((size_t)search_int(s, "paraphrases"),
		    "paraphrase");
		n0 = nnews;
		for (i = 0; i <= n0; i++) {
			x = i < n0 ? news[i] : b;
			rv.n = 0;
			rvars_set(&rv, "task", reflect_task(s));
			rvars_set(&rv, "prompt", x->text);
			rvars_set(&rv, "count", pcount);
			n = search_ask(s, "reflect_paraphrase", rv.v, rv.n, temp,
			    (size_t)search_int(s, "paraphrases"), &found, &why,
			    cause);
			if (n < 0 || reflect_add(s, found, n,
			    "protegi-paraphrase", &x, 1, why, &news, &nnews,
			    cause) != 0) {
				free(why);
				goto out;
			}
			free(why);
		}
	}
	/* Distinct new prompts, at most max of them, drawn at random. */
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
	if (nnews > max) {
		pick = xreallocarray(pick, nnews, sizeof *pick);
		npick = reflect_draw(s, nnews, max, pick);
		for (i = 0; i < npick; i++) {
			*kids = xreallocarray(*kids, *nkids + 1, sizeof **kids);
			(*kids)[(*nkids)++] = news[pick[i]];
		}
	} else {
		for (i = 0; i < nnews; i++) {
			*kids = xreallocarray(*kids, *nkids + 1, sizeof **kids);
			(*kids)[(*nkids)++] = news[i];
		}
	}
	rc = 0;
out:
	free(news);
	free(err);
	free(pick);
	free(errtext);
	free(count);
	free(ecount);
	free(pcount);
	free(score);
	free(hist);
	free(dres);
	return rc;
}

static int
protegi_step(struct search *s, struct reflect *st, char **cause)
{
	struct search_score	*res = NULL;
	struct cand		**beam = NULL, **kids = NULL, **kparent = NULL;
	struct cand		**next = NULL;
	struct arm		*arms = NULL, **order = NULL, *a, *p;
	struct cand		*c;
	const size_t		*pool;
	size_t			*mb = NULL, *mbpos = NULL, nbeam = 0, nkids = 0;
	size_t			 nmb = 0, npool, narms = 0, i, j, k, n0;
	size_t			 nnext = 0;
	size_t			 want = (size_t)search_int(s, "beam");
	double			 ms, mp;
	int			 rc = -1;

	for (i = 0; i < st->nset; i++) {
		beam = xreallocarray(beam, nbeam + 1, sizeof *beam);
		if ((beam[nbeam] = reflect_cand(s, st->set[i].id)) != NULL)
			nbeam++;
	}
	if (nbeam == 0) {
		rc = 0;
		goto out;
	}
	/* The beam on one minibatch: their errors feed the critiques. */
	pool = reflect_pool(s, &npool);
	mbpos = xcalloc(npool + 1, sizeof *mbpos);
	mb = xcalloc(npool + 1, sizeof *mb);
	nmb = reflect_draw(s, npool, reflect_minibatch(s, st), mbpos);
	for (j = 0; j < nmb; j++)
		mb[j] = pool[mbpos[j]];
	res = xcalloc(nbeam * nmb + 1, sizeof *res);
	if (search_score_on(s, beam, nbeam, mb, nmb, res, cause) != 0)
		goto out;
	for (i = 0; i < nbeam; i++) {
		n0 = nkids;
		if (protegi_expand(s, st, beam[i], mb, nmb, &res[i * nmb],
		    &kids, &nkids, cause) != 0)
			goto out;
		kparent = xreallocarray(kparent, nkids + 1, sizeof *kparent);
		for (k = n0; k < nkids; k++)
			kparent[k] = beam[i];
	}
	/* The arms: the beam and its distinct new neighbours. */
	arms = xcalloc(nbeam + nkids + 1, sizeof *arms);
	for (i = 0; i < nbeam + nkids; i++) {
		c = i < nbeam ? beam[i] : kids[i - nbeam];
		for (k = 0; k < narms; k++)
			if (arms[k].c == c)
				break;
		if (k < narms)
			continue;
		arms[narms].c = c;
		arms[narms].parent = i < nbeam ? NULL : kparent[i - nbeam];
		arms[narms].sc = xcalloc(npool + 1, sizeof *arms[narms].sc);
		for (j = 0; j < npool; j++)
			arms[narms].sc[j] = NAN;
		narms++;
	}
	/* What the minibatch said about the beam counts as its first pulls. */
	for (i = 0; i < nbeam; i++) {
		for (k = 0; k < narms && arms[k].c != beam[i]; k++)
			;
		for (j = 0; j < nmb; j++) {
			if (isnan(res[i * nmb + j].score) ||
			    !isnan(arms[k].sc[mbpos[j]]))
				continue;
			arms[k].sc[mbpos[j]] = res[i * nmb + j].score;
			arms[k].sum += res[i * nmb + j].score;
			arms[k].n++;
		}
	}
	if (strcmp(search_string(s, "bandit"), "sr") == 0)
		rc = bandit_sr(s, arms, narms, want, cause);
	else
		rc = bandit_ucb(s, arms, narms, cause);
	if (rc != 0)
		goto out;
	rc = -1;
	/* Directional feedback: each new prompt against its parent, on the
	 * examples both were scored on. */
	for (k = 0; k < narms; k++) {
		a = &arms[k];
		if (a->parent == NULL)
			continue;
		for (i = 0, p = NULL; i < narms; i++)
			if (arms[i].c == a->parent)
				p = &arms[i];
		if (p == NULL)
			continue;
		ms = mp = 0;
		for (j = 0, n0 = 0; j < npool; j++) {
			if (isnan(a->sc[j]) || isnan(p->sc[j]))
				continue;
			ms += a->sc[j];
			mp += p->sc[j];
			n0++;
		}
		if (n0 > 0)
			reflect_history_add(st, a->c, p->c, ms / (double)n0,
			    mp / (double)n0);
	}
	/* The next beam: the best estimates. */
	order = xcalloc(narms + 1, sizeof *order);
	for (k = 0; k < narms; k++)
		order[k] = &arms[k];
	qsort(order, narms, sizeof *order, arm_cmp_desc);
	next = xcalloc(want + 1, sizeof *next);
	for (k = 0; k < narms; k++) {
		if (nnext < want && order[k]->n > 0) {
			next[nnext++] = order[k]->c;
			if (!search_complete(s, order[k]->c))
				order[k]->c->raced_out = 0;
		} else if (order[k]->parent != NULL)
			reflect_drop(s, order[k]->c);
	}
	for (k = 0; k < narms; k++)
		log_debug("protegi: arm %lld %.3f over %zu%s",
		    (long long)arms[k].c->id, arm_mean(&arms[k]), arms[k].n,
		    arms[k].parent == NULL ? " (beam)" : "");
	st->nset = 0;
	for (k = 0; k < nnext; k++)
		reflect_member_add(st, next[k]->id, 0, 0);
	/* The beam on dev, so that the best so far is known. */
	if (search_evaluate(s, next, nnext, cause) != 0)
		goto out;
	rc = 0;
out:
	if (res != NULL)
		search_scores_release(res, nbeam * nmb);
	free(res);
	for (k = 0; k < narms; k++)
		free(arms[k].sc);
	free(arms);
	free(order);
	free(next);
	free(beam);
	free(kids);
	free(kparent);
	free(mb);
	free(mbpos);
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
