/* IDX files (the MNIST format), raw or gzip-compressed; see
 * include/stdbp/data.h and src/data/idx_impl.h.
 *
 * An IDX file is a 4-byte magic number (0, 0, type, number of
 * dimensions), the dimensions as big-endian 32-bit integers, then the
 * data. The pixels are read straight into the dataset's one buffer; the
 * whole file is never held twice. */
#include "data/idx_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "util/fsutil.h"

#define IDX_CHUNK 65536
/* When counting trailing bytes of a gzip file, stop here and say "at
 * least": a decompression bomb must not keep us busy. */
#define IDX_TRAILING_COUNT_MAX ((uint64_t)64 << 20)

/* A byte source: a file or a memory buffer, optionally gzip-decoded. */
typedef struct idx_src {
    const char *name;
    FILE *fp;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    uint64_t raw_size; /* bytes in the file or buffer */
    int gz;            /* decode gzip */
    int zs_live;       /* inflateInit2 done */
    int zs_done;       /* last gzip member ended and input is exhausted */
    int raw_eof;       /* no more raw input */
    z_stream zs;
    uint8_t *in; /* IDX_CHUNK bytes of raw input (file + gzip only) */
} idx_src;

static const char *idx_type_name(unsigned type)
{
    switch (type) {
    case 0x08:
        return "unsigned byte";
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "16-bit integer";
    case 0x0C:
        return "32-bit integer";
    case 0x0D:
        return "float32";
    case 0x0E:
        return "float64";
    }
    return "not a valid IDX type";
}

/* Refill the raw input of the inflater. Returns 1 when bytes are
 * available, 0 at the end of the input, -1 on a read error. */
static int src_fill(idx_src *s, stdbp_err *err)
{
    if (s->zs.avail_in > 0)
        return 1;
    if (s->raw_eof)
        return 0;
    if (s->fp) {
        size_t got = fread(s->in, 1, IDX_CHUNK, s->fp);
        if (got == 0) {
            if (ferror(s->fp)) {
                stdbp_err_set(err, STDBP_EIO, "%s: read error: %s", s->name, strerror(errno));
                return -1;
            }
            s->raw_eof = 1;
            return 0;
        }
        s->zs.next_in = s->in;
        s->zs.avail_in = (uInt)got;
        return 1;
    }
    if (s->mem_pos >= s->mem_len) {
        s->raw_eof = 1;
        return 0;
    }
    {
        size_t take = s->mem_len - s->mem_pos;
        if (take > (size_t)1 << 30)
            take = (size_t)1 << 30;
        /* zlib's next_in is not const-qualified in every version. */
        s->zs.next_in = (Bytef *)(uintptr_t)(s->mem + s->mem_pos);
        s->zs.avail_in = (uInt)take;
        s->mem_pos += take;
    }
    return 1;
}

/* Read up to n raw (undecoded) bytes; *got is how many came. */
static stdbp_status src_read_raw(idx_src *s, uint8_t *dst, size_t n, size_t *got, stdbp_err *err)
{
    if (s->fp) {
        *got = fread(dst, 1, n, s->fp);
        if (*got < n && ferror(s->fp))
            return stdbp_err_set(err, STDBP_EIO, "%s: read error: %s", s->name, strerror(errno));
        return STDBP_OK;
    }
    *got = s->mem_len - s->mem_pos < n ? s->mem_len - s->mem_pos : n;
    if (*got)
        memcpy(dst, s->mem + s->mem_pos, *got);
    s->mem_pos += *got;
    return STDBP_OK;
}

/* Read up to n decoded bytes; *got < n only at the end of the data. A
 * corrupt or cut-off gzip stream is an error. */
static stdbp_status src_read(idx_src *s, uint8_t *dst, size_t n, size_t *got, stdbp_err *err)
{
    size_t done = 0;
    if (!s->gz)
        return src_read_raw(s, dst, n, got, err);
    *got = 0;
    while (done < n && !s->zs_done) {
        size_t want = n - done;
        uInt avail;
        int ret, fill;
        if (want > (size_t)1 << 30)
            want = (size_t)1 << 30;
        fill = src_fill(s, err);
        if (fill < 0)
            return STDBP_EIO;
        s->zs.next_out = dst + done;
        s->zs.avail_out = avail = (uInt)want;
        ret = inflate(&s->zs, Z_NO_FLUSH);
        done += avail - s->zs.avail_out;
        *got = done;
        if (ret == Z_STREAM_END) {
            /* One gzip member ended. Another may follow (gzip allows
             * concatenated members); anything else is garbage. */
            fill = src_fill(s, err);
            if (fill < 0)
                return STDBP_EIO;
            if (fill == 0) {
                s->zs_done = 1;
                break;
            }
            if (s->zs.next_in[0] != 0x1f)
                return stdbp_err_set(err, STDBP_EFORMAT,
                                     "%s: trailing garbage after the end of the gzip stream "
                                     "(the file is corrupt: fetch it again)",
                                     s->name);
            if (inflateReset(&s->zs) != Z_OK)
                return stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot restart gzip decoding",
                                     s->name);
        } else if (ret == Z_BUF_ERROR) {
            if (s->zs.avail_in == 0 && s->raw_eof)
                return stdbp_err_set(err, STDBP_EFORMAT,
                                     "%s: truncated gzip stream: the compressed data ends early "
                                     "(a partial download? fetch it again)",
                                     s->name);
        } else if (ret == Z_MEM_ERROR) {
            return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory decompressing gzip data",
                                 s->name);
        } else if (ret != Z_OK) {
            return stdbp_err_set(err, STDBP_EFORMAT, "%s: corrupt gzip data: %s", s->name,
                                 s->zs.msg ? s->zs.msg : "inflate failed");
        }
    }
    return STDBP_OK;
}

/* Read exactly n decoded bytes, or fail naming what was being read. In
 * chunks of STDBP_DATA_LOAD_CHUNK bytes, asking the stop check (data.h)
 * before each: a signal during a long load ends it within a chunk. */
static stdbp_status src_read_exact(idx_src *s, uint8_t *dst, size_t n, const char *what,
                                   uint64_t offset, stdbp_err *err)
{
    size_t got = 0, part;
    stdbp_status st = STDBP_OK;
    do {
        size_t want = n - got < STDBP_DATA_LOAD_CHUNK ? n - got : STDBP_DATA_LOAD_CHUNK;
        if ((st = stdbp_data_poll_stop(s->name, err)) != STDBP_OK)
            return st;
        part = 0;
        if ((st = src_read(s, dst + got, want, &part, err)) != STDBP_OK)
            return st;
        got += part;
        if (part < want)
            break;
    } while (got < n);
    if (got < n)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: truncated: reading %s needs %zu bytes at offset %llu%s, only "
                             "%zu are there (a partial download? fetch it again)",
                             s->name, what, n, (unsigned long long)offset,
                             s->gz ? " of the decompressed data" : "", got);
    return STDBP_OK;
}

static stdbp_status src_open_file(idx_src *s, const char *path, stdbp_err *err)
{
    struct stat sb;
    memset(s, 0, sizeof *s);
    s->name = path;
    stdbp_status st = stdbp_fopen_regular(path, &s->fp, err); /* FIFOs refused, no block */
    if (st != STDBP_OK)
        return st;
    if (fstat(fileno(s->fp), &sb) != 0)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return stdbp_err_set(err, STDBP_EIO, "%s: not a regular file", path);
    s->raw_size = (uint64_t)sb.st_size;
    return STDBP_OK;
}

static void src_open_mem(idx_src *s, const void *buf, size_t len, const char *name)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->mem = buf;
    s->mem_len = len;
    s->raw_size = len;
}

/* Look at the first two bytes; set up gzip decoding if they are 1f 8b. */
static stdbp_status src_start(idx_src *s, stdbp_err *err)
{
    uint8_t magic[2];
    size_t got = 0;
    stdbp_status st = src_read_raw(s, magic, 2, &got, err);
    if (st != STDBP_OK)
        return st;
    if (s->fp)
        rewind(s->fp);
    else
        s->mem_pos = 0;
    if (got < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return STDBP_OK;
    s->gz = 1;
    if (s->fp && !(s->in = malloc(IDX_CHUNK)))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", s->name);
    /* 16 + MAX_WBITS: gzip only (the magic said so), with its CRC check. */
    if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: cannot start gzip decoding", s->name);
    s->zs_live = 1;
    return STDBP_OK;
}

static void src_close(idx_src *s)
{
    if (s->zs_live)
        inflateEnd(&s->zs);
    free(s->in);
    if (s->fp)
        fclose(s->fp);
    memset(s, 0, sizeof *s);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The magic number must be 0, 0, 0x08, kind. */
static stdbp_status check_magic(const char *name, const uint8_t m[4], stdbp_idx_kind kind,
                                stdbp_err *err)
{
    uint32_t magic = be32(m);
    uint32_t want = 0x00000800u | (uint32_t)kind;
    const char *what = kind == STDBP_IDX_IMAGES ? "images" : "labels";
    if (m[0] != 0 || m[1] != 0)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: not an IDX file: magic number 0x%08x, expected 0x%08x "
                             "(IDX %s, unsigned bytes)",
                             name, (unsigned)magic, (unsigned)want, what);
    if (m[2] != 0x08)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: IDX data type 0x%02x (%s) is not supported: magic number "
                             "0x%08x, expected 0x%08x (IDX %s, unsigned bytes)",
                             name, m[2], idx_type_name(m[2]), (unsigned)magic, (unsigned)want,
                             what);
    if (m[3] != (uint8_t)kind)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: IDX file with %u dimension(s) (magic number 0x%08x), "
                             "expected %s: 0x%08x (%s)",
                             name, m[3], (unsigned)magic, what, (unsigned)want,
                             kind == STDBP_IDX_IMAGES ? "N x rows x columns" : "N values");
    return STDBP_OK;
}

static stdbp_status idx_read(idx_src *s, stdbp_idx_kind kind, stdbp_idx_array *out, stdbp_err *err)
{
    uint8_t head[4 + 4 * 3];
    size_t hlen = 4 + 4 * (size_t)kind, count = 1;
    uint64_t total = hlen;
    stdbp_status st;
    int d;

    if ((st = src_start(s, err)) != STDBP_OK)
        return st;
    if (!s->gz && s->raw_size < 4)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: truncated: %llu bytes, too short for an IDX header", s->name,
                             (unsigned long long)s->raw_size);
    if ((st = src_read_exact(s, head, 4, "the magic number", 0, err)) != STDBP_OK)
        return st;
    if ((st = check_magic(s->name, head, kind, err)) != STDBP_OK)
        return st;
    if ((st = src_read_exact(s, head + 4, hlen - 4, "the dimensions", 4, err)) != STDBP_OK)
        return st;

    out->ndim = (int)kind;
    for (d = 0; d < out->ndim; d++) {
        out->dims[d] = be32(head + 4 + 4 * d);
        if (out->dims[d] == 0)
            return stdbp_err_set(err, STDBP_EFORMAT, "%s: dimension %d of the IDX header is 0%s",
                                 s->name, d, d == 0 ? " (no samples)" : "");
        if (count > SIZE_MAX / out->dims[d])
            return stdbp_err_set(err, STDBP_EFORMAT,
                                 "%s: the IDX dimensions overflow: their product does not fit "
                                 "in memory (a corrupt header)",
                                 s->name);
        count *= out->dims[d];
    }
    if (count > UINT64_MAX - total || count > SIZE_MAX - total)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: the IDX dimensions overflow: their product does not fit "
                             "in memory (a corrupt header)",
                             s->name);
    total += count;

    /* Check the size before allocating: a lying header costs nothing. */
    if (!s->gz && s->raw_size != total)
        return stdbp_err_set(
            err, STDBP_EFORMAT,
            s->raw_size < total
                ? "%s: truncated: the header (%s) says %llu bytes in all, the file has %llu "
                  "(a partial download? fetch it again)"
                : "%s: trailing garbage: the header (%s) says %llu bytes in all, the file has "
                  "%llu",
            s->name, kind == STDBP_IDX_IMAGES ? "N x rows x columns" : "N labels",
            (unsigned long long)total, (unsigned long long)s->raw_size);
    if (s->gz && total / STDBP_IDX_GZ_MAX_RATIO > s->raw_size + 64)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: truncated or corrupt: the header says %llu bytes of data, "
                             "more than %llu bytes of gzip data can hold",
                             s->name, (unsigned long long)total, (unsigned long long)s->raw_size);

    out->count = count;
    if (!(out->data = malloc(count)))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu bytes of data", s->name,
                             count);
    if ((st = src_read_exact(s, out->data, count,
                             kind == STDBP_IDX_IMAGES ? "the pixels" : "the labels", hlen, err)) !=
        STDBP_OK)
        return st;

    /* Nothing may follow the data. */
    if (s->gz) {
        uint8_t scratch[4096];
        uint64_t extra = 0;
        size_t got;
        do {
            if ((st = src_read(s, scratch, sizeof scratch, &got, err)) != STDBP_OK)
                return st;
            extra += got;
        } while (got == sizeof scratch && extra < IDX_TRAILING_COUNT_MAX);
        if (extra)
            return stdbp_err_set(err, STDBP_EFORMAT,
                                 "%s: trailing garbage: %s%llu bytes after the %llu bytes the "
                                 "header describes (decompressed)",
                                 s->name, got == sizeof scratch ? "at least " : "",
                                 (unsigned long long)extra, (unsigned long long)total);
    }
    return STDBP_OK;
}

void stdbp_idx_array_free(stdbp_idx_array *a)
{
    if (a) {
        free(a->data);
        memset(a, 0, sizeof *a);
    }
}

stdbp_status stdbp_idx_read_file(const char *path, stdbp_idx_kind kind, stdbp_idx_array *out,
                                 stdbp_err *err)
{
    idx_src s;
    stdbp_status st;
    memset(out, 0, sizeof *out);
    st = src_open_file(&s, path, err);
    if (st == STDBP_OK)
        st = idx_read(&s, kind, out, err);
    src_close(&s);
    if (st != STDBP_OK)
        stdbp_idx_array_free(out);
    return st;
}

stdbp_status stdbp_idx_read_mem(const void *buf, size_t len, const char *name, stdbp_idx_kind kind,
                                stdbp_idx_array *out, stdbp_err *err)
{
    idx_src s;
    stdbp_status st;
    memset(out, 0, sizeof *out);
    src_open_mem(&s, buf, len, name);
    st = idx_read(&s, kind, out, err);
    src_close(&s);
    if (st != STDBP_OK)
        stdbp_idx_array_free(out);
    return st;
}

stdbp_status stdbp_idx_assemble(stdbp_idx_array *images, stdbp_idx_array *labels,
                                const char *images_name, const char *labels_name,
                                stdbp_dataset *out, stdbp_err *err)
{
    stdbp_status st = STDBP_OK;
    size_t i, n = images->dims[0];
    int max = 0;

    memset(out, 0, sizeof *out);
    if (strlen(images_name) + strlen(labels_name) + 3 >= sizeof out->source) {
        st = stdbp_err_set(err, STDBP_EINVAL,
                           "IDX paths too long: the images and labels paths are %zu bytes "
                           "together, at most %zu are supported (images %s)",
                           strlen(images_name) + strlen(labels_name), sizeof out->source - 4,
                           images_name);
        goto done;
    }
    if (labels->dims[0] != images->dims[0]) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s has %u labels but %s has %u images", labels_name,
                           (unsigned)labels->dims[0], images_name, (unsigned)images->dims[0]);
        goto done;
    }
    if (images->dims[1] > INT_MAX || images->dims[2] > INT_MAX) {
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: images of %u x %u pixels are too large",
                           images_name, (unsigned)images->dims[1], (unsigned)images->dims[2]);
        goto done;
    }
    if (!(out->labels = malloc(n * sizeof *out->labels))) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu labels", labels_name, n);
        goto done;
    }
    for (i = 0; i < n; i++) {
        out->labels[i] = labels->data[i];
        if (labels->data[i] > max)
            max = labels->data[i];
    }
    out->n = n;
    out->shape.c = 1;
    out->shape.h = (int)images->dims[1];
    out->shape.w = (int)images->dims[2];
    out->dim = (size_t)images->dims[1] * images->dims[2];
    out->u8 = images->data;
    images->data = NULL;
    out->n_classes = max + 1 < 2 ? 2 : max + 1;
    snprintf(out->source, sizeof out->source, "%s + %s", images_name, labels_name);
done:
    if (st != STDBP_OK) {
        free(out->labels);
        memset(out, 0, sizeof *out);
    }
    stdbp_idx_array_free(images);
    stdbp_idx_array_free(labels);
    return st;
}

stdbp_status stdbp_idx_load(const char *images_path, const char *labels_path, stdbp_dataset *out,
                            stdbp_err *err)
{
    stdbp_idx_array im, lb;
    stdbp_status st;
    memset(out, 0, sizeof *out);
    memset(&lb, 0, sizeof lb);
    if ((st = stdbp_idx_read_file(images_path, STDBP_IDX_IMAGES, &im, err)) != STDBP_OK)
        return st;
    if ((st = stdbp_idx_read_file(labels_path, STDBP_IDX_LABELS, &lb, err)) != STDBP_OK) {
        stdbp_idx_array_free(&im);
        return st;
    }
    return stdbp_idx_assemble(&im, &lb, images_path, labels_path, out, err);
}
