/* libFuzzer harness for the HDF5 data reader (src/data/h5data.c, the
 * hdf5:PATH data sets): make fuzz-h5data.
 *
 * Each input is written to a file under /dev/shm (the reader takes a
 * path) and loaded with stdbp_h5data_load. Besides ASan and UBSan, the
 * harness checks the reader's promises: a failure leaves a message and
 * hands out nothing (*out zeroed); a success holds n x dim pixels of one
 * kind (float32 in [0, 1]), n labels in [0, n_classes), a shape whose
 * product is dim; and no HDF5 object is left open afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "fuzz_h5ids.h"
#include "stdbp/data.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_h5data: broken promise: %s (message: %s)\n", what, msg ? msg : "");
    abort();
}

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/dev/shm/stdbp-fuzz-h5data-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        snprintf(path, sizeof path, "/tmp/stdbp-fuzz-h5data-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0)
        fail("cannot make a temporary file", path);
    close(fd);
    atexit(remove_file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stdbp_dataset ds;
    stdbp_err err;
    FILE *f;
    hsize_t ids[7];
    if (size > (1 << 20))
        return 0;
    h5ids_count(ids);
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input", path);
    stdbp_err_clear(&err);
    if (stdbp_h5data_load(path, &ds, &err) == STDBP_OK) {
        if (ds.n == 0 || ds.dim == 0 || !ds.labels || !ds.u8 == !ds.f32)
            fail("a success without samples, labels or exactly one pixel array", "");
        if ((size_t)ds.shape.c * (size_t)ds.shape.h * (size_t)ds.shape.w != ds.dim ||
            ds.shape.c <= 0 || ds.shape.h <= 0 || ds.shape.w <= 0)
            fail("a shape that does not match dim", "");
        if (ds.n_classes < 2 || ds.n_classes > STDBP_DATA_MAX_CLASSES)
            fail("n_classes out of range", "");
        for (size_t i = 0; i < ds.n; i++)
            if (ds.labels[i] < 0 || ds.labels[i] >= ds.n_classes)
                fail("a label outside [0, n_classes)", "");
        for (size_t i = 0; ds.f32 && i < ds.n * ds.dim; i++)
            if (!(ds.f32[i] >= 0.0f && ds.f32[i] <= 1.0f))
                fail("a float32 pixel outside [0, 1]", "");
        if (ds.u8)
            (void)*(volatile uint8_t *)&ds.u8[ds.n * ds.dim - 1]; /* ASan: allocated */
        if (strcmp(ds.source, path) != 0)
            fail("the source is not the file", ds.source);
        stdbp_dataset_free(&ds);
    } else {
        if (err.code == STDBP_OK || !err.msg[0] || !memchr(err.msg, '\0', sizeof err.msg))
            fail("a failure without a message", "");
        if (ds.n || ds.u8 || ds.f32 || ds.labels)
            fail("data handed out on failure", err.msg);
    }
    h5ids_check(ids, "stdbp_h5data_load");
    return 0;
}
