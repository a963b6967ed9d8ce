/* The trainer's state (private to src/train). */
#ifndef STDBP_TRAIN_TRAINER_IMPL_H
#define STDBP_TRAIN_TRAINER_IMPL_H

#include "train/progress.h"
#include "stdbp/dist.h"
#include "stdbp/train.h"

/* What one thread needs for its samples of a step (trainer_step.c):
 * slot 0 is the trainer's own ws, acc, times, scratch and dl_dt; the
 * other slots own theirs. The net is read-only during the samples and
 * serves every workspace; each slot sums into its own int64 accumulator
 * (the gradient, then STDBP_STAT_COUNT statistics), and the slots are
 * added into slot 0's after the samples: integer sums, so the result is
 * bitwise the same for any number of threads. On one rank the gradient
 * parts are not added there: the mean reads every slot's in one pass
 * (stdbp_grad_fixed_mean_sum); only the statistics are. */
typedef struct stdbp_train_slot {
    stdbp_ws *ws;
    int64_t *acc; /* n_params + STDBP_TRAINER_STAT_SLOTS */
    double *times, *scratch, *dl_dt;
    size_t fail_k;     /* position of its first failed sample, or SIZE_MAX */
    stdbp_status fail; /* ... its status */
    stdbp_err err;     /* ... its message */
} stdbp_train_slot;

struct stdbp_trainer {
    MPI_Comm comm;
    int rank, size;
    stdbp_config cfg;
    stdbp_trainer_opts opts;
    char *config_yaml;  /* effective config, stored in every checkpoint */
    char *resumed_from; /* checkpoint path, or NULL */
    int lock_fd;        /* rank 0: run_dir/.lock while held, else -1 */

    stdbp_dataset train, test;             /* read-only; one copy per node or per rank */
    stdbp_dist_shared *train_sh, *test_sh; /* their shared windows, or NULL
                                              (data.shared_memory) */
    size_t *train_idx, n_train;            /* training indices (after the split) */
    size_t *val_idx, n_val;                /* held-out validation indices */
    size_t n_test;
    size_t *order; /* this epoch's order of train_idx */

    stdbp_net *net;
    stdbp_ws *ws;
    stdbp_optim *opt;
    size_t n_params;
    int sharded;               /* the update is sharded (train.shard_update, P > 1) */
    stdbp_dist_slices slices;  /* this rank's slice of the parameters */
    stdbp_dist_slices neurons; /* ... of the weight-sum penalty's neurons */
    size_t n_neurons;          /* neurons of the weight-sum penalty */
    double *slope;             /* the penalty's slope of every neuron */
    int64_t *acc;              /* fixed-point gradient, then the step statistics */
    double *grad;              /* mean gradient of the step */
    double *times;             /* one encoded input */
    double *scratch;           /* as large as times: augmentation's workspace */
    double *dl_dt;             /* dL/dt of the outputs */
    int n_threads;             /* OpenMP threads of the steps (1 without OpenMP) */
    stdbp_train_slot *slots;   /* n_threads: one per thread, see above */
    int64_t **slot_acc;        /* n_threads: each slot's acc, for the mean */
    /* Sharded through each node's shared memory
     * (stdbp_trainer_share_node): acc and the net's parameters live in
     * this node's window, node_acc holds each of the node's ranks' acc +
     * slices.lo (the slices are cut over the node's ranks), node_sum
     * (several nodes) the node's sum of this rank's slice; NULL
     * otherwise. */
    stdbp_dist_node *node;
    int64_t **node_acc;
    int64_t *node_sum;
    int node_rank, node_size; /* this rank's place on its node, the node's ranks */
    MPI_Comm upd_comm;        /* the ranks the slices are cut over: comm, or the node's */

    stdbp_train_state state;
    double base_lr;    /* optimizer.lr scaled for train.batch (lr_scaling) */
    int64_t *norm_acc; /* layer-wise optimisers: the norms' accumulator */
    size_t norm_size;  /* ... its length (0: none) */
    double lr;
    int stop; /* a rank saw SIGTERM/SIGUSR1 in the last step */
    double t_start, t_compute, t_reduce;
    double t_update;  /* gradient conversion, remedies, optimiser step */
    double wall_base; /* wall time of earlier sessions of a resumed run */
    stdbp_progress progress;
};

/* The reduced buffer of a step: the gradient, the step statistics
 * (dist.h), then one more slot: the ranks that saw a stop signal. */
#define STDBP_TRAINER_STAT_STOP STDBP_STAT_COUNT
#define STDBP_TRAINER_STAT_SLOTS (STDBP_STAT_COUNT + 1)

/* Setting up (trainer_setup.c); local, stdbp_trainer_create agrees on the
 * outcome. The training and test sets, the split and their checks
 * (collective on tr->comm: the loads are; their outcome is agreed): */
stdbp_status stdbp_trainer_load_datasets(stdbp_trainer *tr, stdbp_err *err);
/* Called first by stdbp_trainer_load_datasets, before any work (no data
 * loaded): STDBP_ECONFIG when the number of ranks does not suit the
 * config (more ranks than train.batch), naming the rank counts and
 * batches that would work. Every rank computes the same verdict from the
 * config and the rank count alone. */
stdbp_status stdbp_trainer_check_ranks(const stdbp_trainer *tr, stdbp_err *err);
/* The net, its workspace, the optimiser, the slices and the buffers: */
stdbp_status stdbp_trainer_build_model(stdbp_trainer *tr, stdbp_err *err);
/* Collective on tr->comm, after the resume (the parameters are final):
 * when sharded and STDBP_SHARED_UPDATE is not "off", move acc and the
 * parameters into each node's window and cut the slices over the node's
 * ranks (stdbp_dist_node_create; without a window nothing changes).
 * STDBP_ENOMEM, agreed. */
stdbp_status stdbp_trainer_share_node(stdbp_trainer *tr, stdbp_err *err);
/* The per-thread slots of the steps (after the buffers above; one per
 * OpenMP thread), and their release (also of a partly built array): */
stdbp_status stdbp_trainer_alloc_slots(stdbp_trainer *tr, stdbp_err *err);
void stdbp_trainer_free_slots(stdbp_trainer *tr);
/* Rank 0: the run directory (a fresh run refuses one that holds
 * checkpoints) and config.yaml in it: */
stdbp_status stdbp_trainer_prepare_run_dir(stdbp_trainer *tr, stdbp_err *err);

/* Rank 0 (run_lock.c): take the run directory's lock (an fcntl write
 * lock on run_dir/.lock, which must exist as a directory), refusing a
 * directory that another live process holds (STDBP_ECONFIG naming the
 * directory and the holder); a file system without locks is a warning.
 * Released by stdbp_trainer_unlock_run_dir or at the process's end. */
stdbp_status stdbp_trainer_lock_run_dir(stdbp_trainer *tr, stdbp_err *err);
void stdbp_trainer_unlock_run_dir(stdbp_trainer *tr);

/* Collective (trainer_step.c): one optimiser step on global batch b of
 * length len, of n_batches in the epoch. */
stdbp_status stdbp_trainer_step(stdbp_trainer *tr, size_t b, size_t len, size_t n_batches,
                                stdbp_err *err);

/* Not collective (trainer_step.c): the learning rate of the step with
 * 0-based index step, batch b of n_batches in epoch state.epoch (scaling,
 * schedule and warm-up included). */
double stdbp_trainer_step_lr(const stdbp_trainer *tr, size_t b, size_t n_batches, uint64_t step);

/* Not collective (trainer_run.c): does the state stand at the end of the
 * epoch that set the best validation accuracy so far? Its checkpoint is
 * then checkpoints/best.h5. */
int stdbp_trainer_at_best_end(const stdbp_trainer *tr);
/* Rank 0 (trainer_run.c): make the checkpoint at path best.h5; a failure
 * is a warning (the checkpoint itself is safe). */
void stdbp_trainer_mark_best(stdbp_trainer *tr, const char *path);

/* Collective: record spikes of the first spikes.samples test images as
 * moment (e.g. "epoch-0003", "end") in run_dir/spikes.h5. */
stdbp_status stdbp_trainer_log_spikes(stdbp_trainer *tr, const char *moment, stdbp_err *err);

/* Not collective (signals.c): sleep up to ms (a test hook's delay, so that
 * a test's signal lands mid-phase) in slices of 20 ms that end early on a
 * stop signal; then stdbp_signal_pending(). */
int stdbp_signal_pending_after(long ms);

#endif
