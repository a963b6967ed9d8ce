/* Small HDF5 helpers; see h5util.h. */
#include "util/h5util.h"

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

/* Create (or replace) an attribute of type ftype and shape space, write
 * mtype data. */
static int attr_put(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t space,
                    const void *data)
{
    hid_t a = H5I_INVALID_HID;
    int rc = -1;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0)
        return -1;
    if (ex > 0 && H5Adelete(obj, name) < 0)
        return -1;
    a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        goto done;
    if (H5Awrite(a, mtype, data) < 0)
        goto done;
    rc = 0;
done:
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

static int attr_put_simple(hid_t obj, const char *name, hid_t ftype, hid_t mtype, size_t n,
                           int scalar, const void *data)
{
    hsize_t dim = n;
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    int rc;
    if (space < 0)
        return -1;
    rc = attr_put(obj, name, ftype, mtype, space, data);
    H5Sclose(space);
    return rc;
}

static hid_t str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

int stdbp_h5_attr_put_str(hid_t obj, const char *name, const char *value)
{
    size_t len = strlen(value);
    hid_t t = str_type(len);
    int rc;
    if (t < 0)
        return -1;
    rc = attr_put_simple(obj, name, t, t, 1, 1, len ? value : "");
    H5Tclose(t);
    return rc;
}

int stdbp_h5_attr_put_strv(hid_t obj, const char *name, const char *const *values, size_t n)
{
    size_t w = 1;
    char *buf;
    hid_t t;
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        if (strlen(values[i]) > w)
            w = strlen(values[i]);
    buf = calloc(n ? n : 1, w);
    if (!buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * w, values[i], strlen(values[i]));
    t = str_type(w);
    if (t >= 0) {
        rc = attr_put_simple(obj, name, t, t, n, 0, buf);
        H5Tclose(t);
    }
    free(buf);
    return rc;
}

int stdbp_h5_attr_put_u64(hid_t obj, const char *name, uint64_t value)
{
    return attr_put_simple(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1, &value);
}

int stdbp_h5_attr_put_i64(hid_t obj, const char *name, int64_t value)
{
    return attr_put_simple(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, 1, &value);
}

int stdbp_h5_attr_put_f64(hid_t obj, const char *name, double value)
{
    return attr_put_simple(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, 1, &value);
}

int stdbp_h5_attr_put_i32(hid_t obj, const char *name, int32_t value)
{
    return attr_put_simple(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, 1, &value);
}

int stdbp_h5_attr_put_i32v(hid_t obj, const char *name, const int32_t *values, size_t n)
{
    return attr_put_simple(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, n, 0, values);
}

int stdbp_h5_attr_put_i32m(hid_t obj, const char *name, const int32_t *values, size_t rows,
                           size_t cols)
{
    hsize_t dims[2] = {rows, cols};
    hid_t space = H5Screate_simple(2, dims, NULL);
    int rc;
    if (space < 0)
        return -1;
    rc = attr_put(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, space, values);
    H5Sclose(space);
    return rc;
}

int stdbp_h5_attr_put_u64v(hid_t obj, const char *name, const uint64_t *values, size_t n)
{
    return attr_put_simple(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, n, 0, values);
}

/* Open an attribute of the given class holding exactly n elements. */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t cls, hssize_t n)
{
    hid_t a, t, s;
    int good;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0)
        return H5I_INVALID_HID;
    a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return a;
    t = H5Aget_type(a);
    s = H5Aget_space(a);
    good = t >= 0 && s >= 0 && H5Tget_class(t) == cls && H5Sget_simple_extent_npoints(s) == n;
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (!good) {
        H5Aclose(a);
        return H5I_INVALID_HID;
    }
    return a;
}

static int attr_get(hid_t obj, const char *name, H5T_class_t cls, hid_t mtype, size_t n, void *out)
{
    hid_t a = attr_open(obj, name, cls, (hssize_t)n);
    int rc;
    if (a < 0)
        return -1;
    rc = H5Aread(a, mtype, out) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

int stdbp_h5_attr_get_str(hid_t obj, const char *name, char *buf, size_t len)
{
    hid_t a = attr_open(obj, name, H5T_STRING, 1), ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    int rc = -1;
    size_t size;
    if (a < 0)
        return -1;
    ft = H5Aget_type(a);
    if (ft < 0 || H5Tis_variable_str(ft) != 0)
        goto done;
    size = H5Tget_size(ft);
    if (size == 0 || size >= len)
        goto done;
    mt = str_type(size);
    if (mt < 0)
        goto done;
    memset(buf, 0, size + 1);
    if (H5Aread(a, mt, buf) < 0)
        goto done;
    buf[size] = '\0';
    rc = 0;
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    H5Aclose(a);
    return rc;
}

int stdbp_h5_attr_get_u64(hid_t obj, const char *name, uint64_t *value)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, 1, value);
}

int stdbp_h5_attr_get_i64(hid_t obj, const char *name, int64_t *value)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT64, 1, value);
}

int stdbp_h5_attr_get_f64(hid_t obj, const char *name, double *value)
{
    return attr_get(obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, 1, value);
}

int stdbp_h5_attr_get_i32(hid_t obj, const char *name, int32_t *value)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT32, 1, value);
}

int stdbp_h5_attr_get_i32v(hid_t obj, const char *name, int32_t *values, size_t n)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT32, n, values);
}

int stdbp_h5_attr_get_u64v(hid_t obj, const char *name, uint64_t *values, size_t n)
{
    return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, n, values);
}

hid_t stdbp_h5_dcpl(int rank, const hsize_t *dims, size_t elem_size, size_t target_bytes,
                    int fletcher32, int deflate)
{
    hsize_t chunk[H5S_MAX_RANK];
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    size_t inner = elem_size; /* bytes of one index of dimension i */
    if (p < 0)
        return p;
    if (rank < 1 || rank > H5S_MAX_RANK)
        goto fail;
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0)
            return p; /* contiguous, no filters */
    /* Keep trailing dimensions whole while they fit; split the first one
     * that does not, and make the leading ones 1. */
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
    if (H5Pset_chunk(p, rank, chunk) < 0)
        goto fail;
    if (fletcher32 && H5Pset_fletcher32(p) < 0)
        goto fail;
    if (deflate > 0 && (H5Pset_shuffle(p) < 0 || H5Pset_deflate(p, (unsigned)deflate) < 0))
        goto fail;
    return p;
fail:
    H5Pclose(p);
    return H5I_INVALID_HID;
}

hid_t stdbp_h5_dxpl_collective(void)
{
    hid_t p = H5Pcreate(H5P_DATASET_XFER);
    if (p < 0)
        return p;
    if (H5Pset_dxpl_mpio(p, H5FD_MPIO_COLLECTIVE) < 0) {
        H5Pclose(p);
        return H5I_INVALID_HID;
    }
    return p;
}

int stdbp_h5_exists(hid_t file, const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    /* Check each prefix "/a", "/a/b", ... in turn. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            htri_t ex;
            buf[i] = '\0';
            ex = H5Lexists(file, buf, H5P_DEFAULT);
            buf[i] = c;
            if (ex < 0)
                return -1;
            if (ex == 0)
                return 0;
        }
    }
    return 1;
}
