--- Readable text for tostring() of an expression: names as written and
--- values as literals instead of placeholders. For debugging only; what is
--- sent always goes through a context's placeholders.
local core = require "dynamo.core"

local type, tostring, tonumber, getmetatable, pairs, format = type, tostring, tonumber, getmetatable, pairs, string.format
local concat, sort = table.concat, table.sort

local M = {}

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- s in double quotes, with quotes, backslashes and control bytes escaped.
function M.quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESCAPES[c] or format("\\%03d", c:byte()) end) .. '"'
end

--- A name as written in a path; names a path could not spell (dots,
--- brackets, spaces, empty) go in backquotes.
function M.name(s)
  if s ~= "" and not s:find("[%.%[%]`%s%c]") then return s end
  return "`" .. s:gsub("`", "``") .. "`"
end

local function number(v)
  local s = tostring(v)
  if tonumber(s) ~= v then s = format("%.17g", v) end   -- tostring may round
  return s
end

local value

local function items(t, depth)
  local out = {}
  for i = 1, #t do out[i] = value(t[i], depth) end
  return concat(out, ", ")
end

local function is_sequence(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n > 0 and n == #t
end

--- v as a literal: strings quoted, numbers as numbers, NULL, b"bytes",
--- <<set>>, [list] and {"key": value} maps (keys sorted).
function value(v, depth)
  local t = type(v)
  if t == "string" then return M.quote(v) end
  if t == "number" then return number(v) end
  if t == "boolean" then return tostring(v) end
  if v == core.null then return "NULL" end
  local mt = getmetatable(v)
  if mt == core.decimal_mt then return tostring(v) end
  if t ~= "table" then return "<" .. t .. ">" end
  if depth > 16 then return "..." end
  depth = depth + 1
  if mt == core.binary_mt then return "b" .. M.quote(tostring(v[1])) end
  if mt == core.set_mt then return "<<" .. items(v, depth) .. ">>" end
  if mt == core.list_mt or mt ~= core.map_mt and is_sequence(v) then return "[" .. items(v, depth) .. "]" end
  local fields = {}
  for k, x in pairs(v) do fields[#fields + 1] = M.quote(tostring(k)) .. ": " .. value(x, depth) end
  sort(fields)
  return "{" .. concat(fields, ", ") .. "}"
end

function M.value(v) return value(v, 0) end

--- The sink tostring() emits into: the same interface as a context's
--- placeholders, but returning the readable text.
M.sink = {
  ref_name = function(_, s) return M.name(s) end,
  ref_value = function(_, v) return value(v, 0) end,
}

return M
