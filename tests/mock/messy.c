/*
 * messy: a chat model that answers the way real ones do, for promptd's
 * exec backend.  It reads one exec request on its standard input, gets
 * the tidy answer from the simulated world of a job file (-w) and, with
 * probability rate, rewrites it in one of the untidy forms that real
 * models use: preambles, code fences, markdown labels, a tag in another
 * case, a missing closing tag, the instructions echoed, a refusal, a
 * verdict in words instead of "Winner: A", and so on.  Every draw is a
 * hash of the seed, the request's messages and its sample index, so the
 * same request always gets the same reply.  See tests/mock/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "hash.h"
#include "job.h"
#include "jobrun.h"
#include "sim.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define MESSY_REQ_MAX	(64 * 1024 * 1024)	/* largest request */
#define MESSY_LONG	9000			/* bytes of a "long" prompt */
#define MESSY_RATE	0.7			/* default share of messy replies */

static const char messy_usage[] = "usage: messy -w job.json [-s seed] "
    "[-p rate] [-S style[,style...]] [-l logfile]\n";

/* Which replies a style applies to. */
#define FAM_OPTIMIZER	0x01	/* tagged elements: new prompts, critiques */
#define FAM_VERDICT	0x02	/* a judge's "Winner: A|B|tie" */
#define FAM_GRADE	0x04	/* a judge's "Score: N" */
#define FAM_ALL		0x07

/* What a styled reply is made from. */
struct tidy {
	const char	 *meta;		/* the first user message */
	const char	 *tidy;		/* the simulated model's reply */
	uint64_t	  variant;	/* a draw for a style's variants */

	/* An optimizer reply: lead, then each element and what follows. */
	char		 *tag;		/* "prompt", "critique", or NULL */
	char		 *lead;
	char		**items;
	char		**after;
	size_t		  n;
	char		 *parent;	/* the request's first <prompt>, or NULL */

	/* A judge reply: the rationale, then a verdict or a grade. */
	char		 *rationale;
	char		  verdict;	/* 'A', 'B', 'T' (tie), or 0 */
	int		  grade;	/* 1 to 10, or 0 */
};

struct style {
	const char	*name;
	int		 family;
	void		(*fn)(const struct tidy *, struct strbuf *);
};

/*
 * Finds the next element <tag>...</tag> (or <tag attributes>...) of the
 * text at *pos: *open is where it starts, body and len what it holds,
 * and *pos is moved past its closing tag.
 */
static int
element_next(const char **pos, const char *tag, const char **open,
    const char **body, size_t *len)
{
	const char	*o = *pos, *gt, *c;
	size_t		 n = strlen(tag);

	while ((o = strchr(o, '<')) != NULL) {
		if (strncmp(o + 1, tag, n) == 0 &&
		    (o[1 + n] == '>' || o[1 + n] == ' '))
			break;
		o++;
	}
	if (o == NULL || (gt = strchr(o, '>')) == NULL)
		return 0;
	for (c = gt + 1; (c = strstr(c, "</")) != NULL; c++)
		if (strncmp(c + 2, tag, n) == 0 && c[2 + n] == '>')
			break;
	if (c == NULL)
		return 0;
	*open = o;
	*body = gt + 1;
	*len = (size_t)(c - gt - 1);
	*pos = c + n + 3;
	return 1;
}

/* The name of the first element of text that is closed again, or NULL. */
static char *
element_tag(const char *text)
{
	const char	*p, *q, *pos, *open, *body;
	char		*tag;
	size_t		 len;

	for (p = text; (p = strchr(p, '<')) != NULL; p++) {
		for (q = p + 1; (*q >= 'a' && *q <= 'z') || *q == '_'; q++)
			;
		if (q == p + 1 || *q != '>')
			continue;
		tag = xstrndup(p + 1, (size_t)(q - p - 1));
		pos = p;
		if (element_next(&pos, tag, &open, &body, &len))
			return tag;
		free(tag);
	}
	return NULL;
}

/* Splits an optimizer reply into its lead and its elements. */
static void
tidy_split(struct tidy *r)
{
	const char	*pos, *open, *body, *end = NULL;
	size_t		 len;

	if ((r->tag = element_tag(r->tidy)) == NULL)
		return;
	pos = r->tidy;
	while (element_next(&pos, r->tag, &open, &body, &len)) {
		if (r->n == 0)
			r->lead = xstrndup(r->tidy, (size_t)(open - r->tidy));
		else
			r->after[r->n - 1] = xstrndup(end,
			    (size_t)(open - end));
		r->items = xreallocarray(r->items, r->n + 1,
		    sizeof *r->items);
		r->after = xreallocarray(r->after, r->n + 1,
		    sizeof *r->after);
		r->items[r->n] = trim_dup(body, len);
		r->after[r->n] = NULL;
		r->n++;
		end = pos;
	}
	if (r->n > 0)
		r->after[r->n - 1] = xstrdup(end);
}

/* Splits a judge reply into its rationale and its last line's verdict. */
static void
tidy_verdict(struct tidy *r)
{
	const char	*last;
	char		*end;
	long		 v;

	last = strrchr(r->tidy, '\n');
	last = last != NULL ? last + 1 : r->tidy;
	if (strncmp(last, "Winner: ", 8) == 0) {
		if (strcmp(last + 8, "A") == 0 || strcmp(last + 8, "B") == 0)
			r->verdict = last[8];
		else if (strcmp(last + 8, "tie") == 0)
			r->verdict = 'T';
	} else if (strncmp(last, "Score: ", 7) == 0) {
		v = strtol(last + 7, &end, 10);
		if (end != last + 7 && *end == '\0' && v >= 1 && v <= 10)
			r->grade = (int)v;
	}
	if (r->verdict != 0 || r->grade != 0)
		r->rationale = trim_dup(r->tidy, (size_t)(last - r->tidy));
}

static void
tidy_release(struct tidy *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		free(r->items[i]);
		free(r->after[i]);
	}
	free(r->items);
	free(r->after);
	free(r->tag);
	free(r->lead);
	free(r->parent);
	free(r->rationale);
}

/* The variant of a style: one of n, drawn with the reply. */
static size_t
tidy_pick(const struct tidy *r, size_t n)
{
	return (size_t)(r->variant % n);
}

/* What the tag reads as in a heading: "Prompt", "Critique". */
static char *
tag_title(const char *tag)
{
	char	*t = xstrdup(tag);

	*t = (char)toupper((unsigned char)*t);
	return t;
}

/*
 * Optimizer styles.  Most change how each element is written; the
 * element writers below are called for element i of the reply.
 */

static void
elem_plain(const struct tidy *r, size_t i, struct strbuf *sb)
{
	strbuf_addf(sb, "<%s>%s</%s>", r->tag, r->items[i], r->tag);
}

static void
elem_fence(const struct tidy *r, size_t i, struct strbuf *sb)
{
	strbuf_addf(sb, "<%s>\n```\n%s\n```\n</%s>", r->tag, r->items[i],
	    r->tag);
}

static void
elem_label(const struct tidy *r, size_t i, struct strbuf *sb)
{
	char	*title = tag_title(r->tag);

	switch (tidy_pick(r, 3)) {
	case 0:
		strbuf_addf(sb, "<%s>**Improved %s:** %s</%s>", r->tag,
		    r->tag, r->items[i], r->tag);
		break;
	case 1:
		strbuf_addf(sb, "<%s>%s: %s</%s>", r->tag, title, r->items[i],
		    r->tag);
		break;
	default:
		strbuf_addf(sb, "<%s>### New %s\n%s</%s>", r->tag, title,
		    r->items[i], r->tag);
		break;
	}
	free(title);
}

static void
elem_quotes(const struct tidy *r, size_t i, struct strbuf *sb)
{
	strbuf_addf(sb, "<%s>\"%s\"</%s>", r->tag, r->items[i], r->tag);
}

static void
elem_case(const struct tidy *r, size_t i, struct strbuf *sb)
{
	char	*t = tag_title(r->tag), *p;

	/* <Prompt> or <PROMPT>. */
	if (tidy_pick(r, 2) != 0)
		for (p = t; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
	strbuf_addf(sb, "<%s>%s</%s>", t, r->items[i], t);
	free(t);
}

static void
elem_attrs(const struct tidy *r, size_t i, struct strbuf *sb)
{
	if (tidy_pick(r, 2) == 0)
		strbuf_addf(sb, "<%s id=\"%zu\">%s</%s>", r->tag, i + 1,
		    r->items[i], r->tag);
	else
		strbuf_addf(sb, "<%s\n>%s</%s>", r->tag, r->items[i], r->tag);
}

static void
elem_long(const struct tidy *r, size_t i, struct strbuf *sb)
{
	static const char filler[] = "Read the input carefully, weigh "
	    "every detail of it and make sure that the answer follows all "
	    "of the instructions above. ";
	size_t	start;

	strbuf_addf(sb, "<%s>%s\n\n", r->tag, r->items[i]);
	start = sb->len;
	while (sb->len - start < MESSY_LONG)
		strbuf_adds(sb, filler);
	sb->len--;	/* the last space */
	sb->buf[sb->len] = '\0';
	strbuf_addf(sb, "</%s>", r->tag);
}

/* The lead, then every element written by fn with what follows it. */
static void
elements_add(const struct tidy *r, struct strbuf *sb,
    void (*fn)(const struct tidy *, size_t, struct strbuf *))
{
	size_t	i;

	strbuf_adds(sb, r->lead);
	for (i = 0; i < r->n; i++) {
		fn(r, i, sb);
		strbuf_adds(sb, r->after[i]);
	}
}

static void
style_preamble(const struct tidy *r, struct strbuf *sb)
{
	static const char *const pre[] = {
		"Sure! Here is what you asked for.",
		"Certainly! I have thought about this carefully.",
		"Great question. Here is my answer.",
	};

	strbuf_addf(sb, "%s\n\n", pre[tidy_pick(r, nitems(pre))]);
	elements_add(r, sb, elem_plain);
	strbuf_adds(sb, "\nLet me know if you'd like any changes!");
}

static void
style_fence_inside(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_fence);
}

static void
style_fence_around(const struct tidy *r, struct strbuf *sb)
{
	char	*t = trim_dup(r->tidy, strlen(r->tidy));

	strbuf_addf(sb, "```xml\n%s\n```", t);
	free(t);
}

static void
style_label(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_label);
}

static void
style_quotes(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_quotes);
}

static void
style_case(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_case);
}

static void
style_attrs(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_attrs);
}

static void
style_unclosed(const struct tidy *r, struct strbuf *sb)
{
	size_t	i;

	strbuf_adds(sb, r->lead);
	for (i = 0; i < r->n; i++) {
		if (i + 1 < r->n)
			elem_plain(r, i, sb);
		else
			strbuf_addf(sb, "<%s>%s", r->tag, r->items[i]);
		strbuf_adds(sb, r->after[i]);
	}
}

static void
style_mention(const struct tidy *r, struct strbuf *sb)
{
	size_t	i;

	strbuf_adds(sb, r->lead);
	if (tidy_pick(r, 2) == 0)
		strbuf_addf(sb, "I wrap the final answer in `<%s>...</%s>` "
		    "tags as requested.\n\n", r->tag, r->tag);
	else
		strbuf_addf(sb, "As requested, each answer goes in "
		    "<%s>...</%s>:\n\n", r->tag, r->tag);
	for (i = 0; i < r->n; i++) {
		elem_plain(r, i, sb);
		strbuf_adds(sb, r->after[i]);
	}
}

static void
style_echo(const struct tidy *r, struct strbuf *sb)
{
	strbuf_addf(sb, "%s\n\n%s", r->meta, r->tidy);
}

static void
style_parent(const struct tidy *r, struct strbuf *sb)
{
	strbuf_addf(sb, "%s<%s>%s</%s>\n", r->lead, r->tag, r->parent, r->tag);
}

static void
style_refusal(const struct tidy *r, struct strbuf *sb)
{
	(void)r;
	strbuf_adds(sb, "I'm sorry, but I can't help with that request.");
}

static void
style_markdown(const struct tidy *r, struct strbuf *sb)
{
	char	*title = tag_title(r->tag);
	size_t	 i;

	strbuf_adds(sb, r->lead);
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			strbuf_adds(sb, "\n\n");
		if (r->n == 1)
			strbuf_addf(sb, "### Improved %s\n\n", title);
		else
			strbuf_addf(sb, "### Improved %s %zu\n\n", title,
			    i + 1);
		strbuf_adds(sb, r->items[i]);
	}
	strbuf_addc(sb, '\n');
	free(title);
}

static void
style_think(const struct tidy *r, struct strbuf *sb)
{
	const char	*s = r->items[0], *p;
	size_t		 words = 1, k = 0;

	/* The draft: the first half of the first element's words. */
	for (p = s; *p != '\0'; p++)
		words += *p == ' ';
	for (p = s; *p != '\0'; p++)
		if (*p == ' ' && ++k == (words + 1) / 2)
			break;
	strbuf_addf(sb, "<think>\nThe user wants a better %s. A first "
	    "draft:\n<%s>%.*s...</%s>\nThat draft is incomplete; I will "
	    "finish it.\n</think>\n\n%s", r->tag, r->tag, (int)(p - s), s,
	    r->tag, r->tidy);
}

static void
style_two(const struct tidy *r, struct strbuf *sb)
{
	static const char *const extra[] = {
		"Think it through before you answer.",
		"Keep the answer short.",
		"Check the answer once more before giving it.",
	};

	strbuf_adds(sb, r->tidy);
	if (sb->len > 0 && sb->buf[sb->len - 1] != '\n')
		strbuf_addc(sb, '\n');
	strbuf_addf(sb, "\nAlternatively:\n<%s>%s %s</%s>\n", r->tag,
	    r->items[r->n - 1], extra[tidy_pick(r, nitems(extra))], r->tag);
}

static void
style_long(const struct tidy *r, struct strbuf *sb)
{
	elements_add(r, sb, elem_long);
}

/*
 * Judge styles: the rationale, then the verdict or the grade in another
 * form than the one asked for, or none at all.
 */

static void
style_bracket(const struct tidy *r, struct strbuf *sb)
{
	if (r->grade != 0)
		strbuf_addf(sb, "%s\nRating: [[%d]]", r->rationale, r->grade);
	else
		strbuf_addf(sb, "%s\n[[%c]]", r->rationale,
		    r->verdict == 'T' ? 'C' : r->verdict);
}

static void
style_bold(const struct tidy *r, struct strbuf *sb)
{
	if (r->grade != 0)
		strbuf_addf(sb, "%s\n**Score:** %d/10", r->rationale,
		    r->grade);
	else if (r->verdict == 'T')
		strbuf_addf(sb, "%s\n**Winner:** tie", r->rationale);
	else
		strbuf_addf(sb, "%s\n**Winner:** %c", r->rationale,
		    r->verdict);
}

static void
style_lower(const struct tidy *r, struct strbuf *sb)
{
	if (r->verdict == 'T')
		strbuf_addf(sb, "%s\nwinner: tie", r->rationale);
	else
		strbuf_addf(sb, "%s\nwinner: %c", r->rationale,
		    r->verdict == 'A' ? 'a' : 'b');
}

static void
style_response(const struct tidy *r, struct strbuf *sb)
{
	if (r->verdict == 'T')
		strbuf_addf(sb, "%s\nWinner: tie", r->rationale);
	else
		strbuf_addf(sb, "%s\nWinner: Response %c", r->rationale,
		    r->verdict);
}

static void
style_sentence(const struct tidy *r, struct strbuf *sb)
{
	if (r->verdict == 'T')
		strbuf_addf(sb, "%s\nBoth responses are equally good.",
		    r->rationale);
	else if (tidy_pick(r, 2) == 0)
		strbuf_addf(sb, "%s\nResponse %c is better.", r->rationale,
		    r->verdict);
	else
		strbuf_addf(sb, "%s\nThe winner is %c.", r->rationale,
		    r->verdict);
}

static void
style_letter(const struct tidy *r, struct strbuf *sb)
{
	if (r->verdict == 'T')
		strbuf_addf(sb, "%s\ntie", r->rationale);
	else
		strbuf_addf(sb, "%s\n%c", r->rationale, r->verdict);
}

static void
style_quote_format(const struct tidy *r, struct strbuf *sb)
{
	strbuf_addf(sb, "I must end with \"Winner: A\", \"Winner: B\" or "
	    "\"Winner: tie\".\n%s", r->tidy);
}

static void
style_fraction(const struct tidy *r, struct strbuf *sb)
{
	strbuf_addf(sb, "%s\n%d/10", r->rationale, r->grade);
}

static void
style_none(const struct tidy *r, struct strbuf *sb)
{
	strbuf_adds(sb, r->rationale);
}

static void
style_tidy(const struct tidy *r, struct strbuf *sb)
{
	strbuf_adds(sb, r->tidy);
}

/* Every style; a name may serve several kinds of reply. */
static const struct style styles[] = {
	{ "preamble",		FAM_OPTIMIZER,	style_preamble },
	{ "fence-inside",	FAM_OPTIMIZER,	style_fence_inside },
	{ "fence-around",	FAM_OPTIMIZER,	style_fence_around },
	{ "label",		FAM_OPTIMIZER,	style_label },
	{ "quotes",		FAM_OPTIMIZER,	style_quotes },
	{ "case",		FAM_OPTIMIZER,	style_case },
	{ "attrs",		FAM_OPTIMIZER,	style_attrs },
	{ "unclosed",		FAM_OPTIMIZER,	style_unclosed },
	{ "mention",		FAM_OPTIMIZER,	style_mention },
	{ "echo",		FAM_OPTIMIZER,	style_echo },
	{ "parent",		FAM_OPTIMIZER,	style_parent },
	{ "refusal",		FAM_OPTIMIZER,	style_refusal },
	{ "markdown",		FAM_OPTIMIZER,	style_markdown },
	{ "think",		FAM_OPTIMIZER,	style_think },
	{ "two",		FAM_OPTIMIZER,	style_two },
	{ "long",		FAM_OPTIMIZER,	style_long },
	{ "bracket",		FAM_VERDICT | FAM_GRADE, style_bracket },
	{ "bold",		FAM_VERDICT | FAM_GRADE, style_bold },
	{ "lower",		FAM_VERDICT,	style_lower },
	{ "response",		FAM_VERDICT,	style_response },
	{ "sentence",		FAM_VERDICT,	style_sentence },
	{ "letter",		FAM_VERDICT,	style_letter },
	{ "quote-format",	FAM_VERDICT,	style_quote_format },
	{ "fraction",		FAM_GRADE,	style_fraction },
	{ "none",		FAM_VERDICT | FAM_GRADE, style_none },
};
#define NSTYLES	nitems(styles)

/* "tidy" is not drawn: it is what a reply is when no style is. */
static const struct style style_tidy_entry = { "tidy", FAM_ALL, style_tidy };

static const struct style *
style_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NSTYLES; i++)
		if (strcmp(styles[i].name, name) == 0)
			return &styles[i];
	if (strcmp(name, style_tidy_entry.name) == 0)
		return &style_tidy_entry;
	return NULL;
}

/* Adds st to the list unless it is there. */
static void
style_add(const struct style ***list, size_t *n, const struct style *st)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if ((*list)[i] == st)
			return;
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = st;
}

/* Parses -S: a comma-separated list of style names. */
static int
style_list(const char *arg, const struct style ***list, size_t *n,
    char **cause)
{
	const struct style	*st;
	const char		*names[NSTYLES + 2], *p = arg, *e, *near;
	char			*name;
	size_t			 i;

	for (i = 0; i < NSTYLES; i++)
		names[i] = styles[i].name;
	names[NSTYLES] = style_tidy_entry.name;
	names[NSTYLES + 1] = NULL;
	for (;;) {
		e = p + strcspn(p, ",");
		name = xstrndup(p, (size_t)(e - p));
		if ((st = style_find(name)) == NULL) {
			if (*name != '\0' &&
			    (near = suggest(name, names)) != NULL)
				cause_set(cause, "unknown style '%s' (did you "
				    "mean '%s'?)", name, near);
			else
				cause_set(cause, "unknown style '%s'", name);
			free(name);
			return -1;
		}
		style_add(list, n, st);
		free(name);
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return 0;
}

/* Whether a style can rewrite this reply. */
static int
style_fits(const struct style *st, const struct tidy *r)
{
	if (st == &style_tidy_entry)
		return 1;
	if ((st->family & FAM_OPTIMIZER) && r->n > 0)
		return st->fn != style_parent || r->parent != NULL;
	if ((st->family & FAM_VERDICT) && r->verdict != 0)
		return 1;
	return (st->family & FAM_GRADE) && r->grade != 0;
}

/* The request. */

struct messy_req {
	struct model_req	 req;		/* as it came */
	struct model_req	 tidy;		/* what the model should answer */
	int			 repair;	/* it holds an assistant turn */
};

/* Reads the whole of standard input. */
static int
stdin_read(char **out, size_t *len, char **cause)
{
	struct strbuf	sb;
	ssize_t		n;

	strbuf_init(&sb);
	for (;;) {
		strbuf_grow(&sb, 65536);
		n = read(STDIN_FILENO, sb.buf + sb.len, sb.cap - sb.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			strbuf_release(&sb);
			return cause_set(cause, "standard input: %s",
			    strerror(errno));
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = '\0';
		if (sb.len > MESSY_REQ_MAX) {
			strbuf_release(&sb);
			return cause_set(cause, "request: over %d bytes",
			    MESSY_REQ_MAX);
		}
	}
	*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

static int
req_messages(const cJSON *msgs, struct messy_req *mr, char **cause)
{
	const cJSON	*m, *role, *content;
	enum msg_role	 r;
	size_t		 i = 0;
	int		 user = 0;

	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
		return cause_set(cause, "request: \"messages\": expected a "
		    "non-empty array");
	cJSON_ArrayForEach(m, msgs) {
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		content = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (!cJSON_IsObject(m))
			return cause_set(cause, "request: messages[%zu]: "
			    "expected an object", i);
		if (!cJSON_IsString(role))
			return cause_set(cause, "request: messages[%zu].role: "
			    "expected a string", i);
		if (strcmp(role->valuestring, "system") == 0)
			r = MSG_SYSTEM;
		else if (strcmp(role->valuestring, "user") == 0)
			r = MSG_USER;
		else if (strcmp(role->valuestring, "assistant") == 0)
			r = MSG_ASSISTANT;
		else
			return cause_set(cause, "request: messages[%zu].role: "
			    "'%s' is not \"system\", \"user\" or "
			    "\"assistant\"", i, role->valuestring);
		if (!cJSON_IsString(content))
			return cause_set(cause, "request: messages[%zu]."
			    "content: expected a string", i);
		model_req_add(&mr->req, r, content->valuestring);
		mr->repair |= r == MSG_ASSISTANT;
		user |= r == MSG_USER;
		i++;
	}
	if (!user)
		return cause_set(cause, "request: \"messages\": no message "
		    "with role \"user\"");
	/*
	 * What the model is to answer: the whole request, or after an
	 * assistant turn (a repair turn) what it should have answered in
	 * the first place, the system messages and the first user turn.
	 */
	user = 0;
	for (i = 0; i < mr->req.nmsgs; i++) {
		r = mr->req.msgs[i].role;
		if (!mr->repair || r == MSG_SYSTEM || (r == MSG_USER && !user))
			model_req_add(&mr->tidy, r, mr->req.msgs[i].content);
		user |= r == MSG_USER;
	}
	return 0;
}

/* Parses an exec request (see src/backend_exec.c). */
static int
req_parse(const char *text, size_t len, struct messy_req *mr, char **cause)
{
	cJSON		*o;
	const cJSON	*kind, *v;
	int		 rc = -1;

	model_req_init(&mr->req, REQ_CHAT, NULL);
	model_req_init(&mr->tidy, REQ_CHAT, NULL);
	if ((o = cJSON_ParseWithLength(text, len)) == NULL)
		return cause_set(cause, "request: not valid JSON");
	if (!cJSON_IsObject(o)) {
		cause_set(cause, "request: expected a JSON object");
		goto out;
	}
	kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "chat") != 0 &&
	    strcmp(kind->valuestring, "embed") != 0)) {
		cause_set(cause, "request: \"kind\": expected \"chat\" or "
		    "\"embed\"");
		goto out;
	}
	if (strcmp(kind->valuestring, "embed") == 0) {
		mr->req.kind = mr->tidy.kind = REQ_EMBED;
		v = cJSON_GetObjectItemCaseSensitive(o, "input");
		if (!cJSON_IsString(v)) {
			cause_set(cause, "request: \"input\": expected a "
			    "string");
			goto out;
		}
		mr->req.input = xstrdup(v->valuestring);
		rc = 0;
		goto out;
	}
	if (req_messages(cJSON_GetObjectItemCaseSensitive(o, "messages"), mr,
	    cause) != 0)
		goto out;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "temperature")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
			cause_set(cause, "request: \"temperature\": expected "
			    "a number from 0");
			goto out;
		}
		mr->req.temperature = mr->tidy.temperature = v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "max_tokens")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
		    v->valuedouble > INT_MAX) {
			cause_set(cause, "request: \"max_tokens\": expected "
			    "a number from 0");
			goto out;
		}
		mr->req.max_tokens = mr->tidy.max_tokens = (int)v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "sample")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
		    v->valuedouble > UINT_MAX ||
		    v->valuedouble != (double)(unsigned)v->valuedouble) {
			cause_set(cause, "request: \"sample\": expected a "
			    "whole number from 0");
			goto out;
		}
		mr->req.sample = mr->tidy.sample = (unsigned)v->valuedouble;
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* The draw for a request: the seed, every message, the sample index. */
static uint64_t
req_draw(const struct model_req *req, uint64_t seed)
{
	uint64_t	h = hash_mix(seed, req->nmsgs);
	size_t		i;
	char		r;

	for (i = 0; i < req->nmsgs; i++) {
		r = (char)req->msgs[i].role;
		h = hash64(&r, 1, h);
		h = hash64_str(req->msgs[i].content, h);
	}
	return hash_mix(h, req->sample);
}

static double
u01(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

/* The first <prompt> element of text, trimmed, or NULL. */
static char *
first_prompt(const char *text)
{
	const char	*pos = text, *open, *body;
	size_t		 len;

	if (!element_next(&pos, "prompt", &open, &body, &len))
		return NULL;
	return trim_dup(body, len);
}

/* The program. */

struct messy {
	struct job		 *job;
	struct backend		 *sim;		/* borrowed from job */
	uint64_t		  seed;
	double			  rate;
	int			  rate_set;	/* -p was given */
	const struct style	**forced;	/* -S */
	size_t			  nforced;
	int			  log_fd;
};

/* Loads the job and finds the first sim backend that plays a role. */
static int
messy_load(struct messy *m, const char *path, char **cause)
{
	int	r;

	if ((m->job = job_load(path, NULL, cause)) == NULL)
		return -1;
	for (r = 0; r < ROLE_COUNT && m->sim == NULL; r++)
		if (m->job->task.roles[r] != NULL &&
		    strcmp(m->job->task.roles[r]->ops->name, "sim") == 0)
			m->sim = m->job->task.roles[r];
	if (m->sim == NULL)
		return cause_set(cause, "job '%s': no role is played by a "
		    "backend of type sim", m->job->task.name);
	jobrun_observe(m->job);
	return 0;
}

static const char *
role_name(enum sim_role r)
{
	switch (r) {
	case SIM_ROLE_EMBED:
		return "embedder";
	case SIM_ROLE_JUDGE:
		return "judge";
	case SIM_ROLE_OPTIMIZER:
		return "optimizer";
	default:
		return "target";
	}
}

/* Chooses the style of a reply: tidy unless the draw says otherwise. */
static const struct style *
messy_style(const struct messy *m, const struct messy_req *mr,
    enum sim_role role, struct tidy *r)
{
	const struct style	*fit[NSTYLES + 1];
	uint64_t		 h;
	double			 rate = m->rate;
	size_t			 n = 0, i;

	if (role != SIM_ROLE_OPTIMIZER && role != SIM_ROLE_JUDGE)
		return &style_tidy_entry;
	h = req_draw(&mr->req, m->seed);
	r->variant = hash_mix(h, 0x76617269616e74ULL);
	if (mr->repair)
		rate /= 4;
	/* A list of styles is forced, unless a rate is given with it. */
	if ((m->nforced == 0 || m->rate_set) &&
	    u01(hash_mix(h, 0x72617465ULL)) >= rate)
		return &style_tidy_entry;
	if (m->nforced > 0) {
		for (i = 0; i < m->nforced; i++)
			if (style_fits(m->forced[i], r))
				fit[n++] = m->forced[i];
	} else {
		for (i = 0; i < NSTYLES; i++)
			if (style_fits(&styles[i], r))
				fit[n++] = &styles[i];
	}
	if (n == 0)
		return &style_tidy_entry;
	return fit[hash_mix(h, 0x7374796c65ULL) % n];
}

static void
messy_log(const struct messy *m, const char *role, const char *style,
    const struct messy_req *mr)
{
	char	*line;
	size_t	 len;

	if (m->log_fd == -1)
		return;
	line = xasprintf("%s\t%s\t%u%s\n", role, style, mr->req.sample,
	    mr->repair ? "\trepair" : "");
	/* One write to an O_APPEND file: parallel requests do not mix. */
	len = strlen(line);
	if (write(m->log_fd, line, len) != (ssize_t)len)
		fprintf(stderr, "messy: log file: %s\n", strerror(errno));
	free(line);
}

/* Answers an embedding request with the world's vector, unchanged. */
static int
messy_embed(struct messy *m, struct messy_req *mr, char **cause)
{
	struct model_resp	 resp;
	cJSON			*o, *u;
	char			*out;

	memset(&resp, 0, sizeof resp);
	if (m->sim->ops->call(m->sim, &mr->req, &resp, cause) != 0) {
		model_resp_release(&resp);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "embedding", cJSON_CreateFloatArray(resp.vec,
	    (int)resp.dim));
	u = cJSON_AddObjectToObject(o, "usage");
	cJSON_AddNumberToObject(u, "prompt_tokens",
	    (double)resp.prompt_tokens);
	out = cJSON_PrintUnformatted(o);
	printf("%s\n", out);
	free(out);
	cJSON_Delete(o);
	model_resp_release(&resp);
	messy_log(m, role_name(SIM_ROLE_EMBED), style_tidy_entry.name, mr);
	return 0;
}

static int
messy_chat(struct messy *m, struct messy_req *mr, char **cause)
{
	const struct style	*st;
	struct model_resp	 resp;
	struct tidy		 r;
	struct strbuf		 sb;
	enum sim_role		 role;
	cJSON			*o, *u;
	char			*out;
	long long		 pt = 0;
	size_t			 i;

	memset(&resp, 0, sizeof resp);
	if (m->sim->ops->call(m->sim, &mr->tidy, &resp, cause) != 0) {
		model_resp_release(&resp);
		return -1;
	}
	role = sim_role_detect(&mr->tidy);
	memset(&r, 0, sizeof r);
	for (i = 0; i < mr->tidy.nmsgs && r.meta == NULL; i++)
		if (mr->tidy.msgs[i].role == MSG_USER)
			r.meta = mr->tidy.msgs[i].content;
	r.tidy = resp.text;
	if (role == SIM_ROLE_OPTIMIZER) {
		tidy_split(&r);
		r.parent = first_prompt(r.meta);
	} else if (role == SIM_ROLE_JUDGE)
		tidy_verdict(&r);
	st = messy_style(m, mr, role, &r);
	strbuf_init(&sb);
	st->fn(&r, &sb);

	for (i = 0; i < mr->req.nmsgs; i++)
		pt += tokens_estimate(mr->req.msgs[i].content);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", sb.buf != NULL ? sb.buf : "");
	u = cJSON_AddObjectToObject(o, "usage");
	cJSON_AddNumberToObject(u, "prompt_tokens", (double)pt);
	cJSON_AddNumberToObject(u, "completion_tokens",
	    (double)tokens_estimate(sb.buf != NULL ? sb.buf : ""));
	out = cJSON_PrintUnformatted(o);
	printf("%s\n", out);
	free(out);
	cJSON_Delete(o);
	messy_log(m, role_name(role), st->name, mr);

	strbuf_release(&sb);
	tidy_release(&r);
	model_resp_release(&resp);
	return 0;
}

/* A number in [0, 1], whole. */
static int
rate_parse(const char *s, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

static int
seed_parse(const char *s, uint64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct messy		 m;
	struct messy_req	 mr;
	const char		*world = NULL, *logpath = NULL;
	char			*cause = NULL, *text = NULL;
	size_t			 len = 0;
	int			 ch, rc = 1;

	memset(&m, 0, sizeof m);
	memset(&mr, 0, sizeof mr);
	m.seed = 1;
	m.rate = MESSY_RATE;
	m.log_fd = -1;
	while ((ch = getopt(argc, argv, "l:p:S:s:w:")) != -1) {
		switch (ch) {
		case 'l':
			logpath = optarg;
			break;
		case 'p':
			if (rate_parse(optarg, &m.rate) != 0) {
				fprintf(stderr, "messy: -p: '%s' is not a "
				    "rate from 0 to 1\n", optarg);
				goto usage;
			}
			m.rate_set = 1;
			break;
		case 'S':
			if (style_list(optarg, &m.forced, &m.nforced,
			    &cause) != 0) {
				fprintf(stderr, "messy: -S: %s\n", cause);
				goto usage;
			}
			break;
		case 's':
			if (seed_parse(optarg, &m.seed) != 0) {
				fprintf(stderr, "messy: -s: '%s' is not a "
				    "whole number\n", optarg);
				goto usage;
			}
			break;
		case 'w':
			world = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || world == NULL)
		goto usage;

	if (logpath != NULL && (m.log_fd = open(logpath, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0644)) == -1) {
		cause_set(&cause, "log file '%s': %s", logpath,
		    strerror(errno));
		goto fail;
	}
	if (stdin_read(&text, &len, &cause) != 0 ||
	    req_parse(text, len, &mr, &cause) != 0 ||
	    messy_load(&m, world, &cause) != 0)
		goto fail;
	if (mr.req.kind == REQ_EMBED ? messy_embed(&m, &mr, &cause) :
	    messy_chat(&m, &mr, &cause))
		goto fail;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cause_set(&cause, "standard output: %s", strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
usage:
	fputs(messy_usage, stderr);
	free(cause);
	free(m.forced);
	return 2;
fail:
	fprintf(stderr, "messy: %s\n", cause != NULL ? cause :
	    "unknown error");
out:
	free(cause);
	free(text);
	free(m.forced);
	model_req_release(&mr.req);
	model_req_release(&mr.tidy);
	job_free(m.job);
	if (m.log_fd != -1)
		close(m.log_fd);
	return rc;
}
