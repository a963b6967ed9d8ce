/* Checkpoint write and read time and file size, for the MLP 784-800-10
 * and the CNN (conv16 k5 p2, pool2, conv32 k5, pool2, flatten, dense128,
 * dense10 on 1x28x28), both with Adam state.
 *
 *   mpirun --oversubscribe -np P bench/bench_ckpt [--reps N] [--dir DIR]
 *
 * Times are wall-clock on rank 0 between barriers (the write includes the
 * fsyncs, the rename and the pruning; the read includes the full
 * verification on rank 0 and the broadcast). Prints one table row per
 * model. Collective on MPI_COMM_WORLD. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stdbp/ckpt.h"
#include "stdbp/stdbp.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static stdbp_net *build(int cnn)
{
    static const stdbp_layer_spec mlp[] = {{STDBP_LAYER_DENSE, 800, 0, 0, 0},
                                           {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    static const stdbp_layer_spec conv[] = {
        {STDBP_LAYER_CONV2D, 16, 5, 1, 2}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_CONV2D, 32, 5, 1, 0}, {STDBP_LAYER_POOL, 0, 2, 0, 0},
        {STDBP_LAYER_FLATTEN, 0, 0, 0, 0}, {STDBP_LAYER_DENSE, 128, 0, 0, 0},
        {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    stdbp_shape in = {1, 28, 28};
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_net *net = NULL;
    stdbp_err err;
    if (stdbp_net_create(in, cnn ? conv : mlp, cnn ? 7 : 2, &np, &net, &err) != STDBP_OK) {
        fprintf(stderr, "bench_ckpt: %s\n", err.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return net;
}

static void fill(double *v, size_t n, uint64_t seed)
{
    stdbp_rng rng;
    stdbp_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = 0.01 * stdbp_rng_normal(&rng);
}

static void die(const char *what, const stdbp_err *err)
{
    fprintf(stderr, "bench_ckpt: %s: %s\n", what, err->msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv)
{
    int rank, size, reps = 5;
    char dir[4096] = "";
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        else {
            if (rank == 0)
                printf("usage: mpirun -np P bench_ckpt [--reps N] [--dir DIR]\n"
                       "  Times checkpoint writes and reads of the MLP 784-800-10 and the\n"
                       "  CNN of docs/PERFORMANCE.md with Adam state (median of N, default 5).\n"
                       "  DIR (default $TMPDIR or /tmp) must be visible to every rank.\n");
            MPI_Finalize();
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (reps < 1)
        reps = 1;
    if (rank == 0) {
        if (!dir[0])
            snprintf(dir, sizeof dir, "%s/bench-ckpt-%ld", base, (long)getpid());
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("# ranks %d, %d repetitions, median (min) in ms; dir %s\n"
               "%-4s %9s %10s %16s %16s %10s\n",
               size, reps, dir, "net", "params", "bytes", "write ms", "read ms", "write MB/s");
    for (int cnn = 0; cnn <= 1; cnn++) {
        stdbp_net *net = build(cnn), *net2 = build(cnn);
        size_t np = stdbp_net_num_params(net);
        stdbp_optim_params op = stdbp_optim_defaults();
        stdbp_optim *opt = NULL, *opt2 = NULL;
        stdbp_train_state st;
        stdbp_err err;
        char path[4096];
        double *tw = malloc((size_t)reps * sizeof *tw), *tr = malloc((size_t)reps * sizeof *tr);
        struct stat sb;
        op.kind = STDBP_OPTIM_ADAM;
        if (!tw || !tr || stdbp_optim_create(&op, np, &opt, &err) != STDBP_OK ||
            stdbp_optim_create(&op, np, &opt2, &err) != STDBP_OK)
            die("setup", &err);
        fill(stdbp_net_params(net), np, 1);
        fill(stdbp_optim_state(opt), stdbp_optim_state_size(opt), 2);
        memset(&st, 0, sizeof st);
        st.seed = 1;
        for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
            double t0, t1;
            st.step = (uint64_t)(r + 2);
            stdbp_optim_set_steps(opt, st.step);
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = MPI_Wtime();
            if (stdbp_ckpt_write(MPI_COMM_WORLD, dir, net, opt, &st, "bench: 1\n", 2, path,
                                 sizeof path, &err) != STDBP_OK)
                die("write", &err);
            MPI_Barrier(MPI_COMM_WORLD);
            t1 = MPI_Wtime();
            if (r >= 0)
                tw[r] = 1e3 * (t1 - t0);
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = MPI_Wtime();
            if (stdbp_ckpt_read(MPI_COMM_WORLD, path, net2, opt2, NULL, NULL, &err) != STDBP_OK)
                die("read", &err);
            MPI_Barrier(MPI_COMM_WORLD);
            t1 = MPI_Wtime();
            if (r >= 0)
                tr[r] = 1e3 * (t1 - t0);
        }
        if (rank == 0) {
            long long bytes = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
            double mw, mr;
            qsort(tw, (size_t)reps, sizeof *tw, cmp_double);
            qsort(tr, (size_t)reps, sizeof *tr, cmp_double);
            mw = tw[reps / 2];
            mr = tr[reps / 2];
            printf("%-4s %9zu %10lld %8.1f (%5.1f) %8.1f (%5.1f) %10.1f\n", cnn ? "cnn" : "mlp", np,
                   bytes, mw, tw[0], mr, tr[0], (double)bytes / 1e6 / (mw / 1e3));
            if (memcmp(stdbp_net_params(net), stdbp_net_params(net2), np * sizeof(double)) != 0)
                printf("# WARNING: the read-back weights differ\n");
            /* Clean up: this benchmark's checkpoints only. */
            char cdir[4200];
            snprintf(cdir, sizeof cdir, "%s/checkpoints", dir);
            for (int r = 0; r < reps + 2; r++) {
                char p[4400];
                snprintf(p, sizeof p, "%s/ckpt-%010d.h5", cdir, r + 1);
                unlink(p);
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        free(tw);
        free(tr);
        stdbp_optim_destroy(&opt);
        stdbp_optim_destroy(&opt2);
        stdbp_net_destroy(&net);
        stdbp_net_destroy(&net2);
    }
    if (rank == 0) {
        char cdir[4200];
        snprintf(cdir, sizeof cdir, "%s/checkpoints", dir);
        rmdir(cdir);
        rmdir(dir);
    }
    MPI_Finalize();
    return 0;
}
