/* Sorting spike times (private): the fired entries of a time vector, in
 * ascending time order, stable. Not collective; no allocation. */
#ifndef STDBP_CORE_SORT_H
#define STDBP_CORE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of scratch stdbp_sort_fired needs for n times. */
size_t stdbp_sort_scratch_size(size_t n);

/* Writes to idx the indices i < n with t[i] finite (fired; NaN and
 * +-INFINITY count as silent), sorted by t[i], ties in index order.
 * Returns their number (-0.0 sorts just before +0.0; they are equal
 * times). scratch: stdbp_sort_scratch_size(n) bytes, 8-byte aligned. */
size_t stdbp_sort_fired(const double *t, size_t n, uint32_t *idx, void *scratch);

#endif
