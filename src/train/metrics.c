/* metrics.csv and metrics.h5; see metrics.h. */
#include "train/metrics.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/version.h"
#include "util/h5util.h"

#define METRICS_COLS STDBP_METRIC_COUNT

/* A column: its name, its units ("1": a pure number; "model time": the
 * network's time units, those of the spike times), a one-line
 * description, and whether metrics.h5 stores it as int64. */
typedef struct metrics_col {
    const char *name, *units, *description;
    int integer;
} metrics_col;

/* In the order of the STDBP_METRIC_* columns (include/stdbp/train.h). */
static const metrics_col metrics_cols[METRICS_COLS] = {
    {"epoch", "1", "the epoch this row ends, counted from 1 as the progress lines do", 1},
    {"step", "1", "optimiser steps taken by the end of the epoch", 1},
    {"lr", "1", "learning rate of the epoch's last step (scaled for the batch, scheduled)", 0},
    {"train_loss", "1", "mean training loss (softmax cross-entropy) over the epoch's samples", 0},
    {"train_acc", "1", "fraction of the epoch's training samples classified correctly", 0},
    {"val_loss", "1", "mean loss on the validation split (NaN: not evaluated this epoch)", 0},
    {"val_acc", "1", "accuracy on the validation split (NaN: not evaluated this epoch)", 0},
    {"test_loss", "1", "mean loss on the test set (NaN: not evaluated this epoch)", 0},
    {"test_acc", "1", "accuracy on the test set (NaN: not evaluated this epoch)", 0},
    {"epoch_seconds", "s", "wall time of the epoch's steps and evaluation in this session", 0},
    {"samples_per_s", "1/s", "training samples per second over the epoch", 0},
    {"wall_seconds", "s", "wall time of the run so far, over all its sessions", 0},
    {"silent_outputs", "1",
     "fraction of output neurons that did not fire, over the diagnostic test images", 0},
    {"silent_hidden", "1",
     "fraction of hidden dense/conv2d neurons that did not fire, over the diagnostic images", 0},
    {"first_spike_mean", "model time",
     "mean time of each diagnostic image's earliest output spike (images with one)", 0},
    {"first_spike_std", "model time",
     "population standard deviation of the earliest output spike times", 0},
    {"syn_events_per_sample", "1",
     "synaptic events per diagnostic image in the forward pass (all layers)", 0},
};

/* The first column of the diagnostics: a metrics.csv whose header lacks
 * it was written before epochs were counted from 1. */
#define FIRST_DIAG_COL STDBP_METRIC_SILENT_OUTPUTS

const char *stdbp_metric_name(int column)
{
    return column >= 0 && column < METRICS_COLS ? metrics_cols[column].name : NULL;
}

/* The CSV header line: the column names joined by commas. */
static void write_header(FILE *out)
{
    for (int c = 0; c < METRICS_COLS; c++)
        fprintf(out, "%s%s", c ? "," : "", metrics_cols[c].name);
    fputc('\n', out);
}

static void metrics_path(char *buf, size_t len, const char *run_dir, const char *name)
{
    snprintf(buf, len, "%s/%s", run_dir, name);
}

/* Does the header line name column c? */
static int header_has(const char *header, int c)
{
    const char *name = metrics_cols[c].name, *p = header;
    size_t len = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        if ((p == header || p[-1] == ',') &&
            (p[len] == ',' || p[len] == '\n' || p[len] == '\r' || p[len] == '\0'))
            return 1;
        p += len;
    }
    return 0;
}

/* Rewrite metrics.csv keeping the header and the rows of epochs up to
 * epochs_done; via a temporary file and rename, so a crash loses
 * nothing. An older file (0-based epochs, no diagnostics) is converted. */
stdbp_status stdbp_metrics_begin(const char *run_dir, uint64_t epochs_done, stdbp_err *err)
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
        int old = 0, first = 1;
        while (fgets(line, sizeof line, in)) {
            char *end;
            unsigned long long e = strtoull(line, &end, 10);
            if (first) {
                first = 0;
                old = !header_has(line, FIRST_DIAG_COL);
                if (end == line)
                    continue; /* the header */
            }
            if (end == line || *end != ',')
                continue;
            if (!old) {
                if (e <= epochs_done)
                    fputs(line, out);
                continue;
            }
            /* 0-based epoch e is epoch e + 1; the diagnostics were not kept. */
            if (e + 1 <= epochs_done) {
                end[strcspn(end, "\r\n")] = '\0';
                fprintf(out, "%llu%s", e + 1, end);
                for (int c = FIRST_DIAG_COL; c < METRICS_COLS; c++)
                    fputs(",nan", out);
                fputc('\n', out);
            }
        }
        fclose(in);
    }
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot write: %s", path, strerror(errno));
    return STDBP_OK;
}

static void row_values(const stdbp_metrics_row *r, double v[METRICS_COLS])
{
    double vals[METRICS_COLS] = {(double)r->epoch,
                                 (double)r->step,
                                 r->lr,
                                 r->train_loss,
                                 r->train_acc,
                                 r->val_loss,
                                 r->val_acc,
                                 r->test_loss,
                                 r->test_acc,
                                 r->epoch_seconds,
                                 r->samples_per_s,
                                 r->wall_seconds,
                                 r->silent_outputs,
                                 r->silent_hidden,
                                 r->first_spike_mean,
                                 r->first_spike_std,
                                 r->syn_events_per_sample};
    memcpy(v, vals, sizeof vals);
}

/* The rows of metrics.csv into *data (n rows of METRICS_COLS values, by
 * STDBP_METRIC_*; a column the header does not name is NaN) and their
 * epoch and step exactly into *ints (n rows of 2). */
static stdbp_status read_csv(const char *csv, double **data, int64_t **ints, size_t *n_out,
                             stdbp_err *err)
{
    char line[4096];
    int map[64];
    int n_head = 0;
    size_t n = 0, cap = 0;
    double *d = NULL;
    int64_t *iv = NULL;
    FILE *in = fopen(csv, "r");
    if (!in)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot read: %s", csv, strerror(errno));
    if (fgets(line, sizeof line, in)) {
        for (char *tok = strtok(line, ",\r\n"); tok && n_head < 64; tok = strtok(NULL, ",\r\n")) {
            map[n_head] = -1;
            for (int c = 0; c < METRICS_COLS; c++)
                if (strcmp(tok, metrics_cols[c].name) == 0)
                    map[n_head] = c;
            n_head++;
        }
    }
    while (fgets(line, sizeof line, in)) {
        double v[METRICS_COLS];
        int64_t e[2] = {0, 0};
        char *p = line, *end;
        int k;
        for (int c = 0; c < METRICS_COLS; c++)
            v[c] = NAN;
        for (k = 0; k < n_head; k++) {
            double x = strtod(p, &end);
            if (end == p)
                break;
            if (map[k] >= 0)
                v[map[k]] = x;
            if (map[k] == STDBP_METRIC_EPOCH || map[k] == STDBP_METRIC_STEP)
                e[map[k] == STDBP_METRIC_STEP] = (int64_t)strtoll(p, NULL, 10);
            p = *end == ',' ? end + 1 : end;
        }
        if (k < n_head)
            continue; /* not a row of numbers */
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            double *nd = realloc(d, ncap * METRICS_COLS * sizeof *nd);
            int64_t *ni = nd ? realloc(iv, ncap * 2 * sizeof *ni) : NULL;
            if (nd)
                d = nd;
            if (!nd || !ni) {
                fclose(in);
                free(d);
                free(iv);
                return stdbp_err_set(err, STDBP_ENOMEM, "metrics: out of memory");
            }
            iv = ni;
            cap = ncap;
        }
        memcpy(d + n * METRICS_COLS, v, sizeof v);
        memcpy(iv + n * 2, e, sizeof e);
        n++;
    }
    fclose(in);
    *data = d;
    *ints = iv;
    *n_out = n;
    return STDBP_OK;
}

/* One column of metrics.h5 with its units and description. */
static stdbp_status put_column(hid_t file, int k, size_t n, const double *data, const int64_t *ints,
                               void *buf, stdbp_err *err)
{
    const metrics_col *c = &metrics_cols[k];
    hsize_t dims[1] = {n};
    stdbp_status st;
    if (c->integer) {
        int64_t *col = buf;
        for (size_t i = 0; i < n; i++)
            col[i] = ints[i * 2 + (k == STDBP_METRIC_STEP)];
        st = stdbp_h5_dset_put(file, c->name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, col, err);
    } else {
        double *col = buf;
        for (size_t i = 0; i < n; i++)
            col[i] = data[i * METRICS_COLS + (size_t)k];
        st = stdbp_h5_dset_put(file, c->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, col, err);
    }
    if (st != STDBP_OK)
        return st;
    hid_t d = H5Dopen2(file, c->name, H5P_DEFAULT);
    if (d < 0)
        return stdbp_h5_fail(err, STDBP_EIO, "reopening dataset %s", c->name);
    st = stdbp_h5_attr_put_str(d, "units", c->units, err);
    if (st == STDBP_OK)
        st = stdbp_h5_attr_put_str(d, "description", c->description, err);
    H5Dclose(d);
    return st;
}

static stdbp_status put_root(hid_t file, stdbp_err *err)
{
    stdbp_status st = stdbp_h5_attr_put_str(file, "format", STDBP_METRICS_FORMAT_NAME, err);
    if (st == STDBP_OK)
        st = stdbp_h5_attr_put_u64(file, "format_version", STDBP_METRICS_FORMAT_VERSION, err);
    if (st == STDBP_OK)
        st = stdbp_h5_attr_put_str(file, "stdbp_version", STDBP_VERSION, err);
    if (st == STDBP_OK)
        st = stdbp_h5_attr_put_str(file, "description",
                                   "per-epoch metrics of a stdbp training run, one row per epoch",
                                   err);
    return st;
}

/* metrics.h5 from metrics.csv: one dataset per column (epoch and step
 * int64, the rest float64), written to a temporary file and renamed. */
static stdbp_status metrics_write_h5(const char *run_dir, stdbp_err *err)
{
    char csv[4096], h5[4096], tmp[4200];
    double *data = NULL;
    int64_t *ints = NULL;
    size_t n = 0;
    stdbp_status st;

    metrics_path(csv, sizeof csv, run_dir, "metrics.csv");
    metrics_path(h5, sizeof h5, run_dir, "metrics.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", h5);
    if ((st = read_csv(csv, &data, &ints, &n, err)) != STDBP_OK)
        return st;

    stdbp_h5_quiet q;
    stdbp_h5_quiet_begin(&q);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        free(data);
        free(ints);
        H5Eclear2(H5E_DEFAULT);
        stdbp_h5_quiet_end(&q);
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot create", tmp);
    }
    void *col = malloc((n ? n : 1) * sizeof(double));
    if (!col)
        st = stdbp_err_set(err, STDBP_ENOMEM, "metrics: out of memory");
    else if ((st = put_root(file, err)) != STDBP_OK)
        stdbp_err_prefix(err, "%s: ", tmp);
    for (int k = 0; k < METRICS_COLS && st == STDBP_OK; k++)
        if ((st = put_column(file, k, n, data, ints, col, err)) != STDBP_OK)
            stdbp_err_prefix(err, "%s: ", tmp);
    free(col);
    free(data);
    free(ints);
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
