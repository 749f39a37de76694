--- dynamo: a DynamoDB client for Lua with a C core.
---   local dynamo = require "dynamo"
---   local db = dynamo.new { region = "eu-west-1" }
---   local ok, err = db:put_item { TableName = "users", Item = { id = "u1", age = 42 } }
local core = require "dynamo.core"
local client = require "dynamo.client"
local errors = require "dynamo.errors"
local credentials = require "dynamo.credentials"
local api = require "dynamo.operations"

local setmetatable, type, error = setmetatable, type, error

local dynamo = {
  _VERSION = core.version,
  new = client.new,
  --- DynamoDB NULL (the same value as cjson.null). Distinct from nil, which means "absent".
  null = core.null,
  credentials = credentials,
  is_error = errors.is_error,
}

--- The names of every DynamoDB operation, in API order.
function dynamo.operations()
  local names = {}
  for i, op in ipairs(api.operations) do names[i] = op.name end
  return names
end

--- Marks a table as a list (L), so an empty one is sent as [] rather than {}.
function dynamo.list(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then error("bad argument #1 to 'list' (table expected, got " .. type(t) .. ")", 2) end
  return setmetatable(t, core.list_mt)
end

--- Marks a table as a map (M).
function dynamo.map(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then error("bad argument #1 to 'map' (table expected, got " .. type(t) .. ")", 2) end
  return setmetatable(t, core.map_mt)
end

--- Raw bytes, stored as B (base64 on the wire).
function dynamo.binary(s)
  if type(s) ~= "string" then error("bad argument #1 to 'binary' (string expected, got " .. type(s) .. ")", 2) end
  return setmetatable({ s }, core.binary_mt)
end

--- A string, number or binary set (SS, NS, BS), typed by its elements.
function dynamo.set(t)
  if type(t) ~= "table" then error("bad argument #1 to 'set' (table expected, got " .. type(t) .. ")", 2) end
  return setmetatable(t, core.set_mt)
end

return dynamo
