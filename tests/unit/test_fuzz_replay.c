/* The fuzzers' files through the normal readers (make fuzz-ckpt, make
 * fuzz-h5data; docs/FORMAT.md and docs/DATA.md, "Fuzzing"), so that what
 * they found stays fixed:
 *   - every seed under tests/fuzz/seeds-ckpt reads (a checkpoint with
 *     stdbp_ckpt_read into the seeds' network, a spike log with
 *     stdbp_spikelog_open) and every one under tests/fuzz/seeds-h5data
 *     loads with stdbp_h5data_load;
 *   - every seed and reproducer of tests/fuzz/seeds-events and
 *     tests/fuzz/regress-events loads, or is refused, through the event
 *     reader its first byte picks (make fuzz-events);
 *   - every reproducer under tests/fuzz/regress-ckpt and
 *     tests/fuzz/regress-h5data is refused with a message by every reader
 *     (before its fix, each one crashed);
 *   - checkpoints whose headers declare more than the file holds (layers
 *     of 2^40 weights, an unwritten optimiser state of 2^41 values) are
 *     refused as malformed before anything is allocated for them (before,
 *     the reader asked for terabytes and reported "out of memory"). */
#include <dirent.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stdbp/ckpt.h"
#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/stdbp.h"
#include "tap/basic.h"

/* The network of tests/fuzz/ckpt_seed.yaml, as tests/fuzz/fuzz_ckpt.c
 * builds it. */
static const char net_yaml[] = "network:\n"
                               "  layers:\n"
                               "    - {type: conv2d, out: 2, kernel: 3, stride: 3}\n"
                               "    - {type: pool, kernel: 3}\n"
                               "    - {type: flatten}\n"
                               "    - {type: dense, out: 10}\n"
                               "optimizer: {kind: adam, lr: 1.0e-3}\n";

static stdbp_net *net;
static stdbp_optim *opt;
static char run_dir[4096], ckpt_path[4200], spikes_path[4200];

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    if (!in || !out)
        sysbail("copying %s to %s", from, to);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            sysbail("writing %s", to);
    fclose(in);
    if (fclose(out) != 0)
        sysbail("writing %s", to);
}

/* The regular files of dir whose names hold ext, sorted; *n of them. */
static char **list_dir_ext(const char *dir, const char *ext, size_t *n)
{
    struct dirent **ents = NULL;
    int k = scandir(dir, &ents, NULL, alphasort);
    char **out = bcalloc(k > 0 ? (size_t)k : 1, sizeof *out);
    *n = 0;
    for (int i = 0; i < k; i++) {
        char p[4400];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, ents[i]->d_name);
        if (ents[i]->d_name[0] != '.' && stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
            strstr(ents[i]->d_name, ext))
            out[(*n)++] = bstrdup(p);
        free(ents[i]);
    }
    free(ents);
    return out;
}

static char **list_dir(const char *dir, size_t *n)
{
    return list_dir_ext(dir, ".h5", n);
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Every checkpoint reader on ckpt_path; 1 when all of them refused it
 * with a message (and the spike-log readers, given the same bytes, too). */
static int all_refuse(const char *name)
{
    stdbp_err err;
    stdbp_train_state st;
    stdbp_shape in;
    char *yaml = NULL, digest[80], found[4400];
    uint64_t step, version;
    stdbp_spikelog *log = NULL;
    int refused = 1;

    stdbp_err_clear(&err);
    if (stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, &yaml, &err) == STDBP_OK)
        refused = 0, diag("%s: stdbp_ckpt_read accepted it", name);
    else if (!err.msg[0] || yaml)
        refused = 0, diag("%s: stdbp_ckpt_read failed without a message", name);
    free(yaml);
    yaml = NULL;
    stdbp_err_clear(&err);
    if (stdbp_ckpt_read_config(ckpt_path, &yaml, &err) != STDBP_OK && !err.msg[0])
        refused = 0, diag("%s: stdbp_ckpt_read_config failed without a message", name);
    free(yaml);
    stdbp_err_clear(&err);
    if (stdbp_ckpt_read_info(ckpt_path, &in, digest, sizeof digest, &err) != STDBP_OK &&
        !err.msg[0])
        refused = 0, diag("%s: stdbp_ckpt_read_info failed without a message", name);
    stdbp_err_clear(&err);
    if (stdbp_ckpt_find_latest(MPI_COMM_SELF, run_dir, found, sizeof found, &err) == STDBP_OK &&
        found[0])
        refused = 0, diag("%s: stdbp_ckpt_find_latest took it", name);
    (void)step, (void)version;

    copy_file(ckpt_path, spikes_path);
    stdbp_err_clear(&err);
    if (stdbp_spikelog_open(MPI_COMM_SELF, run_dir, net, &log, &err) == STDBP_OK) {
        int has = 0;
        if (stdbp_spikelog_has(log, "end", &has, &err) != STDBP_OK && !err.msg[0])
            refused = 0, diag("%s: stdbp_spikelog_has failed without a message", name);
        if (stdbp_spikelog_close(&log, &err) != STDBP_OK && !err.msg[0])
            refused = 0, diag("%s: stdbp_spikelog_close failed without a message", name);
    } else if (!err.msg[0]) {
        refused = 0, diag("%s: stdbp_spikelog_open failed without a message", name);
    }
    unlink(spikes_path);
    return refused;
}

static int keep_all(const char *moment, void *ctx)
{
    (void)moment, (void)ctx;
    return 1;
}

static void replay_ckpt(const char *srcdir)
{
    char dir[4400];
    size_t n;
    char **files;
    stdbp_err err;

    snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds-ckpt", srcdir);
    files = list_dir(dir, &n);
    ok(n >= 2, "tests/fuzz/seeds-ckpt holds a checkpoint and a spike log (%zu files)", n);
    for (size_t i = 0; i < n; i++) {
        stdbp_train_state st;
        char *yaml = NULL;
        if (strncmp(base(files[i]), "spikes", 6) == 0) {
            stdbp_spikelog *log = NULL;
            int has = 0;
            copy_file(files[i], spikes_path);
            stdbp_err_clear(&err);
            stdbp_status s = stdbp_spikelog_open(MPI_COMM_SELF, run_dir, net, &log, &err);
            is_int(STDBP_OK, s, "seed %s opens as a spike log (%s)", base(files[i]), err.msg);
            if (s == STDBP_OK) {
                s = stdbp_spikelog_has(log, "end", &has, &err);
                ok(s == STDBP_OK && has, "... and holds the moment \"end\"");
                s = stdbp_spikelog_close(&log, &err);
                is_int(STDBP_OK, s, "... and closes");
            }
            copy_file(files[i], spikes_path);
            s = stdbp_spikelog_recover(run_dir, keep_all, NULL, &err);
            is_int(STDBP_OK, s, "... stdbp_spikelog_recover keeps it (%s)", err.msg);
            ok(access(spikes_path, F_OK) == 0, "... in place");
            unlink(spikes_path);
        } else {
            copy_file(files[i], ckpt_path);
            stdbp_err_clear(&err);
            stdbp_status s = stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, &yaml, &err);
            is_int(STDBP_OK, s, "seed %s reads as a checkpoint (%s)", base(files[i]), err.msg);
            free(yaml);
            unlink(ckpt_path);
        }
    }
    free_list(files, n);

    snprintf(dir, sizeof dir, "%s/tests/fuzz/regress-ckpt", srcdir);
    files = list_dir(dir, &n);
    for (size_t i = 0; i < n; i++) {
        copy_file(files[i], ckpt_path);
        ok(all_refuse(base(files[i])), "regress-ckpt/%s is refused with a message by every reader",
           base(files[i]));
        unlink(ckpt_path);
    }
    free_list(files, n);
}

static void replay_h5data(const char *srcdir)
{
    char dir[4400];
    size_t n;
    char **files;
    stdbp_dataset ds;
    stdbp_err err;

    snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds-h5data", srcdir);
    files = list_dir(dir, &n);
    ok(n >= 1, "tests/fuzz/seeds-h5data holds data files (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        stdbp_err_clear(&err);
        stdbp_status s = stdbp_h5data_load(files[i], &ds, &err);
        is_int(STDBP_OK, s, "seed %s loads (%s)", base(files[i]), err.msg);
        stdbp_dataset_free(&ds);
    }
    free_list(files, n);

    snprintf(dir, sizeof dir, "%s/tests/fuzz/regress-h5data", srcdir);
    files = list_dir(dir, &n);
    ok(n >= 1, "tests/fuzz/regress-h5data holds reproducers (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        stdbp_err_clear(&err);
        stdbp_status s = stdbp_h5data_load(files[i], &ds, &err);
        ok(s == STDBP_EFORMAT && err.msg[0] && !ds.u8 && !ds.f32 && !ds.labels,
           "regress-h5data/%s is refused as malformed (%s)", base(files[i]), err.msg);
        stdbp_dataset_free(&ds);
    }
    free_list(files, n);
}

/* An input of fuzz_events (tests/fuzz/fuzz_events.c): its first byte
 * picks the reader, the rest is the file. Returns the reader's status. */
static stdbp_status load_event_input(const char *file, stdbp_err *err, int *nothing)
{
    char tmp[4400];
    FILE *f = fopen(file, "rb");
    unsigned char *buf = malloc(1 << 20);
    size_t len = f && buf ? fread(buf, 1, 1 << 20, f) : 0;
    stdbp_status st;
    stdbp_dataset ds;
    if (f)
        fclose(f);
    if (len < 1)
        bail("reading %s", file);
    stdbp_err_clear(err);
    if (buf[0] % 3 == 2) {
        double *t;
        uint32_t *ch;
        size_t n;
        st = stdbp_nmnist_parse(buf + 1, len - 1, file, &t, &ch, &n, err);
        *nothing = st == STDBP_OK || (!t && !ch && n == 0);
        free(t);
        free(ch);
    } else {
        snprintf(tmp, sizeof tmp, "%s/events-input.h5", run_dir);
        f = fopen(tmp, "wb");
        if (!f || fwrite(buf + 1, 1, len - 1, f) != len - 1 || fclose(f) != 0)
            bail("writing %s", tmp);
        st = buf[0] % 3 == 0 ? stdbp_events_load(tmp, &ds, err) : stdbp_shd_load(tmp, &ds, err);
        *nothing = st == STDBP_OK || (!ds.ev_off && !ds.ev_t && !ds.labels);
        stdbp_dataset_free(&ds);
        unlink(tmp);
    }
    free(buf);
    return st;
}

static void replay_events(const char *srcdir)
{
    char dir[4400];
    size_t n;
    char **files;
    stdbp_err err;
    int nothing;

    snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds-events", srcdir);
    files = list_dir_ext(dir, ".bin", &n);
    ok(n >= 3, "tests/fuzz/seeds-events holds a file per reader (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        stdbp_status s = load_event_input(files[i], &err, &nothing);
        is_int(STDBP_OK, s, "events seed %s loads (%s)", base(files[i]), err.msg);
    }
    free_list(files, n);
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regress-events", srcdir);
    files = list_dir_ext(dir, ".bin", &n);
    ok(n >= 4, "tests/fuzz/regress-events holds reproducers (%zu)", n);
    for (size_t i = 0; i < n; i++) {
        stdbp_status s = load_event_input(files[i], &err, &nothing);
        ok(s != STDBP_OK && err.msg[0] && nothing, "regress-events/%s is refused (%s)",
           base(files[i]), err.msg);
    }
    free_list(files, n);
}

/* Set attribute name of obj (an existing one) to n values of mtype. */
static void set_attr(hid_t obj, const char *name, hid_t mtype, const void *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, v) < 0 || H5Aclose(a) < 0)
        bail("setting attribute %s", name);
}

/* Replace dataset name of f by one of rank dims (float64, chunked) that
 * is never written: the header declares it, the file holds none of it. */
static void unwritten_dataset(hid_t f, const char *name, int rank, const hsize_t *dims)
{
    hsize_t chunk[2] = {1024, 1024};
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), d;
    if (H5Ldelete(f, name, H5P_DEFAULT) < 0 || space < 0 || dcpl < 0 ||
        H5Pset_chunk(dcpl, rank, chunk) < 0)
        bail("replacing %s", name);
    d = H5Dcreate2(f, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0)
        bail("creating %s", name);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
}

static void oversized(const char *srcdir)
{
    char seed[4400];
    stdbp_err err;
    stdbp_train_state st;
    hid_t f, g;
    stdbp_status s;
    /* layer03 (dense) claims 2^20 inputs and 2^20 outputs: 2^40 weights,
     * the most a layer may have. */
    const int32_t in[3] = {1, 1, 1 << 20}, out[3] = {1 << 20, 1, 1};
    const uint64_t count = (uint64_t)1 << 40;
    const hsize_t wdims[2] = {(hsize_t)1 << 20, (hsize_t)1 << 20}, sdims[1] = {(hsize_t)1 << 41};

    snprintf(seed, sizeof seed, "%s/tests/fuzz/seeds-ckpt/ckpt-1.h5", srcdir);

    /* The dataset is the seed's 18 x 10. */
    copy_file(seed, ckpt_path);
    f = H5Fopen(ckpt_path, H5F_ACC_RDWR, H5P_DEFAULT);
    g = H5Gopen2(f, "/model/layer03", H5P_DEFAULT);
    if (f < 0 || g < 0)
        bail("opening %s", ckpt_path);
    set_attr(g, "in", H5T_NATIVE_INT32, in);
    set_attr(g, "out", H5T_NATIVE_INT32, out);
    set_attr(g, "param_count", H5T_NATIVE_UINT64, &count);
    H5Gclose(g);
    H5Fclose(f);
    stdbp_err_clear(&err);
    s = stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, NULL, &err);
    is_int(STDBP_EFORMAT, s, "a layer of 2^40 weights over a dataset of 180 is malformed");
    contains(err.msg, "/weights/layer03_dense: dimension 0 is 18", "... the message says why");

    /* The dataset is declared 2^20 x 2^20 but never written. */
    f = H5Fopen(ckpt_path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        bail("opening %s", ckpt_path);
    unwritten_dataset(f, "/weights/layer03_dense", 2, wdims);
    H5Fclose(f);
    stdbp_err_clear(&err);
    s = stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, NULL, &err);
    is_int(STDBP_EFORMAT, s, "an unwritten 2^20 x 2^20 weight dataset is malformed");
    contains(err.msg, "declares 8796093022208 bytes", "... the message gives what it declares");
    unlink(ckpt_path);

    /* An unwritten optimiser state of 2^41 values. */
    copy_file(seed, ckpt_path);
    f = H5Fopen(ckpt_path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        bail("opening %s", ckpt_path);
    unwritten_dataset(f, "/optimizer/state", 1, sdims);
    H5Fclose(f);
    stdbp_err_clear(&err);
    s = stdbp_ckpt_read(MPI_COMM_SELF, ckpt_path, net, opt, &st, NULL, &err);
    is_int(STDBP_EFORMAT, s, "an unwritten optimiser state of 2^41 values is malformed");
    contains(err.msg, "/optimizer/state declares", "... the message names it");
    unlink(ckpt_path);
}

int main(int argc, char **argv)
{
    const char *srcdir = getenv("top_srcdir");
    stdbp_config cfg;
    stdbp_err err;

    MPI_Init(&argc, &argv);
    plan_lazy();
    if (!srcdir)
        srcdir = ".";
    snprintf(run_dir, sizeof run_dir, "%s/run", test_tmpdir());
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoints", run_dir);
    if (mkdir(run_dir, 0700) != 0 || mkdir(ckpt_path, 0700) != 0)
        sysbail("making %s", ckpt_path);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoints/ckpt-1.h5", run_dir);
    snprintf(spikes_path, sizeof spikes_path, "%s/spikes.h5", run_dir);
    stdbp_err_clear(&err);
    if (stdbp_config_load_string(net_yaml, strlen(net_yaml), "replay", &cfg, &err) != STDBP_OK ||
        stdbp_net_create((stdbp_shape){1, 28, 28}, cfg.network.layers, cfg.network.n_layers,
                         &cfg.network.neuron, &net, &err) != STDBP_OK ||
        stdbp_optim_create(&cfg.optim, stdbp_net_num_params(net), &opt, &err) != STDBP_OK)
        bail("building the seeds' network: %s", err.msg);

    replay_ckpt(srcdir);
    replay_h5data(srcdir);
    replay_events(srcdir);
    oversized(srcdir);

    stdbp_optim_destroy(&opt);
    stdbp_net_destroy(&net);
    MPI_Finalize();
    return tap_failures() ? 1 : 0;
}
