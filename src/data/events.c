/* Event data sets: the selection options, the augmentation and the
 * forward of one sample; see include/stdbp/data.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/events_impl.h"
#include "stdbp/rng.h"

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
