/* Private to src/util/yaml_*.c: the node and document of the YAML
 * document tree (util/yaml_doc.h), shared by the parser (yaml_doc.c), the
 * lookups and typed getters (yaml_get.c) and the messages (yaml_msg.c). */
#ifndef STDBP_UTIL_YAML_IMPL_H
#define STDBP_UTIL_YAML_IMPL_H

#include "util/yaml_doc.h"

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

#endif
