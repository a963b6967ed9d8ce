/* Sharding under MPI: every rank computes the epoch order and its own
 * slice of each global batch by itself; rank 0 gathers the slices and
 * checks that, in rank order, they are exactly the batch it computes
 * serially (no sample lost, none twice), over several epochs and with a
 * partial last batch. Usage: test_shard_mpi [N BATCH EPOCHS]. */
#include <stdlib.h>
#include <string.h>

#include "stdbp/data.h"
#include "tap/tap_mpi.h"

int main(int argc, char **argv)
{
    size_t n = 999, batch = 64, *train = NULL, *val = NULL, *order, *serial, *mine, *got;
    int epochs = 3, rank, size, e, *counts, *displs;
    stdbp_err err;
    uint64_t seed = 20240607;

    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 3) {
        n = (size_t)atol(argv[1]);
        batch = (size_t)atol(argv[2]);
        epochs = atoi(argv[3]);
    }
    plan((unsigned long)(2 + 2 * epochs));

    /* Hold out 101 for validation: the training list is then not 0..n-1,
     * and 898 = 14 x 64 + 2 leaves a last batch smaller than 3 ranks. */
    ok_all(MPI_COMM_WORLD, stdbp_split(n, 101, seed, &train, &val, &err) == STDBP_OK,
           "every rank makes the same split call");
    n -= 101;
    order = malloc(n * sizeof *order);
    serial = malloc(n * sizeof *serial);
    mine = malloc(batch * sizeof *mine);
    got = malloc(batch * sizeof *got);
    counts = malloc((size_t)size * sizeof *counts);
    displs = malloc((size_t)size * sizeof *displs);
    ok_all(MPI_COMM_WORLD, n % batch != 0,
           "%zu samples in batches of %zu: the last is partial (%zu)", n, batch, n % batch);

    for (e = 0; e < epochs; e++) {
        size_t nb = stdbp_num_batches(n, batch), bt, total = 0;
        int same = 1, mismatch = 0;
        stdbp_epoch_order(train, n, seed, (uint64_t)e, order);
        if (rank == 0)
            stdbp_epoch_order(train, n, seed, (uint64_t)e, serial);
        for (bt = 0; bt < nb; bt++) {
            size_t start = bt * batch, len = n - start < batch ? n - start : batch, b, en, k;
            int cnt, r;
            stdbp_shard(len, rank, size, &b, &en);
            cnt = (int)(en - b);
            for (k = 0; k < en - b; k++)
                mine[k] = order[start + b + k];
            MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (rank == 0) {
                displs[0] = 0;
                for (r = 1; r < size; r++)
                    displs[r] = displs[r - 1] + counts[r - 1];
                if ((size_t)(displs[size - 1] + counts[size - 1]) != len)
                    same = 0;
            }
            /* size_t travels as bytes: counts and displacements scaled. */
            if (rank == 0)
                for (r = 0; r < size; r++)
                    counts[r] *= (int)sizeof(size_t), displs[r] *= (int)sizeof(size_t);
            MPI_Gatherv(mine, cnt * (int)sizeof(size_t), MPI_BYTE, got, counts, displs, MPI_BYTE, 0,
                        MPI_COMM_WORLD);
            if (rank == 0) {
                if (same && memcmp(got, serial + start, len * sizeof *got) != 0)
                    same = 0, mismatch = (int)bt;
                total += len;
            }
        }
        if (rank == 0 && !same)
            diag("epoch %d: batch %d differs", e, mismatch);
        ok_all(MPI_COMM_WORLD, same,
               "epoch %d: the gathered slices of every batch are the "
               "serial batch (%d ranks)",
               e, size);
        ok_all(MPI_COMM_WORLD, rank != 0 || total == n, "epoch %d: all %zu samples seen", e, n);
    }
    free(train);
    free(val);
    free(order);
    free(serial);
    free(mine);
    free(got);
    free(counts);
    free(displs);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
