/*
 * Production feedback: the log format of promptd-feedback(5), one JSON
 * object a line, each an interaction (the inputs a deployed prompt
 * answered, the response, who and when, and what people made of it), and
 * its reader.  Nothing here touches the store: feedback_parse_line()
 * turns one line into a struct interaction or an error that names the
 * field, and the ingester (cmd_ingest.c, jobrun.c's refresh) stores what
 * it gets with store_interaction_put().
 *
 * A line's fields (see the man page for every rule):
 *   "id"        string: the interaction's own id; without one, the
 *               SHA-256 of the line's canonical JSON is its key, so the
 *               same line read twice is one interaction
 *   "time"      number (seconds since the epoch) or RFC 3339 string;
 *               default: when it is ingested
 *   "job"       string: when present, the job it must be ingested into
 *   "version"   integer >= 1: the champion version that answered
 *   "prompt"    string: the prompt that answered (when not a version)
 *   "inputs"    object: the task's fields (strings, numbers, booleans)
 *   "response"  string: what the model answered; required
 *   "user", "session"  strings
 *   "rating"    "up" / "down", true / false, or an integer 1 to 5
 *   "preference" object: "other" (the other response, string, required),
 *               "preferred" ("this", "other" or "tie", required),
 *               "other_version" (integer), "other_prompt" (string)
 *   "critique"  string: what a person said of the response
 *   "edit"      string: the response as a person corrected it
 *   "signals"   object: "regenerated", "abandoned", "copied" (booleans),
 *               "follow_up" (string)
 * At least one of rating, preference, critique, edit and signals.
 * Unknown fields are errors (a misspelt "ratng" would silently drop the
 * rating otherwise); strings are valid UTF-8 and at most
 * FEEDBACK_MAX_TEXT bytes.
 */
#ifndef FEEDBACK_H
#define FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define FEEDBACK_MAX_LINE	((size_t)1 << 20)	/* 1 MiB a line */
#define FEEDBACK_MAX_TEXT	((size_t)256 << 10)	/* 256 KiB a string */

/* A rating's scale: none, thumbs (0 or 1), stars (1 to 5). */
enum rating_scale {
	RATING_NONE,
	RATING_THUMBS,
	RATING_STARS,
};

enum preferred {
	PREFERRED_NONE,		/* no preference given */
	PREFERRED_THIS,
	PREFERRED_OTHER,
	PREFERRED_TIE,
};

/* An implicit signal not given is -1; a given one 0 or 1. */
struct interaction {
	char			 key[65];	/* "id", or the line's hash */
	int			 has_id;	/* key is the line's own id */
	double			 time;
	char			*job;		/* NULL for none */
	int			 version;	/* 0 for none */
	char			*prompt;	/* NULL for none */
	cJSON			*inputs;	/* object, owned */
	char			*response;
	char			*user;		/* NULL for none */
	char			*session;	/* NULL for none */
	enum rating_scale	 scale;
	int			 rating;	/* thumbs 0/1, stars 1..5 */
	enum preferred		 preferred;
	char			*other;		/* the other response */
	int			 other_version;	/* 0 for none */
	char			*other_prompt;	/* NULL for none */
	char			*critique;	/* NULL for none */
	char			*edit;		/* NULL for none */
	int			 regenerated;	/* -1, 0 or 1 */
	int			 abandoned;
	int			 copied;
	char			*follow_up;	/* NULL for none */
};

/*
 * Reads one line (len bytes, without its newline) into *it, with now as
 * the time of a line that gives none.  Returns 0, or -1 with *cause
 * "FIELD: message" (the caller puts "FILE:LINE: " in front; a problem
 * with the line as a whole has no field: "expected a JSON object").  A
 * blank line is 1: nothing to read, not an error.
 */
int	feedback_parse_line(const char *line, size_t len, double now,
	    struct interaction *it, char **cause);
void	feedback_release(struct interaction *);

/*
 * A user id as the job keeps it: "keep" as given, "hash" as the
 * hex SHA-256 of salt and id (so the same person is still one user, and
 * forget can find them from the id), "drop" as NULL.  Allocated.
 */
enum user_policy {
	USERS_KEEP,
	USERS_HASH,
	USERS_DROP,
};
char	*feedback_user(enum user_policy, const char *salt, const char *user);

/*
 * What a rating says, from 0 (worst) to 1 (best): thumbs as 0 or 1, stars
 * 1..5 as 0, 0.25 .. 1.  NAN without a rating.
 */
double	feedback_rating_value(const struct interaction *);

#endif
