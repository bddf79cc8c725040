/*
 * Templates: text with {{field}} placeholders filled from an example, and
 * {{prompt}} for the candidate prompt.  Spaces inside the braces are
 * ignored ({{ text }}).  A literal "{{" is written "\{{".
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

struct dataset;
struct example;
struct template;

/*
 * Compiles text.  Errors give the line and column inside the template:
 * "line 2, column 7: unterminated '{{'", "...: empty placeholder",
 * "...: invalid field name 'a b'".
 */
struct template	*template_compile(const char *text, char **cause);
void		 template_free(struct template *);

/* Field names used (without "prompt"), in order of first use. */
size_t		 template_nfields(const struct template *);
const char	*template_field(const struct template *, size_t);
int		 template_uses_prompt(const struct template *);

/*
 * Checks that every field exists in the dataset: "unknown field 'txt'
 * (did you mean 'text'?)" naming the template position.
 */
int		 template_check(const struct template *, const struct dataset *,
		    char **cause);

/*
 * Renders with an example's fields (strings as is, other JSON values
 * printed compactly) and the prompt (NULL renders {{prompt}} as "").
 * Returns an allocated string.
 */
char		*template_render(const struct template *, const struct example *,
		    const char *prompt);

#endif
