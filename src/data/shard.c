/* Seeded splits, per-epoch orders, batches and rank slices; see
 * include/stdbp/data.h. None of this depends on the number of ranks:
 * every rank computes the same order and takes its own slice of it. */
#include "stdbp/data.h"

#include <stdlib.h>
#include <string.h>

#include "stdbp/rng.h"

stdbp_status stdbp_split(size_t n, size_t n_val, uint64_t seed, size_t **train_idx,
                         size_t **val_idx, stdbp_err *err)
{
    size_t *perm = NULL, *tr = NULL, *va = NULL, i, a = 0, b = 0;
    unsigned char *is_val = NULL;
    stdbp_rng rng;

    *train_idx = NULL;
    *val_idx = NULL;
    if (n_val > n)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "validation split of %zu samples asked of a dataset of %zu", n_val, n);
    if (n > SIZE_MAX / sizeof *perm)
        return stdbp_err_set(err, STDBP_ENOMEM, "split: %zu samples is too many", n);
    perm = malloc((n ? n : 1) * sizeof *perm);
    is_val = calloc(n ? n : 1, 1);
    tr = malloc((n - n_val ? n - n_val : 1) * sizeof *tr);
    va = malloc((n_val ? n_val : 1) * sizeof *va);
    if (!perm || !is_val || !tr || !va) {
        free(perm);
        free(is_val);
        free(tr);
        free(va);
        return stdbp_err_set(err, STDBP_ENOMEM, "split: out of memory for %zu samples", n);
    }
    /* The first n_val places of a partial Fisher-Yates shuffle. */
    for (i = 0; i < n; i++)
        perm[i] = i;
    stdbp_rng_stream(&rng, seed, 0, STDBP_STREAM_SPLIT);
    for (i = 0; i < n_val; i++) {
        size_t j = i + (size_t)stdbp_rng_below(&rng, (uint64_t)(n - i));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        is_val[perm[i]] = 1;
    }
    for (i = 0; i < n; i++) {
        if (is_val[i])
            va[b++] = i;
        else
            tr[a++] = i;
    }
    free(perm);
    free(is_val);
    *train_idx = tr;
    *val_idx = va;
    return STDBP_OK;
}

void stdbp_epoch_order(const size_t *idx, size_t n, uint64_t seed, uint64_t epoch, size_t *order)
{
    stdbp_rng rng;
    size_t i;
    if (n == 0)
        return;
    if (idx)
        memmove(order, idx, n * sizeof *order);
    else
        for (i = 0; i < n; i++)
            order[i] = i;
    /* Fisher-Yates from the top: every permutation equally likely. */
    stdbp_rng_stream(&rng, seed, epoch, STDBP_STREAM_SHUFFLE);
    for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)stdbp_rng_below(&rng, (uint64_t)i + 1);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

size_t stdbp_num_batches(size_t n, size_t batch)
{
    if (batch == 0)
        return 0;
    return n / batch + (n % batch != 0);
}

void stdbp_shard(size_t len, int rank, int p, size_t *begin, size_t *end)
{
    size_t base, rem, r;
    if (p <= 0 || rank < 0 || rank >= p) {
        *begin = *end = 0;
        return;
    }
    r = (size_t)rank;
    base = len / (size_t)p;
    rem = len % (size_t)p;
    *begin = r * base + (r < rem ? r : rem);
    *end = *begin + base + (r < rem);
}
