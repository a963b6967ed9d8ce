/* The effective configuration as YAML, one key per line in schema order,
 * every value written so that it reads back exactly (doubles in the
 * shortest form that round-trips, text double-quoted). */
#include "config/config_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static stdbp_status out_indent(stdbp_strbuf *o, size_t depth)
{
    stdbp_status st = STDBP_OK;
    for (size_t i = 0; i < depth && st == STDBP_OK; i++)
        st = stdbp_strbuf_puts(o, "  ", NULL);
    return st;
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

/* The "- {...}" lines of network.layers, one flow map per layer. */
static stdbp_status emit_layers(stdbp_strbuf *o, const stdbp_config *cfg, const stdbp_cfg_key *k,
                                size_t depth, stdbp_err *err)
{
    stdbp_status st = STDBP_OK;
    for (size_t j = 0; j < cfg->network.n_layers && j < STDBP_CFG_MAX_LAYERS && !st; j++) {
        stdbp_config single;
        char *text;
        memset(&single, 0, sizeof single);
        single.network.n_layers = 1;
        single.network.layers[0] = cfg->network.layers[j];
        if ((st = stdbp_cfg_format(k, (const char *)&single + k->offset, &text, err)))
            return st;
        /* "[{...}]" -> "{...}" */
        text[strlen(text) - 1] = '\0';
        if ((st = stdbp_strbuf_puts(o, "\n", NULL)) || (st = out_indent(o, depth + 1)) ||
            (st = stdbp_strbuf_puts(o, "- ", NULL)) || (st = stdbp_strbuf_puts(o, text + 1, NULL)))
            st = stdbp_err_set(err, st, "out of memory writing the configuration");
        free(text);
    }
    if (!st && stdbp_strbuf_puts(o, "\n", NULL))
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory writing the configuration");
    return st;
}

/* One key: the sections it opens that prev was not in, then "key: value". */
static stdbp_status emit_key(stdbp_strbuf *o, const stdbp_config *cfg, const stdbp_cfg_key *k,
                             const char *prev, stdbp_err *err)
{
    size_t keep = prev ? shared_sections(prev, k->path) : 0, depth = depth_of(k->path);
    const char *part = k->path;
    char *value = NULL;
    stdbp_status st = STDBP_OK;
    for (size_t j = 0; j < depth && !st; j++) {
        const char *dot = strchr(part, '.');
        if (j >= keep && ((st = out_indent(o, j)) ||
                          (st = stdbp_strbuf_append(o, part, (size_t)(dot - part), NULL)) ||
                          (st = stdbp_strbuf_puts(o, ":\n", NULL))))
            break;
        part = dot + 1;
    }
    if (st || (st = out_indent(o, depth)) || (st = stdbp_strbuf_puts(o, part, NULL)) ||
        (st = stdbp_strbuf_puts(o, ":", NULL)))
        return stdbp_err_set(err, st, "out of memory writing the configuration");
    if (k->type == STDBP_CFG_T_LAYERS)
        return emit_layers(o, cfg, k, depth, err);
    if ((st = stdbp_cfg_format(k, (const char *)cfg + k->offset, &value, err)))
        return st;
    if ((st = stdbp_strbuf_appendf(o, NULL, " %s\n", value)))
        st = stdbp_err_set(err, st, "out of memory writing the configuration");
    free(value);
    return st;
}

stdbp_status stdbp_config_emit(const stdbp_config *cfg, char **yaml, size_t *len, stdbp_err *err)
{
    stdbp_strbuf o;
    stdbp_status st;
    *yaml = NULL;
    if (len)
        *len = 0;
    stdbp_strbuf_init(&o);
    st = stdbp_strbuf_puts(
        &o, "# stdbp: the effective configuration (docs/CONFIG.md lists every key)\n", NULL);
    if (st)
        st = stdbp_err_set(err, st, "out of memory writing the configuration");
    for (size_t i = 0; i < stdbp_cfg_schema_len && !st; i++)
        st = emit_key(&o, cfg, &stdbp_cfg_schema[i], i ? stdbp_cfg_schema[i - 1].path : NULL, err);
    if (st) {
        stdbp_strbuf_free(&o);
        return st;
    }
    if (len)
        *len = o.len;
    *yaml = stdbp_strbuf_detach(&o);
    return STDBP_OK;
}
