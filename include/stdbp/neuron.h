/* The ReL-PSP neuron on its own: reference solver for one neuron.
 *
 * Kernel K(x) = max(x, 0); V(t) = sum_i w_i K(t - t_i); the neuron fires
 * once, the first time V reaches theta. Closed form (docs/ARCHITECTURE.md, "The model"):
 * go through the fired inputs in time order, equal times together, keeping
 * S = sum w and R = sum w t; after each group, if S > 0 the candidate is
 * (theta + R) / S, and it fires there if that is no later than the next
 * group's time and than t_max. The test is made as theta + R <= lim * S,
 * exactly as the layers' kernel makes it, so both agree to the last bit;
 * the time returned is (theta + R) / S, capped at t_max (rounding could
 * put it an ulp past). A candidate that overflows (S tiny) is silent.
 * Not collective; cannot fail; no allocation. */
#ifndef STDBP_NEURON_H
#define STDBP_NEURON_H

#include "stdbp/api.h"

#include <stddef.h>

typedef struct stdbp_fire {
    double t;        /* firing time, INFINITY if silent */
    size_t n_causal; /* inputs (in time order) in the causal set; 0 if silent */
    double s;        /* sum of the causal weights (S_j); 0 if silent */
} stdbp_fire;

/* t_in must be sorted ascending (INFINITY = silent input, at the end);
 * w_in the matching weights; t_max the window (INFINITY for none). */
STDBP_API stdbp_fire stdbp_relpsp_fire(const double *t_in, const double *w_in, size_t n,
                                       double theta, double t_max);

#endif
