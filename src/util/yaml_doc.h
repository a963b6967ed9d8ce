/* A small read-only YAML document tree (libyaml underneath) whose every
 * node knows where it came from, so that a reader can say
 * "FILE:LINE:COL: key.path: what is wrong".
 *
 * Private to the library (not installed). Used by the run configuration
 * (src/config/config_*.c) and the accelerator profiles (configs/hw/NAME.yaml).
 *
 * A document is loaded whole: one YAML document of maps, sequences and
 * scalars. Refused at load time, with the position: malformed YAML
 * (libyaml's problem and mark), more than one document, aliases (*x),
 * non-scalar map keys, duplicate keys in a map, nesting deeper than
 * STDBP_YAML_MAX_DEPTH, input larger than STDBP_YAML_MAX_BYTES.
 *
 * Ownership: the document owns every node; node pointers stay valid until
 * stdbp_yaml_free. Nothing here is collective; nothing keeps global state.
 *
 *     stdbp_yaml_doc *doc = NULL;
 *     if (stdbp_yaml_load_file("configs/hw/x.yaml", &doc, err)) return ...;
 *     const stdbp_yaml_node *cores = stdbp_yaml_get(stdbp_yaml_root(doc), "cores");
 *     for (size_t i = 0; i < stdbp_yaml_len(cores); i++) {
 *         long n;
 *         if (stdbp_yaml_get_long(stdbp_yaml_item(cores, i), &n, err)) goto fail;
 *     }   // errors read "configs/hw/x.yaml:4:9: cores[1]: expected an integer, got 'x'"
 *     stdbp_yaml_free(&doc);
 */
#ifndef STDBP_UTIL_YAML_DOC_H
#define STDBP_UTIL_YAML_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/error.h"

#define STDBP_YAML_MAX_DEPTH 64
#define STDBP_YAML_MAX_BYTES (4u << 20)

typedef enum stdbp_yaml_kind {
    STDBP_YAML_SCALAR, /* includes null (an empty value, ~ or null) */
    STDBP_YAML_MAP,
    STDBP_YAML_SEQ
} stdbp_yaml_kind;

typedef struct stdbp_yaml_doc stdbp_yaml_doc;
typedef struct stdbp_yaml_node stdbp_yaml_node;

/* ---- loading ---------------------------------------------------------- */

/* Read and parse the file path; messages name it as given. */
stdbp_status stdbp_yaml_load_file(const char *path, stdbp_yaml_doc **out, stdbp_err *err) STDBP_WUR;
/* Parse len bytes of text (need not be NUL-terminated); name is used in
 * messages in place of a file name. */
stdbp_status stdbp_yaml_load_string(const char *text, size_t len, const char *name,
                                    stdbp_yaml_doc **out, stdbp_err *err) STDBP_WUR;
/* Parse a value given on a command line ("--set a.b=VALUE"): the root node
 * sits at key path root_path, and messages read "CONTEXT: PATH: what"
 * (no line:column; a YAML syntax error gives the column in the value). */
stdbp_status stdbp_yaml_load_value(const char *text, size_t len, const char *context,
                                   const char *root_path, stdbp_yaml_doc **out,
                                   stdbp_err *err) STDBP_WUR;
/* Free a document and every node; NULLs *doc; accepts NULL. */
void stdbp_yaml_free(stdbp_yaml_doc **doc);

/* The root node; never NULL (an empty document is a null scalar at 1:1). */
const stdbp_yaml_node *stdbp_yaml_root(const stdbp_yaml_doc *doc);

/* ---- navigation (none of these can fail; NULL nodes are allowed and
 * behave as absent) -------------------------------------------------- */

stdbp_yaml_kind stdbp_yaml_kind_of(const stdbp_yaml_node *n);
/* 1-based position of the node's first character. */
int stdbp_yaml_line(const stdbp_yaml_node *n);
int stdbp_yaml_column(const stdbp_yaml_node *n);
/* The key path from the root, "network.layers[2].kernel" ("" for the
 * root of a file), into buf (truncated to size); returns buf. A map key
 * node has the path of its entry. */
const char *stdbp_yaml_path(const stdbp_yaml_node *n, char *buf, size_t size);

/* Number of entries of a map or items of a sequence; 0 for a scalar. */
size_t stdbp_yaml_len(const stdbp_yaml_node *n);
/* Item i of a sequence, or the value of entry i of a map (file order). */
const stdbp_yaml_node *stdbp_yaml_item(const stdbp_yaml_node *n, size_t i);
/* Entry i of a map: its key text, and the key node (for its position). */
const char *stdbp_yaml_key(const stdbp_yaml_node *n, size_t i);
const stdbp_yaml_node *stdbp_yaml_key_node(const stdbp_yaml_node *n, size_t i);
/* Map lookup: the value of key, or NULL if n is not a map or lacks it. */
const stdbp_yaml_node *stdbp_yaml_get(const stdbp_yaml_node *n, const char *key);

/* A scalar's text (NUL-terminated; *len, if given, counts bytes and may
 * include NULs from "\0" escapes), or NULL for a map or sequence. */
const char *stdbp_yaml_text(const stdbp_yaml_node *n, size_t *len);
/* 1 for a plain (unquoted, untagged) scalar. */
int stdbp_yaml_is_plain(const stdbp_yaml_node *n);
/* 1 for a plain scalar that is empty, ~, null, Null or NULL. */
int stdbp_yaml_is_null(const stdbp_yaml_node *n);
/* "a map", "a list", "nothing (null)", or the scalar quoted and cut to
 * 40 characters, into buf; for messages ("got ..."); returns buf. */
const char *stdbp_yaml_describe(const stdbp_yaml_node *n, char *buf, size_t size);

/* ---- typed getters: on failure err reads
 * "FILE:LINE:COL: key.path: expected ..., got ..." (STDBP_ECONFIG) ----- */

/* A plain number (YAML 1.2 core: 12, -1.5, 1e-4, .5). With allow_inf, also
 * inf, .inf, +inf, -inf, -.inf, Inf, INF, infinity (plain or quoted);
 * without, "must be finite". NaN is always refused. */
stdbp_status stdbp_yaml_get_double(const stdbp_yaml_node *n, int allow_inf, double *out,
                                   stdbp_err *err) STDBP_WUR;
/* A plain decimal integer that fits a long. */
stdbp_status stdbp_yaml_get_long(const stdbp_yaml_node *n, long *out, stdbp_err *err) STDBP_WUR;
/* A plain decimal integer in [0, 2^64). */
stdbp_status stdbp_yaml_get_u64(const stdbp_yaml_node *n, uint64_t *out, stdbp_err *err) STDBP_WUR;
/* true/false, yes/no, on/off (lower, Capitalised or UPPER case), 1/0. */
stdbp_status stdbp_yaml_get_bool(const stdbp_yaml_node *n, int *out, stdbp_err *err) STDBP_WUR;
/* Any scalar as text (a null gives ""), into buf of size bytes; refuses
 * maps, sequences, embedded NULs and text that does not fit. */
stdbp_status stdbp_yaml_get_string(const stdbp_yaml_node *n, char *buf, size_t size,
                                   stdbp_err *err) STDBP_WUR;
/* One of names (NULL-terminated list), exact match; *out is its index.
 * The message lists the choices and suggests the closest. */
stdbp_status stdbp_yaml_get_enum(const stdbp_yaml_node *n, const char *const *names, int *out,
                                 stdbp_err *err) STDBP_WUR;

/* ---- checks and messages -------------------------------------------- */

/* The value of key in map n; if absent, fails with "PATH: missing
 * required key 'key'" at the map. Also fails if n is not a map. */
stdbp_status stdbp_yaml_need(const stdbp_yaml_node *n, const char *key, const stdbp_yaml_node **out,
                             stdbp_err *err) STDBP_WUR;
/* Fails, at the first offending key, unless map n uses only keys from
 * allowed (NULL-terminated): "PATH.k: unknown key; did you mean 'x'?" */
stdbp_status stdbp_yaml_check_keys(const stdbp_yaml_node *n, const char *const *allowed,
                                   stdbp_err *err) STDBP_WUR;
/* Record "FILE:LINE:COL: PATH: " + the formatted text in err; returns code. */
stdbp_status stdbp_yaml_error(const stdbp_yaml_node *n, stdbp_err *err, stdbp_status code,
                              const char *fmt, ...) STDBP_PRINTF(4, 5);
/* The candidate closest to word by edit distance (transpositions count
 * once, case ignored) if it is close enough to be a likely typo, else
 * NULL. candidates is NULL-terminated. Cannot fail. */
const char *stdbp_yaml_suggest(const char *word, const char *const *candidates);
/* The edit distance itself (optimal string alignment, case ignored);
 * strings longer than 64 bytes count as far apart. Cannot fail. */
int stdbp_yaml_edit_distance(const char *a, const char *b);

#endif
