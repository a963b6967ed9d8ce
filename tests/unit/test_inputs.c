/* Odd inputs caught where they are read, before any training time is
 * spent: FIFOs, directories and devices refused without blocking (inputs)
 * or replacing them (outputs); paths that do not fit refused, not cut; an
 * HDF5 data set whose header declares more values than the file stores;
 * a uint64 label above 2^63 - 1 shown as it is; labels beyond a network's
 * outputs; and the limits that used to fail late (the last layer's
 * outputs, network.theta, deploy.time_steps) in stdbp_config_validate,
 * each message naming the key and the allowed range. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "stdbp/config.h"
#include "stdbp/data.h"
#include "tap/basic.h"
#include "util/fsutil.h"

static char buf[4096];

static const char *tpath(const char *name)
{
    snprintf(buf, sizeof buf, "%s/%s", test_tmpdir(), name);
    return buf;
}

/* /images declared n x 28 x 28 uint8 but never written (late allocation:
 * nothing stored), /labels written. */
static void make_unwritten(const char *p, hsize_t n)
{
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d[3] = {n, 28, 28}, ld[1] = {2};
    int32_t lab[2] = {0, 1};
    hid_t sid = H5Screate_simple(3, d, NULL);
    hid_t did =
        H5Dcreate2(fid, "images", H5T_NATIVE_UINT8, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t lsid = H5Screate_simple(1, ld, NULL);
    hid_t ldid =
        H5Dcreate2(fid, "labels", H5T_NATIVE_INT32, lsid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0 || did < 0 || ldid < 0 ||
        H5Dwrite(ldid, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0)
        bail("cannot write %s", p);
    H5Dclose(ldid);
    H5Sclose(lsid);
    H5Dclose(did);
    H5Sclose(sid);
    H5Fclose(fid);
}

/* 2 images of 2 x 2, labels as uint64 (one above INT64_MAX at index 1). */
static void make_u64_labels(const char *p)
{
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d[3] = {2, 2, 2}, ld[1] = {2};
    uint8_t px[8] = {0};
    uint64_t lab[2] = {1, UINT64_C(9223372036854775813)};
    hid_t sid = H5Screate_simple(3, d, NULL), lsid = H5Screate_simple(1, ld, NULL);
    hid_t did =
        H5Dcreate2(fid, "images", H5T_NATIVE_UINT8, sid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t ldid =
        H5Dcreate2(fid, "labels", H5T_STD_U64LE, lsid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0 || H5Dwrite(did, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px) < 0 ||
        H5Dwrite(ldid, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0)
        bail("cannot write %s", p);
    H5Dclose(ldid);
    H5Dclose(did);
    H5Sclose(lsid);
    H5Sclose(sid);
    H5Fclose(fid);
}

/* validate cfg; the message must contain each of the NULL-ended words. */
static void expect_invalid(const stdbp_config *cfg, const char *what, ...);

static void expect_invalid(const stdbp_config *cfg, const char *what, ...)
{
    stdbp_err err;
    stdbp_err_clear(&err);
    stdbp_status st = stdbp_config_validate(cfg, &err);
    is_int(STDBP_ECONFIG, st, "%s: refused by stdbp_config_validate", what);
    diag("%s", err.msg);
    va_list ap;
    va_start(ap, what);
    for (const char *w; (w = va_arg(ap, const char *));)
        contains(err.msg, w, "  the message says \"%s\"", w);
    va_end(ap);
}

int main(void)
{
    stdbp_err err;
    stdbp_status st;
    stdbp_dataset ds;
    stdbp_config cfg;
    char fifo[4096], dir[4096], reg[4096];
    int fd = -1;

    plan_lazy();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(fifo, sizeof fifo, "%s", tpath("fifo"));
    snprintf(dir, sizeof dir, "%s", tpath("adir"));
    snprintf(reg, sizeof reg, "%s", tpath("reg.txt"));
    if (mkfifo(fifo, 0600) != 0 || mkdir(dir, 0700) != 0)
        sysbail("cannot make a FIFO and a directory under %s", test_tmpdir());
    FILE *f = fopen(reg, "w");
    if (!f || fputs("run: {name: x}\n", f) < 0 || fclose(f) != 0)
        sysbail("cannot write %s", reg);

    /* Inputs: a FIFO without a writer would block open(); it is refused. */
    time_t t0 = time(NULL);
    st = stdbp_open_regular(fifo, &fd, &err);
    is_int(STDBP_EIO, st, "stdbp_open_regular(FIFO): refused");
    ok(time(NULL) - t0 <= 5 && fd == -1, "  at once, no descriptor left");
    contains(err.msg, "is a FIFO (named pipe), not a regular file", "  says what it is");
    st = stdbp_open_regular(dir, &fd, &err);
    contains(err.msg, "is a directory, not a regular file", "stdbp_open_regular(dir): refused");
    st = stdbp_open_regular("/dev/null", &fd, &err);
    contains(err.msg, "is a character device", "stdbp_open_regular(/dev/null): refused");
    st = stdbp_open_regular(reg, &fd, &err);
    ok(st == STDBP_OK && fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
       "a regular file opens, O_NONBLOCK cleared");
    if (fd >= 0)
        close(fd);
    stdbp_config_defaults(&cfg);
    st = stdbp_config_load(fifo, &cfg, &err);
    ok(st != STDBP_OK && strstr(err.msg, "FIFO"), "stdbp_config_load(FIFO): refused, no block");
    st = stdbp_h5data_load(fifo, &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "FIFO"), "stdbp_h5data_load(FIFO): refused, no block");
    st = stdbp_h5data_load(dir, &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "is a directory") &&
           !strstr(err.msg, "18446744073709551615"),
       "stdbp_h5data_load(dir): \"is a directory\", no raw HDF5 text");
    st = stdbp_idx_load(fifo, reg, &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "FIFO"), "stdbp_idx_load(FIFO): refused, no block");

    /* Outputs: only a regular file (or nothing) may be replaced. */
    is_int(STDBP_OK, stdbp_check_output_file(reg, &err), "output over a regular file: allowed");
    is_int(STDBP_OK, stdbp_check_output_file(tpath("new.h5"), &err),
           "output to a new path: allowed");
    is_int(STDBP_EIO, stdbp_check_output_file(fifo, &err), "output over a FIFO: refused");
    contains(err.msg, "refusing to replace it", "  says so");
    is_int(STDBP_EIO, stdbp_check_output_file("/dev/null", &err), "output over /dev/null: refused");
    is_int(STDBP_EIO, stdbp_check_output_file(dir, &err), "output over a directory: refused");

    /* Paths are never cut. */
    {
        char small[16];
        st = stdbp_path_format(small, sizeof small, &err, "%s/%s", "abcdefgh", "report.json");
        is_int(STDBP_EINVAL, st, "a path that does not fit: refused");
        contains(err.msg, "path too long (20 bytes, at most 15)", "  says so, with the sizes");
        is_int(STDBP_OK, stdbp_path_format(small, sizeof small, &err, "%s/%s", "a", "b.h5"),
               "one that fits: formatted");
        is_string("a/b.h5", small, "  whole");
    }

    /* HDF5: 2e6 x 28 x 28 declared, nothing stored: refused before any
     * allocation (1.5 GB otherwise). */
    make_unwritten(tpath("unwritten.h5"), 2000000);
    stdbp_err_clear(&err);
    st = stdbp_h5data_load(tpath("unwritten.h5"), &ds, &err);
    is_int(STDBP_EFORMAT, st, "an unwritten 2e6 x 28 x 28 /images: refused");
    contains(err.msg, "/images declares 1568000000 bytes of values but none of them were written",
             "  names the dataset and the sizes");
    ok(ds.u8 == NULL && ds.n == 0, "  nothing handed out");

    /* uint64 labels above INT64_MAX are printed as they are. */
    make_u64_labels(tpath("u64.h5"));
    st = stdbp_h5data_load(tpath("u64.h5"), &ds, &err);
    is_int(STDBP_ERANGE, st, "a uint64 label of 2^63 + 5: refused");
    contains(err.msg, "/labels[1] is 9223372036854775813", "  printed as it is, not saturated");

    /* Labels against a network's outputs. */
    {
        int32_t lab[3] = {0, 9, 37};
        stdbp_dataset d3;
        memset(&d3, 0, sizeof d3);
        d3.n = 3;
        d3.labels = lab;
        snprintf(d3.source, sizeof d3.source, "test.h5");
        is_int(STDBP_OK, stdbp_dataset_check_labels(&d3, 40, &err), "labels < 40 outputs: fine");
        is_int(STDBP_ERANGE, stdbp_dataset_check_labels(&d3, 10, &err),
               "a label of 37 on 10 outputs: refused");
        is_string("test.h5: sample 2 has label 37, but the network has 10 outputs (labels 0..9)",
                  err.msg, "  naming the file, the sample and the label");
    }

    /* Limits that failed late, now in validation. */
    stdbp_config_defaults(&cfg);
    {
        stdbp_err e0;
        if (stdbp_config_validate(&cfg, &e0) != STDBP_OK)
            bail("the defaults do not validate: %s", e0.msg);
    }
    cfg.network.layers[cfg.network.n_layers - 1].out = 5000;
    expect_invalid(&cfg, "a last layer of 5000 outputs", "network.layers[1].out", "[1, 4096]",
                   (const char *)NULL);
    stdbp_config_defaults(&cfg);
    cfg.network.neuron.theta = 1e308;
    expect_invalid(&cfg, "network.theta = 1e308", "network.theta", "1e+100", (const char *)NULL);
    stdbp_config_defaults(&cfg);
    cfg.deploy.time_steps = 16777216;
    expect_invalid(&cfg, "deploy.time_steps = 16777216 (2 dense layers)", "deploy.time_steps",
                   "allowed range with this network is [1, 5592405]", (const char *)NULL);
    cfg.deploy.enabled = 0;
    is_int(STDBP_OK, stdbp_config_validate(&cfg, &err), "  accepted with deploy.enabled false");
    stdbp_config_defaults(&cfg);
    cfg.network.neuron.t_max = 2.0;
    cfg.deploy.time_steps = 9000000;
    expect_invalid(&cfg, "deploy.time_steps = 9000000 with network.t_max 2", "deploy.time_steps",
                   "[1, 8388608]", (const char *)NULL);
    cfg.deploy.time_steps = 8388608;
    is_int(STDBP_OK, stdbp_config_validate(&cfg, &err), "  8388608 is accepted");

    /* --set data.train=hdf5: (YAML reads a map) suggests quotes. */
    stdbp_config_defaults(&cfg);
    st = stdbp_config_set(&cfg, "data.train=hdf5:", &err);
    is_int(STDBP_ECONFIG, st, "--set data.train=hdf5: refused");
    contains(err.msg, "quote the value, e.g. --set 'data.train=\"hdf5:\"'", "  suggests quotes");
    return 0;
}
