/* The ReL-PSP backward rows (relpsp.h) in plain C, AVX2 and AVX-512
 * (relpsp_isa.h). Every build does the same IEEE operations per lane in
 * the same order, and sums an event's dL/dt over the neurons in the same
 * order (four partial sums, lane j into sum j % 4, blocks of four in
 * turn, the tail into sum 0): the results are bitwise the same. */
#include <math.h>

#include "core/grad_fixed.h"
#include "core/relpsp.h"
#include "core/relpsp_isa.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

#if defined(__GNUC__)
#define STDBP_NOINLINE __attribute__((__noinline__))
#define STDBP_INLINE inline __attribute__((__always_inline__))
#else
#define STDBP_NOINLINE
#define STDBP_INLINE inline
#endif

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

/* The rows as functions with restrict parameters (gcc vectorises the
 * loops only then), once for the baseline and once for AVX2: the same C,
 * compiled for 4-lane vectors. */
#define BWD_ROWS(SUF, ATTR)                                                                        \
    ATTR STDBP_NOINLINE static double bwd_row_acc##SUF(                                            \
        size_t m, double pd, double tp, const double *restrict wr, const stdbp_relpsp_grad *gr,    \
        double *restrict d)                                                                        \
    {                                                                                              \
        return bwd_row(m, pd, tp, wr, gr, d, NULL, BWD_ACC, 1, NULL);                              \
    }                                                                                              \
    ATTR STDBP_NOINLINE static double bwd_row_fixed_fast##SUF(                                     \
        size_t m, double pd, double tp, const double *restrict wr, const stdbp_relpsp_grad *gr,    \
        int64_t *restrict q)                                                                       \
    {                                                                                              \
        return bwd_row(m, pd, tp, wr, gr, NULL, q, BWD_FAST, 1, NULL);                             \
    }                                                                                              \
    ATTR STDBP_NOINLINE static void bwd_row_fixed_dw_fast##SUF(                                    \
        size_t m, double pd, double tp, const stdbp_relpsp_grad *gr, int64_t *restrict q,          \
        const int64_t *next)                                                                       \
    {                                                                                              \
        (void)next;                                                                                \
        bwd_row(m, pd, tp, NULL, gr, NULL, q, BWD_FAST, 0, NULL);                                  \
    }

BWD_ROWS(_generic, )
#ifdef STDBP_X86_SIMD
BWD_ROWS(_avx2, STDBP_TARGET("avx2"))
#endif

/* The clamped rows (|dW| may leave the fixed-point range, or be NaN):
 * rare, plain C only. */
STDBP_NOINLINE static double bwd_row_fixed(size_t m, double pd, double tp,
                                           const double *restrict wr, const stdbp_relpsp_grad *gr,
                                           int64_t *restrict q, double *chk)
{
    return bwd_row(m, pd, tp, wr, gr, NULL, q, BWD_FIXED, 1, chk);
}

STDBP_NOINLINE static void bwd_row_fixed_dw(size_t m, double pd, double tp,
                                            const stdbp_relpsp_grad *gr, int64_t *restrict q,
                                            double *chk)
{
    bwd_row(m, pd, tp, NULL, gr, NULL, q, BWD_FIXED, 0, chk);
}

#ifdef STDBP_X86_SIMD
/* AVX-512: 8 lanes per step. The dL/dt products of a step are two blocks
 * of four, added to the four partial sums one block after the other, as
 * the 4-lane builds do; past the last full step, one 4-lane block and the
 * tail in plain C keep that order too. mode is BWD_ACC or BWD_FAST. */
/* One lane in plain C, for the AVX-512 rows' last lanes (BWD_ACC or
 * BWD_FAST): the same operations as BWD_LANE. */
static inline void bwd_lane(size_t j, size_t k, double pd, double tp, const double *wr,
                            const stdbp_relpsp_grad *gr, double *d, int64_t *q, int mode,
                            int want_dt, double *a)
{
    const double gk = pd < gr->nc[j] ? gr->g[j] : 0.0;
    const double dw = gk * (tp - gr->te[j]);
    if (mode == BWD_ACC) {
        d[j] += dw;
    } else {
        const int64_t x = stdbp_fixed_unbias(dw * STDBP_FIXED_SCALE + STDBP_FIXED_MAGIC);
        q[j] = (int64_t)((uint64_t)q[j] + (uint64_t)x);
    }
    if (want_dt)
        a[k] += gk * wr[j];
}

STDBP_TARGET("avx512f")
static STDBP_INLINE double bwd_row512(size_t m, double pd, double tp, const double *restrict wr,
                                      const stdbp_relpsp_grad *gr, double *restrict d,
                                      int64_t *restrict q, const int64_t *next, int mode,
                                      int want_dt)
{
    const double *restrict g = gr->g, *restrict te = gr->te, *restrict nc = gr->nc;
    const __m512d vpd = _mm512_set1_pd(pd), vtp = _mm512_set1_pd(tp);
    const __m512d scale = _mm512_set1_pd(STDBP_FIXED_SCALE);
    const __m512d magic = _mm512_set1_pd(STDBP_FIXED_MAGIC);
    const __m512i magic_bits = _mm512_set1_epi64((long long)STDBP_FIXED_MAGIC_BITS);
    __m256d a4 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 8 <= m; j += 8) {
        if (next) /* the next event's row, a line per step */
            _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
        const __mmask8 causal = _mm512_cmp_pd_mask(vpd, _mm512_loadu_pd(nc + j), _CMP_LT_OQ);
        const __m512d gk = _mm512_maskz_mov_pd(causal, _mm512_loadu_pd(g + j));
        const __m512d dw = _mm512_mul_pd(gk, _mm512_sub_pd(vtp, _mm512_loadu_pd(te + j)));
        if (mode == BWD_ACC) {
            _mm512_storeu_pd(d + j, _mm512_add_pd(_mm512_loadu_pd(d + j), dw));
        } else {
            const __m512i x = _mm512_sub_epi64(
                _mm512_castpd_si512(_mm512_add_pd(_mm512_mul_pd(dw, scale), magic)), magic_bits);
            _mm512_storeu_si512(q + j, _mm512_add_epi64(_mm512_loadu_si512(q + j), x));
        }
        if (want_dt) {
            const __m512d prod = _mm512_mul_pd(gk, _mm512_loadu_pd(wr + j));
            a4 = _mm256_add_pd(a4, _mm512_castpd512_pd256(prod));
            a4 = _mm256_add_pd(a4, _mm512_extractf64x4_pd(prod, 1));
        }
    }
    double a[4];
    _mm256_storeu_pd(a, a4);
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++)
            bwd_lane(j + k, k, pd, tp, wr, gr, d, q, mode, want_dt, a);
    for (; j < m; j++)
        bwd_lane(j, 0, pd, tp, wr, gr, d, q, mode, want_dt, a);
    return (a[0] + a[1]) + (a[2] + a[3]);
}

STDBP_TARGET("avx512f")
STDBP_NOINLINE static double bwd_row_acc_avx512(size_t m, double pd, double tp,
                                                const double *restrict wr,
                                                const stdbp_relpsp_grad *gr, double *restrict d)
{
    return bwd_row512(m, pd, tp, wr, gr, d, NULL, NULL, BWD_ACC, 1);
}

STDBP_TARGET("avx512f")
STDBP_NOINLINE static double bwd_row_fixed_fast_avx512(size_t m, double pd, double tp,
                                                       const double *restrict wr,
                                                       const stdbp_relpsp_grad *gr,
                                                       int64_t *restrict q)
{
    return bwd_row512(m, pd, tp, wr, gr, NULL, q, NULL, BWD_FAST, 1);
}

STDBP_TARGET("avx512f")
STDBP_NOINLINE static void bwd_row_fixed_dw_fast_avx512(size_t m, double pd, double tp,
                                                        const stdbp_relpsp_grad *gr,
                                                        int64_t *restrict q, const int64_t *next)
{
    bwd_row512(m, pd, tp, NULL, gr, NULL, q, next, BWD_FAST, 0);
}
#endif

#ifdef STDBP_X86_SIMD
/* Layers of at most 64 neurons (conv channels, output layers): the whole
 * event loop in one function, g, t_j and the causal counts in registers
 * (a call per event would cost more than its few vectors). NV vectors of
 * 8 lanes, the last masked; the dL/dt sums keep the 4-lane order
 * (bwd_row512). mode BWD_ACC adds dW to dw in double (conv), BWD_FAST
 * rounds it into the fixed-point rows q (dense, |dW| known to be in
 * range), with the operations of bwd_row512. */
#define SMALL_MAX 64

STDBP_TARGET("avx512f")
static inline __attribute__((__always_inline__)) void
bwd_small512(const stdbp_events *ev, size_t n, const double *w, size_t m,
             const stdbp_relpsp_grad *gr, double *dw, int64_t *q, double *dt_ev, const int NV,
             const int mode)
{
    const __m512d scale = _mm512_set1_pd(STDBP_FIXED_SCALE);
    const __m512d magic = _mm512_set1_pd(STDBP_FIXED_MAGIC);
    const __m512i magic_bits = _mm512_set1_epi64((long long)STDBP_FIXED_MAGIC_BITS);
    __m512d vg[8], vte[8], vnc[8];
    __mmask8 live[8];
    STDBP_FOR_V(NV, {
        const size_t left = m - 8 * (size_t)v;
        live[v] = left >= 8 ? (__mmask8)0xff : (__mmask8)((1u << left) - 1);
        vg[v] = _mm512_maskz_loadu_pd(live[v], gr->g + 8 * v);
        vte[v] = _mm512_maskz_loadu_pd(live[v], gr->te + 8 * v);
        vnc[v] = _mm512_maskz_loadu_pd(live[v], gr->nc + 8 * v);
    });
    for (size_t p = 0; p < n; p++) {
        const size_t off = (size_t)ev->row[p] * m;
        const double *wr = w + off;
        const __m512d vpd = _mm512_set1_pd((double)p), vtp = _mm512_set1_pd(ev->t[p]);
        __m256d a4 = _mm256_setzero_pd();
        STDBP_FOR_V(NV, {
            const __mmask8 causal = _mm512_mask_cmp_pd_mask(live[v], vpd, vnc[v], _CMP_LT_OQ);
            const __m512d gk = _mm512_maskz_mov_pd(causal, vg[v]);
            const __m512d dwv = _mm512_mul_pd(gk, _mm512_sub_pd(vtp, vte[v]));
            if (mode == BWD_ACC) {
                double *d = dw + off + 8 * v;
                _mm512_mask_storeu_pd(d, live[v],
                                      _mm512_add_pd(_mm512_maskz_loadu_pd(live[v], d), dwv));
            } else {
                int64_t *qv = q + off + 8 * v;
                const __m512i x = _mm512_sub_epi64(
                    _mm512_castpd_si512(_mm512_add_pd(_mm512_mul_pd(dwv, scale), magic)),
                    magic_bits);
                _mm512_mask_storeu_epi64(
                    qv, live[v], _mm512_add_epi64(_mm512_maskz_loadu_epi64(live[v], qv), x));
            }
            const __m512d prod = _mm512_mul_pd(gk, _mm512_maskz_loadu_pd(live[v], wr + 8 * v));
            const size_t left = m - 8 * (size_t)v;
            if (left >= 8) {
                a4 = _mm256_add_pd(a4, _mm512_castpd512_pd256(prod));
                a4 = _mm256_add_pd(a4, _mm512_extractf64x4_pd(prod, 1));
            } else { /* the 4-lane order: a block of 4 if there is one, then
                        the tail into sum 0 */
                double x[8];
                _mm512_storeu_pd(x, prod);
                size_t j = 0;
                if (left >= 4) {
                    a4 = _mm256_add_pd(a4, _mm512_castpd512_pd256(prod));
                    j = 4;
                }
                double a0 = _mm256_cvtsd_f64(a4);
                for (; j < left; j++)
                    a0 += x[j];
                a4 = _mm256_blend_pd(a4, _mm256_set1_pd(a0), 1);
            }
        });
        double a[4];
        _mm256_storeu_pd(a, a4);
        dt_ev[p] = (a[0] + a[1]) + (a[2] + a[3]);
    }
}

/* dw given: BWD_ACC into it (conv); NULL: BWD_FAST into q (dense). */
STDBP_TARGET("avx512f")
static void bwd_small512_any(const stdbp_events *ev, size_t n, const double *w, size_t m,
                             const stdbp_relpsp_grad *gr, double *dw, int64_t *q, double *dt_ev)
{
    const size_t nv = (m + 7) / 8;
#define BWD_SMALL_NV(NV)                                                                           \
    do {                                                                                           \
        if (dw)                                                                                    \
            bwd_small512(ev, n, w, m, gr, dw, NULL, dt_ev, NV, BWD_ACC);                           \
        else                                                                                       \
            bwd_small512(ev, n, w, m, gr, NULL, q, dt_ev, NV, BWD_FAST);                           \
    } while (0)
    switch (nv) {
    case 1:
        BWD_SMALL_NV(1);
        break;
    case 2:
        BWD_SMALL_NV(2);
        break;
    case 3:
        BWD_SMALL_NV(3);
        break;
    case 4:
        BWD_SMALL_NV(4);
        break;
    case 5:
        BWD_SMALL_NV(5);
        break;
    case 6:
        BWD_SMALL_NV(6);
        break;
    case 7:
        BWD_SMALL_NV(7);
        break;
    default:
        BWD_SMALL_NV(8);
        break;
    }
#undef BWD_SMALL_NV
}
#endif

/* The row functions of one build. */
typedef struct bwd_rows {
    double (*acc)(size_t, double, double, const double *, const stdbp_relpsp_grad *, double *);
    double (*fixed_fast)(size_t, double, double, const double *, const stdbp_relpsp_grad *,
                         int64_t *);
    void (*dw_fast)(size_t, double, double, const stdbp_relpsp_grad *, int64_t *,
                    const int64_t *next);
} bwd_rows;

static bwd_rows rows_for(stdbp_isa isa)
{
#ifdef STDBP_X86_SIMD
    if (isa == STDBP_ISA_AVX512)
        return (bwd_rows){bwd_row_acc_avx512, bwd_row_fixed_fast_avx512,
                          bwd_row_fixed_dw_fast_avx512};
    if (isa == STDBP_ISA_AVX2)
        return (bwd_rows){bwd_row_acc_avx2, bwd_row_fixed_fast_avx2, bwd_row_fixed_dw_fast_avx2};
#else
    (void)isa;
#endif
    return (bwd_rows){bwd_row_acc_generic, bwd_row_fixed_fast_generic,
                      bwd_row_fixed_dw_fast_generic};
}

void stdbp_relpsp_backward_acc(const stdbp_events *ev, size_t n, const double *w, size_t m,
                               const stdbp_relpsp_grad *gr, double *dw, double *dt_ev)
{
    const stdbp_isa isa = stdbp_relpsp_isa();
#ifdef STDBP_X86_SIMD
    if (isa == STDBP_ISA_AVX512 && m <= SMALL_MAX) {
        bwd_small512_any(ev, n, w, m, gr, dw, NULL, dt_ev);
        return;
    }
#endif
    const bwd_rows rows = rows_for(isa);
    for (size_t p = 0; p < n; p++) {
        const size_t off = (size_t)ev->row[p] * m;
        dt_ev[p] = rows.acc(m, (double)p, ev->t[p], w + off, gr, dw + off);
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
    const stdbp_isa isa = stdbp_relpsp_isa();
    const bwd_rows rows = rows_for(isa);
    const int fast = gr->g_max * (tp_max + gr->te_max) <= 0.5 * STDBP_GRAD_FIXED_LIMIT;
#ifdef STDBP_X86_SIMD
    if (isa == STDBP_ISA_AVX512 && m <= SMALL_MAX && fast && dt_ev) {
        bwd_small512_any(ev, n, w, m, gr, NULL, acc, dt_ev);
        for (size_t p = 0; p < n; p++)
            chk += dt_ev[p] * 0.0;
        return !(chk == 0.0);
    }
#endif
    for (size_t p = 0; p < n; p++) {
        const size_t off = (size_t)ev->row[p] * m;
        const double pd = (double)p, tp = ev->t[p];
        if (dt_ev) {
            dt_ev[p] = fast ? rows.fixed_fast(m, pd, tp, w + off, gr, acc + off)
                            : bwd_row_fixed(m, pd, tp, w + off, gr, acc + off, &chk);
            chk += dt_ev[p] * 0.0;
        } else if (fast) {
            rows.dw_fast(m, pd, tp, gr, acc + off,
                         acc + (size_t)ev->row[p + 1 < n ? p + 1 : p] * m);
        } else {
            bwd_row_fixed_dw(m, pd, tp, gr, acc + off, &chk);
        }
    }
    return !(chk == 0.0);
}
