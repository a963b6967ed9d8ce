/* Fixed-point gradient reduction, the largest timing and error agreement; see dist.h. No MPI
 * return code is checked: an MPI failure aborts the job (dist.h). */
#include "stdbp/dist.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

stdbp_status stdbp_dist_sum_i64(MPI_Comm comm, int64_t *buf, size_t n, stdbp_err *err)
{
    (void)err;
    /* MPI counts are int: large buffers go in chunks (collective, and every
     * rank computes the same chunking from the same n). */
    const size_t chunk = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < n; off += chunk) {
        int count = (int)(n - off < chunk ? n - off : chunk);
        MPI_Allreduce(MPI_IN_PLACE, buf + off, count, MPI_INT64_T, MPI_SUM, comm);
    }
    return STDBP_OK;
}

void stdbp_dist_max_f64(MPI_Comm comm, double *v)
{
    MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_DOUBLE, MPI_MAX, comm);
}

stdbp_status stdbp_dist_agree(MPI_Comm comm, stdbp_status mine, stdbp_err *err)
{
    int rank, size, code = (int)mine;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* collective: the lowest failing rank, and whether every rank failed
     * (MIN of "this rank succeeded" is 0 then) */
    int v[2] = {mine != STDBP_OK ? rank : INT_MAX, mine == STDBP_OK}, lo[2];
    MPI_Allreduce(v, lo, 2, MPI_INT, MPI_MIN, comm);
    const int first = lo[0];
    if (first == INT_MAX)
        return STDBP_OK;

    stdbp_err from;
    memset(&from, 0, sizeof from);
    if (rank == first && err && err->msg[0])
        from = *err;
    else if (rank == first)
        snprintf(from.msg, sizeof from.msg, "%s", stdbp_status_name(mine));
    /* collective: the failing rank's code and message reach every rank */
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(from.msg, (int)sizeof from.msg, MPI_CHAR, first, comm);
    from.msg[sizeof from.msg - 1] = '\0';
    /* collective, only when every rank failed: the same message everywhere
     * (agreed before, or one failure everywhere) names no single rank. */
    int same = 0;
    if (lo[1] == 0) {
        int mine_same = err && strcmp(err->msg, from.msg) == 0;
        MPI_Allreduce(&mine_same, &same, 1, MPI_INT, MPI_LAND, comm);
    }
    if (err) {
        if (size > 1 && !same)
            stdbp_err_set(err, (stdbp_status)code, "rank %d: %s", first, from.msg);
        else
            err->code = (stdbp_status)code;
    }
    return (stdbp_status)code;
}
