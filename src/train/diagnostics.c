/* The per-epoch training diagnostics of metrics.csv (silent outputs and
 * hidden neurons, first output spike, synaptic events); see metrics.h.
 * Every count is an integer and the spike times are summed in fixed
 * point, so the sums (over threads, then ranks) do not depend on their
 * order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "stdbp/dist.h"
#include "train/metrics.h"
#include "train/trainer_impl.h"

/* The fixed-point units of the sums of times and squared times. */
#define T_SCALE 16777216.0 /* 2^24 */
#define T2_SCALE 65536.0   /* 2^16 */

enum {
    D_SAMPLES,       /* samples run */
    D_SILENT_OUT,    /* output neurons that did not fire, summed over samples */
    D_SILENT_HIDDEN, /* hidden neurons that did not fire, summed over samples */
    D_FIRED,         /* samples with an output spike */
    D_SUM_T,         /* their earliest output time, fixed point T_SCALE */
    D_SUM_T2,        /* its square, fixed point T2_SCALE */
    D_EVENTS,        /* synaptic events */
    D_COUNT
};

/* The hidden neurons of a network: those of the dense and conv2d layers
 * before the last. */
static int is_hidden(const stdbp_net *net, size_t l)
{
    stdbp_layer_info li = stdbp_net_layer(net, l);
    return l + 1 < stdbp_net_num_layers(net) &&
           (li.kind == STDBP_LAYER_DENSE || li.kind == STDBP_LAYER_CONV2D);
}

/* Test sample i (image or events) through slot s's workspace, its counts
 * added into acc. Fails only for event samples (stdbp_sample_forward). */
static stdbp_status diagnose_one(const stdbp_trainer *tr, stdbp_train_slot *s, size_t i,
                                 int64_t *acc, stdbp_err *err)
{
    const stdbp_net *net = tr->net;
    const size_t n_layers = stdbp_net_num_layers(net), n_out = stdbp_net_output_size(net);
    const double *t_out;
    stdbp_status st = stdbp_sample_forward(net, s->ws, &tr->cfg.encoding, NULL, 0, 0, &tr->test, i,
                                           s->times, NULL, &t_out, err);
    if (st != STDBP_OK)
        return st;
    double first = INFINITY;
    for (size_t j = 0; j < n_out; j++) {
        if (!isfinite(t_out[j]))
            acc[D_SILENT_OUT]++;
        else if (t_out[j] < first)
            first = t_out[j];
    }
    for (size_t l = 0; l < n_layers; l++) {
        if (!is_hidden(net, l))
            continue;
        stdbp_layer_info li = stdbp_net_layer(net, l);
        size_t width = (size_t)li.out.c * (size_t)li.out.h * (size_t)li.out.w;
        const double *t = stdbp_ws_layer_times(s->ws, l);
        for (size_t j = 0; j < width; j++)
            acc[D_SILENT_HIDDEN] += !isfinite(t[j]);
    }
    if (isfinite(first)) {
        acc[D_FIRED]++;
        acc[D_SUM_T] += (int64_t)llround(first * T_SCALE);
        acc[D_SUM_T2] += (int64_t)llround(first * first * T2_SCALE);
    }
    acc[D_EVENTS] += (int64_t)stdbp_ws_synaptic_events(s->ws);
    acc[D_SAMPLES]++;
    return STDBP_OK;
}

stdbp_status stdbp_metrics_diagnose(stdbp_trainer *tr, stdbp_metrics_row *row, stdbp_err *err)
{
    const stdbp_net *net = tr->net;
    size_t n = tr->n_test < STDBP_METRICS_DIAG_SAMPLES ? tr->n_test : STDBP_METRICS_DIAG_SAMPLES;
    size_t begin, end, n_hidden = 0;
    int nt = tr->n_threads;
    int64_t sum[D_COUNT];
    int64_t *acc;
    stdbp_status st = STDBP_OK;

    row->silent_outputs = row->silent_hidden = NAN;
    row->first_spike_mean = row->first_spike_std = row->syn_events_per_sample = NAN;
    stdbp_shard(n, tr->rank, tr->size, &begin, &end);
    if ((size_t)nt > end - begin)
        nt = end - begin > 1 ? (int)(end - begin) : 1;
    acc = calloc((size_t)nt * D_COUNT, sizeof *acc);
    stdbp_status *failed = calloc((size_t)nt, sizeof *failed);
    if (!acc || !failed)
        st = stdbp_err_set(err, STDBP_ENOMEM, "metrics: out of memory for the diagnostics");
    /* Collective: every rank reaches the agreement and the sum. */
    if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK) {
        free(acc);
        free(failed);
        return st;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
    for (size_t k = begin; k < end; k++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        if (failed[t] == STDBP_OK)
            failed[t] =
                diagnose_one(tr, &tr->slots[t], k, acc + (size_t)t * D_COUNT, &tr->slots[t].err);
    }
    for (int t = 0; t < nt && st == STDBP_OK; t++)
        if ((st = failed[t]) != STDBP_OK && err)
            *err = tr->slots[t].err;
    free(failed);
    /* Collective: a failure on any rank ends the diagnostics on all. */
    if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK) {
        free(acc);
        return st;
    }
    memset(sum, 0, sizeof sum);
    for (int t = 0; t < nt; t++)
        for (int c = 0; c < D_COUNT; c++)
            sum[c] = (int64_t)((uint64_t)sum[c] + (uint64_t)acc[(size_t)t * D_COUNT + c]);
    free(acc);
    if ((st = stdbp_dist_sum_i64(tr->comm, sum, D_COUNT, err)) != STDBP_OK)
        return st;
    if (sum[D_SAMPLES] == 0)
        return STDBP_OK;
    for (size_t l = 0; l < stdbp_net_num_layers(net); l++)
        if (is_hidden(net, l)) {
            stdbp_layer_info li = stdbp_net_layer(net, l);
            n_hidden += (size_t)li.out.c * (size_t)li.out.h * (size_t)li.out.w;
        }
    const double samples = (double)sum[D_SAMPLES];
    row->silent_outputs =
        (double)sum[D_SILENT_OUT] / (samples * (double)stdbp_net_output_size(net));
    row->silent_hidden =
        n_hidden ? (double)sum[D_SILENT_HIDDEN] / (samples * (double)n_hidden) : NAN;
    row->syn_events_per_sample = (double)sum[D_EVENTS] / samples;
    if (sum[D_FIRED] > 0) {
        const double fired = (double)sum[D_FIRED];
        const double mean = (double)sum[D_SUM_T] / T_SCALE / fired;
        const double var = (double)sum[D_SUM_T2] / T2_SCALE / fired - mean * mean;
        row->first_spike_mean = mean;
        row->first_spike_std = var > 0 ? sqrt(var) : 0.0;
    }
    return STDBP_OK;
}
