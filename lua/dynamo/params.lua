--- Friendly parameters: short snake_case names beside the AWS ones, and
--- expression builders compiled to strings with their placeholders.
---   db:update_item{ table = "users", key = { id = "u1" },
---                   update = dynamo.update():set("visits", dynamo.attr("visits") + 1),
---                   condition = dynamo.attr("id"):exists() }
--- The AWS names (TableName, Key, UpdateExpression, ...) stay accepted,
--- and an AWS expression member may hold a builder too.
local type, pairs, error, tostring, upper = type, pairs, error, tostring, string.upper
local math_type = require("dynamo.compat").math_type

local M = {}

-- friendly name -> AWS member. Where one name fits several operations,
-- a list: the first member the operation has wins (Query has no Key,
-- so its `key` is the key condition).
local names = {
  table = { "TableName" },
  key = { "Key", "KeyConditionExpression" },
  key_condition = { "KeyConditionExpression" },
  item = { "Item" },
  condition = { "ConditionExpression" },
  update = { "UpdateExpression" },
  filter = { "FilterExpression" },
  projection = { "ProjectionExpression" },
  index = { "IndexName" },
  consistent = { "ConsistentRead" },
  forward = { "ScanIndexForward" },
  limit = { "Limit" },
  start = { "ExclusiveStartKey" },
  select = { "Select" },
  segment = { "Segment" },
  segments = { "TotalSegments" },
  return_values = { "ReturnValues" },
  return_consumed = { "ReturnConsumedCapacity" },
  return_metrics = { "ReturnItemCollectionMetrics" },
  return_values_on_failure = { "ReturnValuesOnConditionCheckFailure" },
  statement = { "Statement" },
  parameters = { "Parameters" },
  next_token = { "NextToken" },
  token = { "ClientRequestToken" },
  names = { "ExpressionAttributeNames" },
  values = { "ExpressionAttributeValues" },
}
M.names = names

-- AWS member -> its friendly name, for messages.
local friendly_of = {}
for short, members in pairs(names) do
  if not friendly_of[members[1]] then friendly_of[members[1]] = short end
end
friendly_of.KeyConditionExpression = "key"

--- The friendly name of an AWS member ("TableName" -> "table"), or the member.
function M.friendly_name(member)
  return friendly_of[member] or member
end

-- Expression members and the context method that compiles each, in a
-- fixed order so placeholders come out the same every time.
local compilers = {
  { "KeyConditionExpression", "key_condition" },
  { "UpdateExpression", "update" },
  { "ConditionExpression", "condition" },
  { "FilterExpression", "condition" },
  { "ProjectionExpression", "projection" },
}
local is_expression_member = {}
for _, c in ipairs(compilers) do is_expression_member[c[1]] = true end

-- Enum members given in any case (return_values = "all_new"); for the
-- two capacity reports also true (the usual detail) and false ("NONE").
local enums = {
  ReturnValues = true, Select = true, ReturnValuesOnConditionCheckFailure = true,
  ReturnConsumedCapacity = "TOTAL", ReturnItemCollectionMetrics = "SIZE",
}

--- An enum member's value in the form DynamoDB takes; others unchanged.
function M.enum(member, v)
  local e = enums[member]
  if not e then return v end
  if type(v) == "string" then return upper(v) end
  if e ~= true and v == true then return e end
  if e ~= true and v == false then return "NONE" end
  return v
end

-- Does params need translating? Most calls with AWS names do not.
local function plain(op, params)
  for k, v in pairs(params) do
    if not op.members[k] or (is_expression_member[k] and type(v) ~= "string")
      or (enums[k] and (type(v) ~= "string" or v:find("%l"))) then
      return false
    end
  end
  return true
end

local function member_for(op, name)
  local candidates = names[name]
  if not candidates then return nil end
  for _, m in ipairs(candidates) do
    if op.members[m] then return m end
  end
end

--- The AWS parameters for op from params (a new table when anything
--- changes; params itself is never modified). Raises for a mistake,
--- pointing `level` frames up.
function M.translate(op, params, level)
  if plain(op, params) then return params end
  level = (level or 1) + 1
  local prefix = op.prefix or ""
  local out, from = {}, {}
  for k, v in pairs(params) do
    local member = op.members[k] and k or member_for(op, k)
    if not member then
      error("bad argument '" .. prefix .. tostring(k) .. "' to '" .. op.method .. "' (" .. op.name
        .. " has no parameter of that name)", level)
    end
    if from[member] then
      -- The friendly name first, whichever pairs() met first.
      local a, b = k, from[member]
      if a == member then a, b = b, a end
      error("bad argument '" .. prefix .. tostring(a) .. "' to '" .. op.method .. "' (given twice, also as '"
        .. prefix .. b .. "')", level)
    end
    from[member] = k
    out[member] = M.enum(member, v)
  end

  local ctx
  for _, c in ipairs(compilers) do
    local member, method = c[1], c[2]
    local v = out[member]
    if v ~= nil and type(v) ~= "string" then
      ctx = ctx or require("dynamo.expr").context(out.ExpressionAttributeNames, out.ExpressionAttributeValues)
      local s = ctx[method](ctx, v, "'" .. prefix .. from[member] .. "' to '" .. op.method .. "'", level + 1)
      out[member] = s
    end
  end
  if ctx then
    out.ExpressionAttributeNames = ctx:names()
    out.ExpressionAttributeValues = ctx:values()
  end
  return out
end

-- Raises for a name that is no member, or a value of the wrong type.
local function check_types(op, params, level)
  for name, value in pairs(params) do
    local want = op.members[name]
    if want == nil then
      error("bad argument '" .. tostring(name) .. "' to '" .. op.method .. "' (" .. op.name
        .. " has no parameter of that name)", level)
    end
    local got = math_type(value) or type(value)   -- "integer" | "float" | "string" | ...
    if got ~= want and not (want == "number" and (got == "integer" or got == "float")) then
      if got == "float" and want == "integer" then
        got = "non-integer number"
      elseif got == "float" or got == "integer" then
        got = "number"
      end
      error("bad argument '" .. name .. "' to '" .. op.method .. "' (" .. want .. " expected, got " .. got .. ")", level)
    end
  end
end

--- The parameters of a call to op, checked: params itself when every name
--- is an AWS member holding a value of its type (one pass, the usual case),
--- else what translate makes of it. Raises for what the caller wrote wrong,
--- pointing `level` frames up.
function M.check(op, params, level)
  if params == nil then
    params = {}
  elseif type(params) ~= "table" then
    error("bad argument #1 to '" .. op.method .. "' (table expected, got " .. type(params) .. ")", level)
  end
  local members = op.members
  for name, value in pairs(params) do
    local want, got = members[name], type(value)
    -- Friendly names, builders, enums in any case, or a mistake.
    if got ~= want and not (got == "number" and (want == "number" or want == "integer"
        and math_type(value) == "integer")) or enums[name] then
      params = M.translate(op, params, level)
      check_types(op, params, level + 1)
      break
    end
  end
  local required = op.required
  for i = 1, #required do
    if params[required[i]] == nil then
      error("bad argument '" .. required[i] .. "' to '" .. op.method .. "' (required)", level)
    end
  end
  return params
end

return M
