/* Small file-system helpers shared by the I/O modules; see fsutil.h. */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

stdbp_status stdbp_mkdir_p(const char *path, stdbp_err *err)
{
    size_t n = strlen(path);
    if (n == 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(ENOENT));
    char *buf = malloc(n + 1);
    if (!buf)
        return stdbp_err_set(err, STDBP_ENOMEM, "cannot create %s: out of memory", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                free(buf);
                return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(e));
            }
            buf[i] = c;
        }
    }
    free(buf);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(ENOTDIR));
    return STDBP_OK;
}

const char *stdbp_file_kind(unsigned mode)
{
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

stdbp_status stdbp_open_regular(const char *path, int *fd_out, stdbp_err *err)
{
    struct stat sb;
    int fd, flags;
    *fd_out = -1;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return stdbp_err_set(err, STDBP_EIO, "%s is %s, not a regular file: give a file", path,
                             stdbp_file_kind((unsigned)sb.st_mode));
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    *fd_out = fd;
    return STDBP_OK;
}

stdbp_status stdbp_fopen_regular(const char *path, FILE **out, stdbp_err *err)
{
    int fd;
    *out = NULL;
    stdbp_status st = stdbp_open_regular(path, &fd, err);
    if (st != STDBP_OK)
        return st;
    if (!(*out = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        return stdbp_err_set(err, STDBP_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    return STDBP_OK;
}

stdbp_status stdbp_check_output_file(const char *path, stdbp_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return STDBP_OK; /* nothing there (or a dangling link): created */
        return stdbp_err_set(err, STDBP_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return stdbp_err_set(err, STDBP_EIO,
                             "%s is %s, not a regular file: refusing to replace it (give the "
                             "path of a new or regular file)",
                             path, stdbp_file_kind((unsigned)sb.st_mode));
    return STDBP_OK;
}

stdbp_status stdbp_path_format(char *buf, size_t len, stdbp_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return stdbp_err_set(err, STDBP_EINVAL, "cannot format a path from \"%s\"", fmt);
    if ((size_t)n >= len) {
        if (len)
            buf[len - 1] = '\0';
        return stdbp_err_set(err, STDBP_EINVAL, "path too long (%d bytes, at most %zu): %.200s...",
                             n, len ? len - 1 : 0, buf);
    }
    return STDBP_OK;
}
