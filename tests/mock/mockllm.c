/*
 * mockllm: a small HTTP/1.1 server that speaks the wire formats of the
 * model providers promptd talks to (OpenAI-compatible chat completions and
 * embeddings, Anthropic messages, Ollama chat and embed), for the
 * integration tests and the benchmarks.
 *
 * One thread, one poll loop.  Each answer is prepared when its request
 * arrives and sent when its timer fires, so a delayed answer never holds
 * up the others.  Answers come from a script of rules (-s), from the
 * simulated world of a job file (-w) or, failing both, an echo; faults
 * (latency, error statuses, resets, hangs, truncated, malformed, empty
 * and oversized bodies) come from rules or from the X-Mock-Fault header.
 * The script may also name OpenAI reasoning models, lower the prompt
 * caching threshold, set rate limits (announced in headers) and a hidden
 * concurrency limit, and shape the batch APIs (OpenAI Files and Batches,
 * Anthropic Message Batches), which run on a fast clock.
 * GET /mock/stats reports what was asked, for tests to assert against.
 * See tests/mock/README.md.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "hash.h"
#include "job.h"
#include "jsonc.h"
#include "rng.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

#define MOCK_BODY_MAX	(16 * 1024 * 1024)	/* largest request body */
#define MOCK_HEAD_MAX	(64 * 1024)		/* request line and headers */
#define MOCK_IN_MAX	(MOCK_BODY_MAX + 2 * MOCK_HEAD_MAX)
#define MOCK_RECENT	100			/* requests kept for stats */
#define MOCK_EMBED_DIM	16			/* default vector size */
#define MOCK_LINGER_MS	1000			/* drain before closing */
#define MOCK_CHUNK	(64 * 1024)
#define MOCK_MIB	(1024 * 1024)
#define MOCK_DELAY_MAX	600000			/* milliseconds */
#define MOCK_CACHE_MIN	1024			/* OpenAI, most Claude models */
#define MOCK_CACHE_BLOCK 128			/* OpenAI cache granularity */
#define MOCK_BREAKPOINTS 4			/* Anthropic cache_control */
#define MOCK_LOOKBACK	20			/* blocks checked for a hit */
#define MOCK_BATCH_DELAY 200			/* default batch duration, ms */
#define MOCK_OAI_BATCH_MAX 50000		/* requests in a batch */
#define MOCK_ANT_BATCH_MAX 100000		/* in an Anthropic batch */
#define MOCK_BATCH_ERRORS 100			/* validation errors listed */
#define MOCK_DAY	86400

static const char mock_usage[] = "usage: mockllm [-p port] [-P portfile] "
    "[-s script.json] [-w job.json] [-i idle_seconds]\n"
    "               [-t lifetime_seconds] [-l logfile]\n";

enum api {
	API_NONE,
	API_OPENAI,
	API_ANTHROPIC,
	API_OLLAMA,
};

enum fault_kind {
	FAULT_NONE,
	FAULT_STATUS,
	FAULT_RETRY_AFTER,
	FAULT_RETRY_AFTER_DATE,
	FAULT_RESET,
	FAULT_TIMEOUT,
	FAULT_TRUNCATE,
	FAULT_MALFORMED,
	FAULT_OVERSIZE,
	FAULT_EMPTY,
};

/* Indexed by enum fault_kind. */
static const char *const fault_names[] = {
	"none", "status", "retry_after", "retry_after_date", "reset",
	"timeout", "truncate", "malformed", "oversize", "empty",
};

/* Every name X-Mock-Fault accepts, for "did you mean". */
static const char *const fault_all_names[] = {
	"latency", "jitter", "status", "retry_after", "retry_after_date",
	"reset", "timeout", "truncate", "malformed", "oversize", "empty",
	"fail_first", NULL
};

struct fault {
	enum fault_kind	 kind;		/* the fault that shapes the answer */
	long long	 arg;
	long long	 latency_ms;	/* added delay */
	long long	 jitter_ms;	/* random extra delay, up to this */
};

struct rule {
	char		*path;		/* exact, or NULL for any */
	char		*match;		/* substring of the body, or NULL */
	long long	 times;		/* 0: every matching request */
	long long	 used;
	char		*reply;
	int		 status;	/* raw answer, 0 if none */
	char		*body;
	struct strbuf	 headers;	/* "Name: value\r\n" lines */
	int		 has_ctype;	/* headers set Content-Type */
	struct fault	 fault;
	long long	 delay_ms;
	long long	 jitter_ms;
	long long	 max_choices;	/* 0: as many as "n" asks */
};

struct recent {
	char		*method;
	char		*path;
	int64_t		 t_ms;
	const char	*auth;		/* header name, NULL if absent */
	size_t		 auth_len;
	char		*model;
	int		 status;	/* 0 when no answer was sent */
	const char	*fault;
};

struct count {
	char		*key;
	long long	 n;
};

/* Limits announced in headers, counted in fixed windows. */
struct ratelimit {
	long long	 requests;	/* per window, 0: none */
	long long	 tokens;	/* per window, 0: none */
	long long	 window_ms;
	int		 started;
	int64_t		 start_ms;	/* when the current window began */
	long long	 used_requests;
	long long	 used_tokens;
};

/* What "batch" in the script says about every batch. */
struct batchconf {
	long long	 delay_ms;	/* how long a batch takes */
	int		 expire;	/* it expires at the end instead */
	int		 fail;		/* it fails instead */
	char		**error_ids;	/* custom_ids answered with an error */
	size_t		 nerror_ids;
};

/* A file of the OpenAI Files API, uploaded or made by a batch. */
struct mfile {
	char		*id;
	char		*filename;
	char		*purpose;
	char		*data;
	size_t		 len;
	time_t		 created;
};

/* One request of a batch, answered when the batch was created. */
struct bitem {
	char		*custom_id;
	int		 status;	/* of its answer */
	char		*body;		/* its answer, JSON */
};

/* Where a batch is.  Anthropic's "ended" is completed, expired or cancelled. */
enum bstate {
	B_VALIDATING,
	B_FAILED,
	B_IN_PROGRESS,
	B_FINALIZING,
	B_COMPLETED,
	B_EXPIRED,
	B_CANCELLING,
	B_CANCELLED,
};

/* Indexed by enum bstate (OpenAI's names). */
static const char *const bstate_names[] = {
	"validating", "failed", "in_progress", "finalizing", "completed",
	"expired", "cancelling", "cancelled",
};

/* What became of one request of a batch, at some moment. */
enum boutcome {
	BO_PENDING,
	BO_OK,
	BO_ERROR,
	BO_EXPIRED,
	BO_CANCELED,
};

struct batch {
	int		 anthropic;	/* else OpenAI */
	char		*id;
	char		*input_file_id;	/* OpenAI */
	char		*endpoint;	/* OpenAI */
	char		*window;	/* OpenAI completion_window */
	char		*metadata;	/* OpenAI, JSON text or NULL */
	char		*model;		/* OpenAI, once validated */
	char		*results_url;	/* Anthropic */
	char		*errors;	/* OpenAI validation errors (JSON) */
	struct bitem	*items;
	size_t		 nitems;
	int64_t		 t0;		/* creation, monotonic ms */
	int64_t		 wall0;		/* creation, wall-clock ms */
	long long	 delay;		/* how long it takes */
	int		 expire;
	int		 fail;
	int64_t		 cancel;	/* ms after t0 it was cancelled, -1 */
	int		 ended;		/* its end was counted */
	char		*output_file_id;
	char		*error_file_id;
};

/* What the request head says. */
struct head {
	char		 method[16];
	char		*path;		/* without the query */
	char		*query;		/* after '?', or "" */
	int		 keepalive;
	size_t		 len;		/* up to and including the blank line */
	size_t		 clen;
	int		 expect;	/* Expect: 100-continue */
	char		*fault;		/* X-Mock-Fault values, comma-joined */
	char		*ctype;		/* Content-Type, or NULL */
	const char	*auth;		/* which credential header was sent */
	size_t		 auth_len;
};

enum conn_state {
	CONN_READ,	/* reading a request */
	CONN_WAIT,	/* its answer is scheduled, or held forever */
	CONN_WRITE,	/* sending the answer */
	CONN_DRAIN,	/* answered, write side shut, reading to EOF */
	CONN_DEAD,
};

struct conn {
	int		 fd;
	enum conn_state	 state;
	struct strbuf	 in;
	struct head	 head;
	int		 have_head;
	struct strbuf	 out;		/* bytes being sent */
	size_t		 outpos;
	struct strbuf	 resp;		/* the prepared answer */
	size_t		 pad_left;	/* oversize padding still to send */
	char		*pad_tail;	/* what follows the padding */
	int		 close_after;
	int		 reset;		/* answer with an RST */
	int		 hold;		/* never answer */
	int		 in_flight;	/* counted in mock.in_flight */
	int		 eof;		/* the client shut its write side */
	int		 processing;	/* inside conn_process() */
	int		 logged;
	int		 status;	/* of the answer, for the log */
	const char	*fault;		/* the fault applied, or NULL */
	int64_t		 arrived_ms;
	int64_t		 due_ms;
	int64_t		 drain_until;
	unsigned	 epoch;		/* stats epoch it was counted in */
};

struct mock {
	int		 listen_fd;
	int		 accepting;
	char		*portfile;
	FILE		*log;
	struct job	*job;
	struct backend	*world;		/* borrowed from job */
	struct rule	*rules;
	size_t		 nrules;
	struct conn	**conns;
	size_t		 nconns;
	int64_t		 start_ms;
	int64_t		 last_req_ms;
	long long	 idle_s;
	long long	 life_s;
	struct rng	 rng;
	unsigned long long seq;		/* for ids */
	int		 port;

	/* Script settings beside the rules. */
	char		**reasoning;	/* more reasoning models */
	size_t		 nreasoning;
	long long	 cache_min;	/* 0: the providers' own minimums */
	long long	 cache_block;	/* OpenAI's granularity */
	struct ratelimit rl;
	long long	 max_concurrency;	/* 0: none */
	struct batchconf bconf;

	/* Prompt caching: hashes of cached prefixes (0 marks a free slot). */
	uint64_t	*cache;
	size_t		 cache_cap;
	size_t		 cache_n;

	/* The batch APIs. */
	struct mfile	**files;
	size_t		 nfiles;
	struct batch	**batches;
	size_t		 nbatches;

	/* Statistics, zeroed by POST /mock/reset. */
	unsigned	 epoch;
	long long	 requests;
	struct count	*paths;
	size_t		 npaths;
	long long	 in_flight;
	long long	 max_in_flight;
	long long	 connections;
	struct recent	 recent[MOCK_RECENT];
	size_t		 nrecent;
	size_t		 recent_next;
	struct count	*counters;	/* fail_first, by header item */
	size_t		 ncounters;
	long long	 interactive;	/* model requests over HTTP */
	long long	 status_429;
	long long	 throttled_requests;
	long long	 throttled_tokens;
	long long	 throttled_concurrency;
	long long	 cached_tokens;	/* OpenAI */
	long long	 cache_read;	/* Anthropic */
	long long	 cache_write;
	long long	 reasoning_tokens;
	long long	 files_created;
	long long	 batches_created;
	long long	 batched;	/* requests in the batches created */
	long long	 batch_ok;	/* outcomes of the batches ended */
	long long	 batch_errored;
	long long	 batch_expired;
	long long	 batch_canceled;
};

/* An answer being prepared. */
struct answer {
	int		 status;
	const char	*ctype;		/* NULL: the headers carry it */
	struct strbuf	 hdrs;		/* extra header lines */
	struct strbuf	 body;
	size_t		 pad;		/* oversize: padding after body */
	char		*tail;		/* oversize: after the padding */
	int		 truncate;
};

/* A stretch of a prompt, as prompt caching sees it. */
struct seg {
	const char	*text;		/* borrowed */
	size_t		 len;
	char		 role;
	int		 mark;		/* cache_control: 0 none, 1 5m, 2 1h */
};

/* A request in the provider's wire format, converted. */
struct wire {
	struct model_req  req;		/* chat */
	char		**inputs;	/* embed */
	size_t		  ninputs;
	int		  dim;		/* vector size asked for, 0: default */
	int		  base64;	/* OpenAI encoding_format "base64" */
	int		  n;		/* OpenAI chat choices */
	const char	 *model;	/* borrowed from the body */
	int		  reasoning;	/* an OpenAI reasoning model */
	int		  effort;	/* index in efforts[] */
	long long	  max_completion; /* OpenAI max_completion_tokens */
	struct seg	 *segs;		/* the prompt in order */
	size_t		  nsegs;
	int		  nmarks;	/* Anthropic cache breakpoints */
	const char	 *err_param;	/* an OpenAI refusal's param */
	const char	 *err_code;	/* and code */
	int		  err_real;	/* the refusal is in the API's words */
};

/* A chat answer before it is put in the provider's format. */
struct chat {
	char		**texts;	/* one a choice */
	int		 *cut;		/* that choice stopped at the limit */
	size_t		  n;
	long long	  prompt;	/* usage, the prompt counted once */
	long long	  completion;	/* every choice, reasoning included */
	long long	  reasoning;
	long long	  cached;	/* OpenAI cached prompt tokens */
	long long	  cache_read;	/* Anthropic */
	long long	  cache_write;
	int		  cache_1h;	/* the write is to the one-hour cache */
	int		  batched;	/* answered in a batch */
};

/* OpenAI's reasoning_effort values; medium is the default. */
static const char *const efforts[] = {
	"minimal", "low", "medium", "high", NULL
};
#define EFFORT_MEDIUM	2

static volatile sig_atomic_t mock_quit;

static void
mock_signal(int sig)
{
	mock_quit = sig;
}

static int64_t
mock_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses a whole decimal number in [min, max]. */
static int
mock_number(const char *s, long long min, long long max, long long *out)
{
	long long	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 529: return "Overloaded";
	}
	return status < 400 ? "OK" : "Error";
}

/* An IMF-fixdate (RFC 9110) for a time. */
static void
http_date(time_t t, char out[64])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* HTTP token characters (RFC 9110 tchar). */
static int
http_tchar(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/*
 * Faults.  A spec is a comma-separated list of NAME[=ARG]; latency and
 * jitter add up, and at most one other fault shapes the answer.  m is
 * NULL where fail_first is not allowed (rules count with "times").
 */
static int fault_parse(struct mock *, const char *, struct fault *,
    char **);

static int
fault_item(struct mock *m, const char *item, struct fault *f, char **cause)
{
	struct count	*c;
	enum fault_kind	 kind = FAULT_NONE;
	const char	*eq, *arg, *colon, *near;
	char		 name[32], *inner;
	long long	 v = 0, min = 0, max = 0;
	size_t		 n, i;
	int		 rc;

	eq = strchr(item, '=');
	n = eq != NULL ? (size_t)(eq - item) : strlen(item);
	arg = eq != NULL ? eq + 1 : NULL;
	if (n == 0 || n >= sizeof name)
		return cause_set(cause, "unknown fault '%s'", item);
	memcpy(name, item, n);
	name[n] = '\0';

	if (strcmp(name, "fail_first") == 0) {
		if (m == NULL)
			return cause_set(cause, "fail_first is for the "
			    "X-Mock-Fault header (rules count with \"times\")");
		if (arg == NULL || (colon = strchr(arg, ':')) == NULL)
			return cause_set(cause, "fail_first: expected "
			    "fail_first=N:FAULT");
		inner = xstrndup(arg, (size_t)(colon - arg));
		rc = mock_number(inner, 1, 1000000000, &v);
		free(inner);
		if (rc != 0)
			return cause_set(cause, "fail_first: '%.*s' is not a "
			    "count", (int)(colon - arg), arg);
		/* Check the inner fault before counting anything. */
		{
			struct fault	 probe;

			memset(&probe, 0, sizeof probe);
			if (fault_parse(NULL, colon + 1, &probe, cause) != 0)
				return cause_prefix(cause, "fail_first: ");
		}
		for (i = 0; i < m->ncounters; i++)
			if (strcmp(m->counters[i].key, item) == 0)
				break;
		if (i == m->ncounters) {
			m->counters = xreallocarray(m->counters,
			    m->ncounters + 1, sizeof *m->counters);
			m->counters[i].key = xstrdup(item);
			m->counters[i].n = 0;
			m->ncounters++;
		}
		c = &m->counters[i];
		if (c->n >= v)
			return 0;
		c->n++;
		return fault_parse(NULL, colon + 1, f, cause);
	}

	if (strcmp(name, "latency") == 0 || strcmp(name, "jitter") == 0) {
		if (arg == NULL || mock_number(arg, 0, MOCK_DELAY_MAX, &v) != 0)
			return cause_set(cause, "%s: expected milliseconds "
			    "(0 to %d)", name, MOCK_DELAY_MAX);
		if (name[0] == 'l')
			f->latency_ms += v;
		else
			f->jitter_ms += v;
		return 0;
	}
	for (i = 1; i < nitems(fault_names); i++)
		if (strcmp(name, fault_names[i]) == 0)
			kind = (enum fault_kind)i;
	switch (kind) {
	case FAULT_NONE:
		if ((near = suggest(name, fault_all_names)) != NULL)
			return cause_set(cause, "unknown fault '%s' (did you "
			    "mean '%s'?)", name, near);
		return cause_set(cause, "unknown fault '%s'", name);
	case FAULT_STATUS:
		min = 400;
		max = 599;
		break;
	case FAULT_RETRY_AFTER:
	case FAULT_RETRY_AFTER_DATE:
		min = 0;
		max = 86400;
		break;
	case FAULT_OVERSIZE:
		min = 1;
		max = 1024;
		break;
	default:
		if (arg != NULL)
			return cause_set(cause, "%s: takes no argument", name);
		break;
	}
	if (max != 0 && (arg == NULL || mock_number(arg, min, max, &v) != 0))
		return cause_set(cause, "%s: expected a number from %lld to "
		    "%lld", name, min, max);
	if (f->kind != FAULT_NONE)
		return cause_set(cause, "faults '%s' and '%s' cannot be "
		    "combined", fault_names[f->kind], name);
	f->kind = kind;
	f->arg = v;
	return 0;
}

static int
fault_parse(struct mock *m, const char *spec, struct fault *f, char **cause)
{
	const char	*p = spec, *e;
	char		*item;
	size_t		 n;
	int		 rc;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		item = xstrndup(p, n);
		rc = fault_item(m, item, f, cause);
		free(item);
		if (rc != 0)
			return -1;
		p = e;
	}
	return 0;
}

/* A random delay in [0, ms]. */
static long long
mock_jitter(struct mock *m, long long ms)
{
	if (ms <= 0)
		return 0;
	return (long long)rng_below(&m->rng, (uint32_t)ms + 1);
}

/* The script: {"rules": [ ... ]}. */
static void
rule_load(struct jdoc *doc, const cJSON *obj, const char *path,
    struct rule *r)
{
	static const char *const keys[] = {
		"path", "match", "times", "reply", "status", "body",
		"max_choices",
		"headers", "fault", "delay_ms", "jitter_ms", NULL
	};
	static const char *const reserved[] = {
		"content-length", "transfer-encoding", "connection", NULL
	};
	const cJSON	*h, *v;
	const char	*s, *const *res;
	char		*p, *cause = NULL;
	long long	 ll;

	memset(r, 0, sizeof *r);
	strbuf_init(&r->headers);
	if (!cJSON_IsObject(obj)) {
		jv_error(doc, obj, path, "expected an object");
		return;
	}
	jv_keys(doc, obj, path, keys);
	if (jv_string(doc, obj, path, "path", 0, &s) == 1) {
		if (*s != '/') {
			p = jv_path(path, "path");
			jv_error(doc, cJSON_GetObjectItemCaseSensitive(obj,
			    "path"), p, "expected a path starting with '/'");
			free(p);
		}
		r->path = xstrdup(s);
	}
	if (jv_string(doc, obj, path, "match", 0, &s) == 1)
		r->match = xstrdup(s);
	if (jv_string(doc, obj, path, "reply", 0, &s) == 1)
		r->reply = xstrdup(s);
	if (jv_string(doc, obj, path, "body", 0, &s) == 1)
		r->body = xstrdup(s);
	jv_int(doc, obj, path, "times", 0, 1, 1000000000000LL, &r->times);
	if (jv_int(doc, obj, path, "status", 0, 200, 599, &ll) == 1)
		r->status = (int)ll;
	jv_int(doc, obj, path, "delay_ms", 0, 0, MOCK_DELAY_MAX, &r->delay_ms);
	jv_int(doc, obj, path, "max_choices", 0, 1, 128, &r->max_choices);
	jv_int(doc, obj, path, "jitter_ms", 0, 0, MOCK_DELAY_MAX,
	    &r->jitter_ms);
	if (jv_string(doc, obj, path, "fault", 0, &s) == 1 &&
	    fault_parse(NULL, s, &r->fault, &cause) != 0) {
		p = jv_path(path, "fault");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(obj, "fault"), p,
		    "%s", cause);
		free(p);
		free(cause);
	}
	if ((h = jv_get(doc, obj, path, "headers", JV_OBJECT, 0)) != NULL) {
		p = jv_path(path, "headers");
		cJSON_ArrayForEach(v, h) {
			for (s = v->string; *s != '\0' && http_tchar(*s); s++)
				;
			for (res = reserved; *res != NULL; res++)
				if (strcasecmp(*res, v->string) == 0)
					break;
			if (*v->string == '\0' || *s != '\0')
				jv_error(doc, v, p, "'%s' is not a header name",
				    v->string);
			else if (*res != NULL)
				jv_error(doc, v, p, "'%s' is set by the mock "
				    "itself", v->string);
			else if (!cJSON_IsString(v) ||
			    strpbrk(v->valuestring, "\r\n") != NULL)
				jv_error(doc, v, p, "%s: expected a one-line "
				    "string", v->string);
			else {
				strbuf_addf(&r->headers, "%s: %s\r\n",
				    v->string, v->valuestring);
				if (strcasecmp(v->string, "content-type") == 0)
					r->has_ctype = 1;
			}
		}
		free(p);
	}
	if (r->reply != NULL && r->status != 0)
		jv_error(doc, obj, path, "\"reply\" and \"status\" cannot both "
		    "be given");
	if (r->body != NULL && r->status == 0)
		jv_error(doc, obj, path, "\"body\" needs a \"status\"");
}

static void
rule_release(struct rule *r)
{
	free(r->path);
	free(r->match);
	free(r->reply);
	free(r->body);
	strbuf_release(&r->headers);
}

/* A list of non-empty strings; NULL-terminated, the caller's to free. */
static char **
script_strings(struct jdoc *doc, const cJSON *obj, const char *path,
    const char *key, size_t *n)
{
	const cJSON	*a, *e;
	char		**out, *p, *q;
	size_t		  i = 0;

	*n = 0;
	if ((a = jv_get(doc, obj, path, key, JV_ARRAY, 0)) == NULL)
		return NULL;
	out = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *out);
	p = jv_path(path, key);
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e) || *e->valuestring == '\0') {
			q = jv_path_index(p, i);
			jv_error(doc, e, q, "expected a non-empty string");
			free(q);
		} else
			out[(*n)++] = xstrdup(e->valuestring);
		i++;
	}
	free(p);
	return out;
}

/* The script's settings beside its rules. */
static void
script_settings(struct mock *m, struct jdoc *doc)
{
	static const char *const rl_keys[] = {
		"requests", "tokens", "window_ms", NULL
	};
	static const char *const b_keys[] = {
		"delay_ms", "expire", "fail", "error_custom_ids", NULL
	};
	const cJSON	*root = doc->root, *o;
	long long	 seed = 0;

	m->reasoning = script_strings(doc, root, NULL, "reasoning_models",
	    &m->nreasoning);
	jv_int(doc, root, NULL, "cache_min_tokens", 0, 1, 1000000000,
	    &m->cache_min);
	jv_int(doc, root, NULL, "cache_block_tokens", 0, 1, 1000000000,
	    &m->cache_block);
	jv_int(doc, root, NULL, "max_concurrency", 0, 1, 1000000,
	    &m->max_concurrency);
	/* Jitter drawn the same way each run, for tests to repeat. */
	if (jv_int(doc, root, NULL, "seed", 0, 0, 1LL << 53, &seed) == 1)
		rng_seed(&m->rng, (uint64_t)seed, 0);
	if ((o = jv_get(doc, root, NULL, "ratelimit", JV_OBJECT, 0)) != NULL) {
		jv_keys(doc, o, "ratelimit", rl_keys);
		jv_int(doc, o, "ratelimit", "requests", 0, 1, 1000000000000LL,
		    &m->rl.requests);
		jv_int(doc, o, "ratelimit", "tokens", 0, 1, 1000000000000LL,
		    &m->rl.tokens);
		jv_int(doc, o, "ratelimit", "window_ms", 0, 1,
		    MOCK_DAY * 1000LL, &m->rl.window_ms);
		if (m->rl.requests == 0 && m->rl.tokens == 0)
			jv_error(doc, o, "ratelimit", "expected \"requests\", "
			    "\"tokens\" or both");
	}
	if ((o = jv_get(doc, root, NULL, "batch", JV_OBJECT, 0)) != NULL) {
		jv_keys(doc, o, "batch", b_keys);
		jv_int(doc, o, "batch", "delay_ms", 0, 0, MOCK_DELAY_MAX,
		    &m->bconf.delay_ms);
		jv_bool(doc, o, "batch", "expire", 0, &m->bconf.expire);
		jv_bool(doc, o, "batch", "fail", 0, &m->bconf.fail);
		if (m->bconf.expire && m->bconf.fail)
			jv_error(doc, o, "batch", "\"expire\" and \"fail\" "
			    "cannot both be true");
		m->bconf.error_ids = script_strings(doc, o, "batch",
		    "error_custom_ids", &m->bconf.nerror_ids);
	}
}

static int
script_load(struct mock *m, const char *path, char **cause)
{
	static const char *const keys[] = {
		"rules", "reasoning_models", "cache_min_tokens",
		"cache_block_tokens", "ratelimit", "max_concurrency", "batch",
		"seed", NULL
	};
	struct jdoc	*doc;
	const cJSON	*rules, *r;
	char		*p;
	size_t		 i = 0;

	if ((doc = jsonc_load(path, MOCK_BODY_MAX, cause)) == NULL)
		return -1;
	if (!cJSON_IsObject(doc->root))
		jv_error(doc, doc->root, NULL, "expected an object with "
		    "\"rules\"");
	else {
		jv_keys(doc, doc->root, NULL, keys);
		script_settings(m, doc);
		rules = jv_get(doc, doc->root, NULL, "rules", JV_ARRAY, 0);
		if (rules != NULL) {
			m->rules = xcalloc((size_t)cJSON_GetArraySize(rules) +
			    1, sizeof *m->rules);
			cJSON_ArrayForEach(r, rules) {
				p = jv_path_index("rules", i++);
				rule_load(doc, r, p, &m->rules[m->nrules++]);
				free(p);
			}
		}
	}
	if (doc->nerrors != 0) {
		jv_fail(doc, cause);
		jsonc_free(doc);
		return -1;
	}
	jsonc_free(doc);
	return 0;
}

/*
 * The first rule that matches a request.  Calls of the batch APIs
 * (own_path) see only the rules that name their path: an upload's body
 * holds the requests, which the rules without a path are for.
 */
static struct rule *
rule_find(struct mock *m, const char *path, const char *body, size_t blen,
    int own_path)
{
	struct rule	*r;
	size_t		 i;

	for (i = 0; i < m->nrules; i++) {
		r = &m->rules[i];
		if (r->times != 0 && r->used >= r->times)
			continue;
		if (own_path && r->path == NULL)
			continue;
		if (r->path != NULL && strcmp(r->path, path) != 0)
			continue;
		if (r->match != NULL && (blen == 0 ||
		    memmem(body, blen, r->match, strlen(r->match)) == NULL))
			continue;
		r->used++;
		return r;
	}
	return NULL;
}

/* The world: a job's simulated target backend. */
static int
world_load(struct mock *m, const char *path, char **cause)
{
	struct backend	 *b;
	const char	**inputs;
	size_t		  n, i;

	if ((m->job = job_load(path, NULL, cause)) == NULL)
		return -1;
	b = m->job->task.roles[ROLE_TARGET];
	for (i = 0; b == NULL && i < m->job->nown; i++)
		if (strcmp(m->job->own[i]->ops->name, "sim") == 0)
			b = m->job->own[i];
	if (b == NULL)
		return cause_set(cause, "job '%s': no target backend and no "
		    "backend of type sim", m->job->task.name);
	m->world = b;
	if (b->ops->observe != NULL) {
		n = template_nfields(m->job->task.tmpl);
		inputs = xcalloc(n + 1, sizeof *inputs);
		for (i = 0; i < n; i++)
			inputs[i] = template_field(m->job->task.tmpl, i);
		b->ops->observe(b, m->job->task.dataset, inputs, n,
		    m->job->task.target);
		free(inputs);
	}
	return 0;
}

/* Which provider a path belongs to, and whether it is chat or embed. */
static enum api
route_find(const char *path, enum req_kind *kind)
{
	size_t	n = strlen(path);

	*kind = REQ_CHAT;
	if (strcmp(path, "/api/chat") == 0)
		return API_OLLAMA;
	if (strcmp(path, "/api/embed") == 0) {
		*kind = REQ_EMBED;
		return API_OLLAMA;
	}
	if (strncmp(path, "/api/", 5) == 0)
		return API_NONE;
	if (n >= 12 && strcmp(path + n - 12, "/v1/messages") == 0)
		return API_ANTHROPIC;
	if (n >= 17 && strcmp(path + n - 17, "/chat/completions") == 0)
		return API_OPENAI;
	if (n >= 11 && strcmp(path + n - 11, "/embeddings") == 0) {
		*kind = REQ_EMBED;
		return API_OPENAI;
	}
	return API_NONE;
}

/* Text of a message content: a string, or the text parts of an array. */
static int
wire_text(const cJSON *v, struct strbuf *sb)
{
	const cJSON	*part, *t, *txt;

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v)) {
		strbuf_adds(sb, v->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return -1;
	cJSON_ArrayForEach(part, v) {
		if (!cJSON_IsObject(part))
			return -1;
		t = cJSON_GetObjectItemCaseSensitive(part, "type");
		if (!cJSON_IsString(t))
			return -1;
		if (strcmp(t->valuestring, "text") != 0)
			continue;
		txt = cJSON_GetObjectItemCaseSensitive(part, "text");
		if (!cJSON_IsString(txt))
			return -1;
		strbuf_adds(sb, txt->valuestring);
	}
	return 0;
}

static void
wire_release(struct wire *w)
{
	size_t	i;

	model_req_release(&w->req);
	for (i = 0; i < w->ninputs; i++)
		free(w->inputs[i]);
	free(w->inputs);
	w->inputs = NULL;
	w->ninputs = 0;
	free(w->segs);
	w->segs = NULL;
	w->nsegs = 0;
}

/* A whole number member in [min, max]; 0 absent, 1 read, -1 bad. */
static int
wire_int(const cJSON *o, const char *key, long long min, long long max,
    long long *out, char **why)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < (double)min || v->valuedouble > (double)max) {
		cause_set(why, "'%s' must be an integer from %lld to %lld",
		    key, min, max);
		return -1;
	}
	*out = (long long)v->valuedouble;
	return 1;
}

static int
wire_temperature(const cJSON *o, double max, struct model_req *req,
    char **why)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, "temperature");

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max)
		return cause_set(why, "'temperature' must be a number from 0 "
		    "to %g", max);
	req->temperature = v->valuedouble;
	return 0;
}

static void
wire_seg_add(struct wire *w, const char *text, char role, int mark)
{
	struct seg	*s;

	w->segs = xreallocarray(w->segs, w->nsegs + 1, sizeof *w->segs);
	s = &w->segs[w->nsegs++];
	s->text = text;
	s->len = strlen(text);
	s->role = role;
	s->mark = mark;
	if (mark != 0)
		w->nmarks++;
}

/* Whether OpenAI treats a model as a reasoning model. */
static int
reasoning_model(const struct mock *m, const char *model)
{
	static const char *const families[] = {
		"o1", "o3", "o4", "gpt-5", NULL
	};
	const char	*const *f;
	size_t		 i, n;

	for (f = families; *f != NULL; f++)
		if (strncmp(model, *f, strlen(*f)) == 0)
			return 1;
	for (i = 0; i < m->nreasoning; i++) {
		n = strlen(m->reasoning[i]);
		if (m->reasoning[i][n - 1] == '*' ?
		    strncmp(model, m->reasoning[i], n - 1) == 0 :
		    strcmp(model, m->reasoning[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * OpenAI's token limits, temperature and reasoning_effort.  Reasoning
 * models refuse max_tokens, top_p and any temperature but 1, and take
 * reasoning_effort; other models refuse reasoning_effort.  A refusal
 * carries OpenAI's message, param and code.
 */
static int
wire_openai_params(const cJSON *j, struct wire *w, char **why)
{
	static const char *const unsupported[] = { "max_tokens", "top_p" };
	const cJSON	*v;
	long long	 mt = 0, mc = 0;
	size_t		 i;
	char		*text;
	int		 rc;

	if (w->reasoning) {
		for (i = 0; i < nitems(unsupported); i++) {
			v = cJSON_GetObjectItemCaseSensitive(j, unsupported[i]);
			if (v == NULL || cJSON_IsNull(v))
				continue;
			w->err_param = unsupported[i];
			w->err_code = "unsupported_parameter";
			w->err_real = 1;
			return cause_set(why, "Unsupported parameter: '%s' is "
			    "not supported with this model.%s", unsupported[i],
			    i == 0 ? " Use 'max_completion_tokens' instead." :
			    "");
		}
		v = cJSON_GetObjectItemCaseSensitive(j, "temperature");
		if (v != NULL && !cJSON_IsNull(v) && (!cJSON_IsNumber(v) ||
		    v->valuedouble != 1)) {
			w->err_param = "temperature";
			w->err_code = "unsupported_value";
			w->err_real = 1;
			text = json_text(v);
			rc = cause_set(why, "Unsupported value: 'temperature' "
			    "does not support %s with this model. Only the "
			    "default (1) value is supported.", text);
			free(text);
			return rc;
		}
		if (v != NULL && cJSON_IsNumber(v))
			w->req.temperature = 1;
		w->effort = EFFORT_MEDIUM;
		v = cJSON_GetObjectItemCaseSensitive(j, "reasoning_effort");
		if (v != NULL && !cJSON_IsNull(v)) {
			for (i = 0; efforts[i] != NULL; i++)
				if (cJSON_IsString(v) &&
				    strcmp(v->valuestring, efforts[i]) == 0)
					break;
			if (efforts[i] == NULL) {
				w->err_param = "reasoning_effort";
				w->err_code = "invalid_value";
				w->err_real = 1;
				text = json_text(v);
				rc = cause_set(why, "Invalid value: '%s'. "
				    "Supported values are: 'minimal', 'low', "
				    "'medium', and 'high'.", text);
				free(text);
				return rc;
			}
			w->effort = (int)i;
		}
	} else {
		v = cJSON_GetObjectItemCaseSensitive(j, "reasoning_effort");
		if (v != NULL && !cJSON_IsNull(v)) {
			w->err_param = "reasoning_effort";
			w->err_code = "unsupported_parameter";
			w->err_real = 1;
			return cause_set(why, "Unsupported parameter: "
			    "'reasoning_effort' is not supported with this "
			    "model.");
		}
		if (wire_temperature(j, 2, &w->req, why) != 0 ||
		    wire_int(j, "max_tokens", 1, INT_MAX, &mt, why) < 0)
			return -1;
	}
	if (wire_int(j, "max_completion_tokens", 1, INT_MAX, &mc, why) < 0)
		return -1;
	w->max_completion = mc;
	w->req.max_tokens = (int)(mc > 0 ? mc : mt);
	return 0;
}

/*
 * A content block's cache_control (Anthropic): 0 none, 1 the five-minute
 * cache, 2 the one-hour cache, -1 refused.  at names the block for the
 * message ("system.0.").
 */
static int
wire_cache_control(const cJSON *blk, const char *at, char **why)
{
	const cJSON	*cc, *v;

	cc = cJSON_GetObjectItemCaseSensitive(blk, "cache_control");
	if (cc == NULL || cJSON_IsNull(cc))
		return 0;
	if (!cJSON_IsObject(cc))
		return cause_set(why, "%scache_control: Input should be a "
		    "valid dictionary", at);
	v = cJSON_GetObjectItemCaseSensitive(cc, "type");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "ephemeral") != 0)
		return cause_set(why, "%scache_control.type: Input should be "
		    "'ephemeral'", at);
	v = cJSON_GetObjectItemCaseSensitive(cc, "ttl");
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "5m") == 0)
		return 1;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "1h") == 0)
		return 2;
	return cause_set(why, "%scache_control.ttl: Input should be '5m' or "
	    "'1h'", at);
}

/*
 * The blocks of an Anthropic system prompt or message content, already
 * checked by wire_text(), as prompt segments with their cache marks.
 */
static int
wire_blocks(const cJSON *v, const char *at, char role, struct wire *w,
    char **why)
{
	const cJSON	*part, *t;
	char		*where;
	size_t		 i = 0;
	int		 mark;

	if (cJSON_IsString(v)) {
		wire_seg_add(w, v->valuestring, role, 0);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(part, v) {
		where = xasprintf("%s.%zu.", at, i++);
		mark = wire_cache_control(part, where, why);
		free(where);
		if (mark < 0)
			return -1;
		t = cJSON_GetObjectItemCaseSensitive(part, "type");
		if (strcmp(t->valuestring, "text") == 0)
			t = cJSON_GetObjectItemCaseSensitive(part, "text");
		else
			t = NULL;
		wire_seg_add(w, t != NULL ? t->valuestring : "", role, mark);
	}
	return 0;
}

/* Anthropic's prompt in order (system, then messages) for caching. */
static int
wire_anthropic_segs(const cJSON *j, struct wire *w, char **why)
{
	const cJSON	*msg, *role;
	char		*at;
	size_t		 i = 0;
	int		 rc, mark;

	if (wire_blocks(cJSON_GetObjectItemCaseSensitive(j, "system"),
	    "system", 's', w, why) != 0)
		return -1;
	cJSON_ArrayForEach(msg, cJSON_GetObjectItemCaseSensitive(j,
	    "messages")) {
		role = cJSON_GetObjectItemCaseSensitive(msg, "role");
		at = xasprintf("messages.%zu.content", i++);
		rc = wire_blocks(cJSON_GetObjectItemCaseSensitive(msg,
		    "content"), at, role->valuestring[0], w, why);
		free(at);
		if (rc != 0)
			return -1;
	}
	/* A top-level cache_control marks the last block. */
	if ((mark = wire_cache_control(j, "", why)) < 0)
		return -1;
	if (mark > 0 && w->nsegs > 0 && w->segs[w->nsegs - 1].mark == 0) {
		w->segs[w->nsegs - 1].mark = mark;
		w->nmarks++;
	}
	if (w->nmarks > MOCK_BREAKPOINTS)
		return cause_set(why, "A maximum of %d blocks with "
		    "cache_control may be provided. Found %d.",
		    MOCK_BREAKPOINTS, w->nmarks);
	return 0;
}

static int
wire_messages(const cJSON *msgs, enum api api, struct model_req *req,
    char **why)
{
	const cJSON	*msg, *role, *content;
	struct strbuf	 sb;
	enum msg_role	 r;
	const char	*name;
	size_t		 i = 0;

	strbuf_init(&sb);
	cJSON_ArrayForEach(msg, msgs) {
		if (!cJSON_IsObject(msg)) {
			strbuf_release(&sb);
			return cause_set(why, "'messages[%zu]' must be an "
			    "object", i);
		}
		role = cJSON_GetObjectItemCaseSensitive(msg, "role");
		if (!cJSON_IsString(role)) {
			strbuf_release(&sb);
			return cause_set(why, "'messages[%zu].role' is "
			    "required", i);
		}
		name = role->valuestring;
		if (strcmp(name, "user") == 0 || strcmp(name, "tool") == 0)
			r = MSG_USER;
		else if (strcmp(name, "assistant") == 0)
			r = MSG_ASSISTANT;
		else if (api != API_ANTHROPIC && (strcmp(name, "system") == 0 ||
		    (api == API_OPENAI && strcmp(name, "developer") == 0)))
			r = MSG_SYSTEM;
		else if (api == API_ANTHROPIC && strcmp(name, "system") == 0) {
			strbuf_release(&sb);
			return cause_set(why, "messages: unexpected role "
			    "\"system\": the Messages API takes a top-level "
			    "'system' parameter");
		} else {
			strbuf_release(&sb);
			return cause_set(why, "'messages[%zu].role': unknown "
			    "role '%s'", i, name);
		}
		content = cJSON_GetObjectItemCaseSensitive(msg, "content");
		strbuf_reset(&sb);
		if ((content == NULL && api == API_ANTHROPIC) ||
		    wire_text(content, &sb) != 0) {
			strbuf_release(&sb);
			return cause_set(why, "'messages[%zu].content' must be "
			    "a string or an array of content parts", i);
		}
		model_req_add(req, r, sb.buf != NULL ? sb.buf : "");
		i++;
	}
	strbuf_release(&sb);
	return 0;
}

static int
wire_inputs(const cJSON *in, struct wire *w, char **why)
{
	const cJSON	*v;

	if (cJSON_IsString(in)) {
		w->inputs = xcalloc(1, sizeof *w->inputs);
		w->inputs[w->ninputs++] = xstrdup(in->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) == 0)
		return cause_set(why, "'input' must be a string or a "
		    "non-empty array of strings");
	w->inputs = xcalloc((size_t)cJSON_GetArraySize(in), sizeof *w->inputs);
	cJSON_ArrayForEach(v, in) {
		if (!cJSON_IsString(v))
			return cause_set(why, "'input' must hold strings "
			    "(token arrays are not supported by the mock)");
		w->inputs[w->ninputs++] = xstrdup(v->valuestring);
	}
	return 0;
}

/*
 * Converts a request body into a model request, checking what the real
 * API checks.  On failure *why says what is wrong.
 */
static int
wire_parse(const struct mock *m, enum api api, enum req_kind kind,
    const cJSON *j, struct wire *w, char **why)
{
	const cJSON	*v, *opts;
	struct strbuf	 sb;
	long long	 ll;
	size_t		 i;

	memset(w, 0, sizeof *w);
	model_req_init(&w->req, kind, "target");
	if (!cJSON_IsObject(j))
		return cause_set(why, "the request body is not a JSON object");
	v = cJSON_GetObjectItemCaseSensitive(j, "model");
	if (!cJSON_IsString(v) || *v->valuestring == '\0')
		return cause_set(why, "'model' is required");
	w->model = v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(j, "stream");
	if (v != NULL && !cJSON_IsBool(v) && !cJSON_IsNull(v))
		return cause_set(why, "'stream' must be a boolean");
	if (v != NULL && cJSON_IsTrue(v))
		return cause_set(why, "'stream': streaming is not supported "
		    "by the mock");

	if (kind == REQ_EMBED) {
		if (wire_inputs(cJSON_GetObjectItemCaseSensitive(j, "input"), w,
		    why) != 0)
			return -1;
		if (api == API_OPENAI) {
			ll = 0;
			if (wire_int(j, "dimensions", 1, 4096, &ll, why) < 0)
				return -1;
			if (ll > 0)
				w->dim = (int)ll;
			v = cJSON_GetObjectItemCaseSensitive(j,
			    "encoding_format");
			if (v != NULL && (!cJSON_IsString(v) ||
			    (strcmp(v->valuestring, "float") != 0 &&
			    strcmp(v->valuestring, "base64") != 0)))
				return cause_set(why, "'encoding_format' must "
				    "be \"float\" or \"base64\"");
			w->base64 = v != NULL &&
			    strcmp(v->valuestring, "base64") == 0;
		}
		return 0;
	}

	switch (api) {
	case API_OPENAI:
		v = cJSON_GetObjectItemCaseSensitive(j, "messages");
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
			return cause_set(why, "'messages' must be a non-empty "
			    "array");
		if (wire_messages(v, api, &w->req, why) != 0)
			return -1;
		w->reasoning = reasoning_model(m, w->model);
		if (wire_openai_params(j, w, why) != 0)
			return -1;
		ll = 1;
		if (wire_int(j, "n", 1, 128, &ll, why) < 0)
			return -1;
		w->n = (int)ll;
		for (i = 0; i < w->req.nmsgs; i++)
			wire_seg_add(w, w->req.msgs[i].content,
			    msg_role_name(w->req.msgs[i].role)[0], 0);
		break;
	case API_ANTHROPIC:
		ll = 0;
		if (wire_int(j, "max_tokens", 1, INT_MAX, &ll, why) < 0)
			return -1;
		if (ll == 0)
			return cause_set(why, "max_tokens: field required");
		w->req.max_tokens = (int)ll;
		v = cJSON_GetObjectItemCaseSensitive(j, "messages");
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
			return cause_set(why, "messages: at least one message "
			    "is required");
		if ((opts = cJSON_GetObjectItemCaseSensitive(j, "system")) !=
		    NULL) {
			strbuf_init(&sb);
			if (wire_text(opts, &sb) != 0) {
				strbuf_release(&sb);
				return cause_set(why, "system: expected a "
				    "string or an array of text blocks");
			}
			if (sb.len > 0)
				model_req_add(&w->req, MSG_SYSTEM, sb.buf);
			strbuf_release(&sb);
		}
		if (wire_messages(v, api, &w->req, why) != 0 ||
		    wire_temperature(j, 1, &w->req, why) != 0)
			return -1;
		if (wire_anthropic_segs(j, w, why) != 0) {
			w->err_real = 1;
			return -1;
		}
		break;
	case API_OLLAMA:
		/* Ollama streams unless told not to; the mock never does. */
		v = cJSON_GetObjectItemCaseSensitive(j, "messages");
		if (v != NULL && !cJSON_IsArray(v))
			return cause_set(why, "messages must be an array");
		if (v != NULL && wire_messages(v, api, &w->req, why) != 0)
			return -1;
		opts = cJSON_GetObjectItemCaseSensitive(j, "options");
		if (opts != NULL && !cJSON_IsObject(opts))
			return cause_set(why, "options must be an object");
		if (opts != NULL) {
			if (wire_temperature(opts, 100, &w->req, why) != 0)
				return -1;
			ll = 0;
			if (wire_int(opts, "num_predict", -2, INT_MAX, &ll,
			    why) < 0)
				return -1;
			if (ll > 0)
				w->req.max_tokens = (int)ll;
		}
		break;
	case API_NONE:
		break;
	}
	return 0;
}

/* Bodies in each provider's format. */
static void
json_out(cJSON *o, struct strbuf *sb)
{
	char	*s;

	s = cJSON_PrintUnformatted(o);
	strbuf_adds(sb, s);
	free(s);
	cJSON_Delete(o);
}

static void
rfc3339_now(char out[64])
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 64 - n, ".%09ldZ", ts.tv_nsec);
}

static void
chat_release(struct chat *ch)
{
	size_t	i;

	for (i = 0; i < ch->n; i++)
		free(ch->texts[i]);
	free(ch->texts);
	free(ch->cut);
	ch->texts = NULL;
	ch->cut = NULL;
	ch->n = 0;
}

/* A chat answer's body: OpenAI's choices, or the first for the others. */
static void
body_chat(struct mock *m, enum api api, const char *model,
    const struct chat *ch, int empty, struct strbuf *sb)
{
	cJSON		*o, *a, *c, *msg, *u, *d;
	const char	*text = ch->texts[0];
	char		 id[64], when[64];
	long long	 pt = ch->prompt, ct = ch->completion, in;
	size_t		 i;

	o = cJSON_CreateObject();
	m->seq++;
	switch (api) {
	case API_ANTHROPIC:
		snprintf(id, sizeof id, "msg_mock%016llx", m->seq);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "type", "message");
		cJSON_AddStringToObject(o, "role", "assistant");
		cJSON_AddStringToObject(o, "model", model);
		a = cJSON_AddArrayToObject(o, "content");
		if (!empty) {
			c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "type", "text");
			cJSON_AddStringToObject(c, "text", text);
			cJSON_AddItemToArray(a, c);
		}
		cJSON_AddStringToObject(o, "stop_reason", ch->cut[0] ?
		    "max_tokens" : "end_turn");
		cJSON_AddNullToObject(o, "stop_sequence");
		/* Input tokens leave out what was written to or read from the
		 * cache. */
		in = pt - ch->cache_read - ch->cache_write;
		u = cJSON_AddObjectToObject(o, "usage");
		cJSON_AddNumberToObject(u, "input_tokens", (double)(in > 0 ?
		    in : 0));
		cJSON_AddNumberToObject(u, "cache_creation_input_tokens",
		    (double)ch->cache_write);
		cJSON_AddNumberToObject(u, "cache_read_input_tokens",
		    (double)ch->cache_read);
		d = cJSON_AddObjectToObject(u, "cache_creation");
		cJSON_AddNumberToObject(d, "ephemeral_5m_input_tokens",
		    (double)(ch->cache_1h ? 0 : ch->cache_write));
		cJSON_AddNumberToObject(d, "ephemeral_1h_input_tokens",
		    (double)(ch->cache_1h ? ch->cache_write : 0));
		cJSON_AddNumberToObject(u, "output_tokens", (double)ct);
		cJSON_AddStringToObject(u, "service_tier", ch->batched ?
		    "batch" : "standard");
		break;
	case API_OLLAMA:
		rfc3339_now(when);
		cJSON_AddStringToObject(o, "model", model);
		cJSON_AddStringToObject(o, "created_at", when);
		msg = cJSON_AddObjectToObject(o, "message");
		cJSON_AddStringToObject(msg, "role", "assistant");
		cJSON_AddStringToObject(msg, "content", empty ? "" : text);
		cJSON_AddStringToObject(o, "done_reason", ch->cut[0] ?
		    "length" : "stop");
		cJSON_AddTrueToObject(o, "done");
		cJSON_AddNumberToObject(o, "total_duration", 1000000);
		cJSON_AddNumberToObject(o, "load_duration", 100000);
		cJSON_AddNumberToObject(o, "prompt_eval_count", (double)pt);
		cJSON_AddNumberToObject(o, "prompt_eval_duration", 400000);
		cJSON_AddNumberToObject(o, "eval_count", (double)ct);
		cJSON_AddNumberToObject(o, "eval_duration", 500000);
		break;
	default:
		snprintf(id, sizeof id, "chatcmpl-mock%016llx", m->seq);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "object", "chat.completion");
		cJSON_AddNumberToObject(o, "created", (double)time(NULL));
		cJSON_AddStringToObject(o, "model", model);
		a = cJSON_AddArrayToObject(o, "choices");
		for (i = 0; i < ch->n && !empty; i++) {
			c = cJSON_CreateObject();
			cJSON_AddNumberToObject(c, "index", (double)i);
			msg = cJSON_AddObjectToObject(c, "message");
			cJSON_AddStringToObject(msg, "role", "assistant");
			cJSON_AddStringToObject(msg, "content", ch->texts[i]);
			cJSON_AddNullToObject(msg, "refusal");
			cJSON_AddNullToObject(c, "logprobs");
			cJSON_AddStringToObject(c, "finish_reason", ch->cut[i] ?
			    "length" : "stop");
			cJSON_AddItemToArray(a, c);
		}
		/* Reasoning tokens are part of completion_tokens. */
		u = cJSON_AddObjectToObject(o, "usage");
		cJSON_AddNumberToObject(u, "prompt_tokens", (double)pt);
		cJSON_AddNumberToObject(u, "completion_tokens", (double)ct);
		cJSON_AddNumberToObject(u, "total_tokens", (double)(pt + ct));
		d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
		cJSON_AddNumberToObject(d, "cached_tokens", (double)ch->cached);
		cJSON_AddNumberToObject(d, "audio_tokens", 0);
		d = cJSON_AddObjectToObject(u, "completion_tokens_details");
		cJSON_AddNumberToObject(d, "reasoning_tokens",
		    (double)ch->reasoning);
		cJSON_AddNumberToObject(d, "audio_tokens", 0);
		cJSON_AddNumberToObject(d, "accepted_prediction_tokens", 0);
		cJSON_AddNumberToObject(d, "rejected_prediction_tokens", 0);
		cJSON_AddStringToObject(o, "service_tier", "default");
		cJSON_AddStringToObject(o, "system_fingerprint", "fp_mock");
		break;
	}
	json_out(o, sb);
}

static char *
base64_floats(const float *v, size_t n)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	struct strbuf		 sb;
	unsigned char		*b;
	size_t			 len = n * 4, i;
	uint32_t		 x;

	/* Little-endian float32, as the OpenAI API sends them. */
	b = xcalloc(len + 1, 1);
	for (i = 0; i < n; i++) {
		memcpy(&x, &v[i], 4);
		b[i * 4] = x & 0xff;
		b[i * 4 + 1] = (x >> 8) & 0xff;
		b[i * 4 + 2] = (x >> 16) & 0xff;
		b[i * 4 + 3] = (x >> 24) & 0xff;
	}
	strbuf_init(&sb);
	for (i = 0; i < len; i += 3) {
		x = (uint32_t)b[i] << 16;
		if (i + 1 < len)
			x |= (uint32_t)b[i + 1] << 8;
		if (i + 2 < len)
			x |= b[i + 2];
		strbuf_addc(&sb, tab[(x >> 18) & 63]);
		strbuf_addc(&sb, tab[(x >> 12) & 63]);
		strbuf_addc(&sb, i + 1 < len ? tab[(x >> 6) & 63] : '=');
		strbuf_addc(&sb, i + 2 < len ? tab[x & 63] : '=');
	}
	free(b);
	return strbuf_detach(&sb);
}

static void
body_embed(enum api api, const char *model, float **vecs, size_t *dims,
    size_t n, long long pt, int empty, int base64, struct strbuf *sb)
{
	cJSON	*o, *a, *e, *v;
	char	*s;
	size_t	 i, k;

	o = cJSON_CreateObject();
	if (api == API_OLLAMA) {
		cJSON_AddStringToObject(o, "model", model);
		a = cJSON_AddArrayToObject(o, "embeddings");
		for (i = 0; !empty && i < n; i++) {
			v = cJSON_CreateArray();
			for (k = 0; k < dims[i]; k++)
				cJSON_AddItemToArray(v,
				    cJSON_CreateNumber((double)vecs[i][k]));
			cJSON_AddItemToArray(a, v);
		}
		cJSON_AddNumberToObject(o, "total_duration", 1000000);
		cJSON_AddNumberToObject(o, "load_duration", 100000);
		cJSON_AddNumberToObject(o, "prompt_eval_count", (double)pt);
	} else {
		cJSON_AddStringToObject(o, "object", "list");
		a = cJSON_AddArrayToObject(o, "data");
		for (i = 0; !empty && i < n; i++) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "object", "embedding");
			cJSON_AddNumberToObject(e, "index", (double)i);
			if (base64) {
				s = base64_floats(vecs[i], dims[i]);
				cJSON_AddStringToObject(e, "embedding", s);
				free(s);
			} else {
				v = cJSON_AddArrayToObject(e, "embedding");
				for (k = 0; k < dims[i]; k++)
					cJSON_AddItemToArray(v,
					    cJSON_CreateNumber(
					    (double)vecs[i][k]));
			}
			cJSON_AddItemToArray(a, e);
		}
		cJSON_AddStringToObject(o, "model", model);
		v = cJSON_AddObjectToObject(o, "usage");
		cJSON_AddNumberToObject(v, "prompt_tokens", (double)pt);
		cJSON_AddNumberToObject(v, "total_tokens", (double)pt);
	}
	json_out(o, sb);
}

/*
 * An error in the provider's format, with its headers.  type, param and
 * code (OpenAI) replace the ones the status implies when not NULL.
 */
static void
answer_error_ex(struct mock *m, struct answer *a, enum api api, int status,
    const char *msg, const char *otype, const char *param, const char *ocode)
{
	cJSON		*o, *e;
	const char	*type, *code = NULL;
	char		 id[64], *dflt = NULL;

	a->status = status;
	a->ctype = "application/json";
	strbuf_reset(&a->body);
	if (msg == NULL)
		msg = dflt = xasprintf("mock: injected %d (%s)", status,
		    http_reason(status));
	m->seq++;
	o = cJSON_CreateObject();
	switch (api) {
	case API_ANTHROPIC:
		switch (status) {
		case 401: type = "authentication_error"; break;
		case 402: type = "billing_error"; break;
		case 403: type = "permission_error"; break;
		case 404: type = "not_found_error"; break;
		case 413: type = "request_too_large"; break;
		case 429: type = "rate_limit_error"; break;
		case 503:
		case 529: type = "overloaded_error"; break;
		default:
			type = status < 500 ? "invalid_request_error" :
			    "api_error";
			break;
		}
		if (otype != NULL)
			type = otype;
		snprintf(id, sizeof id, "req_mock%016llx", m->seq);
		cJSON_AddStringToObject(o, "type", "error");
		e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "type", type);
		cJSON_AddStringToObject(e, "message", msg);
		cJSON_AddStringToObject(o, "request_id", id);
		strbuf_addf(&a->hdrs, "request-id: %s\r\n", id);
		break;
	case API_OLLAMA:
		cJSON_AddStringToObject(o, "error", msg);
		break;
	default:
		switch (status) {
		case 401:
			type = "invalid_request_error";
			code = "invalid_api_key";
			break;
		case 404:
			type = "invalid_request_error";
			code = "model_not_found";
			break;
		case 429:
			type = "requests";
			code = "rate_limit_exceeded";
			break;
		default:
			type = status < 500 ? "invalid_request_error" :
			    "server_error";
			break;
		}
		if (otype != NULL)
			type = otype;
		if (ocode != NULL)
			code = ocode;
		e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "message", msg);
		cJSON_AddStringToObject(e, "type", type);
		if (param != NULL)
			cJSON_AddStringToObject(e, "param", param);
		else
			cJSON_AddNullToObject(e, "param");
		if (code != NULL)
			cJSON_AddStringToObject(e, "code", code);
		else
			cJSON_AddNullToObject(e, "code");
		break;
	}
	json_out(o, &a->body);
	free(dflt);
}

static void
answer_error(struct mock *m, struct answer *a, enum api api, int status,
    const char *msg)
{
	answer_error_ex(m, a, api, status, msg, NULL, NULL, NULL);
}

/* A deterministic unit vector for a text. */
static float *
embed_hash(const char *text, size_t dim)
{
	struct rng	 r;
	float		*v;
	double		 sum = 0;
	size_t		 i;

	v = xcalloc(dim, sizeof *v);
	rng_seed(&r, hash64_str(text, 0x6d6f636b), 0);
	for (i = 0; i < dim; i++) {
		v[i] = (float)rng_normal(&r);
		sum += (double)v[i] * v[i];
	}
	sum = sqrt(sum);
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] / (sum > 0 ? sum : 1));
	return v;
}

/* FNV-1a over bytes, carried on from an earlier state. */
#define FNV_BASIS	0xcbf29ce484222325ULL

static uint64_t
fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The prompt cache: a set of prefix hashes (open addressing, 0 free). */
static size_t
cache_slot(const struct mock *m, uint64_t h)
{
	size_t	i = (size_t)(h & (m->cache_cap - 1));

	while (m->cache[i] != 0 && m->cache[i] != h)
		i = (i + 1) & (m->cache_cap - 1);
	return i;
}

static int
cache_has(const struct mock *m, uint64_t h)
{
	if (m->cache_cap == 0)
		return 0;
	if (h == 0)
		h = 1;
	return m->cache[cache_slot(m, h)] == h;
}

static void
cache_add(struct mock *m, uint64_t h)
{
	uint64_t	*old = m->cache;
	size_t		 oldcap = m->cache_cap, i;

	if (h == 0)
		h = 1;
	if (2 * (m->cache_n + 1) > m->cache_cap) {
		m->cache_cap = oldcap == 0 ? 1024 : oldcap * 2;
		m->cache = xcalloc(m->cache_cap, sizeof *m->cache);
		m->cache_n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i] != 0) {
				m->cache[cache_slot(m, old[i])] = old[i];
				m->cache_n++;
			}
		free(old);
	}
	i = cache_slot(m, h);
	if (m->cache[i] == 0) {
		m->cache[i] = h;
		m->cache_n++;
	}
}

static uint64_t
cache_seed(const char *provider, const char *model)
{
	uint64_t	h;

	h = fnv_add(FNV_BASIS, provider, strlen(provider) + 1);
	return fnv_add(h, model, strlen(model) + 1);
}

/* Tokens of a segment: four bytes a token, as tokens_estimate(). */
static long long
seg_tokens(const struct seg *s)
{
	return (long long)((s->len + 3) / 4);
}

/*
 * OpenAI caches every prompt of at least the minimum by itself.  The
 * cached tokens are the longest prefix seen before, counted from the
 * minimum on in blocks of 128 tokens (cache_block_tokens); every such
 * prefix of this prompt is cached in turn.
 */
static long long
cache_openai(struct mock *m, const struct wire *w)
{
	const struct seg	*s;
	uint64_t		 h;
	long long		 min, next, tok = 0, hit = 0, k;
	size_t			 i, off, end;

	min = m->cache_min > 0 ? m->cache_min : MOCK_CACHE_MIN;
	next = min;
	h = cache_seed("openai", w->model);
	for (i = 0; i < w->nsegs; i++) {
		s = &w->segs[i];
		h = fnv_add(h, &s->role, 1);
		k = seg_tokens(s);
		for (off = 0; next <= tok + k; next += m->cache_block) {
			end = (size_t)(next - tok) * 4;
			if (end > s->len)
				end = s->len;
			h = fnv_add(h, s->text + off, end - off);
			off = end;
			if (cache_has(m, h))
				hit = next;
			cache_add(m, h);
		}
		h = fnv_add(h, s->text + off, s->len - off);
		h = fnv_add(h, "", 1);
		tok += k;
	}
	return hit;
}

/* The least an Anthropic model caches. */
static long long
cache_min_anthropic(const struct mock *m, const char *model)
{
	static const struct {
		const char	*part;
		long long	 min;
	} t[] = {
		{ "opus-4-6", 4096 }, { "opus-4-5", 4096 },
		{ "haiku-4-5", 4096 }, { "sonnet-4-6", 2048 },
		{ "haiku", 2048 },
	};
	size_t	i;

	if (m->cache_min > 0)
		return m->cache_min;
	for (i = 0; i < nitems(t); i++)
		if (strstr(model, t[i].part) != NULL)
			return t[i].min;
	return MOCK_CACHE_MIN;
}

/*
 * Anthropic caches only what cache_control marks: the prompt up to and
 * including a marked block, when it is at least the model's minimum.  A
 * request reads the longest cached prefix that ends at a block boundary
 * at most 20 blocks before one of its marks, and writes its longest
 * marked prefix beyond that.
 */
static void
cache_anthropic(struct mock *m, const struct wire *w, struct chat *ch)
{
	uint64_t	*hs, h;
	long long	*toks, min, tok = 0;
	size_t		 i, k;
	ssize_t		 best = -1, last = -1;

	if (w->nmarks == 0)
		return;
	min = cache_min_anthropic(m, w->model);
	hs = xcalloc(w->nsegs, sizeof *hs);
	toks = xcalloc(w->nsegs, sizeof *toks);
	h = cache_seed("anthropic", w->model);
	for (i = 0; i < w->nsegs; i++) {
		h = fnv_add(h, &w->segs[i].role, 1);
		h = fnv_add(h, w->segs[i].text, w->segs[i].len);
		h = fnv_add(h, "", 1);
		tok += seg_tokens(&w->segs[i]);
		hs[i] = h;
		toks[i] = tok;
	}
	for (i = 0; i < w->nsegs; i++) {
		if (w->segs[i].mark == 0)
			continue;
		for (k = i + 1; k > 0 && k + MOCK_LOOKBACK > i + 1; k--)
			if (cache_has(m, hs[k - 1])) {
				if ((ssize_t)k - 1 > best)
					best = (ssize_t)k - 1;
				break;
			}
	}
	for (i = 0; i < w->nsegs; i++)
		if (w->segs[i].mark != 0 && toks[i] >= min) {
			cache_add(m, hs[i]);
			last = (ssize_t)i;
		}
	if (best >= 0)
		ch->cache_read = toks[best];
	if (last > best) {
		ch->cache_write = toks[last] - ch->cache_read;
		ch->cache_1h = w->segs[last].mark == 2;
	}
	free(hs);
	free(toks);
}

/*
 * A reasoning model's hidden tokens for one choice: drawn from a hash of
 * the request, 64 to 512 at low effort, twice that at medium, four times
 * at high, none at minimal.
 */
static long long
reasoning_tokens(const struct wire *w, size_t choice)
{
	static const int	 mult[] = { 0, 1, 2, 4 };
	uint64_t		 h;
	size_t			 i;

	h = hash64_str(w->model, 0x7265617373);
	for (i = 0; i < w->req.nmsgs; i++)
		h = hash_mix(h, hash64_str(w->req.msgs[i].content,
		    (uint64_t)w->req.msgs[i].role));
	h = hash_mix(h, (uint64_t)choice);
	return 64LL * (long long)(1 + h % 8) * mult[w->effort];
}

/*
 * A chat answer: as many choices as OpenAI's "n" asks (at most a rule's
 * max_choices), each a sample of its own from the world (sample index i,
 * which matters above temperature 0), or the rule's reply, or an echo of
 * the last user message ("mock: ...", then "mock #i: ...").  A reasoning
 * model adds its hidden tokens; when they take all of
 * max_completion_tokens the choice is empty and cut.  ch->texts is NULL
 * (with *cause) when the world failed.
 */
static void
answer_chat(struct mock *m, struct wire *w, const struct rule *r,
    struct chat *ch, char **cause)
{
	struct model_resp	 resp;
	size_t			 n = w->n > 1 ? (size_t)w->n : 1, i, k;
	long long		 vis, rt;

	if (r != NULL && r->max_choices > 0 && n > (size_t)r->max_choices)
		n = (size_t)r->max_choices;
	ch->texts = xcalloc(n, sizeof *ch->texts);
	ch->cut = xcalloc(n, sizeof *ch->cut);
	ch->n = n;
	for (i = 0; i < n; i++) {
		vis = 0;
		if (r != NULL && r->reply != NULL)
			ch->texts[i] = xstrdup(r->reply);
		else if (m->world != NULL) {
			memset(&resp, 0, sizeof resp);
			w->req.sample = (unsigned)i;
			if (m->world->ops->call == NULL)
				cause_set(cause, "the %s backend cannot "
				    "answer calls", m->world->ops->name);
			if (*cause != NULL || m->world->ops->call(m->world,
			    &w->req, &resp, cause) != 0 || resp.text == NULL) {
				if (*cause == NULL)
					*cause = xstrdup("no text in the "
					    "answer");
				model_resp_release(&resp);
				chat_release(ch);
				return;
			}
			ch->texts[i] = resp.text;
			resp.text = NULL;
			ch->cut[i] = resp.finish != NULL &&
			    strcmp(resp.finish, "length") == 0;
			if (i == 0)
				ch->prompt = resp.prompt_tokens;
			vis = resp.completion_tokens;
			model_resp_release(&resp);
		} else {
			for (k = w->req.nmsgs; k > 0; k--)
				if (w->req.msgs[k - 1].role == MSG_USER)
					break;
			/* Choices past the first say which they are. */
			ch->texts[i] = i == 0 ? xasprintf("mock: %s", k > 0 ?
			    w->req.msgs[k - 1].content : "") :
			    xasprintf("mock #%zu: %s", i, k > 0 ?
			    w->req.msgs[k - 1].content : "");
		}
		/* Estimated usage: the prompt once, every choice. */
		if (m->world == NULL || (r != NULL && r->reply != NULL)) {
			if (i == 0)
				for (k = 0; k < w->req.nmsgs; k++)
					ch->prompt += tokens_estimate(
					    w->req.msgs[k].content);
			vis = tokens_estimate(ch->texts[i]);
		}
		rt = w->reasoning ? reasoning_tokens(w, i) : 0;
		if (w->reasoning && w->max_completion > 0 &&
		    rt >= w->max_completion) {
			/* The reasoning took every token allowed. */
			rt = w->max_completion;
			vis = 0;
			free(ch->texts[i]);
			ch->texts[i] = xstrdup("");
			ch->cut[i] = 1;
		}
		ch->completion += vis + rt;
		ch->reasoning += rt;
	}
}

static void
answer_success(struct mock *m, struct answer *a, enum api api,
    enum req_kind kind, const char *model, struct wire *w,
    const struct rule *r, int empty, int batched)
{
	struct model_req	 er;
	struct model_resp	 resp;
	struct chat		 ch;
	char			*cause = NULL, *owned;
	float			**vecs;
	size_t			*dims, i;
	long long		 pt = 0;
	int			 failed = 0;

	a->status = 200;
	a->ctype = "application/json";
	memset(&ch, 0, sizeof ch);
	ch.batched = batched;
	if (kind == REQ_EMBED) {
		vecs = xcalloc(w->ninputs, sizeof *vecs);
		dims = xcalloc(w->ninputs, sizeof *dims);
		for (i = 0; i < w->ninputs && !failed; i++) {
			if ((r == NULL || r->reply == NULL) &&
			    m->world != NULL) {
				memset(&resp, 0, sizeof resp);
				model_req_init(&er, REQ_EMBED, "embedder");
				er.input = xstrdup(w->inputs[i]);
				if (m->world->ops->call == NULL)
					cause_set(&cause, "the %s backend "
					    "cannot answer calls",
					    m->world->ops->name);
				if (cause != NULL || m->world->ops->call(
				    m->world, &er, &resp, &cause) != 0 ||
				    resp.vec == NULL || resp.dim == 0) {
					failed = 1;
					if (cause == NULL)
						cause = xstrdup("no vector in "
						    "the answer");
				} else {
					vecs[i] = resp.vec;
					dims[i] = resp.dim;
					resp.vec = NULL;
					pt += resp.prompt_tokens;
				}
				model_req_release(&er);
				model_resp_release(&resp);
			} else {
				dims[i] = w->dim > 0 ? (size_t)w->dim :
				    MOCK_EMBED_DIM;
				vecs[i] = embed_hash(r != NULL &&
				    r->reply != NULL ? r->reply : w->inputs[i],
				    dims[i]);
				pt += tokens_estimate(w->inputs[i]);
			}
		}
		if (!failed)
			body_embed(api, model, vecs, dims, w->ninputs, pt,
			    empty, w->base64, &a->body);
		for (i = 0; i < w->ninputs; i++)
			free(vecs[i]);
		free(vecs);
		free(dims);
	} else {
		answer_chat(m, w, r, &ch, &cause);
		failed = ch.texts == NULL;
	}
	if (kind == REQ_CHAT && !failed) {
		if (api == API_OPENAI) {
			ch.cached = cache_openai(m, w);
			if (ch.cached > ch.prompt)
				ch.cached = ch.prompt;
		} else if (api == API_ANTHROPIC)
			cache_anthropic(m, w, &ch);
		m->cached_tokens += ch.cached;
		m->cache_read += ch.cache_read;
		m->cache_write += ch.cache_write;
		m->reasoning_tokens += ch.reasoning;
		body_chat(m, api, model, &ch, empty, &a->body);
	}
	if (failed) {
		owned = xasprintf("mock: backend '%s': %s", m->world->name,
		    cause);
		answer_error(m, a, api, 500, owned);
		free(owned);
	}
	chat_release(&ch);
	free(cause);
}

static void
answer_init(struct answer *a)
{
	memset(a, 0, sizeof *a);
	strbuf_init(&a->hdrs);
	strbuf_init(&a->body);
}

static void
answer_release(struct answer *a)
{
	strbuf_release(&a->hdrs);
	strbuf_release(&a->body);
	free(a->tail);
}

/* A rule's raw answer: its status, body and Content-Type. */
static void
answer_raw(struct mock *m, struct answer *a, enum api api,
    const struct rule *r)
{
	a->status = r->status;
	a->ctype = r->has_ctype ? NULL : "application/json";
	if (r->body != NULL)
		strbuf_adds(&a->body, r->body);
	else if (r->status >= 400)
		answer_error(m, a, api, r->status, NULL);
}

/*
 * The answer to a model request, interactive or batched (j is its body,
 * NULL when that is not JSON): a rule's raw answer, the provider's 400
 * for a request it refuses, or a success.
 */
static void
answer_model(struct mock *m, struct answer *a, enum api api,
    enum req_kind kind, const cJSON *j, const struct rule *r, int empty,
    int batched)
{
	struct wire	 w;
	char		*why = NULL, *msg;

	if (r != NULL && r->status != 0) {
		answer_raw(m, a, api, r);
		return;
	}
	if (j == NULL) {
		answer_error(m, a, api, 400, "mock: the request body is not "
		    "valid JSON");
		return;
	}
	if (wire_parse(m, api, kind, j, &w, &why) != 0) {
		/* The providers' own refusals keep their own words. */
		msg = w.err_real ? xstrdup(why) : xasprintf("mock: %s", why);
		answer_error_ex(m, a, api, 400, msg, NULL, w.err_param,
		    w.err_code);
		free(msg);
	} else
		answer_success(m, a, api, kind, w.model, &w, r, empty,
		    batched);
	wire_release(&w);
	free(why);
}

/* Turns an answer into the bytes the connection will send. */
static void
conn_prepare(struct conn *c, struct answer *a)
{
	char	date[64];
	size_t	total, n;

	total = a->body.len + a->pad + (a->tail != NULL ? strlen(a->tail) : 0);
	if (a->truncate)
		c->close_after = 1;
	http_date(time(NULL), date);
	strbuf_reset(&c->resp);
	strbuf_addf(&c->resp, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: mockllm"
	    "\r\n", a->status, http_reason(a->status), date);
	if (a->ctype != NULL)
		strbuf_addf(&c->resp, "Content-Type: %s\r\n", a->ctype);
	strbuf_addf(&c->resp, "Content-Length: %zu\r\nConnection: %s\r\n",
	    total, c->close_after ? "close" : "keep-alive");
	if (a->hdrs.len > 0)
		strbuf_add(&c->resp, a->hdrs.buf, a->hdrs.len);
	strbuf_adds(&c->resp, "\r\n");
	n = a->truncate ? a->body.len / 2 : a->body.len;
	if (n > 0)
		strbuf_add(&c->resp, a->body.buf, n);
	if (a->pad > 0) {
		c->pad_left = a->pad;
		c->pad_tail = a->tail;
		a->tail = NULL;
	} else if (a->tail != NULL)
		strbuf_adds(&c->resp, a->tail);
}

/* The wall clock in milliseconds. */
static int64_t
mock_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 in UTC, with microseconds (frac) or whole seconds. */
static void
rfc3339_at(int64_t ms, int frac, char out[64])
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	size_t		n;

	gmtime_r(&t, &tm);
	n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out + n, 64 - n, ".%03d000Z", (int)(ms % 1000));
	else
		snprintf(out + n, 64 - n, "Z");
}

/* A duration as OpenAI writes one (Go's): "120ms", "1s", "6m0s", "1.5s". */
static void
go_duration(long long ms, char out[32])
{
	long long	h, mi, sec, frac;
	int		n = 0;

	if (ms <= 0) {
		snprintf(out, 32, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(out, 32, "%lldms", ms);
		return;
	}
	h = ms / 3600000;
	mi = ms / 60000 % 60;
	sec = ms / 1000 % 60;
	frac = ms % 1000;
	if (h > 0)
		n += snprintf(out + n, 32 - n, "%lldh", h);
	if (h > 0 || mi > 0)
		n += snprintf(out + n, 32 - n, "%lldm", mi);
	n += snprintf(out + n, 32 - n, "%lld", sec);
	if (frac > 0) {
		n += snprintf(out + n, 32 - n, ".%03lld", frac);
		while (out[n - 1] == '0')
			n--;
	}
	snprintf(out + n, 32 - n, "s");
}

/* A count with thousands separators, as Anthropic's messages write it. */
static void
commas(long long v, char out[32])
{
	char	tmp[32];
	size_t	n, i, k = 0;

	snprintf(tmp, sizeof tmp, "%lld", v);
	n = strlen(tmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = tmp[i];
	}
	out[k] = '\0';
}

/*
 * Rate limits.  A window starts with the first request after the last
 * one ended; within it, requests and tokens count down.  A request costs
 * its body at four bytes a token plus the most tokens it asks for, as
 * OpenAI estimates before answering.
 */
enum throttle {
	T_NONE,
	T_REQUESTS,
	T_TOKENS,
	T_TOO_LARGE,	/* more than the whole window allows */
};

static long long
ratelimit_cost(const cJSON *j, size_t blen)
{
	static const char *const keys[] = {
		"max_tokens", "max_completion_tokens"
	};
	const cJSON	*v;
	long long	 most = 0;
	size_t		 i;

	for (i = 0; i < nitems(keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		if (cJSON_IsNumber(v) && v->valuedouble > (double)most &&
		    v->valuedouble < 1e12)
			most = (long long)v->valuedouble;
	}
	return (long long)((blen + 3) / 4) + most;
}

static enum throttle
ratelimit_take(struct ratelimit *rl, long long cost, int64_t now)
{
	if (!rl->started || now >= rl->start_ms + rl->window_ms) {
		rl->started = 1;
		rl->start_ms = now;
		rl->used_requests = rl->used_tokens = 0;
	}
	if (rl->requests > 0 && rl->used_requests >= rl->requests)
		return T_REQUESTS;
	if (rl->tokens > 0 && cost > rl->tokens)
		return T_TOO_LARGE;
	if (rl->tokens > 0 && rl->used_tokens + cost > rl->tokens)
		return T_TOKENS;
	rl->used_requests++;
	rl->used_tokens += cost;
	return T_NONE;
}

/* Milliseconds left in the current window. */
static long long
ratelimit_left(const struct ratelimit *rl, int64_t now)
{
	long long	left = rl->start_ms + rl->window_ms - now;

	return left > 0 ? left : 0;
}

/* The headers that say what is left, in the provider's names. */
static void
ratelimit_headers(const struct ratelimit *rl, enum api api, int64_t now,
    struct strbuf *h)
{
	static const char *const what[] = { "requests", "tokens" };
	long long	 limit[2], used[2], left = ratelimit_left(rl, now);
	char		 when[64];
	size_t		 i;

	limit[0] = rl->requests;
	limit[1] = rl->tokens;
	used[0] = rl->used_requests;
	used[1] = rl->used_tokens;
	if (api == API_ANTHROPIC) {
		/* The moment of the reset, to the next whole second. */
		rfc3339_at((mock_wall_ms() + left + 999) / 1000 * 1000, 0,
		    when);
	} else
		go_duration(left, when);
	for (i = 0; i < 2; i++) {
		if (limit[i] == 0)
			continue;
		if (api == API_ANTHROPIC)
			strbuf_addf(h, "anthropic-ratelimit-%s-limit: %lld\r\n"
			    "anthropic-ratelimit-%s-remaining: %lld\r\n"
			    "anthropic-ratelimit-%s-reset: %s\r\n", what[i],
			    limit[i], what[i], limit[i] - used[i], what[i],
			    when);
		else
			strbuf_addf(h, "x-ratelimit-limit-%s: %lld\r\n"
			    "x-ratelimit-remaining-%s: %lld\r\n"
			    "x-ratelimit-reset-%s: %s\r\n", what[i], limit[i],
			    what[i], limit[i] - used[i], what[i], when);
	}
}

/* The 429 of a request beyond the limits, in the provider's words. */
static void
ratelimit_refuse(struct mock *m, struct answer *a, enum api api,
    enum throttle t, const char *model, long long cost, int64_t now)
{
	const struct ratelimit	*rl = &m->rl;
	long long		 left = ratelimit_left(rl, now);
	char			 d[32], n[32], *msg;

	if (model == NULL)
		model = "the model";
	go_duration(left, d);
	if (api == API_ANTHROPIC) {
		commas(t == T_REQUESTS ? rl->requests : rl->tokens, n);
		msg = xasprintf("This request would exceed the rate limit for "
		    "your organization of %s %s per minute. For details, refer "
		    "to: https://docs.claude.com/en/api/rate-limits. You can "
		    "see the response headers for current usage. Please reduce "
		    "the prompt length or the maximum tokens requested, or try "
		    "again later. You may also contact sales at "
		    "https://www.anthropic.com/contact-sales to discuss your "
		    "options for a rate limit increase.", n,
		    t == T_REQUESTS ? "requests" : "tokens");
		answer_error(m, a, api, 429, msg);
	} else {
		if (t == T_REQUESTS)
			msg = xasprintf("Rate limit reached for %s in "
			    "organization org-mock on requests per min (RPM): "
			    "Limit %lld, Used %lld, Requested 1. Please try "
			    "again in %s. Visit https://platform.openai.com/"
			    "account/rate-limits to learn more.", model,
			    rl->requests, rl->used_requests, d);
		else if (t == T_TOKENS)
			msg = xasprintf("Rate limit reached for %s in "
			    "organization org-mock on tokens per min (TPM): "
			    "Limit %lld, Used %lld, Requested %lld. Please try "
			    "again in %s. Visit https://platform.openai.com/"
			    "account/rate-limits to learn more.", model,
			    rl->tokens, rl->used_tokens, cost, d);
		else
			msg = xasprintf("Request too large for %s in "
			    "organization org-mock on tokens per min (TPM): "
			    "Limit %lld, Requested %lld. The input or output "
			    "tokens must be reduced in order to run "
			    "successfully. Visit https://platform.openai.com/"
			    "account/rate-limits to learn more.", model,
			    rl->tokens, cost);
		answer_error_ex(m, a, api, 429, msg, t == T_REQUESTS ?
		    "requests" : "tokens", NULL, "rate_limit_exceeded");
	}
	free(msg);
	/* Waiting does not help a request larger than the window. */
	if (t != T_TOO_LARGE)
		strbuf_addf(&a->hdrs, "retry-after: %lld\r\n",
		    (left + 999) / 1000);
}

/* The 429 of a request beyond the hidden concurrency limit. */
static void
concurrency_refuse(struct mock *m, struct answer *a, enum api api)
{
	if (api == API_ANTHROPIC)
		answer_error(m, a, api, 429, "Number of concurrent "
		    "connections has exceeded your rate limit. Please try "
		    "again later or contact sales at https://www.anthropic.com"
		    "/contact-sales to discuss your options for a rate limit "
		    "increase.");
	else
		answer_error_ex(m, a, api, 429, "mock: too many requests in "
		    "flight; please slow down", "requests", NULL,
		    "rate_limit_exceeded");
}

/*
 * The batch APIs: OpenAI's Files and Batches, Anthropic's Message
 * Batches.  Every request of a batch is answered when the batch is
 * created, by the same logic as an interactive one; the batch then runs
 * on a fast clock (the script's batch.delay_ms) and shows its results as
 * their time comes.
 */
enum bop {
	BOP_NONE,
	BOP_FILES,		/* POST /v1/files */
	BOP_FILE,		/* GET or DELETE /v1/files/ID */
	BOP_FILE_CONTENT,	/* GET /v1/files/ID/content */
	BOP_BATCHES,		/* GET (list) or POST /v1/batches */
	BOP_BATCH,		/* GET /v1/batches/ID */
	BOP_BATCH_CANCEL,	/* POST /v1/batches/ID/cancel */
	BOP_MBATCHES,		/* POST /v1/messages/batches */
	BOP_MBATCH,		/* GET /v1/messages/batches/ID */
	BOP_MBATCH_RESULTS,	/* GET /v1/messages/batches/ID/results */
	BOP_MBATCH_CANCEL,	/* POST /v1/messages/batches/ID/cancel */
};

/* Indexed by enum bop: the methods allowed and the path for the stats. */
static const struct {
	const char	*methods;
	const char	*tmpl;
} bop_info[] = {
	{ NULL, NULL },
	{ "POST", "/v1/files" },
	{ "GET, DELETE", "/v1/files/{id}" },
	{ "GET", "/v1/files/{id}/content" },
	{ "GET, POST", "/v1/batches" },
	{ "GET", "/v1/batches/{id}" },
	{ "POST", "/v1/batches/{id}/cancel" },
	{ "POST", "/v1/messages/batches" },
	{ "GET", "/v1/messages/batches/{id}" },
	{ "GET", "/v1/messages/batches/{id}/results" },
	{ "POST", "/v1/messages/batches/{id}/cancel" },
};

/*
 * Which batch API call a path is.  *id is the object's id (the caller's
 * to free) and *prefix the length of what comes before "/v1", as a base
 * URL with a path of its own puts there.
 */
static enum bop
bop_find(const char *path, char **id, size_t *prefix)
{
	static const struct {
		const char	*root;
		enum bop	 coll;
		enum bop	 item;
		enum bop	 cancel;
		enum bop	 sub;
		const char	*subname;
	} roots[] = {
		{ "/v1/messages/batches", BOP_MBATCHES, BOP_MBATCH,
		    BOP_MBATCH_CANCEL, BOP_MBATCH_RESULTS, "/results" },
		{ "/v1/batches", BOP_BATCHES, BOP_BATCH, BOP_BATCH_CANCEL,
		    BOP_NONE, NULL },
		{ "/v1/files", BOP_FILES, BOP_FILE, BOP_NONE, BOP_FILE_CONTENT,
		    "/content" },
	};
	const char	*p, *rest, *tail;
	enum bop	 op;
	size_t		 i, n;

	*id = NULL;
	for (i = 0; i < nitems(roots); i++) {
		if ((p = strstr(path, roots[i].root)) == NULL)
			continue;
		*prefix = (size_t)(p - path);
		rest = p + strlen(roots[i].root);
		if (*rest == '\0')
			return roots[i].coll;
		if (*rest != '/' || (n = strcspn(rest + 1, "/")) == 0)
			return BOP_NONE;
		tail = rest + 1 + n;
		if (*tail == '\0')
			op = roots[i].item;
		else if (strcmp(tail, "/cancel") == 0)
			op = roots[i].cancel;
		else if (roots[i].subname != NULL &&
		    strcmp(tail, roots[i].subname) == 0)
			op = roots[i].sub;
		else
			op = BOP_NONE;
		if (op != BOP_NONE)
			*id = xstrndup(rest + 1, n);
		return op;
	}
	return BOP_NONE;
}

/* A set of strings, to find duplicate custom_ids. */
struct strset {
	const char	**slot;
	size_t		  cap;
};

static void
strset_init(struct strset *ss, size_t n)
{
	ss->cap = 16;
	while (ss->cap < 2 * n)
		ss->cap *= 2;
	ss->slot = xcalloc(ss->cap, sizeof *ss->slot);
}

/* Adds s (borrowed); 1 if it was there already. */
static int
strset_add(struct strset *ss, const char *s)
{
	size_t	i = (size_t)hash64_str(s, 0) & (ss->cap - 1);

	while (ss->slot[i] != NULL) {
		if (strcmp(ss->slot[i], s) == 0)
			return 1;
		i = (i + 1) & (ss->cap - 1);
	}
	ss->slot[i] = s;
	return 0;
}

static struct mfile *
file_find(struct mock *m, const char *id, size_t *at)
{
	size_t	i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i]->id, id) == 0) {
			if (at != NULL)
				*at = i;
			return m->files[i];
		}
	return NULL;
}

static struct mfile *
file_add(struct mock *m, const char *filename, const char *purpose,
    const char *data, size_t len)
{
	struct mfile	*f;

	f = xcalloc(1, sizeof *f);
	m->seq++;
	f->id = xasprintf("file-mock%016llx", m->seq);
	f->filename = xstrdup(filename);
	f->purpose = xstrdup(purpose);
	f->data = xmalloc(len + 1);
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
	f->created = time(NULL);
	m->files = xreallocarray(m->files, m->nfiles + 1, sizeof *m->files);
	m->files[m->nfiles++] = f;
	return f;
}

static void
file_free(struct mfile *f)
{
	if (f == NULL)
		return;
	free(f->id);
	free(f->filename);
	free(f->purpose);
	free(f->data);
	free(f);
}

/* OpenAI's file object. */
static void
file_json(const struct mfile *f, struct strbuf *sb)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "object", "file");
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "purpose", f->purpose);
	cJSON_AddStringToObject(o, "filename", f->filename);
	cJSON_AddNumberToObject(o, "bytes", (double)f->len);
	cJSON_AddNumberToObject(o, "created_at", (double)f->created);
	/* Batch files are kept 30 days. */
	if (strncmp(f->purpose, "batch", 5) == 0)
		cJSON_AddNumberToObject(o, "expires_at",
		    (double)(f->created + 30 * MOCK_DAY));
	else
		cJSON_AddNullToObject(o, "expires_at");
	cJSON_AddStringToObject(o, "status", "processed");
	cJSON_AddNullToObject(o, "status_details");
	json_out(o, sb);
}

/* One part of a multipart/form-data body. */
struct part {
	char		*name;
	char		*filename;	/* NULL for a plain field */
	const char	*data;		/* borrowed from the body */
	size_t		 len;
};

/* A parameter of a header value ("name" in form-data; name="x"). */
static char *
header_param(const char *value, const char *param)
{
	const char	*p = value, *v;
	size_t		 n = strlen(param), k;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, param, n) != 0 || p[n] != '=')
			continue;
		v = p + n + 1;
		if (*v == '"') {
			k = strcspn(v + 1, "\"");
			return xstrndup(v + 1, k);
		}
		return xstrndup(v, strcspn(v, "; \t"));
	}
	return NULL;
}

/*
 * Splits a multipart/form-data body (RFC 7578) into at most max parts.
 * Returns how many there are, or -1 with *why.
 */
static int
multipart_parse(const char *ctype, const char *body, size_t blen,
    struct part *parts, int max, char **why)
{
	const char	*p, *end = body + blen, *hend, *next, *line, *eol;
	char		*boundary, *delim, *head, *v;
	size_t		 dl;
	int		 n = 0;

	if ((boundary = header_param(ctype, "boundary")) == NULL ||
	    *boundary == '\0') {
		free(boundary);
		return cause_set(why, "no boundary in the Content-Type");
	}
	delim = xasprintf("\r\n--%s", boundary);
	free(boundary);
	dl = strlen(delim);
	/* The first delimiter may open the body, without its CRLF. */
	if (blen >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else if ((p = memmem(body, blen, delim, dl)) != NULL)
		p += dl;
	else {
		free(delim);
		return cause_set(why, "the boundary is not in the body");
	}
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n' ||
		    (hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) ==
		    NULL) {
			free(delim);
			return cause_set(why, "a part has no headers");
		}
		if ((next = memmem(hend + 4, (size_t)(end - hend - 4), delim,
		    dl)) == NULL) {
			free(delim);
			return cause_set(why, "a part is not closed");
		}
		if (n == max) {
			free(delim);
			return cause_set(why, "more than %d parts", max);
		}
		memset(&parts[n], 0, sizeof parts[n]);
		head = xstrndup(p + 2, (size_t)(hend - p));
		for (line = head; *line != '\0'; line = eol) {
			eol = line + strcspn(line, "\r\n");
			if (strncasecmp(line, "content-disposition:",
			    20) == 0) {
				v = xstrndup(line, (size_t)(eol - line));
				free(parts[n].name);
				free(parts[n].filename);
				parts[n].name = header_param(v, "name");
				parts[n].filename = header_param(v, "filename");
				free(v);
			}
			while (*eol == '\r' || *eol == '\n')
				eol++;
		}
		free(head);
		parts[n].data = hend + 4;
		parts[n].len = (size_t)(next - hend - 4);
		n++;
		p = next + dl;
	}
	free(delim);
	return n;
}

static void
parts_release(struct part *parts, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(parts[i].name);
		free(parts[i].filename);
	}
}

/* POST /v1/files: a multipart upload with "purpose" and "file". */
static void
files_create(struct mock *m, struct conn *c, const char *body, size_t blen,
    struct answer *a)
{
	static const char *const purposes[] = {
		"assistants", "batch", "fine-tune", "vision", "user_data",
		"evals", NULL
	};
	struct part	 parts[8];
	const char	*ct = c->head.ctype;
	const struct part *purpose = NULL, *file = NULL;
	struct mfile	*f;
	char		*why = NULL, *msg, *pv = NULL;
	size_t		 i, n;
	int		 np;

	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0) {
		msg = xasprintf("Invalid Content-Type header (%s), expected "
		    "multipart/form-data.", ct != NULL ? ct : "none");
		answer_error(m, a, API_OPENAI, 400, msg);
		free(msg);
		return;
	}
	if ((np = multipart_parse(ct, body, blen, parts, (int)nitems(parts),
	    &why)) < 0) {
		msg = xasprintf("mock: malformed multipart/form-data body: %s",
		    why);
		answer_error(m, a, API_OPENAI, 400, msg);
		free(msg);
		free(why);
		return;
	}
	for (i = 0; i < (size_t)np; i++) {
		if (parts[i].name != NULL && strcmp(parts[i].name,
		    "purpose") == 0)
			purpose = &parts[i];
		if (parts[i].name != NULL && strcmp(parts[i].name, "file") == 0)
			file = &parts[i];
	}
	if (purpose == NULL || file == NULL || file->filename == NULL) {
		msg = xasprintf("Missing required parameter: '%s'.",
		    purpose == NULL ? "purpose" : "file");
		answer_error_ex(m, a, API_OPENAI, 400, msg, NULL, purpose ==
		    NULL ? "purpose" : "file", "missing_required_parameter");
		free(msg);
		goto out;
	}
	pv = xstrndup(purpose->data, purpose->len);
	for (i = 0; purposes[i] != NULL; i++)
		if (strcmp(pv, purposes[i]) == 0)
			break;
	if (purposes[i] == NULL) {
		msg = xasprintf("'%s' is not one of ['assistants', 'batch', "
		    "'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
		    pv);
		answer_error_ex(m, a, API_OPENAI, 400, msg, NULL, "purpose",
		    NULL);
		free(msg);
		goto out;
	}
	n = strlen(file->filename);
	if (strcmp(pv, "batch") == 0 && (n < 6 ||
	    strcmp(file->filename + n - 6, ".jsonl") != 0)) {
		answer_error(m, a, API_OPENAI, 400, "Invalid file format for "
		    "Batch API. Must be .jsonl");
		goto out;
	}
	f = file_add(m, file->filename, pv, file->data, file->len);
	m->files_created++;
	a->status = 200;
	a->ctype = "application/json";
	file_json(f, &a->body);
out:
	free(pv);
	parts_release(parts, np);
}

/* GET /v1/files/ID, GET /v1/files/ID/content, DELETE /v1/files/ID. */
static void
files_get(struct mock *m, struct conn *c, enum bop op, const char *id,
    struct answer *a)
{
	struct mfile	*f;
	cJSON		*o;
	char		*msg;
	size_t		 at;

	if ((f = file_find(m, id, &at)) == NULL) {
		msg = xasprintf("No such File object: %s", id);
		answer_error_ex(m, a, API_OPENAI, 404, msg, NULL, "id", NULL);
		free(msg);
		return;
	}
	a->status = 200;
	a->ctype = "application/json";
	if (op == BOP_FILE_CONTENT) {
		a->ctype = "application/octet-stream";
		strbuf_add(&a->body, f->data, f->len);
	} else if (strcmp(c->head.method, "DELETE") == 0) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "object", "file");
		cJSON_AddTrueToObject(o, "deleted");
		json_out(o, &a->body);
		file_free(f);
		memmove(&m->files[at], &m->files[at + 1],
		    (m->nfiles - at - 1) * sizeof *m->files);
		m->nfiles--;
	} else
		file_json(f, &a->body);
}

static struct batch *
batch_find(struct mock *m, const char *id, int anthropic)
{
	size_t	i;

	for (i = 0; i < m->nbatches; i++)
		if (m->batches[i]->anthropic == anthropic &&
		    strcmp(m->batches[i]->id, id) == 0)
			return m->batches[i];
	return NULL;
}

static struct batch *
batch_new(struct mock *m, int anthropic)
{
	struct batch	*b;

	b = xcalloc(1, sizeof *b);
	b->anthropic = anthropic;
	m->seq++;
	b->id = xasprintf(anthropic ? "msgbatch_mock%016llx" :
	    "batch_mock%016llx", m->seq);
	b->t0 = mock_now_ms();
	b->wall0 = mock_wall_ms();
	b->delay = m->bconf.delay_ms;
	b->expire = m->bconf.expire;
	b->fail = m->bconf.fail;
	b->cancel = -1;
	m->batches = xreallocarray(m->batches, m->nbatches + 1,
	    sizeof *m->batches);
	m->batches[m->nbatches++] = b;
	m->batches_created++;
	return b;
}

static void
batch_free(struct batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nitems; i++) {
		free(b->items[i].custom_id);
		free(b->items[i].body);
	}
	free(b->items);
	free(b->id);
	free(b->input_file_id);
	free(b->endpoint);
	free(b->window);
	free(b->metadata);
	free(b->model);
	free(b->results_url);
	free(b->errors);
	free(b->output_file_id);
	free(b->error_file_id);
	free(b);
}

/*
 * Answers one request of a batch as if it had come alone to path: the
 * first rule that matches its path and body, the world or the echo.  Of
 * a rule's faults only those that shape a body apply (an error status,
 * empty).  A custom_id in batch.error_custom_ids, or any request of a
 * failing Anthropic batch, gets the provider's 500.
 */
static void
batch_answer(struct mock *m, struct batch *b, const char *path,
    const char *custom_id, const cJSON *body, struct bitem *it)
{
	struct answer	 a;
	struct rule	*r;
	enum req_kind	 kind;
	enum api	 api = b->anthropic ? API_ANTHROPIC : API_OPENAI;
	cJSON		*probe, *str;
	char		*text;
	size_t		 i;
	int		 forced = b->anthropic && b->fail;

	it->custom_id = xstrdup(custom_id);
	m->batched++;
	answer_init(&a);
	for (i = 0; i < m->bconf.nerror_ids && !forced; i++)
		if (strcmp(m->bconf.error_ids[i], custom_id) == 0)
			forced = 1;
	if (forced)
		answer_error(m, &a, api, 500, b->anthropic ? "Internal server "
		    "error" : "The server had an error processing your "
		    "request. Sorry about that! You can retry your request, "
		    "or contact us through our help center at help.openai.com "
		    "if you keep seeing this error.");
	else {
		route_find(path, &kind);
		text = cJSON_PrintUnformatted(body);
		r = rule_find(m, path, text, strlen(text), 0);
		free(text);
		if (r != NULL && (r->fault.kind == FAULT_STATUS ||
		    r->fault.kind == FAULT_RETRY_AFTER ||
		    r->fault.kind == FAULT_RETRY_AFTER_DATE))
			answer_error(m, &a, api, r->fault.kind == FAULT_STATUS ?
			    (int)r->fault.arg : 429, NULL);
		else
			answer_model(m, &a, api, kind, body, r, r != NULL &&
			    r->fault.kind == FAULT_EMPTY, 1);
	}
	it->status = a.status;
	/* A raw rule's body that is not JSON is kept as a JSON string. */
	probe = a.body.len > 0 ? cJSON_ParseWithLength(a.body.buf,
	    a.body.len) : NULL;
	if (probe != NULL)
		it->body = strbuf_detach(&a.body);
	else {
		str = cJSON_CreateString(a.body.buf != NULL ? a.body.buf : "");
		it->body = cJSON_PrintUnformatted(str);
		cJSON_Delete(str);
	}
	cJSON_Delete(probe);
	answer_release(&a);
}

/*
 * A batch's clock.  OpenAI: validating for the first tenth of its time,
 * in progress (requests done one after the other) until the last tenth,
 * finalizing, then completed.  Anthropic: in progress all the time, then
 * ended.  A cancel takes a tenth of the time.
 */
static void
batch_phases(const struct batch *b, int64_t *v, int64_t *p)
{
	*v = b->anthropic ? 0 : b->delay / 10;
	*p = b->anthropic ? b->delay : b->delay - b->delay / 10;
}

static int64_t
batch_done_at(const struct batch *b, size_t i)
{
	int64_t	v, p;

	batch_phases(b, &v, &p);
	return v + (int64_t)((long long)(i + 1) * (p - v) /
	    (long long)b->nitems);
}

static enum bstate
batch_state(const struct batch *b, int64_t t)
{
	int64_t	v, p;

	batch_phases(b, &v, &p);
	if (b->cancel >= 0)
		return t < b->cancel + b->delay / 10 ? B_CANCELLING :
		    B_CANCELLED;
	if (b->errors != NULL)
		return t < v ? B_VALIDATING : B_FAILED;
	if (t < v)
		return B_VALIDATING;
	if (b->expire)
		return t < b->delay ? B_IN_PROGRESS : B_EXPIRED;
	if (t < p)
		return B_IN_PROGRESS;
	if (t < b->delay)
		return B_FINALIZING;
	return B_COMPLETED;
}

/* When a batch ends, in milliseconds after its creation. */
static int64_t
batch_end_at(const struct batch *b)
{
	int64_t	v, p;

	batch_phases(b, &v, &p);
	if (b->cancel >= 0)
		return b->cancel + b->delay / 10;
	if (b->errors != NULL)
		return v;
	return b->delay;
}

static int
bstate_final(enum bstate st)
{
	return st == B_FAILED || st == B_COMPLETED || st == B_EXPIRED ||
	    st == B_CANCELLED;
}

/*
 * What became of request i at t.  With batch.expire the second half of
 * the requests is never done; a cancel stops those not done by then.
 */
static enum boutcome
batch_outcome(const struct batch *b, size_t i, int64_t t)
{
	enum bstate	st = batch_state(b, t);
	int64_t		done;

	if (st == B_VALIDATING || st == B_FAILED || b->errors != NULL)
		return BO_PENDING;
	done = batch_done_at(b, i);
	if (!(b->expire && i >= b->nitems / 2) && done <= t &&
	    (b->cancel < 0 || done <= b->cancel))
		return b->items[i].status / 100 == 2 ? BO_OK : BO_ERROR;
	if (st == B_EXPIRED)
		return BO_EXPIRED;
	if (st == B_CANCELLED)
		return BO_CANCELED;
	return BO_PENDING;
}

static void
batch_counts(const struct batch *b, int64_t t, long long n[5])
{
	size_t	i;

	memset(n, 0, 5 * sizeof *n);
	for (i = 0; i < b->nitems; i++)
		n[batch_outcome(b, i, t)]++;
}

/* One line of an OpenAI output or error file. */
static void
batch_line_openai(const struct batch *b, size_t i, enum boutcome o,
    struct strbuf *sb)
{
	const struct bitem	*it = &b->items[i];
	cJSON			*l, *r, *e;
	char			 id[64];
	uint64_t		 h = hash64_str(b->id, 0);

	l = cJSON_CreateObject();
	snprintf(id, sizeof id, "batch_req_%016llx",
	    (unsigned long long)hash_mix(h, i));
	cJSON_AddStringToObject(l, "id", id);
	cJSON_AddStringToObject(l, "custom_id", it->custom_id);
	if (o == BO_EXPIRED) {
		cJSON_AddNullToObject(l, "response");
		e = cJSON_AddObjectToObject(l, "error");
		cJSON_AddStringToObject(e, "code", "batch_expired");
		cJSON_AddStringToObject(e, "message", "This request could not "
		    "be executed before the completion window expired.");
	} else {
		r = cJSON_AddObjectToObject(l, "response");
		cJSON_AddNumberToObject(r, "status_code", it->status);
		snprintf(id, sizeof id, "req_%016llx",
		    (unsigned long long)hash_mix(h ^ 0x72657175, i));
		cJSON_AddStringToObject(r, "request_id", id);
		cJSON_AddRawToObject(r, "body", it->body);
		cJSON_AddNullToObject(l, "error");
	}
	json_out(l, sb);
	strbuf_addc(sb, '\n');
}

/* One line of Anthropic's results. */
static void
batch_line_anthropic(const struct batch *b, size_t i, enum boutcome o,
    struct strbuf *sb)
{
	static const char *const types[] = {
		NULL, "succeeded", "errored", "expired", "canceled"
	};
	const struct bitem	*it = &b->items[i];
	cJSON			*l, *r;

	l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "custom_id", it->custom_id);
	r = cJSON_AddObjectToObject(l, "result");
	cJSON_AddStringToObject(r, "type", types[o]);
	if (o == BO_OK)
		cJSON_AddRawToObject(r, "message", it->body);
	else if (o == BO_ERROR)
		cJSON_AddRawToObject(r, "error", it->body);
	json_out(l, sb);
	strbuf_addc(sb, '\n');
}

/*
 * A batch has come to its end: count what became of its requests and,
 * for OpenAI, make its output and error files.
 */
static void
batch_end(struct mock *m, struct batch *b, int64_t t)
{
	struct strbuf	 out, err;
	struct mfile	*f;
	enum boutcome	 o;
	char		*name;
	size_t		 i;

	b->ended = 1;
	strbuf_init(&out);
	strbuf_init(&err);
	for (i = 0; i < b->nitems; i++) {
		o = batch_outcome(b, i, t);
		switch (o) {
		case BO_OK:
			m->batch_ok++;
			break;
		case BO_ERROR:
			m->batch_errored++;
			break;
		case BO_EXPIRED:
			m->batch_expired++;
			break;
		case BO_CANCELED:
			m->batch_canceled++;
			break;
		default:
			break;
		}
		if (b->anthropic || o == BO_PENDING || o == BO_CANCELED)
			continue;
		batch_line_openai(b, i, o, o == BO_OK ? &out : &err);
	}
	if (out.len > 0) {
		name = xasprintf("%s_output.jsonl", b->id);
		f = file_add(m, name, "batch_output", out.buf, out.len);
		b->output_file_id = xstrdup(f->id);
		free(name);
	}
	if (err.len > 0) {
		name = xasprintf("%s_error.jsonl", b->id);
		f = file_add(m, name, "batch_output", err.buf, err.len);
		b->error_file_id = xstrdup(f->id);
		free(name);
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

/* Moves every batch on to now; returns whether any is still running. */
static int
batch_tick(struct mock *m, int64_t now, int64_t *wake)
{
	struct batch	*b;
	size_t		 i;
	int		 running = 0;

	for (i = 0; i < m->nbatches; i++) {
		b = m->batches[i];
		if (b->ended)
			continue;
		if (bstate_final(batch_state(b, now - b->t0)))
			batch_end(m, b, now - b->t0);
		else {
			running = 1;
			if (wake != NULL && b->t0 + batch_end_at(b) < *wake)
				*wake = b->t0 + batch_end_at(b);
		}
	}
	return running;
}

/* A time of a batch's life in OpenAI's Unix seconds, or null. */
static void
add_unix(cJSON *o, const char *key, const struct batch *b, int64_t at,
    int reached)
{
	if (reached)
		cJSON_AddNumberToObject(o, key, (double)((b->wall0 + at) /
		    1000));
	else
		cJSON_AddNullToObject(o, key);
}

/* OpenAI's batch object, as it is now. */
static void
batch_json_openai(const struct batch *b, int64_t now, struct strbuf *sb)
{
	cJSON		*o, *e, *rc;
	enum bstate	 st;
	int64_t		 t = now - b->t0, v, p;
	long long	 n[5];

	batch_phases(b, &v, &p);
	st = batch_state(b, t);
	batch_counts(b, t, n);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", b->id);
	cJSON_AddStringToObject(o, "object", "batch");
	cJSON_AddStringToObject(o, "endpoint", b->endpoint);
	if (b->errors != NULL && st != B_VALIDATING) {
		e = cJSON_AddObjectToObject(o, "errors");
		cJSON_AddStringToObject(e, "object", "list");
		cJSON_AddRawToObject(e, "data", b->errors);
	} else
		cJSON_AddNullToObject(o, "errors");
	cJSON_AddStringToObject(o, "input_file_id", b->input_file_id);
	cJSON_AddStringToObject(o, "completion_window", b->window);
	cJSON_AddStringToObject(o, "status", bstate_names[st]);
	if (b->output_file_id != NULL)
		cJSON_AddStringToObject(o, "output_file_id", b->output_file_id);
	else
		cJSON_AddNullToObject(o, "output_file_id");
	if (b->error_file_id != NULL)
		cJSON_AddStringToObject(o, "error_file_id", b->error_file_id);
	else
		cJSON_AddNullToObject(o, "error_file_id");
	add_unix(o, "created_at", b, 0, 1);
	add_unix(o, "in_progress_at", b, v, b->errors == NULL && t >= v &&
	    (b->cancel < 0 || b->cancel >= v));
	cJSON_AddNumberToObject(o, "expires_at", (double)((b->wall0 +
	    MOCK_DAY * 1000LL) / 1000));
	add_unix(o, "finalizing_at", b, p, st == B_FINALIZING ||
	    st == B_COMPLETED);
	add_unix(o, "completed_at", b, b->delay, st == B_COMPLETED);
	add_unix(o, "failed_at", b, v, st == B_FAILED);
	add_unix(o, "expired_at", b, b->delay, st == B_EXPIRED);
	add_unix(o, "cancelling_at", b, b->cancel, b->cancel >= 0);
	add_unix(o, "cancelled_at", b, batch_end_at(b), st == B_CANCELLED);
	rc = cJSON_AddObjectToObject(o, "request_counts");
	cJSON_AddNumberToObject(rc, "total", st == B_VALIDATING ||
	    b->errors != NULL ? 0 : (double)b->nitems);
	cJSON_AddNumberToObject(rc, "completed", (double)n[BO_OK]);
	cJSON_AddNumberToObject(rc, "failed", (double)(n[BO_ERROR] +
	    n[BO_EXPIRED]));
	if (b->metadata != NULL)
		cJSON_AddRawToObject(o, "metadata", b->metadata);
	else
		cJSON_AddNullToObject(o, "metadata");
	if (b->model != NULL)
		cJSON_AddStringToObject(o, "model", b->model);
	else
		cJSON_AddNullToObject(o, "model");
	json_out(o, sb);
}

/* A time of a batch's life in RFC 3339, or null. */
static void
add_rfc3339(cJSON *o, const char *key, const struct batch *b, int64_t at,
    int reached)
{
	char	when[64];

	if (reached) {
		rfc3339_at(b->wall0 + at, 1, when);
		cJSON_AddStringToObject(o, key, when);
	} else
		cJSON_AddNullToObject(o, key);
}

/* Anthropic's message_batch object, as it is now. */
static void
batch_json_anthropic(const struct batch *b, int64_t now, struct strbuf *sb)
{
	cJSON		*o, *rc;
	enum bstate	 st;
	int64_t		 t = now - b->t0;
	long long	 n[5];
	int		 ended;

	st = batch_state(b, t);
	ended = bstate_final(st);
	batch_counts(b, t, n);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", b->id);
	cJSON_AddStringToObject(o, "type", "message_batch");
	cJSON_AddStringToObject(o, "processing_status", ended ? "ended" :
	    st == B_CANCELLING ? "canceling" : "in_progress");
	/* Requests count as processing until the whole batch has ended. */
	rc = cJSON_AddObjectToObject(o, "request_counts");
	cJSON_AddNumberToObject(rc, "processing", ended ? 0 :
	    (double)b->nitems);
	cJSON_AddNumberToObject(rc, "succeeded", ended ? (double)n[BO_OK] : 0);
	cJSON_AddNumberToObject(rc, "errored", ended ? (double)n[BO_ERROR] :
	    0);
	cJSON_AddNumberToObject(rc, "canceled", ended ?
	    (double)n[BO_CANCELED] : 0);
	cJSON_AddNumberToObject(rc, "expired", ended ? (double)n[BO_EXPIRED] :
	    0);
	add_rfc3339(o, "ended_at", b, batch_end_at(b), ended);
	add_rfc3339(o, "created_at", b, 0, 1);
	add_rfc3339(o, "expires_at", b, MOCK_DAY * 1000LL, 1);
	cJSON_AddNullToObject(o, "archived_at");
	add_rfc3339(o, "cancel_initiated_at", b, b->cancel, b->cancel >= 0);
	if (ended)
		cJSON_AddStringToObject(o, "results_url", b->results_url);
	else
		cJSON_AddNullToObject(o, "results_url");
	json_out(o, sb);
}

/* An entry of an OpenAI batch's validation errors. */
static void
batch_error(cJSON *errs, const char *code, const char *msg,
    const char *param, long long line)
{
	cJSON	*e;

	if (cJSON_GetArraySize(errs) >= MOCK_BATCH_ERRORS)
		return;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	if (param != NULL)
		cJSON_AddStringToObject(e, "param", param);
	else
		cJSON_AddNullToObject(e, "param");
	if (line > 0)
		cJSON_AddNumberToObject(e, "line", (double)line);
	else
		cJSON_AddNullToObject(e, "line");
	cJSON_AddItemToArray(errs, e);
}

/*
 * Validates an OpenAI batch's input file as the validating step does,
 * line by line; a batch with errors fails.  Otherwise every request is
 * answered (through the prefix + endpoint path, for the rules).
 */
static void
batch_load_openai(struct mock *m, struct batch *b, const char *prefix,
    size_t plen)
{
	static const char *const keys[] = {
		"custom_id", "method", "url", "body"
	};
	struct mfile	*f;
	struct strset	 ids;
	cJSON		*errs, *reqs, *l;
	const cJSON	*v;
	const char	*p, *end, *eol, *model = NULL;
	char		*msg, *path;
	long long	 line = 0, n = 0;
	size_t		 i, len;
	int		 bad;

	errs = cJSON_CreateArray();
	reqs = cJSON_CreateArray();
	if ((f = file_find(m, b->input_file_id, NULL)) == NULL) {
		msg = xasprintf("No such File object: %s", b->input_file_id);
		batch_error(errs, "file_not_found", msg, "input_file_id", 0);
		free(msg);
		goto done;
	}
	if (strcmp(f->purpose, "batch") != 0) {
		batch_error(errs, "invalid_file", "The input file must be "
		    "uploaded with purpose 'batch'.", "input_file_id", 0);
		goto done;
	}
	for (p = f->data, end = f->data + f->len; p < end; p = eol + 1) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (strspn(p, " \t\r") >= len)
			continue;
		if (++n > MOCK_OAI_BATCH_MAX) {
			batch_error(errs, "too_many_tasks", "The batch input "
			    "file has more than 50,000 requests.", NULL, 0);
			goto done;
		}
		l = cJSON_ParseWithLength(p, len);
		if (!cJSON_IsObject(l)) {
			cJSON_Delete(l);
			batch_error(errs, "invalid_json_line", "This line is "
			    "not parseable as valid JSON.", NULL, line);
			continue;
		}
		cJSON_AddItemToArray(reqs, l);
		/* The line number rides along for the checks below. */
		cJSON_AddNumberToObject(l, "\001line", (double)line);
		bad = 0;
		for (i = 0; i < nitems(keys); i++) {
			v = cJSON_GetObjectItemCaseSensitive(l, keys[i]);
			if (v != NULL && (i == 3 ? cJSON_IsObject(v) :
			    cJSON_IsString(v)))
				continue;
			msg = xasprintf("Missing required parameter: '%s'.",
			    keys[i]);
			batch_error(errs, "missing_required_parameter", msg,
			    keys[i], line);
			free(msg);
			bad = 1;
		}
		if (bad)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(l, "method");
		if (strcmp(v->valuestring, "POST") != 0)
			batch_error(errs, "invalid_method", "The method of "
			    "every request in a batch must be POST.", "method",
			    line);
		v = cJSON_GetObjectItemCaseSensitive(l, "url");
		if (strcmp(v->valuestring, b->endpoint) != 0)
			batch_error(errs, "url_mismatch", "The URL provided "
			    "for this request does not prefix-match the batch "
			    "endpoint.", "url", line);
		v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(l,
		    "body"), "model");
		if (cJSON_IsString(v)) {
			if (model == NULL)
				model = v->valuestring;
			else if (strcmp(model, v->valuestring) != 0)
				batch_error(errs, "model_mismatch", "The "
				    "provided model does not match the model "
				    "of the other requests in this batch. All "
				    "requests in a batch must use the same "
				    "model.", "body.model", line);
		}
	}
	if (n == 0) {
		batch_error(errs, "empty_file", "The batch input file is "
		    "empty.", NULL, 0);
		goto done;
	}
	/* Duplicate custom_ids, once every line is known. */
	strset_init(&ids, (size_t)n);
	cJSON_ArrayForEach(l, reqs) {
		v = cJSON_GetObjectItemCaseSensitive(l, "custom_id");
		if (cJSON_IsString(v) && strset_add(&ids, v->valuestring))
			batch_error(errs, "duplicate_custom_id", "The "
			    "custom_id for this request is a duplicate of "
			    "another request. The custom_id parameter must be "
			    "unique for each request in a batch.",
			    "custom_id", (long long)json_num(l, "\001line"));
	}
	free(ids.slot);
	if (cJSON_GetArraySize(errs) == 0 && b->fail) {
		msg = xasprintf("Enqueued token limit reached for %s in "
		    "organization org-mock. Limit: 90,000 enqueued tokens. "
		    "Please try submitting a smaller batch or wait until some "
		    "of your batches are completed.", model != NULL ? model :
		    "the model");
		batch_error(errs, "token_limit_exceeded", msg, NULL, 0);
		free(msg);
	}
done:
	if (cJSON_GetArraySize(errs) > 0)
		b->errors = cJSON_PrintUnformatted(errs);
	else {
		b->model = xstrdup(model != NULL ? model : "");
		b->items = xcalloc((size_t)n, sizeof *b->items);
		path = xasprintf("%.*s%s", (int)plen, prefix, b->endpoint);
		cJSON_ArrayForEach(l, reqs)
			batch_answer(m, b, path, cJSON_GetObjectItem(l,
			    "custom_id")->valuestring, cJSON_GetObjectItem(l,
			    "body"), &b->items[b->nitems++]);
		free(path);
	}
	cJSON_Delete(errs);
	cJSON_Delete(reqs);
}

/* POST /v1/batches. */
static void
batches_create(struct mock *m, const char *prefix, size_t plen,
    const cJSON *j, struct answer *a)
{
	static const char *const keys[] = {
		"input_file_id", "endpoint", "completion_window"
	};
	const cJSON	*v[3], *md;
	struct batch	*b;
	char		*msg;
	size_t		 i;

	if (!cJSON_IsObject(j)) {
		answer_error(m, a, API_OPENAI, 400, "mock: the request body "
		    "is not a JSON object");
		return;
	}
	for (i = 0; i < nitems(keys); i++) {
		v[i] = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		if (v[i] == NULL || cJSON_IsNull(v[i]))
			msg = xasprintf("Missing required parameter: '%s'.",
			    keys[i]);
		else if (!cJSON_IsString(v[i]))
			msg = xasprintf("Invalid type for '%s': expected a "
			    "string, but got %s instead.", keys[i],
			    json_kind(v[i]));
		else
			continue;
		answer_error_ex(m, a, API_OPENAI, 400, msg, NULL, keys[i],
		    v[i] == NULL || cJSON_IsNull(v[i]) ?
		    "missing_required_parameter" : "invalid_type");
		free(msg);
		return;
	}
	if (strcmp(v[1]->valuestring, "/v1/chat/completions") != 0 &&
	    strcmp(v[1]->valuestring, "/v1/embeddings") != 0) {
		msg = xasprintf("Invalid value: '%s'. Supported values are: "
		    "'/v1/chat/completions' and '/v1/embeddings'.",
		    v[1]->valuestring);
		answer_error_ex(m, a, API_OPENAI, 400, msg, NULL, "endpoint",
		    "invalid_value");
		free(msg);
		return;
	}
	if (strcmp(v[2]->valuestring, "24h") != 0) {
		msg = xasprintf("Invalid value: '%s'. Supported values are: "
		    "'24h'.", v[2]->valuestring);
		answer_error_ex(m, a, API_OPENAI, 400, msg, NULL,
		    "completion_window", "invalid_value");
		free(msg);
		return;
	}
	md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	if (md != NULL && !cJSON_IsNull(md) && !cJSON_IsObject(md)) {
		answer_error_ex(m, a, API_OPENAI, 400, "Invalid type for "
		    "'metadata': expected an object.", NULL, "metadata",
		    "invalid_type");
		return;
	}
	b = batch_new(m, 0);
	b->input_file_id = xstrdup(v[0]->valuestring);
	b->endpoint = xstrdup(v[1]->valuestring);
	b->window = xstrdup(v[2]->valuestring);
	if (cJSON_IsObject(md))
		b->metadata = cJSON_PrintUnformatted(md);
	batch_load_openai(m, b, prefix, plen);
	a->status = 200;
	a->ctype = "application/json";
	batch_json_openai(b, mock_now_ms(), &a->body);
}

/*
 * POST /v1/messages/batches.  The list and its custom_ids are checked at
 * once; each request's params are checked as it is answered, and a bad
 * one comes back errored, as Anthropic validates params asynchronously.
 */
static void
mbatches_create(struct mock *m, const char *prefix, size_t plen,
    const cJSON *j, struct answer *a)
{
	struct strset	 ids;
	struct batch	*b;
	const cJSON	*reqs, *r, *cid, *params;
	char		*msg = NULL, *path;
	size_t		 i = 0, n = 0, k;

	reqs = cJSON_GetObjectItemCaseSensitive(j, "requests");
	if (!cJSON_IsObject(j))
		msg = xstrdup("mock: the request body is not a JSON object");
	else if (reqs == NULL)
		msg = xstrdup("requests: Field required");
	else if (!cJSON_IsArray(reqs))
		msg = xstrdup("requests: Input should be a valid list");
	else if ((n = (size_t)cJSON_GetArraySize(reqs)) == 0)
		msg = xstrdup("requests: List should have at least 1 item "
		    "after validation, not 0");
	else if (n > MOCK_ANT_BATCH_MAX)
		msg = xasprintf("requests: List should have at most %d items "
		    "after validation, not %zu", MOCK_ANT_BATCH_MAX, n);
	if (msg != NULL) {
		answer_error(m, a, API_ANTHROPIC, 400, msg);
		free(msg);
		return;
	}
	strset_init(&ids, n);
	cJSON_ArrayForEach(r, reqs) {
		cid = cJSON_GetObjectItemCaseSensitive(r, "custom_id");
		params = cJSON_GetObjectItemCaseSensitive(r, "params");
		if (!cJSON_IsObject(r))
			msg = xasprintf("requests.%zu: Input should be a valid "
			    "dictionary", i);
		else if (cid == NULL)
			msg = xasprintf("requests.%zu.custom_id: Field "
			    "required", i);
		else if (!cJSON_IsString(cid))
			msg = xasprintf("requests.%zu.custom_id: Input should "
			    "be a valid string", i);
		else if (strlen(cid->valuestring) > 64)
			msg = xasprintf("requests.%zu.custom_id: String should "
			    "have at most 64 characters", i);
		else if ((k = strspn(cid->valuestring, "abcdefghijklmnopqrstu"
		    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")) == 0 ||
		    cid->valuestring[k] != '\0')
			msg = xasprintf("requests.%zu.custom_id: String should "
			    "match pattern '^[a-zA-Z0-9_-]{1,64}$'", i);
		else if (params == NULL)
			msg = xasprintf("requests.%zu.params: Field required",
			    i);
		else if (!cJSON_IsObject(params))
			msg = xasprintf("requests.%zu.params: Input should be "
			    "a valid dictionary", i);
		else if (strset_add(&ids, cid->valuestring))
			msg = xasprintf("requests.%zu.custom_id: Duplicate "
			    "custom_id '%s': each custom_id must be unique "
			    "within a Message Batch", i, cid->valuestring);
		if (msg != NULL) {
			answer_error(m, a, API_ANTHROPIC, 400, msg);
			free(msg);
			free(ids.slot);
			return;
		}
		i++;
	}
	free(ids.slot);
	b = batch_new(m, 1);
	b->results_url = xasprintf("http://127.0.0.1:%d%.*s/v1/messages/"
	    "batches/%s/results", m->port, (int)plen, prefix, b->id);
	b->items = xcalloc(n, sizeof *b->items);
	path = xasprintf("%.*s/v1/messages", (int)plen, prefix);
	cJSON_ArrayForEach(r, reqs)
		batch_answer(m, b, path, cJSON_GetObjectItemCaseSensitive(r,
		    "custom_id")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(r, "params"),
		    &b->items[b->nitems++]);
	free(path);
	a->status = 200;
	a->ctype = "application/json";
	batch_json_anthropic(b, mock_now_ms(), &a->body);
}

/* GET a batch, its results, or cancel it. */
static void
batch_get(struct mock *m, enum bop op, const char *id, struct answer *a)
{
	struct batch	*b;
	enum api	 api;
	enum bstate	 st;
	int64_t		 now = mock_now_ms();
	char		*msg;
	size_t		 i;
	int		 anthropic;

	anthropic = op == BOP_MBATCH || op == BOP_MBATCH_RESULTS ||
	    op == BOP_MBATCH_CANCEL;
	api = anthropic ? API_ANTHROPIC : API_OPENAI;
	if ((b = batch_find(m, id, anthropic)) == NULL) {
		msg = anthropic ? xasprintf("mock: no message batch '%s'", id) :
		    xasprintf("No batch found with id '%s'.", id);
		answer_error(m, a, api, 404, msg);
		free(msg);
		return;
	}
	st = batch_state(b, now - b->t0);
	/* Cancelling a cancelled batch shows it as it is. */
	if ((op == BOP_BATCH_CANCEL || op == BOP_MBATCH_CANCEL) &&
	    b->cancel < 0) {
		if (bstate_final(st)) {
			msg = anthropic ? xasprintf("mock: message batch '%s' "
			    "has ended and cannot be canceled", id) :
			    xasprintf("Cannot cancel a batch with status "
			    "'%s'.", bstate_names[st]);
			answer_error(m, a, api, 400, msg);
			free(msg);
			return;
		}
		b->cancel = now - b->t0;
		batch_tick(m, now, NULL);
	}
	a->status = 200;
	a->ctype = "application/json";
	if (op == BOP_MBATCH_RESULTS) {
		if (!bstate_final(st)) {
			msg = xasprintf("mock: message batch '%s' has not "
			    "ended: its results_url is null until "
			    "processing_status is \"ended\"", id);
			answer_error(m, a, api, 400, msg);
			free(msg);
			return;
		}
		a->ctype = "application/x-jsonl";
		for (i = 0; i < b->nitems; i++)
			batch_line_anthropic(b, i, batch_outcome(b, i,
			    now - b->t0), &a->body);
	} else if (anthropic)
		batch_json_anthropic(b, now, &a->body);
	else
		batch_json_openai(b, now, &a->body);
}

/*
 * GET /v1/batches: the OpenAI batches, newest first, a page at a time:
 * limit (1 to 100, default 20) of them after the batch whose id is
 * "after" (the last one of the page before).
 */
static void
batches_list(struct mock *m, const char *query, struct answer *a)
{
	const char	*p, *after = NULL;
	char		*end, *msg;
	long		 limit = 20, n = 0;
	size_t		 i, alen = 0;
	int64_t		 now = mock_now_ms();
	struct batch	*b, *first = NULL, *last = NULL;

	for (p = query; *p != '\0'; p += strcspn(p, "&"), p += *p == '&') {
		if (strncmp(p, "limit=", 6) == 0) {
			limit = strtol(p + 6, &end, 10);
			if (end == p + 6 || (*end != '\0' && *end != '&') ||
			    limit < 1 || limit > 100) {
				msg = xasprintf("Invalid 'limit': integer "
				    "below minimum value or above maximum "
				    "value. Expected a value between 1 and "
				    "100, but got %.*s instead.",
				    (int)strcspn(p + 6, "&"), p + 6);
				answer_error_ex(m, a, API_OPENAI, 400, msg,
				    NULL, "limit", "integer_out_of_range");
				free(msg);
				return;
			}
		} else if (strncmp(p, "after=", 6) == 0) {
			after = p + 6;
			alen = strcspn(after, "&");
		}
	}
	a->status = 200;
	a->ctype = "application/json";
	strbuf_adds(&a->body, "{\"object\":\"list\",\"data\":[");
	i = m->nbatches;
	if (after != NULL) {
		/* Those created before it; an unknown one hides them all. */
		while (i > 0 && !(strlen(m->batches[i - 1]->id) == alen &&
		    strncmp(m->batches[i - 1]->id, after, alen) == 0))
			i--;
		if (i > 0)
			i--;
	}
	for (; i > 0 && n <= limit; i--) {
		if ((b = m->batches[i - 1])->anthropic)
			continue;
		if (n++ == limit)
			break;
		if (first == NULL)
			first = b;
		else
			strbuf_addc(&a->body, ',');
		last = b;
		batch_json_openai(b, now, &a->body);
	}
	strbuf_addf(&a->body, "],\"first_id\":%s%s%s,\"last_id\":%s%s%s,"
	    "\"has_more\":%s}", first != NULL ? "\"" : "",
	    first != NULL ? first->id : "null", first != NULL ? "\"" : "",
	    last != NULL ? "\"" : "", last != NULL ? last->id : "null",
	    last != NULL ? "\"" : "", n > limit ? "true" : "false");
}

/* A call of the batch APIs. */
static void
batch_api(struct mock *m, struct conn *c, enum bop op, const char *id,
    size_t plen, const cJSON *j, const char *body, size_t blen,
    struct answer *a)
{
	const char	*methods = bop_info[op].methods, *p;
	enum api	 api;
	size_t		 n = strlen(c->head.method);

	api = op >= BOP_MBATCHES ? API_ANTHROPIC : API_OPENAI;
	for (p = methods; (p = strstr(p, c->head.method)) != NULL; p += n)
		if ((p == methods || p[-1] == ' ') && (p[n] == '\0' ||
		    p[n] == ','))
			break;
	if (p == NULL) {
		answer_error(m, a, api, 405, "mock: method not allowed");
		strbuf_addf(&a->hdrs, "Allow: %s\r\n", methods);
		return;
	}
	batch_tick(m, mock_now_ms(), NULL);
	switch (op) {
	case BOP_FILES:
		files_create(m, c, body, blen, a);
		break;
	case BOP_FILE:
	case BOP_FILE_CONTENT:
		files_get(m, c, op, id, a);
		break;
	case BOP_BATCHES:
		if (strcmp(c->head.method, "GET") == 0)
			batches_list(m, c->head.query, a);
		else
			batches_create(m, c->head.path, plen, j, a);
		break;
	case BOP_MBATCHES:
		mbatches_create(m, c->head.path, plen, j, a);
		break;
	default:
		batch_get(m, op, id, a);
		break;
	}
}

/* Recent requests and counters. */
static void
recent_release(struct recent *e)
{
	free(e->method);
	free(e->path);
	free(e->model);
	memset(e, 0, sizeof *e);
}

static void
stats_count_path(struct mock *m, const char *path)
{
	size_t	i;

	for (i = 0; i < m->npaths; i++)
		if (strcmp(m->paths[i].key, path) == 0)
			break;
	if (i == m->npaths) {
		m->paths = xreallocarray(m->paths, m->npaths + 1,
		    sizeof *m->paths);
		m->paths[i].key = xstrdup(path);
		m->paths[i].n = 0;
		m->npaths++;
	}
	m->paths[i].n++;
}

static void
stats_reset(struct mock *m)
{
	size_t	i;

	m->epoch++;
	m->requests = 0;
	m->connections = 0;
	m->max_in_flight = m->in_flight;
	for (i = 0; i < m->npaths; i++)
		free(m->paths[i].key);
	free(m->paths);
	m->paths = NULL;
	m->npaths = 0;
	for (i = 0; i < MOCK_RECENT; i++)
		recent_release(&m->recent[i]);
	m->nrecent = m->recent_next = 0;
	for (i = 0; i < m->ncounters; i++)
		free(m->counters[i].key);
	free(m->counters);
	m->counters = NULL;
	m->ncounters = 0;
	for (i = 0; i < m->nrules; i++)
		m->rules[i].used = 0;
	m->interactive = m->status_429 = 0;
	m->throttled_requests = m->throttled_tokens = 0;
	m->throttled_concurrency = 0;
	m->cached_tokens = m->cache_read = m->cache_write = 0;
	m->reasoning_tokens = 0;
	m->files_created = m->batches_created = m->batched = 0;
	m->batch_ok = m->batch_errored = m->batch_expired = 0;
	m->batch_canceled = 0;
	/* The prompt cache is forgotten and a new rate window begins. */
	free(m->cache);
	m->cache = NULL;
	m->cache_cap = m->cache_n = 0;
	m->rl.started = 0;
}

static char *
stats_json(struct mock *m)
{
	cJSON		*o, *p, *a, *e, *au;
	struct recent	*r;
	size_t		 i, k;
	char		*s;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "requests", (double)m->requests);
	p = cJSON_AddObjectToObject(o, "paths");
	for (i = 0; i < m->npaths; i++)
		cJSON_AddNumberToObject(p, m->paths[i].key,
		    (double)m->paths[i].n);
	cJSON_AddNumberToObject(o, "in_flight", (double)m->in_flight);
	cJSON_AddNumberToObject(o, "max_in_flight", (double)m->max_in_flight);
	cJSON_AddNumberToObject(o, "connections_accepted",
	    (double)m->connections);
	cJSON_AddNumberToObject(o, "connections_open", (double)m->nconns);
	cJSON_AddNumberToObject(o, "uptime_ms",
	    (double)(mock_now_ms() - m->start_ms));
	a = cJSON_AddArrayToObject(o, "rules_used");
	for (i = 0; i < m->nrules; i++)
		cJSON_AddItemToArray(a,
		    cJSON_CreateNumber((double)m->rules[i].used));
	cJSON_AddNumberToObject(o, "interactive_requests",
	    (double)m->interactive);
	cJSON_AddNumberToObject(o, "batched_requests", (double)m->batched);
	cJSON_AddNumberToObject(o, "status_429", (double)m->status_429);
	/* "requests" stays unique: scripts read it with a greedy sed. */
	p = cJSON_AddObjectToObject(o, "throttled");
	cJSON_AddNumberToObject(p, "request_limit",
	    (double)m->throttled_requests);
	cJSON_AddNumberToObject(p, "token_limit", (double)m->throttled_tokens);
	cJSON_AddNumberToObject(p, "concurrency_limit",
	    (double)m->throttled_concurrency);
	p = cJSON_AddObjectToObject(o, "prompt_cache");
	cJSON_AddNumberToObject(p, "cached_tokens", (double)m->cached_tokens);
	cJSON_AddNumberToObject(p, "cache_read_input_tokens",
	    (double)m->cache_read);
	cJSON_AddNumberToObject(p, "cache_creation_input_tokens",
	    (double)m->cache_write);
	cJSON_AddNumberToObject(o, "reasoning_tokens",
	    (double)m->reasoning_tokens);
	p = cJSON_AddObjectToObject(o, "batches");
	cJSON_AddNumberToObject(p, "files", (double)m->files_created);
	cJSON_AddNumberToObject(p, "created", (double)m->batches_created);
	cJSON_AddNumberToObject(p, "succeeded", (double)m->batch_ok);
	cJSON_AddNumberToObject(p, "errored", (double)m->batch_errored);
	cJSON_AddNumberToObject(p, "expired", (double)m->batch_expired);
	cJSON_AddNumberToObject(p, "canceled", (double)m->batch_canceled);
	a = cJSON_AddArrayToObject(o, "recent");
	for (k = 0; k < m->nrecent; k++) {
		i = (m->recent_next + MOCK_RECENT - m->nrecent + k) %
		    MOCK_RECENT;
		r = &m->recent[i];
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "method", r->method);
		cJSON_AddStringToObject(e, "path", r->path);
		cJSON_AddNumberToObject(e, "t_ms", (double)r->t_ms);
		au = cJSON_AddObjectToObject(e, "auth");
		cJSON_AddBoolToObject(au, "present", r->auth != NULL);
		if (r->auth != NULL) {
			cJSON_AddStringToObject(au, "header", r->auth);
			cJSON_AddNumberToObject(au, "length",
			    (double)r->auth_len);
		}
		if (r->model != NULL)
			cJSON_AddStringToObject(e, "model", r->model);
		else
			cJSON_AddNullToObject(e, "model");
		cJSON_AddNumberToObject(e, "status", r->status);
		if (r->fault != NULL)
			cJSON_AddStringToObject(e, "fault", r->fault);
		cJSON_AddItemToArray(a, e);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void
mock_log(struct mock *m, struct conn *c, const char *what)
{
	struct timespec	ts;
	struct tm	tm;
	char		when[64];

	c->logged = 1;
	if (m->log == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	if (what != NULL)
		fprintf(m->log, "%s.%03ldZ %s %s %s %lldms\n", when,
		    ts.tv_nsec / 1000000, c->head.method,
		    c->head.path != NULL ? c->head.path : "-", what,
		    (long long)(mock_now_ms() - c->arrived_ms));
	else
		fprintf(m->log, "%s.%03ldZ %s %s %d %lldms\n", when,
		    ts.tv_nsec / 1000000, c->head.method,
		    c->head.path != NULL ? c->head.path : "-", c->status,
		    (long long)(mock_now_ms() - c->arrived_ms));
}

/*
 * Parses the request head at the start of buf.  Returns 1 with h filled
 * in, 0 when more bytes are needed, or the HTTP status to refuse the
 * request with (*why says why).
 */
static int
head_parse(const char *buf, size_t len, struct head *h, const char **why)
{
	const char	*end, *p, *eol, *colon, *v, *ve, *t;
	size_t		 n, vn;
	long long	 clen = -1, cl;
	int		 minor, te = 0, conn_close = 0, conn_keep = 0;
	char		 num[32];

	memset(h, 0, sizeof *h);
	/* The request line first, so that garbage is refused at once. */
	for (n = 0; n < len && n < sizeof h->method; n++)
		if (buf[n] < 'A' || buf[n] > 'Z')
			break;
	if ((n < len && (n == 0 || buf[n] != ' ')) || n >= sizeof h->method) {
		*why = "malformed request line";
		return 400;
	}
	end = memmem(buf, len < MOCK_HEAD_MAX ? len : MOCK_HEAD_MAX,
	    "\r\n\r\n", 4);
	if (end == NULL) {
		if ((eol = memchr(buf, '\n', len)) != NULL &&
		    (eol == buf || eol[-1] != '\r')) {
			*why = "malformed request line";
			return 400;
		}
		if (len >= MOCK_HEAD_MAX) {
			*why = "request head too large";
			return 431;
		}
		return 0;
	}
	h->len = (size_t)(end - buf) + 4;
	memcpy(h->method, buf, n);
	h->method[n] = '\0';
	p = buf + n + 1;
	eol = memchr(p, '\r', (size_t)(end + 2 - p));
	if ((t = memchr(p, ' ', (size_t)(eol - p))) == NULL || *p != '/') {
		*why = "malformed request line";
		return 400;
	}
	for (v = p; v < t; v++)
		if (*v <= 0x20 || *v >= 0x7f) {
			*why = "malformed request target";
			return 400;
		}
	h->path = xstrndup(p, strcspn(p, "?#") < (size_t)(t - p) ?
	    strcspn(p, "?#") : (size_t)(t - p));
	v = p + strlen(h->path);
	h->query = *v == '?' ? xstrndup(v + 1, strcspn(v + 1, "# ")) :
	    xstrdup("");
	t++;
	if ((size_t)(eol - t) != 8 || strncmp(t, "HTTP/1.", 7) != 0 ||
	    (t[7] != '0' && t[7] != '1')) {
		*why = strncmp(t, "HTTP/", 5) == 0 ?
		    "only HTTP/1.0 and HTTP/1.1 are supported" :
		    "malformed request line";
		return strncmp(t, "HTTP/", 5) == 0 ? 505 : 400;
	}
	minor = t[7] - '0';

	for (p = eol + 2; p < end + 2; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end + 2 - p));
		if (eol == NULL || eol[1] != '\n') {
			*why = "malformed header line";
			return 400;
		}
		for (colon = p; colon < eol && http_tchar(*colon); colon++)
			;
		if (colon == p || colon == eol || *colon != ':') {
			*why = "malformed header line";
			return 400;
		}
		n = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		vn = (size_t)(ve - v);
		for (t = v; t < ve; t++)
			if ((unsigned char)*t < 0x20 && *t != '\t') {
				*why = "control character in a header";
				return 400;
			}
		if (n == 14 && strncasecmp(p, "content-length", n) == 0) {
			if (vn == 0 || vn >= sizeof num) {
				*why = "bad Content-Length";
				return 400;
			}
			memcpy(num, v, vn);
			num[vn] = '\0';
			if (mock_number(num, 0, LLONG_MAX / 2, &cl) != 0 ||
			    (clen != -1 && cl != clen)) {
				*why = "bad Content-Length";
				return 400;
			}
			clen = cl;
		} else if (n == 17 &&
		    strncasecmp(p, "transfer-encoding", n) == 0)
			te = 1;
		else if (n == 10 && strncasecmp(p, "connection", n) == 0) {
			for (t = v; t < ve; t += strspn(t, ", \t")) {
				vn = strcspn(t, ", \t\r");
				if (t + vn > ve)
					vn = (size_t)(ve - t);
				if (vn == 5 && strncasecmp(t, "close", 5) == 0)
					conn_close = 1;
				if (vn == 10 &&
				    strncasecmp(t, "keep-alive", 10) == 0)
					conn_keep = 1;
				t += vn;
			}
		} else if (n == 6 && strncasecmp(p, "expect", n) == 0) {
			if (vn != 12 || strncasecmp(v, "100-continue", 12) != 0) {
				*why = "unsupported expectation";
				return 417;
			}
			h->expect = 1;
		} else if (n == 12 && strncasecmp(p, "x-mock-fault", n) == 0) {
			if (h->fault == NULL)
				h->fault = xstrndup(v, vn);
			else {
				char	*f = h->fault;

				h->fault = xasprintf("%s,%.*s", f, (int)vn, v);
				free(f);
			}
		} else if (n == 12 && strncasecmp(p, "content-type", n) == 0) {
			free(h->ctype);
			h->ctype = xstrndup(v, vn);
		} else if (n == 13 && strncasecmp(p, "authorization", n) == 0) {
			h->auth = "authorization";
			h->auth_len = vn;
		} else if (n == 9 && strncasecmp(p, "x-api-key", n) == 0 &&
		    h->auth == NULL) {
			h->auth = "x-api-key";
			h->auth_len = vn;
		}
	}
	h->keepalive = minor == 1 ? !conn_close : conn_keep && !conn_close;
	if (te) {
		*why = "Transfer-Encoding is not supported by the mock (send "
		    "Content-Length)";
		return 400;
	}
	/*
	 * Control requests and batch cancels may leave out an empty body, as
	 * RFC 9112 lets.
	 */
	if (clen == -1 && strcmp(h->method, "POST") == 0 &&
	    strncmp(h->path, "/mock/", 6) != 0 &&
	    ((n = strlen(h->path)) < 7 ||
	    strcmp(h->path + n - 7, "/cancel") != 0)) {
		*why = "Content-Length is required";
		return 400;
	}
	if (clen > MOCK_BODY_MAX) {
		*why = "request body too large (over 16 MiB)";
		return 413;
	}
	h->clen = clen == -1 ? 0 : (size_t)clen;
	return 1;
}

static void
head_release(struct head *h)
{
	free(h->path);
	free(h->query);
	free(h->fault);
	free(h->ctype);
	memset(h, 0, sizeof *h);
}

static void
conn_close(struct mock *m, struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->in_flight) {
		m->in_flight--;
		c->in_flight = 0;
	}
	if (c->have_head && !c->logged && c->arrived_ms != 0)
		mock_log(m, c, c->hold ? "timeout" : "closed");
	close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	m->accepting = 1;
}

static void conn_process(struct mock *, struct conn *);

/* Everything is sent: close or wait for the next request. */
static void
conn_done(struct mock *m, struct conn *c)
{
	head_release(&c->head);
	c->have_head = 0;
	c->arrived_ms = 0;
	c->logged = 0;
	c->fault = NULL;
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_DRAIN;
		c->drain_until = mock_now_ms() + MOCK_LINGER_MS;
		return;
	}
	c->state = CONN_READ;
	conn_process(m, c);
}

static void
conn_flush(struct mock *m, struct conn *c)
{
	ssize_t	n;
	size_t	k;

	for (;;) {
		if (c->outpos == c->out.len) {
			strbuf_reset(&c->out);
			c->outpos = 0;
			if (c->pad_left == 0)
				break;
			/* Oversize bodies are made as they go out. */
			k = c->pad_left < MOCK_CHUNK ? c->pad_left : MOCK_CHUNK;
			strbuf_grow(&c->out, k);
			memset(c->out.buf, 'x', k);
			c->out.len = k;
			c->out.buf[k] = '\0';
			c->pad_left -= k;
			if (c->pad_left == 0 && c->pad_tail != NULL) {
				strbuf_adds(&c->out, c->pad_tail);
				free(c->pad_tail);
				c->pad_tail = NULL;
			}
		}
		n = send(c->fd, c->out.buf + c->outpos, c->out.len - c->outpos,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_close(m, c);
			return;
		}
		c->outpos += (size_t)n;
	}
	if (c->state == CONN_WRITE)
		conn_done(m, c);
}

/* Sends the prepared answer now. */
static void
conn_send(struct mock *m, struct conn *c)
{
	if (c->outpos == c->out.len) {
		strbuf_reset(&c->out);
		c->outpos = 0;
	}
	if (c->resp.len > 0)
		strbuf_add(&c->out, c->resp.buf, c->resp.len);
	strbuf_reset(&c->resp);
	c->state = CONN_WRITE;
	conn_flush(m, c);
}

/* A request the mock cannot serve: answer and close. */
static void
conn_refuse(struct mock *m, struct conn *c, int status, const char *why)
{
	struct answer	 a;
	enum req_kind	 kind;
	char		*msg;

	answer_init(&a);
	msg = xasprintf("mock: %s", why);
	answer_error(m, &a, c->head.path != NULL ?
	    route_find(c->head.path, &kind) : API_NONE, status, msg);
	free(msg);
	c->close_after = 1;
	c->status = status;
	c->have_head = 1;
	c->arrived_ms = mock_now_ms();
	if (c->head.method[0] == '\0')
		strncpy(c->head.method, "-", sizeof c->head.method);
	conn_prepare(c, &a);
	answer_release(&a);
	mock_log(m, c, NULL);
	/* Nothing more is read as a request. */
	strbuf_reset(&c->in);
	conn_send(m, c);
}

/* GET /mock/stats and POST /mock/reset. */
static void
conn_control(struct mock *m, struct conn *c)
{
	struct answer	 a;
	char		*s;

	answer_init(&a);
	a.status = 200;
	a.ctype = "application/json";
	if (strcmp(c->head.path, "/mock/stats") == 0 &&
	    strcmp(c->head.method, "GET") == 0) {
		batch_tick(m, mock_now_ms(), NULL);
		s = stats_json(m);
		strbuf_adds(&a.body, s);
		free(s);
	} else if (strcmp(c->head.path, "/mock/reset") == 0 &&
	    strcmp(c->head.method, "POST") == 0) {
		stats_reset(m);
		strbuf_adds(&a.body, "{\"ok\":true}");
	} else if (strcmp(c->head.path, "/mock/stats") == 0 ||
	    strcmp(c->head.path, "/mock/reset") == 0) {
		answer_error(m, &a, API_NONE, 405, "mock: method not allowed");
		strbuf_addf(&a.hdrs, "Allow: %s\r\n",
		    c->head.path[6] == 's' ? "GET" : "POST");
	} else
		answer_error(m, &a, API_NONE, 404, "mock: no such control "
		    "path");
	c->status = a.status;
	if (!c->head.keepalive)
		c->close_after = 1;
	conn_prepare(c, &a);
	answer_release(&a);
	mock_log(m, c, NULL);
	conn_send(m, c);
}

/*
 * A request for a model or for the batch APIs: decide the answer and
 * schedule it.  The hidden concurrency limit and the rate limits are
 * checked first, for model requests only; faults and rules come next.
 */
static void
conn_request(struct mock *m, struct conn *c, const char *body, size_t blen)
{
	struct answer	 a;
	struct fault	 hf, tf;
	struct rule	*r = NULL;
	struct chat	 ech;
	struct recent	*e;
	enum req_kind	 kind;
	enum api	 api;
	enum bop	 bop = BOP_NONE;
	enum throttle	 th;
	cJSON		*j;
	const cJSON	*mv;
	const char	*model = NULL;
	char		*why = NULL, *msg, *bid = NULL, ebuf[1] = "";
	char		*etext = ebuf;
	long long	 delay = 0, cost;
	size_t		 plen = 0;
	int		 limited = 0, rlhdrs = 0, nocut = 0;

	m->requests++;
	api = route_find(c->head.path, &kind);
	if (api == API_NONE)
		bop = bop_find(c->head.path, &bid, &plen);
	stats_count_path(m, bop != BOP_NONE ? bop_info[bop].tmpl :
	    c->head.path);
	if (c->epoch != m->epoch) {
		c->epoch = m->epoch;
		m->connections++;
	}
	if (api != API_NONE) {
		m->interactive++;
		/* The hidden limit counts the others still waiting. */
		if (m->max_concurrency > 0 &&
		    m->in_flight >= m->max_concurrency)
			limited = 1;
	}
	/* Calls of the batch APIs are not model requests in flight. */
	if (bop == BOP_NONE && !limited) {
		c->in_flight = 1;
		if (++m->in_flight > m->max_in_flight)
			m->max_in_flight = m->in_flight;
	}
	if (!c->head.keepalive)
		c->close_after = 1;

	j = blen > 0 ? cJSON_ParseWithLength(body, blen) : NULL;
	if ((mv = cJSON_GetObjectItemCaseSensitive(j, "model")) != NULL &&
	    cJSON_IsString(mv))
		model = mv->valuestring;
	memset(&hf, 0, sizeof hf);
	memset(&tf, 0, sizeof tf);
	answer_init(&a);

	if (limited) {
		m->throttled_concurrency++;
		c->fault = "concurrency";
		concurrency_refuse(m, &a, api);
		goto schedule;
	}
	if (c->head.fault != NULL &&
	    fault_parse(m, c->head.fault, &hf, &why) != 0) {
		msg = xasprintf("mock: X-Mock-Fault: %s", why);
		answer_error(m, &a, api, 400, msg);
		free(msg);
		goto schedule;
	}
	if ((api == API_OPENAI || api == API_ANTHROPIC) &&
	    (m->rl.requests > 0 || m->rl.tokens > 0)) {
		rlhdrs = 1;
		cost = ratelimit_cost(j, blen);
		if ((th = ratelimit_take(&m->rl, cost, c->arrived_ms)) !=
		    T_NONE) {
			if (th == T_REQUESTS)
				m->throttled_requests++;
			else
				m->throttled_tokens++;
			c->fault = "ratelimit";
			ratelimit_refuse(m, &a, api, th, model, cost,
			    c->arrived_ms);
			goto schedule;
		}
	}
	r = rule_find(m, c->head.path, body, blen, bop != BOP_NONE);
	if (r != NULL) {
		delay += r->delay_ms + mock_jitter(m, r->jitter_ms) +
		    r->fault.latency_ms + mock_jitter(m, r->fault.jitter_ms);
		tf = r->fault;
	}
	delay += hf.latency_ms + mock_jitter(m, hf.jitter_ms);
	if (hf.kind != FAULT_NONE)
		tf = hf;
	c->fault = tf.kind != FAULT_NONE ? fault_names[tf.kind] : NULL;

	switch (tf.kind) {
	case FAULT_RESET:
		c->reset = 1;
		goto schedule;
	case FAULT_TIMEOUT:
		c->hold = 1;
		goto schedule;
	case FAULT_STATUS:
	case FAULT_RETRY_AFTER:
	case FAULT_RETRY_AFTER_DATE:
		answer_error(m, &a, api, tf.kind == FAULT_STATUS ?
		    (int)tf.arg : 429, NULL);
		if (tf.kind == FAULT_RETRY_AFTER)
			strbuf_addf(&a.hdrs, "Retry-After: %lld\r\n", tf.arg);
		else if (tf.kind == FAULT_RETRY_AFTER_DATE) {
			char	date[64];

			http_date(time(NULL) + tf.arg, date);
			strbuf_addf(&a.hdrs, "Retry-After: %s\r\n", date);
		} else if (tf.arg == 429)
			strbuf_adds(&a.hdrs, "Retry-After: 1\r\n");
		goto schedule;
	default:
		break;
	}

	if (r != NULL && r->status != 0)
		answer_raw(m, &a, api, r);
	else if (bop != BOP_NONE)
		batch_api(m, c, bop, bid, plen, j, body, blen, &a);
	else if (api == API_NONE) {
		msg = xasprintf("mock: no model endpoint at '%s'",
		    c->head.path);
		answer_error(m, &a, api, 404, msg);
		free(msg);
	} else if (strcmp(c->head.method, "POST") != 0) {
		answer_error(m, &a, api, 405, "mock: use POST");
		strbuf_adds(&a.hdrs, "Allow: POST\r\n");
	} else
		answer_model(m, &a, api, kind, j, r, tf.kind == FAULT_EMPTY,
		    0);
	if (r != NULL && r->headers.len > 0) {
		strbuf_add(&a.hdrs, r->headers.buf, r->headers.len);
		if (r->has_ctype)
			a.ctype = NULL;
	}

	switch (tf.kind) {
	case FAULT_EMPTY:
		if (a.status != 200 && api != API_NONE) {
			/* The request was refused: make the empty answer. */
			strbuf_reset(&a.body);
			strbuf_reset(&a.hdrs);
			a.status = 200;
			a.ctype = "application/json";
			if (kind == REQ_EMBED)
				body_embed(api, model != NULL ? model : "mock",
				    NULL, NULL, 0, 0, 1, 0, &a.body);
			else {
				memset(&ech, 0, sizeof ech);
				ech.texts = &etext;
				ech.cut = &nocut;
				ech.n = 1;
				body_chat(m, api, model != NULL ? model :
				    "mock", &ech, 1, &a.body);
			}
		}
		break;
	case FAULT_MALFORMED:
		a.status = 200;
		a.ctype = "application/json";
		if (a.body.len < 2) {
			strbuf_reset(&a.body);
			strbuf_adds(&a.body, "{\"id\": \"mock\", \"choices\": [");
		} else
			a.body.len /= 2;
		break;
	case FAULT_TRUNCATE:
		a.truncate = 1;
		break;
	case FAULT_OVERSIZE: {
		size_t	want = (size_t)tf.arg * MOCK_MIB, have;

		a.status = 200;
		a.ctype = "application/json";
		if (a.body.len < 2 || a.body.buf[0] != '{' ||
		    a.body.buf[a.body.len - 1] != '}') {
			strbuf_reset(&a.body);
			strbuf_adds(&a.body, "{\"mock\":\"oversize\"}");
		}
		/* {"padding":"xxx...","id":...} */
		a.tail = xasprintf("\",%s", a.body.buf + 1);
		strbuf_reset(&a.body);
		strbuf_adds(&a.body, "{\"padding\":\"");
		have = a.body.len + strlen(a.tail);
		a.pad = want > have ? want - have : 0;
		break;
	}
	default:
		break;
	}

schedule:
	if (rlhdrs)
		ratelimit_headers(&m->rl, api, c->arrived_ms, &a.hdrs);
	c->status = c->reset || c->hold ? 0 : a.status;
	if (c->status == 429)
		m->status_429++;
	if (!c->reset && !c->hold)
		conn_prepare(c, &a);
	answer_release(&a);
	free(why);
	free(bid);

	e = &m->recent[m->recent_next];
	recent_release(e);
	e->method = xstrdup(c->head.method);
	e->path = xstrdup(c->head.path);
	e->t_ms = c->arrived_ms - m->start_ms;
	e->auth = c->head.auth;
	e->auth_len = c->head.auth_len;
	e->model = model != NULL ? xstrdup(model) : NULL;
	e->status = c->status;
	e->fault = c->fault;
	m->recent_next = (m->recent_next + 1) % MOCK_RECENT;
	if (m->nrecent < MOCK_RECENT)
		m->nrecent++;
	cJSON_Delete(j);

	c->state = CONN_WAIT;
	c->due_ms = c->hold ? -1 : c->arrived_ms + delay;
}

static void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->in.buf, c->in.buf + n, c->in.len - n + 1);
	c->in.len -= n;
}

/* Parses and handles whatever complete requests the buffer holds. */
static void
conn_process(struct mock *m, struct conn *c)
{
	const char	*why = NULL;
	size_t		 n, used;
	int		 st;

	/* Answering at once (conn_done()) comes back here: no recursion. */
	if (c->processing)
		return;
	c->processing = 1;
	while (c->state == CONN_READ) {
		if (!c->have_head) {
			/* Blank lines between requests are tolerated. */
			for (n = 0; n < c->in.len && (c->in.buf[n] == '\r' ||
			    c->in.buf[n] == '\n'); n++)
				;
			if (n > 0) {
				memmove(c->in.buf, c->in.buf + n,
				    c->in.len - n + 1);
				c->in.len -= n;
			}
			if (c->in.len == 0)
				break;
			st = head_parse(c->in.buf, c->in.len, &c->head, &why);
			if (st == 0) {
				head_release(&c->head);
				break;
			}
			if (st != 1) {
				conn_refuse(m, c, st, why);
				break;
			}
			c->have_head = 1;
			if (c->head.expect &&
			    c->in.len < c->head.len + c->head.clen) {
				strbuf_adds(&c->out,
				    "HTTP/1.1 100 Continue\r\n\r\n");
				conn_flush(m, c);
				if (c->state == CONN_DEAD)
					break;
			}
		}
		used = c->head.len + c->head.clen;
		if (c->in.len < used)
			break;
		c->arrived_ms = mock_now_ms();
		m->last_req_ms = c->arrived_ms;
		c->logged = 0;
		c->reset = c->hold = 0;
		if (c->eof)
			c->close_after = 1;
		if (strncmp(c->head.path, "/mock/", 6) == 0) {
			/* Control requests have no body worth keeping. */
			conn_consume(c, used);
			conn_control(m, c);
		} else {
			conn_request(m, c, c->in.buf + c->head.len,
			    c->head.clen);
			conn_consume(c, used);
		}
	}
	c->processing = 0;
}

/* The answer's time has come. */
static void
conn_fire(struct mock *m, struct conn *c)
{
	static const struct linger	lg = { 1, 0 };

	if (c->in_flight) {
		m->in_flight--;
		c->in_flight = 0;
	}
	if (c->reset) {
		mock_log(m, c, "reset");
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		conn_close(m, c);
		return;
	}
	mock_log(m, c, NULL);
	conn_send(m, c);
}

static void
conn_read(struct mock *m, struct conn *c)
{
	char	buf[4096];
	ssize_t	n;

	for (;;) {
		if (c->state == CONN_DRAIN) {
			n = recv(c->fd, buf, sizeof buf, 0);
			if (n > 0)
				continue;
		} else {
			if (c->in.len >= MOCK_IN_MAX)
				break;
			strbuf_grow(&c->in, MOCK_CHUNK);
			n = recv(c->fd, c->in.buf + c->in.len,
			    c->in.cap - c->in.len - 1, 0);
			if (n > 0) {
				c->in.len += (size_t)n;
				c->in.buf[c->in.len] = '\0';
				continue;
			}
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == 0 && c->state == CONN_READ) {
			/*
			 * A client may shut its side once it has sent a
			 * request (nc does): answer what it sent, then close.
			 */
			c->eof = 1;
			conn_process(m, c);
			if (c->state == CONN_READ)
				conn_close(m, c);
			return;
		}
		/* The client went away (or the socket failed). */
		conn_close(m, c);
		return;
	}
	if (c->state == CONN_READ)
		conn_process(m, c);
}

static void
conn_free(struct conn *c)
{
	head_release(&c->head);
	strbuf_release(&c->in);
	strbuf_release(&c->out);
	strbuf_release(&c->resp);
	free(c->pad_tail);
	free(c);
}

static void
mock_accept(struct mock *m)
{
	struct conn	*c;
	int		 fd, one = 1;

	for (;;) {
		fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				m->accepting = 0;
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->state = CONN_READ;
		strbuf_init(&c->in);
		strbuf_init(&c->out);
		strbuf_init(&c->resp);
		m->conns = xreallocarray(m->conns, m->nconns + 1,
		    sizeof *m->conns);
		m->conns[m->nconns++] = c;
	}
}

static int
mock_listen(struct mock *m, long long port, char **cause)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		cause_set(cause, "listen on 127.0.0.1:%lld: %s", port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	m->listen_fd = fd;
	m->accepting = 1;
	return ntohs(sin.sin_port);
}

static int
portfile_write(const char *path, int port, char **cause)
{
	FILE	*f;
	char	*tmp;
	int	 bad;

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		cause_set(cause, "portfile '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	bad = fprintf(f, "%d\n", port) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		cause_set(cause, "portfile '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* The loop: until a signal, the lifetime or the idle time ends it. */
static void
mock_loop(struct mock *m)
{
	struct pollfd	*pfd = NULL;
	struct timespec	 ts;
	struct conn	*c;
	sigset_t	 unblocked;
	int64_t		 now, wake;
	size_t		 nfd, nc, i, k;
	short		 ev;
	int		 busy;

	sigemptyset(&unblocked);
	while (!mock_quit) {
		now = mock_now_ms();
		if (now - m->start_ms >= m->life_s * 1000)
			break;
		/* Fire due answers and end lingering closes. */
		busy = 0;
		for (i = 0; i < m->nconns; i++) {
			c = m->conns[i];
			if (c->state == CONN_WAIT && !c->hold &&
			    c->due_ms <= now)
				conn_fire(m, c);
			if (c->state == CONN_DRAIN && c->drain_until <= now)
				conn_close(m, c);
			if ((c->state == CONN_WAIT && !c->hold) ||
			    c->state == CONN_WRITE)
				busy = 1;
		}
		wake = m->start_ms + m->life_s * 1000;
		/* Batches still running keep it alive. */
		if (batch_tick(m, now, &wake))
			busy = 1;
		if (m->idle_s > 0 && !busy &&
		    now - m->last_req_ms >= m->idle_s * 1000)
			break;
		for (i = k = 0; i < m->nconns; i++) {
			if (m->conns[i]->state == CONN_DEAD)
				conn_free(m->conns[i]);
			else
				m->conns[k++] = m->conns[i];
		}
		m->nconns = k;

		if (m->idle_s > 0 && !busy &&
		    m->last_req_ms + m->idle_s * 1000 < wake)
			wake = m->last_req_ms + m->idle_s * 1000;
		pfd = xreallocarray(pfd, m->nconns + 1, sizeof *pfd);
		nfd = 0;
		nc = m->nconns;
		for (i = 0; i < nc; i++) {
			c = m->conns[i];
			ev = 0;
			switch (c->state) {
			case CONN_READ:
			case CONN_DRAIN:
				ev = POLLIN | POLLRDHUP;
				break;
			case CONN_WAIT:
				/* Reading shows whether the client left. */
				if (!c->eof)
					ev = POLLRDHUP;
				if (!c->eof && c->in.len < MOCK_IN_MAX)
					ev |= POLLIN;
				break;
			default:
				break;
			}
			if (c->outpos < c->out.len || c->pad_left > 0)
				ev |= POLLOUT;
			if (c->state == CONN_WAIT && !c->hold &&
			    c->due_ms < wake)
				wake = c->due_ms;
			if (c->state == CONN_DRAIN && c->drain_until < wake)
				wake = c->drain_until;
			pfd[nfd].fd = c->fd;
			pfd[nfd].events = ev;
			pfd[nfd].revents = 0;
			nfd++;
		}
		pfd[nfd].fd = m->accepting ? m->listen_fd : -1;
		pfd[nfd].events = POLLIN;
		pfd[nfd].revents = 0;
		nfd++;
		if (wake < now)
			wake = now;
		ts.tv_sec = (wake - now) / 1000;
		ts.tv_nsec = ((wake - now) % 1000) * 1000000;
		if (ppoll(pfd, nfd, &ts, &unblocked) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mockllm: poll: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < nc; i++) {
			c = m->conns[i];
			ev = pfd[i].revents;
			if (ev == 0 || c->state == CONN_DEAD)
				continue;
			if (ev & (POLLERR | POLLNVAL)) {
				conn_close(m, c);
				continue;
			}
			if (ev & (POLLIN | POLLHUP | POLLRDHUP)) {
				if (c->state == CONN_WAIT &&
				    c->in.len >= MOCK_IN_MAX)
					conn_close(m, c);
				else if (c->state != CONN_WRITE)
					conn_read(m, c);
			}
			if (c->state != CONN_DEAD && (ev & (POLLOUT | POLLHUP)))
				conn_flush(m, c);
		}
		if (pfd[nc].revents & POLLIN)
			mock_accept(m);
	}
	free(pfd);
}

static void
mock_free(struct mock *m)
{
	size_t	i;

	for (i = 0; i < m->nconns; i++) {
		if (m->conns[i]->state != CONN_DEAD)
			close(m->conns[i]->fd);
		conn_free(m->conns[i]);
	}
	free(m->conns);
	stats_reset(m);
	for (i = 0; i < m->nrules; i++)
		rule_release(&m->rules[i]);
	free(m->rules);
	for (i = 0; i < m->nreasoning; i++)
		free(m->reasoning[i]);
	free(m->reasoning);
	for (i = 0; i < m->bconf.nerror_ids; i++)
		free(m->bconf.error_ids[i]);
	free(m->bconf.error_ids);
	for (i = 0; i < m->nfiles; i++)
		file_free(m->files[i]);
	free(m->files);
	for (i = 0; i < m->nbatches; i++)
		batch_free(m->batches[i]);
	free(m->batches);
	job_free(m->job);
	if (m->log != NULL)
		fclose(m->log);
	if (m->listen_fd != -1)
		close(m->listen_fd);
	free(m->portfile);
}

int
main(int argc, char **argv)
{
	struct mock		 m;
	struct sigaction	 sa;
	sigset_t		 block;
	const char		*script = NULL, *world = NULL, *logpath = NULL;
	char			*cause = NULL;
	long long		 port = 0;
	int			 ch, bound, rc = 1;

	memset(&m, 0, sizeof m);
	m.listen_fd = -1;
	m.idle_s = 30;
	m.life_s = 300;
	m.epoch = 1;
	m.rl.window_ms = 60000;
	m.bconf.delay_ms = MOCK_BATCH_DELAY;
	m.cache_block = MOCK_CACHE_BLOCK;
	while ((ch = getopt(argc, argv, "i:l:P:p:s:t:w:")) != -1) {
		switch (ch) {
		case 'i':
			if (mock_number(optarg, 0, 86400 * 365, &m.idle_s) != 0)
				goto usage;
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'P':
			free(m.portfile);
			m.portfile = xstrdup(optarg);
			break;
		case 'p':
			if (mock_number(optarg, 0, 65535, &port) != 0)
				goto usage;
			break;
		case 's':
			script = optarg;
			break;
		case 't':
			if (mock_number(optarg, 1, 86400 * 365, &m.life_s) != 0)
				goto usage;
			break;
		case 'w':
			world = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	m.start_ms = m.last_req_ms = mock_now_ms();
	rng_seed(&m.rng, (uint64_t)time(NULL), (uint64_t)getpid());
	if (script != NULL && script_load(&m, script, &cause) != 0)
		goto fail;
	if (world != NULL && world_load(&m, world, &cause) != 0)
		goto fail;
	if (logpath != NULL) {
		if ((m.log = fopen(logpath, "a")) == NULL) {
			cause_set(&cause, "log file '%s': %s", logpath,
			    strerror(errno));
			goto fail;
		}
		setvbuf(m.log, NULL, _IOLBF, 0);
	}

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = mock_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Signals are only taken inside ppoll(), so none is missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);

	if ((bound = mock_listen(&m, port, &cause)) < 0)
		goto fail;
	m.port = bound;
	if (m.portfile != NULL && portfile_write(m.portfile, bound,
	    &cause) != 0)
		goto fail;
	m.start_ms = m.last_req_ms = mock_now_ms();
	mock_loop(&m);
	if (m.portfile != NULL)
		unlink(m.portfile);
	rc = 0;
	goto out;
usage:
	fputs(mock_usage, stderr);
	free(m.portfile);
	return 2;
fail:
	fprintf(stderr, "mockllm: %s\n", cause != NULL ? cause :
	    "unknown error");
out:
	free(cause);
	mock_free(&m);
	return rc;
}
