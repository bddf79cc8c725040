/*
 * Tests for the dueling-bandit networks (src/nn.c) and selection rules
 * (src/duel.c): gradients against finite differences, Adam against a
 * worked example, fitting in place and on a worker thread, the selection
 * rule on a hand-made pool (diagonal and full matrix), and the methods on
 * small synthetic worlds.
 */
#include <math.h>
#include <poll.h>
#include <string.h>

#include "check_common.h"
#include "bandit.h"
#include "hash.h"
#include "nn.h"
#include "rng.h"
#include "util.h"
#include "xmalloc.h"

static float *
random_vectors(size_t n, size_t dim, uint64_t seed)
{
	struct rng	 rng;
	float		*x;
	size_t		 i;

	rng_seed(&rng, seed, 1);
	x = xcalloc(n * dim, sizeof *x);
	for (i = 0; i < n * dim; i++)
		x[i] = (float)rng_normal(&rng);
	for (i = 0; i < n; i++)
		bandit_normalize(x + i * dim, dim);
	return x;
}

/* Central differences of f in every parameter against nn_grad. */
static void
check_grad(size_t in, size_t hidden)
{
	struct nn	*net;
	float		*x, *g, keep;
	double		 fp, fm, fd, h = 1e-2, f;
	size_t		 i, bad = 0;

	net = nn_new(in, hidden, 3, NULL);
	ck_assert_ptr_nonnull(net);
	x = random_vectors(1, in, 9);
	g = xcalloc(net->nparams, sizeof *g);
	f = nn_grad(net, x, g);
	ck_assert(fabs(f - nn_forward(net, x)) < 1e-4 * (1 + fabs(f)));
	for (i = 0; i < net->nparams; i++) {
		keep = net->p[i];
		net->p[i] = (float)(keep + h);
		fp = nn_forward(net, x);
		net->p[i] = (float)(keep - h);
		fm = nn_forward(net, x);
		net->p[i] = keep;
		fd = (fp - fm) / (2 * h);
		/* A ReLU kink between the two points may differ. */
		if (fabs(fd - g[i]) > 2e-2 * (1 + fabs(g[i])))
			bad++;
	}
	ck_assert_msg(bad <= net->nparams / 100, "%zu of %zu gradient "
	    "entries differ from finite differences", bad, net->nparams);
	free(g);
	free(x);
	nn_free(net);
}

START_TEST(test_grad)
{
	check_grad(12, 8);
	check_grad(20, 32);
	check_grad(7, 0);
}
END_TEST

START_TEST(test_shapes)
{
	char	*cause = NULL;

	ck_assert_ptr_null(nn_new(0, 32, 1, &cause));
	ck_assert_str_eq(cause, "network: input dimension 0");
	ck_assert_ptr_null(nn_new(4, 12, 1, &cause));
	ck_assert_str_eq(cause, "network: hidden width 12 is not a multiple "
	    "of 8 from 0 to 256");
	ck_assert_uint_eq(nn_nparams(768, 32), 768 * 32 + 32 + 32 * 32 + 32 +
	    32 + 1);
	ck_assert_uint_eq(nn_nparams(768, 0), 768);
	free(cause);
}
END_TEST

/*
 * Adam (PyTorch's formulation) by hand, lr 0.1, betas 0.9 and 0.999:
 *
 * step 1, p = 1, g = 0.5:
 *	m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025
 *	m^ = 0.05 / (1 - 0.9) = 0.5, v^ = 0.00025 / (1 - 0.999) = 0.25
 *	p = 1 - 0.1 * 0.5 / (sqrt(0.25) + 1e-8) = 0.9
 * step 2, g = -0.25:
 *	m = 0.9 * 0.05 + 0.1 * -0.25 = 0.02
 *	v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225
 *	m^ = 0.02 / 0.19 = 0.1052632, v^ = 0.00031225 / 0.001999 = 0.1562031
 *	p = 0.9 - 0.1 * 0.1052632 / 0.3952253 = 0.8733665
 * weight decay 0.5 on q = 2 with g = 0: the gradient is 0 + 0.5 * 2 = 1,
 *	and the first step moves by lr: q = 1.9.
 */
START_TEST(test_adam)
{
	struct nn_opts	o;
	float		p[2] = { 1, 2 }, g[2] = { 0.5f, 0 }, m[2] = { 0, 0 };
	float		v[2] = { 0, 0 };

	nn_opts_default(&o);
	o.lr = 0.1;
	nn_adam(p, g, m, v, 1, 1, &o);
	ck_assert_float_eq_tol(m[0], 0.05f, 1e-7);
	ck_assert_float_eq_tol(v[0], 0.00025f, 1e-8);
	ck_assert_float_eq_tol(p[0], 0.9f, 1e-6);
	g[0] = -0.25f;
	nn_adam(p, g, m, v, 1, 2, &o);
	ck_assert_float_eq_tol(m[0], 0.02f, 1e-7);
	ck_assert_float_eq_tol(v[0], 0.00031225f, 1e-8);
	ck_assert_float_eq_tol(p[0], 0.8733665f, 1e-5);
	o.weight_decay = 0.5;
	m[1] = v[1] = 0;
	nn_adam(p + 1, g + 1, m + 1, v + 1, 1, 1, &o);
	ck_assert_float_eq_tol(p[1], 1.9f, 1e-6);
}
END_TEST

/* The Bradley-Terry loss of data at net, from forward passes only. */
static double
bt_loss(const struct nn *net, const struct nn_data *d)
{
	double	loss = 0, z;
	size_t	i;

	for (i = 0; i < d->nduels; i++) {
		z = nn_forward(net, d->x + d->a[i] * d->dim) -
		    nn_forward(net, d->x + d->b[i] * d->dim);
		loss += log1p(exp(z)) - d->y[i] * z;
	}
	return loss / (double)d->nduels;
}

/*
 * The loss's gradient: Adam's first step moves every parameter by lr
 * against the sign of its gradient, which must match the sign of the
 * finite-difference gradient of the loss wherever that is clear.
 */
START_TEST(test_loss_grad)
{
	struct nn	*net, *fit;
	struct nn_opts	 o;
	struct nn_data	 d;
	uint32_t	 a[4] = { 0, 1, 2, 3 }, b[4] = { 1, 2, 3, 0 };
	float		 y[4] = { 1, 1, 0, 0.5f }, *x, keep;
	double		 h = 1e-2, fd, step;
	size_t		 i, checked = 0, bad = 0;

	x = random_vectors(4, 10, 5);
	d.dim = 10;
	d.nitems = 4;
	d.x = x;
	d.nduels = 4;
	d.a = a;
	d.b = b;
	d.y = y;
	net = nn_new(10, 8, 2, NULL);
	fit = nn_copy(net);
	nn_opts_default(&o);
	o.steps = 1;
	ck_assert(isfinite(nn_fit(fit, &d, &o)));
	for (i = 0; i < net->nparams; i++) {
		keep = net->p[i];
		net->p[i] = (float)(keep + h);
		fd = bt_loss(net, &d);
		net->p[i] = (float)(keep - h);
		fd = (fd - bt_loss(net, &d)) / (2 * h);
		net->p[i] = keep;
		if (fabs(fd) < 1e-2)
			continue;
		step = (double)fit->p[i] - keep;
		checked++;
		if (!(fabs(fabs(step) - 1e-3) < 1e-4 && (step < 0) ==
		    (fd > 0)))
			bad++;
	}
	ck_assert_uint_gt(checked, 20);
	ck_assert_msg(bad <= checked / 50, "%zu of %zu steps disagree", bad,
	    checked);
	d.nduels = 0;
	ck_assert(isnan(nn_fit(fit, &d, &o)));
	free(x);
	nn_free(net);
	nn_free(fit);
}
END_TEST

/* Three items in a clear order: the fit learns it, in place or not. */
START_TEST(test_fit_thread)
{
	struct nn	*init, *here, *there, *nets[2];
	struct nn_opts	 o;
	struct nn_data	 d;
	struct nn_fit	*fit;
	struct pollfd	 pfd;
	uint32_t	 a[3] = { 0, 1, 0 }, b[3] = { 1, 2, 2 };
	float		 y[3] = { 1, 1, 1 }, *x;
	double		 f[3], l1, l2;
	char		*cause = NULL;

	x = random_vectors(3, 16, 8);
	d.dim = 16;
	d.nitems = 3;
	d.x = x;
	d.nduels = 3;
	d.a = a;
	d.b = b;
	d.y = y;
	nn_opts_default(&o);
	o.steps = 300;
	o.weight_decay = 0.1 / 53;
	init = nn_new(16, 32, 4, NULL);
	here = nn_copy(init);
	there = nn_copy(init);
	l1 = nn_fit(here, &d, &o);
	nn_forward_many(here, x, 3, f);
	ck_assert(f[0] > f[1] && f[1] > f[2]);
	ck_assert(l1 < 0.1);

	fit = nn_fit_start(&there, 1, NULL, &d, &o, &cause);
	ck_assert_msg(fit != NULL, "%s", cause);
	/* The fit works on its own copies. */
	memset(x, 0, 3 * 16 * sizeof *x);
	pfd.fd = nn_fit_fd(fit);
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
	ck_assert_int_eq(nn_fit_done(fit), 1);
	l2 = nn_fit_join(fit, &there, 1);
	ck_assert(l1 == l2);
	ck_assert(memcmp(here->p, there->p, here->nparams *
	    sizeof *here->p) == 0);

	nets[0] = here;
	nets[1] = there;
	ck_assert_ptr_null(nn_fit_start(nets, 2, NULL, &d, &o, &cause));
	ck_assert_str_eq(cause, "network fit: 2 networks without a prior");
	free(cause);
	free(x);
	nn_free(init);
	nn_free(here);
	nn_free(there);
}
END_TEST

/* The ensemble fit on a thread equals the one in place; members differ. */
START_TEST(test_ensemble)
{
	struct nn	*prior, *m1[3], *m2[3];
	struct nn_opts	 o;
	struct nn_data	 d;
	struct nn_fit	*fit;
	uint32_t	 a[40], b[40];
	float		 y[40], *x;
	size_t		 i;

	x = random_vectors(10, 8, 3);
	for (i = 0; i < 40; i++) {
		a[i] = (uint32_t)(i % 10);
		b[i] = (uint32_t)((i * 7 + 3) % 10);
		if (b[i] == a[i])
			b[i] = (a[i] + 1) % 10;
		y[i] = a[i] < b[i] ? 1 : 0;
	}
	d.dim = 8;
	d.nitems = 10;
	d.x = x;
	d.nduels = 40;
	d.a = a;
	d.b = b;
	d.y = y;
	nn_opts_default(&o);
	o.steps = 20;
	o.prior_l2 = 0.1;
	o.seed = 11;
	prior = nn_new(8, 16, 1, NULL);
	for (i = 0; i < 3; i++) {
		m1[i] = nn_copy(prior);
		m2[i] = nn_copy(prior);
	}
	ck_assert(isfinite(nn_fit_ensemble(m1, 3, prior, &d, &o)));
	fit = nn_fit_start(m2, 3, prior, &d, &o, NULL);
	ck_assert_ptr_nonnull(fit);
	nn_fit_join(fit, m2, 3);
	for (i = 0; i < 3; i++)
		ck_assert(memcmp(m1[i]->p, m2[i]->p, prior->nparams *
		    sizeof(float)) == 0);
	ck_assert(memcmp(m1[0]->p, m1[1]->p, prior->nparams *
	    sizeof(float)) != 0);
	for (i = 0; i < 3; i++) {
		nn_free(m1[i]);
		nn_free(m2[i]);
	}
	nn_free(prior);
	free(x);
}
END_TEST

/*
 * The fit's output on a small fixed problem, pinned bit for bit: 21
 * inputs (not a whole number of any kernel's blocks), 24 hidden units
 * (a block of 16 and one of 8), 10 items of which 9 are dueled, a tie
 * and repeated pairs; 60 full-batch steps with weight decay, and an
 * ensemble of 3 on minibatches of 4 with the prior's penalty.  The
 * weights are folded into one hash of their bits.
 */
#define PIN_IN		21
#define PIN_HIDDEN	24
#define PIN_ITEMS	10
#define PIN_DUELS	15

struct pin {
	double		loss;
	double		f[PIN_ITEMS];
	uint64_t	hash;
	double		eloss;
	uint64_t	ehash;
};

static uint64_t
pin_hash(const struct nn *net, uint64_t h)
{
	uint32_t	bits;
	size_t		i;

	for (i = 0; i < net->nparams; i++) {
		memcpy(&bits, &net->p[i], sizeof bits);
		h = hash_mix(h, bits);
	}
	return h;
}

static void
pin_run(struct pin *out)
{
	struct nn	*net, *mem[3];
	struct nn_opts	 o;
	struct nn_data	 d;
	uint32_t	 a[PIN_DUELS], b[PIN_DUELS];
	float		 y[PIN_DUELS], *x;
	size_t		 i;

	x = random_vectors(PIN_ITEMS, PIN_IN, 17);
	for (i = 0; i < PIN_DUELS; i++) {
		a[i] = (uint32_t)(i * 3 % 9);
		b[i] = (uint32_t)((i * 5 + 2) % 9);
		if (b[i] == a[i])
			b[i] = (a[i] + 4) % 9;
		y[i] = i % 7 == 3 ? 0.5f : a[i] < b[i];
	}
	d.dim = PIN_IN;
	d.nitems = PIN_ITEMS;
	d.x = x;
	d.nduels = PIN_DUELS;
	d.a = a;
	d.b = b;
	d.y = y;
	nn_opts_default(&o);
	o.steps = 60;
	o.weight_decay = 0.1 / (PIN_DUELS + 50);
	net = nn_new(PIN_IN, PIN_HIDDEN, 6, NULL);
	out->loss = nn_fit(net, &d, &o);
	nn_forward_many(net, x, PIN_ITEMS, out->f);
	out->hash = pin_hash(net, 0);
	nn_free(net);

	nn_opts_default(&o);
	o.steps = 8;
	o.batch = 4;
	o.prior_l2 = 0.1;
	o.seed = 5;
	net = nn_new(PIN_IN, PIN_HIDDEN, 7, NULL);
	for (i = 0; i < 3; i++)
		mem[i] = nn_copy(net);
	out->eloss = nn_fit_ensemble(mem, 3, net, &d, &o);
	out->ehash = 0;
	for (i = 0; i < 3; i++) {
		out->ehash = pin_hash(mem[i], out->ehash);
		nn_free(mem[i]);
	}
	nn_free(net);
	free(x);
}

/*
 * The values of the kernels before they were blocked (issue 17): where
 * the compiler fuses multiply-adds (the AVX2 and AVX-512 clones of the
 * kernels on x86-64) and where it does not (the baseline clone, or a
 * build without clones).  The same code gives one or the other,
 * exactly.  PIN_PRINT=1 in the environment prints what a build gives,
 * in this form.
 */
static const struct pin pin_fused = {
	0x1.ee2bc55405b4fp-2, {
	    -0x1.bb03dbbed50c4p+3, -0x1.1ba1e84b623e2p+3,
	    -0x1.2ce8b8d72a9bfp+4, -0x1.37062b5513769p+4,
	    -0x1.8c95274b27d87p+4, -0x1.1279027199c6ap+4,
	    -0x1.803e6111924d9p+4, -0x1.4ef68a8101651p+4,
	    -0x1.96185e989b426p+4, -0x1.031c1a8514cdcp+3,
	}, 0x9e36dcd0803a7ccaULL, 0x1.8e60e92d2874cp+1, 0xae27c21ef2af6174ULL
};
static const struct pin pin_plain = {
	0x1.ee2bbd866dbb2p-2, {
	    -0x1.bb03db2dabaep+3, -0x1.1ba1ee1cdbd9ep+3,
	    -0x1.2ce8ba0c65cc6p+4, -0x1.37062dc3923dcp+4,
	    -0x1.8c95278f4c3a2p+4, -0x1.127902475f68p+4,
	    -0x1.803e60fadedb1p+4, -0x1.4ef691b69259bp+4,
	    -0x1.96185f8657466p+4, -0x1.031c1889821f8p+3,
	}, 0x53d2110ae3f4b7fdULL, 0x1.8e60e439d5ecep+1, 0x4b9f8178a9945c5eULL
};

static int
pin_same(const struct pin *a, const struct pin *b)
{
	size_t	i;

	for (i = 0; i < PIN_ITEMS; i++)
		if (a->f[i] != b->f[i])
			return 0;
	return a->loss == b->loss && a->hash == b->hash &&
	    a->eloss == b->eloss && a->ehash == b->ehash;
}

START_TEST(test_fit_pinned)
{
	struct pin	got;
	size_t		i;

	pin_run(&got);
	if (getenv("PIN_PRINT") != NULL) {
		printf("\t%a, {\n", got.loss);
		for (i = 0; i < PIN_ITEMS; i++)
			printf("\t    %a,\n", got.f[i]);
		printf("\t}, 0x%016llxULL, %a, 0x%016llxULL\n",
		    (unsigned long long)got.hash, got.eloss,
		    (unsigned long long)got.ehash);
	}
	ck_assert_msg(pin_same(&got, &pin_fused) || pin_same(&got,
	    &pin_plain), "the fit changed: loss %a, f[0] %a, weights %016llx, "
	    "ensemble loss %a, weights %016llx", got.loss, got.f[0],
	    (unsigned long long)got.hash, got.eloss,
	    (unsigned long long)got.ehash);
}
END_TEST

/*
 * A hand-made pool for the linear rule: f(x) = w . x, g(x) = x, U_j =
 * sum over duels of (x_a - x_b)_j^2 + 1e-10.
 */
START_TEST(test_select_linear)
{
	static const float	 x[4 * 3] = {
		1, 0, 0,
		0, 1, 0,
		0.6f, 0.8f, 0,
		0, 0.6f, 0.8f,
	};
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool = { 4, 3, x };
	struct bandit_hist	 h;
	struct rng		 rng;
	const struct nn		*net;
	double			 ucb[4], u[3], mu, s, e, want;
	uint32_t		 a, b, first, i, j, best, second;

	memset(&h, 0, sizeof h);
	bandit_hist_add(&h, 0, 1, 1);
	bandit_hist_add(&h, 2, 3, 1);
	bandit_hist_add(&h, 0, 3, 1);
	bandit_opts_default(&o);
	o.method = BANDIT_LINEAR;
	o.train.steps = 200;
	m = bandit_model_new(&o, 3, NULL);
	rng_seed(&rng, 1, 1);
	bandit_fit(m, &pool, &h);
	net = bandit_model_net(m);
	/* U by hand. */
	for (j = 0; j < 3; j++) {
		u[j] = 1e-10;
		for (i = 0; i < h.n; i++) {
			e = x[h.a[i] * 3 + j] - x[h.b[i] * 3 + j];
			u[j] += e * e;
		}
	}
	first = 0;
	for (i = 1; i < 4; i++)
		if (nn_dotf(net->p, x + i * 3, 3) >
		    nn_dotf(net->p, x + first * 3, 3))
			first = i;
	ck_assert_uint_eq(first, 0);	/* 0 won both its duels */
	bandit_ucb(m, &pool, &h, first, ucb);
	for (i = 0; i < 4; i++) {
		mu = nn_dotf(net->p, x + i * 3, 3);
		s = 0;
		for (j = 0; j < 3; j++) {
			e = (double)x[i * 3 + j] - x[first * 3 + j];
			s += e * e / u[j];
		}
		want = mu + sqrt(s);
		ck_assert_msg(fabs(ucb[i] - want) < 1e-3 * (1 + fabs(want)),
		    "arm %u: ucb %g, by hand %g", i, ucb[i], want);
	}
	best = 0;
	for (i = 1; i < 4; i++)
		if (ucb[i] > ucb[best])
			best = i;
	second = best;
	if (best == first) {
		second = first == 0 ? 1 : 0;
		for (i = 0; i < 4; i++)
			if (i != first && ucb[i] > ucb[second])
				second = i;
	}
	bandit_select(m, &pool, &h, &rng, &a, &b);
	ck_assert_uint_eq(a, first);
	ck_assert_uint_eq(b, second);
	ck_assert_uint_eq(bandit_recommend(m, &pool, &h, &rng), first);
	bandit_model_free(m);
	bandit_hist_release(&h);
}
END_TEST

/* Solves A z = v (n x n, destroyed) by Gaussian elimination. */
static void
solve(double *A, double *v, size_t n)
{
	size_t	i, j, k, p;
	double	t;

	for (k = 0; k < n; k++) {
		p = k;
		for (i = k + 1; i < n; i++)
			if (fabs(A[i * n + k]) > fabs(A[p * n + k]))
				p = i;
		for (j = 0; j < n; j++) {
			t = A[k * n + j];
			A[k * n + j] = A[p * n + j];
			A[p * n + j] = t;
		}
		t = v[k];
		v[k] = v[p];
		v[p] = t;
		for (i = k + 1; i < n; i++) {
			t = A[i * n + k] / A[k * n + k];
			for (j = k; j < n; j++)
				A[i * n + j] -= t * A[k * n + j];
			v[i] -= t * v[k];
		}
	}
	for (k = n; k-- > 0; ) {
		for (j = k + 1; j < n; j++)
			v[k] -= A[k * n + j] * v[j];
		v[k] /= A[k * n + k];
	}
}

/*
 * APOHF's bound against a direct computation with per-sample gradients:
 * the diagonal U, and the full matrix solved directly (not Woodbury).
 */
START_TEST(test_select_apohf)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	const struct nn		*net;
	float			*x, *ga, *gb, *g1;
	double			*U, *A, *v, *mu, ucb[6], s, want;
	uint32_t		 i, first = 0;
	size_t			 P, j, k, t;
	int			 full;

	x = random_vectors(6, 4, 21);
	pool.n = 6;
	pool.dim = 4;
	pool.x = x;
	for (full = 0; full < 2; full++) {
		memset(&h, 0, sizeof h);
		bandit_hist_add(&h, 0, 1, 1);
		bandit_hist_add(&h, 2, 3, 0);
		bandit_hist_add(&h, 4, 0, 0.5f);
		bandit_opts_default(&o);
		o.hidden = 8;
		o.full = full;
		o.train.steps = 100;
		m = bandit_model_new(&o, 4, NULL);
		bandit_fit(m, &pool, &h);
		net = bandit_model_net(m);
		P = net->nparams;
		mu = xcalloc(6, sizeof *mu);
		nn_forward_many(net, x, 6, mu);
		for (i = 1; i < 6; i++)
			if (mu[i] > mu[first])
				first = i;
		ga = xcalloc(P, sizeof *ga);
		gb = xcalloc(P, sizeof *gb);
		g1 = xcalloc(P, sizeof *g1);
		U = xcalloc(P * P, sizeof *U);
		A = xcalloc(P * P, sizeof *A);
		v = xcalloc(P, sizeof *v);
		for (j = 0; j < P; j++)
			U[j * P + j] = o.lambda;
		for (t = 0; t < h.n; t++) {
			nn_grad(net, x + h.a[t] * 4, ga);
			nn_grad(net, x + h.b[t] * 4, gb);
			for (j = 0; j < P; j++)
				for (k = 0; k < P; k++)
					if (full || j == k)
						U[j * P + k] += ((double)ga[j] -
						    gb[j]) * ((double)ga[k] -
						    gb[k]);
		}
		nn_grad(net, x + first * 4, g1);
		bandit_ucb(m, &pool, &h, first, ucb);
		for (i = 0; i < 6; i++) {
			nn_grad(net, x + i * 4, ga);
			memcpy(A, U, P * P * sizeof *A);
			for (j = 0; j < P; j++)
				v[j] = (double)ga[j] - g1[j];
			solve(A, v, P);
			s = 0;
			for (j = 0; j < P; j++)
				s += v[j] * ((double)ga[j] - g1[j]);
			want = mu[i] + sqrt(s > 0 ? s : 0);
			ck_assert_msg(fabs(ucb[i] - want) < 1e-3 * (1 +
			    fabs(want)), "%s: arm %u: ucb %g, directly %g",
			    full ? "full" : "diagonal", i, ucb[i], want);
		}
		ck_assert_double_eq_tol(ucb[first], mu[first], 1e-9);
		free(ga);
		free(gb);
		free(g1);
		free(U);
		free(A);
		free(v);
		free(mu);
		bandit_model_free(m);
		bandit_hist_release(&h);
	}
	free(x);
}
END_TEST

/*
 * Why the whole matrix: after k duels of the same pair (a, b), the bonus
 * of b against a is |e| / sqrt(lambda + k |e|^2) < 1 / sqrt(k) with e =
 * g(b) - g(a), however many parameters there are; with the diagonal it
 * is about sqrt(P / k) (every coordinate counts), so b keeps a bonus that
 * no fresh arm can beat and the same pair is dueled again and again.
 * The default is the whole matrix.
 */
START_TEST(test_bonus_repeated)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	const struct nn		*net;
	float			*x;
	double			 mu[8], ucb[8], s[2];
	uint32_t		 i;
	int			 full;

	x = random_vectors(8, 16, 5);
	pool.n = 8;
	pool.dim = 16;
	pool.x = x;
	memset(&h, 0, sizeof h);
	for (i = 0; i < 20; i++)
		bandit_hist_add(&h, 0, 1, i % 3 != 0);
	bandit_opts_default(&o);
	ck_assert_int_eq(o.full, 1);
	o.train.steps = 50;
	for (full = 0; full < 2; full++) {
		o.full = full;
		m = bandit_model_new(&o, 16, NULL);
		bandit_fit(m, &pool, &h);
		net = bandit_model_net(m);
		nn_forward_many(net, x, 8, mu);
		bandit_ucb(m, &pool, &h, 0, ucb);
		s[full] = ucb[1] - mu[1];
		/* A fresh arm keeps a bonus of the prior's order. */
		ck_assert_msg(ucb[5] - mu[5] > 1, "%s: fresh arm's bonus %g",
		    full ? "full" : "diagonal", ucb[5] - mu[5]);
		bandit_model_free(m);
	}
	ck_assert_msg(s[1] < 1 / sqrt(20.0), "full: the pair's bonus %g",
	    s[1]);
	ck_assert_msg(s[0] > 10 * s[1], "diagonal: the pair's bonus %g, "
	    "full %g", s[0], s[1]);
	bandit_hist_release(&h);
	free(x);
}
END_TEST

/*
 * Past 500 distinct pairs dueled, the whole matrix would cost a step too
 * much: the bound is then the diagonal's, and at 500 it is not.
 */
START_TEST(test_full_fallback)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	float			*x;
	double			 ucb[2][40];
	uint32_t		 a, b;
	size_t			 n;
	int			 full, pairs;

	x = random_vectors(40, 8, 9);
	pool.n = 40;
	pool.dim = 8;
	pool.x = x;
	bandit_opts_default(&o);
	o.train.steps = 5;
	for (pairs = 500; pairs <= 501; pairs++) {
		memset(&h, 0, sizeof h);
		for (n = 0, a = 0; a < 40 && n < (size_t)pairs; a++)
			for (b = a + 1; b < 40 && n < (size_t)pairs; b++, n++)
				bandit_hist_add(&h, a, b, (a + b) % 2);
		/* A pair dueled again is not a new pair. */
		bandit_hist_add(&h, 0, 1, 1);
		for (full = 0; full < 2; full++) {
			o.full = full;
			m = bandit_model_new(&o, 8, NULL);
			bandit_fit(m, &pool, &h);
			bandit_ucb(m, &pool, &h, 3, ucb[full]);
			bandit_model_free(m);
		}
		if (pairs == 501)
			ck_assert(memcmp(ucb[0], ucb[1], sizeof ucb[0]) == 0);
		else
			ck_assert(memcmp(ucb[0], ucb[1], sizeof ucb[0]) != 0);
		bandit_hist_release(&h);
	}
	free(x);
}
END_TEST

START_TEST(test_random_and_ts)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	struct rng		 rng;
	float			*x;
	uint32_t		 a, b, i;
	char			*cause = NULL;

	x = random_vectors(5, 4, 2);
	pool.n = 5;
	pool.dim = 4;
	pool.x = x;
	memset(&h, 0, sizeof h);
	rng_seed(&rng, 3, 3);
	bandit_opts_default(&o);
	o.method = BANDIT_RANDOM;
	m = bandit_model_new(&o, 4, NULL);
	for (i = 0; i < 50; i++) {
		bandit_select(m, &pool, &h, &rng, &a, &b);
		ck_assert(a != b && a < 5 && b < 5);
	}
	bandit_hist_add(&h, 1, 2, 0);
	ck_assert_uint_eq(bandit_recommend(m, &pool, &h, &rng), 2);
	bandit_model_free(m);

	o.method = BANDIT_DOUBLETS;
	o.ensemble = 0;
	ck_assert_ptr_null(bandit_model_new(&o, 4, &cause));
	ck_assert_str_eq(cause, "dueling bandit: an ensemble of 0 networks");
	free(cause);
	o.ensemble = 4;
	o.hidden = 8;
	o.train.steps = 30;
	m = bandit_model_new(&o, 4, NULL);
	bandit_fit(m, &pool, &h);
	for (i = 0; i < 20; i++) {
		bandit_select(m, &pool, &h, &rng, &a, &b);
		ck_assert(a != b && a < 5 && b < 5);
	}
	a = bandit_recommend(m, &pool, &h, &rng);
	ck_assert(a == 1 || a == 2);
	ck_assert_int_eq(bandit_method_lookup("doublets"), BANDIT_DOUBLETS);
	ck_assert_int_eq(bandit_method_lookup("thompson"), -1);
	ck_assert_str_eq(bandit_method_name(BANDIT_APOHF), "apohf");
	bandit_model_free(m);
	bandit_hist_release(&h);
	free(x);
}
END_TEST

/*
 * A small synthetic world (pool 80 in 32 dimensions, 60 duels, fits of
 * 200 steps, to stay fast): the utility of the final recommendation.
 * The world is large enough that the diagonal bound fails (4 seeds of 8
 * within 5%, where the whole matrix has 8).
 */
#define SYN_N	80
#define SYN_D	32
static double
synth_run(enum bandit_method method, uint64_t seed, double *top, double *lo)
{
	struct bandit_opts	 o;
	struct bandit_model	*m;
	struct bandit_pool	 pool;
	struct bandit_hist	 h;
	struct rng		 rng;
	float			*x;
	double			*u, got;
	uint32_t		 a, b, i;

	bandit_synth(SYN_N, SYN_D, seed, &x, &u);
	pool.n = SYN_N;
	pool.dim = SYN_D;
	pool.x = x;
	*top = -INFINITY;
	*lo = INFINITY;
	for (i = 0; i < SYN_N; i++) {
		*top = fmax(*top, u[i]);
		*lo = fmin(*lo, u[i]);
	}
	bandit_opts_default(&o);
	o.method = method;
	o.train.steps = 200;
	o.seed = seed;
	m = bandit_model_new(&o, SYN_D, NULL);
	memset(&h, 0, sizeof h);
	rng_seed(&rng, seed, 7);
	for (i = 0; i < 60; i++) {
		if (i >= 5)
			bandit_fit(m, &pool, &h);
		if (i >= 5)
			bandit_select(m, &pool, &h, &rng, &a, &b);
		else {
			a = rng_below(&rng, SYN_N);
			b = (a + 1 + rng_below(&rng, SYN_N - 1)) % SYN_N;
		}
		bandit_hist_add(&h, a, b, bandit_sim_prefer(u[a], u[b], 0.1,
		    &rng));
	}
	bandit_fit(m, &pool, &h);
	got = u[bandit_recommend(m, &pool, &h, &rng)];
	bandit_model_free(m);
	bandit_hist_release(&h);
	free(x);
	free(u);
	return got;
}

START_TEST(test_synthetic)
{
	double		 top, lo, ap = 0, ra = 0, g;
	int		 seed, near = 0, nseeds = 8;

	for (seed = 1; seed <= nseeds; seed++) {
		g = synth_run(BANDIT_APOHF, (uint64_t)seed, &top, &lo);
		ap += g;
		near += (top - g) <= 0.05 * (top - lo);
		ra += synth_run(BANDIT_RANDOM, (uint64_t)seed, &top, &lo);
	}
	ck_assert_msg(ap > ra, "apohf %.3f against random %.3f on average",
	    ap / nseeds, ra / nseeds);
	ck_assert_msg(near > nseeds / 2, "apohf within 5%% of the best for "
	    "only %d of %d seeds", near, nseeds);
}
END_TEST

static Suite *
nn_suite(void)
{
	Suite	*s = suite_create("nn");
	TCase	*tc = tcase_create("nn");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grad);
	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_adam);
	tcase_add_test(tc, test_loss_grad);
	tcase_add_test(tc, test_fit_thread);
	tcase_add_test(tc, test_ensemble);
	tcase_add_test(tc, test_fit_pinned);
	tcase_add_test(tc, test_select_linear);
	tcase_add_test(tc, test_select_apohf);
	tcase_add_test(tc, test_bonus_repeated);
	tcase_add_test(tc, test_full_fallback);
	tcase_add_test(tc, test_random_and_ts);
	tcase_add_test(tc, test_synthetic);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(nn_suite)
