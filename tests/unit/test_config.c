/* The configuration: defaults, the shipped configs, --set overrides and
 * the keys that follow others, and the cross-field checks of validate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/config.h"
#include "tap/basic.h"
#include "shipped_configs.h"

static const char *config_path(const char *name)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/configs/%s", top && top[0] ? top : ".", name);
    return path;
}

static void must_set(stdbp_config *cfg, const char *arg)
{
    stdbp_err err;
    if (stdbp_config_set(cfg, arg, &err) != STDBP_OK)
        bail("--set %s: %s", arg, err.msg);
}

static void test_defaults(void)
{
    stdbp_config c;
    stdbp_neuron_params np = stdbp_neuron_defaults();
    stdbp_optim_params op = stdbp_optim_defaults();
    stdbp_loss_params lp = stdbp_loss_defaults();
    stdbp_encoding ep = stdbp_encoding_defaults();
    stdbp_init_params ip = stdbp_init_defaults();
    stdbp_schedule sp = stdbp_schedule_defaults();
    stdbp_err err;

    unsetenv("STDBP_DATA");
    stdbp_config_defaults(&c);
    is_string("run", c.run.name, "run.name");
    is_string("runs/run", c.run.out_dir, "run.dir follows the name");
    is_int(1, (long long)c.run.seed, "run.seed");
    is_string("mnist", c.data.train, "data.train");
    is_string("mnist", c.data.test, "data.test follows data.train");
    is_string("data", c.data.dir, "data.dir without $STDBP_DATA");
    is_int(0, c.data.n_train, "data.train_samples");
    is_int(5000, c.data.n_val, "data.val_samples");
    is_int(0, c.data.n_test, "data.test_samples");
    ok(c.network.input.c == 0 && c.network.input.h == 0 && c.network.input.w == 0,
       "network.input: from the data");
    is_int(2, (long long)c.network.n_layers, "default network has two layers");
    ok(c.network.layers[0].kind == STDBP_LAYER_DENSE && c.network.layers[0].out == 800 &&
           c.network.layers[1].kind == STDBP_LAYER_DENSE && c.network.layers[1].out == 10,
       "784-800-10");
    ok(memcmp(&c.network.neuron, &np, sizeof np) == 0, "neuron defaults from net");
    ok(c.network.init.kind == ip.kind && c.network.init.gain == ip.gain &&
           c.network.init.active_fraction == ip.active_fraction,
       "init defaults from net");
    ok(c.loss.beta == lp.beta && c.loss.silent_time == lp.silent_time, "loss defaults");
    ok(c.optim.kind == op.kind && c.optim.lr == op.lr && c.optim.beta1 == op.beta1 &&
           c.optim.beta2 == op.beta2 && c.optim.eps == op.eps &&
           c.optim.weight_decay == op.weight_decay && c.optim.momentum == op.momentum &&
           c.optim.nesterov == op.nesterov,
       "optimizer defaults");
    ok(c.encoding.t_max == ep.t_max && c.encoding.zero_silent == ep.zero_silent &&
           c.encoding.normalise == ep.normalise,
       "encoding defaults");
    ok(c.schedule.kind == sp.kind && c.schedule.gamma == sp.gamma &&
           c.schedule.step_epochs == sp.step_epochs,
       "schedule defaults");
    is_double(10, c.schedule.total_epochs, 0, "schedule.total_epochs follows train.epochs");
    is_int(10, c.train.epochs, "train.epochs");
    is_int(32, c.train.batch, "train.batch");
    ok(isinf(c.train.clip_norm) && c.train.clip_norm > 0, "train.clip_norm off");
    is_double(1e-4, c.train.ws_lambda, 0, "train.weight_sum_penalty");
    is_double(1, c.train.ws_margin, 0, "train.weight_sum_margin");
    is_int(100, c.train.log_every, "train.log_every");
    is_int(1, c.train.eval_every, "train.eval_every");
    is_int(0, c.checkpoint.every_steps, "checkpoint.every_steps");
    is_int(3, c.checkpoint.keep, "checkpoint.keep");
    is_int(16, c.spikes.samples, "spikes.samples");
    is_string("end", c.spikes.when, "spikes.when");
    ok(c.deploy.enabled == 1 && c.deploy.n_bits == 1 && c.deploy.bits[0] == 8, "deploy on, 8 bits");
    is_int(256, c.deploy.time_steps, "deploy.time_steps");
    is_string("", c.deploy.hw, "deploy.hw: built-in profile");
    is_int(STDBP_OK, stdbp_config_validate(&c, &err), "the defaults validate");

    setenv("STDBP_DATA", "/scratch/datasets", 1);
    stdbp_config_defaults(&c);
    is_string("/scratch/datasets", c.data.dir, "data.dir from $STDBP_DATA");
    unsetenv("STDBP_DATA");

    {
        stdbp_config e;
        stdbp_config_defaults(&c);
        is_int(STDBP_OK, stdbp_config_load_string("", 0, "empty", &e, &err), "an empty file loads");
        ok(stdbp_config_equal(&c, &e, NULL, 0), "and gives the defaults");
        is_int(STDBP_OK,
               stdbp_config_load_string("# nothing\nrun:\ntrain: ~\n", 24, "sparse", &e, &err),
               "empty sections are fine");
        ok(stdbp_config_equal(&c, &e, NULL, 0), "and change nothing");
        is_string("sparse", e.source, "the source names the input");
    }
}

static void test_shipped(void)
{
    stdbp_config c;
    stdbp_err err;
    size_t i;
    for (i = 0; i < N_SHIPPED_CONFIGS; i++) {
        stdbp_status st = stdbp_config_load(config_path(shipped_configs[i]), &c, &err);
        is_int(STDBP_OK, st, "configs/%s loads", shipped_configs[i]);
        if (st)
            diag("%s", err.msg);
        st = stdbp_config_validate(&c, &err);
        is_int(STDBP_OK, st, "configs/%s validates", shipped_configs[i]);
        if (st)
            diag("%s", err.msg);
    }
    if (stdbp_config_load(config_path("mnist_cnn.yaml"), &c, &err))
        bail("%s", err.msg);
    is_int(7, (long long)c.network.n_layers, "mnist_cnn has 7 layers");
    ok(c.network.layers[0].kind == STDBP_LAYER_CONV2D && c.network.layers[0].out == 16 &&
           c.network.layers[0].kernel == 5 && c.network.layers[0].padding == 2 &&
           c.network.layers[0].stride == 1,
       "conv16 k5 p2");
    ok(c.network.layers[1].kind == STDBP_LAYER_POOL && c.network.layers[1].kernel == 2 &&
           c.network.layers[1].stride == 2,
       "pool 2 (stride defaults to the kernel)");
    ok(c.network.layers[4].kind == STDBP_LAYER_FLATTEN && c.network.layers[5].out == 128,
       "flatten, dense 128");
    is_string("runs/mnist_cnn", c.run.out_dir, "run.dir follows run.name");
    if (stdbp_config_load(config_path("smoke.yaml"), &c, &err))
        bail("%s", err.msg);
    ok(c.data.n_train > 0 && c.data.n_train <= 1024 && c.train.epochs <= 3, "smoke is small");
    ok(c.deploy.n_bits == 2 && c.deploy.bits[0] == 4 && c.deploy.bits[1] == 8,
       "smoke deploys 4 and 8 bits");
}

static void test_set(void)
{
    stdbp_config c;
    stdbp_err err;
    stdbp_config_defaults(&c);

    must_set(&c, "optimizer.lr=3e-4");
    is_double(3e-4, c.optim.lr, 0, "--set optimizer.lr=3e-4");
    must_set(&c, "network.layers=[{type: dense, out: 10}]");
    ok(c.network.n_layers == 1 && c.network.layers[0].out == 10 && c.network.layers[1].out == 0,
       "--set network.layers=[...] replaces the list (and clears the rest)");
    must_set(&c, "deploy.bits=[4,8]");
    ok(c.deploy.n_bits == 2 && c.deploy.bits[0] == 4 && c.deploy.bits[1] == 8,
       "--set deploy.bits=[4,8]");
    must_set(&c, "deploy.bits=6");
    ok(c.deploy.n_bits == 1 && c.deploy.bits[0] == 6 && c.deploy.bits[1] == 0,
       "--set deploy.bits=6 is a list of one");
    must_set(&c, "train.clip_norm=inf");
    ok(isinf(c.train.clip_norm), "--set train.clip_norm=inf");
    must_set(&c, "train.clip_norm=5");
    must_set(&c, "train.clip_norm=.inf");
    ok(isinf(c.train.clip_norm), "--set train.clip_norm=.inf");
    must_set(&c, "network.t_max=\"inf\"");
    ok(isinf(c.network.neuron.t_max), "quoted \"inf\"");
    must_set(&c, "optimizer={kind: sgd, momentum: 0.5}");
    ok(c.optim.kind == STDBP_OPTIM_SGD && c.optim.momentum == 0.5 && c.optim.lr == 3e-4,
       "--set on a section changes only the keys given");
    must_set(&c, "network.input=[1, 28, 28]");
    ok(c.network.input.c == 1 && c.network.input.h == 28 && c.network.input.w == 28,
       "--set network.input=[1, 28, 28]");
    must_set(&c, "network.input=null");
    ok(c.network.input.c == 0, "--set network.input=null");
    must_set(&c, "run.name='my run: two=2'");
    is_string("my run: two=2", c.run.name, "a quoted value may hold ': ' and '='");
    must_set(&c, "encoding.zero_silent=off");
    is_int(0, c.encoding.zero_silent, "--set encoding.zero_silent=off");
    must_set(&c, "run.seed=18446744073709551615");
    ok(c.run.seed == UINT64_MAX, "seed up to 2^64-1");

    /* One key of one layer, and a whole layer. */
    stdbp_config_defaults(&c);
    must_set(&c, "network.layers[0].out=400");
    ok(c.network.layers[0].out == 400 && c.network.layers[1].out == 10,
       "--set network.layers[0].out=400");
    must_set(&c, "network.layers=[{type: conv2d, out: 4, kernel: 3}, {type: dense, out: 10}]");
    must_set(&c, "network.layers[0].padding=1");
    ok(c.network.layers[0].padding == 1 && c.network.layers[0].stride == 1,
       "--set network.layers[0].padding=1 on a conv layer");
    must_set(&c, "network.layers[0]={type: pool, kernel: 2}");
    ok(c.network.layers[0].kind == STDBP_LAYER_POOL && c.network.layers[0].kernel == 2 &&
           c.network.layers[0].stride == 2 && c.network.layers[0].out == 0 &&
           c.network.layers[0].padding == 0,
       "--set network.layers[0]={...} replaces one layer");

    /* Keys that follow others until set. */
    stdbp_config_defaults(&c);
    must_set(&c, "run.name=exp1");
    is_string("runs/exp1", c.run.out_dir, "run.dir follows run.name");
    must_set(&c, "run.dir=/scratch/exp");
    must_set(&c, "run.name=exp2");
    is_string("/scratch/exp", c.run.out_dir, "an explicit run.dir stays");
    must_set(&c, "data.train=fashion-mnist");
    is_string("fashion-mnist", c.data.test, "data.test follows data.train");
    must_set(&c, "train.epochs=4");
    is_double(4, c.schedule.total_epochs, 0, "schedule.total_epochs follows train.epochs");
    must_set(&c, "schedule.total_epochs=20");
    must_set(&c, "train.epochs=5");
    is_double(20, c.schedule.total_epochs, 0, "an explicit total_epochs stays");
    {
        static const char y[] = "run: {name: a, dir: out/a}\n";
        if (stdbp_config_load_string(y, sizeof y - 1, "y", &c, &err))
            bail("%s", err.msg);
        must_set(&c, "run.name=b");
        is_string("out/a", c.run.out_dir, "run.dir set in the file stays after --set run.name");
    }
    {
        static const char y[] = "data: {train: 'hdf5:my.h5', test: 'hdf5:my_test.h5'}\n"
                                "network: {input: [3, 8, 8]}\n";
        is_int(STDBP_OK, stdbp_config_load_string(y, sizeof y - 1, "h5", &c, &err),
               "hdf5 data sets");
        is_string("hdf5:my_test.h5", c.data.test, "with their own test file");
        is_int(STDBP_OK, stdbp_config_validate(&c, &err), "validate");
    }
}

/* Expect validate to fail with a message that contains want. */
static void invalid(const char *yaml, const char *want, const char *what)
{
    stdbp_config c;
    stdbp_err err;
    stdbp_status st = stdbp_config_load_string(yaml, strlen(yaml), "v.yaml", &c, &err);
    if (st) {
        ok(0, "%s: loads", what);
        diag("%s", err.msg);
        return;
    }
    stdbp_err_clear(&err);
    st = stdbp_config_validate(&c, &err);
    ok(st == STDBP_ECONFIG && strcmp(err.msg, want) == 0, "validate: %s", what);
    if (st != STDBP_ECONFIG || strcmp(err.msg, want) != 0)
        diag("wanted \"%s\", got \"%s\"", want, err.msg);
}

static void test_validate(void)
{
    stdbp_config c;
    stdbp_err err;
    invalid("network:\n  layers:\n    - {type: conv2d, out: 8, kernel: 5}\n"
            "    - {type: pool, kernel: 2}\n    - {type: conv2d, out: 8, kernel: 5}\n"
            "    - {type: pool, kernel: 2}\n    - {type: conv2d, out: 8, kernel: 5}\n"
            "    - {type: dense, out: 10}\n",
            "v.yaml: network.layers[4]: conv2d window 5x5 does not fit its input 8x4x4 (C x H x "
            "W)",
            "a kernel larger than its input");
    invalid("network:\n  layers:\n    - {type: dense, out: 100}\n    - {type: flatten}\n",
            "v.yaml: network.layers[1]: the last layer must be dense (its neurons are the "
            "classes), not flatten",
            "the last layer is not dense");
    invalid("network:\n  layers:\n    - {type: dense, out: 5}\n",
            "v.yaml: network.layers[0].out: 5 outputs for the 10 classes of mnist",
            "too few outputs");
    invalid("data:\n  train_samples: 100\n  val_samples: 100\n",
            "v.yaml: data.val_samples: 100 validation images leave none of the 100 training "
            "images to train on",
            "validation eats the training set");
    invalid("data:\n  train_samples: 70000\n",
            "v.yaml: data.train_samples: mnist has 60000 training images, asked for 70000",
            "more images than mnist has");
    invalid("network:\n  input: [3, 32, 32]\n",
            "v.yaml: network.input: [3, 32, 32] does not match mnist images [1, 28, 28] (or "
            "leave it null)",
            "input shape against the data");
    invalid("optimizer:\n  kind: sgd\n  momentum: 0\n  nesterov: true\n",
            "v.yaml: optimizer.nesterov: needs optimizer.momentum > 0", "nesterov");
    invalid("optimizer:\n  lr: 1e-4\nschedule:\n  kind: cosine\n  min_lr: 1e-3\n",
            "v.yaml: schedule.min_lr: 0.001 is above optimizer.lr (0.0001)", "cosine floor");
    invalid("spikes:\n  samples: 20\ndata:\n  test_samples: 10\n",
            "v.yaml: spikes.samples: 20 is more than the 10 test images", "spike samples");
    invalid("network:\n  layers:\n    - {type: dense, out: 16777216}\n    - {type: dense, "
            "out: 16777216}\n",
            "v.yaml: network.layers[0]: the network reaches 1.32e+10 weights here (limit 1e+09)",
            "an absurdly large network");
    invalid("data:\n  train: 'hdf5:x.h5'\nnetwork:\n  input: [1, 4, 4]\n  layers:\n"
            "    - {type: conv2d, out: 2, kernel: 3, stride: 2}\n    - {type: pool, kernel: 2}\n"
            "    - {type: dense, out: 2}\n",
            "v.yaml: network.layers[1]: pool window 2x2 does not fit its input 2x1x1 (C x H x W)",
            "strides shrink the input");

    /* Code that edits the struct is caught too. */
    stdbp_config_defaults(&c);
    c.optim.lr = -1;
    is_int(STDBP_ECONFIG, stdbp_config_validate(&c, &err), "validate rechecks every key");
    is_string("(defaults): optimizer.lr: must be > 0, got -1", err.msg, "naming it");
    stdbp_config_defaults(&c);
    c.network.n_layers = 0;
    is_int(STDBP_ECONFIG, stdbp_config_validate(&c, &err), "no layers");
    stdbp_config_defaults(&c);
    c.network.layers[0].stride = 0; /* dense: ignored; conv: 0 = default */
    c.network.layers[0].kind = STDBP_LAYER_CONV2D;
    c.network.layers[0].kernel = 3;
    c.network.layers[0].out = 4;
    stdbp_err_clear(&err);
    is_int(STDBP_OK, stdbp_config_validate(&c, &err), "stride 0 means the default");
    if (err.code)
        diag("%s", err.msg);
}

int main(void)
{
    plan(87 + 2 * (int)N_SHIPPED_CONFIGS); /* two checks per shipped config */
    test_defaults();
    test_shipped();
    test_set();
    test_validate();
    return 0;
}
