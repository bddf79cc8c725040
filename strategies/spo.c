/*
 * reflect mode spo: self-supervised prompt optimization (Xiang et al.).
 * No labels: the champion and a challenger answer the same few inputs,
 * the judge compares the answers in both orders over several rounds,
 * and the winner is rewritten next.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "judge.h"
#include "log.h"
#include "reflect_int.h"
#include "search.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

/* The answers of a prompt as tagged text. */
static char *
spo_answers(struct search *s, const size_t *ex, char **outs, size_t n)
{
	struct strbuf	 sb;
	char		*in;
	size_t		 i;

	strbuf_init(&sb);
	strbuf_adds(&sb, "<examples>\n");
	for (i = 0; i < n; i++) {
		in = search_input(s, ex[i]);
		strbuf_addf(&sb, "<example>\n<input>%s</input>\n<output>%s"
		    "</output>\n</example>\n", in, outs[i] != NULL ? outs[i] :
		    "");
		free(in);
	}
	strbuf_adds(&sb, "</examples>");
	return strbuf_detach(&sb);
}

/* One spo step, phase by phase. */
struct spo {
	struct backend		 *judge;
	struct cand		 *champ;
	struct cand		 *cand;		/* the challenger */
	size_t			 *mb;
	size_t			  nmb;
	char			**och;		/* the champion's answers */
	char			**onew;		/* the challenger's */
	struct judge_ask	 *votes;	/* per round and example */
	size_t			  rounds;
};

/* The champion: the one kept, else the best so far or the first. */
static struct cand *
spo_champion(struct search *s, struct reflect *st)
{
	struct cand	*champ;

	if ((champ = reflect_cand(s, st->champion)) != NULL)
		return champ;
	if ((champ = search_best(s)) == NULL && s->ncands > 0)
		champ = s->cands[0];
	if (champ == NULL)
		return NULL;
	st->champion = champ->id;
	st->share = 1;
	return champ;
}

/*
 * The champion's answers on the minibatch and a challenger written from
 * them, in sp->cand: NULL when it is nothing new.
 */
static int
spo_challenge(struct search *s, struct reflect *st, struct spo *sp,
    char **cause)
{
	struct rvars	 rv;
	struct cand	**news = NULL;
	char		**found, *why = NULL, *answers, *hist;
	size_t		 nnews = 0;
	int		 n, rc;

	if (search_answers(s, sp->champ, sp->mb, sp->nmb, sp->och,
	    cause) != 0)
		return -1;
	answers = spo_answers(s, sp->mb, sp->och, sp->nmb);
	hist = reflect_history(s, st, 0);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt", sp->champ->text);
	rvars_set(&rv, "answers", answers);
	rvars_set(&rv, "feedback", st->feedback != NULL ? st->feedback :
	    "(no comparison yet)");
	rvars_set(&rv, "history", hist);
	n = search_ask(s, "reflect_spo", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	rc = n < 0 || reflect_add(s, found, n, "spo", &sp->champ, 1, why,
	    &news, &nnews, cause) != 0 ? -1 : 0;
	sp->cand = rc == 0 && nnews > 0 ? news[0] : NULL;
	if (sp->cand == sp->champ)
		sp->cand = NULL;
	free(news);
	free(why);
	free(answers);
	free(hist);
	return rc;
}

/*
 * Submits the judge's vote in round r on example j.  Rounds alternate
 * which answer is shown first: in odd rounds the new prompt's answer is
 * A.  From the judge service's side, a is always the champion's answer.
 */
static int
spo_vote(struct search *s, struct spo *sp, size_t r, size_t j, char **cause)
{
	struct rvars		 rv;
	struct judge_ask	*v;
	const char		*oa, *ob;
	char			*meta, *input;

	oa = sp->och[j] != NULL ? sp->och[j] : "";
	ob = sp->onew[j] != NULL ? sp->onew[j] : "";
	input = search_input(s, sp->mb[j]);
	rv.n = 0;
	rvars_set(&rv, "requirements", reflect_task(s));
	rvars_set(&rv, "input", input);
	rvars_set(&rv, "response_a", r % 2 == 0 ? oa : ob);
	rvars_set(&rv, "response_b", r % 2 == 0 ? ob : oa);
	meta = search_meta(s, "reflect_spo_judge", rv.v, rv.n, cause);
	free(input);
	if (meta == NULL)
		return -1;
	v = &sp->votes[r * sp->nmb + j];
	v->user[0] = meta;
	v->order[0] = (int)(r % 2);
	v->norders = 1;
	v->temperature = search_number(s, "judge_temperature");
	v->sample = (unsigned)r;
	/* Each verdict is kept with its provenance. */
	v->record = 1;
	v->rec.job = s->job_id;
	v->rec.a = sp->champ->id;
	v->rec.b = sp->cand->id;
	v->rec.example = s->task->dataset->ex[sp->mb[j]].id;
	v->rec.output_a = oa;
	v->rec.output_b = ob;
	search_judge(s, sp->judge, v);
	return 0;
}

/* Every round's votes, submitted together and waited for. */
static int
spo_judge_all(struct search *s, struct spo *sp, char **cause)
{
	size_t	r, j;

	sp->rounds = (size_t)search_int(s, "judge_rounds");
	sp->votes = xcalloc(sp->rounds * sp->nmb + 1, sizeof *sp->votes);
	for (r = 0; r < sp->rounds; r++)
		for (j = 0; j < sp->nmb; j++)
			if (spo_vote(s, sp, r, j, cause) != 0) {
				search_wait(s, NULL);
				return -1;
			}
	return search_wait(s, cause) != 0 ? -1 : 0;
}

/*
 * The challenger's share of the votes, and the rounds each side won in
 * *rn and *ro.  The judge's reasons in the first round become the
 * feedback of the next request.
 */
static double
spo_tally(struct reflect *st, struct spo *sp, int *rn, int *ro)
{
	struct strbuf		 sb;
	struct judge_ask	*v;
	double			 pn, po, pts_new = 0, votes_n = 0;
	size_t			 r, j;

	*rn = *ro = 0;
	strbuf_init(&sb);
	for (r = 0; r < sp->rounds; r++) {
		pn = po = 0;
		for (j = 0; j < sp->nmb; j++) {
			v = &sp->votes[r * sp->nmb + j];
			if (v->verdict == VERDICT_NONE)
				continue;
			if (v->verdict == VERDICT_TIE) {
				pn += 0.5;
				po += 0.5;
			} else if (v->verdict == VERDICT_B)
				pn += 1;
			else
				po += 1;
			if (r == 0 && v->rationale != NULL &&
			    *v->rationale != '\0')
				strbuf_addf(&sb, "On input %zu: %s\n", j + 1,
				    v->rationale);
		}
		pts_new += pn;
		votes_n += pn + po;
		if (pn > po)
			(*rn)++;
		else if (po > pn)
			(*ro)++;
	}
	free(st->feedback);
	st->feedback = sb.len > 0 ? strbuf_detach(&sb) : NULL;
	strbuf_release(&sb);
	return votes_n > 0 ? pts_new / votes_n : 0;
}

static void
spo_release(struct spo *sp)
{
	size_t	k;

	for (k = 0; sp->votes != NULL && k < sp->rounds * sp->nmb; k++)
		judge_ask_release(&sp->votes[k]);
	free(sp->votes);
	for (k = 0; k < sp->nmb; k++) {
		free(sp->och[k]);
		free(sp->onew[k]);
	}
	free(sp->och);
	free(sp->onew);
	free(sp->mb);
}

static int
spo_step(struct search *s, struct reflect *st, char **cause)
{
	struct spo	 sp;
	size_t		 size = reflect_minibatch(s, st);
	double		 share;
	int		 rn, ro, rc = -1;

	memset(&sp, 0, sizeof sp);
	sp.judge = s->task->roles[ROLE_JUDGE] != NULL ?
	    s->task->roles[ROLE_JUDGE] : s->task->roles[ROLE_OPTIMIZER];
	if (sp.judge == NULL)
		return cause_set(cause, "reflect mode 'spo' needs a judge "
		    "(roles.judge or roles.optimizer)");
	if ((sp.champ = spo_champion(s, st)) == NULL)
		return 0;
	sp.mb = xcalloc(size + 1, sizeof *sp.mb);
	sp.nmb = reflect_minibatch_draw(s, size, sp.mb);
	sp.och = xcalloc(sp.nmb + 1, sizeof *sp.och);
	sp.onew = xcalloc(sp.nmb + 1, sizeof *sp.onew);
	if (spo_challenge(s, st, &sp, cause) != 0)
		goto out;
	rc = 0;
	if (sp.cand == NULL)
		goto out;
	rc = -1;
	if (search_answers(s, sp.cand, sp.mb, sp.nmb, sp.onew,
	    cause) != 0 || spo_judge_all(s, &sp, cause) != 0)
		goto out;
	share = spo_tally(st, &sp, &rn, &ro);
	reflect_history_add(st, sp.cand, sp.champ, share, 1 - share);
	log_debug("spo: %lld against champion %lld: rounds %d to %d, share "
	    "%.2f", (long long)sp.cand->id, (long long)sp.champ->id, rn, ro,
	    share);
	if (rn > ro) {
		st->champion = sp.cand->id;
		st->share = share;
		sp.cand->raced_out = 0;
		/* Scored on dev so that it can be promoted. */
		if (search_evaluate(s, &sp.cand, 1, cause) != 0)
			goto out;
	} else
		reflect_drop(s, sp.cand);
	rc = 0;
out:
	spo_release(&sp);
	return rc;
}

const struct reflect_mode spo_mode = {
	.name = "spo",
	.steps = 10,
	.minibatch = 3,
	.proposals = 4,
	.seeded = 0,
	.step = spo_step,
};
