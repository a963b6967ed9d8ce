/* Test hooks (private): faults that the tests inject into a real run, to
 * check that every rank stops cleanly. The library only reads them, and
 * they are all off unless a test program built with -DSTDBP_TEST_HOOKS
 * sets them (tests/tools/stdbp_train_hooked, tests/unit/test_ckpt): the
 * setter is declared for such code only, and nothing here is exported or
 * read from the environment. Not collective; set them before starting. */
#ifndef STDBP_UTIL_TEST_HOOKS_H
#define STDBP_UTIL_TEST_HOOKS_H

#include <stdint.h>

typedef struct stdbp_test_hooks {
    long ckpt_delay_ms;        /* every rank sleeps this long after each checkpoint
                                  dataset it writes (a kill lands mid-write); 0: off */
    int fail_data_rank;        /* this rank fails to load the training data; -1: off */
    uint64_t nan_step;         /* the last layer's weights turn NaN before this step
                                  (1-based); 0: off */
    uint64_t fail_ckpt_step;   /* the Nth fallible step (1-based) of every
                                  checkpoint write fails on rank
                                  fail_ckpt_rank, after the HDF5 call it
                                  checks succeeded; 0: off */
    int fail_ckpt_rank;        /* -1: on every rank */
    uint64_t fail_spikes_step; /* the Nth fallible step (1-based) of every
                                  spike-log session (stdbp_spikelog_open,
                                  its writes and close) fails on rank
                                  fail_spikes_rank, after the HDF5 call it
                                  checks succeeded; 0: off */
    int fail_spikes_rank;      /* -1: on every rank */
    /* Loading (signals during data loading). */
    long load_delay_ms; /* every rank sleeps this long before each chunk of
                           the data sets it reads (a signal lands
                           mid-load); 0: off */
    int shm_fail;       /* creating a shared-memory window for a data set
                           fails (data.shared_memory: auto falls back to
                           private copies); 0: off */
    /* Evaluation (signals during the end-of-epoch evaluation). */
    long eval_delay_ms; /* every rank sleeps this long before each chunk of
                           the end-of-epoch evaluation (a signal lands
                           mid-evaluation); 0: off */
    int best_no_link;   /* stdbp_ckpt_mark_best copies instead of linking
                           (a file system without hard links); 0: off */
} stdbp_test_hooks;

/* The hooks in force (all off by default). Cannot fail. */
const stdbp_test_hooks *stdbp_test_hooks_get(void);

#ifdef STDBP_TEST_HOOKS
/* Replace the hooks in force. */
void stdbp_test_hooks_set(const stdbp_test_hooks *hooks);
#endif

#endif
