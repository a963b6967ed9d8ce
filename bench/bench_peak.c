/* bench_peak: the double-precision vector rates one core reaches, so that
 * the kernels' times can be put against the machine's limit
 * (docs/PERFORMANCE.md). Fourteen independent accumulators per loop keep
 * the units busy (more than latency x units: with eight or twelve the mix
 * of adds and multiplies was latency-bound; fifteen vector registers of
 * AVX2's sixteen are used); an empty asm statement per iteration
 * keeps every value in a register and stops the compiler from folding the
 * loop. Rates are in
 * thread CPU time. x86-64 with GCC or clang only (AVX2, and AVX-512 where
 * the CPU has it). Not an MPI program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: bench_peak [--iters N]\n"
    "\n"
    "Measures vector double-precision operations per second on one thread:\n"
    "adds, multiplies, and adds and multiplies together (half each), for\n"
    "256-bit (AVX2) and 512-bit (AVX-512F) vectors as the CPU has them; the\n"
    "best of three runs of N iterations (default 20000000) of fourteen\n"
    "independent operations each.\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define N_ACC 14

/* One loop: accumulators a0..a13 of type V, BODY updates them with the
 * operand d, the asm keeps them live in registers. */
#define PEAK_LOOP(V, SET1, BODY)                                                                   \
    V a0 = SET1(1.0), a1 = SET1(1.1), a2 = SET1(1.2), a3 = SET1(1.3);                              \
    V a4 = SET1(1.4), a5 = SET1(1.5), a6 = SET1(1.6), a7 = SET1(1.7);                              \
    V a8 = SET1(1.8), a9 = SET1(1.9), a10 = SET1(2.0), a11 = SET1(2.1);                            \
    V a12 = SET1(2.2), a13 = SET1(2.3);                                                            \
    V d = SET1(1.0000001);                                                                         \
    __asm__ volatile("" : "+v"(d));                                                                \
    for (long k = 0; k < n; k++) {                                                                 \
        BODY;                                                                                      \
        __asm__ volatile(""                                                                        \
                         : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6),   \
                           "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12),          \
                           "+v"(a13));                                                             \
    }

/* fourteen of OP, or seven each of A and B */
#define ALL(OP) TWO(OP, OP)
#define TWO(A, B)                                                                                  \
    (a0 = A(a0, d), a1 = B(a1, d), a2 = A(a2, d), a3 = B(a3, d), a4 = A(a4, d), a5 = B(a5, d),     \
     a6 = A(a6, d), a7 = B(a7, d), a8 = A(a8, d), a9 = B(a9, d), a10 = A(a10, d), a11 = B(a11, d), \
     a12 = A(a12, d), a13 = B(a13, d))

/* kind: 0 adds, 1 multiplies, 2 adds and multiplies. Returns operations
 * per second. */
__attribute__((__target__("avx2"))) static double rate256(int kind, long n)
{
    const double t0 = now();
    if (kind == 0) {
        PEAK_LOOP(__m256d, _mm256_set1_pd, ALL(_mm256_add_pd))
    } else if (kind == 1) {
        PEAK_LOOP(__m256d, _mm256_set1_pd, ALL(_mm256_mul_pd))
    } else {
        PEAK_LOOP(__m256d, _mm256_set1_pd, TWO(_mm256_add_pd, _mm256_mul_pd))
    }
    return N_ACC * (double)n / (now() - t0);
}

__attribute__((__target__("avx512f"))) static double rate512(int kind, long n)
{
    const double t0 = now();
    if (kind == 0) {
        PEAK_LOOP(__m512d, _mm512_set1_pd, ALL(_mm512_add_pd))
    } else if (kind == 1) {
        PEAK_LOOP(__m512d, _mm512_set1_pd, ALL(_mm512_mul_pd))
    } else {
        PEAK_LOOP(__m512d, _mm512_set1_pd, TWO(_mm512_add_pd, _mm512_mul_pd))
    }
    return N_ACC * (double)n / (now() - t0);
}

static void report(const char *name, double (*rate)(int, long), long n)
{
    static const char *kinds[] = {"adds", "multiplies", "adds + multiplies (1:1)"};
    for (int kind = 0; kind < 3; kind++) {
        double best = 0;
        for (int r = 0; r < 3; r++) {
            const double g = rate(kind, n);
            best = g > best ? g : best;
        }
        printf("%-8s %-26s %8.2f\n", name, kinds[kind], best / 1e9);
    }
}
#endif

int main(int argc, char **argv)
{
    long n = 20000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end || n <= 0) {
                fprintf(stderr, "bench_peak: --iters: '%s' is not a positive integer\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "bench_peak: unknown argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    printf("%-8s %-26s %8s\n", "vectors", "operations", "G vector ops/s (one thread)");
    if (__builtin_cpu_supports("avx2"))
        report("256-bit", rate256, n);
    if (__builtin_cpu_supports("avx512f"))
        report("512-bit", rate512, n);
    return 0;
#else
    fprintf(stderr, "bench_peak: x86-64 with GCC or clang only\n");
    return 77;
#endif
}
