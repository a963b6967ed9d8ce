/* The ReL-PSP kernels shared by dense and conv2d (private).
 *
 * One call serves m neurons that see the same time-sorted list of input
 * events: event p has time ev->t[p] and the weight row w + ev->row[p] * m
 * (its m weights to the m neurons, contiguous). Every inner loop runs over
 * the m neurons; the code is in relpsp_fwd.c and relpsp_bwd.c, in plain
 * C, AVX2 and AVX-512 builds that give the same bits (relpsp_isa.h).
 *
 * Causal counts are kept as doubles (exact below 2^53): the masks
 * "p < nc[j]" then stay in double lanes (SSE2 has no 64-bit integer
 * compare) and the loops vectorise. Not collective; no allocation. */
#ifndef STDBP_CORE_RELPSP_H
#define STDBP_CORE_RELPSP_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

#include "stdbp/net.h"

typedef struct stdbp_events {
    size_t n;            /* number of events */
    const double *t;     /* times, ascending, finite */
    const uint32_t *row; /* weight row of each event */
} stdbp_events;

/* Fire times (INFINITY if silent), causal counts (events in the causal
 * set; 0 if silent) and S_j (0 if silent) of m neurons, the same as
 * stdbp_relpsp_fire on each, to the bit; acc is 2 m scratch. Stops early once all m
 * have fired or the next event is past t_max. Returns the number of
 * events read. */
size_t stdbp_relpsp_forward(const stdbp_events *ev, const double *w, size_t m, double theta,
                            double t_max, double *acc, double *t_out, double *nc, double *s);

/* What a candidate c = (theta + R) / S may not pass: the next input's
 * time, the window and DBL_MAX (a c that overflowed does not fire). The
 * test c <= lim is made as theta + R <= lim * S (S > 0): no division in
 * the kernel's inner loop, and the reference makes the same test so that
 * both take the same decisions to the last bit. */
static inline double stdbp_relpsp_fire_limit(double next, double t_max)
{
    const double a = next < t_max ? next : t_max;
    return a < DBL_MAX ? a : DBL_MAX;
}

/* The firing time; rounding may put it an ulp past the limit the test
 * passed, and the window is kept exactly. */
static inline double stdbp_relpsp_fire_time(double theta, double r, double s, double t_max)
{
    const double c = (theta + r) / s;
    return c < t_max ? c : t_max;
}

/* Per-neuron terms of the backward pass (m each, caller's memory). */
typedef struct stdbp_relpsp_grad {
    double *g;            /* clip(dL/dt_j / S_j, +-grad_clip); 0 = no gradient */
    double *te;           /* firing time used for dW (silent_time for surrogates) */
    double *nc;           /* causal count; 0 where g is 0 */
    double g_max, te_max; /* max |g|, max |te|: bound |dW| */
} stdbp_relpsp_grad;

/* Floor on S for the silent-output surrogate, as a fraction of theta: a
 * neuron whose fired inputs sum to less than theta / 100 would need over
 * 100 time units to reach theta; treating S as at least that keeps the
 * push dL/dt / S finite (grad_clip then bounds it). */
#define STDBP_SURROGATE_S_FLOOR 0.01

/* Fill gr from the forward results and dl (dL/dt of the m neurons). With
 * surrogate != 0, a silent neuron with dl != 0 is treated as firing at
 * np->silent_time with the events before that time causal (none: no
 * gradient) and S = max(sum of their
 * weights, STDBP_SURROGATE_S_FLOOR * theta); acc is m scratch for that
 * sum. Returns the number of events backward must visit (max nc). Sets
 * *bad if a g is NaN or Inf. */
size_t stdbp_relpsp_grad_prepare(const stdbp_events *ev, const double *w, size_t m,
                                 const double *t_out, const double *nc, const double *s,
                                 const double *dl, int surrogate, const stdbp_neuron_params *np,
                                 double *acc, stdbp_relpsp_grad *gr, int *bad);

/* Backward over events p < n: dL/dt of event p into dt_ev[p]; dW of
 * event p's row added (double) to dw + row * m. */
void stdbp_relpsp_backward_acc(const stdbp_events *ev, size_t n, const double *w, size_t m,
                               const stdbp_relpsp_grad *gr, double *dw, double *dt_ev);

/* Same, but each dW term is rounded to fixed point (grad_fixed.h) and
 * added to acc + row * m: for layers where every weight gets at most one
 * term per sample (dense). dt_ev NULL: dL/dt of the events is not needed,
 * and the weights are not read. Returns nonzero if a dW or dt was NaN or
 * Inf. */
int stdbp_relpsp_backward_fixed(const stdbp_events *ev, size_t n, const double *w, size_t m,
                                const stdbp_relpsp_grad *gr, int64_t *acc, double *dt_ev);

#endif
