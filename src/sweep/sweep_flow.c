/* YAML flow text for sweep values: a point's override "key=VALUE" must
 * read back, through stdbp_config_set, as the value the sweep file gave;
 * see stdbp_sweep_flow in sweep.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/sweep.h"

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void stdbp_sweep_quote(const char *s, size_t len, char *buf, size_t size)
{
    size_t o = strlen(buf);
    char esc[8];
    if (o + 1 >= size)
        return;
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *add = esc;
        if (c == '"')
            add = "\\\"";
        else if (c == '\\')
            add = "\\\\";
        else if (c == '\n')
            add = "\\n";
        else if (c == '\t')
            add = "\\t";
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", c);
        else {
            esc[0] = (char)c;
            esc[1] = '\0';
        }
        size_t n = strlen(add);
        if (o + n + 2 >= size)
            break;
        memcpy(buf + o, add, n);
        o += n;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* A plain scalar that reads the same inside a flow collection. */
static int flow_safe(const char *s, size_t len)
{
    if (len == 0 || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-' || c == '/' || (c == '~' && len == 1)))
            return 0;
    }
    return 1;
}

static void flow_scalar(sbuf *b, const stdbp_yaml_node *n)
{
    size_t len;
    const char *t = stdbp_yaml_text(n, &len);
    if (stdbp_yaml_is_plain(n) && len == 0) {
        sb_str(b, "~");
    } else if (stdbp_yaml_is_plain(n) && flow_safe(t, len)) {
        sb_add(b, t, len);
    } else {
        /* Quoted in the file, or text with YAML indicators: double quotes.
         * Each byte takes at most 4 characters, plus the quotes. */
        size_t size = 4 * len + 3;
        char *q = malloc(size);
        if (!q) {
            b->oom = 1;
            return;
        }
        q[0] = '\0';
        stdbp_sweep_quote(t, len, q, size);
        sb_str(b, q);
        free(q);
    }
}

static void flow_node(sbuf *b, const stdbp_yaml_node *n)
{
    size_t i, len = stdbp_yaml_len(n);
    switch (stdbp_yaml_kind_of(n)) {
    case STDBP_YAML_SCALAR:
        flow_scalar(b, n);
        break;
    case STDBP_YAML_SEQ:
        sb_str(b, "[");
        for (i = 0; i < len; i++) {
            if (i)
                sb_str(b, ", ");
            flow_node(b, stdbp_yaml_item(n, i));
        }
        sb_str(b, "]");
        break;
    case STDBP_YAML_MAP:
        sb_str(b, "{");
        for (i = 0; i < len; i++) {
            if (i)
                sb_str(b, ", ");
            flow_scalar(b, stdbp_yaml_key_node(n, i));
            sb_str(b, ": ");
            flow_node(b, stdbp_yaml_item(n, i));
        }
        sb_str(b, "}");
        break;
    }
}

char *stdbp_sweep_flow(const stdbp_yaml_node *n)
{
    sbuf b = {NULL, 0, 0, 0};
    flow_node(&b, n);
    sb_str(&b, "");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
