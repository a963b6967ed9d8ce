/* Event data sets: the three readers on files written here in their
 * published layouts (own HDF5, SHD's HDF5, N-MNIST's binary files), their
 * refusals of bad input (naming the file and the place), the selection
 * options (time scale, window, first k, time to first spike) and the
 * event augmentation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/gen_events.h"
#include "stdbp/stdbp.h"
#include "tap/basic.h"

static char dir[] = "/tmp/stdbp_evdata_XXXXXX";

static char *at(const char *name)
{
    static char buf[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Sample i of ds holds g's events of sample i, sorted by (time, channel). */
static int same_sample(const stdbp_dataset *ds, size_t i, const gen_ev *g, size_t gi, int as_float)
{
    const int64_t a = ds->ev_off[i], m = ds->ev_off[i + 1] - a, b = g->off[gi];
    if (m != g->off[gi + 1] - b)
        return 0;
    int *used = calloc((size_t)m + 1, sizeof *used), okv = 1;
    for (int64_t k = 0; k < m && okv; k++) {
        if (k > 0 &&
            (ds->ev_t[a + k] < ds->ev_t[a + k - 1] ||
             (ds->ev_t[a + k] == ds->ev_t[a + k - 1] && ds->ev_ch[a + k] < ds->ev_ch[a + k - 1])))
            okv = 0;
        int found = 0;
        for (int64_t j = 0; j < m && !found; j++) {
            const double tg = as_float ? (double)(float)g->t[b + j] : g->t[b + j];
            if (!used[j] && g->ch[b + j] == ds->ev_ch[a + k] && tg == ds->ev_t[a + k])
                used[j] = found = 1;
        }
        okv &= found;
    }
    free(used);
    return okv;
}

static void test_own(void)
{
    stdbp_dataset ds;
    stdbp_err err;
    gen_ev g = gen_events_make(50, 72, 4, 1.0, 3);
    const int64_t shape[3] = {2, 6, 6};
    if (gen_write_own(at("own.h5"), &g, shape, 3))
        bail("writing own.h5");
    stdbp_status st = stdbp_events_load(at("own.h5"), &ds, &err);
    ok(st == STDBP_OK, "own layout loads: %s", st ? err.msg : "ok");
    int all = st == STDBP_OK && ds.n == 50 && ds.dim == 72 && ds.shape.c == 2 && ds.shape.h == 6 &&
              ds.n_classes == 4 && !ds.u8 && !ds.f32 && stdbp_dataset_is_events(&ds);
    for (size_t i = 0; all && i < ds.n; i++)
        all = ds.labels[i] == g.labels[i] && same_sample(&ds, i, &g, i, 0);
    ok(all, "own layout: shape (2, 6, 6), labels, every event, sorted by (time, channel)");
    stdbp_dataset_free(&ds);
    st = stdbp_dataset_open(at("nope.h5") - 0, NULL, NULL, &ds, &err);
    ok(st != STDBP_OK, "a name without a form is not an event set");
    char name[4200];
    snprintf(name, sizeof name, "events:%s", at("own.h5"));
    st = stdbp_dataset_open(name, NULL, "test", &ds, &err);
    ok(st == STDBP_OK && ds.n == 50 && stdbp_dataset_name_is_events(name),
       "stdbp_dataset_open(events:PATH)");
    stdbp_dataset_free(&ds);
    ok(stdbp_dataset_open("events:", NULL, NULL, &ds, &err) == STDBP_EINVAL &&
           strstr(err.msg, "no path"),
       "events: without a path: %s", err.msg);

    /* Damage, one at a time; the message names the file and the place. */
    struct {
        const char *what, *expect;
        int kind;
    } bad[] = {
        {"decreasing offsets", "/offsets[3]", 0},
        {"a channel past the shape", "/units[", 1},
        {"a NaN time", "/times[", 2},
        {"a negative time", "time -1", 3},
        {"offsets that do not start at 0", "/offsets[0] is 1", 4},
        {"no /labels", "no dataset /labels", 5},
        {"no shape attribute", "attribute shape", 6},
        {"a label out of range", "/labels[", 7},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        gen_ev h = gen_events_make(6, 72, 4, 1.0, 5);
        int64_t sh[3] = {2, 6, 6};
        switch (bad[c].kind) {
        case 0:
            h.off[3] = h.off[2] - 1;
            break;
        case 1:
            h.ch[4] = 72;
            break;
        case 2:
            h.t[2] = NAN;
            break;
        case 3:
            h.t[1] = -1;
            break;
        case 4:
            h.off[0] = 1;
            break;
        case 7:
            h.labels[2] = -3;
            break;
        }
        const char *p = at("bad.h5");
        if (gen_write_own(p, &h, sh, 3))
            bail("writing bad.h5");
        if (bad[c].kind >= 5) { /* remove an object */
            hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
            if (bad[c].kind == 5)
                H5Ldelete(f, "labels", H5P_DEFAULT);
            else if (bad[c].kind == 6)
                H5Adelete(f, "shape");
            H5Fclose(f);
        }
        st = stdbp_events_load(p, &ds, &err);
        ok(st != STDBP_OK && strstr(err.msg, p) && strstr(err.msg, bad[c].expect) &&
               ds.ev_off == NULL,
           "own layout, %s: refused: %s", bad[c].what, err.msg);
        gen_events_free(&h);
    }
    gen_events_free(&g);
}

static void test_shd(void)
{
    stdbp_dataset ds;
    stdbp_err err;
    gen_ev g = gen_events_make(30, 700, 4, 1.0, 4);
    if (gen_write_shd(at("shd.h5"), &g))
        bail("writing shd.h5");
    char name[4200];
    snprintf(name, sizeof name, "shd:%s", at("shd.h5"));
    stdbp_status st = stdbp_dataset_open(name, NULL, NULL, &ds, &err);
    ok(st == STDBP_OK, "SHD layout loads: %s", st ? err.msg : "ok");
    int all = st == STDBP_OK && ds.n == 30 && ds.dim == 700 && ds.shape.c == 700;
    for (size_t i = 0; all && i < ds.n; i++)
        all = ds.labels[i] == g.labels[i] && same_sample(&ds, i, &g, i, 1);
    ok(all, "SHD: 700 channels, labels, every event (float32 seconds as stored)");
    stdbp_dataset_free(&ds);
    gen_ev h = gen_events_make(5, 700, 4, 1.0, 6);
    h.ch[7] = 700;
    if (gen_write_shd(at("shd_bad.h5"), &h))
        bail("writing shd_bad.h5");
    st = stdbp_shd_load(at("shd_bad.h5"), &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "shd_bad.h5") && strstr(err.msg, "/spikes/units[") &&
           strstr(err.msg, "channel 700"),
       "SHD, a channel >= 700: refused: %s", err.msg);
    st = stdbp_shd_load(at("own.h5"), &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "no group /spikes"), "SHD reader on the own layout: %s",
       err.msg);
    gen_events_free(&h);
    gen_events_free(&g);
}

/* The bytes of file p into *len (malloc'd). */
static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    unsigned char *b = malloc(1 << 20);
    *len = f && b ? fread(b, 1, 1 << 20, f) : 0;
    if (f)
        fclose(f);
    if (!*len)
        bail("reading %s", p);
    return b;
}

static void spit(const char *p, const unsigned char *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0)
        bail("writing %s", p);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int k = 0; k < n; k++, v >>= 8)
        p[k] = (unsigned char)v;
}

/* SHD's variable-length arrays live in global heap collections that HDF5
 * trusts; the reader checks them first. A valid file damaged there in
 * several ways is refused with the file, the dataset and the sample
 * named (before, HDF5 crashed or looped on such files). */
static void test_shd_heap(void)
{
    stdbp_dataset ds;
    stdbp_err err;
    gen_ev g = gen_events_make(12, 700, 4, 1.0, 9);
    const char *good = at("shd_heap.h5"), *bad = at("shd_heap_bad.h5");
    if (gen_write_shd(good, &g))
        bail("writing %s", good);
    size_t len, gcol = 0;
    unsigned char *b = slurp(good, &len), *d = malloc(len);
    for (size_t k = 0; k + 4 <= len && !gcol; k++)
        if (memcmp(b + k, "GCOL", 4) == 0)
            gcol = k;
    ok(gcol > 0, "the SHD file has a global heap collection (at %zu)", gcol);
    /* the first element of /spikes/times: its raw form (length, address,
     * index) sits at the dataset's offset */
    hid_t f = H5Fopen(good, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dset = H5Dopen2(f, "/spikes/times", H5P_DEFAULT);
    const haddr_t toff = H5Dget_offset(dset);
    H5Dclose(dset);
    H5Fclose(f);
    ok(toff != HADDR_UNDEF && toff + 16 <= len && b[toff] == (unsigned char)(g.off[1] - g.off[0]),
       "/spikes/times is contiguous: its first element at %llu", (unsigned long long)toff);
    const size_t obj1 = gcol + 16; /* the collection's first object */
    static const struct {
        const char *what, *expect;
        int kind;
    } cases[] = {
        {"signature GCOL damaged", "no global heap collection", 0},
        {"collection size beyond the file", "declares", 1},
        {"collection size below the minimum", "declares", 2},
        {"free space of size 0", "free space", 3},
        {"an object larger than its collection", "past the collection's end", 4},
        {"an object's index changed", "no object 1 ", 5},
        {"an object of the wrong size", "holds", 6},
        {"an element pointing into the superblock", "no global heap collection", 7},
        {"an element naming object 0", "no object 0 ", 8},
        {"an element of length 0 naming a non-empty object", "0 values of 4 bytes", 9},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        memcpy(d, b, len);
        uint64_t osz = 0;
        for (int k = 7; k >= 0; k--)
            osz = osz << 8 | d[obj1 + 8 + (size_t)k];
        switch (cases[c].kind) {
        case 0:
            d[gcol + 3] = 'X';
            break;
        case 1:
            put_le(d + gcol + 8, (uint64_t)len * 4, 8);
            break;
        case 2:
            put_le(d + gcol + 8, 64, 8);
            break;
        case 3: { /* the free space object: walk the objects */
            size_t p = obj1;
            while (p + 16 <= len && (d[p] | d[p + 1]) != 0) {
                uint64_t s = 0;
                for (int k = 7; k >= 0; k--)
                    s = s << 8 | d[p + 8 + (size_t)k];
                p += 16 + (size_t)((s + 7) & ~(uint64_t)7);
            }
            put_le(d + p + 8, 0, 8);
            break;
        }
        case 4:
            put_le(d + obj1 + 8, (uint64_t)1 << 40, 8);
            break;
        case 5:
            put_le(d + obj1, 0x7777, 2);
            break;
        case 6: /* the same padded size: the walk stays aligned */
            put_le(d + obj1 + 8, osz % 8 ? (osz + 7) & ~(uint64_t)7 : osz - 4, 8);
            break;
        case 7:
            put_le(d + toff + 4, 8, 8); /* (0 is a null sequence) */
            break;
        case 8:
            put_le(d + toff + 12, 0, 4);
            break;
        case 9: /* HDF5 reads the object of any element whose address is not 0 */
            put_le(d + toff, 0, 4);
            break;
        }
        spit(bad, d, len);
        stdbp_err_clear(&err);
        stdbp_status st = stdbp_shd_load(bad, &ds, &err);
        ok(st != STDBP_OK && strstr(err.msg, bad) && strstr(err.msg, "/spikes/") &&
               strstr(err.msg, " sample ") && strstr(err.msg, cases[c].expect) && ds.ev_off == NULL,
           "SHD heap, %s: refused: %s", cases[c].what, err.msg);
        stdbp_dataset_free(&ds);
    }
    /* chunked, shuffled and deflated (h5py's compression="gzip",
     * shuffle=True; HDF5 refuses Fletcher-32 on variable-length data): read
     * chunk by chunk, loads as the contiguous file */
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk = 5;
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 6);
    if (gen_write_shd_dcpl(at("shd_chunked.h5"), &g, dcpl))
        bail("writing shd_chunked.h5");
    H5Pclose(dcpl);
    stdbp_status st = stdbp_shd_load(at("shd_chunked.h5"), &ds, &err);
    int all = st == STDBP_OK && ds.n == g.n;
    for (size_t i = 0; all && i < ds.n; i++)
        all = ds.labels[i] == g.labels[i] && same_sample(&ds, i, &g, i, 1);
    ok(all, "SHD, chunked (shuffle, deflate): every event: %s", st ? err.msg : "ok");
    stdbp_dataset_free(&ds);
    free(b);
    free(d);
    gen_events_free(&g);
}

static void test_nmnist(void)
{
    stdbp_dataset ds;
    stdbp_err err;
    gen_ev g = gen_events_make(40, 2 * 34 * 34, 10, 300000.0, 8);
    mkdir(at("nm"), 0755);
    if (gen_write_nmnist(at("nm/Train"), &g))
        bail("writing N-MNIST files");
    char name[4200];
    snprintf(name, sizeof name, "nmnist:%s", at("nm"));
    stdbp_status st = stdbp_dataset_open(name, NULL, "train", &ds, &err);
    ok(st == STDBP_OK, "N-MNIST folders load (DIR/Train): %s", st ? err.msg : "ok");
    /* folders in digit order, files in name order: sample i of digit d
     * is the k-th of g's samples with label d */
    int all = st == STDBP_OK && ds.n == 40 && ds.dim == 2312 && ds.shape.c == 2 &&
              ds.shape.h == 34 && ds.shape.w == 34;
    size_t i = 0;
    for (int d = 0; all && d < 10; d++)
        for (size_t j = 0; all && j < g.n; j++)
            if (g.labels[j] == d) {
                all = ds.labels[i] == d && same_sample(&ds, i, &g, j, 0);
                i++;
            }
    ok(all, "N-MNIST: (2, 34, 34), labels from the folders, every event (x, y, polarity, us)");
    stdbp_dataset_free(&ds);
    st = stdbp_dataset_open(name, NULL, "test", &ds, &err);
    ok(st != STDBP_OK && strstr(err.msg, "/0"), "N-MNIST without its folders: %s", err.msg);

    unsigned char b[16];
    double *t;
    uint32_t *ch;
    size_t n;
    gen_nmnist_event(b, 33, 2, 1, 0x7fffff);
    gen_nmnist_event(b + 5, 1, 0, 0, 5);
    st = stdbp_nmnist_parse(b, 10, "f.bin", &t, &ch, &n, &err);
    ok(st == STDBP_OK && n == 2 && t[0] == 8388607.0 && ch[0] == 34 * 34 + 2 * 34 + 33 &&
           t[1] == 5.0 && ch[1] == 1,
       "N-MNIST decoding: x, y, polarity, 23-bit timestamp");
    free(t);
    free(ch);
    st = stdbp_nmnist_parse(b, 12, "f.bin", &t, &ch, &n, &err);
    ok(st == STDBP_EFORMAT && strstr(err.msg, "f.bin") && strstr(err.msg, "at byte 10"),
       "N-MNIST, truncated: %s", err.msg);
    gen_nmnist_event(b + 5, 34, 0, 0, 5);
    st = stdbp_nmnist_parse(b, 10, "f.bin", &t, &ch, &n, &err);
    ok(st == STDBP_ERANGE && strstr(err.msg, "event 1 at byte 5") && strstr(err.msg, "x 34"),
       "N-MNIST, x = 34: %s", err.msg);
    gen_events_free(&g);
}

/* A hand-made set: channel 0 at 0.1, 0.2, 0.3; channel 1 at 0.5, 2.0;
 * channel 3 at 0.4 (shape (1, 2, 2)). */
static void test_options(void)
{
    int64_t off[2] = {0, 6};
    double t[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 2.0};
    uint32_t c[6] = {0, 0, 0, 3, 1, 1};
    int32_t lab[1] = {1};
    stdbp_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = 1;
    ds.shape = (stdbp_shape){1, 2, 2};
    ds.dim = 4;
    ds.labels = lab;
    ds.ev_off = off;
    ds.ev_t = t;
    ds.ev_ch = c;
    stdbp_encoding e = stdbp_encoding_defaults();
    stdbp_err err;
    uint32_t *ch;
    double *tt, times[4];
    size_t n;
#define SEL(cond, ...)                                                                             \
    do {                                                                                           \
        if (stdbp_sample_events(&e, NULL, 1, 0, &ds, 0, &ch, &tt, &n, &err) != STDBP_OK)           \
            bail("stdbp_sample_events: %s", err.msg);                                              \
        ok(cond, __VA_ARGS__);                                                                     \
        free(ch);                                                                                  \
        free(tt);                                                                                  \
    } while (0)
    SEL(n == 6 && tt[5] == 2.0, "defaults: every event, as stored");
    e.ev_time_scale = 2;
    SEL(n == 6 && tt[0] == 0.2 && tt[5] == 4.0, "time_scale 2 doubles every time");
    e.ev_window = 1.0;
    SEL(n == 4 && tt[3] == 0.8, "window 1 (scaled): the events before 1 only");
    e.ev_time_scale = 1;
    e.ev_window = INFINITY;
    e.ev_first_k = 2;
    SEL(n == 5 && ch[0] == 0 && ch[1] == 0 && ch[2] == 3 && ch[3] == 1 && ch[4] == 1,
        "first_k 2: channel 0 keeps 0.1 and 0.2");
    e.ev_ttfs = 1;
    SEL(n == 3 && tt[0] == 0.1 && tt[1] == 0.4 && tt[2] == 0.5, "ttfs: each channel's first event");
    e = stdbp_encoding_defaults();
    e.ev_window = 0.45;
    stdbp_encode(&e, &ds, 0, times);
    ok(times[0] == 0.1 && times[1] == INFINITY && times[2] == INFINITY && times[3] == 0.4,
       "stdbp_encode of an event set: first event per channel within the window");

    /* augmentation: a pure function of (seed, epoch, sample) */
    stdbp_augment a = stdbp_augment_defaults();
    uint32_t *c1, *c2;
    double *t1, *t2;
    size_t n1, n2;
    a.jitter = 0.05;
    a.drop = 0.3;
    e = stdbp_encoding_defaults();
    int same = 1, differ = 0, clamp = 1, dropped = 0;
    for (uint64_t ep = 0; ep < 20; ep++) {
        if (stdbp_sample_events(&e, &a, 9, ep, &ds, 0, &c1, &t1, &n1, &err) ||
            stdbp_sample_events(&e, &a, 9, ep, &ds, 0, &c2, &t2, &n2, &err))
            bail("augment: %s", err.msg);
        same &= n1 == n2 && !memcmp(c1, c2, n1 * sizeof *c1) && !memcmp(t1, t2, n1 * sizeof *t1);
        dropped += 6 - (int)n1;
        for (size_t k = 0; k < n1; k++) {
            clamp &= t1[k] >= 0;
            differ += t1[k] != 0.1 && t1[k] != 0.2 && t1[k] != 0.3 && t1[k] != 0.4 &&
                      t1[k] != 0.5 && t1[k] != 2.0;
        }
        free(c1);
        free(c2);
        free(t1);
        free(t2);
    }
    ok(same && clamp && differ > 50 && dropped > 15 && dropped < 60,
       "jitter and drop: the same draw for the same (seed, epoch, sample); %d of 120 dropped",
       dropped);
    a = stdbp_augment_defaults();
    a.shift = 1;
    int moved = 0, lost = 0;
    for (uint64_t ep = 0; ep < 20; ep++) {
        if (stdbp_sample_events(&e, &a, 3, ep, &ds, 0, &c1, &t1, &n1, &err))
            bail("shift: %s", err.msg);
        moved += n1 > 0 && c1[0] != 0;
        lost += n1 < 6;
        free(c1);
        free(t1);
    }
    ok(moved > 0 && lost > 0, "shift moves events (%d epochs) and drops those moved out (%d)",
       moved, lost);
}

int main(void)
{
    plan(44);
    if (!mkdtemp(dir))
        bail("mkdtemp");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    test_own();
    test_shd();
    test_shd_heap();
    test_nmnist();
    test_options();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return 0;
}
