/* Looking into a YAML document: navigation, typed getters that say what
 * was expected, required and allowed keys; see yaml_doc.h. */
#include "util/yaml_impl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- navigation ------------------------------------------------------- */

stdbp_yaml_kind stdbp_yaml_kind_of(const stdbp_yaml_node *n)
{
    return n ? n->kind : STDBP_YAML_SCALAR;
}

int stdbp_yaml_line(const stdbp_yaml_node *n)
{
    return n ? n->line : 0;
}

int stdbp_yaml_column(const stdbp_yaml_node *n)
{
    return n ? n->col : 0;
}

size_t stdbp_yaml_len(const stdbp_yaml_node *n)
{
    return n && n->kind != STDBP_YAML_SCALAR ? n->n : 0;
}

const stdbp_yaml_node *stdbp_yaml_item(const stdbp_yaml_node *n, size_t i)
{
    return n && n->kind != STDBP_YAML_SCALAR && i < n->n ? n->items[i] : NULL;
}

const stdbp_yaml_node *stdbp_yaml_key_node(const stdbp_yaml_node *n, size_t i)
{
    return n && n->kind == STDBP_YAML_MAP && i < n->n ? n->keys[i] : NULL;
}

const char *stdbp_yaml_key(const stdbp_yaml_node *n, size_t i)
{
    const stdbp_yaml_node *k = stdbp_yaml_key_node(n, i);
    return k ? k->text : NULL;
}

const stdbp_yaml_node *stdbp_yaml_get(const stdbp_yaml_node *n, const char *key)
{
    size_t i, len = strlen(key);
    if (!n || n->kind != STDBP_YAML_MAP)
        return NULL;
    for (i = 0; i < n->n; i++)
        if (n->keys[i]->len == len && memcmp(n->keys[i]->text, key, len) == 0)
            return n->items[i];
    return NULL;
}

const char *stdbp_yaml_text(const stdbp_yaml_node *n, size_t *len)
{
    if (!n || n->kind != STDBP_YAML_SCALAR)
        return NULL;
    if (len)
        *len = n->len;
    return n->text;
}

int stdbp_yaml_is_plain(const stdbp_yaml_node *n)
{
    return n && n->kind == STDBP_YAML_SCALAR && n->plain;
}

int stdbp_yaml_is_null(const stdbp_yaml_node *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    size_t i;
    if (!stdbp_yaml_is_plain(n))
        return 0;
    for (i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(n->text, nulls[i]) == 0)
            return 1;
    return 0;
}

/* ---- typed getters ---------------------------------------------------- */

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* Common refusals: a map or list, or nothing, where a scalar is needed. */
static stdbp_status need_scalar(const stdbp_yaml_node *n, const char *expected, stdbp_err *err)
{
    char got[64];
    if (n->kind != STDBP_YAML_SCALAR || stdbp_yaml_is_null(n))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected %s, got %s", expected,
                                stdbp_yaml_describe(n, got, sizeof got));
    return STDBP_OK;
}

/* Past an optional sign. */
static const char *skip_sign(const char *s)
{
    return *s == '-' || *s == '+' ? s + 1 : s;
}

/* Past a run of digits; *count (optional) grows by their number. */
static const char *skip_digits(const char *s, int *count)
{
    const char *start = s;
    while (isdigit((unsigned char)*s))
        s++;
    if (count)
        *count += (int)(s - start);
    return s;
}

/* [-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)? */
static int is_decimal_number(const char *s)
{
    int digits = 0;
    s = skip_digits(skip_sign(s), &digits);
    if (*s == '.')
        s = skip_digits(s + 1, &digits);
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        const char *e = skip_sign(s + 1);
        if ((s = skip_digits(e, NULL)) == e)
            return 0;
    }
    return *s == '\0';
}

/* [-+]?[0-9]+ */
static int is_decimal_integer(const char *s)
{
    const char *d = skip_sign(s), *end = skip_digits(d, NULL);
    return end > d && *end == '\0';
}

static int infinity_sign(const char *s)
{
    static const char *const infs[] = {"inf",  ".inf",     "Inf",      ".Inf",     "INF",
                                       ".INF", "infinity", "Infinity", "INFINITY", NULL};
    int sign = 1;
    if (*s == '-' || *s == '+')
        sign = *s++ == '-' ? -1 : 1;
    return one_of(s, infs) ? sign : 0;
}

static int is_nan_text(const char *s)
{
    static const char *const nans[] = {"nan", ".nan", "NaN", ".NaN", "NAN", ".NAN", NULL};
    return one_of(s, nans);
}

stdbp_status stdbp_yaml_get_double(const stdbp_yaml_node *n, int allow_inf, double *out,
                                   stdbp_err *err)
{
    char got[64];
    int inf;
    double v;
    stdbp_status st = need_scalar(n, "a number", err);
    if (st)
        return st;
    inf = n->len == strlen(n->text) ? infinity_sign(n->text) : 0;
    if (inf) {
        if (!allow_inf)
            return stdbp_yaml_error(n, err, STDBP_ECONFIG, "must be finite, got %s", n->text);
        *out = inf * (double)INFINITY;
        return STDBP_OK;
    }
    if (!n->plain)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected a number, got the quoted text %s (drop the quotes)",
                                stdbp_yaml_describe(n, got, sizeof got));
    if (is_nan_text(n->text))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "NaN is not allowed");
    if (!is_decimal_number(n->text))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected a number, got %s",
                                stdbp_yaml_describe(n, got, sizeof got));
    errno = 0;
    v = strtod(n->text, NULL);
    if (errno == ERANGE && isinf(v))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "number too large: %s",
                                stdbp_yaml_describe(n, got, sizeof got));
    if (errno == ERANGE && v == 0)
        v = 0; /* underflow to zero is fine: the value is that small */
    *out = v;
    return STDBP_OK;
}

/* A plain decimal integer (its range aside); got receives the value as
 * messages show it. */
static stdbp_status need_integer(const stdbp_yaml_node *n, char *got, size_t size, stdbp_err *err)
{
    stdbp_status st = need_scalar(n, "an integer", err);
    if (st)
        return st;
    stdbp_yaml_describe(n, got, size);
    if (!n->plain)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected an integer, got the quoted text %s (drop the quotes)",
                                got);
    if (!is_decimal_integer(n->text))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected an integer, got %s", got);
    return STDBP_OK;
}

stdbp_status stdbp_yaml_get_long(const stdbp_yaml_node *n, long *out, stdbp_err *err)
{
    char got[64];
    long v;
    stdbp_status st = need_integer(n, got, sizeof got, err);
    if (st)
        return st;
    errno = 0;
    v = strtol(n->text, NULL, 10);
    if (errno == ERANGE)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "integer out of range: %s", got);
    *out = v;
    return STDBP_OK;
}

stdbp_status stdbp_yaml_get_u64(const stdbp_yaml_node *n, uint64_t *out, stdbp_err *err)
{
    char got[64];
    unsigned long long v;
    stdbp_status st = need_integer(n, got, sizeof got, err);
    if (st)
        return st;
    if (n->text[0] == '-')
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "must be >= 0, got %s", n->text);
    errno = 0;
    v = strtoull(n->text, NULL, 10);
    if (errno == ERANGE)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "integer out of range (>= 2^64): %s", got);
    *out = (uint64_t)v;
    return STDBP_OK;
}

stdbp_status stdbp_yaml_get_bool(const stdbp_yaml_node *n, int *out, stdbp_err *err)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   "1",   NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
                                     "off",   "Off",   "OFF",   "0",  NULL};
    char got[64];
    stdbp_status st = need_scalar(n, "true or false", err);
    if (st)
        return st;
    if (n->plain && one_of(n->text, yes)) {
        *out = 1;
        return STDBP_OK;
    }
    if (n->plain && one_of(n->text, no)) {
        *out = 0;
        return STDBP_OK;
    }
    return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected true or false, got %s%s",
                            stdbp_yaml_describe(n, got, sizeof got),
                            n->plain ? "" : " (quoted text)");
}

stdbp_status stdbp_yaml_get_string(const stdbp_yaml_node *n, char *buf, size_t size, stdbp_err *err)
{
    char got[64];
    if (n->kind != STDBP_YAML_SCALAR)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected text, got %s",
                                stdbp_yaml_describe(n, got, sizeof got));
    if (stdbp_yaml_is_null(n)) {
        if (size)
            buf[0] = '\0';
        return STDBP_OK;
    }
    if (strlen(n->text) != n->len)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "text contains a NUL character");
    if (n->len >= size)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "text longer than %zu bytes", size - 1);
    memcpy(buf, n->text, n->len + 1);
    return STDBP_OK;
}

stdbp_status stdbp_yaml_get_enum(const stdbp_yaml_node *n, const char *const *names, int *out,
                                 stdbp_err *err)
{
    char list[256] = "", got[64];
    const char *hint;
    size_t i, count = 0, used;
    stdbp_status st;
    while (names[count])
        count++;
    for (i = 0; i < count; i++) {
        used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s",
                 i == 0 ? "" : (i + 1 == count ? " or " : ", "), names[i]);
    }
    st = need_scalar(n, list, err);
    if (st)
        return st;
    for (i = 0; i < count; i++)
        if (n->len == strlen(names[i]) && strcmp(n->text, names[i]) == 0) {
            *out = (int)i;
            return STDBP_OK;
        }
    hint = stdbp_yaml_suggest(n->text, names);
    if (hint)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected %s, got %s; did you mean '%s'?",
                                list, stdbp_yaml_describe(n, got, sizeof got), hint);
    return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected %s, got %s", list,
                            stdbp_yaml_describe(n, got, sizeof got));
}

/* ---- checks ----------------------------------------------------------- */

stdbp_status stdbp_yaml_need(const stdbp_yaml_node *n, const char *key, const stdbp_yaml_node **out,
                             stdbp_err *err)
{
    char got[64];
    *out = NULL;
    if (n->kind != STDBP_YAML_MAP)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected a map with '%s', got %s", key,
                                stdbp_yaml_describe(n, got, sizeof got));
    *out = stdbp_yaml_get(n, key);
    if (!*out)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "missing required key '%s'", key);
    return STDBP_OK;
}

stdbp_status stdbp_yaml_check_keys(const stdbp_yaml_node *n, const char *const *allowed,
                                   stdbp_err *err)
{
    size_t i;
    if (n->kind != STDBP_YAML_MAP)
        return STDBP_OK;
    for (i = 0; i < n->n; i++) {
        const stdbp_yaml_node *k = n->keys[i];
        const char *hint;
        if (strlen(k->text) == k->len && one_of(k->text, allowed))
            continue;
        hint = stdbp_yaml_suggest(k->text, allowed);
        if (hint)
            return stdbp_yaml_error(k, err, STDBP_ECONFIG, "unknown key; did you mean '%s'?", hint);
        return stdbp_yaml_error(k, err, STDBP_ECONFIG, "unknown key");
    }
    return STDBP_OK;
}
