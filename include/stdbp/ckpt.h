/* Checkpoints and spike logs in parallel HDF5 (MPI-IO driver).
 *
 * A checkpoint holds each layer's weights as a named dataset with its
 * shape, the optimiser state, the training state, the effective config
 * (YAML text), the stdbp and format versions, and integrity checks
 * (Fletcher32 on every dataset, HDF5 metadata checksums and a SHA-256
 * digest of the payload), verified on load. Layout and the digest recipe:
 * docs/FORMAT.md. Writes are atomic: a temporary name, flush and fsync,
 * rename, fsync of the directory; the newest `keep` checkpoints are kept.
 *
 * Errors: STDBP_EIO (a file or directory cannot be opened, created or
 * renamed), STDBP_EFORMAT (a damaged, truncated or foreign file),
 * STDBP_ECONFIG (a checkpoint that does not fit the net or optimiser being
 * loaded), STDBP_EINVAL (bad arguments, or ranks that disagree). Every
 * message names the file. The collective functions agree on the outcome
 * (stdbp_dist_agree), so every rank returns the same status and message
 * (prefixed "rank N: " naming the first rank that failed, when that was
 * not every rank) and none is left waiting in a collective. Warnings go
 * to the log handler (stdbp_set_log_handler), never to stderr. HDF5's
 * automatic error printing is off during each call (and restored). */
#ifndef STDBP_CKPT_H
#define STDBP_CKPT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/config.h"
#include "stdbp/error.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"
#include "stdbp/rng.h"

/* Where training stands: enough to continue bitwise as if never stopped. */
typedef struct stdbp_train_state {
    uint64_t step;       /* optimiser steps taken so far */
    uint64_t epoch;      /* epoch in progress (0-based) */
    uint64_t batch;      /* next global batch within that epoch */
    uint64_t seed;       /* run.seed: shuffles and streams derive from it */
    stdbp_rng rng;       /* a generator advanced identically on every rank */
    double best_val_acc; /* best validation accuracy so far (0..1) */
    uint64_t best_epoch; /* epoch of best_val_acc */
    /* The epoch in progress so far, so that a run resumed mid-epoch
     * reports the same per-epoch training metrics as an uninterrupted one.
     * A checkpoint written before these fields existed reads them as 0. */
    int64_t epoch_loss;    /* this epoch's summed training loss so far, fixed point
                              (STDBP_GRAD_FRAC_BITS) */
    int64_t epoch_correct; /* this epoch's correctly classified training samples so far */
    int64_t epoch_samples; /* this epoch's training samples so far */
    double wall_seconds;   /* wall time of the run before this checkpoint (all sessions) */
} stdbp_train_state;

/* Collective on comm: write run_dir/checkpoints/ckpt-<step>.h5, <step> =
 * st->step in 10 digits (optimiser steps if st is NULL). Every rank holds
 * the same net, optimiser and state; rank 0's copy is written (every rank
 * takes part in the collective create, writes and close; the ranks' nets
 * and optimisers are checked to have the same shapes). opt may be NULL
 * (a weights-only checkpoint), st may be NULL, config_yaml may be NULL
 * (stored as ""). Then removes all but the newest `keep` checkpoints by
 * step (keep <= 0: keep all), never the one just written, and any
 * temporary file of an interrupted write. *path_out (optional, path_len
 * bytes) receives the final path. On error no partial file is left under
 * a checkpoint name and older checkpoints are untouched. */
STDBP_API stdbp_status stdbp_ckpt_write(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                                        const stdbp_optim *opt, const stdbp_train_state *st,
                                        const char *config_yaml, int keep, char *path_out,
                                        size_t path_len, stdbp_err *err) STDBP_WUR;

/* Collective on comm: load path into net (its layers must match the
 * file's, layer by layer: STDBP_ECONFIG explains the first difference,
 * e.g. "layer 1 is dense 784x800 but the config builds dense 784x400"),
 * opt (may be NULL: weights only; its state size must match) and st (may
 * be NULL; zeroed if the file holds no training state; its epoch_loss,
 * epoch_correct, epoch_samples and wall_seconds are 0 from a checkpoint
 * written before they existed, which still verifies). *config_yaml
 * (NULL on every rank or on none) receives the stored config, malloc'd,
 * on every rank.
 * Rank 0 reads and verifies the whole file (format version, shapes,
 * Fletcher32, digest) and then broadcasts it; the other ranks do not open
 * the file. A truncated, bit-flipped or foreign file is STDBP_EFORMAT with
 * the file named, never a crash. On error net, opt and st are untouched. */
STDBP_API stdbp_status stdbp_ckpt_read(MPI_Comm comm, const char *path, stdbp_net *net,
                                       stdbp_optim *opt, stdbp_train_state *st, char **config_yaml,
                                       stdbp_err *err) STDBP_WUR;

/* Collective on comm: the newest checkpoint under run_dir/checkpoints that
 * reads and verifies completely (rank 0 reads each candidate, newest step
 * first), skipping damaged ones with a warning to the log handler (rank
 * 0). Names
 * other than ckpt-<digits>.h5 (temporary files) are ignored. STDBP_OK with
 * path[0] == '\0' when there is none (or no such directory). */
STDBP_API stdbp_status stdbp_ckpt_find_latest(MPI_Comm comm, const char *run_dir, char *path,
                                              size_t path_len, stdbp_err *err) STDBP_WUR;

/* Not collective: the checkpoints under run_dir/checkpoints whose stored
 * step is larger than step, newest first, unverified (a file whose name
 * and stored step differ is left out, as by stdbp_ckpt_find_latest), and
 * last the best checkpoint (STDBP_CKPT_BEST) when its stored step is
 * larger too. *paths (malloc'd; free with stdbp_ckpt_paths_free) gets *n
 * paths; none, or no such directory: *n = 0. STDBP_EIO, STDBP_ENOMEM. */
STDBP_API stdbp_status stdbp_ckpt_list_after(const char *run_dir, uint64_t step, char ***paths,
                                             size_t *n, stdbp_err *err) STDBP_WUR;
/* Frees what stdbp_ckpt_list_after gave (NULL is fine). */
STDBP_API void stdbp_ckpt_paths_free(char **paths, size_t n);

/* The best checkpoint's name under run_dir/checkpoints: the checkpoint
 * written at the end of the epoch with the best validation accuracy so
 * far. Pruning and stdbp_ckpt_find_latest never touch it. */
#define STDBP_CKPT_BEST "best.h5"

/* Not collective and calls no MPI (rank 0 calls it after a checkpoint
 * write): make run_dir/checkpoints/best.h5 the checkpoint ckpt_path (a
 * file in that directory), replacing the earlier best at once: a hard
 * link (no space while both names exist; pruning ckpt_path keeps it), or
 * a copy where the file system has no hard links; built under a
 * temporary name and renamed, so best.h5 is always whole. STDBP_EIO
 * names the file; the checkpoint itself is untouched. */
STDBP_API stdbp_status stdbp_ckpt_mark_best(const char *run_dir, const char *ckpt_path,
                                            stdbp_err *err) STDBP_WUR;

/* Not collective: the config YAML stored in a checkpoint (for stdbp_eval,
 * stdbp_deploy and stdbp_export, which rebuild the net from it), malloc'd
 * into *config_yaml. Checks the format and the config's checksum only;
 * stdbp_ckpt_read verifies the rest. */
STDBP_API stdbp_status stdbp_ckpt_read_config(const char *path, char **config_yaml,
                                              stdbp_err *err) STDBP_WUR;
/* Not collective: a checkpoint's input shape (/model attribute input =
 * [c, h, w], each > 0) and its payload digest (the root attribute digest,
 * "" when absent; digest_len bytes, truncated) without reading the
 * weights. STDBP_EIO when it cannot be opened, STDBP_EFORMAT when the
 * input shape is missing or invalid. */
STDBP_API stdbp_status stdbp_ckpt_read_info(const char *path, stdbp_shape *input, char *digest,
                                            size_t digest_len, stdbp_err *err) STDBP_WUR;

/* Not collective and calls no MPI (a program may use it without
 * MPI_Init): the network a checkpoint holds, ready to run. path is a
 * checkpoint file, or a run directory: then its newest checkpoint that
 * verifies (damaged ones are skipped with a warning to the log handler).
 * The file is verified as stdbp_ckpt_read verifies it; the net is built
 * from the stored config (network.*) and the stored input shape, and gets
 * the stored weights. *net (free with stdbp_net_destroy) is NULL on
 * error. cfg (may be NULL) receives the stored config as loaded
 * (stdbp_config_load_string: the encoding, loss and data settings of the
 * run), st (may be NULL) its training state (zeroed when the file holds
 * none: a weights-only checkpoint), used (may be NULL; used_len bytes)
 * the checkpoint path read.
 * STDBP_EIO (no such file; a directory without a readable checkpoint),
 * STDBP_EFORMAT (damaged, truncated or foreign; a stored config that does
 * not build the stored layers), STDBP_ENOMEM, STDBP_EINVAL. Every message
 * names the file. */
STDBP_API stdbp_status stdbp_ckpt_load_net(const char *path, stdbp_net **net, stdbp_config *cfg,
                                           stdbp_train_state *st, char *used, size_t used_len,
                                           stdbp_err *err) STDBP_WUR;

/* Spike logs: run_dir/spikes.h5, one group per recorded moment
 * ("epoch-0003", "end"), each holding, for the input and for each layer's
 * output, a dataset [n_total x size] of float64 spike times (inf =
 * silent, NaN = a row no rank wrote) and the labels, written collectively,
 * each rank its own rows (one hyperslab), chunked, deflated. The file
 * does not depend on the number of ranks. Layout: docs/FORMAT.md. */
typedef struct stdbp_spikelog stdbp_spikelog;
/* Collective on comm (duplicated inside): open run_dir/spikes.h5, creating
 * it (and run_dir) or appending to it; an existing log written for a net
 * with other layer sizes is STDBP_EFORMAT. */
STDBP_API stdbp_status stdbp_spikelog_open(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                                           stdbp_spikelog **out, stdbp_err *err) STDBP_WUR;
/* Collective: record one moment (a name of 1-63 characters of A-Z a-z 0-9
 * - _ ., not starting with '.'; each moment is written once). This rank
 * ran the samples with global indices [first, first + count) of n_total
 * (count may be 0; n_total and moment the same on every rank; ranks'
 * rows must not overlap). times[0] holds count x input_size values (the
 * input's spike times), times[1 + l] count x (layer l's output size) for
 * each net layer l: stdbp_net_num_layers + 1 arrays. labels (count
 * values) may be NULL on every rank: no labels dataset. The file is
 * flushed before returning. */
STDBP_API stdbp_status stdbp_spikelog_write(stdbp_spikelog *log, const char *moment, size_t n_total,
                                            size_t first, size_t count, const double *const *times,
                                            const int32_t *labels, stdbp_err *err) STDBP_WUR;
/* Collective: *has = 1 if the log already holds moment, else 0 (the same
 * on every rank). A resumed run uses it to keep a moment that an earlier
 * session of the same run wrote (training is deterministic, so it would
 * write the same values again). */
STDBP_API stdbp_status stdbp_spikelog_has(stdbp_spikelog *log, const char *moment, int *has,
                                          stdbp_err *err) STDBP_WUR;
/* Not collective (rank 0 of a run that resumes, before the log is
 * opened): make run_dir/spikes.h5 fit the resumed run. Every moment for
 * which keep(moment, ctx) is 0 (written by an earlier session after the
 * checkpoint now resumed from; the resumed run writes it again) is
 * removed, and a file that is not a usable spike log (a create that was
 * killed, a damaged file) is renamed run_dir/spikes.h5.broken-N (the
 * first free N) so that the run starts a new log. Each change is a
 * warning to the log handler; a log that needs none is not modified (not
 * even opened for writing). No log: nothing to do. STDBP_EIO when the
 * file can be neither fixed nor renamed. */
STDBP_API stdbp_status stdbp_spikelog_recover(const char *run_dir,
                                              int (*keep)(const char *moment, void *ctx), void *ctx,
                                              stdbp_err *err) STDBP_WUR;

/* Collective: close; NULLs *log; accepts NULL (then on every rank).
 * err is only written on failure, so a clean-up close keeps an earlier
 * error's message. */
STDBP_API stdbp_status stdbp_spikelog_close(stdbp_spikelog **log, stdbp_err *err);

#endif
