/* Setting a trainer up: the data, the model and the run directory; see
 * trainer_impl.h. Each step is local; stdbp_trainer_create agrees on its
 * outcome across the ranks. */
#include <dirent.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/dist.h"
#include "stdbp/optim.h"
#include "train/trainer_impl.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/test_hooks.h"

/* The loaders' stop check while the trainer loads: a SIGTERM or SIGUSR1
 * (stdbp_signals_install) ends the load within a chunk. Test hook: first
 * sleep load_delay_ms (stdbp_signal_pending_after), so that a test's
 * signal lands mid-load of even a small data set. */
static int load_stop_check(void)
{
    return stdbp_signal_pending_after(stdbp_test_hooks_get()->load_delay_ms);
}

/* Collective on tr->comm: both data sets, one copy per node unless
 * data.shared_memory is off; a signal ends the load early with
 * STDBP_ESTOPPED. The outcome is agreed. */
static stdbp_status open_datasets(stdbp_trainer *tr, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    const char *test_name = cfg->data.test[0] ? cfg->data.test : cfg->data.train;
    int shared = strcmp(cfg->data.shared_memory, "off") != 0;
    stdbp_status st = stdbp_dist_dataset_open(tr->comm, shared, cfg->data.train, cfg->data.dir,
                                              "train", &tr->train, &tr->train_sh, err);
    if (st == STDBP_OK) /* agreed: every rank or none */
        st = stdbp_dist_dataset_open(tr->comm, shared, test_name, cfg->data.dir, "test", &tr->test,
                                     &tr->test_sh, err);
    if (st == STDBP_ESTOPPED && err) /* "PATH: loading stopped by a signal" */
        stdbp_err_prefix(err, "before training: ");
    if (st == STDBP_ESTOPPED && err)
        snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                 "; nothing trained, no checkpoint written (earlier ones are untouched)");
    return st;
}

stdbp_status stdbp_trainer_load_datasets(stdbp_trainer *tr, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    /* The rank count first: nothing is loaded for a run that cannot go. */
    stdbp_status st = stdbp_trainer_check_ranks(tr, err);
    if (st != STDBP_OK)
        return st;
    /* Test hook: one rank fails to load, to check that all ranks stop
     * (agreed first: the loads below are collective). */
    if (stdbp_test_hooks_get()->fail_data_rank == tr->rank)
        st = stdbp_err_set(err, STDBP_EIO,
                           "%s: cannot open the training data (injected by a test hook)",
                           cfg->data.train);
    if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK)
        return st;
    stdbp_data_set_stop_check(load_stop_check);
    st = open_datasets(tr, err);
    stdbp_data_set_stop_check(NULL);
    if (st != STDBP_OK)
        return st;

    size_t n = tr->train.n;
    if (cfg->data.n_train > 0 && (size_t)cfg->data.n_train < n)
        n = (size_t)cfg->data.n_train;
    size_t n_val = cfg->data.n_val > 0 ? (size_t)cfg->data.n_val : 0;
    if (n_val >= n)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "data.val_samples = %zu leaves no training samples out of %zu in %s",
                             n_val, n, tr->train.source);
    st = stdbp_split(n, n_val, cfg->run.seed, &tr->train_idx, &tr->val_idx, err);
    if (st != STDBP_OK)
        return st;
    tr->n_train = n - n_val;
    tr->n_val = n_val;
    tr->n_test = tr->test.n;
    if (cfg->data.n_test > 0 && (size_t)cfg->data.n_test < tr->n_test)
        tr->n_test = (size_t)cfg->data.n_test;
    if (tr->train.dim != tr->test.dim)
        return stdbp_err_set(err, STDBP_EFORMAT, "%s has %zu values per sample but %s has %zu",
                             tr->train.source, tr->train.dim, tr->test.source, tr->test.dim);
    if (cfg->augment.shift > 0 && (tr->train.shape.h < 2 || tr->train.shape.w < 2))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "augment.shift = %d needs images, but %s holds [%d, %d, %d] "
                             "samples (set augment.shift: 0)",
                             cfg->augment.shift, tr->train.source, tr->train.shape.c,
                             tr->train.shape.h, tr->train.shape.w);
    if ((cfg->augment.rotate > 0 || cfg->augment.scale > 0 || cfg->augment.flip) &&
        (tr->train.shape.h < 2 || tr->train.shape.w < 2))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "augment.rotate, augment.scale and augment.flip need images, but %s "
                             "holds [%d, %d, %d] samples (set them off)",
                             tr->train.source, tr->train.shape.c, tr->train.shape.h,
                             tr->train.shape.w);
    const int events = stdbp_dataset_is_events(&tr->train);
    if (events && (cfg->augment.rotate > 0 || cfg->augment.scale > 0 || cfg->augment.flip))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "augment.rotate, augment.scale and augment.flip apply to images, but "
                             "%s is an event data set (use augment.shift, jitter or drop)",
                             tr->train.source);
    return STDBP_OK;
}

/* Appends ", %ld" (or "%ld" first) to buf of size n holding *used
 * characters; a value that does not fit is left out. */
static void append_long(char *buf, size_t n, size_t *used, long v)
{
    int w = snprintf(buf + *used, n - *used, "%s%ld", *used ? ", " : "", v);
    if (w > 0 && *used + (size_t)w < n)
        *used += (size_t)w;
    else
        buf[*used] = '\0';
}

/* Up to this many values in each list of the rank-count message. */
#define RANK_HINTS 8

stdbp_status stdbp_trainer_check_ranks(const stdbp_trainer *tr, stdbp_err *err)
{
    const long batch = tr->cfg.train.batch, p = tr->size;
    char divisors[160] = "", multiples[160] = "";
    size_t used = 0;
    int k = 0;
    long d = 1;
    if (batch >= p)
        return STDBP_OK;
    /* Rank counts that share train.batch evenly: its divisors. */
    for (; d <= batch && k < RANK_HINTS; d++)
        if (batch % d == 0) {
            append_long(divisors, sizeof divisors, &used, d);
            k++;
        }
    const int more = d <= batch; /* divisors left unlisted may remain */
    /* Batches that this rank count shares evenly: its multiples. */
    used = 0;
    for (k = 1; k <= 4; k++)
        append_long(multiples, sizeof multiples, &used, p * k);
    return stdbp_err_set(err, STDBP_ECONFIG,
                         "train.batch = %ld is smaller than the number of ranks (%ld): every "
                         "rank needs at least one sample of each global batch. Rank counts that "
                         "work with train.batch = %ld: 1 to %ld (equal shares: %s%s); batches "
                         "that work on %ld ranks: %ld or more (equal shares: %s, ...). Run on "
                         "fewer ranks or set train.batch",
                         batch, p, batch, batch, divisors, more ? ", ..." : "", p, p, multiples);
}

stdbp_status stdbp_trainer_build_model(stdbp_trainer *tr, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    stdbp_shape in = tr->train.shape;
    if (cfg->network.input.c > 0 && (cfg->network.input.c != in.c || cfg->network.input.h != in.h ||
                                     cfg->network.input.w != in.w))
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "network.input is [%d, %d, %d] but %s holds [%d, %d, %d] samples",
                             cfg->network.input.c, cfg->network.input.h, cfg->network.input.w,
                             tr->train.source, in.c, in.h, in.w);
    stdbp_status st = stdbp_net_create(in, cfg->network.layers, cfg->network.n_layers,
                                       &cfg->network.neuron, &tr->net, err);
    if (st != STDBP_OK)
        return st;
    if (stdbp_net_output_size(tr->net) < (size_t)tr->train.n_classes)
        return stdbp_err_set(err, STDBP_ECONFIG,
                             "the last layer has %zu outputs but %s has %d classes",
                             stdbp_net_output_size(tr->net), tr->train.source, tr->train.n_classes);
    /* the test set's labels too, before any training time is spent */
    if ((st = stdbp_dataset_check_labels(&tr->test, stdbp_net_output_size(tr->net), err)) !=
        STDBP_OK)
        return st;
    /* Same seed on every rank: identical initial weights without a bcast. */
    stdbp_net_init(tr->net, &cfg->network.init, cfg->run.seed);
    if ((st = stdbp_ws_create(tr->net, &tr->ws, err)) != STDBP_OK)
        return st;
    tr->n_params = stdbp_net_num_params(tr->net);
    if ((st = stdbp_optim_create(&cfg->optim, tr->n_params, &tr->opt, err)) != STDBP_OK ||
        (st = stdbp_optim_use_layers(tr->opt, tr->net, err)) != STDBP_OK)
        return st;
    tr->base_lr = stdbp_optim_scaled_lr(&cfg->optim, cfg->train.batch);
    if (tr->rank == 0 && cfg->optim.lr_scaling != STDBP_LR_SCALE_NONE)
        stdbp_log(STDBP_LOG_INFO,
                  "optimizer.lr_scaling %s: learning rate %g x %s(%ld / %g) = %.6g at "
                  "train.batch %ld",
                  cfg->optim.lr_scaling == STDBP_LR_SCALE_SQRT ? "sqrt" : "linear", cfg->optim.lr,
                  cfg->optim.lr_scaling == STDBP_LR_SCALE_SQRT ? "sqrt" : "", cfg->train.batch,
                  cfg->optim.lr_base_batch, tr->base_lr, cfg->train.batch);
    tr->norm_size = stdbp_optim_norm_size(tr->opt);
    /* Sharding needs slices that MPI's int counts can describe: of the
     * parameters, and of the weight-sum penalty's neurons. */
    tr->sharded = cfg->train.shard_update && tr->size > 1 && tr->n_params <= (size_t)INT_MAX;
    tr->n_neurons = stdbp_penalty_columns(tr->net);
    if (tr->sharded &&
        ((st = stdbp_dist_slices_init(tr->comm, tr->n_params, &tr->slices, err)) != STDBP_OK ||
         (st = stdbp_dist_slices_init(tr->comm, tr->n_neurons, &tr->neurons, err)) != STDBP_OK))
        return st;
    tr->slope = calloc(tr->n_neurons ? tr->n_neurons : 1, sizeof *tr->slope);
    tr->acc = calloc(tr->n_params + STDBP_TRAINER_STAT_SLOTS, sizeof *tr->acc);
    tr->grad = calloc(tr->n_params ? tr->n_params : 1, sizeof *tr->grad);
    tr->times = calloc(stdbp_net_input_size(tr->net), sizeof *tr->times);
    tr->scratch = calloc(stdbp_net_input_size(tr->net), sizeof *tr->scratch);
    tr->dl_dt = calloc(stdbp_net_output_size(tr->net), sizeof *tr->dl_dt);
    tr->order = calloc(tr->n_train ? tr->n_train : 1, sizeof *tr->order);
    tr->norm_acc = calloc(tr->norm_size ? tr->norm_size : 1, sizeof *tr->norm_acc);
    if (!tr->slope || !tr->acc || !tr->grad || !tr->times || !tr->scratch || !tr->dl_dt ||
        !tr->order || !tr->norm_acc)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %zu parameters", tr->n_params);
    return stdbp_trainer_alloc_slots(tr, err);
}

stdbp_status stdbp_trainer_share_node(stdbp_trainer *tr, stdbp_err *err)
{
    const char *env = getenv("STDBP_SHARED_UPDATE");
    int off = env && strcmp(env, "off") == 0;
    /* Every rank reads the same environment (mpirun passes it on); the
     * decision must be the same everywhere, so rank 0's counts. */
    MPI_Bcast(&off, 1, MPI_INT, 0, tr->comm); /* collective */
    if (!tr->sharded || off)
        return STDBP_OK;
    stdbp_dist_node *nd;
    stdbp_status st = stdbp_dist_node_create(tr->comm, tr->n_params + STDBP_TRAINER_STAT_SLOTS,
                                             tr->n_params, &nd, err); /* collective */
    if (st != STDBP_OK || !nd)
        return st;
    MPI_Comm node = stdbp_dist_node_comm(nd);
    MPI_Comm_rank(node, &tr->node_rank);
    MPI_Comm_size(node, &tr->node_size);
    /* The slices are the node's now: place r on every node owns slice r. */
    stdbp_dist_slices_free(&tr->slices);
    st = stdbp_dist_slices_init(node, tr->n_params, &tr->slices, err);
    int64_t **node_acc = calloc((size_t)tr->node_size, sizeof *node_acc);
    int64_t *node_sum = stdbp_dist_node_count(nd) > 1
                            ? calloc(tr->slices.hi - tr->slices.lo + 1, sizeof *node_sum)
                            : NULL;
    if (st == STDBP_OK && (!node_acc || (stdbp_dist_node_count(nd) > 1 && !node_sum)))
        st = stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(tr->comm, st, err)) != STDBP_OK) { /* collective */
        free(node_acc);
        free(node_sum);
        stdbp_dist_node_free(&nd); /* collective */
        return st;
    }
    for (int r = 0; r < tr->node_size; r++)
        node_acc[r] = stdbp_dist_node_acc(nd, r) + tr->slices.lo;
    /* The gradient part of acc is zero between steps; the window's too. */
    free(tr->acc);
    tr->acc = tr->slots[0].acc = tr->slot_acc[0] = stdbp_dist_node_acc(nd, tr->node_rank);
    /* Every rank holds the same parameters: the node's first rank's
     * become the node's. */
    double *params = stdbp_dist_node_params(nd);
    if (tr->node_rank == 0)
        memcpy(params, stdbp_net_params(tr->net), tr->n_params * sizeof *params);
    stdbp_dist_node_sync(nd); /* collective on the node */
    stdbp_net_use_params(tr->net, params);
    tr->node = nd;
    tr->node_acc = node_acc;
    tr->node_sum = node_sum;
    tr->upd_comm = node;
    return STDBP_OK;
}

stdbp_status stdbp_trainer_alloc_slots(stdbp_trainer *tr, stdbp_err *err)
{
    size_t n_in = stdbp_net_input_size(tr->net), n_out = stdbp_net_output_size(tr->net);
    int n = 1;
#ifdef _OPENMP
    n = omp_get_max_threads();
    n = n < 1 ? 1 : n;
#endif
    tr->slots = calloc((size_t)n, sizeof *tr->slots);
    tr->slot_acc = calloc((size_t)n, sizeof *tr->slot_acc);
    if (!tr->slots || !tr->slot_acc)
        return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %d threads", n);
    tr->n_threads = n;
    tr->slots[0] = (stdbp_train_slot){.ws = tr->ws,
                                      .acc = tr->acc,
                                      .times = tr->times,
                                      .scratch = tr->scratch,
                                      .dl_dt = tr->dl_dt};
    for (int t = 1; t < n; t++) { /* one workspace and accumulator per thread */
        stdbp_train_slot *s = &tr->slots[t];
        stdbp_status st = stdbp_ws_create(tr->net, &s->ws, err);
        if (st != STDBP_OK)
            return st;
        s->acc = calloc(tr->n_params + STDBP_TRAINER_STAT_SLOTS, sizeof *s->acc);
        s->times = calloc(n_in, sizeof *s->times);
        s->scratch = calloc(n_in, sizeof *s->scratch);
        s->dl_dt = calloc(n_out, sizeof *s->dl_dt);
        if (!s->acc || !s->times || !s->scratch || !s->dl_dt)
            return stdbp_err_set(err, STDBP_ENOMEM, "out of memory for %zu parameters x %d threads",
                                 tr->n_params, n);
    }
    for (int t = 0; t < n; t++)
        tr->slot_acc[t] = tr->slots[t].acc;
    return STDBP_OK;
}

void stdbp_trainer_free_slots(stdbp_trainer *tr)
{
    for (int t = 1; tr->slots && t < tr->n_threads; t++) { /* slot 0 is the trainer's */
        stdbp_ws_destroy(&tr->slots[t].ws);
        free(tr->slots[t].acc);
        free(tr->slots[t].times);
        free(tr->slots[t].scratch);
        free(tr->slots[t].dl_dt);
    }
    free(tr->slots);
    free(tr->slot_acc);
    tr->slots = NULL;
    tr->slot_acc = NULL;
    tr->n_threads = 0;
}

/* Rank 0: a fresh run (no --resume) must not overwrite or prune the
 * checkpoints and metrics of an earlier run in the same directory. */
static stdbp_status refuse_old_checkpoints(const stdbp_trainer *tr, stdbp_err *err)
{
    char dir[4200];
    struct dirent *de;
    const char *found = NULL;
    snprintf(dir, sizeof dir, "%s/checkpoints", tr->cfg.run.out_dir);
    DIR *d = opendir(dir);
    if (!d)
        return STDBP_OK;
    while (!found && (de = readdir(d)))
        if (strncmp(de->d_name, "ckpt-", 5) == 0 || strcmp(de->d_name, STDBP_CKPT_BEST) == 0)
            found = de->d_name;
    stdbp_status st = STDBP_OK;
    if (found)
        st = stdbp_err_set(err, STDBP_ECONFIG,
                           "%s already holds checkpoints (e.g. %s) of an earlier run: pass "
                           "--resume auto to continue it, or set run.dir (or run.name) to "
                           "start a new one",
                           dir, found);
    closedir(d);
    return st;
}

/* Rank 0: the run directory, its lock and the effective config in it. */
stdbp_status stdbp_trainer_prepare_run_dir(stdbp_trainer *tr, stdbp_err *err)
{
    char path[4200];
    stdbp_status st;
    if ((st = stdbp_mkdir_p(tr->cfg.run.out_dir, err)) != STDBP_OK) {
        stdbp_err_prefix(err, "the run directory: ");
        return st;
    }
    /* The lock first: nothing is written into a directory another run
     * holds. */
    if ((st = stdbp_trainer_lock_run_dir(tr, err)) != STDBP_OK)
        return st;
    if (!(tr->opts.resume && tr->opts.resume[0]) &&
        (st = refuse_old_checkpoints(tr, err)) != STDBP_OK)
        return st;
    if (!tr->config_yaml)
        return STDBP_OK;
    snprintf(path, sizeof path, "%s/config.yaml", tr->cfg.run.out_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    fputs(tr->config_yaml, f);
    if (fclose(f) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    return STDBP_OK;
}
