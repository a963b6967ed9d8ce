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
 * After each step the ranks agree on the status (stdbp_ckpt_writer_agree),
 * so an error on one rank reaches all of them and none waits in a
 * collective the others left; a failed write removes its temporary file. Here: the steps of a write
 * (paths, the header, the file's creation, publishing, pruning); the file's contents are written by
 * ckpt_layout.c. Layout: docs/FORMAT.md. */
#include "ckpt/ckpt_write.h"
#include "util/fsutil.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/h5util.h"
#include "util/test_hooks.h"
#include "stdbp/version.h"

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
    stdbp_err why;
    if (stdbp_ckpt_list(dir, &list, &n, &why) != STDBP_OK) {
        stdbp_log(STDBP_LOG_WARNING, "cannot prune checkpoints: %s", why.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], just) == 0 || keep <= 0 || kept < (size_t)keep) {
            kept++;
            continue;
        }
        if (unlink(list[i]) != 0)
            stdbp_log(STDBP_LOG_WARNING, "cannot remove old checkpoint %s: %s", list[i],
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
    if (removed && stdbp_ckpt_fsync_path(dir, 1, &why) != STDBP_OK)
        stdbp_log(STDBP_LOG_WARNING, "after pruning checkpoints: %s", why.msg);
}

/* Collective: make the closed file durable. One rank per node syncs it
 * (the data may sit in any writer's page cache; with collective metadata
 * writes HDF5 may spread metadata writes over ranks). */
static stdbp_status sync_file(ckpt_writer *w, const char *path)
{
    MPI_Comm node;
    int nrank = 0;
    MPI_Comm_split_type(w->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_free(&node);
    if (nrank == 0 && stdbp_ckpt_fsync_path(path, 0, w->e) != STDBP_OK)
        return stdbp_err_prefix(w->e, "writing a checkpoint: ");
    return STDBP_OK;
}

/* Every rank: check the arguments, build the paths (into w) and describe
 * the net's layers. */
static stdbp_status writer_init(ckpt_writer *w, const char *run_dir, const stdbp_net *net,
                                const stdbp_optim *opt, const stdbp_train_state *ts,
                                const char *config_yaml, const char *path_out, size_t path_len)
{
    stdbp_err *e = w->e;
    if (!run_dir || !net)
        return stdbp_err_set(e, STDBP_EINVAL, "stdbp_ckpt_write: run_dir and net are required");
    uint64_t step = ts ? ts->step : (opt ? stdbp_optim_steps(opt) : 0);
    int n1 = snprintf(w->dir, sizeof w->dir, "%s/%s", run_dir, CKPT_DIR);
    int n2 = snprintf(w->tmp, sizeof w->tmp, "%s/.ckpt-%010" PRIu64 ".h5.tmp", w->dir, step);
    int n3 = snprintf(w->final, sizeof w->final, "%s/ckpt-%010" PRIu64 ".h5", w->dir, step);
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n2 >= sizeof w->tmp || (size_t)n3 >= sizeof w->final)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "writing a checkpoint: run directory path too "
                             "long: %s",
                             run_dir);
    if (path_out && path_len <= (size_t)n3)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "writing a checkpoint: path_out holds %zu bytes, the path "
                             "needs %d",
                             path_len, n3 + 1);
    w->params = stdbp_net_params_const(net);
    w->n_layers = stdbp_net_num_layers(net);
    /* stdbp_optim_state has no const variant; it is only read here. */
    w->state = opt ? stdbp_optim_state((stdbp_optim *)opt) : NULL;
    w->state_size = opt ? stdbp_optim_state_size(opt) : 0;
    w->config = config_yaml;
    w->layers = calloc(w->n_layers ? w->n_layers : 1, sizeof *w->layers);
    if (!w->layers)
        return stdbp_err_set(e, STDBP_ENOMEM, "writing a checkpoint: out of memory");
    for (size_t i = 0; i < w->n_layers; i++) {
        stdbp_layer_info info = stdbp_net_layer(net, i);
        stdbp_ckpt_layer_from_info(&w->layers[i], &info);
    }
    return STDBP_OK;
}

/* Rank 0: the directory, the digest and the attribute values. */
static stdbp_status prepare_header(ckpt_writer *w, const stdbp_optim *opt,
                                   const stdbp_train_state *ts)
{
    stdbp_status st = STDBP_OK;
    if (stdbp_mkdir_p(w->dir, w->e) != STDBP_OK)
        st = stdbp_err_prefix(w->e, "writing a checkpoint: ");
    make_header(w, opt, ts);
    if (st == STDBP_OK && !w->hdr.digest[0])
        st = stdbp_err_set(w->e, STDBP_ENOMEM, "writing a checkpoint: out of memory");
    return st;
}

/* Rank 0: refuse to start on a file system without room for the file.
 * A write that runs out of space inside HDF5 can leave the ranks in
 * different HDF5-internal collectives (HDF5 1.10 returns an error on the
 * rank that saw it, the others wait), so the common case, a disk already
 * (nearly) full, is caught here, before any collective HDF5 call. The
 * estimate is generous: the data, the config and 64 KiB plus 8 KiB per
 * layer of metadata. */
static stdbp_status check_space(ckpt_writer *w)
{
    struct statvfs sv;
    uint64_t need = 8 * ((uint64_t)stdbp_net_num_params(w->net) + w->state_size) +
                    w->hdr.config_len + 65536 + 8192 * (uint64_t)w->n_layers,
             avail;
    if (statvfs(w->dir, &sv) != 0)
        return STDBP_OK; /* nothing known: the write itself will tell */
    avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (avail < need)
        return stdbp_err_set(w->e, STDBP_EIO,
                             "writing checkpoint %s: no space left on the device (%" PRIu64
                             " bytes free, the checkpoint needs about %" PRIu64
                             "); free some space, then resume",
                             w->final, avail, need);
    return STDBP_OK;
}

/* Every rank (the create is collective): the temporary file, through the
 * MPI-IO driver, and the collective transfer list. */
static stdbp_status create_file(ckpt_writer *w, hid_t *fapl)
{
    *fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (*fapl < 0 || H5Pset_fapl_mpio(*fapl, w->comm, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(*fapl, 1) < 0 || H5Pset_coll_metadata_write(*fapl, 1) < 0 ||
        /* Version-2 object headers: HDF5 then checksums the metadata too. */
        H5Pset_libver_bounds(*fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0)
        return stdbp_ckpt_writer_fail(w, "the file access list");
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, *fapl);
    if (w->file < 0)
        return stdbp_ckpt_writer_fail(w, "creating the file");
    if (stdbp_h5_dxpl_collective(&w->dxpl, w->e) != STDBP_OK)
        return stdbp_ckpt_writer_prefix(w);
    return STDBP_OK;
}

/* Rank 0: publish under the final name (one step), ... */
static stdbp_status publish(ckpt_writer *w)
{
    if (rename(w->tmp, w->final) != 0)
        return stdbp_err_set(w->e, STDBP_EIO, "writing checkpoint: cannot rename %s to %s: %s",
                             w->tmp, w->final, strerror(errno));
    w->renamed = 1;
    return STDBP_OK;
}

/* ... then make the rename durable (the next step). */
static stdbp_status sync_dir(ckpt_writer *w)
{
    if (stdbp_ckpt_fsync_path(w->dir, 1, w->e) != STDBP_OK)
        return stdbp_err_prefix(w->e, "writing checkpoint %s: ", w->final);
    return STDBP_OK;
}

/* Collective: close the file of a write that failed (every rank is here
 * by the same agreement, holding the same handles). HDF5 writes its
 * cached metadata on closing, which fails again on a full disk; and
 * HDF5 1.10 leaves a file whose close failed in a state that crashes its
 * clean-up at MPI_Finalize. So: rank 0 first empties the temporary file
 * (its contents are abandoned; this gives the metadata room), the ranks
 * flush, and close only if the flush succeeded everywhere. Otherwise the
 * file stays open (unlinked by the caller) and HDF5 drops it when the
 * program ends: a leak of one handle rather than a crash. */
static void close_failed(ckpt_writer *w)
{
    stdbp_err ignored;
    stdbp_status flushed;
    if (w->rank == 0 && truncate(w->tmp, 0) != 0 && errno != ENOENT)
        stdbp_log(STDBP_LOG_WARNING, "cannot empty the failed checkpoint %s: %s", w->tmp,
                  strerror(errno));
    MPI_Barrier(w->comm); /* emptied before anyone writes again */
    flushed = H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 ? STDBP_EIO : STDBP_OK;
    if (stdbp_dist_agree(w->comm, flushed, &ignored) == STDBP_OK)
        H5Fclose(w->file); /* collective */
    else if (w->rank == 0)
        stdbp_log(STDBP_LOG_WARNING,
                  "the failed checkpoint %s could not be closed; HDF5 keeps it open until "
                  "the program ends",
                  w->tmp);
    w->file = H5I_INVALID_HID;
}

#define AGREE(expr)                                                                                \
    do {                                                                                           \
        st = stdbp_ckpt_writer_agree(w, (expr));                                                   \
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
    ckpt_writer *w = calloc(1, sizeof *w); /* holds three paths: not on the stack */
    hid_t fapl = H5I_INVALID_HID;
    stdbp_status st = STDBP_OK;
    int created = 0;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    if (!w) /* collective: every rank agrees before returning */
        return stdbp_dist_agree(
            comm, stdbp_err_set(e, STDBP_ENOMEM, "writing a checkpoint: out of memory"), e);
    stdbp_h5_quiet_begin(&quiet);
    w->comm = comm;
    w->net = net;
    w->file = w->dxpl = H5I_INVALID_HID;
    w->e = e;
    MPI_Comm_rank(comm, &w->rank);
    w->steps.comm = comm;
    w->steps.rank = w->rank;
    w->steps.fail_at = stdbp_test_hooks_get()->fail_ckpt_step;
    w->steps.fail_rank = stdbp_test_hooks_get()->fail_ckpt_rank;
    w->steps.what = "writing checkpoint";
    w->steps.path = w->tmp;
    w->steps.e = e;

    AGREE(writer_init(w, run_dir, net, opt, ts, config_yaml, path_out, path_len));
    AGREE(check_same_everywhere(w));
    /* Rank 0 prepares the values that go into attributes; every rank
     * needs them (collective). */
    AGREE(w->rank == 0 ? prepare_header(w, opt, ts) : STDBP_OK);
    stdbp_dist_bcast_bytes(comm, &w->hdr, sizeof w->hdr, 0);
    AGREE(w->rank == 0 ? check_space(w) : STDBP_OK);

    st = create_file(w, &fapl);
    created = 1; /* on some rank, perhaps: rank 0 removes it on failure */
    AGREE(st);
    st = stdbp_ckpt_write_contents(w); /* agreed on inside */
    if (st != STDBP_OK)
        goto done;
    H5Pclose(w->dxpl);
    w->dxpl = H5I_INVALID_HID;
    st = H5Fclose(w->file) < 0 ? stdbp_ckpt_writer_fail(w, "closing the file") : STDBP_OK;
    w->file = H5I_INVALID_HID;
    AGREE(st);
    AGREE(sync_file(w, w->tmp));
    AGREE(w->rank == 0 ? publish(w) : STDBP_OK);
    AGREE(w->rank == 0 ? sync_dir(w) : STDBP_OK);
    if (w->rank == 0)
        prune(w->dir, keep, w->final);
    if (path_out)
        snprintf(path_out, path_len, "%s", w->final);

done:
    if (w->dxpl >= 0)
        H5Pclose(w->dxpl);
    {
        /* Only a failed write gets here with the file open, on every rank
         * unless its creation failed on some (then those that hold it
         * cannot close it: closing is collective). */
        int open = w->file >= 0, all_open = 0;
        MPI_Allreduce(&open, &all_open, 1, MPI_INT, MPI_MIN, comm);
        if (all_open)
            close_failed(w);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    if (st != STDBP_OK && created && w->rank == 0) {
        unlink(w->tmp); /* no partial file left behind (ENOENT once renamed) */
        if (w->renamed)
            unlink(w->final); /* published, but its directory entry not durable */
    }
    free(w->layers);
    free(w);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return st;
}
