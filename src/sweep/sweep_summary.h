/* A sweep's results: the per-point status file that stdbp_sweep writes
 * into each run directory, and the summary table over all points.
 *
 * RUN_DIR/sweep_point.yaml (written by rank 0 of the point's run):
 *     sweep: NAME
 *     index: 3
 *     status: running | done | preempted | failed
 *     message: "..."            (why it failed, else "")
 *     params: ["optimizer.lr=0.001", ...]
 *
 * Not collective; rank 0 of stdbp_sweep calls these. */
#ifndef STDBP_SWEEP_SUMMARY_H
#define STDBP_SWEEP_SUMMARY_H

#include <stdio.h>

#include "stdbp/sweep.h"
#include "stdbp/error.h"

#define STDBP_SWEEP_STATUS_FILE "sweep_point.yaml"
#define STDBP_SWEEP_SUMMARY_FILE "summary.csv"

/* mkdir -p path. */
stdbp_status stdbp_sweep_mkdirs(const char *path, stdbp_err *err) STDBP_WUR;

/* Write pt's run_dir/sweep_point.yaml (via a temporary file and rename;
 * creates run_dir). status: running | done | preempted | failed;
 * message may be NULL. */
stdbp_status stdbp_sweep_write_status(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                      const char *status, const char *message,
                                      stdbp_err *err) STDBP_WUR;

/* Collect every point's final metrics (last row of RUN_DIR/metrics.csv,
 * best val_acc over its rows) and status into a table, best first (best
 * validation accuracy, then the final test accuracy; points without
 * metrics last), write it as CSV to stdbp_sweep_dir(sw)/summary.csv
 * (creating the directory) and print it on out (may be NULL). extra: the
 * overrides given to every point (they can change train.epochs).
 * *n_done (optional) receives the number of finished points. */
stdbp_status stdbp_sweep_summary(const stdbp_sweep *sw, char *const *extra, size_t n_extra,
                                 FILE *out, size_t *n_done, stdbp_err *err) STDBP_WUR;

#endif
