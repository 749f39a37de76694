--- Per-client counters: requests, retries, failures, and the capacity
--- DynamoDB reports as consumed (when ReturnConsumedCapacity is on), in
--- total and per table.
---   db.stats.consumed.capacity, db.stats.consumed.tables.users.write
local type = type

local M = {}

local function units()
  return { capacity = 0, read = 0, write = 0 }
end

function M.new()
  return { requests = 0, retries = 0, errors = 0, consumed = { capacity = 0, read = 0, write = 0, tables = {} } }
end

local function add(into, cc)
  into.capacity = into.capacity + (cc.CapacityUnits or 0)
  into.read = into.read + (cc.ReadCapacityUnits or 0)
  into.write = into.write + (cc.WriteCapacityUnits or 0)
end

-- One ConsumedCapacity structure.
local function record_one(stats, cc)
  if type(cc) ~= "table" then return end
  local c = stats.consumed
  add(c, cc)
  local name = cc.TableName
  if type(name) == "string" then
    local t = c.tables[name]
    if not t then
      t = units()
      c.tables[name] = t
    end
    add(t, cc)
  end
end

--- Adds a response's ConsumedCapacity (one structure or a list of them).
function M.record(stats, consumed)
  if type(consumed) ~= "table" then return end
  if consumed[1] ~= nil then
    for _, cc in ipairs(consumed) do record_one(stats, cc) end
  else
    record_one(stats, consumed)
  end
end

return M
