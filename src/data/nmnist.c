/* N-MNIST's binary format: a folder per digit, a file per sample, 5-byte
 * events; see include/stdbp/data.h and docs/DATA.md. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/events_impl.h"
#include "data/idx_impl.h" /* stdbp_data_poll_stop */
#include "util/fsutil.h"

#define S STDBP_NMNIST_SIZE

stdbp_status stdbp_nmnist_parse(const unsigned char *buf, size_t len, const char *name, double **t,
                                uint32_t **ch, size_t *n, stdbp_err *err)
{
    *t = NULL;
    *ch = NULL;
    *n = 0;
    if (len % 5 != 0)
        return stdbp_err_set(err, STDBP_EFORMAT,
                             "%s: %zu bytes is not a whole number of 5-byte events (%zu bytes "
                             "left over at byte %zu): a truncated file?",
                             name, len, len % 5, len - len % 5);
    const size_t m = len / 5;
    if (m > STDBP_MAX_EVENTS)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: %zu events: at most 2^30 per sample", name,
                             m);
    if (m == 0)
        return STDBP_OK;
    *t = malloc(m * sizeof **t);
    *ch = malloc(m * sizeof **ch);
    if (!*t || !*ch) {
        free(*t);
        free(*ch);
        *t = NULL;
        *ch = NULL;
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu events", name, m);
    }
    for (size_t k = 0; k < m; k++) {
        const unsigned char *b = buf + 5 * k;
        const unsigned x = b[0], y = b[1], p = b[2] >> 7;
        const uint32_t ts = ((uint32_t)(b[2] & 0x7f) << 16) | ((uint32_t)b[3] << 8) | b[4];
        if (x >= S || y >= S) {
            free(*t);
            free(*ch);
            *t = NULL;
            *ch = NULL;
            return stdbp_err_set(err, STDBP_ERANGE,
                                 "%s: event %zu at byte %zu: x %u, y %u: both must be < %d", name,
                                 k, 5 * k, x, y, S);
        }
        (*t)[k] = (double)ts;
        (*ch)[k] = (uint32_t)(p * S * S + y * S + x);
    }
    *n = m;
    return STDBP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the regular entries of dir (no dot files), sorted. */
static stdbp_status list_dir(const char *dir, char ***names, size_t *count, stdbp_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, cap = 0;
    char **v = NULL;
    *names = NULL;
    *count = 0;
    if (!d)
        return stdbp_err_set(err, STDBP_EIO,
                             "%s: cannot open the folder (N-MNIST needs the folders 0 .. 9 with "
                             "one file per sample)",
                             dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name)))
            break;
        n++;
    }
    const int failed = e != NULL;
    closedir(d);
    if (failed) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory listing the folder", dir);
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    *count = n;
    return STDBP_OK;
}

/* Append the events of file path (label) to out; *cap_ev grows. */
static stdbp_status add_file(const char *path, int label, stdbp_dataset *out, size_t *cap_n,
                             size_t *cap_ev, stdbp_err *err)
{
    FILE *f = NULL;
    unsigned char *buf = NULL;
    double *t = NULL;
    uint32_t *ch = NULL;
    size_t m = 0, len = 0;
    struct stat sb;
    stdbp_status st = stdbp_fopen_regular(path, &f, err);
    if (st != STDBP_OK)
        return st;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 ||
        (uint64_t)sb.st_size > ((uint64_t)5 << 30)) {
        fclose(f);
        return stdbp_err_set(err, STDBP_EFORMAT, "%s: cannot tell its size, or over 5 GiB", path);
    }
    len = (size_t)sb.st_size;
    if (!(buf = malloc(len ? len : 1))) {
        fclose(f);
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    if (fread(buf, 1, len, f) != len) {
        fclose(f);
        free(buf);
        return stdbp_err_set(err, STDBP_EIO, "%s: read error", path);
    }
    fclose(f);
    st = stdbp_nmnist_parse(buf, len, path, &t, &ch, &m, err);
    free(buf);
    if (st != STDBP_OK)
        return st;
    const size_t have = (size_t)out->ev_off[out->n];
    if (out->n + 2 > *cap_n) {
        size_t c = *cap_n ? 2 * *cap_n : 1024;
        int64_t *o = realloc(out->ev_off, c * sizeof *o);
        int32_t *l = o ? realloc(out->labels, c * sizeof *l) : NULL;
        if (o)
            out->ev_off = o;
        if (l)
            out->labels = l;
        if (!o || !l)
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", path);
        else
            *cap_n = c;
    }
    if (st == STDBP_OK && have + m > *cap_ev) {
        size_t c = *cap_ev ? *cap_ev : 1 << 16;
        while (c < have + m)
            c *= 2;
        double *nt = realloc(out->ev_t, c * sizeof *nt);
        uint32_t *nc = nt ? realloc(out->ev_ch, c * sizeof *nc) : NULL;
        if (nt)
            out->ev_t = nt;
        if (nc)
            out->ev_ch = nc;
        if (!nt || !nc)
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory for %zu events", path,
                               have + m);
        else
            *cap_ev = c;
    }
    if (st == STDBP_OK) {
        if (m) {
            memcpy(out->ev_t + have, t, m * sizeof *t);
            memcpy(out->ev_ch + have, ch, m * sizeof *ch);
        }
        out->labels[out->n] = label;
        out->ev_off[out->n + 1] = (int64_t)(have + m);
        out->n++;
    }
    free(t);
    free(ch);
    return st;
}

stdbp_status stdbp_nmnist_load(const char *dir, stdbp_dataset *out, stdbp_err *err)
{
    char path[4096];
    size_t cap_n = 0, cap_ev = 0;
    stdbp_status st = STDBP_OK;
    memset(out, 0, sizeof *out);
    if (strlen(dir) + 32 >= sizeof path || strlen(dir) >= sizeof out->source)
        return stdbp_err_set(err, STDBP_EINVAL, "nmnist: folder path too long: %s", dir);
    out->shape = (stdbp_shape){2, S, S};
    out->dim = 2 * S * S;
    if (!(out->ev_off = calloc(1, sizeof *out->ev_off)))
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", dir);
    cap_n = 1;
    for (int digit = 0; digit < 10 && st == STDBP_OK; digit++) {
        char **names;
        size_t count;
        snprintf(path, sizeof path, "%s/%d", dir, digit);
        if ((st = list_dir(path, &names, &count, err)) != STDBP_OK)
            break;
        for (size_t k = 0; k < count; k++) {
            if (st == STDBP_OK && (st = stdbp_data_poll_stop(dir, err)) == STDBP_OK) {
                char file[4096 + 256];
                snprintf(file, sizeof file, "%s/%d/%s", dir, digit, names[k]);
                st = add_file(file, digit, out, &cap_n, &cap_ev, err);
            }
            free(names[k]);
        }
        free(names);
    }
    if (st == STDBP_OK && out->n == 0)
        st = stdbp_err_set(err, STDBP_EFORMAT, "%s: no sample files in the folders 0 .. 9", dir);
    if (st == STDBP_OK && !out->ev_t) { /* every file empty */
        out->ev_t = malloc(sizeof *out->ev_t);
        out->ev_ch = malloc(sizeof *out->ev_ch);
        if (!out->ev_t || !out->ev_ch)
            st = stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory", dir);
    }
    if (st == STDBP_OK)
        st = stdbp_events_finish(out, dir, err);
    if (st != STDBP_OK)
        stdbp_dataset_free(out);
    return st;
}
