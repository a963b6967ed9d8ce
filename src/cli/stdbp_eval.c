/* stdbp_eval: accuracy, loss, per-class accuracy and the confusion matrix
 * of a checkpoint on one split of its data, MPI-parallel.
 *   mpirun -np P stdbp_eval CHECKPOINT.h5|RUN_DIR [--split test|val|train]
 *       [--json FILE|-] [--set key.path=value]... [--classes FILE]
 * The network and data settings come from the config stored in the
 * checkpoint; --set can point at another test set (data.test=...). The
 * val and train splits are the training's (stdbp_split with the stored
 * run.seed and data.val_samples), so --split val gives the validation
 * accuracy the trainer recorded for that checkpoint. --classes writes each
 * sample's predicted class (rank 0), for comparing with another simulator
 * (tests/tools/nir_sim.py). */
#include <errno.h>
#include <math.h>
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
    "Usage: mpirun -np P stdbp_eval CHECKPOINT.h5|RUN_DIR [OPTION]...\n"
    "Evaluate a checkpoint (a RUN_DIR means its newest valid checkpoint) on a split\n"
    "of its data, split across the MPI ranks. Prints accuracy and loss, the accuracy\n"
    "of each class and the confusion matrix (rows: label, columns: predicted class,\n"
    "the earliest output spike; \"none\": no output spike). The data come from the\n"
    "config stored in the checkpoint: the test split is data.test (data.test_samples\n"
    "of it), the val and train splits are the training's own split of data.train\n"
    "(same run.seed and data.val_samples), so --split val repeats the validation\n"
    "accuracy of that checkpoint's epoch.\n"
    "\n"
    "Options:\n";
static const char usage_tail[] =
    "\n"
    "JSON (--json): format \"stdbp-eval\", format_version, checkpoint, step, split,\n"
    "dataset, samples, correct, accuracy, loss (null if not finite), classes,\n"
    "per_class (class, samples, correct, accuracy, no_spike), confusion (rows:\n"
    "label) and no_spike (per label). Draw the matrix with\n"
    "  stdbp_plot confusion EVAL.json OUT.png\n"
    "\n"
    "Example:\n"
    "  stdbp_eval runs/mnist --split val --json runs/mnist/eval-val.json\n";

typedef struct eval_args {
    const char *path, *classes, *json, *split;
    stdbp_cli_list sets;
    int quiet;
} eval_args;

/* Same argv on every rank, so every rank reaches the same verdict. */
static int parse_args(int argc, char **argv, eval_args *a, int rank)
{
    const stdbp_cli_option options[] = {
        {.kind = STDBP_CLI_STRING,
         .name = "split",
         .metavar = "test|val|train",
         .help = "the samples to evaluate (default test): the test\n"
                 "set, or the training's validation or training split",
         .target = &a->split},
        {.kind = STDBP_CLI_STRING,
         .name = "json",
         .metavar = "FILE|-",
         .help = "also write the results as JSON to FILE (replaced if\n"
                 "it exists); - writes it to stdout instead of the text",
         .target = &a->json},
        STDBP_CLI_OPT_SET(&a->sets, "override a key of the stored config (repeatable),\n"
                                    "e.g. --set data.dir=/scratch/data"),
        {.kind = STDBP_CLI_STRING,
         .name = "classes",
         .metavar = "FILE",
         .help = "write each sample's index, label and predicted\n"
                 "class to FILE",
         .target = &a->classes},
        {.kind = STDBP_CLI_FLAG,
         .name = "quiet",
         .short_name = 'q',
         .help = "print only the accuracy line",
         .target = &a->quiet,
         .value = 1},
        STDBP_CLI_OPT_HELP,
        STDBP_CLI_OPT_VERSION,
        STDBP_CLI_OPT_END};
    const stdbp_cli_spec spec = {
        "stdbp_eval",       usage_head, usage_tail, options, "CHECKPOINT.h5 or RUN_DIR",
        STDBP_CLI_GIVE_ONE, rank == 0};
    int rc;
    memset(a, 0, sizeof *a);
    a->split = "test";
    if ((rc = stdbp_cli_parse(&spec, argc, argv, &a->path)) != 0)
        return rc;
    if (strcmp(a->split, "test") != 0 && strcmp(a->split, "val") != 0 &&
        strcmp(a->split, "train") != 0)
        return stdbp_cli_bad_usage(&spec, 1, "--split takes test, val or train, not '%s'",
                                   a->split);
    if (a->json && !a->json[0])
        return stdbp_cli_bad_usage(&spec, 1, "--json needs a file name (or -)");
    return 0;
}

/* The samples of the split: idx (malloc'd, NULL for 0..n-1) and n. The
 * val and train splits are made as the trainer makes them
 * (src/train/trainer_setup.c): the first data.train_samples of the
 * training set, data.val_samples of them drawn by stdbp_split with
 * run.seed. Not collective (every rank computes the same). */
static stdbp_status split_samples(const char *split, const stdbp_config *cfg,
                                  const stdbp_dataset *ds, size_t **idx, size_t *n, stdbp_err *err)
{
    size_t total = ds->n, *train_idx = NULL, *val_idx = NULL;
    *idx = NULL;
    if (strcmp(split, "test") == 0) {
        *n = cfg->data.n_test > 0 && (size_t)cfg->data.n_test < total ? (size_t)cfg->data.n_test
                                                                      : total;
        return STDBP_OK;
    }
    if (cfg->data.n_train > 0 && (size_t)cfg->data.n_train < total)
        total = (size_t)cfg->data.n_train;
    size_t n_val = cfg->data.n_val > 0 ? (size_t)cfg->data.n_val : 0;
    if (strcmp(split, "val") == 0 && n_val == 0)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "--split val: the run has no validation split "
                             "(data.val_samples is 0)");
    if (n_val >= total)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "data.val_samples = %zu leaves no training samples out of %zu in %s",
                             n_val, total, ds->source);
    stdbp_status st = stdbp_split(total, n_val, cfg->run.seed, &train_idx, &val_idx, err);
    if (st != STDBP_OK)
        return st;
    if (strcmp(split, "val") == 0) {
        *idx = val_idx;
        *n = n_val;
        free(train_idx);
    } else {
        *idx = train_idx;
        *n = total - n_val;
        free(val_idx);
    }
    return STDBP_OK;
}

/* Rank 0: "index label class" for the n samples (idx, or 0..n-1) into path. */
static stdbp_status write_classes(const char *path, const stdbp_net *net, stdbp_ws *ws,
                                  const stdbp_dataset *ds, const size_t *idx, size_t n,
                                  const stdbp_encoding *enc, double *times, stdbp_err *err)
{
    const size_t n_out = stdbp_net_output_size(net);
    FILE *f = fopen(path, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "# index label class (stdbp_eval --classes)\n");
    for (size_t k = 0; k < n; k++) {
        const size_t i = idx ? idx[k] : k;
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

/* What the programs print and write. */
typedef struct eval_out {
    const char *checkpoint, *split, *dataset;
    uint64_t step;
    size_t n_out;
    const stdbp_eval_result *res;
    const uint64_t *confusion, *silent;
} eval_out;

static uint64_t class_samples(const eval_out *o, size_t c)
{
    uint64_t s = o->silent[c];
    for (size_t p = 0; p < o->n_out; p++)
        s += o->confusion[c * o->n_out + p];
    return s;
}

static uint64_t correct_count(const eval_out *o)
{
    uint64_t s = 0;
    for (size_t c = 0; c < o->n_out; c++)
        s += o->confusion[c * o->n_out + c];
    return s;
}

/* The accuracy line, then (unless quiet) the classes and the matrix. */
static void print_text(FILE *f, const eval_out *o, int quiet)
{
    const size_t K = o->n_out;
    fprintf(f, "%s: %s accuracy %.2f%% (%llu samples of %s), loss %.4f\n", o->checkpoint, o->split,
            100 * o->res->accuracy, (unsigned long long)o->res->n, o->dataset, o->res->loss);
    if (quiet)
        return;
    fprintf(f, "correct: %llu of %llu (step %llu)\n", (unsigned long long)correct_count(o),
            (unsigned long long)o->res->n, (unsigned long long)o->step);
    fprintf(f, "\nper class:\n  %5s %9s %9s %9s %9s\n", "class", "samples", "correct", "accuracy",
            "no spike");
    for (size_t c = 0; c < K; c++) {
        uint64_t n = class_samples(o, c), ok = o->confusion[c * K + c];
        if (n)
            fprintf(f, "  %5zu %9llu %9llu %8.2f%% %9llu\n", c, (unsigned long long)n,
                    (unsigned long long)ok, 100.0 * (double)ok / (double)n,
                    (unsigned long long)o->silent[c]);
        else
            fprintf(f, "  %5zu %9d %9d %9s %9d\n", c, 0, 0, "-", 0);
    }
    if (K > 12) {
        fprintf(f, "\nconfusion matrix: %zu x %zu, in --json (too wide to print)\n", K, K);
        return;
    }
    fprintf(f, "\nconfusion matrix (rows: label, columns: predicted class):\n  %5s", "");
    for (size_t p = 0; p < K; p++)
        fprintf(f, " %5zu", p);
    fprintf(f, "  %5s\n", "none");
    for (size_t c = 0; c < K; c++) {
        fprintf(f, "  %5zu", c);
        for (size_t p = 0; p < K; p++)
            fprintf(f, " %5llu", (unsigned long long)o->confusion[c * K + p]);
        fprintf(f, "  %5llu\n", (unsigned long long)o->silent[c]);
    }
}

/* A JSON string. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

static void print_json(FILE *f, const eval_out *o)
{
    const size_t K = o->n_out;
    fputs("{\n  \"format\": \"stdbp-eval\",\n  \"format_version\": 1,\n  \"checkpoint\": ", f);
    json_str(f, o->checkpoint);
    fprintf(f, ",\n  \"step\": %llu,\n  \"split\": ", (unsigned long long)o->step);
    json_str(f, o->split);
    fputs(",\n  \"dataset\": ", f);
    json_str(f, o->dataset);
    fprintf(f, ",\n  \"samples\": %llu,\n  \"correct\": %llu,\n  \"accuracy\": ",
            (unsigned long long)o->res->n, (unsigned long long)correct_count(o));
    json_num(f, o->res->accuracy);
    fputs(",\n  \"loss\": ", f);
    json_num(f, o->res->loss);
    fprintf(f, ",\n  \"classes\": %zu,\n  \"per_class\": [\n", K);
    for (size_t c = 0; c < K; c++) {
        uint64_t n = class_samples(o, c), ok = o->confusion[c * K + c];
        fprintf(f, "    {\"class\": %zu, \"samples\": %llu, \"correct\": %llu, \"accuracy\": ", c,
                (unsigned long long)n, (unsigned long long)ok);
        json_num(f, n ? (double)ok / (double)n : NAN);
        fprintf(f, ", \"no_spike\": %llu}%s\n", (unsigned long long)o->silent[c],
                c + 1 < K ? "," : "");
    }
    fputs("  ],\n  \"confusion\": [\n", f);
    for (size_t c = 0; c < K; c++) {
        fputs("    [", f);
        for (size_t p = 0; p < K; p++)
            fprintf(f, "%s%llu", p ? ", " : "", (unsigned long long)o->confusion[c * K + p]);
        fprintf(f, "]%s\n", c + 1 < K ? "," : "");
    }
    fputs("  ],\n  \"no_spike\": [", f);
    for (size_t c = 0; c < K; c++)
        fprintf(f, "%s%llu", c ? ", " : "", (unsigned long long)o->silent[c]);
    fputs("]\n}\n", f);
}

/* Rank 0: the JSON into path ("-": stdout), through path.tmp and a rename. */
static stdbp_status write_json(const char *path, const eval_out *o, stdbp_err *err)
{
    if (strcmp(path, "-") == 0) {
        print_json(stdout, o);
        return fflush(stdout) == 0 ? STDBP_OK
                                   : stdbp_err_set(err, STDBP_EIO, "writing stdout failed");
    }
    size_t len = strlen(path) + sizeof ".tmp";
    char *tmp = malloc(len);
    if (!tmp)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    stdbp_status st = STDBP_OK;
    if (!f)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    else {
        print_json(f, o);
        if (ferror(f) | (fclose(f) != 0) || rename(tmp, path) != 0) {
            st = stdbp_err_set(err, STDBP_EIO, "%s: write failed: %s", path, strerror(errno));
            remove(tmp);
        }
    }
    free(tmp);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    eval_args args;
    char ckpt[4096];
    stdbp_err err;
    stdbp_config cfg;
    stdbp_dataset ds;
    stdbp_train_state state;
    stdbp_net *net = NULL;
    stdbp_ws *ws = NULL;
    double *times = NULL;
    size_t *idx = NULL, n = 0, n_out = 0;
    uint64_t *confusion = NULL, *silent = NULL;
    stdbp_eval_result res;

    stdbp_cli_init(&argc, &argv, "stdbp_eval");
    MPI_Comm_rank(comm, &rank);
    stdbp_err_clear(&err);
    memset(&ds, 0, sizeof ds);
    memset(&state, 0, sizeof state);
    int rc = parse_args(argc, argv, &args, rank);
    if (rc != 0) {
        free(args.sets.items);
        MPI_Finalize();
        return rc < 0 ? 0 : rc;
    }

    const int test = strcmp(args.split, "test") == 0;
    stdbp_status st = stdbp_cli_load_checkpoint(comm, args.path, args.sets.items, args.sets.n,
                                                test ? "test" : "train", &cfg, &ds, &net, ckpt,
                                                sizeof ckpt, &state, &err);
    if (st == STDBP_OK)
        st = split_samples(args.split, &cfg, &ds, &idx, &n, &err);
    if (st == STDBP_OK)
        st = stdbp_ws_create(net, &ws, &err);
    if (st == STDBP_OK) {
        n_out = stdbp_net_output_size(net);
        times = calloc(ds.dim ? ds.dim : 1, sizeof *times);
        confusion = calloc(n_out * n_out, sizeof *confusion);
        silent = calloc(n_out, sizeof *silent);
        if (!times || !confusion || !silent)
            st = stdbp_err_set(&err, STDBP_ENOMEM, "out of memory");
    }
    st = stdbp_dist_agree(comm, st, &err);
    if (st == STDBP_OK) {
        const stdbp_eval_detail detail = {.confusion = confusion, .silent = silent};
        st = stdbp_evaluate_detail(comm, net, ws, &ds, idx, n, &cfg.encoding, &cfg.loss, times,
                                   &detail, &res, &err);
    }
    if (st == STDBP_OK && args.classes) {
        st = rank == 0
                 ? write_classes(args.classes, net, ws, &ds, idx, n, &cfg.encoding, times, &err)
                 : STDBP_OK;
        st = stdbp_dist_agree(comm, st, &err);
    }
    if (st == STDBP_OK) {
        const eval_out o = {ckpt,  args.split, ds.source, state.step,
                            n_out, &res,       confusion, silent};
        if (rank == 0 && !(args.json && strcmp(args.json, "-") == 0))
            print_text(stdout, &o, args.quiet);
        st = rank == 0 && args.json ? write_json(args.json, &o, &err) : STDBP_OK;
        st = stdbp_dist_agree(comm, st, &err);
    }
    free(times);
    free(idx);
    free(confusion);
    free(silent);
    stdbp_ws_destroy(&ws);
    stdbp_net_destroy(&net);
    stdbp_dataset_free(&ds);
    free(args.sets.items);
    if (st != STDBP_OK)
        return stdbp_cli_fail(comm, "stdbp_eval", &err);
    MPI_Finalize();
    return 0;
}
