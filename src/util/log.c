/* The log handler; see util/log.h and include/stdbp/error.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static stdbp_log_fn log_fn;
static void *log_user;

void stdbp_set_log_handler(stdbp_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

int stdbp_log_enabled(void)
{
    return log_fn != NULL;
}

void stdbp_log(stdbp_log_level level, const char *fmt, ...)
{
    char msg[STDBP_ERR_MSG_MAX];
    va_list ap;
    if (!log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}
