/*
 * APE, the baseline (Zhou et al., "Large Language Models Are Human-Level
 * Prompt Engineers"): the optimizer reads input/output demos from the
 * training split and proposes the instructions that could have produced
 * them; the pool is evaluated (with racing) and the best kept.  With
 * resample > 0, further steps ask for variations of the best so far
 * (APE's iterative Monte Carlo search).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "task.h"
#include "util.h"
#include "xmalloc.h"

static const struct strategy_param ape_params[] = {
	{ "pool", PARAM_INT, "20", 1, 1000, NULL,
	  "instructions proposed from demos in the first step" },
	{ "per_ask", PARAM_INT, "5", 1, 32, NULL,
	  "instructions asked for in one optimizer request" },
	{ "demos", PARAM_INT, "5", 1, 50, NULL,
	  "input/output demos shown in each request" },
	{ "resample", PARAM_INT, "0", 0, 1000, NULL,
	  "further steps that ask for variations of the best" },
	{ "resample_pool", PARAM_INT, "5", 1, 100, NULL,
	  "variations asked for in each resampling step" },
	{ "temperature", PARAM_NUMBER, "1.0", 0, 2, NULL,
	  "the optimizer's sampling temperature" },
	{ NULL, 0, NULL, 0, 0, NULL, NULL }
};

static int
ape_init(struct search *s, char **cause)
{
	return 0;
}

static int
ape_step(struct search *s, char **cause)
{
	struct meta_var	 vars[4];
	struct cand	**pool = NULL, *best;
	char		 count[32], score[32];
	size_t		 npool = 0, i, asks;
	long long	 want;
	int		 rc = -1;

	if (s->step > search_int(s, "resample"))
		return 0;
	vars[0].name = "task";
	vars[0].value = s->task->description != NULL ? s->task->description :
	    "(not described)";
	if (s->step == 0) {
		/* The seeds compete with the proposals. */
		for (i = 0; i < s->ncands; i++) {
			pool = xreallocarray(pool, npool + 1, sizeof *pool);
			pool[npool++] = s->cands[i];
		}
		want = search_int(s, "pool");
		asks = (size_t)((want + search_int(s, "per_ask") - 1) /
		    search_int(s, "per_ask"));
		snprintf(count, sizeof count, "%lld", search_int(s, "per_ask"));
		vars[1].name = "count";
		vars[1].value = count;
		/* Each request with its own demos, all asked at once. */
		if (search_propose(s, "ape_propose", vars, 2,
		    (size_t)search_int(s, "demos"), asks,
		    search_number(s, "temperature"),
		    (size_t)search_int(s, "per_ask"), "ape-propose", NULL,
		    &pool, &npool, cause) != 0)
			goto out;
	} else {
		if ((best = search_best(s)) == NULL) {
			rc = 0;
			goto out;
		}
		pool = xcalloc(1, sizeof *pool);
		pool[npool++] = best;
		snprintf(count, sizeof count, "%lld",
		    search_int(s, "resample_pool"));
		snprintf(score, sizeof score, "%.3f", best->mean);
		vars[1].name = "prompt";
		vars[1].value = best->text;
		vars[2].name = "count";
		vars[2].value = count;
		vars[3].name = "score";
		vars[3].value = score;
		if (search_propose(s, "ape_resample", vars, 4, 0, 1,
		    search_number(s, "temperature"),
		    (size_t)search_int(s, "per_ask"), "ape-resample", best,
		    &pool, &npool, cause) != 0)
			goto out;
	}
	if (search_evaluate(s, pool, npool, cause) != 0)
		goto out;
	rc = s->step < search_int(s, "resample") ? 1 : 0;
out:
	free(pool);
	return rc;
}

static cJSON *
ape_save(struct search *s)
{
	return cJSON_CreateObject();
}

static int
ape_load(struct search *s, const cJSON *state, char **cause)
{
	return 0;
}

const struct strategy_ops strategy_ape_ops = {
	.name = "ape",
	.params = ape_params,
	.init = ape_init,
	.step = ape_step,
	.save = ape_save,
	.load = ape_load,
};
