/* The checkpoint writer's state, shared by ckpt.c (the steps of a write:
 * paths, agreement, the file's creation, publishing, pruning) and
 * ckpt_layout.c (the groups, datasets and attributes of docs/FORMAT.md).
 * Private to src/ckpt. */
#ifndef STDBP_CKPT_WRITE_H
#define STDBP_CKPT_WRITE_H

#include <hdf5.h>

#include "ckpt/ckpt_impl.h"

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
    uint64_t steps;            /* fallible steps agreed on so far (the test hook counts them) */
    int renamed;               /* rank 0: tmp was renamed to final */
    char dir[CKPT_PATH_MAX];   /* run_dir/checkpoints */
    char tmp[CKPT_PATH_MAX];   /* the file being written */
    char final[CKPT_PATH_MAX]; /* its name once complete */
    stdbp_err *e;
} ckpt_writer;

/* w->e holds a message: "writing checkpoint TMP: WHAT failed: HDF5's
 * most specific error"; returns STDBP_EIO. Not collective. */
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
