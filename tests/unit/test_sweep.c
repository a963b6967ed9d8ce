/* Sweep files (include/stdbp/sweep.h): grid order, reproducible random draws,
 * the checks before training, and errors that point into the sweep file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/sweep.h"
#include "tap/basic.h"

static char dir[4096];

static void write_file(const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        bail("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Load sweep text as DIR/name (so that base: resolves next to it). */
static stdbp_sweep *load(const char *name, const char *text, stdbp_err *err)
{
    char path[4200];
    stdbp_sweep *sw = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    stdbp_err_clear(err);
    if (stdbp_sweep_load_string(text, strlen(text), path, &sw, err) != STDBP_OK)
        return NULL;
    return sw;
}

/* The message of loading and checking text (extra: one --set or NULL);
 * "" if both pass. With the directory prefix cut off. */
static const char *check_error(const char *text, const char *extra, stdbp_err *err)
{
    char *ex[1] = {(char *)extra};
    stdbp_sweep *sw = load("e.yaml", text, err);
    if (sw && stdbp_sweep_check(sw, ex, extra ? 1 : 0, err) == STDBP_OK) {
        stdbp_sweep_free(&sw);
        return "";
    }
    stdbp_sweep_free(&sw);
    const char *m = err->msg;
    while (strncmp(m, dir, strlen(dir)) == 0)
        m += strlen(dir) + 1;
    return m;
}

/* The parameters of point k joined by spaces, in buf. */
static const char *params_of(const stdbp_sweep *sw, size_t k, char *buf, size_t size)
{
    stdbp_sweep_point pt;
    stdbp_err err;
    buf[0] = '\0';
    if (stdbp_sweep_point_get(sw, k, NULL, 0, &pt, &err) != STDBP_OK) {
        if (snprintf(buf, size, "%s", err.msg) < 0)
            buf[0] = '\0';
        return buf;
    }
    for (size_t i = 0; i < pt.n_params; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "", pt.params[i]);
    stdbp_sweep_point_clear(&pt);
    return buf;
}

static void test_grid(void)
{
    static const char text[] = "name: g\n"
                               "base: base.yaml\n"
                               "dir: out\n"
                               "set: {train.epochs: 3}\n"
                               "params:\n"
                               "  optimizer.lr: [0.001, 0.01]\n"
                               "  train.batch: [8, 16, 32]\n"
                               "  network.layers: [[{type: dense, out: 10}], "
                               "[{type: dense, out: 20}, {type: dense, out: 10}]]\n";
    stdbp_err err;
    char buf[512];
    stdbp_sweep *sw = load("g.yaml", text, &err);
    ok(sw != NULL, "a grid sweep loads");
    if (!sw) {
        diag("%s", err.msg);
        return;
    }
    is_int(12, (long long)stdbp_sweep_count(sw), "2 x 3 x 2 = 12 points");
    is_int(12, (long long)stdbp_sweep_grid_size(sw), "all of them grid");
    is_int(1, (long long)stdbp_sweep_samples(sw), "one sample");
    is_string("optimizer.lr=0.001 train.batch=8 network.layers=[{type: dense, out: 10}]",
              params_of(sw, 0, buf, sizeof buf), "point 0: the first value of every key");
    is_string("optimizer.lr=0.001 train.batch=8 network.layers=[{type: dense, out: 20}, "
              "{type: dense, out: 10}]",
              params_of(sw, 1, buf, sizeof buf), "point 1: the last key varies fastest");
    is_string("optimizer.lr=0.001 train.batch=16 network.layers=[{type: dense, out: 10}]",
              params_of(sw, 2, buf, sizeof buf), "point 2: then the middle key");
    is_string("optimizer.lr=0.01 train.batch=8 network.layers=[{type: dense, out: 10}]",
              params_of(sw, 6, buf, sizeof buf), "point 6: the first key varies slowest");
    is_string("optimizer.lr=0.01 train.batch=32 network.layers=[{type: dense, out: 20}, "
              "{type: dense, out: 10}]",
              params_of(sw, 11, buf, sizeof buf), "point 11: the last values");

    stdbp_sweep_point pt;
    char *extra[] = {"train.log_every=5"};
    if (stdbp_sweep_point_get(sw, 7, extra, 1, &pt, &err) == STDBP_OK) {
        /* dir: is relative to the working directory, not to the file. */
        is_string("out/g/point-0007", pt.run_dir, "run directory DIR/NAME/point-KKKK");
        is_string("run.name=\"g-0007\"", pt.sets[0], "run.name first");
        is_string("train.epochs=3", pt.sets[1], "then set:");
        is_string("train.log_every=5", pt.sets[pt.n_sets - 2], "then the extra overrides");
        contains(pt.sets[pt.n_sets - 1], "run.dir=\"", "run.dir last");
        stdbp_sweep_point_clear(&pt);
    } else {
        ok(0, "point 7: %s", err.msg);
    }
    ok(stdbp_sweep_point_get(sw, 12, NULL, 0, &pt, &err) != STDBP_OK, "point 12 does not exist");
    contains(err.msg, "has 12 points (0..11)", "and the message says how many there are");

    stdbp_config base, cfg;
    stdbp_err_clear(&err);
    if (!ok(stdbp_sweep_check(sw, extra, 1, &err) == STDBP_OK, "every point's config validates"))
        diag("%s", err.msg);
    if (stdbp_sweep_load_base(sw, &base, &err) == STDBP_OK &&
        stdbp_sweep_point_get(sw, 11, NULL, 0, &pt, &err) == STDBP_OK &&
        stdbp_sweep_point_config(sw, &pt, &base, &cfg, &err) == STDBP_OK) {
        is_double(0.01, cfg.optim.lr, 0, "point 11 trains with lr 0.01");
        is_int(32, cfg.train.batch, "batch 32");
        is_int(2, (long long)cfg.network.n_layers, "two layers");
        is_int(3, cfg.train.epochs, "set: applies");
        contains(cfg.run.out_dir, "out/g/point-0011", "run.dir is the point's");
    } else {
        ok(0, "point 11's config: %s", err.msg);
    }
    stdbp_sweep_point_clear(&pt);
    stdbp_sweep_free(&sw);
    stdbp_sweep_free(&sw); /* accepts NULL */
}

static void test_name_and_dir(void)
{
    stdbp_err err;
    stdbp_sweep *sw =
        load("my-lr.sweep.yaml", "base: base.yaml\nparams: {run.seed: [1, 2]}\n", &err);
    ok(sw != NULL, "a minimal sweep loads");
    if (!sw) {
        diag("%s", err.msg);
        return;
    }
    is_string("my-lr.sweep", stdbp_sweep_name(sw), "name defaults to the file name");
    is_string("runs/my-lr.sweep", stdbp_sweep_dir(sw), "dir defaults to runs");
    contains(stdbp_sweep_base(sw), "/base.yaml", "base is found next to the sweep file");
    ok(strncmp(stdbp_sweep_base(sw), dir, strlen(dir)) == 0, "in the sweep file's directory");
    stdbp_sweep_free(&sw);
}

static void test_random(void)
{
    static const char text[] = "name: r\n"
                               "base: base.yaml\n"
                               "seed: 42\n"
                               "samples: 50\n"
                               "params:\n"
                               "  optimizer.lr: {dist: loguniform, low: 1.0e-5, high: 1.0e-3}\n"
                               "  loss.beta: {dist: uniform, low: 5, high: 25}\n"
                               "  train.batch: {dist: uniform, low: 8, high: 64, integer: true}\n"
                               "  optimizer.kind: {dist: choice, values: [adam, sgd]}\n"
                               "  network.theta: [1, 2]\n";
    stdbp_err err;
    char a[512], b[512];
    stdbp_sweep *sw = load("r.yaml", text, &err), *sw2 = load("r.yaml", text, &err);
    ok(sw && sw2, "a random sweep loads");
    if (!sw || !sw2) {
        diag("%s", err.msg);
        stdbp_sweep_free(&sw);
        stdbp_sweep_free(&sw2);
        return;
    }
    is_int(100, (long long)stdbp_sweep_count(sw), "2 grid points x 50 samples");
    int same = 1, in_range = 1, differ = 0, shared = 1, kinds[2] = {0, 0};
    stdbp_config base, cfg;
    if (stdbp_sweep_load_base(sw, &base, &err) != STDBP_OK)
        bail("%s", err.msg);
    double lr0 = 0;
    for (size_t k = 0; k < 100; k++) {
        params_of(sw, k, a, sizeof a);
        params_of(sw2, k, b, sizeof b);
        same &= strcmp(a, b) == 0;
        stdbp_sweep_point pt;
        if (stdbp_sweep_point_get(sw, k, NULL, 0, &pt, &err) ||
            stdbp_sweep_point_config(sw, &pt, &base, &cfg, &err)) {
            in_range = 0;
            diag("point %zu: %s", k, err.msg);
            continue;
        }
        stdbp_sweep_point_clear(&pt);
        in_range &= cfg.optim.lr >= 1e-5 * (1 - 1e-5) && cfg.optim.lr <= 1e-3 &&
                    cfg.loss.beta >= 5 && cfg.loss.beta < 25 && cfg.train.batch >= 8 &&
                    cfg.train.batch <= 64;
        kinds[cfg.optim.kind == STDBP_OPTIM_SGD]++;
        if (k % 2 == 0)
            lr0 = cfg.optim.lr;
        else
            shared &= cfg.optim.lr == lr0; /* both grid points of a sample */
        if (k >= 2 && k % 2 == 0)
            differ |= strcmp(a, params_of(sw, 0, b, sizeof b)) != 0;
    }
    ok(same, "the same file gives the same 100 points");
    ok(in_range, "every draw lies in its range and validates");
    ok(shared, "the grid points of one sample share its draws");
    ok(differ, "samples differ");
    ok(kinds[0] > 0 && kinds[1] > 0, "choice picks both values (%d adam, %d sgd)", kinds[0],
       kinds[1]);
    params_of(sw, 7, a, sizeof a);
    contains(a, "optimizer.lr=", "sampled values are printed");
    stdbp_sweep_free(&sw2);

    /* More samples or another key: the old points keep their values. */
    static const char more[] = "name: r\n"
                               "base: base.yaml\n"
                               "seed: 42\n"
                               "samples: 80\n"
                               "params:\n"
                               "  train.epochs: {dist: uniform, low: 1, high: 4, integer: true}\n"
                               "  optimizer.lr: {dist: loguniform, low: 1.0e-5, high: 1.0e-3}\n"
                               "  loss.beta: {dist: uniform, low: 5, high: 25}\n"
                               "  train.batch: {dist: uniform, low: 8, high: 64, integer: true}\n"
                               "  optimizer.kind: {dist: choice, values: [adam, sgd]}\n"
                               "  network.theta: [1, 2]\n";
    sw2 = load("r.yaml", more, &err);
    ok(sw2 != NULL, "the grown sweep loads");
    if (sw2) {
        params_of(sw, 37, a, sizeof a);
        params_of(sw2, 37, b, sizeof b);
        contains(b, a, "point 37 keeps its values with more samples and one more key");
    }
    stdbp_sweep_free(&sw2);

    /* Another seed: other values. */
    char *other = bstrdup(text);
    memcpy(strstr(other, "seed: 42"), "seed: 43", 8);
    sw2 = load("r.yaml", other, &err);
    free(other);
    if (sw2) {
        params_of(sw, 4, a, sizeof a);
        params_of(sw2, 4, b, sizeof b);
        ok(strcmp(a, b) != 0, "another seed draws other values");
    } else {
        ok(0, "seed 43: %s", err.msg);
    }
    stdbp_sweep_free(&sw2);
    stdbp_sweep_free(&sw);
}

/* integer: true reaches both ends of [low, high]. */
static void test_integer(void)
{
    stdbp_err err;
    char buf[256];
    stdbp_sweep *sw = load("i.yaml",
                           "base: base.yaml\n"
                           "samples: 60\n"
                           "params:\n"
                           "  train.epochs: {dist: uniform, low: 1, high: 3, integer: true}\n"
                           "  train.batch: {dist: loguniform, low: 8, high: 16, integer: true}\n",
                           &err);
    ok(sw != NULL, "integer draws load");
    if (!sw) {
        diag("%s", err.msg);
        return;
    }
    int seen[4] = {0, 0, 0, 0}, lo = 0, hi = 0, bad = 0;
    for (size_t k = 0; k < 60; k++) {
        long e, b;
        params_of(sw, k, buf, sizeof buf);
        if (sscanf(buf, "train.epochs=%ld train.batch=%ld", &e, &b) != 2 || e < 1 || e > 3 ||
            b < 8 || b > 16) {
            bad = 1;
            diag("point %zu: %s", k, buf);
            continue;
        }
        seen[e]++;
        lo |= b == 8;
        hi |= b == 16;
    }
    ok(!bad, "every draw is an integer in [low, high]");
    ok(seen[1] && seen[2] && seen[3], "uniform reaches 1, 2 and 3 (%d, %d, %d)", seen[1], seen[2],
       seen[3]);
    ok(lo && hi, "loguniform reaches both ends (rounding)");
    ok(stdbp_sweep_check(sw, NULL, 0, &err) == STDBP_OK, "and the config takes them");
    stdbp_sweep_free(&sw);
}

static void test_flow(void)
{
    stdbp_err err;
    char buf[256];
    stdbp_sweep *sw = load("f.yaml",
                           "base: base.yaml\n"
                           "params:\n"
                           "  run.name: [\"123\", 'a: b', plain, \"x\\\"y\"]\n"
                           "  network.input: [~, [1, 28, 28]]\n",
                           &err);
    ok(sw != NULL, "text values load");
    if (!sw) {
        diag("%s", err.msg);
        return;
    }
    is_string("run.name=\"123\" network.input=~", params_of(sw, 0, buf, sizeof buf),
              "quoted text stays quoted; null stays null");
    is_string("run.name=\"123\" network.input=[1, 28, 28]", params_of(sw, 1, buf, sizeof buf),
              "a list in flow style");
    is_string("run.name=\"a: b\" network.input=~", params_of(sw, 2, buf, sizeof buf),
              "text with ': ' is quoted");
    is_string("run.name=plain network.input=~", params_of(sw, 4, buf, sizeof buf),
              "plain stays plain");
    is_string("run.name=\"x\\\"y\" network.input=~", params_of(sw, 6, buf, sizeof buf),
              "quotes are escaped");
    if (!ok(stdbp_sweep_check(sw, NULL, 0, &err) == STDBP_OK, "they are valid overrides"))
        diag("%s", err.msg);
    stdbp_sweep_free(&sw);
}

static void test_errors(void)
{
    stdbp_err err;
    is_string("e.yaml:4:3: params.optimizer.lrr: unknown key; did you mean 'optimizer.lr'?",
              check_error("base: base.yaml\n"
                          "set: {train.epochs: 1}\n"
                          "params:\n"
                          "  optimizer.lrr: [0.1, 0.2]\n",
                          NULL, &err),
              "an unknown override key: its line:col and a suggestion");
    is_string("e.yaml:3:23: params.optimizer.lr[1]: must be > 0, got -1",
              check_error("base: base.yaml\n"
                          "params:\n"
                          "  optimizer.lr: [0.1, -1]\n",
                          NULL, &err),
              "a value out of range: the item's line:col");
    is_string("e.yaml:2:21: set.train.epochs: expected an integer, got 'many'",
              check_error("base: base.yaml\n"
                          "set: {train.epochs: many}\n"
                          "params: {run.seed: [1]}\n",
                          NULL, &err),
              "a bad fixed value");
    is_string("e.yaml:2:7: set.train.epoch: unknown key; did you mean 'train.epochs'?",
              check_error("base: base.yaml\n"
                          "set: {train.epoch: 2}\n"
                          "params: {run.seed: [1]}\n",
                          NULL, &err),
              "an unknown fixed key");
    is_string("e.yaml:3:1: parms: unknown key; did you mean 'params'?",
              check_error("base: base.yaml\n"
                          "params: {run.seed: [1]}\n"
                          "parms: {}\n",
                          NULL, &err),
              "an unknown sweep key");
    is_string("e.yaml:4:24: params.optimizer.lr.dist: expected uniform, loguniform or choice, "
              "got 'logunifrom'; did you mean 'loguniform'?",
              check_error("base: base.yaml\n"
                          "samples: 2\n"
                          "params:\n  optimizer.lr: {dist: logunifrom, low: 1, high: 2}\n",
                          NULL, &err),
              "an unknown distribution");
    contains(check_error("base: base.yaml\n"
                         "samples: 2\n"
                         "params:\n"
                         "  optimizer.lr: {dist: loguniform, low: 0, high: 1}\n",
                         NULL, &err),
             "e.yaml:4:41: params.optimizer.lr.low: loguniform needs low > 0, got 0",
             "loguniform with low = 0");
    contains(check_error("base: base.yaml\n"
                         "samples: 2\n"
                         "params:\n"
                         "  optimizer.lr: {dist: uniform, low: 1, high: 1}\n",
                         NULL, &err),
             "e.yaml:4:47: params.optimizer.lr.high: must be greater than low (1), got 1",
             "high <= low");
    contains(check_error("base: base.yaml\n"
                         "params:\n"
                         "  optimizer.lr: {dist: uniform, low: 1, high: 2}\n",
                         NULL, &err),
             "e.yaml:1:1: missing required key 'samples'", "a distribution without samples");
    contains(check_error("base: base.yaml\n"
                         "samples: 3\n"
                         "params: {optimizer.lr: [1, 2]}\n",
                         NULL, &err),
             "e.yaml:2:10: samples: samples > 1 needs", "samples without a distribution");
    contains(check_error("base: base.yaml\n"
                         "params:\n"
                         "  optimizer.lr: 0.1\n",
                         NULL, &err),
             "e.yaml:3:17: params.optimizer.lr: a single value", "a scalar parameter");
    contains(check_error("base: base.yaml\n"
                         "params:\n"
                         "  optimizer.lr: []\n",
                         NULL, &err),
             "e.yaml:3:17: params.optimizer.lr: an empty list", "an empty list");
    contains(check_error("base: base.yaml\n"
                         "params:\n"
                         "  run.dir: [a, b]\n",
                         NULL, &err),
             "e.yaml:3:3: params.run.dir: run.dir is chosen by the sweep", "run.dir is refused");
    contains(check_error("base: base.yaml\n"
                         "set: {optimizer.lr: 1}\n"
                         "params:\n"
                         "  optimizer.lr: [1, 2]\n",
                         NULL, &err),
             "e.yaml:4:3: params.optimizer.lr: also fixed under 'set' (line 2)",
             "a key both fixed and swept");
    contains(check_error("params: {run.seed: [1]}\n", NULL, &err),
             "e.yaml:1:1: missing required key 'base'", "no base");
    contains(check_error("base: nothere.yaml\nparams: {run.seed: [1]}\n", NULL, &err),
             "e.yaml:1:7: base: ", "a missing base config is reported at base:");
    contains(check_error("base: bad.yaml\nparams: {run.seed: [1]}\n", NULL, &err),
             "e.yaml:1:7: base: ", "an invalid base config: at base: ...");
    contains(err.msg, "bad.yaml:2:3: optimizer.lrr: unknown key",
             "... followed by the base file's own line:col");
    contains(check_error("name: 'a b'\nbase: base.yaml\nparams: {run.seed: [1]}\n", NULL, &err),
             "e.yaml:1:7: name: a directory name", "a name that is no directory name");
    contains(check_error("base: base.yaml\n"
                         "samples: 5\n"
                         "params:\n"
                         "  train.batch: {dist: uniform, low: 1, high: 50}\n",
                         NULL, &err),
             "e.yaml:4:16: params.train.batch: point 0 (train.batch=",
             "a draw the config refuses names the point");
    contains(err.msg, "expected an integer", "and the reason");
    contains(check_error("base: base.yaml\n"
                         "params:\n"
                         "  network.layers: [[{type: dense, out: 10}], [{type: flatten}]]\n",
                         NULL, &err),
             "e.yaml:3:3: params: point 1 (network.layers=[{type: flatten}]): ",
             "a combination refused by validation names the point");
    contains(err.msg, "the last layer must be dense", "with validation's reason");
    is_string("--set train.epocs=2: train.epocs: unknown key; did you mean 'train.epochs'?",
              check_error("base: base.yaml\nparams: {run.seed: [1]}\n", "train.epocs=2", &err),
              "an extra --set is checked too");
    contains(check_error("base: base.yaml\nparams: {run.seed: [1]}\n", "run.dir=x", &err),
             "run.dir is chosen by the sweep", "an extra --set run.dir is refused");
    contains(check_error("base: base.yaml\nparams:\n\t- x\n", NULL, &err),
             "e.yaml:3:1:", "malformed YAML: its line:col");
}

int main(void)
{
    plan_lazy();
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    write_file("base.yaml", "run: {name: base}\n"
                            "network:\n"
                            "  layers: [{type: dense, out: 16}, {type: dense, out: 10}]\n"
                            "train: {epochs: 2}\n");
    write_file("bad.yaml", "optimizer:\n  lrr: 1\n");
    test_grid();
    test_name_and_dir();
    test_random();
    test_integer();
    test_flow();
    test_errors();
    return tap_failures() ? 1 : 0;
}
