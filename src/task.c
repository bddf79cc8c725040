/* Tasks: the role names, and one example as a model request. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "dataset.h"
#include "demo.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "xmalloc.h"

const char *const task_role_names[] = {
	"target", "optimizer", "judge", "embedder", NULL
};

const char *
task_role_name(enum task_role r)
{
	return task_role_names[r];
}

/* One demo by the inline template: its input and output as fields. */
static void
task_demo_inline(const struct task *task, const struct demo *d,
    struct strbuf *sb)
{
	struct example	 ex;
	char		*text;

	memset(&ex, 0, sizeof ex);
	ex.fields = cJSON_CreateObject();
	cJSON_AddStringToObject(ex.fields, "input", d->input);
	cJSON_AddStringToObject(ex.fields, "output", d->output);
	text = template_render(task->demo_tmpl, &ex, NULL);
	strbuf_adds(sb, text);
	free(text);
	cJSON_Delete(ex.fields);
}

char *
task_prompt_text(const struct task *task, const char *prompt,
    const struct demos *demos)
{
	struct strbuf	sb;
	size_t		i;

	if (demos == NULL || demos->n == 0 || task->demos != DEMOS_INLINE)
		return xstrdup(prompt != NULL ? prompt : "");
	strbuf_init(&sb);
	strbuf_adds(&sb, prompt != NULL ? prompt : "");
	for (i = 0; i < demos->n; i++) {
		if (sb.len > 0)
			strbuf_adds(&sb, "\n\n");
		task_demo_inline(task, &demos->v[i], &sb);
	}
	return strbuf_detach(&sb);
}

long long
task_prompt_tokens(const struct task *task, const char *prompt,
    const struct demos *demos)
{
	char		*text = task_prompt_text(task, prompt, demos);
	long long	 n = tokens_estimate(text);
	size_t		 i;

	free(text);
	if (demos != NULL && task->demos == DEMOS_TURNS)
		for (i = 0; i < demos->n; i++)
			n += tokens_estimate(demos->v[i].input) +
			    tokens_estimate(demos->v[i].output);
	return n;
}

void
task_build_request(const struct task *task, const char *prompt, size_t i,
    struct model_req *req)
{
	task_build_request_demos(task, prompt, NULL, i, req);
}

void
task_build_request_demos(const struct task *task, const char *prompt,
    const struct demos *demos, size_t i, struct model_req *req)
{
	char	*text, *full;
	size_t	 k;
	int	 turns = demos != NULL && task->demos == DEMOS_TURNS;

	full = task_prompt_text(task, prompt, demos);
	model_req_init(req, REQ_CHAT, task_role_name(ROLE_TARGET));
	if (task->placement == PLACE_SYSTEM) {
		if (*full != '\0')
			model_req_add(req, MSG_SYSTEM, full);
		text = template_render(task->tmpl, &task->dataset->ex[i], NULL);
	} else
		text = template_render(task->tmpl, &task->dataset->ex[i], full);
	for (k = 0; turns && k < demos->n; k++) {
		model_req_add(req, MSG_USER, demos->v[k].input);
		model_req_add(req, MSG_ASSISTANT, demos->v[k].output);
	}
	model_req_add(req, MSG_USER, text);
	free(text);
	free(full);
}
