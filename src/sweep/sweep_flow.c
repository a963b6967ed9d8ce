/* YAML flow text for sweep values: a point's override "key=VALUE" must
 * read back, through stdbp_config_set, as the value the sweep file gave;
 * see stdbp_sweep_flow in sweep.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep_impl.h"
#include "util/strbuf.h"

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

static stdbp_status flow_scalar(stdbp_strbuf *b, const stdbp_yaml_node *n)
{
    size_t len;
    const char *t = stdbp_yaml_text(n, &len);
    stdbp_status st;
    if (stdbp_yaml_is_plain(n) && len == 0)
        return stdbp_strbuf_puts(b, "~", NULL);
    if (stdbp_yaml_is_plain(n) && flow_safe(t, len))
        return stdbp_strbuf_append(b, t, len, NULL);
    /* Quoted in the file, or text with YAML indicators: double quotes.
     * Each byte takes at most 4 characters, plus the quotes. */
    if ((st = stdbp_strbuf_reserve(b, 4 * len + 2, NULL)))
        return st;
    stdbp_sweep_quote(t, len, b->s + b->len, 4 * len + 3);
    b->len += strlen(b->s + b->len);
    return STDBP_OK;
}

static stdbp_status flow_node(stdbp_strbuf *b, const stdbp_yaml_node *n)
{
    size_t i, len = stdbp_yaml_len(n);
    stdbp_status st = STDBP_OK;
    switch (stdbp_yaml_kind_of(n)) {
    case STDBP_YAML_SCALAR:
        return flow_scalar(b, n);
    case STDBP_YAML_SEQ:
        st = stdbp_strbuf_puts(b, "[", NULL);
        for (i = 0; i < len && !st; i++)
            if (!(st = stdbp_strbuf_puts(b, i ? ", " : "", NULL)))
                st = flow_node(b, stdbp_yaml_item(n, i));
        return st ? st : stdbp_strbuf_puts(b, "]", NULL);
    case STDBP_YAML_MAP:
        st = stdbp_strbuf_puts(b, "{", NULL);
        for (i = 0; i < len && !st; i++)
            if (!(st = stdbp_strbuf_puts(b, i ? ", " : "", NULL)) &&
                !(st = flow_scalar(b, stdbp_yaml_key_node(n, i))) &&
                !(st = stdbp_strbuf_puts(b, ": ", NULL)))
                st = flow_node(b, stdbp_yaml_item(n, i));
        return st ? st : stdbp_strbuf_puts(b, "}", NULL);
    }
    return st;
}

char *stdbp_sweep_flow(const stdbp_yaml_node *n)
{
    stdbp_strbuf b;
    stdbp_strbuf_init(&b);
    if (flow_node(&b, n) || stdbp_strbuf_append(&b, "", 0, NULL)) {
        stdbp_strbuf_free(&b);
        return NULL;
    }
    return stdbp_strbuf_detach(&b);
}
