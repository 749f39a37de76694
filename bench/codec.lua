--- bench/codec.lua: dynamo's codec against lua-cjson, on the same bytes, in
--- one run. Prints figures; it is not a timed test and never fails on speed.
---
---   lua5.4 bench/codec.lua [page.json]       (bench/run sets the paths)
---
--- The page is bench/gen_page.lua's Query response (generated in memory
--- when no file is given; a file must be what the generator makes now).
--- Environment: BENCH_REPS (default 50) timed repetitions per figure.
---
--- What is measured, best CPU time (os.clock) of BENCH_REPS repetitions,
--- dynamo and cjson alternating, a full GC before each repetition, the GC
--- running as usual inside it:
---   decode  codec:decode(page, Query output map) -> plain Lua items
---           cjson.decode(page)                   -> wrapped tables
---   encode  1,000 PutItem request bodies {TableName, Item}:
---           codec:encode(body, PutItem input map), Item plain Lua values
---           cjson.encode(body), Item in wrapped form ({"S": ...}, N as
---           text, B as base64 text): what cjson needs to write the same
---           wire JSON.
---
--- Fairness, also printed: the two do not do the same work. cjson.decode
--- leaves every AttributeValue wrapped ({"N": "12.5"}): N stays text (exact,
--- but not a number; tonumber on it keeps 17 digits at most) and B stays
--- base64; plain JSON numbers become doubles. dynamo unwraps as it reads,
--- makes exact int64 integers, floats, or dynamo.decimal values (when the
--- module has them) for N, and decodes base64. On encode, cjson copies
--- ready-made N and base64 text; dynamo formats numbers and encodes base64.
---
--- Before timing, the bench checks both directions and stops with an error
--- if either is wrong:
---   decode: dynamo's decode of the page, encoded again by dynamo, parsed by
---           cjson, has the structure of the page parsed by cjson; N values
---           equal as decimals, or as floats when dynamo rounded them (only
---           allowed while dynamo.decimal does not exist);
---   encode: each body dynamo writes, parsed by cjson, is the wrapped body.
local cjson = require "cjson"
local dynamo = require "dynamo"
local core = require "dynamo.core"
local api = require "dynamo.operations"
local gen = require "gen_page"

local format = string.format
local clock = os.clock

local REPS = tonumber(os.getenv("BENCH_REPS") or "") or 50
local TABLE_NAME = "orders"

local function die(msg)
  io.stderr:write("bench/codec.lua: ", msg, "\n")
  os.exit(1)
end

local function operation(name)
  for _, op in ipairs(api.operations) do
    if op.name == name then return op end
  end
  die("no operation " .. name .. " in dynamo.operations")
end

local QUERY_OUT = operation("Query").output
local PUT_IN = operation("PutItem").input

---------------------------------------------------------------------------
-- Numbers

--- N text in one canonical form ("-123e-2"), to compare values exactly.
local function canon(s)
  local sign, int, frac, exp = s:match("^([+-]?)(%d*)%.?(%d*)[eE]?([+-]?%d*)$")
  if not sign or int .. frac == "" then return nil end
  local digits = (int .. frac):gsub("^0+", "")
  if digits == "" then return "0" end
  local e = (tonumber(exp) or 0) - #frac
  local stripped = digits:gsub("0+$", "")
  e = e + (#digits - #stripped)
  return (sign == "-" and "-" or "") .. stripped .. "e" .. format("%d", e)
end

--- The Lua number for N text, and whether it holds the value exactly (its
--- shortest form is the same decimal), as the codec decides.
local function to_number(text)
  local x = tonumber(text)
  if math.type(x) == "integer" then return x, true end
  for p = 15, 17 do
    local s = format("%." .. p .. "g", x)
    if tonumber(s) == x then return x, canon(s) == canon(text) end
  end
  return x, false
end

---------------------------------------------------------------------------
-- The model (bench/gen_page.lua) as dynamo's plain values and as the wrapped
-- tables cjson needs.

-- lua-cjson 2.1.0 has no empty-array marker (OpenResty's fork does).
local EMPTY_ARRAY_NOTE
local function cjson_empty_array()
  if cjson.empty_array ~= nil then return cjson.empty_array end
  if cjson.empty_array_mt then return setmetatable({}, cjson.empty_array_mt) end
  EMPTY_ARRAY_NOTE = "this lua-cjson has no empty-array marker: it writes the empty L as {\"L\":{}}"
  return {}
end

local function plain(av)
  local tag, v = av[1], av[2]
  if tag == "S" or tag == "BOOL" then return v end
  if tag == "N" then
    local x, exact = to_number(v)
    if not exact and dynamo.decimal then return dynamo.decimal(v) end
    return x
  end
  if tag == "B" then return dynamo.binary(v) end
  if tag == "NULL" then return dynamo.null end
  if tag == "SS" or tag == "NS" or tag == "BS" then
    local t = {}
    for i, e in ipairs(v) do
      t[i] = tag == "SS" and e or tag == "NS" and plain({ "N", e }) or dynamo.binary(e)
    end
    return dynamo.set(t)
  end
  if tag == "L" then
    if #v == 0 then return dynamo.list() end
    local t = {}
    for i, e in ipairs(v) do t[i] = plain(e) end
    return t
  end
  if tag == "M" then
    local t = {}
    for _, m in ipairs(v) do t[m[1]] = plain(m[2]) end
    return t
  end
  die("unknown tag " .. tostring(tag))
end

local function wrapped(av)
  local tag, v = av[1], av[2]
  if tag == "S" or tag == "N" or tag == "BOOL" then return { [tag] = v } end
  if tag == "B" then return { B = gen.base64(v) } end
  if tag == "NULL" then return { NULL = true } end
  if tag == "SS" or tag == "NS" or tag == "BS" then
    local t = {}
    for i, e in ipairs(v) do t[i] = tag == "BS" and gen.base64(e) or e end
    return { [tag] = t }
  end
  if tag == "L" then
    if #v == 0 then return { L = cjson_empty_array() } end
    local t = {}
    for i, e in ipairs(v) do t[i] = wrapped(e) end
    return { L = t }
  end
  if tag == "M" then
    local t = {}
    for _, m in ipairs(v) do t[m[1]] = wrapped(m[2]) end
    return { M = t }
  end
  die("unknown tag " .. tostring(tag))
end

local function item_of(members, conv)
  local t = {}
  for _, m in ipairs(members) do t[m[1]] = conv(m[2]) end
  return t
end

---------------------------------------------------------------------------
-- Verification: got and want as cjson parses them, walked with the value map.

local function new_stats() return { numbers = 0, rounded = 0 } end

local function fail(path, msg) die("verification failed: " .. (path ~= "" and path .. ": " or "") .. msg) end

local function check_number(got, want, path, stats)
  stats.numbers = stats.numbers + 1
  if type(got) ~= "string" then fail(path, "N value is not a string") end
  local cg, cw = canon(got), canon(want)
  if cg and cg == cw then return end
  if cg and tonumber(got) == tonumber(want) then
    stats.rounded = stats.rounded + 1
    stats.example = stats.example or format("%s: %s -> %s", path, want, got)
    return
  end
  fail(path, format("N %q came back as %q", want, tostring(got)))
end

local function sorted(list, key)
  local t = {}
  for i, v in ipairs(list) do t[i] = key and key(v) or v end  -- a bad key fails loudly in sort
  table.sort(t)
  return t
end

local check_av

local function check_avs(got, want, path, stats)
  if type(got) ~= "table" or #got ~= #want then fail(path, "L length differs") end
  for i = 1, #want do check_av(got[i], want[i], format("%s[%d]", path, i), stats) end
end

local function check_av_map(got, want, path, stats)
  if type(got) ~= "table" then fail(path, "M is not an object") end
  for k, v in pairs(want) do
    if got[k] == nil then fail(path .. "." .. k, "missing") end
    check_av(got[k], v, path .. "." .. k, stats)
  end
  for k in pairs(got) do
    if want[k] == nil then fail(path .. "." .. tostring(k), "unexpected") end
  end
end

function check_av(got, want, path, stats)
  if type(got) ~= "table" then fail(path, "AttributeValue is not an object") end
  local tag, wv = next(want)
  local gtag, gv = next(got)
  if next(got, gtag) ~= nil then fail(path, "AttributeValue has more than one type") end
  if gtag ~= tag then fail(path, format("type %s came back as %s", tag, tostring(gtag))) end
  if tag == "N" then
    check_number(gv, wv, path, stats)
  elseif tag == "NS" then
    if type(gv) ~= "table" or #gv ~= #wv then fail(path, "NS length differs") end
    -- sets are unordered: pair elements by canonical value
    local g, w = sorted(gv, canon), sorted(wv, canon)
    local exact = true
    for i = 1, #w do exact = exact and g[i] == w[i] end
    if not exact then
      g, w = sorted(gv, tonumber), sorted(wv, tonumber)
      for i = 1, #w do
        if g[i] ~= w[i] then fail(path, "NS elements differ") end
      end
      stats.rounded = stats.rounded + 1
    end
    stats.numbers = stats.numbers + #wv
  elseif tag == "SS" or tag == "BS" then
    if type(gv) ~= "table" or #gv ~= #wv then fail(path, tag .. " length differs") end
    local g, w = sorted(gv), sorted(wv)
    for i = 1, #w do
      if g[i] ~= w[i] then fail(path, tag .. " elements differ") end
    end
  elseif tag == "L" then
    check_avs(gv, wv, path, stats)
  elseif tag == "M" then
    check_av_map(gv, wv, path, stats)
  elseif gv ~= wv then
    fail(path, format("%s %s came back as %s", tag, tostring(wv), tostring(gv)))
  end
end

--- Plain JSON following a value map, as codec.c reads one.
local function check(got, want, map, path, stats)
  if map == "V" then return check_av(got, want, path, stats) end
  if type(want) ~= "table" then
    if got ~= want then fail(path, format("%s came back as %s", tostring(want), tostring(got))) end
    return
  end
  if type(got) ~= "table" then fail(path, "not a table") end
  local list = map and map["[]"]
  local each = map and map["{}"]
  for k, v in pairs(want) do
    local sub = list or each or (map and map[k])
    local p = type(k) == "number" and format("%s[%d]", path, k) or (path == "" and k or path .. "." .. k)
    check(got[k], v, sub, p, stats)
  end
  for k in pairs(got) do
    if want[k] == nil then fail(path .. "." .. tostring(k), "unexpected") end
  end
end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

---------------------------------------------------------------------------
-- Timing

local function median(t)
  local s = sorted(t)
  local n = #s
  return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

--- Runs each of fns (a list of functions) reps times, interleaved, after
--- two untimed warm-up rounds. Returns, per function, {best, median} in
--- seconds.
local function measure(fns, reps)
  local times = {}
  for i = 1, #fns do times[i] = {} end
  for round = -1, reps do
    for i, fn in ipairs(fns) do
      collectgarbage("collect")
      local t0 = clock()
      fn()
      local dt = clock() - t0
      if round > 0 then times[i][round] = dt end
    end
  end
  local out = {}
  for i = 1, #fns do
    local best = math.huge
    for _, t in ipairs(times[i]) do best = math.min(best, t) end
    out[i] = { best = best, median = median(times[i]) }
  end
  return out
end

---------------------------------------------------------------------------
-- Main. Each phase keeps alive only what its timing needs: a large live
-- heap slows both libraries (allocator and cache effects, not GC work) and
-- moves the ratios, so the figures are taken with a small, clean heap.

local function live_mb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count") / 1024
end

local page_path = arg and arg[1]
local page
if page_path then
  local f = io.open(page_path, "rb")
  if not f then die("cannot open " .. page_path) end
  page = f:read("a")
  f:close()
  if page ~= gen.page() then
    die(page_path .. " is not what bench/gen_page.lua generates now: regenerate it")
  end
else
  page = gen.page()
  page_path = "(generated in memory)"
end

-- Made after cjson is loaded, as a program using both gets it.
local codec = core.codec()

local function decode_phase()
  local decoded, derr = codec:decode(page, QUERY_OUT)
  if not decoded then die("dynamo cannot decode the page: " .. tostring(derr)) end
  local nitems = #decoded.Items
  local reencoded = codec:encode(decoded, QUERY_OUT)
  decoded = nil
  local stats = new_stats()
  check(cjson.decode(reencoded), cjson.decode(page), QUERY_OUT, "", stats)
  for _, p in ipairs({ '"L":%[%]', '"M":{}' }) do
    if count(reencoded, p) ~= count(page, p) then
      die(format("verification failed: %s appears %d times in the page, %d times after decode+encode",
        p:gsub("%%", ""), count(page, p), count(reencoded, p)))
    end
  end
  reencoded = nil

  local map, heap = QUERY_OUT, live_mb()
  local t = measure({
    function() assert(codec:decode(page, map)) end,
    function() cjson.decode(page) end,
  }, REPS)
  return { dynamo = t[1], cjson = t[2], stats = stats, items = nitems, heap = heap }
end

local function encode_phase()
  local plain_bodies, wrapped_bodies = {}, {}
  do
    local model = gen.model()
    for i, members in ipairs(model.items) do
      plain_bodies[i] = { TableName = TABLE_NAME, Item = item_of(members, plain) }
      wrapped_bodies[i] = { TableName = TABLE_NAME, Item = item_of(members, wrapped) }
    end
  end
  local n = #plain_bodies

  local stats = new_stats()
  local dynamo_bytes, cjson_bytes, empty_lists = 0, 0, 0
  for i = 1, n do
    local out = codec:encode(plain_bodies[i], PUT_IN)
    check(cjson.decode(out), wrapped_bodies[i], PUT_IN, format("[%d]", i), stats)
    dynamo_bytes = dynamo_bytes + #out
    empty_lists = empty_lists + count(out, '"L":%[%]')
    local cout = cjson.encode(wrapped_bodies[i])
    check(cjson.decode(cout), wrapped_bodies[i], PUT_IN, format("cjson [%d]", i), new_stats())
    cjson_bytes = cjson_bytes + #cout
  end
  if empty_lists ~= count(page, '"L":%[%]') then
    die("verification failed: dynamo did not write every empty L as []")
  end

  local encode, cjson_encode, map, heap = codec.encode, cjson.encode, PUT_IN, live_mb()
  local t = measure({
    function()
      for i = 1, n do encode(codec, plain_bodies[i], map) end
    end,
    function()
      for i = 1, n do cjson_encode(wrapped_bodies[i]) end
    end,
  }, REPS)
  return { dynamo = t[1], cjson = t[2], stats = stats, bodies = n, heap = heap,
    dynamo_bytes = dynamo_bytes, cjson_bytes = cjson_bytes }
end

local dec = decode_phase()
local enc = encode_phase()
for what, stats in pairs({ decode = dec.stats, encode = enc.stats }) do
  if stats.rounded > 0 and dynamo.decimal then
    die(format("verification failed: dynamo.decimal exists, yet %s rounded %d of %d N values (%s)",
      what, stats.rounded, stats.numbers, stats.example or "in an NS"))
  end
end

---------------------------------------------------------------------------
-- Report

local function cpu_name()
  local f = io.open("/proc/cpuinfo", "r")
  if not f then return "unknown" end
  local s = f:read("a")
  f:close()
  return s:match("model name%s*:%s*([^\n]+)") or "unknown"
end

local function row(name, t, bytes)
  return format("  %-50s %9.3f %11.3f %9.1f", name, t.best * 1e3, t.median * 1e3, bytes / t.best / 1e6)
end

local function ratio(r)
  return r.dynamo.best / r.cjson.best
end

print(format("dynamo codec benchmark: %s, dynamo %s, lua-cjson %s", _VERSION, tostring(dynamo._VERSION),
  tostring(cjson._VERSION)))
print(format("date %s, cpu %s", os.date("!%Y-%m-%d %H:%M UTC"), cpu_name()))
print(format("page %s: %d bytes, %d items (%.0f bytes per item), a Query response",
  page_path, #page, dec.items, #page / dec.items))
print(format("dynamo.decimal: %s", dynamo.decimal and "present (N values a float cannot hold decode exactly)"
  or "absent (N values a float cannot hold decode as the nearest float)"))
print(format("verified: decode (%d N values, %d rounded to a float%s)", dec.stats.numbers, dec.stats.rounded,
  dec.stats.example and ", e.g. " .. dec.stats.example or ""))
print(format("          encode (%d N values, %d rounded to a float)", enc.stats.numbers, enc.stats.rounded))
print(format("timing: best of %d repetitions, os.clock CPU time, median beside it; MB = 10^6 bytes", REPS))
print()
print(format("  %-50s %9s %11s %9s", format("decode: 1 page (live heap %.1f MB)", dec.heap),
  "best ms", "median ms", "MB/s"))
print(row("dynamo  codec:decode(page, Query output map)", dec.dynamo, #page))
print(row("cjson   cjson.decode(page)", dec.cjson, #page))
print(format("decode ratio dynamo/cjson: %.2f", ratio(dec)))
print()
print(format("  %-50s %9s %11s %9s", format("encode: %d PutItem bodies (live heap %.1f MB)", enc.bodies, enc.heap),
  "best ms", "median ms", "MB/s"))
print(row(format("dynamo  codec:encode, plain items, %d B", enc.dynamo_bytes), enc.dynamo, enc.dynamo_bytes))
print(row(format("cjson   cjson.encode, wrapped, %d B", enc.cjson_bytes), enc.cjson, enc.cjson_bytes))
print(format("encode ratio dynamo/cjson: %.2f", ratio(enc)))
print()
print("Lower is better for dynamo; the goal is a ratio of at most 1.0. Not the same work:")
print("  decode: cjson leaves AttributeValues wrapped: N as text (tonumber on it keeps 17 digits")
print("          at most), B as base64. dynamo unwraps, makes exact integers, floats"
  .. (dynamo.decimal and " and decimals" or "") .. ",")
print("          decodes base64.")
print("  encode: cjson copies ready-made N text and base64 text; dynamo formats numbers"
  .. (dynamo.decimal and " and" or ","))
print("          " .. (dynamo.decimal and "decimals, " or "") .. "encodes base64.")
print("  cjson escapes '/' as '\\/'; both write the same information.")
if EMPTY_ARRAY_NOTE then print("  " .. EMPTY_ARRAY_NOTE .. ".") end
if not dynamo.decimal and enc.stats.rounded > 0 then
  print("  without dynamo.decimal the plain items hold floats: dynamo writes 17 digits at most where")
  print("  cjson copies up to 38, so its output is a little shorter.")
end
