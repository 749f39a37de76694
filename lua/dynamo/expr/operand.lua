--- Operands that compute a value: size(path) in conditions; arithmetic,
--- if_not_exists and list_append on the right of an update's SET.
--- Constructors take paths already parsed (see path.coerce).
local core = require "dynamo.core"
local node = require "dynamo.expr.node"
local condition = require "dynamo.expr.condition"

local setmetatable, getmetatable, type, error, pairs, next = setmetatable, getmetatable, type, error, pairs, next

local M = {}

local Size = node.class("size")
for name, fn in pairs(condition.methods { "eq", "ne", "lt", "le", "gt", "ge", "between", "in_" }) do
  Size[name] = fn
end

function Size:emit(sink) return "size(" .. self.path:emit(sink) .. ")" end

--- size(path), to compare: size(p):gt(3).
function M.size(path) return setmetatable({ path = path }, Size) end

local function is_number(v)
  return type(v) == "number" or getmetatable(v) == core.decimal_mt
end

-- A side of + or -: a path, if_not_exists() or a number. DynamoDB allows
-- one + or - per value, so a sum is not a side.
local function check_side(v)
  local k = node.kind(v)
  if k == "path" or k == "if_not_exists" then return nil end
  if k == "arithmetic" then return "DynamoDB allows one + or - per value" end
  if not is_number(v) or k then
    return "number, attr() or if_not_exists() expected, got " .. node.describe(v)
  end
end

local Arith = node.class("arithmetic")

function Arith:emit(sink)
  local a = node.emit(self.a, sink)
  return a .. " " .. self.sym .. " " .. node.emit(self.b, sink)
end

--- a + b or a - b; nil and why when a side cannot take part.
function M.arith(sym, a, b)
  local msg = check_side(a) or check_side(b)
  if msg then return nil, msg end
  return setmetatable({ sym = sym, a = a, b = b }, Arith)
end

-- + and - on a class's objects (either side may be a number).
local function arith_metamethods(class)
  for sym, mm in pairs { ["+"] = "__add", ["-"] = "__sub" } do
    class[mm] = function(a, b)
      local r, msg = M.arith(sym, a, b)
      if not r then error("bad operand to '" .. sym .. "' (" .. msg .. ")", 2) end
      return r
    end
  end
end
M.arith_metamethods = arith_metamethods
arith_metamethods(Arith)

local IfNotExists = node.class("if_not_exists")
arith_metamethods(IfNotExists)

function IfNotExists:emit(sink)
  local p = self.path:emit(sink)
  return "if_not_exists(" .. p .. ", " .. node.emit(self.value, sink) .. ")"
end

--- if_not_exists(path, v): v (a value or a path) when path is absent.
--- nil and why when v cannot be used.
function M.if_not_exists(path, v)
  if node.kind(v) ~= "path" then
    local msg = node.check_value(v)
    if msg then return nil, msg end
  end
  return setmetatable({ path = path, value = v }, IfNotExists)
end

local ListAppend = node.class("list_append")

function ListAppend:emit(sink)
  local a = node.emit(self.a, sink)
  return "list_append(" .. a .. ", " .. node.emit(self.b, sink) .. ")"
end

-- A side of list_append: a path, if_not_exists() or a list. An empty plain
-- table becomes an empty list (the codec would send {} as a map), also as
-- the default of if_not_exists(path, {}).
local function list_side(v)
  local k = node.kind(v)
  if k == "path" then return v end
  if k == "if_not_exists" then
    local d = v.value
    if type(d) == "table" and getmetatable(d) == nil and next(d) == nil then
      return setmetatable({ path = v.path, value = setmetatable({}, core.list_mt) }, IfNotExists)
    end
    return v
  end
  local mt = getmetatable(v)
  if not k and type(v) == "table" and (mt == nil or mt == core.list_mt) then
    if mt == nil and next(v) == nil then return setmetatable({}, core.list_mt) end
    if mt == core.list_mt or #v > 0 then return v end
  end
  local got = node.describe(v)
  if got == "table" then got = "map" end
  return nil, "list, attr() or if_not_exists() expected, got " .. got
end

--- list_append(a, b): the list a followed by b. nil, the failing side (1
--- or 2) and why when a side is not a list.
function M.list_append(a, b)
  local msg
  a, msg = list_side(a)
  if not a then return nil, 1, msg end
  b, msg = list_side(b)
  if not b then return nil, 2, msg end
  return setmetatable({ a = a, b = b }, ListAppend)
end

return M
