/* Checkpoint internals shared by ckpt.c (write), ckpt_read.c (read,
 * verify, find) and spikelog.c. The layout itself is in docs/FORMAT.md;
 * every name below is spelled there too. */
#ifndef STDBP_CKPT_IMPL_H
#define STDBP_CKPT_IMPL_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"

#define CKPT_FORMAT_NAME "stdbp-checkpoint"
#define CKPT_FORMAT_VERSION 1
/* The root attribute format of a spike log (spikelog.c writes it). */
#define CKPT_SPIKES_FORMAT_NAME "stdbp-spikes"
#define CKPT_DIR "checkpoints"
#define CKPT_CHUNK_BYTES ((size_t)1 << 20) /* about 1 MiB per chunk */
#define CKPT_PATH_MAX 4096
#define CKPT_MAX_LAYERS 4096 /* sanity bound when reading a file */

/* One layer as the file describes it (and as a net builds it). */
typedef struct ckpt_layer {
    int kind;       /* stdbp_layer_kind */
    int32_t in[3];  /* c, h, w */
    int32_t out[3]; /* c, h, w */
    int32_t kernel, stride, padding;
    uint64_t param_count;
} ckpt_layer;

/* "dense", "conv2d", "pool", "flatten"; "unknown" otherwise. */
const char *stdbp_ckpt_kind_name(int kind);
/* The kind named, or -1. */
int stdbp_ckpt_kind_parse(const char *name);
void stdbp_ckpt_layer_from_info(ckpt_layer *l, const stdbp_layer_info *info);
/* "dense 784x800", "conv2d 1x28x28->16x28x28 k5 s1 p2", ... Returns buf. */
const char *stdbp_ckpt_layer_describe(const ckpt_layer *l, char *buf, size_t len);
int stdbp_ckpt_layer_equal(const ckpt_layer *a, const ckpt_layer *b);
/* The natural shape of the layer's weights: dense [in][out], conv2d
 * [c_in][k][k][c_out]; returns the rank (0: no weights). */
int stdbp_ckpt_weight_dims(const ckpt_layer *l, uint64_t dims[4]);
/* "layer03_dense" */
void stdbp_ckpt_weight_name(size_t index, const ckpt_layer *l, char *buf, size_t len);
/* "adam" (state = 2 n), "sgd" (state = n), "none" (0) or "unknown". The
 * optimiser does not expose its kind; the state size tells. */
const char *stdbp_ckpt_optim_kind(size_t state_size, size_t n_params);

/* What the digest covers, in this order (docs/FORMAT.md, "Digest"). */
typedef struct ckpt_payload {
    size_t n_layers;
    const ckpt_layer *layers;
    const double *const *weights; /* per layer; NULL if no weights */
    int has_optim;
    const double *state;
    size_t state_size;
    uint64_t optim_steps;
    int has_train;
    /* The /train progress attributes (epoch_loss, epoch_correct,
     * epoch_samples, wall_seconds) are in the file and in the digest: always
     * when written now, never in a file written before they existed. */
    int has_progress;
    const stdbp_train_state *st;
    const char *config;
    size_t config_len;
} ckpt_payload;

/* "sha256:" and 64 hex digits. */
#define CKPT_DIGEST_LEN 72
void stdbp_ckpt_digest(const ckpt_payload *p, char out[CKPT_DIGEST_LEN]);

/* A checkpoint in memory, as read and verified by stdbp_ckpt_load. */
typedef struct ckpt_data {
    char stdbp_version[64];
    uint64_t format_version;
    size_t n_layers;
    ckpt_layer *layers;
    double **weights; /* per layer; NULL when the layer has none */
    int has_optim;
    char optim_kind[32];
    uint64_t optim_steps;
    size_t state_size;
    double *state;
    int has_train;
    int has_progress; /* /train has epoch_loss, ..., wall_seconds */
    stdbp_train_state st;
    char *config; /* NUL-terminated */
    size_t config_len;
} ckpt_data;

/* Reading one file (ckpt_load.c). Not collective. */
/* Frees what d holds and zeroes it. */
void stdbp_ckpt_data_free(ckpt_data *d);
/* Read and verify everything in path into d (zeroed first; freed on
 * error). STDBP_EIO, STDBP_EFORMAT (the message names the file), ENOMEM. */
stdbp_status stdbp_ckpt_load(const char *path, ckpt_data *d, stdbp_err *e);
/* Open path read-only, checking that it is a stdbp checkpoint of a
 * version this stdbp reads; a clear message for a missing, empty,
 * non-HDF5 or truncated file. */
stdbp_status stdbp_ckpt_open_file(const char *path, hid_t *out, stdbp_err *e);
/* The YAML text of /config of the open file f, malloc'd, NUL-terminated. */
stdbp_status stdbp_ckpt_load_config(hid_t f, const char *path, char **out, size_t *len,
                                    stdbp_err *e);

/* Agreement across ranks and broadcasts: stdbp_dist_agree and
 * stdbp_dist_bcast_* (stdbp/dist.h). */

/* Not collective: fsync a file or directory by path (a directory whose
 * file system cannot sync one is fine). STDBP_EIO: "cannot sync PATH: ...". */
stdbp_status stdbp_ckpt_fsync_path(const char *path, int is_dir, stdbp_err *err);

/* Not collective: what a checkpoint file says about itself without being
 * verified: its format version and its step (/train step, else
 * /optimizer steps, else 0; not read when the version is newer than this
 * stdbp's). STDBP_EFORMAT when it is not a readable stdbp checkpoint. */
stdbp_status stdbp_ckpt_peek(const char *path, uint64_t *step, uint64_t *format_version,
                             stdbp_err *e);

/* One file of a checkpoint directory, as stdbp_ckpt_scan found it. */
typedef struct ckpt_entry {
    uint64_t step;           /* the step stored in the file (= its name's) */
    uint64_t format_version; /* 0 when the file could not be read */
    char *path;
} ckpt_entry;

/* Not collective: checkpoints in dir, newest (largest step) first: names
 * "ckpt-N.h5" whose stored step is N. A file that stores another step (a
 * copy or a rename) is left out with a warning to the log handler, so it
 * is neither resumed from nor counted or removed when pruning; a file
 * whose step cannot be read (damaged, or of a newer format) is listed
 * under its name's step. *out (malloc'd, free with stdbp_ckpt_scan_free)
 * gets *n entries. A missing directory is an empty list. STDBP_EIO,
 * STDBP_ENOMEM. */
stdbp_status stdbp_ckpt_scan(const char *dir, ckpt_entry **out, size_t *n, stdbp_err *err);
void stdbp_ckpt_scan_free(ckpt_entry *list, size_t n);
/* The same as paths only (free with stdbp_ckpt_list_free). */
stdbp_status stdbp_ckpt_list(const char *dir, char ***out, size_t *n, stdbp_err *err);
void stdbp_ckpt_list_free(char **list, size_t n);

/* Overflow-safe sizes: c*h*w of a shape (negative counts as 0), and
 * whether a layer's shapes and weight dimensions are each at most
 * CKPT_MAX_VALUES values (a file that claims more is refused). */
#define CKPT_MAX_VALUES ((uint64_t)1 << 40)
uint64_t stdbp_ckpt_shape_size(const int32_t s[3]);
int stdbp_ckpt_layer_size_ok(const ckpt_layer *l);

/* The attributes units and description (one line) of a dataset of a
 * checkpoint or spike log, as NUL-padded strings (docs/FORMAT.md). An
 * h5util failure: the caller prefixes the file. */
stdbp_status stdbp_ckpt_describe(hid_t obj, const char *units, const char *description,
                                 stdbp_err *err);

/* Test hook (util/test_hooks.h): sleep ckpt_delay_ms when set. */
void stdbp_ckpt_test_delay(void);

#endif
