/* The YAML document tree: structure, marks, paths, typed getters and
 * their messages, and what the loader refuses. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/yaml_doc.h"
#include "tap/basic.h"

static stdbp_yaml_doc *load(const char *text, stdbp_err *err)
{
    stdbp_yaml_doc *doc = NULL;
    stdbp_err_clear(err);
    if (stdbp_yaml_load_string(text, strlen(text), "t.yaml", &doc, err) != STDBP_OK)
        return NULL;
    return doc;
}

/* Load text and return the loader's message ("" if it loaded). */
static const char *load_error(const char *text, stdbp_err *err)
{
    stdbp_yaml_doc *doc = load(text, err);
    if (doc) {
        stdbp_yaml_free(&doc);
        return "";
    }
    return err->msg;
}

static void test_tree(void)
{
    static const char text[] = "a:\n"
                               "  b: [1, 2, {c: x}]\n"
                               "  d: \"quoted\"\n"
                               "e: 3\n";
    stdbp_err err;
    stdbp_yaml_doc *doc = load(text, &err);
    const stdbp_yaml_node *root, *a, *b, *x;
    char path[64];
    long v;
    ok(doc != NULL, "a small document loads");
    if (!doc) {
        diag("%s", err.msg);
        return;
    }
    root = stdbp_yaml_root(doc);
    is_int(STDBP_YAML_MAP, stdbp_yaml_kind_of(root), "the root is a map");
    is_int(2, (long long)stdbp_yaml_len(root), "with two entries");
    is_string("a", stdbp_yaml_key(root, 0), "keys in file order (0)");
    is_string("e", stdbp_yaml_key(root, 1), "keys in file order (1)");
    a = stdbp_yaml_get(root, "a");
    b = stdbp_yaml_get(a, "b");
    is_int(STDBP_YAML_SEQ, stdbp_yaml_kind_of(b), "a.b is a sequence");
    is_int(3, (long long)stdbp_yaml_len(b), "of three items");
    x = stdbp_yaml_get(stdbp_yaml_item(b, 2), "c");
    is_string("x", stdbp_yaml_text(x, NULL), "a.b[2].c is x");
    is_string("a.b[2].c", stdbp_yaml_path(x, path, sizeof path), "its path");
    is_int(2, stdbp_yaml_line(x), "its line");
    is_int(17, stdbp_yaml_column(x), "its column");
    is_int(4, stdbp_yaml_line(stdbp_yaml_key_node(root, 1)), "a key node has its own line");
    is_string("e", stdbp_yaml_path(stdbp_yaml_key_node(root, 1), path, sizeof path),
              "and the path of its entry");
    ok(stdbp_yaml_get(root, "zz") == NULL && stdbp_yaml_get(b, "c") == NULL,
       "lookups of absent keys and in non-maps give NULL");
    ok(stdbp_yaml_item(b, 3) == NULL && stdbp_yaml_len(x) == 0, "out of range items give NULL");
    ok(stdbp_yaml_is_plain(x) && !stdbp_yaml_is_plain(stdbp_yaml_get(a, "d")),
       "plain and quoted scalars are told apart");
    ok(stdbp_yaml_get_long(stdbp_yaml_get(root, "e"), &v, &err) == STDBP_OK && v == 3,
       "get_long reads 3");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_long(x, &v, &err), "get_long refuses text");
    is_string("t.yaml:2:17: a.b[2].c: expected an integer, got 'x'", err.msg,
              "with FILE:LINE:COL: path: what");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(stdbp_yaml_get(a, "d"), 0, &(double){0}, &err),
           "get_double refuses quoted text");
    is_string("t.yaml:3:6: a.d: expected a number, got the quoted text 'quoted' (drop the "
              "quotes)",
              err.msg, "and says to drop the quotes");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(b, 0, &(double){0}, &err),
           "get_double refuses a list");
    is_string("t.yaml:2:6: a.b: expected a number, got a list", err.msg, "naming what it got");
    stdbp_yaml_free(&doc);
    ok(doc == NULL, "free NULLs the handle");
    stdbp_yaml_free(&doc);
    stdbp_yaml_free(NULL);
}

static void test_scalars(void)
{
    static const char text[] = "d1: 1e-4\n"
                               "d2: .inf\n"
                               "d3: -inf\n"
                               "d4: \"inf\"\n"
                               "d5: .nan\n"
                               "d6: 1e999\n"
                               "d7: 0x10\n"
                               "i1: -42\n"
                               "i2: 99999999999999999999\n"
                               "u1: 18446744073709551615\n"
                               "u2: -1\n"
                               "u3: 18446744073709551616\n"
                               "b1: yes\n"
                               "b2: Off\n"
                               "b3: maybe\n"
                               "s1: hello world\n"
                               "s2: ~\n"
                               "s3: \"a\\0b\"\n"
                               "s4: abcdefghij\n"
                               "e1: sgd\n"
                               "e2: adamw\n"
                               "n1:\n";
    static const char *const kinds[] = {"adam", "sgd", NULL};
    stdbp_err err;
    stdbp_yaml_doc *doc = load(text, &err);
    const stdbp_yaml_node *r;
    double d;
    long l;
    uint64_t u;
    int b, e;
    char s[8];
    if (!doc)
        bail("scalars: %s", err.msg);
    r = stdbp_yaml_root(doc);
#define G(k) stdbp_yaml_get(r, k)
    ok(stdbp_yaml_get_double(G("d1"), 0, &d, &err) == STDBP_OK && d == 1e-4, "1e-4");
    ok(stdbp_yaml_get_double(G("d2"), 1, &d, &err) == STDBP_OK && isinf(d) && d > 0, ".inf");
    ok(stdbp_yaml_get_double(G("d3"), 1, &d, &err) == STDBP_OK && isinf(d) && d < 0, "-inf");
    ok(stdbp_yaml_get_double(G("d4"), 1, &d, &err) == STDBP_OK && isinf(d), "quoted \"inf\"");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(G("d2"), 0, &d, &err), "inf where not allowed");
    is_string("t.yaml:2:5: d2: must be finite, got .inf", err.msg, "says finite");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(G("d5"), 1, &d, &err), ".nan refused");
    contains(err.msg, "d5: NaN is not allowed", "NaN message");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(G("d6"), 1, &d, &err), "1e999 refused");
    contains(err.msg, "t.yaml:6:5: d6: number too large: '1e999'", "overflow message");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(G("d7"), 1, &d, &err), "hex refused");
    ok(stdbp_yaml_get_long(G("i1"), &l, &err) == STDBP_OK && l == -42, "-42");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_long(G("i2"), &l, &err), "long overflow refused");
    contains(err.msg, "i2: integer out of range", "overflow message");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_long(G("d1"), &l, &err), "1e-4 is not an integer");
    ok(stdbp_yaml_get_u64(G("u1"), &u, &err) == STDBP_OK && u == UINT64_MAX, "2^64-1");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_u64(G("u2"), &u, &err), "negative u64 refused");
    is_string("t.yaml:11:5: u2: must be >= 0, got -1", err.msg, "u64 sign message");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_u64(G("u3"), &u, &err), "2^64 refused");
    ok(stdbp_yaml_get_bool(G("b1"), &b, &err) == STDBP_OK && b == 1, "yes");
    ok(stdbp_yaml_get_bool(G("b2"), &b, &err) == STDBP_OK && b == 0, "Off");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_bool(G("b3"), &b, &err), "maybe is not a bool");
    is_string("t.yaml:15:5: b3: expected true or false, got 'maybe'", err.msg, "bool message");
    {
        char big[32];
        ok(stdbp_yaml_get_string(G("s1"), big, sizeof big, &err) == STDBP_OK &&
               strcmp(big, "hello world") == 0,
           "text");
        ok(stdbp_yaml_get_string(G("s2"), big, sizeof big, &err) == STDBP_OK && big[0] == 0,
           "null text is empty");
        is_int(STDBP_ECONFIG, stdbp_yaml_get_string(G("s3"), big, sizeof big, &err),
               "embedded NUL refused");
    }
    is_int(STDBP_ECONFIG, stdbp_yaml_get_string(G("s4"), s, sizeof s, &err), "too long refused");
    is_string("t.yaml:19:5: s4: text longer than 7 bytes", err.msg, "length message");
    ok(stdbp_yaml_get_enum(G("e1"), kinds, &e, &err) == STDBP_OK && e == 1, "enum sgd");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_enum(G("e2"), kinds, &e, &err), "adamw refused");
    is_string("t.yaml:21:5: e2: expected adam or sgd, got 'adamw'; did you mean 'adam'?", err.msg,
              "enum message with a suggestion");
    ok(stdbp_yaml_is_null(G("n1")) && stdbp_yaml_is_null(G("s2")), "empty and ~ are null");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_double(G("n1"), 1, &d, &err), "null is not a number");
    is_string("t.yaml:22:4: n1: expected a number, got nothing (null)", err.msg, "null message");
#undef G
    stdbp_yaml_free(&doc);
}

static void test_refusals(void)
{
    stdbp_err err;
    is_string("t.yaml:3:1: b: duplicate key (first given at line 1, column 1)",
              load_error("b: 1\nc: 2\nb: 3\n", &err), "duplicate keys");
    is_string("t.yaml:2:10: x.b: duplicate key (first given at line 2, column 4)",
              load_error("x:\n  {b: 1, b: 2}\n", &err), "duplicate keys in a flow map");
    contains(load_error("a: [1, 2\n", &err),
             "t.yaml:2:1: malformed YAML:", "unclosed flow sequence");
    contains(load_error("a: b: c\n", &err), "t.yaml:1:5: malformed YAML: mapping values",
             "mapping values not allowed");
    contains(load_error("a:\n  - 1\n - 2\n", &err), "t.yaml:3:2: malformed YAML",
             "bad indentation");
    contains(load_error("a: \"open\n", &err), "malformed YAML: found unexpected end of stream",
             "unterminated quote");
    is_string("t.yaml:2:4: YAML aliases (*name) are not supported: write the value out",
              load_error("a: &x 1\nb: *x\n", &err), "aliases");
    is_string("t.yaml:2:1: a second YAML document ('---'): only one is allowed",
              load_error("a: 1\n---\nb: 2\n", &err), "two documents");
    is_string("t.yaml:1:3: a map key must be plain text, not a map or list",
              load_error("? [a, b]\n: 1\n", &err), "complex keys");
    contains(load_error("a: \"\xff\"\n", &err), "t.yaml:1:5: malformed YAML: invalid",
             "invalid UTF-8 with its position");
    {
        char deep[200];
        memset(deep, '[', 70);
        memset(deep + 70, ']', 70);
        deep[140] = '\0';
        contains(load_error(deep, &err), "t.yaml:1:65: nested deeper than 64 levels",
                 "nesting limit");
    }
    {
        stdbp_yaml_doc *doc = load("", &err);
        ok(doc && stdbp_yaml_is_null(stdbp_yaml_root(doc)), "an empty document is a null root");
        stdbp_yaml_free(&doc);
        doc = load("# only a comment\n", &err);
        ok(doc && stdbp_yaml_line(stdbp_yaml_root(doc)) == 1, "so is a comment, at 1:1");
        stdbp_yaml_free(&doc);
    }
}

static void test_value_and_files(void)
{
    stdbp_err err;
    stdbp_yaml_doc *doc = NULL;
    const stdbp_yaml_node *n;
    char path[512], got[64];
    FILE *f;
    long v;
    ok(stdbp_yaml_load_value("[{type: dense, out: x}]", 23, "--set network.layers=...",
                             "network.layers", &doc, &err) == STDBP_OK,
       "a flow value loads");
    n = stdbp_yaml_get(stdbp_yaml_item(stdbp_yaml_root(doc), 0), "out");
    is_string("network.layers[0].out", stdbp_yaml_path(n, path, sizeof path),
              "its paths start at the root path");
    is_int(STDBP_ECONFIG, stdbp_yaml_get_long(n, &v, &err), "getters work on it");
    is_string("--set network.layers=...: network.layers[0].out: expected an integer, got 'x'",
              err.msg, "messages carry the context, not line:column");
    stdbp_yaml_free(&doc);
    is_int(STDBP_ECONFIG, stdbp_yaml_load_value("[1, 2", 5, "--set a=[1, 2", "a", &doc, &err),
           "a malformed value fails");
    contains(err.msg, "--set a=[1, 2: at the end of the value: malformed YAML",
             "saying where in the value");
    is_int(STDBP_ECONFIG, stdbp_yaml_load_value("{a: 1}}", 7, "--set x={a: 1}}", "x", &doc, &err),
           "a stray brace fails");
    contains(err.msg, "--set x={a: 1}}: at column 7 of the value: malformed YAML",
             "with its column in the value");

    snprintf(path, sizeof path, "%s/t.yaml", test_tmpdir());
    f = fopen(path, "w");
    if (!f)
        bail("cannot write %s", path);
    fputs("cores:\n  - 4\n  - x\n", f);
    fclose(f);
    ok(stdbp_yaml_load_file(path, &doc, &err) == STDBP_OK, "a file loads");
    n = stdbp_yaml_item(stdbp_yaml_get(stdbp_yaml_root(doc), "cores"), 1);
    is_int(STDBP_ECONFIG, stdbp_yaml_get_long(n, &v, &err), "an error in a file");
    snprintf(got, sizeof got, ":3:5: cores[1]: expected an integer, got 'x'");
    contains(err.msg, got, "names the file, line and column");
    ok(strncmp(err.msg, path, strlen(path)) == 0, "starting with the path");
    stdbp_yaml_free(&doc);
    is_int(STDBP_EIO, stdbp_yaml_load_file("/nonexistent/x.yaml", &doc, &err),
           "a missing file is EIO");
    contains(err.msg, "/nonexistent/x.yaml: cannot open", "naming it");
    ok(doc == NULL, "and leaves no document");
}

static void test_checks(void)
{
    static const char *const allowed[] = {"name", "cores", "energy", NULL};
    stdbp_err err;
    stdbp_yaml_doc *doc = load("chip:\n  name: x\n  corse: 4\n", &err);
    const stdbp_yaml_node *chip = stdbp_yaml_get(stdbp_yaml_root(doc), "chip"), *n;
    char got[64];
    is_int(STDBP_ECONFIG, stdbp_yaml_check_keys(chip, allowed, &err), "check_keys finds corse");
    is_string("t.yaml:3:3: chip.corse: unknown key; did you mean 'cores'?", err.msg,
              "with a suggestion");
    is_int(STDBP_ECONFIG, stdbp_yaml_need(chip, "energy", &n, &err), "need finds a missing key");
    is_string("t.yaml:2:3: chip: missing required key 'energy'", err.msg, "at the map");
    ok(stdbp_yaml_need(chip, "name", &n, &err) == STDBP_OK && n, "need finds a present key");
    is_string("a map", stdbp_yaml_describe(chip, got, sizeof got), "describe a map");
    stdbp_yaml_free(&doc);

    {
        static const char *const keys[] = {"lr", "beta1", "theta", "optimizer", "kernel", NULL};
        is_string("lr", stdbp_yaml_suggest("lrr", keys), "lrr -> lr");
        is_string("theta", stdbp_yaml_suggest("tehta", keys), "transposition counts once");
        is_string("optimizer", stdbp_yaml_suggest("optimiser", keys), "optimiser -> optimizer");
        is_string("kernel", stdbp_yaml_suggest("KERNEL", keys), "case is ignored");
        ok(stdbp_yaml_suggest("xyz", keys) == NULL, "nothing close: no suggestion");
        is_int(3, stdbp_yaml_edit_distance("kitten", "sitting"), "edit distance");
    }
}

int main(void)
{
    plan(98);
    test_tree();
    test_scalars();
    test_refusals();
    test_value_and_files();
    test_checks();
    return 0;
}
