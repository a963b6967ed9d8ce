/* xoshiro256** (Blackman and Vigna) seeded through splitmix64, and
 * counter-based streams; see include/stdbp/rng.h. */
#include "stdbp/rng.h"

#include <math.h>

#define STDBP_GOLDEN UINT64_C(0x9e3779b97f4a7c15)

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The splitmix64 output function: a bijection on 64 bits with good
 * avalanche, so distinct inputs give unrelated-looking outputs. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x)
{
    *x += STDBP_GOLDEN;
    return mix64(*x);
}

/* Four consecutive splitmix64 outputs are never all zero (mix64 is a
 * bijection and only maps 0 to 0), so the xoshiro state is always valid. */
static void expand(stdbp_rng *rng, uint64_t x)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

void stdbp_rng_seed(stdbp_rng *rng, uint64_t seed)
{
    expand(rng, seed);
}

void stdbp_rng_stream(stdbp_rng *rng, uint64_t seed, uint64_t a, uint64_t b)
{
    /* Chain the key through the bijective mixer; each word enters with its
     * own odd offset so that (seed, a, b) and permutations of it differ,
     * and the domain constant keeps streams apart from stdbp_rng_seed. */
    uint64_t h = mix64(seed ^ UINT64_C(0x5354444250524e47)); /* "STDBPRNG" */
    h = mix64(h ^ (a + STDBP_GOLDEN));
    h = mix64(h ^ (b + UINT64_C(0xd1b54a32d192ed03)));
    expand(rng, h);
}

uint64_t stdbp_rng_next(stdbp_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double stdbp_rng_uniform(stdbp_rng *rng)
{
    return (double)(stdbp_rng_next(rng) >> 11) * 0x1.0p-53;
}

double stdbp_rng_normal(stdbp_rng *rng)
{
    /* u1 in (0, 1] so that log never sees 0. The sine half of the pair is
     * dropped: keeping it would put a spare outside the struct. */
    const double u1 = 1.0 - stdbp_rng_uniform(rng);
    const double u2 = stdbp_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t stdbp_rng_below(stdbp_rng *rng, uint64_t n)
{
    /* Reject the lowest 2^64 mod n values so that what remains is a whole
     * number of copies of [0, n). Plain 64-bit arithmetic (no __int128),
     * so every platform draws the same numbers. n == 0 (a caller's bug)
     * returns 0 rather than dividing by zero. */
    if (n == 0)
        return 0;
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
        const uint64_t r = stdbp_rng_next(rng);
        if (r >= threshold)
            return r % n;
    }
}
