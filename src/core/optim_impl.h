/* The optimiser's state, shared by optim.c and optim_layerwise.c
 * (private to src/core). */
#ifndef STDBP_CORE_OPTIM_IMPL_H
#define STDBP_CORE_OPTIM_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/optim.h"

struct stdbp_optim {
    stdbp_optim_params p;
    size_t n;          /* parameters */
    size_t state_size; /* Adam, LAMB: 2n (m, v); SGD, LARS: n (velocity) */
    double *state;     /* the whole state, with steps */
    uint64_t steps;
    /* Layer-wise kinds: tensor k is [tensor[k], tensor[k + 1]); one
     * tensor [0, n) until stdbp_optim_use_layers. */
    size_t *tensor;
    size_t n_tensors;
};

/* The layer-wise step of [lo, hi) with the norms of each tensor's part
 * in [lo, hi) alone (optim_layerwise.c); counts one step. */
void stdbp_optim_layerwise_step(stdbp_optim *opt, double *params, const double *grad, double lr,
                                size_t lo, size_t hi);

#endif
