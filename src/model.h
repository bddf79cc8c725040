/*
 * Model requests and responses: what the engine asks a backend and what
 * comes back, as plain data; their release, and a response's form in the
 * call cache.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

enum msg_role {
	MSG_SYSTEM,
	MSG_USER,
	MSG_ASSISTANT,
};

struct chat_msg {
	enum msg_role	 role;
	char		*content;
};

enum req_kind {
	REQ_CHAT,
	REQ_EMBED,
};

struct model_req {
	enum req_kind	 kind;
	const char	*role;		/* target, optimizer, judge, embedder */
	struct chat_msg	*msgs;		/* chat */
	size_t		 nmsgs;
	char		*input;		/* embed */
	double		 temperature;	/* < 0: the backend's default */
	int		 max_tokens;	/* 0: the backend's default */
	unsigned	 sample;	/* which sample, for temperature > 0 */
	unsigned	 n;		/* samples in one call (choices
					 * sample .. sample + n - 1); 0 or 1:
					 * one */
};

struct model_resp {
	char		*text;		/* chat */
	float		*vec;		/* embed, L2-normalized by the caller */
	size_t		 dim;
	long long	 prompt_tokens;		/* all input, cached too */
	long long	 completion_tokens;	/* all output, reasoning too */
	long long	 cached_tokens;		/* input read from the
						   provider's prompt cache */
	long long	 cache_write_tokens;	/* input written to it */
	long long	 reasoning_tokens;	/* output spent thinking */
	char		*finish;	/* "stop", "length", ... or NULL */
	char		**choices;	/* when the request asked for n > 1:
					 * every sample, text is the first */
	size_t		 nchoices;
};

void		 model_req_init(struct model_req *, enum req_kind,
		    const char *role);
void		 model_req_add(struct model_req *, enum msg_role, const char *);
void		 model_req_release(struct model_req *);
void		 model_resp_release(struct model_resp *);
/*
 * Serialization for the cache (allocated JSON text), and back; a
 * response that cannot be read back holds nothing allocated.
 */
char		*model_resp_to_json(const struct model_resp *);
int		 model_resp_from_json(const char *, struct model_resp *,
		    char **cause);
const char	*msg_role_name(enum msg_role);

#endif
