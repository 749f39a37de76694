--- dynamo.expr: builders for DynamoDB's condition, filter, key condition,
--- update and projection expressions, and the context that turns them into
--- placeholder strings for one request.
---   local expr = require "dynamo.expr"
---   local ctx = expr.context()
---   local p = { UpdateExpression = ctx:update(expr.update():set("n", expr.attr("n") + 1)),
---               ConditionExpression = ctx:condition(expr.attr("n"):lt(10)),
---               ExpressionAttributeNames = ctx:names(), ExpressionAttributeValues = ctx:values() }
local node = require "dynamo.expr.node"
local path = require "dynamo.expr.path"
local condition = require "dynamo.expr.condition"
local operand = require "dynamo.expr.operand"
local key = require "dynamo.expr.key"
local update = require "dynamo.expr.update"
local projection = require "dynamo.expr.projection"
local context = require "dynamo.expr.context"

local error = error

local M = {}

-- Error levels count stack frames, so the helpers below are never
-- tail-called: `return (f())` keeps the caller's frame.

-- path.coerce for argument i of public function fn; level as error() takes
-- it in the helper (3: the caller of the function that calls the helper).
local function arg_path(v, fn, i, level, allow_segments)
  local p, msg = path.coerce(v, allow_segments)
  if not p then error(("bad argument #%d to '%s' (%s)"):format(i, fn, msg), level) end
  return p
end

--- attr("a.b[2].c") or attr{"weird.name", 2, "x[y]"}: an attribute path.
function M.attr(p) return (arg_path(p, "attr", 1, 3, true)) end

--- key("pk"): a key attribute, for key conditions.
M.key = key.new

--- size(path): the size of an attribute, to compare.
function M.size(p) return operand.size(arg_path(p, "size", 1, 3)) end

M.all = condition.all
M.any = condition.any
M.none = condition.none

--- update() or update{ set = ..., remove = ..., add = ..., delete = ... }.
M.update = update.new

--- if_not_exists(path, v): the attribute, or v when it is absent.
function M.if_not_exists(p, v)
  local r, msg = operand.if_not_exists(arg_path(p, "if_not_exists", 1, 3), v)
  if not r then error("bad argument #2 to 'if_not_exists' (" .. msg .. ")", 2) end
  return r
end

-- The list side of list_append/list_prepend is a path when given as a
-- string or an if_not_exists(); any other value is the list itself.
local function list_path(v, fn, i)
  local k = node.kind(v)
  if k == "if_not_exists" then return v end
  return (arg_path(v, fn, i, 4))
end

local function list_append(fn, a, b, ia, ib)
  local r, side, msg = operand.list_append(a, b)
  if not r then error(("bad argument #%d to '%s' (%s)"):format(side == 1 and ia or ib, fn, msg), 3) end
  return r
end

--- list_append(path, list): the list at path with list added at the end.
function M.list_append(p, list)
  return (list_append("list_append", list_path(p, "list_append", 1), list, 1, 2))
end

--- list_prepend(path, list): list added at the front of the list at path.
function M.list_prepend(p, list)
  return (list_append("list_prepend", list, list_path(p, "list_prepend", 1), 2, 1))
end

--- projection{"a", "b.c"}: a projection to reuse (a plain list works too).
M.projection = projection.new

--- The functions for end users, to re-export as dynamo.attr etc.
M.public = {
  attr = M.attr, key = M.key, size = M.size,
  all = M.all, any = M.any, none = M.none,
  update = M.update, if_not_exists = M.if_not_exists,
  list_append = M.list_append, list_prepend = M.list_prepend,
  projection = M.projection,
}

--- For the library: a context for one request's expressions.
M.context = context.new

--- Is v an expression builder (path, key, condition, update, ...)?
function M.is_expression(v) return node.kind(v) ~= nil end

return M
