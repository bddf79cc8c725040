/*
 * Small networks for the dueling bandits: forward, backward, per-sample
 * gradients, Adam and the Bradley-Terry fit, by hand.
 *
 * Where the time goes: a fit is steps x (first layer forward + first
 * layer weight gradient), each m x in x hidden multiply-adds for the m
 * distinct items of the duels; then Adam over every parameter and the
 * second layer.  So the duels are compacted to their distinct items
 * first and packed once per fit into panels (see nn_pack), and the two
 * first-layer products are written as blocks of six items (or six
 * inputs) by 32, 16 or 8 hidden units (as many as the registers hold)
 * that stay in registers, with no horizontal sums: every inner operation is a broadcast times a vector
 * added to an accumulator.  On x86-64 those kernels are compiled for
 * AVX-512, AVX2 and the baseline and picked at run time.
 *
 * The blocks only choose which sums are computed together: each sum is
 * still taken term by term in the same order, so a faster kernel gives
 * the same floats (tests/unit/check_nn.c pins them).  Only whether the
 * compiler fuses a multiply and an add (the AVX2 and AVX-512 clones do,
 * the baseline cannot) changes them.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", \
    "fp-contract=fast")
#endif

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn.h"
#include "rng.h"
#include "util.h"
#include "xmalloc.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(NN_NO_CLONES)
#define NN_CLONES
#define NN_KERNEL __attribute__((target_clones("arch=x86-64-v4", \
    "arch=x86-64-v3", "default")))
#else
#define NN_KERNEL
#endif

/*
 * Eight and sixteen floats.  Loads and stores go through memcpy (no
 * alignment), as macros: a vector passed by value would change the ABI
 * between the baseline and the AVX clones.
 */
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
#define V_LOAD(v, p)	memcpy(&(v), (p), sizeof (v))
#define V_STORE(p, v)	memcpy((p), &(v), sizeof (v))

size_t
nn_nparams(size_t in, size_t hidden)
{
	if (hidden == 0)
		return in;
	return in * hidden + hidden + hidden * hidden + hidden + hidden + 1;
}

/* Offsets of the parts of an MLP's parameters. */
struct nn_layout {
	size_t	W1, b1, W2, b2, w3, b3;
};

static void
nn_layout(size_t in, size_t h, struct nn_layout *l)
{
	l->W1 = 0;
	l->b1 = in * h;
	l->W2 = l->b1 + h;
	l->b2 = l->W2 + h * h;
	l->w3 = l->b2 + h;
	l->b3 = l->w3 + h;
}

struct nn *
nn_new(size_t in, size_t hidden, uint64_t seed, char **cause)
{
	struct nn	*net;
	struct rng	 rng;
	double		 r;
	size_t		 i;

	if (in == 0) {
		cause_set(cause, "network: input dimension 0");
		return NULL;
	}
	if (hidden % 8 != 0 || hidden > NN_MAX_HIDDEN) {
		cause_set(cause, "network: hidden width %zu is not a multiple "
		    "of 8 from 0 to %d", hidden, NN_MAX_HIDDEN);
		return NULL;
	}
	net = xcalloc(1, sizeof *net);
	net->in = in;
	net->hidden = hidden;
	net->nparams = nn_nparams(in, hidden);
	net->p = xcalloc(net->nparams, sizeof *net->p);
	rng_seed(&rng, seed, 0x6e6e);
	r = 1 / sqrt((double)in);
	for (i = 0; i < net->nparams; i++) {
		if (hidden == 0)
			net->p[i] = (float)((2 * rng_uniform(&rng) - 1) * r);
		else
			net->p[i] = (float)rng_normal(&rng);
	}
	return net;
}

struct nn *
nn_copy(const struct nn *src)
{
	struct nn	*net;

	net = xcalloc(1, sizeof *net);
	*net = *src;
	net->p = xcalloc(net->nparams, sizeof *net->p);
	memcpy(net->p, src->p, net->nparams * sizeof *net->p);
	return net;
}

void
nn_free(struct nn *net)
{
	if (net == NULL)
		return;
	free(net->p);
	free(net);
}

NN_KERNEL double
nn_dotf(const float *a, const float *b, size_t n)
{
	v8	acc0 = { 0 }, acc1 = { 0 }, va, vb;
	double	s = 0;
	size_t	i = 0;
	int	j;

	for (; i + 16 <= n; i += 16) {
		V_LOAD(va, a + i);
		V_LOAD(vb, b + i);
		acc0 += va * vb;
		V_LOAD(va, a + i + 8);
		V_LOAD(vb, b + i + 8);
		acc1 += va * vb;
	}
	acc0 += acc1;
	for (j = 0; j < 8; j++)
		s += acc0[j];
	for (; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/*
 * The same summed in double throughout: the products of the per-sample
 * gradients that the full-matrix bound takes differences of.  Four lanes
 * of floats are widened to doubles before they are multiplied.
 */
typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));

double
nn_dotd(const float *a, const float *b, size_t n)
{
	double	s;

	nn_dotd_rows(a, &b, 1, n, &s);
	return s;
}

/*
 * Four rows at a time: each dot product is one chain of additions per
 * lane, bound by the latency of an addition, so four of them share the
 * time of one.  A row past the last repeats the first, unstored.
 */
NN_KERNEL void
nn_dotd_rows(const float *a, const float *const *rows, size_t nrows,
    size_t n, double *out)
{
	v4d		 acc0[4], acc1[4], da;
	v4f		 fa, fb;
	const float	*b[4];
	double		 s;
	size_t		 k0, r, i;

	for (k0 = 0; k0 < nrows; k0 += 4) {
		for (r = 0; r < 4; r++)
			b[r] = rows[k0 + r < nrows ? k0 + r : k0];
		memset(acc0, 0, sizeof acc0);
		memset(acc1, 0, sizeof acc1);
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&fa, a + i, sizeof fa);
			da = __builtin_convertvector(fa, v4d);
#pragma GCC unroll 4
			for (r = 0; r < 4; r++) {
				memcpy(&fb, b[r] + i, sizeof fb);
				acc0[r] += da * __builtin_convertvector(fb,
				    v4d);
			}
			memcpy(&fa, a + i + 4, sizeof fa);
			da = __builtin_convertvector(fa, v4d);
#pragma GCC unroll 4
			for (r = 0; r < 4; r++) {
				memcpy(&fb, b[r] + i + 4, sizeof fb);
				acc1[r] += da * __builtin_convertvector(fb,
				    v4d);
			}
		}
		for (r = 0; r < 4 && k0 + r < nrows; r++) {
			acc0[r] += acc1[r];
			s = (acc0[r][0] + acc0[r][1]) +
			    (acc0[r][2] + acc0[r][3]);
			for (i = n / 8 * 8; i < n; i++)
				s += (double)a[i] * b[r][i];
			out[k0 + r] = s;
		}
	}
}

/*
 * Rows of a panel: the first layer's kernel keeps six rows by two
 * vectors of hidden units in twelve accumulators, which with the two
 * weight vectors and a broadcast fit in sixteen registers: vectors of
 * sixteen floats with AVX-512 (32 units a block), of eight with AVX2 (16
 * units), one vector of eight, two of SSE's registers, with SSE (8
 * units).  Every inner step loads the weight vectors and six inputs for
 * six multiply-adds per vector.
 */
#define NN_ROWS		6

/* Room for n rows (in wide) as panels (see nn_pack), zero. */
static float *
nn_panels(size_t n, size_t in)
{
	return xcalloc((n + NN_ROWS - 1) / NN_ROWS * NN_ROWS * in + 1,
	    sizeof(float));
}

/*
 * Copies n rows of x (in wide) into panels of NN_ROWS rows stored input
 * by input: panel q holds x[q * NN_ROWS + i][d] at (q * in + d) *
 * NN_ROWS + i; the rows past n are left as they are (zero from
 * nn_panels).  With stride in and step 1 that is x as panels of its
 * rows; with stride 1 and step in (n inputs of rows in long) it is the
 * transpose's.  With relu set, what is not above zero is copied as zero.
 */
static void
nn_pack(float *pk, const float *x, size_t n, size_t in, size_t stride,
    size_t step, int relu)
{
	float		*dst, v;
	const float	*src;
	size_t		 r, d;

	for (r = 0; r < n; r++) {
		dst = pk + r / NN_ROWS * in * NN_ROWS + r % NN_ROWS;
		src = x + r * stride;
		for (d = 0; d < in; d++) {
			v = src[d * step];
			dst[d * NN_ROWS] = v > 0 || !relu ? v : 0;
		}
	}
}

/*
 * One block of the first layer: NN_ROWS rows of the panel xp by nv (1
 * or 2) vectors of units, the weights from wp (rows H apart), the sums
 * from c (or zero) to z (rows H apart; kb rows stored).  Written once
 * for each width of vector: a vector wider than the target's registers
 * would be kept in memory, not split.
 */
#define NN_BLOCK(name, vec, lanes)					\
static inline __attribute__((always_inline)) void			\
name(const float *xp, size_t in, const float *wp, size_t H,		\
    const float *c, float *z, size_t kb, int nv)			\
{									\
	vec	acc[NN_ROWS][2], w[2];					\
	size_t	d, i;							\
									\
	memset(acc, 0, sizeof acc);					\
	for (i = 0; c != NULL && i < NN_ROWS; i++) {			\
		V_LOAD(acc[i][0], c);					\
		if (nv == 2)						\
			V_LOAD(acc[i][1], c + (lanes));			\
	}								\
	for (d = 0; d < in; d++, xp += NN_ROWS, wp += H) {		\
		V_LOAD(w[0], wp);					\
		if (nv == 2)						\
			V_LOAD(w[1], wp + (lanes));			\
		NN_FMA(0);						\
		NN_FMA(1);						\
		NN_FMA(2);						\
		NN_FMA(3);						\
		NN_FMA(4);						\
		NN_FMA(5);						\
	}								\
	for (i = 0; i < kb; i++) {					\
		V_STORE(z + i * H, acc[i][0]);				\
		if (nv == 2)						\
			V_STORE(z + i * H + (lanes), acc[i][1]);	\
	}								\
}
#define NN_FMA(i) do {							\
	acc[i][0] += xp[i] * w[0];					\
	if (nv == 2)							\
		acc[i][1] += xp[i] * w[1];				\
} while (0)
NN_BLOCK(nn_block8, v8, 8)
NN_BLOCK(nn_block16, v16, 16)
#undef NN_FMA
#undef NN_BLOCK

/*
 * The units one block takes per row, by the registers there are (see
 * NN_ROWS): 32 with AVX-512, 16 with AVX (sixteen registers of eight
 * floats), 8 with SSE's sixteen of four.  Where the kernels are cloned,
 * the processor that picks the clone says; elsewhere the target.
 */
static inline __attribute__((always_inline)) size_t
nn_block_units(void)
{
#ifdef NN_CLONES
	if (__builtin_cpu_supports("avx512f"))
		return 32;
	return __builtin_cpu_supports("avx2") ? 16 : 8;
#elif defined(__AVX512F__)
	return 32;
#elif defined(__AVX__) || defined(__aarch64__)
	return 16;
#else
	return 8;
#endif
}

/*
 * The first layer for n rows packed as above (in wide): z[k][h] = b1[h]
 * + sum_d x[k][d] W1[d][h], each sum taken in the order of d (the
 * blocks only choose which sums go together, so every width gives the
 * same floats).  With b1 NULL the sums start from zero, which makes the
 * same kernel the first layer's weight gradient: g[d][h] = sum_k
 * x[k][d] d1[k][h] is nn_layer1(the transpose's panels, in, m, H, d1,
 * NULL, g).
 */
NN_KERNEL static void
nn_layer1(const float *pk, size_t n, size_t in, size_t H, const float *W1,
    const float *b1, float *z)
{
	const float	*c;
	size_t		 k0, kb, hc, step, units = nn_block_units();

	for (k0 = 0; k0 < n; k0 += NN_ROWS, pk += in * NN_ROWS) {
		kb = n - k0 < NN_ROWS ? n - k0 : NN_ROWS;
		for (hc = 0; hc < H; hc += step) {
			c = b1 != NULL ? b1 + hc : NULL;
			if (units == 32 && H - hc >= 32) {
				nn_block16(pk, in, W1 + hc, H, c,
				    z + k0 * H + hc, kb, 2);
				step = 32;
			} else if (units == 32 && H - hc >= 16) {
				nn_block16(pk, in, W1 + hc, H, c,
				    z + k0 * H + hc, kb, 1);
				step = 16;
			} else if (units >= 16 && H - hc >= 16) {
				nn_block8(pk, in, W1 + hc, H, c,
				    z + k0 * H + hc, kb, 2);
				step = 16;
			} else {
				nn_block8(pk, in, W1 + hc, H, c,
				    z + k0 * H + hc, kb, 1);
				step = 8;
			}
		}
	}
}

/* y += a * x over n floats. */
static inline __attribute__((always_inline)) void
nn_axpy(float *y, float a, const float *x, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		y[i] += a * x[i];
}

/*
 * The rest of the forward pass after the first layer, for one item:
 * a1 = relu(z1), z2 = W2' a1 + b2, a2 = relu(z2), f = w3 . a2 + b3.
 */
static inline __attribute__((always_inline)) double
nn_upper(const struct nn *net, const struct nn_layout *l, const float *z1,
    float *a1, float *z2, float *a2)
{
	const float	*p = net->p;
	size_t		 H = net->hidden, i;
	double		 f;

	memcpy(z2, p + l->b2, H * sizeof *z2);
	for (i = 0; i < H; i++) {
		a1[i] = z1[i] > 0 ? z1[i] : 0;
		if (a1[i] != 0)
			nn_axpy(z2, a1[i], p + l->W2 + i * H, H);
	}
	for (i = 0; i < H; i++)
		a2[i] = z2[i] > 0 ? z2[i] : 0;
	f = p[l->b3];
	for (i = 0; i < H; i++)
		f += (double)p[l->w3 + i] * a2[i];
	return f;
}

/*
 * What a step of a fit works on for its n items: the layers' sums and
 * activations row by row (n x H; a2 with its rows rounded up to a block
 * of eight for nn_upper_many), a1 as panels of its rows (the second layer's input)
 * and of its transpose (for that layer's weight gradient), dL/dz2 and
 * dL/dz1 (n x H), W2 transposed, f and dL/df.
 */
struct nn_work {
	size_t	 n;
	float	*z1, *z2, *a2, *d2, *d1;
	float	*a1p, *a1tp;
	float	*W2t;
	double	*f;
	float	*df;
};

static void
nn_work_init(struct nn_work *w, size_t n, size_t H)
{
	size_t	rows = (n + 7) / 8 * 8;

	memset(w, 0, sizeof *w);
	w->n = n;
	w->f = xcalloc(rows, sizeof *w->f);
	w->df = xcalloc(n + 1, sizeof *w->df);
	if (H == 0)
		return;
	w->z1 = xcalloc(n * H, sizeof *w->z1);
	w->z2 = xcalloc(n * H, sizeof *w->z2);
	w->a2 = xcalloc(rows * H, sizeof *w->a2);
	w->d2 = xcalloc(n * H, sizeof *w->d2);
	w->d1 = xcalloc(n * H, sizeof *w->d1);
	w->a1p = nn_panels(n, H);
	w->a1tp = nn_panels(H, n);
	w->W2t = xcalloc(H * H, sizeof *w->W2t);
}

static void
nn_work_release(struct nn_work *w)
{
	free(w->z1);
	free(w->z2);
	free(w->a2);
	free(w->d2);
	free(w->d1);
	free(w->a1p);
	free(w->a1tp);
	free(w->W2t);
	free(w->f);
	free(w->df);
}

/*
 * nn_upper() for the items of a fit, from w->z1, with a2 and f into w
 * and a1 packed.  z2 is the first layer's kernel on a1's panels: each
 * sum over the units in their order, as nn_upper() takes it, where a
 * unit at zero adds exactly nothing.
 */
static inline __attribute__((always_inline)) void
nn_upper_many(const struct nn *net, const struct nn_layout *l,
    struct nn_work *w)
{
	const float	*p = net->p;
	size_t		 H = net->hidden, n = w->n, k, i, r;
	double		 acc[8];

	nn_pack(w->a1p, w->z1, n, H, H, 1, 1);
	nn_layer1(w->a1p, n, H, H, p + l->W2, p + l->b2, w->z2);
	for (k = 0; k < n * H; k++)
		w->a2[k] = w->z2[k] > 0 ? w->z2[k] : 0;
	/* Eight items at a time: eight chains of additions, not one. */
	for (k = 0; k < n; k += 8) {
		for (r = 0; r < 8; r++)
			acc[r] = p[l->b3];
		for (i = 0; i < H; i++)
			for (r = 0; r < 8; r++)
				acc[r] += (double)p[l->w3 + i] *
				    w->a2[(k + r) * H + i];
		for (r = 0; r < 8 && k + r < n; r++)
			w->f[k + r] = acc[r];
	}
}

double
nn_forward(const struct nn *net, const float *x)
{
	double	out;

	nn_forward_many(net, x, 1, &out);
	return out;
}

/* The first layer of n rows of x into z1 (n x H). */
static void
nn_first(const struct nn *net, const float *x, size_t n, float *z1)
{
	float	*pk;

	pk = nn_panels(n, net->in);
	nn_pack(pk, x, n, net->in, net->in, 1, 0);
	nn_layer1(pk, n, net->in, net->hidden, net->p, net->p +
	    net->in * net->hidden, z1);
	free(pk);
}

/*
 * nn_forward_many() and nn_grad() take the layers above the first item
 * by item (nn_upper, compiled for the baseline): the floats that the
 * selection rules have always seen.  Only the fit's copy of it is in
 * the kernels' clones, which fuse multiply-adds.
 */
void
nn_forward_many(const struct nn *net, const float *x, size_t n, double *out)
{
	struct nn_layout	 l;
	float			*z1, a1[NN_MAX_HIDDEN], z2[NN_MAX_HIDDEN];
	float			 a2[NN_MAX_HIDDEN];
	size_t			 H = net->hidden, k;

	if (H == 0) {
		for (k = 0; k < n; k++)
			out[k] = nn_dotf(net->p, x + k * net->in, net->in);
		return;
	}
	nn_layout(net->in, H, &l);
	z1 = xcalloc(n * H, sizeof *z1);
	nn_first(net, x, n, z1);
	for (k = 0; k < n; k++)
		out[k] = nn_upper(net, &l, z1 + k * H, a1, z2, a2);
	free(z1);
}

double
nn_grad(const struct nn *net, const float *x, float *g)
{
	struct nn_layout	 l;
	const float		*p = net->p;
	float			 z1[NN_MAX_HIDDEN], a1[NN_MAX_HIDDEN];
	float			 z2[NN_MAX_HIDDEN], a2[NN_MAX_HIDDEN];
	float			 d1[NN_MAX_HIDDEN], d2[NN_MAX_HIDDEN];
	size_t			 H = net->hidden, i, j, d;
	double			 f;

	if (H == 0) {
		memcpy(g, x, net->in * sizeof *g);
		return nn_dotf(p, x, net->in);
	}
	nn_layout(net->in, H, &l);
	nn_first(net, x, 1, z1);
	f = nn_upper(net, &l, z1, a1, z2, a2);
	g[l.b3] = 1;
	for (j = 0; j < H; j++) {
		g[l.w3 + j] = a2[j];
		d2[j] = z2[j] > 0 ? p[l.w3 + j] : 0;
		g[l.b2 + j] = d2[j];
	}
	for (i = 0; i < H; i++) {
		d1[i] = 0;
		for (j = 0; j < H; j++) {
			g[l.W2 + i * H + j] = a1[i] * d2[j];
			d1[i] += p[l.W2 + i * H + j] * d2[j];
		}
		if (z1[i] <= 0)
			d1[i] = 0;
		g[l.b1 + i] = d1[i];
	}
	for (d = 0; d < net->in; d++)
		for (i = 0; i < H; i++)
			g[l.W1 + d * H + i] = x[d] * d1[i];
	return f;
}

void
nn_opts_default(struct nn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->steps = 1000;
	o->lr = 1e-3;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-8;
	o->batch = 32;
}

/*
 * Adam, one loop over the parameters that the compiler vectorizes as
 * wide as each clone allows, sqrtf included: this file is compiled
 * with -fno-math-errno (Makefile.am), which an optimize pragma cannot
 * give a builtin.  Every lane computes what the scalar code would.
 */
NN_KERNEL void
nn_adam(float *p, const float *g, float *m, float *v, size_t n, unsigned t,
    const struct nn_opts *o)
{
	float	b1 = (float)o->beta1, b2 = (float)o->beta2;
	float	wd = (float)o->weight_decay, eps = (float)o->eps;
	float	step, bc2, gi;
	size_t	i;

	step = (float)(o->lr / (1 - pow(o->beta1, t)));
	bc2 = (float)sqrt(1 - pow(o->beta2, t));
	for (i = 0; i < n; i++) {
		gi = g[i] + wd * p[i];
		m[i] += (1 - b1) * (gi - m[i]);
		v[i] = b2 * v[i] + (1 - b2) * gi * gi;
		p[i] -= step * m[i] / (sqrtf(v[i]) / bc2 + eps);
	}
}

/*
 * A training problem: the distinct items of a set of duels (x, as
 * panels and as its transpose's panels for the MLP), the duels in terms
 * of them, and the work space of a step.  The inputs do not change from
 * step to step, so they are packed once per fit.
 */
struct nn_prob {
	size_t		 m;
	size_t		 in;
	float		*x;	/* m x in */
	float		*xp;	/* panels of x */
	float		*xtp;	/* panels of x transposed (in x m) */
	size_t		 nd;
	uint32_t	*a;
	uint32_t	*b;
	float		*y;
	struct nn_work	 w;
};

static void
nn_prob_init(struct nn_prob *pr, const struct nn_data *data, size_t from,
    size_t to, size_t H)
{
	uint32_t	*map;
	size_t		 i, k, item;

	memset(pr, 0, sizeof *pr);
	pr->in = data->dim;
	pr->nd = to - from;
	pr->a = xcalloc(pr->nd, sizeof *pr->a);
	pr->b = xcalloc(pr->nd, sizeof *pr->b);
	pr->y = xcalloc(pr->nd, sizeof *pr->y);
	map = xcalloc(data->nitems, sizeof *map);
	for (i = 0; i < data->nitems; i++)
		map[i] = UINT32_MAX;
	pr->x = xcalloc(2 * pr->nd * pr->in, sizeof *pr->x);
	for (i = 0; i < pr->nd; i++) {
		for (k = 0; k < 2; k++) {
			item = k == 0 ? data->a[from + i] : data->b[from + i];
			if (map[item] == UINT32_MAX) {
				map[item] = (uint32_t)pr->m;
				memcpy(pr->x + pr->m * pr->in,
				    data->x + item * pr->in,
				    pr->in * sizeof *pr->x);
				pr->m++;
			}
			if (k == 0)
				pr->a[i] = map[item];
			else
				pr->b[i] = map[item];
		}
		pr->y[i] = data->y[from + i];
	}
	free(map);
	if (H > 0) {
		pr->xp = nn_panels(pr->m, pr->in);
		nn_pack(pr->xp, pr->x, pr->m, pr->in, pr->in, 1, 0);
		pr->xtp = nn_panels(pr->in, pr->m);
		nn_pack(pr->xtp, pr->x, pr->in, pr->m, 1, pr->in, 0);
	}
	nn_work_init(&pr->w, pr->m, H);
}

static void
nn_prob_release(struct nn_prob *pr)
{
	free(pr->x);
	free(pr->xp);
	free(pr->xtp);
	free(pr->a);
	free(pr->b);
	free(pr->y);
	nn_work_release(&pr->w);
}

/*
 * dL/dz1 of eight units before the ReLU, W2[i] . d2 for each, summed as
 * the item-by-item code took it: eight partial sums, partial sum q over
 * the columns c = q mod 8 in their order, then added up from the first.
 * Here the eight units are the lanes (W2 transposed from Wt, rows H
 * apart) and the partial sums are eight registers.
 */
static inline __attribute__((always_inline)) void
nn_d1(const float *Wt, size_t H, const float *d2, float *d1)
{
	v8	acc[8], w, s;
	size_t	c, q;

	memset(acc, 0, sizeof acc);
	for (c = 0; c < H; c += 8) {
#pragma GCC unroll 8
		for (q = 0; q < 8; q++) {
			V_LOAD(w, Wt + (c + q) * H);
			acc[q] += d2[c + q] * w;
		}
	}
	memset(&s, 0, sizeof s);
#pragma GCC unroll 8
	for (q = 0; q < 8; q++)
		s += acc[q];
	V_STORE(d1, s);
}

/*
 * The gradient through the layers above the first, from dL/df of every
 * item (w->df), into g (its entries from b1 on, set): item by item
 * the biases' and w3's, dL/dz2 (d2) and dL/dz1 (d1, nn_d1); then W2's,
 * sum_k a1[k] d2[k]', with the first layer's kernel on a1's transpose.
 * Each entry of g is summed in the order of the items.
 */
static inline __attribute__((always_inline)) void
nn_upper_grad(const struct nn *net, const struct nn_layout *l,
    struct nn_work *w, float *g)
{
	const float	*p = net->p, *a2, *z2, *z1;
	float		 df, *d1, *d2, gb3 = 0;
	float		 gb1[NN_MAX_HIDDEN], gb2[NN_MAX_HIDDEN];
	float		 gw3[NN_MAX_HIDDEN];
	size_t		 H = net->hidden, i, j, k;

	for (i = 0; i < H; i++)
		for (j = 0; j < H; j++)
			w->W2t[j * H + i] = p[l->W2 + i * H + j];
	/* Sums of the items in arrays of their own, which nothing aliases. */
	memset(gb1, 0, sizeof gb1);
	memset(gb2, 0, sizeof gb2);
	memset(gw3, 0, sizeof gw3);
	for (k = 0; k < w->n; k++) {
		df = w->df[k];
		a2 = w->a2 + k * H;
		z2 = w->z2 + k * H;
		z1 = w->z1 + k * H;
		d2 = w->d2 + k * H;
		d1 = w->d1 + k * H;
		gb3 += df;
		for (j = 0; j < H; j++) {
			gw3[j] += df * a2[j];
			d2[j] = z2[j] > 0 ? df * p[l->w3 + j] : 0;
			gb2[j] += d2[j];
		}
		for (i = 0; i < H; i += 8)
			nn_d1(w->W2t + i, H, d2, d1 + i);
		for (i = 0; i < H; i++) {
			d1[i] = z1[i] <= 0 ? 0 : d1[i];
			gb1[i] += d1[i];
		}
	}
	memcpy(g + l->b1, gb1, H * sizeof *g);
	memcpy(g + l->b2, gb2, H * sizeof *g);
	memcpy(g + l->w3, gw3, H * sizeof *g);
	g[l->b3] = gb3;
	nn_pack(w->a1tp, w->z1, H, w->n, 1, H, 1);
	nn_layer1(w->a1tp, H, w->n, H, w->d2, NULL, g + l->W2);
}

/*
 * The loss of the problem at net and its gradient into g (nparams, set
 * not added).  With prior, adds lambda |p - prior|^2 and its gradient.
 */
NN_KERNEL static double
nn_loss_grad(const struct nn *net, struct nn_prob *pr, float *g,
    const struct nn *prior, double lambda)
{
	struct nn_layout	 l;
	struct nn_work		*w = &pr->w;
	const float		*p = net->p;
	size_t			 H = net->hidden, m = pr->m, i, k;
	double			 loss = 0, z, s, pen = 0;
	float			 dz;

	nn_layout(net->in, H, &l);
	if (H == 0) {
		for (k = 0; k < m; k++)
			w->f[k] = nn_dotf(p, pr->x + k * pr->in, pr->in);
	} else {
		nn_layer1(pr->xp, m, pr->in, H, p + l.W1, p + l.b1, w->z1);
		nn_upper_many(net, &l, w);
	}
	/* Binary cross-entropy with logits z = f(a) - f(b), averaged. */
	for (k = 0; k < m; k++)
		w->df[k] = 0;
	for (i = 0; i < pr->nd; i++) {
		z = w->f[pr->a[i]] - w->f[pr->b[i]];
		loss += (z > 0 ? z : 0) - pr->y[i] * z + log1p(exp(-fabs(z)));
		s = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
		dz = (float)((s - pr->y[i]) / (double)pr->nd);
		w->df[pr->a[i]] += dz;
		w->df[pr->b[i]] -= dz;
	}
	loss /= (double)pr->nd;

	if (H == 0) {
		memset(g, 0, net->nparams * sizeof *g);
		for (k = 0; k < m; k++)
			if (w->df[k] != 0)
				nn_axpy(g, w->df[k], pr->x + k * pr->in,
				    pr->in);
	} else {
		nn_upper_grad(net, &l, w, g);
		nn_layer1(pr->xtp, pr->in, m, H, w->d1, NULL, g + l.W1);
	}
	if (prior != NULL && lambda > 0) {
		for (i = 0; i < net->nparams; i++) {
			z = (double)p[i] - prior->p[i];
			pen += z * z;
			g[i] += (float)(2 * lambda * z);
		}
		loss += lambda * pen;
	}
	return loss;
}

double
nn_fit(struct nn *net, const struct nn_data *data, const struct nn_opts *o)
{
	struct nn_prob	 pr;
	float		*g, *m, *v;
	double		 loss = NAN;
	unsigned	 t;

	if (data->nduels == 0)
		return NAN;
	nn_prob_init(&pr, data, 0, data->nduels, net->hidden);
	g = xcalloc(net->nparams, sizeof *g);
	m = xcalloc(net->nparams, sizeof *m);
	v = xcalloc(net->nparams, sizeof *v);
	for (t = 1; t <= o->steps; t++) {
		loss = nn_loss_grad(net, &pr, g, NULL, 0);
		nn_adam(net->p, g, m, v, net->nparams, t, o);
	}
	free(g);
	free(m);
	free(v);
	nn_prob_release(&pr);
	return loss;
}

double
nn_fit_ensemble(struct nn *const *nets, size_t k, const struct nn *prior,
    const struct nn_data *data, const struct nn_opts *o)
{
	struct nn_prob	*pr;
	struct rng	 rng;
	struct nn_opts	 ao = *o;
	float		*g, **m, **v;
	unsigned	*t, step;
	size_t		 nb, i, e, n = data->nduels, P = nets[0]->nparams;
	double		 lambda, loss = NAN;

	if (n == 0 || k == 0)
		return NAN;
	ao.weight_decay = 0;
	nb = n < o->batch || o->batch == 0 ? 1 : n / o->batch;
	lambda = n < o->batch || o->batch == 0 ? o->prior_l2 :
	    o->prior_l2 * o->batch / (double)n;
	pr = xcalloc(nb, sizeof *pr);
	for (i = 0; i < nb; i++)
		nn_prob_init(&pr[i], data, nb == 1 ? 0 : i * o->batch,
		    i + 1 == nb ? n : (i + 1) * o->batch, nets[0]->hidden);
	g = xcalloc(P, sizeof *g);
	m = xcalloc(k, sizeof *m);
	v = xcalloc(k, sizeof *v);
	t = xcalloc(k, sizeof *t);
	for (e = 0; e < k; e++) {
		m[e] = xcalloc(P, sizeof **m);
		v[e] = xcalloc(P, sizeof **v);
	}
	rng_seed(&rng, o->seed, n);
	for (step = 0; step < o->steps; step++) {
		for (i = 0; i < nb; i++) {
			e = rng_below(&rng, (uint32_t)k);
			loss = nn_loss_grad(nets[e], &pr[i], g, prior, lambda);
			nn_adam(nets[e]->p, g, m[e], v[e], P, ++t[e], &ao);
		}
	}
	for (e = 0; e < k; e++) {
		free(m[e]);
		free(v[e]);
	}
	for (i = 0; i < nb; i++)
		nn_prob_release(&pr[i]);
	free(pr);
	free(g);
	free(m);
	free(v);
	free(t);
	return loss;
}

struct nn_fit {
	pthread_t	 thread;
	struct nn	**nets;
	size_t		 k;
	struct nn	*prior;
	struct nn_opts	 opts;
	struct nn_data	 data;
	float		*x;
	uint32_t	*a;
	uint32_t	*b;
	float		*y;
	double		 loss;
	atomic_int	 done;
	int		 pipe[2];
};

static void *
nn_fit_main(void *arg)
{
	struct nn_fit	*fit = arg;
	char		 c = 1;
	ssize_t		 n;

	if (fit->prior == NULL)
		fit->loss = nn_fit(fit->nets[0], &fit->data, &fit->opts);
	else
		fit->loss = nn_fit_ensemble(fit->nets, fit->k, fit->prior,
		    &fit->data, &fit->opts);
	atomic_store(&fit->done, 1);
	do
		n = write(fit->pipe[1], &c, 1);
	while (n == -1 && errno == EINTR);
	return NULL;
}

struct nn_fit *
nn_fit_start(struct nn *const *nets, size_t k, const struct nn *prior,
    const struct nn_data *data, const struct nn_opts *o, char **cause)
{
	struct nn_fit	*fit;
	size_t		 i;
	int		 rc;

	if (k == 0 || (prior == NULL && k != 1)) {
		cause_set(cause, "network fit: %zu networks without a prior",
		    k);
		return NULL;
	}
	fit = xcalloc(1, sizeof *fit);
	fit->k = k;
	fit->nets = xcalloc(k, sizeof *fit->nets);
	for (i = 0; i < k; i++)
		fit->nets[i] = nn_copy(nets[i]);
	fit->prior = prior != NULL ? nn_copy(prior) : NULL;
	fit->opts = *o;
	fit->data = *data;
	fit->x = xcalloc(data->nitems * data->dim + 1, sizeof *fit->x);
	memcpy(fit->x, data->x, data->nitems * data->dim * sizeof *fit->x);
	fit->a = xcalloc(data->nduels + 1, sizeof *fit->a);
	fit->b = xcalloc(data->nduels + 1, sizeof *fit->b);
	fit->y = xcalloc(data->nduels + 1, sizeof *fit->y);
	memcpy(fit->a, data->a, data->nduels * sizeof *fit->a);
	memcpy(fit->b, data->b, data->nduels * sizeof *fit->b);
	memcpy(fit->y, data->y, data->nduels * sizeof *fit->y);
	fit->data.x = fit->x;
	fit->data.a = fit->a;
	fit->data.b = fit->b;
	fit->data.y = fit->y;
	atomic_init(&fit->done, 0);
	fit->pipe[0] = fit->pipe[1] = -1;
	if (pipe2(fit->pipe, O_CLOEXEC) == -1) {
		cause_set(cause, "network fit: pipe: %s", strerror(errno));
		goto fail;
	}
	if ((rc = pthread_create(&fit->thread, NULL, nn_fit_main,
	    fit)) != 0) {
		cause_set(cause, "network fit: cannot start a thread: %s",
		    strerror(rc));
		goto fail;
	}
	return fit;

fail:
	if (fit->pipe[0] != -1)
		close(fit->pipe[0]);
	if (fit->pipe[1] != -1)
		close(fit->pipe[1]);
	for (i = 0; i < k; i++)
		nn_free(fit->nets[i]);
	free(fit->nets);
	nn_free(fit->prior);
	free(fit->x);
	free(fit->a);
	free(fit->b);
	free(fit->y);
	free(fit);
	return NULL;
}

int
nn_fit_done(struct nn_fit *fit)
{
	return atomic_load(&fit->done);
}

int
nn_fit_fd(const struct nn_fit *fit)
{
	return fit->pipe[0];
}

double
nn_fit_join(struct nn_fit *fit, struct nn *const *nets, size_t k)
{
	double	loss;
	size_t	i;

	pthread_join(fit->thread, NULL);
	for (i = 0; i < k && i < fit->k; i++)
		memcpy(nets[i]->p, fit->nets[i]->p,
		    nets[i]->nparams * sizeof *nets[i]->p);
	loss = fit->loss;
	close(fit->pipe[0]);
	close(fit->pipe[1]);
	for (i = 0; i < fit->k; i++)
		nn_free(fit->nets[i]);
	free(fit->nets);
	nn_free(fit->prior);
	free(fit->x);
	free(fit->a);
	free(fit->b);
	free(fit->y);
	free(fit);
	return loss;
}
