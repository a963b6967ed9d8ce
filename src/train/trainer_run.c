/* The epoch loop: steps, checkpoints, end-of-epoch evaluation and
 * metrics, stopping on a signal or the step limit; see trainer_impl.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "train/evaluate.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/trainer_impl.h"
#include "util/log.h"
#include "util/test_hooks.h"

/* Wall time of the whole run, across resumed sessions. */
static double wall_seconds(const stdbp_trainer *tr)
{
    return tr->wall_base + stdbp_now() - tr->t_start;
}

int stdbp_trainer_at_best_end(const stdbp_trainer *tr)
{
    const stdbp_train_state *s = &tr->state;
    return tr->n_val > 0 && s->best_val_acc > 0 && s->batch == 0 && s->epoch > 0 &&
           s->best_epoch + 1 == s->epoch;
}

void stdbp_trainer_mark_best(stdbp_trainer *tr, const char *path)
{
    stdbp_err why;
    if (stdbp_ckpt_mark_best(tr->cfg.run.out_dir, path, &why) != STDBP_OK) {
        stdbp_log(STDBP_LOG_WARNING, "the best checkpoint was not updated: %s", why.msg);
        return;
    }
    stdbp_progress_print(&tr->progress,
                         "best\acheckpoint\a(epoch\a%llu,\aval\aacc\a%.2f%%):\a%s/checkpoints/%s\n",
                         (unsigned long long)tr->state.best_epoch + 1, 100 * tr->state.best_val_acc,
                         tr->cfg.run.out_dir, STDBP_CKPT_BEST);
}

/* Collective: checkpoint now (at the end of the best epoch so far, it
 * becomes best.h5). */
static stdbp_status checkpoint(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4096];
    stdbp_status st = STDBP_OK;
    tr->state.wall_seconds = wall_seconds(tr);
    /* Collective: rank 0 writes the optimiser state, so it gathers every
     * rank's slice of each per-parameter array first (over its node's
     * ranks when the slices are the node's: rank 0 is its node's first,
     * and every node holds the same state). */
    if (tr->sharded) {
        double *state = stdbp_optim_state(tr->opt);
        for (size_t a = 0; a < stdbp_optim_state_arrays(tr->opt) && st == STDBP_OK; a++)
            st = stdbp_dist_gather_f64(tr->upd_comm, state + a * tr->n_params, &tr->slices, err);
        if (st != STDBP_OK)
            return st;
    }
    st = stdbp_ckpt_write(tr->comm, tr->cfg.run.out_dir, tr->net, tr->opt, &tr->state,
                          tr->config_yaml, (int)tr->cfg.checkpoint.keep, path, sizeof path, err);
    if (st == STDBP_OK && tr->rank == 0) {
        stdbp_progress_print(&tr->progress, "checkpoint\a%s\n", path); /* \a: progress.h */
        if (stdbp_trainer_at_best_end(tr))
            stdbp_trainer_mark_best(tr, path);
    }
    return st;
}

/* Does the epoch with 0-based index e end with an evaluation? */
static int evaluates_at(const stdbp_trainer *tr, uint64_t e)
{
    const stdbp_config *cfg = &tr->cfg;
    return e + 1 >= (uint64_t)cfg->train.epochs ||
           (cfg->train.eval_every > 0 && (e + 1) % (uint64_t)cfg->train.eval_every == 0);
}

/* Evaluation samples of the epochs from e (0-based) to the last. */
static double eval_samples_from(const stdbp_trainer *tr, uint64_t e)
{
    double n = 0;
    for (; e < (uint64_t)tr->cfg.train.epochs; e++)
        if (evaluates_at(tr, e))
            n += (double)(tr->n_val + tr->n_test);
    return n;
}

/* The end-of-epoch evaluation's progress on rank 0: its part (validation
 * or test, of part samples, after offset samples of the evaluation's
 * total), done/slice of this rank's own slice. */
typedef struct eval_progress {
    stdbp_trainer *tr;
    double offset, part, total, t0;
} eval_progress;

static void on_eval_progress(uint64_t done, uint64_t slice, void *user)
{
    eval_progress *e = user;
    stdbp_trainer *tr = e->tr;
    if (tr->rank != 0)
        return;
    double seen = e->offset + (slice ? (double)done / (double)slice : 1) * e->part;
    double el = stdbp_now() - e->t0;
    if (seen > 0 && el > 0.2) /* a rate from more than the first moments */
        tr->progress.eval_rate = seen / el;
    const stdbp_eta eta = {
        .train_left =
            (double)(tr->cfg.train.epochs - 1 - (long)tr->state.epoch) * (double)tr->n_train,
        .eval_left = e->total - seen + eval_samples_from(tr, tr->state.epoch + 1),
        .train_rate = tr->progress.train_rate,
        .eval_rate = tr->progress.eval_rate};
    stdbp_progress_eval(&tr->progress, (long)tr->state.epoch + 1, tr->cfg.train.epochs,
                        (uint64_t)(seen + 0.5), (uint64_t)e->total, stdbp_progress_eta(&eta));
}

/* The evaluation's stop check, before each of its chunks: a SIGTERM or
 * SIGUSR1 ends it within a chunk, not after it (on few ranks it may take
 * longer than SLURM's KillWait). Test hook: first sleep eval_delay_ms
 * (stdbp_signal_pending_after). */
static int eval_stop_check(void)
{
    return stdbp_signal_pending_after(stdbp_test_hooks_get()->eval_delay_ms);
}

/* Collective: validation and test accuracy, the metrics row. Returns
 * STDBP_ESTOPPED (on every rank) when a signal ended the evaluation. */
static stdbp_status end_of_epoch(stdbp_trainer *tr, double epoch_seconds, size_t epoch_samples,
                                 stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    stdbp_eval_result val = {NAN, NAN, 0}, test = {NAN, NAN, 0};
    stdbp_status st = STDBP_OK;
    int eval_now = evaluates_at(tr, tr->state.epoch);
    eval_progress ep = {tr, 0, (double)tr->n_val, (double)(tr->n_val + tr->n_test), stdbp_now()};
    const stdbp_eval_detail detail = {.progress = on_eval_progress, .user = &ep};
    if (eval_now && tr->rank == 0)
        stdbp_progress_eval(&tr->progress, (long)tr->state.epoch + 1, cfg->train.epochs, 0,
                            (uint64_t)ep.total, 0);
    if (eval_now && tr->n_val > 0)
        st = stdbp_evaluate_stoppable(tr->comm, tr->net, tr->ws, &tr->train, tr->val_idx, tr->n_val,
                                      &cfg->encoding, &cfg->loss, tr->times, &detail,
                                      eval_stop_check, &val, err);
    ep.offset = (double)tr->n_val;
    ep.part = (double)tr->n_test;
    if (st == STDBP_OK && eval_now)
        st = stdbp_evaluate_stoppable(tr->comm, tr->net, tr->ws, &tr->test, NULL, tr->n_test,
                                      &cfg->encoding, &cfg->loss, tr->times, &detail,
                                      eval_stop_check, &test, err);
    if (eval_now && stdbp_now() - ep.t0 > 0)
        tr->progress.eval_rate = ep.total / (stdbp_now() - ep.t0);
    if (st != STDBP_OK)
        return st;
    if (tr->n_val > 0 && eval_now && val.accuracy > tr->state.best_val_acc) {
        tr->state.best_val_acc = val.accuracy;
        tr->state.best_epoch = tr->state.epoch;
    }
    /* Collective: the slowest rank's compute time, which the others wait
     * for inside "reduce" (timing only: it changes no result). */
    double slowest_compute = tr->t_compute;
    stdbp_dist_max_f64(tr->comm, &slowest_compute);
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
    /* The steps' time and rate: after a resume mid-epoch, of this
     * session's part of the epoch (say so); none after a resume that only
     * evaluates (a signal stopped this epoch's evaluation, after its last
     * step). */
    char timing[192] = "no\astep\asince\athe\aresume", part[96] = "";
    if (epoch_samples > 0 && epoch_samples < tr->n_train)
        snprintf(part, sizeof part, " (%zu\asamples\asince\athe\aresume)", epoch_samples);
    if (epoch_samples > 0)
        snprintf(timing, sizeof timing,
                 "%.1f\as, %.0f\asamples/s%s (of\athe\astep\atime:\areduce\a%.1f%%,\a"
                 "update\a%.1f%%;\aslowest\arank's\acompute\a%+.0f%%)",
                 epoch_seconds, row.samples_per_s, part, 100 * tr->t_reduce / step_time,
                 100 * tr->t_update / step_time,
                 tr->t_compute > 0 ? 100 * (slowest_compute / tr->t_compute - 1) : 0.0);
    /* No validation set (data.val_samples: 0): no "val acc nan%". */
    char val_part[48] = "";
    if (tr->n_val > 0)
        snprintf(val_part, sizeof val_part, " | val\aacc\a%.2f%%", 100 * row.val_acc);
    stdbp_progress_print(&tr->progress,
                         "epoch\a%llu/%ld: train\aloss\a%.4f\aacc\a%.2f%%%s | "
                         "test\aloss\a%.4f\aacc\a%.2f%% | %s\n",
                         (unsigned long long)tr->state.epoch + 1, cfg->train.epochs, row.train_loss,
                         100 * row.train_acc, val_part, row.test_loss, 100 * row.test_acc, timing);
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
        stdbp_progress_print(&tr->progress, "stopped\aat\astep\a%llu\a(%s)\n",
                             (unsigned long long)tr->state.step,
                             tr->stop ? "signal: resume with --resume auto" : "step limit");
    return STDBP_OK;
}

/* Rank 0: what the run is about to do. */
static void report_start(stdbp_trainer *tr)
{
    const stdbp_config *cfg = &tr->cfg;
    char update[96] = "";
    int nodes = tr->node ? stdbp_dist_node_count(tr->node) : 0;
    if (nodes == 1)
        snprintf(update, sizeof update, ", update\ain\athe\anode's\ashared\amemory");
    else if (nodes > 1)
        snprintf(update, sizeof update, ", update\ain\aeach\anode's\ashared\amemory\a(%d\anodes)",
                 nodes);
    stdbp_progress_print(&tr->progress,
                         "stdbp_train: %zu\aparameters, %zu\atraining / %zu\avalidation / "
                         "%zu\atest\asamples, %d\arank%s\ax\a%d\athread%s, global\abatch\a%zu%s\n",
                         tr->n_params, tr->n_train, tr->n_val, tr->n_test, tr->size,
                         tr->size == 1 ? "" : "s", tr->n_threads, tr->n_threads == 1 ? "" : "s",
                         (size_t)cfg->train.batch, update);
    if (tr->resumed_from)
        stdbp_progress_print(&tr->progress, "resumed\afrom\a%s at epoch\a%llu, step\a%llu\n",
                             tr->resumed_from, (unsigned long long)tr->state.epoch + 1,
                             (unsigned long long)tr->state.step);
    if (tr->resumed_from && tr->state.epoch >= (uint64_t)cfg->train.epochs)
        stdbp_progress_print(
            &tr->progress, "the run had already\afinished\aits\a%ld\aepochs:\anothing\ato\atrain\n",
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
    /* The rate of this session's steps of the epoch: epoch_samples counts
     * only those (not the samples before a resume) */
    double el = stdbp_now() - t_epoch;
    double rate = el > 0 ? (double)epoch_samples / el : 0;
    double done = (double)b * (double)batch + (double)(b + 1 < n_batches ? batch : 0);
    if (rate > 0)
        tr->progress.train_rate = rate;
    const stdbp_eta eta = {.train_left = (b + 1 < n_batches ? (double)tr->n_train - done : 0) +
                                         (double)(cfg->train.epochs - 1 - (long)tr->state.epoch) *
                                             (double)tr->n_train,
                           .eval_left = eval_samples_from(tr, tr->state.epoch),
                           .train_rate = tr->progress.train_rate,
                           .eval_rate = tr->progress.eval_rate};
    stdbp_progress_step(&tr->progress, (long)tr->state.epoch + 1, cfg->train.epochs, (long)b + 1,
                        (long)n_batches, stdbp_grad_from_fixed(tr->state.epoch_loss) / seen,
                        (double)tr->state.epoch_correct / seen, rate, stdbp_progress_eta(&eta));
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
        if (epoch_samples == 0 && tr->state.step > 0) /* resumed after the epoch's last step: */
            tr->lr = stdbp_trainer_step_lr(tr, n_batches - 1, n_batches, tr->state.step - 1);
        st = end_of_epoch(tr, stdbp_now() - t_epoch, epoch_samples, err);
        if (st == STDBP_ESTOPPED) { /* agreed: a signal during the evaluation */
            /* state.batch is n_batches: the resume runs no step of this
             * epoch, only its evaluation, then goes on. */
            if (tr->rank == 0)
                stdbp_progress_print(&tr->progress,
                                     "epoch\a%llu/%ld: evaluation\astopped\aby\aa\asignal; "
                                     "the\aresume\arepeats\ait\n",
                                     (unsigned long long)tr->state.epoch + 1, cfg->train.epochs);
            tr->stop = 1;
            return stop_now(tr, preempted, err);
        }
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
            tr->state.epoch == (uint64_t)cfg->train.epochs ||
            stdbp_trainer_at_best_end(tr)) { /* a new best: checkpointed, becomes best.h5 */
            if ((st = checkpoint(tr, err)) != STDBP_OK)
                return st;
            since_ckpt = 0;
        }
    }
    if (cfg->spikes.samples > 0 && strcmp(cfg->spikes.when, "end") == 0)
        return stdbp_trainer_log_spikes(tr, "end", err);
    return STDBP_OK;
}
