/* gen_events KIND PATH N [SEED]: a small learnable event data set for the
 * tests, in the layout KIND: own (events:PATH, shape (2, 6, 6), 4
 * classes, times in [0, 1)), shd (shd:PATH, 700 channels, 4 classes,
 * seconds) or nmnist (nmnist:PATH, folders 0 .. 9, microseconds). */
#include "gen_events.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: gen_events own|shd|nmnist PATH N [SEED]\n");
        return 2;
    }
    const size_t n = (size_t)strtoull(argv[3], NULL, 10);
    const uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    int rc;
    if (strcmp(argv[1], "own") == 0) {
        gen_ev g = gen_events_make(n, 72, 4, 1.0, seed);
        const int64_t shape[3] = {2, 6, 6};
        rc = gen_write_own(argv[2], &g, shape, 3);
        gen_events_free(&g);
    } else if (strcmp(argv[1], "shd") == 0) {
        gen_ev g = gen_events_make(n, 700, 4, 1.0, seed);
        rc = gen_write_shd(argv[2], &g);
        gen_events_free(&g);
    } else if (strcmp(argv[1], "nmnist") == 0) {
        gen_ev g = gen_events_make(n, 2 * 34 * 34, 10, 300000.0, seed);
        rc = gen_write_nmnist(argv[2], &g);
        gen_events_free(&g);
    } else {
        fprintf(stderr, "gen_events: unknown kind %s\n", argv[1]);
        return 2;
    }
    if (rc)
        fprintf(stderr, "gen_events: writing %s failed\n", argv[2]);
    return rc;
}
