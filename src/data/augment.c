/* Training-time augmentation: random rotation and scaling
 * (augment_affine.c), translation, left-right mirror, spike-time jitter
 * and dropped spikes; see include/stdbp/data.h. */
#include "stdbp/data.h"

#include <math.h>

#include "stdbp/rng.h"

stdbp_augment stdbp_augment_defaults(void)
{
    stdbp_augment a;
    a.shift = 0;
    a.jitter = 0.0;
    a.rotate = 0.0;
    a.scale = 0.0;
    a.flip = 0;
    a.drop = 0.0;
    return a;
}

void stdbp_shift_times(const double *in, stdbp_shape shape, int dy, int dx, double *out)
{
    for (int c = 0; c < shape.c; c++) {
        const double *src = in + (size_t)c * shape.h * shape.w;
        double *dst = out + (size_t)c * shape.h * shape.w;
        for (int y = 0; y < shape.h; y++) {
            int sy = y - dy;
            for (int x = 0; x < shape.w; x++) {
                int sx = x - dx;
                int inside = sy >= 0 && sy < shape.h && sx >= 0 && sx < shape.w;
                dst[(size_t)y * shape.w + x] = inside ? src[(size_t)sy * shape.w + sx] : INFINITY;
            }
        }
    }
}

void stdbp_augment_apply(const stdbp_augment *aug, uint64_t seed, uint64_t epoch, size_t i,
                         stdbp_shape shape, double *times, double *scratch)
{
    const int affine = aug->rotate > 0.0 || aug->scale > 0.0;
    if (aug->shift <= 0 && !(aug->jitter > 0.0) && !affine && !aug->flip && !(aug->drop > 0.0))
        return;
    stdbp_rng rng;
    stdbp_rng_stream(&rng, seed ^ STDBP_SEED_AUGMENT, epoch, (uint64_t)i);
    size_t dim = (size_t)shape.c * shape.h * shape.w;
    if (affine) {
        const double deg = aug->rotate > 0.0 ? aug->rotate * (2 * stdbp_rng_uniform(&rng) - 1) : 0;
        const double f = aug->scale > 0.0 ? 1 + aug->scale * (2 * stdbp_rng_uniform(&rng) - 1) : 1;
        stdbp_affine_times(times, shape, deg * (3.14159265358979323846 / 180), f, scratch);
        for (size_t k = 0; k < dim; k++)
            times[k] = scratch[k];
    }
    if (aug->shift > 0) {
        uint64_t span = 2 * (uint64_t)aug->shift + 1;
        int dy = (int)stdbp_rng_below(&rng, span) - aug->shift;
        int dx = (int)stdbp_rng_below(&rng, span) - aug->shift;
        if (dy != 0 || dx != 0) {
            stdbp_shift_times(times, shape, dy, dx, scratch);
            for (size_t k = 0; k < dim; k++)
                times[k] = scratch[k];
        }
    }
    if (aug->flip && stdbp_rng_below(&rng, 2)) /* left-right, in place */
        for (size_t row = 0; row < (size_t)shape.c * shape.h; row++) {
            double *r = times + row * shape.w;
            for (int x = 0; x < shape.w / 2; x++) {
                const double v = r[x];
                r[x] = r[shape.w - 1 - x];
                r[shape.w - 1 - x] = v;
            }
        }
    if (aug->jitter > 0.0) {
        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(times[k]))
                continue;
            double t = times[k] + aug->jitter * stdbp_rng_normal(&rng);
            times[k] = t > 0.0 ? t : 0.0;
        }
    }
    if (aug->drop > 0.0) /* one draw per spike: silence draws nothing */
        for (size_t k = 0; k < dim; k++)
            if (isfinite(times[k]) && stdbp_rng_uniform(&rng) < aug->drop)
                times[k] = INFINITY;
}
