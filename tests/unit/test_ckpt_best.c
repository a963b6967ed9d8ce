/* The best checkpoint (stdbp_ckpt_mark_best): best.h5 is a hard link to
 * the checkpoint it marks, outlives the pruning of that checkpoint's
 * name, is replaced whole by the next one, is a verified copy where no
 * hard link can be made (the test hook), and is never taken for the
 * newest checkpoint; stdbp_ckpt_list_after lists it when it is later than
 * the step asked about. */
/* The test hooks' setter (util/test_hooks.h) is for test code only. */
#define STDBP_TEST_HOOKS

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/test_hooks.h"
#include "stdbp/ckpt.h"
#include "stdbp/stdbp.h"
#include "tap/basic.h"
#include "tap/ckpt_fixture.h"

static const char *config_text = "run:\n  name: best\n";

/* Is a the same file as b (one inode, two names)? */
static int same_inode(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

/* The step a checkpoint file stores (0 when it does not read). */
static uint64_t stored_step(const char *path, stdbp_net *net, stdbp_optim *opt)
{
    stdbp_train_state st;
    stdbp_err err;
    memset(&st, 0, sizeof st);
    if (stdbp_ckpt_read(MPI_COMM_WORLD, path, net, opt, &st, NULL, &err) != STDBP_OK)
        return 0;
    return st.step;
}

/* Write the checkpoint of step (keep: the newest K) into dir. */
static int write_step(const char *dir, stdbp_net *net, stdbp_optim *opt, uint64_t step, int keep,
                      char *path, size_t len)
{
    stdbp_train_state st;
    stdbp_err err;
    memset(&st, 0, sizeof st);
    st.step = step;
    return stdbp_ckpt_write(MPI_COMM_WORLD, dir, net, opt, &st, config_text, keep, path, len,
                            &err) == STDBP_OK;
}

int main(int argc, char **argv)
{
    char dir[4096], best[4096], tmp[4096], p1[4096], p2[4096], p3[4096], found[4096];
    stdbp_err err;
    stdbp_status s;
    char **later = NULL;
    size_t n = 0;

    MPI_Init(&argc, &argv);
    plan(23);
    fixture_run_dir(MPI_COMM_WORLD, NULL, "run", dir, sizeof dir);
    stdbp_layer_spec specs[2] = {{STDBP_LAYER_DENSE, 8, 0, 0, 0}, {STDBP_LAYER_DENSE, 10, 0, 0, 0}};
    stdbp_net *net = fixture_net((stdbp_shape){1, 4, 4}, specs, 2);
    stdbp_optim *opt = fixture_optim(STDBP_OPTIM_ADAM, stdbp_net_num_params(net));
    PATHF(best, "%s/checkpoints/best.h5", dir);
    PATHF(tmp, "%s/checkpoints/.best.h5.tmp", dir);

    /* --- A link to the marked checkpoint, kept when its name is pruned -- */
    ok(write_step(dir, net, opt, 10, 1, p1, sizeof p1), "write step 10 (keep 1)");
    s = stdbp_ckpt_mark_best(dir, p1, &err);
    is_int(STDBP_OK, s, "mark step 10 as the best (%s)", s ? err.msg : "ok");
    ok(same_inode(best, p1), "best.h5 is a hard link to ckpt-0000000010.h5");
    ok(!fixture_exists(tmp), "no temporary is left");
    s = stdbp_ckpt_mark_best(dir, p1, &err);
    ok(s == STDBP_OK && same_inode(best, p1) && !fixture_exists(tmp),
       "marking the same checkpoint again changes nothing and leaves no temporary");
    ok(write_step(dir, net, opt, 20, 1, p2, sizeof p2), "write step 20 (keep 1)");
    ok(!fixture_exists(p1), "pruning removed ckpt-0000000010.h5");
    is_int(10, (int)stored_step(best, net, opt), "best.h5 still holds step 10, and verifies");
    s = stdbp_ckpt_find_latest(MPI_COMM_WORLD, dir, found, sizeof found, &err);
    ok(s == STDBP_OK && strcmp(found, p2) == 0, "the newest checkpoint is step 20, not best.h5");

    /* --- Later than a resume point: listed with the later checkpoints --- */
    s = stdbp_ckpt_list_after(dir, 5, &later, &n, &err);
    ok(s == STDBP_OK && n == 2 && strcmp(later[0], p2) == 0 && strcmp(later[1], best) == 0,
       "after step 5: ckpt-0000000020.h5, then best.h5 (%zu listed)", n);
    stdbp_ckpt_paths_free(later, n);
    s = stdbp_ckpt_list_after(dir, 10, &later, &n, &err);
    ok(s == STDBP_OK && n == 1 && strcmp(later[0], p2) == 0,
       "after step 10: ckpt-0000000020.h5 only (best.h5 is not later)");
    stdbp_ckpt_paths_free(later, n);

    /* --- The next best replaces it whole --------------------------------- */
    s = stdbp_ckpt_mark_best(dir, p2, &err);
    ok(s == STDBP_OK && same_inode(best, p2), "mark step 20: best.h5 is its link now");
    is_int(20, (int)stored_step(best, net, opt), "best.h5 holds step 20");

    /* --- No hard links: a copy, synced and whole ------------------------- */
    stdbp_test_hooks hooks = *stdbp_test_hooks_get();
    hooks.best_no_link = 1;
    stdbp_test_hooks_set(&hooks);
    ok(write_step(dir, net, opt, 30, 1, p3, sizeof p3), "write step 30 (keep 1)");
    FILE *stale = fopen(tmp, "w"); /* as a process killed mid-copy leaves it */
    if (stale)
        fclose(stale);
    s = stdbp_ckpt_mark_best(dir, p3, &err);
    is_int(STDBP_OK, s, "mark step 30 without hard links (%s)", s ? err.msg : "ok");
    ok(!same_inode(best, p3), "best.h5 is a copy, not a link");
    is_int(30, (int)stored_step(best, net, opt), "the copy verifies and holds step 30");
    ok(!fixture_exists(tmp), "the stale temporary is gone");
    hooks.best_no_link = 0;
    stdbp_test_hooks_set(&hooks);

    /* --- Failures name the file and leave best.h5 as it was -------------- */
    PATHF(found, "%s/checkpoints/ckpt-0000000099.h5", dir);
    hooks.best_no_link = 1; /* a missing file cannot be linked, nor copied */
    stdbp_test_hooks_set(&hooks);
    s = stdbp_ckpt_mark_best(dir, found, &err);
    is_int(STDBP_EIO, s, "marking a missing checkpoint fails");
    ok(strstr(err.msg, "ckpt-0000000099.h5") != NULL, "... naming it: %s", err.msg);
    is_int(30, (int)stored_step(best, net, opt), "... and best.h5 still holds step 30");
    ok(!fixture_exists(tmp), "... with no temporary left");
    hooks.best_no_link = 0;
    stdbp_test_hooks_set(&hooks);
    s = stdbp_ckpt_mark_best(NULL, p3, &err);
    is_int(STDBP_EINVAL, s, "a NULL run directory is STDBP_EINVAL");

    stdbp_optim_destroy(&opt);
    stdbp_net_destroy(&net);
    MPI_Finalize();
    return 0;
}
