/* Looking things up in a NIR graph read by stdbp_nir_read; see nir.h. */
#include "stdbp/nir.h"

#include <string.h>
const stdbp_nir_value *stdbp_nir_value_find(const stdbp_nir_value *v, size_t n, const char *name)
{
    for (size_t k = 0; v && k < n; k++)
        if (strcmp(v[k].name, name) == 0)
            return &v[k];
    return NULL;
}

const stdbp_nir_node *stdbp_nir_node_find(const stdbp_nir_graph *g, const char *name)
{
    for (size_t k = 0; g && k < g->n_nodes; k++)
        if (strcmp(g->nodes[k].name, name) == 0)
            return &g->nodes[k];
    return NULL;
}

const stdbp_nir_value *stdbp_nir_param(const stdbp_nir_node *node, const char *name)
{
    return node ? stdbp_nir_value_find(node->values, node->n_values, name) : NULL;
}

const char *stdbp_nir_node_type(const stdbp_nir_node *node)
{
    const stdbp_nir_value *t = stdbp_nir_param(node, "type");
    return t && t->kind == STDBP_NIR_STRING && t->n == 1 ? t->s[0] : "";
}

const char *stdbp_nir_edge_src(const stdbp_nir_graph *g, size_t k)
{
    return g->edges.s[2 * k];
}

const char *stdbp_nir_edge_dst(const stdbp_nir_graph *g, size_t k)
{
    return g->edges.s[2 * k + 1];
}
