/* Datasets in the simple HDF5 layout of include/stdbp/data.h:
 *   /images  uint8 or float32; N x C x H x W, N x H x W or N x D
 *   /labels  any integer type; N (or N x 1) values in [0, n_classes)
 *
 * Each rank opens the file on its own with the default (serial) driver.
 * HDF5's own error-stack printing is switched off while we work; the
 * innermost HDF5 message is folded into ours instead. */
#include "stdbp/data.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "data/idx_impl.h" /* stdbp_data_poll_stop */
#include "util/fsutil.h"
#include "util/h5util.h"

/* Read all n rows (the first dimension) of dset into buf as mem_type
 * (row_elems elements of elem_size bytes per row), in hyperslabs of about
 * STDBP_DATA_LOAD_CHUNK bytes, asking the stop check (data.h) before
 * each: a signal during a long load ends it within a chunk. A failed
 * read is an error naming /name. */
static stdbp_status read_rows(hid_t dset, hid_t mem_type, size_t n, size_t row_elems,
                              size_t elem_size, void *buf, const char *path, const char *name,
                              stdbp_err *err)
{
    hsize_t start[4] = {0, 0, 0, 0}, count[4];
    hsize_t rows = STDBP_DATA_LOAD_CHUNK / (row_elems * elem_size);
    hid_t fspace = H5Dget_space(dset), mspace = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    char why[256];
    int rank = fspace < 0 ? -1 : H5Sget_simple_extent_ndims(fspace);
    if (rank < 1 || rank > 4 || H5Sget_simple_extent_dims(fspace, count, NULL) < 0) {
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot read the shape of /%s (%s)", path, name,
                           stdbp_h5_error(why, sizeof why));
        goto done;
    }
    if (rows == 0)
        rows = 1;
    for (size_t i = 0; i < n; i += (size_t)count[0]) {
        if ((st = stdbp_data_poll_stop(path, err)) != STDBP_OK)
            goto done;
        start[0] = (hsize_t)i;
        count[0] = n - i < rows ? (hsize_t)(n - i) : rows;
        hsize_t m = count[0] * (hsize_t)row_elems;
        if (mspace >= 0)
            H5Sclose(mspace);
        mspace = H5Screate_simple(1, &m, NULL);
        if (mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT,
                    (char *)buf + i * row_elems * elem_size) < 0) {
            st = stdbp_err_set(err, STDBP_EIO, "%s: cannot read /%s (%s)", path, name,
                               stdbp_h5_error(why, sizeof why));
            goto done;
        }
    }
done:
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return st;
}

/* "uint8", "int64", "float64", "string", ... for messages. */
static void type_name(hid_t tid, char *buf, size_t len)
{
    H5T_class_t cls = H5Tget_class(tid);
    size_t bits = H5Tget_size(tid) * 8;
    switch (cls) {
    case H5T_INTEGER:
        snprintf(buf, len, "%sint%zu", H5Tget_sign(tid) == H5T_SGN_NONE ? "u" : "", bits);
        return;
    case H5T_FLOAT:
        snprintf(buf, len, "float%zu", bits);
        return;
    case H5T_STRING:
        snprintf(buf, len, "string");
        return;
    case H5T_COMPOUND:
        snprintf(buf, len, "compound");
        return;
    case H5T_ENUM:
        snprintf(buf, len, "enum");
        return;
    case H5T_ARRAY:
        snprintf(buf, len, "array");
        return;
    default:
        snprintf(buf, len, "a non-numeric type");
        return;
    }
}

/* Open /name as a dataset; say clearly when it is missing. */
static stdbp_status open_dset(hid_t fid, const char *path, const char *name, hid_t *out,
                              stdbp_err *err)
{
    char why[256];
    htri_t there = H5Lexists(fid, name, H5P_DEFAULT);
    if (there <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: no dataset /%s (the layout is /images and /labels: see "
                             "docs/DATA.md)",
                             path, name);
    }
    *out = H5Dopen2(fid, name, H5P_DEFAULT);
    if (*out < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: /%s is not a readable dataset (%s)", path,
                             name, stdbp_h5_error(why, sizeof why));
    return STDBP_OK;
}

/* The dataset's dimensions; rank must lie in [min_rank, max_rank]. */
static stdbp_status get_dims(hid_t dset, const char *path, const char *name, int min_rank,
                             int max_rank, int *rank, hsize_t dims[4], stdbp_err *err)
{
    char why[256];
    hid_t sid = H5Dget_space(dset);
    stdbp_status st = STDBP_OK;
    if (sid < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot read the shape of /%s (%s)", path,
                             name, stdbp_h5_error(why, sizeof why));
    if (H5Sget_simple_extent_type(sid) != H5S_SIMPLE) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /%s is a scalar or empty dataset", path, name);
        goto done;
    }
    *rank = H5Sget_simple_extent_ndims(sid);
    if (*rank < min_rank || *rank > max_rank) {
        st = stdbp_err_set(
            err, STDBP_EFORMAT, "%s: /%s has %d dimensions, expected %s", path, name, *rank,
            max_rank == 4 ? "2 (N x D), 3 (N x H x W) or 4 (N x C x H x W)" : "1 (N) or 2 (N x 1)");
        goto done;
    }
    if (H5Sget_simple_extent_dims(sid, dims, NULL) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot read the shape of /%s (%s)", path, name,
                           stdbp_h5_error(why, sizeof why));
        goto done;
    }
done:
    H5Sclose(sid);
    return st;
}

/* The values of /name must be in the file before anything is allocated
 * for them: the header alone may declare any shape (2e6 x 28 x 28 in a
 * file of 1.6 KB), and HDF5 reads a never-written dataset as its fill
 * value. need is the size in bytes of the values in memory. */
static stdbp_status check_stored(hid_t fid, hid_t dset, const char *path, const char *name,
                                 size_t need, stdbp_err *err)
{
    uint64_t stored = 0, fsize = 0;
    int done = stdbp_h5_dset_complete(fid, dset, need, &stored, &fsize);
    H5Eclear2(H5E_DEFAULT);
    if (done < 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot tell how much of /%s is stored", path,
                             name);
    if (!done)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: /%s declares %zu bytes of values but %s of them were "
                             "written (%llu bytes stored, in a file of %llu): a partial or "
                             "damaged file?",
                             path, name, need, stored ? "only part" : "none",
                             (unsigned long long)stored, (unsigned long long)fsize);
    return STDBP_OK;
}

/* Load /images: type, shape, pixels, range. */
static stdbp_status load_images(hid_t fid, const char *path, stdbp_dataset *out, stdbp_err *err)
{
    hid_t dset = H5I_INVALID_HID, tid = H5I_INVALID_HID;
    hsize_t dims[4] = {0, 0, 0, 0};
    stdbp_status st;
    char why[256];
    char tname[32];
    int rank = 0, is_u8, k;
    size_t n, dim = 1, esize;

    if ((st = open_dset(fid, path, "images", &dset, err)) != STDBP_OK)
        goto done;
    if ((tid = H5Dget_type(dset)) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot read the type of /images (%s)", path,
                           stdbp_h5_error(why, sizeof why));
        goto done;
    }
    type_name(tid, tname, sizeof tname);
    is_u8 = H5Tget_class(tid) == H5T_INTEGER && H5Tget_size(tid) == 1 &&
            H5Tget_sign(tid) == H5T_SGN_NONE;
    if (!is_u8 && !(H5Tget_class(tid) == H5T_FLOAT && H5Tget_size(tid) == 4)) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: /images has type %s, expected uint8 (0..255) or float32 (in "
                           "[0, 1])",
                           path, tname);
        goto done;
    }
    if ((st = get_dims(dset, path, "images", 2, 4, &rank, dims, err)) != STDBP_OK)
        goto done;
    for (k = 0; k < rank; k++) {
        if (dims[k] == 0) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /images dimension %d is 0%s", path, k,
                               k == 0 ? " (no samples)" : "");
            goto done;
        }
        if (k > 0 && dims[k] > INT_MAX) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /images dimension %d (%llu) is too large",
                               path, k, (unsigned long long)dims[k]);
            goto done;
        }
    }
    esize = is_u8 ? 1 : sizeof(float);
    for (k = 1; k < rank; k++) {
        if (dim > SIZE_MAX / dims[k]) {
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /images samples are too large", path);
            goto done;
        }
        dim *= (size_t)dims[k];
    }
    if (dims[0] > SIZE_MAX / dim / esize) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: /images (%llu samples) does not fit in memory",
                           path, (unsigned long long)dims[0]);
        goto done;
    }
    n = (size_t)dims[0];
    if ((st = check_stored(fid, dset, path, "images", n * dim * esize, err)) != STDBP_OK)
        goto done;
    out->n = n;
    out->dim = dim;
    out->shape.c = rank == 4 ? (int)dims[1] : rank == 2 ? (int)dims[1] : 1;
    out->shape.h = rank == 4 ? (int)dims[2] : rank == 3 ? (int)dims[1] : 1;
    out->shape.w = rank == 4 ? (int)dims[3] : rank == 3 ? (int)dims[2] : 1;

    if (is_u8)
        out->u8 = malloc(n * dim);
    else
        out->f32 = malloc(n * dim * sizeof(float));
    if (!out->u8 && !out->f32) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for /images (%zu x %zu %s)", path,
                           n, dim, tname);
        goto done;
    }
    if ((st = read_rows(dset, is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, n, dim, esize,
                        is_u8 ? (void *)out->u8 : (void *)out->f32, path, "images", err)) !=
        STDBP_OK)
        goto done;
    if (out->f32) {
        size_t i;
        for (i = 0; i < n * dim; i++) {
            float v = out->f32[i];
            if (!(v >= 0.0f && v <= 1.0f)) {
                st = stdbp_err_set(
                    err, isnan(v) ? STDBP_ENUMERIC : STDBP_ERANGE,
                    "%s: /images sample %zu, feature %zu is %g: float32 pixels must lie in "
                    "[0, 1] (scale them, or store uint8)",
                    path, i / dim, i % dim, (double)v);
                goto done;
            }
        }
    }
done:
    if (tid >= 0)
        H5Tclose(tid);
    if (dset >= 0)
        H5Dclose(dset);
    return st;
}

/* Load /labels: integer type, N values in [0, STDBP_DATA_MAX_CLASSES). */
static stdbp_status load_labels(hid_t fid, const char *path, stdbp_dataset *out, stdbp_err *err)
{
    hid_t dset = H5I_INVALID_HID, tid = H5I_INVALID_HID;
    hsize_t dims[4] = {0, 0, 0, 0};
    long long *tmp = NULL;
    stdbp_status st;
    char why[256];
    char tname[32];
    int rank = 0, max = 0;
    size_t i;

    if ((st = open_dset(fid, path, "labels", &dset, err)) != STDBP_OK)
        goto done;
    if ((tid = H5Dget_type(dset)) < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot read the type of /labels (%s)", path,
                           stdbp_h5_error(why, sizeof why));
        goto done;
    }
    if (H5Tget_class(tid) != H5T_INTEGER) {
        type_name(tid, tname, sizeof tname);
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /labels has type %s, expected an integer type",
                           path, tname);
        goto done;
    }
    if ((st = get_dims(dset, path, "labels", 1, 2, &rank, dims, err)) != STDBP_OK)
        goto done;
    if (rank == 2 && dims[1] != 1) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: /labels is %llu x %llu, expected N or N x 1",
                           path, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto done;
    }
    if (dims[0] != out->n) {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "%s: /labels has %llu values but /images has %zu "
                           "samples",
                           path, (unsigned long long)dims[0], out->n);
        goto done;
    }
    if ((st = check_stored(fid, dset, path, "labels", out->n * H5Tget_size(tid), err)) != STDBP_OK)
        goto done;
    tmp = malloc(out->n * sizeof *tmp);
    out->labels = malloc(out->n * sizeof *out->labels);
    if (!tmp || !out->labels) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for /labels", path);
        goto done;
    }
    /* HDF5 converts any integer type; unsigned types are read as unsigned
     * long long (a uint64 above 2^63 - 1 would saturate as long long and
     * be reported as 9223372036854775807), signed ones as long long. */
    const int is_unsigned = H5Tget_sign(tid) == H5T_SGN_NONE;
    if ((st = read_rows(dset, is_unsigned ? H5T_NATIVE_ULLONG : H5T_NATIVE_LLONG, out->n, 1,
                        sizeof *tmp, tmp, path, "labels", err)) != STDBP_OK)
        goto done;
    for (i = 0; i < out->n; i++) {
        unsigned long long u;
        memcpy(&u, &tmp[i], sizeof u);
        if (is_unsigned ? u >= STDBP_DATA_MAX_CLASSES
                        : tmp[i] < 0 || tmp[i] >= STDBP_DATA_MAX_CLASSES) {
            char v[32];
            if (is_unsigned)
                snprintf(v, sizeof v, "%llu", u);
            else
                snprintf(v, sizeof v, "%lld", tmp[i]);
            st = stdbp_err_set(err, STDBP_ERANGE,
                               "%s: /labels[%zu] is %s: labels must lie in [0, %d)", path, i, v,
                               STDBP_DATA_MAX_CLASSES);
            goto done;
        }
        out->labels[i] = (int32_t)tmp[i];
        if (out->labels[i] > max)
            max = out->labels[i];
    }
    out->n_classes = max + 1 < 2 ? 2 : max + 1;
done:
    free(tmp);
    if (tid >= 0)
        H5Tclose(tid);
    if (dset >= 0)
        H5Dclose(dset);
    return st;
}

stdbp_status stdbp_h5data_load(const char *path, stdbp_dataset *out, stdbp_err *err)
{
    stdbp_h5_quiet q;
    hid_t fid = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    char why[256];
    int fd;

    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->source)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "hdf5: path too long: %zu bytes, at most %zu are supported (%s)",
                             strlen(path), sizeof out->source - 1, path);
    /* A plain open first: "No such file or directory" says more than
     * HDF5's stack does, and a directory, FIFO or device is refused here
     * (HDF5 would block on a FIFO, or report a size of -1). */
    if ((st = stdbp_open_regular(path, &fd, err)) != STDBP_OK)
        return st;
    close(fd);

    stdbp_h5_quiet_begin(&q);
    fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: not a readable HDF5 file (%s)", path,
                           stdbp_h5_error(why, sizeof why));
        goto done;
    }
    if ((st = load_images(fid, path, out, err)) != STDBP_OK)
        goto done;
    if ((st = load_labels(fid, path, out, err)) != STDBP_OK)
        goto done;
    snprintf(out->source, sizeof out->source, "%s", path);
done:
    if (fid >= 0)
        H5Fclose(fid);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&q);
    if (st != STDBP_OK)
        stdbp_dataset_free(out);
    return st;
}
