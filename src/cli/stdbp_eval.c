/* stdbp_eval: test-set accuracy of a checkpoint, MPI-parallel.
 *   mpirun -np P stdbp_eval CHECKPOINT.h5 [--set key.path=value]...
 * The network and data settings come from the config stored in the
 * checkpoint; --set can point at another test set (data.test=...). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/stdbp.h"
#include "stdbp/train.h"

static const char usage[] =
    "Usage: mpirun -np P stdbp_eval CHECKPOINT.h5 [OPTION]...\n"
    "Evaluate a checkpoint on its test set (data.test of the config stored in\n"
    "the checkpoint), split across the MPI ranks. Prints accuracy and loss.\n"
    "\n"
    "Options:\n"
    "  --set KEY.PATH=VALUE  override a key of the stored config (repeatable),\n"
    "                        e.g. --set data.dir=/scratch/data\n"
    "  -h, --help            print this help and exit\n"
    "  --version             print the version and exit\n";

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"set", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank, c, n_sets = 0;
    char **sets;
    stdbp_err err;
    stdbp_config cfg;
    stdbp_dataset test;
    stdbp_net *net = NULL;
    stdbp_ws *ws = NULL;
    double *times = NULL;
    stdbp_eval_result res;

    stdbp_cli_init(&argc, &argv, "stdbp_eval");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&test, 0, sizeof test);
    sets = calloc((size_t)argc, sizeof *sets);
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 's') {
            sets[n_sets++] = optarg;
        } else if (c == 'h' || c == 'V') {
            if (rank == 0)
                fputs(c == 'h' ? usage : "stdbp_eval " STDBP_VERSION "\n", stdout);
            free(sets);
            MPI_Finalize();
            return 0;
        } else {
            if (rank == 0)
                fprintf(stderr, "Try 'stdbp_eval --help'.\n");
            free(sets);
            MPI_Finalize();
            return 2;
        }
    }
    if (optind != argc - 1) {
        if (rank == 0)
            fprintf(stderr, "stdbp_eval: give exactly one CHECKPOINT.h5\nTry 'stdbp_eval --help'.\n");
        free(sets);
        MPI_Finalize();
        return 2;
    }
    const char *path = argv[optind];

    stdbp_status st = stdbp_cli_load_checkpoint(comm, path, sets, n_sets, &cfg, &test, &net, &err);
    if (st == STDBP_OK)
        st = stdbp_ws_create(net, &ws, &err);
    if (st == STDBP_OK && !(times = calloc(test.dim, sizeof *times)))
        st = stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    st = stdbp_dist_agree(comm, st, &err);
    if (st == STDBP_OK) {
        size_t n = test.n;
        if (cfg.data.n_test > 0 && (size_t)cfg.data.n_test < n)
            n = (size_t)cfg.data.n_test;
        st = stdbp_evaluate(comm, net, ws, &test, NULL, n, &cfg.encoding, &cfg.loss, times, &res,
                            &err);
    }
    if (st == STDBP_OK && rank == 0)
        printf("%s: test accuracy %.2f%% (%llu samples of %s), loss %.4f\n", path,
               100 * res.accuracy, (unsigned long long)res.n, test.source, res.loss);
    free(times);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    free(sets);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_eval", &err);
    MPI_Finalize();
    return 0;
}
