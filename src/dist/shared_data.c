/* One copy of a data set per node, in an MPI-3 shared-memory window; see
 * stdbp_dist_dataset_open in include/stdbp/dist.h.
 *
 * Here rather than in src/data: loading is not collective and src/data
 * never calls MPI (it sits below dist in the layering); this file uses
 * data's loader on one rank per node and shares the result.
 *
 * The window holds the labels (n int32) and then the pixels (n * dim
 * uint8 or float32), so the pixels start on a multiple of 4 bytes. After
 * the node's first rank has copied the data in, the window is read-only:
 * encoding and augmentation read it and write into per-rank (per-thread)
 * buffers. MPI errors abort the job (dist.h), except while the window is
 * created: a failure there is what data.shared_memory: auto falls back
 * from. */
#include "stdbp/dist.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/test_hooks.h"

struct stdbp_dist_shared {
    MPI_Comm node; /* the ranks that share the window */
    MPI_Win win;
};

/* What the node's first rank sends the others: the data set but its
 * buffers (the struct's bytes; every rank runs the same build). */
typedef struct shared_meta {
    stdbp_dataset ds; /* the pointers are meaningless on the receivers */
    int is_f32;
} shared_meta;

/* Collective on node: the first rank's status and message reach every
 * rank of node, so that all of them fail alike (and stdbp_dist_agree on
 * the whole communicator then names no single rank). */
static stdbp_status share_status(MPI_Comm node, stdbp_status st, stdbp_err *err)
{
    int code = (int)st;
    MPI_Bcast(&code, 1, MPI_INT, 0, node); /* collective */
    if (code == STDBP_OK)
        return STDBP_OK;
    MPI_Bcast(err->msg, (int)sizeof err->msg, MPI_CHAR, 0, node); /* collective */
    err->msg[sizeof err->msg - 1] = '\0';
    err->code = (stdbp_status)code;
    return (stdbp_status)code;
}

/* The labels' and pixels' bytes of m's data set (0 when it is empty).
 * No overflow: the first rank holds them all in memory already. */
static size_t window_bytes(const shared_meta *m, size_t *label_bytes)
{
    *label_bytes = m->ds.n * sizeof(int32_t);
    return *label_bytes + m->ds.n * m->ds.dim * (m->is_f32 ? sizeof(float) : 1);
}

/* Collective on node: a window of bytes (on the first rank; 0 on the
 * others), or NULL on every rank of node when any could not create it. */
static void *create_window(MPI_Comm node, size_t bytes, MPI_Win *win, char *why, size_t why_len)
{
    int nr, rc, ok, all, len;
    void *mine = NULL, *base = NULL;
    MPI_Aint size;
    int disp;
    MPI_Comm_rank(node, &nr);
    /* Failures here are reported, not fatal: the caller may fall back. */
    MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
    if (stdbp_test_hooks_get()->shm_fail) {
        rc = MPI_ERR_NO_MEM;
    } else {
        /* collective on node */
        rc = MPI_Win_allocate_shared(nr == 0 ? (MPI_Aint)bytes : 0, 1, MPI_INFO_NULL, node, &mine,
                                     win);
    }
    ok = rc == MPI_SUCCESS;
    if (!ok) {
        char s[MPI_MAX_ERROR_STRING];
        if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
            snprintf(s, sizeof s, "error %d", rc);
        snprintf(why, why_len, "%s", s);
    }
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, node); /* collective */
    if (all && MPI_Win_shared_query(*win, 0, &size, &disp, &base) != MPI_SUCCESS)
        base = NULL; /* cannot happen for a window just allocated */
    MPI_Comm_set_errhandler(node, MPI_ERRORS_ARE_FATAL);
    if (!all) {
        if (ok) /* some rank of node failed: it has no window, so this one
                   cannot be freed collectively; it stays, unused, until
                   MPI_Finalize */
            snprintf(why, why_len, "another rank of this node could not create it");
        return NULL;
    }
    return base;
}

/* Point ds (whose metadata are set) into the window at base. */
static void point_into(stdbp_dataset *ds, int is_f32, char *base, size_t label_bytes)
{
    ds->labels = (int32_t *)(void *)base;
    ds->u8 = is_f32 ? NULL : (uint8_t *)(base + label_bytes);
    ds->f32 = is_f32 ? (float *)(void *)(base + label_bytes) : NULL;
}

/* Collective on node and on comm: no window could be made; every rank
 * of node gets its own copy of the first rank's data set (in *ds there),
 * by broadcast. Agreed over comm (a rank without memory fails them all). */
static stdbp_status private_copies(MPI_Comm comm, MPI_Comm node, const shared_meta *m,
                                   stdbp_dataset *ds, stdbp_err *err)
{
    int nr;
    size_t label_bytes, bytes = window_bytes(m, &label_bytes);
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(node, &nr);
    if (nr != 0) {
        *ds = m->ds;
        ds->labels = malloc(label_bytes ? label_bytes : 1);
        void *pix = malloc(bytes - label_bytes ? bytes - label_bytes : 1);
        ds->u8 = m->is_f32 ? NULL : pix;
        ds->f32 = m->is_f32 ? pix : NULL;
        if (!ds->labels || !pix)
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for a copy of %zu bytes",
                               m->ds.source, bytes);
    }
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) /* collective */
        return st;
    stdbp_dist_bcast_bytes(node, ds->labels, label_bytes, 0); /* collective */
    stdbp_dist_bcast_bytes(node, m->is_f32 ? (void *)ds->f32 : (void *)ds->u8, bytes - label_bytes,
                           0); /* collective */
    return STDBP_OK;
}

stdbp_status stdbp_dist_dataset_open(MPI_Comm comm, int shared, const char *name,
                                     const char *data_dir, const char *split, stdbp_dataset *out,
                                     stdbp_dist_shared **sh, stdbp_err *err)
{
    stdbp_err local;
    stdbp_status st;
    MPI_Comm node;
    MPI_Win win = MPI_WIN_NULL;
    int rank, nr;
    shared_meta m;
    char why[MPI_MAX_ERROR_STRING + 64] = "";

    memset(&local, 0, sizeof local);
    if (!err)
        err = &local;
    *sh = NULL;
    memset(out, 0, sizeof *out);
    /* every rank loads its own copy (event sets are not shared yet) */
    if (!shared || stdbp_dataset_name_is_events(name))
        return stdbp_dist_agree(comm, stdbp_dataset_open(name, data_dir, split, out, err), err);

    stdbp_dist_shared *h = malloc(sizeof *h);
    MPI_Comm_rank(comm, &rank);
    /* collective on comm: the ranks of this node, in comm's order */
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &nr);
    /* The node's first rank loads (honouring the stop check); the others
     * wait here. A failed load fails every rank of the node alike, and
     * the agreement ends every rank of comm. */
    st = nr == 0 ? stdbp_dataset_open(name, data_dir, split, out, err) : STDBP_OK;
    st = share_status(node, st, err);
    if (st == STDBP_OK && !h)
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) { /* collective */
        stdbp_dataset_free(out);
        MPI_Comm_free(&node);
        free(h);
        return st;
    }

    memset(&m, 0, sizeof m);
    if (nr == 0) {
        m.ds = *out;
        m.is_f32 = out->f32 != NULL;
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, node); /* collective */
    size_t label_bytes, bytes = window_bytes(&m, &label_bytes);
    char *base = bytes ? create_window(node, bytes, &win, why, sizeof why) : NULL;
    if (base) {
        if (nr == 0) { /* the one copy: into the window; the private one goes */
            memcpy(base, out->labels, label_bytes);
            memcpy(base + label_bytes, m.is_f32 ? (void *)out->f32 : (void *)out->u8,
                   bytes - label_bytes);
            stdbp_dataset_free(out);
        }
        *out = m.ds;
        point_into(out, m.is_f32, base, label_bytes);
        /* Nobody reads before the copy is complete and visible: the
         * writer's stores are synchronised into the window, and the
         * barrier orders them before every reader's first load. */
        MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
        MPI_Win_sync(win);
        MPI_Barrier(node); /* collective */
        MPI_Win_sync(win);
        MPI_Win_unlock_all(win);
        *h = (stdbp_dist_shared){node, win};
        *sh = h;
    } else if (nr == 0 && bytes) {
        stdbp_log(STDBP_LOG_WARNING,
                  "data.shared_memory: auto: no shared-memory window for %s (%s); every rank "
                  "of this node holds its own copy",
                  m.ds.source, why);
    }
    /* Collective on comm, on every node alike: the private copies of the
     * nodes without a window (an empty data set needs none; the ranks of
     * a node with a window take part in the agreement only). */
    int fallback = base == NULL, any;
    MPI_Allreduce(&fallback, &any, 1, MPI_INT, MPI_MAX, comm); /* collective */
    st = STDBP_OK;
    if (any)
        st = base ? stdbp_dist_agree(comm, STDBP_OK, err) /* matches private_copies's */
                  : private_copies(comm, node, &m, out, err);
    if (!base) {
        MPI_Comm_free(&node);
        free(h);
    }
    if (st != STDBP_OK) /* agreed: every rank */
        stdbp_dist_dataset_free(out, sh);
    return st;
}

void stdbp_dist_dataset_free(stdbp_dataset *ds, stdbp_dist_shared **sh)
{
    if (sh && *sh) {
        /* collective on the node's ranks: the window goes once they all
           stop reading it */
        MPI_Win_free(&(*sh)->win);
        MPI_Comm_free(&(*sh)->node);
        free(*sh);
        *sh = NULL;
        if (ds)
            memset(ds, 0, sizeof *ds);
        return;
    }
    stdbp_dataset_free(ds);
}
