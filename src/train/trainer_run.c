/* The epoch loop: steps, checkpoints, end-of-epoch evaluation and
 * metrics, stopping on a signal or the step limit; see trainer_impl.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/trainer_impl.h"

/* Wall time of the whole run, across resumed sessions. */
static double wall_seconds(const stdbp_trainer *tr)
{
    return tr->wall_base + stdbp_now() - tr->t_start;
}

/* Collective: checkpoint now. */
static stdbp_status checkpoint(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4096];
    stdbp_status st = STDBP_OK;
    tr->state.wall_seconds = wall_seconds(tr);
    /* Collective: rank 0 writes the optimiser state, so it gathers every
     * rank's slice of each per-parameter array first. */
    if (tr->sharded) {
        double *state = stdbp_optim_state(tr->opt);
        for (size_t a = 0; a < stdbp_optim_state_arrays(tr->opt) && st == STDBP_OK; a++)
            st = stdbp_dist_gather_f64(tr->comm, state + a * tr->n_params, &tr->slices, err);
        if (st != STDBP_OK)
            return st;
    }
    st = stdbp_ckpt_write(tr->comm, tr->cfg.run.out_dir, tr->net, tr->opt, &tr->state,
                          tr->config_yaml, (int)tr->cfg.checkpoint.keep, path, sizeof path, err);
    if (st == STDBP_OK && tr->rank == 0)
        stdbp_progress_print(&tr->progress, "checkpoint %s\n", path);
    return st;
}

/* Collective: validation and test accuracy, the metrics row. */
static stdbp_status end_of_epoch(stdbp_trainer *tr, double epoch_seconds, size_t epoch_samples,
                                 stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    stdbp_eval_result val = {NAN, NAN, 0}, test = {NAN, NAN, 0};
    stdbp_status st = STDBP_OK;
    int last = tr->state.epoch + 1 >= (uint64_t)cfg->train.epochs;
    int eval_now = last || (cfg->train.eval_every > 0 &&
                            (tr->state.epoch + 1) % (uint64_t)cfg->train.eval_every == 0);
    if (eval_now && tr->n_val > 0)
        st = stdbp_evaluate(tr->comm, tr->net, tr->ws, &tr->train, tr->val_idx, tr->n_val,
                            &cfg->encoding, &cfg->loss, tr->times, &val, err);
    if (st == STDBP_OK && eval_now)
        st = stdbp_evaluate(tr->comm, tr->net, tr->ws, &tr->test, NULL, tr->n_test, &cfg->encoding,
                            &cfg->loss, tr->times, &test, err);
    if (st != STDBP_OK)
        return st;
    if (tr->n_val > 0 && eval_now && val.accuracy > tr->state.best_val_acc) {
        tr->state.best_val_acc = val.accuracy;
        tr->state.best_epoch = tr->state.epoch;
    }
    stdbp_metrics_row diag;
    if ((st = stdbp_metrics_diagnose(tr, &diag, err)) != STDBP_OK || tr->rank != 0)
        return st;
    stdbp_metrics_row row = {
        .epoch = tr->state.epoch + 1,
        .step = tr->state.step,
        .lr = tr->lr,
        .train_loss = tr->state.epoch_samples ? stdbp_grad_from_fixed(tr->state.epoch_loss) /
                                                    (double)tr->state.epoch_samples
                                              : NAN,
        .train_acc = tr->state.epoch_samples
                         ? (double)tr->state.epoch_correct / (double)tr->state.epoch_samples
                         : NAN,
        .val_loss = val.loss,
        .val_acc = val.accuracy,
        .test_loss = test.loss,
        .test_acc = test.accuracy,
        .epoch_seconds = epoch_seconds,
        .samples_per_s = epoch_seconds > 0 ? (double)epoch_samples / epoch_seconds : 0,
        .wall_seconds = wall_seconds(tr),
        .silent_outputs = diag.silent_outputs,
        .silent_hidden = diag.silent_hidden,
        .first_spike_mean = diag.first_spike_mean,
        .first_spike_std = diag.first_spike_std,
        .syn_events_per_sample = diag.syn_events_per_sample,
    };
    const double step_time = tr->t_compute + tr->t_reduce + tr->t_update + 1e-300;
    stdbp_progress_print(&tr->progress,
                         "epoch %llu/%ld: train loss %.4f acc %.2f%% | val acc %.2f%% | "
                         "test loss %.4f acc %.2f%% | %.1f s, %.0f samples/s "
                         "(of the step time: reduce %.1f%%, update %.1f%%)\n",
                         (unsigned long long)tr->state.epoch + 1, cfg->train.epochs, row.train_loss,
                         100 * row.train_acc, 100 * row.val_acc, row.test_loss, 100 * row.test_acc,
                         epoch_seconds, row.samples_per_s, 100 * tr->t_reduce / step_time,
                         100 * tr->t_update / step_time);
    return stdbp_metrics_append(cfg->run.out_dir, &row, err);
}

/* Collective: a signal or the step limit: checkpoint and return. */
static stdbp_status stop_now(stdbp_trainer *tr, int *preempted, stdbp_err *err)
{
    stdbp_status st = checkpoint(tr, err);
    if (st != STDBP_OK)
        return st;
    *preempted = tr->stop;
    if (tr->rank == 0)
        stdbp_progress_print(&tr->progress, "stopped at step %llu (%s)\n",
                             (unsigned long long)tr->state.step,
                             tr->stop ? "signal: resume with --resume auto" : "step limit");
    return STDBP_OK;
}

/* Rank 0: what the run is about to do. */
static void report_start(stdbp_trainer *tr)
{
    const stdbp_config *cfg = &tr->cfg;
    stdbp_progress_print(&tr->progress,
                         "stdbp_train: %zu parameters, %zu training / %zu validation / %zu "
                         "test samples, %d ranks x %d threads, global batch %zu\n",
                         tr->n_params, tr->n_train, tr->n_val, tr->n_test, tr->size, tr->n_threads,
                         (size_t)cfg->train.batch);
    if (tr->resumed_from)
        stdbp_progress_print(&tr->progress, "resumed from %s at epoch %llu, step %llu\n",
                             tr->resumed_from, (unsigned long long)tr->state.epoch + 1,
                             (unsigned long long)tr->state.step);
    if (tr->resumed_from && tr->state.epoch >= (uint64_t)cfg->train.epochs)
        stdbp_progress_print(&tr->progress,
                             "the run had already finished its %ld epochs: nothing to train\n",
                             cfg->train.epochs);
}

/* Rank 0: the bar or log line after global batch b of the epoch that
 * started at t_epoch and has run epoch_samples samples so far. */
static void report_step(stdbp_trainer *tr, size_t b, size_t n_batches, size_t epoch_samples,
                        double t_epoch)
{
    const stdbp_config *cfg = &tr->cfg;
    const size_t batch = (size_t)cfg->train.batch;
    const double seen = (double)(tr->state.epoch_samples ? tr->state.epoch_samples : 1);
    double el = stdbp_now() - t_epoch;
    double rate = el > 0 ? (double)epoch_samples / el : 0;
    double left = (double)(n_batches - b - 1) * (double)batch +
                  (double)(cfg->train.epochs - 1 - (long)tr->state.epoch) * (double)tr->n_train;
    stdbp_progress_step(&tr->progress, (long)tr->state.epoch + 1, cfg->train.epochs, (long)b + 1,
                        (long)n_batches, stdbp_grad_from_fixed(tr->state.epoch_loss) / seen,
                        (double)tr->state.epoch_correct / seen, rate, rate > 0 ? left / rate : 0);
}

/* A signal was seen or the step limit (opts.max_steps) is reached. */
static int must_stop(const stdbp_trainer *tr)
{
    return tr->stop || (tr->opts.max_steps > 0 && tr->state.step >= (uint64_t)tr->opts.max_steps);
}

/* Collective: the steps of the epoch in progress, from tr->state.batch
 * on, with the checkpoints due within it. *stopped = 1 when a signal or
 * the step limit ended the run mid-epoch (after its checkpoint). */
static stdbp_status run_epoch_steps(stdbp_trainer *tr, size_t n_batches, double t_epoch,
                                    size_t *epoch_samples, long *since_ckpt, int *stopped,
                                    int *preempted, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    const size_t batch = (size_t)cfg->train.batch;
    stdbp_status st;
    for (size_t b = tr->state.batch; b < n_batches; b++) {
        size_t len = b + 1 < n_batches ? batch : tr->n_train - b * batch;
        st = stdbp_trainer_step(tr, b, len, n_batches, err);
        if (st != STDBP_OK) {
            stdbp_err_prefix(err,
                             "epoch %llu, step %llu: ", (unsigned long long)tr->state.epoch + 1,
                             (unsigned long long)tr->state.step + 1);
            return st;
        }
        *epoch_samples += len;
        (*since_ckpt)++;
        if (tr->rank == 0)
            report_step(tr, b, n_batches, *epoch_samples, t_epoch);
        if (must_stop(tr)) {
            if (b + 1 == n_batches)
                break; /* finish the epoch first: its metrics, then stop */
            *stopped = 1;
            return stop_now(tr, preempted, err);
        }
        /* At an epoch's last batch the end-of-epoch checkpoint follows. */
        if (cfg->checkpoint.every_steps > 0 && *since_ckpt >= cfg->checkpoint.every_steps &&
            b + 1 < n_batches) {
            if ((st = checkpoint(tr, err)) != STDBP_OK)
                return st;
            *since_ckpt = 0;
        }
    }
    return STDBP_OK;
}

stdbp_status stdbp_trainer_run(stdbp_trainer *tr, int *preempted, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    const size_t n_batches = stdbp_num_batches(tr->n_train, (size_t)cfg->train.batch);
    stdbp_status st = STDBP_OK;
    long since_ckpt = 0;

    *preempted = 0;
    if (tr->rank == 0)
        report_start(tr);
    while (tr->state.epoch < (uint64_t)cfg->train.epochs) {
        double t_epoch = stdbp_now();
        size_t epoch_samples = 0;
        int stopped = 0;
        if (tr->state.batch == 0) /* else resumed mid-epoch: keep the sums */
            tr->state.epoch_loss = tr->state.epoch_correct = tr->state.epoch_samples = 0;
        tr->t_compute = tr->t_reduce = tr->t_update = 0;
        stdbp_epoch_order(tr->train_idx, tr->n_train, cfg->run.seed, tr->state.epoch, tr->order);
        st = run_epoch_steps(tr, n_batches, t_epoch, &epoch_samples, &since_ckpt, &stopped,
                             preempted, err);
        if (st != STDBP_OK || stopped)
            return st;
        st = end_of_epoch(tr, stdbp_now() - t_epoch, epoch_samples, err);
        if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK)
            return st;
        if (cfg->spikes.samples > 0 && strcmp(cfg->spikes.when, "epoch") == 0) {
            char moment[32];
            snprintf(moment, sizeof moment, "epoch-%04llu",
                     (unsigned long long)tr->state.epoch + 1);
            if ((st = stdbp_trainer_log_spikes(tr, moment, err)) != STDBP_OK)
                return st;
        }
        tr->state.epoch++;
        tr->state.batch = 0;
        if (must_stop(tr))
            return stop_now(tr, preempted, err);
        if (cfg->checkpoint.every_steps == 0 || since_ckpt >= cfg->checkpoint.every_steps ||
            tr->state.epoch == (uint64_t)cfg->train.epochs) {
            if ((st = checkpoint(tr, err)) != STDBP_OK)
                return st;
            since_ckpt = 0;
        }
    }
    if (cfg->spikes.samples > 0 && strcmp(cfg->spikes.when, "end") == 0)
        return stdbp_trainer_log_spikes(tr, "end", err);
    return STDBP_OK;
}
