/* Random numbers: xoshiro256** with a seed expander, plus counter-based
 * streams keyed by (seed, a, b) so that a sample's randomness depends on
 * the seed, the epoch and the sample's index, never on which rank runs it.
 *
 * The whole state is the struct: copy it to save, copy it back to restore.
 * Not collective; no allocation; none of these can fail. */
#ifndef STDBP_RNG_H
#define STDBP_RNG_H

#include "stdbp/api.h"

#include <stdint.h>

typedef struct stdbp_rng {
    uint64_t s[4];
} stdbp_rng;

/* Seed from one 64-bit value (splitmix64 expansion; any seed is valid). */
STDBP_API void stdbp_rng_seed(stdbp_rng *rng, uint64_t seed);
/* An independent stream for the key (seed, a, b): e.g. a = epoch,
 * b = sample index. The same key always gives the same stream; distinct
 * keys give unrelated streams, also unrelated to stdbp_rng_seed(seed).
 * The key is hashed to 64 bits by a chain of bijections: keys differing
 * only in b never share a state; others collide with chance ~2^-64. */
STDBP_API void stdbp_rng_stream(stdbp_rng *rng, uint64_t seed, uint64_t a, uint64_t b);
/* Next 64 random bits. */
STDBP_API uint64_t stdbp_rng_next(stdbp_rng *rng);
/* Uniform in [0, 1), 53 bits. */
STDBP_API double stdbp_rng_uniform(stdbp_rng *rng);
/* Standard normal (Box-Muller; consumes two draws, keeps no spare). */
STDBP_API double stdbp_rng_normal(stdbp_rng *rng);
/* Uniform integer in [0, n) without modulo bias (rejection, so the
 * number of draws consumed varies); n > 0 (n == 0 returns 0). */
STDBP_API uint64_t stdbp_rng_below(stdbp_rng *rng, uint64_t n);

#endif
