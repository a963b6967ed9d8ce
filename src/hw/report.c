/* The deployment report as a table and as JSON (report.json). The layout
 * of both is documented in docs/HARDWARE.md ("Report"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw_report.h"
#include "util/fsutil.h"

#define STDBP_REPORT_VERSION 1

static const char *mode_name(stdbp_hw_mode m)
{
    return m == STDBP_HW_EVENT ? "event" : "stepped";
}

const char *stdbp_hw_report_assumptions(const stdbp_hw_profile *p, char *buf, size_t len)
{
    char step[64];
    if (p->time_step > 0)
        snprintf(step, sizeof step, "a step lasts at least %g ms", p->time_step * 1e3);
    else
        snprintf(step, sizeof step, "no minimum step period");
    snprintf(buf, len,
             "%s mode, %s, barrier %g ns, %g pJ per synaptic update + %g pJ + %g pJ per weight "
             "bit to read the weight, %g pJ per neuron update, %g pJ per packet sent, static %g "
             "mW per core in use, image ends at %s, one image at a time, no link contention",
             mode_name(p->mode), step, p->barrier * 1e9, p->synapse.energy * 1e12,
             p->memory_read.energy * 1e12, p->memory_read_per_bit * 1e12, p->neuron.energy * 1e12,
             p->send.energy * 1e12, p->static_power * 1e3,
             p->stop_at_decision ? "the decision" : "the last event");
    return buf;
}

static double per_image(double total, size_t n)
{
    return n ? total / (double)n : 0.0;
}

static double power_mw(const stdbp_hw_bits_run *r)
{
    return r->sum_busy > 0 ? 1e3 * r->sum_energy / r->sum_busy : 0.0;
}

const char *stdbp_hw_report_comparison(const stdbp_hw_report *rep, const stdbp_hw_bits_run *r,
                                       char *buf, size_t len)
{
    char as[512];
    stdbp_hw_report_assumptions(rep->profile, as, sizeof as);
    snprintf(buf, len,
             "paper (Zhang et al. 2022, accelerator details not public): %.3f mW, %.2f ms per "
             "MNIST image; this model (profile %s, %d-bit weights, T = %lld steps): %.4g mW, "
             "%.4g ms, %.4g uJ per image. Not a like-for-like comparison; the profile assumes: %s.",
             STDBP_PAPER_POWER_MW, STDBP_PAPER_LATENCY_MS, rep->profile->name, r->bits,
             (long long)rep->time_steps, power_mw(r), 1e3 * per_image(r->sum_latency, r->n),
             1e6 * per_image(r->sum_energy, r->n), as);
    return buf;
}

const char *stdbp_hw_report_decomposition(const stdbp_hw_bits_run *r, char *buf, size_t len)
{
    size_t n = r->n;
    double steps = per_image(r->sum_steps, n), lat = per_image(r->sum_latency, n);
    double busy = per_image(r->sum_busy, n), dyn = per_image(r->sum_dynamic, n);
    double stat = per_image(r->sum_static, n), e = per_image(r->sum_energy, n);
    double p_static = busy > 0 ? stat / busy : 0.0;
    double paper_lat = STDBP_PAPER_LATENCY_MS * 1e-3;
    double paper_e = STDBP_PAPER_POWER_MW * 1e-3 * paper_lat;
    double paper_static = (paper_e - dyn) / paper_lat;
    char leak[160];
    if (paper_static >= 0)
        snprintf(leak, sizeof leak, "a static (leakage) power of %.4g mW (%.4g uJ static)",
                 1e3 * paper_static, 1e6 * (paper_e - dyn));
    else
        snprintf(leak, sizeof leak,
                 "no leakage at all: this model's dynamic energy alone exceeds it");
    snprintf(buf, len,
             "decomposition: latency %.4g ms = %.4g decision steps x %.4g us per step; energy "
             "%.4g uJ = %.4g uJ dynamic + %.4g mW static x %.4g ms busy = %.4g uJ. The paper's "
             "%.2f ms and %.3f mW (%.4g uJ) per image imply, at these %.4g decision steps and "
             "%.4g uJ dynamic: a step period of %.4g us and %s",
             1e3 * lat, steps, steps > 0 ? 1e6 * lat / steps : 0.0, 1e6 * e, 1e6 * dyn,
             1e3 * p_static, 1e3 * busy, 1e6 * stat, STDBP_PAPER_LATENCY_MS, STDBP_PAPER_POWER_MW,
             1e6 * paper_e, steps, 1e6 * dyn, steps > 0 ? 1e6 * paper_lat / steps : 0.0, leak);
    return buf;
}

/* ---- table ---------------------------------------------------------- */

static double pct(size_t k, size_t n)
{
    return n ? 100.0 * (double)k / (double)n : 0.0;
}

/* The details of one simulated width: latency, energy, mesh, layers,
 * cores and the comparison with the paper. */
static void print_run(const stdbp_hw_report *rep, const stdbp_hw_bits_run *r, FILE *out)
{
    char buf[2048];
    size_t n = r->n;
    fprintf(out, "\n  %d-bit: latency %.4g ms mean (min %.4g, max %.4g), window %lld steps\n",
            r->bits, 1e3 * per_image(r->sum_latency, n), 1e3 * r->min_latency, 1e3 * r->max_latency,
            (long long)r->window);
    fprintf(out,
            "  energy per image (uJ): synaptic %.4g, memory %.4g, neuron %.4g, fire %.4g, "
            "send %.4g, receive %.4g, hops %.4g, static %.4g; total %.4g\n",
            1e6 * per_image(r->e_synapse, n), 1e6 * per_image(r->e_read, n),
            1e6 * per_image(r->e_neuron, n), 1e6 * per_image(r->e_fire, n),
            1e6 * per_image(r->e_send, n), 1e6 * per_image(r->e_receive, n),
            1e6 * per_image(r->e_hops, n), 1e6 * per_image(r->sum_static, n),
            1e6 * per_image(r->sum_energy, n));
    fprintf(out, "  mesh per image: %.1f packets, %.1f hops (%.2f per packet)\n",
            per_image((double)r->counts.send, n), per_image((double)r->counts.hops, n),
            r->counts.send ? (double)r->counts.hops / (double)r->counts.send : 0.0);
    fprintf(out, "  %-22s %8s %6s %10s %8s %11s %10s %9s %9s %9s\n", "layer", "neurons", "cores",
            "synapses", "theta_q", "spikes/img", "syn-ops/img", "nrn-ops", "packets", "uJ/img");
    fprintf(out, "  %-22s %8zu %6s %10s %8s %11.1f %10s %9s %9.1f %9.4g\n", "input",
            r->layers[0].info.n_in, "port", "-", "-",
            per_image((double)r->port.counts.input_spikes, n), "-", "-",
            per_image((double)r->port.counts.send, n), 1e6 * per_image(r->port.energy, n));
    for (size_t l = 0; l < r->n_layers; l++) {
        const stdbp_hw_layer_row *row = &r->layers[l];
        fprintf(out, "  %-22s %8zu %6d %10zu %8lld %11.1f %10.1f %9.1f %9.1f %9.4g\n",
                row->info.desc, row->info.n_out, row->n_cores, row->info.n_synapses,
                (long long)row->info.theta, per_image((double)row->counts.fire, n),
                per_image((double)row->counts.synapse, n), per_image((double)row->counts.neuron, n),
                per_image((double)row->counts.send, n), 1e6 * per_image(row->energy, n));
    }
    fprintf(out, "  %5s %5s %7s %8s %9s %6s %11s %10s %9s %7s %10s\n", "core", "layer", "(x,y)",
            "neurons", "synapses", "axons", "syn-ops/img", "nrn-ops", "uJ/img", "util%", "wait_us");
    int shown = 0;
    for (int c = 0; c < r->cores_used; c++) {
        if (r->cores_used > 24 && c >= 12 && c < r->cores_used - 4) {
            if (!shown++)
                fprintf(out, "  ... (%d more cores in report.json)\n", r->cores_used - 16);
            continue;
        }
        const stdbp_hw_core_info *ci = &r->core_info[c];
        const stdbp_hw_core_stats *cs = &r->core[c];
        char xy[32];
        snprintf(xy, sizeof xy, "(%d,%d)", ci->x, ci->y);
        fprintf(out, "  %5d %5zu %7s %8zu %9zu %6zu %11.1f %10.1f %9.4g %7.2f %10.4g\n", c,
                ci->layer, xy, ci->count, ci->synapses, ci->axons,
                per_image((double)cs->counts.synapse, n), per_image((double)cs->counts.neuron, n),
                1e6 * per_image(cs->energy, n),
                r->sum_busy > 0 ? 100.0 * cs->busy / r->sum_busy : 0.0,
                1e6 * per_image(cs->queue_wait, n));
    }
    if (rep->events)
        fprintf(out,
                "  input events: %llu sent as input spikes, %llu after the window (step %lld) "
                "dropped\n",
                (unsigned long long)r->counts.input_spikes, (unsigned long long)r->input_dropped,
                (long long)r->window);
    if (r->mismatches)
        fprintf(out,
                "  WARNING: %zu images whose hardware spikes differ from the software "
                "model: a simulator bug; please report it\n",
                r->mismatches);
    if (r->spike_err) {
        fprintf(out,
                "  float vs quantised spikes (error in steps = step_q - t_float / dt; window "
                "%lld steps, latest float decision at step %.1f):\n",
                (long long)r->window, r->float_decision_max);
        fprintf(out, "  %-22s %11s %11s %9s %9s %8s %10s %10s %10s %9s\n", "layer", "float/img",
                "quant/img", "err_mean", "err_max", "moved%", "lost_win%", "(early)", "lost_oth%",
                "extra/img");
        for (size_t l = 0; l < r->n_layers; l++) {
            const stdbp_hw_spike_err *e = &r->spike_err[l];
            fprintf(out, "  %-22s %11.1f %11.1f %9.3f %9.3f %8.2f %10.3f %10zu %10.3f %9.2f\n",
                    r->layers[l].info.desc, per_image((double)e->float_spikes, n),
                    per_image((double)e->quant_spikes, n), e->both ? e->sum_abs / e->both : 0.0,
                    e->max_abs, pct(e->moved, e->both), pct(e->lost_window, e->float_spikes),
                    e->lost_window_early, pct(e->lost_other, e->float_spikes),
                    per_image((double)e->extra, n));
        }
    }
    fprintf(out, "  %s\n", stdbp_hw_report_decomposition(r, buf, sizeof buf));
    fprintf(out, "  %s\n", stdbp_hw_report_comparison(rep, r, buf, sizeof buf));
}

void stdbp_hw_report_print(const stdbp_hw_report *rep, FILE *out)
{
    const stdbp_hw_profile *p = rep->profile;
    fprintf(out, "\nhardware report: profile %s (%s), %s mode, %d cores of %d neurons\n", p->name,
            p->source[0] ? p->source : "in memory", mode_name(p->mode), p->cores,
            p->neurons_per_core);
    fprintf(out, "  %zu images of %s, T = %lld steps for t_max = %g\n\n", rep->n_samples,
            rep->dataset ? rep->dataset : "?", (long long)rep->time_steps, rep->t_max);
    fprintf(out, "  bits  float%%  quant%%    hw%%  mismatch  undecided  cores   power_mW  "
                 "latency_ms  energy_uJ   images/s\n");
    for (size_t b = 0; b < rep->n_runs; b++) {
        const stdbp_hw_bits_run *r = &rep->runs[b];
        fprintf(out, "  %4d  %6.2f  %6.2f", r->bits, pct(r->acc.float_correct, r->acc.n),
                pct(r->acc.quant_correct, r->acc.n));
        if (!r->simulated) {
            fprintf(out, "  not simulated: %s\n", r->note);
            continue;
        }
        fprintf(out, "  %6.2f  %8zu  %9zu  %5d  %9.4g  %10.4g  %9.4g  %9.4g\n",
                pct(r->hw_correct, r->n), r->mismatches, r->undecided, r->cores_used, power_mw(r),
                1e3 * per_image(r->sum_latency, r->n), 1e6 * per_image(r->sum_energy, r->n),
                r->sum_busy > 0 ? (double)r->n / r->sum_busy : 0.0);
    }
    for (size_t b = 0; b < rep->n_runs; b++)
        if (rep->runs[b].simulated)
            print_run(rep, &rep->runs[b], out);
    fprintf(out, "\n");
    fflush(out);
}

/* ---- JSON ----------------------------------------------------------- */

void stdbp_hw_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
    else
        fputs("null", f);
}

static void jkey(FILE *f, int *first, const char *k)
{
    fputs(*first ? "" : ", ", f);
    *first = 0;
    stdbp_hw_json_str(f, k);
    fputs(": ", f);
}

static void jkv_num(FILE *f, int *first, const char *k, double v)
{
    jkey(f, first, k);
    jnum(f, v);
}

static void jkv_int(FILE *f, int *first, const char *k, long long v)
{
    jkey(f, first, k);
    fprintf(f, "%lld", v);
}

static void jkv_str(FILE *f, int *first, const char *k, const char *v)
{
    jkey(f, first, k);
    stdbp_hw_json_str(f, v);
}

static void jop(FILE *f, int *first, const char *k, const stdbp_hw_op *o)
{
    int fi = 1;
    jkey(f, first, k);
    fputc('{', f);
    jkv_num(f, &fi, "energy_pj", o->energy * 1e12);
    jkv_num(f, &fi, "time_ns", o->time * 1e9);
    fputc('}', f);
}

static void json_profile(FILE *f, const stdbp_hw_profile *p)
{
    int fi = 1;
    char as[512];
    fputc('{', f);
    jkv_str(f, &fi, "name", p->name);
    jkv_str(f, &fi, "source", p->source);
    jkv_str(f, &fi, "mode", mode_name(p->mode));
    jkv_int(f, &fi, "cores", p->cores);
    jkv_int(f, &fi, "neurons_per_core", p->neurons_per_core);
    jkv_int(f, &fi, "synapses_per_core", p->synapses_per_core);
    jkv_int(f, &fi, "synapse_bytes_per_core", p->synapse_bytes);
    jkv_int(f, &fi, "synapse_overhead_bits", p->synapse_overhead_bits);
    jkv_int(f, &fi, "axons_per_core", p->axons_per_core);
    jkv_int(f, &fi, "max_weight_bits", p->max_weight_bits);
    jkv_int(f, &fi, "mesh_width", p->mesh_width);
    jkv_int(f, &fi, "mesh_height", p->mesh_height);
    jkv_int(f, &fi, "cores_per_tile", p->cores_per_tile);
    jkey(f, &fi, "input_port");
    fprintf(f, "[%d, %d]", p->input_x, p->input_y);
    jop(f, &fi, "hop_x", &p->hop_x);
    jop(f, &fi, "hop_y", &p->hop_y);
    jkv_num(f, &fi, "clock_mhz", p->clock_hz * 1e-6);
    jkv_num(f, &fi, "time_step_ns", p->time_step * 1e9);
    jkv_num(f, &fi, "barrier_ns", p->barrier * 1e9);
    jop(f, &fi, "synapse", &p->synapse);
    jop(f, &fi, "memory_read", &p->memory_read);
    jkv_num(f, &fi, "memory_read_pj_per_bit", p->memory_read_per_bit * 1e12);
    jop(f, &fi, "neuron", &p->neuron);
    jop(f, &fi, "fire", &p->fire);
    jop(f, &fi, "send", &p->send);
    jop(f, &fi, "receive", &p->receive);
    jkv_num(f, &fi, "static_mw_per_core", p->static_power * 1e3);
    jkey(f, &fi, "stop_at_decision");
    fputs(p->stop_at_decision ? "true" : "false", f);
    jkv_str(f, &fi, "assumptions", stdbp_hw_report_assumptions(p, as, sizeof as));
    fputc('}', f);
}

static void json_counts(FILE *f, int *first, const char *k, const stdbp_hw_counts *c, size_t n)
{
    int fi = 1;
    jkey(f, first, k);
    fputc('{', f);
    jkv_num(f, &fi, "synaptic_updates", per_image((double)c->synapse, n));
    jkv_num(f, &fi, "memory_reads", per_image((double)c->mem_read, n));
    jkv_num(f, &fi, "neuron_updates", per_image((double)c->neuron, n));
    jkv_num(f, &fi, "spikes", per_image((double)c->fire, n));
    jkv_num(f, &fi, "packets_sent", per_image((double)c->send, n));
    jkv_num(f, &fi, "packets_received", per_image((double)c->receive, n));
    jkv_num(f, &fi, "hops", per_image((double)c->hops, n));
    jkv_num(f, &fi, "input_spikes", per_image((double)c->input_spikes, n));
    fputc('}', f);
}

static void json_accuracy(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    int a = 1;
    jkey(f, first, "accuracy");
    fputc('{', f);
    jkv_int(f, &a, "samples", (long long)r->acc.n);
    jkv_num(f, &a, "float", r->acc.n ? (double)r->acc.float_correct / r->acc.n : 0.0);
    jkv_num(f, &a, "quantised", r->acc.n ? (double)r->acc.quant_correct / r->acc.n : 0.0);
    if (r->simulated)
        jkv_num(f, &a, "hardware", r->n ? (double)r->hw_correct / r->n : 0.0);
    jkv_num(f, &a, "float_quantised_agree", r->acc.n ? (double)r->acc.agree / r->acc.n : 0.0);
    jkv_int(f, &a, "float_silent", (long long)r->acc.float_silent);
    jkv_int(f, &a, "quantised_silent", (long long)r->acc.quant_silent);
    fputc('}', f);
}

/* Energy per image by kind, mesh traffic and the input port. */
static void json_energy_mesh(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    size_t n = r->n;
    int e = 1, m = 1, a = 1;
    jkey(f, first, "energy_uj_per_image");
    fputc('{', f);
    jkv_num(f, &e, "synaptic", 1e6 * per_image(r->e_synapse, n));
    jkv_num(f, &e, "memory_read", 1e6 * per_image(r->e_read, n));
    jkv_num(f, &e, "neuron", 1e6 * per_image(r->e_neuron, n));
    jkv_num(f, &e, "fire", 1e6 * per_image(r->e_fire, n));
    jkv_num(f, &e, "send", 1e6 * per_image(r->e_send, n));
    jkv_num(f, &e, "receive", 1e6 * per_image(r->e_receive, n));
    jkv_num(f, &e, "hops", 1e6 * per_image(r->e_hops, n));
    jkv_num(f, &e, "dynamic", 1e6 * per_image(r->sum_dynamic, n));
    jkv_num(f, &e, "static", 1e6 * per_image(r->sum_static, n));
    jkv_num(f, &e, "total", 1e6 * per_image(r->sum_energy, n));
    fputc('}', f);
    json_counts(f, first, "ops_per_image", &r->counts, n);
    jkey(f, first, "mesh");
    fputc('{', f);
    jkv_num(f, &m, "packets_per_image", per_image((double)r->counts.send, n));
    jkv_num(f, &m, "hops_per_image", per_image((double)r->counts.hops, n));
    jkv_num(f, &m, "hops_per_packet",
            r->counts.send ? (double)r->counts.hops / (double)r->counts.send : 0.0);
    fputc('}', f);
    jkey(f, first, "input_port");
    fputc('{', f);
    json_counts(f, &a, "ops_per_image", &r->port.counts, n);
    jkv_num(f, &a, "energy_uj_per_image", 1e6 * per_image(r->port.energy, n));
    fputc('}', f);
}

static void json_layers(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    jkey(f, first, "layers");
    fputs("[\n", f);
    for (size_t l = 0; l < r->n_layers; l++) {
        const stdbp_hw_layer_row *row = &r->layers[l];
        int a = 1;
        fputs("      {", f);
        jkv_str(f, &a, "layer", row->info.desc);
        jkv_int(f, &a, "net_layer", (long long)row->info.net_layer);
        jkv_int(f, &a, "neurons", (long long)row->info.n_out);
        jkv_int(f, &a, "synapses", (long long)row->info.n_synapses);
        jkv_int(f, &a, "first_core", row->first_core);
        jkv_int(f, &a, "cores", row->n_cores);
        jkv_num(f, &a, "scale", row->info.scale);
        jkv_int(f, &a, "theta_q", (long long)row->info.theta);
        jkv_num(f, &a, "weight_error_max", row->info.w_err_max);
        jkv_int(f, &a, "accumulator_bits", row->info.acc_bits);
        json_counts(f, &a, "ops_per_image", &row->counts, r->n);
        jkv_num(f, &a, "energy_uj_per_image", 1e6 * per_image(row->energy, r->n));
        fputs(l + 1 < r->n_layers ? "},\n" : "}\n", f);
    }
    fputs("    ]", f);
}

static void json_cores(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    size_t n = r->n;
    jkey(f, first, "cores");
    fputs("[\n", f);
    for (int c = 0; c < r->cores_used; c++) {
        const stdbp_hw_core_info *ci = &r->core_info[c];
        const stdbp_hw_core_stats *cs = &r->core[c];
        int a = 1;
        fputs("      {", f);
        jkv_int(f, &a, "core", c);
        jkv_int(f, &a, "layer", (long long)ci->layer);
        jkv_int(f, &a, "x", ci->x);
        jkv_int(f, &a, "y", ci->y);
        jkv_int(f, &a, "neurons", (long long)ci->count);
        jkv_int(f, &a, "first_neuron", (long long)ci->first);
        jkv_int(f, &a, "synapses", (long long)ci->synapses);
        jkv_int(f, &a, "axons", (long long)ci->axons);
        json_counts(f, &a, "ops_per_image", &cs->counts, n);
        jkv_num(f, &a, "energy_uj_per_image", 1e6 * per_image(cs->energy, n));
        jkv_num(f, &a, "utilisation", r->sum_busy > 0 ? cs->busy / r->sum_busy : 0.0);
        jkv_num(f, &a, "queue_wait_us_per_image", 1e6 * per_image(cs->queue_wait, n));
        fputs(c + 1 < r->cores_used ? "},\n" : "}\n", f);
    }
    fputs("    ]", f);
}

/* The decomposition of latency and energy, and the paper's implied step
 * period and leakage. */
static void json_decomposition(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    size_t n = r->n;
    int a = 1;
    char buf[1024];
    double steps = per_image(r->sum_steps, n), lat = per_image(r->sum_latency, n);
    double busy = per_image(r->sum_busy, n), dyn = per_image(r->sum_dynamic, n);
    double paper_lat = STDBP_PAPER_LATENCY_MS * 1e-3;
    double paper_e = STDBP_PAPER_POWER_MW * 1e-3 * paper_lat;
    jkey(f, first, "decomposition");
    fputc('{', f);
    jkv_num(f, &a, "decision_steps", steps);
    jkv_num(f, &a, "step_period_us", steps > 0 ? 1e6 * lat / steps : 0.0);
    jkv_num(f, &a, "dynamic_uj", 1e6 * dyn);
    jkv_num(f, &a, "static_mw", busy > 0 ? 1e3 * per_image(r->sum_static, n) / busy : 0.0);
    jkv_num(f, &a, "busy_ms", 1e3 * busy);
    jkv_num(f, &a, "static_uj", 1e6 * per_image(r->sum_static, n));
    jkv_num(f, &a, "paper_energy_uj", 1e6 * paper_e);
    jkv_num(f, &a, "paper_step_period_us", steps > 0 ? 1e6 * paper_lat / steps : 0.0);
    jkv_num(f, &a, "paper_static_mw", 1e3 * (paper_e - dyn) / paper_lat);
    jkv_str(f, &a, "line", stdbp_hw_report_decomposition(r, buf, sizeof buf));
    fputc('}', f);
}

/* Float against quantised spikes per layer. */
static void json_spike_err(FILE *f, int *first, const stdbp_hw_bits_run *r)
{
    jkey(f, first, "spike_error");
    fputc('{', f);
    int a = 1;
    jkv_int(f, &a, "window_steps", (long long)r->window);
    jkv_num(f, &a, "float_decision_max_step", r->float_decision_max);
    jkey(f, &a, "layers");
    fputs("[\n", f);
    for (size_t l = 0; l < r->n_layers; l++) {
        const stdbp_hw_spike_err *e = &r->spike_err[l];
        int b = 1;
        fputs("      {", f);
        jkv_str(f, &b, "layer", r->layers[l].info.desc);
        jkv_int(f, &b, "float_spikes", (long long)e->float_spikes);
        jkv_int(f, &b, "quantised_spikes", (long long)e->quant_spikes);
        jkv_int(f, &b, "both", (long long)e->both);
        jkv_num(f, &b, "error_mean_steps", e->both ? e->sum_abs / e->both : 0.0);
        jkv_num(f, &b, "error_max_steps", e->max_abs);
        jkv_num(f, &b, "moved_fraction", e->both ? (double)e->moved / e->both : 0.0);
        jkv_num(f, &b, "lost_to_window_fraction",
                e->float_spikes ? (double)e->lost_window / e->float_spikes : 0.0);
        jkv_int(f, &b, "lost_to_window_before_decision", (long long)e->lost_window_early);
        jkv_num(f, &b, "lost_other_fraction",
                e->float_spikes ? (double)e->lost_other / e->float_spikes : 0.0);
        jkv_int(f, &b, "extra_spikes", (long long)e->extra);
        fputs(l + 1 < r->n_layers ? "},\n" : "}\n", f);
    }
    fputs("    ]}", f);
}

static void json_run(FILE *f, const stdbp_hw_report *rep, const stdbp_hw_bits_run *r)
{
    int fi = 1;
    size_t n = r->n;
    char buf[2048];
    fputs("    {", f);
    jkv_int(f, &fi, "bits", r->bits);
    jkey(f, &fi, "simulated");
    fputs(r->simulated ? "true" : "false", f);
    jkv_str(f, &fi, "note", r->note);
    json_accuracy(f, &fi, r);
    if (!r->simulated) {
        fputs("}", f);
        return;
    }
    jkv_int(f, &fi, "images", (long long)n);
    jkv_int(f, &fi, "spike_mismatches", (long long)r->mismatches);
    jkv_int(f, &fi, "undecided", (long long)r->undecided);
    jkv_int(f, &fi, "cores_used", r->cores_used);
    jkv_int(f, &fi, "window_steps", (long long)r->window);
    if (rep->events) {
        jkv_int(f, &fi, "input_events_sent", (long long)r->counts.input_spikes);
        jkv_int(f, &fi, "input_events_dropped", (long long)r->input_dropped);
    }
    jkv_num(f, &fi, "step_model_units", r->dt);
    jkv_num(f, &fi, "power_mw", power_mw(r));
    jkv_num(f, &fi, "latency_ms", 1e3 * per_image(r->sum_latency, n));
    jkv_num(f, &fi, "latency_ms_min", 1e3 * r->min_latency);
    jkv_num(f, &fi, "latency_ms_max", 1e3 * r->max_latency);
    jkv_num(f, &fi, "busy_ms", 1e3 * per_image(r->sum_busy, n));
    jkv_num(f, &fi, "energy_uj", 1e6 * per_image(r->sum_energy, n));
    jkv_num(f, &fi, "throughput_images_per_s", r->sum_busy > 0 ? (double)n / r->sum_busy : 0.0);
    json_energy_mesh(f, &fi, r);
    json_layers(f, &fi, r);
    json_cores(f, &fi, r);
    json_decomposition(f, &fi, r);
    if (r->spike_err)
        json_spike_err(f, &fi, r);
    jkv_str(f, &fi, "comparison", stdbp_hw_report_comparison(rep, r, buf, sizeof buf));
    fputs("}", f);
}

stdbp_status stdbp_hw_report_json(const stdbp_hw_report *rep, const char *path, stdbp_err *err)
{
    stdbp_status st = stdbp_check_output_file(path, err);
    if (st != STDBP_OK)
        return st;
    FILE *f = fopen(path, "w");
    int fi = 1;
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s", path);
    fputs("{\n  ", f);
    jkv_int(f, &fi, "format_version", STDBP_REPORT_VERSION);
    fputs(",\n  ", f);
    fi = 1;
    {
        int a = 1;
        jkey(f, &fi, "paper");
        fputc('{', f);
        jkv_num(f, &a, "power_mw", STDBP_PAPER_POWER_MW);
        jkv_num(f, &a, "latency_ms", STDBP_PAPER_LATENCY_MS);
        jkv_str(f, &a, "source",
                "Zhang et al., IEEE TNNLS 33(5), 2022, abstract: MNIST on a neuromorphic "
                "inference accelerator whose details are not public");
        fputc('}', f);
    }
    fputs(",\n  ", f);
    fi = 1;
    jkey(f, &fi, "profile");
    json_profile(f, rep->profile);
    fputs(",\n  ", f);
    fi = 1;
    {
        int a = 1;
        jkey(f, &fi, "run");
        fputc('{', f);
        jkv_str(f, &a, "dataset", rep->dataset ? rep->dataset : "");
        jkv_int(f, &a, "images", (long long)rep->n_samples);
        jkv_int(f, &a, "time_steps", (long long)rep->time_steps);
        jkv_num(f, &a, "t_max", rep->t_max);
        fputc('}', f);
    }
    fputs(",\n  \"results\": [\n", f);
    for (size_t b = 0; b < rep->n_runs; b++) {
        json_run(f, rep, &rep->runs[b]);
        fputs(b + 1 < rep->n_runs ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    if (ferror(f) | (fclose(f) != 0))
        return stdbp_err_set(err, STDBP_EIO, "writing %s failed", path);
    return STDBP_OK;
}
