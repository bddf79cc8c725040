/* The backend table, common configuration, requests, keys and the cache
 * form of responses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "hash.h"
#include "jsonc.h"
#include "util.h"
#include "xmalloc.h"

extern const struct backend_ops backend_sim_ops;
extern const struct backend_ops backend_exec_ops;
extern const struct backend_ops backend_openai_ops;
extern const struct backend_ops backend_anthropic_ops;
extern const struct backend_ops backend_ollama_ops;

const struct backend_ops *const backend_table[] = {
	&backend_sim_ops,
	&backend_openai_ops,
	&backend_anthropic_ops,
	&backend_ollama_ops,
	&backend_exec_ops,
	NULL
};

static const char *const backend_common_keys[] = {
	"type", "model", "price", "temperature", "max_tokens",
	"max_in_flight", "requests_per_minute", "tokens_per_minute",
	"max_retries", "retry_base", "retry_cap", "timeout", "connect_timeout",
	"max_response_bytes", "breaker", NULL
};

const struct backend_ops *
backend_lookup(const char *name)
{
	const struct backend_ops *const *b;

	for (b = backend_table; *b != NULL; b++)
		if (strcmp((*b)->name, name) == 0)
			return *b;
	return NULL;
}

void
backend_foreach_key(void (*fn)(const char *, const char *, void *),
    void *arg)
{
	const struct backend_ops *const	*b;
	const char *const		*k;

	for (k = backend_common_keys; *k != NULL; k++)
		fn(NULL, *k, arg);
	for (b = backend_table; *b != NULL; b++)
		for (k = (*b)->keys; k != NULL && *k != NULL; k++)
			fn((*b)->name, *k, arg);
}

/* The common keys followed by the type's own (NULL-terminated). */
static const char **
backend_keys(const struct backend_ops *ops)
{
	const char	**keys;
	size_t		  n = 0, m = 0, i;

	while (backend_common_keys[n] != NULL)
		n++;
	if (ops->keys != NULL)
		while (ops->keys[m] != NULL)
			m++;
	keys = xcalloc(n + m + 1, sizeof *keys);
	for (i = 0; i < n; i++)
		keys[i] = backend_common_keys[i];
	for (i = 0; i < m; i++)
		keys[n + i] = ops->keys[i];
	return keys;
}

struct backend *
backend_new(struct jdoc *doc, const char *name, const cJSON *conf,
    const char *path)
{
	const struct backend_ops	*ops;
	struct backend			*b;
	const cJSON			*v, *price;
	const char			*type = NULL, *model = NULL, *near;
	const char			**keys, *names[16];
	size_t				 nerr = doc->nerrors, i;
	long long			 ll;
	char				*p;

	if (!cJSON_IsObject(conf)) {
		jv_error(doc, conf, path, "expected an object");
		return NULL;
	}
	if (jv_string(doc, conf, path, "type", 1, &type) != 1)
		return NULL;
	if ((ops = backend_lookup(type)) == NULL) {
		for (i = 0; backend_table[i] != NULL && i + 1 < nitems(names);
		    i++)
			names[i] = backend_table[i]->name;
		names[i] = NULL;
		p = jv_path(path, "type");
		v = cJSON_GetObjectItemCaseSensitive(conf, "type");
		if ((near = suggest(type, names)) != NULL)
			jv_error(doc, v, p, "unknown backend type '%s' (did you "
			    "mean '%s'?)", type, near);
		else
			jv_error(doc, v, p, "unknown backend type '%s'", type);
		free(p);
		return NULL;
	}
	keys = backend_keys(ops);
	jv_keys(doc, conf, path, keys);
	free(keys);

	b = xcalloc(1, sizeof *b);
	b->ops = ops;
	b->name = xstrdup(name);
	b->temperature = -1;
	b->batch = 1;
	b->max_in_flight = 8;
	b->max_retries = 4;
	b->retry_base = 0.5;
	b->retry_cap = 30;
	b->timeout = 120;
	b->connect_timeout = 10;
	b->max_response = 8 << 20;
	b->breaker = 5;
	jv_string(doc, conf, path, "model", 0, &model);
	b->model = xstrdup(model != NULL ? model : ops->name);
	jv_number(doc, conf, path, "temperature", 0, 0, 2, &b->temperature);
	if (jv_int(doc, conf, path, "max_tokens", 0, 1, 1000000, &ll) == 1)
		b->max_tokens = (int)ll;
	if (jv_int(doc, conf, path, "max_in_flight", 0, 1, 4096, &ll) == 1)
		b->max_in_flight = (int)ll;
	if (jv_int(doc, conf, path, "requests_per_minute", 0, 1, 100000000,
	    &ll) == 1)
		b->requests_per_minute = (int)ll;
	if (jv_int(doc, conf, path, "tokens_per_minute", 0, 1, 1000000000,
	    &ll) == 1)
		b->tokens_per_minute = (int)ll;
	if (jv_int(doc, conf, path, "max_retries", 0, 0, 100, &ll) == 1)
		b->max_retries = (int)ll;
	jv_number(doc, conf, path, "retry_base", 0, 0, 3600, &b->retry_base);
	jv_number(doc, conf, path, "retry_cap", 0, 0, 86400, &b->retry_cap);
	jv_number(doc, conf, path, "timeout", 0, 0.001, 86400, &b->timeout);
	jv_number(doc, conf, path, "connect_timeout", 0, 0.001, 3600,
	    &b->connect_timeout);
	if (jv_int(doc, conf, path, "max_response_bytes", 0, 1024,
	    (long long)1 << 40, &ll) == 1)
		b->max_response = ll;
	if (jv_int(doc, conf, path, "breaker", 0, 0, 1000, &ll) == 1)
		b->breaker = (int)ll;
	backend_price_init(&b->price);
	if ((price = jv_get(doc, conf, path, "price", JV_OBJECT, 0)) != NULL) {
		p = jv_path(path, "price");
		backend_price(doc, price, p, &b->price);
		free(p);
	}
	if (ops->init != NULL && ops->init(b, doc, conf, path) != 0 &&
	    doc->nerrors == nerr)
		jv_error(doc, conf, path, "invalid %s backend", ops->name);
	if (b->identity == NULL)
		b->identity = xstrdup(ops->name);
	if (doc->nerrors != nerr) {
		backend_free(b);
		return NULL;
	}
	return b;
}

void
backend_price_init(struct backend_price *pr)
{
	memset(pr, 0, sizeof *pr);
	pr->cached_input = pr->cache_write = -1;
	pr->batch = 0.5;
}

void
backend_price(struct jdoc *doc, const cJSON *obj, const char *path,
    struct backend_price *pr)
{
	static const char *const price_keys[] = { "input", "output",
	    "cached_input", "cache_write", "batch", NULL };

	jv_keys(doc, obj, path, price_keys);
	jv_number(doc, obj, path, "input", 1, 0, 1e6, &pr->input);
	jv_number(doc, obj, path, "output", 1, 0, 1e6, &pr->output);
	jv_number(doc, obj, path, "cached_input", 0, 0, 1e6,
	    &pr->cached_input);
	jv_number(doc, obj, path, "cache_write", 0, 0, 1e6, &pr->cache_write);
	jv_number(doc, obj, path, "batch", 0, 0, 1, &pr->batch);
}

void
backend_free(struct backend *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nurls; i++)
		free(b->urls[i]);
	free(b->urls);
	if (b->ops->free != NULL)
		b->ops->free(b);
	free(b->name);
	free(b->identity);
	free(b->model);
	free(b->health.cause);
	free(b->batch_window);
	free(b);
}

double
backend_cost(const struct backend *b, const struct model_resp *r)
{
	double		 cached, write;
	long long	 plain;

	cached = b->price.cached_input >= 0 ? b->price.cached_input :
	    b->price.input;
	write = b->price.cache_write >= 0 ? b->price.cache_write :
	    b->price.input;
	plain = r->prompt_tokens - r->cached_tokens - r->cache_write_tokens;
	if (plain < 0)
		plain = 0;
	return ((double)plain * b->price.input + (double)r->cached_tokens *
	    cached + (double)r->cache_write_tokens * write +
	    (double)r->completion_tokens * b->price.output) / 1e6;
}

/*
 * The canonical form is a sequence of tagged, length-prefixed fields
 * hashed as they are produced: the backend's identity, the model, the
 * kind, the effective temperature and token limit (request over backend
 * default, so changing a default changes the key), the sample index when
 * sampling is random (temperature > 0) and the number of samples when a
 * call asks for several, then each message's role and content, or the
 * embedding input.
 */
static void
key_field(struct sha256 *c, char tag, const char *s, size_t n)
{
	uint8_t	hdr[9];
	int	i;

	hdr[0] = (uint8_t)tag;
	for (i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	sha256_update(c, hdr, sizeof hdr);
	sha256_update(c, s, n);
}

static void
key_string(struct sha256 *c, char tag, const char *s)
{
	key_field(c, tag, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

double
backend_temperature(const struct backend *b, const struct model_req *req)
{
	return req->temperature >= 0 ? req->temperature : b->temperature;
}

void
backend_req_key(const struct backend *b, const struct model_req *req,
    char out[65])
{
	struct sha256	c;
	char		num[64];
	double		temp;
	int		maxtok, n;
	size_t		i;

	temp = backend_temperature(b, req);
	maxtok = req->max_tokens > 0 ? req->max_tokens : b->max_tokens;
	sha256_init(&c);
	key_string(&c, 'v', "promptd-key-1");
	key_string(&c, 'b', b->identity != NULL ? b->identity : b->ops->name);
	key_string(&c, 'm', b->model);
	key_string(&c, 'k', req->kind == REQ_CHAT ? "chat" : "embed");
	if (temp > 0 && req->n > 1)
		n = snprintf(num, sizeof num, "%.17g/%d/%u/n%u", temp, maxtok,
		    req->sample, req->n);
	else
		n = snprintf(num, sizeof num, "%.17g/%d/%u", temp, maxtok,
		    temp > 0 ? req->sample : 0);
	key_field(&c, 'p', num, (size_t)n);
	if (req->kind == REQ_CHAT) {
		for (i = 0; i < req->nmsgs; i++) {
			key_string(&c, 'r', msg_role_name(req->msgs[i].role));
			key_string(&c, 'c', req->msgs[i].content);
		}
	} else
		key_string(&c, 'i', req->input);
	sha256_final_hex(&c, out);
}

long long
tokens_estimate(const char *s)
{
	size_t	n = strlen(s);

	return n == 0 ? 0 : (long long)((n + 3) / 4);
}

long long
tokens_from_json(const cJSON *v)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 9007199254740992.0)
		return -1;
	return (long long)v->valuedouble;
}
