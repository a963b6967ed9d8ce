/* Writers of event data sets in the three layouts stdbp reads (own HDF5,
 * SHD's HDF5, N-MNIST's binary files), for the tests. Header-only
 * (static); the data: n samples, label i % classes, and for each sample
 * events on the channels of its class's band (so that they can be
 * learnt), several per channel, from a seeded generator. Each writer
 * returns 0 on success. */
#ifndef STDBP_TEST_GEN_EVENTS_H
#define STDBP_TEST_GEN_EVENTS_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct gen_ev {
    size_t n;        /* samples */
    int64_t *off;    /* n + 1 */
    double *t;       /* times */
    uint32_t *ch;    /* channels */
    int32_t *labels; /* n */
} gen_ev;

static uint64_t gen_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n samples over dim channels, classes classes; times in [0, t_span). */
static gen_ev gen_events_make(size_t n, uint32_t dim, int classes, double t_span, uint64_t seed)
{
    gen_ev g;
    uint64_t s = seed * 2654435761u + 88172645463325252ull;
    size_t cap = n * 40 + 1, k = 0;
    g.n = n;
    g.off = calloc(n + 1, sizeof *g.off);
    g.t = malloc(cap * sizeof *g.t);
    g.ch = malloc(cap * sizeof *g.ch);
    g.labels = malloc((n ? n : 1) * sizeof *g.labels);
    const uint32_t band = dim / (uint32_t)classes ? dim / (uint32_t)classes : 1;
    for (size_t i = 0; i < n; i++) {
        const int c = (int)(i % (size_t)classes);
        const size_t m = 10 + gen_next(&s) % 30;
        g.labels[i] = c;
        for (size_t j = 0; j < m; j++, k++) {
            const int noise = gen_next(&s) % 4 == 0;
            g.ch[k] = noise ? (uint32_t)(gen_next(&s) % dim)
                            : ((uint32_t)c * band + (uint32_t)(gen_next(&s) % band)) % dim;
            g.t[k] = t_span * (double)(gen_next(&s) % 1000) / 1000.0;
        }
        g.off[i + 1] = (int64_t)k;
    }
    return g;
}

static void gen_events_free(gen_ev *g)
{
    free(g->off);
    free(g->t);
    free(g->ch);
    free(g->labels);
}

static int gen_put_dcpl(hid_t loc, const char *name, hid_t ft, hid_t mt, hsize_t n,
                        const void *data, hid_t dcpl)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(loc, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

static int gen_put(hid_t loc, const char *name, hid_t ft, hid_t mt, hsize_t n, const void *data)
{
    return gen_put_dcpl(loc, name, ft, mt, n, data, H5P_DEFAULT);
}

/* The own layout; shape has ndim (1 or 3) values. */
static int gen_write_own(const char *path, const gen_ev *g, const int64_t *shape, int ndim)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return 1;
    const hsize_t e = (hsize_t)g->off[g->n], nd = (hsize_t)ndim;
    int rc = gen_put(f, "times", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, e, g->t) ||
             gen_put(f, "units", H5T_STD_U32LE, H5T_NATIVE_UINT32, e, g->ch) ||
             gen_put(f, "offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, g->n + 1, g->off) ||
             gen_put(f, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, g->n, g->labels);
    hid_t sp = H5Screate_simple(1, &nd, NULL);
    hid_t a = H5Acreate2(f, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    rc |= a < 0 || H5Awrite(a, H5T_NATIVE_INT64, shape) < 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Fclose(f);
    return rc;
}

/* SHD's layout: /spikes/times (vlen float32, seconds), /spikes/units
 * (vlen uint16), /labels (uint16); the two vlen datasets are created with
 * dcpl (H5P_DEFAULT: contiguous). */
static int gen_write_shd_dcpl(const char *path, const gen_ev *g, hid_t dcpl)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return 1;
    hid_t grp = H5Gcreate2(f, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hvl_t *vt = calloc(g->n + 1, sizeof *vt), *vu = calloc(g->n + 1, sizeof *vu);
    float *tf = malloc(((size_t)g->off[g->n] + 1) * sizeof *tf);
    uint16_t *uu = malloc(((size_t)g->off[g->n] + 1) * sizeof *uu);
    uint16_t *lab = malloc((g->n + 1) * sizeof *lab);
    for (size_t k = 0; k < (size_t)g->off[g->n]; k++) {
        tf[k] = (float)g->t[k];
        uu[k] = (uint16_t)g->ch[k];
    }
    for (size_t i = 0; i < g->n; i++) {
        vt[i].len = vu[i].len = (size_t)(g->off[i + 1] - g->off[i]);
        vt[i].p = tf + g->off[i];
        vu[i].p = uu + g->off[i];
        lab[i] = (uint16_t)g->labels[i];
    }
    hid_t ft = H5Tvlen_create(H5T_IEEE_F32LE), mt = H5Tvlen_create(H5T_NATIVE_FLOAT);
    hid_t fu = H5Tvlen_create(H5T_STD_U16LE), mu = H5Tvlen_create(H5T_NATIVE_UINT16);
    int rc = gen_put_dcpl(grp, "times", ft, mt, g->n, vt, dcpl) ||
             gen_put_dcpl(grp, "units", fu, mu, g->n, vu, dcpl) ||
             gen_put(f, "labels", H5T_STD_U16LE, H5T_NATIVE_UINT16, g->n, lab);
    H5Tclose(ft);
    H5Tclose(mt);
    H5Tclose(fu);
    H5Tclose(mu);
    H5Gclose(grp);
    H5Fclose(f);
    free(vt);
    free(vu);
    free(tf);
    free(uu);
    free(lab);
    return rc;
}

static int gen_write_shd(const char *path, const gen_ev *g)
{
    return gen_write_shd_dcpl(path, g, H5P_DEFAULT);
}

/* One N-MNIST event: 5 bytes. */
static void gen_nmnist_event(unsigned char *b, unsigned x, unsigned y, unsigned p, uint32_t ts)
{
    b[0] = (unsigned char)x;
    b[1] = (unsigned char)y;
    b[2] = (unsigned char)((p << 7) | ((ts >> 16) & 0x7f));
    b[3] = (unsigned char)(ts >> 8);
    b[4] = (unsigned char)ts;
}

/* N-MNIST's folders dir/0 .. dir/9, one file per sample (g over the
 * 2 x 34 x 34 channels, times in microseconds). */
static int gen_write_nmnist(const char *dir, const gen_ev *g)
{
    char path[4096];
    mkdir(dir, 0755);
    for (int d = 0; d < 10; d++) {
        snprintf(path, sizeof path, "%s/%d", dir, d);
        mkdir(path, 0755);
    }
    for (size_t i = 0; i < g->n; i++) {
        snprintf(path, sizeof path, "%s/%d/%05zu.bin", dir, (int)g->labels[i] % 10, i);
        FILE *f = fopen(path, "wb");
        if (!f)
            return 1;
        for (int64_t k = g->off[i]; k < g->off[i + 1]; k++) {
            unsigned char b[5];
            const uint32_t c = g->ch[k], p = c / (34 * 34), r = c % (34 * 34);
            gen_nmnist_event(b, r % 34, r / 34, p, (uint32_t)g->t[k]);
            fwrite(b, 1, 5, f);
        }
        if (fclose(f) != 0)
            return 1;
    }
    return 0;
}

#endif
