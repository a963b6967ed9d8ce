/* Event data sets: the selection options, the augmentation and the
 * forward of one sample; see include/stdbp/data.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/events_impl.h"
#include "stdbp/rng.h"

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

stdbp_status stdbp_sample_events(const stdbp_encoding *enc, const stdbp_augment *aug, uint64_t seed,
                                 uint64_t epoch, const stdbp_dataset *ds, size_t i,
                                 uint32_t **ch_out, double **t_out, size_t *n_out, stdbp_err *err)
{
    const stdbp_encoding def = stdbp_encoding_defaults();
    const int64_t a = ds->ev_off[i], m = ds->ev_off[i + 1] - a;
    const long k_max = enc ? (enc->ev_ttfs ? 1 : enc->ev_first_k) : 0;
    uint32_t *ch = malloc((m ? (size_t)m : 1) * sizeof *ch), *cnt = NULL;
    double *t = malloc((m ? (size_t)m : 1) * sizeof *t);
    size_t n = 0;
    *ch_out = NULL;
    *t_out = NULL;
    *n_out = 0;
    if (!enc)
        enc = &def;
    if (k_max > 0)
        cnt = calloc(ds->dim ? ds->dim : 1, sizeof *cnt);
    if (!ch || !t || (k_max > 0 && !cnt)) {
        free(ch);
        free(t);
        free(cnt);
        return stdbp_err_set(err, STDBP_ENOMEM,
                             "%s: out of memory for the %lld events of sample %zu", ds->source,
                             (long long)m, i);
    }
    /* The selection: in time order, so the window ends the walk. */
    for (int64_t q = a; q < a + m; q++) {
        const double tq = ds->ev_t[q] * enc->ev_time_scale;
        if (tq >= enc->ev_window)
            break;
        if (cnt && cnt[ds->ev_ch[q]]++ >= (uint32_t)k_max)
            continue;
        ch[n] = ds->ev_ch[q];
        t[n++] = tq;
    }
    free(cnt);
    if (aug && (aug->shift > 0 || aug->jitter > 0.0 || aug->drop > 0.0)) {
        const stdbp_shape s = ds->shape;
        const int shift = s.h > 1 && s.w > 1 ? aug->shift : 0;
        int dy = 0, dx = 0;
        stdbp_rng rng;
        stdbp_rng_stream(&rng, seed ^ STDBP_SEED_AUGMENT, epoch, (uint64_t)i);
        if (shift > 0) { /* the same draws as stdbp_augment_apply */
            const uint64_t span = 2 * (uint64_t)shift + 1;
            dy = (int)stdbp_rng_below(&rng, span) - shift;
            dx = (int)stdbp_rng_below(&rng, span) - shift;
        }
        size_t kept = 0;
        for (size_t p = 0; p < n; p++) {
            int keep = 1;
            double tp = t[p];
            uint32_t c = ch[p];
            /* every event draws the same numbers, kept or not */
            if (aug->jitter > 0.0) {
                tp += aug->jitter * stdbp_rng_normal(&rng);
                tp = tp > 0.0 ? tp : 0.0;
            }
            if (aug->drop > 0.0 && stdbp_rng_uniform(&rng) < aug->drop)
                keep = 0;
            if (dy != 0 || dx != 0) {
                const uint32_t hw = (uint32_t)s.h * (uint32_t)s.w;
                const int y = (int)(c % hw / (uint32_t)s.w) + dy,
                          x = (int)(c % hw % (uint32_t)s.w) + dx;
                if (y < 0 || y >= s.h || x < 0 || x >= s.w)
                    keep = 0;
                else
                    c = c / hw * hw + (uint32_t)y * (uint32_t)s.w + (uint32_t)x;
            }
            if (keep) {
                ch[kept] = c;
                t[kept++] = tp;
            }
        }
        n = kept;
    }
    *ch_out = ch;
    *t_out = t;
    *n_out = n;
    return STDBP_OK;
}

stdbp_status stdbp_sample_forward(const stdbp_net *net, stdbp_ws *ws, const stdbp_encoding *enc,
                                  const stdbp_augment *aug, uint64_t seed, uint64_t epoch,
                                  const stdbp_dataset *ds, size_t i, double *times, double *scratch,
                                  const double **out, stdbp_err *err)
{
    if (!ds->ev_off) {
        stdbp_encode(enc, ds, i, times);
        if (aug)
            stdbp_augment_apply(aug, seed, epoch, i, ds->shape, times, scratch);
        *out = stdbp_net_forward(net, ws, times);
        return STDBP_OK;
    }
    uint32_t *ch;
    double *t;
    size_t n;
    stdbp_status st = stdbp_sample_events(enc, aug, seed, epoch, ds, i, &ch, &t, &n, err);
    if (st == STDBP_OK) {
        const stdbp_event_input ev = {n, ch, t};
        st = stdbp_net_forward_events(net, ws, &ev, out, err);
        if (times) /* each channel's first event, for spike logs */
            stdbp_encode(enc, ds, i, times);
        free(ch);
        free(t);
    }
    if (st != STDBP_OK)
        stdbp_err_prefix(err, "%s, sample %zu: ", ds->source, i);
    return st;
}
