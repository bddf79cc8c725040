/* Templates: {{field}} and {{prompt}} placeholders compiled to segments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dataset.h"
#include "jsonc.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* How many of the dataset's fields an "unknown field" error lists. */
#define TEMPLATE_LIST_FIELDS	20

enum segment_kind {
	SEG_LITERAL,
	SEG_FIELD,
	SEG_PROMPT,
};

struct segment {
	enum segment_kind	 kind;
	char			*text;		/* literal */
	size_t			 len;		/* literal */
	size_t			 field;		/* index into fields */
	size_t			 line;		/* of the "{{" */
	size_t			 col;
};

struct template {
	struct segment	*seg;
	size_t		 nseg;
	size_t		 capseg;
	char		**fields;
	size_t		 nfields;
	int		 prompt;
};

static struct segment *
template_add(struct template *t, enum segment_kind kind, size_t line,
    size_t col)
{
	struct segment	*s;

	if (t->nseg == t->capseg) {
		t->capseg = t->capseg == 0 ? 8 : t->capseg * 2;
		t->seg = xreallocarray(t->seg, t->capseg, sizeof *t->seg);
	}
	s = &t->seg[t->nseg++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->line = line;
	s->col = col;
	return s;
}

/* Ends the literal collected in sb, if any, as a segment. */
static void
template_flush(struct template *t, struct strbuf *sb)
{
	struct segment	*s;

	if (sb->len == 0)
		return;
	s = template_add(t, SEG_LITERAL, 0, 0);
	s->len = sb->len;
	s->text = strbuf_detach(sb);
}

static size_t
template_field_index(struct template *t, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < t->nfields; i++) {
		if (strlen(t->fields[i]) == len &&
		    memcmp(t->fields[i], name, len) == 0)
			return i;
	}
	t->fields = xreallocarray(t->fields, t->nfields + 1,
	    sizeof *t->fields);
	t->fields[t->nfields] = xstrndup(name, len);
	return t->nfields++;
}

static int
valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

struct template *
template_compile(const char *text, char **cause)
{
	struct template	*t;
	struct strbuf	 sb;
	struct segment	*s;
	const char	*p, *q, *close, *name, *end;
	size_t		 line = 1, col = 1, len;

	t = xcalloc(1, sizeof *t);
	strbuf_init(&sb);
	if (text == NULL)
		text = "";

	for (p = text; *p != '\0';) {
		if (p[0] == '\\' && p[1] == '{' && p[2] == '{') {
			strbuf_add(&sb, "{{", 2);
			p += 3;
			col += 3;
			continue;
		}
		if (p[0] != '{' || p[1] != '{') {
			if (*p == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)*p & 0xc0) != 0x80)
				col++;
			strbuf_addc(&sb, *p++);
			continue;
		}

		/* A placeholder: it ends at "}}" on the same line. */
		for (q = p + 2; *q != '\0' && *q != '\n'; q++) {
			if (q[0] == '}' && q[1] == '}')
				break;
			if (q[0] == '{' && q[1] == '{') {
				q = NULL;
				break;
			}
		}
		if (q == NULL || *q != '}') {
			cause_set(cause, "line %zu, column %zu: unterminated "
			    "'{{'", line, col);
			goto fail;
		}
		close = q;
		name = p + 2;
		end = close;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		len = end - name;
		if (len == 0) {
			cause_set(cause, "line %zu, column %zu: empty "
			    "placeholder", line, col);
			goto fail;
		}
		for (q = name; q < end; q++) {
			if (!valid_name_char(*q)) {
				cause_set(cause, "line %zu, column %zu: "
				    "invalid field name '%.*s'", line, col,
				    (int)len, name);
				goto fail;
			}
		}

		template_flush(t, &sb);
		if (len == 6 && memcmp(name, "prompt", 6) == 0) {
			template_add(t, SEG_PROMPT, line, col);
			t->prompt = 1;
		} else {
			s = template_add(t, SEG_FIELD, line, col);
			s->field = template_field_index(t, name, len);
		}

		/* A valid placeholder is ASCII: bytes are characters. */
		col += close + 2 - p;
		p = close + 2;
	}
	template_flush(t, &sb);
	strbuf_release(&sb);
	return t;

fail:
	strbuf_release(&sb);
	template_free(t);
	return NULL;
}

void
template_free(struct template *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nseg; i++)
		free(t->seg[i].text);
	free(t->seg);
	for (i = 0; i < t->nfields; i++)
		free(t->fields[i]);
	free(t->fields);
	free(t);
}

size_t
template_nfields(const struct template *t)
{
	return t->nfields;
}

const char *
template_field(const struct template *t, size_t i)
{
	if (i >= t->nfields)
		return NULL;
	return t->fields[i];
}

int
template_uses_prompt(const struct template *t)
{
	return t->prompt;
}

int
template_check(const struct template *t, const struct dataset *ds,
    char **cause)
{
	const struct segment	*s;
	const char		*name, *close;
	struct strbuf		 sb;
	size_t			 i, j;

	for (i = 0; i < t->nseg; i++) {
		s = &t->seg[i];
		if (s->kind != SEG_FIELD)
			continue;
		name = t->fields[s->field];
		if (dataset_has_field(ds, name))
			continue;

		close = suggest(name, (const char *const *)ds->fields);
		if (close != NULL) {
			return cause_set(cause, "line %zu, column %zu: unknown "
			    "field '%s' (did you mean '%s'?)", s->line, s->col,
			    name, close);
		}
		if (ds->nfields == 0) {
			return cause_set(cause, "line %zu, column %zu: unknown "
			    "field '%s' (the dataset has no fields)", s->line,
			    s->col, name);
		}
		strbuf_init(&sb);
		for (j = 0; j < ds->nfields && j < TEMPLATE_LIST_FIELDS; j++)
			strbuf_addf(&sb, "%s'%s'", j == 0 ? "" : ", ",
			    ds->fields[j]);
		if (ds->nfields > TEMPLATE_LIST_FIELDS)
			strbuf_addf(&sb, " and %zu more",
			    ds->nfields - TEMPLATE_LIST_FIELDS);
		cause_set(cause, "line %zu, column %zu: unknown field '%s' "
		    "(the dataset's fields are %s)", s->line, s->col, name,
		    sb.buf);
		strbuf_release(&sb);
		return -1;
	}
	return 0;
}

char *
template_render(const struct template *t, const struct example *ex,
    const char *prompt)
{
	const struct segment	*s;
	const cJSON		*v;
	struct strbuf		 sb;
	char			*text;
	size_t			 i;

	strbuf_init(&sb);
	for (i = 0; i < t->nseg; i++) {
		s = &t->seg[i];
		switch (s->kind) {
		case SEG_LITERAL:
			strbuf_add(&sb, s->text, s->len);
			break;
		case SEG_PROMPT:
			if (prompt != NULL)
				strbuf_adds(&sb, prompt);
			break;
		case SEG_FIELD:
			v = example_field(ex, t->fields[s->field]);
			if (v == NULL)
				break;
			if (cJSON_IsString(v)) {
				strbuf_adds(&sb, v->valuestring);
				break;
			}
			text = json_text(v);
			strbuf_adds(&sb, text);
			free(text);
			break;
		}
	}
	if (sb.buf == NULL)
		return xstrdup("");
	return strbuf_detach(&sb);
}
