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
#include <stdlib.h>
#include <string.h>

#include "hw/hw_sim.h"

/* ---- packet heap (by arrival, then creation order) ------------------- */

static int pk_less(const stdbp_hw_packet *a, const stdbp_hw_packet *b)
{
    return a->arrive < b->arrive || (a->arrive == b->arrive && a->seq < b->seq);
}

static void pk_push(stdbp_hw_sim *sim, const stdbp_hw_packet *x)
{
    size_t i = sim->pk_n++;
    stdbp_hw_packet *h = sim->pk;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pk_less(x, &h[up]))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = *x;
}

static stdbp_hw_packet pk_pop(stdbp_hw_sim *sim)
{
    stdbp_hw_packet *h = sim->pk, top = h[0], last = h[--sim->pk_n];
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

/* ---- one image ------------------------------------------------------- */

/* The state of the image being run. */
typedef struct run {
    int acct;      /* counting and timing (off after the decision) */
    int out_fired; /* an output neuron fired in this step */
    int64_t s;     /* current step */
    size_t last;   /* output layer */
    const int64_t *in;
    const int32_t *ch; /* channel of each input (NULL: input k is channel k) */
    size_t n_inp, ip;  /* inputs that count (sorted in sim->order), sent */
    double B, E;       /* start of the step, latest end of a core */
    double dec_time, busy_end;
    int64_t s_dec, steps; /* decision step, steps processed */
} run;

/* One packet per route rt[k0 .. k1) from core c (the input port: n_cores)
 * to layer `layer`, sent one after the other. */
static void send_packets(stdbp_hw_sim *sim, const run *r, int c, int32_t layer,
                         const stdbp_hw_route *rt, size_t k0, size_t k1)
{
    const stdbp_hw_profile *p = sim->p;
    for (size_t k = k0; k < k1; k++) {
        stdbp_hw_packet x;
        x.arrive = 0.0;
        if (r->acct) {
            sim->core_t[c] += p->send.time;
            sim->cc[c].send++;
            sim->cc[c].hx += rt[k].hx;
            sim->cc[c].hy += rt[k].hy;
            x.arrive = sim->core_t[c] + rt[k].time;
        }
        x.seq = sim->seq++;
        x.layer = layer;
        x.core = rt[k].core;
        x.k0 = rt[k].k0;
        x.k1 = rt[k].k1;
        pk_push(sim, &x);
    }
}

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
    send_packets(sim, r, c, l + 1, sim->routes[l + 1], rs[j], rs[j + 1]);
}

/* Phase C for one packet. Time and counts are kept in locals and
 * written back once (the per-synapse loop is the hot spot). */
static void deliver(stdbp_hw_sim *sim, run *r, const stdbp_hw_packet *x)
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

/* Fresh neuron state, calendar, packets and counters for an image; its
 * inputs sorted by step (steps beyond the window dropped, negative ones
 * counting as 0). */
static void start_image(stdbp_hw_sim *sim, const int32_t *ch, const int64_t *in_steps, size_t n,
                        run *r)
{
    int64_t window = sim->q->params.window;
    int nc = sim->n_cores;
    memset(r, 0, sizeof *r);
    r->acct = 1;
    r->last = sim->q->n_layers - 1;
    r->in = in_steps;
    r->ch = ch;
    r->s_dec = STDBP_QT_SILENT;
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
    r->n_inp = stdbp_hw_sort_inputs(in_steps, n, window, sim->bucket, sim->order);
    r->s = r->n_inp ? stdbp_hw_in_step(in_steps[sim->order[0]], window) : 0;
}

/* Step of the next input to send (only while r->ip < r->n_inp). */
static int64_t next_input_step(const stdbp_hw_sim *sim, const run *r)
{
    return stdbp_hw_in_step(r->in[sim->order[r->ip]], sim->q->params.window);
}

/* Phase A, stepped mode: every active neuron does V += S and compares. */
static void phase_a_stepped(stdbp_hw_sim *sim, run *r)
{
    const stdbp_hw_profile *p = sim->p;
    int64_t window = sim->q->params.window, s = r->s;
    for (int c = 0; c < sim->n_cores; c++) {
        size_t off = sim->c_off[c], n = sim->c_len[c], keep = 0, done = 0;
        int64_t theta = sim->q->layers[sim->m->cores[c].layer].info.theta;
        int64_t *V = sim->V, *S = sim->S;
        int32_t *list = sim->c_list + off;
        /* neuron time is added in bulk: up to each firing (which needs the
         * clock for its packets), then at the end */
        for (size_t a = 0; a < n; a++) {
            int32_t g = list[a];
            V[g] += S[g];
            if (V[g] >= theta && s <= window) {
                if (r->acct)
                    sim->core_t[c] += (double)(a + 1 - done) * p->neuron.time;
                done = a + 1;
                fire(sim, r, g);
            } else {
                list[keep++] = g;
            }
        }
        if (r->acct) {
            sim->core_t[c] += (double)(n - done) * p->neuron.time;
            sim->cc[c].neuron += n;
        }
        sim->c_len[c] = keep;
    }
}

/* Phase A, event mode: the neurons whose candidate is this step fire, in
 * id order. */
static void phase_a_event(stdbp_hw_sim *sim, run *r)
{
    int64_t s = r->s;
    size_t nf = 0;
    if (s <= sim->q->params.window) {
        for (int32_t g = sim->bhead[s]; g >= 0; g = sim->bnext[g]) {
            sim->due[nf++] = g;
            sim->cand[g] = STDBP_QT_SILENT;
        }
        sim->bhead[s] = -1;
    }
    qsort(sim->due, nf, sizeof *sim->due, cmp_i32);
    for (size_t a = 0; a < nf; a++)
        fire(sim, r, sim->due[a]);
}

/* The input port injects the spikes of this step. */
static void inject_inputs(stdbp_hw_sim *sim, run *r)
{
    int nc = sim->n_cores;
    while (r->ip < r->n_inp && next_input_step(sim, r) == r->s) {
        const int32_t e = sim->order[r->ip++];
        const size_t i = (size_t)(r->ch ? r->ch[e] : e);
        if (r->acct)
            sim->cc[nc].fire++; /* counted as input spikes */
        send_packets(sim, r, nc, 0, sim->routes[0], sim->r_start[0][i], sim->r_start[0][i + 1]);
    }
}

/* Event mode, after phase C: one update per touched neuron: its candidate
 * step ceil((theta_q + R) / S), filed in the calendar. */
static void update_candidates(stdbp_hw_sim *sim, run *r)
{
    const stdbp_hw_profile *p = sim->p;
    int64_t window = sim->q->params.window;
    for (int c = 0; c < sim->n_cores; c++) {
        size_t off = sim->c_off[c], n = sim->c_len[c];
        int64_t theta = sim->q->layers[sim->m->cores[c].layer].info.theta;
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
        if (r->acct) {
            sim->cc[c].neuron += n;
            sim->core_t[c] += (double)n * p->neuron.time;
        }
        sim->c_len[c] = 0;
    }
}

/* End of a step: its end time, and the decision if an output fired. */
static void end_step(stdbp_hw_sim *sim, run *r)
{
    if (!r->acct) {
        if (r->out_fired && r->s_dec == STDBP_QT_SILENT)
            r->s_dec = r->s;
        return;
    }
    r->E = r->B;
    for (int c = 0; c <= sim->n_cores; c++)
        if (sim->core_t[c] > r->E)
            r->E = sim->core_t[c];
    r->busy_end = r->E;
    r->steps++;
    if (r->out_fired && r->s_dec == STDBP_QT_SILENT) {
        r->s_dec = r->s;
        r->dec_time = r->E;
        if (sim->p->stop_at_decision)
            r->acct = 0;
    }
}

/* The next step to process into *next; 0 when the image is over. */
static int next_step(const stdbp_hw_sim *sim, const run *r, int64_t *next)
{
    int64_t window = sim->q->params.window, s = r->s;
    if (sim->p->mode != STDBP_HW_EVENT) {
        if (s >= window)
            return 0;
        if (!r->acct) {
            /* nothing can fire any more: no input left and no active
             * neuron with a rising potential (the hardware would not
             * know; it is no longer counted) */
            int live = r->ip < r->n_inp;
            for (int c = 0; c < sim->n_cores && !live; c++)
                for (size_t a = 0; a < sim->c_len[c] && !live; a++)
                    live = sim->S[sim->c_list[sim->c_off[c] + a]] > 0;
            if (!live)
                return 0;
        }
        *next = s + 1;
        return 1;
    }
    /* the next step with an event: the next input, or the earliest
     * non-empty bucket (candidates are always > s) */
    *next = STDBP_QT_SILENT;
    if (r->ip < r->n_inp)
        *next = next_input_step(sim, r);
    for (int64_t b = s + 1; b <= window && b < *next; b++)
        if (sim->bhead[b] >= 0) {
            *next = b;
            break;
        }
    return *next != STDBP_QT_SILENT;
}

/* k's operations other than firing into c (fire and input spikes depend
 * on whether k is a core or the input port). */
static void add_ops(stdbp_hw_counts *c, const stdbp_hw_ccount *k)
{
    c->synapse += k->syn;
    c->mem_read += k->syn;
    c->neuron += k->neuron;
    c->send += k->send;
    c->receive += k->recv;
    c->hops += k->hx + k->hy;
}

/* Dynamic energy and busy time of core c (n_cores: the input port) from
 * its counters k of one image. */
static void core_cost(const stdbp_hw_sim *sim, int c, const stdbp_hw_ccount *k, double *energy,
                      double *busy)
{
    const stdbp_hw_profile *p = sim->p;
    double e = 0.0, t = 0.0;
    if (c < sim->n_cores) {
        e = (double)k->syn * sim->e_syn + (double)k->neuron * p->neuron.energy +
            (double)k->fire * p->fire.energy + (double)k->recv * p->receive.energy;
        t = (double)k->syn * sim->t_syn + (double)k->neuron * p->neuron.time +
            (double)k->fire * p->fire.time + (double)k->recv * p->receive.time +
            (double)k->send * p->send.time;
    } else {
        t = (double)k->send * p->send.time;
    }
    e += (double)k->send * p->send.energy + (double)k->hx * sim->e_hx + (double)k->hy * sim->e_hy;
    *energy = e;
    *busy = t;
}

/* The image's result into res (its totals are not touched). */
static void finish_image(const stdbp_hw_sim *sim, const run *r, stdbp_hw_result *res)
{
    const stdbp_hw_profile *p = sim->p;
    int nc = sim->n_cores;
    memset(res, 0, sizeof *res);
    res->decision =
        stdbp_decide_steps(sim->fired + sim->lbase[r->last], sim->q->layers[r->last].info.n_out);
    res->decision_step = r->s_dec;
    res->busy = (r->s_dec != STDBP_QT_SILENT && p->stop_at_decision) ? r->dec_time : r->busy_end;
    res->latency = r->s_dec != STDBP_QT_SILENT ? r->dec_time : r->busy_end;
    res->steps = r->steps;
    double dyn = 0.0;
    for (int c = 0; c <= nc; c++) {
        const stdbp_hw_ccount *k = &sim->cc[c];
        double e, busy;
        core_cost(sim, c, k, &e, &busy);
        if (c < nc)
            res->counts.fire += k->fire;
        else
            res->counts.input_spikes += k->fire;
        add_ops(&res->counts, k);
        dyn += e;
    }
    res->energy_dynamic = dyn;
    res->energy_static = p->static_power * (double)nc * res->busy;
    res->energy = dyn + res->energy_static;
}

void stdbp_hw_sim_add_image(stdbp_hw_sim *sim, const stdbp_hw_ccount *cc)
{
    int nc = sim->n_cores;
    for (int c = 0; c <= nc; c++) {
        const stdbp_hw_ccount *k = &cc[c];
        stdbp_hw_core_stats *t = &sim->tot[c];
        double e, busy;
        core_cost(sim, c, k, &e, &busy);
        if (c < nc)
            t->counts.fire += k->fire;
        else
            t->counts.input_spikes += k->fire;
        add_ops(&t->counts, k);
        t->energy += e;
        t->busy += busy;
        t->queue_wait += k->wait;
    }
}

void stdbp_hw_sim_run_events(stdbp_hw_sim *sim, const int32_t *ch, const int64_t *steps, size_t n,
                             stdbp_hw_result *res)
{
    int event = sim->p->mode == STDBP_HW_EVENT;
    run r;
    start_image(sim, ch, steps, n, &r);
    for (;;) {
        int64_t next;
        r.out_fired = 0;
        if (r.acct)
            for (int c = 0; c <= sim->n_cores; c++)
                sim->core_t[c] = r.B;
        if (event)
            phase_a_event(sim, &r);
        else
            phase_a_stepped(sim, &r);
        inject_inputs(sim, &r);
        /* phase C: packets in arrival order */
        while (sim->pk_n > 0) {
            stdbp_hw_packet x = pk_pop(sim);
            deliver(sim, &r, &x);
        }
        if (event)
            update_candidates(sim, &r);
        end_step(sim, &r);
        if (!next_step(sim, &r, &next))
            break;
        if (r.acct) {
            double a = r.B + sim->p->time_step * (double)(next - r.s), b = r.E + sim->p->barrier;
            r.B = a > b ? a : b;
        }
        r.s = next;
    }
    finish_image(sim, &r, res);
    res->input_dropped = ch ? (uint64_t)(n - r.n_inp) : 0;
}

void stdbp_hw_sim_run_image(stdbp_hw_sim *sim, const int64_t *in_steps, stdbp_hw_result *res)
{
    stdbp_hw_sim_run_events(sim, NULL, in_steps, sim->n_in, res);
}

void stdbp_hw_sim_run(stdbp_hw_sim *sim, const int64_t *in_steps, stdbp_hw_result *res)
{
    stdbp_hw_sim_run_image(sim, in_steps, res);
    stdbp_hw_sim_add_image(sim, sim->cc);
}
