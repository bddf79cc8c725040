/*
 * Reading model replies.  This is the one place that turns what a chat
 * model wrote into what promptd asked for: the elements of a tag (the
 * new prompts of an optimizer reply, a critique) or a verdict (the
 * winner of a comparison, a grade).  Real models do not answer as
 * neatly as they are asked to, so the reader expects what they write:
 *
 *	- <think>...</think> blocks of reasoning models are dropped first
 *	  (and everything up to a </think> that has no opening tag);
 *	- tags are matched without regard to case, with attributes and
 *	  line breaks inside the opening tag (<Prompt id="2">, <prompt\n>);
 *	  a closing tag may have white space before its '>';
 *	- a tag in inline code (`<prompt>`), a tag followed by the word
 *	  "tag" or "tags", and an element that holds no letter or digit
 *	  (<prompt>...</prompt>, <prompt> and </prompt>) are mentions of
 *	  the format, not elements;
 *	- when an opening tag is opened again before it is closed, the
 *	  later one starts the element;
 *	- the last element may lack its closing tag: it is read to the end
 *	  of the reply;
 *	- what an element holds is cleaned: code fences around it, quotes
 *	  around the whole text, markdown labels and chatty lead-ins on its
 *	  first line ("**Improved prompt:**", "Prompt:", "### New Prompt",
 *	  "Sure! Here is the prompt:"), and a closing remark after a blank
 *	  line ("Let me know if...", "This prompt...") are removed.
 *
 * A reply as a whole has one outcome (enum reply_outcome).  The outcome
 * and what was wrong are stored with the call that produced the reply.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

enum reply_outcome {
	REPLY_USABLE,		/* read as asked */
	REPLY_REPAIRED,		/* read after a repair turn */
	REPLY_UNREADABLE,	/* no element, or no verdict */
	REPLY_ECHO,		/* only what it was shown, given back */
	REPLY_TOO_LONG,		/* only prompts over the length limit */
	REPLY_REFUSED,		/* the model declined the task */
	REPLY_NOUTCOMES
};

/* "usable", "repaired", "unreadable", "echo", "too long", "refused". */
const char	*reply_outcome_name(enum reply_outcome);
/* The outcome of a name as reply_outcome_name() gives it, or -1. */
int		 reply_outcome_from(const char *);
/* Whether the outcome gave what was asked for (usable or repaired). */
int		 reply_outcome_ok(enum reply_outcome);

/* A reply read for the elements of a tag. */
struct reply_read {
	enum reply_outcome	 outcome;
	char			**items;	/* kept elements, cleaned */
	size_t			 n;
	size_t			 found;		/* elements in the reply */
	size_t			 echoes;	/* dropped as echoes */
	size_t			 too_long;	/* dropped for their length */
	size_t			 longest;	/* bytes of the longest */
	char			*rationale;	/* the reply outside them */
	char			*problem;	/* what was wrong, or NULL */
};

/*
 * Reads reply for the elements of tag.  An element is dropped when it
 * repeats (after normalization, see reply_norm()) an element of the
 * same tag shown in meta (the request: a parent prompt given back) or
 * an earlier element of the reply, or when it restates the request's
 * instructions (reply_restates(): instructions is the meta-prompt's
 * template without its variables); when it is longer than max_bytes
 * (0: no limit); or when it is a refusal.  At most max elements are
 * kept, the first ones.  meta and instructions may be NULL.
 *
 * The outcome is usable when an element is kept; else refused, echo,
 * too long or unreadable, and r->problem says what was wrong in a form
 * that can be told to the model ("no <prompt> element found").  Always
 * fills r; release it with reply_read_release().
 */
void		 reply_read(const char *reply, const char *tag,
		    const char *meta, const char *instructions,
		    size_t max_bytes, size_t max, struct reply_read *r);
void		 reply_read_release(struct reply_read *);

/*
 * Reads a labeler's reply for the one answer it gives (reply_answer.c):
 * its last <answer> element (tags in any case, cleaned as an element is,
 * a short answer such as "B" or "42" kept; a reply wholly in a code
 * fence read inside it); when it has none, the value of its last line
 * that labels the answer ("Answer: positive", "**Correct answer:** 42",
 * "The answer is B"), or the whole reply when it is one short line (at
 * most 12 words).  A short answer (at most five words, one line) loses a
 * closing period after a letter or digit.  An answer that declines is
 * refused, one that repeats an <answer> element of meta (may be NULL) an
 * echo.  Outcomes and r as reply_read()'s (no rationale).
 */
void		 reply_read_answer(const char *reply, const char *meta,
		    struct reply_read *r);
/*
 * Whether an answer says that there is none ("unclear", "Ambiguous.",
 * "cannot tell", "N/A", "unknown", "none", "?"): a labeler that could
 * not tell, not a label, unless the task knows such an answer.
 */
int		 reply_no_answer(const char *answer);

/* The contents of every <tag> element of text, cleaned (no filtering). */
size_t		 reply_elements(const char *text, const char *tag,
		    char ***out);
/* Cleans what an element holds (see the top comment); allocated. */
char		*reply_clean(const char *text, size_t len);
/* text without its <think> blocks; allocated. */
char		*reply_unthink(const char *text);
/*
 * The form in which two prompts are compared: lower-case, markdown
 * emphasis and quotes dropped, white space collapsed, trailing
 * punctuation dropped.  Allocated.
 */
char		*reply_norm(const char *text);
/*
 * Whether text mostly restates instructions (the words of a request
 * outside its <tag> elements): half or more of its runs of six words
 * appear there.  Texts of fewer than six words never do.
 */
int		 reply_restates(const char *text, const char *instructions,
		    const char *tag);
/*
 * The start of a reply for a log line or the store: at most max bytes,
 * cut at a character boundary, with "..." when cut.  Allocated.
 */
#define REPLY_EXCERPT	300
char		*reply_excerpt(const char *text, size_t max);
/* Whether text reads as a refusal to do the task. */
int		 reply_refusal(const char *text);

/* The winner of a pairwise comparison, as the judge saw the order. */
enum verdict {
	VERDICT_NONE,		/* no verdict could be read */
	VERDICT_A,
	VERDICT_B,
	VERDICT_TIE
};

/* "none", "A", "B", "tie". */
const char	*verdict_name(enum verdict);

/*
 * The verdict of a judge's reply, in every common form, strongest first:
 * a label ("Winner: A", "**Winner:** B", "Verdict: tie", "Final answer:
 * [[A]]", "Better response: Response B"), a bracketed verdict ("[[A]]",
 * "[[B]]", "[[C]]" or "[[tie]]", C being a tie), a sentence ("Response A
 * is better", "B is the better response", "the winner is B", "I prefer
 * A", "both are equally good", "it's a tie"), or a lone letter or "tie"
 * on the last line ("B", "**A**", "(B).").  Within a form the last one
 * counts; a line that names two different winners in labels (the judge
 * quoting the format) counts for nothing.  *at (when not NULL) is the
 * offset of the line where the verdict was read.
 */
enum verdict	 reply_verdict(const char *reply, size_t *at);

/*
 * A grade from 1 to 10 in a judge's reply: "Score: 7", "**Score:** 8/10",
 * "Rating: [[6]]", "Grade: 4.5", "7/10" (out of another scale is brought
 * to 1 to 10); the last label wins.  Returns 1 with *grade and *at (the
 * offset of its line), 0 when there is none.
 */
int		 reply_grade(const char *reply, double *grade, size_t *at);

#endif
