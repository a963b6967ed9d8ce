/* Random rotation and scaling of an encoded image, nearest neighbour:
 * every output pixel takes the spike time of the input pixel its centre
 * maps back to, so spike times are never interpolated (there is no
 * halfway between a spike and silence). See include/stdbp/data.h. */
#include "stdbp/data.h"

#include <math.h>

void stdbp_affine_times(const double *in, stdbp_shape shape, double angle, double scale,
                        double *out)
{
    /* Inverse map about the image centre: the output pixel (y, x) looks
     * at the input point R(-angle) (p - c) / scale + c. */
    const double cy = 0.5 * (shape.h - 1), cx = 0.5 * (shape.w - 1);
    const double ca = cos(angle) / scale, sa = sin(angle) / scale;
    const size_t plane = (size_t)shape.h * shape.w;
    for (int y = 0; y < shape.h; y++)
        for (int x = 0; x < shape.w; x++) {
            const double dy = y - cy, dx = x - cx;
            const double sy = cy + ca * dy - sa * dx, sx = cx + sa * dy + ca * dx;
            const double ry = floor(sy + 0.5), rx = floor(sx + 0.5);
            const int inside = ry >= 0 && ry < shape.h && rx >= 0 && rx < shape.w;
            const size_t src = inside ? (size_t)ry * shape.w + (size_t)rx : 0;
            for (int c = 0; c < shape.c; c++)
                out[c * plane + (size_t)y * shape.w + x] = inside ? in[c * plane + src] : INFINITY;
        }
}
