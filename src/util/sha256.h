/* SHA-256 (FIPS 180-4), incremental, for the checkpoint digest.
 *
 * The checkpoint digest is SHA-256 so that anyone can recompute it with
 * standard tools (Python's hashlib; see docs/FORMAT.md). Not collective;
 * no allocation; none of these can fail. */
#ifndef STDBP_UTIL_SHA256_H
#define STDBP_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define STDBP_SHA256_LEN 32
#define STDBP_SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

typedef struct stdbp_sha256 {
    uint32_t h[8];
    uint64_t n_bytes; /* bytes fed so far */
    uint8_t buf[64];  /* a partial block */
    size_t n_buf;     /* bytes in buf */
} stdbp_sha256;

void stdbp_sha256_init(stdbp_sha256 *s);
void stdbp_sha256_update(stdbp_sha256 *s, const void *data, size_t len);
/* Feed values as little-endian bytes, whatever the host order, so that
 * the digest of a file does not depend on the machine that wrote it. */
void stdbp_sha256_update_u64le(stdbp_sha256 *s, const uint64_t *v, size_t n);
void stdbp_sha256_update_f64le(stdbp_sha256 *s, const double *v, size_t n);
/* Finish: the 32-byte digest into out (s is then spent). */
void stdbp_sha256_final(stdbp_sha256 *s, uint8_t out[STDBP_SHA256_LEN]);
/* On x86-64 CPUs with the SHA extensions the compression uses them (same
 * results, about 10x faster). mode 0 forces the portable code, mode > 0
 * detects again, mode < 0 only asks; returns 1 if the extensions are in
 * use. For tests and benchmarks; not thread-safe. */
int stdbp_sha256_accelerated(int mode);
/* 64 lowercase hex digits and a NUL into hex; returns hex. */
char *stdbp_sha256_hex(const uint8_t d[STDBP_SHA256_LEN], char hex[STDBP_SHA256_HEX_LEN]);

#endif
