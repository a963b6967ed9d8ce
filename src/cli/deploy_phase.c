/* End-of-run deployment report; see deploy_phase.h. */
#include "cli/deploy_phase.h"

#include "stdbp/dist.h"

stdbp_status stdbp_deploy_phase(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, stdbp_err *err)
{
    (void)cfg;
    (void)net;
    (void)test;
    /* The accelerator model (src/hw) is not wired in yet. */
    return stdbp_dist_agree(comm, STDBP_OK, err); /* collective */
}
