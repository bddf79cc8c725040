/*
 * The exec backend: any local program is a model.  For each request it
 * is run with the request as JSON on its standard input:
 *
 *	{"kind": "chat", "model": "...", "messages": [{"role", "content"}],
 *	 "temperature": 0.2, "max_tokens": 256, "sample": 0}
 *	{"kind": "embed", "model": "...", "input": "..."}
 *
 * and answers on its standard output with either plain text (the reply)
 * or a JSON object {"text": "...", "usage": {"prompt_tokens": N,
 * "completion_tokens": N}} or {"embedding": [...]}.  A non-zero exit
 * status fails the request with the end of its standard error; 75
 * (EX_TEMPFAIL) asks for a retry.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "http.h"
#include "jsonc.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

static const char *const exec_keys[] = { "command", NULL };

struct exec_data {
	char	**argv;
	size_t	  argc;
};

static int
exec_init(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct exec_data	*d;
	const cJSON		*cmd, *v;
	char			*p, *q;
	size_t			 i = 0;

	cmd = jv_get(doc, conf, path, "command", JV_STRING | JV_ARRAY, 1);
	if (cmd == NULL)
		return -1;
	d = xcalloc(1, sizeof *d);
	b->data = d;
	if (cJSON_IsString(cmd)) {
		/* A string is run by the shell. */
		d->argv = xcalloc(4, sizeof *d->argv);
		d->argv[0] = xstrdup("/bin/sh");
		d->argv[1] = xstrdup("-c");
		d->argv[2] = xstrdup(cmd->valuestring);
		d->argc = 3;
	} else {
		d->argv = xcalloc((size_t)cJSON_GetArraySize(cmd) + 1,
		    sizeof *d->argv);
		cJSON_ArrayForEach(v, cmd) {
			if (!cJSON_IsString(v) || *v->valuestring == '\0') {
				p = jv_path(path, "command");
				q = jv_path_index(p, i);
				jv_error(doc, v, q, "expected a non-empty string");
				free(q);
				free(p);
				return -1;
			}
			d->argv[d->argc++] = xstrdup(v->valuestring);
			i++;
		}
		if (d->argc == 0) {
			p = jv_path(path, "command");
			jv_error(doc, cmd, p, "expected a program and its "
			    "arguments");
			free(p);
			return -1;
		}
	}
	b->identity = xasprintf("exec %s", d->argv[d->argc - 1]);
	return 0;
}

static void
exec_free(struct backend *b)
{
	struct exec_data	*d = b->data;
	size_t			 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	free(d);
	b->data = NULL;
}

static char *const *
exec_command(struct backend *b)
{
	struct exec_data	*d = b->data;

	return d->argv;
}

static int
exec_build(struct backend *b, const struct model_req *req,
    struct http_req *out, char **cause)
{
	cJSON	*o, *msgs, *m;
	size_t	 i;
	double	 temp;
	int	 maxtok;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", req->kind == REQ_CHAT ? "chat" :
	    "embed");
	cJSON_AddStringToObject(o, "model", b->model);
	if (req->kind == REQ_CHAT) {
		msgs = cJSON_AddArrayToObject(o, "messages");
		for (i = 0; i < req->nmsgs; i++) {
			m = cJSON_CreateObject();
			cJSON_AddStringToObject(m, "role",
			    msg_role_name(req->msgs[i].role));
			cJSON_AddStringToObject(m, "content",
			    req->msgs[i].content);
			cJSON_AddItemToArray(msgs, m);
		}
		temp = req->temperature >= 0 ? req->temperature :
		    b->temperature;
		if (temp >= 0)
			cJSON_AddNumberToObject(o, "temperature", temp);
		maxtok = req->max_tokens > 0 ? req->max_tokens : b->max_tokens;
		if (maxtok > 0)
			cJSON_AddNumberToObject(o, "max_tokens", maxtok);
		cJSON_AddNumberToObject(o, "sample", req->sample);
	} else
		cJSON_AddStringToObject(o, "input", req->input != NULL ?
		    req->input : "");
	out->body = cJSON_PrintUnformatted(o);
	out->len = strlen(out->body);
	cJSON_Delete(o);
	return 0;
}

static int
exec_parse(struct backend *b, const struct model_req *req, long status,
    const char *body, size_t len, struct model_resp *resp, char **cause)
{
	cJSON		*o;
	const cJSON	*v, *u, *e;
	char		*esc;
	size_t		 i;
	long long	 n;

	if (status != 200) {
		esc = log_escape(body, 500);
		cause_set(cause, "exec: %s: %s", status == 503 ? "command "
		    "asked to be retried (exit 75)" : status == 500 ?
		    "command was killed by a signal" : "command failed",
		    *esc != '\0' ? esc : "(no standard error)");
		free(esc);
		return -1;
	}
	o = cJSON_ParseWithLength(body, len);
	if (cJSON_IsObject(o) && ((v = cJSON_GetObjectItemCaseSensitive(o,
	    "text")) != NULL || cJSON_GetObjectItemCaseSensitive(o,
	    "embedding") != NULL)) {
		if (v != NULL && cJSON_IsString(v))
			resp->text = xstrdup(v->valuestring);
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "embedding")) !=
		    NULL && cJSON_IsArray(v)) {
			resp->dim = (size_t)cJSON_GetArraySize(v);
			resp->vec = xcalloc(resp->dim + 1, sizeof *resp->vec);
			i = 0;
			cJSON_ArrayForEach(e, v)
				resp->vec[i++] = (float)e->valuedouble;
		}
		u = cJSON_GetObjectItemCaseSensitive(o, "usage");
		if ((n = tokens_from_json(cJSON_GetObjectItemCaseSensitive(u,
		    "prompt_tokens"))) >= 0)
			resp->prompt_tokens = n;
		if ((n = tokens_from_json(cJSON_GetObjectItemCaseSensitive(u,
		    "completion_tokens"))) >= 0)
			resp->completion_tokens = n;
	} else {
		/* Plain text: the whole output, less one final newline. */
		if (len > 0 && body[len - 1] == '\n')
			len--;
		resp->text = xstrndup(body, len);
	}
	cJSON_Delete(o);
	if (req->kind == REQ_CHAT && resp->text == NULL)
		return cause_set(cause, "exec: the command's JSON reply has "
		    "no \"text\"");
	if (req->kind == REQ_EMBED && resp->vec == NULL)
		return cause_set(cause, "exec: the command's reply has no "
		    "\"embedding\"");
	if (resp->prompt_tokens == 0) {
		for (i = 0; i < req->nmsgs; i++)
			resp->prompt_tokens +=
			    tokens_estimate(req->msgs[i].content);
	}
	if (resp->completion_tokens == 0 && resp->text != NULL)
		resp->completion_tokens = tokens_estimate(resp->text);
	resp->finish = xstrdup("stop");
	return 0;
}

const struct backend_ops backend_exec_ops = {
	.name = "exec",
	.keys = exec_keys,
	.init = exec_init,
	.free = exec_free,
	.build = exec_build,
	.parse = exec_parse,
	.command = exec_command,
};
