/* Evaluation split across ranks, and inside a rank across OpenMP
 * threads; see stdbp_evaluate in train.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "stdbp/dist.h"
#include "stdbp/loss.h"
#include "stdbp/train.h"
#include "train/evaluate.h"

/* One thread's buffers; thread 0 uses the caller's. */
typedef struct eval_slot {
    stdbp_ws *ws;
    double *times;
    /* loss (fixed point), correct, samples, non-finite losses */
    int64_t sums[4];
} eval_slot;

/* Samples [begin, end) over up to n_threads threads. The per-sample
 * values are integers (the loss in fixed point), so their sums do not
 * depend on which thread took which sample. pred (NULL: not wanted) gets
 * each sample's predicted class at k - begin. */
static void eval_range(const stdbp_net *net, eval_slot *slots, int nt, const stdbp_dataset *ds,
                       const size_t *idx, size_t begin, size_t end, const stdbp_encoding *enc,
                       const stdbp_loss_params *loss, int *pred)
{
    size_t n_out = stdbp_net_output_size(net);
    (void)nt; /* without OpenMP: one thread */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt) if (nt > 1)
#endif
    for (size_t k = begin; k < end; k++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        eval_slot *s = &slots[t];
        double dl_dt[4096];
        size_t i = idx ? idx[k] : k;
        const double *t_out;
        stdbp_err e;
        if (stdbp_sample_forward(net, s->ws, enc, NULL, 0, 0, ds, i, s->times, NULL, &t_out, &e) !=
            STDBP_OK) { /* out of memory for an event sample: counted as non-finite */
            s->sums[3]++;
            s->sums[2]++;
            continue;
        }
        double l = stdbp_loss_softmax_ce(loss, t_out, n_out, ds->labels[i], dl_dt);
        if (isfinite(l))
            s->sums[0] += stdbp_grad_to_fixed(l);
        else
            s->sums[3]++;
        int c = stdbp_classify(t_out, n_out);
        s->sums[1] += c == ds->labels[i];
        s->sums[2]++;
        if (pred)
            pred[k - begin] = c;
    }
}

/* Samples between progress reports: about 1 % of the slice, at least 256
 * (each chunk is one parallel region). */
static size_t chunk_size(size_t len)
{
    size_t c = len / 100;
    return c < 256 ? 256 : c;
}

/* Collective on comm: the per-class counts of this rank's predictions
 * pred (of samples [begin, end)), summed over the ranks, into detail. */
static stdbp_status count_classes(MPI_Comm comm, const stdbp_dataset *ds, const size_t *idx,
                                  size_t begin, size_t end, const int *pred, size_t n_out,
                                  const stdbp_eval_detail *detail, stdbp_err *err)
{
    const size_t len = n_out * n_out + n_out;
    int64_t *counts = calloc(len, sizeof *counts);
    stdbp_status st = counts ? STDBP_OK : stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
    if ((st = stdbp_dist_agree(comm, st, err)) != STDBP_OK) { /* collective */
        free(counts);
        return st;
    }
    for (size_t k = begin; k < end; k++) {
        size_t label = (size_t)ds->labels[idx ? idx[k] : k];
        int c = pred[k - begin];
        if (label >= n_out)
            continue; /* checked by stdbp_dataset_check_labels */
        if (c < 0)
            counts[n_out * n_out + label]++;
        else
            counts[label * n_out + (size_t)c]++;
    }
    st = stdbp_dist_sum_i64(comm, counts, len, err); /* collective */
    for (size_t j = 0; st == STDBP_OK && j < n_out * n_out && detail->confusion; j++)
        detail->confusion[j] = (uint64_t)counts[j];
    for (size_t j = 0; st == STDBP_OK && j < n_out && detail->silent; j++)
        detail->silent[j] = (uint64_t)counts[n_out * n_out + j];
    free(counts);
    return st;
}

stdbp_status stdbp_evaluate(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                            const stdbp_dataset *ds, const size_t *idx, size_t n,
                            const stdbp_encoding *enc, const stdbp_loss_params *loss,
                            double *times_buf, stdbp_eval_result *out, stdbp_err *err)
{
    return stdbp_evaluate_detail(comm, net, ws, ds, idx, n, enc, loss, times_buf, NULL, out, err);
}

stdbp_status stdbp_evaluate_detail(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                                   const stdbp_dataset *ds, const size_t *idx, size_t n,
                                   const stdbp_encoding *enc, const stdbp_loss_params *loss,
                                   double *times_buf, const stdbp_eval_detail *detail,
                                   stdbp_eval_result *out, stdbp_err *err)
{
    return stdbp_evaluate_stoppable(comm, net, ws, ds, idx, n, enc, loss, times_buf, detail, NULL,
                                    out, err);
}

/* Collective on comm: samples [begin, end) of this rank in chunks, as many
 * on every rank (sized from the largest share, which is at most one
 * sample larger), with the progress after each chunk and, when stop is
 * given, the agreed stop check before it. Returns 1 when stopped. */
static int eval_chunks(MPI_Comm comm, const stdbp_net *net, eval_slot *slots, int nt,
                       const stdbp_dataset *ds, const size_t *idx, size_t n, int size, size_t begin,
                       size_t end, const stdbp_encoding *enc, const stdbp_loss_params *loss,
                       int *pred, const stdbp_eval_detail *detail, int (*stop)(void))
{
    const size_t largest = n / (size_t)size + (n % (size_t)size != 0);
    const size_t chunk = chunk_size(largest);
    const size_t n_chunks = (largest + chunk - 1) / chunk;
    for (size_t c = 0; c < n_chunks; c++) {
        if (stop) {
            double any = stop() ? 1 : 0;
            stdbp_dist_max_f64(comm, &any); /* collective: every rank, every chunk */
            if (any > 0)
                return 1;
        }
        size_t k = begin + c * chunk < end ? begin + c * chunk : end;
        size_t last = end - k > chunk ? k + chunk : end;
        eval_range(net, slots, nt, ds, idx, k, last, enc, loss, pred ? pred + (k - begin) : NULL);
        if (detail && detail->progress)
            detail->progress((uint64_t)(last - begin), (uint64_t)(end - begin), detail->user);
    }
    if (n_chunks == 0 && detail && detail->progress)
        detail->progress(0, 0, detail->user);
    return 0;
}

stdbp_status stdbp_evaluate_stoppable(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                                      const stdbp_dataset *ds, const size_t *idx, size_t n,
                                      const stdbp_encoding *enc, const stdbp_loss_params *loss,
                                      double *times_buf, const stdbp_eval_detail *detail,
                                      int (*stop)(void), stdbp_eval_result *out, stdbp_err *err)
{
    int rank, size, want = 1, nt = 1, stopped = 0;
    size_t begin, end, n_out = stdbp_net_output_size(net);
    int64_t sums[4] = {0, 0, 0, 0};

    if (n_out > 4096)
        return stdbp_err_set(err, STDBP_EINVAL, "evaluate: %zu outputs, at most 4096", n_out);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    stdbp_shard(n, rank, size, &begin, &end);
#ifdef _OPENMP
    want = omp_get_max_threads();
#endif
    if ((size_t)want > end - begin)
        want = end - begin > 1 ? (int)(end - begin) : 1;
    /* One workspace per thread; threads whose buffers cannot be had are
     * left out (the result is the same with fewer threads), so that this
     * rank still reaches the collective sum below. */
    eval_slot one = {.ws = ws, .times = times_buf}, *slots = &one;
    if (want > 1 && (slots = calloc((size_t)want, sizeof *slots)) != NULL) {
        slots[0] = one;
        stdbp_err ignored;
        size_t dim = stdbp_net_input_size(net);
        while (nt < want) {
            eval_slot *s = &slots[nt];
            if (stdbp_ws_create(net, &s->ws, &ignored) != STDBP_OK)
                break;
            if (!(s->times = malloc((dim ? dim : 1) * sizeof *s->times))) {
                stdbp_ws_destroy(&s->ws);
                break;
            }
            nt++;
        }
    } else if (!slots)
        slots = &one;
    /* The predictions, when the per-class counts are wanted (every rank
     * alike); a rank without the memory goes on without and fails below. */
    const int classes = detail && (detail->confusion || detail->silent);
    int *pred = classes ? malloc((end - begin ? end - begin : 1) * sizeof *pred) : NULL;
    if (stop || (detail && detail->progress))
        stopped = eval_chunks(comm, net, slots, nt, ds, idx, n, size, begin, end, enc, loss, pred,
                              detail, stop);
    else
        eval_range(net, slots, nt, ds, idx, begin, end, enc, loss, pred);
    for (int t = 0; t < nt; t++)
        for (int j = 0; j < 4; j++)
            sums[j] += slots[t].sums[j];
    if (slots != &one) {
        for (int t = 1; t < nt; t++) {
            stdbp_ws_destroy(&slots[t].ws);
            free(slots[t].times);
        }
        free(slots);
    }
    if (stopped) { /* agreed: every rank returns here, before the sums */
        free(pred);
        return stdbp_err_set(err, STDBP_ESTOPPED, "evaluation stopped by a signal");
    }
    stdbp_status st = stdbp_dist_sum_i64(comm, sums, 4, err); /* collective */
    if (st == STDBP_OK && classes) {
        st = pred ? STDBP_OK : stdbp_err_set(err, STDBP_ENOMEM, "out of memory");
        if ((st = stdbp_dist_agree(comm, st, err)) == STDBP_OK) /* collective */
            st = count_classes(comm, ds, idx, begin, end, pred, n_out, detail, err);
    }
    free(pred);
    if (st != STDBP_OK)
        return st;
    out->n = (uint64_t)sums[2];
    out->accuracy = sums[2] ? (double)sums[1] / (double)sums[2] : 0.0;
    out->loss = sums[3] ? NAN : sums[2] ? stdbp_grad_from_fixed(sums[0]) / (double)sums[2] : 0.0;
    return STDBP_OK;
}
