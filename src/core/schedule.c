/* Learning-rate schedules; see include/stdbp/optim.h. */
#include "stdbp/optim.h"

#include <math.h>

stdbp_schedule stdbp_schedule_defaults(void)
{
    stdbp_schedule s;
    s.kind = STDBP_SCHED_CONSTANT;
    s.warmup_epochs = 0.0;
    s.warmup_steps = 0.0;
    s.step_epochs = 10.0;
    s.gamma = 0.5;
    s.min_lr = 0.0;
    s.total_epochs = 100.0;
    return s;
}

stdbp_status stdbp_schedule_check(const stdbp_schedule *s, stdbp_err *err)
{
    if (s->kind != STDBP_SCHED_CONSTANT && s->kind != STDBP_SCHED_STEP &&
        s->kind != STDBP_SCHED_COSINE)
        return stdbp_err_set(err, STDBP_EINVAL, "schedule: unknown kind %d", (int)s->kind);
    if (!(s->warmup_epochs >= 0 && s->warmup_epochs < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "schedule: warmup_epochs must be finite and >= 0 (got %g)",
                             s->warmup_epochs);
    if (!(s->warmup_steps >= 0 && s->warmup_steps < INFINITY))
        return stdbp_err_set(err, STDBP_EINVAL,
                             "schedule: warmup_steps must be finite and >= 0 (got %g)",
                             s->warmup_steps);
    if (s->kind == STDBP_SCHED_STEP) {
        if (!(s->step_epochs > 0 && s->step_epochs < INFINITY))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "schedule: step_epochs must be finite and > 0 (got %g)",
                                 s->step_epochs);
        if (!(s->gamma > 0 && s->gamma <= 1))
            return stdbp_err_set(err, STDBP_EINVAL, "schedule: gamma must be in (0, 1] (got %g)",
                                 s->gamma);
    }
    if (s->kind == STDBP_SCHED_COSINE) {
        if (!(s->total_epochs > 0 && s->total_epochs < INFINITY))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "schedule: total_epochs must be finite and > 0 (got %g)",
                                 s->total_epochs);
        if (!(s->min_lr >= 0 && s->min_lr < INFINITY))
            return stdbp_err_set(err, STDBP_EINVAL,
                                 "schedule: min_lr must be finite and >= 0 (got %g)", s->min_lr);
    }
    return STDBP_OK;
}

double stdbp_schedule_lr(const stdbp_schedule *s, double base_lr, double epoch)
{
    double lr = base_lr;
    if (!(epoch > 0))
        epoch = 0; /* also maps NaN to the start */
    switch (s->kind) {
    case STDBP_SCHED_CONSTANT:
        break;
    case STDBP_SCHED_STEP:
        if (s->step_epochs > 0)
            lr = base_lr * pow(s->gamma, floor(epoch / s->step_epochs));
        break;
    case STDBP_SCHED_COSINE:
        if (s->total_epochs > 0) {
            const double x = fmin(epoch / s->total_epochs, 1.0);
            lr = s->min_lr + 0.5 * (base_lr - s->min_lr) * (1.0 + cos(3.141592653589793 * x));
        }
        break;
    }
    /* Warmup scales whatever the schedule gives, so the curve is continuous
     * for every kind and the formulas above hold unchanged after it. */
    if (s->warmup_epochs > 0 && epoch < s->warmup_epochs)
        lr *= epoch / s->warmup_epochs;
    return lr;
}

double stdbp_schedule_lr_step(const stdbp_schedule *s, double base_lr, double epoch, uint64_t step)
{
    double lr = stdbp_schedule_lr(s, base_lr, epoch);
    const double k = (double)step + 1.0;
    if (s->warmup_steps > 0 && k < s->warmup_steps)
        lr *= k / s->warmup_steps;
    return lr;
}
