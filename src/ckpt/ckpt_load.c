/* Reading and verifying one checkpoint file on one rank (the serial HDF5
 * driver): its format and version, the layer descriptions, every dataset
 * against the shapes they promise (HDF5 checks Fletcher32 on the way),
 * the training state and config, then the digest. Not collective; the
 * collective read in ckpt_read.c runs it on rank 0. Layout:
 * docs/FORMAT.md. */
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

void stdbp_ckpt_data_free(ckpt_data *d)
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
stdbp_status stdbp_ckpt_open_file(const char *path, hid_t *out, stdbp_err *e)
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

stdbp_status stdbp_ckpt_peek(const char *path, uint64_t *step, uint64_t *format_version,
                             stdbp_err *e)
{
    char format[64];
    stdbp_status st = STDBP_OK;
    stdbp_h5_quiet quiet;
    hid_t f, g = H5I_INVALID_HID;
    htri_t has_train = 0, has_optim = 0;
    *step = 0;
    *format_version = 0;
    stdbp_h5_quiet_begin(&quiet);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        st = BAD("checkpoint %s: cannot be opened as HDF5", path);
    else if (stdbp_h5_attr_get_str(f, "format", format, sizeof format, NULL) != STDBP_OK ||
             strcmp(format, CKPT_FORMAT_NAME) != 0 ||
             stdbp_h5_attr_get_u64(f, "format_version", format_version, NULL) != STDBP_OK)
        st = BAD("checkpoint %s: not a stdbp checkpoint", path);
    else if (*format_version <= CKPT_FORMAT_VERSION) {
        has_train = H5Lexists(f, "train", H5P_DEFAULT);
        has_optim = has_train > 0 ? 0 : H5Lexists(f, "optimizer", H5P_DEFAULT);
        if (has_train < 0 || has_optim < 0)
            st = BAD("checkpoint %s: cannot read its step", path);
        else if (has_train || has_optim) {
            g = H5Gopen2(f, has_train ? "train" : "optimizer", H5P_DEFAULT);
            if (g < 0 ||
                stdbp_h5_attr_get_u64(g, has_train ? "step" : "steps", step, NULL) != STDBP_OK)
                st = BAD("checkpoint %s: cannot read its step", path);
        }
    }
    if (g >= 0)
        H5Gclose(g);
    if (f >= 0)
        H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
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
        if (st == STDBP_OK && !stdbp_ckpt_layer_size_ok(l))
            st = BAD("checkpoint %s: /model/%s: shapes in = [%d, %d, %d], out = [%d, %d, %d], "
                     "kernel %d are too large (more than 2^40 values in a shape or in the "
                     "weights)",
                     path, name, (int)l->in[0], (int)l->in[1], (int)l->in[2], (int)l->out[0],
                     (int)l->out[1], (int)l->out[2], (int)l->kernel);
        if (st == STDBP_OK && l->param_count) {
            int r = stdbp_ckpt_weight_dims(l, dims);
            uint64_t prod = 1;
            for (int k = 0; k < r; k++)
                prod *= dims[k]; /* no overflow: checked just above */
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

/* Are the values of dataset d (need bytes in memory, stored without
 * compression) in the file? The header alone may declare any shape, and
 * HDF5 reads a never-written dataset as its fill value: nothing is
 * allocated for a dataset before this holds. */
static stdbp_status check_stored(hid_t f, hid_t d, const char *path, const char *name,
                                 uint64_t need, stdbp_err *e)
{
    uint64_t stored = 0, fsize = 0;
    int done = stdbp_h5_dset_complete(f, d, need, &stored, &fsize);
    if (done < 0)
        return bad_h5(e, "checkpoint %s: cannot tell how much of %s is stored", path, name);
    if (!done)
        return BAD("checkpoint %s: dataset %s declares %" PRIu64
                   " bytes of values but the file (%" PRIu64
                   " bytes) holds only part of them (%" PRIu64
                   " bytes stored; the file is corrupt or truncated)",
                   path, name, need, fsize, stored);
    return STDBP_OK;
}

/* Read a whole dataset of class cls and the expected shape into *buf
 * (mtype, 8-byte values), allocating it (malloc) when *buf is NULL, once
 * the file is known to hold the values. Fletcher32 is checked by HDF5 on
 * the way. */
static stdbp_status read_dataset(hid_t f, const char *path, const char *name, H5T_class_t cls,
                                 hid_t mtype, int rank, const uint64_t *dims, void **buf,
                                 stdbp_err *e)
{
    uint64_t count = 1;
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
    for (int k = 0; k < rank; k++)
        count *= dims[k]; /* the callers' shapes are bounded: no overflow */
    if ((st = check_stored(f, d, path, name, count * 8, e)) != STDBP_OK)
        goto done;
    if (!*buf && !(*buf = malloc(count ? (size_t)count * 8 : 1))) {
        st = stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory for %s", path, name);
        goto done;
    }
    snprintf(what, sizeof what, "reading %s", name);
    if (H5Sget_simple_extent_npoints(s) > 0 &&
        H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) < 0)
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
        void *w = NULL;
        stdbp_ckpt_weight_name(i, l, wname, sizeof wname);
        snprintf(name, sizeof name, "/weights/%s", wname);
        st = read_dataset(f, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, r, dims, &w, e);
        d->weights[i] = w;
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
    void *state = NULL;
    stdbp_status st;
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
    dims[0] = (uint64_t)n;
    st =
        read_dataset(f, path, "/optimizer/state", H5T_FLOAT, H5T_NATIVE_DOUBLE, 1, dims, &state, e);
    d->state = state;
    return st;
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
    void *rng = t->rng.s;
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
    return read_dataset(f, path, "/train/rng", H5T_INTEGER, H5T_NATIVE_UINT64, 1, dims, &rng, e);
}

/* The YAML text of /config into a malloc'd NUL-terminated string. */
stdbp_status stdbp_ckpt_load_config(hid_t f, const char *path, char **out, size_t *len,
                                    stdbp_err *e)
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
    if ((st = check_stored(f, d, path, "/config", size, e)) != STDBP_OK)
        goto done;
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
stdbp_status stdbp_ckpt_load(const char *path, ckpt_data *d, stdbp_err *e)
{
    hid_t f = H5I_INVALID_HID;
    char stored[CKPT_DIGEST_LEN + 8], computed[CKPT_DIGEST_LEN];
    stdbp_status st;
    ckpt_payload p;
    memset(d, 0, sizeof *d);
    H5Eclear2(H5E_DEFAULT);
    st = stdbp_ckpt_open_file(path, &f, e);
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
        (st = stdbp_ckpt_load_config(f, path, &d->config, &d->config_len, e)) != STDBP_OK)
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
        stdbp_ckpt_data_free(d);
    return st;
}
