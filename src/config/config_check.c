/* The per-key rules that load, --set and validate share: a value against
 * its schema row (range, choices, text rules), with the message that says
 * what the key accepts. See config_impl.h. */
#include "config/config_impl.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* A maximum this large is a sanity limit, not part of a key's meaning:
 * the docs leave it out, and messages name it only when it is broken. */
#define SANITY_LIMIT 1e6

static const char *range_text(const stdbp_cfg_key *k, int show_limit, char *buf, size_t size)
{
    int lo = isfinite(k->min), hi = isfinite(k->max) && (show_limit || k->max < SANITY_LIMIT);
    const char *lop = k->flags & STDBP_CFG_MIN_OPEN ? ">" : ">=";
    const char *hip = k->flags & STDBP_CFG_MAX_OPEN ? "<" : "<=";
    if (lo && hi)
        snprintf(buf, size, "%s%.10g, %.10g%s", k->flags & STDBP_CFG_MIN_OPEN ? "(" : "[", k->min,
                 k->max, k->flags & STDBP_CFG_MAX_OPEN ? ")" : "]");
    else if (lo)
        snprintf(buf, size, "%s %.10g", lop, k->min);
    else if (hi)
        snprintf(buf, size, "%s %.10g", hip, k->max);
    else if (size)
        buf[0] = '\0';
    return buf;
}

const char *stdbp_cfg_range_text(const stdbp_cfg_key *k, char *buf, size_t size)
{
    return range_text(k, 0, buf, size);
}

static int in_range(const stdbp_cfg_key *k, double v)
{
    if (isnan(v))
        return 0;
    if (k->flags & STDBP_CFG_MIN_OPEN ? !(v > k->min) : !(v >= k->min))
        return 0;
    if (isinf(v) && v > 0 && (k->flags & STDBP_CFG_INF_OK))
        return 1;
    return k->flags & STDBP_CFG_MAX_OPEN ? v < k->max : v <= k->max;
}

/* "must be > 0" or "must be in [0, 1)", into buf, for the value v: of a
 * sanity limit, only the side that v breaks. */
static const char *must_be(const stdbp_cfg_key *k, double v, char *buf, size_t size)
{
    char r[64];
    stdbp_cfg_key one_side = *k;
    if (isfinite(k->min) && k->max >= SANITY_LIMIT) {
        if (v > k->max)
            one_side.min = -INFINITY;
        else
            one_side.max = INFINITY;
    }
    range_text(&one_side, 1, r, sizeof r);
    snprintf(buf, size, "must be %s%s", r[0] == '[' || r[0] == '(' ? "in " : "", r);
    return buf;
}

static stdbp_status fail(const stdbp_config *cfg, const char *path, const stdbp_yaml_node *node,
                         stdbp_err *err, const char *fmt, ...) STDBP_PRINTF(5, 6);
static stdbp_status fail(const stdbp_config *cfg, const char *path, const stdbp_yaml_node *node,
                         stdbp_err *err, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (node)
        return stdbp_yaml_error(node, err, STDBP_ECONFIG, "%s", what);
    return stdbp_err_set(err, STDBP_ECONFIG, "%s: %s: %s", cfg->source, path, what);
}

/* The value as the user wrote it (a scalar node) or as stored. */
static const char *shown(const stdbp_yaml_node *node, double v, char *buf, size_t size)
{
    if (node && stdbp_yaml_kind_of(node) == STDBP_YAML_SCALAR)
        return stdbp_yaml_describe(node, buf, size);
    snprintf(buf, size, "%.17g", v);
    return buf;
}

static stdbp_status check_number(const stdbp_config *cfg, const stdbp_cfg_key *k, double v,
                                 const char *path, const stdbp_yaml_node *node, stdbp_err *err)
{
    char m[96], got[64];
    int inf_bad = isinf(v) && !(k->flags & STDBP_CFG_INF_OK) && k->type == STDBP_CFG_T_DOUBLE;
    if (!inf_bad && in_range(k, v))
        return STDBP_OK;
    shown(node, v, got, sizeof got);
    if (got[0] == '\'') { /* a number: without the quotes */
        memmove(got, got + 1, strlen(got));
        got[strlen(got) - 1] = '\0';
    }
    if (inf_bad)
        return fail(cfg, path, node, err, "must be finite, got %s", got);
    return fail(cfg, path, node, err, "%s, got %s", must_be(k, v, m, sizeof m), got);
}

static int known_dataset(const char *s)
{
    return strcmp(s, "mnist") == 0 || strcmp(s, "fashion-mnist") == 0;
}

static stdbp_status check_text(const stdbp_config *cfg, const stdbp_cfg_key *k, const char *s,
                               const char *path, const stdbp_yaml_node *node, stdbp_err *err)
{
    static const char *const sets[] = {"mnist", "fashion-mnist", NULL};
    if (!memchr(s, '\0', k->size))
        return fail(cfg, path, node, err, "text is not terminated");
    if ((k->flags & STDBP_CFG_NONEMPTY) && !s[0])
        return fail(cfg, path, node, err, "must not be empty");
    if ((k->flags & STDBP_CFG_NAME) &&
        (strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 200))
        return fail(cfg, path, node, err,
                    "'%.40s' cannot name a directory: use at most 200 characters, no '/'", s);
    if ((k->flags & STDBP_CFG_DATASET) && !known_dataset(s)) {
        const char *hint;
        if (strncmp(s, "hdf5:", 5) == 0 && s[5])
            return STDBP_OK;
        if (stdbp_dataset_name_is_events(s))
            return strchr(s, ':')[1]
                       ? STDBP_OK
                       : fail(cfg, path, node, err, "%.7s needs a path, e.g. events:data/x.h5", s);
        if (strncmp(s, "hdf5:", 5) == 0)
            return fail(cfg, path, node, err, "hdf5: needs a file name, e.g. hdf5:data/x.h5");
        hint = stdbp_yaml_suggest(s, sets);
        return fail(cfg, path, node, err,
                    "expected mnist, fashion-mnist, hdf5:PATH, events:PATH, shd:PATH or "
                    "nmnist:DIR, got '%.40s'%s%s%s",
                    s, hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
    }
    return STDBP_OK;
}

int stdbp_cfg_count_names(const char *const *names)
{
    int n = 0;
    while (names[n])
        n++;
    return n;
}

/* network.layers: the count, then each layer's kind and the numbers it
 * takes. */
static stdbp_status check_layers(const stdbp_config *cfg, const char *path,
                                 const stdbp_yaml_node *node, stdbp_err *err)
{
    size_t i;
    if (cfg->network.n_layers < 1 || cfg->network.n_layers > STDBP_CFG_MAX_LAYERS)
        return fail(cfg, path, node, err, "needs 1 to %d layers, got %zu", STDBP_CFG_MAX_LAYERS,
                    cfg->network.n_layers);
    for (i = 0; i < cfg->network.n_layers; i++) {
        const stdbp_layer_spec *l = &cfg->network.layers[i];
        char lp[64];
        size_t j;
        if ((int)l->kind < 0 || (int)l->kind > STDBP_LAYER_FLATTEN) {
            snprintf(lp, sizeof lp, "%s[%zu].type", path, i);
            return fail(cfg, lp, NULL, err, "invalid layer type %d", (int)l->kind);
        }
        for (j = 1; j < stdbp_cfg_layer_keys_len; j++) {
            const stdbp_cfg_key *lk = &stdbp_cfg_layer_keys[j];
            const char *name = strrchr(lk->path, '.') + 1;
            int v;
            stdbp_status st;
            if (!stdbp_cfg_layer_takes(l->kind, name))
                continue;
            memcpy(&v, (const char *)l + lk->offset, sizeof v);
            if (strcmp(name, "stride") == 0 && v == 0)
                continue; /* 0: the default (stdbp_layer_spec) */
            snprintf(lp, sizeof lp, "%s[%zu].%s", path, i, name);
            st = check_number(cfg, lk, v, lp, NULL, err);
            if (st)
                return st;
        }
    }
    return STDBP_OK;
}

stdbp_status stdbp_cfg_check_value(const stdbp_config *cfg, const stdbp_cfg_key *k,
                                   const void *field, const char *path, const stdbp_yaml_node *node,
                                   stdbp_err *err)
{
    const char *f = field;
    int iv;
    long lv;
    double dv;
    size_t i, n;
    switch (k->type) {
    case STDBP_CFG_T_STR:
        return check_text(cfg, k, f, path, node, err);
    case STDBP_CFG_T_WORD:
        if (!memchr(f, '\0', k->size))
            return fail(cfg, path, node, err, "text is not terminated");
        for (i = 0; k->names[i]; i++)
            if (strcmp(f, k->names[i]) == 0)
                return STDBP_OK;
        return fail(cfg, path, node, err, "'%.40s' is not one of the choices", f);
    case STDBP_CFG_T_ENUM:
        memcpy(&iv, f, sizeof iv);
        if (iv < 0 || iv >= stdbp_cfg_count_names(k->names))
            return fail(cfg, path, node, err, "invalid choice %d", iv);
        return STDBP_OK;
    case STDBP_CFG_T_BOOL:
        memcpy(&iv, f, sizeof iv);
        if (iv != 0 && iv != 1)
            return fail(cfg, path, node, err, "must be true or false, got %d", iv);
        return STDBP_OK;
    case STDBP_CFG_T_INT:
        memcpy(&iv, f, sizeof iv);
        return check_number(cfg, k, iv, path, node, err);
    case STDBP_CFG_T_LONG:
        memcpy(&lv, f, sizeof lv);
        return check_number(cfg, k, (double)lv, path, node, err);
    case STDBP_CFG_T_U64:
        return STDBP_OK;
    case STDBP_CFG_T_DOUBLE:
        memcpy(&dv, f, sizeof dv);
        if (isnan(dv))
            return fail(cfg, path, node, err, "NaN is not allowed");
        return check_number(cfg, k, dv, path, node, err);
    case STDBP_CFG_T_SHAPE: {
        stdbp_shape s;
        memcpy(&s, f, sizeof s);
        if (s.c == 0 && s.h == 0 && s.w == 0)
            return STDBP_OK;
        if (!in_range(k, s.c) || !in_range(k, s.h) || !in_range(k, s.w))
            return fail(cfg, path, node, err,
                        "each of C, H, W must be in [%g, %g] (or null: from the data), got "
                        "[%d, %d, %d]",
                        k->min, k->max, s.c, s.h, s.w);
        return STDBP_OK;
    }
    case STDBP_CFG_T_BITS:
        n = (size_t)cfg->deploy.n_bits;
        if (cfg->deploy.n_bits < 1 || n > STDBP_CFG_MAX_BITS)
            return fail(cfg, path, node, err, "needs 1 to %d precisions, got %d",
                        STDBP_CFG_MAX_BITS, cfg->deploy.n_bits);
        for (i = 0; i < n; i++)
            if (!in_range(k, cfg->deploy.bits[i]))
                return fail(cfg, path, node, err, "bits must be in [%g, %g], got %d", k->min,
                            k->max, cfg->deploy.bits[i]);
        return STDBP_OK;
    case STDBP_CFG_T_LAYERS:
        return check_layers(cfg, path, node, err);
    }
    return STDBP_OK;
}
