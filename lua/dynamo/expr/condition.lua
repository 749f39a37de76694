--- Conditions, for ConditionExpression and FilterExpression and as the
--- parts of a KeyConditionExpression: comparisons, BETWEEN, IN, the
--- functions, and AND / OR / NOT with the parentheses precedence needs.
--- Conditions are immutable: combining them makes new ones.
local core = require "dynamo.core"
local node = require "dynamo.expr.node"
local show = require "dynamo.expr.show"

local setmetatable, getmetatable, type, error, ipairs, pairs, tostring = setmetatable, getmetatable, type, error, ipairs, pairs, tostring
local concat, format = table.concat, string.format

local M = {}

local Condition = node.class("condition")

local function new(c) return setmetatable(c, Condition) end

--- Is v a condition?
function M.is(v) return node.kind(v) == "condition" end

-- How tightly each form binds (DynamoDB: comparisons and functions, then
-- NOT, then AND, then OR). A part that binds more loosely than the form
-- around it gets parentheses; NOT parenthesizes any compound part.
local STRENGTH = { ["or"] = 1, ["and"] = 2, ["not"] = 3 }
local LEAF = 4

local function part(c, parent, sink)
  local s = c:emit(sink)
  if (STRENGTH[c.op] or LEAF) < parent then return "(" .. s .. ")" end
  return s
end

-- Placeholders are numbered in emission order, so every part is emitted
-- into a local before the text is joined: left to right, always.
local function emit_list(list, sink, fn)
  local out = {}
  for i, v in ipairs(list) do out[i] = fn(v, sink) end
  return out
end

local EMIT = {
  compare = function(c, sink)
    local a = node.emit(c.a, sink)
    return a .. " " .. c.sym .. " " .. node.emit(c.args[1], sink)
  end,
  between = function(c, sink)
    local a = node.emit(c.a, sink)
    local lo = node.emit(c.args[1], sink)
    return a .. " BETWEEN " .. lo .. " AND " .. node.emit(c.args[2], sink)
  end,
  ["in"] = function(c, sink)
    local a = node.emit(c.a, sink)
    return a .. " IN (" .. concat(emit_list(c.args, sink, node.emit), ", ") .. ")"
  end,
  call = function(c, sink)
    local a = node.emit(c.a, sink)
    local rest = emit_list(c.args, sink, node.emit)
    if #rest == 0 then return c.sym .. "(" .. a .. ")" end
    return c.sym .. "(" .. a .. ", " .. concat(rest, ", ") .. ")"
  end,
  ["and"] = function(c, sink)
    return concat(emit_list(c.args, sink, function(x) return part(x, STRENGTH["and"], sink) end), " AND ")
  end,
  ["or"] = function(c, sink)
    return concat(emit_list(c.args, sink, function(x) return part(x, STRENGTH["or"], sink) end), " OR ")
  end,
  ["not"] = function(c, sink)
    return "NOT " .. part(c.args[1], LEAF, sink)
  end,
}

function Condition:emit(sink) return EMIT[self.op](self, sink) end

-- Operands of a condition: a value, a path or size(path).
local function check_operand(v)
  local k = node.kind(v)
  if k == "path" or k == "size" then return nil end
  if k then return "value, attr() or size() expected, got " .. k end
  return node.check_value(v)
end

local TYPES = { S = true, SS = true, N = true, NS = true, B = true, BS = true, BOOL = true, NULL = true, L = true, M = true }

M.MAX_IN = 100   -- DynamoDB: "The maximum number of operands for the IN comparator is 100"

-- What each method builds, and how it checks its arguments with the
-- operand check `ok`: returns the condition's operands, or nil, the
-- argument's number and what is wrong with it.
local SPECS = {}

local function one(ok, v)
  local msg = ok(v)
  if msg then return nil, 1, msg end
  return { v }
end

for name, sym in pairs { eq = "=", ne = "<>", lt = "<", le = "<=", gt = ">", ge = ">=" } do
  SPECS[name] = { op = "compare", sym = sym, args = one }
end

SPECS.between = { op = "between", args = function(ok, lo, hi)
  local msg = ok(lo)
  if msg then return nil, 1, msg end
  msg = ok(hi)
  if msg then return nil, 2, msg end
  return { lo, hi }
end }

SPECS.in_ = { op = "in", args = function(ok, list)
  if type(list) ~= "table" or node.kind(list) then
    return nil, 1, "table of values expected, got " .. node.describe(list)
  end
  local n = #list
  if n == 0 then return nil, 1, "empty list" end
  if n > M.MAX_IN then return nil, 1, format("%d values; DynamoDB allows at most %d", n, M.MAX_IN) end
  local args = {}
  for i = 1, n do
    local msg = ok(list[i])
    if msg then return nil, 1, format("item %d: %s", i, msg) end
    args[i] = list[i]
  end
  return args
end }

SPECS.begins_with = { op = "call", sym = "begins_with", args = function(ok, prefix)
  local msg = ok(prefix)
  if msg then return nil, 1, msg end
  local k = node.kind(prefix)
  if k ~= "path" and type(prefix) ~= "string" and getmetatable(prefix) ~= core.binary_mt then
    return nil, 1, "string, binary or attr() expected, got " .. node.describe(prefix)
  end
  return { prefix }
end }

SPECS.contains = { op = "call", sym = "contains", args = function(ok, v)
  local msg = ok(v)
  if msg then return nil, 1, msg end
  if node.kind(v) == "size" then return nil, 1, "value or attr() expected, got size" end
  return { v }
end }

SPECS.exists = { op = "call", sym = "attribute_exists", args = function() return {} end }
SPECS.not_exists = { op = "call", sym = "attribute_not_exists", args = function() return {} end }

SPECS.attribute_type = { op = "call", sym = "attribute_type", args = function(_, t)
  if type(t) ~= "string" or not TYPES[t] then
    local got = type(t) == "string" and show.quote(t) or node.describe(t)
    return nil, 1, "one of S, SS, N, NS, B, BS, BOOL, NULL, L, M expected, got " .. got
  end
  return { t }
end }

-- DynamoDB refuses an operand that repeats the first one when it is a path
-- ("The first operand must be distinct from the remaining operands").
local function same_path(a, b)
  if node.kind(a) ~= "path" or node.kind(b) ~= "path" or #a.segs ~= #b.segs then return false end
  for i, seg in ipairs(a.segs) do
    if b.segs[i] ~= seg then return false end
  end
  return true
end

--- Condition methods for a class, as a table name -> function, generated
--- from SPECS. opts.left(self) gives the left operand (default: self).
--- opts.key makes key-condition parts: operands must be values, and the
--- parts carry opts.key, the validator AND runs on them (see key.lua).
function M.methods(names, opts)
  opts = opts or {}
  local ok = opts.key and node.check_value or check_operand
  local left, key = opts.left, opts.key
  local methods = {}
  for _, name in ipairs(names) do
    local spec = SPECS[name]
    methods[name] = function(self, ...)
      local args, i, msg = spec.args(ok, ...)
      if not args then error(format("bad argument #%d to '%s' (%s)", i, name, msg), 2) end
      local a = left and left(self) or self
      for j, v in ipairs(args) do
        if same_path(a, v) then
          error(format("bad argument #%d to '%s' ('%s' is compared with itself; DynamoDB refuses that)",
            spec.op == "in" and 1 or j, name, tostring(a)), 2)
        end
      end
      return new { op = spec.op, sym = spec.sym, method = name, a = a, args = args, key = key }
    end
  end
  return methods
end

--- An equality part of a key condition (for the plain-table form).
function M.key_eq(path, v, validator)
  return new { op = "compare", sym = "=", method = "eq", a = path, args = { v }, key = validator }
end

-- AND or OR of conditions; nested ones of the same kind are flattened (they
-- need no parentheses). Key conditions allow no OR, and an AND of key
-- parts must still be a valid key condition. Returns nil, msg on failure.
local function junction(op, list)
  local args, all_key, any_key = {}, true, false
  for _, c in ipairs(list) do
    if c.key then any_key = true else all_key = false end
    if c.op == op then
      for _, x in ipairs(c.args) do args[#args + 1] = x end
    else
      args[#args + 1] = c
    end
  end
  if op == "or" and any_key then return nil, "key conditions cannot use OR" end
  local c = new { op = op, args = args }
  if all_key then
    c.key = list[1].key
    local parts, msg = c.key(c)
    if not parts then return nil, msg end
  end
  return c
end

local function negate(c)
  if c.key then return nil, "key conditions cannot use NOT" end
  return new { op = "not", args = { c } }
end

-- A table of conditions, or nil and what is wrong with it.
local function check_list(list)
  if type(list) ~= "table" or node.kind(list) then
    return "table of conditions expected, got " .. node.describe(list)
  end
  if #list == 0 then return "empty list" end
  for i = 1, #list do
    if not M.is(list[i]) then return format("item %d: condition expected, got %s", i, node.describe(list[i])) end
  end
end

local function combine(name, op, list)
  local msg = check_list(list)
  if msg then error("bad argument #1 to '" .. name .. "' (" .. msg .. ")", 3) end
  if #list == 1 then return list[1] end
  local c
  c, msg = junction(op, list)
  if not c then error("bad argument #1 to '" .. name .. "' (" .. msg .. ")", 3) end
  return c
end

-- (Parenthesized: a tail call would drop the frame combine's error level counts.)

--- all{c1, c2, ...}: every condition holds (AND).
function M.all(list) return (combine("all", "and", list)) end

--- any{c1, c2, ...}: at least one holds (OR).
function M.any(list) return (combine("any", "or", list)) end

--- none(c): c does not hold (NOT); none{c1, c2, ...}: none of them holds.
function M.none(c)
  if not M.is(c) then
    if type(c) ~= "table" or node.kind(c) then
      error("bad argument #1 to 'none' (condition or table of conditions expected, got " .. node.describe(c) .. ")", 2)
    end
    c = combine("none", "or", c)
  end
  local r, msg = negate(c)
  if not r then error("bad argument #1 to 'none' (" .. msg .. ")", 2) end
  return r
end

-- c1 & c2, c1 | c2 and ~c on Lua 5.3+ (LuaJIT has no such metamethods:
-- all, any and none do the same there).
local function operator(sym, op)
  return function(a, b)
    for _, v in ipairs { a, b } do
      if not M.is(v) then error("bad operand to '" .. sym .. "' (condition expected, got " .. node.describe(v) .. ")", 2) end
    end
    local c, msg = junction(op, { a, b })
    if not c then error("bad operand to '" .. sym .. "' (" .. msg .. ")", 2) end
    return c
  end
end

Condition.__band = operator("&", "and")
Condition.__bor = operator("|", "or")

function Condition.__bnot(a)
  local c, msg = negate(a)
  if not c then error("bad operand to '~' (" .. msg .. ")", 2) end
  return c
end

return M
