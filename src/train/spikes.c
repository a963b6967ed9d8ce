/* Spike logs during training: the first spikes.samples test images run
 * through the current network, every layer's spike times recorded into
 * run_dir/spikes.h5 at the configured moments. Each rank runs its slice
 * of the samples and writes its own rows (collective). After a resume, a
 * moment that the log already holds was written by an earlier session of
 * this run: it is kept, since the deterministic run would write the same
 * values again. */
#include <stdlib.h>
#include <string.h>

#include "stdbp/ckpt.h"
#include "stdbp/dist.h"
#include "train/trainer_impl.h"

stdbp_status stdbp_trainer_log_spikes(stdbp_trainer *tr, const char *moment, stdbp_err *err)
{
    const stdbp_config *cfg = &tr->cfg;
    size_t n = (size_t)cfg->spikes.samples, begin, end;
    size_t n_layers = stdbp_net_num_layers(tr->net), in_size = stdbp_net_input_size(tr->net);
    stdbp_spikelog *log = NULL;
    stdbp_status st = STDBP_OK;
    double **times = NULL;
    int32_t *labels = NULL;

    if (n > tr->test.n)
        n = tr->test.n;
    if (n == 0)
        return STDBP_OK;
    /* Collective: open the log; a resumed run first asks for the moment
     * (a fresh run that meets one gets the write's error: another run's). */
    int has = 0;
    st = stdbp_spikelog_open(tr->comm, cfg->run.out_dir, tr->net, &log, err);
    if (st == STDBP_OK && tr->resumed_from)
        st = stdbp_spikelog_has(log, moment, &has, err);
    if (st != STDBP_OK || has) {
        if (st == STDBP_OK && tr->rank == 0)
            stdbp_progress_print(&tr->progress,
                                 /* \a: no line break there (progress.h) */
                                 "spike log %s/spikes.h5\aalready\aholds\a\"%s\" (written before "
                                 "the resume): kept\n",
                                 cfg->run.out_dir, moment);
        stdbp_status cst = stdbp_spikelog_close(&log, err);
        return st != STDBP_OK ? st : cst;
    }
    stdbp_shard(n, tr->rank, tr->size, &begin, &end);
    size_t count = end - begin;
    times = calloc(n_layers + 1, sizeof *times);
    labels = malloc((count ? count : 1) * sizeof *labels);
    if (!times || !labels)
        st = stdbp_err_set(err, STDBP_ENOMEM, "spike log: out of memory");
    for (size_t l = 0; st == STDBP_OK && l <= n_layers; l++) {
        size_t width = l == 0 ? in_size
                              : (size_t)stdbp_net_layer(tr->net, l - 1).out.c *
                                    (size_t)stdbp_net_layer(tr->net, l - 1).out.h *
                                    (size_t)stdbp_net_layer(tr->net, l - 1).out.w;
        if (!(times[l] = malloc((count ? count : 1) * width * sizeof **times)))
            st = stdbp_err_set(err, STDBP_ENOMEM, "spike log: out of memory");
    }
    for (size_t k = 0; st == STDBP_OK && k < count; k++) {
        size_t i = begin + k;
        const double *o;
        if ((st = stdbp_sample_forward(tr->net, tr->ws, &cfg->encoding, NULL, 0, 0, &tr->test, i,
                                       times[0] + k * in_size, NULL, &o, err)) != STDBP_OK)
            break;
        for (size_t l = 0; l < n_layers; l++) {
            stdbp_layer_info li = stdbp_net_layer(tr->net, l);
            size_t width = (size_t)li.out.c * (size_t)li.out.h * (size_t)li.out.w;
            memcpy(times[l + 1] + k * width, stdbp_ws_layer_times(tr->ws, l),
                   width * sizeof **times);
        }
        labels[k] = tr->test.labels[i];
    }
    /* Collective: agree on the local work, write, close. */
    if ((st = stdbp_dist_agree(tr->comm, st, err)) == STDBP_OK)
        st = stdbp_spikelog_write(log, moment, n, begin, count, (const double *const *)times,
                                  labels, err);
    stdbp_status cst = stdbp_spikelog_close(&log, err);
    if (st == STDBP_OK)
        st = cst;
    for (size_t l = 0; times && l <= n_layers; l++)
        free(times[l]);
    free(times);
    free(labels);
    return st;
}
