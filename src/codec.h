/* Internal interface shared by codec.c (Lua API), encode.c, decode.c and
 * number.c. Nothing here is visible outside dynamo.core. */
#ifndef DYNAMO_CODEC_H
#define DYNAMO_CODEC_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "buf.h"

#define DYN_CODEC_MT  "dynamo.codec"
#define DYN_BINARY_MT "dynamo.binary"
#define DYN_SET_MT    "dynamo.set"
#define DYN_LIST_MT   "dynamo.list"
#define DYN_MAP_MT    "dynamo.map"

/* Encode: tables nested inside one attribute value (DynamoDB's own limit),
 * and separately tables nested in the plain JSON around them. Also what
 * stops reference cycles. */
#define DYN_MAX_NESTING 32
/* Decode: JSON containers nested in the input (protects the C stack). */
#define DYN_DECODE_MAX_DEPTH 1000

/* Upvalues of codec:encode and codec:decode (the marker metatables). */
#define DYN_UV_BINARY_MT lua_upvalueindex(1)
#define DYN_UV_SET_MT    lua_upvalueindex(2)
#define DYN_UV_LIST_MT   lua_upvalueindex(3)

/* How an N decodes (core.codec's numbers option):
 *   EXACT    an integer when integral and within int64, else a float when
 *            the float's shortest digits are the same decimal, else a
 *            dynamo.decimal; in LuaJIT (no integers) a number when
 *            integral and within 2^53 or when the float's shortest digits
 *            are the same decimal and below 2^53, else a dynamo.decimal;
 *   FLOAT    an integer when integral and within int64 (LuaJIT: 2^53),
 *            else the nearest float (lossy);
 *   DECIMAL  always a dynamo.decimal. */
enum { DYN_NUMBERS_EXACT, DYN_NUMBERS_FLOAT, DYN_NUMBERS_DECIMAL };

/* What number.c needs: a C locale for strtod_l and a buffer to make number
 * text NUL-terminated for it. */
typedef struct {
    locale_t c_locale;
    dyn_buf text;
} dyn_numctx;

/* Decode: object keys up to DYN_KEY_MAX bytes are remembered in
 * DYN_KEY_SLOTS slots (a power of two), so the attribute names every item
 * repeats are found without making (hashing, allocating, and later
 * collecting) a new Lua string each time. The strings live in the codec's
 * user value, slot i + 1 for keys[i]. */
#define DYN_KEY_SLOTS 128
#define DYN_KEY_MAX 32
typedef struct {
    unsigned char len;      /* the key's length + 1; 0 while unused */
    char text[DYN_KEY_MAX];
} dyn_key;

/* One core.codec(opts) instance: its options and the scratch buffers every
 * encode/decode reuses. Owned by the userdata, so a raised error never
 * leaks them. */
typedef struct {
    int numbers;            /* DYN_NUMBERS_* */
    dyn_numctx num;
    dyn_buf out;            /* encode: the JSON being written */
    dyn_buf str;            /* decode: unescaped strings, base64 output */
    dyn_buf path;           /* error path, built while unwinding */
    dyn_buf msg;            /* error message without path and position */
    /* Marker metatables compared by address (kept alive by the registry). */
    const void *binary_mt, *set_mt, *list_mt, *map_mt, *decimal_mt;
    /* lua-cjson markers, or NULL; kept alive by registry references. */
    const void *array_mt, *empty_array_mt;
    const void *empty_array;    /* cjson.empty_array (a lightuserdata), or NULL */
    int array_mt_ref, empty_array_mt_ref;
    dyn_key keys[DYN_KEY_SLOTS];
} dyn_codec;

/* encode.c: writes the JSON for the value at idx (value map at map, or 0;
 * both absolute stack indices) into c->out. Raises "path: what" for a value
 * it cannot encode. */
DYN_HIDDEN void dyn_encode(lua_State *L, dyn_codec *c, int idx, int map);
/* decode.c: decodes s[0..len) (s[len] must be '\0', as in every Lua
 * string). Pushes the value and returns 1, or pushes nil and a message and
 * returns 2. */
DYN_HIDDEN int dyn_decode(lua_State *L, dyn_codec *c, const char *s,
                          size_t len, int map);
/* The value at s + from (0-based), and the position after it (1-based). */
DYN_HIDDEN int dyn_decode_at(lua_State *L, dyn_codec *c, const char *s,
                             size_t len, size_t from, int map);
/* A value map that decodes a value to its position (see decode.c). */
#define DYN_MAP_LAZY "@"

/* number.c. RANGE: beyond the double range, or (for a decimal) beyond
 * DynamoDB's; DIGITS: a decimal with more than 38 significant digits. */
enum { DYN_NUM_OK, DYN_NUM_BAD, DYN_NUM_RANGE, DYN_NUM_DIGITS };

/* Decimal text taken apart: value = (neg ? -1 : 1) * mant * 10^exp10. */
typedef struct {
    uint64_t mant;      /* first 19 significant digits, trailing zeros off */
    int64_t exp10;
    int nsig;           /* significant digits up to the last non-zero one */
    int neg;
    int truncated;      /* a non-zero digit beyond the 19th was dropped */
    size_t len;         /* bytes of text consumed */
} dyn_number;

/* Scans decimal text. json != 0: strict JSON grammar, stops at the first
 * byte that cannot continue the number; json == 0: DynamoDB N grammar
 * ([+-] digits [. digits] [e [+-] digits], '.5' and '5.' allowed), which
 * must use all len bytes. Returns 1 if valid. */
DYN_HIDDEN int dyn_number_scan(const char *s, size_t len, int json,
                               dyn_number *n);
/* Pushes the Lua value of scanned text s[0..len) as mode (DYN_NUMBERS_*)
 * says. Returns DYN_NUM_OK, or DYN_NUM_RANGE / DYN_NUM_DIGITS with nothing
 * pushed. Integers in EXACT and FLOAT mode take no allocation. */
DYN_HIDDEN int dyn_number_push(lua_State *L, dyn_numctx *ctx, const char *s,
                               size_t len, const dyn_number *n, int mode);
/* N text -> Lua value: the one place an AttributeValue number is made.
 * Returns DYN_NUM_OK, DYN_NUM_BAD or DYN_NUM_RANGE. */
DYN_HIDDEN int dyn_number_push_text(lua_State *L, dyn_numctx *ctx,
                                    const char *s, size_t len, int mode);

/* Room for any formatted number. */
#define DYN_NUMBER_BUFSIZE 32
DYN_HIDDEN size_t dyn_number_format_integer(char *out, lua_Integer i);
/* Shortest decimal that reads back as x (finite), or the exact integer if x
 * is integral and below 2^63 in magnitude; "-0" for negative zero. */
DYN_HIDDEN size_t dyn_number_format_double(char *out, double x);

/* Inline fast paths of dyn_buf_addc/dyn_buf_add: most writes fit. */
static inline void dyn_out_c(lua_State *L, dyn_buf *b, char c)
{
    if (b->len < b->cap)
        b->data[b->len++] = c;
    else
        dyn_buf_addc(L, b, c);
}

static inline void dyn_out_n(lua_State *L, dyn_buf *b, const void *p,
                             size_t n)
{
    if (n == 0)
        return;     /* b->data may still be NULL: memcpy(NULL, p, 0) is UB */
    if (b->cap - b->len >= n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else {
        dyn_buf_add(L, b, p, n);
    }
}

/* For a JSON object at a position whose value map is at stack index map
 * (0: none): pushes map["{}"] and returns its index when the object is a
 * map whose values share that one map, or 0 when it is a structure whose
 * members each have their own (then a nil is left pushed, to keep the
 * caller's stack layout the same). Pushes nothing when map is 0. */
static inline int dyn_map_values(lua_State *L, int map)
{
    if (!map)
        return 0;
    lua_pushliteral(L, "{}");
    lua_rawget(L, map);
    return lua_isnil(L, -1) ? 0 : lua_gettop(L);
}

/* codec.c: JSON string bytes: 0 copies as is; 1 needs an escape in output
 * or ends/escapes a string in input (", \, control); 2 starts a UTF-8
 * sequence to validate. */
DYN_HIDDEN extern const unsigned char dyn_json_char[256];

/* The first byte in [p, end) that is not plain ASCII string content (a
 * '"', '\\', control character or byte >= 0x80), or end. Eight bytes at a
 * time: a byte minus 0x20, or xor'ed with '"' or '\\' then minus 1, only
 * borrows into its top bit when it is one of those (a borrow from a lower
 * byte means that byte was one); bytes >= 0x80 have it set already. */
static inline const unsigned char *dyn_json_skip(const unsigned char *p,
                                                 const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t x, t;
        memcpy(&x, p, 8);
        t = (x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
            ((x ^ (ones * '\\')) - ones) | x;
        if (t & highs)
            break;
        p += 8;
    }
    while (p < end && dyn_json_char[*p] == 0)
        p++;
    return p;
}

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80, n bytes left),
 * or 0: no overlongs, no surrogates, nothing above U+10FFFF. */
static inline size_t dyn_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* Error paths are built back to front as the recursion unwinds. */
DYN_HIDDEN void dyn_path_prepend_key(lua_State *L, dyn_buf *path,
                                     const char *key, size_t len);
DYN_HIDDEN void dyn_path_prepend_index(lua_State *L, dyn_buf *path,
                                       lua_Integer i);
/* Pushes the path as the user reads it ("Item.orders[3].total"). */
DYN_HIDDEN void dyn_path_push(lua_State *L, const dyn_buf *path);

#endif
