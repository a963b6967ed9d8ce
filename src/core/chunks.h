/* Elementwise loops over the parameters, shared by the rank's OpenMP
 * threads (private). Each element is computed on its own, so cutting the
 * vector into chunks gives the same bits for any number of threads; the
 * chunks are large enough that a thread's share amortises the start of a
 * parallel region. Without OpenMP the chunks run in turn. */
#ifndef STDBP_CORE_CHUNKS_H
#define STDBP_CORE_CHUNKS_H

#include <stddef.h>

#define STDBP_CHUNK ((size_t)16384)

#ifdef _OPENMP
#define STDBP_CHUNKS_OMP_ _Pragma("omp parallel for schedule(static) if (chunks_ > 1)")
#else
#define STDBP_CHUNKS_OMP_
#endif

/* Runs the statements after (a, len) for each chunk [a, a + len) of
 * [0, n), the chunks spread over the threads. */
#define STDBP_FOR_CHUNKS(n, a, len, ...)                                                           \
    do {                                                                                           \
        const size_t n_ = (n), chunks_ = (n_ + STDBP_CHUNK - 1) / STDBP_CHUNK;                     \
        STDBP_CHUNKS_OMP_                                                                          \
        for (size_t c_ = 0; c_ < chunks_; c_++) {                                                  \
            const size_t a = c_ * STDBP_CHUNK;                                                     \
            const size_t len = n_ - a < STDBP_CHUNK ? n_ - a : STDBP_CHUNK;                        \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    } while (0)

#endif
