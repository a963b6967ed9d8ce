/* Datasets: IDX (MNIST format, raw or gzip) and a simple HDF5 layout,
 * latency encoding, seeded splits, per-epoch shuffles and sharding.
 *
 * HDF5 layout for users' own data (docs/FORMAT.md):
 *   /images  uint8 or float32, N x C x H x W, N x H x W or N x D
 *            (uint8 is scaled by 1/255; float32 must lie in [0, 1])
 *   /labels  integer type, N values in [0, n_classes)
 *
 * A dataset holds its pixels once (uint8 or float32, as stored) and is
 * read-only after loading: no per-epoch copies. Nothing here is
 * collective: every rank loads the dataset on its own. */
#ifndef STDBP_DATA_H
#define STDBP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/error.h"
#include "stdbp/net.h"

typedef struct stdbp_dataset {
    size_t n;            /* samples */
    stdbp_shape shape;   /* per sample; dim = c * h * w */
    size_t dim;
    uint8_t *u8;         /* n * dim pixels, or NULL */
    float *f32;          /* n * dim pixels in [0, 1], or NULL */
    int32_t *labels;     /* n labels */
    int n_classes;       /* 1 + the largest label, at least 2 */
    char source[512];    /* file(s) it came from, for messages */
} stdbp_dataset;

/* IDX image + label files (e.g. train-images-idx3-ubyte[.gz]); gzip is
 * detected by its magic bytes, not the name. Checks the magic numbers,
 * dimensions against the file size (no overflow), truncation, the label
 * count against the image count, and labels < 256. */
stdbp_status stdbp_idx_load(const char *images_path, const char *labels_path,
                            stdbp_dataset *out, stdbp_err *err) STDBP_WUR;
/* The HDF5 layout above. */
stdbp_status stdbp_h5data_load(const char *path, stdbp_dataset *out, stdbp_err *err) STDBP_WUR;

/* By name: "mnist" or "fashion-mnist" (the four IDX files under
 * data_dir/NAME/, plain or .gz; split "train" or "test" picks the pair),
 * or "hdf5:PATH" (the file PATH in the layout above; split is ignored:
 * the config names a separate file for the test set). */
stdbp_status stdbp_dataset_open(const char *name, const char *data_dir, const char *split,
                                stdbp_dataset *out, stdbp_err *err) STDBP_WUR;
/* Frees the buffers and zeroes *ds; accepts a zeroed dataset. */
void stdbp_dataset_free(stdbp_dataset *ds);
/* Pixel value of sample i, feature k, in [0, 1]. */
double stdbp_dataset_pixel(const stdbp_dataset *ds, size_t i, size_t k);

/* Latency encoding: t = t_max * (1 - x) for intensity x in [0, 1];
 * brighter fires earlier. With zero_silent, x <= 0 is silent (INFINITY).
 * With normalise, x is first divided by the sample's largest intensity. */
typedef struct stdbp_encoding {
    double t_max;    /* default 1 */
    int zero_silent; /* default 1 */
    int normalise;   /* default 0 */
} stdbp_encoding;

stdbp_encoding stdbp_encoding_defaults(void);
/* Encode sample i into times[ds->dim]. Cannot fail. */
void stdbp_encode(const stdbp_encoding *enc, const stdbp_dataset *ds, size_t i, double *times);

/* A seeded split of [0, n) into training and validation indices: the
 * validation set is n_val indices chosen by a shuffle with seed; both
 * lists come out sorted. The caller frees both with free(). */
stdbp_status stdbp_split(size_t n, size_t n_val, uint64_t seed, size_t **train_idx,
                         size_t **val_idx, stdbp_err *err) STDBP_WUR;

/* The order of the training indices in an epoch: a permutation of idx
 * (n values) into order (n values) that depends only on seed and epoch.
 * Cannot fail. */
void stdbp_epoch_order(const size_t *idx, size_t n, uint64_t seed, uint64_t epoch,
                       size_t *order);

/* Global batch b of an epoch covers order[b * batch, min(n, (b+1) * batch)).
 * The number of batches: ceil(n / batch); the last may be partial (it is
 * kept, and its gradient is averaged over its own size). */
size_t stdbp_num_batches(size_t n, size_t batch);
/* Rank r of p takes the contiguous slice [*begin, *end) of a batch of
 * length len (offsets into the batch): the first len % p ranks get one
 * more. The union over ranks is the whole batch, for any p. */
void stdbp_shard(size_t len, int rank, int p, size_t *begin, size_t *end);

#endif
