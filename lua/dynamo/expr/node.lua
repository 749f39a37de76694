--- What every expression object shares: a kind on its metatable, so a
--- builder is told apart from a plain value (a Lua table is a list or map
--- value, never an expression), and tostring through the readable sink.
local core = require "dynamo.core"
local show = require "dynamo.expr.show"

local getmetatable, type, rawget = getmetatable, type, rawget

local M = {}

--- math.type where it exists (5.3+); LuaJIT has only floats, so there a
--- whole number within 2^53 counts as an integer (dynamo.compat).
M.math_type = require("dynamo.compat").math_type

--- A new class: a metatable that is its own __index, tagged with its kind.
--- tostring(obj) renders the expression with names and values in place.
function M.class(kind)
  local c = { __expr = kind }
  c.__index = c
  c.__tostring = function(self) return self:emit(show.sink) end
  return c
end

--- The kind of an expression object ("path", "condition", ...), or nil for
--- a plain value.
function M.kind(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__expr") or nil
end

--- What v is, for "... expected, got <what>" messages.
function M.describe(v)
  local k = M.kind(v)
  if k then return k end
  if v == core.null then return "null" end
  local mt = getmetatable(v)
  if mt == core.set_mt then return "set" end
  if mt == core.binary_mt then return "binary" end
  if mt == core.decimal_mt then return "decimal" end
  return type(v)
end

--- An operand's text: an expression object emits itself, anything else is
--- a value and becomes a value placeholder.
function M.emit(v, sink)
  if M.kind(v) then return v:emit(sink) end
  return sink:ref_value(v)
end

--- nil when v can be sent as a value, else why not.
function M.check_value(v)
  local t = type(v)
  if t == "nil" or t == "function" or t == "thread" then
    return "value expected, got " .. t
  end
  local k = M.kind(v)
  if k then return "value expected, got " .. k end
end

return M
