/* Datasets by name: mnist / fashion-mnist under a data directory (plain
 * or gzip), hdf5:PATH, the missing-file message, and, when the real data
 * has been fetched (scripts/fetch-data.sh), a smoke test on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <zlib.h>

#include "stdbp/data.h"
#include "tap/basic.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An IDX file: images (n x 2 x 3, pixel = i + label) or labels. */
static void write_idx(const char *path, int images, uint32_t n, uint8_t first_label, int gz)
{
    uint8_t buf[4 + 12 + 64 * 6];
    size_t len, i;
    put_be32(buf, images ? 0x00000803 : 0x00000801);
    put_be32(buf + 4, n);
    if (images) {
        put_be32(buf + 8, 2);
        put_be32(buf + 12, 3);
        for (i = 0; i < n * 6; i++)
            buf[16 + i] = (uint8_t)(i + first_label);
        len = 16 + n * 6;
    } else {
        for (i = 0; i < n; i++)
            buf[8 + i] = (uint8_t)(first_label + i);
        len = 8 + n;
    }
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g || gzwrite(g, buf, (unsigned)len) != (int)len || gzclose(g) != Z_OK)
            bail("cannot write %s", path);
    } else {
        FILE *fp = fopen(path, "wb");
        if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
            bail("cannot write %s", path);
    }
}

static void make_set(const char *dir, const char *name, int gz)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/%s/train-images-idx3-ubyte%s", dir, name, gz ? ".gz" : "");
    write_idx(p, 1, 6, 0, gz);
    snprintf(p, sizeof p, "%s/%s/train-labels-idx1-ubyte%s", dir, name, gz ? ".gz" : "");
    write_idx(p, 0, 6, 0, gz); /* labels 0..5 */
    snprintf(p, sizeof p, "%s/%s/t10k-images-idx3-ubyte%s", dir, name, gz ? ".gz" : "");
    write_idx(p, 1, 3, 2, gz);
    snprintf(p, sizeof p, "%s/%s/t10k-labels-idx1-ubyte%s", dir, name, gz ? ".gz" : "");
    write_idx(p, 0, 3, 2, gz); /* labels 2..4 */
}

static void real_data(const char *name, size_t n_train, int first_label)
{
    const char *top = getenv("top_srcdir");
    char dir[4096], probe[8192];
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;
    const char *env = getenv("STDBP_DATA");
    if (env && env[0])
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "%s/data", top ? top : ".");
    snprintf(probe, sizeof probe, "%s/%s", dir, name);
    if (access(probe, F_OK) != 0) {
        skip("%s not fetched (scripts/fetch-data.sh puts it in %s)", name, probe);
        skip("%s test split", name);
        return;
    }
    st = stdbp_dataset_open(name, dir, "train", &ds, &err);
    if (!ok(st == STDBP_OK && ds.n == n_train && ds.shape.h == 28 && ds.shape.w == 28 &&
                ds.n_classes == 10 && ds.labels[0] == first_label,
            "real %s train: %zu x 28 x 28, 10 classes, first label %d", name, n_train, first_label))
        diag("%s", st == STDBP_OK ? "wrong shape" : err.msg);
    stdbp_dataset_free(&ds);
    st = stdbp_dataset_open(name, dir, "test", &ds, &err);
    if (!ok(st == STDBP_OK && ds.n == 10000 && ds.n_classes == 10, "real %s test: 10000 samples",
            name))
        diag("%s", err.msg);
    stdbp_dataset_free(&ds);
}

int main(void)
{
    const char *dir = test_tmpdir();
    char p[8192], cwd[4096];
    stdbp_dataset ds;
    stdbp_err err;
    stdbp_status st;

    plan_lazy();
    make_set(dir, "mnist", 0);
    make_set(dir, "fashion-mnist", 1);

    st = stdbp_dataset_open("mnist", dir, "train", &ds, &err);
    if (!is_int(STDBP_OK, st, "mnist train from plain IDX files"))
        diag("%s", err.msg);
    ok(ds.n == 6 && ds.shape.c == 1 && ds.shape.h == 2 && ds.shape.w == 3 && ds.dim == 6,
       "  6 samples of 1 x 2 x 3");
    is_int(6, ds.n_classes, "  n_classes = max label + 1");
    contains(ds.source, "mnist/train-images-idx3-ubyte", "  source names the files");
    stdbp_dataset_free(&ds);

    st = stdbp_dataset_open("fashion-mnist", dir, "test", &ds, &err);
    if (!is_int(STDBP_OK, st, "fashion-mnist test from gzip IDX files"))
        diag("%s", err.msg);
    ok(ds.n == 3 && ds.labels && ds.labels[0] == 2 && ds.labels[2] == 4, "  the t10k pair");
    is_int(5, ds.n_classes, "  n_classes = max label + 1");
    contains(ds.source, "t10k-labels-idx1-ubyte.gz", "  source names the .gz files");
    stdbp_dataset_free(&ds);

    st = stdbp_dataset_open("mnist", dir, NULL, &ds, &err);
    ok(st == STDBP_OK && ds.n == 6, "split NULL means train");
    stdbp_dataset_free(&ds);

    /* data_dir NULL: $STDBP_DATA. */
    setenv("STDBP_DATA", dir, 1);
    st = stdbp_dataset_open("mnist", NULL, "test", &ds, &err);
    ok(st == STDBP_OK && ds.n == 3, "data_dir NULL reads $STDBP_DATA");
    stdbp_dataset_free(&ds);
    unsetenv("STDBP_DATA");

    /* Missing files: the absolute path tried, and what to do. */
    snprintf(p, sizeof p, "%s/empty", dir);
    mkdir(p, 0777);
    stdbp_err_clear(&err);
    st = stdbp_dataset_open("mnist", p, "train", &ds, &err);
    is_int(STDBP_EIO, st, "a missing data set is refused");
    contains(err.msg, p, "  the message gives the full path tried");
    contains(err.msg, "mnist/train-images-idx3-ubyte.gz", "  both the plain and .gz names");
    contains(err.msg, "scripts/fetch-data.sh", "  and says to run scripts/fetch-data.sh");
    if (chdir(dir) == 0 && getcwd(cwd, sizeof cwd)) {
        st = stdbp_dataset_open("mnist", "empty", "train", &ds, &err);
        snprintf(p, sizeof p, "%s/empty/mnist/train-images-idx3-ubyte", cwd);
        contains(err.msg, p, "a relative data_dir is made absolute in the message");
    } else {
        skip("cannot chdir to %s", dir);
    }
    snprintf(p, sizeof p, "%s/mnist/t10k-labels-idx1-ubyte", dir);
    unlink(p);
    st = stdbp_dataset_open("mnist", dir, "test", &ds, &err);
    ok(st == STDBP_EIO && strstr(err.msg, p) != NULL, "one missing file of four is named");

    /* Bad names and splits. */
    stdbp_err_clear(&err);
    is_int(STDBP_EINVAL, stdbp_dataset_open("cifar", dir, "train", &ds, &err),
           "an unknown data set name is refused");
    contains(err.msg, "mnist, fashion-mnist, hdf5:PATH, events:PATH, shd:PATH or nmnist:DIR",
             "  the message lists the choices");
    is_int(STDBP_EINVAL, stdbp_dataset_open("mnist", dir, "valid", &ds, &err),
           "an unknown split is refused");
    contains(err.msg, "train or test", "  the message lists the choices");
    is_int(STDBP_EINVAL, stdbp_dataset_open("hdf5:", dir, "train", &ds, &err),
           "hdf5: without a path is refused");
    is_int(STDBP_EINVAL, stdbp_dataset_open(NULL, dir, "train", &ds, &err), "no name is refused");

    /* hdf5:PATH. */
    {
        uint8_t px[4 * 5] = {0};
        int32_t lab[4] = {0, 1, 2, 1};
        hsize_t d[2] = {4, 5}, ld[1] = {4};
        hid_t fid, sid, did;
        char name[8300];
        snprintf(p, sizeof p, "%s/mine.h5", dir);
        fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        sid = H5Screate_simple(2, d, NULL);
        did =
            H5Dcreate2(fid, "images", H5T_NATIVE_UINT8, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(did, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px);
        H5Dclose(did);
        H5Sclose(sid);
        sid = H5Screate_simple(1, ld, NULL);
        did =
            H5Dcreate2(fid, "labels", H5T_NATIVE_INT32, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(did, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab);
        H5Dclose(did);
        H5Sclose(sid);
        H5Fclose(fid);
        snprintf(name, sizeof name, "hdf5:%s", p);
        st = stdbp_dataset_open(name, "ignored", "train", &ds, &err);
        if (!ok(st == STDBP_OK && ds.n == 4 && ds.dim == 5 && ds.n_classes == 3,
                "hdf5:PATH opens the HDF5 layout"))
            diag("%s", err.msg);
        stdbp_dataset_free(&ds);
        snprintf(name, sizeof name, "hdf5:%s/missing.h5", dir);
        st = stdbp_dataset_open(name, NULL, "train", &ds, &err);
        ok(st == STDBP_EIO && strstr(err.msg, "missing.h5"), "hdf5:PATH missing: names PATH");
    }

    /* Freeing a zeroed dataset is allowed. */
    memset(&ds, 0, sizeof ds);
    stdbp_dataset_free(&ds);
    stdbp_dataset_free(NULL);
    ok(1, "stdbp_dataset_free accepts a zeroed dataset and NULL");

    real_data("mnist", 60000, 5);
    real_data("fashion-mnist", 60000, 9);
    return 0;
}
