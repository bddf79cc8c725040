/*
 * People's preferences as evidence for the judge: the latest of the
 * job's human comparisons (judge.human_examples of them, made by the
 * time the run started) are shown before each question that asks the
 * judge to compare two responses, as examples of what the people who
 * use the prompt want.  The block is made once when the run starts, from
 * what the store held then, so that a resumed run asks the very same
 * questions (and its answers come from the cache).  At the end the run
 * says how often its judge agreed with people on pairs they compared.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "engine.h"
#include "job.h"
#include "jobrun.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "xmalloc.h"

/*
 * The words before the examples.  Their tags are not the question's
 * (<input>, <response_a>, <response_b>): a reader of the question, the
 * simulated judge among them (promptd-sim(7)), finds it as before.
 */
#define JUDGE_PEOPLE_INTRO						\
	"People who use this prompt compared answers to some of its "	\
	"inputs; their choices (the latest first) show what they want "	\
	"from an answer.  Weigh them with the rubric when you compare "	\
	"the responses below.\n"

/* The text the target was shown for a preference. */
static char *
judge_people_input(const struct task *task, const struct human_pref *h)
{
	struct example	ex;

	if (h->input != NULL)
		return xstrdup(h->input);
	memset(&ex, 0, sizeof ex);
	ex.fields = h->inputs;
	return template_render(task->tmpl, &ex, NULL);
}

char *
jobrun_judge_block(const struct task *task, const struct human_pref *h,
    size_t n)
{
	struct strbuf	 sb;
	size_t		 i;
	char		*input;

	if (n == 0)
		return NULL;
	strbuf_init(&sb);
	strbuf_adds(&sb, JUDGE_PEOPLE_INTRO "<people_choices>\n");
	for (i = 0; i < n; i++) {
		input = judge_people_input(task, &h[i]);
		strbuf_addf(&sb, "<choice>\n<choice_input>%s</choice_input>\n"
		    "<answer_a>%s</answer_a>\n<answer_b>%s</answer_b>\n"
		    "<preferred>%s</preferred>\n", input, h[i].output_a,
		    h[i].output_b, h[i].winner);
		if (h[i].why != NULL && *h[i].why != '\0')
			strbuf_addf(&sb, "<why>%s</why>\n", h[i].why);
		strbuf_adds(&sb, "</choice>\n");
		free(input);
	}
	strbuf_adds(&sb, "</people_choices>\n\n");
	return strbuf_detach(&sb);
}

int
jobrun_judge_evidence(struct jobrun *jr, char **cause)
{
	struct human_pref	*h;
	size_t			 n;
	char			*block;

	if (jr->job->judge_human_examples <= 0)
		return 0;
	if (store_human_prefs(jr->store, jr->job_id, jr->run_id,
	    (size_t)jr->job->judge_human_examples, &h, &n, cause) != 0)
		return -1;
	block = jobrun_judge_block(&jr->job->task, h, n);
	store_human_prefs_free(h, n);
	if (block == NULL)
		return 0;
	engine_set_judge_evidence(jr->engine, block);
	free(block);
	jobrun_event(jr, "info", "the judge sees %zu of people's preference%s "
	    "as evidence", n, n == 1 ? "" : "s");
	return 0;
}

int
jobrun_judge_agreement(struct jobrun *jr, char **cause)
{
	long long	n, agreed;

	if (store_judge_agreement(jr->store, jr->job_id, jr->run_id, &n,
	    &agreed, cause) != 0)
		return -1;
	if (n > 0)
		jobrun_event(jr, "info", "judge agreed with people on %lld of "
		    "%lld pair%s", agreed, n, n == 1 ? "" : "s");
	return 0;
}
