/* Stable sort of fired spike times by their bit patterns (as unsigned
 * keys that keep the times' order): an LSD radix sort (8-bit digits) on
 * the 16 most significant bits of each key's offset from the smallest
 * key, skipping a digit all keys share, then each run of equal digits
 * sorted by the whole key (insertion for short runs, the same radix on
 * all eight bytes for long ones). The 16 bits hold the exponent and the
 * leading mantissa bits of the range the times span, so for a layer's
 * times the runs are short, and two scattering passes do what four did
 * when the digits were the key's upper 32 bits. Exact ties do not move:
 * ties stay in index order. Radix rather than a comparison sort: a layer
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

/* LSD radix sort of (k, v) on bytes lo..hi-1 of the digits
 * (key - base) >> shift, skipping a byte every key shares; kb, vb are
 * scratch of n. The result ends in k, v. */
static void radix(uint64_t *k, uint32_t *v, uint64_t *kb, uint32_t *vb, size_t n, uint64_t base,
                  int shift, int lo, int hi)
{
    uint32_t hist[8][256];
    uint64_t *k0 = k;
    uint32_t *v0 = v;
#define DIGIT(key, b) ((((key)-base) >> shift >> (8 * (b))) & 0xff)
    memset(hist[lo], 0, (size_t)(hi - lo) * sizeof hist[0]);
    for (size_t i = 0; i < n; i++)
        for (int b = lo; b < hi; b++)
            hist[b][DIGIT(k[i], b)]++;
    for (int b = lo; b < hi; b++) {
        uint32_t *h = hist[b], sum = 0;
        if (h[DIGIT(k[0], b)] == n) /* every key has this digit */
            continue;
        for (int d = 0; d < 256; d++) {
            const uint32_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            const uint32_t pos = h[DIGIT(k[i], b)]++;
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
#undef DIGIT
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
    uint64_t lo = ~(uint64_t)0, hi = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(t[i])) {
            const uint64_t k = time_key(t[i]);
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
            ka[cnt] = k;
            idx[cnt++] = (uint32_t)i;
        }
    if (cnt <= SMALL) {
        insertion(ka, idx, cnt);
        return cnt;
    }
    if (lo == hi) /* all equal: index order is the order */
        return cnt;
    const int bits = 64 - __builtin_clzll(hi - lo);
    const int shift = bits > 16 ? bits - 16 : 0;
    radix(ka, idx, kb, ib, cnt, lo, shift, 0, 2);
    /* runs of equal digits, by the whole key (with shift 0 the digits
     * were the whole offset: nothing left to sort) */
    if (shift > 0)
        for (size_t i = 0; i < cnt;) {
            const uint64_t d = (ka[i] - lo) >> shift;
            size_t j = i + 1;
            while (j < cnt && (ka[j] - lo) >> shift == d)
                j++;
            if (j - i > SMALL)
                radix(ka + i, idx + i, kb, ib, j - i, 0, 0, 0, 8);
            else if (j - i > 1)
                insertion(ka + i, idx + i, j - i);
            i = j;
        }
    return cnt;
}
