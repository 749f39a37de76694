--- bench/gen_page.lua: a deterministic ~1 MB DynamoDB Query response page.
---
--- The wire JSON of one Query page, {"Items":[...],"Count":1000,
--- "ScannedCount":1000,"LastEvaluatedKey":{...}}, holding 1,000 ~1 KB order
--- items with the mix a real table has: S keys ("CUSTOMER#000123",
--- "ORDER#2026-..."), integers (up to int64 and beyond), decimals of up to
--- 38 significant digits, exponents (1.5E+10, 3E-7), BOOL, NULL, M and L
--- nested three levels deep, SS, NS, B, BS, an empty L and an empty M;
--- strings with non-ASCII UTF-8 and characters JSON must escape.
---
--- Byte-identical on every machine and Lua version (checked with 5.1 and
--- 5.4): its own PRNG (Park-Miller, all arithmetic exact in doubles and in
--- integers), no fractional floats, no tostring of numbers, no pairs()
--- order, its own JSON writer with a fixed member order.
---
--- As a script:   lua5.4 bench/gen_page.lua [out.json]   (default
---                .cache/bench/page.json); prints the path and size.
---                `sha256sum` of the file is the same everywhere.
--- As a module:   local gen = require "gen_page"
---                gen.page()          -> the JSON text (a Lua string)
---                gen.model(opts)     -> { items = {...}, last_key = ... },
---                                       typed and ordered (see below);
---                                       opts.items (1000), opts.seed
---                gen.page(model)     -> the JSON text of that model
--- Nothing is generated at require time.
---
--- The model (so benchmarks can build the same data as Lua values):
---   an item, a map, last_key: an array of { name, av } pairs, in order
---   an av: { "S", text } { "N", text } { "B", bytes } { "BOOL", bool }
---          { "NULL", true } { "SS", {texts} } { "NS", {texts} }
---          { "BS", {bytes...} } { "L", {av...} } { "M", {{name, av}...} }

local M = {}

local ITEMS = 1000
local SEED = 20260314

local format, char, byte, concat = string.format, string.char, string.byte, table.concat

---------------------------------------------------------------------------
-- PRNG: Park-Miller "minimal standard" (Lehmer, multiplier 48271, modulus
-- 2^31 - 1). Every product is below 2^47, so the arithmetic is exact both
-- in Lua 5.3+ integers and in the doubles of Lua 5.1 and LuaJIT.

local MOD = 2147483647

local function new_rng(seed)
  local x = seed % (MOD - 1) + 1
  local rng = {}
  --- An integer in [0, n).
  function rng.int(n)
    x = x * 48271 % MOD
    return x % n
  end
  --- An integer in [lo, hi].
  function rng.range(lo, hi)
    return lo + rng.int(hi - lo + 1)
  end
  function rng.pick(list)
    return list[rng.int(#list) + 1]
  end
  --- true with probability p/100.
  function rng.chance(p)
    return rng.int(100) < p
  end
  --- n decimal digits, the first one non-zero when nonzero_first.
  function rng.digits(n, nonzero_first)
    local d = {}
    for i = 1, n do
      if i == 1 and nonzero_first then
        d[i] = char(49 + rng.int(9))
      else
        d[i] = char(48 + rng.int(10))
      end
    end
    return concat(d)
  end
  function rng.bytes(n)
    local b = {}
    for i = 1, n do b[i] = char(rng.int(256)) end
    return concat(b)
  end
  return rng
end

---------------------------------------------------------------------------
-- Numbers as DynamoDB N text, built from digits (never through a float).

local function pad(n, width)
  return format("%0" .. width .. "d", n)
end

-- A decimal with int_digits before the point and frac_digits after.
local function decimal(r, int_digits, frac_digits, negative)
  local s = int_digits > 0 and r.digits(int_digits, true) or "0"
  if frac_digits > 0 then
    -- a last digit of zero would be a trailing zero DynamoDB never sends
    s = s .. "." .. r.digits(frac_digits - 1) .. char(49 + r.int(9))
  end
  return (negative and "-" or "") .. s
end

-- Many significant digits (20 to 38): what a float cannot hold.
local function long_decimal(r)
  local sig = r.range(20, 38)
  local int_digits = r.range(1, sig - 1)
  return decimal(r, int_digits, sig - int_digits, r.chance(30))
end

-- Below one with leading zeros, many digits: 0.000000000123456789...
local function tiny_decimal(r)
  local zeros = r.range(3, 12)
  local sig = r.range(18, 38)
  return (r.chance(20) and "-" or "") .. "0." .. string.rep("0", zeros) ..
    r.digits(sig - 1, true) .. char(49 + r.int(9))
end

local EXPONENTS = {
  "1.5E+10", "3E-7", "6.02214076E+23", "-2.5E-3", "1E+100", "9.999E-100",
  "1.602176634E-19", "2.99792458E+8", "-4.2E+1", "7E+38", "1.23456789012345678901234567E+50",
}

local function exponent(r)
  if r.chance(50) then return r.pick(EXPONENTS) end
  local mant = r.digits(1, true)
  if r.chance(60) then mant = mant .. "." .. r.digits(r.range(1, 8)) .. char(49 + r.int(9)) end
  local e = r.range(1, 120)
  return (r.chance(25) and "-" or "") .. mant .. (r.chance(50) and "E" or "e") ..
    (r.chance(50) and "-" or (r.chance(50) and "+" or "")) .. format("%d", e)
end

local function big_integer(r)
  local choice = r.int(4)
  if choice == 0 then return "9223372036854775807" end          -- int64 max
  if choice == 1 then return "-9223372036854775808" end         -- int64 min
  if choice == 2 then return "18446744073709551616" end         -- 2^64
  return r.digits(r.range(20, 38), true)                        -- beyond int64
end

---------------------------------------------------------------------------
-- Vocabulary.

local FIRST = { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Zoë", "José",
  "Søren", "Łukasz", "Ngũgĩ", "Chloé", "Björn", "Dmitri", "Aiko", "Nuño" }
local LAST = { "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Müller",
  "García", "Ødegaard", "Wałęsa", "田中", "Иванов", "O'Brien", "Nakamura" }
local CITIES = { "Lisbon", "Zürich", "Kraków", "São Paulo", "Москва", "東京", "Reykjavík",
  "Montréal", "Dublin", "Austin", "Seoul", "Cape Town" }
local STREETS = { "Rua Augusta", "Bahnhofstrasse", "ul. Floriańska", "Av. Paulista",
  "Main Street", "Calle Mayor", "High Street", "Baker Street" }
local STATUS = { "PENDING", "PAID", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED" }
local TAGS = { "priority", "gift", "fragile", "bulk", "repeat-customer", "b2b", "promo",
  "international", "oversize", "subscription" }
local PRODUCTS = { "Widget", "Gadget", "Sprocket", "Flux capacitor", "Café crème 1kg",
  "Über-cable 2m", "Teapot \"Earl\"", "Notebook A5", "Lamp (warm white)", "Gear/12" }
local COLORS = { "red", "green", "blue", "black", "white", "ivory", "teal" }
local SIZES = { "XS", "S", "M", "L", "XL", "XXL" }
local NOTES = {
  "Leave at the door",
  "Ring twice\nthen wait",
  "Call \"reception\" first",
  "Path: C:\\orders\\inbox",
  "Tab\tseparated",
  "No notes",
  "Deliver after 18:00 ☺",
}

---------------------------------------------------------------------------
-- One item.

local function S(s) return { "S", s } end
local function N(s) return { "N", s } end
local function int(n) return { "N", format("%d", n) } end

local function date(r)
  -- 2026-MM-DDTHH:MM:SS.mmmZ
  return format("2026-%s-%sT%s:%s:%s.%sZ", pad(r.range(1, 12), 2), pad(r.range(1, 28), 2),
    pad(r.range(0, 23), 2), pad(r.range(0, 59), 2), pad(r.range(0, 59), 2), pad(r.int(1000), 3))
end

local function distinct(r, list, n)
  local out, seen = {}, {}
  while #out < n do
    local v = r.pick(list)
    if not seen[v] then seen[v] = true; out[#out + 1] = v end
  end
  return out
end

local function line(r)
  local options = {
    S(r.pick(PRODUCTS)),
    { "M", {
      { "size", S(r.pick(SIZES)) },
      { "engraving", r.chance(30) and S("For " .. r.pick(FIRST) .. " " .. r.pick(LAST)) or { "NULL", true } },
      { "dims_mm", { "L", { N(decimal(r, 3, 1)), N(decimal(r, 2, 2)) } } },
    } },
  }
  return { "M", {
    { "sku", S(format("SKU-%s-%s", pad(r.int(100000), 5), r.pick(COLORS))) },
    { "qty", int(r.range(1, 12)) },
    { "price", N(decimal(r, r.range(1, 4), 2)) },
    { "options", { "L", options } },
  } }
end

local function item(r, n)
  local customer = r.int(1000000)
  local when = date(r)
  local created = 1767225600 + r.int(31536000)
  local scores = {}
  for i = 1, r.range(2, 3) do
    scores[i] = i % 2 == 0 and decimal(r, r.range(1, 3), r.range(1, 6)) or format("%d", r.range(-500, 500) + 1000 * i)
  end
  local attachments = {}
  for i = 1, 2 do attachments[i] = r.bytes(r.range(4, 9)) end

  return {
    { "pk", S(format("CUSTOMER#%s", pad(customer, 6))) },
    { "sk", S(format("ORDER#%s#%s", when, pad(n, 5))) },
    { "status", S(r.pick(STATUS)) },
    { "created_at", int(created) },
    { "subtotal", N(decimal(r, r.range(1, 5), 2)) },
    { "fx_rate", N(long_decimal(r)) },
    { "ledger", N(long_decimal(r)) },
    { "weight_t", N(tiny_decimal(r)) },
    { "big_counter", N(big_integer(r)) },
    { "sci", N(exponent(r)) },
    { "gift", { "BOOL", r.chance(20) } },
    { "coupon", r.chance(30) and S(format("SAVE%d", r.range(5, 50))) or { "NULL", true } },
    { "tags", { "SS", distinct(r, TAGS, r.range(1, 3)) } },
    { "scores", { "NS", scores } },
    { "signature", { "B", r.bytes(r.range(12, 24)) } },
    { "attachments", { "BS", attachments } },
    { "shipping", { "M", {
      { "address", { "M", {
        { "line1", S(format("%d %s", r.range(1, 999), r.pick(STREETS))) },
        { "city", S(r.pick(CITIES)) },
        { "geo", { "M", {
          { "lat", N(decimal(r, 2, 6, r.chance(40))) },
          { "lon", N(decimal(r, 3, 6, r.chance(50))) },
          { "accuracy_m", N(exponent(r)) },
        } } },
      } } },
      { "note", S(r.pick(NOTES)) },
    } } },
    { "lines", { "L", { line(r) } } },
    { "returns", { "L", {} } },
    { "extra", { "M", {} } },
  }
end

function M.model(opts)
  opts = opts or {}
  local r = new_rng(opts.seed or SEED)
  local items = {}
  for n = 1, opts.items or ITEMS do items[n] = item(r, n) end
  local last = items[#items]
  return { items = items, last_key = { last[1], last[2] } }
end

---------------------------------------------------------------------------
-- JSON writer: compact, members in model order, UTF-8 copied as is.

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or format("\\u%04x", byte(c))
  end) .. '"'
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Standard padded base64, with arithmetic only (no bit operators in 5.1).
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = (v - v % 262144) / 262144
    local c2 = (v % 262144 - v % 4096) / 4096
    local c3 = (v % 4096 - v % 64) / 64
    local c4 = v % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1) ..
      (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return concat(out)
end

local write_av

local function write_members(out, members)
  out[#out + 1] = "{"
  for i, m in ipairs(members) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = json_string(m[1])
    out[#out + 1] = ":"
    write_av(out, m[2])
  end
  out[#out + 1] = "}"
end

local function write_strings(out, list, f)
  out[#out + 1] = "["
  for i, s in ipairs(list) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = json_string(f and f(s) or s)
  end
  out[#out + 1] = "]"
end

function write_av(out, av)
  local tag, v = av[1], av[2]
  out[#out + 1] = '{"' .. tag .. '":'
  if tag == "S" or tag == "N" then
    out[#out + 1] = json_string(v)
  elseif tag == "B" then
    out[#out + 1] = json_string(M.base64(v))
  elseif tag == "BOOL" then
    out[#out + 1] = v and "true" or "false"
  elseif tag == "NULL" then
    out[#out + 1] = "true"
  elseif tag == "SS" or tag == "NS" then
    write_strings(out, v)
  elseif tag == "BS" then
    write_strings(out, v, M.base64)
  elseif tag == "L" then
    out[#out + 1] = "["
    for i, e in ipairs(v) do
      if i > 1 then out[#out + 1] = "," end
      write_av(out, e)
    end
    out[#out + 1] = "]"
  elseif tag == "M" then
    write_members(out, v)
  else
    error("unknown AttributeValue type " .. tostring(tag))
  end
  out[#out + 1] = "}"
end

--- The Query response page for model (default: M.model()).
function M.page(model)
  model = model or M.model()
  local out = { '{"Items":[' }
  for i, it in ipairs(model.items) do
    if i > 1 then out[#out + 1] = "," end
    write_members(out, it)
  end
  local count = format("%d", #model.items)
  out[#out + 1] = '],"Count":' .. count .. ',"ScannedCount":' .. count .. ',"LastEvaluatedKey":'
  write_members(out, model.last_key)
  out[#out + 1] = "}"
  return concat(out)
end

---------------------------------------------------------------------------
-- As a script: write the page to a file.

local function is_main()
  -- run as `lua bench/gen_page.lua`, not through require
  return type(arg) == "table" and type(arg[0]) == "string" and arg[0]:match("gen_page%.lua$") ~= nil
end

if is_main() then
  local path = arg[1] or ".cache/bench/page.json"
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'") end
  local page = M.page()
  local f = assert(io.open(path, "wb"))
  assert(f:write(page))
  assert(f:close())
  print(format("%s: %d bytes, %d items", path, #page, ITEMS))
end

return M
