/* Event data sets in HDF5: the own layout (stdbp_events_load) and the
 * Spiking Heidelberg Digits' layout (stdbp_shd_load); see
 * include/stdbp/data.h and docs/DATA.md. Each rank opens the file on its
 * own (serial driver); HDF5's error printing is off during the call. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

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

/* ---- The variable-length data's raw form, checked before HDF5 reads it.
 *
 * HDF5's conversion of variable-length data (H5Dread) trusts the global
 * heap: a damaged one crashes it or makes it loop (tests/fuzz/regress-events).
 * So before that read, the dataset's raw elements are read as bytes and
 * every global heap collection they name is checked in the file, following
 * the HDF5 file format specification:
 *   - an element: sequence length (4 bytes), the collection's address
 *     (the file's size of offsets) and the object's index (4 bytes), all
 *     little-endian; HDF5 reads the object of every element whose
 *     address is not 0, whatever its length;
 *   - a collection: "GCOL", version 1, 3 reserved bytes, its size in
 *     bytes (the file's size of lengths; at least 4096, the format's
 *     minimum) including this header, then its objects: index (2 bytes),
 *     reference count (2), reserved (4), size (size of lengths), the data
 *     padded to a multiple of 8 bytes; index 0 is the free space, whose
 *     size is the rest of the collection.
 * Every object of a named collection must lie within it (HDF5 parses them
 * all), and the object an element names must hold exactly length x the
 * element size bytes. Contiguous storage is read at H5Dget_offset, chunked
 * storage chunk by chunk with H5Dread_chunk (deflate and shuffle undone
 * here; other filters refused: HDF5 writes no Fletcher-32 checksum for
 * variable-length data). */

typedef struct {
    const char *path, *name;
    int fd;
    uint64_t fsize, base; /* file size; base address (the user block) */
    unsigned sa, ss;      /* sizes of offsets and lengths */
    size_t rec;           /* bytes of one element: 4 + sa + 4 */
    stdbp_err *err;
} heap_ctx;

static uint64_t get_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = n; k-- > 0;)
        v = v << 8 | p[k];
    return v;
}

static int read_at(const heap_ctx *c, uint64_t off, void *buf, size_t len)
{
    if (off > c->fsize || len > c->fsize - off)
        return -1;
    unsigned char *b = buf;
    while (len > 0) {
        ssize_t r = pread(c->fd, b, len, (off_t)off);
        if (r <= 0)
            return -1;
        b += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

static stdbp_status heap_bad(const heap_ctx *c, size_t sample, const char *fmt, ...)
    STDBP_PRINTF(3, 4);
static stdbp_status heap_bad(const heap_ctx *c, size_t sample, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return stdbp_err_set(c->err, STDBP_EFORMAT, "shd:%s: %s sample %zu: %s (a damaged file?)",
                         c->path, c->name, sample, why);
}

/* Undo byte shuffling of elements of esz bytes in place (tmp: len bytes). */
static void unshuffle(unsigned char *buf, unsigned char *tmp, size_t len, size_t esz)
{
    const size_t n = len / esz;
    for (size_t b = 0; b < esz; b++)
        for (size_t i = 0; i < n; i++)
            tmp[i * esz + b] = buf[b * n + i];
    memcpy(buf, tmp, n * esz); /* trailing len % esz bytes are left as they are */
}

/* Inflate in (ilen bytes) into out, which must come out exactly olen bytes. */
static int inflate_exact(const unsigned char *in, size_t ilen, unsigned char *out, size_t olen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)ilen;
    zs.next_out = out;
    zs.avail_out = (uInt)olen;
    int r = inflate(&zs, Z_FINISH);
    const int ok = r == Z_STREAM_END && zs.total_out == olen;
    inflateEnd(&zs);
    return ok ? 0 : -1;
}

/* The n raw elements of a chunked dataset into raw (zeroed: an unwritten
 * chunk holds empty sequences). */
static stdbp_status read_chunked(const heap_ctx *c, hid_t dset, hid_t dcpl, size_t n,
                                 unsigned char *raw)
{
    hsize_t cdim = 0, nchunks = 0;
    int filt[8], nf = H5Pget_nfilters(dcpl);
    stdbp_status st = STDBP_OK;
    unsigned char *buf = NULL, *out = NULL, *tmp = NULL;
    hid_t fsp = H5Dget_space(dset);
    if (fsp < 0 || H5Pget_chunk(dcpl, 1, &cdim) != 1 || cdim == 0 || cdim > ((hsize_t)1 << 24) ||
        nf < 0 || nf > 8 || H5Dget_num_chunks(dset, fsp, &nchunks) < 0) {
        if (fsp >= 0)
            H5Sclose(fsp);
        return heap_bad(c, 0, "unreadable chunked storage");
    }
    for (int k = 0; k < nf && st == STDBP_OK; k++) {
        unsigned flags = 0, cv[8];
        size_t ncv = 8;
        filt[k] = H5Pget_filter2(dcpl, (unsigned)k, &flags, &ncv, cv, 0, NULL, NULL);
        if (filt[k] != H5Z_FILTER_DEFLATE && filt[k] != H5Z_FILTER_SHUFFLE)
            st = stdbp_err_set(c->err, STDBP_EFORMAT,
                               "shd:%s: %s is stored with filter %d: only deflate and shuffle are "
                               "supported for variable-length data",
                               c->path, c->name, filt[k]);
    }
    const size_t clen = (size_t)cdim * c->rec;
    if (st == STDBP_OK && (!(out = malloc(clen)) || !(tmp = malloc(clen))))
        st = stdbp_err_set(c->err, STDBP_ENOMEM, "shd:%s: out of memory for %s", c->path, c->name);
    for (hsize_t i = 0; st == STDBP_OK && i < nchunks; i++) {
        hsize_t off = 0, size = 0;
        haddr_t addr = 0;
        unsigned mask = 0;
        if (H5Dget_chunk_info(dset, fsp, i, &off, &mask, &addr, &size) < 0 || off % cdim ||
            off >= n || size > c->fsize || size == 0) {
            st = heap_bad(c, (size_t)off, "chunk %llu is unreadable or larger than the file",
                          (unsigned long long)i);
            break;
        }
        unsigned char *nb = realloc(buf, (size_t)size);
        if (!nb) {
            st = stdbp_err_set(c->err, STDBP_ENOMEM, "shd:%s: out of memory for %s", c->path,
                               c->name);
            break;
        }
        buf = nb;
        hsize_t coff[1] = {off};
        uint32_t fm = 0;
        if (H5Dread_chunk(dset, H5P_DEFAULT, coff, &fm, buf) < 0) {
            st = heap_bad(c, (size_t)off, "cannot read its chunk");
            break;
        }
        size_t len = (size_t)size;
        unsigned char *cur = buf;
        int ok = 1;
        for (int k = nf - 1; ok && k >= 0; k--) {
            if (fm & (1u << k))
                continue; /* this filter was skipped for this chunk */
            if (filt[k] == H5Z_FILTER_SHUFFLE) {
                ok = len == clen;
                if (ok)
                    unshuffle(cur, tmp, len, c->rec);
            } else { /* deflate: only once (cur must not be out yet) */
                ok = cur != out && inflate_exact(cur, len, out, clen) == 0;
                cur = out;
                len = clen;
            }
        }
        if (!ok || len != clen) {
            st = heap_bad(c, (size_t)off, "its chunk does not decode to %zu bytes", clen);
            break;
        }
        const size_t m = (size_t)cdim < n - (size_t)off ? (size_t)cdim : n - (size_t)off;
        memcpy(raw + (size_t)off * c->rec, cur, m * c->rec);
    }
    free(buf);
    free(out);
    free(tmp);
    H5Sclose(fsp);
    return st;
}

typedef struct {
    uint64_t addr; /* collection address (relative to the base) */
    uint32_t idx;  /* object index */
    uint64_t len;  /* sequence length */
    size_t sample;
} heap_ref;

static int cmp_ref(const void *a, const void *b)
{
    const heap_ref *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->sample < y->sample ? -1 : x->sample > y->sample;
}

#define GCOL_MIN 4096 /* the format's minimum collection size */

/* The collection at refs[0].addr, named by refs[0 .. m): checked whole;
 * objsz (65536 entries, all UINT64_MAX) is used and restored. */
static stdbp_status check_collection(const heap_ctx *c, const heap_ref *refs, size_t m, size_t esz,
                                     uint64_t *objsz)
{
    const uint64_t at = c->base + refs[0].addr;
    const size_t hlen = 8 + c->ss, ohlen = 8 + c->ss;
    unsigned char head[16];
    uint16_t *seen = NULL;
    size_t nseen = 0;
    unsigned char *col = NULL;
    stdbp_status st = STDBP_OK;
    if (refs[0].addr > c->fsize || read_at(c, at, head, hlen) != 0)
        return heap_bad(c, refs[0].sample,
                        "its global heap collection at %llu is past the end of "
                        "the file (%llu bytes)",
                        (unsigned long long)refs[0].addr, (unsigned long long)c->fsize);
    if (memcmp(head, "GCOL", 4) != 0 || head[4] != 1)
        return heap_bad(c, refs[0].sample,
                        "no global heap collection (signature GCOL, version 1) at %llu",
                        (unsigned long long)refs[0].addr);
    const uint64_t size = get_le(head + 8, c->ss);
    if (size < GCOL_MIN || size > c->fsize - at)
        return heap_bad(c, refs[0].sample,
                        "the global heap collection at %llu declares %llu bytes: expected %d .. "
                        "the %llu bytes left in the file",
                        (unsigned long long)refs[0].addr, (unsigned long long)size, GCOL_MIN,
                        (unsigned long long)(c->fsize - at));
    if (!(col = malloc((size_t)size)) || !(seen = malloc(65536 * sizeof *seen))) {
        free(col);
        return stdbp_err_set(c->err, STDBP_ENOMEM, "shd:%s: out of memory for %s", c->path,
                             c->name);
    }
    if (read_at(c, at, col, (size_t)size) != 0)
        st = heap_bad(c, refs[0].sample, "cannot read the global heap collection at %llu",
                      (unsigned long long)refs[0].addr);
    /* every object, as HDF5 will parse them */
    size_t p = hlen;
    while (st == STDBP_OK && size - p >= ohlen) {
        const unsigned idx = (unsigned)get_le(col + p, 2);
        const uint64_t osz = get_le(col + p + 8, c->ss), left = size - p;
        if (idx == 0) { /* the free space: the rest of the collection */
            if (osz != left)
                st = heap_bad(c, refs[0].sample,
                              "the free space of the global heap collection at %llu holds %llu "
                              "bytes, not the %llu left in it",
                              (unsigned long long)refs[0].addr, (unsigned long long)osz,
                              (unsigned long long)left);
            break;
        }
        if (osz > left - ohlen || ((osz + 7) & ~(uint64_t)7) > left - ohlen) {
            st = heap_bad(c, refs[0].sample,
                          "object %u of the global heap collection at %llu declares %llu bytes, "
                          "past the collection's end",
                          idx, (unsigned long long)refs[0].addr, (unsigned long long)osz);
            break;
        }
        if (objsz[idx] != UINT64_MAX) {
            st = heap_bad(c, refs[0].sample,
                          "the global heap collection at %llu holds object %u twice",
                          (unsigned long long)refs[0].addr, idx);
            break;
        }
        objsz[idx] = osz;
        seen[nseen++] = (uint16_t)idx;
        p += ohlen + (size_t)((osz + 7) & ~(uint64_t)7);
    }
    for (size_t r = 0; st == STDBP_OK && r < m; r++) {
        const heap_ref *h = &refs[r];
        const uint64_t want = h->len * esz;
        if (h->idx == 0 || h->idx > 65535 || objsz[h->idx] == UINT64_MAX)
            st = heap_bad(c, h->sample, "no object %lu in the global heap collection at %llu",
                          (unsigned long)h->idx, (unsigned long long)h->addr);
        else if (objsz[h->idx] != want)
            st = heap_bad(c, h->sample,
                          "%llu values of %zu bytes, but object %lu of the global heap collection "
                          "at %llu holds %llu bytes",
                          (unsigned long long)h->len, esz, (unsigned long)h->idx,
                          (unsigned long long)h->addr, (unsigned long long)objsz[h->idx]);
    }
    for (size_t k = 0; k < nseen; k++)
        objsz[seen[k]] = UINT64_MAX;
    free(seen);
    free(col);
    return st;
}

/* Check the global heap behind dset (n variable-length elements of base
 * type elements of esz bytes) before H5Dread converts it. */
static stdbp_status check_vlen_heap(hid_t fid, hid_t dset, const char *path, const char *name,
                                    size_t n, size_t esz, stdbp_err *err)
{
    heap_ctx c = {path, name, -1, 0, 0, 0, 0, 0, err};
    hid_t fcpl = H5Fget_create_plist(fid), dcpl = H5Dget_create_plist(dset);
    size_t sa = 0, ss = 0;
    hsize_t ub = 0;
    unsigned char *raw = NULL;
    heap_ref *refs = NULL;
    uint64_t *objsz = NULL;
    size_t nref = 0;
    struct stat sb;
    stdbp_status st = STDBP_OK;
    if (fcpl < 0 || dcpl < 0 || H5Pget_sizes(fcpl, &sa, &ss) < 0 ||
        H5Pget_userblock(fcpl, &ub) < 0 || (sa != 2 && sa != 4 && sa != 8) ||
        (ss != 2 && ss != 4 && ss != 8)) {
        st =
            stdbp_err_set(err, STDBP_EFORMAT, "shd:%s: cannot tell the file's address sizes", path);
        goto done;
    }
    c.sa = (unsigned)sa;
    c.ss = (unsigned)ss;
    c.base = ub;
    c.rec = 4 + sa + 4;
    if ((st = stdbp_open_regular(path, &c.fd, err)) != STDBP_OK)
        goto done;
    if (fstat(c.fd, &sb) != 0) {
        st = stdbp_err_set(err, STDBP_EIO, "shd:%s: cannot stat the file", path);
        goto done;
    }
    c.fsize = (uint64_t)sb.st_size;
    if (n > c.fsize / c.rec) {
        st = heap_bad(&c, 0, "%zu elements of %zu bytes do not fit in the file", n, c.rec);
        goto done;
    }
    if (!(raw = calloc(n ? n * c.rec : 1, 1)) || !(refs = malloc((n ? n : 1) * sizeof *refs))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "shd:%s: out of memory for %s", path, name);
        goto done;
    }
    const H5D_layout_t lay = H5Pget_layout(dcpl);
    if (lay == H5D_CONTIGUOUS) {
        const haddr_t off = H5Dget_offset(dset);
        if (n && (off == HADDR_UNDEF || read_at(&c, (uint64_t)off, raw, n * c.rec) != 0)) {
            st = heap_bad(&c, 0, "its %zu elements are not all in the file", n);
            goto done;
        }
    } else if (lay == H5D_CHUNKED) {
        if ((st = read_chunked(&c, dset, dcpl, n, raw)) != STDBP_OK)
            goto done;
    } else {
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "shd:%s: %s: only contiguous or chunked storage is supported for "
                           "variable-length data",
                           path, name);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *e = raw + i * c.rec;
        const uint64_t addr = get_le(e + 4, c.sa);
        if (addr == 0)
            continue; /* a null sequence: HDF5 reads no heap object for it */
        /* any other address is read, whatever the length (0 included) */
        refs[nref++] = (heap_ref){addr, (uint32_t)get_le(e + 4 + c.sa, 4), get_le(e, 4), i};
    }
    qsort(refs, nref, sizeof *refs, cmp_ref);
    if (nref && !(objsz = malloc(65536 * sizeof *objsz))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "shd:%s: out of memory for %s", path, name);
        goto done;
    }
    for (size_t k = 0; k < 65536 && objsz; k++)
        objsz[k] = UINT64_MAX;
    for (size_t a = 0; st == STDBP_OK && a < nref;) {
        size_t b = a + 1;
        while (b < nref && refs[b].addr == refs[a].addr)
            b++;
        st = check_collection(&c, refs + a, b - a, esz, objsz);
        a = b;
    }
done:
    free(objsz);
    free(refs);
    free(raw);
    if (c.fd >= 0)
        close(c.fd);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

#define SHD_LAYOUT "the SHD layout is /spikes/times, /spikes/units and /labels"

/* /spikes/NAME: n variable-length arrays read as vlen of mem_base. */
static stdbp_status read_vlen(hid_t fid, const char *path, const char *name, H5T_class_t base_cls,
                              hid_t mem_base, size_t *n, hvl_t **out, stdbp_err *err)
{
    hid_t dset, tid, mt = H5I_INVALID_HID;
    char why[256];
    size_t esz = 0;
    *out = NULL;
    stdbp_status st = open_1d(fid, path, name, H5T_VLEN, SHD_LAYOUT, &dset, &tid, n, err);
    if (st == STDBP_OK) {
        hid_t super = H5Tget_super(tid);
        const int ok = super >= 0 && H5Tget_class(super) == base_cls;
        esz = ok ? H5Tget_size(super) : 0;
        if (super >= 0)
            H5Tclose(super);
        if (!ok || esz == 0 || esz > 16)
            st = stdbp_err_set(err, STDBP_EFORMAT, "%s: %s must hold variable-length arrays of %s",
                               path, name, base_cls == H5T_FLOAT ? "floats" : "integers");
    }
    if (st == STDBP_OK) /* HDF5 trusts the global heap: check it first */
        st = check_vlen_heap(fid, dset, path, name, *n, esz, err);
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
