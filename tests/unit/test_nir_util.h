/* Shared by the NIR tests (test_nir, test_nir_ckpt): a check of a NIR
 * graph read back from a file against the stdbp network it was exported
 * from, and a clock-driven simulation of the graph from the file's own
 * parameters, compared with the exact forward. */
#ifndef STDBP_TEST_NIR_UTIL_H
#define STDBP_TEST_NIR_UTIL_H

#include <stddef.h>

#include "stdbp/nir.h"
#include "stdbp/net.h"

/* Number of TAP checks nir_check_graph makes. */
#define NIR_CHECK_GRAPH_TESTS 9
/* Every node, edge, type, shape, weight and metadata value of g against
 * net (and the encoding t_max, when enc_t_max > 0). label prefixes the
 * test names. */
void nir_check_graph(const stdbp_nir_graph *g, const stdbp_net *net, double enc_t_max,
                     const char *label);

/* A clock-driven simulation of a chain NIR graph as stdbp exports it
 * (Input, Affine, Conv2d, SumPool2d, Flatten, I, IF, Output), from the
 * file's parameters only: the IF nodes fire at most once (metadata
 * fire_once = 1 is required), at the first grid time t_k = k h with
 * v >= v_threshold and t_k <= metadata t_max. Input spikes are put on the
 * grid at the first t_k >= t. On the grid the membrane is exact: v(t_k)
 * is the ReL-PSP potential of the (grid) input times. */
typedef struct nir_sim nir_sim;
stdbp_status nir_sim_create(const stdbp_nir_graph *g, nir_sim **out, stdbp_err *err);
void nir_sim_destroy(nir_sim **s);
/* Simulate one input (input size times; INFINITY is silent) for
 * ceil(horizon / h) steps. Cannot fail. */
void nir_sim_run(nir_sim *s, const double *in_times, double h, double horizon);
/* First spike time of each value of node name's output in the last run
 * (k h, INFINITY if none); NULL if there is no such node. */
const double *nir_sim_times(const nir_sim *s, const char *name, size_t *n);

/* Number of TAP checks nir_check_simulation makes. */
#define NIR_CHECK_SIM_TESTS 3
/* Simulate n inputs (n x input size times) with step h and compare with
 * stdbp: each layer's simulated spike times with the exact forward of that
 * layer alone (stdbp_net_forward, weights as stored in the file) on the
 * simulation's own input times, within h; and the network's output with
 * stdbp_net_forward of net on the original inputs. */
void nir_check_simulation(const stdbp_nir_graph *g, const stdbp_net *net, const double *inputs,
                          size_t n, double h, const char *label);

#endif
