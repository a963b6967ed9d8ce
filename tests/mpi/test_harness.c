/* The MPI test harness itself: the expected number of ranks came up, TAP
 * verdicts combine across ranks, and a failure on one rank is seen. */
#include <stdlib.h>

#include "tap/tap_mpi.h"

int main(int argc, char **argv)
{
    int rank, size, want = argc > 1 ? atoi(argv[1]) : 0;
    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(3);
    ok_all(MPI_COMM_WORLD, want == 0 || size == want, "running on %d ranks", size);
    ok_all(MPI_COMM_WORLD, rank >= 0 && rank < size, "every rank has a valid rank");
    /* A collective sum that every rank must agree on. */
    long mine = rank + 1, sum = 0;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    ok_all(MPI_COMM_WORLD, sum == (long)size * (size + 1) / 2, "allreduce sums ranks 1..%d", size);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
