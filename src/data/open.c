/* Datasets by name: "mnist", "fashion-mnist", "hdf5:PATH", "events:PATH",
 * "shd:PATH", "nmnist:DIR"; see
 * include/stdbp/data.h and docs/DATA.md. */
#include "stdbp/data.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPEN_PATH_MAX 4096

/* The absolute form of path, for messages (path itself if getcwd fails). */
static void absolute(const char *path, char *buf, size_t len)
{
    char cwd[OPEN_PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd) &&
        (size_t)snprintf(buf, len, "%s/%s", cwd, path) < len)
        return;
    snprintf(buf, len, "%s", path); /* len > strlen(path): see find_idx */
}

/* dir/stem, or dir/stem.gz, whichever exists (plain first). */
static stdbp_status find_idx(const char *dir, const char *name, const char *stem, char *out,
                             size_t len, stdbp_err *err)
{
    char abs[OPEN_PATH_MAX + 64];
    int n = snprintf(out, len, "%s/%s/%s", dir, name, stem);
    if (n < 0 || (size_t)n + 3 >= len)
        return stdbp_err_set(err, STDBP_EINVAL, "data directory path too long: %s", dir);
    if (access(out, F_OK) == 0)
        return STDBP_OK;
    strcat(out, ".gz");
    if (access(out, F_OK) == 0)
        return STDBP_OK;
    out[n] = '\0';
    absolute(out, abs, sizeof abs);
    return stdbp_err_set(err, STDBP_EIO,
                         "%s: no such file (nor %s.gz): the %s data set is missing; run "
                         "scripts/fetch-data.sh (it downloads into $STDBP_DATA, default data/) "
                         "or set data.dir (or STDBP_DATA) to the directory that holds %s/",
                         abs, abs, name, name);
}

stdbp_status stdbp_dataset_open(const char *name, const char *data_dir, const char *split,
                                stdbp_dataset *out, stdbp_err *err)
{
    char images[OPEN_PATH_MAX], labels[OPEN_PATH_MAX], stem[64];
    const char *prefix;
    stdbp_status st;

    memset(out, 0, sizeof *out);
    if (!name || !name[0])
        return stdbp_err_set(err, STDBP_EINVAL,
                             "no dataset named: expected mnist, fashion-mnist, hdf5:PATH, "
                             "events:PATH, shd:PATH or nmnist:DIR");
    if (strncmp(name, "hdf5:", 5) == 0) {
        if (!name[5])
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "dataset \"%s\": no path after hdf5: (write hdf5:PATH)", name);
        return stdbp_h5data_load(name + 5, out, err);
    }
    if (strncmp(name, "events:", 7) == 0 || strncmp(name, "shd:", 4) == 0 ||
        strncmp(name, "nmnist:", 7) == 0) {
        const char *path = strchr(name, ':') + 1;
        if (!path[0])
            return stdbp_err_set(err, STDBP_EINVAL, "dataset \"%s\": no path after the colon",
                                 name);
        if (name[0] == 'e')
            return stdbp_events_load(path, out, err);
        if (name[0] == 's')
            return stdbp_shd_load(path, out, err);
        /* nmnist:DIR: DIR/Train or DIR/Test by split when there, else DIR */
        const char *sub = (!split || strcmp(split, "train") == 0) ? "Train" : "Test";
        if ((size_t)snprintf(images, sizeof images, "%s/%s", path, sub) < sizeof images &&
            access(images, F_OK) == 0)
            return stdbp_nmnist_load(images, out, err);
        return stdbp_nmnist_load(path, out, err);
    }
    if (strcmp(name, "mnist") != 0 && strcmp(name, "fashion-mnist") != 0)
        return stdbp_err_set(err, STDBP_EINVAL,
                             "unknown dataset \"%s\": expected mnist, fashion-mnist, hdf5:PATH, "
                             "events:PATH, shd:PATH or nmnist:DIR",
                             name);
    if (!split || strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0)
        prefix = "t10k";
    else
        return stdbp_err_set(err, STDBP_EINVAL,
                             "dataset %s: unknown split \"%s\": expected "
                             "train or test",
                             name, split);
    if (!data_dir || !data_dir[0]) {
        data_dir = getenv("STDBP_DATA");
        if (!data_dir || !data_dir[0])
            data_dir = "data";
    }
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    if ((st = find_idx(data_dir, name, stem, images, sizeof images, err)) != STDBP_OK)
        return st;
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    if ((st = find_idx(data_dir, name, stem, labels, sizeof labels, err)) != STDBP_OK)
        return st;
    return stdbp_idx_load(images, labels, out, err);
}
