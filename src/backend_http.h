/*
 * What the HTTP backends (openai, anthropic, ollama) share: the base URL
 * list, the API key and extra headers from the configuration, the JSON
 * reply and the wording of errors.  Nothing here touches the network.
 */
#ifndef BACKEND_HTTP_H
#define BACKEND_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct backend;
struct http_req;
struct jdoc;
struct model_req;
struct model_resp;

struct backend_http {
	const char	 *type;		/* "openai": the prefix of causes */
	char		 *key;		/* the API key or NULL; a secret */
	char		 *nokey;	/* why there is no key, for 401s */
	char		**headers;	/* extra "Name: value" lines */
	size_t		  nheaders;
};

/*
 * Reads base_url (string or array; default url) into b->urls and b->nurls
 * without trailing slashes, the extra headers, and, when key_env is not
 * NULL, the API key from api_key_file or the environment variable named
 * by api_key_env (default key_env).  A missing variable is not an error;
 * an unreadable key file is.  Problems go to doc with their field path and
 * never quote the key.  type is borrowed for the life of h.  Returns 0,
 * or -1 when an error was recorded.
 */
int	 backend_http_init(struct backend_http *, struct backend *,
	    struct jdoc *, const cJSON *conf, const char *path,
	    const char *type, const char *url, const char *key_env);
/*
 * Sets b->identity to "TYPE URL" (the first base URL), followed by a
 * digest of opts (borrowed; may be NULL) when it has members: options
 * that change the answers belong in every cache key.  Never the key.
 */
void	 backend_http_identity(struct backend *, const char *type,
	    const cJSON *opts);
/* Wipes the key and frees what init allocated; the struct stays. */
void	 backend_http_release(struct backend_http *);

/* Adds the configured extra headers to req. */
void	 backend_http_headers(const struct backend_http *, struct http_req *);

/*
 * Reads a stop key (a string or an array of at most max strings; max 0
 * for no limit) into a new JSON array, or NULL when absent or invalid.
 */
cJSON	*backend_http_stop(struct jdoc *, const cJSON *conf, const char *path,
	    size_t max);

/*
 * Sets *cause to "TYPE: " and the formatted message with every occurrence
 * of the key replaced.  Returns -1.
 */
int	 backend_http_fail(const struct backend_http *, char **cause,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The reply for an error status: "TYPE: HTTP STATUS: message", where
 * message is the provider's (escaped), or the first 200 bytes of a body
 * that carried none, escaped.  A 401 without a key says why there was
 * none.  Returns -1.
 */
int	 backend_http_error(const struct backend_http *, long status,
	    const char *body, size_t len, const char *message, char **cause);

/*
 * Parses a reply body as a JSON object; NULL when it is not one.
 */
cJSON	*backend_http_json(const char *body, size_t len);
/*
 * For a success status whose body is not a JSON object: "TYPE: malformed
 * reply: not a JSON object: " and the body's first 200 bytes, escaped.
 * Returns -1.
 */
int	 backend_http_not_json(const struct backend_http *, const char *body,
	    size_t len, char **cause);

/* Finishes a request body: prints obj into req->body and frees obj. */
void	 backend_http_body(struct http_req *, cJSON *obj);

/* Prints a model's text for a cause: escaped and cut. */
char	*backend_http_escape(const char *, size_t max);

/* The effective output token limit (request, else backend; 0: omit). */
int	 backend_http_max_tokens(const struct backend *,
	    const struct model_req *);

/*
 * The messages as a JSON array of {"role", "content"}, leaving out
 * system messages when nosystem is set.
 */
cJSON	*backend_http_messages(const struct model_req *, int nosystem);

/*
 * Sets the token counts from the reply's numbers in and out (either may
 * be NULL or not a number), estimating what is missing from the request
 * and from resp->text.
 */
void	 backend_http_usage(struct model_resp *, const struct model_req *,
	    const cJSON *in, const cJSON *out);

/*
 * Reads the rate-limit header lines of an answer (as http.c keeps them:
 * OpenAI's x-ratelimit-remaining-{requests,tokens} and
 * x-ratelimit-reset-* durations such as "6m0s" or "120ms", Anthropic's
 * anthropic-ratelimit-{requests,tokens,input-tokens}-{remaining,reset},
 * the reset an RFC 3339 time) into what is left and in how many seconds
 * it is whole again; a value not given is -1.  now is the wall clock.
 * Returns 1 when any was given.
 */
int	 backend_http_limits(const char *lines, double now, double *req_left,
	    double *req_reset, double *tok_left, double *tok_reset);

/*
 * A batch's line for req (batch_item): {"custom_id": id, member: the
 * body of the interactive call}, and the call's path in *path when path
 * is not NULL (the caller's); NULL with *cause if it cannot be built.
 */
cJSON	*backend_http_batch_item(struct backend *, const struct model_req *,
	    const char *id, const char *member, char **path, char **cause);

/*
 * Reads batch mode's keys (types with a batch API): "batch", false or a
 * completion window such as "24h"; "batch_poll", the seconds before the
 * first poll (doubled each time, up to ten minutes); "batch_max", the
 * most requests in one batch.
 */
void	 backend_http_batch(struct backend *, struct jdoc *, const cJSON *conf,
	    const char *path);

/* A count of tokens from a reply: a whole number >= 0, else 0. */
long long backend_http_count(const cJSON *);

/* Reads a vector of numbers into resp->vec; -1 when arr is not one. */
int	 backend_http_vector(const cJSON *arr, struct model_resp *);

#endif
