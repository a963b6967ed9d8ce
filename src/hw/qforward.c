/* The quantised net at work: the integer closed form (stdbp_qnet_forward)
 * and float against quantised accuracy. See include/stdbp/hw.h for the
 * semantics. Not collective. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_impl.h"

/* ---- workspace and forward ------------------------------------------ */

void stdbp_qws_destroy(stdbp_qws **ws)
{
    if (!ws || !*ws)
        return;
    stdbp_qws *w = *ws;
    STDBP_HW_FREE_ROWS(w->steps, w->n_layers);
    free(w->s);
    free(w->r);
    free(w->touched);
    free(w->pend);
    free(w->order);
    free(w->bucket);
    free(w);
    *ws = NULL;
}

stdbp_status stdbp_qws_create(const stdbp_qnet *q, stdbp_qws **out, stdbp_err *err)
{
    stdbp_qws *w = calloc(1, sizeof *w);
    size_t n = q->max_width ? q->max_width : 1;
    *out = NULL;
    if (!w)
        goto nomem;
    w->n_layers = q->n_layers;
    w->steps = calloc(q->n_layers, sizeof *w->steps);
    if (!w->steps)
        goto nomem;
    for (size_t i = 0; i < q->n_layers; i++) {
        w->steps[i] = malloc((q->layers[i].info.n_out + 1) * sizeof **w->steps);
        if (!w->steps[i])
            goto nomem;
    }
    w->n_bucket = (size_t)q->params.window + 2;
    w->s = malloc(n * sizeof *w->s);
    w->r = malloc(n * sizeof *w->r);
    w->touched = calloc(n, 1);
    w->pend = malloc(n * sizeof *w->pend);
    w->order = malloc(n * sizeof *w->order);
    w->n_order = n;
    w->bucket = malloc(w->n_bucket * sizeof *w->bucket);
    if (!w->s || !w->r || !w->touched || !w->pend || !w->order || !w->bucket)
        goto nomem;
    *out = w;
    return STDBP_OK;
nomem:
    stdbp_qws_destroy(&w);
    return stdbp_err_set(err, STDBP_ENOMEM,
                         "quantised workspace: out of memory (window %lld steps)",
                         (long long)q->params.window);
}

size_t stdbp_hw_sort_inputs(const int64_t *in, size_t n_in, int64_t window, size_t *bucket,
                            int32_t *order)
{
    size_t nb = (size_t)window + 1, nf = 0;
    memset(bucket, 0, (nb + 1) * sizeof *bucket);
    for (size_t i = 0; i < n_in; i++) {
        int64_t t = stdbp_hw_in_step(in[i], window);
        if (t >= 0) {
            bucket[t + 1]++;
            nf++;
        }
    }
    for (size_t b = 1; b <= nb; b++)
        bucket[b] += bucket[b - 1];
    for (size_t i = 0; i < n_in; i++) {
        int64_t t = stdbp_hw_in_step(in[i], window);
        if (t >= 0)
            order[bucket[t]++] = (int32_t)i;
    }
    return nf;
}

stdbp_status stdbp_qws_reserve(stdbp_qws *ws, size_t n, stdbp_err *err)
{
    if (n <= ws->n_order)
        return STDBP_OK;
    int32_t *o = realloc(ws->order, n * sizeof *o);
    if (!o)
        return stdbp_err_set(err, STDBP_ENOMEM, "quantised workspace: out of memory for %zu events",
                             n);
    ws->order = o;
    ws->n_order = n;
    return STDBP_OK;
}

/* A layer's inputs are n entries in[e] on channels ch[e] (ch NULL: entry
 * e is channel e, one per channel; else any number per channel). */
static void forward_pool(const stdbp_hw_qlayer *l, const int32_t *ch, const int64_t *in, size_t n,
                         int64_t window, int64_t *out)
{
    for (size_t j = 0; j < l->info.n_out; j++)
        out[j] = STDBP_QT_SILENT;
    for (size_t e = 0; e < n; e++) {
        const size_t i = ch ? (size_t)ch[e] : e;
        int64_t t = stdbp_hw_in_step(in[e], window);
        if (t < 0)
            continue;
        for (size_t k = l->start[i]; k < l->start[i + 1]; k++)
            if (t < out[l->tgt[k]])
                out[l->tgt[k]] = t;
    }
}

/* The closed form, group by group, for every neuron of the layer at once.
 * Visiting the layer's inputs in global step order gives each neuron its
 * own inputs in order; a group with none of its inputs leaves its S and R
 * unchanged, so checking it against the global next step is the same as
 * against its own next input.
 *
 * The test "c = ceil((theta + R) / S) <= min(next, window)" is done as
 * S * min(next, window) - R >= theta (no division; |S * t| stays below
 * the accumulator bound checked at creation); the division runs once per
 * neuron, when it fires. */
static void forward_weighted(const stdbp_hw_qlayer *l, const int32_t *ch, const int64_t *in,
                             size_t n, int64_t window, stdbp_qws *ws, int64_t *out)
{
    size_t n_out = l->info.n_out, nf = stdbp_hw_sort_inputs(in, n, window, ws->bucket, ws->order);
    int64_t theta = l->info.theta;
    int64_t *S = ws->s, *R = ws->r;
    int32_t *live = ws->pend; /* neurons with S > 0 (as of their last check) */
    uint8_t *in_live = ws->touched;
    size_t n_live = 0;
    for (size_t j = 0; j < n_out; j++) {
        out[j] = STDBP_QT_SILENT;
        S[j] = R[j] = 0;
        in_live[j] = 0;
    }
    size_t pos = 0;
    while (pos < nf) {
        int64_t g = stdbp_hw_in_step(in[ws->order[pos]], window);
        size_t end = pos;
        while (end < nf && stdbp_hw_in_step(in[ws->order[end]], window) == g) {
            const int32_t e = ws->order[end++], i = ch ? ch[e] : e;
            for (size_t k = l->start[i]; k < l->start[i + 1]; k++) {
                int32_t j = l->tgt[k];
                if (out[j] != STDBP_QT_SILENT)
                    continue;
                S[j] += l->w[k];
                R[j] += (int64_t)l->w[k] * g;
                if (!in_live[j] && S[j] > 0) {
                    in_live[j] = 1;
                    live[n_live++] = j;
                }
            }
        }
        int64_t next = end < nf ? stdbp_hw_in_step(in[ws->order[end]], window) : STDBP_QT_SILENT;
        int64_t lim = next < window ? next : window;
        /* fire every live neuron whose potential reaches theta by lim;
         * keep those whose S is still positive */
        size_t keep = 0;
        for (size_t t = 0; t < n_live; t++) {
            int32_t j = live[t];
            if (S[j] <= 0) {
                in_live[j] = 0;
            } else if (S[j] * lim - R[j] >= theta) {
                out[j] = stdbp_hw_ceil_div(theta + R[j], S[j]);
                in_live[j] = 0;
            } else {
                live[keep++] = j;
            }
        }
        n_live = keep;
        pos = end;
    }
}

const int64_t *stdbp_qnet_forward_events(const stdbp_qnet *q, stdbp_qws *ws, const int32_t *ch,
                                         const int64_t *steps, size_t n)
{
    const int64_t *in = steps;
    int64_t window = q->params.window;
    for (size_t i = 0; i < q->n_layers; i++) {
        const stdbp_hw_qlayer *l = &q->layers[i];
        const int32_t *c = i == 0 ? ch : NULL;
        const size_t m = i == 0 ? n : l->info.n_in;
        if (l->info.kind == STDBP_LAYER_POOL)
            forward_pool(l, c, in, m, window, ws->steps[i]);
        else
            forward_weighted(l, c, in, m, window, ws, ws->steps[i]);
        in = ws->steps[i];
    }
    return in;
}

const int64_t *stdbp_qnet_forward(const stdbp_qnet *q, stdbp_qws *ws, const int64_t *in_steps)
{
    return stdbp_qnet_forward_events(q, ws, NULL, in_steps, q->layers[0].info.n_in);
}

const int64_t *stdbp_qws_layer_steps(const stdbp_qws *ws, size_t i)
{
    return ws->steps[i];
}

int stdbp_decide_steps(const int64_t *steps, size_t n)
{
    int best = -1;
    for (size_t k = 0; k < n; k++)
        if (steps[k] != STDBP_QT_SILENT && (best < 0 || steps[k] < steps[best]))
            best = (int)k;
    return best;
}

int stdbp_decide_times(const double *times, size_t n)
{
    int best = -1;
    for (size_t k = 0; k < n; k++)
        if (times[k] < INFINITY && (best < 0 || times[k] < times[best]))
            best = (int)k;
    return best;
}

/* ---- one sample at a time, and accuracy ---------------------------- */

stdbp_status stdbp_hw_qrun_create(const stdbp_net *net, const stdbp_quant_params *p, size_t dim,
                                  stdbp_hw_qrun *r, stdbp_err *err)
{
    stdbp_status st;
    memset(r, 0, sizeof *r);
    if ((st = stdbp_qnet_create(net, p, &r->q, err)) || (st = stdbp_qws_create(r->q, &r->ws, err)))
        goto fail;
    r->times = malloc((dim ? dim : 1) * sizeof *r->times);
    r->steps = malloc((dim ? dim : 1) * sizeof *r->steps);
    if (!r->times || !r->steps) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "quantise: out of memory");
        goto fail;
    }
    return STDBP_OK;
fail:
    stdbp_hw_qrun_free(r);
    return st;
}

const int64_t *stdbp_hw_qrun_sample(stdbp_hw_qrun *r, const stdbp_encoding *enc,
                                    const stdbp_dataset *ds, size_t i)
{
    if (stdbp_dataset_is_events(ds)) {
        uint32_t *ch = NULL;
        double *t = NULL;
        size_t n = 0;
        stdbp_err ignored;
        const int64_t *out = NULL;
        if (stdbp_sample_events(enc, NULL, 0, 0, ds, i, &ch, &t, &n, &ignored) != STDBP_OK)
            return NULL;
        if (n > r->ev_cap) {
            int32_t *c2 = realloc(r->ev_ch, n * sizeof *c2);
            if (c2)
                r->ev_ch = c2;
            int64_t *s2 = c2 ? realloc(r->ev_steps, n * sizeof *s2) : NULL;
            if (s2)
                r->ev_steps = s2;
            if (s2)
                r->ev_cap = n;
        }
        if (n <= r->ev_cap && stdbp_qws_reserve(r->ws, n, &ignored) == STDBP_OK) {
            for (size_t k = 0; k < n; k++) {
                r->ev_ch[k] = (int32_t)ch[k];
                r->ev_steps[k] = stdbp_qnet_quantise_time(r->q, t[k]);
            }
            r->n_ev = n;
            out = stdbp_qnet_forward_events(r->q, r->ws, r->ev_ch, r->ev_steps, n);
        }
        free(ch);
        free(t);
        return out;
    }
    stdbp_encode(enc, ds, i, r->times);
    stdbp_qnet_quantise_input(r->q, r->times, r->steps);
    return stdbp_qnet_forward(r->q, r->ws, r->steps);
}

void stdbp_hw_qrun_free(stdbp_hw_qrun *r)
{
    stdbp_qws_destroy(&r->ws);
    stdbp_qnet_destroy(&r->q);
    free(r->times);
    free(r->steps);
    free(r->ev_ch);
    free(r->ev_steps);
    r->times = NULL;
    r->steps = NULL;
    r->ev_ch = NULL;
    r->ev_steps = NULL;
    r->n_ev = r->ev_cap = 0;
}

/* The float net's decision on each of the first n samples of ds, into
 * dec. */
static stdbp_status float_decisions(const stdbp_net *net, const stdbp_encoding *e,
                                    const stdbp_dataset *ds, size_t n, int *dec, stdbp_err *err)
{
    stdbp_ws *fws = NULL;
    size_t n_out = stdbp_net_output_size(net);
    double *times = malloc((ds->dim ? ds->dim : 1) * sizeof *times);
    stdbp_status st;
    if (!times)
        return stdbp_err_set(err, STDBP_ENOMEM, "accuracy: out of memory");
    if ((st = stdbp_ws_create(net, &fws, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (stdbp_dataset_is_events(ds)) { /* the exact event forward, as stdbp_eval */
            const double *out = NULL;
            if ((st = stdbp_sample_forward(net, fws, e, NULL, 0, 0, ds, i, NULL, NULL, &out, err)))
                goto done;
            dec[i] = stdbp_decide_times(out, n_out);
            continue;
        }
        stdbp_encode(e, ds, i, times);
        dec[i] = stdbp_decide_times(stdbp_net_forward(net, fws, times), n_out);
    }
done:
    stdbp_ws_destroy(&fws);
    free(times);
    return st;
}

stdbp_status stdbp_quant_accuracy(const stdbp_net *net, const stdbp_dataset *ds,
                                  const stdbp_encoding *enc, const int *bits, size_t n_bits,
                                  int64_t time_steps, size_t n_samples, stdbp_quant_acc *out,
                                  stdbp_err *err)
{
    stdbp_encoding e = enc ? *enc : stdbp_encoding_defaults();
    stdbp_hw_qrun qr;
    int *fdec = NULL;
    stdbp_status st = STDBP_OK;
    size_t n = (n_samples == 0 || n_samples > ds->n) ? ds->n : n_samples;
    size_t n_out = stdbp_net_output_size(net);

    memset(&qr, 0, sizeof qr);
    if (ds->dim != stdbp_net_input_size(net))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "accuracy: %s has %zu values per sample, the network takes %zu",
                             ds->source, ds->dim, stdbp_net_input_size(net));
    fdec = malloc((n ? n : 1) * sizeof *fdec);
    if (!fdec)
        return stdbp_err_set(err, STDBP_ENOMEM, "accuracy: out of memory");
    if ((st = float_decisions(net, &e, ds, n, fdec, err)))
        goto done;
    for (size_t b = 0; b < n_bits; b++) {
        stdbp_quant_params p = stdbp_quant_defaults();
        stdbp_quant_acc *a = &out[b];
        memset(a, 0, sizeof *a);
        a->bits = bits[b];
        p.bits = bits[b];
        p.time_steps = time_steps > 0 ? time_steps : p.time_steps;
        p.t_max = e.t_max;
        if ((st = stdbp_hw_qrun_create(net, &p, ds->dim, &qr, err)))
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (stdbp_hw_stop_requested()) {
                st = stdbp_err_set(err, STDBP_EIO,
                                   "deploy: stopped by a signal after %zu of %zu images", i, n);
                goto done;
            }
            const int64_t *qo = stdbp_hw_qrun_sample(&qr, &e, ds, i);
            if (!qo) {
                st = stdbp_err_set(err, STDBP_ENOMEM,
                                   "accuracy: out of memory for the events of "
                                   "sample %zu",
                                   i);
                goto done;
            }
            int qd = stdbp_decide_steps(qo, n_out);
            int label = ds->labels ? ds->labels[i] : -2;
            a->n++;
            a->float_correct += fdec[i] == label;
            a->quant_correct += qd == label;
            a->agree += qd == fdec[i];
            a->float_silent += fdec[i] < 0;
            a->quant_silent += qd < 0;
        }
        stdbp_hw_qrun_free(&qr);
    }
done:
    stdbp_hw_qrun_free(&qr);
    free(fdec);
    return st;
}
