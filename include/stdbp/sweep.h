/* Hyperparameter sweeps: a YAML sweep file names a base config and, per
 * config key path, a list of values (grid) or a distribution (random
 * search); every point of the sweep is a set of "key.path=value"
 * overrides applied to the base config like --set. docs/SLURM.md
 * describes the file; stdbp_sweep (src/cli/stdbp_sweep.c) runs it.
 *
 *     name: lr_width            # default: the file name without .yaml
 *     base: smoke.yaml          # relative to the sweep file
 *     dir: runs                 # points go to DIR/NAME/point-KKKK
 *     seed: 1                   # random search: draws depend on it
 *     samples: 4                # random search: draws per grid point
 *     set: {train.epochs: 3}    # fixed overrides for every point
 *     params:
 *       network.layers[0].out: [32, 64]                       # grid
 *       optimizer.lr: {dist: loguniform, low: 1e-4, high: 1e-2}
 *
 * Numbering: G = product of the grid lists' lengths, S = samples (1 with
 * no distribution); points are K = 0 .. G*S-1 with K = s*G + g: the
 * sample s is the outer loop, and in the grid index g the first listed
 * grid key varies slowest (nested loops in file order). The draws of
 * sample s for key P come from the stream (seed, s, hash(P)): point K has
 * the same values whatever `samples` is and whatever other keys exist.
 *
 * Errors point into the sweep file, "FILE:LINE:COL: key.path: what",
 * also for overrides that the config refuses (unknown keys, values out of
 * range).
 *
 * Nothing here is collective or keeps global state. */
#ifndef STDBP_SWEEP_H
#define STDBP_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stdbp/api.h"
#include "stdbp/config.h"
#include "stdbp/error.h"

/* Upper bound on the points of one sweep (G * S). */
#define STDBP_SWEEP_MAX_POINTS 1000000
/* Sampled numbers keep this many significant digits (so that the value a
 * point prints is the value it trains with, on any machine). */
#define STDBP_SWEEP_DIGITS 6

typedef struct stdbp_sweep stdbp_sweep;
/* Where in the sweep file each override of a point came from (private to
 * the library: it places the messages of stdbp_sweep_point_config). */
typedef struct stdbp_sweep_where stdbp_sweep_where;

/* One point: its overrides, in the order they are applied. */
typedef struct stdbp_sweep_point {
    size_t index;
    char run_dir[STDBP_CFG_STR];  /* DIR/NAME/point-KKKK */
    char run_name[STDBP_CFG_STR]; /* NAME-KKKK (run.name) */
    /* The point's own parameters ("key=value", file order): what --list
     * shows and the summary reports. Views into sets[]. */
    size_t n_params;
    char **params;
    /* Everything applied to the base config, in order: run.name, the
     * file's set:, the parameters, the caller's extra overrides, run.dir. */
    size_t n_sets;
    char **sets;
    stdbp_sweep_where *where; /* n_sets entries; opaque */
} stdbp_sweep_point;

/* Load and check the sweep file path (structure, distributions, names;
 * not yet the overrides: see stdbp_sweep_check). */
STDBP_API stdbp_status stdbp_sweep_load(const char *path, stdbp_sweep **out,
                                        stdbp_err *err) STDBP_WUR;
/* Same from text; path names it in messages and locates `base`. */
STDBP_API stdbp_status stdbp_sweep_load_string(const char *text, size_t len, const char *path,
                                               stdbp_sweep **out, stdbp_err *err) STDBP_WUR;
/* Free; NULLs *sw; accepts NULL. */
STDBP_API void stdbp_sweep_free(stdbp_sweep **sw);

/* Cannot fail. */
STDBP_API size_t stdbp_sweep_count(const stdbp_sweep *sw);     /* G * S */
STDBP_API size_t stdbp_sweep_grid_size(const stdbp_sweep *sw); /* G */
STDBP_API size_t stdbp_sweep_samples(const stdbp_sweep *sw);   /* S */
STDBP_API const char *stdbp_sweep_name(const stdbp_sweep *sw);
STDBP_API const char *stdbp_sweep_source(const stdbp_sweep *sw); /* the sweep file */
STDBP_API const char *stdbp_sweep_base(const stdbp_sweep *sw);   /* the base config path */
STDBP_API const char *stdbp_sweep_dir(const stdbp_sweep *sw);    /* DIR/NAME */

/* Point k (< count) with the n_extra "key=value" overrides extra (given
 * to every point, after the parameters). *pt owns its strings: free with
 * stdbp_sweep_point_clear. Fails only for k out of range or memory. */
STDBP_API stdbp_status stdbp_sweep_point_get(const stdbp_sweep *sw, size_t k, char *const *extra,
                                             size_t n_extra, stdbp_sweep_point *pt,
                                             stdbp_err *err) STDBP_WUR;
/* Free pt's strings and zero it; accepts a zeroed point. */
STDBP_API void stdbp_sweep_point_clear(stdbp_sweep_point *pt);

/* Load the base config into *base (errors prefixed with the sweep file's
 * `base` position). */
STDBP_API stdbp_status stdbp_sweep_load_base(const stdbp_sweep *sw, stdbp_config *base,
                                             stdbp_err *err) STDBP_WUR;
/* *cfg = base with pt's overrides, validated. A refused override is
 * reported at its node in the sweep file; a refused combination at
 * `params`, naming the point. */
STDBP_API stdbp_status stdbp_sweep_point_config(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                                const stdbp_config *base, stdbp_config *cfg,
                                                stdbp_err *err) STDBP_WUR;
/* Everything that can be checked before training: the base config loads,
 * every extra override, every `set:` entry and every listed value applies
 * (reported at its own line:column), and every point's config validates.
 * Reads the base config; opens no data. */
STDBP_API stdbp_status stdbp_sweep_check(const stdbp_sweep *sw, char *const *extra, size_t n_extra,
                                         stdbp_err *err) STDBP_WUR;

/* ---- results ------------------------------------------------------------
 * RUN_DIR/sweep_point.yaml, written by rank 0 of a point's run:
 *     sweep: NAME
 *     source: SWEEP.yaml
 *     index: 3
 *     status: running | done | preempted | failed
 *     message: "..."            (why it failed, else "")
 *     params: ["optimizer.lr=0.001", ...]
 * and DIR/NAME/summary.csv, the table over all points. */

#define STDBP_SWEEP_STATUS_FILE "sweep_point.yaml"
#define STDBP_SWEEP_SUMMARY_FILE "summary.csv"

/* Write pt's run_dir/sweep_point.yaml (via a temporary file and rename;
 * creates run_dir). status: running | done | preempted | failed;
 * message may be NULL. */
STDBP_API stdbp_status stdbp_sweep_write_status(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                                const char *status, const char *message,
                                                stdbp_err *err) STDBP_WUR;

/* Create pt's run directory and the directories above it (mkdir -p). */
STDBP_API stdbp_status stdbp_sweep_point_mkdir(const stdbp_sweep_point *pt,
                                               stdbp_err *err) STDBP_WUR;

/* What pt's run_dir/sweep_point.yaml says: status ("running", "done",
 * "preempted", "failed"; "" when there is no such file; "unknown" when it
 * cannot be read) into status (size bytes), and its message (why it
 * failed, or why the file cannot be read; "" if none) into message (msize
 * bytes; may be NULL). Cannot fail. */
STDBP_API void stdbp_sweep_point_status(const stdbp_sweep_point *pt, char *status, size_t size,
                                        char *message, size_t msize);

/* *done = 1 when point pt has finished as the summary counts it (status
 * `done` there: metrics.csv has all train.epochs epochs of the point's
 * config, base with pt's overrides) and its run wrote status done (it got
 * through the deploy phase too); else 0. base: stdbp_sweep_load_base.
 * Fails only when the point's config does not validate. */
STDBP_API stdbp_status stdbp_sweep_point_done(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                              const stdbp_config *base, int *done,
                                              stdbp_err *err) STDBP_WUR;

/* Collect every point's final metrics (last row of RUN_DIR/metrics.csv,
 * best val_acc over its rows) and status into a table, best first (best
 * validation accuracy, then the final test accuracy; points without
 * metrics last), write it as CSV to stdbp_sweep_dir(sw)/summary.csv
 * (creating the directory) and print it on out (may be NULL). extra: the
 * overrides given to every point (they can change train.epochs).
 * *n_done (optional) receives the number of finished points. */
STDBP_API stdbp_status stdbp_sweep_summary(const stdbp_sweep *sw, char *const *extra,
                                           size_t n_extra, FILE *out, size_t *n_done,
                                           stdbp_err *err) STDBP_WUR;

#endif
