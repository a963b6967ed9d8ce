/* Latency encoding of one sample; see include/stdbp/data.h. */
#include "stdbp/data.h"

#include <math.h>

stdbp_encoding stdbp_encoding_defaults(void)
{
    stdbp_encoding e;
    e.t_max = 1.0;
    e.zero_silent = 1;
    e.normalise = 0;
    e.ev_time_scale = 1.0;
    e.ev_window = INFINITY;
    e.ev_first_k = 0;
    e.ev_ttfs = 0;
    return e;
}

/* x in [0, 1] -> time. */
static double encode_one(const stdbp_encoding *enc, double x)
{
    if (enc->zero_silent && x <= 0.0)
        return INFINITY;
    if (x < 0.0)
        x = 0.0;
    else if (x > 1.0)
        x = 1.0;
    return enc->t_max * (1.0 - x);
}

void stdbp_encode(const stdbp_encoding *enc, const stdbp_dataset *ds, size_t i, double *times)
{
    stdbp_encoding def = stdbp_encoding_defaults();
    size_t k, dim = ds->dim;
    if (!enc)
        enc = &def;
    if (ds->u8) {
        const uint8_t *p = ds->u8 + i * dim;
        double denom = 255.0;
        if (enc->normalise) {
            unsigned m = 0;
            for (k = 0; k < dim; k++)
                m = p[k] > m ? p[k] : m;
            if (m > 0)
                denom = m;
        }
        if (dim > 256) { /* each of the 256 values once, the same bits */
            double table[256];
            for (k = 0; k < 256; k++)
                table[k] = encode_one(enc, (double)k / denom);
            for (k = 0; k < dim; k++)
                times[k] = table[p[k]];
        } else {
            for (k = 0; k < dim; k++)
                times[k] = encode_one(enc, p[k] / denom);
        }
    } else if (ds->f32) {
        const float *p = ds->f32 + i * dim;
        double denom = 1.0;
        if (enc->normalise) {
            float m = 0.0f;
            for (k = 0; k < dim; k++)
                m = p[k] > m ? p[k] : m;
            if (m > 0.0f)
                denom = m;
        }
        for (k = 0; k < dim; k++)
            times[k] = encode_one(enc, p[k] / denom);
    } else if (ds->ev_off) { /* events: each channel's first (sorted by time) */
        for (k = 0; k < dim; k++)
            times[k] = INFINITY;
        for (int64_t q = ds->ev_off[i]; q < ds->ev_off[i + 1]; q++) {
            const double t = ds->ev_t[q] * enc->ev_time_scale;
            if (t >= enc->ev_window)
                break;
            if (times[ds->ev_ch[q]] == INFINITY)
                times[ds->ev_ch[q]] = t;
        }
    } else {
        for (k = 0; k < dim; k++)
            times[k] = encode_one(enc, 0.0);
    }
}
