/* NIR export: a network as a NIR graph in HDF5; see nir.h and
 * docs/NIR.md. The reader is nir_read.c. */
#include "stdbp/nir.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/h5util.h"
#include "stdbp/version.h"

/* ---- writing: the graph --------------------------------------------- */

#define NAME_LEN 48
#define MAX_NODES_PER_LAYER 4

typedef struct nir_writer {
    hid_t nodes; /* /node/nodes */
    char (*edges)[2][NAME_LEN];
    size_t n_edges, cap_edges;
    char prev[NAME_LEN]; /* the node the next one follows */
    stdbp_err *err;      /* never NULL */
    int portable;        /* STDBP_NIR_PORTABLE: CubaLIF neurons */
    float tau, w_in, r;  /* their parameters */
} nir_writer;

static stdbp_status h5_fail(nir_writer *w, const char *what)
{
    return stdbp_h5_fail(w->err, STDBP_EIO, "writing %s failed", what);
}

/* Small typed datasets (rank 0: a scalar), as NIR's reader takes them:
 * float32 arrays, int64 integers, variable-length UTF-8 strings. */
static stdbp_status put_str(nir_writer *w, hid_t loc, const char *name, const char *s)
{
    return stdbp_h5_dset_put_vlen_strs(loc, name, 0, NULL, &s, w->err);
}

static stdbp_status put_i64(nir_writer *w, hid_t loc, const char *name, int rank,
                            const hsize_t *dims, const int64_t *v)
{
    return stdbp_h5_dset_put(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, rank, dims, v, w->err);
}

static stdbp_status put_i64_scalar(nir_writer *w, hid_t loc, const char *name, int64_t v)
{
    return put_i64(w, loc, name, 0, NULL, &v);
}

static stdbp_status put_i64_pair(nir_writer *w, hid_t loc, const char *name, int64_t a, int64_t b)
{
    const int64_t v[2] = {a, b};
    const hsize_t d[1] = {2};
    return put_i64(w, loc, name, 1, d, v);
}

static stdbp_status put_f32(nir_writer *w, hid_t loc, const char *name, int rank,
                            const hsize_t *dims, const float *v)
{
    return stdbp_h5_dset_put(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims, v, w->err);
}

static stdbp_status put_f64_scalar(nir_writer *w, hid_t loc, const char *name, double v)
{
    return stdbp_h5_dset_put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, w->err);
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
    if (g < 0) {
        h5_fail(w, name);
        return H5I_INVALID_HID;
    }
    if (put_str(w, g, "type", type) != STDBP_OK) {
        H5Gclose(g);
        return H5I_INVALID_HID;
    }
    return g;
}

/* Close a node group after its puts (ok == 0: one failed, its message
 * is in w->err) and chain it. */
static stdbp_status node_end(nir_writer *w, hid_t g, const char *name, int ok)
{
    stdbp_status st = ok ? STDBP_OK : w->err->code;
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
    stdbp_status st = put_i64(w, g, "shape", 1, one, v);
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
    int ok = put_i64_scalar(w, g, "start_dim", 0) == STDBP_OK &&
             put_i64_scalar(w, g, "end_dim", -1) == STDBP_OK &&
             put_i64(w, g, "input_type", 1, one, v) == STDBP_OK;
    return node_end(w, g, name, ok);
}

/* An array of n copies of value in the neuron shape s. */
static stdbp_status put_filled(nir_writer *w, hid_t g, const char *name, stdbp_shape s, int flat,
                               float value)
{
    hsize_t d[3];
    const int rank = nir_dims(s, flat, d);
    const size_t n = (size_t)s.c * (size_t)s.h * (size_t)s.w;
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for %s", name);
    for (size_t k = 0; k < n; k++)
        v[k] = value;
    stdbp_status st = put_f32(w, g, name, rank, d, v);
    free(v);
    return st;
}

/* layerNN_i (r = 1) and layerNN_if (r = 1, v_threshold, v_reset): the
 * ReL-PSP neuron is an integrator of a step current, fired once at
 * threshold (v_reset = STDBP_NIR_V_RESET keeps it below threshold for
 * good after its first spike). */
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
        if ((st = node_end(w, g, name, put_filled(w, g, "r", s, flat, 1.0f) == STDBP_OK)) !=
            STDBP_OK)
            return st;
    }
    snprintf(name, sizeof name, "%s_if", prefix);
    if ((g = node_begin(w, name, "IF")) < 0)
        return w->err->code;
    int ok = put_filled(w, g, "r", s, flat, 1.0f) == STDBP_OK &&
             put_filled(w, g, "v_threshold", s, flat, threshold) == STDBP_OK &&
             put_filled(w, g, "v_reset", s, flat, STDBP_NIR_V_RESET) == STDBP_OK;
    return node_end(w, g, name, ok);
}

float stdbp_nir_threshold(double theta)
{
    float f = (float)theta;
    if (isfinite(f) && (double)f >= theta)
        f = nextafterf(f, -INFINITY);
    return f;
}

/* Profile portable: layerNN_cubalif, tau_syn = tau_mem = tau, w_in and r
 * with w_in r / (tau_syn tau_mem) = 1, v_leak 0: after an input spike of
 * weight w, I jumps by w w_in / tau_syn and v rises at the rate
 * r / tau_mem times that, i.e. w (1 - O(t / tau)): the ReL-PSP ramp, up
 * to the leak. */
static stdbp_status write_cubalif(nir_writer *w, const char *prefix, stdbp_shape s, int flat,
                                  float threshold)
{
    char name[NAME_LEN];
    hid_t g;
    snprintf(name, sizeof name, "%s_cubalif", prefix);
    if ((g = node_begin(w, name, "CubaLIF")) < 0)
        return w->err->code;
    int ok = put_filled(w, g, "tau_syn", s, flat, w->tau) == STDBP_OK &&
             put_filled(w, g, "tau_mem", s, flat, w->tau) == STDBP_OK &&
             put_filled(w, g, "r", s, flat, w->r) == STDBP_OK &&
             put_filled(w, g, "v_leak", s, flat, 0.0f) == STDBP_OK &&
             put_filled(w, g, "v_threshold", s, flat, threshold) == STDBP_OK &&
             put_filled(w, g, "v_reset", s, flat, STDBP_NIR_V_RESET) == STDBP_OK &&
             put_filled(w, g, "w_in", s, flat, w->w_in) == STDBP_OK;
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
                          put_f32(w, g, "weight", 2, d, wt) == STDBP_OK &&
                              put_f32(w, g, "bias", 1, db, bias) == STDBP_OK);
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
            int ok = put_f32(w, g, "weight", 4, d, wt) == STDBP_OK &&
                     put_f32(w, g, "bias", 1, db, bias) == STDBP_OK &&
                     put_i64_pair(w, g, "stride", L->stride, L->stride) == STDBP_OK &&
                     put_i64_pair(w, g, "padding", L->padding, L->padding) == STDBP_OK &&
                     put_i64_pair(w, g, "dilation", 1, 1) == STDBP_OK &&
                     put_i64_scalar(w, g, "groups", 1) == STDBP_OK &&
                     put_i64_pair(w, g, "input_shape", L->in.h, L->in.w) == STDBP_OK;
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
    int ok = put_i64_pair(w, g, "kernel_size", L->kernel, L->kernel) == STDBP_OK &&
             put_i64_pair(w, g, "stride", L->stride, L->stride) == STDBP_OK &&
             put_i64_pair(w, g, "padding", L->padding, L->padding) == STDBP_OK;
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
    "Every IF node fires at most once: at the first time V reaches theta (V >= theta), and never "
    "again. The graph says so itself: v_reset = -1e30 puts a neuron that fired so far below "
    "threshold that it cannot fire again (NIR's plain IF equations give fire-once), and "
    "v_threshold is the largest float32 below theta, so that NIR's rule v > v_threshold is "
    "v >= theta for every float32 v. A neuron whose crossing would come after t_max is silent "
    "(t_max = inf: no window; NIR cannot say this).";
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

static const char meta_portable[] =
    "Profile portable: each ReL-PSP layer is Affine (or Conv2d) -> CubaLIF with tau_syn = tau_mem "
    "= 1e4 encoding time spans, v_leak 0, w_in = 1e-4 tau_syn and r = tau_mem / 1e-4 (so that "
    "w_in r / (tau_syn tau_mem) = 1, and r = tau_mem / dt for the dt = 1e-4 that snnTorch's "
    "importer assumes). After an input spike of weight w the current jumps by 1e-4 w and v "
    "rises at the rate w, short of the exact ramp by a fraction of about s / 1e4 at s spans after "
    "it. "
    "Pooling stays SumPool2d -> IF.";

/* The optional provenance keys of src (checkpoint, digest, step, config). */
static stdbp_status write_source(nir_writer *w, hid_t g, const stdbp_nir_source *src)
{
    stdbp_status st = STDBP_OK;
    if (!src)
        return STDBP_OK;
    if (st == STDBP_OK && src->checkpoint)
        st = put_str(w, g, "source_checkpoint", src->checkpoint);
    if (st == STDBP_OK && src->digest)
        st = put_str(w, g, "source_digest", src->digest);
    if (st == STDBP_OK && src->has_step)
        st = put_i64_scalar(w, g, "source_step", (int64_t)src->step);
    if (st == STDBP_OK && src->config_yaml)
        st = put_str(w, g, "config_yaml", src->config_yaml);
    return st;
}

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
    if (g < 0) {
        st = h5_fail(w, "/node/metadata");
        goto done;
    }
    if ((st = put_str(w, g, "generator", "stdbp " STDBP_VERSION)) != STDBP_OK ||
        (st = put_i64_scalar(w, g, "stdbp_mapping", STDBP_NIR_MAPPING)) != STDBP_OK ||
        (st = put_str(w, g, "neuron_model", meta_neuron)) != STDBP_OK ||
        (st = put_i64_scalar(w, g, "fire_once", 1)) != STDBP_OK ||
        (st = put_str(w, g, "fire_rule", meta_fire)) != STDBP_OK ||
        (st = put_f64_scalar(w, g, "theta", np->theta)) != STDBP_OK ||
        (st = put_f64_scalar(w, g, "v_reset", STDBP_NIR_V_RESET)) != STDBP_OK ||
        (st = put_f64_scalar(w, g, "t_max", np->t_max)) != STDBP_OK ||
        (st = put_str(w, g, "pooling", meta_pool)) != STDBP_OK ||
        (st = put_str(w, g, "time_unit", meta_time)) != STDBP_OK ||
        (st = put_str(w, g, "encoding", meta_encoding)) != STDBP_OK ||
        (st = put_f64_scalar(w, g, "encoding_t_max", enc.t_max)) != STDBP_OK ||
        (st = put_i64_scalar(w, g, "encoding_zero_silent", enc.zero_silent != 0)) != STDBP_OK ||
        (st = put_i64_scalar(w, g, "encoding_normalise", enc.normalise != 0)) != STDBP_OK ||
        (st = put_str(w, g, "decoding", meta_decoding)) != STDBP_OK ||
        (st = put_str(w, g, "weights", meta_weights)) != STDBP_OK ||
        (st = put_str(w, g, "layers", layers)) != STDBP_OK)
        goto done;
    if ((st = put_str(w, g, "profile", w->portable ? "portable" : "exact")) != STDBP_OK)
        goto done;
    if (w->portable && (st = put_str(w, g, "portable_neuron", meta_portable)) != STDBP_OK)
        goto done;
    st = write_source(w, g, src);
done:
    if (g >= 0)
        H5Gclose(g);
    free(layers);
    return st;
}

/* Where the chain of nodes stands: the activation shape and whether it
 * is flat (NIR shape (C*H*W)) yet. */
typedef struct chain_pos {
    stdbp_shape cur;
    int flat;
} chain_pos;

/* The NIR nodes of stdbp layer l (parameters p); advances pos. */
static stdbp_status write_layer(nir_writer *w, size_t l, const stdbp_layer_info *L, const double *p,
                                float theta, chain_pos *pos)
{
    char prefix[24], name[NAME_LEN];
    stdbp_status st = STDBP_OK;
    snprintf(prefix, sizeof prefix, "layer%02u", (unsigned)l);
    switch (L->kind) {
    case STDBP_LAYER_DENSE:
        if (!pos->flat) {
            snprintf(name, sizeof name, "%s_flatten", prefix);
            if ((st = write_flatten(w, name, pos->cur, 0)) != STDBP_OK)
                break;
        }
        snprintf(name, sizeof name, "%s_affine", prefix);
        if ((st = write_affine(w, name, l, L, p)) == STDBP_OK)
            st = w->portable ? write_cubalif(w, prefix, L->out, 1, theta)
                             : write_neurons(w, prefix, L->out, 1, 1, theta);
        pos->flat = 1;
        break;
    case STDBP_LAYER_CONV2D:
    case STDBP_LAYER_POOL: {
        const int conv = L->kind == STDBP_LAYER_CONV2D;
        if (pos->flat) {
            st = l == 0 ? stdbp_err_set(w->err, STDBP_EINVAL,
                                        "layer 0: %s on a flat %d-value input cannot be "
                                        "expressed in NIR; give the data an H x W shape",
                                        conv ? "conv2d" : "pool", pos->cur.c)
                        : stdbp_err_set(w->err, STDBP_EINVAL,
                                        "layer %zu: %s after a flat layer cannot be "
                                        "expressed in NIR (it has no Unflatten node)",
                                        l, conv ? "conv2d" : "pool");
            break;
        }
        snprintf(name, sizeof name, "%s_%s", prefix, conv ? "conv2d" : "sumpool2d");
        st = conv ? write_conv(w, name, l, L, p) : write_sumpool(w, name, L);
        if (st == STDBP_OK && conv && w->portable)
            st = write_cubalif(w, prefix, L->out, 0, theta);
        else if (st == STDBP_OK)
            st = write_neurons(w, prefix, L->out, 0, conv,
                               conv ? theta : (float)STDBP_NIR_POOL_THRESHOLD);
        break;
    }
    case STDBP_LAYER_FLATTEN:
        snprintf(name, sizeof name, "%s_flatten", prefix);
        st = write_flatten(w, name, pos->cur, pos->flat);
        pos->flat = 1;
        break;
    }
    pos->cur = L->out;
    return st;
}

/* /node/edges: the (E, 2) strings source, target. */
static stdbp_status write_edges(nir_writer *w, hid_t node)
{
    const char **s = malloc((w->n_edges ? 2 * w->n_edges : 1) * sizeof *s);
    const hsize_t d[2] = {w->n_edges, 2};
    stdbp_status st;
    if (!s)
        return stdbp_err_set(w->err, STDBP_ENOMEM, "out of memory for the NIR edges");
    for (size_t k = 0; k < w->n_edges; k++) {
        s[2 * k] = w->edges[k][0];
        s[2 * k + 1] = w->edges[k][1];
    }
    st = stdbp_h5_dset_put_vlen_strs(node, "edges", 2, d, s, w->err);
    free(s);
    return st;
}

/* The whole graph into an open file. */
static stdbp_status write_graph(nir_writer *w, hid_t file, const stdbp_net *net,
                                const stdbp_nir_source *src)
{
    const size_t n_layers = stdbp_net_num_layers(net);
    const double *params = stdbp_net_params_const(net);
    const float theta = stdbp_nir_threshold(stdbp_net_neuron(net)->theta);
    stdbp_status st = STDBP_OK;
    hid_t node = H5I_INVALID_HID;

    if ((st = put_str(w, file, "version", STDBP_NIR_VERSION)) != STDBP_OK)
        return st;
    node = H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (node < 0) {
        st = h5_fail(w, "/node");
        goto done;
    }
    if ((st = put_str(w, node, "type", "NIRGraph")) != STDBP_OK)
        goto done;
    w->nodes = H5Gcreate2(node, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (w->nodes < 0) {
        st = h5_fail(w, "/node/nodes");
        goto done;
    }

    /* The input: (C, H, W), or (C) for flat data (H = W = 1). */
    chain_pos pos = {n_layers ? stdbp_net_layer(net, 0).in : (stdbp_shape){0, 0, 0}, 0};
    pos.flat = pos.cur.h == 1 && pos.cur.w == 1;
    if ((st = write_shape_node(w, "input", "Input", pos.cur, pos.flat)) != STDBP_OK)
        goto done;
    snprintf(w->prev, sizeof w->prev, "input");
    for (size_t l = 0; l < n_layers && st == STDBP_OK; l++) {
        const stdbp_layer_info L = stdbp_net_layer(net, l);
        st = write_layer(w, l, &L, params + L.param_offset, theta, &pos);
    }
    if (st != STDBP_OK)
        goto done;
    if ((st = write_shape_node(w, "output", "Output", pos.cur, pos.flat)) != STDBP_OK ||
        (st = chain(w, "output")) != STDBP_OK || (st = write_edges(w, node)) != STDBP_OK)
        goto done;
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
    const double t_enc = src && src->encoding ? src->encoding->t_max : 1.0;
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
    if (src && src->profile != STDBP_NIR_EXACT && src->profile != STDBP_NIR_PORTABLE)
        return stdbp_err_set(err, STDBP_EINVAL, "%s: unknown NIR profile %d", path,
                             (int)src->profile);
    w.portable = src && src->profile == STDBP_NIR_PORTABLE;
    w.tau = (float)(STDBP_NIR_PORTABLE_TAU * t_enc);
    w.w_in = (float)(STDBP_NIR_PORTABLE_DT * STDBP_NIR_PORTABLE_TAU * t_enc);
    w.r = (float)(STDBP_NIR_PORTABLE_TAU * t_enc / STDBP_NIR_PORTABLE_DT);
    if (!(tmp = malloc(strlen(path) + 5)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    sprintf(tmp, "%s.tmp", path);
    /* rename would replace a device node or FIFO at path (and fopen would
     * block on a FIFO at tmp): only regular files are replaced */
    if ((st = stdbp_check_output_file(path, err)) != STDBP_OK ||
        (st = stdbp_check_output_file(tmp, err)) != STDBP_OK) {
        free(tmp);
        return st;
    }

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
        st = stdbp_h5_fail(err, STDBP_EIO, "%s: cannot create %s", path, tmp);
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
