/* Messages about a YAML document: key paths, "FILE:LINE:COL: path: what"
 * errors, short descriptions of values and did-you-mean suggestions; see
 * yaml_doc.h. */
#include "util/yaml_impl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *stdbp_yaml_path(const stdbp_yaml_node *n, char *buf, size_t size)
{
    const stdbp_yaml_node *chain[STDBP_YAML_MAX_DEPTH + 2];
    size_t depth = 0, used, i;
    if (!size)
        return buf;
    buf[0] = '\0';
    if (!n)
        return buf;
    snprintf(buf, size, "%s", n->doc->root_path);
    for (; n->parent && depth < sizeof chain / sizeof chain[0]; n = n->parent)
        chain[depth++] = n;
    for (i = depth; i-- > 0;) {
        const stdbp_yaml_node *c = chain[i];
        used = strlen(buf);
        if (used + 1 >= size)
            break;
        if (c->parent->kind == STDBP_YAML_SEQ)
            snprintf(buf + used, size - used, "[%zu]", c->index);
        else
            snprintf(buf + used, size - used, "%s%s", used ? "." : "",
                     c->parent->keys[c->index]->text);
    }
    return buf;
}

static stdbp_status verror(const stdbp_yaml_node *n, stdbp_err *err, stdbp_status code,
                           const char *fmt, va_list ap)
{
    char path[256], what[768];
    vsnprintf(what, sizeof what, fmt, ap);
    stdbp_yaml_path(n, path, sizeof path);
    if (n->doc->marks)
        return stdbp_err_set(err, code, "%s:%d:%d: %s%s%s", n->doc->name, n->line, n->col, path,
                             path[0] ? ": " : "", what);
    return stdbp_err_set(err, code, "%s: %s%s%s", n->doc->name, path, path[0] ? ": " : "", what);
}

stdbp_status stdbp_yaml_error(const stdbp_yaml_node *n, stdbp_err *err, stdbp_status code,
                              const char *fmt, ...)
{
    va_list ap;
    stdbp_status st;
    va_start(ap, fmt);
    st = verror(n, err, code, fmt, ap);
    va_end(ap);
    return st;
}

const char *stdbp_yaml_describe(const stdbp_yaml_node *n, char *buf, size_t size)
{
    size_t i, o = 0, cut = 40;
    if (!size)
        return buf;
    if (!n)
        snprintf(buf, size, "nothing");
    else if (n->kind == STDBP_YAML_MAP)
        snprintf(buf, size, "a map");
    else if (n->kind == STDBP_YAML_SEQ)
        snprintf(buf, size, "a list");
    else if (stdbp_yaml_is_null(n))
        snprintf(buf, size, "nothing (null)");
    else {
        /* 'text' with control bytes shown as '?', cut to 40 characters. */
        if (size < 8) {
            buf[0] = '\0';
            return buf;
        }
        buf[o++] = '\'';
        for (i = 0; i < n->len && i < cut && o + 5 < size; i++) {
            unsigned char c = (unsigned char)n->text[i];
            buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
        if (i < n->len && o + 5 < size) {
            memcpy(buf + o, "...", 3);
            o += 3;
        }
        buf[o++] = '\'';
        buf[o] = '\0';
    }
    return buf;
}

/* ---- suggestions ------------------------------------------------------ */

#define EDIT_MAX 64

int stdbp_yaml_edit_distance(const char *a, const char *b)
{
    int d[EDIT_MAX + 1][EDIT_MAX + 1];
    size_t la = strlen(a), lb = strlen(b), i, j;
    if (la > EDIT_MAX || lb > EDIT_MAX)
        return 1000;
    for (i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb, best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *stdbp_yaml_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    int best_d = 1000;
    for (; *candidates; candidates++) {
        int d = stdbp_yaml_edit_distance(word, *candidates);
        size_t len = strlen(*candidates);
        /* Close enough to be a typo: 1 edit for short words, then one
         * more per 4 characters, at most 3. */
        int limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;
        if (d <= limit && d < best_d) {
            best = *candidates;
            best_d = d;
        }
    }
    return best;
}
