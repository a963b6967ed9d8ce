/* Small file-system helpers shared by the I/O modules; see fsutil.h. */
#include "util/fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

stdbp_status stdbp_mkdir_p(const char *path, stdbp_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(ENAMETOOLONG));
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return stdbp_err_set(err, STDBP_EIO, "cannot create %s: %s", path, strerror(ENOTDIR));
    return STDBP_OK;
}
