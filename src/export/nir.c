/* NIR export and reading; see nir.h and docs/NIR.md. */
#include "stdbp/nir.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/h5util.h"
#include "stdbp/version.h"

/* ---- writing: small typed datasets ---------------------------------- */

/* A dataset of file type ftype from memory of type mtype; rank 0 is a
 * scalar. Returns 0 or -1. */
static int put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
               const void *data)
{
    int rc = -1;
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5I_INVALID_HID;
    if (space < 0)
        return -1;
    ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0)
        rc = 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(space);
    return rc;
}

/* Variable-length UTF-8 strings (h5py.string_dtype()), n = prod(dims). */
static int put_strs(hid_t loc, const char *name, int rank, const hsize_t *dims,
                    const char *const *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (t < 0)
        return -1;
    if (H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
        rc = put(loc, name, t, t, rank, dims, s);
    H5Tclose(t);
    return rc;
}

static int put_str(hid_t loc, const char *name, const char *s)
{
    return put_strs(loc, name, 0, NULL, &s);
}

static int put_i64(hid_t loc, const char *name, int rank, const hsize_t *dims, const int64_t *v)
{
    return put(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, rank, dims, v);
}

static int put_i64_scalar(hid_t loc, const char *name, int64_t v)
{
    return put_i64(loc, name, 0, NULL, &v);
}

static int put_i64_pair(hid_t loc, const char *name, int64_t a, int64_t b)
{
    const int64_t v[2] = {a, b};
    const hsize_t d[1] = {2};
    return put_i64(loc, name, 1, d, v);
}

static int put_f32(hid_t loc, const char *name, int rank, const hsize_t *dims, const float *v)
{
    return put(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims, v);
}

static int put_f64_scalar(hid_t loc, const char *name, double v)
{
    return put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v);
}

/* ---- writing: the graph --------------------------------------------- */

#define NAME_LEN 48
#define MAX_NODES_PER_LAYER 4

typedef struct nir_writer {
    hid_t nodes; /* /node/nodes */
    char (*edges)[2][NAME_LEN];
    size_t n_edges, cap_edges;
    char prev[NAME_LEN]; /* the node the next one follows */
    stdbp_err *err;
    char h5msg[256];
} nir_writer;

static stdbp_status h5_fail(nir_writer *w, const char *what)
{
    return stdbp_err_set(w->err, STDBP_EIO, "writing %s failed: %s", what,
                         stdbp_h5_error(w->h5msg, sizeof w->h5msg));
}

/* Append the edge prev -> name and make name the new prev. */
static stdbp_status chain(nir_writer *w, const char *name)
{
    if (w->n_edges == w->cap_edges) {
        size_t cap = w->cap_edges ? 2 * w->cap_edges : 16;
        void *p = realloc(w->edges, cap * sizeof *w->edges);
        if (!p)
            return stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for the NIR edges");
        w->edges = p;
        w->cap_edges = cap;
    }
    snprintf(w->edges[w->n_edges][0], NAME_LEN, "%s", w->prev);
    snprintf(w->edges[w->n_edges][1], NAME_LEN, "%s", name);
    w->n_edges++;
    snprintf(w->prev, sizeof w->prev, "%s", name);
    return STDBP_OK;
}

/* Create /node/nodes/<name> with its type; H5I_INVALID_HID on failure
 * (the message is in w->err). */
static hid_t node_begin(nir_writer *w, const char *name, const char *type)
{
    hid_t g = H5Gcreate2(w->nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || put_str(g, "type", type) < 0) {
        if (g >= 0)
            H5Gclose(g);
        h5_fail(w, name);
        return H5I_INVALID_HID;
    }
    return g;
}

/* Close a node group; on a failed put (ok == 0) report it. */
static stdbp_status node_end(nir_writer *w, hid_t g, const char *name, int ok)
{
    stdbp_status st = ok ? STDBP_OK : h5_fail(w, name);
    if (H5Gclose(g) < 0 && st == STDBP_OK)
        st = h5_fail(w, name);
    return st == STDBP_OK ? chain(w, name) : st;
}

/* NIR's shape of a stdbp activation: (C, H, W), or (C*H*W) when flat. */
static int nir_dims(stdbp_shape s, int flat, hsize_t *d)
{
    if (flat) {
        d[0] = (hsize_t)s.c * (hsize_t)s.h * (hsize_t)s.w;
        return 1;
    }
    d[0] = (hsize_t)s.c;
    d[1] = (hsize_t)s.h;
    d[2] = (hsize_t)s.w;
    return 3;
}

static stdbp_status write_shape_node(nir_writer *w, const char *name, const char *type,
                                     stdbp_shape s, int flat)
{
    hsize_t d[3], one[1];
    int64_t v[3];
    const int rank = nir_dims(s, flat, d);
    hid_t g = node_begin(w, name, type);
    if (g < 0)
        return w->err->code;
    for (int k = 0; k < rank; k++)
        v[k] = (int64_t)d[k];
    one[0] = (hsize_t)rank;
    int ok = put_i64(g, "shape", 1, one, v) == 0;
    stdbp_status st = ok ? STDBP_OK : h5_fail(w, name);
    if (H5Gclose(g) < 0 && st == STDBP_OK)
        st = h5_fail(w, name);
    return st;
}

/* Flatten (start_dim 0, end_dim -1: NIR shapes have no batch axis). */
static stdbp_status write_flatten(nir_writer *w, const char *name, stdbp_shape in, int flat)
{
    hsize_t d[3], one[1];
    int64_t v[3];
    const int rank = nir_dims(in, flat, d);
    hid_t g = node_begin(w, name, "Flatten");
    if (g < 0)
        return w->err->code;
    for (int k = 0; k < rank; k++)
        v[k] = (int64_t)d[k];
    one[0] = (hsize_t)rank;
    int ok = put_i64_scalar(g, "start_dim", 0) == 0 && put_i64_scalar(g, "end_dim", -1) == 0 &&
             put_i64(g, "input_type", 1, one, v) == 0;
    return node_end(w, g, name, ok);
}

/* An array of n copies of value in the neuron shape s. */
static int put_filled(hid_t g, const char *name, stdbp_shape s, int flat, float value)
{
    hsize_t d[3];
    const int rank = nir_dims(s, flat, d);
    const size_t n = (size_t)s.c * (size_t)s.h * (size_t)s.w;
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    for (size_t k = 0; k < n; k++)
        v[k] = value;
    int rc = put_f32(g, name, rank, d, v);
    free(v);
    return rc;
}

/* layerNN_i (r = 1) and layerNN_if (r = 1, v_threshold): the ReL-PSP
 * neuron is an integrator of a step current, fired once at threshold. */
static stdbp_status write_neurons(nir_writer *w, const char *prefix, stdbp_shape s, int flat,
                                  int with_i, float threshold)
{
    char name[NAME_LEN];
    stdbp_status st;
    hid_t g;
    if (with_i) {
        snprintf(name, sizeof name, "%s_i", prefix);
        if ((g = node_begin(w, name, "I")) < 0)
            return w->err->code;
        if ((st = node_end(w, g, name, put_filled(g, "r", s, flat, 1.0f) == 0)) != STDBP_OK)
            return st;
    }
    snprintf(name, sizeof name, "%s_if", prefix);
    if ((g = node_begin(w, name, "IF")) < 0)
        return w->err->code;
    int ok = put_filled(g, "r", s, flat, 1.0f) == 0 &&
             put_filled(g, "v_threshold", s, flat, threshold) == 0;
    return node_end(w, g, name, ok);
}

/* Round w to float32; STDBP_ERANGE if it does not fit. */
static stdbp_status to_f32(nir_writer *w, size_t layer, double v, float *out)
{
    const float f = (float)v;
    if (!isfinite(f))
        return stdbp_err_set(w->err, STDBP_ERANGE,
                             "layer %zu: weight %g is not finite in float32 (NIR stores float32)",
                             layer, v);
    *out = f;
    return STDBP_OK;
}

/* Affine: weight (out, in) = transpose of stdbp's W[in][out]; bias 0. */
static stdbp_status write_affine(nir_writer *w, const char *name, size_t layer,
                                 const stdbp_layer_info *L, const double *p)
{
    const size_t n_in = (size_t)L->in.c * L->in.h * L->in.w, n_out = (size_t)L->out.c;
    float *wt = malloc(n_in * n_out * sizeof *wt), *bias = calloc(n_out, sizeof *bias);
    stdbp_status st = STDBP_OK;
    if (!wt || !bias)
        st = stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for layer %zu", layer);
    for (size_t i = 0; st == STDBP_OK && i < n_in; i++)
        for (size_t o = 0; st == STDBP_OK && o < n_out; o++)
            st = to_f32(w, layer, p[i * n_out + o], &wt[o * n_in + i]);
    if (st == STDBP_OK) {
        const hsize_t d[2] = {n_out, n_in}, db[1] = {n_out};
        hid_t g = node_begin(w, name, "Affine");
        if (g < 0)
            st = w->err->code;
        else
            st = node_end(w, g, name,
                          put_f32(g, "weight", 2, d, wt) == 0 &&
                              put_f32(g, "bias", 1, db, bias) == 0);
    }
    free(wt);
    free(bias);
    return st;
}

/* Conv2d: weight (C_out, C_in, kH, kW) from stdbp's W[c_in][ky][kx][c_out];
 * stride, padding, dilation int64[2]; groups 1; input_shape (H, W). */
static stdbp_status write_conv(nir_writer *w, const char *name, size_t layer,
                               const stdbp_layer_info *L, const double *p)
{
    const size_t ci = (size_t)L->in.c, co = (size_t)L->out.c, k = (size_t)L->kernel;
    float *wt = malloc(ci * k * k * co * sizeof *wt), *bias = calloc(co, sizeof *bias);
    stdbp_status st = STDBP_OK;
    if (!wt || !bias)
        st = stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for layer %zu", layer);
    for (size_t c = 0; st == STDBP_OK && c < ci; c++)
        for (size_t y = 0; st == STDBP_OK && y < k; y++)
            for (size_t x = 0; st == STDBP_OK && x < k; x++)
                for (size_t o = 0; st == STDBP_OK && o < co; o++)
                    st = to_f32(w, layer, p[((c * k + y) * k + x) * co + o],
                                &wt[((o * ci + c) * k + y) * k + x]);
    if (st == STDBP_OK) {
        const hsize_t d[4] = {co, ci, k, k}, db[1] = {co};
        hid_t g = node_begin(w, name, "Conv2d");
        if (g < 0) {
            st = w->err->code;
        } else {
            int ok = put_f32(g, "weight", 4, d, wt) == 0 && put_f32(g, "bias", 1, db, bias) == 0 &&
                     put_i64_pair(g, "stride", L->stride, L->stride) == 0 &&
                     put_i64_pair(g, "padding", L->padding, L->padding) == 0 &&
                     put_i64_pair(g, "dilation", 1, 1) == 0 &&
                     put_i64_scalar(g, "groups", 1) == 0 &&
                     put_i64_pair(g, "input_shape", L->in.h, L->in.w) == 0;
            st = node_end(w, g, name, ok);
        }
    }
    free(wt);
    free(bias);
    return st;
}

static stdbp_status write_sumpool(nir_writer *w, const char *name, const stdbp_layer_info *L)
{
    hid_t g = node_begin(w, name, "SumPool2d");
    if (g < 0)
        return w->err->code;
    int ok = put_i64_pair(g, "kernel_size", L->kernel, L->kernel) == 0 &&
             put_i64_pair(g, "stride", L->stride, L->stride) == 0 &&
             put_i64_pair(g, "padding", L->padding, L->padding) == 0;
    return node_end(w, g, name, ok);
}

/* "dense(24): 1x8x8 -> 24x1x1; ..." into a malloc'd string. */
static char *describe_layers(const stdbp_net *net)
{
    const size_t n = stdbp_net_num_layers(net);
    size_t len = 1, used = 0;
    char buf[128], *s;
    for (size_t i = 0; i < n; i++) {
        stdbp_layer_info L = stdbp_net_layer(net, i);
        len += strlen(stdbp_layer_describe(&L, buf, sizeof buf)) + 80;
    }
    if (!(s = malloc(len)))
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        stdbp_layer_info L = stdbp_net_layer(net, i);
        used += (size_t)snprintf(s + used, len - used, "%s%s: %dx%dx%d -> %dx%dx%d", i ? "; " : "",
                                 stdbp_layer_describe(&L, buf, sizeof buf), L.in.c, L.in.h, L.in.w,
                                 L.out.c, L.out.h, L.out.w);
    }
    return s;
}

static const char meta_neuron[] =
    "ReL-PSP: V_j(t) = sum_i w_ij K(t - t_i) with K(x) = max(x, 0), a ramp with no leak and no "
    "decay. Each chain layerNN_affine (or _conv2d) -> layerNN_i -> layerNN_if computes exactly "
    "this: the I node (r = 1) turns the weighted input spikes into a step current, the IF node "
    "(r = 1) integrates it into the ramp V. Biases are zero.";
static const char meta_fire[] =
    "Every IF node fires at most once: at the first time V reaches v_threshold (V >= theta), and "
    "never again (no reset; v_reset is irrelevant). A neuron whose crossing would come after "
    "t_max is silent (t_max = inf: no window).";
static const char meta_pool[] =
    "stdbp pooling takes the earliest spike of each window: out = min of the input spike times "
    "(padding is silent). It is exported as layerNN_sumpool2d followed by layerNN_if with r = 1 "
    "and v_threshold = 0.5: the first spike into a window lifts v to >= 1 and the gate fires at "
    "that instant, which with fire-once is exact. SumPool2d alone is not equivalent (it passes "
    "on every spike of the window, summed; AvgPool2d also scales them), and without fire-once "
    "the gate fires again at each later spike of the window.";
static const char meta_time[] =
    "Model units: spike times, t_max and encoding_t_max share one unit with no physical scale. "
    "Choose a backend's time step relative to encoding_t_max (e.g. encoding_t_max / 1000).";
static const char meta_encoding[] =
    "Latency code: input neuron k fires once at t = encoding_t_max * (1 - x_k) for its intensity "
    "x_k in [0, 1] (brighter fires earlier); with encoding_zero_silent = 1, x_k = 0 never fires; "
    "with encoding_normalise = 1, x is first divided by the sample's largest intensity. Input "
    "order is channel-major C x H x W (index c*H*W + y*W + x), as the Input node's shape says.";
static const char meta_decoding[] =
    "The predicted class is the output neuron that fires first; a neuron that never fires counts "
    "as t = +inf.";
static const char meta_weights[] =
    "float32, rounded from stdbp's float64. Affine weight (out, in) is stdbp's W[in][out] "
    "transposed; Conv2d weight (C_out, C_in, kH, kW) is stdbp's W[c_in][ky][kx][c_out] permuted "
    "(cross-correlation, as PyTorch). Flatten order c*H*W + y*W + x.";

static stdbp_status write_metadata(nir_writer *w, hid_t node, const stdbp_net *net,
                                   const stdbp_nir_source *src)
{
    const stdbp_neuron_params *np = stdbp_net_neuron(net);
    const stdbp_encoding enc = src && src->encoding ? *src->encoding : stdbp_encoding_defaults();
    char *layers = describe_layers(net);
    stdbp_status st = STDBP_OK;
    hid_t g = H5I_INVALID_HID;
    if (!layers)
        return stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for the NIR metadata");
    g = H5Gcreate2(node, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok =
        g >= 0 && put_str(g, "generator", "stdbp " STDBP_VERSION) == 0 &&
        put_i64_scalar(g, "stdbp_mapping", STDBP_NIR_MAPPING) == 0 &&
        put_str(g, "neuron_model", meta_neuron) == 0 && put_i64_scalar(g, "fire_once", 1) == 0 &&
        put_str(g, "fire_rule", meta_fire) == 0 && put_f64_scalar(g, "theta", np->theta) == 0 &&
        put_f64_scalar(g, "t_max", np->t_max) == 0 && put_str(g, "pooling", meta_pool) == 0 &&
        put_str(g, "time_unit", meta_time) == 0 && put_str(g, "encoding", meta_encoding) == 0 &&
        put_f64_scalar(g, "encoding_t_max", enc.t_max) == 0 &&
        put_i64_scalar(g, "encoding_zero_silent", enc.zero_silent != 0) == 0 &&
        put_i64_scalar(g, "encoding_normalise", enc.normalise != 0) == 0 &&
        put_str(g, "decoding", meta_decoding) == 0 && put_str(g, "weights", meta_weights) == 0 &&
        put_str(g, "layers", layers) == 0;
    if (ok && src && src->checkpoint)
        ok = put_str(g, "source_checkpoint", src->checkpoint) == 0;
    if (ok && src && src->digest)
        ok = put_str(g, "source_digest", src->digest) == 0;
    if (ok && src && src->has_step)
        ok = put_i64_scalar(g, "source_step", (int64_t)src->step) == 0;
    if (ok && src && src->config_yaml)
        ok = put_str(g, "config_yaml", src->config_yaml) == 0;
    if (!ok)
        st = h5_fail(w, "/node/metadata");
    if (g >= 0)
        H5Gclose(g);
    free(layers);
    return st;
}

/* The whole graph into an open file. */
static stdbp_status write_graph(nir_writer *w, hid_t file, const stdbp_net *net,
                                const stdbp_nir_source *src)
{
    const size_t n_layers = stdbp_net_num_layers(net);
    const double *params = stdbp_net_params_const(net);
    const float theta = (float)stdbp_net_neuron(net)->theta;
    stdbp_status st = STDBP_OK;
    hid_t node = H5I_INVALID_HID;
    char prefix[24], name[NAME_LEN];

    if (put_str(file, "version", STDBP_NIR_VERSION) < 0)
        return h5_fail(w, "/version");
    node = H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (node < 0 || put_str(node, "type", "NIRGraph") < 0 ||
        (w->nodes = H5Gcreate2(node, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        st = h5_fail(w, "/node");
        goto done;
    }

    /* The input: (C, H, W), or (C) for flat data (H = W = 1). */
    stdbp_shape cur = n_layers ? stdbp_net_layer(net, 0).in : (stdbp_shape){0, 0, 0};
    int flat = cur.h == 1 && cur.w == 1;
    if ((st = write_shape_node(w, "input", "Input", cur, flat)) != STDBP_OK)
        goto done;
    snprintf(w->prev, sizeof w->prev, "input");

    for (size_t l = 0; l < n_layers && st == STDBP_OK; l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        const double *p = params + L.param_offset;
        snprintf(prefix, sizeof prefix, "layer%02u", (unsigned)l);
        switch (L.kind) {
        case STDBP_LAYER_DENSE:
            if (!flat) {
                snprintf(name, sizeof name, "%s_flatten", prefix);
                if ((st = write_flatten(w, name, cur, 0)) != STDBP_OK)
                    break;
            }
            snprintf(name, sizeof name, "%s_affine", prefix);
            if ((st = write_affine(w, name, l, &L, p)) == STDBP_OK)
                st = write_neurons(w, prefix, L.out, 1, 1, theta);
            flat = 1;
            break;
        case STDBP_LAYER_CONV2D:
        case STDBP_LAYER_POOL: {
            const int conv = L.kind == STDBP_LAYER_CONV2D;
            if (flat) {
                st = l == 0 ? stdbp_err_set(w->err, STDBP_EINVAL,
                                            "layer 0: %s on a flat %d-value input cannot be "
                                            "expressed in NIR; give the data an H x W shape",
                                            conv ? "conv2d" : "pool", cur.c)
                            : stdbp_err_set(w->err, STDBP_EINVAL,
                                            "layer %zu: %s after a flat layer cannot be "
                                            "expressed in NIR (it has no Unflatten node)",
                                            l, conv ? "conv2d" : "pool");
                break;
            }
            snprintf(name, sizeof name, "%s_%s", prefix, conv ? "conv2d" : "sumpool2d");
            st = conv ? write_conv(w, name, l, &L, p) : write_sumpool(w, name, &L);
            if (st == STDBP_OK)
                st = write_neurons(w, prefix, L.out, 0, conv,
                                   conv ? theta : (float)STDBP_NIR_POOL_THRESHOLD);
            break;
        }
        case STDBP_LAYER_FLATTEN:
            snprintf(name, sizeof name, "%s_flatten", prefix);
            st = write_flatten(w, name, cur, flat);
            flat = 1;
            break;
        }
        cur = L.out;
    }
    if (st != STDBP_OK)
        goto done;
    if ((st = write_shape_node(w, "output", "Output", cur, flat)) != STDBP_OK ||
        (st = chain(w, "output")) != STDBP_OK)
        goto done;

    /* Edges: (E, 2) strings. */
    {
        const char **s = malloc(2 * w->n_edges * sizeof *s);
        const hsize_t d[2] = {w->n_edges, 2};
        if (!s) {
            st = stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for the NIR edges");
            goto done;
        }
        for (size_t k = 0; k < w->n_edges; k++) {
            s[2 * k] = w->edges[k][0];
            s[2 * k + 1] = w->edges[k][1];
        }
        if (put_strs(node, "edges", 2, d, s) < 0)
            st = h5_fail(w, "/node/edges");
        free(s);
    }
    if (st == STDBP_OK)
        st = write_metadata(w, node, net, src);
done:
    if (w->nodes >= 0)
        H5Gclose(w->nodes);
    w->nodes = H5I_INVALID_HID;
    if (node >= 0)
        H5Gclose(node);
    return st;
}

stdbp_status stdbp_nir_write(const char *path, const stdbp_net *net, const stdbp_nir_source *src,
                             stdbp_err *err)
{
    nir_writer w = {.nodes = H5I_INVALID_HID, .err = err};
    stdbp_err local;
    stdbp_h5_quiet q;
    stdbp_status st = STDBP_OK;
    char *tmp = NULL;
    hid_t file = H5I_INVALID_HID;

    if (!err)
        w.err = err = &local;
    if (!path || !path[0] || !net)
        return stdbp_err_set(err, STDBP_EINVAL, "stdbp_nir_write: no path or no network");
    if (stdbp_net_num_layers(net) == 0)
        return stdbp_err_set(err, STDBP_EINVAL, "%s: the network has no layers", path);
    if (!(tmp = malloc(strlen(path) + 5)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    sprintf(tmp, "%s.tmp", path);

    stdbp_h5_quiet_begin(&q);
    /* fopen first: its errno says why better than HDF5's stack does. */
    FILE *probe = fopen(tmp, "wb");
    if (!probe) {
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        goto done;
    }
    fclose(probe);
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot create %s: %s", path, tmp,
                           stdbp_h5_error(w.h5msg, sizeof w.h5msg));
        goto done;
    }
    st = write_graph(&w, file, net, src);
    if (st == STDBP_OK && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        st = h5_fail(&w, tmp);
    if (H5Fclose(file) < 0 && st == STDBP_OK)
        st = h5_fail(&w, tmp);
    file = H5I_INVALID_HID;
    if (st == STDBP_OK && rename(tmp, path) != 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot rename %s to it: %s", path, tmp,
                           strerror(errno));
    else if (st != STDBP_OK)
        stdbp_err_prefix(err, "%s: ", path);
done:
    if (st != STDBP_OK)
        remove(tmp);
    stdbp_h5_quiet_end(&q);
    free(w.edges);
    free(tmp);
    return st;
}

/* ---- reading ---------------------------------------------------------- */

static void value_free(stdbp_nir_value *v)
{
    if (v->s)
        for (size_t k = 0; k < v->n; k++)
            free(v->s[k]);
    free(v->s);
    free(v->f);
    free(v->i);
    free(v->name);
    memset(v, 0, sizeof *v);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Read dataset loc/name into *v. */
static stdbp_status read_value(hid_t loc, const char *name, const char *where, stdbp_nir_value *v,
                               stdbp_err *err)
{
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, ft = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    hsize_t dims[STDBP_NIR_MAX_RANK];
    stdbp_status st = STDBP_OK;
    char *buf = NULL, **vs = NULL, h5msg[256];
    int rank;

    memset(v, 0, sizeof *v);
    if (!(v->name = dup_str(name)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((ds = H5Dopen2(loc, name, H5P_DEFAULT)) < 0 || (space = H5Dget_space(ds)) < 0 ||
        (ft = H5Dget_type(ds)) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: cannot open: %s", where, name,
                           stdbp_h5_error(h5msg, sizeof h5msg));
        goto done;
    }
    rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > STDBP_NIR_MAX_RANK) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: unsupported rank %d", where, name, rank);
        goto done;
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    v->rank = rank;
    v->n = 1;
    for (int k = 0; k < rank; k++) {
        v->dims[k] = (size_t)dims[k];
        v->n *= (size_t)dims[k];
    }
    switch (H5Tget_class(ft)) {
    case H5T_FLOAT:
        v->kind = STDBP_NIR_FLOAT;
        v->bits = (int)(8 * H5Tget_size(ft));
        if (!(v->f = malloc((v->n ? v->n : 1) * sizeof *v->f)))
            goto nomem;
        if (v->n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->f) < 0)
            goto readfail;
        break;
    case H5T_INTEGER:
        v->kind = STDBP_NIR_INT;
        v->bits = (int)(8 * H5Tget_size(ft));
        v->is_signed = H5Tget_sign(ft) == H5T_SGN_2;
        if (!(v->i = malloc((v->n ? v->n : 1) * sizeof *v->i)))
            goto nomem;
        if (v->n && H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->i) < 0)
            goto readfail;
        break;
    case H5T_STRING: {
        const size_t size = H5Tget_size(ft);
        v->kind = STDBP_NIR_STRING;
        v->vlen = H5Tis_variable_str(ft) > 0;
        v->utf8 = H5Tget_cset(ft) == H5T_CSET_UTF8;
        if (!(v->s = calloc(v->n ? v->n : 1, sizeof *v->s)))
            goto nomem;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
            goto readfail;
        if (v->vlen) {
            if (H5Tset_size(mt, H5T_VARIABLE) < 0 || !(vs = calloc(v->n ? v->n : 1, sizeof *vs)))
                goto nomem;
            if (v->n && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vs) < 0)
                goto readfail;
            for (size_t k = 0; k < v->n; k++)
                if (!(v->s[k] = dup_str(vs[k] ? vs[k] : "")))
                    st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mt, space, H5P_DEFAULT, vs);
#else
            H5Dvlen_reclaim(mt, space, H5P_DEFAULT, vs);
#endif
        } else {
            if (H5Tset_size(mt, size + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
                !(buf = malloc((v->n ? v->n : 1) * (size + 1))))
                goto nomem;
            if (v->n && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
                goto readfail;
            for (size_t k = 0; k < v->n; k++)
                if (!(v->s[k] = dup_str(buf + k * (size + 1))))
                    st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        }
        break;
    }
    default:
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: not a float, integer or string dataset",
                           where, name);
    }
    goto done;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory reading %s/%s", where, name);
    goto done;
readfail:
    st = stdbp_err_set(err, STDBP_EFORMAT, "%s/%s: cannot read: %s", where, name,
                       stdbp_h5_error(h5msg, sizeof h5msg));
done:
    free(buf);
    free(vs);
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (space >= 0)
        H5Sclose(space);
    if (ds >= 0)
        H5Dclose(ds);
    if (st != STDBP_OK)
        value_free(v);
    return st;
}

/* Names of the links of a group, in name order (malloc'd array of
 * malloc'd strings). */
typedef struct name_list {
    char **names;
    size_t n, cap;
    int nomem;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    (void)g;
    (void)info;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->names, cap * sizeof *p);
        if (!p) {
            l->nomem = 1;
            return -1;
        }
        l->names = p;
        l->cap = cap;
    }
    if (!(l->names[l->n] = dup_str(name))) {
        l->nomem = 1;
        return -1;
    }
    l->n++;
    return 0;
}

static void names_free(name_list *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->names[k]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static stdbp_status list_names(hid_t g, const char *where, name_list *l, stdbp_err *err)
{
    hsize_t idx = 0;
    char h5msg[256];
    memset(l, 0, sizeof *l);
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, l) < 0) {
        stdbp_status st = l->nomem ? stdbp_err_set(err, STDBP_ENOMEM, "out of memory")
                                   : stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot list: %s", where,
                                                   stdbp_h5_error(h5msg, sizeof h5msg));
        names_free(l);
        return st;
    }
    return STDBP_OK;
}

/* 1 if loc/name is a group, 0 if not, -1 on error. */
static int is_group(hid_t loc, const char *name)
{
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0)
        return -1;
    const int grp = H5Iget_type(o) == H5I_GROUP;
    H5Oclose(o);
    return grp;
}

/* Every dataset of group g into *vals (subgroups: the "metadata" one into
 * *meta when meta is not NULL; any other is STDBP_EFORMAT). */
static stdbp_status read_group(hid_t g, const char *where, stdbp_nir_value **vals, size_t *n_vals,
                               stdbp_nir_value **meta, size_t *n_meta, stdbp_err *err)
{
    name_list l;
    stdbp_status st = list_names(g, where, &l, err);
    char sub[512];
    if (st != STDBP_OK)
        return st;
    *vals = calloc(l.n ? l.n : 1, sizeof **vals);
    *n_vals = 0;
    if (!*vals)
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    for (size_t k = 0; k < l.n && st == STDBP_OK; k++) {
        const int grp = is_group(g, l.names[k]);
        snprintf(sub, sizeof sub, "%s/%s", where, l.names[k]);
        if (grp < 0) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot inspect", sub);
        } else if (grp && meta && strcmp(l.names[k], "metadata") == 0) {
            hid_t mg = H5Gopen2(g, l.names[k], H5P_DEFAULT);
            if (mg < 0) {
                st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot open", sub);
            } else {
                st = read_group(mg, sub, meta, n_meta, NULL, NULL, err);
                H5Gclose(mg);
            }
        } else if (grp) {
            st = stdbp_err_set(err, STDBP_EFORMAT,
                               "%s: a group here is not supported (nested graph or nested "
                               "metadata)",
                               sub);
        } else if ((st = read_value(g, l.names[k], where, &(*vals)[*n_vals], err)) == STDBP_OK) {
            (*n_vals)++;
        }
    }
    names_free(&l);
    return st;
}

static void values_free(stdbp_nir_value *v, size_t n)
{
    for (size_t k = 0; v && k < n; k++)
        value_free(&v[k]);
    free(v);
}

void stdbp_nir_free(stdbp_nir_graph **gp)
{
    stdbp_nir_graph *g = gp ? *gp : NULL;
    if (!g)
        return;
    value_free(&g->version);
    value_free(&g->type);
    value_free(&g->edges);
    for (size_t k = 0; g->nodes && k < g->n_nodes; k++) {
        free(g->nodes[k].name);
        values_free(g->nodes[k].values, g->nodes[k].n_values);
        values_free(g->nodes[k].meta, g->nodes[k].n_meta);
    }
    free(g->nodes);
    values_free(g->meta, g->n_meta);
    free(g);
    *gp = NULL;
}

static stdbp_status read_graph(hid_t file, const char *path, stdbp_nir_graph *g, stdbp_err *err)
{
    hid_t node = H5I_INVALID_HID, nodes = H5I_INVALID_HID;
    name_list l = {0};
    stdbp_status st;
    char where[512];

    if ((st = read_value(file, "version", path, &g->version, err)) != STDBP_OK)
        return st;
    if ((node = H5Gopen2(file, "node", H5P_DEFAULT)) < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: no /node group: not a NIR file", path);
    snprintf(where, sizeof where, "%s:/node", path);
    if ((st = read_value(node, "type", where, &g->type, err)) != STDBP_OK ||
        (st = read_value(node, "edges", where, &g->edges, err)) != STDBP_OK)
        goto done;
    if (g->type.kind != STDBP_NIR_STRING || strcmp(g->type.s[0], "NIRGraph") != 0 ||
        g->edges.kind != STDBP_NIR_STRING || !(g->edges.rank == 2 && g->edges.dims[1] == 2)) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: /node is not a NIRGraph with (E, 2) string edges", path);
        goto done;
    }
    g->n_edges = g->edges.dims[0];
    if (H5Lexists(node, "metadata", H5P_DEFAULT) > 0) {
        hid_t mg = H5Gopen2(node, "metadata", H5P_DEFAULT);
        snprintf(where, sizeof where, "%s:/node/metadata", path);
        st = mg < 0 ? stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot open", where)
                    : read_group(mg, where, &g->meta, &g->n_meta, NULL, NULL, err);
        if (mg >= 0)
            H5Gclose(mg);
        if (st != STDBP_OK)
            goto done;
    }
    if ((nodes = H5Gopen2(node, "nodes", H5P_DEFAULT)) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: no /node/nodes group", path);
        goto done;
    }
    snprintf(where, sizeof where, "%s:/node/nodes", path);
    if ((st = list_names(nodes, where, &l, err)) != STDBP_OK)
        goto done;
    if (!(g->nodes = calloc(l.n ? l.n : 1, sizeof *g->nodes))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < l.n && st == STDBP_OK; k++) {
        stdbp_nir_node *nd = &g->nodes[k];
        hid_t ng = H5Gopen2(nodes, l.names[k], H5P_DEFAULT);
        snprintf(where, sizeof where, "%s:/node/nodes/%s", path, l.names[k]);
        if (ng < 0) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: not a group", where);
            break;
        }
        g->n_nodes++;
        if (!(nd->name = dup_str(l.names[k])))
            st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        else
            st = read_group(ng, where, &nd->values, &nd->n_values, &nd->meta, &nd->n_meta, err);
        H5Gclose(ng);
        if (st == STDBP_OK && strcmp(stdbp_nir_node_type(nd), "NIRGraph") == 0)
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: nested graphs are not supported", where);
    }
done:
    names_free(&l);
    if (nodes >= 0)
        H5Gclose(nodes);
    if (node >= 0)
        H5Gclose(node);
    return st;
}

stdbp_status stdbp_nir_read(const char *path, stdbp_nir_graph **out, stdbp_err *err)
{
    stdbp_nir_graph *g;
    stdbp_h5_quiet q;
    stdbp_status st = STDBP_OK;
    hid_t file;
    char h5msg[256];

    if (!path || !out)
        return stdbp_err_set(err, STDBP_EINVAL, "stdbp_nir_read: no path or no output");
    *out = NULL;
    if (!(g = calloc(1, sizeof *g)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    stdbp_h5_quiet_begin(&q);
    FILE *probe = fopen(path, "rb");
    struct stat sb;
    file = H5I_INVALID_HID;
    if (!probe || fstat(fileno(probe), &sb) != 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = stdbp_err_set(err, STDBP_EIO, "%s: is a directory, not a NIR file", path);
    else if (H5Fis_hdf5(path) <= 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: not an HDF5 file (NIR files are HDF5)", path);
    else if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot open as HDF5: %s", path,
                           stdbp_h5_error(h5msg, sizeof h5msg));
    if (probe)
        fclose(probe);
    if (file >= 0) {
        st = read_graph(file, path, g, err);
        H5Fclose(file);
    }
    stdbp_h5_quiet_end(&q);
    if (st != STDBP_OK)
        stdbp_nir_free(&g);
    *out = g;
    return st;
}

const stdbp_nir_value *stdbp_nir_value_find(const stdbp_nir_value *v, size_t n, const char *name)
{
    for (size_t k = 0; v && k < n; k++)
        if (strcmp(v[k].name, name) == 0)
            return &v[k];
    return NULL;
}

const stdbp_nir_node *stdbp_nir_node_find(const stdbp_nir_graph *g, const char *name)
{
    for (size_t k = 0; g && k < g->n_nodes; k++)
        if (strcmp(g->nodes[k].name, name) == 0)
            return &g->nodes[k];
    return NULL;
}

const stdbp_nir_value *stdbp_nir_param(const stdbp_nir_node *node, const char *name)
{
    return node ? stdbp_nir_value_find(node->values, node->n_values, name) : NULL;
}

const char *stdbp_nir_node_type(const stdbp_nir_node *node)
{
    const stdbp_nir_value *t = stdbp_nir_param(node, "type");
    return t && t->kind == STDBP_NIR_STRING && t->n == 1 ? t->s[0] : "";
}

const char *stdbp_nir_edge_src(const stdbp_nir_graph *g, size_t k)
{
    return g->edges.s[2 * k];
}

const char *stdbp_nir_edge_dst(const stdbp_nir_graph *g, size_t k)
{
    return g->edges.s[2 * k + 1];
}
