/*
 * The Anthropic Messages API.  System messages go to the top-level
 * "system" field; max_tokens is required; there are no embeddings.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "batch.h"
#include "backend_http.h"
#include "http.h"
#include "jsonc.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* What max_tokens is when neither the request nor the backend sets it. */
#define ANTHROPIC_MAX_TOKENS	1024

/* The API takes temperatures from 0 to 1 only. */
#define ANTHROPIC_TEMP_MAX	1.0

/*
 * The shortest system prompt worth marking for the prompt cache, in
 * tokens: Anthropic caches nothing shorter (1024 for most models, 2048
 * for Haiku's).
 */
#define ANTHROPIC_CACHE_MIN	1024

struct anthropic {
	struct backend_http	 http;
	char			*version;
	cJSON			*stop;
	int			 cache;		/* mark the system prompt */
	long long		 cache_min;	/* tokens it must have */
};

static const char *const anthropic_keys[] = {
	"base_url", "api_key_env", "api_key_file", "headers",
	"anthropic_version", "stop", "cache", "cache_min_tokens", "batch",
	"batch_poll", "batch_max", NULL
};

static int
anthropic_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct anthropic	*a;
	const char		*version = "2023-06-01";
	char			*p;
	cJSON			*opts;
	size_t			 nerr = doc->nerrors;

	a = b->data = xcalloc(1, sizeof *a);
	backend_http_init(&a->http, b, doc, conf, path, "anthropic",
	    "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY");
	if (jv_string(doc, conf, path, "anthropic_version", 0, &version) ==
	    1 && (*version == '\0' || strpbrk(version, "\r\n") != NULL)) {
		p = jv_path(path, "anthropic_version");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "anthropic_version"), p, "expected a version such as "
		    "'2023-06-01'");
		free(p);
	}
	a->version = xstrdup(version);
	a->stop = backend_http_stop(doc, conf, path, 0);
	backend_http_batch(b, doc, conf, path);
	a->cache = 1;
	a->cache_min = ANTHROPIC_CACHE_MIN;
	jv_bool(doc, conf, path, "cache", 0, &a->cache);
	jv_int(doc, conf, path, "cache_min_tokens", 0, 1, 1000000,
	    &a->cache_min);
	if (b->temperature > ANTHROPIC_TEMP_MAX) {
		p = jv_path(path, "temperature");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "temperature"), p, "%g is out of range for anthropic "
		    "(expected 0 to 1)", b->temperature);
		free(p);
	}

	opts = cJSON_CreateObject();
	if (a->stop != NULL)
		cJSON_AddItemToObject(opts, "stop", cJSON_Duplicate(a->stop, 1));
	backend_http_identity(b, "anthropic", opts);
	cJSON_Delete(opts);
	return doc->nerrors == nerr ? 0 : -1;
}

static void
anthropic_free(struct backend *b)
{
	struct anthropic	*a = b->data;

	if (a == NULL)
		return;
	backend_http_release(&a->http);
	free(a->version);
	cJSON_Delete(a->stop);
	free(a);
	b->data = NULL;
}

/*
 * The system prompt: a string, or, when it is long enough to be cached,
 * one text block marked for the prompt cache.  The prompt comes before
 * the example's input, so every request with the same prompt shares
 * that prefix, and the evaluations of a prompt read it from the cache.
 */
static cJSON *
anthropic_system(const struct anthropic *a, const char *text)
{
	cJSON	*blocks, *b;

	if (!a->cache || tokens_estimate(text) < a->cache_min)
		return cJSON_CreateString(text);
	blocks = cJSON_CreateArray();
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "type", "text");
	cJSON_AddStringToObject(b, "text", text);
	cJSON_AddItemToObject(cJSON_AddObjectToObject(b, "cache_control"),
	    "type", cJSON_CreateString("ephemeral"));
	cJSON_AddItemToArray(blocks, b);
	return blocks;
}

static void
anthropic_headers(const struct anthropic *a, struct http_req *hr)
{
	if (a->http.key != NULL)
		http_req_header(hr, "x-api-key: %s", a->http.key);
	http_req_header(hr, "anthropic-version: %s", a->version);
	http_req_header(hr, "content-type: application/json");
	backend_http_headers(&a->http, hr);
}

static int
anthropic_build(struct backend *b, const struct model_req *req,
    struct http_req *hr, char **cause)
{
	struct anthropic	*a = b->data;
	struct strbuf		 sys;
	cJSON			*body;
	double			 temp;
	int			 maxtok;
	size_t			 i, nchat = 0;

	if (req->kind == REQ_EMBED)
		return backend_http_fail(&a->http, cause, "embeddings are not "
		    "supported; use another backend for the embedder role");
	for (i = 0; i < req->nmsgs; i++)
		if (req->msgs[i].role != MSG_SYSTEM)
			nchat++;
	if (nchat == 0)
		return backend_http_fail(&a->http, cause, "chat request has no "
		    "user or assistant message");
	if ((temp = backend_temperature(b, req)) > ANTHROPIC_TEMP_MAX)
		return backend_http_fail(&a->http, cause, "temperature %g is "
		    "out of range (expected 0 to 1)", temp);
	if ((maxtok = backend_http_max_tokens(b, req)) <= 0)
		maxtok = ANTHROPIC_MAX_TOKENS;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", b->model);
	cJSON_AddNumberToObject(body, "max_tokens", maxtok);
	/* Several system messages are joined with blank lines. */
	strbuf_init(&sys);
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role != MSG_SYSTEM)
			continue;
		if (sys.len > 0)
			strbuf_adds(&sys, "\n\n");
		strbuf_adds(&sys, req->msgs[i].content);
	}
	if (sys.len > 0)
		cJSON_AddItemToObject(body, "system", anthropic_system(a,
		    sys.buf));
	strbuf_release(&sys);
	cJSON_AddItemToObject(body, "messages", backend_http_messages(req, 1));
	if (temp >= 0)
		cJSON_AddNumberToObject(body, "temperature", temp);
	if (a->stop != NULL)
		cJSON_AddItemToObject(body, "stop_sequences",
		    cJSON_Duplicate(a->stop, 1));
	hr->path = xstrdup("/messages");
	backend_http_body(hr, body);
	anthropic_headers(a, hr);
	return 0;
}

/* {"type": "error", "error": {"type", "message"}} -> "type: message". */
static char *
anthropic_error_message(const cJSON *root)
{
	const cJSON	*e, *t, *m;

	if (root == NULL)
		return NULL;
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsString(e))
		return xstrdup(e->valuestring);
	if (!cJSON_IsObject(e))
		return NULL;
	t = cJSON_GetObjectItemCaseSensitive(e, "type");
	m = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (!cJSON_IsString(m))
		return NULL;
	if (!cJSON_IsString(t) || *t->valuestring == '\0')
		return xstrdup(m->valuestring);
	return xasprintf("%s: %s", t->valuestring, m->valuestring);
}

static const char *
anthropic_finish(const char *stop_reason)
{
	if (strcmp(stop_reason, "end_turn") == 0)
		return "stop";
	if (strcmp(stop_reason, "max_tokens") == 0)
		return "length";
	return stop_reason;
}

static int
anthropic_parse(struct backend *b, const struct model_req *req, long status,
    const char *body, size_t len, struct model_resp *resp, char **cause)
{
	struct anthropic	*a = b->data;
	struct strbuf		 text;
	const cJSON		*type, *content, *blk, *bt, *t, *stop, *usage;
	const cJSON		*v;
	cJSON			*root, *in = NULL;
	char			*msg;

	memset(resp, 0, sizeof *resp);
	root = backend_http_json(body, len);
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (status < 200 || status > 299 || (cJSON_IsString(type) &&
	    strcmp(type->valuestring, "error") == 0)) {
		msg = anthropic_error_message(root);
		backend_http_error(&a->http, status, body, len, msg, cause);
		free(msg);
		cJSON_Delete(root);
		return -1;
	}
	if (root == NULL)
		return backend_http_not_json(&a->http, body, len, cause);
	content = cJSON_GetObjectItemCaseSensitive(root, "content");
	if (!cJSON_IsArray(content)) {
		cJSON_Delete(root);
		return backend_http_fail(&a->http, cause, "malformed reply: "
		    "no content");
	}
	/* Text blocks in order; thinking and tool blocks are skipped. */
	strbuf_init(&text);
	cJSON_ArrayForEach(blk, content) {
		bt = cJSON_GetObjectItemCaseSensitive(blk, "type");
		t = cJSON_GetObjectItemCaseSensitive(blk, "text");
		if (cJSON_IsString(bt) && strcmp(bt->valuestring, "text") == 0 &&
		    cJSON_IsString(t))
			strbuf_adds(&text, t->valuestring);
	}
	resp->text = strbuf_detach(&text);
	stop = cJSON_GetObjectItemCaseSensitive(root, "stop_reason");
	if (cJSON_IsString(stop))
		resp->finish = xstrdup(anthropic_finish(stop->valuestring));
	/*
	 * input_tokens leaves out what was read from or written to the
	 * prompt cache: they are input too, at their own prices.
	 */
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	resp->cache_write_tokens = backend_http_count(
	    cJSON_GetObjectItemCaseSensitive(usage,
	    "cache_creation_input_tokens"));
	resp->cached_tokens = backend_http_count(
	    cJSON_GetObjectItemCaseSensitive(usage, "cache_read_input_tokens"));
	v = cJSON_GetObjectItemCaseSensitive(usage, "input_tokens");
	if (cJSON_IsNumber(v))
		in = cJSON_CreateNumber((double)backend_http_count(v) +
		    (double)resp->cache_write_tokens +
		    (double)resp->cached_tokens);
	backend_http_usage(resp, req, in,
	    cJSON_GetObjectItemCaseSensitive(usage, "output_tokens"));
	cJSON_Delete(in);
	cJSON_Delete(root);
	return 0;
}

/*
 * Batch mode (batch.h): Anthropic's Message Batches.  The input is a
 * list of requests, each its custom_id (our key) and the params an
 * interactive call would send; the results are a JSONL file.
 */
static int
anthropic_batch_item(struct backend *b, const struct model_req *req,
    const char *id, struct strbuf *sb, char **cause)
{
	cJSON	*item;
	char	*text;

	if ((item = backend_http_batch_item(b, req, id, "params", NULL,
	    cause)) == NULL)
		return -1;
	text = cJSON_PrintUnformatted(item);
	if (sb->len > 0)
		strbuf_addc(sb, ',');
	strbuf_adds(sb, text);
	cJSON_free(text);
	cJSON_Delete(item);
	return 0;
}

static int
anthropic_batch_next(struct backend *b, const struct batch_job *j,
    struct http_req *hr, char **cause)
{
	struct anthropic	*a = b->data;

	switch (j->step) {
	case BATCH_UPLOAD:
	case BATCH_CREATE:
	case BATCH_FIND:
		/* Nothing to upload, nothing to look for: it is made. */
		hr->path = xstrdup("/messages/batches");
		hr->body = xasprintf("{\"requests\":[%s]}", j->input);
		hr->len = strlen(hr->body);
		break;
	case BATCH_POLL:
		hr->path = xasprintf("/messages/batches/%s", j->provider_id);
		hr->get = 1;
		break;
	case BATCH_RESULTS:
		hr->path = xstrdup(j->output);
		hr->get = 1;
		break;
	default:
		return backend_http_fail(&a->http, cause, "batch: nothing "
		    "left to do");
	}
	anthropic_headers(a, hr);
	return 0;
}

/* The results file: a line per request. */
static void
anthropic_batch_lines(struct batch_job *j, const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *nl;
	const cJSON	*id, *res, *type, *e;
	cJSON		*line;
	char		*text;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((line = cJSON_ParseWithLength(p, (size_t)(nl - p))) ==
		    NULL)
			continue;
		id = cJSON_GetObjectItemCaseSensitive(line, "custom_id");
		res = cJSON_GetObjectItemCaseSensitive(line, "result");
		type = cJSON_GetObjectItemCaseSensitive(res, "type");
		if (!cJSON_IsString(id) || !cJSON_IsString(type)) {
			cJSON_Delete(line);
			continue;
		}
		if (strcmp(type->valuestring, "succeeded") == 0) {
			text = cJSON_PrintUnformatted(
			    cJSON_GetObjectItemCaseSensitive(res, "message"));
			batch_job_result(j, id->valuestring, 200, text != NULL ?
			    text : "");
			cJSON_free(text);
		} else {
			/* errored: {"error": {"type": "error", "error": {...}}} */
			e = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(res, "error"),
			    "error"), "message");
			batch_job_result(j, id->valuestring, 0, cJSON_IsString(e) ?
			    e->valuestring : type->valuestring);
		}
		cJSON_Delete(line);
	}
}

static int
anthropic_batch_take(struct backend *b, struct batch_job *j, long status,
    const char *body, size_t len, char **cause)
{
	struct anthropic	*a = b->data;
	const cJSON		*v, *counts;
	cJSON			*root;
	char			*msg;
	const char		*const ended[] = { "succeeded", "errored",
				    "canceled", "expired" };
	size_t			 i;

	if (status < 200 || status > 299) {
		root = backend_http_json(body, len);
		msg = anthropic_error_message(root);
		backend_http_error(&a->http, status, body, len, msg, cause);
		free(msg);
		cJSON_Delete(root);
		return -1;
	}
	if (j->step == BATCH_RESULTS) {
		anthropic_batch_lines(j, body, len);
		j->step = BATCH_DONE;
		return 0;
	}
	if ((root = backend_http_json(body, len)) == NULL)
		return backend_http_not_json(&a->http, body, len, cause);
	if (j->step != BATCH_POLL) {
		v = cJSON_GetObjectItemCaseSensitive(root, "id");
		if (!cJSON_IsString(v)) {
			cJSON_Delete(root);
			return backend_http_fail(&a->http, cause, "batch: "
			    "malformed reply: no id");
		}
		j->provider_id = xstrdup(v->valuestring);
		j->step = BATCH_POLL;
		cJSON_Delete(root);
		return 0;
	}
	counts = cJSON_GetObjectItemCaseSensitive(root, "request_counts");
	j->answered = 0;
	for (i = 0; i < nitems(ended); i++)
		j->answered += (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(counts, ended[i]));
	v = cJSON_GetObjectItemCaseSensitive(root, "processing_status");
	if (cJSON_IsString(v) && strcmp(v->valuestring, "ended") == 0) {
		v = cJSON_GetObjectItemCaseSensitive(root, "results_url");
		if (!cJSON_IsString(v)) {
			cJSON_Delete(root);
			return backend_http_fail(&a->http, cause, "batch %s "
			    "ended without results", j->provider_id);
		}
		j->output = xstrdup(v->valuestring);
		j->step = BATCH_RESULTS;
	}
	cJSON_Delete(root);
	return 0;
}

const struct backend_ops backend_anthropic_ops = {
	.name = "anthropic",
	.keys = anthropic_keys,
	.init = anthropic_init,
	.free = anthropic_free,
	.build = anthropic_build,
	.parse = anthropic_parse,
	.batch_item = anthropic_batch_item,
	.batch_next = anthropic_batch_next,
	.batch_take = anthropic_batch_take,
};
