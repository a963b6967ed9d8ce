/* Training-time augmentation: the translation moves pixels exactly and
 * fills with silence, the random draw covers [-shift, shift]^2 and depends
 * only on (seed, epoch, index), jitter moves spikes but never silence,
 * drop silences spikes at the set rate. */
#include <math.h>
#include <string.h>

#include "stdbp/data.h"
#include "tap/basic.h"

#define H 9
#define W 9

/* Where the single spike of an impulse image ended up: dy, dx from the
 * centre; returns 0 if there is not exactly one spike. */
static int find_impulse(const double *t, int *dy, int *dx)
{
    int found = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (isfinite(t[y * W + x])) {
                found++;
                *dy = y - H / 2;
                *dx = x - W / 2;
            }
    return found == 1;
}

static void impulse(double *t)
{
    for (int k = 0; k < H * W; k++)
        t[k] = INFINITY;
    t[(H / 2) * W + W / 2] = 0.25;
}

int main(void)
{
    stdbp_shape s2 = {2, 3, 4};
    double in[24], out[24], t[H * W], scratch[H * W], ref[H * W];
    stdbp_shape img = {1, H, W};
    stdbp_augment aug = stdbp_augment_defaults();

    plan(30);
    ok(aug.shift == 0 && aug.jitter == 0.0, "defaults: no augmentation");
    for (int k = 0; k < 24; k++)
        in[k] = k;
    memcpy(out, in, sizeof in);
    stdbp_augment_apply(&aug, 1, 0, 5, s2, out, scratch);
    ok(memcmp(out, in, sizeof in) == 0, "defaults leave the sample bitwise unchanged");

    /* dy = 1 (down), dx = -1 (left): out[c][y][x] = in[c][y-1][x+1]. */
    stdbp_shift_times(in, s2, 1, -1, out);
    int good = 1;
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                double got = out[c * 12 + y * 4 + x];
                int sy = y - 1, sx = x + 1;
                double want = (sy >= 0 && sx < 4) ? in[c * 12 + sy * 4 + sx] : INFINITY;
                good &= got == want;
            }
    ok(good, "shift (1, -1) moves every pixel of both channels, silence shifted in");
    ok(isinf(out[0]) && isinf(out[3]) && isinf(out[7]) && out[4] == 1.0 && out[12 + 4] == 13.0,
       "shift (1, -1): spot values (top row and right column silent)");
    stdbp_shift_times(in, s2, 0, 0, out);
    ok(memcmp(out, in, sizeof in) == 0, "shift (0, 0) is the identity");
    stdbp_shift_times(in, s2, 3, 0, out);
    good = 1;
    for (int k = 0; k < 24; k++)
        good &= isinf(out[k]);
    ok(good, "a shift by the whole height leaves a silent image");

    /* The random draw. */
    aug.shift = 2;
    int seen[5][5] = {{0}};
    int bounded = 1, single = 1;
    for (size_t i = 0; i < 2000; i++) {
        int dy = 0, dx = 0;
        impulse(t);
        stdbp_augment_apply(&aug, 7, 3, i, img, t, scratch);
        single &= find_impulse(t, &dy, &dx);
        bounded &= dy >= -2 && dy <= 2 && dx >= -2 && dx <= 2;
        if (dy >= -2 && dy <= 2 && dx >= -2 && dx <= 2)
            seen[dy + 2][dx + 2]++;
    }
    ok(single, "shift 2: an impulse stays a single spike");
    ok(bounded, "shift 2: every translation lies in [-2, 2]^2");
    int all = 1, balanced = 1;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            all &= seen[a][b] > 0;
            balanced &= seen[a][b] > 40 && seen[a][b] < 120; /* 80 expected */
        }
    ok(all, "shift 2: all 25 translations occur in 2000 draws");
    ok(balanced, "shift 2: each translation occurs 40..120 times of 2000 (80 expected)");

    /* Same key, same result; another epoch or seed, another sequence. */
    int same = 1, other_epoch = 0, other_seed = 0;
    for (size_t i = 0; i < 50; i++) {
        impulse(t);
        stdbp_augment_apply(&aug, 7, 3, i, img, t, scratch);
        impulse(ref);
        stdbp_augment_apply(&aug, 7, 3, i, img, ref, scratch);
        same &= memcmp(t, ref, sizeof t) == 0;
        impulse(ref);
        stdbp_augment_apply(&aug, 7, 4, i, img, ref, scratch);
        other_epoch += memcmp(t, ref, sizeof t) != 0;
        impulse(ref);
        stdbp_augment_apply(&aug, 8, 3, i, img, ref, scratch);
        other_seed += memcmp(t, ref, sizeof t) != 0;
    }
    ok(same, "the same (seed, epoch, index) gives the same translation");
    ok(other_epoch > 30, "another epoch gives other translations (%d of 50 differ)", other_epoch);
    ok(other_seed > 30, "another seed gives other translations (%d of 50 differ)", other_seed);

    /* Jitter: silence stays silent, times stay >= 0, noise has the s.d. */
    aug.shift = 0;
    aug.jitter = 0.05;
    double sum = 0, sum2 = 0;
    int n = 0, silent_kept = 1, nonneg = 1;
    for (size_t i = 0; i < 200; i++) {
        for (int k = 0; k < H * W; k++)
            t[k] = (k % 3 == 0) ? INFINITY : 0.5;
        stdbp_augment_apply(&aug, 1, 0, i, img, t, scratch);
        for (int k = 0; k < H * W; k++) {
            if (k % 3 == 0) {
                silent_kept &= isinf(t[k]);
                continue;
            }
            nonneg &= t[k] >= 0.0;
            sum += t[k] - 0.5;
            sum2 += (t[k] - 0.5) * (t[k] - 0.5);
            n++;
        }
    }
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    ok(silent_kept && nonneg, "jitter: silent inputs stay silent, times stay >= 0");
    is_double(0.0, mean, 0.003, "jitter: mean offset ~0 over %d spikes", n);
    is_double(0.05, sd, 0.003, "jitter: s.d. 0.05 over %d spikes", n);

    /* Rotation and scaling: nearest neighbour about the centre. */
    double a[H * W], b[H * W];
    for (int k = 0; k < H * W; k++)
        a[k] = 0.01 * k;
    stdbp_affine_times(a, img, 0.0, 1.0, b);
    ok(memcmp(a, b, sizeof a) == 0, "affine: angle 0, scale 1 is the identity");
    /* +90 degrees turns the image clockwise as shown (row 0 on top): the
     * top row becomes the right column, out[y][x] = in[W-1-x][y]. */
    stdbp_affine_times(a, img, 3.14159265358979323846 / 2, 1.0, b);
    good = 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            good &= b[y * W + x] == a[(W - 1 - x) * W + y];
    ok(good, "affine: 90 degrees moves every pixel exactly (out[y][x] = in[W-1-x][y])");
    impulse(t);
    stdbp_affine_times(t, img, 0.3, 1.0, b);
    int dy = 9, dx = 9;
    ok(find_impulse(b, &dy, &dx) && dy == 0 && dx == 0 && b[(H / 2) * W + W / 2] == 0.25,
       "affine: the centre stays, its time unchanged");
    stdbp_affine_times(a, img, 0.0, 2.0, b);
    ok(b[0] == a[2 * W + 2] && b[(H - 1) * W + W - 1] == a[6 * W + 6],
       "affine: scale 2 magnifies about the centre (corners from (2,2) and (6,6))");
    stdbp_affine_times(a, img, 0.0, 0.5, b);
    ok(isinf(b[0]) && b[(H / 2) * W + W / 2] == a[(H / 2) * W + W / 2],
       "affine: scale 0.5 brings silence in at the border");
    /* Through stdbp_augment_apply: deterministic per (seed, epoch,
     * index); the multiset of spike times is kept up to pixels that
     * leave or repeat, so a rotation of an impulse keeps one spike. */
    aug = stdbp_augment_defaults();
    aug.rotate = 30;
    aug.scale = 0.1;
    int same_draw = 1, moved = 0;
    for (size_t i = 0; i < 20; i++) {
        for (int k = 0; k < H * W; k++)
            t[k] = ref[k] = 0.01 * k;
        stdbp_augment_apply(&aug, 7, 3, i, img, t, scratch);
        stdbp_augment_apply(&aug, 7, 3, i, img, ref, scratch);
        same_draw &= memcmp(t, ref, sizeof t) == 0;
        for (int k = 0; k < H * W; k++)
            moved += t[k] != 0.01 * k;
    }
    ok(same_draw, "affine: the same (seed, epoch, index) gives the same image");
    ok(moved > 20 * H * W / 4, "affine: rotations up to 30 degrees move most pixels (%d)", moved);

    /* flip: each sample is either unchanged or mirrored left-right, about
     * half of them mirrored, the draw fixed by (seed, epoch, index). */
    stdbp_augment fl = stdbp_augment_defaults();
    fl.flip = 1;
    int mirrored = 0, exact = 1, again = 1;
    for (size_t i = 0; i < 200; i++) {
        for (int k = 0; k < 24; k++)
            out[k] = in[k];
        stdbp_augment_apply(&fl, 3, 1, i, s2, out, scratch);
        int unchanged = memcmp(out, in, sizeof in) == 0, mirror = 1;
        for (int r = 0; r < 6; r++)
            for (int x = 0; x < 4; x++)
                mirror &= out[r * 4 + x] == in[r * 4 + 3 - x];
        exact &= unchanged != mirror;
        mirrored += mirror;
        double out2[24];
        memcpy(out2, in, sizeof in);
        stdbp_augment_apply(&fl, 3, 1, i, s2, out2, scratch);
        again &= memcmp(out, out2, sizeof out) == 0;
    }
    ok(exact && mirrored > 70 && mirrored < 130,
       "flip: unchanged or mirrored in every channel, %d of 200 mirrored", mirrored);
    ok(again, "flip: the same (seed, epoch, index) gives the same choice");
    /* an odd width keeps its middle column */
    impulse(t);
    t[3 * W + 0] = 0.5;
    memcpy(ref, t, sizeof t);
    int found = 0;
    for (size_t i = 0; i < 20 && !found; i++) {
        memcpy(t, ref, sizeof t);
        stdbp_augment_apply(&fl, 3, 1, i, img, t, scratch);
        found = t[3 * W + W - 1] == 0.5 && isinf(t[3 * W + 0]) && t[(H / 2) * W + W / 2] == 0.25;
    }
    ok(found, "flip: column x goes to W - 1 - x, the middle column stays");

    /* Drop: each spike silenced with probability drop, the others kept to
     * the bit; silence draws nothing and stays silent. */
    stdbp_augment dr = stdbp_augment_defaults();
    dr.drop = 0.25;
    int dropped = 0, spikes = 0, kept_exact = 1, silent_stays = 1, same_drop = 1, differ = 0;
    for (size_t i = 0; i < 400; i++) {
        for (int k = 0; k < H * W; k++)
            ref[k] = (k % 4 == 0) ? INFINITY : 0.01 * k;
        memcpy(t, ref, sizeof t);
        stdbp_augment_apply(&dr, 5, 2, i, img, t, scratch);
        double t2[H * W];
        memcpy(t2, ref, sizeof t2);
        stdbp_augment_apply(&dr, 5, 2, i, img, t2, scratch);
        same_drop &= memcmp(t, t2, sizeof t) == 0;
        memcpy(t2, ref, sizeof t2);
        stdbp_augment_apply(&dr, 5, 3, i, img, t2, scratch);
        differ += memcmp(t, t2, sizeof t) != 0;
        for (int k = 0; k < H * W; k++) {
            if (k % 4 == 0) {
                silent_stays &= isinf(t[k]);
                continue;
            }
            spikes++;
            dropped += isinf(t[k]);
            kept_exact &= isinf(t[k]) || t[k] == ref[k];
        }
    }
    ok(silent_stays && kept_exact, "drop: silence stays silent, kept spikes keep their times");
    is_double(0.25, (double)dropped / spikes, 0.01, "drop 0.25: %d of %d spikes dropped", dropped,
              spikes);
    ok(same_drop, "drop: the same (seed, epoch, index) drops the same spikes");
    ok(differ > 390, "drop: another epoch drops others (%d of 400 samples differ)", differ);
    return 0;
}
