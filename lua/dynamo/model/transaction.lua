--- db:transaction(fn): model writes that succeed or fail together.
---
---   local ok, err = db:transaction(function(tx)
---     tx:save(order)                   -- new: create; loaded: what changed
---     tx:update(user, { orders = user.orders + 1 })
---     tx:check(stock, dynamo.attr("count"):gt(0))
---     tx:delete(cart)
---   end)
---   if not ok and err.reasons then print(err.reasons[2].instance) end
---
--- The writes are planned as item:save/update/delete would send them
--- (versions checked and bumped, key templates recomputed) and sent as one
--- TransactWriteItems. A db:transaction inside fn joins the outer one
--- (dynamodb-mapper's sub-transactions). A cancelled transaction's
--- err.reasons[i].instance is the instance of action i.
local instance = require "dynamo.model.instance"

local type, error, pairs, ipairs, next, pcall, setmetatable, tostring =
  type, error, pairs, ipairs, next, pcall, setmetatable, tostring

local M = { methods = {} }

-- The open transaction of each coroutine (the main one included; LuaJIT's
-- coroutine.running() gives nil there, so MAIN stands for it).
local open = setmetatable({}, { __mode = "k" })
local MAIN = {}

local Tx = {}
Tx.__index = Tx

local KIND = { PutItem = "Put", UpdateItem = "Update", DeleteItem = "Delete", ConditionCheck = "ConditionCheck" }

local function check_instance(inst, method)
  local st = instance.state[inst]
  if not st then
    error("bad argument #1 to '" .. method .. "' (a model instance expected, got " .. type(inst) .. ")", 3)
  end
  return st
end

local function add(tx, inst, plan, err, after_hook, info)
  if not plan then error(err, 3) end   -- invalid before sending: the whole transaction stops
  tx.actions[#tx.actions + 1] = { inst = inst, plan = plan, after = after_hook, info = info }
end

--- tx:save(inst, opts): create a new instance, or write what changed.
function Tx:save(inst, opts)
  opts = opts or {}
  local st = check_instance(inst, "save")
  instance.hook(st.model, "before_save", inst, opts)
  if st.new then
    -- Auto-increment ids are taken now (after validation), so fn can use
    -- them; an id taken by a transaction that fails is skipped, not reused.
    local models = require "dynamo.model"
    local plan, err = instance.plan_create(inst, opts,
      function(values) return models.count_up(st.model, values, self.db, inst) end)
    return add(self, inst, plan, err, "after_save", opts)
  end
  local set, removed = inst:changes()
  if next(set) == nil and #removed == 0 then
    -- Nothing to write, but the save still happens with the transaction.
    self.after_only[#self.after_only + 1] = { inst = inst, after = "after_save", info = opts }
    return
  end
  local plan, err = instance.plan_update(inst, { set = set, remove = removed }, opts)
  add(self, inst, plan, err, "after_save", opts)
end

--- tx:update(inst, changes, opts): as item:update.
function Tx:update(inst, changes, opts)
  local st = check_instance(inst, "update")
  instance.hook(st.model, "before_update", inst, changes)
  local plan, err = instance.plan_update(inst, changes, opts or {})
  add(self, inst, plan, err, "after_update", changes)
end

--- tx:delete(inst, opts): as item:delete.
function Tx:delete(inst, opts)
  local st = check_instance(inst, "delete")
  instance.hook(st.model, "before_delete", inst, opts)
  local plan, err = instance.plan_delete(inst, opts or {})
  add(self, inst, plan, err, "after_delete", opts)
end

--- tx:check(inst, condition): the transaction happens only if the
--- instance's stored item meets condition.
function Tx:check(inst, condition)
  check_instance(inst, "check")
  if condition == nil then error("bad argument #2 to 'check' (condition expected, got nil)", 2) end
  local plan, err = instance.plan_check(inst, condition)
  add(self, inst, plan, err)
end

-- Sends the collected actions; returns true or nil, err.
local function run_after_only(tx)
  for _, a in ipairs(tx.after_only) do instance.hook(instance.state[a.inst].model, a.after, a.inst, a.info) end
end

local function commit(tx, opts)
  if #tx.actions == 0 then
    run_after_only(tx)
    return true
  end
  local list = {}
  for i, a in ipairs(tx.actions) do
    local p = {}
    for k, v in pairs(a.plan.params) do p[k] = v end
    p.ReturnValues = nil -- not part of a transaction's actions
    p.ReturnValuesOnConditionCheckFailure = "ALL_OLD"
    list[i] = { [KIND[a.plan.op]] = p }
  end
  list.token = opts.token
  local res, err = tx.db:transact_write(list)
  if not res then
    if err.reasons then
      local failed = {}
      for i, r in ipairs(err.reasons) do
        local a = tx.actions[i]
        r.instance = a and a.inst
        if a and r.code ~= "None" and r.code ~= nil then
          if r.code == "ConditionalCheckFailed" and a.plan.versioned then r.version_conflict = true end
          failed[#failed + 1] = tostring(a.inst) .. ": " .. r.code .. (r.version_conflict and " (version conflict)" or "")
        end
      end
      if #failed > 0 then err.message = (err.message or "") .. " [" .. table.concat(failed, "; ") .. "]" end
    end
    return nil, err
  end
  for _, a in ipairs(tx.actions) do
    a.plan.finish(nil)
    if a.after then instance.hook(instance.state[a.inst].model, a.after, a.inst, a.info) end
  end
  run_after_only(tx)
  return true
end

--- db:transaction(fn, opts): runs fn(tx), then sends what it collected as
--- one transaction. opts.token: a ClientRequestToken. Inside another
--- transaction of the same client, fn joins it and this returns true.
--- Raises what fn raises (nothing is sent then).
function M.methods.transaction(db, fn, opts)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'transaction' (function expected, got " .. type(fn) .. ")", 2)
  end
  local co = coroutine.running() or MAIN
  local parent = open[co]
  if parent and parent.db == db then
    fn(parent)
    return true
  end
  local tx = setmetatable({ db = db, actions = {}, after_only = {} }, Tx)
  open[co] = tx
  local ok, e = pcall(fn, tx)
  open[co] = parent
  if not ok then error(e, 0) end
  return commit(tx, opts or {})
end

return M
