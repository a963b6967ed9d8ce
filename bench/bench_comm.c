/* bench_comm: the collectives of one training step, through the
 * project's own functions in src/dist, timed for message sizes from one
 * value to the models' parameter counts; min and median per size as CSV.
 *   mpirun -np P bench_comm [--ops LIST] [--sizes LIST] [--reps R]
 * A step of the sharded update (src/train/trainer_step.c) is: the sum of
 * the step statistics (stdbp_dist_sum_i64 of a few int64), the
 * reduce-scatter of the int64 gradient (stdbp_dist_reduce_scatter_i64),
 * the all-gather of the new double parameters (stdbp_dist_allgather_f64).
 * See docs/SCALING.md. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/dist.h"

/* The parameter counts of the two recipes (stdbp_train prints them):
 * MLP 784-800-10 and CNN 28x28-16C5p2-P2-32C5-P2-800-128-10. */
#define N_MLP 635200
#define N_CNN 116880
/* The statistics the trainer sums each step: STDBP_STAT_COUNT and the
 * stop flag (STDBP_TRAINER_STAT_SLOTS in src/train/trainer_impl.h). */
#define N_STATS (STDBP_STAT_COUNT + 1)
#define MAX_SIZES 64

static const char usage[] =
    "usage: mpirun -np P bench_comm [--ops LIST] [--sizes LIST] [--reps R] [--warmup W]\n"
    "\n"
    "Times the collectives of one training step of the sharded update, through\n"
    "stdbp's own functions (src/dist), on the P ranks of MPI_COMM_WORLD:\n"
    "  sum    stdbp_dist_sum_i64: in-place MPI_SUM of n int64 (a step sums 5:\n"
    "         its statistics)\n"
    "  rs     stdbp_dist_reduce_scatter_i64 of n int64 (the gradient)\n"
    "  ag     stdbp_dist_allgather_f64 of n doubles (the new parameters)\n"
    "  step   sum of the statistics, then rs and ag of n values, as a step does\n"
    "--ops LIST    comma-separated, default sum,rs,ag,step\n"
    "--sizes LIST  comma-separated value counts n (8 bytes each); default the\n"
    "              powers of 4 from 1 to 262144, then 116880 (the CNN's\n"
    "              parameters) and 635200 (the MLP's)\n"
    "--reps R      timed repetitions per size (default 40; 4 R below 4096\n"
    "              values); --warmup W untimed ones before them (default 5)\n"
    "A repetition starts after a barrier; its time is the slowest rank's.\n"
    "Output (rank 0), CSV: op,ranks,n,bytes,reps,min_us,median_us\n";

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parses a comma-separated list of positive integers into v (at most
 * max). Returns the count, 0 on a malformed list. */
static int parse_sizes(const char *s, size_t *v, int max)
{
    int k = 0;
    while (*s && k < max) {
        char *end;
        unsigned long long x = strtoull(s, &end, 10);
        if (end == s || x == 0 || (*end && *end != ','))
            return 0;
        v[k++] = (size_t)x;
        s = *end ? end + 1 : end;
    }
    return *s ? 0 : k;
}

enum { OP_SUM, OP_RS, OP_AG, OP_STEP, OP_COUNT };
static const char *const op_name[OP_COUNT] = {"sum", "rs", "ag", "step"};

/* One repetition of op on n values (collective). */
static void run_op(int op, size_t n, const stdbp_dist_slices *sl, int64_t *q, double *d,
                   int64_t *stats)
{
    stdbp_status st = STDBP_OK;
    switch (op) {
    case OP_SUM:
        st = stdbp_dist_sum_i64(MPI_COMM_WORLD, q, n, NULL);
        break;
    case OP_RS:
        st = stdbp_dist_reduce_scatter_i64(MPI_COMM_WORLD, q, sl, NULL);
        break;
    case OP_AG:
        st = stdbp_dist_allgather_f64(MPI_COMM_WORLD, d, sl, NULL);
        break;
    default:
        st = stdbp_dist_sum_i64(MPI_COMM_WORLD, stats, N_STATS, NULL);
        if (st == STDBP_OK)
            st = stdbp_dist_reduce_scatter_i64(MPI_COMM_WORLD, q, sl, NULL);
        if (st == STDBP_OK)
            st = stdbp_dist_allgather_f64(MPI_COMM_WORLD, d, sl, NULL);
        break;
    }
    if (st != STDBP_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Times op on n values; rank 0 prints its CSV row. Collective. */
static void bench(int op, size_t n, int reps, int warmup, int rank, int size, int64_t *q, double *d,
                  double *t)
{
    stdbp_dist_slices sl;
    int64_t stats[N_STATS];
    if (stdbp_dist_slices_init(MPI_COMM_WORLD, n, &sl, NULL) != STDBP_OK)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (int r = 0; r < warmup + reps; r++) {
        /* the reduce-scatter leaves only its slice defined: refill */
        for (size_t k = 0; k < n; k++)
            q[k] = (int64_t)(k % 1000) - 500;
        for (int s = 0; s < N_STATS; s++)
            stats[s] = s;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        run_op(op, n, &sl, q, d, stats);
        double mine = MPI_Wtime() - t0, slowest;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (r >= warmup)
            t[r - warmup] = slowest;
    }
    stdbp_dist_slices_free(&sl);
    if (rank != 0)
        return;
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double median = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    printf("%s,%d,%zu,%zu,%d,%.2f,%.2f\n", op_name[op], size, n, 8 * n, reps, 1e6 * t[0],
           1e6 * median);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t sizes[MAX_SIZES];
    int n_sizes = 0, reps = 40, warmup = 5, ops[OP_COUNT] = {1, 1, 1, 1}, bad = 0;
    for (size_t v = 1; v <= 262144; v *= 4)
        sizes[n_sizes++] = v;
    sizes[n_sizes++] = N_CNN;
    sizes[n_sizes++] = N_MLP;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (rank == 0)
                fputs(usage, stdout);
            MPI_Finalize();
            return 0;
        } else if (!strcmp(a, "--sizes") && v) {
            bad = (n_sizes = parse_sizes(v, sizes, MAX_SIZES)) == 0;
            i++;
        } else if (!strcmp(a, "--reps") && v) {
            bad = (reps = atoi(v)) < 1;
            i++;
        } else if (!strcmp(a, "--warmup") && v) {
            bad = (warmup = atoi(v)) < 0;
            i++;
        } else if (!strcmp(a, "--ops") && v) {
            memset(ops, 0, sizeof ops);
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok && !bad; tok = strtok(NULL, ",")) {
                int k = 0;
                while (k < OP_COUNT && strcmp(tok, op_name[k]))
                    k++;
                bad = k == OP_COUNT;
                if (!bad)
                    ops[k] = 1;
            }
            i++;
        } else {
            bad = 1;
        }
    }
    if (bad) {
        if (rank == 0)
            fprintf(stderr, "bench_comm: bad arguments (try --help)\n");
        MPI_Finalize();
        return 2;
    }
    size_t n_max = 0;
    for (int s = 0; s < n_sizes; s++)
        n_max = sizes[s] > n_max ? sizes[s] : n_max;
    int64_t *q = malloc(n_max * sizeof *q);
    double *d = calloc(n_max, sizeof *d);
    double *t = malloc(4 * (size_t)reps * sizeof *t);
    if (!q || !d || !t)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (rank == 0)
        printf("op,ranks,n,bytes,reps,min_us,median_us\n");
    for (int op = 0; op < OP_COUNT; op++)
        for (int s = 0; ops[op] && s < n_sizes; s++)
            bench(op, sizes[s], sizes[s] < 4096 ? 4 * reps : reps, warmup, rank, size, q, d, t);
    free(q);
    free(d);
    free(t);
    MPI_Finalize();
    return 0;
}
