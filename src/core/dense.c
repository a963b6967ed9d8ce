/* Dense layer: every input to every neuron, W[in][out]. The fired inputs
 * are sorted once per sample and the kernel runs over all out neurons. */
#include <string.h>

#include "core/layer.h"
#include "core/relpsp.h"
#include "core/sort.h"

typedef struct dense_scr {
    size_t *n_ev;  /* fired inputs, sorted */
    uint32_t *idx; /* their indices = weight rows */
    double *ev_t;  /* their times */
    void *sort;
    double *acc, *nc, *s;  /* kernel, out each */
    double *g, *te, *g_nc; /* backward terms, out each */
    double *dt_ev;         /* dL/dt per event */
    struct dense_ext *x;   /* event input, if the last forward had it */
} dense_scr;

/* The last forward's events when they came from stdbp_net_forward_events
 * (t NULL otherwise): the workspace's sorted list and dt memory. */
typedef struct dense_ext {
    const double *t;
    const uint32_t *row;
    double *dt;
} dense_ext;

static size_t dense_layout(const stdbp_layer_info *info, unsigned char *base, dense_scr *d)
{
    const size_t n = stdbp_shape_size(info->in), m = (size_t)info->out.c;
    size_t off = 0;
    d->n_ev = stdbp_carve(base, &off, sizeof *d->n_ev);
    d->idx = stdbp_carve(base, &off, n * sizeof *d->idx);
    d->ev_t = stdbp_carve(base, &off, n * sizeof *d->ev_t);
    d->sort = stdbp_carve(base, &off, stdbp_sort_scratch_size(n));
    d->acc = stdbp_carve(base, &off, 2 * m * sizeof(double)); /* kernel: running S, R */
    d->nc = stdbp_carve(base, &off, m * sizeof(double));
    d->s = stdbp_carve(base, &off, m * sizeof(double));
    d->g = stdbp_carve(base, &off, m * sizeof(double));
    d->te = stdbp_carve(base, &off, m * sizeof(double));
    d->g_nc = stdbp_carve(base, &off, m * sizeof(double));
    d->dt_ev = stdbp_carve(base, &off, n * sizeof(double));
    d->x = stdbp_carve(base, &off, sizeof *d->x);
    return off;
}

static stdbp_status dense_setup(const stdbp_layer_spec *spec, stdbp_layer_info *info,
                                stdbp_err *err)
{
    const size_t n = stdbp_shape_size(info->in);
    if (spec->out <= 0)
        return stdbp_err_set(err, STDBP_EINVAL, "dense needs out > 0 neurons (got %d)", spec->out);
    if ((size_t)spec->out > STDBP_LAYER_MAX_SIZE / n)
        return stdbp_err_set(err, STDBP_EINVAL, "dense(%d) on %zu inputs has too many weights",
                             spec->out, n);
    info->out = (stdbp_shape){spec->out, 1, 1};
    info->fan_in = (int)n;
    info->param_count = n * (size_t)spec->out;
    return STDBP_OK;
}

static size_t dense_scratch_size(const stdbp_layer_info *info)
{
    dense_scr d;
    return dense_layout(info, NULL, &d);
}

static uint64_t dense_forward(const stdbp_layer_run *run, const double *in, double *out)
{
    const stdbp_layer_info *info = run->info;
    const size_t m = (size_t)info->out.c;
    dense_scr d;
    dense_layout(info, run->scratch, &d);
    const size_t n = stdbp_sort_fired(in, stdbp_shape_size(info->in), d.idx, d.sort);
    for (size_t p = 0; p < n; p++)
        d.ev_t[p] = in[d.idx[p]];
    *d.n_ev = n;
    d.x->t = NULL;
    const stdbp_events ev = {n, d.ev_t, d.idx};
    stdbp_relpsp_forward(&ev, run->w, m, run->neuron->theta, run->neuron->t_max, d.acc, out, d.nc,
                         d.s);
    return (uint64_t)n * m;
}

static int dense_backward(const stdbp_layer_run *run, const double *out, const double *dl_dout,
                          double *dl_din, int64_t *grad, int surrogate)
{
    const size_t m = (size_t)run->info->out.c;
    dense_scr d;
    int bad = 0;
    dense_layout(run->info, run->scratch, &d);
    const int x = d.x->t != NULL;
    const stdbp_events ev = {*d.n_ev, x ? d.x->t : d.ev_t, x ? d.x->row : d.idx};
    double *dt_ev = x ? d.x->dt : d.dt_ev;
    stdbp_relpsp_grad gr = {d.g, d.te, d.g_nc, 0.0, 0.0};
    const size_t n = stdbp_relpsp_grad_prepare(&ev, run->w, m, out, d.nc, d.s, dl_dout, surrogate,
                                               run->neuron, d.acc, &gr, &bad);
    /* Each weight row belongs to one input, so each weight gets at most one
     * term per sample: round it straight into the accumulator. */
    bad |= stdbp_relpsp_backward_fixed(&ev, n, run->w, m, &gr, grad, dl_din ? dt_ev : NULL);
    if (dl_din)
        for (size_t p = 0; p < n; p++)
            dl_din[ev.row[p]] += dt_ev[p];
    return bad;
}

static void dense_causal(const stdbp_layer_run *run, double *out)
{
    dense_scr d;
    dense_layout(run->info, run->scratch, &d);
    memcpy(out, d.nc, (size_t)run->info->out.c * sizeof *out);
}

/* Event input: the sorted events themselves, several per row possible
 * (each weight may then get several terms per sample; each is rounded
 * and added on its own, as the fixed-point sum allows). */
static size_t dense_events_bytes(const stdbp_layer_info *info, const stdbp_events *ev)
{
    (void)info;
    return ev->n * sizeof(double);
}

static uint64_t dense_forward_events(const stdbp_layer_run *run, const stdbp_events *ev, void *mem,
                                     double *out)
{
    const size_t m = (size_t)run->info->out.c;
    dense_scr d;
    dense_layout(run->info, run->scratch, &d);
    *d.n_ev = ev->n;
    *d.x = (dense_ext){ev->t, ev->row, mem};
    stdbp_relpsp_forward(ev, run->w, m, run->neuron->theta, run->neuron->t_max, d.acc, out, d.nc,
                         d.s);
    return (uint64_t)ev->n * m;
}

const stdbp_layer_ops stdbp_dense_ops = {
    "dense",        dense_setup,  dense_scratch_size, dense_forward,
    dense_backward, dense_causal, dense_events_bytes, dense_forward_events};
