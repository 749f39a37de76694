--- dynamo.model{...}: declared models over DynamoDB items.
---
---   local User = dynamo.model { name = "User", table = "app", db = db,
---     keys = { pk = "USER#${id}", sk = "PROFILE" },
---     fields = { id = { type = "string", required = true }, email = { type = "string" } } }
---   local u = User:new { id = "u1", email = "a@example.com" }
---   assert(u:save())
---   local same = assert(User:get { id = "u1" })
---
--- The definition (fields, types, validation, key templates, indexes,
--- migrations) is checked and converted by dynamo.model.schema; this file
--- binds it to a client: instances, reads, writes and hooks.
local schema_mod = require "dynamo.model.schema"
local instance = require "dynamo.model.instance"
local query = require "dynamo.model.query"
local tables = require "dynamo.model.table"
local errors = require "dynamo.errors"
local expr = require "dynamo.expr"

local type, pairs, ipairs, next, error, tostring, setmetatable, os_time =
  type, pairs, ipairs, next, error, tostring, setmetatable, os.time

local state, make, values_of = instance.state, instance.make, instance.values
local attr = expr.public.attr

local M = {}

local Model = {}
Model.__index = Model
M.Model = Model

local HOOKS = { before_save = true, after_save = true, before_update = true, after_update = true,
  before_delete = true, after_delete = true, on_load = true }

-- Options this layer takes out of the definition before the schema sees it.
local function split_definition(def)
  if type(def) ~= "table" then
    error("bad argument #1 to 'dynamo.model' (table expected, got " .. type(def) .. ")", 3)
  end
  local name = type(def.name) == "string" and def.name or "?"
  local rest, own = {}, {}
  for k, v in pairs(def) do
    if k == "db" or k == "hooks" or k == "write_migrated" then own[k] = v else rest[k] = v end
  end
  -- auto_increment belongs to the instance layer (it needs a client).
  own.counters = {}
  if type(def.fields) == "table" then
    local fields = {}
    for f, spec in pairs(def.fields) do
      if type(spec) == "table" and spec.auto_increment ~= nil then
        if spec.auto_increment ~= true then
          error("bad model '" .. name .. "': fields." .. tostring(f) .. ".auto_increment (true expected)", 3)
        end
        local copy = {}
        for k, v in pairs(spec) do if k ~= "auto_increment" then copy[k] = v end end
        own.counters[#own.counters + 1] = f
        spec = copy
      end
      fields[f] = spec
    end
    rest.fields = fields
  end
  if own.hooks ~= nil then
    if type(own.hooks) ~= "table" then
      error("bad model '" .. name .. "': hooks (table expected, got " .. type(own.hooks) .. ")", 3)
    end
    for k, fn in pairs(own.hooks) do
      if not HOOKS[k] then error("bad model '" .. name .. "': hooks." .. tostring(k) .. " (unknown hook)", 3) end
      if type(fn) ~= "function" then
        error("bad model '" .. name .. "': hooks." .. k .. " (function expected, got " .. type(fn) .. ")", 3)
      end
    end
  end
  return rest, own
end

--- dynamo.model(def): a model class. See docs/models.md.
function M.define(def)
  local rest, own = split_definition(def)
  local s = schema_mod.new(rest, { level = 3 })
  local model = setmetatable({
    name = s.name, schema = s, db = own.db, hooks = own.hooks or {},
    counters = own.counters, write_migrated = own.write_migrated == true,
  }, Model)
  for _, f in ipairs(own.counters) do
    if s.fields[f].type ~= "integer" then
      error("bad model '" .. s.name .. "': fields." .. f .. ".auto_increment (only for integer fields)", 2)
    end
  end
  -- Instances: field values in the table, methods (and the model) behind.
  local methods = setmetatable({ model = model }, { __index = instance.Instance })
  for name, fn in pairs(M.instance_methods) do methods[name] = fn end
  model.instance_mt = { __index = methods, __name = "dynamo.model." .. s.name,
    __tostring = function(inst) return instance.describe(model, s:key(values_of(inst)) or {}) end }
  return model
end

function Model:__tostring()
  return "dynamo.model(" .. self.name .. ", table " .. self.schema.table .. ")"
end

-- The client to use: opts.db, else the model's.
local function client(model, opts, method)
  local db = opts and opts.db or model.db
  if not db then
    error(model.name .. ":" .. method .. ": no client (pass db = ... to dynamo.model, call "
      .. model.name .. ":bind(db), or pass { db = db })", 3)
  end
  return db
end
M.client = client

--- Model:bind(db): sets the client the model's methods use. Returns the model.
function Model:bind(db)
  if type(db) ~= "table" or type(db.get_item) ~= "function" then
    error("bad argument #1 to 'bind' (a dynamo client expected, got " .. type(db) .. ")", 2)
  end
  self.db = db
  return self
end

--- Model:new(values): an instance, not saved yet (defaults are applied on save).
function Model:new(values)
  if values ~= nil and type(values) ~= "table" then
    error("bad argument #1 to '" .. self.name .. ":new' (table expected, got " .. type(values) .. ")", 2)
  end
  local v = {}
  for k, x in pairs(values or {}) do
    if not self.schema.fields[k] then
      error("bad argument #1 to '" .. self.name .. ":new' (unknown field '" .. tostring(k) .. "')", 2)
    end
    v[k] = x
  end
  self.schema:defaults(v, "new", os_time())
  return make(self, v, false)
end

-- An instance from a stored item, migrating it when it is at an old
-- schema version (and writing it back when the model asks for that).
-- how: { partial = read with a projection, hidden = read hidden fields }.
function M.load(model, item, db, how)
  how = how or {}
  local s = model.schema
  local values, migrated, raw = s:from_item(item, { hidden = how.hidden })
  if not values then return nil, migrated end
  local flags = { partial = how.partial, with_hidden = how.hidden }
  if migrated then
    local old = item[s.version_attribute]
    if model.write_migrated and db and not how.partial then
      -- The migrated item, with what the model computes laid over it
      -- (attributes the model does not declare are kept).
      local full = s:from_item(item, { hidden = true })
      local whole = {}
      for k, v in pairs(raw) do whole[k] = v end
      for k, v in pairs(s:to_item(full)) do whole[k] = v end
      local condition = old == nil and attr { s.version_attribute }:not_exists() or attr { s.version_attribute }:eq(old)
      local ok, werr = db:put_item { TableName = s.table, Item = whole, ConditionExpression = condition }
      -- Someone else wrote it meanwhile: theirs is newer, and what was
      -- read is still a correct reading of the old one; saving it later
      -- writes it whole, conditionally.
      if not ok and werr.code ~= "ConditionalCheckFailedException" then return nil, werr end
      if not ok then flags.migrated, flags.migrated_item, flags.stored_schema_version = true, raw, old end
    else
      flags.migrated, flags.migrated_item, flags.stored_schema_version = true, raw, old
    end
  end
  local inst = make(model, values, true, flags)
  instance.hook(model, "on_load", inst, { migrated = migrated })
  return inst
end

--- Model:get(key_fields, opts): the instance, or nil when there is no
--- such item, or nil, err. opts: consistent, db.
function Model:get(fields, opts)
  opts = opts or {}
  local db = client(self, opts, "get")
  local key, kerr = self.schema:key(fields or {})
  if not key then error("bad argument #1 to '" .. self.name .. ":get' (" .. kerr.message .. ")", 2) end
  local res, err = db:get_item { TableName = self.schema.table, Key = key, ConsistentRead = opts.consistent }
  if not res then return nil, err end
  if not res.Item then return nil end
  return M.load(self, res.Item, db, { hidden = opts.hidden })
end

--- Model:exists(key_fields): true or false, or nil, err.
function Model:exists(fields, opts)
  opts = opts or {}
  local db = client(self, opts, "exists")
  local key, kerr = self.schema:key(fields or {})
  if not key then error("bad argument #1 to '" .. self.name .. ":exists' (" .. kerr.message .. ")", 2) end
  local res, err = db:get_item { TableName = self.schema.table, Key = key, ConsistentRead = opts.consistent,
    ProjectionExpression = { attr { self.schema.key_attributes[1] } } }
  if not res then return nil, err end
  return res.Item ~= nil
end

-- ---- writes: plan, then send ---------------------------------------------------

local SEND = { PutItem = "put_item", UpdateItem = "update_item", DeleteItem = "delete_item" }

-- Sends a planned write; on success runs its finish. Returns true or nil, err.
local function send(model, inst, plan, db)
  local res, err = db[SEND[plan.op]](db, plan.params)
  if not res then return nil, instance.explain(model, inst, plan.key, err, plan.versioned) end
  plan.finish(res)
  return true
end

-- Fills the auto-increment fields of a new item's values (and of the
-- instance, when given, so the id can be used at once) from their
-- counter items.
local function count_up(model, values, db, inst)
  for _, f in ipairs(model.counters) do
    if values[f] == nil then
      local n, err = tables.next_counter(model, f, db)
      if not n then return nil, err end
      values[f] = n
      if inst then inst[f] = n end
    end
  end
  return true
end
M.count_up = count_up

M.instance_methods = {}
local I = M.instance_methods

--- item:save(opts): creates a new item (failing if it exists, unless
--- opts.overwrite), or sends what changed since it was loaded (nothing
--- when nothing did). opts: condition, overwrite, db.
function I:save(opts)
  opts = opts or {}
  local st = state[self]
  local model = st.model
  local db = client(model, opts, "save")
  instance.hook(model, "before_save", self, opts)
  local ok, err
  if st.new then
    local plan
    plan, err = instance.plan_create(self, opts, function(values) return count_up(model, values, db, self) end)
    if plan then ok, err = send(model, self, plan, db) end
  else
    local set, removed = self:changes()
    if next(set) == nil and #removed == 0 then
      ok = true
    else
      local plan
      plan, err = instance.plan_update(self, { set = set, remove = removed }, opts)
      if plan then ok, err = send(model, self, plan, db) else ok = nil end
    end
  end
  if not ok then return nil, err end
  instance.hook(model, "after_save", self, opts)
  return true
end

--- item:update(changes, opts): changes is { field = value } or
--- { set = {...}, remove = {...}, add = {...}, delete = {...} } in field
--- names. Sends only those, with the version checked, and takes back the
--- stored item. opts: condition, db.
function I:update(changes, opts)
  opts = opts or {}
  if type(changes) ~= "table" then
    error("bad argument #1 to 'update' (table of changes expected, got " .. type(changes) .. ")", 2)
  end
  local model = state[self].model
  local db = client(model, opts, "update")
  instance.hook(model, "before_update", self, changes)
  local plan, err = instance.plan_update(self, changes, opts)
  if not plan then return nil, err end
  local ok, serr = send(model, self, plan, db)
  if not ok then return nil, serr end
  instance.hook(model, "after_update", self, changes)
  return true
end

--- item:delete(opts): deletes the item (the version must still match).
function I:delete(opts)
  opts = opts or {}
  local model = state[self].model
  local db = client(model, opts, "delete")
  instance.hook(model, "before_delete", self, opts)
  local plan, err = instance.plan_delete(self, opts)
  if not plan then return nil, err end
  local ok, serr = send(model, self, plan, db)
  if not ok then return nil, serr end
  instance.hook(model, "after_delete", self, opts)
  return true
end

--- item:refresh(opts): reads the item again (consistently); nil, err
--- (code "NotFound") when it is gone.
function I:refresh(opts)
  opts = opts or {}
  local st = state[self]
  local model = st.model
  local db = client(model, opts, "refresh")
  local key, kerr = model.schema:key(st.loaded or values_of(self))
  if not key then return nil, kerr end
  local res, err = db:get_item { TableName = model.schema.table, Key = key, ConsistentRead = true }
  if not res then return nil, err end
  if not res.Item then
    return nil, errors.new { code = "NotFound", message = instance.describe(model, key) .. " no longer exists" }
  end
  local fresh, lerr = M.load(model, res.Item, db, { hidden = st.with_hidden })
  if not fresh then return nil, lerr end
  for k in pairs(values_of(self)) do self[k] = nil end
  for k, v in pairs(values_of(fresh)) do self[k] = v end
  local fst = state[fresh]
  fst.model = nil
  for k, v in pairs(fst) do st[k] = v end
  st.model, st.new = model, false
  return true
end

--- item:key(): the item's primary key attributes.
function I:key()
  local st = state[self]
  return st.model.schema:key(st.loaded or values_of(self))
end

-- ---- reads of many ---------------------------------------------------------------

Model.query = query.query
Model.scan = query.scan
Model.count = query.count
Model.batch_get = query.batch_get
Model.batch_write = query.batch_write
Model.create_table = tables.create
Model.delete_table = tables.delete

query.init(M)
tables.init(M)

return M
