/* Tasks: the role names, and one example as a model request. */
#include <stdlib.h>

#include "backend.h"
#include "dataset.h"
#include "task.h"
#include "template.h"

const char *const task_role_names[] = {
	"target", "optimizer", "judge", "embedder", NULL
};

const char *
task_role_name(enum task_role r)
{
	return task_role_names[r];
}

void
task_build_request(const struct task *task, const char *prompt, size_t i,
    struct model_req *req)
{
	char	*text;

	model_req_init(req, REQ_CHAT, task_role_name(ROLE_TARGET));
	if (task->placement == PLACE_SYSTEM) {
		if (prompt != NULL && *prompt != '\0')
			model_req_add(req, MSG_SYSTEM, prompt);
		text = template_render(task->tmpl, &task->dataset->ex[i], NULL);
	} else
		text = template_render(task->tmpl, &task->dataset->ex[i], prompt);
	model_req_add(req, MSG_USER, text);
	free(text);
}
