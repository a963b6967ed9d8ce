/* The mapper: neurons (with their fan-in synapses) onto cores.
 *
 * Heuristic (docs/HARDWARE.md, "Mapping"): layer by layer, in order, each
 * layer on cores of its own, taken consecutively along the snake order of
 * the mesh (so a layer's cores are neighbours, and consecutive layers sit
 * next to each other). Within a layer, contiguous neuron ranges: a greedy
 * pass finds the fewest cores k the capacities allow (neurons, synapse
 * memory, axons), then a second pass caps core c at ceil(remaining /
 * (k - c)) neurons to spread the layer evenly, kept if it still needs
 * only k cores.
 * Contiguous ranges keep each source's targets on a core together: one
 * packet per (source, destination core). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_impl.h"

void stdbp_hw_map_destroy(stdbp_hw_map **m)
{
    if (!m || !*m)
        return;
    stdbp_hw_map *x = *m;
    if (x->core_of)
        for (size_t l = 0; l < x->n_layers; l++)
            free(x->core_of[l]);
    free(x->core_of);
    free(x->cores);
    free(x->layer_first_core);
    free(x->layer_n_cores);
    free(x);
    *m = NULL;
}

/* Fan-in lists (sources of each neuron), only needed for an axon limit. */
typedef struct fanin {
    size_t *start;
    int32_t *src;
} fanin;

static int fanin_build(const stdbp_hw_qlayer *l, fanin *f)
{
    size_t n_out = l->info.n_out, n_in = l->info.n_in;
    size_t *fill = NULL;
    f->start = calloc(n_out + 1, sizeof *f->start);
    f->src = malloc((l->n_conn ? l->n_conn : 1) * sizeof *f->src);
    fill = malloc((n_out ? n_out : 1) * sizeof *fill);
    if (!f->start || !f->src || !fill) {
        free(fill);
        return -1;
    }
    for (size_t j = 0; j < n_out; j++)
        f->start[j + 1] = f->start[j] + (size_t)l->fan_in[j];
    memcpy(fill, f->start, n_out * sizeof *fill);
    for (size_t i = 0; i < n_in; i++)
        for (size_t k = l->start[i]; k < l->start[i + 1]; k++)
            f->src[fill[l->tgt[k]]++] = (int32_t)i;
    free(fill);
    return 0;
}

/* Pack layer l's neurons in order into cores of at most `limit` neurons,
 * cap synapses and axon_cap axons (0: none). With k_bal > 0, core c also
 * takes at most ceil(remaining neurons / (k_bal - c)) neurons, which
 * spreads the layer evenly over k_bal cores (sizes differ by at most one
 * when only the neuron count binds). Writes the first neuron of each core
 * into firsts (if not NULL); returns the number of cores. */
static size_t pack(const stdbp_hw_qlayer *l, size_t limit, size_t k_bal, long cap, int axon_cap,
                   const fanin *f, uint32_t *stamp, uint32_t *stamp_gen, size_t *firsts)
{
    size_t n = l->info.n_out, cores = 0, cur_n = 0, cur_ax = 0, cur_lim = limit;
    long cur_syn = 0;
    for (size_t j = 0; j < n; j++) {
        long syn = l->info.kind == STDBP_LAYER_POOL ? 0 : l->fan_in[j];
        size_t new_ax = 0;
        if (axon_cap > 0 && cur_n > 0) {
            for (size_t k = f->start[j]; k < f->start[j + 1]; k++)
                new_ax += stamp[f->src[k]] != *stamp_gen;
        }
        int open_new = cur_n == 0 || cur_n + 1 > cur_lim || cur_syn + syn > cap ||
                       (axon_cap > 0 && cur_ax + new_ax > (size_t)axon_cap);
        if (open_new) {
            if (firsts)
                firsts[cores] = j;
            cur_lim = limit;
            if (k_bal > cores) {
                size_t left = k_bal - cores, even = (n - j + left - 1) / left;
                if (even < cur_lim)
                    cur_lim = even;
            }
            cores++;
            cur_n = 0;
            cur_syn = 0;
            cur_ax = 0;
            (*stamp_gen)++;
            new_ax = axon_cap > 0 ? (size_t)l->fan_in[j] : 0;
        }
        cur_n++;
        cur_syn += syn;
        cur_ax += new_ax;
        if (axon_cap > 0)
            for (size_t k = f->start[j]; k < f->start[j + 1]; k++)
                stamp[f->src[k]] = *stamp_gen;
    }
    return cores;
}

stdbp_status stdbp_hw_map_create(const stdbp_qnet *q, const stdbp_hw_profile *p, stdbp_hw_map **out,
                                 stdbp_err *err)
{
    stdbp_hw_map *m = NULL;
    size_t *firsts = NULL, *k_layer = NULL, *lim_layer = NULL;
    uint32_t *stamp = NULL, gen = 0;
    fanin *fi = NULL;
    stdbp_status st;
    int bits = q->params.bits;
    long cap = stdbp_hw_profile_synapse_capacity(p, bits);
    char capdesc[160];
    *out = NULL;

    if ((st = stdbp_hw_profile_validate(p, err)))
        return st;
    if (p->max_weight_bits > 0 && bits > p->max_weight_bits)
        return stdbp_err_set(err, STDBP_EFIT,
                             "profile %s holds weights of at most %d bits; the model is "
                             "quantised to %d bits",
                             p->name, p->max_weight_bits, bits);
    if (p->synapses_per_core > 0)
        snprintf(capdesc, sizeof capdesc, "%ld synapses", cap);
    else
        snprintf(capdesc, sizeof capdesc,
                 "%ld synapses (%ld bytes / (%d-bit weight + %d overhead bits))", cap,
                 p->synapse_bytes, bits, p->synapse_overhead_bits);

    m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
    m->n_layers = q->n_layers;
    m->core_of = calloc(q->n_layers, sizeof *m->core_of);
    m->layer_first_core = calloc(q->n_layers, sizeof *m->layer_first_core);
    m->layer_n_cores = calloc(q->n_layers, sizeof *m->layer_n_cores);
    k_layer = calloc(q->n_layers, sizeof *k_layer);
    lim_layer = calloc(q->n_layers, sizeof *lim_layer);
    fi = calloc(q->n_layers, sizeof *fi);
    stamp = calloc(q->max_width ? q->max_width : 1, sizeof *stamp);
    if (!m->core_of || !m->layer_first_core || !m->layer_n_cores || !k_layer || !lim_layer || !fi ||
        !stamp)
        goto nomem;

    /* pass 1: cores per layer, and the neurons-per-core limit to use */
    size_t total = 0;
    for (size_t l = 0; l < q->n_layers; l++) {
        const stdbp_hw_qlayer *L = &q->layers[l];
        if (L->info.kind != STDBP_LAYER_POOL && L->info.fan_in_max > cap) {
            st = stdbp_err_set(err, STDBP_EFIT,
                               "layer %zu (%s): a neuron has %d synapses, but a core of profile "
                               "%s holds %s; a neuron's synapses are never split across cores",
                               L->info.net_layer, L->info.desc, L->info.fan_in_max, p->name,
                               capdesc);
            goto fail;
        }
        if (p->axons_per_core > 0 && L->info.fan_in_max > p->axons_per_core) {
            st = stdbp_err_set(err, STDBP_EFIT,
                               "layer %zu (%s): a neuron has %d inputs, but a core of profile %s "
                               "receives at most %d axons",
                               L->info.net_layer, L->info.desc, L->info.fan_in_max, p->name,
                               p->axons_per_core);
            goto fail;
        }
        if (p->axons_per_core > 0 && fanin_build(L, &fi[l]))
            goto nomem;
        size_t limit = (size_t)p->neurons_per_core;
        size_t k = pack(L, limit, 0, cap, p->axons_per_core, &fi[l], stamp, &gen, NULL);
        size_t k_bal = 0;
        if (k > 1 && pack(L, limit, k, cap, p->axons_per_core, &fi[l], stamp, &gen, NULL) == k)
            k_bal = k;
        k_layer[l] = k;
        lim_layer[l] = k_bal;
        total += k;
    }
    if (total > (size_t)p->cores) {
        char detail[STDBP_ERR_MSG_MAX / 2];
        size_t off = 0;
        detail[0] = '\0';
        for (size_t l = 0; l < q->n_layers && off + 80 < sizeof detail; l++)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s%s: %zu", l ? ", " : "",
                                    q->layers[l].info.desc, k_layer[l]);
        st = stdbp_err_set(err, STDBP_EFIT,
                           "the model needs %zu cores, profile %s has %d: %zu short (cores per "
                           "layer: %s; a core holds %d neurons and %s)",
                           total, p->name, p->cores, total - (size_t)p->cores, detail,
                           p->neurons_per_core, capdesc);
        goto fail;
    }

    /* pass 2: assign */
    m->n_cores = (int)total;
    m->cores = calloc(total ? total : 1, sizeof *m->cores);
    firsts = malloc((q->max_width + 1) * sizeof *firsts);
    if (!m->cores || !firsts)
        goto nomem;
    int base = 0;
    for (size_t l = 0; l < q->n_layers; l++) {
        const stdbp_hw_qlayer *L = &q->layers[l];
        size_t n = L->info.n_out;
        size_t k = pack(L, (size_t)p->neurons_per_core, lim_layer[l], cap, p->axons_per_core,
                        &fi[l], stamp, &gen, firsts);
        m->core_of[l] = malloc((n ? n : 1) * sizeof **m->core_of);
        if (!m->core_of[l])
            goto nomem;
        m->layer_first_core[l] = base;
        m->layer_n_cores[l] = (int)k;
        firsts[k] = n;
        for (size_t c = 0; c < k; c++) {
            stdbp_hw_core_info *ci = &m->cores[base + (int)c];
            ci->layer = l;
            ci->first = firsts[c];
            ci->count = firsts[c + 1] - firsts[c];
            for (size_t j = ci->first; j < ci->first + ci->count; j++) {
                m->core_of[l][j] = base + (int)c;
                ci->synapses += L->info.kind == STDBP_LAYER_POOL ? 0 : (size_t)L->fan_in[j];
            }
            stdbp_hw_core_xy(p, base + (int)c, &ci->x, &ci->y);
        }
        /* axons: sources with at least one target on the core (targets
         * are sorted and cores hold ranges: count runs) */
        for (size_t i = 0; i < L->info.n_in; i++) {
            int last = -1;
            for (size_t e = L->start[i]; e < L->start[i + 1]; e++) {
                int c = m->core_of[l][L->tgt[e]];
                if (c != last)
                    m->cores[c].axons++;
                last = c;
            }
        }
        base += (int)k;
    }
    st = STDBP_OK;
    *out = m;
    m = NULL;
    goto done;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "mapping onto profile %s: out of memory", p->name);
fail:
done:
    if (fi)
        for (size_t l = 0; l < q->n_layers; l++) {
            free(fi[l].start);
            free(fi[l].src);
        }
    free(fi);
    free(stamp);
    free(firsts);
    free(k_layer);
    free(lim_layer);
    stdbp_hw_map_destroy(&m);
    return st;
}

int stdbp_hw_map_cores_used(const stdbp_hw_map *m)
{
    return m->n_cores;
}

stdbp_hw_core_info stdbp_hw_map_core(const stdbp_hw_map *m, int core)
{
    return m->cores[core];
}

int stdbp_hw_map_core_of(const stdbp_hw_map *m, size_t l, size_t j)
{
    return m->core_of[l][j];
}
