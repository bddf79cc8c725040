/*
 * The judge metric: a model grades an output against a rubric (1 to 10)
 * or picks the better of two outputs.  This file builds the judge's
 * messages and reads its verdict; the engine makes the call.
 */
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

char *
metric_judge_pair_prompt(const char *rubric, const char *input,
    const char *first, const char *second, const char *reference)
{
	struct strbuf	sb;

	strbuf_init(&sb);
	strbuf_adds(&sb, "Compare two responses to the input below against "
	    "the rubric.\n\n");
	judge_tag(&sb, "input", input);
	judge_tag(&sb, "response_a", first);
	judge_tag(&sb, "response_b", second);
	if (reference != NULL)
		judge_tag(&sb, "reference", reference);
	judge_tag(&sb, "rubric", rubric);
	strbuf_adds(&sb, "Explain briefly which response meets the rubric "
	    "better; do not let their order or length sway you.  Then end "
	    "your reply with a final line that is exactly one of \"Winner: "
	    "A\", \"Winner: B\" or \"Winner: tie\".");
	return strbuf_detach(&sb);
}

const char *
metric_judge_system(void)
{
	return JUDGE_SYSTEM;
}

int
metric_judge_pairwise(const struct metric *m)
{
	return metric_needs_judge(m) &&
	    ((const struct judge_opts *)m->data)->mode == JUDGE_PAIRWISE;
}

cJSON *
metric_judge_messages(const struct metric *m, const char *input,
    const char *output, const char *reference, int reversed)
{
	const struct judge_opts	*jo;
	const char		*rubric = JUDGE_DEFAULT_RUBRIC;
	struct strbuf		 sb;
	char			*user;
	cJSON			*a;

	jo = metric_needs_judge(m) ? m->data : NULL;
	if (jo != NULL)
		rubric = jo->rubric;
	if (jo == NULL || jo->mode == JUDGE_RUBRIC) {
		strbuf_init(&sb);
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
		user = strbuf_detach(&sb);
	} else
		user = metric_judge_pair_prompt(rubric, input,
		    reversed ? reference : output,
		    reversed ? output : reference, NULL);
	a = cJSON_CreateArray();
	judge_message(a, "system", JUDGE_SYSTEM);
	judge_message(a, "user", user);
	free(user);
	return a;
}
