/* NIR export: a trained stdbp network as a NIR graph (the Neuromorphic
 * Intermediate Representation of neuromorphs/NIR) in an HDF5 file that
 * nir.read() loads, and a reader of such files for tests and tools.
 * The mapping, the metadata and the caveats: docs/NIR.md.
 *
 * Layout written (names and types as NIR's serialisation expects them):
 *   /version                     vlen UTF-8 string (STDBP_NIR_VERSION)
 *   /node/type                   "NIRGraph"
 *   /node/edges                  (E, 2) vlen UTF-8 strings: source, target
 *   /node/nodes/<name>/type      "Input", "Affine", "I", "IF", ...
 *   /node/nodes/<name>/<param>   float32 arrays, int64 integers
 *   /node/metadata/<key>         what NIR cannot say (fire-once, theta,
 *                                t_max, the encoding, ...): scalars
 * Node names: "input", "output", and per stdbp layer NN (two digits)
 *   dense    layerNN_flatten (only if its input is not flat yet),
 *            layerNN_affine, layerNN_i, layerNN_if (profile portable:
 *            layerNN_affine, layerNN_cubalif)
 *   conv2d   layerNN_conv2d, layerNN_i, layerNN_if (portable:
 *            layerNN_conv2d, layerNN_cubalif)
 *   pool     layerNN_sumpool2d, layerNN_if (the earliest-spike gate)
 *   flatten  layerNN_flatten
 * The graph is a chain: input -> ... -> output.
 *
 * Nothing here is collective or calls MPI. HDF5's automatic error
 * printing is off during each call (and restored). */
#ifndef STDBP_NIR_H
#define STDBP_NIR_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/data.h"
#include "stdbp/error.h"
#include "stdbp/net.h"

/* The NIR release whose file layout this writer follows (the /version
 * string; NIR's reader does not check it). */
#define STDBP_NIR_VERSION "1.0.7"
/* Version of stdbp's mapping onto NIR (metadata key stdbp_mapping):
 * 2 adds v_reset and the nudged v_threshold (fire-once in the graph). */
#define STDBP_NIR_MAPPING 2
/* v_threshold of the gate IF after SumPool2d: any value in (0, 1). */
#define STDBP_NIR_POOL_THRESHOLD 0.5
/* v_reset of every IF: after its first spike a neuron's v is this, so
 * far below threshold that no input of a trained network brings it back
 * (finite in float32, so every NIR tool can store and compute with it):
 * NIR's plain IF equations then fire at most once, as stdbp does. */
#define STDBP_NIR_V_RESET (-1e30f)

/* The IF v_threshold for stdbp's theta: the largest float32 below theta.
 * stdbp fires when V >= theta, NIR's IF when v > v_threshold; with this
 * value the two rules agree for every float32 v (the smallest float32
 * above it is the smallest float32 >= theta). Cannot fail. */
STDBP_API float stdbp_nir_threshold(double theta);

/* Export profiles. EXACT: each layer Affine/Conv2d -> I -> IF, stdbp's
 * neuron exactly. PORTABLE: Affine/Conv2d -> CubaLIF, the nodes that
 * nirtorch-based importers (snnTorch, Norse) map; with long time
 * constants the CubaLIF approximates the ramp (docs/NIR.md). */
typedef enum stdbp_nir_profile { STDBP_NIR_EXACT = 0, STDBP_NIR_PORTABLE = 1 } stdbp_nir_profile;
/* PORTABLE: tau_syn = tau_mem = this times the encoding's time span. Over
 * a span s after an input the CubaLIF's potential falls short of the ramp
 * by a fraction of about s / tau (3e-4 at s = 3 spans). */
#define STDBP_NIR_PORTABLE_TAU 1e4
/* PORTABLE: the time step that snnTorch's importer assumes (it requires
 * r = tau_mem / this); r and w_in are chosen to satisfy it. */
#define STDBP_NIR_PORTABLE_DT 1e-4

/* Where the network came from; every field is optional (NULL / 0). */
typedef struct stdbp_nir_source {
    const char *checkpoint;         /* path of the checkpoint exported */
    const char *digest;             /* its digest ("sha256:...") */
    int has_step;                   /* step below is known */
    uint64_t step;                  /* optimiser steps of the checkpoint */
    const char *config_yaml;        /* the effective config (YAML text) */
    const stdbp_encoding *encoding; /* input encoding (NULL: defaults) */
    stdbp_nir_profile profile;      /* 0: STDBP_NIR_EXACT */
} stdbp_nir_source;

/* Write net as a NIR graph to path, atomically (path.tmp, then rename;
 * an existing file is replaced). src may be NULL. Weights are rounded to
 * float32 (NIR's convention); a weight that is not finite in float32 is
 * STDBP_ERANGE naming the layer. A layer NIR cannot express (conv2d or
 * pool after a flat layer: NIR has no Unflatten) is STDBP_EINVAL naming
 * the layer; STDBP_EIO names the file. On error no file is left at path
 * (an older one there is untouched). */
STDBP_API stdbp_status stdbp_nir_write(const char *path, const stdbp_net *net,
                                       const stdbp_nir_source *src, stdbp_err *err) STDBP_WUR;

/* ---- reading (tests, tools) ---------------------------------------- */

typedef enum stdbp_nir_kind { STDBP_NIR_FLOAT, STDBP_NIR_INT, STDBP_NIR_STRING } stdbp_nir_kind;

#define STDBP_NIR_MAX_RANK 8

/* One HDF5 dataset as stored: its type, shape and values. */
typedef struct stdbp_nir_value {
    char *name;
    stdbp_nir_kind kind;
    int bits;      /* FLOAT, INT: stored element size in bits (32, 64) */
    int is_signed; /* INT: 1 if signed */
    int vlen;      /* STRING: 1 if variable-length */
    int utf8;      /* STRING: 1 if the character set is UTF-8 */
    int rank;      /* 0 for a scalar */
    size_t dims[STDBP_NIR_MAX_RANK];
    size_t n;   /* number of elements (1 for a scalar) */
    double *f;  /* FLOAT: n values, C order (converted to double) */
    int64_t *i; /* INT: n values */
    char **s;   /* STRING: n NUL-terminated strings */
} stdbp_nir_value;

typedef struct stdbp_nir_node {
    char *name;
    size_t n_values;
    stdbp_nir_value *values; /* every dataset of the node, "type" included */
    size_t n_meta;
    stdbp_nir_value *meta; /* datasets of the node's metadata group */
} stdbp_nir_node;

typedef struct stdbp_nir_graph {
    stdbp_nir_value version; /* /version */
    stdbp_nir_value type;    /* /node/type */
    stdbp_nir_value edges;   /* /node/edges: STRING, dims (E, 2) */
    size_t n_edges;
    size_t n_nodes;
    stdbp_nir_node *nodes; /* in name order */
    size_t n_meta;
    stdbp_nir_value *meta; /* /node/metadata datasets */
} stdbp_nir_graph;

/* Read a NIR file (flat graphs: a nested NIRGraph node is STDBP_EFORMAT).
 * Every dataset of float, integer or string type is read; others are
 * STDBP_EFORMAT naming the dataset. *out is freed with stdbp_nir_free. */
STDBP_API stdbp_status stdbp_nir_read(const char *path, stdbp_nir_graph **out,
                                      stdbp_err *err) STDBP_WUR;
/* Free a graph; NULLs *g; accepts NULL. */
STDBP_API void stdbp_nir_free(stdbp_nir_graph **g);

/* Lookups: NULL when absent. Cannot fail. */
STDBP_API const stdbp_nir_node *stdbp_nir_node_find(const stdbp_nir_graph *g, const char *name);
STDBP_API const stdbp_nir_value *stdbp_nir_value_find(const stdbp_nir_value *v, size_t n,
                                                      const char *name);
STDBP_API const stdbp_nir_value *stdbp_nir_param(const stdbp_nir_node *node, const char *name);
/* The node's type string ("Affine"), or "" if it has none. */
STDBP_API const char *stdbp_nir_node_type(const stdbp_nir_node *node);
/* Edge k's source and target (k < n_edges). */
STDBP_API const char *stdbp_nir_edge_src(const stdbp_nir_graph *g, size_t k);
STDBP_API const char *stdbp_nir_edge_dst(const stdbp_nir_graph *g, size_t k);

#endif
