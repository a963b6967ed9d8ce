/* Spike logs: a spikes.h5 written collectively by P ranks (each its own
 * rows, uneven, some ranks none) holds exactly what one rank writes alone.
 * Rank 0 writes the reference itself on MPI_COMM_SELF, then compares the
 * two files dataset by dataset, bit for bit. Also: appending, a moment
 * written twice, another net, overlapping rows.
 *
 * With an argument DIR, the P-rank file is written under DIR and kept
 * (for tests/mpi/spike_raster_np2.sh). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/ckpt.h"
#include "stdbp/stdbp.h"
#include "tap/ckpt_fixture.h"
#include "tap/tap_mpi.h"

#define N_REC 6 /* input + 5 layers */

static stdbp_net *make_net(int dense_out)
{
    stdbp_layer_spec specs[5] = {
        {STDBP_LAYER_CONV2D, 3, 3, 1, 1},        {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0},       {STDBP_LAYER_DENSE, 8, 0, 0, 0},
        {STDBP_LAYER_DENSE, dense_out, 0, 0, 0},
    };
    return fixture_net((stdbp_shape){1, 6, 6}, specs, 5);
}

static size_t rec_size(const stdbp_net *net, size_t l)
{
    stdbp_shape s = l == 0 ? stdbp_net_layer(net, 0).in : stdbp_net_layer(net, l - 1).out;
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* The spike time of neuron j of recorded layer l for sample i: a function
 * of the indices only, with silent neurons (inf). */
static double spike_time(size_t i, size_t l, size_t j, int moment)
{
    uint64_t h = (i * 1000003u + l * 7919u + j * 104729u + (uint64_t)moment) * 2654435761u;
    if (h % 5 == 0)
        return INFINITY;
    return (double)(h % 100000) / 1000.0 + (double)l;
}

/* Times and labels of samples [first, first + count). */
static void make_rows(const stdbp_net *net, size_t first, size_t count, int moment,
                      double *times[N_REC], int32_t *labels)
{
    for (size_t l = 0; l < N_REC; l++) {
        size_t w = rec_size(net, l);
        times[l] = malloc((count ? count : 1) * w * sizeof(double));
        if (!times[l])
            bail("out of memory");
        for (size_t i = 0; i < count; i++)
            for (size_t j = 0; j < w; j++)
                times[l][i * w + j] = spike_time(first + i, l, j, moment);
    }
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)((first + i) % 10);
}

static void free_rows(double *times[N_REC])
{
    for (size_t l = 0; l < N_REC; l++)
        free(times[l]);
}

/* This rank's share of n samples: contiguous, uneven (the last ranks get
 * fewer, maybe none). */
static void share(size_t n, int rank, int size, size_t *first, size_t *count)
{
    size_t base = n / (size_t)size, extra = n % (size_t)size, r = (size_t)rank;
    *first = r * base + (r < extra ? r : extra);
    *count = base + (r < extra ? 1 : 0);
}

static stdbp_status write_moment_labels(stdbp_spikelog *log, const stdbp_net *net,
                                        const char *moment, int m, size_t n, MPI_Comm comm,
                                        int with_labels, stdbp_err *err)
{
    int rank, size;
    size_t first, count;
    double *times[N_REC];
    int32_t *labels;
    stdbp_status s;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    share(n, rank, size, &first, &count);
    labels = malloc((count ? count : 1) * sizeof *labels);
    if (!labels)
        bail("out of memory");
    make_rows(net, first, count, m, times, labels);
    s = stdbp_spikelog_write(log, moment, n, first, count, (const double *const *)times,
                             with_labels ? labels : NULL, err);
    free_rows(times);
    free(labels);
    return s;
}

static stdbp_status write_moment(stdbp_spikelog *log, const stdbp_net *net, const char *moment,
                                 int m, size_t n, MPI_Comm comm, stdbp_err *err)
{
    return write_moment_labels(log, net, moment, m, n, comm, 1, err);
}

/* Every dataset of every moment of a equals b's, bit for bit. */
static int same_dataset(hid_t fa, hid_t fb, const char *name, int *compressed)
{
    hid_t da = H5Dopen2(fa, name, H5P_DEFAULT), db = H5Dopen2(fb, name, H5P_DEFAULT);
    hid_t sa, sb, p;
    hssize_t na, nb;
    size_t es;
    char *va, *vb;
    int same = 0;
    if (da < 0 || db < 0) {
        diag("%s missing", name);
        return 0;
    }
    sa = H5Dget_space(da);
    sb = H5Dget_space(db);
    na = H5Sget_simple_extent_npoints(sa);
    nb = H5Sget_simple_extent_npoints(sb);
    hid_t ft = H5Dget_type(da), t;
    es = H5Tget_size(ft);
    t = H5Tget_class(ft) == H5T_FLOAT ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
    H5Tclose(ft);
    va = malloc((size_t)(na > 0 ? na : 1) * es);
    vb = malloc((size_t)(nb > 0 ? nb : 1) * es);
    if (na == nb && va && vb && H5Dread(da, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, va) >= 0 &&
        H5Dread(db, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, vb) >= 0)
        same = memcmp(va, vb, (size_t)na * es) == 0;
    p = H5Dget_create_plist(da);
    if (H5Pget_layout(p) != H5D_CHUNKED || H5Pget_nfilters(p) < 1)
        *compressed = 0;
    else {
        unsigned flags;
        size_t nel = 0;
        char fname[32];
        unsigned cd[8];
        int found = 0;
        for (int k = 0; k < H5Pget_nfilters(p); k++) {
            nel = 8;
            if (H5Pget_filter2(p, (unsigned)k, &flags, &nel, cd, sizeof fname, fname, NULL) ==
                H5Z_FILTER_DEFLATE)
                found = 1;
        }
        if (!found)
            *compressed = 0;
    }
    H5Pclose(p);
    if (!same)
        diag("%s differs", name);
    free(va);
    free(vb);
    H5Sclose(sa);
    H5Sclose(sb);
    H5Dclose(da);
    H5Dclose(db);
    return same;
}

int main(int argc, char **argv)
{
    char dir[4096], refdir[4096], file[4096], reffile[4096];
    int rank, size, keep = argc > 1;
    stdbp_net *net;
    stdbp_spikelog *log = NULL;
    stdbp_err err;
    stdbp_status s;
    const size_t n1 = 37, n2 = 3; /* with 4 ranks, the second leaves one rank idle */

    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(21);
    fixture_run_dir(MPI_COMM_WORLD, keep ? argv[1] : NULL, "par", dir, sizeof dir);
    if (rank == 0)
        PATHF(refdir, "%s/ref", test_tmpdir());
    PATHF(file, "%s/spikes.h5", dir);
    net = make_net(10);

    s = stdbp_spikelog_open(MPI_COMM_WORLD, dir, net, &log, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "open on %d ranks (%s)", size, s ? err.msg : "ok");
    s = write_moment(log, net, "epoch-0001", 1, n1, MPI_COMM_WORLD, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "write %zu samples over %d ranks (%s)", n1, size,
           s ? err.msg : "ok");
    s = write_moment(log, net, "end", 2, n2, MPI_COMM_WORLD, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "write %zu samples, some ranks with none (%s)", n2,
           s ? err.msg : "ok");
    s = write_moment(log, net, "end", 2, n2, MPI_COMM_WORLD, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL && strstr(err.msg, "already holds moment \"end\""),
           "a moment written twice is refused everywhere");
    {
        int has_end = -1, has_other = -1;
        s = stdbp_spikelog_has(log, "end", &has_end, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && has_end == 1, "has: a written moment is there");
        s = stdbp_spikelog_has(log, "epoch-0002", &has_other, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && has_other == 0, "has: an unwritten one is not");
        s = stdbp_spikelog_has(log, "bad/name", &has_other, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL && has_other == 0, "has: a bad name is refused");
    }
    s = write_moment(log, net, "bad/name", 2, n2, MPI_COMM_WORLD, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL, "a moment name with '/' is refused");
    {
        stdbp_spikelog *none = NULL;
        s = stdbp_spikelog_close(&none, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && strstr(err.msg, "moment name"),
               "a clean-up close keeps the earlier error message");
    }
    if (size > 1) {
        double *times[N_REC];
        int32_t lab[4];
        make_rows(net, 0, 2, 0, times, lab);
        s = stdbp_spikelog_write(log, "overlap", 10, (size_t)rank, 2, (const double *const *)times,
                                 lab, &err);
        free_rows(times);
        ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL && strstr(err.msg, "both write rows"),
               "overlapping rows are refused everywhere");
    } else {
        skip("overlap needs 2 ranks");
    }
    s = stdbp_spikelog_close(&log, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK && log == NULL, "close NULLs the handle");
    ok_all(MPI_COMM_WORLD, stdbp_spikelog_close(&log, &err) == STDBP_OK, "close accepts NULL");

    /* Append another moment. */
    s = stdbp_spikelog_open(MPI_COMM_WORLD, dir, net, &log, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "reopen for appending (%s)", s ? err.msg : "ok");
    s = write_moment(log, net, "epoch-0002", 3, n1, MPI_COMM_WORLD, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "append a moment (%s)", s ? err.msg : "ok");
    s = write_moment_labels(log, net, "no-labels", 4, 5, MPI_COMM_WORLD, 0, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "a moment without labels (%s)", s ? err.msg : "ok");
    s = stdbp_spikelog_close(&log, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "close again");

    /* Another net cannot append. */
    {
        stdbp_net *other = make_net(7);
        s = stdbp_spikelog_open(MPI_COMM_WORLD, dir, other, &log, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_EFORMAT && log == NULL && strstr(err.msg, file),
               "a log of another network is refused, named (%s)", err.msg);
        stdbp_net_destroy(&other);
    }

    /* Rank 0: the reference, written alone, and the comparison. */
    {
        int good = 1, same = 1, compressed = 1, infs = 0;
        if (rank == 0) {
            stdbp_spikelog *ref = NULL;
            PATHF(reffile, "%s/spikes.h5", refdir);
            good = stdbp_spikelog_open(MPI_COMM_SELF, refdir, net, &ref, &err) == STDBP_OK &&
                   write_moment(ref, net, "epoch-0001", 1, n1, MPI_COMM_SELF, &err) == STDBP_OK &&
                   write_moment(ref, net, "end", 2, n2, MPI_COMM_SELF, &err) == STDBP_OK &&
                   write_moment(ref, net, "epoch-0002", 3, n1, MPI_COMM_SELF, &err) == STDBP_OK &&
                   stdbp_spikelog_close(&ref, &err) == STDBP_OK;
            if (!good)
                diag("reference: %s", err.msg);
            hid_t fa = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
            hid_t fb = H5Fopen(reffile, H5F_ACC_RDONLY, H5P_DEFAULT);
            static const char *moments[] = {"epoch-0001", "end", "epoch-0002"};
            static const char *names[] = {"input",   "layer00", "layer01", "layer02",
                                          "layer03", "layer04", "labels"};
            for (size_t m = 0; m < 3; m++)
                for (size_t k = 0; k < 7; k++) {
                    char name[64];
                    PATHF(name, "/%s/%s", moments[m], names[k]);
                    same &= same_dataset(fa, fb, name, &compressed);
                }
            /* Silent neurons are stored as inf. */
            {
                hid_t d = H5Dopen2(fa, "/end/layer04", H5P_DEFAULT);
                double v[3 * 10];
                if (d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
                    for (int i = 0; i < 30; i++)
                        infs += isinf(v[i]) && v[i] > 0 &&
                                isinf(spike_time((size_t)i / 10, 5, (size_t)i % 10, 2));
                if (d >= 0)
                    H5Dclose(d);
            }
            same &= H5Lexists(fa, "/overlap", H5P_DEFAULT) == 0;
            same &= H5Lexists(fa, "/no-labels", H5P_DEFAULT) > 0 &&
                    H5Lexists(fa, "/no-labels/labels", H5P_DEFAULT) == 0;
            H5Fclose(fa);
            H5Fclose(fb);
        }
        ok_all(MPI_COMM_WORLD, good, "rank 0 writes the reference alone on MPI_COMM_SELF");
        ok_all(MPI_COMM_WORLD, same, "the %d-rank file equals the reference, bit for bit", size);
        ok_all(MPI_COMM_WORLD, compressed, "every dataset is chunked and deflated");
        ok_all(MPI_COMM_WORLD, rank != 0 || infs > 0, "silent neurons are inf (%d seen)", infs);
    }
    stdbp_net_destroy(&net);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
