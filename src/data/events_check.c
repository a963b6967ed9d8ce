/* Event data sets: what the readers share (the checks of one event, the
 * sort of each sample); kept apart from the forward (events.c), so that
 * the fuzz build of the readers needs no network code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/events_impl.h"

int stdbp_dataset_is_events(const stdbp_dataset *ds)
{
    return ds && ds->ev_off != NULL;
}

int stdbp_dataset_name_is_events(const char *name)
{
    return name && (strncmp(name, "events:", 7) == 0 || strncmp(name, "shd:", 4) == 0 ||
                    strncmp(name, "nmnist:", 7) == 0);
}

stdbp_status stdbp_event_check(double t, uint64_t ch, size_t dim, const char *path,
                               const char *where, stdbp_err *err)
{
    if (!(isfinite(t) && t >= 0.0))
        return stdbp_err_set(err, STDBP_ERANGE, "%s: %s: time %g, expected a finite time >= 0",
                             path, where, t);
    if (ch >= dim)
        return stdbp_err_set(err, STDBP_ERANGE, "%s: %s: channel %llu, expected < %zu", path, where,
                             (unsigned long long)ch, dim);
    return STDBP_OK;
}

typedef struct ev_pair {
    double t;
    uint32_t ch;
} ev_pair;

static int cmp_pair(const void *a, const void *b)
{
    const ev_pair *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->ch > y->ch) - (x->ch < y->ch);
}

stdbp_status stdbp_events_finish(stdbp_dataset *ds, const char *path, stdbp_err *err)
{
    size_t most = 0;
    int max = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const size_t m = (size_t)(ds->ev_off[i + 1] - ds->ev_off[i]);
        most = m > most ? m : most;
        max = ds->labels[i] > max ? ds->labels[i] : max;
    }
    ds->n_classes = max + 1 < 2 ? 2 : max + 1;
    ev_pair *tmp = malloc((most ? most : 1) * sizeof *tmp);
    if (!tmp)
        return stdbp_err_set(err, STDBP_ENOMEM, "%s: out of memory sorting %zu events", path, most);
    for (size_t i = 0; i < ds->n; i++) {
        const int64_t a = ds->ev_off[i], m = ds->ev_off[i + 1] - a;
        int sorted = 1;
        for (int64_t k = 1; k < m && sorted; k++)
            sorted =
                ds->ev_t[a + k - 1] < ds->ev_t[a + k] || (ds->ev_t[a + k - 1] == ds->ev_t[a + k] &&
                                                          ds->ev_ch[a + k - 1] <= ds->ev_ch[a + k]);
        if (sorted)
            continue;
        for (int64_t k = 0; k < m; k++)
            tmp[k] = (ev_pair){ds->ev_t[a + k], ds->ev_ch[a + k]};
        qsort(tmp, (size_t)m, sizeof *tmp, cmp_pair);
        for (int64_t k = 0; k < m; k++) {
            ds->ev_t[a + k] = tmp[k].t;
            ds->ev_ch[a + k] = tmp[k].ch;
        }
    }
    free(tmp);
    snprintf(ds->source, sizeof ds->source, "%s", path);
    return STDBP_OK;
}
