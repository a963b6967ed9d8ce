/* libFuzzer harness for the event data readers (src/data/evh5.c,
 * src/data/nmnist.c: events:PATH, shd:PATH, nmnist:DIR): make
 * fuzz-events.
 *
 * The first byte of an input picks the reader (0: the own HDF5 events
 * layout, 1: the SHD layout, 2: one N-MNIST file); the rest is the file,
 * written under /dev/shm for the HDF5 readers, parsed from memory for
 * N-MNIST. Besides ASan and UBSan, the harness checks the readers'
 * promises: a failure leaves a message naming the file and hands out
 * nothing; a success holds n + 1 non-decreasing offsets from 0, every
 * event with a finite time >= 0 and a channel < dim, sorted by (time,
 * channel) within each sample, n labels in [0, n_classes); and no HDF5
 * object is left open. */
#include <math.h>
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
    fprintf(stderr, "fuzz_events: broken promise: %s (message: %s)\n", what, msg ? msg : "");
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
    snprintf(path, sizeof path, "/dev/shm/stdbp-fuzz-events-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        snprintf(path, sizeof path, "/tmp/stdbp-fuzz-events-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0)
        fail("cannot make a temporary file", path);
    close(fd);
    atexit(remove_file);
    return 0;
}

static void check_set(const stdbp_dataset *ds)
{
    if (!ds->ev_off || !ds->ev_t || !ds->ev_ch || !ds->labels || ds->u8 || ds->f32)
        fail("a success without its event arrays (or with pixels)", "");
    if ((size_t)ds->shape.c * (size_t)ds->shape.h * (size_t)ds->shape.w != ds->dim || ds->dim == 0)
        fail("a shape that does not match dim", "");
    if (ds->n_classes < 2 || ds->n_classes > STDBP_DATA_MAX_CLASSES)
        fail("n_classes out of range", "");
    if (ds->ev_off[0] != 0)
        fail("offsets that do not start at 0", "");
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->labels[i] < 0 || ds->labels[i] >= ds->n_classes)
            fail("a label outside [0, n_classes)", "");
        if (ds->ev_off[i + 1] < ds->ev_off[i])
            fail("decreasing offsets", "");
        for (int64_t k = ds->ev_off[i]; k < ds->ev_off[i + 1]; k++) {
            if (!(isfinite(ds->ev_t[k]) && ds->ev_t[k] >= 0.0) || ds->ev_ch[k] >= ds->dim)
                fail("an event with a bad time or channel", "");
            if (k > ds->ev_off[i] &&
                (ds->ev_t[k] < ds->ev_t[k - 1] ||
                 (ds->ev_t[k] == ds->ev_t[k - 1] && ds->ev_ch[k] < ds->ev_ch[k - 1])))
                fail("a sample not sorted by (time, channel)", "");
        }
    }
    if (strcmp(ds->source, path) != 0)
        fail("the source is not the file", ds->source);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stdbp_dataset ds;
    stdbp_err err;
    hsize_t ids[7];
    if (size < 1 || size > (1 << 20))
        return 0;
    const int which = data[0] % 3;
    data++;
    size--;
    stdbp_err_clear(&err);
    if (which == 2) {
        double *t = NULL;
        uint32_t *ch = NULL;
        size_t n = 7;
        if (stdbp_nmnist_parse(data, size, "input", &t, &ch, &n, &err) == STDBP_OK) {
            if (n != size / 5 || (n && (!t || !ch)))
                fail("a parse with the wrong number of events", "");
            for (size_t k = 0; k < n; k++)
                if (ch[k] >= 2 * 34 * 34 || !(t[k] >= 0 && t[k] < 8388608.0))
                    fail("an N-MNIST event out of range", "");
        } else {
            if (!err.msg[0] || !strstr(err.msg, "input") || t || ch || n)
                fail("an N-MNIST failure without the file named, or with data", err.msg);
        }
        free(t);
        free(ch);
        return 0;
    }
    h5ids_count(ids);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input", path);
    stdbp_status st =
        which == 0 ? stdbp_events_load(path, &ds, &err) : stdbp_shd_load(path, &ds, &err);
    if (st == STDBP_OK) {
        check_set(&ds);
        stdbp_dataset_free(&ds);
    } else {
        if (err.code == STDBP_OK || !err.msg[0] || !strstr(err.msg, path))
            fail("a failure without a message naming the file", err.msg);
        if (ds.n || ds.ev_off || ds.ev_t || ds.ev_ch || ds.labels)
            fail("data handed out on failure", err.msg);
    }
    h5ids_check(ids, which == 0 ? "stdbp_events_load" : "stdbp_shd_load");
    return 0;
}
