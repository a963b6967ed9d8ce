/* TAP under MPI: every rank checks, rank 0 prints the combined verdict.
 *
 * Call tap_mpi_init() right after MPI_Init: it silences the other ranks.
 * ok_all() is collective on comm: every rank must call it, in the same
 * order, and it passes only if it passed on every rank. */
#ifndef STDBP_TAP_MPI_H
#define STDBP_TAP_MPI_H

#include <mpi.h>

#include "tap/basic.h"

/* Not collective. Quiets every rank but 0 of comm. */
void tap_mpi_init(MPI_Comm comm);
/* Collective on comm: the logical AND of success over all ranks; ranks
 * that failed are named in a diagnostic. */
int ok_all(MPI_Comm comm, int success, const char *fmt, ...) TAP_PRINTF(3, 4);
/* Collective on comm: MPI_Finalize after a final barrier; returns the exit
 * status for main (non-zero on every rank when any check failed). */
int tap_mpi_finish(MPI_Comm comm);

#endif
