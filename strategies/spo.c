/*
 * reflect mode spo: self-supervised prompt optimization (Xiang et al.).
 * No labels: the champion and a challenger answer the same few inputs,
 * the judge compares the answers in both orders over several rounds,
 * and the winner is rewritten next.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "job.h"
#include "judge.h"
#include "log.h"
#include "reflect_int.h"
#include "strategy.h"
#include "strbuf.h"
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

static int
spo_step(struct search *s, struct reflect *st, char **cause)
{
	struct rvars		 rv;
	struct strbuf		 sb;
	struct backend		*judge;
	struct judge_ask	*votes = NULL, *v;
	struct cand		*champ, *cand, **news = NULL;
	char			**found, *why = NULL, **och = NULL, **onew = NULL;
	char			*answers = NULL, *hist = NULL, *meta, *input;
	size_t			*mb = NULL, nmb, nnews = 0, rounds = 0, r, j, k;
	size_t			 size = reflect_minibatch(s, st);
	double			 pn, po, pts_new = 0, votes_n = 0, share;
	int			 n, rn = 0, ro = 0, rc = -1;

	judge = s->job->roles[ROLE_JUDGE] != NULL ?
	    s->job->roles[ROLE_JUDGE] : s->job->roles[ROLE_OPTIMIZER];
	if (judge == NULL)
		return cause_set(cause, "reflect mode 'spo' needs a judge "
		    "(roles.judge or roles.optimizer)");
	if ((champ = reflect_cand(s, st->champion)) == NULL) {
		if ((champ = search_best(s)) == NULL && s->ncands > 0)
			champ = s->cands[0];
		if (champ == NULL)
			return 0;
		st->champion = champ->id;
		st->share = 1;
	}
	mb = xcalloc(size + 1, sizeof *mb);
	nmb = reflect_minibatch_draw(s, size, mb);
	och = xcalloc(nmb + 1, sizeof *och);
	onew = xcalloc(nmb + 1, sizeof *onew);
	if (search_answers(s, champ->text, mb, nmb, och, cause) != 0)
		goto out;
	answers = spo_answers(s, mb, och, nmb);
	hist = reflect_history(s, st, 0);
	rv.n = 0;
	rvars_set(&rv, "task", reflect_task(s));
	rvars_set(&rv, "prompt", champ->text);
	rvars_set(&rv, "answers", answers);
	rvars_set(&rv, "feedback", st->feedback != NULL ? st->feedback :
	    "(no comparison yet)");
	rvars_set(&rv, "history", hist);
	n = search_ask(s, "reflect_spo", rv.v, rv.n,
	    search_number(s, "temperature"), 1, &found, &why, cause);
	if (n < 0 || reflect_add(s, found, n, "spo", &champ, 1, why, &news,
	    &nnews, cause) != 0)
		goto out;
	cand = nnews > 0 ? news[0] : NULL;
	if (cand == NULL || cand == champ) {
		rc = 0;
		goto out;
	}
	if (search_answers(s, cand->text, mb, nmb, onew, cause) != 0)
		goto out;
	/*
	 * Rounds alternate which answer is shown first: in odd rounds the
	 * new prompt's answer is A.  From the judge service's side, a is
	 * always the champion's answer.
	 */
	rounds = (size_t)search_int(s, "judge_rounds");
	votes = xcalloc(rounds * nmb + 1, sizeof *votes);
	for (r = 0; r < rounds; r++) {
		for (j = 0; j < nmb; j++) {
			input = search_input(s, mb[j]);
			rv.n = 0;
			rvars_set(&rv, "requirements", reflect_task(s));
			rvars_set(&rv, "input", input);
			rvars_set(&rv, "response_a", r % 2 == 0 ?
			    (och[j] != NULL ? och[j] : "") :
			    (onew[j] != NULL ? onew[j] : ""));
			rvars_set(&rv, "response_b", r % 2 == 0 ?
			    (onew[j] != NULL ? onew[j] : "") :
			    (och[j] != NULL ? och[j] : ""));
			meta = search_meta(s, "reflect_spo_judge", rv.v, rv.n,
			    cause);
			free(input);
			if (meta == NULL) {
				search_wait(s, NULL);
				goto out;
			}
			v = &votes[r * nmb + j];
			v->user[0] = meta;
			v->order[0] = (int)(r % 2);
			v->norders = 1;
			v->temperature = search_number(s, "judge_temperature");
			v->sample = (unsigned)r;
			/* Each verdict is kept with its provenance. */
			v->record = 1;
			v->rec.job = s->job_id;
			v->rec.a = champ->id;
			v->rec.b = cand->id;
			v->rec.example = s->job->task.dataset->ex[mb[j]].id;
			v->rec.output_a = och[j] != NULL ? och[j] : "";
			v->rec.output_b = onew[j] != NULL ? onew[j] : "";
			search_judge(s, judge, v);
		}
	}
	if (search_wait(s, cause) != 0)
		goto out;
	strbuf_init(&sb);
	for (r = 0; r < rounds; r++) {
		pn = po = 0;
		for (j = 0; j < nmb; j++) {
			v = &votes[r * nmb + j];
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
			rn++;
		else if (po > pn)
			ro++;
	}
	share = votes_n > 0 ? pts_new / votes_n : 0;
	free(st->feedback);
	st->feedback = sb.len > 0 ? strbuf_detach(&sb) : NULL;
	strbuf_release(&sb);
	reflect_history_add(st, cand, champ, share, 1 - share);
	log_debug("spo: %lld against champion %lld: rounds %d to %d, share "
	    "%.2f", (long long)cand->id, (long long)champ->id, rn, ro, share);
	if (rn > ro) {
		st->champion = cand->id;
		st->share = share;
		cand->raced_out = 0;
		/* Scored on dev so that it can be promoted. */
		if (search_evaluate(s, &cand, 1, cause) != 0)
			goto out;
	} else
		reflect_drop(s, cand);
	rc = 0;
out:
	for (k = 0; votes != NULL && k < rounds * nmb; k++)
		judge_ask_release(&votes[k]);
	free(votes);
	for (j = 0; j < nmb; j++) {
		free(och[j]);
		free(onew[j]);
	}
	free(och);
	free(onew);
	free(mb);
	free(news);
	free(why);
	free(answers);
	free(hist);
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
