/* Test hooks; see test_hooks.h. */
#define STDBP_TEST_HOOKS /* the definition of the setter */
#include "util/test_hooks.h"

static stdbp_test_hooks hooks = {.ckpt_delay_ms = 0,
                                 .fail_data_rank = -1,
                                 .nan_step = 0,
                                 .fail_ckpt_step = 0,
                                 .fail_ckpt_rank = -1,
                                 .fail_spikes_step = 0,
                                 .fail_spikes_rank = -1,
                                 /* loading */
                                 .load_delay_ms = 0,
                                 .shm_fail = 0,
                                 /* evaluation */
                                 .eval_delay_ms = 0};

const stdbp_test_hooks *stdbp_test_hooks_get(void)
{
    return &hooks;
}

void stdbp_test_hooks_set(const stdbp_test_hooks *h)
{
    hooks = *h;
}
