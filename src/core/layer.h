/* Layers (private): a small base struct and an ops table per kind, one
 * file per kind (dense.c, conv2d.c, pool.c, flatten.c).
 *
 * A layer keeps nothing per sample in itself: forward writes what
 * backward needs into the layer's scratch in the workspace (sorted events,
 * causal counts, S_j, argmins), so one net serves many workspaces. */
#ifndef STDBP_CORE_LAYER_H
#define STDBP_CORE_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/net.h"

struct stdbp_events; /* core/relpsp.h */

/* One call's view of a layer. */
typedef struct stdbp_layer_run {
    const stdbp_layer_info *info;
    const stdbp_neuron_params *neuron;
    const double *w; /* the layer's weights; NULL if it has none */
    void *scratch;   /* ops->scratch_size bytes, 64-byte aligned; filled by
                        forward, read by backward */
} stdbp_layer_run;

typedef struct stdbp_layer_ops {
    const char *name;
    /* info->kind and info->in are set; fill the rest (out, kernel, stride,
     * padding, param_count, fan_in) or say what is wrong, without naming
     * the layer (the caller prefixes that). */
    stdbp_status (*setup)(const stdbp_layer_spec *spec, stdbp_layer_info *info, stdbp_err *err);
    size_t (*scratch_size)(const stdbp_layer_info *info);
    /* in -> out times; returns the synaptic events (fired input x
     * fan-out). Cannot fail. */
    uint64_t (*forward)(const stdbp_layer_run *run, const double *in, double *out);
    /* Adds dL/dt of the inputs to dl_din (zeroed by the caller; NULL when
     * not needed) and the sample's fixed-point dL/dw to grad (at the
     * layer's offset). surrogate: apply the silent-output surrogate (see
     * stdbp_net_backward). Returns nonzero if a NaN or Inf appeared. */
    int (*backward)(const stdbp_layer_run *run, const double *out, const double *dl_dout,
                    double *dl_din, int64_t *grad, int surrogate);
    /* Per output neuron, which inputs were causal in the last forward
     * (dense, conv2d: the causal count, 0 if silent; pool: the argmin
     * input, -1 if silent; flatten: -1). For tests. */
    void (*causal)(const stdbp_layer_run *run, double *out);
    /* Event input (dense, conv2d; NULL for the others): the layer's input
     * as the time-sorted events ev (row = input index, finite times; see
     * stdbp_net_forward_events). events_bytes: the memory forward_events
     * needs for ev; mem: that many bytes, 64-byte aligned. ev's arrays and
     * mem stay untouched until the next forward, and backward reads them. */
    size_t (*events_bytes)(const stdbp_layer_info *info, const struct stdbp_events *ev);
    uint64_t (*forward_events)(const stdbp_layer_run *run, const struct stdbp_events *ev, void *mem,
                               double *out);
} stdbp_layer_ops;

extern const stdbp_layer_ops stdbp_dense_ops, stdbp_conv2d_ops, stdbp_pool_ops, stdbp_flatten_ops;

static inline size_t stdbp_shape_size(stdbp_shape s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* Carve bytes (64-byte aligned) from base at *off; with base NULL only
 * advances *off, so one layout function serves sizing and carving. */
static inline void *stdbp_carve(unsigned char *base, size_t *off, size_t bytes)
{
    const size_t o = (*off + 63) & ~(size_t)63;
    *off = o + bytes;
    return base ? base + o : NULL;
}

/* Largest tensor a layer may have: indices are kept in 32 bits. */
#define STDBP_LAYER_MAX_SIZE ((size_t)1 << 30)

/* Geometry of a k x k window with stride and padding over in (conv2d,
 * pool): checks it and sets info->kernel/stride/padding and *oh, *ow.
 * stride 0 means default_stride. Says what is wrong on error. */
stdbp_status stdbp_window_setup(const stdbp_layer_spec *spec, int default_stride,
                                stdbp_layer_info *info, int *oh, int *ow, stdbp_err *err);

/* For tests: layer i's causal descriptors from the last forward on ws
 * (stdbp_net_layer(net, i).out size values). */
void stdbp_ws_causal(const stdbp_net *net, const stdbp_ws *ws, size_t i, double *out);

#endif
