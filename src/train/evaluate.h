/* Evaluation that a stop signal can end early (private to the library):
 * the trainer's end-of-epoch evaluation, which may take minutes on few
 * ranks, longer than a scheduler waits between SIGTERM and SIGKILL. */
#ifndef STDBP_TRAIN_EVALUATE_H
#define STDBP_TRAIN_EVALUATE_H

#include <mpi.h>

#include "stdbp/error.h"
#include "stdbp/train.h"

/* Collective on comm: stdbp_evaluate_detail, with stop (NULL: never)
 * called on every rank before each chunk of the evaluation (about 1 % of
 * the largest rank's share, at least 256 samples; as many chunks on every
 * rank). The answers are combined, so when any rank's is non-zero every
 * rank returns STDBP_ESTOPPED at the same chunk, with out untouched. */
stdbp_status stdbp_evaluate_stoppable(MPI_Comm comm, const stdbp_net *net, stdbp_ws *ws,
                                      const stdbp_dataset *ds, const size_t *idx, size_t n,
                                      const stdbp_encoding *enc, const stdbp_loss_params *loss,
                                      double *times_buf, const stdbp_eval_detail *detail,
                                      int (*stop)(void), stdbp_eval_result *out,
                                      stdbp_err *err) STDBP_WUR;

#endif
