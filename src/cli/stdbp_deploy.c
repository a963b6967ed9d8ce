/* stdbp_deploy: quantise a trained checkpoint, map it onto a simulated
 * multi-core neuromorphic accelerator and report power and latency.
 *   stdbp_deploy CHECKPOINT.h5 [--hw PROFILE.yaml] [--set key=value]...
 * The post-processing phase of stdbp_train on its own (rank 0 works; more
 * ranks are allowed and simply wait). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/deploy_phase.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/stdbp.h"

static const char usage[] =
    "Usage: stdbp_deploy CHECKPOINT.h5 [OPTION]...\n"
    "Quantise the network of a checkpoint (weights to n-bit fixed point, spike\n"
    "times to integer steps), map it onto a simulated multi-core accelerator,\n"
    "simulate the test images and report accuracy, power (mW), latency (ms),\n"
    "energy (uJ) per image, per-layer and per-core breakdowns and mesh traffic.\n"
    "Writes report.json and report.h5 into the output directory.\n"
    "\n"
    "Options:\n"
    "  --hw PROFILE.yaml     accelerator profile (default: deploy.hw of the\n"
    "                        stored config; built-in default when empty);\n"
    "                        see configs/hw/ and docs/HARDWARE.md\n"
    "  --out DIR             where the report goes (default: run.dir of the\n"
    "                        stored config)\n"
    "  --set KEY.PATH=VALUE  override a key of the stored config (repeatable),\n"
    "                        e.g. --set deploy.bits=[4,8,16] --set deploy.samples=1000\n"
    "  -h, --help            print this help and exit\n"
    "  --version             print the version and exit\n";

static int finish(int code, char **sets)
{
    free(sets);
    MPI_Finalize();
    return code;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"hw", required_argument, NULL, 'w'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"set", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank, c, n_sets = 0;
    const char *hw = NULL, *out = NULL;
    char **sets;
    stdbp_err err;
    stdbp_config cfg;
    stdbp_dataset test;
    stdbp_net *net = NULL;

    stdbp_cli_init(&argc, &argv, "stdbp_deploy");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&test, 0, sizeof test);
    sets = calloc((size_t)argc + 2, sizeof *sets);
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w': hw = optarg; break;
        case 'o': out = optarg; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'h':
        case 'V':
            if (rank == 0)
                fputs(c == 'h' ? usage : "stdbp_deploy " STDBP_VERSION "\n", stdout);
            return finish(0, sets);
        default:
            if (rank == 0)
                fprintf(stderr, "Try 'stdbp_deploy --help'.\n");
            return finish(2, sets);
        }
    }
    if (optind != argc - 1) {
        if (rank == 0)
            fprintf(stderr, "stdbp_deploy: give exactly one CHECKPOINT.h5\n"
                            "Try 'stdbp_deploy --help'.\n");
        return finish(2, sets);
    }
    const char *path = argv[optind];

    stdbp_status st = stdbp_cli_load_checkpoint(comm, path, sets, n_sets, &cfg, &test, &net, &err);
    if (st == STDBP_OK && hw)
        snprintf(cfg.deploy.hw, sizeof cfg.deploy.hw, "%s", hw);
    if (st == STDBP_OK && out)
        snprintf(cfg.run.out_dir, sizeof cfg.run.out_dir, "%s", out);
    if (st == STDBP_OK)
        st = stdbp_deploy_phase(comm, &cfg, net, &test, &err);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    if (st != STDBP_OK) {
        free(sets);
        return stdbp_cli_fail(comm, "stdbp_deploy", &err);
    }
    return finish(0, sets);
}
