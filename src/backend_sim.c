/*
 * The "sim" backend: a deterministic simulated model living in the
 * process (src/sim/ holds the world model, this file the glue).  Its
 * own configuration keys are seed, dim, noise, position_bias and
 * format_error_rate; the world seed mixes the configured seed with the
 * model name, so two sim models answer differently.
 *
 * b->data is the struct sim_world itself.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "hash.h"
#include "jsonc.h"
#include "sim.h"
#include "util.h"
#include "xmalloc.h"

static const char *const backend_sim_keys[] = {
	"seed", "dim", "noise", "position_bias", "format_error_rate", NULL
};

static int
backend_sim_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct sim_params	p;
	long long		seed = 1, dim = 256;
	size_t			nerr = doc->nerrors;

	sim_params_default(&p);
	jv_int(doc, conf, path, "seed", 0, -9007199254740991LL,
	    9007199254740991LL, &seed);
	jv_int(doc, conf, path, "dim", 0, 8, 4096, &dim);
	jv_number(doc, conf, path, "noise", 0, 0, 10, &p.noise);
	jv_number(doc, conf, path, "position_bias", 0, -1, 1,
	    &p.position_bias);
	jv_number(doc, conf, path, "format_error_rate", 0, 0, 1,
	    &p.format_error_rate);
	if (doc->nerrors != nerr)
		return -1;
	p.seed = hash_mix((uint64_t)seed, hash64_str(b->model, 0));
	p.dim = (size_t)dim;
	b->data = sim_world_new(&p);
	/* Every knob that changes answers is part of the cache key. */
	b->identity = xasprintf("sim seed=%lld dim=%lld noise=%g bias=%g "
	    "format_errors=%g", seed, dim, p.noise, p.position_bias,
	    p.format_error_rate);
	return 0;
}

static void
backend_sim_free(struct backend *b)
{
	sim_world_free(b->data);
	b->data = NULL;
}

static int
backend_sim_call(struct backend *b, const struct model_req *req,
    struct model_resp *resp, char **cause)
{
	struct sim_world	*w = b->data;
	double			 temp;
	size_t			 i;

	memset(resp, 0, sizeof *resp);
	if (w == NULL)
		return cause_set(cause, "backend '%s': not initialized",
		    b->name);
	if (req->kind == REQ_EMBED) {
		resp->dim = sim_world_dim(w);
		resp->vec = xcalloc(resp->dim, sizeof *resp->vec);
		sim_world_embed(w, req->input != NULL ? req->input : "",
		    resp->vec);
		resp->prompt_tokens = tokens_estimate(req->input != NULL ?
		    req->input : "");
	} else {
		temp = req->temperature >= 0 ? req->temperature :
		    b->temperature;
		sim_world_answer(w, req, temp, &resp->text);
		for (i = 0; i < req->nmsgs; i++)
			if (req->msgs[i].content != NULL)
				resp->prompt_tokens +=
				    tokens_estimate(req->msgs[i].content);
		resp->completion_tokens = tokens_estimate(resp->text);
	}
	resp->finish = xstrdup("stop");
	return 0;
}

static void
backend_sim_observe(struct backend *b, const struct dataset *ds,
    const char *const *inputs, size_t ninputs, const char *target)
{
	if (b->data != NULL)
		sim_world_observe(b->data, ds, inputs, ninputs, target);
}

const struct backend_ops backend_sim_ops = {
	.name = "sim",
	.keys = backend_sim_keys,
	.init = backend_sim_init,
	.free = backend_sim_free,
	.call = backend_sim_call,
	.observe = backend_sim_observe,
};
