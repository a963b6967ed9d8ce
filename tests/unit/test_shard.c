/* Splits, epoch orders, batches and rank slices: the global batch must not
 * depend on the number of ranks. */
#include <stdlib.h>
#include <string.h>

#include "stdbp/data.h"
#include "tap/basic.h"

static int is_permutation_of(const size_t *a, const size_t *b, size_t n)
{
    size_t i, max = 0;
    unsigned char *seen;
    int good = 1;
    for (i = 0; i < n; i++)
        max = b[i] > max ? b[i] : max;
    seen = calloc(max + 1, 1);
    for (i = 0; i < n; i++)
        seen[b[i]]++;
    for (i = 0; i < n; i++) {
        if (a[i] > max || seen[a[i]] == 0)
            good = 0;
        else
            seen[a[i]]--;
    }
    free(seen);
    return good;
}

static void test_batches_and_slices(void)
{
    size_t len, b, e;
    int p, r, good = 1;
    is_int(0, (long long)stdbp_num_batches(0, 16), "no samples, no batches");
    is_int(1, (long long)stdbp_num_batches(16, 16), "16 / 16: one batch");
    is_int(2, (long long)stdbp_num_batches(17, 16), "17 / 16: two, the last partial");
    is_int(7, (long long)stdbp_num_batches(103, 16), "103 / 16: seven");
    is_int(0, (long long)stdbp_num_batches(10, 0), "batch 0: no batches");

    for (len = 0; len <= 40; len++) {
        for (p = 1; p <= 9; p++) {
            size_t next = 0;
            for (r = 0; r < p; r++) {
                size_t want = len / (size_t)p + ((size_t)r < len % (size_t)p);
                stdbp_shard(len, r, p, &b, &e);
                if (b != next || e - b != want)
                    good = 0;
                next = e;
            }
            if (next != len)
                good = 0;
        }
    }
    ok(good, "slices in rank order tile [0, len), len/p each, first len%%p one more");
    stdbp_shard(10, 3, 3, &b, &e);
    ok(b == 0 && e == 0, "rank out of range: empty slice");
    stdbp_shard(10, 0, 0, &b, &e);
    ok(b == 0 && e == 0, "p = 0: empty slice");
    stdbp_shard(2, 3, 4, &b, &e);
    ok(b == e, "len < p: the last ranks get empty slices");
}

static void test_epoch_order(void)
{
    enum { N = 1000 };
    size_t *idx = malloc(N * sizeof *idx), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    size_t i;
    int moved = 0;
    for (i = 0; i < N; i++)
        idx[i] = 3 * i + 1;
    stdbp_epoch_order(idx, N, 42, 0, a);
    ok(is_permutation_of(a, idx, N), "the epoch order is a permutation of idx");
    for (i = 0; i < N; i++)
        moved += a[i] != idx[i];
    ok(moved > N / 2, "and it is shuffled (%d of %d moved)", moved, N);
    stdbp_epoch_order(idx, N, 42, 0, b);
    ok(memcmp(a, b, N * sizeof *a) == 0, "same seed and epoch: same order");
    stdbp_epoch_order(idx, N, 42, 1, b);
    ok(memcmp(a, b, N * sizeof *a) != 0, "next epoch: a different order");
    stdbp_epoch_order(idx, N, 43, 0, b);
    ok(memcmp(a, b, N * sizeof *a) != 0, "other seed: a different order");
    memcpy(b, idx, N * sizeof *b);
    stdbp_epoch_order(b, N, 42, 0, b);
    ok(memcmp(a, b, N * sizeof *a) == 0, "in place gives the same order");
    for (i = 0; i < N; i++)
        idx[i] = i;
    stdbp_epoch_order(idx, N, 7, 5, a);
    stdbp_epoch_order(NULL, N, 7, 5, b);
    ok(memcmp(a, b, N * sizeof *a) == 0, "idx NULL means 0 .. n-1");
    stdbp_epoch_order(idx, 1, 7, 5, a);
    ok(a[0] == 0, "one sample: itself");
    stdbp_epoch_order(idx, 0, 7, 5, a); /* must not touch anything */
    ok(1, "zero samples: nothing happens");

    /* Every position is reachable: with n = 4 over 4000 epochs, each
     * value lands at position 0 roughly 1000 times. */
    {
        int count[4] = {0, 0, 0, 0}, e, fair = 1;
        for (e = 0; e < 4000; e++) {
            stdbp_epoch_order(NULL, 4, 99, (uint64_t)e, a);
            count[a[0]]++;
        }
        for (e = 0; e < 4; e++)
            fair &= count[e] > 850 && count[e] < 1150;
        ok(fair, "the first place is uniform over epochs (%d %d %d %d of 4000)", count[0], count[1],
           count[2], count[3]);
    }
    free(idx);
    free(a);
    free(b);
}

/* For P = 1..8 ranks that each compute the order on their own, the slices
 * of every global batch concatenate to the P = 1 batch: same samples,
 * same order, no duplicates, partial last batch included. */
static void test_rank_independence(void)
{
    enum { N = 103, BATCH = 16, EPOCHS = 4 };
    size_t serial[N], mine[N], got[N];
    size_t nb = stdbp_num_batches(N, BATCH);
    int p, r, good = 1, nodup = 1;
    uint64_t e;
    for (e = 0; e < EPOCHS; e++) {
        stdbp_epoch_order(NULL, N, 2024, e, serial);
        for (p = 1; p <= 8; p++) {
            size_t bt;
            for (bt = 0; bt < nb; bt++) {
                size_t start = bt * BATCH, len = N - start < BATCH ? N - start : BATCH, k = 0;
                unsigned char seen[N];
                memset(seen, 0, sizeof seen);
                for (r = 0; r < p; r++) {
                    size_t b, en, j;
                    /* Rank r's own computation. */
                    stdbp_epoch_order(NULL, N, 2024, e, mine);
                    stdbp_shard(len, r, p, &b, &en);
                    for (j = b; j < en; j++) {
                        size_t s = mine[start + j];
                        if (seen[s]++)
                            nodup = 0;
                        got[k++] = s;
                    }
                }
                if (k != len || memcmp(got, serial + start, len * sizeof *got) != 0)
                    good = 0;
            }
        }
    }
    ok(good,
       "P = 1..8: the rank slices of each batch are the P = 1 batch (%d epochs, "
       "%zu batches, last of %d)",
       EPOCHS, nb, N % BATCH);
    ok(nodup, "  no sample twice in a batch");
}

static void test_split(void)
{
    size_t *tr, *va, *tr2, *va2, i;
    stdbp_err err;
    int good = 1;
    unsigned char seen[500];
    is_int(STDBP_OK, stdbp_split(500, 60, 11, &tr, &va, &err), "split 500 into 440 + 60");
    memset(seen, 0, sizeof seen);
    for (i = 0; i < 440; i++)
        seen[tr[i]]++;
    for (i = 0; i < 60; i++)
        seen[va[i]]++;
    for (i = 0; i < 500; i++)
        good &= seen[i] == 1;
    ok(good, "  disjoint and complete");
    good = 1;
    for (i = 1; i < 440; i++)
        good &= tr[i - 1] < tr[i];
    for (i = 1; i < 60; i++)
        good &= va[i - 1] < va[i];
    ok(good, "  both lists sorted");
    ok(va[59] - va[0] > 250, "  the validation set is spread out (%zu .. %zu)", va[0], va[59]);
    is_int(STDBP_OK, stdbp_split(500, 60, 11, &tr2, &va2, &err), "again with the same seed");
    ok(memcmp(va, va2, 60 * sizeof *va) == 0 && memcmp(tr, tr2, 440 * sizeof *tr) == 0,
       "  the same split");
    free(tr2);
    free(va2);
    is_int(STDBP_OK, stdbp_split(500, 60, 12, &tr2, &va2, &err), "another seed");
    ok(memcmp(va, va2, 60 * sizeof *va) != 0, "  another split");
    free(tr);
    free(va);
    free(tr2);
    free(va2);

    is_int(STDBP_OK, stdbp_split(10, 0, 1, &tr, &va, &err), "n_val = 0");
    ok(tr && va && tr[0] == 0 && tr[9] == 9, "  everything is training");
    free(tr);
    free(va);
    is_int(STDBP_OK, stdbp_split(10, 10, 1, &tr, &va, &err), "n_val = n");
    ok(tr && va && va[0] == 0 && va[9] == 9, "  everything is validation");
    free(tr);
    free(va);
    stdbp_err_clear(&err);
    is_int(STDBP_EINVAL, stdbp_split(10, 11, 1, &tr, &va, &err), "n_val > n is refused");
    contains(err.msg, "11", "  the message gives the sizes");
    ok(tr == NULL && va == NULL, "  nothing is handed out");
}

int main(void)
{
    plan_lazy();
    test_batches_and_slices();
    test_epoch_order();
    test_rank_independence();
    test_split();
    return 0;
}
