/* Layer forwards through the network API: dense and conv2d against the
 * per-neuron closed form and a clock-driven simulation, pool against a
 * naive minimum, flatten, and the synaptic event counts. */
#include <assert.h>
#include <string.h>

#include "core/layer.h"
#include "core/sort.h"
#include "stdbp/neuron.h"
#include "test_net_util.h"

#define H 1e-4
#define HORIZON 5.0

/* One neuron: the listed inputs (times t, weights w), sorted here, then
 * closed form and simulation. Returns 1 if both agree with got. */
static int check_neuron(double *t, double *w, size_t n, double theta, double t_max, double got,
                        int simulate)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double a = t[j], b = w[j];
            t[j] = t[j - 1];
            w[j] = w[j - 1];
            t[j - 1] = a;
            w[j - 1] = b;
        }
    const stdbp_fire f = stdbp_relpsp_fire(t, w, n, theta, t_max);
    int same = f.t == got || fabs(f.t - got) <= 1e-12 * fabs(f.t);
    if (same && simulate)
        same = sim_agrees(got, sim_fire(t, w, n, theta, t_max, H, HORIZON), H, HORIZON);
    return same;
}

static void test_dense(void)
{
    stdbp_rng r;
    int bad = 0, n_neurons = 0, n_fired = 0;
    double t[40], w[40];
    stdbp_rng_seed(&r, 21);
    for (int c = 0; c < 40; c++) {
        const int n_in = 1 + (int)stdbp_rng_below(&r, 30), n_out = 1 + (int)stdbp_rng_below(&r, 11);
        stdbp_neuron_params np = stdbp_neuron_defaults();
        np.theta = 0.5 + stdbp_rng_uniform(&r);
        np.t_max = c % 3 == 0 ? 1.5 : INFINITY;
        const stdbp_layer_spec s = spec_dense(n_out);
        stdbp_net *net = build_net((stdbp_shape){n_in, 1, 1}, &s, 1, &np);
        stdbp_ws *ws = build_ws(net);
        double *p = stdbp_net_params(net), in[40];
        for (int k = 0; k < n_in * n_out; k++)
            p[k] = 0.5 * stdbp_rng_normal(&r) + 0.2;
        random_times(&r, in, (size_t)n_in, 0.25);
        const double *out = stdbp_net_forward(net, ws, in);
        size_t fired_in = 0;
        for (int i = 0; i < n_in; i++)
            fired_in += isfinite(in[i]);
        if (stdbp_ws_synaptic_events(ws) != fired_in * (size_t)n_out && bad++ < 5)
            diag("case %d: %llu synaptic events, want %zu", c,
                 (unsigned long long)stdbp_ws_synaptic_events(ws), fired_in * (size_t)n_out);
        for (int j = 0; j < n_out; j++) {
            for (int i = 0; i < n_in; i++) {
                t[i] = in[i];
                w[i] = p[i * n_out + j];
            }
            if (!check_neuron(t, w, (size_t)n_in, np.theta, np.t_max, out[j], c < 20) && bad++ < 5)
                diag("dense case %d neuron %d: %.17g", c, j, out[j]);
            n_neurons++;
            n_fired += out[j] < INFINITY;
        }
        stdbp_ws_destroy(&ws);
        stdbp_net_destroy(&net);
    }
    is_int(0, bad, "dense: %d neurons (%d fired) = closed form = simulation", n_neurons, n_fired);
}

static void test_conv(void)
{
    stdbp_rng r;
    int bad = 0, n_neurons = 0, n_fired = 0;
    double t[64], w[64];
    stdbp_rng_seed(&r, 22);
    for (int c = 0; c < 24; c++) {
        const int cin = 1 + c % 3, side = 5 + c % 3, k = 1 + (c / 3) % 3 + (c % 2);
        const int stride = 1 + (c / 6) % 2, pad = (c / 12) % 2 < k ? (c / 12) % 2 : 0;
        const int cout = 1 + (int)stdbp_rng_below(&r, 6);
        stdbp_neuron_params np = stdbp_neuron_defaults();
        np.t_max = c % 4 == 1 ? 1.4 : INFINITY;
        const stdbp_layer_spec s = spec_conv(cout, k, stride, pad);
        const stdbp_shape in_shape = {cin, side, side};
        stdbp_net *net = build_net(in_shape, &s, 1, &np);
        stdbp_ws *ws = build_ws(net);
        const stdbp_layer_info L = stdbp_net_layer(net, 0);
        double *p = stdbp_net_params(net), in[3 * 49];
        for (size_t q = 0; q < L.param_count; q++)
            p[q] = 0.5 * stdbp_rng_normal(&r) + 2.0 / L.fan_in;
        random_times(&r, in, stdbp_net_input_size(net), 0.3);
        const double *out = stdbp_net_forward(net, ws, in);
        uint64_t events = 0;
        for (int co = 0; co < cout; co++)
            for (int oy = 0; oy < L.out.h; oy++)
                for (int ox = 0; ox < L.out.w; ox++) {
                    size_t n = 0;
                    for (int ci = 0; ci < cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                if (iy < 0 || iy >= side || ix < 0 || ix >= side)
                                    continue;
                                t[n] = in[(ci * side + iy) * side + ix];
                                w[n++] = p[((ci * k + ky) * k + kx) * cout + co];
                                events += isfinite(t[n - 1]);
                            }
                    const double got = out[(co * L.out.h + oy) * L.out.w + ox];
                    if (!check_neuron(t, w, n, np.theta, np.t_max, got, c < 12) && bad++ < 5)
                        diag("conv case %d (%d,%d,%d): %.17g", c, co, oy, ox, got);
                    n_neurons++;
                    n_fired += got < INFINITY;
                }
        if (events != stdbp_ws_synaptic_events(ws) && bad++ < 5)
            diag("conv case %d: %llu synaptic events, want %llu", c,
                 (unsigned long long)stdbp_ws_synaptic_events(ws), (unsigned long long)events);
        stdbp_ws_destroy(&ws);
        stdbp_net_destroy(&net);
    }
    is_int(0, bad, "conv2d: %d neurons (%d fired) = closed form = simulation", n_neurons, n_fired);
    ok(n_fired > n_neurons / 3 && n_fired < n_neurons,
       "conv2d cases have fired and silent neurons");
}

static void test_pool(void)
{
    stdbp_rng r;
    int bad = 0, ties = 0;
    stdbp_rng_seed(&r, 23);
    for (int c = 0; c < 12; c++) {
        /* the usual 2x2 stride 2 without padding (its own loop) on even and
         * odd sides: cases 2, 4, 8 and 10 */
        const int k = 2 + c % 2, stride = c % 3 == 0 ? 1 : k, side = 6 + (c / 2) % 2;
        stdbp_layer_spec s = spec_pool(k, c % 3 == 0 ? 1 : 0);
        s.padding = c % 4 == 3 ? 1 : 0;
        const stdbp_shape in_shape = {2, side, side};
        stdbp_net *net = build_net(in_shape, &s, 1, NULL);
        stdbp_ws *ws = build_ws(net);
        const stdbp_layer_info L = stdbp_net_layer(net, 0);
        double in[2 * 49], arg[2 * 49];
        random_times(&r, in, stdbp_net_input_size(net), 0.4);
        const double *out = stdbp_net_forward(net, ws, in);
        stdbp_ws_causal(net, ws, 0, arg);
        bad += L.stride != stride;
        for (int ch = 0; ch < 2; ch++)
            for (int oy = 0; oy < L.out.h; oy++)
                for (int ox = 0; ox < L.out.w; ox++) {
                    double best = INFINITY;
                    int a = -1, n_best = 0;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = oy * stride - s.padding + ky;
                            const int ix = ox * stride - s.padding + kx;
                            if (iy < 0 || iy >= side || ix < 0 || ix >= side)
                                continue;
                            const int i = (ch * side + iy) * side + ix;
                            if (in[i] < best) {
                                best = in[i];
                                a = i;
                                n_best = 1;
                            } else if (in[i] == best && best < INFINITY) {
                                n_best++;
                            }
                        }
                    const int o = (ch * L.out.h + oy) * L.out.w + ox;
                    ties += n_best > 1;
                    if ((out[o] != best || arg[o] != a) && bad++ < 5)
                        diag("pool case %d output %d: %g (arg %g), want %g (arg %d)", c, o, out[o],
                             arg[o], best, a);
                }
        stdbp_ws_destroy(&ws);
        stdbp_net_destroy(&net);
    }
    is_int(0, bad, "pool: earliest spike per window, argmin the first of ties");
    ok(ties > 0, "pool cases include ties (%d)", ties);
}

static void test_flatten(void)
{
    const stdbp_layer_spec s = spec_flatten();
    stdbp_net *net = build_net((stdbp_shape){2, 3, 4}, &s, 1, NULL);
    stdbp_ws *ws = build_ws(net);
    double in[24];
    for (int i = 0; i < 24; i++)
        in[i] = i % 5 == 0 ? INFINITY : 0.01 * i;
    const stdbp_layer_info L = stdbp_net_layer(net, 0);
    const double *out = stdbp_net_forward(net, ws, in);
    ok(L.out.c == 24 && L.out.h == 1 && L.out.w == 1 && memcmp(out, in, sizeof in) == 0,
       "flatten: (2,3,4) -> (24,1,1), values unchanged");
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
}

/* The private sort: random, clustered (long runs of equal upper key
 * halves), few distinct values, silent and NaN entries, and a tight
 * cluster beside far outliers (one long run of equal upper halves: the
 * radix on the lower halves), checked against a plain stable insertion
 * sort. */
static void test_sort(void)
{
    stdbp_rng r;
    enum { N = 3000 };
    static double t[N];
    static uint32_t ix[N];
    static uint64_t scratch[4 * N];
    static uint32_t ref[N];
    int bad = 0;
    assert(stdbp_sort_scratch_size(N) <= sizeof scratch);
    stdbp_rng_seed(&r, 24);
    for (int c = 0; c < 250; c++) {
        const size_t n = stdbp_rng_below(&r, N);
        const int mode = c % 5;
        size_t fired = 0;
        for (size_t i = 0; i < n; i++) {
            const double u = stdbp_rng_uniform(&r);
            t[i] = mode == 0   ? u
                   : mode == 1 ? 1.0 + 1e-9 * (double)stdbp_rng_below(&r, 1000)
                   : mode == 2 ? (double)stdbp_rng_below(&r, 5)
                   : mode == 3 ? (u < 0.3    ? INFINITY
                                  : u < 0.35 ? NAN
                                             : 10 * u - 3)
                               : (u < 0.95 ? 1.0 + 1e-12 * (double)stdbp_rng_below(&r, 3000)
                                           : -1e6 + 2e6 * u);
            fired += isfinite(t[i]);
        }
        /* the reference: a stable insertion sort of the fired indices */
        size_t nr = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(t[i]))
                continue;
            size_t j = nr++;
            for (; j > 0 && t[ref[j - 1]] > t[i]; j--)
                ref[j] = ref[j - 1];
            ref[j] = (uint32_t)i;
        }
        const size_t m = stdbp_sort_fired(t, n, ix, scratch);
        bad += m != fired || m != nr || (m && memcmp(ix, ref, m * sizeof *ix) != 0);
        for (size_t i = 1; i < m; i++)
            if (t[ix[i - 1]] > t[ix[i]] || (t[ix[i - 1]] == t[ix[i]] && ix[i - 1] > ix[i])) {
                bad++;
                break;
            }
    }
    is_int(0, bad, "sort of fired times: ascending, stable, silent and NaN left out");
}

int main(void)
{
    plan(7);
    test_sort();
    test_dense();
    test_conv();
    test_pool();
    test_flatten();
    return 0;
}
