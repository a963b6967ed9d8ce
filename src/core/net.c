/* Building a network: layer checks, the parameter buffer, accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/net_impl.h"

stdbp_neuron_params stdbp_neuron_defaults(void)
{
    stdbp_neuron_params p = {1.0, INFINITY, 10.0, 3.0};
    return p;
}

static const stdbp_layer_ops *ops_of(stdbp_layer_kind kind)
{
    switch (kind) {
    case STDBP_LAYER_DENSE:
        return &stdbp_dense_ops;
    case STDBP_LAYER_CONV2D:
        return &stdbp_conv2d_ops;
    case STDBP_LAYER_POOL:
        return &stdbp_pool_ops;
    case STDBP_LAYER_FLATTEN:
        return &stdbp_flatten_ops;
    }
    return NULL;
}

stdbp_status stdbp_window_setup(const stdbp_layer_spec *spec, int default_stride,
                                stdbp_layer_info *info, int *oh, int *ow, stdbp_err *err)
{
    const int k = spec->kernel, p = spec->padding;
    const int s = spec->stride == 0 ? default_stride : spec->stride;
    const stdbp_shape in = info->in;
    if (k <= 0)
        return stdbp_err_set(err, STDBP_EINVAL, "kernel must be > 0 (got %d)", k);
    if (s <= 0)
        return stdbp_err_set(err, STDBP_EINVAL, "stride must be > 0, or 0 for the default (got %d)",
                             spec->stride);
    if (p < 0 || p >= k)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "padding %d must be in [0, kernel %d): wider padding only adds "
                             "outputs that see nothing but silence",
                             p, k);
    if (k > in.h + 2 * p || k > in.w + 2 * p)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "kernel %d is larger than the padded input %dx%d (input %dx%dx%d, "
                             "padding %d); use a smaller kernel or more padding",
                             k, in.h + 2 * p, in.w + 2 * p, in.c, in.h, in.w, p);
    info->kernel = k;
    info->stride = s;
    info->padding = p;
    *oh = (in.h + 2 * p - k) / s + 1;
    *ow = (in.w + 2 * p - k) / s + 1;
    return STDBP_OK;
}

static stdbp_status check_neuron(const stdbp_neuron_params *n, stdbp_err *err)
{
    if (!(n->theta > 0 && isfinite(n->theta)))
        return stdbp_err_set(err, STDBP_EINVAL, "neuron.theta must be finite and > 0 (got %g)",
                             n->theta);
    if (!(n->t_max > 0))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "neuron.t_max must be > 0, or infinite for no window (got %g)",
                             n->t_max);
    if (!(n->grad_clip > 0))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "neuron.grad_clip must be > 0, or infinite for none (got %g)",
                             n->grad_clip);
    if (!isfinite(n->silent_time))
        return stdbp_err_set(err, STDBP_EINVAL, "neuron.silent_time must be finite (got %g)",
                             n->silent_time);
    return STDBP_OK;
}

static int shape_ok(stdbp_shape s)
{
    return s.c > 0 && s.h > 0 && s.w > 0 &&
           (size_t)s.c * (size_t)s.h <= STDBP_LAYER_MAX_SIZE / (size_t)s.w;
}

stdbp_status stdbp_net_create(stdbp_shape input, const stdbp_layer_spec *specs, size_t n_layers,
                              const stdbp_neuron_params *neuron, stdbp_net **out, stdbp_err *err)
{
    stdbp_net *net = NULL;
    stdbp_status st = STDBP_OK;
    stdbp_shape cur = input;
    char desc[64];
    *out = NULL;
    if (!shape_ok(input))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "input shape %dx%dx%d: sizes must be > 0 and the total at most 2^30",
                             input.c, input.h, input.w);
    if (n_layers == 0 || !specs)
        return stdbp_err_set(err, STDBP_EINVAL, "a network needs at least one layer");
    if (!(net = calloc(1, sizeof *net)) || !(net->layers = calloc(n_layers, sizeof *net->layers))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory building a %zu-layer network",
                           n_layers);
        goto error;
    }
    net->input = input;
    net->neuron = neuron ? *neuron : stdbp_neuron_defaults();
    if ((st = check_neuron(&net->neuron, err)) != STDBP_OK)
        goto error;
    net->n_layers = n_layers;
    for (size_t i = 0; i < n_layers; i++) {
        stdbp_layer *L = &net->layers[i];
        if (!(L->ops = ops_of(specs[i].kind))) {
            st = stdbp_err_set(err, STDBP_EINVAL, "layer %zu: unknown layer kind %d", i,
                               (int)specs[i].kind);
            goto error;
        }
        L->info.kind = specs[i].kind;
        L->info.in = cur;
        if ((st = L->ops->setup(&specs[i], &L->info, err)) != STDBP_OK) {
            stdbp_err_prefix(err, "layer %zu (%s, input %dx%dx%d): ", i, L->ops->name, cur.c, cur.h,
                             cur.w);
            goto error;
        }
        if (!shape_ok(L->info.out)) {
            st = stdbp_err_set(err, STDBP_EINVAL, "layer %zu (%s): output %dx%dx%d is too large", i,
                               stdbp_layer_describe(&L->info, desc, sizeof desc), L->info.out.c,
                               L->info.out.h, L->info.out.w);
            goto error;
        }
        L->info.param_offset = net->n_params;
        net->n_params += L->info.param_count;
        cur = L->info.out;
    }
    /* 64-byte aligned: a weight row whose offset is a multiple of 8
     * doubles (every layer of the reference networks) then starts a cache
     * line, and the kernels' vector loads never straddle two (a straddling
     * AVX-512 row runs about 1.4 times slower). */
    if (net->n_params) {
        void *p = NULL;
        if (posix_memalign(&p, 64, net->n_params * sizeof *net->params) != 0) {
            st =
                stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %zu parameters", net->n_params);
            goto error;
        }
        net->params = memset(p, 0, net->n_params * sizeof *net->params);
        net->owns_params = 1;
    }
    *out = net;
    return STDBP_OK;
error:
    stdbp_net_destroy(&net);
    return st;
}

void stdbp_net_destroy(stdbp_net **net)
{
    if (!net || !*net)
        return;
    if ((*net)->owns_params)
        free((*net)->params);
    free((*net)->layers);
    free(*net);
    *net = NULL;
}

size_t stdbp_net_num_layers(const stdbp_net *net)
{
    return net->n_layers;
}

stdbp_layer_info stdbp_net_layer(const stdbp_net *net, size_t i)
{
    return net->layers[i].info;
}

const stdbp_neuron_params *stdbp_net_neuron(const stdbp_net *net)
{
    return &net->neuron;
}

size_t stdbp_net_input_size(const stdbp_net *net)
{
    return stdbp_shape_size(net->input);
}

size_t stdbp_net_output_size(const stdbp_net *net)
{
    return stdbp_shape_size(net->layers[net->n_layers - 1].info.out);
}

size_t stdbp_net_num_params(const stdbp_net *net)
{
    return net->n_params;
}

double *stdbp_net_params(stdbp_net *net)
{
    return net->params;
}

const double *stdbp_net_params_const(const stdbp_net *net)
{
    return net->params;
}

void stdbp_net_use_params(stdbp_net *net, double *buf)
{
    if (net->owns_params)
        free(net->params);
    net->params = buf;
    net->owns_params = 0;
}

const char *stdbp_layer_describe(const stdbp_layer_info *info, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    switch (info->kind) {
    case STDBP_LAYER_DENSE:
        snprintf(buf, len, "dense(%d)", info->out.c);
        break;
    case STDBP_LAYER_CONV2D:
        snprintf(buf, len, "conv2d(%d,k%d,s%d,p%d)", info->out.c, info->kernel, info->stride,
                 info->padding);
        break;
    case STDBP_LAYER_POOL:
        if (info->padding)
            snprintf(buf, len, "pool(k%d,s%d,p%d)", info->kernel, info->stride, info->padding);
        else
            snprintf(buf, len, "pool(k%d,s%d)", info->kernel, info->stride);
        break;
    case STDBP_LAYER_FLATTEN:
        snprintf(buf, len, "flatten");
        break;
    default:
        snprintf(buf, len, "unknown(%d)", (int)info->kind);
    }
    return buf;
}
