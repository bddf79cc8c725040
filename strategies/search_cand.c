/*
 * The search's candidates: the normal form and identity of a prompt (its
 * instruction and demos), adding one with its lineage, and what the
 * target answers with one.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "dataset.h"
#include "engine.h"
#include "hash.h"
#include "jsonc.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* Trims and collapses white space; the normal form of a prompt. */
static char *
search_normalize(const char *text)
{
	struct strbuf	sb;
	int		space = 0;

	strbuf_init(&sb);
	for (; *text != '\0'; text++) {
		if (isspace((unsigned char)*text)) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			strbuf_addc(&sb, ' ');
		space = 0;
		strbuf_addc(&sb, *text);
	}
	return strbuf_detach(&sb);
}

struct cand *
search_add(struct search *s, const char *text, const char *origin,
    struct cand *const *parents, size_t nparents, const char *op,
    const char *note, char **cause)
{
	return search_add_demos(s, text, nparents > 0 ? &parents[0]->demos :
	    NULL, origin, parents, nparents, op, note, cause);
}

/* A new candidate of the search, stored already as id. */
static struct cand *
cand_new(struct search *s, int64_t id, char *norm, const struct demos *demos,
    const char *hash)
{
	struct cand	*c;
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	c->id = id;
	c->text = norm;
	demos_copy(&c->demos, demos);
	c->tokens = task_prompt_tokens(s->task, norm, demos);
	memcpy(c->hash, hash, sizeof c->hash);
	c->scores = xcalloc(s->ndev, sizeof *c->scores);
	c->outputs = xcalloc(s->ndev, sizeof *c->outputs);
	c->tries = xcalloc(s->ndev + 1, sizeof *c->tries);
	for (i = 0; i < s->ndev; i++)
		c->scores[i] = NAN;
	c->generation = s->step;
	s->cands = xreallocarray(s->cands, s->ncands + 1, sizeof *s->cands);
	s->cands[s->ncands++] = c;
	s->progress++;
	return c;
}

struct cand *
search_add_demos(struct search *s, const char *text,
    const struct demos *demos, const char *origin,
    struct cand *const *parents, size_t nparents, const char *op,
    const char *note, char **cause)
{
	struct cand	*c = NULL;
	struct strbuf	 key;
	char		*norm, hash[65];
	size_t		 i;
	int64_t		 id;

	norm = search_normalize(text);
	if (*norm == '\0' && (demos == NULL || demos->n == 0)) {
		free(norm);
		cause_set(cause, "empty prompt");
		return NULL;
	}
	strbuf_init(&key);
	strbuf_adds(&key, norm);
	demos_key(demos, &key);
	sha256_hex(key.buf, key.len, hash);
	strbuf_release(&key);
	for (i = 0; i < s->ncands; i++) {
		if (strcmp(s->cands[i]->hash, hash) == 0) {
			c = s->cands[i];
			break;
		}
	}
	if (c == NULL) {
		if ((id = store_candidate_put_demos(s->store, s->job_id, norm,
		    demos, task_prompt_tokens(s->task, norm, demos), origin,
		    cause)) < 0) {
			free(norm);
			return NULL;
		}
		c = cand_new(s, id, norm, demos, hash);
		norm = NULL;
	}
	free(norm);
	for (i = 0; i < nparents; i++) {
		if (parents[i] == c)
			continue;
		if (store_lineage_add(s->store, c->id, parents[i]->id, op, note,
		    cause) != 0)
			return NULL;
	}
	return c;
}

struct cand *
search_add_stored(struct search *s, int64_t id, const char *origin,
    char **cause)
{
	struct candidate_row	 row;
	struct cand		*c;
	int			 rc;

	if ((rc = store_candidate_get(s->store, id, &row, cause)) <= 0) {
		if (rc == 0)
			cause_set(cause, "no candidate %lld", (long long)id);
		return NULL;
	}
	c = search_add_demos(s, row.text, &row.demos, origin, NULL, 0, NULL,
	    NULL, cause);
	store_candidate_row_release(&row);
	return c;
}

char *
search_input(const struct search *s, size_t example)
{
	return template_render(s->task->tmpl,
	    &s->task->dataset->ex[example], NULL);
}

char *
search_expected(const struct search *s, size_t example)
{
	const cJSON	*v;

	if (s->task->target == NULL)
		return xstrdup("");
	v = example_field(&s->task->dataset->ex[example],
	    s->task->target);
	return v != NULL ? json_text(v) : xstrdup("");
}

struct answer_state {
	char	**slot;
};

static int
search_answer_done(void *arg, const struct engine_result *res, char **cause)
{
	struct answer_state	*a = arg;

	if (res->ok && res->resp->text != NULL)
		*a->slot = xstrdup(res->resp->text);
	return 0;
}

int
search_answers(struct search *s, const struct cand *c,
    const size_t *examples, size_t nex, char **outputs, char **cause)
{
	struct answer_state	*st;
	struct model_req	 req;
	size_t			 j;
	int			 rc;

	st = xcalloc(nex + 1, sizeof *st);
	for (j = 0; j < nex; j++) {
		outputs[j] = NULL;
		st[j].slot = &outputs[j];
		task_build_request_demos(s->task, c->text, &c->demos,
		    examples[j], &req);
		engine_submit(s->engine, s->task->roles[ROLE_TARGET], &req,
		    search_answer_done, &st[j]);
	}
	rc = nex > 0 ? search_wait(s, cause) : 0;
	free(st);
	return rc;
}

int
search_bootstrap(struct search *s, struct cand *c, const size_t *examples,
    size_t n, double threshold, struct demos *out, char **cause)
{
	struct search_score	*res;
	char			*in;
	size_t			 j;
	int			 scored = 0;

	res = xcalloc(n + 1, sizeof *res);
	if (search_score_on(s, &c, 1, examples, n, res, cause) != 0) {
		free(res);
		return -1;
	}
	for (j = 0; j < n; j++) {
		if (isnan(res[j].score))
			continue;
		scored++;
		if (res[j].score < threshold || res[j].output == NULL)
			continue;
		in = search_input(s, examples[j]);
		demos_add(out, s->task->dataset->ex[examples[j]].id, in,
		    res[j].output);
		free(in);
	}
	search_scores_release(res, n);
	free(res);
	return scored;
}
