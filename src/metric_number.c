/*
 * The number metric: the last number in the output against the expected
 * number, within an absolute or relative tolerance.
 */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "metric.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

struct number_opts {
	double	abs_tol;
	double	rel_tol;
};

/* "tolerance" is another name for "abs_tol". */
static const char *const number_keys[] = {
	"abs_tol", "rel_tol", "tolerance", NULL
};

static int
number_init(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	struct number_opts	*no;
	char			*p;
	int			 bad = 0;

	m->data = no = xcalloc(1, sizeof *no);
	no->abs_tol = 1e-9;
	no->rel_tol = 0;
	if (jv_number(doc, conf, path, "abs_tol", 0, 0, DBL_MAX,
	    &no->abs_tol) == -1)
		bad = 1;
	if (jv_number(doc, conf, path, "rel_tol", 0, 0, DBL_MAX,
	    &no->rel_tol) == -1)
		bad = 1;
	if (cJSON_IsObject(conf) &&
	    cJSON_GetObjectItemCaseSensitive(conf, "tolerance") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(conf, "abs_tol") != NULL) {
		p = jv_path(path, "tolerance");
		jv_error(doc, cJSON_GetObjectItemCaseSensitive(conf,
		    "tolerance"), p, "give either abs_tol or tolerance, "
		    "not both");
		free(p);
		bad = 1;
	} else if (jv_number(doc, conf, path, "tolerance", 0, 0, DBL_MAX,
	    &no->abs_tol) == -1)
		bad = 1;
	return bad ? -1 : 0;
}

static int
number_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Is s[i] a minus sign (ASCII or U+2212) or plus?  Sets *len. */
static int
number_sign(const char *s, size_t i, int *neg, size_t *len)
{
	if (s[i] == '-' || s[i] == '+') {
		*neg = s[i] == '-';
		*len = 1;
		return 1;
	}
	if ((unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x88 &&
	    (unsigned char)s[i + 2] == 0x92) {
		*neg = 1;
		*len = 3;
		return 1;
	}
	return 0;
}

/*
 * Reads the number that starts at s[*i], if one does, into *value and
 * moves *i past it.  A number is an optional sign (not right after a
 * letter or digit, so "5-3" is 5 and 3), an optional "$", digits with
 * optional thousands separators ("1,234"), an optional fraction and
 * exponent, and an optional "%" (ignored: 50% reads as 50).
 */
static int
number_read(const char *s, size_t *i, double *value)
{
	struct strbuf	 sb;
	size_t		 j = *i, n, len;
	int		 neg = 0, sign = 0;

	if (number_sign(s, j, &neg, &len)) {
		if (j > 0 && (isalnum((unsigned char)s[j - 1]) ||
		    s[j - 1] == '.'))
			return 0;
		j += len;
		sign = 1;
	}
	if (s[j] == '$') {
		j++;
		/* "$-12" as well as "-$12". */
		if (!sign && number_sign(s, j, &neg, &len))
			j += len;
	}
	if (!number_digit(s[j]) && !(s[j] == '.' && number_digit(s[j + 1]) &&
	    (j == 0 || !number_digit(s[j - 1]))))
		return 0;

	strbuf_init(&sb);
	if (neg)
		strbuf_addc(&sb, '-');
	for (n = 0; number_digit(s[j]); n++)
		strbuf_addc(&sb, s[j++]);
	/* Thousands: groups of exactly three digits after 1 to 3. */
	if (n >= 1 && n <= 3) {
		while (s[j] == ',' && number_digit(s[j + 1]) &&
		    number_digit(s[j + 2]) && number_digit(s[j + 3]) &&
		    !number_digit(s[j + 4])) {
			strbuf_add(&sb, s + j + 1, 3);
			j += 4;
		}
	}
	if (s[j] == '.' && number_digit(s[j + 1])) {
		strbuf_addc(&sb, s[j++]);
		while (number_digit(s[j]))
			strbuf_addc(&sb, s[j++]);
	}
	if ((s[j] == 'e' || s[j] == 'E') && (number_digit(s[j + 1]) ||
	    ((s[j + 1] == '-' || s[j + 1] == '+') && number_digit(s[j + 2])))) {
		strbuf_addc(&sb, s[j++]);
		if (!number_digit(s[j]))
			strbuf_addc(&sb, s[j++]);
		while (number_digit(s[j]))
			strbuf_addc(&sb, s[j++]);
	}
	if (s[j] == '%')
		j++;
	*value = strtod(sb.buf, NULL);
	strbuf_release(&sb);
	*i = j;
	return 1;
}

/* Finds the last number in s.  Returns 0 when there is none. */
static int
number_last(const char *s, double *value)
{
	size_t	i = 0;
	int	found = 0;
	double	v;

	while (s[i] != '\0') {
		if (number_read(s, &i, &v)) {
			*value = v;
			found = 1;
		} else
			i++;
	}
	return found;
}

static double
number_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	const struct number_opts	*no = m->data;
	double				 want, got, tol;
	char				*q;

	if (expected == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("the example has no expected "
			    "value");
		return 0;
	}
	if (cJSON_IsNumber(expected))
		want = expected->valuedouble;
	else if (!cJSON_IsString(expected) ||
	    !number_last(expected->valuestring, &want)) {
		if (feedback != NULL) {
			q = json_text(expected);
			*feedback = xasprintf("the expected value '%s' is "
			    "not a number", q);
			free(q);
		}
		return 0;
	}
	if (!number_last(output, &got)) {
		if (feedback != NULL) {
			q = metric_quote(output);
			*feedback = xasprintf("expected %.15g, but the output "
			    "has no number: '%s'", want, q);
			free(q);
		}
		return 0;
	}
	tol = no->rel_tol * fabs(want);
	if (tol < no->abs_tol)
		tol = no->abs_tol;
	if (fabs(got - want) <= tol)
		return 1;
	if (feedback != NULL)
		*feedback = xasprintf("expected %.15g, got %.15g", want, got);
	return 0;
}

static void
number_free(struct metric *m)
{
	free(m->data);
	m->data = NULL;
}

const struct metric_ops metric_number_ops = {
	.name = "number",
	.keys = number_keys,
	.init = number_init,
	.score = number_score,
	.free = number_free
};
