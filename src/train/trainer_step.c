/* One optimiser step of the data-parallel loop; see trainer.c for the
 * scheme and trainer_impl.h. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "stdbp/dist.h"
#include "stdbp/loss.h"
#include "stdbp/optim.h"
#include "train/trainer_impl.h"
#include "util/test_hooks.h"

/* Sample at position k of global batch b into slot s: encode, augment,
 * forward, loss, backward into s->acc and its statistics. Local. */
static stdbp_status run_sample(const stdbp_trainer *tr, stdbp_train_slot *s, size_t b, size_t k,
                               stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    int64_t *stats = s->acc + tr->n_params;
    size_t n_out = stdbp_net_output_size(tr->net);
    size_t i = tr->order[b * (size_t)cfg->train.batch + k];
    int label = tr->train.labels[i];
    const double *t_out;
    stdbp_status st =
        stdbp_sample_forward(tr->net, s->ws, &cfg->encoding, &cfg->augment, cfg->run.seed,
                             tr->state.epoch, &tr->train, i, s->times, s->scratch, &t_out, err);
    if (st != STDBP_OK)
        return st;
    double l = stdbp_loss_softmax_ce(&cfg->loss, t_out, n_out, label, s->dl_dt);
    if (!isfinite(l))
        return stdbp_err_set(err, STDBP_ENUMERIC, "loss is %g on training sample %zu", l, i);
    st = stdbp_net_backward(tr->net, s->ws, s->dl_dt, s->acc, NULL, err);
    if (st != STDBP_OK) {
        stdbp_err_prefix(err, "training sample %zu: ", i);
        return st;
    }
    /* Per-sample values in fixed point: the sums are order-free. */
    stats[STDBP_STAT_LOSS] += stdbp_grad_to_fixed(l);
    stats[STDBP_STAT_CORRECT] += stdbp_classify(t_out, n_out) == label;
    stats[STDBP_STAT_SAMPLES]++;
    return STDBP_OK;
}

/* On one rank nothing is reduced over MPI, so the threads' gradients stay
 * in their slots and the mean adds them as it converts them (one pass
 * over memory instead of two); with more ranks they are added into slot
 * 0's first, the one buffer the reduction takes. */
static int grads_stay_in_slots(const stdbp_trainer *tr)
{
    return tr->size == 1;
}

/* Sample k of batch b in thread t's slot; a slot that failed skips the
 * rest of its samples (all later in the batch). Local. */
static void run_in_slot(stdbp_trainer *tr, int t, size_t b, size_t k)
{
    stdbp_train_slot *s = &tr->slots[t];
    if (s->fail_k != SIZE_MAX)
        return;
    stdbp_status st = run_sample(tr, s, b, k, &s->err);
    if (st != STDBP_OK) {
        s->fail = st;
        s->fail_k = k;
    }
}

static int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* This rank's share of global batch b: forward, loss, backward, its
 * samples spread over the threads (one slot each), then the slots'
 * accumulators added into tr->acc. Local; the caller records a failure
 * in the statistics rather than returning early from the step, so that
 * every rank still reaches the reduction. A failure reports the rank's
 * first failed sample in batch order, whatever the number of threads.
 *
 * Which samples are this rank's: a fixed shard (stdbp_shard), or with
 * the node windows (tr->node) whichever of its node's shard the node's
 * counter hands it, sample by sample, so that a rank whose samples were
 * cheap takes more rather than waiting for the others at the sync.
 * Either way every sample is summed exactly once into integers, so the
 * step's result is the same. */
static stdbp_status run_local_batch(stdbp_trainer *tr, size_t b, size_t len, stdbp_err *err)
{
    size_t begin, end;
    if (tr->node) /* this node's share */
        stdbp_shard(len, stdbp_dist_node_index(tr->node), stdbp_dist_node_count(tr->node), &begin,
                    &end);
    else
        stdbp_shard(len, tr->rank, tr->size, &begin, &end);
    int nt = tr->n_threads;
    if ((size_t)nt > end - begin)
        nt = end - begin > 1 ? (int)(end - begin) : 1;
    for (int t = 0; t < nt; t++)
        tr->slots[t].fail_k = SIZE_MAX;
    if (tr->node) {
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
        for (uint64_t k; (k = stdbp_dist_node_next(tr->node)) < end - begin;)
            run_in_slot(tr, thread_num(), b, begin + (size_t)k);
    } else {
        /* Dynamic: samples differ in cost. */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
        for (size_t k = begin; k < end; k++)
            run_in_slot(tr, thread_num(), b, k);
    }
    /* The other slots' statistics, and their gradient unless it stays in
     * the slots, into slot 0's (tr->acc), leaving theirs zeroed; integer
     * sums (wrapping, as the gradient's). */
    if (nt > 1) {
        const size_t lo = grads_stay_in_slots(tr) ? tr->n_params : 0;
        const size_t hi = tr->n_params + STDBP_STAT_COUNT;
        stdbp_train_slot *slots = tr->slots;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (hi - lo > 4096)
#endif
        for (size_t p = lo; p < hi; p++) {
            uint64_t sum = (uint64_t)slots[0].acc[p];
            for (int t = 1; t < nt; t++) {
                sum += (uint64_t)slots[t].acc[p];
                slots[t].acc[p] = 0;
            }
            slots[0].acc[p] = (int64_t)sum;
        }
    }
    int first = -1;
    for (int t = 0; t < nt; t++)
        if (tr->slots[t].fail_k != SIZE_MAX &&
            (first < 0 || tr->slots[t].fail_k < tr->slots[first].fail_k))
            first = t;
    if (first < 0)
        return STDBP_OK;
    if (err)
        *err = tr->slots[first].err;
    return tr->slots[first].fail;
}

double stdbp_trainer_step_lr(const stdbp_trainer *tr, size_t b, size_t n_batches, uint64_t step)
{
    const double epoch_pos = (double)tr->state.epoch + (double)b / (double)n_batches;
    return stdbp_schedule_lr_step(&tr->cfg.schedule, tr->base_lr, epoch_pos, step);
}

/* Collective: one optimiser step on global batch b of length len. */
stdbp_status stdbp_trainer_step(stdbp_trainer *tr, size_t b, size_t len, size_t n_batches,
                                stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    int64_t *stats = tr->acc + tr->n_params;
    double t0 = stdbp_now();

    /* Test hook: poison the last layer's weights at one step, to check that
     * a NaN stops the run with a clear message and the checkpoints intact. */
    if (stdbp_test_hooks_get()->nan_step == tr->state.step + 1) {
        stdbp_layer_info last = stdbp_net_layer(tr->net, stdbp_net_num_layers(tr->net) - 1);
        double *w = stdbp_net_params(tr->net) + last.param_offset;
        for (size_t k = 0; k < last.param_count; k++)
            w[k] = NAN;
    }
    /* The gradient part of acc was zeroed when it was last converted. */
    memset(stats, 0, STDBP_TRAINER_STAT_SLOTS * sizeof *stats);
    stdbp_status failed = run_local_batch(tr, b, len, err);
    stats[STDBP_STAT_FAILED] = failed != STDBP_OK;
    stats[STDBP_TRAINER_STAT_STOP] = stdbp_signal_pending();
    double t1 = stdbp_now();
    tr->t_compute += t1 - t0;
    /* Collective: the statistics, with the gradient unless sharded or
     * kept in the slots (one rank: the sum is the rank's own). */
    stdbp_status st =
        tr->sharded || grads_stay_in_slots(tr)
            ? stdbp_dist_sum_i64(tr->comm, stats, STDBP_TRAINER_STAT_SLOTS, err)
            : stdbp_dist_sum_i64(tr->comm, tr->acc, tr->n_params + STDBP_TRAINER_STAT_SLOTS, err);
    if (st != STDBP_OK)
        return st;
    if (stats[STDBP_STAT_FAILED]) { /* every rank knows: agree is reached by all */
        tr->t_reduce += stdbp_now() - t1;
        return stdbp_dist_agree(tr->comm, failed, err);
    }
    /* Collective: this rank's slice of the summed gradient, at acc[0];
     * with the node windows, the node's accumulators are complete and
     * readable, and with several nodes this rank's slice is summed over
     * the node (zeroing it in the window), then over the nodes. */
    if (tr->node) {
        stdbp_dist_node_sync(tr->node); /* collective on the node */
        if (tr->node_rank == 0)         /* the node's ranks are done taking samples */
            stdbp_dist_node_restart(tr->node);
        if (tr->node_sum) {
            stdbp_dist_node_take_sum(tr->node, tr->slices.lo, tr->slices.hi, tr->node_sum);
            /* collective on the ranks of this place on every node */
            st = stdbp_dist_sum_i64(stdbp_dist_node_cross(tr->node), tr->node_sum,
                                    tr->slices.hi - tr->slices.lo, err);
            if (st != STDBP_OK)
                return st;
        }
    } else if (tr->sharded && (st = stdbp_dist_reduce_scatter_i64(tr->comm, tr->acc, &tr->slices,
                                                                  err)) != STDBP_OK)
        return st;
    double t2 = stdbp_now();
    tr->t_reduce += t2 - t1;

    /* Mean gradient over the batch, then the remedies, then the step:
     * the same arithmetic on the same integers, parameter by parameter,
     * on whichever rank owns the parameter. */
    const size_t lo = tr->sharded ? tr->slices.lo : 0;
    const size_t hi = tr->sharded ? tr->slices.hi : tr->n_params;
    /* Zeroes acc[0, hi - lo) of every slot it reads (slot 0: tr->acc);
     * slots no thread used in this step hold zeros. In the node windows:
     * this rank's slice of every accumulator of the node, zeroed by its
     * owner (several nodes: the slice's sum, taken above). */
    if (tr->node_sum) {
        stdbp_grad_fixed_mean(tr->node_sum, tr->grad + lo, hi - lo, len);
    } else if (tr->node) {
        stdbp_grad_fixed_mean_sum(tr->node_acc, (size_t)tr->node_size, tr->grad + lo, hi - lo, len);
    } else {
        const size_t n_acc = grads_stay_in_slots(tr) ? (size_t)tr->n_threads : 1;
        stdbp_grad_fixed_mean_sum(tr->slot_acc, n_acc, tr->grad + lo, hi - lo, len);
        if (tr->sharded) /* the rest held this rank's own terms */
            memset(tr->acc + (hi - lo), 0, (tr->n_params - (hi - lo)) * sizeof *tr->acc);
    }
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
            (st = stdbp_dist_allgather_f64(tr->upd_comm, tr->grad, &tr->slices, err)) != STDBP_OK)
            return st;
        double norm = stdbp_grad_clip_norm(tr->grad, tr->n_params, cfg->train.clip_norm);
        if (!isfinite(norm))
            return stdbp_err_set(err, STDBP_ENUMERIC, "gradient norm is %g", norm);
    }
    tr->lr = stdbp_trainer_step_lr(tr, b, n_batches, tr->state.step);
    if (tr->norm_size) {
        /* Layer-wise (LAMB, LARS): each rank's exact per-layer sums of
         * squares of its slice; collective when sharded: the integer sums
         * over the slices' ranks are the whole layers' whatever the
         * slices. */
        stdbp_optim_norms_slice(tr->opt, params, tr->grad, lo, hi, tr->norm_acc);
        if (tr->sharded &&
            (st = stdbp_dist_sum_i64(tr->upd_comm, tr->norm_acc, tr->norm_size, err)) != STDBP_OK)
            return st;
        stdbp_optim_step_slice_norms(tr->opt, params, tr->grad, tr->lr, lo, hi, tr->norm_acc);
    } else {
        stdbp_optim_step_slice(tr->opt, params, tr->grad, tr->lr, lo, hi);
    }
    double t3 = stdbp_now();
    tr->t_update += t3 - t2; /* with the clip's all-gather, if any */
    /* Collective: every rank's new slice to every rank; in the node
     * windows the slices are in place, and the sync also keeps the next
     * step's accumulation off every accumulator until its owner has read
     * it. */
    if (tr->node) {
        stdbp_dist_node_sync(tr->node); /* collective on the node */
        tr->t_reduce += stdbp_now() - t3;
    } else if (tr->sharded) {
        st = stdbp_dist_allgather_f64(tr->comm, params, &tr->slices, err);
        tr->t_reduce += stdbp_now() - t3;
        if (st != STDBP_OK)
            return st;
    }

    tr->state.epoch_loss += stats[STDBP_STAT_LOSS];
    tr->state.epoch_correct += stats[STDBP_STAT_CORRECT];
    tr->state.epoch_samples += stats[STDBP_STAT_SAMPLES];
    tr->stop = stats[STDBP_TRAINER_STAT_STOP] > 0;
    tr->state.step++;
    tr->state.batch = b + 1;
    return STDBP_OK;
}
