--- Attribute paths: "a.b[2].c" parsed into names and list indexes, or a
--- table of raw segments for names that contain dots or brackets. Every
--- name is emitted as a placeholder, so reserved words and any characters
--- are safe. A path carries the condition methods (eq, between, ...), size()
--- and + / - for updates.
local node = require "dynamo.expr.node"
local show = require "dynamo.expr.show"
local condition = require "dynamo.expr.condition"
local operand = require "dynamo.expr.operand"

local setmetatable, type, tonumber, pairs, ipairs, floor = setmetatable, type, tonumber, pairs, ipairs, math.floor
local format, concat = string.format, table.concat
local tointeger = math.tointeger or function(v) return v end

local M = {}

local Path = node.class("path")

for name, fn in pairs(condition.methods {
  "eq", "ne", "lt", "le", "gt", "ge", "between", "in_",
  "begins_with", "contains", "exists", "not_exists", "attribute_type",
}) do
  Path[name] = fn
end

--- attr(p):size(), to compare the size of the attribute.
function Path:size() return operand.size(self) end

operand.arith_metamethods(Path)

function Path:emit(sink)
  local out = {}
  for i, seg in ipairs(self.segs) do
    if type(seg) == "number" then
      out[i] = "[" .. seg .. "]"
    else
      out[i] = (i > 1 and "." or "") .. sink:ref_name(seg)
    end
  end
  return concat(out)
end

local function new(segs) return setmetatable({ segs = segs }, Path) end

--- A path of one raw name (a key attribute: never parsed).
function M.raw(name) return new { name } end

local MAX_INDEX_DIGITS = 9

--- Parses "a.b[2].c"; returns the path, or nil and what is wrong.
function M.parse(s)
  if s == "" then return nil, "empty path" end
  local segs, pos, n = {}, 1, #s
  while true do
    local stop = s:find("[%.%[%]]", pos) or n + 1
    if stop == pos then return nil, format("empty name at character %d of %s", pos, show.quote(s)) end
    segs[#segs + 1] = s:sub(pos, stop - 1)
    pos = stop
    while s:sub(pos, pos) == "[" do
      local digits, after = s:match("^(%d+)%]()", pos + 1)
      if not digits or #digits > MAX_INDEX_DIGITS then
        return nil, format("bad index at character %d of %s (expected [digits])", pos, show.quote(s))
      end
      segs[#segs + 1] = tointeger(tonumber(digits))
      pos = after
    end
    if pos > n then return new(segs) end
    local c = s:sub(pos, pos)
    if c == "]" then return nil, format("unexpected ']' at character %d of %s", pos, show.quote(s)) end
    if c ~= "." then return nil, format("expected '.' or '[' at character %d of %s", pos, show.quote(s)) end
    pos = pos + 1
  end
end

--- A path from raw segments {"weird.name", 2, "x[y]"}: strings are names
--- taken as they are, integers list indexes. Returns the path, or nil and
--- what is wrong.
function M.from_segments(t)
  if #t == 0 then return nil, "empty path" end
  local segs = {}
  for i = 1, #t do
    local v = t[i]
    if type(v) == "string" then
      if v == "" then return nil, format("segment %d is an empty name", i) end
      segs[i] = v
    elseif type(v) == "number" and v >= 0 and v == floor(v) and v < 10 ^ MAX_INDEX_DIGITS then
      if i == 1 then return nil, "segment 1 is an index; a path starts with a name" end
      segs[i] = tointeger(v)
    else
      local got = type(v) == "number" and "number " .. show.value(v) or node.describe(v)
      return nil, format("segment %d: name (string) or index (integer >= 0) expected, got %s", i, got)
    end
  end
  return new(segs)
end

--- v as a path: a path string, or a path object as it is; with
--- allow_segments, a table of raw segments too. nil and what is wrong.
function M.coerce(v, allow_segments)
  if type(v) == "string" then return M.parse(v) end
  local k = node.kind(v)
  if k == "path" then return v end
  if allow_segments and not k and type(v) == "table" then return M.from_segments(v) end
  return nil, "path expected, got " .. node.describe(v)
end

--- How two paths relate when both are updated: "same", "overlap" (one is
--- inside the other), "conflict" (one indexes what the other names: a
--- cannot be both a list and a map), or nil when they are independent.
function M.relation(a, b)
  a, b = a.segs, b.segs
  local n = #a < #b and #a or #b
  for i = 1, n do
    local x, y = a[i], b[i]
    if x ~= y then
      if type(x) ~= type(y) then return "conflict" end
      return nil
    end
  end
  return #a == #b and "same" or "overlap"
end

return M
