/* 2-D convolution, W[c_in][k_y][k_x][c_out], zero (silent) padding.
 *
 * The layer's fired inputs are sorted once; walking them in time order,
 * each is appended to the event list of every output position whose
 * receptive field holds it, so each position's list comes out sorted with
 * no per-position sort. The kernel then runs each position over all
 * c_out channels at once. */
#include <string.h>

#include "core/grad_fixed.h"
#include "core/layer.h"
#include "core/relpsp.h"
#include "core/sort.h"

/* Where an input pixel (iy, ix) lands: output rows oy0..oy1 and columns
 * ox0..ox1, and iy + pad, ix + pad (ky = iy + pad - oy * stride). */
typedef struct pixel_span {
    int oy0, oy1, ox0, ox1, iyp, ixp;
} pixel_span;

typedef struct conv_scr {
    uint32_t *idx; /* fired inputs, sorted */
    void *sort;
    uint32_t *cnt;                  /* events per output position */
    double *ev_t;                   /* per position, cap slots: time */
    uint32_t *ev_row;               /* weight row (c, ky, kx) */
    int64_t *row_in, *pos_in;       /* input index = row_in[row] + pos_in[pos] */
    double *acc, *t_pos;            /* kernel scratch, c_out each */
    double *nc, *s;                 /* per position x c_out */
    double *g, *te, *g_nc, *dl_pos; /* backward, c_out each */
    double *dt_ev;                  /* cap */
    double *dw;                     /* the sample's dL/dw, param_count */
    struct conv_ext *x;             /* event input, if the last forward had it */
    pixel_span *span;               /* per input pixel, H x W */
    uint32_t *span_ready;           /* 0 until span is filled (the workspace starts zeroed) */
} conv_scr;

/* The last forward's per-position lists when it had event input (t NULL
 * otherwise): position pos's events are [start[pos], start[pos] +
 * cnt[pos]) of t and row, in the event memory, which also holds dt. */
typedef struct conv_ext {
    const double *t;
    const uint32_t *row;
    const size_t *start;
    double *dt;
} conv_ext;

static size_t conv_layout(const stdbp_layer_info *L, unsigned char *base, conv_scr *d)
{
    const size_t n = stdbp_shape_size(L->in), m = (size_t)L->out.c;
    const size_t P = (size_t)L->out.h * L->out.w, cap = (size_t)L->fan_in;
    size_t off = 0;
    d->idx = stdbp_carve(base, &off, n * sizeof *d->idx);
    d->sort = stdbp_carve(base, &off, stdbp_sort_scratch_size(n));
    d->cnt = stdbp_carve(base, &off, P * sizeof *d->cnt);
    d->ev_t = stdbp_carve(base, &off, P * cap * sizeof *d->ev_t);
    d->ev_row = stdbp_carve(base, &off, P * cap * sizeof *d->ev_row);
    d->row_in = stdbp_carve(base, &off, cap * sizeof *d->row_in);
    d->pos_in = stdbp_carve(base, &off, P * sizeof *d->pos_in);
    d->acc = stdbp_carve(base, &off, 2 * m * sizeof(double)); /* kernel: running S, R */
    d->t_pos = stdbp_carve(base, &off, m * sizeof(double));
    d->nc = stdbp_carve(base, &off, P * m * sizeof(double));
    d->s = stdbp_carve(base, &off, P * m * sizeof(double));
    d->g = stdbp_carve(base, &off, m * sizeof(double));
    d->te = stdbp_carve(base, &off, m * sizeof(double));
    d->g_nc = stdbp_carve(base, &off, m * sizeof(double));
    d->dl_pos = stdbp_carve(base, &off, m * sizeof(double));
    d->dt_ev = stdbp_carve(base, &off, cap * sizeof(double));
    d->dw = stdbp_carve(base, &off, L->param_count * sizeof(double));
    d->x = stdbp_carve(base, &off, sizeof *d->x);
    d->span = stdbp_carve(base, &off, (size_t)L->in.h * L->in.w * sizeof *d->span);
    d->span_ready = stdbp_carve(base, &off, sizeof *d->span_ready);
    return off;
}

static stdbp_status conv_setup(const stdbp_layer_spec *spec, stdbp_layer_info *info, stdbp_err *err)
{
    int oh, ow;
    if (spec->out <= 0)
        return stdbp_err_set(err, STDBP_EINVAL, "conv2d needs out > 0 channels (got %d)",
                             spec->out);
    stdbp_status st = stdbp_window_setup(spec, 1, info, &oh, &ow, err);
    if (st != STDBP_OK)
        return st;
    const size_t fan = (size_t)info->in.c * spec->kernel * spec->kernel;
    const size_t P = (size_t)oh * ow;
    if (fan > STDBP_LAYER_MAX_SIZE / (size_t)spec->out || fan > STDBP_LAYER_MAX_SIZE / P ||
        (size_t)spec->out > STDBP_LAYER_MAX_SIZE / P)
        return stdbp_err_set(err, STDBP_EINVAL, "conv2d(%d,k%d) on %dx%dx%d is too large",
                             spec->out, spec->kernel, info->in.c, info->in.h, info->in.w);
    info->out = (stdbp_shape){spec->out, oh, ow};
    info->fan_in = (int)fan;
    info->param_count = fan * (size_t)spec->out;
    return STDBP_OK;
}

static size_t conv_scratch_size(const stdbp_layer_info *info)
{
    conv_scr d;
    return conv_layout(info, NULL, &d);
}

/* The output positions that see input (iy, ix): rows oy0..oy1 and
 * columns ox0..ox1, those with 0 <= iy + pad - oy * stride < kernel. */
static void conv_span(const stdbp_layer_info *L, int iy, int ix, int *oy0, int *oy1, int *ox0,
                      int *ox1)
{
    const int k = L->kernel, st = L->stride, pad = L->padding;
    const int ay = iy + pad - k + 1, ax = ix + pad - k + 1;
    *oy0 = ay <= 0 ? 0 : (ay + st - 1) / st;
    *ox0 = ax <= 0 ? 0 : (ax + st - 1) / st;
    *oy1 = (iy + pad) / st < L->out.h - 1 ? (iy + pad) / st : L->out.h - 1;
    *ox1 = (ix + pad) / st < L->out.w - 1 ? (ix + pad) / st : L->out.w - 1;
}

/* conv_span of every input pixel, filled once per workspace: its
 * integer divisions per fired input took about a quarter of the list
 * building's time. */
static void conv_fill_spans(const stdbp_layer_info *L, const conv_scr *d)
{
    for (int iy = 0; iy < L->in.h; iy++)
        for (int ix = 0; ix < L->in.w; ix++) {
            pixel_span *sp = &d->span[(size_t)iy * L->in.w + ix];
            conv_span(L, iy, ix, &sp->oy0, &sp->oy1, &sp->ox0, &sp->ox1);
            sp->iyp = iy + L->padding;
            sp->ixp = ix + L->padding;
        }
    *d->span_ready = 1;
}

/* Append the sorted fired inputs to the lists of the positions that see
 * them. Returns the number of (input, position) pairs. */
static uint64_t conv_gather(const stdbp_layer_info *L, const double *in, size_t n_fired,
                            const conv_scr *d)
{
    const int k = L->kernel, st = L->stride;
    const int OW = L->out.w;
    const uint32_t HW = (uint32_t)L->in.h * (uint32_t)L->in.w;
    const double inv_hw = 1.0 / (double)HW;
    const size_t cap = (size_t)L->fan_in;
    uint64_t pairs = 0;
    if (!*d->span_ready)
        conv_fill_spans(L, d);
    memset(d->cnt, 0, (size_t)L->out.h * OW * sizeof *d->cnt);
    for (size_t q = 0; q < n_fired; q++) {
        const uint32_t i = d->idx[q];
        /* i / HW through a double (exact below 2^53), then corrected:
         * the product may round to just below a whole number */
        uint32_t c = (uint32_t)((double)i * inv_hw);
        if (c * HW > i)
            c--;
        else if (i - c * HW >= HW)
            c++;
        const pixel_span sp = d->span[i - c * HW];
        const double t = in[i];
        const uint32_t row_c = (uint32_t)c * (uint32_t)(k * k);
        for (int oy = sp.oy0; oy <= sp.oy1; oy++) {
            const uint32_t row_y = row_c + (uint32_t)((sp.iyp - oy * st) * k);
            for (int ox = sp.ox0; ox <= sp.ox1; ox++) {
                const size_t pos = (size_t)oy * OW + ox;
                const size_t slot = pos * cap + d->cnt[pos]++;
                d->ev_t[slot] = t;
                d->ev_row[slot] = row_y + (uint32_t)(sp.ixp - ox * st);
                pairs++;
            }
        }
    }
    return pairs;
}

static uint64_t conv_forward(const stdbp_layer_run *run, const double *in, double *out)
{
    const stdbp_layer_info *L = run->info;
    const size_t m = (size_t)L->out.c, P = (size_t)L->out.h * L->out.w;
    const size_t cap = (size_t)L->fan_in;
    conv_scr d;
    conv_layout(L, run->scratch, &d);
    const size_t n = stdbp_sort_fired(in, stdbp_shape_size(L->in), d.idx, d.sort);
    const uint64_t pairs = conv_gather(L, in, n, &d);
    d.x->t = NULL;
    for (size_t pos = 0; pos < P; pos++) {
        const stdbp_events ev = {d.cnt[pos], d.ev_t + pos * cap, d.ev_row + pos * cap};
        stdbp_relpsp_forward(&ev, run->w, m, run->neuron->theta, run->neuron->t_max, d.acc, d.t_pos,
                             d.nc + pos * m, d.s + pos * m);
        for (size_t co = 0; co < m; co++)
            out[co * P + pos] = d.t_pos[co];
    }
    return pairs * m;
}

/* The input an event came from, as row_in[its weight row] + pos_in[its
 * position]: two small tables instead of an index stored per event. */
static void conv_index_tables(const stdbp_layer_info *L, const conv_scr *d)
{
    const int64_t k = L->kernel, st = L->stride, pad = L->padding, H = L->in.h, W = L->in.w;
    for (int64_t c = 0; c < L->in.c; c++)
        for (int64_t ky = 0; ky < k; ky++)
            for (int64_t kx = 0; kx < k; kx++)
                d->row_in[(c * k + ky) * k + kx] = c * H * W + ky * W + kx;
    for (int64_t oy = 0; oy < L->out.h; oy++)
        for (int64_t ox = 0; ox < L->out.w; ox++)
            d->pos_in[oy * L->out.w + ox] = (oy * st - pad) * W + (ox * st - pad);
}

static int conv_backward(const stdbp_layer_run *run, const double *out, const double *dl_dout,
                         double *dl_din, int64_t *grad, int surrogate)
{
    const stdbp_layer_info *L = run->info;
    const size_t m = (size_t)L->out.c, P = (size_t)L->out.h * L->out.w;
    const size_t cap = (size_t)L->fan_in;
    conv_scr d;
    int bad = 0;
    double chk = 0.0;
    conv_layout(L, run->scratch, &d);
    stdbp_relpsp_grad gr = {d.g, d.te, d.g_nc, 0.0, 0.0};
    memset(d.dw, 0, L->param_count * sizeof *d.dw);
    if (dl_din)
        conv_index_tables(L, &d);
    for (size_t pos = 0; pos < P; pos++) {
        int any = 0;
        for (size_t co = 0; co < m; co++) {
            d.dl_pos[co] = dl_dout[co * P + pos];
            d.t_pos[co] = out[co * P + pos];
            any |= d.dl_pos[co] != 0.0;
        }
        if (!any)
            continue;
        const size_t o = d.x->t ? d.x->start[pos] : pos * cap;
        const stdbp_events ev = {d.cnt[pos], (d.x->t ? d.x->t : d.ev_t) + o,
                                 (d.x->t ? d.x->row : d.ev_row) + o};
        double *dt_ev = d.x->t ? d.x->dt : d.dt_ev;
        const size_t n =
            stdbp_relpsp_grad_prepare(&ev, run->w, m, d.t_pos, d.nc + pos * m, d.s + pos * m,
                                      d.dl_pos, surrogate, run->neuron, d.acc, &gr, &bad);
        stdbp_relpsp_backward_acc(&ev, n, run->w, m, &gr, d.dw, dt_ev);
        const uint32_t *ev_row = ev.row;
        for (size_t p = 0; p < n; p++) {
            chk += dt_ev[p] * 0.0;
            if (dl_din)
                dl_din[d.row_in[ev_row[p]] + d.pos_in[pos]] += dt_ev[p];
        }
    }
    /* Summed over positions in double, rounded once per weight. */
    bad |= stdbp_fixed_add_row(grad, d.dw, L->param_count);
    return bad || !(chk == 0.0);
}

static void conv_causal(const stdbp_layer_run *run, double *out)
{
    const stdbp_layer_info *L = run->info;
    const size_t m = (size_t)L->out.c, P = (size_t)L->out.h * L->out.w;
    conv_scr d;
    conv_layout(L, run->scratch, &d);
    for (size_t pos = 0; pos < P; pos++)
        for (size_t co = 0; co < m; co++)
            out[co * P + pos] = d.nc[pos * m + co];
}

/* (input, position) pairs of the events. */
static size_t conv_event_pairs(const stdbp_layer_info *L, const stdbp_events *ev)
{
    const uint32_t HW = (uint32_t)L->in.h * (uint32_t)L->in.w;
    size_t pairs = 0;
    int oy0, oy1, ox0, ox1;
    for (size_t p = 0; p < ev->n; p++) {
        const uint32_t r = ev->row[p] % HW;
        conv_span(L, (int)(r / (uint32_t)L->in.w), (int)(r % (uint32_t)L->in.w), &oy0, &oy1, &ox0,
                  &ox1);
        if (oy1 >= oy0 && ox1 >= ox0)
            pairs += (size_t)(oy1 - oy0 + 1) * (size_t)(ox1 - ox0 + 1);
    }
    return pairs;
}

static size_t conv_ext_layout(const stdbp_layer_info *L, size_t n, size_t pairs,
                              unsigned char *base, double **t, uint32_t **row, size_t **start,
                              double **dt)
{
    size_t off = 0;
    *start = stdbp_carve(base, &off, ((size_t)L->out.h * L->out.w + 1) * sizeof **start);
    *t = stdbp_carve(base, &off, pairs * sizeof **t);
    *row = stdbp_carve(base, &off, pairs * sizeof **row);
    *dt = stdbp_carve(base, &off, n * sizeof **dt); /* a position sees an event at most once */
    return off;
}

static size_t conv_events_bytes(const stdbp_layer_info *L, const stdbp_events *ev)
{
    double *t, *dt;
    uint32_t *row;
    size_t *start;
    return conv_ext_layout(L, ev->n, conv_event_pairs(L, ev), NULL, &t, &row, &start, &dt);
}

/* The events into per-position lists (counted, then filled in time
 * order, so each list is sorted), then the kernel on each position. */
static uint64_t conv_forward_events(const stdbp_layer_run *run, const stdbp_events *ev, void *mem,
                                    double *out)
{
    const stdbp_layer_info *L = run->info;
    const size_t m = (size_t)L->out.c, P = (size_t)L->out.h * L->out.w;
    const int k = L->kernel, st = L->stride, pad = L->padding, W = L->in.w;
    const uint32_t HW = (uint32_t)L->in.h * (uint32_t)W;
    const size_t pairs = conv_event_pairs(L, ev);
    double *t, *dt;
    uint32_t *row;
    size_t *start;
    conv_scr d;
    int oy0, oy1, ox0, ox1;
    conv_layout(L, run->scratch, &d);
    conv_ext_layout(L, ev->n, pairs, mem, &t, &row, &start, &dt);
    for (int pass = 0; pass < 2; pass++) {
        memset(d.cnt, 0, P * sizeof *d.cnt);
        for (size_t p = 0; p < ev->n; p++) {
            const uint32_t c = ev->row[p] / HW, r = ev->row[p] % HW;
            const int iy = (int)(r / (uint32_t)W), ix = (int)(r % (uint32_t)W);
            conv_span(L, iy, ix, &oy0, &oy1, &ox0, &ox1);
            for (int oy = oy0; oy <= oy1; oy++)
                for (int ox = ox0; ox <= ox1; ox++) {
                    const size_t pos = (size_t)oy * L->out.w + ox;
                    const size_t q = d.cnt[pos]++;
                    if (pass) {
                        const size_t slot = start[pos] + q;
                        t[slot] = ev->t[p];
                        row[slot] =
                            (uint32_t)(((int)c * k + iy + pad - oy * st) * k + ix + pad - ox * st);
                    }
                }
        }
        if (!pass) {
            size_t acc = 0;
            for (size_t pos = 0; pos < P; pos++) {
                start[pos] = acc;
                acc += d.cnt[pos];
            }
            start[P] = acc;
        }
    }
    *d.x = (conv_ext){t, row, start, dt};
    for (size_t pos = 0; pos < P; pos++) {
        const stdbp_events pe = {d.cnt[pos], t + start[pos], row + start[pos]};
        stdbp_relpsp_forward(&pe, run->w, m, run->neuron->theta, run->neuron->t_max, d.acc, d.t_pos,
                             d.nc + pos * m, d.s + pos * m);
        for (size_t co = 0; co < m; co++)
            out[co * P + pos] = d.t_pos[co];
    }
    return (uint64_t)pairs * m;
}

const stdbp_layer_ops stdbp_conv2d_ops = {"conv2d",          conv_setup,         conv_scratch_size,
                                          conv_forward,      conv_backward,      conv_causal,
                                          conv_events_bytes, conv_forward_events};
