/* dist: the fixed-point sum is exact and rank-count independent; an error
 * on one rank reaches every rank with that rank's message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/net.h"
#include "tap/tap_mpi.h"

#define N 1000

int main(int argc, char **argv)
{
    int rank, size;
    int64_t buf[N];
    stdbp_err err;

    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(6);

    /* 12 "samples" with awkward values; sample s is handled by rank
     * s % size. Summed in fixed point the result must not depend on size
     * and must equal the serial sum of the same rounded values. */
    memset(buf, 0, sizeof buf);
    for (int s = 0; s < 12; s++) {
        if (s % size != rank)
            continue;
        for (int k = 0; k < N; k++)
            buf[k] += stdbp_grad_to_fixed(sin(0.37 * s + 0.011 * k) * pow(10.0, (k % 7) - 3));
    }
    stdbp_err_clear(&err);
    ok_all(MPI_COMM_WORLD, stdbp_dist_sum_i64(MPI_COMM_WORLD, buf, N, &err) == STDBP_OK,
           "sum_i64 succeeds");
    int same = 1;
    for (int k = 0; k < N; k++) {
        int64_t want = 0;
        for (int s = 0; s < 12; s++)
            want += stdbp_grad_to_fixed(sin(0.37 * s + 0.011 * k) * pow(10.0, (k % 7) - 3));
        same &= buf[k] == want;
    }
    ok_all(MPI_COMM_WORLD, same, "fixed-point sum equals the serial sum bitwise on %d ranks", size);

    /* No failure: everyone gets OK. */
    stdbp_err_clear(&err);
    ok_all(MPI_COMM_WORLD, stdbp_dist_agree(MPI_COMM_WORLD, STDBP_OK, &err) == STDBP_OK,
           "agree with no failure");

    /* The last rank fails: every rank learns its code and message. */
    stdbp_err_clear(&err);
    stdbp_status mine = STDBP_OK;
    if (rank == size - 1)
        mine = stdbp_err_set(&err, STDBP_EIO, "cannot open data/bad.idx");
    stdbp_status all = stdbp_dist_agree(MPI_COMM_WORLD, mine, &err);
    ok_all(MPI_COMM_WORLD, all == STDBP_EIO, "every rank sees the failing rank's status");
    char want[128];
    snprintf(want, sizeof want, "rank %d: cannot open data/bad.idx", size - 1);
    ok_all(MPI_COMM_WORLD, strcmp(err.msg, want) == 0, "every rank has the message '%s'", want);

    /* Two ranks fail: the lower one's message wins. */
    stdbp_err_clear(&err);
    mine = STDBP_OK;
    if (rank >= size - 2)
        mine = stdbp_err_set(&err, rank == size - 2 ? STDBP_ERANGE : STDBP_EIO, "from %d", rank);
    all = stdbp_dist_agree(MPI_COMM_WORLD, mine, &err);
    ok_all(MPI_COMM_WORLD, all == (size >= 2 ? STDBP_ERANGE : STDBP_EIO),
           "the lowest failing rank decides");
    return tap_mpi_finish(MPI_COMM_WORLD);
}
