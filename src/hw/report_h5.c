/* The deployment report as HDF5 (report.h5), written with the serial API
 * (default file driver) by the one process that runs the deployment.
 * Layout (docs/HARDWARE.md, "Report"):
 *   /                 attributes: format, format_version, profile, profile_source,
 *                     mode, time_steps, t_max, images, paper_power_mw,
 *                     paper_latency_ms
 *   /bits_B/          attributes: the headline figures of width B and the
 *                     comparison line
 *   /bits_B/images/   latency_s, energy_j, decision, label (one per image)
 *   /bits_B/layers/   one value per computing layer
 *   /bits_B/cores/    one value per core in use
 * Every dataset has the attributes units and description. Numbers are stored in the native types
 * (little-endian IEEE float64 and int64 on the hosts stdbp runs on), strings as NUL-terminated
 * UTF-8. Not collective. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_report.h"
#include "util/fsutil.h"
#include "util/h5util.h"

/* Stop at the first failure (its message is in err): the cleanup path. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != STDBP_OK)                                                             \
            goto done;                                                                             \
    } while (0)

static stdbp_status attr_f64(hid_t obj, const char *name, double v, stdbp_err *err)
{
    return stdbp_h5_attr_put(obj, name, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, 0, NULL, &v, err);
}

static stdbp_status attr_i64(hid_t obj, const char *name, long long v, stdbp_err *err)
{
    const int64_t x = (int64_t)v;
    return stdbp_h5_attr_put(obj, name, H5T_NATIVE_INT64, H5T_NATIVE_INT64, 0, NULL, &x, err);
}

static stdbp_status attr_str(hid_t obj, const char *name, const char *s, stdbp_err *err)
{
    return stdbp_h5_attr_put_str_as(obj, name, s, H5T_STR_NULLTERM, H5T_CSET_UTF8, err);
}

/* The units and one-line description of every dataset, by group
 * ("images", "layers", "cores"; NULL: both of the last two) and name. */
typedef struct col_doc {
    const char *group, *name, *units, *description;
} col_doc;
static const col_doc col_docs[] = {
    {"images", "latency_s", "s",
     "from the start of the first input step to the end of the decision step"},
    {"images", "energy_j", "J", "energy of the image, dynamic plus static"},
    {"images", "decision", "1", "the class the chip decided: the earliest output (-1: none fired)"},
    {"images", "label", "1", "the image's label"},
    {"layers", "net_layer", "1", "index of the layer in the network (0-based, as in /model)"},
    {"layers", "neurons", "1", "neurons of the layer"},
    {"layers", "synapses", "1", "synapses (weights) of the layer"},
    {"layers", "first_core", "1", "index of the first core the layer is mapped onto"},
    {"layers", "cores", "1", "cores the layer is mapped onto"},
    {"layers", "theta_q", "1", "the layer's threshold in integer weight units x steps (theta_q)"},
    {"layers", "accumulator_bits", "bit",
     "signed accumulator bits that hold the layer's sums within the window"},
    {"layers", "scale", "1", "model weight per integer weight unit"},
    {"cores", "layer", "1", "index of the core's layer (in /bits_B/layers)"},
    {"cores", "x", "1", "the core's column on the mesh"},
    {"cores", "y", "1", "the core's row on the mesh"},
    {"cores", "neurons", "1", "neurons mapped onto the core"},
    {"cores", "first_neuron", "1", "index of the core's first neuron within its layer"},
    {"cores", "synapses", "1", "synapses stored on the core"},
    {"cores", "axons", "1", "distinct input sources (axons) of the core"},
    {"cores", "utilisation", "1", "fraction of the run's busy time the core was busy"},
    {"cores", "queue_wait_s_per_image", "s", "time packets waited in the core's queue, per image"},
    {NULL, "spikes_per_image", "1", "output spikes per image"},
    {NULL, "synaptic_updates_per_image", "1", "synaptic updates per image"},
    {NULL, "neuron_updates_per_image", "1", "neuron (membrane) updates per image"},
    {NULL, "packets_sent_per_image", "1", "spike packets sent per image"},
    {NULL, "packets_received_per_image", "1", "spike packets received per image"},
    {NULL, "hops_per_image", "1", "mesh hops of the packets per image"},
    {NULL, "energy_j_per_image", "J", "dynamic energy per image"},
};

/* A 1-D dataset of n values of the native type, with the attributes
 * units and description from col_docs. */
static stdbp_status column(hid_t grp, const char *name, hid_t type, size_t n, const void *data,
                           stdbp_err *err)
{
    const hsize_t dim = n;
    char path[256];
    const char *g = strrchr(stdbp_h5_name(grp, path, sizeof path), '/');
    const col_doc *doc = NULL;
    stdbp_status st;
    g = g ? g + 1 : path;
    for (size_t k = 0; !doc && k < sizeof col_docs / sizeof col_docs[0]; k++)
        if (strcmp(col_docs[k].name, name) == 0 &&
            (!col_docs[k].group || strcmp(col_docs[k].group, g) == 0))
            doc = &col_docs[k];
    if (!doc) /* a new column needs its entry above */
        return stdbp_err_set(err, STDBP_EINVAL, "report column %s/%s has no description", g, name);
    if ((st = stdbp_h5_dset_put(grp, name, type, type, 1, &dim, data, err)) != STDBP_OK)
        return st;
    hid_t d = H5Dopen2(grp, name, H5P_DEFAULT);
    if (d < 0)
        return stdbp_h5_fail(err, STDBP_EIO, "reopening dataset %s", name);
    st = attr_str(d, "units", doc->units, err);
    if (st == STDBP_OK)
        st = attr_str(d, "description", doc->description, err);
    H5Dclose(d);
    return st;
}

static stdbp_status group(hid_t parent, const char *name, hid_t *out, stdbp_err *err)
{
    *out = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    return *out < 0 ? stdbp_h5_fail(err, STDBP_EIO, "cannot create group %s", name) : STDBP_OK;
}

/* Scratch space for the columns of /bits_B/layers and /bits_B/cores, one
 * column (ic or dc) or one table of counts (counts, energy) at a time. */
typedef struct col_buf {
    int64_t *ic;
    double *dc;
    stdbp_hw_counts *counts;
    double *energy; /* dynamic joules */
} col_buf;

/* Column nm of grp from buf[k] = expr for k < count (expr uses k). */
#define COLUMN(grp, nm, type, buf, count, expr)                                                    \
    do {                                                                                           \
        for (size_t k = 0; k < (count); k++)                                                       \
            (buf)[k] = (expr);                                                                     \
        TRY(column(grp, nm, type, count, buf, err));                                               \
    } while (0)
#define COL_I(grp, nm, count, expr)                                                                \
    COLUMN(grp, nm, H5T_NATIVE_INT64, cb->ic, count, (int64_t)(expr))
#define COL_D(grp, nm, count, expr)                                                                \
    COLUMN(grp, nm, H5T_NATIVE_DOUBLE, cb->dc, count, (double)(expr))

/* The attributes of /bits_B every run has: width and accuracies. */
static stdbp_status write_run_accuracy(hid_t g, const stdbp_hw_bits_run *r, stdbp_err *err)
{
    const double n = r->acc.n ? (double)r->acc.n : 0.0;
    stdbp_status st;
    TRY(attr_i64(g, "bits", r->bits, err));
    TRY(attr_i64(g, "simulated", r->simulated, err));
    TRY(attr_str(g, "note", r->note, err));
    TRY(attr_i64(g, "samples", (long long)r->acc.n, err));
    TRY(attr_f64(g, "float_accuracy", n ? (double)r->acc.float_correct / n : 0.0, err));
    TRY(attr_f64(g, "quant_accuracy", n ? (double)r->acc.quant_correct / n : 0.0, err));
    TRY(attr_f64(g, "float_quant_agree", n ? (double)r->acc.agree / n : 0.0, err));
done:
    return st;
}

/* The headline figures of a simulated run (n > 0 images). */
static stdbp_status write_run_figures(hid_t g, const stdbp_hw_report *rep,
                                      const stdbp_hw_bits_run *r, stdbp_err *err)
{
    const size_t n = r->n;
    char buf[2048];
    stdbp_status st;
    TRY(attr_f64(g, "hw_accuracy", (double)r->hw_correct / n, err));
    TRY(attr_i64(g, "images", (long long)n, err));
    TRY(attr_i64(g, "spike_mismatches", (long long)r->mismatches, err));
    TRY(attr_i64(g, "undecided", (long long)r->undecided, err));
    TRY(attr_i64(g, "cores_used", r->cores_used, err));
    TRY(attr_i64(g, "window_steps", (long long)r->window, err));
    if (rep->events) {
        TRY(attr_i64(g, "input_events_sent", (long long)r->counts.input_spikes, err));
        TRY(attr_i64(g, "input_events_dropped", (long long)r->input_dropped, err));
    }
    TRY(attr_f64(g, "power_mw", r->sum_busy > 0 ? 1e3 * r->sum_energy / r->sum_busy : 0.0, err));
    TRY(attr_f64(g, "latency_ms", 1e3 * r->sum_latency / n, err));
    TRY(attr_f64(g, "energy_uj", 1e6 * r->sum_energy / n, err));
    TRY(attr_f64(g, "energy_dynamic_uj", 1e6 * r->sum_dynamic / n, err));
    TRY(attr_f64(g, "energy_static_uj", 1e6 * r->sum_static / n, err));
    TRY(attr_f64(g, "throughput_images_per_s", r->sum_busy > 0 ? n / r->sum_busy : 0.0, err));
    TRY(attr_f64(g, "packets_per_image", (double)r->counts.send / n, err));
    TRY(attr_f64(g, "hops_per_image", (double)r->counts.hops / n, err));
    TRY(attr_str(g, "comparison", stdbp_hw_report_comparison(rep, r, buf, sizeof buf), err));
done:
    return st;
}

static stdbp_status write_images(hid_t g, const stdbp_hw_bits_run *r, stdbp_err *err)
{
    hid_t gi = H5I_INVALID_HID;
    stdbp_status st;
    TRY(group(g, "images", &gi, err));
    TRY(column(gi, "latency_s", H5T_NATIVE_DOUBLE, r->n, r->latency, err));
    TRY(column(gi, "energy_j", H5T_NATIVE_DOUBLE, r->n, r->energy, err));
    TRY(column(gi, "decision", H5T_NATIVE_INT32, r->n, r->decision, err));
    TRY(column(gi, "label", H5T_NATIVE_INT32, r->n, r->label, err));
done:
    if (gi >= 0)
        H5Gclose(gi);
    return st;
}

/* The layer descriptions as one attribute, ';'-separated. */
static stdbp_status write_layer_names(hid_t gl, const stdbp_hw_bits_run *r, stdbp_err *err)
{
    size_t cap = r->n_layers * 50 + 1, off = 0;
    char *names = malloc(cap);
    stdbp_status st;
    if (!names)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for the layer names");
    names[0] = '\0';
    for (size_t l = 0; l < r->n_layers; l++)
        off +=
            (size_t)snprintf(names + off, cap - off, "%s%s", l ? ";" : "", r->layers[l].info.desc);
    st = attr_str(gl, "names", names, err);
    free(names);
    return st;
}

/* The per-image activity of count rows (layers or cores) from
 * cb->counts and cb->energy, over n images. */
static stdbp_status write_rates(hid_t grp, size_t count, double n, const col_buf *cb,
                                stdbp_err *err)
{
    const stdbp_hw_counts *c = cb->counts;
    stdbp_status st;
    COL_D(grp, "spikes_per_image", count, (double)c[k].fire / n);
    COL_D(grp, "synaptic_updates_per_image", count, (double)c[k].synapse / n);
    COL_D(grp, "neuron_updates_per_image", count, (double)c[k].neuron / n);
    COL_D(grp, "packets_sent_per_image", count, (double)c[k].send / n);
    COL_D(grp, "packets_received_per_image", count, (double)c[k].receive / n);
    COL_D(grp, "hops_per_image", count, (double)c[k].hops / n);
    COL_D(grp, "energy_j_per_image", count, cb->energy[k] / n);
done:
    return st;
}

static stdbp_status write_layers(hid_t g, const stdbp_hw_bits_run *r, const col_buf *cb,
                                 stdbp_err *err)
{
    const stdbp_hw_layer_row *row = r->layers;
    const size_t nl = r->n_layers;
    const double n = (double)r->n;
    hid_t gl = H5I_INVALID_HID;
    stdbp_status st;
    TRY(group(g, "layers", &gl, err));
    COL_I(gl, "net_layer", nl, row[k].info.net_layer);
    COL_I(gl, "neurons", nl, row[k].info.n_out);
    COL_I(gl, "synapses", nl, row[k].info.n_synapses);
    COL_I(gl, "first_core", nl, row[k].first_core);
    COL_I(gl, "cores", nl, row[k].n_cores);
    COL_I(gl, "theta_q", nl, row[k].info.theta);
    COL_I(gl, "accumulator_bits", nl, row[k].info.acc_bits);
    COL_D(gl, "scale", nl, row[k].info.scale);
    for (size_t k = 0; k < nl; k++) {
        cb->counts[k] = row[k].counts;
        cb->energy[k] = row[k].energy;
    }
    TRY(write_rates(gl, nl, n, cb, err));
    TRY(write_layer_names(gl, r, err));
done:
    if (gl >= 0)
        H5Gclose(gl);
    return st;
}

static stdbp_status write_cores(hid_t g, const stdbp_hw_bits_run *r, const col_buf *cb,
                                stdbp_err *err)
{
    const stdbp_hw_core_info *ci = r->core_info;
    const stdbp_hw_core_stats *cs = r->core;
    const size_t nc = (size_t)r->cores_used;
    const double n = (double)r->n;
    hid_t gc = H5I_INVALID_HID;
    stdbp_status st;
    TRY(group(g, "cores", &gc, err));
    COL_I(gc, "layer", nc, ci[k].layer);
    COL_I(gc, "x", nc, ci[k].x);
    COL_I(gc, "y", nc, ci[k].y);
    COL_I(gc, "neurons", nc, ci[k].count);
    COL_I(gc, "first_neuron", nc, ci[k].first);
    COL_I(gc, "synapses", nc, ci[k].synapses);
    COL_I(gc, "axons", nc, ci[k].axons);
    for (size_t k = 0; k < nc; k++) {
        cb->counts[k] = cs[k].counts;
        cb->energy[k] = cs[k].energy;
    }
    TRY(write_rates(gc, nc, n, cb, err));
    COL_D(gc, "utilisation", nc, r->sum_busy > 0 ? cs[k].busy / r->sum_busy : 0.0);
    COL_D(gc, "queue_wait_s_per_image", nc, cs[k].queue_wait / n);
done:
    if (gc >= 0)
        H5Gclose(gc);
    return st;
}

/* /bits_B for one bit width. */
static stdbp_status write_run(hid_t file, const stdbp_hw_report *rep, const stdbp_hw_bits_run *r,
                              stdbp_err *err)
{
    size_t ncol = r->n_layers > (size_t)r->cores_used ? r->n_layers : (size_t)r->cores_used;
    col_buf cb;
    hid_t g = H5I_INVALID_HID;
    char name[32];
    stdbp_status st;
    ncol = ncol ? ncol : 1;
    cb.ic = malloc(ncol * sizeof *cb.ic);
    cb.dc = malloc(ncol * sizeof *cb.dc);
    cb.counts = malloc(ncol * sizeof *cb.counts);
    cb.energy = malloc(ncol * sizeof *cb.energy);
    if (!cb.ic || !cb.dc || !cb.counts || !cb.energy) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory for the report");
        goto done;
    }
    snprintf(name, sizeof name, "bits_%d", r->bits);
    TRY(group(file, name, &g, err));
    TRY(write_run_accuracy(g, r, err));
    if (r->simulated && r->n > 0) {
        TRY(write_run_figures(g, rep, r, err));
        TRY(write_images(g, r, err));
        TRY(write_layers(g, r, &cb, err));
        TRY(write_cores(g, r, &cb, err));
    }
done:
    if (g >= 0)
        H5Gclose(g);
    free(cb.ic);
    free(cb.dc);
    free(cb.counts);
    free(cb.energy);
    return st;
}

static stdbp_status write_root(hid_t f, const stdbp_hw_report *rep, stdbp_err *err)
{
    const stdbp_hw_profile *p = rep->profile;
    stdbp_status st;
    TRY(attr_str(f, "format", "stdbp-hw-report", err));
    TRY(attr_i64(f, "format_version", 1, err));
    TRY(attr_str(f, "profile", p->name, err));
    TRY(attr_str(f, "profile_source", p->source, err));
    TRY(attr_str(f, "mode", p->mode == STDBP_HW_EVENT ? "event" : "stepped", err));
    TRY(attr_i64(f, "time_steps", (long long)rep->time_steps, err));
    TRY(attr_f64(f, "t_max", rep->t_max, err));
    TRY(attr_i64(f, "images", (long long)rep->n_samples, err));
    TRY(attr_str(f, "dataset", rep->dataset ? rep->dataset : "", err));
    TRY(attr_f64(f, "paper_power_mw", STDBP_PAPER_POWER_MW, err));
    TRY(attr_f64(f, "paper_latency_ms", STDBP_PAPER_LATENCY_MS, err));
done:
    return st;
}

stdbp_status stdbp_hw_report_h5(const stdbp_hw_report *rep, const char *path, stdbp_err *err)
{
    stdbp_h5_quiet q;
    stdbp_status st;
    hid_t f;
    if ((st = stdbp_check_output_file(path, err)) != STDBP_OK)
        return st;
    stdbp_h5_quiet_begin(&q);
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        st = stdbp_err_set(err, STDBP_EIO, "cannot create %s", path);
        H5Eclear2(H5E_DEFAULT);
        goto done;
    }
    st = write_root(f, rep, err);
    for (size_t b = 0; b < rep->n_runs && st == STDBP_OK; b++)
        st = write_run(f, rep, &rep->runs[b], err);
    if (H5Fclose(f) < 0 && st == STDBP_OK)
        st = stdbp_h5_fail(err, STDBP_EIO, "closing it");
    if (st != STDBP_OK)
        stdbp_err_prefix(err, "writing %s: ", path);
done:
    stdbp_h5_quiet_end(&q);
    return st;
}
