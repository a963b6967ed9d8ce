/* Status names and error messages; see include/stdbp/error.h. */
#include "stdbp/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

stdbp_status stdbp_err_set(stdbp_err *err, stdbp_status code, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

stdbp_status stdbp_err_prefix(stdbp_err *err, const char *fmt, ...)
{
    char old[STDBP_ERR_MSG_MAX];
    va_list ap;
    int n;
    if (!err)
        return STDBP_OK;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", old);
    return err->code;
}

void stdbp_err_clear(stdbp_err *err)
{
    if (err) {
        err->code = STDBP_OK;
        err->msg[0] = '\0';
    }
}

const char *stdbp_status_name(stdbp_status code)
{
    switch (code) {
    case STDBP_OK:
        return "success";
    case STDBP_EINVAL:
        return "invalid argument";
    case STDBP_ENOMEM:
        return "out of memory";
    case STDBP_EIO:
        return "input/output error";
    case STDBP_EFORMAT:
        return "malformed or corrupt file";
    case STDBP_ERANGE:
        return "value out of range";
    case STDBP_ENUMERIC:
        return "NaN or Inf";
    case STDBP_EMPI:
        return "another MPI rank failed";
    case STDBP_ECONFIG:
        return "configuration error";
    case STDBP_EFIT:
        return "model does not fit the hardware";
    case STDBP_ESTOPPED:
        return "stopped by a signal";
    }
    return "unknown error";
}
