/* Per-point status files and the sweep summary; see "results" in
 * sweep.h. */
#include "sweep/sweep_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "stdbp/train.h"

stdbp_status stdbp_sweep_mkdirs(const char *dir, stdbp_err *err)
{
    return stdbp_mkdir_p(dir, err);
}

static void put_quoted(FILE *f, const char *s)
{
    size_t len = strlen(s), size = 4 * len + 3;
    char *q = malloc(size);
    if (!q) {
        fputs("\"\"", f);
        return;
    }
    q[0] = '\0';
    stdbp_sweep_quote(s, len, q, size);
    fputs(q, f);
    free(q);
}

stdbp_status stdbp_sweep_write_status(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                      const char *status, const char *message, stdbp_err *err)
{
    char path[4200], tmp[4300];
    stdbp_status st = stdbp_sweep_mkdirs(pt->run_dir, err);
    if (st)
        return st;
    snprintf(path, sizeof path, "%s/%s", pt->run_dir, STDBP_SWEEP_STATUS_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "# written by stdbp_sweep (docs/SLURM.md)\nsweep: ");
    put_quoted(f, stdbp_sweep_name(sw));
    fprintf(f, "\nsource: ");
    put_quoted(f, stdbp_sweep_source(sw));
    fprintf(f, "\nindex: %zu\nstatus: %s\nmessage: ", pt->index, status);
    put_quoted(f, message ? message : "");
    fprintf(f, "\nparams:\n");
    for (size_t i = 0; i < pt->n_params; i++) {
        fputs("  - ", f);
        put_quoted(f, pt->params[i]);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    return STDBP_OK;
}

/* ---- reading a point's results ------------------------------------------ */

/* The metrics.csv columns that the summary reports after epochs and step,
 * in its column order. */
static const int summary_metrics[] = {
    STDBP_METRIC_TRAIN_LOSS, STDBP_METRIC_TRAIN_ACC, STDBP_METRIC_VAL_LOSS,    STDBP_METRIC_VAL_ACC,
    STDBP_METRIC_TEST_LOSS,  STDBP_METRIC_TEST_ACC,  STDBP_METRIC_WALL_SECONDS};
#define N_SUMMARY_METRICS (sizeof summary_metrics / sizeof summary_metrics[0])

typedef struct row {
    size_t index;
    int group; /* 0 done, 1 metrics but not done, 2 no metrics */
    char status[16];
    char message[STDBP_ERR_MSG_MAX];
    int have;                        /* metrics read */
    double last[STDBP_METRIC_COUNT]; /* the last metrics row, by STDBP_METRIC_* */
    double best_val;                 /* NaN if never evaluated */
    double best_epoch;
    long epochs; /* train.epochs of the point's config */
    char run_dir[STDBP_CFG_STR];
    char *params; /* "k=v k=v" */
} row;

/* Last row and best val_acc of run_dir/metrics.csv; r->have = 0 if none. */
static void read_metrics(row *r)
{
    char path[STDBP_CFG_STR + 32], line[8192];
    int col[STDBP_METRIC_COUNT];
    snprintf(path, sizeof path, "%s/metrics.csv", r->run_dir);
    FILE *f = fopen(path, "r");
    r->have = 0;
    r->best_val = NAN;
    r->best_epoch = NAN;
    if (!f)
        return;
    for (int k = 0; k < STDBP_METRIC_COUNT; k++)
        col[k] = -1;
    /* Epochs count from 1; a file without the diagnostics columns (written
     * by an older stdbp) counts them from 0. */
    double epoch_base = 1;
    if (fgets(line, sizeof line, f)) {
        int c = 0;
        for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c++)
            for (int k = 0; k < STDBP_METRIC_COUNT; k++)
                if (strcmp(tok, stdbp_metric_name(k)) == 0)
                    col[k] = c;
        if (col[STDBP_METRIC_SILENT_OUTPUTS] < 0)
            epoch_base = 0;
    }
    while (fgets(line, sizeof line, f)) {
        double v[64];
        int n = 0;
        char *p = line, *end;
        while (n < 64) {
            v[n] = strtod(p, &end);
            if (end == p)
                v[n] = NAN;
            n++;
            p = strchr(end, ',');
            if (!p)
                break;
            p++;
        }
        if (n < 2)
            continue;
        for (int k = 0; k < STDBP_METRIC_COUNT; k++)
            r->last[k] = col[k] >= 0 && col[k] < n ? v[col[k]] : NAN;
        r->last[STDBP_METRIC_EPOCH] += 1 - epoch_base;
        r->have = 1;
        double va = r->last[STDBP_METRIC_VAL_ACC];
        if (!isnan(va) && (isnan(r->best_val) || va > r->best_val)) {
            r->best_val = va;
            r->best_epoch = r->last[STDBP_METRIC_EPOCH];
        }
    }
    fclose(f);
}

/* status and message from run_dir/sweep_point.yaml: see
 * stdbp_sweep_point_status. */
static void read_status_file(const char *run_dir, char *status, size_t size, char *message,
                             size_t msize)
{
    char path[STDBP_CFG_STR + 32];
    stdbp_yaml_doc *doc = NULL;
    stdbp_err e;
    status[0] = '\0';
    if (message)
        message[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", run_dir, STDBP_SWEEP_STATUS_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fclose(f);
    if (stdbp_yaml_load_file(path, &doc, &e) != STDBP_OK) {
        snprintf(status, size, "unknown");
        if (message)
            snprintf(message, msize, "%s", e.msg);
        return;
    }
    const stdbp_yaml_node *root = stdbp_yaml_root(doc);
    const char *s = stdbp_yaml_text(stdbp_yaml_get(root, "status"), NULL);
    const char *m = stdbp_yaml_text(stdbp_yaml_get(root, "message"), NULL);
    snprintf(status, size, "%s", s ? s : "unknown");
    if (message)
        snprintf(message, msize, "%s", m ? m : "");
    stdbp_yaml_free(&doc);
}

void stdbp_sweep_point_status(const stdbp_sweep_point *pt, char *status, size_t size, char *message,
                              size_t msize)
{
    read_status_file(pt->run_dir, status, size, message, msize);
}

static void read_status(row *r)
{
    read_status_file(r->run_dir, r->status, sizeof r->status, r->message, sizeof r->message);
}

static void classify(row *r)
{
    int complete = r->have && r->last[STDBP_METRIC_EPOCH] >= (double)r->epochs;
    if (strcmp(r->status, "failed") == 0)
        ; /* keep: the run said so */
    else if (complete)
        snprintf(r->status, sizeof r->status, "done");
    else if (!r->status[0] || strcmp(r->status, "done") == 0)
        snprintf(r->status, sizeof r->status, r->have ? "partial" : "missing");
    r->group = strcmp(r->status, "done") == 0 ? 0 : r->have ? 1 : 2;
}

stdbp_status stdbp_sweep_point_mkdir(const stdbp_sweep_point *pt, stdbp_err *err)
{
    return stdbp_sweep_mkdirs(pt->run_dir, err);
}

stdbp_status stdbp_sweep_point_done(const stdbp_sweep *sw, const stdbp_sweep_point *pt,
                                    const stdbp_config *base, int *done, stdbp_err *err)
{
    stdbp_config *cfg = malloc(sizeof *cfg);
    row *r = calloc(1, sizeof *r);
    char written[16];
    stdbp_status st = STDBP_OK;
    *done = 0;
    if (!cfg || !r)
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    else if ((st = stdbp_sweep_point_config(sw, pt, base, cfg, err)) == STDBP_OK) {
        r->index = pt->index;
        r->epochs = cfg->train.epochs;
        snprintf(r->run_dir, sizeof r->run_dir, "%s", pt->run_dir);
        read_metrics(r);
        read_status(r);
        snprintf(written, sizeof written, "%s", r->status);
        classify(r);
        *done = r->group == 0 && strcmp(written, "done") == 0;
    }
    free(r);
    free(cfg);
    return st;
}

/* NaN sorts after every number. */
static int cmp_desc(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return a > b ? -1 : a < b;
}

static int row_cmp(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int c;
    if (a->group != b->group)
        return a->group - b->group;
    if ((c = cmp_desc(a->best_val, b->best_val)) ||
        (c = cmp_desc(a->last[STDBP_METRIC_TEST_ACC], b->last[STDBP_METRIC_TEST_ACC])))
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void csv_num(FILE *f, double v, int have)
{
    if (have && !isnan(v))
        fprintf(f, ",%.9g", v);
    else
        fputc(',', f);
}

static void csv_text(FILE *f, const char *s)
{
    fputs(",\"", f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static void fmt_num(char *buf, size_t size, double v, int have, const char *fmt)
{
    if (have && !isnan(v))
        snprintf(buf, size, fmt, v);
    else
        snprintf(buf, size, "-");
}

static stdbp_status write_csv(const char *path, const row *rows, size_t n, stdbp_err *err)
{
    char tmp[STDBP_CFG_STR + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "rank,point,status,best_val_acc,best_epoch,epochs_done,epochs,%s",
            stdbp_metric_name(STDBP_METRIC_STEP));
    for (size_t k = 0; k < N_SUMMARY_METRICS; k++)
        fprintf(f, ",%s", stdbp_metric_name(summary_metrics[k]));
    fprintf(f, ",run_dir,params,message\n");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        if (r->group < 2)
            fprintf(f, "%zu", i + 1);
        fprintf(f, ",%zu,%s", r->index, r->status);
        csv_num(f, r->best_val, r->have);
        csv_num(f, r->best_epoch, r->have);
        csv_num(f, r->last[STDBP_METRIC_EPOCH], r->have);
        fprintf(f, ",%ld", r->epochs);
        csv_num(f, r->last[STDBP_METRIC_STEP], r->have);
        for (size_t k = 0; k < N_SUMMARY_METRICS; k++)
            csv_num(f, r->last[summary_metrics[k]], r->have);
        csv_text(f, r->run_dir);
        csv_text(f, r->params ? r->params : "");
        csv_text(f, r->message);
        fputc('\n', f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    return STDBP_OK;
}

static void print_table(FILE *out, const stdbp_sweep *sw, const char *csv, const row *rows,
                        size_t n, size_t n_done)
{
    fprintf(out, "sweep %s: %zu points, %zu done; table in %s\n", stdbp_sweep_name(sw), n, n_done,
            csv);
    fprintf(out, "%4s %6s %-9s %12s %8s %10s %7s  %s\n", "rank", "point", "status", "best_val_acc",
            "test_acc", "train_loss", "epochs", "params");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char rank[16], bv[32], ta[32], tl[32], ep[32];
        snprintf(rank, sizeof rank, r->group < 2 ? "%zu" : "-", i + 1);
        fmt_num(bv, sizeof bv, r->best_val, r->have, "%.4f");
        fmt_num(ta, sizeof ta, r->last[STDBP_METRIC_TEST_ACC], r->have, "%.4f");
        fmt_num(tl, sizeof tl, r->last[STDBP_METRIC_TRAIN_LOSS], r->have, "%.4g");
        if (r->have)
            snprintf(ep, sizeof ep, "%.0f/%ld", r->last[STDBP_METRIC_EPOCH], r->epochs);
        else
            snprintf(ep, sizeof ep, "-/%ld", r->epochs);
        fprintf(out, "%4s %6zu %-9s %12s %8s %10s %7s  %s\n", rank, r->index, r->status, bv, ta, tl,
                ep, r->params ? r->params : "");
        if (r->message[0] && strcmp(r->status, "done") != 0)
            fprintf(out, "%4s %6s %-9s %s\n", "", "", "", r->message);
    }
}

stdbp_status stdbp_sweep_summary(const stdbp_sweep *sw, char *const *extra, size_t n_extra,
                                 FILE *out, size_t *n_done_out, stdbp_err *err)
{
    size_t n = stdbp_sweep_count(sw), n_done = 0, i;
    row *rows = calloc(n, sizeof *rows);
    stdbp_config *base = malloc(sizeof *base), *cfg = malloc(sizeof *cfg);
    stdbp_sweep_point pt;
    char csv[STDBP_CFG_STR + 32];
    stdbp_status st = STDBP_OK;

    memset(&pt, 0, sizeof pt);
    if (!rows || !base || !cfg) {
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = stdbp_sweep_load_base(sw, base, err)))
        goto done;
    for (i = 0; i < n; i++) {
        row *r = &rows[i];
        if ((st = stdbp_sweep_point_get(sw, i, extra, n_extra, &pt, err)) ||
            (st = stdbp_sweep_point_config(sw, &pt, base, cfg, err)))
            goto done;
        r->index = i;
        r->epochs = cfg->train.epochs;
        snprintf(r->run_dir, sizeof r->run_dir, "%s", pt.run_dir);
        size_t len = 1;
        for (size_t j = 0; j < pt.n_params; j++)
            len += strlen(pt.params[j]) + 1;
        if (!(r->params = calloc(len, 1))) {
            st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t j = 0; j < pt.n_params; j++) {
            if (j)
                strcat(r->params, " ");
            strcat(r->params, pt.params[j]);
        }
        stdbp_sweep_point_clear(&pt);
        read_metrics(r);
        read_status(r);
        classify(r);
        n_done += r->group == 0;
    }
    qsort(rows, n, sizeof *rows, row_cmp);
    if ((st = stdbp_sweep_mkdirs(stdbp_sweep_dir(sw), err)))
        goto done;
    snprintf(csv, sizeof csv, "%s/%s", stdbp_sweep_dir(sw), STDBP_SWEEP_SUMMARY_FILE);
    if ((st = write_csv(csv, rows, n, err)))
        goto done;
    if (out)
        print_table(out, sw, csv, rows, n, n_done);
    if (n_done_out)
        *n_done_out = n_done;
done:
    stdbp_sweep_point_clear(&pt);
    for (i = 0; rows && i < n; i++)
        free(rows[i].params);
    free(rows);
    free(base);
    free(cfg);
    return st;
}
