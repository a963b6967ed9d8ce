/* One copy of a data set per node, in an MPI-3 shared-memory window; see
 * stdbp_dist_dataset_open in include/stdbp/dist.h.
 *
 * Here rather than in src/data: loading is not collective and src/data
 * never calls MPI (it sits below dist in the layering); this file uses
 * data's loader on one rank per node and shares the result.
 *
 * The window holds the labels (n int32) and then the pixels (n * dim
 * uint8 or float32), so the pixels start on a multiple of 4 bytes; for an
 * event data set, the labels, then (from a multiple of 8 bytes) the
 * offsets (n + 1 int64), the times (E double) and the channels (E
 * uint32), E being the events of all samples. After
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

#include "dist/window.h"
#include "util/log.h"

struct stdbp_dist_shared {
    MPI_Comm node; /* the ranks that share the window */
    MPI_Win win;
};

/* What the node's first rank sends the others: the data set but its
 * buffers (the struct's bytes; every rank runs the same build). */
typedef struct shared_meta {
    stdbp_dataset ds; /* the pointers are meaningless on the receivers */
    int is_f32;
    int is_events;
    size_t n_events; /* event data sets: ev_off[n] */
} shared_meta;

/* Where each array of m's data set sits in the window (byte offsets). */
typedef struct shared_layout {
    size_t pix, off, t, ch, total;
} shared_layout;

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

/* The bytes of m's data set in a window (0 when it is empty), and where
 * each array goes. No overflow: the first rank holds them all in memory
 * already. */
static size_t window_bytes(const shared_meta *m, shared_layout *L)
{
    const size_t n = m->ds.n, labels = n * sizeof(int32_t);
    memset(L, 0, sizeof *L);
    if (n == 0)
        return 0;
    if (!m->is_events) {
        L->pix = labels;
        L->total = labels + n * m->ds.dim * (m->is_f32 ? sizeof(float) : 1);
        return L->total;
    }
    L->off = (labels + 7) / 8 * 8;
    L->t = L->off + (n + 1) * sizeof(int64_t);
    L->ch = L->t + m->n_events * sizeof(double);
    L->total = L->ch + m->n_events * sizeof(uint32_t);
    return L->total;
}

/* The arrays of ds (labels first) with their sizes in L's layout:
 * *k of them into p[] and len[]. */
static void parts(const stdbp_dataset *ds, const shared_meta *m, const shared_layout *L, void **p,
                  size_t *len, size_t *at, int *k)
{
    *k = 0;
    p[*k] = ds->labels, at[*k] = 0, len[(*k)++] = m->ds.n * sizeof(int32_t);
    if (!m->is_events) {
        p[*k] = m->is_f32 ? (void *)ds->f32 : (void *)ds->u8, at[*k] = L->pix;
        len[(*k)++] = L->total - L->pix;
        return;
    }
    p[*k] = ds->ev_off, at[*k] = L->off, len[(*k)++] = L->t - L->off;
    p[*k] = ds->ev_t, at[*k] = L->t, len[(*k)++] = L->ch - L->t;
    p[*k] = ds->ev_ch, at[*k] = L->ch, len[(*k)++] = L->total - L->ch;
}

/* Collective on node: a window of bytes (on the first rank; 0 on the
 * others), or NULL on every rank of node when any could not create it. */
static void *create_window(MPI_Comm node, size_t bytes, MPI_Win *win, char *why, size_t why_len)
{
    int nr, disp;
    void *mine, *base = NULL;
    MPI_Aint size;
    MPI_Comm_rank(node, &nr);
    if (!stdbp_dist_window_alloc(node, nr == 0 ? bytes : 0, &mine, win, why, why_len))
        return NULL;
    if (MPI_Win_shared_query(*win, 0, &size, &disp, &base) != MPI_SUCCESS)
        base = NULL; /* cannot happen for a window just allocated */
    return base;
}

/* Point ds (whose metadata are set) into the window at base. */
static void point_into(stdbp_dataset *ds, const shared_meta *m, char *base, const shared_layout *L)
{
    ds->labels = (int32_t *)(void *)base;
    if (m->is_events) {
        ds->ev_off = (int64_t *)(void *)(base + L->off);
        ds->ev_t = (double *)(void *)(base + L->t);
        ds->ev_ch = (uint32_t *)(void *)(base + L->ch);
        return;
    }
    ds->u8 = m->is_f32 ? NULL : (uint8_t *)(base + L->pix);
    ds->f32 = m->is_f32 ? (float *)(void *)(base + L->pix) : NULL;
}

/* Collective on node and on comm: no window could be made; every rank
 * of node gets its own copy of the first rank's data set (in *ds there),
 * by broadcast. Agreed over comm (a rank without memory fails them all). */
static stdbp_status private_copies(MPI_Comm comm, MPI_Comm node, const shared_meta *m,
                                   stdbp_dataset *ds, stdbp_err *err)
{
    int nr, k;
    shared_layout L;
    void *p[4];
    size_t len[4], at[4], bytes = window_bytes(m, &L);
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(node, &nr);
    if (nr != 0) {
        *ds = m->ds;
        ds->u8 = NULL;
        ds->f32 = NULL;
        ds->labels = malloc(m->ds.n ? m->ds.n * sizeof(int32_t) : 1);
        int fail = !ds->labels;
        if (m->is_events) {
            ds->ev_off = malloc((m->ds.n + 1) * sizeof *ds->ev_off);
            ds->ev_t = malloc((m->n_events ? m->n_events : 1) * sizeof *ds->ev_t);
            ds->ev_ch = malloc((m->n_events ? m->n_events : 1) * sizeof *ds->ev_ch);
            fail |= !ds->ev_off || !ds->ev_t || !ds->ev_ch;
        } else {
            void *pix = malloc(bytes - L.pix ? bytes - L.pix : 1);
            ds->u8 = m->is_f32 ? NULL : pix;
            ds->f32 = m->is_f32 ? pix : NULL;
            fail |= !pix;
        }
        if (fail)
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for a copy of %zu bytes",
                               m->ds.source, bytes);
    }
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) /* collective */
        return st;
    if (m->is_events && m->ds.n == 0) /* no window layout: just the one offset */
        stdbp_dist_bcast_bytes(node, ds->ev_off, sizeof *ds->ev_off, 0); /* collective */
    parts(ds, m, &L, p, len, at, &k);
    for (int j = 0; j < k; j++)
        stdbp_dist_bcast_bytes(node, p[j], len[j], 0); /* collective */
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
    /* every rank loads its own copy */
    if (!shared)
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
        m.is_events = stdbp_dataset_is_events(out);
        m.n_events = m.is_events ? (size_t)out->ev_off[out->n] : 0;
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, node); /* collective */
    shared_layout L;
    size_t bytes = window_bytes(&m, &L);
    char *base = bytes ? create_window(node, bytes, &win, why, sizeof why) : NULL;
    if (base) {
        if (nr == 0) { /* the one copy: into the window; the private one goes */
            void *p[4];
            size_t len[4], at[4];
            int k;
            parts(out, &m, &L, p, len, at, &k);
            for (int j = 0; j < k; j++)
                memcpy(base + at[j], p[j], len[j]);
            stdbp_dataset_free(out);
        }
        *out = m.ds;
        point_into(out, &m, base, &L);
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
