/*
 * Reading the verdicts and grades of judges: which of two responses won
 * a comparison, and a grade from 1 to 10.  The patterns are compiled
 * once, on first use.  See reply.h for the forms that are read.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "reply.h"
#include "reply_int.h"
#include "util.h"

enum reply_re {
	RE_LABEL,		/* Winner: A */
	RE_BRACKET,		/* [[A]] */
	RE_BETTER,		/* Response A is better */
	RE_WORSE,		/* Response A is worse */
	RE_WINNER_IS,		/* the winner is B */
	RE_PREFER,		/* I prefer A */
	RE_TIE,			/* it's a tie */
	RE_GRADE_LABEL,		/* Score: 7/10 */
	RE_GRADE_BRACKET,	/* [[7]] */
	RE_GRADE_LINE,		/* 7/10 */
	RE_COUNT
};

/* A letter: any case after "response", else upper-case alone. */
#define RE_WHO								\
	"(?:(?i:response|answer|output|assistant|option)\\s*\\(?\\s*"	\
	"([AaBb])|\\(?\\b([AB]))\\b\\)?"
#define RE_ADVERBS							\
	"(?:(?i:clearly|slightly|much|somewhat|significantly|definitely|" \
	"far|overall|marginally|noticeably|generally|the|a\\s+bit)\\s+)*"
#define RE_QUALITIES							\
	"(?i:helpful|accurate|appropriate|complete|concise|polite|"	\
	"relevant|correct|clear|faithful|useful|effective)"

static const char *const reply_patterns[RE_COUNT] = {
	[RE_LABEL] =
	    "(?i:\\b(?:final\\s+verdict|final\\s+answer|final\\s+decision|"
	    "final\\s+choice|overall\\s+winner|verdict|winner|decision|"
	    "better\\s+response|preferred\\s+response|choice|answer|"
	    "preference))[*_\\s]*[:=][*_\\s]*(\\[\\[)?\\s*\\(?\\s*"
	    "(?:(?i:response|answer|assistant|output)\\s*)?[*_]*"
	    "([AaBbCc]|(?i:tie|draw|equal|neither|both))\\b",
	[RE_BRACKET] = "\\[\\[\\s*([AaBbCc]|(?i:tie))\\s*\\]\\]",
	[RE_BETTER] = RE_WHO "\\s+(?i:is|was|seems|appears)\\s+"
	    "(?i:to\\s+be\\s+)?" RE_ADVERBS
	    "(?i:better|superior|preferable|preferred|stronger|winner|"
	    "more\\s+" RE_QUALITIES ")\\b",
	[RE_WORSE] = RE_WHO "\\s+(?i:is|was|seems|appears)\\s+"
	    "(?i:to\\s+be\\s+)?" RE_ADVERBS
	    "(?i:worse|weaker|inferior|less\\s+" RE_QUALITIES ")\\b",
	[RE_WINNER_IS] = "(?i:\\bthe\\s+(?:clear\\s+|overall\\s+)?winner"
	    "\\s+is)[*_:\\s]*" RE_WHO,
	[RE_PREFER] = "(?i:\\bi\\s+(?:would\\s+|'d\\s+)?(?:prefer|choose|"
	    "pick|select|go\\s+with))\\s+" RE_WHO,
	[RE_TIE] = "(?i:\\bwinner\\s+is\\s+a\\s+tie|\\bit(?:'|\xe2\x80\x99|"
	    "\\s+i)?s\\s+a\\s+tie\\b|\\bresult\\s+is\\s+a\\s+tie|"
	    "\\bequally\\s+(?:good|bad|strong|helpful|valid|accurate|"
	    "effective|well)|\\bboth\\s+(?:responses|answers)\\s+are\\s+"
	    "(?:equally|similarly|about\\s+equally)|\\bneither\\s+(?:response|"
	    "answer)\\s+is\\s+(?:clearly\\s+)?better|\\bno\\s+clear\\s+winner|"
	    "\\bcall\\s+it\\s+a\\s+tie)",
	[RE_GRADE_LABEL] =
	    "(?i:\\b(?:overall\\s+|final\\s+)?(?:score|rating|grade))"
	    "[*_\\s]*[:=][*_\\s]*(?:\\[\\[)?\\s*(\\d+(?:\\.\\d+)?)\\s*"
	    "(?:\\]\\])?\\s*(?:(?:/|(?i:out\\s+of))\\s*(\\d+(?:\\.\\d+)?))?",
	[RE_GRADE_BRACKET] = "\\[\\[\\s*(\\d+(?:\\.\\d+)?)\\s*\\]\\]",
	[RE_GRADE_LINE] = "^[*_\\s]*(\\d+(?:\\.\\d+)?)\\s*(?:/|(?i:out\\s+of))"
	    "\\s*(\\d+(?:\\.\\d+)?)[*_.!\\s]*$",
};

static pcre2_code *reply_re[RE_COUNT];

static pcre2_code *
reply_re_get(enum reply_re which)
{
	PCRE2_SIZE	off;
	int		error;
	uint32_t	opts = 0;

	if (reply_re[which] != NULL)
		return reply_re[which];
	if (which == RE_GRADE_LINE)
		opts |= PCRE2_MULTILINE;
	reply_re[which] = pcre2_compile((PCRE2_SPTR)reply_patterns[which],
	    PCRE2_ZERO_TERMINATED, opts, &error, &off, NULL);
	if (reply_re[which] == NULL)
		fatalx("reply pattern %d does not compile at %zu (error %d)",
		    (int)which, (size_t)off, error);
	return reply_re[which];
}

/* One match of a pattern: where it is and its groups. */
struct re_match {
	size_t	start;
	size_t	g[4][2];	/* groups 1..4: offsets, or SIZE_MAX */
};

/*
 * Calls fn for every match of a pattern in text, in order.  fn returns
 * nothing; it keeps what it wants in arg.
 */
static void
re_each(enum reply_re which, const char *text,
    void (*fn)(const char *, const struct re_match *, void *), void *arg)
{
	pcre2_code		*re = reply_re_get(which);
	pcre2_match_data	*md;
	PCRE2_SIZE		*ov;
	struct re_match		 m;
	size_t			 len = strlen(text), at = 0;
	int			 rc, i;

	md = pcre2_match_data_create_from_pattern(re, NULL);
	while (at <= len && (rc = pcre2_match(re, (PCRE2_SPTR)text, len, at, 0,
	    md, NULL)) > 0) {
		ov = pcre2_get_ovector_pointer(md);
		m.start = ov[0];
		for (i = 0; i < 4; i++) {
			if (i + 1 < rc && ov[2 * (i + 1)] != PCRE2_UNSET) {
				m.g[i][0] = ov[2 * (i + 1)];
				m.g[i][1] = ov[2 * (i + 1) + 1];
			} else
				m.g[i][0] = m.g[i][1] = SIZE_MAX;
		}
		fn(text, &m, arg);
		at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_A:
		return "A";
	case VERDICT_B:
		return "B";
	case VERDICT_TIE:
		return "tie";
	default:
		return "none";
	}
}

/* The verdict a group names: a letter, or a word for a tie. */
static enum verdict
verdict_of(const char *text, const size_t g[2], int c_is_tie)
{
	const char	*s = text + g[0];
	size_t		 n = g[1] - g[0];

	if (g[0] == SIZE_MAX)
		return VERDICT_NONE;
	if (n == 1) {
		switch (*s) {
		case 'A': case 'a':
			return VERDICT_A;
		case 'B': case 'b':
			return VERDICT_B;
		case 'C': case 'c':
			return c_is_tie ? VERDICT_TIE : VERDICT_NONE;
		}
		return VERDICT_NONE;
	}
	return VERDICT_TIE;	/* tie, draw, equal, neither, both */
}

/* The start of the line holding offset at. */
static size_t
line_start(const char *text, size_t at)
{
	while (at > 0 && text[at - 1] != '\n')
		at--;
	return at;
}

/*
 * What a form found: the last verdict, where its line is, and the lines
 * that named two different winners.
 */
struct form {
	enum verdict	 v;
	size_t		 line;		/* of v */
	size_t		 cur_line;	/* the line being read */
	enum verdict	 cur;		/* its verdict so far */
	int		 cur_bad;	/* it named two */
	int		 flip;		/* for "is worse": the other */
	int		 per_line;	/* two on a line cancel */
};

static void
form_flush(struct form *f)
{
	if (f->cur != VERDICT_NONE && !f->cur_bad) {
		f->v = f->cur;
		f->line = f->cur_line;
	}
	f->cur = VERDICT_NONE;
	f->cur_bad = 0;
}

static void
form_add(struct form *f, const char *text, size_t at, enum verdict v)
{
	size_t	ls = line_start(text, at);

	if (v == VERDICT_NONE)
		return;
	if (f->flip && v != VERDICT_TIE)
		v = v == VERDICT_A ? VERDICT_B : VERDICT_A;
	if (!f->per_line) {
		f->v = v;
		f->line = ls;
		return;
	}
	if (f->cur != VERDICT_NONE && ls != f->cur_line)
		form_flush(f);
	if (f->cur != VERDICT_NONE && f->cur != v)
		f->cur_bad = 1;
	f->cur = v;
	f->cur_line = ls;
}

static void
on_label(const char *text, const struct re_match *m, void *arg)
{
	/* "C" is a tie only in brackets: "Winner: [[C]]". */
	form_add(arg, text, m->start, verdict_of(text, m->g[1],
	    m->g[0][0] != SIZE_MAX));
}

static void
on_bracket(const char *text, const struct re_match *m, void *arg)
{
	form_add(arg, text, m->start, verdict_of(text, m->g[0], 1));
}

static void
on_who(const char *text, const struct re_match *m, void *arg)
{
	form_add(arg, text, m->start, verdict_of(text, m->g[0][0] !=
	    SIZE_MAX ? m->g[0] : m->g[1], 0));
}

static void
on_tie(const char *text, const struct re_match *m, void *arg)
{
	form_add(arg, text, m->start, VERDICT_TIE);
}

/* A lone verdict on the last line: "B", "**A**", "(B).", "Tie". */
static enum verdict
verdict_last_line(const char *text, size_t *at)
{
	const char	*e = text + strlen(text), *b, *s;
	size_t		 n;

	while (e > text && isspace((unsigned char)e[-1]))
		e--;
	for (b = e; b > text && b[-1] != '\n'; b--)
		;
	*at = (size_t)(b - text);
	for (s = b; s < e && (reply_md_char(*s) || *s == '(' || *s == '[' ||
	    *s == '`'); s++)
		;
	while (e > s && (reply_md_char(e[-1]) || e[-1] == ')' || e[-1] == ']' ||
	    e[-1] == '.' || e[-1] == '!' || e[-1] == '`'))
		e--;
	if ((n = reply_prefix(s, "response")) != 0 || (n = reply_prefix(s,
	    "answer")) != 0)
		for (s += n; s < e && *s == ' '; s++)
			;
	n = (size_t)(e - s);
	if (n == 1 && (*s == 'A' || *s == 'a'))
		return VERDICT_A;
	if (n == 1 && (*s == 'B' || *s == 'b'))
		return VERDICT_B;
	if (n == 3 && strncasecmp(s, "tie", 3) == 0)
		return VERDICT_TIE;
	return VERDICT_NONE;
}

enum verdict
reply_verdict(const char *reply, size_t *at)
{
	struct form	 f;
	char		*text;
	enum verdict	 v = VERDICT_NONE;
	size_t		 where = 0;
	static const struct {
		enum reply_re	 re;
		void		(*fn)(const char *, const struct re_match *,
				    void *);
		int		 per_line;
		int		 flip;
	} forms[][5] = {
		{ { RE_LABEL, on_label, 1, 0 } },
		{ { RE_BRACKET, on_bracket, 1, 0 } },
		{ { RE_BETTER, on_who, 0, 0 }, { RE_WORSE, on_who, 0, 1 },
		  { RE_WINNER_IS, on_who, 0, 0 }, { RE_PREFER, on_who, 0, 0 },
		  { RE_TIE, on_tie, 0, 0 } },
	};
	size_t		 k, j;
	struct form	 best;

	text = reply_unthink(reply != NULL ? reply : "");
	for (k = 0; k < nitems(forms) && v == VERDICT_NONE; k++) {
		memset(&best, 0, sizeof best);
		for (j = 0; j < nitems(forms[k]) && forms[k][j].fn != NULL;
		    j++) {
			memset(&f, 0, sizeof f);
			f.per_line = forms[k][j].per_line;
			f.flip = forms[k][j].flip;
			re_each(forms[k][j].re, text, forms[k][j].fn, &f);
			form_flush(&f);
			/* Within a form, the last one in the text. */
			if (f.v != VERDICT_NONE && (best.v == VERDICT_NONE ||
			    f.line >= best.line))
				best = f;
		}
		v = best.v;
		where = best.line;
	}
	if (v == VERDICT_NONE)
		v = verdict_last_line(text, &where);
	free(text);
	if (at != NULL)
		*at = v != VERDICT_NONE ? where : 0;
	return v;
}

/* What the grade patterns found: the last grade and its line. */
struct grade_find {
	int	found;
	double	grade;
	size_t	line;
};

static void
on_grade(const char *text, const struct re_match *m, void *arg)
{
	struct grade_find	*g = arg;
	double			 n, d = 10;

	n = strtod(text + m->g[0][0], NULL);
	if (m->g[1][0] != SIZE_MAX)
		d = strtod(text + m->g[1][0], NULL);
	if (!isfinite(n) || !isfinite(d) || d <= 0)
		return;
	if (d != 10)
		n = n * 10 / d;
	if (n < 1)
		n = 1;
	if (n > 10)
		n = 10;
	g->found = 1;
	g->grade = n;
	g->line = line_start(text, m->start);
}

int
reply_grade(const char *reply, double *grade, size_t *at)
{
	static const enum reply_re order[] = {
		RE_GRADE_LABEL, RE_GRADE_BRACKET, RE_GRADE_LINE
	};
	struct grade_find	 g;
	char			*text;
	size_t			 i;

	memset(&g, 0, sizeof g);
	text = reply_unthink(reply != NULL ? reply : "");
	for (i = 0; i < nitems(order) && !g.found; i++)
		re_each(order[i], text, on_grade, &g);
	free(text);
	if (!g.found)
		return 0;
	*grade = g.grade;
	if (at != NULL)
		*at = g.line;
	return 1;
}
