/* Workspaces, forward and backward over the layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/net_impl.h"
#include "core/relpsp.h"
#include "core/sort.h"

stdbp_status stdbp_ws_create(const stdbp_net *net, stdbp_ws **out, stdbp_err *err)
{
    const size_t nl = net->n_layers;
    size_t off = 0;
    stdbp_ws *ws;
    unsigned char *base = NULL;
    *out = NULL;
    if (!(ws = calloc(1, sizeof *ws)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for a workspace");
    /* Two passes of the same carving: sizes first, then pointers. */
    for (int pass = 0; pass < 2; pass++) {
        off = 0;
        double **t = stdbp_carve(base, &off, (nl + 1) * sizeof *ws->t);
        double **dl = stdbp_carve(base, &off, (nl + 1) * sizeof *ws->dl);
        void **scr = stdbp_carve(base, &off, nl * sizeof *ws->scratch);
        for (size_t i = 0; i <= nl; i++) {
            const stdbp_shape s = i ? net->layers[i - 1].info.out : net->input;
            double *a = stdbp_carve(base, &off, stdbp_shape_size(s) * sizeof(double));
            double *b = stdbp_carve(base, &off, stdbp_shape_size(s) * sizeof(double));
            if (base) {
                t[i] = a;
                dl[i] = b;
            }
        }
        for (size_t i = 0; i < nl; i++) {
            const stdbp_layer *L = &net->layers[i];
            void *p = stdbp_carve(base, &off, L->ops->scratch_size(&L->info));
            if (base)
                scr[i] = p;
        }
        if (base) {
            ws->t = t;
            ws->dl = dl;
            ws->scratch = scr;
        } else if (posix_memalign(&ws->mem, 64, off ? off : 64) != 0) {
            free(ws);
            return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for a %zu-byte workspace", off);
        } else {
            base = ws->mem;
            memset(base, 0, off);
        }
    }
    ws->net = net;
    *out = ws;
    return STDBP_OK;
}

void stdbp_ws_destroy(stdbp_ws **ws)
{
    if (!ws || !*ws)
        return;
    free((*ws)->mem);
    free((*ws)->ev_mem);
    free((*ws)->lay_mem);
    free(*ws);
    *ws = NULL;
}

void stdbp_ws_profile(stdbp_ws *ws, double *sec)
{
    ws->prof = sec;
}

/* Thread CPU seconds when profiling (the thread's own time, so that other
 * threads and processes on a shared machine count as little as possible). */
static double prof_clock(const stdbp_ws *ws)
{
    struct timespec ts;
    if (!ws->prof)
        return 0.0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Add the time since `since` (prof_clock) to layer i's forward (which 0) or backward (1). */
static void prof_add(const stdbp_ws *ws, size_t i, int which, double since)
{
    if (ws->prof)
        ws->prof[2 * i + (size_t)which] += prof_clock(ws) - since;
}

static stdbp_layer_run run_of(const stdbp_net *net, const stdbp_ws *ws, size_t i)
{
    const stdbp_layer *L = &net->layers[i];
    stdbp_layer_run r = {&L->info, &net->neuron,
                         L->info.param_count ? net->params + L->info.param_offset : NULL,
                         ws->scratch[i]};
    return r;
}

const double *stdbp_net_forward(const stdbp_net *net, stdbp_ws *ws, const double *in_times)
{
    const size_t nl = net->n_layers;
    memcpy(ws->t[0], in_times, stdbp_shape_size(net->input) * sizeof *in_times);
    ws->events = 0;
    for (size_t i = 0; i < nl; i++) {
        const stdbp_layer_run r = run_of(net, ws, i);
        const double since = prof_clock(ws);
        ws->events += net->layers[i].ops->forward(&r, ws->t[i], ws->t[i + 1]);
        prof_add(ws, i, 0, since);
    }
    ws->ready = 1;
    return ws->t[nl];
}

/* Event buffers for n events (and the counts for the input's channels). */
static stdbp_status ev_reserve(const stdbp_net *net, stdbp_ws *ws, size_t n, stdbp_err *err)
{
    if (ws->ev_mem && n <= ws->ev_cap)
        return STDBP_OK;
    size_t cap = ws->ev_cap ? ws->ev_cap : 1024;
    while (cap < n)
        cap *= 2;
    const size_t n_in = stdbp_shape_size(net->input);
    unsigned char *base = NULL;
    void *mem = NULL;
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        off = 0;
        double *tc = stdbp_carve(base, &off, cap * sizeof(double));
        uint32_t *cc = stdbp_carve(base, &off, cap * sizeof(uint32_t));
        uint32_t *idx = stdbp_carve(base, &off, cap * sizeof(uint32_t));
        double *t = stdbp_carve(base, &off, cap * sizeof(double));
        uint32_t *row = stdbp_carve(base, &off, cap * sizeof(uint32_t));
        void *sort = stdbp_carve(base, &off, stdbp_sort_scratch_size(cap));
        uint32_t *cnt = stdbp_carve(base, &off, (n_in + 1) * sizeof(uint32_t));
        if (base) {
            free(ws->ev_mem);
            ws->ev_mem = mem;
            ws->ev_cap = cap;
            ws->ev_tc = tc;
            ws->ev_cc = cc;
            ws->ev_idx = idx;
            ws->ev_t = t;
            ws->ev_row = row;
            ws->ev_sort = sort;
            ws->ev_cnt = cnt;
        } else if (posix_memalign(&mem, 64, off) != 0) {
            return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %zu input events", cap);
        } else {
            base = mem;
        }
    }
    return STDBP_OK;
}

stdbp_status stdbp_net_forward_events(const stdbp_net *net, stdbp_ws *ws,
                                      const stdbp_event_input *ev, const double **out,
                                      stdbp_err *err)
{
    const size_t nl = net->n_layers, n_in = stdbp_shape_size(net->input), n = ev->n;
    stdbp_status st;
    ws->ready = 0;
    *out = NULL;
    if (n > STDBP_MAX_EVENTS)
        return stdbp_err_set(err, STDBP_EINVAL, "%zu input events: at most 2^30 per sample", n);
    for (size_t p = 0; p < n; p++)
        if (ev->ch[p] >= n_in)
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "input event %zu has channel %lu, but the network has %zu "
                                 "input channels",
                                 p, (unsigned long)ev->ch[p], n_in);
    if ((st = ev_reserve(net, ws, n, err)) != STDBP_OK)
        return st;
    /* Channel order (a stable counting sort), then a stable sort by time:
     * (time, channel) order, whatever the order of ev. */
    uint32_t *cnt = ws->ev_cnt;
    memset(cnt, 0, (n_in + 1) * sizeof *cnt);
    for (size_t p = 0; p < n; p++)
        cnt[ev->ch[p] + 1]++;
    for (size_t c = 0; c < n_in; c++)
        cnt[c + 1] += cnt[c];
    for (size_t p = 0; p < n; p++) {
        const uint32_t q = cnt[ev->ch[p]]++;
        ws->ev_tc[q] = ev->t[p];
        ws->ev_cc[q] = ev->ch[p];
    }
    const size_t nf = stdbp_sort_fired(ws->ev_tc, n, ws->ev_idx, ws->ev_sort);
    double *t0 = ws->t[0];
    for (size_t c = 0; c < n_in; c++)
        t0[c] = INFINITY;
    for (size_t p = 0; p < nf; p++) {
        const uint32_t q = ws->ev_idx[p];
        ws->ev_t[p] = ws->ev_tc[q];
        ws->ev_row[p] = ws->ev_cc[q];
        if (t0[ws->ev_row[p]] == INFINITY) /* the channel's earliest */
            t0[ws->ev_row[p]] = ws->ev_t[p];
    }
    /* The first layer that is not a flatten takes the events (flatten
     * keeps the input's order, so the rows stay the channels). */
    size_t e = 0;
    while (e < nl && net->layers[e].info.kind == STDBP_LAYER_FLATTEN)
        e++;
    const stdbp_events sorted = {nf, ws->ev_t, ws->ev_row};
    if (e < nl && net->layers[e].ops->forward_events) {
        const stdbp_layer *L = &net->layers[e];
        const size_t bytes = L->ops->events_bytes(&L->info, &sorted);
        if (bytes > ws->lay_cap || !ws->lay_mem) {
            void *mem = NULL;
            const size_t want = bytes > 2 * ws->lay_cap ? bytes : 2 * ws->lay_cap;
            if (posix_memalign(&mem, 64, want ? want : 64) != 0)
                return stdbp_err_set(err, STDBP_ENOMEM,
                                     "out of memory for %zu bytes of event buffers (%zu events)",
                                     want, nf);
            free(ws->lay_mem);
            ws->lay_mem = mem;
            ws->lay_cap = want;
        }
    } else {
        e = nl; /* a pool first: the earliest event of each channel is exact */
    }
    ws->events = 0;
    for (size_t i = 0; i < nl; i++) {
        const stdbp_layer_run r = run_of(net, ws, i);
        const double since = prof_clock(ws);
        if (i == e)
            ws->events +=
                net->layers[i].ops->forward_events(&r, &sorted, ws->lay_mem, ws->t[i + 1]);
        else
            ws->events += net->layers[i].ops->forward(&r, ws->t[i], ws->t[i + 1]);
        prof_add(ws, i, 0, since);
    }
    ws->ready = 1;
    *out = ws->t[nl];
    return STDBP_OK;
}

const double *stdbp_ws_layer_times(const stdbp_ws *ws, size_t i)
{
    return ws->t[i + 1];
}

uint64_t stdbp_ws_synaptic_events(const stdbp_ws *ws)
{
    return ws->events;
}

void stdbp_ws_causal(const stdbp_net *net, const stdbp_ws *ws, size_t i, double *out)
{
    const stdbp_layer_run r = run_of(net, ws, i);
    net->layers[i].ops->causal(&r, out);
}

static int all_finite(const double *x, size_t n)
{
    double chk = 0.0;
    for (size_t i = 0; i < n; i++)
        chk += x[i] * 0.0;
    return chk == 0.0;
}

stdbp_status stdbp_net_backward(const stdbp_net *net, stdbp_ws *ws, const double *dl_dout,
                                int64_t *grad_acc, double *dl_din, stdbp_err *err)
{
    const size_t nl = net->n_layers;
    const size_t n_out = stdbp_shape_size(net->layers[nl - 1].info.out);
    char desc[64];
    int surrogate = 1; /* for the last spiking layer, seen through flatten */
    if (ws->net != net || !ws->ready || !grad_acc)
        return stdbp_err_set(err, STDBP_EINVAL, "stdbp_net_backward: %s",
                             ws->net != net ? "the workspace belongs to another network"
                             : !ws->ready   ? "no forward has run on this workspace"
                                            : "grad_acc is NULL");
    for (size_t k = 0; k < n_out; k++)
        if (!isfinite(dl_dout[k]))
            return stdbp_err_set(err, STDBP_ENUMERIC,
                                 "output neuron %zu: dL/dt is %g (from the loss); check the "
                                 "loss settings",
                                 k, dl_dout[k]);
    memcpy(ws->dl[nl], dl_dout, n_out * sizeof *dl_dout);
    for (size_t i = nl; i-- > 0;) {
        const stdbp_layer *L = &net->layers[i];
        const stdbp_layer_run r = run_of(net, ws, i);
        const size_t n_in = stdbp_shape_size(L->info.in);
        double *din = (i > 0 || dl_din) ? ws->dl[i] : NULL;
        const double since = prof_clock(ws);
        if (din)
            memset(din, 0, n_in * sizeof *din);
        int bad = L->ops->backward(&r, ws->t[i + 1], ws->dl[i + 1], din,
                                   grad_acc + L->info.param_offset, surrogate);
        prof_add(ws, i, 1, since);
        if (bad || (din && !all_finite(din, n_in)))
            return stdbp_err_set(err, STDBP_ENUMERIC,
                                 "layer %zu (%s): NaN or Inf in the gradient; lower the "
                                 "learning rate or set network.grad_clip",
                                 i, stdbp_layer_describe(&L->info, desc, sizeof desc));
        surrogate = surrogate && L->info.kind == STDBP_LAYER_FLATTEN;
    }
    if (dl_din)
        memcpy(dl_din, ws->dl[0], stdbp_shape_size(net->input) * sizeof *dl_din);
    return STDBP_OK;
}
