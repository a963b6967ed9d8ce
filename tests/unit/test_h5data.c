/* The HDF5 dataset reader: uint8 and float32 round trips in 2-D, 3-D and
 * 4-D, and every bad layout refused with a message naming the file and
 * the dataset. Fixtures are written into test_tmpdir(). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "stdbp/data.h"
#include "tap/basic.h"

static char path_buf[4096];

static const char *tpath(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s.h5", test_tmpdir(), name);
    return path_buf;
}

static void write_dset(hid_t fid, const char *name, hid_t type, int rank, const hsize_t *dims,
                       const void *data)
{
    hid_t sid = H5Screate_simple(rank, dims, NULL);
    hid_t did = H5Dcreate2(fid, name, type, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sid < 0 || did < 0)
        bail("cannot create dataset %s", name);
    if (data && H5Dwrite(did, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        bail("cannot write dataset %s", name);
    H5Dclose(did);
    H5Sclose(sid);
}

/* A file with /images (type, rank, dims, data) and /labels (ltype,
 * lrank, ldims, ldata); a NULL dims leaves that dataset out. */
static const char *make(const char *name, hid_t type, int rank, const hsize_t *dims,
                        const void *data, hid_t ltype, int lrank, const hsize_t *ldims,
                        const void *ldata)
{
    const char *p = tpath(name);
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0)
        bail("cannot create %s", p);
    if (dims)
        write_dset(fid, "images", type, rank, dims, data);
    if (ldims)
        write_dset(fid, "labels", ltype, lrank, ldims, ldata);
    H5Fclose(fid);
    return p;
}

static void expect_fail(const char *p, stdbp_status code, const char *dset, const char *word,
                        const char *what)
{
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    stdbp_err_clear(&err);
    st = stdbp_h5data_load(p, &ds, &err);
    diag("%s", err.msg);
    is_int(code, st, "%s: refused (%s)", what, stdbp_status_name(code));
    contains(err.msg, p, "  the message names the file");
    if (dset)
        contains(err.msg, dset, "  and the dataset %s", dset);
    contains(err.msg, word, "  and says \"%s\"", word);
    ok(ds.u8 == NULL && ds.f32 == NULL && ds.labels == NULL && ds.n == 0,
       "  nothing is handed out");
}

int main(void)
{
    uint8_t u8[2 * 3 * 2 * 2];
    float f32[4 * 6];
    int32_t lab[4] = {1, 0, 4, 2};
    int64_t lab64[4] = {1, 0, 4, 2};
    uint16_t lab16[4] = {9, 0, 1, 2};
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    const char *p;
    size_t i;
    int same;

    for (i = 0; i < sizeof u8; i++)
        u8[i] = (uint8_t)(i * 13 + 1);
    for (i = 0; i < 24; i++)
        f32[i] = (float)i / 23.0f;
    plan_lazy();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* quiet while making fixtures */

    /* uint8, 4-D: N x C x H x W = 2 x 3 x 2 x 2. */
    {
        hsize_t d[4] = {2, 3, 2, 2}, ld[1] = {2};
        p = make("u8-4d", H5T_NATIVE_UINT8, 4, d, u8, H5T_NATIVE_INT32, 1, ld, lab);
        st = stdbp_h5data_load(p, &ds, &err);
        if (!is_int(STDBP_OK, st, "uint8 4-D loads"))
            diag("%s", err.msg);
        ok(ds.n == 2 && ds.shape.c == 3 && ds.shape.h == 2 && ds.shape.w == 2 && ds.dim == 12,
           "  shape 3 x 2 x 2, 2 samples");
        ok(ds.u8 && !ds.f32 && memcmp(ds.u8, u8, 24) == 0, "  pixels stored once, as uint8");
        ok(ds.labels && ds.labels[0] == 1 && ds.labels[1] == 0, "  labels");
        is_int(2, ds.n_classes, "  n_classes at least 2");
        is_string(p, ds.source, "  source is the file");
        is_double(u8[13] / 255.0, stdbp_dataset_pixel(&ds, 1, 1), 0, "  pixel scaled by 1/255");
        stdbp_dataset_free(&ds);
    }
    /* uint8, 2-D: N x D. */
    {
        hsize_t d[2] = {4, 6}, ld[1] = {4};
        p = make("u8-2d", H5T_NATIVE_UINT8, 2, d, u8, H5T_STD_U16LE, 1, ld, lab16);
        st = stdbp_h5data_load(p, &ds, &err);
        if (!is_int(STDBP_OK, st, "uint8 2-D loads (labels uint16)"))
            diag("%s", err.msg);
        ok(ds.n == 4 && ds.shape.c == 6 && ds.shape.h == 1 && ds.shape.w == 1 && ds.dim == 6,
           "  shape (6, 1, 1)");
        ok(ds.u8 && memcmp(ds.u8, u8, 24) == 0, "  pixels");
        is_int(10, ds.n_classes, "  n_classes = max label + 1");
        stdbp_dataset_free(&ds);
    }
    /* float32, 3-D: N x H x W, labels int64 N x 1. */
    {
        hsize_t d[3] = {4, 2, 3}, ld[2] = {4, 1};
        p = make("f32-3d", H5T_IEEE_F32BE, 3, d, NULL, H5T_STD_I64LE, 2, ld, NULL);
        {
            hid_t fid = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
            hid_t did = H5Dopen2(fid, "images", H5P_DEFAULT);
            hid_t lid = H5Dopen2(fid, "labels", H5P_DEFAULT);
            H5Dwrite(did, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, f32);
            H5Dwrite(lid, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab64);
            H5Dclose(lid);
            H5Dclose(did);
            H5Fclose(fid);
        }
        st = stdbp_h5data_load(p, &ds, &err);
        if (!is_int(STDBP_OK, st, "float32 (big-endian) 3-D loads (labels int64 N x 1)"))
            diag("%s", err.msg);
        ok(ds.n == 4 && ds.shape.c == 1 && ds.shape.h == 2 && ds.shape.w == 3 && ds.dim == 6,
           "  shape (1, 2, 3)");
        same = ds.f32 && !ds.u8;
        for (i = 0; same && i < 24; i++)
            same &= ds.f32[i] == f32[i];
        ok(same, "  pixels stored once, as float32, exactly");
        ok(ds.labels && ds.labels[2] == 4 && ds.labels[3] == 2, "  labels");
        is_int(5, ds.n_classes, "  n_classes = max label + 1");
        is_double(f32[7], stdbp_dataset_pixel(&ds, 1, 1), 0, "  pixel as stored");
        stdbp_dataset_free(&ds);
    }
    /* float32, 2-D and 4-D. */
    {
        hsize_t d2[2] = {3, 8}, d4[4] = {2, 2, 3, 2}, ld3[1] = {3}, ld2[1] = {2};
        p = make("f32-2d", H5T_NATIVE_FLOAT, 2, d2, f32, H5T_NATIVE_INT32, 1, ld3, lab);
        st = stdbp_h5data_load(p, &ds, &err);
        ok(st == STDBP_OK && ds.n == 3 && ds.dim == 8 && ds.shape.c == 8 && ds.f32 &&
               ds.f32[23] == f32[23],
           "float32 2-D loads as (8, 1, 1)");
        stdbp_dataset_free(&ds);
        p = make("f32-4d", H5T_NATIVE_FLOAT, 4, d4, f32, H5T_NATIVE_INT32, 1, ld2, lab);
        st = stdbp_h5data_load(p, &ds, &err);
        ok(st == STDBP_OK && ds.n == 2 && ds.dim == 12 && ds.shape.c == 2 && ds.shape.h == 3 &&
               ds.shape.w == 2 && ds.f32 && ds.f32[13] == f32[13],
           "float32 4-D loads as (2, 3, 2)");
        stdbp_dataset_free(&ds);
    }

    /* Errors. */
    {
        hsize_t d[2] = {4, 6}, ld[1] = {4}, ld3[1] = {3}, ld13[2] = {4, 3}, d1[1] = {24},
                d5[5] = {1, 1, 2, 3, 4}, d0[2] = {0, 6}, ld0[1] = {0};
        double f64[24] = {0};
        float bad[24];
        int32_t neg[4] = {1, -1, 0, 2}, big[4] = {1, STDBP_DATA_MAX_CLASSES, 0, 2};
        float fl[4] = {0, 1, 0, 1};

        expect_fail(tpath("no-such"), STDBP_EIO, NULL, "cannot open", "missing file");
        {
            FILE *fp = fopen(tpath("text"), "w");
            fputs("not an HDF5 file at all\n", fp);
            fclose(fp);
        }
        expect_fail(tpath("text"), STDBP_EFORMAT, NULL, "not a readable HDF5 file", "a text file");
        p = make("no-images", 0, 0, NULL, NULL, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "no dataset", "missing /images");
        p = make("no-labels", H5T_NATIVE_UINT8, 2, d, u8, 0, 0, NULL, NULL);
        expect_fail(p, STDBP_EFORMAT, "/labels", "no dataset", "missing /labels");
        p = make("f64", H5T_NATIVE_DOUBLE, 2, d, f64, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "float64", "/images float64");
        p = make("i8", H5T_NATIVE_INT8, 2, d, u8, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "int8", "/images int8 (signed)");
        p = make("u16", H5T_NATIVE_UINT16, 2, d, NULL, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "uint16", "/images uint16");
        p = make("rank1", H5T_NATIVE_UINT8, 1, d1, u8, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "1 dimensions", "/images 1-D");
        p = make("rank5", H5T_NATIVE_UINT8, 5, d5, u8, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_EFORMAT, "/images", "5 dimensions", "/images 5-D");
        p = make("zero", H5T_NATIVE_UINT8, 2, d0, NULL, H5T_NATIVE_INT32, 1, ld0, NULL);
        expect_fail(p, STDBP_EFORMAT, "/images", "no samples", "/images with 0 samples");
        p = make("lab-float", H5T_NATIVE_UINT8, 2, d, u8, H5T_NATIVE_FLOAT, 1, ld, fl);
        expect_fail(p, STDBP_EFORMAT, "/labels", "integer", "/labels float");
        p = make("lab-count", H5T_NATIVE_UINT8, 2, d, u8, H5T_NATIVE_INT32, 1, ld3, lab);
        expect_fail(p, STDBP_EFORMAT, "/labels", "has 3 values but /images has 4",
                    "/labels count != samples");
        p = make("lab-2d", H5T_NATIVE_UINT8, 2, d, u8, H5T_NATIVE_INT32, 2, ld13, NULL);
        expect_fail(p, STDBP_EFORMAT, "/labels", "4 x 3", "/labels N x 3");
        p = make("lab-neg", H5T_NATIVE_UINT8, 2, d, u8, H5T_NATIVE_INT32, 1, ld, neg);
        expect_fail(p, STDBP_ERANGE, "/labels[1]", "is -1", "a negative label");
        p = make("lab-big", H5T_NATIVE_UINT8, 2, d, u8, H5T_NATIVE_INT32, 1, ld, big);
        expect_fail(p, STDBP_ERANGE, "/labels[1]", "65536", "a label past the limit");

        memcpy(bad, f32, sizeof bad);
        bad[6 + 2] = 1.5f;
        p = make("f-above", H5T_NATIVE_FLOAT, 2, d, bad, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_ERANGE, "/images", "sample 1, feature 2 is 1.5", "float32 above 1");
        bad[6 + 2] = f32[8];
        bad[18 + 5] = -0.25f;
        p = make("f-below", H5T_NATIVE_FLOAT, 2, d, bad, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_ERANGE, "/images", "sample 3, feature 5 is -0.25", "float32 below 0");
        bad[18 + 5] = f32[23];
        bad[0] = NAN;
        p = make("f-nan", H5T_NATIVE_FLOAT, 2, d, bad, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_ENUMERIC, "/images", "sample 0, feature 0 is nan", "float32 NaN");
        bad[0] = INFINITY;
        p = make("f-inf", H5T_NATIVE_FLOAT, 2, d, bad, H5T_NATIVE_INT32, 1, ld, lab);
        expect_fail(p, STDBP_ERANGE, "/images", "is inf", "float32 Inf");

        /* /images a group, not a dataset. */
        p = tpath("group");
        {
            hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            hid_t gid = H5Gcreate2(fid, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            write_dset(fid, "labels", H5T_NATIVE_INT32, 1, ld, lab);
            H5Gclose(gid);
            H5Fclose(fid);
        }
        expect_fail(p, STDBP_EFORMAT, "/images", "not a readable dataset", "/images a group");
    }

    /* HDF5 prints nothing of its own: stderr stays empty. */
    {
        char errpath[4096];
        FILE *fp;
        long size = -1;
        int saved = dup(2);
        H5E_auto2_t func;
        void *data;
        H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr); /* HDF5's default */
        snprintf(errpath, sizeof errpath, "%s/stderr.txt", test_tmpdir());
        fflush(stderr);
        fp = freopen(errpath, "w", stderr);
        st = stdbp_h5data_load(tpath("text"), &ds, &err);
        st = stdbp_h5data_load(tpath("group"), &ds, &err);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        if (fp && (fp = fopen(errpath, "r"))) {
            fseek(fp, 0, SEEK_END);
            size = ftell(fp);
            fclose(fp);
        }
        is_int(0, size, "HDF5's own error stack is not printed");
        H5Eget_auto2(H5E_DEFAULT, &func, &data);
        ok(func == (H5E_auto2_t)H5Eprint2, "  and the caller's HDF5 error handler is restored");
    }
    return 0;
}
