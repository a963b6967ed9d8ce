/* The ReL-PSP neuron: the reference solver (neuron.h) and the backward
 * pass's per-neuron terms (relpsp.h); the kernels over many neurons are in
 * relpsp_fwd.c and relpsp_bwd.c. */
#include "core/relpsp.h"

#include <math.h>

#include "core/relpsp_isa.h"
#include "stdbp/neuron.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

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
        const double lim = stdbp_relpsp_fire_limit(i < n ? t_in[i] : INFINITY, t_max);
        if (s > 0.0 && theta + r <= lim * s) {
            f.t = stdbp_relpsp_fire_time(theta, r, s, t_max);
            f.n_causal = i;
            f.s = s;
            return f;
        }
    }
    return f;
}

/* ---- backward --------------------------------------------------------- */

static inline double clip(double x, double c)
{
    const double a = x > c ? c : x;
    return a < -c ? -c : a;
}

/* The maxima that grad_prepare keeps, and its NaN check. */
typedef struct prep_acc {
    double n_max, g_max, t_max, chk;
} prep_acc;

#ifdef STDBP_X86_SIMD
/* grad_prepare's loop where no surrogate applies, 8 neurons at a time:
 * the scalar loop's operations lane by lane (the division is correctly
 * rounded; min(c, x) and max(-c, a) are its clip, NaN included, since
 * they return their second operand when unordered; the maxima never
 * take a NaN for the same reason). Returns the first neuron not done. */
STDBP_TARGET("avx512f")
static size_t prepare512(size_t m, const double *t_out, const double *nc, const double *s,
                         const double *dl, double clip_at, stdbp_relpsp_grad *gr, prep_acc *pa)
{
    const __m512d zero = _mm512_setzero_pd(), c = _mm512_set1_pd(clip_at);
    const __m512d nc_ = _mm512_set1_pd(-clip_at);
    __m512d vn = _mm512_set1_pd(pa->n_max), vg = _mm512_set1_pd(pa->g_max);
    __m512d vt = _mm512_set1_pd(pa->t_max), vc = zero;
    size_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const __m512d d = _mm512_loadu_pd(dl + j), n = _mm512_loadu_pd(nc + j);
        const __mmask8 take =
            _mm512_cmp_pd_mask(d, zero, _CMP_NEQ_UQ) & _mm512_cmp_pd_mask(n, zero, _CMP_GT_OQ);
        const __m512d q = _mm512_maskz_div_pd(take, d, _mm512_loadu_pd(s + j));
        const __m512d g = _mm512_max_pd(nc_, _mm512_min_pd(c, q));
        vc = _mm512_add_pd(vc, _mm512_mul_pd(g, zero));
        const __mmask8 keep = take & _mm512_cmp_pd_mask(g, zero, _CMP_NEQ_UQ);
        const __m512d te = _mm512_maskz_mov_pd(keep, _mm512_loadu_pd(t_out + j));
        const __m512d cn = _mm512_maskz_mov_pd(keep, n);
        _mm512_storeu_pd(gr->g + j, g);
        _mm512_storeu_pd(gr->te + j, te);
        _mm512_storeu_pd(gr->nc + j, cn);
        vn = _mm512_max_pd(cn, vn);
        vg = _mm512_max_pd(_mm512_abs_pd(g), vg);
        vt = _mm512_max_pd(_mm512_abs_pd(te), vt);
    }
    pa->n_max = _mm512_reduce_max_pd(vn);
    pa->g_max = _mm512_reduce_max_pd(vg);
    pa->t_max = _mm512_reduce_max_pd(vt);
    pa->chk += _mm512_reduce_add_pd(vc);
    return j;
}
#endif

size_t stdbp_relpsp_grad_prepare(const stdbp_events *ev, const double *w, size_t m,
                                 const double *t_out, const double *nc, const double *s,
                                 const double *dl, int surrogate, const stdbp_neuron_params *np,
                                 double *acc, stdbp_relpsp_grad *gr, int *bad)
{
    int any_sur = 0;
    prep_acc pa = {0.0, 0.0, 0.0, 0.0};
    size_t n_sur = 0, j0 = 0;
    for (size_t j = 0; j < m && surrogate; j++)
        any_sur |= nc[j] == 0.0 && dl[j] != 0.0;
    if (any_sur) {
        /* S of the surrogate: the inputs that arrived before silent_time,
         * as if the neuron fired then (events are in time order). A later
         * input cannot have caused that spike, and its term
         * g (t_i - silent_time) would grow without bound with t_i. */
        while (n_sur < ev->n && ev->t[n_sur] < np->silent_time)
            n_sur++;
        for (size_t j = 0; j < m; j++)
            acc[j] = 0.0;
        for (size_t p = 0; p < n_sur; p++) {
            const double *wr = w + (size_t)ev->row[p] * m;
            for (size_t j = 0; j < m; j++)
                acc[j] += wr[j];
        }
    }
    const double floor_s = STDBP_SURROGATE_S_FLOOR * np->theta;
#ifdef STDBP_X86_SIMD
    if (!any_sur && stdbp_relpsp_isa() == STDBP_ISA_AVX512)
        j0 = prepare512(m, t_out, nc, s, dl, np->grad_clip, gr, &pa);
#endif
    for (size_t j = j0; j < m; j++) {
        double g = 0.0, te = 0.0, c = 0.0;
        if (dl[j] != 0.0 && nc[j] > 0.0) {
            g = clip(dl[j] / s[j], np->grad_clip);
            te = t_out[j];
            c = nc[j];
        } else if (dl[j] != 0.0 && any_sur && n_sur > 0) {
            g = clip(dl[j] / (acc[j] > floor_s ? acc[j] : floor_s), np->grad_clip);
            te = np->silent_time;
            c = (double)n_sur;
        }
        pa.chk += g * 0.0;
        if (g == 0.0) { /* te stays finite: no lane ever computes 0 * inf */
            c = 0.0;
            te = 0.0;
        }
        gr->g[j] = g;
        gr->te[j] = te;
        gr->nc[j] = c;
        pa.n_max = c > pa.n_max ? c : pa.n_max;
        pa.g_max = fabs(g) > pa.g_max ? fabs(g) : pa.g_max;
        pa.t_max = fabs(te) > pa.t_max ? fabs(te) : pa.t_max;
    }
    if (!(pa.chk == 0.0))
        *bad = 1;
    gr->g_max = pa.g_max;
    gr->te_max = pa.t_max;
    return (size_t)pa.n_max;
}
