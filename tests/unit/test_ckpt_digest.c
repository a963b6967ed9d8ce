/* SHA-256 of the checkpoint digest: FIPS 180-4 test vectors, incremental
 * feeding in odd pieces and the little-endian value helpers, with the
 * portable code and (where the CPU has them) the x86 SHA extensions,
 * which must agree on random data. */
#include <stdio.h>
#include <string.h>

#include "util/sha256.h"
#include "tap/basic.h"

#define N_VECTOR_CHECKS 9

static const char *hex_of(const void *data, size_t len, char hex[STDBP_SHA256_HEX_LEN])
{
    stdbp_sha256 s;
    uint8_t d[STDBP_SHA256_LEN];
    stdbp_sha256_init(&s);
    stdbp_sha256_update(&s, data, len);
    stdbp_sha256_final(&s, d);
    return stdbp_sha256_hex(d, hex);
}

static char million[1000000];

static void vectors(const char *mode)
{
    char hex[STDBP_SHA256_HEX_LEN], hex2[STDBP_SHA256_HEX_LEN];
    const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    stdbp_sha256 s;
    uint8_t d[STDBP_SHA256_LEN];

    is_string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              hex_of("", 0, hex), "%s: SHA-256 of the empty string", mode);
    is_string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              hex_of("abc", 3, hex), "%s: SHA-256 of \"abc\"", mode);
    is_string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
              hex_of(two_block, strlen(two_block), hex), "%s: SHA-256 of the 448-bit message",
              mode);
    memset(million, 'a', sizeof million);
    is_string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
              hex_of(million, sizeof million, hex), "%s: SHA-256 of a million 'a'", mode);

    /* The same bytes fed in pieces of every size from 1 to 130. */
    {
        int same = 1;
        hex_of(million, 10007, hex);
        for (size_t piece = 1; piece <= 130 && same; piece++) {
            size_t off = 0;
            stdbp_sha256_init(&s);
            while (off < 10007) {
                size_t m = 10007 - off < piece ? 10007 - off : piece;
                stdbp_sha256_update(&s, million + off, m);
                off += m;
            }
            stdbp_sha256_final(&s, d);
            same = strcmp(stdbp_sha256_hex(d, hex2), hex) == 0;
            if (!same)
                diag("pieces of %zu bytes differ", piece);
        }
        ok(same, "%s: incremental updates in pieces of 1..130 bytes give the same digest", mode);
    }
    /* Message lengths around the padding boundary. */
    is_string("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
              hex_of(million, 55, hex), "%s: 55 bytes (padding fits the block)", mode);
    is_string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
              hex_of(million, 56, hex), "%s: 56 bytes (padding needs a second block)", mode);

    /* Values as little-endian bytes. */
    {
        uint64_t v = 0x0102030405060708ULL;
        uint8_t le[8] = {8, 7, 6, 5, 4, 3, 2, 1};
        double x = 1.5; /* 0x3FF8000000000000 */
        uint8_t xle[8] = {0, 0, 0, 0, 0, 0, 0xF8, 0x3F};
        stdbp_sha256_init(&s);
        stdbp_sha256_update_u64le(&s, &v, 1);
        stdbp_sha256_final(&s, d);
        is_string(hex_of(le, 8, hex), stdbp_sha256_hex(d, hex2),
                  "%s: u64 values hash as little-endian bytes", mode);
        stdbp_sha256_init(&s);
        stdbp_sha256_update_f64le(&s, &x, 1);
        stdbp_sha256_final(&s, d);
        is_string(hex_of(xle, 8, hex), stdbp_sha256_hex(d, hex2),
                  "%s: f64 values hash as their little-endian IEEE bits", mode);
    }
}

int main(void)
{
    static unsigned char noise[1 << 20];
    char a[STDBP_SHA256_HEX_LEN], b[STDBP_SHA256_HEX_LEN];
    uint64_t x = 88172645463325252ULL;
    int accel;

    plan(2 * N_VECTOR_CHECKS + 2);
    ok(stdbp_sha256_accelerated(0) == 0, "the portable code can be forced");
    vectors("portable");
    accel = stdbp_sha256_accelerated(1);
    if (!accel) {
        for (int i = 0; i < N_VECTOR_CHECKS + 1; i++)
            skip("this CPU has no SHA extensions");
        return 0;
    }
    vectors("SHA extensions");
    for (size_t i = 0; i < sizeof noise; i++) { /* xorshift64 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (unsigned char)x;
    }
    hex_of(noise, sizeof noise - 13, a);
    stdbp_sha256_accelerated(0);
    hex_of(noise, sizeof noise - 13, b);
    is_string(b, a, "SHA extensions and portable code agree on 1 MiB of noise");
    return 0;
}
