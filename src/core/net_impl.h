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
    double *params;  /* one buffer for every layer's weights */
    int owns_params; /* params is net's own (not stdbp_net_use_params's) */
};

struct stdbp_ws {
    const stdbp_net *net;
    double **t;      /* n_layers + 1 time vectors: t[0] the input */
    double **dl;     /* n_layers + 1 dL/dt vectors, same shapes */
    void **scratch;  /* per layer, forward to backward */
    uint64_t events; /* synaptic events of the last forward */
    int ready;       /* a forward has run */
    void *mem;       /* the one allocation behind all of the above */
    /* Event input (stdbp_net_forward_events), grown on demand: */
    size_t ev_cap;    /* events the buffers below hold */
    void *ev_mem;     /* one allocation: the four arrays and sort scratch */
    double *ev_tc;    /* the sample's events in channel order */
    uint32_t *ev_cc;  /* their channels */
    uint32_t *ev_idx; /* sorted order */
    double *ev_t;     /* the events in (time, channel) order */
    uint32_t *ev_row; /* their channels */
    void *ev_sort;    /* stdbp_sort_fired scratch */
    uint32_t *ev_cnt; /* input size + 1 counts (counting sort by channel) */
    size_t lay_cap;   /* bytes of lay_mem */
    void *lay_mem;    /* the event layer's memory (events_bytes) */
    double *prof;     /* stdbp_ws_profile's seconds; NULL: not timed */
};

#endif
