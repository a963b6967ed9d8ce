/* Loss: hand-computed values, gradients against finite differences, the
 * silent-output rule, numerical stability, and classification ties. */
#include <math.h>

#include "stdbp/loss.h"
#include "stdbp/rng.h"
#include "tap/basic.h"

static void test_defaults(void)
{
    const stdbp_loss_params p = stdbp_loss_defaults();
    is_double(20.0, p.beta, 0, "default beta is 20");
    is_double(3.0, p.silent_time, 0, "default silent_time is 3");
}

static void test_hand_values(void)
{
    stdbp_loss_params p = {1.0, 3.0};
    double t[3] = {1.0, 2.0, 0}, g[3];
    /* beta 1, t = (1, 2), label 0: p0 = 1 / (1 + e^-1). */
    double L = stdbp_loss_softmax_ce(&p, t, 2, 0, g);
    is_double(0.31326168751822286, L, 1e-15, "L = log(1 + 1/e)");
    is_double(0.2689414213699951, g[0], 1e-15, "label dL/dt = 1 - p0");
    is_double(-0.2689414213699951, g[1], 1e-15, "other dL/dt = -p1");

    /* Defaults, t = (0.5, 0.6, silent), label 1: the silent one sits at 3,
     * L = 20 * 0.1 + log(1 + e^-2 + e^-50). */
    p = stdbp_loss_defaults();
    t[0] = 0.5;
    t[1] = 0.6;
    t[2] = INFINITY;
    L = stdbp_loss_softmax_ce(&p, t, 3, 1, g);
    const double z = 1 + exp(-2.0) + exp(-50.0);
    is_double(2.0 + log(z), L, 1e-14, "L with a silent non-label output");
    is_double(-20.0 / z, g[0], 1e-13, "earlier wrong output is pushed later");
    is_double(20.0 * (1 - exp(-2.0) / z), g[1], 1e-13, "label is pulled earlier");
    is_double(0.0, g[2], 0, "silent non-label output gets dL/dt = 0");
}

static void test_silent_label(void)
{
    const stdbp_loss_params p = stdbp_loss_defaults();
    double t[2] = {0.5, INFINITY}, g[2];
    const double L = stdbp_loss_softmax_ce(&p, t, 2, 1, g);
    is_double(50.0 + log1p(exp(-50.0)), L, 1e-12, "silent label: L = 20 (3 - 0.5) + ...");
    ok(g[1] > 0, "silent label keeps its positive dL/dt (%g)", g[1]);
    is_double(20.0 / (1 + exp(50.0)) * exp(50.0), g[1], 1e-12, "silent label dL/dt = beta (1 - p)");
    is_double(-20.0 / (1 + exp(-50.0)), g[0], 1e-12, "the fired wrong output still gets pushed");

    double all[4] = {INFINITY, INFINITY, INFINITY, INFINITY}, ga[4];
    const double La = stdbp_loss_softmax_ce(&p, all, 4, 2, ga);
    is_double(log(4.0), La, 1e-15, "all silent: L = log n");
    ok(ga[0] == 0 && ga[1] == 0 && ga[3] == 0, "all silent: non-labels get 0");
    is_double(20.0 * 0.75, ga[2], 1e-14, "all silent: label gets beta (1 - 1/n)");
    is_int(-1, stdbp_classify(all, 4), "all silent classifies as -1");
}

/* Central differences of L over each fired time. */
static void test_finite_differences(void)
{
    stdbp_loss_params p = {5.0, 3.0};
    stdbp_rng r;
    double t[6], g[6], gp[6];
    double worst = 0;
    stdbp_rng_seed(&r, 11);
    for (int trial = 0; trial < 20; trial++) {
        for (int k = 0; k < 6; k++)
            t[k] = 2.0 * stdbp_rng_uniform(&r);
        if (trial % 2)
            t[trial % 6] = INFINITY; /* one silent output, label or not */
        const int label = (int)stdbp_rng_below(&r, 6);
        (void)stdbp_loss_softmax_ce(&p, t, 6, label, g);
        for (int k = 0; k < 6; k++) {
            if (isinf(t[k]))
                continue; /* the rule, not a derivative: checked elsewhere */
            const double h = 1e-6, t0 = t[k];
            t[k] = t0 + h;
            const double lp = stdbp_loss_softmax_ce(&p, t, 6, label, gp);
            t[k] = t0 - h;
            const double lm = stdbp_loss_softmax_ce(&p, t, 6, label, gp);
            t[k] = t0;
            worst = fmax(worst, fabs((lp - lm) / (2 * h) - g[k]));
        }
    }
    ok(worst < 1e-7, "dL/dt matches central differences (max error %.2e)", worst);

    /* A silent label's gradient is the derivative at t = silent_time. */
    double s[3] = {0.2, 0.9, INFINITY}, gs[3], gq[3];
    (void)stdbp_loss_softmax_ce(&p, s, 3, 2, gs);
    s[2] = 3.0 + 1e-6;
    const double lp = stdbp_loss_softmax_ce(&p, s, 3, 2, gq);
    s[2] = 3.0 - 1e-6;
    const double lm = stdbp_loss_softmax_ce(&p, s, 3, 2, gq);
    is_double((lp - lm) / 2e-6, gs[2], 1e-7, "silent label dL/dt = derivative at silent_time");
}

static void test_stability(void)
{
    const stdbp_loss_params p = stdbp_loss_defaults();
    double t[2], g[2];
    /* beta t = 2e4: naive exp(-beta t) underflows to 0 for both. */
    t[0] = 1000.0;
    t[1] = 1001.0;
    double L = stdbp_loss_softmax_ce(&p, t, 2, 0, g);
    is_double(log1p(exp(-20.0)), L, 1e-15, "large times: L depends on differences only");
    ok(isfinite(g[0]) && isfinite(g[1]), "large times: finite gradients");

    /* A hopeless label, 1e6 after the winner: L is about beta * 1e6. */
    t[0] = 1e6;
    t[1] = 0.0;
    L = stdbp_loss_softmax_ce(&p, t, 2, 0, g);
    is_double(2e7, L, 1e-6, "hopeless label: L = beta dt, no overflow");
    ok(g[0] == 20.0 && g[1] == -20.0, "hopeless label: gradients saturate at +-beta");

    /* A confident label: 1 - p is 4e-18, lost if computed as 1 - p. */
    t[0] = 0.0;
    t[1] = 2.0;
    L = stdbp_loss_softmax_ce(&p, t, 2, 0, g);
    const double q = exp(-40.0) / (1 + exp(-40.0));
    ok(fabs(g[0] - 20 * q) <= 1e-14 * 20 * q, "confident label keeps a tiny accurate gradient");
    is_double(log1p(exp(-40.0)), L, 1e-30, "confident label: tiny accurate loss");

    ok(isnan(stdbp_loss_softmax_ce(&p, t, 2, 2, g)) && g[0] == 0 && g[1] == 0,
       "label out of range gives NaN and zero gradients");
}

static void test_classify(void)
{
    const double a[4] = {0.3, 0.2, 0.2, INFINITY};
    const double b[3] = {NAN, 0.5, 0.7};
    const double c[3] = {0.9, INFINITY, 0.1};
    is_int(1, stdbp_classify(a, 4), "ties go to the lowest index");
    is_int(1, stdbp_classify(b, 3), "NaN counts as silent");
    is_int(2, stdbp_classify(c, 3), "earliest wins");
    is_int(-1, stdbp_classify(a, 0), "no outputs gives -1");
}

int main(void)
{
    plan(30);
    test_defaults();
    test_hand_values();
    test_silent_label();
    test_finite_differences();
    test_stability();
    test_classify();
    return 0;
}
