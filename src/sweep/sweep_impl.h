/* Private to src/sweep: what the sweep file's parts share (the loaded
 * sweep, where each override of a point came from, the YAML flow text of
 * values). Not installed. */
#ifndef STDBP_SWEEP_IMPL_H
#define STDBP_SWEEP_IMPL_H

#include "stdbp/sweep.h"
#include "util/yaml_doc.h"

typedef enum sweep_param_kind { P_GRID, P_UNIFORM, P_LOGUNIFORM, P_CHOICE } sweep_param_kind;

typedef struct sweep_param {
    const char *key; /* "optimizer.lr" (text owned by the doc) */
    const stdbp_yaml_node *key_node;
    const stdbp_yaml_node *node; /* the list, or the {dist: ...} map */
    sweep_param_kind kind;
    size_t n;                      /* grid, choice: number of values */
    const stdbp_yaml_node *values; /* grid, choice: the list of values */
    char **flow;                   /* grid, choice: each value as flow YAML */
    double low, high;              /* uniform, loguniform */
    int integer;                   /* uniform, loguniform: round to integers */
    uint64_t hash;                 /* of key: the random stream */
} sweep_param;

struct stdbp_sweep {
    stdbp_yaml_doc *doc;
    char source[STDBP_CFG_STR];
    char name[128];
    char base[STDBP_CFG_STR];
    char dir[STDBP_CFG_STR]; /* DIR/NAME */
    const stdbp_yaml_node *base_node, *params_node;
    uint64_t seed;
    size_t samples, grid, count;
    size_t n_fixed; /* set: entries */
    const stdbp_yaml_node **fixed_key, **fixed_val;
    char **fixed; /* "key=value" */
    size_t n_params;
    sweep_param *params;
};

/* sets[i] of a point came from the sweep-file node origin (NULL for the
 * caller's and the generated overrides), under the key node key. */
struct stdbp_sweep_where {
    const stdbp_yaml_node *origin;
    const stdbp_yaml_node *key;
};

/* "key=" + value, malloc'd; NULL if out of memory. */
char *stdbp_sweep_assignment(const char *key, const char *value);

/* A node as one-line YAML flow text ("0.5", "[1, 2]", "{type: dense,
 * out: 4}", quoted text stays quoted), malloc'd; NULL if out of memory. */
char *stdbp_sweep_flow(const stdbp_yaml_node *n);
/* s as a YAML double-quoted scalar, appended to the text in buf (size
 * bytes, truncated). Cannot fail. */
void stdbp_sweep_quote(const char *s, size_t len, char *buf, size_t size);

/* mkdir -p path. */
stdbp_status stdbp_sweep_mkdirs(const char *path, stdbp_err *err) STDBP_WUR;

#endif
