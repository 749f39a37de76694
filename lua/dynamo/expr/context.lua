--- A context turns the expressions of one request into strings with
--- placeholders, and collects the ExpressionAttributeNames and
--- ExpressionAttributeValues they need. The condition and the update of one
--- UpdateItem share a context, so they share placeholders. Generated
--- placeholders (#n1, :v1, ...) skip any the caller already uses.
local core = require "dynamo.core"
local node = require "dynamo.expr.node"
local key = require "dynamo.expr.key"
local update = require "dynamo.expr.update"
local projection = require "dynamo.expr.projection"

local setmetatable, getmetatable, type, error, pairs, ipairs, tostring, format, concat =
  setmetatable, getmetatable, type, error, pairs, ipairs, tostring, string.format, table.concat

local M = {}

--- DynamoDB: "The maximum length of any expression string is 4 KB."
M.MAX_LENGTH = 4096

local Context = {}
Context.__index = Context
Context.__name = "dynamo.expr.context"

--- context(names, values): names and values are the caller's own
--- ExpressionAttributeNames and ExpressionAttributeValues, or nil.
function M.new(names, values)
  if names ~= nil and type(names) ~= "table" then
    error("bad argument #1 to 'context' (table or nil expected, got " .. type(names) .. ")", 2)
  end
  if values ~= nil and type(values) ~= "table" then
    error("bad argument #2 to 'context' (table or nil expected, got " .. type(values) .. ")", 2)
  end
  return setmetatable({
    given_names = names, given_values = values,
    names_made = {}, values_made = {},   -- placeholder -> name or value
    name_ph = {},                        -- name -> placeholder
    scalar_ph = {},                      -- scalar's key -> placeholder
    table_ph = {},                       -- table or userdata (by identity) -> placeholder
    n_names = 0, n_values = 0,
  }, Context)
end

--- The placeholder for an attribute name (one per distinct name).
function Context:ref_name(name)
  local ph = self.name_ph[name]
  if ph then return ph end
  local given = self.given_names
  repeat
    self.n_names = self.n_names + 1
    ph = "#n" .. self.n_names
  until not (given and given[ph] ~= nil)
  self.name_ph[name] = ph
  self.names_made[ph] = name
  return ph
end

-- Scalars that are equal as DynamoDB values share a placeholder; the type
-- is part of the key, so 1, 1.5, "1" and true never meet. Integer and float
-- stay apart (the codec writes them differently). nil for what goes by
-- identity (tables, sets, binary) or never matches itself (NaN).
local function scalar_key(v)
  local t = type(v)
  if t == "string" then return "s" .. v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v ~= v then return nil end
    if node.math_type(v) == "integer" then return "i" .. format("%d", v) end
    return "f" .. format("%.17g", v)
  end
  if v == core.null then return "null" end
  if getmetatable(v) == core.decimal_mt then return "d" .. tostring(v) end
end

--- The placeholder for a value (one per distinct scalar or table).
function Context:ref_value(v)
  local skey = scalar_key(v)
  local ph
  if skey then ph = self.scalar_ph[skey] elseif v == v then ph = self.table_ph[v] end
  if ph then return ph end
  local given = self.given_values
  repeat
    self.n_values = self.n_values + 1
    ph = ":v" .. self.n_values
  until not (given and given[ph] ~= nil)
  if skey then self.scalar_ph[skey] = ph elseif v == v then self.table_ph[v] = ph end
  self.values_made[ph] = v
  return ph
end

-- Raises for an argument. level is as error() would take it in the
-- public method itself (default 2: the method's caller); raise is always
-- called straight from that method, hence the + 1.
local function raise(method, arg, level, msg)
  error("bad argument " .. (arg or "#1 to '" .. method .. "'") .. " (" .. msg .. ")", (level or 2) + 1)
end

-- What DynamoDB would refuse in a finished expression string, or nil.
local function refused(s)
  if s == "" then return "empty expression" end
  if #s > M.MAX_LENGTH then
    return format("expression is %d bytes; DynamoDB allows at most %d", #s, M.MAX_LENGTH)
  end
end

-- Each method: (self, x, arg, level). x is a builder, a plain-table form
-- where one exists, or a raw expression string, returned as it is. The
-- optional arg names the argument in errors (default "#1 to '<method>'",
-- e.g. "'update' to 'update_item'"); level is where errors point.

--- ctx:condition(c): a condition (ConditionExpression, FilterExpression).
function Context:condition(c, arg, level)
  local s = c
  if type(c) ~= "string" then
    if node.kind(c) ~= "condition" then
      raise("condition", arg, level, "condition or string expected, got " .. node.describe(c))
    end
    s = c:emit(self)
  end
  local msg = refused(s)
  if msg then raise("condition", arg, level, msg) end
  return s
end

--- ctx:key_condition(k): a key condition, a plain table {pk = v, sk = w}
--- of equalities, or a string (KeyConditionExpression).
function Context:key_condition(k, arg, level)
  local s, msg = k
  if type(k) ~= "string" then
    if type(k) == "table" and not node.kind(k) then
      k, msg = key.from_table(k)
      if not k then raise("key_condition", arg, level, msg) end
    elseif node.kind(k) ~= "condition" then
      raise("key_condition", arg, level, "key condition, table or string expected, got " .. node.describe(k))
    end
    local parts
    parts, msg = key.check(k)
    if not parts then raise("key_condition", arg, level, msg) end
    local out = {}
    for i, p in ipairs(parts) do out[i] = p:emit(self) end
    s = concat(out, " AND ")
  end
  msg = refused(s)
  if msg then raise("key_condition", arg, level, msg) end
  return s
end

--- ctx:update(u): an update builder, its plain-table form, or a string
--- (UpdateExpression).
function Context:update(u, arg, level)
  local s, msg = u
  if type(u) ~= "string" then
    if type(u) == "table" and not node.kind(u) then
      u, msg = update.from_table(u)
      if not u then raise("update", arg, level, msg) end
    elseif node.kind(u) ~= "update" then
      raise("update", arg, level, "update, table or string expected, got " .. node.describe(u))
    end
    if u:is_empty() then raise("update", arg, level, "empty update (no set, remove, add or delete)") end
    s = u:emit(self)
  end
  msg = refused(s)
  if msg then raise("update", arg, level, msg) end
  return s
end

--- ctx:projection(p): a list of paths, a projection, or a string
--- (ProjectionExpression).
function Context:projection(p, arg, level)
  local s, msg = p
  if type(p) ~= "string" then
    local proj
    proj, msg = projection.from_list(p)
    if not proj then raise("projection", arg, level, msg) end
    s = proj:emit(self)
  end
  msg = refused(s)
  if msg then raise("projection", arg, level, msg) end
  return s
end

local function merge(given, made)
  local out, any = {}, false
  if given then
    for k, v in pairs(given) do out[k] = v; any = true end
  end
  for k, v in pairs(made) do out[k] = v; any = true end
  return any and out or nil
end

--- The ExpressionAttributeNames to send: the caller's and the generated
--- ones, in a new table; nil when there are none.
function Context:names() return merge(self.given_names, self.names_made) end

--- The ExpressionAttributeValues to send, likewise (plain Lua values).
function Context:values() return merge(self.given_values, self.values_made) end

return M
