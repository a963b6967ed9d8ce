/* Sweep files: loading and checking the file's structure; see sweep.h. */
#include "sweep/sweep_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sweep_keys[] = {"name",    "base", "dir",    "seed",
                                         "samples", "set",  "params", NULL};
static const char *const dist_names[] = {"uniform", "loguniform", "choice", NULL};

char *stdbp_sweep_assignment(const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", key, value);
    return s;
}

/* ---- loading ------------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int is_forbidden_key(const char *key)
{
    return strcmp(key, "run.dir") == 0;
}

static stdbp_status forbidden(const stdbp_yaml_node *key_node, stdbp_err *err)
{
    return stdbp_yaml_error(key_node, err, STDBP_ECONFIG,
                            "run.dir is chosen by the sweep (DIR/NAME/point-KKKK): set 'dir' "
                            "and 'name' at the top of the sweep file instead");
}

static int valid_name(const char *s)
{
    if (!s[0] || s[0] == '.' || strlen(s) >= 100)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* A list of values: each one's flow text. */
static stdbp_status load_values(sweep_param *p, const stdbp_yaml_node *list, stdbp_err *err)
{
    p->values = list;
    p->n = stdbp_yaml_len(list);
    if (p->n == 0)
        return stdbp_yaml_error(list, err, STDBP_ECONFIG, "an empty list: give at least one value");
    p->flow = calloc(p->n, sizeof *p->flow);
    if (!p->flow)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++)
        if (!(p->flow[i] = stdbp_sweep_flow(stdbp_yaml_item(list, i))))
            return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    return STDBP_OK;
}

static stdbp_status load_dist(sweep_param *p, const stdbp_yaml_node *map, stdbp_err *err)
{
    static const char *const range_keys[] = {"dist", "low", "high", "integer", NULL};
    static const char *const choice_keys[] = {"dist", "values", NULL};
    const stdbp_yaml_node *n;
    int kind;
    stdbp_status st = stdbp_yaml_get_enum(stdbp_yaml_get(map, "dist"), dist_names, &kind, err);
    if (st)
        return st;
    if (kind == 2) {
        p->kind = P_CHOICE;
        if ((st = stdbp_yaml_check_keys(map, choice_keys, err)) ||
            (st = stdbp_yaml_need(map, "values", &n, err)))
            return st;
        if (stdbp_yaml_kind_of(n) != STDBP_YAML_SEQ)
            return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                    "expected a list of values to choose from");
        return load_values(p, n, err);
    }
    p->kind = kind == 0 ? P_UNIFORM : P_LOGUNIFORM;
    if ((st = stdbp_yaml_check_keys(map, range_keys, err)) ||
        (st = stdbp_yaml_need(map, "low", &n, err)) ||
        (st = stdbp_yaml_get_double(n, 0, &p->low, err)) ||
        (st = stdbp_yaml_need(map, "high", &n, err)) ||
        (st = stdbp_yaml_get_double(n, 0, &p->high, err)))
        return st;
    if (!(p->high > p->low))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "must be greater than low (%g), got %g",
                                p->low, p->high);
    if (p->kind == P_LOGUNIFORM && !(p->low > 0))
        return stdbp_yaml_error(stdbp_yaml_get(map, "low"), err, STDBP_ECONFIG,
                                "loguniform needs low > 0, got %g", p->low);
    if ((n = stdbp_yaml_get(map, "integer")) && (st = stdbp_yaml_get_bool(n, &p->integer, err)))
        return st;
    if (p->integer && floor(p->high) < ceil(p->low))
        return stdbp_yaml_error(map, err, STDBP_ECONFIG, "no integer lies in [%g, %g)", p->low,
                                p->high);
    return STDBP_OK;
}

static stdbp_status load_params(stdbp_sweep *sw, const stdbp_yaml_node *params, stdbp_err *err)
{
    size_t i, n = stdbp_yaml_len(params), has_dist = 0;
    stdbp_status st;
    if (stdbp_yaml_kind_of(params) != STDBP_YAML_MAP || n == 0)
        return stdbp_yaml_error(params, err, STDBP_ECONFIG,
                                "expected a map of key.path: [values] or key.path: {dist: ...}");
    sw->params = calloc(n, sizeof *sw->params);
    if (!sw->params)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    sw->n_params = n;
    sw->grid = 1;
    for (i = 0; i < n; i++) {
        sweep_param *p = &sw->params[i];
        const stdbp_yaml_node *v = stdbp_yaml_item(params, i);
        p->key = stdbp_yaml_key(params, i);
        p->key_node = stdbp_yaml_key_node(params, i);
        p->node = v;
        p->hash = fnv1a(p->key);
        if (is_forbidden_key(p->key))
            return forbidden(p->key_node, err);
        for (size_t j = 0; j < sw->n_fixed; j++)
            if (strcmp(stdbp_yaml_text(sw->fixed_key[j], NULL), p->key) == 0)
                return stdbp_yaml_error(p->key_node, err, STDBP_ECONFIG,
                                        "also fixed under 'set' (line %d): give it in one place",
                                        stdbp_yaml_line(sw->fixed_key[j]));
        if (stdbp_yaml_kind_of(v) == STDBP_YAML_SEQ) {
            p->kind = P_GRID;
            if ((st = load_values(p, v, err)))
                return st;
            if (sw->grid > STDBP_SWEEP_MAX_POINTS / p->n)
                return stdbp_yaml_error(v, err, STDBP_ECONFIG, "the grid grows beyond %d points",
                                        STDBP_SWEEP_MAX_POINTS);
            sw->grid *= p->n;
        } else if (stdbp_yaml_kind_of(v) == STDBP_YAML_MAP && stdbp_yaml_get(v, "dist")) {
            if ((st = load_dist(p, v, err)))
                return st;
            has_dist++;
        } else if (stdbp_yaml_kind_of(v) == STDBP_YAML_MAP) {
            return stdbp_yaml_error(v, err, STDBP_ECONFIG,
                                    "missing required key 'dist' (uniform, loguniform or choice); "
                                    "a list of values makes a grid");
        } else {
            return stdbp_yaml_error(v, err, STDBP_ECONFIG,
                                    "a single value: write a list ([v1, v2]) for a grid, a map "
                                    "{dist: ...} for random search, or put a fixed value under "
                                    "'set'");
        }
    }
    const stdbp_yaml_node *sn = stdbp_yaml_get(stdbp_yaml_root(sw->doc), "samples");
    if (has_dist && !sn)
        return stdbp_yaml_error(stdbp_yaml_root(sw->doc), err, STDBP_ECONFIG,
                                "missing required key 'samples' (how many random draws): "
                                "params has a {dist: ...}");
    if (!has_dist && sn && sw->samples != 1)
        return stdbp_yaml_error(sn, err, STDBP_ECONFIG,
                                "samples > 1 needs a parameter with {dist: ...}: the grid "
                                "alone would repeat identical points");
    if (sw->grid > STDBP_SWEEP_MAX_POINTS / sw->samples)
        return stdbp_yaml_error(sn ? sn : params, err, STDBP_ECONFIG,
                                "%zu grid points x %zu samples is more than %d points", sw->grid,
                                sw->samples, STDBP_SWEEP_MAX_POINTS);
    sw->count = sw->grid * sw->samples;
    return STDBP_OK;
}

static stdbp_status load_fixed(stdbp_sweep *sw, const stdbp_yaml_node *set, stdbp_err *err)
{
    size_t n = stdbp_yaml_len(set);
    if (set && stdbp_yaml_kind_of(set) != STDBP_YAML_MAP && !stdbp_yaml_is_null(set))
        return stdbp_yaml_error(set, err, STDBP_ECONFIG, "expected a map of key.path: value");
    sw->fixed_key = calloc(n + 1, sizeof *sw->fixed_key);
    sw->fixed_val = calloc(n + 1, sizeof *sw->fixed_val);
    sw->fixed = calloc(n + 1, sizeof *sw->fixed);
    if (!sw->fixed_key || !sw->fixed_val || !sw->fixed)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sw->fixed_key[i] = stdbp_yaml_key_node(set, i);
        sw->fixed_val[i] = stdbp_yaml_item(set, i);
        if (is_forbidden_key(stdbp_yaml_key(set, i)))
            return forbidden(sw->fixed_key[i], err);
        char *v = stdbp_sweep_flow(sw->fixed_val[i]);
        sw->fixed[i] = v ? stdbp_sweep_assignment(stdbp_yaml_key(set, i), v) : NULL;
        free(v);
        if (!sw->fixed[i])
            return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        sw->n_fixed++;
    }
    return STDBP_OK;
}

/* name: default from the file name (x/lr.yaml -> lr). */
static stdbp_status load_name(stdbp_sweep *sw, const stdbp_yaml_node *root, stdbp_err *err)
{
    const stdbp_yaml_node *n = stdbp_yaml_get(root, "name");
    stdbp_status st;
    if (n) {
        if ((st = stdbp_yaml_get_string(n, sw->name, sizeof sw->name, err)))
            return st;
        if (!valid_name(sw->name))
            return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                    "a directory name of letters, digits, '.', '_' and '-' "
                                    "(not starting with '.'), got '%s'",
                                    sw->name);
        return STDBP_OK;
    }
    const char *slash = strrchr(sw->source, '/');
    const char *b = slash ? slash + 1 : sw->source;
    size_t len = strlen(b);
    if (len > 5 && strcmp(b + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(b + len - 4, ".yml") == 0)
        len -= 4;
    snprintf(sw->name, sizeof sw->name, "%.*s", (int)(len < 99 ? len : 99), b);
    if (!valid_name(sw->name))
        return stdbp_yaml_error(root, err, STDBP_ECONFIG,
                                "the file name '%s' is not a usable sweep name: add name: "
                                "(letters, digits, '.', '_', '-')",
                                sw->name);
    return STDBP_OK;
}

static stdbp_status load_tree(stdbp_sweep *sw, stdbp_err *err)
{
    const stdbp_yaml_node *root = stdbp_yaml_root(sw->doc), *n;
    char base[STDBP_CFG_STR], dir[STDBP_CFG_STR] = "runs";
    stdbp_status st;
    long samples = 1;

    if (stdbp_yaml_kind_of(root) != STDBP_YAML_MAP)
        return stdbp_yaml_error(root, err, STDBP_ECONFIG,
                                "a sweep file is a map with base: and params: (docs/SLURM.md)");
    if ((st = stdbp_yaml_check_keys(root, sweep_keys, err)) || (st = load_name(sw, root, err)))
        return st;
    if ((st = stdbp_yaml_need(root, "base", &sw->base_node, err)) ||
        (st = stdbp_yaml_get_string(sw->base_node, base, sizeof base, err)))
        return st;
    if (!base[0])
        return stdbp_yaml_error(sw->base_node, err, STDBP_ECONFIG,
                                "expected the path of the base config");
    /* Relative to the sweep file's directory. */
    const char *slash = strrchr(sw->source, '/');
    int len;
    if (base[0] == '/' || !slash)
        len = snprintf(sw->base, sizeof sw->base, "%s", base);
    else
        len = snprintf(sw->base, sizeof sw->base, "%.*s/%s", (int)(slash - sw->source), sw->source,
                       base);
    if (len < 0 || (size_t)len >= sizeof sw->base)
        return stdbp_yaml_error(sw->base_node, err, STDBP_ECONFIG, "path too long");
    if ((n = stdbp_yaml_get(root, "dir")) && (st = stdbp_yaml_get_string(n, dir, sizeof dir, err)))
        return st;
    if (!dir[0])
        snprintf(dir, sizeof dir, ".");
    /* Room for "/point-KKKKKKK" after it. */
    len = snprintf(sw->dir, sizeof sw->dir, "%s/%s", dir, sw->name);
    if (len < 0 || (size_t)len + 16 >= sizeof sw->dir)
        return stdbp_yaml_error(n ? n : root, err, STDBP_ECONFIG, "path too long");
    sw->seed = 1;
    if ((n = stdbp_yaml_get(root, "seed")) && (st = stdbp_yaml_get_u64(n, &sw->seed, err)))
        return st;
    if ((n = stdbp_yaml_get(root, "samples"))) {
        if ((st = stdbp_yaml_get_long(n, &samples, err)))
            return st;
        if (samples < 1 || samples > STDBP_SWEEP_MAX_POINTS)
            return stdbp_yaml_error(n, err, STDBP_ECONFIG, "must be in [1, %d], got %ld",
                                    STDBP_SWEEP_MAX_POINTS, samples);
    }
    sw->samples = (size_t)samples;
    if ((st = load_fixed(sw, stdbp_yaml_get(root, "set"), err)))
        return st;
    if ((st = stdbp_yaml_need(root, "params", &sw->params_node, err)))
        return st;
    return load_params(sw, sw->params_node, err);
}

static stdbp_status finish_load(stdbp_sweep *sw, stdbp_sweep **out, stdbp_status st, stdbp_err *err)
{
    if (st == STDBP_OK)
        st = load_tree(sw, err);
    if (st != STDBP_OK) {
        stdbp_sweep_free(&sw);
        return st;
    }
    *out = sw;
    return STDBP_OK;
}

/* A sweep for the file path; its path must fit whole (the base config
 * and the sweep's name are found from it: never cut it short). */
static stdbp_status sweep_new(const char *path, stdbp_sweep **sw, stdbp_err *err)
{
    if (strlen(path) >= sizeof(*sw)->source)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "sweep file path too long: %zu bytes, at most %zu are supported "
                             "(move it, or use a shorter relative path): %s",
                             strlen(path), sizeof(*sw)->source - 1, path);
    if (!(*sw = calloc(1, sizeof **sw)))
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    memcpy((*sw)->source, path, strlen(path) + 1);
    return STDBP_OK;
}

stdbp_status stdbp_sweep_load(const char *path, stdbp_sweep **out, stdbp_err *err)
{
    stdbp_sweep *sw;
    stdbp_status st;
    *out = NULL;
    if ((st = sweep_new(path, &sw, err)) != STDBP_OK)
        return st;
    return finish_load(sw, out, stdbp_yaml_load_file(path, &sw->doc, err), err);
}

stdbp_status stdbp_sweep_load_string(const char *text, size_t len, const char *path,
                                     stdbp_sweep **out, stdbp_err *err)
{
    stdbp_sweep *sw;
    stdbp_status st;
    *out = NULL;
    if ((st = sweep_new(path, &sw, err)) != STDBP_OK)
        return st;
    return finish_load(sw, out, stdbp_yaml_load_string(text, len, path, &sw->doc, err), err);
}

void stdbp_sweep_free(stdbp_sweep **ptr)
{
    stdbp_sweep *sw = ptr ? *ptr : NULL;
    if (!sw)
        return;
    for (size_t i = 0; i < sw->n_params; i++) {
        for (size_t j = 0; sw->params[i].flow && j < sw->params[i].n; j++)
            free(sw->params[i].flow[j]);
        free(sw->params[i].flow);
    }
    free(sw->params);
    for (size_t i = 0; sw->fixed && i < sw->n_fixed; i++)
        free(sw->fixed[i]);
    free(sw->fixed);
    free(sw->fixed_key);
    free(sw->fixed_val);
    stdbp_yaml_free(&sw->doc);
    free(sw);
    *ptr = NULL;
}

size_t stdbp_sweep_count(const stdbp_sweep *sw)
{
    return sw->count;
}
size_t stdbp_sweep_grid_size(const stdbp_sweep *sw)
{
    return sw->grid;
}
size_t stdbp_sweep_samples(const stdbp_sweep *sw)
{
    return sw->samples;
}
const char *stdbp_sweep_name(const stdbp_sweep *sw)
{
    return sw->name;
}
const char *stdbp_sweep_source(const stdbp_sweep *sw)
{
    return sw->source;
}
const char *stdbp_sweep_base(const stdbp_sweep *sw)
{
    return sw->base;
}
const char *stdbp_sweep_dir(const stdbp_sweep *sw)
{
    return sw->dir;
}
