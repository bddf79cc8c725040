/*
 * The OpenAI Chat Completions and Embeddings APIs, also spoken by vLLM,
 * llama.cpp's server, LM Studio, OpenRouter, Groq and Together.
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

/* OpenAI accepts at most four stop sequences, and n up to 128. */
#define OPENAI_STOP_MAX	4
#define OPENAI_N_MAX	128

struct openai {
	struct backend_http	 http;
	int			 has_seed;
	long long		 seed;
	cJSON			*stop;
	cJSON			*response_format;
	int			 reasoning;	/* a reasoning model */
	const char		*effort;	/* reasoning_effort, or NULL */
};

static const char *const openai_keys[] = {
	"base_url", "api_key_env", "api_key_file", "headers", "seed", "stop",
	"response_format", "n", "reasoning", "reasoning_effort", "batch",
	"batch_poll", "batch_max", NULL
};

static const char *const openai_efforts[] = {
	"minimal", "low", "medium", "high", NULL
};

/*
 * Whether a model name is one of OpenAI's reasoning models (the o-series
 * and the gpt-5 family), which take max_completion_tokens and no
 * temperature but the default.
 */
static int
openai_reasoning_name(const char *model)
{
	const char	*m = strrchr(model, '/');

	m = m != NULL ? m + 1 : model;
	return (m[0] == 'o' && m[1] >= '1' && m[1] <= '9') ||
	    strncmp(m, "gpt-5", 5) == 0;
}

static int
openai_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct openai	*o;
	const cJSON	*v;
	cJSON		*opts;
	char		*p;
	size_t		 nerr = doc->nerrors;
	long long	 n = 1;
	int		 effort;

	o = b->data = xcalloc(1, sizeof *o);
	backend_http_init(&o->http, b, doc, conf, path, "openai",
	    "https://api.openai.com/v1", "OPENAI_API_KEY");
	/* Integers beyond 2^53 would not survive a JSON number. */
	if (jv_int(doc, conf, path, "seed", 0, -9007199254740991LL,
	    9007199254740991LL, &o->seed) == 1)
		o->has_seed = 1;
	o->stop = backend_http_stop(doc, conf, path, OPENAI_STOP_MAX);
	/*
	 * n is how samples are fetched, not what they are: the engine asks
	 * for blocks of n samples of one request in one call (see
	 * engine.c), and each sample is cached under its own key, so it is
	 * not part of the identity.
	 */
	jv_int(doc, conf, path, "n", 0, 1, OPENAI_N_MAX, &n);
	b->batch = (int)n;
	if ((v = jv_get(doc, conf, path, "response_format", JV_OBJECT, 0)) !=
	    NULL)
		o->response_format = cJSON_Duplicate(v, 1);
	backend_http_batch(b, doc, conf, path);
	o->reasoning = openai_reasoning_name(b->model);
	jv_bool(doc, conf, path, "reasoning", 0, &o->reasoning);
	if (jv_enum(doc, conf, path, "reasoning_effort", 0, openai_efforts,
	    &effort) == 1)
		o->effort = openai_efforts[effort];
	if (o->reasoning && b->temperature >= 0 && b->temperature != 1) {
		p = jv_path(path, "temperature");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "temperature"), p, "model '%s' is a reasoning model, which "
		    "samples at temperature 1 only (set \"reasoning\": false "
		    "if it is not one)", b->model);
		free(p);
	}
	if (o->effort != NULL && !o->reasoning) {
		p = jv_path(path, "reasoning_effort");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "reasoning_effort"), p, "model '%s' is not a reasoning "
		    "model (set \"reasoning\": true if it is one)", b->model);
		free(p);
	}

	opts = cJSON_CreateObject();
	if (o->has_seed)
		cJSON_AddNumberToObject(opts, "seed", (double)o->seed);
	if (o->stop != NULL)
		cJSON_AddItemToObject(opts, "stop", cJSON_Duplicate(o->stop, 1));
	if (o->response_format != NULL)
		cJSON_AddItemToObject(opts, "response_format",
		    cJSON_Duplicate(o->response_format, 1));
	if (o->effort != NULL)
		cJSON_AddStringToObject(opts, "reasoning_effort", o->effort);
	backend_http_identity(b, "openai", opts);
	cJSON_Delete(opts);
	return doc->nerrors == nerr ? 0 : -1;
}

static void
openai_free(struct backend *b)
{
	struct openai	*o = b->data;

	if (o == NULL)
		return;
	backend_http_release(&o->http);
	cJSON_Delete(o->stop);
	cJSON_Delete(o->response_format);
	free(o);
	b->data = NULL;
}

/* The key and the configured headers; a JSON body says so. */
static void
openai_headers(const struct openai *o, struct http_req *hr, int json)
{
	if (json)
		http_req_header(hr, "Content-Type: application/json");
	if (o->http.key != NULL)
		http_req_header(hr, "Authorization: Bearer %s", o->http.key);
	backend_http_headers(&o->http, hr);
}

static int
openai_build(struct backend *b, const struct model_req *req,
    struct http_req *hr, char **cause)
{
	struct openai	*o = b->data;
	cJSON		*body;
	double		 temp;
	int		 maxtok;

	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", b->model);
	if (req->kind == REQ_EMBED) {
		if (req->input == NULL) {
			cJSON_Delete(body);
			return backend_http_fail(&o->http, cause, "embedding "
			    "request has no input");
		}
		cJSON_AddStringToObject(body, "input", req->input);
		hr->path = xstrdup("/embeddings");
	} else {
		if (req->nmsgs == 0) {
			cJSON_Delete(body);
			return backend_http_fail(&o->http, cause, "chat "
			    "request has no messages");
		}
		cJSON_AddItemToObject(body, "messages",
		    backend_http_messages(req, 0));
		/*
		 * A reasoning model takes no temperature but its default,
		 * and its limit on output (reasoning too) has another name.
		 */
		if (!o->reasoning && (temp = backend_temperature(b,
		    req)) >= 0)
			cJSON_AddNumberToObject(body, "temperature", temp);
		if ((maxtok = backend_http_max_tokens(b, req)) > 0)
			cJSON_AddNumberToObject(body, o->reasoning ?
			    "max_completion_tokens" : "max_tokens", maxtok);
		if (o->effort != NULL)
			cJSON_AddStringToObject(body, "reasoning_effort",
			    o->effort);
		if (o->has_seed)
			cJSON_AddNumberToObject(body, "seed", (double)o->seed);
		if (o->stop != NULL)
			cJSON_AddItemToObject(body, "stop",
			    cJSON_Duplicate(o->stop, 1));
		if (o->response_format != NULL)
			cJSON_AddItemToObject(body, "response_format",
			    cJSON_Duplicate(o->response_format, 1));
		cJSON_AddNumberToObject(body, "n", req->n > 1 ? req->n : 1);
		cJSON_AddBoolToObject(body, "stream", 0);
		hr->path = xstrdup("/chat/completions");
	}
	backend_http_body(hr, body);
	openai_headers(o, hr, 1);
	return 0;
}

/*
 * The message of an error body: {"error": {"message", "type", "code"}}
 * from OpenAI, {"error": "text"} from some servers, {"message", "type"}
 * from vLLM, {"detail"} from FastAPI-based ones.  The code (or else the
 * type) follows in parentheses.
 */
static char *
openai_error_message(const cJSON *o)
{
	const cJSON	*e, *m, *c;

	if (o == NULL)
		return NULL;
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsString(e))
		return xstrdup(e->valuestring);
	if (!cJSON_IsObject(e))
		e = o;
	m = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(e, "detail");
	if (!cJSON_IsString(m))
		return NULL;
	c = cJSON_GetObjectItemCaseSensitive(e, "code");
	if (!cJSON_IsString(c) || *c->valuestring == '\0')
		c = cJSON_GetObjectItemCaseSensitive(e, "type");
	if (!cJSON_IsString(c) || *c->valuestring == '\0')
		return xstrdup(m->valuestring);
	return xasprintf("%s (%s)", m->valuestring, c->valuestring);
}

/*
 * A model that refuses max_tokens or a temperature is most likely a
 * reasoning model promptd did not know for one: the message says what
 * to set.
 */
static void
openai_hint(const struct backend *b, const cJSON *root, char **cause)
{
	const struct openai	*o = b->data;
	const cJSON		*param;
	char			*with;

	param = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "error"), "param");
	if (cause == NULL || *cause == NULL || o->reasoning ||
	    !cJSON_IsString(param) ||
	    (strcmp(param->valuestring, "max_tokens") != 0 &&
	    strcmp(param->valuestring, "temperature") != 0))
		return;
	with = xasprintf("%s; if '%s' is a reasoning model, set \"reasoning\": "
	    "true on backend '%s'", *cause, b->model, b->name);
	free(*cause);
	*cause = with;
}

/* The text of one choice, or -1 with *cause. */
static int
openai_choice_text(struct openai *o, const cJSON *c, size_t i, char **text,
    char **cause)
{
	const cJSON	*msg, *content, *refusal;
	char		*esc;

	msg = cJSON_GetObjectItemCaseSensitive(c, "message");
	if (!cJSON_IsObject(msg))
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "choices[%zu] has no message", i);
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (!cJSON_IsString(content)) {
		refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
		if (cJSON_IsString(refusal)) {
			esc = backend_http_escape(refusal->valuestring, 1000);
			backend_http_fail(&o->http, cause, "the model refused: "
			    "%s", esc);
			free(esc);
			return -1;
		}
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "choices[%zu].message.content is not a string", i);
	}
	*text = xstrdup(content->valuestring);
	return 0;
}

/*
 * One choice, or with n > 1 every choice in the order of its "index" (or
 * of the array, when the indexes are not 0 .. n-1 once each), as many as
 * came: a server that ignores n sends one, and the engine sees that from
 * nchoices.  finish is the first choice's.
 */
static int
openai_parse_chat(struct openai *o, const struct model_req *req,
    const cJSON *root, struct model_resp *resp, char **cause)
{
	const cJSON	*choices, *c, *finish, *usage, *idx, *d;
	unsigned char	 seen[OPENAI_N_MAX] = { 0 };
	size_t		 n, i, k;
	int		 byindex;

	choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	if (!cJSON_IsArray(choices))
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "no choices");
	if ((c = cJSON_GetArrayItem(choices, 0)) == NULL)
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "empty choices");
	n = (size_t)cJSON_GetArraySize(choices);
	if (req->n > 1) {
		if (n > req->n)
			n = req->n;
		resp->choices = xcalloc(n, sizeof *resp->choices);
		resp->nchoices = n;
		/* By index; samples are alike, so odd indexes mean order. */
		byindex = 1;
		i = 0;
		cJSON_ArrayForEach(c, choices) {
			if (i == n)
				break;
			idx = cJSON_GetObjectItemCaseSensitive(c, "index");
			if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 ||
			    idx->valuedouble >= (double)n ||
			    seen[(size_t)idx->valuedouble]++ != 0)
				byindex = 0;
			i++;
		}
		i = 0;
		cJSON_ArrayForEach(c, choices) {
			if (i == n)
				break;
			idx = cJSON_GetObjectItemCaseSensitive(c, "index");
			k = byindex ? (size_t)idx->valuedouble : i;
			if (openai_choice_text(o, c, i, &resp->choices[k],
			    cause) != 0)
				return -1;
			i++;
		}
		resp->text = xstrdup(resp->choices[0]);
		c = cJSON_GetArrayItem(choices, 0);
	} else if (openai_choice_text(o, c, 0, &resp->text, cause) != 0)
		return -1;
	finish = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
	if (cJSON_IsString(finish))
		resp->finish = xstrdup(finish->valuestring);
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	backend_http_usage(resp, req,
	    cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens"),
	    cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens"));
	/* Both are counted in the totals above already. */
	d = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
	resp->cached_tokens = backend_http_count(
	    cJSON_GetObjectItemCaseSensitive(d, "cached_tokens"));
	d = cJSON_GetObjectItemCaseSensitive(usage,
	    "completion_tokens_details");
	resp->reasoning_tokens = backend_http_count(
	    cJSON_GetObjectItemCaseSensitive(d, "reasoning_tokens"));
	return 0;
}

static int
openai_parse_embed(struct openai *o, const struct model_req *req,
    const cJSON *root, struct model_resp *resp, char **cause)
{
	const cJSON	*data, *d, *usage;

	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data) || (d = cJSON_GetArrayItem(data, 0)) == NULL)
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "no data");
	if (backend_http_vector(cJSON_GetObjectItemCaseSensitive(d,
	    "embedding"), resp) != 0)
		return backend_http_fail(&o->http, cause, "malformed reply: "
		    "data[0].embedding is not an array of numbers");
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	backend_http_usage(resp, req,
	    cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens"), NULL);
	resp->completion_tokens = 0;
	return 0;
}

static int
openai_parse(struct backend *b, const struct model_req *req, long status,
    const char *body, size_t len, struct model_resp *resp, char **cause)
{
	struct openai	*o = b->data;
	cJSON		*root;
	char		*msg;
	int		 rv;

	memset(resp, 0, sizeof *resp);
	root = backend_http_json(body, len);
	/* Some proxies answer 200 with an error object and no choices. */
	if (status < 200 || status > 299 || (root != NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "error") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "choices") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "data") == NULL)) {
		msg = openai_error_message(root);
		backend_http_error(&o->http, status, body, len, msg, cause);
		openai_hint(b, root, cause);
		free(msg);
		cJSON_Delete(root);
		return -1;
	}
	if (root == NULL)
		return backend_http_not_json(&o->http, body, len, cause);
	if (req->kind == REQ_EMBED)
		rv = openai_parse_embed(o, req, root, resp, cause);
	else
		rv = openai_parse_chat(o, req, root, resp, cause);
	cJSON_Delete(root);
	if (rv != 0)
		model_resp_release(resp);
	return rv;
}

/*
 * Batch mode (batch.h): OpenAI's Files and Batches APIs.  The input is a
 * JSONL file, a line per request: its custom_id (our key), method, url
 * and the body an interactive call would send.
 */

/* The API's path on its host: "/v1" of "https://api.openai.com/v1". */
static const char *
openai_base_path(const struct backend *b)
{
	const char	*p = strstr(b->urls[0], "://");

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	return p != NULL ? p : "";
}

static int
openai_batch_item(struct backend *b, const struct model_req *req,
    const char *id, struct strbuf *sb, char **cause)
{
	cJSON	*item;
	char	*path, *url, *line;

	if ((item = backend_http_batch_item(b, req, id, "body", &path,
	    cause)) == NULL)
		return -1;
	cJSON_AddStringToObject(item, "method", "POST");
	url = xasprintf("%s%s", openai_base_path(b), path);
	cJSON_AddStringToObject(item, "url", url);
	line = cJSON_PrintUnformatted(item);
	strbuf_adds(sb, line);
	strbuf_addc(sb, '\n');
	cJSON_free(line);
	cJSON_Delete(item);
	free(url);
	free(path);
	return 0;
}

static int
openai_batch_next(struct backend *b, const struct batch_job *j,
    struct http_req *hr, char **cause)
{
	struct openai	*o = b->data;
	cJSON		*body;
	char		*endpoint;

	switch (j->step) {
	case BATCH_UPLOAD:
		hr->path = xstrdup("/files");
		hr->file = xstrdup(j->input);
		hr->file_len = strlen(j->input);
		hr->file_name = xstrdup("promptd-batch.jsonl");
		http_req_field(hr, "purpose", "batch");
		openai_headers(o, hr, 0);
		return 0;
	case BATCH_CREATE:
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "input_file_id", j->file);
		endpoint = xasprintf("%s/chat/completions", openai_base_path(b));
		cJSON_AddStringToObject(body, "endpoint", endpoint);
		free(endpoint);
		cJSON_AddStringToObject(body, "completion_window",
		    b->batch_window);
		cJSON_AddItemToObject(cJSON_AddObjectToObject(body, "metadata"),
		    "promptd", cJSON_CreateString(j->token));
		hr->path = xstrdup("/batches");
		backend_http_body(hr, body);
		openai_headers(o, hr, 1);
		return 0;
	case BATCH_FIND:
		hr->path = xstrdup("/batches?limit=100");
		break;
	case BATCH_POLL:
		hr->path = xasprintf("/batches/%s", j->provider_id);
		break;
	case BATCH_RESULTS:
		hr->path = xasprintf("/files/%s/content", j->output);
		break;
	case BATCH_ERRORS:
		hr->path = xasprintf("/files/%s/content", j->errors);
		break;
	default:
		return backend_http_fail(&o->http, cause, "batch: nothing "
		    "left to do");
	}
	hr->get = 1;
	openai_headers(o, hr, 0);
	return 0;
}

/* A string member, copied, or NULL. */
static char *
openai_str(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && *v->valuestring != '\0' ?
	    xstrdup(v->valuestring) : NULL;
}

/* The result lines of an output or error file. */
static void
openai_batch_lines(struct batch_job *j, const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *nl;
	const cJSON	*resp, *err, *msg;
	cJSON		*line;
	char		*text, *id;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((line = cJSON_ParseWithLength(p, (size_t)(nl - p))) ==
		    NULL)
			continue;
		if ((id = openai_str(line, "custom_id")) == NULL) {
			cJSON_Delete(line);
			continue;
		}
		resp = cJSON_GetObjectItemCaseSensitive(line, "response");
		err = cJSON_GetObjectItemCaseSensitive(line, "error");
		if (cJSON_IsObject(resp) && cJSON_IsNumber(
		    cJSON_GetObjectItemCaseSensitive(resp, "status_code"))) {
			text = cJSON_PrintUnformatted(
			    cJSON_GetObjectItemCaseSensitive(resp, "body"));
			batch_job_result(j, id, (long)cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(resp,
			    "status_code")), text != NULL ? text : "");
			cJSON_free(text);
		} else {
			msg = cJSON_GetObjectItemCaseSensitive(err, "message");
			batch_job_result(j, id, 0, cJSON_IsString(msg) ?
			    msg->valuestring : "no answer in the batch");
		}
		free(id);
		cJSON_Delete(line);
	}
}

static int
openai_batch_take(struct backend *b, struct batch_job *j, long status,
    const char *body, size_t len, char **cause)
{
	struct openai	*o = b->data;
	const cJSON	*v, *counts, *errs;
	cJSON		*root = NULL;
	char		*msg, *s;

	if (status < 200 || status > 299) {
		/* No list of batches there: it was never made, then. */
		if (j->step == BATCH_FIND && status == 404) {
			j->step = BATCH_CREATE;
			return 0;
		}
		root = backend_http_json(body, len);
		msg = openai_error_message(root);
		backend_http_error(&o->http, status, body, len, msg, cause);
		free(msg);
		cJSON_Delete(root);
		return -1;
	}
	if (j->step == BATCH_RESULTS || j->step == BATCH_ERRORS) {
		openai_batch_lines(j, body, len);
		j->step = j->step == BATCH_RESULTS && j->errors != NULL ?
		    BATCH_ERRORS : BATCH_DONE;
		return 0;
	}
	if ((root = backend_http_json(body, len)) == NULL)
		return backend_http_not_json(&o->http, body, len, cause);
	switch (j->step) {
	case BATCH_UPLOAD:
		if ((j->file = openai_str(root, "id")) == NULL)
			goto malformed;
		j->step = BATCH_CREATE;
		break;
	case BATCH_CREATE:
		if ((j->provider_id = openai_str(root, "id")) == NULL)
			goto malformed;
		j->step = BATCH_POLL;
		break;
	case BATCH_FIND:
		j->step = BATCH_CREATE;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root,
		    "data")) {
			s = openai_str(cJSON_GetObjectItemCaseSensitive(v,
			    "metadata"), "promptd");
			if (s != NULL && strcmp(s, j->token) == 0) {
				j->provider_id = openai_str(v, "id");
				j->step = j->provider_id != NULL ? BATCH_POLL :
				    BATCH_CREATE;
			}
			free(s);
		}
		break;
	case BATCH_POLL:
		counts = cJSON_GetObjectItemCaseSensitive(root,
		    "request_counts");
		j->answered = (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(counts, "completed")) +
		    (long long)cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(counts, "failed"));
		if ((s = openai_str(root, "status")) == NULL)
			goto malformed;
		if (strcmp(s, "failed") == 0) {
			errs = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(root, "errors"),
			    "data"), 0);
			v = cJSON_GetObjectItemCaseSensitive(errs, "message");
			backend_http_fail(&o->http, cause, "batch %s failed: %s",
			    j->provider_id, cJSON_IsString(v) ? v->valuestring :
			    "no reason given");
			free(s);
			cJSON_Delete(root);
			return -1;
		}
		/* Ended: what came is read; the rest goes interactively. */
		if (strcmp(s, "completed") == 0 || strcmp(s, "expired") == 0 ||
		    strcmp(s, "cancelled") == 0) {
			j->output = openai_str(root, "output_file_id");
			j->errors = openai_str(root, "error_file_id");
			j->step = j->output != NULL ? BATCH_RESULTS :
			    j->errors != NULL ? BATCH_ERRORS : BATCH_DONE;
			if (strcmp(s, "completed") != 0) {
				free(j->cause);
				j->cause = xasprintf("the batch %s", s);
			}
		}
		free(s);
		break;
	default:
		break;
	}
	cJSON_Delete(root);
	return 0;
malformed:
	cJSON_Delete(root);
	return backend_http_fail(&o->http, cause, "batch: malformed reply to "
	    "step %s", batch_step_name(j->step));
}

const struct backend_ops backend_openai_ops = {
	.name = "openai",
	.keys = openai_keys,
	.init = openai_init,
	.free = openai_free,
	.build = openai_build,
	.parse = openai_parse,
	.batch_item = openai_batch_item,
	.batch_next = openai_batch_next,
	.batch_take = openai_batch_take,
};
