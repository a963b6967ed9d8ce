/* Private to src/config/config*.c: the schema table that every part of the
 * configuration module (defaults, load, --set, validate, emit, docs) is
 * driven by. Not installed. */
#ifndef STDBP_CONFIG_IMPL_H
#define STDBP_CONFIG_IMPL_H

#include <stdio.h>

#include "util/yaml_doc.h"
#include "stdbp/config.h"

typedef enum stdbp_cfg_type {
    STDBP_CFG_T_STR,    /* char[size]; plain text */
    STDBP_CFG_T_WORD,   /* char[size]; one of names */
    STDBP_CFG_T_ENUM,   /* an enum field (int-sized); index into names */
    STDBP_CFG_T_BOOL,   /* int: 0 or 1 */
    STDBP_CFG_T_INT,    /* int */
    STDBP_CFG_T_LONG,   /* long */
    STDBP_CFG_T_U64,    /* uint64_t */
    STDBP_CFG_T_DOUBLE, /* double */
    STDBP_CFG_T_SHAPE,  /* stdbp_shape: [C, H, W] or null (from the data) */
    STDBP_CFG_T_LAYERS, /* network.layers: n_layers + layers[] */
    STDBP_CFG_T_BITS    /* deploy.bits: n_bits + bits[] */
} stdbp_cfg_type;

/* Flags of a schema row. */
#define STDBP_CFG_MIN_OPEN 0x01u /* value > min (else >= min) */
#define STDBP_CFG_MAX_OPEN 0x02u /* value < max (else <= max) */
#define STDBP_CFG_INF_OK 0x04u   /* a double that may be inf / .inf */
#define STDBP_CFG_MODULE 0x08u   /* default from the module's _defaults() */
#define STDBP_CFG_NONEMPTY 0x10u /* text that must not be empty */
#define STDBP_CFG_DATASET 0x20u  /* text: mnist | fashion-mnist | hdf5:PATH */
#define STDBP_CFG_NAME 0x40u     /* text usable as a file name (no '/') */
/* The row's def is for the docs only: the default is set in code or
 * follows another key. */
#define STDBP_CFG_DOCDEF 0x80u

/* Bits of stdbp_config.derived: keys whose default follows another key
 * until they are set explicitly. */
#define STDBP_CFG_FOLLOW_RUN_DIR 0x1u      /* run.dir = runs/<run.name> */
#define STDBP_CFG_FOLLOW_DATA_TEST 0x2u    /* data.test = data.train */
#define STDBP_CFG_FOLLOW_TOTAL_EPOCHS 0x4u /* schedule.total_epochs = train.epochs */

typedef struct stdbp_cfg_key {
    const char *path; /* "optimizer.lr"; layer keys: "network.layers[].out" */
    stdbp_cfg_type type;
    size_t offset;   /* into stdbp_config (layer keys: stdbp_layer_spec) */
    size_t size;     /* bytes of the field (text: the buffer) */
    double min, max; /* range of numbers, lists' items; +-INFINITY: none */
    unsigned flags;
    unsigned follow;          /* a STDBP_CFG_FOLLOW_ bit, or 0 */
    const char *const *names; /* WORD and ENUM values, NULL-terminated */
    const char *def;          /* the default: parsed for keys the config owns;
                                 shown in docs when the value alone misleads */
    const char *doc;          /* one-line meaning */
} stdbp_cfg_key;

extern const stdbp_cfg_key stdbp_cfg_schema[];
extern const size_t stdbp_cfg_schema_len;
/* Keys of one entry of network.layers, and which layer kinds take them. */
extern const stdbp_cfg_key stdbp_cfg_layer_keys[];
extern const size_t stdbp_cfg_layer_keys_len;
extern const char *const stdbp_cfg_layer_kinds[]; /* dense conv2d pool flatten */

/* The row for path, or NULL. */
const stdbp_cfg_key *stdbp_cfg_find(const char *path);
/* Number of names in a NULL-terminated list. */
int stdbp_cfg_count_names(const char *const *names);
/* Does layer kind k take key (a layer key's name)? */
int stdbp_cfg_layer_takes(stdbp_layer_kind k, const char *key);

/* The length of $STDBP_DATA when it is data.dir's default but longer than
 * data.dir holds (stdbp_config_defaults left data.dir empty and nothing
 * set it since), else 0. Cannot fail. */
size_t stdbp_cfg_data_env_too_long(const stdbp_config *cfg);
/* Recompute the keys that follow others (cfg->derived). Fails only when
 * run.dir would not fit. */
stdbp_status stdbp_cfg_resolve(stdbp_config *cfg, stdbp_err *err) STDBP_WUR;
/* Check one value against its row (range, choices, text rules), after it
 * has been stored; node for the message (NULL: "SOURCE: path: ..."). */
stdbp_status stdbp_cfg_check_value(const stdbp_config *cfg, const stdbp_cfg_key *k,
                                   const void *field, const char *path, const stdbp_yaml_node *node,
                                   stdbp_err *err) STDBP_WUR;
/* The range of a row as text ("> 0", "[0, 1)", "" for none). */
const char *stdbp_cfg_range_text(const stdbp_cfg_key *k, char *buf, size_t size);
/* The value of field (of row k) as YAML flow text, exactly re-readable
 * (doubles in the shortest form that round-trips). */
/* 1 if a and b hold the same value for key k (strings up to their size,
 * layer lists field by field, numbers bit for bit), else 0; shared by
 * stdbp_config_equal and stdbp_config_diff. Cannot fail. */
int stdbp_cfg_key_equal(const stdbp_cfg_key *k, const stdbp_config *a, const stdbp_config *b);
/* 1 if two layer specs are the same layer. Cannot fail. */
int stdbp_cfg_layer_equal(const stdbp_layer_spec *x, const stdbp_layer_spec *y);
stdbp_status stdbp_cfg_format(const stdbp_cfg_key *k, const void *field, char **text,
                              stdbp_err *err) STDBP_WUR;

/* The key reference of docs/CONFIG.md (markdown) from the schema and
 * stdbp_config_defaults(); malloc'd. */
stdbp_status stdbp_config_doc_markdown(char **text, stdbp_err *err) STDBP_WUR;

#endif
