/* The deployment report as HDF5 (report.h5), written with the serial API
 * (default file driver) by the one process that runs the deployment.
 * Layout (docs/HARDWARE.md, "Report"):
 *   /                 attributes: format_version, profile, profile_source,
 *                     mode, time_steps, t_max, images, paper_power_mw,
 *                     paper_latency_ms
 *   /bits_B/          attributes: the headline figures of width B and the
 *                     comparison line
 *   /bits_B/images/   latency_s, energy_j, decision, label (one per image)
 *   /bits_B/layers/   one value per computing layer
 *   /bits_B/cores/    one value per core in use */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_report.h"

typedef struct h5w {
    int failed;
} h5w;

static void attr(h5w *w, hid_t obj, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (w->failed)
        return;
    sp = H5Screate(H5S_SCALAR);
    if (sp < 0)
        goto fail;
    a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, v) < 0)
        goto fail;
    goto done;
fail:
    w->failed = 1;
done:
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
}

static void attr_f64(h5w *w, hid_t obj, const char *name, double v)
{
    attr(w, obj, name, H5T_NATIVE_DOUBLE, &v);
}

static void attr_i64(h5w *w, hid_t obj, const char *name, long long v)
{
    int64_t x = (int64_t)v;
    attr(w, obj, name, H5T_NATIVE_INT64, &x);
}

static void attr_str(h5w *w, hid_t obj, const char *name, const char *s)
{
    hid_t t;
    if (w->failed)
        return;
    t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, strlen(s) + 1) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        w->failed = 1;
    } else {
        attr(w, obj, name, t, s);
    }
    if (t >= 0)
        H5Tclose(t);
}

static void dset(h5w *w, hid_t grp, const char *name, hid_t type, size_t n, const void *data)
{
    hid_t sp = H5I_INVALID_HID, d = H5I_INVALID_HID;
    hsize_t dims[1] = {(hsize_t)n};
    if (w->failed)
        return;
    sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0)
        goto fail;
    d = H5Dcreate2(grp, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || (n > 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0))
        goto fail;
    goto done;
fail:
    w->failed = 1;
done:
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
}

static hid_t group(h5w *w, hid_t parent, const char *name)
{
    hid_t g;
    if (w->failed)
        return H5I_INVALID_HID;
    g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        w->failed = 1;
    return g;
}

static void write_run(h5w *w, hid_t file, const stdbp_hw_report *rep, const stdbp_hw_bits_run *r)
{
    char name[32], buf[2048];
    size_t n = r->n;
    hid_t g = H5I_INVALID_HID, gi = H5I_INVALID_HID, gl = H5I_INVALID_HID, gc = H5I_INVALID_HID;
    size_t ncol = r->n_layers > (size_t)r->cores_used ? r->n_layers : (size_t)r->cores_used;
    int64_t *ic = malloc((ncol ? ncol : 1) * sizeof *ic); /* one column at a time */
    double *dc = malloc((ncol ? ncol : 1) * sizeof *dc);
    if (!ic || !dc)
        w->failed = 1;
    snprintf(name, sizeof name, "bits_%d", r->bits);
    g = group(w, file, name);
    attr_i64(w, g, "bits", r->bits);
    attr_i64(w, g, "simulated", r->simulated);
    attr_str(w, g, "note", r->note);
    attr_i64(w, g, "samples", (long long)r->acc.n);
    attr_f64(w, g, "float_accuracy", r->acc.n ? (double)r->acc.float_correct / r->acc.n : 0.0);
    attr_f64(w, g, "quant_accuracy", r->acc.n ? (double)r->acc.quant_correct / r->acc.n : 0.0);
    attr_f64(w, g, "float_quant_agree", r->acc.n ? (double)r->acc.agree / r->acc.n : 0.0);
    if (r->simulated && n > 0 && !w->failed) {
        attr_f64(w, g, "hw_accuracy", (double)r->hw_correct / n);
        attr_i64(w, g, "images", (long long)n);
        attr_i64(w, g, "spike_mismatches", (long long)r->mismatches);
        attr_i64(w, g, "undecided", (long long)r->undecided);
        attr_i64(w, g, "cores_used", r->cores_used);
        attr_i64(w, g, "window_steps", (long long)r->window);
        attr_f64(w, g, "power_mw", r->sum_busy > 0 ? 1e3 * r->sum_energy / r->sum_busy : 0.0);
        attr_f64(w, g, "latency_ms", 1e3 * r->sum_latency / n);
        attr_f64(w, g, "energy_uj", 1e6 * r->sum_energy / n);
        attr_f64(w, g, "energy_dynamic_uj", 1e6 * r->sum_dynamic / n);
        attr_f64(w, g, "energy_static_uj", 1e6 * r->sum_static / n);
        attr_f64(w, g, "throughput_images_per_s", r->sum_busy > 0 ? n / r->sum_busy : 0.0);
        attr_f64(w, g, "packets_per_image", (double)r->counts.send / n);
        attr_f64(w, g, "hops_per_image", (double)r->counts.hops / n);
        attr_str(w, g, "comparison", stdbp_hw_report_comparison(rep, r, buf, sizeof buf));

        gi = group(w, g, "images");
        dset(w, gi, "latency_s", H5T_NATIVE_DOUBLE, n, r->latency);
        dset(w, gi, "energy_j", H5T_NATIVE_DOUBLE, n, r->energy);
        dset(w, gi, "decision", H5T_NATIVE_INT32, n, r->decision);
        dset(w, gi, "label", H5T_NATIVE_INT32, n, r->label);

        size_t nl = r->n_layers;
        gl = group(w, g, "layers");
#define LCOL_I(nm, expr)                                                                           \
    do {                                                                                           \
        for (size_t l = 0; l < nl; l++) {                                                          \
            const stdbp_hw_layer_row *row = &r->layers[l];                                         \
            ic[l] = (int64_t)(expr);                                                               \
        }                                                                                          \
        dset(w, gl, nm, H5T_NATIVE_INT64, nl, ic);                                                 \
    } while (0)
#define LCOL_D(nm, expr)                                                                           \
    do {                                                                                           \
        for (size_t l = 0; l < nl; l++) {                                                          \
            const stdbp_hw_layer_row *row = &r->layers[l];                                         \
            dc[l] = (double)(expr);                                                                \
        }                                                                                          \
        dset(w, gl, nm, H5T_NATIVE_DOUBLE, nl, dc);                                                \
    } while (0)
        LCOL_I("net_layer", row->info.net_layer);
        LCOL_I("neurons", row->info.n_out);
        LCOL_I("synapses", row->info.n_synapses);
        LCOL_I("first_core", row->first_core);
        LCOL_I("cores", row->n_cores);
        LCOL_I("theta_q", row->info.theta);
        LCOL_I("accumulator_bits", row->info.acc_bits);
        LCOL_D("scale", row->info.scale);
        LCOL_D("spikes_per_image", (double)row->counts.fire / n);
        LCOL_D("synaptic_updates_per_image", (double)row->counts.synapse / n);
        LCOL_D("neuron_updates_per_image", (double)row->counts.neuron / n);
        LCOL_D("packets_sent_per_image", (double)row->counts.send / n);
        LCOL_D("packets_received_per_image", (double)row->counts.receive / n);
        LCOL_D("hops_per_image", (double)row->counts.hops / n);
        LCOL_D("energy_j_per_image", row->energy / n);
#undef LCOL_I
#undef LCOL_D
        {
            /* layer names as one attribute, ';'-separated */
            size_t cap = nl * 50 + 1, off = 0;
            char *names = malloc(cap);
            if (!names) {
                w->failed = 1;
            } else {
                names[0] = '\0';
                for (size_t l = 0; l < nl; l++)
                    off += (size_t)snprintf(names + off, cap - off, "%s%s", l ? ";" : "",
                                            r->layers[l].info.desc);
                attr_str(w, gl, "names", names);
                free(names);
            }
        }

        size_t ncs = (size_t)r->cores_used;
        gc = group(w, g, "cores");
#define CCOL_I(nm, expr)                                                                           \
    do {                                                                                           \
        for (size_t c = 0; c < ncs; c++) {                                                         \
            const stdbp_hw_core_info *ci = &r->core_info[c];                                       \
            const stdbp_hw_core_stats *cs = &r->core[c];                                           \
            (void)ci;                                                                              \
            (void)cs;                                                                              \
            ic[c] = (int64_t)(expr);                                                               \
        }                                                                                          \
        dset(w, gc, nm, H5T_NATIVE_INT64, ncs, ic);                                                \
    } while (0)
#define CCOL_D(nm, expr)                                                                           \
    do {                                                                                           \
        for (size_t c = 0; c < ncs; c++) {                                                         \
            const stdbp_hw_core_info *ci = &r->core_info[c];                                       \
            const stdbp_hw_core_stats *cs = &r->core[c];                                           \
            (void)ci;                                                                              \
            (void)cs;                                                                              \
            dc[c] = (double)(expr);                                                                \
        }                                                                                          \
        dset(w, gc, nm, H5T_NATIVE_DOUBLE, ncs, dc);                                               \
    } while (0)
        CCOL_I("layer", ci->layer);
        CCOL_I("x", ci->x);
        CCOL_I("y", ci->y);
        CCOL_I("neurons", ci->count);
        CCOL_I("first_neuron", ci->first);
        CCOL_I("synapses", ci->synapses);
        CCOL_I("axons", ci->axons);
        CCOL_D("synaptic_updates_per_image", (double)cs->counts.synapse / n);
        CCOL_D("neuron_updates_per_image", (double)cs->counts.neuron / n);
        CCOL_D("spikes_per_image", (double)cs->counts.fire / n);
        CCOL_D("packets_sent_per_image", (double)cs->counts.send / n);
        CCOL_D("packets_received_per_image", (double)cs->counts.receive / n);
        CCOL_D("hops_per_image", (double)cs->counts.hops / n);
        CCOL_D("energy_j_per_image", cs->energy / n);
        CCOL_D("utilisation", r->sum_busy > 0 ? cs->busy / r->sum_busy : 0.0);
        CCOL_D("queue_wait_s_per_image", cs->queue_wait / n);
#undef CCOL_I
#undef CCOL_D
    }
    if (gc >= 0)
        H5Gclose(gc);
    if (gl >= 0)
        H5Gclose(gl);
    if (gi >= 0)
        H5Gclose(gi);
    if (g >= 0)
        H5Gclose(g);
    free(ic);
    free(dc);
}

stdbp_status stdbp_hw_report_h5(const stdbp_hw_report *rep, const char *path, stdbp_err *err)
{
    h5w w = {0};
    H5E_auto2_t old_func;
    void *old_data;
    hid_t f;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s", path);
    }
    attr_i64(&w, f, "format_version", 1);
    attr_str(&w, f, "profile", rep->profile->name);
    attr_str(&w, f, "profile_source", rep->profile->source);
    attr_str(&w, f, "mode", rep->profile->mode == STDBP_HW_EVENT ? "event" : "stepped");
    attr_i64(&w, f, "time_steps", (long long)rep->time_steps);
    attr_f64(&w, f, "t_max", rep->t_max);
    attr_i64(&w, f, "images", (long long)rep->n_samples);
    attr_str(&w, f, "dataset", rep->dataset ? rep->dataset : "");
    attr_f64(&w, f, "paper_power_mw", STDBP_PAPER_POWER_MW);
    attr_f64(&w, f, "paper_latency_ms", STDBP_PAPER_LATENCY_MS);
    for (size_t b = 0; b < rep->n_runs; b++)
        write_run(&w, f, rep, &rep->runs[b]);
    if (H5Fclose(f) < 0)
        w.failed = 1;
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (w.failed)
        return stdbp_err_set(err, STDBP_EIO, "writing %s failed (HDF5)", path);
    return STDBP_OK;
}
