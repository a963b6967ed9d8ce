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

#define STDBP_PENALTY_BLOCK 256

static double penalty_matrix(const double *w, double *g, size_t rows, size_t cols, double lambda,
                             double floor_sum)
{
    double sum[STDBP_PENALTY_BLOCK], dg[STDBP_PENALTY_BLOCK];
    double value = 0.0;

    for (size_t j0 = 0; j0 < cols; j0 += STDBP_PENALTY_BLOCK) {
        const size_t nb = cols - j0 < STDBP_PENALTY_BLOCK ? cols - j0 : STDBP_PENALTY_BLOCK;
        for (size_t j = 0; j < nb; j++)
            sum[j] = 0.0;
        for (size_t i = 0; i < rows; i++) {
            const double *wr = w + i * cols + j0;
            for (size_t j = 0; j < nb; j++)
                sum[j] += wr[j];
        }
        int any = 0;
        for (size_t j = 0; j < nb; j++) {
            const double gap = floor_sum - sum[j];
            /* At gap == 0 the hinge has no derivative; take 0 (inactive). */
            dg[j] = gap > 0 ? -lambda : 0.0;
            if (gap > 0) {
                value += lambda * gap;
                any = 1;
            }
        }
        /* Usually no neuron of the block is below the floor: skip the pass.
         * Only non-zero slopes are added (adding 0 would turn -0 into +0),
         * as stdbp_penalty_add_slopes does, so both give the same bits. */
        if (g && any)
            for (size_t i = 0; i < rows; i++) {
                double *gr = g + i * cols + j0;
                for (size_t j = 0; j < nb; j++)
                    gr[j] = dg[j] != 0.0 ? gr[j] + dg[j] : gr[j];
            }
    }
    return value;
}

double stdbp_penalty_weight_sum(const stdbp_net *net, const double *params, double *grad,
                                double lambda, double margin)
{
    const double theta = stdbp_net_neuron(net)->theta;
    const size_t nl = stdbp_net_num_layers(net);
    double value = 0.0;

    if (lambda == 0)
        return 0.0;
    for (size_t l = 0; l < nl; l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        if ((L.kind != STDBP_LAYER_DENSE && L.kind != STDBP_LAYER_CONV2D) || L.fan_in <= 0 ||
            L.param_count == 0)
            continue;
        const size_t rows = (size_t)L.fan_in;
        const size_t cols = L.param_count / rows;
        value += penalty_matrix(params + L.param_offset, grad ? grad + L.param_offset : NULL, rows,
                                cols, lambda, margin * theta);
    }
    return value;
}

/* The dense and conv layers, whose columns are penalised, and where their
 * columns start in the numbering over all of them. */
static int penalised(const stdbp_layer_info *L)
{
    return (L->kind == STDBP_LAYER_DENSE || L->kind == STDBP_LAYER_CONV2D) && L->fan_in > 0 &&
           L->param_count > 0;
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
        const double *w = params + L.param_offset;
        double *sum = slope + base; /* the sums, then the slopes, in place */
        for (size_t j = j0; j < j1; j++)
            sum[j] = 0.0;
        for (size_t i = 0; i < rows && j0 < j1; i++) {
            const double *wr = w + i * cols;
            for (size_t j = j0; j < j1; j++)
                sum[j] += wr[j];
        }
        for (size_t j = j0; j < j1; j++) {
            const double gap = floor_sum - sum[j];
            if (gap > 0)
                value += lambda * gap;
            sum[j] = gap > 0 && lambda != 0 ? -lambda : 0.0;
        }
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
        const size_t a = (lo > off ? lo : off) - off, b = (hi < end ? hi : end) - off;
        int any = 0;
        for (size_t j = 0; j < cols; j++)
            any |= sl[j] != 0.0;
        if (!any) /* the usual case: no neuron of the layer below the floor */
            continue;
        double *g = grad + L.param_offset;
        for (size_t k = a; k < b;) { /* row by row over [a, b) */
            const size_t i = k / cols, j_end = (i + 1) * cols < b ? (i + 1) * cols : b;
            double *gr = g + i * cols;
            for (size_t j = k - i * cols; j < j_end - i * cols; j++)
                gr[j] = sl[j] != 0.0 ? gr[j] + sl[j] : gr[j];
            k = j_end;
        }
    }
}
