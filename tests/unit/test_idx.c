/* The IDX reader: raw and gzip round trips, and every malformed file it
 * must refuse with a message that names the file. Fixtures are written
 * into test_tmpdir(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "data/idx_impl.h"
#include "stdbp/data.h"
#include "tap/basic.h"

#define N 5
#define H 3
#define W 4

static uint8_t pixels[N * H * W];
static uint8_t labels[N] = {3, 0, 7, 1, 3};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* magic, dims, then ndata bytes of data (malloc'd; *len set). */
static uint8_t *idx_bytes(uint32_t magic, int ndim, const uint32_t *dims, const uint8_t *data,
                          size_t ndata, size_t *len)
{
    uint8_t *b;
    int d;
    *len = 4 + 4 * (size_t)ndim + ndata;
    if (!(b = malloc(*len)))
        bail("out of memory");
    put_be32(b, magic);
    for (d = 0; d < ndim; d++)
        put_be32(b + 4 + 4 * d, dims[d]);
    if (ndata)
        memcpy(b + 4 + 4 * ndim, data, ndata);
    return b;
}

static uint8_t *images_bytes(uint32_t n, size_t ndata, size_t *len)
{
    uint32_t dims[3] = {n, H, W};
    return idx_bytes(0x00000803, 3, dims, pixels, ndata, len);
}

static uint8_t *labels_bytes(uint32_t n, size_t ndata, size_t *len)
{
    uint32_t dims[1] = {n};
    return idx_bytes(0x00000801, 1, dims, labels, ndata, len);
}

/* gzip-compress (a complete gzip member, malloc'd; *out_len set). */
static uint8_t *gz_bytes(const uint8_t *buf, size_t len, size_t *out_len)
{
    z_stream zs;
    uLong cap = compressBound((uLong)len) + 64;
    uint8_t *out = malloc(cap);
    memset(&zs, 0, sizeof zs);
    if (!out || deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        bail("cannot start deflate");
    zs.next_in = (Bytef *)(uintptr_t)buf;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        bail("deflate did not finish");
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static const char *tpath(char *buf, const char *name)
{
    snprintf(buf, 4096, "%s/%s", test_tmpdir(), name);
    return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || (len && fwrite(buf, 1, len, fp) != len) || fclose(fp) != 0)
        bail("cannot write %s", path);
}

/* Write buf to path, gzip-compressed when gz; frees buf. */
static const char *fixture(char *pbuf, const char *name, uint8_t *buf, size_t len, int gz)
{
    tpath(pbuf, name);
    if (gz) {
        size_t zlen;
        uint8_t *z = gz_bytes(buf, len, &zlen);
        write_file(pbuf, z, zlen);
        free(z);
    } else {
        write_file(pbuf, buf, len);
    }
    free(buf);
    return pbuf;
}

/* Build with expr (which sets len), then write; len is read after. */
#define FIX(p, name, expr, gz)                                                                     \
    do {                                                                                           \
        uint8_t *fix_buf_ = (expr);                                                                \
        fixture(p, name, fix_buf_, len, gz);                                                       \
    } while (0)

static void round_trip(int gz_images, int gz_labels)
{
    char ip[4096], lp[4096];
    size_t len;
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    size_t i;
    int same = 1;

    FIX(ip, gz_images ? "rt-images.gz" : "rt-images", images_bytes(N, sizeof pixels, &len),
        gz_images);
    FIX(lp, gz_labels ? "rt-labels.gz" : "rt-labels", labels_bytes(N, sizeof labels, &len),
        gz_labels);
    stdbp_err_clear(&err);
    st = stdbp_idx_load(ip, lp, &ds, &err);
    if (!is_int(STDBP_OK, st, "round trip (images %s, labels %s) loads", gz_images ? "gz" : "raw",
                gz_labels ? "gz" : "raw"))
        diag("%s", err.msg);
    is_int(N, (long long)ds.n, "  n");
    ok(ds.shape.c == 1 && ds.shape.h == H && ds.shape.w == W && ds.dim == H * W,
       "  shape 1 x %d x %d", H, W);
    ok(ds.u8 && !ds.f32, "  stored once, as uint8");
    for (i = 0; ds.u8 && i < sizeof pixels; i++)
        same &= ds.u8[i] == pixels[i];
    for (i = 0; ds.labels && i < N; i++)
        same &= ds.labels[i] == labels[i];
    ok(ds.u8 && ds.labels && same, "  pixels and labels as written");
    is_int(8, ds.n_classes, "  n_classes = max label + 1");
    contains(ds.source, ip, "  source names the images file");
    is_double(pixels[7] / 255.0, stdbp_dataset_pixel(&ds, 0, 7), 0, "  pixel scaled by 1/255");
    stdbp_dataset_free(&ds);
    ok(ds.u8 == NULL && ds.n == 0, "  free zeroes the dataset");
}

/* Load images_path (+ a good labels file) and expect failure: code, the
 * file named, and the given words in the message. */
static void expect_fail_pair(const char *ip, const char *lp, stdbp_status code, const char *named,
                             const char *word, const char *what)
{
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    stdbp_err_clear(&err);
    st = stdbp_idx_load(ip, lp, &ds, &err);
    diag("%s", err.msg);
    is_int(code, st, "%s: refused (%s)", what, stdbp_status_name(code));
    contains(err.msg, named, "  the message names the file");
    contains(err.msg, word, "  and says \"%s\"", word);
    ok(ds.u8 == NULL && ds.labels == NULL && ds.n == 0, "  nothing is handed out");
}

static char good_labels[4096];

static void expect_fail(const char *ip, stdbp_status code, const char *word, const char *what)
{
    expect_fail_pair(ip, good_labels, code, ip, word, what);
}

/* Every cut of a valid file must fail cleanly (ASan watches the reads). */
static void all_prefixes(const uint8_t *buf, size_t len, const char *name)
{
    size_t cut;
    int clean = 1;
    for (cut = 0; cut < len; cut++) {
        stdbp_idx_array a;
        stdbp_err err;
        stdbp_err_clear(&err);
        if (stdbp_idx_read_mem(buf, cut, name, STDBP_IDX_IMAGES, &a, &err) == STDBP_OK ||
            !strstr(err.msg, name) || a.data != NULL) {
            diag("prefix of %zu bytes: %s", cut, err.msg);
            clean = 0;
        }
    }
    ok(clean, "every proper prefix of %s (%zu bytes) is refused, naming it", name, len);
}

int main(void)
{
    char p[4096], q[4096];
    uint8_t *b, *z;
    size_t len, zlen, i;
    uint32_t dims[3];

    for (i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 37 + 11);
    plan_lazy();

    round_trip(0, 0);
    round_trip(1, 1);
    round_trip(1, 0);

    /* All labels 0: still two classes. */
    {
        static const uint8_t zeros[N] = {0};
        uint32_t d1[1] = {N};
        stdbp_dataset ds;
        stdbp_err err;
        char ip[4096], lp[4096];
        FIX(ip, "z-images", images_bytes(N, sizeof pixels, &len), 0);
        FIX(lp, "z-labels", idx_bytes(0x00000801, 1, d1, zeros, N, &len), 0);
        if (stdbp_idx_load(ip, lp, &ds, &err) != STDBP_OK)
            diag("%s", err.msg);
        is_int(2, ds.n_classes, "all labels 0: n_classes is at least 2");
        stdbp_dataset_free(&ds);
    }

    FIX(good_labels, "good-labels", labels_bytes(N, sizeof labels, &len), 0);

    /* Files that are not there, or not files. */
    expect_fail(tpath(p, "no-such-file"), STDBP_EIO, "cannot open", "missing file");
    expect_fail(test_tmpdir(), STDBP_EIO, "not a regular file", "a directory");
    fixture(p, "empty", NULL, 0, 0);
    expect_fail(p, STDBP_EFORMAT, "truncated", "empty file");

    /* Magic numbers. */
    b = malloc(64);
    memcpy(b, "P5\n4 3\n255\n.....................", 32);
    fixture(p, "not-idx", b, 32, 0);
    expect_fail(p, STDBP_EFORMAT, "not an IDX file", "not an IDX file");
    dims[0] = N, dims[1] = H, dims[2] = W;
    FIX(p, "float-images", idx_bytes(0x00000D03, 3, dims, pixels, sizeof pixels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "float32", "IDX type float32");
    FIX(p, "int32-images", idx_bytes(0x00000C03, 3, dims, pixels, sizeof pixels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "0x0c (32-bit integer) is not supported", "IDX type int32");
    FIX(p, "bad-type", idx_bytes(0x00000A03, 3, dims, pixels, sizeof pixels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "not a valid IDX type", "IDX type 0x0a");
    FIX(p, "labels-as-images", labels_bytes(N, sizeof labels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "1 dimension(s)", "a label file given as images");
    FIX(p, "images-4d", idx_bytes(0x00000804, 3, dims, pixels, sizeof pixels - 4, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "4 dimension(s)", "a 4-D IDX file given as images");
    {
        char ip[4096];
        FIX(ip, "ok-images", images_bytes(N, sizeof pixels, &len), 0);
        FIX(p, "images-as-labels", images_bytes(N, sizeof pixels, &len), 0);
        expect_fail_pair(ip, p, STDBP_EFORMAT, p, "3 dimension(s)",
                         "an image file given as labels");
    }

    /* Dimensions against the size. */
    fixture(p, "short-header", images_bytes(N, 0, &len), 9, 0);
    expect_fail(p, STDBP_EFORMAT, "truncated", "header cut short");
    FIX(p, "truncated", images_bytes(N, sizeof pixels - 5, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "truncated", "raw file missing its last 5 bytes");
    b = images_bytes(N, sizeof pixels, &len);
    b = realloc(b, len + 3);
    memcpy(b + len, "xyz", 3);
    fixture(p, "trailing", b, len + 3, 0);
    expect_fail(p, STDBP_EFORMAT, "trailing garbage", "raw file with 3 bytes of trailing garbage");
    dims[0] = 0xFFFFFFFFu, dims[1] = 0xFFFFFFFFu, dims[2] = 0xFFFFFFFFu;
    FIX(p, "overflow", idx_bytes(0x00000803, 3, dims, pixels, sizeof pixels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "overflow", "dimensions whose product overflows");
    dims[0] = 0x10000000u, dims[1] = 0x100u, dims[2] = 0x100u;
    FIX(p, "huge", idx_bytes(0x00000803, 3, dims, pixels, sizeof pixels, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "truncated", "dimensions far larger than the file");
    dims[0] = 0, dims[1] = H, dims[2] = W;
    FIX(p, "zero-samples", idx_bytes(0x00000803, 3, dims, pixels, 0, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "no samples", "zero samples");
    dims[0] = N, dims[1] = 0, dims[2] = W;
    FIX(p, "zero-rows", idx_bytes(0x00000803, 3, dims, pixels, 0, &len), 0);
    expect_fail(p, STDBP_EFORMAT, "dimension 1 of the IDX header is 0", "zero rows");

    /* Same checks after gzip: against the decompressed size. */
    FIX(p, "gz-truncated-data.gz", images_bytes(N, sizeof pixels - 5, &len), 1);
    expect_fail(p, STDBP_EFORMAT, "truncated", "gzip whose data is 5 bytes short");
    contains(p, ".gz", "  (the file is gzip)");
    b = images_bytes(N, sizeof pixels, &len);
    b = realloc(b, len + 7);
    memset(b + len, 0, 7);
    fixture(p, "gz-trailing-data.gz", b, len + 7, 1);
    expect_fail(p, STDBP_EFORMAT, "7 bytes after", "gzip with 7 bytes after the data");
    fixture(p, "gz-short-header.gz", images_bytes(N, 0, &len), 10, 1);
    expect_fail(p, STDBP_EFORMAT, "truncated", "gzip whose header is cut short");
    dims[0] = 0x10000000u, dims[1] = 0x100u, dims[2] = 0x100u;
    FIX(p, "gz-huge.gz", idx_bytes(0x00000803, 3, dims, pixels, sizeof pixels, &len), 1);
    expect_fail(p, STDBP_EFORMAT, "more than", "gzip whose header claims more than it can hold");
    FIX(p, "gz-labels-as-images.gz", labels_bytes(N, sizeof labels, &len), 1);
    expect_fail(p, STDBP_EFORMAT, "1 dimension(s)", "gzip label file given as images");

    /* Damage to the gzip stream itself. */
    b = images_bytes(N, sizeof pixels, &len);
    z = gz_bytes(b, len, &zlen);
    tpath(p, "gz-cut.gz");
    write_file(p, z, zlen - 12);
    expect_fail(p, STDBP_EFORMAT, "truncated gzip stream", "gzip file cut short");
    z[zlen - 8] ^= 0x55; /* the CRC-32 of the trailer */
    tpath(p, "gz-bad-crc.gz");
    write_file(p, z, zlen);
    expect_fail(p, STDBP_EFORMAT, "corrupt gzip data", "gzip with a wrong CRC");
    z[zlen - 8] ^= 0x55;
    z[3] = 0xE0; /* reserved flag bits */
    tpath(p, "gz-bad-flags.gz");
    write_file(p, z, zlen);
    expect_fail(p, STDBP_EFORMAT, "corrupt gzip data", "gzip with reserved header flags");
    z[3] = 0;
    z = realloc(z, zlen + 4);
    memcpy(z + zlen, "junk", 4);
    tpath(p, "gz-trailing-junk.gz");
    write_file(p, z, zlen + 4);
    expect_fail(p, STDBP_EFORMAT, "after the end of the gzip stream",
                "garbage after the gzip stream");

    /* Two gzip members, as `cat a.gz b.gz` makes: valid gzip, read whole. */
    {
        size_t z1, z2;
        uint8_t *m1 = gz_bytes(b, 20, &z1), *m2 = gz_bytes(b + 20, len - 20, &z2);
        uint8_t *cat = malloc(z1 + z2);
        stdbp_dataset ds;
        stdbp_err err;
        memcpy(cat, m1, z1);
        memcpy(cat + z1, m2, z2);
        tpath(q, "two-members.gz");
        write_file(q, cat, z1 + z2);
        if (!is_int(STDBP_OK, stdbp_idx_load(q, good_labels, &ds, &err),
                    "concatenated gzip members are read as one file"))
            diag("%s", err.msg);
        ok(ds.u8 && memcmp(ds.u8, pixels, sizeof pixels) == 0, "  with the right pixels");
        stdbp_dataset_free(&ds);
        free(m1);
        free(m2);
        free(cat);
    }

    /* Label count against image count: both files named. */
    {
        char lp[4096], ip[4096];
        FIX(ip, "count-images", images_bytes(N, sizeof pixels, &len), 0);
        FIX(lp, "count-labels", labels_bytes(N - 1, N - 1, &len), 0);
        expect_fail_pair(ip, lp, STDBP_EFORMAT, lp, "has 4 labels but", "4 labels for 5 images");
        {
            stdbp_dataset ds;
            stdbp_err err;
            if (stdbp_idx_load(ip, lp, &ds, &err) != STDBP_OK)
                contains(err.msg, ip, "  the message names the images file too");
            else
                ok(0, "  the message names the images file too");
        }
        FIX(lp, "trunc-labels", labels_bytes(N, N - 2, &len), 0);
        expect_fail_pair(ip, lp, STDBP_EFORMAT, lp, "truncated", "truncated label file");
    }

    /* Every cut of a valid raw and gzip file, from memory. */
    all_prefixes(b, len, "prefix-raw");
    all_prefixes(z, zlen, "prefix-gz");
    {
        stdbp_idx_array a;
        stdbp_err err;
        is_int(STDBP_OK, stdbp_idx_read_mem(z, zlen, "whole-gz", STDBP_IDX_IMAGES, &a, &err),
               "the whole gzip buffer reads from memory");
        ok(a.count == sizeof pixels && a.data && memcmp(a.data, pixels, a.count) == 0,
           "  with the right bytes");
        stdbp_idx_array_free(&a);
    }
    free(b);
    free(z);
    return 0;
}
