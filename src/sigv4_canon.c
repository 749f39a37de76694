/* SigV4 canonicalisation: URI encoding, path normalisation, canonical
 * query and headers, time stamps. Everything here is byte-exact against
 * the AWS test suites in conformance/sigv4. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sigv4.h"

static const char HEX_UPPER[] = "0123456789ABCDEF";

/* "000102...ff": a byte's two digits at 2 * byte, copied in one move (a
 * request writes three 64-digit hashes). */
#define HEX_ROW(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" \
                   h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char HEX_PAIRS[] =
    HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4") HEX_ROW("5")
    HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b")
    HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");

void sigv4_hex(char *out, const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        memcpy(out + 2 * i, HEX_PAIRS + 2 * in[i], 2);
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* 1 when s[i] starts a %XX escape. */
static int is_escape(const char *s, size_t n, size_t i)
{
    return s[i] == '%' && i + 2 < n
        && hex_value((unsigned char)s[i + 1]) >= 0 && hex_value((unsigned char)s[i + 2]) >= 0;
}

/* Room for every one of n bytes to become %XX. */
static char *reserve_encoded(lua_State *L, dyn_buf *b, size_t n)
{
    if (n > ((size_t)-1) / 3)
        luaL_error(L, "buffer too large");
    return dyn_buf_reserve(L, b, 3 * n);
}

static char *put_encoded(char *p, unsigned char c)
{
    if (is_unreserved(c)) {
        *p++ = (char)c;
    } else {
        *p++ = '%';
        *p++ = HEX_UPPER[c >> 4];
        *p++ = HEX_UPPER[c & 15];
    }
    return p;
}

void sigv4_encode(lua_State *L, dyn_buf *b, const char *s, size_t n)
{
    char *start, *p;
    size_t i;
    if (n == 0)
        return; /* an empty buffer has no data pointer to offset */
    start = p = reserve_encoded(L, b, n);
    for (i = 0; i < n; i++)
        p = put_encoded(p, (unsigned char)s[i]);
    b->len += (size_t)(p - start);
}

/* Decodes %XX escapes, then encodes: the canonical form of raw query text. */
static void recode(lua_State *L, dyn_buf *b, const char *s, size_t n)
{
    char *start, *p;
    size_t i;
    if (n == 0)
        return;
    start = p = reserve_encoded(L, b, n);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_escape(s, n, i)) {
            c = (unsigned char)(hex_value((unsigned char)s[i + 1]) * 16
                                + hex_value((unsigned char)s[i + 2]));
            i += 2;
        }
        p = put_encoded(p, c);
    }
    b->len += (size_t)(p - start);
}

typedef struct {
    size_t off, len;
} segment;

/* RFC 3986 remove_dot_segments, also dropping empty segments ("//"). The
 * result keeps a trailing slash when the path ends in "/", "/." or "/..". */
static void path_normalized(lua_State *L, dyn_buf *out, dyn_buf *segs,
                            const char *s, size_t n)
{
    size_t i = 0, count, k;
    int trailing = 0;
    segment *seg;

    dyn_buf_reset(segs);
    for (;;) {
        size_t j = i, len;
        while (j < n && s[j] != '/')
            j++;
        len = j - i;
        if (len == 0 || (len == 1 && s[i] == '.')) {
            trailing = 1;
        } else if (len == 2 && s[i] == '.' && s[i + 1] == '.') {
            if (segs->len >= sizeof(segment))
                segs->len -= sizeof(segment);
            trailing = 1;
        } else {
            segment sg;
            sg.off = i;
            sg.len = len;
            dyn_buf_add(L, segs, &sg, sizeof sg);
            trailing = 0;
        }
        if (j >= n)
            break;
        i = j + 1;
    }

    count = segs->len / sizeof(segment);
    seg = (segment *)segs->data;
    dyn_buf_addc(L, out, '/');
    for (k = 0; k < count; k++) {
        if (k > 0)
            dyn_buf_addc(L, out, '/');
        sigv4_encode(L, out, s + seg[k].off, seg[k].len);
    }
    if (trailing && count > 0)
        dyn_buf_addc(L, out, '/');
}

/* S3 style: the path is already the encoded form; only bytes that may not
 * appear unencoded (such as a raw space or UTF-8) are encoded. */
static void path_verbatim(lua_State *L, dyn_buf *out, const char *s, size_t n)
{
    char *start, *p;
    size_t i;
    if (n == 0) {
        dyn_buf_addc(L, out, '/');
        return;
    }
    start = p = reserve_encoded(L, out, n);
    for (i = 0; i < n; i++) {
        if (s[i] == '/') {
            *p++ = '/';
        } else if (is_escape(s, n, i)) {
            memcpy(p, s + i, 3);
            p += 3;
            i += 2;
        } else {
            p = put_encoded(p, (unsigned char)s[i]);
        }
    }
    out->len += (size_t)(p - start);
}

void sigv4_path(lua_State *L, dyn_buf *out, dyn_buf *scratch,
                const char *path, size_t n, int normalize)
{
    if (normalize)
        path_normalized(L, out, scratch, path, n);
    else
        path_verbatim(L, out, path, n);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void sigv4_header_value(lua_State *L, dyn_buf *b, const char *v, size_t n)
{
    size_t i = 0;
    char *start, *p;
    int gap = 0;
    while (n > 0 && is_space(v[n - 1]))
        n--;
    while (i < n && is_space(v[i]))
        i++;
    if (i == n)
        return;
    start = p = dyn_buf_reserve(L, b, n - i);
    for (; i < n; i++) {
        if (is_space(v[i])) {
            gap = 1;
            continue;
        }
        if (gap) {
            *p++ = ' ';
            gap = 0;
        }
        *p++ = v[i];
    }
    b->len += (size_t)(p - start);
}

void sigv4_add_header(lua_State *L, dyn_buf *text, dyn_buf *pairs,
                      const char *name, size_t nlen,
                      const char *value, size_t vlen, size_t index)
{
    sigv4_pair pr;
    char *p;
    size_t i;

    pr.name_off = text->len;
    if (nlen > 0) {
        p = dyn_buf_reserve(L, text, nlen);
        for (i = 0; i < nlen; i++) {
            char c = name[i];
            p[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        text->len += nlen;
    }
    pr.name_len = nlen;
    pr.value_off = text->len;
    sigv4_header_value(L, text, value, vlen);
    pr.value_len = text->len - pr.value_off;
    pr.index = index;
    pr.name = pr.value = NULL;
    dyn_buf_add(L, pairs, &pr, sizeof pr);
}

void sigv4_add_param(lua_State *L, dyn_buf *text, dyn_buf *pairs,
                     const char *name, size_t nlen,
                     const char *value, size_t vlen, int decode)
{
    sigv4_pair pr;
    pr.name_off = text->len;
    if (decode)
        recode(L, text, name, nlen);
    else
        sigv4_encode(L, text, name, nlen);
    pr.name_len = text->len - pr.name_off;
    pr.value_off = text->len;
    if (decode)
        recode(L, text, value, vlen);
    else
        sigv4_encode(L, text, value, vlen);
    pr.value_len = text->len - pr.value_off;
    pr.index = pairs->len / sizeof pr;
    pr.name = pr.value = NULL;
    dyn_buf_add(L, pairs, &pr, sizeof pr);
}

void sigv4_parse_query(lua_State *L, dyn_buf *text, dyn_buf *pairs, const char *q, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t j = amp ? (size_t)(amp - q) : n;
        if (j > i) {
            /* "a" and "a=" both mean an empty value */
            const char *eq = memchr(q + i, '=', j - i);
            size_t k = eq ? (size_t)(eq - q) : j;
            sigv4_add_param(L, text, pairs, q + i, k - i,
                            q + (eq ? k + 1 : j), eq ? j - k - 1 : 0, 1);
        }
        i = j + 1;
    }
}

static int compare_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int r = m ? memcmp(a, b, m) : 0;
    if (r)
        return r;
    return an < bn ? -1 : an > bn;
}

static int compare_headers(const void *x, const void *y)
{
    const sigv4_pair *a = x, *b = y;
    int r = compare_bytes(a->name, a->name_len, b->name, b->name_len);
    if (r)
        return r;
    /* qsort is not stable: duplicate headers keep their request order */
    return a->index < b->index ? -1 : a->index > b->index;
}

static int compare_params(const void *x, const void *y)
{
    const sigv4_pair *a = x, *b = y;
    int r = compare_bytes(a->name, a->name_len, b->name, b->name_len);
    if (r)
        return r;
    return compare_bytes(a->value, a->value_len, b->value, b->value_len);
}

sigv4_pair *sigv4_sort(dyn_buf *text, dyn_buf *pairs, int headers, size_t *count)
{
    size_t n = pairs->len / sizeof(sigv4_pair), i;
    sigv4_pair *p = (sigv4_pair *)pairs->data;
    const char *base = text->data ? text->data : "";
    for (i = 0; i < n; i++) {
        p[i].name = base + p[i].name_off;
        p[i].value = base + p[i].value_off;
    }
    if (n > 1)
        qsort(p, n, sizeof *p, headers ? compare_headers : compare_params);
    *count = n;
    return p;
}

void sigv4_write_headers(lua_State *L, dyn_buf *out, dyn_buf *signed_headers,
                         const sigv4_pair *p, size_t count)
{
    size_t i = 0;
    while (i < count) {
        size_t j = i + 1;
        dyn_buf_add(L, out, p[i].name, p[i].name_len);
        dyn_buf_addc(L, out, ':');
        dyn_buf_add(L, out, p[i].value, p[i].value_len);
        /* repeated headers become one line, values comma-joined in order */
        while (j < count && p[j].name_len == p[i].name_len
               && memcmp(p[j].name, p[i].name, p[i].name_len) == 0) {
            dyn_buf_addc(L, out, ',');
            dyn_buf_add(L, out, p[j].value, p[j].value_len);
            j++;
        }
        dyn_buf_addc(L, out, '\n');
        if (i > 0)
            dyn_buf_addc(L, signed_headers, ';');
        dyn_buf_add(L, signed_headers, p[i].name, p[i].name_len);
        i = j;
    }
}

void sigv4_write_params(lua_State *L, dyn_buf *out, const sigv4_pair *p, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        if (i > 0)
            dyn_buf_addc(L, out, '&');
        dyn_buf_add(L, out, p[i].name, p[i].name_len);
        dyn_buf_addc(L, out, '=');
        dyn_buf_add(L, out, p[i].value, p[i].value_len);
    }
}

static void put_digits(char *p, long v, int width)
{
    while (width-- > 0) {
        p[width] = (char)('0' + v % 10);
        v /= 10;
    }
}

int sigv4_format_time(lua_Integer t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    long year;
    if ((lua_Integer)tt != t || !gmtime_r(&tt, &tm))
        return 0;
    year = (long)tm.tm_year + 1900;
    if (year < 0 || year > 9999)
        return 0;
    /* by hand: strftime would depend on the locale */
    put_digits(out, year, 4);
    put_digits(out + 4, tm.tm_mon + 1, 2);
    put_digits(out + 6, tm.tm_mday, 2);
    out[8] = 'T';
    put_digits(out + 9, tm.tm_hour, 2);
    put_digits(out + 11, tm.tm_min, 2);
    put_digits(out + 13, tm.tm_sec, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return 1;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int sigv4_check_time(const char *s, size_t n)
{
    size_t i;
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return two_digits(s + 4) >= 1 && two_digits(s + 4) <= 12
        && two_digits(s + 6) >= 1 && two_digits(s + 6) <= 31
        && two_digits(s + 9) <= 23 && two_digits(s + 11) <= 59 && two_digits(s + 13) <= 60;
}
