/* SHA-256 of the checkpoint digest: FIPS 180-4 test vectors, incremental
 * feeding in odd pieces, and the little-endian value helpers. */
#include <stdio.h>
#include <string.h>

#include "io/digest.h"
#include "tap/basic.h"

static const char *hex_of(const void *data, size_t len, char hex[STDBP_SHA256_HEX_LEN])
{
    stdbp_sha256 s;
    uint8_t d[STDBP_SHA256_LEN];
    stdbp_sha256_init(&s);
    stdbp_sha256_update(&s, data, len);
    stdbp_sha256_final(&s, d);
    return stdbp_sha256_hex(d, hex);
}

int main(void)
{
    char hex[STDBP_SHA256_HEX_LEN], hex2[STDBP_SHA256_HEX_LEN];
    static char million[1000000];
    const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    stdbp_sha256 s;
    uint8_t d[STDBP_SHA256_LEN];

    plan(9);
    is_string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              hex_of("", 0, hex), "SHA-256 of the empty string");
    is_string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              hex_of("abc", 3, hex), "SHA-256 of \"abc\"");
    is_string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
              hex_of(two_block, strlen(two_block), hex), "SHA-256 of the 448-bit message");
    memset(million, 'a', sizeof million);
    is_string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
              hex_of(million, sizeof million, hex), "SHA-256 of a million 'a'");

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
        ok(same, "incremental updates in pieces of 1..130 bytes give the same digest");
    }
    /* Message lengths around the padding boundary (55, 56, 63, 64 bytes). */
    is_string("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
              hex_of(million, 55, hex), "55 bytes (padding fits the block)");
    is_string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
              hex_of(million, 56, hex), "56 bytes (padding needs a second block)");

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
                  "u64 values hash as little-endian bytes");
        stdbp_sha256_init(&s);
        stdbp_sha256_update_f64le(&s, &x, 1);
        stdbp_sha256_final(&s, d);
        is_string(hex_of(xle, 8, hex), stdbp_sha256_hex(d, hex2),
                  "f64 values hash as their little-endian IEEE bits");
    }
    return tap_failures() ? 1 : 0;
}
