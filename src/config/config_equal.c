/* Comparing two configurations key by key (resume checks, round-trip
 * tests, the fuzzer). */
#include "config/config_impl.h"

#include <string.h>

static int layers_equal(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    size_t i;
    if (a->network.n_layers != b->network.n_layers) {
        snprintf(what, size, "network.layers (%zu vs %zu layers)", a->network.n_layers,
                 b->network.n_layers);
        return 0;
    }
    for (i = 0; i < a->network.n_layers && i < STDBP_CFG_MAX_LAYERS; i++) {
        const stdbp_layer_spec *x = &a->network.layers[i], *y = &b->network.layers[i];
        if (x->kind != y->kind || x->out != y->out || x->kernel != y->kernel ||
            x->stride != y->stride || x->padding != y->padding) {
            snprintf(what, size, "network.layers[%zu]", i);
            return 0;
        }
    }
    return 1;
}

int stdbp_config_equal(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    char scratch[8];
    size_t i, j;
    if (!what || !size) {
        what = scratch;
        size = sizeof scratch;
    }
    what[0] = '\0';
    for (i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
        int same = 1;
        switch (k->type) {
        case STDBP_CFG_T_STR:
        case STDBP_CFG_T_WORD:
            same = strncmp(x, y, k->size) == 0;
            break;
        case STDBP_CFG_T_LAYERS:
            if (!layers_equal(a, b, what, size))
                return 0;
            break;
        case STDBP_CFG_T_BITS:
            same = a->deploy.n_bits == b->deploy.n_bits;
            for (j = 0; same && j < (size_t)a->deploy.n_bits && j < STDBP_CFG_MAX_BITS; j++)
                same = a->deploy.bits[j] == b->deploy.bits[j];
            break;
        default:
            /* Numbers, enums, shapes: padding-free scalars or arrays of
             * int; doubles bit for bit (so -0 differs from 0). */
            same = memcmp(x, y, k->size) == 0;
            break;
        }
        if (!same) {
            snprintf(what, size, "%s", k->path);
            return 0;
        }
    }
    return 1;
}
