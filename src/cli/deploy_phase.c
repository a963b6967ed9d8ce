/* End-of-run deployment report; see deploy_phase.h. */
#include "cli/deploy_phase.h"

#include <stdio.h>

#include "stdbp/dist.h"
#include "stdbp/hw.h"

/* hw's progress notes (STDBP_LOG_INFO) are part of the program's output:
 * printed unchanged to stdout, between the lines around them. */
static void deploy_log(stdbp_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == STDBP_LOG_INFO) {
        printf("%s\n", msg);
        fflush(stdout);
    } else {
        fprintf(stderr, "warning: %s\n", msg);
    }
}

stdbp_status stdbp_deploy_phase(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, stdbp_err *err)
{
    int rank;
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        size_t n = cfg->deploy.samples > 0 ? (size_t)cfg->deploy.samples : test->n;
        if (cfg->data.n_test > 0 && (size_t)cfg->data.n_test < n)
            n = (size_t)cfg->data.n_test;
        printf("deploy: quantising and simulating %zu test images on %s\n", n,
               cfg->deploy.hw[0] ? cfg->deploy.hw : "the built-in default profile");
        fflush(stdout);
        stdbp_set_log_handler(deploy_log, NULL);
        st = stdbp_hw_deploy(net, test, &cfg->encoding, cfg->deploy.bits,
                             (size_t)cfg->deploy.n_bits, cfg->deploy.time_steps, cfg->deploy.hw, n,
                             cfg->run.out_dir, stdout, NULL, err);
        stdbp_set_log_handler(NULL, NULL);
        if (st != STDBP_OK)
            stdbp_err_prefix(err, "deploy: ");
        fflush(stdout);
    }
    /* collective: the other ranks wait for rank 0's verdict */
    return stdbp_dist_agree(comm, st, err);
}
