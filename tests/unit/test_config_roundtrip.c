/* emit then load gives back the same config, field by field (doubles bit
 * for bit), for the defaults, the shipped configs, overrides with awkward
 * values, and a few hundred random configs drawn from the schema. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_impl.h"
#include "stdbp/config.h"
#include "tap/basic.h"
#include "shipped_configs.h"

/* Field-by-field comparison written out by hand (independent of the
 * schema table): the first difference into what. */
#define SAME_D(f)                                                                                  \
    do {                                                                                           \
        if (memcmp(&a->f, &b->f, sizeof(double)) != 0) {                                           \
            snprintf(what, size, "%s (%.17g vs %.17g)", #f, a->f, b->f);                           \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)
#define SAME_I(f)                                                                                  \
    do {                                                                                           \
        if (a->f != b->f) {                                                                        \
            snprintf(what, size, "%s (%lld vs %lld)", #f, (long long)a->f, (long long)b->f);       \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)
#define SAME_S(f)                                                                                  \
    do {                                                                                           \
        if (strcmp(a->f, b->f) != 0) {                                                             \
            snprintf(what, size, "%s (\"%s\" vs \"%s\")", #f, a->f, b->f);                         \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

static int same(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    size_t i;
    SAME_S(run.name);
    SAME_S(run.out_dir);
    SAME_I(run.seed);
    SAME_S(data.train);
    SAME_S(data.test);
    SAME_S(data.dir);
    SAME_I(data.n_train);
    SAME_I(data.n_val);
    SAME_I(data.n_test);
    SAME_D(encoding.t_max);
    SAME_I(encoding.zero_silent);
    SAME_I(encoding.normalise);
    SAME_I(network.input.c);
    SAME_I(network.input.h);
    SAME_I(network.input.w);
    SAME_I(network.n_layers);
    for (i = 0; i < a->network.n_layers; i++) {
        SAME_I(network.layers[i].kind);
        SAME_I(network.layers[i].out);
        SAME_I(network.layers[i].kernel);
        SAME_I(network.layers[i].stride);
        SAME_I(network.layers[i].padding);
    }
    SAME_D(network.neuron.theta);
    SAME_D(network.neuron.t_max);
    SAME_D(network.neuron.grad_clip);
    SAME_D(network.neuron.silent_time);
    SAME_I(network.init.kind);
    SAME_D(network.init.gain);
    SAME_D(network.init.active_fraction);
    SAME_D(loss.beta);
    SAME_D(loss.silent_time);
    SAME_I(optim.kind);
    SAME_D(optim.lr);
    SAME_D(optim.beta1);
    SAME_D(optim.beta2);
    SAME_D(optim.eps);
    SAME_D(optim.weight_decay);
    SAME_D(optim.momentum);
    SAME_I(optim.nesterov);
    SAME_I(schedule.kind);
    SAME_D(schedule.warmup_epochs);
    SAME_D(schedule.step_epochs);
    SAME_D(schedule.gamma);
    SAME_D(schedule.min_lr);
    SAME_D(schedule.total_epochs);
    SAME_I(train.epochs);
    SAME_I(train.batch);
    SAME_D(train.clip_norm);
    SAME_D(train.ws_lambda);
    SAME_D(train.ws_margin);
    SAME_I(train.log_every);
    SAME_I(train.eval_every);
    SAME_I(checkpoint.every_steps);
    SAME_I(checkpoint.keep);
    SAME_I(spikes.samples);
    SAME_S(spikes.when);
    SAME_I(deploy.enabled);
    SAME_I(deploy.n_bits);
    for (i = 0; i < (size_t)a->deploy.n_bits; i++)
        SAME_I(deploy.bits[i]);
    SAME_I(deploy.time_steps);
    SAME_S(deploy.hw);
    SAME_I(deploy.samples);
    return 1;
}

/* emit -> load -> compare, and emit again gives the same text. */
static int round_trip(const stdbp_config *c, const char *name)
{
    stdbp_config back;
    stdbp_err err;
    char *y1 = NULL, *y2 = NULL, what[1400];
    size_t n1, n2;
    int good = 1;
    if (stdbp_config_emit(c, &y1, &n1, &err) != STDBP_OK) {
        diag("%s: emit: %s", name, err.msg);
        return 0;
    }
    if (stdbp_config_load_string(y1, n1, name, &back, &err) != STDBP_OK) {
        diag("%s: the emitted YAML does not load: %s\n%s", name, err.msg, y1);
        free(y1);
        return 0;
    }
    if (!same(c, &back, what, sizeof what)) {
        diag("%s: %s differs after the round trip", name, what);
        good = 0;
    }
    if (!stdbp_config_equal(c, &back, what, sizeof what)) {
        diag("%s: stdbp_config_equal sees %s differ", name, what);
        good = 0;
    }
    if (stdbp_config_emit(&back, &y2, &n2, &err) != STDBP_OK || n1 != n2 || strcmp(y1, y2)) {
        diag("%s: emitting the loaded config gives other text", name);
        good = 0;
    }
    free(y1);
    free(y2);
    return good;
}

static const char *config_path(const char *name)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/configs/%s", top && top[0] ? top : ".", name);
    return path;
}

/* ---- random configs from the schema ----------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double unit(void)
{
    return (double)(next() >> 11) * 0x1p-53;
}

/* A random double that the row accepts: any mantissa, exponents from
 * tiny to huge, the ends of the range, -0, inf when allowed. */
static double random_double(const stdbp_cfg_key *k)
{
    double lo = isfinite(k->min) ? k->min : -1e300, hi = isfinite(k->max) ? k->max : 1e300;
    double v;
    int tries;
    for (tries = 0; tries < 100; tries++) {
        switch (next() % 6) {
        case 0:
            v = lo + (hi - lo) * unit();
            break;
        case 1:
            v = ldexp(unit(), (int)(next() % 2000) - 1000);
            break;
        case 2:
            v = unit();
            break;
        case 3:
            v = (k->flags & STDBP_CFG_INF_OK) ? INFINITY : lo;
            break;
        case 4:
            v = -0.0;
            break;
        default:
            v = lo + (double)(next() % 1000) / 7.0;
            break;
        }
        if (!isnan(v) && (k->flags & STDBP_CFG_MIN_OPEN ? v > k->min : v >= k->min) &&
            (isinf(v) ? (k->flags & STDBP_CFG_INF_OK) && v > 0
                      : (k->flags & STDBP_CFG_MAX_OPEN ? v < k->max : v <= k->max)))
            return v;
    }
    return isfinite(k->min) ? (k->flags & STDBP_CFG_MIN_OPEN ? k->min + 1e-3 : k->min) : 1;
}

static void random_text(char *s, size_t size, int name_rules)
{
    static const char chars[] = "abcXYZ019 _-.:#'\"\\{}[],&*!|>%@`~\t\n\xc3\xa9";
    size_t n = next() % 40 + 1, i;
    for (i = 0; i < n && i + 1 < size; i++) {
        char ch = chars[next() % (sizeof chars - 1)];
        if ((unsigned char)ch == 0xc3 && i + 2 < size) { /* keep UTF-8 whole: é */
            s[i++] = (char)0xc3;
            ch = (char)0xa9;
        } else if ((unsigned char)ch >= 0x80) {
            ch = 'e';
        }
        if (name_rules && ch == '/')
            ch = '_';
        s[i] = ch;
    }
    s[i] = '\0';
    if (name_rules && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0))
        s[0] = 'x';
}

static void random_config(stdbp_config *c)
{
    size_t i, j;
    stdbp_config_defaults(c);
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        char *f = (char *)c + k->offset;
        int n_names = 0;
        if (next() % 4 == 0)
            continue; /* keep the default */
        if (k->names)
            while (k->names[n_names])
                n_names++;
        switch (k->type) {
        case STDBP_CFG_T_STR:
            if (k->flags & STDBP_CFG_DATASET)
                snprintf(f, k->size, "%s", next() % 2 ? "fashion-mnist" : "hdf5:d ir/x:y#z.h5");
            else
                random_text(f, k->size, (k->flags & STDBP_CFG_NAME) != 0);
            break;
        case STDBP_CFG_T_WORD:
            snprintf(f, k->size, "%s", k->names[next() % n_names]);
            break;
        case STDBP_CFG_T_ENUM:
        case STDBP_CFG_T_BOOL: {
            int v = (int)(next() % (k->type == STDBP_CFG_T_BOOL ? 2 : (uint64_t)n_names));
            memcpy(f, &v, sizeof v);
            break;
        }
        case STDBP_CFG_T_LONG: {
            long v = (long)k->min + (long)(next() % 100000);
            memcpy(f, &v, sizeof v);
            break;
        }
        case STDBP_CFG_T_U64: {
            uint64_t v = next();
            memcpy(f, &v, sizeof v);
            break;
        }
        case STDBP_CFG_T_DOUBLE: {
            double v = random_double(k);
            memcpy(f, &v, sizeof v);
            break;
        }
        case STDBP_CFG_T_SHAPE:
            c->network.input.c = 1 + (int)(next() % 4);
            c->network.input.h = 1 + (int)(next() % 64);
            c->network.input.w = 1 + (int)(next() % 64);
            break;
        case STDBP_CFG_T_BITS:
            c->deploy.n_bits = 1 + (int)(next() % STDBP_CFG_MAX_BITS);
            memset(c->deploy.bits, 0, sizeof c->deploy.bits);
            for (j = 0; j < (size_t)c->deploy.n_bits; j++)
                c->deploy.bits[j] = 2 + (int)(next() % 15);
            break;
        case STDBP_CFG_T_LAYERS:
            c->network.n_layers = 1 + next() % STDBP_CFG_MAX_LAYERS;
            memset(c->network.layers, 0, sizeof c->network.layers);
            for (j = 0; j < c->network.n_layers; j++) {
                stdbp_layer_spec *l = &c->network.layers[j];
                l->kind = (stdbp_layer_kind)(next() % 4);
                if (l->kind == STDBP_LAYER_DENSE || l->kind == STDBP_LAYER_CONV2D)
                    l->out = 1 + (int)(next() % 5000);
                if (l->kind == STDBP_LAYER_CONV2D || l->kind == STDBP_LAYER_POOL) {
                    l->kernel = 1 + (int)(next() % 9);
                    l->stride = 1 + (int)(next() % 3);
                }
                if (l->kind == STDBP_LAYER_CONV2D)
                    l->padding = (int)(next() % (uint64_t)l->kernel);
            }
            break;
        case STDBP_CFG_T_INT:
            break;
        }
    }
    /* Every key is written out, so nothing follows any more after a load. */
    c->derived = 0;
}

int main(void)
{
    static const char *const sets[] = {
        "optimizer.lr=0.30000000000000004",
        "network.theta=5e-324",
        "loss.beta=1.7976931348623157e308",
        "train.clip_norm=inf",
        "network.t_max=2.5",
        "optimizer.weight_decay=-0.0",
        "run.name='we\"ird \\\\ n\xc3\xa4me: #1'",
        "data.dir=\"tab\\there, new\\nline, quote\\\" and \\\\\"",
        "deploy.hw='configs/hw/loihi like.yaml'",
        "run.seed=18446744073709551615",
        "schedule={kind: cosine, min_lr: 1e-7, warmup_epochs: 0.5}",
        "network.layers=[{type: conv2d, out: 16, kernel: 5, padding: 2}, {type: pool, kernel: 2},"
        " {type: flatten}, {type: dense, out: 10}]",
        "deploy.bits=[2, 16, 4]",
        "network.input=[1, 28, 28]",
        "spikes.when=epoch",
        "optimizer={kind: sgd, nesterov: true}",
        "data.train='hdf5:/data/x.h5'",
        "encoding.normalise=yes",
    };
    stdbp_config c;
    stdbp_err err;
    size_t i;
    int n_random = 300, random_ok = 1;

    plan(1 + (int)N_SHIPPED_CONFIGS + 1 + 1 + 1);
    stdbp_config_defaults(&c);
    ok(round_trip(&c, "defaults"), "the defaults round-trip");
    for (i = 0; i < N_SHIPPED_CONFIGS; i++) {
        if (stdbp_config_load(config_path(shipped_configs[i]), &c, &err) != STDBP_OK)
            bail("%s", err.msg);
        ok(round_trip(&c, shipped_configs[i]), "configs/%s round-trips", shipped_configs[i]);
    }
    stdbp_config_defaults(&c);
    for (i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (stdbp_config_set(&c, sets[i], &err) != STDBP_OK)
            bail("--set %s: %s", sets[i], err.msg);
    ok(round_trip(&c, "overrides"), "%zu awkward overrides round-trip",
       sizeof sets / sizeof sets[0]);
    ok(signbit(c.optim.weight_decay) && c.optim.lr == 0.1 + 0.2 && c.network.neuron.theta > 0,
       "-0, 0.1 + 0.2 and the smallest denormal survive");

    for (i = 0; i < (size_t)n_random; i++) {
        char name[32];
        random_config(&c);
        snprintf(name, sizeof name, "random%zu", i);
        if (!round_trip(&c, name)) {
            random_ok = 0;
            break;
        }
    }
    ok(random_ok, "%d random configs round-trip", n_random);
    return 0;
}
