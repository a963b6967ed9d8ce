/* tests/tools/stdbp_train_hooked: stdbp_train built with -DSTDBP_TEST_HOOKS,
 * for the integration tests that inject faults into a real run. */
#ifndef STDBP_TESTS_TRAIN_HOOKS_H
#define STDBP_TESTS_TRAIN_HOOKS_H

/* Not collective: set the library's test hooks (util/test_hooks.h) from
 * the environment, each variable unset or empty leaving its hook off:
 *   STDBP_TEST_CKPT_DELAY_MS=N   every rank sleeps N ms after each
 *                                checkpoint dataset it writes
 *   STDBP_TEST_FAIL_DATA_RANK=R  rank R fails to load the training data
 *   STDBP_TEST_NAN_STEP=S        the last layer's weights turn NaN before
 *                                step S (1-based)
 *   STDBP_TEST_FAIL_CKPT_STEP=N  the Nth fallible step of every checkpoint
 *                                write fails (1-based) ...
 *   STDBP_TEST_FAIL_CKPT_RANK=R  ... on rank R only (unset: every rank)
 *   STDBP_TEST_LOAD_DELAY_MS=N   every rank sleeps N ms before each chunk
 *                                of the data sets it loads
 *   STDBP_TEST_SHM_FAIL=1        no shared-memory window can be created
 *                                for a data set (data.shared_memory)
 *   STDBP_TEST_EVAL_DELAY_MS=N   every rank sleeps N ms before each chunk
 *                                of the end-of-epoch evaluation */
void stdbp_train_hooks_from_env(void);

#endif
