/*
 * Demonstrations: the observed examples a target request shows with an
 * answer besides the one it asks about.  A demo is a user turn holding
 * an example followed by an assistant turn (the "turns" rendering), or an
 * example's input followed by an output inside the prompt text (the
 * "inline" rendering, in the system message or in the question's own
 * message).  This file finds the question among them, cuts the inline
 * demos out of the prompt text so that what skill.c scores is the
 * instruction alone, and says what the demos teach the target: a shift
 * of its skill, less prose around its answers, rewrite traits.
 *
 * man/promptd-sim.7 gives the rules and the formula; keep them in step.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* The most a demo's marker ("Output:", "The answer:") holds. */
#define MARKER_WORDS		3
#define MARKER_LETTERS		20

/* The gain: logit = GAIN (1 - e^(-S+/SCALE)) - LOSS (1 - e^(-S-/SCALE)). */
#define SIM_DEMO_GAIN		1.5
#define SIM_DEMO_LOSS		1.5
#define SIM_DEMO_SCALE		2.0
/* A demo's weight: BASE + (1 - BASE) * similarity. */
#define SIM_DEMO_BASE		0.5
/* The cosines mapped to similarities 0 and 1. */
#define SIM_DEMO_COS0		0.2
#define SIM_DEMO_COS1		0.8
/* What each demo with a bare answer multiplies the prose rate by. */
#define SIM_DEMO_BARE		0.5
/* The share of a rewrite's input words a good rewrite keeps. */
#define SIM_DEMO_KEPT		0.5

/*
 * Whether a marker starts at s[p]: up to MARKER_WORDS words of letters,
 * one space apart, then a colon ("Output:", "Answer:").  Sets *after
 * past the colon.
 */
static int
marker_at(const char *s, size_t p, size_t lim, size_t *after)
{
	size_t	words = 0, n;

	for (;;) {
		for (n = 0; p + n < lim && isalpha((unsigned char)s[p + n]);
		    n++)
			;
		if (n == 0 || n > MARKER_LETTERS || ++words > MARKER_WORDS)
			return 0;
		p += n;
		if (p < lim && s[p] == ':') {
			*after = p + 1;
			return 1;
		}
		if (p + 1 >= lim || s[p] != ' ')
			return 0;
		p++;
	}
}

/*
 * Skips white space and the markers of s[p..lim): one at p, then those
 * that start a line.  Returns where the rest starts.
 */
static size_t
markers_skip(const char *s, size_t p, size_t lim)
{
	size_t	after;
	int	may = 1;

	for (;;) {
		while (p < lim && isspace((unsigned char)s[p])) {
			if (s[p] == '\n')
				may = 1;
			p++;
		}
		if (p >= lim || !may || !marker_at(s, p, lim, &after))
			return p;
		p = after;
		may = 0;
	}
}

/* The end of the paragraph at p: the next blank line, else lim. */
static size_t
para_end(const char *s, size_t p, size_t lim)
{
	const char	*q;

	if (p >= lim)
		return lim;
	q = memmem(s + p, lim - p, "\n\n", 2);
	return q != NULL ? (size_t)(q - s) : lim;
}

static size_t
rtrim_at(const char *s, size_t b, size_t e)
{
	while (e > b && isspace((unsigned char)s[e - 1]))
		e--;
	return e;
}

/*
 * The output after an input that ends at from (and before lim): past
 * the markers, to the end of its paragraph, or of the next one when the
 * first is a preamble ending in a colon ("Here is the rewrite:").
 */
static void
output_span(const char *s, size_t from, size_t lim, size_t *ob, size_t *oe)
{
	size_t	b, e, t;

	b = markers_skip(s, from, lim);
	e = para_end(s, b, lim);
	t = rtrim_at(s, b, e);
	if (t > b && s[t - 1] == ':' && e < lim)
		t = rtrim_at(s, b, para_end(s, markers_skip(s, e, lim), lim));
	*ob = b;
	*oe = t;
}

/* Whether out reads as an answer to x, of the kind x's task has. */
static int
plausible(const struct sim_world *w, const struct sim_example *x,
    const char *out)
{
	const struct sim_task	*t = &w->tasks[x->task];
	char			*l, *lab;
	double			 v;
	size_t			 i;
	int			 ok = 0;

	if (*out == '\0')
		return 0;
	switch (x->kind) {
	case SIM_LABEL:
		l = sim_lower_dup(out);
		for (i = 0; i < t->nlabels && !ok; i++) {
			lab = sim_lower_dup(t->labels[i]);
			ok = sim_has_word(l, lab);
			free(lab);
		}
		free(l);
		return ok;
	case SIM_NUMBER:
		return sim_last_number(out, &v);
	default:
		return 1;
	}
}

/*
 * A text read for inline demos: its occurrences of observed examples,
 * which of them is the question (n when none is), and how many bytes of
 * template follow every input before its output.
 */
struct reading {
	const struct sim_world	*w;
	const char		*text;
	size_t			 len;
	struct sim_occ		*occ;
	size_t			 n;
	size_t			 question;
	size_t			 suffix;
};

/* The bytes after occurrence i, to the next one. */
static size_t
tail_len(const struct reading *rd, size_t i)
{
	return (i + 1 < rd->n ? rd->occ[i + 1].start : rd->len) -
	    rd->occ[i].end;
}

/*
 * The template text that follows every input of a message that renders
 * several ("\nIs it positive or negative?"): what all their tails begin
 * with, when it is a whole tail (the question's, with nothing after it),
 * else the whole lines they begin with.
 */
static size_t
tails_common(const struct reading *rd)
{
	const char	*t = rd->text;
	size_t		 c, m, i, e0;
	int		 whole = 0;

	if (rd->n < 2)
		return 0;
	e0 = rd->occ[0].end;
	c = tail_len(rd, 0);
	for (i = 1; i < rd->n; i++) {
		for (m = 0; m < c && m < tail_len(rd, i) &&
		    t[e0 + m] == t[rd->occ[i].end + m]; m++)
			;
		c = m;
	}
	for (i = 0; i < rd->n; i++)
		whole |= c == tail_len(rd, i);
	while (!whole && c > 0 && t[e0 + c - 1] != '\n')
		c--;
	return c;
}

/*
 * The output shown after occurrence i (an empty one: none), and where it
 * ends.  The next occurrence, unless it is the question, is the output
 * when nothing but markers comes between them (*merged is then 1): a
 * rewrite that left its input as it was, or an answer that happens to be
 * another example's input.
 */
static char *
occ_output(const struct reading *rd, size_t i, size_t *end, int *merged)
{
	const struct sim_occ	*occ = rd->occ;
	size_t			 from, lim, ob;
	char			*out;

	from = occ[i].end + rd->suffix;
	lim = i + 1 < rd->n ? occ[i + 1].start : rd->len;
	*merged = 0;
	if (markers_skip(rd->text, from, lim) == lim && i + 1 < rd->n &&
	    i + 1 != rd->question) {
		lim = i + 2 < rd->n ? occ[i + 2].start : rd->len;
		*merged = 1;
	}
	output_span(rd->text, from, lim, &ob, end);
	out = xstrndup(rd->text + ob, *end - ob);
	if (!plausible(rd->w, occ[i].x, out))
		*out = '\0';
	return out;
}

static int
occ_has_output(const struct reading *rd, size_t i)
{
	char	*out;
	size_t	 end;
	int	 merged, has;

	out = occ_output(rd, i, &end, &merged);
	has = *out != '\0';
	free(out);
	return has;
}

/*
 * The start of a demo's block: the start of the paragraph holding its
 * input at pos, moved back over paragraphs of markers alone ("Input:"),
 * never before floor.
 */
static size_t
block_start(const char *s, size_t pos, size_t floor)
{
	size_t	p = pos, r;

	while (p > floor + 1 && !(s[p - 1] == '\n' && s[p - 2] == '\n'))
		p--;
	if (p == floor + 1)
		p = floor;
	while (p >= floor + 2) {
		r = p - 2;
		while (r > floor + 1 && !(s[r - 1] == '\n' && s[r - 2] == '\n'))
			r--;
		if (r == floor + 1)
			r = floor;
		if (r >= p - 2 || markers_skip(s, r, p - 2) < p - 2)
			break;
		p = r;
	}
	return p;
}

static void
demo_add(struct sim_shown *sh, const struct sim_example *x, char *output)
{
	sh->demos = xreallocarray(sh->demos, sh->ndemos + 1,
	    sizeof *sh->demos);
	sh->demos[sh->ndemos].x = x;
	sh->demos[sh->ndemos].output = output;
	sh->ndemos++;
}

/*
 * Reads text: its occurrences and, when question is set, which one is
 * the question: the last, unless an answer follows it and none follows
 * the first (a template whose {{prompt}} comes after the input).
 * Returns 0 when text holds no observed example.
 */
static int
reading_init(struct reading *rd, const struct sim_world *w,
    const char *text, int question)
{
	rd->w = w;
	rd->text = text;
	rd->len = strlen(text);
	rd->n = sim_world_occurrences(w, text, &rd->occ);
	rd->question = rd->n;
	rd->suffix = 0;
	if (rd->n == 0 || !question)
		return rd->n > 0;
	rd->suffix = tails_common(rd);
	rd->question = rd->n - 1;
	if (rd->n > 1 && occ_has_output(rd, rd->n - 1) &&
	    !occ_has_output(rd, 0))
		rd->question = 0;
	return 1;
}

/*
 * Adds the inline demos of a reading to sh, the occurrences other than
 * the question with a plausible output after them, and returns the text
 * without them: the white space before each cut goes too, so that
 * "instruction\n\n<demos>\n\nQuestion: ..." reads as the instruction
 * alone would, "instruction\n\nQuestion: ...".
 */
static char *
inline_demos(const struct reading *rd, struct sim_shown *sh)
{
	struct strbuf	 sb;
	size_t		 i, floor = 0, pos = 0, start, end;
	char		*out;
	int		 merged;

	strbuf_init(&sb);
	for (i = 0; i < rd->n; i++) {
		if (i == rd->question) {
			floor = rd->occ[i].end;
			continue;
		}
		out = occ_output(rd, i, &end, &merged);
		if (*out == '\0') {
			free(out);
			continue;
		}
		demo_add(sh, rd->occ[i].x, out);
		start = block_start(rd->text, rd->occ[i].start, floor);
		strbuf_add(&sb, rd->text + pos, start - pos);
		while (sb.len > 0 && isspace((unsigned char)sb.buf[sb.len - 1]))
			sb.buf[--sb.len] = '\0';
		pos = floor = end;
		i += (size_t)merged;
	}
	strbuf_adds(&sb, rd->text + pos);
	return strbuf_detach(&sb);
}

/* Reads the system messages (joined as target.c does) for demos. */
static void
system_demos(const struct sim_world *w, const struct model_req *req,
    struct sim_shown *sh)
{
	struct reading	 rd;
	char		*text;

	text = sim_req_system(req);
	reading_init(&rd, w, text, 0);
	sh->system = inline_demos(&rd, sh);
	free(rd.occ);
	free(text);
}

int
sim_demos_read(const struct sim_world *w, const struct model_req *req,
    struct sim_shown *sh)
{
	const struct chat_msg		*m = req->msgs;
	const struct sim_example	*x;
	struct reading			 rd;
	size_t				 i, u;

	memset(sh, 0, sizeof *sh);
	if (req->nmsgs == 0)
		return 0;
	u = req->nmsgs - 1;
	if (m[u].role != MSG_USER || m[u].content == NULL)
		return 0;
	if (!reading_init(&rd, w, m[u].content, 1)) {
		free(rd.occ);
		return 0;
	}
	sh->question = rd.occ[rd.question].x;
	for (i = 0; i + 1 < u; i++) {
		if (m[i].role != MSG_USER || m[i + 1].role != MSG_ASSISTANT ||
		    m[i].content == NULL || m[i + 1].content == NULL ||
		    (x = sim_world_match(w, m[i].content)) == NULL)
			continue;
		demo_add(sh, x, trim_dup(m[i + 1].content,
		    strlen(m[i + 1].content)));
	}
	sh->user = inline_demos(&rd, sh);
	free(rd.occ);
	system_demos(w, req, sh);
	if (sh->ndemos > 0)
		return 1;
	sim_shown_release(sh);
	return 0;
}

void
sim_shown_release(struct sim_shown *sh)
{
	size_t	i;

	for (i = 0; i < sh->ndemos; i++)
		free(sh->demos[i].output);
	free(sh->demos);
	free(sh->system);
	free(sh->user);
	memset(sh, 0, sizeof *sh);
}

/* Whether a demo's answer is bare: the answer alone, without prose. */
static int
demo_bare(const struct sim_world *w, const struct sim_demo *d)
{
	const struct sim_task	*t = &w->tasks[d->x->task];
	const char		*o = d->output, *nl;
	size_t			 n = strlen(o), i, e;
	double			 v;

	switch (d->x->kind) {
	case SIM_LABEL:
		if (n > 0 && o[n - 1] == '.')
			n--;
		for (i = 0; i < t->nlabels; i++)
			if (strlen(t->labels[i]) == n &&
			    strncasecmp(t->labels[i], o, n) == 0)
				return 1;
		return 0;
	case SIM_NUMBER:
		return sim_parse_number(o, &v);
	case SIM_TEXT:
		return sim_count_words(o) <= sim_count_words(d->x->target);
	default:
		/* A preamble ends its line with a colon. */
		for (i = 0; i < n; i = e + 1) {
			nl = strchr(o + i, '\n');
			e = nl != NULL ? (size_t)(nl - o) : n;
			if (rtrim_at(o, i, e) > i && o[rtrim_at(o, i, e) - 1] ==
			    ':')
				return 0;
		}
		return 1;
	}
}

/* How near a demo is to the question, in [0, 1]. */
static double
similarity(const struct sim_world *w, const struct sim_example *q,
    const float *vq, const struct sim_example *x, float *vx)
{
	double	c = 0;
	size_t	i, dim = sim_world_dim(w);

	if (q->kind == SIM_LABEL && strcmp(q->target, x->target) == 0)
		return 1;
	sim_world_embed(w, x->vals[x->longest], vx);
	for (i = 0; i < dim; i++)
		c += (double)vq[i] * (double)vx[i];
	c = (c - SIM_DEMO_COS0) / (SIM_DEMO_COS1 - SIM_DEMO_COS0);
	return fmax(0, fmin(1, c));
}

/* Whether a demo's answer is right (a rewrite: keeps its input). */
static int
demo_right(const struct sim_world *w, const struct sim_demo *d)
{
	const struct sim_example	*x = d->x;

	if (x->kind == SIM_REWRITE)
		return sim_rewrite_kept(x->vals[x->longest], d->output) >=
		    SIM_DEMO_KEPT;
	return sim_correctness(w, x, d->output) >= 1;
}

void
sim_demos_lesson(const struct sim_world *w, const struct sim_example *q,
    const struct sim_shown *sh, struct sim_lesson *ls)
{
	const struct sim_demo	*d;
	float			*vq, *vx;
	double			 wt, plus = 0, minus = 0;
	double			 shown[4] = { 0 };
	size_t			 i, b, bare = 0, dim = sim_world_dim(w);
	unsigned		 t;

	sim_lesson_none(ls);
	vq = xcalloc(dim, sizeof *vq);
	vx = xcalloc(dim, sizeof *vx);
	sim_world_embed(w, q->vals[q->longest], vq);
	for (i = 0; i < sh->ndemos; i++) {
		d = &sh->demos[i];
		if (d->x->task != q->task || d->x->kind != q->kind)
			continue;
		bare += demo_bare(w, d);
		wt = SIM_DEMO_BASE + (1 - SIM_DEMO_BASE) *
		    similarity(w, q, vq, d->x, vx);
		if (!demo_right(w, d)) {
			minus += wt;
			continue;
		}
		plus += wt;
		if (q->kind != SIM_REWRITE)
			continue;
		t = sim_rewrite_shown(d->x->vals[d->x->longest], d->output);
		for (b = 0; b < 4; b++)
			if (t & (1u << b))
				shown[b]++;
	}
	ls->logit = SIM_DEMO_GAIN * (1 - exp(-plus / SIM_DEMO_SCALE)) -
	    SIM_DEMO_LOSS * (1 - exp(-minus / SIM_DEMO_SCALE));
	ls->prose = pow(SIM_DEMO_BARE, (double)bare);
	for (b = 0; b < 4; b++)
		ls->taught[b] = 1 - exp(-shown[b] / SIM_DEMO_SCALE);
	free(vq);
	free(vx);
}

void
sim_lesson_none(struct sim_lesson *ls)
{
	size_t	b;

	ls->logit = 0;
	ls->prose = 1;
	for (b = 0; b < 4; b++)
		ls->taught[b] = 0;
}
