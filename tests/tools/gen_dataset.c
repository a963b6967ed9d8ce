/* Write a small synthetic classification set in stdbp's HDF5 layout, for
 * tests that train: gen_dataset OUT.h5 N SIDE CLASSES SEED [flat]
 * (flat: /images is N x SIDE*SIDE vectors instead of N x 1 x SIDE x SIDE)
 * Class k lights a bar at a class-specific row (plus noise), so a small
 * network learns it in a few steps. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/rng.h"

int main(int argc, char **argv)
{
    int flat = argc == 7 && strcmp(argv[6], "flat") == 0;
    if (argc != 6 && !flat) {
        fprintf(stderr, "usage: gen_dataset OUT.h5 N SIDE CLASSES SEED [flat]\n");
        return 2;
    }
    size_t n = strtoul(argv[2], NULL, 10);
    int side = atoi(argv[3]), classes = atoi(argv[4]);
    stdbp_rng rng;
    stdbp_rng_seed(&rng, strtoull(argv[5], NULL, 10));
    if (n == 0 || side < 2 || classes < 2 || classes > side) {
        fprintf(stderr, "gen_dataset: need N > 0, SIDE >= 2, 2 <= CLASSES <= SIDE\n");
        return 2;
    }
    size_t dim = (size_t)side * (size_t)side;
    uint8_t *img = calloc(n * dim, 1);
    int32_t *lab = calloc(n, sizeof *lab);
    if (!img || !lab)
        return 1;
    for (size_t i = 0; i < n; i++) {
        int k = (int)stdbp_rng_below(&rng, (uint64_t)classes);
        int row = k * side / classes;
        lab[i] = k;
        for (size_t p = 0; p < dim; p++) {
            double v = stdbp_rng_uniform(&rng) < 0.1 ? 0.3 * stdbp_rng_uniform(&rng) : 0.0;
            if ((int)(p / (size_t)side) == row)
                v = 0.6 + 0.4 * stdbp_rng_uniform(&rng);
            img[i * dim + p] = (uint8_t)(255.0 * v);
        }
    }
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t idims[4] = {n, 1, (hsize_t)side, (hsize_t)side}, ldims[1] = {n};
    hsize_t fdims[2] = {n, (hsize_t)dim};
    hid_t is = flat ? H5Screate_simple(2, fdims, NULL) : H5Screate_simple(4, idims, NULL),
          ls = H5Screate_simple(1, ldims, NULL);
    hid_t id = H5Dcreate2(f, "images", H5T_STD_U8LE, is, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t ld = H5Dcreate2(f, "labels", H5T_STD_I32LE, ls, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int bad = f < 0 || id < 0 || ld < 0 ||
              H5Dwrite(id, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, img) < 0 ||
              H5Dwrite(ld, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab) < 0;
    H5Dclose(id);
    H5Dclose(ld);
    H5Sclose(is);
    H5Sclose(ls);
    bad |= H5Fclose(f) < 0;
    free(img);
    free(lab);
    if (bad)
        fprintf(stderr, "gen_dataset: cannot write %s\n", argv[1]);
    return bad;
}
