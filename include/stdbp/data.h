/* Datasets: IDX (MNIST format, raw or gzip) and a simple HDF5 layout,
 * latency encoding, seeded splits, per-epoch shuffles and sharding.
 *
 * HDF5 layout for users' own data (docs/DATA.md):
 *   /images  uint8 or float32, N x C x H x W, N x H x W or N x D
 *            (uint8 is scaled by 1/255; float32 must lie in [0, 1])
 *   /labels  integer type, N values in [0, n_classes)
 *
 * A dataset holds its pixels once (uint8 or float32, as stored) and is
 * read-only after loading: no per-epoch copies. Nothing here is
 * collective: every rank that calls a loader loads the dataset on its
 * own (stdbp_dist_dataset_open in dist.h shares one copy per node).
 *
 * Every error message names the file (and, for HDF5, the dataset) and
 * says what is wrong; bad input is an error, never a crash. See
 * docs/DATA.md. */
#ifndef STDBP_DATA_H
#define STDBP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/error.h"
#include "stdbp/net.h"

/* Labels must lie in [0, STDBP_DATA_MAX_CLASSES). */
#define STDBP_DATA_MAX_CLASSES 65536

/* The rng stream keys (the b of stdbp_rng_stream) that this module uses:
 * (seed, epoch, STDBP_STREAM_SHUFFLE) for the epoch order and
 * (seed, 0, STDBP_STREAM_SPLIT) for the split. Sample indices, the b of
 * other modules' streams, never reach them. */
#define STDBP_STREAM_SHUFFLE UINT64_C(0xFFFFFFFFFFFFFFFF)
#define STDBP_STREAM_SPLIT UINT64_C(0xFFFFFFFFFFFFFFFE)

/* Owned by the caller once loaded: release with stdbp_dataset_free. */
typedef struct stdbp_dataset {
    size_t n;          /* samples */
    stdbp_shape shape; /* per sample; dim = c * h * w */
    size_t dim;
    uint8_t *u8;     /* n * dim pixels, or NULL */
    float *f32;      /* n * dim pixels in [0, 1], or NULL */
    int32_t *labels; /* n labels */
    int n_classes;   /* 1 + the largest label, at least 2 */
    /* Event data sets (u8 and f32 NULL; see stdbp_events_load): sample
     * i's events are k in [ev_off[i], ev_off[i + 1]), at time ev_t[k]
     * (stored units, finite, >= 0) on channel ev_ch[k] < dim, in order of
     * (time, channel) within each sample. NULL for image data sets. */
    int64_t *ev_off; /* n + 1 */
    double *ev_t;
    uint32_t *ev_ch;
    char source[4096]; /* file(s) it came from, whole (for messages and the
                          deploy report); a load whose paths do not fit
                          fails instead of cutting them */
} stdbp_dataset;

/* IDX image + label files (e.g. train-images-idx3-ubyte[.gz]); gzip is
 * detected by its magic bytes, not the name. Images must have magic
 * 0x00000803 (unsigned bytes, N x rows x columns; shape (1, rows,
 * columns)), labels 0x00000801 (N unsigned bytes). Checks the magic
 * numbers, dimensions against the file size (for gzip: the decompressed
 * size; no overflow), truncation, trailing garbage, corrupt gzip data and
 * the label count against the image count. On failure *out is zeroed. */
STDBP_API stdbp_status stdbp_idx_load(const char *images_path, const char *labels_path,
                                      stdbp_dataset *out, stdbp_err *err) STDBP_WUR;
/* The HDF5 layout above (serial open; not collective). Shapes: N x D gives
 * (D, 1, 1), N x H x W gives (1, H, W), N x C x H x W gives (C, H, W).
 * /labels may also be N x 1. Missing datasets, other types or shapes,
 * float values outside [0, 1] or NaN are errors naming the file and the
 * dataset. HDF5's own error printing is suppressed during the call. On
 * failure *out is zeroed. */
STDBP_API stdbp_status stdbp_h5data_load(const char *path, stdbp_dataset *out,
                                         stdbp_err *err) STDBP_WUR;

/* By name: "mnist" or "fashion-mnist" (the four IDX files under
 * data_dir/NAME/, {train,t10k}-{images-idx3,labels-idx1}-ubyte, plain
 * tried before .gz; split "train" (or NULL) or "test" picks the pair),
 * or "hdf5:PATH" (the file PATH in the layout above, relative to the
 * working directory; split is ignored: the config names a separate file
 * for the test set). data_dir NULL or "" means $STDBP_DATA, else "data".
 * A missing file's message gives the absolute path tried and says to run
 * scripts/fetch-data.sh. */
STDBP_API stdbp_status stdbp_dataset_open(const char *name, const char *data_dir, const char *split,
                                          stdbp_dataset *out, stdbp_err *err) STDBP_WUR;
/* A check the loaders (stdbp_idx_load, stdbp_h5data_load,
 * stdbp_dataset_open) call between chunks of about
 * STDBP_DATA_LOAD_CHUNK bytes: when fn returns nonzero the load ends
 * with STDBP_ESTOPPED ("PATH: loading stopped by a signal"), so that a
 * SIGTERM during a long load is acted on within a chunk. NULL (the
 * default): no check. Process-wide, not thread-safe: set it before
 * loading (the trainer sets stdbp_signal_pending of train.h during its
 * loads and resets it). Not collective. */
#define STDBP_DATA_LOAD_CHUNK ((size_t)1 << 20)
typedef int (*stdbp_data_stop_fn)(void);
STDBP_API void stdbp_data_set_stop_check(stdbp_data_stop_fn fn);
/* Frees the buffers and zeroes *ds; accepts a zeroed dataset. */
STDBP_API void stdbp_dataset_free(stdbp_dataset *ds);
/* Every label of ds must name one of a network's n_outputs outputs:
 * STDBP_ERANGE otherwise, with "SOURCE: sample I has label L, but the
 * network has N outputs (labels 0..N-1)" for the first one that does not
 * (a label beyond the outputs would make the loss NaN). Not collective. */
STDBP_API stdbp_status stdbp_dataset_check_labels(const stdbp_dataset *ds, size_t n_outputs,
                                                  stdbp_err *err) STDBP_WUR;
/* Pixel value of sample i < n, feature k < dim, in [0, 1]. Cannot fail. */
STDBP_API double stdbp_dataset_pixel(const stdbp_dataset *ds, size_t i, size_t k);

/* Latency encoding: t = t_max * (1 - x) for intensity x in [0, 1];
 * brighter fires earlier. With zero_silent, x <= 0 is silent (INFINITY).
 * With normalise, x is first divided by the sample's largest intensity. */
typedef struct stdbp_encoding {
    double t_max;    /* default 1 */
    int zero_silent; /* default 1 */
    int normalise;   /* default 0 */
    /* Event data sets only (config: data.events.*), applied in this
     * order: times are multiplied by time_scale (model units per stored
     * unit); events at scaled times >= window are dropped; then each
     * channel keeps its first first_k events (ttfs: its first one). */
    double ev_time_scale; /* > 0, default 1 */
    double ev_window;     /* > 0; default INFINITY (keep all) */
    long ev_first_k;      /* 0 (default) = all */
    int ev_ttfs;          /* default 0 */
} stdbp_encoding;

STDBP_API stdbp_encoding stdbp_encoding_defaults(void);
/* Encode sample i into times[ds->dim]; enc NULL means the defaults. No
 * allocation. Cannot fail. For an event data set: each channel's first
 * event after the selection of stdbp_encoding (its time to first spike;
 * INFINITY if none), which is what a network given the events would see
 * if its first layer took one spike per channel. */
STDBP_API void stdbp_encode(const stdbp_encoding *enc, const stdbp_dataset *ds, size_t i,
                            double *times);

/* Training-time augmentation of an encoded sample (config: augment.*).
 * Never applied to validation or test images. A sample's draw depends on
 * the seed, the epoch and the sample's index only (stream (seed ^
 * STDBP_SEED_AUGMENT, epoch, index)), so it is the same for any number of
 * ranks and across a resume. */
typedef struct stdbp_augment {
    int shift;     /* translate by up to +-shift pixels on each axis; 0 = off */
    double jitter; /* add N(0, jitter^2) to each input spike time; 0 = off */
    double rotate; /* rotate by a uniform angle in +-rotate degrees; 0 = off */
    double scale;  /* scale by a uniform factor in [1 - scale, 1 + scale]; 0 = off */
    int flip;      /* mirror left-right with probability 1/2; 0 = off */
    double drop;   /* drop each input spike (an image's pixel or an
                      event) with this probability, in [0, 1); 0 = off */
} stdbp_augment;

#define STDBP_SEED_AUGMENT UINT64_C(0xA5A5F00DD00DA5A5)

STDBP_API stdbp_augment stdbp_augment_defaults(void);
/* Augment sample index i of epoch in place: times holds shape.c * shape.h
 * * shape.w encoded times; scratch as many doubles (used by the rotation,
 * scaling and shift). In that order: rotation and scaling about the
 * centre (stdbp_affine_times), the shift, the mirror, the jitter, the
 * drop (each remaining spike silenced with probability drop); a setting that is
 * off draws no random numbers, so adding one leaves the others' draws
 * unchanged only if it is off. Pixels moved in from outside the image are
 * silent (INFINITY); jitter moves only spikes (never silence) and clamps
 * at 0. No allocation. Cannot fail. */
STDBP_API void stdbp_augment_apply(const stdbp_augment *aug, uint64_t seed, uint64_t epoch,
                                   size_t i, stdbp_shape shape, double *times, double *scratch);
/* The translation alone: out[c][y][x] = in[c][y - dy][x - dx], INFINITY
 * outside. in and out must not overlap. Cannot fail. */
STDBP_API void stdbp_shift_times(const double *in, stdbp_shape shape, int dy, int dx, double *out);
/* Rotation by angle (radians; a positive angle turns the image clockwise
 * as shown with row 0 at the top) and scaling by scale (> 0) about the image centre,
 * nearest neighbour: out[c][y][x] = in[c] at the input pixel nearest to
 * the point that maps to (y, x); INFINITY where that is outside. Spike
 * times are moved, never interpolated. in and out must not overlap.
 * Cannot fail. */
STDBP_API void stdbp_affine_times(const double *in, stdbp_shape shape, double angle, double scale,
                                  double *out);

/* Event data sets. The forms "events:PATH", "shd:PATH" and "nmnist:DIR"
 * of stdbp_dataset_open load them; each loader checks the whole file
 * and names the file and the place of the first fault. Times are kept as
 * stored (seconds for SHD, microseconds for N-MNIST, the file's unit for
 * the own layout): data.events.time_scale turns them into model units.
 *
 * Own HDF5 layout (docs/DATA.md):
 *   /times    float64, E values (finite, >= 0)
 *   /units    uint32, E channels (< the product of shape)
 *   /offsets  int64, N + 1 values: sample i is [offsets[i], offsets[i+1]),
 *             offsets[0] = 0, non-decreasing, offsets[N] = E
 *   /labels   integer type, N values in [0, STDBP_DATA_MAX_CLASSES)
 *   attribute "shape" on the root: 1 value (D) or 3 (C, H, W)
 * Events need not be sorted in the file. Not collective. */
STDBP_API stdbp_status stdbp_events_load(const char *path, stdbp_dataset *out,
                                         stdbp_err *err) STDBP_WUR;
/* The Spiking Heidelberg Digits' HDF5 layout: /spikes/times and
 * /spikes/units, N variable-length arrays each (any float type, seconds;
 * any integer type, channels < 700), /labels (N integers). Shape (700,
 * 1, 1). Not collective. */
#define STDBP_SHD_CHANNELS 700
STDBP_API stdbp_status stdbp_shd_load(const char *path, stdbp_dataset *out,
                                      stdbp_err *err) STDBP_WUR;
/* N-MNIST's binary format under dir: one file per sample in the folders
 * dir/0 .. dir/9 (the folder is the label), each a sequence of 5-byte
 * events: x (8 bits), y (8 bits), then polarity (1 bit) and a timestamp
 * in microseconds (23 bits), big-endian; x, y < 34. Channel = polarity *
 * 34 * 34 + y * 34 + x; shape (2, 34, 34). Files are taken in name order
 * within each folder. Not collective. */
#define STDBP_NMNIST_SIZE 34
STDBP_API stdbp_status stdbp_nmnist_load(const char *dir, stdbp_dataset *out,
                                         stdbp_err *err) STDBP_WUR;
/* One N-MNIST file's bytes (len of them) into *n events (*t, *ch, freed
 * by the caller with free(); NULL when there are none); name is for the
 * messages ("NAME: event K at byte B: ..."). Not collective. */
STDBP_API stdbp_status stdbp_nmnist_parse(const unsigned char *buf, size_t len, const char *name,
                                          double **t, uint32_t **ch, size_t *n,
                                          stdbp_err *err) STDBP_WUR;
/* 1 if ds holds events (ev_off set), else 0. */
STDBP_API int stdbp_dataset_is_events(const stdbp_dataset *ds);
/* 1 if stdbp_dataset_open would load name as an event data set. */
STDBP_API int stdbp_dataset_name_is_events(const char *name);
/* Sample i of an event data set as the network's input: the selection
 * of enc (NULL: the defaults), then, with aug not NULL, the augmentation
 * drawn from the stream (seed ^ STDBP_SEED_AUGMENT, epoch, i), the same
 * for any ranks and threads: a shift by (dy, dx) as for images (events
 * shifted out are dropped; only for shapes with h, w > 1), jitter
 * N(0, jitter^2) on each time (clamped at 0) and the drop. *ch and *t
 * (*n events) are allocated here; the caller frees them. STDBP_ENOMEM. */
STDBP_API stdbp_status stdbp_sample_events(const stdbp_encoding *enc, const stdbp_augment *aug,
                                           uint64_t seed, uint64_t epoch, const stdbp_dataset *ds,
                                           size_t i, uint32_t **ch, double **t, size_t *n,
                                           stdbp_err *err) STDBP_WUR;
/* Forward sample i of ds, image or events, as training and evaluation
 * do: images are encoded into times (ds->dim doubles), augmented when
 * aug is not NULL (scratch: ds->dim doubles) and run through
 * stdbp_net_forward; event samples go through stdbp_sample_events and
 * stdbp_net_forward_events (scratch unused; times, if not NULL, gets
 * each channel's first event as stdbp_encode gives it). *out: the output
 * times (owned by ws). Fails only for event samples (memory, a channel
 * the network does not have). Not collective. */
STDBP_API stdbp_status stdbp_sample_forward(const stdbp_net *net, stdbp_ws *ws,
                                            const stdbp_encoding *enc, const stdbp_augment *aug,
                                            uint64_t seed, uint64_t epoch, const stdbp_dataset *ds,
                                            size_t i, double *times, double *scratch,
                                            const double **out, stdbp_err *err) STDBP_WUR;

/* A seeded split of [0, n) into training and validation indices: the
 * validation set is n_val indices chosen by a shuffle with seed; both
 * lists come out sorted, disjoint, and together [0, n). The caller frees
 * both with free() (each is a valid pointer even when empty). n_val > n
 * is STDBP_EINVAL. */
STDBP_API stdbp_status stdbp_split(size_t n, size_t n_val, uint64_t seed, size_t **train_idx,
                                   size_t **val_idx, stdbp_err *err) STDBP_WUR;

/* The order of the training indices in an epoch: a permutation of idx
 * (n values; NULL means 0 .. n-1) into order (n values; may be idx) by a
 * Fisher-Yates shuffle that depends only on seed, epoch and idx: never on
 * the rank or the number of ranks. Cannot fail. */
STDBP_API void stdbp_epoch_order(const size_t *idx, size_t n, uint64_t seed, uint64_t epoch,
                                 size_t *order);

/* Global batch b of an epoch covers order[b * batch, min(n, (b+1) * batch)).
 * The number of batches: ceil(n / batch) (0 when batch is 0); the last may
 * be partial: it is kept, and its gradient is averaged over its own
 * (global) size, not over batch. Cannot fail. */
STDBP_API size_t stdbp_num_batches(size_t n, size_t batch);
/* Rank r of p takes the contiguous slice [*begin, *end) of a batch of
 * length len (offsets into the batch): each gets len / p, and the first
 * len % p ranks one more. The slices in rank order concatenate to the
 * whole batch, for any p; when len < p some ranks get an empty slice
 * (they still join the gradient reduction, with zero gradient). A rank
 * outside [0, p) or p <= 0 gets an empty slice. Not collective; cannot
 * fail. */
STDBP_API void stdbp_shard(size_t len, int rank, int p, size_t *begin, size_t *end);

#endif
