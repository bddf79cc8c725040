/*
 * What the two files of the reply reader share (private to them):
 *
 *	reply.c		outcomes, tags and their elements, cleaning,
 *			echoes, restatements and refusals: reply_read()
 *	reply_verdict.c	the verdicts and grades of judges:
 *			reply_verdict(), reply_grade()
 *	reply_answer.c	a labeler's answer: reply_read_answer(),
 *			reply_no_answer()
 *
 * See reply.h for the picture.
 */
#ifndef REPLY_INT_H
#define REPLY_INT_H

#include <stddef.h>

/*
 * The length of word if s starts with it (ASCII case ignored), or 0.
 * Borrows both.
 */
size_t		 reply_prefix(const char *s, const char *word);
/* Whether c is markdown around a line's words: '#', '*', '_', '>', blanks. */
int		 reply_md_char(int c);
/*
 * The contents of every <tag> element of text, cleaned, as
 * reply_elements() gives them but for short ones ("B", "42"), which are
 * kept: the elements of an answer.  *out (NULL-ended) is the caller's,
 * with its strings.
 */
size_t		 reply_answers(const char *text, const char *tag, char ***out);

#endif
