/* Model requests and responses, and a response's form in the cache. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "jsonc.h"
#include "model.h"
#include "util.h"
#include "xmalloc.h"

const char *
msg_role_name(enum msg_role r)
{
	switch (r) {
	case MSG_SYSTEM:
		return "system";
	case MSG_USER:
		return "user";
	case MSG_ASSISTANT:
		return "assistant";
	}
	return "user";
}

void
model_req_init(struct model_req *req, enum req_kind kind, const char *role)
{
	memset(req, 0, sizeof *req);
	req->kind = kind;
	req->role = role;
	req->temperature = -1;
}

void
model_req_add(struct model_req *req, enum msg_role role, const char *content)
{
	req->msgs = xreallocarray(req->msgs, req->nmsgs + 1, sizeof *req->msgs);
	req->msgs[req->nmsgs].role = role;
	req->msgs[req->nmsgs].content = xstrdup(content);
	req->nmsgs++;
}

void
model_req_release(struct model_req *req)
{
	size_t	i;

	for (i = 0; i < req->nmsgs; i++)
		free(req->msgs[i].content);
	free(req->msgs);
	free(req->input);
	req->msgs = NULL;
	req->nmsgs = 0;
	req->input = NULL;
}

void
model_resp_release(struct model_resp *resp)
{
	size_t	i;

	free(resp->text);
	free(resp->vec);
	free(resp->finish);
	for (i = 0; i < resp->nchoices; i++)
		free(resp->choices[i]);
	free(resp->choices);
	memset(resp, 0, sizeof *resp);
}

char *
model_resp_to_json(const struct model_resp *resp)
{
	cJSON	*o, *a;
	char	*s;
	size_t	 i;

	o = cJSON_CreateObject();
	if (resp->text != NULL)
		cJSON_AddStringToObject(o, "text", resp->text);
	if (resp->vec != NULL) {
		a = cJSON_AddArrayToObject(o, "vec");
		for (i = 0; i < resp->dim; i++)
			cJSON_AddItemToArray(a,
			    cJSON_CreateNumber((double)resp->vec[i]));
	}
	cJSON_AddNumberToObject(o, "prompt_tokens",
	    (double)resp->prompt_tokens);
	cJSON_AddNumberToObject(o, "completion_tokens",
	    (double)resp->completion_tokens);
	if (resp->finish != NULL)
		cJSON_AddStringToObject(o, "finish", resp->finish);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int
model_resp_from_json(const char *text, struct model_resp *resp, char **cause)
{
	cJSON		*o;
	const cJSON	*v, *e;
	size_t		 i;
	long long	 n;

	memset(resp, 0, sizeof *resp);
	if ((o = cJSON_Parse(text)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return cause_set(cause, "cached response is not a JSON object");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "text")) != NULL &&
	    cJSON_IsString(v))
		resp->text = xstrdup(v->valuestring);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "vec")) != NULL &&
	    cJSON_IsArray(v)) {
		resp->dim = (size_t)cJSON_GetArraySize(v);
		resp->vec = xcalloc(resp->dim, sizeof *resp->vec);
		i = 0;
		cJSON_ArrayForEach(e, v)
			resp->vec[i++] = (float)e->valuedouble;
	}
	if ((n = tokens_from_json(cJSON_GetObjectItemCaseSensitive(o,
	    "prompt_tokens"))) >= 0)
		resp->prompt_tokens = n;
	if ((n = tokens_from_json(cJSON_GetObjectItemCaseSensitive(o,
	    "completion_tokens"))) >= 0)
		resp->completion_tokens = n;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "finish")) != NULL &&
	    cJSON_IsString(v))
		resp->finish = xstrdup(v->valuestring);
	cJSON_Delete(o);
	if (resp->text == NULL && resp->vec == NULL) {
		/* The finish reason may have been read: nothing is kept. */
		model_resp_release(resp);
		return cause_set(cause, "cached response has neither text nor "
		    "a vector");
	}
	return 0;
}
