/* Private to src/data: the IDX reader in pieces, for stdbp_idx_load, the
 * tests and the fuzz harness (tests/fuzz/fuzz_idx.c).
 *
 * idx.c depends on zlib and src/util/error.c only (no MPI, no HDF5), so
 * the fuzz build can compile it on its own with clang. */
#ifndef STDBP_DATA_IDX_IMPL_H
#define STDBP_DATA_IDX_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/data.h"
#include "stdbp/error.h"

/* What a file is expected to hold: images are magic 0x00000803
 * (N x rows x columns, unsigned bytes), labels 0x00000801 (N unsigned
 * bytes). Any other magic is rejected with a message that says why. */
typedef enum stdbp_idx_kind { STDBP_IDX_IMAGES = 3, STDBP_IDX_LABELS = 1 } stdbp_idx_kind;

/* Deflate cannot expand data more than 1032:1; an IDX header that claims
 * more than this many times the compressed size (plus a little) is a lie
 * or a truncated file, and is refused before anything is allocated. */
#define STDBP_IDX_GZ_MAX_RATIO 1032u

/* One IDX array as read: dims[0 .. ndim-1], count = their product,
 * data = count bytes (malloc'd; owned by the array). */
typedef struct stdbp_idx_array {
    int ndim;
    uint32_t dims[3];
    size_t count;
    uint8_t *data;
} stdbp_idx_array;

/* Read the IDX file at path (raw, or gzip by its magic bytes 1f 8b). On
 * failure *out is left empty and err says which file and what is wrong. */
stdbp_status stdbp_idx_read_file(const char *path, stdbp_idx_kind kind, stdbp_idx_array *out,
                                 stdbp_err *err) STDBP_WUR;
/* The same from len bytes at buf; name stands for the file in messages. */
stdbp_status stdbp_idx_read_mem(const void *buf, size_t len, const char *name, stdbp_idx_kind kind,
                                stdbp_idx_array *out, stdbp_err *err) STDBP_WUR;
/* Check that the labels match the images and build a dataset. Takes the
 * pixel buffer of *images (it becomes out->u8) whether it succeeds or
 * not, and frees both arrays. The names are for messages and source. */
stdbp_status stdbp_idx_assemble(stdbp_idx_array *images, stdbp_idx_array *labels,
                                const char *images_name, const char *labels_name,
                                stdbp_dataset *out, stdbp_err *err) STDBP_WUR;
/* Free data and zero the array; accepts a zeroed array. */
void stdbp_idx_array_free(stdbp_idx_array *a);

/* Between chunks of a load: STDBP_ESTOPPED ("PATH: loading stopped by a
 * signal") when the check of stdbp_data_set_stop_check says stop, else
 * STDBP_OK (in dataset.c, for the IDX and HDF5 readers). */
stdbp_status stdbp_data_poll_stop(const char *path, stdbp_err *err);

#endif
