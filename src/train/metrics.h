/* Per-epoch metrics of a run: run_dir/metrics.csv, and the same columns in
 * run_dir/metrics.h5 (one 1-D dataset per column). Written by rank 0 only;
 * not collective. */
#ifndef STDBP_TRAIN_METRICS_H
#define STDBP_TRAIN_METRICS_H

#include <stdint.h>

#include "stdbp/error.h"
#include "stdbp/train.h"

typedef struct stdbp_metrics_row {
    uint64_t epoch, step;
    double lr;
    double train_loss, train_acc;
    double val_loss, val_acc;
    double test_loss, test_acc;
    double epoch_seconds, samples_per_s, wall_seconds;
} stdbp_metrics_row;

/* Start a run's metrics: keep rows of epochs before first_epoch (a resumed
 * run), drop the rest (they belong to work the checkpoint does not hold). */
stdbp_status stdbp_metrics_begin(const char *run_dir, uint64_t first_epoch,
                                 stdbp_err *err) STDBP_WUR;
/* Append a row to metrics.csv and rewrite metrics.h5 from it. */
stdbp_status stdbp_metrics_append(const char *run_dir, const stdbp_metrics_row *row,
                                  stdbp_err *err) STDBP_WUR;

#endif
