/* Status codes and error messages shared by every stdbp module.
 *
 * Fallible functions return a stdbp_status (STDBP_OK == 0) and, when an
 * stdbp_err is passed, leave a message in it that says what went wrong,
 * where (file, line:column, key, layer, step) and, when it helps, what to
 * do. Library code never exits or aborts: the programs decide. */
#ifndef STDBP_ERROR_H
#define STDBP_ERROR_H

#include "stdbp/api.h"

#include <stddef.h>

typedef enum stdbp_status {
    STDBP_OK = 0,
    STDBP_EINVAL,   /* a bad argument or setting */
    STDBP_ENOMEM,   /* an allocation failed */
    STDBP_EIO,      /* a file could not be opened, read or written */
    STDBP_EFORMAT,  /* a file's contents are malformed or corrupt */
    STDBP_ERANGE,   /* a value outside its allowed range */
    STDBP_ENUMERIC, /* NaN or Inf appeared */
    STDBP_EMPI,     /* another rank failed (an MPI failure aborts the job: dist.h) */
    STDBP_ECONFIG,  /* a configuration error (see the message) */
    STDBP_EFIT,     /* a model does not fit the accelerator profile */
    STDBP_ESTOPPED  /* stopped by a signal before finishing (stdbp_signal_pending) */
} stdbp_status;

#define STDBP_ERR_MSG_MAX 1024

typedef struct stdbp_err {
    stdbp_status code;
    char msg[STDBP_ERR_MSG_MAX];
} stdbp_err;

#if defined(__GNUC__)
#define STDBP_PRINTF(f, a) __attribute__((__format__(printf, f, a)))
#define STDBP_WUR __attribute__((__warn_unused_result__))
#else
#define STDBP_PRINTF(f, a)
#define STDBP_WUR
#endif

/* Record code and a formatted message in err (which may be NULL); returns
 * code so that callers can write `return stdbp_err_set(err, ...)`. */
STDBP_API stdbp_status stdbp_err_set(stdbp_err *err, stdbp_status code, const char *fmt, ...)
    STDBP_PRINTF(3, 4);
/* Prefix err's message with context ("loading x.h5: " + old message). */
STDBP_API stdbp_status stdbp_err_prefix(stdbp_err *err, const char *fmt, ...) STDBP_PRINTF(2, 3);
/* Reset to STDBP_OK and an empty message. Cannot fail. */
STDBP_API void stdbp_err_clear(stdbp_err *err);
/* A short name for a status ("invalid argument", ...). Cannot fail. */
STDBP_API const char *stdbp_status_name(stdbp_status code);

/* Messages that are not errors (warnings, progress notes) do not go to
 * stderr from the library: it hands them to the handler the program
 * installed, or drops them when there is none. Not collective; set it
 * before starting threads. user is passed back to fn. */
typedef enum stdbp_log_level { STDBP_LOG_INFO, STDBP_LOG_WARNING } stdbp_log_level;
typedef void (*stdbp_log_fn)(stdbp_log_level level, const char *msg, void *user);
STDBP_API void stdbp_set_log_handler(stdbp_log_fn fn, void *user);

#endif
