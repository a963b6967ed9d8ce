/* Cross-field checks of a complete configuration (after every --set):
 * the layers fit the input, the output fits the classes, the splits fit
 * the data set. Shape arithmetic is done here, the same as net.c's, so
 * that a bad network is refused before any rank allocates it. */
#include "config/config_impl.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define MAX_PARAMS 1e9           /* 8 GB of doubles per copy: surely a mistake */
#define MAX_NEURONS 1073741824.0 /* 2^30 per layer, as net.c */

static stdbp_status bad(const stdbp_config *cfg, stdbp_err *err, const char *path, const char *fmt,
                        ...) STDBP_PRINTF(4, 5);
static stdbp_status bad(const stdbp_config *cfg, stdbp_err *err, const char *path, const char *fmt,
                        ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return stdbp_err_set(err, STDBP_ECONFIG, "%s: %s: %s",
                         cfg->source[0] ? cfg->source : "(config)", path, what);
}

/* What is known of a named data set without opening it. */
typedef struct known_set {
    int known;
    long n_train, n_test;
    stdbp_shape shape;
    int n_classes;
} known_set;

static known_set known(const char *name)
{
    known_set k = {0, 0, 0, {0, 0, 0}, 0};
    if (strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0) {
        k.known = 1;
        k.n_train = 60000;
        k.n_test = 10000;
        k.shape.c = 1;
        k.shape.h = 28;
        k.shape.w = 28;
        k.n_classes = 10;
    }
    return k;
}

static stdbp_status check_data(const stdbp_config *cfg, stdbp_err *err)
{
    known_set tr = known(cfg->data.train), te = known(cfg->data.test);
    long n = tr.known ? tr.n_train : -1, n_test = te.known ? te.n_test : -1;
    if (tr.known && cfg->data.n_train > tr.n_train)
        return bad(cfg, err, "data.train_samples", "%s has %ld training images, asked for %ld",
                   cfg->data.train, tr.n_train, cfg->data.n_train);
    if (te.known && cfg->data.n_test > te.n_test)
        return bad(cfg, err, "data.test_samples", "%s has %ld test images, asked for %ld",
                   cfg->data.test, te.n_test, cfg->data.n_test);
    if (cfg->data.n_train > 0)
        n = cfg->data.n_train;
    if (cfg->data.n_test > 0)
        n_test = cfg->data.n_test;
    if (n >= 0 && cfg->data.n_val >= n)
        return bad(cfg, err, "data.val_samples",
                   "%ld validation images leave none of the %ld training images to train on",
                   cfg->data.n_val, n);
    if (n_test >= 0 && cfg->spikes.samples > n_test)
        return bad(cfg, err, "spikes.samples", "%ld is more than the %ld test images",
                   cfg->spikes.samples, n_test);
    if (n_test >= 0 && cfg->deploy.enabled && cfg->deploy.samples > n_test)
        return bad(cfg, err, "deploy.samples", "%ld is more than the %ld test images",
                   cfg->deploy.samples, n_test);
    if (tr.known && te.known &&
        (tr.shape.c != te.shape.c || tr.shape.h != te.shape.h || tr.shape.w != te.shape.w))
        return bad(cfg, err, "data.test", "images differ in shape from data.train's");
    return STDBP_OK;
}

/* Walk the layers over the input shape, as stdbp_net_create will. */
static stdbp_status check_layers(const stdbp_config *cfg, stdbp_err *err)
{
    const stdbp_shape given = cfg->network.input;
    known_set ds = known(cfg->data.train);
    stdbp_shape s;
    double params = 0;
    size_t i, n = cfg->network.n_layers;
    char path[64];
    int have_shape = given.c > 0 || ds.known;

    if (given.c > 0 && ds.known &&
        (given.c != ds.shape.c || given.h != ds.shape.h || given.w != ds.shape.w))
        return bad(cfg, err, "network.input",
                   "[%d, %d, %d] does not match %s images [%d, %d, %d] (or leave it null)", given.c,
                   given.h, given.w, cfg->data.train, ds.shape.c, ds.shape.h, ds.shape.w);
    s = given.c > 0 ? given : ds.shape;

    if (cfg->network.layers[n - 1].kind != STDBP_LAYER_DENSE) {
        snprintf(path, sizeof path, "network.layers[%zu]", n - 1);
        return bad(cfg, err, path,
                   "the last layer must be dense (its neurons are the classes), not %s",
                   stdbp_cfg_layer_kinds[cfg->network.layers[n - 1].kind]);
    }
    if (ds.known && cfg->network.layers[n - 1].out < ds.n_classes) {
        snprintf(path, sizeof path, "network.layers[%zu].out", n - 1);
        return bad(cfg, err, path, "%d outputs for the %d classes of %s",
                   cfg->network.layers[n - 1].out, ds.n_classes, cfg->data.train);
    }
    if (!have_shape)
        return STDBP_OK; /* hdf5 data without network.input: net.c checks */

    for (i = 0; i < n; i++) {
        const stdbp_layer_spec *l = &cfg->network.layers[i];
        double in = (double)s.c * s.h * s.w;
        int k = l->kernel, st = l->stride, p = l->padding;
        snprintf(path, sizeof path, "network.layers[%zu]", i);
        switch (l->kind) {
        case STDBP_LAYER_DENSE:
            params += in * l->out;
            s.c = l->out;
            s.h = s.w = 1;
            break;
        case STDBP_LAYER_CONV2D:
        case STDBP_LAYER_POOL:
            if (l->kind == STDBP_LAYER_POOL) {
                p = 0;
                st = st ? st : k;
            } else {
                st = st ? st : 1;
            }
            if (p >= k)
                return bad(cfg, err, path,
                           "padding %d must be less than the kernel %d (wider padding only "
                           "adds outputs that see nothing but silence)",
                           p, k);
            if (s.h + 2 * p < k || s.w + 2 * p < k)
                return bad(cfg, err, path,
                           "%s window %dx%d does not fit its input %dx%dx%d (C x H x W)%s",
                           stdbp_cfg_layer_kinds[l->kind], k, k, s.c, s.h, s.w,
                           p ? " even with the padding" : "");
            if (l->kind == STDBP_LAYER_CONV2D) {
                params += (double)s.c * k * k * l->out;
                s.c = l->out;
            }
            s.h = (s.h + 2 * p - k) / st + 1;
            s.w = (s.w + 2 * p - k) / st + 1;
            break;
        case STDBP_LAYER_FLATTEN:
            if (in > MAX_NEURONS)
                return bad(cfg, err, path, "%.0f values do not fit one vector", in);
            s.c = (int)in;
            s.h = s.w = 1;
            break;
        }
        if ((double)s.c * s.h * s.w > MAX_NEURONS)
            return bad(cfg, err, path, "output of %dx%dx%d neurons is too large", s.c, s.h, s.w);
        if (params > MAX_PARAMS)
            return bad(cfg, err, path, "the network reaches %.3g weights here (limit %.0g)", params,
                       MAX_PARAMS);
    }
    return STDBP_OK;
}

/* The last layer against what evaluation takes (after the walk over the
 * layers, so that its messages come first). */
static stdbp_status check_outputs(const stdbp_config *cfg, stdbp_err *err)
{
    size_t n = cfg->network.n_layers;
    char path[64];
    if (cfg->network.layers[n - 1].out <= STDBP_CFG_MAX_OUTPUTS)
        return STDBP_OK;
    snprintf(path, sizeof path, "network.layers[%zu].out", n - 1);
    return bad(cfg, err, path,
               "%d outputs: the last layer (one neuron per class) takes [1, %d] outputs",
               cfg->network.layers[n - 1].out, STDBP_CFG_MAX_OUTPUTS);
}

/* deploy.time_steps against the window the quantiser will derive from it
 * (as hw/quant.c does): T steps over encoding.t_max, the neuron window
 * network.t_max in steps, or (weighted layers + 1) x T without a window;
 * the window must be at least 1 step and at most STDBP_CFG_MAX_WINDOW. */
static stdbp_status check_deploy(const stdbp_config *cfg, stdbp_err *err)
{
    const double T = (double)cfg->deploy.time_steps, et = cfg->encoding.t_max;
    const double nt = cfg->network.neuron.t_max;
    size_t n_weighted = 0;
    if (!cfg->deploy.enabled || !(et > 0) || !isfinite(et))
        return STDBP_OK;
    for (size_t i = 0; i < cfg->network.n_layers; i++)
        n_weighted += cfg->network.layers[i].kind == STDBP_LAYER_DENSE ||
                      cfg->network.layers[i].kind == STDBP_LAYER_CONV2D;
    if (isfinite(nt)) {
        double w = floor(nt * T / et + 1e-9);
        double lo = ceil(et / nt - 1e-9), hi = floor(STDBP_CFG_MAX_WINDOW * et / nt);
        if (lo < 1)
            lo = 1;
        if (hi > 16777216.0) /* deploy.time_steps's own limit */
            hi = 16777216.0;
        if (lo > hi)
            return bad(cfg, err, "deploy.time_steps",
                       "no number of steps fits: network.t_max = %g is shorter than one step "
                       "even at 16777216 steps over encoding.t_max = %g (raise network.t_max, "
                       "or set deploy.enabled: false)",
                       nt, et);
        if (w < 1.0 || w > STDBP_CFG_MAX_WINDOW)
            return bad(cfg, err, "deploy.time_steps",
                       "%ld steps over encoding.t_max = %g make the neuron window "
                       "(network.t_max = %g) %.0f steps, outside [1, %.0f]: the allowed range "
                       "with these settings is [%.0f, %.0f]",
                       cfg->deploy.time_steps, et, nt, w, STDBP_CFG_MAX_WINDOW, lo, hi);
    } else {
        double w = (double)(n_weighted + 1) * T;
        if (w > STDBP_CFG_MAX_WINDOW)
            return bad(cfg, err, "deploy.time_steps",
                       "%ld steps make the accelerator's window (%zu weighted layers + 1) x %ld "
                       "= %.0f steps, above %.0f: the allowed range with this network is [1, "
                       "%.0f] (or set network.t_max)",
                       cfg->deploy.time_steps, n_weighted, cfg->deploy.time_steps, w,
                       STDBP_CFG_MAX_WINDOW,
                       floor(STDBP_CFG_MAX_WINDOW / (double)(n_weighted + 1)));
    }
    return STDBP_OK;
}

stdbp_status stdbp_config_validate(const stdbp_config *cfg, stdbp_err *err)
{
    size_t i;
    stdbp_status st;
    size_t env_len = stdbp_cfg_data_env_too_long(cfg);
    if (env_len) /* never cut short, nor "data" in its place */
        return bad(cfg, err, "data.dir",
                   "its default, $STDBP_DATA, is %zu bytes long, more than the %zu that data.dir "
                   "holds: set data.dir (in the config, or --set data.dir=DIR) or STDBP_DATA to "
                   "a shorter path (e.g. a symbolic link to the directory)",
                   env_len, sizeof cfg->data.dir - 1);
    /* Every per-key rule again: cfg may have been changed by code. */
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        st = stdbp_cfg_check_value(cfg, k, (const char *)cfg + k->offset, k->path, NULL, err);
        if (st)
            return st;
    }
    st = check_data(cfg, err);
    if (!st)
        st = check_layers(cfg, err);
    if (!st)
        st = check_outputs(cfg, err);
    if (!st)
        st = check_deploy(cfg, err);
    if (st)
        return st;
    if ((cfg->optim.kind == STDBP_OPTIM_SGD || cfg->optim.kind == STDBP_OPTIM_LARS) &&
        cfg->optim.nesterov && cfg->optim.momentum <= 0)
        return bad(cfg, err, "optimizer.nesterov", "needs optimizer.momentum > 0");
    if (cfg->optim.lr_scaling != STDBP_LR_SCALE_NONE && !(cfg->optim.lr_base_batch > 0))
        return bad(cfg, err, "optimizer.lr_base_batch",
                   "must be set (> 0) with optimizer.lr_scaling: the global batch at which "
                   "optimizer.lr holds, e.g. 128");
    const double lr = stdbp_optim_scaled_lr(&cfg->optim, cfg->train.batch);
    if (!(lr < INFINITY))
        return bad(cfg, err, "optimizer.lr_scaling", "gives a learning rate of %g", lr);
    if (cfg->schedule.kind == STDBP_SCHED_COSINE && cfg->schedule.min_lr > lr)
        return bad(cfg, err, "schedule.min_lr", "%g is above optimizer.lr (%g%s)",
                   cfg->schedule.min_lr, lr,
                   cfg->optim.lr_scaling != STDBP_LR_SCALE_NONE ? ", scaled" : "");
    if (cfg->schedule.warmup_epochs > 0 && cfg->schedule.warmup_steps > 0)
        return bad(cfg, err, "schedule.warmup_steps",
                   "and schedule.warmup_epochs are both set: set one of them");
    if (cfg->schedule.warmup_epochs > (double)cfg->train.epochs)
        return bad(cfg, err, "schedule.warmup_epochs",
                   "%g epochs of warm-up is longer than the run (train.epochs %ld)",
                   cfg->schedule.warmup_epochs, cfg->train.epochs);
    return STDBP_OK;
}
