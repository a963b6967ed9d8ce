/* The run configuration: every setting of a run, with defaults, loaded
 * from YAML (libyaml) and overridden by --set key.path=value.
 *
 * Errors point into the input: "FILE:LINE:COL: key.path: message", with a
 * "did you mean" for unknown keys. docs/CONFIG.md lists every key.
 * Loading is not collective; stdbp_config_bcast is.
 *
 * The struct is plain data: fixed-size arrays, no pointers, so it can be
 * copied with = and sent as bytes (stdbp_config_bcast). Typical use:
 *
 *     stdbp_config cfg;               // rank 0:
 *     st = stdbp_config_load(path, &cfg, &err);
 *     for (each --set)  st = stdbp_config_set(&cfg, arg, &err);
 *     st = stdbp_config_validate(&cfg, &err);
 *     st = stdbp_config_bcast(&cfg, 0, comm, &err);   // every rank
 */
#ifndef STDBP_CONFIG_H
#define STDBP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/data.h"
#include "stdbp/error.h"
#include "stdbp/loss.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"

#define STDBP_CFG_STR 512
/* The largest last layer (network outputs) that evaluation takes. */
#define STDBP_CFG_MAX_OUTPUTS 4096
/* The largest network.theta: larger thresholds overflow the weight sums
 * and gradients to Inf at the first step. */
#define STDBP_CFG_MAX_THETA 1e100
/* The longest window the accelerator model takes, in time steps (as
 * STDBP_QWINDOW_MAX of hw.h): deploy.time_steps is checked against it. */
#define STDBP_CFG_MAX_WINDOW 16777216.0
#define STDBP_CFG_MAX_LAYERS 64
#define STDBP_CFG_MAX_BITS 8

typedef struct stdbp_config {
    struct {
        char name[STDBP_CFG_STR];    /* run.name (default "run") */
        char out_dir[STDBP_CFG_STR]; /* run.dir: the run directory
                                        (default "runs/<name>") */
        uint64_t seed;               /* run.seed (default 1) */
    } run;
    struct {
        char train[STDBP_CFG_STR]; /* data.train: mnist | fashion-mnist |
                                      hdf5:PATH (default mnist) */
        char test[STDBP_CFG_STR];  /* data.test (default: data.train) */
        char dir[STDBP_CFG_STR];   /* data.dir (default $STDBP_DATA or data) */
        long n_train;              /* data.train_samples: use the first N (0 = all) */
        long n_val;                /* data.val_samples held out from train (5000) */
        long n_test;               /* data.test_samples: first N (0 = all) */
        char shared_memory[8];     /* data.shared_memory: auto | off (default
                                      auto: one copy per node) */
    } data;
    stdbp_encoding encoding; /* encoding.{t_max, zero_silent, normalise} */
    stdbp_augment augment;   /* augment.{shift, jitter}: training only */
    struct {
        stdbp_shape input; /* network.input: [C, H, W] (from data) */
        size_t n_layers;
        stdbp_layer_spec layers[STDBP_CFG_MAX_LAYERS]; /* network.layers */
        stdbp_neuron_params neuron;                    /* network.{theta,t_max,grad_clip,
                                                          silent_time} */
        stdbp_init_params init;                        /* network.init.{kind,gain,
                                                          active_fraction} */
    } network;
    stdbp_loss_params loss;   /* loss.{beta, silent_time} */
    stdbp_optim_params optim; /* optimizer.{kind,lr,...} */
    stdbp_schedule schedule;  /* schedule.{kind,...}; total_epochs
                                 defaults to train.epochs */
    struct {
        long epochs;      /* train.epochs (default 10) */
        long batch;       /* train.batch: global batch (default 32) */
        double clip_norm; /* train.clip_norm (INFINITY = off) */
        double ws_lambda; /* train.weight_sum_penalty (default 1e-4) */
        double ws_margin; /* train.weight_sum_margin (default 1) */
        int shard_update; /* train.shard_update (default 1) */
        long log_every;   /* train.log_every steps (default 100) */
        long eval_every;  /* train.eval_every epochs (default 1) */
    } train;
    struct {
        long every_steps; /* checkpoint.every_steps (0 = each epoch) */
        long keep;        /* checkpoint.keep: last K (default 3) */
    } checkpoint;
    struct {
        long samples;  /* spikes.samples: first N test images (0 = off) */
        char when[16]; /* spikes.when: epoch | end (default end) */
    } spikes;
    struct {
        int enabled; /* deploy.enabled (default 1) */
        int n_bits;  /* deploy.bits: list, e.g. [8] */
        int bits[STDBP_CFG_MAX_BITS];
        long time_steps;        /* deploy.time_steps (default 256) */
        char hw[STDBP_CFG_STR]; /* deploy.hw: profile path ("" = the
                                   deploy tool's built-in default) */
        long samples;           /* deploy.samples (0 = all test images) */
    } deploy;
    char source[STDBP_CFG_STR]; /* the file loaded, for messages */
    unsigned derived;           /* bookkeeping: bits for run.dir, data.test and
                                   schedule.total_epochs while they still follow
                                   run.name, data.train and train.epochs (not set
                                   explicitly); a later load or --set of the source
                                   key updates them. Not part of the YAML. */
} stdbp_config;

/* Every default (what an empty YAML file gives). Reads $STDBP_DATA for
 * data.dir. Cannot fail. */
STDBP_API void stdbp_config_defaults(stdbp_config *cfg);
/* *cfg = the defaults, then the file path on top. Errors:
 * "FILE:LINE:COL: key.path: what" (unknown keys with a "did you mean",
 * wrong types, values out of range, missing required keys, duplicate
 * keys, malformed YAML). On failure *cfg is left unchanged. Per-key checks
 * only: call stdbp_config_validate once every --set is applied. */
STDBP_API stdbp_status stdbp_config_load(const char *path, stdbp_config *cfg,
                                         stdbp_err *err) STDBP_WUR;
/* Same, from a string in memory (name is used in messages). */
STDBP_API stdbp_status stdbp_config_load_string(const char *yaml, size_t len, const char *name,
                                                stdbp_config *cfg, stdbp_err *err) STDBP_WUR;
/* Apply "key.path=value" (the value is parsed as YAML: scalars, or flow
 * lists and maps such as network.layers=[{type: dense, out: 10}]),
 * checked like the file; key.path may name a section (optimizer={lr:
 * 1e-3}) or one key of an existing layer (network.layers[0].out=400).
 * Errors say "--set key.path=value: key.path: ...". On failure *cfg is
 * left unchanged. */
STDBP_API stdbp_status stdbp_config_set(stdbp_config *cfg, const char *assignment,
                                        stdbp_err *err) STDBP_WUR;
/* Every per-key rule again plus the cross-field checks, after all
 * overrides: layers fit the input shape, the last layer is dense with at
 * least as many outputs as classes, splits fit the data set, batch and
 * schedule make sense. Messages: "SOURCE: key.path: what". */
STDBP_API stdbp_status stdbp_config_validate(const stdbp_config *cfg, stdbp_err *err) STDBP_WUR;
/* The effective config as YAML text (malloc'd, NUL-terminated; the
 * caller frees it); loading it gives back the same config, field by
 * field (doubles exactly; `derived` aside: every key is written out). */
STDBP_API stdbp_status stdbp_config_emit(const stdbp_config *cfg, char **yaml, size_t *len,
                                         stdbp_err *err) STDBP_WUR;
/* 1 if a and b hold the same value for every key (doubles bit for bit;
 * `source` and `derived` are not keys), else 0 with the first differing
 * key path in what (size bytes; what may be NULL). Cannot fail. */
STDBP_API int stdbp_config_equal(const stdbp_config *a, const stdbp_config *b, char *what,
                                 size_t size);
/* The number of keys whose values differ between a and b (0: equal, as
 * stdbp_config_equal says), each listed in what (size bytes; may be NULL)
 * as "path: B's value -> A's value", separated by "; " and cut with "..."
 * when it does not fit. Not collective; cannot fail. */
STDBP_API size_t stdbp_config_diff(const stdbp_config *a, const stdbp_config *b, char *what,
                                   size_t size);

#endif
