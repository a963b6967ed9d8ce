/* stdbp_eval: test-set accuracy of a checkpoint, MPI-parallel.
 *   mpirun -np P stdbp_eval CHECKPOINT.h5 [--set key.path=value]...
 *       [--classes FILE]
 * The network and data settings come from the config stored in the
 * checkpoint; --set can point at another test set (data.test=...).
 * --classes writes each test sample's predicted class (rank 0), for
 * comparing with another simulator (tests/tools/nir_sim.py). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/stdbp.h"
#include "stdbp/train.h"

static const char usage_head[] =
    "Usage: mpirun -np P stdbp_eval CHECKPOINT.h5 [OPTION]...\n"
    "Evaluate a checkpoint on its test set (data.test of the config stored in\n"
    "the checkpoint), split across the MPI ranks. Prints accuracy and loss.\n"
    "With --classes FILE, also writes one line per test sample: its index, its\n"
    "label and the predicted class (the earliest output spike; -1 if all are silent).\n"
    "\n"
    "Options:\n";

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, stdbp_cli_list *sets, const char **path,
                      const char **classes, int rank)
{
    const stdbp_cli_option options[] = {
        STDBP_CLI_OPT_SET(sets, "override a key of the stored config (repeatable),\n"
                                "e.g. --set data.dir=/scratch/data"),
        {.kind = STDBP_CLI_STRING,
         .name = "classes",
         .metavar = "FILE",
         .help = "write each test sample's index, label and predicted class to FILE",
         .target = classes},
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {"stdbp_eval",    usage_head,         "",       options,
                                 "CHECKPOINT.h5", STDBP_CLI_GIVE_ONE, rank == 0};
    return stdbp_cli_parse(&spec, argc, argv, path);
}

/* Rank 0: "index label class" for samples 0..n-1 into path. */
static stdbp_status write_classes(const char *path, const stdbp_net *net, stdbp_ws *ws,
                                  const stdbp_dataset *ds, size_t n, const stdbp_encoding *enc,
                                  double *times, stdbp_err *err)
{
    const size_t n_out = stdbp_net_output_size(net);
    FILE *f = fopen(path, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "# index label class (stdbp_eval --classes)\n");
    for (size_t i = 0; i < n; i++) {
        const double *out;
        stdbp_status st =
            stdbp_sample_forward(net, ws, enc, NULL, 0, 0, ds, i, times, NULL, &out, err);
        if (st != STDBP_OK) {
            fclose(f);
            return st;
        }
        fprintf(f, "%zu %d %d\n", i, (int)ds->labels[i], stdbp_classify(out, n_out));
    }
    if (ferror(f) | (fclose(f) != 0))
        return stdbp_err_set(err, STDBP_EIO, "%s: write failed", path);
    return STDBP_OK;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    stdbp_cli_list sets = {NULL, 0};
    const char *path = NULL, *classes = NULL;
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
    int rc = parse_args(argc, argv, &sets, &path, &classes, rank);
    if (rc != 0) {
        free(sets.items);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }

    stdbp_status st =
        stdbp_cli_load_checkpoint(comm, path, sets.items, sets.n, &cfg, &test, &net, &err);
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
    if (st == STDBP_OK && classes) {
        size_t n = test.n;
        if (cfg.data.n_test > 0 && (size_t)cfg.data.n_test < n)
            n = (size_t)cfg.data.n_test;
        st = rank == 0 ? write_classes(classes, net, ws, &test, n, &cfg.encoding, times, &err)
                       : STDBP_OK;
        st = stdbp_dist_agree(comm, st, &err);
    }
    if (st == STDBP_OK && rank == 0)
        printf("%s: test accuracy %.2f%% (%llu samples of %s), loss %.4f\n", path,
               100 * res.accuracy, (unsigned long long)res.n, test.source, res.loss);
    free(times);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    free(sets.items);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_eval", &err);
    MPI_Finalize();
    return 0;
}
