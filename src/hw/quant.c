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

/* Targets of input (c, y, x) in a windowed layer (conv or pool): output
 * rows oy with oy * s - p + ky = y for a tap ky in [0, k). Calls emit for
 * each (oy, ox, ky, kx). Returns the number of (oy, ox) pairs. */
static size_t window_targets(const stdbp_layer_info *li, int y, int x,
                             void (*emit)(void *, int, int, int, int), void *ctx)
{
    int k = li->kernel, s = li->stride > 0 ? li->stride : 1, p = li->padding;
    size_t n = 0;
    for (int ky = 0; ky < k; ky++) {
        int ny = y + p - ky;
        if (ny < 0 || ny % s)
            continue;
        int oy = ny / s;
        if (oy >= li->out.h)
            continue;
        for (int kx = 0; kx < k; kx++) {
            int nx = x + p - kx;
            if (nx < 0 || nx % s)
                continue;
            int ox = nx / s;
            if (ox >= li->out.w)
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

stdbp_status stdbp_qnet_create(const stdbp_net *net, const stdbp_quant_params *params,
                               stdbp_qnet **out, stdbp_err *err)
{
    stdbp_qnet *q = NULL;
    int32_t *wq = NULL;
    stdbp_status st;
    stdbp_quant_params p = params ? *params : stdbp_quant_defaults();
    *out = NULL;
    if (!net)
        return stdbp_err_set(err, STDBP_EINVAL, "quantise: no network");
    if (p.bits < STDBP_QBITS_MIN || p.bits > STDBP_QBITS_MAX)
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: %d-bit weights: bits must lie in [%d, %d]", p.bits,
                             STDBP_QBITS_MIN, STDBP_QBITS_MAX);
    if (p.time_steps < 1 || p.time_steps > (INT64_C(1) << 31))
        return stdbp_err_set(err, STDBP_ERANGE, "quantise: time_steps %lld: must lie in [1, 2^31]",
                             (long long)p.time_steps);
    if (!(p.t_max > 0.0) || !isfinite(p.t_max))
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: encoding t_max %g: must be finite and > 0", p.t_max);
    if (p.window < 0)
        return stdbp_err_set(err, STDBP_ERANGE, "quantise: window %lld: must be >= 0",
                             (long long)p.window);

    const stdbp_neuron_params *np = stdbp_net_neuron(net);
    double dt = p.t_max / (double)p.time_steps;
    size_t nl = stdbp_net_num_layers(net), n_weighted = 0, n_compute = 0;
    for (size_t i = 0; i < nl; i++) {
        stdbp_layer_info li = stdbp_net_layer(net, i);
        if (li.kind == STDBP_LAYER_DENSE || li.kind == STDBP_LAYER_CONV2D)
            n_weighted++;
        if (li.kind != STDBP_LAYER_FLATTEN)
            n_compute++;
    }
    if (n_compute == 0)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "quantise: the network has no dense, conv2d or pool layer");
    if (p.window == 0) {
        if (isfinite(np->t_max)) {
            double w = floor(np->t_max * (double)p.time_steps / p.t_max + 1e-9);
            if (w < 1.0)
                return stdbp_err_set(err, STDBP_ERANGE,
                                     "quantise: the neuron window t_max = %g is shorter than one "
                                     "step (%g): raise time_steps",
                                     np->t_max, dt);
            p.window = w > 9e15 ? (int64_t)9e15 : (int64_t)w;
        } else {
            p.window = (int64_t)(n_weighted + 1) * p.time_steps;
        }
    }

    if (p.window > STDBP_QWINDOW_MAX)
        return stdbp_err_set(err, STDBP_ERANGE,
                             "quantise: a window of %lld steps is longer than %lld (buffers are "
                             "sized by it): lower time_steps, or give the float net a shorter "
                             "window (network.t_max)",
                             (long long)p.window, (long long)STDBP_QWINDOW_MAX);

    q = calloc(1, sizeof *q);
    if (!q)
        goto nomem;
    q->params = p;
    q->dt = dt;
    q->n_in = stdbp_net_input_size(net);
    q->max_width = q->n_in;
    q->layers = calloc(n_compute, sizeof *q->layers);
    if (!q->layers)
        goto nomem;

    const double *params_f = stdbp_net_params_const(net);
    int32_t w_max = (int32_t)((1 << (p.bits - 1)) - 1);
    for (size_t i = 0; i < nl; i++) {
        stdbp_layer_info li = stdbp_net_layer(net, i);
        if (li.kind == STDBP_LAYER_FLATTEN)
            continue;
        if (li.kind != STDBP_LAYER_DENSE && li.kind != STDBP_LAYER_CONV2D &&
            li.kind != STDBP_LAYER_POOL) {
            st = stdbp_err_set(err, STDBP_EINVAL, "quantise: layer %zu: unknown layer kind %d", i,
                               (int)li.kind);
            goto fail;
        }
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
        if (l->info.n_out > (size_t)INT32_MAX || l->info.n_in > (size_t)INT32_MAX) {
            st = stdbp_err_set(err, STDBP_ERANGE, "quantise: layer %zu (%s): too many neurons", i,
                               l->info.desc);
            goto fail;
        }
        free(wq);
        wq = NULL;
        if (li.kind != STDBP_LAYER_POOL) {
            const double *w = params_f + li.param_offset;
            double amax = 0.0;
            for (size_t k = 0; k < li.param_count; k++)
                if (fabs(w[k]) > amax)
                    amax = fabs(w[k]);
            if (!isfinite(amax)) {
                st = stdbp_err_set(err, STDBP_ENUMERIC,
                                   "quantise: layer %zu (%s): a weight is NaN or Inf", i,
                                   l->info.desc);
                goto fail;
            }
            double scale = amax > 0.0 ? amax / w_max : 1.0;
            wq = malloc((li.param_count ? li.param_count : 1) * sizeof *wq);
            if (!wq)
                goto nomem;
            double emax = 0.0;
            for (size_t k = 0; k < li.param_count; k++) {
                long v = lround(w[k] / scale);
                if (v > w_max)
                    v = w_max;
                if (v < -w_max)
                    v = -w_max;
                wq[k] = (int32_t)v;
                double e = fabs(w[k] - scale * (double)v);
                if (e > emax)
                    emax = e;
            }
            double th = np->theta / (scale * dt);
            if (!(th < 4e18)) {
                st = stdbp_err_set(err, STDBP_ERANGE,
                                   "quantise: layer %zu (%s): threshold %g / (scale %g x step "
                                   "%g) does not fit 62 bits",
                                   i, l->info.desc, np->theta, scale, dt);
                goto fail;
            }
            int64_t theta_q = llround(th);
            if (theta_q < 1)
                theta_q = 1;
            l->info.scale = scale;
            l->info.w_max = w_max;
            l->info.theta = theta_q;
            l->info.w_err_max = emax;
            l->info.n_synapses = li.param_count; /* conv: shared weights; see below */
        }
        st = build_fanout(l, &li, wq, err);
        if (st)
            goto fail;
        int fmax = 0;
        for (size_t j = 0; j < l->info.n_out; j++)
            if (l->fan_in[j] > fmax)
                fmax = l->fan_in[j];
        l->info.fan_in_max = fmax;
        if (li.kind != STDBP_LAYER_POOL) {
            /* Hardware holds each neuron's fan-in synapses (conv weights
             * are replicated per neuron: no weight sharing in synapse
             * memory). */
            l->info.n_synapses = l->n_conn;
            double bound = (double)fmax * (double)w_max * (double)p.window + (double)l->info.theta;
            l->info.acc_bits = bits_for(bound);
            if (bound >= 4.6e18) {
                st = stdbp_err_set(err, STDBP_ERANGE,
                                   "quantise: layer %zu (%s): accumulators would need %d bits "
                                   "(fan-in %d x %d x window %lld): lower time_steps or the "
                                   "window",
                                   i, l->info.desc, l->info.acc_bits, fmax, (int)w_max,
                                   (long long)p.window);
                goto fail;
            }
        } else {
            l->info.n_synapses = 0;
        }
    }
    free(wq);
    *out = q;
    return STDBP_OK;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "quantise: out of memory");
fail:
    free(wq);
    stdbp_qnet_destroy(&q);
    return st;
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

void stdbp_qnet_quantise_input(const stdbp_qnet *q, const double *times, int64_t *steps)
{
    for (size_t i = 0; i < q->n_in; i++) {
        double t = times[i];
        if (!(t < INFINITY)) { /* +inf or NaN: silent */
            steps[i] = STDBP_QT_SILENT;
            continue;
        }
        if (t < 0.0)
            t = 0.0;
        /* t * T / t_max rather than t / dt: exact for the decimal times
         * users write (0.15 * 10 is 1.5; 0.15 / 0.1 is not) */
        double s = floor(t * (double)q->params.time_steps / q->params.t_max + 0.5);
        steps[i] = s >= 9e18 ? STDBP_QT_SILENT : (int64_t)s;
    }
}

/* ---- workspace and forward ------------------------------------------ */

void stdbp_qws_destroy(stdbp_qws **ws)
{
    if (!ws || !*ws)
        return;
    stdbp_qws *w = *ws;
    if (w->steps)
        for (size_t i = 0; i < w->n_layers; i++)
            free(w->steps[i]);
    free(w->steps);
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

/* Step of an input as the solver sees it: silent or beyond the window is
 * -1 (ignored: an input after the window cannot make anything fire in
 * it), negative counts as 0. */
static int64_t in_step(int64_t t, int64_t window)
{
    if (t == STDBP_QT_SILENT || t > window)
        return -1;
    return t < 0 ? 0 : t;
}

/* Fired inputs sorted by step, then index (counting sort); returns how
 * many. */
static size_t sort_inputs(const int64_t *in, size_t n_in, int64_t window, stdbp_qws *ws)
{
    size_t nb = (size_t)window + 1, nf = 0;
    memset(ws->bucket, 0, (nb + 1) * sizeof *ws->bucket);
    for (size_t i = 0; i < n_in; i++) {
        int64_t t = in_step(in[i], window);
        if (t >= 0) {
            ws->bucket[t + 1]++;
            nf++;
        }
    }
    for (size_t b = 1; b <= nb; b++)
        ws->bucket[b] += ws->bucket[b - 1];
    for (size_t i = 0; i < n_in; i++) {
        int64_t t = in_step(in[i], window);
        if (t >= 0)
            ws->order[ws->bucket[t]++] = (int32_t)i;
    }
    return nf;
}

static void forward_pool(const stdbp_hw_qlayer *l, const int64_t *in, int64_t window, int64_t *out)
{
    for (size_t j = 0; j < l->info.n_out; j++)
        out[j] = STDBP_QT_SILENT;
    for (size_t i = 0; i < l->info.n_in; i++) {
        int64_t t = in_step(in[i], window);
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
static void forward_weighted(const stdbp_hw_qlayer *l, const int64_t *in, int64_t window,
                             stdbp_qws *ws, int64_t *out)
{
    size_t n_out = l->info.n_out, nf = sort_inputs(in, l->info.n_in, window, ws);
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
        int64_t g = in_step(in[ws->order[pos]], window);
        size_t end = pos;
        while (end < nf && in_step(in[ws->order[end]], window) == g) {
            int32_t i = ws->order[end++];
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
        int64_t next = end < nf ? in_step(in[ws->order[end]], window) : STDBP_QT_SILENT;
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

const int64_t *stdbp_qnet_forward(const stdbp_qnet *q, stdbp_qws *ws, const int64_t *in_steps)
{
    const int64_t *in = in_steps;
    int64_t window = q->params.window;
    for (size_t i = 0; i < q->n_layers; i++) {
        const stdbp_hw_qlayer *l = &q->layers[i];
        if (l->info.kind == STDBP_LAYER_POOL)
            forward_pool(l, in, window, ws->steps[i]);
        else
            forward_weighted(l, in, window, ws, ws->steps[i]);
        in = ws->steps[i];
    }
    return in;
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

/* ---- accuracy ------------------------------------------------------- */

stdbp_status stdbp_quant_accuracy(const stdbp_net *net, const stdbp_dataset *ds,
                                  const stdbp_encoding *enc, const int *bits, size_t n_bits,
                                  int64_t time_steps, size_t n_samples, stdbp_quant_acc *out,
                                  stdbp_err *err)
{
    stdbp_encoding e = enc ? *enc : stdbp_encoding_defaults();
    stdbp_ws *fws = NULL;
    stdbp_qnet *q = NULL;
    stdbp_qws *qws = NULL;
    double *times = NULL;
    int64_t *steps = NULL;
    int *fdec = NULL;
    stdbp_status st = STDBP_OK;
    size_t n = (n_samples == 0 || n_samples > ds->n) ? ds->n : n_samples;
    size_t n_out = stdbp_net_output_size(net);

    if (ds->dim != stdbp_net_input_size(net))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "accuracy: %s has %zu values per sample, the network takes %zu",
                             ds->source, ds->dim, stdbp_net_input_size(net));
    times = malloc((ds->dim ? ds->dim : 1) * sizeof *times);
    steps = malloc((ds->dim ? ds->dim : 1) * sizeof *steps);
    fdec = malloc((n ? n : 1) * sizeof *fdec);
    if (!times || !steps || !fdec) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "accuracy: out of memory");
        goto done;
    }
    if ((st = stdbp_ws_create(net, &fws, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        stdbp_encode(&e, ds, i, times);
        fdec[i] = stdbp_decide_times(stdbp_net_forward(net, fws, times), n_out);
    }
    for (size_t b = 0; b < n_bits; b++) {
        stdbp_quant_params p = stdbp_quant_defaults();
        stdbp_quant_acc *a = &out[b];
        memset(a, 0, sizeof *a);
        a->bits = bits[b];
        p.bits = bits[b];
        p.time_steps = time_steps > 0 ? time_steps : p.time_steps;
        p.t_max = e.t_max;
        if ((st = stdbp_qnet_create(net, &p, &q, err)))
            goto done;
        if ((st = stdbp_qws_create(q, &qws, err)))
            goto done;
        for (size_t i = 0; i < n; i++) {
            stdbp_encode(&e, ds, i, times);
            stdbp_qnet_quantise_input(q, times, steps);
            int qd = stdbp_decide_steps(stdbp_qnet_forward(q, qws, steps), n_out);
            int label = ds->labels ? ds->labels[i] : -2;
            a->n++;
            a->float_correct += fdec[i] == label;
            a->quant_correct += qd == label;
            a->agree += qd == fdec[i];
            a->float_silent += fdec[i] < 0;
            a->quant_silent += qd < 0;
        }
        stdbp_qws_destroy(&qws);
        stdbp_qnet_destroy(&q);
    }
done:
    stdbp_qws_destroy(&qws);
    stdbp_qnet_destroy(&q);
    stdbp_ws_destroy(&fws);
    free(times);
    free(steps);
    free(fdec);
    return st;
}
