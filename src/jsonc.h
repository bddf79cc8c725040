/*
 * JSON with comments, for files people write (job files, promptd.conf).
 *
 * jsonc_parse() reads JSON extended with // and slash-star comments and
 * builds a cJSON tree while remembering the line and column where each
 * value starts, so later checks can say "FILE:LINE:COL: task.metric:
 * expected an object".  Syntax errors, duplicate keys and invalid UTF-8
 * are reported with their position.
 *
 * A struct jdoc owns the tree and the position table.  The validation
 * helpers (jv_*) collect every problem they find in the document's error
 * list instead of stopping at the first, so a user sees all of them.
 */
#ifndef JSONC_H
#define JSONC_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct jpos {
	const cJSON	*node;
	unsigned	 line;		/* where the value starts */
	unsigned	 col;
	unsigned	 kline;		/* where its key starts (members) */
	unsigned	 kcol;
};

struct jdoc {
	char		*file;		/* name used in messages */
	cJSON		*root;
	struct jpos	*pos;		/* open-addressed by node pointer */
	size_t		 npos;
	size_t		 cappos;
	char		**errors;	/* "FILE:LINE:COL: message" */
	size_t		 nerrors;
};

/* Type masks for jv_get(). */
#define JV_STRING	0x01
#define JV_NUMBER	0x02
#define JV_BOOL		0x04
#define JV_OBJECT	0x08
#define JV_ARRAY	0x10
#define JV_NULL		0x20
#define JV_ANY		0x3f

/*
 * Parses text (len bytes) named file.  On a syntax error returns NULL and
 * sets *cause to "FILE:LINE:COL: message".
 */
struct jdoc	*jsonc_parse(const char *file, const char *text, size_t len,
		    char **cause);
/* Reads and parses a file (at most max bytes). */
struct jdoc	*jsonc_load(const char *path, size_t max, char **cause);
void		 jsonc_free(struct jdoc *);

/* Position of a node of the tree (or of its key); 0/0 when unknown. */
void		 jsonc_where(const struct jdoc *, const cJSON *, unsigned *line,
		    unsigned *col);
void		 jsonc_where_key(const struct jdoc *, const cJSON *,
		    unsigned *line, unsigned *col);

/*
 * Records an error at node (or at the document when node is NULL) with
 * the field path first: "FILE:LINE:COL: task.metric: message".
 */
void		 jv_error(struct jdoc *, const cJSON *node, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* All errors joined by newlines (the caller's to free), or NULL if none. */
char		*jv_errors(const struct jdoc *);
/*
 * One error line, "FILE:LINE:COL: path: message", as an object with
 * "file", "line", "column", "path" and "message" (the caller's); the
 * parts a line does not have (a file that could not be opened has no
 * position, a syntax error no path) are null.
 */
cJSON		*jv_error_json(const char *line);

/* Moves the error list into *cause (when cause is not NULL); returns -1. */
int		 jv_fail(const struct jdoc *, char **cause);

/* Joins a path and a key: ("task", "metric") -> "task.metric". */
char		*jv_path(const char *path, const char *key);
/* Joins a path and an index: ("seed_prompts", 2) -> "seed_prompts[2]". */
char		*jv_path_index(const char *path, size_t index);

/*
 * Checks that obj is an object whose keys are all in the NULL-terminated
 * list allowed; an unknown key is reported with a "did you mean" when one
 * is close.  Returns 0 when no error was added.
 */
int		 jv_keys(struct jdoc *, const cJSON *obj, const char *path,
		    const char *const *allowed);

/*
 * Returns the member key of obj if it has one of the types in mask, NULL
 * if it is absent (an error when required) or has another type (always an
 * error, naming what was expected).
 */
const cJSON	*jv_get(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int mask, int required);

/*
 * Typed getters.  Each returns 0 when the value was absent and optional
 * (leaving *out untouched), 1 when it was read, -1 after recording an
 * error.
 */
int		 jv_string(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int required, const char **out);
int		 jv_number(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int required, double min, double max,
		    double *out);
int		 jv_int(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int required, long long min, long long max,
		    long long *out);
int		 jv_bool(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int required, int *out);
/* A string that must be one of choices; *out is its index. */
int		 jv_enum(struct jdoc *, const cJSON *obj, const char *path,
		    const char *key, int required, const char *const *choices,
		    int *out);

/* A string member of o, or def; a number member of o, or NAN. */
const char	*json_str(const cJSON *o, const char *key, const char *def);
double		 json_num(const cJSON *o, const char *key);

/* "an object", "an array", "a string", ... for messages. */
const char	*json_kind(const cJSON *);

/* The text of a JSON value: a string as is, anything else printed. */
char		*json_text(const cJSON *);

#endif
