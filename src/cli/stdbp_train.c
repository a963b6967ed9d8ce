/* stdbp_train: data-parallel training of a ReL-PSP network with STDBP.
 *   mpirun -np P stdbp_train CONFIG.yaml [--set key.path=value]...
 *                            [--resume auto|PATH]
 * Every rank runs this same program; see --help. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/deploy_phase.h"
#include "stdbp/stdbp.h"
#include "stdbp/train.h"
#ifdef STDBP_TEST_HOOKS
#include "tools/train_hooks.h" /* tests/tools/stdbp_train_hooked only */
#endif

static const char usage[] =
    "Usage: mpirun -np P stdbp_train CONFIG.yaml [OPTION]...\n"
    "Train a spiking network of ReL-PSP neurons with exact STDBP, data-parallel\n"
    "over the MPI ranks (also under srun). The run directory (run.dir in the\n"
    "config) receives config.yaml, checkpoints/, metrics.csv, metrics.h5,\n"
    "spikes.h5 and the accelerator report.\n"
    "\n"
    "Options:\n"
    "  --set KEY.PATH=VALUE  override a config key (repeatable), e.g.\n"
    "                        --set optimizer.lr=3e-4 --set train.epochs=2\n"
    "                        (docs/CONFIG.md lists every key)\n"
    "  --resume auto|PATH    continue from the newest valid checkpoint in the\n"
    "                        run directory (auto; a fresh start if none), or\n"
    "                        from the checkpoint file PATH. Without it, a run\n"
    "                        directory that holds checkpoints is refused\n"
    "  --max-steps N         stop with a checkpoint after N optimiser steps in\n"
    "                        total (for tests and time-boxed jobs)\n"
    "  --progress MODE       bar | log | auto (default auto: a bar on a\n"
    "                        terminal, log lines otherwise)\n"
    "  --no-deploy           skip the quantisation and accelerator report\n"
    "  --quiet               no progress output (errors still go to stderr)\n"
    "  --version             print the version and exit\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Signals: SIGTERM or SIGUSR1 (SLURM --signal) make every rank finish the\n"
    "current step, write a checkpoint and exit with status 75; rerun with\n"
    "--resume auto to continue bitwise where it stopped.\n"
    "\n"
    "Exit status: 0 done, 1 error (message on stderr), 2 bad command line,\n"
    "75 stopped by a signal after a checkpoint.\n";

typedef struct train_args {
    const char *config;
    char **sets;
    int n_sets;
    const char *resume;
    long max_steps;
    int progress, quiet, deploy;
} train_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, train_args *a, int rank)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},       {"resume", required_argument, NULL, 'r'},
        {"max-steps", required_argument, NULL, 'm'}, {"progress", required_argument, NULL, 'p'},
        {"no-deploy", no_argument, NULL, 'n'},       {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->progress = -1;
    a->deploy = 1;
    a->sets = calloc((size_t)argc, sizeof *a->sets);
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': a->sets[a->n_sets++] = optarg; break;
        case 'r': a->resume = optarg; break;
        case 'm': {
            char *end;
            a->max_steps = strtol(optarg, &end, 10);
            if (*end || a->max_steps <= 0) {
                if (rank == 0)
                    fprintf(stderr, "stdbp_train: --max-steps needs a positive integer, got '%s'\n",
                            optarg);
                return 2;
            }
            break;
        }
        case 'p':
            a->progress = stdbp_cli_progress_mode(optarg);
            if (a->progress == -2) {
                if (rank == 0)
                    fprintf(stderr, "stdbp_train: --progress takes bar, log or auto, not '%s'\n",
                            optarg);
                return 2;
            }
            break;
        case 'n': a->deploy = 0; break;
        case 'q': a->quiet = 1; break;
        case 'V':
            if (rank == 0)
                printf("stdbp_train %s\n", STDBP_VERSION);
            return -1;
        case 'h':
            if (rank == 0)
                fputs(usage, stdout);
            return -1;
        default:
            if (rank == 0)
                fprintf(stderr, "Try 'stdbp_train --help'.\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        if (rank == 0)
            fprintf(stderr, "stdbp_train: %s\nTry 'stdbp_train --help'.\n",
                    optind >= argc ? "missing CONFIG.yaml" : "more than one CONFIG.yaml given");
        return 2;
    }
    a->config = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    stdbp_config cfg;
    stdbp_err err;
    train_args args;
    char *yaml = NULL;
    stdbp_trainer *tr = NULL;
    int rank, preempted = 0;

    stdbp_cli_init(&argc, &argv, "stdbp_train");
#ifdef STDBP_TEST_HOOKS
    stdbp_train_hooks_from_env();
#endif
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    int rc = parse_args(argc, argv, &args, rank);
    if (rc != 0) {
        free(args.sets);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }
    /* Before anything slow, so that an early signal is not lost. */
    stdbp_signals_install();

    stdbp_status st = stdbp_cli_load_config(comm, args.config, NULL, args.sets, args.n_sets, &cfg,
                                            &yaml, &err);
    if (st == STDBP_OK) {
        stdbp_trainer_opts opts = {.resume = args.resume,
                                   .config_yaml = yaml,
                                   .quiet = args.quiet,
                                   .progress_tty = args.progress,
                                   .max_steps = args.max_steps};
        st = stdbp_trainer_create(comm, &cfg, &opts, &tr, &err);
    }
    if (st == STDBP_OK)
        st = stdbp_trainer_run(tr, &preempted, &err);
    if (st == STDBP_OK && !preempted && args.deploy && cfg.deploy.enabled &&
        !args.max_steps)
        st = stdbp_deploy_phase(comm, &cfg, stdbp_trainer_net(tr),
                                stdbp_trainer_test_set(tr), &err);
    stdbp_trainer_destroy(&tr);
    free(yaml);
    free(args.sets);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_train", &err);
    MPI_Finalize();
    return preempted ? STDBP_EXIT_PREEMPTED : 0;
}
