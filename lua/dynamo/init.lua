--- dynamo: a DynamoDB client for Lua with a C core.
---   local dynamo = require "dynamo"
---   local db = dynamo.new { region = "eu-west-1" }
---   local ok, err = db:put_item { TableName = "users", Item = { id = "u1", age = 42 } }
local core = require "dynamo.core"
local client = require "dynamo.client"
local errors = require "dynamo.errors"
local credentials = require "dynamo.credentials"
local types = require "dynamo.types"
local size = require "dynamo.size"
local api = require "dynamo.operations"
local async = require "dynamo.async"
local expr = require "dynamo.expr"

local dynamo = {
  _VERSION = core.version,
  new = client.new,
  --- DynamoDB NULL (the same value as cjson.null). Distinct from nil, which means "absent".
  null = core.null,
  --- An exact DynamoDB number (up to 38 digits) from N text, an integer or a float:
  ---   dynamo.decimal("12345678901234567890.123") -- tostring, d:tonumber(), exact <, <=, d:eq(x)
  decimal = core.decimal,
  list = types.list,
  map = types.map,
  binary = types.binary,
  set = types.set,
  is_set = types.is_set,
  is_binary = types.is_binary,
  item_size = size.item_size,
  credentials = credentials,
  is_error = errors.is_error,
  gather = async.gather,
  sleep = async.sleep,
  with_deadline = async.with_deadline,
  --- Seconds on a monotonic clock (for timing and deadlines).
  now = async.now,
}

--- dynamo.model{...}: a model class (docs/models.md); dynamo.collection{...}
--- queries the models of one table together.
dynamo.model = function(def) return require("dynamo.model").define(def) end
dynamo.collection = function(list) return require("dynamo.model.query").collection(list) end

-- The expression builders: dynamo.attr, dynamo.key, dynamo.update, ...
for name, fn in pairs(expr.public) do dynamo[name] = fn end

--- The names of every DynamoDB operation, in API order.
function dynamo.operations()
  local names = {}
  for i, op in ipairs(api.operations) do names[i] = op.name end
  return names
end

return dynamo
