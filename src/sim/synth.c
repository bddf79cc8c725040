/*
 * Synthetic examples in the simulated world (jobrun_synth.c asks for
 * them): the optimizer writes new inputs near the boundary of a task,
 * and the judge labels an input with the world's truth.
 *
 * A new input is a variant of an example the request shows: its longest
 * value (the input itself, for a task of one field) with one of the
 * world's boundary twists appended, a sentence that makes the case less
 * clear-cut.  The world reads a text that holds a twist as the example it
 * is a variant of, harder: the same truth, a difficulty of 0.5 plus half
 * the example's (near the boundary, where a weak prompt goes wrong more
 * often) and draws of its own (sim_world_match_synth()).  Labeling goes
 * by the same reading, so the label is the truth of the example the
 * input was made from; an input the world cannot place is declined.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hash.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Seeds the draws of a variant apart from its example's. */
#define SEED_TWIST	0x7477697374ULL

/* The sentences that make an input a boundary case. */
static const char *const sim_twists[] = {
	"That said, not everything about it is clear-cut.",
	"Then again, some would read it differently.",
	"To be fair, there is another side to it.",
	"Still, it is hard to say for sure.",
	"Parts of it point the other way.",
	"It is easy to get this one wrong.",
	"Some of the details are a little unusual.",
	"At first glance it may seem otherwise.",
};

/*
 * text without its twists (allocated), and which it had as a bit mask;
 * a twist is cut with the space before it.
 */
static char *
twists_strip(const char *text, unsigned *mask)
{
	struct strbuf	 sb;
	const char	*p, *q, *best;
	size_t		 i, k = 0, len;

	*mask = 0;
	strbuf_init(&sb);
	for (p = text;;) {
		best = NULL;
		for (i = 0; i < nitems(sim_twists); i++)
			if ((q = strstr(p, sim_twists[i])) != NULL &&
			    (best == NULL || q < best)) {
				best = q;
				k = i;
			}
		if (best == NULL)
			break;
		len = strlen(sim_twists[k]);
		*mask |= 1u << k;
		strbuf_add(&sb, p, (size_t)(best - p));
		if (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
			sb.buf[--sb.len] = '\0';
		p = best + len;
	}
	strbuf_adds(&sb, p);
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

const struct sim_example *
sim_world_match_synth(const struct sim_world *w, const char *text,
    struct sim_example *buf)
{
	const struct sim_example	*x;
	char				*plain;
	unsigned			 mask;

	plain = twists_strip(text, &mask);
	x = sim_world_match(w, plain);
	free(plain);
	if (x == NULL || mask == 0)
		return x;
	*buf = *x;
	buf->id = hash_mix(x->id, SEED_TWIST ^ mask);
	buf->difficulty = 0.5 + x->difficulty / 2;
	buf->twists = mask;
	return buf;
}

char *
sim_twists_cut(const char *text)
{
	unsigned	mask;

	return twists_strip(text, &mask);
}

/* The number of inputs asked for ("Write 10 new inputs"), or 0. */
static size_t
synth_asked(const char *text)
{
	const char	*p;
	long		 n;

	if ((p = strstr(text, "Write ")) == NULL)
		return 0;
	for (; p != NULL; p = strstr(p + 1, "Write ")) {
		n = strtol(p + 6, NULL, 10);
		if (n > 0 && n <= 1000 && strstr(p, " new inputs") != NULL)
			return (size_t)n;
	}
	return 0;
}

int
sim_synth_asked(const char *text)
{
	return sim_tag_has(text, "prompt") && synth_asked(text) > 0;
}

int
sim_label_asked(const char *text)
{
	return sim_tag_has(text, "input") && strstr(text, "<answer>") != NULL &&
	    !sim_tag_has(text, "prompt") && !sim_tag_has(text, "response");
}

/* The bodies of the <input> blocks inside the <tag> blocks of text. */
static void
inputs_in(const char *text, const char *tag, struct sim_list *out)
{
	const char	*pos = text, *body, *ipos, *ibody;
	size_t		 len, ilen;
	char		*block, *s;

	while (sim_tag_next(text, tag, &pos, &body, &len, NULL, NULL)) {
		block = xstrndup(body, len);
		ipos = block;
		while (sim_tag_next(block, "input", &ipos, &ibody, &ilen, NULL,
		    NULL)) {
			s = trim_dup(ibody, ilen);
			if (*s != '\0')
				sim_list_add(out, s);
			free(s);
		}
		free(block);
	}
}

/*
 * An example's input with a twist: appended to the input, or to the
 * longest string of an input that is a JSON object.
 */
static char *
variant(const char *input, size_t twist)
{
	cJSON	*o, *v, *longest = NULL;
	char	*s, *out;

	o = cJSON_Parse(input);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return xasprintf("%s %s", input, sim_twists[twist]);
	}
	cJSON_ArrayForEach(v, o)
		if (cJSON_IsString(v) && (longest == NULL ||
		    strlen(v->valuestring) > strlen(longest->valuestring)))
			longest = v;
	if (longest == NULL) {
		cJSON_Delete(o);
		return xasprintf("%s %s", input, sim_twists[twist]);
	}
	s = xasprintf("%s %s", longest->valuestring, sim_twists[twist]);
	cJSON_SetValuestring(longest, s);
	free(s);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static int
listed(const struct sim_list *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

char *
sim_answer_synth(const char *text, uint64_t h)
{
	static const char *const strip[] = { "previous", NULL };
	struct sim_list	 ex = { 0 }, prev = { 0 }, out = { 0 };
	struct strbuf	 sb;
	char		*shown, *v;
	size_t		 want = synth_asked(text), total, start, k, p, e, t;

	inputs_in(text, "previous", &prev);
	shown = sim_tags_strip(text, strip);
	inputs_in(shown, "example", &ex);
	free(shown);
	if (ex.n == 0) {
		sim_list_free(&prev);
		return xstrdup("I need a few examples of the task to write new "
		    "inputs like them.");
	}
	/* Every (example, twist) pair once, from a place of the draw's. */
	total = ex.n * nitems(sim_twists);
	start = (size_t)(h % total);
	for (k = 0; k < total && out.n < want; k++) {
		p = (start + k) % total;
		e = p % ex.n;
		t = (p / ex.n + (size_t)hash_mix(h, e)) % nitems(sim_twists);
		v = variant(ex.v[e], t);
		if (!listed(&prev, v) && !listed(&out, v) && !listed(&ex, v))
			sim_list_add(&out, v);
		free(v);
	}
	strbuf_init(&sb);
	strbuf_addf(&sb, "Here are %zu new inputs close to the boundary "
	    "between answers.\n\n", out.n);
	for (k = 0; k < out.n; k++)
		strbuf_addf(&sb, "<input>%s</input>\n", out.v[k]);
	sim_list_free(&ex);
	sim_list_free(&prev);
	sim_list_free(&out);
	return strbuf_detach(&sb);
}

char *
sim_answer_label(const struct sim_world *w, const char *text)
{
	struct sim_example		 buf;
	const struct sim_example	*x;
	const char			*pos = text, *body, *last = NULL;
	size_t				 len, lastlen = 0;
	char				*input;

	while (sim_tag_next(text, "input", &pos, &body, &len, NULL, NULL)) {
		last = body;
		lastlen = len;
	}
	input = last != NULL ? xstrndup(last, lastlen) : xstrdup("");
	x = sim_world_match_synth(w, input, &buf);
	free(input);
	if (x == NULL || x->target == NULL)
		return xstrdup("I cannot tell what the correct answer to this "
		    "input is.");
	return xasprintf("Reading the input closely, the correct answer "
	    "is:\n\n<answer>%s</answer>", x->target);
}
