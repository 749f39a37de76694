--- Field types as data: for each type, the options it takes, how a Lua
--- value is checked, stored and read back, and its text inside a key
--- template. The walkers (validate.lua, schema.lua) are generic over this
--- table. Also the value helpers they share: copy and same.
local core = require "dynamo.core"
local types = require "dynamo.types"
local node = require "dynamo.expr.node"

local type, pairs, ipairs, next, select, getmetatable, setmetatable, tostring, tonumber, pcall, require =
  type, pairs, ipairs, next, select, getmetatable, setmetatable, tostring, tonumber, pcall, require
local floor, huge = math.floor, math.huge
local format, concat = string.format, table.concat
local tointeger = math.tointeger or function(v) return v end
local null, set_mt, binary_mt, decimal_mt, list_mt, map_mt =
  core.null, core.set_mt, core.binary_mt, core.decimal_mt, core.list_mt, core.map_mt

local M = {}

M.describe = node.describe

local function expected(what, v) return what .. " expected, got " .. node.describe(v) end

local function finite(v) return type(v) == "number" and v == v and v > -huge and v < huge end

-- Whole numbers within 64 bits; integral floats count (LuaJIT has no others).
local function is_integer(v)
  return finite(v) and floor(v) == v and v >= -2 ^ 63 and v < 2 ^ 63
end
M.is_integer = is_integer

local function is_decimal(v) return getmetatable(v) == decimal_mt end

-- A number's text in a key: integers without ".0", floats in the shortest
-- form that reads back the same.
local function number_text(v)
  if is_decimal(v) then return tostring(v) end
  if is_integer(v) then return format("%d", v) end
  local s = format("%.15g", v)
  if tonumber(s) ~= v then s = format("%.17g", v) end
  return s
end

-- A number read back from a key: a Lua number when its text is the same,
-- else a decimal (exact digits).
local function number_parse(s)
  local n = tonumber(s)
  if n ~= nil and number_text(n) == s then return is_integer(n) and tointeger(n) or n end
  local ok, d = pcall(core.decimal, s)
  if ok then return d end
  return nil
end

local function integer_parse(s)
  if not s:match("^%-?%d+$") then return nil end
  local n = tonumber(s)
  return is_integer(n) and tointeger(n) or nil
end

-- A stored N as a Lua integer (the client may decode N as a decimal).
local function stored_integer(s)
  if is_decimal(s) then s = s:tonumber() end
  if is_integer(s) then return tointeger(s) end
  return nil, expected("integer", s)
end

-- Characters of a UTF-8 string (bytes that do not continue a character).
local function utf8_length(s) return #s - select(2, s:gsub("[\128-\191]", "")) end

local function identity(v) return v end

--- A table used as a list: keys 1..n, not a set, binary or map marker.
local function is_list(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  if mt ~= nil and mt ~= list_mt then return false end
  local n = #v
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k > n or floor(k) ~= k then return false end
  end
  return true
end

local function is_map(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return mt == nil or mt == map_mt or (mt == list_mt and next(v) == nil)
end

local function count_keys(v)
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n
end

local function length(v) return #v end

--- ISO 8601 in UTC: "2026-11-21T10:00:00Z", or with milliseconds when the
--- epoch seconds have a fraction. Pure arithmetic: os.date and os.time read
--- the local zone and the platform's range.
local iso = {}

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

-- Years 0000 to 9999, the four digits the format has.
iso.min, iso.max = days_from_civil(0, 1, 1) * 86400, days_from_civil(10000, 1, 1) * 86400

function iso.format(t)
  local ms = floor(t * 1000 + 0.5)
  local secs = floor(ms / 1000)
  ms = ms - secs * 1000
  local days = floor(secs / 86400)
  local rem = secs - days * 86400
  local y, m, d = civil_from_days(days)
  local s = format("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, floor(rem / 3600), floor(rem % 3600 / 60), rem % 60)
  if ms ~= 0 then s = s .. format(".%03d", ms) end
  return s .. "Z"
end

local month_days = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- Epoch seconds (an integer unless there is a fraction), or nil.
function iso.parse(s)
  local y, mo, d, h, mi, sec, frac, zone =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not y then return nil end
  local offset = 0
  if zone ~= "Z" and zone ~= "z" then
    local sign, oh, om = zone:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > month_days[mo] or h > 23 or mi > 59 or sec > 59 then return nil end
  if frac == "." then return nil end
  local t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
  if frac ~= "" then t = t + tonumber("0" .. frac) end
  return t
end
M.iso = iso

-- cjson with its own settings (cjson.new), made on first use so that
-- models without json fields do not need cjson.
local cjson
local function json()
  if not cjson then cjson = require("cjson").new() end
  return cjson
end

local function is_iso(spec) return spec.format ~= "epoch" end

-- The types. Each has:
--   options  the type's own options (beyond those every field takes)
--   check    (v, spec) -> nil, or what is wrong (and the index of a bad element)
--   size     (v) -> the length that `length` limits, when it applies
--   encode   (v, spec) -> the stored value (nil: nothing stored)
--   decode   (stored, spec, path, problems) -> the Lua value, or nil and what is wrong
--   text     (v, spec) -> the value's text inside a key template (nil: not allowed in keys)
--   parse    (text, spec) -> the value from that text, or nil
--   key      the attribute type of a template "${field}" alone ("S", "N", "B", or a
--            function of the spec); nil: the field cannot be a key on its own
local T = {}
M.types = T

T.string = {
  options = { length = true, pattern = true },
  check = function(v) if type(v) ~= "string" then return expected("string", v) end end,
  size = utf8_length,
  encode = identity,
  decode = function(s) if type(s) == "string" then return s end return nil, expected("string", s) end,
  text = identity, parse = identity, key = "S",
}

local function number_decode(s)
  if type(s) == "number" or is_decimal(s) then return s end
  return nil, expected("number", s)
end

T.number = {
  options = { min = true, max = true },
  check = function(v)
    if is_decimal(v) then return nil end
    if type(v) ~= "number" then return expected("number", v) end
    if not finite(v) then return "NaN and infinity cannot be stored" end
  end,
  encode = identity, decode = number_decode,
  text = number_text, parse = number_parse, key = "N",
}

local function integer_check(v)
  if is_integer(v) then return nil end
  if type(v) == "number" then return "integer expected, got " .. number_text(v) end
  return expected("integer", v)
end

local function integer_encode(v) return tointeger(v) end

T.integer = {
  options = { min = true, max = true, pad = true },
  check = integer_check,
  encode = integer_encode, decode = stored_integer,
  text = function(v, spec)
    if spec.pad then return format("%0" .. spec.pad .. "d", v) end
    return format("%d", v)
  end,
  parse = integer_parse, key = "N",
}

T.boolean = {
  options = {},
  check = function(v) if type(v) ~= "boolean" then return expected("boolean", v) end end,
  encode = identity,
  decode = function(s) if type(s) == "boolean" then return s end return nil, expected("boolean", s) end,
  text = tostring,
  parse = function(s) if s == "true" then return true elseif s == "false" then return false end end,
}

-- Bytes are Lua strings on the Lua side; stored as B.
T.binary = {
  options = { length = true },
  check = function(v)
    if type(v) ~= "string" and getmetatable(v) ~= binary_mt then return expected("binary or string", v) end
  end,
  size = function(v) return type(v) == "string" and #v or #v[1] end,
  encode = function(v) return type(v) == "string" and types.binary(v) or v end,
  decode = function(s)
    if getmetatable(s) == binary_mt then return s[1] end
    if type(s) == "string" then return s end
    return nil, expected("binary", s)
  end,
  key = "B",
}

-- What a set's elements are, and how each is stored and read back.
local function set_type(what, elem_check, elem_encode, elem_decode)
  return {
    options = { length = true },
    check = function(v)
      if getmetatable(v) ~= set_mt and not is_list(v) then return expected(what .. " set", v) end
      for i = 1, #v do
        local msg = elem_check(v[i])
        if msg then return msg, i end
      end
    end,
    size = length,
    -- DynamoDB refuses empty sets: an empty set is not stored.
    encode = function(v)
      if #v == 0 then return nil end
      local out = {}
      for i = 1, #v do out[i] = elem_encode(v[i]) end
      return types.set(out)
    end,
    decode = function(s)
      if getmetatable(s) ~= set_mt then return nil, expected(what .. " set", s) end
      local out = {}
      for i = 1, #s do out[i] = elem_decode(s[i]) end
      return types.set(out)
    end,
  }
end

T.string_set = set_type("string", T.string.check, identity, identity)
T.number_set = set_type("number", T.number.check, identity, identity)
T.binary_set = set_type("binary", T.binary.check, T.binary.encode, T.binary.decode)

T.list = {
  options = { of = true, length = true },
  check = function(v) if not is_list(v) then return expected("list", v) end end,
  size = length,
  encode = function(v, spec)
    local out = {}
    for i = 1, #v do
      local e = v[i]
      if spec.of then e = M.encode(spec.of, e) end
      out[i] = e == nil and null or e
    end
    return types.list(out)
  end,
  decode = function(s, spec, path, problems)
    if not is_list(s) then return nil, expected("list", s) end
    local out = {}
    for i = 1, #s do
      local e = s[i]
      if spec.of then e = M.decode(spec.of, e, path .. "[" .. i .. "]", problems) end
      out[i] = e == nil and null or e
    end
    return types.list(out)
  end,
}

T.map = {
  options = { fields = true, length = true },
  check = function(v)
    if not is_map(v) then return expected("map", v) end
    for k in pairs(v) do
      if type(k) ~= "string" then return "map keys must be strings, got " .. node.describe(k) end
    end
  end,
  size = count_keys,
  encode = function(v, spec)
    local out = {}
    if spec.fields then
      for name, f in pairs(spec.fields) do out[f.attribute] = M.encode(f, v[name]) end
    else
      for k, x in pairs(v) do out[k] = x end
    end
    return types.map(out)
  end,
  decode = function(s, spec, path, problems)
    if not is_map(s) then return nil, expected("map", s) end
    local out = {}
    if spec.fields then
      for name, f in pairs(spec.fields) do out[name] = M.decode(f, s[f.attribute], path .. "." .. name, problems) end
    else
      for k, x in pairs(s) do out[k] = x end
    end
    return types.map(out)
  end,
}

-- Any Lua value, stored as its JSON text.
T.json = {
  options = {},
  check = function(v)
    local ok, err = pcall(json().encode, v)
    if not ok then return "cannot be stored as JSON (" .. tostring(err) .. ")" end
  end,
  encode = function(v) return json().encode(v) end,
  decode = function(s)
    if type(s) ~= "string" then return nil, expected("JSON text", s) end
    local ok, v = pcall(json().decode, s)
    if not ok then return nil, "not valid JSON" end
    return v
  end,
}

local function enum_text(v) return type(v) == "string" and v or number_text(v) end

T.enum = {
  options = { values = true },
  check = function(v, spec)
    for _, x in ipairs(spec.values) do
      if x == v then return nil end
    end
    local names = {}
    for i, x in ipairs(spec.values) do names[i] = enum_text(x) end
    return "must be one of " .. concat(names, ", ")
  end,
  encode = identity,
  decode = function(s, spec)
    if is_decimal(s) then s = s:tonumber() end
    for _, x in ipairs(spec.values) do
      if x == s then return s end
    end
    return nil, "not one of the values: " .. (type(s) == "string" and s or node.describe(s))
  end,
  text = enum_text,
  parse = function(s, spec)
    for _, x in ipairs(spec.values) do
      if enum_text(x) == s then return x end
    end
  end,
  key = function(spec) return type(spec.values[1]) == "number" and "N" or "S" end,
}

T.timestamp = {
  options = { format = true, auto = true },
  check = function(v, spec)
    if not finite(v) then return expected("number (epoch seconds)", v) end
    if is_iso(spec) and (v < iso.min or v >= iso.max) then return "out of range (years 0000 to 9999)" end
  end,
  encode = function(v, spec) return is_iso(spec) and iso.format(v) or v end,
  decode = function(s, spec)
    if not is_iso(spec) then
      if is_decimal(s) then s = s:tonumber() end
      if type(s) == "number" then return s end
      return nil, expected("number", s)
    end
    if type(s) ~= "string" then return nil, expected("ISO 8601 string", s) end
    local t = iso.parse(s)
    if not t then return nil, "not an ISO 8601 time: " .. s end
    return t
  end,
  text = function(v, spec) return is_iso(spec) and iso.format(v) or number_text(v) end,
  parse = function(s, spec) if is_iso(spec) then return iso.parse(s) end return number_parse(s) end,
  key = function(spec) return is_iso(spec) and "S" or "N" end,
}

-- Epoch seconds when DynamoDB may delete the item; an optimistic locking
-- counter. Both non-negative integers.
local function counter_check(v)
  local msg = integer_check(v)
  if msg then return msg end
  if v < 0 then return "must be at least 0" end
end

for _, name in ipairs { "ttl", "version" } do
  T[name] = {
    options = {},
    check = counter_check,
    encode = integer_encode, decode = stored_integer,
    text = function(v) return format("%d", v) end,
    parse = integer_parse, key = "N",
  }
end

--- The stored value of a field's Lua value (its `set` applied first); nil
--- for nil, dynamo.null and empty sets.
function M.encode(spec, v)
  if v == nil or v == null then return nil end
  if spec.set then v = spec.set(v) end
  return T[spec.type].encode(v, spec)
end

--- The Lua value of a stored value (its `get` applied last); nil for nil
--- and NULL. What cannot be read is added to problems as { path, message }.
function M.decode(spec, s, path, problems)
  if s == nil or s == null then return nil end
  local v, msg = T[spec.type].decode(s, spec, path, problems)
  if msg then
    problems[#problems + 1] = { path = path, message = msg }
    return nil
  end
  if spec.get then v = spec.get(v) end
  return v
end

--- What is wrong with an integer for its `pad` (zero-padded keys sort
--- numerically only when they are non-negative and fit the width), or nil.
function M.pad_problem(spec, v)
  if not spec.pad then return nil end
  if v < 0 then return "must be at least 0 (padded)" end
  if v >= 10 ^ spec.pad then return format("has more than %d digits (padded)", spec.pad) end
end

--- The text of a field's value inside a key template, or nil and what is
--- wrong with the value. The value is checked as given, then `set` applied.
function M.text(spec, v)
  local t = T[spec.type]
  local msg = t.check(v, spec) or M.pad_problem(spec, v)
  if msg then return nil, msg end
  if spec.set then v = spec.set(v) end
  return t.text(v, spec)
end

--- The Lua value of a field's text read from a key (`get` applied), or nil.
function M.parse(spec, s)
  local v = T[spec.type].parse(s, spec)
  if v ~= nil and spec.get then v = spec.get(v) end
  return v
end

--- The attribute type ("S", "N", "B") of a key that is the field alone, or
--- nil when the field cannot be a key on its own.
function M.key_type(spec)
  local k = T[spec.type].key
  if type(k) == "function" then return k(spec) end
  return k
end

--- A deep copy that keeps the markers (sets, lists, maps, binary).
function M.copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = M.copy(x) end
  return setmetatable(out, getmetatable(v))
end

--- Are a and b the same value? Sets compare without order, numbers and
--- decimals by value, binary by bytes, tables deeply.
function M.same(a, b)
  if a == b then return true end
  if is_decimal(a) or is_decimal(b) then
    if is_decimal(a) then a, b = b, a end
    return (type(a) == "number" or is_decimal(a)) and b:eq(a)
  end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  local ma, mb = getmetatable(a), getmetatable(b)
  if ma == set_mt or mb == set_mt then
    if ma ~= mb or #a ~= #b then return false end
    for i = 1, #a do
      if not b:has(a[i]) then return false end
    end
    return true
  end
  if ma == binary_mt or mb == binary_mt then return ma == mb and a[1] == b[1] end
  for k, x in pairs(a) do
    if not M.same(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

return M
