/* Private to src/hw: the structures behind the opaque handles of
 * include/stdbp/hw.h. */
#ifndef STDBP_HW_IMPL_H
#define STDBP_HW_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
    size_t n_order;   /* room in order */
    size_t *bucket;   /* window + 2 counters */
    size_t n_bucket;
};

/* Room for n input events in ws (stdbp_qnet_forward_events). */
stdbp_status stdbp_qws_reserve(stdbp_qws *ws, size_t n, stdbp_err *err) STDBP_WUR;
/* The quantised net on an event input: n events, event k on input
 * channel ch[k] at step steps[k] (any number per channel; steps beyond
 * the window are dropped as for images). Only the first layer sees the
 * events; it must be weighted or pool. ws must have room for n
 * (stdbp_qws_reserve). stdbp_qnet_forward is this with one event per
 * channel, channel k at in_steps[k]. */
const int64_t *stdbp_qnet_forward_events(const stdbp_qnet *q, stdbp_qws *ws, const int32_t *ch,
                                         const int64_t *steps, size_t n);
/* One input time quantised as stdbp_qnet_quantise_input does. */
int64_t stdbp_qnet_quantise_time(const stdbp_qnet *q, double t);

/* Free rows[0 .. n) and then rows, an array of per-layer arrays (rows
 * may be NULL). A macro: the rows are of several types. */
#define STDBP_HW_FREE_ROWS(rows, n)                                                                \
    do {                                                                                           \
        if (rows)                                                                                  \
            for (size_t row_ = 0; row_ < (n); row_++)                                              \
                free((rows)[row_]);                                                                \
        free(rows);                                                                                \
    } while (0)

/* Step of an input as the solver and the simulator see it: silent or
 * beyond the window is -1 (ignored: an input after the window cannot make
 * anything fire in it), negative counts as 0. */
static inline int64_t stdbp_hw_in_step(int64_t t, int64_t window)
{
    if (t == STDBP_QT_SILENT || t > window)
        return -1;
    return t < 0 ? 0 : t;
}

/* The inputs in[0 .. n_in) that count (stdbp_hw_in_step >= 0) into order,
 * sorted by step, then index (counting sort; bucket holds window + 2
 * counters). Returns how many. */
size_t stdbp_hw_sort_inputs(const int64_t *in, size_t n_in, int64_t window, size_t *bucket,
                            int32_t *order);

/* A quantised net with what it takes to classify samples of a data set:
 * its workspace and the buffers of one encoded sample. */
typedef struct stdbp_hw_qrun {
    stdbp_qnet *q;
    stdbp_qws *ws;
    double *times;  /* dim values */
    int64_t *steps; /* dim steps */
    /* event data sets: the sample's events (channel, quantised step) */
    int32_t *ev_ch;
    int64_t *ev_steps;
    size_t n_ev, ev_cap;
} stdbp_hw_qrun;

/* Quantise net with p, for samples of dim values. On failure r holds
 * nothing to free. */
stdbp_status stdbp_hw_qrun_create(const stdbp_net *net, const stdbp_quant_params *p, size_t dim,
                                  stdbp_hw_qrun *r, stdbp_err *err) STDBP_WUR;
/* Encode sample i of ds into r->times, quantise it into r->steps and run
 * the quantised net; returns its output steps (owned by r->ws). For an
 * event data set: the sample's events as stdbp_sample_events selects them
 * (no augmentation), each time quantised, into r->ev_ch, r->ev_steps
 * (r->n_ev of them), through stdbp_qnet_forward_events; NULL when memory
 * for them cannot be had. */
const int64_t *stdbp_hw_qrun_sample(stdbp_hw_qrun *r, const stdbp_encoding *enc,
                                    const stdbp_dataset *ds, size_t i);
/* Free what r holds; accepts a zeroed r. */
void stdbp_hw_qrun_free(stdbp_hw_qrun *r);

/* Nonzero when the stop check of stdbp_hw_set_stop_check says stop. */
int stdbp_hw_stop_requested(void);

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
