/* stdbp_hw_deploy: quantise, map, simulate and report, for each bit
 * width. Rank 0 only; nothing here is collective. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "hw/hw_report.h"
#include "hw/hw_sim.h"
#include "util/log.h"

void stdbp_hw_bits_run_free(stdbp_hw_bits_run *r)
{
    free(r->latency);
    free(r->energy);
    free(r->decision);
    free(r->label);
    free(r->layers);
    free(r->core_info);
    free(r->core);
    free(r->spike_err);
    r->spike_err = NULL;
    r->latency = r->energy = NULL;
    r->decision = r->label = NULL;
    r->layers = NULL;
    r->core_info = NULL;
    r->core = NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void add_counts(stdbp_hw_counts *a, const stdbp_hw_counts *b)
{
    a->synapse += b->synapse;
    a->mem_read += b->mem_read;
    a->neuron += b->neuron;
    a->fire += b->fire;
    a->send += b->send;
    a->receive += b->receive;
    a->hops += b->hops;
    a->input_spikes += b->input_spikes;
}

/* The per-image and per-core arrays of r, for n images on m's cores. */
static stdbp_status alloc_run(stdbp_hw_bits_run *r, size_t n, const stdbp_qnet *q,
                              const stdbp_hw_map *m, stdbp_err *err)
{
    r->cores_used = m->n_cores;
    r->n_layers = q->n_layers;
    r->layers = calloc(q->n_layers, sizeof *r->layers);
    r->core_info = calloc((size_t)m->n_cores + 1, sizeof *r->core_info);
    r->core = calloc((size_t)m->n_cores + 1, sizeof *r->core);
    r->latency = malloc((n ? n : 1) * sizeof *r->latency);
    r->energy = malloc((n ? n : 1) * sizeof *r->energy);
    r->decision = malloc((n ? n : 1) * sizeof *r->decision);
    r->label = malloc((n ? n : 1) * sizeof *r->label);
    if (!r->layers || !r->core_info || !r->core || !r->latency || !r->energy || !r->decision ||
        !r->label)
        return stdbp_err_set(err, STDBP_ENOMEM, "deploy: out of memory");
    return STDBP_OK;
}

/* Image i's result into r; *mismatch: its hardware spikes differ from the
 * software model's in some layer. */
static void record_image(stdbp_hw_bits_run *r, size_t i, int label, const stdbp_hw_result *res,
                         int mismatch)
{
    r->mismatches += (size_t)mismatch;
    r->hw_correct += res->decision == label;
    r->undecided += res->decision < 0;
    r->latency[i] = res->latency;
    r->energy[i] = res->energy;
    r->decision[i] = res->decision;
    r->label[i] = label;
    r->sum_latency += res->latency;
    r->sum_busy += res->busy;
    r->sum_energy += res->energy;
    r->sum_dynamic += res->energy_dynamic;
    r->sum_static += res->energy_static;
    r->input_dropped += res->input_dropped;
    r->sum_steps += res->decision >= 0 ? (double)res->decision_step + 1.0 : (double)r->window + 1.0;
    if (res->latency < r->min_latency)
        r->min_latency = res->latency;
    if (res->latency > r->max_latency)
        r->max_latency = res->latency;
    add_counts(&r->counts, &res->counts);
    r->n++;
}

static stdbp_hw_stop_fn stop_check;

void stdbp_hw_set_stop_check(stdbp_hw_stop_fn fn)
{
    stop_check = fn;
}

int stdbp_hw_stop_requested(void)
{
    return stop_check && stop_check();
}

/* One thread's share of the simulation: a quantised workspace with its
 * input buffers, and a simulator. Slot 0 owns the quantised net (qr.q)
 * that the others share read-only, as they share the mapping. */
typedef struct sim_slot {
    stdbp_hw_qrun qr;
    stdbp_hw_sim *sim;
} sim_slot;

/* Images per round of the threads: each round's images are simulated in
 * parallel, then recorded in image order. */
#define SIM_BLOCK_PER_THREAD 16

/* Feed the first n images of test (or event samples: each event an input
 * spike) through the software model and the simulator, over nt threads, with a progress note every
 * 10 s and one at the end. Each image's result and per-core counters are kept and then added in
 * image order into r and slot 0's totals, so the report is bitwise the same for any number of
 * threads. The buffers res, mm and cc hold a round (cc: n_cores + 1 counters per image). Returns
 * the number of images simulated: fewer than n when the stop check asked to stop or
 * (*nomem set) the memory for a sample's events could not be had. */
static size_t simulate_images(sim_slot *slots, int nt, const stdbp_dataset *test,
                              const stdbp_encoding *enc, size_t n, stdbp_hw_bits_run *r,
                              stdbp_hw_result *res, int *mm, stdbp_hw_ccount *cc, int *nomem)
{
    const int events = stdbp_dataset_is_events(test);
    const stdbp_qnet *q = slots[0].qr.q;
    const size_t nc1 = (size_t)slots[0].sim->n_cores + 1, block = SIM_BLOCK_PER_THREAD * (size_t)nt;
    double t0 = now(), last_note = t0;
    r->min_latency = INFINITY;
    r->max_latency = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += block) {
        if (stdbp_hw_stop_requested() || *nomem)
            return i0;
        size_t m = n - i0 < block ? n - i0 : block;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
        for (size_t j = 0; j < m; j++) {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            sim_slot *s = &slots[t];
            stdbp_err ignored;
            if (!events) {
                stdbp_hw_qrun_sample(&s->qr, enc, test, i0 + j);
                stdbp_hw_sim_run_image(s->sim, s->qr.steps, &res[j]);
            } else if (stdbp_hw_qrun_sample(&s->qr, enc, test, i0 + j) &&
                       stdbp_hw_sim_reserve(s->sim, s->qr.n_ev, &ignored) == STDBP_OK) {
                stdbp_hw_sim_run_events(s->sim, s->qr.ev_ch, s->qr.ev_steps, s->qr.n_ev, &res[j]);
            } else {
#ifdef _OPENMP
#pragma omp atomic write
#endif
                *nomem = 1;
                memset(&res[j], 0, sizeof res[j]);
            }
            int mismatch = 0;
            for (size_t l = 0; l < q->n_layers && !mismatch; l++)
                mismatch =
                    memcmp(stdbp_qws_layer_steps(s->qr.ws, l), stdbp_hw_sim_layer_steps(s->sim, l),
                           q->layers[l].info.n_out * sizeof(int64_t)) != 0;
            mm[j] = mismatch;
            memcpy(cc + j * nc1, s->sim->cc, nc1 * sizeof *cc);
        }
        if (*nomem)
            return i0;
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            record_image(r, i, test->labels ? test->labels[i] : -2, &res[j], mm[j]);
            stdbp_hw_sim_add_image(slots[0].sim, cc + j * nc1);
        }
        if (stdbp_log_enabled() && now() - last_note > 10.0) {
            last_note = now();
            stdbp_log(STDBP_LOG_INFO, "hw: %d-bit: %zu/%zu images simulated (%.0f images/s)",
                      r->bits, i0 + m, n, (double)(i0 + m) / (last_note - t0));
        }
    }
    double el = now() - t0;
    stdbp_log(STDBP_LOG_INFO, "hw: %d-bit: %zu images simulated in %.1f s (%.0f images/s)", r->bits,
              n, el, el > 0 ? (double)n / el : 0.0);
    return n;
}

/* The simulator of slot 0 is made by the caller; the other slots get
 * their own workspace, buffers and simulator on q and m. Returns how many
 * slots are usable (at least 1): a thread whose memory cannot be had is
 * left out, which changes nothing but the speed. */
static int make_slots(sim_slot *slots, int want, const stdbp_hw_map *m,
                      const stdbp_hw_profile *prof, size_t dim)
{
    stdbp_err ignored;
    int nt = 1;
    for (; nt < want; nt++) {
        sim_slot *s = &slots[nt];
        s->qr.q = slots[0].qr.q;
        s->qr.times = malloc((dim ? dim : 1) * sizeof *s->qr.times);
        s->qr.steps = malloc((dim ? dim : 1) * sizeof *s->qr.steps);
        if (!s->qr.times || !s->qr.steps ||
            stdbp_qws_create(s->qr.q, &s->qr.ws, &ignored) != STDBP_OK ||
            stdbp_hw_sim_create(s->qr.q, m, prof, &s->sim, &ignored) != STDBP_OK)
            break;
    }
    return nt;
}

/* Free slots 1 .. want (slot 0 is the caller's); they do not own q. */
static void free_slots(sim_slot *slots, int want)
{
    for (int t = 1; slots && t < want; t++) {
        stdbp_hw_sim_destroy(&slots[t].sim);
        stdbp_qws_destroy(&slots[t].qr.ws);
        free(slots[t].qr.times);
        free(slots[t].qr.steps);
        free(slots[t].qr.ev_ch);
        free(slots[t].qr.ev_steps);
    }
}

/* The totals per core, per layer and per kind of operation. */
static void gather_breakdown(const stdbp_qnet *q, const stdbp_hw_map *m, const stdbp_hw_sim *sim,
                             const stdbp_hw_profile *prof, stdbp_hw_bits_run *r)
{
    for (int c = 0; c < m->n_cores; c++) {
        r->core_info[c] = m->cores[c];
        r->core[c] = stdbp_hw_sim_core_stats(sim, c);
    }
    r->port = stdbp_hw_sim_port_stats(sim);
    for (size_t l = 0; l < q->n_layers; l++) {
        stdbp_hw_layer_row *row = &r->layers[l];
        row->info = q->layers[l].info;
        row->first_core = m->layer_first_core[l];
        row->n_cores = m->layer_n_cores[l];
        for (int c = row->first_core; c < row->first_core + row->n_cores; c++) {
            add_counts(&row->counts, &r->core[c].counts);
            row->energy += r->core[c].energy;
        }
    }
    const stdbp_hw_counts *k = &r->counts;
    r->e_synapse = (double)k->synapse * prof->synapse.energy;
    r->e_read = (double)k->mem_read *
                (prof->memory_read.energy + prof->memory_read_per_bit * (double)r->bits);
    r->e_neuron = (double)k->neuron * prof->neuron.energy;
    r->e_fire = (double)k->fire * prof->fire.energy;
    r->e_send = (double)k->send * prof->send.energy;
    r->e_receive = (double)k->receive * prof->receive.energy;
    r->e_hops = r->sum_dynamic -
                (r->e_synapse + r->e_read + r->e_neuron + r->e_fire + r->e_send + r->e_receive);
    if (fabs(r->e_hops) < 1e-9 * (r->sum_dynamic + 1e-30))
        r->e_hops = 0.0; /* rounding */
}

stdbp_status stdbp_hw_run_bits(const stdbp_net *net, const stdbp_dataset *test,
                               const stdbp_encoding *enc, int64_t T, const stdbp_hw_profile *prof,
                               size_t n, int spike_err, stdbp_hw_bits_run *r, stdbp_err *err)
{
    stdbp_quant_params qp = stdbp_quant_defaults();
    stdbp_hw_qrun qr;
    stdbp_hw_map *m = NULL;
    stdbp_hw_sim *sim = NULL;
    sim_slot *slots = NULL;
    stdbp_hw_result *res = NULL;
    stdbp_hw_ccount *cc = NULL;
    int *mm = NULL, want = 1, nomem = 0;
    stdbp_status st;

    qp.bits = r->bits;
    qp.time_steps = T;
    qp.t_max = enc->t_max;
    if ((st = stdbp_hw_qrun_create(net, &qp, test->dim, &qr, err)))
        return st;
    r->window = qr.q->params.window;
    r->dt = qr.q->dt;
    if ((st = stdbp_hw_map_create(qr.q, prof, &m, err)) ||
        (st = stdbp_hw_sim_create(qr.q, m, prof, &sim, err)) ||
        (st = alloc_run(r, n, qr.q, m, err)))
        goto done;
#ifdef _OPENMP
    want = omp_get_max_threads();
#endif
    want = want < 1 ? 1 : (size_t)want > n ? (n > 1 ? (int)n : 1) : want;
    size_t block = SIM_BLOCK_PER_THREAD * (size_t)want, nc1 = (size_t)m->n_cores + 1;
    slots = calloc((size_t)want, sizeof *slots);
    res = malloc(block * sizeof *res);
    mm = malloc(block * sizeof *mm);
    cc = malloc(block * nc1 * sizeof *cc);
    if (!slots || !res || !mm || !cc) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "deploy: out of memory");
        goto done;
    }
    slots[0].qr = qr;
    slots[0].sim = sim;
    int nt = make_slots(slots, want, m, prof, test->dim);
    size_t done_n = simulate_images(slots, nt, test, enc, n, r, res, mm, cc, &nomem);
    if (nomem) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory for the events of sample %zu", done_n);
        goto done;
    }
    if (done_n < n) {
        st =
            stdbp_err_set(err, STDBP_EIO, "stopped by a signal after %zu of %zu images", done_n, n);
        goto done;
    }
    gather_breakdown(qr.q, m, sim, prof, r);
    /* the spike-time error table compares per-channel input times: not
     * measured for event input */
    if (stdbp_dataset_is_events(test))
        r->float_decision_max = -1.0;
    else if (spike_err && (st = stdbp_hw_spike_errors(net, qr.q, test, enc, r, err)))
        goto done;
    r->simulated = 1;
done:
    free_slots(slots, want);
    free(slots);
    free(res);
    free(mm);
    free(cc);
    stdbp_hw_sim_destroy(&sim);
    stdbp_hw_map_destroy(&m);
    stdbp_hw_qrun_free(&qr);
    return st;
}

static stdbp_status make_dir(const char *dir, stdbp_err *err)
{
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return STDBP_OK;
        return stdbp_err_set(err, STDBP_EIO, "deploy: %s exists and is not a directory", dir);
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return stdbp_err_set(err, STDBP_EIO, "deploy: cannot create directory %s: %s", dir,
                             strerror(errno));
    return STDBP_OK;
}

static stdbp_status check_args(const stdbp_net *net, const stdbp_dataset *test, const int *bits,
                               size_t n_bits, const char *out_dir, stdbp_err *err)
{
    if (!net || !test || !bits || n_bits == 0 || !out_dir)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "deploy: needs a network, a test set, at least one bit width, a "
                             "profile and an output directory");
    if (test->dim != stdbp_net_input_size(net))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "deploy: %s has %zu values per sample, the network takes %zu",
                             test->source, test->dim, stdbp_net_input_size(net));
    for (size_t b = 0; b < n_bits; b++)
        if (bits[b] < STDBP_QBITS_MIN || bits[b] > STDBP_QBITS_MAX)
            return stdbp_err_set(err, STDBP_ERANGE,
                                 "deploy: bits[%zu] = %d: bit widths must lie in [%d, %d]", b,
                                 bits[b], STDBP_QBITS_MIN, STDBP_QBITS_MAX);
    for (size_t b = 0; b < n_bits; b++)
        for (size_t c = 0; c < b; c++)
            if (bits[b] == bits[c])
                return stdbp_err_set(err, STDBP_EINVAL, "deploy: bit width %d is listed twice",
                                     bits[b]);
    return STDBP_OK;
}

/* run_bits for each width into runs[n_bits] (bits and acc filled in): a
 * width that does not fit is noted and skipped; fails (STDBP_EFIT) when
 * none fits. */
static stdbp_status run_widths(const stdbp_net *net, const stdbp_dataset *test,
                               const stdbp_encoding *enc, int64_t T, const stdbp_hw_profile *prof,
                               size_t n, stdbp_hw_bits_run *runs, size_t n_bits, stdbp_err *err)
{
    int any = 0;
    for (size_t b = 0; b < n_bits; b++) {
        stdbp_err e2;
        stdbp_err_clear(&e2);
        stdbp_status st = stdbp_hw_run_bits(net, test, enc, T, prof, n, 1, &runs[b], &e2);
        if (st == STDBP_EFIT) {
            snprintf(runs[b].note, sizeof runs[b].note, "%s", e2.msg);
            stdbp_hw_bits_run_free(&runs[b]);
            runs[b].simulated = 0;
            runs[b].n = 0;
            stdbp_log(STDBP_LOG_INFO, "hw: %d-bit: not simulated: %s", runs[b].bits, e2.msg);
            continue;
        }
        if (st) {
            if (err) {
                *err = e2;
                stdbp_err_prefix(err, "deploy (%d-bit): ", runs[b].bits);
            }
            return st;
        }
        any = 1;
    }
    if (!any)
        return stdbp_err_set(err, STDBP_EFIT, "deploy: no bit width fits profile %s: %s",
                             prof->name, runs[0].note);
    return STDBP_OK;
}

/* Print rep to table (if not NULL) and write report.json and report.h5
 * into out_dir. */
static stdbp_status write_report(const stdbp_hw_report *rep, const char *out_dir, FILE *table,
                                 stdbp_err *err)
{
    stdbp_status st;
    size_t len = strlen(out_dir) + sizeof "/report.json";
    char *path = malloc(len);
    if (!path)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if (table)
        stdbp_hw_report_print(rep, table);
    snprintf(path, len, "%s/report.json", out_dir);
    st = stdbp_hw_report_json(rep, path, err);
    snprintf(path, len, "%s/report.h5", out_dir);
    if (!st)
        st = stdbp_hw_report_h5(rep, path, err);
    free(path);
    if (st)
        return st;
    stdbp_log(STDBP_LOG_INFO, "hw: report written to %s/report.json and %s/report.h5", out_dir,
              out_dir);
    return STDBP_OK;
}

static void summarise(const stdbp_hw_bits_run *r, stdbp_hw_summary *s)
{
    memset(s, 0, sizeof *s);
    s->bits = r->bits;
    s->simulated = r->simulated;
    s->n = r->acc.n;
    s->float_accuracy = r->acc.n ? (double)r->acc.float_correct / r->acc.n : 0.0;
    s->quant_accuracy = r->acc.n ? (double)r->acc.quant_correct / r->acc.n : 0.0;
    if (!r->simulated || r->n == 0)
        return;
    s->hw_accuracy = (double)r->hw_correct / r->n;
    s->spike_mismatches = r->mismatches;
    s->power_mw = r->sum_busy > 0 ? 1e3 * r->sum_energy / r->sum_busy : 0.0;
    s->latency_ms = 1e3 * r->sum_latency / r->n;
    s->energy_uj = 1e6 * r->sum_energy / r->n;
    s->throughput = r->sum_busy > 0 ? r->n / r->sum_busy : 0.0;
    s->cores_used = r->cores_used;
}

stdbp_status stdbp_hw_deploy(const stdbp_net *net, const stdbp_dataset *test,
                             const stdbp_encoding *enc_in, const int *bits, size_t n_bits,
                             int64_t time_steps, const char *profile_path, size_t n_samples,
                             const char *out_dir, FILE *table, stdbp_hw_summary *summary,
                             stdbp_err *err)
{
    stdbp_hw_profile prof;
    stdbp_encoding enc = enc_in ? *enc_in : stdbp_encoding_defaults();
    stdbp_quant_acc *acc = NULL;
    stdbp_hw_bits_run *runs = NULL;
    stdbp_status st;
    int64_t T = time_steps > 0 ? time_steps : 256;

    if ((st = check_args(net, test, bits, n_bits, out_dir, err)))
        return st;
    size_t n = (n_samples == 0 || n_samples > test->n) ? test->n : n_samples;
    st = (profile_path && profile_path[0]) ? stdbp_hw_profile_load(profile_path, &prof, err)
                                           : stdbp_hw_profile_load_default(&prof, err);
    if (st)
        return st;
    if ((st = make_dir(out_dir, err)))
        return st;

    acc = calloc(n_bits, sizeof *acc);
    runs = calloc(n_bits, sizeof *runs);
    if (!acc || !runs) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "deploy: out of memory");
        goto done;
    }
    stdbp_log(STDBP_LOG_INFO,
              "hw: float vs quantised accuracy on %zu images of %s (T = %lld steps)", n,
              test->source, (long long)T);
    if ((st = stdbp_quant_accuracy(net, test, &enc, bits, n_bits, T, n, acc, err)))
        goto done;
    for (size_t b = 0; b < n_bits; b++) {
        runs[b].bits = bits[b];
        runs[b].acc = acc[b];
    }
    if ((st = run_widths(net, test, &enc, T, &prof, n, runs, n_bits, err)))
        goto done;

    stdbp_hw_report rep;
    rep.profile = &prof;
    rep.time_steps = T;
    rep.t_max = enc.t_max;
    rep.n_samples = n;
    rep.dataset = test->source;
    rep.events = stdbp_dataset_is_events(test);
    rep.n_runs = n_bits;
    rep.runs = runs;
    if ((st = write_report(&rep, out_dir, table, err)))
        goto done;
    if (summary)
        for (size_t b = 0; b < n_bits; b++)
            summarise(&runs[b], &summary[b]);
done:
    if (runs)
        for (size_t b = 0; b < n_bits; b++)
            stdbp_hw_bits_run_free(&runs[b]);
    free(runs);
    free(acc);
    return st;
}
