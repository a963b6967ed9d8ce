/* One copy of a data set per node (stdbp_dist_dataset_open): every rank
 * sees exactly the data set a private load gives; the pixels live in one
 * shared mapping (the same file and offset in every rank's
 * /proc/self/maps, mapped shared; on several ranks), allocated once, so that a byte the
 * node's first rank writes is seen by every other rank; encoding and
 * augmentation leave the shared pixels as they were; a missing file fails
 * every rank with the loader's own message; when no window can be made
 * (test hook) the ranks fall back to private copies with a warning; with
 * shared off there is no window. All ranks run on one node here. The
 * same for an event data set (offsets, times, channels and labels in the
 * window; event selection and augmentation leave them as they were).
 * Usage: test_shared_data FILE.h5 (a gen_dataset file of 8x8 images) or
 * test_shared_data events:FILE.h5 (a gen_events file). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/stdbp.h"
#include "tap/tap_mpi.h"
#include "util/test_hooks.h"

static int warnings;
static char last_warning[1024];

static void on_log(stdbp_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == STDBP_LOG_WARNING) {
        warnings++;
        snprintf(last_warning, sizeof last_warning, "%s", msg);
    }
}

/* The mapping of /proc/self/maps that holds p: its device, inode and
 * file offset of p, and whether it is mapped shared. 0 if none. */
static int mapping_of(const void *p, char *dev, size_t dev_len, unsigned long *inode,
                      unsigned long long *off, int *is_shared)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    uintptr_t a = (uintptr_t)p;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, o;
        char perms[8], d[32];
        unsigned long ino;
        if (sscanf(line, "%llx-%llx %7s %llx %31s %lu", &lo, &hi, perms, &o, d, &ino) != 6)
            continue;
        if (a < lo || a >= hi)
            continue;
        found = 1;
        snprintf(dev, dev_len, "%s", d);
        *inode = ino;
        *off = o + (a - lo);
        *is_shared = perms[3] == 's';
    }
    fclose(f);
    return found;
}

static int same_data(const stdbp_dataset *a, const stdbp_dataset *b)
{
    size_t per = a->f32 ? sizeof(float) : 1;
    if (a->ev_off || b->ev_off) {
        const size_t e = a->ev_off && b->ev_off ? (size_t)a->ev_off[a->n] : 0;
        return a->ev_off && b->ev_off && a->n == b->n && a->dim == b->dim &&
               a->n_classes == b->n_classes && strcmp(a->source, b->source) == 0 && !a->u8 &&
               !b->u8 && !a->f32 && !b->f32 &&
               memcmp(a->labels, b->labels, a->n * sizeof *a->labels) == 0 &&
               memcmp(a->ev_off, b->ev_off, (a->n + 1) * sizeof *a->ev_off) == 0 &&
               memcmp(a->ev_t, b->ev_t, e * sizeof *a->ev_t) == 0 &&
               memcmp(a->ev_ch, b->ev_ch, e * sizeof *a->ev_ch) == 0;
    }
    return a->n == b->n && a->dim == b->dim && a->n_classes == b->n_classes &&
           a->shape.c == b->shape.c && a->shape.h == b->shape.h && a->shape.w == b->shape.w &&
           strcmp(a->source, b->source) == 0 && !a->u8 == !b->u8 && !a->f32 == !b->f32 &&
           memcmp(a->labels, b->labels, a->n * sizeof *a->labels) == 0 &&
           memcmp(a->u8 ? (const void *)a->u8 : (const void *)a->f32,
                  b->u8 ? (const void *)b->u8 : (const void *)b->f32, a->n * a->dim * per) == 0;
}

int main(int argc, char **argv)
{
    MPI_Comm world = MPI_COMM_WORLD;
    int rank, size;
    stdbp_err err;
    stdbp_dataset priv, ds;
    stdbp_dist_shared *sh = NULL;
    char name[4200];

    MPI_Init(&argc, &argv);
    tap_mpi_init(world);
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
    stdbp_set_log_handler(on_log, NULL);
    plan(14);
    const char *arg = argc > 1 ? argv[1] : "train.h5";
    snprintf(name, sizeof name, "%s%s", strncmp(arg, "events:", 7) == 0 ? "" : "hdf5:", arg);

    ok_all(world, stdbp_dataset_open(name, NULL, NULL, &priv, &err) == STDBP_OK,
           "a private load of %s", name);

    /* Shared: one window for the node, the same bytes as a private load. */
    stdbp_status st = stdbp_dist_dataset_open(world, 1, name, NULL, NULL, &ds, &sh, &err);
    ok_all(world, st == STDBP_OK && sh != NULL, "shared open: a window on every rank (%s)",
           st == STDBP_OK ? "ok" : err.msg);
    ok_all(world, st == STDBP_OK && same_data(&ds, &priv),
           "every rank sees the private load's samples, labels and metadata");
    ok_all(world, warnings == 0, "no warning (%d)", warnings);

    /* The pixels are one shared mapping: same backing file and offset on
     * every rank, mapped shared. */
    char dev[32] = "";
    unsigned long inode = 0, all_inode[2];
    unsigned long long off = 0, all_off[2];
    int is_shared = 0;
    const void *pix = ds.u8    ? (const void *)ds.u8
                      : ds.f32 ? (const void *)ds.f32
                               : (const void *)ds.ev_t;
    int found = pix && mapping_of(pix, dev, sizeof dev, &inode, &off, &is_shared);
    /* (one rank alone may get private memory: there is nobody to share with) */
    ok_all(world, size == 1 ? pix != NULL : found && is_shared,
           "the pixels are in a shared mapping (%s inode %lu%s)", dev, inode,
           size == 1 ? "; not required on one rank" : "");
    MPI_Allreduce(&inode, &all_inode[0], 1, MPI_UNSIGNED_LONG, MPI_MIN, world);
    MPI_Allreduce(&inode, &all_inode[1], 1, MPI_UNSIGNED_LONG, MPI_MAX, world);
    MPI_Allreduce(&off, &all_off[0], 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, world);
    MPI_Allreduce(&off, &all_off[1], 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, world);
    ok_all(world, found && all_inode[0] == all_inode[1] && all_off[0] == all_off[1],
           "... the same file and offset on every rank (one copy for the node)");

    /* Encoding and augmentation of every sample, on every rank, into this
     * rank's buffers: the shared pixels stay as they were. */
    double *times = calloc(ds.dim, sizeof *times), *scratch = calloc(ds.dim, sizeof *scratch);
    stdbp_augment aug = {.shift = 1, .jitter = 0.05};
    stdbp_augment eaug = {.shift = 1, .jitter = 0.05, .drop = 0.2};
    for (uint64_t epoch = 0; epoch < 2 && times && scratch; epoch++)
        for (size_t i = 0; i < ds.n; i++) {
            stdbp_encode(NULL, &ds, i, times);
            if (!ds.ev_off) {
                stdbp_augment_apply(&aug, 7, epoch, i, ds.shape, times, scratch);
                continue;
            }
            uint32_t *ch = NULL;
            double *t = NULL;
            size_t ne = 0;
            if (stdbp_sample_events(NULL, &eaug, 7, epoch, &ds, i, &ch, &t, &ne, &err) != STDBP_OK)
                bail("sample_events: %s", err.msg);
            free(ch);
            free(t);
        }
    MPI_Barrier(world);
    ok_all(world, times && scratch && same_data(&ds, &priv),
           "after encoding and augmenting every sample on every rank, the shared data are "
           "unchanged");
    free(times);
    free(scratch);

    /* One copy: a label the first rank changes (a test only: the data set
     * is read-only) is what every rank then reads. */
    int32_t was = ds.labels[0];
    MPI_Barrier(world);
    if (rank == 0)
        ds.labels[0] = 12345;
    __sync_synchronize();
    MPI_Barrier(world);
    __sync_synchronize();
    ok_all(world, ds.labels[0] == 12345, "a label written by rank 0 is seen by every rank");
    MPI_Barrier(world);
    if (rank == 0)
        ds.labels[0] = was;
    MPI_Barrier(world);

    stdbp_dist_dataset_free(&ds, &sh); /* collective */
    ok_all(world, sh == NULL && ds.u8 == NULL && ds.ev_t == NULL && ds.labels == NULL && ds.n == 0,
           "freed collectively: the handle and the data set are zeroed");

    /* A missing file: every rank fails with the loader's message, which
     * names no rank (every rank failed alike). */
    stdbp_err_clear(&err);
    st = stdbp_dist_dataset_open(world, 1, "hdf5:/nonexistent/shared_missing.h5", NULL, NULL, &ds,
                                 &sh, &err);
    ok_all(world,
           st != STDBP_OK && sh == NULL && ds.labels == NULL &&
               strstr(err.msg, "shared_missing.h5") && !strstr(err.msg, "rank "),
           "a missing file fails every rank with one message: %s", err.msg);

    /* No window (test hook): private copies, one warning on the node's
     * first rank, the same data. */
    stdbp_test_hooks h = *stdbp_test_hooks_get();
    h.shm_fail = 1;
    stdbp_test_hooks_set(&h);
    warnings = 0;
    st = stdbp_dist_dataset_open(world, 1, name, NULL, NULL, &ds, &sh, &err);
    ok_all(world, st == STDBP_OK && sh == NULL && same_data(&ds, &priv),
           "no window: every rank holds a private copy of the same data");
    ok_all(world,
           rank == 0 ? warnings == 1 && strstr(last_warning, "data.shared_memory: auto") != NULL
                     : warnings == 0,
           "... and the node's first rank warned once (%s)", rank == 0 ? last_warning : "");
    stdbp_dist_dataset_free(&ds, &sh);
    h.shm_fail = 0;
    stdbp_test_hooks_set(&h);

    /* Off: every rank loads its own. */
    st = stdbp_dist_dataset_open(world, 0, name, NULL, NULL, &ds, &sh, &err);
    ok_all(world, st == STDBP_OK && sh == NULL && same_data(&ds, &priv),
           "shared off: a private copy on every rank");
    stdbp_dist_dataset_free(&ds, &sh);
    ok_all(world, ds.labels == NULL, "... freed");
    stdbp_dataset_free(&priv);
    return tap_mpi_finish(world);
}
