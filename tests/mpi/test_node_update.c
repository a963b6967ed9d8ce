/* The update through one node's shared memory (stdbp_dist_node_*): the
 * window exists when every node holds as many ranks (one node here: node
 * 0 of 1); each part is 64-byte aligned; accumulators start at zero; a
 * value one rank stores is what every other rank loads after a sync; the
 * parameters are one copy; take_sum adds a slice over the node's ranks
 * and zeroes it; the work counter hands out every index exactly once
 * over all ranks and threads, and restarts at 0; the summed mean over
 * every rank's accumulator equals the mean of the reduce-scatter's way,
 * and zeroes the slice it read; and with the test hook that fails window
 * creation, no window and one warning. Usage: test_node_update. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/stdbp.h"
#include "tap/tap_mpi.h"
#include "util/test_hooks.h"

static int warnings;

static void on_log(stdbp_log_level level, const char *msg, void *user)
{
    (void)msg;
    (void)user;
    warnings += level == STDBP_LOG_WARNING;
}

/* Rank r's value at position i: differs by rank and position, negative
 * for some, near the int64 range for a few (the sums wrap). */
static int64_t value(int r, size_t i)
{
    uint64_t v = (uint64_t)(r + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)i * 0xBF58476D1CE4E5B9ull;
    return (int64_t)(i % 97 == 0 ? v : v >> 20) * (i % 3 ? 1 : -1);
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    tap_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    stdbp_set_log_handler(on_log, NULL);
    plan(9);

    const size_t n = 1003, n_acc = n + 5, per = 40; /* per: counter takes per rank */
    stdbp_dist_node *nd = NULL;
    stdbp_err err;
    stdbp_status st = stdbp_dist_node_create(MPI_COMM_WORLD, n_acc, n, &nd, &err);
    ok_all(MPI_COMM_WORLD,
           st == STDBP_OK && nd && stdbp_dist_node_count(nd) == 1 && stdbp_dist_node_index(nd) == 0,
           "one node: a window, node 0 of 1 (%d ranks)", size);
    if (!nd)
        return tap_mpi_finish(MPI_COMM_WORLD);

    int aligned = (uintptr_t)stdbp_dist_node_params(nd) % 64 == 0, zero = 1;
    for (int r = 0; r < size; r++) {
        const int64_t *a = stdbp_dist_node_acc(nd, r);
        aligned &= (uintptr_t)a % 64 == 0;
        for (size_t i = 0; i < n_acc; i++)
            zero &= a[i] == 0;
    }
    ok_all(MPI_COMM_WORLD, aligned && zero,
           "every part 64-byte aligned; every accumulator zero at the start");

    /* Each rank writes its own accumulator and its slice of the params. */
    stdbp_dist_slices sl;
    if (stdbp_dist_slices_init(MPI_COMM_WORLD, n, &sl, &err) != STDBP_OK)
        bail("slices: %s", err.msg);
    int64_t *mine = stdbp_dist_node_acc(nd, rank);
    for (size_t i = 0; i < n_acc; i++)
        mine[i] = value(rank, i);
    double *params = stdbp_dist_node_params(nd);
    for (size_t i = sl.lo; i < sl.hi; i++)
        params[i] = (double)i + 0.25 * rank;
    stdbp_dist_node_sync(nd); /* collective */
    int seen = 1;
    for (int r = 0; r < size; r++)
        for (size_t i = 0; i < n_acc; i++)
            seen &= stdbp_dist_node_acc(nd, r)[i] == value(r, i);
    for (int r = 0; r < size; r++)
        for (size_t i = (size_t)sl.displ[r]; i < (size_t)(sl.displ[r] + sl.count[r]); i++)
            seen &= params[i] == (double)i + 0.25 * r;
    ok_all(MPI_COMM_WORLD, seen,
           "after a sync every rank loads what every other stored (accumulators, params)");

    /* The node's sum of this rank's slice (as several nodes take it),
     * against the sum of the values; the slice is zeroed, the rest kept. */
    int64_t *sum = calloc(sl.hi - sl.lo + 1, sizeof *sum);
    stdbp_dist_node_take_sum(nd, sl.lo, sl.hi, sum);
    stdbp_dist_node_sync(nd); /* collective */
    int summed = 1;
    for (size_t i = sl.lo; i < sl.hi; i++) {
        uint64_t want_i = 0;
        for (int r = 0; r < size; r++)
            want_i += (uint64_t)value(r, i);
        summed &= sum[i - sl.lo] == (int64_t)want_i;
    }
    /* Every rank took its slice: [0, n) is zero everywhere, the rest kept. */
    for (int r = 0; r < size; r++)
        for (size_t i = 0; i < n_acc; i++)
            summed &= stdbp_dist_node_acc(nd, r)[i] == (i < n ? 0 : value(r, i));
    ok_all(MPI_COMM_WORLD, summed,
           "take_sum: the node's wrapping sum of each slice, the slices zeroed, the rest kept");
    /* Back to every rank's values for the mean below. */
    for (size_t i = sl.lo; i < sl.hi; i++)
        for (int r = 0; r < size; r++)
            stdbp_dist_node_acc(nd, r)[i] = value(r, i);
    stdbp_dist_node_sync(nd); /* collective */
    free(sum);

    /* The summed mean of this rank's slice, straight from every rank's
     * accumulator, against the reduce-scatter's way on private copies. */
    int64_t *copy = malloc(n_acc * sizeof *copy), **from = malloc((size_t)size * sizeof *from);
    double *want = calloc(n, sizeof *want), *got = calloc(n, sizeof *got);
    for (size_t i = 0; i < n_acc; i++)
        copy[i] = value(rank, i);
    if (stdbp_dist_reduce_scatter_i64(MPI_COMM_WORLD, copy, &sl, &err) != STDBP_OK)
        bail("reduce-scatter: %s", err.msg);
    stdbp_grad_fixed_mean(copy, want + sl.lo, sl.hi - sl.lo, 37);
    for (int r = 0; r < size; r++)
        from[r] = stdbp_dist_node_acc(nd, r) + sl.lo;
    stdbp_grad_fixed_mean_sum(from, (size_t)size, got + sl.lo, sl.hi - sl.lo, 37);
    stdbp_dist_node_sync(nd); /* collective */
    int same = memcmp(want + sl.lo, got + sl.lo, (sl.hi - sl.lo) * sizeof *got) == 0;
    ok_all(MPI_COMM_WORLD, same,
           "the summed mean of every rank's slice: the reduce-scatter's bits");
    int zeroed = 1;
    for (int r = 0; r < size; r++)
        for (size_t i = 0; i < n; i++)
            zeroed &= stdbp_dist_node_acc(nd, r)[i] == 0;
    ok_all(MPI_COMM_WORLD, zeroed, "... and every gradient part zeroed by the slices' owners");

    /* The counter: per * size takes over the ranks (two threads each
     * where OpenMP is), every index once. */
    unsigned char *hit = calloc(per * (size_t)size, 1);
    size_t taken = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(2) reduction(+ : taken)
#endif
    for (uint64_t k; (k = stdbp_dist_node_next(nd)) < per * (uint64_t)size;) {
        hit[k] = 1; /* distinct k per taker: no race */
        taken++;
    }
    MPI_Allreduce(MPI_IN_PLACE, hit, (int)(per * (size_t)size), MPI_UNSIGNED_CHAR, MPI_SUM,
                  MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &taken, 1, MPI_UNSIGNED_LONG, MPI_SUM, MPI_COMM_WORLD);
    int once = taken == per * (size_t)size;
    for (size_t k = 0; k < per * (size_t)size; k++)
        once &= hit[k] == 1;
    ok_all(MPI_COMM_WORLD, once,
           "the counter hands out 0 .. %zu once each over the ranks (%zu taken)",
           per * (size_t)size - 1, taken);
    stdbp_dist_node_sync(nd); /* collective: nobody takes any more */
    if (rank == 0)
        stdbp_dist_node_restart(nd);
    stdbp_dist_node_sync(nd); /* collective */
    uint64_t first = rank == 0 ? stdbp_dist_node_next(nd) : 0;
    ok_all(MPI_COMM_WORLD, first == 0, "after a restart the counter starts at 0 again");
    stdbp_dist_node_free(&nd); /* collective */

    /* No window: the ranks go the reduce-scatter's way, rank 0 warns. */
    stdbp_test_hooks h = *stdbp_test_hooks_get();
    h.shm_fail = 1;
    stdbp_test_hooks_set(&h);
    st = stdbp_dist_node_create(MPI_COMM_WORLD, n_acc, n, &nd, &err);
    h.shm_fail = 0;
    stdbp_test_hooks_set(&h);
    ok_all(MPI_COMM_WORLD, st == STDBP_OK && !nd && warnings == (rank == 0),
           "window creation fails: no window, STDBP_OK, one warning on rank 0 (%d)", warnings);

    stdbp_dist_slices_free(&sl);
    free(copy);
    free(from);
    free(want);
    free(got);
    free(hit);
    return tap_mpi_finish(MPI_COMM_WORLD);
}
