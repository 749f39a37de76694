--- What a migration function's answer means for one item, and the write
--- that applies it.
---
--- The function returns nothing (no change), "delete", a table of
--- attributes to set ({ email = "a@b.c" }), or { set = {...}, remove =
--- {...} }. A plan is what is left once attributes set to the value they
--- already hold and removals of absent attributes are dropped:
---   { key = {...}, set = {...}, remove = { names }, expect = { name = value read },
---     absent = { names read as absent } }  or  { key = {...}, delete = true, expect = item }
--- Its write is conditional: every attribute it touches must still hold
--- the value read (or still be absent), and the item must still exist.
--- So the write applies at most once: once it has, the condition fails
--- (the values changed), which counts as "skipped (already changed)".
local core = require "dynamo.core"
require "dynamo.types"   -- sets get their methods (s:has)
local json = require "dynamo.cli.json"

local type, getmetatable, setmetatable, pairs, ipairs, sort = type, getmetatable, setmetatable, pairs, ipairs, table.sort

local M = {}

---------------------------------------------------------------- values

-- The DynamoDB type of a Lua value as dynamo writes it.
local function kind(v)
  local t = type(v)
  if t == "string" then return "S" end
  if t == "number" then return "N" end
  if t == "boolean" then return "BOOL" end
  if v == core.null then return "NULL" end
  local mt = getmetatable(v)
  if mt == core.decimal_mt then return "N" end
  if t ~= "table" then return t end
  if mt == core.binary_mt then return "B" end
  if mt == core.set_mt then
    if v.binary or getmetatable(v[1]) == core.binary_mt then return "BS" end
    return kind(v[1]) == "N" and "NS" or "SS"
  end
  if mt == core.list_mt then return "L" end
  if mt == core.map_mt then return "M" end
  local n = #v
  if n > 0 then
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    if count == n then return "L" end
  end
  return "M"
end

local equal

local function number_equal(a, b)
  if type(a) == "number" and type(b) == "number" then return a == b end
  if getmetatable(a) == core.decimal_mt then return a:eq(b) end
  return b:eq(a)
end

--- Do two values hold the same DynamoDB value? (Numbers by value, sets
--- as sets, lists in order, maps by key.)
function equal(a, b)
  if rawequal(a, b) then return true end
  local ka, kb = kind(a), kind(b)
  if ka ~= kb then return false end
  if ka == "N" then return number_equal(a, b) end
  if ka == "S" or ka == "BOOL" or ka == "NULL" then return a == b end
  if ka == "B" then return a[1] == b[1] end
  if ka == "SS" or ka == "NS" or ka == "BS" then
    if #a ~= #b then return false end
    for i = 1, #a do
      if not b:has(a[i]) then return false end
    end
    return true
  end
  if ka == "L" then
    if #a ~= #b then return false end
    for i = 1, #a do
      if not equal(a[i], b[i]) then return false end
    end
    return true
  end
  if ka == "M" then
    for k, v in pairs(a) do
      if b[k] == nil or not equal(v, b[k]) then return false end
    end
    for k in pairs(b) do
      if a[k] == nil then return false end
    end
    return true
  end
  return false
end
M.equal = equal

--- A deep copy (what the migration function gets, so that changing the
--- item it was given changes nothing the engine compares with).
local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return setmetatable(c, getmetatable(v))
end
M.copy = copy

---------------------------------------------------------------- plans

local function is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end

-- The structured form: only `set` (a table) and `remove` (a list of names).
local function structured(ret)
  local n = 0
  for k in pairs(ret) do
    if k ~= "set" and k ~= "remove" then return false end
    n = n + 1
  end
  if n == 0 then return false end
  if ret.set ~= nil and not is_plain_table(ret.set) then return false end
  if ret.remove ~= nil and not is_plain_table(ret.remove) then return false end
  return true
end

local RETURNS = "expected nothing, \"delete\", a table of attributes to set, or { set = {...}, remove = {...} }"

--- What the function returned, checked: nil (no change), { delete = true },
--- or { set = {...}, remove = {...} }; or nil, message.
function M.normalize(ret)
  if ret == nil or ret == false then return nil end
  if ret == "delete" then return { delete = true } end
  if not is_plain_table(ret) then
    local what = type(ret) == "string" and ("the string \"" .. ret .. "\"") or ("a " .. type(ret))
    return nil, "the migration returned " .. what .. " (" .. RETURNS .. ")"
  end
  local set, remove
  if structured(ret) then
    set, remove = ret.set or {}, ret.remove or {}
  else
    set, remove = ret, {}
  end
  for k in pairs(set) do
    if type(k) ~= "string" then
      return nil, "the migration returned a table with a " .. type(k) .. " key (attribute names are strings)"
    end
  end
  for i, name in ipairs(remove) do
    if type(name) ~= "string" then
      return nil, "remove[" .. i .. "] is a " .. type(name) .. " (attribute names are strings)"
    end
    if set[name] ~= nil then
      return nil, "the change both sets and removes '" .. name .. "'"
    end
  end
  return { set = set, remove = remove }
end

local function sorted_keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  sort(list)
  return list
end

--- The plan for `item` (as read) and the function's answer `ret`; nil
--- when nothing would change; or nil, message for an answer that cannot
--- be applied. key_names: the table's key attributes.
function M.plan(item, ret, key_names)
  local change, err = M.normalize(ret)
  if not change then return nil, err end
  local key, is_key = {}, {}
  for _, n in ipairs(key_names) do
    key[n], is_key[n] = item[n], true
  end
  if change.delete then
    return { key = key, delete = true, expect = item }
  end
  local set, remove, expect, absent = {}, {}, {}, {}
  for _, name in ipairs(sorted_keys(change.set)) do
    local new, old = change.set[name], item[name]
    if old == nil or not equal(old, new) then
      if is_key[name] then
        return nil, "the change sets the key attribute '" .. name .. "' (a key cannot change in place)"
      end
      set[name] = new
      if old == nil then absent[#absent + 1] = name else expect[name] = old end
    end
  end
  for _, name in ipairs(change.remove) do
    if item[name] ~= nil then
      if is_key[name] then
        return nil, "the change removes the key attribute '" .. name .. "'"
      end
      remove[#remove + 1] = name
      expect[name] = item[name]
    end
  end
  if next(set) == nil and #remove == 0 then return nil end
  sort(remove)
  return { key = key, set = set, remove = remove, expect = expect, absent = absent }
end

-- DynamoDB refuses expressions over 4 KB; a delete's condition lists
-- every attribute only while it stays well under that.
local MAX_CONDITION = 3500

--- The request that applies a plan: the operation's method name
--- ("update_item" or "delete_item") and its parameters.
function M.request(plan, table_name, key_names)
  local names, values, n = {}, {}, 0
  local function name_of(attr)
    n = n + 1
    names["#a" .. n] = attr
    return "#a" .. n
  end
  local cond = {}
  for _, k in ipairs(key_names) do
    cond[#cond + 1] = "attribute_exists(" .. name_of(k) .. ")"
  end
  local p = { TableName = table_name, Key = plan.key, ExpressionAttributeNames = names,
    ReturnConsumedCapacity = "TOTAL" }
  if plan.delete then
    local is_key = {}
    for _, k in ipairs(key_names) do is_key[k] = true end
    local full, size = {}, 0
    for _, attr in ipairs(sorted_keys(plan.expect)) do
      if not is_key[attr] then
        local nm = name_of(attr)
        values[":o" .. n] = plan.expect[attr]
        local term = nm .. " = :o" .. n
        full[#full + 1] = term
        size = size + #term + 5
      end
    end
    if size < MAX_CONDITION then
      for _, term in ipairs(full) do cond[#cond + 1] = term end
    else
      values = {}
    end
    p.ConditionExpression = table.concat(cond, " AND ")
    p.ExpressionAttributeValues = next(values) and values or nil
    return "delete_item", p
  end
  local sets, removes = {}, {}
  for _, attr in ipairs(sorted_keys(plan.set)) do
    local nm = name_of(attr)
    values[":s" .. n] = plan.set[attr]
    sets[#sets + 1] = nm .. " = :s" .. n
    if plan.expect[attr] ~= nil then
      values[":o" .. n] = plan.expect[attr]
      cond[#cond + 1] = nm .. " = :o" .. n
    else
      cond[#cond + 1] = "attribute_not_exists(" .. nm .. ")"
    end
  end
  for _, attr in ipairs(plan.remove) do
    local nm = name_of(attr)
    removes[#removes + 1] = nm
    values[":o" .. n] = plan.expect[attr]
    cond[#cond + 1] = nm .. " = :o" .. n
  end
  local update = {}
  if #sets > 0 then update[#update + 1] = "SET " .. table.concat(sets, ", ") end
  if #removes > 0 then update[#update + 1] = "REMOVE " .. table.concat(removes, ", ") end
  p.UpdateExpression = table.concat(update, " ")
  p.ConditionExpression = table.concat(cond, " AND ")
  p.ExpressionAttributeValues = next(values) and values or nil
  return "update_item", p
end

---------------------------------------------------------------- showing

local function show(v)
  local ok, text = pcall(json.encode, v)
  return ok and text or tostring(v)
end

--- A key as one line of plain JSON.
M.show_key = show

--- The lines --dry-run prints for a plan: the key, then each attribute
--- old -> new.
function M.diff(plan)
  local lines = {}
  if plan.delete then
    lines[1] = "- " .. show(plan.key) .. "  (deleted)"
    return lines
  end
  lines[1] = "~ " .. show(plan.key)
  local attrs = {}
  for k in pairs(plan.set) do attrs[#attrs + 1] = k end
  for _, k in ipairs(plan.remove) do attrs[#attrs + 1] = k end
  sort(attrs)
  for _, k in ipairs(attrs) do
    local old = plan.expect[k]
    local new = plan.set[k]
    lines[#lines + 1] = "    " .. k .. ": " .. (old == nil and "(absent)" or show(old)) .. " -> "
      .. (new == nil and "(removed)" or show(new))
  end
  return lines
end

return M
