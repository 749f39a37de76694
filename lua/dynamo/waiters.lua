--- Waiters: poll DescribeTable until a table or index is ready, or gone.
---   db:wait_for_table(name, opts)          until the table is ACTIVE
---   db:wait_for_table_gone(name, opts)     until DescribeTable says ResourceNotFoundException
---   db:wait_for_index(table, index, opts)  until the GSI is ACTIVE and not backfilling
--- opts: timeout (seconds, default 300), interval (seconds between polls,
--- default 1; the first poll is at once). On timeout: nil, err with code
--- "WaiterTimeout". Retryable errors (throttling, 5xx, network) are polled
--- through until the timeout; any other error is returned at once.
local core = require "dynamo.core"
local async = require "dynamo.async"
local errors = require "dynamo.errors"

local type, error, pairs, ipairs, tostring, min, format = type, error, pairs, ipairs, tostring, math.min, string.format

local DEFAULT_TIMEOUT, DEFAULT_INTERVAL = 300, 1

local function check(fn, db, name, argn, opts, optn, level)
  if type(db) ~= "table" or type(db.describe_table) ~= "function" then
    error("bad self to '" .. fn .. "' (call it as db:" .. fn .. "(...), with a colon)", level + 1)
  end
  if type(name) ~= "string" then
    error("bad argument #" .. argn .. " to '" .. fn .. "' (string expected, got " .. type(name) .. ")", level + 1)
  end
  if opts == nil then return DEFAULT_TIMEOUT, DEFAULT_INTERVAL end
  if type(opts) ~= "table" then
    error("bad argument #" .. optn .. " to '" .. fn .. "' (table expected, got " .. type(opts) .. ")", level + 1)
  end
  for k, v in pairs(opts) do
    if k ~= "timeout" and k ~= "interval" then
      error("bad argument '" .. tostring(k) .. "' to '" .. fn .. "' (no such option)", level + 1)
    end
    local ok = type(v) == "number" and (v > 0 or k == "timeout" and v == 0)
    if not ok then
      error("bad argument '" .. k .. "' to '" .. fn .. "' (" .. (k == "timeout" and "non-negative" or "positive")
        .. " number expected, got " .. (type(v) == "number" and tostring(v) or type(v)) .. ")", level + 1)
    end
  end
  return opts.timeout or DEFAULT_TIMEOUT, opts.interval or DEFAULT_INTERVAL
end

-- Polls `probe` (returns done, result, status text; or nil, err) until it
-- is done or `timeout` seconds have passed. The last poll is made at the
-- timeout, so a short timeout still gets a final look.
local function poll(db, what, want, timeout, interval, probe)
  local start = core.now()
  local ends = start + timeout
  local last = "none yet"
  while true do
    local done, result, status = probe(db)
    if done then return result end
    if done == nil then
      if not result.retryable then return nil, result end
      status = tostring(result)
    end
    last = status or last
    local now = core.now()
    if now >= ends then
      return nil, errors.new {
        code = "WaiterTimeout",
        message = format("%s %s after %.1f s (last status: %s)", what, want, now - start, last),
        operation = "DescribeTable",
        retryable = false,
        last_status = last,
      }
    end
    async.sleep(min(interval, ends - now))
  end
end

local M = { methods = {} }

--- db:wait_for_table(name, opts): the table's description once ACTIVE.
function M.methods.wait_for_table(db, name, opts)
  local timeout, interval = check("wait_for_table", db, name, 1, opts, 2, 2)
  return poll(db, "table '" .. name .. "'", "not ACTIVE", timeout, interval, function()
    local res, err = db:describe_table { TableName = name }
    if not res then return nil, err end
    local status = res.Table and res.Table.TableStatus
    return status == "ACTIVE", res.Table, status
  end)
end

--- db:wait_for_table_gone(name, opts): true once the table no longer exists.
function M.methods.wait_for_table_gone(db, name, opts)
  local timeout, interval = check("wait_for_table_gone", db, name, 1, opts, 2, 2)
  return poll(db, "table '" .. name .. "'", "still exists", timeout, interval, function()
    local res, err = db:describe_table { TableName = name }
    if res then return false, nil, res.Table and res.Table.TableStatus end
    if err.code == "ResourceNotFoundException" then return true, true end
    return nil, err
  end)
end

-- The index's description, from the table's global indexes and then its
-- local ones (which exist exactly when the table does, so count as ready).
local function find_index(t, index)
  for _, ix in ipairs(t.GlobalSecondaryIndexes or {}) do
    if ix.IndexName == index then return ix, false end
  end
  for _, ix in ipairs(t.LocalSecondaryIndexes or {}) do
    if ix.IndexName == index then return ix, true end
  end
end

--- db:wait_for_index(table, index, opts): the index's description once it
--- is ACTIVE and not backfilling.
function M.methods.wait_for_index(db, name, index, opts)
  local timeout, interval = check("wait_for_index", db, name, 1, opts, 3, 2)
  if type(index) ~= "string" then
    error("bad argument #2 to 'wait_for_index' (string expected, got " .. type(index) .. ")", 2)
  end
  return poll(db, "index '" .. index .. "' of table '" .. name .. "'", "not ACTIVE", timeout, interval, function()
    local res, err = db:describe_table { TableName = name }
    if not res then return nil, err end
    local ix, is_local = find_index(res.Table or {}, index)
    if not ix then
      return nil, errors.new {
        code = "ResourceNotFoundException",
        message = "table '" .. name .. "' has no index '" .. index .. "'",
        operation = "DescribeTable",
        retryable = false,
      }
    end
    if is_local then return true, ix end
    local status = ix.IndexStatus
    if ix.Backfilling then status = tostring(status) .. ", backfilling" end
    return ix.IndexStatus == "ACTIVE" and not ix.Backfilling, ix, status
  end)
end

return M
