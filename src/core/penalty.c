/* Weight-sum penalty against dead neurons; see include/stdbp/optim.h.
 *
 * Dense W[in][out] and conv W[c_in][ky][kx][c_out] are both a row-major
 * matrix of fan_in rows and one column per neuron (a conv neuron is an
 * output channel: its weights are shared by every position). The column
 * sums are taken a block of columns at a time, row by row, so the inner
 * loops run over contiguous memory and nothing is allocated.
 *
 * The sharded update splits the same work in two: each rank finds the
 * slopes of its own neurons (stdbp_penalty_slopes), the ranks share them,
 * and each adds them to its own slice of the gradient
 * (stdbp_penalty_add_slopes). A column is summed in the same order either
 * way, so the decisions, and the gradient, are the same to the bit. */
#include "stdbp/optim.h"

#include "core/relpsp_isa.h"

#ifdef STDBP_X86_SIMD
#include <immintrin.h>
#endif

#define STDBP_PENALTY_BLOCK 256

/* The dense and conv layers, whose columns are penalised. */
static int penalised(const stdbp_layer_info *L)
{
    return (L->kind == STDBP_LAYER_DENSE || L->kind == STDBP_LAYER_CONV2D) && L->fan_in > 0 &&
           L->param_count > 0;
}

/* s[j] += wr[j] for j < n: one row of the column sums. Vectorised across
 * the columns, so each column is still summed row by row in one order:
 * every build gives the same bits. */
static void add_row_c(double *restrict s, const double *restrict wr, size_t n)
{
    for (size_t j = 0; j < n; j++)
        s[j] += wr[j];
}

#ifdef STDBP_X86_SIMD
STDBP_TARGET("avx512f")
static void add_row512(double *restrict s, const double *restrict wr, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm512_storeu_pd(s + j, _mm512_add_pd(_mm512_loadu_pd(s + j), _mm512_loadu_pd(wr + j)));
    add_row_c(s + j, wr + j, n - j);
}

STDBP_TARGET("avx2")
static void add_row256(double *restrict s, const double *restrict wr, size_t n)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(s + j, _mm256_add_pd(_mm256_loadu_pd(s + j), _mm256_loadu_pd(wr + j)));
    add_row_c(s + j, wr + j, n - j);
}
#endif

static void add_row(double *restrict s, const double *restrict wr, size_t n)
{
#ifdef STDBP_X86_SIMD
    const stdbp_isa isa = stdbp_relpsp_isa();
    if (isa == STDBP_ISA_AVX512) {
        add_row512(s, wr, n);
        return;
    }
    if (isa == STDBP_ISA_AVX2) {
        add_row256(s, wr, n);
        return;
    }
#endif
    add_row_c(s, wr, n);
}

/* Columns [j0, j1) of a rows x cols matrix: slope[j - j0] = -lambda where
 * the column sums below floor_sum, else 0 (at the kink the hinge has no
 * derivative; take 0). Sums row by row, in one order for any cut of the
 * columns. Returns the penalty of these columns and sets *any when one of
 * them is below the floor. */
static double column_slopes(const double *w, size_t rows, size_t cols, size_t j0, size_t j1,
                            double lambda, double floor_sum, double *slope, int *any)
{
    double value = 0.0;
    for (size_t j = j0; j < j1; j++)
        slope[j - j0] = 0.0;
    for (size_t i = 0; i < rows; i++)
        add_row(slope, w + i * cols + j0, j1 - j0);
    *any = 0;
    for (size_t j = 0; j < j1 - j0; j++) {
        const double gap = floor_sum - slope[j];
        slope[j] = gap > 0 ? -lambda : 0.0;
        if (gap > 0) {
            value += lambda * gap;
            *any = 1;
        }
    }
    return value;
}

/* g[j] += slope[j] for j in [0, n) where the slope is not 0 (adding 0
 * would turn -0 into +0): the one rule both entry points follow, so they
 * give the same bits. */
static void add_slopes_row_c(double *g, const double *slope, size_t n)
{
    for (size_t j = 0; j < n; j++)
        g[j] = slope[j] != 0.0 ? g[j] + slope[j] : g[j];
}

#ifdef STDBP_X86_SIMD
/* The same, vectorised: the add where the slope is not 0 (a masked add
 * or a blend), each lane one IEEE addition as above. The scalar loop
 * branches on each slope, and the pattern of active neurons is random. */
STDBP_TARGET("avx512f")
static void add_slopes_row512(double *g, const double *slope, size_t n)
{
    const __m512d zero = _mm512_setzero_pd();
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m512d s = _mm512_loadu_pd(slope + j), x = _mm512_loadu_pd(g + j);
        const __mmask8 k = _mm512_cmp_pd_mask(s, zero, _CMP_NEQ_UQ);
        _mm512_storeu_pd(g + j, _mm512_mask_add_pd(x, k, x, s));
    }
    add_slopes_row_c(g + j, slope + j, n - j);
}

STDBP_TARGET("avx2")
static void add_slopes_row256(double *g, const double *slope, size_t n)
{
    const __m256d zero = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const __m256d s = _mm256_loadu_pd(slope + j), x = _mm256_loadu_pd(g + j);
        const __m256d k = _mm256_cmp_pd(s, zero, _CMP_NEQ_UQ);
        _mm256_storeu_pd(g + j, _mm256_blendv_pd(x, _mm256_add_pd(x, s), k));
    }
    add_slopes_row_c(g + j, slope + j, n - j);
}
#endif

static void add_slopes_row(double *g, const double *slope, size_t n)
{
#ifdef STDBP_X86_SIMD
    const stdbp_isa isa = stdbp_relpsp_isa();
    if (isa == STDBP_ISA_AVX512) {
        add_slopes_row512(g, slope, n);
        return;
    }
    if (isa == STDBP_ISA_AVX2) {
        add_slopes_row256(g, slope, n);
        return;
    }
#endif
    add_slopes_row_c(g, slope, n);
}

double stdbp_penalty_weight_sum(const stdbp_net *net, const double *params, double *grad,
                                double lambda, double margin)
{
    const double floor_sum = margin * stdbp_net_neuron(net)->theta;
    double slope[STDBP_PENALTY_BLOCK], value = 0.0;

    if (lambda == 0)
        return 0.0;
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        if (!penalised(&L))
            continue;
        const size_t rows = (size_t)L.fan_in, cols = L.param_count / rows;
        const double *w = params + L.param_offset;
        for (size_t j0 = 0; j0 < cols; j0 += STDBP_PENALTY_BLOCK) {
            const size_t j1 = cols - j0 < STDBP_PENALTY_BLOCK ? cols : j0 + STDBP_PENALTY_BLOCK;
            int any;
            value += column_slopes(w, rows, cols, j0, j1, lambda, floor_sum, slope, &any);
            /* Usually no neuron of the block is below the floor. */
            for (size_t i = 0; grad && any && i < rows; i++)
                add_slopes_row(grad + L.param_offset + i * cols + j0, slope, j1 - j0);
        }
    }
    return value;
}

size_t stdbp_penalty_columns(const stdbp_net *net)
{
    size_t c = 0;
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        if (penalised(&L))
            c += L.param_count / (size_t)L.fan_in;
    }
    return c;
}

double stdbp_penalty_slopes(const stdbp_net *net, const double *params, double lambda,
                            double margin, size_t c_lo, size_t c_hi, double *slope)
{
    const double floor_sum = margin * stdbp_net_neuron(net)->theta;
    double value = 0.0;
    size_t base = 0; /* the layer's first column in the numbering */
    for (size_t l = 0; l < stdbp_net_num_layers(net) && base < c_hi; l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        if (!penalised(&L))
            continue;
        const size_t rows = (size_t)L.fan_in, cols = L.param_count / rows;
        const size_t j0 = c_lo > base ? c_lo - base : 0;
        const size_t j1 = c_hi - base < cols ? c_hi - base : cols;
        int any;
        if (j0 < j1)
            value += column_slopes(params + L.param_offset, rows, cols, j0, j1, lambda, floor_sum,
                                   slope + base + j0, &any);
        base += cols;
    }
    return value;
}

void stdbp_penalty_add_slopes(const stdbp_net *net, const double *slope, double *grad, size_t lo,
                              size_t hi)
{
    size_t base = 0;
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        if (!penalised(&L))
            continue;
        const size_t rows = (size_t)L.fan_in, cols = L.param_count / rows;
        const double *sl = slope + base;
        base += cols;
        const size_t off = L.param_offset, end = off + L.param_count;
        if (hi <= off || lo >= end) /* [lo, hi) misses the layer */
            continue;
        int any = 0;
        for (size_t j = 0; j < cols; j++)
            any |= sl[j] != 0.0;
        if (!any) /* the usual case: no neuron of the layer below the floor */
            continue;
        /* Row by row over the layer's part of [lo, hi). */
        const size_t a = (lo > off ? lo : off) - off, b = (hi < end ? hi : end) - off;
        for (size_t k = a; k < b;) {
            const size_t i = k / cols, row_end = (i + 1) * cols < b ? (i + 1) * cols : b;
            add_slopes_row(grad + off + k, sl + (k - i * cols), row_end - k);
            k = row_end;
        }
    }
}
