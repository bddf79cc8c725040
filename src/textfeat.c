/*
 * Hashed text features.  Each word, pair of neighbouring words and
 * character trigram adds a signed weight to one coordinate picked by its
 * hash, and the vector is scaled to unit length.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "textfeat.h"
#include "util.h"
#include "xmalloc.h"

/* Keeps the features' hash stream apart from others of the same seed. */
#define TEXTFEAT_SEED_EMBED	0x656d626564ULL

static int
is_alnum(int c)
{
	return isalnum((unsigned char)c);
}

int
textfeat_word_next(const char *s, size_t *pos, size_t *start, size_t *len)
{
	size_t	i = *pos;

	while (s[i] != '\0' && !is_alnum(s[i]))
		i++;
	if (s[i] == '\0') {
		*pos = i;
		return 0;
	}
	*start = i;
	while (is_alnum(s[i]) || (s[i] == '\'' && is_alnum(s[i + 1])))
		i++;
	*len = i - *start;
	*pos = i;
	return 1;
}

static void
embed_add(float *v, size_t dim, const void *s, size_t n, uint64_t seed,
    float weight)
{
	uint64_t	h = hash64(s, n, seed);

	v[h % dim] += (h >> 63) ? -weight : weight;
}

/* Word unigrams and bigrams of l (lower-case). */
static void
embed_words(const char *l, uint64_t seed, size_t dim, float *out)
{
	size_t	 pos = 0, st, len, pst = 0, plen = 0;
	int	 prev = 0;
	char	*bi;

	while (textfeat_word_next(l, &pos, &st, &len)) {
		embed_add(out, dim, l + st, len, seed, 1.0f);
		if (prev) {
			bi = xasprintf("%.*s %.*s", (int)plen, l + pst,
			    (int)len, l + st);
			embed_add(out, dim, bi, strlen(bi), seed + 1, 0.7f);
			free(bi);
		}
		prev = 1;
		pst = st;
		plen = len;
	}
}

/* Character trigrams of l with its runs of white space collapsed. */
static void
embed_trigrams(const char *l, uint64_t seed, size_t dim, float *out)
{
	char	*c;
	size_t	 i, n;

	c = xmalloc(strlen(l) + 1);
	for (i = 0, n = 0; l[i] != '\0'; i++) {
		if (isspace((unsigned char)l[i])) {
			if (n > 0 && c[n - 1] != ' ')
				c[n++] = ' ';
		} else
			c[n++] = l[i];
	}
	for (i = 0; i + 3 <= n; i++)
		embed_add(out, dim, c + i, 3, seed + 2, 0.5f);
	free(c);
}

void
textfeat_embed(const char *text, uint64_t seed, size_t dim, float *out)
{
	char	*l, *p;
	double	 norm = 0;
	size_t	 i;

	l = xstrdup(text);
	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	seed = hash_mix(seed, TEXTFEAT_SEED_EMBED);
	memset(out, 0, dim * sizeof *out);
	embed_words(l, seed, dim, out);
	embed_trigrams(l, seed, dim, out);
	for (i = 0; i < dim; i++)
		norm += (double)out[i] * out[i];
	if (norm == 0) {
		out[hash64("", 0, seed) % dim] = 1;
		norm = 1;
	}
	norm = sqrt(norm);
	for (i = 0; i < dim; i++)
		out[i] = (float)(out[i] / norm);
	free(l);
}
