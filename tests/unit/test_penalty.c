/* Weight-sum penalty on a small conv + pool + dense network: its value
 * against a direct reading of the layouts in net.h, its gradient against
 * finite differences, the edge cases, and its two halves for the sharded
 * update against the whole. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

#define C_IN 2
#define SIDE 5
#define C_OUT 3
#define K 3
#define N_DENSE 4
#define THETA 0.5
#define MARGIN 1.2
#define LAMBDA 0.7

/* The penalty written straight from the definition, one neuron at a time,
 * with the weight layouts of net.h: conv W[c_in][ky][kx][c_out] (one
 * neuron per output channel), dense W[in][out]. */
static double direct_penalty(const double *w, size_t conv_off, size_t dense_off, int *n_active,
                             double *min_gap)
{
    double value = 0;
    *n_active = 0;
    *min_gap = INFINITY;
    for (int co = 0; co < C_OUT; co++) {
        double s = 0;
        for (int ci = 0; ci < C_IN; ci++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    s += w[conv_off + (size_t)(((ci * K + ky) * K + kx) * C_OUT + co)];
        *min_gap = fmin(*min_gap, fabs(MARGIN * THETA - s));
        if (MARGIN * THETA - s > 0) {
            value += LAMBDA * (MARGIN * THETA - s);
            ++*n_active;
        }
    }
    for (int j = 0; j < N_DENSE; j++) {
        double s = 0;
        for (int i = 0; i < C_OUT; i++) /* input of the dense layer: (3, 1, 1) */
            s += w[dense_off + (size_t)(i * N_DENSE + j)];
        *min_gap = fmin(*min_gap, fabs(MARGIN * THETA - s));
        if (MARGIN * THETA - s > 0) {
            value += LAMBDA * (MARGIN * THETA - s);
            ++*n_active;
        }
    }
    return value;
}

/* The two halves of the sharded update, over uneven cuts of the neurons
 * and of the parameters, give the gradient of stdbp_penalty_weight_sum to
 * the bit (including -0 entries) and the same value. */
static int halves_match(const stdbp_net *net, const double *w, double lambda, double margin)
{
    const size_t n = stdbp_net_num_params(net), cols = stdbp_penalty_columns(net);
    const size_t ccut[] = {0, cols / 3, cols / 3, cols - 1, cols};
    const size_t pcut[] = {0, 1, n / 2, n / 2 + 7 < n ? n / 2 + 7 : n, n};
    double *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    double *slope = malloc((cols ? cols : 1) * sizeof *slope);
    if (!g1 || !g2 || !slope)
        bail("out of memory");
    for (size_t k = 0; k < n; k++)
        g1[k] = g2[k] = k % 3 == 0 ? -0.0 : 0.01 * (double)k;
    const double want = stdbp_penalty_weight_sum(net, w, g1, lambda, margin);
    double value = 0;
    for (size_t c = 0; c + 1 < sizeof ccut / sizeof *ccut; c++)
        value += stdbp_penalty_slopes(net, w, lambda, margin, ccut[c], ccut[c + 1], slope);
    for (size_t c = 0; c + 1 < sizeof pcut / sizeof *pcut; c++)
        stdbp_penalty_add_slopes(net, slope, g2, pcut[c], pcut[c + 1]);
    const int same = memcmp(g1, g2, n * sizeof *g1) == 0 && fabs(value - want) <= 1e-12;
    free(g1);
    free(g2);
    free(slope);
    return same;
}

/* A one-layer dense network of in_c inputs and out neurons. */
static stdbp_net *dense_net(int in_c, int out, const stdbp_neuron_params *neuron)
{
    const stdbp_shape in = {in_c, 1, 1};
    stdbp_layer_spec spec;
    stdbp_net *net = NULL;
    stdbp_err err;
    memset(&spec, 0, sizeof spec);
    spec.kind = STDBP_LAYER_DENSE;
    spec.out = out;
    if (stdbp_net_create(in, &spec, 1, neuron, &net, &err) != STDBP_OK)
        bail("stdbp_net_create (%dx%d): %s", in_c, out, err.msg);
    return net;
}

/* A dense layer wider than the penalty's block of columns (256), so that
 * block boundaries are crossed. */
static void test_wide(void)
{
    enum { IN = 4, OUT = 600 };
    stdbp_neuron_params neuron = stdbp_neuron_defaults();
    stdbp_net *net = dense_net(IN, OUT, &neuron);
    stdbp_rng r;

    double *w = stdbp_net_params(net);
    double *g = calloc(IN * OUT, sizeof(double));
    if (!g)
        bail("out of memory");
    stdbp_rng_seed(&r, 3);
    for (int i = 0; i < IN * OUT; i++)
        w[i] = 0.25 + 0.3 * stdbp_rng_normal(&r);
    double want = 0;
    int grad_ok = 1;
    const double floor_sum = 1.1 * neuron.theta;
    const double value = stdbp_penalty_weight_sum(net, w, g, 2.0, 1.1);
    for (int j = 0; j < OUT; j++) {
        double s = 0;
        for (int i = 0; i < IN; i++)
            s += w[i * OUT + j];
        want += s < floor_sum ? 2.0 * (floor_sum - s) : 0;
        for (int i = 0; i < IN; i++)
            grad_ok &= g[i * OUT + j] == (s < floor_sum ? -2.0 : 0.0);
    }
    is_double(want, value, 1e-11, "600-wide dense layer: value across column blocks");
    ok(grad_ok, "600-wide dense layer: gradient across column blocks");
    is_int(OUT, (long long)stdbp_penalty_columns(net), "600-wide dense layer: 600 neurons");
    ok(halves_match(net, w, 2.0, 1.1), "600-wide dense layer: halves, cut anyhow, == whole");
    free(g);
    stdbp_net_destroy(&net);
}

/* The column sums and the slopes' additions are vectorised (AVX2,
 * AVX-512): every build the machine runs gives the plain C build's value
 * and gradient to the bit, whole and in halves, on a layer of 5 rows and
 * 603 columns (full vectors and tails, some neurons below the floor). */
static void test_isas(void)
{
    enum { IN = 5, OUT = 603 };
    stdbp_neuron_params neuron = stdbp_neuron_defaults();
    stdbp_net *net = dense_net(IN, OUT, &neuron);
    stdbp_err err;
    stdbp_rng r;
    static const char *const names[] = {"generic", "avx2", "avx512"};

    double *w = stdbp_net_params(net);
    double *g = malloc(3 * IN * OUT * sizeof(double)), *slope = malloc(OUT * sizeof(double));
    if (!g || !slope)
        bail("out of memory");
    double *ref = g + IN * OUT, *half = g + 2 * IN * OUT;
    stdbp_rng_seed(&r, 11);
    for (int i = 0; i < IN * OUT; i++)
        w[i] = 0.2 + 0.3 * stdbp_rng_normal(&r);
    double ref_value = 0;
    int active = 0, all_same = 1, tried = 0;
    for (size_t s = 0; s < sizeof names / sizeof *names; s++) {
        if (stdbp_kernels_select(names[s], &err) != STDBP_OK)
            continue; /* not on this machine or build */
        tried++;
        for (int i = 0; i < IN * OUT; i++)
            g[i] = half[i] = i % 5 == 0 ? -0.0 : 1e-3 * (double)(i % 17);
        const double value = stdbp_penalty_weight_sum(net, w, g, 0.5, 1.0);
        double hv = stdbp_penalty_slopes(net, w, 0.5, 1.0, 0, 301, slope);
        hv += stdbp_penalty_slopes(net, w, 0.5, 1.0, 301, OUT, slope);
        stdbp_penalty_add_slopes(net, slope, half, 0, 1000);
        stdbp_penalty_add_slopes(net, slope, half, 1000, IN * OUT);
        if (s == 0) {
            memcpy(ref, g, IN * OUT * sizeof(double));
            ref_value = value;
            for (int j = 0; j < OUT; j++)
                active += slope[j] != 0.0;
        }
        const int same = memcmp(g, ref, IN * OUT * sizeof(double)) == 0 &&
                         memcmp(half, ref, IN * OUT * sizeof(double)) == 0 &&
                         memcmp(&value, &ref_value, sizeof value) == 0 &&
                         fabs(hv - value) <= 1e-12 * fabs(value);
        if (!same)
            diag("%s: value %.17g (plain C %.17g), gradient %s", names[s], value, ref_value,
                 memcmp(g, ref, IN * OUT * sizeof(double)) ? "differs" : "same");
        all_same &= same;
    }
    if (stdbp_kernels_select("best", &err) != STDBP_OK)
        bail("stdbp_kernels_select(best): %s", err.msg);
    ok(tried >= 1 && active > 10 && active < OUT - 10 && all_same,
       "penalty in every build (%d here, %d of %d neurons below the floor) = plain C, to the bit",
       tried, active, OUT);
    free(g);
    free(slope);
    stdbp_net_destroy(&net);
}

int main(void)
{
    /* conv2d(3, k3, p1) keeps 5x5; pool(k5) takes it to 1x1; flatten;
     * dense(4). Pool and flatten have no weights and must be skipped. */
    const stdbp_shape in = {C_IN, SIDE, SIDE};
    stdbp_layer_spec specs[4];
    stdbp_neuron_params neuron = stdbp_neuron_defaults();
    stdbp_net *net = NULL;
    stdbp_err err;
    stdbp_rng r;

    plan(20);
    memset(specs, 0, sizeof specs);
    specs[0].kind = STDBP_LAYER_CONV2D;
    specs[0].out = C_OUT;
    specs[0].kernel = K;
    specs[0].stride = 1;
    specs[0].padding = 1;
    specs[1].kind = STDBP_LAYER_POOL;
    specs[1].kernel = SIDE;
    specs[2].kind = STDBP_LAYER_FLATTEN;
    specs[3].kind = STDBP_LAYER_DENSE;
    specs[3].out = N_DENSE;
    neuron.theta = THETA;
    if (stdbp_net_create(in, specs, 4, &neuron, &net, &err) != STDBP_OK)
        bail("stdbp_net_create: %s", err.msg);

    const stdbp_layer_info conv = stdbp_net_layer(net, 0);
    const stdbp_layer_info dense = stdbp_net_layer(net, 3);
    const size_t n = stdbp_net_num_params(net);
    ok(conv.param_count == C_IN * K * K * C_OUT && conv.fan_in == C_IN * K * K,
       "conv layer: 54 weights, fan-in 18");
    ok(dense.param_count == C_OUT * N_DENSE && dense.fan_in == C_OUT,
       "dense layer: 12 weights, fan-in 3");
    is_int((long long)(conv.param_count + dense.param_count), (long long)n, "no other parameters");

    /* Weights spread so that some neurons fall below margin * theta = 0.6
     * and some do not; every sum at least 1e-3 from the kink so that finite
     * differences do not straddle it. */
    double *w = stdbp_net_params(net);
    int n_active = 0;
    double value_direct = 0, min_gap = 0;
    for (uint64_t seed = 0;; seed++) {
        stdbp_rng_seed(&r, seed);
        for (size_t i = 0; i < n; i++)
            w[i] = 0.03 + 0.15 * stdbp_rng_normal(&r);
        value_direct =
            direct_penalty(w, conv.param_offset, dense.param_offset, &n_active, &min_gap);
        if (min_gap > 1e-3 && n_active >= 2 && n_active <= C_OUT + N_DENSE - 2)
            break;
        if (seed > 1000)
            bail("no suitable random weights");
    }
    diag("%d of %d neurons below the margin", n_active, C_OUT + N_DENSE);

    double *grad = calloc(n, sizeof(double));
    double *g1 = malloc(n * sizeof(double));
    if (!grad || !g1)
        bail("out of memory");
    const double value = stdbp_penalty_weight_sum(net, w, grad, LAMBDA, MARGIN);
    is_double(value_direct, value, 1e-13, "value matches the definition (%g)", value);
    ok(value > 0, "some neurons are penalised");

    /* Central differences, weight by weight (the penalty is piecewise
     * linear, so away from the kink they are exact up to rounding). */
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double h = 1e-5, w0 = w[i];
        w[i] = w0 + h;
        const double vp = stdbp_penalty_weight_sum(net, w, NULL, LAMBDA, MARGIN);
        w[i] = w0 - h;
        const double vm = stdbp_penalty_weight_sum(net, w, NULL, LAMBDA, MARGIN);
        w[i] = w0;
        worst = fmax(worst, fabs((vp - vm) / (2 * h) - grad[i]));
    }
    ok(worst < 1e-8, "gradient matches central differences (max error %.2e)", worst);

    /* Exactly -lambda or 0, shared by all fan-in weights of a neuron. */
    int exact = 1;
    for (size_t i = 0; i < n; i++)
        exact &= grad[i] == -LAMBDA || grad[i] == 0;
    size_t n_neg = 0;
    for (size_t i = 0; i < n; i++)
        n_neg += grad[i] != 0;
    ok(exact, "every gradient entry is -lambda or 0");
    int conv_active = 0, dense_active = 0;
    for (int co = 0; co < C_OUT; co++)
        conv_active += grad[conv.param_offset + (size_t)co] != 0;
    for (int j = 0; j < N_DENSE; j++)
        dense_active += grad[dense.param_offset + (size_t)j] != 0;
    is_int((long long)(conv_active * conv.fan_in + dense_active * dense.fan_in), (long long)n_neg,
           "a conv channel's gradient covers all its c_in*k*k weights");
    is_int(n_active, conv_active + dense_active, "active neurons as in the definition");

    is_int(C_OUT + N_DENSE, (long long)stdbp_penalty_columns(net),
           "neurons: 3 conv channels and 4 dense");
    ok(halves_match(net, w, LAMBDA, MARGIN),
       "slopes by neuron ranges + add by parameter ranges == the whole penalty, bitwise");

    /* It adds into grad. */
    for (size_t i = 0; i < n; i++)
        g1[i] = 1.0;
    (void)stdbp_penalty_weight_sum(net, w, g1, LAMBDA, MARGIN);
    int adds = 1;
    for (size_t i = 0; i < n; i++)
        adds &= g1[i] == 1.0 + grad[i];
    ok(adds, "the gradient is added into grad");

    /* lambda 0: nothing, and grad untouched. */
    for (size_t i = 0; i < n; i++)
        g1[i] = 2.0;
    is_double(0.0, stdbp_penalty_weight_sum(net, w, g1, 0.0, MARGIN), 0, "lambda 0 gives 0");
    int untouched = 1;
    for (size_t i = 0; i < n; i++)
        untouched &= g1[i] == 2.0;
    ok(untouched, "lambda 0 leaves grad alone");

    /* Large weights: every neuron fires easily, so no penalty. */
    for (size_t i = 0; i < n; i++)
        w[i] = 1.0;
    is_double(0.0, stdbp_penalty_weight_sum(net, w, NULL, LAMBDA, MARGIN), 0,
              "no penalty when every sum exceeds margin * theta");

    free(grad);
    free(g1);
    stdbp_net_destroy(&net);
    test_wide();
    test_isas();
    return 0;
}
