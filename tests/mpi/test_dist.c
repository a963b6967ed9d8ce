/* dist: the fixed-point sum is exact and rank-count independent; the
 * slices of the sharded update cover the parameters once, and their
 * reduce-scatter, all-gather and gather move exactly those values; an
 * error on one rank reaches every rank with that rank's message. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/net.h"
#include "tap/tap_mpi.h"

#define N 1000

/* A value for every (n, k) that no two slices share by accident. */
static double slice_value(size_t k)
{
    return 0.5 + (double)k * 1.25;
}

/* Slices of n on this communicator: a partition of [0, n) in rank order,
 * starts on multiples of 8, lengths within 8 of each other. */
static int slices_partition(size_t n, int rank, int size)
{
    stdbp_dist_slices s;
    stdbp_err err;
    if (stdbp_dist_slices_init(MPI_COMM_WORLD, n, &s, &err) != STDBP_OK)
        return 0;
    int good = s.lo == (size_t)s.displ[rank] && s.hi == s.lo + (size_t)s.count[rank];
    size_t next = 0;
    int lmin = s.count[0], lmax = s.count[0];
    for (int r = 0; r < size; r++) {
        good &= (size_t)s.displ[r] == next && s.count[r] >= 0 &&
                (s.displ[r] % 8 == 0 || s.count[r] == 0);
        next += (size_t)s.count[r];
        lmin = s.count[r] < lmin ? s.count[r] : lmin;
        lmax = s.count[r] > lmax ? s.count[r] : lmax;
    }
    good &= next == n && lmax - lmin <= 8;
    stdbp_dist_slices_free(&s);
    return good;
}

static void test_slices(int rank, int size)
{
    static const size_t sizes[] = {0, 1, 5, 8, 9, 63, 1000, 1001, 100003};
    int good = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        good &= slices_partition(sizes[i], rank, size);
    ok_all(MPI_COMM_WORLD, good, "slices partition 0..100003 values over %d ranks", size);

    stdbp_dist_slices s;
    stdbp_err err;
    stdbp_err_clear(&err);
    ok_all(MPI_COMM_WORLD,
           stdbp_dist_slices_init(MPI_COMM_WORLD, (size_t)INT_MAX + 1, &s, &err) == STDBP_EINVAL &&
               strstr(err.msg, "2147483648 parameters") != NULL,
           "more than INT_MAX values: a clear error (%s)", err.msg);

    /* Reduce-scatter: rank r contributes (r + 1) * k at k; this rank's
     * slice must come back as the sum, size (size + 1) / 2 * k, at buf[0]. */
    const size_t n = 1001;
    int64_t ibuf[1001];
    double dbuf[1001];
    stdbp_err_clear(&err);
    int good_init = stdbp_dist_slices_init(MPI_COMM_WORLD, n, &s, &err) == STDBP_OK;
    ok_all(MPI_COMM_WORLD, good_init, "slices of %zu values", n);
    if (!good_init)
        return;
    for (size_t k = 0; k < n; k++)
        ibuf[k] = (int64_t)(rank + 1) * (int64_t)k - (k % 3 == 0 ? INT64_C(1) << 40 : 0);
    int good_rs = stdbp_dist_reduce_scatter_i64(MPI_COMM_WORLD, ibuf, &s, &err) == STDBP_OK;
    const int64_t ranks_sum = (int64_t)size * (size + 1) / 2;
    for (size_t k = s.lo; good_rs && k < s.hi; k++)
        good_rs &=
            ibuf[k - s.lo] == ranks_sum * (int64_t)k - (k % 3 == 0 ? (int64_t)size << 40 : 0);
    ok_all(MPI_COMM_WORLD, good_rs, "reduce-scatter: each rank holds the sum of its slice");

    /* All-gather: each rank writes only its slice; all end with every value. */
    for (size_t k = 0; k < n; k++)
        dbuf[k] = k >= s.lo && k < s.hi ? slice_value(k) : -1.0;
    int good_ag = stdbp_dist_allgather_f64(MPI_COMM_WORLD, dbuf, &s, &err) == STDBP_OK;
    for (size_t k = 0; good_ag && k < n; k++)
        good_ag &= dbuf[k] == slice_value(k);
    ok_all(MPI_COMM_WORLD, good_ag, "all-gather: every rank holds all %zu values", n);

    /* Gather: rank 0 ends with every value; the others keep their buffer. */
    for (size_t k = 0; k < n; k++)
        dbuf[k] = k >= s.lo && k < s.hi ? slice_value(k) : -1.0;
    int good_g = stdbp_dist_gather_f64(MPI_COMM_WORLD, dbuf, &s, &err) == STDBP_OK;
    for (size_t k = 0; good_g && k < n; k++)
        good_g &= dbuf[k] == (rank == 0 || (k >= s.lo && k < s.hi) ? slice_value(k) : -1.0);
    ok_all(MPI_COMM_WORLD, good_g, "gather: rank 0 holds all values, the others only theirs");
    stdbp_dist_slices_free(&s);
}

int main(int argc, char **argv)
{
    int rank, size;
    int64_t buf[N];
    stdbp_err err;

    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    plan(15);

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

    /* The largest value reaches every rank. */
    double mx = 1.5 + rank;
    stdbp_dist_max_f64(MPI_COMM_WORLD, &mx);
    ok_all(MPI_COMM_WORLD, mx == 0.5 + size, "max_f64: every rank gets the largest (%g)", mx);

    test_slices(rank, size);

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

    /* An outcome agreed once and agreed again keeps its one prefix. */
    stdbp_err_clear(&err);
    mine = rank == size - 1 ? stdbp_err_set(&err, STDBP_EIO, "cannot open data/bad.idx") : STDBP_OK;
    all = stdbp_dist_agree(MPI_COMM_WORLD, mine, &err);
    all = stdbp_dist_agree(MPI_COMM_WORLD, all, &err);
    ok_all(MPI_COMM_WORLD, all == STDBP_EIO && strcmp(err.msg, want) == 0,
           "agreeing twice names the rank once (%s)", err.msg);

    /* The same failure on every rank names no rank. */
    stdbp_err_clear(&err);
    mine = stdbp_err_set(&err, STDBP_ECONFIG, "train.batch is too small");
    all = stdbp_dist_agree(MPI_COMM_WORLD, mine, &err);
    ok_all(MPI_COMM_WORLD, all == STDBP_ECONFIG && strcmp(err.msg, "train.batch is too small") == 0,
           "the same failure everywhere keeps its message (%s)", err.msg);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
