/* Paths are never cut short to fit a buffer: a $STDBP_DATA longer than
 * data.dir holds is a validation error naming the variable and the limit
 * (unless the config names data.dir), never a silent "data" or a cut
 * path; a sweep file path longer than the sweep keeps, and data set paths
 * longer than stdbp_dataset.source holds, are refused with their length,
 * while paths that fit are kept whole. Fixtures go to test_tmpdir(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdbp/config.h"
#include "stdbp/data.h"
#include "stdbp/sweep.h"
#include "tap/basic.h"

/* dir + "/" + "./" repeated until the path is at least len bytes + name:
 * a long path that still names a file in dir. */
static char *long_path(const char *dir, size_t len, const char *name)
{
    char *p = bmalloc(len + strlen(dir) + strlen(name) + 8);
    size_t n = (size_t)sprintf(p, "%s/", dir);
    while (n < len)
        n += (size_t)sprintf(p + n, "./");
    strcpy(p + n, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        sysbail("cannot write %s", path);
}

static void check_data_dir(void)
{
    stdbp_config cfg;
    stdbp_err err;
    char *dir = long_path("/tmp", 600, "data"), *mid = long_path("/tmp", 400, "data");

    unsetenv("STDBP_DATA");
    stdbp_config_defaults(&cfg);
    stdbp_err_clear(&err);
    ok(stdbp_config_validate(&cfg, &err) == STDBP_OK && strcmp(cfg.data.dir, "data") == 0,
       "without STDBP_DATA: data.dir is data, valid %s", err.msg);

    setenv("STDBP_DATA", mid, 1);
    stdbp_config_defaults(&cfg);
    is_string(mid, cfg.data.dir, "a %zu-byte STDBP_DATA is data.dir, whole", strlen(mid));

    setenv("STDBP_DATA", dir, 1);
    stdbp_config_defaults(&cfg);
    ok(strcmp(cfg.data.dir, "data") != 0 && strncmp(cfg.data.dir, dir, 16) != 0,
       "a %zu-byte STDBP_DATA: neither cut short nor replaced by data", strlen(dir));
    stdbp_err_clear(&err);
    is_int(STDBP_ECONFIG, stdbp_config_validate(&cfg, &err), "  validation refuses it");
    char want[128];
    snprintf(want, sizeof want, "data.dir: its default, $STDBP_DATA, is %zu bytes long",
             strlen(dir));
    contains(err.msg, want, "  naming the variable and its length");
    contains(err.msg, "more than the 511 that data.dir holds", "  and the limit");

    stdbp_err_clear(&err);
    ok(stdbp_config_load_string("data: {dir: /scratch/data}\n", 27, "c.yaml", &cfg, &err) ==
               STDBP_OK &&
           stdbp_config_validate(&cfg, &err) == STDBP_OK &&
           strcmp(cfg.data.dir, "/scratch/data") == 0,
       "  data.dir in the config: valid, STDBP_DATA not needed %s", err.msg);
    stdbp_config_defaults(&cfg);
    stdbp_err_clear(&err);
    ok(stdbp_config_set(&cfg, "data.dir=/d", &err) == STDBP_OK &&
           stdbp_config_validate(&cfg, &err) == STDBP_OK,
       "  so is --set data.dir=/d %s", err.msg);
    unsetenv("STDBP_DATA");
    free(dir);
    free(mid);
}

static void check_sweep(void)
{
    stdbp_sweep *sw = NULL;
    stdbp_err err;
    char *far = long_path(test_tmpdir(), 600, "s.yaml"),
         *near = long_path(test_tmpdir(), 300, "s.yaml");
    const char *text = "base: b.yaml\nparams: {optimizer.lr: [0.1]}\n";

    stdbp_err_clear(&err);
    is_int(STDBP_EINVAL, stdbp_sweep_load_string(text, strlen(text), far, &sw, &err),
           "a sweep file path of %zu bytes: refused", strlen(far));
    char want[128];
    snprintf(want, sizeof want, "path too long: %zu bytes, at most 511 are supported", strlen(far));
    contains(err.msg, want, "  with its length");
    ok(sw == NULL, "  nothing handed out");
    stdbp_err_clear(&err);
    ok(stdbp_sweep_load_string(text, strlen(text), near, &sw, &err) == STDBP_OK && sw &&
           strcmp(stdbp_sweep_source(sw), near) == 0,
       "a %zu-byte sweep path is kept whole %s", strlen(near), err.msg);
    if (sw) {
        char base[1024];
        snprintf(base, sizeof base, "%.*s/b.yaml", (int)(strrchr(near, '/') - near), near);
        is_string(base, stdbp_sweep_base(sw), "  and its base config is found beside it");
    } else {
        ok(0, "  and its base config is found beside it");
    }
    stdbp_sweep_free(&sw);
    free(far);
    free(near);
}

static void check_dataset_source(void)
{
    static const unsigned char img[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4};
    static const unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 2, 0, 1};
    stdbp_dataset ds;
    stdbp_err err;
    char img_path[4096], lab_path[4096];
    char *li, *ll, *h5 = long_path(test_tmpdir(), 4200, "x.h5");

    snprintf(img_path, sizeof img_path, "%s/i-idx3-ubyte", test_tmpdir());
    snprintf(lab_path, sizeof lab_path, "%s/l-idx1-ubyte", test_tmpdir());
    write_file(img_path, img, sizeof img);
    write_file(lab_path, lab, sizeof lab);

    li = long_path(test_tmpdir(), 1500, "i-idx3-ubyte");
    ll = long_path(test_tmpdir(), 1500, "l-idx1-ubyte");
    stdbp_err_clear(&err);
    ok(stdbp_idx_load(li, ll, &ds, &err) == STDBP_OK && strstr(ds.source, li) == ds.source &&
           strstr(ds.source, ll) && strlen(ds.source) == strlen(li) + strlen(ll) + 3,
       "IDX paths of %zu + %zu bytes: the source names both, whole %s", strlen(li), strlen(ll),
       err.msg);
    stdbp_dataset_free(&ds);
    free(li);
    free(ll);

    li = long_path(test_tmpdir(), 2100, "i-idx3-ubyte");
    ll = long_path(test_tmpdir(), 2100, "l-idx1-ubyte");
    stdbp_err_clear(&err);
    is_int(STDBP_EINVAL, stdbp_idx_load(li, ll, &ds, &err),
           "IDX paths of %zu + %zu bytes: refused, not cut", strlen(li), strlen(ll));
    contains(err.msg, "at most 4092 are supported", "  with the limit");
    free(li);
    free(ll);

    stdbp_err_clear(&err);
    is_int(STDBP_EINVAL, stdbp_h5data_load(h5, &ds, &err), "an HDF5 path of %zu bytes: refused",
           strlen(h5));
    contains(err.msg, "at most 4095 are supported", "  with the limit");
    free(h5);
}

int main(void)
{
    plan(18);
    check_data_dir();
    check_sweep();
    check_dataset_source();
    return 0;
}
