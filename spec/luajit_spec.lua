-- Runtime-specific cases: LuaJIT (what OpenResty and nginx's Lua module
-- run) has no integers, only doubles, so dynamo.core built for it
-- (build/luajit/dynamo/core.so) reads an N as a Lua number only within
-- 2^53 and as a dynamo.decimal beyond, in exact mode. This spec runs under
-- both runtimes (.ci/luajit runs it under LuaJIT); the assertions that
-- differ are guarded by `if jit`.
local core = require "dynamo.core"
local compat = require "dynamo.compat"
local keys = require "dynamo.keys"
local size = require "dynamo.size"
local timestamp = require "dynamo.credentials.timestamp"

local dec = core.decimal
local V = "V"
local codec = core.codec()
local floatc = core.codec { numbers = "float" }
local math_type = compat.math_type

local function is_decimal(v) return getmetatable(v) == core.decimal_mt end
local function N(c, text) return (c:decode(('{"N":"%s"}'):format(text), V)) end

-- "integer 42", "float 0.5", "decimal 1E+20": what a value is, shown.
local function kind(v)
  if is_decimal(v) then return "decimal " .. tostring(v) end
  if math_type(v) == "integer" then return ("integer %d"):format(v) end
  return ("%s %.17g"):format(math_type(v) or type(v), v)
end

describe("the runtime " .. (jit and jit.version or _VERSION), function()
  it("loads dynamo.core in a fresh state of the same interpreter", function()
    local code = ("package.cpath = %q; local core = require 'dynamo.core'; "
      .. "print(core.version, core.codec():encode({ n = 42 }, { n = 'V' }))"):format(package.cpath)
    local p = assert(io.popen(("%s -e %q 2>&1"):format(jit and "luajit" or "lua5.4", code)))
    local out = p:read("*a")
    p:close()
    assert.are.equal('0.1.0\t{"n":{"N":"42"}}\n', out)
  end)

  it("names every metatable of dynamo.core by __name, as Lua 5.4 does", function()
    assert.are.equal("dynamo.decimal", getmetatable(dec("1")).__name)
    assert.are.equal("dynamo.codec", getmetatable(codec).__name)
    assert.are.equal("dynamo.binary", core.binary_mt.__name)
    assert.are.equal("dynamo.list", core.list_mt.__name)
    assert.are.equal("dynamo.map", core.map_mt.__name)
    assert.are.equal("dynamo.signer", getmetatable(core.signer()).__name)
  end)
end)

describe("reading N in exact mode", function()
  -- text, then what it reads as under LuaJIT and under Lua 5.4
  local cases = {
    { "42", "integer 42", "integer 42" },
    { "-0", "integer 0", "integer 0" },
    { "1e15", "integer 1000000000000000", "integer 1000000000000000" },
    { "9007199254740992", "integer 9007199254740992", "integer 9007199254740992" },
    { "-9007199254740992", "integer -9007199254740992", "integer -9007199254740992" },
    { "9007199254740993", "decimal 9007199254740993", "integer 9007199254740993" },
    { "-9007199254740993", "decimal -9007199254740993", "integer -9007199254740993" },
    { "9007199254740994", "decimal 9007199254740994", "integer 9007199254740994" },
    { "9223372036854775807", "decimal 9223372036854775807", "integer 9223372036854775807" },
    { "18446744073709551615", "decimal 18446744073709551615", "decimal 18446744073709551615" },
    { "1e20", "decimal 100000000000000000000", "float 1e+20" },
    { "1e125", "decimal 1E+125", "float 9.9999999999999992e+124" },
    { "0.5", "float 0.5", "float 0.5" },
    { "0.1", "float 0.10000000000000001", "float 0.10000000000000001" },
    { "4503599627370495.5", "float 4503599627370495.5", "float 4503599627370495.5" },
    { "0.10000000000000000001", "decimal 0.10000000000000000001", "decimal 0.10000000000000000001" },
    { "9007199254740992.5", "decimal 9007199254740992.5", "decimal 9007199254740992.5" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      assert.are.equal(jit and c[2] or c[3], kind(N(codec, c[1])))
    end)
  end

  it("never loses a digit: N text read and written back is the same value", function()
    for _, c in ipairs(cases) do
      local out = codec:encode(N(codec, c[1]), V):match('^{"N":"(.*)"}$')
      assert.is_true(dec(c[1]) == dec(out), c[1] .. " written back as " .. out)
    end
  end)

  it("reads a float beyond DynamoDB's range, where no decimal can go, when it is exact", function()
    assert.are.equal("float 1.5000000000000001e+300", kind(N(codec, "1.5e300")))
  end)

  it("reads beyond 2^53 as the nearest number in float mode", function()
    assert.are.equal(jit and "integer 9007199254740992" or "integer 9007199254740993",
      kind(N(floatc, "9007199254740993")))
    assert.are.equal("float 1e+20", kind(N(floatc, "1e20")))
  end)

  it("reads plain JSON numbers as numbers, never decimals", function()
    assert.are.equal(jit and "integer 9007199254740992" or "integer 9007199254740993",
      kind(codec:decode("9007199254740993")))
    assert.are.equal("float 1e+20", kind(codec:decode("1e20")))
  end)

  it("turns a big decimal into the nearest number with tonumber", function()
    assert.are.equal(1e20, dec("1e20"):tonumber())
    -- LuaJIT: 2^53 + 1 is halfway between doubles; ties to even
    assert.are.equal(jit and "integer 9007199254740992" or "integer 9007199254740993",
      kind(dec("9007199254740993"):tonumber()))
  end)
end)

describe("writing numbers", function()
  local cases = {
    { "an integer", 42, "42" },
    { "an integral float", 42.0, "42" },
    { "2^53", 2 ^ 53, "9007199254740992" },
    { "-2^53", -2 ^ 53, "-9007199254740992" },
    { "1e15, not 1e+15", 1e15, "1000000000000000" },
    { "an integral float beyond 2^53, exactly", 2 ^ 53 + 2, "9007199254740994" },
    { "1e20", 1e20, "100000000000000000000" },
    { "a fraction", 0.1, "0.1" },
    { "a big float", 1.5e100, "1.5e+100" },
    { "a decimal", dec("9007199254740993"), "9007199254740993" },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " as " .. c[3], function()
      assert.are.equal(('{"N":"%s"}'):format(c[3]), codec:encode(c[2], V))
      assert.are.equal(c[3], codec:encode(c[2]))
    end)
  end

  if jit then
    local ffi = require "ffi"
    -- LuaJIT's literals (1LL) are not Lua 5.4 syntax: this file parses in both
    local function ll(text) return assert(load("return " .. text))() end
    local int64 = {
      { "1LL", ll "1LL", "1" },
      { "-5LL", ll "-5LL", "-5" },
      { "int64 max", ll "9223372036854775807LL", "9223372036854775807" },
      { "int64 min", ll "-9223372036854775807LL - 1", "-9223372036854775808" },
      { "uint64 max", ll "18446744073709551615ULL", "18446744073709551615" },
    }
    for _, c in ipairs(int64) do
      it("LuaJIT's 64-bit integer cdata " .. c[1] .. " exactly", function()
        assert.are.equal(('{"N":"%s"}'):format(c[3]), codec:encode(c[2], V))
        assert.are.equal(c[3], codec:encode(c[2]))
        assert.is_true(dec(c[3]) == N(codec, c[3]) or N(codec, c[3]) == tonumber(c[3]))
      end)
    end

    it("64-bit integer cdata in sets and lists", function()
      assert.are.equal('{"NS":["1","2"]}', codec:encode(setmetatable({ ll "1LL", 2 }, core.set_mt), V))
      assert.are.equal('{"L":[{"N":"3"}]}', codec:encode({ ll "3ULL" }, V))
    end)

    it("refuses other cdata", function()
      assert.has_error(function() codec:encode({ Item = { x = ffi.new("int", 1) } }, { Item = { ["{}"] = V } }) end,
        "Item.x: cannot encode a cdata (only 64-bit integers)")
      assert.has_error(function() codec:encode(ffi.new("void *")) end,
        "cannot encode a cdata (only 64-bit integers)")
    end)

    it("orders decimals among themselves only (LuaJIT calls no __lt for a userdata and a number)", function()
      assert.is_true(dec("1") < dec("2"))
      assert.is_true(dec("2") <= dec("2.0"))
      assert.has_error(function() return dec("1") < 2 end)
      assert.is_true(dec("2"):eq(2))
    end)
  end
end)

describe("library code under both runtimes", function()
  it("dynamo.compat says what math.type and math.tointeger say in 5.4", function()
    assert.are.equal("integer", math_type(9007199254740992))
    assert.are.equal("integer", math_type(-3))
    assert.are.equal("float", math_type(0.5))
    assert.are.equal("float", math_type(1 / 0))
    assert.are.equal("float", math_type(0 / 0))
    assert.is_nil(math_type("1"))
    assert.are.equal(jit and "float" or "integer", math_type(jit and 2 ^ 53 + 2 or 9007199254740994))
    assert.are.equal(3, compat.tointeger(3.0))
    assert.is_nil(compat.tointeger(3.5))
    local t = compat.pack(1, nil, 3)
    assert.are.equal(3, t.n)
    assert.are.same({ 1, nil, 3 }, { compat.unpack(t, 1, t.n) })
  end)

  it("dynamo.compat.utf8_char encodes every length", function()
    assert.are.equal("A", compat.utf8_char(0x41))
    assert.are.equal("\xC3\xA9", compat.utf8_char(0xE9))
    assert.are.equal("\xE2\x82\xAC", compat.utf8_char(0x20AC))
    assert.are.equal("\xF0\x9D\x84\x9E", compat.utf8_char(0x1D11E))
    assert.are.equal("\xF4\x8F\xBF\xBF", compat.utf8_char(0x10FFFF))
  end)

  it("gives a number key and the same decimal key one identity (de-duplication)", function()
    for _, c in ipairs({ { 1e15, "1e15" }, { 2 ^ 60, "1152921504606846976" }, { 42, "42" }, { 0.5, "0.5" } }) do
      assert.are.equal(keys.identity({ k = dec(c[2]) }, { "k" }), keys.identity({ k = c[1] }, { "k" }), c[2])
    end
  end)

  it("sizes big integers by their digits", function()
    assert.are.equal(1 + 9, size.item_size({ n = 2 ^ 53 }))        -- 16 digits: 1 + 8
    assert.are.equal(1 + 9, size.item_size({ n = dec("9007199254740993") }))
    if jit then   -- 20 digits: 1 + 10
      assert.are.equal(1 + 11, size.item_size({ n = assert(load("return 18446744073709551615ULL"))() }))
    end
  end)

  it("parses credential timestamps with floor division", function()
    assert.are.equal(1714566896, timestamp.parse("2024-05-01T12:34:56Z"))
    assert.are.equal(-1, timestamp.parse("1969-12-31T23:59:59Z"))
    assert.are.equal(-11670998400, timestamp.parse("1600-02-29T00:00:00Z"))
    assert.are.equal("integer", math_type(timestamp.parse("2024-05-01T12:34:56.789+02:00")))
  end)
end)
