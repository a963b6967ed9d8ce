/* Fixed-point gradient reduction and error agreement; see dist.h. */
#include "stdbp/dist.h"

#include <limits.h>
#include <string.h>

stdbp_status stdbp_dist_sum_i64(MPI_Comm comm, int64_t *buf, size_t n, stdbp_err *err)
{
    /* MPI counts are int: large buffers go in chunks (collective, and every
     * rank computes the same chunking from the same n). */
    const size_t chunk = (size_t)INT_MAX / 2;
    for (size_t off = 0; off < n; off += chunk) {
        int count = (int)(n - off < chunk ? n - off : chunk);
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + off, count, MPI_INT64_T, MPI_SUM, comm);
        if (rc != MPI_SUCCESS)
            return stdbp_err_set(err, STDBP_EMPI, "MPI_Allreduce of %d gradient values failed (%d)",
                                 count, rc);
    }
    return STDBP_OK;
}

stdbp_status stdbp_dist_agree(MPI_Comm comm, stdbp_status mine, stdbp_err *err)
{
    int rank, size, first = INT_MAX, me;
    int code = (int)mine;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    me = mine != STDBP_OK ? rank : INT_MAX;
    /* collective: who is the lowest failing rank? */
    MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return STDBP_OK;

    stdbp_err from;
    if (rank == first && err)
        from = *err;
    else
        memset(&from, 0, sizeof from);
    /* collective: the failing rank's code and message reach every rank */
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(from.msg, (int)sizeof from.msg, MPI_CHAR, first, comm);
    from.msg[sizeof from.msg - 1] = '\0';
    if (err) {
        if (size > 1)
            stdbp_err_set(err, (stdbp_status)code, "rank %d: %s", first, from.msg);
        else
            err->code = (stdbp_status)code;
    }
    return (stdbp_status)code;
}
