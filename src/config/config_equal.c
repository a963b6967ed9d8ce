/* Comparing two configurations key by key (resume checks, round-trip
 * tests, the fuzzer). */
#include "config/config_impl.h"

#include <stdio.h>
#include <string.h>

int stdbp_cfg_layer_equal(const stdbp_layer_spec *x, const stdbp_layer_spec *y)
{
    return x->kind == y->kind && x->out == y->out && x->kernel == y->kernel &&
           x->stride == y->stride && x->padding == y->padding;
}

int stdbp_cfg_key_equal(const stdbp_cfg_key *k, const stdbp_config *a, const stdbp_config *b)
{
    const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
    int same = 1;
    switch (k->type) {
    case STDBP_CFG_T_STR:
    case STDBP_CFG_T_WORD:
        return strncmp(x, y, k->size) == 0;
    case STDBP_CFG_T_LAYERS:
        if (a->network.n_layers != b->network.n_layers)
            return 0;
        for (size_t i = 0; i < a->network.n_layers && i < STDBP_CFG_MAX_LAYERS; i++)
            if (!stdbp_cfg_layer_equal(&a->network.layers[i], &b->network.layers[i]))
                return 0;
        return 1;
    case STDBP_CFG_T_BITS:
        same = a->deploy.n_bits == b->deploy.n_bits;
        for (size_t j = 0; same && j < (size_t)a->deploy.n_bits && j < STDBP_CFG_MAX_BITS; j++)
            same = a->deploy.bits[j] == b->deploy.bits[j];
        return same;
    default:
        /* Numbers, enums, shapes: padding-free scalars or arrays of
         * int; doubles bit for bit (so -0 differs from 0). */
        return memcmp(x, y, k->size) == 0;
    }
}

/* Where two layer lists first differ, for the message. */
static void layers_what(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    if (a->network.n_layers != b->network.n_layers) {
        snprintf(what, size, "network.layers (%zu vs %zu layers)", a->network.n_layers,
                 b->network.n_layers);
        return;
    }
    for (size_t i = 0; i < a->network.n_layers && i < STDBP_CFG_MAX_LAYERS; i++)
        if (!stdbp_cfg_layer_equal(&a->network.layers[i], &b->network.layers[i])) {
            snprintf(what, size, "network.layers[%zu]", i);
            return;
        }
}

int stdbp_config_equal(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    char scratch[8];
    if (!what || !size) {
        what = scratch;
        size = sizeof scratch;
    }
    what[0] = '\0';
    for (size_t i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        if (stdbp_cfg_key_equal(k, a, b))
            continue;
        if (k->type == STDBP_CFG_T_LAYERS)
            layers_what(a, b, what, size);
        else
            snprintf(what, size, "%s", k->path);
        return 0;
    }
    return 1;
}
