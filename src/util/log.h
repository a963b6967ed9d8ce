/* The library's side of the log handler (include/stdbp/error.h): modules
 * call stdbp_log instead of printing. Not collective. */
#ifndef STDBP_UTIL_LOG_H
#define STDBP_UTIL_LOG_H

#include "stdbp/error.h"

/* Format the message and hand it to the installed handler (nothing
 * happens when none is installed). Cannot fail; long messages are cut at
 * STDBP_ERR_MSG_MAX bytes. */
void stdbp_log(stdbp_log_level level, const char *fmt, ...) STDBP_PRINTF(2, 3);
/* 1 when a handler is installed (so that a caller can skip costly
 * formatting). */
int stdbp_log_enabled(void);

#endif
