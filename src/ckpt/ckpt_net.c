/* A checkpoint as a ready network, on one process and without MPI: for
 * programs that only run the network (inference, analysis, the Python
 * package), which need not call MPI_Init. Everything here is serial HDF5
 * (stdbp_ckpt_load, stdbp_ckpt_scan) and the config and core modules. */
#include "ckpt/ckpt_impl.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stdbp/config.h"
#include "util/h5util.h"
#include "util/log.h"

/* The checkpoint path: path itself, or the newest checkpoint of the run
 * directory path that verifies (damaged ones skipped with a warning),
 * then already read into *d (*loaded = 1). */
static stdbp_status pick_file(const char *path, char *file, size_t len, ckpt_data *d, int *loaded,
                              stdbp_err *e)
{
    struct stat sb;
    char dir[CKPT_PATH_MAX];
    ckpt_entry *list = NULL;
    size_t n = 0;
    stdbp_status s;

    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        if (strlen(path) >= len)
            return stdbp_err_set(e, STDBP_EINVAL, "checkpoint path too long: %s", path);
        snprintf(file, len, "%s", path);
        return STDBP_OK;
    }
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", path, CKPT_DIR) >= sizeof dir)
        return stdbp_err_set(e, STDBP_EINVAL, "run directory path too long: %s", path);
    if ((s = stdbp_ckpt_scan(dir, &list, &n, e)) != STDBP_OK)
        return s;
    file[0] = '\0';
    for (size_t i = 0; i < n && !file[0]; i++) {
        stdbp_err why;
        stdbp_err_clear(&why);
        if (stdbp_ckpt_load(list[i].path, d, &why) == STDBP_OK) {
            if (strlen(list[i].path) < len) {
                snprintf(file, len, "%s", list[i].path);
                *loaded = 1;
            } else {
                stdbp_ckpt_data_free(d);
            }
        } else {
            stdbp_log(STDBP_LOG_WARNING, "skipping checkpoint: %s", why.msg);
        }
    }
    stdbp_ckpt_scan_free(list, n);
    if (!file[0])
        return stdbp_err_set(e, STDBP_EIO,
                             "%s is a directory with no readable checkpoint under %s/ (give a "
                             "checkpoint file or a run directory that training wrote)",
                             path, CKPT_DIR);
    return STDBP_OK;
}

stdbp_status stdbp_ckpt_load_net(const char *path, stdbp_net **net, stdbp_config *cfg,
                                 stdbp_train_state *st, char *used, size_t used_len, stdbp_err *err)
{
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    char file[CKPT_PATH_MAX];
    stdbp_config *c = NULL;
    stdbp_net *nn = NULL;
    stdbp_shape input;
    ckpt_data d;
    stdbp_h5_quiet quiet;
    stdbp_status s;
    int loaded = 0;

    stdbp_err_clear(e);
    memset(&d, 0, sizeof d);
    if (net)
        *net = NULL;
    if (!path || !net)
        return stdbp_err_set(e, STDBP_EINVAL, "stdbp_ckpt_load_net: path and net are required");
    stdbp_h5_quiet_begin(&quiet);
    if ((s = pick_file(path, file, sizeof file, &d, &loaded, e)) != STDBP_OK)
        goto done;
    if (used && used_len > 0 && strlen(file) >= used_len) {
        s = stdbp_err_set(e, STDBP_EINVAL, "checkpoint path %s does not fit in %zu bytes", file,
                          used_len);
        goto done;
    }
    /* Verify everything first (format, shapes, Fletcher32, digest). */
    if (!loaded && (s = stdbp_ckpt_load(file, &d, e)) != STDBP_OK)
        goto done;
    if ((s = stdbp_ckpt_read_info(file, &input, NULL, 0, e)) != STDBP_OK)
        goto done;
    if (!(c = malloc(sizeof *c))) {
        s = stdbp_err_set(e, STDBP_ENOMEM, "checkpoint %s: out of memory", file);
        goto done;
    }
    s = stdbp_config_load_string(d.config ? d.config : "", d.config ? d.config_len : 0, file, c, e);
    if (s != STDBP_OK) {
        stdbp_err_prefix(e, "checkpoint %s: the stored config: ", file);
        goto done;
    }
    s = stdbp_net_create(input, c->network.layers, c->network.n_layers, &c->network.neuron, &nn, e);
    if (s != STDBP_OK) {
        stdbp_err_prefix(e, "checkpoint %s: ", file);
        goto done;
    }
    /* The layers the config builds must be the file's, layer by layer. */
    if (stdbp_net_num_layers(nn) != d.n_layers) {
        s = stdbp_err_set(e, STDBP_EFORMAT,
                          "checkpoint %s has %zu layers but its stored config builds %zu", file,
                          d.n_layers, stdbp_net_num_layers(nn));
        goto done;
    }
    for (size_t i = 0; i < d.n_layers; i++) {
        stdbp_layer_info info = stdbp_net_layer(nn, i);
        ckpt_layer mine;
        char a[160], b[160];
        stdbp_ckpt_layer_from_info(&mine, &info);
        if (!stdbp_ckpt_layer_equal(&mine, &d.layers[i])) {
            s = stdbp_err_set(e, STDBP_EFORMAT,
                              "checkpoint %s: layer %zu is %s but its stored config builds %s",
                              file, i, stdbp_ckpt_layer_describe(&d.layers[i], a, sizeof a),
                              stdbp_ckpt_layer_describe(&mine, b, sizeof b));
            goto done;
        }
        if (d.weights[i])
            memcpy(stdbp_net_params(nn) + info.param_offset, d.weights[i],
                   (size_t)d.layers[i].param_count * sizeof(double));
    }
    if (cfg)
        *cfg = *c;
    if (st && d.has_train)
        *st = d.st;
    else if (st)
        memset(st, 0, sizeof *st);
    if (used && used_len > 0)
        snprintf(used, used_len, "%s", file);
    *net = nn;
    nn = NULL;
done:
    stdbp_net_destroy(&nn);
    stdbp_ckpt_data_free(&d);
    free(c);
    stdbp_h5_quiet_end(&quiet);
    return s;
}
