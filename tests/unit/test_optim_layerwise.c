/* Large-batch training: LAMB and LARS against their formulas written out
 * on a small two-layer net, their norms independent of how the parameters
 * are sliced (bitwise, also for a tensor whose squares span 32 orders of
 * magnitude), a bitwise restore of LAMB's state, the learning-rate
 * scaling rule and the step warm-up, and the config keys. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/config.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

/* dense 3 -> 2 (6 weights), dense 2 -> 2 (4 weights): two tensors. */
#define N 10
#define T0 6

static stdbp_net *small_net(void)
{
    stdbp_layer_spec specs[2];
    stdbp_neuron_params neuron = stdbp_neuron_defaults();
    stdbp_net *net = NULL;
    stdbp_err err;
    memset(specs, 0, sizeof specs);
    specs[0].kind = specs[1].kind = STDBP_LAYER_DENSE;
    specs[0].out = specs[1].out = 2;
    if (stdbp_net_create((stdbp_shape){3, 1, 1}, specs, 2, &neuron, &net, &err) != STDBP_OK)
        bail("stdbp_net_create: %s", err.msg);
    if (stdbp_net_num_params(net) != N)
        bail("expected %d parameters, got %zu", N, stdbp_net_num_params(net));
    return net;
}

static stdbp_optim *make(const stdbp_optim_params *p, const stdbp_net *net)
{
    stdbp_optim *opt = NULL;
    stdbp_err err;
    if (stdbp_optim_create(p, N, &opt, &err) != STDBP_OK ||
        stdbp_optim_use_layers(opt, net, &err) != STDBP_OK)
        bail("optimiser: %s", err.msg);
    return opt;
}

static double norm(const double *x, size_t a, size_t b)
{
    double s = 0;
    for (size_t i = a; i < b; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

static const double W0[N] = {0.5, -0.25, 1.0, 0.75, -0.5, 0.125, 2.0, -1.0, 0.5, 0.25};
static const double G0[N] = {0.1, 0.2, -0.3, 0.05, -0.01, 0.4, -0.02, 0.03, 0.01, -0.04};

/* One LAMB step from zero moments, by the formula of optim.h: mhat = g,
 * vhat = g^2, r = g / (|g| + eps) + wd w, q = trust ||w_T|| / ||r_T||,
 * w -= lr q r, per tensor. */
static void test_lamb_by_hand(const stdbp_net *net)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_LAMB;
    p.weight_decay = 0.01;
    p.trust_coef = 0.5;
    stdbp_optim *opt = make(&p, net);
    double w[N], r[N], want[N];
    memcpy(w, W0, sizeof w);
    is_int(2 * 2 * STDBP_OPTIM_NORM_LIMBS, (long long)stdbp_optim_norm_size(opt),
           "LAMB on two layers: two tensors' accumulators");
    is_int(2 * N, (long long)stdbp_optim_state_size(opt), "LAMB state is m and v (2n)");
    for (size_t i = 0; i < N; i++)
        r[i] = G0[i] / (fabs(G0[i]) + p.eps) + p.weight_decay * W0[i];
    const size_t cut[3] = {0, T0, N};
    for (int t = 0; t < 2; t++) {
        const double q = p.trust_coef * norm(W0, cut[t], cut[t + 1]) / norm(r, cut[t], cut[t + 1]);
        for (size_t i = cut[t]; i < cut[t + 1]; i++)
            want[i] = W0[i] - 0.01 * q * r[i];
    }
    stdbp_optim_step(opt, w, G0, 0.01);
    double worst = 0;
    for (size_t i = 0; i < N; i++)
        worst = fmax(worst, fabs(w[i] - want[i]));
    ok(worst < 1e-15, "LAMB step 1 = the formula per layer (max error %g)", worst);
    /* The layers get different ratios: the first layer's relative change
     * differs from the second's. */
    ok(fabs((w[0] - W0[0]) / r[0] - (w[T0] - W0[T0]) / r[T0]) > 1e-6,
       "... with a different trust ratio per layer");
    stdbp_optim_destroy(&opt);
}

/* Two LARS steps with momentum, written out. */
static void test_lars_by_hand(const stdbp_net *net)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_LARS;
    p.momentum = 0.9;
    p.weight_decay = 0.001;
    p.trust_coef = 0.02;
    stdbp_optim *opt = make(&p, net);
    double w[N], want[N], u[N] = {0}, g2[N];
    memcpy(w, W0, sizeof w);
    memcpy(want, W0, sizeof want);
    for (size_t i = 0; i < N; i++)
        g2[i] = 0.5 * G0[N - 1 - i];
    const size_t cut[3] = {0, T0, N};
    for (int step = 0; step < 2; step++) {
        const double *g = step ? g2 : G0;
        for (int t = 0; t < 2; t++) {
            const double wn = norm(want, cut[t], cut[t + 1]), gn = norm(g, cut[t], cut[t + 1]);
            const double q = p.trust_coef * wn / (gn + p.weight_decay * wn + p.eps);
            for (size_t i = cut[t]; i < cut[t + 1]; i++) {
                u[i] = p.momentum * u[i] + q * (g[i] + p.weight_decay * want[i]);
                want[i] -= 0.5 * u[i];
            }
        }
        stdbp_optim_step(opt, w, g, 0.5);
    }
    double worst = 0;
    for (size_t i = 0; i < N; i++)
        worst = fmax(worst, fabs(w[i] - want[i]));
    ok(worst < 1e-15, "LARS two steps with momentum = the formula per layer (max error %g)", worst);
    is_int(N, (long long)stdbp_optim_state_size(opt), "LARS state is the velocity (n)");
    stdbp_optim_destroy(&opt);
}

/* P slices, the way the sharded update cuts them: the two-phase step
 * (per-slice norms summed as integers) against stdbp_optim_step. */
static int sliced_is_bitwise(const stdbp_optim_params *p, const stdbp_net *net, int ranks)
{
    stdbp_optim *whole = make(p, net), *parts = make(p, net);
    const size_t size = stdbp_optim_norm_size(whole);
    int64_t *sum = bcalloc(size, sizeof *sum), *acc = bcalloc(size, sizeof *acc);
    double w1[N], w2[N], g[N];
    stdbp_rng rng;
    int same = 1;
    stdbp_rng_seed(&rng, 11);
    for (size_t i = 0; i < N; i++)
        w1[i] = w2[i] = stdbp_rng_normal(&rng);
    w1[2] = w2[2] = 1e8; /* squares 1e16 and ~1: a float sum depends on order */
    for (int step = 0; step < 4; step++) {
        for (size_t i = 0; i < N; i++)
            g[i] = stdbp_rng_normal(&rng) * (i == 4 ? 1e-8 : 1.0);
        stdbp_optim_step(whole, w1, g, 0.01);
        memset(sum, 0, size * sizeof *sum);
        for (int r = 0; r < ranks; r++) { /* uneven slices that cut the tensors */
            stdbp_optim_norms_slice(parts, w2, g, N * (size_t)r / ranks,
                                    N * (size_t)(r + 1) / ranks, acc);
            for (size_t k = 0; k < size; k++)
                sum[k] += acc[k];
        }
        double before[N];
        memcpy(before, w2, sizeof before);
        /* Each rank steps its slice from the same old weights; the steps
         * count once per optimiser, as on ranks that each own one. */
        for (int r = 0; r < ranks; r++) {
            stdbp_optim_set_steps(parts, (uint64_t)step);
            double mine[N];
            memcpy(mine, before, sizeof mine);
            const size_t lo = N * (size_t)r / ranks, hi = N * (size_t)(r + 1) / ranks;
            stdbp_optim_step_slice_norms(parts, mine, g, 0.01, lo, hi, sum);
            memcpy(w2 + lo, mine + lo, (hi - lo) * sizeof *w2);
        }
    }
    same = memcmp(w1, w2, sizeof w1) == 0 &&
           memcmp(stdbp_optim_state(whole), stdbp_optim_state(parts),
                  stdbp_optim_state_size(whole) * sizeof(double)) == 0;
    free(sum);
    free(acc);
    stdbp_optim_destroy(&whole);
    stdbp_optim_destroy(&parts);
    return same;
}

static void test_slices(const stdbp_net *net)
{
    stdbp_optim_params lamb = stdbp_optim_defaults(), lars = stdbp_optim_defaults();
    lamb.kind = STDBP_OPTIM_LAMB;
    lamb.weight_decay = 0.01;
    lars.kind = STDBP_OPTIM_LARS;
    lars.nesterov = 1;
    lars.weight_decay = 0.01;
    int all_lamb = 1, all_lars = 1;
    for (int ranks = 1; ranks <= 7; ranks++) {
        all_lamb &= sliced_is_bitwise(&lamb, net, ranks);
        all_lars &= sliced_is_bitwise(&lars, net, ranks);
    }
    ok(all_lamb, "LAMB: slices on 1 to 7 ranks give stdbp_optim_step's bits (4 steps)");
    ok(all_lars, "LARS (Nesterov): slices on 1 to 7 ranks give stdbp_optim_step's bits");
}

/* Moments and step count into a fresh optimiser: it continues bitwise. */
static void test_restore(const stdbp_net *net)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_LAMB;
    stdbp_optim *a = make(&p, net), *b = make(&p, net);
    double wa[N], wb[N], g[N];
    memcpy(wa, W0, sizeof wa);
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < N; i++)
            g[i] = G0[(i + (size_t)s) % N];
        stdbp_optim_step(a, wa, g, 0.01);
    }
    memcpy(wb, wa, sizeof wb);
    memcpy(stdbp_optim_state(b), stdbp_optim_state(a), stdbp_optim_state_size(a) * sizeof(double));
    stdbp_optim_set_steps(b, stdbp_optim_steps(a));
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < N; i++)
            g[i] = G0[(i * 3 + (size_t)s) % N];
        stdbp_optim_step(a, wa, g, 0.01);
        stdbp_optim_step(b, wb, g, 0.01);
    }
    ok(memcmp(wa, wb, sizeof wa) == 0, "LAMB: a restored state continues bitwise");
    stdbp_optim_destroy(&a);
    stdbp_optim_destroy(&b);
}

static void test_scaling(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.lr = 5e-4;
    p.lr_base_batch = 128;
    ok(stdbp_optim_scaled_lr(&p, 1024) == 5e-4, "lr_scaling none: lr unchanged");
    p.lr_scaling = STDBP_LR_SCALE_LINEAR;
    ok(stdbp_optim_scaled_lr(&p, 1024) == 5e-4 * 8.0, "linear: lr x 1024 / 128");
    p.lr_scaling = STDBP_LR_SCALE_SQRT;
    ok(stdbp_optim_scaled_lr(&p, 4096) == 5e-4 * sqrt(32.0), "sqrt: lr x sqrt(4096 / 128)");
    ok(stdbp_optim_scaled_lr(&p, 128) == 5e-4, "at the base batch: lr itself");

    stdbp_optim *opt = NULL;
    stdbp_err err;
    p.lr_base_batch = 0;
    ok(stdbp_optim_create(&p, 4, &opt, &err) == STDBP_EINVAL && strstr(err.msg, "lr_base_batch"),
       "lr_scaling without lr_base_batch is refused: %s", err.msg);
    p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_LARS;
    p.trust_coef = 0;
    ok(stdbp_optim_create(&p, 4, &opt, &err) == STDBP_EINVAL && strstr(err.msg, "trust_coef"),
       "trust_coef 0 is refused: %s", err.msg);
}

static void test_warmup_steps(void)
{
    stdbp_schedule s = stdbp_schedule_defaults();
    s.warmup_steps = 4;
    is_double(0.25, stdbp_schedule_lr_step(&s, 1.0, 0.0, 0), 0, "warmup_steps 4: step 1 at 1/4");
    is_double(0.75, stdbp_schedule_lr_step(&s, 1.0, 0.1, 2), 0, "... step 3 at 3/4");
    is_double(1.0, stdbp_schedule_lr_step(&s, 1.0, 0.2, 3), 0, "... step 4 at the full rate");
    s.warmup_steps = 0;
    s.warmup_epochs = 2;
    ok(stdbp_schedule_lr_step(&s, 1.0, 0.5, 7) == stdbp_schedule_lr(&s, 1.0, 0.5),
       "without warmup_steps: stdbp_schedule_lr (epoch warm-up)");
}

static stdbp_status load(const char *yaml, stdbp_config *c, stdbp_err *err)
{
    stdbp_status st = stdbp_config_load_string(yaml, strlen(yaml), "t.yaml", c, err);
    return st != STDBP_OK ? st : stdbp_config_validate(c, err);
}

static void test_config(void)
{
    stdbp_config c;
    stdbp_err err;
    stdbp_status st = load("optimizer: {kind: lamb, lr: 1e-3, lr_scaling: sqrt, "
                           "lr_base_batch: 128, trust_coef: 0.5}\n"
                           "schedule: {warmup_steps: 10}\ntrain: {batch: 512}\n",
                           &c, &err);
    ok(st == STDBP_OK && c.optim.kind == STDBP_OPTIM_LAMB &&
           c.optim.lr_scaling == STDBP_LR_SCALE_SQRT && c.optim.lr_base_batch == 128 &&
           c.optim.trust_coef == 0.5 && c.schedule.warmup_steps == 10,
       "config: optimizer.kind lamb, lr_scaling, lr_base_batch, trust_coef, warmup_steps");
    st = load("optimizer: {kind: lars}\n", &c, &err);
    ok(st == STDBP_OK && c.optim.kind == STDBP_OPTIM_LARS &&
           c.optim.lr_scaling == STDBP_LR_SCALE_NONE && c.optim.trust_coef == 1.0,
       "config: lars; defaults lr_scaling none, trust_coef 1");
    st = load("optimizer: {lr_scaling: linear}\n", &c, &err);
    ok(st != STDBP_OK && strstr(err.msg, "optimizer.lr_base_batch"),
       "lr_scaling without lr_base_batch: %s", err.msg);
    st = load("schedule: {warmup_steps: 5, warmup_epochs: 1}\n", &c, &err);
    ok(st != STDBP_OK && strstr(err.msg, "schedule.warmup_steps"), "both warm-ups set: %s",
       err.msg);
    st = load("optimizer: {lr: 1e-3, lr_scaling: linear, lr_base_batch: 64}\n"
              "schedule: {kind: cosine, min_lr: 1.5e-3}\ntrain: {batch: 128}\n",
              &c, &err);
    ok(st == STDBP_OK, "cosine min_lr is compared with the scaled lr (2e-3)");
}

int main(void)
{
    plan(24);
    stdbp_net *net = small_net();
    test_lamb_by_hand(net);
    test_lars_by_hand(net);
    test_slices(net);
    test_restore(net);
    test_scaling();
    test_warmup_steps();
    test_config();
    stdbp_net_destroy(&net);
    return 0;
}
