/*
 * Metrics score one model output against an example's expected value,
 * giving a number in [0, 1] and, for reflection strategies, a short
 * feedback text ("expected 'positive', got 'negative'").
 *
 * A metric is configured from the job's task.metric object:
 *
 *	{ "type": "exact", "normalize": ["case", "whitespace"],
 *	  "extract": "(?<answer>-?\\d+)" }
 *
 * Every metric accepts "extract", a PCRE2 pattern applied to the output
 * before scoring: the named group "answer" if the pattern has one, else
 * the whole match; no match scores 0 with feedback saying so.  Each type
 * is one file (metric_*.c) with one entry in the table in metric.c.
 *
 * The "judge" metric does not score by itself: its score needs a model
 * call.  metric_needs_judge() says so; the engine builds the request with
 * metric_judge_messages() and the judge service (judge.h) turns the
 * judge's reply into a score.
 *
 * The "learned" metric needs no target either: it scores an output with
 * a model of what people rate well, fitted to the job's production
 * feedback.  Such a type has a prepare hook, which a run calls with the
 * job's interactions before it scores anything (metric_prepare()).
 */
#ifndef METRIC_H
#define METRIC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct interaction_row;
struct jdoc;
struct metric;

struct metric_ops {
	const char		 *name;
	/* Keys this type accepts besides "type" and "extract" (NULL-ended). */
	const char *const	 *keys;
	/*
	 * Reads the type's options from conf (an object at path in doc),
	 * recording problems with jv_error().  Returns 0 or -1.
	 */
	int	(*init)(struct metric *, struct jdoc *, const cJSON *conf,
		    const char *path);
	/*
	 * Scores output (already extracted) against expected (borrowed, may
	 * be NULL when the example has no target).  Sets *feedback to an
	 * allocated text when feedback is not NULL.
	 */
	double	(*score)(const struct metric *, const char *output,
		    const cJSON *expected, char **feedback);
	void	(*free)(struct metric *);
	/*
	 * Optional: learns from a job's interactions (rows, n, borrowed)
	 * before the metric scores, the same way for the same rows and
	 * seed.  Sets *report to an allocated line saying what it learned
	 * (or NULL).  Returns 0, or -1 with *cause when it cannot score.
	 */
	int	(*prepare)(struct metric *, const struct interaction_row *rows,
		    size_t n, uint64_t seed, char **report, char **cause);
	/* Scores without the example's target (none is needed). */
	int	  no_target;
};

struct metric {
	const struct metric_ops	*ops;
	void			*extract;	/* pcre2_code *, or NULL */
	char			*extract_src;
	void			*data;		/* the type's own options */
};

/* All metric types, NULL-terminated; and lookup by name. */
extern const struct metric_ops *const metric_table[];
const struct metric_ops	*metric_lookup(const char *);

/*
 * Builds a metric from conf at path (e.g. "task.metric"); conf may also
 * be a bare string naming the type.  Problems go to doc's error list
 * (regex errors give the pattern offset); returns NULL if there were any.
 */
struct metric	*metric_new(struct jdoc *, const cJSON *conf, const char *path);
void		 metric_free(struct metric *);

/*
 * Applies the extraction regex (if any) and scores.  Returns the score;
 * *feedback (when asked for) explains a score below 1.
 */
double		 metric_score(const struct metric *, const char *output,
		    const cJSON *expected, char **feedback);

/*
 * Applies only the extraction regex: returns an allocated copy of the
 * answer, or NULL when the pattern does not match.  Without a pattern
 * returns a copy of output.
 */
char		*metric_extract(const struct metric *, const char *output);

/*
 * Whether the metric needs the examples' target (the task's "target"
 * field): not the judge, nor a metric that scores without one.
 */
int		 metric_needs_target(const struct metric *);
/*
 * Whether the metric learns from the job's feedback before it scores;
 * and that learning (the type's prepare hook; 0 with *report NULL for a
 * type without one).
 */
int		 metric_needs_feedback(const struct metric *);
int		 metric_prepare(struct metric *, const struct interaction_row *,
		    size_t n, uint64_t seed, char **report, char **cause);

/* The judge metric. */
int		 metric_needs_judge(const struct metric *);
/*
 * Builds the judge's messages as a cJSON array of {"role","content"}
 * objects (the caller's to free).  Rubric mode grades one output; pairwise
 * mode compares output with reference (the example's target, or another
 * prompt's output) and reversed says the reference is shown first.
 */
cJSON		*metric_judge_messages(const struct metric *, const char *input,
		    const char *output, const char *reference, int reversed);
/* The system message of the judge metric's requests (static). */
const char	*metric_judge_system(void);
/* Whether a judge metric compares (pairwise) rather than grades. */
int		 metric_judge_pairwise(const struct metric *);
/*
 * The question of a pairwise comparison: the input, the response shown
 * first (A) and second (B), an optional reference and the rubric, ending
 * with the request for a "Winner: A|B|tie" line.  Allocated.  The judge
 * service (judge.h) reads the replies.
 */
char		*metric_judge_pair_prompt(const char *rubric, const char *input,
		    const char *first, const char *second,
		    const char *reference);

/*
 * Shared by the metric_*.c files, not by the rest of the program.
 */
extern const struct metric_ops metric_exact_ops;
extern const struct metric_ops metric_contains_ops;
extern const struct metric_ops metric_regex_ops;
extern const struct metric_ops metric_f1_ops;
extern const struct metric_ops metric_set_ops;
extern const struct metric_ops metric_number_ops;
extern const struct metric_ops metric_json_ops;
extern const struct metric_ops metric_judge_ops;
extern const struct metric_ops metric_learned_ops;

/*
 * Compiles a UTF-8 pattern (len bytes) with PCRE2_UTF plus flags and
 * returns the pcre2_code (the caller's to free with pcre2_code_free()).
 * On failure returns NULL, sets *erroff to the offset in the pattern and
 * *cause to PCRE2's message (allocated).
 */
void		*metric_regex_new(const char *pattern, size_t len,
		    unsigned int flags, size_t *erroff, char **cause);
/*
 * An allocated copy of s for feedback: at most about 80 bytes, cut on a
 * character boundary with "..." added, line breaks and tabs turned into
 * spaces.
 */
char		*metric_quote(const char *s);

#endif
