/* Spike pooling: each output is the earliest spike in its window (the max
 * of -t). The gradient goes to that input; ties go to the first in window
 * order (row-major), which is the one the forward keeps. */
#include <math.h>

#include "core/layer.h"

static stdbp_status pool_setup(const stdbp_layer_spec *spec, stdbp_layer_info *info, stdbp_err *err)
{
    int oh, ow;
    stdbp_status st = stdbp_window_setup(spec, spec->kernel, info, &oh, &ow, err);
    if (st != STDBP_OK)
        return st;
    info->out = (stdbp_shape){info->in.c, oh, ow};
    return STDBP_OK;
}

static size_t pool_scratch_size(const stdbp_layer_info *info)
{
    return stdbp_shape_size(info->out) * sizeof(int32_t);
}

/* One input of a window: keep it if it is earlier than the best so far
 * (ties keep the first; -inf never fires). */
static inline void pool_take(double v, int32_t idx, double *best, int32_t *a)
{
    const int take = (v < *best) & (v > -INFINITY);
    *best = take ? v : *best;
    *a = take ? idx : *a;
}

/* The 2x2 window as a tree: the earlier of each row's pair, then of the
 * two, ties to the first, so the same input wins as with pool_take in
 * window order. A key of +inf (silent, or -inf / NaN, which pool_take
 * never takes) means no spike. Two compare-and-selects deep instead of
 * four in a chain. */
static inline double pool_key(double v)
{
    return v > -INFINITY ? v : INFINITY;
}

static inline void pool_pick(double v0, int32_t i0, double v1, int32_t i1, double *v, int32_t *i)
{
    const int second = v1 < v0;
    *v = second ? v1 : v0;
    *i = second ? i1 : i0;
}

static inline void pool_2x2(const double *ic, int32_t i0, int W, double *best, int32_t *a)
{
    double top, bottom;
    int32_t it, ib;
    pool_pick(pool_key(ic[i0]), i0, pool_key(ic[i0 + 1]), i0 + 1, &top, &it);
    pool_pick(pool_key(ic[i0 + W]), i0 + W, pool_key(ic[i0 + W + 1]), i0 + W + 1, &bottom, &ib);
    pool_pick(top, it, bottom, ib, best, a);
    *a = *best < INFINITY ? *a : -1;
}

/* The usual pool (2x2, stride 2, no padding): every window lies inside
 * the input, so nothing is clipped and no per-window bounds are needed. */
static void pool_forward_2x2s2(const stdbp_layer_info *L, const double *in, double *out,
                               int32_t *arg)
{
    const int H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w;
    for (int c = 0; c < L->in.c; c++) {
        const double *ic = in + (size_t)c * H * W;
        const int32_t base = (int32_t)((size_t)c * H * W);
        for (int oy = 0; oy < OH; oy++) {
            double *orow = out + ((size_t)c * OH + oy) * OW;
            int32_t *arow = arg + ((size_t)c * OH + oy) * OW;
            for (int ox = 0; ox < OW; ox++) {
                int32_t a;
                pool_2x2(ic, 2 * oy * W + 2 * ox, W, &orow[ox], &a); /* +inf when silent */
                arow[ox] = a >= 0 ? base + a : -1;
            }
        }
    }
}

static uint64_t pool_forward(const stdbp_layer_run *run, const double *in, double *out)
{
    const stdbp_layer_info *L = run->info;
    const int k = L->kernel, st = L->stride, pad = L->padding;
    const int H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w;
    int32_t *arg = run->scratch;
    if (k == 2 && st == 2 && pad == 0) {
        pool_forward_2x2s2(L, in, out, arg);
        return 0;
    }
    for (int c = 0; c < L->in.c; c++) {
        const double *ic = in + (size_t)c * H * W;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                /* the window clipped to the input (padding is silent) */
                const int y0 = oy * st - pad, x0 = ox * st - pad;
                const int ya = y0 < 0 ? 0 : y0, yb = y0 + k < H ? y0 + k : H;
                const int xa = x0 < 0 ? 0 : x0, xb = x0 + k < W ? x0 + k : W;
                double best = INFINITY;
                int32_t a = -1;
                if (k == 2 && yb - ya == 2 && xb - xa == 2) { /* the usual 2x2 */
                    pool_2x2(ic, ya * W + xa, W, &best, &a);
                } else {
                    for (int iy = ya; iy < yb; iy++)
                        for (int ix = xa; ix < xb; ix++)
                            pool_take(ic[iy * W + ix], iy * W + ix, &best, &a);
                }
                const size_t o = ((size_t)c * OH + oy) * OW + ox;
                out[o] = a >= 0 ? best : INFINITY;
                arg[o] = a >= 0 ? (int32_t)((size_t)c * H * W + (size_t)a) : -1;
            }
    }
    return 0;
}

static int pool_backward(const stdbp_layer_run *run, const double *out, const double *dl_dout,
                         double *dl_din, int64_t *grad, int surrogate)
{
    const int32_t *arg = run->scratch;
    const size_t n = stdbp_shape_size(run->info->out);
    (void)out;
    (void)grad;
    (void)surrogate; /* a silent pool output has no input to push */
    if (dl_din)
        for (size_t o = 0; o < n; o++)
            if (arg[o] >= 0)
                dl_din[arg[o]] += dl_dout[o];
    return 0;
}

static void pool_causal(const stdbp_layer_run *run, double *out)
{
    const int32_t *arg = run->scratch;
    const size_t n = stdbp_shape_size(run->info->out);
    for (size_t o = 0; o < n; o++)
        out[o] = arg[o];
}

const stdbp_layer_ops stdbp_pool_ops = {
    "pool", pool_setup, pool_scratch_size, pool_forward, pool_backward, pool_causal, NULL, NULL};
