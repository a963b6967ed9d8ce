/* End-of-run deployment report; see deploy_phase.h. */
#include "cli/deploy_phase.h"

#include <stdio.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/hw.h"
#include "stdbp/train.h"

size_t stdbp_deploy_samples(const stdbp_config *cfg, const stdbp_dataset *test)
{
    size_t n = cfg->deploy.samples > 0 ? (size_t)cfg->deploy.samples : test->n;
    if (cfg->data.n_test > 0 && (size_t)cfg->data.n_test < n)
        n = (size_t)cfg->data.n_test;
    return n;
}

stdbp_status stdbp_deploy_phase(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, int *stopped, stdbp_err *err)
{
    int rank, stop = 0;
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        size_t n = stdbp_deploy_samples(cfg, test);
        if (n > test->n) /* say what is really simulated */
            printf("deploy: deploy.samples = %ld, but %s holds %zu test images: simulating "
                   "those %zu\n",
                   cfg->deploy.samples, test->source, test->n, test->n);
        if (n > test->n)
            n = test->n;
        printf("deploy: quantising and simulating %zu test images on %s\n", n,
               cfg->deploy.hw[0] ? cfg->deploy.hw : "the built-in default profile");
        fflush(stdout);
        /* SIGTERM / SIGUSR1 (stdbp_signals_install) end the phase promptly */
        stdbp_hw_set_stop_check(stdbp_signal_pending);
        st = stdbp_hw_deploy(net, test, &cfg->encoding, cfg->deploy.bits,
                             (size_t)cfg->deploy.n_bits, cfg->deploy.time_steps, cfg->deploy.hw, n,
                             cfg->run.out_dir, stdout, NULL, err);
        stdbp_hw_set_stop_check(NULL);
        if (st != STDBP_OK && stdbp_signal_pending()) {
            const char *why = err ? err->msg : "stopped by a signal";
            printf("%s%s; no report written (the training's checkpoint is)\n",
                   strncmp(why, "deploy", 6) == 0 ? "" : "deploy: ", why);
            st = STDBP_OK;
            stop = 1;
        } else if (st != STDBP_OK && err && strncmp(err->msg, "deploy", 6) != 0)
            stdbp_err_prefix(err, "deploy: ");
        fflush(stdout);
    }
    /* collective: the other ranks wait for rank 0's verdict */
    st = stdbp_dist_agree(comm, st, err);
    if (st == STDBP_OK)
        MPI_Bcast(&stop, 1, MPI_INT, 0, comm); /* collective */
    if (stopped)
        *stopped = stop;
    return st;
}
