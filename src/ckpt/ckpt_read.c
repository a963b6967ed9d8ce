/* Reading and verifying checkpoints; finding the newest good one.
 *
 * Strategy: rank 0 reads the file alone (serial HDF5 driver), verifies it
 * completely (format, layout, Fletcher32 on every dataset, the digest),
 * checks it against the caller's net and optimiser, and only then
 * broadcasts the contents. The other ranks touch no file: one reader
 * instead of P on a shared file system, and a corrupt file fails in one
 * place. The status is agreed (stdbp_dist_agree) before any broadcast, so on
 * error every rank returns the same code and message and none is left in
 * a collective. On error the net, optimiser and state are untouched. */
#include "ckpt/ckpt_impl.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/h5util.h"
#include "util/log.h"

/* A checkpoint in memory, as read and verified by ckpt_load. */
typedef struct ckpt_data {
    char stdbp_version[64];
    uint64_t format_version;
    size_t n_layers;
    ckpt_layer *layers;
    double **weights; /* per layer; NULL when the layer has none */
    int has_optim;
    char optim_kind[32];
    uint64_t optim_steps;
    size_t state_size;
    double *state;
    int has_train;
    int has_progress; /* /train has epoch_loss, ..., wall_seconds */
    stdbp_train_state st;
    char *config; /* NUL-terminated */
    size_t config_len;
} ckpt_data;

static void data_free(ckpt_data *d)
{
    if (d->weights)
        for (size_t i = 0; i < d->n_layers; i++)
            free(d->weights[i]);
    free(d->weights);
    free(d->layers);
    free(d->state);
    free(d->config);
    memset(d, 0, sizeof *d);
}

/* Error helpers: every message names the file. */
#define BAD(...) stdbp_err_set(e, STDBP_EFORMAT, __VA_ARGS__)

static stdbp_status h5_bad(stdbp_err *e, const char *path, const char *what)
{
    char detail[512];
    stdbp_h5_error(detail, sizeof detail);
    return stdbp_err_set(e, STDBP_EFORMAT,
                         "checkpoint %s: %s failed: %s (the file is corrupt or truncated)", path,
                         what, detail);
}

/* A malformed-file error; if HDF5 reported something (a failed checksum
 * on metadata, say), its most specific message is added. */
static stdbp_status bad_h5(stdbp_err *e, const char *fmt, ...) STDBP_PRINTF(2, 3);
static stdbp_status bad_h5(stdbp_err *e, const char *fmt, ...)
{
    char msg[STDBP_ERR_MSG_MAX], detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (H5Eget_num(H5E_DEFAULT) > 0)
        return stdbp_err_set(e, STDBP_EFORMAT, "%s (HDF5: %s; the file is corrupt)", msg,
                             stdbp_h5_error(detail, sizeof detail));
    return stdbp_err_set(e, STDBP_EFORMAT, "%s", msg);
}

/* An h5util call failed and left its message in e: name the file. */
static stdbp_status h5util_bad(stdbp_err *e, const char *path)
{
    return stdbp_err_prefix(e, "checkpoint %s: ", path);
}

/* STDBP_OK if name exists under loc; otherwise "checkpoint PATH: <missing>"
 * or, when HDF5 failed, its message. */
static stdbp_status need(hid_t loc, const char *name, const char *path, const char *missing,
                         stdbp_err *e)
{
    int ex;
    if (stdbp_h5_exists(loc, name, &ex, e) != STDBP_OK)
        return h5util_bad(e, path);
    return ex ? STDBP_OK : BAD("checkpoint %s: %s", path, missing);
}

/* Open for reading, with a clear message for a missing, empty, non-HDF5 or
 * truncated file. Not collective (the default, serial driver). */
static stdbp_status open_file(const char *path, hid_t *out, stdbp_err *e)
{
    struct stat sb;
    htri_t is;
    hid_t f;
    char format[64];
    uint64_t version;
    *out = H5I_INVALID_HID;
    if (stat(path, &sb) != 0)
        return stdbp_err_set(e, STDBP_EIO, "checkpoint %s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return stdbp_err_set(e, STDBP_EIO, "checkpoint %s: not a regular file", path);
    is = H5Fis_hdf5(path);
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return BAD("checkpoint %s: not an HDF5 file (%lld bytes, no HDF5 signature)", path,
                   (long long)sb.st_size);
    }
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5_bad(e, path, "opening it with HDF5");
    is = H5Aexists(f, "format");
    if (is < 0) {
        stdbp_status st = h5_bad(e, path, "reading the root group");
        H5Fclose(f);
        return st;
    }
    if (is == 0 || stdbp_h5_attr_get_str(f, "format", format, sizeof format, e) != STDBP_OK ||
        strcmp(format, CKPT_FORMAT_NAME) != 0) {
        H5Fclose(f);
        H5Eclear2(H5E_DEFAULT);
        return BAD("checkpoint %s: an HDF5 file but not a stdbp checkpoint (no attribute "
                   "format = \"%s\")",
                   path, CKPT_FORMAT_NAME);
    }
    if (stdbp_h5_attr_get_u64(f, "format_version", &version, e) != STDBP_OK) {
        H5Fclose(f);
        H5Eclear2(H5E_DEFAULT);
        return h5util_bad(e, path);
    }
    if (version < 1 || version > CKPT_FORMAT_VERSION) {
        H5Fclose(f);
        return BAD("checkpoint %s: format version %" PRIu64
                   " but this stdbp reads version %d; use the stdbp that wrote it or a newer one",
                   path, version, CKPT_FORMAT_VERSION);
    }
    *out = f;
    return STDBP_OK;
}

static stdbp_status load_model(hid_t f, const char *path, ckpt_data *d, stdbp_err *e)
{
    hid_t g = H5I_INVALID_HID;
    uint64_t n;
    stdbp_status st = STDBP_OK;
    if ((st = need(f, "/model", path, "no /model group", e)) != STDBP_OK)
        return st;
    g = H5Gopen2(f, "/model", H5P_DEFAULT);
    if (g < 0)
        return h5_bad(e, path, "opening /model");
    if (stdbp_h5_attr_get_u64(g, "n_layers", &n, e) != STDBP_OK) {
        st = h5util_bad(e, path);
        goto done;
    }
    if (n > CKPT_MAX_LAYERS) {
        st = BAD("checkpoint %s: /model has no valid n_layers attribute", path);
        goto done;
    }
    d->n_layers = (size_t)n;
    d->layers = calloc(n ? n : 1, sizeof *d->layers);
    d->weights = calloc(n ? n : 1, sizeof *d->weights);
    if (!d->layers || !d->weights) {
        st = stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n && st == STDBP_OK; i++) {
        ckpt_layer *l = &d->layers[i];
        char name[32], kind[32], missing[64];
        hid_t lg;
        uint64_t dims[4];
        snprintf(name, sizeof name, "layer%02zu", i);
        snprintf(missing, sizeof missing, "/model/%s is missing", name);
        if ((st = need(g, name, path, missing, e)) != STDBP_OK)
            break;
        lg = H5Gopen2(g, name, H5P_DEFAULT);
        if (lg < 0) {
            st = h5_bad(e, path, "opening a layer group under /model");
            break;
        }
        if (stdbp_h5_attr_get_str(lg, "kind", kind, sizeof kind, e) != STDBP_OK ||
            stdbp_h5_attr_get_i32v(lg, "in", l->in, 3, e) != STDBP_OK ||
            stdbp_h5_attr_get_i32v(lg, "out", l->out, 3, e) != STDBP_OK ||
            stdbp_h5_attr_get_i32(lg, "kernel", &l->kernel, e) != STDBP_OK ||
            stdbp_h5_attr_get_i32(lg, "stride", &l->stride, e) != STDBP_OK ||
            stdbp_h5_attr_get_i32(lg, "padding", &l->padding, e) != STDBP_OK ||
            stdbp_h5_attr_get_u64(lg, "param_count", &l->param_count, e) != STDBP_OK)
            st = h5util_bad(e, path);
        else if ((l->kind = stdbp_ckpt_kind_parse(kind)) < 0)
            st = BAD("checkpoint %s: /model/%s: unknown layer kind \"%s\"", path, name, kind);
        H5Gclose(lg);
        if (st != STDBP_OK)
            break;
        for (int k = 0; k < 3; k++)
            if (l->in[k] <= 0 || l->out[k] <= 0)
                st = BAD("checkpoint %s: /model/%s: a shape is not positive", path, name);
        if (st == STDBP_OK && l->param_count) {
            int r = stdbp_ckpt_weight_dims(l, dims);
            uint64_t prod = 1;
            for (int k = 0; k < r; k++)
                prod *= dims[k];
            if (prod != l->param_count || l->param_count > ((uint64_t)1 << 40))
                st = BAD("checkpoint %s: /model/%s: param_count %" PRIu64
                         " does not match its shapes",
                         path, name, l->param_count);
        }
    }
done:
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Read a whole dataset of class cls and the expected shape into buf
 * (mtype). Fletcher32 is checked by HDF5 on the way. */
static stdbp_status read_dataset(hid_t f, const char *path, const char *name, H5T_class_t cls,
                                 hid_t mtype, int rank, const uint64_t *dims, void *buf,
                                 stdbp_err *e)
{
    hid_t d = H5I_INVALID_HID, t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    hsize_t got[H5S_MAX_RANK];
    stdbp_status st = STDBP_OK;
    int r;
    char what[160];
    snprintf(what, sizeof what, "dataset %s is missing", name);
    if ((st = need(f, name, path, what, e)) != STDBP_OK)
        return st;
    snprintf(what, sizeof what, "opening %s", name);
    d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return h5_bad(e, path, what);
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (t < 0 || s < 0) {
        st = h5_bad(e, path, "reading a dataset's type and shape");
        goto done;
    }
    r = H5Sget_simple_extent_ndims(s);
    if (H5Tget_class(t) != cls || (cls == H5T_FLOAT && H5Tget_size(t) != 8) ||
        (cls == H5T_INTEGER && H5Tget_size(t) != 8)) {
        st = BAD("checkpoint %s: dataset %s has an unexpected type", path, name);
        goto done;
    }
    if (r != rank || H5Sget_simple_extent_dims(s, got, NULL) != rank) {
        st =
            BAD("checkpoint %s: dataset %s has %d dimensions, /model says %d", path, name, r, rank);
        goto done;
    }
    for (int k = 0; k < rank; k++)
        if (got[k] != dims[k]) {
            st = BAD("checkpoint %s: dataset %s: dimension %d is %llu, /model says %" PRIu64, path,
                     name, k, (unsigned long long)got[k], dims[k]);
            goto done;
        }
    snprintf(what, sizeof what, "reading %s", name);
    if (H5Sget_simple_extent_npoints(s) > 0 &&
        H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        st = h5_bad(e, path, what);
done:
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

static stdbp_status load_weights(hid_t f, const char *path, ckpt_data *d, stdbp_err *e)
{
    for (size_t i = 0; i < d->n_layers; i++) {
        const ckpt_layer *l = &d->layers[i];
        uint64_t dims[4];
        char name[96], wname[64];
        stdbp_status st;
        int r = stdbp_ckpt_weight_dims(l, dims);
        if (!r)
            continue;
        d->weights[i] = malloc((size_t)l->param_count * sizeof(double));
        if (!d->weights[i])
            return stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory for layer %zu",
                                 path, i);
        stdbp_ckpt_weight_name(i, l, wname, sizeof wname);
        snprintf(name, sizeof name, "/weights/%s", wname);
        st = read_dataset(f, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, r, dims, d->weights[i], e);
        if (st != STDBP_OK)
            return st;
    }
    return STDBP_OK;
}

/* Size (elements) of a 1-D dataset, or -1. */
static long long dataset_len(hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s;
    long long n = -1;
    hsize_t dim;
    if (d < 0)
        return -1;
    s = H5Dget_space(d);
    if (s >= 0 && H5Sget_simple_extent_ndims(s) == 1 &&
        H5Sget_simple_extent_dims(s, &dim, NULL) == 1)
        n = (long long)dim;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return n;
}

static stdbp_status load_optimizer(hid_t f, const char *path, ckpt_data *d, stdbp_err *e)
{
    hid_t g;
    long long n;
    uint64_t dims[1];
    int bad, ex;
    if (stdbp_h5_exists(f, "/optimizer", &ex, e) != STDBP_OK)
        return h5util_bad(e, path);
    if (!ex)
        return STDBP_OK; /* weights only */
    d->has_optim = 1;
    g = H5Gopen2(f, "/optimizer", H5P_DEFAULT);
    if (g < 0)
        return h5_bad(e, path, "opening /optimizer");
    bad = stdbp_h5_attr_get_str(g, "kind", d->optim_kind, sizeof d->optim_kind, e) != STDBP_OK ||
          stdbp_h5_attr_get_u64(g, "steps", &d->optim_steps, e) != STDBP_OK;
    H5Gclose(g);
    if (bad)
        return h5util_bad(e, path);
    if (stdbp_h5_exists(f, "/optimizer/state", &ex, e) != STDBP_OK)
        return h5util_bad(e, path);
    n = ex ? dataset_len(f, "/optimizer/state") : -1;
    H5Eclear2(H5E_DEFAULT);
    if (n < 0 || (unsigned long long)n > ((unsigned long long)1 << 41))
        return bad_h5(e, "checkpoint %s: /optimizer/state is missing or not one-dimensional", path);
    d->state_size = (size_t)n;
    d->state = malloc((d->state_size ? d->state_size : 1) * sizeof(double));
    if (!d->state)
        return stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory", path);
    dims[0] = (uint64_t)n;
    return read_dataset(f, path, "/optimizer/state", H5T_FLOAT, H5T_NATIVE_DOUBLE, 1, dims,
                        d->state, e);
}

/* The progress attributes of /train, added after format 1 was first
 * written: all four or (an older file) none, which read as 0. Which of
 * the two also decides whether the digest covers them. */
static const char *const progress_attrs[4] = {"epoch_loss", "epoch_correct", "epoch_samples",
                                              "wall_seconds"};

static stdbp_status load_progress(hid_t g, const char *path, ckpt_data *d, stdbp_err *e)
{
    stdbp_train_state *t = &d->st;
    int have[4], n = 0;
    for (int i = 0; i < 4; i++) {
        htri_t ex = H5Aexists(g, progress_attrs[i]);
        if (ex < 0)
            return h5_bad(e, path, "reading the attributes of /train");
        have[i] = ex > 0;
        n += have[i];
    }
    if (n == 0)
        return STDBP_OK; /* written before they existed */
    for (int i = 0; i < 4; i++)
        if (!have[i])
            return BAD("checkpoint %s: /train has %d of the attributes epoch_loss, "
                       "epoch_correct, epoch_samples, wall_seconds but not %s (all or none)",
                       path, n, progress_attrs[i]);
    if (stdbp_h5_attr_get_i64(g, "epoch_loss", &t->epoch_loss, e) != STDBP_OK ||
        stdbp_h5_attr_get_i64(g, "epoch_correct", &t->epoch_correct, e) != STDBP_OK ||
        stdbp_h5_attr_get_i64(g, "epoch_samples", &t->epoch_samples, e) != STDBP_OK ||
        stdbp_h5_attr_get_f64(g, "wall_seconds", &t->wall_seconds, e) != STDBP_OK)
        return h5util_bad(e, path);
    d->has_progress = 1;
    return STDBP_OK;
}

static stdbp_status load_train(hid_t f, const char *path, ckpt_data *d, stdbp_err *e)
{
    hid_t g;
    int bad, ex;
    stdbp_status st;
    stdbp_train_state *t = &d->st;
    uint64_t dims[1] = {4};
    if (stdbp_h5_exists(f, "/train", &ex, e) != STDBP_OK)
        return h5util_bad(e, path);
    if (!ex)
        return STDBP_OK;
    d->has_train = 1;
    g = H5Gopen2(f, "/train", H5P_DEFAULT);
    if (g < 0)
        return h5_bad(e, path, "opening /train");
    bad = stdbp_h5_attr_get_u64(g, "step", &t->step, e) != STDBP_OK ||
          stdbp_h5_attr_get_u64(g, "epoch", &t->epoch, e) != STDBP_OK ||
          stdbp_h5_attr_get_u64(g, "batch", &t->batch, e) != STDBP_OK ||
          stdbp_h5_attr_get_u64(g, "seed", &t->seed, e) != STDBP_OK ||
          stdbp_h5_attr_get_f64(g, "best_val_acc", &t->best_val_acc, e) != STDBP_OK ||
          stdbp_h5_attr_get_u64(g, "best_epoch", &t->best_epoch, e) != STDBP_OK;
    if (bad) {
        H5Gclose(g);
        return h5util_bad(e, path);
    }
    st = load_progress(g, path, d, e);
    H5Gclose(g);
    if (st != STDBP_OK)
        return st;
    return read_dataset(f, path, "/train/rng", H5T_INTEGER, H5T_NATIVE_UINT64, 1, dims, t->rng.s,
                        e);
}

/* The YAML text of /config into a malloc'd NUL-terminated string. */
static stdbp_status load_config(hid_t f, const char *path, char **out, size_t *len, stdbp_err *e)
{
    hid_t d = H5I_INVALID_HID, t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    hsize_t dim;
    size_t size;
    char *buf = NULL;
    stdbp_status st = STDBP_OK;
    *out = NULL;
    *len = 0;
    if ((st = need(f, "/config", path, "no /config dataset", e)) != STDBP_OK)
        return st;
    d = H5Dopen2(f, "/config", H5P_DEFAULT);
    if (d < 0)
        return h5_bad(e, path, "opening /config");
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (t < 0 || s < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) != 0 ||
        H5Sget_simple_extent_ndims(s) != 1 || H5Sget_simple_extent_dims(s, &dim, NULL) != 1 ||
        dim != 1) {
        st = BAD("checkpoint %s: /config is not one fixed-length string", path);
        goto done;
    }
    size = H5Tget_size(t);
    buf = malloc(size + 1);
    mt = H5Tcopy(t);
    if (!buf || mt < 0) {
        st = stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory", path);
        goto done;
    }
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = h5_bad(e, path, "reading /config");
        goto done;
    }
    buf[size] = '\0';
    *len = strlen(buf);
    *out = buf;
    buf = NULL;
done:
    free(buf);
    if (mt >= 0)
        H5Tclose(mt);
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Not collective: read and verify everything in path into d. */
static stdbp_status ckpt_load(const char *path, ckpt_data *d, stdbp_err *e)
{
    hid_t f = H5I_INVALID_HID;
    char stored[CKPT_DIGEST_LEN + 8], computed[CKPT_DIGEST_LEN];
    stdbp_status st;
    ckpt_payload p;
    memset(d, 0, sizeof *d);
    H5Eclear2(H5E_DEFAULT);
    st = open_file(path, &f, e);
    if (st != STDBP_OK)
        return st;
    if (stdbp_h5_attr_get_str(f, "stdbp_version", d->stdbp_version, sizeof d->stdbp_version,
                              NULL) != STDBP_OK)
        snprintf(d->stdbp_version, sizeof d->stdbp_version, "unknown");
    if (stdbp_h5_attr_get_str(f, "digest", stored, sizeof stored, e) != STDBP_OK) {
        st = stdbp_err_prefix(e, "checkpoint %s: no digest (the write did not finish): ", path);
        goto done;
    }
    if ((st = load_model(f, path, d, e)) != STDBP_OK ||
        (st = load_weights(f, path, d, e)) != STDBP_OK ||
        (st = load_optimizer(f, path, d, e)) != STDBP_OK ||
        (st = load_train(f, path, d, e)) != STDBP_OK ||
        (st = load_config(f, path, &d->config, &d->config_len, e)) != STDBP_OK)
        goto done;
    memset(&p, 0, sizeof p);
    p.n_layers = d->n_layers;
    p.layers = d->layers;
    p.weights = (const double *const *)d->weights;
    p.has_optim = d->has_optim;
    p.state = d->state;
    p.state_size = d->state_size;
    p.optim_steps = d->optim_steps;
    p.has_train = d->has_train;
    p.has_progress = d->has_progress;
    p.st = &d->st;
    p.config = d->config;
    p.config_len = d->config_len;
    stdbp_ckpt_digest(&p, computed);
    if (strcmp(stored, computed) != 0)
        st = BAD("checkpoint %s: digest mismatch (stored %s, computed %s): the contents changed "
                 "after it was written",
                 path, stored, computed);
done:
    if (H5Fclose(f) < 0 && st == STDBP_OK)
        st = h5_bad(e, path, "closing");
    H5Eclear2(H5E_DEFAULT);
    if (st != STDBP_OK)
        data_free(d);
    return st;
}

/* Rank 0: does the checkpoint fit the caller's net and optimiser? */
static stdbp_status check_fit(const char *path, const ckpt_data *d, const stdbp_net *net,
                              const stdbp_optim *opt, stdbp_err *e)
{
    size_t n = stdbp_net_num_layers(net), common = n < d->n_layers ? n : d->n_layers;
    char a[160], b[160];
    for (size_t i = 0; i < common; i++) {
        stdbp_layer_info info = stdbp_net_layer(net, i);
        ckpt_layer mine;
        stdbp_ckpt_layer_from_info(&mine, &info);
        if (!stdbp_ckpt_layer_equal(&mine, &d->layers[i]))
            return stdbp_err_set(e, STDBP_ECONFIG,
                                 "checkpoint %s: layer %zu is %s but the config builds %s", path, i,
                                 stdbp_ckpt_layer_describe(&d->layers[i], a, sizeof a),
                                 stdbp_ckpt_layer_describe(&mine, b, sizeof b));
    }
    if (n != d->n_layers)
        return stdbp_err_set(e, STDBP_ECONFIG,
                             "checkpoint %s has %zu layers but the config builds %zu", path,
                             d->n_layers, n);
    if (opt) {
        size_t want = stdbp_optim_state_size(opt);
        if (!d->has_optim)
            return stdbp_err_set(e, STDBP_ECONFIG,
                                 "checkpoint %s holds no optimiser state (weights only); load it "
                                 "without an optimiser",
                                 path);
        if (d->state_size != want)
            return stdbp_err_set(
                e, STDBP_ECONFIG,
                "checkpoint %s: the optimiser state has %zu values (%s) but the configured "
                "optimiser has %zu (%s); use the optimizer the run was started with",
                path, d->state_size, d->optim_kind, want,
                stdbp_ckpt_optim_kind(want, stdbp_net_num_params(net)));
    }
    return STDBP_OK;
}

stdbp_status stdbp_ckpt_read(MPI_Comm comm, const char *path, stdbp_net *net, stdbp_optim *opt,
                             stdbp_train_state *st, char **config_yaml, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    ckpt_data d;
    stdbp_status s = STDBP_OK, mine = STDBP_OK;
    int rank;
    uint64_t n_params, sizes[3] = {0, 0, 0}; /* state size, config length, has_train */
    uint64_t lo[2], hi[2], mine2[2];
    uint64_t train[15];
    char *cfg = NULL;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    memset(&d, 0, sizeof d);
    MPI_Comm_rank(comm, &rank);
    if (config_yaml)
        *config_yaml = NULL;
    if (!path || !net)
        mine = stdbp_err_set(e, STDBP_EINVAL, "stdbp_ckpt_read: path and net are required");
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;
    /* Every rank must hold the same net and optimiser sizes. */
    n_params = stdbp_net_num_params(net);
    mine2[0] = n_params;
    mine2[1] = opt ? stdbp_optim_state_size(opt) : UINT64_MAX;
    MPI_Allreduce(mine2, lo, 2, MPI_UINT64_T, MPI_MIN, comm);
    MPI_Allreduce(mine2, hi, 2, MPI_UINT64_T, MPI_MAX, comm);
    if (lo[0] != hi[0] || lo[1] != hi[1])
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "loading checkpoint %s: the ranks hold different networks or "
                             "optimisers; every rank must hold the same model",
                             path);
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;

    if (rank == 0) {
        mine = ckpt_load(path, &d, e);
        if (mine == STDBP_OK)
            mine = check_fit(path, &d, net, opt, e);
    }
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;

    /* Everything checked: fill rank 0's objects, then broadcast. */
    if (rank == 0) {
        double *params = stdbp_net_params(net);
        for (size_t i = 0; i < d.n_layers; i++)
            if (d.weights[i]) {
                stdbp_layer_info info = stdbp_net_layer(net, i);
                memcpy(params + info.param_offset, d.weights[i],
                       (size_t)d.layers[i].param_count * sizeof(double));
            }
        sizes[0] = d.state_size;
        sizes[1] = d.config_len;
        sizes[2] = (uint64_t)d.has_train;
        train[0] = d.st.step, train[1] = d.st.epoch, train[2] = d.st.batch;
        train[3] = d.st.seed;
        memcpy(&train[4], d.st.rng.s, sizeof d.st.rng.s);
        train[8] = d.st.best_epoch;
        memcpy(&train[9], &d.st.best_val_acc, sizeof(double));
        train[10] = d.optim_steps;
        /* 0 when the file predates them (d is zeroed before loading). */
        memcpy(&train[11], &d.st.epoch_loss, sizeof(int64_t));
        memcpy(&train[12], &d.st.epoch_correct, sizeof(int64_t));
        memcpy(&train[13], &d.st.epoch_samples, sizeof(int64_t));
        memcpy(&train[14], &d.st.wall_seconds, sizeof(double));
    }
    /* collective */
    MPI_Bcast(sizes, 3, MPI_UINT64_T, 0, comm);
    MPI_Bcast(train, 15, MPI_UINT64_T, 0, comm);
    stdbp_dist_bcast_bytes(comm, stdbp_net_params(net), n_params * sizeof(double), 0);
    if (opt) {
        double *state = stdbp_optim_state(opt);
        if (rank == 0)
            memcpy(state, d.state, d.state_size * sizeof(double));
        stdbp_dist_bcast_bytes(comm, state, (size_t)sizes[0] * sizeof(double), 0);
        stdbp_optim_set_steps(opt, train[10]);
    }
    if (st && sizes[2]) {
        st->step = train[0], st->epoch = train[1], st->batch = train[2], st->seed = train[3];
        memcpy(st->rng.s, &train[4], sizeof st->rng.s);
        st->best_epoch = train[8];
        memcpy(&st->best_val_acc, &train[9], sizeof(double));
        memcpy(&st->epoch_loss, &train[11], sizeof(int64_t));
        memcpy(&st->epoch_correct, &train[12], sizeof(int64_t));
        memcpy(&st->epoch_samples, &train[13], sizeof(int64_t));
        memcpy(&st->wall_seconds, &train[14], sizeof(double));
    } else if (st) {
        memset(st, 0, sizeof *st); /* a weights-only checkpoint: start over */
    }
    if (!config_yaml)
        goto done;
    /* Collective: the config text (allocated everywhere, agreed). */
    if (rank == 0) {
        cfg = d.config;
        d.config = NULL;
    }
    s = stdbp_dist_bcast_string(comm, 0, &cfg, e);
    if (s != STDBP_OK) {
        stdbp_err_prefix(e, "loading checkpoint %s: ", path);
        goto done;
    }
    *config_yaml = cfg;
    cfg = NULL;
done:
    free(cfg);
    data_free(&d);
    stdbp_h5_quiet_end(&quiet);
    return s;
}

stdbp_status stdbp_ckpt_find_latest(MPI_Comm comm, const char *run_dir, char *path, size_t path_len,
                                    stdbp_err *err)
{
    stdbp_err local, why;
    stdbp_err *e = err ? err : &local;
    stdbp_status s, mine = STDBP_OK;
    char dir[CKPT_PATH_MAX];
    char found[CKPT_PATH_MAX];
    int rank;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    MPI_Comm_rank(comm, &rank);
    found[0] = '\0';
    if (!run_dir || !path || path_len == 0)
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_ckpt_find_latest: run_dir and path are "
                             "required");
    else if ((size_t)snprintf(dir, sizeof dir, "%s/%s", run_dir, CKPT_DIR) >= sizeof dir)
        mine = stdbp_err_set(e, STDBP_EINVAL, "run directory path too long: %s", run_dir);
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;
    if (rank == 0) {
        char **list = NULL;
        size_t n = 0;
        mine = stdbp_ckpt_list(dir, &list, &n, e);
        if (mine == STDBP_OK) {
            for (size_t i = 0; i < n && !found[0]; i++) {
                ckpt_data d;
                stdbp_err_clear(&why);
                if (ckpt_load(list[i], &d, &why) == STDBP_OK) {
                    snprintf(found, sizeof found, "%s", list[i]);
                    data_free(&d);
                } else {
                    stdbp_log(STDBP_LOG_WARNING, "skipping checkpoint: %s", why.msg);
                }
            }
            if (found[0] && strlen(found) >= path_len)
                mine =
                    stdbp_err_set(e, STDBP_EINVAL, "checkpoint path %s does not fit in %zu bytes",
                                  found, path_len);
        }
        stdbp_ckpt_list_free(list, n);
    }
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;
    MPI_Bcast(found, (int)sizeof found, MPI_CHAR, 0, comm);
    snprintf(path, path_len, "%s", found);
done:
    stdbp_h5_quiet_end(&quiet);
    return s;
}

stdbp_status stdbp_ckpt_read_config(const char *path, char **config_yaml, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    hid_t f = H5I_INVALID_HID;
    size_t len;
    stdbp_status s;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    if (!path || !config_yaml)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_ckpt_read_config: path and config_yaml "
                             "are required");
    *config_yaml = NULL;
    stdbp_h5_quiet_begin(&quiet);
    s = open_file(path, &f, e);
    if (s == STDBP_OK) {
        s = load_config(f, path, config_yaml, &len, e);
        H5Fclose(f);
    }
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return s;
}
