--- Hooks on the request path, in the spirit of botocore's events:
---   db:on("request", fn)   before a call is encoded: info.params may be changed
---   db:on("response", fn)  after a successful response: info.result, status, attempts, duration
---   db:on("retry", fn)     before waiting to retry: info.error, attempt, delay, total_delay
---   db:on("error", fn)     when a call fails for good: info.error, attempts, duration
--- Every info has operation and table. A hook that raises stops the call
--- (it is the caller's own code).
local type, error = type, error

local M = {}

local EVENTS = { request = true, response = true, retry = true, error = true }

function M.new()
  return { request = {}, response = {}, retry = {}, error = {} }
end

local function check(event, fn, method)
  if not EVENTS[event] then
    error("bad argument #1 to '" .. method .. "' (\"request\", \"response\", \"retry\" or \"error\" expected, got "
      .. (type(event) == "string" and ("\"" .. event .. "\"") or type(event)) .. ")", 3)
  end
  if type(fn) ~= "function" then
    error("bad argument #2 to '" .. method .. "' (function expected, got " .. type(fn) .. ")", 3)
  end
end

--- Adds fn to event; returns fn (for off).
function M.on(hooks, event, fn)
  check(event, fn, "on")
  local list = hooks[event]
  list[#list + 1] = fn
  return fn
end

--- Removes fn from event; true if it was there.
function M.off(hooks, event, fn)
  check(event, fn, "off")
  local list = hooks[event]
  for i = #list, 1, -1 do
    if list[i] == fn then
      table.remove(list, i)
      return true
    end
  end
  return false
end

--- Calls every hook of event with info.
function M.emit(hooks, event, info)
  local list = hooks[event]
  for i = 1, #list do list[i](info) end
end

return M
