/* Stable sort of fired spike times by their bit patterns: an LSD radix
 * sort (8-bit digits) on the upper 32 bits of the key, skipping digits
 * that all keys share, then each run of equal upper halves sorted by the
 * lower 32 bits (insertion for short runs, the same radix for long ones).
 * Runs are almost always short: the upper half holds sign, exponent and
 * 20 mantissa bits, so only times within a relative 1e-6 share it, and
 * exact ties do not move. Radix rather than a comparison sort: a layer
 * sorts up to thousands of times per sample. */
#include "core/sort.h"

#include <math.h>
#include <string.h>

/* Order-preserving map from a double to an unsigned key. */
static inline uint64_t time_key(double t)
{
    uint64_t b;
    memcpy(&b, &t, sizeof b);
    return (b >> 63) ? ~b : b | 0x8000000000000000u;
}

size_t stdbp_sort_scratch_size(size_t n)
{
    return n * (2 * sizeof(uint64_t) + sizeof(uint32_t));
}

#define SMALL 48

static void insertion(uint64_t *k, uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const uint64_t key = k[i];
        const uint32_t val = v[i];
        size_t j = i;
        for (; j > 0 && k[j - 1] > key; j--) {
            k[j] = k[j - 1];
            v[j] = v[j - 1];
        }
        k[j] = key;
        v[j] = val;
    }
}

/* LSD radix sort of (k, v) on bytes lo..hi-1 of the keys; kb, vb are
 * scratch of n. The result ends in k, v. */
static void radix(uint64_t *k, uint32_t *v, uint64_t *kb, uint32_t *vb, size_t n, int lo, int hi)
{
    uint32_t hist[8][256];
    uint64_t *k0 = k;
    uint32_t *v0 = v;
    memset(hist[lo], 0, (size_t)(hi - lo) * sizeof hist[0]);
    for (size_t i = 0; i < n; i++)
        for (int b = lo; b < hi; b++)
            hist[b][(k[i] >> (8 * b)) & 0xff]++;
    for (int b = lo; b < hi; b++) {
        uint32_t *h = hist[b], sum = 0;
        if (h[(k[0] >> (8 * b)) & 0xff] == n) /* every key has this digit */
            continue;
        for (int d = 0; d < 256; d++) {
            const uint32_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            const uint32_t pos = h[(k[i] >> (8 * b)) & 0xff]++;
            kb[pos] = k[i];
            vb[pos] = v[i];
        }
        uint64_t *tk = k;
        uint32_t *tv = v;
        k = kb;
        v = vb;
        kb = tk;
        vb = tv;
    }
    if (k != k0) {
        memcpy(k0, k, n * sizeof *k);
        memcpy(v0, v, n * sizeof *v);
    }
}

size_t stdbp_sort_fired(const double *t, size_t n, uint32_t *idx, void *scratch)
{
    uint64_t *ka = scratch, *kb = ka + n;
    uint32_t *ib = (uint32_t *)(kb + n);
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(t[i])) {
            ka[cnt] = time_key(t[i]);
            idx[cnt++] = (uint32_t)i;
        }
    if (cnt <= SMALL) {
        insertion(ka, idx, cnt);
        return cnt;
    }
    radix(ka, idx, kb, ib, cnt, 4, 8);
    for (size_t i = 0; i < cnt;) {
        size_t j = i + 1;
        while (j < cnt && ka[j] >> 32 == ka[i] >> 32)
            j++;
        if (j - i > SMALL)
            radix(ka + i, idx + i, kb, ib, j - i, 0, 4);
        else if (j - i > 1)
            insertion(ka + i, idx + i, j - i);
        i = j;
    }
    return cnt;
}
