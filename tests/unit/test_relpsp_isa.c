/* The ReL-PSP kernels in every instruction set this machine runs (plain
 * C, AVX2, AVX-512): the forward against the closed form to the bit, and
 * every backward row (double and fixed point, with and without dL/dt,
 * in range and clamped) against the plain C build to the bit, for layer
 * widths that exercise full vector blocks, 4-lane blocks and tails. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/relpsp.h"
#include "core/relpsp_isa.h"
#include "stdbp/neuron.h"
#include "stdbp/optim.h"
#include "test_net_util.h"

#define MAXEV 96
#define ROWS 64

static const size_t widths[] = {1, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 24, 31, 32, 33, 40, 64, 100};
#define N_WIDTHS (sizeof widths / sizeof widths[0])

/* One random layer: sorted events (with ties and silent times dropped),
 * weights with a positive mean, a window on some cases. */
typedef struct kase {
    size_t m, n;
    double t[MAXEV], t_max;
    uint32_t row[MAXEV];
    double *w;
} kase;

static void make_case(stdbp_rng *r, kase *k, size_t m, int c)
{
    double t[MAXEV];
    size_t n = 0;
    k->m = m;
    k->t_max = c % 3 == 2 ? 0.4 + stdbp_rng_uniform(r) : INFINITY;
    random_times(r, t, 1 + stdbp_rng_below(r, MAXEV), 0.2);
    for (size_t i = 0; i < MAXEV && t[i] == t[i]; i++)
        if (i < MAXEV && t[i] < INFINITY && n < MAXEV)
            k->t[n++] = t[i];
    for (size_t i = 1; i < n; i++) /* insertion sort: ties keep their order */
        for (size_t j = i; j > 0 && k->t[j - 1] > k->t[j]; j--) {
            const double x = k->t[j];
            k->t[j] = k->t[j - 1];
            k->t[j - 1] = x;
        }
    k->n = n;
    for (size_t p = 0; p < n; p++)
        k->row[p] = (uint32_t)stdbp_rng_below(r, ROWS);
    for (size_t q = 0; q < ROWS * m; q++)
        k->w[q] = (c % 4 == 0 ? 0.15 : 0.4) * stdbp_rng_normal(r) + 0.06;
}

static int same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* Forward in isa on k; every neuron must equal the closed form. */
static int forward_matches(const kase *k, double *out)
{
    const size_t m = k->m;
    double *acc = out + 3 * m, tin[MAXEV], win[MAXEV];
    const stdbp_events ev = {k->n, k->t, k->row};
    const size_t used =
        stdbp_relpsp_forward(&ev, k->w, m, 1.0, k->t_max, acc, out, out + m, out + 2 * m);
    /* The events consumed: up to the group where the last neuron fired,
     * or every event up to t_max when some neuron stays silent. */
    size_t want = 0, n_fired = 0, in_window = 0;
    for (size_t j = 0; j < m; j++) {
        n_fired += out[m + j] > 0;
        if (out[m + j] > (double)want)
            want = (size_t)out[m + j];
    }
    while (in_window < k->n && k->t[in_window] <= k->t_max)
        in_window++;
    if (used != (n_fired == m ? want : in_window))
        return 0;
    for (size_t j = 0; j < m; j++) {
        for (size_t p = 0; p < k->n; p++) {
            tin[p] = k->t[p];
            win[p] = k->w[k->row[p] * m + j];
        }
        const stdbp_fire f = stdbp_relpsp_fire(tin, win, k->n, 1.0, k->t_max);
        const double nc = (double)f.n_causal;
        if (!same_bits(&f.t, out + j, sizeof f.t) || nc != out[m + j] ||
            !same_bits(&f.s, out + 2 * m + j, sizeof f.s))
            return 0;
    }
    return 1;
}

/* Every backward entry point on k's forward results; writes what it
 * produced (dW in double and fixed point, dL/dt of the events) to res. */
static void backward_all(const kase *k, const double *fw, double gscale, double *dw, int64_t *q,
                         double *dt)
{
    const size_t m = k->m;
    double g[128], te[128], nc[128], dl[128], acc[128];
    stdbp_relpsp_grad gr = {g, te, nc, 0, 0};
    stdbp_neuron_params np = stdbp_neuron_defaults();
    np.grad_clip = 1e30; /* let gscale reach the fixed-point clamp */
    int bad = 0;
    for (size_t j = 0; j < m; j++)
        dl[j] = gscale * (j % 3 == 1 ? 0.0 : (double)((int)(j % 7) - 3) * 0.37);
    const stdbp_events ev = {k->n, k->t, k->row};
    const size_t n =
        stdbp_relpsp_grad_prepare(&ev, k->w, m, fw, fw + m, fw + 2 * m, dl, 1, &np, acc, &gr, &bad);
    memset(dt, 0, 2 * MAXEV * sizeof *dt);
    memset(dw, 0, ROWS * m * sizeof *dw);
    memset(q, 0, 2 * ROWS * m * sizeof *q);
    stdbp_relpsp_backward_acc(&ev, n, k->w, m, &gr, dw, dt);
    stdbp_relpsp_backward_fixed(&ev, n, k->w, m, &gr, q, dt + MAXEV);
    stdbp_relpsp_backward_fixed(&ev, n, k->w, m, &gr, q + ROWS * m, NULL);
}

/* Adam on n parameters in isa, from a fixed state; returns the weights
 * and moments after three steps. */
static void adam_run(stdbp_isa isa, size_t n, double *out)
{
    stdbp_optim_params p = stdbp_optim_defaults();
    stdbp_optim *opt = NULL;
    stdbp_err err;
    stdbp_rng r;
    double *w = out, *g = malloc(n * sizeof *g);
    p.weight_decay = 0.01;
    if (stdbp_optim_create(&p, n, &opt, &err) != STDBP_OK || !g)
        bail("optimiser: %s", err.msg);
    stdbp_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++)
        w[i] = stdbp_rng_normal(&r);
    stdbp_relpsp_force_isa(isa);
    for (int step = 0; step < 3; step++) {
        for (size_t i = 0; i < n; i++) /* some zero, some tiny, some large */
            g[i] = i % 7 == 0 ? 0.0 : stdbp_rng_normal(&r) * (i % 5 == 0 ? 1e-9 : 3.0);
        stdbp_optim_step(opt, w, g, 1e-3);
    }
    stdbp_relpsp_force_isa(STDBP_ISA_BEST);
    memcpy(out + n, stdbp_optim_state(opt), 2 * n * sizeof *out);
    stdbp_optim_destroy(&opt);
    free(g);
}

/* adam_run's three steps written out here (AdamW, defaults, wd 0.01):
 * what the chunked, threaded and vector loops must equal. */
static void adam_ref(size_t n, double *out)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01, lr = 1e-3;
    double *w = out, *m = out + n, *v = out + 2 * n;
    stdbp_rng r;
    stdbp_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) {
        w[i] = stdbp_rng_normal(&r);
        m[i] = v[i] = 0.0;
    }
    double *g = malloc(n * sizeof *g);
    if (!g)
        bail("out of memory");
    for (int step = 1; step <= 3; step++) {
        for (size_t i = 0; i < n; i++)
            g[i] = i % 7 == 0 ? 0.0 : stdbp_rng_normal(&r) * (i % 5 == 0 ? 1e-9 : 3.0);
        const double inv_bc1 = 1.0 / (1.0 - pow(b1, (double)step));
        const double inv_bc2 = 1.0 / (1.0 - pow(b2, (double)step));
        for (size_t i = 0; i < n; i++) {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            const double mhat = m[i] * inv_bc1, vhat = v[i] * inv_bc2;
            w[i] -= lr * (mhat / (sqrt(vhat) + eps) + wd * w[i]);
        }
    }
    free(g);
}

/* stdbp_grad_fixed_mean in isa: int64 sums of every size (past 2^53,
 * where the conversion rounds) to doubles, the sums zeroed. */
static int fixed_mean_same(stdbp_isa isa)
{
    enum { N = 1003 };
    int64_t a[N], b[N];
    double ga[N], gb[N];
    stdbp_rng r;
    stdbp_rng_seed(&r, 9);
    for (size_t i = 0; i < N; i++) {
        const uint64_t u = stdbp_rng_next(&r);
        a[i] = b[i] = (int64_t)(u >> (i % 13 * 5)) * (i % 2 ? -1 : 1);
    }
    stdbp_relpsp_force_isa(isa);
    stdbp_grad_fixed_mean(a, ga, N, 128);
    stdbp_relpsp_force_isa(STDBP_ISA_GENERIC);
    stdbp_grad_fixed_mean(b, gb, N, 128);
    stdbp_relpsp_force_isa(STDBP_ISA_BEST);
    int zero = 1;
    for (size_t i = 0; i < N; i++)
        zero &= a[i] == 0 && b[i] == 0;
    if (!zero || !same_bits(ga, gb, sizeof ga))
        return 0;
    /* The sum of three accumulators (wrapping past 2^63) in one pass =
     * adding them into one, then the mean in plain C. */
    int64_t x[N], y[N], z[N];
    int64_t *xyz[3] = {x, y, z};
    for (size_t i = 0; i < N; i++) {
        x[i] = (int64_t)stdbp_rng_next(&r);
        y[i] = (int64_t)(stdbp_rng_next(&r) >> (i % 13 * 5));
        z[i] = (int64_t)(0 - (stdbp_rng_next(&r) >> (i % 7 * 9)));
        b[i] = (int64_t)((uint64_t)x[i] + (uint64_t)y[i] + (uint64_t)z[i]);
    }
    stdbp_relpsp_force_isa(isa);
    stdbp_grad_fixed_mean_sum(xyz, 3, ga, N, 128);
    stdbp_relpsp_force_isa(STDBP_ISA_GENERIC);
    stdbp_grad_fixed_mean(b, gb, N, 128);
    stdbp_relpsp_force_isa(STDBP_ISA_BEST);
    for (size_t i = 0; i < N; i++)
        zero &= x[i] == 0 && y[i] == 0 && z[i] == 0;
    return zero && same_bits(ga, gb, sizeof ga);
}

/* stdbp_relpsp_grad_prepare in isa against plain C, without a surrogate
 * (the path the vector loop takes): every width, neurons silent and
 * fired, dL/dt of 0, -0, NaN and beyond the clip at both signs; the
 * per-neuron terms, the maxima, the count and the NaN flag to the bit. */
static int prepare_same(stdbp_isa isa)
{
    stdbp_neuron_params np = stdbp_neuron_defaults();
    np.grad_clip = 2.5;
    stdbp_rng r;
    stdbp_rng_seed(&r, 13);
    /* 5e-324 / S rounds to 0 where S > 2: a fired neuron without a gradient */
    const double special[] = {0.0, -0.0, NAN, 1e9, -1e9, 25.0, -5e-324, 5e-324};
    for (int c = 0; c < 4 * (int)N_WIDTHS; c++) {
        const size_t m = widths[c % N_WIDTHS];
        double t[128], nc[128], s[128], dl[128], acc[128], out[2][3 * 128 + 3];
        size_t n[2];
        int bad[2] = {0, 0};
        for (size_t j = 0; j < m; j++) {
            const int fired = stdbp_rng_next(&r) % 4 != 0;
            t[j] = fired ? 3.0 * stdbp_rng_uniform(&r) : INFINITY;
            nc[j] = fired ? (double)(1 + stdbp_rng_next(&r) % 50) : 0.0;
            s[j] = fired ? 0.01 + 4.0 * stdbp_rng_uniform(&r) : 0.0;
            const uint64_t u = stdbp_rng_next(&r) % 16;
            dl[j] = u < 8 && (c % 3 == 0 || u != 2) ? special[u] : stdbp_rng_normal(&r);
        }
        const stdbp_events ev = {0, NULL, NULL};
        for (int k = 0; k < 2; k++) {
            stdbp_relpsp_grad gr = {out[k], out[k] + m, out[k] + 2 * m, 0, 0};
            stdbp_relpsp_force_isa(k ? STDBP_ISA_GENERIC : isa);
            n[k] = stdbp_relpsp_grad_prepare(&ev, NULL, m, t, nc, s, dl, 0, &np, acc, &gr, &bad[k]);
            out[k][3 * m] = gr.g_max;
            out[k][3 * m + 1] = gr.te_max;
        }
        stdbp_relpsp_force_isa(STDBP_ISA_BEST);
        if (n[0] != n[1] || bad[0] != bad[1] ||
            !same_bits(out[0], out[1], (3 * m + 2) * sizeof(double)))
            return 0;
    }
    return 1;
}

/* Adam and the fixed-point mean cut into chunks over the threads: on 3
 * threads the same bits as on 1 (n spans several chunks). */
static void test_threads(void)
{
#ifdef _OPENMP
    const size_t n = 100003;
    double *a = malloc(3 * n * sizeof *a), *b = malloc(3 * n * sizeof *b);
    double *ga = malloc(n * sizeof *ga), *gb = malloc(n * sizeof *gb);
    int64_t *qa = malloc(n * sizeof *qa), *qb = malloc(n * sizeof *qb);
    stdbp_rng r;
    if (!a || !b || !ga || !gb || !qa || !qb)
        bail("out of memory");
    stdbp_rng_seed(&r, 17);
    for (size_t i = 0; i < n; i++)
        qa[i] = qb[i] = (int64_t)(stdbp_rng_next(&r) >> (i % 11 * 3)) * (i % 2 ? -1 : 1);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(3);
    adam_run(stdbp_relpsp_isa(), n, a);
    stdbp_grad_fixed_mean(qa, ga, n, 100);
    omp_set_num_threads(saved);
    adam_ref(n, b);
    for (size_t i = 0; i < n; i++)
        gb[i] = (double)qb[i] * (1.0 / 0x1p32 / 100.0);
    int same = same_bits(a, b, 3 * n * sizeof *a) && same_bits(ga, gb, n * sizeof *ga);
    /* the sum of two accumulators: qa (now zero) and qb */
    for (size_t i = 0; i < n; i++)
        qa[i] = (int64_t)(stdbp_rng_next(&r) >> 20);
    for (size_t i = 0; i < n; i++)
        gb[i] = (double)(int64_t)((uint64_t)qa[i] + (uint64_t)qb[i]) * (1.0 / 0x1p32 / 100.0);
    int64_t *two[2] = {qa, qb};
    omp_set_num_threads(3);
    stdbp_grad_fixed_mean_sum(two, 2, ga, n, 100);
    omp_set_num_threads(saved);
    same &= same_bits(ga, gb, n * sizeof *ga);
    for (size_t i = 0; i < n; i++)
        same &= qa[i] == 0 && qb[i] == 0;
    ok(same,
       "Adam and the fixed-point mean (of one and of two accumulators) on 3 threads = the loops "
       "written out, to the bit (%zu values)",
       n);
    free(a);
    free(b);
    free(ga);
    free(gb);
    free(qa);
    free(qb);
#else
    skip("built without OpenMP");
#endif
}

int main(void)
{
    stdbp_isa isas[3];
    size_t n_isa = 0;
    for (int i = STDBP_ISA_GENERIC; i <= STDBP_ISA_AVX512; i++)
        if (stdbp_relpsp_isa_available((stdbp_isa)i))
            isas[n_isa++] = (stdbp_isa)i;
    plan((int)(5 * n_isa + 5));
    for (size_t s = 0; s < n_isa; s++)
        diag("instruction set available: %s", stdbp_isa_name(isas[s]));
    diag("the kernels use %s", stdbp_isa_name(stdbp_relpsp_isa()));
    ok(stdbp_relpsp_isa_available(STDBP_ISA_GENERIC), "plain C kernels always available");

    /* The public switch: every available build by name, then back. */
    const stdbp_isa best = stdbp_relpsp_isa();
    int sel_ok = 1;
    for (size_t s = 0; s < n_isa; s++) {
        stdbp_err e;
        sel_ok &= stdbp_kernels_select(stdbp_isa_name(isas[s]), &e) == STDBP_OK &&
                  stdbp_relpsp_isa() == isas[s] &&
                  !strcmp(stdbp_kernels_isa(), stdbp_isa_name(isas[s]));
    }
    stdbp_err e_best;
    ok(sel_ok && stdbp_kernels_select("best", &e_best) == STDBP_OK && stdbp_relpsp_isa() == best,
       "stdbp_kernels_select picks each available build by name, and best again");
    stdbp_err e_bad;
    ok(stdbp_kernels_select("avx3", &e_bad) == STDBP_EINVAL && strstr(e_bad.msg, "'avx3'") &&
           strstr(e_bad.msg, "avx2") && stdbp_relpsp_isa() == best,
       "unknown build: EINVAL naming it and the choices, choice unchanged (%s)", e_bad.msg);
    if (n_isa == 3) {
        skip("every build runs here: no unavailable one to refuse");
    } else {
        stdbp_err e_none;
        ok(stdbp_kernels_select(stdbp_isa_name(STDBP_ISA_AVX512), &e_none) == STDBP_EINVAL &&
               stdbp_relpsp_isa() == best,
           "a build this CPU cannot run: EINVAL, choice unchanged (%s)", e_none.msg);
    }

    double *w = malloc(ROWS * 128 * sizeof *w), *fw = malloc(5 * 128 * sizeof *fw);
    double *fw0 = malloc(5 * 128 * sizeof *fw0);
    double *dw = malloc(ROWS * 128 * sizeof *dw), *dw0 = malloc(ROWS * 128 * sizeof *dw0);
    int64_t *q = malloc(2 * ROWS * 128 * sizeof *q), *q0 = malloc(2 * ROWS * 128 * sizeof *q0);
    double dt[2 * MAXEV], dt0[2 * MAXEV];
    for (size_t s = 0; s < n_isa; s++) {
        stdbp_rng r;
        int fwd_bad = 0, bwd_bad = 0, cases = 0;
        stdbp_rng_seed(&r, 21);
        for (int c = 0; c < 60 * (int)N_WIDTHS; c++) {
            kase k = {.w = w};
            make_case(&r, &k, widths[c % N_WIDTHS], c);
            /* in range, and so large that the fixed point clamps */
            const double gscale = c % 5 == 4 ? 1e12 : 1.0;
            stdbp_relpsp_force_isa(isas[s]);
            if (!forward_matches(&k, fw) && fwd_bad++ < 3)
                diag("%s: forward differs from the closed form (case %d, m %zu)",
                     stdbp_isa_name(isas[s]), c, k.m);
            backward_all(&k, fw, gscale, dw, q, dt);
            stdbp_relpsp_force_isa(STDBP_ISA_GENERIC);
            forward_matches(&k, fw0);
            backward_all(&k, fw0, gscale, dw0, q0, dt0);
            const size_t m = k.m;
            if (!(same_bits(fw, fw0, 3 * m * sizeof *fw) &&
                  same_bits(dw, dw0, ROWS * m * sizeof *dw) &&
                  same_bits(q, q0, 2 * ROWS * m * sizeof *q) &&
                  same_bits(dt, dt0, k.n * sizeof *dt) &&
                  same_bits(dt + MAXEV, dt0 + MAXEV, k.n * sizeof *dt)) &&
                bwd_bad++ < 3)
                diag("%s: backward differs from plain C (case %d, m %zu)", stdbp_isa_name(isas[s]),
                     c, k.m);
            cases++;
        }
        stdbp_relpsp_force_isa(STDBP_ISA_BEST);
        {
            const size_t n = 1003; /* full vectors and a tail */
            double *a = malloc(3 * n * sizeof *a), *b = malloc(3 * n * sizeof *b);
            adam_run(isas[s], n, a);
            adam_run(STDBP_ISA_GENERIC, n, b);
            ok(same_bits(a, b, 3 * n * sizeof *a), "%s Adam = plain C to the bit (%zu parameters)",
               stdbp_isa_name(isas[s]), n);
            free(a);
            free(b);
        }
        ok(prepare_same(isas[s]),
           "%s backward's per-neuron terms (clip, NaN, 0, -0, g rounding to 0, silent) = plain C "
           "to the bit",
           stdbp_isa_name(isas[s]));
        ok(fixed_mean_same(isas[s]),
           "%s fixed-point mean (of one accumulator and the sum of three) = plain C to the bit, "
           "sums zeroed",
           stdbp_isa_name(isas[s]));
        is_int(0, fwd_bad, "%s forward = closed form to the bit (%d layers)",
               stdbp_isa_name(isas[s]), cases);
        is_int(0, bwd_bad, "%s backward = plain C to the bit (%d layers)", stdbp_isa_name(isas[s]),
               cases);
    }
    test_threads();
    free(w);
    free(fw);
    free(fw0);
    free(dw);
    free(dw0);
    free(q);
    free(q0);
    return 0;
}
