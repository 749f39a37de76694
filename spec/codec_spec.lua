-- dynamo.core codec: Lua values <-> DynamoDB JSON (src/codec.c, encode.c,
-- decode.c, number.c). Table-driven: name, input, value map, expected.
local core = require "dynamo.core"
local cjson = require "cjson"
local operations = require "dynamo.operations"
local compat = require "dynamo.compat"

-- Runtime-specific cases: LuaJIT (`jit`) has no integers, so numbers are
-- doubles and an N beyond 2^53 decodes as a decimal in exact mode; Lua 5.4
-- has int64 integers. spec/luajit_spec.lua has more.
local math_type, unpack = compat.math_type, compat.unpack
local function add_cases(cases, more)
  for _, c in ipairs(more) do cases[#cases + 1] = c end
  return cases
end

local null = core.null
local dec = core.decimal
local V = "V"
local ITEM = { ["{}"] = V }

local function bin(s) return setmetatable({ s }, core.binary_mt) end
local function set(t) return setmetatable(t, core.set_mt) end
local function bset(t) t.binary = true; return set(t) end
local function list(t) return setmetatable(t or {}, core.list_mt) end
local function map(t) return setmetatable(t or {}, core.map_mt) end

local function op(name)
  for _, o in ipairs(operations.operations) do
    if o.name == name then return o end
  end
  error("no operation " .. name)
end

-- Strict deep equality: types, integer vs float, metatables, all keys.
local function diff(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then
    return ("%s: %s expected, got %s (%s)"):format(path, type(a), type(b), tostring(b))
  end
  if type(a) == "number" then
    if math_type(a) ~= math_type(b) then
      return ("%s: %s %s expected, got %s %s"):format(path, math_type(a), a, math_type(b), b)
    end
    if a ~= b and not (a ~= a and b ~= b) then
      return ("%s: %.17g expected, got %.17g"):format(path, a, b)
    end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return ("%s: %q expected, got %q"):format(path, tostring(a), tostring(b)) end
    return nil
  end
  if getmetatable(a) ~= getmetatable(b) then
    return ("%s: metatable %s expected, got %s"):format(path, tostring(getmetatable(a)), tostring(getmetatable(b)))
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return ("%s.%s: unexpected key"):format(path, tostring(k)) end
  end
  return nil
end

local function assert_same(expected, actual)
  local d = diff(expected, actual)
  if d then error(d, 2) end
end

-- JSON with one key per object compares as text; otherwise compare what
-- cjson reads (object key order is not fixed).
local function assert_json(expected, actual)
  if expected == actual then return end
  local ok, a = pcall(cjson.decode, actual)
  assert(ok, "not JSON: " .. tostring(actual))
  local d = diff(cjson.decode(expected), a)
  if d then error(d .. "\nexpected " .. expected .. "\n     got " .. actual, 2) end
end

local codec = core.codec()

describe("dynamo.core codec module", function()
  it("exposes null as the lightuserdata NULL that cjson uses", function()
    assert.equal("userdata", type(null))
    assert.equal(cjson.null, null)
  end)

  it("registers the marker metatables under their names", function()
    local reg = debug.getregistry()
    assert.equal(reg["dynamo.binary"], core.binary_mt)
    assert.equal(reg["dynamo.set"], core.set_mt)
    assert.equal(reg["dynamo.list"], core.list_mt)
    assert.equal(reg["dynamo.map"], core.map_mt)
    assert.equal("dynamo.set", core.set_mt.__name)
  end)

  it("makes codecs with a metatable of their own", function()
    local c = core.codec({ numbers = "float" })
    assert.equal("dynamo.codec", getmetatable(c).__name)
    assert.equal(getmetatable(codec), getmetatable(c))
    assert.equal(1, c:decode("1"))
  end)

  local option_errors = {
    { "unknown numbers mode", { numbers = "big" }, 'codec option \'numbers\' must be "exact", "float" or "decimal"' },
    { "numbers not a string", { numbers = 1 }, 'codec option \'numbers\' must be "exact", "float" or "decimal"' },
    { "array_mt not a table", { array_mt = "x" }, "codec option 'array_mt' must be a table" },
    { "unknown option", { nubmers = "exact" }, "unknown codec option 'nubmers'" },
  }
  for _, case in ipairs(option_errors) do
    it("rejects " .. case[1], function()
      assert.has_error(function() core.codec(case[2]) end, case[3])
    end)
  end

  it("rejects a bad value map argument", function()
    assert.has_error(function() codec:encode({}, 5) end,
      "bad argument #2 to 'encode' (value map expected (table, \"V\" or nil))")
    assert.has_error(function() codec:decode("{}", true) end,
      "bad argument #2 to 'decode' (value map expected (table, \"V\" or nil))")
  end)

  it("rejects a non-string to decode", function()
    assert.has_error(function() codec:decode(12) end,
      "bad argument #1 to 'decode' (string expected, got number)")
  end)
end)

describe("encode AttributeValues", function()
  local cases = {
    { "string", "hello", '{"S":"hello"}' },
    { "empty string", "", '{"S":""}' },
    { "string with escapes", 'a"b\\c\n\r\t\b\f\1\31/', [[{"S":"a\"b\\c\n\r\t\b\f\u0001\u001f/"}]] },
    { "UTF-8 string", "h\u{e9}llo \u{20ac} \u{1d11e}", '{"S":"h\u{e9}llo \u{20ac} \u{1d11e}"}' },
    { "integer", 42, '{"N":"42"}' },
    { "negative integer", -7, '{"N":"-7"}' },
    { "zero", 0, '{"N":"0"}' },
    { "float 0.1", 0.1, '{"N":"0.1"}' },
    { "float 1e125", 1e125, '{"N":"1e+125"}' },
    { "float 1e-130", 1e-130, '{"N":"1e-130"}' },
    { "float below 1e126", 9.99999999999999e125, '{"N":"9.99999999999999e+125"}' },
    { "float -0.0 as 0", -0.0, '{"N":"0"}' },
    { "integral float", 100.0, '{"N":"100"}' },
    { "float 0.1+0.2", 0.1 + 0.2, '{"N":"0.30000000000000004"}' },
    { "float 1/3", 1 / 3, '{"N":"0.3333333333333333"}' },
    { "float -1.5", -1.5, '{"N":"-1.5"}' },
    { "float 1e-7", 1e-7, '{"N":"1e-7"}' },
    { "float 0.000001", 0.000001, '{"N":"0.000001"}' },
    { "float 1e21", 1e21, '{"N":"1e+21"}' },
    { "float 1e20", 1e20, '{"N":"100000000000000000000"}' },
    { "integral float above 2^53, exactly", 2.0 ^ 60, '{"N":"1152921504606846976"}' },
    { "float 2^63", 2.0 ^ 63, '{"N":"9223372036854776000"}' },
    { "decimal", dec("123.45"), '{"N":"123.45"}' },
    { "decimal with 38 digits", dec("-1234567890.1234567890123456789012345678"),
      '{"N":"-1234567890.1234567890123456789012345678"}' },
    { "decimal in E-notation", dec("1e-130"), '{"N":"1E-130"}' },
    { "decimal zero", dec("-0.000"), '{"N":"0"}' },
    { "number set with decimals", set({ 1, dec("0.1"), 2.5 }), '{"NS":["1","0.1","2.5"]}' },
    { "true", true, '{"BOOL":true}' },
    { "false", false, '{"BOOL":false}' },
    { "null", null, '{"NULL":true}' },
    { "binary", bin("\0\1\2\255"), '{"B":"AAEC/w=="}' },
    { "binary, 1 byte", bin("a"), '{"B":"YQ=="}' },
    { "binary, 2 bytes", bin("ab"), '{"B":"YWI="}' },
    { "binary, 3 bytes", bin("abc"), '{"B":"YWJj"}' },
    { "empty binary", bin(""), '{"B":""}' },
    { "string set", set({ "a", "b" }), '{"SS":["a","b"]}' },
    { "number set", set({ 1, 2.5 }), '{"NS":["1","2.5"]}' },
    { "binary set of byte strings", bset({ "\0", "\1" }), '{"BS":["AA==","AQ=="]}' },
    { "binary set of binary values", set({ bin("\0"), bin("\1") }), '{"BS":["AA==","AQ=="]}' },
    { "binary set, mixed forms", bset({ "\0", bin("\1") }), '{"BS":["AA==","AQ=="]}' },
    { "empty plain table as M", {}, '{"M":{}}' },
    { "empty list_mt table as L", list(), '{"L":[]}' },
    { "empty map_mt table as M", map(), '{"M":{}}' },
    { "array as L", { 1, "a", true }, '{"L":[{"N":"1"},{"S":"a"},{"BOOL":true}]}' },
    { "map as M", { a = 1 }, '{"M":{"a":{"N":"1"}}}' },
    { "map_mt map", map({ k = "v" }), '{"M":{"k":{"S":"v"}}}' },
    { "list_mt list", list({ null }), '{"L":[{"NULL":true}]}' },
    { "nested", { a = { b = { 1, { c = list() } } } },
      '{"M":{"a":{"M":{"b":{"L":[{"N":"1"},{"M":{"c":{"L":[]}}}]}}}}}' },
    { "several members", { a = 1, b = "x", c = false },
      '{"M":{"a":{"N":"1"},"b":{"S":"x"},"c":{"BOOL":false}}}' },
  }
  add_cases(cases, jit and {
    { "2^53 as an integer", 2 ^ 53, '{"N":"9007199254740992"}' },
    { "-2^53 as an integer", -2 ^ 53, '{"N":"-9007199254740992"}' },
    { "integral float 1e15 without an exponent", 1e15, '{"N":"1000000000000000"}' },
  } or {
    { "int64 max", math.maxinteger, '{"N":"9223372036854775807"}' },
    { "int64 min", math.mininteger, '{"N":"-9223372036854775808"}' },
    { "2^53+1 exactly", 9007199254740993, '{"N":"9007199254740993"}' },
  })
  for _, case in ipairs(cases) do
    it(case[1], function()
      assert_json(case[3], codec:encode(case[2], V))
    end)
  end

  -- A double from 64 random bits (positive: the sign bit is clear).
  local random_double
  if jit then
    local ffi = require "ffi"
    local u = ffi.new("union { uint32_t w[2]; double d; }")
    random_double = function()
      u.w[0], u.w[1] = math.random(0, 2 ^ 32 - 1), math.random(0, 2 ^ 31 - 1)
      return u.d
    end
  else
    random_double = function()
      return string.unpack("<d", string.pack("<I8", math.random(0, math.maxinteger)))
    end
  end

  it("uses the shortest decimal that reads back as the same double", function()
    math.randomseed(42)
    for _ = 1, 3000 do
      local x = random_double()
      if x == x and x ~= math.huge and x ~= -math.huge then
        local s = codec:encode(x)
        local y = codec:decode(s)
        assert(y == x, ("%s read back as %.17g, wrote %s"):format(("%.17g"):format(x), y, s))
        local digits = s:gsub("^-", ""):gsub("[eE].*$", ""):gsub("%.", ""):gsub("^0+", "")
        local n = #digits:gsub("0+$", "")
        if math.abs(x) < 2 ^ 63 and math.floor(x) == x then
          -- integral floats are written as the exact integer
          assert.equal(("%d"):format(x), s)
          n = 0
        end
        for p = 1, n - 1 do
          assert(tonumber(("%." .. (p - 1) .. "e"):format(x)) ~= x,
            ("%s is not the shortest for %.17g (%d digits do)"):format(s, x, p))
        end
      end
    end
  end)
end)

describe("encode plain JSON", function()
  local cases = {
    { "string", "abc", '"abc"' },
    { "escapes", '"\\\n\r\t\b\f\0\127', [["\"\\\n\r\t\b\f\u0000]] .. "\127\"" },
    { "UTF-8 passes through", "\u{e9}\u{20ac}\u{1d11e}", '"\u{e9}\u{20ac}\u{1d11e}"' },
    { "integer", 12, "12" },
    { jit and "-2^53" or "int64 min", jit and -2 ^ 53 or math.mininteger,
      jit and "-9007199254740992" or "-9223372036854775808" },
    { "float", 0.5, "0.5" },
    { "float -0.0", -0.0, "-0" },
    { "float 1e300", 1e300, "1e+300" },
    { "float 5e-324", 5e-324, "5e-324" },
    { "decimal as a JSON number", dec("12345678901234567890123456789012345678"),
      "12345678901234567890123456789012345678" },
    { "decimal in E-notation", dec("-1.5e-7"), "-1.5E-7" },
    { "decimal in an array", { dec("0.1"), 1 }, "[0.1,1]" },
    { "true", true, "true" },
    { "false", false, "false" },
    { "null", null, "null" },
    { "empty table as object", {}, "{}" },
    { "list_mt", list(), "[]" },
    { "map_mt", map(), "{}" },
    { "array", { 1, 2, 3 }, "[1,2,3]" },
    { "object", { a = "b" }, '{"a":"b"}' },
    { "nested", { a = { 1, { b = list() } } }, '{"a":[1,{"b":[]}]}' },
    { "binary as base64", bin("abc"), '"YWJj"' },
    { "set as array", set({ "a", "b" }), '["a","b"]' },
    { "binary set as base64 strings", bset({ "\0" }), '["AA=="]' },
    { "object with several keys", { TableName = "t", Limit = 10, ConsistentRead = true },
      '{"TableName":"t","Limit":10,"ConsistentRead":true}' },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      assert_json(case[3], codec:encode(case[2]))
    end)
  end

  it("writes JSON that cjson reads back the same", function()
    local v = { s = "x\u{e9}\n", n = 1.25, t = { 1, 2, 3 }, o = { k = "v" } }
    assert.same(v, cjson.decode(codec:encode(v)))
  end)
end)

describe("encode errors", function()
  local fn = function() end
  local deep_av, deep_plain = "leaf", "leaf"
  for _ = 1, 33 do deep_av = { a = deep_av } end
  for _ = 1, 33 do deep_plain = { a = deep_plain } end
  local cycle = {}
  cycle.self = cycle
  local cases = {
    { "function in an item", { Item = { orders = { {}, {}, { total = fn } } } }, op("PutItem").input,
      "Item.orders[3].total: cannot encode a function" },
    { "thread", { Item = { co = coroutine.create(fn) } }, op("PutItem").input, "Item.co: cannot encode a thread" },
    { "full userdata", { Item = { f = io.stdout } }, op("PutItem").input, "Item.f: cannot encode a userdata" },
    { "function at the root", fn, nil, "cannot encode a function" },
    { "nil at the root", nil, nil, "cannot encode a nil" },
    { "function in plain JSON", { TableName = fn }, op("PutItem").input, "TableName: cannot encode a function" },
    { "invalid UTF-8", { Item = { s = "ok\255" } }, op("PutItem").input,
      "Item.s: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "overlong UTF-8", { Item = { s = "\xc0\xaf" } }, op("PutItem").input,
      "Item.s: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "UTF-8 surrogate", { Item = { s = "\xed\xa0\x80" } }, op("PutItem").input,
      "Item.s: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "truncated UTF-8", { Item = { s = "\xe2\x82" } }, op("PutItem").input,
      "Item.s: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "invalid UTF-8 in plain JSON", { TableName = "\255" }, op("PutItem").input,
      "TableName: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "invalid UTF-8 key", { Item = { ["\255"] = 1 } }, op("PutItem").input,
      "Item: table key is not valid UTF-8" },
    { "NaN", { Item = { n = 0 / 0 } }, op("PutItem").input, "Item.n: NaN and infinity cannot be stored" },
    { "infinity", { Item = { n = math.huge } }, op("PutItem").input, "Item.n: NaN and infinity cannot be stored" },
    { "-infinity", { Item = { n = -math.huge } }, op("PutItem").input, "Item.n: NaN and infinity cannot be stored" },
    { "NaN in plain JSON", { Limit = 0 / 0 }, nil, "Limit: NaN and infinity cannot be stored" },
    { "float above DynamoDB's range", { Item = { n = 1e126 } }, op("PutItem").input,
      "Item.n: number 1E+126 is out of DynamoDB's range (magnitude 1E-130 to "
      .. "9.9999999999999999999999999999999999999E+125)" },
    { "largest double", { Item = { n = -1.7976931348623157e308 } }, op("PutItem").input,
      "Item.n: number -1.7976931348623157E+308 is out of DynamoDB's range (magnitude 1E-130 to "
      .. "9.9999999999999999999999999999999999999E+125)" },
    { "float below DynamoDB's range", { Item = { n = 9.99e-131 } }, op("PutItem").input,
      "Item.n: number 9.99E-131 is out of DynamoDB's range (magnitude 1E-130 to "
      .. "9.9999999999999999999999999999999999999E+125)" },
    { "smallest subnormal", { Item = { n = 5e-324 } }, op("PutItem").input,
      "Item.n: number 5E-324 is out of DynamoDB's range (magnitude 1E-130 to "
      .. "9.9999999999999999999999999999999999999E+125)" },
    { "out-of-range float in a set", { Item = { s = set({ 1, 1e300 }) } }, op("PutItem").input,
      "Item.s[2]: number 1E+300 is out of DynamoDB's range (magnitude 1E-130 to "
      .. "9.9999999999999999999999999999999999999E+125)" },
    { "other userdata in a set", { Item = { s = set({ 1, io.stdout }) } }, op("PutItem").input,
      "Item.s[2]: a set cannot hold a userdata" },
    { "empty set", { Item = { s = set({}) } }, op("PutItem").input, "Item.s: cannot encode an empty set" },
    { "set of strings and numbers", { Item = { s = set({ "a", 1 }) } }, op("PutItem").input,
      "Item.s: set mixes string and number elements" },
    { "set of numbers and strings", { Item = { s = set({ 1, "a" }) } }, op("PutItem").input,
      "Item.s: set mixes number and string elements" },
    { "set of strings and binary", { Item = { s = set({ "a", bin("b") }) } }, op("PutItem").input,
      "Item.s: set mixes string and binary elements" },
    { "boolean in a set", { Item = { s = set({ true }) } }, op("PutItem").input,
      "Item.s[1]: a set cannot hold a boolean" },
    { "table in a set", { Item = { s = set({ 1, {} }) } }, op("PutItem").input,
      "Item.s[2]: a set cannot hold a table" },
    { "NaN in a set", { Item = { s = set({ 1, 0 / 0 }) } }, op("PutItem").input,
      "Item.s[2]: NaN and infinity cannot be stored" },
    { "invalid UTF-8 in a set", { Item = { s = set({ "a", "\255" }) } }, op("PutItem").input,
      "Item.s[2]: string is not valid UTF-8 (use dynamo.binary for bytes)" },
    { "binary without bytes", { Item = { b = setmetatable({}, core.binary_mt) } }, op("PutItem").input,
      "Item.b: binary value must hold a string at [1]" },
    { "sparse array", { Item = { l = { [1] = 1, [3] = 3 } } }, op("PutItem").input,
      "Item.l: cannot encode a sparse array" },
    { "array from 0", { Item = { l = { [0] = 1, [1] = 2 } } }, op("PutItem").input,
      "Item.l: cannot encode a sparse array" },
    { "mixed keys", { Item = { l = { 1, 2, x = 3 } } }, op("PutItem").input,
      "Item.l: cannot encode a table with both string and number keys" },
    { "fractional key", { Item = { l = { [1.5] = 1 } } }, op("PutItem").input,
      "Item.l: cannot encode a table with a non-integer number key" },
    { "boolean key", { Item = { l = { [true] = 1 } } }, op("PutItem").input,
      "Item.l: cannot encode a table with a boolean key" },
    { "number key in a map_mt table", { Item = { m = map({ "x" }) } }, op("PutItem").input,
      "Item.m: cannot encode a map with a number key" },
    { "sparse plain array", { Keys = { [2] = "x" } }, nil, "Keys: cannot encode a sparse array" },
    { "mixed keys at the root", { 1, a = 2 }, nil, "cannot encode a table with both string and number keys" },
    { "33 levels in an attribute", { Item = { x = deep_av } }, op("PutItem").input,
      "Item.x" .. (".a"):rep(32) .. ": nested more than 32 levels deep" },
    { "33 levels of plain JSON", deep_plain, nil, ("a"):rep(32, ".") .. ": nested more than 32 levels deep" },
    { "a cycle in an item", { Item = { x = cycle } }, op("PutItem").input,
      "Item.x" .. (".self"):rep(32) .. ": nested more than 32 levels deep" },
    { "a cycle in plain JSON", cycle, nil, ("self"):rep(32, ".") .. ": nested more than 32 levels deep" },
    { "deep path through a transaction",
      { TransactItems = { { Put = { TableName = "t", Item = { k = "1" } } },
                          { Update = { Key = { k = "2" }, ExpressionAttributeValues = { [":v"] = { fn } } } } } },
      op("TransactWriteItems").input,
      "TransactItems[2].Update.ExpressionAttributeValues.:v[1]: cannot encode a function" },
  }
  if not jit then
    -- LuaJIT's # of { 1, nil, 3 } is 1: the list is [1] there.
    add_cases(cases, {
      { "nil in a list_mt list", { Item = { l = list({ 1, nil, 3 }) } }, op("PutItem").input,
        "Item.l[2]: cannot encode a nil" },
    })
  end
  for _, case in ipairs(cases) do
    it(case[1], function()
      assert.has_error(function() codec:encode(case[2], case[3]) end, case[4])
    end)
  end

  it("allows 32 levels in an attribute and 32 of plain JSON", function()
    local v = "leaf"
    for _ = 1, 32 do v = { a = v } end
    assert.is_string(codec:encode({ Item = { x = v } }, op("PutItem").input))
    assert.is_string(codec:encode(v))
  end)

  it("keeps working after an error", function()
    assert.has_error(function() codec:encode({ Item = { f = print } }, op("PutItem").input) end)
    assert.equal('{"Item":{"a":{"S":"b"}}}', codec:encode({ Item = { a = "b" } }, op("PutItem").input))
  end)
end)

describe("decode AttributeValues", function()
  local cases = {
    { "S", '{"S":"hello"}', "hello" },
    { "S with escapes", [[{"S":"a\"b\\c\/\n\r\t\b\f\u0000\u00e9\u20ac\ud834\udd1e"}]],
      'a"b\\c/\n\r\t\b\f\0\u{e9}\u{20ac}\u{1d11e}' },
    { "S with raw UTF-8", '{"S":"\u{e9}\u{1d11e}"}', "\u{e9}\u{1d11e}" },
    { "N integer", '{"N":"42"}', 42 },
    { "N float", '{"N":"0.5"}', 0.5 },
    { "BOOL true", '{"BOOL":true}', true },
    { "BOOL false", '{"BOOL":false}', false },
    { "NULL", '{"NULL":true}', null },
    { "B", '{"B":"AAEC/w=="}', bin("\0\1\2\255") },
    { "B, one pad", '{"B":"YWI="}', bin("ab") },
    { "B empty", '{"B":""}', bin("") },
    { "B with an escaped slash", [[{"B":"AAEC\/w=="}]], bin("\0\1\2\255") },
    { "SS", '{"SS":["a","b"]}', set({ "a", "b" }) },
    { "NS", '{"NS":["1","2.5","-3"]}', set({ 1, 2.5, -3 }) },
    { "BS", '{"BS":["AA==","AQ=="]}', bset({ "\0", "\1" }) },
    { "M", '{"M":{"a":{"N":"1"},"b":{"S":"x"}}}', { a = 1, b = "x" } },
    { "empty M", '{"M":{}}', {} },
    { "L", '{"L":[{"N":"1"},{"S":"a"},{"NULL":true}]}', { 1, "a", null } },
    { "empty L keeps list_mt", '{"L":[]}', list() },
    { "nested", '{"M":{"a":{"L":[{"M":{"b":{"L":[]}}},{"BS":["YQ=="]}]}}}',
      { a = { { b = list() }, bset({ "a" }) } } },
    { "whitespace everywhere", ' { "M" : { "a" : { "N" : "1" } , "b" : { "L" : [ { "S" : "x" } , { "BOOL" : true } ] } } } ',
      { a = 1, b = { "x", true } } },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local v, err = codec:decode(case[2], V)
      assert.is_nil(err)
      assert_same(case[3], v)
    end)
  end
end)

describe("decode plain JSON", function()
  local cases = {
    { "object", '{"a":1,"b":"x"}', { a = 1, b = "x" } },
    { "array", "[1,2,3]", { 1, 2, 3 } },
    { "empty array keeps list_mt", "[]", list() },
    { "empty object", "{}", {} },
    { "string escapes", [["\u0041\u00e9\ud83d\ude00\n"]], "A\u{e9}\u{1f600}\n" },
    { "integer", "12", 12 },
    { "negative zero", "-0", 0 },
    { "float", "1.5", 1.5 },
    { "integral float text", "2.0", 2 },
    { "exponent", "1e2", 100 },
    { "beyond int64 is a float", "9223372036854775808", 9223372036854775808.0 },
    { "tiny", "2e-400", 0.0 },
    { "true", "true", true },
    { "false", "false", false },
    { "null", "null", null },
    { "nested", '{"a":[{"b":null},[],{}]}', { a = { { b = null }, list(), {} } } },
    { "whitespace", ' \t\r\n[ 1 , { "a" : true } ]\n ', { 1, { a = true } } },
    { "duplicate keys: last wins", '{"a":1,"a":2}', { a = 2 } },
    { "NUL in a string", '"a\\u0000b"', "a\0b" },
  }
  add_cases(cases, jit and {
    -- plain JSON numbers are never decimals
    { "beyond 2^53 is the nearest float", "9007199254740993", 2 ^ 53 },
    { "-2^53 is exact", "-9007199254740992", -2 ^ 53 },
  } or {
    { "big integer stays exact", "9007199254740993", 9007199254740993 },
    { "int64 min", "-9223372036854775808", math.mininteger },
  })
  for _, case in ipairs(cases) do
    it(case[1], function()
      local v, err = codec:decode(case[2])
      assert.is_nil(err)
      assert_same(case[3], v)
    end)
  end

  it("reads what cjson writes", function()
    local v = { s = "x\u{e9}\n/\"", n = 1.25, t = { 1, 2, 3 }, o = { k = "v" }, z = false }
    assert_same(v, codec:decode(cjson.encode(v)))
  end)
end)

-- Keys up to 32 bytes come from the codec's key cache (128 slots): every
-- key must still get its own string, whichever keys share a slot.
describe("decode object keys", function()
  local codec = core.codec()
  local keys = {}
  for i = 1, 600 do keys[#keys + 1] = ("k%03d"):format(i) end
  -- 17 bytes with the same first and last 8: the same slot
  for i = 1, 50 do keys[#keys + 1] = "abcdefgh" .. string.char(40 + i) .. "ijklmnop" end
  for _, n in ipairs { 0, 1, 7, 8, 9, 31, 32, 33, 40, 41, 100 } do keys[#keys + 1] = ("x"):rep(n) end
  keys[#keys + 1] = "caf\u{e9}"

  local function object(order, av)
    local parts = {}
    for _, i in ipairs(order) do
      local v = av and ('{"N":"%d"}'):format(i) or tostring(i)
      parts[#parts + 1] = cjson.encode(keys[i]) .. ":" .. v
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end

  it("gives every key its own string, in any order, plain and in an item", function()
    math.randomseed(7)
    for round = 1, 6 do
      local order = {}
      for i = 1, #keys do order[i] = i end
      for i = #order, 2, -1 do
        local j = math.random(i)
        order[i], order[j] = order[j], order[i]
      end
      local av = round % 2 == 0
      local v = assert(codec:decode(object(order, av), av and ITEM or nil))
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      assert.equal(#keys, n)
      for i, k in ipairs(keys) do assert.equal(i, v[k], ("key %q"):format(k)) end
    end
  end)

  it("reads a key the same with and without escapes", function()
    assert.same({ ab = 1 }, codec:decode('{"a\\u0062":1}'))
    assert.same({ ab = 2 }, codec:decode('{"ab":2}'))
    assert.same({ ['a"b'] = 3, ab = 4 }, codec:decode('{"a\\"b":3,"ab":4}'))
  end)
end)

describe("decode errors", function()
  local deep_ok = ("["):rep(1000) .. ("]"):rep(1000)
  local deep_bad = ("["):rep(1001) .. ("]"):rep(1001)
  local cases = {
    -- malformed JSON
    { "empty input", "", nil, "invalid JSON at byte 1: unexpected end of input" },
    { "only whitespace", "   ", nil, "invalid JSON at byte 4: unexpected end of input" },
    { "truncated object", '{"a":1', nil, "invalid JSON at byte 7: unexpected end of input" },
    { "truncated key", '{"a', nil, "invalid JSON at byte 4: unexpected end of input" },
    { "truncated after colon", '{"a":', nil, "invalid JSON at byte 6: unexpected end of input" },
    { "truncated array", "[1,2", nil, "invalid JSON at byte 5: unexpected end of input" },
    { "truncated string", '"abc', nil, "invalid JSON at byte 5: unexpected end of input" },
    { "truncated escape", '"ab\\', nil, "invalid JSON at byte 5: unexpected end of input" },
    { "truncated \\u escape", '"\\u12', nil, "invalid JSON at byte 6: unexpected end of input" },
    { "truncated literal", "tru", nil, "invalid JSON at byte 4: unexpected end of input" },
    { "missing colon", '{"a" 1}', nil, "invalid JSON at byte 6: expected ':'" },
    { "trailing comma in object", '{"a":1,}', nil, "invalid JSON at byte 8: expected an object key" },
    { "unquoted key", "{a:1}", nil, "invalid JSON at byte 2: expected an object key" },
    { "trailing comma in array", "[1,]", nil, "invalid JSON at byte 4: unexpected character ']'" },
    { "missing comma", "[1 2]", nil, "invalid JSON at byte 4: expected ',' or ']'" },
    { "missing comma in object", '{"a":1 "b":2}', nil, "invalid JSON at byte 8: expected ',' or '}'" },
    { "trailing garbage", '{"a":1}x', nil, "invalid JSON at byte 8: unexpected data after the value" },
    { "two values", "{} {}", nil, "invalid JSON at byte 4: unexpected data after the value" },
    { "bad literal", "trve", nil, "invalid JSON at byte 1: invalid literal" },
    { "NaN literal", "NaN", nil, "invalid JSON at byte 1: unexpected character 'N'" },
    { "single quotes", "'a'", nil, "invalid JSON at byte 1: unexpected character '''" },
    { "control byte", "\1", nil, "invalid JSON at byte 1: unexpected byte 0x01" },
    { "NUL byte", "[\0]", nil, "invalid JSON at byte 2: unexpected byte 0x00" },
    { "byte order mark", "\xef\xbb\xbf{}", nil, "invalid JSON at byte 1: unexpected byte 0xEF" },
    { "invalid escape", '"a\\qb"', nil, "invalid JSON at byte 3: invalid escape" },
    { "bad hex in \\u", '"\\u12G4"', nil, "invalid JSON at byte 2: invalid \\u escape" },
    { "lone high surrogate", '"\\uD800"', nil, "invalid JSON at byte 2: unpaired surrogate in \\u escape" },
    { "lone low surrogate", '"x\\uDC00"', nil, "invalid JSON at byte 3: unpaired surrogate in \\u escape" },
    { "high surrogate then letter", '"\\uD800\\u0041"', nil,
      "invalid JSON at byte 2: unpaired surrogate in \\u escape" },
    { "raw control character in string", '"a\tb"', nil, "invalid JSON at byte 3: control character in string" },
    { "invalid UTF-8 in string", '"a\255"', nil, "invalid JSON at byte 3: invalid UTF-8 in string" },
    { "overlong UTF-8 in string", '"\xc0\xaf"', nil, "invalid JSON at byte 2: invalid UTF-8 in string" },
    { "UTF-8 surrogate in string", '"\xed\xa0\x80"', nil, "invalid JSON at byte 2: invalid UTF-8 in string" },
    { "invalid UTF-8 after an escape", '"\\n\255"', nil, "invalid JSON at byte 4: invalid UTF-8 in string" },
    { "leading zero", "01", nil, "invalid JSON at byte 1: invalid number" },
    { "negative leading zero", "[-01]", nil, "invalid JSON at byte 2: invalid number" },
    { "no digits after point", "1.", nil, "invalid JSON at byte 1: invalid number" },
    { "no int part", "[.5]", nil, "invalid JSON at byte 2: unexpected character '.'" },
    { "lone minus", "-", nil, "invalid JSON at byte 1: invalid number" },
    { "plus sign", "+1", nil, "invalid JSON at byte 1: unexpected character '+'" },
    { "empty exponent", "1e", nil, "invalid JSON at byte 1: invalid number" },
    { "exponent sign only", "1e+", nil, "invalid JSON at byte 1: invalid number" },
    { "huge exponent", "1e400", nil, "invalid JSON at byte 1: number out of range" },
    { "enormous exponent", "[1e99999999999999999999]", nil, "invalid JSON at byte 2: number out of range" },
    { "huge negative number", "-1e400", nil, "invalid JSON at byte 1: number out of range" },
    { "hex number", "0x10", nil, "invalid JSON at byte 2: unexpected data after the value" },
    { "two points", "1.2.3", nil, "invalid JSON at byte 4: unexpected data after the value" },
    { "1001 levels", deep_bad, nil, "invalid JSON at byte 1001: nested more than 1000 levels deep" },
    -- AttributeValues
    { "unknown type", '{"a":{"Q":"x"}}', ITEM, 'a: unknown AttributeValue type "Q" at byte 7' },
    { "lower-case type", '{"a":{"s":"x"}}', ITEM, 'a: unknown AttributeValue type "s" at byte 7' },
    { "long odd type", '{"a":{"' .. ("\\u0001"):rep(2) .. ("X"):rep(50) .. '":1}}', ITEM,
      'a: unknown AttributeValue type "??' .. ("X"):rep(38) .. '..." at byte 7' },
    { "not an object", '{"a":"x"}', ITEM, "a: AttributeValue must be a JSON object at byte 6" },
    { "null instead of an object", '{"a":null}', ITEM, "a: AttributeValue must be a JSON object at byte 6" },
    { "empty", '{"a":{}}', ITEM, "a: empty AttributeValue at byte 6" },
    { "two types", '{"a":{"S":"x","N":"1"}}', ITEM, "a: AttributeValue has more than one type at byte 6" },
    { "S not a string", '{"a":{"S":1}}', ITEM, "a: S value must be a string at byte 11" },
    { "N not a string", '{"a":{"N":5}}', ITEM, "a: N value must be a string at byte 11" },
    { "B not a string", '{"a":{"B":[]}}', ITEM, "a: B value must be a string at byte 11" },
    { "bad N", '{"a":{"N":"1.2.3"}}', ITEM, 'a: invalid number "1.2.3" at byte 11' },
    { "empty N", '{"a":{"N":""}}', ITEM, 'a: invalid number "" at byte 11' },
    { "N with spaces", '{"a":{"N":" 1"}}', ITEM, 'a: invalid number " 1" at byte 11' },
    { "N in hex", '{"a":{"N":"0x1"}}', ITEM, 'a: invalid number "0x1" at byte 11' },
    { "N infinity", '{"a":{"N":"Infinity"}}', ITEM, 'a: invalid number "Infinity" at byte 11' },
    { "N with a comma", '{"a":{"N":"1,5"}}', ITEM, 'a: invalid number "1,5" at byte 11' },
    { "N beyond doubles", '{"a":{"N":"1e400"}}', ITEM, 'a: number out of range "1e400" at byte 11' },
    { "N below DynamoDB's range", '{"a":{"N":"1.0000000000000000001e-131"}}', ITEM,
      'a: number out of range "1.0000000000000000001e-131" at byte 11' },
    { "N below the doubles", '{"a":{"N":"-1e-400"}}', ITEM, 'a: number out of range "-1e-400" at byte 11' },
    { "N with 39 digits", '{"a":{"N":"1.23456789012345678901234567890123456789"}}', ITEM,
      'a: number has more than 38 significant digits "1.23456789012345678901234567890123456789" at byte 11' },
    { "NS with 40 digits", '{"a":{"NS":["1","-1234567890123456789012345678901234567891"]}}', ITEM,
      'a[2]: number has more than 38 significant digits "-123456789012345678901234567890123456789..." at byte 17' },
    { "BOOL as string", '{"a":{"BOOL":"true"}}', ITEM, "a: BOOL value must be true or false at byte 14" },
    { "BOOL bad literal", '{"a":{"BOOL":tru}}', ITEM, "invalid JSON at byte 14: invalid literal" },
    { "NULL false", '{"a":{"NULL":false}}', ITEM, "a: NULL value must be true at byte 14" },
    { "M not an object", '{"a":{"M":[]}}', ITEM, "a: M value must be an object at byte 11" },
    { "L not an array", '{"a":{"L":{}}}', ITEM, "a: L value must be an array at byte 11" },
    { "SS not an array", '{"a":{"SS":"x"}}', ITEM, "a: SS value must be an array at byte 12" },
    { "SS with a number", '{"a":{"SS":["x",1]}}', ITEM, "a[2]: SS element must be a string at byte 17" },
    { "NS with a bad number", '{"a":{"NS":["1","x"]}}', ITEM, 'a[2]: invalid number "x" at byte 17' },
    { "bad base64 length", '{"a":{"B":"AAE"}}', ITEM, "a: invalid base64 at byte 11" },
    { "bad base64 character", '{"a":{"B":"AA*="}}', ITEM, "a: invalid base64 at byte 11" },
    { "base64 padding inside", '{"a":{"B":"AA==AAAA"}}', ITEM, "a: invalid base64 at byte 11" },
    { "base64 with whitespace", '{"a":{"B":"AA AA=="}}', ITEM, "a: invalid base64 at byte 11" },
    { "base64 with stray bits", '{"a":{"B":"AB=="}}', ITEM, "a: invalid base64 at byte 11" },
    { "base64 with stray bits, one pad", '{"a":{"B":"AAB="}}', ITEM, "a: invalid base64 at byte 11" },
    { "bad base64 in BS", '{"a":{"BS":["AA==","!!!!"]}}', ITEM, "a[2]: invalid base64 at byte 20" },
    { "error deep in an item", '{"Items":[{"a":{"M":{"b":{"L":[{"N":"1"},{"X":1}]}}}}]}', op("Query").output,
      'Items[1].a.b[2]: unknown AttributeValue type "X" at byte 43' },
    { "error at the root AttributeValue", '{"X":1}', V, 'unknown AttributeValue type "X" at byte 2' },
    { "syntax error inside an item", '{"Item":{"a":{"S":"x"]}}', op("GetItem").output,
      "invalid JSON at byte 22: expected '}'" },
    { "truncated item", '{"Item":{"a":{"S":"x"', op("GetItem").output,
      "invalid JSON at byte 22: unexpected end of input" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local v, err = codec:decode(case[2], case[3])
      assert.is_nil(v)
      assert.equal(case[4], err)
    end)
  end

  it("allows 1000 levels", function()
    local v, err = codec:decode(deep_ok)
    assert.is_nil(err)
    assert.is_table(v)
  end)

  it("survives random corruption of a valid response", function()
    local good = '{"Items":[{"id":{"S":"a\\u00e9"},"n":{"N":"1.5"},"b":{"B":"AAE="},'
      .. '"l":{"L":[{"M":{"x":{"SS":["p","q"]}}},{"NULL":true},{"BOOL":false}]}}],'
      .. '"Count":1,"LastEvaluatedKey":{"id":{"S":"a"}}}'
    local map = op("Query").output
    assert.is_table((codec:decode(good, map)))
    math.randomseed(7)
    for _ = 1, 5000 do
      local bytes = { good:byte(1, -1) }
      for _ = 1, math.random(1, 3) do
        bytes[math.random(#bytes)] = math.random(0, 255)
      end
      local s = string.char(unpack(bytes)):sub(1, math.random(1, #bytes))
      local ok, v, err = pcall(codec.decode, codec, s, map)
      assert(ok, v)
      assert(v ~= nil or type(err) == "string")
    end
  end)
end)

describe("numbers", function()
  local exact = {
    { "0", 0 },
    { "-0", 0 },
    { "-0.0", 0 },
    { "0e10", 0 },
    { "42", 42 },
    { "-42", -42 },
    { "+5", 5 },
    { "0001", 1 },
    { "5.", 5 },
    { ".5", 0.5 },
    { "1.0", 1 },
    { "1.50", 1.5 },
    { "1e2", 100 },
    { "1E+2", 100 },
    { "1.5e1", 15 },
    { "100e-2", 1 },
    { "9223372036854775808", dec("9223372036854775808") },
    { "-9223372036854775809", dec("-9223372036854775809") },
    { "9223372036854775808e0 (2^63: its shortest float digits differ)", dec("9223372036854775808") },
    { "0.1", 0.1 },
    { "-0.1", -0.1 },
    { "0.30000000000000004", 0.1 + 0.2 },
    { "1e300", 1e300 },
    { "1E+300", 1e300 },
    { "1e-130", 1e-130 },
    { "123456789012345678901234567890", dec("123456789012345678901234567890") },
    { "12345678901234567890123456789012345678", dec("12345678901234567890123456789012345678") },
    { "9.9999999999999999999999999999999999999E+125", dec("9.9999999999999999999999999999999999999E+125") },
    { "0.12345678901234567890123456789012345678", dec("0.12345678901234567890123456789012345678") },
    { "3.14159265358979323846", dec("3.14159265358979323846") },
    { "0.1000000000000000055511151231257827", dec("0.1000000000000000055511151231257827") },
    { "9007199254740993.5", dec("9007199254740993.5") },
    { "1.00000000000000000000", 1 },
  }
  add_cases(exact, jit and {
    -- a number within 2^53, a decimal beyond (a float only where a decimal
    -- cannot go: 1e300 is out of DynamoDB's range)
    { "9007199254740992", 2 ^ 53 },
    { "-9007199254740992", -2 ^ 53 },
    { "9007199254740992.0", 2 ^ 53 },
    { "9007199254740993", dec("9007199254740993") },
    { "-9007199254740993", dec("-9007199254740993") },
    { "9007199254740993.0", dec("9007199254740993") },
    { "9007199254740994 (a double, but beyond 2^53)", dec("9007199254740994") },
    { "9223372036854775807", dec("9223372036854775807") },
    { "-9223372036854775808", dec("-9223372036854775808") },
    { "9223372036854776000", dec("9223372036854776000") },
    { "1e20", dec("1e20") },
    { "1e125", dec("1e125") },
  } or {
    { "9223372036854775807", math.maxinteger },
    { "-9223372036854775808", math.mininteger },
    { "9223372036854776000", 9223372036854775808.0 },
    { "9007199254740993", 9007199254740993 },
    { "-9007199254740993", -9007199254740993 },
    { "9007199254740993.0", 9007199254740993 },
  })
  for _, case in ipairs(exact) do
    it(("reads N %q"):format(case[1]), function()
      local text = case[1]:match("^%S+")
      local v, err = codec:decode(('{"N":"%s"}'):format(text), V)
      assert.is_nil(err)
      assert_same(case[2], v)
    end)
  end

  local floatc = core.codec({ numbers = "float" })
  local float_cases = {
    { "9007199254740993", 9007199254740993 },
    { "1.0", 1 },
    { "0.1", 0.1 },
    { "12345678901234567890123456789012345678", 1.2345678901234568e37 },
    { "9.9999999999999999999999999999999999999E+125", 1e126 },
    { "3.14159265358979323846", 3.141592653589793 },
    { "1e-400", 0.0 },
  }
  for _, case in ipairs(float_cases) do
    it(("reads N %q in float mode"):format(case[1]), function()
      local v, err = floatc:decode(('{"N":"%s"}'):format(case[1]), V)
      assert.is_nil(err)
      assert_same(case[2], v)
    end)
  end

  it("reads NS elements with the same rules", function()
    assert_same(set({ jit and dec("9007199254740993") or 9007199254740993, 0.1, 0, dec("0.10000000000000000001") }),
      codec:decode('{"NS":["9007199254740993","0.1","-0","0.10000000000000000001"]}', V))
  end)

  -- Short plain N text ([-]digits[.digits]) takes a one-pass path. It must
  -- give what the general path gives the same number written with "e0",
  -- and what strtod and the integer rules give, across its edges (15 and 16
  -- digits, 2^53, integral decimals, leading and trailing zeros).
  it("reads short plain N text as the general path and strtod do", function()
    local codec = core.codec()
    local function read(text) return assert(codec:decode(('{"N":"%s"}'):format(text), V)) end
    math.randomseed(11)
    local by_strtod = 0
    for _ = 1, 20000 do
      local digits = {}
      for i = 1, math.random(1, 18) do digits[i] = tostring(math.random(0, 9)) end
      if math.random(4) == 1 then digits[1] = "0" end
      if math.random(8) == 1 then for i = #digits - 2, #digits do digits[i] = digits[i] and "0" end end
      local text = table.concat(digits)
      local dot = math.random(0, #text - 1)
      if dot > 0 then text = text:sub(1, dot) .. "." .. text:sub(dot + 1) end
      if math.random(2) == 1 then text = "-" .. text end

      local got, general = read(text), read(text .. "e0")
      assert.equal(math_type(general), math_type(got), text)
      assert.equal(tostring(general), tostring(got), text)

      local sig = text:gsub("[-.]", ""):gsub("^0+", ""):gsub("0+$", "")
      local integral = not text:find("%.") or text:find("%.0*$")
      local value = tonumber(text)
      local want
      if integral and math.abs(value) <= 2 ^ 53 then
        want = math.tointeger and math.tointeger(value) or value
      elseif not integral and #sig <= 15 then
        want = value
      end
      if want ~= nil then
        assert.equal(want, got, text)
        assert.equal(math_type(want), math_type(got), text)
        by_strtod = by_strtod + 1
      end
    end
    assert.truthy(by_strtod > 10000, by_strtod)
  end)

  it("round-trips integers and floats at the edges", function()
    local edges = { 0.1, -1e-130, 0.1 + 0.2, 1 / 3, 123456.789 }
    add_cases(edges, jit and { 2 ^ 53, -2 ^ 53, 2 ^ 53 - 1, 4503599627370495.5 } or
      { math.maxinteger, math.mininteger, 9007199254740993, -9007199254740993, 1e125,
        9.99999999999999e125, 2.0 ^ 63 })
    for _, x in ipairs(edges) do
      local back = codec:decode(codec:encode(x, V), V)
      if math_type(x) == "float" and math_type(back) == "integer" then back = back + 0.0 end
      assert_same(x, back)
      assert.equal(x, codec:decode(codec:encode(x)))
    end
    if jit then
      -- beyond 2^53: the same value, as a decimal
      for _, x in ipairs({ 1e125, 9.99999999999999e125, 2.0 ^ 63, 2.0 ^ 60 }) do
        local back = codec:decode(codec:encode(x, V), V)
        assert.equal(core.decimal_mt, getmetatable(back))
        assert.equal(x, back:tonumber())
        assert.equal(x, codec:decode(codec:encode(x)))
      end
    end
    -- plain JSON is not held to DynamoDB's range
    for _, x in ipairs({ 1e300, -1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308 }) do
      assert.equal(x, codec:decode(codec:encode(x)))
    end
  end)
end)

describe("locale independence", function()
  -- Sets a comma-decimal LC_NUMERIC, generating de_DE.UTF-8 if no such
  -- locale is installed. Asks `locale -a` first: glibc remembers a locale it
  -- failed to load, so the first setlocale must come after generating.
  local function comma_locale()
    local names = { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "fr_FR" }
    local p = io.popen("locale -a 2>/dev/null")
    local installed = p and p:read("a") or ""
    if p then p:close() end
    installed = "\n" .. installed:lower()
    if not installed:find("\nde_de%.utf%-?8") and not installed:find("\nfr_fr%.utf%-?8")
      and os.execute("command -v localedef >/dev/null 2>&1") then
      -- outside the archive, so this process can load it without a restart
      os.execute("localedef --no-archive -i de_DE -f UTF-8 de_DE.UTF-8 >/dev/null 2>&1")
    end
    for _, name in ipairs(names) do
      if os.setlocale(name, "numeric") then return name end
    end
  end

  it("reads and writes '.' whatever LC_NUMERIC says", function()
    local before = core.codec()
    local name = comma_locale()
    finally(function() os.setlocale("C", "numeric") end)
    assert(name, "no comma-decimal locale could be set (tried de_DE and fr_FR; "
      .. "generate one with: localedef -i de_DE -f UTF-8 de_DE.UTF-8)")
    -- the locale really is in effect (LuaJIT formats numbers itself)
    if jit then
      assert.equal(name, os.setlocale(nil, "numeric"))
    else
      assert.equal("0,5", ("%.1f"):format(0.5))
    end
    for _, c in ipairs({ before, core.codec() }) do
      assert.equal("0.5", c:encode(0.5))
      assert.equal('{"N":"0.5"}', c:encode(0.5, V))
      assert.equal('{"N":"0.30000000000000004"}', c:encode(0.1 + 0.2, V))
      assert.equal("1.5e-300", c:encode(1.5e-300))
      assert.equal(0.5, c:decode('{"N":"0.5"}', V))
      assert.equal(0.5, c:decode("0.5"))
      assert.equal(0.1 + 0.2, c:decode('{"N":"0.30000000000000004"}', V))
      assert.equal(1.5e-300, c:decode("1.5e-300"))
      -- decimals
      local d = c:decode('{"N":"1234567890123456789012345678901234567.5"}', V)
      assert.equal(dec("1234567890123456789012345678901234567.5"), d)
      assert.equal("1234567890123456789012345678901234567.5", tostring(d))
      assert.equal('{"N":"1234567890123456789012345678901234567.5"}', c:encode(d, V))
      assert.equal("0.5", tostring(dec("0.5")))
      assert.equal("0.5", tostring(dec(0.5)))
      assert.equal("-1.5E-7", tostring(dec(-1.5e-7)))
      assert.equal(0.5, dec("0.5"):tonumber())
      assert.equal(0.30000000000000004, dec("0.30000000000000004"):tonumber())
      assert.is_true(dec("0.5"):eq("5e-1"))
      if not jit then   -- LuaJIT never calls __lt for a userdata and a number
        assert.is_true(dec("0.1") < 0.1)
      end
      assert.equal('{"N":"0.25"}', c:encode(dec("0.25"), V))
      assert.equal(dec("2.5"), core.codec({ numbers = "decimal" }):decode('{"N":"2.5"}', V))
      assert.equal("x0.5", "x" .. dec("0.5"))
    end
  end)
end)

describe("value maps", function()
  it("unwraps a GetItem response", function()
    local v, err = codec:decode('{"Item":{"id":{"S":"a"},"n":{"N":"3"}},'
      .. '"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}', op("GetItem").output)
    assert.is_nil(err)
    assert_same({ Item = { id = "a", n = 3 }, ConsumedCapacity = { TableName = "t", CapacityUnits = 0.5 } }, v)
  end)

  it("unwraps a Query response: Items[] and LastEvaluatedKey, plain around them", function()
    local json = [[{"Items":[{"id":{"S":"a"},"tags":{"SS":["x"]},"doc":{"M":{"S":{"S":"not a tag"}}}},
      {"id":{"S":"b"},"n":{"N":"1.25"}}],"Count":2,"ScannedCount":3,
      "LastEvaluatedKey":{"id":{"S":"b"}},
      "ConsumedCapacity":{"TableName":"t","CapacityUnits":1.0,"Table":{"CapacityUnits":1}}}]]
    local v, err = codec:decode(json, op("Query").output)
    assert.is_nil(err)
    assert_same({
      Items = {
        { id = "a", tags = set({ "x" }), doc = { S = "not a tag" } },
        { id = "b", n = 1.25 },
      },
      Count = 2,
      ScannedCount = 3,
      LastEvaluatedKey = { id = "b" },
      ConsumedCapacity = { TableName = "t", CapacityUnits = 1, Table = { CapacityUnits = 1 } },
    }, v)
  end)

  it("keeps an empty Items list a list", function()
    local v = codec:decode('{"Items":[],"Count":0}', op("Query").output)
    assert_same({ Items = list(), Count = 0 }, v)
  end)

  it("unwraps a BatchGetItem response: Responses.{table}[] and UnprocessedKeys", function()
    local json = [[{"Responses":{"T1":[{"k":{"S":"1"},"v":{"L":[{"N":"1"}]}}],"T2":[]},
      "UnprocessedKeys":{"T1":{"Keys":[{"k":{"S":"2"}}],"ProjectionExpression":"k, v",
      "ExpressionAttributeNames":{"#k":"k"}}}}]]
    local v, err = codec:decode(json, op("BatchGetItem").output)
    assert.is_nil(err)
    assert_same({
      Responses = { T1 = { { k = "1", v = { 1 } } }, T2 = list() },
      UnprocessedKeys = { T1 = { Keys = { { k = "2" } }, ProjectionExpression = "k, v",
                                 ExpressionAttributeNames = { ["#k"] = "k" } } },
    }, v)
  end)

  it("unwraps a BatchExecuteStatement response: Responses[].Item and Error.Item", function()
    local json = '{"Responses":[{"TableName":"t","Item":{"a":{"N":"1"}}},'
      .. '{"Error":{"Code":"ConditionalCheckFailed","Message":"m","Item":{"a":{"S":"x"}}}}]}'
    local v, err = codec:decode(json, op("BatchExecuteStatement").output)
    assert.is_nil(err)
    assert_same({ Responses = { { TableName = "t", Item = { a = 1 } },
      { Error = { Code = "ConditionalCheckFailed", Message = "m", Item = { a = "x" } } } } }, v)
  end)

  it("leaves plain JSON alone when there is no map", function()
    local v = codec:decode('{"Item":{"a":{"S":"x"}}}')
    assert_same({ Item = { a = { S = "x" } } }, v)
  end)

  it("encodes a PutItem request", function()
    local json = codec:encode({ TableName = "t", Item = { id = "a", n = 1, ok = true },
      ConditionExpression = "attribute_not_exists(id)" }, op("PutItem").input)
    assert_json([[{"TableName":"t","Item":{"id":{"S":"a"},"n":{"N":"1"},"ok":{"BOOL":true}},
      "ConditionExpression":"attribute_not_exists(id)"}]], json)
  end)

  it("encodes a TransactWriteItems request", function()
    local req = {
      ClientRequestToken = "tok",
      TransactItems = {
        { Put = { TableName = "t", Item = { k = "1", n = 5, s = set({ 1, 2 }) },
                  ConditionExpression = "attribute_not_exists(k)" } },
        { Update = { TableName = "t", Key = { k = "2" }, UpdateExpression = "SET a = :v",
                     ExpressionAttributeValues = { [":v"] = list({ 1, "x" }) },
                     ExpressionAttributeNames = { ["#a"] = "a" } } },
        { Delete = { TableName = "t", Key = { k = "3" } } },
        { ConditionCheck = { TableName = "t", Key = { k = "4" }, ConditionExpression = "a = :z",
                             ExpressionAttributeValues = { [":z"] = null } } },
      },
    }
    assert_json([[{"ClientRequestToken":"tok","TransactItems":[
      {"Put":{"TableName":"t","Item":{"k":{"S":"1"},"n":{"N":"5"},"s":{"NS":["1","2"]}},
              "ConditionExpression":"attribute_not_exists(k)"}},
      {"Update":{"TableName":"t","Key":{"k":{"S":"2"}},"UpdateExpression":"SET a = :v",
                 "ExpressionAttributeValues":{":v":{"L":[{"N":"1"},{"S":"x"}]}},
                 "ExpressionAttributeNames":{"#a":"a"}}},
      {"Delete":{"TableName":"t","Key":{"k":{"S":"3"}}}},
      {"ConditionCheck":{"TableName":"t","Key":{"k":{"S":"4"}},"ConditionExpression":"a = :z",
                         "ExpressionAttributeValues":{":z":{"NULL":true}}}}]}]],
      codec:encode(req, op("TransactWriteItems").input))
  end)

  it("encodes a BatchWriteItem request", function()
    local req = { RequestItems = { t = {
      { PutRequest = { Item = { k = "1", b = bin("\255") } } },
      { DeleteRequest = { Key = { k = "2" } } },
    } } }
    assert_json([[{"RequestItems":{"t":[{"PutRequest":{"Item":{"k":{"S":"1"},"b":{"B":"/w=="}}}},
      {"DeleteRequest":{"Key":{"k":{"S":"2"}}}}]}}]],
      codec:encode(req, op("BatchWriteItem").input))
  end)

  it("encodes ExecuteStatement parameters ([] of V)", function()
    assert.equal('{"Parameters":[{"S":"a"},{"N":"1"}]}',
      codec:encode({ Parameters = { "a", 1 } }, op("ExecuteStatement").input))
    assert.equal('{"Parameters":[{"S":"a"}]}',
      codec:encode({ Parameters = set({ "a" }) }, op("ExecuteStatement").input))
  end)
end)

describe("round trips", function()
  local values = {
    { "scalars", { s = "x", n = 1, f = 0.25, t = true, ff = false, z = null } },
    { "big and exact numbers", { a = jit and 2 ^ 53 or math.maxinteger, b = jit and -2 ^ 53 or math.mininteger,
                                 c = jit and dec("9007199254740993") or 9007199254740993, d = 0.1,
                                 e = jit and dec("1E+125") or 1e125,
                                 f = dec("12345678901234567890123456789012345678"), g = dec("-1.00000000000000000001E-130"),
                                 h = dec("9.9999999999999999999999999999999999999E+125") } },
    { "sets", { ss = set({ "a", "b" }), ns = set({ 1, 2.5 }), bs = bset({ "\0\255", "" }) } },
    { "binary", { b = bin("\0\1\2\3\255\254"), e = bin("") } },
    { "empty containers", { l = list(), m = {} } },
    { "nested documents", { doc = { a = { 1, 2, { b = { c = { "deep", list(), null } } } }, u = "\u{1d11e}\n\"" } } },
    { "strings needing escapes", { s = '\0\1\31"\\/\127\u{e9}' } },
  }
  for _, case in ipairs(values) do
    it(case[1] .. " through AttributeValues", function()
      local map = op("PutItem").input
      local json = codec:encode({ Item = case[2] }, map)
      local v, err = codec:decode(json, map)
      assert.is_nil(err)
      assert_same({ Item = case[2] }, v)
    end)
  end

  it("plain JSON", function()
    local v = { a = { 1, 2.5, "x", { b = null, c = list() } }, d = true, e = "\u{e9}" }
    assert_same(v, codec:decode(codec:encode(v)))
  end)

  it("32 levels deep", function()
    local v = "leaf"
    for i = 1, 32 do v = (i % 2 == 0) and { a = v } or { v } end
    local map = op("PutItem").input
    assert_same({ Item = { x = v } }, codec:decode(codec:encode({ Item = { x = v } }, map), map))
  end)
end)

describe("lua-cjson markers", function()
  it("treats opts.array_mt as a list marker", function()
    local mt = {}
    local c = core.codec({ array_mt = mt })
    assert.equal("[]", c:encode(setmetatable({}, mt)))
    assert.equal("[1,2]", c:encode(setmetatable({ 1, 2 }, mt)))
    assert.equal('{"L":[]}', c:encode(setmetatable({}, mt), V))
  end)

  it("picks up cjson.array_mt and cjson.empty_array_mt when cjson is loaded", function()
    local real = package.loaded.cjson
    local fake = { array_mt = {}, empty_array_mt = {} }
    package.loaded.cjson = fake
    local ok, c = pcall(core.codec)
    package.loaded.cjson = real
    assert(ok, c)
    assert.equal("[]", c:encode(setmetatable({}, fake.array_mt)))
    assert.equal('{"L":[]}', c:encode(setmetatable({}, fake.empty_array_mt), V))
    assert.equal('{"a":1}', c:encode(setmetatable({ a = 1 }, fake.empty_array_mt)))
    -- a codec made before does not see them
    assert.equal("{}", codec:encode(setmetatable({}, fake.array_mt)))
  end)

  it("decodes a string that starts with an escape on a fresh codec (fuzz finding)", function()
    -- The first escape used to copy an empty run into a never-used buffer:
    -- memcpy(NULL, p, 0), undefined behaviour the UBSan build reports.
    assert.equal("\n", core.codec():decode('"\\n"'))
    assert.is_nil(core.codec():decode('{"N":"\\u000e"}', V))   -- an escaped control char is no number
  end)

  it("does not let a fraction's leading zeros undo a saturated exponent (fuzz finding)", function()
    local text = "0." .. ("0"):rep(999999) .. "1e10000000"   -- 10^9000000
    local c = core.codec { numbers = "float" }
    local v, err = c:decode('{"N":"' .. text .. '"}', V)
    assert.is_nil(v)
    assert.matches("number out of range", err, 1, true)
    assert.same({ nil, "invalid JSON at byte 1: number out of range" }, { c:decode(text) })
  end)

  it("encodes OpenResty's cjson.empty_array sentinel as an empty list", function()
    -- debug.upvalueid gives a non-NULL lightuserdata, as cjson.empty_array is.
    local up = 1
    local sentinel = debug.upvalueid(function() return up end, 1)
    local real = package.loaded.cjson
    package.loaded.cjson = { empty_array = sentinel }
    local ok, c = pcall(core.codec)
    package.loaded.cjson = real
    assert(ok, c)
    assert.equal('{"L":[]}', c:encode(sentinel, V))
    assert.equal('{"a":[]}', c:encode({ a = sentinel }))
    assert.has_error(function() codec:encode(sentinel, V) end, "cannot encode a userdata")
  end)
end)

describe("lazy values and decode_at", function()
  local codec = core.codec()
  local LAZY = { Items = { ["[]"] = "@" } }
  local page = '{"Items":[ {"a":{"S":"x"}}, {"b":{"L":[{"N":"1"},{"M":{"c":{"SS":["]","}"]}}}]}} ,{}],'
    .. '"Count":3,"LastEvaluatedKey":{"k":{"S":"z"}}}'

  it("decodes a lazy value to its byte position and decode_at reads it", function()
    local res = assert(codec:decode(page, LAZY))
    local b2 = page:find('{"b"', 1, true)
    assert.same({ 12, b2, (page:find("{}]", b2, true)) }, res.Items)
    assert.equal(3, res.Count)
    local eager = assert(codec:decode(page, op("Query").output))
    for i, pos in ipairs(res.Items) do
      local item, after = codec:decode_at(page, ITEM, pos)
      assert.same(eager.Items[i], item)
      assert.truthy(page:sub(after, after):match("[,%]%s]"))
    end
  end)

  it("reads the value at the position only, not what follows", function()
    local item, after = codec:decode_at('[{"a":{"N":"2"}} garbage', ITEM, 2)
    assert.same({ a = 2 }, item)
    assert.equal(17, after)
  end)

  it("still finds the end of the lazy value's strings, escapes and nesting", function()
    local text = '{"Items":[{"s":{"S":"a\\"]}\\\\"}}]}'
    local res = assert(codec:decode(text, LAZY))
    assert.same({ s = 'a"]}\\' }, (codec:decode_at(text, ITEM, res.Items[1])))
  end)

  local bad = {
    { "an unterminated string", '{"Items":[{"a":{"S":"x}}]}', "invalid JSON at byte 27: unexpected end of input" },
    { "a missing bracket", '{"Items":[{"a":[1,2}]}', "invalid JSON at byte 20: expected ',' or ']'" },
    { "a bad key", '{"Items":[{1:2}]}', "invalid JSON at byte 12: expected an object key" },
    { "a bad literal", '{"Items":[tru]}', "invalid JSON at byte 11: invalid literal" },
  }
  for _, c in ipairs(bad) do
    it("reports " .. c[1] .. " in a lazy value", function()
      local res, err = codec:decode(c[2], LAZY)
      assert.is_nil(res)
      assert.equal(c[3], err)
    end)
  end

  it("reports a bad AttributeValue when the item is read, with its path", function()
    local text = '{"Items":[{"a":{"S":1}}]}'
    local res = assert(codec:decode(text, LAZY))
    local item, err = codec:decode_at(text, ITEM, res.Items[1])
    assert.is_nil(item)
    assert.equal("a: S value must be a string at byte 21", err)
  end)

  it("refuses a position outside the text", function()
    assert.has_error(function() codec:decode_at("{}", ITEM, 3) end)
    assert.has_error(function() codec:decode_at("{}", ITEM, 0) end)
    assert.has_error(function() codec:decode_at("{}", ITEM, "x") end)
  end)
end)
