/* A YAML document tree with line:column marks: parsing (libyaml events
 * into nodes) and the document's life; see yaml_doc.h. */
#include "util/yaml_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/fsutil.h"
#include "util/strbuf.h"

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

/* The containers open while building, innermost last, and a map key
 * that waits for its value. */
typedef struct builder {
    stdbp_yaml_doc *doc;
    stdbp_yaml_node *stack[STDBP_YAML_MAX_DEPTH];
    size_t depth;
    stdbp_yaml_node *pending_key;
} builder;

static stdbp_status out_of_memory(const builder *b, stdbp_err *err)
{
    return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory reading YAML", b->doc->name);
}

/* The node an event starts (NULL in *out for events that start none). */
static stdbp_status node_of_event(builder *b, const yaml_event_t *ev, stdbp_yaml_node **out,
                                  stdbp_err *err)
{
    stdbp_yaml_node *node;
    stdbp_yaml_kind kind = ev->type == YAML_SEQUENCE_START_EVENT  ? STDBP_YAML_SEQ
                           : ev->type == YAML_MAPPING_START_EVENT ? STDBP_YAML_MAP
                                                                  : STDBP_YAML_SCALAR;
    *out = NULL;
    if (kind != STDBP_YAML_SCALAR && b->depth == STDBP_YAML_MAX_DEPTH) {
        char what[96];
        snprintf(what, sizeof what, "nested deeper than %d levels", STDBP_YAML_MAX_DEPTH);
        return doc_error_at(b->doc, ev->start_mark, err, what);
    }
    if (!(node = node_new(b->doc, kind, ev->start_mark)))
        return out_of_memory(b, err);
    if (kind == STDBP_YAML_SCALAR) {
        node->text = malloc(ev->data.scalar.length + 1);
        if (!node->text) {
            node_free(node);
            return out_of_memory(b, err);
        }
        memcpy(node->text, ev->data.scalar.value, ev->data.scalar.length);
        node->text[ev->data.scalar.length] = '\0';
        node->len = ev->data.scalar.length;
        node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
    }
    *out = node;
    return STDBP_OK;
}

/* Attach a new node where it belongs (the root, a sequence's next item, a
 * map's next key or that key's value); takes node over, also on failure. */
static stdbp_status attach(builder *b, stdbp_yaml_node *node, yaml_mark_t mark, stdbp_err *err)
{
    stdbp_yaml_node *top = b->depth ? b->stack[b->depth - 1] : NULL;
    if (!top) {
        b->doc->root = node;
    } else if (top->kind == STDBP_YAML_SEQ) {
        if (node_append(top, NULL, node)) {
            node_free(node);
            return out_of_memory(b, err);
        }
    } else if (!b->pending_key) {
        if (node->kind != STDBP_YAML_SCALAR) {
            node_free(node);
            return doc_error_at(b->doc, mark, err,
                                "a map key must be plain text, not a map or list");
        }
        b->pending_key = node;
        return STDBP_OK;
    } else {
        if (node_append(top, b->pending_key, node)) {
            node_free(node);
            return out_of_memory(b, err);
        }
        b->pending_key = NULL;
    }
    if (node->kind != STDBP_YAML_SCALAR)
        b->stack[b->depth++] = node;
    return STDBP_OK;
}

/* One parser event; *done at the end of the stream. */
static stdbp_status on_event(builder *b, const yaml_event_t *ev, int *docs, int *done,
                             stdbp_err *err)
{
    stdbp_yaml_node *node = NULL;
    stdbp_status st;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return STDBP_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return doc_error_at(b->doc, ev->start_mark, err,
                                "a second YAML document ('---'): only one is allowed");
        return STDBP_OK;
    case YAML_ALIAS_EVENT:
        return doc_error_at(b->doc, ev->start_mark, err,
                            "YAML aliases (*name) are not supported: write the value out");
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if ((st = node_of_event(b, ev, &node, err)))
            return st;
        return attach(b, node, ev->start_mark, err);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        if (b->stack[b->depth]->kind == STDBP_YAML_MAP)
            return check_duplicates(b->stack[b->depth], err);
        return STDBP_OK;
    default:
        return STDBP_OK;
    }
}

/* Parse text into doc->root from libyaml's events, with an explicit stack
 * of open containers (no recursion). */
static stdbp_status build(stdbp_yaml_doc *doc, const char *text, size_t len, stdbp_err *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    builder b = {.doc = doc};
    int docs = 0, done = 0;
    stdbp_status st = STDBP_OK;

    if (!yaml_parser_initialize(&parser))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", doc->name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && st == STDBP_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            st = parser_error(doc, &parser, text, len, err);
            break;
        }
        st = on_event(&b, &ev, &docs, &done, err);
        yaml_event_delete(&ev);
    }
    node_free(b.pending_key);
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
    /* not fopen: a FIFO or device would block here (or never end) */
    if ((st = stdbp_fopen_regular(path, &f, err)) != STDBP_OK)
        return st;
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
