/* Optimisers, learning-rate schedules and gradient remedies, all on flat
 * buffers. The optimiser state (moments, step count) is one flat array
 * that can be saved and restored exactly. Not collective: every rank
 * applies the same step to the same reduced gradient. */
#ifndef STDBP_OPTIM_H
#define STDBP_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "stdbp/error.h"
#include "stdbp/net.h"

typedef enum stdbp_optim_kind { STDBP_OPTIM_ADAM, STDBP_OPTIM_SGD } stdbp_optim_kind;

typedef struct stdbp_optim_params {
    stdbp_optim_kind kind;
    double lr;           /* base learning rate (default 1e-4 Adam) */
    double beta1, beta2; /* Adam moments (0.9, 0.999) */
    double eps;          /* Adam epsilon (1e-8) */
    double weight_decay; /* decoupled (AdamW-style, also for SGD) (0) */
    double momentum;     /* SGD momentum (0.9) */
    int nesterov;        /* SGD Nesterov momentum (0) */
} stdbp_optim_params;

stdbp_optim_params stdbp_optim_defaults(void);

typedef struct stdbp_optim stdbp_optim;

stdbp_status stdbp_optim_create(const stdbp_optim_params *p, size_t n_params,
                                stdbp_optim **out, stdbp_err *err) STDBP_WUR;
void stdbp_optim_destroy(stdbp_optim **opt);
/* params -= update(grad) with learning rate lr (from the schedule).
 * Cannot fail. */
void stdbp_optim_step(stdbp_optim *opt, double *params, const double *grad, double lr);
/* The state: a flat array of stdbp_optim_state_size doubles (Adam: m then
 * v; SGD: velocity) and the number of steps taken. Write into the array
 * and set the step count to restore. */
size_t stdbp_optim_state_size(const stdbp_optim *opt);
double *stdbp_optim_state(stdbp_optim *opt);
uint64_t stdbp_optim_steps(const stdbp_optim *opt);
void stdbp_optim_set_steps(stdbp_optim *opt, uint64_t steps);

typedef enum stdbp_sched_kind {
    STDBP_SCHED_CONSTANT,
    STDBP_SCHED_STEP,  /* lr * gamma^(floor(epoch / step_epochs)) */
    STDBP_SCHED_COSINE /* from lr to min_lr over total_epochs */
} stdbp_sched_kind;

typedef struct stdbp_schedule {
    stdbp_sched_kind kind;
    double warmup_epochs; /* linear ramp from 0 at the start (default 0) */
    double step_epochs;   /* STEP: epochs between decays (default 10) */
    double gamma;         /* STEP: decay factor (default 0.5) */
    double min_lr;        /* COSINE: floor (default 0) */
    double total_epochs;  /* COSINE: length (the run's epochs) */
} stdbp_schedule;

stdbp_schedule stdbp_schedule_defaults(void);
/* Learning rate at fractional epoch e (= step / steps_per_epoch). */
double stdbp_schedule_lr(const stdbp_schedule *s, double base_lr, double epoch);

/* Scale grad so its L2 norm is at most max_norm (INFINITY = off); returns
 * the norm before scaling. Cannot fail. */
double stdbp_grad_clip_norm(double *grad, size_t n, double max_norm);

/* Weight-sum penalty: lambda * sum_j max(0, margin * theta - sum_i w_ij)
 * over every spiking neuron j of every dense and conv layer; adds its
 * gradient into grad and returns its value. Keeps neurons from dying (a
 * neuron whose weights sum below theta may never fire). */
double stdbp_penalty_weight_sum(const stdbp_net *net, const double *params, double *grad,
                                double lambda, double margin);

#endif
