/* Helpers shared by the core tests: a clock-driven ReL-PSP simulation,
 * random spike times and small network builders. Header-only (static). */
#ifndef STDBP_TEST_NET_UTIL_H
#define STDBP_TEST_NET_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/net.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

/* Clock-driven simulation of V(t) = sum_i w_i max(t - t_i, 0): the first
 * grid time k * h (k >= 0) with V >= theta, searched up to
 * min(horizon, t_max); INFINITY if none. Inputs need not be sorted. */
static inline double sim_fire(const double *t_in, const double *w, size_t n, double theta,
                              double t_max, double h, double horizon)
{
    const double end = t_max < horizon ? t_max : horizon;
    for (long k = 0;; k++) {
        const double t = (double)k * h;
        if (t > end)
            return INFINITY;
        double v = 0.0;
        for (size_t i = 0; i < n; i++)
            if (t > t_in[i])
                v += w[i] * (t - t_in[i]);
        if (v >= theta)
            return t;
    }
}

/* Is the closed-form time tr consistent with the simulation's ts on a
 * grid of step h? The true crossing lies in (ts - h, ts]. */
static inline int sim_agrees(double tr, double ts, double h, double horizon)
{
    if (ts == INFINITY)
        return tr == INFINITY || tr > horizon - 1e-9;
    return tr > ts - h - 1e-9 && tr <= ts + 1e-9;
}

/* Spike times in [0, 1): a fraction silent, some on a coarse grid so that
 * ties happen. */
static inline void random_times(stdbp_rng *r, double *t, size_t n, double p_silent)
{
    for (size_t i = 0; i < n; i++) {
        const double u = stdbp_rng_uniform(r);
        if (u < p_silent)
            t[i] = INFINITY;
        else if (u < p_silent + (1 - p_silent) * 0.3)
            t[i] = 0.125 * (double)stdbp_rng_below(r, 8); /* ties */
        else
            t[i] = stdbp_rng_uniform(r);
    }
}

static inline stdbp_net *build_net(stdbp_shape in, const stdbp_layer_spec *specs, size_t n,
                                   const stdbp_neuron_params *np)
{
    stdbp_net *net = NULL;
    stdbp_err err;
    if (stdbp_net_create(in, specs, n, np, &net, &err) != STDBP_OK)
        bail("stdbp_net_create: %s", err.msg);
    return net;
}

static inline stdbp_ws *build_ws(const stdbp_net *net)
{
    stdbp_ws *ws = NULL;
    stdbp_err err;
    if (stdbp_ws_create(net, &ws, &err) != STDBP_OK)
        bail("stdbp_ws_create: %s", err.msg);
    return ws;
}

static inline stdbp_layer_spec spec_dense(int out)
{
    stdbp_layer_spec s = {STDBP_LAYER_DENSE, out, 0, 0, 0};
    return s;
}

static inline stdbp_layer_spec spec_conv(int out, int k, int stride, int pad)
{
    stdbp_layer_spec s = {STDBP_LAYER_CONV2D, out, k, stride, pad};
    return s;
}

static inline stdbp_layer_spec spec_pool(int k, int stride)
{
    stdbp_layer_spec s = {STDBP_LAYER_POOL, 0, k, stride, 0};
    return s;
}

static inline stdbp_layer_spec spec_flatten(void)
{
    stdbp_layer_spec s = {STDBP_LAYER_FLATTEN, 0, 0, 0, 0};
    return s;
}

#endif
