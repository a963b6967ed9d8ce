/* Float against quantised spikes, layer by layer: how far each spike of
 * the quantised network lies from the float network's, in steps of the
 * time grid, which spikes move, which are lost to the window. The
 * definitions are in docs/HARDWARE.md ("Spike-level error"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_report.h"

/* Add one sample's layer (float times tf, quantised steps sq, n neurons)
 * to e; dt: model units per step; window: the last step; t_dec: the float
 * decision time (INFINITY: none). */
static void add_layer(stdbp_hw_spike_err *e, const double *tf, const int64_t *sq, size_t n,
                      double dt, int64_t window, double t_dec)
{
    for (size_t j = 0; j < n; j++) {
        int ff = isfinite(tf[j]), qf = sq[j] != STDBP_QT_SILENT;
        e->neurons++;
        e->float_spikes += (size_t)ff;
        e->quant_spikes += (size_t)qf;
        if (ff && qf) {
            double d = fabs((double)sq[j] - tf[j] / dt);
            e->both++;
            e->sum_abs += d;
            if (d > e->max_abs)
                e->max_abs = d;
            e->moved += d >= 1.0;
        } else if (ff) {
            /* the first step at or after the float time is beyond the window */
            if (ceil(tf[j] / dt - 1e-9) > (double)window) {
                e->lost_window++;
                e->lost_window_early += tf[j] <= t_dec;
            } else
                e->lost_other++;
        } else if (qf)
            e->extra++;
    }
}

stdbp_status stdbp_hw_spike_errors(const stdbp_net *net, const stdbp_qnet *q,
                                   const stdbp_dataset *test, const stdbp_encoding *enc,
                                   stdbp_hw_bits_run *r, stdbp_err *err)
{
    stdbp_ws *fws = NULL;
    stdbp_qws *qws = NULL;
    size_t dim = test->dim ? test->dim : 1, n_out = stdbp_net_output_size(net);
    double *times = malloc(dim * sizeof *times);
    int64_t *steps = malloc(dim * sizeof *steps);
    stdbp_status st = STDBP_OK;

    free(r->spike_err);
    r->spike_err = calloc(q->n_layers ? q->n_layers : 1, sizeof *r->spike_err);
    r->float_decision_max = -1.0;
    if (!times || !steps || !r->spike_err) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "spike errors: out of memory");
        goto done;
    }
    if ((st = stdbp_ws_create(net, &fws, err)) || (st = stdbp_qws_create(q, &qws, err)))
        goto done;
    for (size_t i = 0; i < r->n; i++) {
        stdbp_encode(enc, test, i, times);
        const double *out = stdbp_net_forward(net, fws, times);
        double t_dec = INFINITY;
        for (size_t k = 0; k < n_out; k++)
            if (out[k] < t_dec)
                t_dec = out[k];
        if (isfinite(t_dec) && t_dec / q->dt > r->float_decision_max)
            r->float_decision_max = t_dec / q->dt;
        stdbp_qnet_quantise_input(q, times, steps);
        stdbp_qnet_forward(q, qws, steps);
        for (size_t l = 0; l < q->n_layers; l++) {
            const stdbp_qlayer_info *li = &q->layers[l].info;
            add_layer(&r->spike_err[l], stdbp_ws_layer_times(fws, li->net_layer),
                      stdbp_qws_layer_steps(qws, l), li->n_out, q->dt, q->params.window, t_dec);
        }
    }
done:
    stdbp_ws_destroy(&fws);
    stdbp_qws_destroy(&qws);
    free(times);
    free(steps);
    return st;
}
