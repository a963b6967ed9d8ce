/* A YAML document tree with line:column marks; see yaml_doc.h. */
#include "util/yaml_doc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/strbuf.h"

struct stdbp_yaml_node {
    stdbp_yaml_kind kind;
    int line, col;           /* 1-based */
    int plain;               /* scalar: plain style and no tag */
    int is_key;              /* a map's key node */
    char *text;              /* scalar: NUL-terminated copy */
    size_t len;              /* scalar: bytes in text */
    size_t n, cap;           /* map entries or sequence items */
    stdbp_yaml_node **items; /* sequence items or map values */
    stdbp_yaml_node **keys;  /* map keys (scalar nodes) */
    const stdbp_yaml_node *parent;
    size_t index; /* position in parent */
    const stdbp_yaml_doc *doc;
};

struct stdbp_yaml_doc {
    char *name;      /* file name or command-line context */
    char *root_path; /* key path of the root ("" for files) */
    int marks;       /* 1: messages carry line:column */
    stdbp_yaml_node *root;
};

/* ---- nodes ------------------------------------------------------------ */

static void node_free(stdbp_yaml_node *n)
{
    size_t i;
    if (!n)
        return;
    for (i = 0; i < n->n; i++) {
        if (n->keys)
            node_free(n->keys[i]);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->text);
    free(n);
}

static stdbp_yaml_node *node_new(const stdbp_yaml_doc *doc, stdbp_yaml_kind kind, yaml_mark_t mark)
{
    stdbp_yaml_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = (int)(mark.line < 1000000000 ? mark.line + 1 : 1000000000);
    n->col = (int)(mark.column < 1000000000 ? mark.column + 1 : 1000000000);
    n->doc = doc;
    return n;
}

/* Append child to a sequence (key == NULL) or a map entry (key, value). */
static int node_append(stdbp_yaml_node *p, stdbp_yaml_node *key, stdbp_yaml_node *value)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        stdbp_yaml_node **items = realloc(p->items, cap * sizeof *items);
        if (!items)
            return -1;
        p->items = items;
        if (p->kind == STDBP_YAML_MAP) {
            stdbp_yaml_node **keys = realloc(p->keys, cap * sizeof *keys);
            if (!keys)
                return -1;
            p->keys = keys;
        }
        p->cap = cap;
    }
    if (key) {
        p->keys[p->n] = key;
        key->parent = p;
        key->index = p->n;
        key->is_key = 1;
    }
    p->items[p->n] = value;
    value->parent = p;
    value->index = p->n;
    p->n++;
    return 0;
}

/* ---- messages --------------------------------------------------------- */

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

/* ---- loading ---------------------------------------------------------- */

/* 1-based line and column of byte offset off in text (columns count
 * UTF-8 characters, as libyaml's marks do). */
static void offset_mark(const char *text, size_t len, size_t off, int *line, int *col)
{
    size_t i;
    *line = 1;
    *col = 1;
    for (i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            ++*col;
        }
    }
}

static stdbp_status parser_error(const stdbp_yaml_doc *doc, const yaml_parser_t *p,
                                 const char *text, size_t len, stdbp_err *err)
{
    char where[64], ctx[256] = "";
    int line, col;
    if (p->error == YAML_MEMORY_ERROR)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory parsing YAML", doc->name);
    if (p->error == YAML_READER_ERROR) {
        offset_mark(text, len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            snprintf(ctx, sizeof ctx, " (byte 0x%02x)", (unsigned)p->problem_value & 0xffu);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
        if (p->context)
            snprintf(ctx, sizeof ctx, " (%s that started at line %d, column %d)", p->context,
                     (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    }
    if (p->error == YAML_SCANNER_ERROR && p->problem_mark.index < len &&
        text[p->problem_mark.index] == '\t')
        snprintf(ctx, sizeof ctx, " (a tab: YAML indents with spaces only)");
    if (doc->marks) {
        snprintf(where, sizeof where, ":%d:%d", line, col);
    } else {
        /* A command-line value: mostly one line; past its last line is
         * "the end". */
        int lines = 1;
        size_t i;
        for (i = 0; i < len; i++)
            lines += text[i] == '\n';
        if (line > lines)
            snprintf(where, sizeof where, ": at the end of the value");
        else if (lines == 1)
            snprintf(where, sizeof where, ": at column %d of the value", col);
        else
            snprintf(where, sizeof where, ": at line %d, column %d of the value", line, col);
    }
    return stdbp_err_set(err, STDBP_ECONFIG, "%s%s: malformed YAML: %s%s", doc->name, where,
                         p->problem ? p->problem : "unknown problem", ctx);
}

static int key_cmp(const void *a, const void *b)
{
    const stdbp_yaml_node *x = *(stdbp_yaml_node *const *)a, *y = *(stdbp_yaml_node *const *)b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, m);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Fails at the first key (in file order) that repeats an earlier one. */
static stdbp_status check_duplicates(const stdbp_yaml_node *map, stdbp_err *err)
{
    stdbp_yaml_node **sorted;
    const stdbp_yaml_node *dup = NULL, *first = NULL;
    size_t i;
    if (map->n < 2)
        return STDBP_OK;
    sorted = malloc(map->n * sizeof *sorted);
    if (!sorted)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", map->doc->name);
    memcpy(sorted, map->keys, map->n * sizeof *sorted);
    qsort(sorted, map->n, sizeof *sorted, key_cmp);
    for (i = 1; i < map->n; i++) {
        const stdbp_yaml_node *a = sorted[i - 1], *b = sorted[i];
        if (a->len == b->len && memcmp(a->text, b->text, a->len) == 0 &&
            (!dup || b->index < dup->index)) {
            size_t j = i - 1;
            while (j > 0 && sorted[j - 1]->len == b->len &&
                   memcmp(sorted[j - 1]->text, b->text, b->len) == 0)
                j--;
            dup = b;
            first = sorted[j];
        }
    }
    free(sorted);
    if (dup)
        return stdbp_yaml_error(dup, err, STDBP_ECONFIG,
                                "duplicate key (first given at line %d, column %d)", first->line,
                                first->col);
    return STDBP_OK;
}

static stdbp_status doc_error_at(const stdbp_yaml_doc *doc, yaml_mark_t m, stdbp_err *err,
                                 const char *what)
{
    if (doc->marks)
        return stdbp_err_set(err, STDBP_ECONFIG, "%s:%d:%d: %s", doc->name, (int)m.line + 1,
                             (int)m.column + 1, what);
    return stdbp_err_set(err, STDBP_ECONFIG, "%s: %s", doc->name, what);
}

/* Parse text into doc->root from libyaml's events, with an explicit stack
 * of open containers (no recursion). */
static stdbp_status build(stdbp_yaml_doc *doc, const char *text, size_t len, stdbp_err *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    stdbp_yaml_node *stack[STDBP_YAML_MAX_DEPTH];
    stdbp_yaml_node *pending_key = NULL; /* a map key waiting for its value */
    size_t depth = 0;
    int docs = 0, done = 0, have_event = 0;
    stdbp_status st = STDBP_OK;

    if (!yaml_parser_initialize(&parser))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", doc->name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    while (!done) {
        stdbp_yaml_node *node = NULL;
        if (!yaml_parser_parse(&parser, &ev)) {
            st = parser_error(doc, &parser, text, len, err);
            goto fail;
        }
        have_event = 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                st = doc_error_at(doc, ev.start_mark, err,
                                  "a second YAML document ('---'): only one is allowed");
                goto fail;
            }
            break;
        case YAML_ALIAS_EVENT:
            st = doc_error_at(doc, ev.start_mark, err,
                              "YAML aliases (*name) are not supported: write the value out");
            goto fail;
        case YAML_SCALAR_EVENT:
            node = node_new(doc, STDBP_YAML_SCALAR, ev.start_mark);
            if (!node)
                goto nomem;
            node->text = malloc(ev.data.scalar.length + 1);
            if (!node->text) {
                node_free(node);
                goto nomem;
            }
            memcpy(node->text, ev.data.scalar.value, ev.data.scalar.length);
            node->text[ev.data.scalar.length] = '\0';
            node->len = ev.data.scalar.length;
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev.data.scalar.tag;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == STDBP_YAML_MAX_DEPTH) {
                char what[96];
                snprintf(what, sizeof what, "nested deeper than %d levels", STDBP_YAML_MAX_DEPTH);
                st = doc_error_at(doc, ev.start_mark, err, what);
                goto fail;
            }
            node = node_new(doc,
                            ev.type == YAML_SEQUENCE_START_EVENT ? STDBP_YAML_SEQ : STDBP_YAML_MAP,
                            ev.start_mark);
            if (!node)
                goto nomem;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            if (stack[depth]->kind == STDBP_YAML_MAP) {
                st = check_duplicates(stack[depth], err);
                if (st)
                    goto fail;
            }
            break;
        default:
            break;
        }
        if (node) {
            /* Attach the new node where it belongs. */
            stdbp_yaml_node *top = depth ? stack[depth - 1] : NULL;
            if (!top) {
                doc->root = node;
            } else if (top->kind == STDBP_YAML_SEQ) {
                if (node_append(top, NULL, node)) {
                    node_free(node);
                    goto nomem;
                }
            } else if (!pending_key) {
                if (node->kind != STDBP_YAML_SCALAR) {
                    st = doc_error_at(doc, ev.start_mark, err,
                                      "a map key must be plain text, not a map or list");
                    node_free(node);
                    goto fail;
                }
                pending_key = node;
                node = NULL;
            } else {
                if (node_append(top, pending_key, node)) {
                    node_free(node);
                    goto nomem;
                }
                pending_key = NULL;
            }
            if (node && node->kind != STDBP_YAML_SCALAR)
                stack[depth++] = node;
        }
        yaml_event_delete(&ev);
        have_event = 0;
    }
    yaml_parser_delete(&parser);
    return STDBP_OK;

nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory reading YAML", doc->name);
fail:
    node_free(pending_key);
    if (have_event)
        yaml_event_delete(&ev);
    yaml_parser_delete(&parser);
    return st;
}

static stdbp_status doc_load(const char *text, size_t len, const char *name, const char *root_path,
                             int marks, stdbp_yaml_doc **out, stdbp_err *err)
{
    stdbp_yaml_doc *doc;
    stdbp_status st;
    yaml_mark_t start = {0, 0, 0};
    *out = NULL;
    if (len > STDBP_YAML_MAX_BYTES)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "%s: larger than %u bytes: not a YAML "
                             "settings file?",
                             name, STDBP_YAML_MAX_BYTES);
    doc = calloc(1, sizeof *doc);
    if (!doc)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", name);
    doc->name = strdup(name);
    doc->root_path = strdup(root_path);
    doc->marks = marks;
    if (!doc->name || !doc->root_path) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    st = build(doc, text ? text : "", text ? len : 0, err);
    if (st)
        goto fail;
    if (!doc->root) {
        doc->root = node_new(doc, STDBP_YAML_SCALAR, start);
        if (!doc->root || !(doc->root->text = calloc(1, 1))) {
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", name);
            goto fail;
        }
        doc->root->plain = 1;
    }
    *out = doc;
    return STDBP_OK;
fail:
    stdbp_yaml_free(&doc);
    return st;
}

stdbp_status stdbp_yaml_load_string(const char *text, size_t len, const char *name,
                                    stdbp_yaml_doc **out, stdbp_err *err)
{
    return doc_load(text, len, name ? name : "<string>", "", 1, out, err);
}

stdbp_status stdbp_yaml_load_value(const char *text, size_t len, const char *context,
                                   const char *root_path, stdbp_yaml_doc **out, stdbp_err *err)
{
    return doc_load(text, len, context ? context : "<value>", root_path ? root_path : "", 0, out,
                    err);
}

stdbp_status stdbp_yaml_load_file(const char *path, stdbp_yaml_doc **out, stdbp_err *err)
{
    FILE *f;
    stdbp_strbuf text;
    size_t got;
    stdbp_status st = STDBP_OK;
    *out = NULL;
    f = fopen(path, "rb");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(errno));
    stdbp_strbuf_init(&text);
    do {
        if (text.len > STDBP_YAML_MAX_BYTES) {
            st = stdbp_err_set(err, STDBP_ECONFIG,
                               "%s: larger than %u bytes: not a YAML settings file?", path,
                               STDBP_YAML_MAX_BYTES);
            break;
        }
        if (stdbp_strbuf_reserve(&text, 8192, NULL)) {
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", path);
            break;
        }
        got = fread(text.s + text.len, 1, text.cap - text.len - 1, f);
        text.len += got;
    } while (got > 0);
    if (st == STDBP_OK && ferror(f))
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    if (st == STDBP_OK)
        st = stdbp_yaml_load_string(text.s, text.len, path, out, err);
    stdbp_strbuf_free(&text);
    return st;
}

void stdbp_yaml_free(stdbp_yaml_doc **doc)
{
    if (!doc || !*doc)
        return;
    node_free((*doc)->root);
    free((*doc)->name);
    free((*doc)->root_path);
    free(*doc);
    *doc = NULL;
}

const stdbp_yaml_node *stdbp_yaml_root(const stdbp_yaml_doc *doc)
{
    return doc ? doc->root : NULL;
}

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

/* [-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)? */
static int is_decimal_number(const char *s)
{
    int digits = 0;
    if (*s == '-' || *s == '+')
        s++;
    while (isdigit((unsigned char)*s))
        s++, digits++;
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s))
            s++, digits++;
    }
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

/* [-+]?[0-9]+ */
static int is_decimal_integer(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == '\0';
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

stdbp_status stdbp_yaml_get_long(const stdbp_yaml_node *n, long *out, stdbp_err *err)
{
    char got[64];
    long v;
    stdbp_status st = need_scalar(n, "an integer", err);
    if (st)
        return st;
    stdbp_yaml_describe(n, got, sizeof got);
    if (!n->plain)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected an integer, got the quoted text %s (drop the quotes)",
                                got);
    if (!is_decimal_integer(n->text))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected an integer, got %s", got);
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
    stdbp_status st = need_scalar(n, "an integer", err);
    if (st)
        return st;
    stdbp_yaml_describe(n, got, sizeof got);
    if (!n->plain)
        return stdbp_yaml_error(n, err, STDBP_ECONFIG,
                                "expected an integer, got the quoted text %s (drop the quotes)",
                                got);
    if (!is_decimal_integer(n->text))
        return stdbp_yaml_error(n, err, STDBP_ECONFIG, "expected an integer, got %s", got);
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
