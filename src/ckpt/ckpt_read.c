/* Reading checkpoints collectively; finding the newest good one. Reading
 * and verifying one file is in ckpt_load.c.
 *
 * Strategy: rank 0 reads the file alone (serial HDF5 driver), verifies it
 * completely (format, layout, Fletcher32 on every dataset, the digest),
 * checks it against the caller's net and optimiser, and only then
 * broadcasts the contents. The other ranks touch no file: one reader
 * instead of P on a shared file system, and a corrupt file fails in one
 * place. The status is agreed (stdbp_dist_agree) before any broadcast, so on
 * error every rank returns the same code and message and none is left in
 * a collective. On error the net, optimiser and state are untouched. */
#include "ckpt/ckpt_impl.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/h5util.h"
#include "util/log.h"

/* Rank 0: does the checkpoint fit the caller's net and optimiser? */
static stdbp_status check_fit(const char *path, const ckpt_data *d, const stdbp_net *net,
                              const stdbp_optim *opt, stdbp_err *e)
{
    size_t n = stdbp_net_num_layers(net), common = n < d->n_layers ? n : d->n_layers;
    char a[160], b[160];
    for (size_t i = 0; i < common; i++) {
        stdbp_layer_info info = stdbp_net_layer(net, i);
        ckpt_layer mine;
        stdbp_ckpt_layer_from_info(&mine, &info);
        if (!stdbp_ckpt_layer_equal(&mine, &d->layers[i]))
            return stdbp_err_set(e, STDBP_ECONFIG,
                                 "checkpoint %s: layer %zu is %s but the config builds %s", path, i,
                                 stdbp_ckpt_layer_describe(&d->layers[i], a, sizeof a),
                                 stdbp_ckpt_layer_describe(&mine, b, sizeof b));
    }
    if (n != d->n_layers)
        return stdbp_err_set(e, STDBP_ECONFIG,
                             "checkpoint %s has %zu layers but the config builds %zu", path,
                             d->n_layers, n);
    if (opt) {
        size_t want = stdbp_optim_state_size(opt);
        if (!d->has_optim)
            return stdbp_err_set(e, STDBP_ECONFIG,
                                 "checkpoint %s holds no optimiser state (weights only); load it "
                                 "without an optimiser",
                                 path);
        if (d->state_size != want)
            return stdbp_err_set(
                e, STDBP_ECONFIG,
                "checkpoint %s: the optimiser state has %zu values (%s) but the configured "
                "optimiser has %zu (%s); use the optimizer the run was started with",
                path, d->state_size, d->optim_kind, want,
                stdbp_ckpt_optim_kind(want, stdbp_net_num_params(net)));
    }
    return STDBP_OK;
}

/* Collective: every rank must hold the same net and optimiser sizes. */
static stdbp_status check_same_model(MPI_Comm comm, const char *path, const stdbp_net *net,
                                     const stdbp_optim *opt, stdbp_err *e)
{
    uint64_t mine[2] = {stdbp_net_num_params(net), opt ? stdbp_optim_state_size(opt) : UINT64_MAX};
    uint64_t lo[2], hi[2];
    MPI_Allreduce(mine, lo, 2, MPI_UINT64_T, MPI_MIN, comm);
    MPI_Allreduce(mine, hi, 2, MPI_UINT64_T, MPI_MAX, comm);
    if (lo[0] != hi[0] || lo[1] != hi[1])
        return stdbp_err_set(e, STDBP_EINVAL,
                             "loading checkpoint %s: the ranks hold different networks or "
                             "optimisers; every rank must hold the same model",
                             path);
    return STDBP_OK;
}

/* The scalars rank 0 broadcasts: sizes[] = {state size, has_train} and
 * train[] = {step, epoch, batch, seed, rng[4], best_epoch, best_val_acc
 * (bits), optimiser steps, epoch_loss, epoch_correct, epoch_samples (two's
 * complement bits), wall_seconds (bits)}. */
enum { CKPT_SIZES = 2, CKPT_TRAIN = 15 };

/* Rank 0: d's weights into net, its scalars into sizes and train. */
static void unpack_rank0(const ckpt_data *d, stdbp_net *net, uint64_t sizes[CKPT_SIZES],
                         uint64_t train[CKPT_TRAIN])
{
    double *params = stdbp_net_params(net);
    for (size_t i = 0; i < d->n_layers; i++)
        if (d->weights[i]) {
            stdbp_layer_info info = stdbp_net_layer(net, i);
            memcpy(params + info.param_offset, d->weights[i],
                   (size_t)d->layers[i].param_count * sizeof(double));
        }
    sizes[0] = d->state_size;
    sizes[1] = (uint64_t)d->has_train;
    train[0] = d->st.step, train[1] = d->st.epoch, train[2] = d->st.batch;
    train[3] = d->st.seed;
    memcpy(&train[4], d->st.rng.s, sizeof d->st.rng.s);
    train[8] = d->st.best_epoch;
    memcpy(&train[9], &d->st.best_val_acc, sizeof(double));
    train[10] = d->optim_steps;
    /* 0 when the file predates them (d is zeroed before loading). */
    memcpy(&train[11], &d->st.epoch_loss, sizeof(int64_t));
    memcpy(&train[12], &d->st.epoch_correct, sizeof(int64_t));
    memcpy(&train[13], &d->st.epoch_samples, sizeof(int64_t));
    memcpy(&train[14], &d->st.wall_seconds, sizeof(double));
}

/* Every rank: the training state from the broadcast words (zeroed for a
 * weights-only checkpoint: start over). */
static void train_state_from(const uint64_t sizes[CKPT_SIZES], const uint64_t train[CKPT_TRAIN],
                             stdbp_train_state *st)
{
    if (!sizes[1]) {
        memset(st, 0, sizeof *st);
        return;
    }
    st->step = train[0], st->epoch = train[1], st->batch = train[2], st->seed = train[3];
    memcpy(st->rng.s, &train[4], sizeof st->rng.s);
    st->best_epoch = train[8];
    memcpy(&st->best_val_acc, &train[9], sizeof(double));
    memcpy(&st->epoch_loss, &train[11], sizeof(int64_t));
    memcpy(&st->epoch_correct, &train[12], sizeof(int64_t));
    memcpy(&st->epoch_samples, &train[13], sizeof(int64_t));
    memcpy(&st->wall_seconds, &train[14], sizeof(double));
}

stdbp_status stdbp_ckpt_read(MPI_Comm comm, const char *path, stdbp_net *net, stdbp_optim *opt,
                             stdbp_train_state *st, char **config_yaml, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    ckpt_data d;
    stdbp_status s = STDBP_OK, mine = STDBP_OK;
    int rank;
    uint64_t sizes[CKPT_SIZES] = {0, 0}, train[CKPT_TRAIN];
    char *cfg = NULL;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    memset(&d, 0, sizeof d);
    MPI_Comm_rank(comm, &rank);
    if (config_yaml)
        *config_yaml = NULL;
    if (!path || !net)
        mine = stdbp_err_set(e, STDBP_EINVAL, "stdbp_ckpt_read: path and net are required");
    if ((s = stdbp_dist_agree(comm, mine, e)) != STDBP_OK)
        goto done;
    s = check_same_model(comm, path, net, opt, e);
    if ((s = stdbp_dist_agree(comm, s, e)) != STDBP_OK)
        goto done;
    if (rank == 0) {
        mine = stdbp_ckpt_load(path, &d, e);
        if (mine == STDBP_OK)
            mine = check_fit(path, &d, net, opt, e);
    }
    if ((s = stdbp_dist_agree(comm, mine, e)) != STDBP_OK)
        goto done;

    /* Everything checked: fill rank 0's objects, then broadcast them
     * (collective). */
    if (rank == 0)
        unpack_rank0(&d, net, sizes, train);
    MPI_Bcast(sizes, CKPT_SIZES, MPI_UINT64_T, 0, comm);
    MPI_Bcast(train, CKPT_TRAIN, MPI_UINT64_T, 0, comm);
    stdbp_dist_bcast_bytes(comm, stdbp_net_params(net), stdbp_net_num_params(net) * sizeof(double),
                           0);
    if (opt) {
        double *state = stdbp_optim_state(opt);
        if (rank == 0)
            memcpy(state, d.state, d.state_size * sizeof(double));
        stdbp_dist_bcast_bytes(comm, state, (size_t)sizes[0] * sizeof(double), 0);
        stdbp_optim_set_steps(opt, train[10]);
    }
    if (st)
        train_state_from(sizes, train, st);
    if (!config_yaml)
        goto done;
    /* Collective: the config text (allocated everywhere, agreed). */
    if (rank == 0) {
        cfg = d.config;
        d.config = NULL;
    }
    s = stdbp_dist_bcast_string(comm, 0, &cfg, e);
    if (s != STDBP_OK) {
        stdbp_err_prefix(e, "loading checkpoint %s: ", path);
        goto done;
    }
    *config_yaml = cfg;
    cfg = NULL;
done:
    free(cfg);
    stdbp_ckpt_data_free(&d);
    stdbp_h5_quiet_end(&quiet);
    return s;
}

stdbp_status stdbp_ckpt_find_latest(MPI_Comm comm, const char *run_dir, char *path, size_t path_len,
                                    stdbp_err *err)
{
    stdbp_err local, why;
    stdbp_err *e = err ? err : &local;
    stdbp_status s, mine = STDBP_OK;
    char dir[CKPT_PATH_MAX];
    char found[CKPT_PATH_MAX];
    int rank;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    stdbp_h5_quiet_begin(&quiet);
    MPI_Comm_rank(comm, &rank);
    found[0] = '\0';
    if (!run_dir || !path || path_len == 0)
        mine = stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_ckpt_find_latest: run_dir and path are "
                             "required");
    else if ((size_t)snprintf(dir, sizeof dir, "%s/%s", run_dir, CKPT_DIR) >= sizeof dir)
        mine = stdbp_err_set(e, STDBP_EINVAL, "run directory path too long: %s", run_dir);
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;
    if (rank == 0) {
        ckpt_entry *list = NULL;
        size_t n = 0;
        mine = stdbp_ckpt_scan(dir, &list, &n, e);
        /* A checkpoint of a newer format: this stdbp cannot continue the
         * run, and a fresh start would overwrite it. */
        for (size_t i = 0; mine == STDBP_OK && i < n; i++)
            if (list[i].format_version > CKPT_FORMAT_VERSION)
                mine = stdbp_err_set(
                    e, STDBP_EFORMAT,
                    "checkpoint %s is in format version %llu but this stdbp reads format "
                    "version %d: refusing to resume or to start over in %s (that would "
                    "overwrite it); use the newer stdbp that wrote it, or set run.dir (or "
                    "run.name) to start a new run",
                    list[i].path, (unsigned long long)list[i].format_version, CKPT_FORMAT_VERSION,
                    run_dir);
        for (size_t i = 0; mine == STDBP_OK && i < n && !found[0]; i++) {
            ckpt_data d;
            stdbp_err_clear(&why);
            if (stdbp_ckpt_load(list[i].path, &d, &why) == STDBP_OK) {
                snprintf(found, sizeof found, "%s", list[i].path);
                stdbp_ckpt_data_free(&d);
            } else {
                stdbp_log(STDBP_LOG_WARNING, "skipping checkpoint: %s", why.msg);
            }
        }
        if (mine == STDBP_OK && found[0] && strlen(found) >= path_len)
            mine = stdbp_err_set(e, STDBP_EINVAL, "checkpoint path %s does not fit in %zu bytes",
                                 found, path_len);
        stdbp_ckpt_scan_free(list, n);
    }
    s = stdbp_dist_agree(comm, mine, e);
    if (s != STDBP_OK)
        goto done;
    MPI_Bcast(found, (int)sizeof found, MPI_CHAR, 0, comm);
    snprintf(path, path_len, "%s", found);
done:
    stdbp_h5_quiet_end(&quiet);
    return s;
}

stdbp_status stdbp_ckpt_read_config(const char *path, char **config_yaml, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    hid_t f = H5I_INVALID_HID;
    size_t len;
    stdbp_status s;
    stdbp_h5_quiet quiet;

    stdbp_err_clear(e);
    if (!path || !config_yaml)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_ckpt_read_config: path and config_yaml "
                             "are required");
    *config_yaml = NULL;
    stdbp_h5_quiet_begin(&quiet);
    s = stdbp_ckpt_open_file(path, &f, e);
    if (s == STDBP_OK) {
        s = stdbp_ckpt_load_config(f, path, config_yaml, &len, e);
        H5Fclose(f);
    }
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&quiet);
    return s;
}

stdbp_status stdbp_ckpt_read_info(const char *path, stdbp_shape *input, char *digest,
                                  size_t digest_len, stdbp_err *err)
{
    stdbp_h5_quiet q;
    stdbp_status st = STDBP_OK;
    int32_t in[3] = {0, 0, 0};
    hid_t file, model = H5I_INVALID_HID;
    if (digest_len > 0)
        digest[0] = '\0';
    stdbp_h5_quiet_begin(&q);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        st = stdbp_err_set(err, STDBP_EIO, "checkpoint %s: cannot open", path);
    else if ((model = H5Gopen2(file, "model", H5P_DEFAULT)) < 0 ||
             stdbp_h5_attr_get_i32v(model, "input", in, 3, NULL) != STDBP_OK || in[0] <= 0 ||
             in[1] <= 0 || in[2] <= 0)
        st = stdbp_err_set(err, STDBP_EFORMAT,
                           "checkpoint %s: no valid /model attribute input = [c, h, w]", path);
    /* The digest is optional here: stdbp_ckpt_read verifies it. */
    if (st == STDBP_OK && digest_len > 0 &&
        stdbp_h5_attr_get_str(file, "digest", digest, digest_len, NULL) != STDBP_OK)
        digest[0] = '\0';
    if (model >= 0)
        H5Gclose(model);
    if (file >= 0)
        H5Fclose(file);
    H5Eclear2(H5E_DEFAULT);
    stdbp_h5_quiet_end(&q);
    *input = (stdbp_shape){in[0], in[1], in[2]};
    return st;
}

/* The best checkpoint (dir/best.h5) at the end of the *n paths (room for
 * one more) when its stored step is later than step: a run resumed from an
 * earlier checkpoint would replace it too. One that cannot be read is
 * left out, as the scan leaves out damaged ckpt-N.h5 files. */
static stdbp_status add_later_best(const char *dir, uint64_t step, char ***paths, size_t *n,
                                   stdbp_err *err)
{
    char path[CKPT_PATH_MAX];
    uint64_t stored = 0, version = 0;
    stdbp_err why;
    char **grown;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, STDBP_CKPT_BEST) >= sizeof path ||
        access(path, F_OK) != 0 || stdbp_ckpt_peek(path, &stored, &version, &why) != STDBP_OK ||
        stored <= step)
        return STDBP_OK;
    if (!(grown = realloc(*paths, (*n + 1) * sizeof **paths)) || !(grown[*n] = strdup(path))) {
        if (grown)
            *paths = grown;
        return stdbp_err_set(err, STDBP_ENOMEM, "listing %s: out of memory", dir);
    }
    *paths = grown;
    (*n)++;
    return STDBP_OK;
}

stdbp_status stdbp_ckpt_list_after(const char *run_dir, uint64_t step, char ***paths, size_t *n,
                                   stdbp_err *err)
{
    char dir[CKPT_PATH_MAX];
    ckpt_entry *list = NULL;
    size_t cnt = 0, k = 0;
    stdbp_status st;
    *paths = NULL;
    *n = 0;
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", run_dir, CKPT_DIR) >= sizeof dir)
        return stdbp_err_set(err, STDBP_EINVAL, "run directory path too long: %s", run_dir);
    if ((st = stdbp_ckpt_scan(dir, &list, &cnt, err)) != STDBP_OK)
        return st;
    *paths = malloc((cnt ? cnt : 1) * sizeof **paths);
    if (!*paths) {
        stdbp_ckpt_scan_free(list, cnt);
        return stdbp_err_set(err, STDBP_ENOMEM, "listing %s: out of memory", dir);
    }
    for (size_t i = 0; i < cnt; i++) {
        if (list[i].step > step) {
            (*paths)[k++] = list[i].path;
            list[i].path = NULL;
        }
    }
    stdbp_ckpt_scan_free(list, cnt);
    *n = k;
    return add_later_best(dir, step, paths, n, err);
}

void stdbp_ckpt_paths_free(char **paths, size_t n)
{
    stdbp_ckpt_list_free(paths, n);
}
