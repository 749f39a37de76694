--- The table behind a model: Model:create_table (keys, every index,
--- billing, streams, TTL), Model:delete_table, and the counter items of
--- auto-increment fields.
local expr = require "dynamo.expr"

local type, pairs, ipairs, error, tostring = type, pairs, ipairs, error, tostring
local attr = expr.public.attr
local tointeger = require("dynamo.compat").tointeger

local M = {}
local models

function M.init(m) models = m end

local CREATE_OPTS = { billing = 1, throughput = 1, streams = 1, wait = 1, models = 1, db = 1, ttl = 1 }

--- Model:create_table(opts): creates the model's table. opts: models
--- (other models of the same table whose indexes it must have too),
--- billing ("PAY_PER_REQUEST", the default, or "PROVISIONED" with
--- throughput = { read =, write = }), streams (a StreamViewType such as
--- "NEW_AND_OLD_IMAGES"), wait (default true: until ACTIVE), ttl (default
--- true: turn on TTL for the model's ttl field), db. Returns the table
--- description, or nil, err.
function M.create(model, opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error("bad argument #1 to '" .. model.name .. ":create_table' (table expected, got " .. type(opts) .. ")", 2)
  end
  for k in pairs(opts) do
    if not CREATE_OPTS[k] then
      error("bad argument #1 to '" .. model.name .. ":create_table' (unknown option '" .. tostring(k) .. "')", 2)
    end
  end
  local db = models.client(model, opts, "create_table")
  local others = {}
  for i, m in ipairs(opts.models or {}) do others[i] = m.schema end
  local def = model.schema:table_definition(others)
  local params = {
    TableName = model.schema.table,
    AttributeDefinitions = def.AttributeDefinitions,
    KeySchema = def.KeySchema,
    GlobalSecondaryIndexes = def.GlobalSecondaryIndexes,
    LocalSecondaryIndexes = def.LocalSecondaryIndexes,
    BillingMode = opts.billing or "PAY_PER_REQUEST",
  }
  if params.GlobalSecondaryIndexes and #params.GlobalSecondaryIndexes == 0 then params.GlobalSecondaryIndexes = nil end
  if params.LocalSecondaryIndexes and #params.LocalSecondaryIndexes == 0 then params.LocalSecondaryIndexes = nil end
  if params.BillingMode == "PROVISIONED" then
    local t = opts.throughput or {}
    local pt = { ReadCapacityUnits = t.read or 5, WriteCapacityUnits = t.write or 5 }
    params.ProvisionedThroughput = pt
    for _, g in ipairs(params.GlobalSecondaryIndexes or {}) do g.ProvisionedThroughput = pt end
  end
  if opts.streams then
    params.StreamSpecification = { StreamEnabled = true, StreamViewType = opts.streams }
  end
  local res, err = db:create_table(params)
  if not res then return nil, err end
  local desc = res.TableDescription
  if opts.wait ~= false then
    desc, err = db:wait_for_table(model.schema.table, { interval = 0.05 })
    if not desc then return nil, err end
  end
  local ttl = model.schema.ttl_field
  if ttl and opts.ttl ~= false then
    local ok, terr = db:update_time_to_live { TableName = model.schema.table,
      TimeToLiveSpecification = { Enabled = true, AttributeName = model.schema.fields[ttl].attribute } }
    if not ok then
      terr.message = "the table was created, but turning on TTL failed (pass ttl = false to skip it): "
        .. tostring(terr.message)
      return nil, terr
    end
  end
  return desc
end

--- Model:delete_table(opts): deletes the table; waits until it is gone
--- unless opts.wait is false. true, or nil, err.
function M.delete(model, opts)
  opts = opts or {}
  local db = models.client(model, opts, "delete_table")
  local ok, err = db:delete_table { TableName = model.schema.table }
  if not ok then return nil, err end
  if opts.wait ~= false then
    ok, err = db:wait_for_table_gone(model.schema.table, { interval = 0.05 })
    if not ok then return nil, err end
  end
  return true
end

-- The counter item of an auto-increment field: in the model's own table,
-- under a key no entity uses (strings "_counter#Model#field"; a number
-- key attribute gets -1, as dynamodb-mapper does).
local function counter_key(model, field)
  local def = model.schema:table_definition({})
  local types = {}
  for _, d in ipairs(def.AttributeDefinitions) do types[d.AttributeName] = d.AttributeType end
  local key = {}
  for _, a in ipairs(model.schema.key_attributes) do
    key[a] = types[a] == "N" and -1 or ("_counter#" .. model.name .. "#" .. field)
  end
  return key
end

--- The next value of an auto-increment field (an atomic ADD on its
--- counter item), or nil, err.
function M.next_counter(model, field, db)
  local res, err = db:update_item {
    TableName = model.schema.table, Key = counter_key(model, field),
    UpdateExpression = expr.public.update():add(attr { "n" }, 1), ReturnValues = "UPDATED_NEW",
  }
  if not res then return nil, err end
  return tointeger(res.Attributes.n) or res.Attributes.n
end

return M
