/* libFuzzer target: arbitrary bytes as a DynamoDB response body, through
 * codec:decode (src/decode.c, number.c) as the client calls it, under
 * several value maps and the three number modes.
 *
 * Per input, for each codec and map: decode must return a value, or nil and
 * a message that names a byte inside the input; it must never raise. A
 * decoded value is encoded again with the same map: that may raise only for
 * what decoding accepts and encoding refuses (an empty set, deep nesting,
 * a float beyond the range of an N);
 * otherwise decoding the new JSON gives an equal value. The lazy Query map
 * (Items as positions, the item iterators' way) must accept what the eager
 * one accepts, and codec:decode_at at each position must give the same item
 * or nil and a message, never raise. */
#include <stdio.h>
#include "harness.h"

/* Stack slots the setup chunk leaves behind. */
enum { DECODE = 1, CHECK, CODECS, MAPS, LAZY, SLOTS = LAZY };

static const char setup[] =
    "local core = ...\n"
    "local V = 'V'\n"
    "local item = { ['{}'] = V }\n"
    "local items = { ['[]'] = item }\n"
    /* false: plain JSON; then GetItem, Query, BatchGetItem and error-body
     * output maps (as in lua/dynamo/operations.lua); then a bare value */
    "local maps = { false,\n"
    "  { Item = item },\n"
    "  { Items = items, LastEvaluatedKey = item },\n"
    "  { Responses = { ['{}'] = items },\n"
    "    UnprocessedKeys = { ['{}'] = { Keys = items } } },\n"
    "  { CancellationReasons = { ['[]'] = { Item = item } }, Item = item },\n"
    "  V }\n"
    "local codecs = { core.codec { numbers = 'exact' },\n"
    "                 core.codec { numbers = 'float' },\n"
    "                 core.codec { numbers = 'decimal' } }\n"
    "local mtype, floor = math.type, math.floor\n"
    /* Deep equality; an integral float may come back as an integer (JSON
     * has one number type; integral floats are written as integers). */
    "local function diff(a, b, path)\n"
    "  if type(a) ~= type(b) then\n"
    "    return path .. ': ' .. type(a) .. ' became ' .. type(b)\n"
    "  end\n"
    "  if type(a) == 'number' then\n"
    "    if a ~= b then\n"
    "      return ('%s: %.17g became %.17g'):format(path, a, b)\n"
    "    end\n"
    "    if mtype(a) ~= mtype(b) and not (mtype(a) == 'float' and floor(a) == a) then\n"
    "      return path .. ': ' .. mtype(a) .. ' became ' .. mtype(b)\n"
    "    end\n"
    "    return nil\n"
    "  end\n"
    "  if type(a) ~= 'table' then\n"
    "    if a ~= b then return path .. ': value changed' end\n"
    "    return nil\n"
    "  end\n"
    /* an empty table is ambiguous: where the map says list, it is sent
     * as [] and comes back marked as a list */
    "  if getmetatable(a) ~= getmetatable(b) and not (getmetatable(a) == nil\n"
    "      and getmetatable(b) == core.list_mt and next(a) == nil and next(b) == nil) then\n"
    "    return path .. ': metatable changed'\n"
    "  end\n"
    "  for k, v in next, a do\n"
    "    local d = diff(v, rawget(b, k), path .. '.' .. tostring(k))\n"
    "    if d then return d end\n"
    "  end\n"
    "  for k in next, b do\n"
    "    if rawget(a, k) == nil then return path .. '.' .. tostring(k) .. ': new key' end\n"
    "  end\n"
    "end\n"
    /* What encoding may refuse of a decoded value: floats may be decoded
     * beyond the range an N may have */
    "local refused = { 'cannot encode an empty set', 'nested more than 32 levels deep',\n"
    "                  \"out of DynamoDB's range\" }\n"
    "local function check(codec, value, map)\n"
    "  local ok, json = pcall(codec.encode, codec, value, map)\n"
    "  if not ok then\n"
    "    if type(json) ~= 'string' then error('encode raised a ' .. type(json)) end\n"
    "    for _, r in ipairs(refused) do\n"
    "      if json:find(r, 1, true) then return end\n"
    "    end\n"
    "    error('encoding a decoded value failed: ' .. json)\n"
    "  end\n"
    "  local again, err = codec:decode(json, map)\n"
    "  if again == nil then\n"
    "    error('decoding our own JSON failed: ' .. err .. '\\n' .. json)\n"
    "  end\n"
    "  local d = diff(value, again, 'value')\n"
    "  if d then error('round trip changed ' .. d .. '\\n' .. json) end\n"
    "end\n"
    "local lazy_map = { Items = { ['[]'] = '@' }, LastEvaluatedKey = item }\n"
    "local function lazy(codec, json)\n"
    "  local eager = codec:decode(json, maps[3])\n"
    "  local page, err = codec:decode(json, lazy_map)\n"
    "  if page == nil then\n"
    "    if eager ~= nil then error('the lazy map refused what the eager one took: ' .. err) end\n"
    "    return\n"
    "  end\n"
    "  if type(page) ~= 'table' or type(page.Items) ~= 'table' then return end\n"
    "  for i, pos in ipairs(page.Items) do\n"
    "    if mtype(pos) == 'integer' then\n"
    "      local v, e = codec:decode_at(json, item, pos)\n"
    "      if v == nil and type(e) ~= 'string' then error('decode_at gave nil without a message') end\n"
    "      if eager ~= nil then\n"
    "        if v == nil then error('decode_at failed where decode did not: ' .. e) end\n"
    "        local d = diff(eager.Items[i], v, 'Items[' .. i .. ']')\n"
    "        if d then error('the lazy item differs: ' .. d) end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return codecs[1].decode, check, codecs, maps, lazy\n";

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = fuzz_setup(setup, SLOTS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_Integer c, m, nmaps = (lua_Integer)lua_rawlen(L, MAPS);
    lua_Integer ncodecs = (lua_Integer)lua_rawlen(L, CODECS);
    for (c = 1; c <= ncodecs; c++) {
        for (m = 1; m <= nmaps; m++) {
            int n;
            lua_pushvalue(L, DECODE);
            lua_rawgeti(L, CODECS, c);
            lua_pushlstring(L, (const char *)data, size);
            if (lua_rawgeti(L, MAPS, m) == LUA_TBOOLEAN) {
                lua_pop(L, 1);
                lua_pushnil(L);
            }
            fuzz_call(L, 3, LUA_MULTRET, "decode raised");
            n = lua_gettop(L) - SLOTS;
            if (n == 1 && !lua_isnil(L, -1)) {
                int value = lua_gettop(L);
                lua_pushvalue(L, CHECK);
                lua_rawgeti(L, CODECS, c);
                lua_pushvalue(L, value);
                lua_rawgeti(L, MAPS, m);
                if (lua_toboolean(L, -1) == 0) {
                    lua_pop(L, 1);
                    lua_pushnil(L);
                }
                fuzz_call(L, 3, 0, "round trip");
            } else if (n == 2 && lua_isnil(L, -2) &&
                       lua_type(L, -1) == LUA_TSTRING) {
                fuzz_check_decode_error(L, -1, size);
            } else {
                fuzz_fail("decode returned %d values: %s, %s", n,
                          luaL_typename(L, SLOTS + 1),
                          n > 1 ? luaL_typename(L, SLOTS + 2) : "-");
            }
            lua_settop(L, SLOTS);
        }
    }
    for (c = 1; c <= ncodecs; c++) {
        lua_pushvalue(L, LAZY);
        lua_rawgeti(L, CODECS, c);
        lua_pushlstring(L, (const char *)data, size);
        fuzz_call(L, 2, 0, "lazy decode");
    }
    fuzz_tick(L);
    return 0;
}
