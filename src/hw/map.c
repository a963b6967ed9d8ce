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
    STDBP_HW_FREE_ROWS(x->core_of, x->n_layers);
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

/* What the mapper works with: the capacities, the per-layer plan and the
 * scratch of pack. */
typedef struct planner {
    const stdbp_qnet *q;
    const stdbp_hw_profile *p;
    long cap;          /* synapses a core holds at this width */
    char capdesc[160]; /* cap, in words */
    fanin *fi;         /* per layer (built only with an axon limit) */
    uint32_t *stamp, gen;
    size_t *k_layer;   /* cores of each layer */
    size_t *lim_layer; /* k_bal of each layer (0: no balancing) */
    size_t *firsts;    /* first neuron of each core of a layer, + 1 */
} planner;

static void planner_free(planner *pl)
{
    if (pl->fi)
        for (size_t l = 0; l < pl->q->n_layers; l++) {
            free(pl->fi[l].start);
            free(pl->fi[l].src);
        }
    free(pl->fi);
    free(pl->stamp);
    free(pl->firsts);
    free(pl->k_layer);
    free(pl->lim_layer);
}

/* The profile's checks, its weight width limit, and cap / capdesc. */
static stdbp_status planner_init(planner *pl, const stdbp_qnet *q, const stdbp_hw_profile *p,
                                 stdbp_err *err)
{
    int bits = q->params.bits;
    stdbp_status st;
    memset(pl, 0, sizeof *pl);
    pl->q = q;
    pl->p = p;
    pl->cap = stdbp_hw_profile_synapse_capacity(p, bits);
    if ((st = stdbp_hw_profile_validate(p, err)))
        return st;
    if (p->max_weight_bits > 0 && bits > p->max_weight_bits)
        return stdbp_err_set(err, STDBP_EFIT,
                             "profile %s holds weights of at most %d bits; the model is "
                             "quantised to %d bits",
                             p->name, p->max_weight_bits, bits);
    if (p->synapses_per_core > 0)
        snprintf(pl->capdesc, sizeof pl->capdesc, "%ld synapses", pl->cap);
    else
        snprintf(pl->capdesc, sizeof pl->capdesc,
                 "%ld synapses (%ld bytes / (%d-bit weight + %d overhead bits))", pl->cap,
                 p->synapse_bytes, bits, p->synapse_overhead_bits);
    return STDBP_OK;
}

/* Pass 1 for layer l: the limits one neuron must respect, the number of
 * cores, and whether spreading the layer evenly keeps that number. */
static stdbp_status plan_layer(planner *pl, size_t l, stdbp_err *err)
{
    const stdbp_hw_qlayer *L = &pl->q->layers[l];
    const stdbp_hw_profile *p = pl->p;
    if (L->info.kind != STDBP_LAYER_POOL && L->info.fan_in_max > pl->cap)
        return stdbp_err_set(err, STDBP_EFIT,
                             "layer %zu (%s): a neuron has %d synapses, but a core of profile "
                             "%s holds %s; a neuron's synapses are never split across cores",
                             L->info.net_layer, L->info.desc, L->info.fan_in_max, p->name,
                             pl->capdesc);
    if (p->axons_per_core > 0 && L->info.fan_in_max > p->axons_per_core)
        return stdbp_err_set(err, STDBP_EFIT,
                             "layer %zu (%s): a neuron has %d inputs, but a core of profile %s "
                             "receives at most %d axons",
                             L->info.net_layer, L->info.desc, L->info.fan_in_max, p->name,
                             p->axons_per_core);
    if (p->axons_per_core > 0 && fanin_build(L, &pl->fi[l]))
        return stdbp_err_set(err, STDBP_ENOMEM, "mapping onto profile %s: out of memory", p->name);
    size_t limit = (size_t)p->neurons_per_core;
    size_t k = pack(L, limit, 0, pl->cap, p->axons_per_core, &pl->fi[l], pl->stamp, &pl->gen, NULL);
    size_t k_bal = 0;
    if (k > 1 &&
        pack(L, limit, k, pl->cap, p->axons_per_core, &pl->fi[l], pl->stamp, &pl->gen, NULL) == k)
        k_bal = k;
    pl->k_layer[l] = k;
    pl->lim_layer[l] = k_bal;
    return STDBP_OK;
}

/* The model needs total cores, more than the profile has: say how many
 * each layer takes. */
static stdbp_status shortfall(const planner *pl, size_t total, stdbp_err *err)
{
    const stdbp_hw_profile *p = pl->p;
    char detail[STDBP_ERR_MSG_MAX / 2];
    size_t off = 0;
    detail[0] = '\0';
    for (size_t l = 0; l < pl->q->n_layers && off + 80 < sizeof detail; l++)
        off += (size_t)snprintf(detail + off, sizeof detail - off, "%s%s: %zu", l ? ", " : "",
                                pl->q->layers[l].info.desc, pl->k_layer[l]);
    return stdbp_err_set(err, STDBP_EFIT,
                         "the model needs %zu cores, profile %s has %d: %zu short (cores per "
                         "layer: %s; a core holds %d neurons and %s)",
                         total, p->name, p->cores, total - (size_t)p->cores, detail,
                         p->neurons_per_core, pl->capdesc);
}

/* Pass 2 for layer l: its cores from base on, each neuron's core, and
 * each core's synapses, place and axons (0: out of memory). */
static int assign_layer(planner *pl, stdbp_hw_map *m, size_t l, int base)
{
    const stdbp_hw_qlayer *L = &pl->q->layers[l];
    const stdbp_hw_profile *p = pl->p;
    size_t n = L->info.n_out, *firsts = pl->firsts;
    size_t k = pack(L, (size_t)p->neurons_per_core, pl->lim_layer[l], pl->cap, p->axons_per_core,
                    &pl->fi[l], pl->stamp, &pl->gen, firsts);
    m->core_of[l] = malloc((n ? n : 1) * sizeof **m->core_of);
    if (!m->core_of[l])
        return 0;
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
    /* axons: sources with at least one target on the core (targets are
     * sorted and cores hold ranges: count runs) */
    for (size_t i = 0; i < L->info.n_in; i++) {
        int last = -1;
        for (size_t e = L->start[i]; e < L->start[i + 1]; e++) {
            int c = m->core_of[l][L->tgt[e]];
            if (c != last)
                m->cores[c].axons++;
            last = c;
        }
    }
    return 1;
}

stdbp_status stdbp_hw_map_create(const stdbp_qnet *q, const stdbp_hw_profile *p, stdbp_hw_map **out,
                                 stdbp_err *err)
{
    stdbp_hw_map *m = NULL;
    planner pl;
    stdbp_status st;
    *out = NULL;

    if ((st = planner_init(&pl, q, p, err)))
        return st;
    m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
    m->n_layers = q->n_layers;
    m->core_of = calloc(q->n_layers, sizeof *m->core_of);
    m->layer_first_core = calloc(q->n_layers, sizeof *m->layer_first_core);
    m->layer_n_cores = calloc(q->n_layers, sizeof *m->layer_n_cores);
    pl.k_layer = calloc(q->n_layers, sizeof *pl.k_layer);
    pl.lim_layer = calloc(q->n_layers, sizeof *pl.lim_layer);
    pl.fi = calloc(q->n_layers, sizeof *pl.fi);
    pl.stamp = calloc(q->max_width ? q->max_width : 1, sizeof *pl.stamp);
    if (!m->core_of || !m->layer_first_core || !m->layer_n_cores || !pl.k_layer || !pl.lim_layer ||
        !pl.fi || !pl.stamp)
        goto nomem;

    /* pass 1: cores per layer, and the neurons-per-core limit to use */
    size_t total = 0;
    for (size_t l = 0; l < q->n_layers; l++) {
        if ((st = plan_layer(&pl, l, err)))
            goto done;
        total += pl.k_layer[l];
    }
    if (total > (size_t)p->cores) {
        st = shortfall(&pl, total, err);
        goto done;
    }

    /* pass 2: assign */
    m->n_cores = (int)total;
    m->cores = calloc(total ? total : 1, sizeof *m->cores);
    pl.firsts = malloc((q->max_width + 1) * sizeof *pl.firsts);
    if (!m->cores || !pl.firsts)
        goto nomem;
    int base = 0;
    for (size_t l = 0; l < q->n_layers; l++) {
        if (!assign_layer(&pl, m, l, base))
            goto nomem;
        base += m->layer_n_cores[l];
    }
    st = STDBP_OK;
    *out = m;
    m = NULL;
    goto done;
nomem:
    st = stdbp_err_set(err, STDBP_ENOMEM, "mapping onto profile %s: out of memory", p->name);
done:
    planner_free(&pl);
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
