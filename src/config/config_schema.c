/* The configuration schema: one row per key (path, type, field, range,
 * default, meaning), the defaults it gives, and the per-key rules that
 * load, --set and validate share. See config_impl.h. */
#include "config/config_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Enum fields are stored through an int. */
_Static_assert(sizeof(stdbp_optim_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(stdbp_sched_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(stdbp_lr_scaling) == sizeof(int), "enum size");
_Static_assert(sizeof(stdbp_init_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(stdbp_layer_kind) == sizeof(int), "enum size");

#define FIELD(f) offsetof(stdbp_config, f), sizeof(((stdbp_config *)0)->f)
#define LFIELD(f) offsetof(stdbp_layer_spec, f), sizeof(((stdbp_layer_spec *)0)->f)
/* The common rows: a count the config owns (with its default), and a
 * number whose default comes from its module's _defaults(). */
#define LONG_KEY(path, f, lo, hi, def, doc)                                                        \
    {                                                                                              \
        path, STDBP_CFG_T_LONG, FIELD(f), lo, hi, 0, 0, NULL, def, doc                             \
    }
#define MODULE_DOUBLE(path, f, lo, hi, flags, doc)                                                 \
    {                                                                                              \
        path, STDBP_CFG_T_DOUBLE, FIELD(f), lo, hi, (flags) | STDBP_CFG_MODULE, 0, NULL, NULL, doc \
    }
#define NONE -INFINITY, INFINITY
#define POS 0, INFINITY /* > 0 with STDBP_CFG_MIN_OPEN, else >= 0 */
#define MIN_OPEN STDBP_CFG_MIN_OPEN
#define MAX_OPEN STDBP_CFG_MAX_OPEN
#define INF_OK STDBP_CFG_INF_OK
#define MODULE STDBP_CFG_MODULE
#define NONEMPTY STDBP_CFG_NONEMPTY
#define DATASET STDBP_CFG_DATASET
#define NAME STDBP_CFG_NAME
#define DOCDEF STDBP_CFG_DOCDEF

static const char *const init_kinds[] = {"fire", "kaiming", NULL};
static const char *const optim_kinds[] = {"adam", "sgd", "lamb", "lars", NULL};
static const char *const lr_scalings[] = {"none", "linear", "sqrt", NULL};
static const char *const sched_kinds[] = {"constant", "step", "cosine", NULL};
static const char *const shared_modes[] = {"auto", "off", NULL};
static const char *const spike_whens[] = {"epoch", "end", NULL};
const char *const stdbp_cfg_layer_kinds[] = {"dense", "conv2d", "pool", "flatten", NULL};

/* The order of rows is the order of the emitted YAML and of the docs;
 * the rows of one section are contiguous. */
const stdbp_cfg_key stdbp_cfg_schema[] = {
    /* run */
    {"run.name", STDBP_CFG_T_STR, FIELD(run.name), NONE, NONEMPTY | NAME, 0, NULL, "run",
     "name of the run; also names the run directory"},
    {"run.dir", STDBP_CFG_T_STR, FIELD(run.out_dir), NONE, NONEMPTY | DOCDEF,
     STDBP_CFG_FOLLOW_RUN_DIR, NULL, "runs/<run.name>",
     "run directory: effective config, checkpoints, metrics, spikes, report"},
    {"run.seed", STDBP_CFG_T_U64, FIELD(run.seed), NONE, 0, 0, NULL, "1",
     "seed of every random choice (initialisation, split, shuffles)"},
    /* data */
    {"data.train", STDBP_CFG_T_STR, FIELD(data.train), NONE, NONEMPTY | DATASET, 0, NULL, "mnist",
     "training set: mnist, fashion-mnist, hdf5:PATH or an event set: events:PATH, shd:PATH, "
     "nmnist:DIR"},
    {"data.test", STDBP_CFG_T_STR, FIELD(data.test), NONE, NONEMPTY | DATASET | DOCDEF,
     STDBP_CFG_FOLLOW_DATA_TEST, NULL, "data.train",
     "test set, same forms (mnist and fashion-mnist use their t10k files)"},
    {"data.dir", STDBP_CFG_T_STR, FIELD(data.dir), NONE, NONEMPTY | DOCDEF, 0, NULL,
     "$STDBP_DATA, else data", "directory holding mnist/ and fashion-mnist/"},
    LONG_KEY("data.train_samples", data.n_train, 0, 1e12, "0",
             "use the first N training images (0 = all)"),
    LONG_KEY("data.val_samples", data.n_val, 0, 1e12, "5000",
             "images held out of the training images for validation (seeded)"),
    LONG_KEY("data.test_samples", data.n_test, 0, 1e12, "0",
             "use the first N test images (0 = all)"),
    {"data.shared_memory", STDBP_CFG_T_WORD, FIELD(data.shared_memory), NONE, 0, 0, shared_modes,
     "auto", "auto: the ranks of a node share one copy of the data sets (off: one per rank)"},
    /* event data sets */
    MODULE_DOUBLE("data.events.time_scale", encoding.ev_time_scale, 0, INFINITY, MIN_OPEN,
                  "event sets: model time units per stored unit (e.g. 1e-5 for N-MNIST's "
                  "microseconds)"),
    MODULE_DOUBLE("data.events.window", encoding.ev_window, 0, INFINITY, MIN_OPEN | INF_OK,
                  "event sets: keep events before this time (scaled; inf = all)"),
    {"data.events.first_k", STDBP_CFG_T_LONG, FIELD(encoding.ev_first_k), 0, 1e9, MODULE, 0, NULL,
     NULL, "event sets: keep each channel's first k events (0 = all)"},
    {"data.events.ttfs", STDBP_CFG_T_BOOL, FIELD(encoding.ev_ttfs), NONE, MODULE, 0, NULL, NULL,
     "event sets: keep each channel's first event only (time to first spike)"},
    /* encoding */
    MODULE_DOUBLE("encoding.t_max", encoding.t_max, 0, INFINITY, MIN_OPEN,
                  "latency code: intensity x fires at t_max * (1 - x)"),
    {"encoding.zero_silent", STDBP_CFG_T_BOOL, FIELD(encoding.zero_silent), NONE, MODULE, 0, NULL,
     NULL, "pixels of intensity 0 stay silent (else fire at t_max)"},
    {"encoding.normalise", STDBP_CFG_T_BOOL, FIELD(encoding.normalise), NONE, MODULE, 0, NULL, NULL,
     "divide each image by its brightest pixel first"},
    /* augment */
    {"augment.shift", STDBP_CFG_T_INT, FIELD(augment.shift), 0, 64, MODULE, 0, NULL, NULL,
     "training images: random translation by up to +-N pixels per axis (0 = off)"},
    MODULE_DOUBLE("augment.jitter", augment.jitter, 0, INFINITY, 0,
                  "training images: Gaussian noise of this s.d. on input spike times (0 = off)"),
    MODULE_DOUBLE("augment.rotate", augment.rotate, 0, 180, 0,
                  "training images: random rotation by up to +-N degrees (0 = off)"),
    MODULE_DOUBLE("augment.scale", augment.scale, 0, 0.5, 0,
                  "training images: random scaling by a factor in [1 - N, 1 + N] (0 = off)"),
    {"augment.flip", STDBP_CFG_T_BOOL, FIELD(augment.flip), NONE, MODULE, 0, NULL, NULL,
     "training images: mirror left-right with probability 1/2"},
    MODULE_DOUBLE(
        "augment.drop", augment.drop, 0, 1, MAX_OPEN,
        "training: drop each input spike (pixel or event) with this probability (0 = off)"),
    /* network */
    {"network.input", STDBP_CFG_T_SHAPE, FIELD(network.input), 1, 65536, DOCDEF, 0, NULL, "null",
     "input shape [C, H, W]; null = from the data set"},
    MODULE_DOUBLE("network.theta", network.neuron.theta, 0, STDBP_CFG_MAX_THETA, MIN_OPEN,
                  "firing threshold of every neuron"),
    MODULE_DOUBLE("network.t_max", network.neuron.t_max, 0, INFINITY, MIN_OPEN | INF_OK,
                  "a neuron that would fire after t_max stays silent (inf = no window)"),
    MODULE_DOUBLE("network.grad_clip", network.neuron.grad_clip, 0, INFINITY, MIN_OPEN | INF_OK,
                  "per-neuron clip of dL/dt_j / S_j in absolute value, against exploding "
                  "gradients (inf = off)"),
    MODULE_DOUBLE("network.silent_time", network.neuron.silent_time, 0, INFINITY, MIN_OPEN,
                  "a silent output that the loss asks to fire is treated as firing then, with the "
                  "inputs fired before it as causal set"),
    {"network.init.kind", STDBP_CFG_T_ENUM, FIELD(network.init.kind), NONE, MODULE, 0, init_kinds,
     NULL, "weight initialisation: fire (most neurons fire at first) or kaiming"},
    MODULE_DOUBLE("network.init.gain", network.init.gain, 0, INFINITY, MIN_OPEN,
                  "scales the standard deviation of the initial weights"),
    MODULE_DOUBLE("network.init.active_fraction", network.init.active_fraction, 0, 1, MIN_OPEN,
                  "fire init: expected fraction of a layer's inputs that fire"),
    {"network.layers", STDBP_CFG_T_LAYERS, FIELD(network.layers), NONE, DOCDEF, 0, NULL,
     "[{type: dense, out: 800}, {type: dense, out: 10}]",
     "the layers, input to output (see network.layers entries below)"},
    /* loss */
    MODULE_DOUBLE("loss.beta", loss.beta, 0, INFINITY, MIN_OPEN,
                  "softmax temperature on the output times: p_k ~ exp(-beta t_k)"),
    MODULE_DOUBLE("loss.silent_time", loss.silent_time, 0, INFINITY, MIN_OPEN,
                  "time given to silent outputs in the loss (later than any real spike)"),
    /* optimizer */
    {"optimizer.kind", STDBP_CFG_T_ENUM, FIELD(optim.kind), NONE, MODULE, 0, optim_kinds, NULL,
     "adam (AdamW-style decay), sgd, lamb (Adam with a layer-wise trust ratio) or lars (SGD "
     "with momentum and a layer-wise trust ratio)"},
    MODULE_DOUBLE("optimizer.lr", optim.lr, 0, INFINITY, MIN_OPEN,
                  "base learning rate (the schedule scales it)"),
    {"optimizer.lr_scaling", STDBP_CFG_T_ENUM, FIELD(optim.lr_scaling), NONE, MODULE, 0,
     lr_scalings, NULL,
     "scale lr with train.batch: none, linear (x batch / lr_base_batch) or sqrt (x its root)"},
    MODULE_DOUBLE("optimizer.lr_base_batch", optim.lr_base_batch, 0, INFINITY, 0,
                  "the global batch at which lr holds, for lr_scaling (0 = unset)"),
    MODULE_DOUBLE("optimizer.beta1", optim.beta1, 0, 1, MAX_OPEN,
                  "Adam, LAMB: decay of the first moment"),
    MODULE_DOUBLE("optimizer.beta2", optim.beta2, 0, 1, MAX_OPEN,
                  "Adam, LAMB: decay of the second moment"),
    MODULE_DOUBLE("optimizer.eps", optim.eps, 0, INFINITY, MIN_OPEN,
                  "Adam, LAMB: added to the root of the second moment; LARS: to the "
                  "trust ratio's denominator"),
    MODULE_DOUBLE("optimizer.weight_decay", optim.weight_decay, 0, INFINITY, 0,
                  "decoupled weight decay (every kind)"),
    MODULE_DOUBLE("optimizer.momentum", optim.momentum, 0, 1, MAX_OPEN, "SGD, LARS: momentum"),
    {"optimizer.nesterov", STDBP_CFG_T_BOOL, FIELD(optim.nesterov), NONE, MODULE, 0, NULL, NULL,
     "SGD, LARS: Nesterov momentum (needs momentum > 0)"},
    MODULE_DOUBLE("optimizer.trust_coef", optim.trust_coef, 0, INFINITY, MIN_OPEN,
                  "LAMB, LARS: scales each layer's trust ratio ||w|| / ||update||"),
    /* schedule */
    {"schedule.kind", STDBP_CFG_T_ENUM, FIELD(schedule.kind), NONE, MODULE, 0, sched_kinds, NULL,
     "learning-rate schedule: constant, step or cosine"},
    MODULE_DOUBLE("schedule.warmup_epochs", schedule.warmup_epochs, 0, INFINITY, 0,
                  "linear ramp of the rate from 0 over these (fractional) epochs"),
    MODULE_DOUBLE("schedule.warmup_steps", schedule.warmup_steps, 0, INFINITY, 0,
                  "or over these steps: step k (from 1) gets k / warmup_steps of the rate"),
    MODULE_DOUBLE("schedule.step_epochs", schedule.step_epochs, 0, INFINITY, MIN_OPEN,
                  "step: epochs between decays"),
    MODULE_DOUBLE("schedule.gamma", schedule.gamma, 0, 1, MIN_OPEN,
                  "step: factor applied at each decay"),
    MODULE_DOUBLE("schedule.min_lr", schedule.min_lr, 0, INFINITY, 0,
                  "cosine: the rate at the end"),
    {"schedule.total_epochs", STDBP_CFG_T_DOUBLE, FIELD(schedule.total_epochs), POS,
     MIN_OPEN | DOCDEF, STDBP_CFG_FOLLOW_TOTAL_EPOCHS, NULL, "train.epochs",
     "cosine: epochs from lr to min_lr"},
    /* train */
    LONG_KEY("train.epochs", train.epochs, 1, 1e9, "10", "passes over the training images"),
    LONG_KEY("train.batch", train.batch, 1, 1e9, "32",
             "global batch: samples per step over all ranks (result independent of ranks)"),
    {"train.clip_norm", STDBP_CFG_T_DOUBLE, FIELD(train.clip_norm), POS, MIN_OPEN | INF_OK, 0, NULL,
     ".inf", "clip the global gradient's L2 norm to this (inf = off)"},
    {"train.weight_sum_penalty", STDBP_CFG_T_DOUBLE, FIELD(train.ws_lambda), POS, 0, 0, NULL,
     "1e-4", "lambda of the penalty on neurons whose weights sum below margin * theta"},
    {"train.weight_sum_margin", STDBP_CFG_T_DOUBLE, FIELD(train.ws_margin), POS, 0, 0, NULL, "1",
     "margin of that penalty, in units of theta"},
    {"train.shard_update", STDBP_CFG_T_BOOL, FIELD(train.shard_update), NONE, 0, 0, NULL, "true",
     "on several ranks, each converts and steps its own slice of the parameters (same result)"},
    LONG_KEY("train.log_every", train.log_every, 0, 1e12, "100",
             "print progress every N steps (0 = never)"),
    LONG_KEY("train.eval_every", train.eval_every, 0, 1e12, "1",
             "evaluate validation and test sets every N epochs (0 = at the end only)"),
    /* checkpoint */
    LONG_KEY("checkpoint.every_steps", checkpoint.every_steps, 0, 1e12, "0",
             "write a checkpoint every N steps (0 = at the end of each epoch); an epoch "
             "with a new best validation accuracy is checkpointed at its end too"),
    LONG_KEY("checkpoint.keep", checkpoint.keep, 0, 1e6, "3",
             "keep the newest K checkpoints (0 = all), and always checkpoints/best.h5, the "
             "best epoch's"),
    /* spikes */
    LONG_KEY("spikes.samples", spikes.samples, 0, 1e9, "16",
             "log every layer's spike times for the first N test images (0 = off)"),
    {"spikes.when", STDBP_CFG_T_WORD, FIELD(spikes.when), NONE, 0, 0, spike_whens, "end",
     "log spikes after every epoch or at the end only"},
    /* deploy */
    {"deploy.enabled", STDBP_CFG_T_BOOL, FIELD(deploy.enabled), NONE, 0, 0, NULL, "true",
     "after training, rank 0 quantises, maps and simulates the model on the accelerator"},
    {"deploy.bits", STDBP_CFG_T_BITS, FIELD(deploy.bits), 2, 16, DOCDEF, 0, NULL, "[8]",
     "weight precisions to evaluate, e.g. [4, 8] (one report each)"},
    LONG_KEY("deploy.time_steps", deploy.time_steps, 1, 16777216, "256",
             "time steps that quantise the spike times on the accelerator"),
    {"deploy.hw", STDBP_CFG_T_STR, FIELD(deploy.hw), NONE, 0, 0, NULL, "",
     "accelerator profile (configs/hw/*.yaml); empty = the built-in default"},
    LONG_KEY("deploy.samples", deploy.samples, 0, 1e9, "0",
             "test images simulated on the accelerator (0 = all)"),
};
const size_t stdbp_cfg_schema_len = sizeof stdbp_cfg_schema / sizeof stdbp_cfg_schema[0];

/* One entry of network.layers. min/max bound the value; which kinds take
 * a key is in stdbp_cfg_layer_takes. */
const stdbp_cfg_key stdbp_cfg_layer_keys[] = {
    {"network.layers[].type", STDBP_CFG_T_ENUM, LFIELD(kind), NONE, 0, 0, stdbp_cfg_layer_kinds,
     "required", "dense, conv2d, pool (earliest spike per window) or flatten"},
    {"network.layers[].out", STDBP_CFG_T_INT, LFIELD(out), 1, 16777216, 0, 0, NULL, "required",
     "dense: neurons; conv2d: output channels"},
    {"network.layers[].kernel", STDBP_CFG_T_INT, LFIELD(kernel), 1, 4096, 0, 0, NULL, "required",
     "conv2d, pool: square window size"},
    {"network.layers[].stride", STDBP_CFG_T_INT, LFIELD(stride), 1, 4096, 0, 0, NULL,
     "conv2d: 1; pool: kernel", "conv2d, pool: step between windows"},
    {"network.layers[].padding", STDBP_CFG_T_INT, LFIELD(padding), 0, 4096, 0, 0, NULL, "0",
     "conv2d: silent border added on each side"},
};
const size_t stdbp_cfg_layer_keys_len =
    sizeof stdbp_cfg_layer_keys / sizeof stdbp_cfg_layer_keys[0];

const stdbp_cfg_key *stdbp_cfg_find(const char *path)
{
    size_t i;
    for (i = 0; i < stdbp_cfg_schema_len; i++)
        if (strcmp(stdbp_cfg_schema[i].path, path) == 0)
            return &stdbp_cfg_schema[i];
    return NULL;
}

int stdbp_cfg_layer_takes(stdbp_layer_kind k, const char *key)
{
    if (strcmp(key, "type") == 0)
        return 1;
    switch (k) {
    case STDBP_LAYER_DENSE:
        return strcmp(key, "out") == 0;
    case STDBP_LAYER_CONV2D:
        return strcmp(key, "out") == 0 || strcmp(key, "kernel") == 0 ||
               strcmp(key, "stride") == 0 || strcmp(key, "padding") == 0;
    case STDBP_LAYER_POOL:
        return strcmp(key, "kernel") == 0 || strcmp(key, "stride") == 0;
    case STDBP_LAYER_FLATTEN:
        return 0;
    }
    return 0;
}

/* ---- defaults --------------------------------------------------------- */

static void set_default(stdbp_config *cfg, const stdbp_cfg_key *k)
{
    char *f = (char *)cfg + k->offset;
    int i;
    switch (k->type) {
    case STDBP_CFG_T_STR:
    case STDBP_CFG_T_WORD:
        snprintf(f, k->size, "%s", k->def);
        break;
    case STDBP_CFG_T_BOOL:
        i = strcmp(k->def, "true") == 0;
        memcpy(f, &i, sizeof i);
        break;
    case STDBP_CFG_T_LONG:
        *(long *)(void *)f = strtol(k->def, NULL, 10);
        break;
    case STDBP_CFG_T_U64:
        *(uint64_t *)(void *)f = strtoull(k->def, NULL, 10);
        break;
    case STDBP_CFG_T_DOUBLE:
        *(double *)(void *)f = strcmp(k->def, ".inf") == 0 ? INFINITY : strtod(k->def, NULL);
        break;
    default:
        break; /* the rest are set in stdbp_config_defaults */
    }
}

void stdbp_config_defaults(stdbp_config *cfg)
{
    const char *env = getenv("STDBP_DATA");
    size_t i;
    memset(cfg, 0, sizeof *cfg);
    cfg->encoding = stdbp_encoding_defaults();
    cfg->augment = stdbp_augment_defaults();
    cfg->network.neuron = stdbp_neuron_defaults();
    cfg->network.init = stdbp_init_defaults();
    cfg->loss = stdbp_loss_defaults();
    cfg->optim = stdbp_optim_defaults();
    cfg->schedule = stdbp_schedule_defaults();
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        if (!(k->flags & (STDBP_CFG_MODULE | STDBP_CFG_DOCDEF)) && k->def)
            set_default(cfg, k);
    }
    /* A $STDBP_DATA that does not fit leaves data.dir empty (never cut
     * short, nor "data" in its place): validation then says why, unless
     * the config or --set names data.dir (stdbp_cfg_data_env_too_long). */
    if (env && env[0] && strlen(env) < sizeof cfg->data.dir)
        snprintf(cfg->data.dir, sizeof cfg->data.dir, "%s", env);
    else if (env && env[0])
        cfg->data.dir[0] = '\0';
    else
        snprintf(cfg->data.dir, sizeof cfg->data.dir, "data");
    /* The default network: MLP 784-800-10 on the data's input. */
    cfg->network.n_layers = 2;
    cfg->network.layers[0].kind = STDBP_LAYER_DENSE;
    cfg->network.layers[0].out = 800;
    cfg->network.layers[1].kind = STDBP_LAYER_DENSE;
    cfg->network.layers[1].out = 10;
    cfg->deploy.n_bits = 1;
    cfg->deploy.bits[0] = 8;
    snprintf(cfg->source, sizeof cfg->source, "(defaults)");
    cfg->derived =
        STDBP_CFG_FOLLOW_RUN_DIR | STDBP_CFG_FOLLOW_DATA_TEST | STDBP_CFG_FOLLOW_TOTAL_EPOCHS;
    if (stdbp_cfg_resolve(cfg, NULL) != STDBP_OK)
        cfg->run.out_dir[0] = '\0'; /* cannot happen: the default name is short */
}

size_t stdbp_cfg_data_env_too_long(const stdbp_config *cfg)
{
    const char *env = getenv("STDBP_DATA");
    size_t len = env ? strlen(env) : 0;
    return !cfg->data.dir[0] && len >= sizeof cfg->data.dir ? len : 0;
}

stdbp_status stdbp_cfg_resolve(stdbp_config *cfg, stdbp_err *err)
{
    if (cfg->derived & STDBP_CFG_FOLLOW_RUN_DIR) {
        int n = snprintf(cfg->run.out_dir, sizeof cfg->run.out_dir, "runs/%s", cfg->run.name);
        if (n < 0 || (size_t)n >= sizeof cfg->run.out_dir)
            return stdbp_err_set(err, STDBP_ECONFIG,
                                 "%s: run.dir: runs/<run.name> would be longer than %zu bytes",
                                 cfg->source, sizeof cfg->run.out_dir - 1);
    }
    if (cfg->derived & STDBP_CFG_FOLLOW_DATA_TEST)
        memcpy(cfg->data.test, cfg->data.train, sizeof cfg->data.test);
    if (cfg->derived & STDBP_CFG_FOLLOW_TOTAL_EPOCHS)
        cfg->schedule.total_epochs = (double)cfg->train.epochs;
    return STDBP_OK;
}
