/* Quantisation: n-bit weights, integer time steps, and the ReL-PSP closed
 * form in integer arithmetic. See include/stdbp/hw.h for the semantics. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_impl.h"

stdbp_quant_params stdbp_quant_defaults(void)
{
    stdbp_quant_params p;
    p.bits = 8;
    p.time_steps = 256;
    p.t_max = 1.0;
    p.window = 0;
    return p;
}

static void qlayer_free(stdbp_hw_qlayer *l)
{
    free(l->start);
    free(l->tgt);
    free(l->w);
    free(l->fan_in);
    memset(l, 0, sizeof *l);
}

void stdbp_qnet_destroy(stdbp_qnet **q)
{
    if (!q || !*q)
        return;
    for (size_t i = 0; i < (*q)->n_layers; i++)
        qlayer_free(&(*q)->layers[i]);
    free((*q)->layers);
    free(*q);
    *q = NULL;
}

typedef struct conn {
    int32_t tgt, w;
} conn;

static int conn_cmp(const void *a, const void *b)
{
    const conn *x = a, *y = b;
    return (x->tgt > y->tgt) - (x->tgt < y->tgt);
}

/* Output row (or column) o with o * s - p + tap = v, or -1 if there is
 * none within [0, n_out). */
static int tap_output(int v, int p, int tap, int s, int n_out)
{
    int nv = v + p - tap;
    if (nv < 0 || nv % s || nv / s >= n_out)
        return -1;
    return nv / s;
}

/* Targets of input (c, y, x) in a windowed layer (conv or pool): output
 * rows oy with oy * s - p + ky = y for a tap ky in [0, k). Calls emit for
 * each (oy, ox, ky, kx). Returns the number of (oy, ox) pairs. */
static size_t window_targets(const stdbp_layer_info *li, int y, int x,
                             void (*emit)(void *, int, int, int, int), void *ctx)
{
    int k = li->kernel, s = li->stride > 0 ? li->stride : 1, p = li->padding;
    size_t n = 0;
    for (int ky = 0; ky < k; ky++) {
        int oy = tap_output(y, p, ky, s, li->out.h);
        if (oy < 0)
            continue;
        for (int kx = 0; kx < k; kx++) {
            int ox = tap_output(x, p, kx, s, li->out.w);
            if (ox < 0)
                continue;
            if (emit)
                emit(ctx, oy, ox, ky, kx);
            n++;
        }
    }
    return n;
}

typedef struct emit_ctx {
    const stdbp_layer_info *li;
    const int32_t *wq; /* conv weights W[c][ky][kx][o], or NULL for pool */
    int c;             /* input channel */
    conn *out;
    size_t n;
} emit_ctx;

static void emit_conv(void *vctx, int oy, int ox, int ky, int kx)
{
    emit_ctx *e = vctx;
    const stdbp_layer_info *li = e->li;
    int co = li->out.c, k = li->kernel;
    for (int o = 0; o < co; o++) {
        size_t widx = ((((size_t)e->c * k + ky) * k + kx) * co) + o;
        e->out[e->n].tgt = (int32_t)(((size_t)o * li->out.h + oy) * li->out.w + ox);
        e->out[e->n].w = e->wq[widx];
        e->n++;
    }
}

static void emit_pool(void *vctx, int oy, int ox, int ky, int kx)
{
    emit_ctx *e = vctx;
    const stdbp_layer_info *li = e->li;
    (void)ky;
    (void)kx;
    e->out[e->n].tgt = (int32_t)(((size_t)e->c * li->out.h + oy) * li->out.w + ox);
    e->out[e->n].w = 0;
    e->n++;
}

/* Build the fan-out lists of a layer; wq holds its integer weights in the
 * float net's layout (NULL for pool). */
static stdbp_status build_fanout(stdbp_hw_qlayer *l, const stdbp_layer_info *li, const int32_t *wq,
                                 stdbp_err *err)
{
    size_t n_in = l->info.n_in, n_out = l->info.n_out;
    conn *buf = NULL;
    l->start = calloc(n_in + 1, sizeof *l->start);
    l->fan_in = calloc(n_out ? n_out : 1, sizeof *l->fan_in);
    if (!l->start || !l->fan_in)
        goto nomem;
    if (li->kind == STDBP_LAYER_DENSE) {
        l->n_conn = n_in * n_out;
        l->tgt = malloc((l->n_conn ? l->n_conn : 1) * sizeof *l->tgt);
        l->w = malloc((l->n_conn ? l->n_conn : 1) * sizeof *l->w);
        if (!l->tgt || !l->w)
            goto nomem;
        for (size_t i = 0; i < n_in; i++) {
            l->start[i] = i * n_out;
            for (size_t j = 0; j < n_out; j++) {
                l->tgt[i * n_out + j] = (int32_t)j;
                l->w[i * n_out + j] = wq[i * n_out + j];
            }
        }
        l->start[n_in] = l->n_conn;
        for (size_t j = 0; j < n_out; j++)
            l->fan_in[j] = (int32_t)n_in;
        return STDBP_OK;
    }
    /* conv2d or pool: count, then fill and sort each source's list */
    int per = li->kind == STDBP_LAYER_CONV2D ? li->out.c : 1;
    size_t total = 0, maxper = 0;
    for (int c = 0; c < li->in.c; c++)
        for (int y = 0; y < li->in.h; y++)
            for (int x = 0; x < li->in.w; x++) {
                size_t i = ((size_t)c * li->in.h + y) * li->in.w + x;
                size_t m = window_targets(li, y, x, NULL, NULL) * (size_t)per;
                l->start[i] = total;
                total += m;
                if (m > maxper)
                    maxper = m;
            }
    l->start[n_in] = total;
    l->n_conn = total;
    l->tgt = malloc((total ? total : 1) * sizeof *l->tgt);
    l->w = malloc((total ? total : 1) * sizeof *l->w);
    buf = malloc((maxper ? maxper : 1) * sizeof *buf);
    if (!l->tgt || !l->w || !buf)
        goto nomem;
    for (int c = 0; c < li->in.c; c++)
        for (int y = 0; y < li->in.h; y++)
            for (int x = 0; x < li->in.w; x++) {
                size_t i = ((size_t)c * li->in.h + y) * li->in.w + x;
                emit_ctx e = {li, wq, c, buf, 0};
                window_targets(li, y, x, li->kind == STDBP_LAYER_CONV2D ? emit_conv : emit_pool,
                               &e);
                qsort(buf, e.n, sizeof *buf, conn_cmp);
                for (size_t k = 0; k < e.n; k++) {
                    l->tgt[l->start[i] + k] = buf[k].tgt;
                    l->w[l->start[i] + k] = buf[k].w;
                    l->fan_in[buf[k].tgt]++;
                }
            }
    free(buf);
    return STDBP_OK;
nomem:
    free(buf);
    return stdbp_err_set(err, STDBP_ENOMEM, "quantising layer %zu: out of memory",
                         l->info.net_layer);
}

static int bits_for(double bound)
{
    int b = 1; /* the sign */
    while (bound >= 1.0) {
        bound /= 2.0;
        b++;
    }
    return b;
}

/* Check p and fill in its window (include/stdbp/hw.h); *n_compute
 * receives the number of computing layers. */
static stdbp_status resolve_params(const stdbp_net *net, stdbp_quant_params *p, size_t *n_compute,
                                   stdbp_err *err)
{
    if (p->bits < STDBP_QBITS_MIN || p->bits > STDBP_QBITS_MAX)
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: %d-bit weights: bits must lie in [%d, %d]", p->bits,
                             STDBP_QBITS_MIN, STDBP_QBITS_MAX);
    if (p->time_steps < 1 || p->time_steps > (INT64_C(1) << 31))
        return stdbp_err_set(err, STDBP_ERANGE, "quantise: time_steps %lld: must lie in [1, 2^31]",
                             (long long)p->time_steps);
    if (!(p->t_max > 0.0) || !isfinite(p->t_max))
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: encoding t_max %g: must be finite and > 0", p->t_max);
    if (p->window < 0)
        return stdbp_err_set(err, STDBP_ERANGE, "quantise: window %lld: must be >= 0",
                             (long long)p->window);

    const stdbp_neuron_params *np = stdbp_net_neuron(net);
    double dt = p->t_max / (double)p->time_steps;
    size_t nl = stdbp_net_num_layers(net), n_weighted = 0;
    *n_compute = 0;
    for (size_t i = 0; i < nl; i++) {
        stdbp_layer_info li = stdbp_net_layer(net, i);
        if (li.kind == STDBP_LAYER_DENSE || li.kind == STDBP_LAYER_CONV2D)
            n_weighted++;
        if (li.kind != STDBP_LAYER_FLATTEN)
            (*n_compute)++;
    }
    if (*n_compute == 0)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "quantise: the network has no dense, conv2d or pool layer");
    if (p->window == 0) {
        if (isfinite(np->t_max)) {
            double w = floor(np->t_max * (double)p->time_steps / p->t_max + 1e-9);
            if (w < 1.0)
                return stdbp_err_set(err, STDBP_ERANGE,
                                     "quantise: the neuron window t_max = %g is shorter than one "
                                     "step (%g): raise time_steps",
                                     np->t_max, dt);
            p->window = w > 9e15 ? (int64_t)9e15 : (int64_t)w;
        } else {
            p->window = (int64_t)(n_weighted + 1) * p->time_steps;
        }
    }

    if (p->window > STDBP_QWINDOW_MAX)
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: a window of %lld steps is longer than %lld (buffers are "
                             "sized by it): lower time_steps, or give the float net a shorter "
                             "window (network.t_max)",
                             (long long)p->window, (long long)STDBP_QWINDOW_MAX);
    return STDBP_OK;
}

/* Integer weights of float layer i (dense or conv, weights w) into *wq
 * (allocated here), and its scale, w_max, theta_q and w_err_max into
 * l->info. */
static stdbp_status quantise_weights(const stdbp_qnet *q, const stdbp_net *net, size_t i,
                                     const stdbp_layer_info *li, stdbp_hw_qlayer *l, int32_t **wq,
                                     stdbp_err *err)
{
    const double *w = stdbp_net_params_const(net) + li->param_offset;
    double theta = stdbp_net_neuron(net)->theta, dt = q->dt;
    int32_t w_max = (int32_t)((1 << (q->params.bits - 1)) - 1);
    double amax = 0.0;
    for (size_t k = 0; k < li->param_count; k++)
        if (fabs(w[k]) > amax)
            amax = fabs(w[k]);
    if (!isfinite(amax))
        return stdbp_err_set(err, STDBP_ENUMERIC,
                             "quantise: layer %zu (%s): a weight is NaN or Inf", i, l->info.desc);
    double scale = amax > 0.0 ? amax / w_max : 1.0;
    *wq = malloc((li->param_count ? li->param_count : 1) * sizeof **wq);
    if (!*wq)
        return stdbp_err_set(err, STDBP_ENOMEM, "quantise: out of memory");
    double emax = 0.0;
    for (size_t k = 0; k < li->param_count; k++) {
        long v = lround(w[k] / scale);
        if (v > w_max)
            v = w_max;
        if (v < -w_max)
            v = -w_max;
        (*wq)[k] = (int32_t)v;
        double e = fabs(w[k] - scale * (double)v);
        if (e > emax)
            emax = e;
    }
    double th = theta / (scale * dt);
    if (!(th < 4e18))
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: layer %zu (%s): threshold %g / (scale %g x step "
                             "%g) does not fit 62 bits",
                             i, l->info.desc, theta, scale, dt);
    int64_t theta_q = llround(th);
    if (theta_q < 1)
        theta_q = 1;
    l->info.scale = scale;
    l->info.w_max = w_max;
    l->info.theta = theta_q;
    l->info.w_err_max = emax;
    l->info.n_synapses = li->param_count; /* conv: shared weights; see below */
    return STDBP_OK;
}

/* After the fan-out lists: the largest fan-in, the synapses held and the
 * accumulator bits of layer l (float layer i). */
static stdbp_status size_synapses(const stdbp_qnet *q, size_t i, stdbp_hw_qlayer *l, stdbp_err *err)
{
    int fmax = 0;
    for (size_t j = 0; j < l->info.n_out; j++)
        if (l->fan_in[j] > fmax)
            fmax = l->fan_in[j];
    l->info.fan_in_max = fmax;
    if (l->info.kind == STDBP_LAYER_POOL) {
        l->info.n_synapses = 0;
        return STDBP_OK;
    }
    /* Hardware holds each neuron's fan-in synapses (conv weights are
     * replicated per neuron: no weight sharing in synapse memory). */
    int32_t w_max = l->info.w_max;
    l->info.n_synapses = l->n_conn;
    double bound = (double)fmax * (double)w_max * (double)q->params.window + (double)l->info.theta;
    l->info.acc_bits = bits_for(bound);
    if (bound >= 4.6e18)
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: layer %zu (%s): accumulators would need %d bits "
                             "(fan-in %d x %d x window %lld): lower time_steps or the "
                             "window",
                             i, l->info.desc, l->info.acc_bits, fmax, (int)w_max,
                             (long long)q->params.window);
    return STDBP_OK;
}

/* Float layer i (not flatten) as the next computing layer of q. */
static stdbp_status quantise_layer(stdbp_qnet *q, const stdbp_net *net, size_t i, stdbp_err *err)
{
    stdbp_layer_info li = stdbp_net_layer(net, i);
    int32_t *wq = NULL;
    stdbp_status st;
    if (li.kind != STDBP_LAYER_DENSE && li.kind != STDBP_LAYER_CONV2D &&
        li.kind != STDBP_LAYER_POOL)
        return stdbp_err_set(err, STDBP_EINVAL, "quantise: layer %zu: unknown layer kind %d", i,
                             (int)li.kind);
    stdbp_hw_qlayer *l = &q->layers[q->n_layers++];
    l->info.kind = li.kind;
    l->info.net_layer = i;
    l->info.n_in = (size_t)li.in.c * li.in.h * li.in.w;
    l->info.n_out = (size_t)li.out.c * li.out.h * li.out.w;
    stdbp_layer_describe(&li, l->info.desc, sizeof l->info.desc);
    if (l->info.n_out > q->max_width)
        q->max_width = l->info.n_out;
    if (l->info.n_in > q->max_width)
        q->max_width = l->info.n_in;
    if (l->info.n_out > (size_t)INT32_MAX || l->info.n_in > (size_t)INT32_MAX)
        return stdbp_err_set(err, STDBP_ERANGE, "quantise: layer %zu (%s): too many neurons", i,
                             l->info.desc);
    if (li.kind != STDBP_LAYER_POOL && (st = quantise_weights(q, net, i, &li, l, &wq, err)))
        goto done;
    if ((st = build_fanout(l, &li, wq, err)))
        goto done;
    st = size_synapses(q, i, l, err);
done:
    free(wq);
    return st;
}

stdbp_status stdbp_qnet_create(const stdbp_net *net, const stdbp_quant_params *params,
                               stdbp_qnet **out, stdbp_err *err)
{
    stdbp_qnet *q = NULL;
    stdbp_status st;
    stdbp_quant_params p = params ? *params : stdbp_quant_defaults();
    size_t n_compute = 0;
    *out = NULL;
    if (!net)
        return stdbp_err_set(err, STDBP_EINVAL, "quantise: no network");
    if ((st = resolve_params(net, &p, &n_compute, err)))
        return st;

    q = calloc(1, sizeof *q);
    if (!q || !(q->layers = calloc(n_compute, sizeof *q->layers))) {
        free(q);
        return stdbp_err_set(err, STDBP_ENOMEM, "quantise: out of memory");
    }
    q->params = p;
    q->dt = p.t_max / (double)p.time_steps;
    q->n_in = stdbp_net_input_size(net);
    q->max_width = q->n_in;
    for (size_t i = 0; i < stdbp_net_num_layers(net); i++) {
        if (stdbp_net_layer(net, i).kind == STDBP_LAYER_FLATTEN)
            continue;
        if ((st = quantise_layer(q, net, i, err))) {
            stdbp_qnet_destroy(&q);
            return st;
        }
    }
    *out = q;
    return STDBP_OK;
}

size_t stdbp_qnet_num_layers(const stdbp_qnet *q)
{
    return q->n_layers;
}

stdbp_qlayer_info stdbp_qnet_layer(const stdbp_qnet *q, size_t i)
{
    return q->layers[i].info;
}

size_t stdbp_qnet_input_size(const stdbp_qnet *q)
{
    return q->n_in;
}

size_t stdbp_qnet_output_size(const stdbp_qnet *q)
{
    return q->layers[q->n_layers - 1].info.n_out;
}

stdbp_quant_params stdbp_qnet_params(const stdbp_qnet *q)
{
    return q->params;
}

double stdbp_qnet_step(const stdbp_qnet *q)
{
    return q->dt;
}

int64_t stdbp_qnet_quantise_time(const stdbp_qnet *q, double t)
{
    if (!(t < INFINITY)) /* +inf or NaN: silent */
        return STDBP_QT_SILENT;
    if (t < 0.0)
        t = 0.0;
    /* t * T / t_max rather than t / dt: exact for the decimal times
     * users write (0.15 * 10 is 1.5; 0.15 / 0.1 is not) */
    double s = floor(t * (double)q->params.time_steps / q->params.t_max + 0.5);
    return s >= 9e18 ? STDBP_QT_SILENT : (int64_t)s;
}

void stdbp_qnet_quantise_input(const stdbp_qnet *q, const double *times, int64_t *steps)
{
    for (size_t i = 0; i < q->n_in; i++)
        steps[i] = stdbp_qnet_quantise_time(q, times[i]);
}
