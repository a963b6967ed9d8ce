/* Checkpoints on P ranks: a collective write read back on every rank;
 * damaged files, another net and ranks that disagree give the same clear
 * error on every rank (no hang); pruning and find_latest collectively.
 *
 * With an argument DIR, only writes an example checkpoint (the conv net
 * with Adam state) under DIR for tests/mpi/ckpt_h5py_np2.sh. */
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stdbp/ckpt.h"
#include "stdbp/stdbp.h"
#include "tap/ckpt_fixture.h"
#include "tap/tap_mpi.h"

static const char *config_text = "run: {name: mpi, seed: 7}\n";

static stdbp_net *make_net(int conv_out)
{
    stdbp_layer_spec specs[5] = {
        {STDBP_LAYER_CONV2D, conv_out, 3, 1, 1}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0},       {STDBP_LAYER_DENSE, 12, 0, 0, 0},
        {STDBP_LAYER_DENSE, 10, 0, 0, 0},
    };
    return fixture_net((stdbp_shape){2, 10, 10}, specs, 5);
}

static stdbp_train_state make_state(uint64_t step)
{
    stdbp_train_state st;
    memset(&st, 0, sizeof st);
    st.step = step;
    st.epoch = 1;
    st.batch = 5;
    st.seed = 7;
    stdbp_rng_seed(&st.rng, 7);
    st.best_val_acc = 0.5;
    st.best_epoch = 0;
    /* Non-zero progress, so that every rank's read checks its broadcast. */
    st.epoch_loss = -((int64_t)3 << 40) - 5;
    st.epoch_correct = 17;
    st.epoch_samples = 20;
    st.wall_seconds = 12.5 + (double)step / 1024.0;
    return st;
}

/* Every rank reads path into fresh objects: status, and whether the data
 * equals the reference. */
static stdbp_status read_all(const char *path, const stdbp_net *ref, const stdbp_optim *ref_opt,
                             const stdbp_train_state *ref_st, int *same, stdbp_err *err)
{
    stdbp_net *net = make_net(4);
    size_t np = stdbp_net_num_params(net);
    stdbp_optim *opt = fixture_optim(STDBP_OPTIM_ADAM, np);
    stdbp_train_state st;
    char *cfg = NULL;
    stdbp_status s = stdbp_ckpt_read(MPI_COMM_WORLD, path, net, opt, &st, &cfg, err);
    *same = s == STDBP_OK &&
            memcmp(stdbp_net_params(net), stdbp_net_params_const(ref), np * sizeof(double)) == 0 &&
            memcmp(stdbp_optim_state(opt), stdbp_optim_state((stdbp_optim *)ref_opt),
                   stdbp_optim_state_size(opt) * sizeof(double)) == 0 &&
            stdbp_optim_steps(opt) == stdbp_optim_steps(ref_opt) &&
            memcmp(&st, ref_st, sizeof st) == 0 && cfg && strcmp(cfg, config_text) == 0;
    free(cfg);
    stdbp_optim_destroy(&opt);
    stdbp_net_destroy(&net);
    return s;
}

static void flip_weight_byte(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d, s;
    haddr_t addr = 0;
    hsize_t size = 0, offs[4];
    unsigned mask;
    unsigned char c;
    int fd;
    d = H5Dopen2(f, "/weights/layer03_dense", H5P_DEFAULT);
    s = H5Dget_space(d);
    if (f < 0 || d < 0 || H5Dget_chunk_info(d, s, 0, offs, &mask, &addr, &size) < 0)
        bail("chunk info");
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, &c, 1, (off_t)(addr + size / 3)) != 1)
        bail("flip");
    c ^= 1;
    if (pwrite(fd, &c, 1, (off_t)(addr + size / 3)) != 1)
        bail("flip");
    close(fd);
}

/* Write the example for the h5py test and stop. */
static int write_example(const char *dir)
{
    stdbp_net *net = make_net(4);
    stdbp_optim *opt = fixture_optim(STDBP_OPTIM_ADAM, stdbp_net_num_params(net));
    stdbp_train_state st = make_state(42);
    stdbp_err err;
    char path[4096];
    int rc;
    fixture_fill_normal(stdbp_net_params(net), stdbp_net_num_params(net), 11);
    fixture_fill_normal(stdbp_optim_state(opt), stdbp_optim_state_size(opt), 12);
    stdbp_optim_set_steps(opt, 42);
    rc = stdbp_ckpt_write(MPI_COMM_WORLD, dir, net, opt, &st, config_text, 0, path, sizeof path,
                          &err) != STDBP_OK;
    if (rc)
        fprintf(stderr, "write_example: %s\n", err.msg);
    stdbp_optim_destroy(&opt);
    stdbp_net_destroy(&net);
    MPI_Finalize();
    return rc;
}

int main(int argc, char **argv)
{
    char dir[4096], path[4096], path2[4096], found[4096];
    int rank, size, same;
    stdbp_net *net;
    stdbp_optim *opt;
    stdbp_train_state st;
    stdbp_err err;
    stdbp_status s;

    MPI_Init(&argc, &argv);
    if (argc > 1)
        return write_example(argv[1]);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(23);
    /* One directory for all ranks: rank 0's (removed by rank 0 at exit). */
    fixture_run_dir(MPI_COMM_WORLD, NULL, "run", dir, sizeof dir);

    net = make_net(4);
    opt = fixture_optim(STDBP_OPTIM_ADAM, stdbp_net_num_params(net));
    fixture_fill_normal(stdbp_net_params(net), stdbp_net_num_params(net), 1);
    fixture_fill_normal(stdbp_optim_state(opt), stdbp_optim_state_size(opt), 2);
    stdbp_optim_set_steps(opt, 100);
    st = make_state(100);

    s = stdbp_ckpt_write(MPI_COMM_WORLD, dir, net, opt, &st, config_text, 3, path, sizeof path,
                         &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "collective write on %d ranks (%s)", size,
           s ? err.msg : "ok");
    ok_all(MPI_COMM_WORLD, strstr(path, "/checkpoints/ckpt-0000000100.h5") != NULL,
           "every rank gets the path");
    ok_all(MPI_COMM_WORLD, fixture_exists(path), "every rank sees the file");
    {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        uint64_t ranks = 0;
        hid_t a = f >= 0 ? H5Aopen(f, "writer_ranks", H5P_DEFAULT) : -1;
        if (a >= 0) {
            H5Aread(a, H5T_NATIVE_UINT64, &ranks);
            H5Aclose(a);
        }
        if (f >= 0)
            H5Fclose(f);
        ok_all(MPI_COMM_WORLD, ranks == (uint64_t)size, "writer_ranks records %d", size);
    }
    s = read_all(path, net, opt, &st, &same, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_OK, "collective read (%s)", s ? err.msg : "ok");
    ok_all(MPI_COMM_WORLD, same, "every rank has the same weights, state, steps and config");

    /* A flipped byte in a weight: the same error on every rank. */
    if (rank == 0) {
        PATHF(path2, "%s/flipped.h5", dir);
        FILE *in = fopen(path, "rb"), *out = fopen(path2, "wb");
        char buf[4096];
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        flip_weight_byte(path2);
    }
    MPI_Bcast(path2, sizeof path2, MPI_CHAR, 0, MPI_COMM_WORLD);
    s = read_all(path2, net, opt, &st, &same, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EFORMAT, "a flipped byte fails on every rank");
    ok_all(MPI_COMM_WORLD, strstr(err.msg, path2) && strstr(err.msg, "Fletcher32"),
           "... with the file named and the reason (%s)", err.msg);

    /* Missing file. */
    PATHF(path2, "%s/none.h5", dir);
    s = read_all(path2, net, opt, &st, &same, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EIO && strstr(err.msg, path2),
           "a missing file fails on every rank, named");

    /* Another net. */
    {
        stdbp_net *other = make_net(5);
        s = stdbp_ckpt_read(MPI_COMM_WORLD, path, other, NULL, NULL, NULL, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_ECONFIG, "another net is refused on every rank");
        ok_all(MPI_COMM_WORLD, strstr(err.msg, "layer 0 is conv2d 2x10x10->4x10x10") != NULL,
               "... explaining the layer (%s)", err.msg);
        stdbp_net_destroy(&other);
    }

    /* Ranks that disagree: an error everywhere, not a hang. */
    if (size > 1) {
        stdbp_net *mixed = make_net(rank == size - 1 ? 5 : 4);
        s = stdbp_ckpt_write(MPI_COMM_WORLD, dir, mixed, NULL, &st, config_text, 3, NULL, 0, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL && strstr(err.msg, "different networks"),
               "a write with different nets on the ranks fails everywhere");
        s = stdbp_ckpt_read(MPI_COMM_WORLD, path, mixed, NULL, NULL, NULL, &err);
        ok_all(MPI_COMM_WORLD, s != STDBP_OK, "so does a read");
        stdbp_net_destroy(&mixed);
    } else {
        skip("rank disagreement needs 2 ranks");
        skip("rank disagreement needs 2 ranks");
    }
    /* An error on one rank only (a bad argument there). */
    s = stdbp_ckpt_write(MPI_COMM_WORLD, rank == size - 1 ? NULL : dir, net, opt, &st, config_text,
                         3, NULL, 0, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL, "an error on rank %d reaches every rank", size - 1);
    {
        char want[32];
        snprintf(want, sizeof want, "rank %d: ", size - 1);
        ok_all(MPI_COMM_WORLD, size == 1 || strncmp(err.msg, want, strlen(want)) == 0,
               "... naming the rank (%s)", err.msg);
    }

    /* Pruning and find_latest, collectively. */
    {
        int good = 1;
        for (uint64_t k = 101; k <= 105; k++) {
            st.step = k;
            good &= stdbp_ckpt_write(MPI_COMM_WORLD, dir, net, opt, &st, config_text, 3, NULL, 0,
                                     &err) == STDBP_OK;
        }
        ok_all(MPI_COMM_WORLD, good, "five more collective writes with keep = 3");
        PATHF(path2, "%s/checkpoints/ckpt-0000000102.h5", dir);
        ok_all(MPI_COMM_WORLD, !fixture_exists(path2) && !fixture_exists(path),
               "older checkpoints are pruned");
        PATHF(path2, "%s/checkpoints/ckpt-0000000103.h5", dir);
        ok_all(MPI_COMM_WORLD, fixture_exists(path2), "the three newest remain");
        s = stdbp_ckpt_find_latest(MPI_COMM_WORLD, dir, found, sizeof found, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && strstr(found, "ckpt-0000000105.h5"),
               "find_latest: 105 (%s)", found);
        PATHF(path2, "%s/checkpoints/ckpt-0000000105.h5", dir);
        if (rank == 0)
            flip_weight_byte(path2);
        MPI_Barrier(MPI_COMM_WORLD);
        s = stdbp_ckpt_find_latest(MPI_COMM_WORLD, dir, found, sizeof found, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && strstr(found, "ckpt-0000000104.h5"),
               "find_latest skips a corrupt newest on every rank (%s)", found);
        st.step = 104;
        s = read_all(found, net, opt, &st, &same, &err);
        ok_all(MPI_COMM_WORLD, s == STDBP_OK && same, "and it loads");
    }

    /* Spread the write over a shared directory that all ranks can see:
     * nothing left under a temporary name. */
    {
        char tmp[4096];
        PATHF(tmp, "%s/checkpoints/.ckpt-0000000104.h5.tmp", dir);
        ok_all(MPI_COMM_WORLD, !fixture_exists(tmp), "no temporary files remain");
    }
    s = stdbp_ckpt_read(MPI_COMM_WORLD, path, NULL, NULL, NULL, NULL, &err);
    ok_all(MPI_COMM_WORLD, s == STDBP_EINVAL, "a read without a net is refused everywhere");

    stdbp_optim_destroy(&opt);
    stdbp_net_destroy(&net);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
