/* Writing checkpoints: collective parallel HDF5, atomic rename, pruning.
 *
 * Every rank holds the same net, optimiser and state, so rank 0's copy is
 * the one written: every rank makes the same metadata calls (creating
 * groups, datasets and attributes is collective in parallel HDF5, and the
 * values must agree, so the small ones are broadcast from rank 0 first),
 * and each dataset is written with a collective transfer in which rank 0
 * selects everything and the others select nothing. Filters (Fletcher32)
 * need collective writes in parallel HDF5 (>= 1.10.2).
 *
 * After each step the ranks agree on the status (stdbp_ckpt_agree), so an error
 * on one rank reaches all of them and none waits in a collective the
 * others left. Layout: docs/FORMAT.md. */
#include "ckpt/ckpt_impl.h"
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/h5util.h"
#include "stdbp/version.h"

/* What rank 0 broadcasts before the collective create: the values that
 * go into attributes, which must be the same on every rank. */
typedef struct ckpt_header {
    uint64_t train[14]; /* step, epoch, batch, seed, rng[4], best_epoch,
                           best_val_acc (bits), epoch_loss, epoch_correct,
                           epoch_samples (two's complement bits),
                           wall_seconds (bits) */
    uint64_t has_train, has_optim, optim_steps, config_len;
    char digest[CKPT_DIGEST_LEN];
    char created[32];
} ckpt_header;

/* A write in progress on one rank. */
typedef struct ckpt_writer {
    MPI_Comm comm;
    int rank;
    const stdbp_net *net;
    const double *params;
    size_t n_layers;
    ckpt_layer *layers;
    const double *state;
    size_t state_size;
    const char *config;
    ckpt_header hdr;
    hid_t file, dxpl;
    const char *tmp; /* the file being written, for messages */
    stdbp_err *e;
} ckpt_writer;

static stdbp_status h5_fail(ckpt_writer *w, const char *what)
{
    char detail[512];
    stdbp_h5_error(detail, sizeof detail);
    return stdbp_err_set(w->e, STDBP_EIO, "writing checkpoint %s: %s failed: %s", w->tmp, what,
                         detail);
}

/* Create a chunked, Fletcher32-checked dataset and write it collectively:
 * rank 0 writes all of it, the other ranks take part with empty
 * selections. Leaves the dataset open in *out for attributes. */
static stdbp_status write_dataset(ckpt_writer *w, hid_t loc, const char *name, hid_t ftype,
                                  hid_t mtype, int rank, const uint64_t *dims64, const void *buf,
                                  hid_t *out)
{
    hsize_t dims[4];
    size_t elem = H5Tget_size(ftype), n = 1;
    hid_t dcpl = H5I_INVALID_HID, fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    hid_t dset = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    char what[256];
    static const char dummy[16];

    snprintf(what, sizeof what, "dataset %s", name);
    for (int i = 0; i < rank; i++) {
        dims[i] = (hsize_t)dims64[i];
        n *= (size_t)dims64[i];
    }
    dcpl = stdbp_h5_dcpl(rank, dims, elem, CKPT_CHUNK_BYTES, 1, 0);
    fspace = H5Screate_simple(rank, dims, NULL);
    mspace = H5Screate_simple(rank, dims, NULL);
    if (dcpl < 0 || fspace < 0 || mspace < 0) {
        st = h5_fail(w, what);
        goto done;
    }
    /* We write every element: no fill values first. */
    if (H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        st = h5_fail(w, what);
        goto done;
    }
    dset = H5Dcreate2(loc, name, ftype, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0) {
        st = h5_fail(w, what);
        goto done;
    }
    if (n > 0) {
        if (w->rank != 0 && (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0)) {
            st = h5_fail(w, what);
            goto done;
        }
        if (H5Dwrite(dset, mtype, mspace, fspace, w->dxpl, w->rank == 0 && buf ? buf : dummy) < 0) {
            st = h5_fail(w, what);
            goto done;
        }
    }
    *out = dset;
    dset = H5I_INVALID_HID;
done:
    if (dset >= 0)
        H5Dclose(dset);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    stdbp_ckpt_test_delay();
    return st;
}

static stdbp_status write_root_attrs(ckpt_writer *w)
{
    int size;
    MPI_Comm_size(w->comm, &size);
    if (stdbp_h5_attr_put_str(w->file, "format", CKPT_FORMAT_NAME) < 0 ||
        stdbp_h5_attr_put_u64(w->file, "format_version", CKPT_FORMAT_VERSION) < 0 ||
        stdbp_h5_attr_put_str(w->file, "stdbp_version", STDBP_VERSION) < 0 ||
        stdbp_h5_attr_put_str(w->file, "created", w->hdr.created) < 0 ||
        stdbp_h5_attr_put_u64(w->file, "writer_ranks", (uint64_t)size) < 0)
        return h5_fail(w, "root attributes");
    return STDBP_OK;
}

static stdbp_status write_model(ckpt_writer *w)
{
    hid_t g = H5Gcreate2(w->file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    stdbp_status st = STDBP_OK;
    uint64_t n_weights = 0;
    int32_t input[3] = {0, 0, 0};
    if (g < 0)
        return h5_fail(w, "group /model");
    if (w->n_layers)
        memcpy(input, w->layers[0].in, sizeof input);
    for (size_t i = 0; i < w->n_layers; i++)
        n_weights += w->layers[i].param_count;
    if (stdbp_h5_attr_put_u64(g, "n_layers", w->n_layers) < 0 ||
        stdbp_h5_attr_put_i32v(g, "input", input, 3) < 0 ||
        stdbp_h5_attr_put_u64(g, "n_weights", n_weights) < 0) {
        st = h5_fail(w, "attributes of /model");
        goto done;
    }
    for (size_t i = 0; i < w->n_layers && st == STDBP_OK; i++) {
        const ckpt_layer *l = &w->layers[i];
        char name[32], desc[128], wname[64], wpath[96];
        hid_t lg;
        snprintf(name, sizeof name, "layer%02zu", i);
        stdbp_ckpt_weight_name(i, l, wname, sizeof wname);
        snprintf(wpath, sizeof wpath, "/weights/%s", wname);
        lg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (lg < 0 || stdbp_h5_attr_put_str(lg, "kind", stdbp_ckpt_kind_name(l->kind)) < 0 ||
            stdbp_h5_attr_put_i32v(lg, "in", l->in, 3) < 0 ||
            stdbp_h5_attr_put_i32v(lg, "out", l->out, 3) < 0 ||
            stdbp_h5_attr_put_i32(lg, "kernel", l->kernel) < 0 ||
            stdbp_h5_attr_put_i32(lg, "stride", l->stride) < 0 ||
            stdbp_h5_attr_put_i32(lg, "padding", l->padding) < 0 ||
            stdbp_h5_attr_put_u64(lg, "param_count", l->param_count) < 0 ||
            stdbp_h5_attr_put_str(lg, "describe", stdbp_ckpt_layer_describe(l, desc, sizeof desc)) <
                0 ||
            stdbp_h5_attr_put_str(lg, "weights", l->param_count ? wpath : "") < 0)
            st = h5_fail(w, "a layer group under /model");
        if (lg >= 0)
            H5Gclose(lg);
    }
done:
    H5Gclose(g);
    return st;
}

static const char *weight_layout(int kind)
{
    if (kind == STDBP_LAYER_DENSE)
        return "W[in][out], in = c*h*w of the layer input (c-major), out = neurons";
    if (kind == STDBP_LAYER_CONV2D)
        return "W[c_in][k_y][k_x][c_out]";
    return "flat";
}

/* One weight dataset; agreement happens in the caller after each. */
static stdbp_status write_layer_weights(ckpt_writer *w, hid_t g, size_t i)
{
    const ckpt_layer *l = &w->layers[i];
    stdbp_layer_info info = stdbp_net_layer(w->net, i);
    uint64_t dims[4];
    int rank = stdbp_ckpt_weight_dims(l, dims);
    char name[64];
    hid_t d = H5I_INVALID_HID;
    stdbp_status st;
    stdbp_ckpt_weight_name(i, l, name, sizeof name);
    st = write_dataset(w, g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, dims,
                       w->params + info.param_offset, &d);
    if (st != STDBP_OK)
        return st;
    if (stdbp_h5_attr_put_u64(d, "layer", i) < 0 ||
        stdbp_h5_attr_put_str(d, "kind", stdbp_ckpt_kind_name(l->kind)) < 0 ||
        stdbp_h5_attr_put_str(d, "layout", weight_layout(l->kind)) < 0)
        st = h5_fail(w, "attributes of a weight dataset");
    H5Dclose(d);
    return st;
}

static stdbp_status write_optimizer(ckpt_writer *w)
{
    hid_t g = H5Gcreate2(w->file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d = H5I_INVALID_HID;
    uint64_t dims[1] = {w->state_size};
    stdbp_status st;
    const char *kind = stdbp_ckpt_optim_kind(w->state_size, stdbp_net_num_params(w->net));
    if (g < 0)
        return h5_fail(w, "group /optimizer");
    if (stdbp_h5_attr_put_str(g, "kind", kind) < 0 ||
        stdbp_h5_attr_put_u64(g, "steps", w->hdr.optim_steps) < 0 ||
        stdbp_h5_attr_put_u64(g, "n_params", stdbp_net_num_params(w->net)) < 0) {
        H5Gclose(g);
        return h5_fail(w, "attributes of /optimizer");
    }
    st = write_dataset(w, g, "state", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, w->state, &d);
    if (st == STDBP_OK) {
        const char *layout = strcmp(kind, "adam") == 0  ? "m[n_params] then v[n_params]"
                             : strcmp(kind, "sgd") == 0 ? "velocity[n_params]"
                                                        : "flat";
        if (stdbp_h5_attr_put_str(d, "layout", layout) < 0)
            st = h5_fail(w, "attributes of /optimizer/state");
        H5Dclose(d);
    }
    H5Gclose(g);
    return st;
}

static stdbp_status write_train(ckpt_writer *w)
{
    const uint64_t *t = w->hdr.train;
    hid_t g = H5Gcreate2(w->file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d = H5I_INVALID_HID;
    uint64_t dims[1] = {4};
    double best, wall;
    int64_t q[3];
    stdbp_status st;
    if (g < 0)
        return h5_fail(w, "group /train");
    memcpy(&best, &t[9], sizeof best);
    memcpy(q, &t[10], sizeof q);
    memcpy(&wall, &t[13], sizeof wall);
    if (stdbp_h5_attr_put_u64(g, "step", t[0]) < 0 || stdbp_h5_attr_put_u64(g, "epoch", t[1]) < 0 ||
        stdbp_h5_attr_put_u64(g, "batch", t[2]) < 0 || stdbp_h5_attr_put_u64(g, "seed", t[3]) < 0 ||
        stdbp_h5_attr_put_f64(g, "best_val_acc", best) < 0 ||
        stdbp_h5_attr_put_u64(g, "best_epoch", t[8]) < 0 ||
        stdbp_h5_attr_put_i64(g, "epoch_loss", q[0]) < 0 ||
        stdbp_h5_attr_put_i64(g, "epoch_correct", q[1]) < 0 ||
        stdbp_h5_attr_put_i64(g, "epoch_samples", q[2]) < 0 ||
        stdbp_h5_attr_put_f64(g, "wall_seconds", wall) < 0) {
        H5Gclose(g);
        return h5_fail(w, "attributes of /train");
    }
    st = write_dataset(w, g, "rng", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, dims, &t[4], &d);
    if (st == STDBP_OK) {
        if (stdbp_h5_attr_put_str(d, "generator", "xoshiro256**") < 0)
            st = h5_fail(w, "attributes of /train/rng");
        H5Dclose(d);
    }
    H5Gclose(g);
    return st;
}

static stdbp_status write_config(ckpt_writer *w)
{
    size_t len = (size_t)w->hdr.config_len;
    uint64_t dims[1] = {1};
    hid_t t = H5Tcopy(H5T_C_S1), d = H5I_INVALID_HID;
    stdbp_status st;
    if (t < 0 || H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        if (t >= 0)
            H5Tclose(t);
        return h5_fail(w, "the config string type");
    }
    st = write_dataset(w, w->file, "config", t, t, 1, dims, len ? w->config : "", &d);
    if (st == STDBP_OK) {
        if (stdbp_h5_attr_put_str(d, "format", "yaml") < 0)
            st = h5_fail(w, "attributes of /config");
        H5Dclose(d);
    }
    H5Tclose(t);
    return st;
}

/* Rank 0: the digest and the attribute values, before anything is
 * created, so that they can be broadcast. */
static void make_header(ckpt_writer *w, const stdbp_optim *opt, const stdbp_train_state *ts)
{
    ckpt_header *h = &w->hdr;
    const double **wts = calloc(w->n_layers ? w->n_layers : 1, sizeof *wts);
    ckpt_payload p;
    time_t now = time(NULL);
    struct tm tmv;
    memset(h, 0, sizeof *h);
    if (ts) {
        h->has_train = 1;
        h->train[0] = ts->step, h->train[1] = ts->epoch, h->train[2] = ts->batch;
        h->train[3] = ts->seed;
        memcpy(&h->train[4], ts->rng.s, sizeof ts->rng.s);
        h->train[8] = ts->best_epoch;
        memcpy(&h->train[9], &ts->best_val_acc, sizeof(double));
        memcpy(&h->train[10], &ts->epoch_loss, sizeof(int64_t));
        memcpy(&h->train[11], &ts->epoch_correct, sizeof(int64_t));
        memcpy(&h->train[12], &ts->epoch_samples, sizeof(int64_t));
        memcpy(&h->train[13], &ts->wall_seconds, sizeof(double));
    }
    h->has_optim = opt != NULL;
    h->optim_steps = opt ? stdbp_optim_steps(opt) : 0;
    h->config_len = w->config ? strlen(w->config) : 0;
    if (gmtime_r(&now, &tmv))
        strftime(h->created, sizeof h->created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    if (!wts) { /* no digest: the agreement below reports ENOMEM */
        h->digest[0] = '\0';
        return;
    }
    for (size_t i = 0; i < w->n_layers; i++) {
        stdbp_layer_info info = stdbp_net_layer(w->net, i);
        wts[i] = w->layers[i].param_count ? w->params + info.param_offset : NULL;
    }
    memset(&p, 0, sizeof p);
    p.n_layers = w->n_layers;
    p.layers = w->layers;
    p.weights = wts;
    p.has_optim = (int)h->has_optim;
    p.state = w->state;
    p.state_size = w->state_size;
    p.optim_steps = h->optim_steps;
    p.has_train = (int)h->has_train;
    p.has_progress = (int)h->has_train; /* written with every /train */
    p.st = ts;
    p.config = w->config;
    p.config_len = (size_t)h->config_len;
    stdbp_ckpt_digest(&p, h->digest);
    free(wts);
}

/* Collective: every rank must describe the same net and optimiser, or the
 * metadata they create would disagree. */
static stdbp_status check_same_everywhere(ckpt_writer *w)
{
    uint64_t mine[4], lo[4], hi[4];
    char desc[128];
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the layer descriptions */
    for (size_t i = 0; i < w->n_layers; i++)
        for (const char *c = stdbp_ckpt_layer_describe(&w->layers[i], desc, sizeof desc); *c; c++)
            h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    mine[0] = w->n_layers;
    mine[1] = stdbp_net_num_params(w->net);
    mine[2] = w->state_size;
    mine[3] = h;
    MPI_Allreduce(mine, lo, 4, MPI_UINT64_T, MPI_MIN, w->comm);
    MPI_Allreduce(mine, hi, 4, MPI_UINT64_T, MPI_MAX, w->comm);
    if (memcmp(lo, hi, sizeof lo) != 0)
        return stdbp_err_set(w->e, STDBP_EINVAL,
                             "writing a checkpoint: the ranks hold different networks or "
                             "optimisers (layers %" PRIu64 "..%" PRIu64 ", parameters %" PRIu64
                             "..%" PRIu64 "); every rank must hold the same model",
                             lo[0], hi[0], lo[1], hi[1]);
    return STDBP_OK;
}

/* Rank 0: drop all but the newest `keep` checkpoints (never `just`, the
 * one just written) and stale temporaries of interrupted writes. Failures
 * are warnings: the new checkpoint is safe. */
static void prune(const char *dir, int keep, const char *just)
{
    char **list = NULL;
    size_t n = 0, kept = 0;
    int removed = 0;
    DIR *d;
    if (stdbp_ckpt_list(dir, &list, &n) != 0) {
        fprintf(stderr, "stdbp: warning: cannot list %s to prune checkpoints: %s\n", dir,
                strerror(errno));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], just) == 0 || keep <= 0 || kept < (size_t)keep) {
            kept++;
            continue;
        }
        if (unlink(list[i]) != 0)
            fprintf(stderr, "stdbp: warning: cannot remove old checkpoint %s: %s\n", list[i],
                    strerror(errno));
        else
            removed = 1;
    }
    stdbp_ckpt_list_free(list, n);
    /* ".ckpt-*.h5.tmp": left by a write that was killed. */
    d = opendir(dir);
    if (d) {
        struct dirent *de;
        char path[CKPT_PATH_MAX + 256];
        while ((de = readdir(d)) != NULL) {
            size_t len = strlen(de->d_name);
            if (strncmp(de->d_name, ".ckpt-", 6) != 0 || len < 8 ||
                strcmp(de->d_name + len - 7, ".h5.tmp") != 0)
                continue;
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < sizeof path &&
                unlink(path) == 0)
                removed = 1;
        }
        closedir(d);
    }
    if (removed && stdbp_ckpt_fsync_path(dir, 1) != 0)
        fprintf(stderr, "stdbp: warning: cannot sync directory %s: %s\n", dir, strerror(errno));
}

/* Collective: make the closed file durable. One rank per node syncs it
 * (the data may sit in any writer's page cache; with collective metadata
 * writes HDF5 may spread metadata writes over ranks). */
static stdbp_status sync_file(ckpt_writer *w, const char *path)
{
    MPI_Comm node;
    int nrank = 0;
    stdbp_status st = STDBP_OK;
    if (MPI_Comm_split_type(w->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return stdbp_err_set(w->e, STDBP_EMPI, "writing checkpoint %s: MPI_Comm_split_type failed",
                             path);
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_free(&node);
    if (nrank == 0 && stdbp_ckpt_fsync_path(path, 0) != 0)
        st = stdbp_err_set(w->e, STDBP_EIO, "writing checkpoint %s: fsync failed: %s", path,
                           strerror(errno));
    return st;
}

#define AGREE(expr)                                                                                \
    do {                                                                                           \
        st = stdbp_ckpt_agree(comm, (expr), e);                                                    \
        if (st != STDBP_OK)                                                                        \
            goto done;                                                                             \
    } while (0)

stdbp_status stdbp_ckpt_write(MPI_Comm comm, const char *run_dir, const stdbp_net *net,
                              const stdbp_optim *opt, const stdbp_train_state *ts,
                              const char *config_yaml, int keep, char *path_out, size_t path_len,
                              stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    ckpt_writer w;
    char dir[CKPT_PATH_MAX], tmp[CKPT_PATH_MAX], final[CKPT_PATH_MAX];
    hid_t fapl = H5I_INVALID_HID, g = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK, mine = STDBP_OK;
    int created = 0;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    memset(&w, 0, sizeof w);
    w.comm = comm;
    w.net = net;
    w.file = w.dxpl = H5I_INVALID_HID;
    w.e = e;
    w.tmp = tmp;
    tmp[0] = final[0] = '\0';
    MPI_Comm_rank(comm, &w.rank);

    /* Arguments and paths, on each rank. */
    if (!run_dir || !net) {
        mine = stdbp_err_set(e, STDBP_EINVAL, "stdbp_ckpt_write: run_dir and net are required");
    } else {
        uint64_t step = ts ? ts->step : (opt ? stdbp_optim_steps(opt) : 0);
        int n1 = snprintf(dir, sizeof dir, "%s/%s", run_dir, CKPT_DIR);
        int n2 = snprintf(tmp, sizeof tmp, "%s/.ckpt-%010" PRIu64 ".h5.tmp", dir, step);
        int n3 = snprintf(final, sizeof final, "%s/ckpt-%010" PRIu64 ".h5", dir, step);
        if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n2 >= sizeof tmp || (size_t)n3 >= sizeof final)
            mine = stdbp_err_set(e, STDBP_EINVAL,
                                 "writing a checkpoint: run directory path too "
                                 "long: %s",
                                 run_dir);
        else if (path_out && path_len <= (size_t)n3)
            mine = stdbp_err_set(e, STDBP_EINVAL,
                                 "writing a checkpoint: path_out holds %zu bytes, the path "
                                 "needs %d",
                                 path_len, n3 + 1);
    }
    if (mine == STDBP_OK) {
        w.params = stdbp_net_params_const(net);
        w.n_layers = stdbp_net_num_layers(net);
        w.layers = calloc(w.n_layers ? w.n_layers : 1, sizeof *w.layers);
        if (!w.layers)
            mine = stdbp_err_set(e, STDBP_ENOMEM, "writing a checkpoint: out of memory");
        else
            for (size_t i = 0; i < w.n_layers; i++) {
                stdbp_layer_info info = stdbp_net_layer(net, i);
                stdbp_ckpt_layer_from_info(&w.layers[i], &info);
            }
        /* stdbp_optim_state has no const variant; it is only read here. */
        w.state = opt ? stdbp_optim_state((stdbp_optim *)opt) : NULL;
        w.state_size = opt ? stdbp_optim_state_size(opt) : 0;
        w.config = config_yaml;
    }
    AGREE(mine);
    AGREE(check_same_everywhere(&w));

    /* Rank 0: directory, digest, attribute values; then broadcast them. */
    mine = STDBP_OK;
    if (w.rank == 0) {
        if (stdbp_mkdir_p(dir) != 0)
            mine = stdbp_err_set(e, STDBP_EIO, "writing a checkpoint: cannot create %s: %s", dir,
                                 strerror(errno));
        make_header(&w, opt, ts);
        if (mine == STDBP_OK && !w.hdr.digest[0])
            mine = stdbp_err_set(e, STDBP_ENOMEM, "writing a checkpoint: out of memory");
    }
    AGREE(mine);
    if (stdbp_ckpt_bcast_bytes(comm, &w.hdr, sizeof w.hdr, 0) != 0)
        mine = stdbp_err_set(e, STDBP_EMPI, "writing a checkpoint: MPI_Bcast failed");
    AGREE(mine);

    /* The collective create of the temporary file. */
    mine = STDBP_OK;
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0 ||
        /* Version-2 object headers: HDF5 then checksums the metadata too. */
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0)
        mine = h5_fail(&w, "the file access list");
    if (mine == STDBP_OK) {
        w.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        if (w.file < 0)
            mine = h5_fail(&w, "creating the file");
    }
    if (mine == STDBP_OK) {
        w.dxpl = stdbp_h5_dxpl_collective();
        if (w.dxpl < 0)
            mine = h5_fail(&w, "the transfer list");
    }
    created = w.file >= 0;
    AGREE(mine);

    AGREE(write_root_attrs(&w));
    AGREE(write_model(&w));
    g = H5Gcreate2(w.file, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    AGREE(g < 0 ? h5_fail(&w, "group /weights") : STDBP_OK);
    for (size_t i = 0; i < w.n_layers; i++)
        if (w.layers[i].param_count)
            AGREE(write_layer_weights(&w, g, i));
    H5Gclose(g);
    g = H5I_INVALID_HID;
    if (w.hdr.has_optim)
        AGREE(write_optimizer(&w));
    if (w.hdr.has_train)
        AGREE(write_train(&w));
    AGREE(write_config(&w));
    /* Last: the digest. A file without it was not finished. */
    AGREE(stdbp_h5_attr_put_str(w.file, "digest", w.hdr.digest) < 0 ? h5_fail(&w, "the digest")
                                                                    : STDBP_OK);
    AGREE(H5Fflush(w.file, H5F_SCOPE_GLOBAL) < 0 ? h5_fail(&w, "H5Fflush") : STDBP_OK);
    H5Pclose(w.dxpl);
    w.dxpl = H5I_INVALID_HID;
    mine = H5Fclose(w.file) < 0 ? h5_fail(&w, "closing the file") : STDBP_OK;
    w.file = H5I_INVALID_HID;
    AGREE(mine);
    AGREE(sync_file(&w, tmp));

    /* Rank 0: publish under the final name, then make the rename durable. */
    mine = STDBP_OK;
    if (w.rank == 0) {
        if (rename(tmp, final) != 0)
            mine = stdbp_err_set(e, STDBP_EIO, "writing checkpoint: cannot rename %s to %s: %s",
                                 tmp, final, strerror(errno));
        else if (stdbp_ckpt_fsync_path(dir, 1) != 0)
            mine = stdbp_err_set(e, STDBP_EIO, "writing checkpoint %s: cannot sync %s: %s", final,
                                 dir, strerror(errno));
    }
    AGREE(mine);
    if (w.rank == 0)
        prune(dir, keep, final);
    if (path_out)
        snprintf(path_out, path_len, "%s", final);

done:
    if (g >= 0)
        H5Gclose(g);
    if (w.dxpl >= 0)
        H5Pclose(w.dxpl);
    if (w.file >= 0)
        H5Fclose(w.file); /* collective: every rank got here by the same agreement */
    if (fapl >= 0)
        H5Pclose(fapl);
    if (st != STDBP_OK && created && w.rank == 0)
        unlink(tmp); /* no partial file left behind (ENOENT once renamed) */
    free(w.layers);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}
