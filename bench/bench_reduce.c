/* Cost of the gradient reduction: the fixed-point int64 MPI_SUM that
 * stdbp uses (bitwise the same for any number of ranks) against a plain
 * double MPI_Allreduce, plus the conversions around it.
 *   mpirun -np P bench_reduce [N_PARAMS] [REPEATS]
 * Default N_PARAMS 635200 (MLP 784-800-10), REPEATS 200. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/net.h"

static double now(void) { return MPI_Wtime(); }

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
                   "MPI_Allreduce of the same length (default 635200 values, 200 repeats).\n");
        MPI_Finalize();
        return 0;
    }
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 635200;
    int reps = argc > 2 ? atoi(argv[2]) : 200;
    int64_t *q = malloc(n * sizeof *q);
    double *d = malloc(n * sizeof *d);
    if (!q || !d)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t k = 0; k < n; k++) {
        d[k] = 1e-3 * (double)(k % 1000) - 0.5;
        q[k] = stdbp_grad_to_fixed(d[k]);
    }
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
    free(q);
    free(d);
    MPI_Finalize();
    return 0;
}
