/* stdbp_train: data-parallel training of a ReL-PSP network with STDBP.
 *   mpirun -np P stdbp_train CONFIG.yaml [--set key.path=value]...
 *                            [--resume auto|PATH]
 * Every rank runs this same program; see --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "cli/deploy_phase.h"
#include "stdbp/stdbp.h"
#include "stdbp/train.h"
#ifdef STDBP_TEST_HOOKS
/* tests/tools/stdbp_train_hooked only (tests/tools/train_hooks.c): set the
 * library's fault-injection hooks from the environment. */
void stdbp_train_hooks_from_env(void);
#endif

static const char usage_head[] =
    "Usage: mpirun -np P stdbp_train CONFIG.yaml [OPTION]...\n"
    "Train a spiking network of ReL-PSP neurons with exact STDBP, data-parallel\n"
    "over the MPI ranks (also under srun). The run directory (run.dir in the\n"
    "config) receives config.yaml, checkpoints/, metrics.csv, metrics.h5,\n"
    "spikes.h5 and the accelerator report.\n"
    "\n"
    "Options:\n";
static const char usage_tail[] =
    "\n"
    "Signals: SIGTERM or SIGUSR1 (SLURM --signal) make every rank finish the\n"
    "current step, write a checkpoint and exit with status 75; rerun with\n"
    "--resume auto to continue bitwise where it stopped. During the final\n"
    "deploy phase they stop it after the current image (no report; the\n"
    "training's checkpoint is written) and exit with status 75. While the data\n"
    "sets load, they stop the load within a second and exit with status 75\n"
    "(nothing trained, no checkpoint written).\n"
    "\n"
    "Exit status: 0 done, 1 error (message on stderr), 2 bad command line,\n"
    "75 stopped by a signal after a checkpoint.\n";

typedef struct train_args {
    const char *config, *run_dir, *hw;
    stdbp_cli_list sets;
    const char *resume;
    const char *exit_file;
    long max_steps;
    int progress, quiet, deploy, discard_later;
} train_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, train_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        STDBP_CLI_OPT_SET(&a->sets, "override a config key (repeatable), e.g.\n"
                                    "--set optimizer.lr=3e-4 --set train.epochs=2\n"
                                    "(docs/CONFIG.md lists every key)"),
        {.kind = STDBP_CLI_STRING,
         .name = "run-dir",
         .metavar = "DIR",
         .help = "the run directory (as --set run.dir=DIR)",
         .target = &a->run_dir},
        {.kind = STDBP_CLI_STRING,
         .name = "hw",
         .metavar = "NAME|PROFILE.yaml",
         .help = "accelerator profile of the deploy phase, a shipped\n"
                 "one by NAME or a file (as --set deploy.hw=...; see\n"
                 "stdbp_deploy --help)",
         .target = &a->hw},
        STDBP_CLI_OPT_RESUME(&a->resume, "continue from the newest valid checkpoint in the\n"
                                         "run directory (auto; a fresh start if none), or\n"
                                         "from the checkpoint file PATH. Without it, a run\n"
                                         "directory that holds checkpoints is refused"),
        {.kind = STDBP_CLI_FLAG,
         .name = "discard-later",
         .help = "with --resume PATH: continue from PATH although the\n"
                 "run directory holds checkpoints of later steps (they\n"
                 "are moved aside as ckpt-N.h5.discarded, and a later\n"
                 "best.h5 as best.h5.discarded); without it,\n"
                 "that is refused",
         .target = &a->discard_later,
         .value = 1},
        {.kind = STDBP_CLI_PARSE,
         .name = "max-steps",
         .metavar = "N",
         .help = "stop with a checkpoint after N optimiser steps in\n"
                 "total (for tests and time-boxed jobs)",
         .target = &a->max_steps,
         .parse = stdbp_cli_parse_positive,
         .bad = "--max-steps needs a positive integer, got '%s'"},
        STDBP_CLI_OPT_EXIT_FILE(&a->exit_file, "jobs/train.sbatch"),
        STDBP_CLI_OPT_PROGRESS(&a->progress, "bar | log | auto (default auto: a bar on a\n"
                                             "terminal, log lines otherwise)"),
        STDBP_CLI_OPT_NO_DEPLOY(&a->deploy),
        STDBP_CLI_OPT_QUIET(&a->quiet, "no progress output (errors still go to stderr)"),
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {"stdbp_train", usage_head,    usage_tail,
                                 options,       "CONFIG.yaml", STDBP_CLI_MISSING_MORE,
                                 rank == 0};
    memset(a, 0, sizeof *a);
    a->progress = -1;
    a->deploy = 1;
    return stdbp_cli_parse(&spec, argc, argv, &a->config);
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
        free(args.sets.items);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }
    /* Before anything slow, so that an early signal is not lost. */
    stdbp_signals_install();

    /* --run-dir and --hw are --set run.dir=... and --set deploy.hw=...,
     * after the other --set (they are meant) */
    char *run_dir_set = NULL, *hw_set = NULL;
    char **sets = malloc(((size_t)args.sets.n + 2) * sizeof *sets);
    int n_sets = args.sets.n;
    if (sets && args.sets.n)
        memcpy(sets, args.sets.items, (size_t)args.sets.n * sizeof *sets);
    if (sets && args.run_dir && (run_dir_set = malloc(strlen(args.run_dir) + 9)))
        sprintf(run_dir_set, "run.dir=%s", args.run_dir), sets[n_sets++] = run_dir_set;
    if (sets && args.hw && (hw_set = malloc(strlen(args.hw) + 11)))
        sprintf(hw_set, "deploy.hw=%s", args.hw), sets[n_sets++] = hw_set;
    stdbp_status st = STDBP_OK;
    if (!sets || (args.run_dir && !run_dir_set) || (args.hw && !hw_set))
        st = stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    st = stdbp_dist_agree(comm, st, &err);
    if (st == STDBP_OK)
        st = stdbp_cli_load_config(comm, args.config, NULL, sets, n_sets, &cfg, &yaml, &err);
    free(sets);
    free(run_dir_set);
    free(hw_set);
    /* deploy.hw may name a shipped profile: found now, before training */
    if (st == STDBP_OK && args.deploy && cfg.deploy.enabled && !args.max_steps)
        st = stdbp_cli_resolve_hw(comm, cfg.deploy.hw, sizeof cfg.deploy.hw, &err);
    if (st == STDBP_OK) {
        stdbp_trainer_opts opts = {.resume = args.resume,
                                   .config_yaml = yaml,
                                   .quiet = args.quiet,
                                   .progress_tty = args.progress,
                                   .max_steps = args.max_steps,
                                   .discard_later = args.discard_later};
        st = stdbp_trainer_create(comm, &cfg, &opts, &tr, &err);
    }
    if (st == STDBP_ESTOPPED) { /* a signal while loading: nothing to checkpoint, 75 */
        if (rank == 0)
            fprintf(stderr, "stdbp_train: %s\n", err.msg);
        st = STDBP_OK;
        preempted = 1;
    } else if (st == STDBP_OK)
        st = stdbp_trainer_run(tr, &preempted, &err);
    if (st == STDBP_OK && !preempted && args.deploy && cfg.deploy.enabled && !args.max_steps)
        st = stdbp_deploy_phase(comm, &cfg, stdbp_trainer_net(tr), stdbp_trainer_test_set(tr),
                                &preempted, &err); /* a signal: the checkpoint is written, 75 */
    stdbp_trainer_destroy(&tr);
    free(yaml);
    free(args.sets.items);
    if (rank == 0 && args.exit_file)
        stdbp_cli_write_exit_file("stdbp_train", args.exit_file,
                                  st != STDBP_OK ? 1
                                  : preempted    ? STDBP_EXIT_PREEMPTED
                                                 : 0);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_train", &err);
    MPI_Finalize();
    return preempted ? STDBP_EXIT_PREEMPTED : 0;
}
