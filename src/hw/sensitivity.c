/* stdbp_hw_sensitivity: each ranged parameter of a profile at its low and
 * its high end (the others at their values), power, latency and energy
 * per image at each, as a table and as sensitivity.json. Rank 0 only;
 * nothing here is collective. docs/HARDWARE.md, "Sensitivity". */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/hw_report.h"
#include "util/fsutil.h"
#include "util/log.h"

#define STDBP_SENS_VERSION 1

typedef struct sens_point {
    int ok; /* 0: the variant could not be simulated (note says why) */
    double power_mw, latency_ms, energy_uj;
    char note[STDBP_ERR_MSG_MAX];
} sens_point;

typedef struct sens_row {
    const stdbp_hw_param_source *src;
    int varied; /* 0: low == high == value, nothing to vary */
    sens_point lo, hi;
    double swing; /* |energy at high - energy at low| (uJ), for the order */
} sens_row;

/* Simulate n images at bits on prof into *pt. A variant that does not fit
 * or is not a valid profile is recorded, not an error. */
static stdbp_status run_point(const stdbp_net *net, const stdbp_dataset *test,
                              const stdbp_encoding *enc, int bits, int64_t T,
                              const stdbp_hw_profile *prof, size_t n, sens_point *pt,
                              stdbp_err *err)
{
    stdbp_hw_bits_run r;
    stdbp_err e2;
    memset(&r, 0, sizeof r);
    memset(pt, 0, sizeof *pt);
    r.bits = bits;
    stdbp_err_clear(&e2);
    stdbp_status st = stdbp_hw_run_bits(net, test, enc, T, prof, n, 0, &r, &e2);
    if (st == STDBP_OK && r.n > 0) {
        pt->ok = 1;
        pt->power_mw = r.sum_busy > 0 ? 1e3 * r.sum_energy / r.sum_busy : 0.0;
        pt->latency_ms = 1e3 * r.sum_latency / (double)r.n;
        pt->energy_uj = 1e6 * r.sum_energy / (double)r.n;
    } else if (st == STDBP_EFIT || st == STDBP_OK)
        snprintf(pt->note, sizeof pt->note, "%s", st ? e2.msg : "no image simulated");
    stdbp_hw_bits_run_free(&r);
    if (st && st != STDBP_EFIT) {
        if (err)
            *err = e2;
        return st;
    }
    return STDBP_OK;
}

/* The profile with key at value: loaded again from its file, or a note
 * in *pt when the variant is not a valid profile. */
static stdbp_status variant(const char *path, const char *key, double value, int bits,
                            stdbp_hw_profile *p, sens_point *pt, int *usable, stdbp_err *err)
{
    stdbp_err e2;
    stdbp_err_clear(&e2);
    stdbp_status st = stdbp_hw_profile_load_variant(path, key, value, p, &e2);
    *usable = st == STDBP_OK && !(p->max_weight_bits > 0 && bits > p->max_weight_bits);
    if (st == STDBP_OK && !*usable)
        snprintf(pt->note, sizeof pt->note, "%d-bit weights exceed max_weight_bits %d", bits,
                 p->max_weight_bits);
    else if (st == STDBP_ECONFIG)
        snprintf(pt->note, sizeof pt->note, "%s", e2.msg);
    else if (st) {
        if (err)
            *err = e2;
        return st;
    }
    return STDBP_OK;
}

static int by_swing(const void *a, const void *b)
{
    const sens_row *x = a, *y = b;
    if (x->swing != y->swing)
        return x->swing < y->swing ? 1 : -1;
    return strcmp(x->src->key, y->src->key);
}

static void jpoint(FILE *f, const char *k, const sens_point *pt)
{
    if (k)
        fprintf(f, ", \"%s\": ", k);
    if (!pt->ok) {
        fputs("{\"simulated\": false, \"note\": ", f);
        stdbp_hw_json_str(f, pt->note);
        fputc('}', f);
        return;
    }
    fprintf(f,
            "{\"simulated\": true, \"power_mw\": %.10g, \"latency_ms\": %.10g, "
            "\"energy_uj\": %.10g}",
            pt->power_mw, pt->latency_ms, pt->energy_uj);
}

static stdbp_status write_json(const char *path, const stdbp_hw_profile *p, int bits, int64_t T,
                               size_t n, const sens_point *base, const sens_row *rows,
                               size_t n_rows, stdbp_err *err)
{
    stdbp_status st = stdbp_check_output_file(path, err);
    if (st)
        return st;
    FILE *f = fopen(path, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s", path);
    fprintf(f, "{\n  \"format_version\": %d,\n  \"profile\": ", STDBP_SENS_VERSION);
    stdbp_hw_json_str(f, p->name);
    fputs(",\n  \"profile_source\": ", f);
    stdbp_hw_json_str(f, p->source);
    fprintf(f, ",\n  \"bits\": %d,\n  \"time_steps\": %lld,\n  \"images\": %zu", bits, (long long)T,
            n);
    fputs(",\n  \"baseline\": ", f);
    jpoint(f, NULL, base);
    fputs(",\n  \"parameters\": [\n", f);
    for (size_t k = 0; k < n_rows; k++) {
        const sens_row *r = &rows[k];
        fputs("    {\"key\": ", f);
        stdbp_hw_json_str(f, r->src->key);
        fprintf(f, ", \"value\": %.10g, \"low\": %.10g, \"high\": %.10g, \"varied\": %s",
                r->src->value, r->src->low, r->src->high, r->varied ? "true" : "false");
        fputs(", \"source\": ", f);
        stdbp_hw_json_str(f, r->src->source);
        jpoint(f, "at_low", &r->lo);
        jpoint(f, "at_high", &r->hi);
        fprintf(f, ", \"energy_swing_uj\": %.10g}%s\n", r->swing, k + 1 < n_rows ? "," : "");
    }
    fputs("  ]\n}\n", f);
    if (ferror(f) | (fclose(f) != 0))
        return stdbp_err_set(err, STDBP_EIO, "writing %s failed", path);
    return STDBP_OK;
}

static void print_point(FILE *out, const sens_point *pt)
{
    if (pt->ok)
        fprintf(out, " %9.4g %9.4g %9.4g", pt->energy_uj, pt->latency_ms, pt->power_mw);
    else
        fprintf(out, " %29s", "not simulated");
}

static void print_table(FILE *out, const stdbp_hw_profile *p, int bits, int64_t T, size_t n,
                        const sens_point *base, const sens_row *rows, size_t n_rows)
{
    fprintf(out,
            "\nsensitivity: profile %s, %d-bit weights, T = %lld steps, %zu images; baseline "
            "%.4g uJ, %.4g ms, %.4g mW per image\n",
            p->name, bits, (long long)T, n, base->energy_uj, base->latency_ms, base->power_mw);
    fprintf(out, "  %-36s %10s %10s %10s | %-29s | %-29s\n", "parameter", "low", "value", "high",
            "at low: uJ, ms, mW", "at high: uJ, ms, mW");
    for (size_t k = 0; k < n_rows; k++) {
        const sens_row *r = &rows[k];
        fprintf(out, "  %-36s %10.4g %10.4g %10.4g |", r->src->key, r->src->low, r->src->value,
                r->src->high);
        if (!r->varied) {
            fprintf(out, " %-29s | %-29s\n", "(fixed: no range)", "");
            continue;
        }
        print_point(out, &r->lo);
        fputs(" |", out);
        print_point(out, &r->hi);
        fputc('\n', out);
    }
    for (size_t k = 0; k < n_rows; k++) {
        if (rows[k].varied && !rows[k].lo.ok)
            fprintf(out, "  %s = %g: %s\n", rows[k].src->key, rows[k].src->low, rows[k].lo.note);
        if (rows[k].varied && !rows[k].hi.ok)
            fprintf(out, "  %s = %g: %s\n", rows[k].src->key, rows[k].src->high, rows[k].hi.note);
    }
    fprintf(out, "\n");
    fflush(out);
}

/* One end of a row: the baseline when the end is the value itself. */
static stdbp_status end_point(const stdbp_net *net, const stdbp_dataset *test,
                              const stdbp_encoding *enc, int bits, int64_t T, size_t n,
                              const char *path, const stdbp_hw_param_source *src, double at,
                              const sens_point *base, stdbp_hw_profile *scratch, sens_point *pt,
                              stdbp_err *err)
{
    int usable = 0;
    stdbp_status st;
    memset(pt, 0, sizeof *pt);
    if (at == src->value) {
        *pt = *base;
        return STDBP_OK;
    }
    if ((st = variant(path, src->key, at, bits, scratch, pt, &usable, err)) || !usable)
        return st;
    return run_point(net, test, enc, bits, T, scratch, n, pt, err);
}

stdbp_status stdbp_hw_sensitivity(const stdbp_net *net, const stdbp_dataset *test,
                                  const stdbp_encoding *enc_in, int bits, int64_t time_steps,
                                  const char *profile_path, size_t n_samples, const char *out_dir,
                                  FILE *table, stdbp_err *err)
{
    stdbp_encoding enc = enc_in ? *enc_in : stdbp_encoding_defaults();
    int64_t T = time_steps > 0 ? time_steps : 256;
    const char *path = (profile_path && profile_path[0]) ? profile_path : NULL;
    stdbp_hw_profile *prof = malloc(sizeof *prof), *scratch = malloc(sizeof *scratch);
    sens_row *rows = NULL;
    sens_point base;
    char *json = NULL;
    size_t n_rows = 0;
    stdbp_status st;

    if (!prof || !scratch) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "sensitivity: out of memory");
        goto done;
    }
    if (!net || !test || !out_dir || test->dim != stdbp_net_input_size(net) ||
        bits < STDBP_QBITS_MIN || bits > STDBP_QBITS_MAX) {
        st = stdbp_err_set(err, STDBP_EINVAL,
                           "sensitivity: needs a network, a test set that fits it, a bit width "
                           "in [%d, %d] and an output directory",
                           STDBP_QBITS_MIN, STDBP_QBITS_MAX);
        goto done;
    }
    size_t n = (n_samples == 0 || n_samples > test->n) ? test->n : n_samples;
    st = path ? stdbp_hw_profile_load(path, prof, err) : stdbp_hw_profile_load_default(prof, err);
    if (st)
        goto done;
    if (prof->n_sources == 0) {
        st = stdbp_err_set(err, STDBP_ECONFIG,
                           "sensitivity: profile %s has no sources map, so no ranges to vary "
                           "(docs/HARDWARE.md, section 5)",
                           prof->name);
        goto done;
    }
    rows = calloc((size_t)prof->n_sources, sizeof *rows);
    json = malloc(strlen(out_dir) + sizeof "/sensitivity.json");
    if (!rows || !json) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "sensitivity: out of memory");
        goto done;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        st = stdbp_err_set(err, STDBP_EIO, "sensitivity: cannot create directory %s: %s", out_dir,
                           strerror(errno));
        goto done;
    }
    if ((st = run_point(net, test, &enc, bits, T, prof, n, &base, err)))
        goto done;
    if (!base.ok) {
        st = stdbp_err_set(err, STDBP_EFIT, "sensitivity: the profile's own values: %s", base.note);
        goto done;
    }
    for (int k = 0; k < prof->n_sources; k++) {
        const stdbp_hw_param_source *src = &prof->sources[k];
        if (!src->ranged)
            continue;
        sens_row *r = &rows[n_rows++];
        r->src = src;
        r->varied = !(src->low == src->value && src->high == src->value);
        stdbp_log(STDBP_LOG_INFO, "hw: sensitivity: %s over [%g, %g]", src->key, src->low,
                  src->high);
        if ((st = end_point(net, test, &enc, bits, T, n, path, src, src->low, &base, scratch,
                            &r->lo, err)) ||
            (st = end_point(net, test, &enc, bits, T, n, path, src, src->high, &base, scratch,
                            &r->hi, err)))
            goto done;
        r->swing = r->lo.ok && r->hi.ok ? fabs(r->hi.energy_uj - r->lo.energy_uj) : 0.0;
    }
    qsort(rows, n_rows, sizeof *rows, by_swing);
    if (table)
        print_table(table, prof, bits, T, n, &base, rows, n_rows);
    sprintf(json, "%s/sensitivity.json", out_dir);
    if ((st = write_json(json, prof, bits, T, n, &base, rows, n_rows, err)))
        goto done;
    stdbp_log(STDBP_LOG_INFO, "hw: sensitivity written to %s", json);
done:
    free(json);
    free(rows);
    free(prof);
    free(scratch);
    return st;
}
