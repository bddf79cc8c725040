/*
 * The target: answers a request about an observed example (or a
 * synthetic variant of one, synth.c) correctly with the chance the
 * prompt's skill gives, else with a plausible wrong answer, and wraps the
 * answer in prose unless the prompt asks for a bare one.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "hash.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

#define SIM_PROSE_RATE		0.8

static char *
number_text(double v)
{
	if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
		return xasprintf("%.0f", round(v));
	return xasprintf("%.6g", v);
}

/* Removes every occurrence of the example's values from text. */
static char *
remove_values(const char *text, const struct sim_example *x)
{
	char		*cur = xstrdup(text), *next;
	const char	*p, *q;
	struct strbuf	 sb;
	size_t		 j;

	for (j = 0; j < x->nvals; j++) {
		if (x->lens[j] == 0)
			continue;
		strbuf_init(&sb);
		for (p = cur; (q = strstr(p, x->vals[j])) != NULL;
		    p = q + x->lens[j])
			strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_adds(&sb, p);
		next = strbuf_detach(&sb);
		free(cur);
		cur = next;
	}
	return cur;
}

/*
 * The prompt of a target request: the system message when there is one,
 * else the other messages without the example's input values.
 */
static char *
target_prompt(const struct model_req *req, const struct sim_example *x)
{
	struct strbuf	 sb;
	char		*all, *s;
	size_t		 i;

	all = sim_req_system(req);
	s = trim_dup(all, strlen(all));
	free(all);
	if (*s != '\0')
		return s;
	free(s);
	strbuf_init(&sb);
	for (i = 0; i < req->nmsgs; i++) {
		if (req->msgs[i].role == MSG_SYSTEM ||
		    req->msgs[i].content == NULL)
			continue;
		if (sb.len > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, req->msgs[i].content);
	}
	all = strbuf_detach(&sb);
	s = remove_values(all, x);
	free(all);
	/* A synthetic variant's twists are its input's, not the prompt's. */
	if (x->twists != 0) {
		all = s;
		s = sim_twists_cut(all);
		free(all);
	}
	all = trim_dup(s, strlen(s));
	free(s);
	return all;
}

/* A wrong number close to the right one. */
static char *
wrong_number(const struct sim_example *x, uint64_t h)
{
	char	*s, *p;
	double	 v = x->num, r;
	int	 op, tries;

	for (tries = 0; tries < 8; tries++) {
		op = (int)(hash_mix(h, (uint64_t)tries) % 6);
		switch (op) {
		case 0:
			r = v + 1;
			break;
		case 1:
			r = v - 1;
			break;
		case 2:
			r = v * 1.1;
			break;
		case 3:
			r = v * 0.9;
			break;
		case 4:
			s = xstrdup(x->target);
			for (p = s; p[0] != '\0' && p[1] != '\0'; p++) {
				if (isdigit((unsigned char)p[0]) &&
				    isdigit((unsigned char)p[1]) &&
				    p[0] != p[1]) {
					char	c = p[0];

					p[0] = p[1];
					p[1] = c;
					break;
				}
			}
			if (strcmp(s, x->target) != 0)
				return s;
			free(s);
			continue;
		default:
			r = -v;
			break;
		}
		if (fabs(v - round(v)) < 1e-9)
			r = round(r);
		if (!sim_numbers_equal(r, v))
			return number_text(r);
	}
	return number_text(v + 1);
}

/* A wrong free-text answer: the expected text with words dropped. */
static char *
wrong_text(const char *target, uint64_t h)
{
	static const char *const others[] = {
		"unknown", "none", "something else", "I don't know"
	};
	struct strbuf	 sb;
	size_t		 pos = 0, st, len, n, i = 0, drop, change;
	char		*s;

	n = sim_count_words(target);
	if (n < 2) {
		s = xstrdup(others[h % nitems(others)]);
		if (strcasecmp(s, target) == 0) {
			free(s);
			s = xstrdup(others[(h + 1) % nitems(others)]);
		}
		return s;
	}
	drop = hash_mix(h, 1) % n;
	change = hash_mix(h, 2) % n;
	strbuf_init(&sb);
	while (textfeat_word_next(target, &pos, &st, &len)) {
		if (i != drop) {
			if (sb.len > 0)
				strbuf_addc(&sb, ' ');
			if (i == change && (h & 1))
				strbuf_adds(&sb, "something");
			else
				strbuf_add(&sb, target + st, len);
		}
		i++;
	}
	return strbuf_detach(&sb);
}

static char *
wrong_answer(const struct sim_world *w, const struct sim_example *x,
    uint64_t h)
{
	const struct sim_task	*t = &w->tasks[x->task];
	size_t			 k;

	switch (x->kind) {
	case SIM_LABEL:
		if (t->nlabels < 2)
			return xstrdup("unsure");
		k = hash_mix(h, 3) % (t->nlabels - 1);
		if (strcmp(t->labels[k], x->target) == 0)
			k = t->nlabels - 1;
		return xstrdup(t->labels[k]);
	case SIM_NUMBER:
		return wrong_number(x, h);
	default:
		return wrong_text(x->target, h);
	}
}

/* Wraps an answer in prose. */
static char *
prose(enum sim_kind kind, int steps, const char *ans, uint64_t h)
{
	static const char *const label[] = {
		"The answer is %s.",
		"I would say it is %s, because that fits the text best.",
		"Based on the text, my answer is %s.",
		"After reading it, I think the answer is: %s.",
	};
	static const char *const number[] = {
		"The answer is %s.",
		"After working it out, the result is %s.",
		"So the final answer is %s.",
		"Working through it, I get %s.",
	};
	static const char *const text[] = {
		"The answer is: %s",
		"Sure! %s",
		"Here is my answer: %s",
		"%s (that is my best answer)",
	};
	static const char *const rewrite[] = {
		"Here is the rewritten text:\n\n%s",
		"Sure! Here is a better version:\n\n%s",
		"Rewritten:\n%s",
		"Here is the revised message:\n\n%s",
	};
	const char *const	*t;
	size_t			 i = h % 4;

	if (steps && kind != SIM_REWRITE)
		return xasprintf("Let me work through this step by step.\n"
		    "First, I look at what is given.\nThen I work out what is "
		    "asked.\nThe answer is %s.", ans);
	switch (kind) {
	case SIM_LABEL:
		t = label;
		break;
	case SIM_NUMBER:
		t = number;
		break;
	case SIM_TEXT:
		t = text;
		break;
	default:
		t = rewrite;
		break;
	}
	return sim_fill(t[i], ans);
}

/*
 * The question of a target request, its prompt and what its demos teach:
 * with demos, the prompt is the system messages without them, else the
 * last message without them and the question's values; without, as
 * target_prompt() reads it.  Returns NULL when no example is asked about.
 */
static const struct sim_example *
target_read(const struct sim_world *w, const struct model_req *req,
    const struct model_req *first, const char *text, struct sim_example *buf,
    char **prompt, struct sim_lesson *ls)
{
	const struct sim_example	*x;
	struct sim_shown		 sh;
	char				*s;

	if (!sim_demos_read(w, req, &sh)) {
		sim_lesson_none(ls);
		/* A synthetic input is its example, twisted (synth.c). */
		if ((x = sim_world_match_synth(w, text, buf)) != NULL)
			*prompt = target_prompt(first, x);
		return x;
	}
	x = sh.question;
	*prompt = trim_dup(sh.system, strlen(sh.system));
	if (**prompt == '\0') {
		free(*prompt);
		s = remove_values(sh.user, x);
		*prompt = trim_dup(s, strlen(s));
		free(s);
	}
	sim_demos_lesson(w, x, &sh, ls);
	sim_shown_release(&sh);
	return x;
}

char *
sim_answer_target(const struct sim_world *w, const struct model_req *req,
    const struct model_req *first, const char *text, uint64_t sample)
{
	struct sim_example		 buf;
	const struct sim_example	*x;
	const struct sim_task		*t;
	struct sim_lesson		 ls;
	char				*prompt, *ans, *out;
	uint64_t			 h;
	unsigned			 want, apply = 0, b;
	double				 logit, p;
	int				 bare;

	if ((x = target_read(w, req, first, text, &buf, &prompt, &ls)) ==
	    NULL)
		return xstrdup(SIM_UNSURE);
	t = &w->tasks[x->task];
	h = hash_mix(hash_mix(hash64_str(prompt, w->p.seed), x->id), sample);
	logit = sim_prompt_logit(w, t, x->kind, prompt) + ls.logit;
	bare = sim_prompt_bare(prompt);
	if (x->kind == SIM_REWRITE) {
		p = sim_sigmoid(logit);
		want = sim_prompt_traits(prompt);
		for (b = 0; b < 4; b++)
			if (sim_u01(hash_mix(h, 10 + b)) < ((want & (1u << b)) ?
			    p : p * ls.taught[b]))
				apply |= 1u << b;
		ans = sim_rewrite_apply(x->vals[x->longest], apply);
	} else {
		p = sim_sigmoid(logit + 1.5 * (0.5 - x->difficulty));
		if (sim_u01(hash_mix(h, 1)) < p)
			ans = xstrdup(x->target);
		else
			ans = wrong_answer(w, x, h);
	}
	if (!bare && sim_u01(hash_mix(h, 2)) < SIM_PROSE_RATE * ls.prose) {
		out = prose(x->kind, (sim_cues_found(prompt) &
		    SIM_CUE_STEPS) != 0, ans, hash_mix(h, 4));
		free(ans);
		ans = out;
	}
	free(prompt);
	return ans;
}
