/*
 * The surrogate filter's score predictor (src/surrogate.c): it fits a
 * known linear relation, ranks by it (ties by id), chooses less
 * regularization when the data are exact and more when they are noise,
 * and refuses what it cannot fit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"

#include "rng.h"
#include "surrogate.h"
#include "textfeat.h"
#include "xmalloc.h"

#define DIM	6

/* The relation fitted: y = 0.4 + w . x. */
static const double	w_true[DIM] = { 0.3, -0.2, 0.1, 0, 0.25, -0.05 };

static double
truth(const float *x)
{
	double	y = 0.4;
	size_t	d;

	for (d = 0; d < DIM; d++)
		y += w_true[d] * x[d];
	return y;
}

/* n random rows in [-1, 1)^DIM with their true scores. */
static void
draw(struct rng *r, size_t n, float *x, double *y)
{
	size_t	i, d;

	for (i = 0; i < n; i++) {
		for (d = 0; d < DIM; d++)
			x[i * DIM + d] = (float)(2 * rng_uniform(r) - 1);
		y[i] = truth(x + i * DIM);
	}
}

START_TEST(test_linear)
{
	struct surrogate	*m;
	struct rng		 r;
	float			 x[40 * DIM], q[20 * DIM];
	double			 y[40], yq[20], pred[20];
	int64_t			 ids[20];
	size_t			 order[20], i;

	rng_seed(&r, 7, 0);
	draw(&r, 40, x, y);
	m = surrogate_fit(x, y, 40, DIM);
	ck_assert_ptr_nonnull(m);
	/* Exact data: the least regularization, a small error. */
	ck_assert(surrogate_loo(m) < 0.01);
	draw(&r, 20, q, yq);
	for (i = 0; i < 20; i++) {
		pred[i] = surrogate_predict(m, q + i * DIM);
		ck_assert_msg(fabs(pred[i] - yq[i]) < 0.02, "row %zu: %g, "
		    "want %g", i, pred[i], yq[i]);
		ids[i] = (int64_t)i + 1;
	}
	/* The ranking is the truth's, but for rows within the error. */
	surrogate_rank(pred, ids, 20, order);
	for (i = 1; i < 20; i++)
		ck_assert(yq[order[i - 1]] > yq[order[i]] - 0.04);
	ck_assert(yq[order[0]] > yq[order[19]] + 0.5);
	surrogate_free(m);
}
END_TEST

/*
 * Scores that are noise: the fit shrinks towards their mean (the
 * largest lambda wins), so no proposal is predicted far from it.
 */
START_TEST(test_noise)
{
	struct surrogate	*m;
	struct rng		 r;
	float			 x[30 * DIM];
	double			 y[30], mean = 0, p;
	size_t			 i;

	rng_seed(&r, 8, 0);
	draw(&r, 30, x, y);
	rng_seed(&r, 9, 0);
	for (i = 0; i < 30; i++) {
		y[i] = rng_uniform(&r);
		mean += y[i] / 30;
	}
	m = surrogate_fit(x, y, 30, DIM);
	ck_assert_ptr_nonnull(m);
	ck_assert(surrogate_lambda(m) > 1);
	for (i = 0; i < 30; i++) {
		p = surrogate_predict(m, x + i * DIM);
		ck_assert(fabs(p - mean) < 0.2);
	}
	surrogate_free(m);
}
END_TEST

/*
 * Prompts as the filter sees them, by hashed text features: with scores
 * that a helpful phrase raises, a new prompt with it is ranked above one
 * without.
 */
START_TEST(test_text)
{
	static const char *const train[] = {
		"Answer the question.",
		"Answer the question step by step.",
		"Give the answer.",
		"Give the answer step by step.",
		"Reply with the number.",
		"Reply with the number, working step by step.",
		"Solve the problem.",
		"Solve the problem step by step.",
	};
	struct surrogate	*m;
	float			 x[8 * 64], q[2 * 64];
	double			 y[8], pred[2];
	int64_t			 ids[2] = { 10, 11 };
	size_t			 order[2], i;

	for (i = 0; i < 8; i++) {
		textfeat_embed(train[i], TEXTFEAT_SEED, 64, x + i * 64);
		y[i] = strstr(train[i], "step by step") != NULL ? 0.9 : 0.5;
	}
	m = surrogate_fit(x, y, 8, 64);
	ck_assert_ptr_nonnull(m);
	textfeat_embed("Work out the result.", TEXTFEAT_SEED, 64, q);
	textfeat_embed("Work out the result step by step.", TEXTFEAT_SEED, 64,
	    q + 64);
	pred[0] = surrogate_predict(m, q);
	pred[1] = surrogate_predict(m, q + 64);
	surrogate_rank(pred, ids, 2, order);
	ck_assert_uint_eq(order[0], 1);
	ck_assert(pred[1] > pred[0] + 0.1);
	surrogate_free(m);
}
END_TEST

/* Equal predictions go by id, NAN last; the edges of the fit. */
START_TEST(test_edges)
{
	struct surrogate	*m;
	double			 pred[4] = { 0.5, NAN, 0.5, 0.7 }, y[2];
	int64_t			 ids[4] = { 9, 1, 3, 5 };
	float			 x[2 * DIM];
	size_t			 order[4];

	surrogate_rank(pred, ids, 4, order);
	ck_assert_uint_eq(order[0], 3);
	ck_assert_uint_eq(order[1], 2);
	ck_assert_uint_eq(order[2], 0);
	ck_assert_uint_eq(order[3], 1);

	memset(x, 0, sizeof x);
	y[0] = 0.2;
	y[1] = 0.6;
	ck_assert_ptr_null(surrogate_fit(x, y, 0, DIM));
	/* Rows that are all the same: their mean. */
	m = surrogate_fit(x, y, 2, DIM);
	ck_assert_ptr_nonnull(m);
	ck_assert_double_eq_tol(surrogate_predict(m, x), 0.4, 1e-12);
	surrogate_free(m);
	/* One row: its score. */
	m = surrogate_fit(x, y, 1, DIM);
	ck_assert_ptr_nonnull(m);
	ck_assert_double_eq_tol(surrogate_predict(m, x), 0.2, 1e-12);
	surrogate_free(m);
	/* Not finite: refused. */
	y[1] = NAN;
	ck_assert_ptr_null(surrogate_fit(x, y, 2, DIM));
	y[1] = 0.6;
	x[3] = INFINITY;
	ck_assert_ptr_null(surrogate_fit(x, y, 2, DIM));
	surrogate_free(NULL);
}
END_TEST

/* The same rows give the same model, prediction for prediction. */
START_TEST(test_deterministic)
{
	struct surrogate	*a, *b;
	struct rng		 r;
	float			 x[25 * DIM];
	double			 y[25];
	size_t			 i;

	rng_seed(&r, 11, 0);
	draw(&r, 25, x, y);
	for (i = 0; i < 25; i++)
		y[i] += 0.05 * rng_normal(&r);
	a = surrogate_fit(x, y, 25, DIM);
	b = surrogate_fit(x, y, 25, DIM);
	ck_assert(surrogate_lambda(a) == surrogate_lambda(b));
	for (i = 0; i < 25; i++)
		ck_assert(surrogate_predict(a, x + i * DIM) ==
		    surrogate_predict(b, x + i * DIM));
	surrogate_free(a);
	surrogate_free(b);
}
END_TEST

static Suite *
surrogate_suite(void)
{
	Suite	*s = suite_create("surrogate");
	TCase	*tc = tcase_create("surrogate");

	tcase_add_test(tc, test_linear);
	tcase_add_test(tc, test_noise);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_deterministic);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(surrogate_suite)
