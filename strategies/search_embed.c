/*
 * Embeddings of candidates for the strategies that learn from prompt
 * vectors (duel's bandit, the surrogate filter): the embedder role's,
 * or without one the built-in hashed text features.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bandit.h"
#include "engine.h"
#include "model.h"
#include "search.h"
#include "task.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

/* One text's request to the embedder and its answer. */
struct search_embedding {
	float	*vec;
	size_t	 dim;
	char	*error;
};

static int
search_embed_done(void *arg, const struct engine_result *res, char **cause)
{
	struct search_embedding	*e = arg;

	(void)cause;
	if (!res->ok || res->resp->vec == NULL || res->resp->dim == 0) {
		e->error = xstrdup(res->error != NULL ? res->error :
		    "no vector in the reply");
		return 0;
	}
	e->dim = res->resp->dim;
	e->vec = xcalloc(e->dim, sizeof *e->vec);
	memcpy(e->vec, res->resp->vec, e->dim * sizeof *e->vec);
	return 0;
}

/* The embedder's vectors, asked for at once; as search_embed(). */
static int
search_embed_role(struct search *s, struct backend *b, struct cand *const *v,
    size_t n, float **x, size_t *xdim, char **cause)
{
	struct search_embedding	*e;
	struct model_req	 req;
	size_t			 i;
	int			 rc = -1;

	e = xcalloc(n + 1, sizeof *e);
	for (i = 0; i < n; i++) {
		model_req_init(&req, REQ_EMBED, task_role_name(ROLE_EMBEDDER));
		req.input = xstrdup(v[i]->text);
		engine_submit(s->engine, b, &req, search_embed_done, &e[i]);
	}
	if (search_wait(s, cause) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (e[i].vec == NULL) {
			cause_set(cause, "strategy '%s': embedder '%s': %s",
			    s->ops->name, b->name, e[i].error != NULL ?
			    e[i].error : "no answer");
			goto out;
		}
		if (e[i].dim != e[0].dim) {
			cause_set(cause, "strategy '%s': embedder '%s' gave "
			    "vectors of %zu and %zu dimensions", s->ops->name,
			    b->name, e[0].dim, e[i].dim);
			goto out;
		}
	}
	*xdim = n > 0 ? e[0].dim : 0;
	*x = xcalloc(n * *xdim + 1, sizeof **x);
	for (i = 0; i < n; i++) {
		memcpy(*x + i * *xdim, e[i].vec, *xdim * sizeof **x);
		bandit_normalize(*x + i * *xdim, *xdim);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(e[i].vec);
		free(e[i].error);
	}
	free(e);
	return rc;
}

int
search_embed(struct search *s, struct cand *const *v, size_t n, size_t dim,
    float **x, size_t *xdim, char **cause)
{
	struct backend	*b = s->task->roles[ROLE_EMBEDDER];
	size_t		 i;

	*x = NULL;
	*xdim = 0;
	if (b != NULL)
		return search_embed_role(s, b, v, n, x, xdim, cause);
	*xdim = dim;
	*x = xcalloc(n * dim + 1, sizeof **x);
	for (i = 0; i < n; i++)
		textfeat_embed(v[i]->text, TEXTFEAT_SEED, dim, *x + i * dim);
	return 0;
}
