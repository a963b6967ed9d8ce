/* Small HDF5 helpers; see h5util.h. */
#include "util/h5util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stdbp_h5_quiet_begin(stdbp_h5_quiet *q)
{
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void stdbp_h5_quiet_end(const stdbp_h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

typedef struct walk_ctx {
    char *buf;
    size_t len;
    int found;
} walk_ctx;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    walk_ctx *c = data;
    (void)n;
    if (!c->found && e->desc && e->desc[0]) {
        snprintf(c->buf, c->len, "%s", e->desc);
        c->found = 1;
    }
    return 0;
}

const char *stdbp_h5_error(char *buf, size_t len)
{
    walk_ctx c = {buf, len, 0};
    if (len == 0)
        return buf;
    buf[0] = '\0';
    /* Upward: from the function that detected the error to the API. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &c);
    H5Eclear2(H5E_DEFAULT);
    if (!c.found)
        snprintf(buf, len, "no detail from HDF5");
    return buf;
}

stdbp_status stdbp_h5_fail(stdbp_err *err, stdbp_status code, const char *fmt, ...)
{
    char what[STDBP_ERR_MSG_MAX / 2], detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    stdbp_h5_error(detail, sizeof detail);
    return stdbp_err_set(err, code, "%s: %s", what, detail);
}

const char *stdbp_h5_name(hid_t obj, char *buf, size_t len)
{
    ssize_t n;
    if (len == 0)
        return buf;
    if (H5Iget_type(obj) == H5I_FILE) {
        snprintf(buf, len, "/");
        return buf;
    }
    n = H5Iget_name(obj, buf, len);
    if (n <= 0) {
        snprintf(buf, len, "(unnamed object)");
        H5Eclear2(H5E_DEFAULT);
    }
    return buf;
}

/* "cannot <verb> <kind> NAME of /path: <HDF5's message>". HDF5's
 * message is taken first: any HDF5 call clears its error stack. */
static stdbp_status obj_fail(stdbp_err *err, stdbp_status code, const char *verb, const char *kind,
                             hid_t obj, const char *name)
{
    char detail[512], where[256];
    stdbp_h5_error(detail, sizeof detail);
    stdbp_h5_name(obj, where, sizeof where);
    return stdbp_err_set(err, code, "cannot %s %s %s of %s: %s", verb, kind, name, where, detail);
}

static stdbp_status attr_fail(stdbp_err *err, stdbp_status code, const char *verb, hid_t obj,
                              const char *name)
{
    return obj_fail(err, code, verb, "attribute", obj, name);
}

/* A dataspace of the given shape; rank 0 is a scalar. */
static hid_t make_space(int rank, const hsize_t *dims)
{
    return rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
}

stdbp_status stdbp_h5_str_type(size_t size, H5T_str_t pad, H5T_cset_t cset, hid_t *out,
                               stdbp_err *err)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    *out = H5I_INVALID_HID;
    if (t < 0 || H5Tset_size(t, size ? size : 1) < 0 || H5Tset_strpad(t, pad) < 0 ||
        H5Tset_cset(t, cset) < 0) {
        if (t >= 0)
            H5Tclose(t);
        return stdbp_h5_fail(err, STDBP_EIO, "cannot make a string type");
    }
    *out = t;
    return STDBP_OK;
}

stdbp_status stdbp_h5_attr_put(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank,
                               const hsize_t *dims, const void *data, stdbp_err *err)
{
    hid_t space = make_space(rank, dims), a = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    htri_t ex = space < 0 ? -1 : H5Aexists(obj, name);
    if (ex < 0 || (ex > 0 && H5Adelete(obj, name) < 0)) {
        st = attr_fail(err, STDBP_EIO, "write", obj, name);
        goto done;
    }
    a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, data) < 0)
        st = attr_fail(err, STDBP_EIO, "write", obj, name);
done:
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

/* A vector of n values. */
static stdbp_status attr_put_vec(hid_t obj, const char *name, hid_t ftype, hid_t mtype, size_t n,
                                 const void *data, stdbp_err *err)
{
    const hsize_t dim = n;
    return stdbp_h5_attr_put(obj, name, ftype, mtype, 1, &dim, data, err);
}

stdbp_status stdbp_h5_attr_put_str_as(hid_t obj, const char *name, const char *value, H5T_str_t pad,
                                      H5T_cset_t cset, stdbp_err *err)
{
    const size_t len = strlen(value);
    hid_t t;
    stdbp_status st =
        stdbp_h5_str_type(pad == H5T_STR_NULLTERM ? len + 1 : len, pad, cset, &t, err);
    if (st != STDBP_OK)
        return stdbp_err_prefix(err, "attribute %s: ", name);
    st = stdbp_h5_attr_put(obj, name, t, t, 0, NULL, value, err);
    H5Tclose(t);
    return st;
}

stdbp_status stdbp_h5_attr_put_str(hid_t obj, const char *name, const char *value, stdbp_err *err)
{
    return stdbp_h5_attr_put_str_as(obj, name, value, H5T_STR_NULLPAD, H5T_CSET_ASCII, err);
}

stdbp_status stdbp_h5_attr_put_strv(hid_t obj, const char *name, const char *const *values,
                                    size_t n, stdbp_err *err)
{
    size_t w = 1;
    char *buf;
    hid_t t;
    stdbp_status st;
    for (size_t i = 0; i < n; i++)
        if (strlen(values[i]) > w)
            w = strlen(values[i]);
    buf = calloc(n ? n : 1, w);
    if (!buf)
        return stdbp_err_set(err, STDBP_ENOMEM, "attribute %s: out of memory", name);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * w, values[i], strlen(values[i]));
    st = stdbp_h5_str_type(w, H5T_STR_NULLPAD, H5T_CSET_ASCII, &t, err);
    if (st == STDBP_OK) {
        st = attr_put_vec(obj, name, t, t, n, buf, err);
        H5Tclose(t);
    }
    free(buf);
    return st;
}

stdbp_status stdbp_h5_attr_put_u64(hid_t obj, const char *name, uint64_t value, stdbp_err *err)
{
    return stdbp_h5_attr_put(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, NULL, &value, err);
}

stdbp_status stdbp_h5_attr_put_i64(hid_t obj, const char *name, int64_t value, stdbp_err *err)
{
    return stdbp_h5_attr_put(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &value, err);
}

stdbp_status stdbp_h5_attr_put_f64(hid_t obj, const char *name, double value, stdbp_err *err)
{
    return stdbp_h5_attr_put(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &value, err);
}

stdbp_status stdbp_h5_attr_put_i32(hid_t obj, const char *name, int32_t value, stdbp_err *err)
{
    return stdbp_h5_attr_put(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 0, NULL, &value, err);
}

stdbp_status stdbp_h5_attr_put_i32v(hid_t obj, const char *name, const int32_t *values, size_t n,
                                    stdbp_err *err)
{
    return attr_put_vec(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, n, values, err);
}

stdbp_status stdbp_h5_attr_put_i32m(hid_t obj, const char *name, const int32_t *values, size_t rows,
                                    size_t cols, stdbp_err *err)
{
    const hsize_t dims[2] = {rows, cols};
    return stdbp_h5_attr_put(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dims, values, err);
}

stdbp_status stdbp_h5_attr_put_u64v(hid_t obj, const char *name, const uint64_t *values, size_t n,
                                    stdbp_err *err)
{
    return attr_put_vec(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, n, values, err);
}

stdbp_status stdbp_h5_dset_put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                               const hsize_t *dims, const void *data, stdbp_err *err)
{
    hid_t space = make_space(rank, dims), d = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    if (space >= 0)
        d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    /* Nothing to write in an empty one (the file stays as HDF5 makes it). */
    if (d < 0 || (H5Sget_simple_extent_npoints(space) > 0 &&
                  H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
        st = obj_fail(err, STDBP_EIO, "write", "dataset", loc, name);
    if (d >= 0)
        H5Dclose(d);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

stdbp_status stdbp_h5_dset_put_vlen_strs(hid_t loc, const char *name, int rank, const hsize_t *dims,
                                         const char *const *values, stdbp_err *err)
{
    hid_t t;
    stdbp_status st = stdbp_h5_str_type(H5T_VARIABLE, H5T_STR_NULLTERM, H5T_CSET_UTF8, &t, err);
    if (st != STDBP_OK)
        return stdbp_err_prefix(err, "dataset %s: ", name);
    st = stdbp_h5_dset_put(loc, name, t, t, rank, dims, values, err);
    H5Tclose(t);
    return st;
}

static const char *class_name(H5T_class_t cls)
{
    return cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : "string";
}

/* Open an attribute of the given class holding exactly n elements. */
static stdbp_status attr_open(hid_t obj, const char *name, H5T_class_t cls, hssize_t n, hid_t *out,
                              stdbp_err *err)
{
    hid_t a, t, s;
    int good;
    char where[256];
    htri_t ex = H5Aexists(obj, name);
    *out = H5I_INVALID_HID;
    if (ex < 0)
        return attr_fail(err, STDBP_EFORMAT, "look up", obj, name);
    if (ex == 0)
        return stdbp_err_set(err, STDBP_EFORMAT, "attribute %s of %s is missing", name,
                             stdbp_h5_name(obj, where, sizeof where));
    a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return attr_fail(err, STDBP_EFORMAT, "open", obj, name);
    t = H5Aget_type(a);
    s = H5Aget_space(a);
    good = t >= 0 && s >= 0 && H5Tget_class(t) == cls && H5Sget_simple_extent_npoints(s) == n;
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (!good) {
        H5Aclose(a);
        H5Eclear2(H5E_DEFAULT);
        return stdbp_err_set(err, STDBP_EFORMAT, "attribute %s of %s is not %lld %s value%s", name,
                             stdbp_h5_name(obj, where, sizeof where), (long long)n, class_name(cls),
                             n == 1 ? "" : "s");
    }
    *out = a;
    return STDBP_OK;
}

static stdbp_status attr_get(hid_t obj, const char *name, H5T_class_t cls, hid_t mtype, size_t n,
                             void *out, stdbp_err *err)
{
    hid_t a;
    stdbp_status st = attr_open(obj, name, cls, (hssize_t)n, &a, err);
    if (st != STDBP_OK)
        return st;
    if (H5Aread(a, mtype, out) < 0)
        st = attr_fail(err, STDBP_EFORMAT, "read", obj, name);
    H5Aclose(a);
    return st;
}

stdbp_status stdbp_h5_attr_get_str(hid_t obj, const char *name, char *buf, size_t len,
                                   stdbp_err *err)
{
    hid_t a, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    stdbp_status st = attr_open(obj, name, H5T_STRING, 1, &a, err);
    size_t size;
    char where[256];
    if (st != STDBP_OK)
        return st;
    ft = H5Aget_type(a);
    if (ft < 0 || H5Tis_variable_str(ft) != 0 || (size = H5Tget_size(ft)) == 0 || size >= len) {
        H5Eclear2(H5E_DEFAULT);
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "attribute %s of %s is not a fixed-length string of at most %zu bytes",
                           name, stdbp_h5_name(obj, where, sizeof where), len ? len - 1 : 0);
        goto done;
    }
    if ((st = stdbp_h5_str_type(size, H5T_STR_NULLPAD, H5T_CSET_ASCII, &mt, err)) != STDBP_OK)
        goto done;
    memset(buf, 0, size + 1);
    if (H5Aread(a, mt, buf) < 0) {
        st = attr_fail(err, STDBP_EFORMAT, "read", obj, name);
        goto done;
    }
    buf[size] = '\0';
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return st;
}

stdbp_status stdbp_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *value, stdbp_err *err)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, 1, value, err);
}

stdbp_status stdbp_h5_attr_get_i64(hid_t obj, const char *name, int64_t *value, stdbp_err *err)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT64, 1, value, err);
}

stdbp_status stdbp_h5_attr_get_f64(hid_t obj, const char *name, double *value, stdbp_err *err)
{
    return attr_get(obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, 1, value, err);
}

stdbp_status stdbp_h5_attr_get_i32(hid_t obj, const char *name, int32_t *value, stdbp_err *err)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT32, 1, value, err);
}

stdbp_status stdbp_h5_attr_get_i32v(hid_t obj, const char *name, int32_t *values, size_t n,
                                    stdbp_err *err)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT32, n, values, err);
}

stdbp_status stdbp_h5_attr_get_u64v(hid_t obj, const char *name, uint64_t *values, size_t n,
                                    stdbp_err *err)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, n, values, err);
}

/* Chunk dimensions: keep trailing dimensions whole while they fit; split
 * the first one that does not, and make the leading ones 1. */
static void chunk_dims(int rank, const hsize_t *dims, size_t elem_size, size_t target_bytes,
                       hsize_t *chunk)
{
    size_t inner = elem_size; /* bytes of one index of dimension i */
    for (int i = rank - 1; i >= 0; i--) {
        hsize_t fit = inner >= target_bytes ? 1 : (hsize_t)(target_bytes / inner);
        if (fit >= dims[i]) {
            chunk[i] = dims[i];
            inner *= (size_t)dims[i];
        } else {
            /* As many chunks as needed, evenly sized: the last one is not
             * mostly padding (edge chunks are stored whole). */
            hsize_t k;
            fit = fit ? fit : 1;
            k = (dims[i] + fit - 1) / fit;
            chunk[i] = (dims[i] + k - 1) / k;
            for (int j = 0; j < i; j++)
                chunk[j] = 1;
            break;
        }
    }
}

stdbp_status stdbp_h5_dcpl(int rank, const hsize_t *dims, size_t elem_size, size_t target_bytes,
                           int fletcher32, int deflate, hid_t *out, stdbp_err *err)
{
    hsize_t chunk[H5S_MAX_RANK];
    hid_t p;
    *out = H5I_INVALID_HID;
    if (rank < 1 || rank > H5S_MAX_RANK)
        return stdbp_err_set(err, STDBP_EINVAL, "dataset creation list: bad rank %d", rank);
    p = H5Pcreate(H5P_DATASET_CREATE);
    if (p < 0)
        return stdbp_h5_fail(err, STDBP_EIO, "cannot create a dataset creation list");
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0) {
            *out = p; /* contiguous, no filters */
            return STDBP_OK;
        }
    chunk_dims(rank, dims, elem_size, target_bytes, chunk);
    if (H5Pset_chunk(p, rank, chunk) < 0 || (fletcher32 && H5Pset_fletcher32(p) < 0) ||
        (deflate > 0 && (H5Pset_shuffle(p) < 0 || H5Pset_deflate(p, (unsigned)deflate) < 0))) {
        H5Pclose(p);
        return stdbp_h5_fail(err, STDBP_EIO, "cannot set up chunks and filters");
    }
    *out = p;
    return STDBP_OK;
}

stdbp_status stdbp_h5_dxpl_collective(hid_t *out, stdbp_err *err)
{
    hid_t p = H5Pcreate(H5P_DATASET_XFER);
    *out = H5I_INVALID_HID;
    if (p < 0 || H5Pset_dxpl_mpio(p, H5FD_MPIO_COLLECTIVE) < 0) {
        if (p >= 0)
            H5Pclose(p);
        return stdbp_h5_fail(err, STDBP_EIO, "cannot create a collective transfer list");
    }
    *out = p;
    return STDBP_OK;
}

stdbp_status stdbp_h5_exists(hid_t loc, const char *path, int *exists, stdbp_err *err)
{
    char buf[1024];
    size_t n = strlen(path);
    *exists = 0;
    if (n == 0 || n >= sizeof buf)
        return stdbp_err_set(err, STDBP_EINVAL, "HDF5 path \"%s\": empty or too long", path);
    memcpy(buf, path, n + 1);
    /* Check each prefix "/a", "/a/b", ... (or "a", "a/b") in turn. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            htri_t ex;
            buf[i] = '\0';
            ex = H5Lexists(loc, buf, H5P_DEFAULT);
            buf[i] = c;
            if (ex < 0)
                return stdbp_h5_fail(err, STDBP_EFORMAT, "cannot look up %s", path);
            if (ex == 0)
                return STDBP_OK;
        }
    }
    *exists = 1;
    return STDBP_OK;
}

int stdbp_h5_dset_complete(hid_t f, hid_t d, uint64_t need, uint64_t *stored, uint64_t *fsize)
{
    hsize_t size = H5Dget_storage_size(d), fs = 0, dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    hsize_t want = 1, have = 0;
    hid_t dcpl = H5Dget_create_plist(d), space = H5I_INVALID_HID;
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    int r, done = -1;
    if (H5Fget_filesize(f, &fs) < 0 || layout == H5D_LAYOUT_ERROR)
        goto out;
    if (stored)
        *stored = size > fs ? fs : size;
    if (fsize)
        *fsize = fs;
    done = 0;
    if (size > fs)
        goto out;
    if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
        done = size >= need;
        goto out;
    }
    if (layout != H5D_CHUNKED)
        goto out; /* virtual: the values are in other files */
    space = H5Dget_space(d);
    r = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    if (r < 0 || H5Pget_chunk(dcpl, r, chunk) != r || H5Dget_num_chunks(d, space, &have) < 0) {
        done = -1;
        goto out;
    }
    for (int k = 0; k < r; k++) {
        if (chunk[k] == 0) {
            done = -1;
            goto out;
        }
        want *= dims[k] / chunk[k] + (dims[k] % chunk[k] != 0);
        if (dims[k] == 0)
            want = 0;
    }
    done = have >= want && (H5Pget_nfilters(dcpl) > 0 || size >= need);
out:
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return done;
}
