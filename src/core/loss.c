/* Softmax cross-entropy over output spike times, and classification; see
 * include/stdbp/loss.h for the rule on silent outputs. */
#include "stdbp/loss.h"

#include <math.h>

stdbp_loss_params stdbp_loss_defaults(void)
{
    stdbp_loss_params p;
    p.beta = 20.0;
    p.silent_time = 3.0;
    return p;
}

static int is_silent(double t)
{
    return isinf(t) && t > 0;
}

double stdbp_loss_softmax_ce(const stdbp_loss_params *p, const double *t_out, size_t n, int label,
                             double *dl_dt)
{
    const double beta = p->beta;
    double t_min = INFINITY, sum, rest = 0.0, others = 0.0, lse, t_label;
    size_t k, k_min;

    if (n == 0 || label < 0 || (size_t)label >= n) {
        for (k = 0; k < n; k++)
            dl_dt[k] = 0.0;
        return NAN;
    }
    /* logits z_k = -beta t_k; shifting by the largest (-beta t_min) keeps
     * every exponent <= 0, so large beta*t cannot overflow, and the
     * largest term is exactly 1 so the sum cannot underflow to 0. */
    k_min = n;
    for (k = 0; k < n; k++) {
        const double t = is_silent(t_out[k]) ? p->silent_time : t_out[k];
        if (t < t_min)
            t_min = t;
    }
    for (k = 0; k < n; k++) {
        const double t = is_silent(t_out[k]) ? p->silent_time : t_out[k];
        dl_dt[k] = exp(-beta * (t - t_min)); /* unnormalised p_k for now */
        if (t == t_min && k_min == n)
            k_min = k; /* its term is exactly 1 */
        else
            rest += dl_dt[k];
    }
    sum = 1.0 + rest;
    lse = log1p(rest); /* log sum exp(z) + beta t_min; log1p keeps a tiny
                          loss accurate when one output dominates */
    t_label = is_silent(t_out[label]) ? p->silent_time : t_out[label];
    /* L = -z_label + LSE(z) = beta (t_label - t_min) + log(sum); both terms
     * are >= 0, so there is no cancellation. dL/dt_k = -beta (p_k - y_k). */
    for (k = 0; k < n; k++) {
        if (k == (size_t)label)
            continue;
        others += dl_dt[k];
        dl_dt[k] = is_silent(t_out[k]) ? 0.0 /* already as late as it can be */
                                       : -beta * (dl_dt[k] / sum);
    }
    /* 1 - p_label summed from the other terms, not subtracted from 1, so a
     * confident label keeps its small gradient accurately. */
    dl_dt[label] = beta * (others / sum);
    return beta * (t_label - t_min) + lse;
}

int stdbp_classify(const double *t_out, size_t n)
{
    int best = -1;
    for (size_t k = 0; k < n; k++) {
        /* Strictly earlier wins, so ties keep the lowest index; NaN and
         * +inf never compare below INFINITY, so they count as silent. */
        if (t_out[k] < INFINITY && (best < 0 || t_out[k] < t_out[best]))
            best = (int)k;
    }
    return best;
}
