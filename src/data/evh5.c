/* Event data sets in HDF5: the own layout (stdbp_events_load) and the
 * Spiking Heidelberg Digits' layout (stdbp_shd_load); see
 * include/stdbp/data.h and docs/DATA.md. Each rank opens the file on its
 * own (serial driver); HDF5's error printing is off during the call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "data/events_impl.h"
#include "util/fsutil.h"
#include "util/h5util.h"

/* Open path (a regular file) as HDF5. */
static stdbp_status open_file(const char *path, const char *what, hid_t *fid, stdbp_err *err)
{
    char why[256];
    int fd;
    stdbp_status st;
    *fid = H5I_INVALID_HID;
    if (strlen(path) >= sizeof(((stdbp_dataset *)0)->source))
        return stdbp_err_set(err, STDBP_EINVAL, "%s: path too long (%zu bytes): %s", what,
                             strlen(path), path);
    if ((st = stdbp_open_regular(path, &fd, err)) != STDBP_OK)
        return st;
    close(fd);
    *fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*fid < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: not a readable HDF5 file (%s)", path,
                             stdbp_h5_error(why, sizeof why));
    return STDBP_OK;
}

/* /name: a 1-D dataset of the type class cls; its length into *len. */
static stdbp_status open_1d(hid_t fid, const char *path, const char *name, H5T_class_t cls,
                            const char *layout, hid_t *dset, hid_t *tid, size_t *len,
                            stdbp_err *err)
{
    char why[256];
    hsize_t dims[2] = {0, 0};
    *dset = *tid = H5I_INVALID_HID;
    htri_t there = H5Lexists(fid, name, H5P_DEFAULT);
    if (there <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: no dataset %s (%s: see docs/DATA.md)", path,
                             name, layout);
    }
    if ((*dset = H5Dopen2(fid, name, H5P_DEFAULT)) < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: %s is not a readable dataset (%s)", path,
                             name, stdbp_h5_error(why, sizeof why));
    if ((*tid = H5Dget_type(*dset)) < 0 || H5Tget_class(*tid) != cls)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: %s has the wrong type: expected %s", path,
                             name,
                             cls == H5T_FLOAT     ? "a float type"
                             : cls == H5T_INTEGER ? "an integer type"
                                                  : "variable-length arrays");
    hid_t sid = H5Dget_space(*dset);
    int rank = sid < 0 ? -1 : H5Sget_simple_extent_ndims(sid);
    if (rank != 1 || H5Sget_simple_extent_dims(sid, dims, NULL) < 0) {
        if (sid >= 0)
            H5Sclose(sid);
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: %s must be one-dimensional (has %d dimensions)", path, name,
                             rank);
    }
    H5Sclose(sid);
    if (dims[0] > (hsize_t)1 << 40)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: %s has %llu values: too many", path, name,
                             (unsigned long long)dims[0]);
    *len = (size_t)dims[0];
    return STDBP_OK;
}

/* The values of a dataset must be in the file before anything is
 * allocated for them (a header may declare any size). */
static stdbp_status check_stored(hid_t fid, hid_t dset, const char *path, const char *name,
                                 size_t need, stdbp_err *err)
{
    uint64_t stored = 0, fsize = 0;
    int done = stdbp_h5_dset_complete(fid, dset, need, &stored, &fsize);
    H5Eclear2(H5E_DEFAULT);
    if (done <= 0)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: %s declares %zu bytes of values but %s (%llu bytes stored, in a "
                             "file of %llu): a partial or damaged file?",
                             path, name, need,
                             done < 0 ? "cannot tell how much is stored" : "not all are written",
                             (unsigned long long)stored, (unsigned long long)fsize);
    return STDBP_OK;
}

/* Read all of a 1-D dataset as mem_type (elem bytes each) into a new buffer. */
static stdbp_status read_all(hid_t fid, hid_t dset, hid_t tid, hid_t mem_type, size_t len,
                             size_t elem, const char *path, const char *name, void **out,
                             stdbp_err *err)
{
    char why[256];
    stdbp_status st = check_stored(fid, dset, path, name, len * H5Tget_size(tid), err);
    *out = NULL;
    if (st != STDBP_OK)
        return st;
    if (!(*out = malloc(len ? len * elem : 1)))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %s (%zu values)", path, name,
                             len);
    if (len && H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        free(*out);
        *out = NULL;
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot read %s (%s)", path, name,
                             stdbp_h5_error(why, sizeof why));
    }
    return STDBP_OK;
}

static void close_ids(hid_t *dset, hid_t *tid)
{
    if (*tid >= 0)
        H5Tclose(*tid);
    if (*dset >= 0)
        H5Dclose(*dset);
    *dset = *tid = H5I_INVALID_HID;
}

/* /labels (or name): n integers in [0, STDBP_DATA_MAX_CLASSES). */
static stdbp_status load_labels(hid_t fid, const char *path, const char *name, const char *layout,
                                size_t n, stdbp_dataset *out, stdbp_err *err)
{
    hid_t dset, tid;
    size_t len;
    long long *tmp = NULL;
    stdbp_status st = open_1d(fid, path, name, H5T_INTEGER, layout, &dset, &tid, &len, err);
    if (st == STDBP_OK && len != n)
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: %s has %zu values for %zu samples", path, name,
                           len, n);
    if (st == STDBP_OK && H5Tget_sign(tid) == H5T_SGN_NONE && H5Tget_size(tid) >= 8)
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: %s: 64-bit unsigned labels are not supported",
                           path, name);
    if (st == STDBP_OK)
        st = read_all(fid, dset, tid, H5T_NATIVE_LLONG, n, sizeof *tmp, path, name, (void **)&tmp,
                      err);
    if (st == STDBP_OK && !(out->labels = malloc((n ? n : 1) * sizeof *out->labels)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %s", path, name);
    for (size_t i = 0; st == STDBP_OK && i < n; i++) {
        if (tmp[i] < 0 || tmp[i] >= STDBP_DATA_MAX_CLASSES)
            st = stdbp_err_set(err, STDBP_ERANGE, "%s: %s[%zu] is %lld: labels must lie in [0, %d)",
                               path, name, i, tmp[i], STDBP_DATA_MAX_CLASSES);
        else
            out->labels[i] = (int32_t)tmp[i];
    }
    free(tmp);
    close_ids(&dset, &tid);
    return st;
}

#define OWN_LAYOUT "the layout is /times, /units, /offsets, /labels and the root attribute shape"

/* The root attribute shape: 1 or 3 positive integers. */
static stdbp_status load_shape(hid_t fid, const char *path, stdbp_dataset *out, stdbp_err *err)
{
    long long v[3] = {0, 0, 0};
    hsize_t dims[2] = {0, 0};
    hid_t aid = H5I_INVALID_HID, sid = H5I_INVALID_HID, tid = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    int rank = -1;
    if (H5Aexists(fid, "shape") <= 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: no attribute shape on the root group (%s)",
                           path, OWN_LAYOUT);
        goto done;
    }
    if ((aid = H5Aopen(fid, "shape", H5P_DEFAULT)) < 0 || (sid = H5Aget_space(aid)) < 0 ||
        (tid = H5Aget_type(aid)) < 0 || H5Tget_class(tid) != H5T_INTEGER ||
        (rank = H5Sget_simple_extent_ndims(sid)) > 1 ||
        (rank == 1 && H5Sget_simple_extent_dims(sid, dims, NULL) < 0) ||
        !(rank == 1 && (dims[0] == 1 || dims[0] == 3)) || H5Aread(aid, H5T_NATIVE_LLONG, v) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: the root attribute shape must be 1 or 3 integers ((D) or (C, H, "
                           "W))",
                           path);
        goto done;
    }
    if (dims[0] == 1) {
        v[1] = 1;
        v[2] = 1;
    }
    for (int k = 0; k < 3; k++)
        if (v[k] < 1 || v[k] > 1 << 20) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: shape value %d is %lld: expected 1 .. 2^20",
                               path, k, v[k]);
            goto done;
        }
    if ((unsigned long long)v[0] * (unsigned long long)v[1] * (unsigned long long)v[2] >
        (1ull << 30)) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: shape %lldx%lldx%lld has over 2^30 channels",
                           path, v[0], v[1], v[2]);
        goto done;
    }
    out->shape = (stdbp_shape){(int)v[0], (int)v[1], (int)v[2]};
    out->dim = (size_t)v[0] * (size_t)v[1] * (size_t)v[2];
done:
    if (tid >= 0)
        H5Tclose(tid);
    if (sid >= 0)
        H5Sclose(sid);
    if (aid >= 0)
        H5Aclose(aid);
    return st;
}

static stdbp_status own_load(hid_t fid, const char *path, stdbp_dataset *out, stdbp_err *err)
{
    hid_t dset = H5I_INVALID_HID, tid = H5I_INVALID_HID;
    size_t n_off, n_t, n_u;
    unsigned long long *units = NULL;
    stdbp_status st;
    char where[160];
    if ((st = load_shape(fid, path, out, err)) != STDBP_OK)
        return st;
    if ((st = open_1d(fid, path, "/offsets", H5T_INTEGER, OWN_LAYOUT, &dset, &tid, &n_off, err)) ==
            STDBP_OK &&
        n_off == 0)
        st =
            stdbp_err_set(err, STDBP_EFORMAT, "%s: /offsets is empty: it needs N + 1 values", path);
    if (st == STDBP_OK)
        st = read_all(fid, dset, tid, H5T_NATIVE_INT64, n_off, sizeof(int64_t), path, "/offsets",
                      (void **)&out->ev_off, err);
    close_ids(&dset, &tid);
    if (st != STDBP_OK)
        return st;
    out->n = n_off - 1;
    if ((st = open_1d(fid, path, "/times", H5T_FLOAT, OWN_LAYOUT, &dset, &tid, &n_t, err)) ==
        STDBP_OK)
        st = read_all(fid, dset, tid, H5T_NATIVE_DOUBLE, n_t, sizeof(double), path, "/times",
                      (void **)&out->ev_t, err);
    close_ids(&dset, &tid);
    if (st != STDBP_OK)
        return st;
    if ((st = open_1d(fid, path, "/units", H5T_INTEGER, OWN_LAYOUT, &dset, &tid, &n_u, err)) ==
            STDBP_OK &&
        n_u != n_t)
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /units has %zu values but /times has %zu", path,
                           n_u, n_t);
    if (st == STDBP_OK)
        st = read_all(fid, dset, tid, H5T_NATIVE_ULLONG, n_u, sizeof *units, path, "/units",
                      (void **)&units, err);
    if (st == STDBP_OK && H5Tget_sign(tid) != H5T_SGN_NONE) /* negative would wrap: refuse */
        for (size_t k = 0; k < n_u && st == STDBP_OK; k++)
            if (units[k] >= ((unsigned long long)1 << 62))
                st = stdbp_err_set(err, STDBP_ERANGE, "%s: /units[%zu] is negative", path, k);
    close_ids(&dset, &tid);
    if (st == STDBP_OK && !(out->ev_ch = malloc((n_u ? n_u : 1) * sizeof *out->ev_ch)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for /units", path);
    for (size_t k = 0; st == STDBP_OK && k < n_t; k++) {
        snprintf(where, sizeof where, "/times[%zu], /units[%zu]", k, k);
        st = stdbp_event_check(out->ev_t[k], units[k], out->dim, path, where, err);
        if (st == STDBP_OK)
            out->ev_ch[k] = (uint32_t)units[k];
    }
    free(units);
    if (st != STDBP_OK)
        return st;
    if (out->ev_off[0] != 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: /offsets[0] is %lld, expected 0", path,
                             (long long)out->ev_off[0]);
    for (size_t i = 0; i < out->n; i++)
        if (out->ev_off[i + 1] < out->ev_off[i] || out->ev_off[i + 1] > (int64_t)n_t)
            return stdbp_err_set(err, STDBP_EFORMAT,
                                 "%s: /offsets[%zu] is %lld after %lld: offsets must be "
                                 "non-decreasing and at most the %zu events of /times",
                                 path, i + 1, (long long)out->ev_off[i + 1],
                                 (long long)out->ev_off[i], n_t);
    if (out->ev_off[out->n] != (int64_t)n_t)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: /offsets ends at %lld but /times has %zu events", path,
                             (long long)out->ev_off[out->n], n_t);
    return load_labels(fid, path, "/labels", OWN_LAYOUT, out->n, out, err);
}

#define SHD_LAYOUT "the SHD layout is /spikes/times, /spikes/units and /labels"

/* /spikes/NAME: n variable-length arrays read as vlen of mem_base. */
static stdbp_status read_vlen(hid_t fid, const char *path, const char *name, H5T_class_t base_cls,
                              hid_t mem_base, size_t *n, hvl_t **out, stdbp_err *err)
{
    hid_t dset, tid, mt = H5I_INVALID_HID;
    char why[256];
    *out = NULL;
    stdbp_status st = open_1d(fid, path, name, H5T_VLEN, SHD_LAYOUT, &dset, &tid, n, err);
    if (st == STDBP_OK) {
        hid_t super = H5Tget_super(tid);
        const int ok = super >= 0 && H5Tget_class(super) == base_cls;
        if (super >= 0)
            H5Tclose(super);
        if (!ok)
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: %s must hold variable-length arrays of %s",
                               path, name, base_cls == H5T_FLOAT ? "floats" : "integers");
    }
    if (st == STDBP_OK)
        st = check_stored(fid, dset, path, name, *n * 16, err); /* 16 bytes per reference */
    if (st == STDBP_OK && !(*out = calloc(*n ? *n : 1, sizeof **out)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %s", path, name);
    if (st == STDBP_OK) {
        mt = H5Tvlen_create(mem_base);
        if (*n && H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
            st = stdbp_err_set(err, STDBP_EIO, "%s: cannot read %s (%s)", path, name,
                               stdbp_h5_error(why, sizeof why));
            free(*out);
            *out = NULL;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    close_ids(&dset, &tid);
    return st;
}

static void free_vlen(hvl_t *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].p); /* the default vlen allocator is malloc */
    free(v);
}

static stdbp_status shd_load(hid_t fid, const char *path, stdbp_dataset *out, stdbp_err *err)
{
    hvl_t *vt = NULL, *vu = NULL;
    size_t nt = 0, nu = 0, total = 0;
    char where[160];
    stdbp_status st;
    if (H5Lexists(fid, "spikes", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: no group /spikes (%s)", path, SHD_LAYOUT);
    }
    out->shape = (stdbp_shape){STDBP_SHD_CHANNELS, 1, 1};
    out->dim = STDBP_SHD_CHANNELS;
    if ((st = read_vlen(fid, path, "/spikes/times", H5T_FLOAT, H5T_NATIVE_DOUBLE, &nt, &vt, err)) !=
        STDBP_OK)
        goto done;
    if ((st = read_vlen(fid, path, "/spikes/units", H5T_INTEGER, H5T_NATIVE_LLONG, &nu, &vu,
                        err)) != STDBP_OK)
        goto done;
    if (nu != nt) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: /spikes/units has %zu samples, /spikes/times %zu", path, nu, nt);
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        if (vt[i].len != vu[i].len) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: sample %zu has %zu times but %zu units",
                               path, i, vt[i].len, vu[i].len);
            goto done;
        }
        total += vt[i].len;
    }
    out->n = nt;
    out->ev_off = malloc((nt + 1) * sizeof *out->ev_off);
    out->ev_t = malloc((total ? total : 1) * sizeof *out->ev_t);
    out->ev_ch = malloc((total ? total : 1) * sizeof *out->ev_ch);
    if (!out->ev_off || !out->ev_t || !out->ev_ch) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu events", path, total);
        goto done;
    }
    size_t k = 0;
    out->ev_off[0] = 0;
    for (size_t i = 0; i < nt; i++) {
        const double *t = vt[i].p;
        const long long *u = vu[i].p;
        for (size_t j = 0; j < vt[i].len; j++, k++) {
            snprintf(where, sizeof where, "/spikes/times[%zu][%zu], /spikes/units[%zu][%zu]", i, j,
                     i, j);
            if (u[j] < 0) {
                st = stdbp_err_set(err, STDBP_ERANGE, "%s: %s: channel %lld is negative", path,
                                   where, u[j]);
                goto done;
            }
            if ((st = stdbp_event_check(t[j], (uint64_t)u[j], out->dim, path, where, err)) !=
                STDBP_OK)
                goto done;
            out->ev_t[k] = t[j];
            out->ev_ch[k] = (uint32_t)u[j];
        }
        out->ev_off[i + 1] = (int64_t)k;
    }
    st = load_labels(fid, path, "/labels", SHD_LAYOUT, nt, out, err);
done:
    free_vlen(vt, nt);
    free_vlen(vu, nu);
    return st;
}

static stdbp_status load(const char *path, int shd, stdbp_dataset *out, stdbp_err *err)
{
    stdbp_h5_quiet q;
    hid_t fid;
    memset(out, 0, sizeof *out);
    stdbp_h5_quiet_begin(&q);
    stdbp_status st = open_file(path, shd ? "shd" : "events", &fid, err);
    if (st == STDBP_OK)
        st = shd ? shd_load(fid, path, out, err) : own_load(fid, path, out, err);
    if (st == STDBP_OK)
        st = stdbp_events_finish(out, path, err);
    if (fid >= 0)
        H5Fclose(fid);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&q);
    if (st != STDBP_OK)
        stdbp_dataset_free(out);
    return st;
}

stdbp_status stdbp_events_load(const char *path, stdbp_dataset *out, stdbp_err *err)
{
    return load(path, 0, out, err);
}

stdbp_status stdbp_shd_load(const char *path, stdbp_dataset *out, stdbp_err *err)
{
    return load(path, 1, out, err);
}
