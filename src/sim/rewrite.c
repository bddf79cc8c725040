/*
 * Rewrites: applying the traits a prompt asks for (concise, polite,
 * formal, correctly spelled) to a text, and measuring how well a rewrite
 * has them and keeps the input's content.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"
#include "sim/sim_int.h"
#include "strbuf.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

static const char *const sim_fillers[] = {
	"basically", "actually", "really", "very", "just", "kind of",
	"sort of", "totally", "literally", "honestly",
};

static const char *const sim_contractions[][2] = {
	{ "don't", "do not" }, { "can't", "cannot" }, { "won't", "will not" },
	{ "it's", "it is" }, { "i'm", "I am" }, { "you're", "you are" },
	{ "isn't", "is not" }, { "doesn't", "does not" },
	{ "didn't", "did not" }, { "we're", "we are" },
	{ "they're", "they are" }, { "that's", "that is" },
	{ "i'll", "I will" }, { "i've", "I have" },
	{ "wouldn't", "would not" }, { "couldn't", "could not" },
	{ "shouldn't", "should not" }, { "aren't", "are not" },
	{ "wasn't", "was not" }, { "let's", "let us" },
	{ "we'll", "we will" }, { "you'll", "you will" },
	{ "there's", "there is" }, { "haven't", "have not" },
	{ "gonna", "going to" }, { "wanna", "want to" },
};

static const char *const sim_misspellings[][2] = {
	{ "teh", "the" }, { "recieve", "receive" },
	{ "definately", "definitely" }, { "seperate", "separate" },
	{ "occured", "occurred" }, { "untill", "until" }, { "wich", "which" },
	{ "thier", "their" }, { "beleive", "believe" }, { "adress", "address" },
	{ "tommorow", "tomorrow" }, { "accomodate", "accommodate" },
	{ "goverment", "government" }, { "begining", "beginning" },
	{ "occassion", "occasion" }, { "neccessary", "necessary" },
	{ "wierd", "weird" }, { "alot", "a lot" }, { "truely", "truly" },
	{ "freind", "friend" }, { "calender", "calendar" },
	{ "embarass", "embarrass" },
};

/* Whether s (any case) contains lower-case needle at word boundaries. */
static int
has_word_ci(const char *s, const char *needle)
{
	char	*l = sim_lower_dup(s);
	int	 r;

	r = sim_has_word(l, needle);
	free(l);
	return r;
}

static size_t
count_word(const char *hay, const char *needle)
{
	const char	*q = hay;
	size_t		 n = 0;

	while ((q = sim_find_word(q, needle)) != NULL) {
		n++;
		q += strlen(needle);
	}
	return n;
}

/*
 * Replaces whole words found in table (lower-case keys), keeping an
 * upper-case first letter.
 */
static char *
replace_words(const char *text, const char *const (*table)[2], size_t n)
{
	struct strbuf	 sb;
	size_t		 pos = 0, last = 0, st, len, i;
	char		*w;

	strbuf_init(&sb);
	while (textfeat_word_next(text, &pos, &st, &len)) {
		w = xstrndup(text + st, len);
		for (i = 0; i < len; i++)
			w[i] = (char)tolower((unsigned char)w[i]);
		for (i = 0; i < n; i++)
			if (strcmp(w, table[i][0]) == 0)
				break;
		free(w);
		if (i == n)
			continue;
		strbuf_add(&sb, text + last, st - last);
		if (isupper((unsigned char)text[st])) {
			strbuf_addc(&sb, (char)toupper((unsigned char)
			    table[i][1][0]));
			strbuf_adds(&sb, table[i][1] + 1);
		} else
			strbuf_adds(&sb, table[i][1]);
		last = st + len;
	}
	strbuf_adds(&sb, text + last);
	return strbuf_detach(&sb);
}

/* Drops filler words, with a comma after them and the spaces around. */
static char *
drop_fillers(const char *text)
{
	struct strbuf	 sb;
	const char	*p = text;
	size_t		 i, n;
	int		 cap = 0;

	strbuf_init(&sb);
	while (*p != '\0') {
		if (sim_is_alnum(*p) && (p == text || !sim_is_alnum(p[-1]))) {
			for (i = 0; i < nitems(sim_fillers); i++) {
				n = strlen(sim_fillers[i]);
				if (strncasecmp(p, sim_fillers[i], n) == 0 &&
				    !sim_is_alnum(p[n]) && p[n] != '\'')
					break;
			}
			if (i < nitems(sim_fillers)) {
				if (isupper((unsigned char)*p))
					cap = 1;
				p += n;
				if (*p == ',')
					p++;
				while (*p == ' ')
					p++;
				if (sb.len > 0 && sb.buf[sb.len - 1] == ' ' &&
				    strchr(",.!?;:", *p) != NULL && *p != '\0')
					sb.buf[--sb.len] = '\0';
				if (sb.len > 0 && sb.buf[sb.len - 1] != ' ' &&
				    sim_is_alnum(*p))
					strbuf_addc(&sb, ' ');
				continue;
			}
		}
		if (cap && isalpha((unsigned char)*p)) {
			strbuf_addc(&sb, (char)toupper((unsigned char)*p));
			cap = 0;
		} else {
			if (sim_is_alnum(*p))
				cap = 0;
			strbuf_addc(&sb, *p);
		}
		p++;
	}
	return strbuf_detach(&sb);
}

/* Adds "Please" and "Thank you." where they are missing. */
static char *
make_polite(const char *text)
{
	struct strbuf	 sb;
	size_t		 n, pos = 0, st, len;
	int		 keep;

	strbuf_init(&sb);
	while (isspace((unsigned char)*text))
		text++;
	if (!has_word_ci(text, "please")) {
		keep = textfeat_word_next(text, &pos, &st, &len) && st == 0 &&
		    text[0] == 'I' && (len == 1 || text[1] == '\'');
		strbuf_adds(&sb, "Please ");
		if (!keep && isupper((unsigned char)text[0]) &&
		    !isupper((unsigned char)text[1])) {
			strbuf_addc(&sb, (char)tolower((unsigned char)text[0]));
			text++;
		}
	}
	strbuf_adds(&sb, text);
	while (sb.len > 0 && isspace((unsigned char)sb.buf[sb.len - 1]))
		sb.buf[--sb.len] = '\0';
	if (strcasestr(sb.buf, "thank") == NULL) {
		n = sb.len;
		if (n > 0 && strchr(".!?", sb.buf[n - 1]) == NULL)
			strbuf_addc(&sb, '.');
		strbuf_adds(&sb, " Thank you.");
	}
	return strbuf_detach(&sb);
}

static size_t
count_table(const char *l, const char *const (*table)[2], size_t n)
{
	size_t	i, c = 0;

	for (i = 0; i < n; i++)
		c += count_word(l, table[i][0]);
	return c;
}

static size_t
count_fillers(const char *l)
{
	size_t	i, c = 0;

	for (i = 0; i < nitems(sim_fillers); i++)
		c += count_word(l, sim_fillers[i]);
	return c;
}

/* How far a count of flaws fell from the input's to the output's. */
static double
flaw_score(size_t in, size_t out)
{
	if (in == 0)
		return out == 0 ? 1 : 0.5;
	return 1 - fmin(1, (double)out / (double)in);
}

static int
is_table_key(const char *w, const char *const (*table)[2], size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(w, table[i][0]) == 0)
			return 1;
	return 0;
}

/* The share of the input's content words the output keeps. */
static double
preservation(const char *lin, const char *lout)
{
	size_t	 pos = 0, st, len, total = 0, kept = 0, i;
	char	*w;
	int	 skip;

	while (textfeat_word_next(lin, &pos, &st, &len)) {
		if (len < 3)
			continue;
		w = xstrndup(lin + st, len);
		skip = is_table_key(w, sim_contractions,
		    nitems(sim_contractions)) || is_table_key(w,
		    sim_misspellings, nitems(sim_misspellings));
		for (i = 0; i < nitems(sim_fillers) && !skip; i++)
			if (strcmp(w, sim_fillers[i]) == 0)
				skip = 1;
		if (!skip) {
			total++;
			if (sim_has_word(lout, w))
				kept++;
		}
		free(w);
	}
	return total == 0 ? 1 : (double)kept / (double)total;
}

double
sim_rewrite_quality(const char *input, const char *output, unsigned mask)
{
	char	*li = sim_lower_dup(input), *lo = sim_lower_dup(output);
	double	 sum = 0, s, q;
	size_t	 wi, wo, n = 0;

	if ((mask & SIM_TRAIT_ALL) == 0)
		mask = SIM_TRAIT_ALL;
	if (mask & SIM_TRAIT_CONCISE) {
		s = flaw_score(count_fillers(li), count_fillers(lo));
		wi = sim_count_words(li);
		wo = sim_count_words(lo);
		if (wo > wi + 8)
			s -= fmin(0.5, 0.02 * (double)(wo - wi - 8));
		sum += fmax(0, s);
		n++;
	}
	if (mask & SIM_TRAIT_POLITE) {
		sum += 0.5 * sim_has_word(lo, "please") +
		    0.5 * (strstr(lo, "thank") != NULL);
		n++;
	}
	if (mask & SIM_TRAIT_FORMAL) {
		sum += flaw_score(count_table(li, sim_contractions,
		    nitems(sim_contractions)), count_table(lo,
		    sim_contractions, nitems(sim_contractions)));
		n++;
	}
	if (mask & SIM_TRAIT_SPELLING) {
		sum += flaw_score(count_table(li, sim_misspellings,
		    nitems(sim_misspellings)), count_table(lo,
		    sim_misspellings, nitems(sim_misspellings)));
		n++;
	}
	q = sum / (double)n * (0.3 + 0.7 * preservation(li, lo));
	free(li);
	free(lo);
	return q;
}

double
sim_rewrite_kept(const char *input, const char *output)
{
	char	*li = sim_lower_dup(input), *lo = sim_lower_dup(output);
	double	 k;

	k = preservation(li, lo);
	free(li);
	free(lo);
	return k;
}

unsigned
sim_rewrite_shown(const char *input, const char *output)
{
	char		*li = sim_lower_dup(input), *lo = sim_lower_dup(output);
	unsigned	 mask = 0;

	if (count_fillers(lo) < count_fillers(li))
		mask |= SIM_TRAIT_CONCISE;
	if (sim_has_word(lo, "please") && strstr(lo, "thank") != NULL &&
	    !(sim_has_word(li, "please") && strstr(li, "thank") != NULL))
		mask |= SIM_TRAIT_POLITE;
	if (count_table(lo, sim_contractions, nitems(sim_contractions)) <
	    count_table(li, sim_contractions, nitems(sim_contractions)))
		mask |= SIM_TRAIT_FORMAL;
	if (count_table(lo, sim_misspellings, nitems(sim_misspellings)) <
	    count_table(li, sim_misspellings, nitems(sim_misspellings)))
		mask |= SIM_TRAIT_SPELLING;
	free(li);
	free(lo);
	return mask;
}

/* Applies the traits in mask to text. */
char *
sim_rewrite_apply(const char *text, unsigned mask)
{
	char	*cur = xstrdup(text), *next;

	if (mask & SIM_TRAIT_SPELLING) {
		next = replace_words(cur, sim_misspellings,
		    nitems(sim_misspellings));
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_FORMAL) {
		next = replace_words(cur, sim_contractions,
		    nitems(sim_contractions));
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_CONCISE) {
		next = drop_fillers(cur);
		free(cur);
		cur = next;
	}
	if (mask & SIM_TRAIT_POLITE) {
		next = make_polite(cur);
		free(cur);
		cur = next;
	}
	return cur;
}
