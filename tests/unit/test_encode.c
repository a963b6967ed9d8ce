/* Latency encoding: t = t_max * (1 - x), silent zeros, normalisation, for
 * uint8 and float32 datasets. */
#include <math.h>
#include <string.h>

#include "stdbp/data.h"
#include "tap/basic.h"

int main(void)
{
    uint8_t u8[2 * 4] = {0, 51, 255, 102, /* sample 1: */ 0, 0, 0, 0};
    float f32[2 * 4] = {0.0f, 0.25f, 0.5f, 1.0f, /* sample 1: */ 0.0f, 0.1f, 0.4f, 0.2f};
    int32_t labels[2] = {0, 1};
    stdbp_dataset ds;
    stdbp_encoding enc = stdbp_encoding_defaults();
    double t[4];

    plan(24);
    is_double(1.0, enc.t_max, 0, "default t_max is 1");
    is_int(1, enc.zero_silent, "default zero_silent is 1");
    is_int(0, enc.normalise, "default normalise is 0");

    memset(&ds, 0, sizeof ds);
    ds.n = 2;
    ds.dim = 4;
    ds.shape.c = 1, ds.shape.h = 2, ds.shape.w = 2;
    ds.u8 = u8;
    ds.labels = labels;

    stdbp_encode(&enc, &ds, 0, t);
    is_double(INFINITY, t[0], 0, "uint8: 0 is silent");
    is_double(1.0 - 51 / 255.0, t[1], 1e-15, "uint8: 51 fires at 1 - 51/255");
    is_double(0.0, t[2], 0, "uint8: 255 fires at 0");
    is_double(1.0 - 102 / 255.0, t[3], 1e-15, "uint8: 102 fires at 1 - 102/255");

    enc.t_max = 4.0;
    enc.zero_silent = 0;
    stdbp_encode(&enc, &ds, 0, t);
    is_double(4.0, t[0], 0, "zero_silent 0: 0 fires at t_max");
    is_double(4.0 * (1.0 - 51 / 255.0), t[1], 1e-14, "t_max scales the times");

    enc.zero_silent = 1;
    enc.normalise = 1;
    ds.u8 = u8;
    u8[2] = 204;
    stdbp_encode(&enc, &ds, 0, t);
    is_double(0.0, t[2], 0, "normalise: the brightest pixel fires at 0");
    is_double(4.0 * (1.0 - 102 / 204.0), t[3], 1e-14, "normalise: others relative to it");
    is_double(INFINITY, t[0], 0, "normalise: 0 stays silent");
    stdbp_encode(&enc, &ds, 1, t);
    ok(isinf(t[0]) && isinf(t[1]) && isinf(t[2]) && isinf(t[3]),
       "normalise: an all-zero sample is all silent");
    enc.zero_silent = 0;
    stdbp_encode(&enc, &ds, 1, t);
    ok(t[0] == 4.0 && t[3] == 4.0, "normalise, zero_silent 0: an all-zero sample fires at t_max");

    /* float32. */
    ds.u8 = NULL;
    ds.f32 = f32;
    enc = stdbp_encoding_defaults();
    stdbp_encode(&enc, &ds, 0, t);
    is_double(INFINITY, t[0], 0, "float32: 0 is silent");
    is_double(0.75, t[1], 0, "float32: 0.25 fires at 0.75");
    is_double(0.5, t[2], 0, "float32: 0.5 fires at 0.5");
    is_double(0.0, t[3], 0, "float32: 1 fires at 0");
    enc.normalise = 1;
    stdbp_encode(&enc, &ds, 1, t);
    is_double(0.0, t[2], 0, "float32 normalise: the largest fires at 0");
    is_double(0.5, t[3], 1e-7, "float32 normalise: 0.2 of 0.4 fires at 0.5");
    is_double(0.75, t[1], 1e-7, "float32 normalise: 0.1 of 0.4 fires at 0.75");

    /* NULL encoding means the defaults. */
    stdbp_encode(NULL, &ds, 0, t);
    ok(isinf(t[0]) && t[1] == 0.75 && t[3] == 0.0, "NULL encoding: the defaults");

    /* Sample i reads its own row. */
    ds.f32 = NULL;
    ds.u8 = u8;
    u8[4 + 1] = 255;
    stdbp_encode(NULL, &ds, 1, t);
    ok(isinf(t[0]) && t[1] == 0.0 && isinf(t[2]), "sample 1 reads row 1");
    is_double(1.0, stdbp_dataset_pixel(&ds, 1, 1), 0, "pixel matches");
    return 0;
}
