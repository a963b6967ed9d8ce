/* Training and evaluation, data-parallel over an MPI communicator.
 *
 * A trainer owns everything one run needs on one rank: the datasets (each
 * rank holds them once), the network and its workspace, the optimiser, the
 * reduction buffer and the training state. Every rank runs the same loop:
 * its slice of each global batch, then the gradient reduction and the
 * optimiser step, sharded over the ranks by default (dist.h: each rank
 * steps its own slice of the parameters, then all share them). The result
 * is bitwise the same for any number of ranks.
 * Functions marked collective must be called by every rank of the comm. */
#ifndef STDBP_TRAIN_H
#define STDBP_TRAIN_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "stdbp/api.h"
#include "stdbp/ckpt.h"
#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/error.h"
#include "stdbp/net.h"

/* Exit status of stdbp_train when a signal (SIGTERM, SIGUSR1) stopped it
 * after writing a checkpoint: rerun with --resume auto to continue. */
#define STDBP_EXIT_PREEMPTED 75

typedef struct stdbp_trainer stdbp_trainer;

typedef struct stdbp_trainer_opts {
    const char *resume;      /* NULL, "auto" or a checkpoint path */
    const char *config_yaml; /* the effective config, stored in checkpoints */
    int quiet;               /* no progress output */
    int progress_tty;        /* -1: detect from stdout; 0: log lines; 1: bar */
    long max_steps;          /* stop (with a checkpoint) after this many
                                steps in total; 0 = no limit (tests) */
    int discard_later;       /* resume = PATH in a run directory that holds
                                checkpoints of later steps: move those aside
                                (ckpt-N.h5.discarded) instead of refusing */
} stdbp_trainer_opts;

/* Collective on comm: load data, build and initialise the network (the
 * same weights on every rank), create the optimiser, resume if asked.
 * Rank 0 locks the run directory first (an fcntl lock on run_dir/.lock,
 * held until stdbp_trainer_destroy): a directory that another run holds
 * is refused (STDBP_ECONFIG). A resume never silently discards work: a
 * checkpoint PATH older than others in the run directory needs
 * opts->discard_later, and a checkpoint written mid-epoch cannot be
 * resumed with another train.batch (STDBP_ECONFIG); spikes.h5 moments
 * written after the checkpoint are removed, and an unusable spikes.h5 is
 * moved aside (stdbp_spikelog_recover).
 * Progress lines go to stdout on rank 0 only when opts asks for them
 * (opts != NULL and !opts->quiet); warnings (e.g. a resume with another
 * config) go to the log handler (stdbp_set_log_handler). */
STDBP_API stdbp_status stdbp_trainer_create(MPI_Comm comm, const stdbp_config *cfg,
                                            const stdbp_trainer_opts *opts, stdbp_trainer **out,
                                            stdbp_err *err) STDBP_WUR;
/* Collective on comm: train to the configured number of epochs (or until
 * a stop signal: then *preempted = 1 after the checkpoint). */
STDBP_API stdbp_status stdbp_trainer_run(stdbp_trainer *tr, int *preempted,
                                         stdbp_err *err) STDBP_WUR;
/* Not collective. */
STDBP_API void stdbp_trainer_destroy(stdbp_trainer **tr);
STDBP_API stdbp_net *stdbp_trainer_net(stdbp_trainer *tr);
STDBP_API const stdbp_dataset *stdbp_trainer_test_set(const stdbp_trainer *tr);

/* Result of an evaluation over a set of samples. */
typedef struct stdbp_eval_result {
    double loss;     /* mean loss */
    double accuracy; /* fraction correct */
    uint64_t n;      /* samples */
} stdbp_eval_result;

/* Collective on comm: evaluate samples idx[0..n) (or 0..n-1 when idx is
 * NULL) of ds, each rank taking a contiguous slice; the sums are exact
 * integers, so the result is the same for any number of ranks. */
STDBP_API stdbp_status stdbp_evaluate(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                                      const stdbp_dataset *ds, const size_t *idx, size_t n,
                                      const stdbp_encoding *enc, const stdbp_loss_params *loss,
                                      double *times_buf, stdbp_eval_result *out,
                                      stdbp_err *err) STDBP_WUR;

/* Called by stdbp_evaluate_detail on every rank, from the calling
 * thread, between chunks of the rank's own slice: done of total samples
 * of that slice evaluated so far (the last call has done == total). */
typedef void (*stdbp_eval_progress_fn)(uint64_t done, uint64_t total, void *user);

/* What stdbp_evaluate_detail gives beyond stdbp_evaluate; any member may
 * be NULL. Must be the same (NULL or not, member by member) on every rank. */
typedef struct stdbp_eval_detail {
    /* n_out x n_out counts, row = label, column = predicted class (the
     * earliest output spike), summed over the ranks: the diagonal sums to
     * the correct count. */
    uint64_t *confusion;
    /* n_out counts: samples of each label whose outputs are all silent
     * (no class predicted; not in confusion). */
    uint64_t *silent;
    stdbp_eval_progress_fn progress;
    void *user; /* passed to progress */
} stdbp_eval_detail;

/* Collective on comm: stdbp_evaluate with the per-class counts and the
 * progress of detail (NULL: as stdbp_evaluate). The counts are exact sums,
 * the same for any number of ranks and threads. */
STDBP_API stdbp_status stdbp_evaluate_detail(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                                             const stdbp_dataset *ds, const size_t *idx, size_t n,
                                             const stdbp_encoding *enc,
                                             const stdbp_loss_params *loss, double *times_buf,
                                             const stdbp_eval_detail *detail,
                                             stdbp_eval_result *out, stdbp_err *err) STDBP_WUR;

/* Signals: SIGTERM and SIGUSR1 set a flag that the loop polls once per
 * step (the flag is combined across ranks in the step's reduction, so all
 * ranks stop at the same step) and before each chunk of the end-of-epoch
 * evaluation (combined there too). Not collective. */
STDBP_API void stdbp_signals_install(void);
STDBP_API int stdbp_signal_pending(void);

/* The columns of run_dir/metrics.csv and metrics.h5, in file order
 * (docs/FORMAT.md), for programs that read them back. The epoch column
 * counts from 1; a metrics.csv without the last five columns (written by
 * an older stdbp) counts from 0. */
enum {
    STDBP_METRIC_EPOCH,
    STDBP_METRIC_STEP,
    STDBP_METRIC_LR,
    STDBP_METRIC_TRAIN_LOSS,
    STDBP_METRIC_TRAIN_ACC,
    STDBP_METRIC_VAL_LOSS,
    STDBP_METRIC_VAL_ACC,
    STDBP_METRIC_TEST_LOSS,
    STDBP_METRIC_TEST_ACC,
    STDBP_METRIC_EPOCH_SECONDS,
    STDBP_METRIC_SAMPLES_PER_S,
    STDBP_METRIC_WALL_SECONDS,
    STDBP_METRIC_SILENT_OUTPUTS,
    STDBP_METRIC_SILENT_HIDDEN,
    STDBP_METRIC_FIRST_SPIKE_MEAN,
    STDBP_METRIC_FIRST_SPIKE_STD,
    STDBP_METRIC_SYN_EVENTS_PER_SAMPLE,
    STDBP_METRIC_COUNT
};
/* A column's name ("epoch", "train_loss", ...), NULL when column is not
 * one of the above. Not collective; cannot fail. */
STDBP_API const char *stdbp_metric_name(int column);

#endif
