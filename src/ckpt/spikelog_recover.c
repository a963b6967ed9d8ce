/* A spike log fitted to a resumed run (stdbp_spikelog_recover): moments
 * written after the checkpoint resumed from are removed, and a file that
 * is not a usable spike log is moved aside, so that no spikes.h5 can stop
 * a run for good; so is a moment whose write never finished (no
 * n_samples, which is written last). Rank 0 alone, serial HDF5 driver, before the
 * collective open. Layout: docs/FORMAT.md. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt/ckpt_impl.h"
#include "util/h5util.h"
#include "util/log.h"

typedef struct moments {
    char **names;
    int *done; /* the group has n_samples (written last): a finished moment */
    size_t n, cap;
    int nomem;
} moments;

/* Collect the root's groups. */
static herr_t collect(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    moments *m = data;
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    H5I_type_t type = o >= 0 ? H5Iget_type(o) : H5I_BADID;
    htri_t done = type == H5I_GROUP ? H5Aexists(o, "n_samples") : 0;
    (void)info;
    if (o < 0)
        return -1;
    H5Oclose(o);
    if (done < 0)
        return -1;
    if (type != H5I_GROUP)
        return 0;
    if (m->n == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 16;
        char **nn = realloc(m->names, nc * sizeof *nn);
        int *nd = nn ? realloc(m->done, nc * sizeof *nd) : NULL;
        if (nn)
            m->names = nn;
        if (!nd) {
            m->nomem = 1;
            return -1;
        }
        m->done = nd, m->cap = nc;
    }
    m->done[m->n] = done > 0;
    if (!(m->names[m->n] = strdup(name))) {
        m->nomem = 1;
        return -1;
    }
    m->n++;
    return 0;
}

static void moments_free(moments *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m->names);
    free(m->done);
    memset(m, 0, sizeof *m);
}

/* Open path (read-only or for writing) as a stdbp spike log and list its
 * moments; -1 (file closed) when it is not a usable one. */
static hid_t open_log(const char *path, unsigned flags, moments *m)
{
    char format[64];
    uint64_t n_layers;
    hid_t f = H5Fopen(path, flags, H5P_DEFAULT);
    if (f < 0)
        return -1;
    if (stdbp_h5_attr_get_str(f, "format", format, sizeof format, NULL) != STDBP_OK ||
        strcmp(format, CKPT_SPIKES_FORMAT_NAME) != 0 ||
        stdbp_h5_attr_get_u64(f, "n_layers", &n_layers, NULL) != STDBP_OK ||
        H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, m) < 0) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

/* spikes.h5 -> spikes.h5.broken-N, the first N not taken. */
static stdbp_status move_aside(const char *path, stdbp_err *err)
{
    char to[CKPT_PATH_MAX + 32];
    struct stat sb;
    for (int n = 1; n < 10000; n++) {
        snprintf(to, sizeof to, "%s.broken-%d", path, n);
        if (lstat(to, &sb) == 0)
            continue;
        if (rename(path, to) != 0)
            break;
        stdbp_log(STDBP_LOG_WARNING,
                  "spike log %s is not a usable stdbp spike log (killed while it was created, "
                  "or damaged): moved aside to %s; a new log is started",
                  path, to);
        return STDBP_OK;
    }
    return stdbp_err_set(err, STDBP_EIO,
                         "spike log %s is not usable and cannot be moved aside (%s): move it "
                         "away by hand",
                         path, strerror(errno));
}

stdbp_status stdbp_spikelog_recover(const char *run_dir, int (*keep)(const char *, void *),
                                    void *ctx, stdbp_err *err)
{
    char path[CKPT_PATH_MAX];
    struct stat sb;
    moments m = {0};
    size_t drop = 0;
    stdbp_status st = STDBP_OK;
    stdbp_h5_quiet quiet;
    hid_t f;
    if (!run_dir || !keep)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "stdbp_spikelog_recover: run_dir and keep are "
                             "required");
    if ((size_t)snprintf(path, sizeof path, "%s/spikes.h5", run_dir) >= sizeof path)
        return stdbp_err_set(err, STDBP_EINVAL, "spike log: run directory path too long: %s",
                             run_dir);
    if (lstat(path, &sb) != 0)
        return STDBP_OK; /* no log yet */
    stdbp_h5_quiet_begin(&quiet);
    if (!S_ISREG(sb.st_mode)) {
        st = stdbp_err_set(err, STDBP_EIO,
                           "spike log %s is not a regular file: move it away or use another "
                           "run directory",
                           path);
        goto done;
    }
    /* Read-only first: a log that needs nothing is left byte for byte. */
    f = open_log(path, H5F_ACC_RDONLY, &m);
    if (f >= 0) {
        for (size_t i = 0; i < m.n; i++)
            drop += !m.done[i] || !keep(m.names[i], ctx);
        if (H5Fclose(f) < 0)
            f = -1;
    }
    if (f < 0) {
        if (m.nomem)
            st = stdbp_err_set(err, STDBP_ENOMEM, "spike log %s: out of memory", path);
        else
            st = move_aside(path, err);
        goto done;
    }
    if (drop == 0)
        goto done;
    moments_free(&m);
    f = open_log(path, H5F_ACC_RDWR, &m);
    for (size_t i = 0; f >= 0 && i < m.n; i++) {
        int done = m.done[i];
        if (done && keep(m.names[i], ctx))
            continue;
        if (H5Ldelete(f, m.names[i], H5P_DEFAULT) < 0) {
            H5Fclose(f);
            f = -1;
            break;
        }
        stdbp_log(STDBP_LOG_WARNING,
                  done ? "spike log %s: removed moment \"%s\", written after the checkpoint "
                         "this run resumes from (it is recorded again)"
                       : "spike log %s: removed moment \"%s\", whose write never finished (it "
                         "is recorded again)",
                  path, m.names[i]);
    }
    if (f >= 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) {
        H5Fclose(f);
        f = -1;
    }
    if (f >= 0 && H5Fclose(f) < 0)
        f = -1;
    if (f < 0)
        st = m.nomem ? stdbp_err_set(err, STDBP_ENOMEM, "spike log %s: out of memory", path)
                     : move_aside(path, err);
done:
    moments_free(&m);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}
