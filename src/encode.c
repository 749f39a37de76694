/* Lua values -> DynamoDB JSON in one pass, straight into the codec's
 * output buffer. Where the value map says "V" the value is written as an
 * AttributeValue ({"S":...}, {"N":...}, ...); elsewhere as plain JSON.
 *
 * Every function returns 0, or -1 after storing what went wrong in c->msg;
 * each level then adds its path segment while unwinding, so the happy path
 * pays nothing for error paths. Only dyn_encode raises. */
#include <math.h>
#include <string.h>
#include "codec.h"
#include "decimal.h"

typedef struct {
    lua_State *L;
    dyn_codec *c;
    dyn_buf *b;
} enc;

/* What a table is, by its metatable. */
enum { T_PLAIN, T_BINARY, T_SET, T_LIST, T_MAP, T_EMPTY_ARRAY };
/* What a plain table's keys make it. */
enum { C_EMPTY, C_OBJECT, C_LIST };

static int enc_value(enc *e, int idx, int map, int depth);
static int enc_av(enc *e, int idx, int depth);

#define ADD_LIT(e, s) dyn_out_n((e)->L, (e)->b, s, sizeof(s) - 1)

static int fail(enc *e, const char *what)
{
    dyn_buf_reset(&e->c->msg);
    dyn_buf_adds(e->L, &e->c->msg, what);
    return -1;
}

static int fail_type(enc *e, const char *prefix, int idx, const char *suffix)
{
    dyn_buf_reset(&e->c->msg);
    dyn_buf_adds(e->L, &e->c->msg, prefix);
    dyn_buf_adds(e->L, &e->c->msg, luaL_typename(e->L, idx));
    dyn_buf_adds(e->L, &e->c->msg, suffix);
    return -1;
}

static int unwind_key(enc *e, int key)
{
    size_t n;
    const char *s = lua_tolstring(e->L, key, &n);
    dyn_path_prepend_key(e->L, &e->c->path, s, n);
    return -1;
}

static int unwind_index(enc *e, lua_Integer i)
{
    dyn_path_prepend_index(e->L, &e->c->path, i);
    return -1;
}

/* A JSON string: escapes what JSON requires, copies valid UTF-8 as is. */
static int enc_string(enc *e, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    dyn_buf *b = e->b;
    size_t i = 0, run = 0;

    dyn_buf_reserve(e->L, b, len + 2);
    b->data[b->len++] = '"';
    for (;;) {
        unsigned char ch;
        char esc[6];
        size_t n;
        i = (size_t)(dyn_json_skip(s + i, s + len) - s);
        if (i >= len)
            break;
        ch = s[i];
        if (ch >= 0x80) {
            n = dyn_utf8_seq(s + i, len - i);
            if (n == 0)
                return fail(e, "string is not valid UTF-8 "
                            "(use dynamo.binary for bytes)");
            i += n;
            continue;
        }
        dyn_out_n(e->L, b, s + run, i - run);
        esc[0] = '\\';
        n = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        dyn_out_n(e->L, b, esc, n);
        run = ++i;
    }
    dyn_out_n(e->L, b, s + run, len - run);
    dyn_out_c(e->L, b, '"');
    return 0;
}

static void enc_base64(enc *e, const char *str, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)str;
    char *o;
    size_t i;
    o = dyn_buf_reserve(e->L, e->b, (len + 2) / 3 * 4 + 2);
    *o++ = '"';
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    e->b->len = (size_t)(o - e->b->data);
}

/* Whether the full userdata at idx is a dynamo.decimal. */
static int is_decimal(enc *e, int idx)
{
    const void *mt;
    if (!lua_getmetatable(e->L, idx))
        return 0;
    mt = lua_topointer(e->L, -1);
    lua_pop(e->L, 1);
    return mt == e->c->decimal_mt;
}

/* "number 1E+300 is out of DynamoDB's range (...)" for the float x. */
static int fail_range(enc *e, double x)
{
    char text[DYN_NUMBER_BUFSIZE];
    size_t n = dyn_number_format_double(text, x);
    dyn_decimal_push_limit_error(e->L, DYN_NUM_RANGE, text, n);
    fail(e, lua_tostring(e->L, -1));
    lua_pop(e->L, 1);
    return -1;
}

#ifdef DYN_TCDATA
/* Whether the cdata at idx is a LuaJIT 64-bit integer (1LL, 1ULL); if so
 * its digits are left on the stack (from its __tostring, "-5LL"). */
static int is_int64_cdata(lua_State *L, int idx)
{
    size_t n, i;
    const char *s;
    if (!luaL_callmeta(L, idx, "__tostring"))
        return 0;
    s = lua_tolstring(L, -1, &n);
    if (s && n > 3 && memcmp(s + n - 3, "ULL", 3) == 0)
        n -= 3;
    else if (s && n > 2 && memcmp(s + n - 2, "LL", 2) == 0)
        n -= 2;
    else
        n = 0;
    for (i = n && s[0] == '-'; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    if (n == 0 || i != n || s[n - 1] == '-') {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushlstring(L, s, n);
    lua_remove(L, -2);
    return 1;
}
#endif

/* The number or decimal at idx as JSON number text (av: for an N, where
 * -0 is 0 and a float must be within DynamoDB's range; integers always
 * are, and decimals are checked when made). In LuaJIT also a 64-bit
 * integer cdata, exactly. */
static int enc_number(enc *e, int idx, int av)
{
    char *o;
#ifdef DYN_TCDATA
    if (lua_type(e->L, idx) == DYN_TCDATA) {
        size_t n;
        const char *s;
        if (!is_int64_cdata(e->L, idx))
            return fail(e, "cannot encode a cdata (only 64-bit integers)");
        s = lua_tolstring(e->L, -1, &n);
        dyn_out_n(e->L, e->b, s, n);
        lua_pop(e->L, 1);
        return 0;
    }
#endif
    if (lua_type(e->L, idx) == LUA_TUSERDATA) {
        const dyn_decimal *d = lua_touserdata(e->L, idx);
        o = dyn_buf_reserve(e->L, e->b, DYN_DECIMAL_BUFSIZE);
        e->b->len += dyn_decimal_format(d, o);
        return 0;
    }
    o = dyn_buf_reserve(e->L, e->b, DYN_NUMBER_BUFSIZE);
#if DYN_HAS_INTEGER
    if (lua_isinteger(e->L, idx)) {
        e->b->len += dyn_number_format_integer(o, lua_tointeger(e->L, idx));
        return 0;
    }
#endif
    {
        double x = (double)lua_tonumber(e->L, idx);
        if (isnan(x) || isinf(x))
            return fail(e, "NaN and infinity cannot be stored");
        if (av) {
            /* the shortest digits of x are in range exactly when x is
             * (decimal -> double rounding is monotonic) */
            double ax = fabs(x);
            if (x == 0)
                x = 0.0;
            else if (ax < 1e-130 || ax >= 1e126)
                return fail_range(e, x);
        }
        e->b->len += dyn_number_format_double(o, x);
    }
    return 0;
}

static int table_type(enc *e, int idx)
{
    const void *mt;
    if (!lua_getmetatable(e->L, idx))
        return T_PLAIN;
    mt = lua_topointer(e->L, -1);
    lua_pop(e->L, 1);
    if (mt == e->c->binary_mt)
        return T_BINARY;
    if (mt == e->c->set_mt)
        return T_SET;
    if (mt == e->c->list_mt || (mt == e->c->array_mt && mt))
        return T_LIST;
    if (mt == e->c->map_mt)
        return T_MAP;
    if (mt == e->c->empty_array_mt && mt)
        return T_EMPTY_ARRAY;
    return T_PLAIN;
}

/* Keys 1..n make a list; a first key that is a string makes an object
 * (enc_object checks the rest as it writes, starting from that key and its
 * value, left on the stack); anything else fails. */
static int classify(enc *e, int idx, lua_Integer *n)
{
    lua_State *L = e->L;
    lua_Integer count = 0, max = 0;
    lua_pushnil(L);
    if (!lua_next(L, idx))
        return C_EMPTY;
    if (lua_type(L, -2) == LUA_TSTRING)
        return C_OBJECT;
    do {
        int kt = lua_type(L, -2);
        lua_pop(L, 1);
        if (kt == LUA_TNUMBER) {
            lua_Integer k;
#if DYN_HAS_INTEGER
            if (!lua_isinteger(L, -1)) {
#else
            if (floor(lua_tonumber(L, -1)) != lua_tonumber(L, -1)) {
#endif
                lua_pop(L, 1);
                return fail(e, "cannot encode a table with a non-integer "
                            "number key");
            }
            k = lua_tointeger(L, -1);
            if (k < 1) {
                lua_pop(L, 1);
                return fail(e, "cannot encode a sparse array");
            }
            if (k > max)
                max = k;
            count++;
        } else {
            if (kt == LUA_TSTRING)
                fail(e, "cannot encode a table with both string and "
                     "number keys");
            else
                fail_type(e, "cannot encode a table with a ", -1, " key");
            lua_pop(L, 1);
            return -1;
        }
    } while (lua_next(L, idx));
    if (max != count)
        return fail(e, "cannot encode a sparse array");
    *n = count;
    return C_LIST;
}

/* The table at idx as a JSON object. av: values are AttributeValues at
 * nesting depth; else plain JSON following map (0: none). marked: the
 * table carries map_mt, so a non-string key is not a mixed table.
 * started: classify left the first key and value on the stack (only
 * without a map). */
static int enc_object(enc *e, int idx, int map, int depth, int av,
                      int marked, int started)
{
    lua_State *L = e->L;
    int sub, perkey, first = 1, top = lua_gettop(L) - 2 * started, k;
    sub = dyn_map_values(L, map);
    perkey = map && !sub;   /* a structure: each member has its own map */
    dyn_out_c(L, e->b, '{');
    if (!started) {
        lua_pushnil(L);
        if (!lua_next(L, idx))
            goto done;
    }
    k = lua_gettop(L) - 1;  /* the key's slot, then the value's above it */
    do {
        int vmap = sub, r;
        size_t klen;
        const char *ks;
        if (lua_type(L, k) != LUA_TSTRING) {
            int kt = lua_type(L, k);
            const char *tn = lua_typename(L, kt);
            lua_settop(L, top);
            if (kt == LUA_TNUMBER && !marked)
                return fail(e, "cannot encode a table with both string and "
                            "number keys");
            dyn_buf_reset(&e->c->msg);
            dyn_buf_adds(L, &e->c->msg,
                         marked ? "cannot encode a map with a "
                                : "cannot encode a table with a ");
            dyn_buf_adds(L, &e->c->msg, tn);
            dyn_buf_adds(L, &e->c->msg, " key");
            return -1;
        }
        if (!first)
            dyn_out_c(L, e->b, ',');
        first = 0;
        ks = lua_tolstring(L, k, &klen);
        if (enc_string(e, ks, klen))
            return fail(e, "table key is not valid UTF-8");
        dyn_out_c(L, e->b, ':');
        if (av) {
            r = enc_av(e, k + 1, depth);
        } else {
            if (perkey) {
                lua_pushvalue(L, k);
                lua_rawget(L, map);
                vmap = lua_isnil(L, -1) ? 0 : lua_gettop(L);
            }
            r = enc_value(e, k + 1, vmap, depth);
        }
        if (r)
            return unwind_key(e, k);
        lua_settop(L, k);
    } while (lua_next(L, idx));
done:
    dyn_out_c(L, e->b, '}');
    lua_settop(L, top);
    return 0;
}

/* t[1..n] as a JSON array; av and map as for enc_object. */
static int enc_list(enc *e, int idx, lua_Integer n, int map, int depth,
                    int av)
{
    lua_State *L = e->L;
    int sub = 0, top = lua_gettop(L), v;
    lua_Integer i;
    if (map) {
        lua_pushliteral(L, "[]");
        lua_rawget(L, map);
        if (!lua_isnil(L, -1))
            sub = lua_gettop(L);
    }
    dyn_out_c(L, e->b, '[');
    v = lua_gettop(L) + 1;
    for (i = 1; i <= n; i++) {
        int r;
        if (i > 1)
            dyn_out_c(L, e->b, ',');
        lua_rawgeti(L, idx, i);
        r = av ? enc_av(e, v, depth) : enc_value(e, v, sub, depth);
        if (r)
            return unwind_index(e, i);
        lua_pop(L, 1);
    }
    dyn_out_c(L, e->b, ']');
    lua_settop(L, top);
    return 0;
}

/* t[1] of a binary value, base64 as a JSON string. */
static int enc_binary(enc *e, int idx)
{
    size_t n;
    const char *s;
    lua_rawgeti(e->L, idx, 1);
    if (lua_type(e->L, -1) != LUA_TSTRING)
        return fail(e, "binary value must hold a string at [1]");
    s = lua_tolstring(e->L, -1, &n);
    enc_base64(e, s, n);
    lua_pop(e->L, 1);
    return 0;
}

static int set_is_binary(lua_State *L, int idx)
{
    int r;
    lua_pushliteral(L, "binary");
    lua_rawget(L, idx);
    r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
}

/* A set where JSON is plain: an array of its elements (following map's
 * "[]" like a list). */
static int enc_set_plain(enc *e, int idx, int map, int depth)
{
    lua_State *L = e->L;
    lua_Integer i, n = (lua_Integer)dyn_rawlen(L, idx);
    int binary = set_is_binary(L, idx), sub = 0, top = lua_gettop(L);
    if (map) {
        lua_pushliteral(L, "[]");
        lua_rawget(L, map);
        if (!lua_isnil(L, -1))
            sub = lua_gettop(L);
    }
    dyn_out_c(L, e->b, '[');
    for (i = 1; i <= n; i++) {
        int r = 0;
        if (i > 1)
            dyn_out_c(L, e->b, ',');
        lua_rawgeti(L, idx, i);
        if (binary && lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            enc_base64(e, s, len);
        } else {
            r = enc_value(e, lua_gettop(L), sub, depth);
        }
        if (r)
            return unwind_index(e, i);
        lua_pop(L, 1);
    }
    dyn_out_c(L, e->b, ']');
    lua_settop(L, top);
    return 0;
}

/* Element kinds of a set, for SS / NS / BS. */
enum { K_STRING, K_NUMBER, K_BINARY, K_OTHER };
static const char *const kind_name[] = {"string", "number", "binary"};

static int elem_kind(enc *e, int idx, int binary)
{
    switch (lua_type(e->L, idx)) {
    case LUA_TSTRING:
        return binary ? K_BINARY : K_STRING;
    case LUA_TNUMBER:
        return K_NUMBER;
    case LUA_TTABLE:
        return table_type(e, idx) == T_BINARY ? K_BINARY : K_OTHER;
    case LUA_TUSERDATA:
        return is_decimal(e, idx) ? K_NUMBER : K_OTHER;
#ifdef DYN_TCDATA
    case DYN_TCDATA:
        return K_NUMBER;    /* enc_number refuses what is not an integer */
#endif
    default:
        return K_OTHER;
    }
}

/* A set at an AttributeValue position: {"SS":[..]}, {"NS":[..]} or
 * {"BS":[..]} by element type. */
static int enc_av_set(enc *e, int idx)
{
    lua_State *L = e->L;
    lua_Integer i, n = (lua_Integer)dyn_rawlen(L, idx);
    int binary = set_is_binary(L, idx), kind = K_OTHER;

    if (n == 0)
        return fail(e, "cannot encode an empty set");
    for (i = 1; i <= n; i++) {
        int k, r = 0;
        lua_rawgeti(L, idx, i);
        k = elem_kind(e, -1, binary);
        if (k == K_OTHER) {
            if (lua_istable(L, -1))
                fail(e, "a set cannot hold a table");
            else
                fail_type(e, "a set cannot hold a ", -1, "");
            return unwind_index(e, i);
        }
        if (i == 1) {
            kind = k;
            ADD_LIT(e, "{\"");
            dyn_buf_adds(L, e->b, k == K_STRING   ? "SS"
                                  : k == K_NUMBER ? "NS"
                                                  : "BS");
            ADD_LIT(e, "\":[");
        } else if (k != kind) {
            dyn_buf_reset(&e->c->msg);
            dyn_buf_adds(L, &e->c->msg, "set mixes ");
            dyn_buf_adds(L, &e->c->msg, kind_name[kind]);
            dyn_buf_adds(L, &e->c->msg, " and ");
            dyn_buf_adds(L, &e->c->msg, kind_name[k]);
            dyn_buf_adds(L, &e->c->msg, " elements");
            return -1;
        } else {
            dyn_out_c(L, e->b, ',');
        }
        if (k == K_STRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            r = enc_string(e, s, len);
        } else if (k == K_NUMBER) {
            dyn_out_c(L, e->b, '"');
            r = enc_number(e, lua_gettop(L), 1);
            dyn_out_c(L, e->b, '"');
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            enc_base64(e, s, len);
        } else {
            r = enc_binary(e, lua_gettop(L));
        }
        if (r)
            return unwind_index(e, i);
        lua_pop(L, 1);
    }
    ADD_LIT(e, "]}");
    return 0;
}

static int nested_too_deep(enc *e)
{
    return fail(e, "nested more than 32 levels deep");
}

/* A table at an AttributeValue position, depth levels into the value. */
static int enc_av_table(enc *e, int idx, int depth)
{
    lua_State *L = e->L;
    lua_Integer n = 0;
    int r, t;
    if (depth > DYN_MAX_NESTING)
        return nested_too_deep(e);
    luaL_checkstack(L, 8, "value nested too deeply");
    t = table_type(e, idx);
    switch (t) {
    case T_BINARY:
        ADD_LIT(e, "{\"B\":");
        r = enc_binary(e, idx);
        ADD_LIT(e, "}");
        return r;
    case T_SET:
        return enc_av_set(e, idx);
    case T_LIST:
        n = (lua_Integer)dyn_rawlen(L, idx);
        break;
    case T_MAP:
        ADD_LIT(e, "{\"M\":");
        if ((r = enc_object(e, idx, 0, depth, 1, 1, 0)))
            return r;
        ADD_LIT(e, "}");
        return 0;
    default:
        r = classify(e, idx, &n);
        if (r < 0)
            return r;
        if (r == C_EMPTY && t == T_PLAIN) {
            ADD_LIT(e, "{\"M\":{}}");
            return 0;
        }
        if (r == C_OBJECT) {
            ADD_LIT(e, "{\"M\":");
            if ((r = enc_object(e, idx, 0, depth, 1, 0, 1)))
                return r;
            ADD_LIT(e, "}");
            return 0;
        }
    }
    ADD_LIT(e, "{\"L\":");
    if ((r = enc_list(e, idx, n, 0, depth, 1)))
        return r;
    ADD_LIT(e, "}");
    return 0;
}

/* One value as an AttributeValue; depth: tables it is nested in. */
static int enc_av(enc *e, int idx, int depth)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        ADD_LIT(e, "{\"S\":");
        if (enc_string(e, s, len))
            return -1;
        dyn_out_c(L, e->b, '}');
        return 0;
    }
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            ADD_LIT(e, "{\"BOOL\":true}");
        else
            ADD_LIT(e, "{\"BOOL\":false}");
        return 0;
    case LUA_TLIGHTUSERDATA: {
        const void *p = lua_touserdata(L, idx);
        if (p == NULL) {
            ADD_LIT(e, "{\"NULL\":true}");
            return 0;
        }
        if (p == e->c->empty_array) {
            ADD_LIT(e, "{\"L\":[]}");
            return 0;
        }
        break;
    }
    case LUA_TUSERDATA:
        if (!is_decimal(e, idx))
            break;
        /* fall through */
    case LUA_TNUMBER:
#ifdef DYN_TCDATA
    case DYN_TCDATA:
#endif
        ADD_LIT(e, "{\"N\":\"");
        if (enc_number(e, idx, 1))
            return -1;
        ADD_LIT(e, "\"}");
        return 0;
    case LUA_TTABLE:
        return enc_av_table(e, idx, depth + 1);
    }
    return fail_type(e, "cannot encode a ", idx, "");
}

/* A table where JSON is plain; depth: plain tables it is nested in. */
static int enc_table(enc *e, int idx, int map, int depth)
{
    lua_State *L = e->L;
    lua_Integer n = 0;
    int r, t;
    if (depth > DYN_MAX_NESTING)
        return nested_too_deep(e);
    luaL_checkstack(L, 8, "value nested too deeply");
    t = table_type(e, idx);
    switch (t) {
    case T_BINARY:
        return enc_binary(e, idx);
    case T_SET:
        return enc_set_plain(e, idx, map, depth);
    case T_LIST:
        return enc_list(e, idx, (lua_Integer)dyn_rawlen(L, idx), map, depth,
                        0);
    case T_MAP:
        return enc_object(e, idx, map, depth, 0, 1, 0);
    default:
        r = classify(e, idx, &n);
        if (r < 0)
            return r;
        if (r == C_EMPTY && t == T_PLAIN) {
            /* The API model marks list members with "[]": {} there is []. */
            int list = 0;
            if (map) {
                lua_pushliteral(L, "[]");
                lua_rawget(L, map);
                list = !lua_isnil(L, -1);
                lua_pop(L, 1);
            }
            if (list)
                ADD_LIT(e, "[]");
            else
                ADD_LIT(e, "{}");
            return 0;
        }
        if (r == C_OBJECT) {
            if (map)
                lua_pop(L, 2);  /* its map goes below the iteration */
            return enc_object(e, idx, map, depth, 0, 0, !map);
        }
        return enc_list(e, idx, n, map, depth, 0);
    }
}

/* One value where JSON is plain, unless map says "V". */
static int enc_value(enc *e, int idx, int map, int depth)
{
    lua_State *L = e->L;
    if (map && lua_type(L, map) == LUA_TSTRING)
        return enc_av(e, idx, 0);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return enc_string(e, s, len);
    }
    case LUA_TNUMBER:
#ifdef DYN_TCDATA
    case DYN_TCDATA:
#endif
        return enc_number(e, idx, 0);
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            ADD_LIT(e, "true");
        else
            ADD_LIT(e, "false");
        return 0;
    case LUA_TLIGHTUSERDATA: {
        const void *p = lua_touserdata(L, idx);
        if (p == NULL) {
            ADD_LIT(e, "null");
            return 0;
        }
        if (p == e->c->empty_array) {
            ADD_LIT(e, "[]");
            return 0;
        }
        break;
    }
    case LUA_TUSERDATA:
        if (is_decimal(e, idx))
            return enc_number(e, idx, 0);
        break;
    case LUA_TTABLE:
        return enc_table(e, idx, map, depth + 1);
    }
    return fail_type(e, "cannot encode a ", idx, "");
}

void dyn_encode(lua_State *L, dyn_codec *c, int idx, int map)
{
    enc e;
    e.L = L;
    e.c = c;
    e.b = &c->out;
    dyn_buf_reset(&c->out);
    dyn_buf_reset(&c->path);
    dyn_buf_reset(&c->msg);
    if (enc_value(&e, idx, map, 0) == 0)
        return;
    /* "Item.orders[3].total: cannot encode a function" */
    lua_settop(L, idx > map ? idx : map);
    if (c->path.len) {
        dyn_path_push(L, &c->path);
        lua_pushliteral(L, ": ");
        lua_pushlstring(L, c->msg.data, c->msg.len);
        lua_concat(L, 3);
    } else {
        lua_pushlstring(L, c->msg.data, c->msg.len);
    }
    lua_error(L);
}
