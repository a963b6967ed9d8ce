/* Workspaces, forward and backward over the layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/net_impl.h"

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
    free(*ws);
    *ws = NULL;
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
        ws->events += net->layers[i].ops->forward(&r, ws->t[i], ws->t[i + 1]);
    }
    ws->ready = 1;
    return ws->t[nl];
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
        if (din)
            memset(din, 0, n_in * sizeof *din);
        int bad = L->ops->backward(&r, ws->t[i + 1], ws->dl[i + 1], din,
                                   grad_acc + L->info.param_offset, surrogate);
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
