/* The end of a training run: quantise, map onto the simulated accelerator
 * and report (rank 0 only), as configured under deploy.* in the config. */
#ifndef STDBP_CLI_DEPLOY_PHASE_H
#define STDBP_CLI_DEPLOY_PHASE_H

#include <mpi.h>

#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/net.h"

/* Collective on comm (rank 0 works, the others wait for its verdict). */
stdbp_status stdbp_deploy_phase(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, stdbp_err *err);

#endif
