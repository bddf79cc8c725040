/*
 * Ollama's native API: /api/chat and /api/embed.  Sampling parameters go
 * in "options", merged over the configured ones; there is no API key.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backend_http.h"
#include "http.h"
#include "jsonc.h"
#include "util.h"
#include "xmalloc.h"

struct ollama {
	struct backend_http	 http;
	cJSON			*options;	/* configured, or NULL */
	cJSON			*keep_alive;	/* string or number, or NULL */
	int			 has_seed;
	long long		 seed;
	cJSON			*stop;
};

static const char *const ollama_keys[] = {
	"base_url", "headers", "options", "keep_alive", "seed", "stop", NULL
};

static int
ollama_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct ollama	*o;
	const cJSON	*v;
	cJSON		*opts;
	size_t		 nerr = doc->nerrors;

	o = b->data = xcalloc(1, sizeof *o);
	backend_http_init(&o->http, b, doc, conf, path, "ollama",
	    "http://127.0.0.1:11434", NULL);
	if ((v = jv_get(doc, conf, path, "options", JV_OBJECT, 0)) != NULL) {
		o->options = cJSON_Duplicate(v, 1);
		/*
		 * Defaults given as options count as the backend's own, so
		 * that they reach the cache key like the common keys do.
		 */
		v = cJSON_GetObjectItemCaseSensitive(o->options, "temperature");
		if (b->temperature < 0 && cJSON_IsNumber(v) &&
		    v->valuedouble >= 0)
			b->temperature = v->valuedouble;
		v = cJSON_GetObjectItemCaseSensitive(o->options, "num_predict");
		if (b->max_tokens == 0 && cJSON_IsNumber(v) &&
		    v->valuedouble >= 1 && v->valuedouble <= 1000000)
			b->max_tokens = (int)v->valuedouble;
	}
	if ((v = jv_get(doc, conf, path, "keep_alive", JV_STRING | JV_NUMBER,
	    0)) != NULL)
		o->keep_alive = cJSON_Duplicate(v, 1);
	if (jv_int(doc, conf, path, "seed", 0, -9007199254740991LL,
	    9007199254740991LL, &o->seed) == 1)
		o->has_seed = 1;
	o->stop = backend_http_stop(doc, conf, path, 0);

	opts = cJSON_CreateObject();
	if (o->options != NULL)
		cJSON_AddItemToObject(opts, "options",
		    cJSON_Duplicate(o->options, 1));
	if (o->has_seed)
		cJSON_AddNumberToObject(opts, "seed", (double)o->seed);
	if (o->stop != NULL)
		cJSON_AddItemToObject(opts, "stop", cJSON_Duplicate(o->stop, 1));
	backend_http_identity(b, "ollama", opts);
	cJSON_Delete(opts);
	return doc->nerrors == nerr ? 0 : -1;
}

static void
ollama_free(struct backend *b)
{
	struct ollama	*o = b->data;

	if (o == NULL)
		return;
	backend_http_release(&o->http);
	cJSON_Delete(o->options);
	cJSON_Delete(o->keep_alive);
	cJSON_Delete(o->stop);
	free(o);
	b->data = NULL;
}

/* Sets key in obj, replacing a configured value. */
static void
ollama_set(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

static int
ollama_build(struct backend *b, const struct model_req *req,
    struct http_req *hr, char **cause)
{
	struct ollama	*o = b->data;
	cJSON		*body, *opts;
	double		 temp;
	int		 maxtok;

	if (req->kind == REQ_EMBED && req->input == NULL)
		return backend_http_fail(&o->http, cause, "embedding request "
		    "has no input");
	if (req->kind == REQ_CHAT && req->nmsgs == 0)
		return backend_http_fail(&o->http, cause, "chat request has no "
		    "messages");
	opts = o->options != NULL ? cJSON_Duplicate(o->options, 1) :
	    cJSON_CreateObject();
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", b->model);
	if (req->kind == REQ_EMBED) {
		cJSON_AddStringToObject(body, "input", req->input);
		hr->path = xstrdup("/api/embed");
	} else {
		cJSON_AddItemToObject(body, "messages",
		    backend_http_messages(req, 0));
		cJSON_AddBoolToObject(body, "stream", 0);
		if ((temp = backend_temperature(b, req)) >= 0)
			ollama_set(opts, "temperature",
			    cJSON_CreateNumber(temp));
		if ((maxtok = backend_http_max_tokens(b, req)) > 0)
			ollama_set(opts, "num_predict",
			    cJSON_CreateNumber(maxtok));
		if (o->has_seed)
			ollama_set(opts, "seed",
			    cJSON_CreateNumber((double)o->seed));
		if (o->stop != NULL)
			ollama_set(opts, "stop", cJSON_Duplicate(o->stop, 1));
		hr->path = xstrdup("/api/chat");
	}
	if (cJSON_GetArraySize(opts) > 0)
		cJSON_AddItemToObject(body, "options", opts);
	else
		cJSON_Delete(opts);
	if (o->keep_alive != NULL)
		cJSON_AddItemToObject(body, "keep_alive",
		    cJSON_Duplicate(o->keep_alive, 1));
	backend_http_body(hr, body);
	http_req_header(hr, "Content-Type: application/json");
	backend_http_headers(&o->http, hr);
	return 0;
}

static int
ollama_parse(struct backend *b, const struct model_req *req, long status,
    const char *body, size_t len, struct model_resp *resp, char **cause)
{
	struct ollama	*o = b->data;
	const cJSON	*err, *msg, *content, *done, *embs;
	cJSON		*root;
	int		 rv = -1;

	memset(resp, 0, sizeof *resp);
	root = backend_http_json(body, len);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (status < 200 || status > 299 || err != NULL) {
		backend_http_error(&o->http, status, body, len,
		    cJSON_IsString(err) ? err->valuestring : NULL, cause);
		cJSON_Delete(root);
		return -1;
	}
	if (root == NULL)
		return backend_http_not_json(&o->http, body, len, cause);
	if (req->kind == REQ_EMBED) {
		embs = cJSON_GetObjectItemCaseSensitive(root, "embeddings");
		if (backend_http_vector(cJSON_GetArrayItem(embs, 0), resp) !=
		    0) {
			backend_http_fail(&o->http, cause, "malformed reply: "
			    "embeddings[0] is not an array of numbers");
			goto fail;
		}
		backend_http_usage(resp, req, cJSON_GetObjectItemCaseSensitive(
		    root, "prompt_eval_count"), NULL);
		resp->completion_tokens = 0;
	} else {
		msg = cJSON_GetObjectItemCaseSensitive(root, "message");
		content = cJSON_GetObjectItemCaseSensitive(msg, "content");
		if (!cJSON_IsString(content)) {
			backend_http_fail(&o->http, cause, "malformed reply: "
			    "message.content is not a string");
			goto fail;
		}
		resp->text = xstrdup(content->valuestring);
		done = cJSON_GetObjectItemCaseSensitive(root, "done_reason");
		if (cJSON_IsString(done))
			resp->finish = xstrdup(done->valuestring);
		backend_http_usage(resp, req, cJSON_GetObjectItemCaseSensitive(
		    root, "prompt_eval_count"),
		    cJSON_GetObjectItemCaseSensitive(root, "eval_count"));
	}
	rv = 0;
fail:
	if (rv != 0)
		model_resp_release(resp);
	cJSON_Delete(root);
	return rv;
}

const struct backend_ops backend_ollama_ops = {
	.name = "ollama",
	.keys = ollama_keys,
	.init = ollama_init,
	.free = ollama_free,
	.build = ollama_build,
	.parse = ollama_parse,
};
