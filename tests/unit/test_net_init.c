/* Weight initialisation: with STDBP_INIT_FIRE most hidden neurons of
 * 784-800-10 fire on MNIST-like inputs; the draws follow the documented
 * rule; the same seed gives the same weights. */
#include "test_net_util.h"

/* ~20% of pixels bright, latency coded: t = 1 - x, x = 0 silent. */
static void mnist_like(stdbp_rng *r, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = stdbp_rng_uniform(r) < 0.2 ? 1.0 - (0.05 + 0.95 * stdbp_rng_uniform(r)) : INFINITY;
}

static void moments(const double *w, size_t n, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        s2 += (w[i] - *mean) * (w[i] - *mean);
    *sd = sqrt(s2 / (double)(n - 1));
}

int main(void)
{
    const stdbp_layer_spec s[] = {spec_dense(800), spec_dense(10)};
    const stdbp_shape in = {784, 1, 1};
    stdbp_net *net = build_net(in, s, 2, NULL), *net2 = build_net(in, s, 2, NULL);
    stdbp_ws *ws = build_ws(net);
    stdbp_init_params ip = stdbp_init_defaults();
    stdbp_rng r;
    double t[784], mean, sd;
    plan(9);

    ok(ip.kind == STDBP_INIT_FIRE && ip.gain == 1.0 && ip.active_fraction == 0.2,
       "defaults: FIRE, gain 1, active fraction 0.2");
    stdbp_net_init(net, &ip, 123);
    const double *w = stdbp_net_params_const(net);
    moments(w, 784 * 800, &mean, &sd);
    ok(fabs(mean - 1.0 / (784 * 0.2)) < 2e-4 && fabs(sd / sqrt(2.0 / 784) - 1) < 0.01,
       "layer 0: mean %.5f = theta/(N a), sd %.5f = sqrt(2/N)", mean, sd);
    moments(w + 784 * 800, 8000, &mean, &sd);
    ok(fabs(mean - 1.0 / (800 * 0.2)) < 2e-3 && fabs(sd / sqrt(2.0 / 800) - 1) < 0.05,
       "layer 1: mean %.5f, sd %.5f", mean, sd);

    stdbp_rng_seed(&r, 5);
    size_t fired = 0, total = 0, out_fired = 0, early = 0;
    double late = 0;
    for (int k = 0; k < 50; k++) {
        mnist_like(&r, t, 784);
        const double *out = stdbp_net_forward(net, ws, t);
        const double *h = stdbp_ws_layer_times(ws, 0);
        for (int j = 0; j < 800; j++) {
            fired += h[j] < INFINITY;
            early += h[j] <= 3.0;
            late = h[j] < INFINITY && h[j] > late ? h[j] : late;
        }
        for (int j = 0; j < 10; j++)
            out_fired += out[j] < INFINITY;
        total += 800;
    }
    ok((double)fired >= 0.8 * (double)total, "FIRE: %.1f%% of hidden neurons fire (>= 80%%)",
       100.0 * (double)fired / (double)total);
    ok(out_fired >= 450, "FIRE: %zu of 500 outputs fire", out_fired);
    diag("%.1f%% of hidden neurons fire by t = 3; the latest at %.3g",
         100.0 * (double)early / (double)total, late);

    stdbp_net_init(net2, &ip, 123);
    ok(memcmp(stdbp_net_params_const(net), stdbp_net_params_const(net2),
              stdbp_net_num_params(net) * sizeof(double)) == 0,
       "same seed, same weights");
    stdbp_net_init(net2, &ip, 124);
    ok(memcmp(stdbp_net_params_const(net), stdbp_net_params_const(net2), 784 * sizeof(double)) != 0,
       "another seed, other weights");

    ip.kind = STDBP_INIT_KAIMING;
    ip.gain = 2.0;
    stdbp_net_init(net2, &ip, 9);
    moments(stdbp_net_params_const(net2), 784 * 800, &mean, &sd);
    ok(fabs(mean) < 2e-4 && fabs(sd / (2 * sqrt(2.0 / 784)) - 1) < 0.01,
       "KAIMING: mean %.5f ~ 0, sd %.5f = gain sqrt(2/N)", mean, sd);
    ip = stdbp_init_defaults();
    stdbp_net_destroy(&net2);
    {
        stdbp_neuron_params np = stdbp_neuron_defaults();
        np.theta = 4.0;
        net2 = build_net(in, s, 2, &np);
        stdbp_net_init(net2, &ip, 123);
        int scaled = 1;
        for (size_t q = 0; q < stdbp_net_num_params(net2); q += 997)
            scaled &= fabs(stdbp_net_params_const(net2)[q] - 4.0 * w[q]) < 1e-12;
        ok(scaled, "FIRE scales with theta (same times for theta 4)");
    }
    stdbp_net_destroy(&net2);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    return 0;
}
