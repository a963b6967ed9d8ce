/* Small file-system helpers shared by the I/O modules (private). */
#ifndef STDBP_UTIL_FSUTIL_H
#define STDBP_UTIL_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

#include "stdbp/error.h"

/* mkdir -p: create path and its missing parents (mode 0777 less umask).
 * STDBP_OK when path is (now) a directory; STDBP_EIO otherwise, with
 * "cannot create PATH: REASON" in err (callers prefix their context).
 * Not collective. */
stdbp_status stdbp_mkdir_p(const char *path, stdbp_err *err) STDBP_WUR;

/* "a directory", "a FIFO", "a character device", ... for the file type
 * bits of st_mode, for messages. Not collective; cannot fail. */
const char *stdbp_file_kind(unsigned mode);

/* Open path for reading, refusing anything that is not a regular file
 * without blocking on it: the open is made with O_NONBLOCK (a FIFO with no
 * writer would block in open, a device in read), the type checked with
 * fstat, then O_NONBLOCK cleared. STDBP_EIO with "PATH: cannot open:
 * REASON" or "PATH is a FIFO, not a regular file" otherwise. *fd_out is
 * the open descriptor on success (close it), -1 on failure.
 * Not collective. */
stdbp_status stdbp_open_regular(const char *path, int *fd_out, stdbp_err *err) STDBP_WUR;

/* stdbp_open_regular as a stdio stream ("rb"). Not collective. */
stdbp_status stdbp_fopen_regular(const char *path, FILE **out, stdbp_err *err) STDBP_WUR;

/* Before writing (creating or replacing) the file path: STDBP_OK when
 * nothing is there or a regular file is (a symbolic link is followed);
 * STDBP_EIO with "PATH is a character device, not a regular file:
 * refusing to replace it" otherwise, so that a writer never replaces a
 * device node, FIFO, socket or directory. Not collective. */
stdbp_status stdbp_check_output_file(const char *path, stdbp_err *err) STDBP_WUR;

/* snprintf into a path buffer buf of size len, failing with STDBP_EINVAL
 * and "path too long (N bytes, at most LEN - 1): PATH..." when the result
 * does not fit, instead of cutting it. Not collective. */
stdbp_status stdbp_path_format(char *buf, size_t len, stdbp_err *err, const char *fmt,
                               ...) STDBP_WUR STDBP_PRINTF(4, 5);

#endif
