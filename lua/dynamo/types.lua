--- The Lua side of DynamoDB's types: markers for lists and maps, binary
--- values and sets. Their metatables belong to the C codec (dynamo.core),
--- which reads and writes them; this module adds constructors and methods.
local core = require "dynamo.core"

local setmetatable, getmetatable, type, error, rawequal = setmetatable, getmetatable, type, error, rawequal

local M = {}

local function check_table(fn, t)
  if type(t) ~= "table" then
    error("bad argument #1 to '" .. fn .. "' (table expected, got " .. type(t) .. ")", 3)
  end
end

--- Marks a table as a list (L): an empty one is sent as [] rather than {}.
function M.list(t)
  if t == nil then t = {} end
  check_table("list", t)
  return setmetatable(t, core.list_mt)
end

--- Marks a table as a map (M).
function M.map(t)
  if t == nil then t = {} end
  check_table("map", t)
  return setmetatable(t, core.map_mt)
end

--- Raw bytes, stored as B (base64 on the wire); the bytes are value[1].
function M.binary(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'binary' (string expected, got " .. type(s) .. ")", 2)
  end
  return setmetatable({ s }, core.binary_mt)
end

function M.is_binary(v)
  return getmetatable(v) == core.binary_mt
end

-- Set elements compare by value: strings and numbers by ==, binary values
-- by their bytes, decimals exactly (their eq method also takes numbers).
local function same(a, b)
  if rawequal(a, b) then return true end
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then return a == b end
  local ma, mb = getmetatable(a), getmetatable(b)
  if ma == core.binary_mt or mb == core.binary_mt then
    local ba = ma == core.binary_mt and a[1] or a
    local bb = mb == core.binary_mt and b[1] or b
    return type(ba) == "string" and ba == bb
  end
  if ta == "userdata" and type(a.eq) == "function" then return a:eq(b) end
  if tb == "userdata" and type(b.eq) == "function" then return b:eq(a) end
  return false
end

local Set = {}

--- s:has(v): is v in the set?
function Set:has(v)
  for i = 1, #self do
    if same(self[i], v) then return true end
  end
  return false
end

--- s:add(v): adds v unless it is already there; returns the set.
function Set:add(v)
  if v == nil then error("bad argument #1 to 'add' (value expected)", 2) end
  if not self:has(v) then self[#self + 1] = v end
  return self
end

--- s:remove(v): removes v if present; returns the set.
function Set:remove(v)
  for i = 1, #self do
    if same(self[i], v) then
      table.remove(self, i)
      break
    end
  end
  return self
end

--- for v in s:values() do ... end
function Set:values()
  local i = 0
  return function()
    i = i + 1
    return self[i]
  end
end

core.set_mt.__index = Set
core.set_mt.__name = "dynamo.set"

--- A set of strings, numbers or binary values (SS, NS or BS), typed by its
--- elements. Duplicates are dropped, as DynamoDB refuses them. A table
--- argument becomes the set itself.
function M.set(t)
  check_table("set", t)
  -- Strings, numbers and bytes dedupe through a hash; anything else (a
  -- decimal) by comparing with what is kept so far.
  local seen, n, out = {}, #t, 0
  for i = 1, n do
    local v = t[i]
    local key = v
    if getmetatable(v) == core.binary_mt then key = "\0binary:" .. tostring(v[1]) end
    local dup
    if type(key) == "string" or type(key) == "number" and key == key then   -- not NaN
      dup = seen[key]
      seen[key] = true
    else
      for j = 1, out do
        if same(t[j], v) then dup = true break end
      end
    end
    if not dup then
      out = out + 1
      t[out] = v
    end
  end
  for i = out + 1, n do t[i] = nil end
  return setmetatable(t, core.set_mt)
end

function M.is_set(v)
  return getmetatable(v) == core.set_mt
end

return M
