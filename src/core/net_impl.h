/* The network and workspace structs (private to src/core). */
#ifndef STDBP_CORE_NET_IMPL_H
#define STDBP_CORE_NET_IMPL_H

#include "core/layer.h"
#include "stdbp/net.h"

typedef struct stdbp_layer {
    const stdbp_layer_ops *ops;
    stdbp_layer_info info;
} stdbp_layer;

struct stdbp_net {
    stdbp_shape input;
    stdbp_neuron_params neuron;
    size_t n_layers;
    stdbp_layer *layers;
    size_t n_params;
    double *params; /* one buffer for every layer's weights */
};

struct stdbp_ws {
    const stdbp_net *net;
    double **t;      /* n_layers + 1 time vectors: t[0] the input */
    double **dl;     /* n_layers + 1 dL/dt vectors, same shapes */
    void **scratch;  /* per layer, forward to backward */
    uint64_t events; /* synaptic events of the last forward */
    int ready;       /* a forward has run */
    void *mem;       /* the one allocation behind all of the above */
};

#endif
