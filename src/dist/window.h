/* Creating MPI-3 shared-memory windows (private to src/dist). */
#ifndef STDBP_DIST_WINDOW_H
#define STDBP_DIST_WINDOW_H

#include <mpi.h>
#include <stddef.h>

/* Collective on node (ranks of one node): MPI_Win_allocate_shared of
 * `mine` bytes on this rank (contiguous in rank order), *base this
 * rank's segment. Returns 1, or 0 on every rank of node when any rank
 * could not create the window; why then says why (for a warning). A
 * failure is reported, not fatal, so that callers can fall back to
 * private memory. */
int stdbp_dist_window_alloc(MPI_Comm node, size_t mine, void **base, MPI_Win *win, char *why,
                            size_t why_len);

#endif
