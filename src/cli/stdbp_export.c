/* stdbp_export: a trained network, from a checkpoint, to other formats.
 *   stdbp_export CHECKPOINT.h5|RUN_DIR --nir OUT.nir [--nir-profile exact|portable]
 * The network is rebuilt from the config stored in the checkpoint (as
 * stdbp_eval does) and its weights are loaded and verified by
 * stdbp_ckpt_read; no data set is needed. MPI program: one rank is enough
 * (run it directly or with mpirun -np 1); with more, rank 0 writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "stdbp/nir.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/stdbp.h"

static const char usage_head[] =
    "Usage: stdbp_export CHECKPOINT.h5|RUN_DIR --nir OUT.nir [OPTION]...\n"
    "Export a trained network to NIR, the Neuromorphic Intermediate Representation\n"
    "(an HDF5 file that Python's nir.read() loads, for other simulators and hardware).\n"
    "The network is rebuilt from the config stored in the checkpoint; no data set is\n"
    "needed. A RUN_DIR means its newest valid checkpoint.\n"
    "\n"
    "Each ReL-PSP layer becomes Affine (or Conv2d) -> I -> IF (with --nir-profile\n"
    "portable: -> CubaLIF), pooling becomes SumPool2d -> IF (the earliest-spike gate),\n"
    "flatten becomes Flatten. Every IF and CubaLIF fires at most once (v_reset = -1e30\n"
    "after its spike); what NIR cannot say (t_max, the latency input code) is in the\n"
    "graph's metadata. Mapping and caveats: docs/NIR.md.\n"
    "\n"
    "Options:\n";
static const char usage_tail[] =
    "\n"
    "Example:\n"
    "  stdbp_export runs/mnist --nir mnist.nir\n"
    "  python3 -c 'import nir; g = nir.read(\"mnist.nir\"); print(g.nodes.keys())'\n";

typedef struct export_args {
    const char *source, *out, *profile;
    int quiet;
} export_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, export_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_STRING,
         .name = "nir",
         .metavar = "OUT.nir",
         .help = "write the NIR graph to OUT.nir (replaced if it exists)",
         .target = &a->out},
        {.kind = STDBP_CLI_STRING,
         .name = "nir-profile",
         .metavar = "exact|portable",
         .help = "exact (default): Affine/Conv2d -> I -> IF, stdbp's neuron exactly;\n"
                 "portable: Affine/Conv2d -> CubaLIF, the nodes snnTorch's and Norse's\n"
                 "importers map (approximates the ramp: docs/NIR.md)",
         .target = &a->profile},
        {.kind = STDBP_CLI_FLAG,
         .name = "quiet",
         .short_name = 'q',
         .help = "print nothing on success",
         .target = &a->quiet,
         .value = 1},
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {
        "stdbp_export",     usage_head, usage_tail, options, "CHECKPOINT.h5 or RUN_DIR",
        STDBP_CLI_GIVE_ONE, rank == 0};
    int rc;
    memset(a, 0, sizeof *a);
    if ((rc = stdbp_cli_parse(&spec, argc, argv, &a->source)) != 0)
        return rc;
    if (!a->out || !a->out[0])
        return stdbp_cli_bad_usage(&spec, 1, "say what to write: --nir OUT.nir");
    if (a->profile && strcmp(a->profile, "exact") != 0 && strcmp(a->profile, "portable") != 0)
        return stdbp_cli_bad_usage(&spec, 1, "--nir-profile: say exact or portable, not '%s'",
                                   a->profile);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    export_args args;
    char *stored = NULL, *yaml = NULL, path[4096], digest[128] = "";
    stdbp_err err;
    stdbp_config cfg;
    stdbp_net *net = NULL;
    stdbp_train_state state;
    stdbp_shape shape = {0, 0, 0};

    stdbp_cli_init(&argc, &argv, "stdbp_export");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    int rc = parse_args(argc, argv, &args, rank);
    if (rc != 0) {
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }
    const char *out = args.out;

    stdbp_status st = stdbp_cli_resolve_checkpoint(comm, args.source, path, sizeof path, &err);
    /* Rank 0 reads the stored config; every rank gets the parsed result. */
    if (st == STDBP_OK) {
        st = rank == 0 ? stdbp_ckpt_read_config(path, &stored, &err) : STDBP_OK;
        st = stdbp_dist_agree(comm, st, &err);
    }
    if (st == STDBP_OK)
        st = stdbp_cli_load_config(comm, NULL, stored ? stored : "", NULL, 0, &cfg, &yaml, &err);
    if (st == STDBP_OK) {
        st = rank == 0 ? stdbp_ckpt_read_info(path, &shape, digest, sizeof digest, &err) : STDBP_OK;
        st = stdbp_dist_agree(comm, st, &err);
        if (cfg.network.input.c > 0) /* set in the config: net_create checks the rest */
            shape = cfg.network.input;
    }
    if (st == STDBP_OK) {
        MPI_Bcast(&shape, 3, MPI_INT, 0, comm);
        st = stdbp_net_create(shape, cfg.network.layers, cfg.network.n_layers, &cfg.network.neuron,
                              &net, &err);
        st = stdbp_dist_agree(comm, st, &err);
    }
    if (st == STDBP_OK)
        st = stdbp_ckpt_read(comm, path, net, NULL, &state, NULL, &err);
    if (st == STDBP_OK) {
        if (rank == 0) {
            const stdbp_nir_source src = {
                .checkpoint = path,
                .digest = digest[0] ? digest : NULL,
                .has_step = 1,
                .step = state.step,
                .config_yaml = yaml,
                .encoding = &cfg.encoding,
                .profile = args.profile && !strcmp(args.profile, "portable") ? STDBP_NIR_PORTABLE
                                                                             : STDBP_NIR_EXACT};
            struct stat a, b;
            if (stat(out, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino)
                st = stdbp_err_set(&err, STDBP_EINVAL,
                                   "%s is the checkpoint itself: give another --nir file", out);
            else
                st = stdbp_nir_write(out, net, &src, &err);
        }
        st = stdbp_dist_agree(comm, st, &err);
    }
    if (st == STDBP_OK && rank == 0 && !args.quiet) {
        char buf[128];
        printf("stdbp_export: wrote %s (NIR graph, %zu layers:", out, stdbp_net_num_layers(net));
        for (size_t l = 0; l < stdbp_net_num_layers(net); l++) {
            stdbp_layer_info L = stdbp_net_layer(net, l);
            printf("%s %s", l ? "," : "", stdbp_layer_describe(&L, buf, sizeof buf));
        }
        printf(") from %s, step %llu\n", path, (unsigned long long)state.step);
    }
    stdbp_net_destroy(&net);
    free(stored);
    free(yaml);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_export", &err);
    MPI_Finalize();
    return 0;
}
