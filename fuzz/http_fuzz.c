/* libFuzzer target: arbitrary bytes as an HTTP/1.1 response, through the
 * parser and chunked decoder that client:post_signed reads responses with
 * (src/http_raw.c). For the bytes x:
 * - dyn_raw_parse_head never reads past x and, when it parses, gives a
 *   head within x (ending in a blank line), a status of 100-999 and a
 *   Content-Length that is -1 for a chunked body;
 * - on any prefix of x it says "incomplete" or the same as on x, never
 *   something else (the exchange parses as bytes arrive);
 * - a chunked body decodes to the same bytes, the same end and the same
 *   verdict whether x arrives at once or split at a point taken from x,
 *   and the decoded body never outgrows what was read. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "http_raw.h"

/* Decodes the chunked body of buf[0..len) from start, feeding the bytes up
 * to split first. */
static int dechunk(const uint8_t *data, size_t len, size_t start, size_t split,
                   char **out, dyn_raw_chunks *c)
{
    char *buf = malloc(len ? len : 1);
    const char *why = NULL;
    int k = 0;
    if (!buf)
        fuzz_fail("out of memory");
    memcpy(buf, data, len);
    dyn_raw_chunks_init(c, start);
    if (split > start && split < len) {
        k = dyn_raw_dechunk(c, buf, split, &why);
        if (k != 0 && (c->rpos > split))
            fuzz_fail("dechunk read past the bytes it was given");
    }
    if (k == 0)
        k = dyn_raw_dechunk(c, buf, len, &why);
    if (k < 0 && !why)
        fuzz_fail("dechunk failed without saying why");
    if (c->wpos > c->rpos || c->rpos > len || c->wpos < start)
        fuzz_fail("dechunk positions out of order: %zu %zu %zu", c->wpos, c->rpos, len);
    *out = buf;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dyn_raw_head h, hp;
    const char *why = NULL;
    int k = dyn_raw_parse_head((const char *)data, size, &h, &why), kp;
    size_t cut = size ? data[0] % (size + 1) : 0;

    if (k < 0 && !why)
        fuzz_fail("parse failed without saying why");
    if (k > 0) {
        if (h.head_len > size || h.head_len < 4
            || memcmp(data + h.head_len - 4, "\r\n\r\n", 4) != 0)
            fuzz_fail("head of %zu bytes in %zu", h.head_len, size);
        if (h.status < 100 || h.status > 999)
            fuzz_fail("status %d", h.status);
        if (h.chunked && h.length != -1)
            fuzz_fail("a chunked head with a length");
    }
    kp = dyn_raw_parse_head((const char *)data, cut, &hp, &why);
    if (kp != 0 && kp != k)
        fuzz_fail("a prefix of %zu bytes parsed as %d, the whole as %d", cut, kp, k);
    if (kp > 0 && hp.head_len != h.head_len)
        fuzz_fail("a prefix found another head end");

    if (k > 0 && h.chunked) {
        char *a, *b;
        dyn_raw_chunks ca, cb;
        size_t split = h.head_len + (size > h.head_len ? data[size - 1] % (size - h.head_len) : 0);
        int ka = dechunk(data, size, h.head_len, size, &a, &ca);
        int kb = dechunk(data, size, h.head_len, split, &b, &cb);
        if (ka != kb)
            fuzz_fail("dechunk says %d at once and %d split at %zu", ka, kb, split);
        if (ka > 0 && (ca.rpos != cb.rpos || ca.wpos != cb.wpos
                       || memcmp(a + h.head_len, b + h.head_len, ca.wpos - h.head_len) != 0))
            fuzz_fail("dechunk decodes differently split at %zu", split);
        free(a);
        free(b);
    }
    return 0;
}
