/* The accelerator simulator's construction: the state of every neuron
 * and core, and the routes of the spike packets (sim_run.c runs one
 * image; the model is described there). */
#include <stdlib.h>
#include <string.h>

#include "hw/hw_sim.h"

void stdbp_hw_sim_destroy(stdbp_hw_sim **simp)
{
    if (!simp || !*simp)
        return;
    stdbp_hw_sim *s = *simp;
    STDBP_HW_FREE_ROWS(s->r_start, s->n_layers);
    STDBP_HW_FREE_ROWS(s->routes, s->n_layers);
    free(s->lbase);
    free(s->lay);
    free(s->core_g);
    free(s->fired);
    free(s->V);
    free(s->S);
    free(s->R);
    free(s->cand);
    free(s->flag);
    free(s->c_off);
    free(s->c_len);
    free(s->c_list);
    free(s->bhead);
    free(s->bnext);
    free(s->bprev);
    free(s->due);
    free(s->pk);
    free(s->order);
    free(s->bucket);
    free(s->core_t);
    free(s->cc);
    free(s->tot);
    free(s);
    *simp = NULL;
}

/* Every per-neuron and per-core array (0: out of memory). */
static int alloc_state(stdbp_hw_sim *s, const stdbp_qnet *q)
{
    size_t nn = s->n_neurons ? s->n_neurons : 1;
    s->lay = malloc(nn * sizeof *s->lay);
    s->core_g = malloc(nn * sizeof *s->core_g);
    s->fired = malloc(nn * sizeof *s->fired);
    s->V = malloc(nn * sizeof *s->V);
    s->S = malloc(nn * sizeof *s->S);
    s->R = malloc(nn * sizeof *s->R);
    s->cand = malloc(nn * sizeof *s->cand);
    s->flag = calloc(nn, 1);
    s->c_list = malloc(nn * sizeof *s->c_list);
    s->bhead = malloc(((size_t)q->params.window + 2) * sizeof *s->bhead);
    s->bnext = malloc(nn * sizeof *s->bnext);
    s->bprev = malloc(nn * sizeof *s->bprev);
    s->due = malloc(nn * sizeof *s->due);
    s->c_off = calloc((size_t)s->n_cores + 1, sizeof *s->c_off);
    s->c_len = calloc((size_t)s->n_cores + 1, sizeof *s->c_len);
    s->core_t = calloc((size_t)s->n_cores + 1, sizeof *s->core_t);
    s->cc = calloc((size_t)s->n_cores + 1, sizeof *s->cc);
    s->tot = calloc((size_t)s->n_cores + 1, sizeof *s->tot);
    s->n_order = q->n_in ? q->n_in : 1;
    s->order = malloc(s->n_order * sizeof *s->order);
    s->bucket = malloc(((size_t)q->params.window + 2) * sizeof *s->bucket);
    s->r_start = calloc(q->n_layers, sizeof *s->r_start);
    s->routes = calloc(q->n_layers, sizeof *s->routes);
    return s->lay && s->core_g && s->fired && s->V && s->S && s->R && s->cand && s->flag &&
           s->c_list && s->bhead && s->bnext && s->bprev && s->due && s->c_off && s->c_len &&
           s->core_t && s->cc && s->tot && s->order && s->bucket && s->r_start && s->routes;
}

static void hops_between(const stdbp_hw_profile *p, int ax, int ay, int bx, int by,
                         stdbp_hw_route *r)
{
    r->hx = (uint32_t)abs(ax - bx);
    r->hy = (uint32_t)abs(ay - by);
    r->time = r->hx * p->hop_x.time + r->hy * p->hop_y.time;
}

/* The routes of layer l's sources (the input port's for l = 0): one per
 * (source, destination core), the source's targets on that core being a
 * slice of its fan-out list. With out NULL, only counts them and fills
 * r_start[l]; returns the count. */
static size_t walk_routes(stdbp_hw_sim *s, size_t l, stdbp_hw_route *out)
{
    const stdbp_hw_qlayer *L = &s->q->layers[l];
    const stdbp_hw_map *m = s->m;
    const stdbp_hw_profile *p = s->p;
    size_t n_src = L->info.n_in, nr = 0;
    for (size_t i = 0; i < n_src; i++) {
        int sx, sy;
        if (l == 0) {
            sx = p->input_x;
            sy = p->input_y;
        } else {
            int sc = m->core_of[l - 1][i];
            sx = m->cores[sc].x;
            sy = m->cores[sc].y;
        }
        if (!out)
            s->r_start[l][i] = nr;
        size_t k = L->start[i];
        while (k < L->start[i + 1]) {
            int c = m->core_of[l][L->tgt[k]];
            size_t k1 = k;
            while (k1 < L->start[i + 1] && m->core_of[l][L->tgt[k1]] == c)
                k1++;
            if (out) {
                stdbp_hw_route *r = &out[nr];
                r->core = c;
                r->k0 = (uint32_t)k;
                r->k1 = (uint32_t)k1;
                hops_between(p, sx, sy, m->cores[c].x, m->cores[c].y, r);
            }
            nr++;
            k = k1;
        }
    }
    if (!out)
        s->r_start[l][n_src] = nr;
    return nr;
}

/* Routes of every layer, and the packet heap they bound (0: out of
 * memory). */
static int build_routes(stdbp_hw_sim *s)
{
    size_t total_routes = 0;
    for (size_t l = 0; l < s->n_layers; l++) {
        size_t n_src = s->q->layers[l].info.n_in;
        s->r_start[l] = calloc(n_src + 1, sizeof **s->r_start);
        if (!s->r_start[l])
            return 0;
        size_t nr = walk_routes(s, l, NULL);
        s->routes[l] = malloc((nr ? nr : 1) * sizeof **s->routes);
        if (!s->routes[l])
            return 0;
        walk_routes(s, l, s->routes[l]);
        total_routes += nr;
    }
    /* every source fires at most once per image: at most one packet per
     * route per image */
    s->pk_cap = total_routes ? total_routes : 1;
    s->pk = malloc(s->pk_cap * sizeof *s->pk);
    return s->pk != NULL;
}

stdbp_status stdbp_hw_sim_create(const stdbp_qnet *q, const stdbp_hw_map *m,
                                 const stdbp_hw_profile *p, stdbp_hw_sim **out, stdbp_err *err)
{
    stdbp_hw_sim *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        goto nomem;
    s->q = q;
    s->m = m;
    s->p = p;
    s->n_layers = q->n_layers;
    s->n_in = q->n_in;
    s->n_cores = m->n_cores;
    s->port = m->n_cores;
    s->lbase = calloc(q->n_layers + 1, sizeof *s->lbase);
    if (!s->lbase)
        goto nomem;
    for (size_t l = 0; l < q->n_layers; l++)
        s->lbase[l + 1] = s->lbase[l] + q->layers[l].info.n_out;
    s->n_neurons = s->lbase[q->n_layers];
    if (s->n_neurons > (size_t)INT32_MAX) {
        stdbp_hw_sim_destroy(&s);
        return stdbp_err_set(err, STDBP_ERANGE, "simulator: more than 2^31 neurons");
    }
    if (!alloc_state(s, q))
        goto nomem;
    for (size_t l = 0; l < q->n_layers; l++)
        for (size_t j = 0; j < q->layers[l].info.n_out; j++) {
            size_t g = s->lbase[l] + j;
            s->lay[g] = (int32_t)l;
            s->core_g[g] = m->core_of[l][j];
        }
    for (int c = 0; c < s->n_cores; c++)
        s->c_off[c + 1] = s->c_off[c] + m->cores[c].count;
    if (!build_routes(s))
        goto nomem;
    s->t_syn = p->synapse.time + p->memory_read.time;
    s->e_syn =
        p->synapse.energy + p->memory_read.energy + p->memory_read_per_bit * (double)q->params.bits;
    s->e_hx = p->hop_x.energy;
    s->e_hy = p->hop_y.energy;
    *out = s;
    return STDBP_OK;
nomem:
    stdbp_hw_sim_destroy(&s);
    return stdbp_err_set(err, STDBP_ENOMEM, "simulator: out of memory");
}

const int64_t *stdbp_hw_sim_layer_steps(const stdbp_hw_sim *sim, size_t l)
{
    return sim->fired + sim->lbase[l];
}

stdbp_hw_core_stats stdbp_hw_sim_core_stats(const stdbp_hw_sim *sim, int core)
{
    return sim->tot[core];
}

stdbp_hw_core_stats stdbp_hw_sim_port_stats(const stdbp_hw_sim *sim)
{
    return sim->tot[sim->n_cores];
}

void stdbp_hw_sim_reset_stats(stdbp_hw_sim *sim)
{
    memset(sim->tot, 0, (size_t)(sim->n_cores + 1) * sizeof *sim->tot);
}

stdbp_status stdbp_hw_sim_reserve(stdbp_hw_sim *sim, size_t n, stdbp_err *err)
{
    if (n <= sim->n_order)
        return STDBP_OK;
    int32_t *o = realloc(sim->order, n * sizeof *o);
    if (!o)
        return stdbp_err_set(err, STDBP_ENOMEM, "simulator: out of memory for %zu input events", n);
    sim->order = o;
    sim->n_order = n;
    return STDBP_OK;
}
