/* Error messages: set, prefix, clear, names. */
#include <string.h>

#include "stdbp/error.h"
#include "tap/basic.h"

int main(void)
{
    stdbp_err err;
    plan(7);
    stdbp_err_clear(&err);
    is_int(STDBP_OK, err.code, "clear gives STDBP_OK");
    is_int(STDBP_EIO, stdbp_err_set(&err, STDBP_EIO, "cannot open %s", "x.h5"),
           "set returns its code");
    is_string("cannot open x.h5", err.msg, "set formats the message");
    stdbp_err_prefix(&err, "loading %s: ", "run");
    is_string("loading run: cannot open x.h5", err.msg, "prefix keeps the old message");
    is_int(STDBP_EIO, err.code, "prefix keeps the code");
    is_int(STDBP_EINVAL, stdbp_err_set(NULL, STDBP_EINVAL, "ignored"), "NULL err is allowed");
    ok(strcmp(stdbp_status_name(STDBP_ENUMERIC), "NaN or Inf") == 0, "status names");
    return 0;
}
