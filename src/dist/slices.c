/* The sharded update's collectives; see include/stdbp/dist.h.
 *
 * The slices are cut the same way on every rank from (n, size) alone, so
 * the counts each rank passes to a collective agree without a message.
 * No MPI return code is checked: an MPI failure aborts the job (dist.h). */
#include "stdbp/dist.h"

#include <limits.h>
#include <stdlib.h>

/* Slices start on whole blocks of this many values (a cache line of
 * doubles), so that no two ranks' slices share a line on one node. */
#define SLICE_ALIGN 8

stdbp_status stdbp_dist_slices_init(MPI_Comm comm, size_t n, stdbp_dist_slices *s, stdbp_err *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    s->count = s->displ = NULL;
    s->lo = s->hi = 0;
    if (n > (size_t)INT_MAX)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "cannot cut %zu parameters into MPI slices (at most %d)", n, INT_MAX);
    s->count = malloc((size_t)size * sizeof *s->count);
    s->displ = malloc((size_t)size * sizeof *s->displ);
    if (!s->count || !s->displ) {
        stdbp_dist_slices_free(s);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %d slices", size);
    }
    const size_t blocks = (n + SLICE_ALIGN - 1) / SLICE_ALIGN;
    for (int r = 0; r < size; r++) {
        size_t lo = blocks * (size_t)r / (size_t)size * SLICE_ALIGN;
        size_t hi = blocks * (size_t)(r + 1) / (size_t)size * SLICE_ALIGN;
        lo = lo < n ? lo : n;
        hi = hi < n ? hi : n;
        s->displ[r] = (int)lo;
        s->count[r] = (int)(hi - lo);
        if (r == rank) {
            s->lo = lo;
            s->hi = hi;
        }
    }
    return STDBP_OK;
}

void stdbp_dist_slices_free(stdbp_dist_slices *s)
{
    free(s->count);
    free(s->displ);
    s->count = s->displ = NULL;
    s->lo = s->hi = 0;
}

stdbp_status stdbp_dist_reduce_scatter_i64(MPI_Comm comm, int64_t *buf, const stdbp_dist_slices *s,
                                           stdbp_err *err)
{
    /* In place: the input is all of buf, this rank's sum lands at buf[0]. */
    (void)err;
    MPI_Reduce_scatter(MPI_IN_PLACE, buf, s->count, MPI_INT64_T, MPI_SUM, comm);
    return STDBP_OK;
}

stdbp_status stdbp_dist_allgather_f64(MPI_Comm comm, double *buf, const stdbp_dist_slices *s,
                                      stdbp_err *err)
{
    (void)err;
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, s->count, s->displ, MPI_DOUBLE, comm);
    return STDBP_OK;
}

stdbp_status stdbp_dist_gather_f64(MPI_Comm comm, double *buf, const stdbp_dist_slices *s,
                                   stdbp_err *err)
{
    int rank;
    (void)err;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, s->count, s->displ, MPI_DOUBLE, 0,
                    comm);
    else
        MPI_Gatherv(buf + s->lo, s->count[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, comm);
    return STDBP_OK;
}
