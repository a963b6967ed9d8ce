/* A growable string; see strbuf.h. */
#include "util/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: small texts (one value, one line) fit at once. */
#define STRBUF_MIN_CAP 64

void stdbp_strbuf_init(stdbp_strbuf *b)
{
    b->s = NULL;
    b->len = 0;
    b->cap = 0;
}

stdbp_status stdbp_strbuf_reserve(stdbp_strbuf *b, size_t n, stdbp_err *err)
{
    size_t need, cap;
    char *p;
    if (n > SIZE_MAX - 1 - b->len)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    need = b->len + n + 1;
    if (b->s && need <= b->cap)
        return STDBP_OK;
    cap = b->cap ? b->cap : STRBUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : 2 * cap;
    p = realloc(b->s, cap);
    if (!p)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if (!b->s)
        p[0] = '\0';
    b->s = p;
    b->cap = cap;
    return STDBP_OK;
}

stdbp_status stdbp_strbuf_append(stdbp_strbuf *b, const char *s, size_t n, stdbp_err *err)
{
    stdbp_status st = stdbp_strbuf_reserve(b, n, err);
    if (st != STDBP_OK)
        return st;
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return STDBP_OK;
}

stdbp_status stdbp_strbuf_puts(stdbp_strbuf *b, const char *s, stdbp_err *err)
{
    return stdbp_strbuf_append(b, s, strlen(s), err);
}

stdbp_status stdbp_strbuf_appendf(stdbp_strbuf *b, stdbp_err *err, const char *fmt, ...)
{
    va_list ap;
    int n;
    stdbp_status st;
    /* Try in the room there is; on a short count, grow once and redo. */
    va_start(ap, fmt);
    n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return stdbp_err_set(err, STDBP_EINVAL, "cannot format '%s'", fmt);
    if (b->s && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return STDBP_OK;
    }
    if ((st = stdbp_strbuf_reserve(b, (size_t)n, err)) != STDBP_OK) {
        if (b->s)
            b->s[b->len] = '\0'; /* the failed try may have written a part */
        return st;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return STDBP_OK;
}

char *stdbp_strbuf_detach(stdbp_strbuf *b)
{
    char *s = b->s;
    stdbp_strbuf_init(b);
    return s;
}

void stdbp_strbuf_free(stdbp_strbuf *b)
{
    free(b->s);
    stdbp_strbuf_init(b);
}
