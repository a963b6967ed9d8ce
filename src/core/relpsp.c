/* The ReL-PSP neuron: reference solver (neuron.h) and the vectorised
 * kernels over many neurons (relpsp.h). */
#include "core/relpsp.h"

#include <float.h>
#include <math.h>

#include "core/grad_fixed.h"
#include "stdbp/neuron.h"

/* What a candidate c = (theta + R) / S may not pass: the next input's
 * time, the window and DBL_MAX (a c that overflowed does not fire). The
 * test c <= lim is made as theta + R <= lim * S (S > 0): no division in
 * the kernel's inner loop, and the reference makes the same test so that
 * both take the same decisions to the last bit. */
static inline double fire_limit(double next, double t_max)
{
    const double a = next < t_max ? next : t_max;
    return a < DBL_MAX ? a : DBL_MAX;
}

/* The firing time; rounding may put it an ulp past the limit the test
 * passed, and the window is kept exactly. */
static inline double fire_time(double theta, double r, double s, double t_max)
{
    const double c = (theta + r) / s;
    return c < t_max ? c : t_max;
}

stdbp_fire stdbp_relpsp_fire(const double *t_in, const double *w_in, size_t n, double theta,
                             double t_max)
{
    stdbp_fire f = {INFINITY, 0, 0.0};
    double s = 0.0, r = 0.0;
    size_t i = 0;
    /* A group after t_max: any later candidate is later still. */
    while (i < n && t_in[i] < INFINITY && t_in[i] <= t_max) {
        const double tg = t_in[i];
        do {
            s += w_in[i];
            r += w_in[i] * tg;
            i++;
        } while (i < n && t_in[i] == tg);
        const double lim = fire_limit(i < n ? t_in[i] : INFINITY, t_max);
        if (s > 0.0 && theta + r <= lim * s) {
            f.t = fire_time(theta, r, s, t_max);
            f.n_causal = i;
            f.s = s;
            return f;
        }
    }
    return f;
}

/* ---- forward ---------------------------------------------------------- */

/* Every row loop runs in a function whose pointers are restrict
 * parameters (the forward itself, the backward's out-of-line row
 * functions): restrict on local copies is not enough for gcc to prove the
 * rows independent, and -O2 does not version loops for aliasing, so the
 * loops would stay scalar.
 *
 * The kernels are also built for AVX2, picked at load time (an ifunc):
 * a block of 4 lanes is then one vector instead of two. Without -ffast-math
 * (and with -std=c11, so no FMA contraction) both builds do the same IEEE
 * operations in the same order: the results are bitwise the same
 * (bench_core prints a digest to check it; -DSTDBP_NO_CLONES turns the
 * clones off). */
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute) &&                       \
    !defined(STDBP_NO_CLONES)
#if __has_attribute(__target_clones__)
#define STDBP_CLONES __attribute__((__target_clones__("avx2", "default")))
#endif
#endif
#ifndef STDBP_CLONES
#define STDBP_CLONES
#endif

#if defined(__GNUC__)
#define STDBP_NOINLINE __attribute__((__noinline__))
#define STDBP_INLINE inline __attribute__((__always_inline__))
#else
#define STDBP_NOINLINE
#define STDBP_INLINE inline
#endif

/* A neuron's S and R freeze once it has fired (nc > 0), so that at the end
 * S is S_j over the causal set and t_j = (theta + R) / S. Every select
 * tests a loaded or computed value and falls back to a loaded one: a
 * select on another select's result lets gcc thread the conditions into
 * branches, and the loop no longer vectorises. */
static inline void add_lane(size_t j, const double *restrict wr, double t, double *restrict s,
                            double *restrict r, const double *restrict nc)
{
    const double w = wr[j], sj = s[j], rj = r[j], nl = nc[j];
    const double wm = nl == 0.0 ? w : 0.0; /* mask the input, not the sum: */
    s[j] = sj + wm;                        /* a sum inside a select is sunk */
    r[j] = rj + wm * t;                    /* into a branch */
}

static STDBP_INLINE void add_row(size_t m, const double *restrict wr, double t, double *restrict s,
                                 double *restrict r, const double *restrict nc)
{
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++)
            add_lane(j + k, wr, t, s, r, nc);
    for (; j < m; j++)
        add_lane(j, wr, t, s, r, nc);
}

/* add_lane for the last event of a group, then the test: neuron j fires
 * now if it has not yet, S > 0 and c <= lim. Returns q (the causal count)
 * if it fired, else 0. */
static inline double check_lane(size_t j, const double *restrict wr, double t, double theta,
                                double lim, double q, double *restrict s, double *restrict r,
                                double *restrict nc)
{
    const double w = wr[j], sj = s[j], rj = r[j], nl = nc[j];
    const int fresh = nl == 0.0;
    const double wm = fresh ? w : 0.0;
    const double s2 = sj + wm, r2 = rj + wm * t;
    const int pos = s2 > 0.0, ok = theta + r2 <= lim * s2;
    const double n1 = ok ? q : nl, n2 = pos ? n1 : nl, n3 = fresh ? n2 : nl;
    s[j] = s2;
    r[j] = r2;
    nc[j] = n3;
    return n3 - nl;
}

/* Returns how many neurons fired (each adds q to the lane sums). */
static STDBP_INLINE size_t add_check_row(size_t m, const double *restrict wr, double t,
                                         double theta, double lim, double q, double *restrict s,
                                         double *restrict r, double *restrict nc)
{
    double cnt[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++)
            cnt[k] += check_lane(j + k, wr, t, theta, lim, q, s, r, nc);
    for (; j < m; j++)
        cnt[0] += check_lane(j, wr, t, theta, lim, q, s, r, nc);
    return (size_t)((cnt[0] + cnt[1] + cnt[2] + cnt[3]) / q);
}

static inline void finish_lane(size_t j, double theta, double t_max, const double *restrict r,
                               double *restrict t_out, const double *restrict nc,
                               double *restrict s)
{
    const double sj = s[j], nl = nc[j];
    const double t = fire_time(theta, r[j], sj, t_max);
    t_out[j] = nl > 0.0 ? t : INFINITY;
    s[j] = nl > 0.0 ? sj : 0.0;
}

static STDBP_INLINE void finish(size_t m, double theta, double t_max, const double *restrict r,
                                double *restrict t_out, const double *restrict nc,
                                double *restrict s)
{
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++)
            finish_lane(j + k, theta, t_max, r, t_out, nc, s);
    for (; j < m; j++)
        finish_lane(j, theta, t_max, r, t_out, nc, s);
}

/* Static: GCC exports a target_clones function (an ifunc and its
 * resolver) from the shared library whatever its visibility, so the
 * library calls the clones through stdbp_relpsp_forward below. */
static STDBP_CLONES size_t forward_kernel(const stdbp_events *ev, const double *restrict w,
                                          size_t m, double theta, double t_max,
                                          double *restrict acc, double *restrict t_out,
                                          double *restrict nc, double *restrict s)
{
    double *restrict rsum = acc; /* S accumulates in s itself */
    size_t fired = 0, p = 0;
    const size_t n = ev->n;
    for (size_t j = 0; j < m; j++)
        s[j] = rsum[j] = nc[j] = 0.0;
    while (p < n && fired < m && ev->t[p] <= t_max) {
        const double tg = ev->t[p];
        size_t last = p; /* the group is p..last */
        while (last + 1 < n && ev->t[last + 1] == tg)
            last++;
        for (; p <= last; p++) {
            const double *row = w + (size_t)ev->row[p] * m;
            if (p < last) {
                add_row(m, row, tg, s, rsum, nc);
            } else {
                const double lim = fire_limit(p + 1 < n ? ev->t[p + 1] : INFINITY, t_max);
                fired += add_check_row(m, row, tg, theta, lim, (double)(p + 1), s, rsum, nc);
            }
        }
    }
    finish(m, theta, t_max, rsum, t_out, nc, s);
    return p;
}

size_t stdbp_relpsp_forward(const stdbp_events *ev, const double *w, size_t m, double theta,
                            double t_max, double *acc, double *t_out, double *nc, double *s)
{
    return forward_kernel(ev, w, m, theta, t_max, acc, t_out, nc, s);
}

/* ---- backward --------------------------------------------------------- */

static inline double clip(double x, double c)
{
    const double a = x > c ? c : x;
    return a < -c ? -c : a;
}

size_t stdbp_relpsp_grad_prepare(const stdbp_events *ev, const double *w, size_t m,
                                 const double *t_out, const double *nc, const double *s,
                                 const double *dl, int surrogate, const stdbp_neuron_params *np,
                                 double *acc, stdbp_relpsp_grad *gr, int *bad)
{
    int any_sur = 0;
    double n_max = 0.0, chk = 0.0, g_max = 0.0, t_max = 0.0;
    for (size_t j = 0; j < m && surrogate; j++)
        any_sur |= nc[j] == 0.0 && dl[j] != 0.0;
    if (any_sur) { /* S of the surrogate: every fired input counts */
        for (size_t j = 0; j < m; j++)
            acc[j] = 0.0;
        for (size_t p = 0; p < ev->n; p++) {
            const double *wr = w + (size_t)ev->row[p] * m;
            for (size_t j = 0; j < m; j++)
                acc[j] += wr[j];
        }
    }
    const double floor_s = STDBP_SURROGATE_S_FLOOR * np->theta;
    for (size_t j = 0; j < m; j++) {
        double g = 0.0, te = 0.0, c = 0.0;
        if (dl[j] != 0.0 && nc[j] > 0.0) {
            g = clip(dl[j] / s[j], np->grad_clip);
            te = t_out[j];
            c = nc[j];
        } else if (dl[j] != 0.0 && any_sur) {
            g = clip(dl[j] / (acc[j] > floor_s ? acc[j] : floor_s), np->grad_clip);
            te = np->silent_time;
            c = (double)ev->n;
        }
        chk += g * 0.0;
        if (g == 0.0) { /* te stays finite: no lane ever computes 0 * inf */
            c = 0.0;
            te = 0.0;
        }
        gr->g[j] = g;
        gr->te[j] = te;
        gr->nc[j] = c;
        n_max = c > n_max ? c : n_max;
        g_max = fabs(g) > g_max ? fabs(g) : g_max;
        t_max = fabs(te) > t_max ? fabs(te) : t_max;
    }
    if (!(chk == 0.0))
        *bad = 1;
    gr->g_max = g_max;
    gr->te_max = t_max;
    return (size_t)n_max;
}

/* One event (index pd as a double, time tp, weights wr) against the m
 * neurons: dW = g (t_p - t_j) where the event is causal (pd < nc), added
 * to d in double (conv) or rounded to fixed point and added to q (dense);
 * returns dL/dt of the event, sum of g w over the same neurons. Loads
 * come first: a load inside a select is conditional and blocks
 * if-conversion. The mode (a constant in each caller, so the tests
 * fold away and the loop stays branch-free): BWD_ACC adds dW to d;
 * BWD_FIXED rounds into q with the clamp and flags NaN/Inf in *chk;
 * BWD_FAST rounds into q without either, for rows whose |dW| is known to
 * be in range. want_dt 0: no dL/dt, and the weights are not read. */
enum { BWD_ACC, BWD_FIXED, BWD_FAST };

/* The lane is a macro: as an inlined function with restrict parameters
 * gcc no longer tells d apart from g, te, nc and bwd_row_acc stays
 * scalar. */
#define BWD_LANE(J, K)                                                                             \
    do {                                                                                           \
        const double gl = g[J], tl = te[J], nl = nc[J];                                            \
        const double gk = pd < nl ? gl : 0.0;                                                      \
        const double dw = gk * (tp - tl);                                                          \
        if (mode == BWD_ACC) {                                                                     \
            d[J] += dw;                                                                            \
        } else if (mode == BWD_FIXED) {                                                            \
            c[K] += dw * 0.0;                                                                      \
            const int64_t x = stdbp_fixed_unbias(stdbp_fixed_biased(dw));                          \
            q[J] = (int64_t)((uint64_t)q[J] + (uint64_t)x);                                        \
        } else {                                                                                   \
            const int64_t x = stdbp_fixed_unbias(dw * STDBP_FIXED_SCALE + STDBP_FIXED_MAGIC);      \
            q[J] = (int64_t)((uint64_t)q[J] + (uint64_t)x);                                        \
        }                                                                                          \
        if (want_dt)                                                                               \
            a[K] += gk * wr[J];                                                                    \
    } while (0)

static STDBP_INLINE double bwd_row(size_t m, double pd, double tp, const double *restrict wr,
                                   const stdbp_relpsp_grad *gr, double *restrict d,
                                   int64_t *restrict q, int mode, int want_dt, double *chk)
{
    /* restrict copies: gcc only tells restrict pointers apart from each
     * other, and g, te, nc must not alias d */
    const double *restrict g = gr->g, *restrict te = gr->te, *restrict nc = gr->nc;
    double a[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++)
            BWD_LANE(j + k, k);
    for (; j < m; j++)
        BWD_LANE(j, 0);
    if (mode == BWD_FIXED)
        *chk += (c[0] + c[1]) + (c[2] + c[3]);
    return (a[0] + a[1]) + (a[2] + a[3]);
}
#undef BWD_LANE

STDBP_NOINLINE STDBP_CLONES static double bwd_row_acc(size_t m, double pd, double tp,
                                                      const double *restrict wr,
                                                      const stdbp_relpsp_grad *gr,
                                                      double *restrict d)
{
    return bwd_row(m, pd, tp, wr, gr, d, NULL, BWD_ACC, 1, NULL);
}

STDBP_NOINLINE STDBP_CLONES static double bwd_row_fixed(size_t m, double pd, double tp,
                                                        const double *restrict wr,
                                                        const stdbp_relpsp_grad *gr,
                                                        int64_t *restrict q, double *chk)
{
    return bwd_row(m, pd, tp, wr, gr, NULL, q, BWD_FIXED, 1, chk);
}

STDBP_NOINLINE STDBP_CLONES static double bwd_row_fixed_fast(size_t m, double pd, double tp,
                                                             const double *restrict wr,
                                                             const stdbp_relpsp_grad *gr,
                                                             int64_t *restrict q)
{
    return bwd_row(m, pd, tp, wr, gr, NULL, q, BWD_FAST, 1, NULL);
}

STDBP_NOINLINE STDBP_CLONES static void bwd_row_fixed_dw(size_t m, double pd, double tp,
                                                         const stdbp_relpsp_grad *gr,
                                                         int64_t *restrict q, double *chk)
{
    bwd_row(m, pd, tp, NULL, gr, NULL, q, BWD_FIXED, 0, chk);
}

STDBP_NOINLINE STDBP_CLONES static void bwd_row_fixed_dw_fast(size_t m, double pd, double tp,
                                                              const stdbp_relpsp_grad *gr,
                                                              int64_t *restrict q)
{
    bwd_row(m, pd, tp, NULL, gr, NULL, q, BWD_FAST, 0, NULL);
}

void stdbp_relpsp_backward_acc(const stdbp_events *ev, size_t n, const double *w, size_t m,
                               const stdbp_relpsp_grad *gr, double *dw, double *dt_ev)
{
    for (size_t p = 0; p < n; p++) {
        const size_t off = (size_t)ev->row[p] * m;
        dt_ev[p] = bwd_row_acc(m, (double)p, ev->t[p], w + off, gr, dw + off);
    }
}

int stdbp_relpsp_backward_fixed(const stdbp_events *ev, size_t n, const double *w, size_t m,
                                const stdbp_relpsp_grad *gr, int64_t *acc, double *dt_ev)
{
    double chk = 0.0;
    if (n == 0)
        return 0;
    /* |dW| <= g_max (|t_p| + te_max): when that is well inside the
     * fixed-point range (half of it: the bound is itself rounded), no term
     * can need the clamp or be NaN/Inf, and the rows take the short path
     * (same integers: the clamp would not act). */
    const double tp_max = fmax(fabs(ev->t[0]), fabs(ev->t[n - 1]));
    const int fast = gr->g_max * (tp_max + gr->te_max) <= 0.5 * STDBP_GRAD_FIXED_LIMIT;
    for (size_t p = 0; p < n; p++) {
        const size_t off = (size_t)ev->row[p] * m;
        const double pd = (double)p, tp = ev->t[p];
        if (dt_ev) {
            dt_ev[p] = fast ? bwd_row_fixed_fast(m, pd, tp, w + off, gr, acc + off)
                            : bwd_row_fixed(m, pd, tp, w + off, gr, acc + off, &chk);
            chk += dt_ev[p] * 0.0;
        } else if (fast) {
            bwd_row_fixed_dw_fast(m, pd, tp, gr, acc + off);
        } else {
            bwd_row_fixed_dw(m, pd, tp, gr, acc + off, &chk);
        }
    }
    return !(chk == 0.0);
}
