/* The ReL-PSP neuron: the closed form (stdbp_relpsp_fire) against a
 * fine-step clock-driven simulation, the many-neuron kernel against the
 * closed form, and the edge cases of DESIGN.md section 1. */
#include "core/relpsp.h"
#include "stdbp/neuron.h"
#include "test_net_util.h"

#define H 1e-4      /* simulation step */
#define HORIZON 6.0 /* simulated time */
#define MAXN 16

/* Sort (t, w) pairs by time, stable (insertion). */
static void sort_pairs(double *t, double *w, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double tk = t[i], wk = w[i];
        size_t j = i;
        for (; j > 0 && t[j - 1] > tk; j--) {
            t[j] = t[j - 1];
            w[j] = w[j - 1];
        }
        t[j] = tk;
        w[j] = wk;
    }
}

static void test_vs_simulation(void)
{
    stdbp_rng r;
    double t[MAXN], w[MAXN];
    int bad = 0, fired = 0, silent = 0, windowed = 0, n_cases = 400;
    stdbp_rng_seed(&r, 11);
    for (int c = 0; c < n_cases; c++) {
        const size_t n = 1 + stdbp_rng_below(&r, MAXN);
        const double t_max = c % 4 == 3 ? 0.6 + stdbp_rng_uniform(&r) : INFINITY;
        random_times(&r, t, n, 0.2);
        for (size_t i = 0; i < n; i++) /* mean > 0, some negative */
            w[i] = 0.6 * stdbp_rng_normal(&r) + (c % 5 == 0 ? -0.1 : 0.5);
        sort_pairs(t, w, n);
        const stdbp_fire f = stdbp_relpsp_fire(t, w, n, 1.0, t_max);
        const double ts = sim_fire(t, w, n, 1.0, t_max, H, HORIZON);
        fired += f.t < INFINITY;
        silent += f.t == INFINITY;
        windowed += t_max < INFINITY && f.t == INFINITY && ts == INFINITY;
        if (!sim_agrees(f.t, ts, H, HORIZON)) {
            if (bad++ < 5)
                diag("case %d: closed form %.9g, simulation %.9g (n %zu, t_max %g)", c, f.t, ts, n,
                     t_max);
        }
    }
    is_int(0, bad, "closed form = clock-driven simulation within h = %g (%d neurons)", H, n_cases);
    ok(fired > n_cases / 3 && silent > n_cases / 10 && windowed > 5,
       "the cases cover firing (%d), silent (%d) and windowed-silent (%d) neurons", fired, silent,
       windowed);
}

/* Reference for one neuron of a kernel call: weights w[row * m + j]. */
static stdbp_fire ref_neuron(const stdbp_events *ev, const double *w, size_t m, size_t j,
                             double t_max)
{
    double tin[64], win[64];
    for (size_t p = 0; p < ev->n; p++) {
        tin[p] = ev->t[p];
        win[p] = w[ev->row[p] * m + j];
    }
    return stdbp_relpsp_fire(tin, win, ev->n, 1.0, t_max);
}

static void test_kernel_vs_reference(void)
{
    stdbp_rng r;
    double t[64], w[64 * 13], acc[2 * 13], to[13], nc[13], s[13];
    uint32_t row[64];
    int bad = 0, cases = 0, neurons = 0;
    const size_t ms[] = {1, 3, 4, 5, 8, 13};
    stdbp_rng_seed(&r, 12);
    for (int c = 0; c < 300; c++) {
        const size_t m = ms[c % 6], n = stdbp_rng_below(&r, 41);
        const size_t n_rows = 48;
        const double t_max = c % 3 == 2 ? 0.5 + stdbp_rng_uniform(&r) : INFINITY;
        for (size_t k = 0; k < n_rows * m; k++)
            w[k] = 0.4 * stdbp_rng_normal(&r) + 0.05;
        random_times(&r, t, n, 0.0);
        for (size_t p = 0; p < n; p++)
            row[p] = (uint32_t)stdbp_rng_below(&r, n_rows);
        for (size_t i = 1; i < n; i++) /* sort by time, rows along */
            for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
                double tt = t[j];
                uint32_t rr = row[j];
                t[j] = t[j - 1];
                row[j] = row[j - 1];
                t[j - 1] = tt;
                row[j - 1] = rr;
            }
        const stdbp_events ev = {n, t, row};
        stdbp_relpsp_forward(&ev, w, m, 1.0, t_max, acc, to, nc, s);
        for (size_t j = 0; j < m; j++) {
            const stdbp_fire f = ref_neuron(&ev, w, m, j, t_max);
            const int same = (f.t == to[j] || fabs(f.t - to[j]) <= 1e-12 * fabs(f.t)) &&
                             (double)f.n_causal == nc[j] && fabs(f.s - s[j]) <= 1e-12 * fabs(f.s);
            if (!same && bad++ < 5)
                diag("case %d neuron %zu: kernel (%.17g, %g, %g) reference (%.17g, %zu, %g)", c, j,
                     to[j], nc[j], s[j], f.t, f.n_causal, f.s);
            neurons++;
        }
        cases++;
    }
    is_int(0, bad, "kernel = reference on %d neurons in %d layers", neurons, cases);
}

static void test_edges(void)
{
    const double inf = INFINITY;
    stdbp_fire f;
    {
        const double t[] = {inf, inf}, w[] = {1, 1};
        f = stdbp_relpsp_fire(t, w, 2, 1.0, inf);
        ok(f.t == inf && f.n_causal == 0 && f.s == 0, "all inputs silent: silent");
    }
    {
        const double t[] = {0.1, 0.2, 0.3}, w[] = {0.5, -0.3, -0.2};
        f = stdbp_relpsp_fire(t, w, 3, 1.0, inf);
        ok(f.t == inf, "weights summing to 0, never reaching theta: silent");
    }
    {
        const double t[] = {0.1, 0.2}, w[] = {-1, -2};
        f = stdbp_relpsp_fire(t, w, 2, 1.0, inf);
        ok(f.t == inf, "negative weights: silent");
    }
    {
        const double t[] = {0.25}, w[] = {2};
        f = stdbp_relpsp_fire(t, w, 1, 1.0, inf);
        ok(f.t == 0.75 && f.n_causal == 1 && f.s == 2, "single input: t_i + theta / w");
    }
    {
        /* V reaches theta = 1 exactly at t = 1, the second input's time:
         * the second input is not causal. */
        const double t[] = {0, 1}, w[] = {1, 5};
        f = stdbp_relpsp_fire(t, w, 2, 1.0, inf);
        ok(f.t == 1.0 && f.n_causal == 1 && f.s == 1, "threshold reached at an input time");
    }
    {
        /* Equal times enter together. */
        const double t[] = {0.5, 0.5, 1.6}, w[] = {0.5, 0.5, 3};
        f = stdbp_relpsp_fire(t, w, 3, 1.0, inf);
        ok(f.t == 1.5 && f.n_causal == 2, "tied inputs: one group (fires at 1.5, 2 causal)");
    }
    {
        const double t[] = {0}, w[] = {1};
        f = stdbp_relpsp_fire(t, w, 1, 1.0, 0.9);
        ok(f.t == inf, "candidate past t_max: silent");
        f = stdbp_relpsp_fire(t, w, 1, 1.0, 1.0);
        ok(f.t == 1.0, "candidate at t_max: fires");
    }
    {
        /* V dips below zero first, then recovers. */
        const double t[] = {0, 0.5, 1}, w[] = {-1, 0.5, 2};
        f = stdbp_relpsp_fire(t, w, 3, 1.0, inf);
        const double ts = sim_fire(t, w, 3, 1.0, inf, H, HORIZON);
        ok(f.n_causal == 3 && sim_agrees(f.t, ts, H, HORIZON),
           "negative first input: fires after recovery (%g, simulation %g)", f.t, ts);
    }
    {
        /* The kernel's early stop: once all fired, later events are not read. */
        const double t[] = {0, 0.5, 0.9}, w[] = {1, 1, 1};
        const uint32_t row[] = {0, 1, 2};
        const stdbp_events ev = {3, t, row};
        double acc[2], to, nc, s;
        size_t read = stdbp_relpsp_forward(&ev, w, 1, 1.0, INFINITY, acc, &to, &nc, &s);
        ok(to == 0.75 && nc == 2 && read == 2, "kernel stops once every neuron fired");
        read = stdbp_relpsp_forward(&ev, w, 1, 1.0, 0.6, acc, &to, &nc, &s);
        ok(to == INFINITY && read == 2, "kernel stops past t_max");
    }
}

int main(void)
{
    plan(14);
    test_vs_simulation();
    test_kernel_vs_reference();
    test_edges();
    return 0;
}
