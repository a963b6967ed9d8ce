/* stdbp_import: a NIR graph of the shapes stdbp exports back into a
 * checkpoint that stdbp_eval, stdbp_deploy and stdbp_export read.
 *   stdbp_import IN.nir --run-dir DIR [--set key.path=value]...
 * Writes DIR/checkpoints/ckpt-<step>.h5 (step: the graph's metadata
 * source_step, else 0). The network comes from the graph: Input's shape,
 * Affine -> dense, Conv2d -> conv2d, SumPool2d -> pool, Flatten ->
 * flatten, each weighted layer followed by I -> IF (profile exact) or
 * CubaLIF (profile portable); theta from v_threshold (docs/NIR.md). The
 * rest of the config is the graph's metadata config_yaml when it has one
 * (stdbp's own exports), else the defaults with the metadata's encoding
 * and t_max; --set overrides either. Weights are the graph's float32
 * values, exactly. MPI program: one rank is enough; with more, every rank
 * reads the graph and rank 0 writes. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/nir.h"
#include "stdbp/stdbp.h"

static const char usage_head[] =
    "Usage: stdbp_import IN.nir --run-dir DIR [OPTION]...\n"
    "Read a NIR graph of the shapes stdbp_export writes (either profile) back into a\n"
    "checkpoint, DIR/checkpoints/ckpt-<step>.h5, that stdbp_eval, stdbp_deploy and\n"
    "stdbp_export read. Affine becomes dense, Conv2d conv2d, SumPool2d -> IF pool,\n"
    "Flatten flatten; theta is taken from the IF (or CubaLIF) v_threshold. The rest of\n"
    "the config is the one stored in the graph's metadata (config_yaml) when there is\n"
    "one, else the defaults with the metadata's encoding. Weights are the graph's\n"
    "float32 values, exactly. Mapping: docs/NIR.md.\n"
    "\n"
    "Options:\n";
static const char usage_tail[] = "\n"
                                 "Example:\n"
                                 "  stdbp_export runs/mnist --nir mnist.nir\n"
                                 "  stdbp_import mnist.nir --run-dir runs/mnist-imported\n"
                                 "  stdbp_eval runs/mnist-imported/checkpoints/ckpt-*.h5\n";

typedef struct import_args {
    const char *in, *run_dir;
    stdbp_cli_list sets;
    int quiet;
} import_args;

static int parse_args(int argc, char **argv, import_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_STRING,
         .name = "run-dir",
         .metavar = "DIR",
         .help = "write the checkpoint under DIR/checkpoints",
         .target = &a->run_dir},
        STDBP_CLI_OPT_SET(&a->sets, "override a key of the config (repeatable),\n"
                                    "e.g. --set data.test=hdf5:test.h5"),
        {.kind = STDBP_CLI_FLAG,
         .name = "quiet",
         .short_name = 'q',
         .help = "print nothing on success",
         .target = &a->quiet,
         .value = 1},
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {"stdbp_import", usage_head,         usage_tail, options,
                                 "IN.nir",       STDBP_CLI_GIVE_ONE, rank == 0};
    int rc;
    if ((rc = stdbp_cli_parse(&spec, argc, argv, &a->in)) != 0)
        return rc;
    if (!a->run_dir || !a->run_dir[0])
        return stdbp_cli_bad_usage(&spec, 1, "say where to write: --run-dir DIR");
    return 0;
}

/* ---- the graph -> layers ------------------------------------------------ */

#define MAX_LAYERS 64

typedef struct imp_layer {
    stdbp_layer_kind kind;
    int out, kernel, stride, padding;
    const stdbp_nir_value *weight; /* Affine / Conv2d */
} imp_layer;

typedef struct imported {
    int in_c, in_h, in_w;
    imp_layer layers[MAX_LAYERS];
    size_t n;
    int have_theta;
    float vth; /* v_threshold of the weighted layers */
    char text[8192];
} imported;

static stdbp_status bad(stdbp_err *err, const char *path, const char *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return stdbp_err_set(err, STDBP_EFORMAT, "%s: node %s: %s", path, node, msg);
}

static int all_equal(const stdbp_nir_value *v, double x)
{
    if (!v || v->kind != STDBP_NIR_FLOAT)
        return 0;
    for (size_t k = 0; k < v->n; k++)
        if (v->f[k] != x)
            return 0;
    return 1;
}

static int int_param(const stdbp_nir_node *nd, const char *name, int dflt, int *a, int *b)
{
    const stdbp_nir_value *v = stdbp_nir_param(nd, name);
    if (!v) {
        *a = *b = dflt;
        return 1;
    }
    if (v->kind != STDBP_NIR_INT || v->n < 1)
        return 0;
    *a = (int)v->i[0];
    *b = (int)v->i[v->n > 1 ? 1 : 0];
    return 1;
}

/* The layer number NN of a name "layerNN_...", or -1. */
static int layer_no(const char *name)
{
    int n = -1;
    if (name && sscanf(name, "layer%d_", &n) != 1)
        n = -1;
    return n;
}

/* The one successor of node name, or NULL. */
static const char *next_of(const stdbp_nir_graph *g, const char *name)
{
    const char *nx = NULL;
    for (size_t k = 0; k < g->n_edges; k++)
        if (!strcmp(stdbp_nir_edge_src(g, k), name)) {
            if (nx)
                return NULL;
            nx = stdbp_nir_edge_dst(g, k);
        }
    return nx;
}

static stdbp_status threshold(const char *path, const stdbp_nir_node *nd, imported *im,
                              stdbp_err *err)
{
    const stdbp_nir_value *v = stdbp_nir_param(nd, "v_threshold");
    if (!v || v->kind != STDBP_NIR_FLOAT || v->n == 0 || !all_equal(v, v->f[0]))
        return bad(err, path, nd->name, "v_threshold missing or not the same for every neuron");
    if (im->have_theta && (float)v->f[0] != im->vth)
        return bad(err, path, nd->name,
                   "v_threshold %.9g differs from an earlier layer's %.9g (stdbp has one theta)",
                   v->f[0], (double)im->vth);
    im->have_theta = 1;
    im->vth = (float)v->f[0];
    return STDBP_OK;
}

static stdbp_status push(const char *path, const char *node, imported *im, imp_layer L,
                         stdbp_err *err)
{
    if (im->n == MAX_LAYERS)
        return bad(err, path, node, "more than %d layers", MAX_LAYERS);
    im->layers[im->n++] = L;
    return STDBP_OK;
}

/* Walk the chain input -> ... -> output. */
static stdbp_status read_layers(const char *path, const stdbp_nir_graph *g, imported *im,
                                stdbp_err *err)
{
    const stdbp_nir_node *nd = stdbp_nir_node_find(g, "input");
    const stdbp_nir_value *sh = stdbp_nir_param(nd, "shape");
    enum { NONE, WEIGHTED, INTEGRATED, POOLED } pending = NONE;
    stdbp_status st = STDBP_OK;
    size_t visited = 0;
    if (!nd || strcmp(stdbp_nir_node_type(nd), "Input") || !sh || sh->kind != STDBP_NIR_INT ||
        (sh->n != 1 && sh->n != 3))
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: no Input node \"input\" with a shape (C) or (C, H, W)", path);
    im->in_c = (int)sh->i[0];
    im->in_h = sh->n == 3 ? (int)sh->i[1] : 1;
    im->in_w = sh->n == 3 ? (int)sh->i[2] : 1;
    for (const char *name = next_of(g, "input"); st == STDBP_OK; name = next_of(g, name)) {
        if (!name || ++visited > g->n_nodes)
            return stdbp_err_set(err, STDBP_EFORMAT,
                                 "%s: the graph is not a chain input -> ... -> output", path);
        nd = stdbp_nir_node_find(g, name);
        const char *t = stdbp_nir_node_type(nd);
        if (!nd)
            return bad(err, path, name, "an edge names it but there is no such node");
        const int neuron = !strcmp(t, "I") || !strcmp(t, "IF") || !strcmp(t, "CubaLIF");
        if (pending == WEIGHTED && !neuron)
            return bad(err, path, name, "a %s follows a weighted layer without its neurons", t);
        if (!strcmp(t, "Output")) {
            if (pending != NONE)
                return bad(err, path, name, "the graph ends inside a layer");
            break;
        }
        if (!strcmp(t, "Affine") || !strcmp(t, "Conv2d")) {
            const int conv = t[0] == 'C';
            const stdbp_nir_value *w = stdbp_nir_param(nd, "weight"),
                                  *b = stdbp_nir_param(nd, "bias");
            imp_layer L = {conv ? STDBP_LAYER_CONV2D : STDBP_LAYER_DENSE, 0, 0, 1, 0, w};
            int d0, d1, s0, s1, p0, p1, gr, gr1;
            if (pending != NONE)
                return bad(err, path, name, "a %s inside another layer", t);
            if (!w || w->kind != STDBP_NIR_FLOAT || w->rank != (conv ? 4 : 2))
                return bad(err, path, name, "weight is not a %d-D float array", conv ? 4 : 2);
            if (b && !all_equal(b, 0.0))
                return bad(err, path, name, "non-zero bias (stdbp's neurons have none)");
            L.out = (int)w->dims[0];
            if (conv) {
                if (w->dims[2] != w->dims[3] || !int_param(nd, "stride", 1, &s0, &s1) ||
                    !int_param(nd, "padding", 0, &p0, &p1) ||
                    !int_param(nd, "dilation", 1, &d0, &d1) ||
                    !int_param(nd, "groups", 1, &gr, &gr1) || s0 != s1 || p0 != p1 || d0 != 1 ||
                    d1 != 1 || gr != 1)
                    return bad(err, path, name,
                               "only square kernels, equal strides and paddings, dilation 1 "
                               "and groups 1 are stdbp conv2d layers");
                L.kernel = (int)w->dims[2];
                L.stride = s0;
                L.padding = p0;
            }
            st = push(path, name, im, L, err);
            pending = WEIGHTED;
        } else if (!strcmp(t, "I")) {
            if (pending != WEIGHTED || !all_equal(stdbp_nir_param(nd, "r"), 1.0))
                return bad(err, path, name, "an I node must follow Affine/Conv2d and have r = 1");
            pending = INTEGRATED;
        } else if (!strcmp(t, "IF")) {
            if (!all_equal(stdbp_nir_param(nd, "r"), 1.0))
                return bad(err, path, name, "r is not 1");
            if (pending == INTEGRATED)
                st = threshold(path, nd, im, err);
            else if (pending != POOLED)
                return bad(err, path, name, "an IF must follow I, or SumPool2d (the gate)");
            pending = NONE;
        } else if (!strcmp(t, "CubaLIF")) {
            if (pending != WEIGHTED)
                return bad(err, path, name, "a CubaLIF must follow Affine/Conv2d");
            st = threshold(path, nd, im, err);
            pending = NONE;
        } else if (!strcmp(t, "SumPool2d")) {
            imp_layer L = {STDBP_LAYER_POOL, 0, 0, 0, 0, NULL};
            int k1, s1, p1;
            if (pending != NONE || !int_param(nd, "kernel_size", 0, &L.kernel, &k1) ||
                !int_param(nd, "stride", L.kernel, &L.stride, &s1) ||
                !int_param(nd, "padding", 0, &L.padding, &p1) || L.kernel != k1 || L.stride != s1 ||
                L.padding != 0 || p1 != 0)
                return bad(err, path, name,
                           "only square windows, equal strides and no padding are stdbp pools");
            st = push(path, name, im, L, err);
            pending = POOLED;
        } else if (!strcmp(t, "Flatten")) {
            /* stdbp's dense flattens its input itself; a Flatten that
             * belongs to the next Affine's layer (same layerNN) is that. */
            const char *nx = next_of(g, name);
            const stdbp_nir_node *nn = nx ? stdbp_nir_node_find(g, nx) : NULL;
            if (pending != NONE)
                return bad(err, path, name, "a Flatten inside a layer");
            if (!(nn && !strcmp(stdbp_nir_node_type(nn), "Affine") && layer_no(name) >= 0 &&
                  layer_no(name) == layer_no(nx)))
                st = push(path, name, im, (imp_layer){STDBP_LAYER_FLATTEN, 0, 0, 0, 0, NULL}, err);
        } else {
            return bad(err, path, name,
                       "type \"%s\" is not one stdbp exports (Affine, Conv2d, I, IF, CubaLIF, "
                       "SumPool2d, Flatten)",
                       t);
        }
    }
    if (st == STDBP_OK && (!im->n || !im->have_theta))
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: no weighted layer", path);
    return st;
}

/* "[{type: dense, out: 10}, ...]" into im->text. */
static void layers_yaml(imported *im)
{
    size_t u = 0;
    const size_t cap = sizeof im->text;
    u += (size_t)snprintf(im->text + u, cap - u, "[");
    for (size_t l = 0; l < im->n && u < cap; l++) {
        const imp_layer *L = &im->layers[l];
        const char *sep = l ? ", " : "";
        switch (L->kind) {
        case STDBP_LAYER_DENSE:
            u += (size_t)snprintf(im->text + u, cap - u, "%s{type: dense, out: %d}", sep, L->out);
            break;
        case STDBP_LAYER_CONV2D:
            u += (size_t)snprintf(im->text + u, cap - u,
                                  "%s{type: conv2d, out: %d, kernel: %d, stride: %d, padding: %d}",
                                  sep, L->out, L->kernel, L->stride, L->padding);
            break;
        case STDBP_LAYER_POOL:
            u += (size_t)snprintf(im->text + u, cap - u, "%s{type: pool, kernel: %d, stride: %d}",
                                  sep, L->kernel, L->stride);
            break;
        case STDBP_LAYER_FLATTEN:
            u += (size_t)snprintf(im->text + u, cap - u, "%s{type: flatten}", sep);
            break;
        }
    }
    if (u < cap)
        snprintf(im->text + u, cap - u, "]");
}

/* The graph's float32 weights into stdbp's layouts (the inverse of
 * nir_write.c's transposes). */
static stdbp_status copy_weights(const char *path, const imported *im, stdbp_net *net,
                                 stdbp_err *err)
{
    double *p = stdbp_net_params(net);
    if (stdbp_net_num_layers(net) != im->n)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: %zu layers in the graph, %zu in the net",
                             path, im->n, stdbp_net_num_layers(net));
    for (size_t l = 0; l < im->n; l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        const stdbp_nir_value *w = im->layers[l].weight;
        double *q = p + L.param_offset;
        if (!w)
            continue;
        if (w->n != L.param_count)
            return stdbp_err_set(err, STDBP_EFORMAT,
                                 "%s: layer %zu: %zu weights in the graph, %zu in the net "
                                 "(the shapes do not chain)",
                                 path, l, w->n, L.param_count);
        if (L.kind == STDBP_LAYER_DENSE) {
            const size_t n_in = (size_t)L.in.c * L.in.h * L.in.w, n_out = (size_t)L.out.c;
            for (size_t i = 0; i < n_in; i++)
                for (size_t o = 0; o < n_out; o++)
                    q[i * n_out + o] = w->f[o * n_in + i];
        } else {
            const size_t ci = (size_t)L.in.c, co = (size_t)L.out.c, k = (size_t)L.kernel;
            for (size_t c = 0; c < ci; c++)
                for (size_t y = 0; y < k; y++)
                    for (size_t x = 0; x < k; x++)
                        for (size_t o = 0; o < co; o++)
                            q[((c * k + y) * k + x) * co + o] =
                                w->f[((o * ci + c) * k + y) * k + x];
        }
    }
    return STDBP_OK;
}

static const stdbp_nir_value *meta(const stdbp_nir_graph *g, const char *key, stdbp_nir_kind kind)
{
    const stdbp_nir_value *v = stdbp_nir_value_find(g->meta, g->n_meta, key);
    return v && v->kind == kind && v->n == 1 ? v : NULL;
}

/* The --set list: the graph's network first, then the user's. */
static stdbp_status build_sets(const stdbp_nir_graph *g, imported *im, const import_args *a,
                               char ***sets, int *n_sets, char store[][96], stdbp_err *err)
{
    const stdbp_nir_value *th = meta(g, "theta", STDBP_NIR_FLOAT),
                          *cy = meta(g, "config_yaml", STDBP_NIR_STRING),
                          *tm = meta(g, "t_max", STDBP_NIR_FLOAT),
                          *et = meta(g, "encoding_t_max", STDBP_NIR_FLOAT),
                          *ez = meta(g, "encoding_zero_silent", STDBP_NIR_INT),
                          *en = meta(g, "encoding_normalise", STDBP_NIR_INT);
    /* theta: the metadata's float64 value when it is the one v_threshold
     * came from, else the smallest float32 above v_threshold (the value
     * for which NIR's v > v_threshold is stdbp's V >= theta). */
    const double theta = th && stdbp_nir_threshold(th->f[0]) == im->vth
                             ? th->f[0]
                             : (double)nextafterf(im->vth, INFINITY);
    int n = 0;
    char **s = malloc((size_t)(a->sets.n + 8) * sizeof *s);
    if (!s)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    layers_yaml(im);
    s[n++] = NULL; /* network.layers=...: main puts it here */
    snprintf(store[0], 96, "network.theta=%.17g", theta);
    snprintf(store[1], 96, "network.input=[%d, %d, %d]", im->in_c, im->in_h, im->in_w);
    s[n++] = store[0];
    s[n++] = store[1];
    if (!cy) { /* a foreign graph: what the metadata says of the input code */
        if (tm && isinf(tm->f[0]))
            snprintf(store[2], 96, "network.t_max=.inf");
        else if (tm)
            snprintf(store[2], 96, "network.t_max=%.17g", tm->f[0]);
        if (tm)
            s[n++] = store[2];
        if (et) {
            snprintf(store[3], 96, "encoding.t_max=%.17g", et->f[0]);
            s[n++] = store[3];
        }
        if (ez) {
            snprintf(store[4], 96, "encoding.zero_silent=%s", ez->i[0] ? "true" : "false");
            s[n++] = store[4];
        }
        if (en) {
            snprintf(store[5], 96, "encoding.normalise=%s", en->i[0] ? "true" : "false");
            s[n++] = store[5];
        }
    }
    for (int k = 0; k < a->sets.n; k++)
        s[n++] = a->sets.items[k];
    *sets = s;
    *n_sets = n;
    return STDBP_OK;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    import_args args;
    stdbp_err err;
    stdbp_nir_graph *g = NULL;
    imported *im = calloc(1, sizeof *im);
    char **sets = NULL, *yaml = NULL, layers_set[8300], store[6][96], out_path[4096] = "";
    int n_sets = 0;
    stdbp_config cfg;
    stdbp_net *net = NULL;
    stdbp_train_state state;

    stdbp_cli_init(&argc, &argv, "stdbp_import");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&args, 0, sizeof args);
    int rc = parse_args(argc, argv, &args, rank);
    if (rc != 0) {
        free(args.sets.items);
        free(im);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }
    stdbp_status st = im ? STDBP_OK : stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    /* Every rank reads the (small) graph: the same file, the same verdict. */
    if (st == STDBP_OK)
        st = stdbp_nir_read(args.in, &g, &err);
    if (st == STDBP_OK)
        st = read_layers(args.in, g, im, &err);
    st = stdbp_dist_agree(comm, st, &err);
    if (st == STDBP_OK)
        st = build_sets(g, im, &args, &sets, &n_sets, store, &err);
    if (st == STDBP_OK) {
        const stdbp_nir_value *cy = meta(g, "config_yaml", STDBP_NIR_STRING);
        snprintf(layers_set, sizeof layers_set, "network.layers=%s", im->text);
        sets[0] = layers_set;
        st = stdbp_cli_load_config(comm, NULL, cy ? cy->s[0] : "", sets, n_sets, &cfg, &yaml, &err);
    }
    if (st == STDBP_OK)
        st = stdbp_net_create(cfg.network.input, cfg.network.layers, cfg.network.n_layers,
                              &cfg.network.neuron, &net, &err);
    if (st == STDBP_OK)
        st = copy_weights(args.in, im, net, &err);
    st = stdbp_dist_agree(comm, st, &err);
    if (st == STDBP_OK) {
        const stdbp_nir_value *step = meta(g, "source_step", STDBP_NIR_INT);
        memset(&state, 0, sizeof state);
        state.step = step && step->i[0] > 0 ? (uint64_t)step->i[0] : 0;
        st = stdbp_ckpt_write(comm, args.run_dir, net, NULL, &state, yaml, 0, out_path,
                              sizeof out_path, &err);
    }
    if (st == STDBP_OK && rank == 0 && !args.quiet)
        printf("stdbp_import: wrote %s (%zu layers, theta %.17g) from %s\n", out_path,
               stdbp_net_num_layers(net), stdbp_net_neuron(net)->theta, args.in);
    stdbp_net_destroy(&net);
    stdbp_nir_free(&g);
    free(sets);
    free(yaml);
    free(im);
    free(args.sets.items);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_import", &err);
    MPI_Finalize();
    return 0;
}
