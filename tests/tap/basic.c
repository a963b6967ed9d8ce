/* TAP output for stdbp's tests; see basic.h. */
#define _GNU_SOURCE /* nftw, mkdtemp */
#include "tap/basic.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long tap_count;
static unsigned long tap_failed;
static unsigned long tap_planned;
static int tap_lazy;
static int tap_quiet;
static char tap_tmp[4096];

static void tap_finish(void)
{
    if (tap_lazy && !tap_quiet)
        printf("1..%lu\n", tap_count);
    if (!tap_quiet && tap_planned && tap_count != tap_planned)
        fprintf(stderr, "# planned %lu tests but ran %lu\n", tap_planned, tap_count);
    fflush(stdout);
}

static int tap_exit_status(void)
{
    if (tap_failed)
        return 1;
    if (tap_planned && tap_count != tap_planned)
        return 255;
    return 0;
}

static void tap_at_exit(void)
{
    tap_finish();
    if (tap_exit_status() != 0)
        _exit(tap_exit_status());
}

void plan(unsigned long n)
{
    tap_planned = n;
    if (!tap_quiet)
        printf("1..%lu\n", n);
    fflush(stdout);
    atexit(tap_at_exit);
}

void plan_lazy(void)
{
    tap_lazy = 1;
    atexit(tap_at_exit);
}

void skip_all(const char *fmt, ...)
{
    va_list ap;
    if (!tap_quiet) {
        printf("1..0 # SKIP ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
    fflush(stdout);
    exit(0);
}

static void tap_vresult(int success, const char *fmt, va_list ap)
{
    tap_count++;
    if (!success)
        tap_failed++;
    if (tap_quiet)
        return;
    printf("%sok %lu", success ? "" : "not ", tap_count);
    if (fmt && *fmt) {
        printf(" - ");
        vprintf(fmt, ap);
    }
    printf("\n");
    fflush(stdout);
}

int ok(int success, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vresult(success != 0, fmt, ap);
    va_end(ap);
    return success != 0;
}

int is_int(long long want, long long got, const char *fmt, ...)
{
    va_list ap;
    int success = want == got;
    va_start(ap, fmt);
    tap_vresult(success, fmt, ap);
    va_end(ap);
    if (!success)
        diag("wanted %lld, got %lld", want, got);
    return success;
}

int is_string(const char *want, const char *got, const char *fmt, ...)
{
    va_list ap;
    int success = (want == NULL && got == NULL) || (want && got && strcmp(want, got) == 0);
    va_start(ap, fmt);
    tap_vresult(success, fmt, ap);
    va_end(ap);
    if (!success)
        diag("wanted \"%s\", got \"%s\"", want ? want : "(null)", got ? got : "(null)");
    return success;
}

int is_double(double want, double got, double tol, const char *fmt, ...)
{
    va_list ap;
    int success;
    if (isnan(want) || isnan(got))
        success = isnan(want) && isnan(got);
    else if (isinf(want) || isinf(got))
        success = want == got;
    else
        success = fabs(want - got) <= tol;
    va_start(ap, fmt);
    tap_vresult(success, fmt, ap);
    va_end(ap);
    if (!success)
        diag("wanted %.17g, got %.17g (tolerance %g)", want, got, tol);
    return success;
}

int contains(const char *haystack, const char *needle, const char *fmt, ...)
{
    va_list ap;
    int success = haystack && needle && strstr(haystack, needle) != NULL;
    va_start(ap, fmt);
    tap_vresult(success, fmt, ap);
    va_end(ap);
    if (!success)
        diag("\"%s\" not found in \"%s\"", needle ? needle : "(null)",
             haystack ? haystack : "(null)");
    return success;
}

void skip(const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    if (tap_quiet)
        return;
    printf("ok %lu # SKIP ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void diag(const char *fmt, ...)
{
    va_list ap;
    if (tap_quiet)
        return;
    fflush(stdout);
    fprintf(stderr, "# ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

void bail(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    printf("Bail out! ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    _exit(255);
}

void sysbail(const char *fmt, ...)
{
    va_list ap;
    int e = errno;
    fflush(stdout);
    printf("Bail out! ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(": %s\n", strerror(e));
    fflush(stdout);
    _exit(255);
}

void *bmalloc(size_t size)
{
    void *p = malloc(size ? size : 1); /* malloc(0) may be NULL */
    if (!p)
        sysbail("failed to malloc %zu bytes", size);
    return p;
}

void *bcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sysbail("failed to calloc %zu x %zu bytes", n, size);
    return p;
}

void *brealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        sysbail("failed to realloc %zu bytes", size);
    return q;
}

char *bstrdup(const char *s)
{
    return bstrndup(s, strlen(s));
}

char *bstrndup(const char *s, size_t n)
{
    const char *end = memchr(s, '\0', n);
    size_t len = end ? (size_t)(end - s) : n;
    char *p = bmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

unsigned long tap_failures(void)
{
    return tap_failed;
}

void tap_set_quiet(int quiet)
{
    tap_quiet = quiet;
}

const char *test_data_path(const char *name)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/tests/data/%s", top ? top : ".", name);
    return path;
}

static int tap_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tap_rm_tmp(void)
{
    if (tap_tmp[0] && !getenv("STDBP_TEST_KEEP"))
        nftw(tap_tmp, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_tmpdir(void)
{
    if (!tap_tmp[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tap_tmp, sizeof tap_tmp, "%s/stdbp-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tap_tmp))
            bail("cannot create a temporary directory under %s", base ? base : "/tmp");
        atexit(tap_rm_tmp);
    }
    return tap_tmp;
}
