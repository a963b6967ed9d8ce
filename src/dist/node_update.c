/* The sharded update through each node's shared memory; see
 * stdbp_dist_node_create in include/stdbp/dist.h.
 *
 * One window per node: the node's first rank's segment holds the work
 * counter (a line of its own), the parameters and then its accumulator,
 * every other rank's segment its accumulator. Each part is rounded up to
 * whole cache lines and starts on a 64-byte boundary (the kernels' rows
 * are aligned to it), so no two ranks' parts share a line. The window
 * stays in one passive-target epoch (MPI_Win_lock_all) for its life, in
 * which stdbp_dist_node_sync orders the ranks' plain loads and stores.
 *
 * Across nodes: the ranks with the same place on every node (the cross
 * communicator) own the same slice, and sum it over the nodes with one
 * all-reduce of n / (ranks per node) values each. */
#include "stdbp/dist.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/window.h"
#include "util/log.h"

struct stdbp_dist_node {
    MPI_Comm node;  /* this node's ranks */
    MPI_Comm cross; /* the ranks with this rank's place on every node */
    int index;      /* this node's, 0 .. count - 1 */
    int count;      /* nodes */
    int size;       /* ranks per node */
    MPI_Win win;
    _Atomic uint64_t *counter; /* stdbp_dist_node_next's */
    double *params;
    int64_t **acc; /* per rank of node */
};

#define LINE 64

static size_t round_line(size_t bytes)
{
    return (bytes + LINE - 1) / LINE * LINE;
}

/* Collective on comm: this rank's node (ranks in comm's order) and, when
 * every node has as many ranks, the nodes' count, this node's index (the
 * order of the nodes' first ranks in comm) and the cross communicator.
 * Returns 0 (node freed) when the nodes differ in size. */
static int split_nodes(MPI_Comm comm, stdbp_dist_node *nd)
{
    int rank, size, nr, r_min_max[2];
    MPI_Comm lead;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &nd->node);
    MPI_Comm_rank(nd->node, &nr);
    MPI_Comm_size(nd->node, &nd->size);
    r_min_max[0] = nd->size;
    r_min_max[1] = -nd->size;
    MPI_Allreduce(MPI_IN_PLACE, r_min_max, 2, MPI_INT, MPI_MIN, comm); /* collective */
    if (r_min_max[0] != -r_min_max[1]) {
        MPI_Comm_free(&nd->node);
        return 0;
    }
    nd->count = size / nd->size;
    /* The first ranks of the nodes number the nodes; every rank of a
     * node learns its node's number from the first. */
    MPI_Comm_split(comm, nr == 0 ? 0 : MPI_UNDEFINED, rank, &lead); /* collective */
    nd->index = 0;
    if (nr == 0) {
        MPI_Comm_rank(lead, &nd->index);
        MPI_Comm_free(&lead);
    }
    MPI_Bcast(&nd->index, 1, MPI_INT, 0, nd->node);  /* collective on node */
    MPI_Comm_split(comm, nr, nd->index, &nd->cross); /* collective */
    return 1;
}

stdbp_status stdbp_dist_node_create(MPI_Comm comm, size_t n_acc, size_t n_params,
                                    stdbp_dist_node **out, stdbp_err *err)
{
    int rank, nr = 0, ok;
    char why[MPI_MAX_ERROR_STRING + 64] = "";
    *out = NULL;
    MPI_Comm_rank(comm, &rank);
    /* The counter is shared by processes: its atomics must not need a
     * lock (a lock would live in one process's memory). The same answer
     * on every rank of one build. */
    _Atomic uint64_t probe;
    if (!atomic_is_lock_free(&probe))
        return STDBP_OK;
    stdbp_dist_node *nd = calloc(1, sizeof *nd);
    stdbp_status st = nd ? STDBP_OK : stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) { /* collective */
        free(nd);
        return st;
    }
    if (!split_nodes(comm, nd)) { /* collective */
        if (rank == 0)
            stdbp_log(STDBP_LOG_INFO, "the nodes hold different numbers of ranks: the update "
                                      "goes through MPI collectives");
        free(nd);
        return STDBP_OK;
    }
    MPI_Comm_rank(nd->node, &nr);
    nd->acc = calloc((size_t)nd->size, sizeof *nd->acc);
    st = nd->acc ? STDBP_OK : stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) /* collective */
        goto free_comms;

    const size_t par_bytes = round_line(n_params * sizeof(double));
    const size_t acc_bytes = round_line(n_acc * sizeof(int64_t));
    void *mine;
    /* collective on node; agreed over comm below */
    int node_ok =
        stdbp_dist_window_alloc(nd->node, (nr == 0 ? LINE + par_bytes : 0) + acc_bytes + LINE,
                                &mine, &nd->win, why, sizeof why);
    ok = node_ok;
    for (int r = 0; node_ok && r < nd->size; r++) {
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
        nd->acc[r] = base ? (int64_t *)(void *)(base + (r == 0 ? par_bytes : 0)) : NULL;
        if (!nd->acc[r]) { /* cannot happen for a window just allocated */
            ok = 0;
            snprintf(why, sizeof why, "MPI_Win_shared_query failed");
        }
    }
    /* Every node goes one way: a node without a window sends the others
     * back to the collectives too. */
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm); /* collective */
    if (!ok) {
        if (node_ok)
            MPI_Win_free(&nd->win); /* collective on node */
        if (rank == 0)
            stdbp_log(STDBP_LOG_WARNING,
                      "no shared-memory window for the update (%s); the ranks exchange "
                      "gradients and parameters through MPI collectives instead",
                      why[0] ? why : "another node could not create one");
        goto free_comms;
    }
    /* Zero accumulators; parameters are the caller's to fill. */
    memset(nd->acc[nr], 0, acc_bytes);
    if (nr == 0)
        atomic_init(nd->counter, 0);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, nd->win);
    stdbp_dist_node_sync(nd); /* collective on node */
    *out = nd;
    return st;
free_comms:
    MPI_Comm_free(&nd->node);
    MPI_Comm_free(&nd->cross);
    free(nd->acc);
    free(nd);
    return st;
}

MPI_Comm stdbp_dist_node_comm(const stdbp_dist_node *nd)
{
    return nd->node;
}

MPI_Comm stdbp_dist_node_cross(const stdbp_dist_node *nd)
{
    return nd->cross;
}

int stdbp_dist_node_index(const stdbp_dist_node *nd)
{
    return nd->index;
}

int stdbp_dist_node_count(const stdbp_dist_node *nd)
{
    return nd->count;
}

int64_t *stdbp_dist_node_acc(const stdbp_dist_node *nd, int rank)
{
    return nd->acc[rank];
}

double *stdbp_dist_node_params(const stdbp_dist_node *nd)
{
    return nd->params;
}

void stdbp_dist_node_take_sum(stdbp_dist_node *nd, size_t lo, size_t hi, int64_t *out)
{
    /* Wrapping integer sums (as every accumulator's), rank by rank. */
    memcpy(out, nd->acc[0] + lo, (hi - lo) * sizeof *out);
    memset(nd->acc[0] + lo, 0, (hi - lo) * sizeof *out);
    for (int r = 1; r < nd->size; r++) {
        int64_t *a = nd->acc[r] + lo;
        for (size_t i = 0; i < hi - lo; i++) {
            out[i] = (int64_t)((uint64_t)out[i] + (uint64_t)a[i]);
            a[i] = 0;
        }
    }
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
    MPI_Barrier(nd->node); /* collective on node */
    MPI_Win_sync(nd->win);
}

void stdbp_dist_node_free(stdbp_dist_node **nd)
{
    if (!nd || !*nd)
        return;
    MPI_Win_unlock_all((*nd)->win);
    MPI_Win_free(&(*nd)->win); /* collective on node */
    MPI_Comm_free(&(*nd)->node);
    MPI_Comm_free(&(*nd)->cross);
    free((*nd)->acc);
    free(*nd);
    *nd = NULL;
}
