/* A NIR file written by stdbp_export against the checkpoint it came from:
 *   test_nir_ckpt CHECKPOINT.h5 OUT.nir     (an MPI program, 1 rank)
 * Rebuilds the network from the checkpoint (its stored config and
 * /model input shape; weights by stdbp_ckpt_read), reads the NIR file with
 * the project's reader, checks every node, edge, weight and metadata value,
 * and simulates the graph clock-driven on the first test samples of the
 * checkpoint's data set (latency-coded), against the exact forward. Run by
 * tests/integration/export.sh. */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/h5util.h"
#include "stdbp/nir.h"
#include "stdbp/ckpt.h"
#include "stdbp/config.h"
#include "stdbp/rng.h"
#include "tap/basic.h"
#include "test_nir_util.h"

#define H 1e-4
#define N_SAMPLES 5

static const char *meta_str(const stdbp_nir_graph *g, const char *key)
{
    const stdbp_nir_value *v = stdbp_nir_value_find(g->meta, g->n_meta, key);
    return v && v->kind == STDBP_NIR_STRING ? v->s[0] : "";
}

int main(int argc, char **argv)
{
    stdbp_err err;
    stdbp_config cfg;
    stdbp_net *net = NULL;
    stdbp_train_state state;
    stdbp_nir_graph *g = NULL;
    stdbp_dataset ds;
    char *yaml = NULL, digest[128] = "";
    int32_t in[3] = {0, 0, 0};

    MPI_Init(&argc, &argv);
    if (argc != 3)
        bail("usage: test_nir_ckpt CHECKPOINT.h5 OUT.nir");
    plan(NIR_CHECK_GRAPH_TESTS + NIR_CHECK_SIM_TESTS + 2);
    const char *ckpt = argv[1], *nirpath = argv[2];

    /* The network, as the checkpoint describes it. */
    if (stdbp_ckpt_read_config(ckpt, &yaml, &err) != STDBP_OK ||
        stdbp_config_load_string(yaml, strlen(yaml), "stored", &cfg, &err) != STDBP_OK)
        bail("%s: %s", ckpt, err.msg);
    hid_t f = H5Fopen(ckpt, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t m = f >= 0 ? H5Gopen2(f, "model", H5P_DEFAULT) : H5I_INVALID_HID;
    if (m < 0 || stdbp_h5_attr_get_i32v(m, "input", in, 3, NULL) != STDBP_OK ||
        stdbp_h5_attr_get_str(f, "digest", digest, sizeof digest, NULL) != STDBP_OK)
        bail("%s: no /model input or digest", ckpt);
    H5Gclose(m);
    H5Fclose(f);
    if (stdbp_net_create((stdbp_shape){in[0], in[1], in[2]}, cfg.network.layers,
                         cfg.network.n_layers, &cfg.network.neuron, &net, &err) != STDBP_OK ||
        stdbp_ckpt_read(MPI_COMM_WORLD, ckpt, net, NULL, &state, NULL, &err) != STDBP_OK)
        bail("%s: %s", ckpt, err.msg);
    if (stdbp_nir_read(nirpath, &g, &err) != STDBP_OK)
        bail("%s", err.msg);

    nir_check_graph(g, net, cfg.encoding.t_max, "export");
    const stdbp_nir_value *step = stdbp_nir_value_find(g->meta, g->n_meta, "source_step");
    ok(step && step->kind == STDBP_NIR_INT && (uint64_t)step->i[0] == state.step &&
           !strcmp(meta_str(g, "source_checkpoint"), ckpt) &&
           !strcmp(meta_str(g, "source_digest"), digest) && meta_str(g, "config_yaml")[0],
       "metadata names the checkpoint, its digest and step %llu, and holds the config",
       (unsigned long long)state.step);
    const stdbp_nir_value *zs = stdbp_nir_value_find(g->meta, g->n_meta, "encoding_zero_silent"),
                          *nm = stdbp_nir_value_find(g->meta, g->n_meta, "encoding_normalise");
    ok(zs && nm && zs->i[0] == (cfg.encoding.zero_silent != 0) &&
           nm->i[0] == (cfg.encoding.normalise != 0),
       "metadata encoding flags = the config's");

    /* A few test samples of the run's own data, latency-coded. */
    const size_t d = stdbp_net_input_size(net);
    double *x = calloc(N_SAMPLES * d, sizeof *x);
    memset(&ds, 0, sizeof ds);
    const char *name = cfg.data.test[0] ? cfg.data.test : cfg.data.train;
    if (stdbp_dataset_open(name, cfg.data.dir, "test", &ds, &err) != STDBP_OK || ds.dim != d)
        bail("test data %s: %s", name, err.msg);
    for (size_t s = 0; s < N_SAMPLES && s < ds.n; s++)
        stdbp_encode(&cfg.encoding, &ds, s, x + s * d);
    nir_check_simulation(g, net, x, N_SAMPLES < ds.n ? N_SAMPLES : ds.n, H, "export");

    free(x);
    stdbp_dataset_free(&ds);
    stdbp_nir_free(&g);
    stdbp_net_destroy(&net);
    free(yaml);
    MPI_Finalize();
    return tap_failures() != 0;
}
