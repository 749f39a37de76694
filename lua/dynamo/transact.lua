--- Transactions: db:transact_write{...} and db:transact_get{...}.
---
---   local ok, err = db:transact_write {
---     { put = { table = "orders", item = order, condition = dynamo.attr("id"):not_exists() } },
---     { update = { table = "stock", key = { sku = "s1" }, update = dynamo.update():add("count", -1),
---                  condition = dynamo.attr("count"):gt(0) } },
---   }
---   if not ok and err.reasons then print(err.reasons[2].code) end  -- per action
---
--- Actions take the friendly names of the item operations (or the AWS
--- ones). Checked before sending: at most 100 actions, no item targeted
--- twice. One ClientRequestToken is made per call and sent again by the
--- client's retries of that request, so a retry is idempotent on the
--- server. To make a repeat of a whole call idempotent, pass your own `token`.
local core = require "dynamo.core"
local api = require "dynamo.operations"
local friendly = require "dynamo.params"
local keys = require "dynamo.keys"

local type, error, pairs, tostring, format = type, error, pairs, tostring, string.format
local math_type = require("dynamo.compat").math_type

local M = { methods = {} }

M.MAX_ACTIONS = 100

-- Friendly action names -> the AWS structure names.
local write_kinds = { put = "Put", update = "Update", delete = "Delete", check = "ConditionCheck" }
local get_kinds = { get = "Get" }

-- Per-call options (not actions) and their AWS names.
local write_options = { token = "ClientRequestToken", return_consumed = "ReturnConsumedCapacity",
  return_metrics = "ReturnItemCollectionMetrics" }
local get_options = { return_consumed = "ReturnConsumedCapacity" }

--- A random RFC 4122 version 4 UUID: an idempotency token.
local function uuid()
  local b = { core.random_bytes(16):byte(1, 16) }
  b[7] = b[7] % 16 + 0x40
  b[9] = b[9] % 64 + 0x80
  return format("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
    b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16])
end
M.uuid = uuid

-- Translates one action { put = {...} } (or { Put = {...} }) to AWS form.
local function action(method, kinds, i, entry, level)
  if type(entry) ~= "table" then
    error("bad argument 'actions[" .. i .. "]' to '" .. method .. "' (table expected, got " .. type(entry) .. ")", level)
  end
  local kind, body
  for k, v in pairs(entry) do
    local aws = kinds[k] or (api.transact_actions[k] and k)
    local valid = aws and (kinds == get_kinds) == (aws == "Get")
    if not valid then
      error("bad argument 'actions[" .. i .. "]." .. tostring(k) .. "' to '" .. method .. "' (unknown action; expected "
        .. (kinds == get_kinds and "get" or "put, update, delete or check") .. ")", level)
    end
    if kind then
      local a, b = kind, aws
      if b < a then a, b = b, a end
      error("bad argument 'actions[" .. i .. "]' to '" .. method .. "' (one action per entry, got "
        .. a .. " and " .. b .. ")", level)
    end
    if type(v) ~= "table" then
      error("bad argument 'actions[" .. i .. "]." .. k .. "' to '" .. method .. "' (table expected, got " .. type(v) .. ")", level)
    end
    kind, body = aws, v
  end
  if not kind then
    error("bad argument 'actions[" .. i .. "]' to '" .. method .. "' (empty action)", level)
  end
  local shape = api.transact_actions[kind]
  local prefix = "actions[" .. i .. "]." .. (kind == "ConditionCheck" and "check" or kind:lower()) .. "."
  local view = { name = kind, method = method, members = shape.members, prefix = prefix }
  local params = friendly.translate(view, body, level)
  for _, name in ipairs(shape.required) do
    if params[name] == nil then
      error("bad argument '" .. prefix .. friendly.friendly_name(name) .. "' to '" .. method .. "' (required)", level)
    end
  end
  return kind, params
end

-- The item an action targets, as an identity string, or nil when the
-- table's key schema cannot be had (the server then does the check).
local function target(db, kind, params)
  local names = keys.names(db, params.TableName)
  if not names then return nil end
  return params.TableName .. "\0" .. keys.identity(kind == "Put" and params.Item or params.Key, names)
end

-- Raises when two actions target one item: DynamoDB refuses the whole call.
local function check_targets(db, method, items, level)
  local seen = {}
  for i, entry in ipairs(items) do
    local kind, p = next(entry)
    local id = target(db, kind, p)
    if id then
      if seen[id] then
        error("bad argument 'actions[" .. i .. "]' to '" .. method .. "' (targets the same item as actions["
          .. seen[id] .. "]; DynamoDB rejects two actions on one item)", level + 1)
      end
      seen[id] = i
    end
  end
end

-- Splits an argument table into actions and per-call options.
local function split(method, kinds, options, args, level)
  if type(args) ~= "table" then
    error("bad argument #1 to '" .. method .. "' (table of actions expected, got " .. type(args) .. ")", level)
  end
  local n = #args
  local aws_of = {}   -- option name (friendly or AWS) -> AWS member
  for short, aws in pairs(options) do aws_of[short], aws_of[aws] = aws, aws end
  for k in pairs(args) do
    if not (math_type(k) == "integer" and k >= 1 and k <= n) and not aws_of[k] and k ~= "n" then
      error("bad argument '" .. tostring(k) .. "' to '" .. method .. "' (not an option of " .. method .. ")", level)
    end
  end
  if n == 0 then
    error("bad argument #1 to '" .. method .. "' (no actions)", level)
  end
  if n > M.MAX_ACTIONS then
    error("bad argument #1 to '" .. method .. "' (" .. n .. " actions; DynamoDB allows at most "
      .. M.MAX_ACTIONS .. " per transaction)", level)
  end
  local items = {}
  for i = 1, n do
    local kind, params = action(method, kinds, i, args[i], level + 1)
    items[i] = { [kind] = params }
  end
  local out = { TransactItems = items }
  for k, v in pairs(args) do
    local aws = aws_of[k]
    if aws then
      if out[aws] ~= nil then
        error("bad argument '" .. tostring(k) .. "' to '" .. method .. "' (given twice)", level)
      end
      out[aws] = friendly.enum(aws, v)
    end
  end
  return out
end

--- db:transact_write{ action, ..., token =, return_consumed =, return_metrics = }
--- Returns the response, or nil, err. A cancelled transaction's err.reasons
--- lists, per action in order, { code =, message =, item = } (code "None"
--- for actions that did not fail).
function M.methods.transact_write(db, args)
  local params = split("transact_write", write_kinds, write_options, args, 3)
  check_targets(db, "transact_write", params.TransactItems, 2)
  params.ClientRequestToken = params.ClientRequestToken or uuid()
  return db:transact_write_items(params)
end

--- db:transact_get{ { get = { table =, key =, projection = } }, ... }
--- Returns the items in action order (nil where an item does not exist;
--- field n is the number of actions) and the raw response, or nil, err.
function M.methods.transact_get(db, args)
  local params = split("transact_get", get_kinds, get_options, args, 3)
  check_targets(db, "transact_get", params.TransactItems, 2)
  local res, err = db:transact_get_items(params)
  if not res then return nil, err end
  local items = { n = #params.TransactItems }
  for i, r in ipairs(res.Responses or {}) do items[i] = r.Item end
  return items, res
end

return M
