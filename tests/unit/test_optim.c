/* Optimisers: Adam and SGD steps by hand, weight decay, convergence on a
 * quadratic, bitwise save/restore, parameter checks, and clipping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/optim.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

static stdbp_optim *make(const stdbp_optim_params *p, size_t n)
{
    stdbp_optim *opt = NULL;
    stdbp_err err;
    if (stdbp_optim_create(p, n, &opt, &err) != STDBP_OK)
        bail("stdbp_optim_create: %s", err.msg);
    return opt;
}

static void test_defaults(void)
{
    const stdbp_optim_params p = stdbp_optim_defaults();
    ok(p.kind == STDBP_OPTIM_ADAM && p.lr == 1e-4 && p.beta1 == 0.9 && p.beta2 == 0.999 &&
           p.eps == 1e-8 && p.weight_decay == 0 && p.momentum == 0.9 && p.nesterov == 0,
       "defaults: Adam, lr 1e-4, betas 0.9/0.999, eps 1e-8, wd 0, momentum 0.9");
}

static void test_adam_by_hand(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    stdbp_optim *opt = make(&p, 2);
    double w[2] = {1.0, -2.0};
    const double g1[2] = {0.5, -0.1}, g2[2] = {0.5, 0.3};

    is_int(4, (long long)stdbp_optim_state_size(opt), "Adam state is m and v (2n)");
    /* Step 1: mhat = g, vhat = g^2, so the step is lr g / (|g| + eps). */
    stdbp_optim_step(opt, w, g1, 0.1);
    is_double(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), w[0], 1e-15, "Adam step 1, w0");
    is_double(-2.0 + 0.1 * 0.1 / (0.1 + 1e-8), w[1], 1e-15, "Adam step 1, w1");
    is_double(0.1 * 0.5, stdbp_optim_state(opt)[0], 1e-16, "m after step 1");
    is_double(0.001 * 0.01, stdbp_optim_state(opt)[3], 1e-19, "v after step 1");

    /* Step 2, written out: m1 = 0.9(-0.01) + 0.1(0.3) = 0.021,
     * v1 = 0.999(1e-5) + 0.001(0.09) = 9.999e-5, corrections 0.19 and
     * 0.001999. */
    const double w1 = w[1];
    stdbp_optim_step(opt, w, g2, 0.1);
    const double mhat = 0.021 / 0.19, vhat = 9.999e-5 / 0.001999;
    is_double(w1 - 0.1 * mhat / (sqrt(vhat) + 1e-8), w[1], 1e-14, "Adam step 2 by hand");
    is_int(2, (long long)stdbp_optim_steps(opt), "two steps counted");
    stdbp_optim_destroy(&opt);
    ok(opt == NULL, "destroy NULLs the handle");
    stdbp_optim_destroy(&opt); /* and accepts NULL */
}

static void test_sgd_by_hand(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_SGD;
    stdbp_optim *opt = make(&p, 1);
    double w = 1.0;
    const double g = 1.0;
    is_int(1, (long long)stdbp_optim_state_size(opt), "SGD state is the velocity (n)");
    stdbp_optim_step(opt, &w, &g, 0.1); /* u = 1, w = 1 - 0.1 */
    is_double(0.9, w, 1e-15, "SGD momentum step 1");
    stdbp_optim_step(opt, &w, &g, 0.1); /* u = 1.9, w = 0.9 - 0.19 */
    is_double(0.71, w, 1e-15, "SGD momentum step 2");
    stdbp_optim_destroy(&opt);

    p.nesterov = 1;
    opt = make(&p, 1);
    w = 1.0;
    stdbp_optim_step(opt, &w, &g, 0.1); /* u = 1, d = 1 + 0.9 */
    is_double(0.81, w, 1e-15, "Nesterov step 1");
    stdbp_optim_step(opt, &w, &g, 0.1); /* u = 1.9, d = 1 + 1.71 */
    is_double(0.539, w, 1e-15, "Nesterov step 2");
    stdbp_optim_destroy(&opt);
}

static void test_weight_decay(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.weight_decay = 0.1;
    stdbp_optim *opt = make(&p, 1);
    double w = 2.0;
    const double zero = 0.0;
    /* Zero gradient: the Adam term is 0 / eps = 0; only decay remains. */
    stdbp_optim_step(opt, &w, &zero, 0.5);
    is_double(2.0 - 0.5 * 0.1 * 2.0, w, 1e-15, "Adam decoupled decay: w -= lr wd w");
    stdbp_optim_destroy(&opt);

    /* Decoupled: the moments do not see the decay. */
    stdbp_optim_params q = p;
    q.weight_decay = 0.0;
    stdbp_optim *a = make(&p, 1), *b = make(&q, 1);
    double wa = 3.0, wb = 3.0;
    const double g = 0.7;
    for (int i = 0; i < 5; i++) {
        stdbp_optim_step(a, &wa, &g, 0.01);
        stdbp_optim_step(b, &wb, &g, 0.01);
    }
    ok(memcmp(stdbp_optim_state(a), stdbp_optim_state(b), 2 * sizeof(double)) == 0,
       "weight decay never enters Adam's moments");
    ok(wa < wb, "decay pulls the weight further towards 0");
    stdbp_optim_destroy(&a);
    stdbp_optim_destroy(&b);

    p.kind = STDBP_OPTIM_SGD;
    opt = make(&p, 1);
    w = 2.0;
    stdbp_optim_step(opt, &w, &zero, 0.5);
    is_double(1.9, w, 1e-15, "SGD decoupled decay");
    is_double(0.0, stdbp_optim_state(opt)[0], 0, "SGD velocity does not see the decay");
    stdbp_optim_destroy(&opt);
}

/* f(w) = 1/2 sum a_i (w_i - c_i)^2 with curvatures 0.1 .. 10. */
#define NQ 8
static double quad_grad(const double *w, double *g)
{
    double f = 0;
    for (int i = 0; i < NQ; i++) {
        const double a = pow(10.0, -1.0 + 2.0 * i / (NQ - 1)), c = 1.0 - 0.3 * i;
        g[i] = a * (w[i] - c);
        f += 0.5 * a * (w[i] - c) * (w[i] - c);
    }
    return f;
}

static double converge(const stdbp_optim_params *p, double lr, int steps)
{
    stdbp_optim *opt = make(p, NQ);
    double w[NQ] = {0}, g[NQ], f = 0;
    for (int s = 0; s < steps; s++) {
        (void)quad_grad(w, g);
        stdbp_optim_step(opt, w, g, lr);
    }
    f = quad_grad(w, g);
    stdbp_optim_destroy(&opt);
    return f;
}

static void test_convergence(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    double f = converge(&p, 0.01, 3000);
    ok(f < 1e-8, "Adam minimises a quadratic (f = %.2e)", f);
    p.kind = STDBP_OPTIM_SGD;
    f = converge(&p, 0.015, 2000);
    ok(f < 1e-10, "SGD with momentum minimises a quadratic (f = %.2e)", f);
    p.nesterov = 1;
    f = converge(&p, 0.015, 2000);
    ok(f < 1e-10, "SGD with Nesterov minimises a quadratic (f = %.2e)", f);
}

/* Run 10 steps, snapshot, 10 more; then a fresh optimiser restored from
 * the snapshot must land on bitwise the same parameters. */
static int restore_is_bitwise(const stdbp_optim_params *p)
{
    enum { N = 37 };
    stdbp_rng r;
    double w[N], g[20][N], w_snap[N], w_again[N];
    stdbp_optim *a = make(p, N), *b = make(p, N);
    stdbp_rng_seed(&r, 99);
    for (int i = 0; i < N; i++)
        w[i] = stdbp_rng_normal(&r);
    for (int s = 0; s < 20; s++)
        for (int i = 0; i < N; i++)
            g[s][i] = stdbp_rng_normal(&r);
    for (int s = 0; s < 10; s++)
        stdbp_optim_step(a, w, g[s], 1e-2);
    double *snap = malloc(stdbp_optim_state_size(a) * sizeof(double));
    if (!snap)
        bail("out of memory");
    memcpy(snap, stdbp_optim_state(a), stdbp_optim_state_size(a) * sizeof(double));
    const uint64_t steps = stdbp_optim_steps(a);
    memcpy(w_snap, w, sizeof w);
    for (int s = 10; s < 20; s++)
        stdbp_optim_step(a, w, g[s], 1e-2);

    memcpy(stdbp_optim_state(b), snap, stdbp_optim_state_size(b) * sizeof(double));
    stdbp_optim_set_steps(b, steps);
    memcpy(w_again, w_snap, sizeof w);
    for (int s = 10; s < 20; s++)
        stdbp_optim_step(b, w_again, g[s], 1e-2);
    const int same = memcmp(w, w_again, sizeof w) == 0 && stdbp_optim_steps(b) == 20;
    free(snap);
    stdbp_optim_destroy(&a);
    stdbp_optim_destroy(&b);
    return same;
}

static void test_restore(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.weight_decay = 0.01;
    ok(restore_is_bitwise(&p), "AdamW restored into a fresh optimiser continues bitwise");
    p.kind = STDBP_OPTIM_SGD;
    p.nesterov = 1;
    ok(restore_is_bitwise(&p), "SGD restored into a fresh optimiser continues bitwise");
}

/* Stepping the parameters slice by slice, as the ranks of the sharded
 * update do, gives bitwise the whole step: parameters and state. */
static int slices_are_bitwise(const stdbp_optim_params *p)
{
    enum { N = 37, STEPS = 4 };
    static const size_t cuts[] = {0, 8, 8, 24, 37}; /* one empty slice */
    stdbp_optim *whole = make(p, N), *parts = make(p, N);
    double ww[N], wp[N], g[N];
    for (int i = 0; i < N; i++)
        ww[i] = wp[i] = 0.1 * i - 1.0;
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < N; i++)
            g[i] = sin(0.7 * i + s) * (i % 5 + 1);
        stdbp_optim_step(whole, ww, g, 0.01);
        for (size_t c = 0; c + 1 < sizeof cuts / sizeof *cuts; c++) {
            stdbp_optim_step_slice(parts, wp, g, 0.01, cuts[c], cuts[c + 1]);
            stdbp_optim_set_steps(parts, stdbp_optim_steps(parts) - 1); /* one step in all */
        }
        stdbp_optim_set_steps(parts, stdbp_optim_steps(parts) + 1);
    }
    int same = memcmp(ww, wp, sizeof ww) == 0 &&
               memcmp(stdbp_optim_state(whole), stdbp_optim_state(parts),
                      stdbp_optim_state_size(whole) * sizeof(double)) == 0 &&
               stdbp_optim_steps(whole) == stdbp_optim_steps(parts);
    stdbp_optim_destroy(&whole);
    stdbp_optim_destroy(&parts);
    return same;
}

static void test_slices(void)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    p.weight_decay = 0.01;
    ok(slices_are_bitwise(&p), "AdamW step slice by slice == whole step, bitwise");
    p.kind = STDBP_OPTIM_SGD;
    p.nesterov = 1;
    ok(slices_are_bitwise(&p), "SGD step slice by slice == whole step, bitwise");

    /* A slice leaves the parameters and state outside it alone. */
    stdbp_optim *opt = make(&p, 4);
    double w[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
    stdbp_optim_step_slice(opt, w, g, 0.1, 1, 3);
    ok(w[0] == 1 && w[3] == 4 && w[1] != 2 && w[2] != 3 && stdbp_optim_state(opt)[0] == 0 &&
           stdbp_optim_state(opt)[3] == 0 && stdbp_optim_steps(opt) == 1,
       "slice [1, 3) changes parameters 1 and 2 only, one step counted");
    stdbp_optim_step_slice(opt, w, g, 0.1, 3, 99);
    ok(w[3] != 4 && w[0] == 1, "a slice past the end is clamped to the model");
    is_int(1, (long long)stdbp_optim_state_arrays(opt), "SGD state: one array per parameter");
    stdbp_optim_destroy(&opt);
    p.kind = STDBP_OPTIM_ADAM;
    p.nesterov = 0;
    opt = make(&p, 4);
    is_int(2, (long long)stdbp_optim_state_arrays(opt), "Adam state: two arrays per parameter");
    stdbp_optim_destroy(&opt);
}

static void test_bad_params(void)
{
    stdbp_optim *opt = NULL;
    stdbp_err err;
    stdbp_optim_params p = stdbp_optim_defaults();
    p.lr = 0;
    is_int(STDBP_EINVAL, stdbp_optim_create(&p, 4, &opt, &err), "lr 0 is rejected");
    contains(err.msg, "lr", "the message names lr");
    ok(opt == NULL, "no optimiser on failure");
    p = stdbp_optim_defaults();
    p.beta2 = 1.0;
    is_int(STDBP_EINVAL, stdbp_optim_create(&p, 4, &opt, &err), "beta2 1 is rejected");
    contains(err.msg, "beta2", "the message names beta2");
    p = stdbp_optim_defaults();
    p.kind = STDBP_OPTIM_SGD;
    p.momentum = 0;
    p.nesterov = 1;
    is_int(STDBP_EINVAL, stdbp_optim_create(&p, 4, &opt, &err), "Nesterov without momentum");
    p.weight_decay = NAN;
    is_int(STDBP_EINVAL, stdbp_optim_create(&p, 4, &opt, &err), "NaN weight decay");
    p = stdbp_optim_defaults();
    is_int(STDBP_OK, stdbp_optim_create(&p, 0, &opt, &err), "an empty model is allowed");
    stdbp_optim_step(opt, NULL, NULL, 1e-3);
    stdbp_optim_destroy(&opt);
}

static void test_clip(void)
{
    double g[2] = {3.0, 4.0};
    is_double(5.0, stdbp_grad_clip_norm(g, 2, 10.0), 0, "clip returns the norm");
    ok(g[0] == 3.0 && g[1] == 4.0, "below max_norm nothing changes");
    is_double(5.0, stdbp_grad_clip_norm(g, 2, 1.0), 0, "clip returns the norm before scaling");
    is_double(0.6, g[0], 1e-15, "clipped x");
    is_double(0.8, g[1], 1e-15, "clipped y");
    g[0] = 300;
    g[1] = 400;
    (void)stdbp_grad_clip_norm(g, 2, INFINITY);
    ok(g[0] == 300 && g[1] == 400, "INFINITY turns clipping off");

    double h[2] = {1e200, -1e200};
    is_double(sqrt(2.0) * 1e200, stdbp_grad_clip_norm(h, 2, 1.0), 1e186,
              "norm of huge values does not overflow");
    is_double(sqrt(0.5), h[0], 1e-15, "huge values are clipped");
    double q[2] = {NAN, 1.0};
    ok(isnan(stdbp_grad_clip_norm(q, 2, 1.0)) && q[1] == 1.0,
       "NaN norm is reported and nothing is scaled");
}

int main(void)
{
    plan(47);
    test_defaults();
    test_adam_by_hand();
    test_sgd_by_hand();
    test_weight_decay();
    test_convergence();
    test_restore();
    test_slices();
    test_bad_params();
    test_clip();
    return 0;
}
