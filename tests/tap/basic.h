/* A small TAP (Test Anything Protocol) library for stdbp's tests.
 *
 * plan(n) first, then one ok()/is_*() per check; the process exit status
 * tells the harness whether every check passed. Under MPI only the rank
 * that called tap_set_quiet(0) prints (see tap_mpi.h). Not thread-safe. */
#ifndef STDBP_TAP_BASIC_H
#define STDBP_TAP_BASIC_H

#include <stddef.h>

#if defined(__GNUC__)
#define TAP_PRINTF(f, a) __attribute__((__format__(printf, f, a)))
#define TAP_NORETURN __attribute__((__noreturn__))
#define TAP_MALLOC __attribute__((__malloc__))
#define TAP_WUR __attribute__((__warn_unused_result__))
#else
#define TAP_PRINTF(f, a)
#define TAP_NORETURN
#define TAP_MALLOC
#define TAP_WUR
#endif

/* Announce the number of checks; "1..n". */
void plan(unsigned long n);
/* No plan known in advance: print "1..k" at exit. */
void plan_lazy(void);
/* Skip the whole test program with a reason (exit 0). */
void skip_all(const char *fmt, ...) TAP_PRINTF(1, 2) TAP_NORETURN;

/* Each returns its verdict (1 pass, 0 fail). */
int ok(int success, const char *fmt, ...) TAP_PRINTF(2, 3);
int is_int(long long want, long long got, const char *fmt, ...) TAP_PRINTF(3, 4);
int is_string(const char *want, const char *got, const char *fmt, ...) TAP_PRINTF(3, 4);
/* |want - got| <= tol (absolute); NaN only equals NaN, inf only inf. */
int is_double(double want, double got, double tol, const char *fmt, ...) TAP_PRINTF(4, 5);
/* Does haystack contain needle? Prints both on failure. */
int contains(const char *haystack, const char *needle, const char *fmt, ...) TAP_PRINTF(3, 4);
void skip(const char *fmt, ...) TAP_PRINTF(1, 2);

/* "# ..." on standard error (so the TAP stream stays clean). */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
/* "Bail out! ..." and exit 255: the rest cannot run. */
void bail(const char *fmt, ...) TAP_PRINTF(1, 2) TAP_NORETURN;
/* bail() with ": " and strerror(errno) appended, for a failed system call. */
void sysbail(const char *fmt, ...) TAP_PRINTF(1, 2) TAP_NORETURN;

/* Checked allocation for test code: on failure the test ends with a
 * "Bail out!" that says how much it wanted, never with a NULL to
 * dereference. Free the results with free(). */
void *bmalloc(size_t size) TAP_MALLOC TAP_WUR;
void *bcalloc(size_t n, size_t size) TAP_MALLOC TAP_WUR;
void *brealloc(void *p, size_t size) TAP_WUR;
char *bstrdup(const char *s) TAP_MALLOC TAP_WUR;
/* The first n bytes of s (fewer if s ends sooner), NUL-terminated. */
char *bstrndup(const char *s, size_t n) TAP_MALLOC TAP_WUR;

/* Number of failed checks so far. */
unsigned long tap_failures(void);
/* 1: record verdicts but print nothing (non-root MPI ranks). */
void tap_set_quiet(int quiet);

/* Fixture path: $top_srcdir/tests/data/NAME, or ./tests/data/NAME when the
 * harness did not set top_srcdir. Returns a static buffer. */
const char *test_data_path(const char *name);
/* A fresh empty directory for this test's files (under $TMPDIR or /tmp);
 * removed at exit unless STDBP_TEST_KEEP is set. Returns a static buffer. */
const char *test_tmpdir(void);

#endif
