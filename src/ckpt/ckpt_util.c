/* Checkpoint internals: layer descriptions, the digest, directories and
 * listing; see ckpt_impl.h. */
#include "ckpt/ckpt_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/h5util.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/test_hooks.h"

const char *stdbp_ckpt_kind_name(int kind)
{
    switch (kind) {
    case STDBP_LAYER_DENSE:
        return "dense";
    case STDBP_LAYER_CONV2D:
        return "conv2d";
    case STDBP_LAYER_POOL:
        return "pool";
    case STDBP_LAYER_FLATTEN:
        return "flatten";
    }
    return "unknown";
}

int stdbp_ckpt_kind_parse(const char *name)
{
    static const int kinds[] = {STDBP_LAYER_DENSE, STDBP_LAYER_CONV2D, STDBP_LAYER_POOL,
                                STDBP_LAYER_FLATTEN};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, stdbp_ckpt_kind_name(kinds[i])) == 0)
            return kinds[i];
    return -1;
}

void stdbp_ckpt_layer_from_info(ckpt_layer *l, const stdbp_layer_info *info)
{
    memset(l, 0, sizeof *l);
    l->kind = (int)info->kind;
    l->in[0] = info->in.c, l->in[1] = info->in.h, l->in[2] = info->in.w;
    l->out[0] = info->out.c, l->out[1] = info->out.h, l->out[2] = info->out.w;
    l->kernel = info->kernel;
    l->stride = info->stride;
    l->padding = info->padding;
    l->param_count = info->param_count;
}

/* a * b, or UINT64_MAX when that does not fit. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

uint64_t stdbp_ckpt_shape_size(const int32_t s[3])
{
    uint64_t n = 1;
    for (int k = 0; k < 3; k++)
        n = mul_sat(n, s[k] > 0 ? (uint64_t)s[k] : 0);
    return n;
}

int stdbp_ckpt_layer_size_ok(const ckpt_layer *l)
{
    uint64_t dims[4], prod = 1;
    int r;
    if (stdbp_ckpt_shape_size(l->in) > CKPT_MAX_VALUES ||
        stdbp_ckpt_shape_size(l->out) > CKPT_MAX_VALUES || l->kernel < 0)
        return 0;
    r = stdbp_ckpt_weight_dims(l, dims);
    for (int k = 0; k < r; k++)
        prod = mul_sat(prod, dims[k]);
    return prod <= CKPT_MAX_VALUES;
}

const char *stdbp_ckpt_layer_describe(const ckpt_layer *l, char *buf, size_t len)
{
    switch (l->kind) {
    case STDBP_LAYER_DENSE:
        snprintf(buf, len, "dense %llux%llu", (unsigned long long)stdbp_ckpt_shape_size(l->in),
                 (unsigned long long)stdbp_ckpt_shape_size(l->out));
        break;
    case STDBP_LAYER_CONV2D:
    case STDBP_LAYER_POOL:
        snprintf(buf, len, "%s %dx%dx%d->%dx%dx%d k%d s%d p%d", stdbp_ckpt_kind_name(l->kind),
                 (int)l->in[0], (int)l->in[1], (int)l->in[2], (int)l->out[0], (int)l->out[1],
                 (int)l->out[2], (int)l->kernel, (int)l->stride, (int)l->padding);
        break;
    default:
        snprintf(buf, len, "%s %dx%dx%d->%dx%dx%d", stdbp_ckpt_kind_name(l->kind), (int)l->in[0],
                 (int)l->in[1], (int)l->in[2], (int)l->out[0], (int)l->out[1], (int)l->out[2]);
    }
    return buf;
}

int stdbp_ckpt_layer_equal(const ckpt_layer *a, const ckpt_layer *b)
{
    return a->kind == b->kind && memcmp(a->in, b->in, sizeof a->in) == 0 &&
           memcmp(a->out, b->out, sizeof a->out) == 0 && a->kernel == b->kernel &&
           a->stride == b->stride && a->padding == b->padding && a->param_count == b->param_count;
}

int stdbp_ckpt_weight_dims(const ckpt_layer *l, uint64_t dims[4])
{
    if (l->param_count == 0)
        return 0;
    if (l->kind == STDBP_LAYER_DENSE) {
        dims[0] = stdbp_ckpt_shape_size(l->in);
        dims[1] = stdbp_ckpt_shape_size(l->out);
        return 2;
    }
    if (l->kind == STDBP_LAYER_CONV2D) {
        dims[0] = (uint64_t)l->in[0];
        dims[1] = (uint64_t)l->kernel;
        dims[2] = (uint64_t)l->kernel;
        dims[3] = (uint64_t)l->out[0];
        return 4;
    }
    /* Weights on a layer kind that has none: one flat dataset. */
    dims[0] = l->param_count;
    return 1;
}

void stdbp_ckpt_weight_name(size_t index, const ckpt_layer *l, char *buf, size_t len)
{
    snprintf(buf, len, "layer%02zu_%s", index, stdbp_ckpt_kind_name(l->kind));
}

const char *stdbp_ckpt_optim_kind(size_t state_size, size_t n_params)
{
    if (state_size == 0)
        return "none";
    if (state_size == 2 * n_params)
        return "adam";
    if (state_size == n_params)
        return "sgd";
    return "unknown";
}

void stdbp_ckpt_digest(const ckpt_payload *p, char out[CKPT_DIGEST_LEN])
{
    stdbp_sha256 s;
    uint8_t d[STDBP_SHA256_LEN];
    char hex[STDBP_SHA256_HEX_LEN];
    stdbp_sha256_init(&s);
    for (size_t i = 0; i < p->n_layers; i++)
        if (p->weights[i] && p->layers[i].param_count)
            stdbp_sha256_update_f64le(&s, p->weights[i], (size_t)p->layers[i].param_count);
    if (p->has_optim) {
        stdbp_sha256_update_f64le(&s, p->state, p->state_size);
        stdbp_sha256_update_u64le(&s, &p->optim_steps, 1);
    }
    if (p->has_train) {
        const stdbp_train_state *t = p->st;
        uint64_t v[5] = {t->step, t->epoch, t->batch, t->seed, t->best_epoch};
        stdbp_sha256_update_u64le(&s, v, 5);
        stdbp_sha256_update_f64le(&s, &t->best_val_acc, 1);
        stdbp_sha256_update_u64le(&s, t->rng.s, 4);
        if (p->has_progress) {
            /* int64 as its two's complement bits: the same bytes as <i8. */
            uint64_t q[3] = {(uint64_t)t->epoch_loss, (uint64_t)t->epoch_correct,
                             (uint64_t)t->epoch_samples};
            stdbp_sha256_update_u64le(&s, q, 3);
            stdbp_sha256_update_f64le(&s, &t->wall_seconds, 1);
        }
    }
    if (p->config_len)
        stdbp_sha256_update(&s, p->config, p->config_len);
    stdbp_sha256_final(&s, d);
    snprintf(out, CKPT_DIGEST_LEN, "sha256:%s", stdbp_sha256_hex(d, hex));
}

stdbp_status stdbp_ckpt_fsync_path(const char *path, int is_dir, stdbp_err *err)
{
    int fd = open(path, O_RDONLY | (is_dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot sync %s: %s", path, strerror(errno));
    int rc = fsync(fd), saved = errno;
    close(fd);
    /* Some file systems cannot sync a directory; that is not an error. */
    if (rc != 0 && !(is_dir && (saved == EINVAL || saved == ENOTSUP)))
        return stdbp_err_set(err, STDBP_EIO, "cannot sync %s: %s", path, strerror(saved));
    return STDBP_OK;
}

/* "ckpt-<digits>.h5": the step, or -1. */
static int parse_name(const char *name, unsigned long long *step)
{
    const char *p = name + 5;
    unsigned long long v = 0;
    if (strncmp(name, "ckpt-", 5) != 0 || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (~0ULL - 9) / 10)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (strcmp(p, ".h5") != 0)
        return -1;
    *step = v;
    return 0;
}

static int entry_newest_first(const void *a, const void *b)
{
    const ckpt_entry *x = a, *y = b;
    return x->step < y->step ? 1 : x->step > y->step ? -1 : 0;
}

/* Rank 0 or one process: is this ckpt-N.h5 what its name says? 1: list it
 * (e->step, e->format_version set), 0: leave it out (warned). */
static int entry_from_file(ckpt_entry *e, unsigned long long name_step)
{
    stdbp_err why;
    uint64_t step = 0, version = 0;
    e->step = name_step;
    e->format_version = 0;
    if (stdbp_ckpt_peek(e->path, &step, &version, &why) != STDBP_OK)
        return 1; /* unreadable: loading it says why */
    e->format_version = version;
    if (version > CKPT_FORMAT_VERSION || step == name_step)
        return 1;
    stdbp_log(STDBP_LOG_WARNING,
              "checkpoint %s holds step %llu, not the step %llu its name says (a copy or a "
              "rename?): ignored, neither resumed from nor counted or removed when pruning; "
              "rename it ckpt-%010llu.h5 or move it out of the directory",
              e->path, (unsigned long long)step, name_step, (unsigned long long)step);
    return 0;
}

stdbp_status stdbp_ckpt_scan(const char *dir, ckpt_entry **out, size_t *n, stdbp_err *err)
{
    DIR *d;
    struct dirent *de;
    ckpt_entry *e = NULL;
    size_t cnt = 0, cap = 0;
    *out = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d && errno == ENOENT)
        return STDBP_OK;
    if (!d)
        return stdbp_err_set(err, STDBP_EIO, "cannot list checkpoints in %s: %s", dir,
                             strerror(errno));
    while ((de = readdir(d)) != NULL) {
        unsigned long long step;
        size_t len;
        if (parse_name(de->d_name, &step) != 0)
            continue;
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 16;
            ckpt_entry *ne = realloc(e, nc * sizeof *e);
            if (!ne)
                goto nomem;
            e = ne, cap = nc;
        }
        len = strlen(dir) + strlen(de->d_name) + 2;
        e[cnt].path = malloc(len);
        if (!e[cnt].path)
            goto nomem;
        snprintf(e[cnt].path, len, "%s/%s", dir, de->d_name);
        if (entry_from_file(&e[cnt], step))
            cnt++;
        else
            free(e[cnt].path);
    }
    closedir(d);
    /* An empty directory (a first checkpoint that was killed) is an empty
     * list: qsort must not see the NULL array. */
    if (cnt > 1)
        qsort(e, cnt, sizeof *e, entry_newest_first);
    if (cnt == 0) {
        free(e);
        e = NULL;
    }
    *out = e;
    *n = cnt;
    return STDBP_OK;
nomem:
    closedir(d);
    stdbp_ckpt_scan_free(e, cnt);
    return stdbp_err_set(err, STDBP_ENOMEM, "cannot list checkpoints in %s: out of memory", dir);
}

void stdbp_ckpt_scan_free(ckpt_entry *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i].path);
    free(list);
}

stdbp_status stdbp_ckpt_list(const char *dir, char ***out, size_t *n, stdbp_err *err)
{
    ckpt_entry *e = NULL;
    size_t cnt = 0;
    char **paths;
    stdbp_status st;
    *out = NULL;
    *n = 0;
    if ((st = stdbp_ckpt_scan(dir, &e, &cnt, err)) != STDBP_OK)
        return st;
    paths = malloc((cnt ? cnt : 1) * sizeof *paths);
    if (!paths) {
        stdbp_ckpt_scan_free(e, cnt);
        return stdbp_err_set(err, STDBP_ENOMEM, "cannot list checkpoints in %s: out of memory",
                             dir);
    }
    for (size_t i = 0; i < cnt; i++)
        paths[i] = e[i].path;
    free(e);
    *out = paths;
    *n = cnt;
    return STDBP_OK;
}

void stdbp_ckpt_list_free(char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void stdbp_ckpt_test_delay(void)
{
    long ms = stdbp_test_hooks_get()->ckpt_delay_ms;
    struct timespec ts;
    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

stdbp_status stdbp_ckpt_describe(hid_t obj, const char *units, const char *description,
                                 stdbp_err *err)
{
    stdbp_status st = stdbp_h5_attr_put_str(obj, "units", units, err);
    return st == STDBP_OK ? stdbp_h5_attr_put_str(obj, "description", description, err) : st;
}
