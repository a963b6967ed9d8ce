/* SHA-256, straight from FIPS 180-4; see digest.h. */
#include "util/sha256.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                        \
    defined(__FLOAT_WORD_ORDER__) && __FLOAT_WORD_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define STDBP_DIGEST_LE 1 /* values are already little-endian in memory */
#endif

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, hh;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* The portable compression of n whole blocks. */
static void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t n)
{
    for (; n; n--, p += 64)
        sha256_block(h, p);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define STDBP_SHA256_X86 1

/* The same with the x86 SHA extensions (about 10x faster): the message
 * schedule with sha256msg1/msg2, two rounds per sha256rnds2. The state is
 * kept as ABEF and CDGH, as the instructions want it. */
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_shani(uint32_t h[8],
                                                                      const uint8_t *p, size_t n)
{
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i st1 = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i st0;
    tmp = _mm_shuffle_epi32(tmp, 0xB1);    /* CDAB */
    st1 = _mm_shuffle_epi32(st1, 0x1B);    /* EFGH */
    st0 = _mm_alignr_epi8(tmp, st1, 8);    /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0); /* CDGH */
    for (; n; n--, p += 64) {
        __m128i abef = st0, cdgh = st1, w[4];
        for (int g = 0; g < 16; g++) { /* four rounds each */
            __m128i m;
            if (g < 4) {
                w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), mask);
            } else { /* W[g] from W[g-4], W[g-3], W[g-2], W[g-1] */
                __m128i x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
            }
            m = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * g]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, m);
            m = _mm_shuffle_epi32(m, 0x0E);
            st0 = _mm_sha256rnds2_epu32(st0, st1, m);
        }
        st0 = _mm_add_epi32(st0, abef);
        st1 = _mm_add_epi32(st1, cdgh);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)&h[0], st0);
    _mm_storeu_si128((__m128i *)&h[4], st1);
}

static int cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)) || !(c & (1u << 9)))
        return 0; /* SSE4.1, SSSE3 */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 29) & 1; /* SHA */
}
#endif

/* -1: not decided yet; 0: portable; 1: SHA extensions. */
static int sha256_mode = -1;

static void sha256_decide(void)
{
    if (sha256_mode >= 0)
        return;
#ifdef STDBP_SHA256_X86
    sha256_mode = cpu_has_shani();
#else
    sha256_mode = 0;
#endif
}

static void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
    sha256_decide();
#ifdef STDBP_SHA256_X86
    if (sha256_mode == 1) {
        sha256_blocks_shani(h, p, n);
        return;
    }
#endif
    sha256_blocks_portable(h, p, n);
}

int stdbp_sha256_accelerated(int mode)
{
    if (mode == 0)
        sha256_mode = 0;
    else if (mode > 0)
        sha256_mode = -1; /* detect again */
    sha256_decide();
    return sha256_mode == 1;
}

void stdbp_sha256_init(stdbp_sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->n_bytes = 0;
    s->n_buf = 0;
}

void stdbp_sha256_update(stdbp_sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->n_bytes += len;
    if (s->n_buf) {
        size_t take = 64 - s->n_buf < len ? 64 - s->n_buf : len;
        memcpy(s->buf + s->n_buf, p, take);
        s->n_buf += take, p += take, len -= take;
        if (s->n_buf < 64)
            return;
        sha256_blocks(s->h, s->buf, 1);
        s->n_buf = 0;
    }
    if (len >= 64) {
        sha256_blocks(s->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    if (len)
        memcpy(s->buf, p, len);
    s->n_buf = len;
}

#ifndef STDBP_DIGEST_LE
/* Little-endian bytes of 64-bit words, a block of them at a time. */
static void update_words_le(stdbp_sha256 *s, const uint64_t *v, size_t n)
{
    uint8_t tmp[512];
    while (n) {
        size_t m = n < sizeof tmp / 8 ? n : sizeof tmp / 8;
        for (size_t i = 0; i < m; i++)
            for (int b = 0; b < 8; b++)
                tmp[8 * i + (size_t)b] = (uint8_t)(v[i] >> (8 * b));
        stdbp_sha256_update(s, tmp, 8 * m);
        v += m, n -= m;
    }
}
#endif

void stdbp_sha256_update_u64le(stdbp_sha256 *s, const uint64_t *v, size_t n)
{
#ifdef STDBP_DIGEST_LE
    stdbp_sha256_update(s, v, n * sizeof *v);
#else
    update_words_le(s, v, n);
#endif
}

void stdbp_sha256_update_f64le(stdbp_sha256 *s, const double *v, size_t n)
{
#ifdef STDBP_DIGEST_LE
    stdbp_sha256_update(s, v, n * sizeof *v);
#else
    uint64_t tmp[64];
    while (n) {
        size_t m = n < 64 ? n : 64;
        memcpy(tmp, v, m * sizeof *v); /* the bit pattern, not a conversion */
        update_words_le(s, tmp, m);
        v += m, n -= m;
    }
#endif
}

void stdbp_sha256_final(stdbp_sha256 *s, uint8_t out[STDBP_SHA256_LEN])
{
    uint64_t bits = s->n_bytes * 8;
    uint8_t pad[72] = {0x80};
    size_t npad = (s->n_buf < 56 ? 56 : 120) - s->n_buf;
    for (int b = 0; b < 8; b++)
        pad[npad + (size_t)b] = (uint8_t)(bits >> (56 - 8 * b));
    stdbp_sha256_update(s, pad, npad + 8);
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(s->h[i] >> (24 - 8 * b));
}

char *stdbp_sha256_hex(const uint8_t d[STDBP_SHA256_LEN], char hex[STDBP_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < STDBP_SHA256_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
    return hex;
}
