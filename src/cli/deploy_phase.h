/* The end of a training run: quantise, map onto the simulated accelerator
 * and report (rank 0 only), as configured under deploy.* in the config. */
#ifndef STDBP_CLI_DEPLOY_PHASE_H
#define STDBP_CLI_DEPLOY_PHASE_H

#include <mpi.h>

#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/net.h"

/* The test images the deploy phase simulates: deploy.samples (0: all),
 * at most data.n_test when set; may exceed test->n (the caller clips and
 * says so). Not collective. */
size_t stdbp_deploy_samples(const stdbp_config *cfg, const stdbp_dataset *test);

/* Collective on comm (rank 0 works, the others wait for its verdict).
 * A SIGTERM or SIGUSR1 (stdbp_signals_install) on rank 0 ends the phase
 * after the image it is working on: *stopped (may be NULL) is then 1 on
 * every rank and STDBP_OK is returned, without a report. */
stdbp_status stdbp_deploy_phase(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, int *stopped, stdbp_err *err);

#endif
