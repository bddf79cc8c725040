/*
 * Demonstrations: the worked examples a candidate prompt shows the target
 * before the input it asks about (few-shot).  A demo is an input as the
 * target sees it and the answer shown for it: the dataset's expected
 * answer, or the target's own earlier answer (a bootstrapped demo).  A
 * candidate is its instruction and an ordered list of demos; how demos
 * are rendered into a request is the task's (task.h).  Services layer:
 * the store keeps them (candidate_demos) and the strategies choose them.
 */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct strbuf;

struct demo {
	int64_t	 example;	/* the examples row it came from, 0: none */
	char	*input;		/* the input as the target is shown it */
	char	*output;	/* the answer shown */
};

struct demos {
	struct demo	*v;
	size_t		 n;
};

/* Appends a demo (copies of the texts). */
void		 demos_add(struct demos *, int64_t example, const char *input,
		    const char *output);
void		 demos_copy(struct demos *dst, const struct demos *src);
void		 demos_release(struct demos *);
/* Whether two lists show the same demos in the same order. */
int		 demos_equal(const struct demos *, const struct demos *);
/*
 * What a candidate's identity adds for its demos: appended to the normal
 * form of its instruction before that is hashed.  Nothing for none, so
 * that a prompt without demos keeps the hash it always had.
 */
void		 demos_key(const struct demos *, struct strbuf *);
/*
 * As JSON: [{"example": id, "input": text, "output": text}, ...] (example
 * left out when 0), and back; from_json names the first bad member in
 * *cause ("demos[2].output: expected a string").
 */
cJSON		*demos_to_json(const struct demos *);
int		 demos_from_json(const cJSON *, const char *what,
		    struct demos *, char **cause);

#endif
