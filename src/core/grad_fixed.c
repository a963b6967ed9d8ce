/* Fixed-point gradients; see include/stdbp/net.h and grad_fixed.h. */
#include "core/grad_fixed.h"

#include <math.h>

#include "core/chunks.h"
#include "core/relpsp_isa.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

#if STDBP_GRAD_FRAC_BITS != 32
#error "grad_fixed.h assumes STDBP_GRAD_FRAC_BITS == 32"
#endif

int64_t stdbp_grad_to_fixed(double g)
{
    return stdbp_fixed_unbias(stdbp_fixed_biased(g));
}

double stdbp_grad_from_fixed(int64_t q)
{
    return (double)q / STDBP_FIXED_SCALE;
}

/* Two passes over the row so that each is a plain vector loop at -O2 (in
 * one loop gcc threads the clamp's constants into branches). Blocks of 4
 * with a scalar tail: the very-cheap cost model of -O2 only vectorises
 * loops whose trip count is a known multiple of the vector length. */
int stdbp_fixed_add_row(int64_t *restrict acc, double *restrict d, size_t m)
{
    double chk[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++) {
            double x = d[j + k];
            chk[k] += x * 0.0; /* NaN iff x is NaN or +-Inf */
            d[j + k] = stdbp_fixed_biased(x);
        }
    for (; j < m; j++) {
        double x = d[j];
        chk[0] += x * 0.0;
        d[j] = stdbp_fixed_biased(x);
    }
    for (j = 0; j + 4 <= m; j += 4)
        for (size_t k = 0; k < 4; k++) {
            uint64_t s = (uint64_t)acc[j + k] + (uint64_t)stdbp_fixed_unbias(d[j + k]);
            acc[j + k] = (int64_t)s;
        }
    for (; j < m; j++)
        acc[j] = (int64_t)((uint64_t)acc[j] + (uint64_t)stdbp_fixed_unbias(d[j]));
    return !(chk[0] + chk[1] + chk[2] + chk[3] == 0.0);
}

#ifdef STDBP_X86_SIMD
/* AVX-512DQ converts 8 int64 at once (SSE2 and AVX2 have no int64 to
 * double conversion); it rounds as the scalar conversion does. */
STDBP_TARGET("avx512f,avx512dq")
static size_t fixed_mean_sum512(int64_t *const *acc, size_t n_acc, size_t a, double *restrict grad,
                                size_t n, double scale)
{
    const __m512d vs = _mm512_set1_pd(scale);
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m512i q = _mm512_loadu_si512(acc[0] + a + k);
        _mm512_storeu_si512(acc[0] + a + k, _mm512_setzero_si512());
        for (size_t i = 1; i < n_acc; i++) {
            q = _mm512_add_epi64(q, _mm512_loadu_si512(acc[i] + a + k));
            _mm512_storeu_si512(acc[i] + a + k, _mm512_setzero_si512());
        }
        _mm512_storeu_pd(grad + k, _mm512_mul_pd(_mm512_cvtepi64_pd(q), vs));
    }
    return k;
}
#endif

/* [a, a + n) of stdbp_grad_fixed_mean_sum: each value is converted on its
 * own, so the chunks can go to different threads (chunks.h). */
static void fixed_mean_sum_chunk(int64_t *const *acc, size_t n_acc, size_t a, double *restrict grad,
                                 size_t n, double scale)
{
    size_t k = 0;
#ifdef STDBP_X86_SIMD
    if (stdbp_relpsp_isa() == STDBP_ISA_AVX512 && __builtin_cpu_supports("avx512dq"))
        k = fixed_mean_sum512(acc, n_acc, a, grad, n, scale);
#endif
    for (; k < n; k++) {
        uint64_t q = 0;
        for (size_t i = 0; i < n_acc; i++) {
            q += (uint64_t)acc[i][a + k];
            acc[i][a + k] = 0;
        }
        grad[k] = (double)(int64_t)q * scale;
    }
}

void stdbp_grad_fixed_mean_sum(int64_t *const *acc, size_t n_acc, double *grad, size_t n,
                               size_t count)
{
    const double scale = 1.0 / STDBP_FIXED_SCALE / (double)(count ? count : 1);
    if (n_acc == 0) { /* no accumulator: a sum of nothing */
        for (size_t k = 0; k < n; k++)
            grad[k] = 0.0;
        return;
    }
    STDBP_FOR_CHUNKS(n, a, len, fixed_mean_sum_chunk(acc, n_acc, a, grad + a, len, scale););
}

void stdbp_grad_fixed_mean(int64_t *acc, double *grad, size_t n, size_t count)
{
    stdbp_grad_fixed_mean_sum(&acc, 1, grad, n, count);
}
