/* stdbp_sweep: hyperparameter sweeps over stdbp_train runs.
 *   stdbp_sweep SWEEP.yaml --list | --count | --summary
 *   mpirun -np P stdbp_sweep SWEEP.yaml --index K [--set k=v]... [--resume auto]
 *   stdbp_sweep SWEEP.yaml --run [-j N] [--ranks P]   (no MPI: sweep_local.h)
 * With --index every rank runs this same program; rank 0 reads the sweep
 * file. See --help, include/stdbp/sweep.h and docs/SLURM.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "cli/deploy_phase.h"
#include "cli/sweep_local.h"
#include "stdbp/sweep.h"
#include "stdbp/dist.h"
#include "stdbp/stdbp.h"
#include "stdbp/train.h"

static const char usage_head[] =
    "Usage: stdbp_sweep SWEEP.yaml --list | --count | --summary [--set KEY=VALUE]...\n"
    "       mpirun -np P stdbp_sweep SWEEP.yaml [--index K] [OPTION]...\n"
    "       stdbp_sweep SWEEP.yaml --run [-j N] [--ranks P] [OPTION]...\n"
    "Expand a hyperparameter sweep over a base config and train one point of it,\n"
    "or all of them on this machine.\n"
    "\n"
    "A sweep file (docs/SLURM.md, configs/sweep_example.yaml) names a base config\n"
    "(`base:`, relative to the sweep file) and, under `params:`, per config key a\n"
    "list of values (a grid: every combination) or a distribution\n"
    "({dist: uniform|loguniform, low: A, high: B} or {dist: choice, values: [...]},\n"
    "drawn `samples:` times, seeded by `seed:`). Points are numbered\n"
    "K = s*G + g: sample s outer, then the grid with the first listed key varying\n"
    "slowest. Point K trains in DIR/NAME/point-KKKK (`dir:` default runs, `name:`\n"
    "default the file name), with its values applied like --set.\n"
    "\n"
    "Modes:\n";
static const char usage_tail[] =
    "\n"
    "Each point's run directory also gets sweep_point.yaml (status: running, done,\n"
    "preempted or failed). Signals as stdbp_train: SIGTERM or SIGUSR1 checkpoint\n"
    "and exit 75 (while the data sets load: exit 75 at once, nothing written);\n"
    "rerun with --resume auto.\n"
    "\n"
    "--run trains every point that is not done, N at a time, each as its own MPI\n"
    "job: LAUNCHER -np P --bind-to none $MPIRUN_ARGS stdbp_sweep SWEEP.yaml\n"
    "--index K --resume auto [--set ...] (with --launcher none: stdbp_sweep itself,\n"
    "one rank), its output appended to RUN_DIR/sweep.log; then it prints the\n"
    "summary as --summary does. Run it again to go on: finished points are\n"
    "skipped, the others resume from their checkpoints. SIGINT, SIGTERM or SIGHUP\n"
    "stop it: the running points get SIGUSR1, checkpoint and exit; a second\n"
    "signal kills them. With -j above 1 and OMP_NUM_THREADS unset, each point gets\n"
    "OMP_NUM_THREADS = CPUs / (N x P). --resume and --exit-file do not go with\n"
    "--run. Run --run itself without mpirun.\n"
    "\n"
    "Exit status: 0 done, 1 error (message on stderr; --run: a point failed),\n"
    "2 bad command line, 75 stopped by a signal after a checkpoint.\n";

enum { MODE_RUN, MODE_LIST, MODE_COUNT, MODE_SUMMARY, MODE_LOCAL };

typedef struct sweep_args {
    const char *sweep;
    stdbp_cli_list sets;
    const char *resume;
    const char *exit_file;
    long index;       /* -1: from SLURM_ARRAY_TASK_ID */
    long jobs, ranks; /* --run: -j N, --ranks P (0: not given) */
    const char *launcher;
    int mode, progress, quiet, deploy;
    int list, count, summary, run; /* how often each mode was given */
} sweep_args;

/* The point to train without --index: SLURM's array task. */
static int index_from_slurm(const stdbp_cli_spec *spec, sweep_args *a)
{
    const char *task = getenv("SLURM_ARRAY_TASK_ID");
    if (!task)
        return stdbp_cli_bad_usage(spec, 0,
                                   "which point? Give --index K, or run it as a SLURM array task "
                                   "(--list shows the points)");
    if (stdbp_cli_parse_index(task, &a->index))
        return stdbp_cli_bad_usage(spec, 0, "SLURM_ARRAY_TASK_ID='%s' is not a point number", task);
    return 0;
}

/* Same argv on every rank, so every rank reaches the same verdict;
 * verbose: print messages and --help. */
static int parse_args(int argc, char **argv, sweep_args *a, int verbose)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_COUNT,
         .name = "list",
         .help = "print every point: index, run directory, values",
         .target = &a->list},
        {.kind = STDBP_CLI_COUNT,
         .name = "count",
         .help = "print the number of points (for sbatch --array=0-$((N-1)))",
         .target = &a->count},
        {.kind = STDBP_CLI_COUNT,
         .name = "summary",
         .help = "collect each point's final metrics into\n"
                 "DIR/NAME/summary.csv and print it, best validation\n"
                 "accuracy first; unfinished points are listed as such",
         .target = &a->summary},
        {.kind = STDBP_CLI_COUNT,
         .name = "run",
         .help = "train every unfinished point on this machine, N at a\n"
                 "time (-j), then print the summary (below)",
         .target = &a->run},
        {.kind = STDBP_CLI_PARSE,
         .name = "index",
         .metavar = "K",
         .help = "train point K on all the ranks of this MPI job; without\n"
                 "--index, $SLURM_ARRAY_TASK_ID is used (SLURM job arrays)",
         .target = &a->index,
         .parse = stdbp_cli_parse_index,
         .bad = "--index needs a point number >= 0, got '%s'"},
        {.kind = STDBP_CLI_TEXT,
         .help = "Every mode first checks the sweep: each value against the config schema and\n"
                 "each point's whole config, so a typo fails before any training starts.\n"
                 "\n"
                 "Options:\n"},
        STDBP_CLI_OPT_SET(&a->sets, "override a config key in every point (repeatable)"),
        {.kind = STDBP_CLI_PARSE,
         .name = "jobs",
         .short_name = 'j',
         .metavar = "N",
         .help = "--run: points at a time (default 1)",
         .target = &a->jobs,
         .parse = stdbp_cli_parse_positive,
         .bad = "--jobs needs a number > 0, got '%s'"},
        {.kind = STDBP_CLI_PARSE,
         .name = "ranks",
         .metavar = "P",
         .help = "--run: MPI ranks per point (default 1)",
         .target = &a->ranks,
         .parse = stdbp_cli_parse_positive,
         .bad = "--ranks needs a number > 0, got '%s'"},
        {.kind = STDBP_CLI_STRING,
         .name = "launcher",
         .metavar = "PROG",
         .help = "--run: mpirun (default), another program that takes\n"
                 "mpirun's -np and --bind-to (mpiexec, a full path), or\n"
                 "none (stdbp_sweep started directly; --ranks 1 only)",
         .target = &a->launcher},
        STDBP_CLI_OPT_RESUME(&a->resume, "as stdbp_train: continue from the newest checkpoint\n"
                                         "of the point's run directory (auto: fresh if none)"),
        STDBP_CLI_OPT_EXIT_FILE(&a->exit_file, "jobs/sweep.sbatch"),
        STDBP_CLI_OPT_PROGRESS(&a->progress, "bar | log | auto (as stdbp_train)"),
        STDBP_CLI_OPT_NO_DEPLOY(&a->deploy),
        STDBP_CLI_OPT_QUIET(&a->quiet, "no progress output"),
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {"stdbp_sweep", usage_head,   usage_tail,
                                 options,       "SWEEP.yaml", STDBP_CLI_MISSING_MORE,
                                 verbose};
    int rc, modes;
    memset(a, 0, sizeof *a);
    a->progress = -1;
    a->deploy = 1;
    a->index = -1;
    if ((rc = stdbp_cli_parse(&spec, argc, argv, &a->sweep)) != 0)
        return rc;
    modes = a->list + a->count + a->summary + a->run;
    if (modes > 1 || (modes && a->index >= 0))
        return stdbp_cli_bad_usage(&spec, 0,
                                   "give one of --list, --count, --summary, --run, --index");
    a->mode = a->list      ? MODE_LIST
              : a->count   ? MODE_COUNT
              : a->summary ? MODE_SUMMARY
              : a->run     ? MODE_LOCAL
                           : MODE_RUN;
    if (a->mode != MODE_LOCAL && (a->jobs || a->ranks || a->launcher))
        return stdbp_cli_bad_usage(&spec, 0, "--jobs, --ranks and --launcher go with --run");
    if (a->mode == MODE_LOCAL && (a->resume || a->exit_file))
        return stdbp_cli_bad_usage(&spec, 0,
                                   "--run always resumes its points (--resume auto) and takes "
                                   "no --resume or --exit-file");
    if (a->mode == MODE_LOCAL) {
        a->jobs = a->jobs ? a->jobs : 1;
        a->ranks = a->ranks ? a->ranks : 1;
        a->launcher = a->launcher && *a->launcher ? a->launcher : "mpirun";
        if (strcmp(a->launcher, "none") == 0 && a->ranks != 1)
            return stdbp_cli_bad_usage(
                &spec, 0, "--launcher none runs one rank per point, not --ranks %ld", a->ranks);
    }
    if (a->mode == MODE_RUN && a->index < 0)
        return index_from_slurm(&spec, a);
    return 0;
}

static void print_list(const stdbp_sweep *sw, char *const *extra, size_t n_extra)
{
    size_t n = stdbp_sweep_count(sw);
    printf("# sweep %s (%s): %zu points = %zu grid x %zu samples; base %s\n", stdbp_sweep_name(sw),
           stdbp_sweep_source(sw), n, stdbp_sweep_grid_size(sw), stdbp_sweep_samples(sw),
           stdbp_sweep_base(sw));
    printf("# point\trun_dir\tparams\n");
    for (size_t k = 0; k < n; k++) {
        stdbp_sweep_point pt;
        if (stdbp_sweep_point_get(sw, k, extra, n_extra, &pt, NULL) != STDBP_OK)
            break; /* out of memory; the check just made every point */
        printf("%zu\t%s\t", k, pt.run_dir);
        for (size_t i = 0; i < pt.n_params; i++)
            printf("%s%s", i ? " " : "", pt.params[i]);
        putchar('\n');
        stdbp_sweep_point_clear(&pt);
    }
}

/* Rank 0: everything but training. *pt receives point K in MODE_RUN. */
static stdbp_status prepare(const sweep_args *a, stdbp_sweep **sw, stdbp_sweep_point *pt,
                            stdbp_err *err)
{
    char *const *extra = a->sets.items;
    size_t n_extra = (size_t)a->sets.n;
    stdbp_status st = stdbp_sweep_load(a->sweep, sw, err);
    if (st == STDBP_OK)
        st = stdbp_sweep_check(*sw, extra, n_extra, err);
    if (st != STDBP_OK)
        return st;
    switch (a->mode) {
    case MODE_LIST:
        print_list(*sw, extra, n_extra);
        break;
    case MODE_COUNT:
        printf("%zu\n", stdbp_sweep_count(*sw));
        break;
    case MODE_SUMMARY:
        st = stdbp_sweep_summary(*sw, extra, n_extra, stdout, NULL, err);
        break;
    case MODE_RUN:
        if ((size_t)a->index >= stdbp_sweep_count(*sw))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "point %ld does not exist: %s has %zu points (0..%zu)", a->index,
                                 a->sweep, stdbp_sweep_count(*sw), stdbp_sweep_count(*sw) - 1);
        st = stdbp_sweep_point_get(*sw, (size_t)a->index, extra, n_extra, pt, err);
        if (st == STDBP_OK)
            st = stdbp_sweep_write_status(*sw, pt, "running", NULL, err);
        if (st == STDBP_OK && !a->quiet) {
            printf("stdbp_sweep: %s point %zu of %zu:", stdbp_sweep_name(*sw), pt->index,
                   stdbp_sweep_count(*sw));
            for (size_t i = 0; i < pt->n_params; i++)
                printf(" %s", pt->params[i]);
            printf(" -> %s\n", pt->run_dir);
        }
        break;
    }
    fflush(stdout);
    return st;
}

/* --run: no MPI in this process (sweep_local.h); returns the exit status. */
static int run_local(const sweep_args *a, const char *argv0)
{
    stdbp_err err;
    stdbp_sweep *sw = NULL;
    stdbp_status st;
    int code = 1;

    stdbp_cli_init_nompi("stdbp_sweep");
    stdbp_err_clear(&err);
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK")) {
        fprintf(stderr, "stdbp_sweep: --run starts an MPI job per point itself: run it "
                        "without mpirun or srun\n");
        return 2;
    }
    st = stdbp_sweep_load(a->sweep, &sw, &err);
    if (st == STDBP_OK)
        st = stdbp_sweep_check(sw, a->sets.items, (size_t)a->sets.n, &err);
    if (st == STDBP_OK) {
        stdbp_sweep_local_opts o = {.sweep_path = a->sweep,
                                    .argv0 = argv0,
                                    .jobs = a->jobs,
                                    .ranks = a->ranks,
                                    .launcher = a->launcher,
                                    .sets = a->sets.items,
                                    .n_sets = (size_t)a->sets.n,
                                    .deploy = a->deploy,
                                    .quiet = a->quiet,
                                    .progress = a->progress};
        st = stdbp_sweep_run_local(sw, &o, &code, &err);
    }
    if (st != STDBP_OK) {
        fflush(stdout);
        fprintf(stderr, "stdbp_sweep: error: %s\n", err.msg);
        code = 1;
    }
    stdbp_sweep_free(&sw);
    return code;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    stdbp_err err;
    sweep_args args;
    stdbp_sweep *sw = NULL;
    stdbp_sweep_point pt;
    stdbp_config cfg;
    stdbp_trainer *tr = NULL;
    char *yaml = NULL;
    int rank, preempted = 0, rc;

    /* --run must not start MPI (sweep_local.h): look for it first,
     * silently; everything else (and a bad command line) goes the usual
     * way, parsed again from the start (optind 0: getopt starts over). */
    if (parse_args(argc, argv, &args, 0) == 0 && args.mode == MODE_LOCAL) {
        rc = run_local(&args, argv[0]);
        free(args.sets.items);
        return rc;
    }
    free(args.sets.items);
    optind = 0;
    stdbp_cli_init(&argc, &argv, "stdbp_sweep");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&pt, 0, sizeof pt);
    rc = parse_args(argc, argv, &args, rank == 0);
    if (rc != 0) {
        free(args.sets.items);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }
    if (args.mode == MODE_RUN)
        stdbp_signals_install(); /* before anything slow: no signal is lost */

    stdbp_status st = rank == 0 ? prepare(&args, &sw, &pt, &err) : STDBP_OK;
    st = stdbp_dist_agree(comm, st, &err); /* collective */
    if (st != STDBP_OK || args.mode != MODE_RUN) {
        stdbp_sweep_point_clear(&pt);
        stdbp_sweep_free(&sw);
        free(args.sets.items);
        if (rank == 0 && args.exit_file)
            stdbp_cli_write_exit_file("stdbp_sweep", args.exit_file, st != STDBP_OK);
        if (st != STDBP_OK)
            return stdbp_cli_fail(comm, "stdbp_sweep", &err);
        MPI_Finalize();
        return 0;
    }

    /* Train point K like stdbp_train: rank 0 loads the base config with
     * the point's overrides and broadcasts it (collective). */
    st = stdbp_cli_load_config(comm, rank == 0 ? stdbp_sweep_base(sw) : NULL, "", pt.sets,
                               rank == 0 ? (int)pt.n_sets : 0, &cfg, &yaml, &err);
    if (st == STDBP_OK) {
        stdbp_trainer_opts opts = {.resume = args.resume,
                                   .config_yaml = yaml,
                                   .quiet = args.quiet,
                                   .progress_tty = args.progress,
                                   .max_steps = 0};
        st = stdbp_trainer_create(comm, &cfg, &opts, &tr, &err);
    }
    if (st == STDBP_ESTOPPED) { /* a signal while loading: nothing to checkpoint, 75 */
        if (rank == 0)
            fprintf(stderr, "stdbp_sweep: %s\n", err.msg);
        st = STDBP_OK;
        preempted = 1;
    } else if (st == STDBP_OK)
        st = stdbp_trainer_run(tr, &preempted, &err);
    if (st == STDBP_OK && !preempted && args.deploy && cfg.deploy.enabled)
        st = stdbp_deploy_phase(comm, &cfg, stdbp_trainer_net(tr), stdbp_trainer_test_set(tr),
                                &preempted, &err); /* a signal: the checkpoint is written, 75 */
    stdbp_trainer_destroy(&tr);
    free(yaml);
    if (rank == 0) {
        stdbp_err e2;
        const char *status = st != STDBP_OK ? "failed" : preempted ? "preempted" : "done";
        if (stdbp_sweep_write_status(sw, &pt, status, st != STDBP_OK ? err.msg : NULL, &e2))
            fprintf(stderr, "stdbp_sweep: warning: %s\n", e2.msg);
        else if (!args.quiet && st == STDBP_OK)
            printf("stdbp_sweep: point %zu %s (%s)\n", pt.index, status, pt.run_dir);
        fflush(stdout);
    }
    stdbp_sweep_point_clear(&pt);
    stdbp_sweep_free(&sw);
    free(args.sets.items);
    if (rank == 0 && args.exit_file)
        stdbp_cli_write_exit_file("stdbp_sweep", args.exit_file,
                                  st != STDBP_OK ? 1
                                  : preempted    ? STDBP_EXIT_PREEMPTED
                                                 : 0);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_sweep", &err);
    MPI_Finalize();
    return preempted ? STDBP_EXIT_PREEMPTED : 0;
}
