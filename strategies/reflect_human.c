/*
 * People's critiques as textual gradients: what people wrote of the
 * answers a prompt gave in production (its interactions with a critique
 * or an edit, store_human_critiques()) shown to the optimizer beside the
 * model's own errors, when protegi asks for critiques of the prompt and
 * when gepa asks for it to be rewritten.
 *
 * Only what was ingested before the run started is read, so that a
 * resumed run asks what it asked before (and its requests are answered
 * from the cache, not paid twice).  A prompt nobody wrote of gets an
 * empty block, and its requests are byte for byte what they were before
 * people's critiques were read.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "reflect_int.h"
#include "search.h"
#include "store.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "xmalloc.h"

/*
 * When the run started, read once: critiques ingested later wait for the
 * next run.  A search without a stored run (st->started < 0) reads none.
 */
static int
reflect_human_before(struct search *s, struct reflect *st, char **cause)
{
	double	started;
	int	rc;

	if (st->started != 0)
		return 0;
	if ((rc = store_run_started(s->store, s->run_id, &started,
	    cause)) < 0)
		return -1;
	st->started = rc == 1 && started > 0 ? started : -1;
	return 0;
}

/* The text the target was shown for an interaction's inputs. */
static char *
reflect_human_input(const struct search *s, const struct human_critique *h)
{
	struct example	ex;

	memset(&ex, 0, sizeof ex);
	ex.fields = h->inputs;
	return template_render(s->task->tmpl, &ex, NULL);
}

int
reflect_human(struct search *s, struct reflect *st, const struct cand *c,
    struct rhuman *out, char **cause)
{
	struct human_critique	*h;
	struct strbuf		 sb, ids;
	size_t			 limit, n, i;
	char			*input;

	memset(out, 0, sizeof *out);
	limit = (size_t)search_int(s, "human_critiques");
	if (limit == 0 || c == NULL || s->store == NULL) {
		out->block = xstrdup("");
		return 0;
	}
	if (reflect_human_before(s, st, cause) != 0)
		return -1;
	if (st->started < 0) {
		out->block = xstrdup("");
		return 0;
	}
	if (store_human_critiques(s->store, s->job_id, c->id, st->started,
	    limit, &h, &n, cause) != 0)
		return -1;
	if (n == 0) {
		out->block = xstrdup("");
		return 0;
	}
	/*
	 * Shaped like the examples blocks (the input as the target saw it,
	 * the answer), with what the person wrote; the words around it stay
	 * clear of those that choose the operation of a simulated optimizer
	 * (promptd-sim(7)).
	 */
	strbuf_init(&sb);
	strbuf_init(&ids);
	strbuf_adds(&sb, "People who used this prompt said what they thought "
	    "of some of its answers (the latest first); what they say counts "
	    "as much as the examples above:\n<people>\n");
	for (i = 0; i < n; i++) {
		input = reflect_human_input(s, &h[i]);
		strbuf_addf(&sb, "<person>\n<input>%s</input>\n<output>%s"
		    "</output>\n<comment>%s</comment>\n</person>\n", input,
		    h[i].response != NULL ? h[i].response : "", h[i].text);
		free(input);
		strbuf_addf(&ids, "%s%lld", i > 0 ? ", " : "",
		    (long long)h[i].id);
	}
	strbuf_adds(&sb, "</people>\n\n");
	out->block = strbuf_detach(&sb);
	out->ids = strbuf_detach(&ids);
	out->n = n;
	store_human_critiques_free(h, n);
	return 0;
}

char *
reflect_human_note(const struct rhuman *hu, const char *note)
{
	if (hu == NULL || hu->n == 0)
		return note != NULL ? xstrdup(note) : NULL;
	return xasprintf("%s%s(written with people's critiques: interaction%s "
	    "%s)", note != NULL ? note : "", note != NULL && *note != '\0' ?
	    "\n" : "", hu->n == 1 ? "" : "s", hu->ids);
}

void
reflect_human_release(struct rhuman *hu)
{
	free(hu->block);
	free(hu->ids);
	memset(hu, 0, sizeof *hu);
}
