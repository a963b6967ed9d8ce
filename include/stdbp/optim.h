/* Optimisers, learning-rate schedules and gradient remedies, all on flat
 * buffers. The optimiser state (moments, step count) is one flat array
 * that can be saved and restored exactly. Not collective: every rank
 * applies the same step to the same reduced gradient. */
#ifndef STDBP_OPTIM_H
#define STDBP_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/api.h"
#include "stdbp/error.h"
#include "stdbp/net.h"

/* LAMB is Adam with a layer-wise trust ratio, LARS is SGD with momentum
 * with one (formulas below). */
typedef enum stdbp_optim_kind {
    STDBP_OPTIM_ADAM,
    STDBP_OPTIM_SGD,
    STDBP_OPTIM_LAMB,
    STDBP_OPTIM_LARS
} stdbp_optim_kind;

/* How lr follows the global batch B: not (NONE), lr B / lr_base_batch
 * (LINEAR) or lr sqrt(B / lr_base_batch) (SQRT). */
typedef enum stdbp_lr_scaling {
    STDBP_LR_SCALE_NONE,
    STDBP_LR_SCALE_LINEAR,
    STDBP_LR_SCALE_SQRT
} stdbp_lr_scaling;

typedef struct stdbp_optim_params {
    stdbp_optim_kind kind;
    double lr;                   /* base learning rate (default 1e-4 Adam) */
    double beta1, beta2;         /* Adam and LAMB moments (0.9, 0.999) */
    double eps;                  /* Adam, LAMB and LARS epsilon (1e-8) */
    double weight_decay;         /* decoupled (AdamW-style, also for SGD) (0) */
    double momentum;             /* SGD and LARS momentum (0.9) */
    int nesterov;                /* SGD and LARS Nesterov momentum (0) */
    stdbp_lr_scaling lr_scaling; /* (NONE) */
    double lr_base_batch;        /* the batch at which lr holds (0: unset) */
    double trust_coef;           /* LAMB and LARS: scales the trust ratio (1) */
} stdbp_optim_params;

/* Defaults as documented above (Adam). Cannot fail. */
STDBP_API stdbp_optim_params stdbp_optim_defaults(void);
/* The learning rate at global batch batch: p->lr scaled by p->lr_scaling
 * (lr * (batch / lr_base_batch), or lr * sqrt(batch / lr_base_batch), in
 * doubles); p->lr itself when NONE or lr_base_batch is not > 0. Cannot
 * fail. */
STDBP_API double stdbp_optim_scaled_lr(const stdbp_optim_params *p, long batch);

/* Adam (AdamW): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   p -= lr (m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) + weight_decay p).
 * SGD: u = momentum u + g; d = u, or g + momentum u with Nesterov;
 *   p -= lr (d + weight_decay p).
 * Weight decay is decoupled: it never enters the moments. */
typedef struct stdbp_optim stdbp_optim;

/* LAMB: m and v as Adam, then per tensor T (one layer's weights; see
 * stdbp_optim_use_layers) the update r = mhat / (sqrt(vhat) + eps) + wd p
 * and p -= lr q r with the trust ratio
 *   q = trust_coef ||p_T|| / ||r_T||  (1 when either norm is 0).
 * LARS: per tensor, the local rate
 *   q = trust_coef ||p_T|| / (||g_T|| + wd ||p_T|| + eps)  (1 when ||p_T||
 *   or ||g_T|| is 0),
 * d = q (g + wd p); u = momentum u + d; p -= lr u (Nesterov: lr (d +
 * momentum u)).
 * The norms are computed so that they do not depend on how the buffer is
 * cut into slices: each square x * x (one double rounding) is added
 * exactly into an integer accumulator (stdbp_optim_norms_slice); the sums
 * of such accumulators over any slicing are the same integers, and the
 * norm is sqrt of their value rounded to a double (the same bits on every
 * rank). */
STDBP_API int stdbp_optim_is_layerwise(stdbp_optim_kind kind);

/* Checks p (lr > 0, betas and momentum in [0, 1), eps > 0, weight_decay
 * >= 0, Nesterov only with momentum; STDBP_EINVAL naming the field) and
 * allocates a zero state. Not collective. */
STDBP_API stdbp_status stdbp_optim_create(const stdbp_optim_params *p, size_t n_params,
                                          stdbp_optim **out, stdbp_err *err) STDBP_WUR;
/* Frees; NULLs *opt; accepts NULL. */
STDBP_API void stdbp_optim_destroy(stdbp_optim **opt);
/* params -= update(grad) with learning rate lr (from the schedule).
 * Cannot fail. */
STDBP_API void stdbp_optim_step(stdbp_optim *opt, double *params, const double *grad, double lr);
/* The same step restricted to the parameters [lo, hi) (clamped to the
 * model): only those parameters and their state change, and each gets
 * bitwise what stdbp_optim_step would give it (layer-wise kinds: only
 * when [lo, hi) cuts no layer; else use the two halves below). Counts as
 * one step. The sharded update calls it on each rank's slice. Cannot
 * fail. */
STDBP_API void stdbp_optim_step_slice(stdbp_optim *opt, double *params, const double *grad,
                                      double lr, size_t lo, size_t hi);
/* Layer-wise kinds: the tensors are the layers of net that have
 * parameters (stdbp_layer_info param_offset / param_count; net must have
 * the optimiser's parameter count, else STDBP_EINVAL). Until it is
 * called, the whole buffer is one tensor. Other kinds ignore it. Not
 * collective. */
STDBP_API stdbp_status stdbp_optim_use_layers(stdbp_optim *opt, const stdbp_net *net,
                                              stdbp_err *err) STDBP_WUR;
/* The number of int64 values of the norm accumulator: 0 for Adam and SGD,
 * else 2 * tensors * STDBP_OPTIM_NORM_LIMBS. */
#define STDBP_OPTIM_NORM_LIMBS 67
STDBP_API size_t stdbp_optim_norm_size(const stdbp_optim *opt);
/* The sharded update of a layer-wise kind, in two halves. First each rank
 * writes into acc (norm_size values, overwritten) the exact sums of
 * squares of its parameters [lo, hi) (||p||) and of their LAMB update r
 * or LARS gradient g, per tensor, reading only that slice (and not
 * changing anything); the ranks sum acc elementwise (int64 sums:
 * stdbp_dist_sum_i64, any order), and then each steps its slice with
 * the summed acc: every parameter gets bitwise what stdbp_optim_step would
 * give it, whatever the slices. stdbp_optim_step_slice on a layer-wise
 * kind takes the norms of the slice alone. Not collective; cannot fail.
 * Each counts 0 / 1 step. */
STDBP_API void stdbp_optim_norms_slice(const stdbp_optim *opt, const double *params,
                                       const double *grad, size_t lo, size_t hi, int64_t *acc);
STDBP_API void stdbp_optim_step_slice_norms(stdbp_optim *opt, double *params, const double *grad,
                                            double lr, size_t lo, size_t hi, const int64_t *acc);
/* The state holds this many arrays of one value per parameter, one after
 * the other (Adam and LAMB 2: m, v; SGD and LARS 1: velocity). */
STDBP_API size_t stdbp_optim_state_arrays(const stdbp_optim *opt);
/* The state: a flat array of stdbp_optim_state_size doubles (Adam: m then
 * v, 2 n; SGD: velocity, n) owned by opt, and the number of steps taken.
 * Write into the array and set the step count to restore: a fresh
 * optimiser so restored continues bitwise as the original would. */
STDBP_API size_t stdbp_optim_state_size(const stdbp_optim *opt);
STDBP_API double *stdbp_optim_state(stdbp_optim *opt);
STDBP_API uint64_t stdbp_optim_steps(const stdbp_optim *opt);
STDBP_API void stdbp_optim_set_steps(stdbp_optim *opt, uint64_t steps);

typedef enum stdbp_sched_kind {
    STDBP_SCHED_CONSTANT,
    STDBP_SCHED_STEP,  /* lr * gamma^(floor(epoch / step_epochs)) */
    STDBP_SCHED_COSINE /* from lr to min_lr over total_epochs */
} stdbp_sched_kind;

/* COSINE: min_lr + (lr - min_lr) (1 + cos(pi min(e / total, 1))) / 2.
 * Warmup multiplies any kind by e / warmup_epochs while e < warmup_epochs,
 * so the curve stays continuous and the formulas hold after it. */
typedef struct stdbp_schedule {
    stdbp_sched_kind kind;
    double warmup_epochs; /* linear ramp from 0 at the start (default 0) */
    double warmup_steps;  /* or over steps (stdbp_schedule_lr_step) (0) */
    double step_epochs;   /* STEP: epochs between decays (default 10) */
    double gamma;         /* STEP: decay factor (default 0.5) */
    double min_lr;        /* COSINE: floor (default 0) */
    double total_epochs;  /* COSINE: length; set it to the run's epochs
                             (default 100) */
} stdbp_schedule;

/* CONSTANT with the defaults above. Cannot fail. */
STDBP_API stdbp_schedule stdbp_schedule_defaults(void);
/* STDBP_EINVAL naming the field when s cannot give a sensible curve
 * (negative warmup or warmup_steps, step_epochs <= 0, gamma outside (0, 1], cosine
 * total_epochs <= 0, negative min_lr). Not collective. */
STDBP_API stdbp_status stdbp_schedule_check(const stdbp_schedule *s, stdbp_err *err) STDBP_WUR;
/* Learning rate at fractional epoch e (= step / steps_per_epoch); e < 0
 * counts as 0. Cannot fail. */
STDBP_API double stdbp_schedule_lr(const stdbp_schedule *s, double base_lr, double epoch);
/* The same for the step numbered step (from 0) at fractional epoch
 * epoch, with warmup_steps too: while step + 1 < warmup_steps, the rate
 * is multiplied by (step + 1) / warmup_steps. Cannot fail. */
STDBP_API double stdbp_schedule_lr_step(const stdbp_schedule *s, double base_lr, double epoch,
                                        uint64_t step);

/* Scale grad so its L2 norm is at most max_norm (INFINITY = off); returns
 * the norm before scaling. A NaN or infinite norm leaves grad untouched
 * (check the return value to report it). Cannot fail. */
STDBP_API double stdbp_grad_clip_norm(double *grad, size_t n, double max_norm);

/* Weight-sum penalty: lambda * sum_j max(0, margin * theta - sum_i w_ij)
 * over every spiking neuron j of every dense and conv layer; adds its
 * gradient (-lambda on each fan-in weight of an active j, 0 at the kink)
 * into grad (may be NULL) and returns its value. A conv neuron is an
 * output channel: its fan-in is the c_in*k*k weights it shares across
 * positions. params has stdbp_net_num_params values laid out as net's.
 * Keeps neurons from dying (a neuron whose weights sum below theta may
 * never fire). Not collective; cannot fail; no allocation. */
STDBP_API double stdbp_penalty_weight_sum(const stdbp_net *net, const double *params, double *grad,
                                          double lambda, double margin);

/* The same penalty in two halves, for the sharded update, where no rank
 * need read every weight. Number the penalised neurons (the columns of
 * every dense and conv layer, layer after layer) 0 .. columns - 1.
 * stdbp_penalty_slopes writes slope[c] for the neurons c in [c_lo, c_hi):
 * -lambda where the neuron's weights sum below margin * theta, else 0
 * (slope has columns entries; the others are left alone); it reads only
 * those neurons' weights and returns their part of the penalty's value.
 * stdbp_penalty_add_slopes adds to grad[k], for the parameters k in
 * [lo, hi), the non-zero slope of k's neuron. Together over all neurons
 * and all parameters they change grad to the bit as
 * stdbp_penalty_weight_sum does. Not collective; cannot fail. */
STDBP_API size_t stdbp_penalty_columns(const stdbp_net *net);
STDBP_API double stdbp_penalty_slopes(const stdbp_net *net, const double *params, double lambda,
                                      double margin, size_t c_lo, size_t c_hi, double *slope);
STDBP_API void stdbp_penalty_add_slopes(const stdbp_net *net, const double *slope, double *grad,
                                        size_t lo, size_t hi);

#endif
