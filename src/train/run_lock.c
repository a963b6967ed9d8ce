/* The run-directory lock: run_dir/.lock, an fcntl write lock that rank 0
 * takes before anything is written into the directory and holds until
 * the trainer is destroyed (or the process ends: the kernel releases it,
 * so a killed run leaves no stale lock). The file says who holds it
 * ("pid 1234 host node07"); the lock, not the file, is what counts.
 * docs/FORMAT.md, "Locking". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/trainer_impl.h"
#include "util/log.h"

/* The holder as the lock file names it, or the kernel's pid. */
static void describe_holder(int fd, const struct flock *q, char *buf, size_t len)
{
    char text[256];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n > 0) {
        text[n] = '\0';
        text[strcspn(text, "\n")] = '\0';
    }
    if (n > 0 && strncmp(text, "pid ", 4) == 0)
        snprintf(buf, len, "%s", text);
    else if (q->l_type != F_UNLCK && q->l_pid > 0)
        snprintf(buf, len, "pid %ld", (long)q->l_pid);
    else
        snprintf(buf, len, "holder unknown");
}

stdbp_status stdbp_trainer_lock_run_dir(stdbp_trainer *tr, stdbp_err *err)
{
    const char *dir = tr->cfg.run.out_dir;
    char path[4200], host[256] = "", line[400];
    struct flock fl;
    int fd;
    if ((size_t)snprintf(path, sizeof path, "%s/.lock", dir) >= sizeof path)
        return stdbp_err_set(err, STDBP_EINVAL, "run directory path too long: %s", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot open the run directory's lock file %s: %s",
                             path, strerror(errno));
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int saved = errno;
        if (saved == EACCES || saved == EAGAIN) {
            char who[300];
            struct flock q = fl;
            if (fcntl(fd, F_GETLK, &q) != 0)
                q.l_type = F_UNLCK;
            describe_holder(fd, &q, who, sizeof who);
            close(fd);
            return stdbp_err_set(err, STDBP_ECONFIG,
                                 "run directory %s is in use by another run (%s; lock file "
                                 "%s): wait for it to end, or set run.dir (or run.name) to "
                                 "start another run",
                                 dir, who, path);
        }
        /* A file system without POSIX locks (NFS without lockd, Lustre
         * mounted without flock): run unlocked, but say so. */
        stdbp_log(STDBP_LOG_WARNING,
                  "cannot lock the run directory %s (%s: %s): running without the lock, so "
                  "a second run started on the same directory will not be refused",
                  dir, path, strerror(saved));
        close(fd);
        return STDBP_OK;
    }
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    int n = snprintf(line, sizeof line, "pid %ld host %s\n", (long)getpid(),
                     host[0] ? host : "unknown");
    /* Who holds it is information only: a failure to write it is not an
     * error (the lock is taken). */
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
        stdbp_log(STDBP_LOG_WARNING, "cannot write %s: %s", path, strerror(errno));
    tr->lock_fd = fd;
    return STDBP_OK;
}

void stdbp_trainer_unlock_run_dir(stdbp_trainer *tr)
{
    if (tr->lock_fd < 0)
        return;
    close(tr->lock_fd); /* releases the lock */
    tr->lock_fd = -1;
}
