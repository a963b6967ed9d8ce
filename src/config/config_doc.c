/* The key reference of docs/CONFIG.md, generated from the schema so that
 * the documentation cannot drift from the code (tests/unit/test_config_doc
 * checks that the committed file contains every row printed here). */
#include "config/config_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* "number", "integer", "one of: adam, sgd", ... */
static void type_text(const stdbp_cfg_key *k, char *buf, size_t size)
{
    size_t i, used;
    switch (k->type) {
    case STDBP_CFG_T_STR:
        snprintf(buf, size, "text");
        return;
    case STDBP_CFG_T_WORD:
    case STDBP_CFG_T_ENUM:
        buf[0] = '\0';
        for (i = 0; k->names[i]; i++) {
            used = strlen(buf);
            snprintf(buf + used, size - used, "%s%s", i ? " \\| " : "", k->names[i]);
        }
        return;
    case STDBP_CFG_T_BOOL:
        snprintf(buf, size, "true \\| false");
        return;
    case STDBP_CFG_T_INT:
    case STDBP_CFG_T_LONG:
    case STDBP_CFG_T_U64:
        snprintf(buf, size, "integer");
        return;
    case STDBP_CFG_T_DOUBLE:
        snprintf(buf, size, "%s", k->flags & STDBP_CFG_INF_OK ? "number or inf" : "number");
        return;
    case STDBP_CFG_T_SHAPE:
        snprintf(buf, size, "[C, H, W] or null");
        return;
    case STDBP_CFG_T_LAYERS:
        snprintf(buf, size, "list of layers");
        return;
    case STDBP_CFG_T_BITS:
        snprintf(buf, size, "list of integers");
        return;
    }
    buf[0] = '\0';
}

static stdbp_status row(stdbp_strbuf *m, const stdbp_cfg_key *k, const char *def)
{
    char type[128], range[64];
    type_text(k, type, sizeof type);
    stdbp_cfg_range_text(k, range, sizeof range);
    if (k->type == STDBP_CFG_T_SHAPE || k->type == STDBP_CFG_T_BITS)
        snprintf(range, sizeof range, "each in [%g, %g]", k->min, k->max);
    if (k->type == STDBP_CFG_T_U64)
        snprintf(range, sizeof range, "[0, 2^64)");
    return stdbp_strbuf_appendf(m, NULL, "| `%s` | %s | `%s` | %s | %s |\n", k->path, type, def,
                                range, k->doc);
}

/* Rows of the schema, a table per section. */
static stdbp_status schema_rows(stdbp_strbuf *m, stdbp_err *err)
{
    stdbp_config d;
    char section[64] = "";
    stdbp_status st = STDBP_OK;
    stdbp_config_defaults(&d);
    for (size_t i = 0; i < stdbp_cfg_schema_len && !st; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        const char *dot = strchr(k->path, '.');
        size_t n = (size_t)(dot - k->path);
        char *value = NULL;
        if (strlen(section) != n || strncmp(section, k->path, n) != 0) {
            memcpy(section, k->path, n);
            section[n] = '\0';
            if ((st =
                     stdbp_strbuf_appendf(m, NULL,
                                          "%s### %s\n\n| Key | Type | Default | Range | Meaning |\n"
                                          "|---|---|---|---|---|\n",
                                          i ? "\n" : "", section)))
                break;
        }
        if (k->flags & STDBP_CFG_DOCDEF) {
            st = row(m, k, k->def);
        } else {
            if ((st = stdbp_cfg_format(k, (const char *)&d + k->offset, &value, err)))
                return st;
            st = row(m, k, value);
            free(value);
        }
    }
    if (st)
        return stdbp_err_set(err, st, "out of memory writing the key reference");
    return STDBP_OK;
}

stdbp_status stdbp_config_doc_markdown(char **text, stdbp_err *err)
{
    stdbp_strbuf m;
    stdbp_status st;
    *text = NULL;
    stdbp_strbuf_init(&m);
    if ((st = schema_rows(&m, err))) {
        stdbp_strbuf_free(&m);
        return st;
    }
    st = stdbp_strbuf_puts(&m,
                           "\n### network.layers entries\n\n| Key | Type | Default | Range | "
                           "Meaning |\n|---|---|---|---|---|\n",
                           NULL);
    for (size_t i = 0; i < stdbp_cfg_layer_keys_len && !st; i++)
        st = row(&m, &stdbp_cfg_layer_keys[i], stdbp_cfg_layer_keys[i].def);
    if (st) {
        stdbp_strbuf_free(&m);
        return stdbp_err_set(err, st, "out of memory writing the key reference");
    }
    *text = stdbp_strbuf_detach(&m);
    return STDBP_OK;
}
