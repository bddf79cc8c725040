/*
 * Helpers shared by the fuzz harnesses: input copies, a private
 * directory for files, backends built from a configuration text, and
 * the engine's way of calling a backend's parse().
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "fuzz.h"
#include "jsonc.h"
#include "xmalloc.h"

static char	*fuzz_tmp;
static char	*fuzz_last;

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char	*s;

	s = xmalloc(size + 1);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Removes the directory and everything in it (files and sockets). */
static void
fuzz_cleanup(void)
{
	DIR		*d;
	struct dirent	*de;
	char		*path;

	free(fuzz_last);
	fuzz_last = NULL;
	if (fuzz_tmp == NULL || (d = opendir(fuzz_tmp)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", fuzz_tmp, de->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(fuzz_tmp);
	free(fuzz_tmp);
	fuzz_tmp = NULL;
}

const char *
fuzz_dir(void)
{
	const char	*base;

	if (fuzz_tmp != NULL)
		return fuzz_tmp;
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	fuzz_tmp = xasprintf("%s/promptd-fuzz.XXXXXX", base);
	if (mkdtemp(fuzz_tmp) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_tmp,
		    strerror(errno));
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_tmp;
}

const char *
fuzz_write(const char *name, const void *data, size_t len)
{
	const char	*p = data;
	char		*path;
	ssize_t		 n;
	int		 fd;

	/*
	 * A new file each time: ext4 writes a file truncated and rewritten
	 * out at close, which made each input wait for the disk.
	 */
	path = xasprintf("%s/%s", fuzz_dir(), name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		abort();
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fuzz: %s: %s\n", path,
			    strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	free(fuzz_last);
	fuzz_last = path;
	return path;
}

struct backend *
fuzz_backend(const char *conf)
{
	struct jdoc	*doc;
	struct backend	*b;
	char		*cause = NULL, *errors;

	if ((doc = jsonc_parse("fuzz.conf", conf, strlen(conf),
	    &cause)) == NULL) {
		fprintf(stderr, "fuzz: backend: %s\n", cause);
		abort();
	}
	b = backend_new(doc, "fuzz", doc->root, "backends.fuzz");
	errors = jv_errors(doc);
	if (b == NULL || errors != NULL) {
		fprintf(stderr, "fuzz: backend refused: %s\n",
		    errors != NULL ? errors : "(no error)");
		abort();
	}
	jsonc_free(doc);
	return b;
}

/* Checks that resp reads back the same from the cache's form. */
static void
fuzz_cache_trip(const struct model_resp *resp)
{
	struct model_resp	 back;
	char			*json, *cause = NULL;
	size_t			 i;

	if ((json = model_resp_to_json(resp)) == NULL)
		abort();
	if (model_resp_from_json(json, &back, &cause) != 0) {
		if (resp->text != NULL || resp->vec != NULL) {
			fprintf(stderr, "fuzz: cache form refused: %s: %s\n",
			    cause, json);
			abort();
		}
		/* As the engine does, nothing is released on failure. */
		free(cause);
		cJSON_free(json);
		return;
	}
	if ((resp->text == NULL) != (back.text == NULL) ||
	    (resp->text != NULL && strcmp(resp->text, back.text) != 0) ||
	    (resp->vec == NULL) != (back.vec == NULL) ||
	    back.dim != resp->dim) {
		fprintf(stderr, "fuzz: cache form differs: %s\n", json);
		abort();
	}
	for (i = 0; i < resp->dim; i++) {
		if (isfinite(resp->vec[i]) && resp->vec[i] != back.vec[i]) {
			fprintf(stderr, "fuzz: cache form changes vec[%zu]: "
			    "%s\n", i, json);
			abort();
		}
	}
	model_resp_release(&back);
	cJSON_free(json);
}

void
fuzz_parse(struct backend *b, long status, int embed, unsigned n,
    const char *body, size_t len)
{
	struct model_req	 req;
	struct model_resp	 resp;
	char			*cause = NULL;

	if (embed) {
		model_req_init(&req, REQ_EMBED, "embedder");
		req.input = xstrdup("Classify the sentiment.");
	} else {
		model_req_init(&req, REQ_CHAT, "target");
		model_req_add(&req, MSG_SYSTEM, "You classify reviews.");
		model_req_add(&req, MSG_USER, "Great phone, terrible battery.");
		req.n = n;
		req.temperature = n > 1 ? 1.0 : -1;
	}
	memset(&resp, 0, sizeof resp);
	if (b->ops->parse(b, &req, status, body, len, &resp, &cause) == 0) {
		if (cause != NULL) {
			fprintf(stderr, "fuzz: parse succeeded with a cause: "
			    "%s\n", cause);
			abort();
		}
		fuzz_cache_trip(&resp);
	} else if (cause == NULL) {
		fprintf(stderr, "fuzz: parse failed without a cause\n");
		abort();
	}
	free(cause);
	model_resp_release(&resp);
	model_req_release(&req);
}
