/* Data parallelism over MPI: the gradient reduction, the sharded
 * parameter update, and agreement on errors so that a failure on one rank
 * ends every rank.
 *
 * Knows nothing of layers: it sums one flat int64 buffer. The buffer holds
 * the fixed-point gradient (see STDBP_GRAD_FRAC_BITS in net.h) followed by
 * a few step statistics; integer sums are associative, so the result is
 * bitwise the same for any number of ranks.
 *
 * MPI errors: stdbp sets no error handler, so every communicator keeps
 * MPI_ERRORS_ARE_FATAL: a failed MPI call aborts the whole job, which ends
 * every rank promptly (a rank that returned an error instead would leave
 * the others waiting in the next collective). So no function here reports
 * an MPI failure, and STDBP_EMPI means only "another rank failed" (for a
 * caller that reports that; stdbp_dist_agree passes on the failing rank's
 * own status). The collectives below that return a status keep it for
 * their callers' uniformity; it is STDBP_OK unless documented otherwise. */
#ifndef STDBP_DIST_H
#define STDBP_DIST_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/error.h"

/* Step statistics appended after the gradient in the reduced buffer. */
enum {
    STDBP_STAT_LOSS,    /* sum of per-sample losses, fixed point */
    STDBP_STAT_CORRECT, /* correctly classified samples */
    STDBP_STAT_SAMPLES, /* samples processed */
    STDBP_STAT_FAILED,  /* ranks that hit an error in this step */
    STDBP_STAT_COUNT
};

/* Collective on comm: in-place MPI_SUM of n int64 values. */
STDBP_API stdbp_status stdbp_dist_sum_i64(MPI_Comm comm, int64_t *buf, size_t n,
                                          stdbp_err *err) STDBP_WUR;

/* Collective on comm: the largest of every rank's *v, on every rank (for
 * timings: which rank was slowest). Cannot fail. */
STDBP_API void stdbp_dist_max_f64(MPI_Comm comm, double *v);

/* Collective on comm: when OMP_NUM_THREADS is unset (or empty), sets
 * OpenMP's thread count (omp_set_num_threads) to the CPUs this process may
 * run on (its affinity: omp_get_num_procs) divided by the ranks of comm on
 * its node, at least 1. Left to itself OpenMP would start a thread per
 * CPU in every rank, and two ranks of a two-core node started with
 * --bind-to none would run four threads. With OMP_NUM_THREADS set, or
 * without OpenMP, changes nothing. Returns the threads a parallel region
 * now gets (omp_get_max_threads; 1 without OpenMP). The stdbp programs
 * call it first thing (stdbp_cli_init). */
STDBP_API int stdbp_dist_default_threads(MPI_Comm comm);

/* The sharded update (ZeRO stage 1). Rather than every rank converting
 * the whole summed gradient and stepping the optimiser over every
 * parameter, rank r owns one contiguous slice of the flat parameters: a
 * reduce-scatter leaves it the sum of its slice, it converts and steps
 * only that, and an all-gather hands every rank the new parameters. The
 * traffic is that of one all-reduce; the work every rank used to repeat
 * on the whole model is divided by the number of ranks. Each parameter
 * still sees the same arithmetic, so the result does not depend on the
 * number of ranks. */
typedef struct stdbp_dist_slices {
    int *count, *displ; /* per rank: its slice's length and start */
    size_t lo, hi;      /* this rank's slice, [lo, hi) */
} stdbp_dist_slices;

/* Not collective: cut n values into one contiguous slice per rank of
 * comm, starts on multiples of 8 values, lengths within 8 of each other.
 * STDBP_EINVAL if n > INT_MAX (MPI counts are int), STDBP_ENOMEM. */
STDBP_API stdbp_status stdbp_dist_slices_init(MPI_Comm comm, size_t n, stdbp_dist_slices *s,
                                              stdbp_err *err) STDBP_WUR;
/* Frees; accepts a zeroed or freed s. */
STDBP_API void stdbp_dist_slices_free(stdbp_dist_slices *s);

/* Collective on comm: buf holds this rank's n int64 values (n the total
 * the slices were cut from); on return buf[0 .. count[rank]) holds the
 * sum over the ranks of this rank's slice. The rest of buf is undefined. */
STDBP_API stdbp_status stdbp_dist_reduce_scatter_i64(MPI_Comm comm, int64_t *buf,
                                                     const stdbp_dist_slices *s,
                                                     stdbp_err *err) STDBP_WUR;
/* Collective on comm: each rank's slice of buf (in place, at its start)
 * reaches every rank, which then holds all n values. */
STDBP_API stdbp_status stdbp_dist_allgather_f64(MPI_Comm comm, double *buf,
                                                const stdbp_dist_slices *s,
                                                stdbp_err *err) STDBP_WUR;
/* Collective on comm: as stdbp_dist_allgather_f64, but only rank 0
 * receives (the other ranks' buf is left as it was). */
STDBP_API stdbp_status stdbp_dist_gather_f64(MPI_Comm comm, double *buf, const stdbp_dist_slices *s,
                                             stdbp_err *err) STDBP_WUR;

/* The sharded update through each node's shared memory. On every node
 * (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)) the ranks' gradient
 * accumulators and one copy of the parameters live in one MPI-3
 * shared-memory window, and the parameters are cut into slices over the
 * node's ranks (stdbp_dist_slices_init on stdbp_dist_node_comm): the
 * rank with place r on its node adds slice r straight out of the node's
 * accumulators (no reduce-scatter), sums it over the nodes with the
 * ranks of place r on the other nodes (one all-reduce on
 * stdbp_dist_node_cross, of n / ranks-per-node values), and steps it in
 * the window, where the node's ranks read it (no all-gather). The same
 * integer sums and the same arithmetic per parameter as the collectives'
 * way, so the same bits. Needs as many ranks on every node. */
typedef struct stdbp_dist_node stdbp_dist_node;

/* Collective on comm: on each node a window of n_acc int64 per rank
 * (zeroed), n_params doubles (one copy, not initialised), every part
 * 64-byte aligned, and a work counter (0). *out is NULL on every rank,
 * and STDBP_OK returned, when the nodes hold different numbers of ranks
 * or a node cannot create its window (rank 0 then logs a warning): the
 * caller goes the collectives' way. STDBP_ENOMEM (agreed over comm). */
STDBP_API stdbp_status stdbp_dist_node_create(MPI_Comm comm, size_t n_acc, size_t n_params,
                                              stdbp_dist_node **out, stdbp_err *err) STDBP_WUR;
/* This rank's node's ranks, in comm's order (the slices' communicator). */
STDBP_API MPI_Comm stdbp_dist_node_comm(const stdbp_dist_node *nd);
/* The ranks with this rank's place on every node, in node order. */
STDBP_API MPI_Comm stdbp_dist_node_cross(const stdbp_dist_node *nd);
/* This node's number (0 .. count - 1, the order of the nodes' first
 * ranks in comm) and the number of nodes. */
STDBP_API int stdbp_dist_node_index(const stdbp_dist_node *nd);
STDBP_API int stdbp_dist_node_count(const stdbp_dist_node *nd);
/* The accumulator of the node's rank r (n_acc values); every rank of the
 * node may read and write any of them, ordered by stdbp_dist_node_sync.
 * Not collective. */
STDBP_API int64_t *stdbp_dist_node_acc(const stdbp_dist_node *nd, int rank);
/* The node's one copy of the parameters. Not collective. */
STDBP_API double *stdbp_dist_node_params(const stdbp_dist_node *nd);
/* out[0, hi - lo) = the sum over the node's accumulators of [lo, hi),
 * which are zeroed (wrapping int64 sums). Not collective. */
STDBP_API void stdbp_dist_node_take_sum(stdbp_dist_node *nd, size_t lo, size_t hi, int64_t *out);
/* Work sharing between the node's ranks (and their threads): the node's
 * counter's value, which the call increments atomically (0, 1, 2, ...
 * across all callers). Not collective; safe from any thread. */
STDBP_API uint64_t stdbp_dist_node_next(stdbp_dist_node *nd);
/* The node's counter back to 0. Not collective: one rank of the node
 * calls it, when none calls stdbp_dist_node_next until the next
 * stdbp_dist_node_sync. */
STDBP_API void stdbp_dist_node_restart(stdbp_dist_node *nd);
/* Collective on the node's ranks: their loads and stores of the window
 * before the call happen before their loads and stores after it
 * (MPI_Win_sync, barrier, MPI_Win_sync). Cannot fail. */
STDBP_API void stdbp_dist_node_sync(stdbp_dist_node *nd);
/* Collective on comm: frees the window; *nd becomes NULL. Accepts NULL
 * (then not collective: NULL on one rank means NULL on every rank). */
STDBP_API void stdbp_dist_node_free(stdbp_dist_node **nd);

/* Collective on comm: every rank passes its own status and err; when any
 * rank failed, every rank returns the lowest failing rank's status, and
 * err holds that rank's message prefixed with "rank R: " (on more than
 * one rank). When every rank failed with the same message (an outcome
 * agreed before, or one failure everywhere), the message is left as it
 * is: never "rank 0: rank 0: ...". Returns STDBP_OK on every rank
 * otherwise. Call it after every fallible phase (config, data,
 * allocation) before the next collective, so that no rank waits in a
 * collective that a failed rank will never reach. */
STDBP_API stdbp_status stdbp_dist_agree(MPI_Comm comm, stdbp_status mine, stdbp_err *err) STDBP_WUR;

/* Broadcasts from rank root to every rank of comm. */

/* Collective on comm: n bytes of buf (any n: sent in pieces of 1 GiB, as
 * MPI counts are int). n must be the same on every rank. Cannot fail. */
STDBP_API void stdbp_dist_bcast_bytes(MPI_Comm comm, void *buf, size_t n, int root);
/* Collective on comm: root's malloc'd string *s (NULL travels as "")
 * replaces *s (freed first) on the other ranks. STDBP_ENOMEM on every rank
 * when any rank cannot allocate it (root's *s is then kept). */
STDBP_API stdbp_status stdbp_dist_bcast_string(MPI_Comm comm, int root, char **s,
                                               stdbp_err *err) STDBP_WUR;
/* Collective on comm: rank root's config reaches every rank (the struct's
 * bytes: it holds no pointers; every rank must run the same build).
 * Returns STDBP_OK. */
STDBP_API stdbp_status stdbp_config_bcast(stdbp_config *cfg, int root, MPI_Comm comm,
                                          stdbp_err *err) STDBP_WUR;

/* One copy of a data set per node (config: data.shared_memory). */
typedef struct stdbp_dist_shared stdbp_dist_shared;

/* Collective on comm: the data set stdbp_dataset_open (data.h) gives for
 * name, data_dir and split, on every rank of comm.
 *
 * With shared zero every rank loads its own copy. With shared nonzero the
 * ranks of one node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)) hold one
 * copy: the node's first rank loads it (honouring the loaders' stop
 * check, stdbp_data_set_stop_check), copies it into an MPI-3
 * shared-memory window (MPI_Win_allocate_shared) and frees its own; the
 * others point *out into the window (MPI_Win_shared_query) once the copy
 * is complete (the others wait for it). *sh then holds the window. When
 * the window cannot be created, the node's first rank logs a warning
 * (stdbp_log) and the node falls back to one private copy per rank
 * (broadcast from the first rank; *sh NULL).
 *
 * Errors are agreed over comm (as stdbp_dist_agree): a load that fails on
 * a node's first rank fails every rank with the loader's own message
 * (STDBP_ESTOPPED for a stop), and *out is zeroed everywhere.
 *
 * Event data sets are shared too (their labels, offsets, times and
 * channels). A shared data set is read-only: its pixels (or events) and
 * labels are the node's one copy (encoding and augmentation write into the caller's buffers,
 * never into the data set). Release it with stdbp_dist_dataset_free,
 * never with stdbp_dataset_free. */
STDBP_API stdbp_status stdbp_dist_dataset_open(MPI_Comm comm, int shared, const char *name,
                                               const char *data_dir, const char *split,
                                               stdbp_dataset *out, stdbp_dist_shared **sh,
                                               stdbp_err *err) STDBP_WUR;
/* Releases a data set of stdbp_dist_dataset_open and zeroes *ds; *sh
 * becomes NULL. Collective on the comm it was opened on when *sh is
 * not NULL (the window's ranks free it together: every rank must reach
 * this call, on success and error paths alike); with *sh NULL it is
 * stdbp_dataset_free and not collective. Accepts a zeroed ds and NULL
 * *sh. */
STDBP_API void stdbp_dist_dataset_free(stdbp_dataset *ds, stdbp_dist_shared **sh);

#endif
