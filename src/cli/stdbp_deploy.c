/* stdbp_deploy: quantise a trained checkpoint, map it onto a simulated
 * multi-core neuromorphic accelerator and report power and latency.
 *   stdbp_deploy CHECKPOINT.h5|RUN_DIR [--hw NAME|PROFILE.yaml]
 *                [--out DIR] [--force] [--set key=value]... [--sensitivity]
 * The post-processing phase of stdbp_train on its own (rank 0 works; more
 * ranks are allowed and simply wait); --sensitivity varies each profile
 * parameter over its range instead (stdbp_hw_sensitivity). The report
 * goes to RUN/deploy-PROFILE unless --out says otherwise, and never
 * replaces a report made from another checkpoint or profile (or the
 * training's own) without --force: DIR/deploy_source.txt records what a
 * report was made from. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_options.h"
#include "cli/deploy_phase.h"
#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "stdbp/hw.h"
#include "stdbp/stdbp.h"

static const char usage_head[] =
    "Usage: stdbp_deploy CHECKPOINT.h5|RUN_DIR [OPTION]...\n"
    "Quantise the network of a checkpoint (weights to n-bit fixed point, spike\n"
    "times to integer steps), map it onto a simulated multi-core accelerator,\n"
    "simulate the test images and report accuracy, power (mW), latency (ms),\n"
    "energy (uJ) per image, per-layer and per-core breakdowns and mesh traffic.\n"
    "Writes report.json and report.h5 into the output directory (--out). With\n"
    "--sensitivity: each parameter of the profile at the low and high end of\n"
    "its range instead (table, and sensitivity.json in the output directory;\n"
    "draw it with stdbp_plot --tornado). A RUN_DIR means its newest valid\n"
    "checkpoint.\n"
    "\n"
    "Options:\n";

typedef struct deploy_args {
    const char *path, *hw, *out;
    int sensitivity, force;
    stdbp_cli_list sets;
} deploy_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, deploy_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_STRING,
         .name = "hw",
         .metavar = "NAME|PROFILE.yaml",
         .help = "accelerator profile: a shipped one by NAME\n"
                 "(default, loihi_like, truenorth_like; also looked\n"
                 "up in $STDBP_HW_PATH) or a file (default: deploy.hw\n"
                 "of the stored config; built-in default when empty);\n"
                 "see docs/HARDWARE.md",
         .target = &a->hw},
        {.kind = STDBP_CLI_STRING,
         .name = "out",
         .metavar = "DIR",
         .help = "where the report goes (default: RUN/deploy-PROFILE,\n"
                 "RUN the checkpoint's run directory, PROFILE the\n"
                 "profile's name; never the training's own report)",
         .target = &a->out},
        {.kind = STDBP_CLI_FLAG,
         .name = "force",
         .help = "replace a report in DIR that was made from another\n"
                 "checkpoint or profile (or by the training)",
         .target = &a->force,
         .value = 1},
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

/* path made absolute (the working directory in front of a relative one)
 * into buf. */
static void absolute(const char *path, char *buf, size_t len)
{
    char cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(buf, len, "%s/%s", cwd, path);
    else
        snprintf(buf, len, "%s", path);
}

/* What a report is made from, as DIR/deploy_source.txt holds it: the
 * checkpoint and the profile, as absolute paths. */
static void source_text(const char *ckpt, const char *hw, char *buf, size_t len)
{
    char a[2 * PATH_MAX], b[2 * PATH_MAX];
    absolute(ckpt, a, sizeof a);
    absolute(hw, b, sizeof b);
    snprintf(buf, len, "checkpoint: %s\nprofile: %s\n", a, hw[0] ? b : "(built-in default)");
}

/* Rank 0: the default output directory, RUN/deploy-PROFILE, into out. RUN
 * is the directory above checkpoints/ (else the checkpoint's directory);
 * PROFILE the profile file's name without .yaml, "default" when built in. */
static stdbp_status default_out(const char *ckpt, const char *hw, char *out, size_t len,
                                stdbp_err *err)
{
    char run[4096], name[512];
    snprintf(run, sizeof run, "%s", ckpt);
    char *slash = strrchr(run, '/');
    if (!slash)
        snprintf(run, sizeof run, ".");
    else {
        *slash = '\0';
        const char *last = strrchr(run, '/') ? strrchr(run, '/') + 1 : run;
        if (strcmp(last, "checkpoints") == 0) {
            if (last == run)
                snprintf(run, sizeof run, ".");
            else
                *(char *)(last - 1) = '\0';
        }
        if (!run[0])
            snprintf(run, sizeof run, "/");
    }
    const char *base = strrchr(hw, '/') ? strrchr(hw, '/') + 1 : hw;
    snprintf(name, sizeof name, "%s", base[0] ? base : "default");
    size_t n = strlen(name);
    if (n > 5 && strcmp(name + n - 5, ".yaml") == 0)
        name[n - 5] = '\0';
    int w = snprintf(out, len, "%s/deploy-%s", run, name);
    if (w < 0 || (size_t)w >= len)
        return stdbp_err_set(err, STDBP_EINVAL, "output path too long: %.60s.../deploy-%s", run,
                             name);
    return STDBP_OK;
}

/* Rank 0: refuse to replace a report in out (a regular report.json or
 * report.h5, or sensitivity.json) unless out/deploy_source.txt says it
 * was made from the same source, or force. */
static stdbp_status check_out(const char *out, const char *source, int sens, int force,
                              stdbp_err *err)
{
    static const char *const reports[] = {"report.json", "report.h5", NULL};
    static const char *const tables[] = {"sensitivity.json", NULL};
    const char *const *files = sens ? tables : reports;
    char path[4200], old[4 * PATH_MAX + 64];
    struct stat sb;
    if (force)
        return STDBP_OK;
    for (int k = 0; files[k]; k++) {
        snprintf(path, sizeof path, "%s/%s", out, files[k]);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue; /* none, or not a file: the writer's own checks */
        snprintf(path, sizeof path, "%s/deploy_source.txt", out);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(old, 1, sizeof old - 1, f) : 0;
        if (f)
            fclose(f);
        old[n] = '\0';
        if (f && strcmp(old, source) == 0)
            return STDBP_OK; /* the same checkpoint and profile again */
        return stdbp_err_set(err, STDBP_EINVAL,
                             "%s already holds %s, made from another checkpoint or profile "
                             "(or by the training): give another --out DIR, or --force to "
                             "replace it",
                             out, files[k]);
    }
    return STDBP_OK;
}

/* Collective on comm: the output directory into cfg->run.out_dir and the
 * check that it may be written (rank 0 decides). */
static stdbp_status choose_out(MPI_Comm comm, const deploy_args *a, const char *ckpt,
                               stdbp_config *cfg, char *source, size_t source_len, stdbp_err *err)
{
    int rank;
    stdbp_status st = STDBP_OK;
    MPI_Comm_rank(comm, &rank);
    if (a->out)
        st = copy_path("--out", a->out, cfg->run.out_dir, sizeof cfg->run.out_dir, err);
    else if (rank == 0)
        st = default_out(ckpt, cfg->deploy.hw, cfg->run.out_dir, sizeof cfg->run.out_dir, err);
    if (st == STDBP_OK && rank == 0) {
        source_text(ckpt, cfg->deploy.hw, source, source_len);
        st = check_out(cfg->run.out_dir, source, a->sensitivity, a->force, err);
    }
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) /* collective */
        return st;
    MPI_Bcast(cfg->run.out_dir, (int)sizeof cfg->run.out_dir, MPI_CHAR, 0, comm); /* collective */
    return STDBP_OK;
}

/* Rank 0, after the report: out/deploy_source.txt. A failure is a warning. */
static void write_source(const char *out, const char *source)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/deploy_source.txt", out);
    FILE *f = fopen(path, "w");
    int ok = f && fputs(source, f) >= 0;
    if (f)
        ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "stdbp_deploy: warning: cannot write %s: %s\n", path, strerror(errno));
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
    char ckpt[4096], source[4 * PATH_MAX + 64] = "";
    stdbp_status st = stdbp_cli_load_checkpoint(comm, args.path, sets, args.sets.n + 1, "test",
                                                &cfg, &test, &net, ckpt, sizeof ckpt, NULL, &err);
    free(sets);
    if (st == STDBP_OK && args.hw)
        st = copy_path("--hw", args.hw, cfg.deploy.hw, sizeof cfg.deploy.hw, &err);
    if (st == STDBP_OK) /* a NAME (from --hw or the stored config) into its file */
        st = stdbp_cli_resolve_hw(comm, cfg.deploy.hw, sizeof cfg.deploy.hw, &err);
    if (st == STDBP_OK)
        st = choose_out(comm, &args, ckpt, &cfg, source, sizeof source, &err);
    if (st == STDBP_OK && args.sensitivity)
        st = sensitivity(comm, &cfg, net, &test, &err);
    else if (st == STDBP_OK)
        st = stdbp_deploy_phase(comm, &cfg, net, &test, NULL, &err);
    if (st == STDBP_OK && rank == 0)
        write_source(cfg.run.out_dir, source);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&test);
    if (st != STDBP_OK) {
        free(args.sets.items);
        return stdbp_cli_fail(comm, "stdbp_deploy", &err);
    }
    return finish(0, args.sets.items);
}
