/* The test hooks from the environment; see train_hooks.h. */
#include "tools/train_hooks.h"

#include <stdlib.h>

#include "util/test_hooks.h"

void stdbp_train_hooks_from_env(void)
{
    stdbp_test_hooks h = *stdbp_test_hooks_get();
    const char *s;
    if ((s = getenv("STDBP_TEST_CKPT_DELAY_MS")) && *s)
        h.ckpt_delay_ms = strtol(s, NULL, 10);
    if ((s = getenv("STDBP_TEST_FAIL_DATA_RANK")) && *s)
        h.fail_data_rank = atoi(s);
    if ((s = getenv("STDBP_TEST_NAN_STEP")) && *s)
        h.nan_step = strtoull(s, NULL, 10);
    if ((s = getenv("STDBP_TEST_FAIL_CKPT_STEP")) && *s)
        h.fail_ckpt_step = strtoull(s, NULL, 10);
    if ((s = getenv("STDBP_TEST_FAIL_CKPT_RANK")) && *s)
        h.fail_ckpt_rank = atoi(s);
    if ((s = getenv("STDBP_TEST_FAIL_SPIKES_STEP")) && *s)
        h.fail_spikes_step = strtoull(s, NULL, 10);
    if ((s = getenv("STDBP_TEST_FAIL_SPIKES_RANK")) && *s)
        h.fail_spikes_rank = atoi(s);
    /* loading */
    if ((s = getenv("STDBP_TEST_LOAD_DELAY_MS")) && *s)
        h.load_delay_ms = strtol(s, NULL, 10);
    if ((s = getenv("STDBP_TEST_SHM_FAIL")) && *s)
        h.shm_fail = atoi(s);
    /* evaluation */
    if ((s = getenv("STDBP_TEST_EVAL_DELAY_MS")) && *s)
        h.eval_delay_ms = strtol(s, NULL, 10);
    stdbp_test_hooks_set(&h);
}
