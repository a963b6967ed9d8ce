/* Every key whose value differs between two configurations, with both
 * values (the resume warning); stdbp_config_equal stops at the first. */
#include "config/config_impl.h"

#include <stdio.h>
#include <stdlib.h>

/* Append "sep text" to what (size bytes), ending in "..." once full. */
static void add(char *what, size_t size, size_t *used, const char *text)
{
    int n;
    if (*used + 4 >= size)
        return;
    n = snprintf(what + *used, size - *used, "%s%s", *used ? "; " : "", text);
    if (n < 0 || *used + (size_t)n + 4 >= size) {
        snprintf(what + (size - 4), 4, "...");
        *used = size;
        return;
    }
    *used += (size_t)n;
}

/* One differing key: "path: OLD -> NEW" (b's value, then a's). */
static void add_key(char *what, size_t size, size_t *used, const stdbp_cfg_key *k,
                    const stdbp_config *a, const stdbp_config *b)
{
    char *x = NULL, *y = NULL, line[512];
    if (stdbp_cfg_format(k, (const char *)b + k->offset, &x, NULL) == STDBP_OK &&
        stdbp_cfg_format(k, (const char *)a + k->offset, &y, NULL) == STDBP_OK)
        snprintf(line, sizeof line, "%s: %s -> %s", k->path, x, y);
    else
        snprintf(line, sizeof line, "%s", k->path);
    free(x);
    free(y);
    add(what, size, used, line);
}

static size_t layers_diff(const stdbp_config *a, const stdbp_config *b, char *what, size_t size,
                          size_t *used)
{
    char line[96];
    size_t n = 0;
    if (a->network.n_layers != b->network.n_layers) {
        snprintf(line, sizeof line, "network.layers: %zu -> %zu layers", b->network.n_layers,
                 a->network.n_layers);
        add(what, size, used, line);
        return 1;
    }
    for (size_t i = 0; i < a->network.n_layers && i < STDBP_CFG_MAX_LAYERS; i++)
        if (!stdbp_cfg_layer_equal(&a->network.layers[i], &b->network.layers[i])) {
            snprintf(line, sizeof line, "network.layers[%zu]", i);
            add(what, size, used, line);
            n++;
        }
    return n;
}

size_t stdbp_config_diff(const stdbp_config *a, const stdbp_config *b, char *what, size_t size)
{
    char scratch[8];
    size_t used = 0, n = 0;
    if (!what || !size) {
        what = scratch;
        size = sizeof scratch;
    }
    what[0] = '\0';
    for (size_t i = 0; i < stdbp_cfg_schema_len; i++) {
        const stdbp_cfg_key *k = &stdbp_cfg_schema[i];
        if (stdbp_cfg_key_equal(k, a, b))
            continue;
        if (k->type == STDBP_CFG_T_LAYERS) {
            n += layers_diff(a, b, what, size, &used);
        } else {
            add_key(what, size, &used, k, a, b);
            n++;
        }
    }
    return n;
}
