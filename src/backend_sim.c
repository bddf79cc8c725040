/*
 * The "sim" backend: a deterministic simulated model living in the
 * process (src/sim/ holds the world model, this file the glue).  Its
 * own configuration keys are seed, dim, noise, position_bias,
 * format_error_rate, knowledge and knowledge_target; the world seed
 * mixes the configured seed with the model name, so two sim models
 * answer differently.
 *
 * The knowledge file is a dataset the world is shown besides the job's:
 * it holds the truth a job may not have (a job that learns from its
 * users' feedback has no labels), so that the simulated model can still
 * answer right or wrong.  It is loaded when the backend is built, so a
 * bad file is a configuration error, and observed when a job's task is,
 * since only the task's template says which fields are its inputs.
 *
 * b->data is a struct backend_sim.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dataset.h"
#include "hash.h"
#include "jsonc.h"
#include "log.h"
#include "sim.h"
#include "util.h"
#include "xmalloc.h"

struct backend_sim {
	struct sim_world	*world;
	struct dataset		*knowledge;	/* or NULL */
	char			*knowledge_target; /* NULL: the task's */
};

static const char *const backend_sim_keys[] = {
	"seed", "dim", "noise", "position_bias", "format_error_rate",
	"knowledge", "knowledge_target", NULL
};

/*
 * Loads the knowledge file, relative to the file that defines the
 * backend (a job file or promptd.conf), as task.dataset is to its job.
 */
static void
backend_sim_knowledge(struct backend_sim *s, struct jdoc *doc,
    const cJSON *conf, const char *path)
{
	const char	*file = NULL, *target = NULL;
	char		*full, *p, *cause = NULL;

	jv_string(doc, conf, path, "knowledge", 0, &file);
	jv_string(doc, conf, path, "knowledge_target", 0, &target);
	if (target != NULL && file == NULL) {
		p = jv_path(path, "knowledge_target");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "knowledge_target"), p, "needs a knowledge file");
		free(p);
		return;
	}
	if (file == NULL)
		return;
	full = path_relative_to(doc->file, file);
	p = jv_path(path, "knowledge");
	if ((s->knowledge = dataset_load(full, NULL, &cause)) == NULL)
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "knowledge"), p, "%s", cause);
	free(p);
	free(cause);
	free(full);
	if (s->knowledge == NULL || target == NULL)
		return;
	if (!dataset_has_field(s->knowledge, target)) {
		p = jv_path(path, "knowledge_target");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "knowledge_target"), p, "no field '%s' in '%s'", target,
		    s->knowledge->path);
		free(p);
		return;
	}
	s->knowledge_target = xstrdup(target);
}

static void
backend_sim_free(struct backend *b)
{
	struct backend_sim	*s = b->data;

	if (s == NULL)
		return;
	sim_world_free(s->world);
	dataset_free(s->knowledge);
	free(s->knowledge_target);
	free(s);
	b->data = NULL;
}

static int
backend_sim_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct backend_sim	*s;
	struct sim_params	 p;
	long long		 seed = 1, dim = 256;
	size_t			 nerr = doc->nerrors;
	char			*known = NULL;

	sim_params_default(&p);
	jv_int(doc, conf, path, "seed", 0, -9007199254740991LL,
	    9007199254740991LL, &seed);
	jv_int(doc, conf, path, "dim", 0, 8, 4096, &dim);
	jv_number(doc, conf, path, "noise", 0, 0, 10, &p.noise);
	jv_number(doc, conf, path, "position_bias", 0, -1, 1,
	    &p.position_bias);
	jv_number(doc, conf, path, "format_error_rate", 0, 0, 1,
	    &p.format_error_rate);
	b->data = s = xcalloc(1, sizeof *s);
	backend_sim_knowledge(s, doc, conf, path);
	if (doc->nerrors != nerr) {
		backend_sim_free(b);
		return -1;
	}
	p.seed = hash_mix((uint64_t)seed, hash64_str(b->model, 0));
	p.dim = (size_t)dim;
	s->world = sim_world_new(&p);
	/* Every knob that changes answers is part of the cache key: what
	 * the world knows too, by the knowledge file's content. */
	if (s->knowledge != NULL)
		known = xasprintf(" knowledge=%.16s/%s", s->knowledge->hash,
		    s->knowledge_target != NULL ? s->knowledge_target : "");
	b->identity = xasprintf("sim seed=%lld dim=%lld noise=%g bias=%g "
	    "format_errors=%g%s", seed, dim, p.noise, p.position_bias,
	    p.format_error_rate, known != NULL ? known : "");
	free(known);
	return 0;
}

static int
backend_sim_call(struct backend *b, const struct model_req *req,
    struct model_resp *resp, char **cause)
{
	struct backend_sim	*s = b->data;
	double			 temp;
	size_t			 i;

	memset(resp, 0, sizeof *resp);
	if (s == NULL || s->world == NULL)
		return cause_set(cause, "backend '%s': not initialized",
		    b->name);
	if (req->kind == REQ_EMBED) {
		resp->dim = sim_world_dim(s->world);
		resp->vec = xcalloc(resp->dim, sizeof *resp->vec);
		sim_world_embed(s->world, req->input != NULL ? req->input : "",
		    resp->vec);
		resp->prompt_tokens = tokens_estimate(req->input != NULL ?
		    req->input : "");
	} else {
		temp = req->temperature >= 0 ? req->temperature :
		    b->temperature;
		sim_world_answer(s->world, req, temp, &resp->text);
		for (i = 0; i < req->nmsgs; i++)
			if (req->msgs[i].content != NULL)
				resp->prompt_tokens +=
				    tokens_estimate(req->msgs[i].content);
		resp->completion_tokens = tokens_estimate(resp->text);
	}
	resp->finish = xstrdup("stop");
	return 0;
}

/* Whether any example of ds has a value for target. */
static int
dataset_has_targets(const struct dataset *ds, const char *target)
{
	const cJSON	*v;
	size_t		 i;

	if (target == NULL)
		return 0;
	for (i = 0; i < ds->n; i++) {
		v = example_field(&ds->ex[i], target);
		if (v != NULL && !cJSON_IsNull(v))
			return 1;
	}
	return 0;
}

/*
 * The knowledge is observed first: an input both it and the job's data
 * hold is then answered from the knowledge (the world takes the example
 * observed first), with the same draws as when the job's own dataset
 * carries those labels.  A job's dataset without a single target teaches
 * a world that has knowledge nothing but wrong kinds of answers (it
 * would take the task for a rewrite), so it is not observed.
 */
static void
backend_sim_observe(struct backend *b, const struct dataset *ds,
    const char *const *inputs, size_t ninputs, const char *target)
{
	struct backend_sim	*s = b->data;
	const char		*kt;
	size_t			 i;

	if (s == NULL || s->world == NULL)
		return;
	if (s->knowledge != NULL) {
		kt = s->knowledge_target != NULL ? s->knowledge_target :
		    target;
		for (i = 0; i < ninputs; i++)
			if (!dataset_has_field(s->knowledge, inputs[i]))
				log_warnx("backend '%s': knowledge '%s' has no "
				    "field '%s'", b->name, s->knowledge->path,
				    inputs[i]);
		if (kt != NULL && !dataset_has_field(s->knowledge, kt))
			log_warnx("backend '%s': knowledge '%s' has no field "
			    "'%s'", b->name, s->knowledge->path, kt);
		sim_world_observe(s->world, s->knowledge, inputs, ninputs, kt);
	}
	if (ds != NULL && (s->knowledge == NULL ||
	    dataset_has_targets(ds, target)))
		sim_world_observe(s->world, ds, inputs, ninputs, target);
}

const struct backend_ops backend_sim_ops = {
	.name = "sim",
	.keys = backend_sim_keys,
	.init = backend_sim_init,
	.free = backend_sim_free,
	.call = backend_sim_call,
	.observe = backend_sim_observe,
};
