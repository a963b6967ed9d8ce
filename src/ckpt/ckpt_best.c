/* The best checkpoint: run_dir/checkpoints/best.h5, the checkpoint of the
 * epoch with the best validation accuracy so far. It is another name for
 * that file (a hard link), so pruning the ckpt-N.h5 name keeps it and it
 * costs no space while both names exist; where the file system has no
 * hard links it is a copy. Either way it is built under a temporary name
 * and renamed into place, so best.h5 is always a whole checkpoint. */
#include "ckpt/ckpt_impl.h"
#include "util/test_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copy from to to (created, mode 0644) and fsync it. */
static stdbp_status copy_file(const char *from, const char *to, stdbp_err *err)
{
    char buf[1 << 16];
    ssize_t got = 0;
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    stdbp_status st = STDBP_OK;
    if (in < 0)
        return stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot open %s: %s", from,
                             strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        st = stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot create %s: %s", to,
                           strerror(errno));
    while (st == STDBP_OK && (got = read(in, buf, sizeof buf)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            st = stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot read %s: %s", from,
                               strerror(errno));
            break;
        }
        for (ssize_t done = 0, n; done < got && st == STDBP_OK; done += n > 0 ? n : 0) {
            n = write(out, buf + done, (size_t)(got - done));
            if (n < 0 && errno != EINTR)
                st = stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot write %s: %s", to,
                                   strerror(errno));
        }
    }
    if (st == STDBP_OK && fsync(out) != 0)
        st = stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot sync %s: %s", to,
                           strerror(errno));
    if (out >= 0 && close(out) != 0 && st == STDBP_OK)
        st = stdbp_err_set(err, STDBP_EIO, "best checkpoint: cannot close %s: %s", to,
                           strerror(errno));
    close(in);
    return st;
}

stdbp_status stdbp_ckpt_mark_best(const char *run_dir, const char *ckpt_path, stdbp_err *err)
{
    char dir[CKPT_PATH_MAX], tmp[CKPT_PATH_MAX], best[CKPT_PATH_MAX];
    stdbp_err local;
    stdbp_err *e = err ? err : &local;
    stdbp_status st = STDBP_OK;
    stdbp_err_clear(e);
    if (!run_dir || !ckpt_path)
        return stdbp_err_set(e, STDBP_EINVAL,
                             "stdbp_ckpt_mark_best: run_dir and ckpt_path are required");
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", run_dir, CKPT_DIR) >= sizeof dir ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, STDBP_CKPT_BEST) >= sizeof tmp ||
        (size_t)snprintf(best, sizeof best, "%s/%s", dir, STDBP_CKPT_BEST) >= sizeof best)
        return stdbp_err_set(e, STDBP_EINVAL, "run directory path too long: %s", run_dir);
    /* Already the best (a resume marks its checkpoint again): nothing to do
     * (renaming a link over another link of the same file is a no-op that
     * would leave the temporary behind). */
    struct stat a, b;
    if (stat(ckpt_path, &a) == 0 && stat(best, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return STDBP_OK;
    /* A temporary left by a process killed here is stale. */
    if (unlink(tmp) != 0 && errno != ENOENT)
        return stdbp_err_set(e, STDBP_EIO, "best checkpoint: cannot remove %s: %s", tmp,
                             strerror(errno));
    if (stdbp_test_hooks_get()->best_no_link || link(ckpt_path, tmp) != 0)
        st = copy_file(ckpt_path, tmp, e);
    if (st == STDBP_OK && rename(tmp, best) != 0)
        st = stdbp_err_set(e, STDBP_EIO, "best checkpoint: cannot rename %s to %s: %s", tmp, best,
                           strerror(errno));
    if (st != STDBP_OK) {
        unlink(tmp);
        return st;
    }
    return stdbp_ckpt_fsync_path(dir, 1, e);
}
