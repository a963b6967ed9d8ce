/* NIR export (src/export/nir_write.c) in memory: an MLP and a CNN with pooling and
 * flatten are written, read back with the project's reader and checked
 * node by node against the networks; the graphs are simulated
 * clock-driven from the file's parameters and compared with the exact
 * forward; and the errors (a bad path, a layer NIR cannot express, a
 * weight float32 cannot hold, a file that is not NIR). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stdbp/nir.h"
#include "stdbp/rng.h"
#include "tap/basic.h"
#include "test_nir_util.h"

#define H 1e-4 /* simulation step */

static stdbp_net *make_net(stdbp_shape in, const stdbp_layer_spec *specs, size_t n, double t_max,
                           uint64_t seed)
{
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_init_params ip = stdbp_init_defaults();
    stdbp_net *net = NULL;
    stdbp_err err;
    np.t_max = t_max;
    ip.active_fraction = 0.3;
    if (stdbp_net_create(in, specs, n, &np, &net, &err) != STDBP_OK)
        bail("net: %s", err.msg);
    stdbp_net_init(net, &ip, seed);
    return net;
}

/* n inputs of latency-coded random intensities: a fifth silent. */
static double *make_inputs(const stdbp_net *net, size_t n, uint64_t seed)
{
    const size_t d = stdbp_net_input_size(net);
    double *x = malloc(n * d * sizeof *x);
    stdbp_rng r;
    stdbp_rng_seed(&r, seed);
    for (size_t k = 0; x && k < n * d; k++) {
        const double u = stdbp_rng_uniform(&r);
        x[k] = u < 0.2 ? INFINITY : 1.0 - stdbp_rng_uniform(&r);
    }
    return x;
}

static stdbp_nir_graph *write_read(const stdbp_net *net, const char *path,
                                   const stdbp_nir_source *src)
{
    stdbp_err err;
    stdbp_nir_graph *g = NULL;
    if (stdbp_nir_write(path, net, src, &err) != STDBP_OK)
        bail("write %s: %s", path, err.msg);
    if (stdbp_nir_read(path, &g, &err) != STDBP_OK)
        bail("read %s: %s", path, err.msg);
    return g;
}

static const char *meta_str(const stdbp_nir_graph *g, const char *key)
{
    const stdbp_nir_value *v = stdbp_nir_value_find(g->meta, g->n_meta, key);
    return v && v->kind == STDBP_NIR_STRING ? v->s[0] : "";
}

static void test_mlp(const char *dir)
{
    const stdbp_layer_spec specs[] = {{STDBP_LAYER_DENSE, 20, 0, 0, 0},
                                      {STDBP_LAYER_DENSE, 5, 0, 0, 0}};
    stdbp_net *net = make_net((stdbp_shape){1, 6, 6}, specs, 2, INFINITY, 3);
    stdbp_encoding enc = stdbp_encoding_defaults();
    char path[512];
    enc.t_max = 2.5;
    const stdbp_nir_source src = {.checkpoint = "mem.h5",
                                  .digest = "sha256:00",
                                  .has_step = 1,
                                  .step = 42,
                                  .config_yaml = "run: {name: mlp}\n",
                                  .encoding = &enc};
    snprintf(path, sizeof path, "%s/mlp.nir", dir);
    stdbp_nir_graph *g = write_read(net, path, &src);
    nir_check_graph(g, net, 2.5, "mlp");
    const stdbp_nir_value *step = stdbp_nir_value_find(g->meta, g->n_meta, "source_step");
    ok(step && step->kind == STDBP_NIR_INT && step->i[0] == 42 &&
           !strcmp(meta_str(g, "source_checkpoint"), "mem.h5") &&
           !strcmp(meta_str(g, "source_digest"), "sha256:00") &&
           !strcmp(meta_str(g, "config_yaml"), "run: {name: mlp}\n") &&
           !strcmp(meta_str(g, "layers"), "dense(20): 1x6x6 -> 20x1x1; dense(5): 20x1x1 -> 5x1x1"),
       "mlp: provenance metadata (checkpoint, digest, step, config, layers)");
    char tmp[520];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ok(access(path, F_OK) == 0 && access(tmp, F_OK) != 0, "mlp: written atomically (no .tmp left)");
    double *x = make_inputs(net, 6, 9);
    nir_check_simulation(g, net, x, 6, H, "mlp");
    free(x);
    stdbp_nir_free(&g);
    ok(g == NULL, "stdbp_nir_free NULLs the handle");
    stdbp_nir_free(&g); /* accepts NULL */
    stdbp_net_destroy(&net);
}

static void test_cnn(const char *dir)
{
    const stdbp_layer_spec specs[] = {
        {STDBP_LAYER_CONV2D, 3, 3, 1, 1}, /* 2x9x9 -> 3x9x9 */
        {STDBP_LAYER_POOL, 0, 2, 0, 0},   /* -> 3x4x4 (stride = kernel) */
        {STDBP_LAYER_CONV2D, 4, 3, 2, 1}, /* -> 4x2x2 */
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0},
        {STDBP_LAYER_DENSE, 5, 0, 0, 0}};
    stdbp_net *net = make_net((stdbp_shape){2, 9, 9}, specs, 5, INFINITY, 5);
    char path[512];
    snprintf(path, sizeof path, "%s/cnn.nir", dir);
    stdbp_nir_graph *g = write_read(net, path, NULL);
    nir_check_graph(g, net, 0, "cnn");
    const stdbp_nir_node *pool = stdbp_nir_node_find(g, "layer01_sumpool2d");
    const stdbp_nir_node *gate = stdbp_nir_node_find(g, "layer01_if");
    ok(pool && gate && !stdbp_nir_node_find(g, "layer01_i") &&
           strstr(meta_str(g, "pooling"), "earliest spike") &&
           strstr(meta_str(g, "pooling"), "SumPool2d alone is not equivalent"),
       "cnn: pooling is SumPool2d -> IF gate, its semantics in metadata 'pooling'");
    double *x = make_inputs(net, 5, 11);
    nir_check_simulation(g, net, x, 5, H, "cnn");
    free(x);
    stdbp_nir_free(&g);
    stdbp_net_destroy(&net);
}

/* A window t_max: neurons that would fire later are silent. */
static void test_window(const char *dir)
{
    const stdbp_layer_spec specs[] = {{STDBP_LAYER_DENSE, 16, 0, 0, 0},
                                      {STDBP_LAYER_DENSE, 4, 0, 0, 0}};
    stdbp_net *net = make_net((stdbp_shape){12, 1, 1}, specs, 2, 1.6, 8);
    char path[512];
    snprintf(path, sizeof path, "%s/win.nir", dir);
    stdbp_nir_graph *g = write_read(net, path, NULL);
    const stdbp_nir_node *in = stdbp_nir_node_find(g, "input");
    const stdbp_nir_value *shape = stdbp_nir_param(in, "shape");
    ok(shape && shape->n == 1 && shape->i[0] == 12 && !stdbp_nir_node_find(g, "layer00_flatten"),
       "flat data (12 x 1 x 1): Input shape (12), no Flatten");
    nir_check_graph(g, net, 0, "window");
    double *x = make_inputs(net, 8, 13);
    nir_check_simulation(g, net, x, 8, H, "window t_max 1.6");
    free(x);
    stdbp_nir_free(&g);
    stdbp_net_destroy(&net);
}

static void test_errors(const char *dir)
{
    stdbp_err err;
    char path[512], tmp[520];
    stdbp_nir_graph *g = NULL;
    const stdbp_layer_spec mlp[] = {{STDBP_LAYER_DENSE, 4, 0, 0, 0}};
    stdbp_net *net = make_net((stdbp_shape){1, 3, 3}, mlp, 1, INFINITY, 1);

    stdbp_status st = stdbp_nir_write("/nonexistent-dir/x.nir", net, NULL, &err);
    ok(st == STDBP_EIO && strstr(err.msg, "/nonexistent-dir/x.nir"),
       "unwritable path: STDBP_EIO naming the file (%s)", err.msg);

    /* A conv2d after a dense layer: NIR has no Unflatten. */
    const stdbp_layer_spec conv_after[] = {{STDBP_LAYER_DENSE, 4, 0, 0, 0},
                                           {STDBP_LAYER_CONV2D, 2, 1, 1, 0}};
    stdbp_net *bad = make_net((stdbp_shape){1, 3, 3}, conv_after, 2, INFINITY, 1);
    snprintf(path, sizeof path, "%s/bad.nir", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    st = stdbp_nir_write(path, bad, NULL, &err);
    ok(st == STDBP_EINVAL && strstr(err.msg, "layer 1") && strstr(err.msg, "Unflatten") &&
           access(path, F_OK) != 0 && access(tmp, F_OK) != 0,
       "conv2d after dense: STDBP_EINVAL naming layer 1, no file left (%s)", err.msg);
    stdbp_net_destroy(&bad);

    /* A weight beyond float32; an existing file at the path is kept. */
    snprintf(path, sizeof path, "%s/keep.nir", dir);
    if (stdbp_nir_write(path, net, NULL, &err) != STDBP_OK)
        bail("%s", err.msg);
    stdbp_net_params(net)[3] = 1e39;
    st = stdbp_nir_write(path, net, NULL, &err);
    int kept = stdbp_nir_read(path, &g, &err) == STDBP_OK;
    ok(st == STDBP_ERANGE && kept && g && g->n_nodes == 6,
       "a weight of 1e39: STDBP_ERANGE naming the layer; the older file is intact");
    stdbp_nir_free(&g);
    stdbp_net_params(net)[3] = 0.5;
    ok(stdbp_nir_write(path, net, NULL, &err) == STDBP_OK && access(tmp, F_OK) != 0,
       "an existing file is replaced");

    st = stdbp_nir_read(dir, &g, &err);
    ok(st == STDBP_EIO && g == NULL && strstr(err.msg, "directory"),
       "reading a directory: STDBP_EIO (%s)", err.msg);
    snprintf(path, sizeof path, "%s/text.nir", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("not hdf5\n", f);
        fclose(f);
    }
    st = stdbp_nir_read(path, &g, &err);
    ok(st == STDBP_EIO && strstr(err.msg, "text.nir") && strstr(err.msg, "not an HDF5"),
       "a text file: STDBP_EIO (%s)", err.msg);
    stdbp_net_destroy(&net);
}

int main(void)
{
    const char *dir = test_tmpdir();
    plan(3 * NIR_CHECK_GRAPH_TESTS + 3 * NIR_CHECK_SIM_TESTS + 4 + 1 + 6);
    test_mlp(dir);
    test_cnn(dir);
    test_window(dir);
    test_errors(dir);
    return tap_failures() != 0;
}
