/* A growable NUL-terminated string, for code that builds text of unknown
 * length (the emitted config, the key reference, YAML flow text, a file
 * read whole). Every call that can allocate returns a stdbp_status
 * (STDBP_ENOMEM, with "out of memory" in err when err is not NULL); after
 * a failure the buffer still holds what it had and must still be freed.
 *
 *     stdbp_strbuf b;
 *     stdbp_strbuf_init(&b);
 *     if ((st = stdbp_strbuf_appendf(&b, err, "%d", 42)) == STDBP_OK)
 *         st = stdbp_strbuf_puts(&b, " items", err);
 *     ... use b.s (b.len bytes) or take it with stdbp_strbuf_detach ...
 *     stdbp_strbuf_free(&b);
 *
 * Private to the library (not installed). Not collective; no global state. */
#ifndef STDBP_UTIL_STRBUF_H
#define STDBP_UTIL_STRBUF_H

#include <stddef.h>

#include "stdbp/error.h"

typedef struct stdbp_strbuf {
    char *s;    /* the text, NUL-terminated; NULL until the first growth */
    size_t len; /* bytes of text, without the NUL (may include NULs) */
    size_t cap; /* bytes allocated at s */
} stdbp_strbuf;

/* An empty buffer that owns nothing yet. Cannot fail. */
void stdbp_strbuf_init(stdbp_strbuf *b);
/* Room for n more bytes after len plus the NUL; b->s is never NULL
 * afterwards. Grows by doubling. */
stdbp_status stdbp_strbuf_reserve(stdbp_strbuf *b, size_t n, stdbp_err *err) STDBP_WUR;
/* Append n bytes of s (which may contain NULs). */
stdbp_status stdbp_strbuf_append(stdbp_strbuf *b, const char *s, size_t n,
                                 stdbp_err *err) STDBP_WUR;
/* Append the NUL-terminated s. */
stdbp_status stdbp_strbuf_puts(stdbp_strbuf *b, const char *s, stdbp_err *err) STDBP_WUR;
/* Append printf-style formatted text. */
stdbp_status stdbp_strbuf_appendf(stdbp_strbuf *b, stdbp_err *err, const char *fmt, ...)
    STDBP_PRINTF(3, 4) STDBP_WUR;
/* Hand the text over to the caller (free() it; NULL if the buffer never
 * grew) and leave b empty. Cannot fail. */
char *stdbp_strbuf_detach(stdbp_strbuf *b);
/* Free the text and leave b empty; accepts an empty buffer. */
void stdbp_strbuf_free(stdbp_strbuf *b);

#endif
