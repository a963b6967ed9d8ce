/* The effective configuration as YAML, one key per line in schema order,
 * every value written so that it reads back exactly (doubles in the
 * shortest form that round-trips, text double-quoted). */
#include "config/config_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static int out_put(out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *p;
        while (cap < o->len + n + 1)
            cap *= 2;
        p = realloc(o->p, cap);
        if (!p)
            return -1;
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
    return 0;
}

static int out_str(out *o, const char *s)
{
    return out_put(o, s, strlen(s));
}

static int out_indent(out *o, size_t depth)
{
    size_t i;
    for (i = 0; i < depth; i++)
        if (out_str(o, "  "))
            return -1;
    return 0;
}

/* Number of leading path parts ("a.b.c" vs "a.b.d" -> 2) shared by the
 * sections of two keys (their last parts excluded). */
static size_t shared_sections(const char *a, const char *b)
{
    size_t n = 0;
    for (;;) {
        const char *da = strchr(a, '.'), *db = strchr(b, '.');
        if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)) != 0)
            return n;
        n++;
        a = da + 1;
        b = db + 1;
    }
}

static size_t depth_of(const char *path)
{
    size_t n = 0;
    for (; *path; path++)
        n += *path == '.';
    return n;
}

stdbp_status stdbp_config_emit(const stdbp_config *cfg, char **yaml, size_t *len, stdbp_err *err)
{
    out o = {NULL, 0, 0};
    const char *prev = "";
    size_t i, j;
    *yaml = NULL;
    if (len)
        *len = 0;
    if (out_str(&o, "# stdbp: the effective configuration (docs/CONFIG.md lists every key)\n"))
        goto nomem;
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        const char *field = (const char *)cfg + k->offset;
        size_t keep = i ? shared_sections(prev, k->path) : 0, depth = depth_of(k->path);
        const char *part = k->path;
        char *value = NULL;
        stdbp_status st;
        /* Open the sections this key is in that the previous key was not. */
        for (j = 0; j < depth; j++) {
            const char *dot = strchr(part, '.');
            if (j >= keep) {
                if (out_indent(&o, j) || out_put(&o, part, (size_t)(dot - part)) ||
                    out_str(&o, ":\n"))
                    goto nomem;
            }
            part = dot + 1;
        }
        if (out_indent(&o, depth) || out_str(&o, part) || out_str(&o, ":"))
            goto nomem;
        if (k->type == STDBP_CFG_T_LAYERS) {
            /* A block list, one flow map per layer. */
            const stdbp_cfg_key one = *k;
            for (j = 0; j < cfg->network.n_layers && j < STDBP_CFG_MAX_LAYERS; j++) {
                stdbp_config single;
                char *text;
                memset(&single, 0, sizeof single);
                single.network.n_layers = 1;
                single.network.layers[0] = cfg->network.layers[j];
                st = stdbp_cfg_format(&one, (const char *)&single + k->offset, &text, err);
                if (st) {
                    free(o.p);
                    return st;
                }
                /* "[{...}]" -> "{...}" */
                text[strlen(text) - 1] = '\0';
                if (out_str(&o, "\n") || out_indent(&o, depth + 1) || out_str(&o, "- ") ||
                    out_str(&o, text + 1)) {
                    free(text);
                    goto nomem;
                }
                free(text);
            }
            if (out_str(&o, "\n"))
                goto nomem;
        } else {
            st = stdbp_cfg_format(k, field, &value, err);
            if (st) {
                free(o.p);
                return st;
            }
            if (out_str(&o, " ") || out_str(&o, value) || out_str(&o, "\n")) {
                free(value);
                goto nomem;
            }
            free(value);
        }
        prev = k->path;
    }
    *yaml = o.p;
    if (len)
        *len = o.len;
    return STDBP_OK;
nomem:
    free(o.p);
    return stdbp_err_set(err, STDBP_ENOMEM, "out of memory writing the configuration");
}
