/* Stable sort of fired spike times: insertion sort for a few, else an LSD
 * radix sort on the times' bit patterns (8 passes of 8 bits, skipping the
 * bytes that all keys share). Radix rather than a comparison sort: a
 * layer sorts up to thousands of times per sample, and the keys' high
 * bytes are mostly equal (times in a narrow range), so few passes run. */
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

#define SMALL 32

size_t stdbp_sort_fired(const double *t, size_t n, uint32_t *idx, void *scratch)
{
    uint64_t *ka = scratch, *kb = ka + n;
    uint32_t *ib = (uint32_t *)(kb + n), *ia = idx;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(t[i])) {
            ka[cnt] = time_key(t[i]);
            ia[cnt++] = (uint32_t)i;
        }
    if (cnt <= SMALL) {
        for (size_t i = 1; i < cnt; i++) {
            const uint64_t k = ka[i];
            const uint32_t v = ia[i];
            size_t j = i;
            for (; j > 0 && ka[j - 1] > k; j--) {
                ka[j] = ka[j - 1];
                ia[j] = ia[j - 1];
            }
            ka[j] = k;
            ia[j] = v;
        }
        return cnt;
    }
    uint32_t hist[8][256];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < cnt; i++)
        for (int b = 0; b < 8; b++)
            hist[b][(ka[i] >> (8 * b)) & 0xff]++;
    for (int b = 0; b < 8; b++) {
        uint32_t *h = hist[b];
        if (h[(ka[0] >> (8 * b)) & 0xff] == cnt) /* every key has this byte */
            continue;
        uint32_t sum = 0;
        for (int v = 0; v < 256; v++) {
            const uint32_t c = h[v];
            h[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < cnt; i++) {
            const uint32_t pos = h[(ka[i] >> (8 * b)) & 0xff]++;
            kb[pos] = ka[i];
            ib[pos] = ia[i];
        }
        uint64_t *tk = ka;
        uint32_t *ti = ia;
        ka = kb;
        kb = tk;
        ia = ib;
        ib = ti;
    }
    if (ia != idx)
        memcpy(idx, ia, cnt * sizeof *idx);
    return cnt;
}
