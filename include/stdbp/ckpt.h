/* Checkpoints and spike logs in parallel HDF5 (MPI-IO driver).
 *
 * A checkpoint holds each layer's weights as a named dataset with its
 * shape, the optimiser state, the training state, the effective config
 * (YAML text), the stdbp and format versions, and integrity checks
 * (Fletcher32 on every dataset and a stored digest), verified on load.
 * Layout: docs/FORMAT.md. Writes are atomic: a temporary name, flush and
 * fsync, rename; the last `keep` checkpoints are kept. */
#ifndef STDBP_CKPT_H
#define STDBP_CKPT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/error.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "stdbp/rng.h"

/* Where training stands: enough to continue bitwise as if never stopped. */
typedef struct stdbp_train_state {
    uint64_t step;        /* optimiser steps taken so far */
    uint64_t epoch;       /* epoch in progress (0-based) */
    uint64_t batch;       /* next global batch within that epoch */
    uint64_t seed;        /* run.seed: shuffles and streams derive from it */
    stdbp_rng rng;        /* a generator advanced identically on every rank */
    double best_val_acc;  /* best validation accuracy so far (0..1) */
    uint64_t best_epoch;  /* epoch of best_val_acc */
} stdbp_train_state;

/* Collective on comm: write run_dir/checkpoints/ckpt-<step>.h5 (every rank
 * holds the same net, optimiser and state; rank 0's copy is written, the
 * others take part in the collective open/close). Then remove all but the
 * newest `keep` checkpoints (keep <= 0: keep all). *path_out (optional)
 * receives the final path. On error no partial file is left under a
 * checkpoint name and older checkpoints are untouched. */
stdbp_status stdbp_ckpt_write(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                              const stdbp_optim *opt, const stdbp_train_state *st,
                              const char *config_yaml, int keep, char *path_out,
                              size_t path_len, stdbp_err *err) STDBP_WUR;

/* Collective on comm: load path into net (shapes must match net: a clear
 * error otherwise), opt (may be NULL: weights only) and st (may be NULL).
 * *config_yaml (optional) receives the stored config (malloc'd). Verifies
 * the checksums and the digest: a truncated or bit-flipped file is
 * STDBP_EFORMAT with the file named, never a crash. */
stdbp_status stdbp_ckpt_read(MPI_Comm comm, const char *path, stdbp_net *net, stdbp_optim *opt,
                             stdbp_train_state *st, char **config_yaml,
                             stdbp_err *err) STDBP_WUR;

/* Collective on comm: the newest checkpoint under run_dir/checkpoints that
 * loads and verifies, skipping corrupt ones with a warning on stderr (rank
 * 0). STDBP_OK with path[0] == '\0' when there is none. */
stdbp_status stdbp_ckpt_find_latest(MPI_Comm comm, const char *run_dir, char *path,
                                    size_t path_len, stdbp_err *err) STDBP_WUR;

/* Not collective: the config YAML stored in a checkpoint (for stdbp_eval,
 * stdbp_deploy and stdbp_export, which rebuild the net from it). */
stdbp_status stdbp_ckpt_read_config(const char *path, char **config_yaml,
                                    stdbp_err *err) STDBP_WUR;

/* Spike logs: run_dir/spikes.h5, one group per recorded moment
 * ("epoch-0003", "end"), each holding per layer a dataset
 * [n_samples x layer_size] of float64 spike times (inf = silent), written
 * collectively, each rank its own rows (hyperslab), chunked, deflated. */
typedef struct stdbp_spikelog stdbp_spikelog;
/* Collective on comm: open (create or append) run_dir/spikes.h5. */
stdbp_status stdbp_spikelog_open(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                                 stdbp_spikelog **out, stdbp_err *err) STDBP_WUR;
/* Collective on comm: record one moment. This rank ran the samples with
 * global indices [first, first + count) of n_total; times[l] holds
 * count x layer_size(l) values for layer l (layer 0 = the input). */
stdbp_status stdbp_spikelog_write(stdbp_spikelog *log, const char *moment, size_t n_total,
                                  size_t first, size_t count, const double *const *times,
                                  const int32_t *labels, stdbp_err *err) STDBP_WUR;
/* Collective: close; NULLs *log; accepts NULL. */
stdbp_status stdbp_spikelog_close(stdbp_spikelog **log, stdbp_err *err);

#endif
