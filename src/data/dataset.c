/* The dataset object: freeing it and reading one pixel; see
 * include/stdbp/data.h. Kept apart from the loaders (no HDF5 here), so
 * that the IDX fuzz build needs only idx.c, this file and error.c. */
#include "stdbp/data.h"

#include <stdlib.h>
#include <string.h>

#include "data/idx_impl.h"

static stdbp_data_stop_fn stop_check;

void stdbp_data_set_stop_check(stdbp_data_stop_fn fn)
{
    stop_check = fn;
}

stdbp_status stdbp_data_poll_stop(const char *path, stdbp_err *err)
{
    if (stop_check && stop_check())
        return stdbp_err_set(err, STDBP_ESTOPPED, "%s: loading stopped by a signal", path);
    return STDBP_OK;
}

void stdbp_dataset_free(stdbp_dataset *ds)
{
    if (!ds)
        return;
    free(ds->u8);
    free(ds->f32);
    free(ds->labels);
    free(ds->ev_off);
    free(ds->ev_t);
    free(ds->ev_ch);
    memset(ds, 0, sizeof *ds);
}

double stdbp_dataset_pixel(const stdbp_dataset *ds, size_t i, size_t k)
{
    size_t at = i * ds->dim + k;
    if (ds->u8)
        return ds->u8[at] / 255.0;
    if (ds->f32)
        return ds->f32[at];
    return 0.0;
}

stdbp_status stdbp_dataset_check_labels(const stdbp_dataset *ds, size_t n_outputs, stdbp_err *err)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->labels[i] < 0 || (size_t)ds->labels[i] >= n_outputs)
            return stdbp_err_set(err, STDBP_ERANGE,
                                 "%s: sample %zu has label %d, but the network has %zu outputs "
                                 "(labels 0..%zu)",
                                 ds->source[0] ? ds->source : "(data set)", i, (int)ds->labels[i],
                                 n_outputs, n_outputs ? n_outputs - 1 : 0);
    return STDBP_OK;
}
