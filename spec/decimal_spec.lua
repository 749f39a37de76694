-- dynamo.decimal (src/decimal.c) and how the codec reads and writes it
-- (src/number.c, encode.c, decode.c). Table-driven: name, input, expected
-- result or exact error.
local dynamo = require "dynamo"
local core = require "dynamo.core"
local operations = require "dynamo.operations"

local decimal = dynamo.decimal
local V = "V"

-- Runtime-specific cases: LuaJIT (`jit`) has no integers (numbers are
-- doubles, "integer" here means whole within 2^53), and never calls __lt or
-- __le for a userdata and a number, so decimals order only among
-- themselves there. spec/luajit_spec.lua has more.
local compat = require "dynamo.compat"
local math_type, tointeger = compat.math_type, compat.tointeger
local function add_cases(cases, more)
  for _, c in ipairs(more) do cases[#cases + 1] = c end
  return cases
end

local function op(name)
  for _, o in ipairs(operations.operations) do
    if o.name == name then return o end
  end
  error("no operation " .. name)
end

local function is_decimal(v)
  return type(v) == "userdata" and getmetatable(v) == core.decimal_mt
end

-- Strict: same Lua type, same number subtype, decimals equal by value.
local function assert_value(expected, actual)
  if is_decimal(expected) then
    assert(is_decimal(actual), ("decimal %s expected, got %s %s"):format(
      tostring(expected), math_type(actual) or type(actual), tostring(actual)))
    assert(expected == actual, ("decimal %s expected, got %s"):format(tostring(expected), tostring(actual)))
    return
  end
  assert(type(actual) == "number" and math_type(actual) == math_type(expected),
    ("%s %s expected, got %s %s"):format(math_type(expected), tostring(expected),
      math_type(actual) or type(actual), tostring(actual)))
  assert(expected == actual, ("%.17g expected, got %.17g"):format(expected, actual))
end

local RANGE = "(magnitude 1E-130 to 9.9999999999999999999999999999999999999E+125)"

describe("dynamo.decimal", function()
  it("is core.decimal, a userdata with metatable \"dynamo.decimal\"", function()
    assert.equal(core.decimal, dynamo.decimal)
    local d = decimal("1.5")
    assert.equal("userdata", type(d))
    assert.equal("dynamo.decimal", getmetatable(d).__name)
    assert.equal(debug.getregistry()["dynamo.decimal"], getmetatable(d))
    assert.equal(core.decimal_mt, getmetatable(d))
  end)

  it("returns a decimal argument as it is", function()
    local d = decimal("2")
    assert.equal(rawequal(d, decimal(d)), true)
  end)

  -- input -> tostring
  local from_text = {
    { "123.45", "123.45" },
    { "0", "0" },
    { "-0", "0" },
    { "-0.000e5", "0" },
    { "0e999999999999", "0" },
    { "+5", "5" },
    { ".5", "0.5" },
    { "5.", "5" },
    { "007", "7" },
    { "1.50", "1.5" },
    { "100", "100" },
    { "1e2", "100" },
    { "1E+2", "100" },
    { "12.5e-1", "1.25" },
    { "-42", "-42" },
    { "0.000001", "0.000001" },
    { "0.0000001", "1E-7" },
    { "-0.00000012", "-1.2E-7" },
    { "0.0000123", "0.0000123" },
    { "12345678901234567890123456789012345678", "12345678901234567890123456789012345678" },
    { "1e37", "10000000000000000000000000000000000000" },
    { "1e38", "1E+38" },
    { "1.5e38", "1.5E+38" },
    { "-1234567890.1234567890123456789012345678", "-1234567890.1234567890123456789012345678" },
    { "1E+125", "1E+125" },
    { "1e-130", "1E-130" },
    { "-1e-130", "-1E-130" },
    { "9.9999999999999999999999999999999999999E+125", "9.9999999999999999999999999999999999999E+125" },
    { "-0.00000000000000000000000000000000000001", "-1E-38" },
    { "1234567890123456789012345678901234567800000", "1.2345678901234567890123456789012345678E+42" },
    { "0.10000000000000000000000000000000000000000000000000", "0.1" },
    { "00000000000000000000000000000000000000000001", "1" },
    { "9223372036854775808", "9223372036854775808" },
  }
  for _, case in ipairs(from_text) do
    it(("reads %q as %s"):format(case[1], case[2]), function()
      local d = decimal(case[1])
      assert.equal(case[2], tostring(d))
      assert.equal(case[2], d:tostring())
      -- the text reads back as the same value
      assert.is_true(decimal(tostring(d)) == d)
    end)
  end

  -- Lua number -> tostring: integers exactly; floats as the encoder writes
  -- them (shortest round-trip digits; integral below 2^63 exactly).
  local from_number = {
    { "integer", 42, "42" },
    { "zero", 0, "0" },
    { "negative integer", -1000, "-1000" },
    { "float 0.1", 0.1, "0.1" },
    { "float 0.1 + 0.2", 0.1 + 0.2, "0.30000000000000004" },
    { "float -1.5", -1.5, "-1.5" },
    { "float -0.0", -0.0, "0" },
    { "float 1e-7", 1e-7, "1E-7" },
    { "float 1e125", 1e125, "1E+125" },
    { "float 1e-130", 1e-130, "1E-130" },
    { "integral float 2^60", 2.0 ^ 60, "1152921504606846976" },
    { "float 2^63", 2.0 ^ 63, "9223372036854776000" },
    { "float 1/3", 1 / 3, "0.3333333333333333" },
  }
  add_cases(from_number, jit and {
    { "2^53", 2 ^ 53, "9007199254740992" },
    { "-2^53", -2 ^ 53, "-9007199254740992" },
  } or {
    { "int64 max", math.maxinteger, "9223372036854775807" },
    { "int64 min", math.mininteger, "-9223372036854775808" },
  })
  for _, case in ipairs(from_number) do
    it("makes one from " .. case[1], function()
      assert.equal(case[3], tostring(decimal(case[2])))
    end)
  end

  local errors = {
    { "empty string", "", 'bad argument #1 to \'decimal\' (invalid number "")' },
    { "garbage", "abc", 'bad argument #1 to \'decimal\' (invalid number "abc")' },
    { "two points", "1.2.3", 'bad argument #1 to \'decimal\' (invalid number "1.2.3")' },
    { "spaces", " 1", 'bad argument #1 to \'decimal\' (invalid number " 1")' },
    { "comma", "1,5", 'bad argument #1 to \'decimal\' (invalid number "1,5")' },
    { "hex", "0x10", 'bad argument #1 to \'decimal\' (invalid number "0x10")' },
    { "infinity text", "inf", 'bad argument #1 to \'decimal\' (invalid number "inf")' },
    { "nan text", "NaN", 'bad argument #1 to \'decimal\' (invalid number "NaN")' },
    { "bare exponent", "1e", 'bad argument #1 to \'decimal\' (invalid number "1e")' },
    { "lone point", ".", 'bad argument #1 to \'decimal\' (invalid number ".")' },
    { "control byte", "1\n", 'bad argument #1 to \'decimal\' (invalid number "1?")' },
    { "long garbage", ("9"):rep(50) .. "x",
      'bad argument #1 to \'decimal\' (invalid number "' .. ("9"):rep(40) .. '...")' },
    { "39 digits", "123456789012345678901234567890123456789",
      "bad argument #1 to 'decimal' (number has 39 significant digits (DynamoDB allows 38))" },
    { "40 digits after the point", "0.1234567890123456789012345678901234567891",
      "bad argument #1 to 'decimal' (number has 40 significant digits (DynamoDB allows 38))" },
    { "1000 digits", ("7"):rep(1000),
      "bad argument #1 to 'decimal' (number has 1000 significant digits (DynamoDB allows 38))" },
    { "1E+126", "1E+126", "bad argument #1 to 'decimal' (number 1E+126 is out of DynamoDB's range " .. RANGE .. ")" },
    { "10^126 written out", "1" .. ("0"):rep(126),
      "bad argument #1 to 'decimal' (number 1E+126 is out of DynamoDB's range " .. RANGE .. ")" },
    { "-9.99E-131", "-9.99E-131",
      "bad argument #1 to 'decimal' (number -9.99E-131 is out of DynamoDB's range " .. RANGE .. ")" },
    { "huge exponent", "1e99999999999999999999",
      "bad argument #1 to 'decimal' (number is out of DynamoDB's range " .. RANGE .. ")" },
    { "float 1e300", 1e300, "bad argument #1 to 'decimal' (number 1E+300 is out of DynamoDB's range " .. RANGE .. ")" },
    { "float 5e-324", 5e-324, "bad argument #1 to 'decimal' (number 5E-324 is out of DynamoDB's range " .. RANGE .. ")" },
    { "NaN", 0 / 0, "bad argument #1 to 'decimal' (NaN and infinity cannot be stored)" },
    { "infinity", math.huge, "bad argument #1 to 'decimal' (NaN and infinity cannot be stored)" },
    { "table", {}, "bad argument #1 to 'decimal' (string or number expected, got table)" },
    { "boolean", true, "bad argument #1 to 'decimal' (string or number expected, got boolean)" },
    { "null", dynamo.null, "bad argument #1 to 'decimal' (string or number expected, got userdata)" },
    { "file", io.stdout, "bad argument #1 to 'decimal' (string or number expected, got userdata)" },
  }
  for _, case in ipairs(errors) do
    it("rejects " .. case[1], function()
      assert.has_error(function() decimal(case[2]) end, case[3])
    end)
  end

  it("rejects no argument", function()
    assert.has_error(function() decimal() end, "bad argument #1 to 'decimal' (value expected)")
  end)

  it("accepts the extremes of DynamoDB's range", function()
    assert.equal("1E-130", tostring(decimal("0.0000000001e-120")))
    assert.equal("-9.9999999999999999999999999999999999999E+125",
      tostring(decimal("-99999999999999999999999999999999999999" .. ("0"):rep(88))))
  end)
end)

describe("decimal comparisons", function()
  local d = decimal
  local nan = 0 / 0
  -- a, b, and how a compares with b: -1, 0, 1, or "unordered".
  -- Float cases checked with Python's fractions.Fraction.
  local cases = {
    -- decimal / decimal
    { d "1", d "1.0", 0 },
    { d "1", d "2", -1 },
    { d "-1", d "1", -1 },
    { d "-2", d "-1", -1 },
    { d "0", d "-0", 0 },
    { d "99", d "100", -1 },
    { d "-99", d "-100", 1 },
    { d "12", d "1.2E+1", 0 },
    { d "123.45", d "123.450", 0 },
    { d "0.1", d "0.10000000000000000000000000000000000001", -1 },
    { d "1.5", d "1.4999999999999999999999999999999999999", 1 },
    { d "1E+125", d "9.9999999999999999999999999999999999999E+124", 1 },
    { d "1E-130", d "-1E-130", 1 },
    { d "1E-130", d "0", 1 },
    { d "-9.9999999999999999999999999999999999999E+125", d "1E-130", -1 },
    -- decimal / integer
    { d "9007199254740993", 9007199254740992, 1 },
    { d "0", 0, 0 },
    { d "-0", 0, 0 },
    { d "0.5", 0, 1 },
    { d "-0.5", 0, -1 },
    { d "0.5", 1, -1 },
    { d "100", 100, 0 },
    { d "1E+2", 101, -1 },
    { d "1E-130", 0, 1 },
    { d "-1E-130", 0, -1 },
    { 3, d "3.0000000000000000000000000000000000001", -1 },
    -- decimal / float, exactly by the float's binary value
    { d "0.1", 0.1, -1 },          -- 0.1 is 0.1000000000000000055511151231257827...
    { d "0.1000000000000000055511151231257827", 0.1, -1 },
    { d "0.1000000000000000055511151231257828", 0.1, 1 },
    { d "0.3", 0.3, 1 },           -- 0.3 is 0.2999999999999999888977697537484345...
    { d "-0.1", -0.1, 1 },
    { d "0.5", 0.5, 0 },
    { d "1.5", 1.5, 0 },
    { d "5", 5.0, 0 },
    { d "4.9999999999999999999999999999999999999", 5.0, -1 },
    { d "123.456", 123.456, -1 },
    { d "0", 0.0, 0 },
    { d "0", -0.0, 0 },
    { d "-0", -0.0, 0 },
    { d "1E-130", -0.0, 1 },
    { d "9007199254740993", 9007199254740992.0, 1 },
    { d "9007199254740993", 9007199254740994.0, -1 },
    { d "9223372036854775808", 2.0 ^ 63, 0 },
    { d "9223372036854776000", 2.0 ^ 63, 1 },
    { d "12345678901234567525491324606797053952", 1.2345678901234568e37, 0 },
    { d "1.2345678901234567890123456789012345678E+37", 1.2345678901234568e37, 1 },
    { d "1E+22", 1e22, 0 },
    { d "1E+23", 1e23, 1 },         -- 1e23 is 99999999999999991611392
    { d "1E+125", 1e125, 1 },
    { d "9.9999999999999999999999999999999999999E+125", 1e126, 1 },
    { d "1E-130", 1e-130, -1 },
    { d "-1E-130", -1e-130, 1 },
    { d "1.0000000000000000000000000000000000001E-130", 1e-130, -1 },
    -- far apart
    { d "1E+125", 1e300, -1 },
    { d "1E+125", -1e300, 1 },
    { d "-1E+125", -1e300, 1 },
    { d "1E-130", 5e-324, 1 },
    { d "-1E-130", -5e-324, -1 },
    { d "1E-130", 1e-300, 1 },
    { d "1", math.huge, -1 },
    { d "1", -math.huge, 1 },
    { d "-9.9999999999999999999999999999999999999E+125", -math.huge, 1 },
    -- float first
    { 0.1, d "0.1", 1 },
    { 0.5, d "0.5", 0 },
    { -1e300, d "-1E+125", -1 },
    -- NaN is unordered
    { d "1", nan, "unordered" },
    { nan, d "0", "unordered" },
  }
  if not jit then
    add_cases(cases, {
      { d "9007199254740993", 9007199254740993, 0 },
      { d "9223372036854775807", math.maxinteger, 0 },
      { d "9223372036854775808", math.maxinteger, 1 },
      { d "-9223372036854775808", math.mininteger, 0 },
      { d "-9223372036854775809", math.mininteger, -1 },
      { d "1E+125", math.maxinteger, 1 },
      { d "-1E+125", math.mininteger, -1 },
    })
  end
  for _, case in ipairs(cases) do
    local a, b, want = case[1], case[2], case[3]
    it(("%s %s vs %s %s: %s"):format(math_type(a) or "decimal", tostring(a), math_type(b) or "decimal",
        tostring(b), tostring(want)), function()
      if jit and not (is_decimal(a) and is_decimal(b)) then
        -- LuaJIT: no ordering between a decimal and a number; eq below
        assert.has_error(function() return a < b end)
      elseif want == "unordered" then
        assert.is_false(a < b)
        assert.is_false(a <= b)
        assert.is_false(a > b)
        assert.is_false(a >= b)
      else
        assert.equal(want < 0, a < b)
        assert.equal(want <= 0, a <= b)
        assert.equal(want > 0, a > b)
        assert.equal(want >= 0, a >= b)
        assert.equal(want > 0, b < a)
        assert.equal(want >= 0, b <= a)
      end
      local da = is_decimal(a) and a or b
      local other = da == a and b or a
      assert.equal(want == 0, da:eq(other))
      if is_decimal(a) and is_decimal(b) then
        assert.equal(want == 0, a == b)
        assert.equal(want ~= 0, a ~= b)
      else
        -- Lua never calls __eq for a userdata and a number
        assert.is_false(a == b)
      end
    end)
  end

  it("eq takes N text too", function()
    assert.is_true(d("0.1"):eq("0.1"))
    assert.is_true(d("100"):eq("1E+2"))
    assert.is_false(d("0.1"):eq("0.10000000000000000000000000000000000001"))
    assert.is_true(d("0.1"):eq(d(0.1)))   -- decimal(x) takes the float's shortest digits
  end)

  local eq_errors = {
    { "invalid text", "x", 'bad argument #1 to \'eq\' (invalid number "x")' },
    { "text out of range", "1e126",
      "bad argument #1 to 'eq' (number 1E+126 is out of DynamoDB's range " .. RANGE .. ")" },
    { "a table", {}, "bad argument #1 to 'eq' (decimal, number or string expected, got table)" },
    { "nil", nil, "bad argument #1 to 'eq' (decimal, number or string expected, got nil)" },
  }
  for _, case in ipairs(eq_errors) do
    it("eq rejects " .. case[1], function()
      assert.has_error(function() d("1"):eq(case[2]) end, case[3])
    end)
  end

  it("eq needs a decimal as self", function()
    assert.has_error(function() d("1").eq(1, 1) end,
      "bad argument #1 to 'eq' (dynamo.decimal expected, got number)")
  end)

  it("== with other userdata is false", function()
    assert.is_false(d("1") == io.stdout)
    assert.is_false(io.stdout == d("1"))
    assert.is_false(d("0") == dynamo.null)
  end)

  local order_errors = {
    { "a string", function() return d("1") < "2" end, "attempt to compare dynamo.decimal with string" },
    { "a string first", function() return "2" <= d("1") end, "attempt to compare string with dynamo.decimal" },
    { "a table", function() return d("1") < {} end, "attempt to compare dynamo.decimal with table" },
    { "nil", function() return nil < d("1") end, "attempt to compare nil with dynamo.decimal" },
  }
  for _, case in ipairs(order_errors) do
    it("refuses to order with " .. case[1], function()
      if jit then
        assert.has_error(case[2])   -- LuaJIT's own message, before any metamethod
      else
        assert.has_error(case[2], case[3])
      end
    end)
  end

  -- Lua 5.4 only: LuaJIT orders a decimal and a number by neither __lt
  -- nor __le.
  local it_54 = jit and function() end or it

  it_54("sorts a mixed array exactly", function()
    local t = { d "0.1", 0.1, 1, d "-1E+125", -0.0, d "1E-130", 2 ^ 53, d "9007199254740993", 5e-324 }
    table.sort(t, function(x, y) return x < y end)
    local shown = {}
    for i, v in ipairs(t) do shown[i] = is_decimal(v) and "d" .. tostring(v) or ("%.17g"):format(v) end
    assert.same({ "d-1E+125", "-0", "4.9406564584124654e-324", "d1E-130", "d0.1", "0.10000000000000001", "1",
                  "9007199254740992", "d9007199254740993" }, shown)
  end)

  it("orders random floats and their shortest digits consistently", function()
    math.randomseed(11)
    for _ = 1, 2000 do
      local x = (math.random() - 0.5) * 10.0 ^ math.random(-100, 100)
      local dx = d(x)           -- the shortest digits: within half an ulp of x
      if not jit then
        local lt, eq, gt = dx < x, dx:eq(x), dx > x
        assert.equal(1, (lt and 1 or 0) + (eq and 1 or 0) + (gt and 1 or 0))
        assert.equal(lt, x > dx)
        assert.equal(eq, dx <= x and x <= dx)
      end
      assert.equal(x, dx:tonumber())
      assert.is_true(dx == d(tostring(dx)))
    end
  end)
end)

describe("decimal methods", function()
  -- input, d:tonumber() (type matters)
  local tonumber_cases = {
    { "0", 0 },
    { "-0", 0 },
    { "123", 123 },
    { "1E+2", 100 },
    { "-42.000", -42 },
    { "9223372036854775807", jit and 2.0 ^ 63 or math.maxinteger },
    { "-9223372036854775808", jit and -2.0 ^ 63 or math.mininteger },
    { "9223372036854775808", 9223372036854775808.0 },
    { "-9223372036854775809", -9223372036854775808.0 },
    { "1E+19", 1e19 },
    { "0.1", 0.1 },
    { "1.5", 1.5 },
    { "-0.5", -0.5 },
    { "9007199254740993", 9007199254740993 },
    { "9007199254740993.5", 9007199254740994.0 },
    { "0.30000000000000004", 0.30000000000000004 },
    { "12345678901234567890123456789012345678", 1.2345678901234568e37 },
    { "1E+125", 1e125 },
    { "9.9999999999999999999999999999999999999E+125", 1e126 },
    { "1E-130", 1e-130 },
    { "-1E-130", -1e-130 },
    { "-0.00000000000000000000000000000000000001", -1e-38 },
    -- exact halfway between two doubles: ties to even
    { "9007199254740993.0", 9007199254740993 },
    { "9007199254740993.00000000000000000001", 9007199254740994.0 },
    { "18014398509481985", 18014398509481985 },
    { "1.8014398509481985E+16", 18014398509481985 },
    { "1.8014398509481985E+30", 1.8014398509481985e30 },
    { "18446744073709553664", 18446744073709551616.0 },   -- 2^64 + 2048: down to even
    { "18446744073709557760", 18446744073709559808.0 },   -- 2^64 + 6144: up to even
    { "4503599627370496.5", 4503599627370496.0 },
    { "4503599627370497.5", 4503599627370498.0 },
  }
  for _, case in ipairs(tonumber_cases) do
    it(("tonumber of %s"):format(case[1]), function()
      assert_value(case[2], decimal(case[1]):tonumber())
    end)
  end

  it("tonumber rounds like Lua reads the same text", function()
    math.randomseed(5)
    for _ = 1, 3000 do
      local digits = tostring(math.random(1, 9))
      for _ = 2, math.random(1, 38) do digits = digits .. math.random(0, 9) end
      local text = digits .. "E" .. math.random(-130 - #digits + 1, 125 - #digits + 1)
      local dv = decimal(text)
      local want = tonumber(text)
      local got = dv:tonumber()
      if math_type(got) == "integer" then
        assert.equal(got, tointeger(tonumber(tostring(dv))))
      else
        assert(got == want, ("%s: %.17g expected, got %.17g"):format(text, want, got))
      end
    end
  end)

  local sign_cases = {
    { "5", 1, true }, { "-5", -1, true }, { "0", 0, true }, { "-0", 0, true }, { "0.5", 1, false },
    { "-1E-130", -1, false }, { "1E+125", 1, true }, { "12.000", 1, true }, { "-12.5", -1, false },
  }
  for _, case in ipairs(sign_cases) do
    it(("sign and isinteger of %s"):format(case[1]), function()
      assert.equal(case[2], decimal(case[1]):sign())
      assert.equal("integer", math_type(decimal(case[1]):sign()))
      assert.equal(case[3], decimal(case[1]):isinteger())
    end)
  end

  it("negates", function()
    assert.equal("-1.5", tostring(-decimal("1.5")))
    assert.equal("1E-130", tostring(-decimal("-1e-130")))
    assert.equal("0", tostring(-decimal("0")))
    assert.is_true(-(-decimal("2")) == decimal("2"))
  end)

  it("concatenates with strings, numbers and decimals", function()
    assert.equal("x1.5", "x" .. decimal("1.5"))
    assert.equal("1.5x", decimal("1.5") .. "x")
    assert.equal("a1E+100b", "a" .. decimal("1e100") .. "b")
    assert.equal("1.52", decimal("1.5") .. 2)
    assert.equal("21.5", 2 .. decimal("1.5"))
    assert.equal("1.5-3", decimal("1.5") .. decimal("-3"))
  end)

  it("refuses to concatenate other values", function()
    assert.has_error(function() return decimal("1") .. {} end, "attempt to concatenate a table value")
    assert.has_error(function() return true .. decimal("1") end, "attempt to concatenate a boolean value")
  end)

  it("has no arithmetic", function()
    local ok, err = pcall(function() return decimal("1") + 1 end)
    assert.is_false(ok)
    -- LuaJIT does not name userdata by __name in its messages
    assert.matches(jit and "attempt to perform arithmetic on a userdata value"
      or "attempt to perform arithmetic on a dynamo.decimal value", err, 1, true)
  end)

  it("is a different table key from an equal decimal; tostring gives one key", function()
    local a, b = decimal("1.50"), decimal("1.5")
    assert.is_true(a == b)
    local t = { [a] = true }
    assert.is_nil(t[b])
    local u = { [tostring(a)] = true }
    assert.is_true(u[tostring(b)])
  end)

  it("methods need a decimal", function()
    local m = getmetatable(decimal("1")).__index
    local msg = "bad argument #1 to '%s' (dynamo.decimal expected, got string)"
    assert.has_error(function() m.tostring("1") end, msg:format("tostring"))
    assert.has_error(function() m.tonumber("1") end, msg:format("tonumber"))
    assert.has_error(function() m.sign("1") end, msg:format("sign"))
    assert.has_error(function() m.isinteger("1") end, msg:format("isinteger"))
  end)
end)

describe("decoding N", function()
  local exactc = core.codec()
  local floatc = core.codec({ numbers = "float" })
  local decc = core.codec({ numbers = "decimal" })
  local d = decimal
  -- text, exact mode, float mode, decimal mode
  local cases = {
    { "12345678901234567890123456789012345678", d "12345678901234567890123456789012345678",
      1.2345678901234568e37, d "12345678901234567890123456789012345678" },
    { "-0.00000000000000000000000000000000000001", -1e-38, -1e-38, d "-1E-38" },
    -- LuaJIT: beyond 2^53, a decimal in exact mode
    { "9007199254740993", jit and d "9007199254740993" or 9007199254740993, 9007199254740993,
      d "9007199254740993" },
    { "1E+125", jit and d "1E+125" or 1e125, 1e125, d "1E+125" },
    { "0.1", 0.1, 0.1, d "0.1" },
    { "1.5", 1.5, 1.5, d "1.5" },
    { "123", 123, 123, d "123" },
    { "1e-130", 1e-130, 1e-130, d "1E-130" },
    { "9.9999999999999999999999999999999999999E+125", d "9.9999999999999999999999999999999999999E+125",
      1e126, d "9.9999999999999999999999999999999999999E+125" },
    { "-0", 0, 0, d "0" },
    { "100.000", 100, 100, d "100" },
    { "9223372036854775808", d "9223372036854775808", 9223372036854775808.0, d "9223372036854775808" },
    { "0.30000000000000004", 0.30000000000000004, 0.30000000000000004, d "0.30000000000000004" },
    { "0.30000000000000001", d "0.30000000000000001", 0.3, d "0.30000000000000001" },
    { "3.14159265358979323846", d "3.14159265358979323846", 3.141592653589793, d "3.14159265358979323846" },
  }
  for _, case in ipairs(cases) do
    it(("reads N %q in each mode"):format(case[1]), function()
      local json = ('{"N":"%s"}'):format(case[1])
      assert_value(case[2], (exactc:decode(json, V)))
      assert_value(case[3], (floatc:decode(json, V)))
      assert_value(case[4], (decc:decode(json, V)))
    end)

    it(("writes N %q back with the same value"):format(case[1]), function()
      local json = ('{"N":"%s"}'):format(case[1])
      for _, c in ipairs({ exactc, decc }) do
        local out = c:encode((c:decode(json, V)), V)
        local text = out:match('^{"N":"(.*)"}$')
        assert(text, out)
        assert(d(text) == d(case[1]), ("%s written as %s"):format(case[1], text))
      end
    end)
  end

  it("writes decimals back with their digits exactly", function()
    assert.equal('{"N":"12345678901234567890123456789012345678"}',
      decc:encode((decc:decode('{"N":"12345678901234567890123456789012345678"}', V)), V))
    assert.equal('{"N":"-1E-38"}', decc:encode((decc:decode('{"N":"-0.00000000000000000000000000000000000001"}', V)), V))
    assert.equal('{"N":"9.9999999999999999999999999999999999999E+125"}',
      exactc:encode((exactc:decode('{"N":"9.9999999999999999999999999999999999999E+125"}', V)), V))
  end)

  it("loses digits in float mode, and may then not be storable", function()
    local v = floatc:decode('{"N":"9.9999999999999999999999999999999999999E+125"}', V)
    assert.has_error(function() floatc:encode({ Item = { total = v } }, op("PutItem").input) end,
      "Item.total: number 1E+126 is out of DynamoDB's range " .. RANGE)
  end)

  it("reads whole items and sets of decimals in decimal mode", function()
    local v = decc:decode('{"Item":{"n":{"N":"1"},"s":{"NS":["1.5","2"]},"l":{"L":[{"N":"-3"}]}}}',
      op("GetItem").output)
    assert_value(d "1", v.Item.n)
    assert_value(d "1.5", v.Item.s[1])
    assert_value(d "2", v.Item.s[2])
    assert_value(d "-3", v.Item.l[1])
  end)

  it("never makes decimals of plain JSON numbers", function()
    local v = decc:decode('{"Count":2,"ConsumedCapacity":{"CapacityUnits":0.5}}', op("Query").output)
    assert_value(2, v.Count)
    assert_value(0.5, v.ConsumedCapacity.CapacityUnits)
  end)

  local limit_errors = {
    { "exact", exactc, "1.23456789012345678901234567890123456789",
      'Item.x: number has more than 38 significant digits "1.23456789012345678901234567890123456789" at byte 19' },
    { "decimal", decc, "1.23456789012345678901234567890123456789",
      'Item.x: number has more than 38 significant digits "1.23456789012345678901234567890123456789" at byte 19' },
    { "decimal", decc, "1E+126", 'Item.x: number out of range "1E+126" at byte 19' },
    { "decimal", decc, "1E-131", 'Item.x: number out of range "1E-131" at byte 19' },
    { "exact", exactc, "1.0000000000000000001E+126", 'Item.x: number out of range "1.0000000000000000001E+126" at byte 19' },
    { "exact", exactc, "1e400", 'Item.x: number out of range "1e400" at byte 19' },
    { "float", floatc, "1e400", 'Item.x: number out of range "1e400" at byte 19' },
  }
  for _, case in ipairs(limit_errors) do
    it(("reports %s in %s mode"):format(case[3], case[1]), function()
      local v, err = case[2]:decode(('{"Item":{"x":{"N":"%s"}}}'):format(case[3]), op("GetItem").output)
      assert.is_nil(v)
      assert.equal(case[4], err)
    end)
  end

  it("reads beyond DynamoDB's limits only where nothing is lost", function()
    -- DynamoDB never sends these; a float that denotes the text exactly is kept
    assert_value(1e300, (exactc:decode('{"N":"1e300"}', V)))
    assert_value(0.0, (floatc:decode('{"N":"1e-400"}', V)))
  end)

  it("rejects an unknown numbers mode", function()
    assert.has_error(function() core.codec({ numbers = "decimals" }) end,
      'codec option \'numbers\' must be "exact", "float" or "decimal"')
  end)
end)

describe("encoding numbers", function()
  local codec = core.codec()
  local put = op("PutItem").input
  local d = decimal

  local cases = {
    { "decimal", d "123.45", '{"N":"123.45"}' },
    { "negative decimal", d "-0.5", '{"N":"-0.5"}' },
    { "38-digit decimal", d "12345678901234567890123456789012345678", '{"N":"12345678901234567890123456789012345678"}' },
    { "largest decimal", d "9.9999999999999999999999999999999999999E+125",
      '{"N":"9.9999999999999999999999999999999999999E+125"}' },
    { "smallest decimal", d "-1e-130", '{"N":"-1E-130"}' },
    { "decimal zero", d "0", '{"N":"0"}' },
    { "set of decimals", dynamo.set { d "1", d "0.1" }, '{"NS":["1","0.1"]}' },
    { "list with a decimal", { d "1.5", 2 }, '{"L":[{"N":"1.5"},{"N":"2"}]}' },
    { "float at the top of the range", 9.99999999999999e125, '{"N":"9.99999999999999e+125"}' },
    { "float at the bottom of the range", -1e-130, '{"N":"-1e-130"}' },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      assert.equal(case[3], codec:encode(case[2], V))
    end)
  end

  it("writes decimals at plain JSON positions as JSON numbers", function()
    assert.equal('{"Limit":1E+38}', codec:encode({ Limit = d "1e38" }))
    assert.equal("[0.000001,1E-7]", codec:encode({ d "0.000001", d "1e-7" }))
  end)

  local errors = {
    { "float above the range", { Item = { orders = { {}, {}, { total = 1e126 } } } },
      "Item.orders[3].total: number 1E+126 is out of DynamoDB's range " .. RANGE },
    { "float far above the range", { Item = { orders = { {}, {}, { total = 1e300 } } } },
      "Item.orders[3].total: number 1E+300 is out of DynamoDB's range " .. RANGE },
    { "negative float above the range", { Item = { x = -1.5e200 } },
      "Item.x: number -1.5E+200 is out of DynamoDB's range " .. RANGE },
    { "float below the range", { Item = { orders = { {}, {}, { total = 5e-324 } } } },
      "Item.orders[3].total: number 5E-324 is out of DynamoDB's range " .. RANGE },
    { "float just below the range", { Item = { x = 9.999999999999999e-131 } },
      "Item.x: number 9.999999999999999E-131 is out of DynamoDB's range " .. RANGE },
    { "float in a set", { Item = { s = dynamo.set { d "1", 1e-200 } } },
      "Item.s[2]: number 1E-200 is out of DynamoDB's range " .. RANGE },
    { "float in a map in a list", { Item = { l = { { m = dynamo.map { n = 2e130 } } } } },
      "Item.l[1].m.n: number 2E+130 is out of DynamoDB's range " .. RANGE },
    { "NaN stays an error", { Item = { x = 0 / 0 } }, "Item.x: NaN and infinity cannot be stored" },
    { "an expression value", { ExpressionAttributeValues = { [":v"] = 1e-131 } },
      "ExpressionAttributeValues.:v: number 1E-131 is out of DynamoDB's range " .. RANGE },
  }
  for _, case in ipairs(errors) do
    it("rejects " .. case[1], function()
      assert.has_error(function() codec:encode(case[2], put) end, case[3])
    end)
  end

  it("leaves plain JSON floats alone", function()
    assert.equal('{"Limit":1e+300}', codec:encode({ Limit = 1e300 }, put))
  end)

  it("checks 38 digits when a decimal is made, before any encoding", function()
    assert.has_error(function()
      codec:encode({ Item = { orders = { {}, {}, { total = d("1234567890123456789012345678901234567890") } } } }, put)
    end, "bad argument #1 to 'd' (number has 39 significant digits (DynamoDB allows 38))")
  end)

  it("round-trips an item in decimal mode", function()
    local c = core.codec({ numbers = "decimal" })
    local item = { id = "a", total = d "12345678901234567890.123456789" }
    local json = c:encode({ Item = item }, put)
    local back = c:decode(json, put)
    assert_value(item.total, back.Item.total)
  end)
end)
