/* Invalid configurations: every message must point into the input with
 * "FILE:LINE:COL: key.path: what" (1-based), or start with "--set
 * key.path=value:" for overrides, and a failed load or --set must leave
 * the config untouched. Each case is written to a file under the test's
 * temporary directory and loaded from there. */
#include <stdio.h>
#include <string.h>

#include "stdbp/config.h"
#include "tap/basic.h"

typedef struct file_case {
    const char *yaml;
    const char *want; /* the message after "FILE:" */
} file_case;

static const file_case file_cases[] = {
    /* unknown keys, with and without a suggestion */
    {"optimiser:\n  lr: 1e-3\n", "1:1: optimiser: unknown key; did you mean 'optimizer'?"},
    {"optimizer:\n  lrr: 1e-3\n", "2:3: optimizer.lrr: unknown key; did you mean 'optimizer.lr'?"},
    {"train:\n  lr: 0.1\n", "2:3: train.lr: unknown key; did you mean 'optimizer.lr'?"},
    {"train:\n  zzzzzz: 1\n",
     "2:3: train.zzzzzz: unknown key (train takes: epochs, batch, clip_norm, "
     "weight_sum_penalty, weight_sum_margin, shard_update, log_every, eval_every)"},
    {"network:\n  init:\n    gian: 2\n",
     "3:5: network.init.gian: unknown key; did you mean 'network.init.gain'?"},
    {"optimizer.lr: 1\n",
     "1:1: optimizer.lr: dotted keys are for --set only: in a file, nest them (a.b: v is "
     "written a: {b: v})"},
    /* wrong types */
    {"train:\n  epochs: many\n", "2:11: train.epochs: expected an integer, got 'many'"},
    {"train:\n  batch: 32.5\n", "2:10: train.batch: expected an integer, got '32.5'"},
    {"train:\n  epochs: \"3\"\n",
     "2:11: train.epochs: expected an integer, got the quoted text '3' (drop the quotes)"},
    {"encoding:\n  zero_silent: maybe\n",
     "2:16: encoding.zero_silent: expected true or false, got 'maybe'"},
    {"optimizer:\n  kind: adamw\n",
     "2:9: optimizer.kind: expected adam, sgd, lamb or lars, got 'adamw'; did you mean 'adam'?"},
    {"schedule:\n  kind: cosin\n",
     "2:9: schedule.kind: expected constant, step or cosine, got 'cosin'; did you mean "
     "'cosine'?"},
    {"spikes:\n  when: never\n", "2:9: spikes.when: expected epoch or end, got 'never'"},
    {"train: 5\n", "1:8: train: expected a map of settings (epochs, batch, ...), got '5'"},
    {"- a\n- b\n", "1:1: expected a map of settings (run, data, ...), got a list"},
    {"loss:\n  beta: [20]\n", "2:9: loss.beta: expected a number, got a list"},
    /* out of range */
    {"optimizer:\n  lr: -1\n", "2:7: optimizer.lr: must be > 0, got -1"},
    {"optimizer:\n  beta1: 1\n", "2:10: optimizer.beta1: must be in [0, 1), got 1"},
    {"train:\n  batch: 0\n", "2:10: train.batch: must be >= 1, got 0"},
    {"optimizer:\n  lr: .inf\n", "2:7: optimizer.lr: must be finite, got .inf"},
    {"loss:\n  beta: .nan\n", "2:9: loss.beta: NaN is not allowed"},
    {"network:\n  init:\n    active_fraction: 0\n",
     "3:22: network.init.active_fraction: must be in (0, 1], got 0"},
    {"schedule:\n  gamma: 2\n", "2:10: schedule.gamma: must be in (0, 1], got 2"},
    {"run:\n  seed: -5\n", "2:9: run.seed: must be >= 0, got -5"},
    {"train:\n  epochs: 99999999999999999999\n",
     "2:11: train.epochs: integer out of range: '99999999999999999999'"},
    {"deploy:\n  bits: [4, 32]\n", "2:13: deploy.bits[1]: must be in [2, 16], got 32"},
    {"deploy:\n  bits: []\n", "2:9: deploy.bits: needs at least one precision, e.g. [8]"},
    {"network:\n  input: [1, 28]\n",
     "2:10: network.input: expected [C, H, W] (three integers) or null (from the data), got a "
     "list"},
    {"network:\n  input: [1, 0, 28]\n", "2:14: network.input[1]: must be in [1, 65536], got 0"},
    /* text rules */
    {"data:\n  train: mnsit\n",
     "2:10: data.train: expected mnist, fashion-mnist, hdf5:PATH, events:PATH, shd:PATH or "
     "nmnist:DIR, got 'mnsit'; did you mean 'mnist'?"},
    {"data:\n  train: 'shd:'\n", "2:10: data.train: shd: needs a path, e.g. events:data/x.h5"},
    {"data:\n  train: 'hdf5:'\n", "2:10: data.train: hdf5: needs a file name, e.g. hdf5:data/x.h5"},
    {"run:\n  name: a/b\n",
     "2:9: run.name: 'a/b' cannot name a directory: use at most 200 characters, no '/'"},
    {"run:\n  name: ''\n", "2:9: run.name: must not be empty"},
    /* layers */
    {"network:\n  layers:\n    - {type: dense}\n",
     "3:7: network.layers[0]: missing required key 'out' (a dense layer's neurons)"},
    {"network:\n  layers:\n    - {out: 10}\n",
     "3:7: network.layers[0]: missing required key 'type'"},
    {"network:\n  layers:\n    - {type: conv, out: 4, kernel: 3}\n",
     "3:14: network.layers[0].type: expected dense, conv2d, pool or flatten, got 'conv'; did "
     "you mean 'conv2d'?"},
    {"network:\n  layers:\n    - {type: dense, out: 10, kernel: 3}\n",
     "3:30: network.layers[0].kernel: a dense layer has no 'kernel' (it takes: out)"},
    {"network:\n  layers:\n    - {type: conv2d, out: 4, kernal: 3}\n",
     "3:30: network.layers[0].kernal: unknown key; did you mean 'kernel'?"},
    {"network:\n  layers:\n    - {type: conv2d, out: 4, kernel: 5}\n"
     "    - {type: pool, kernel: 2}\n    - {type: pool, kernel: 0}\n",
     "5:28: network.layers[2].kernel: must be in [1, 4096], got 0"},
    {"network:\n  layers:\n    - {type: conv2d, out: 4, kernel: 3, padding: 3}\n",
     "3:50: network.layers[0].padding: must be less than the kernel (3), got 3"},
    {"network:\n  layers: {type: dense}\n",
     "2:11: network.layers: expected a list of layers such as [{type: dense, out: 10}], got a "
     "map"},
    {"network:\n  layers: []\n", "2:11: network.layers: needs at least one layer"},
    {"network:\n  layers: [dense]\n",
     "2:12: network.layers[0]: expected a layer such as {type: dense, out: 800}, got 'dense'"},
    {"network:\n  layers:\n  - type: dense\n    out: -800\n",
     "4:10: network.layers[0].out: must be >= 1, got -800"},
    /* YAML itself */
    {"train:\n  epochs: 1\n  epochs: 2\n",
     "3:3: train.epochs: duplicate key (first given at line 2, column 3)"},
    {"train:\n  epochs: 2\n  batch: *e\n",
     "3:10: YAML aliases (*name) are not supported: write the value out"},
    {"run:\n  name: x\n---\nrun:\n  name: y\n",
     "3:1: a second YAML document ('---'): only one is allowed"},
};

typedef struct prefix_case {
    const char *yaml;
    const char *want; /* the start of the message after "FILE:" */
} prefix_case;

static const prefix_case prefix_cases[] = {
    {"train:\n  epochs: [1,\n", "3:1: malformed YAML: "},
    {"train:\n\tepochs: 1\n", "2:1: malformed YAML: found character that cannot start any token"},
    {"train:\n  epochs: 1\n batch: 2\n", "3:2: malformed YAML: "},
    {"run: {name: \"x}\n", "2:1: malformed YAML: found unexpected end of stream"},
};

typedef struct set_case {
    const char *arg;
    const char *want; /* the whole message */
} set_case;

static const set_case set_cases[] = {
    {"optimizer.lr=-1", "--set optimizer.lr=-1: optimizer.lr: must be > 0, got -1"},
    {"optimizer.lrr=1",
     "--set optimizer.lrr=1: optimizer.lrr: unknown key; did you mean 'optimizer.lr'?"},
    {"optimiser.lr=1", "--set optimiser.lr=1: optimiser.lr: unknown key; did you mean "
                       "'optimizer.lr'?"},
    {"train.lr=1", "--set train.lr=1: train.lr: unknown key; did you mean 'optimizer.lr'?"},
    {"network.layers=[{type: dense}]",
     "--set network.layers=[{type: dense}]: network.layers[0]: missing required key 'out' (a "
     "dense layer's neurons)"},
    {"deploy.bits=[4,40]", "--set deploy.bits=[4,40]: deploy.bits[1]: must be in [2, 16], got 40"},
    {"noequals", "--set noequals: expected key.path=value, e.g. --set optimizer.lr=3e-4"},
    {"=5", "--set =5: expected key.path=value, e.g. --set optimizer.lr=3e-4"},
    {"network.layers[5].out=3",
     "--set network.layers[5].out=3: network.layers[5].out: no such layer (the network has 2: "
     "indices 0 to 1)"},
    {"network.layers[0].type=pool",
     "--set network.layers[0].type=pool: network.layers[0].type: to change a layer's type, "
     "replace the whole layer, e.g. --set network.layers[0]={type: pool, kernel: 2}"},
    {"network.layers[0].kernel=3",
     "--set network.layers[0].kernel=3: network.layers[0].kernel: a dense layer has no 'kernel' "
     "(it takes: out)"},
    {"network.layers[1]={type: pool}",
     "--set network.layers[1]={type: pool}: network.layers[1]: missing required key 'kernel' (a "
     "pool layer's window size)"},
    {"train.epochs=[1", "--set train.epochs=[1: at the end of the value: malformed YAML: did "
                        "not find expected ',' or ']' (while parsing a flow sequence that "
                        "started at line 1, column 1)"},
    {"train.batch=0", "--set train.batch=0: train.batch: must be >= 1, got 0"},
    {"optimizer={lr: -2}", "--set optimizer={lr: -2}: optimizer.lr: must be > 0, got -2"},
    {"optimizer={lx: 2}",
     "--set optimizer={lx: 2}: optimizer.lx: unknown key; did you mean 'optimizer.lr'?"},
    {"train=3", "--set train=3: train: expected a map of settings (epochs, batch, ...), got '3'"},
    {"run.name=", "--set run.name=: run.name: must not be empty"},
};

int main(void)
{
    const size_t n_file = sizeof file_cases / sizeof file_cases[0];
    const size_t n_prefix = sizeof prefix_cases / sizeof prefix_cases[0];
    const size_t n_set = sizeof set_cases / sizeof set_cases[0];
    stdbp_config cfg, before;
    stdbp_err err;
    char path[4200], want[8192];
    char what[128];
    size_t i;

    plan(2 * n_file + 2 * n_prefix + 3 * n_set + 2);
    diag("%zu file cases, %zu malformed-YAML cases, %zu --set cases", n_file, n_prefix, n_set);
    for (i = 0; i < n_file + n_prefix; i++) {
        const char *yaml = i < n_file ? file_cases[i].yaml : prefix_cases[i - n_file].yaml;
        const char *tail = i < n_file ? file_cases[i].want : prefix_cases[i - n_file].want;
        FILE *f;
        stdbp_status st;
        snprintf(path, sizeof path, "%s/case%02zu.yaml", test_tmpdir(), i);
        f = fopen(path, "w");
        if (!f || fputs(yaml, f) < 0 || fclose(f) != 0)
            bail("cannot write %s", path);
        stdbp_config_defaults(&cfg);
        before = cfg;
        stdbp_err_clear(&err);
        st = stdbp_config_load(path, &cfg, &err);
        snprintf(want, sizeof want, "%s:%s", path, tail);
        is_int(STDBP_ECONFIG, st, "case %zu fails: %s", i, tail);
        if (i < n_file) {
            is_string(want, err.msg, "case %zu message", i);
        } else {
            ok(strncmp(err.msg, want, strlen(want)) == 0, "case %zu message starts right", i);
            if (strncmp(err.msg, want, strlen(want)) != 0)
                diag("wanted start \"%s\", got \"%s\"", want, err.msg);
        }
        if (!stdbp_config_equal(&before, &cfg, what, sizeof what))
            diag("case %zu changed %s", i, what);
    }

    for (i = 0; i < n_set; i++) {
        stdbp_config_defaults(&cfg);
        before = cfg;
        stdbp_err_clear(&err);
        is_int(STDBP_ECONFIG, stdbp_config_set(&cfg, set_cases[i].arg, &err), "--set %s fails",
               set_cases[i].arg);
        is_string(set_cases[i].want, err.msg, "--set %s message", set_cases[i].arg);
        ok(stdbp_config_equal(&before, &cfg, what, sizeof what) &&
               memcmp(&before, &cfg, sizeof cfg) == 0,
           "--set %s leaves the config unchanged", set_cases[i].arg);
    }

    /* A failed load leaves the caller's config as it was. */
    stdbp_config_defaults(&cfg);
    if (stdbp_config_set(&cfg, "train.epochs=77", &err) != STDBP_OK)
        bail("%s", err.msg);
    before = cfg;
    is_int(STDBP_ECONFIG, stdbp_config_load_string("train: {epochs: 0}", 18, "inline", &cfg, &err),
           "a failing load string");
    ok(memcmp(&before, &cfg, sizeof cfg) == 0, "leaves the config byte for byte unchanged");
    return 0;
}
