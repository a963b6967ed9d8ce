/* Private to src/hw: the structures behind the opaque handles of
 * include/stdbp/hw.h. */
#ifndef STDBP_HW_IMPL_H
#define STDBP_HW_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/hw.h"

/* One computing layer. Its synapses are stored by source (fan-out, CSR):
 * the targets of input i are tgt[start[i] .. start[i+1]), in increasing
 * neuron order, with their integer weights in w (pool: w unused, 0).
 * Sorted targets make the targets of one source on one core (which holds
 * a contiguous neuron range) a contiguous slice. */
typedef struct stdbp_hw_qlayer {
    stdbp_qlayer_info info;
    size_t *start; /* n_in + 1 */
    int32_t *tgt;  /* n_synapses (pool: its connections) */
    int32_t *w;
    size_t n_conn;   /* entries of tgt/w */
    int32_t *fan_in; /* n_out: inputs of each neuron */
} stdbp_hw_qlayer;

struct stdbp_qnet {
    stdbp_quant_params params; /* resolved */
    double dt;
    size_t n_in;
    size_t n_layers;
    stdbp_hw_qlayer *layers;
    size_t max_width; /* largest n_in or n_out */
};

struct stdbp_qws {
    size_t n_layers;
    int64_t **steps; /* per layer, n_out */
    int64_t *s, *r;
    uint8_t *touched; /* in pend */
    int32_t *pend;    /* neurons with S > 0 */
    int32_t *order;   /* inputs sorted by step */
    size_t *bucket;   /* window + 2 counters */
    size_t n_bucket;
};

/* configs/hw/default.yaml, compiled in (src/hw/profile_default.c is
 * generated from it). */
extern const char stdbp_hw_default_profile_yaml[];

/* Ceil of a / b for b > 0, any sign of a. */
static inline int64_t stdbp_hw_ceil_div(int64_t a, int64_t b)
{
    int64_t q = a / b, r = a % b;
    return (r > 0) ? q + 1 : q;
}

struct stdbp_hw_map {
    int n_cores;
    stdbp_hw_core_info *cores;
    size_t n_layers;
    int **core_of; /* per layer, per neuron */
    int *layer_first_core, *layer_n_cores;
};

#endif
