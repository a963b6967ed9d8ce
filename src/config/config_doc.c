/* The key reference of docs/CONFIG.md, generated from the schema so that
 * the documentation cannot drift from the code (tests/unit/test_config_doc
 * checks that the committed file contains every row printed here). */
#include "config/config_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct md {
    char *p;
    size_t len, cap;
    int failed;
} md;

static void add(md *m, const char *s)
{
    size_t n = strlen(s);
    if (m->failed)
        return;
    if (m->len + n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 8192;
        char *p;
        while (cap < m->len + n + 1)
            cap *= 2;
        p = realloc(m->p, cap);
        if (!p) {
            m->failed = 1;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, s, n + 1);
    m->len += n;
}

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

static void row(md *m, const stdbp_cfg_key *k, const char *def)
{
    char type[128], range[64], line[1024];
    type_text(k, type, sizeof type);
    stdbp_cfg_range_text(k, range, sizeof range);
    if (k->type == STDBP_CFG_T_SHAPE || k->type == STDBP_CFG_T_BITS)
        snprintf(range, sizeof range, "each in [%g, %g]", k->min, k->max);
    if (k->type == STDBP_CFG_T_U64)
        snprintf(range, sizeof range, "[0, 2^64)");
    snprintf(line, sizeof line, "| `%s` | %s | `%s` | %s | %s |\n", k->path, type, def, range,
             k->doc);
    add(m, line);
}

stdbp_status stdbp_config_doc_markdown(char **text, stdbp_err *err)
{
    stdbp_config d;
    md m = {NULL, 0, 0, 0};
    char section[64] = "", head[256];
    size_t i;
    *text = NULL;
    stdbp_config_defaults(&d);
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        const char *dot = strchr(k->path, '.');
        size_t n = (size_t)(dot - k->path);
        char *value = NULL;
        if (strlen(section) != n || strncmp(section, k->path, n) != 0) {
            memcpy(section, k->path, n);
            section[n] = '\0';
            snprintf(head, sizeof head,
                     "%s### %s\n\n| Key | Type | Default | Range | Meaning |\n"
                     "|---|---|---|---|---|\n",
                     i ? "\n" : "", section);
            add(&m, head);
        }
        if (k->flags & STDBP_CFG_DOCDEF) {
            row(&m, k, k->def);
        } else {
            stdbp_status st = stdbp_cfg_format(k, (const char *)&d + k->offset, &value, err);
            if (st) {
                free(m.p);
                return st;
            }
            row(&m, k, value);
            free(value);
        }
    }
    add(&m, "\n### network.layers entries\n\n| Key | Type | Default | Range | Meaning |\n"
            "|---|---|---|---|---|\n");
    for (i = 0; i < stdbp_cfg_layer_keys_len; i++)
        row(&m, &stdbp_cfg_layer_keys[i], stdbp_cfg_layer_keys[i].def);
    if (m.failed || !m.p) {
        free(m.p);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory writing the key reference");
    }
    *text = m.p;
    return STDBP_OK;
}
