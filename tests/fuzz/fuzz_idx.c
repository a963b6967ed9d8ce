/* libFuzzer harness for the IDX reader (src/data/idx.c): `make fuzz-idx`.
 *
 * Each input is read from memory as an image file and as a label file;
 * then it is cut in two (at a point taken from its first byte) and the
 * halves are read as an image + label pair and assembled into a dataset.
 * Besides ASan and UBSan, the harness checks the reader's promises: a
 * failure names the input and hands out nothing; a success holds exactly
 * the bytes its header describes, with labels below n_classes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/idx_impl.h"
#include "stdbp/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what, const stdbp_err *err)
{
    if (!cond) {
        fprintf(stderr, "fuzz_idx: broken promise: %s (message: %s)\n", what, err->msg);
        abort();
    }
}

/* Read buf as kind; check the result either way. Returns the status. */
static stdbp_status read_one(const uint8_t *buf, size_t len, const char *name, stdbp_idx_kind kind,
                             stdbp_idx_array *a)
{
    stdbp_err err;
    stdbp_status st;
    stdbp_err_clear(&err);
    st = stdbp_idx_read_mem(buf, len, name, kind, a, &err);
    if (st != STDBP_OK) {
        check(strstr(err.msg, name) != NULL, "the message names the input", &err);
        check(a->data == NULL && a->count == 0, "nothing is handed out on failure", &err);
    } else {
        size_t count = 1, sum = 0, i;
        int d;
        check(a->ndim == (int)kind, "ndim matches the kind", &err);
        for (d = 0; d < a->ndim; d++)
            count *= a->dims[d];
        check(count == a->count && count > 0, "count is the product of the dims", &err);
        for (i = 0; i < a->count; i++) /* every byte is there to read */
            sum += a->data[i];
        (void)sum;
    }
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stdbp_idx_array im, lb;
    stdbp_dataset ds;
    stdbp_err err;
    size_t cut, i;

    if (read_one(data, size, "fuzz-images", STDBP_IDX_IMAGES, &im) == STDBP_OK)
        stdbp_idx_array_free(&im);
    if (read_one(data, size, "fuzz-labels", STDBP_IDX_LABELS, &lb) == STDBP_OK)
        stdbp_idx_array_free(&lb);
    if (size < 2)
        return 0;

    /* A pair: images = data[1 .. 1+cut), labels = the rest. */
    cut = (size_t)data[0] * (size - 1) / 255;
    if (read_one(data + 1, cut, "fuzz-pair-images", STDBP_IDX_IMAGES, &im) != STDBP_OK)
        return 0;
    if (read_one(data + 1 + cut, size - 1 - cut, "fuzz-pair-labels", STDBP_IDX_LABELS, &lb) !=
        STDBP_OK) {
        stdbp_idx_array_free(&im);
        return 0;
    }
    stdbp_err_clear(&err);
    if (stdbp_idx_assemble(&im, &lb, "fuzz-pair-images", "fuzz-pair-labels", &ds, &err) !=
        STDBP_OK) {
        check(strstr(err.msg, "fuzz-pair-") != NULL, "the pair message names a file", &err);
        check(ds.u8 == NULL && ds.labels == NULL, "nothing is handed out on failure", &err);
    } else {
        check(ds.n > 0 && ds.dim == (size_t)ds.shape.h * (size_t)ds.shape.w && ds.shape.c == 1,
              "the shape matches the header", &err);
        check(ds.n_classes >= 2 && ds.n_classes <= 256, "n_classes in [2, 256]", &err);
        for (i = 0; i < ds.n; i++)
            check(ds.labels[i] >= 0 && ds.labels[i] < ds.n_classes, "labels < n_classes", &err);
        check(stdbp_dataset_pixel(&ds, ds.n - 1, ds.dim - 1) <= 1.0, "last pixel readable", &err);
        stdbp_dataset_free(&ds);
    }
    check(im.data == NULL && lb.data == NULL, "assemble frees both arrays", &err);
    return 0;
}
