/* Learning-rate schedules against values worked out by hand. */
#include <math.h>

#include "stdbp/optim.h"
#include "tap/basic.h"

static void test_defaults(void)
{
    const stdbp_schedule s = stdbp_schedule_defaults();
    ok(s.kind == STDBP_SCHED_CONSTANT && s.warmup_epochs == 0 && s.step_epochs == 10 &&
           s.gamma == 0.5 && s.min_lr == 0 && s.total_epochs == 100,
       "defaults: constant, no warmup, step 10 x 0.5, cosine 100 epochs to 0");
    is_double(0.1, stdbp_schedule_lr(&s, 0.1, 0), 0, "constant at epoch 0");
    is_double(0.1, stdbp_schedule_lr(&s, 0.1, 57.3), 0, "constant at epoch 57.3");
}

static void test_step(void)
{
    stdbp_schedule s = stdbp_schedule_defaults();
    s.kind = STDBP_SCHED_STEP;
    is_double(0.1, stdbp_schedule_lr(&s, 0.1, 0), 0, "step: epoch 0");
    is_double(0.1, stdbp_schedule_lr(&s, 0.1, 9.99), 0, "step: epoch 9.99 not yet decayed");
    is_double(0.05, stdbp_schedule_lr(&s, 0.1, 10), 0, "step: epoch 10 halves");
    is_double(0.025, stdbp_schedule_lr(&s, 0.1, 25), 0, "step: epoch 25 is 0.1 / 4");
    s.step_epochs = 3;
    s.gamma = 0.1;
    is_double(0.01, stdbp_schedule_lr(&s, 1.0, 7), 1e-17,
              "step: 3 epochs x 0.1, epoch 7 is 2 decays");
}

static void test_cosine(void)
{
    stdbp_schedule s = stdbp_schedule_defaults();
    s.kind = STDBP_SCHED_COSINE;
    s.min_lr = 0.1;
    s.total_epochs = 10;
    is_double(1.0, stdbp_schedule_lr(&s, 1.0, 0), 0, "cosine starts at lr");
    is_double(0.55, stdbp_schedule_lr(&s, 1.0, 5), 1e-15, "cosine halfway: (lr + min) / 2");
    /* 0.1 + 0.45 (1 + cos(pi / 4)) */
    is_double(0.868198051533946, stdbp_schedule_lr(&s, 1.0, 2.5), 1e-15, "cosine at 1/4");
    is_double(0.1, stdbp_schedule_lr(&s, 1.0, 10), 0, "cosine ends exactly at min_lr");
    is_double(0.1, stdbp_schedule_lr(&s, 1.0, 20), 0, "cosine stays at min_lr after the end");
}

static void test_warmup(void)
{
    stdbp_schedule s = stdbp_schedule_defaults();
    s.warmup_epochs = 2;
    is_double(0.0, stdbp_schedule_lr(&s, 0.1, 0), 0, "warmup starts at 0");
    is_double(0.05, stdbp_schedule_lr(&s, 0.1, 1), 1e-17, "warmup halfway");
    is_double(0.1, stdbp_schedule_lr(&s, 0.1, 2), 0, "warmup done");
    s.kind = STDBP_SCHED_COSINE;
    s.total_epochs = 10;
    /* 1/2 of the cosine value at 1/10: 0.5 * 0.5 (1 + cos(pi / 10)) */
    is_double(0.48776412907378837, stdbp_schedule_lr(&s, 1.0, 1), 1e-15,
              "warmup scales the cosine");
    is_double(0.0, stdbp_schedule_lr(&s, 1.0, -3), 0, "negative epochs count as 0");
}

static void test_check(void)
{
    stdbp_err err;
    stdbp_schedule s = stdbp_schedule_defaults();
    is_int(STDBP_OK, stdbp_schedule_check(&s, &err), "defaults are valid");
    s.kind = STDBP_SCHED_STEP;
    s.step_epochs = 0;
    is_int(STDBP_EINVAL, stdbp_schedule_check(&s, &err), "step_epochs 0 is rejected");
    contains(err.msg, "step_epochs", "the message names step_epochs");
    s = stdbp_schedule_defaults();
    s.kind = STDBP_SCHED_STEP;
    s.gamma = 1.5;
    is_int(STDBP_EINVAL, stdbp_schedule_check(&s, &err), "gamma 1.5 is rejected");
    s = stdbp_schedule_defaults();
    s.kind = STDBP_SCHED_COSINE;
    s.total_epochs = 0;
    is_int(STDBP_EINVAL, stdbp_schedule_check(&s, &err), "cosine over 0 epochs is rejected");
    contains(err.msg, "total_epochs", "the message names total_epochs");
    s = stdbp_schedule_defaults();
    s.warmup_epochs = -1;
    is_int(STDBP_EINVAL, stdbp_schedule_check(&s, &err), "negative warmup is rejected");
}

int main(void)
{
    plan(25);
    test_defaults();
    test_step();
    test_cosine();
    test_warmup();
    test_check();
    return 0;
}
