/* The data-parallel training loop; see include/stdbp/train.h.
 *
 * Per global batch, every rank runs the event-driven forward and the STDBP
 * backward on its contiguous share of the samples, accumulating the
 * gradient in 64-bit fixed point. Integer sums are associative, so the
 * summed gradient is bitwise the same for any number of ranks. Then,
 * either (one rank, or train.shard_update off) one fused MPI_SUM carries
 * the gradient and the step's statistics (loss, correct, samples,
 * failures, stop requests) and every rank applies the whole step; or
 * (sharded, the default on several ranks) the statistics are summed, a
 * reduce-scatter leaves each rank the gradient of its slice of the
 * parameters, each steps its slice, and an all-gather shares the new
 * parameters. Each parameter sees the same arithmetic either way.
 *
 * Here: creating (the set-up steps are in trainer_setup.c), resuming and
 * destroying a trainer; one step is in trainer_step.c, the epoch loop in
 * trainer_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/optim.h"
#include "stdbp/train.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/trainer_impl.h"
#include "util/log.h"

/* Rank 0, at a resume: say which setting differs from the checkpoint's
 * stored config (a longer schedule is fine; a changed seed or data set
 * usually is not what was meant). */
static void warn_config_change(const stdbp_config *now, const char *path, const char *stored)
{
    stdbp_config then;
    char what[256];
    if (!stored || stdbp_config_load_string(stored, strlen(stored), path, &then, NULL) != STDBP_OK)
        return;
    if (!stdbp_config_equal(now, &then, what, sizeof what))
        stdbp_log(STDBP_LOG_WARNING, "resuming from %s with a different config (%s)", path, what);
}

/* Collective: with opts.resume, load the checkpoint it names ("auto": the
 * newest good one in the run directory, none is a fresh start). */
static stdbp_status resume(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4096];
    stdbp_status st;
    if (!(tr->opts.resume && tr->opts.resume[0]))
        return STDBP_OK;
    if (strcmp(tr->opts.resume, "auto") == 0) {
        st = stdbp_ckpt_find_latest(tr->comm, tr->cfg.run.out_dir, path, sizeof path, err);
        if (st != STDBP_OK)
            return st;
    } else {
        snprintf(path, sizeof path, "%s", tr->opts.resume);
    }
    if (!path[0])
        return STDBP_OK;
    char *stored = NULL;
    /* collective; every rank passes &stored alike */
    st = stdbp_ckpt_read(tr->comm, path, tr->net, tr->opt, &tr->state, &stored, err);
    if (st == STDBP_OK) {
        if (tr->rank == 0)
            warn_config_change(&tr->cfg, path, stored);
        tr->resumed_from = strdup(path);
        tr->wall_base = tr->state.wall_seconds;
    }
    free(stored);
    return st;
}

stdbp_status stdbp_trainer_create(MPI_Comm comm, const stdbp_config *cfg,
                                  const stdbp_trainer_opts *opts, stdbp_trainer **out,
                                  stdbp_err *err)
{
    stdbp_status st;
    stdbp_trainer *tr = calloc(1, sizeof *tr);
    *out = NULL;
    if (!tr)
        return stdbp_dist_agree(comm, stdbp_err_set(err, STDBP_ENOMEM, "out of memory"), err);
    tr->comm = comm;
    MPI_Comm_rank(comm, &tr->rank);
    MPI_Comm_size(comm, &tr->size);
    tr->cfg = *cfg;
    if (opts)
        tr->opts = *opts;
    tr->opts.config_yaml = NULL;
    tr->t_start = stdbp_now();
    /* Progress output only when the caller asked for it, on rank 0. */
    stdbp_progress_init(&tr->progress, tr->opts.progress_tty,
                        !opts || tr->opts.quiet || tr->rank != 0, cfg->train.log_every);

    /* Each phase ends in an agreement (collective), so a failure on any
     * rank stops every rank before the next collective. */
    st = STDBP_OK;
    if (opts && opts->config_yaml && !(tr->config_yaml = strdup(opts->config_yaml)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if (st == STDBP_OK)
        st = stdbp_trainer_load_datasets(tr, err);
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;
    st = stdbp_trainer_build_model(tr, err);
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;
    st = tr->rank == 0 ? stdbp_trainer_prepare_run_dir(tr, err) : STDBP_OK;
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;

    tr->state.seed = cfg->run.seed;
    stdbp_rng_seed(&tr->state.rng, cfg->run.seed);
    if ((st = resume(tr, err)) != STDBP_OK)
        goto fail;
    st = tr->rank == 0 ? stdbp_metrics_begin(cfg->run.out_dir, tr->state.epoch, err) : STDBP_OK;
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;
    *out = tr;
    return STDBP_OK;
fail:
    stdbp_trainer_destroy(&tr);
    return st;
}

void stdbp_trainer_destroy(stdbp_trainer **ptr)
{
    stdbp_trainer *tr = ptr ? *ptr : NULL;
    if (!tr)
        return;
    stdbp_dataset_free(&tr->train);
    stdbp_dataset_free(&tr->test);
    free(tr->train_idx);
    free(tr->val_idx);
    free(tr->order);
    stdbp_ws_destroy(&tr->ws);
    stdbp_net_destroy(&tr->net);
    stdbp_optim_destroy(&tr->opt);
    stdbp_dist_slices_free(&tr->slices);
    stdbp_dist_slices_free(&tr->neurons);
    free(tr->slope);
    free(tr->acc);
    free(tr->grad);
    free(tr->times);
    free(tr->dl_dt);
    free(tr->scratch);
    free(tr->config_yaml);
    free(tr->resumed_from);
    free(tr);
    *ptr = NULL;
}

stdbp_net *stdbp_trainer_net(stdbp_trainer *tr)
{
    return tr->net;
}

const stdbp_dataset *stdbp_trainer_test_set(const stdbp_trainer *tr)
{
    return &tr->test;
}
