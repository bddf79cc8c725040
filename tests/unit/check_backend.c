/*
 * Tests for the HTTP backends (openai, anthropic, ollama): the requests
 * they build, the replies they parse (canned bodies from the providers'
 * API references), configuration errors, and that API keys stay out of
 * identities, causes and cache keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "backend.h"
#include "backend_http.h"
#include "http.h"
#include "jsonc.h"
#include "util.h"
#include "xmalloc.h"

#define KEY	"sk-test-SECRET-0123456789abcdef"
#define KEYENV	"PROMPTD_TEST_API_KEY"

/*
 * Builds the first backend of {"backends": {NAME: {...}}} in text, parsed
 * as file.  *errors gets every configuration error (or NULL).
 */
static struct backend *
mkbackend(const char *file, const char *text, char **errors)
{
	struct jdoc	*doc;
	struct backend	*b;
	const cJSON	*bs, *conf;
	char		*cause = NULL, *path;

	doc = jsonc_parse(file, text, strlen(text), &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	bs = cJSON_GetObjectItemCaseSensitive(doc->root, "backends");
	conf = bs->child;
	path = jv_path("backends", conf->string);
	b = backend_new(doc, conf->string, conf, path);
	free(path);
	*errors = jv_errors(doc);
	jsonc_free(doc);
	return b;
}

/* A backend that must build without errors. */
static struct backend *
mkok(const char *text)
{
	struct backend	*b;
	char		*errors;

	b = mkbackend("t.json", text, &errors);
	ck_assert_msg(b != NULL && errors == NULL, "errors: %s", errors);
	return b;
}

/* Configuration that must fail with expect somewhere in the errors. */
static void
conf_fails(const char *file, const char *text, const char *expect)
{
	struct backend	*b;
	char		*errors;

	b = mkbackend(file, text, &errors);
	ck_assert_msg(b == NULL, "accepted: %s", text);
	ck_assert_msg(errors != NULL && strstr(errors, expect) != NULL,
	    "'%s' not in '%s'", expect, errors);
	ck_assert_msg(strstr(errors, KEY) == NULL, "key in '%s'", errors);
	free(errors);
}

static void
chat_req(struct model_req *req)
{
	model_req_init(req, REQ_CHAT, "target");
	model_req_add(req, MSG_SYSTEM, "You classify reviews.");
	model_req_add(req, MSG_USER, "Great phone, terrible battery.");
}

static void
embed_req(struct model_req *req)
{
	model_req_init(req, REQ_EMBED, "embedder");
	req->input = xstrdup("Classify the sentiment.");
}

/* Builds req and returns the parsed body; the request stays in hr. */
static cJSON *
build(struct backend *b, const struct model_req *req, struct http_req *hr)
{
	char	*cause = NULL;
	cJSON	*body;

	memset(hr, 0, sizeof *hr);
	ck_assert_msg(b->ops->build(b, req, hr, &cause) == 0, "build: %s",
	    cause);
	ck_assert_ptr_nonnull(hr->body);
	ck_assert_uint_eq(hr->len, strlen(hr->body));
	body = cJSON_Parse(hr->body);
	ck_assert_msg(cJSON_IsObject(body), "body: %s", hr->body);
	return body;
}

/* The value of header name in hr, or NULL. */
static const char *
header(const struct http_req *hr, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < hr->nheaders; i++)
		if (strncmp(hr->headers[i], name, n) == 0 &&
		    strncmp(hr->headers[i] + n, ": ", 2) == 0)
			return hr->headers[i] + n + 2;
	return NULL;
}

static const cJSON *
get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *
getstr(const cJSON *o, const char *key)
{
	const cJSON	*v = get(o, key);

	ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
	return v->valuestring;
}

static double
getnum(const cJSON *o, const char *key)
{
	const cJSON	*v = get(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
	return v->valuedouble;
}

/* Parses a reply that must succeed. */
static void
parse_ok(struct backend *b, const struct model_req *req, long status,
    const char *body, struct model_resp *resp)
{
	char	*cause = NULL;

	ck_assert_msg(b->ops->parse(b, req, status, body, strlen(body), resp,
	    &cause) == 0, "parse: %s", cause);
}

/* Parses a reply that must fail with exactly expect. */
static void
parse_fails(struct backend *b, const struct model_req *req, long status,
    const char *body, const char *expect)
{
	struct model_resp	 resp;
	char			*cause = NULL;

	memset(&resp, 0xa5, sizeof resp);
	ck_assert_int_eq(b->ops->parse(b, req, status, body, strlen(body),
	    &resp, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, expect);
	ck_assert_ptr_null(resp.text);
	ck_assert_ptr_null(resp.vec);
	ck_assert_ptr_null(resp.finish);
	free(cause);
}

/* OpenAI's documented chat completion reply. */
static const char openai_chat_ok[] =
    "{\n"
    "  \"id\": \"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\n"
    "  \"object\": \"chat.completion\",\n"
    "  \"created\": 1741569952,\n"
    "  \"model\": \"gpt-4.1-2025-04-14\",\n"
    "  \"choices\": [\n"
    "    {\n"
    "      \"index\": 0,\n"
    "      \"message\": {\n"
    "        \"role\": \"assistant\",\n"
    "        \"content\": \"Hello! How can I assist you today?\",\n"
    "        \"refusal\": null,\n"
    "        \"annotations\": []\n"
    "      },\n"
    "      \"logprobs\": null,\n"
    "      \"finish_reason\": \"stop\"\n"
    "    }\n"
    "  ],\n"
    "  \"usage\": {\n"
    "    \"prompt_tokens\": 19,\n"
    "    \"completion_tokens\": 10,\n"
    "    \"total_tokens\": 29,\n"
    "    \"prompt_tokens_details\": {\n"
    "      \"cached_tokens\": 0,\n"
    "      \"audio_tokens\": 0\n"
    "    }\n"
    "  },\n"
    "  \"service_tier\": \"default\"\n"
    "}\n";

static const char openai_embed_ok[] =
    "{\n"
    "  \"object\": \"list\",\n"
    "  \"data\": [\n"
    "    {\n"
    "      \"object\": \"embedding\",\n"
    "      \"embedding\": [0.0023064255, -0.009327292, -0.0028842222],\n"
    "      \"index\": 0\n"
    "    }\n"
    "  ],\n"
    "  \"model\": \"text-embedding-3-small\",\n"
    "  \"usage\": { \"prompt_tokens\": 8, \"total_tokens\": 8 }\n"
    "}\n";

START_TEST(test_openai_build_chat)
{
	struct backend		*b;
	struct model_req	 req;
	struct http_req		 hr;
	cJSON			*body;
	const cJSON		*msgs, *m;

	setenv(KEYENV, KEY, 1);
	b = mkok("{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"model\": \"gpt-4o-mini\", \"base_url\": "
	    "\"http://localhost:8000/v1/\", \"api_key_env\": \"" KEYENV "\", "
	    "\"headers\": {\"X-Title\": \"promptd\"}, \"seed\": 7, "
	    "\"stop\": [\"END\"], \"response_format\": {\"type\": "
	    "\"json_object\"}, \"temperature\": 0.2, \"max_tokens\": 50}}}");
	ck_assert_uint_eq(b->nurls, 1);
	ck_assert_str_eq(b->urls[0], "http://localhost:8000/v1");
	ck_assert_msg(strncmp(b->identity, "openai http://localhost:8000/v1 ",
	    32) == 0, "identity '%s'", b->identity);

	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(hr.path, "/chat/completions");
	ck_assert_str_eq(getstr(body, "model"), "gpt-4o-mini");
	msgs = get(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
	m = cJSON_GetArrayItem(msgs, 0);
	ck_assert_str_eq(getstr(m, "role"), "system");
	ck_assert_str_eq(getstr(m, "content"), "You classify reviews.");
	m = cJSON_GetArrayItem(msgs, 1);
	ck_assert_str_eq(getstr(m, "role"), "user");
	ck_assert_str_eq(getstr(m, "content"),
	    "Great phone, terrible battery.");
	ck_assert(getnum(body, "temperature") == 0.2);
	ck_assert(getnum(body, "max_tokens") == 50);
	ck_assert(getnum(body, "seed") == 7);
	ck_assert_str_eq(cJSON_GetArrayItem(get(body, "stop"), 0)->valuestring,
	    "END");
	ck_assert_str_eq(getstr(get(body, "response_format"), "type"),
	    "json_object");
	ck_assert(getnum(body, "n") == 1);
	ck_assert(cJSON_IsFalse(get(body, "stream")));
	ck_assert_str_eq(header(&hr, "Content-Type"), "application/json");
	ck_assert_str_eq(header(&hr, "Authorization"), "Bearer " KEY);
	ck_assert_str_eq(header(&hr, "X-Title"), "promptd");
	cJSON_Delete(body);
	http_req_release(&hr);

	/* The request's own temperature and limit win. */
	req.temperature = 0.9;
	req.max_tokens = 5;
	body = build(b, &req, &hr);
	ck_assert(getnum(body, "temperature") == 0.9);
	ck_assert(getnum(body, "max_tokens") == 5);
	cJSON_Delete(body);
	http_req_release(&hr);

	model_req_release(&req);
	backend_free(b);
}
END_TEST

START_TEST(test_openai_build_defaults)
{
	struct backend		*b;
	struct model_req	 req;
	struct http_req		 hr;
	cJSON			*body;

	/* No key: local servers need none, so no header and no error. */
	unsetenv("OPENAI_API_KEY");
	b = mkok("{\"backends\": {\"local\": {\"type\": \"openai\", "
	    "\"model\": \"llama\"}}}");
	ck_assert_str_eq(b->urls[0], "https://api.openai.com/v1");
	ck_assert_str_eq(b->identity, "openai https://api.openai.com/v1");
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_ptr_null(get(body, "temperature"));
	ck_assert_ptr_null(get(body, "max_tokens"));
	ck_assert_ptr_null(get(body, "seed"));
	ck_assert_ptr_null(get(body, "stop"));
	ck_assert_ptr_null(get(body, "response_format"));
	ck_assert_ptr_null(header(&hr, "Authorization"));
	ck_assert_str_eq(header(&hr, "Content-Type"), "application/json");
	cJSON_Delete(body);
	http_req_release(&hr);
	backend_free(b);

	/* The default variable, and replicas used in turn. */
	setenv("OPENAI_API_KEY", KEY, 1);
	b = mkok("{\"backends\": {\"vllm\": {\"type\": \"openai\", "
	    "\"base_url\": [\"http://gpu1:8000/v1\", \"http://gpu2:8000/v1//\"]"
	    ", \"stop\": \"\\n\\n\"}}}");
	ck_assert_uint_eq(b->nurls, 2);
	ck_assert_str_eq(b->urls[0], "http://gpu1:8000/v1");
	ck_assert_str_eq(b->urls[1], "http://gpu2:8000/v1");
	ck_assert_str_eq(b->model, "openai");
	body = build(b, &req, &hr);
	ck_assert_str_eq(header(&hr, "Authorization"), "Bearer " KEY);
	ck_assert_str_eq(cJSON_GetArrayItem(get(body, "stop"), 0)->valuestring,
	    "\n\n");
	cJSON_Delete(body);
	http_req_release(&hr);
	backend_free(b);
	unsetenv("OPENAI_API_KEY");

	/* A request without messages is refused before it is sent. */
	b = mkok("{\"backends\": {\"x\": {\"type\": \"openai\"}}}");
	model_req_release(&req);
	model_req_init(&req, REQ_CHAT, "target");
	{
		char	*cause = NULL;

		memset(&hr, 0, sizeof hr);
		ck_assert_int_eq(b->ops->build(b, &req, &hr, &cause), -1);
		ck_assert_str_eq(cause, "openai: chat request has no messages");
		free(cause);
		http_req_release(&hr);
	}
	model_req_release(&req);
	backend_free(b);
}
END_TEST

START_TEST(test_openai_embed)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;
	struct http_req		 hr;
	cJSON			*body;

	unsetenv("OPENAI_API_KEY");
	b = mkok("{\"backends\": {\"e\": {\"type\": \"openai\", "
	    "\"model\": \"text-embedding-3-small\", \"seed\": 3}}}");
	embed_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(hr.path, "/embeddings");
	ck_assert_str_eq(getstr(body, "model"), "text-embedding-3-small");
	ck_assert_str_eq(getstr(body, "input"), "Classify the sentiment.");
	ck_assert_ptr_null(get(body, "messages"));
	ck_assert_ptr_null(get(body, "seed"));
	ck_assert_int_eq(cJSON_GetArraySize(body), 2);
	cJSON_Delete(body);
	http_req_release(&hr);

	parse_ok(b, &req, 200, openai_embed_ok, &resp);
	ck_assert_uint_eq(resp.dim, 3);
	ck_assert(resp.vec[0] == (float)0.0023064255);
	ck_assert(resp.vec[1] == (float)-0.009327292);
	ck_assert_int_eq(resp.prompt_tokens, 8);
	ck_assert_int_eq(resp.completion_tokens, 0);
	ck_assert_ptr_null(resp.text);
	model_resp_release(&resp);

	parse_fails(b, &req, 200, "{\"object\": \"list\", \"data\": []}",
	    "openai: malformed reply: no data");
	parse_fails(b, &req, 200, "{\"data\": [{\"embedding\": [1, \"x\"]}]}",
	    "openai: malformed reply: data[0].embedding is not an array of "
	    "numbers");
	model_req_release(&req);
	backend_free(b);
}
END_TEST

START_TEST(test_openai_parse)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;

	unsetenv("OPENAI_API_KEY");
	b = mkok("{\"backends\": {\"gpt\": {\"type\": \"openai\"}}}");
	chat_req(&req);
	parse_ok(b, &req, 200, openai_chat_ok, &resp);
	ck_assert_str_eq(resp.text, "Hello! How can I assist you today?");
	ck_assert_str_eq(resp.finish, "stop");
	ck_assert_int_eq(resp.prompt_tokens, 19);
	ck_assert_int_eq(resp.completion_tokens, 10);
	ck_assert_ptr_null(resp.vec);
	model_resp_release(&resp);

	/* No usage (some local servers): estimates, and no error. */
	parse_ok(b, &req, 200, "{\"choices\": [{\"message\": {\"role\": "
	    "\"assistant\", \"content\": \"positive\"}, \"finish_reason\": "
	    "\"length\"}]}", &resp);
	ck_assert_str_eq(resp.text, "positive");
	ck_assert_str_eq(resp.finish, "length");
	ck_assert_int_eq(resp.prompt_tokens,
	    tokens_estimate("You classify reviews.") +
	    tokens_estimate("Great phone, terrible battery."));
	ck_assert_int_eq(resp.completion_tokens, tokens_estimate("positive"));
	model_resp_release(&resp);
	model_req_release(&req);
	backend_free(b);
}
END_TEST

/*
 * n: the request asks for several choices ("n" in the body) and every
 * choice comes back in the order of its index; fewer choices than asked
 * are kept as they came; indexes out of range or repeated fall back to
 * the array's order; a choice without text is an error.
 */
START_TEST(test_openai_choices)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;
	struct http_req		 hr;
	char			*cause = NULL;

	unsetenv("OPENAI_API_KEY");
	b = mkok("{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"n\": 3}}}");
	ck_assert_int_eq(b->batch, 3);
	chat_req(&req);
	req.n = 3;
	memset(&hr, 0, sizeof hr);
	ck_assert_int_eq(b->ops->build(b, &req, &hr, &cause), 0);
	ck_assert_ptr_nonnull(strstr(hr.body, "\"n\":3"));
	http_req_release(&hr);
	parse_ok(b, &req, 200, "{\"choices\": ["
	    "{\"index\": 2, \"message\": {\"content\": \"c\"}},"
	    "{\"index\": 0, \"message\": {\"content\": \"a\"}, "
	    "\"finish_reason\": \"stop\"},"
	    "{\"index\": 1, \"message\": {\"content\": \"b\"}}],"
	    "\"usage\": {\"prompt_tokens\": 7, \"completion_tokens\": 3}}",
	    &resp);
	ck_assert_uint_eq(resp.nchoices, 3);
	ck_assert_str_eq(resp.choices[0], "a");
	ck_assert_str_eq(resp.choices[1], "b");
	ck_assert_str_eq(resp.choices[2], "c");
	ck_assert_str_eq(resp.text, "a");
	ck_assert_int_eq(resp.completion_tokens, 3);
	model_resp_release(&resp);
	parse_ok(b, &req, 200, "{\"choices\": [{\"index\": 0, \"message\": "
	    "{\"content\": \"only\"}}]}", &resp);
	ck_assert_uint_eq(resp.nchoices, 1);
	ck_assert_str_eq(resp.choices[0], "only");
	model_resp_release(&resp);
	/* Indexes that are not 0 .. n-1 once each: the array's order. */
	parse_ok(b, &req, 200, "{\"choices\": ["
	    "{\"index\": 0, \"message\": {\"content\": \"a\"}},"
	    "{\"index\": 0, \"message\": {\"content\": \"b\"}},"
	    "{\"index\": -1e300, \"message\": {\"content\": \"c\"}}]}",
	    &resp);
	ck_assert_uint_eq(resp.nchoices, 3);
	ck_assert_str_eq(resp.choices[1], "b");
	ck_assert_str_eq(resp.choices[2], "c");
	model_resp_release(&resp);
	parse_fails(b, &req, 200, "{\"choices\": ["
	    "{\"index\": 0, \"message\": {\"content\": \"a\"}},"
	    "{\"index\": 1, \"message\": {}}]}",
	    "openai: malformed reply: choices[1].message.content is not a "
	    "string");
	model_req_release(&req);
	backend_free(b);
	conf_fails("n.json", "{\"backends\": {\"gpt\": {\"type\": "
	    "\"openai\", \"n\": 200}}}", "n.json:1:46: backends.gpt.n: 200 is "
	    "out of range (expected 1 to 128)");
}
END_TEST

START_TEST(test_openai_errors)
{
	struct backend		*b;
	struct model_req	 req;
	char			 html[1024];

	unsetenv("OPENAI_API_KEY");
	b = mkok("{\"backends\": {\"gpt\": {\"type\": \"openai\"}}}");
	chat_req(&req);
	parse_fails(b, &req, 429, "{\n  \"error\": {\n    \"message\": "
	    "\"Rate limit reached for gpt-4o-mini in organization org-abc on "
	    "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try "
	    "again in 20s.\",\n    \"type\": \"requests\",\n    \"param\": "
	    "null,\n    \"code\": \"rate_limit_exceeded\"\n  }\n}\n",
	    "openai: HTTP 429: Rate limit reached for gpt-4o-mini in "
	    "organization org-abc on requests per min (RPM): Limit 3, Used 3, "
	    "Requested 1. Please try again in 20s. (rate_limit_exceeded)");
	/* No code: the type says what kind of error it was. */
	parse_fails(b, &req, 400, "{\"error\": {\"message\": \"'messages' "
	    "must contain the word 'json' in some form, to use "
	    "'response_format' of type 'json_object'.\", \"type\": "
	    "\"invalid_request_error\", \"param\": \"messages\", \"code\": "
	    "null}}",
	    "openai: HTTP 400: 'messages' must contain the word 'json' in some "
	    "form, to use 'response_format' of type 'json_object'. "
	    "(invalid_request_error)");
	/* A 401 without a key says why there was none. */
	parse_fails(b, &req, 401, "{\"error\": {\"message\": \"You didn't "
	    "provide an API key.\", \"type\": \"invalid_request_error\", "
	    "\"param\": null, \"code\": null}}",
	    "openai: HTTP 401: You didn't provide an API key. "
	    "(invalid_request_error) (no API key: environment variable "
	    "OPENAI_API_KEY is not set)");
	parse_fails(b, &req, 500, "{\"error\": {\"message\": \"The server had "
	    "an error while processing your request.\", \"type\": "
	    "\"server_error\", \"param\": null, \"code\": null}}",
	    "openai: HTTP 500: The server had an error while processing your "
	    "request. (server_error)");
	/* vLLM's and FastAPI's shapes. */
	parse_fails(b, &req, 400, "{\"object\": \"error\", \"message\": "
	    "\"This model's maximum context length is 4096 tokens.\", "
	    "\"type\": \"BadRequestError\", \"param\": null, \"code\": 400}",
	    "openai: HTTP 400: This model's maximum context length is 4096 "
	    "tokens. (BadRequestError)");
	parse_fails(b, &req, 404, "{\"detail\": \"Not Found\"}",
	    "openai: HTTP 404: Not Found");
	/* An error object in a 200 (OpenRouter) is an error too. */
	parse_fails(b, &req, 200, "{\"error\": {\"message\": \"Provider "
	    "returned error\", \"code\": 502}}",
	    "openai: HTTP 200: Provider returned error");
	/* HTML from a proxy: its start, escaped. */
	parse_fails(b, &req, 502, "<html>\r\n<head><title>502 Bad Gateway"
	    "</title></head>\r\n</html>\r\n",
	    "openai: HTTP 502: <html>\\r\\n<head><title>502 Bad Gateway"
	    "</title></head>\\r\\n</html>\\r\\n");
	memset(html, 'x', sizeof html - 1);
	html[sizeof html - 1] = '\0';
	memcpy(html, "<html>", 6);
	{
		char	*expect;

		expect = xasprintf("openai: HTTP 503: <html>%.*s...", 194,
		    html + 6);
		parse_fails(b, &req, 503, html, expect);
		free(expect);
	}
	parse_fails(b, &req, 504, "", "openai: HTTP 504: empty reply");
	/* Broken success replies. */
	parse_fails(b, &req, 200, "{\"id\": \"chatcmpl-1\", \"choices\": [{",
	    "openai: malformed reply: not a JSON object: {\\\"id\\\": "
	    "\\\"chatcmpl-1\\\", \\\"choices\\\": [{");
	parse_fails(b, &req, 200, "", "openai: malformed reply: empty body");
	parse_fails(b, &req, 200, "{\"a\": 1} trailing",
	    "openai: malformed reply: not a JSON object: {\\\"a\\\": 1} "
	    "trailing");
	parse_fails(b, &req, 200, "{\"id\": \"x\", \"choices\": []}",
	    "openai: malformed reply: empty choices");
	parse_fails(b, &req, 200, "{\"id\": \"x\"}",
	    "openai: malformed reply: no choices");
	parse_fails(b, &req, 200, "{\"choices\": [{\"finish_reason\": "
	    "\"stop\"}]}",
	    "openai: malformed reply: choices[0] has no message");
	parse_fails(b, &req, 200, "{\"choices\": [{\"message\": {\"role\": "
	    "\"assistant\", \"content\": null}}]}",
	    "openai: malformed reply: choices[0].message.content is not a "
	    "string");
	parse_fails(b, &req, 200, "{\"choices\": [{\"index\": 0, \"message\": "
	    "{\"role\": \"assistant\", \"content\": null, \"refusal\": "
	    "\"I'm sorry, I cannot assist with that request.\"}, "
	    "\"finish_reason\": \"stop\"}]}",
	    "openai: the model refused: I'm sorry, I cannot assist with that "
	    "request.");
	model_req_release(&req);
	backend_free(b);
}
END_TEST

/* Anthropic's documented Messages reply. */
static const char anthropic_ok[] =
    "{\n"
    "  \"content\": [\n"
    "    {\n"
    "      \"text\": \"Hi! My name is Claude.\",\n"
    "      \"type\": \"text\"\n"
    "    }\n"
    "  ],\n"
    "  \"id\": \"msg_013Zva2CMHLNnXjNJJKqJ2EF\",\n"
    "  \"model\": \"claude-sonnet-4-20250514\",\n"
    "  \"role\": \"assistant\",\n"
    "  \"stop_reason\": \"end_turn\",\n"
    "  \"stop_sequence\": null,\n"
    "  \"type\": \"message\",\n"
    "  \"usage\": {\n"
    "    \"input_tokens\": 2095,\n"
    "    \"output_tokens\": 503\n"
    "  }\n"
    "}\n";

START_TEST(test_anthropic_build)
{
	struct backend		*b;
	struct model_req	 req;
	struct http_req		 hr;
	cJSON			*body;
	const cJSON		*msgs;
	char			*cause = NULL;

	setenv("ANTHROPIC_API_KEY", KEY, 1);
	b = mkok("{\"backends\": {\"claude\": {\"type\": \"anthropic\", "
	    "\"model\": \"claude-sonnet-4-20250514\", \"stop\": \"###\", "
	    "\"headers\": {\"anthropic-beta\": \"x-1\"}}}}");
	ck_assert_str_eq(b->urls[0], "https://api.anthropic.com/v1");
	chat_req(&req);
	model_req_add(&req, MSG_SYSTEM, "Answer in one word.");
	body = build(b, &req, &hr);
	ck_assert_str_eq(hr.path, "/messages");
	ck_assert_str_eq(getstr(body, "model"), "claude-sonnet-4-20250514");
	ck_assert(getnum(body, "max_tokens") == 1024);
	ck_assert_str_eq(getstr(body, "system"),
	    "You classify reviews.\n\nAnswer in one word.");
	msgs = get(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
	ck_assert_str_eq(getstr(cJSON_GetArrayItem(msgs, 0), "role"), "user");
	ck_assert_str_eq(getstr(cJSON_GetArrayItem(msgs, 0), "content"),
	    "Great phone, terrible battery.");
	ck_assert_ptr_null(get(body, "temperature"));
	ck_assert_str_eq(cJSON_GetArrayItem(get(body, "stop_sequences"),
	    0)->valuestring, "###");
	ck_assert_ptr_null(get(body, "stop"));
	ck_assert_str_eq(header(&hr, "x-api-key"), KEY);
	ck_assert_str_eq(header(&hr, "anthropic-version"), "2023-06-01");
	ck_assert_str_eq(header(&hr, "content-type"), "application/json");
	ck_assert_str_eq(header(&hr, "anthropic-beta"), "x-1");
	ck_assert_ptr_null(header(&hr, "Authorization"));
	cJSON_Delete(body);
	http_req_release(&hr);

	req.temperature = 0.5;
	req.max_tokens = 64;
	body = build(b, &req, &hr);
	ck_assert(getnum(body, "temperature") == 0.5);
	ck_assert(getnum(body, "max_tokens") == 64);
	cJSON_Delete(body);
	http_req_release(&hr);

	/* Anthropic takes temperatures up to 1 only. */
	req.temperature = 1.5;
	memset(&hr, 0, sizeof hr);
	ck_assert_int_eq(b->ops->build(b, &req, &hr, &cause), -1);
	ck_assert_str_eq(cause, "anthropic: temperature 1.5 is out of range "
	    "(expected 0 to 1)");
	free(cause);
	cause = NULL;
	model_req_release(&req);

	/* No embeddings. */
	embed_req(&req);
	ck_assert_int_eq(b->ops->build(b, &req, &hr, &cause), -1);
	ck_assert_str_eq(cause, "anthropic: embeddings are not supported; use "
	    "another backend for the embedder role");
	free(cause);
	cause = NULL;
	model_req_release(&req);

	/* Only system messages: nothing to answer. */
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_SYSTEM, "Be brief.");
	ck_assert_int_eq(b->ops->build(b, &req, &hr, &cause), -1);
	ck_assert_str_eq(cause, "anthropic: chat request has no user or "
	    "assistant message");
	free(cause);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);

	/* The backend's own defaults and version; no key, no header. */
	unsetenv("ANTHROPIC_API_KEY");
	b = mkok("{\"backends\": {\"c\": {\"type\": \"anthropic\", "
	    "\"max_tokens\": 300, \"temperature\": 0, \"anthropic_version\": "
	    "\"2024-01-01\", \"base_url\": \"https://proxy.example/v1/\"}}}");
	ck_assert_str_eq(b->identity, "anthropic https://proxy.example/v1");
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert(getnum(body, "max_tokens") == 300);
	ck_assert(getnum(body, "temperature") == 0);
	ck_assert_str_eq(header(&hr, "anthropic-version"), "2024-01-01");
	ck_assert_ptr_null(header(&hr, "x-api-key"));
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);
}
END_TEST

START_TEST(test_anthropic_parse)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;

	setenv("ANTHROPIC_API_KEY", KEY, 1);
	b = mkok("{\"backends\": {\"claude\": {\"type\": \"anthropic\"}}}");
	chat_req(&req);
	parse_ok(b, &req, 200, anthropic_ok, &resp);
	ck_assert_str_eq(resp.text, "Hi! My name is Claude.");
	ck_assert_str_eq(resp.finish, "stop");
	ck_assert_int_eq(resp.prompt_tokens, 2095);
	ck_assert_int_eq(resp.completion_tokens, 503);
	model_resp_release(&resp);

	/* Text blocks are joined; other blocks are skipped. */
	parse_ok(b, &req, 200, "{\"type\": \"message\", \"content\": ["
	    "{\"type\": \"thinking\", \"thinking\": \"hmm\", \"signature\": "
	    "\"x\"}, {\"type\": \"text\", \"text\": \"neg\"}, {\"type\": "
	    "\"text\", \"text\": \"ative\"}], \"stop_reason\": \"max_tokens\", "
	    "\"usage\": {\"input_tokens\": 10, \"cache_read_input_tokens\": 5, "
	    "\"output_tokens\": 2}}", &resp);
	ck_assert_str_eq(resp.text, "negative");
	ck_assert_str_eq(resp.finish, "length");
	ck_assert_int_eq(resp.prompt_tokens, 15);
	ck_assert_int_eq(resp.completion_tokens, 2);
	model_resp_release(&resp);
	parse_ok(b, &req, 200, "{\"type\": \"message\", \"content\": [{\"type\": "
	    "\"text\", \"text\": \"a\"}], \"stop_reason\": \"stop_sequence\", "
	    "\"stop_sequence\": \"###\"}", &resp);
	ck_assert_str_eq(resp.finish, "stop_sequence");
	ck_assert_int_eq(resp.completion_tokens, tokens_estimate("a"));
	model_resp_release(&resp);

	parse_fails(b, &req, 529, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"overloaded_error\", \"message\": \"Overloaded\"}, "
	    "\"request_id\": \"req_011CSHoEeqs5C35K2UUqR7Fy\"}",
	    "anthropic: HTTP 529: overloaded_error: Overloaded");
	parse_fails(b, &req, 429, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"rate_limit_error\", \"message\": \"Number of request tokens has "
	    "exceeded your per-minute rate limit\"}}",
	    "anthropic: HTTP 429: rate_limit_error: Number of request tokens "
	    "has exceeded your per-minute rate limit");
	parse_fails(b, &req, 400, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"invalid_request_error\", \"message\": \"max_tokens: Field "
	    "required\"}}",
	    "anthropic: HTTP 400: invalid_request_error: max_tokens: Field "
	    "required");
	parse_fails(b, &req, 401, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"authentication_error\", \"message\": \"invalid x-api-key\"}}",
	    "anthropic: HTTP 401: authentication_error: invalid x-api-key");
	parse_fails(b, &req, 200, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"api_error\", \"message\": \"Internal server error\"}}",
	    "anthropic: HTTP 200: api_error: Internal server error");
	parse_fails(b, &req, 503, "<html><body>upstream connect error"
	    "</body></html>",
	    "anthropic: HTTP 503: <html><body>upstream connect error"
	    "</body></html>");
	parse_fails(b, &req, 200, "{\"type\": \"message\", \"content\": [{",
	    "anthropic: malformed reply: not a JSON object: {\\\"type\\\": "
	    "\\\"message\\\", \\\"content\\\": [{");
	parse_fails(b, &req, 200, "{\"type\": \"message\"}",
	    "anthropic: malformed reply: no content");
	model_req_release(&req);
	backend_free(b);
	unsetenv("ANTHROPIC_API_KEY");

	/* Without a key a 401 says which variable was empty. */
	setenv("ANTHROPIC_API_KEY", "", 1);
	b = mkok("{\"backends\": {\"claude\": {\"type\": \"anthropic\"}}}");
	chat_req(&req);
	parse_fails(b, &req, 401, "{\"type\": \"error\", \"error\": {\"type\": "
	    "\"authentication_error\", \"message\": \"x-api-key header is "
	    "required\"}}",
	    "anthropic: HTTP 401: authentication_error: x-api-key header is "
	    "required (no API key: environment variable ANTHROPIC_API_KEY is "
	    "empty)");
	model_req_release(&req);
	backend_free(b);
	unsetenv("ANTHROPIC_API_KEY");
}
END_TEST

/*
 * OpenAI's reasoning models: known by name (or configured), they get
 * max_completion_tokens, no temperature and reasoning_effort; their
 * reasoning and cached tokens are read; a temperature other than 1 in
 * their configuration is refused; a 400 about max_tokens from a model
 * not known for one says what to set.
 */
START_TEST(test_openai_reasoning)
{
	static const char *const names[][2] = {
		{ "o1-mini", "1" }, { "o3", "1" }, { "o4-mini-2025-04-16", "1" },
		{ "gpt-5-nano", "1" }, { "openai/gpt-5", "1" },
		{ "gpt-4o", "0" }, { "omni", "0" }, { "llama-3.1-8b", "0" },
	};
	struct backend		*b, *other;
	struct model_req	 req;
	struct model_resp	 resp;
	struct http_req		 hr;
	cJSON			*body;
	char			*text;
	size_t			 i;

	unsetenv("OPENAI_API_KEY");
	for (i = 0; i < nitems(names); i++) {
		text = xasprintf("{\"backends\": {\"m\": {\"type\": "
		    "\"openai\", \"model\": \"%s\", \"max_tokens\": 99}}}",
		    names[i][0]);
		b = mkok(text);
		free(text);
		chat_req(&req);
		req.temperature = 0.7;
		body = build(b, &req, &hr);
		if (names[i][1][0] == '1') {
			ck_assert_ptr_null(get(body, "temperature"));
			ck_assert_ptr_null(get(body, "max_tokens"));
			ck_assert(getnum(body, "max_completion_tokens") == 99);
		} else {
			ck_assert(getnum(body, "temperature") == 0.7);
			ck_assert(getnum(body, "max_tokens") == 99);
		}
		cJSON_Delete(body);
		http_req_release(&hr);
		model_req_release(&req);
		backend_free(b);
	}

	b = mkok("{\"backends\": {\"m\": {\"type\": \"openai\", "
	    "\"model\": \"my-thinker\", \"reasoning\": true, "
	    "\"reasoning_effort\": \"low\"}}}");
	/* The effort changes answers: it is part of the identity. */
	other = mkok("{\"backends\": {\"m\": {\"type\": \"openai\", "
	    "\"model\": \"my-thinker\", \"reasoning\": true, "
	    "\"reasoning_effort\": \"high\"}}}");
	ck_assert_str_ne(b->identity, other->identity);
	backend_free(other);
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(getstr(body, "reasoning_effort"), "low");
	ck_assert_ptr_null(get(body, "temperature"));
	cJSON_Delete(body);
	http_req_release(&hr);
	parse_ok(b, &req, 200, "{\"choices\": [{\"index\": 0, "
	    "\"message\": {\"role\": \"assistant\", \"content\": \"4\"}, "
	    "\"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": "
	    "2000, \"completion_tokens\": 300, \"total_tokens\": 2300, "
	    "\"prompt_tokens_details\": {\"cached_tokens\": 1536}, "
	    "\"completion_tokens_details\": {\"reasoning_tokens\": 256}}}",
	    &resp);
	ck_assert_int_eq(resp.prompt_tokens, 2000);
	ck_assert_int_eq(resp.completion_tokens, 300);
	ck_assert_int_eq(resp.cached_tokens, 1536);
	ck_assert_int_eq(resp.reasoning_tokens, 256);
	/* Cached input at its price: 464 + 1536 * 0.25 + 300 * 4. */
	b->price.input = 1;
	b->price.cached_input = 0.25;
	b->price.output = 4;
	ck_assert_double_eq_tol(backend_cost(b, &resp), (464 + 384 + 1200) /
	    1e6, 1e-12);
	model_resp_release(&resp);
	model_req_release(&req);
	backend_free(b);

	conf_fails("r.json", "{\"backends\": {\"m\": {\"type\": "
	    "\"openai\", \"model\": \"o3-mini\", \"temperature\": 0.2}}}",
	    "r.json:1:74: backends.m.temperature: model 'o3-mini' is a "
	    "reasoning model, which samples at temperature 1 only (set "
	    "\"reasoning\": false if it is not one)");
	conf_fails("r.json", "{\"backends\": {\"m\": {\"type\": "
	    "\"openai\", \"model\": \"gpt-4o\", \"reasoning_effort\": "
	    "\"low\"}}}", "backends.m.reasoning_effort: model 'gpt-4o' is not "
	    "a reasoning model");
	conf_fails("r.json", "{\"backends\": {\"m\": {\"type\": "
	    "\"openai\", \"model\": \"o3\", \"reasoning_effort\": "
	    "\"extreme\"}}}", "unknown value 'extreme'");

	/* A model promptd did not take for a reasoning one. */
	b = mkok("{\"backends\": {\"m\": {\"type\": \"openai\", "
	    "\"model\": \"thinker-2\"}}}");
	chat_req(&req);
	parse_fails(b, &req, 400, "{\"error\": {\"message\": \"Unsupported "
	    "parameter: 'max_tokens' is not supported with this model. Use "
	    "'max_completion_tokens' instead.\", \"type\": "
	    "\"invalid_request_error\", \"param\": \"max_tokens\", \"code\": "
	    "\"unsupported_parameter\"}}",
	    "openai: HTTP 400: Unsupported parameter: 'max_tokens' is not "
	    "supported with this model. Use 'max_completion_tokens' instead. "
	    "(unsupported_parameter); if 'thinker-2' is a reasoning model, set "
	    "\"reasoning\": true on backend 'm'");
	model_req_release(&req);
	backend_free(b);
}
END_TEST

/*
 * Anthropic's prompt cache: a system prompt long enough is sent as a
 * text block marked with cache_control (a short one as a string, as is
 * every one with cache off); what was written to and read from the
 * cache is input, priced apart.
 */
START_TEST(test_anthropic_cache)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;
	struct http_req		 hr;
	cJSON			*body;
	const cJSON		*sys;
	char			*longp;

	setenv("ANTHROPIC_API_KEY", KEY, 1);
	b = mkok("{\"backends\": {\"c\": {\"type\": \"anthropic\", "
	    "\"cache_min_tokens\": 100}}}");
	longp = xcalloc(1, 801);
	memset(longp, 'x', 800);
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_SYSTEM, longp);
	model_req_add(&req, MSG_USER, "Great phone.");
	body = build(b, &req, &hr);
	sys = get(body, "system");
	ck_assert(cJSON_IsArray(sys));
	ck_assert_int_eq(cJSON_GetArraySize(sys), 1);
	ck_assert_str_eq(getstr(cJSON_GetArrayItem(sys, 0), "text"), longp);
	ck_assert_str_eq(getstr(get(cJSON_GetArrayItem(sys, 0),
	    "cache_control"), "type"), "ephemeral");
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);

	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(getstr(body, "system"), "You classify reviews.");
	cJSON_Delete(body);
	http_req_release(&hr);
	parse_ok(b, &req, 200, "{\"type\": \"message\", \"content\": "
	    "[{\"type\": \"text\", \"text\": \"positive\"}], "
	    "\"stop_reason\": \"end_turn\", \"usage\": {\"input_tokens\": "
	    "21, \"cache_creation_input_tokens\": 188086, "
	    "\"cache_read_input_tokens\": 0, \"output_tokens\": 393}}", &resp);
	ck_assert_int_eq(resp.prompt_tokens, 188107);
	ck_assert_int_eq(resp.cache_write_tokens, 188086);
	ck_assert_int_eq(resp.cached_tokens, 0);
	b->price.input = 3;
	b->price.output = 15;
	b->price.cache_write = 3.75;
	b->price.cached_input = 0.3;
	ck_assert_double_eq_tol(backend_cost(b, &resp), (21 * 3 + 188086 *
	    3.75 + 393 * 15) / 1e6, 1e-9);
	model_resp_release(&resp);
	model_req_release(&req);
	backend_free(b);

	b = mkok("{\"backends\": {\"c\": {\"type\": \"anthropic\", "
	    "\"cache\": false, \"cache_min_tokens\": 100}}}");
	model_req_init(&req, REQ_CHAT, "target");
	model_req_add(&req, MSG_SYSTEM, longp);
	model_req_add(&req, MSG_USER, "Great phone.");
	body = build(b, &req, &hr);
	ck_assert_str_eq(getstr(body, "system"), longp);
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);
	free(longp);
	unsetenv("ANTHROPIC_API_KEY");
}
END_TEST

/* Rate-limit headers of both providers, as http.c keeps them. */
START_TEST(test_limits)
{
	double	rl, rr, tl, tr, now = 1723725296;	/* 2024-08-15T12:34:56Z */

	ck_assert_int_eq(backend_http_limits("x-ratelimit-limit-requests: "
	    "60\nx-ratelimit-remaining-requests: 59\n"
	    "x-ratelimit-reset-requests: 1s\nX-RateLimit-Remaining-Tokens: "
	    "149984\nx-ratelimit-reset-tokens: 6m0.5s\n", now, &rl, &rr, &tl,
	    &tr), 1);
	ck_assert_double_eq(rl, 59);
	ck_assert_double_eq(rr, 1);
	ck_assert_double_eq(tl, 149984);
	ck_assert_double_eq(tr, 360.5);
	ck_assert_int_eq(backend_http_limits("x-ratelimit-reset-requests: "
	    "120ms\nx-ratelimit-reset-tokens: 1h2m3s\n", now, &rl, &rr, &tl,
	    &tr), 1);
	ck_assert_double_eq(rl, -1);
	ck_assert_double_eq_tol(rr, 0.12, 1e-9);
	ck_assert_double_eq(tr, 3723);
	ck_assert_int_eq(backend_http_limits("anthropic-ratelimit-requests-"
	    "remaining: 49\nanthropic-ratelimit-requests-reset: "
	    "2024-08-15T12:35:06Z\nanthropic-ratelimit-input-tokens-"
	    "remaining: 5000\nanthropic-ratelimit-tokens-remaining: 7000\n"
	    "anthropic-ratelimit-tokens-reset: 2024-08-15T14:34:56+02:00\n",
	    now, &rl, &rr, &tl, &tr), 1);
	ck_assert_double_eq(rl, 49);
	ck_assert_double_eq(rr, 10);
	ck_assert_double_eq(tl, 7000);
	ck_assert_double_eq(tr, 0);
	ck_assert_int_eq(backend_http_limits("", now, &rl, &rr, &tl, &tr), 0);
	ck_assert_int_eq(backend_http_limits(NULL, now, &rl, &rr, &tl, &tr),
	    0);
	ck_assert_int_eq(backend_http_limits("x-ratelimit-reset-requests: "
	    "soon\n", now, &rl, &rr, &tl, &tr), 0);
}
END_TEST

START_TEST(test_ollama_build)
{
	struct backend		*b;
	struct model_req	 req;
	struct http_req		 hr;
	cJSON			*body;
	const cJSON		*opts;

	setenv("OPENAI_API_KEY", KEY, 1);
	b = mkok("{\"backends\": {\"local\": {\"type\": \"ollama\", "
	    "\"model\": \"llama3.2\", \"options\": {\"num_ctx\": 8192, "
	    "\"temperature\": 0.5, \"top_k\": 20}, \"keep_alive\": \"10m\", "
	    "\"seed\": 42, \"stop\": [\"user:\"], \"max_tokens\": 100, "
	    "\"headers\": {\"X-Team\": \"a\"}}}}");
	ck_assert_str_eq(b->urls[0], "http://127.0.0.1:11434");
	/* A temperature given as an option is the backend's default. */
	ck_assert(b->temperature == 0.5);
	chat_req(&req);
	req.temperature = 0.1;
	body = build(b, &req, &hr);
	ck_assert_str_eq(hr.path, "/api/chat");
	ck_assert_str_eq(getstr(body, "model"), "llama3.2");
	ck_assert_int_eq(cJSON_GetArraySize(get(body, "messages")), 2);
	ck_assert_str_eq(getstr(cJSON_GetArrayItem(get(body, "messages"), 0),
	    "role"), "system");
	ck_assert(cJSON_IsFalse(get(body, "stream")));
	ck_assert_str_eq(getstr(body, "keep_alive"), "10m");
	opts = get(body, "options");
	ck_assert(getnum(opts, "num_ctx") == 8192);
	ck_assert(getnum(opts, "top_k") == 20);
	ck_assert(getnum(opts, "temperature") == 0.1);
	ck_assert(getnum(opts, "num_predict") == 100);
	ck_assert(getnum(opts, "seed") == 42);
	ck_assert_str_eq(cJSON_GetArrayItem(get(opts, "stop"), 0)->valuestring,
	    "user:");
	ck_assert_ptr_null(get(body, "temperature"));
	ck_assert_ptr_null(header(&hr, "Authorization"));
	ck_assert_str_eq(header(&hr, "X-Team"), "a");
	ck_assert_str_eq(header(&hr, "Content-Type"), "application/json");
	ck_assert_ptr_null(strstr(hr.body, KEY));
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);

	embed_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(hr.path, "/api/embed");
	ck_assert_str_eq(getstr(body, "input"), "Classify the sentiment.");
	ck_assert_ptr_null(get(body, "messages"));
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);

	/* Nothing set: no options at all. */
	b = mkok("{\"backends\": {\"l\": {\"type\": \"ollama\", \"base_url\": "
	    "\"http://gpu:11434/\"}}}");
	ck_assert_str_eq(b->identity, "ollama http://gpu:11434");
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_ptr_null(get(body, "options"));
	ck_assert_ptr_null(get(body, "keep_alive"));
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);
	unsetenv("OPENAI_API_KEY");
}
END_TEST

START_TEST(test_ollama_parse)
{
	struct backend		*b;
	struct model_req	 req;
	struct model_resp	 resp;

	b = mkok("{\"backends\": {\"l\": {\"type\": \"ollama\"}}}");
	chat_req(&req);
	parse_ok(b, &req, 200, "{\n  \"model\": \"llama3.2\",\n"
	    "  \"created_at\": \"2023-12-12T14:13:43.416799Z\",\n"
	    "  \"message\": {\n    \"role\": \"assistant\",\n"
	    "    \"content\": \"Hello! How are you today?\"\n  },\n"
	    "  \"done_reason\": \"stop\",\n  \"done\": true,\n"
	    "  \"total_duration\": 5191566416,\n  \"load_duration\": 2154458,\n"
	    "  \"prompt_eval_count\": 26,\n"
	    "  \"prompt_eval_duration\": 383809000,\n  \"eval_count\": 298,\n"
	    "  \"eval_duration\": 4799921000\n}\n", &resp);
	ck_assert_str_eq(resp.text, "Hello! How are you today?");
	ck_assert_str_eq(resp.finish, "stop");
	ck_assert_int_eq(resp.prompt_tokens, 26);
	ck_assert_int_eq(resp.completion_tokens, 298);
	model_resp_release(&resp);

	/* A cached prompt has no prompt_eval_count: estimated. */
	parse_ok(b, &req, 200, "{\"message\": {\"role\": \"assistant\", "
	    "\"content\": \"ok\"}, \"done\": true, \"eval_count\": 2}", &resp);
	ck_assert_ptr_null(resp.finish);
	ck_assert_int_eq(resp.prompt_tokens,
	    tokens_estimate("You classify reviews.") +
	    tokens_estimate("Great phone, terrible battery."));
	ck_assert_int_eq(resp.completion_tokens, 2);
	model_resp_release(&resp);

	parse_fails(b, &req, 404, "{\"error\":\"model 'x' not found\"}",
	    "ollama: HTTP 404: model 'x' not found");
	parse_fails(b, &req, 400, "{\"error\":\"invalid options: num_ctxx\"}",
	    "ollama: HTTP 400: invalid options: num_ctxx");
	parse_fails(b, &req, 500, "", "ollama: HTTP 500: empty reply");
	parse_fails(b, &req, 503, "<html><body><h1>503 Service Unavailable"
	    "</h1>\nNo server is available.\n</body></html>\n",
	    "ollama: HTTP 503: <html><body><h1>503 Service Unavailable</h1>\\n"
	    "No server is available.\\n</body></html>\\n");
	/* 401 from a proxy in front: no key hint, ollama has no key. */
	parse_fails(b, &req, 401, "Unauthorized", "ollama: HTTP 401: "
	    "Unauthorized");
	parse_fails(b, &req, 200, "{\"model\": \"llama3.2\", \"message\": {",
	    "ollama: malformed reply: not a JSON object: {\\\"model\\\": "
	    "\\\"llama3.2\\\", \\\"message\\\": {");
	parse_fails(b, &req, 200, "{\"model\": \"llama3.2\", \"done\": true}",
	    "ollama: malformed reply: message.content is not a string");
	parse_fails(b, &req, 200, "{\"error\": \"an error was encountered "
	    "while running the model\"}",
	    "ollama: HTTP 200: an error was encountered while running the "
	    "model");
	model_req_release(&req);

	embed_req(&req);
	parse_ok(b, &req, 200, "{\"model\": \"all-minilm\", \"embeddings\": "
	    "[[0.010071029, -0.0017594862, 0.05007221, 0.04692972]], "
	    "\"total_duration\": 14143917, \"load_duration\": 1019500, "
	    "\"prompt_eval_count\": 8}", &resp);
	ck_assert_uint_eq(resp.dim, 4);
	ck_assert(resp.vec[3] == (float)0.04692972);
	ck_assert_int_eq(resp.prompt_tokens, 8);
	model_resp_release(&resp);
	parse_fails(b, &req, 200, "{\"embeddings\": []}",
	    "ollama: malformed reply: embeddings[0] is not an array of "
	    "numbers");
	model_req_release(&req);
	backend_free(b);
}
END_TEST

START_TEST(test_conf_errors)
{
	char	*dir, *file, *missing, *expect;
	FILE	*f;

	/* Errors carry the file, position and field path. */
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"base_url\": 42}}}", "t.json:1:53: backends.gpt.base_url: "
	    "expected a string or an array of strings");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"base_url\": [\"http://a\", 3]}}}",
	    "backends.gpt.base_url[1]: expected a string");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"base_url\": []}}}",
	    "backends.gpt.base_url: expected at least one URL");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"base_url\": \"api.openai.com/v1\"}}}",
	    "backends.gpt.base_url: 'api.openai.com/v1' is not an http:// or "
	    "https:// URL");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"base_url\": \"https://user:" KEY "@host/v1\"}}}",
	    "backends.gpt.base_url: credentials in the URL are not allowed");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_enb\": \"X\"}}}",
	    "backends.gpt.api_key_enb: unknown key (did you mean "
	    "'api_key_env'?)");
	conf_fails("t.json", "{\"backends\": {\"l\": {\"type\": \"ollama\", "
	    "\"api_key_env\": \"X\"}}}",
	    "backends.l.api_key_env: unknown key");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"opneai\"}}}",
	    "backends.gpt.type: unknown backend type 'opneai' (did you mean "
	    "'openai'?)");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"headers\": {\"X Bad\": \"v\"}}}}",
	    "backends.gpt.headers.X Bad: 'X Bad' is not a valid header name");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"headers\": {\"X-N\": 1}}}}",
	    "backends.gpt.headers.X-N: expected a string");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"headers\": {\"X-N\": \"a\\r\\nHost: evil\"}}}}",
	    "backends.gpt.headers.X-N: header value contains a line break");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}}}",
	    "backends.gpt.stop: 5 stop sequences (at most 4 are allowed)");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"stop\": 1}}}",
	    "backends.gpt.stop: expected a string or an array of strings");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"seed\": 1.5}}}", "backends.gpt.seed: expected an integer");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"response_format\": \"json\"}}}",
	    "backends.gpt.response_format: expected an object");
	conf_fails("t.json", "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_env\": \"A\", \"api_key_file\": \"k\"}}}",
	    "backends.gpt.api_key_file: cannot be used together with "
	    "api_key_env");
	conf_fails("t.json", "{\"backends\": {\"c\": {\"type\": \"anthropic\", "
	    "\"temperature\": 1.5}}}",
	    "backends.c.temperature: 1.5 is out of range for anthropic "
	    "(expected 0 to 1)");
	conf_fails("t.json", "{\"backends\": {\"l\": {\"type\": \"ollama\", "
	    "\"options\": [1]}}}", "backends.l.options: expected an object");
	conf_fails("t.json", "{\"backends\": {\"l\": {\"type\": \"ollama\", "
	    "\"keep_alive\": true}}}",
	    "backends.l.keep_alive: expected a string or a number");

	/* Key files: relative to the configuration, errors name the path. */
	dir = check_tmpdir();
	file = xasprintf("%s/promptd.conf", dir);
	missing = xasprintf("%s/missing.key", dir);
	expect = xasprintf("backends.gpt.api_key_file: cannot open '%s': No "
	    "such file or directory", missing);
	conf_fails(file, "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_file\": \"missing.key\"}}}", expect);
	free(expect);
	expect = xasprintf("backends.gpt.api_key_file: '%s' is not a regular "
	    "file", dir);
	free(missing);
	missing = xasprintf("{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_file\": \"%s\"}}}", dir);
	conf_fails(file, missing, expect);
	free(expect);
	free(missing);
	missing = xasprintf("%s/empty.key", dir);
	ck_assert_ptr_nonnull(f = fopen(missing, "w"));
	fputs("\n", f);
	fclose(f);
	expect = xasprintf("backends.gpt.api_key_file: '%s' is empty", missing);
	conf_fails(file, "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_file\": \"empty.key\"}}}", expect);
	free(expect);
	unlink(missing);
	free(missing);
	/* A control character inside: the error does not quote the key. */
	missing = xasprintf("%s/bad.key", dir);
	ck_assert_ptr_nonnull(f = fopen(missing, "w"));
	fputs(KEY "\n" KEY "\n", f);
	fclose(f);
	expect = xasprintf("backends.gpt.api_key_file: '%s' holds a key with "
	    "a control character", missing);
	conf_fails(file, "{\"backends\": {\"gpt\": {\"type\": \"openai\", "
	    "\"api_key_file\": \"bad.key\"}}}", expect);
	free(expect);
	unlink(missing);
	free(missing);
	free(file);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_key_file)
{
	struct backend		*b;
	struct model_req	 req;
	struct http_req		 hr;
	cJSON			*body;
	char			*dir, *file, *keyf, *errors, *text;
	FILE			*f;

	dir = check_tmpdir();
	file = xasprintf("%s/promptd.conf", dir);
	keyf = xasprintf("%s/anthropic.key", dir);
	ck_assert_ptr_nonnull(f = fopen(keyf, "w"));
	fputs(KEY "\r\n", f);
	fclose(f);
	setenv("ANTHROPIC_API_KEY", "sk-from-env", 1);
	b = mkbackend(file, "{\"backends\": {\"c\": {\"type\": \"anthropic\", "
	    "\"api_key_file\": \"anthropic.key\"}}}", &errors);
	ck_assert_msg(b != NULL, "errors: %s", errors);
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(header(&hr, "x-api-key"), KEY);
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);

	/* An absolute path, for openai. */
	text = xasprintf("{\"backends\": {\"g\": {\"type\": \"openai\", "
	    "\"api_key_file\": \"%s\"}}}", keyf);
	b = mkbackend("elsewhere/t.json", text, &errors);
	ck_assert_msg(b != NULL, "errors: %s", errors);
	chat_req(&req);
	body = build(b, &req, &hr);
	ck_assert_str_eq(header(&hr, "Authorization"), "Bearer " KEY);
	cJSON_Delete(body);
	http_req_release(&hr);
	model_req_release(&req);
	backend_free(b);
	free(text);
	unsetenv("ANTHROPIC_API_KEY");
	unlink(keyf);
	rmdir(dir);
	free(keyf);
	free(file);
	free(dir);
}
END_TEST

START_TEST(test_secrets)
{
	static const char *const types[] = { "openai", "anthropic" };
	struct backend		*b, *b2;
	struct model_req	 req;
	struct http_req		 hr;
	char			 k1[65], k2[65], *text, *cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(types); i++) {
		text = xasprintf("{\"backends\": {\"x\": {\"type\": \"%s\", "
		    "\"api_key_env\": \"" KEYENV "\", \"model\": \"m\"}}}",
		    types[i]);
		setenv(KEYENV, KEY, 1);
		b = mkok(text);
		setenv(KEYENV, "sk-another-key-entirely-0000", 1);
		b2 = mkok(text);
		free(text);
		ck_assert_ptr_null(strstr(b->identity, KEY));
		ck_assert_str_eq(b->identity, b2->identity);

		/* The key is not part of the request hash. */
		chat_req(&req);
		backend_req_key(b, &req, k1);
		backend_req_key(b2, &req, k2);
		ck_assert_str_eq(k1, k2);
		ck_assert_ptr_null(strstr(k1, KEY));

		/* Nor of the body; only of its header. */
		memset(&hr, 0, sizeof hr);
		ck_assert_int_eq(b->ops->build(b, &req, &hr, NULL), 0);
		ck_assert_ptr_null(strstr(hr.body, KEY));
		ck_assert_ptr_null(strstr(hr.path, KEY));
		http_req_release(&hr);

		/* A server that echoes the key does not get it into a cause. */
		text = xasprintf("{\"type\": \"error\", \"error\": {\"type\": "
		    "\"authentication_error\", \"message\": \"Incorrect API "
		    "key provided: %s.\", \"code\": \"invalid_api_key\"}}", KEY);
		ck_assert_int_eq(b->ops->parse(b, &req, 401, text,
		    strlen(text), &(struct model_resp){ 0 }, &cause), -1);
		ck_assert_ptr_null(strstr(cause, KEY));
		ck_assert_ptr_nonnull(strstr(cause, "Incorrect API key provided: "
		    "[redacted]."));
		free(cause);
		cause = NULL;
		ck_assert_int_eq(b->ops->parse(b, &req, 502, KEY, strlen(KEY),
		    &(struct model_resp){ 0 }, &cause), -1);
		ck_assert_ptr_null(strstr(cause, KEY));
		free(cause);
		cause = NULL;
		free(text);
		model_req_release(&req);
		backend_free(b);
		backend_free(b2);
	}

	/* A key with a quote is redacted in its escaped form too. */
	setenv(KEYENV, "sk-\"quoted\"-key-42", 1);
	b = mkok("{\"backends\": {\"x\": {\"type\": \"openai\", "
	    "\"api_key_env\": \"" KEYENV "\"}}}");
	chat_req(&req);
	text = xstrdup("{\"error\": {\"message\": \"bad key "
	    "sk-\\\"quoted\\\"-key-42\"}}");
	ck_assert_int_eq(b->ops->parse(b, &req, 401, text, strlen(text),
	    &(struct model_resp){ 0 }, &cause), -1);
	ck_assert_str_eq(cause, "openai: HTTP 401: bad key [redacted]");
	free(cause);
	free(text);
	model_req_release(&req);
	backend_free(b);
	unsetenv(KEYENV);
}
END_TEST

START_TEST(test_identity)
{
	struct backend		*a, *b, *c;
	struct model_req	 req;
	char			 ka[65], kb[65], kc[65];

	unsetenv("OPENAI_API_KEY");
	a = mkok("{\"backends\": {\"a\": {\"type\": \"openai\", \"seed\": 1}}}");
	b = mkok("{\"backends\": {\"b\": {\"type\": \"openai\", \"seed\": 1, "
	    "\"headers\": {\"X-A\": \"1\"}, \"base_url\": "
	    "[\"https://api.openai.com/v1\", \"http://replica/v1\"]}}}");
	c = mkok("{\"backends\": {\"c\": {\"type\": \"openai\", \"seed\": 2}}}");
	/* Same answers, same identity (name, headers, replicas aside). */
	ck_assert_str_eq(a->identity, b->identity);
	/* Options that change answers change the identity and the key. */
	ck_assert_str_ne(a->identity, c->identity);
	ck_assert_msg(strncmp(a->identity, "openai https://api.openai.com/v1 "
	    "options ", 40) == 0, "identity '%s'", a->identity);
	chat_req(&req);
	backend_req_key(a, &req, ka);
	backend_req_key(b, &req, kb);
	backend_req_key(c, &req, kc);
	ck_assert_str_eq(ka, kb);
	ck_assert_str_ne(ka, kc);
	model_req_release(&req);
	backend_free(a);
	backend_free(b);
	backend_free(c);
	ck_assert_ptr_nonnull(backend_lookup("openai"));
	ck_assert_ptr_nonnull(backend_lookup("anthropic"));
	ck_assert_ptr_nonnull(backend_lookup("ollama"));
}
END_TEST

static Suite *
backend_suite(void)
{
	Suite	*s = suite_create("backend");
	TCase	*tc = tcase_create("http");

	tcase_add_test(tc, test_openai_build_chat);
	tcase_add_test(tc, test_openai_build_defaults);
	tcase_add_test(tc, test_openai_embed);
	tcase_add_test(tc, test_openai_parse);
	tcase_add_test(tc, test_openai_choices);
	tcase_add_test(tc, test_openai_errors);
	tcase_add_test(tc, test_anthropic_build);
	tcase_add_test(tc, test_anthropic_parse);
	tcase_add_test(tc, test_openai_reasoning);
	tcase_add_test(tc, test_anthropic_cache);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_ollama_build);
	tcase_add_test(tc, test_ollama_parse);
	tcase_add_test(tc, test_conf_errors);
	tcase_add_test(tc, test_key_file);
	tcase_add_test(tc, test_secrets);
	tcase_add_test(tc, test_identity);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(backend_suite)
