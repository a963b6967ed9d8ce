/* A schema row's value as YAML flow text that reads back exactly: doubles
 * in the shortest form that round-trips, text double-quoted, layers as
 * flow maps. See stdbp_cfg_format in config_impl.h. */
#include "config/config_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* The shortest %g form that reads back as exactly v. */
static stdbp_status put_double(stdbp_strbuf *b, double v)
{
    char s[40];
    int prec;
    if (isinf(v))
        return stdbp_strbuf_puts(b, v > 0 ? ".inf" : "-.inf", NULL);
    if (isnan(v))
        return stdbp_strbuf_puts(b, ".nan", NULL);
    for (prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    /* 10 rather than 1e+01: whole numbers below 1e16 keep their digits. */
    if (strchr(s, 'e') && fabs(v) >= 1 && fabs(v) < 1e16) {
        char whole[40];
        int digits = (int)floor(log10(fabs(v))) + 1;
        if (digits > prec && digits <= 17) {
            snprintf(whole, sizeof whole, "%.*g", digits, v);
            if (strtod(whole, NULL) == v)
                memcpy(s, whole, sizeof s);
        }
    }
    return stdbp_strbuf_puts(b, s, NULL);
}

static stdbp_status put_quoted(stdbp_strbuf *b, const char *s)
{
    stdbp_status st = stdbp_strbuf_puts(b, "\"", NULL);
    for (; *s && !st; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            st = stdbp_strbuf_appendf(b, NULL, "\\%c", c);
        else if (c == '\n')
            st = stdbp_strbuf_puts(b, "\\n", NULL);
        else if (c == '\t')
            st = stdbp_strbuf_puts(b, "\\t", NULL);
        else if (c < 0x20 || c == 0x7f)
            st = stdbp_strbuf_appendf(b, NULL, "\\x%02x", c);
        else
            st = stdbp_strbuf_append(b, (const char *)&c, 1, NULL);
    }
    return st ? st : stdbp_strbuf_puts(b, "\"", NULL);
}

/* A layer as a YAML flow map; stride 0 is written as its effect. */
static stdbp_status put_layer(stdbp_strbuf *b, const stdbp_layer_spec *l)
{
    int kind = (int)l->kind;
    stdbp_status st;
    if (kind < 0 || kind > STDBP_LAYER_FLATTEN) /* invalid: reads back as an error */
        return stdbp_strbuf_appendf(b, NULL, "{type: %d}", kind);
    st = stdbp_strbuf_appendf(b, NULL, "{type: %s", stdbp_cfg_layer_kinds[kind]);
    switch (l->kind) {
    case STDBP_LAYER_DENSE:
        if (!st)
            st = stdbp_strbuf_appendf(b, NULL, ", out: %d", l->out);
        break;
    case STDBP_LAYER_CONV2D:
        if (!st)
            st = stdbp_strbuf_appendf(b, NULL, ", out: %d, kernel: %d, stride: %d, padding: %d",
                                      l->out, l->kernel, l->stride ? l->stride : 1, l->padding);
        break;
    case STDBP_LAYER_POOL:
        if (!st)
            st = stdbp_strbuf_appendf(b, NULL, ", kernel: %d, stride: %d", l->kernel,
                                      l->stride ? l->stride : l->kernel);
        break;
    case STDBP_LAYER_FLATTEN:
        break;
    }
    return st ? st : stdbp_strbuf_puts(b, "}", NULL);
}

/* The lists: deploy.bits and network.layers (field is inside cfg). */
static stdbp_status put_list(stdbp_strbuf *b, const stdbp_cfg_key *k, const char *f)
{
    stdbp_status st = stdbp_strbuf_puts(b, "[", NULL);
    size_t i;
    if (k->type == STDBP_CFG_T_BITS) {
        const stdbp_config *cfg =
            (const stdbp_config *)(const void *)(f - offsetof(stdbp_config, deploy.bits));
        for (i = 0; i < (size_t)cfg->deploy.n_bits && i < STDBP_CFG_MAX_BITS && !st; i++)
            st = stdbp_strbuf_appendf(b, NULL, "%s%d", i ? ", " : "", cfg->deploy.bits[i]);
    } else {
        const stdbp_config *cfg =
            (const stdbp_config *)(const void *)(f - offsetof(stdbp_config, network.layers));
        for (i = 0; i < cfg->network.n_layers && i < STDBP_CFG_MAX_LAYERS && !st; i++) {
            if (i)
                st = stdbp_strbuf_puts(b, ", ", NULL);
            if (!st)
                st = put_layer(b, &cfg->network.layers[i]);
        }
    }
    return st ? st : stdbp_strbuf_puts(b, "]", NULL);
}

static stdbp_status put_value(stdbp_strbuf *b, const stdbp_cfg_key *k, const char *f)
{
    int iv;
    long lv;
    uint64_t uv;
    double dv;
    stdbp_shape s;
    switch (k->type) {
    case STDBP_CFG_T_STR: {
        char t[STDBP_CFG_STR];
        memcpy(t, f, k->size < sizeof t ? k->size : sizeof t);
        t[sizeof t - 1] = '\0';
        if (k->size < sizeof t)
            t[k->size - 1] = '\0';
        return put_quoted(b, t);
    }
    case STDBP_CFG_T_WORD:
        return stdbp_strbuf_appendf(b, NULL, "%.*s", (int)k->size, f);
    case STDBP_CFG_T_ENUM:
        memcpy(&iv, f, sizeof iv);
        if (iv >= 0 && iv < stdbp_cfg_count_names(k->names))
            return stdbp_strbuf_puts(b, k->names[iv], NULL);
        return stdbp_strbuf_appendf(b, NULL, "%d", iv);
    case STDBP_CFG_T_BOOL:
        memcpy(&iv, f, sizeof iv);
        return stdbp_strbuf_puts(b, iv ? "true" : "false", NULL);
    case STDBP_CFG_T_INT:
        memcpy(&iv, f, sizeof iv);
        return stdbp_strbuf_appendf(b, NULL, "%d", iv);
    case STDBP_CFG_T_LONG:
        memcpy(&lv, f, sizeof lv);
        return stdbp_strbuf_appendf(b, NULL, "%ld", lv);
    case STDBP_CFG_T_U64:
        memcpy(&uv, f, sizeof uv);
        return stdbp_strbuf_appendf(b, NULL, "%llu", (unsigned long long)uv);
    case STDBP_CFG_T_DOUBLE:
        memcpy(&dv, f, sizeof dv);
        return put_double(b, dv);
    case STDBP_CFG_T_SHAPE:
        memcpy(&s, f, sizeof s);
        if (s.c == 0 && s.h == 0 && s.w == 0)
            return stdbp_strbuf_puts(b, "null", NULL);
        return stdbp_strbuf_appendf(b, NULL, "[%d, %d, %d]", s.c, s.h, s.w);
    case STDBP_CFG_T_BITS:
    case STDBP_CFG_T_LAYERS:
        return put_list(b, k, f);
    }
    return STDBP_OK;
}

stdbp_status stdbp_cfg_format(const stdbp_cfg_key *k, const void *field, char **text,
                              stdbp_err *err)
{
    stdbp_strbuf b;
    stdbp_status st;
    *text = NULL;
    stdbp_strbuf_init(&b);
    st = put_value(&b, k, field);
    if (st || !b.s) {
        stdbp_strbuf_free(&b);
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory formatting %s", k->path);
    }
    *text = stdbp_strbuf_detach(&b);
    return STDBP_OK;
}
