/* libFuzzer harness for the checkpoint and spike-log readers (make
 * fuzz-ckpt).
 *
 * Each input is written to a file in a private run directory under
 * /dev/shm (HDF5 reads files, and the readers take paths) and given to
 * every reader the programs use on a file they did not write:
 *   - as run/checkpoints/ckpt-1.h5: stdbp_ckpt_peek and the directory
 *     scan (--resume auto), stdbp_ckpt_read_info and
 *     stdbp_ckpt_read_config (stdbp_eval, stdbp_deploy, stdbp_export),
 *     stdbp_ckpt_find_latest, and stdbp_ckpt_read into the network and
 *     Adam optimiser of tests/fuzz/ckpt_seed.yaml (one rank,
 *     MPI_COMM_SELF);
 *   - as run/spikes.h5: stdbp_spikelog_open (the parallel driver, one
 *     rank) with stdbp_spikelog_has, and stdbp_spikelog_recover with a
 *     keep rule that drops the moment "end" (so a log that holds it is
 *     also rewritten).
 * Besides ASan and UBSan, the harness checks the readers' promises: a
 * failure leaves a message, a success hands out what it says, and no
 * HDF5 object is left open afterwards (a leaked handle keeps a file
 * open for the rest of a run). */
#include <dirent.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "ckpt/ckpt_impl.h"
#include "fuzz_h5ids.h"
#include "stdbp/ckpt.h"
#include "stdbp/config.h"
#include "stdbp/net.h"
#include "stdbp/optim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The network of tests/fuzz/ckpt_seed.yaml (the seeds' config). */
static const char net_yaml[] = "network:\n"
                               "  layers:\n"
                               "    - {type: conv2d, out: 2, kernel: 3, stride: 3}\n"
                               "    - {type: pool, kernel: 3}\n"
                               "    - {type: flatten}\n"
                               "    - {type: dense, out: 10}\n"
                               "optimizer: {kind: adam, lr: 1.0e-3}\n";

static char run_dir[64], ckpt_path[128], spikes_path[128];
static stdbp_net *net;
static stdbp_optim *opt;

static void quiet(stdbp_log_level level, const char *msg, void *user)
{
    (void)level, (void)msg, (void)user;
}

static void fail(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_ckpt: broken promise: %s (message: %s)\n", what, msg ? msg : "");
    abort();
}

static void check_failure(const stdbp_err *err, const char *how)
{
    if (err->code == STDBP_OK || !memchr(err->msg, '\0', sizeof err->msg) || !err->msg[0])
        fail("a failure without a message", how);
}

static void clean(const char *dir);

static void finalize(void)
{
    int done = 0;
    char p[160];
    clean(run_dir);
    unlink(ckpt_path);
    snprintf(p, sizeof p, "%s/checkpoints", run_dir);
    rmdir(p);
    rmdir(run_dir);
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    stdbp_config cfg;
    stdbp_err err;
    (void)argc, (void)argv;
    MPI_Init(NULL, NULL);
    atexit(finalize);
    stdbp_set_log_handler(quiet, NULL);
    snprintf(run_dir, sizeof run_dir, "/dev/shm/stdbp-fuzz-ckpt-XXXXXX");
    if (!mkdtemp(run_dir)) {
        snprintf(run_dir, sizeof run_dir, "/tmp/stdbp-fuzz-ckpt-XXXXXX");
        if (!mkdtemp(run_dir))
            fail("cannot make a temporary directory", run_dir);
    }
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoints", run_dir);
    if (mkdir(ckpt_path, 0700) != 0)
        fail("cannot make the checkpoint directory", ckpt_path);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoints/ckpt-1.h5", run_dir);
    snprintf(spikes_path, sizeof spikes_path, "%s/spikes.h5", run_dir);
    stdbp_err_clear(&err);
    if (stdbp_config_load_string(net_yaml, strlen(net_yaml), "fuzz", &cfg, &err) != STDBP_OK ||
        stdbp_net_create((stdbp_shape){1, 28, 28}, cfg.network.layers, cfg.network.n_layers,
                         &cfg.network.neuron, &net, &err) != STDBP_OK ||
        stdbp_optim_create(&cfg.optim, stdbp_net_num_params(net), &opt, &err) != STDBP_OK)
        fail("cannot build the seeds' network", err.msg);
    return 0;
}

static void put_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input", path);
}

/* Remove everything the readers may have left in dir (spikes.h5.broken-N
 * from stdbp_spikelog_recover). */
static void clean(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "spikes.h5", 9) != 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

static void fuzz_checkpoint(const hsize_t ids[7])
{
    stdbp_err err;
    uint64_t step, version;
    stdbp_shape in;
    char digest[CKPT_DIGEST_LEN + 8], found[256];
    char *yaml = NULL;
    stdbp_train_state st;

    stdbp_err_clear(&err);
    if (stdbp_ckpt_peek(ckpt_path, &step, &version, &err) != STDBP_OK)
        check_failure(&err, "stdbp_ckpt_peek");
    h5ids_check(ids, "stdbp_ckpt_peek");

    stdbp_err_clear(&err);
    if (stdbp_ckpt_read_info(ckpt_path, &in, digest, sizeof digest, &err) == STDBP_OK) {
        if (in.c <= 0 || in.h <= 0 || in.w <= 0)
            fail("stdbp_ckpt_read_info: a shape that is not positive", "");
        if (!memchr(digest, '\0', sizeof digest))
            fail("stdbp_ckpt_read_info: an unterminated digest", "");
    } else {
        check_failure(&err, "stdbp_ckpt_read_info");
    }
    h5ids_check(ids, "stdbp_ckpt_read_info");

    stdbp_err_clear(&err);
    if (stdbp_ckpt_read_config(ckpt_path, &yaml, &err) == STDBP_OK) {
        if (!yaml)
            fail("stdbp_ckpt_read_config: success without a config", "");
        (void)strlen(yaml); /* ASan: terminated inside its allocation */
        free(yaml);
    } else {
        check_failure(&err, "stdbp_ckpt_read_config");
        if (yaml)
            fail("stdbp_ckpt_read_config: a config handed out on failure", err.msg);
    }
    h5ids_check(ids, "stdbp_ckpt_read_config");

    stdbp_err_clear(&err);
    yaml = NULL;
    if (stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, &yaml, &err) == STDBP_OK) {
        if (!yaml)
            fail("stdbp_ckpt_read: success without a config", "");
        free(yaml);
    } else {
        check_failure(&err, "stdbp_ckpt_read");
        if (yaml)
            fail("stdbp_ckpt_read: a config handed out on failure", err.msg);
    }
    h5ids_check(ids, "stdbp_ckpt_read");

    stdbp_err_clear(&err);
    if (stdbp_ckpt_find_latest(MPI_COMM_SELF, run_dir, found, sizeof found, &err) != STDBP_OK)
        check_failure(&err, "stdbp_ckpt_find_latest");
    else if (found[0] && strcmp(found, ckpt_path) != 0)
        fail("stdbp_ckpt_find_latest: found another file", found);
    h5ids_check(ids, "stdbp_ckpt_find_latest");
}

static int keep_all_but_end(const char *moment, void *ctx)
{
    (void)ctx;
    return strcmp(moment, "end") != 0;
}

static void fuzz_spikelog(const uint8_t *data, size_t size, const hsize_t ids[7])
{
    stdbp_err err;
    stdbp_spikelog *log = NULL;
    int has = 0;

    put_file(spikes_path, data, size);
    stdbp_err_clear(&err);
    if (stdbp_spikelog_open(MPI_COMM_SELF, run_dir, net, &log, &err) == STDBP_OK) {
        if (!log)
            fail("stdbp_spikelog_open: success without a log", "");
        stdbp_err_clear(&err);
        if (stdbp_spikelog_has(log, "epoch-0001", &has, &err) != STDBP_OK)
            check_failure(&err, "stdbp_spikelog_has");
        stdbp_err_clear(&err);
        if (stdbp_spikelog_has(log, "end", &has, &err) != STDBP_OK)
            check_failure(&err, "stdbp_spikelog_has");
        stdbp_err_clear(&err);
        if (stdbp_spikelog_close(&log, &err) != STDBP_OK)
            check_failure(&err, "stdbp_spikelog_close");
    } else {
        check_failure(&err, "stdbp_spikelog_open");
        if (log)
            fail("stdbp_spikelog_open: a log handed out on failure", err.msg);
    }
    h5ids_check(ids, "stdbp_spikelog_open/has/close");

    clean(run_dir);
    put_file(spikes_path, data, size);
    stdbp_err_clear(&err);
    if (stdbp_spikelog_recover(run_dir, keep_all_but_end, NULL, &err) != STDBP_OK)
        check_failure(&err, "stdbp_spikelog_recover");
    h5ids_check(ids, "stdbp_spikelog_recover");
    clean(run_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    hsize_t ids[7];
    h5ids_count(ids);
    put_file(ckpt_path, data, size);
    fuzz_checkpoint(ids);
    unlink(ckpt_path);
    fuzz_spikelog(data, size, ids);
    return 0;
}
