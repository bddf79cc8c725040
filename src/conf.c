/* promptd.conf: settings, shared backends and prices. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "conf.h"
#include "jsonc.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#ifndef PROMPTD_SYSCONFDIR
#define PROMPTD_SYSCONFDIR "/etc"
#endif

#define CONF_MAX_BYTES	((size_t)4 << 20)

static const char *const conf_keys[] = {
	"database", "socket", "log_file", "backends", "prices", NULL
};

void
conf_parse_backends(struct jdoc *doc, const void *objp, const char *path,
    struct backend ***out, size_t *n)
{
	const cJSON	*obj = objp, *v;
	struct backend	*b;
	char		*p;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsObject(obj))
		return;
	cJSON_ArrayForEach(v, obj) {
		p = jv_path(path, v->string);
		if ((b = backend_new(doc, v->string, v, p)) != NULL) {
			*out = xreallocarray(*out, *n + 1, sizeof **out);
			(*out)[(*n)++] = b;
		}
		free(p);
	}
}

struct backend *
conf_find_backend(struct backend **list, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i]->name, name) == 0)
			return list[i];
	return NULL;
}

void
conf_apply_prices(const struct conf *conf, struct backend **list, size_t n)
{
	size_t	i, j;

	if (conf == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (list[i]->price.input != 0 || list[i]->price.output != 0)
			continue;
		for (j = 0; j < conf->nprices; j++) {
			if (strcmp(conf->prices[j].model, list[i]->model) == 0) {
				list[i]->price = conf->prices[j].price;
				break;
			}
		}
	}
}

static void
conf_parse_prices(struct conf *conf, struct jdoc *doc, const cJSON *obj)
{
	const cJSON	*v;
	struct price	*pr;
	char		*p;

	cJSON_ArrayForEach(v, obj) {
		p = jv_path("prices", v->string);
		if (!cJSON_IsObject(v)) {
			jv_error(doc, v, p, "expected an object with input "
			    "and output prices");
			free(p);
			continue;
		}
		conf->prices = xreallocarray(conf->prices, conf->nprices + 1,
		    sizeof *conf->prices);
		pr = &conf->prices[conf->nprices++];
		pr->model = xstrdup(v->string);
		backend_price_init(&pr->price);
		backend_price(doc, v, p, &pr->price);
		free(p);
	}
}

static char *
conf_default_path(void)
{
	const char	*e;
	char		*p;

	if ((e = getenv("PROMPTD_CONF")) != NULL && *e != '\0')
		return xstrdup(e);
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e != '\0') {
		p = xasprintf("%s/promptd/promptd.conf", e);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	if ((e = getenv("HOME")) != NULL && *e != '\0') {
		p = xasprintf("%s/.config/promptd/promptd.conf", e);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	p = xstrdup(PROMPTD_SYSCONFDIR "/promptd.conf");
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}

struct conf *
conf_load(const char *path, char **cause)
{
	struct conf	*conf;
	struct jdoc	*doc;
	const cJSON	*v;
	const char	*s;
	char		*dflt = NULL;

	conf = xcalloc(1, sizeof *conf);
	if (path == NULL && (path = dflt = conf_default_path()) == NULL)
		return conf;
	if ((doc = jsonc_load(path, CONF_MAX_BYTES, cause)) == NULL) {
		free(dflt);
		conf_free(conf);
		return NULL;
	}
	conf->path = xstrdup(path);
	free(dflt);
	if (!cJSON_IsObject(doc->root))
		jv_error(doc, doc->root, "", "expected an object");
	else {
		jv_keys(doc, doc->root, "", conf_keys);
		if (jv_string(doc, doc->root, "", "database", 0, &s) == 1)
			conf->database = path_relative_to(path, s);
		if (jv_string(doc, doc->root, "", "socket", 0, &s) == 1)
			conf->socket = path_relative_to(path, s);
		if (jv_string(doc, doc->root, "", "log_file", 0, &s) == 1)
			conf->log_file = path_relative_to(path, s);
		if ((v = jv_get(doc, doc->root, "", "prices", JV_OBJECT, 0)) !=
		    NULL)
			conf_parse_prices(conf, doc, v);
		if ((v = jv_get(doc, doc->root, "", "backends", JV_OBJECT,
		    0)) != NULL)
			conf_parse_backends(doc, v, "backends", &conf->backends,
			    &conf->nbackends);
		conf_apply_prices(conf, conf->backends, conf->nbackends);
	}
	if (doc->nerrors != 0) {
		jv_fail(doc, cause);
		jsonc_free(doc);
		conf_free(conf);
		return NULL;
	}
	jsonc_free(doc);
	return conf;
}

char *
conf_database_path(const struct conf *conf, const char *override,
    char **cause)
{
	if (override != NULL)
		return xstrdup(override);
	if (conf != NULL && conf->database != NULL)
		return xstrdup(conf->database);
	return store_default_path(cause);
}

char *
conf_socket_path(const struct conf *conf, const char *override)
{
	const char	*e;
	char		*dir, *path;

	if (override != NULL)
		return xstrdup(override);
	if (conf != NULL && conf->socket != NULL)
		return xstrdup(conf->socket);
	/* systemd's RuntimeDirectory=. */
	if ((dir = systemd_dir("RUNTIME_DIRECTORY")) != NULL) {
		path = xasprintf("%s/promptd.sock", dir);
		free(dir);
		return path;
	}
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL && *e != '\0')
		return xasprintf("%s/promptd.sock", e);
	/* Where the system service listens (promptd.service). */
	if (getuid() == 0)
		return xstrdup("/run/promptd/promptd.sock");
	return xasprintf("/tmp/promptd-%ld.sock", (long)getuid());
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nbackends; i++)
		backend_free(conf->backends[i]);
	free(conf->backends);
	for (i = 0; i < conf->nprices; i++)
		free(conf->prices[i].model);
	free(conf->prices);
	free(conf->path);
	free(conf->database);
	free(conf->socket);
	free(conf->log_file);
	free(conf);
}
