/* stdbp_deploy: quantise a trained checkpoint, map it onto a simulated
 * multi-core neuromorphic accelerator and report power and latency.
 *   stdbp_deploy CHECKPOINT.h5 [--hw PROFILE.yaml] [--set key=value]...
 *                [--sensitivity]
 * The post-processing phase of stdbp_train on its own (rank 0 works; more
 * ranks are allowed and simply wait); --sensitivity varies each profile
 * parameter over its range instead (stdbp_hw_sensitivity). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "cli/deploy_phase.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/hw.h"
#include "stdbp/stdbp.h"

static const char usage_head[] =
    "Usage: stdbp_deploy CHECKPOINT.h5 [OPTION]...\n"
    "Quantise the network of a checkpoint (weights to n-bit fixed point, spike\n"
    "times to integer steps), map it onto a simulated multi-core accelerator,\n"
    "simulate the test images and report accuracy, power (mW), latency (ms),\n"
    "energy (uJ) per image, per-layer and per-core breakdowns and mesh traffic.\n"
    "Writes report.json and report.h5 into the output directory. With\n"
    "--sensitivity: each parameter of the profile at the low and high end of\n"
    "its range instead (table, and sensitivity.json in the output directory;\n"
    "draw it with stdbp_plot --tornado).\n"
    "\n"
    "Options:\n";

typedef struct deploy_args {
    const char *path, *hw, *out;
    int sensitivity;
    stdbp_cli_list sets;
} deploy_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, deploy_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_STRING,
         .name = "hw",
         .metavar = "PROFILE.yaml",
         .help = "accelerator profile (default: deploy.hw of the\n"
                 "stored config; built-in default when empty);\n"
                 "see configs/hw/ and docs/HARDWARE.md",
         .target = &a->hw},
        {.kind = STDBP_CLI_STRING,
         .name = "out",
         .metavar = "DIR",
         .help = "where the report goes (default: run.dir of the\n"
                 "stored config)",
         .target = &a->out},
        {.kind = STDBP_CLI_FLAG,
         .name = "sensitivity",
         .help = "vary each profile parameter over its range (the\n"
                 "first width of deploy.bits) and write\n"
                 "sensitivity.json instead of the report",
         .target = &a->sensitivity,
         .value = 1},
        STDBP_CLI_OPT_SET(&a->sets, "override a key of the stored config (repeatable),\n"
                                    "e.g. --set deploy.bits=[4,8,16] --set deploy.samples=1000"),
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {"stdbp_deploy",  usage_head,         "",       options,
                                 "CHECKPOINT.h5", STDBP_CLI_GIVE_ONE, rank == 0};
    memset(a, 0, sizeof *a);
    return stdbp_cli_parse(&spec, argc, argv, &a->path);
}

/* An option's path into a config field of size len, whole or not at all. */
static stdbp_status copy_path(const char *option, const char *value, char *field, size_t len,
                              stdbp_err *err)
{
    size_t n = strlen(value);
    if (n >= len)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "%s: path too long (%zu bytes, at most %zu): %.60s...", option, n,
                             len - 1, value);
    memcpy(field, value, n + 1);
    return STDBP_OK;
}

/* --sensitivity. Collective on comm (rank 0 works, the others wait for its
 * verdict). */
static stdbp_status sensitivity(MPI_Comm comm, const stdbp_config *cfg, const stdbp_net *net,
                                const stdbp_dataset *test, stdbp_err *err)
{
    int rank;
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        const size_t n = stdbp_deploy_samples(cfg, test);
        printf("deploy: sensitivity of %zu test images on %s\n", n < test->n ? n : test->n,
               cfg->deploy.hw[0] ? cfg->deploy.hw : "the built-in default profile");
        fflush(stdout);
        st = stdbp_hw_sensitivity(net, test, &cfg->encoding, cfg->deploy.bits[0],
                                  cfg->deploy.time_steps, cfg->deploy.hw, n, cfg->run.out_dir,
                                  stdout, err);
        fflush(stdout);
    }
    return stdbp_dist_agree(comm, st, err); /* collective */
}

static int finish(int code, char **sets)
{
    free(sets);
    MPI_Finalize();
    return code;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    deploy_args args;
    stdbp_err err;
    stdbp_config cfg;
    stdbp_dataset test;
    stdbp_net *net = NULL;

    stdbp_cli_init(&argc, &argv, "stdbp_deploy");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&test, 0, sizeof test);
    int rc = parse_args(argc, argv, &args, rank);
    if (rc != 0)
        return finish(rc < 0 ? 0 : rc, args.sets.items);
    /* deploy.enabled first (the user's --set may still turn it off): the
     * stored config may say false, and validation checks the deploy
     * settings (deploy.time_steps against the window) only when enabled */
    char enable[] = "deploy.enabled=true";
    char **sets = malloc(((size_t)args.sets.n + 1) * sizeof *sets);
    if (!sets) {
        free(args.sets.items);
        fprintf(stderr, "stdbp_deploy: error: out of memory\n");
        MPI_Finalize();
        return 1;
    }
    sets[0] = enable;
    for (int k = 0; k < args.sets.n; k++)
        sets[k + 1] = args.sets.items[k];
    stdbp_status st =
        stdbp_cli_load_checkpoint(comm, args.path, sets, args.sets.n + 1, &cfg, &test, &net, &err);
    free(sets);
    if (st == STDBP_OK && args.hw)
        st = copy_path("--hw", args.hw, cfg.deploy.hw, sizeof cfg.deploy.hw, &err);
    if (st == STDBP_OK && args.out)
        st = copy_path("--out", args.out, cfg.run.out_dir, sizeof cfg.run.out_dir, &err);
    if (st == STDBP_OK && args.sensitivity)
        st = sensitivity(comm, &cfg, net, &test, &err);
    else if (st == STDBP_OK)
        st = stdbp_deploy_phase(comm, &cfg, net, &test, NULL, &err);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    if (st != STDBP_OK) {
        free(args.sets.items);
        return stdbp_cli_fail(comm, "stdbp_deploy", &err);
    }
    return finish(0, args.sets.items);
}
