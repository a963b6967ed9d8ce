/* The data-parallel training loop; see include/stdbp/train.h.
 *
 * Per global batch, every rank runs the event-driven forward and the STDBP
 * backward on its share of the samples, accumulating the
 * gradient in 64-bit fixed point. Integer sums are associative, so the
 * summed gradient is bitwise the same for any number of ranks. Then,
 * either (one rank, or train.shard_update off) one fused MPI_SUM carries
 * the gradient and the step's statistics (loss, correct, samples,
 * failures, stop requests) and every rank applies the whole step; or
 * (sharded, the default on several ranks) the statistics are summed, a
 * reduce-scatter leaves each rank the gradient of its slice of the
 * parameters, each steps its slice, and an all-gather shares the new
 * parameters; or (sharded, by default) the same through each node's
 * shared memory: the node's ranks take its samples from one counter,
 * each rank sums its slice straight out of the node's accumulators (then
 * over the nodes) and steps it in the node's one copy of the parameters
 * (stdbp_trainer_share_node). Each parameter sees the same arithmetic
 * every way.
 *
 * Here: creating (the set-up steps are in trainer_setup.c), resuming and
 * destroying a trainer; one step is in trainer_step.c, the epoch loop in
 * trainer_run.c. */
#include <errno.h>
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

/* Rank 0, at a resume: say which settings differ from the checkpoint's
 * stored config (a longer schedule is fine; a changed seed or data set
 * usually is not what was meant): every one of them, with both values. */
static void warn_config_change(const stdbp_config *now, const char *path, const stdbp_config *then)
{
    char what[900];
    size_t n = stdbp_config_diff(now, then, what, sizeof what);
    if (n)
        stdbp_log(STDBP_LOG_WARNING, "resuming from %s with a different config (%zu key%s: %s)",
                  path, n, n == 1 ? "" : "s", what);
}

/* Rank 0: a checkpoint written mid-epoch continues that epoch at global
 * batch state.batch, which counts batches of the size it was written
 * with; another train.batch would skip or repeat samples of the epoch. */
static stdbp_status check_mid_epoch(const stdbp_trainer *tr, const char *path,
                                    const stdbp_config *then, stdbp_err *err)
{
    const stdbp_train_state *s = &tr->state;
    if (s->batch == 0 || then->train.batch == tr->cfg.train.batch)
        return STDBP_OK;
    return stdbp_err_set(err, STDBP_ECONFIG,
                         "checkpoint %s was written in the middle of epoch %llu (after %llu "
                         "batches of train.batch = %ld); resuming it with train.batch = %ld "
                         "would skip or repeat samples of that epoch: resume with train.batch "
                         "= %ld (a new batch size can start at an epoch boundary, from a "
                         "checkpoint written at the end of an epoch)",
                         path, (unsigned long long)s->epoch + 1, (unsigned long long)s->batch,
                         then->train.batch, tr->cfg.train.batch, then->train.batch);
}

/* Rank 0: resuming from an explicit checkpoint in a run directory that
 * holds later ones would replace them one by one: refuse, naming them,
 * unless opts.discard_later (then move them aside). */
static stdbp_status check_later(const stdbp_trainer *tr, const char *path, stdbp_err *err)
{
    const char *dir = tr->cfg.run.out_dir;
    char **later = NULL, names[600];
    size_t n = 0, used = 0;
    stdbp_status st = stdbp_ckpt_list_after(dir, tr->state.step, &later, &n, err);
    if (st != STDBP_OK || n == 0) {
        stdbp_ckpt_paths_free(later, n);
        return st;
    }
    names[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof names; i++) {
        const char *base = strrchr(later[i], '/');
        int k = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                         base ? base + 1 : later[i]);
        used = k < 0 ? sizeof names : used + (size_t)k;
    }
    if (used >= sizeof names)
        snprintf(names + sizeof names - 4, 4, "...");
    if (!tr->opts.discard_later) {
        st = stdbp_err_set(
            err, STDBP_ECONFIG,
            "resuming from %s (step %llu) would replace the %zu later "
            "checkpoint%s in %s/checkpoints (%s): pass --discard-later to "
            "continue from it anyway (they are moved aside as "
            "ckpt-N.h5.discarded, best.h5.discarded), or set run.dir (or run.name) to continue "
            "in a new run directory",
            path, (unsigned long long)tr->state.step, n, n == 1 ? "" : "s", dir, names);
    } else {
        for (size_t i = 0; i < n && st == STDBP_OK; i++) {
            char to[4200];
            snprintf(to, sizeof to, "%s.discarded", later[i]);
            if (rename(later[i], to) != 0)
                st = stdbp_err_set(err, STDBP_EIO, "--discard-later: cannot rename %s: %s",
                                   later[i], strerror(errno));
        }
        if (st == STDBP_OK)
            stdbp_log(STDBP_LOG_WARNING,
                      "--discard-later: resuming from %s (step %llu); the %zu later "
                      "checkpoint%s in %s/checkpoints (%s) moved aside as *.discarded",
                      path, (unsigned long long)tr->state.step, n, n == 1 ? "" : "s", dir, names);
    }
    stdbp_ckpt_paths_free(later, n);
    return st;
}

/* Rank 0: what resuming from path (stored: its config) requires. */
static stdbp_status check_resume(const stdbp_trainer *tr, const char *path, const char *stored,
                                 int explicit_path, stdbp_err *err)
{
    stdbp_config then;
    stdbp_status st = STDBP_OK;
    if (stored && stdbp_config_load_string(stored, strlen(stored), path, &then, NULL) == STDBP_OK) {
        st = check_mid_epoch(tr, path, &then, err);
        if (st == STDBP_OK)
            warn_config_change(&tr->cfg, path, &then);
    }
    if (st == STDBP_OK && explicit_path)
        st = check_later(tr, path, err);
    return st;
}

/* A spikes.h5 moment that the resumed run keeps: "epoch-N" of an epoch
 * the checkpoint had finished, "end" of a finished run, any other name. */
static int keep_moment(const char *moment, void *ctx)
{
    const stdbp_trainer *tr = ctx;
    const char *p = moment + 6;
    unsigned long long k = 0;
    if (strcmp(moment, "end") == 0)
        return tr->state.epoch >= (uint64_t)tr->cfg.train.epochs;
    if (strncmp(moment, "epoch-", 6) != 0 || !*p)
        return 1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || k > 1000000000ULL)
            return 1;
        k = k * 10 + (unsigned)(*p - '0');
    }
    return k <= tr->state.epoch;
}

/* Collective: with opts.resume, load the checkpoint it names ("auto": the
 * newest good one in the run directory, none is a fresh start), then fit
 * the spike log to where the run continues. */
static stdbp_status resume(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4096];
    stdbp_status st;
    int is_auto;
    if (!(tr->opts.resume && tr->opts.resume[0]))
        return STDBP_OK;
    is_auto = strcmp(tr->opts.resume, "auto") == 0;
    if (is_auto) {
        st = stdbp_ckpt_find_latest(tr->comm, tr->cfg.run.out_dir, path, sizeof path, err);
        if (st != STDBP_OK)
            return st;
    } else if ((size_t)snprintf(path, sizeof path, "%s", tr->opts.resume) >= sizeof path) {
        return stdbp_dist_agree(
            tr->comm,
            stdbp_err_set(err, STDBP_EINVAL, "--resume: path too long: %s", tr->opts.resume), err);
    }
    if (path[0]) {
        char *stored = NULL;
        /* collective; every rank passes &stored alike */
        st = stdbp_ckpt_read(tr->comm, path, tr->net, tr->opt, &tr->state, &stored, err);
        if (st == STDBP_OK) {
            st = tr->rank == 0 ? check_resume(tr, path, stored, !is_auto, err) : STDBP_OK;
            st = stdbp_dist_agree(tr->comm, st, err);
        }
        free(stored);
        if (st != STDBP_OK)
            return st;
        /* A checkpoint at the end of the best epoch so far is the best
         * one: mark it again, in case a stop came between its write and
         * its marking. A failure is a warning, as in training. */
        if (tr->rank == 0 && stdbp_trainer_at_best_end(tr))
            stdbp_trainer_mark_best(tr, path);
        if (!(tr->resumed_from = strdup(path)))
            st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK)
            return st;
        tr->wall_base = tr->state.wall_seconds;
    }
    /* Moments of an earlier session after this checkpoint (or any, for a
     * fresh start after a first checkpoint that never finished). */
    st = tr->rank == 0 ? stdbp_spikelog_recover(tr->cfg.run.out_dir, keep_moment, tr, err)
                       : STDBP_OK;
    return stdbp_dist_agree(tr->comm, st, err);
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
    tr->comm = tr->upd_comm = comm;
    tr->lock_fd = -1;
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
    if ((st = resume(tr, err)) != STDBP_OK || (st = stdbp_trainer_share_node(tr, err)) != STDBP_OK)
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
    stdbp_trainer_unlock_run_dir(tr);
    /* collective on the node's ranks when the data sets are shared:
       every rank destroys its trainer */
    stdbp_dist_dataset_free(&tr->train, &tr->train_sh);
    stdbp_dist_dataset_free(&tr->test, &tr->test_sh);
    free(tr->train_idx);
    free(tr->val_idx);
    free(tr->order);
    free(tr->norm_acc);
    stdbp_trainer_free_slots(tr);
    stdbp_ws_destroy(&tr->ws);
    stdbp_net_destroy(&tr->net);
    if (tr->node) /* acc is the window's */
        tr->acc = NULL;
    stdbp_dist_node_free(&tr->node); /* collective when not NULL: every rank has one */
    free(tr->node_acc);
    free(tr->node_sum);
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
