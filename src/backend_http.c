/*
 * Configuration, keys, headers and error wording shared by the HTTP
 * backends.  Requests are only described here; the engine sends them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "backend_http.h"
#include "hash.h"
#include "http.h"
#include "jsonc.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* The largest key file read; keys are a few hundred bytes at most. */
#define KEY_FILE_MAX	16384

/* How much of a body without an error message a cause quotes. */
#define SNIPPET_MAX	200

/* How much of a provider's message or a refusal a cause quotes. */
#define MESSAGE_MAX	1000

/*
 * Checks one base URL and returns a copy without trailing slashes, or
 * NULL after recording an error.
 */
static char *
backend_http_url(struct jdoc *doc, const cJSON *node, const char *path,
    const char *url)
{
	const char	*host, *end;
	size_t		 len, i;

	if (*url == '\0') {
		jv_error(doc, node, path, "expected a URL, found an empty "
		    "string");
		return NULL;
	}
	for (i = 0; url[i] != '\0'; i++) {
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
			jv_error(doc, node, path, "URL contains a space or a "
			    "control character");
			return NULL;
		}
	}
	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else {
		jv_error(doc, node, path, "'%s' is not an http:// or https:// "
		    "URL", url);
		return NULL;
	}
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		/* Do not repeat what may be a password. */
		jv_error(doc, node, path, "credentials in the URL are not "
		    "allowed (use api_key_file or headers)");
		return NULL;
	}
	if (end == host) {
		jv_error(doc, node, path, "'%s' has no host", url);
		return NULL;
	}
	if (*end == '?' || *end == '#') {
		jv_error(doc, node, path, "'%s' has a query or fragment",
		    url);
		return NULL;
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	return xstrndup(url, len);
}

static void
backend_http_urls(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path, const char *dflt)
{
	const cJSON	*v, *e;
	char		*p, *pi, *u;
	size_t		 i, n;

	v = cJSON_GetObjectItemCaseSensitive(conf, "base_url");
	if (v == NULL) {
		b->urls = xcalloc(1, sizeof *b->urls);
		b->urls[b->nurls++] = xstrdup(dflt);
		return;
	}
	p = jv_path(path, "base_url");
	if (cJSON_IsString(v)) {
		if ((u = backend_http_url(doc, v, p, v->valuestring)) != NULL) {
			b->urls = xcalloc(1, sizeof *b->urls);
			b->urls[b->nurls++] = u;
		}
	} else if (cJSON_IsArray(v)) {
		if ((n = (size_t)cJSON_GetArraySize(v)) == 0)
			jv_error(doc, v, p, "expected at least one URL");
		else
			b->urls = xcalloc(n, sizeof *b->urls);
		i = 0;
		cJSON_ArrayForEach(e, v) {
			pi = jv_path_index(p, i++);
			if (!cJSON_IsString(e))
				jv_error(doc, e, pi, "expected a string");
			else if ((u = backend_http_url(doc, e, pi,
			    e->valuestring)) != NULL)
				b->urls[b->nurls++] = u;
			free(pi);
		}
	} else
		jv_error(doc, v, p, "expected a string or an array of strings");
	free(p);
}

/* A header name is an RFC 9110 token. */
static int
backend_http_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			continue;
		if (strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	}
	return 1;
}

static void
backend_http_conf_headers(struct backend_http *h, struct jdoc *doc,
    const cJSON *conf, const char *path)
{
	const cJSON	*obj, *v;
	const char	*s;
	char		*p, *pk;

	if ((obj = jv_get(doc, conf, path, "headers", JV_OBJECT, 0)) == NULL)
		return;
	p = jv_path(path, "headers");
	cJSON_ArrayForEach(v, obj) {
		pk = jv_path(p, v->string);
		if (!backend_http_token(v->string))
			jv_error(doc, v, pk, "'%s' is not a valid header name",
			    v->string);
		else if (!cJSON_IsString(v))
			jv_error(doc, v, pk, "expected a string");
		else {
			for (s = v->valuestring; *s != '\0'; s++)
				if (*s == '\r' || *s == '\n')
					break;
			if (*s != '\0')
				jv_error(doc, v, pk, "header value contains a "
				    "line break");
			else {
				h->headers = xreallocarray(h->headers,
				    h->nheaders + 1, sizeof *h->headers);
				h->headers[h->nheaders++] = xasprintf("%s: %s",
				    v->string, v->valuestring);
			}
		}
		free(pk);
	}
	free(p);
}

/*
 * Checks a key: it must not be empty and must hold no control character
 * (it goes into a header line).  Returns a message or NULL.
 */
static const char *
backend_http_key_check(const char *key)
{
	const unsigned char	*p;

	if (*key == '\0')
		return "is empty";
	for (p = (const unsigned char *)key; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "holds a key with a control character";
	return NULL;
}

/* Reads a key file; errors name the file, never the key. */
static int
backend_http_key_file(struct backend_http *h, const char *file,
    char **cause)
{
	char		 buf[KEY_FILE_MAX + 1];
	const char	*bad;
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rv = -1;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "cannot open '%s': %s", file,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		cause_set(cause, "cannot read '%s': %s", file,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		cause_set(cause, "'%s' is not a regular file", file);
		goto fail;
	}
	for (;;) {
		n = read(fd, buf + len, sizeof buf - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "cannot read '%s': %s", file,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEY_FILE_MAX) {
			cause_set(cause, "'%s' is larger than %d bytes", file,
			    KEY_FILE_MAX);
			goto fail;
		}
	}
	/* Trailing newlines and blanks are not part of the key. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		cause_set(cause, "'%s' holds a key with a NUL byte", file);
		goto fail;
	}
	if ((bad = backend_http_key_check(buf)) != NULL) {
		cause_set(cause, "'%s' %s", file, bad);
		goto fail;
	}
	h->key = xstrndup(buf, len);
	rv = 0;
fail:
	explicit_bzero(buf, sizeof buf);
	close(fd);
	return rv;
}

static void
backend_http_key(struct backend_http *h, struct jdoc *doc, const cJSON *conf,
    const char *path, const char *key_env)
{
	const cJSON	*fv, *ev;
	const char	*env = key_env, *val, *bad;
	char		*p, *file, *cause = NULL;

	ev = jv_get(doc, conf, path, "api_key_env", JV_STRING, 0);
	fv = jv_get(doc, conf, path, "api_key_file", JV_STRING, 0);
	if (ev != NULL) {
		env = ev->valuestring;
		if (*env == '\0') {
			p = jv_path(path, "api_key_env");
			jv_error(doc, ev, p, "expected a variable name, found "
			    "an empty string");
			free(p);
			return;
		}
	}
	if (fv != NULL) {
		p = jv_path(path, "api_key_file");
		if (ev != NULL)
			jv_error(doc, fv, p, "cannot be used together with "
			    "api_key_env");
		else if (*fv->valuestring == '\0')
			jv_error(doc, fv, p, "expected a path, found an empty "
			    "string");
		else {
			file = path_relative_to(doc->file, fv->valuestring);
			if (backend_http_key_file(h, file, &cause) != 0) {
				jv_error(doc, fv, p, "%s", cause);
				free(cause);
			}
			free(file);
		}
		free(p);
		return;
	}
	if ((val = getenv(env)) == NULL || *val == '\0') {
		/* Many local servers need no key: say so only on a 401. */
		h->nokey = xasprintf("environment variable %s is %s", env,
		    val == NULL ? "not set" : "empty");
		return;
	}
	if ((bad = backend_http_key_check(val)) != NULL) {
		p = jv_path(path, "api_key_env");
		jv_error(doc, ev != NULL ? ev : conf, p, "environment variable "
		    "%s %s", env, bad);
		free(p);
		return;
	}
	h->key = xstrdup(val);
}

int
backend_http_init(struct backend_http *h, struct backend *b, struct jdoc *doc,
    const cJSON *conf, const char *path, const char *type, const char *url,
    const char *key_env)
{
	size_t	nerr = doc->nerrors;

	h->type = type;
	backend_http_urls(b, doc, conf, path, url);
	backend_http_conf_headers(h, doc, conf, path);
	if (key_env != NULL)
		backend_http_key(h, doc, conf, path, key_env);
	return doc->nerrors == nerr ? 0 : -1;
}

void
backend_http_identity(struct backend *b, const char *type, const cJSON *opts)
{
	char	 hex[65], *s;

	free(b->identity);
	if (opts == NULL || cJSON_GetArraySize(opts) == 0) {
		b->identity = xasprintf("%s %s", type, b->nurls > 0 ?
		    b->urls[0] : "");
		return;
	}
	if ((s = cJSON_PrintUnformatted(opts)) == NULL)
		fatalx("%s: out of memory", __func__);
	sha256_hex(s, strlen(s), hex);
	free(s);
	b->identity = xasprintf("%s %s options %.16s", type, b->nurls > 0 ?
	    b->urls[0] : "", hex);
}

void
backend_http_release(struct backend_http *h)
{
	size_t	i;

	if (h->key != NULL) {
		explicit_bzero(h->key, strlen(h->key));
		free(h->key);
	}
	for (i = 0; i < h->nheaders; i++) {
		explicit_bzero(h->headers[i], strlen(h->headers[i]));
		free(h->headers[i]);
	}
	free(h->headers);
	free(h->nokey);
	h->key = h->nokey = NULL;
	h->headers = NULL;
	h->nheaders = 0;
}

void
backend_http_headers(const struct backend_http *h, struct http_req *req)
{
	size_t	i;

	for (i = 0; i < h->nheaders; i++)
		http_req_header(req, "%s", h->headers[i]);
}

cJSON *
backend_http_stop(struct jdoc *doc, const cJSON *conf, const char *path,
    size_t max)
{
	const cJSON	*v, *e;
	cJSON		*out;
	char		*p, *pi;
	size_t		 i = 0, nerr = doc->nerrors;

	if ((v = cJSON_GetObjectItemCaseSensitive(conf, "stop")) == NULL)
		return NULL;
	p = jv_path(path, "stop");
	out = cJSON_CreateArray();
	if (cJSON_IsString(v)) {
		if (*v->valuestring == '\0')
			jv_error(doc, v, p, "expected a non-empty string");
		else
			cJSON_AddItemToArray(out,
			    cJSON_CreateString(v->valuestring));
	} else if (cJSON_IsArray(v)) {
		if (cJSON_GetArraySize(v) == 0)
			jv_error(doc, v, p, "expected at least one string");
		else if (max > 0 && (size_t)cJSON_GetArraySize(v) > max)
			jv_error(doc, v, p, "%d stop sequences (at most %zu "
			    "are allowed)", cJSON_GetArraySize(v), max);
		cJSON_ArrayForEach(e, v) {
			pi = jv_path_index(p, i++);
			if (!cJSON_IsString(e))
				jv_error(doc, e, pi, "expected a string");
			else if (*e->valuestring == '\0')
				jv_error(doc, e, pi, "expected a non-empty "
				    "string");
			else
				cJSON_AddItemToArray(out,
				    cJSON_CreateString(e->valuestring));
			free(pi);
		}
	} else
		jv_error(doc, v, p, "expected a string or an array of strings");
	free(p);
	if (doc->nerrors != nerr) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Replaces every occurrence of word in s (allocated) by a marker. */
static char *
backend_http_redact_word(char *s, const char *word)
{
	struct strbuf	 sb;
	const char	*p, *q;
	size_t		 wlen = strlen(word);

	if (wlen == 0 || strstr(s, word) == NULL)
		return s;
	strbuf_init(&sb);
	for (p = s; (q = strstr(p, word)) != NULL; p = q + wlen) {
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_adds(&sb, "[redacted]");
	}
	strbuf_adds(&sb, p);
	explicit_bzero(s, strlen(s));
	free(s);
	return strbuf_detach(&sb);
}

/*
 * Replaces the key in s (allocated), as is and as log_escape() would
 * print it (a key may hold a quote or a backslash).
 */
static char *
backend_http_redact(const struct backend_http *h, char *s)
{
	char	*esc;

	if (h->key == NULL)
		return s;
	s = backend_http_redact_word(s, h->key);
	esc = log_escape(h->key, strlen(h->key));
	s = backend_http_redact_word(s, esc);
	explicit_bzero(esc, strlen(esc));
	free(esc);
	return s;
}

int
backend_http_fail(const struct backend_http *h, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	msg = backend_http_redact(h, xvasprintf(fmt, ap));
	va_end(ap);
	free(*cause);
	*cause = xasprintf("%s: %s", h->type, msg);
	free(msg);
	return -1;
}

char *
backend_http_escape(const char *s, size_t max)
{
	size_t	len = strlen(s);

	/* Cut at a character boundary, not inside a UTF-8 sequence. */
	if (len > max)
		while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
			max--;
	return log_escape(s, max);
}

int
backend_http_error(const struct backend_http *h, long status,
    const char *body, size_t len, const char *message, char **cause)
{
	char	*text, *copy, *hint = NULL;

	if (message != NULL && *message != '\0')
		text = backend_http_escape(message, MESSAGE_MAX);
	else if (body == NULL || len == 0)
		text = xstrdup("empty reply");
	else {
		/* HTML from a proxy, or text: quote its start. */
		copy = xstrndup(body, len);
		text = backend_http_escape(copy, SNIPPET_MAX);
		free(copy);
	}
	if (status == 401 && h->key == NULL && h->nokey != NULL)
		hint = xasprintf(" (no API key: %s)", h->nokey);
	backend_http_fail(h, cause, "HTTP %ld: %s%s", status, text,
	    hint != NULL ? hint : "");
	free(hint);
	free(text);
	return -1;
}

cJSON *
backend_http_json(const char *body, size_t len)
{
	cJSON		*o;
	const char	*end = NULL;

	if (body == NULL || len == 0)
		return NULL;
	if ((o = cJSON_ParseWithLengthOpts(body, len, &end, 0)) == NULL)
		return NULL;
	/* Only white space may follow the value. */
	while (end < body + len && (*end == ' ' || *end == '\t' ||
	    *end == '\n' || *end == '\r'))
		end++;
	if (!cJSON_IsObject(o) || end != body + len) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int
backend_http_not_json(const struct backend_http *h, const char *body,
    size_t len, char **cause)
{
	char	*copy, *text;

	if (body == NULL || len == 0)
		return backend_http_fail(h, cause, "malformed reply: empty "
		    "body");
	copy = xstrndup(body, len);
	text = backend_http_escape(copy, SNIPPET_MAX);
	free(copy);
	backend_http_fail(h, cause, "malformed reply: not a JSON object: %s",
	    text);
	free(text);
	return -1;
}

void
backend_http_body(struct http_req *req, cJSON *obj)
{
	char	*s;

	if ((s = cJSON_PrintUnformatted(obj)) == NULL)
		fatalx("%s: out of memory", __func__);
	cJSON_Delete(obj);
	free(req->body);
	req->body = s;
	req->len = strlen(s);
}

int
backend_http_max_tokens(const struct backend *b, const struct model_req *req)
{
	return req->max_tokens > 0 ? req->max_tokens : b->max_tokens;
}

cJSON *
backend_http_messages(const struct model_req *req, int nosystem)
{
	cJSON	*arr, *m;
	size_t	 i;

	arr = cJSON_CreateArray();
	for (i = 0; i < req->nmsgs; i++) {
		if (nosystem && req->msgs[i].role == MSG_SYSTEM)
			continue;
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role",
		    msg_role_name(req->msgs[i].role));
		cJSON_AddStringToObject(m, "content", req->msgs[i].content);
		cJSON_AddItemToArray(arr, m);
	}
	return arr;
}

void
backend_http_usage(struct model_resp *resp, const struct model_req *req,
    const cJSON *in, const cJSON *out)
{
	size_t		i;
	long long	n;

	if ((n = tokens_from_json(in)) >= 0)
		resp->prompt_tokens = n;
	else if (req->kind == REQ_EMBED)
		resp->prompt_tokens = req->input != NULL ?
		    tokens_estimate(req->input) : 0;
	else {
		resp->prompt_tokens = 0;
		for (i = 0; i < req->nmsgs; i++)
			resp->prompt_tokens +=
			    tokens_estimate(req->msgs[i].content);
	}
	if ((n = tokens_from_json(out)) >= 0)
		resp->completion_tokens = n;
	else
		resp->completion_tokens = resp->text != NULL ?
		    tokens_estimate(resp->text) : 0;
}

int
backend_http_vector(const cJSON *arr, struct model_resp *resp)
{
	const cJSON	*e;
	size_t		 n, i = 0;

	if (!cJSON_IsArray(arr) || (n = (size_t)cJSON_GetArraySize(arr)) == 0)
		return -1;
	cJSON_ArrayForEach(e, arr)
		if (!cJSON_IsNumber(e))
			return -1;
	resp->vec = xcalloc(n, sizeof *resp->vec);
	cJSON_ArrayForEach(e, arr)
		resp->vec[i++] = (float)e->valuedouble;
	resp->dim = n;
	return 0;
}

long long
backend_http_count(const cJSON *v)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 1e15)
		return 0;
	return (long long)v->valuedouble;
}

/* "1h2m3.5s", "6m0s", "120ms", "1s": seconds, or -1. */
static double
limits_duration(const char *p)
{
	double	 total = 0, v;
	char	*end;
	int	 any = 0;

	while (*p != '\0' && *p != '\n') {
		v = strtod(p, &end);
		if (end == p)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			v /= 1000;
			p += 2;
		} else if (*p == 'h') {
			v *= 3600;
			p++;
		} else if (*p == 'm') {
			v *= 60;
			p++;
		} else if (*p == 's')
			p++;
		total += v;
		any = 1;
	}
	return any ? total : -1;
}

/* "2024-08-15T12:34:56Z" (or with an offset): seconds from now, or -1. */
static double
limits_time(const char *p, double now)
{
	struct tm	 tm;
	char		*end;
	double		 frac = 0;
	time_t		 t;
	int		 sign, hh = 0, mm = 0;

	memset(&tm, 0, sizeof tm);
	if ((end = strptime(p, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		frac = strtod(end, &end);
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* An offset east of UTC means earlier in UTC. */
	if (*end == '+' || *end == '-') {
		sign = *end == '-' ? 1 : -1;
		if (sscanf(end + 1, "%2d:%2d", &hh, &mm) >= 1)
			t += sign * (hh * 3600 + mm * 60);
	}
	return (double)t + frac - now > 0 ? (double)t + frac - now : 0;
}

int
backend_http_limits(const char *lines, double now, double *req_left,
    double *req_reset, double *tok_left, double *tok_reset)
{
	static const struct {
		const char	*name;
		int		 what;	/* 0..3: req_left, req_reset, ... */
		int		 clock;	/* the reset is a time, not a span */
	} names[] = {
		{ "x-ratelimit-remaining-requests", 0, 0 },
		{ "x-ratelimit-reset-requests", 1, 0 },
		{ "x-ratelimit-remaining-tokens", 2, 0 },
		{ "x-ratelimit-reset-tokens", 3, 0 },
		{ "anthropic-ratelimit-requests-remaining", 0, 1 },
		{ "anthropic-ratelimit-requests-reset", 1, 1 },
		{ "anthropic-ratelimit-tokens-remaining", 2, 1 },
		{ "anthropic-ratelimit-tokens-reset", 3, 1 },
		{ "anthropic-ratelimit-input-tokens-remaining", 2, 1 },
		{ "anthropic-ratelimit-input-tokens-reset", 3, 1 },
	};
	double		*out[4] = { req_left, req_reset, tok_left, tok_reset };
	const char	*p, *v;
	double		 x;
	size_t		 i, n;
	int		 any = 0;

	for (i = 0; i < 4; i++)
		*out[i] = -1;
	for (p = lines; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		for (i = 0; i < nitems(names); i++) {
			n = strlen(names[i].name);
			if (strncasecmp(p, names[i].name, n) != 0 ||
			    p[n] != ':')
				continue;
			for (v = p + n + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (names[i].what == 0 || names[i].what == 2)
				x = strtod(v, NULL);
			else if (names[i].clock)
				x = limits_time(v, now);
			else
				x = limits_duration(v);
			/* Anthropic's tokens win over its input tokens. */
			if (x >= 0 && (*out[names[i].what] < 0 ||
			    strstr(names[i].name, "input-") == NULL)) {
				*out[names[i].what] = x;
				any = 1;
			}
			break;
		}
	}
	return any;
}

cJSON *
backend_http_batch_item(struct backend *b, const struct model_req *req,
    const char *id, const char *member, char **path, char **cause)
{
	struct http_req	 hr;
	cJSON		*item = NULL;

	memset(&hr, 0, sizeof hr);
	if (b->ops->build(b, req, &hr, cause) == 0) {
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "custom_id", id);
		cJSON_AddItemToObject(item, member, cJSON_Parse(hr.body));
		if (path != NULL)
			*path = xstrdup(hr.path);
	}
	http_req_release(&hr);
	return item;
}

void
backend_http_batch(struct backend *b, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	const cJSON	*v;
	const char	*window;
	long long	 max = 10000;
	char		*p;

	b->batch_poll = 30;
	b->batch_max = (int)max;
	v = cJSON_GetObjectItemCaseSensitive(conf, "batch");
	if (v != NULL && !cJSON_IsFalse(v)) {
		window = cJSON_IsString(v) ? v->valuestring : NULL;
		if (window == NULL || *window == '\0' ||
		    strspn(window, "0123456789") == 0 ||
		    strchr("hdm", window[strspn(window, "0123456789")]) ==
		    NULL) {
			p = jv_path(path, "batch");
			jv_error(doc, v, p, "expected false or a completion "
			    "window such as \"24h\"");
			free(p);
		} else
			b->batch_window = xstrdup(window);
	}
	jv_number(doc, conf, path, "batch_poll", 0, 0.01, 86400,
	    &b->batch_poll);
	if (jv_int(doc, conf, path, "batch_max", 0, 1, 100000, &max) == 1)
		b->batch_max = (int)max;
}
