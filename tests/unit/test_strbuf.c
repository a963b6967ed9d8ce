/* The growable string (src/util/strbuf.h): appends of every kind, growth
 * across many doublings, embedded NULs, detach and free, and a request
 * too large to satisfy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap/basic.h"
#include "util/strbuf.h"

static void test_empty(void)
{
    stdbp_strbuf b;
    stdbp_err err;
    stdbp_strbuf_init(&b);
    ok(b.s == NULL && b.len == 0 && b.cap == 0, "init: empty, owns nothing");
    ok(stdbp_strbuf_detach(&b) == NULL, "detach of an empty buffer: NULL");
    stdbp_strbuf_free(&b); /* must accept an empty buffer */
    is_int(STDBP_OK, stdbp_strbuf_append(&b, "", 0, &err), "append of nothing");
    ok(b.s != NULL && b.s[0] == '\0' && b.len == 0, "append of nothing: an empty string");
    stdbp_strbuf_free(&b);
    ok(b.s == NULL && b.len == 0 && b.cap == 0, "free: empty again");
}

static void test_appends(void)
{
    stdbp_strbuf b;
    stdbp_err err;
    stdbp_strbuf_init(&b);
    is_int(STDBP_OK, stdbp_strbuf_puts(&b, "lr", &err), "puts");
    is_int(STDBP_OK, stdbp_strbuf_append(&b, "=0.5xyz", 4, &err), "append n bytes");
    is_int(STDBP_OK, stdbp_strbuf_appendf(&b, &err, " [%d, %s]", 7, "x"), "appendf");
    is_string("lr=0.5 [7, x]", b.s, "the text");
    is_int(13, (long long)b.len, "len counts the bytes");
    is_int(STDBP_OK, stdbp_strbuf_append(&b, "a\0b", 3, &err), "append with a NUL inside");
    is_int(16, (long long)b.len, "len counts the NUL");
    ok(memcmp(b.s + 13, "a\0b", 4) == 0, "bytes and the final NUL");
    char *s = stdbp_strbuf_detach(&b);
    ok(s && s[0] == 'l' && b.s == NULL && b.len == 0, "detach hands over the text");
    free(s);
}

/* Many small and a few large appends: the text stays whole. */
static void test_growth(void)
{
    stdbp_strbuf b;
    stdbp_err err;
    stdbp_status st = STDBP_OK;
    size_t i, want = 0;
    char *big = bmalloc(100001);
    memset(big, 'z', 100000);
    big[100000] = '\0';
    stdbp_strbuf_init(&b);
    for (i = 0; i < 5000 && st == STDBP_OK; i++) {
        st = stdbp_strbuf_appendf(&b, &err, "%zu,", i);
        want += (size_t)snprintf(NULL, 0, "%zu,", i);
    }
    is_int(STDBP_OK, st, "5000 appendf");
    is_int((long long)want, (long long)b.len, "len after 5000 appendf");
    ok(strncmp(b.s, "0,1,2,3,", 8) == 0 && strcmp(b.s + b.len - 5, "4999,") == 0,
       "first and last numbers in place");
    ok(b.cap > b.len, "room for the NUL");
    is_int(STDBP_OK, stdbp_strbuf_appendf(&b, &err, "%s", big), "appendf longer than the room");
    is_int(STDBP_OK, stdbp_strbuf_puts(&b, big, &err), "puts longer than the room");
    is_int((long long)want + 200000, (long long)b.len, "len after the large appends");
    ok(strspn(b.s + want, "z") == 200000 && b.s[b.len] == '\0', "large appends whole");
    stdbp_strbuf_free(&b);
    free(big);
}

static void test_reserve(void)
{
    stdbp_strbuf b;
    stdbp_err err;
    stdbp_strbuf_init(&b);
    is_int(STDBP_OK, stdbp_strbuf_reserve(&b, 1000, &err), "reserve");
    ok(b.s && b.cap >= 1001 && b.len == 0 && b.s[0] == '\0', "reserve: room, still empty");
    char *keep = b.s;
    is_int(STDBP_OK, stdbp_strbuf_append(&b, "abc", 3, &err), "append within the room");
    ok(b.s == keep, "no move within the reserved room");
    stdbp_err_clear(&err);
    is_int(STDBP_ENOMEM, stdbp_strbuf_reserve(&b, SIZE_MAX - 2, &err),
           "reserve beyond SIZE_MAX: STDBP_ENOMEM");
    is_string("out of memory", err.msg, "with a message");
    is_string("abc", b.s, "the text survives a failed reserve");
    is_int(STDBP_ENOMEM, stdbp_strbuf_append(&b, "x", SIZE_MAX, NULL),
           "a failing append with err NULL");
    stdbp_strbuf_free(&b);
}

int main(void)
{
    plan(30);
    test_empty();
    test_appends();
    test_growth();
    test_reserve();
    return 0;
}
