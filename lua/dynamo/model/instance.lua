--- Model instances: values in the table itself (user.email), the rest in
--- a side table (what was loaded, whether it is new), so no internal name
--- can collide with a field.
---
--- Every write is planned first ({ op = "PutItem" | "UpdateItem" |
--- "DeleteItem" | "ConditionCheck", params = ..., finish = fn }) and then
--- either sent (item:save()) or collected (inside db:transaction).
local errors = require "dynamo.errors"
local expr = require "dynamo.expr"
local types = require "dynamo.types"
local core = require "dynamo.core"

local type, pairs, ipairs, pcall, error, tostring, setmetatable, getmetatable, os_time =
  type, pairs, ipairs, pcall, error, tostring, setmetatable, getmetatable, os.time

local attr, update_builder, all = expr.public.attr, expr.public.update, expr.public.all
local null = core.null

local M = {}

-- instance -> { model =, loaded = snapshot of values as stored, new = bool }
local state = setmetatable({}, { __mode = "k" })
M.state = state

local Instance = {}
M.Instance = Instance

-- ---- values ---------------------------------------------------------------

-- A deep copy of plain values (sets, binaries and decimals keep their
-- identity-carrying metatables).
local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return setmetatable(c, getmetatable(v))
end
M.copy = copy

local function equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    -- decimals and numbers compare by value through tostring
    if type(a) == "userdata" or type(b) == "userdata" then return tostring(a) == tostring(b) end
    return false
  end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.equal = equal

--- The field values of an instance, as a plain table.
function M.values(inst)
  local v = {}
  for k, x in pairs(inst) do v[k] = x end
  return v
end

--- Makes an instance of model from values; loaded (a snapshot) when it
--- came from the table. how (loaded ones): partial (read with a
--- projection), with_hidden (hidden fields were read), and for an item
--- migrated on load but not written back: migrated_item (the migrated
--- stored item) and stored_schema_version (its version attribute as read).
function M.make(model, values, loaded, how)
  local inst = setmetatable(values, model.instance_mt)
  local st = { model = model, loaded = loaded and copy(values) or nil, new = not loaded }
  for k, v in pairs(how or {}) do st[k] = v end
  state[inst] = st
  return inst
end

-- "User(pk = "USER#u1", sk = "PROFILE")": how errors name an item.
local function describe(model, key)
  local parts = {}
  for _, a in ipairs(model.schema.key_attributes) do
    local v = key and key[a]
    parts[#parts + 1] = a .. " = " .. (type(v) == "string" and ("%q"):format(v) or tostring(v))
  end
  return model.name .. "(" .. table.concat(parts, ", ") .. ")"
end
M.describe = describe

local function fail(code, message, fields)
  fields = fields or {}
  fields.code, fields.message = code, message
  if fields.retryable == nil then fields.retryable = false end
  return errors.new(fields)
end

-- Runs a hook of the model, if defined.
local function hook(model, name, inst, info)
  local fn = model.hooks[name]
  if fn then fn(inst, info) end
end
M.hook = hook

-- ---- conditions -------------------------------------------------------------

-- The condition that the stored version is `v` (nil: none stored yet).
local function version_condition(model, v)
  local s = model.schema
  if not s.version_field then return nil end
  local a = attr { s.fields[s.version_field].attribute }
  if v == nil then return a:not_exists() end
  return a:eq(v)
end

local function exists_condition(model)
  return attr { model.schema.key_attributes[1] }:exists()
end

local function both(a, b)
  if a and b then return all { a, b } end
  return a or b
end

-- ---- planning writes ---------------------------------------------------------

-- Turns a failed conditional write into the error the caller should see.
local function explain(model, inst, key, err, versioned)
  if err.code == "ConditionalCheckFailedException" or err.code == "ConditionalCheckFailed" then
    if versioned then
      err = fail("VersionConflict", describe(model, key) .. ": version "
        .. tostring(inst[model.schema.version_field]) .. " is not the stored one (it was changed or deleted since it was read)",
        { cause = err, item = inst, status = err.status, request_id = err.request_id, operation = err.operation })
    else
      err.message = describe(model, key) .. ": " .. (err.message or "the condition failed")
      err.item = inst
    end
  end
  return err
end
M.explain = explain

--- Plans saving a new instance: a PutItem that must not overwrite (unless
--- opts.overwrite). fill(values), when given, runs after validation and
--- before the item is built (auto-increment ids are taken there, so an
--- invalid instance uses none). Returns the plan or nil, err.
function M.plan_create(inst, opts, fill)
  local st = state[inst]
  local model = st.model
  local s = model.schema
  local values = M.values(inst)
  s:defaults(values, "create", opts.now or os_time())
  if s.version_field then values[s.version_field] = 1 end
  local ok, verr = s:validate(values, "create")
  if not ok then return nil, verr end
  if fill then
    local filled, ferr = fill(values)
    if not filled then return nil, ferr end
  end
  local item, ierr = s:to_item(values)
  if not item then return nil, ierr end
  local key = s:key(values)
  local condition = opts.condition
  if not opts.overwrite then condition = both(attr { s.key_attributes[1] }:not_exists(), condition) end
  return {
    op = "PutItem", key = key, versioned = false,
    params = { TableName = s.table, Item = item, ConditionExpression = condition },
    finish = function()
      for k, v in pairs(values) do inst[k] = v end
      st.loaded, st.new, st.with_hidden = copy(values), false, true
    end,
  }
end

-- Splits `changes` into the update actions, in field names: a table with
-- only set/remove/add/delete keys is an actions table (those names are
-- reserved for fields), anything else is { field = new value }.
local ACTIONS = { set = true, remove = true, add = true, delete = true }
local function as_actions(changes)
  for k, v in pairs(changes) do
    if not ACTIONS[k] or type(v) ~= "table" then return { set = changes } end
  end
  return changes
end

-- The value of a field after ADD v (numbers, sets) or DELETE v (sets), or
-- nil when it cannot be known here.
local function combine(old, v, verb)
  if types.is_set(v) then
    local out = types.set(old and types.is_set(old) and old:values() or {})
    for _, x in ipairs(v:values()) do
      if verb == "add" then out:add(x) else out:remove(x) end
    end
    return out
  end
  if verb == "add" and type(v) == "number" and (old == nil or type(old) == "number") then return (old or 0) + v end
  return nil
end

-- Is field f's value unknown to this instance (rather than absent from the
-- item)? True when it was read with a projection, or is hidden and was
-- read without hidden fields.
local function unknown(st, s, f)
  return st.partial or (s.fields[f].hidden and not st.with_hidden)
end

local function changed_list(t, changed)
  local out = {}
  for _, f in ipairs(t.fields) do
    if changed[f] then out[#out + 1] = f end
  end
  return table.concat(out, ", ")
end

--- Plans an update of a loaded instance: only the given changes, with
--- every key template that uses a changed field recomputed (an error when
--- a field it needs is unknown), the version checked and bumped. An
--- instance migrated on load is written whole instead (its stored item is
--- still in the old shape).
function M.plan_update(inst, changes, opts)
  local st = state[inst]
  local model = st.model
  local s = model.schema
  if st.new then
    return nil, fail("ValidationError", model.name .. ": update needs an item that was saved or loaded; save it first")
  end
  local actions = as_actions(changes)
  local set, remove, add, del = {}, {}, actions.add or {}, actions.delete or {}
  for f, v in pairs(actions.set or {}) do
    if v == null then remove[#remove + 1] = f else set[f] = v end
  end
  for _, f in ipairs(actions.remove or {}) do remove[#remove + 1] = f end

  local changed, names = {}, {}
  local function note(f, group)
    if not s.fields[f] then
      error(fail("ValidationError", model.name .. ": unknown field '" .. tostring(f) .. "'"
        .. (group and (" in " .. group) or "")), 0)
    end
    if f == s.version_field then
      error(fail("ValidationError", model.name .. ": the version field '" .. f .. "' is managed by the model"), 0)
    end
    if not changed[f] then changed[f], names[#names + 1] = true, f end
  end
  local ok_names, name_err = pcall(function()
    for f in pairs(set) do note(f) end
    for _, f in ipairs(remove) do note(f, "remove") end
    for f in pairs(add) do note(f, "add") end
    for f in pairs(del) do note(f, "delete") end
  end)
  if not ok_names then return nil, name_err end

  -- The stored values after the update, for validation and key templates.
  -- Unsaved changes on the instance are not part of it: they stay pending.
  local after = copy(st.loaded or M.values(inst))
  local pending_set, pending_removed = M.Instance.changes(inst)
  local removed = {}
  for f, v in pairs(set) do after[f] = v end
  for _, f in ipairs(remove) do after[f], removed[f] = nil, true end
  for f, v in pairs(add) do after[f] = combine(after[f], v, "add") end
  for f, v in pairs(del) do after[f] = combine(after[f], v, "delete") end
  local stamped = {}
  s:defaults(stamped, "update", opts.now or os_time())
  for f, v in pairs(stamped) do
    set[f], after[f] = v, v
    if not changed[f] then changed[f], names[#names + 1] = true, f end
  end
  table.sort(names)

  -- Validate what changes: new values, results of add/delete, removals as null.
  local check = {}
  for f in pairs(changed) do
    if removed[f] then check[f] = null
    elseif after[f] ~= nil then check[f] = after[f] end
  end
  local ok, verr = s:validate(check, "update")
  if not ok then return nil, verr end
  local ierr = s:check_immutable(st.loaded or {}, after)
  if ierr then return nil, ierr end
  local old_version = s.version_field and inst[s.version_field]
  if s.version_field and old_version == nil then
    return nil, fail("ValidationError", model.name .. ": this instance does not hold its version field '"
      .. s.version_field .. "' (read it without a projection that leaves it out)")
  end

  local key = s:key(st.loaded or after)
  local item, item_err = s:to_item(after)
  if not item then return nil, item_err end
  local condition = both(both(exists_condition(model), version_condition(model, old_version)), opts.condition)
  local new_version = s.version_field and old_version + 1
  -- The instance becomes the stored item, with its other unsaved changes kept.
  local function finish_with(values)
    for k in pairs(M.values(inst)) do inst[k] = nil end
    for k, v in pairs(values) do inst[k] = v end
    if s.version_field then inst[s.version_field] = new_version end
    st.loaded = copy(M.values(inst))
    for f, v in pairs(pending_set) do
      if not changed[f] then inst[f] = v end
    end
    for _, f in ipairs(pending_removed) do
      if not changed[f] then inst[f] = nil end
    end
  end

  if st.migrated then
    -- The stored item is in an old shape: write the migrated item whole,
    -- only if nobody rewrote it since it was read.
    if s.version_field then after[s.version_field] = new_version end
    local whole = s:to_item(after)
    for k, v in pairs(st.migrated_item or {}) do
      if whole[k] == nil and not s.fields[k] then whole[k] = v end
    end
    local va = s.version_attribute
    local was = va and attr { va }
    local vcond = was and (st.stored_schema_version == nil and was:not_exists() or was:eq(st.stored_schema_version))
    return {
      op = "PutItem", key = key, versioned = s.version_field ~= nil,
      params = { TableName = s.table, Item = whole, ConditionExpression = both(condition, vcond) },
      finish = function()
        finish_with(after)
        st.migrated, st.migrated_item = nil, nil
      end,
    }
  end

  local u = update_builder()
  for _, f in ipairs(names) do
    local a = attr { s.fields[f].attribute }
    if add[f] ~= nil then
      u:add(a, add[f])
    elseif del[f] ~= nil then
      u:delete(a, del[f])
    elseif removed[f] or item[s.fields[f].attribute] == nil then
      u:remove(a)
    else
      u:set(a, item[s.fields[f].attribute])
    end
  end

  -- Key and index attributes built from a changed field.
  local is_table_key = {}
  for _, a in ipairs(s.key_attributes) do is_table_key[a] = true end
  for _, t in ipairs(s:templates_using(names)) do
    if is_table_key[t.attribute] then
      return nil, fail("ValidationError", model.name .. ": changing " .. changed_list(t, changed)
        .. " would change the primary key attribute '" .. t.attribute .. "'; save a new item and delete this one instead")
    end
    for _, f in ipairs(t.fields) do
      if (add[f] ~= nil or del[f] ~= nil) and after[f] == nil then
        return nil, fail("ValidationError", model.name .. ": cannot compute '" .. t.attribute .. "' after an add or delete on "
          .. f .. "; set the new value instead")
      end
    end
    local v = item[t.attribute]
    if v ~= nil then
      u:set(attr { t.attribute }, v)
    else
      -- Absent fields leave the item out of a sparse index; a field this
      -- instance never held is an error, not a silently stale index key.
      local missing = {}
      for _, f in ipairs(t.fields) do
        if after[f] == nil and not removed[f] and unknown(st, s, f) then missing[#missing + 1] = f end
      end
      if #missing > 0 then
        return nil, fail("ValidationError", model.name .. ": the update changes " .. changed_list(t, changed)
          .. " but the key attribute '" .. t.attribute .. "' also needs " .. table.concat(missing, ", ")
          .. ", which this instance does not hold (load the whole item, or pass them in the update)")
      end
      u:remove(attr { t.attribute })
    end
  end
  if s.version_field then
    u:set(attr { s.fields[s.version_field].attribute }, new_version)
  end
  return {
    op = "UpdateItem", key = key, versioned = s.version_field ~= nil,
    params = { TableName = s.table, Key = key, UpdateExpression = u, ConditionExpression = condition,
      ReturnValues = "ALL_NEW" },
    finish = function(res)
      local attributes = res and res.Attributes
      local values = attributes and s:from_item(attributes, { hidden = st.with_hidden })
      if values then
        new_version = s.version_field and values[s.version_field]
        finish_with(values)
      else
        finish_with(after)
      end
    end,
  }
end

--- Plans deleting an instance (the version must still match).
function M.plan_delete(inst, opts)
  local st = state[inst]
  local model = st.model
  local s = model.schema
  local key, kerr = s:key(st.loaded or M.values(inst))
  if not key then return nil, kerr end
  local condition = opts.condition
  if s.version_field and not st.new then
    condition = both(version_condition(model, inst[s.version_field]), condition)
  end
  return {
    op = "DeleteItem", key = key, versioned = s.version_field ~= nil and not st.new,
    params = { TableName = s.table, Key = key, ConditionExpression = condition },
    finish = function() st.loaded, st.new = nil, true end,
  }
end

--- Plans a condition check on an instance's item (transactions only).
function M.plan_check(inst, condition)
  local st = state[inst]
  local s = st.model.schema
  local key, kerr = s:key(st.loaded or M.values(inst))
  if not key then return nil, kerr end
  return {
    op = "ConditionCheck", key = key, versioned = false,
    params = { TableName = s.table, Key = key, ConditionExpression = condition },
    finish = function() end,
  }
end

--- What changed since the instance was loaded: { field = new value }
--- (nil values are removals, listed in the second result).
function Instance:changes()
  local st = state[self]
  local loaded = st.loaded or {}
  local set, removed = {}, {}
  for k, v in pairs(self) do
    if not equal(v, loaded[k]) then set[k] = v end
  end
  for k in pairs(loaded) do
    if self[k] == nil then removed[#removed + 1] = k end
  end
  table.sort(removed)
  return set, removed
end

return M
