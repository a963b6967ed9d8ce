/* Cost of the gradient reduction: the fixed-point int64 MPI_SUM that
 * stdbp uses (bitwise the same for any number of ranks) against a plain
 * double MPI_Allreduce, plus the conversions around it; then the whole
 * update of one step (reduction, conversion, Adam, and for the sharded
 * update the all-gather), replicated on every rank against sharded.
 *   mpirun -np P bench_reduce [N_PARAMS] [REPEATS]
 * Default N_PARAMS 635200 (MLP 784-800-10), REPEATS 200. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"

static double now(void)
{
    return MPI_Wtime();
}

/* The gradient value the bench reduces at index k. */
static double value_at(size_t k)
{
    return 1e-3 * (double)(k % 1000) - 0.5;
}

static void fill(int64_t *q, size_t n)
{
    for (size_t k = 0; k < n; k++)
        q[k] = stdbp_grad_to_fixed(value_at(k));
}

/* One step's update as the trainer does it, both ways (collective). Times
 * are the slowest rank's, per step: [0] the reduction, [1] conversion and
 * Adam, [2] the all-gather (sharded only). */
static void time_update(size_t n, int reps, int sharded, const stdbp_dist_slices *sl, int64_t *q,
                        double *g, double *w, stdbp_optim *opt, double out[3])
{
    double red = 0, comp = 0, gath = 0;
    for (int r = 0; r < reps + 5; r++) {
        fill(q, n);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        stdbp_status st = sharded ? stdbp_dist_reduce_scatter_i64(MPI_COMM_WORLD, q, sl, NULL)
                                  : stdbp_dist_sum_i64(MPI_COMM_WORLD, q, n, NULL);
        double t1 = now();
        const size_t lo = sharded ? sl->lo : 0, hi = sharded ? sl->hi : n;
        stdbp_grad_fixed_mean(q, g + lo, hi - lo, 128);
        if (sharded)
            memset(q + (hi - lo), 0, (n - (hi - lo)) * sizeof *q);
        stdbp_optim_step_slice(opt, w, g, 1e-4, lo, hi);
        double t2 = now();
        if (sharded && stdbp_dist_allgather_f64(MPI_COMM_WORLD, w, sl, NULL) != STDBP_OK)
            st = STDBP_EMPI;
        double t3 = now();
        if (st != STDBP_OK)
            MPI_Abort(MPI_COMM_WORLD, 1);
        if (r >= 5) {
            red += t1 - t0;
            comp += t2 - t1;
            gath += t3 - t2;
        }
    }
    double mine[3] = {red / reps, comp / reps, gath / reps};
    MPI_Reduce(mine, out, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
}

static void bench_update(size_t n, int reps, int rank, int size, int64_t *q, double *g)
{
    stdbp_dist_slices sl;
    stdbp_optim *opt = NULL;
    stdbp_optim_params p = stdbp_optim_defaults();
    double *w = calloc(n ? n : 1, sizeof *w), rep[3], shd[3];
    if (!w || stdbp_dist_slices_init(MPI_COMM_WORLD, n, &sl, NULL) != STDBP_OK ||
        stdbp_optim_create(&p, n, &opt, NULL) != STDBP_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    time_update(n, reps, 0, &sl, q, g, w, opt, rep);
    time_update(n, reps, 1, &sl, q, g, w, opt, shd);
    if (rank == 0)
        printf("update per step on %d ranks (reduction + conversion and Adam + all-gather):\n"
               "  replicated: allreduce      %.3f ms + %.3f ms             = %.3f ms\n"
               "  sharded:    reduce-scatter %.3f ms + %.3f ms + %.3f ms = %.3f ms\n",
               size, 1e3 * rep[0], 1e3 * rep[1], 1e3 * (rep[0] + rep[1]), 1e3 * shd[0],
               1e3 * shd[1], 1e3 * shd[2], 1e3 * (shd[0] + shd[1] + shd[2]));
    stdbp_optim_destroy(&opt);
    stdbp_dist_slices_free(&sl);
    free(w);
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        if (rank == 0)
            printf("usage: mpirun -np P bench_reduce [N_PARAMS] [REPEATS]\n"
                   "Times the fixed-point int64 gradient reduction against a double\n"
                   "MPI_Allreduce of the same length (default 635200 values, 200 repeats),\n"
                   "then one step's whole update (reduction, conversion, Adam), replicated\n"
                   "on every rank against sharded over the ranks.\n");
        MPI_Finalize();
        return 0;
    }
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 635200;
    int reps = argc > 2 ? atoi(argv[2]) : 200;
    int64_t *q = malloc(n * sizeof *q);
    double *d = malloc(n * sizeof *d);
    if (!q || !d)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t k = 0; k < n; k++)
        d[k] = value_at(k);
    fill(q, n);
    double t_i64 = 0, t_f64 = 0, t_conv = 0;
    for (int r = 0; r < reps + 5; r++) {
        int warm = r < 5;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        if (stdbp_dist_sum_i64(MPI_COMM_WORLD, q, n, NULL) != STDBP_OK)
            MPI_Abort(MPI_COMM_WORLD, 1);
        double t1 = now();
        MPI_Barrier(MPI_COMM_WORLD);
        double t2 = now();
        MPI_Allreduce(MPI_IN_PLACE, d, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double t3 = now();
        /* what a step adds around the integer sum: back to double, zeroed */
        stdbp_grad_fixed_mean(q, d, n, 32);
        double t4 = now();
        if (!warm) {
            t_i64 += t1 - t0;
            t_f64 += t3 - t2;
            t_conv += t4 - t3;
        }
    }
    double mx[3] = {t_i64, t_f64, t_conv}, all[3];
    MPI_Reduce(mx, all, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("ranks %d, %zu values (%.1f MB): int64 fixed-point allreduce %.3f ms, "
               "double allreduce %.3f ms, zero+convert %.3f ms (per step, mean of %d)\n",
               size, n, (double)n * 8 / 1e6, 1e3 * all[0] / reps, 1e3 * all[1] / reps,
               1e3 * all[2] / reps, reps);
    bench_update(n, reps, rank, size, q, d);
    free(q);
    free(d);
    MPI_Finalize();
    return 0;
}
