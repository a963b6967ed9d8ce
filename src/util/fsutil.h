/* Small file-system helpers shared by the I/O modules (private). */
#ifndef STDBP_UTIL_FSUTIL_H
#define STDBP_UTIL_FSUTIL_H

/* mkdir -p: create path and its missing parents (mode 0777 less umask).
 * Returns 0 when path is (now) a directory, else -1 with errno set
 * (ENOTDIR when it exists but is not a directory). Not collective. */
int stdbp_mkdir_p(const char *path);

#endif
