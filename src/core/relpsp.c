/* The ReL-PSP neuron: the reference solver (neuron.h) and the backward
 * pass's per-neuron terms (relpsp.h); the kernels over many neurons are in
 * relpsp_fwd.c and relpsp_bwd.c. */
#include "core/relpsp.h"

#include <math.h>

#include "stdbp/neuron.h"

stdbp_fire stdbp_relpsp_fire(const double *t_in, const double *w_in, size_t n, double theta,
                             double t_max)
{
    stdbp_fire f = {INFINITY, 0, 0.0};
    double s = 0.0, r = 0.0;
    size_t i = 0;
    /* A group after t_max: any later candidate is later still. */
    while (i < n && t_in[i] < INFINITY && t_in[i] <= t_max) {
        const double tg = t_in[i];
        do {
            s += w_in[i];
            r += w_in[i] * tg;
            i++;
        } while (i < n && t_in[i] == tg);
        const double lim = stdbp_relpsp_fire_limit(i < n ? t_in[i] : INFINITY, t_max);
        if (s > 0.0 && theta + r <= lim * s) {
            f.t = stdbp_relpsp_fire_time(theta, r, s, t_max);
            f.n_causal = i;
            f.s = s;
            return f;
        }
    }
    return f;
}

/* ---- backward --------------------------------------------------------- */

static inline double clip(double x, double c)
{
    const double a = x > c ? c : x;
    return a < -c ? -c : a;
}

size_t stdbp_relpsp_grad_prepare(const stdbp_events *ev, const double *w, size_t m,
                                 const double *t_out, const double *nc, const double *s,
                                 const double *dl, int surrogate, const stdbp_neuron_params *np,
                                 double *acc, stdbp_relpsp_grad *gr, int *bad)
{
    int any_sur = 0;
    double n_max = 0.0, chk = 0.0, g_max = 0.0, t_max = 0.0;
    size_t n_sur = 0;
    for (size_t j = 0; j < m && surrogate; j++)
        any_sur |= nc[j] == 0.0 && dl[j] != 0.0;
    if (any_sur) {
        /* S of the surrogate: the inputs that arrived before silent_time,
         * as if the neuron fired then (events are in time order). A later
         * input cannot have caused that spike, and its term
         * g (t_i - silent_time) would grow without bound with t_i. */
        while (n_sur < ev->n && ev->t[n_sur] < np->silent_time)
            n_sur++;
        for (size_t j = 0; j < m; j++)
            acc[j] = 0.0;
        for (size_t p = 0; p < n_sur; p++) {
            const double *wr = w + (size_t)ev->row[p] * m;
            for (size_t j = 0; j < m; j++)
                acc[j] += wr[j];
        }
    }
    const double floor_s = STDBP_SURROGATE_S_FLOOR * np->theta;
    for (size_t j = 0; j < m; j++) {
        double g = 0.0, te = 0.0, c = 0.0;
        if (dl[j] != 0.0 && nc[j] > 0.0) {
            g = clip(dl[j] / s[j], np->grad_clip);
            te = t_out[j];
            c = nc[j];
        } else if (dl[j] != 0.0 && any_sur && n_sur > 0) {
            g = clip(dl[j] / (acc[j] > floor_s ? acc[j] : floor_s), np->grad_clip);
            te = np->silent_time;
            c = (double)n_sur;
        }
        chk += g * 0.0;
        if (g == 0.0) { /* te stays finite: no lane ever computes 0 * inf */
            c = 0.0;
            te = 0.0;
        }
        gr->g[j] = g;
        gr->te[j] = te;
        gr->nc[j] = c;
        n_max = c > n_max ? c : n_max;
        g_max = fabs(g) > g_max ? fabs(g) : g_max;
        t_max = fabs(te) > t_max ? fabs(te) : t_max;
    }
    if (!(chk == 0.0))
        *bad = 1;
    gr->g_max = g_max;
    gr->te_max = t_max;
    return (size_t)n_max;
}
