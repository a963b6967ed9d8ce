/* The ReL-PSP forward kernel over m neurons that see one event list
 * (relpsp.h), in plain C, AVX2 and AVX-512 (relpsp_isa.h).
 *
 * Running sums S and R are never masked: each row adds w and w t to
 * every lane. A lane that fires records S, its causal count and its
 * firing time, and its running S becomes -inf so that "S > 0" never
 * holds for it again (-inf + w stays -inf). The vector loop is then a
 * load, two adds, a multiply, a compare and two stores per lane block,
 * with a rare branch to the scalar code that records a firing.
 * Per lane the operations are those of stdbp_relpsp_fire, in the same
 * order: every build gives the reference's bits.
 *
 * FIRE_TEST: the reference fires when S > 0 && theta + R <= lim * S. The
 * kernels test the second half first and the sign of S only for the lanes
 * that pass it, which is rare: theta + R <= lim * S says V(lim) >= theta,
 * and with S <= 0 (V not rising since the last event) that would have
 * fired at an earlier test. One compare fewer per lane block at every
 * group's end; same result, bit for bit. */
#include <math.h>

#include "core/relpsp.h"
#include "core/relpsp_isa.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

/* What one row pass needs; rs, rr: running S and R (m each). */
typedef struct fwd_state {
    size_t m;
    double theta, t_max;
    double *rs, *rr;
    double *t_out, *nc, *s;
} fwd_state;

/* Lane j fired after the event with count q: record it and retire it. */
static inline void fire_lane(const fwd_state *st, size_t j, double q)
{
    const double sj = st->rs[j];
    st->s[j] = sj;
    st->nc[j] = q;
    st->t_out[j] = stdbp_relpsp_fire_time(st->theta, st->rr[j], sj, st->t_max);
    st->rs[j] = -INFINITY;
}

/* One lane in plain C: the add, and (check) the test of a group's end. */
static inline size_t lane_generic(const fwd_state *st, size_t j, double w, double t, int check,
                                  double lim, double q)
{
    const double s2 = st->rs[j] + w, r2 = st->rr[j] + w * t;
    st->rs[j] = s2;
    st->rr[j] = r2;
    if (check && s2 > 0.0 && st->theta + r2 <= lim * s2) {
        fire_lane(st, j, q);
        return 1;
    }
    return 0;
}

static size_t row_generic(const fwd_state *st, size_t j0, const double *wr, double t, int check,
                          double lim, double q)
{
    size_t fired = 0;
    for (size_t j = j0; j < st->m; j++)
        fired += lane_generic(st, j, wr[j], t, check, lim, q);
    return fired;
}

#ifdef STDBP_X86_SIMD
/* The lanes j + i for the bits i of bits fire: out of line, so that the
 * vector row loops keep their pointers in registers. */
static __attribute__((__noinline__, __cold__)) size_t fire_lanes(const fwd_state *st, size_t j,
                                                                 unsigned bits, double q)
{
    size_t fired = 0;
    while (bits) {
        fire_lane(st, j + (size_t)__builtin_ctz(bits), q);
        bits &= bits - 1;
        fired++;
    }
    return fired;
}

STDBP_TARGET("avx2")
static size_t row_avx2(const fwd_state *st, const double *wr, const double *next, double t,
                       int check, double lim, double q)
{
    const size_t m = st->m;
    double *restrict rs = st->rs, *restrict rr = st->rr;
    const __m256d vt = _mm256_set1_pd(t), vth = _mm256_set1_pd(st->theta);
    const __m256d vlim = _mm256_set1_pd(lim), zero = _mm256_setzero_pd();
    size_t fired = 0, j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d w = _mm256_loadu_pd(wr + j);
        if (j % 8 == 0)
            _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
        const __m256d s2 = _mm256_add_pd(_mm256_loadu_pd(rs + j), w);
        const __m256d r2 = _mm256_add_pd(_mm256_loadu_pd(rr + j), _mm256_mul_pd(w, vt));
        _mm256_storeu_pd(rs + j, s2);
        _mm256_storeu_pd(rr + j, r2);
        if (!check)
            continue;
        const __m256d ok =
            _mm256_cmp_pd(_mm256_add_pd(vth, r2), _mm256_mul_pd(vlim, s2), _CMP_LE_OQ);
        const unsigned bits = (unsigned)_mm256_movemask_pd(ok);
        if (bits) /* rare: only now the sign of S (see FIRE_TEST) */
            fired += fire_lanes(
                st, j, bits & (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(s2, zero, _CMP_GT_OQ)), q);
    }
    return fired + row_generic(st, j, wr, t, check, lim, q);
}

/* One block of 8 lanes (live: the lanes below m). rs, rr: st's, in
 * registers (through st the compiler reloads them after every store). */
STDBP_TARGET("avx512f")
static inline __attribute__((__always_inline__)) size_t
block512(const fwd_state *st, double *restrict rs, double *restrict rr, size_t j, __mmask8 live,
         const double *wr, const double *next, __m512d vt, __m512d vth, __m512d vlim, int check,
         double q)
{
    const __m512d zero = _mm512_setzero_pd();
    const __m512d w = _mm512_maskz_loadu_pd(live, wr + j);
    _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
    const __m512d s2 = _mm512_add_pd(_mm512_maskz_loadu_pd(live, rs + j), w);
    const __m512d r2 = _mm512_add_pd(_mm512_maskz_loadu_pd(live, rr + j), _mm512_mul_pd(w, vt));
    _mm512_mask_storeu_pd(rs + j, live, s2);
    _mm512_mask_storeu_pd(rr + j, live, r2);
    if (!check)
        return 0;
    unsigned bits =
        _mm512_mask_cmp_pd_mask(live, _mm512_add_pd(vth, r2), _mm512_mul_pd(vlim, s2), _CMP_LE_OQ);
    if (!bits)
        return 0;
    /* rare: only now the sign of S (see FIRE_TEST) */
    return fire_lanes(st, j, bits & _mm512_cmp_pd_mask(s2, zero, _CMP_GT_OQ), q);
}

/* check is a constant in each instance: the full blocks' loop has no
 * test but the firing one; the last block is masked (lanes past m are
 * neither read nor written). */
STDBP_TARGET("avx512f")
static inline __attribute__((__always_inline__)) size_t row512(const fwd_state *st,
                                                               const double *wr, const double *next,
                                                               double t, int check, double lim,
                                                               double q)
{
    const size_t m = st->m;
    const __m512d vt = _mm512_set1_pd(t), vth = _mm512_set1_pd(st->theta);
    const __m512d vlim = _mm512_set1_pd(lim);
    double *restrict rs = st->rs, *restrict rr = st->rr;
    size_t fired = 0, j = 0;
    for (; j + 8 <= m; j += 8)
        fired += block512(st, rs, rr, j, (__mmask8)0xff, wr, next, vt, vth, vlim, check, q);
    if (j < m)
        fired += block512(st, rs, rr, j, (__mmask8)((1u << (m - j)) - 1), wr, next, vt, vth, vlim,
                          check, q);
    return fired;
}

STDBP_TARGET("avx512f")
static size_t row_avx512(const fwd_state *st, const double *wr, const double *next, double t,
                         int check, double lim, double q)
{
    return check ? row512(st, wr, next, t, 1, lim, q) : row512(st, wr, next, t, 0, lim, q);
}

/* Layers of at most 64 neurons (conv channels, output layers) keep every
 * lane's S and R in registers for the whole event list (and, up to 32
 * lanes, the results too; beyond, the compiler may keep those, touched
 * only at a firing, on the stack): a call per event would cost more than
 * its few vectors of work. NV vectors of 8 lanes; lanes past m are masked
 * off (never read, written or fired). */
#define SMALL_MAX 64

STDBP_TARGET("avx512f")
static inline __attribute__((__always_inline__)) size_t
fwd_small_avx512(const stdbp_events *ev, const double *w, size_t m, double theta, double t_max,
                 double *t_out, double *nc, double *s, const int NV)
{
    __m512d vs[8], vr[8], vro[8], vnc[8], vso[8]; /* vro, vso: R, S at the firing */
    __mmask8 live[8];
    const __m512d zero = _mm512_setzero_pd(), vth = _mm512_set1_pd(theta);
    const __m512d ninf = _mm512_set1_pd(-INFINITY), vtmax = _mm512_set1_pd(t_max);
    const size_t n = ev->n;
    size_t fired = 0, p = 0;
    STDBP_FOR_V(NV, {
        const size_t left = m - 8 * (size_t)v;
        live[v] = left >= 8 ? (__mmask8)0xff : (__mmask8)((1u << left) - 1);
        vs[v] = vr[v] = vro[v] = vnc[v] = vso[v] = zero;
    });
    /* One pass per event: add its row, then, if the next event's time
     * differs (the end of a group of tied times), test for firing. */
    double tg = n ? ev->t[0] : INFINITY;
    while (n && tg <= t_max) {
        const __m512d vt = _mm512_set1_pd(tg);
        const double *wr = w + (size_t)ev->row[p] * m;
        STDBP_FOR_V(NV, {
            const __m512d wv = _mm512_maskz_loadu_pd(live[v], wr + 8 * v);
            vs[v] = _mm512_add_pd(vs[v], wv);
            vr[v] = _mm512_add_pd(vr[v], _mm512_mul_pd(wv, vt));
        });
        p++;
        const double tn = p < n ? ev->t[p] : INFINITY;
        if (tn == tg)
            continue;
        const __m512d vlim = _mm512_set1_pd(stdbp_relpsp_fire_limit(tn, t_max));
        __mmask8 k[8];
        unsigned any = 0;
        STDBP_FOR_V(NV, {
            k[v] = _mm512_mask_cmp_pd_mask(live[v], _mm512_add_pd(vth, vr[v]),
                                           _mm512_mul_pd(vlim, vs[v]), _CMP_LE_OQ);
            any |= k[v];
        });
        if (any) { /* rare: only now the sign of S (FIRE_TEST), then fire_lane
                      for the lanes in k; the division waits */
            const __m512d vq = _mm512_set1_pd((double)p);
            STDBP_FOR_V(NV, {
                k[v] &= _mm512_cmp_pd_mask(vs[v], zero, _CMP_GT_OQ);
                vro[v] = _mm512_mask_mov_pd(vro[v], k[v], vr[v]);
                vso[v] = _mm512_mask_mov_pd(vso[v], k[v], vs[v]);
                vnc[v] = _mm512_mask_mov_pd(vnc[v], k[v], vq);
                vs[v] = _mm512_mask_mov_pd(vs[v], k[v], ninf);
                fired += (size_t)__builtin_popcount(k[v]);
            });
            if (fired == m)
                break;
        }
        if (p == n)
            break;
        tg = tn;
    }
    STDBP_FOR_V(NV, { /* stdbp_relpsp_fire_time where fired, else INFINITY */
                      const __mmask8 f = _mm512_mask_cmp_pd_mask(live[v], vnc[v], zero, _CMP_GT_OQ);
                      const __m512d c = _mm512_maskz_div_pd(f, _mm512_add_pd(vth, vro[v]), vso[v]);
                      const __mmask8 early = _mm512_cmp_pd_mask(c, vtmax, _CMP_LT_OQ);
                      const __m512d ft = _mm512_mask_mov_pd(vtmax, early, c);
                      _mm512_mask_storeu_pd(t_out + 8 * v, live[v],
                                            _mm512_mask_mov_pd(_mm512_set1_pd(INFINITY), f, ft));
    });
    STDBP_FOR_V(NV, {
        _mm512_mask_storeu_pd(nc + 8 * v, live[v], vnc[v]);
        _mm512_mask_storeu_pd(s + 8 * v, live[v], vso[v]);
    });
    return p;
}

STDBP_TARGET("avx512f")
static size_t fwd_small_avx512_any(const stdbp_events *ev, const double *w, size_t m, double theta,
                                   double t_max, double *t_out, double *nc, double *s)
{
    switch ((m + 7) / 8) {
    case 1:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 1);
    case 2:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 2);
    case 3:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 3);
    case 4:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 4);
    case 5:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 5);
    case 6:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 6);
    case 7:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 7);
    default:
        return fwd_small_avx512(ev, w, m, theta, t_max, t_out, nc, s, 8);
    }
}
#endif

/* One row (event) over all m lanes; check: the event ends a group of
 * tied times, so test for firing with lim and count q. */
static inline size_t row(stdbp_isa isa, const fwd_state *st, const double *wr, const double *next,
                         double t, int check, double lim, double q)
{
#ifdef STDBP_X86_SIMD
    if (isa == STDBP_ISA_AVX512)
        return row_avx512(st, wr, next, t, check, lim, q);
    if (isa == STDBP_ISA_AVX2)
        return row_avx2(st, wr, next, t, check, lim, q);
#else
    (void)isa;
#endif
    (void)next;
    return row_generic(st, 0, wr, t, check, lim, q);
}

size_t stdbp_relpsp_forward(const stdbp_events *ev, const double *w, size_t m, double theta,
                            double t_max, double *acc, double *t_out, double *nc, double *s)
{
    const fwd_state st = {m, theta, t_max, acc, acc + m, t_out, nc, s};
    const stdbp_isa isa = stdbp_relpsp_isa();
    const size_t n = ev->n;
#ifdef STDBP_X86_SIMD
    if (isa == STDBP_ISA_AVX512 && m <= SMALL_MAX)
        return fwd_small_avx512_any(ev, w, m, theta, t_max, t_out, nc, s);
#endif
    size_t fired = 0, p = 0;
    for (size_t j = 0; j < m; j++) {
        st.rs[j] = st.rr[j] = s[j] = nc[j] = 0.0;
        t_out[j] = INFINITY;
    }
    while (p < n && fired < m && ev->t[p] <= t_max) {
        const double tg = ev->t[p];
        size_t last = p; /* the group is p..last */
        while (last + 1 < n && ev->t[last + 1] == tg)
            last++;
        for (; p < last; p++)
            row(isa, &st, w + (size_t)ev->row[p] * m, w + (size_t)ev->row[p + 1] * m, tg, 0, 0.0,
                0.0);
        /* the next event's row is fetched while this one is added */
        const double *next = w + (size_t)ev->row[p + 1 < n ? p + 1 : p] * m;
        const double lim = stdbp_relpsp_fire_limit(p + 1 < n ? ev->t[p + 1] : INFINITY, t_max);
        fired += row(isa, &st, w + (size_t)ev->row[p] * m, next, tg, 1, lim, (double)(p + 1));
        p++;
    }
    return p;
}
