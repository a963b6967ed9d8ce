/* Which instruction set the ReL-PSP kernels use (private).
 *
 * The kernels exist in three builds of the same arithmetic: plain C
 * (any machine), AVX2 (4 lanes) and AVX-512 (8 lanes). Each lane does
 * the same IEEE operations in the same order in every build (no FMA
 * contraction: -std=c11 and intrinsics that name each add and multiply),
 * so the results are bitwise the same whichever runs; test_relpsp checks
 * it on every build this machine can run. The best one the CPU supports
 * is picked at each call; tests may force one. Not collective. */
#ifndef STDBP_CORE_RELPSP_ISA_H
#define STDBP_CORE_RELPSP_ISA_H

/* The x86-64 builds need GCC or clang (target attributes, intrinsics);
 * -DSTDBP_NO_SIMD leaves only the plain C one. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(STDBP_NO_SIMD)
#define STDBP_X86_SIMD 1
#define STDBP_TARGET(isa) __attribute__((__target__(isa)))
#endif

typedef enum stdbp_isa {
    STDBP_ISA_GENERIC = 0,
    STDBP_ISA_AVX2 = 1,
    STDBP_ISA_AVX512 = 2,
    STDBP_ISA_BEST = -1 /* for stdbp_relpsp_force_isa: undo a forced choice */
} stdbp_isa;

/* The small-layer kernels: each per-vector step is written out for v = 0..7 and the ones past NV
 * (a constant in each instance) fold away: the arrays then live in
 * registers, which a loop over v does not guarantee. */
#define STDBP_FOR_V(NV, BODY)                                                                      \
    do {                                                                                           \
        {                                                                                          \
            enum { v = 0 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 1) {                                                                            \
            enum { v = 1 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 2) {                                                                            \
            enum { v = 2 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 3) {                                                                            \
            enum { v = 3 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 4) {                                                                            \
            enum { v = 4 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 5) {                                                                            \
            enum { v = 5 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 6) {                                                                            \
            enum { v = 6 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
        if ((NV) > 7) {                                                                            \
            enum { v = 7 };                                                                        \
            BODY                                                                                   \
        }                                                                                          \
    } while (0)

/* The build the kernels use now. */
stdbp_isa stdbp_relpsp_isa(void);

/* Nonzero if this CPU (and this compiler's build) can run isa. */
int stdbp_relpsp_isa_available(stdbp_isa isa);

/* For tests and benchmarks: make every later call use isa (which must be
 * available), or STDBP_ISA_BEST to go back to the automatic choice. Not
 * thread-safe: call it before any kernel runs. */
void stdbp_relpsp_force_isa(stdbp_isa isa);

/* "generic", "avx2" or "avx512". */
const char *stdbp_isa_name(stdbp_isa isa);

#endif
