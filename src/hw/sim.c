/* The accelerator simulator: one image at a time, step by step, through
 * the mapped cores and the mesh. docs/HARDWARE.md ("The model") states
 * what is counted and how time advances; in short, each processed step s
 * starting at wall time B runs
 *
 *   phase A  on every core, in parallel, sequentially within a core:
 *            stepped: each active neuron (received an input, not fired)
 *            does V += S and compares V with theta_q (one neuron op); it
 *            fires at s if V >= theta_q;
 *            event: each neuron whose candidate step is s fires;
 *            a firing costs a fire op, then one send per destination core
 *            (XY routing: the packet arrives hops later). The input port
 *            injects the input spikes of step s the same way;
 *   phase C  every core takes the packets of step s in arrival order,
 *            each when it arrives or when the core is free (queueing):
 *            one receive, then per target neuron on the core that has not
 *            fired a weight read and a synaptic update (S += w, and in
 *            event mode R += w * s); a pool neuron fires on its first
 *            input instead (one neuron op and its sends, same step);
 *            event mode then updates each touched neuron once (one neuron
 *            op): candidate c = ceil((theta_q + R) / S);
 *   end      E = the latest finishing core; the next step starts at
 *            max(B + time_step * (s' - s), E + barrier).
 *
 * Spikes produced at step s are received in step s and act from step
 * s + 1 on, which is exactly V(t) = sum_{t_i < t} w_i (t - t_i): the
 * hardware's spike steps equal stdbp_qnet_forward's (the tests check it
 * on every image). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_impl.h"

typedef struct route {
    int32_t core;
    uint32_t k0, k1; /* slice of the target layer's fan-out list */
    uint32_t hx, hy; /* hops */
    double time;     /* hop time */
} route;

typedef struct packet {
    double arrive;
    uint64_t seq;
    int32_t layer; /* target layer */
    int32_t core;
    uint32_t k0, k1;
} packet;

/* Per-core counters of one image (internal: x and y hops apart). */
typedef struct ccount {
    uint64_t syn, neuron, fire, send, recv, hx, hy;
    double wait;
} ccount;

struct stdbp_hw_sim {
    const stdbp_qnet *q;
    const stdbp_hw_map *m;
    const stdbp_hw_profile *p;
    size_t n_layers, n_neurons, n_in;
    int n_cores, port; /* port: index n_cores in the counters */
    size_t *lbase;     /* first global neuron id of each layer */
    int32_t *lay;      /* layer of each neuron */
    int32_t *core_g;   /* core of each neuron */
    /* routes[l]: destinations of each source of layer l */
    size_t **r_start;
    route **routes;
    /* neuron state */
    int64_t *fired, *V, *S, *R, *cand;
    uint8_t *flag; /* 1: active/touched */
    /* per core lists (stepped: active; event: touched this step) */
    size_t *c_off; /* offset of each core's list (its neuron count) */
    size_t *c_len;
    int32_t *c_list;
    /* event mode: a calendar of candidate steps. Neuron g with a
     * candidate sits in the doubly linked list of bucket cand[g]
     * (bhead[step], bnext, bprev; -1 ends a list); due: scratch for the
     * neurons firing at a step */
    int32_t *bhead, *bnext, *bprev, *due;
    /* packets of the current step */
    packet *pk;
    size_t pk_n, pk_cap;
    uint64_t seq;
    /* inputs sorted by step */
    int32_t *order;
    size_t *bucket;
    /* timing */
    double *core_t;
    ccount *cc;               /* this image */
    stdbp_hw_core_stats *tot; /* n_cores + 1 (port last) */
    /* derived energies and times */
    double e_syn, t_syn, e_hx, e_hy;
};

/* ---- packet heap (by arrival, then creation order) ------------------- */

static int pk_less(const packet *a, const packet *b)
{
    return a->arrive < b->arrive || (a->arrive == b->arrive && a->seq < b->seq);
}

static void pk_push(stdbp_hw_sim *sim, const packet *x)
{
    size_t i = sim->pk_n++;
    packet *h = sim->pk;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pk_less(x, &h[up]))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = *x;
}

static packet pk_pop(stdbp_hw_sim *sim)
{
    packet *h = sim->pk, top = h[0], last = h[--sim->pk_n];
    size_t i = 0, n = sim->pk_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pk_less(&h[c + 1], &h[c]))
            c++;
        if (!pk_less(&h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0)
        h[i] = last;
    return top;
}

/* ---- candidate calendar (event mode) --------------------------------- */

static void cal_insert(stdbp_hw_sim *sim, int32_t g, int64_t step)
{
    int32_t h = sim->bhead[step];
    sim->cand[g] = step;
    sim->bprev[g] = -1;
    sim->bnext[g] = h;
    if (h >= 0)
        sim->bprev[h] = g;
    sim->bhead[step] = g;
}

static void cal_remove(stdbp_hw_sim *sim, int32_t g)
{
    int32_t pv = sim->bprev[g], nx = sim->bnext[g];
    if (pv >= 0)
        sim->bnext[pv] = nx;
    else
        sim->bhead[sim->cand[g]] = nx;
    if (nx >= 0)
        sim->bprev[nx] = pv;
    sim->cand[g] = STDBP_QT_SILENT;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* ---- construction ---------------------------------------------------- */

void stdbp_hw_sim_destroy(stdbp_hw_sim **simp)
{
    if (!simp || !*simp)
        return;
    stdbp_hw_sim *s = *simp;
    if (s->r_start)
        for (size_t l = 0; l < s->n_layers; l++)
            free(s->r_start[l]);
    if (s->routes)
        for (size_t l = 0; l < s->n_layers; l++)
            free(s->routes[l]);
    free(s->r_start);
    free(s->routes);
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

static void hops_between(const stdbp_hw_profile *p, int ax, int ay, int bx, int by, route *r)
{
    r->hx = (uint32_t)abs(ax - bx);
    r->hy = (uint32_t)abs(ay - by);
    r->time = r->hx * p->hop_x.time + r->hy * p->hop_y.time;
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
    s->order = malloc((q->n_in ? q->n_in : 1) * sizeof *s->order);
    s->bucket = malloc(((size_t)q->params.window + 2) * sizeof *s->bucket);
    s->r_start = calloc(q->n_layers, sizeof *s->r_start);
    s->routes = calloc(q->n_layers, sizeof *s->routes);
    if (!s->lay || !s->core_g || !s->fired || !s->V || !s->S || !s->R || !s->cand || !s->flag ||
        !s->c_list || !s->bhead || !s->bnext || !s->bprev || !s->due || !s->c_off || !s->c_len ||
        !s->core_t || !s->cc || !s->tot || !s->order || !s->bucket || !s->r_start || !s->routes)
        goto nomem;
    for (size_t l = 0; l < q->n_layers; l++)
        for (size_t j = 0; j < q->layers[l].info.n_out; j++) {
            size_t g = s->lbase[l] + j;
            s->lay[g] = (int32_t)l;
            s->core_g[g] = m->core_of[l][j];
        }
    for (int c = 0; c < s->n_cores; c++)
        s->c_off[c + 1] = s->c_off[c] + m->cores[c].count;

    /* routes: for each source of layer l, one per destination core */
    size_t total_routes = 0;
    for (size_t l = 0; l < q->n_layers; l++) {
        const stdbp_hw_qlayer *L = &q->layers[l];
        size_t n_src = L->info.n_in, nr = 0;
        s->r_start[l] = calloc(n_src + 1, sizeof **s->r_start);
        if (!s->r_start[l])
            goto nomem;
        for (int pass = 0; pass < 2; pass++) {
            nr = 0;
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
                if (pass == 0)
                    s->r_start[l][i] = nr;
                size_t k = L->start[i];
                while (k < L->start[i + 1]) {
                    int c = m->core_of[l][L->tgt[k]];
                    size_t k1 = k;
                    while (k1 < L->start[i + 1] && m->core_of[l][L->tgt[k1]] == c)
                        k1++;
                    if (pass == 1) {
                        route *r = &s->routes[l][nr];
                        r->core = c;
                        r->k0 = (uint32_t)k;
                        r->k1 = (uint32_t)k1;
                        hops_between(p, sx, sy, m->cores[c].x, m->cores[c].y, r);
                    }
                    nr++;
                    k = k1;
                }
            }
            if (pass == 0) {
                s->r_start[l][n_src] = nr;
                s->routes[l] = malloc((nr ? nr : 1) * sizeof **s->routes);
                if (!s->routes[l])
                    goto nomem;
            }
        }
        total_routes += nr;
    }
    /* every source fires at most once per image: at most one packet per
     * route per image */
    s->pk_cap = total_routes ? total_routes : 1;
    s->pk = malloc(s->pk_cap * sizeof *s->pk);
    if (!s->pk)
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

/* ---- one image ------------------------------------------------------- */

typedef struct run {
    int acct;      /* counting and timing (off after the decision) */
    int out_fired; /* an output neuron fired in this step */
    int64_t s;     /* current step */
    size_t last;   /* output layer */
} run;

static void fire(stdbp_hw_sim *sim, run *r, int32_t g)
{
    int32_t l = sim->lay[g];
    int c = sim->core_g[g];
    const stdbp_hw_profile *p = sim->p;
    sim->fired[g] = r->s;
    if (r->acct) {
        sim->cc[c].fire++;
        sim->core_t[c] += p->fire.time;
    }
    if ((size_t)l == r->last) {
        r->out_fired = 1;
        return;
    }
    size_t j = (size_t)g - sim->lbase[l];
    const size_t *rs = sim->r_start[l + 1];
    const route *rt = sim->routes[l + 1];
    for (size_t k = rs[j]; k < rs[j + 1]; k++) {
        packet x;
        x.arrive = 0.0;
        if (r->acct) {
            sim->core_t[c] += p->send.time;
            sim->cc[c].send++;
            sim->cc[c].hx += rt[k].hx;
            sim->cc[c].hy += rt[k].hy;
            x.arrive = sim->core_t[c] + rt[k].time;
        }
        x.seq = sim->seq++;
        x.layer = l + 1;
        x.core = rt[k].core;
        x.k0 = rt[k].k0;
        x.k1 = rt[k].k1;
        pk_push(sim, &x);
    }
}

/* Phase C for one packet. Time and counts are kept in locals and
 * written back once (the per-synapse loop is the hot spot). */
static void deliver(stdbp_hw_sim *sim, run *r, const packet *x)
{
    const stdbp_hw_profile *p = sim->p;
    const stdbp_hw_qlayer *L = &sim->q->layers[x->layer];
    int c = x->core;
    size_t base = sim->lbase[x->layer];
    int64_t *S = sim->S, *R = sim->R, *fired = sim->fired, s = r->s;
    uint8_t *flag = sim->flag;
    int32_t *list = sim->c_list + sim->c_off[c];
    size_t len = sim->c_len[c];
    uint64_t n_syn = 0;
    if (r->acct) {
        double start = sim->core_t[c] > x->arrive ? sim->core_t[c] : x->arrive;
        sim->cc[c].wait += start - x->arrive;
        sim->core_t[c] = start + p->receive.time;
        sim->cc[c].recv++;
    }
    if (L->info.kind == STDBP_LAYER_POOL) {
        for (uint32_t k = x->k0; k < x->k1; k++) {
            int32_t g = (int32_t)(base + (size_t)L->tgt[k]);
            if (fired[g] != STDBP_QT_SILENT)
                continue; /* fired once: disabled */
            if (r->acct) {
                sim->cc[c].neuron++;
                sim->core_t[c] += p->neuron.time;
            }
            fire(sim, r, g);
        }
        return;
    }
    int event = p->mode == STDBP_HW_EVENT;
    const int32_t *tgt = L->tgt, *w = L->w;
    for (uint32_t k = x->k0; k < x->k1; k++) {
        int32_t g = (int32_t)(base + (size_t)tgt[k]);
        if (fired[g] != STDBP_QT_SILENT)
            continue; /* fired once: disabled */
        n_syn++;
        S[g] += w[k];
        if (event)
            R[g] += (int64_t)w[k] * s;
        if (!flag[g]) {
            flag[g] = 1;
            list[len++] = g;
        }
    }
    sim->c_len[c] = len;
    if (r->acct) {
        sim->cc[c].syn += n_syn;
        sim->core_t[c] += (double)n_syn * sim->t_syn;
    }
}

/* Inputs (stepping into the port's packets) sorted by step; returns the
 * count. Steps beyond the window are dropped, negative ones count as 0. */
static size_t sort_inputs(stdbp_hw_sim *sim, const int64_t *in)
{
    int64_t window = sim->q->params.window;
    size_t nb = (size_t)window + 1, nf = 0;
    memset(sim->bucket, 0, (nb + 1) * sizeof *sim->bucket);
    for (size_t i = 0; i < sim->n_in; i++) {
        int64_t t = in[i];
        if (t == STDBP_QT_SILENT || t > window)
            continue;
        sim->bucket[(t < 0 ? 0 : t) + 1]++;
        nf++;
    }
    for (size_t b = 1; b <= nb; b++)
        sim->bucket[b] += sim->bucket[b - 1];
    for (size_t i = 0; i < sim->n_in; i++) {
        int64_t t = in[i];
        if (t == STDBP_QT_SILENT || t > window)
            continue;
        sim->order[sim->bucket[t < 0 ? 0 : t]++] = (int32_t)i;
    }
    return nf;
}

static int64_t clamp0(int64_t t)
{
    return t < 0 ? 0 : t;
}

void stdbp_hw_sim_run(stdbp_hw_sim *sim, const int64_t *in_steps, stdbp_hw_result *res)
{
    const stdbp_hw_profile *p = sim->p;
    const stdbp_qnet *q = sim->q;
    int64_t window = q->params.window;
    int event = p->mode == STDBP_HW_EVENT;
    int nc = sim->n_cores;
    run r;
    memset(res, 0, sizeof *res);
    memset(&r, 0, sizeof r);
    r.acct = 1;
    r.last = q->n_layers - 1;

    for (size_t g = 0; g < sim->n_neurons; g++) {
        sim->fired[g] = STDBP_QT_SILENT;
        sim->V[g] = sim->S[g] = sim->R[g] = 0;
        sim->cand[g] = STDBP_QT_SILENT;
        sim->flag[g] = 0;
    }
    for (int64_t b = 0; b <= window + 1; b++)
        sim->bhead[b] = -1;
    sim->pk_n = 0;
    sim->seq = 0;
    memset(sim->c_len, 0, (size_t)(nc + 1) * sizeof *sim->c_len);
    memset(sim->cc, 0, (size_t)(nc + 1) * sizeof *sim->cc);

    size_t n_inp = sort_inputs(sim, in_steps), ip = 0;
    int64_t s = n_inp ? clamp0(in_steps[sim->order[0]]) : 0;
    double B = 0.0, E = 0.0, dec_time = 0.0, busy_end = 0.0;
    int64_t s_dec = STDBP_QT_SILENT, steps = 0;

    for (;;) {
        r.s = s;
        r.out_fired = 0;
        if (r.acct)
            for (int c = 0; c <= nc; c++)
                sim->core_t[c] = B;

        /* phase A: neurons */
        if (!event) {
            for (int c = 0; c < nc; c++) {
                size_t off = sim->c_off[c], n = sim->c_len[c], keep = 0, done = 0;
                int64_t theta = q->layers[sim->m->cores[c].layer].info.theta;
                int64_t *V = sim->V, *S = sim->S;
                int32_t *list = sim->c_list + off;
                /* neuron time is added in bulk: up to each firing (which
                 * needs the clock for its packets), then at the end */
                for (size_t a = 0; a < n; a++) {
                    int32_t g = list[a];
                    V[g] += S[g];
                    if (V[g] >= theta && s <= window) {
                        if (r.acct)
                            sim->core_t[c] += (double)(a + 1 - done) * p->neuron.time;
                        done = a + 1;
                        fire(sim, &r, g);
                    } else {
                        list[keep++] = g;
                    }
                }
                if (r.acct) {
                    sim->core_t[c] += (double)(n - done) * p->neuron.time;
                    sim->cc[c].neuron += n;
                }
                sim->c_len[c] = keep;
            }
        } else {
            /* the neurons whose candidate is this step, in id order */
            size_t nf = 0;
            if (s <= window) {
                for (int32_t g = sim->bhead[s]; g >= 0; g = sim->bnext[g]) {
                    sim->due[nf++] = g;
                    sim->cand[g] = STDBP_QT_SILENT;
                }
                sim->bhead[s] = -1;
            }
            qsort(sim->due, nf, sizeof *sim->due, cmp_i32);
            for (size_t a = 0; a < nf; a++)
                fire(sim, &r, sim->due[a]);
        }
        /* the input port injects the spikes of step s */
        while (ip < n_inp && clamp0(in_steps[sim->order[ip]]) == s) {
            size_t i = (size_t)sim->order[ip++];
            const route *rt = sim->routes[0];
            if (r.acct)
                sim->cc[nc].fire++; /* counted as input spikes */
            for (size_t k = sim->r_start[0][i]; k < sim->r_start[0][i + 1]; k++) {
                packet x;
                x.arrive = 0.0;
                if (r.acct) {
                    sim->core_t[nc] += p->send.time;
                    sim->cc[nc].send++;
                    sim->cc[nc].hx += rt[k].hx;
                    sim->cc[nc].hy += rt[k].hy;
                    x.arrive = sim->core_t[nc] + rt[k].time;
                }
                x.seq = sim->seq++;
                x.layer = 0;
                x.core = rt[k].core;
                x.k0 = rt[k].k0;
                x.k1 = rt[k].k1;
                pk_push(sim, &x);
            }
        }
        /* phase C: packets in arrival order */
        while (sim->pk_n > 0) {
            packet x = pk_pop(sim);
            deliver(sim, &r, &x);
        }
        /* event mode: one update per touched neuron: its candidate step
         * ceil((theta_q + R) / S), filed in the calendar */
        if (event) {
            for (int c = 0; c < nc; c++) {
                size_t off = sim->c_off[c], n = sim->c_len[c];
                int64_t theta = q->layers[sim->m->cores[c].layer].info.theta;
                for (size_t a = 0; a < n; a++) {
                    int32_t g = sim->c_list[off + a];
                    sim->flag[g] = 0;
                    if (sim->cand[g] != STDBP_QT_SILENT)
                        cal_remove(sim, g);
                    if (sim->S[g] > 0) {
                        int64_t cnd = stdbp_hw_ceil_div(theta + sim->R[g], sim->S[g]);
                        if (cnd <= window)
                            cal_insert(sim, g, cnd);
                    }
                }
                if (r.acct) {
                    sim->cc[c].neuron += n;
                    sim->core_t[c] += (double)n * p->neuron.time;
                }
                sim->c_len[c] = 0;
            }
        }
        /* end of step */
        if (r.acct) {
            E = B;
            for (int c = 0; c <= nc; c++)
                if (sim->core_t[c] > E)
                    E = sim->core_t[c];
            busy_end = E;
            steps++;
            if (r.out_fired && s_dec == STDBP_QT_SILENT) {
                s_dec = s;
                dec_time = E;
                if (p->stop_at_decision)
                    r.acct = 0;
            }
        } else if (r.out_fired && s_dec == STDBP_QT_SILENT) {
            s_dec = s;
        }

        /* next step */
        int64_t next;
        if (!event) {
            if (s >= window)
                break;
            if (!r.acct) {
                /* nothing can fire any more: no input left and no active
                 * neuron with a rising potential (the hardware would not
                 * know; it is no longer counted) */
                int live = ip < n_inp;
                for (int c = 0; c < nc && !live; c++)
                    for (size_t a = 0; a < sim->c_len[c] && !live; a++)
                        live = sim->S[sim->c_list[sim->c_off[c] + a]] > 0;
                if (!live)
                    break;
            }
            next = s + 1;
        } else {
            /* the next step with an event: the next input, or the
             * earliest non-empty bucket (candidates are always > s) */
            next = STDBP_QT_SILENT;
            if (ip < n_inp)
                next = clamp0(in_steps[sim->order[ip]]);
            for (int64_t b = s + 1; b <= window && b < next; b++)
                if (sim->bhead[b] >= 0) {
                    next = b;
                    break;
                }
            if (next == STDBP_QT_SILENT)
                break;
        }
        if (r.acct) {
            double a = B + p->time_step * (double)(next - s), b = E + p->barrier;
            B = a > b ? a : b;
        }
        s = next;
    }

    /* results */
    const size_t lo = sim->lbase[r.last];
    size_t n_out = q->layers[r.last].info.n_out;
    res->decision = stdbp_decide_steps(sim->fired + lo, n_out);
    res->decision_step = s_dec;
    res->busy = (s_dec != STDBP_QT_SILENT && p->stop_at_decision) ? dec_time : busy_end;
    res->latency = s_dec != STDBP_QT_SILENT ? dec_time : busy_end;
    res->steps = steps;
    double dyn = 0.0;
    for (int c = 0; c <= nc; c++) {
        const ccount *k = &sim->cc[c];
        stdbp_hw_core_stats *t = &sim->tot[c];
        double e = 0.0, busy = 0.0;
        if (c < nc) {
            e = (double)k->syn * sim->e_syn + (double)k->neuron * p->neuron.energy +
                (double)k->fire * p->fire.energy + (double)k->recv * p->receive.energy;
            busy = (double)k->syn * sim->t_syn + (double)k->neuron * p->neuron.time +
                   (double)k->fire * p->fire.time + (double)k->recv * p->receive.time +
                   (double)k->send * p->send.time;
            t->counts.fire += k->fire;
            res->counts.fire += k->fire;
        } else {
            busy = (double)k->send * p->send.time;
            t->counts.input_spikes += k->fire;
            res->counts.input_spikes += k->fire;
        }
        e += (double)k->send * p->send.energy + (double)k->hx * sim->e_hx +
             (double)k->hy * sim->e_hy;
        t->counts.synapse += k->syn;
        t->counts.mem_read += k->syn;
        t->counts.neuron += k->neuron;
        t->counts.send += k->send;
        t->counts.receive += k->recv;
        t->counts.hops += k->hx + k->hy;
        t->energy += e;
        t->busy += busy;
        t->queue_wait += k->wait;
        res->counts.synapse += k->syn;
        res->counts.mem_read += k->syn;
        res->counts.neuron += k->neuron;
        res->counts.send += k->send;
        res->counts.receive += k->recv;
        res->counts.hops += k->hx + k->hy;
        dyn += e;
    }
    res->energy_dynamic = dyn;
    res->energy_static = p->static_power * (double)nc * res->busy;
    res->energy = dyn + res->energy_static;
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
