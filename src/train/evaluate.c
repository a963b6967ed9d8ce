/* Evaluation split across ranks; see stdbp_evaluate in train.h. */
#include <math.h>

#include "stdbp/dist.h"
#include "stdbp/loss.h"
#include "stdbp/train.h"

stdbp_status stdbp_evaluate(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                            const stdbp_dataset *ds, const size_t *idx, size_t n,
                            const stdbp_encoding *enc, const stdbp_loss_params *loss,
                            double *times_buf, stdbp_eval_result *out, stdbp_err *err)
{
    int rank, size;
    size_t begin, end, n_out = stdbp_net_output_size(net);
    double dl_dt[4096];
    /* loss (fixed point), correct, samples, non-finite losses */
    int64_t sums[4] = {0, 0, 0, 0};

    if (n_out > sizeof dl_dt / sizeof dl_dt[0])
        return stdbp_err_set(err, STDBP_EINVAL, "evaluate: %zu outputs, at most 4096", n_out);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    stdbp_shard(n, rank, size, &begin, &end);
    for (size_t k = begin; k < end; k++) {
        size_t i = idx ? idx[k] : k;
        stdbp_encode(enc, ds, i, times_buf);
        const double *t_out = stdbp_net_forward(net, ws, times_buf);
        double l = stdbp_loss_softmax_ce(loss, t_out, n_out, ds->labels[i], dl_dt);
        if (isfinite(l))
            sums[0] += stdbp_grad_to_fixed(l);
        else
            sums[3]++;
        sums[1] += stdbp_classify(t_out, n_out) == ds->labels[i];
        sums[2]++;
    }
    stdbp_status st = stdbp_dist_sum_i64(comm, sums, 4, err); /* collective */
    if (st != STDBP_OK)
        return st;
    out->n = (uint64_t)sums[2];
    out->accuracy = sums[2] ? (double)sums[1] / (double)sums[2] : 0.0;
    out->loss = sums[3] ? NAN : sums[2] ? stdbp_grad_from_fixed(sums[0]) / (double)sums[2] : 0.0;
    return STDBP_OK;
}
