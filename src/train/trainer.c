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
 * parameters. Each parameter sees the same arithmetic either way. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/loss.h"
#include "stdbp/optim.h"
#include "stdbp/train.h"
#include "train/trainer_impl.h"

/* Extra slot after the step statistics: ranks that saw a stop signal. */
#define STAT_STOP STDBP_STAT_COUNT
#define STAT_SLOTS (STDBP_STAT_COUNT + 1)

static stdbp_status load_datasets(stdbp_trainer *tr, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    const char *test_name = cfg->data.test[0] ? cfg->data.test : cfg->data.train;
    /* Test hook: one rank fails to load, to check that all ranks stop. */
    const char *fail_rank = getenv("STDBP_TEST_FAIL_DATA_RANK");
    if (fail_rank && atoi(fail_rank) == tr->rank)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open the training data "
                             "(injected by STDBP_TEST_FAIL_DATA_RANK)", cfg->data.train);
    stdbp_status st = stdbp_dataset_open(cfg->data.train, cfg->data.dir, "train", &tr->train, err);
    if (st != STDBP_OK)
        return st;
    st = stdbp_dataset_open(test_name, cfg->data.dir, "test", &tr->test, err);
    if (st != STDBP_OK)
        return st;

    size_t n = tr->train.n;
    if (cfg->data.n_train > 0 && (size_t)cfg->data.n_train < n)
        n = (size_t)cfg->data.n_train;
    size_t n_val = cfg->data.n_val > 0 ? (size_t)cfg->data.n_val : 0;
    if (n_val >= n)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "data.val_samples = %zu leaves no training samples out of %zu in %s",
                             n_val, n, tr->train.source);
    st = stdbp_split(n, n_val, cfg->run.seed, &tr->train_idx, &tr->val_idx, err);
    if (st != STDBP_OK)
        return st;
    tr->n_train = n - n_val;
    tr->n_val = n_val;
    tr->n_test = tr->test.n;
    if (cfg->data.n_test > 0 && (size_t)cfg->data.n_test < tr->n_test)
        tr->n_test = (size_t)cfg->data.n_test;
    if (tr->train.dim != tr->test.dim)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s has %zu values per sample but %s has %zu",
                             tr->train.source, tr->train.dim, tr->test.source, tr->test.dim);
    if (cfg->augment.shift > 0 && (tr->train.shape.h < 2 || tr->train.shape.w < 2))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "augment.shift = %d needs images, but %s holds [%d, %d, %d] "
                             "samples (set augment.shift: 0)",
                             cfg->augment.shift, tr->train.source, tr->train.shape.c,
                             tr->train.shape.h, tr->train.shape.w);
    if ((size_t)cfg->train.batch < (size_t)tr->size)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "train.batch = %ld is smaller than the number of ranks (%d): "
                             "every rank needs at least one sample per batch",
                             cfg->train.batch, tr->size);
    return STDBP_OK;
}

static stdbp_status build_model(stdbp_trainer *tr, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    stdbp_shape in = tr->train.shape;
    if (cfg->network.input.c > 0 &&
        (cfg->network.input.c != in.c || cfg->network.input.h != in.h ||
         cfg->network.input.w != in.w))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "network.input is [%d, %d, %d] but %s holds [%d, %d, %d] samples",
                             cfg->network.input.c, cfg->network.input.h, cfg->network.input.w,
                             tr->train.source, in.c, in.h, in.w);
    stdbp_status st = stdbp_net_create(in, cfg->network.layers, cfg->network.n_layers,
                                       &cfg->network.neuron, &tr->net, err);
    if (st != STDBP_OK)
        return st;
    if (stdbp_net_output_size(tr->net) < (size_t)tr->train.n_classes)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "the last layer has %zu outputs but %s has %d classes",
                             stdbp_net_output_size(tr->net), tr->train.source,
                             tr->train.n_classes);
    /* Same seed on every rank: identical initial weights without a bcast. */
    stdbp_net_init(tr->net, &cfg->network.init, cfg->run.seed);
    if ((st = stdbp_ws_create(tr->net, &tr->ws, err)) != STDBP_OK)
        return st;
    tr->n_params = stdbp_net_num_params(tr->net);
    if ((st = stdbp_optim_create(&cfg->optim, tr->n_params, &tr->opt, err)) != STDBP_OK)
        return st;
    /* Sharding needs slices that MPI's int counts can describe: of the
     * parameters, and of the weight-sum penalty's neurons. */
    tr->sharded = cfg->train.shard_update && tr->size > 1 && tr->n_params <= (size_t)INT_MAX;
    tr->n_neurons = stdbp_penalty_columns(tr->net);
    if (tr->sharded &&
        ((st = stdbp_dist_slices_init(tr->comm, tr->n_params, &tr->slices, err)) != STDBP_OK ||
         (st = stdbp_dist_slices_init(tr->comm, tr->n_neurons, &tr->neurons, err)) != STDBP_OK))
        return st;
    tr->slope = calloc(tr->n_neurons ? tr->n_neurons : 1, sizeof *tr->slope);
    tr->acc = calloc(tr->n_params + STAT_SLOTS, sizeof *tr->acc);
    tr->grad = calloc(tr->n_params ? tr->n_params : 1, sizeof *tr->grad);
    tr->times = calloc(stdbp_net_input_size(tr->net), sizeof *tr->times);
    tr->scratch = calloc(stdbp_net_input_size(tr->net), sizeof *tr->scratch);
    tr->dl_dt = calloc(stdbp_net_output_size(tr->net), sizeof *tr->dl_dt);
    tr->order = calloc(tr->n_train ? tr->n_train : 1, sizeof *tr->order);
    if (!tr->slope || !tr->acc || !tr->grad || !tr->times || !tr->scratch || !tr->dl_dt || !tr->order)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %zu parameters",
                             tr->n_params);
    return STDBP_OK;
}

/* Rank 0: a fresh run (no --resume) must not overwrite or prune the
 * checkpoints and metrics of an earlier run in the same directory. */
static stdbp_status refuse_old_checkpoints(const stdbp_trainer *tr, stdbp_err *err)
{
    char dir[4200];
    struct dirent *de;
    const char *found = NULL;
    snprintf(dir, sizeof dir, "%s/checkpoints", tr->cfg.run.out_dir);
    DIR *d = opendir(dir);
    if (!d)
        return STDBP_OK;
    while (!found && (de = readdir(d)))
        if (strncmp(de->d_name, "ckpt-", 5) == 0)
            found = de->d_name;
    stdbp_status st = STDBP_OK;
    if (found)
        st = stdbp_err_set(err, STDBP_ECONFIG,
                           "%s already holds checkpoints (e.g. %s) of an earlier run: pass "
                           "--resume auto to continue it, or set run.dir (or run.name) to "
                           "start a new one",
                           dir, found);
    closedir(d);
    return st;
}

/* Rank 0: the run directory and the effective config in it. */
static stdbp_status prepare_run_dir(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4200];
    if (!(tr->opts.resume && tr->opts.resume[0])) {
        stdbp_status st = refuse_old_checkpoints(tr, err);
        if (st != STDBP_OK)
            return st;
    }
    if (stdbp_mkdir_p(tr->cfg.run.out_dir) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot create the run directory %s: %s",
                             tr->cfg.run.out_dir, strerror(errno));
    if (!tr->config_yaml)
        return STDBP_OK;
    snprintf(path, sizeof path, "%s/config.yaml", tr->cfg.run.out_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    fputs(tr->config_yaml, f);
    if (fclose(f) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    return STDBP_OK;
}

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
        fprintf(stderr, "stdbp_train: warning: resuming from %s with a different config (%s)\n",
                path, what);
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

    /* Each phase ends in an agreement (collective), so a failure on any
     * rank stops every rank before the next collective. */
    st = STDBP_OK;
    if (opts && opts->config_yaml && !(tr->config_yaml = strdup(opts->config_yaml)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if (st == STDBP_OK)
        st = load_datasets(tr, err);
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;
    st = build_model(tr, err);
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;
    st = tr->rank == 0 ? prepare_run_dir(tr, err) : STDBP_OK;
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK)
        goto fail;

    tr->state.seed = cfg->run.seed;
    stdbp_rng_seed(&tr->state.rng, cfg->run.seed);
    if (tr->opts.resume && tr->opts.resume[0]) {
        char path[4096];
        if (strcmp(tr->opts.resume, "auto") == 0) {
            st = stdbp_ckpt_find_latest(comm, cfg->run.out_dir, path, sizeof path, err);
            if (st != STDBP_OK)
                goto fail;
        } else {
            snprintf(path, sizeof path, "%s", tr->opts.resume);
        }
        if (path[0]) {
            char *stored = NULL;
            /* collective; every rank passes &stored alike */
            st = stdbp_ckpt_read(comm, path, tr->net, tr->opt, &tr->state, &stored, err);
            if (st != STDBP_OK) {
                free(stored);
                goto fail;
            }
            if (tr->rank == 0)
                warn_config_change(cfg, path, stored);
            free(stored);
            tr->resumed_from = strdup(path);
            tr->wall_base = tr->state.wall_seconds;
        }
    }
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

stdbp_net *stdbp_trainer_net(stdbp_trainer *tr) { return tr->net; }

const stdbp_dataset *stdbp_trainer_test_set(const stdbp_trainer *tr) { return &tr->test; }

/* This rank's share of global batch b: forward, loss, backward. Local;
 * records a failure in the statistics rather than returning early from the
 * step, so that every rank still reaches the reduction. */
static void run_local_batch(stdbp_trainer *tr, size_t b, size_t len, stdbp_err *err,
                            stdbp_status *failed)
{
    const stdbp_config *cfg = &tr->cfg;
    int64_t *stats = tr->acc + tr->n_params;
    size_t begin, end, n_out = stdbp_net_output_size(tr->net);
    stdbp_shard(len, tr->rank, tr->size, &begin, &end);
    for (size_t k = begin; k < end && *failed == STDBP_OK; k++) {
        size_t i = tr->order[b * (size_t)cfg->train.batch + k];
        int label = tr->train.labels[i];
        stdbp_encode(&cfg->encoding, &tr->train, i, tr->times);
        stdbp_augment_apply(&cfg->augment, cfg->run.seed, tr->state.epoch, i, tr->train.shape,
                            tr->times, tr->scratch);
        const double *t_out = stdbp_net_forward(tr->net, tr->ws, tr->times);
        double l = stdbp_loss_softmax_ce(&cfg->loss, t_out, n_out, label, tr->dl_dt);
        if (!isfinite(l)) {
            *failed = stdbp_err_set(err, STDBP_ENUMERIC, "loss is %g on training sample %zu",
                                    l, i);
            break;
        }
        *failed = stdbp_net_backward(tr->net, tr->ws, tr->dl_dt, tr->acc, NULL, err);
        if (*failed != STDBP_OK) {
            stdbp_err_prefix(err, "training sample %zu: ", i);
            break;
        }
        stats[STDBP_STAT_LOSS] += stdbp_grad_to_fixed(l);
        stats[STDBP_STAT_CORRECT] += stdbp_classify(t_out, n_out) == label;
        stats[STDBP_STAT_SAMPLES]++;
    }
    stats[STDBP_STAT_FAILED] = *failed != STDBP_OK;
    stats[STAT_STOP] = stdbp_signal_pending();
}

/* Collective: one optimiser step on global batch b of length len. */
static stdbp_status train_step(stdbp_trainer *tr, size_t b, size_t len, size_t n_batches,
                               stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    int64_t *stats = tr->acc + tr->n_params;
    stdbp_status failed = STDBP_OK;
    double t0 = stdbp_now();

    /* Test hook: poison the last layer's weights at one step, to check that
     * a NaN stops the run with a clear message and the checkpoints intact. */
    const char *nan_step = getenv("STDBP_TEST_NAN_STEP");
    if (nan_step && strtoull(nan_step, NULL, 10) == tr->state.step + 1) {
        stdbp_layer_info last = stdbp_net_layer(tr->net, stdbp_net_num_layers(tr->net) - 1);
        double *w = stdbp_net_params(tr->net) + last.param_offset;
        for (size_t k = 0; k < last.param_count; k++)
            w[k] = NAN;
    }
    /* The gradient part of acc was zeroed when it was last converted. */
    memset(stats, 0, STAT_SLOTS * sizeof *stats);
    run_local_batch(tr, b, len, err, &failed);
    double t1 = stdbp_now();
    tr->t_compute += t1 - t0;
    /* Collective: the statistics, with the gradient unless sharded. */
    stdbp_status st = tr->sharded ? stdbp_dist_sum_i64(tr->comm, stats, STAT_SLOTS, err)
                                  : stdbp_dist_sum_i64(tr->comm, tr->acc,
                                                       tr->n_params + STAT_SLOTS, err);
    if (st != STDBP_OK)
        return st;
    if (stats[STDBP_STAT_FAILED]) { /* every rank knows: agree is reached by all */
        tr->t_reduce += stdbp_now() - t1;
        return stdbp_dist_agree(tr->comm, failed, err);
    }
    /* Collective: this rank's slice of the summed gradient, at acc[0]. */
    if (tr->sharded && (st = stdbp_dist_reduce_scatter_i64(tr->comm, tr->acc, &tr->slices,
                                                           err)) != STDBP_OK)
        return st;
    double t2 = stdbp_now();
    tr->t_reduce += t2 - t1;

    /* Mean gradient over the batch, then the remedies, then the step:
     * the same arithmetic on the same integers, parameter by parameter,
     * on whichever rank owns the parameter. */
    const size_t lo = tr->sharded ? tr->slices.lo : 0;
    const size_t hi = tr->sharded ? tr->slices.hi : tr->n_params;
    stdbp_grad_fixed_mean(tr->acc, tr->grad + lo, hi - lo, len); /* zeroes acc[0, hi - lo) */
    if (tr->sharded) /* the rest held this rank's own terms */
        memset(tr->acc + (hi - lo), 0, (tr->n_params - (hi - lo)) * sizeof *tr->acc);
    double *params = stdbp_net_params(tr->net);
    if (cfg->train.ws_lambda > 0) {
        /* Each rank sums the weights of its own neurons (all of them when
         * not sharded); collective when sharded: the slopes reach every
         * rank, which adds them to its slice of the gradient. */
        stdbp_penalty_slopes(tr->net, params, cfg->train.ws_lambda, cfg->train.ws_margin,
                             tr->sharded ? tr->neurons.lo : 0,
                             tr->sharded ? tr->neurons.hi : tr->n_neurons, tr->slope);
        if (tr->sharded &&
            (st = stdbp_dist_allgather_f64(tr->comm, tr->slope, &tr->neurons, err)) != STDBP_OK)
            return st;
        stdbp_penalty_add_slopes(tr->net, tr->slope, tr->grad, lo, hi);
    }
    if (isfinite(cfg->train.clip_norm)) { /* off (inf): save a pass over grad */
        /* Collective: the norm needs the whole gradient, summed in one
         * order whatever the number of ranks. */
        if (tr->sharded &&
            (st = stdbp_dist_allgather_f64(tr->comm, tr->grad, &tr->slices, err)) != STDBP_OK)
            return st;
        double norm = stdbp_grad_clip_norm(tr->grad, tr->n_params, cfg->train.clip_norm);
        if (!isfinite(norm))
            return stdbp_err_set(err, STDBP_ENUMERIC, "gradient norm is %g", norm);
    }
    double epoch_pos = (double)tr->state.epoch + (double)b / (double)n_batches;
    tr->lr = stdbp_schedule_lr(&cfg->schedule, cfg->optim.lr, epoch_pos);
    stdbp_optim_step_slice(tr->opt, params, tr->grad, tr->lr, lo, hi);
    double t3 = stdbp_now();
    tr->t_update += t3 - t2; /* with the clip's all-gather, if any */
    /* Collective: every rank's new slice to every rank. */
    if (tr->sharded) {
        st = stdbp_dist_allgather_f64(tr->comm, params, &tr->slices, err);
        tr->t_reduce += stdbp_now() - t3;
        if (st != STDBP_OK)
            return st;
    }

    tr->state.epoch_loss += stats[STDBP_STAT_LOSS];
    tr->state.epoch_correct += stats[STDBP_STAT_CORRECT];
    tr->state.epoch_samples += stats[STDBP_STAT_SAMPLES];
    tr->stop = stats[STAT_STOP] > 0;
    tr->state.step++;
    tr->state.batch = b + 1;
    return STDBP_OK;
}

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
    st = stdbp_ckpt_write(tr->comm, tr->cfg.run.out_dir, tr->net, tr->opt,
                                       &tr->state, tr->config_yaml, (int)tr->cfg.checkpoint.keep,
                                       path, sizeof path, err);
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
        st = stdbp_evaluate(tr->comm, tr->net, tr->ws, &tr->test, NULL, tr->n_test,
                            &cfg->encoding, &cfg->loss, tr->times, &test, err);
    if (st != STDBP_OK)
        return st;
    if (tr->n_val > 0 && eval_now && val.accuracy > tr->state.best_val_acc) {
        tr->state.best_val_acc = val.accuracy;
        tr->state.best_epoch = tr->state.epoch;
    }
    if (tr->rank != 0)
        return STDBP_OK;
    stdbp_metrics_row row = {
        .epoch = tr->state.epoch,
        .step = tr->state.step,
        .lr = tr->lr,
        .train_loss = tr->state.epoch_samples ? stdbp_grad_from_fixed(tr->state.epoch_loss) /
                                                    (double)tr->state.epoch_samples : NAN,
        .train_acc = tr->state.epoch_samples ? (double)tr->state.epoch_correct /
                                                   (double)tr->state.epoch_samples : NAN,
        .val_loss = val.loss,
        .val_acc = val.accuracy,
        .test_loss = test.loss,
        .test_acc = test.accuracy,
        .epoch_seconds = epoch_seconds,
        .samples_per_s = epoch_seconds > 0 ? (double)epoch_samples / epoch_seconds : 0,
        .wall_seconds = wall_seconds(tr),
    };
    const double step_time = tr->t_compute + tr->t_reduce + tr->t_update + 1e-300;
    stdbp_progress_print(&tr->progress,
                         "epoch %llu/%ld: train loss %.4f acc %.2f%% | val acc %.2f%% | "
                         "test loss %.4f acc %.2f%% | %.1f s, %.0f samples/s "
                         "(of the step time: reduce %.1f%%, update %.1f%%)\n",
                         (unsigned long long)tr->state.epoch + 1, cfg->train.epochs,
                         row.train_loss, 100 * row.train_acc, 100 * row.val_acc, row.test_loss,
                         100 * row.test_acc, epoch_seconds, row.samples_per_s,
                         100 * tr->t_reduce / step_time, 100 * tr->t_update / step_time);
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

stdbp_status stdbp_trainer_run(stdbp_trainer *tr, int *preempted, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    const size_t batch = (size_t)cfg->train.batch;
    const size_t n_batches = stdbp_num_batches(tr->n_train, batch);
    stdbp_status st = STDBP_OK;
    long since_ckpt = 0;

    *preempted = 0;
    stdbp_progress_init(&tr->progress, tr->opts.progress_tty, tr->opts.quiet || tr->rank != 0,
                        cfg->train.log_every);
    if (tr->rank == 0) {
        stdbp_progress_print(&tr->progress,
                             "stdbp_train: %zu parameters, %zu training / %zu validation / %zu "
                             "test samples, %d ranks, global batch %zu\n",
                             tr->n_params, tr->n_train, tr->n_val, tr->n_test, tr->size, batch);
        if (tr->resumed_from)
            stdbp_progress_print(&tr->progress, "resumed from %s at epoch %llu, step %llu\n",
                                 tr->resumed_from, (unsigned long long)tr->state.epoch + 1,
                                 (unsigned long long)tr->state.step);
        if (tr->resumed_from && tr->state.epoch >= (uint64_t)cfg->train.epochs)
            stdbp_progress_print(&tr->progress,
                                 "the run had already finished its %ld epochs: nothing to train\n",
                                 cfg->train.epochs);
    }
    while (tr->state.epoch < (uint64_t)cfg->train.epochs) {
        double t_epoch = stdbp_now();
        size_t epoch_samples = 0;
        if (tr->state.batch == 0) /* else resumed mid-epoch: keep the sums */
            tr->state.epoch_loss = tr->state.epoch_correct = tr->state.epoch_samples = 0;
        tr->t_compute = tr->t_reduce = tr->t_update = 0;
        stdbp_epoch_order(tr->train_idx, tr->n_train, cfg->run.seed, tr->state.epoch, tr->order);
        for (size_t b = tr->state.batch; b < n_batches; b++) {
            size_t len = b + 1 < n_batches ? batch : tr->n_train - b * batch;
            st = train_step(tr, b, len, n_batches, err);
            if (st != STDBP_OK) {
                stdbp_err_prefix(err, "epoch %llu, step %llu: ",
                                 (unsigned long long)tr->state.epoch + 1,
                                 (unsigned long long)tr->state.step + 1);
                return st;
            }
            epoch_samples += len;
            since_ckpt++;
            if (tr->rank == 0) {
                double el = stdbp_now() - t_epoch;
                double rate = el > 0 ? (double)epoch_samples / el : 0;
                double left = (double)(n_batches - b - 1) * (double)batch +
                              (double)(cfg->train.epochs - 1 - (long)tr->state.epoch) *
                                  (double)tr->n_train;
                stdbp_progress_step(
                    &tr->progress, (long)tr->state.epoch + 1, cfg->train.epochs, (long)b + 1,
                    (long)n_batches,
                    stdbp_grad_from_fixed(tr->state.epoch_loss) /
                        (double)(tr->state.epoch_samples ? tr->state.epoch_samples : 1),
                    (double)tr->state.epoch_correct /
                        (double)(tr->state.epoch_samples ? tr->state.epoch_samples : 1),
                    rate, rate > 0 ? left / rate : 0);
            }
            int limit = tr->opts.max_steps > 0 && tr->state.step >= (uint64_t)tr->opts.max_steps;
            if (tr->stop || limit) {
                if (b + 1 == n_batches)
                    break; /* finish the epoch first: its metrics, then stop */
                return stop_now(tr, preempted, err);
            }
            /* At an epoch's last batch the end-of-epoch checkpoint follows. */
            if (cfg->checkpoint.every_steps > 0 && since_ckpt >= cfg->checkpoint.every_steps &&
                b + 1 < n_batches) {
                if ((st = checkpoint(tr, err)) != STDBP_OK)
                    return st;
                since_ckpt = 0;
            }
        }
        st = end_of_epoch(tr, stdbp_now() - t_epoch, epoch_samples, err);
        if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK)
            return st;
        if (cfg->spikes.samples > 0 && strcmp(cfg->spikes.when, "epoch") == 0) {
            char moment[32];
            snprintf(moment, sizeof moment, "epoch-%04llu", (unsigned long long)tr->state.epoch + 1);
            if ((st = stdbp_trainer_log_spikes(tr, moment, err)) != STDBP_OK)
                return st;
        }
        tr->state.epoch++;
        tr->state.batch = 0;
        int limit = tr->opts.max_steps > 0 && tr->state.step >= (uint64_t)tr->opts.max_steps;
        if (tr->stop || limit)
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
