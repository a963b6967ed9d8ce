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

static uint64_t pool_forward(const stdbp_layer_run *run, const double *in, double *out)
{
    const stdbp_layer_info *L = run->info;
    const int k = L->kernel, st = L->stride, pad = L->padding;
    const int H = L->in.h, W = L->in.w, OH = L->out.h, OW = L->out.w;
    int32_t *arg = run->scratch;
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
                if (k == 2 && yb - ya == 2 && xb - xa == 2) { /* the usual 2x2, unrolled */
                    const int32_t i0 = ya * W + xa;
                    pool_take(ic[i0], i0, &best, &a);
                    pool_take(ic[i0 + 1], i0 + 1, &best, &a);
                    pool_take(ic[i0 + W], i0 + W, &best, &a);
                    pool_take(ic[i0 + W + 1], i0 + W + 1, &best, &a);
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
