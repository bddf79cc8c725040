/*
 * Tests for the learned metric: on a synthetic world where people like
 * polite responses, it learns to rank responses as they would; implicit
 * signals weigh what they agree with ratings; too little feedback is
 * refused with a reason; the same rows and seed give the same model.
 */
#include <math.h>
#include <string.h>

#include "check_common.h"

#include "feedback.h"
#include "jsonc.h"
#include "metric.h"
#include "rng.h"
#include "store.h"
#include "strbuf.h"

static const char *const polite[] = {
	"please", "thanks", "kindly", "gladly", "welcome", "appreciate",
	"certainly", "happy"
};
static const char *const neutral[] = {
	"the", "order", "ships", "on", "monday", "your", "account", "has",
	"been", "updated", "we", "checked", "invoice", "number", "refund",
	"issued", "to", "card", "within", "days", "item", "is", "back",
	"in", "stock", "tracking", "code", "sent", "by", "email", "size",
	"color", "blue", "store", "hours", "are", "nine", "five", "return",
	"label"
};

/* The world's rows: what the metric is prepared with. */
struct world {
	struct interaction_row	*rows;
	size_t			 n;
	size_t			 cap;
};

/*
 * A response with k of the polite words (its hidden quality is k / 4)
 * among 8 to 15 neutral ones, in a random order.  Allocated.
 */
static char *
world_response(struct rng *r, int k)
{
	const char	*w[24];
	struct strbuf	 sb;
	size_t		 n, i, j;
	const char	*tmp;

	n = 8 + rng_below(r, 8);
	for (i = 0; i < n; i++)
		w[i] = neutral[rng_below(r, nitems(neutral))];
	for (i = 0; i < (size_t)k; i++)
		w[n++] = polite[rng_below(r, nitems(polite))];
	for (i = n; i > 1; i--) {
		j = rng_below(r, (uint32_t)i);
		tmp = w[i - 1];
		w[i - 1] = w[j];
		w[j] = tmp;
	}
	strbuf_init(&sb);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i == 0 ? "" : " ", w[i]);
	return strbuf_detach(&sb);
}

/* Whether a person likes a response of quality k: noisy, but mostly. */
static int
world_likes(struct rng *r, int k)
{
	double	p = 1 / (1 + exp(-3.0 * (k - 2)));

	return rng_uniform(r) < p;
}

/* A new interaction (signals not given) with its response, added. */
static struct interaction *
world_add(struct world *w, char *response)
{
	struct interaction	*it;

	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->rows = xreallocarray(w->rows, w->cap, sizeof *w->rows);
	}
	it = xcalloc(1, sizeof *it);
	it->response = response;
	it->regenerated = it->abandoned = it->copied = -1;
	memset(&w->rows[w->n], 0, sizeof w->rows[w->n]);
	w->rows[w->n].id = (int64_t)w->n + 1;
	w->rows[w->n].it = it;
	w->n++;
	return it;
}

static void
world_free(struct world *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++) {
		feedback_release(w->rows[i].it);
		free(w->rows[i].it);
	}
	free(w->rows);
	memset(w, 0, sizeof *w);
}

/*
 * A world of nrated rated interactions (thumbs and stars alternately)
 * and npref preferences, drawn with seed.
 */
static void
world_make(struct world *w, uint64_t seed, size_t nrated, size_t npref)
{
	struct interaction	*it;
	struct rng		 r;
	size_t			 i;
	int			 k, ko, stars;

	memset(w, 0, sizeof *w);
	rng_seed(&r, seed, 1);
	for (i = 0; i < nrated; i++) {
		k = (int)rng_below(&r, 5);
		it = world_add(w, world_response(&r, k));
		if (i % 2 == 0) {
			it->scale = RATING_THUMBS;
			it->rating = world_likes(&r, k);
		} else {
			stars = 1 + k + (int)lround(rng_normal(&r) * 0.8);
			it->scale = RATING_STARS;
			it->rating = stars < 1 ? 1 : stars > 5 ? 5 : stars;
		}
	}
	for (i = 0; i < npref; i++) {
		k = (int)rng_below(&r, 5);
		ko = (int)rng_below(&r, 5);
		it = world_add(w, world_response(&r, k));
		it->other = world_response(&r, ko);
		it->preferred = k == ko ? PREFERRED_TIE :
		    (k > ko) == (rng_uniform(&r) < 0.85) ? PREFERRED_THIS :
		    PREFERRED_OTHER;
	}
}

static struct metric *
learned_new(const char *conf)
{
	struct jdoc	*doc;
	struct metric	*m;
	char		*text, *cause = NULL, *errs;

	text = xasprintf("{\"metric\": %s}", conf);
	doc = jsonc_parse("job.json", text, strlen(text), &cause);
	ck_assert_msg(doc != NULL, "parse: %s", cause);
	free(text);
	m = metric_new(doc, cJSON_GetObjectItem(doc->root, "metric"),
	    "task.metric");
	errs = jv_errors(doc);
	ck_assert_msg(m != NULL, "%s: %s", conf, errs != NULL ? errs : "");
	free(errs);
	jsonc_free(doc);
	return m;
}

/* Prepares m on w, which must succeed; returns the report. */
static char *
learned_prepare_ok(struct metric *m, const struct world *w, uint64_t seed)
{
	char	*report = NULL, *cause = NULL;

	ck_assert_msg(metric_prepare(m, w->rows, w->n, seed, &report,
	    &cause) == 0, "prepare: %s", cause);
	ck_assert_ptr_nonnull(report);
	return report;
}

/* The number after key in a report ("copied weight 0.80"), or NAN. */
static double
report_number(const char *report, const char *key)
{
	const char	*p;

	if ((p = strstr(report, key)) == NULL)
		return NAN;
	return strtod(p + strlen(key), NULL);
}

START_TEST(test_type)
{
	struct metric	*m = learned_new("\"learned\"");

	ck_assert(!metric_needs_target(m));
	ck_assert(metric_needs_feedback(m));
	ck_assert(!metric_needs_judge(m));
	metric_free(m);
	m = learned_new("\"exact\"");
	ck_assert(metric_needs_target(m));
	ck_assert(!metric_needs_feedback(m));
	metric_free(m);
}
END_TEST

START_TEST(test_options)
{
	struct jdoc	*doc;
	char		*cause = NULL, *errs;
	const char	*text = "{\"metric\": {\"type\": \"learned\", "
	    "\"holdout\": 1.5, \"min_interactions\": 0, \"signals\": 2}}";

	doc = jsonc_parse("job.json", text, strlen(text), &cause);
	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_null(metric_new(doc, cJSON_GetObjectItem(doc->root,
	    "metric"), "task.metric"));
	errs = jv_errors(doc);
	ck_assert_ptr_nonnull(strstr(errs, "task.metric.holdout"));
	ck_assert_ptr_nonnull(strstr(errs, "task.metric.min_interactions"));
	ck_assert_ptr_nonnull(strstr(errs, "task.metric.signals"));
	free(errs);
	jsonc_free(doc);
}
END_TEST

/*
 * Over 10 seeds, the model orders fresh pairs of responses of different
 * quality as people would, well above chance, and so it does on the
 * held-out pairs it reports.
 */
START_TEST(test_ranks_pairs)
{
	struct world	 w;
	struct metric	*m;
	struct rng	 r;
	char		*report, *a, *b;
	double		 agree = 0, held = 0, sa, sb;
	size_t		 pairs = 0, i;
	uint64_t	 seed;
	int		 ka, kb;

	for (seed = 1; seed <= 10; seed++) {
		world_make(&w, seed, 160, 40);
		m = learned_new("{\"type\": \"learned\"}");
		report = learned_prepare_ok(m, &w, seed);
		held += report_number(report, "held-out pairs: ");
		ck_assert_msg(strstr(report, "160 ratings, 40 preferences") !=
		    NULL, "%s", report);
		rng_seed(&r, seed, 2);
		for (i = 0; i < 100; i++) {
			ka = (int)rng_below(&r, 5);
			kb = (int)rng_below(&r, 5);
			if (ka == kb)
				continue;
			a = world_response(&r, ka);
			b = world_response(&r, kb);
			sa = metric_score(m, a, NULL, NULL);
			sb = metric_score(m, b, NULL, NULL);
			ck_assert(sa > 0 && sa < 1);
			agree += sa == sb ? 0.5 : (sa > sb) == (ka > kb);
			pairs++;
			free(a);
			free(b);
		}
		free(report);
		metric_free(m);
		world_free(&w);
	}
	ck_assert_msg(agree / (double)pairs > 0.7, "fresh pairs: %.3f",
	    agree / (double)pairs);
	ck_assert_msg(held / 10 > 0.7, "held-out pairs: %.3f", held / 10);
}
END_TEST

/*
 * A signal that agrees with the ratings 90% of the time weighs about 0.8,
 * a random one about nothing, one seen with a rating too rarely nothing.
 */
START_TEST(test_reliability)
{
	struct interaction	*it;
	struct world		 w;
	struct metric		*m;
	struct rng		 r;
	char			*report;
	double			 copied, regenerated, abandoned;
	size_t			 i;

	memset(&w, 0, sizeof w);
	rng_seed(&r, 7, 1);
	for (i = 0; i < 200; i++) {
		it = world_add(&w, world_response(&r, (int)rng_below(&r, 5)));
		it->scale = RATING_THUMBS;
		it->rating = rng_uniform(&r) < 0.5;
		/* Copied: 90% of the copied ones are rated up. */
		if (i < 100) {
			it->copied = 1;
			it->rating = rng_uniform(&r) < 0.9;
		} else
			it->regenerated = 1;	/* whatever the rating */
		if (i < 5)
			it->abandoned = 1;
	}
	m = learned_new("\"learned\"");
	report = learned_prepare_ok(m, &w, 1);
	copied = report_number(report, "copied weight ");
	regenerated = report_number(report, "regenerated weight ");
	abandoned = report_number(report, "abandoned weight ");
	ck_assert_msg(copied > 0.65 && copied < 0.95, "%s", report);
	ck_assert_msg(regenerated < 0.2, "%s", report);
	ck_assert_msg(abandoned == 0, "%s", report);
	free(report);
	metric_free(m);

	/* Without signals, none is weighed. */
	m = learned_new("{\"type\": \"learned\", \"signals\": false}");
	report = learned_prepare_ok(m, &w, 1);
	ck_assert_ptr_nonnull(strstr(report, "implicit signals not used"));
	free(report);
	metric_free(m);
	world_free(&w);
}
END_TEST

/* Signals without ratings train the model as much as they are trusted. */
START_TEST(test_signals_count)
{
	struct interaction	*it;
	struct world		 w;
	struct metric		*m;
	char			*report;
	size_t			 i;

	world_make(&w, 3, 40, 0);
	for (i = 0; i < 7; i++) {
		it = world_add(&w, xstrdup("thanks, gladly"));
		it->copied = 1;
	}
	m = learned_new("{\"type\": \"learned\", \"holdout\": 0}");
	report = learned_prepare_ok(m, &w, 3);
	ck_assert_msg(strstr(report, "40 ratings, 0 preferences, 7 implicit "
	    "signals (regenerated weight 0.00, abandoned weight 0.00, copied "
	    "weight 0.00)") != NULL, "%s", report);
	ck_assert_ptr_null(strstr(report, "agreement"));
	free(report);
	metric_free(m);
	world_free(&w);
}
END_TEST

START_TEST(test_too_few)
{
	struct interaction	*it;
	struct world		 w;
	struct metric		*m;
	char			*report = NULL, *cause = NULL, *fb = NULL;

	world_make(&w, 1, 7, 0);
	/* Implicit signals alone are not enough. */
	it = world_add(&w, xstrdup("thanks"));
	it->copied = 1;
	m = learned_new("\"learned\"");
	ck_assert_int_eq(metric_prepare(m, w.rows, w.n, 1, &report, &cause),
	    -1);
	ck_assert_ptr_null(report);
	ck_assert_msg(strncmp(cause, "learned metric: 7 rated interactions, "
	    "need 20", 44) == 0, "%s", cause);
	/* Untrained, it scores nothing, and says why. */
	ck_assert(metric_score(m, "thanks", NULL, &fb) == 0);
	ck_assert_ptr_nonnull(strstr(fb, "not been trained"));
	free(fb);
	free(cause);
	metric_free(m);

	m = learned_new("{\"type\": \"learned\", \"min_interactions\": 7}");
	report = learned_prepare_ok(m, &w, 1);
	free(report);
	metric_free(m);
	world_free(&w);
}
END_TEST

/* The same rows and seed give the same report and the same scores. */
START_TEST(test_deterministic)
{
	struct world	 w;
	struct metric	*m1, *m2;
	char		*r1, *r2;
	const char	*text = "your order ships monday, thanks kindly";

	world_make(&w, 5, 60, 10);
	m1 = learned_new("\"learned\"");
	m2 = learned_new("\"learned\"");
	r1 = learned_prepare_ok(m1, &w, 42);
	r2 = learned_prepare_ok(m2, &w, 42);
	ck_assert_str_eq(r1, r2);
	ck_assert(metric_score(m1, text, NULL, NULL) ==
	    metric_score(m2, text, NULL, NULL));
	free(r1);
	free(r2);
	metric_free(m1);
	metric_free(m2);
	world_free(&w);
}
END_TEST

static Suite *
metric_learned_suite(void)
{
	Suite	*s = suite_create("metric_learned");
	TCase	*tc;

	tc = tcase_create("learned");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_type);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_ranks_pairs);
	tcase_add_test(tc, test_reliability);
	tcase_add_test(tc, test_signals_count);
	tcase_add_test(tc, test_too_few);
	tcase_add_test(tc, test_deterministic);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(metric_learned_suite)
