/* Private to src/hw: the simulator's state, shared by its construction
 * (sim.c) and the run of one image (sim_run.c). */
#ifndef STDBP_HW_SIM_H
#define STDBP_HW_SIM_H

#include "hw/hw_impl.h"

typedef struct stdbp_hw_route {
    int32_t core;
    uint32_t k0, k1; /* slice of the target layer's fan-out list */
    uint32_t hx, hy; /* hops */
    double time;     /* hop time */
} stdbp_hw_route;

typedef struct stdbp_hw_packet {
    double arrive;
    uint64_t seq;
    int32_t layer; /* target layer */
    int32_t core;
    uint32_t k0, k1;
} stdbp_hw_packet;

/* Per-core counters of one image (internal: x and y hops apart). */
typedef struct stdbp_hw_ccount {
    uint64_t syn, neuron, fire, send, recv, hx, hy;
    double wait;
} stdbp_hw_ccount;

struct stdbp_hw_sim {
    const stdbp_qnet *q;
    const stdbp_hw_map *m;
    const stdbp_hw_profile *p;
    size_t n_layers, n_neurons, n_in;
    int n_cores, port; /* port: index n_cores in the counters */
    size_t *lbase;     /* first global neuron id of each layer */
    int32_t *lay;      /* layer of each neuron */
    int32_t *core_g;   /* core of each neuron */
    /* routes[l]: destinations of each source of layer l */
    size_t **r_start;
    stdbp_hw_route **routes;
    /* neuron state */
    int64_t *fired, *V, *S, *R, *cand;
    uint8_t *flag; /* 1: active/touched */
    /* per core lists (stepped: active; event: touched this step) */
    size_t *c_off; /* offset of each core's list (its neuron count) */
    size_t *c_len;
    int32_t *c_list;
    /* event mode: a calendar of candidate steps. Neuron g with a
     * candidate sits in the doubly linked list of bucket cand[g]
     * (bhead[step], bnext, bprev; -1 ends a list); due: scratch for the
     * neurons firing at a step */
    int32_t *bhead, *bnext, *bprev, *due;
    /* packets of the current step */
    stdbp_hw_packet *pk;
    size_t pk_n, pk_cap;
    uint64_t seq;
    /* inputs sorted by step (room for n_order) */
    int32_t *order;
    size_t n_order;
    size_t *bucket;
    /* timing */
    double *core_t;
    stdbp_hw_ccount *cc;      /* this image */
    stdbp_hw_core_stats *tot; /* n_cores + 1 (port last) */
    /* derived energies and times */
    double e_syn, t_syn, e_hx, e_hy;
};

/* Run one image (sim_run.c) without adding it to sim's totals; its
 * per-core counters stay in sim->cc (n_cores + 1) until the next run.
 * stdbp_hw_sim_run is this, then stdbp_hw_sim_add_image(sim, sim->cc). */
void stdbp_hw_sim_run_image(stdbp_hw_sim *sim, const int64_t *in_steps, stdbp_hw_result *res);
/* The same for an event input: n events, event k on input channel ch[k]
 * at step steps[k] (any number per channel), each sent by the input port
 * as the image's spikes are; events after the window are dropped and
 * counted in res->input_dropped. sim must have room for n
 * (stdbp_hw_sim_reserve). stdbp_hw_sim_run_image is this with one event
 * per channel (and input_dropped 0). */
void stdbp_hw_sim_run_events(stdbp_hw_sim *sim, const int32_t *ch, const int64_t *steps, size_t n,
                             stdbp_hw_result *res);
/* Room for n input events in sim. */
stdbp_status stdbp_hw_sim_reserve(stdbp_hw_sim *sim, size_t n, stdbp_err *err) STDBP_WUR;
/* Add one image's counters cc (n_cores + 1) to sim's totals: the same
 * arithmetic as stdbp_hw_sim_run, so images added in the same order give
 * bitwise the same totals whichever simulator ran them. */
void stdbp_hw_sim_add_image(stdbp_hw_sim *sim, const stdbp_hw_ccount *cc);

#endif
