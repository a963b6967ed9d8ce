/* The checkpoint writer's state, shared by ckpt.c (the steps of a write:
 * paths, agreement, the file's creation, publishing, pruning) and
 * ckpt_layout.c (the groups, datasets and attributes of docs/FORMAT.md);
 * and the step-by-step collective HDF5 write that checkpoints and spike
 * logs (spikelog.c) share: ckpt_steps, stdbp_ckpt_put_rows. Private to
 * src/ckpt. */
#ifndef STDBP_CKPT_WRITE_H
#define STDBP_CKPT_WRITE_H

#include <hdf5.h>

#include "ckpt/ckpt_impl.h"

/* A collective HDF5 write taken one fallible step at a time. Every HDF5
 * call that can fail (a file's creation, each group, dataset, data write
 * and attribute, a flush, a close) is one step, and every rank learns
 * whether it failed anywhere (stdbp_dist_agree) before the next
 * collective call: no rank enters a collective that another has left.
 * The steps come in the same order on every rank, so a test hook can
 * count them and turn the Nth into a failure on one rank. */
typedef struct ckpt_steps {
    MPI_Comm comm;
    int rank;
    uint64_t done;    /* steps agreed on so far */
    uint64_t fail_at; /* test hook: this step (1-based) fails ... ; 0: none */
    int fail_rank;    /* ... on this rank; -1: on every rank */
    const char *what; /* for messages: "writing checkpoint", "spike log" */
    const char *path; /* the file */
    stdbp_err *e;     /* the message of a failure */
} ckpt_steps;

/* Collective on s->comm: one step ended on this rank with `mine`; returns
 * the agreed outcome (s->e holds the failing rank's message). An injected
 * failure says "WHAT PATH: step N failed (injected by a test hook)". */
stdbp_status stdbp_ckpt_steps_agree(ckpt_steps *s, stdbp_status mine);
/* Not collective: s->e gets "WHAT PATH: CALL failed: HDF5's most specific
 * error"; returns STDBP_EIO. */
stdbp_status stdbp_ckpt_steps_fail(ckpt_steps *s, const char *call);
/* Not collective: an h5util call failed and left its message in s->e:
 * name the file ("WHAT PATH: ..."). Returns its status. */
stdbp_status stdbp_ckpt_steps_prefix(ckpt_steps *s);

/* One chunked dataset, created and written collectively. */
typedef struct ckpt_rows {
    hid_t loc; /* the group (or file) that gets it */
    const char *name;
    hid_t ftype, mtype;    /* file and memory types */
    int rank;              /* 1..4 */
    const hsize_t *dims;   /* its shape, dims[rank] */
    size_t chunk_bytes;    /* stdbp_h5_dcpl's target chunk size */
    int fletcher32;        /* a Fletcher32 checksum per chunk */
    int deflate;           /* shuffle + deflate at this level; 0: none */
    const void *fill;      /* a fill value (memory type) for rows no rank
                              writes; NULL: none is written (every element
                              is written) */
    hid_t dxpl;            /* a collective transfer list */
    uint64_t first, count; /* this rank writes rows [first, first + count)
                              of the first dimension ... */
    const void *buf;       /* ... from here (count rows, C order) */
} ckpt_rows;

/* Collective on s->comm: create the dataset r describes and write it,
 * each rank its rows (one hyperslab; none is an empty selection). Three
 * steps: the creation list and dataspaces, the create, the write (none
 * for a dataset without elements). The dataset stays open in *out (for
 * attributes; the caller closes it). */
stdbp_status stdbp_ckpt_put_rows(ckpt_steps *s, const ckpt_rows *r, hid_t *out);

/* What rank 0 broadcasts before the collective create: the values that
 * go into attributes, which must be the same on every rank. */
typedef struct ckpt_header {
    uint64_t train[14]; /* step, epoch, batch, seed, rng[4], best_epoch,
                           best_val_acc (bits), epoch_loss, epoch_correct,
                           epoch_samples (two's complement bits),
                           wall_seconds (bits) */
    uint64_t has_train, has_optim, optim_steps, config_len;
    char digest[CKPT_DIGEST_LEN];
    char created[32];
} ckpt_header;

/* A write in progress on one rank. */
typedef struct ckpt_writer {
    MPI_Comm comm;
    int rank;
    const stdbp_net *net;
    const double *params;
    size_t n_layers;
    ckpt_layer *layers;
    const double *state;
    size_t state_size;
    const char *config;
    ckpt_header hdr;
    hid_t file, dxpl;
    ckpt_steps steps;          /* the steps agreed on so far (the test hook counts them) */
    int renamed;               /* rank 0: tmp was renamed to final */
    char dir[CKPT_PATH_MAX];   /* run_dir/checkpoints */
    char tmp[CKPT_PATH_MAX];   /* the file being written */
    char final[CKPT_PATH_MAX]; /* its name once complete */
    stdbp_err *e;
} ckpt_writer;

/* The same for a checkpoint write (w->steps). w->e holds a message:
 * "writing checkpoint TMP: WHAT failed: HDF5's most specific error";
 * returns STDBP_EIO. Not collective. */
stdbp_status stdbp_ckpt_writer_fail(ckpt_writer *w, const char *what);
/* An h5util call failed and left its message in w->e: name the file. */
stdbp_status stdbp_ckpt_writer_prefix(ckpt_writer *w);
/* Collective on w->comm: one fallible step of the write ended on this
 * rank with `mine`; every rank learns whether it failed anywhere
 * (stdbp_dist_agree), so that none enters the next collective HDF5 call
 * alone. Every step of a write goes through here, in the same order on
 * every rank: the test hook fail_ckpt_step (util/test_hooks.h) counts
 * them and turns the Nth into a failure. */
stdbp_status stdbp_ckpt_writer_agree(ckpt_writer *w, stdbp_status mine);
/* Collective on w->comm: the created file's contents, in the order of
 * docs/FORMAT.md, the digest last, then a flush; every HDF5 call that can
 * fail (each group, dataset, write and attribute) is one step agreed on
 * with stdbp_ckpt_writer_agree before the next. */
stdbp_status stdbp_ckpt_write_contents(ckpt_writer *w);

#endif
