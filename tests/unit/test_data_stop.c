/* A stop check (stdbp_data_set_stop_check) during loading: the IDX
 * (raw and gzip) and HDF5 readers read in chunks of STDBP_DATA_LOAD_CHUNK
 * bytes and ask the check before each, so a signal during a long load
 * ends it within a chunk with STDBP_ESTOPPED and a message naming the
 * file; without a stop the data are the same as ever. Fixtures of a few
 * chunks are written into test_tmpdir(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <zlib.h>

#include "stdbp/data.h"
#include "tap/basic.h"

#define N_IMG 9000 /* 9000 x 28 x 28 bytes: about 6.7 chunks */
#define SIDE 28

static long polls, stop_at; /* calls so far; stop from call stop_at on (0: never) */

static int count_check(void)
{
    polls++;
    return stop_at > 0 && polls >= stop_at;
}

static char paths[4][4096];

static const char *tpath(int slot, const char *name)
{
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir(), name);
    return paths[slot];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* IDX images (N_IMG x SIDE x SIDE) and labels, raw or gzip. */
static void write_idx(const char *path, int images, const uint8_t *data, int gz)
{
    uint8_t head[16];
    size_t hlen = images ? 16 : 8, n = images ? (size_t)N_IMG * SIDE * SIDE : N_IMG;
    put_be32(head, images ? 0x803u : 0x801u);
    put_be32(head + 4, N_IMG);
    put_be32(head + 8, SIDE);
    put_be32(head + 12, SIDE);
    if (gz) {
        gzFile f = gzopen(path, "wb1");
        if (!f || gzwrite(f, head, (unsigned)hlen) != (int)hlen ||
            gzwrite(f, data, (unsigned)n) != (int)n || gzclose(f) != Z_OK)
            bail("cannot write %s", path);
        return;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(head, 1, hlen, f) != hlen || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        bail("cannot write %s", path);
}

static void write_h5(const char *path, const uint8_t *pix, const uint8_t *lab)
{
    hsize_t d[3] = {N_IMG, SIDE, SIDE}, dl = N_IMG;
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s1 = H5Screate_simple(3, d, NULL), s2 = H5Screate_simple(1, &dl, NULL);
    hid_t d1 =
        H5Dcreate2(fid, "images", H5T_NATIVE_UINT8, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d2 =
        H5Dcreate2(fid, "labels", H5T_NATIVE_UINT8, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0 || d1 < 0 || d2 < 0 ||
        H5Dwrite(d1, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, pix) < 0 ||
        H5Dwrite(d2, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0)
        bail("cannot write %s", path);
    H5Dclose(d1);
    H5Dclose(d2);
    H5Sclose(s1);
    H5Sclose(s2);
    H5Fclose(fid);
}

static stdbp_status load(int h5, const char *a, const char *b, stdbp_dataset *ds, stdbp_err *err)
{
    stdbp_err_clear(err);
    return h5 ? stdbp_h5data_load(a, ds, err) : stdbp_idx_load(a, b, ds, err);
}

/* One format: a full load under a check that never stops (chunked: at
 * least 7 polls; the same data), then a stop at the 3rd poll. */
static void check_format(const char *what, int h5, const char *a, const char *b, const uint8_t *pix,
                         const uint8_t *lab)
{
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    int same = 1;

    stdbp_data_set_stop_check(count_check);
    polls = 0;
    stop_at = 0;
    st = load(h5, a, b, &ds, &err);
    is_int(STDBP_OK, st, "%s: loads under a check that never stops %s", what, err.msg);
    ok(polls >= 7, "%s: the check was asked before each chunk (%ld times)", what, polls);
    if (st == STDBP_OK) {
        same = ds.n == N_IMG && ds.dim == SIDE * SIDE && ds.u8 &&
               memcmp(ds.u8, pix, (size_t)N_IMG * SIDE * SIDE) == 0;
        for (size_t i = 0; same && i < N_IMG; i++)
            same = ds.labels[i] == lab[i];
    }
    ok(st == STDBP_OK && same, "%s: pixels and labels as written", what);
    stdbp_dataset_free(&ds);

    polls = 0;
    stop_at = 3;
    st = load(h5, a, b, &ds, &err);
    is_int(STDBP_ESTOPPED, st, "%s: a stop mid-load ends it with STDBP_ESTOPPED", what);
    ok(polls == 3, "%s: at the first chunk after the stop (%ld polls)", what, polls);
    contains(err.msg, a, "%s: the message names the file", what);
    contains(err.msg, "loading stopped by a signal", "%s: and says why", what);
    ok(ds.n == 0 && !ds.u8 && !ds.f32 && !ds.labels, "%s: nothing is left allocated", what);
    stdbp_data_set_stop_check(NULL);
}

int main(void)
{
    size_t np = (size_t)N_IMG * SIDE * SIDE;
    uint8_t *pix = bmalloc(np), *lab = bmalloc(N_IMG);
    stdbp_dataset ds;
    stdbp_err err;

    plan(3 * 8 + 2);
    for (size_t i = 0; i < np; i++)
        pix[i] = (uint8_t)((i * 2654435761u) >> 13);
    for (size_t i = 0; i < N_IMG; i++)
        lab[i] = (uint8_t)(i % 10);
    write_idx(tpath(0, "img-idx3-ubyte"), 1, pix, 0);
    write_idx(tpath(1, "lab-idx1-ubyte"), 0, lab, 0);
    check_format("IDX", 0, paths[0], paths[1], pix, lab);
    write_idx(tpath(0, "img-idx3-ubyte.gz"), 1, pix, 1);
    write_idx(tpath(1, "lab-idx1-ubyte.gz"), 0, lab, 1);
    check_format("IDX gzip", 0, paths[0], paths[1], pix, lab);
    write_h5(tpath(2, "d.h5"), pix, lab);
    check_format("HDF5", 1, paths[2], NULL, pix, lab);

    /* No check set: loads as before, and a check reset to NULL is gone. */
    stop_at = 1;
    is_int(STDBP_OK, load(1, paths[2], NULL, &ds, &err), "no check: loads %s", err.msg);
    stdbp_dataset_free(&ds);
    is_string("stopped by a signal", stdbp_status_name(STDBP_ESTOPPED), "the status's name");
    free(pix);
    free(lab);
    return 0;
}
