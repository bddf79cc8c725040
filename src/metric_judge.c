/*
 * The judge metric: a model grades an output against a rubric (1 to 10)
 * or picks the better of two outputs.  This file builds the judge's
 * messages and reads its verdict; the engine makes the call.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "metric.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

#define JUDGE_DEFAULT_RUBRIC						\
	"- Correct: the response answers the input accurately, with "	\
	"no factual or logical errors.\n"				\
	"- Complete: it addresses every part of the input.\n"		\
	"- Clear: it is well organized and easy to follow.\n"		\
	"- Concise: it has no padding, repetition or irrelevant content."

#define JUDGE_SYSTEM							\
	"You are a careful, impartial evaluator of responses written by " \
	"an AI assistant.  Judge only what the response says, not its "	\
	"style or length for their own sake, and follow the requested "	\
	"output format exactly."

enum judge_mode {
	JUDGE_RUBRIC,
	JUDGE_PAIRWISE
};

struct judge_opts {
	enum judge_mode	 mode;
	char		*rubric;
};

static const char *const judge_keys[] = { "mode", "rubric", NULL };
static const char *const judge_modes[] = { "rubric", "pairwise", NULL };

static int
judge_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct judge_opts	*jo;
	const char		*rubric = JUDGE_DEFAULT_RUBRIC;
	char			*p;
	int			 mode = JUDGE_RUBRIC, bad = 0;

	m->data = jo = xcalloc(1, sizeof *jo);
	if (jv_enum(doc, conf, path, "mode", 0, judge_modes, &mode) == -1)
		bad = 1;
	jo->mode = (enum judge_mode)mode;
	if (jv_string(doc, conf, path, "rubric", 0, &rubric) == -1)
		bad = 1;
	else if (*rubric == '\0') {
		p = jv_path(path, "rubric");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf, "rubric"),
		    p, "expected a non-empty string");
		free(p);
		bad = 1;
	}
	jo->rubric = xstrdup(rubric);
	return bad ? -1 : 0;
}

static void
judge_free(struct metric *m)
{
	struct judge_opts	*jo = m->data;

	if (jo == NULL)
		return;
	free(jo->rubric);
	free(jo);
	m->data = NULL;
}

const struct metric_ops metric_judge_ops = {
	.name = "judge",
	.keys = judge_keys,
	.init = judge_init,
	.score = NULL,
	.free = judge_free
};

int
metric_needs_judge(const struct metric *m)
{
	return m != NULL && m->ops == &metric_judge_ops;
}

/* Appends "<tag>\ntext\n</tag>\n\n". */
static void
judge_tag(struct strbuf *sb, const char *tag, const char *text)
{
	strbuf_addf(sb, "<%s>\n%s\n</%s>\n\n", tag, text != NULL ? text : "",
	    tag);
}

static void
judge_message(cJSON *a, const char *role, const char *content)
{
	cJSON	*msg = cJSON_CreateObject();

	cJSON_AddStringToObject(msg, "role", role);
	cJSON_AddStringToObject(msg, "content", content);
	cJSON_AddItemToArray(a, msg);
}

cJSON *
metric_judge_messages(const struct metric *m, const char *input,
    const char *output, const char *reference, int reversed)
{
	const struct judge_opts	*jo;
	const char		*rubric = JUDGE_DEFAULT_RUBRIC;
	struct strbuf		 sb;
	cJSON			*a;

	jo = metric_needs_judge(m) ? m->data : NULL;
	if (jo != NULL)
		rubric = jo->rubric;
	strbuf_init(&sb);
	if (jo == NULL || jo->mode == JUDGE_RUBRIC) {
		strbuf_adds(&sb, "Grade the response to the input below "
		    "against the rubric.\n\n");
		judge_tag(&sb, "input", input);
		judge_tag(&sb, "response", output);
		if (reference != NULL)
			judge_tag(&sb, "reference", reference);
		judge_tag(&sb, "rubric", rubric);
		strbuf_addf(&sb, "Reason step by step about how well the "
		    "response meets each point of the rubric%s.  Then end "
		    "your reply with a final line of the form \"Score: N\", "
		    "where N is an integer from 1 (poor) to 10 (excellent).",
		    reference != NULL ? ", using the reference as an "
		    "example of a good answer" : "");
	} else {
		strbuf_adds(&sb, "Compare two responses to the input below "
		    "against the rubric.\n\n");
		judge_tag(&sb, "input", input);
		judge_tag(&sb, "response_a", reversed ? reference : output);
		judge_tag(&sb, "response_b", reversed ? output : reference);
		judge_tag(&sb, "rubric", rubric);
		strbuf_adds(&sb, "Explain briefly which response meets the "
		    "rubric better; do not let their order or length sway "
		    "you.  Then end your reply with a final line that is "
		    "exactly one of \"Winner: A\", \"Winner: B\" or "
		    "\"Winner: tie\".");
	}
	a = cJSON_CreateArray();
	judge_message(a, "system", JUDGE_SYSTEM);
	judge_message(a, "user", sb.buf);
	strbuf_release(&sb);
	return a;
}

/* Skips markdown emphasis and spaces: "**", "__", " ". */
static const char *
judge_skip(const char *p)
{
	while (*p == '*' || *p == '_' || *p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Matches "<word>[markdown]:[markdown]" at p, case-insensitively, with p
 * at the start of a word.  Returns what follows, or NULL.
 */
static const char *
judge_label(const char *reply, const char *p, const char *word)
{
	size_t	n = strlen(word);

	if (p > reply && isalnum((unsigned char)p[-1]))
		return NULL;
	if (strncasecmp(p, word, n) != 0)
		return NULL;
	p = judge_skip(p + n);
	if (*p != ':')
		return NULL;
	return judge_skip(p + 1);
}

/* Reads "N", "N.5" or "N/10" at p into a grade from 1 to 10. */
static int
judge_grade(const char *p, double *grade)
{
	char	*end;
	double	 n, d;

	if (!isdigit((unsigned char)*p))
		return 0;
	n = strtod(p, &end);
	p = end;
	while (*p == ' ')
		p++;
	if (*p == '/') {
		p++;
		while (*p == ' ')
			p++;
		if (isdigit((unsigned char)*p)) {
			d = strtod(p, &end);
			if (d > 0 && d != 10)
				n = n * 10 / d;
		}
	}
	if (!isfinite(n))
		return 0;
	n = floor(n + 0.5);
	if (n < 1)
		n = 1;
	if (n > 10)
		n = 10;
	*grade = n;
	return 1;
}

/* Reads "A", "B" or "tie" (maybe "response A") at p: 1, 2, 3; or 0. */
static int
judge_winner(const char *p)
{
	int	w;

	if (strncasecmp(p, "response", 8) == 0)
		p = judge_skip(p + 8);
	if (strncasecmp(p, "tie", 3) == 0) {
		w = 3;
		p += 3;
	} else if (*p == 'A' || *p == 'a') {
		w = 1;
		p++;
	} else if (*p == 'B' || *p == 'b') {
		w = 2;
		p++;
	} else
		return 0;
	return isalnum((unsigned char)*p) ? 0 : w;
}

int
metric_judge_parse(const struct metric *m, const char *reply, int reversed,
    double *score, char **rationale, char **cause)
{
	const struct judge_opts	*jo;
	const char		*p, *v, *verdict = NULL, *start, *end;
	double			 grade = 0, s = 0;
	int			 pairwise, w;

	if (!metric_needs_judge(m))
		return cause_set(cause, "metric '%s' is not a judge",
		    m != NULL ? m->ops->name : "(null)");
	jo = m->data;
	pairwise = jo->mode == JUDGE_PAIRWISE;
	if (reply == NULL)
		reply = "";

	/* The last verdict wins: a judge may quote the format earlier. */
	for (p = reply; *p != '\0'; p++) {
		if (pairwise) {
			if ((v = judge_label(reply, p, "winner")) == NULL ||
			    (w = judge_winner(v)) == 0)
				continue;
			s = w == 3 ? 0.5 : (w == 1) != (reversed != 0) ? 1 : 0;
		} else {
			if ((v = judge_label(reply, p, "score")) == NULL ||
			    !judge_grade(v, &grade))
				continue;
			s = (grade - 1) / 9;
		}
		verdict = p;
	}
	if (verdict == NULL) {
		return cause_set(cause, "judge reply has no '%s' line",
		    pairwise ? "Winner: A|B|tie" : "Score: N");
	}
	*score = s;
	if (rationale != NULL) {
		/* Everything before the verdict's line, trimmed. */
		end = verdict;
		while (end > reply && end[-1] != '\n')
			end--;
		start = reply;
		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		*rationale = xstrndup(start, (size_t)(end - start));
	}
	return 0;
}
