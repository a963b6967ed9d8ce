/* Spike logs in parallel HDF5: run_dir/spikes.h5.
 *
 * One group per recorded moment; in it one dataset per layer
 * [n_total x layer_size] of float64 spike times (inf = silent, NaN = a row
 * no rank wrote) and /<moment>/labels. Each rank writes the rows of the
 * samples it ran with one hyperslab, in a collective transfer; datasets
 * are chunked, shuffled and deflated (parallel HDF5 >= 1.10.2 compresses
 * in collective writes). Every metadata call is made by every rank with
 * the same values, and every HDF5 call that can fail is one step agreed on
 * by all ranks before the next collective one (ckpt_steps, as for
 * checkpoints): a failure on one rank ends the open, write or close on
 * every rank, none waits in a collective another has left. A moment's
 * attribute n_samples is written last: a group without it was not
 * finished (a failed write deletes it again; stdbp_spikelog_recover
 * removes one that a crash left). Layout and durability: docs/FORMAT.md. */
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ckpt/ckpt_impl.h"
#include "ckpt/ckpt_write.h"
#include "util/fsutil.h"
#include "util/h5util.h"
#include "util/log.h"
#include "util/test_hooks.h"
#include "stdbp/version.h"

#define SPIKES_FORMAT_NAME "stdbp-spikes"
#define SPIKES_FORMAT_VERSION 1
#define SPIKES_CHUNK_BYTES ((size_t)1 << 20)
#define SPIKES_DEFLATE 4
#define SPIKES_MOMENT_MAX 64

struct stdbp_spikelog {
    MPI_Comm comm; /* a duplicate, owned */
    int rank;
    hid_t file;
    hid_t dxpl;       /* collective transfers */
    ckpt_steps steps; /* of this session: open, writes, close */
    size_t n_rec;     /* recorded layers: the input, then each net layer */
    uint64_t *sizes;  /* values per sample of each */
    int32_t (*shapes)[3];
    char (*names)[32]; /* "input", "layer00", ... */
    char (*kinds)[16]; /* "input", "dense", ... */
    char path[CKPT_PATH_MAX];
};

static stdbp_status h5_fail(stdbp_err *e, const char *path, const char *what)
{
    char detail[512];
    stdbp_h5_error(detail, sizeof detail);
    return stdbp_err_set(e, STDBP_EIO, "spike log %s: %s failed: %s", path, what, detail);
}

/* One step of the session: st gets the agreed outcome of expr; on
 * failure, goto done. */
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        st = stdbp_ckpt_steps_agree(&log->steps, (expr));                                          \
        if (st != STDBP_OK)                                                                        \
            goto done;                                                                             \
    } while (0)
/* One step of an h5util call, whose message gets the file's name. */
#define H5U(call) STEP((call) != STDBP_OK ? stdbp_ckpt_steps_prefix(&log->steps) : STDBP_OK)

static void log_free(stdbp_spikelog *log)
{
    if (!log)
        return;
    if (log->dxpl >= 0)
        H5Pclose(log->dxpl);
    if (log->comm != MPI_COMM_NULL)
        MPI_Comm_free(&log->comm);
    free(log->sizes);
    free(log->shapes);
    free(log->names);
    free(log->kinds);
    free(log);
}

/* The recorded layers of net: layer 0 is the input. */
static stdbp_status describe_layers(stdbp_spikelog *log, const stdbp_net *net, stdbp_err *e)
{
    size_t n = stdbp_net_num_layers(net) + 1;
    log->n_rec = n;
    log->sizes = calloc(n, sizeof *log->sizes);
    log->shapes = calloc(n, sizeof *log->shapes);
    log->names = calloc(n, sizeof *log->names);
    log->kinds = calloc(n, sizeof *log->kinds);
    if (!log->sizes || !log->shapes || !log->names || !log->kinds)
        return stdbp_err_set(e, STDBP_ENOMEM, "spike log: out of memory");
    for (size_t i = 0; i < n; i++) {
        stdbp_shape s;
        if (i == 0) {
            s = stdbp_net_layer(net, 0).in;
            snprintf(log->names[i], sizeof log->names[i], "input");
            snprintf(log->kinds[i], sizeof log->kinds[i], "input");
        } else {
            stdbp_layer_info info = stdbp_net_layer(net, i - 1);
            s = info.out;
            snprintf(log->names[i], sizeof log->names[i], "layer%02zu", i - 1);
            snprintf(log->kinds[i], sizeof log->kinds[i], "%s",
                     stdbp_ckpt_kind_name((int)info.kind));
        }
        log->shapes[i][0] = s.c, log->shapes[i][1] = s.h, log->shapes[i][2] = s.w;
        log->sizes[i] = (uint64_t)s.c * (uint64_t)s.h * (uint64_t)s.w;
    }
    return STDBP_OK;
}

/* Collective: the root attributes of a new log, one step each. */
static stdbp_status write_root(stdbp_spikelog *log)
{
    stdbp_err *e = log->steps.e;
    const char **names = malloc(log->n_rec * sizeof *names);
    const char **kinds = malloc(log->n_rec * sizeof *kinds);
    int32_t *shapes = malloc(log->n_rec * 3 * sizeof *shapes);
    stdbp_status st = STDBP_OK;
    STEP(!names || !kinds || !shapes ? stdbp_err_set(e, STDBP_ENOMEM, "spike log: out of memory")
                                     : STDBP_OK);
    for (size_t i = 0; i < log->n_rec; i++) {
        names[i] = log->names[i];
        kinds[i] = log->kinds[i];
        memcpy(shapes + 3 * i, log->shapes[i], 3 * sizeof *shapes);
    }
    H5U(stdbp_h5_attr_put_str(log->file, "format", SPIKES_FORMAT_NAME, e));
    H5U(stdbp_h5_attr_put_u64(log->file, "format_version", SPIKES_FORMAT_VERSION, e));
    H5U(stdbp_h5_attr_put_str(log->file, "stdbp_version", STDBP_VERSION, e));
    H5U(stdbp_h5_attr_put_u64(log->file, "n_layers", log->n_rec, e));
    H5U(stdbp_h5_attr_put_strv(log->file, "layer_names", names, log->n_rec, e));
    H5U(stdbp_h5_attr_put_strv(log->file, "layer_kinds", kinds, log->n_rec, e));
    H5U(stdbp_h5_attr_put_u64v(log->file, "layer_sizes", log->sizes, log->n_rec, e));
    H5U(stdbp_h5_attr_put_i32m(log->file, "layer_shapes", shapes, log->n_rec, 3, e));
    /* The new log is on disk before any moment goes in. */
    STEP(H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0 ? h5_fail(e, log->path, "flushing") : STDBP_OK);
done:
    free(names);
    free(kinds);
    free(shapes);
    return st;
}

/* "[36, 108, 27]" into buf (cut with "..." when long). */
static void format_sizes(const uint64_t *v, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used + 24 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%" PRIu64, i ? ", " : "[", v[i]);
    if (used + 24 >= len)
        snprintf(buf + used, len - used, ", ...]");
    else
        snprintf(buf + used, len - used, "]");
}

/* An existing file must have been written for the same layer sizes. */
static stdbp_status check_root(stdbp_spikelog *log, stdbp_err *e)
{
    char format[64];
    uint64_t n = 0;
    uint64_t *sizes = NULL;
    stdbp_status st = STDBP_OK;
    if (stdbp_h5_attr_get_str(log->file, "format", format, sizeof format, e) != STDBP_OK ||
        strcmp(format, SPIKES_FORMAT_NAME) != 0 ||
        stdbp_h5_attr_get_u64(log->file, "n_layers", &n, e) != STDBP_OK)
        return stdbp_err_set(e, STDBP_EFORMAT,
                             "spike log %s exists but is not a stdbp spike log; move it away",
                             log->path);
    if (n > CKPT_MAX_LAYERS) /* a damaged count: not worth an allocation */
        return stdbp_err_set(e, STDBP_EFORMAT,
                             "spike log %s exists but is not a stdbp spike log (n_layers %llu); "
                             "move it away",
                             log->path, (unsigned long long)n);
    sizes = malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes)
        return stdbp_err_set(e, STDBP_ENOMEM, "spike log: out of memory");
    if (n != log->n_rec ||
        stdbp_h5_attr_get_u64v(log->file, "layer_sizes", sizes, n, e) != STDBP_OK ||
        memcmp(sizes, log->sizes, n * sizeof *sizes) != 0) {
        char theirs[256], ours[256];
        if (n > 0 && stdbp_h5_attr_get_u64v(log->file, "layer_sizes", sizes, n, e) == STDBP_OK)
            format_sizes(sizes, (size_t)n, theirs, sizeof theirs);
        else
            snprintf(theirs, sizeof theirs, "(unreadable)");
        format_sizes(log->sizes, log->n_rec, ours, sizeof ours);
        st = stdbp_err_set(e, STDBP_EFORMAT,
                           "spike log %s was written for another network (values per sample, "
                           "input first: %s; this network: %s); move it away or use another "
                           "run directory",
                           log->path, theirs, ours);
    }
    free(sizes);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Collective: close the file of a session that failed, every rank
 * holding it (else nothing: closing is collective). A flush first, agreed
 * on, so that the close has nothing left to write; a file that cannot be
 * flushed everywhere stays open (HDF5 drops it when the program ends)
 * rather than closed by some ranks only. Not a step: an earlier failure's
 * message stays in the caller's err. */
static void close_failed(stdbp_spikelog *log)
{
    stdbp_err ignored;
    int open = log->file >= 0, all_open = 0;
    MPI_Allreduce(&open, &all_open, 1, MPI_INT, MPI_MIN, log->comm);
    if (all_open) {
        stdbp_status flushed = H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0 ? STDBP_EIO : STDBP_OK;
        if (stdbp_dist_agree(log->comm, flushed, &ignored) == STDBP_OK)
            H5Fclose(log->file); /* collective */
        else if (log->rank == 0)
            stdbp_log(STDBP_LOG_WARNING,
                      "spike log %s could not be flushed after a failure; HDF5 keeps it open "
                      "until the program ends",
                      log->path);
    }
    log->file = H5I_INVALID_HID;
}

stdbp_status stdbp_spikelog_open(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                                 stdbp_spikelog **out, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    stdbp_spikelog *log = NULL;
    stdbp_status st, mine = STDBP_OK;
    hid_t fapl = H5I_INVALID_HID;
    int exists = 0, created = 0;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    if (out)
        *out = NULL;
    log = calloc(1, sizeof *log);
    if (!log)
        mine = stdbp_err_set(e, STDBP_ENOMEM, "spike log: out of memory");
    else {
        log->comm = MPI_COMM_NULL;
        log->file = log->dxpl = H5I_INVALID_HID;
    }
    if (mine == STDBP_OK && (!run_dir || !net || !out))
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_spikelog_open: run_dir, net and out are "
                             "required");
    if (mine == STDBP_OK &&
        (size_t)snprintf(log->path, sizeof log->path, "%s/spikes.h5", run_dir) >= sizeof log->path)
        mine =
            stdbp_err_set(e, STDBP_EINVAL, "spike log: run directory path too long: %s", run_dir);
    if (mine == STDBP_OK)
        mine = describe_layers(log, net, e);
    st = stdbp_dist_agree(comm, mine, e);
    if (st != STDBP_OK) {
        log_free(log);
        stdbp_h5_quiet_end(&quiet);
        return st;
    }
    MPI_Comm_dup(comm, &log->comm);
    MPI_Comm_rank(log->comm, &log->rank);
    log->steps.comm = log->comm;
    log->steps.rank = log->rank;
    log->steps.fail_at = stdbp_test_hooks_get()->fail_spikes_step;
    log->steps.fail_rank = stdbp_test_hooks_get()->fail_spikes_rank;
    log->steps.what = "spike log";
    log->steps.path = log->path;
    log->steps.e = e;

    /* Rank 0 makes the directory and looks for an existing log. */
    mine = STDBP_OK;
    if (log->rank == 0) {
        struct stat sb;
        if (stdbp_mkdir_p(run_dir, e) != STDBP_OK)
            mine = stdbp_err_prefix(e, "spike log: ");
        exists = stat(log->path, &sb) == 0;
    }
    STEP(mine);
    MPI_Bcast(&exists, 1, MPI_INT, 0, log->comm);

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    STEP(fapl < 0 || H5Pset_fapl_mpio(fapl, log->comm, MPI_INFO_NULL) < 0 ||
                 H5Pset_all_coll_metadata_ops(fapl, 1) < 0 ||
                 H5Pset_coll_metadata_write(fapl, 1) < 0 ||
                 H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0
             ? h5_fail(e, log->path, "setting up the file access")
         : stdbp_h5_dxpl_collective(&log->dxpl, e) != STDBP_OK
             ? stdbp_ckpt_steps_prefix(&log->steps)
             : STDBP_OK);
    if (exists)
        log->file = H5Fopen(log->path, H5F_ACC_RDWR, fapl);
    else
        log->file = H5Fcreate(log->path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    created = !exists; /* on some rank, perhaps: rank 0 removes it on failure */
    STEP(log->file < 0 ? h5_fail(e, log->path, exists ? "opening it" : "creating it") : STDBP_OK);
    if (exists)
        STEP(check_root(log, e));
    else if ((st = write_root(log)) != STDBP_OK)
        goto done;
done:
    if (fapl >= 0)
        H5Pclose(fapl);
    if (st == STDBP_OK) {
        *out = log;
    } else if (log) {
        close_failed(log);
        /* A log this open created holds no moment yet: no partial file
         * left behind. */
        if (created && log->rank == 0)
            unlink(log->path);
        log_free(log);
    }
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}

static int moment_name_ok(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n >= SPIKES_MOMENT_MAX || m[0] == '.')
        return 0;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    return 1;
}

/* Collective: the arguments every rank must agree on, and rows that do
 * not overlap. */
static stdbp_status check_args(stdbp_spikelog *log, const char *moment, size_t n_total,
                               size_t first, size_t count, const double *const *times,
                               const int32_t *labels, stdbp_err *e)
{
    stdbp_status mine = STDBP_OK, st;
    uint64_t v[3], lo[3], hi[3], range[2], *all = NULL;
    uint64_t h = 1469598103934665603ULL;
    int size;
    if (!moment_name_ok(moment))
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "spike log %s: moment name \"%s\" must be 1-%d characters of "
                             "A-Z a-z 0-9 - _ . not starting with '.'",
                             log->path, moment ? moment : "(null)", SPIKES_MOMENT_MAX - 1);
    else if (n_total == 0 || first > n_total || count > n_total - first)
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "spike log %s: rows [%zu, %zu) do not fit in %zu samples", log->path,
                             first, first + count, n_total);
    else if (count && !times)
        mine = stdbp_err_set(e, STDBP_EINVAL, "spike log %s: no spike times", log->path);
    for (size_t l = 0; mine == STDBP_OK && count && l < log->n_rec; l++)
        if (!times[l])
            mine = stdbp_err_set(e, STDBP_EINVAL, "spike log %s: no spike times for %s", log->path,
                                 log->names[l]);
    st = stdbp_dist_agree(log->comm, mine, e);
    if (st != STDBP_OK)
        return st;
    for (const char *c = moment; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    v[0] = h, v[1] = n_total, v[2] = labels != NULL;
    MPI_Allreduce(v, lo, 3, MPI_UINT64_T, MPI_MIN, log->comm);
    MPI_Allreduce(v, hi, 3, MPI_UINT64_T, MPI_MAX, log->comm);
    if (memcmp(lo, hi, sizeof lo) != 0)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "spike log %s: the ranks disagree on the moment name, the number "
                             "of samples or whether labels are given",
                             log->path);
    MPI_Comm_size(log->comm, &size);
    all = malloc((size_t)size * sizeof range);
    mine = all ? STDBP_OK : stdbp_err_set(e, STDBP_ENOMEM, "spike log: out of memory");
    st = stdbp_dist_agree(log->comm, mine, e);
    if (st != STDBP_OK) {
        free(all);
        return st;
    }
    range[0] = first, range[1] = count;
    MPI_Allgather(range, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, log->comm);
    for (int a = 0; a < size && st == STDBP_OK; a++)
        for (int b = a + 1; b < size; b++) {
            uint64_t a0 = all[2 * a], a1 = a0 + all[2 * a + 1];
            uint64_t b0 = all[2 * b], b1 = b0 + all[2 * b + 1];
            if (a1 > a0 && b1 > b0 && a0 < b1 && b0 < a1) {
                st = stdbp_err_set(e, STDBP_EINVAL,
                                   "spike log %s: ranks %d and %d both write rows [%" PRIu64
                                   ", %" PRIu64 ")",
                                   log->path, a, b, a0 > b0 ? a0 : b0, a1 < b1 ? a1 : b1);
                break;
            }
        }
    free(all);
    return st;
}

/* Collective: one [n_total x width] dataset (width 0: [n_total]); this
 * rank writes rows [first, first + count) from buf (stdbp_ckpt_put_rows:
 * three steps). The dataset stays open in *out. */
static stdbp_status write_rows(stdbp_spikelog *log, hid_t g, const char *name, hid_t ftype,
                               hid_t mtype, const void *fill, size_t n_total, size_t width,
                               size_t first, size_t count, const void *buf, hid_t *out)
{
    hsize_t dims[2] = {n_total, width};
    ckpt_rows r;
    memset(&r, 0, sizeof r);
    r.loc = g, r.name = name, r.ftype = ftype, r.mtype = mtype;
    r.rank = width ? 2 : 1, r.dims = dims;
    r.chunk_bytes = SPIKES_CHUNK_BYTES, r.fletcher32 = 0, r.deflate = SPIKES_DEFLATE;
    r.fill = fill;
    r.dxpl = log->dxpl;
    r.first = first, r.count = count;
    r.buf = buf;
    return stdbp_ckpt_put_rows(&log->steps, &r, out);
}

/* Rank 0: refuse to start a moment on a file system without room for it
 * (uncompressed, plus some metadata): a disk that fills up inside HDF5
 * can stop the ranks in different HDF5-internal collectives. */
static stdbp_status check_space(stdbp_spikelog *log, size_t n_total, int labels)
{
    struct statvfs sv;
    uint64_t need = 65536 + 8192 * (uint64_t)log->n_rec + (labels ? 4 * (uint64_t)n_total : 0),
             avail;
    for (size_t l = 0; l < log->n_rec; l++)
        need += 8 * (uint64_t)n_total * log->sizes[l];
    if (statvfs(log->path, &sv) != 0)
        return STDBP_OK; /* nothing known: the write itself will tell */
    avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (avail < need)
        return stdbp_err_set(log->steps.e, STDBP_EIO,
                             "spike log %s: no space left on the device (%" PRIu64
                             " bytes free, a moment needs up to %" PRIu64
                             "); free some space, then resume",
                             log->path, avail, need);
    return STDBP_OK;
}

/* Collective: after a failed write, delete the moment's group again (if
 * every rank created it; else the ranks' views of the file differ and
 * nothing collective is tried) and flush. Not a step. What a failure here
 * leaves (a group without n_samples) is removed at the next resume. */
static void discard_moment(stdbp_spikelog *log, const char *moment, int created)
{
    stdbp_err ignored;
    int all = 0;
    MPI_Allreduce(&created, &all, 1, MPI_INT, MPI_MIN, log->comm);
    if (!all)
        return;
    stdbp_status mine = H5Ldelete(log->file, moment, H5P_DEFAULT) < 0 ? STDBP_EIO : STDBP_OK;
    if (stdbp_dist_agree(log->comm, mine, &ignored) == STDBP_OK)
        mine = H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0 ? STDBP_EIO : STDBP_OK;
    if (stdbp_dist_agree(log->comm, mine, &ignored) != STDBP_OK && log->rank == 0)
        stdbp_log(STDBP_LOG_WARNING,
                  "spike log %s: the unfinished moment \"%s\" could not be removed; the next "
                  "resume removes it",
                  log->path, moment);
    H5Eclear2(H5E_DEFAULT);
}

stdbp_status stdbp_spikelog_write(stdbp_spikelog *log, const char *moment, size_t n_total,
                                  size_t first, size_t count, const double *const *times,
                                  const int32_t *labels, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    stdbp_status st = STDBP_OK;
    hid_t g = H5I_INVALID_HID, d = H5I_INVALID_HID;
    const double nan_fill = NAN;
    const int32_t label_fill = -1;
    int ex, tried = 0;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    if (!log)
        return stdbp_err_set(e, STDBP_EINVAL, "stdbp_spikelog_write: no log");
    log->steps.e = e;
    stdbp_h5_quiet_begin(&quiet);
    st = check_args(log, moment, n_total, first, count, times, labels, e);
    if (st != STDBP_OK)
        goto done;
    ex = H5Lexists(log->file, moment, H5P_DEFAULT);
    STEP(ex < 0   ? h5_fail(e, log->path, "looking up the moment")
         : ex > 0 ? stdbp_err_set(e, STDBP_EINVAL,
                                  "spike log %s already holds moment \"%s\"; use another name",
                                  log->path, moment)
                  : STDBP_OK);
    STEP(log->rank == 0 ? check_space(log, n_total, labels != NULL) : STDBP_OK);
    tried = 1;
    g = H5Gcreate2(log->file, moment, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    STEP(g < 0 ? h5_fail(e, log->path, "creating the moment group") : STDBP_OK);
    for (size_t l = 0; l < log->n_rec; l++) {
        if ((st = write_rows(log, g, log->names[l], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan_fill,
                             n_total, (size_t)log->sizes[l], first, count, count ? times[l] : NULL,
                             &d)) != STDBP_OK)
            goto done;
        H5U(stdbp_h5_attr_put_str(d, "kind", log->kinds[l], e));
        H5U(stdbp_h5_attr_put_i32v(d, "shape", log->shapes[l], 3, e));
        H5U(stdbp_ckpt_describe(d, "model time",
                                l == 0 ? "input spike times of the recorded samples (inf: none)"
                                       : "output spike times of the layer (inf: silent)",
                                e));
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    if (labels) {
        if ((st = write_rows(log, g, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, &label_fill,
                             n_total, 0, first, count, labels, &d)) != STDBP_OK)
            goto done;
        H5U(stdbp_ckpt_describe(d, "1", "the recorded samples' labels (-1: row not written)", e));
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    /* Last: the mark of a finished moment. */
    H5U(stdbp_h5_attr_put_u64(g, "n_samples", n_total, e));
    STEP(H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0 ? h5_fail(e, log->path, "flushing") : STDBP_OK);
done:
    if (d >= 0)
        H5Dclose(d);
    if (g >= 0)
        H5Gclose(g);
    if (st != STDBP_OK && tried)
        discard_moment(log, moment, g >= 0); /* no half-written moment */
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}

stdbp_status stdbp_spikelog_has(stdbp_spikelog *log, const char *moment, int *has, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    stdbp_h5_quiet quiet;
    *has = 0;
    if (!log)
        return stdbp_err_set(e, STDBP_EINVAL, "stdbp_spikelog_has: no log");
    if (!moment_name_ok(moment))
        return stdbp_err_set(e, STDBP_EINVAL, "spike log %s: bad moment name \"%s\"", log->path,
                             moment ? moment : "(null)");
    stdbp_h5_quiet_begin(&quiet);
    htri_t ex = H5Lexists(log->file, moment, H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    /* Collective: every rank reads the same file, but a failure on one
     * must not leave the others to go on alone (a step). */
    log->steps.e = e;
    stdbp_status mine = ex < 0 ? h5_fail(e, log->path, "looking up a moment") : STDBP_OK;
    stdbp_status st = stdbp_ckpt_steps_agree(&log->steps, mine);
    *has = st == STDBP_OK && ex > 0;
    return st;
}

stdbp_status stdbp_spikelog_close(stdbp_spikelog **plog, stdbp_err *err)
{
    stdbp_err local;
    stdbp_spikelog *log;
    stdbp_status st = STDBP_OK;
    stdbp_h5_quiet quiet;
    /* err is left alone on success: close runs in clean-up paths after
     * another error, whose message must survive. */
    if (!plog || !*plog)
        return STDBP_OK;
    log = *plog;
    *plog = NULL;
    log->steps.e = &local;
    stdbp_h5_quiet_begin(&quiet);
    /* Two steps: a flush (what is left to write), then the close. */
    STEP(H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0 ? h5_fail(&local, log->path, "flushing")
                                                   : STDBP_OK);
    {
        herr_t closed = H5Fclose(log->file);
        log->file = H5I_INVALID_HID;
        STEP(closed < 0 ? h5_fail(&local, log->path, "closing") : STDBP_OK);
    }
done:
    if (log->file >= 0)
        close_failed(log);
    if (st != STDBP_OK && err)
        *err = local;
    log_free(log);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}
