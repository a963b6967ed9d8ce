/* Broadcasts from one rank to every rank; see include/stdbp/dist.h.
 * No MPI return code is checked: an MPI failure aborts the job (dist.h). */
#include "stdbp/dist.h"

#include <stdlib.h>
#include <string.h>

/* MPI counts are int: larger buffers go in pieces of this many bytes
 * (every rank computes the same pieces from the same n). */
#define BCAST_PIECE ((size_t)1 << 30)

void stdbp_dist_bcast_bytes(MPI_Comm comm, void *buf, size_t n, int root)
{
    char *p = buf;
    while (n) {
        size_t m = n < BCAST_PIECE ? n : BCAST_PIECE;
        MPI_Bcast(p, (int)m, MPI_BYTE, root, comm); /* collective */
        p += m, n -= m;
    }
}

stdbp_status stdbp_dist_bcast_string(MPI_Comm comm, int root, char **s, stdbp_err *err)
{
    int rank;
    unsigned long long len = 0;
    char *buf = NULL;
    MPI_Comm_rank(comm, &rank);
    if (rank == root && !*s)
        *s = calloc(1, 1); /* NULL travels as "" */
    if (rank == root)
        len = *s ? strlen(*s) : 0;
    MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root, comm); /* collective */
    if (rank != root)
        buf = malloc((size_t)len + 1);
    int ok = rank == root ? *s != NULL : buf != NULL, all;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, comm); /* collective */
    if (!all) {
        free(buf);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for a %llu-byte string", len);
    }
    if (rank != root) {
        free(*s);
        *s = buf;
    }
    stdbp_dist_bcast_bytes(comm, *s, (size_t)len, root); /* collective */
    (*s)[len] = '\0';
    return STDBP_OK;
}

/* The struct is plain data (fixed arrays, no pointers): its bytes carry
 * it whole. Every rank must run the same build, so that the layout
 * (sizes, padding, enum widths) agrees. */
stdbp_status stdbp_config_bcast(stdbp_config *cfg, int root, MPI_Comm comm, stdbp_err *err)
{
    (void)err;
    stdbp_dist_bcast_bytes(comm, cfg, sizeof *cfg, root); /* collective */
    return STDBP_OK;
}
