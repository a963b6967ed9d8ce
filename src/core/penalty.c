/* Weight-sum penalty against dead neurons; see include/stdbp/optim.h.
 *
 * Dense W[in][out] and conv W[c_in][ky][kx][c_out] are both a row-major
 * matrix of fan_in rows and one column per neuron (a conv neuron is an
 * output channel: its weights are shared by every position). The column
 * sums are taken a block of columns at a time, row by row, so the inner
 * loops run over contiguous memory and nothing is allocated. */
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
        /* Usually no neuron of the block is below the floor: skip the pass. */
        if (g && any)
            for (size_t i = 0; i < rows; i++) {
                double *gr = g + i * cols + j0;
                for (size_t j = 0; j < nb; j++)
                    gr[j] += dg[j];
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
