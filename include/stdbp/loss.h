/* Loss over output spike times, and classification.
 *
 * Softmax cross-entropy over negative output times scaled by beta:
 *   p_k = exp(-beta t_k) / sum_m exp(-beta t_m),  L = -log p_label.
 * Silent outputs (t = INFINITY) enter the softmax as t = silent_time.
 * Their gradient rule (so that training cannot stall on a dead output):
 *   - a silent non-label output gets dL/dt = 0 (it is already as late as
 *     it can be);
 *   - a silent label output keeps its dL/dt = beta (1 - p_label) > 0
 *     (the loss wants it earlier), which the output layer's backward turns
 *     into a push on all its fired inputs' weights (stdbp_net_backward).
 * Otherwise dL/dt_k = -beta (p_k - [k == label]): the label's is >= 0,
 * the others' <= 0. silent_time should be later than any time an output
 * actually fires, or a late spike would rank below silence.
 * L is computed as beta (t_label - t_min) + log sum_m exp(-beta (t_m -
 * t_min)), which cannot overflow for any finite beta * t.
 * Classification: the earliest output spike; ties go to the lowest index;
 * if every output is silent the prediction is -1 (always counted wrong).
 * Not collective; cannot fail; no allocation. */
#ifndef STDBP_LOSS_H
#define STDBP_LOSS_H

#include "stdbp/api.h"

#include <stddef.h>

typedef struct stdbp_loss_params {
    double beta;        /* temperature on the times (default 20) */
    double silent_time; /* time given to silent outputs (default 3) */
} stdbp_loss_params;

STDBP_API stdbp_loss_params stdbp_loss_defaults(void);

/* Returns L for one sample and writes dL/dt_k into dl_dt (n values).
 * A label outside [0, n) returns NaN with dl_dt all zero. */
STDBP_API double stdbp_loss_softmax_ce(const stdbp_loss_params *p, const double *t_out, size_t n,
                                       int label, double *dl_dt);

/* Earliest output, ties to the lowest index, -1 when all are silent. */
STDBP_API int stdbp_classify(const double *t_out, size_t n);

#endif
