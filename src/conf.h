/*
 * promptd.conf(5): daemon settings, the shared backends and the price
 * table.  The file is JSON with comments, like job files, and errors are
 * reported the same way (FILE:LINE:COL: field: message).
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "backend.h"

struct backend;
struct jdoc;

struct price {
	char			*model;
	struct backend_price	 price;
};

struct conf {
	char		 *path;		/* NULL when no file was read */
	char		 *database;
	char		 *socket;
	char		 *log_file;
	struct backend	**backends;
	size_t		  nbackends;
	struct price	 *prices;
	size_t		  nprices;
};

/*
 * Reads the configuration.  path NULL means the default places
 * ($PROMPTD_CONF, $XDG_CONFIG_HOME/promptd/promptd.conf,
 * ~/.config/promptd/promptd.conf, then SYSCONFDIR/promptd.conf), where a
 * missing file is not an error; a path given explicitly must exist.
 */
struct conf	*conf_load(const char *path, char **cause);
void		 conf_free(struct conf *);

/*
 * Parses a "backends" object into an array of backends, recording
 * problems in doc.  Shared with job files, which may define their own.
 */
void		 conf_parse_backends(struct jdoc *, const void *obj,
		    const char *path, struct backend ***out, size_t *n);
/* Finds a backend by name in an array. */
struct backend	*conf_find_backend(struct backend **, size_t, const char *);
/*
 * Where the database and the control socket are: the override (-d, -S)
 * if given, else the configuration's, else the default: the database
 * as store_default_path() chooses it, the socket in systemd's
 * $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR/promptd.sock,
 * /run/promptd/promptd.sock for root, else /tmp/promptd-UID.sock.  Both
 * return allocated strings (NULL and *cause on failure).
 */
char		*conf_database_path(const struct conf *, const char *override,
		    char **cause);
char		*conf_socket_path(const struct conf *, const char *override);

/* Applies the price table to backends that have no price of their own. */
void		 conf_apply_prices(const struct conf *, struct backend **,
		    size_t);

#endif
