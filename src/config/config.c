/* Loading the run configuration: YAML files and strings, and --set
 * key.path=value overrides, all checked against the schema
 * (config_schema.c). Every change goes to a copy that replaces *cfg only
 * when everything succeeded. */
#include "config/config_impl.h"

#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 128 /* longer keys are unknown keys */

/* ---- the shape of the key space --------------------------------------- */

/* Is path a section (a strict prefix of some keys)? "" is the root. */
static int is_section(const char *path)
{
    size_t i, n = strlen(path);
    if (n == 0)
        return 1;
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const char *p = stdbp_cfg_schema[i].path;
        if (strncmp(p, path, n) == 0 && p[n] == '.')
            return 1;
    }
    return 0;
}

#define MAX_CHILDREN 32
typedef char child_name[48];

/* The names directly under section path ("" = the root), in schema
 * order, into names; returns how many. */
static size_t children(const char *path, child_name *names)
{
    size_t i, j, k = 0, n = strlen(path);
    for (i = 0; i < stdbp_cfg_schema_len && k < MAX_CHILDREN; i++) {
        const char *p = stdbp_cfg_schema[i].path, *rest, *dot;
        size_t len;
        if (n && !(strncmp(p, path, n) == 0 && p[n] == '.'))
            continue;
        rest = n ? p + n + 1 : p;
        dot = strchr(rest, '.');
        len = dot ? (size_t)(dot - rest) : strlen(rest);
        if (len >= sizeof names[0])
            continue;
        for (j = 0; j < k; j++)
            if (strlen(names[j]) == len && strncmp(names[j], rest, len) == 0)
                break;
        if (j == k) {
            memcpy(names[k], rest, len);
            names[k++][len] = '\0';
        }
    }
    return k;
}

/* The likely intended full key path for an unknown key under section, or
 * "" when nothing is close: a sibling by edit distance, else any key whose
 * last part is close (e.g. train.lr -> optimizer.lr). */
static void suggest(const char *section, const char *key, char *out, size_t size)
{
    child_name names[MAX_CHILDREN];
    const char *cands[MAX_CHILDREN + 1], *hint, *best = NULL;
    size_t i, n = children(section, names);
    int best_d = 1000;
    out[0] = '\0';
    for (i = 0; i < n; i++)
        cands[i] = names[i];
    cands[n] = NULL;
    hint = stdbp_yaml_suggest(key, cands);
    if (hint) {
        snprintf(out, size, "%s%s%s", section, section[0] ? "." : "", hint);
        return;
    }
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const char *p = stdbp_cfg_schema[i].path, *leaf = strrchr(p, '.');
        const char *one[2] = {leaf ? leaf + 1 : p, NULL};
        int d = stdbp_yaml_edit_distance(key, one[0]);
        if (stdbp_yaml_suggest(key, one) && d < best_d) {
            best = p;
            best_d = d;
        }
    }
    if (best)
        snprintf(out, size, "%s", best);
}

/* "did you mean", or the list of what the section takes. */
static stdbp_status unknown_key(const stdbp_yaml_node *key_node, const char *section,
                                const char *key, stdbp_err *err)
{
    child_name names[MAX_CHILDREN];
    char hint[PATH_MAX_LEN], list[512] = "";
    size_t i, n;
    if (strchr(key, '.')) {
        char full[PATH_MAX_LEN];
        int len = snprintf(full, sizeof full, "%s%s%s", section, section[0] ? "." : "", key);
        if (len > 0 && (size_t)len < sizeof full && (stdbp_cfg_find(full) || is_section(full)))
            return stdbp_yaml_error(key_node, err, STDBP_ECONFIG,
                                    "dotted keys are for --set only: in a file, nest them "
                                    "(a.b: v is written a: {b: v})");
    }
    suggest(section, key, hint, sizeof hint);
    if (hint[0])
        return stdbp_yaml_error(key_node, err, STDBP_ECONFIG, "unknown key; did you mean '%s'?",
                                hint);
    n = children(section, names);
    for (i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    }
    if (!section[0])
        return stdbp_yaml_error(key_node, err, STDBP_ECONFIG,
                                "unknown section (the sections are: %s)", list);
    return stdbp_yaml_error(key_node, err, STDBP_ECONFIG, "unknown key (%s takes: %s)", section,
                            list);
}

/* ---- values ----------------------------------------------------------- */

static stdbp_status check_at(const stdbp_config *cfg, const stdbp_cfg_key *k, const void *field,
                             const stdbp_yaml_node *n, stdbp_err *err)
{
    return stdbp_cfg_check_value(cfg, k, field, k->path, n, err);
}

/* An integer of row k (INT or LONG) from n, range-checked. */
static stdbp_status get_integer(const stdbp_config *cfg, const stdbp_cfg_key *k,
                                const stdbp_yaml_node *n, long *out, stdbp_err *err)
{
    stdbp_cfg_key as_long = *k;
    stdbp_status st = stdbp_yaml_get_long(n, out, err);
    if (st)
        return st;
    as_long.type = STDBP_CFG_T_LONG;
    return check_at(cfg, &as_long, out, n, err);
}

static stdbp_status parse_shape(stdbp_config *w, const stdbp_cfg_key *k, const stdbp_yaml_node *n,
                                stdbp_err *err)
{
    stdbp_shape s = {0, 0, 0};
    long v[3];
    char got[64];
    size_t i;
    if (!stdbp_yaml_is_null(n)) {
        if (stdbp_yaml_kind_of(n) != STDBP_YAML_SEQ || stdbp_yaml_len(n) != 3)
            return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                    "expected [C, H, W] (three integers) or null (from the "
                                    "data), got %s",
                                    stdbp_yaml_describe(n, got, sizeof got));
        for (i = 0; i < 3; i++) {
            stdbp_cfg_key item = *k;
            item.type = STDBP_CFG_T_LONG;
            stdbp_status st = stdbp_yaml_get_long(stdbp_yaml_item(n, i), &v[i], err);
            if (!st)
                st = check_at(w, &item, &v[i], stdbp_yaml_item(n, i), err);
            if (st)
                return st;
        }
        s.c = (int)v[0];
        s.h = (int)v[1];
        s.w = (int)v[2];
    }
    w->network.input = s;
    return STDBP_OK;
}

static stdbp_status parse_bits(stdbp_config *w, const stdbp_cfg_key *k, const stdbp_yaml_node *n,
                               stdbp_err *err)
{
    int bits[STDBP_CFG_MAX_BITS];
    size_t i, count = 1;
    char got[64];
    stdbp_cfg_key item = *k;
    item.type = STDBP_CFG_T_LONG;
    if (stdbp_yaml_kind_of(n) == STDBP_YAML_SEQ) {
        count = stdbp_yaml_len(n);
        if (count == 0)
            return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                    "needs at least one precision, e.g. [8]");
        if (count > STDBP_CFG_MAX_BITS)
            return stdbp_yaml_error(stdbp_yaml_item(n, STDBP_CFG_MAX_BITS), err, STDBP_ECONFIG,
                                    "more than %d precisions", STDBP_CFG_MAX_BITS);
    } else if (stdbp_yaml_kind_of(n) == STDBP_YAML_MAP) {
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected a list of integers such as [4, 8], got %s",
                                stdbp_yaml_describe(n, got, sizeof got));
    }
    for (i = 0; i < count; i++) {
        const stdbp_yaml_node *it =
            stdbp_yaml_kind_of(n) == STDBP_YAML_SEQ ? stdbp_yaml_item(n, i) : n;
        long v;
        stdbp_status st = stdbp_yaml_get_long(it, &v, err);
        if (!st)
            st = check_at(w, &item, &v, it, err);
        if (st)
            return st;
        bits[i] = (int)v;
    }
    memset(w->deploy.bits, 0, sizeof w->deploy.bits);
    memcpy(w->deploy.bits, bits, count * sizeof bits[0]);
    w->deploy.n_bits = (int)count;
    return STDBP_OK;
}

static const stdbp_cfg_key *layer_key(const char *name)
{
    size_t i;
    for (i = 0; i < stdbp_cfg_layer_keys_len; i++)
        if (strcmp(strrchr(stdbp_cfg_layer_keys[i].path, '.') + 1, name) == 0)
            return &stdbp_cfg_layer_keys[i];
    return NULL;
}

static void layer_takes_list(stdbp_layer_kind kind, char *buf, size_t size)
{
    size_t i;
    buf[0] = '\0';
    for (i = 1; i < stdbp_cfg_layer_keys_len; i++) {
        const char *name = strrchr(stdbp_cfg_layer_keys[i].path, '.') + 1;
        size_t used = strlen(buf);
        if (stdbp_cfg_layer_takes(kind, name))
            snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
    }
    if (!buf[0])
        snprintf(buf, size, "nothing but type");
}

/* One key of a layer of kind l->kind: value node v, key node kn. */
static stdbp_status parse_layer_key(const stdbp_config *w, stdbp_layer_spec *l, const char *name,
                                    const stdbp_yaml_node *kn, const stdbp_yaml_node *v,
                                    stdbp_err *err)
{
    const char *names[8];
    const stdbp_cfg_key *lk = layer_key(name);
    char takes[96];
    long val;
    size_t i;
    stdbp_status st;
    if (!lk) {
        const char *hint;
        for (i = 0; i < stdbp_cfg_layer_keys_len; i++)
            names[i] = strrchr(stdbp_cfg_layer_keys[i].path, '.') + 1;
        names[i] = NULL;
        hint = stdbp_yaml_suggest(name, names);
        if (hint)
            return stdbp_yaml_error(kn, err, STDBP_ECONFIG, "unknown key; did you mean '%s'?",
                                    hint);
        return stdbp_yaml_error(kn, err, STDBP_ECONFIG,
                                "unknown key (a layer takes type, out, kernel, stride, "
                                "padding)");
    }
    if (!stdbp_cfg_layer_takes(l->kind, name)) {
        layer_takes_list(l->kind, takes, sizeof takes);
        return stdbp_yaml_error(kn, err, STDBP_ECONFIG, "a %s layer has no '%s' (it takes: %s)",
                                stdbp_cfg_layer_kinds[l->kind], name, takes);
    }
    st = get_integer(w, lk, v, &val, err);
    if (st)
        return st;
    memcpy((char *)l + lk->offset, &(int){(int)val}, sizeof(int));
    return STDBP_OK;
}

/* One entry of network.layers: a map {type: KIND, ...}. */
static stdbp_status parse_layer(const stdbp_config *w, const stdbp_yaml_node *item,
                                stdbp_layer_spec *out, stdbp_err *err)
{
    const stdbp_yaml_node *type;
    stdbp_layer_spec l;
    char got[64];
    int kind;
    size_t i;
    stdbp_status st;
    if (stdbp_yaml_kind_of(item) != STDBP_YAML_MAP)
        return stdbp_yaml_error(item, err, STDBP_ECONFIG,
                                "expected a layer such as {type: dense, out: 800}, got %s",
                                stdbp_yaml_describe(item, got, sizeof got));
    st = stdbp_yaml_need(item, "type", &type, err);
    if (!st)
        st = stdbp_yaml_get_enum(type, stdbp_cfg_layer_kinds, &kind, err);
    if (st)
        return st;
    memset(&l, 0, sizeof l);
    l.kind = (stdbp_layer_kind)kind;
    for (i = 0; i < stdbp_yaml_len(item); i++) {
        const char *name = stdbp_yaml_key(item, i);
        if (strcmp(name, "type") == 0)
            continue;
        st = parse_layer_key(w, &l, name, stdbp_yaml_key_node(item, i), stdbp_yaml_item(item, i),
                             err);
        if (st)
            return st;
    }
    if ((l.kind == STDBP_LAYER_DENSE || l.kind == STDBP_LAYER_CONV2D) && !l.out)
        return stdbp_yaml_error(
            item, err, STDBP_ECONFIG, "missing required key 'out' (a %s layer's %s)",
            stdbp_cfg_layer_kinds[kind], kind == STDBP_LAYER_DENSE ? "neurons" : "output channels");
    if ((l.kind == STDBP_LAYER_CONV2D || l.kind == STDBP_LAYER_POOL) && !l.kernel)
        return stdbp_yaml_error(item, err, STDBP_ECONFIG,
                                "missing required key 'kernel' (a %s layer's window size)",
                                stdbp_cfg_layer_kinds[kind]);
    if (l.kind == STDBP_LAYER_CONV2D && l.padding >= l.kernel)
        return stdbp_yaml_error(stdbp_yaml_get(item, "padding"), err, STDBP_ECONFIG,
                                "must be less than the kernel (%d), got %d", l.kernel, l.padding);
    if (!l.stride && l.kind == STDBP_LAYER_CONV2D)
        l.stride = 1;
    if (!l.stride && l.kind == STDBP_LAYER_POOL)
        l.stride = l.kernel;
    *out = l;
    return STDBP_OK;
}

static stdbp_status parse_layers(stdbp_config *w, const stdbp_yaml_node *n, stdbp_err *err)
{
    stdbp_layer_spec layers[STDBP_CFG_MAX_LAYERS];
    size_t i, count;
    char got[64];
    if (stdbp_yaml_kind_of(n) != STDBP_YAML_SEQ)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected a list of layers such as [{type: dense, out: 10}], "
                                "got %s",
                                stdbp_yaml_describe(n, got, sizeof got));
    count = stdbp_yaml_len(n);
    if (count == 0)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "needs at least one layer");
    if (count > STDBP_CFG_MAX_LAYERS)
        return stdbp_yaml_error(stdbp_yaml_item(n, STDBP_CFG_MAX_LAYERS), err, STDBP_ECONFIG,
                                "more than %d layers", STDBP_CFG_MAX_LAYERS);
    for (i = 0; i < count; i++) {
        stdbp_status st = parse_layer(w, stdbp_yaml_item(n, i), &layers[i], err);
        if (st)
            return st;
    }
    memset(w->network.layers, 0, sizeof w->network.layers);
    memcpy(w->network.layers, layers, count * sizeof layers[0]);
    w->network.n_layers = count;
    return STDBP_OK;
}

static stdbp_status apply_leaf(stdbp_config *w, const stdbp_cfg_key *k, const stdbp_yaml_node *n,
                               stdbp_err *err)
{
    char *f = (char *)w + k->offset;
    char text[STDBP_CFG_STR];
    int iv;
    long lv;
    double dv;
    stdbp_status st = STDBP_OK;
    switch (k->type) {
    case STDBP_CFG_T_STR:
        st = stdbp_yaml_get_string(n, text, k->size, err);
        if (!st)
            st = check_at(w, k, text, n, err);
        if (!st)
            memcpy(f, text, k->size);
        break;
    case STDBP_CFG_T_WORD:
        st = stdbp_yaml_get_enum(n, k->names, &iv, err);
        if (!st)
            snprintf(f, k->size, "%s", k->names[iv]);
        break;
    case STDBP_CFG_T_ENUM:
        st = stdbp_yaml_get_enum(n, k->names, &iv, err);
        if (!st)
            memcpy(f, &iv, sizeof iv);
        break;
    case STDBP_CFG_T_BOOL:
        st = stdbp_yaml_get_bool(n, &iv, err);
        if (!st)
            memcpy(f, &iv, sizeof iv);
        break;
    case STDBP_CFG_T_INT:
        st = get_integer(w, k, n, &lv, err);
        if (!st)
            memcpy(f, &(int){(int)lv}, sizeof(int));
        break;
    case STDBP_CFG_T_LONG:
        st = get_integer(w, k, n, &lv, err);
        if (!st)
            memcpy(f, &lv, sizeof lv);
        break;
    case STDBP_CFG_T_U64: {
        uint64_t uv;
        st = stdbp_yaml_get_u64(n, &uv, err);
        if (!st)
            memcpy(f, &uv, sizeof uv);
        break;
    }
    case STDBP_CFG_T_DOUBLE:
        st = stdbp_yaml_get_double(n, 1, &dv, err);
        if (!st)
            st = check_at(w, k, &dv, n, err);
        if (!st)
            memcpy(f, &dv, sizeof dv);
        break;
    case STDBP_CFG_T_SHAPE:
        st = parse_shape(w, k, n, err);
        break;
    case STDBP_CFG_T_LAYERS:
        st = parse_layers(w, n, err);
        break;
    case STDBP_CFG_T_BITS:
        st = parse_bits(w, k, n, err);
        break;
    }
    if (!st)
        w->derived &= ~k->follow;
    return st;
}

/* Apply node n at key path (a key or a section; "" = the root). */
static stdbp_status apply(stdbp_config *w, const char *path, const stdbp_yaml_node *n,
                          stdbp_err *err)
{
    const stdbp_cfg_key *k = stdbp_cfg_find(path);
    char got[64], child[PATH_MAX_LEN];
    size_t i;
    if (k)
        return apply_leaf(w, k, n, err);
    if (stdbp_yaml_is_null(n))
        return STDBP_OK; /* an empty section */
    if (stdbp_yaml_kind_of(n) != STDBP_YAML_MAP) {
        child_name names[MAX_CHILDREN];
        size_t c = children(path, names);
        return stdbp_yaml_error(
            n, err, STDBP_ECONFIG, "expected a map of settings (%s, %s, ...), got %s",
            c ? names[0] : "?", c > 1 ? names[1] : "?", stdbp_yaml_describe(n, got, sizeof got));
    }
    for (i = 0; i < stdbp_yaml_len(n); i++) {
        size_t klen;
        const char *key = stdbp_yaml_text(stdbp_yaml_key_node(n, i), &klen);
        stdbp_status st;
        int len = snprintf(child, sizeof child, "%s%s%s", path, path[0] ? "." : "", key);
        if (klen != strlen(key) || len < 0 || (size_t)len >= sizeof child || !key[0] ||
            strchr(key, '.') || !(stdbp_cfg_find(child) || is_section(child)))
            return unknown_key(stdbp_yaml_key_node(n, i), path, key, err);
        st = apply(w, child, stdbp_yaml_item(n, i), err);
        if (st)
            return st;
    }
    return STDBP_OK;
}

/* ---- entry points ----------------------------------------------------- */

static stdbp_status load_doc(const stdbp_yaml_doc *doc, const char *source, stdbp_config *cfg,
                             stdbp_err *err)
{
    stdbp_config *w = malloc(sizeof *w);
    stdbp_status st;
    if (!w)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", source);
    stdbp_config_defaults(w);
    snprintf(w->source, sizeof w->source, "%s", source);
    st = apply(w, "", stdbp_yaml_root(doc), err);
    if (!st)
        st = stdbp_cfg_resolve(w, err);
    if (!st)
        *cfg = *w;
    free(w);
    return st;
}

stdbp_status stdbp_config_load(const char *path, stdbp_config *cfg, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_status st = stdbp_yaml_load_file(path, &doc, err);
    if (!st)
        st = load_doc(doc, path, cfg, err);
    stdbp_yaml_free(&doc);
    return st;
}

stdbp_status stdbp_config_load_string(const char *yaml, size_t len, const char *name,
                                      stdbp_config *cfg, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_status st;
    if (!name)
        name = "(string)";
    st = stdbp_yaml_load_string(yaml, len, name, &doc, err);
    if (!st)
        st = load_doc(doc, name, cfg, err);
    stdbp_yaml_free(&doc);
    return st;
}

/* "network.layers[I]" or "network.layers[I].KEY": *index, and key (""
 * for the whole layer). Returns 0 if path has another form. */
static int layer_path(const char *path, size_t *index, const char **key)
{
    static const char prefix[] = "network.layers[";
    const char *p = path + sizeof prefix - 1;
    char *end;
    unsigned long v;
    if (strncmp(path, prefix, sizeof prefix - 1) != 0 || *p < '0' || *p > '9')
        return 0;
    v = strtoul(p, &end, 10);
    if (*end != ']' || (end[1] && end[1] != '.'))
        return 0;
    *index = v;
    *key = end[1] ? end + 2 : "";
    return 1;
}

static stdbp_status set_layer(stdbp_config *w, const char *ctx, const char *path, size_t index,
                              const char *key, const stdbp_yaml_node *n, stdbp_err *err)
{
    stdbp_layer_spec l;
    stdbp_status st;
    if (index >= w->network.n_layers)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "%s: %s: no such layer (the network has %zu: indices 0 to %zu)", ctx,
                             path, w->network.n_layers, w->network.n_layers - 1);
    l = w->network.layers[index];
    if (!key[0]) {
        st = parse_layer(w, n, &l, err);
    } else if (strcmp(key, "type") == 0) {
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "%s: %s: to change a layer's type, replace the whole layer, e.g. "
                             "--set network.layers[%zu]={type: pool, kernel: 2}",
                             ctx, path, index);
    } else {
        /* The value's root stands for both the key and its value. */
        st = parse_layer_key(w, &l, key, n, n, err);
    }
    if (!st)
        w->network.layers[index] = l;
    return st;
}

stdbp_status stdbp_config_set(stdbp_config *cfg, const char *assignment, stdbp_err *err)
{
    char ctx[320], key[PATH_MAX_LEN], hint[PATH_MAX_LEN];
    const char *eq = strchr(assignment, '='), *value, *lkey;
    stdbp_yaml_doc *doc = NULL;
    stdbp_config *w = NULL;
    size_t klen, index;
    stdbp_status st;

    if (strlen(assignment) > 240)
        snprintf(ctx, sizeof ctx, "--set %.240s...", assignment);
    else
        snprintf(ctx, sizeof ctx, "--set %s", assignment);
    if (!eq || eq == assignment)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "%s: expected key.path=value, e.g. --set optimizer.lr=3e-4", ctx);
    klen = (size_t)(eq - assignment);
    value = eq + 1;
    if (klen >= sizeof key)
        return stdbp_err_set(err, STDBP_ECONFIG, "%s: unknown key (too long)", ctx);
    memcpy(key, assignment, klen);
    key[klen] = '\0';

    if (!layer_path(key, &index, &lkey) && !stdbp_cfg_find(key) && !is_section(key)) {
        /* Suggest against the whole path, then by its last part. */
        const char *best = NULL, *dot = strrchr(key, '.');
        int best_d = 1000;
        size_t i;
        for (i = 0; i < stdbp_cfg_schema_len; i++) {
            int d = stdbp_yaml_edit_distance(key, stdbp_cfg_schema[i].path);
            if (d <= 3 && d < best_d) {
                best = stdbp_cfg_schema[i].path;
                best_d = d;
            }
        }
        if (best)
            snprintf(hint, sizeof hint, "%s", best);
        else {
            char section[PATH_MAX_LEN] = "";
            if (dot) {
                memcpy(section, key, (size_t)(dot - key));
                section[dot - key] = '\0';
                if (!is_section(section))
                    section[0] = '\0';
            }
            suggest(section, dot ? dot + 1 : key, hint, sizeof hint);
        }
        if (hint[0])
            return stdbp_err_set(err, STDBP_ECONFIG, "%s: %s: unknown key; did you mean '%s'?", ctx,
                                 key, hint);
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "%s: %s: unknown key (docs/CONFIG.md lists every key)", ctx, key);
    }

    st = stdbp_yaml_load_value(value, strlen(value), ctx, key, &doc, err);
    if (st)
        return st;
    w = malloc(sizeof *w);
    if (!w) {
        stdbp_yaml_free(&doc);
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", ctx);
    }
    *w = *cfg;
    if (layer_path(key, &index, &lkey))
        st = set_layer(w, ctx, key, index, lkey, stdbp_yaml_root(doc), err);
    else
        st = apply(w, key, stdbp_yaml_root(doc), err);
    if (!st)
        st = stdbp_cfg_resolve(w, err);
    if (!st)
        *cfg = *w;
    else if (err && stdbp_yaml_kind_of(stdbp_yaml_root(doc)) == STDBP_YAML_MAP &&
             stdbp_cfg_find(key) && stdbp_cfg_find(key)->type == STDBP_CFG_T_STR) {
        /* "hdf5:" or "a: b" is a YAML map: say how to write it as text */
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used,
                 " (a colon at the end or before a space makes YAML read a map: quote the "
                 "value, e.g. --set '%s=\"%.60s\"')",
                 key, value);
    }
    free(w);
    stdbp_yaml_free(&doc);
    return st;
}
