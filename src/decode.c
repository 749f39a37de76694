/* DynamoDB JSON -> Lua values in one pass. Where the value map says "V"
 * the AttributeValue is unwrapped as it is read ({"S":"x"} becomes "x");
 * no intermediate tables. The input is untrusted: nothing here raises for
 * bad bytes (only for running out of memory); every failure becomes
 * nil + message.
 *
 * Functions return 0 with one value pushed, or -1 after recording the
 * error. Errors in AttributeValues name a path, built while unwinding.
 * Lua strings end in '\0', which no JSON token accepts, so the scanners
 * stop at the end without a bounds check on every byte. */
#include <string.h>
#include "codec.h"

enum { E_NONE, E_SYNTAX, E_AV };

typedef struct {
    lua_State *L;
    dyn_codec *c;
    const char *start, *p, *end;
    int err;
    const char *at;     /* where the error is */
    int keys;           /* stack index of the key cache's strings */
} dec;

#define SKIP_WS(p) \
    while (*(p) == ' ' || *(p) == '\n' || *(p) == '\r' || *(p) == '\t') \
        (p)++

static int dec_value(dec *d, int map, int depth);
static int dec_av(dec *d, int depth);

/* ---- errors ---- */

static int syntax(dec *d, const char *at, const char *what)
{
    dyn_buf_reset(&d->c->msg);
    dyn_buf_adds(d->L, &d->c->msg,
                 at >= d->end ? "unexpected end of input" : what);
    d->err = E_SYNTAX;
    d->at = at;
    return -1;
}

static int unexpected(dec *d, const char *at)
{
    unsigned char ch = (unsigned char)*at;
    char what[32];
    if (at >= d->end)
        return syntax(d, at, "");
    if (ch >= 0x20 && ch < 0x7f) {
        memcpy(what, "unexpected character 'x'", 25);
        what[22] = (char)ch;
    } else {
        static const char hex[] = "0123456789ABCDEF";
        memcpy(what, "unexpected byte 0xNN", 21);
        what[18] = hex[ch >> 4];
        what[19] = hex[ch & 15];
    }
    return syntax(d, at, what);
}

/* what [ "detail"] (detail shortened and made printable) */
static int av_error(dec *d, const char *at, const char *tag,
                    const char *what, const char *detail, size_t dlen)
{
    dyn_buf *m = &d->c->msg;
    dyn_buf_reset(m);
    if (tag) {
        dyn_buf_adds(d->L, m, tag);
        dyn_buf_addc(d->L, m, ' ');
    }
    dyn_buf_adds(d->L, m, what);
    if (detail) {
        size_t i, n = dlen > 40 ? 40 : dlen;
        dyn_buf_adds(d->L, m, " \"");
        for (i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)detail[i];
            dyn_buf_addc(d->L, m, ch < 0x20 || ch >= 0x7f || ch == '"' ||
                                  ch == '\\' ? '?' : (char)ch);
        }
        if (n < dlen)
            dyn_buf_adds(d->L, m, "...");
        dyn_buf_addc(d->L, m, '"');
    }
    d->err = E_AV;
    d->at = at;
    return -1;
}

static int unwind_key(dec *d, int key)
{
    if (d->err == E_AV) {
        size_t n;
        const char *s = lua_tolstring(d->L, key, &n);
        dyn_path_prepend_key(d->L, &d->c->path, s, n);
    }
    return -1;
}

static int unwind_index(dec *d, lua_Integer i)
{
    if (d->err == E_AV)
        dyn_path_prepend_index(d->L, &d->c->path, i);
    return -1;
}

static int too_deep(dec *d)
{
    return syntax(d, d->p, "nested more than 1000 levels deep");
}

/* ---- tables made at their size ----
 * A table filled one member at a time is rehashed at every power of two.
 * The decoders gather up to GATHER members on the stack above a slot for
 * the table (nil until made), then make it at that size and move them in;
 * a bigger object or array then grows as usual. */

#define GATHER 256

/* Moves the n key/value pairs at at.. into the table at t (made first,
 * sized n, while t is nil) and drops them from the stack. */
static void flush_pairs(lua_State *L, int t, int at, int n)
{
    int i;
    if (lua_isnil(L, t)) {
        lua_createtable(L, 0, n);
        lua_replace(L, t);
    }
    for (i = 0; i < n; i++) {
        lua_pushvalue(L, at + 2 * i);
        lua_pushvalue(L, at + 2 * i + 1);
        lua_rawset(L, t);
    }
    lua_settop(L, at - 1);
}

/* The same for n array elements at at.., the first being element first. */
static void flush_elements(lua_State *L, int t, int at, int n, lua_Integer first)
{
    int i;
    if (lua_isnil(L, t)) {
        lua_createtable(L, n, 0);
        lua_replace(L, t);
    }
    for (i = 0; i < n; i++) {
        lua_pushvalue(L, at + i);
        lua_rawseti(L, t, first + i);
    }
    lua_settop(L, at - 1);
}

/* ---- strings ---- */

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned ch = p[i], x;
        if (ch >= '0' && ch <= '9')
            x = ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            x = (ch | 0x20) - 'a' + 10;
        else
            return 0;
        v = v << 4 | x;
    }
    *out = v;
    return 1;
}

static void add_utf8(lua_State *L, dyn_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    dyn_out_n(L, b, u, n);
}

/* A bad byte inside a string: the end, a control character or bad UTF-8. */
static int string_error(dec *d, const unsigned char *p)
{
    const char *at = (const char *)p;
    if (*p >= 0x80)
        return syntax(d, at, "invalid UTF-8 in string");
    return syntax(d, at, "control character in string");
}

/* The JSON string at d->p (a '"'). Sets *out and *len to its contents: in the
 * input when it has no escapes, else in c->str (valid until its next use). */
static int dec_str(dec *d, const char **out, size_t *len)
{
    const unsigned char *p = (const unsigned char *)d->p + 1;
    const unsigned char *start = p, *end = (const unsigned char *)d->end;
    dyn_buf *b;

    for (;;) {
        size_t n;
        p = dyn_json_skip(p, end);
        if (*p == '"') {
            *out = (const char *)start;
            *len = (size_t)(p - start);
            d->p = (const char *)p + 1;
            return 0;
        }
        if (*p == '\\')
            break;
        if (*p < 0x80 || !(n = dyn_utf8_seq(p, (size_t)(end - p))))
            return string_error(d, p);
        p += n;
    }

    /* escapes: build the string in c->str */
    b = &d->c->str;
    dyn_buf_reset(b);
    dyn_buf_add(d->L, b, start, (size_t)(p - start));
    for (;;) {
        const unsigned char *run = p;
        size_t n;
        p = dyn_json_skip(p, end);
        dyn_out_n(d->L, b, run, (size_t)(p - run));
        if (*p == '"')
            break;
        if (*p == '\\') {
            const unsigned char *esc = p;
            unsigned cp, lo;
            p++;
            switch (*p) {
            case '"': case '\\': case '/':
                dyn_out_c(d->L, b, (char)*p);
                break;
            case 'b': dyn_out_c(d->L, b, '\b'); break;
            case 'f': dyn_out_c(d->L, b, '\f'); break;
            case 'n': dyn_out_c(d->L, b, '\n'); break;
            case 'r': dyn_out_c(d->L, b, '\r'); break;
            case 't': dyn_out_c(d->L, b, '\t'); break;
            case 'u':
                if (end - p < 5)
                    return syntax(d, d->end, "");
                if (!hex4(p + 1, &cp))
                    return syntax(d, (const char *)esc, "invalid \\u escape");
                p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return syntax(d, (const char *)esc,
                                  "unpaired surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    /* must be followed by its low half */
                    if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
                        !hex4(p + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return syntax(d, (const char *)esc,
                                      "unpaired surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                add_utf8(d->L, b, cp);
                break;
            default:
                if (p >= end)
                    return syntax(d, d->end, "");
                return syntax(d, (const char *)esc, "invalid escape");
            }
            p++;
            continue;
        }
        if (*p < 0x80 || !(n = dyn_utf8_seq(p, (size_t)(end - p))))
            return string_error(d, p);
        dyn_buf_add(d->L, b, p, n);
        p += n;
    }
    *out = b->data ? b->data : "";
    *len = b->len;
    d->p = (const char *)p + 1;
    return 0;
}

/* ---- object keys ---- */

static unsigned key_slot(const char *s, size_t n)
{
    uint64_t a = n, b = 0;
    size_t i;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else {
        for (i = 0; i < n; i++)
            a = a << 8 | (unsigned char)s[i];
    }
    a = (a ^ (b * 0x9E3779B97F4A7C15u) ^ n) * 0xFF51AFD7ED558CCDu;
    return (unsigned)(a >> 32) & (DYN_KEY_SLOTS - 1);
}

/* Pushes key s[0..n), from the codec's key cache when it is there. */
static void push_key(dec *d, const char *s, size_t n)
{
    lua_State *L = d->L;
    dyn_key *k;
    unsigned slot;
    size_t len;
    const char *text;
    if (n > DYN_KEY_MAX) {
        lua_pushlstring(L, s, n);
        return;
    }
    slot = key_slot(s, n);
    k = &d->c->keys[slot];
    if (k->len == n + 1 && memcmp(k->text, s, n) == 0) {
        lua_rawgeti(L, d->keys, (lua_Integer)slot + 1);
        return;
    }
    /* s may be the codec's buffer, which a finalizer run by this
     * allocation may reuse: the slot takes its text from the new string. */
    lua_pushlstring(L, s, n);
    k->len = 0;
    lua_pushvalue(L, -1);
    lua_rawseti(L, d->keys, (lua_Integer)slot + 1);
    text = lua_tolstring(L, -1, &len);
    memcpy(k->text, text, len);
    k->len = (unsigned char)(len + 1);
}

/* ---- literals and numbers ---- */

/* Matches word at d->p; on mismatch records the error and returns 0. */
static int literal(dec *d, const char *word, size_t n)
{
    size_t left = (size_t)(d->end - d->p);
    if (left >= n && memcmp(d->p, word, n) == 0) {
        d->p += n;
        return 1;
    }
    if (left < n && memcmp(d->p, word, left) == 0)
        syntax(d, d->end, "");
    else
        syntax(d, d->p, "invalid literal");
    return 0;
}

static int dec_number(dec *d)
{
    dyn_number n;
    const char *at = d->p;
    if (!dyn_number_scan(at, (size_t)(d->end - at), 1, &n))
        return syntax(d, at, "invalid number");
    /* plain JSON numbers are never decimals, whatever the mode */
    if (dyn_number_push(d->L, &d->c->num, at, n.len, &n,
                        DYN_NUMBERS_FLOAT) != DYN_NUM_OK)
        return syntax(d, at, "number out of range");
    d->p += n.len;
    return 0;
}

/* ---- plain JSON ---- */

static int dec_object(dec *d, int map, int depth)
{
    lua_State *L = d->L;
    int t, sub, perkey, at, n = 0;
    if (depth > DYN_DECODE_MAX_DEPTH || !lua_checkstack(L, 8))
        return too_deep(d);
    lua_pushnil(L);
    t = lua_gettop(L);
    sub = dyn_map_values(L, map);
    perkey = map && !sub;   /* a structure: each member has its own map */
    at = lua_gettop(L) + 1;
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == '}') {
        d->p++;
        lua_newtable(L);
        lua_replace(L, t);
        lua_settop(L, t);
        return 0;
    }
    for (;;) {
        const char *ks;
        size_t kl;
        int k, vmap = sub;
        if (*d->p != '"')
            return syntax(d, d->p, "expected an object key");
        if (n == GATHER) {
            flush_pairs(L, t, at, n);
            n = 0;
        }
        if (!lua_checkstack(L, 8))
            return too_deep(d);
        if (dec_str(d, &ks, &kl))
            return -1;
        push_key(d, ks, kl);
        k = lua_gettop(L);
        SKIP_WS(d->p);
        if (*d->p != ':')
            return syntax(d, d->p, "expected ':'");
        d->p++;
        SKIP_WS(d->p);
        if (perkey) {
            lua_pushvalue(L, k);
            lua_rawget(L, map);
            vmap = lua_isnil(L, -1) ? 0 : k + 1;
        }
        if (dec_value(d, vmap, depth + 1))
            return unwind_key(d, k);
        if (perkey)
            lua_replace(L, k + 1);
        n++;
        SKIP_WS(d->p);
        if (*d->p == ',') {
            d->p++;
            SKIP_WS(d->p);
        } else if (*d->p == '}') {
            d->p++;
            break;
        } else {
            return syntax(d, d->p, "expected ',' or '}'");
        }
    }
    flush_pairs(L, t, at, n);
    lua_settop(L, t);
    return 0;
}

static int dec_array(dec *d, int map, int depth)
{
    lua_State *L = d->L;
    int t, at, sub = 0, n = 0;
    lua_Integer i;
    if (depth > DYN_DECODE_MAX_DEPTH || !lua_checkstack(L, 8))
        return too_deep(d);
    lua_pushnil(L);
    t = lua_gettop(L);
    if (map) {
        lua_pushliteral(L, "[]");
        lua_rawget(L, map);
        if (!lua_isnil(L, -1))
            sub = lua_gettop(L);
    }
    at = lua_gettop(L) + 1;
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == ']') {
        /* keeps re-encoding it as [] rather than {} */
        d->p++;
        lua_newtable(L);
        lua_replace(L, t);
        lua_settop(L, t);
        lua_pushvalue(L, DYN_UV_LIST_MT);
        lua_setmetatable(L, t);
        return 0;
    }
    for (i = 1;; i++) {
        if (n == GATHER) {
            flush_elements(L, t, at, n, i - n);
            n = 0;
        }
        if (!lua_checkstack(L, 8))
            return too_deep(d);
        if (dec_value(d, sub, depth + 1))
            return unwind_index(d, i);
        n++;
        SKIP_WS(d->p);
        if (*d->p == ',') {
            d->p++;
            SKIP_WS(d->p);
        } else if (*d->p == ']') {
            d->p++;
            break;
        } else {
            return syntax(d, d->p, "expected ',' or ']'");
        }
    }
    flush_elements(L, t, at, n, i - n + 1);
    lua_settop(L, t);
    return 0;
}

/* ---- lazy values ---- */

/* Steps over one JSON value without building it, checking what it must to
 * find the value's end (strings fully; the rest when it is decoded). */
static int skip_value(dec *d, int depth)
{
    const char *s;
    size_t n;
    char close;
    if (*d->p == '"')
        return dec_str(d, &s, &n);
    if (*d->p != '{' && *d->p != '[') {
        if (dec_value(d, 0, depth))
            return -1;
        lua_pop(d->L, 1);
        return 0;
    }
    if (depth > DYN_DECODE_MAX_DEPTH)
        return too_deep(d);
    close = *d->p == '{' ? '}' : ']';
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == close) {
        d->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (*d->p != '"')
                return syntax(d, d->p, "expected an object key");
            if (dec_str(d, &s, &n))
                return -1;
            SKIP_WS(d->p);
            if (*d->p != ':')
                return syntax(d, d->p, "expected ':'");
            d->p++;
            SKIP_WS(d->p);
        }
        if (skip_value(d, depth + 1))
            return -1;
        SKIP_WS(d->p);
        if (*d->p == ',') {
            d->p++;
            SKIP_WS(d->p);
        } else if (*d->p == close) {
            d->p++;
            return 0;
        } else {
            return syntax(d, d->p, close == '}' ? "expected ',' or '}'"
                                                : "expected ',' or ']'");
        }
    }
}

/* Where the value map says DYN_MAP_LAZY the value decodes to its byte
 * position (1-based), and codec:decode_at reads it when it is wanted: an
 * iterator holds a page's text, not a page of tables. */
static int dec_lazy(dec *d, int depth)
{
    lua_pushinteger(d->L, (lua_Integer)(d->p - d->start) + 1);
    return skip_value(d, depth);
}

static int dec_value(dec *d, int map, int depth)
{
    lua_State *L = d->L;
    if (map && lua_type(L, map) == LUA_TSTRING)
        return *lua_tostring(L, map) == DYN_MAP_LAZY[0] ? dec_lazy(d, depth)
                                                        : dec_av(d, depth);
    switch (*d->p) {
    case '{':
        return dec_object(d, map, depth);
    case '[':
        return dec_array(d, map, depth);
    case '"': {
        const char *s;
        size_t n;
        if (dec_str(d, &s, &n))
            return -1;
        lua_pushlstring(L, s, n);
        return 0;
    }
    case 't':
        if (!literal(d, "true", 4))
            return -1;
        lua_pushboolean(L, 1);
        return 0;
    case 'f':
        if (!literal(d, "false", 5))
            return -1;
        lua_pushboolean(L, 0);
        return 0;
    case 'n':
        if (!literal(d, "null", 4))
            return -1;
        lua_pushlightuserdata(L, NULL);
        return 0;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return dec_number(d);
    default:
        return unexpected(d, d->p);
    }
}

/* ---- AttributeValues ---- */

enum { AV_S, AV_N, AV_B, AV_BOOL, AV_NULL, AV_M, AV_L, AV_SS, AV_NS,
       AV_BS, AV_UNKNOWN };

static int av_type(const char *s, size_t n)
{
    switch (n) {
    case 1:
        switch (s[0]) {
        case 'S': return AV_S;
        case 'N': return AV_N;
        case 'B': return AV_B;
        case 'M': return AV_M;
        case 'L': return AV_L;
        }
        break;
    case 2:
        if (s[1] != 'S')
            break;
        switch (s[0]) {
        case 'S': return AV_SS;
        case 'N': return AV_NS;
        case 'B': return AV_BS;
        }
        break;
    case 4:
        if (memcmp(s, "BOOL", 4) == 0)
            return AV_BOOL;
        if (memcmp(s, "NULL", 4) == 0)
            return AV_NULL;
        break;
    }
    return AV_UNKNOWN;
}

static const char *const av_tag[] = {"S", "N", "B", "BOOL", "NULL", "M",
                                     "L", "SS", "NS", "BS"};

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Strict base64 (padded, no whitespace, unused bits zero). o may be s:
 * each group is read before its shorter output is written. Returns the
 * length, or (size_t)-1. */
static size_t b64_decode(const unsigned char *s, size_t len, unsigned char *o)
{
    size_t i, n = 0;
    if (len % 4)
        return (size_t)-1;
    for (i = 0; i < len; i += 4) {
        int a = b64_value(s[i]), b = b64_value(s[i + 1]), c, e;
        int last = i + 4 == len;
        if (a < 0 || b < 0)
            return (size_t)-1;
        if (last && s[i + 2] == '=') {
            if (s[i + 3] != '=' || (b & 15))
                return (size_t)-1;
            o[n++] = (unsigned char)(a << 2 | b >> 4);
            break;
        }
        c = b64_value(s[i + 2]);
        if (c < 0)
            return (size_t)-1;
        if (last && s[i + 3] == '=') {
            if (c & 3)
                return (size_t)-1;
            o[n++] = (unsigned char)(a << 2 | b >> 4);
            o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
            break;
        }
        e = b64_value(s[i + 3]);
        if (e < 0)
            return (size_t)-1;
        o[n++] = (unsigned char)(a << 2 | b >> 4);
        o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
        o[n++] = (unsigned char)((c & 3) << 6 | e);
    }
    return n;
}

/* Pushes the bytes of base64 text s (from dec_str); 0, or -1 if invalid. */
static int push_base64(dec *d, const char *s, size_t len)
{
    dyn_buf *b = &d->c->str;
    unsigned char *o;
    size_t n;
    if (len > 0 && s == b->data) {
        o = (unsigned char *)b->data;   /* in place */
    } else {
        dyn_buf_reset(b);
        o = (unsigned char *)dyn_buf_reserve(d->L, b, len / 4 * 3 + 3);
    }
    n = b64_decode((const unsigned char *)s, len, o);
    if (n == (size_t)-1)
        return -1;
    lua_pushlstring(d->L, (const char *)o, n);
    return 0;
}

/* Expects a JSON string for tag; *at is where it starts. */
static int av_string(dec *d, int type, const char **s, size_t *n)
{
    if (*d->p != '"') {
        if (d->p >= d->end)
            return syntax(d, d->p, "");
        return av_error(d, d->p, av_tag[type], "value must be a string",
                        NULL, 0);
    }
    return dec_str(d, s, n);
}

static int push_number(dec *d, const char *at, const char *s, size_t n)
{
    int r = dyn_number_push_text(d->L, &d->c->num, s, n, d->c->numbers);
    if (r == DYN_NUM_BAD)
        return av_error(d, at, NULL, "invalid number", s, n);
    if (r == DYN_NUM_RANGE)
        return av_error(d, at, NULL, "number out of range", s, n);
    if (r == DYN_NUM_DIGITS)
        return av_error(d, at, NULL,
                        "number has more than 38 significant digits", s, n);
    return 0;
}

/* "M": members are AttributeValues. */
static int dec_av_map(dec *d, int depth)
{
    lua_State *L = d->L;
    int t, n = 0;
    if (depth > DYN_DECODE_MAX_DEPTH || !lua_checkstack(L, 8))
        return too_deep(d);
    lua_pushnil(L);
    t = lua_gettop(L);
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == '}') {
        d->p++;
        lua_newtable(L);
        lua_replace(L, t);
        return 0;
    }
    for (;;) {
        const char *ks;
        size_t kl;
        if (*d->p != '"')
            return syntax(d, d->p, "expected an object key");
        if (n == GATHER) {
            flush_pairs(L, t, t + 1, n);
            n = 0;
        }
        if (!lua_checkstack(L, 8))
            return too_deep(d);
        if (dec_str(d, &ks, &kl))
            return -1;
        push_key(d, ks, kl);
        SKIP_WS(d->p);
        if (*d->p != ':')
            return syntax(d, d->p, "expected ':'");
        d->p++;
        SKIP_WS(d->p);
        if (dec_av(d, depth + 1))
            return unwind_key(d, t + 1 + 2 * n);
        n++;
        SKIP_WS(d->p);
        if (*d->p == ',') {
            d->p++;
            SKIP_WS(d->p);
        } else if (*d->p == '}') {
            d->p++;
            flush_pairs(L, t, t + 1, n);
            return 0;
        } else {
            return syntax(d, d->p, "expected ',' or '}'");
        }
    }
}

/* "L": elements are AttributeValues; an empty one keeps list_mt. */
static int dec_av_list(dec *d, int depth)
{
    lua_State *L = d->L;
    int t, n = 0;
    lua_Integer i;
    if (depth > DYN_DECODE_MAX_DEPTH || !lua_checkstack(L, 8))
        return too_deep(d);
    lua_pushnil(L);
    t = lua_gettop(L);
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == ']') {
        d->p++;
        lua_newtable(L);
        lua_replace(L, t);
        lua_pushvalue(L, DYN_UV_LIST_MT);
        lua_setmetatable(L, t);
        return 0;
    }
    for (i = 1;; i++) {
        if (n == GATHER) {
            flush_elements(L, t, t + 1, n, i - n);
            n = 0;
        }
        if (!lua_checkstack(L, 8))
            return too_deep(d);
        if (dec_av(d, depth + 1))
            return unwind_index(d, i);
        n++;
        SKIP_WS(d->p);
        if (*d->p == ',') {
            d->p++;
            SKIP_WS(d->p);
        } else if (*d->p == ']') {
            d->p++;
            flush_elements(L, t, t + 1, n, i - n + 1);
            return 0;
        } else {
            return syntax(d, d->p, "expected ',' or ']'");
        }
    }
}

/* "SS", "NS", "BS": a set_mt table of strings, numbers or byte strings;
 * a BS set also gets binary = true. */
static int dec_av_set(dec *d, int type)
{
    lua_State *L = d->L;
    int t;
    lua_Integer i;
    lua_newtable(L);
    t = lua_gettop(L);
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == ']') {
        d->p++;
    } else {
        for (i = 1;; i++) {
            const char *at = d->p, *s;
            size_t n;
            if (*at != '"') {
                if (at >= d->end)
                    return syntax(d, at, "");
                av_error(d, at, av_tag[type], "element must be a string",
                         NULL, 0);
                return unwind_index(d, i);
            }
            if (dec_str(d, &s, &n))
                return -1;
            if (type == AV_SS) {
                lua_pushlstring(L, s, n);
            } else if (type == AV_NS) {
                if (push_number(d, at, s, n))
                    return unwind_index(d, i);
            } else if (push_base64(d, s, n)) {
                av_error(d, at, NULL, "invalid base64", NULL, 0);
                return unwind_index(d, i);
            }
            lua_rawseti(L, t, i);
            SKIP_WS(d->p);
            if (*d->p == ',') {
                d->p++;
                SKIP_WS(d->p);
            } else if (*d->p == ']') {
                d->p++;
                break;
            } else {
                return syntax(d, d->p, "expected ',' or ']'");
            }
        }
    }
    lua_pushvalue(L, DYN_UV_SET_MT);
    lua_setmetatable(L, t);
    if (type == AV_BS) {
        lua_pushliteral(L, "binary");
        lua_pushboolean(L, 1);
        lua_rawset(L, t);
    }
    return 0;
}

/* One AttributeValue: {"<type>": <value>}, unwrapped. */
static int dec_av(dec *d, int depth)
{
    lua_State *L = d->L;
    const char *at = d->p, *tag_at, *s;
    size_t n;
    int type;

    if (*at != '{') {
        if (at >= d->end)
            return syntax(d, at, "");
        return av_error(d, at, NULL, "AttributeValue must be a JSON object",
                        NULL, 0);
    }
    if (depth > DYN_DECODE_MAX_DEPTH)
        return too_deep(d);
    d->p++;
    SKIP_WS(d->p);
    if (*d->p == '}')
        return av_error(d, at, NULL, "empty AttributeValue", NULL, 0);
    if (*d->p != '"')
        return syntax(d, d->p, "expected an object key");
    tag_at = d->p;
    s = d->p + 1;
    /* Every tag is 1 to 4 capital letters: read it in place when it is
     * one, and through dec_str (escapes, errors) when not. */
    for (n = 0; n < 4 && s + n < d->end && s[n] >= 'A' && s[n] <= 'Z'; n++)
        ;
    if (s + n < d->end && s[n] == '"')
        d->p = s + n + 1;
    else if (dec_str(d, &s, &n))
        return -1;
    type = av_type(s, n);
    if (type == AV_UNKNOWN)
        return av_error(d, tag_at, NULL, "unknown AttributeValue type", s, n);
    SKIP_WS(d->p);
    if (*d->p != ':')
        return syntax(d, d->p, "expected ':'");
    d->p++;
    SKIP_WS(d->p);

    switch (type) {
    case AV_S:
        if (av_string(d, type, &s, &n))
            return -1;
        lua_pushlstring(L, s, n);
        break;
    case AV_N: {
        const char *vat = d->p;
        if (av_string(d, type, &s, &n) || push_number(d, vat, s, n))
            return -1;
        break;
    }
    case AV_B: {
        const char *vat = d->p;
        /* before the string: an allocation may run a finalizer that uses
         * this codec, and s may point into its buffer */
        lua_createtable(L, 1, 0);
        if (av_string(d, type, &s, &n))
            return -1;
        if (push_base64(d, s, n))
            return av_error(d, vat, NULL, "invalid base64", NULL, 0);
        lua_rawseti(L, -2, 1);
        lua_pushvalue(L, DYN_UV_BINARY_MT);
        lua_setmetatable(L, -2);
        break;
    }
    case AV_BOOL:
        if (*d->p == 't' && literal(d, "true", 4))
            lua_pushboolean(L, 1);
        else if (*d->p == 'f' && literal(d, "false", 5))
            lua_pushboolean(L, 0);
        else if (d->err || d->p >= d->end)
            return d->err ? -1 : syntax(d, d->p, "");
        else
            return av_error(d, d->p, "BOOL", "value must be true or false",
                            NULL, 0);
        break;
    case AV_NULL:
        if (*d->p == 't' && literal(d, "true", 4))
            lua_pushlightuserdata(L, NULL);
        else if (d->err || d->p >= d->end)
            return d->err ? -1 : syntax(d, d->p, "");
        else
            return av_error(d, d->p, "NULL", "value must be true", NULL, 0);
        break;
    case AV_M:
        if (*d->p != '{')
            goto not_container;
        if (dec_av_map(d, depth + 1))
            return -1;
        break;
    case AV_L:
        if (*d->p != '[')
            goto not_container;
        if (dec_av_list(d, depth + 1))
            return -1;
        break;
    default:    /* sets */
        if (*d->p != '[')
            goto not_container;
        if (dec_av_set(d, type))
            return -1;
        break;
    }
    SKIP_WS(d->p);
    if (*d->p == ',')
        return av_error(d, at, NULL, "AttributeValue has more than one type",
                        NULL, 0);
    if (*d->p != '}')
        return syntax(d, d->p, "expected '}'");
    d->p++;
    return 0;

not_container:
    if (d->p >= d->end)
        return syntax(d, d->p, "");
    return av_error(d, d->p, av_tag[type],
                    type == AV_M ? "value must be an object"
                                 : "value must be an array", NULL, 0);
}

/* ---- entry ---- */

/* Decodes the value at s + from; with one, stops after it and also pushes
 * the position after it (1-based), else requires the end of the input. */
static int decode(lua_State *L, dyn_codec *c, const char *s, size_t len,
                  size_t from, int map, int one)
{
    dec d;
    int base = lua_gettop(L);
    char pos[DYN_NUMBER_BUFSIZE];
    dyn_getuservalue(L, 1); /* the codec's: the key cache's strings */
    d.keys = lua_gettop(L);
    d.L = L;
    d.c = c;
    d.start = s;
    d.p = s + from;
    d.end = s + len;
    d.err = E_NONE;
    d.at = d.p;
    dyn_buf_reset(&c->path);
    dyn_buf_reset(&c->msg);

    SKIP_WS(d.p);
    if (dec_value(&d, map, 1) == 0) {
        if (one) {
            lua_pushinteger(L, (lua_Integer)(d.p - d.start) + 1);
            return 2;
        }
        SKIP_WS(d.p);
        if (d.p == d.end)
            return 1;
        syntax(&d, d.p, "unexpected data after the value");
    }
    lua_settop(L, base);
    lua_pushnil(L);
    pos[dyn_number_format_integer(pos, (lua_Integer)(d.at - d.start) + 1)] =
        '\0';
    if (d.err == E_SYNTAX) {
        /* invalid JSON at byte 17: expected ':' */
        lua_pushliteral(L, "invalid JSON at byte ");
        lua_pushstring(L, pos);
        lua_pushliteral(L, ": ");
        lua_pushlstring(L, c->msg.data, c->msg.len);
        lua_concat(L, 4);
    } else {
        /* Items[1].price: invalid number "1.2.3" at byte 45 */
        int n = 0;
        if (c->path.len) {
            dyn_path_push(L, &c->path);
            lua_pushliteral(L, ": ");
            n = 2;
        }
        lua_pushlstring(L, c->msg.data, c->msg.len);
        lua_pushliteral(L, " at byte ");
        lua_pushstring(L, pos);
        lua_concat(L, n + 3);
    }
    return 2;
}

int dyn_decode(lua_State *L, dyn_codec *c, const char *s, size_t len, int map)
{
    return decode(L, c, s, len, 0, map, 0);
}

int dyn_decode_at(lua_State *L, dyn_codec *c, const char *s, size_t len,
                  size_t from, int map)
{
    return decode(L, c, s, len, from, map, 1);
}
