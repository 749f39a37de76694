/* The codec's Lua API: core.codec(opts), codec:encode, codec:decode, the
 * type markers and core.null. The work is in encode.c, decode.c and
 * number.c.
 *
 *   core.null        lightuserdata NULL (== cjson.null): DynamoDB NULL and
 *                    JSON null.
 *   core.binary_mt   "dynamo.binary": setmetatable({bytes}, binary_mt) is B.
 *   core.set_mt      "dynamo.set": elements in t[1..n]; SS, NS or BS by
 *                    element type; `binary = true` makes it BS (decoded BS
 *                    sets have it; their elements are plain byte strings).
 *   core.list_mt     "dynamo.list": the table is L / a JSON array, even empty.
 *   core.map_mt      "dynamo.map": the table is M / a JSON object.
 *
 *   core.decimal(x)  a dynamo.decimal (decimal.c); core.decimal_mt its
 *                    metatable.
 *
 *   core.codec{numbers = "exact"|"float"|"decimal", array_mt = mt} -> codec
 *     numbers  "exact" (default): an N that is not an int64 becomes a float
 *              when the float's shortest digits are the same decimal, else
 *              a dynamo.decimal; "float": always a float unless an int64
 *              (lossy); "decimal": every N a dynamo.decimal. LuaJIT has
 *              no integers: there an N is a number only within 2^53
 *              in magnitude (exact mode: beyond, a dynamo.decimal).
 *     array_mt a metatable that also marks lists. Without it: lua-cjson's
 *              cjson.array_mt, and cjson.empty_array_mt (a list when
 *              empty), if cjson is loaded when the codec is made.
 *   codec:encode(value, map) -> json       raises "<path>: <what>"
 *   codec:decode(json, map)  -> value | nil, message
 *   codec:decode_at(json, map, pos) -> value, next | nil, message
 *              the one value starting at byte pos (1-based), and the
 *              position after it; the rest of json is not looked at.
 *     message: "invalid JSON at byte <n>: <what>" for bad JSON,
 *              "<path>: <what> at byte <n>" for a bad AttributeValue.
 *   Paths read like "Items[1].price": the top member, keys joined with
 *   '.', 1-based list indices in brackets; no path at the root.
 *
 * A map (a value map from operations.lua) says where AttributeValues are:
 * "V" (any string but "@"), {Member = map}, {["[]"] = map} or
 * {["{}"] = map}; nil is plain JSON. "@" is lazy: the value decodes to its
 * position, for decode_at to read later (a page's Items, one at a time).
 *
 * AttributeValues: string S (valid UTF-8), integer N, float N (shortest
 * round-trip digits; integral floats below 2^63 exactly; 0 or a magnitude
 * from 1E-130 to below 1E+126, else "number ... is out of DynamoDB's
 * range"), decimal N (its exact digits), boolean BOOL,
 * null NULL, binary B, set SS/NS/BS, list_mt or keys 1..n L, map_mt, string
 * keys or empty M. Decoding gives the same back; an empty L gets list_mt.
 * Plain JSON: the same without the wrappers; a binary is a base64 string,
 * a set an array, a decimal a number with its exact digits, and floats are
 * not held to DynamoDB's range; an empty JSON array decodes with list_mt;
 * numbers are integers when integral and within int64, else floats (never
 * decimals, whatever the mode).
 * Limits: 32 levels of tables inside one attribute value and 32 of plain
 * JSON when encoding (stops cycles too); 1000 levels when decoding.
 */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "codec.h"
#include "decimal.h"

#define R 1     /* needs an escape */
#define U 2     /* UTF-8 lead or continuation byte */
const unsigned char dyn_json_char[256] = {
    R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R,
    R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R,
    0, 0, R, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, R, 0, 0, 0,     /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
    U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
};
#undef R
#undef U

/* Paths are built only on failure, one segment per unwound level. */
static void path_prepend(lua_State *L, dyn_buf *path, const char *seg,
                         size_t n)
{
    dyn_buf_reserve(L, path, n);
    memmove(path->data + n, path->data, path->len);
    memcpy(path->data, seg, n);
    path->len += n;
}

void dyn_path_prepend_key(lua_State *L, dyn_buf *path, const char *key,
                          size_t len)
{
    path_prepend(L, path, key, len);
    path_prepend(L, path, ".", 1);
}

void dyn_path_prepend_index(lua_State *L, dyn_buf *path, lua_Integer i)
{
    char seg[DYN_NUMBER_BUFSIZE + 2];
    size_t n = 0;
    seg[n++] = '[';
    n += dyn_number_format_integer(seg + n, i);
    seg[n++] = ']';
    path_prepend(L, path, seg, n);
}

void dyn_path_push(lua_State *L, const dyn_buf *path)
{
    size_t skip = path->len > 0 && path->data[0] == '.';
    lua_pushlstring(L, path->len ? path->data + skip : "", path->len - skip);
}

static dyn_codec *check_codec(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, DYN_CODEC_MT);
}

static int check_map(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNIL || t == LUA_TNONE)
        return 0;
    if (t != LUA_TTABLE && t != LUA_TSTRING)
        luaL_argerror(L, idx, "value map expected (table, \"V\" or nil)");
    return idx;
}

static int codec_encode(lua_State *L)
{
    dyn_codec *c = check_codec(L, 1);
    int map;
    lua_settop(L, 3);
    map = check_map(L, 3);
    dyn_encode(L, c, 2, map);
    lua_pushlstring(L, c->out.data ? c->out.data : "", c->out.len);
    return 1;
}

static int codec_decode(lua_State *L)
{
    dyn_codec *c = check_codec(L, 1);
    size_t len;
    const char *s;
    int map;
    luaL_checktype(L, 2, LUA_TSTRING);
    s = lua_tolstring(L, 2, &len);
    lua_settop(L, 3);
    map = check_map(L, 3);
    return dyn_decode(L, c, s, len, map);
}

static int codec_decode_at(lua_State *L)
{
    dyn_codec *c = check_codec(L, 1);
    size_t len;
    const char *s;
    lua_Integer pos;
    int map;
    luaL_checktype(L, 2, LUA_TSTRING);
    s = lua_tolstring(L, 2, &len);
    pos = luaL_checkinteger(L, 4);
    luaL_argcheck(L, pos >= 1 && (size_t)pos <= len, 4,
                  "position outside the text");
    lua_settop(L, 4);
    map = check_map(L, 3);
    return dyn_decode_at(L, c, s, len, (size_t)(pos - 1), map);
}

static int codec_gc(lua_State *L)
{
    dyn_codec *c = check_codec(L, 1);
    if (c->num.c_locale) {
        freelocale(c->num.c_locale);
        c->num.c_locale = (locale_t)0;
    }
    dyn_buf_free(&c->num.text);
    dyn_buf_free(&c->out);
    dyn_buf_free(&c->str);
    dyn_buf_free(&c->path);
    dyn_buf_free(&c->msg);
    luaL_unref(L, LUA_REGISTRYINDEX, c->array_mt_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, c->empty_array_mt_ref);
    c->array_mt_ref = c->empty_array_mt_ref = LUA_NOREF;
    return 0;
}

/* Remembers the table on top (popping it) as a marker: its address for
 * comparing, a registry reference to keep it alive. */
static const void *keep_marker(lua_State *L, int *ref)
{
    const void *p = lua_topointer(L, -1);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return p;
}

static const void *registry_mt(lua_State *L, const char *name)
{
    const void *p;
    luaL_getmetatable(L, name);
    p = lua_topointer(L, -1);
    lua_pop(L, 1);
    return p;
}

/* core.codec(opts) */
static int codec_new(lua_State *L)
{
    dyn_codec *c;
    int numbers = DYN_NUMBERS_EXACT, has_array_mt = 0;

    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING
                                ? lua_tostring(L, -2) : NULL;
            if (k && strcmp(k, "numbers") == 0) {
                const char *v = lua_type(L, -1) == LUA_TSTRING
                                    ? lua_tostring(L, -1) : "";
                if (strcmp(v, "exact") == 0)
                    numbers = DYN_NUMBERS_EXACT;
                else if (strcmp(v, "float") == 0)
                    numbers = DYN_NUMBERS_FLOAT;
                else if (strcmp(v, "decimal") == 0)
                    numbers = DYN_NUMBERS_DECIMAL;
                else
                    return luaL_error(L, "codec option 'numbers' must be "
                                      "\"exact\", \"float\" or "
                                      "\"decimal\"");
            } else if (k && strcmp(k, "array_mt") == 0) {
                if (!lua_istable(L, -1))
                    return luaL_error(L, "codec option 'array_mt' must be "
                                      "a table");
                has_array_mt = 1;
            } else {
                return luaL_error(L, "unknown codec option '%s'",
                                  k ? k : luaL_typename(L, -2));
            }
            lua_pop(L, 1);
        }
    }

    c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    c->array_mt_ref = c->empty_array_mt_ref = LUA_NOREF;
    c->numbers = numbers;
    luaL_getmetatable(L, DYN_CODEC_MT);
    lua_setmetatable(L, -2);
    lua_createtable(L, DYN_KEY_SLOTS, 0); /* the key cache's strings */
    dyn_setuservalue(L, -2);
    /* strtod_l needs it; made once per codec, freed by __gc */
    c->num.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c->num.c_locale)
        return luaL_error(L, "cannot create the C locale");
    c->binary_mt = registry_mt(L, DYN_BINARY_MT);
    c->set_mt = registry_mt(L, DYN_SET_MT);
    c->list_mt = registry_mt(L, DYN_LIST_MT);
    c->map_mt = registry_mt(L, DYN_MAP_MT);
    c->decimal_mt = registry_mt(L, DYN_DECIMAL_MT);

    if (has_array_mt) {
        lua_getfield(L, 1, "array_mt");
        c->array_mt = keep_marker(L, &c->array_mt_ref);
    } else {
        /* lua-cjson's markers, only if the program already loaded it */
        lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "cjson");
            if (lua_istable(L, -1)) {
                lua_getfield(L, -1, "array_mt");
                if (lua_istable(L, -1))
                    c->array_mt = keep_marker(L, &c->array_mt_ref);
                else
                    lua_pop(L, 1);
                lua_getfield(L, -1, "empty_array_mt");
                if (lua_istable(L, -1))
                    c->empty_array_mt = keep_marker(L, &c->empty_array_mt_ref);
                else
                    lua_pop(L, 1);
                /* OpenResty's cjson: a sentinel value meaning "[]" */
                lua_getfield(L, -1, "empty_array");
                if (lua_islightuserdata(L, -1))
                    c->empty_array = lua_touserdata(L, -1);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return 1;
}

static const luaL_Reg codec_methods[] = {
    {"encode", codec_encode},
    {"decode", codec_decode},
    {"decode_at", codec_decode_at},
    {NULL, NULL}
};

void dyn_open_codec(lua_State *L)
{
    /* module table on top */
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");

    dyn_newmetatable(L, DYN_BINARY_MT);
    lua_setfield(L, -2, "binary_mt");
    dyn_newmetatable(L, DYN_SET_MT);
    lua_setfield(L, -2, "set_mt");
    dyn_newmetatable(L, DYN_LIST_MT);
    lua_setfield(L, -2, "list_mt");
    dyn_newmetatable(L, DYN_MAP_MT);
    lua_setfield(L, -2, "map_mt");
    dyn_open_decimal(L);

    dyn_newmetatable(L, DYN_CODEC_MT);
    lua_pushcfunction(L, codec_gc);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    /* the methods set metatables on decoded values: upvalues are fastest */
    luaL_getmetatable(L, DYN_BINARY_MT);
    luaL_getmetatable(L, DYN_SET_MT);
    luaL_getmetatable(L, DYN_LIST_MT);
    dyn_setfuncs(L, codec_methods, 3);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    lua_pushcfunction(L, codec_new);
    lua_setfield(L, -2, "codec");
}
