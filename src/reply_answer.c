/*
 * A labeler's answer (reply.h): what a model says the correct answer to
 * an input is.  Asked for in an <answer> element, which reply_read()
 * reads with its usual tolerance; a model that writes the answer on a
 * line of its own instead ("**Answer:** positive", "The correct answer
 * is 42.") or replies with the bare answer is read as well, so that a
 * reply is only unusable when it holds no answer, or declines to give
 * one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "reply_int.h"
#include "util.h"
#include "xmalloc.h"

/* Words a reply gives at most without a tag: one short line. */
#define ANSWER_BARE_WORDS	12
/* Words of an answer that loses its closing period. */
#define ANSWER_SHORT_WORDS	5

/* Labels of a line that gives the answer, longer ones first. */
static const char *const answer_labels[] = {
	"the correct answer is", "the final answer is", "the answer is",
	"correct answer", "final answer", "correct label", "answer",
	"label", NULL
};

static size_t
count_words(const char *s)
{
	size_t	n = 0;
	int	in = 0;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/*
 * A short one-line answer without its closing period ("positive." is
 * "positive"); a sentence keeps it.  s is changed in place.
 */
static void
answer_trim(char *s)
{
	size_t	n = strlen(s);

	if (n > 1 && s[n - 1] == '.' && isalnum((unsigned char)s[n - 2]) &&
	    strchr(s, '\n') == NULL && count_words(s) <= ANSWER_SHORT_WORDS)
		s[n - 1] = '\0';
}

/* The value of a line that starts with an answer label, or NULL. */
static char *
answer_of_line(const char *p, const char *le)
{
	const char	*v;
	char		*s;
	size_t		 i, n = 0;

	while (p < le && reply_md_char(*p))
		p++;
	for (i = 0; answer_labels[i] != NULL; i++)
		if ((n = reply_prefix(p, answer_labels[i])) != 0)
			break;
	if (answer_labels[i] == NULL || (p + n < le &&
	    isalnum((unsigned char)p[n])))
		return NULL;
	v = p + n;
	while (v < le && reply_md_char(*v))
		v++;
	/* "Answer: x", "Answer - x"; "the answer is x" needs neither. */
	if (v < le && (*v == ':' || *v == '-')) {
		/* "**Answer:** x": the emphasis closed after the colon. */
		for (v++; v < le && reply_md_char(*v); v++)
			;
	} else if (strncmp(answer_labels[i] + strlen(answer_labels[i]) - 3,
	    " is", 3) != 0)
		return NULL;
	s = reply_clean(v, (size_t)(le - v));
	if (*s == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The answer given outside a tag: the value of the last line that labels
 * it, else the whole reply when it is one short line.  NULL when there
 * is none.
 */
static char *
answer_untagged(const char *text)
{
	const char	*p, *le;
	char		*found = NULL, *s;

	for (p = text; *p != '\0'; p = *le != '\0' ? le + 1 : le) {
		le = p + strcspn(p, "\n");
		if ((s = answer_of_line(p, le)) != NULL) {
			free(found);
			found = s;
		}
	}
	if (found != NULL)
		return found;
	/* A bare answer; an empty element ("<answer></answer>") is none. */
	s = reply_clean(text, strlen(text));
	if (*s == '\0' || strchr(s, '\n') != NULL || strstr(s, "</") != NULL ||
	    count_words(s) > ANSWER_BARE_WORDS) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The last <answer> element of text, or of text cleaned (a whole reply
 * in a code fence, whose tags read as a mention of them); NULL when
 * there is none.  *n is how many there were.
 */
static char *
answer_tagged(const char *text, size_t *n)
{
	char	**el, *clean, *last;
	size_t	  i;

	if ((*n = reply_answers(text, "answer", &el)) == 0) {
		free(el);
		clean = reply_clean(text, strlen(text));
		*n = reply_answers(clean, "answer", &el);
		free(clean);
	}
	last = *n > 0 ? el[*n - 1] : NULL;
	for (i = 0; i + 1 < *n; i++)
		free(el[i]);
	free(el);
	return last;
}

/* Whether answer repeats an <answer> element shown in meta. */
static int
answer_shown(const char *answer, const char *meta)
{
	char	**el, *norm, *s;
	size_t	  n, i;
	int	  found = 0;

	if (meta == NULL)
		return 0;
	norm = reply_norm(answer);
	n = reply_answers(meta, "answer", &el);
	for (i = 0; i < n; i++) {
		s = reply_norm(el[i]);
		found |= strcmp(s, norm) == 0;
		free(s);
		free(el[i]);
	}
	free(el);
	free(norm);
	return found;
}

void
reply_read_answer(const char *reply, const char *meta, struct reply_read *r)
{
	char	*text, *answer;
	size_t	 n;

	memset(r, 0, sizeof *r);
	text = reply_unthink(reply != NULL ? reply : "");
	if ((answer = answer_tagged(text, &n)) == NULL &&
	    (answer = answer_untagged(text)) != NULL)
		n = 1;
	r->found = n;
	if (answer != NULL) {
		answer_trim(answer);
		r->longest = strlen(answer);
	}
	if (answer != NULL && reply_refusal(answer)) {
		r->outcome = REPLY_REFUSED;
		r->problem = xstrdup("the reply declines the task");
	} else if (answer != NULL && answer_shown(answer, meta)) {
		r->outcome = REPLY_ECHO;
		r->echoes = 1;
		r->problem = xstrdup("the <answer> element repeats what you "
		    "were given instead of a new one");
	} else if (answer != NULL) {
		r->outcome = REPLY_USABLE;
		r->items = xcalloc(1, sizeof *r->items);
		r->items[0] = answer;
		r->n = 1;
		answer = NULL;
	} else if (reply_refusal(text)) {
		r->outcome = REPLY_REFUSED;
		r->problem = xstrdup("the reply declines the task");
	} else {
		r->outcome = REPLY_UNREADABLE;
		r->problem = xstrdup(*text == '\0' && reply != NULL &&
		    *reply != '\0' ? "the reply ended inside a <think> block, "
		    "with no <answer> element" : *text == '\0' ? "the reply "
		    "is empty" : "no <answer> element found");
	}
	free(answer);
	free(text);
}

/*
 * What a labeler writes when it gives no answer, as reply_norm() has it
 * (no apostrophes, no closing punctuation: "?" is "").
 */
static const char *const no_answers[] = {
	"", "unknown", "unclear", "ambiguous", "uncertain", "unsure",
	"not sure", "undetermined", "undecidable", "indeterminate",
	"cannot tell", "cant tell", "cannot say", "cant say",
	"cannot determine", "cant determine", "cannot be determined",
	"n/a", "none", NULL
};

int
reply_no_answer(const char *answer)
{
	char	*norm;
	size_t	 i;
	int	 found = 0;

	norm = reply_norm(answer);
	for (i = 0; no_answers[i] != NULL && !found; i++)
		found = strcmp(norm, no_answers[i]) == 0;
	free(norm);
	return found;
}
