/* Helpers shared by the tests of src/hw (header only): building small
 * networks, and an independent brute-force reference of the integer
 * semantics documented in include/stdbp/hw.h. */
#ifndef STDBP_TEST_HW_UTIL_H
#define STDBP_TEST_HW_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/hw.h"
#include "stdbp/net.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

/* A network (bails out on failure); weights zero. */
static inline stdbp_net *hwt_net(stdbp_shape in, const stdbp_layer_spec *specs, size_t n,
                                 double theta, double t_max)
{
    stdbp_net *net = NULL;
    stdbp_err err;
    stdbp_neuron_params np = stdbp_neuron_defaults();
    np.theta = theta;
    np.t_max = t_max;
    if (stdbp_net_create(in, specs, n, &np, &net, &err))
        bail("stdbp_net_create: %s", err.msg);
    return net;
}

static inline stdbp_layer_spec hwt_dense(int out)
{
    stdbp_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = STDBP_LAYER_DENSE;
    s.out = out;
    return s;
}

static inline stdbp_layer_spec hwt_conv(int out, int k, int stride, int pad)
{
    stdbp_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = STDBP_LAYER_CONV2D;
    s.out = out;
    s.kernel = k;
    s.stride = stride;
    s.padding = pad;
    return s;
}

static inline stdbp_layer_spec hwt_pool(int k)
{
    stdbp_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = STDBP_LAYER_POOL;
    s.kernel = k;
    return s;
}

static inline stdbp_layer_spec hwt_flatten(void)
{
    stdbp_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = STDBP_LAYER_FLATTEN;
    return s;
}

/* Weights ~ Normal(mean, std) per weighted layer. */
static inline void hwt_randomise(stdbp_net *net, uint64_t seed, double mean, double std)
{
    stdbp_rng rng;
    double *w = stdbp_net_params(net);
    stdbp_rng_seed(&rng, seed);
    for (size_t i = 0; i < stdbp_net_num_params(net); i++)
        w[i] = mean + std * stdbp_rng_normal(&rng);
}

static inline int64_t hwt_wq(double w, double scale, int32_t wmax)
{
    long v = lround(w / scale);
    return v > wmax ? wmax : (v < -wmax ? -wmax : v);
}

/* First step t <= window with sum_{t_i < t} w_i (t - t_i) >= theta, by
 * stepping the potential (the definition, not the closed form). */
static inline int64_t hwt_fire(const int64_t *t_in, const int64_t *w_in, size_t n, int64_t theta,
                               int64_t window)
{
    int64_t V = 0, S = 0;
    for (int64_t t = 0; t <= window; t++) {
        V += S; /* V(t) = V(t-1) + sum of w with t_i <= t - 1 */
        if (V >= theta && t > 0)
            return t;
        for (size_t i = 0; i < n; i++)
            if (t_in[i] == t)
                S += w_in[i];
    }
    return STDBP_QT_SILENT;
}

/* Brute-force forward of the quantised semantics, from the float net and
 * the public layer infos (scale, theta_q): out_layers[l] gets computing
 * layer l's steps. Input steps > window are ignored. */
static inline void hwt_reference(const stdbp_net *net, const stdbp_qnet *q, const int64_t *in,
                                 int64_t **out_layers)
{
    int64_t window = stdbp_qnet_params(q).window;
    const double *params = stdbp_net_params_const(net);
    size_t ql = 0;
    const int64_t *cur = in;
    size_t n_cur = stdbp_net_input_size(net);
    int64_t *tin = NULL, *win = NULL;
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
        stdbp_layer_info li = stdbp_net_layer(net, l);
        if (li.kind == STDBP_LAYER_FLATTEN)
            continue;
        stdbp_qlayer_info qi = stdbp_qnet_layer(q, ql);
        int64_t *out = out_layers[ql];
        size_t n_out = (size_t)li.out.c * li.out.h * li.out.w;
        tin = realloc(tin, (n_cur + 1) * sizeof *tin);
        win = realloc(win, (n_cur + 1) * sizeof *win);
        for (size_t j = 0; j < n_out; j++) {
            size_t k = 0;
            if (li.kind == STDBP_LAYER_DENSE) {
                for (size_t i = 0; i < n_cur; i++) {
                    tin[k] = cur[i] > window ? STDBP_QT_SILENT : cur[i];
                    win[k++] = hwt_wq(params[li.param_offset + i * n_out + j], qi.scale, qi.w_max);
                }
            } else {
                int oc = (int)(j / ((size_t)li.out.h * li.out.w));
                int oy = (int)(j / li.out.w % li.out.h), ox = (int)(j % li.out.w);
                int s = li.stride > 0 ? li.stride : (li.kind == STDBP_LAYER_POOL ? li.kernel : 1);
                int cin0 = li.kind == STDBP_LAYER_POOL ? oc : 0;
                int cin1 = li.kind == STDBP_LAYER_POOL ? oc + 1 : li.in.c;
                for (int c = cin0; c < cin1; c++)
                    for (int ky = 0; ky < li.kernel; ky++)
                        for (int kx = 0; kx < li.kernel; kx++) {
                            int y = oy * s - li.padding + ky, x = ox * s - li.padding + kx;
                            if (y < 0 || y >= li.in.h || x < 0 || x >= li.in.w)
                                continue;
                            size_t i = ((size_t)c * li.in.h + y) * li.in.w + x;
                            tin[k] = cur[i] > window ? STDBP_QT_SILENT : cur[i];
                            if (li.kind == STDBP_LAYER_CONV2D) {
                                size_t widx = (((size_t)c * li.kernel + ky) * li.kernel + kx) *
                                                  (size_t)li.out.c +
                                              (size_t)oc;
                                win[k] = hwt_wq(params[li.param_offset + widx], qi.scale, qi.w_max);
                            }
                            k++;
                        }
            }
            if (li.kind == STDBP_LAYER_POOL) {
                int64_t m = STDBP_QT_SILENT;
                for (size_t a = 0; a < k; a++)
                    if (tin[a] < m)
                        m = tin[a];
                out[j] = m;
            } else {
                out[j] = hwt_fire(tin, win, k, qi.theta, window);
            }
        }
        cur = out;
        n_cur = n_out;
        ql++;
    }
    free(tin);
    free(win);
}

/* A synthetic image dataset (n samples of dim pixels, uint8), seeded;
 * about `density` of the pixels are lit. Labels in [0, n_classes). */
static inline void hwt_dataset(stdbp_dataset *ds, size_t n, stdbp_shape shape, int n_classes,
                               double density, uint64_t seed)
{
    stdbp_rng rng;
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->shape = shape;
    ds->dim = (size_t)shape.c * shape.h * shape.w;
    ds->u8 = malloc(n * ds->dim);
    ds->labels = malloc(n * sizeof *ds->labels);
    ds->n_classes = n_classes;
    snprintf(ds->source, sizeof ds->source, "synthetic(%zu)", n);
    if (!ds->u8 || !ds->labels)
        bail("out of memory");
    stdbp_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        ds->labels[i] = (int32_t)stdbp_rng_below(&rng, (uint64_t)n_classes);
        for (size_t k = 0; k < ds->dim; k++)
            ds->u8[i * ds->dim + k] =
                stdbp_rng_uniform(&rng) < density ? (uint8_t)(1 + stdbp_rng_below(&rng, 255)) : 0;
    }
}

static inline void hwt_dataset_free(stdbp_dataset *ds)
{
    free(ds->u8);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

#endif
