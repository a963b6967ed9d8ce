/* Fixed-point gradient rounding shared by stdbp_grad_to_fixed and the
 * layers' row accumulation (private).
 *
 * The rule, in one place so that every path gives the same integers:
 * y = g * 2^STDBP_GRAD_FRAC_BITS is rounded to nearest (ties to even) by
 * adding 1.5 * 2^52: in [2^52, 2^53] a double's ulp is 1, so the addition
 * rounds and the low bits of the sum are the integer. The sum is clamped
 * to that interval, i.e. y to +-2^51 = +-STDBP_GRAD_FIXED_LIMIT * 2^32,
 * and NaN gives 0. No libm call, and
 * the loops stay vectorisable (SSE2 has no double -> int64 conversion). */
#ifndef STDBP_CORE_GRAD_FIXED_H
#define STDBP_CORE_GRAD_FIXED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stdbp/net.h"

#define STDBP_FIXED_SCALE 0x1p32   /* 2^STDBP_GRAD_FRAC_BITS */
#define STDBP_FIXED_MAGIC 0x1.8p52 /* 1.5 * 2^52 */
#define STDBP_FIXED_MAGIC_BITS 0x4338000000000000u

/* g scaled and offset by the magic constant, clamped to [2^52, 2^53]
 * (i.e. +-2^51 after the offset); NaN gives exactly the magic, i.e. 0.
 * The clamp comes last: with arithmetic after it gcc turns the selects
 * into branches and the row loop no longer vectorises. */
static inline double stdbp_fixed_biased(double g)
{
    double z = g * STDBP_FIXED_SCALE + STDBP_FIXED_MAGIC;
    double a = z > 0x1p53 ? 0x1p53 : z;
    double b = a < 0x1p52 ? 0x1p52 : a;
    return z == z ? b : STDBP_FIXED_MAGIC;
}

static inline int64_t stdbp_fixed_unbias(double z)
{
    uint64_t bits;
    memcpy(&bits, &z, sizeof bits);
    return (int64_t)(bits - STDBP_FIXED_MAGIC_BITS);
}

/* acc[j] += fixed(d[j]) for j < m, wrapping (two's complement) so that
 * sums stay associative even through an intermediate overflow. d is used
 * as scratch and overwritten. Returns nonzero if some d[j] is NaN or Inf
 * (which is still added, as 0 or the clamp). */
int stdbp_fixed_add_row(int64_t *restrict acc, double *restrict d, size_t m);

#endif
