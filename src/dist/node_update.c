/* The sharded update through one node's shared memory; see
 * stdbp_dist_node_create in include/stdbp/dist.h.
 *
 * One window: rank 0's segment holds the work counter (a line of its
 * own), the parameters and then its accumulator, every other rank's
 * segment its accumulator. Each part is
 * rounded up to whole cache lines and starts on a 64-byte boundary (the
 * kernels' rows are aligned to it), so no two ranks' parts share a line. The window stays
 * in one passive-target epoch (MPI_Win_lock_all) for its life, in which
 * stdbp_dist_node_sync orders the ranks' plain loads and stores. */
#include "stdbp/dist.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/window.h"
#include "util/log.h"

struct stdbp_dist_node {
    MPI_Comm comm; /* the trainer's ranks, all on this node */
    MPI_Win win;
    _Atomic uint64_t *counter; /* stdbp_dist_node_next's */
    double *params;
    int64_t **acc; /* per rank of comm */
};

#define LINE 64

static size_t round_line(size_t bytes)
{
    return (bytes + LINE - 1) / LINE * LINE;
}

stdbp_status stdbp_dist_node_create(MPI_Comm comm, size_t n_acc, size_t n_params,
                                    stdbp_dist_node **out, stdbp_err *err)
{
    int rank, size, node_size, ok, all;
    MPI_Comm node;
    char why[MPI_MAX_ERROR_STRING + 64] = "";
    *out = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* collective on comm: does one node hold every rank? */
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &node_size);
    MPI_Allreduce(&node_size, &all, 1, MPI_INT, MPI_MIN, comm); /* collective */
    MPI_Comm_free(&node);
    if (all != size)
        return STDBP_OK; /* several nodes: the reduce-scatter's way */
    /* The counter is shared by processes: its atomics must not need a
     * lock (a lock would live in one process's memory). */
    _Atomic uint64_t probe;
    if (!atomic_is_lock_free(&probe))
        return STDBP_OK;

    stdbp_dist_node *nd = calloc(1, sizeof *nd);
    int64_t **acc = calloc((size_t)size, sizeof *acc);
    stdbp_status st = nd && acc ? STDBP_OK : stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) { /* collective */
        free(nd);
        free(acc);
        return st;
    }
    const size_t par_bytes = round_line(n_params * sizeof(double));
    const size_t acc_bytes = round_line(n_acc * sizeof(int64_t));
    void *mine;
    /* collective on comm (one node) */
    if (!stdbp_dist_window_alloc(comm, (rank == 0 ? LINE + par_bytes : 0) + acc_bytes + LINE, &mine,
                                 &nd->win, why, sizeof why))
        goto fallback;
    ok = 1;
    for (int r = 0; r < size; r++) {
        MPI_Aint bytes;
        int disp;
        void *seg = NULL;
        MPI_Win_shared_query(nd->win, r, &bytes, &disp, &seg);
        /* Each segment has a line to spare: its parts start on the first
         * line boundary in it. The mapping is page-aligned in every
         * process, so the offset is the same in all of them. */
        char *base = seg ? (char *)seg + (LINE - (uintptr_t)seg % LINE) % LINE : NULL;
        if (r == 0 && base) {
            nd->counter = (_Atomic uint64_t *)(void *)base;
            base += LINE;
            nd->params = (double *)(void *)base;
        }
        acc[r] = base ? (int64_t *)(void *)(base + (r == 0 ? par_bytes : 0)) : NULL;
        ok &= acc[r] != NULL;
    }
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm); /* collective */
    if (!ok) {                  /* cannot happen for a window just allocated */
        MPI_Win_free(&nd->win); /* collective */
        snprintf(why, sizeof why, "MPI_Win_shared_query failed");
        goto fallback;
    }
    /* Zero accumulators; parameters are the caller's to fill. */
    memset(acc[rank], 0, acc_bytes);
    if (rank == 0)
        atomic_init(nd->counter, 0);
    MPI_Comm_dup(comm, &nd->comm); /* collective */
    nd->acc = acc;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, nd->win);
    stdbp_dist_node_sync(nd);
    *out = nd;
    return STDBP_OK;
fallback:
    if (rank == 0)
        stdbp_log(STDBP_LOG_WARNING,
                  "train.shared_memory: no shared-memory window for the update (%s); the ranks "
                  "exchange gradients and parameters through MPI instead",
                  why);
    free(nd);
    free(acc);
    return STDBP_OK;
}

int64_t *stdbp_dist_node_acc(const stdbp_dist_node *nd, int rank)
{
    return nd->acc[rank];
}

double *stdbp_dist_node_params(const stdbp_dist_node *nd)
{
    return nd->params;
}

uint64_t stdbp_dist_node_next(stdbp_dist_node *nd)
{
    /* Relaxed: the index only picks the work; its results are ordered by
     * the syncs. */
    return atomic_fetch_add_explicit(nd->counter, 1, memory_order_relaxed);
}

void stdbp_dist_node_restart(stdbp_dist_node *nd)
{
    atomic_store_explicit(nd->counter, 0, memory_order_relaxed);
}

void stdbp_dist_node_sync(stdbp_dist_node *nd)
{
    /* This rank's stores reach the window; the barrier orders them
     * before every other rank's loads that follow its own sync. */
    MPI_Win_sync(nd->win);
    MPI_Barrier(nd->comm); /* collective */
    MPI_Win_sync(nd->win);
}

void stdbp_dist_node_free(stdbp_dist_node **nd)
{
    if (!nd || !*nd)
        return;
    MPI_Win_unlock_all((*nd)->win);
    MPI_Win_free(&(*nd)->win); /* collective */
    MPI_Comm_free(&(*nd)->comm);
    free((*nd)->acc);
    free(*nd);
    *nd = NULL;
}
