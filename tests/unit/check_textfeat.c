/*
 * Hashed text features: words, unit vectors, determinism, and the same
 * vectors as the simulated world's embedder (what the duel strategy
 * relies on without an embedder role).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"

#include "sim.h"
#include "textfeat.h"
#include "xmalloc.h"

START_TEST(test_words)
{
	const char	*s = "  Don't stop-now, 42x!  ";
	const char	*want[] = { "Don't", "stop", "now", "42x" };
	size_t		 pos = 0, st, len, n = 0;

	while (textfeat_word_next(s, &pos, &st, &len)) {
		ck_assert_uint_lt(n, nitems(want));
		ck_assert_uint_eq(len, strlen(want[n]));
		ck_assert(memcmp(s + st, want[n], len) == 0);
		n++;
	}
	ck_assert_uint_eq(n, nitems(want));
	ck_assert_uint_eq(pos, strlen(s));
	pos = 0;
	ck_assert_int_eq(textfeat_word_next("' -- '", &pos, &st, &len), 0);
}
END_TEST

static double
dot(const float *a, const float *b, size_t dim)
{
	double	d = 0;
	size_t	i;

	for (i = 0; i < dim; i++)
		d += (double)a[i] * b[i];
	return d;
}

START_TEST(test_embed)
{
	const char	*texts[] = { "Classify the review carefully.",
	    "CLASSIFY the   review carefully.", "Compute the revenue.", "",
	    " \t\n" };
	float		 v[5][64];
	size_t		 i;

	for (i = 0; i < nitems(texts); i++) {
		textfeat_embed(texts[i], TEXTFEAT_SEED, 64, v[i]);
		ck_assert(fabs(dot(v[i], v[i], 64) - 1) < 1e-5);
	}
	/* Read as lower-case, spaces collapsed. */
	ck_assert(memcmp(v[0], v[1], sizeof v[0]) == 0);
	ck_assert(dot(v[0], v[2], 64) < 0.9);
	/* Texts without features get the same fixed unit vector. */
	ck_assert(memcmp(v[3], v[4], sizeof v[3]) == 0);
	textfeat_embed(texts[0], TEXTFEAT_SEED + 1, 64, v[2]);
	ck_assert(memcmp(v[0], v[2], sizeof v[0]) != 0);
}
END_TEST

START_TEST(test_sim_world)
{
	struct sim_params	 p;
	struct sim_world	*w;
	float			*a, *b;

	sim_params_default(&p);
	p.dim = 100;
	w = sim_world_new(&p);
	a = xcalloc(p.dim, sizeof *a);
	b = xcalloc(p.dim, sizeof *b);
	sim_world_embed(w, "Answer with only the label.", a);
	textfeat_embed("Answer with only the label.", TEXTFEAT_SEED, p.dim,
	    b);
	ck_assert(memcmp(a, b, p.dim * sizeof *a) == 0);
	free(a);
	free(b);
	sim_world_free(w);
}
END_TEST

static Suite *
textfeat_suite(void)
{
	Suite	*s = suite_create("textfeat");
	TCase	*tc = tcase_create("textfeat");

	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_embed);
	tcase_add_test(tc, test_sim_world);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(textfeat_suite)
