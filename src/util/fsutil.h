/* Small file-system helpers shared by the I/O modules (private). */
#ifndef STDBP_UTIL_FSUTIL_H
#define STDBP_UTIL_FSUTIL_H

#include "stdbp/error.h"

/* mkdir -p: create path and its missing parents (mode 0777 less umask).
 * STDBP_OK when path is (now) a directory; STDBP_EIO otherwise, with
 * "cannot create PATH: REASON" in err (callers prefix their context).
 * Not collective. */
stdbp_status stdbp_mkdir_p(const char *path, stdbp_err *err) STDBP_WUR;

#endif
