/* metrics.csv and metrics.h5; see metrics.h. */
#include "train/metrics.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/h5util.h"

#define METRICS_COLS STDBP_METRIC_COUNT
/* In the order of the STDBP_METRIC_* columns (include/stdbp/train.h). */
static const char *const metrics_cols[METRICS_COLS] = {
    "epoch",   "step",      "lr",       "train_loss",    "train_acc",     "val_loss",
    "val_acc", "test_loss", "test_acc", "epoch_seconds", "samples_per_s", "wall_seconds"};

const char *stdbp_metric_name(int column)
{
    return column >= 0 && column < METRICS_COLS ? metrics_cols[column] : NULL;
}

/* The CSV header line: the column names joined by commas. */
static void write_header(FILE *out)
{
    for (int c = 0; c < METRICS_COLS; c++)
        fprintf(out, "%s%s", c ? "," : "", metrics_cols[c]);
    fputc('\n', out);
}

static void metrics_path(char *buf, size_t len, const char *run_dir, const char *name)
{
    snprintf(buf, len, "%s/%s", run_dir, name);
}

/* Rewrite metrics.csv keeping the header and the rows whose epoch is below
 * first_epoch; via a temporary file and rename, so a crash loses nothing. */
stdbp_status stdbp_metrics_begin(const char *run_dir, uint64_t first_epoch, stdbp_err *err)
{
    char path[4096], tmp[4200], line[4096];
    FILE *in, *out;
    metrics_path(path, sizeof path, run_dir, "metrics.csv");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    out = fopen(tmp, "w");
    if (!out)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    write_header(out);
    in = fopen(path, "r");
    if (in) {
        while (fgets(line, sizeof line, in)) {
            char *end;
            unsigned long long e = strtoull(line, &end, 10);
            if (end != line && *end == ',' && e < first_epoch)
                fputs(line, out);
        }
        fclose(in);
    }
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot write: %s", path, strerror(errno));
    return STDBP_OK;
}

static void row_values(const stdbp_metrics_row *r, double v[METRICS_COLS])
{
    double vals[METRICS_COLS] = {(double)r->epoch, (double)r->step,  r->lr,
                                 r->train_loss,    r->train_acc,     r->val_loss,
                                 r->val_acc,       r->test_loss,     r->test_acc,
                                 r->epoch_seconds, r->samples_per_s, r->wall_seconds};
    memcpy(v, vals, sizeof vals);
}

/* metrics.h5 from metrics.csv: one float64 dataset per column. */
static stdbp_status metrics_write_h5(const char *run_dir, stdbp_err *err)
{
    char csv[4096], h5[4096], tmp[4200], line[4096];
    double *data = NULL;
    size_t n = 0, cap = 0;
    stdbp_status st = STDBP_OK;
    FILE *in;

    metrics_path(csv, sizeof csv, run_dir, "metrics.csv");
    metrics_path(h5, sizeof h5, run_dir, "metrics.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", h5);
    in = fopen(csv, "r");
    if (!in)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot read: %s", csv, strerror(errno));
    while (fgets(line, sizeof line, in)) {
        double v[METRICS_COLS];
        char *p = line, *end;
        int k;
        for (k = 0; k < METRICS_COLS; k++) {
            v[k] = strtod(p, &end);
            if (end == p)
                break;
            p = *end == ',' ? end + 1 : end;
        }
        if (k < METRICS_COLS)
            continue; /* the header */
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            double *nd = realloc(data, ncap * METRICS_COLS * sizeof *nd);
            if (!nd) {
                fclose(in);
                free(data);
                return stdbp_err_set(err, STDBP_ENOMEM, "metrics: out of memory");
            }
            data = nd;
            cap = ncap;
        }
        memcpy(data + n * METRICS_COLS, v, sizeof v);
        n++;
    }
    fclose(in);

    stdbp_h5_quiet q;
    stdbp_h5_quiet_begin(&q);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        free(data);
        H5Eclear2(H5E_DEFAULT);
        stdbp_h5_quiet_end(&q);
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot create", tmp);
    }
    double *col = malloc((n ? n : 1) * sizeof *col);
    hsize_t dims[1] = {n};
    for (int k = 0; col && k < METRICS_COLS && st == STDBP_OK; k++) {
        for (size_t i = 0; i < n; i++)
            col[i] = data[i * METRICS_COLS + (size_t)k];
        if (stdbp_h5_dset_put(file, metrics_cols[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims,
                              col, err) != STDBP_OK)
            st = stdbp_err_prefix(err, "%s: ", tmp);
    }
    if (!col)
        st = stdbp_err_set(err, STDBP_ENOMEM, "metrics: out of memory");
    free(col);
    free(data);
    if (H5Fclose(file) < 0 && st == STDBP_OK)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot close", tmp);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&q);
    if (st == STDBP_OK && rename(tmp, h5) != 0)
        st = stdbp_err_set(err, STDBP_EIO, "%s: cannot rename: %s", h5, strerror(errno));
    return st;
}

stdbp_status stdbp_metrics_append(const char *run_dir, const stdbp_metrics_row *row, stdbp_err *err)
{
    char path[4096];
    double v[METRICS_COLS];
    FILE *f;
    metrics_path(path, sizeof path, run_dir, "metrics.csv");
    f = fopen(path, "a");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(errno));
    row_values(row, v);
    fprintf(f, "%llu,%llu", (unsigned long long)row->epoch, (unsigned long long)row->step);
    for (int k = 2; k < METRICS_COLS; k++)
        fprintf(f, ",%.9g", v[k]);
    fputc('\n', f);
    if (fclose(f) != 0)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot write: %s", path, strerror(errno));
    return metrics_write_h5(run_dir, err);
}
