/* Data parallelism over MPI: one fused gradient reduction per step, and
 * agreement on errors so that a failure on one rank ends every rank.
 *
 * Knows nothing of layers: it sums one flat int64 buffer. The buffer holds
 * the fixed-point gradient (see STDBP_GRAD_FRAC_BITS in net.h) followed by
 * a few step statistics; integer sums are associative, so the result is
 * bitwise the same for any number of ranks. */
#ifndef STDBP_DIST_H
#define STDBP_DIST_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/error.h"

/* Step statistics appended after the gradient in the reduced buffer. */
enum {
    STDBP_STAT_LOSS,    /* sum of per-sample losses, fixed point */
    STDBP_STAT_CORRECT, /* correctly classified samples */
    STDBP_STAT_SAMPLES, /* samples processed */
    STDBP_STAT_FAILED,  /* ranks that hit an error in this step */
    STDBP_STAT_COUNT
};

/* Collective on comm: in-place MPI_SUM of n int64 values. */
stdbp_status stdbp_dist_sum_i64(MPI_Comm comm, int64_t *buf, size_t n, stdbp_err *err) STDBP_WUR;

/* Collective on comm: every rank passes its own status and err; when any
 * rank failed, every rank returns the lowest failing rank's status, and
 * err holds that rank's message prefixed with "rank R: ". Returns STDBP_OK
 * on every rank otherwise. Call it after every fallible phase (config,
 * data, allocation) before the next collective, so that no rank waits in
 * a collective that a failed rank will never reach. */
stdbp_status stdbp_dist_agree(MPI_Comm comm, stdbp_status mine, stdbp_err *err) STDBP_WUR;

#endif
