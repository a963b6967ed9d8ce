/* Flatten: (C, H, W) -> (C*H*W, 1, 1). Activations are channel-major
 * already, so this is a copy; it keeps every layer's times in its own
 * buffer (simpler bookkeeping than aliasing, and 1-2 KB per sample). */
#include <string.h>

#include "core/layer.h"

static stdbp_status flatten_setup(const stdbp_layer_spec *spec, stdbp_layer_info *info,
                                  stdbp_err *err)
{
    (void)spec;
    (void)err;
    info->out = (stdbp_shape){(int)stdbp_shape_size(info->in), 1, 1};
    return STDBP_OK;
}

static size_t flatten_scratch_size(const stdbp_layer_info *info)
{
    (void)info;
    return 0;
}

static uint64_t flatten_forward(const stdbp_layer_run *run, const double *in, double *out)
{
    memcpy(out, in, stdbp_shape_size(run->info->in) * sizeof *out);
    return 0;
}

static int flatten_backward(const stdbp_layer_run *run, const double *out, const double *dl_dout,
                            double *dl_din, int64_t *grad, int surrogate)
{
    (void)out;
    (void)grad;
    (void)surrogate;
    if (dl_din)
        memcpy(dl_din, dl_dout, stdbp_shape_size(run->info->in) * sizeof *dl_din);
    return 0;
}

static void flatten_causal(const stdbp_layer_run *run, double *out)
{
    const size_t n = stdbp_shape_size(run->info->out);
    for (size_t i = 0; i < n; i++)
        out[i] = -1.0;
}

const stdbp_layer_ops stdbp_flatten_ops = {"flatten",
                                           flatten_setup,
                                           flatten_scratch_size,
                                           flatten_forward,
                                           flatten_backward,
                                           flatten_causal,
                                           NULL,
                                           NULL};
