/* Per-epoch metrics of a run: run_dir/metrics.csv, and the same columns in
 * run_dir/metrics.h5 (one 1-D dataset per column, with units and a
 * description). Epochs are numbered from 1, as the progress lines count
 * them. Written by rank 0 only; not collective (but see
 * stdbp_metrics_diagnose). Layout: docs/FORMAT.md, "Metrics". */
#ifndef STDBP_TRAIN_METRICS_H
#define STDBP_TRAIN_METRICS_H

#include <stdint.h>

#include "stdbp/error.h"
#include "stdbp/train.h"

/* The format of metrics.h5 (root attributes format, format_version). */
#define STDBP_METRICS_FORMAT_NAME "stdbp-metrics"
#define STDBP_METRICS_FORMAT_VERSION 2

/* The diagnostic samples: the first this many test images (all of them
 * when there are fewer). */
#define STDBP_METRICS_DIAG_SAMPLES 1024

typedef struct stdbp_metrics_row {
    uint64_t epoch; /* 1-based: the epoch just finished */
    uint64_t step;
    double lr;
    double train_loss, train_acc;
    double val_loss, val_acc;
    double test_loss, test_acc;
    double epoch_seconds, samples_per_s, wall_seconds;
    /* The diagnostics (stdbp_metrics_diagnose). */
    double silent_outputs, silent_hidden;
    double first_spike_mean, first_spike_std;
    double syn_events_per_sample;
} stdbp_metrics_row;

/* Start a run's metrics: keep the rows of the epochs the checkpoint has
 * finished (epoch <= epochs_done, a resumed run), drop the rest (they
 * belong to work the checkpoint does not hold). A metrics.csv written
 * before the diagnostics columns existed numbers its epochs from 0: its
 * rows are renumbered from 1 and get NaN diagnostics. */
stdbp_status stdbp_metrics_begin(const char *run_dir, uint64_t epochs_done,
                                 stdbp_err *err) STDBP_WUR;
/* Append a row to metrics.csv and rewrite metrics.h5 from it. */
stdbp_status stdbp_metrics_append(const char *run_dir, const stdbp_metrics_row *row,
                                  stdbp_err *err) STDBP_WUR;

/* Collective on the trainer's communicator: the diagnostics of the
 * current network on the first STDBP_METRICS_DIAG_SAMPLES test images
 * (encoded, not augmented), spread over the ranks and their threads and
 * summed as integers, so the values are bitwise the same for any number
 * of ranks and threads. Sets row's silent_outputs (fraction of output
 * neurons, over the samples, that did not fire), silent_hidden (the same
 * for the neurons of the dense and conv2d layers before the last),
 * first_spike_mean and first_spike_std (the earliest output spike of
 * each sample that has one, in model time units; NaN if none fired) and
 * syn_events_per_sample (stdbp_ws_synaptic_events). NaN everywhere
 * without test images. */
stdbp_status stdbp_metrics_diagnose(stdbp_trainer *tr, stdbp_metrics_row *row,
                                    stdbp_err *err) STDBP_WUR;

#endif
